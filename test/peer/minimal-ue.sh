#!/usr/bin/env bash
# minimal-ue.sh (peer test) -- examples/minimal_ue.c, the UE of at most 150
# lines on imssec.h and POSIX alone, against the example P-CSCF and S-CSCF
# on loopback: registration with IMS AKA, a protected MESSAGE and its reply,
# re-registration with the SA switch, de-registration.  PASS minimal-ue only
# when it ends with "VERIFIED minimal-ue:" and all three programs exit 0.
# Prints PASS/FAIL/SKIP lines; always exits 0 (the runner counts the lines).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$BUILD/peer/minimal-ue
mkdir -p "$OUT"

if ! out=$(make -s BUILD="$BUILD" examples 2>&1); then
    echo "FAIL minimal-ue-build: make examples failed: $(echo "$out" | grep -m1 -E 'error|undefined' || echo "$out" | tail -n 1)"
    exit 0
fi
n=$(wc -l <examples/minimal_ue.c)
if [ "$n" -le 150 ]; then echo "PASS minimal-ue-size: $n lines"; else echo "FAIL minimal-ue-size: $n lines (at most 150)"; fi
others=$(grep -E '^#include "' examples/minimal_ue.c | grep -v '"../imssec.h"')
if [ -z "$others" ]; then echo "PASS minimal-ue-self-contained: imssec.h and system headers only"
else echo "FAIL minimal-ue-self-contained: $others"; fi

# The network side listens on fixed ports: one demo at a time (demo.sh's lock).
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/imssec-demo.lock"
    flock -w 180 9 || { echo "FAIL minimal-ue: another demo is still running"; exit 0; }
fi
"$BUILD/scscf" --timeout-ms 15000 >"$OUT/scscf.log" 2>&1 &
s=$!
sleep 0.3
"$BUILD/pcscf" --timeout-ms 15000 >"$OUT/pcscf.log" 2>&1 &
p=$!
sleep 0.3
timeout 30 "$BUILD/minimal_ue" >"$OUT/ue.log" 2>&1
rc_ue=$?
rc=()
for pid in $p $s; do
    k=0
    while kill -0 "$pid" 2>/dev/null && [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
    kill "$pid" 2>/dev/null
    wait "$pid"
    rc+=($?)
done
last=$(tail -n 1 "$OUT/ue.log")
if [ "$rc_ue" = 0 ] && [ "${last#VERIFIED minimal-ue:}" != "$last" ] && [ "${rc[0]}" = 0 ] &&
    [ "${rc[1]}" = 0 ] && ! grep -q '| FAILED ' "$OUT/pcscf.log" "$OUT/scscf.log"; then
    echo "PASS minimal-ue"
else
    echo "FAIL minimal-ue: ue exit $rc_ue ($last), pcscf exit ${rc[0]}, scscf exit ${rc[1]} (logs: $OUT)"
fi
exit 0
