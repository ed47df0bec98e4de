#!/usr/bin/env bash
# demo.sh -- `make demo`: a UE, a P-CSCF and an S-CSCF/HSS (examples/) register
# and talk over IMS-AKA-keyed IPsec on loopback, make a call with e2ae media
# security (TS 33.328: SRTP between the UE and the P-CSCF's IMS Access GW,
# RTP in the core), and print the ladder.
#
#   bash examples/demo.sh [--mode udp|transport] [--transport udp|tcp]
#                         [--policy ALG/EALG] [--sync-failure] [--wrong-key]
#                         [--net-dereg] [--ipv6] [--core-udp] [--out DIR]
#                         [--timeout S] [--dataplane esp|xfrm] [--ue-dataplane esp|xfrm]
#                         [--pcscf-dataplane esp|xfrm] [--no-build]
#   bash examples/demo.sh --restart N [--out DIR] [--no-build]
#
#   --mode udp        (default) ordinary user, UE treated as behind a NAT:
#                     UDP-encapsulated tunnel-mode SAs (TS 33.203 Annex M,
#                     RFC 3948) over plain UDP sockets
#   --mode transport  root only: the UE and the network in two network
#                     namespaces joined by a veth pair (10.10.0.2 / 10.10.0.1),
#                     no NAT, transport-mode SAs, ESP over raw IP sockets
#   --transport udp   (default) SIP over UDP: the UE sends everything from
#                     port_uc, the P-CSCF everything to port_us (TS 33.203 7.1)
#   --transport tcp   SIP over TCP: the unprotected REGISTER on a kernel TCP
#                     connection to 5060, inside the SAs the examples' own TCP
#                     (examples/tcp_lite.c): a request on a connection from the
#                     client port to the peer's server port, its response back
#                     on it (7.1 TCP case)
#   --policy P        the P-CSCF's only acceptable pair, e.g.
#                     hmac-md5-96/des-ede3-cbc or hmac-sha-1-96/null
#                     (default: its full list, hmac-sha-1-96/aes-cbc first)
#   --confidentiality required|supported|never
#                     the P-CSCF's encryption policy (TS 33.203 7.2)
#   --sync-failure    the UE's SQN is ahead of the HSS: AUTS and resync
#   --wrong-key       the UE's K differs from the HSS's: MAC failure, the
#                     registration is refused, no SA is created
#   --net-dereg       at the end the network de-registers the UE: the S-CSCF's
#                     reg-event NOTIFY (RFC 3680), passed on by the P-CSCF
#                     over the SAs; both delete every SA (TS 33.203 7.4)
#   --dataplane xfrm  root, --mode transport (SIP over UDP or TCP): the UE and the
#                     P-CSCF put their SAs into the Linux kernel through the
#                     XFRM adapter (xfrm/imssec_xfrm.h) instead of the built-in
#                     esp/ engine; the kernel does the ESP.  After every change
#                     each prints the SAs read back from the kernel and whether
#                     they match sa/'s table (VERIFIED xfrm-match), and at the
#                     end that none of its SAs is left (VERIFIED xfrm-none-left).
#                     --ue-dataplane / --pcscf-dataplane set one side only (a
#                     mixed run: kernel ESP on one end, esp/ on the other).
#                     The host kernel needs ESP: examples/demo-xfrm.sh (make
#                     demo MODE=xfrm) runs this inside a User-Mode-Linux guest.
#   --ipv6            the same over IPv6 (udp: ::1, the UE at fd00::20 behind
#                     the NAT; transport: fd00:10::2 / fd00:10::1)
#   --core-udp        the P-CSCF <-> S-CSCF hop as plain SIP over UDP; by
#                     default it is SIP over TLS (RFC 3261, TS 33.203 6.5) on
#                     TCP 5070 with certificates made by build/mkcert into
#                     DIR/tls/ (a test CA, pcscf.ims.example.net,
#                     scscf.ims.example.net), each CSCF checking the other's
#                     name against its list of interworking partners
#
# The call: INVITE with an e2ae SDP offer (RTP/SAVP, a=crypto,
# a=3ge2ae:requested), rewritten by the P-CSCF as IMS-ALG (no keys towards
# the core, its own key in the answer), ~2 s of 20 ms audio frames each way
# (SRTP UE <-> IMS Access GW, RTP gateway <-> S-CSCF, which echoes), BYE.
# With an ealg null policy the SDES keys are refused (TS 33.328 6.2.1.2) and
# no call is set up.
#
# Writes DIR/ladder.txt, DIR/demo.pcap (raw IP, what went over the wire),
# DIR/tls/ (the certificates and the TLS key log DIR/tls/keylog),
# DIR/esp_keys (the SAs' keys as `imssec wireshark-esp-sa` options) and
# DIR/esp_sa (Wireshark's ESP SA table, made from esp_keys by that command);
# with tshark installed it decrypts the capture, checks the UE's side of it as
# Wireshark decoded it (examples/capture_check.py: port_us in Via and Contact,
# the 7.1 ports, Security-Verify = Security-Server), prints the SIP request lines
# found inside ESP, counts SRTP on the UE's leg and RTP on the core's, and
# writes DIR/demo-srtp-decrypted.pcap (`imssec srtp-decrypt-pcap` with the
# a=crypto lines tshark found inside ESP).
#
# --restart N (1..3): restart without loss (issue 13).  N UEs (alice, bob,
# carol) register at a P-CSCF running with --state DIR/state and each sends
# a MESSAGE; a fourth (dave) is mid-registration: its REGISTER is at the
# S-CSCF, which is held (SIGSTOP) so that the 401 comes only after the
# restart.  The P-CSCF is killed with SIGKILL and started again from the
# state file; then every UE replays its pre-restart ESP packet (refused),
# and runs the rest of its session (MESSAGEs both ways, re-registration,
# de-registration; no call) on the SAs from before the restart, and dave's
# registration completes.  Logs: DIR/*.log.
# The last line is "VERIFIED: ..." (exit 0) or "FAILED: <step> ..." (exit 1).
set -u
cd "$(dirname "$0")/.."

UE_DP=esp PC_DP=esp MODE=udp TRANSPORT=udp POLICY="" CONF="" SYNC=0 WRONG=0 IPV6=0 NETDEREG=0 OUT=build/demo TMO=30 BUILD_IT=1 CORE_TLS=1
RESTART=0
BUILD=${BUILD:-build}
usage() { sed -n '2,85p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --mode) MODE=${2:?}; shift ;;
    --transport) TRANSPORT=${2:?}; shift ;;
    --policy) POLICY=${2:?}; shift ;;
    --confidentiality) CONF=${2:?}; shift ;;
    --sync-failure) SYNC=1 ;;
    --wrong-key) WRONG=1 ;;
    --ipv6) IPV6=1 ;;
    --net-dereg) NETDEREG=1 ;;
    --core-udp) CORE_TLS=0 ;;
    --out) OUT=${2:?}; shift ;;
    --timeout) TMO=${2:?}; shift ;;
    --no-build) BUILD_IT=0 ;;
    --restart) RESTART=${2:?}; shift ;;
    --dataplane) UE_DP=${2:?} PC_DP=${2:?}; shift ;;
    --ue-dataplane) UE_DP=${2:?}; shift ;;
    --pcscf-dataplane) PC_DP=${2:?}; shift ;;
    -h | --help) usage ;;
    *) echo "demo.sh: unknown option $1" >&2; usage ;;
    esac
    shift
done

not_implemented() {
    echo "NOTIMPL $1: $2"
    echo "FAILED: $1 is not implemented (nothing was verified)"
    exit 1
}
case $MODE in
udp) ;;
transport)
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
        echo "FAILED: --mode transport needs root and iproute2 (network namespaces, raw sockets); run as root or use --mode udp"
        exit 1
    fi ;;
*) echo "demo.sh: --mode udp|transport" >&2; exit 2 ;;
esac
case $TRANSPORT in
udp | tcp) ;;
*) echo "demo.sh: --transport udp|tcp" >&2; exit 2 ;;
esac
XFRM=0
for d in "$UE_DP" "$PC_DP"; do
    case $d in
    esp) ;;
    xfrm) XFRM=1 ;;
    *) echo "demo.sh: --dataplane esp|xfrm" >&2; exit 2 ;;
    esac
done
if [ "$XFRM" = 1 ] && [ "$MODE" != transport ]; then
    echo "FAILED: --dataplane xfrm runs with --mode transport (the examples' kernel data plane is transport mode)"
    exit 1
fi

# ---- build ------------------------------------------------------------------
if [ "$BUILD_IT" = 1 ]; then
    if [ -f test/deps.sh ]; then
        bash test/deps.sh build || exit 1
    fi
    make -s BUILD="$BUILD" "$BUILD/libimssec.a" || exit 1
    # Say plainly which library module is missing instead of a link error.
    missing=""
    for m in "aka:imssec_digest_aka_respond imssec_aka_vector_gen imssec_aka_auts_verify" \
        "secagree:imssec_secagree_pcscf_choose imssec_secagree_ue_select" \
        "esp:imssec_esp_protect_flow imssec_esp_unprotect_flow imssec_esp_keys" \
        "sa:imssec_sa_ue_challenge imssec_sa_pcscf_auth imssec_sa_esp_protect imssec_sa_esp_unprotect"; do
        mod=${m%%:*}
        for sym in ${m#*:}; do
            if ! nm -g --defined-only "$BUILD/libimssec.a" 2>/dev/null | grep -q " T $sym\$"; then
                missing="$missing $mod($sym)"
                break
            fi
        done
    done
    if [ -n "$missing" ]; then
        for x in $missing; do echo "NOTIMPL library module ${x%%(*}: ${x#*(} is not in $BUILD/libimssec.a yet"; done
        echo "FAILED: library modules missing:$missing -- no step of the flow can run"
        exit 1
    fi
    make -s BUILD="$BUILD" examples "$BUILD/imssec" || exit 1
fi
for p in ue pcscf scscf imssec mkcert; do
    [ -x "$BUILD/$p" ] || { echo "FAILED: $BUILD/$p was not built"; exit 1; }
done

# ---- run ----------------------------------------------------------------------
# The network side listens on fixed ports (5060, 4500, 6060, 5070): one demo
# at a time on this machine (a second one waits for the first).
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/imssec-demo.lock"
    flock -w 180 9 || { echo "FAILED: another demo is still running (lock ${TMPDIR:-/tmp}/imssec-demo.lock)"; exit 1; }
fi
mkdir -p "$OUT"

# ---- --restart N: the P-CSCF killed and restarted from its state file --------
restart_demo() {
    local n=$1 st=$OUT/state names="alice bob carol" mid=dave realm=ims.example.net
    local s p x k regs=() fail="" live back line spi impis
    local -A upid urc
    ok() { echo "  VERIFIED $1: $2"; }
    bad() { [ -n "$fail" ] || fail=$1; echo "  FAILED $1: $2"; }
    names=$(echo $names | cut -d' ' -f1-"$n")
    rm -f "$OUT"/*.log "$st" "$st.tmp"
    trap 'kill $(jobs -p) 2>/dev/null' EXIT
    impis=$(for x in $names $mid; do printf '%s@%s,' "$x" "$realm"; done)
    echo "== imssec demo: restart without loss: $n UEs registered ($names), $mid mid-registration"
    "$BUILD/scscf" --impi "${impis%,}" --timeout-ms 40000 >"$OUT/scscf.log" 2>&1 &
    s=$!
    sleep 0.3
    "$BUILD/pcscf" --state "$st" --timeout-ms 40000 >"$OUT/pcscf-1.log" 2>&1 &
    p=$!
    sleep 0.3
    for x in $names $mid; do
        if [ "$x" = "$mid" ]; then
            # its REGISTER reaches the S-CSCF, which answers only after the restart
            kill -STOP "$s"
        fi
        # no call (--frames 0): the example IMS-ALG and callee take one at a time
        timeout 40 "$BUILD/ue" --impi "$x@$realm" --impu "sip:$x@$realm" --private-ip 192.168.1.20 \
            --frames 0 --pause-after-register 8000 --timeout-ms 5000 >"$OUT/ue-$x.log" 2>&1 &
        upid[$x]=$!
        k=0
        if [ "$x" = "$mid" ]; then
            # SM1 forwarded (the 2n REGISTERs of the others went before it)
            while [ "$(grep -c 'REGISTER .* to S-CSCF' "$OUT/pcscf-1.log")" -le $((2 * n)) ] &&
                [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
            sleep 0.2
        else
            while ! grep -q 'registered: pausing' "$OUT/ue-$x.log" && [ $k -lt 50 ]; do
                sleep 0.1; k=$((k + 1))
            done
            grep -q 'registered: pausing' "$OUT/ue-$x.log" && regs+=("$x")
        fi
    done
    if [ ${#regs[@]} = "$n" ] && [ "$(grep -c 'REGISTER .* to S-CSCF' "$OUT/pcscf-1.log")" = $((2 * n + 1)) ]; then
        ok restart-registered "${regs[*]} registered, each sent a MESSAGE; $mid's REGISTER is at the S-CSCF"
    else
        bad restart-registered "${#regs[@]} of $n UEs registered (${regs[*]}) before the kill"
    fi
    # the SAs the P-CSCF has now: installed and not removed
    live=$(awk '/ SA\+ /{for(i=1;i<=NF;i++) if($i ~ /^spi=/) a[$i]=1}
                / SA- /{for(i=1;i<=NF;i++) if($i ~ /^spi=/) delete a[$i]}
                END{for(k in a) print k}' "$OUT/pcscf-1.log" | sort)
    echo "$live" >"$OUT/spis-before-kill"
    kill -KILL "$p"
    wait "$p" 2>/dev/null
    echo "  P-CSCF killed (SIGKILL) with $(echo $live | wc -w) SAs; state file $(stat -c '%s bytes, mode %a' "$st" 2>/dev/null)"
    cp -p "$st" "$OUT/state.at-kill" 2>/dev/null
    "$BUILD/pcscf" --state "$st" --timeout-ms 40000 >"$OUT/pcscf-2.log" 2>&1 &
    p=$!
    sleep 0.3
    kill -CONT "$s"
    for x in $names $mid; do
        wait "${upid[$x]}"
        urc[$x]=$?
    done
    for x in "$p:pcscf" "$s:scscf"; do
        k=0
        while kill -0 "${x%%:*}" 2>/dev/null && [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
        kill "${x%%:*}" 2>/dev/null
        wait "${x%%:*}"
        urc[${x#*:}]=$?
    done
    trap - EXIT

    line=$(grep -m1 'restored from' "$OUT/pcscf-2.log")
    if echo "$line" | grep -q ": $((n + 1)) users ($n registered), $((4 * n)) SAs;"; then
        ok restart-restored "${line#*| }"
    else
        bad restart-restored "the restarted P-CSCF said: ${line:-nothing} (want $((n + 1)) users, $n registered, $((4 * n)) SAs)"
    fi
    back=$(grep ' SA= ' "$OUT/pcscf-2.log" | grep -o 'spi=0x[0-9a-f]*' | sort)
    if [ -n "$live" ] && [ "$(echo "$live" | wc -l)" = $((4 * n)) ] && [ "$back" = "$live" ]; then
        ok restart-same-spis "the $((4 * n)) SAs restored are the ones installed before the kill: $(echo $back)"
    else
        bad restart-same-spis "before the kill: $(echo $live); restored: $(echo $back)"
    fi
    for x in $names; do
        # the first MESSAGE after the pause (ue.c: the replay, then "echo: ...")
        line=$(sed -n '/registered: pausing/,$p' "$OUT/ue-$x.log" | grep -m1 '| VERIFIED ue-message:')
        spi=$(echo "$line" | grep -o 'spi=0x[0-9a-f]*' | head -n 1)
        if [ "${urc[$x]}" = 0 ] && echo "$line" | grep -q '": 200 on spi=' && [ -n "$spi" ] &&
            echo "$live" | grep -qx "$spi" && grep -q '| VERIFIED reregister:' "$OUT/ue-$x.log" &&
            grep -q '| VERIFIED deregister:' "$OUT/ue-$x.log"; then
            ok "restart-ue-$x" "first MESSAGE after the restart: 200 on $spi, an SA from before; then MESSAGEs both ways, re-registration, de-registration"
        else
            bad "restart-ue-$x" "exit ${urc[$x]}; after the restart: ${line:-no MESSAGE verdict} (SA ${spi:-?}; log $OUT/ue-$x.log)"
        fi
    done
    k=$(grep -c '| VERIFIED pcscf-replay-dropped:' "$OUT/pcscf-2.log")
    x=$(grep -l '| VERIFIED ue-refused-traffic:' "$OUT"/ue-*.log | wc -l)
    # every UE replays its first MESSAGE's packet: the registered ones one
    # sent before the restart (the restored window), $mid one sent after
    if [ "$k" = $((n + 1)) ] && [ "$x" = $((n + 1)) ]; then
        ok restart-replay "the restarted P-CSCF refused all $k replayed ESP packets, the $n sent before the restart among them (restored anti-replay windows); no UE got an answer"
    else
        bad restart-replay "the restarted P-CSCF refused $k of $((n + 1)) replayed packets; $x of $((n + 1)) UEs saw no answer"
    fi
    if [ "${urc[$mid]}" = 0 ] && grep -q '| VERIFIED register:' "$OUT/ue-$mid.log" &&
        [ "$(grep -c '| VERIFIED pcscf-keys:' "$OUT/pcscf-1.log")" = "$n" ]; then
        ok restart-mid-registration "$mid's registration completed across the restart: the S-CSCF's 401 found its transaction at the restarted P-CSCF"
    else
        bad restart-mid-registration "$mid: exit ${urc[$mid]} (log $OUT/ue-$mid.log)"
    fi
    if [ "${urc[pcscf]}" = 0 ] && [ "${urc[scscf]}" = 0 ] && ! grep -q '| FAILED ' "$OUT"/*.log; then
        ok restart-flow "the restarted P-CSCF and the S-CSCF ended with the flow, no failure in any log"
    else
        bad restart-flow "pcscf exit ${urc[pcscf]}, scscf exit ${urc[scscf]}; $(grep -h -m1 '| FAILED ' "$OUT"/*.log | head -n 1)"
    fi
    if [ -z "$fail" ]; then
        echo "VERIFIED: restart without loss: $n registered UEs kept their SAs, sequence state and sessions across a SIGKILL of the P-CSCF; $mid's registration completed"
        return 0
    fi
    echo "FAILED: $fail (logs: $OUT)"
    return 1
}
if [ "$RESTART" != 0 ]; then
    case $RESTART in 1 | 2 | 3) ;; *) echo "demo.sh: --restart 1..3" >&2; exit 2 ;; esac
    if [ "$MODE" != udp ] || [ "$TRANSPORT" != udp ] || [ "$IPV6" = 1 ]; then
        echo "FAILED: --restart runs over UDP-enc-tun and SIP over UDP only (protected TCP connections do not survive the restart)"
        exit 1
    fi
    # the state file holds the SA keys; so do copies of it
    umask 077
    restart_demo "$RESTART"
    exit $?
fi
rm -f "$OUT/demo.pcap" "$OUT/esp_sa" "$OUT/esp_keys" "$OUT/ladder.txt" "$OUT"/rc.* "$OUT/tshark.txt" \
    "$OUT/demo-srtp-decrypted.pcap"
rm -rf "$OUT/tls"
PCAP="$OUT/demo.pcap" ESPSA="$OUT/esp_sa" ESPKEYS="$OUT/esp_keys"

UE_ARGS=(--transport "$TRANSPORT") PC_ARGS=() SC_ARGS=() IN_NET=() IN_UE=() MODNAME=UDP-enc-tun
if [ "$MODE" = udp ]; then
    # The UE believes it has a private address (its Via says so); the
    # P-CSCF sees the packets come from the loopback address: a NAT (M.7.2).
    if [ "$IPV6" = 1 ]; then
        SC_ARGS+=(--listen-ip ::1)
        PC_ARGS+=(--ip ::1 --scscf-ip ::1)
        UE_ARGS+=(--ip ::1 --private-ip fd00::20 --pcscf-ip ::1)
    else
        UE_ARGS+=(--private-ip 192.168.1.20)
    fi
    # M.7.2: NAT keepalives after 1 s without SIP on the SAs (RFC 3948's
    # 20 s would never come in this short demo): the call's media, which
    # does not use the SAs, leaves them idle for ~2 s
    UE_ARGS+=(--keepalive-ms 1000)
fi
if [ "$MODE" = transport ]; then
    # Two namespaces and a veth pair; removed again on exit.  The MTU is
    # raised because a REGISTER with a full Security-Client is ~3 kB and
    # raw IP_HDRINCL sockets do not fragment (--transport tcp segments it).
    NS_NET=imssec-net-$$ NS_UE=imssec-ue-$$
    cleanup_ns() { ip netns del "$NS_UE" 2>/dev/null; ip netns del "$NS_NET" 2>/dev/null; }
    trap cleanup_ns EXIT
    ip netns add "$NS_NET" && ip netns add "$NS_UE" &&
        ip link add "isn$$" netns "$NS_NET" type veth peer name "isu$$" netns "$NS_UE" &&
        ip -n "$NS_NET" addr add 10.10.0.1/24 dev "isn$$" &&
        ip -n "$NS_UE" addr add 10.10.0.2/24 dev "isu$$" &&
        ip -n "$NS_NET" link set "isn$$" mtu 9000 up && ip -n "$NS_UE" link set "isu$$" mtu 9000 up &&
        ip -n "$NS_NET" link set lo up && ip -n "$NS_UE" link set lo up ||
        { echo "FAILED: could not set up the network namespaces"; exit 1; }
    IN_NET=(ip netns exec "$NS_NET") IN_UE=(ip netns exec "$NS_UE") MODNAME=trans
    NET_IP=10.10.0.1 UE_IP=10.10.0.2
    if [ "$IPV6" = 1 ]; then
        NET_IP=fd00:10::1 UE_IP=fd00:10::2
        ip -n "$NS_NET" addr add $NET_IP/64 dev "isn$$" nodad &&
            ip -n "$NS_UE" addr add $UE_IP/64 dev "isu$$" nodad ||
            { echo "FAILED: could not set up IPv6 in the network namespaces"; exit 1; }
    fi
    SC_ARGS+=(--listen-ip $NET_IP)
    PC_ARGS+=(--ip $NET_IP --scscf-ip $NET_IP --mode transport)
    UE_ARGS+=(--ip $UE_IP --pcscf-ip $NET_IP --mode transport)
fi
[ "$UE_DP" = xfrm ] && UE_ARGS+=(--dataplane xfrm)
[ "$PC_DP" = xfrm ] && PC_ARGS+=(--dataplane xfrm)
[ -n "$POLICY" ] && PC_ARGS+=(--policy "$POLICY")
# The core hop over TLS (TS 33.203 6.5): a test CA and one certificate per
# CSCF, made at run time; each CSCF's list of interworking partners names
# the other.  The P-CSCF logs the master secret for Wireshark.
TLSD="$OUT/tls" KEYLOG="$OUT/tls/keylog"
if [ "$CORE_TLS" = 1 ]; then
    mkdir -p "$TLSD"
    "$BUILD/mkcert" "$TLSD" ca=demo-ca pcscf=pcscf.ims.example.net@demo-ca \
        scscf=scscf.ims.example.net@demo-ca >"$TLSD/mkcert.log" 2>&1 ||
        { echo "FAILED: mkcert: $(tail -n 1 "$TLSD/mkcert.log")"; exit 1; }
    PC_ARGS+=(--core-tls --ca "$TLSD/demo-ca.crt" --cert "$TLSD/pcscf.crt" --key "$TLSD/pcscf.key"
        --partners scscf.ims.example.net --tls-keylog "$KEYLOG")
    SC_ARGS+=(--core-tls --ca "$TLSD/demo-ca.crt" --cert "$TLSD/scscf.crt" --key "$TLSD/scscf.key"
        --partners pcscf.ims.example.net)
fi
[ -n "$CONF" ] && PC_ARGS+=(--confidentiality "$CONF")
# Sync failure: the ISIM has already accepted SQN 0x100000 (SEQ 0x8000),
# the HSS is at 0x20: its next vector is stale and the UE answers with AUTS.
[ "$SYNC" = 1 ] && UE_ARGS+=(--sqn-ms 0x100000)
# Wrong key: the ISIM's K is not the HSS's; AUTN fails the MAC check.
[ "$WRONG" = 1 ] && UE_ARGS+=(--k 000102030405060708090a0b0c0d0e0f --expect mac-failure)
[ "$NETDEREG" = 1 ] && UE_ARGS+=(--net-dereg) && SC_ARGS+=(--net-dereg)
# TS 33.328 6.2.1.2: SDES keys only over a SIP hop with confidentiality; an
# SA with ealg null is none, so the call's keys are refused
KEYREF=0
case "$POLICY" in */null) KEYREF=1 ;; esac
[ "$CONF" = never ] && KEYREF=1

run_flow() {
    local ms=$((TMO * 1000)) s p u
    # Whatever happens, nothing we started outlives the demo.
    trap 'kill $s $p $u 2>/dev/null' INT TERM
    "${IN_NET[@]}" "$BUILD/scscf" --pcap "$PCAP" --timeout-ms "$ms" "${SC_ARGS[@]}" &
    s=$!
    # Start in order and give each a moment to bind its sockets.
    sleep 0.3
    "${IN_NET[@]}" "$BUILD/pcscf" --pcap "$PCAP" --esp-keys "$ESPKEYS" --timeout-ms "$ms" "${PC_ARGS[@]}" &
    p=$!
    sleep 0.3
    "${IN_UE[@]}" timeout "$TMO" "$BUILD/ue" --pcap "$PCAP" --esp-keys "$ESPKEYS" --timeout-ms 5000 "${UE_ARGS[@]}" &
    u=$!
    wait "$u"; echo $? >"$OUT/rc.ue"
    # The network side ends by itself once the flow is over; bounded anyway.
    for x in "$p:pcscf" "$s:scscf"; do
        local pid=${x%%:*} name=${x#*:} n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null
            echo "$name did not finish: killed"
        fi
        wait "$pid"; echo $? >"$OUT/rc.$name"
    done
}

echo "== imssec demo: mode=$MODE transport=$TRANSPORT dataplane=ue:$UE_DP,pcscf:$PC_DP ipv6=$IPV6 policy=${POLICY:-default} sync-failure=$SYNC wrong-key=$WRONG net-dereg=$NETDEREG core=$([ "$CORE_TLS" = 1 ] && echo tls || echo udp)"
if [ "$MODE" = transport ]; then
    echo "   UE $UE_IP (netns $NS_UE) -- P-CSCF $NET_IP port 5060 -- S-CSCF/HSS $NET_IP port 5070 (netns $NS_NET)"
    echo "   --> unprotected SIP   ==> ESP (transport mode, IP protocol 50)   SA+/SA- SA created/deleted   (SIP over $TRANSPORT)"
elif [ "$IPV6" = 1 ]; then
    echo "   UE (fd00::20 behind a NAT) -- P-CSCF [::1]:5060/4500 -- S-CSCF/HSS [::1]:5070"
    echo "   --> unprotected SIP   ==> ESP (UDP-encapsulated tunnel mode)   SA+/SA- SA created/deleted   (SIP over $TRANSPORT)"
else
    echo "   UE (192.168.1.20 behind a NAT) -- P-CSCF 127.0.0.1:5060/4500 -- S-CSCF/HSS 127.0.0.1:5070"
    echo "   --> unprotected SIP   ==> ESP (UDP-encapsulated tunnel mode)   SA+/SA- SA created/deleted   (SIP over $TRANSPORT)"
fi
echo
run_flow 2>&1 | tee "$OUT/ladder.txt"
# Kernel ESP: what iproute2 sees in both namespaces once the programs ended
# (before the namespaces go): no SA or policy with the adapter's tag.
if [ "$XFRM" = 1 ]; then
    for ns in "$NS_UE" "$NS_NET"; do
        echo "netns $ns: ip xfrm state"; ip -n "$ns" xfrm state
        echo "netns $ns: ip xfrm policy"; ip -n "$ns" xfrm policy
    done >"$OUT/xfrm-after" 2>&1
fi

# ---- verdict ----------------------------------------------------------------
echo
echo "== outcome"
L="$OUT/ladder.txt"
FIRST_FAIL=""
note_fail() { [ -n "$FIRST_FAIL" ] || FIRST_FAIL="$1"; echo "  missing or failed: $1"; }

if [ "$WRONG" = 1 ]; then
    need="register-challenge aka-network-failure registration-refused pcscf-refused"
    [ "$CORE_TLS" = 1 ] && need="$need pcscf-core-tls scscf-core-tls"
else
    need="pcscf-negotiate pcscf-keys register-challenge aka sa-created pcscf-security-verify
          pcscf-security-client pcscf-protected-register scscf-auth register ue-message
          pcscf-replay-dropped pcscf-unprotected-dropped ue-refused-traffic
          network-message pcscf-response-sa network-message-answered reregister
          pending-on-old-sa old-sa-deleted pcscf-switch-over switch-over e2ae pcscf-e2ae"
    # the call (TS 33.328 7.2.1), or the refused key (6.2.1.2)
    if [ "$KEYREF" = 1 ]; then
        need="$need call-key-refused"
    else
        need="$need call-offer call-alg-offer call-core-offer call-alg-answer call-answer
              call-srtp-ue call-gw call-rtp-core call-bye"
    fi
    if [ "$NETDEREG" = 1 ]; then
        need="$need net-dereg pcscf-net-dereg scscf-net-dereg"
    else
        need="$need deregister-response pcscf-dereg deregister"
    fi
    [ "$SYNC" = 1 ] && need="$need aka-sync-failure hss-resync aka-resync"
    [ "$TRANSPORT" = tcp ] && need="$need tcp-close"
    [ "$CORE_TLS" = 1 ] && need="$need pcscf-core-tls scscf-core-tls"
fi
for step in $need; do
    grep -q "| VERIFIED $step:" "$L" || note_fail "$step"
done
# The kernel's SAs read back after every change equal sa/'s table, and
# none is left at the end, on each side that uses the kernel.
for x in "UE:$UE_DP" "P-CSCF:$PC_DP"; do
    [ "${x#*:}" = xfrm ] || continue
    r=${x%%:*}
    # (a refused registration leaves the UE without any SA to read back)
    [ "$WRONG" = 1 ] && [ "$r" = UE ] || grep -q "^$r *| VERIFIED xfrm-match:" "$L" || note_fail "xfrm-match ($r)"
    grep -q "^$r *| VERIFIED xfrm-none-left:" "$L" || note_fail "xfrm-none-left ($r)"
done
# Any FAILED / NOTIMPL line fails the run, whatever step it belongs to.
while IFS= read -r l; do
    st=${l#*| FAILED }
    st=${st#*| NOTIMPL }
    note_fail "${st%%:*}"
done < <(grep -E '\| (FAILED|NOTIMPL) ' "$L")
# The negotiated pair is the one asked for.
if [ -n "$POLICY" ] && [ "$WRONG" = 0 ]; then
    grep -q "VERIFIED pcscf-negotiate: ipsec-3gpp $POLICY mod=$MODNAME" "$L" || note_fail "policy ($POLICY not negotiated)"
fi
if [ "$WRONG" = 0 ]; then
    grep -q "VERIFIED pcscf-negotiate: ipsec-3gpp .* mod=$MODNAME " "$L" || note_fail "mode (mod=$MODNAME not negotiated)"
    # TS 33.328 7.1.1: both ends indicated e2ae support
    grep -q "| VERIFIED pcscf-e2ae: imssec_sa_e2ae() = 1" "$L" || note_fail "pcscf-e2ae (e2ae not agreed)"
fi
for n in ue pcscf scscf; do
    rc=$(cat "$OUT/rc.$n" 2>/dev/null || echo none)
    [ "$rc" = 0 ] || note_fail "$n exit status $rc"
done
NV=$(grep -c '| VERIFIED ' "$L")
if [ "$XFRM" = 1 ]; then
    # iproute2 prints a reqid in decimal: 0x33203000 = 857747456
    nleft=$(grep -c -E 'reqid (857747456|0x33203000)([^0-9]|$)' "$OUT/xfrm-after")
    if [ "$nleft" = 0 ]; then
        echo "  VERIFIED xfrm-kernel-empty: after both programs ended, ip xfrm state / policy list nothing with reqid 0x33203000 in either namespace"
    else
        note_fail "xfrm-kernel-empty ($nleft entries with reqid 0x33203000 left: $OUT/xfrm-after)"
    fi
fi

# ---- Wireshark's ESP SA table, made by the CLI from the examples' key log ----
: >"$ESPSA"
if [ -s "$ESPKEYS" ]; then
    while read -r -a kargs; do
        if ! uat=$("$BUILD/imssec" wireshark-esp-sa "${kargs[@]}" 2>&1); then
            note_fail "esp_sa (imssec wireshark-esp-sa: $uat)"
            continue
        fi
        echo "${uat#uat=}" >>"$ESPSA"
    done <"$ESPKEYS"
fi

# ---- the capture ------------------------------------------------------------
# The call's media in the capture.  Wireshark learns the media ports from the
# SDP it decrypts inside ESP (the UE's leg: RTP/SAVP with a=crypto, so it
# decodes those packets as SRTP and shows their auth tags) and from the
# plain SIP of the core (RTP/AVP).  Wireshark cannot decrypt SRTP itself:
# `imssec srtp-decrypt-pcap` does, with the a=crypto lines Wireshark found
# inside ESP, on a copy of the UE's leg.
DECRYPTED=""
capture_media() {
    local ue_ports core_ports fue fcore nue ntag ncore ncoretag crypto ssrcs out
    ue_ports=$(tshark -r "$PCAP" "${TS[@]}" -Y 'esp && sdp' -T fields -e sdp.media.port 2>/dev/null | sort -u)
    core_ports=$(tshark -r "$PCAP" "${TS[@]}" -Y 'sdp && !esp' -T fields -e sdp.media.port 2>/dev/null | sort -u)
    fue=$(echo $ue_ports | sed 's/\([0-9][0-9]*\)/udp.dstport == \1/g; s/ udp/ || udp/g')
    fcore=$(echo $core_ports | sed 's/\([0-9][0-9]*\)/udp.dstport == \1/g; s/ udp/ || udp/g')
    if [ -z "$fue" ] || [ -z "$fcore" ]; then
        note_fail "capture-srtp (tshark found no SDP: UE leg '$ue_ports', core leg '$core_ports')"
        return
    fi
    echo "  tshark: the call's media, ports from the SDP (UE leg inside ESP: $(echo $ue_ports); core leg: $(echo $core_ports))"
    tshark -r "$PCAP" "${TS[@]}" -Y "rtp && ($fue)" -T fields -e ip.src -e ipv6.src -e udp.srcport \
        -e udp.dstport -e rtp.ssrc -e rtp.seq -e srtp.auth_tag 2>/dev/null >"$OUT/tshark-srtp.txt"
    nue=$(grep -c . "$OUT/tshark-srtp.txt")
    ntag=$(awk -F'\t' '$7 != ""' "$OUT/tshark-srtp.txt" | grep -c .)
    awk -F'\t' 'NR <= 2 || NR == n { printf "    SRTP %s:%s -> :%s ssrc=%s seq=%s auth_tag=%s\n", $1 $2, $3, $4, $5, $6, $7 }' \
        n="$nue" "$OUT/tshark-srtp.txt"
    ncore=$(tshark -r "$PCAP" "${TS[@]}" -Y "rtp && ($fcore)" -T fields -e rtp.ssrc 2>/dev/null | grep -c .)
    ncoretag=$(tshark -r "$PCAP" "${TS[@]}" -Y "srtp.auth_tag && ($fcore)" -T fields -e rtp.ssrc 2>/dev/null | grep -c .)
    if [ "$nue" -gt 0 ] && [ "$nue" = "$ntag" ] && [ "$ncore" -gt 0 ] && [ "$ncoretag" = 0 ]; then
        echo "  VERIFIED capture-srtp: Wireshark decoded $nue packets on the UE's leg as SRTP, each with its auth tag, and $ncore on the core leg as plain RTP"
    else
        note_fail "capture-srtp (UE leg: $ntag of $nue RTP packets with an SRTP auth tag; core leg: $ncore RTP packets, $ncoretag with a tag)"
        return
    fi
    # the UE leg alone, decrypted with the keys of its SDP
    crypto=$(tshark -r "$PCAP" "${TS[@]}" -Y 'esp && sdp' -T fields -e sdp.media_attr -E aggregator='#' 2>/dev/null |
        tr '#' '\n' | sed -n 's/^crypto:/a=crypto:/p')
    tshark -r "$PCAP" -F pcap -w "$OUT/ue-leg.pcap" -Y "$(echo "$fue" | sed 's/dstport/port/g')" >/dev/null 2>&1
    DECRYPTED="$OUT/demo-srtp-decrypted.pcap"
    if out=$("$BUILD/imssec" srtp-decrypt-pcap --in "$OUT/ue-leg.pcap" --out "$DECRYPTED" --crypto "$crypto" 2>&1) &&
        [ "$(echo "$out" | sed -n 's/^decrypted.srtp=//p')" = $((nue - 1)) ] &&
        [ "$(echo "$out" | sed -n 's/^failed.icv_failure=//p')" = 1 ]; then
        echo "  VERIFIED capture-srtp-decrypted: imssec srtp-decrypt-pcap with the $(echo "$crypto" | grep -c .) a=crypto lines found inside ESP: $((nue - 1)) of $nue SRTP packets decrypted, 1 refused (the tampered one) -> $DECRYPTED"
        command -v xxd >/dev/null 2>&1 &&
            echo "    first payload in clear: \"$(tshark -r "$DECRYPTED" -o sdp.establish_conversation:FALSE \
                $(for p in $ue_ports; do echo "-d udp.port==$p,rtp"; done) -Y rtp -T fields -e rtp.payload \
                2>/dev/null | head -n 1 | xxd -r -p | head -c 60)...\""
    else
        note_fail "capture-srtp-decrypted (imssec srtp-decrypt-pcap: $(echo $out))"
    fi
}

if [ "$XFRM" = 1 ]; then
    echo "  (kernel ESP: the examples' capture holds what they sent themselves, not the kernel's ESP: no tshark check)"
elif command -v tshark >/dev/null 2>&1 && [ -s "$PCAP" ]; then
    TS=(-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE)
    while IFS= read -r line; do TS+=(-o "uat:esp_sa:$line"); done <"$ESPSA"
    if [ "$CORE_TLS" = 1 ]; then
        # The core hop: TLS records on TCP 5070 and no SIP in clear on it;
        # with the P-CSCF's key log Wireshark decrypts the SIP inside
        TLSOPT=(-d tcp.port==5070,tls -d tls.port==5070,sip)
        nrec=$(tshark -r "$PCAP" "${TLSOPT[@]}" -Y 'tcp.port == 5070 && tls.record' -T fields -e frame.number 2>/dev/null | grep -c .)
        nclear=$(tshark -r "$PCAP" -Y 'tcp.port == 5070 && sip' -T fields -e frame.number 2>/dev/null | grep -c .)
        ntls=$(tshark -r "$PCAP" "${TLSOPT[@]}" -o "tls.keylog_file:$KEYLOG" -Y 'tcp.port == 5070 && tls && sip' \
            -T fields -e frame.number 2>/dev/null | grep -c .)
        if [ "$nrec" -gt 0 ] && [ "$nclear" = 0 ] && [ "$ntls" -gt 0 ]; then
            echo "  VERIFIED capture-core-tls: $nrec TLS frames on the P-CSCF <-> S-CSCF hop (TCP 5070), no SIP in clear there; with $KEYLOG Wireshark decrypted $ntls SIP messages inside TLS"
        else
            note_fail "capture-core-tls (tshark: $nrec TLS frames on TCP 5070, $nclear SIP in clear, $ntls decrypted with the key log)"
        fi
        TS+=("${TLSOPT[@]}" -o "tls.keylog_file:$KEYLOG")
    fi
    echo "  tshark, decrypting $PCAP with $ESPSA: SIP requests carried inside ESP"
    tshark -r "$PCAP" "${TS[@]}" -Y 'esp && sip.Method' -T fields -e esp.spi -e esp.icv_good \
        -e sip.Request-Line 2>/dev/null >"$OUT/tshark.txt"
    sed 's/^\([^\t]*\)\t\([^\t]*\)\t/    spi=\1 icv_good=\2  /' "$OUT/tshark.txt"
    nesp=$(tshark -r "$PCAP" "${TS[@]}" -Y esp -T fields -e esp.icv_good 2>/dev/null | grep -c .)
    ngood=$(tshark -r "$PCAP" "${TS[@]}" -Y 'esp.icv_good == 1' -T fields -e esp.spi 2>/dev/null | grep -c .)
    nreq=$(grep -c . "$OUT/tshark.txt")
    if [ "$WRONG" = 1 ]; then
        [ "$nesp" = 0 ] && echo "  VERIFIED capture: no ESP packet on the wire" || note_fail "capture ($nesp ESP packets)"
    elif [ "$nesp" -gt 0 ] && [ "$nesp" = "$ngood" ] && [ "$nreq" -gt 0 ]; then
        echo "  VERIFIED capture: Wireshark checked the ICV of all $nesp ESP packets and decrypted $nreq SIP requests"
    else
        note_fail "capture (tshark: $ngood of $nesp ESP ICVs good, $nreq requests decrypted)"
    fi
    if [ "$WRONG" = 0 ] && command -v python3 >/dev/null 2>&1; then
        # the UE's side as Wireshark read it: what real P-CSCFs expect of a
        # UE (TS 24.229 5.1.1.2, 5.1.1.5; TS 33.203 7.1, 7.4)
        tshark -r "$PCAP" "${TS[@]}" -Y 'sip && (esp || udp.port == 5060 || tcp.port == 5060)' \
            -T fields -E aggregator='#' -e frame.number -e esp.spi -e udp.srcport -e udp.dstport \
            -e tcp.srcport -e tcp.dstport -e sip.Method -e sip.Status-Code -e sip.CSeq -e sip.Call-ID \
            -e sip.Via -e sip.Contact -e sip.Security-Server -e sip.Security-Verify \
            2>/dev/null >"$OUT/tshark-sip.tsv"
        while IFS= read -r l; do
            echo "  $l"
            case $l in FAILED*) st=${l#FAILED }; note_fail "${st%%:*}" ;; esac
        done < <(python3 examples/capture_check.py "$OUT/tshark-sip.tsv" "$TRANSPORT")
    fi
    if [ "$WRONG" = 0 ] && [ "$KEYREF" = 0 ]; then
        capture_media
    elif [ "$KEYREF" = 1 ]; then
        n=$(tshark -r "$PCAP" "${TS[@]}" -Y 'rtp || sdp' -T fields -e frame.number 2>/dev/null | grep -c .)
        [ "$n" = 0 ] && echo "  VERIFIED capture-no-call: no SDP and no RTP on the wire (the keys were refused)" ||
            note_fail "capture-no-call ($n SDP / RTP packets)"
    fi
else
    echo "  (tshark not installed: open $PCAP in Wireshark with $ESPSA as its ESP SA table)"
fi
echo "  files: $L, $PCAP, $ESPKEYS, $ESPSA${DECRYPTED:+, $DECRYPTED}$([ "$CORE_TLS" = 1 ] && echo ", $TLSD/")"

if [ -z "$FIRST_FAIL" ]; then
    if [ "$WRONG" = 1 ]; then
        echo "VERIFIED: wrong key rejected -- MAC failure detected by the UE, registration refused, no SA on either side ($NV checks)"
    else
        if [ "$KEYREF" = 1 ]; then
            call="the call's SDES keys refused on SAs without encryption (no call)"
        else
            call="a call with SRTP between the UE and the IMS Access GW, RTP in the core"
        fi
        if [ "$NETDEREG" = 1 ]; then
            end="the network's reg-event NOTIFY ended the registration and removed every SA"
        else
            end="de-registration removed every SA"
        fi
        dp=""
        [ "$XFRM" = 1 ] && dp=" (data plane: UE $UE_DP, P-CSCF $PC_DP; kernel SAs = sa/'s after every step, none left)"
        echo "VERIFIED: all steps ($NV checks)$dp: registration, MESSAGE both ways over the SAs, re-registration with SA switch-over, $call, $end"
    fi
    exit 0
fi
echo "FAILED: $FIRST_FAIL (see $L)"
exit 1
