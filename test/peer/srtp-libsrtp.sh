#!/usr/bin/env bash
# srtp-libsrtp.sh -- media/ SRTP and SRTCP against Debian's libsrtp2 (package
# libsrtp2-dev, 2.5.0, built with NSS): every suite both support, the SDES
# flags, MKI re-keying, ROC rollover, loss/reorder, replay and tampering, and
# a random differential of at least 100,000 packets in which both libraries
# must produce the same protected bytes and the same verdict and plaintext
# for every delivered packet.  One line per check: PASS / FAIL / SKIP.
# Installs libsrtp2-dev with apt-get when run as root and it is missing.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
MBEDTLS_CFLAGS=${MBEDTLS_CFLAGS:-}
MBEDTLS_LIBS=${MBEDTLS_LIBS:--lmbedcrypto}
PACKETS=${SRTP_DIFF_PACKETS:-100000}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 0

if ! pkg-config --exists libsrtp2 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq \
            install --no-install-recommends libsrtp2-dev >/dev/null 2>&1 ||
            { DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null 2>&1;
              DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq \
                  install --no-install-recommends libsrtp2-dev >/dev/null 2>&1; }
    fi
    if ! pkg-config --exists libsrtp2 2>/dev/null; then
        echo "SKIP srtp-libsrtp: libsrtp2-dev not installed and could not be installed (run as root)"
        exit 0
    fi
fi
mkdir -p "$BUILD/peer"
log="$BUILD/peer/srtp_libsrtp.log"
if ! $CC -std=c99 -Wall -Wextra -Werror -O2 $MBEDTLS_CFLAGS -c imssec.c -o "$BUILD/peer/srtp_imssec.o" 2> "$log" ||
   ! $CC -std=c99 -Wall -Wextra -Werror -O2 -D_POSIX_C_SOURCE=200809L $MBEDTLS_CFLAGS \
        $(pkg-config --cflags libsrtp2) -o "$BUILD/peer/srtp_libsrtp" test/peer/srtp_libsrtp.c \
        "$BUILD/peer/srtp_imssec.o" $(pkg-config --libs libsrtp2) $MBEDTLS_LIBS 2>> "$log"; then
    echo "FAIL srtp-libsrtp: helper does not build: $(head -c 300 "$log")"
    exit 0
fi
out=$(timeout 120 "$BUILD/peer/srtp_libsrtp" "$PACKETS")
rc=$?
echo "$out"
if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; then
    echo "FAIL srtp-libsrtp: helper exited $rc"
fi
exit 0
