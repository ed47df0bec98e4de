#!/usr/bin/env bash
# demo.sh (peer test) -- `make demo` in its main variations: the UE, P-CSCF
# and S-CSCF/HSS examples run the whole flow and each variation must end with
# the verified outcome, not only exit 0.  Wireshark (tshark) is the
# independent peer for the packets: it must verify every ESP ICV and decrypt
# the SIP requests with the keys the examples logged (its esp_sa table made
# by `imssec wireshark-esp-sa`), and, after the call, find SRTP with auth
# tags on the UE's leg (from the SDP inside ESP) and plain RTP in the core,
# and the UE's SIP in that decryption must follow TS 24.229 / 33.203 7.1
# (examples/capture_check.py).
# Prints PASS/FAIL/SKIP lines; always exits 0 (the runner counts the lines).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUTB=$BUILD/peer/demo
mkdir -p "$OUTB"

if ! out=$(make -s BUILD="$BUILD" examples "$BUILD/imssec" 2>&1); then
    echo "FAIL demo-build: make examples failed: $(echo "$out" | grep -m1 -E 'error|undefined' || echo "$out" | tail -n 1)"
    exit 0
fi
HAVE_TSHARK=0
command -v tshark >/dev/null 2>&1 && HAVE_TSHARK=1

# run NAME "demo options" "line that must appear" ...
run() {
    local name=$1 opts=$2 log rc last want ok=1 why=""
    shift 2
    log="$OUTB/$name.out"
    # shellcheck disable=SC2086
    timeout 120 bash examples/demo.sh --no-build --out "$OUTB/$name" --timeout 20 $opts >"$log" 2>&1
    rc=$?
    last=$(tail -n 1 "$log")
    if [ "$rc" != 0 ]; then
        ok=0 why="exit $rc: $last"
    elif [ "${last#VERIFIED: }" = "$last" ]; then
        ok=0 why="last line is not VERIFIED: $last"
    elif grep -qE '\| (FAILED|NOTIMPL) ' "$log"; then
        ok=0 why="$(grep -m1 -E '\| (FAILED|NOTIMPL) ' "$log")"
    else
        for want in "$@"; do
            if ! grep -qF -- "$want" "$log"; then
                ok=0 why="missing: $want"
                break
            fi
        done
    fi
    if [ $ok = 1 ]; then echo "PASS demo-$name"; else echo "FAIL demo-$name: $why (log: $log)"; fi
    if [ $ok = 1 ] && [ "$HAVE_TSHARK" = 1 ]; then
        if grep -q '| VERIFIED call-srtp-ue:' "$log" && ! grep -q '  VERIFIED capture-srtp-decrypted:' "$log"; then
            echo "FAIL demo-$name-tshark: $(grep -m1 'capture-srtp' "$log" || echo 'no SRTP verdict for the call')"
        elif grep -q '  VERIFIED capture:' "$log"; then
            echo "PASS demo-$name-tshark"
        else
            echo "FAIL demo-$name-tshark: $(grep -m1 'capture' "$log" || echo 'no capture verdict')"
        fi
        # examples/capture_check.py: the UE's side as Wireshark decoded it
        # (TS 24.229 5.1.1.2, 5.1.1.5; TS 33.203 7.1)
        if ! grep -q 'VERIFIED: wrong key rejected' "$log"; then
            n=$(grep -c '  VERIFIED capture-24229-' "$log")
            if [ "$n" -ge 7 ] && ! grep -q 'FAILED capture-24229-' "$log"; then
                echo "PASS demo-$name-24229: $n checks of the decrypted capture"
            else
                echo "FAIL demo-$name-24229: $(grep -m1 'FAILED capture-24229-' "$log" || echo "$n checks")"
            fi
        fi
    fi
}

REG=("VERIFIED register:" "VERIFIED ue-message:" "VERIFIED network-message:"
    "VERIFIED reregister:" "VERIFIED pending-on-old-sa:" "VERIFIED old-sa-deleted:"
    "VERIFIED pcscf-switch-over:" "VERIFIED pcscf-protected-register:" "VERIFIED scscf-auth:"
    "VERIFIED switch-over:")
COMMON=("${REG[@]}" "VERIFIED pcscf-dereg:" "VERIFIED deregister: 200: every SA deleted (data plane 0, sa/ 0)")
# The call after registration (TS 33.328 7.1.1, 7.2.1): e2ae indicated at
# both ends, the UE's offer, the IMS-ALG's two rewrites, plain RTP/AVP in
# the core, SRTP between the UE and the IMS Access GW, RTP behind it, BYE.
CALL=("VERIFIED e2ae: imssec_sa_e2ae() = 1" "VERIFIED pcscf-e2ae: imssec_sa_e2ae() = 1"
    "VERIFIED call-offer: INVITE offer made by imssec_sdp_ue_offer: RTP/SAVP, 2 a=crypto"
    "VERIFIED call-alg-offer: imssec_sdp_alg_orig_offer: a=crypto:1 AES_CM_128_HMAC_SHA1_80 selected (K11)"
    "VERIFIED call-core-offer: INVITE offer in the core: RTP/AVP, no a=crypto, no a=3ge2ae"
    "VERIFIED call-alg-answer: imssec_sdp_alg_orig_answer: RTP/AVP -> RTP/SAVP"
    "VERIFIED call-answer: 200 OK on"
    "VERIFIED call-srtp-ue: 100 RTP frames protected (AES_CM_128_HMAC_SHA1_80, 10-byte tag) and 100 SRTP packets from the gateway authenticated and decrypted, 0 failures"
    "VERIFIED call-gw: IMS Access GW: 100 SRTP packets from the UE authenticated and decrypted (K11), passed on as RTP (100); 100 RTP packets from the core protected (K12) towards the UE (100); 1 refused (IMSSEC_E_ICV"
    "VERIFIED call-rtp-core: 100 RTP packets from the IMS Access GW, all plain RTP"
    "VERIFIED call-bye: BYE answered 200")
# The network-initiated de-registration (TS 33.203 7.4.1a, 7.4.2a; RFC 3680).
NETDEREG=("VERIFIED pcscf-net-dereg: reg-event NOTIFY passed to the UE on"
    "its 200 sent on to the S-CSCF, then every SA deleted (data plane 0, sa/ 0)"
    "accepted by sa/ (MSG_IN, the 7.1 carrier); 200 OK sent on"
    "VERIFIED scscf-net-dereg: the UE answered the reg-event NOTIFY with 200")

run default "" "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=UDP-enc-tun" "${COMMON[@]}" \
    "${CALL[@]}" "core=tls" "VERIFIED pcscf-core-tls:" "VERIFIED scscf-core-tls:"
run md5-3des "--policy hmac-md5-96/des-ede3-cbc" \
    "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-md5-96/des-ede3-cbc mod=UDP-enc-tun" "${COMMON[@]}"
run sha1-null "--policy hmac-sha-1-96/null" \
    "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/null mod=UDP-enc-tun" "${COMMON[@]}" \
    "VERIFIED e2ae: imssec_sa_e2ae() = 1" \
    "VERIFIED call-key-refused: imssec_sdp_ue_offer: IMSSEC_E_INSECURE (TS 33.328 6.2.1.2)" \
    "no SDES key is sent and no call is set up"
run sync-failure "--sync-failure" "VERIFIED aka-sync-failure:" "VERIFIED hss-resync: AUTS verified" \
    "VERIFIED aka-resync:" "SQN 0x000000100020 accepted" "${COMMON[@]}"
run net-dereg "--net-dereg" "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=UDP-enc-tun" \
    "${REG[@]}" "${CALL[@]}" "${NETDEREG[@]}"
run wrong-key "--wrong-key" "VERIFIED aka-network-failure:" "VERIFIED registration-refused: the network answered 403" \
    "VERIFIED pcscf-refused:" "VERIFIED: wrong key rejected"

# Negative control: a P-CSCF that requires encryption but allows only
# hmac-sha-1-96/null can agree on nothing (7.3.2.1); the demo must fail and
# name the step.
out=$(timeout 60 bash examples/demo.sh --no-build --out "$OUTB/refused" --timeout 10 \
    --policy hmac-sha-1-96/null --confidentiality required 2>&1)
rc=$?
last=$(echo "$out" | tail -n 1)
if [ "$rc" = 1 ] && [ "${last#FAILED: pcscf-negotiate}" != "$last" ] &&
    echo "$out" | grep -q '| FAILED pcscf-negotiate: clause 7.3.2.1'; then
    echo "PASS demo-negative-control"
else
    echo "FAIL demo-negative-control: exit $rc: $last"
fi

# Transport mode: root only (network namespaces, raw ESP sockets).
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1 && ip netns list >/dev/null 2>&1; then
    run transport "--mode transport" "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=trans" \
        "transport mode" "${COMMON[@]}" "${CALL[@]}"
    run transport-sync-failure "--mode transport --sync-failure" "VERIFIED aka-sync-failure:" \
        "VERIFIED hss-resync: AUTS verified" "${COMMON[@]}"
    run transport-ipv6 "--mode transport --ipv6" \
        "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=trans" "${COMMON[@]}" "${CALL[@]}"
    run transport-tcp "--mode transport --transport tcp" \
        "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=trans" \
        "VERIFIED pcscf-response-sa:" "on its TCP connection" "VERIFIED tcp-close:" "${COMMON[@]}" \
        "${CALL[@]}"
    run transport-ipv6-tcp "--mode transport --ipv6 --transport tcp" \
        "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=trans" \
        "VERIFIED tcp-close:" "${COMMON[@]}" "${CALL[@]}"
    run transport-net-dereg "--mode transport --net-dereg" \
        "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=trans" "${REG[@]}" "${CALL[@]}" \
        "${NETDEREG[@]}"
else
    echo "SKIP demo-transport: needs root and iproute2 (network namespaces, raw ESP sockets)"
fi

run ipv6 "--ipv6" "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=UDP-enc-tun" \
    "NAT detected: the P-CSCF saw us as [::1]" "${COMMON[@]}" "${CALL[@]}"
run ipv6-wrong-key "--ipv6 --wrong-key" "VERIFIED aka-network-failure:" "VERIFIED registration-refused:"

# SIP over TCP (TS 33.203 7.1 TCP case): the unprotected REGISTER on a kernel
# TCP connection, inside the SAs the examples' user-space TCP; the answer to
# the P-CSCF's request must come back on that request's connection, and the
# old set's client connection is closed with FIN after the re-registration.
TCP=("VERIFIED pcscf-response-sa:" "on its TCP connection" "VERIFIED tcp-close:" "unprotected, TCP")
run tcp "--transport tcp" "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-sha-1-96/aes-cbc mod=UDP-enc-tun" \
    "${TCP[@]}" "${COMMON[@]}" "${CALL[@]}"
run tcp-net-dereg "--transport tcp --net-dereg" "${TCP[@]}" "${REG[@]}" "${CALL[@]}" "${NETDEREG[@]}"
run tcp-sync-failure "--transport tcp --sync-failure" "VERIFIED aka-sync-failure:" \
    "VERIFIED hss-resync: AUTS verified" "VERIFIED aka-resync:" "${TCP[@]}" "${COMMON[@]}"
run tcp-md5-3des "--transport tcp --policy hmac-md5-96/des-ede3-cbc" \
    "VERIFIED pcscf-negotiate: ipsec-3gpp hmac-md5-96/des-ede3-cbc mod=UDP-enc-tun" "${TCP[@]}" \
    "${COMMON[@]}"
run tcp-ipv6 "--transport tcp --ipv6" "NAT detected: the P-CSCF saw us as [::1]" "${TCP[@]}" \
    "${COMMON[@]}" "${CALL[@]}"
run tcp-wrong-key "--transport tcp --wrong-key" "VERIFIED aka-network-failure:" \
    "VERIFIED registration-refused: the network answered 403" "VERIFIED: wrong key rejected"

# The P-CSCF <-> S-CSCF hop: every run above has it over TLS (the demo's
# default, TS 33.203 6.5; its checks pcscf-core-tls, scscf-core-tls and
# capture-core-tls); the plain UDP hop of --core-udp still works.
run core-udp "--core-udp" "core=udp" "${COMMON[@]}" "${CALL[@]}"

exit 0
