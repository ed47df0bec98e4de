#!/usr/bin/env bash
# esp-tshark.sh -- Wireshark's ESP dissector (tshark) as an independent
# verifier of the packets build/imssec makes: for each SA kind it decrypts
# them with the line from `imssec wireshark-esp-sa`, checks the ICV
# ([correct]) and that the decrypted inner UDP payload is the one we sent;
# a packet with one flipped ICV bit must show as [incorrect].
# tshark 4.0 has no Seqh in its SA table, so ESN is not checked here (the
# kernel harness and test_esp_interop.c cover it).
# Run from the repo root; BUILD defaults to build.  Prints PASS/FAIL/SKIP
# lines and exits 0.
set -u
BUILD=${BUILD:-build}
IMS=$BUILD/imssec
PY=/usr/bin/python3
if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP esp-tshark: tshark is not installed (Debian package tshark)"
    exit 0
fi
if [ ! -x "$PY" ]; then
    echo "SKIP esp-tshark: /usr/bin/python3 is missing (used to write the pcap)"
    exit 0
fi
if [ ! -x "$IMS" ]; then
    echo "FAIL esp-tshark: $IMS not built"
    exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/esp-tshark.XXXXXX")
trap 'rm -rf "$W"' EXIT

AK20=0102030405060708090a0b0c0d0e0f1011121314
AK16=3132333435363738393a3b3c3d3e3f40
EK16=00112233445566778899aabbccddeeff
EK24=0123456789abcdef23456789abcdef01456789abcdef0123
EK20=00112233445566778899aabbccddeeffcafebabe

# plain NAME FAMILY PAYLOAD_HEX -> a UDP 49152 -> 49153 packet (hex) on stdout;
# tshark is told to show that port as plain data (random bytes would
# otherwise trip a dissector and end the frame before the ICV check)
plain() {
    "$PY" - "$1" "$2" "$3" <<'EOF'
import sys, struct
fam, payload = sys.argv[2], bytes.fromhex(sys.argv[3])
udp = struct.pack('!HHHH', 49152, 49153, 8 + len(payload), 0) + payload
if fam == '4':
    h = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0x1c46, 0x4000, 64, 17, 0,
                              bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])))
    s = sum(struct.unpack('!10H', bytes(h)))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    h[10:12] = struct.pack('!H', ~s & 0xffff)
    print((bytes(h) + udp).hex())
else:
    src = bytes.fromhex('fd000db8000100000000000000000001')
    dst = bytes.fromhex('fd000db8000100000000000000000002')
    print((struct.pack('!IHBB', 0x60000000, len(udp), 17, 64) + src + dst + udp).hex())
EOF
}

# pcap FILE HEX... -> a LINKTYPE_RAW (101) capture of the packets
pcap() {
    local f=$1
    shift
    "$PY" - "$f" "$@" <<'EOF'
import sys, struct
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    for i, h in enumerate(sys.argv[2:]):
        b = bytes.fromhex(h)
        f.write(struct.pack('<IIII', 1000 + i, 0, len(b), len(b)) + b)
EOF
}

# check NAME FAMILY MODE ALG AK EALG EK
check() {
    local name=$1 fam=$2 mode=$3 alg=$4 ak=$5 ealg=$6 ek=$7
    local src dst osrc odst ekopt="" akopt="" modeopt="" pkts=() payloads=() uat out i bad size
    if [ "$fam" = 4 ]; then src=192.0.2.1 dst=192.0.2.2; else src=fd00:db8:1::1 dst=fd00:db8:1::2; fi
    osrc=$src odst=$dst
    [ "$ealg" != null ] && ekopt="--enc-key $ek"
    [ "$alg" != null ] && akopt="--auth-key $ak"
    if [ "$mode" != transport ]; then
        if [ "$fam" = 4 ]; then osrc=198.51.100.1 odst=198.51.100.2; else osrc=fd00:db8:2::1 odst=fd00:db8:2::2; fi
        modeopt="--mode $mode --src $osrc --dst $odst"
    fi
    i=0
    for size in 0 1 2 3 15 16 17 31 100 1400; do
        i=$((i + 1))
        local pay pt p
        pay=$(head -c "$size" /dev/urandom | od -An -tx1 -v | tr -d ' \n')
        pt=$(plain "$name" "$fam" "$pay")
        p=$("$IMS" esp-protect --spi 0x1001 --seq "$i" --alg "$alg" --ealg "$ealg" $akopt \
            $ekopt $modeopt --packet "$pt" | sed -n 's/^packet=//p')
        if [ -z "$p" ]; then
            echo "FAIL esp-tshark $name: esp-protect failed for $size bytes"
            return
        fi
        pkts+=("$p")
        payloads+=("$pay")
    done
    # the last packet again with one ICV bit flipped
    bad=${pkts[9]}
    bad=${bad:0:${#bad}-1}$(printf '%x' $(( 0x${bad: -1} ^ 1 )))
    pkts+=("$bad")
    pcap "$W/$name.pcap" "${pkts[@]}"
    uat=$("$IMS" wireshark-esp-sa --src "$osrc" --dst "$odst" --spi 0x1001 --alg "$alg" --ealg "$ealg" \
        $akopt $ekopt | sed -n 's/^uat=//p')
    out=$(timeout 120 tshark -n -r "$W/$name.pcap" -o esp.enable_encryption_decode:TRUE \
        -o esp.enable_authentication_check:TRUE -o "uat:esp_sa:$uat" \
        -T fields -E separator=';' -E aggregator=+ -e esp.icv_good -e esp.icv_bad -e udp.dstport -e data.data -d udp.port==49153,data 2>/dev/null)
    local n=0 ok=1 line want
    while IFS= read -r line; do
        n=$((n + 1))
        if [ "$n" -le 10 ]; then
            [ "$mode" = udp-tunnel ] && want="1;0;4500+49153;" || want="1;0;49153;"
            want="$want${payloads[$((n - 1))]}"
            if [ "$line" != "$want" ]; then
                echo "FAIL esp-tshark $name: packet $n: tshark says '${line:0:120}', want '${want:0:120}'"
                ok=0
            fi
        elif [ "${line:0:4}" != "0;1;" ]; then
            echo "FAIL esp-tshark $name: tampered packet not flagged: '${line:0:120}'"
            ok=0
        fi
    done <<< "$out"
    if [ "$n" != 11 ]; then
        echo "FAIL esp-tshark $name: tshark printed $n packets, want 11"
        return
    fi
    [ "$ok" = 1 ] && echo "PASS esp-tshark $name: 10 packets ICV correct and decrypted, tampered one flagged"
}

check v4-transport-sha1-aes 4 transport hmac-sha-1-96 $AK20 aes-cbc $EK16
check v4-transport-md5-3des 4 transport hmac-md5-96 $AK16 des-ede3-cbc $EK24
check v4-transport-sha1-null 4 transport hmac-sha-1-96 $AK20 null ""
check v4-transport-md5-aes 4 transport hmac-md5-96 $AK16 aes-cbc $EK16
check v4-transport-sha1-3des 4 transport hmac-sha-1-96 $AK20 des-ede3-cbc $EK24
check v4-transport-md5-null 4 transport hmac-md5-96 $AK16 null ""
check v6-transport-sha1-aes 6 transport hmac-sha-1-96 $AK20 aes-cbc $EK16
check v6-transport-md5-3des 6 transport hmac-md5-96 $AK16 des-ede3-cbc $EK24
check v4-tunnel-sha1-aes 4 tunnel hmac-sha-1-96 $AK20 aes-cbc $EK16
check v6-tunnel-md5-3des 6 tunnel hmac-md5-96 $AK16 des-ede3-cbc $EK24
check v4-udp-tunnel-sha1-aes 4 udp-tunnel hmac-sha-1-96 $AK20 aes-cbc $EK16
check v4-udp-tunnel-md5-null 4 udp-tunnel hmac-md5-96 $AK16 null ""
# RFC 4106 AES-GCM (key || salt); Wireshark has no RFC 4543 (GMAC) entry
check v4-transport-null-aes-gcm 4 transport null "" aes-gcm $EK20
check v6-tunnel-null-aes-gcm 6 tunnel null "" aes-gcm $EK20
exit 0
