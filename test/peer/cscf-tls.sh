#!/usr/bin/env bash
# cscf-tls.sh (peer test) -- the P-CSCF <-> S-CSCF hop over TLS (issue 13;
# TS 33.203 6.5 as changed by the CRs on TLS between CSCFs: "the CSCF shall
# verify the name on the certificate against the list of the interworking
# partners"), with examples/minimal_ue.c as the UE and certificates made by
# build/mkcert at run time:
#   ok            registration, MESSAGE, re-registration, de-registration over
#                 mutual TLS; both ladders name the partner verified; tshark
#                 (mbedTLS is the other side of nothing here: Wireshark is the
#                 independent reader) sees TLS records and no SIP in clear on
#                 TCP 5070, and with the P-CSCF's key log decrypts the SIP
#   wrong-name    the S-CSCF's certificate names scscf.evil.example (same CA):
#                 the P-CSCF ends the handshake naming it and clause 6.5, the
#                 REGISTER is not forwarded, the S-CSCF never sees SIP
#   wrong-ca      the S-CSCF's certificate has the right name but another CA:
#                 refused, REGISTER not forwarded
#   client-name   the P-CSCF's client certificate names pcscf.evil.example:
#                 the S-CSCF refuses it (mutual TLS), REGISTER not forwarded
# Prints PASS/FAIL/SKIP lines; always exits 0 (the runner counts the lines).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$BUILD/peer/cscf-tls
rm -rf "$OUT"
mkdir -p "$OUT"

if ! out=$(make -s BUILD="$BUILD" examples 2>&1); then
    echo "FAIL cscf-tls-build: make examples failed: $(echo "$out" | grep -m1 -E 'error|undefined' || echo "$out" | tail -n 1)"
    exit 0
fi
C=$OUT/certs
mkdir -p "$C"
if ! "$BUILD/mkcert" "$C" ca=demo-ca ca=other-ca pcscf=pcscf.ims.example.net@demo-ca \
    scscf=scscf.ims.example.net@demo-ca evil=scscf.evil.example@demo-ca \
    foreign=scscf.ims.example.net@other-ca pcscf-evil=pcscf.evil.example@demo-ca >"$C/mkcert.log" 2>&1; then
    echo "FAIL cscf-tls-mkcert: $(tail -n 1 "$C/mkcert.log")"
    exit 0
fi
echo "PASS cscf-tls-mkcert: test CA and ECDSA P-256 certificates made by $BUILD/mkcert"

# The network side listens on fixed ports: one demo at a time (demo.sh's lock).
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/imssec-demo.lock"
    flock -w 180 9 || { echo "FAIL cscf-tls: another demo is still running"; exit 0; }
fi
HAVE_TSHARK=0
command -v tshark >/dev/null 2>&1 && HAVE_TSHARK=1

# flow NAME SCSCF_CERT PCSCF_CERT TIMEOUT_MS: run the three programs.
# Sets RC_UE RC_P RC_S; logs in $OUT/NAME/.
flow() {
    local d=$OUT/$1 sc=$2 pc=$3 ms=$4 s p
    mkdir -p "$d"
    "$BUILD/scscf" --timeout-ms "$ms" --pcap "$d/core.pcap" --core-tls --ca "$C/demo-ca.crt" \
        --cert "$C/$sc.crt" --key "$C/$sc.key" --partners pcscf.ims.example.net >"$d/scscf.log" 2>&1 &
    s=$!
    sleep 0.3
    "$BUILD/pcscf" --timeout-ms "$ms" --pcap "$d/core.pcap" --core-tls --ca "$C/demo-ca.crt" \
        --cert "$C/$pc.crt" --key "$C/$pc.key" --partners scscf.ims.example.net,icscf.ims.example.net \
        --tls-keylog "$d/keylog" >"$d/pcscf.log" 2>&1 &
    p=$!
    sleep 0.3
    timeout 30 "$BUILD/minimal_ue" >"$d/ue.log" 2>&1
    RC_UE=$?
    for x in p s; do
        local pid=${!x} k=0
        while kill -0 "$pid" 2>/dev/null && [ $k -lt 100 ]; do sleep 0.1; k=$((k + 1)); done
        kill "$pid" 2>/dev/null
        wait "$pid"
        eval "RC_${x^^}=$?"
    done
}

# check NAME CONDITION-TEXT: PASS/FAIL with the first missing thing.
WHY=""
need() { # need FILE FIXED-STRING
    grep -qF -- "$2" "$1" || { [ -n "$WHY" ] || WHY="missing in $1: $2"; }
}
needno() { # needno FILE FIXED-STRING
    ! grep -qF -- "$2" "$1" || { [ -n "$WHY" ] || WHY="unexpected in $1: $(grep -m1 -F -- "$2" "$1")"; }
}
verdict() {
    if [ -z "$WHY" ]; then echo "PASS $1"; else echo "FAIL $1: $WHY"; fi
    WHY=""
}
TLSOPT=(-d tcp.port==5070,tls -d tls.port==5070,sip)

# ---- 1: the good certificates ---------------------------------------------------
flow ok scscf pcscf 15000
d=$OUT/ok
last=$(tail -n 1 "$d/ue.log")
[ "$RC_UE" = 0 ] && [ "${last#VERIFIED minimal-ue:}" != "$last" ] || WHY="ue exit $RC_UE: $last"
[ "$RC_P" = 0 ] && [ "$RC_S" = 0 ] || WHY="${WHY:-pcscf exit $RC_P, scscf exit $RC_S}"
need "$d/pcscf.log" '| VERIFIED pcscf-core-tls: TLS with the S-CSCF 127.0.0.1:5070 up (TLSv1.2'
need "$d/pcscf.log" 'its server certificate chains to --ca and names scscf.ims.example.net (dNSName)'
need "$d/pcscf.log" 'interworking partner "scscf.ims.example.net" (TS 33.203 6.5, imssec_tls_partner_check)'
need "$d/scscf.log" '| VERIFIED scscf-core-tls: TLS with the P-CSCF'
need "$d/scscf.log" 'its client certificate chains to --ca and names pcscf.ims.example.net (dNSName)'
need "$d/scscf.log" 'interworking partner "pcscf.ims.example.net"'
need "$d/pcscf.log" '--> REGISTER sip:ims.example.net SIP/2.0     to S-CSCF, TLS'
need "$d/pcscf.log" '--> MESSAGE sip:service@ims.example.net SIP/2.0 to S-CSCF, TLS'
need "$d/scscf.log" 'VERIFIED scscf-auth:'
need "$d/scscf.log" 'is the way to 127.0.0.1:6060 (Via alias, RFC 5923)'
need "$d/scscf.log" 'SIP/2.0 200 OK                           --> 127.0.0.1:'
needno "$d/pcscf.log" '| FAILED '
needno "$d/scscf.log" '| FAILED '
verdict cscf-tls-register-message
n=$(grep -c 'TLS handshake (RFC 3261 26.3.1)' "$d/pcscf.log")
if [ "$n" = 1 ]; then echo "PASS cscf-tls-one-connection: every SIP message of the flow on one TLS connection (6.5: it carries many dialogs)"
else echo "FAIL cscf-tls-one-connection: $n handshakes"; fi
if [ "$HAVE_TSHARK" = 1 ]; then
    nrec=$(tshark -r "$d/core.pcap" "${TLSOPT[@]}" -Y 'tcp.port == 5070 && tls.record' -T fields -e frame.number 2>/dev/null | grep -c .)
    napp=$(tshark -r "$d/core.pcap" "${TLSOPT[@]}" -Y 'tls.record.content_type == 23' -T fields -e frame.number 2>/dev/null | grep -c .)
    nclear=$(tshark -r "$d/core.pcap" -Y 'tcp.port == 5070 && sip' -T fields -e frame.number 2>/dev/null | grep -c .)
    nbytes=$(grep -c 'REGISTER sip:' "$d/core.pcap" 2>/dev/null)
    tshark -r "$d/core.pcap" "${TLSOPT[@]}" -o "tls.keylog_file:$d/keylog" -Y 'tls && sip' -T fields \
        -e sip.Request-Line -e sip.Status-Line 2>/dev/null >"$d/decrypted.txt"
    nreg=$(grep -c '^REGISTER sip:ims.example.net' "$d/decrypted.txt")
    nmsg=$(grep -c '^MESSAGE sip:service@ims.example.net' "$d/decrypted.txt")
    if [ "$nrec" -gt 0 ] && [ "$napp" -gt 0 ] && [ "$nclear" = 0 ] && [ "$nbytes" = 0 ] && [ "$nreg" -ge 2 ] && [ "$nmsg" -ge 1 ]; then
        echo "PASS cscf-tls-tshark: $nrec TLS frames ($napp application data) on TCP 5070, no SIP in clear (tshark, and no 'REGISTER sip:' bytes in the file); with the key log tshark decrypted $nreg REGISTERs, $nmsg MESSAGEs, $(grep -c . "$d/decrypted.txt") SIP messages in all"
    else
        echo "FAIL cscf-tls-tshark: $nrec TLS frames, $napp application data, $nclear SIP in clear, $nbytes cleartext REGISTERs, decrypted $nreg REGISTERs / $nmsg MESSAGEs"
    fi
else
    echo "SKIP cscf-tls-tshark: tshark not installed"
fi

# ---- 2..4: refused certificates ---------------------------------------------------
# refused NAME SCSCF_CERT PCSCF_CERT WHO-REFUSES LINE...: the REGISTER must
# not reach the S-CSCF's SIP layer, the UE must not register.
refused() {
    local name=$1 sc=$2 pc=$3 who=$4 d l
    shift 4
    flow "$name" "$sc" "$pc" 4000
    d=$OUT/$name
    [ "$RC_UE" != 0 ] || WHY="the UE registered (exit 0)"
    for l in "$@"; do need "$d/$who.log" "$l"; done
    need "$d/pcscf.log" '| FAILED send: no TLS connection to the S-CSCF: REGISTER sip:ims.example.net SIP/2.0 not sent'
    needno "$d/pcscf.log" 'to S-CSCF, TLS'
    need "$d/pcscf.log" 'SIP/2.0 503 Service Unavailable'
    needno "$d/scscf.log" 'HSS: AKA vector'
    needno "$d/scscf.log" 'VERIFIED scscf-core-tls'
    needno "$d/pcscf.log" 'VERIFIED pcscf-core-tls'
    if [ "$HAVE_TSHARK" = 1 ]; then
        local napp nalert
        napp=$(tshark -r "$d/core.pcap" "${TLSOPT[@]}" -Y 'tls.record.content_type == 23' -T fields -e frame.number 2>/dev/null | grep -c .)
        nalert=$(tshark -r "$d/core.pcap" "${TLSOPT[@]}" -Y 'tls.record.content_type == 21' -T fields -e frame.number 2>/dev/null | grep -c .)
        [ "$napp" = 0 ] || WHY="${WHY:-tshark: $napp application data records after a refused handshake}"
        [ "$nalert" -gt 0 ] || WHY="${WHY:-tshark: no TLS alert on the wire}"
    fi
    verdict "cscf-tls-$name"
}
refused wrong-name evil pcscf pcscf \
    '| FAILED pcscf-core-tls: TLS with the S-CSCF 127.0.0.1:5070 ended in the handshake: certificate name(s) scscf.evil.example (dNSName), scscf.evil.example (CN) not in the list of interworking partners [scscf.ims.example.net,icscf.ims.example.net] (TS 33.203 6.5'
refused wrong-ca foreign pcscf pcscf \
    '| FAILED pcscf-core-tls: TLS with the S-CSCF 127.0.0.1:5070 ended in the handshake: certificate scscf.ims.example.net (dNSName), scscf.ims.example.net (CN): The certificate is not correctly signed by the trusted CA'
refused client-name scscf pcscf-evil scscf \
    '| FAILED scscf-core-tls: TLS with the P-CSCF 127.0.0.1:' \
    'certificate name(s) pcscf.evil.example (dNSName), pcscf.evil.example (CN) not in the list of interworking partners [pcscf.ims.example.net] (TS 33.203 6.5'
# the other end of each refusal: told, not itself failing a check
need "$OUT/wrong-name/scscf.log" 'the P-CSCF ended the handshake'
need "$OUT/wrong-ca/scscf.log" 'the P-CSCF ended the handshake'
need "$OUT/client-name/pcscf.log" 'the S-CSCF ended the handshake'
needno "$OUT/wrong-name/scscf.log" '| FAILED scscf-core-tls'
needno "$OUT/client-name/pcscf.log" '| FAILED pcscf-core-tls'
verdict cscf-tls-peer-sees-refusal
exit 0
