#!/usr/bin/env bash
# sa-soak.sh -- long runs of the sa/ property tests: the randomised
# registration / re-registration / loss / timeout / clock-jump / IP-change
# sequences (invariants of TS 33.203 7.1 and 7.4 checked after every step)
# and callback fault injection, under ASan+UBSan, for many seeds; then the
# fuzz targets' corpora.  Too slow for the unit suite, bounded here.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
TB="$BUILD/peer/sa-soak"
mkdir -p "$BUILD/peer"
if ! make -s unit TB="$TB" CC="$CC" SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
        OPT="-O1 -g" ${MBEDTLS_CFLAGS:+MBEDTLS_CFLAGS="$MBEDTLS_CFLAGS"} \
        ${MBEDTLS_LIBS:+MBEDTLS_LIBS="$MBEDTLS_LIBS"} >"$TB.log" 2>&1; then
    echo "FAIL sa-soak-build: see $TB.log"
    exit 0
fi
fail=0
start=$(date +%s)
done_seeds=0
for seed in $(seq 1 400); do
    if [ $(( $(date +%s) - start )) -gt 90 ]; then
        break
    fi
    out=$(IMSSEC_TEST_SEED=$seed timeout 60 "$TB/test_unit" -q sa_wb_random sa_callback_fault sa_7_1_spi 2>&1)
    if ! echo "$out" | tail -1 | grep -q " 0 failed"; then
        echo "FAIL sa-soak-random: seed $seed: $(echo "$out" | head -3 | tr '\n' ' ')"
        fail=1
        break
    fi
    done_seeds=$seed
done
[ $fail -eq 0 ] && echo "PASS sa-soak-random (seeds 1..$done_seeds)"
for t in sa_events sa_snapshot; do
    if "$TB/replay_$t" "test/fuzz/corpus/$t" >/dev/null 2>&1; then
        echo "PASS sa-soak-replay-$t"
    else
        echo "FAIL sa-soak-replay-$t: a corpus input crashed under ASan"
    fi
done
exit 0
