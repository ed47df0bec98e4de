#!/usr/bin/env bash
# ue-long.sh (peer test) -- the long-running UE (build/ue --control) against
# the example P-CSCF and S-CSCF (--keep-running) on loopback, on ports of its
# own (25060, 24500, 26060, 25070) so that it does not need the demo's lock:
#   1. granted expiry and automatic re-registration (TS 24.229 5.1.1.4.1):
#      the S-CSCF grants 6 s of the 600 s asked (--expires 6); within a
#      7 s sleep the UE re-registers by itself twice, at half of the
#      granted time, each time with new SAs and port_us kept (7.4);
#      commands message / rereg / dereg / register / status / quit from a
#      pipe; all three programs end without a failure;
#   2. the SQN state file (--sqn-file): a second run with a new HSS (SQN
#      back at 0x20) finds the USIM ahead and resynchronises (6.1.3); a run
#      without the file would not (checked: run 1 had no AUTS);
#   3. a FIFO as the control channel (several writers one after another)
#      and --no-auto-rereg: no re-registration in 4 s of a 6 s grant;
#   4. the REGISTER's headers from the options, read back with tshark from
#      the UE's capture: Request-URI sip:<home-domain> (TS 24.229 5.1.1.2),
#      Via sent-by and Contact host = --via-host, User-Agent; a name as
#      sent-by is refused by the P-CSCF (7.1 rule 2 needs an address);
#   5. a malformed SQN file: the UE refuses to start (exit 2, a message);
#   6. a protected re-REGISTER answered 200 without a challenge (scscf
#      --no-reauth, TS 33.203 5.1.2): the current SAs stay.
# Prints PASS/FAIL/SKIP lines; always exits 0 (the runner counts the lines).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$BUILD/peer/ue-long
rm -rf "$OUT"
mkdir -p "$OUT"

if ! out=$(make -s BUILD="$BUILD" examples 2>&1); then
    echo "FAIL ue-long-build: make examples failed: $(echo "$out" | grep -m1 -E 'error|undefined' || echo "$out" | tail -n 1)"
    exit 0
fi

PC=(--port 25060 --encap-port 24500 --core-port 26060 --scscf-port 25070)
UE=(--private-ip 192.168.1.20 --pcscf-port 25060 --encap-port 24500 --timeout-ms 5000)

check() { # check NAME COND-EXIT-STATUS MESSAGE
    if [ "$2" = 0 ]; then echo "PASS $1: $3"; else echo "FAIL $1: $3 (logs: $OUT)"; fi
}
has() { grep -a -q -E "$2" "$1"; echo $?; }
hasnt() { if grep -a -q -E "$2" "$1"; then echo 1; else echo 0; fi; }
count() { grep -a -c -E "$2" "$1"; }

# network NAME SECONDS [scscf args...]: start the S-CSCF and the P-CSCF
network() {
    local n=$1 t=$2
    shift 2
    "$BUILD/scscf" --port 25070 --keep-running --timeout-ms $((t * 1000)) "$@" >"$OUT/$n-scscf.log" 2>&1 &
    sc=$!
    sleep 0.3
    "$BUILD/pcscf" "${PC[@]}" --keep-running --timeout-ms $((t * 1000)) >"$OUT/$n-pcscf.log" 2>&1 &
    pc=$!
    sleep 0.3
}
# network_end NAME: wait for both; 0 when both exited 0 without a FAILED line
network_end() {
    local rc=0
    wait "$pc" || rc=1
    wait "$sc" || rc=1
    grep -a -q '| FAILED ' "$OUT/$1-pcscf.log" "$OUT/$1-scscf.log" && rc=1
    return $rc
}

# ---- 1: automatic re-registration and the commands ---------------------------
network run1 22 --expires 6
{
    echo status
    echo "message echo: hello"
    echo "sleep 7000"
    echo status
    echo rereg
    echo "message sent after the commanded re-registration"
    echo dereg
    echo status
    echo register
    echo "message sent after registering again"
    echo quit
} | timeout 40 "$BUILD/ue" "${UE[@]}" --control - --expires 600 --sqn-file "$OUT/sqn" >"$OUT/run1-ue.log" 2>&1
rc_ue=$?
network_end run1
rc_net=$?
L=$OUT/run1-ue.log
check ue-long-run1-exit "$([ $rc_ue = 0 ] && [ $rc_net = 0 ] && echo 0 || echo 1)" \
    "UE exit $rc_ue, P-CSCF and S-CSCF without failures ($rc_net)"
check ue-long-granted-expiry "$(has "$L" 'the registrar granted 6 s \(we asked for 600 s\)')" \
    "the UE uses the 200 OK's Contact expires=6, not the 600 it asked"
n=$(grep -a -c 'VERIFIED rereg: automatic re-registration: 200' "$L")
# at 3 s and 6 s of the 7 s sleep (the 2nd at half of the 1st's grant)
check ue-long-auto-rereg "$([ "$n" -ge 2 ] && [ "$n" -le 3 ] && echo 0 || echo 1)" \
    "$n automatic re-registrations within the 7 s sleep (expected 2: at half of each 6 s grant)"
check ue-long-auto-rereg-new-sas "$(has "$L" 'requests now on set 3, port_us [0-9]+ kept')" \
    "each re-registration moved requests to a new set, port_us unchanged (7.4)"
check ue-long-status "$(has "$L" 'STATUS state=ACTIVE .* reregs=[23] auto=[23]')" \
    "the status command reports two automatic re-registrations"
check ue-long-commanded-rereg "$(has "$L" 'VERIFIED rereg: commanded re-registration: 200')" \
    "the rereg command re-registers"
check ue-long-message-after-rereg "$(has "$L" 'VERIFIED ue-message: "sent after the commanded re-registration": 200')" \
    "a MESSAGE after the commanded re-registration gets 200 over the new set"
check ue-long-dereg "$(has "$L" 'VERIFIED deregister: 200: every SA deleted')" \
    "dereg deletes every SA"
check ue-long-idle-status "$(has "$L" 'STATUS state=IDLE sas=0 dataplane=0')" \
    "after dereg the status line shows no SAs"
check ue-long-register-again "$([ "$(has "$L" 'VERIFIED register: registered again')" = 0 ] &&
    [ "$(has "$L" 'VERIFIED ue-message: "sent after registering again": 200')" = 0 ] && echo 0 || echo 1)" \
    "register after dereg: a new initial registration, a MESSAGE over its SAs"
check ue-long-quit-dereg "$([ "$(count "$L" 'VERIFIED deregister: 200')" = 2 ] && echo 0 || echo 1)" \
    "quit while registered de-registers first (2 de-registrations in all)"
check ue-long-run1-no-resync "$(hasnt "$L" 'aka-sync-failure')" \
    "the first run (fresh SQN file) needed no resynchronisation"

# ---- 2: the SQN file makes the USIM remember -----------------------------------
h1=$(sed -n 's/^highest \([0-9a-f]*\)$/\1/p' "$OUT/sqn")
network run2 12
echo quit | timeout 30 "$BUILD/ue" "${UE[@]}" --control - --sqn-file "$OUT/sqn" >"$OUT/run2-ue.log" 2>&1
rc_ue=$?
network_end run2
rc_net=$?
L=$OUT/run2-ue.log
check ue-long-sqn-file-read "$(has "$L" "SQN state read from .*: highest SQN 0x$h1")" \
    "run 2 starts from the SQN run 1 wrote (0x$h1)"
check ue-long-sqn-file-resync "$([ $rc_ue = 0 ] && [ $rc_net = 0 ] && [ "$(has "$L" 'VERIFIED aka-sync-failure')" = 0 ] &&
    [ "$(has "$L" 'VERIFIED register: 200 OK')" = 0 ] && echo 0 || echo 1)" \
    "a new HSS at SQN 0x20 is behind the remembered USIM: AUTS, resync, registered (UE exit $rc_ue)"
h2=$(sed -n 's/^highest \([0-9a-f]*\)$/\1/p' "$OUT/sqn")
check ue-long-sqn-file-advanced "$([ $((16#${h2:-0})) -gt $((16#${h1:-0})) ] && echo 0 || echo 1)" \
    "the file was rewritten after the accepted challenge (0x$h1 -> 0x$h2)"
check ue-long-sqn-file-mode "$([ "$(stat -c %a "$OUT/sqn")" = 600 ] && echo 0 || echo 1)" \
    "the SQN file is mode 0600"

# ---- 3: a FIFO, --no-auto-rereg -------------------------------------------------
network run3 14 --expires 6
rm -f "$OUT/ctl"
mkfifo "$OUT/ctl"
timeout 30 "$BUILD/ue" "${UE[@]}" --control "$OUT/ctl" --no-auto-rereg >"$OUT/run3-ue.log" 2>&1 &
ue=$!
# the FIFO is the UE's once it has opened it: writers do not block then
k=0
while ! grep -a -q 'long-running: commands from' "$OUT/run3-ue.log" && [ $k -lt 100 ]; do sleep 0.1; k=$((k + 1)); done
echo "message echo: first writer" >"$OUT/ctl"
echo "sleep 4000" >"$OUT/ctl"
echo status >"$OUT/ctl"
echo quit >"$OUT/ctl"
wait "$ue"
rc_ue=$?
network_end run3
rc_net=$?
L=$OUT/run3-ue.log
check ue-long-fifo "$([ $rc_ue = 0 ] && [ $rc_net = 0 ] && [ "$(has "$L" 'VERIFIED ue-message: "echo: first writer": 200')" = 0 ] &&
    [ "$(has "$L" 'VERIFIED deregister: 200')" = 0 ] && echo 0 || echo 1)" \
    "commands from four writers of a FIFO, one after another (UE exit $rc_ue)"
check ue-long-no-auto-rereg "$([ "$(has "$L" 'STATUS state=ACTIVE .*reregs=0 auto=0')" = 0 ] &&
    [ "$(hasnt "$L" 'VERIFIED rereg: automatic')" = 0 ] && echo 0 || echo 1)" \
    "--no-auto-rereg: no re-registration in 4 s of a 6 s grant"

# ---- 4: the REGISTER's headers from the options --------------------------------
if command -v tshark >/dev/null 2>&1; then
    network run4 6
    echo quit | timeout 20 "$BUILD/ue" "${UE[@]}" --control - --home-domain home.example.org \
        --via-host ue1.example.org --user-agent "imssec-tester/1" --pcap "$OUT/run4.pcap" \
        >"$OUT/run4-ue.log" 2>&1
    rc_ue=$?
    wait "$pc" "$sc"
    f=$(tshark -r "$OUT/run4.pcap" -Y 'sip.Method == "REGISTER"' -T fields -E separator='|' \
        -e sip.r-uri -e sip.Via -e sip.User-Agent -e sip.Contact 2>/dev/null | head -n 1)
    IFS='|' read -r ruri via ua contact <<<"$f"
    check ue-long-home-domain "$([ "$ruri" = sip:home.example.org ] && echo 0 || echo 1)" \
        "Request-URI \"$ruri\" (--home-domain, TS 24.229 5.1.1.2)"
    check ue-long-via-host "$([ "${via#SIP/2.0/UDP ue1.example.org:}" != "$via" ] &&
        [ "${contact#<sip:alice@ue1.example.org:}" != "$contact" ] && echo 0 || echo 1)" \
        "Via \"$via\", Contact \"$contact\" (--via-host)"
    check ue-long-user-agent "$([ "$ua" = imssec-tester/1 ] && echo 0 || echo 1)" "User-Agent \"$ua\""
    check ue-long-via-name-refused "$([ $rc_ue = 1 ] &&
        [ "$(has "$OUT/run4-pcscf.log" 'FAILED pcscf-register: SM1 refused: IMSSEC_E_UNSUPPORTED: the Via sent-by is a name')" = 0 ] &&
        echo 0 || echo 1)" \
        "a name as sent-by: the P-CSCF refuses SM1 (7.1 rule 2 compares addresses), the UE exits 1"
else
    echo "SKIP ue-long-headers: tshark is not installed"
fi

# ---- 6: a re-registration the registrar accepts without a challenge -------------
# TS 33.203 5.1.2: "a re-registration might not need to be authenticated"
# (scscf --no-reauth): the UE and the P-CSCF keep the current SAs (sa/'s
# SUCCESS in REG_PROT), no second AKA run
network run6 12 --no-reauth
{ echo rereg; echo "message sent after an unchallenged re-registration"; echo status; echo quit; } |
    timeout 30 "$BUILD/ue" "${UE[@]}" --control - >"$OUT/run6-ue.log" 2>&1
rc_ue=$?
network_end run6
rc_net=$?
L=$OUT/run6-ue.log
check ue-long-rereg-no-challenge "$([ $rc_ue = 0 ] && [ $rc_net = 0 ] &&
    [ "$(has "$L" 'VERIFIED register: 200 OK without a challenge on spi=0x[0-9a-f]+ \(set 1,')" = 0 ] &&
    [ "$(has "$L" 'VERIFIED rereg: commanded re-registration: 200, requests now on set 1')" = 0 ] &&
    [ "$(has "$L" 'VERIFIED ue-message: "sent after an unchallenged re-registration": 200 on spi=0x[0-9a-f]+ \(set 1,')" = 0 ] &&
    [ "$(has "$L" 'STATUS state=ACTIVE sas=4 dataplane=4 .*reregs=1')" = 0 ] &&
    [ "$(count "$L" 'VERIFIED aka: network authenticated')" = 1 ] &&
    [ "$(has "$OUT/run6-scscf.log" 'no new challenge \(--no-reauth')" = 0 ] && echo 0 || echo 1)" \
    "an unchallenged re-registration keeps set 1 (4 SAs, one AKA run), MESSAGEs go on over it (UE exit $rc_ue)"

# ---- 5: a malformed SQN file ----------------------------------------------------
printf 'imssec-sqn 1\nind-bits 5\nhighest zz\n' >"$OUT/bad-sqn"
"$BUILD/ue" "${UE[@]}" --sqn-file "$OUT/bad-sqn" >"$OUT/run5-ue.log" 2>&1
rc=$?
check ue-long-bad-sqn-file "$([ $rc = 2 ] && [ "$(has "$OUT/run5-ue.log" 'bad-sqn line 3: malformed')" = 0 ] && echo 0 || echo 1)" \
    "a malformed SQN file: exit $rc, \"$(head -n 1 "$OUT/run5-ue.log")\""
printf 'imssec-sqn 1\nind-bits 4\n' >"$OUT/bad-sqn"
"$BUILD/ue" "${UE[@]}" --sqn-file "$OUT/bad-sqn" >"$OUT/run5-ue.log" 2>&1
rc=$?
check ue-long-sqn-file-ind-bits "$([ $rc = 2 ] && [ "$(has "$OUT/run5-ue.log" 'is for 4 IND bits, --ind-bits is 5')" = 0 ] && echo 0 || echo 1)" \
    "an SQN file of another IND length is refused (exit $rc)"
exit 0
