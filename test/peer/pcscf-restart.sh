#!/usr/bin/env bash
# pcscf-restart.sh (peer test) -- issue 13, "Restart without loss": the
# example P-CSCF with --state FILE is killed with SIGKILL while three UEs
# (alice, bob, carol; the S-CSCF knows all three) are registered, and is
# started again from FILE.  Each UE (--pause-after-register) has registered
# and sent one MESSAGE before the kill; after the restart it replays that
# MESSAGE's ESP packet, then runs the rest of its session (MESSAGEs both
# ways, re-registration with the SA switch-over, de-registration) against
# the restarted P-CSCF.  Checks:
#   pcscf-restart-state-mode      FILE is mode 0600 (it holds the SA keys)
#   pcscf-restart-restored        the restarted P-CSCF says 3 users (3
#                                 registered) and 12 SAs came back
#   pcscf-restart-same-spis       the SPIs it restored are exactly those
#                                 installed and not removed before the kill
#   pcscf-restart-message-<ue>    the UE's first MESSAGE after the restart got
#                                 200 over one of those pre-restart SAs, and
#                                 its whole session then passed (exit 0)
#   pcscf-restart-replay          the restarted P-CSCF refused each UE's
#                                 replayed pre-restart packet (anti-replay
#                                 window restored), and no UE got an answer
#   pcscf-restart-flow            the P-CSCF and the S-CSCF exit 0, no FAILED
#   pcscf-restart-truncated       a truncated FILE: pcscf refuses to start,
#                                 exit 2, saying so
#   pcscf-restart-corrupt         one byte changed: refused the same way
# Prints PASS/FAIL/SKIP lines; always exits 0 (the runner counts the lines).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$BUILD/peer/pcscf-restart
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/state "$OUT"/state.* "$OUT"/bad-*

if ! out=$(make -s BUILD="$BUILD" examples 2>&1); then
    echo "FAIL pcscf-restart-build: make examples failed: $(echo "$out" | grep -m1 -E 'error|undefined' || echo "$out" | tail -n 1)"
    exit 0
fi

# The network side listens on fixed ports: one demo at a time (demo.sh's lock).
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/imssec-demo.lock"
    flock -w 180 9 || { echo "FAIL pcscf-restart: another demo is still running"; exit 0; }
fi

umask 077 # the state file and its damaged copies hold SA keys
UES="alice bob carol"
REALM=ims.example.net
STATE=$OUT/state
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null' EXIT

impis=$(for n in $UES; do printf '%s@%s,' "$n" "$REALM"; done)
"$BUILD/scscf" --impi "${impis%,}" --timeout-ms 40000 >"$OUT/scscf.log" 2>&1 &
s=$!
PIDS+=($s)
sleep 0.3
"$BUILD/pcscf" --state "$STATE" --timeout-ms 40000 >"$OUT/pcscf-1.log" 2>&1 &
p=$!
PIDS+=($p)
sleep 0.3
declare -A UPID
for n in $UES; do
    # no call (--frames 0): the example IMS-ALG and callee take one at a time
    timeout 40 "$BUILD/ue" --impi "$n@$REALM" --impu "sip:$n@$REALM" --private-ip 192.168.1.20 \
        --frames 0 --pause-after-register 6000 --timeout-ms 5000 >"$OUT/ue-$n.log" 2>&1 &
    UPID[$n]=$!
    PIDS+=($!)
    k=0
    while ! grep -q 'registered: pausing' "$OUT/ue-$n.log" && [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
done
paused=0
for n in $UES; do grep -q 'registered: pausing' "$OUT/ue-$n.log" && paused=$((paused + 1)); done

# The SAs alive at the P-CSCF now: installed and not removed.
sleep 0.2
live=$(awk '/ SA\+ /{for(i=1;i<=NF;i++) if($i ~ /^spi=/) a[$i]=1}
            / SA- /{for(i=1;i<=NF;i++) if($i ~ /^spi=/) delete a[$i]}
            END{for(k in a) print k}' "$OUT/pcscf-1.log" | sort)
kill -KILL "$p"
wait "$p" 2>/dev/null
mode=$(stat -c %a "$STATE" 2>/dev/null || echo none)
cp "$STATE" "$OUT/state.at-kill" 2>/dev/null

"$BUILD/pcscf" --state "$STATE" --timeout-ms 40000 >"$OUT/pcscf-2.log" 2>&1 &
p=$!
PIDS+=($p)
declare -A URC
for n in $UES; do
    wait "${UPID[$n]}"
    URC[$n]=$?
done
k=0
while kill -0 "$p" 2>/dev/null && [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
kill "$p" 2>/dev/null
wait "$p"
rc_p=$?
k=0
while kill -0 "$s" 2>/dev/null && [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
kill "$s" 2>/dev/null
wait "$s"
rc_s=$?

if [ "$mode" = 600 ]; then echo "PASS pcscf-restart-state-mode"
else echo "FAIL pcscf-restart-state-mode: $STATE is mode $mode (want 600)"; fi

restored=$(grep -m1 'restored from' "$OUT/pcscf-2.log")
if [ "$paused" = 3 ] && echo "$restored" | grep -q ': 3 users (3 registered), 12 SAs;'; then
    echo "PASS pcscf-restart-restored"
else
    echo "FAIL pcscf-restart-restored: $paused of 3 UEs registered before the kill; restart said: ${restored:-nothing} (logs: $OUT)"
fi

back=$(grep ' SA= ' "$OUT/pcscf-2.log" | grep -o 'spi=0x[0-9a-f]*' | sort)
if [ -n "$live" ] && [ "$(echo "$live" | wc -l)" = 12 ] && [ "$back" = "$live" ]; then
    echo "PASS pcscf-restart-same-spis"
else
    echo "FAIL pcscf-restart-same-spis: before the kill $(echo $live | wc -w) SAs ($(echo $live)); restored: $(echo $back)"
fi

for n in $UES; do
    # the first MESSAGE after the pause (ue.c: the replay, then "echo: ...")
    line=$(sed -n '/registered: pausing/,$p' "$OUT/ue-$n.log" | grep -m1 '| VERIFIED ue-message:')
    spi=$(echo "$line" | grep -o 'spi=0x[0-9a-f]*' | head -n 1)
    if [ "${URC[$n]}" = 0 ] && echo "$line" | grep -q '": 200 on spi=' && [ -n "$spi" ] &&
        echo "$live" | grep -qx "$spi" && grep -q '| VERIFIED deregister:' "$OUT/ue-$n.log"; then
        echo "PASS pcscf-restart-message-$n"
    else
        echo "FAIL pcscf-restart-message-$n: ue exit ${URC[$n]}; after the restart: ${line:-no MESSAGE verdict} (pre-restart SA: ${spi:-?}) (log: $OUT/ue-$n.log)"
    fi
done

nrep=$(grep -c '| VERIFIED pcscf-replay-dropped:' "$OUT/pcscf-2.log")
nref=$(grep -l '| VERIFIED ue-refused-traffic:' "$OUT"/ue-*.log | wc -l)
if [ "$nrep" = 3 ] && [ "$nref" = 3 ]; then
    echo "PASS pcscf-restart-replay"
else
    echo "FAIL pcscf-restart-replay: the restarted P-CSCF refused $nrep of 3 replayed packets; $nref of 3 UEs saw no answer"
fi

if [ "$rc_p" = 0 ] && [ "$rc_s" = 0 ] &&
    ! grep -q '| FAILED ' "$OUT/pcscf-1.log" "$OUT/pcscf-2.log" "$OUT/scscf.log" "$OUT"/ue-*.log; then
    echo "PASS pcscf-restart-flow"
else
    echo "FAIL pcscf-restart-flow: pcscf exit $rc_p, scscf exit $rc_s; $(grep -h -m1 '| FAILED ' "$OUT"/*.log | head -n 1)"
fi

# A damaged state file: refused with a clear message, nothing served.
refuse() {
    local name=$1 file=$2 want=$3 err rc
    timeout 10 "$BUILD/pcscf" --state "$file" --timeout-ms 1000 >"$OUT/$name.log" 2>&1
    rc=$?
    err=$(grep -m1 'refusing to start' "$OUT/$name.log")
    if [ "$rc" = 2 ] && echo "$err" | grep -q "$want" && ! grep -q 'restored from' "$OUT/$name.log"; then
        echo "PASS pcscf-restart-$name"
    else
        echo "FAIL pcscf-restart-$name: exit $rc, said: $(head -c 300 "$OUT/$name.log")"
    fi
}
if [ -s "$OUT/state.at-kill" ]; then
    size=$(stat -c %s "$OUT/state.at-kill")
    head -c $((size - 7)) "$OUT/state.at-kill" >"$OUT/bad-truncated"
    refuse truncated "$OUT/bad-truncated" 'truncated'
    cp "$OUT/state.at-kill" "$OUT/bad-corrupt"
    # one byte in the middle (inside the SA table's snapshot)
    printf '\x5a' | dd of="$OUT/bad-corrupt" bs=1 seek=$((size / 2)) conv=notrunc status=none
    if cmp -s "$OUT/bad-corrupt" "$OUT/state.at-kill"; then
        printf '\xa5' | dd of="$OUT/bad-corrupt" bs=1 seek=$((size / 2)) conv=notrunc status=none
    fi
    refuse corrupt "$OUT/bad-corrupt" 'corrupt'
else
    echo "FAIL pcscf-restart-truncated: no state file was written"
    echo "FAIL pcscf-restart-corrupt: no state file was written"
fi
exit 0
