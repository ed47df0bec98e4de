#!/usr/bin/env bash
# secagree-tshark.sh -- Wireshark's SIP dissector (tshark, an independent
# RFC 3329 parser) decodes the Security-Client / Security-Server headers our
# builder writes to the values they were built from.
#
# Truth: Python draws random ipsec-3gpp offers (alg, ealg, prot, SPIs up to
# 2^32-1, ports), writes them as text in shuffled parameter order, mixed
# case and with LWS; `imssec secagree-parse` rebuilds them (canonical=), and
# `imssec secagree-negotiate` builds a Security-Server; Python puts each in
# a SIP message in a pcap; tshark must report exactly the drawn values.
set -u
BUILD=${BUILD:-build}
CLI=$BUILD/imssec
OUT=$BUILD/peer/secagree-tshark
if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP secagree-tshark: tshark not installed (Debian package tshark)"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP secagree-tshark: python3 not installed"
    exit 0
fi
if [ ! -x "$CLI" ]; then
    echo "SKIP secagree-tshark: $CLI not built"
    exit 0
fi
mkdir -p "$OUT"
CLI="$CLI" OUT="$OUT" timeout 300 python3 - <<'PY'
import os, random, struct, subprocess, sys

cli, out = os.environ["CLI"], os.environ["OUT"]
rnd = random.Random(int(os.environ.get("IMSSEC_TEST_SEED", "3329"), 0))
ALGS = ["hmac-md5-96", "hmac-sha-1-96"]
EALGS = ["des-ede3-cbc", "aes-cbc", "null"]

def draw():
    m = {"alg": rnd.choice(ALGS), "ealg": rnd.choice(EALGS), "prot": "esp",
         "spi-c": rnd.choice([1, 255, 2**31, 2**32 - 1, rnd.randint(1, 2**32 - 1)]),
         "spi-s": rnd.randint(1, 2**32 - 1),
         "port-c": rnd.randint(1, 65535)}
    m["port-s"] = rnd.choice([p for p in (rnd.randint(1, 65535), 65535, 1) if p != m["port-c"]])
    return m

def text(mechs):
    parts = []
    for m in mechs:
        kv = list(m.items()) + [("mod", "trans")]
        rnd.shuffle(kv)
        ps = []
        for k, v in kv:
            k = k.upper() if rnd.random() < 0.3 else k
            sp = " " if rnd.random() < 0.3 else ""
            ps.append(f"{k}{sp}={sp}{v}")
        name = rnd.choice(["ipsec-3gpp", "IPSEC-3GPP", "Ipsec-3gpp"])
        parts.append(name + (" ; " if rnd.random() < 0.5 else ";") + ";".join(ps))
    return ", ".join(parts)

def run(args):
    r = subprocess.run([cli] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{args[0]}: exit {r.returncode}: {r.stderr.strip()}")
    return dict(l.split("=", 1) for l in r.stdout.splitlines())

def udp_ipv4(payload, sport, dport):
    src, dst = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:]
    return hdr + udp

def sip(header, value, i):
    if header == "Security-Server":
        first = "SIP/2.0 401 Unauthorized"
    else:
        first = "REGISTER sip:ims.example.net SIP/2.0"
    lines = [first,
             f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{i:08d}",
             "From: <sip:u@ims.example.net>;tag=1", "To: <sip:u@ims.example.net>",
             f"Call-ID: {i}@192.0.2.1", "CSeq: 1 REGISTER", "Max-Forwards: 70",
             "Require: sec-agree", "Proxy-Require: sec-agree",
             f"{header}: {value}", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()

cases = []  # (header, built value, expected mechanisms)
for i in range(60):
    mechs = [draw() for _ in range(rnd.randint(1, 6))]
    got = run(["secagree-parse", "--value", text(mechs)])
    cases.append(("Security-Client", got["canonical"], mechs))
# Security-Server lists built by the P-CSCF side
pairs = [(a, e) for a in ALGS for e in EALGS]
for i in range(20):
    pol = rnd.sample(pairs, rnd.randint(1, 6))
    spis = [rnd.randint(1, 2**32 - 1), rnd.randint(1, 2**32 - 1)]
    ports = rnd.sample(range(1, 65536), 2)
    client = "ipsec-3gpp;alg=%s;ealg=%s;spi-c=1;spi-s=2;port-c=3;port-s=4" % pol[0]
    got = run(["secagree-negotiate", "--client", client,
               "--policy", ",".join(f"{a}/{e}" for a, e in pol),
               "--spi-c", str(spis[0]), "--spi-s", str(spis[1]),
               "--port-c", str(ports[0]), "--port-s", str(ports[1])])
    # TS 33.203 7.2: "Release 6 algorithms shall have higher priority than
    # Release 5 algorithms": the encrypting pairs first, each group in the
    # policy's order
    prio = [p for p in pol if p[1] != "null"] + [p for p in pol if p[1] == "null"]
    exp = [{"alg": a, "ealg": e, "prot": "esp", "spi-c": spis[0], "spi-s": spis[1],
            "port-c": ports[0], "port-s": ports[1]} for a, e in prio]
    cases.append(("Security-Server", got["security_server"], exp))

pcap = os.path.join(out, "secagree.pcap")
with open(pcap, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))  # raw IPv4
    for i, (h, v, _) in enumerate(cases):
        pkt = udp_ipv4(sip(h, v, i), 5060, 5060)
        f.write(struct.pack("<IIII", 1700000000 + i, 0, len(pkt), len(pkt)) + pkt)

fields = ["alg", "ealg", "prot", "spi_c", "spi_s", "port_c", "port_s"]
r = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "occurrence=a",
                    "-E", "aggregator=|", "-E", "separator=\t", "-d", "udp.port==5060,sip",
                    "-e", "frame.number", "-e", "sip.sec_mechanism.malformed"] +
                   sum((["-e", "sip.sec_mechanism." + x] for x in fields), []),
                   capture_output=True, text=True, timeout=120)
if r.returncode != 0:
    print(f"FAIL secagree-tshark-run: tshark exit {r.returncode}: {r.stderr.strip()[:200]}")
    sys.exit(0)
rows = r.stdout.splitlines()
if len(rows) != len(cases):
    print(f"FAIL secagree-tshark-frames: {len(rows)} frames decoded, want {len(cases)}")
    sys.exit(0)
bad = 0
for row, (h, v, exp) in zip(rows, cases):
    cols = row.split("\t")
    if cols[1]:
        bad += 1
        print(f"FAIL secagree-tshark-frame{cols[0]}: tshark flags the header malformed: {v[:120]}")
        continue
    for j, x in enumerate(fields):
        key = x.replace("_", "-")
        want = [str(m[key]) for m in exp]
        got = cols[2 + j].split("|") if cols[2 + j] else []
        if got != want:
            bad += 1
            print(f"FAIL secagree-tshark-frame{cols[0]}-{x}: tshark {got}, built from {want}")
            break
nc = sum(1 for c in cases if c[0] == "Security-Client")
if bad == 0:
    print(f"PASS secagree-tshark-client: {nc} built Security-Client lists decoded to the drawn values")
    print(f"PASS secagree-tshark-server: {len(cases) - nc} built Security-Server lists decoded to the policy values")
PY
rc=$?
[ $rc -eq 0 ] || echo "FAIL secagree-tshark: helper exited $rc"
exit 0
