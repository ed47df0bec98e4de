#!/usr/bin/env bash
# sdes-tshark.sh -- Wireshark (tshark) as an independent peer for SDES (RFC
# 4568, TS 33.328 Annex E) and for what build/imssec does with SRTP.
#
# Truth: Python draws random a=crypto attributes (suites, tags 0 and
# 999999999 among them, 1..4 keys with MKIs up to 16 bytes, lifetimes as 2^n
# and as decimal, session parameters, whitespace and leading zeros), writes
# them as text; `imssec sdes-parse` canonicalises them (canonical=, the
# library's builder), and `imssec sdes-answer --key --salt` builds answers
# from drawn tags, suites, flags and keys; Python puts them into the SDP
# bodies of SIP INVITEs and 200 OKs in a pcap, and tshark's SDP dissector
# must report exactly the drawn values (sdp.crypto.tag, .crypto_suite,
# .master_key, .master_salt, .lifetime, .mki-valu, .mki_length,
# sdp.key_and_salt).  Then SRTP: calls whose SDP says RTP/SAVP with the
# keys, and packets made by `imssec srtp-protect`: tshark must see the SRTP
# layout the suite implies (srtp.auth_tag of 10 bytes for _80 and 4 for
# _32, srtp.mki); `imssec srtp-decrypt-pcap` must turn the capture (raw
# IPv4, Ethernet + 802.1Q + IPv6 with a hop-by-hop header, Linux cooked v1
# and v2, big-endian nanosecond files) into one whose frames Python
# predicts byte for byte and in which tshark decodes plain RTP with the
# original payloads (rtp.payload) and RTCP, with good IP / UDP checksums.
# Last, mutated captures must never crash the pcap reader.
#
# What tshark 4.0 cannot do (so the comparison works around it; see the
# NOTE lines printed): it decodes only the first key-param of an attribute
# (after the first one its loop stops at the ';'); it splits key-params on
# ';' only, so the session parameters after the last key-param end up in
# that key-param's last field (the comparison takes the value up to the
# first space, RFC 4568 9.1: 1*WSP ends the key-params); it takes the text
# after the first '|' as the lifetime, so "inline:K|1:4" (an MKI without a
# lifetime) reads as lifetime "1:4" -- drawn MKIs always come with a
# lifetime here (test/cli/media.t covers that form); master key and salt
# fields exist only for the AES_CM_128 (and F8) suites, the others show
# only sdp.key_and_salt.  SRTP: tshark never decrypts; it learns the tag
# and MKI lengths only from an SDP with RTP/SAVP and a=crypto (there is no
# preference for them: "-d udp.port==N,rtp" alone dissects plain RTP); the
# first a=crypto line of an exchange sets the suite for all its media and
# both directions, and an answer without MKI inherits the offer's MKI length
# (so the answerer's packets of the call whose offer has an MKI are not
# compared); SRTCP of an _32 suite is read with the 4-byte SRTP tag (RFC
# 4568 6.2.2: SRTCP keeps 80 bits), so only the _80 SRTCP is compared; no
# tag or MKI layout at all for the AES_256 and GCM suites (packet-sdp.c
# sets one only for AES_CM_128 and F8), so the SRTP calls use AES_CM_128.
# The decrypted copy still carries the RTP/SAVP SDP, so it is read with
# -o sdp.establish_conversation:FALSE and -d udp.port==N,rtp / rtcp.
# Prints PASS/FAIL/SKIP lines (and NOTE lines on what tshark got wrong)
# and exits 0.
set -u
BUILD=${BUILD:-build}
CLI=$BUILD/imssec
OUT=$BUILD/peer/sdes-tshark
if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP sdes-tshark: tshark not installed (Debian package tshark)"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP sdes-tshark: python3 not installed"
    exit 0
fi
if [ ! -x "$CLI" ]; then
    echo "SKIP sdes-tshark: $CLI not built"
    exit 0
fi
if ! "$CLI" help 2>/dev/null | grep -q '^  srtp-decrypt-pcap '; then
    echo "FAIL sdes-tshark: $CLI has no media commands (sdes-parse, srtp-decrypt-pcap)"
    exit 0
fi
mkdir -p "$OUT"
CLI="$CLI" OUT="$OUT" timeout 900 python3 - <<'PY'
import base64, os, random, struct, subprocess, sys

cli, out = os.environ["CLI"], os.environ["OUT"]
rnd = random.Random(int(os.environ.get("IMSSEC_TEST_SEED", "4568"), 0))
KL = {"AES_CM_128_HMAC_SHA1_80": 16, "AES_CM_128_HMAC_SHA1_32": 16,
      "AES_256_CM_HMAC_SHA1_80": 32, "AES_256_CM_HMAC_SHA1_32": 32,
      "AEAD_AES_128_GCM": 16, "AEAD_AES_256_GCM": 32}
SL = {s: (12 if s.startswith("AEAD") else 14) for s in KL}
CM128 = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32")  # tshark: master key / salt
OTHER = [s for s in KL if s not in CM128]
FLAGS = ["UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP"]
nfail = 0

def fail(name, msg):
    global nfail
    nfail += 1
    print(f"FAIL sdes-tshark-{name}: {msg}")

def run(args):
    r = subprocess.run([cli] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{args[0]}: exit {r.returncode}: {r.stderr.strip()}")
    return dict(l.split("=", 1) for l in r.stdout.splitlines())

def tshark(pcap, fields, extra=()):
    r = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "occurrence=a",
                        "-E", "aggregator=|", "-E", "separator=\t", "-d", "udp.port==5060,sip"]
                       + list(extra) + sum((["-e", f] for f in fields), []),
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"tshark exit {r.returncode}: {r.stderr.strip()[:300]}")
    return [row.split("\t") for row in r.stdout.splitlines()]

# ---- packets and captures --------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

A4, B4 = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
A6 = bytes.fromhex("20010db8000000000000000000000001")
B6 = bytes.fromhex("20010db8000000000000000000000002")

def ip4(src, dst, payload, proto=17, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, frag, 64, proto, 0,
                    src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def udp4(src, dst, sp, dp, payload, ck=True):
    u = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    if ck:  # a real sender's checksum (the decrypted copy has 0)
        c = csum(src + dst + struct.pack("!BBH", 0, 17, len(u)) + u) or 0xffff
        u = u[:6] + struct.pack("!H", c) + u[8:]
    return ip4(src, dst, u)

def udp6(src, dst, sp, dp, payload, hbh=False):
    u = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    c = csum(src + dst + struct.pack("!IxxxB", len(u), 17) + u) or 0xffff
    u = u[:6] + struct.pack("!H", c) + u[8:]
    ext, nh = b"", 17
    if hbh:  # hop-by-hop header with a PadN option (RFC 8200 4.2, 4.3)
        ext, nh = bytes([17, 0, 1, 4, 0, 0, 0, 0]), 0
    return struct.pack("!IHBB", 0x60000000, len(ext) + len(u), nh, 64) + src + dst + ext + u

# link-layer framings: (linktype, frame(ip packet, version))
def l2_raw(p, v): return p
def l2_eth(p, v):  # Ethernet, an 802.1Q tag, and padding to the 60-byte minimum
    f = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x81\x00\x00\x07" + \
        (b"\x08\x00" if v == 4 else b"\x86\xdd") + p
    return f + bytes(max(0, 60 - len(f)))
def l2_sll(p, v):
    return struct.pack("!HHH6sxxH", 0, 1, 6, bytes(6), 0x0800 if v == 4 else 0x86dd) + p
def l2_sll2(p, v):
    return struct.pack("!HHIHBB8s", 0x0800 if v == 4 else 0x86dd, 0, 1, 1, 0, 6, bytes(8)) + p

def write_pcap(path, linktype, frames, big=False, nano=False):
    e = ">" if big else "<"
    with open(path, "wb") as f:
        f.write(struct.pack(e + "IHHiIII", 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0,
                            262144, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack(e + "IIII", 1700000000 + i, i * 1000, len(fr), len(fr)) + fr)

def read_pcap(path):
    b = open(path, "rb").read()
    e = "<" if struct.unpack("<I", b[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    recs, off = [], 24
    while off < len(b):
        _, _, incl, orig = struct.unpack(e + "IIII", b[off:off + 16])
        recs.append((b[off:off + 16], b[off + 16:off + 16 + incl]))
        off += 16 + incl
    return b[:24], recs

def sip(first, sdp, i, src="192.0.2.1"):
    hdr = [first, f"Via: SIP/2.0/UDP {src}:5060;branch=z9hG4bK{i:08d}",
           "From: <sip:a@ims.example.net>;tag=1", "To: <sip:b@ims.example.net>",
           f"Call-ID: {i}@ims.example.net", "CSeq: 1 INVITE", "Max-Forwards: 70",
           "Content-Type: application/sdp", f"Content-Length: {len(sdp)}", "", ""]
    return ("\r\n".join(hdr)).encode() + sdp.encode()

def sdp_body(addr, port, lines, v=4):
    return "\r\n".join(["v=0", f"o=- 1 1 IN IP{v} {addr}", "s=-", f"c=IN IP{v} {addr}", "t=0 0",
                        f"m=audio {port} RTP/SAVP 0"] + ["a=crypto:" + l for l in lines]) + "\r\n"

# ---- part 1: drawn attributes, canonicalised by sdes-parse --------------------------

def life_text(v):
    return f"2^{v.bit_length() - 1}" if v & (v - 1) == 0 else str(v)

def draw():
    suite = rnd.choice(list(CM128) * 3 + OTHER)
    gcm = suite.startswith("AEAD")
    tag = rnd.choice([0, 999999999, rnd.randint(0, 9), rnd.randint(0, 999999999)])
    n = rnd.choice([1, 1, 1, 2, 3, 4])
    mlen = rnd.randint(1, 16) if n > 1 or rnd.random() < 0.5 else 0
    mkis = set()
    while len(mkis) < n:
        mkis.add(rnd.choice([0, 1, 256 ** mlen - 1, rnd.randrange(256 ** mlen)]) if mlen
                 else len(mkis))
    keys = []
    for m in sorted(mkis, key=lambda _: rnd.random()):
        life = 0
        if mlen or rnd.random() < 0.6:  # an MKI always with a lifetime: see the header
            life = (1 << rnd.randint(0, 48)) if rnd.random() < 0.5 else rnd.randint(1, 2 ** 48)
        keys.append({"key": rnd.randbytes(KL[suite]), "salt": rnd.randbytes(SL[suite]),
                     "life": life, "mki": m if mlen else None, "mlen": mlen})
    flags = [f for f in FLAGS if rnd.random() < 0.3 and (not gcm or f == "UNENCRYPTED_SRTCP")]
    params = list(flags)
    wsh = rnd.choice([0, 0, 64, 128, rnd.randint(64, 2 ** 32 - 1)])
    if wsh:
        params.append(f"WSH={wsh}")
    fec = rnd.choice(["", "", "FEC_SRTP", "SRTP_FEC"])
    if fec:
        params.append("FEC_ORDER=" + fec)
    ignored = rnd.choice([0, 0, 1, 2])
    params += [rnd.choice(["-X_EXT=1", "-FOO", "-RTCP_REKEY=yes"]) for _ in range(ignored)]
    return {"suite": suite, "tag": tag, "keys": keys, "flags": flags, "wsh": wsh, "fec": fec,
            "ignored": ignored, "params": params}

def text(a):
    ws = lambda: rnd.choice([" ", " ", "  ", "\t", " \t"])
    kps = []
    for k in a["keys"]:
        kp = "inline:" + base64.b64encode(k["key"] + k["salt"]).decode()
        if k["life"]:
            kp += "|" + (str(k["life"]) if rnd.random() < 0.3 else life_text(k["life"]))
        if k["mki"] is not None:
            kp += "|" + "0" * rnd.choice([0, 0, 2]) + str(k["mki"]) + ":" + str(k["mlen"])
        kps.append(kp)
    tag = str(a["tag"])
    tag = tag.zfill(rnd.randint(len(tag), 9))  # leading zeros are read as a number (9.1)
    params = list(a["params"])
    rnd.shuffle(params)
    return (rnd.choice(["", "a=crypto:"]) + tag + ws() + a["suite"] + ws() + ";".join(kps)
            + "".join(ws() + p for p in params))

def check_parse(a, got):
    want = {"result": "ok", "tag": str(a["tag"]), "suite": a["suite"],
            "keys": str(len(a["keys"])), "flags": ",".join(f for f in FLAGS if f in a["flags"]),
            "wsh": str(a["wsh"]) if a["wsh"] else "", "fec_order": a["fec"],
            "n_ignored": str(a["ignored"])}
    for i, k in enumerate(a["keys"]):
        want[f"key.{i}.key"] = k["key"].hex()
        want[f"key.{i}.salt"] = k["salt"].hex()
        want[f"key.{i}.lifetime"] = str(k["life"]) if k["life"] else ""
        want[f"key.{i}.mki"] = k["mki"].to_bytes(k["mlen"], "big").hex() if k["mlen"] else ""
        want[f"key.{i}.mki_len"] = str(k["mlen"])
    return [f"{x}={got.get(x)!r} want {v!r}" for x, v in want.items() if got.get(x) != v]

drawn = []
for i in range(120):
    a = draw()
    t = text(a)
    got = run(["sdes-parse", "--value", t])
    bad = check_parse(a, got)
    if bad:
        fail("parse", f"{t!r}: " + "; ".join(bad[:3]))
        continue
    a["line"] = got["canonical"]
    drawn.append(a)
if len(drawn) == 120:
    print(f"PASS sdes-tshark-parse: 120 drawn attributes parsed to the drawn values")

# ---- answers built from drawn values -----------------------------------------------
built = []
for i in range(40):
    suite = rnd.choice(list(KL))
    gcm = suite.startswith("AEAD")
    flags = [f for f in FLAGS if rnd.random() < 0.3 and (not gcm or f == "UNENCRYPTED_SRTCP")]
    tag = rnd.choice([0, 999999999, rnd.randint(0, 999999999)])
    key, salt = rnd.randbytes(KL[suite]), rnd.randbytes(SL[suite])
    offer = (f"{tag} {suite} inline:" + base64.b64encode(rnd.randbytes(KL[suite] + SL[suite]))
             .decode() + "".join(" " + f for f in flags))
    got = run(["sdes-answer", "--offer", offer, "--suites", ",".join(KL), "--flags", ",".join(FLAGS),
               "--key", key.hex(), "--salt", salt.hex()])
    want = {"result": "ok", "index": "0", "tag": str(tag), "suite": suite,
            "flags": ",".join(flags), "key": key.hex(), "salt": salt.hex()}
    bad = [f"{x}={got.get(x)!r} want {v!r}" for x, v in want.items() if got.get(x) != v]
    if bad:
        fail("answer", f"{offer!r}: " + "; ".join(bad[:3]))
        continue
    built.append({"suite": suite, "tag": tag, "flags": flags, "params": flags, "line": got["answer"],
                  "keys": [{"key": key, "salt": salt, "life": 0, "mki": None, "mlen": 0}]})
if len(built) == 40:
    print("PASS sdes-tshark-answer: 40 answers built with the drawn tag, suite, flags and key")

# ---- tshark reads the SDPs -------------------------------------------------------
SDPF = ["sdp.crypto.tag", "sdp.crypto.crypto_suite", "sdp.crypto.master_key",
        "sdp.crypto.master_salt", "sdp.crypto.lifetime", "sdp.crypto.mki-valu",
        "sdp.crypto.mki_length", "sdp.key_and_salt"]
probe = ["1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(30)).decode() + "|2^20|1:4;"
         "inline:" + base64.b64encode(bytes(range(30))).decode() + "|2^20|2:4",
         "2 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(30)).decode() + "|1:4",
         "3 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(30)).decode()
         + "|2^20 UNENCRYPTED_SRTCP"]
pcap = os.path.join(out, "sdes.pcap")
frames, groups = [], []
for j, p in enumerate(probe):
    frames.append(udp4(A4, B4, 5060, 5060, sip("INVITE sip:b@ims.example.net SIP/2.0",
                                                  sdp_body("192.0.2.1", 49170, [p]), j), False))
pool = [("INVITE sip:b@ims.example.net SIP/2.0", a) for a in drawn] + \
       [("SIP/2.0 200 OK", a) for a in built]
k = 0
while k < len(pool):
    g = pool[k:k + rnd.randint(1, 3)]
    g = [x for x in g if x[0] == g[0][0]]  # one kind of message per SDP
    k += len(g)
    groups.append([a for _, a in g])
    frames.append(udp4(A4, B4, 5060, 5060, sip(g[0][0], sdp_body("192.0.2.1", 49170,
                                                                   [a["line"] for _, a in g]),
                                               len(frames)), False))
write_pcap(pcap, 101, frames)
try:
    rows = tshark(pcap, ["frame.number"] + SDPF)
except Exception as ex:
    fail("sdp-run", str(ex))
    rows = []
if rows:
    cols = lambda r, f: r[1 + SDPF.index(f)].split("|") if r[1 + SDPF.index(f)] else []
    all_keys = len(cols(rows[0], "sdp.crypto.master_key")) == 2
    if not all_keys:
        print("NOTE sdes-tshark: tshark decodes only the first key-param of an attribute")
    if cols(rows[1], "sdp.crypto.lifetime") == ["1:4"]:
        print("NOTE sdes-tshark: tshark reads 'inline:K|1:4' as lifetime '1:4' without an MKI")
    if cols(rows[2], "sdp.crypto.lifetime") == ["2^20 UNENCRYPTED_SRTCP"]:
        print("NOTE sdes-tshark: tshark appends the session parameters to the last key-param's last field")
    if len(rows) != len(frames):
        fail("sdp-frames", f"{len(rows)} frames decoded, want {len(frames)}")
    bad = 0
    for r, g in zip(rows[len(probe):], groups):
        exp = {f: [] for f in SDPF}
        # a value that may carry the session parameters after it (see the header)
        tail = {f: [] for f in SDPF}
        for a in g:
            exp["sdp.crypto.tag"].append(str(a["tag"]))
            exp["sdp.crypto.crypto_suite"].append(a["suite"])
            ks = a["keys"] if all_keys else a["keys"][:1]
            for n, kk in enumerate(ks):
                last = n == len(a["keys"]) - 1 and bool(a["flags"] or a.get("wsh") or a.get("fec"))
                ks_b64 = base64.b64encode(kk["key"] + kk["salt"])
                if a["suite"] in CM128:
                    exp["sdp.crypto.master_key"].append(kk["key"].hex())
                    exp["sdp.crypto.master_salt"].append(kk["salt"].hex())
                    exp["sdp.key_and_salt"].append(ks_b64.hex())
                else:
                    exp["sdp.key_and_salt"].append((kk["key"] + kk["salt"]).hex())
                tail["sdp.key_and_salt"].append(last and not kk["life"] and kk["mki"] is None)
                if kk["life"]:
                    exp["sdp.crypto.lifetime"].append(life_text(kk["life"]))
                    tail["sdp.crypto.lifetime"].append(last and kk["mki"] is None)
                if kk["mki"] is not None:
                    exp["sdp.crypto.mki-valu"].append(str(kk["mki"]))
                    exp["sdp.crypto.mki_length"].append(str(kk["mlen"]))
                    tail["sdp.crypto.mki_length"].append(last)
        for f in SDPF:
            got = cols(r, f)
            ok = len(got) == len(exp[f])
            for n in range(len(got)) if ok else []:
                w, t = exp[f][n], tail[f][n] if tail[f] else False
                if f == "sdp.key_and_salt":
                    ok &= got[n] == w or (t and got[n].startswith(w))
                else:
                    ok &= (got[n].split(" ")[0] if t else got[n]) == w
            if not ok:
                bad += 1
                print(f"FAIL sdes-tshark-sdp-frame{r[0]}-{f}: tshark {got}, built from {exp[f]} "
                      f"({[a['line'] for a in g]})")
                break
    nfail += bad
    if bad == 0 and len(rows) == len(frames):
        print(f"PASS sdes-tshark-sdp-parse: {len(drawn)} canonical attributes in "
              f"{sum(1 for g in groups if g[0] in drawn)} INVITEs decoded to the drawn values")
        print(f"PASS sdes-tshark-sdp-answer: {len(built)} built answers in 200 OKs decoded to the "
              f"drawn values")

# ---- part 2: SRTP calls ----------------------------------------------------------------
RFC4568_4 = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"

def rtp(pt, seq, ts, ssrc, payload):
    return struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc) + payload

def rtcp_sr(ssrc, n):
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 0x83aa7e80 + n, 0, 160 * n, n, 160 * n)

calls = []
for c, (suite, offer) in enumerate([("AES_CM_128_HMAC_SHA1_80", None),
                                     ("AES_CM_128_HMAC_SHA1_32", None),
                                     ("AES_CM_128_HMAC_SHA1_80", RFC4568_4)]):
    if offer is None:
        offer = f"{c + 1} {suite} inline:" + base64.b64encode(rnd.randbytes(30)).decode()
    got = run(["sdes-answer", "--offer", offer, "--suites", suite,
               "--key", rnd.randbytes(16).hex(), "--salt", rnd.randbytes(14).hex()])
    calls.append({"suite": suite, "offer": offer, "answer": got["answer"],
                  "port": (40000 + 2 * c, 50000 + 2 * c), "mki": "00000001" if "|1:4" in offer else ""})

def traffic(v):
    """The calls' packets: (ip packet, version, expected plain packet or None, kind)."""
    src, dst = (A4, B4) if v == 4 else (A6, B6)
    mk = (lambda s, d, sp, dp, p: udp4(s, d, sp, dp, p)) if v == 4 else \
         (lambda s, d, sp, dp, p: udp6(s, d, sp, dp, p, hbh=True))
    pk = []
    for c, call in enumerate(calls):
        addr = ("192.0.2.1", "192.0.2.2") if v == 4 else ("2001:db8::1", "2001:db8::2")
        pk.append((mk(src, dst, 5060, 5060, sip("INVITE sip:b@ims.example.net SIP/2.0",
                  sdp_body(addr[0], call["port"][0], [call["offer"]], v), 100 + c)), v, None, "sip"))
        pk.append((mk(dst, src, 5060, 5060, sip("SIP/2.0 200 OK",
                  sdp_body(addr[1], call["port"][1], [call["answer"]], v), 100 + c,
                  addr[1])), v, None, "sip"))
        for d, line in enumerate([call["offer"], call["answer"]]):
            s, t = (src, dst) if d == 0 else (dst, src)
            sp, dp = (call["port"][d], call["port"][1 - d])
            ssrc = 0x10000000 * (c + 1) + d
            seq0 = rnd.randrange(65536)
            for n in range(4):
                plain = rtp(0, (seq0 + n) & 0xffff, 160 * n, ssrc, rnd.randbytes(rnd.randint(20, 160)))
                prot = bytes.fromhex(run(["srtp-protect", "--crypto", line, "--packet",
                                          plain.hex()])["packet"])
                pk.append((mk(s, t, sp, dp, prot), v, plain, "srtp"))
            if c == 0 and d == 0:  # a fresh packet with one payload bit flipped
                plain = rtp(0, (seq0 + 100) & 0xffff, 0, ssrc, rnd.randbytes(40))
                prot = bytearray.fromhex(run(["srtp-protect", "--crypto", line, "--packet",
                                              plain.hex()])["packet"])
                prot[20] ^= 1
                pk.append((mk(s, t, sp, dp, bytes(prot)), v, None, "tamper"))
            plain = rtcp_sr(ssrc, 1)
            prot = bytes.fromhex(run(["srtp-protect", "--crypto", line, "--rtcp", "--index", "7",
                                      "--packet", plain.hex()])["packet"])
            pk.append((mk(s, t, sp + 1, dp + 1, prot), v, plain, "srtcp"))
    return pk

def plain_frame(ip, v, plain):
    """What srtp-decrypt-pcap must write for a decrypted packet."""
    if v == 4:
        hl = (ip[0] & 15) * 4
        sp, dp = struct.unpack("!HH", ip[hl:hl + 4])
        return udp4(ip[12:16], ip[16:20], sp, dp, plain, ck=False)
    sp, dp = struct.unpack("!HH", ip[48:52])
    return udp6(ip[8:24], ip[24:40], sp, dp, plain, hbh=True)

def hexs(b):
    return b.hex()

# tshark sees the SRTP layout of each call (raw IPv4 capture)
base = traffic(4)
srtp_pcap = os.path.join(out, "srtp.pcap")
write_pcap(srtp_pcap, 101, [p for p, _, _, _ in base])
try:
    rows = tshark(srtp_pcap, ["frame.number", "udp.srcport", "rtp.ssrc", "rtp.seq", "srtp.enc_payload",
                              "srtp.mki", "srtp.auth_tag", "rtcp.senderssrc", "srtcp.index", "srtcp.mki",
                              "srtcp.auth_tag"])
except Exception as ex:
    fail("srtp-run", str(ex))
    rows = []
def num(x):
    return int(x, 0) if x else None

# tshark keeps one set of SRTP parameters per offer/answer exchange (the
# first a=crypto line's suite; the MKI length of the last key-param that
# had one), so the answerer of the call whose offer has an MKI is read with
# the offer's MKI length: that direction is not compared.
def tshark_mixes(call, sender_is_offerer):
    return call["mki"] and not sender_is_offerer

bad, seen, mixed = 0, {10: 0, 4: 0}, 0
for r, (ip, v, plain, kind) in zip(rows, base):
    if kind != "srtp":
        continue
    udp_payload = ip[28:]
    call = next(cl for cl in calls if int(r[1]) in cl["port"])
    sender_is_offerer = int(r[1]) == call["port"][0]
    tl = 4 if call["suite"].endswith("_32") else 10
    mki = bytes.fromhex(call["mki"]) if sender_is_offerer else b""
    if tshark_mixes(call, sender_is_offerer):
        mixed += r[5] == call["mki"] or len(r[5]) == 8
        continue
    want = [struct.unpack("!I", plain[8:12])[0], str(struct.unpack("!H", plain[2:4])[0]),
            udp_payload[12:len(udp_payload) - tl - len(mki)].hex(), mki.hex(), udp_payload[-tl:].hex()]
    if [num(r[2])] + r[3:7] != want:
        bad += 1
        print(f"FAIL sdes-tshark-srtp-frame{r[0]}: tshark ssrc/seq/enc_payload/mki/auth_tag "
              f"{r[2:7]}, want {want}")
    else:
        seen[tl] += 1
nfail += bad
if mixed:
    print("NOTE sdes-tshark: tshark reads the answerer's SRTP with the offer's MKI length "
          "(one SRTP context per offer/answer exchange)")
if rows and bad == 0 and seen[10] == 12 and seen[4] == 8:
    print("PASS sdes-tshark-srtp-layout: tshark splits srtp-protect's packets as the SDP says: "
          "12 with a 10-byte srtp.auth_tag (_80, 4 of them with a 4-byte srtp.mki), 8 with 4 bytes (_32)")
elif rows and bad == 0:
    fail("srtp-layout", f"tag lengths seen {seen}, want 12 x 10 and 8 x 4")
# SRTCP: the _80 calls (tshark takes the SRTP tag length for SRTCP too, see below)
bad = n80 = n32 = 0
for r, (ip, v, plain, kind) in zip(rows, base):
    if kind != "srtcp":
        continue
    call = next(cl for cl in calls if int(r[1]) - 1 in cl["port"])
    if call["suite"].endswith("_32"):
        if r[8] != "7" and not n32:
            print("NOTE sdes-tshark: tshark reads SRTCP of an _32 suite with the 4-byte SRTP tag "
                  "length and misses E||index (RFC 4568 6.2.2: the SRTCP tag stays 80 bits)")
        n32 += 1
        continue
    u = ip[28:]
    if tshark_mixes(call, int(r[1]) - 1 == call["port"][0]):
        continue
    mki = bytes.fromhex(call["mki"]) if int(r[1]) - 1 == call["port"][0] else b""
    want = [struct.unpack("!I", plain[4:8])[0], "7", mki.hex(), u[-10:].hex()]
    if [num(r[7]), r[8], r[9], r[10]] != want:
        bad += 1
        print(f"FAIL sdes-tshark-srtcp-frame{r[0]}: tshark senderssrc/index/mki/auth_tag "
              f"{r[7:11]}, want {want}")
    else:
        n80 += 1
nfail += bad
if rows and bad == 0 and n80 == 3:
    print("PASS sdes-tshark-srtcp-layout: 3 SRTCP packets (_80) read with their index, MKI and "
          "10-byte srtcp.auth_tag")
elif rows and bad == 0:
    fail("srtcp-layout", f"{n80} SRTCP packets compared, want 3")

# ---- part 3: srtp-decrypt-pcap ------------------------------------------------------------
crypto = "\n".join(l for cl in calls for l in (cl["offer"], cl["answer"]))
RTP_PORTS = sorted(p for cl in calls for p in cl["port"])
DECODE = ["-o", "sdp.establish_conversation:FALSE", "-o", "ip.check_checksum:TRUE",
          "-o", "udp.check_checksum:TRUE"] + \
         sum((["-d", f"udp.port=={p},rtp", "-d", f"udp.port=={p + 1},rtcp"] for p in RTP_PORTS), [])

def variant(name, v, l2, linktype, big=False, nano=False):
    global nfail
    pk = traffic(v) if v == 6 else base
    frames, expect, kinds = [], [], []
    for ip, vv, plain, kind in pk:
        frames.append(l2(ip, vv))
        expect.append(l2(plain_frame(ip, vv, plain), vv) if plain else frames[-1])
        kinds.append(kind)
    # a replayed packet, a non-RTP datagram, a fragment
    s0 = kinds.index("srtp")
    extra = [(frames[s0], "replay")]
    if v == 4:
        extra.append((l2(udp4(A4, B4, 9, 9, b"\x80" * 3), 4), "passed"))
        extra.append((l2(ip4(A4, B4, pk[s0][0][20:], frag=0x2000), 4), "passed"))
    for fr, what in extra:
        frames.append(fr)
        expect.append(fr)
        kinds.append(what)
    src, dst = os.path.join(out, f"dec-{name}-in.pcap"), os.path.join(out, f"dec-{name}-out.pcap")
    write_pcap(src, linktype, frames, big, nano)
    got = run(["srtp-decrypt-pcap", "--in", src, "--out", dst, "--crypto", crypto])
    nrtp, nrtcp = kinds.count("srtp"), kinds.count("srtcp")
    want = {"packets": str(len(frames)), "decrypted": str(nrtp + nrtcp),
            "decrypted.srtp": str(nrtp), "decrypted.srtcp": str(nrtcp), "failed": "2",
            "failed.icv_failure": "1", "failed.replay": "1", "passed": str(len(frames) - nrtp - nrtcp - 2),
            "streams": "6"}
    badv = [f"{x}={got.get(x)} want {w}" for x, w in want.items() if got.get(x) != w]
    if badv:
        fail(f"decrypt-{name}-summary", "; ".join(badv))
        return
    hdr, recs = read_pcap(dst)
    inhdr = open(src, "rb").read()[:24]
    if hdr != inhdr or len(recs) != len(expect):
        fail(f"decrypt-{name}-file", f"header or record count differs ({len(recs)} vs {len(expect)})")
        return
    e = ">" if big else "<"
    for n, ((rh, fr), w) in enumerate(zip(recs, expect)):
        if fr != w or struct.unpack(e + "II", rh[8:16]) != (len(w), len(w)):
            fail(f"decrypt-{name}-frame{n + 1}", f"output {fr.hex()[:120]}..., want {w.hex()[:120]}...")
            return
    print(f"PASS sdes-tshark-decrypt-{name}: {nrtp} SRTP and {nrtcp} SRTCP packets replaced by "
          f"the plain ones byte for byte; 1 tampered, 1 replayed and {want['passed']} others kept")
    # tshark decodes the copy: plain RTP with the original payloads, RTCP, checksums
    try:
        rows = tshark(dst, ["frame.number", "rtp.ssrc", "rtp.seq", "rtp.payload", "rtcp.senderssrc",
                            "rtcp.pt", "ip.checksum.status", "udp.checksum.status", "srtp.auth_tag"],
                      DECODE)
    except Exception as ex:
        fail(f"decrypt-{name}-tshark", str(ex))
        return
    badt = 0
    for r, (ip, vv, plain, kind) in zip(rows, pk):
        if kind == "srtp":
            want = [struct.unpack("!I", plain[8:12])[0], str(struct.unpack("!H", plain[2:4])[0]),
                    plain[12:].hex()]
            ok = [num(r[1])] + r[2:4] == want and not r[8]
        elif kind == "srtcp":
            ok = num(r[4]) == struct.unpack("!I", plain[4:8])[0] and r[5] == "200"
        else:
            continue
        # checksums: IPv4 header good (1) and UDP absent (3, RFC 768); IPv6 UDP good (1)
        ok &= (r[6] == "1" and r[7] == "3") if vv == 4 else r[7] == "1"
        if not ok:
            badt += 1
            print(f"FAIL sdes-tshark-decrypt-{name}-tshark-frame{r[0]}: {r[1:]}")
            if badt > 3:
                break
    nfail += badt
    if badt == 0:
        print(f"PASS sdes-tshark-decrypt-{name}-tshark: tshark decodes the copy as plain RTP with the "
              f"original rtp.payload ({nrtp}) and RTCP SR ({nrtcp}), checksums good")

variant("raw-ipv4", 4, l2_raw, 101)
variant("ether-vlan-ipv6", 6, l2_eth, 1)
variant("sll-ipv4-be-ns", 4, l2_sll, 113, big=True, nano=True)
variant("sll2-ipv6", 6, l2_sll2, 276)
variant("ether-ipv4", 4, l2_eth, 1)

# ---- part 4: hostile captures ----------------------------------------------------------
src = os.path.join(out, "dec-raw-ipv4-in.pcap")
good = open(src, "rb").read()
mut, dst = os.path.join(out, "mutant.pcap"), os.path.join(out, "mutant-out.pcap")
crashes, outcomes = 0, {0: 0, 2: 0}
for n in range(400):
    b = bytearray(good)
    how = n % 4
    if how == 0:
        b = b[:rnd.randrange(len(b))]
    elif how == 1:
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    elif how == 2:  # a record length field
        off = 24 + 8
        b[off:off + 4] = struct.pack("<I", rnd.choice([0, 1, 262144, 262145, 2**31, 2**32 - 1,
                                                        rnd.randrange(2**32)]))
    else:
        b = b[:24] + bytes(rnd.randbytes(rnd.randint(0, 400)))
    open(mut, "wb").write(bytes(b))
    if os.path.exists(dst):
        os.remove(dst)
    r = subprocess.run([cli, "srtp-decrypt-pcap", "--in", mut, "--out", dst, "--crypto", crypto],
                       capture_output=True, text=True, timeout=60)
    if r.returncode not in (0, 2):
        crashes += 1
        keep = os.path.join(out, f"crash-{n}.pcap")
        open(keep, "wb").write(bytes(b))
        print(f"FAIL sdes-tshark-hostile-{n}: exit {r.returncode} (kept as {keep})")
        continue
    outcomes[r.returncode] += 1
    lines = r.stderr.splitlines()
    if r.returncode == 2 and (len(lines) != 1 or not lines[0].startswith("error: ") or
                              os.path.exists(dst)):
        crashes += 1
        print(f"FAIL sdes-tshark-hostile-{n}: refused without one error line, or left {dst}")
nfail += crashes
if crashes == 0:
    print(f"PASS sdes-tshark-hostile: 400 mutated captures: {outcomes[0]} read, {outcomes[2]} "
          f"refused with one error line and no output file, none crashed")
PY
rc=$?
[ $rc -eq 0 ] || echo "FAIL sdes-tshark: helper exited $rc"
exit 0
