#!/usr/bin/env bash
# pcscf-restart.sh (peer test) -- issue 13, "Restart without loss": the
# example P-CSCF with --state FILE is killed with SIGKILL and started again
# from FILE, by `examples/demo.sh --restart 3`: three UEs (alice, bob,
# carol) are registered and have each sent a MESSAGE, a fourth (dave) is
# mid-registration.  One PASS line per verdict of the demo:
#   pcscf-restart-registered        3 UEs registered before the kill, dave's
#                                   REGISTER at the S-CSCF
#   pcscf-restart-restored          the restarted P-CSCF: 4 users (3
#                                   registered), 12 SAs
#   pcscf-restart-same-spis         the restored SPIs are exactly those
#                                   installed and not removed before the kill
#   pcscf-restart-ue-<name>         the UE's first MESSAGE after the restart:
#                                   200 over a pre-restart SA; then the rest of
#                                   its session (re-registration included)
#   pcscf-restart-replay            every replayed packet refused, the three
#                                   from before the restart among them
#   pcscf-restart-mid-registration  dave's registration completed
#   pcscf-restart-flow              P-CSCF and S-CSCF exit 0, no FAILED line
#   pcscf-restart-demo              the demo's last line is VERIFIED, exit 0
# and checks of its own on the state file:
#   pcscf-restart-state-mode        FILE is mode 0600 (it holds the SA keys)
#   pcscf-restart-truncated         a truncated FILE: pcscf refuses to start
#                                   (exit 2) and says it is truncated
#   pcscf-restart-corrupt           one byte changed: refused, "corrupt"
#   pcscf-restart-mismatch          framing and CRC right, but the pool's
#                                   records are not the table's SAs: the
#                                   library's restore refuses it
# Prints PASS/FAIL/SKIP lines; always exits 0 (the runner counts the lines).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$BUILD/peer/pcscf-restart
mkdir -p "$OUT"

if ! out=$(make -s BUILD="$BUILD" examples 2>&1); then
    echo "FAIL pcscf-restart-build: make examples failed: $(echo "$out" | grep -m1 -E 'error|undefined' || echo "$out" | tail -n 1)"
    exit 0
fi

# the demo takes the lock of the fixed ports itself
timeout 120 bash examples/demo.sh --no-build --restart 3 --out "$OUT" >"$OUT/demo.out" 2>&1
rc=$?
for step in registered restored same-spis ue-alice ue-bob ue-carol replay mid-registration flow; do
    if grep -q "^  VERIFIED restart-$step:" "$OUT/demo.out"; then
        echo "PASS pcscf-restart-$step"
    else
        echo "FAIL pcscf-restart-$step: $(grep -m1 "restart-$step:" "$OUT/demo.out" || echo "no verdict") (log: $OUT/demo.out)"
    fi
done
last=$(tail -n 1 "$OUT/demo.out")
if [ "$rc" = 0 ] && [ "${last#VERIFIED: restart without loss:}" != "$last" ]; then
    echo "PASS pcscf-restart-demo"
else
    echo "FAIL pcscf-restart-demo: exit $rc: $last"
fi

mode=$(stat -c %a "$OUT/state.at-kill" 2>/dev/null || echo none)
mode2=$(stat -c %a "$OUT/state" 2>/dev/null || echo none)
if [ "$mode" = 600 ] && [ "$mode2" = 600 ]; then echo "PASS pcscf-restart-state-mode"
else echo "FAIL pcscf-restart-state-mode: the state file was mode $mode at the kill, $mode2 at the end (want 600)"; fi

# A damaged state file: refused with a clear message before anything is served.
umask 077 # the copies hold SA keys too
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/imssec-demo.lock"
    flock -w 180 9 || { echo "FAIL pcscf-restart-truncated: another demo is still running"; exit 0; }
fi
refuse() {
    local name=$1 file=$2 want=$3 err rc
    timeout 10 "$BUILD/pcscf" --state "$file" --timeout-ms 1000 >"$OUT/$name.log" 2>&1
    rc=$?
    err=$(grep -m1 'refusing to start' "$OUT/$name.log")
    if [ "$rc" = 2 ] && echo "$err" | grep -q "$want" && ! grep -q 'P-CSCF ready' "$OUT/$name.log"; then
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
    # well framed (CRC right) but the pool's records are not the table's:
    # the table at the kill (12 SAs) with the pool of the end (none); the
    # library's imssec_sa_esp_pool_restore() must refuse it
    if command -v python3 >/dev/null 2>&1 && [ -s "$OUT/state" ]; then
        python3 - "$OUT/state.at-kill" "$OUT/state" "$OUT/bad-mismatch" <<'PY'
import struct, sys, zlib
def sections(path):
    b = open(path, "rb").read()
    assert b[:8] == b"imssecS1"
    out, off = {}, 8
    while len(b) - off > 4:
        tag, n = b[off:off + 4], struct.unpack(">I", b[off + 4:off + 8])[0]
        out[tag] = b[off + 8:off + 8 + n]
        off += 8 + n
    return out
a, b = sections(sys.argv[1]), sections(sys.argv[2])
body = b"imssecS1"
for tag, data in ((b"PCSC", a[b"PCSC"]), (b"SATB", a[b"SATB"]), (b"POOL", b[b"POOL"])):
    body += tag + struct.pack(">I", len(data)) + data
open(sys.argv[3], "wb").write(body + struct.pack(">I", zlib.crc32(body) & 0xffffffff))
PY
        refuse mismatch "$OUT/bad-mismatch" 'restore refused'
    else
        echo "SKIP pcscf-restart-mismatch: needs python3 and the final state file"
    fi
else
    echo "FAIL pcscf-restart-truncated: no state file was written"
    echo "FAIL pcscf-restart-corrupt: no state file was written"
fi
exit 0
