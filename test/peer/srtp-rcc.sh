#!/usr/bin/env bash
# srtp-rcc.sh -- media/'s RFC 4771 (RCC: the ROC carried in the SRTP tag,
# RCCm1 / RCCm2 / RCCm3, rate R) against an independent Python reference
# written from RFC 3711 and RFC 4771 alone (test/peer/srtp_rcc_ref.py, which
# first checks itself on the RFC 3711 Appendix B.2 / B.3 vectors).  The
# driver test/peer/srtp_rcc_drv.c uses only imssec.h and build/libimssec.a.
# Byte-exact both ways (library protect = reference protect, each side
# unprotects the other's packets), plain SRTP, every mode with R = 1, 2, 7
# and 65535, a ROC rollover, late joiners (also with auto_streams), ROC
# resynchronisation, tampering, replay, MKI, AES-256, SRTCP in RCC sessions,
# the 32-bit tag, rate limits, and a random lossy / reordered / duplicated /
# tampered network per mode.  One line per check: PASS / FAIL / SKIP (NOTE
# lines report what RFC 4771 leaves open and are not counted); exits 0.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
MBEDTLS_CFLAGS=${MBEDTLS_CFLAGS:-}
MBEDTLS_LIBS=${MBEDTLS_LIBS:--lmbedcrypto}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 0

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP srtp-rcc: python3 not installed"
    exit 0
fi
if ! python3 -c 'import cryptography' 2>/dev/null; then
    echo "SKIP srtp-rcc: python3 cryptography module not installed (Debian python3-cryptography)"
    exit 0
fi
mkdir -p "$BUILD/peer"
log="$BUILD/peer/srtp_rcc.log"
# make knows the library's sources (LIB_DEPS): a no-op when it is up to date
if ! make -s "$BUILD/libimssec.a" BUILD="$BUILD" > "$log" 2>&1; then
    echo "FAIL srtp-rcc: $BUILD/libimssec.a does not build: $(head -c 300 "$log")"
    exit 0
fi
if ! $CC -std=c99 -Wall -Wextra -Wpedantic -Werror -I. $MBEDTLS_CFLAGS -o "$BUILD/peer/srtp_rcc_drv" \
        test/peer/srtp_rcc_drv.c "$BUILD/libimssec.a" $MBEDTLS_LIBS 2>> "$log"; then
    echo "FAIL srtp-rcc: driver does not build: $(head -c 300 "$log")"
    exit 0
fi
out=$(timeout 60 python3 test/peer/srtp_rcc_ref.py run "$BUILD/peer/srtp_rcc_drv" 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ]; then
    echo "FAIL srtp-rcc: reference harness exited $rc"
fi
exit 0
