#!/usr/bin/env bash
# aka-osmocore.sh -- aka/ Milenage, AUTN, AUTS and SQN allocation against
# Debian's libosmocore (package libosmocore-dev) on 100,000 random inputs.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
MBEDTLS_LIBS=${MBEDTLS_LIBS:--lmbedcrypto}
if ! pkg-config --exists libosmogsm libosmocore 2>/dev/null; then
    echo "SKIP aka-osmocore: libosmocore-dev not installed (pkg-config libosmogsm)"
    exit 0
fi
if [ ! -f "$BUILD/libimssec.a" ]; then
    echo "FAIL aka-osmocore: $BUILD/libimssec.a not built"
    exit 0
fi
mkdir -p "$BUILD/peer"
if ! $CC -std=c99 -O2 -o "$BUILD/peer/aka_osmocore" test/peer/aka_osmocore.c \
    $(pkg-config --cflags libosmogsm libosmocore) "$BUILD/libimssec.a" $MBEDTLS_LIBS \
    $(pkg-config --libs libosmogsm libosmocore) 2> "$BUILD/peer/aka_osmocore.log"; then
    echo "FAIL aka-osmocore: helper does not build: $(head -c 300 "$BUILD/peer/aka_osmocore.log")"
    exit 0
fi
out=$(timeout 240 "$BUILD/peer/aka_osmocore" 100000)
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL aka-osmocore: helper exited $rc"
    exit 0
fi
echo "$out"
exit 0
