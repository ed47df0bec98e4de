#!/usr/bin/python3
# ims_peer.py -- independent IMS peers whose ESP is the Linux kernel's (XFRM),
# for test/peer/sa-kernel.sh (issue 14).  Written from the specifications,
# not from imssec's code:
#   TS 33.203 V7.7.0  6.1 (IMS AKA), 7.1 (SA parameters, ports, selectors),
#                     7.2 (security mode set-up), Annex H (RFC 3329 headers),
#                     Annex I (ESP keys from CK/IK)
#   TS 35.206         Milenage f1, f1*, f2, f3, f4, f5, f5*
#   TS 33.102 6.3     AV = RAND || XRES || CK || IK || AUTN,
#                     AUTN = SQN xor AK || AMF || MAC; Annex C (SQN = SEQ || IND)
#   RFC 3310          Digest AKAv1-MD5: nonce = base64(RAND || AUTN [|| data]),
#                     password = RES;  RFC 2617 3.2.2 (response, qop=auth)
#   RFC 3261          SIP (Via/branch, tags, 18.2.2 where responses go)
#
# Two roles, each in its own network namespace, each installing its four SAs
# and their policies with `ip xfrm` so that the kernel does all the ESP:
#   pcscf  a minimal P-CSCF with a built-in S-CSCF/HSS.  Initial
#          registration; MESSAGE (a body "echo: X" is answered 200 and then X
#          comes back as an MT MESSAGE, as the examples' S-CSCF does);
#          authenticated re-registration over the SAs (7.4: a new challenge,
#          a new SA set with the UE's new port_uc and our next port_pc,
#          port_ps fixed); REGISTER Expires 0 answered 200.  Old SA sets stay
#          until the end of the run (7.4.2a deletion is not modelled).
#          --strict: the fixed flow of the `ue` role, whose exact per-SA
#          counts are checked; --serve: any flow, until SIGTERM.
#   ue     a minimal UE with its own Milenage USIM: REGISTER, 401, protected
#          REGISTER, 200, one MO MESSAGE "echo: ...", the MT MESSAGE it
#          causes; --dereg adds REGISTER Expires 0.
# The ESP-protected SIP itself goes over ordinary UDP sockets bound to the
# protected ports: the kernel's policies (with the SA's SPI in the template)
# pick the SA on output and insist on it on input.
#
# SA naming (TS 33.203 7.1, 7.2), the same on both sides:
#   UC_PS  UE port_uc -> P-CSCF port_ps   SPI spi_ps (inbound SA at the P-CSCF's
#                                         protected server port)
#   US_PC  UE port_us -> P-CSCF port_pc   SPI spi_pc
#   PC_US  P-CSCF port_pc -> UE port_us   SPI spi_us (inbound SA at the UE's
#                                         protected server port)
#   PS_UC  P-CSCF port_ps -> UE port_uc   SPI spi_uc
# 7.1 UDP case: the P-CSCF receives on port_ps and sends on port_pc; the UE
# receives on port_us and sends on port_uc.  So over UDP only UC_PS and PC_US
# carry packets; US_PC and PS_UC must stay at 0 (they are for TCP).
#
# Output: one line per check, "PASS <name>: <what>" / "FAIL <name>: <why>"
# (counted by test/run.sh's absorb()); other lines start with "# ".  The
# process exits 0 whatever the checks said; a last line "# END <role>" tells
# the harness that the run finished.
import base64
import hashlib
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TAG = "ims-peer"
NFAIL = 0


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def note(text):
    out("# " + text)


def check(name, ok, what):
    """One PASS/FAIL line; returns ok."""
    global NFAIL
    if ok:
        out("PASS %s %s: %s" % (TAG, name, what))
    else:
        NFAIL += 1
        out("FAIL %s %s: %s" % (TAG, name, what))
    return ok


# ---------------------------------------------------------------- Milenage
class Milenage:
    """TS 35.206 clause 4: OPc, f1/f1*, f2..f5, f5*.  r1..r5 = 64, 0, 32, 64,
    96 bits; c1..c5 = 0, 1, 2, 4, 8 (in the last octet)."""

    R = {1: 8, 2: 0, 3: 4, 4: 8, 5: 12}  # rotations in octets
    C = {1: 0, 2: 1, 3: 2, 4: 4, 5: 8}

    def __init__(self, k, op=None, opc=None):
        self.enc = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
        if opc is None:
            opc = xor(self.e(op), op)  # OPc = E[OP]K xor OP
        self.opc = opc

    def e(self, block):
        return self.enc.update(block)

    def _out(self, temp, i, in1=None):
        if i == 1:
            x = xor(in1, self.opc)
            x = xor(temp, rot(x, self.R[1]))
        else:
            x = rot(xor(temp, self.opc), self.R[i])
        x = bytearray(x)
        x[15] ^= self.C[i]
        return xor(self.e(bytes(x)), self.opc)

    def f1(self, rand, sqn, amf):
        """(MAC-A, MAC-S)"""
        temp = self.e(xor(rand, self.opc))
        in1 = sqn + amf + sqn + amf
        o = self._out(temp, 1, in1)
        return o[:8], o[8:]

    def f2345(self, rand):
        """(RES, CK, IK, AK)"""
        temp = self.e(xor(rand, self.opc))
        o2 = self._out(temp, 2)
        return o2[8:16], self._out(temp, 3), self._out(temp, 4), o2[:6]

    def f5star(self, rand):
        temp = self.e(xor(rand, self.opc))
        return self._out(temp, 5)[:6]


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def rot(x, n):
    return x[n:] + x[:n]


def aka_vector(mil, sqn, amf, rand):
    """TS 33.102 6.3.2: (RAND, XRES, CK, IK, AUTN)"""
    mac, _ = mil.f1(rand, sqn, amf)
    xres, ck, ik, ak = mil.f2345(rand)
    autn = xor(sqn, ak) + amf + mac
    return xres, ck, ik, autn


def md5hex(s):
    return hashlib.md5(s if isinstance(s, bytes) else s.encode()).hexdigest()


def digest_response(username, realm, password, method, uri, nonce, nc, cnonce, qop):
    """RFC 2617 3.2.2.1 with MD5 (AKAv1-MD5: RFC 3310 3.4, password = RES
    octets); qop=auth or none."""
    pw = password if isinstance(password, bytes) else password.encode()
    ha1 = md5hex(username.encode() + b":" + realm.encode() + b":" + pw)
    ha2 = md5hex("%s:%s" % (method, uri))
    if qop:
        return md5hex("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))
    return md5hex("%s:%s:%s" % (ha1, nonce, ha2))


def find_vectors(name):
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (os.path.join(here, "..", "..", "vectors"), "/work/shared/vectors"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def tsv(path):
    with open(path) as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    head = rows[0]
    return [dict(zip(head, r + [""] * (len(head) - len(r)))) for r in rows[1:]]


def self_test(role):
    """Our Milenage and digest against published vectors, before they are
    trusted with a registration."""
    h = bytes.fromhex
    p = find_vectors("milenage-ts35207.tsv")
    if not p:
        check(role + "-milenage-vectors", False, "milenage-ts35207.tsv not found")
    else:
        bad, n = [], 0
        for v in tsv(p):
            mil = Milenage(h(v["K"]), op=h(v["OP"]))
            mac, macs = mil.f1(h(v["RAND"]), h(v["SQN"]), h(v["AMF"]))
            res, ck, ik, ak = mil.f2345(h(v["RAND"]))
            got = [mil.opc, mac, macs, res, ck, ik, ak, mil.f5star(h(v["RAND"]))]
            want = [h(v[c]) for c in ("OPc", "f1", "f1star", "f2", "f3", "f4", "f5", "f5star")]
            n += 1
            if got != want:
                bad.append(v["id"])
        check(role + "-milenage-vectors", n > 0 and not bad,
              "%d test sets (%s: %s, file's spec_ref column) give OPc, f1, f1*, f2, f3, f4, f5, f5*%s"
              % (n, os.path.basename(p), "TS 35.207 test sets", (" -- wrong: " + ",".join(bad)) if bad else ""))
    p = find_vectors("aka-flows.tsv")
    if p:
        bad, n = [], 0
        for v in tsv(p):
            if v["kind"] != "autn" or v["expect"] != "ok":
                continue
            mil = Milenage(h(v["K"]), opc=h(v["OPc"]))
            xres, ck, ik, autn = aka_vector(mil, h(v["SQN"]), h(v["AMF"]), h(v["RAND"]))
            n += 1
            if (xres, ck, ik, autn) != (h(v["RES"]), h(v["CK"]), h(v["IK"]), h(v["AUTN"])):
                bad.append(v["id"])
        check(role + "-aka-vectors", n > 0 and not bad,
              "%d AKA vectors of aka-flows.tsv (free5gc, libosmocore tests): AUTN, RES, CK, IK%s"
              % (n, (" -- wrong: " + ",".join(bad)) if bad else ""))
    # RFC 2617 3.5 example (MD5, qop=auth)
    r = digest_response("Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
                        "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth")
    check(role + "-digest-vector", r == "6629fae49393a05397450978507c4ef1",
          "RFC 2617 3.5 example response %s" % r)


# ---------------------------------------------------------------- SIP
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported"}


class Sip:
    def __init__(self, data):
        text = data.decode("utf-8", "replace")
        head, _, rest = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.hdrs = []
        for l in lines[1:]:
            if l[:1] in (" ", "\t") and self.hdrs:  # folded line
                n, v = self.hdrs[-1]
                self.hdrs[-1] = (n, v + " " + l.strip())
                continue
            n, _, v = l.partition(":")
            n = n.strip().lower()
            self.hdrs.append((COMPACT.get(n, n), v.strip()))
        cl = self.get("content-length")
        self.body = rest[: int(cl)] if cl and cl.isdigit() else rest
        p = self.start.split(" ", 2)
        self.is_request = not self.start.startswith("SIP/")
        self.method = p[0] if self.is_request else None
        self.ruri = p[1] if self.is_request and len(p) > 1 else None
        self.status = int(p[1]) if not self.is_request and len(p) > 1 and p[1].isdigit() else 0

    def get(self, name):
        for n, v in self.hdrs:
            if n == name.lower():
                return v
        return None

    def all(self, name):
        return [v for n, v in self.hdrs if n == name.lower()]

    def cseq(self):
        v = (self.get("cseq") or "0 X").split()
        return int(v[0]) if v[0].isdigit() else 0, v[-1]


def split_commas(v):
    out_, cur, q = [], "", False
    for ch in v:
        if ch == '"':
            q = not q
        if ch == "," and not q:
            out_.append(cur)
            cur = ""
        else:
            cur += ch
    out_.append(cur)
    return [x.strip() for x in out_ if x.strip()]


def via_list(m):
    vs = []
    for v in m.all("via"):
        vs += split_commas(v)
    return vs


def parse_via(v):
    """'SIP/2.0/UDP host:port;a=b' -> (transport, host, port or None, params)"""
    proto, _, rest = v.partition(" ")
    items = [x.strip() for x in rest.strip().split(";")]
    hp = items[0]
    params = {}
    for it in items[1:]:
        k, _, val = it.partition("=")
        params[k.strip().lower()] = val.strip()
    if hp.startswith("["):
        host, _, p = hp[1:].partition("]")
        port = p[1:] if p.startswith(":") else ""
    else:
        host, _, port = hp.partition(":")
    return proto.split("/")[-1].upper(), host, int(port) if port.isdigit() else None, params


def parse_mechs(values):
    """RFC 3329 / Annex H: Security-Client/Server/Verify values -> list of
    (mechanism, {param: value}), names case-insensitive, in header order."""
    mechs = []
    for v in values:
        for part in split_commas(v):
            items = [x.strip() for x in part.split(";")]
            params = {}
            for it in items[1:]:
                if not it:
                    continue
                k, eq, val = it.partition("=")
                params[k.strip().lower()] = val.strip().strip('"') if eq else ""
            mechs.append((items[0].lower(), params))
    return mechs


def norm_mechs(mechs):
    """Annex H defaults (prot=esp, mod=trans, ealg=null), values lower-case
    (RFC 3261 tokens), for the Security-Verify / Security-Client comparisons."""
    res = []
    for name, p in mechs:
        q = {k: v.lower() for k, v in p.items()}
        if name == "ipsec-3gpp":
            q.setdefault("prot", "esp")
            q.setdefault("mod", "trans")
            q.setdefault("ealg", "null")
        res.append((name, sorted(q.items())))
    return res


def parse_auth(v):
    """'Digest a=b, c="d"' -> {a: b, c: d}"""
    v = v.strip()
    if v.lower().startswith("digest"):
        v = v[6:]
    d = {}
    for m in re.finditer(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)', v):
        val = m.group(2)
        if val.startswith('"'):
            val = val[1:-1]
        d[m.group(1).lower()] = val
    return d


def token(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def build(start, headers, body=""):
    b = body.encode() if isinstance(body, str) else body
    lines = [start] + ["%s: %s" % h for h in headers] + ["Content-Length: %d" % len(b), "", ""]
    return "\r\n".join(lines).encode() + b


def first_line(data):
    return data.split(b"\r\n", 1)[0].decode("utf-8", "replace")


def response(req, code, reason, extra=(), to_tag=None, via_fix=None):
    """RFC 3261 8.2.6: Via (all, the top one possibly with received/rport),
    From, To (+tag), Call-ID, CSeq copied."""
    vias = via_list(req)
    if via_fix and vias:
        vias[0] = via_fix(vias[0])
    hs = [("Via", v) for v in vias]
    to = req.get("to") or ""
    if to_tag and ";tag=" not in to:
        to += ";tag=" + to_tag
    hs += [("From", req.get("from") or ""), ("To", to), ("Call-ID", req.get("call-id") or ""),
           ("CSeq", req.get("cseq") or "")]
    hs += list(extra)
    return build("SIP/2.0 %d %s" % (code, reason), hs)


# ---------------------------------------------------------------- IPsec (ip xfrm)
# Annex I integrity / encryption keys, and the kernel's names.
def ik_esp(alg, ik):
    return ik + b"\0" * 4 if alg == "hmac-sha-1-96" else ik


def des_parity(b):
    """RFC 2451 / Annex I: each octet's least significant bit makes its
    parity odd."""
    r = bytearray()
    for x in b:
        x &= 0xFE
        r.append(x | (bin(x).count("1") % 2 == 0))
    return bytes(r)


def ck_esp(ealg, ck):
    if ealg == "des-ede3-cbc":
        return des_parity(ck[:8] + ck[8:] + ck[:8])  # CK1 || CK2 || CK1
    if ealg == "aes-cbc":
        return ck
    return b""


def xfrm_algs(alg, ealg, ik, ck):
    a = {"hmac-md5-96": "hmac(md5)", "hmac-sha-1-96": "hmac(sha1)"}[alg]
    s = "auth-trunc '%s' 0x%s 96" % (a, ik_esp(alg, ik).hex())
    if ealg == "aes-cbc":
        s += " enc 'cbc(aes)' 0x%s" % ck_esp(ealg, ck).hex()
    elif ealg == "des-ede3-cbc":
        s += " enc 'cbc(des3_ede)' 0x%s" % ck_esp(ealg, ck).hex()
    else:
        s += " enc 'ecb(cipher_null)' ''"
    return s


ALL_PAIRS = ["hmac-sha-1-96/aes-cbc", "hmac-sha-1-96/des-ede3-cbc", "hmac-md5-96/aes-cbc",
             "hmac-md5-96/des-ede3-cbc", "hmac-sha-1-96/null", "hmac-md5-96/null"]


class SaSet:
    """The four SAs of one authenticated registration (TS 33.203 7.1/7.2),
    as both ends see them; `local` is "ue" or "pcscf"."""

    def __init__(self, local, ue_ip, pc_ip, port_uc, port_us, port_pc, port_ps,
                 spi_uc, spi_us, spi_pc, spi_ps, alg, ealg, ck, ik, reqid0):
        self.local = local
        self.ue_ip, self.pc_ip = ue_ip, pc_ip
        self.port_uc, self.port_us, self.port_pc, self.port_ps = port_uc, port_us, port_pc, port_ps
        self.alg, self.ealg = alg, ealg
        # name: (src, sport, dst, dport, spi); direction seen from the UE
        self.sas = {
            "UC_PS": (ue_ip, port_uc, pc_ip, port_ps, spi_ps),
            "US_PC": (ue_ip, port_us, pc_ip, port_pc, spi_pc),
            "PC_US": (pc_ip, port_pc, ue_ip, port_us, spi_us),
            "PS_UC": (pc_ip, port_ps, ue_ip, port_uc, spi_uc),
        }
        self.ck, self.ik = ck, ik
        self.reqid0 = reqid0

    def direction(self, name):
        """'out' or 'in' at this end"""
        ue_sends = name in ("UC_PS", "US_PC")
        return "out" if ue_sends == (self.local == "ue") else "in"

    def batch(self, op="add"):
        algs = xfrm_algs(self.alg, self.ealg, self.ik, self.ck)
        lines = []
        plen = "128" if ":" in self.ue_ip else "32"
        for i, name in enumerate(("UC_PS", "US_PC", "PC_US", "PS_UC")):
            src, sport, dst, dport, spi = self.sas[name]
            reqid = self.reqid0 + i
            if op == "add":
                # 7.1: transport mode, SA duration not limited at the IP layer
                # (no lifetime), replay window 32 as the field's P-CSCFs use.
                lines.append("xfrm state add src %s dst %s proto esp spi 0x%08x reqid %d mode transport "
                             "replay-window 32 %s" % (src, dst, spi, reqid, algs))
            else:
                lines.append("xfrm state delete src %s dst %s proto esp spi 0x%08x" % (src, dst, spi))
            # 7.1 selectors: addresses, ports, and "the transport protocol
            # selector shall allow UDP and TCP": one policy per protocol.  The
            # template names the SA's SPI: outbound, the kernel takes exactly
            # this SA; inbound, it accepts a packet for these ports only if
            # this SA decrypted it (7.1 rules 4 and 7 enforced by the kernel).
            for proto in ("udp", "tcp"):
                sel = "src %s/%s dst %s/%s proto %s sport %d dport %d dir %s" % (
                    src, plen, dst, plen, proto, sport, dport, self.direction(name))
                if op == "add":
                    lines.append("xfrm policy add %s tmpl src %s dst %s proto esp spi 0x%08x reqid %d "
                                 "mode transport" % (sel, src, dst, spi, reqid))
                else:
                    lines.append("xfrm policy delete %s" % sel)
        return "\n".join(lines) + "\n"

    def describe(self):
        return ", ".join("%s %s:%d->%s:%d spi 0x%08x (%s)" % (n, s, sp, d, dp, spi, self.direction(n))
                         for n, (s, sp, d, dp, spi) in self.sas.items())


def ip_batch(text):
    p = subprocess.run(["ip", "-batch", "-"], input=text.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace").strip()


def xfrm_counters():
    """spi -> {bytes, packets, replay, failed} from `ip -s xfrm state`."""
    p = subprocess.run(["ip", "-s", "xfrm", "state"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    res, spi, nxt = {}, None, False
    for l in p.stdout.decode("utf-8", "replace").splitlines():
        m = re.search(r"proto esp spi 0x([0-9a-f]+)", l)
        if m:
            spi = int(m.group(1), 16)
            res[spi] = {"bytes": 0, "packets": 0, "replay": 0, "failed": 0}
            continue
        if spi is None:
            continue
        if "lifetime current:" in l:
            nxt = True
            continue
        if nxt:
            m = re.search(r"(\d+)\(bytes\), (\d+)\(packets\)", l)
            if m:
                res[spi]["bytes"], res[spi]["packets"] = int(m.group(1)), int(m.group(2))
            nxt = False
        m = re.search(r"replay-window \d+ replay (\d+) failed (\d+)", l)
        if m:
            res[spi]["replay"], res[spi]["failed"] = int(m.group(1)), int(m.group(2))
    return res


def check_counters(role, sets, tally, expect=None):
    """Per-SA packet counters of the kernel against what this process sent
    and received on each SA's port pair (tally[(set, name)]), and, when
    given, against the flow's exact counts (expect[name])."""
    c = xfrm_counters()
    for si, s in enumerate(sets):
        sfx = "" if len(sets) == 1 else " (set %d)" % (si + 1)
        got = {}
        for name, (src, sport, dst, dport, spi) in s.sas.items():
            got[name] = c.get(spi)
            k = got[name]
            note("%s counters%s: %s %s:%d -> %s:%d spi 0x%08x %s: %s" % (
                role, sfx, name, src, sport, dst, dport, spi, s.direction(name),
                "absent" if k is None else "%d packets, %d bytes, replay %d, failed %d" % (
                    k["packets"], k["bytes"], k["replay"], k["failed"])))
        line = " ".join("%s=%s" % (n, "absent" if got[n] is None else got[n]["packets"])
                        for n in ("UC_PS", "US_PC", "PC_US", "PS_UC"))
        drops = " ".join("%s:replay=%d,failed=%d" % (n, got[n]["replay"], got[n]["failed"])
                         for n in ("UC_PS", "US_PC", "PC_US", "PS_UC") if got[n] and (got[n]["replay"] or got[n]["failed"]))
        out("# COUNTERS %s%s packets %s%s" % (role, sfx.replace(" ", "-").replace("(", "").replace(")", ""), line,
                                         "; dropped by the kernel: " + drops if drops else ""))
        missing = [n for n in got if got[n] is None]
        if missing:
            check(role + "-sa-counters" + sfx, False, "SAs not in the kernel: " + ",".join(missing))
            continue
        # 7.1 UDP case: only UC_PS and PC_US carry traffic
        used = {n: got[n]["packets"] for n in got}
        ok = used["US_PC"] == 0 and used["PS_UC"] == 0 and used["UC_PS"] > 0 and used["PC_US"] > 0
        check(role + "-udp-sa-usage" + sfx, ok,
              "kernel per-SA packets: %s (7.1 UDP case: UC_PS and PC_US used, US_PC and PS_UC 0)" % line)
        mine = {n: tally.get((si, n), 0) for n in got}
        check(role + "-sa-counters-match" + sfx, mine == used,
              "kernel counters %s equal the datagrams this %s sent/received on each SA's ports %s"
              % (line, role, " ".join("%s=%d" % (n, mine[n]) for n in ("UC_PS", "US_PC", "PC_US", "PS_UC"))))
        if expect is not None and si == len(sets) - 1:
            check(role + "-flow-counts" + sfx, used == expect,
                  "the flow's exact counts: want %s, kernel %s" % (
                      " ".join("%s=%d" % (n, expect[n]) for n in ("UC_PS", "US_PC", "PC_US", "PS_UC")), line))
    return c


def udp_sock(ip, port):
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    return s


def hostport(ip, port):
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


STOP = [False]


def on_signal(signum, frame):
    STOP[0] = True


def arg_parse(argv, defaults):
    a = dict(defaults)
    i = 0
    while i < len(argv):
        k = argv[i]
        if not k.startswith("--"):
            raise SystemExit("ims_peer.py: unexpected argument " + k)
        k = k[2:]
        if k not in a:
            raise SystemExit("ims_peer.py: unknown option --" + k)
        if isinstance(a[k], bool):
            a[k] = True
        else:
            i += 1
            a[k] = argv[i]
        i += 1
    return a


# ---------------------------------------------------------------- P-CSCF
PCSCF_DEFAULTS = {
    "ip": "192.0.2.10", "port": "5060", "port-pc": "6100", "port-ps": "6101",
    "k": "465b5ce8b199b49faa5f0a2ee238a6bc", "op": "cdc202d5123e20f62b6d676ac72cb318", "opc": "",
    "impi": "alice@ims.example.net", "realm": "ims.example.net", "sqn": "0x20", "amf": "8000",
    "policy": ",".join(ALL_PAIRS), "timeout": "30", "serve": False, "ready": "", "tag": "ims-peer",
    "strict": False,
}


class Pcscf:
    def __init__(self, a):
        self.a = a
        self.ip = a["ip"]
        k = bytes.fromhex(a["k"])
        self.mil = Milenage(k, op=None if a["opc"] else bytes.fromhex(a["op"]),
                            opc=bytes.fromhex(a["opc"]) if a["opc"] else None)
        self.seq = int(a["sqn"], 0) >> 5  # TS 33.102 Annex C: SQN = SEQ || IND (5 bits, IND 0)
        self.amf = bytes.fromhex(a["amf"])
        self.policy = [p.strip() for p in a["policy"].split(",") if p.strip()]
        self.u = udp_sock(self.ip, int(a["port"]))
        self.sets = []        # SaSet per authenticated registration
        self.socks = {}       # port -> socket (protected ports)
        self.tally = {}       # (set index, SA name) -> datagrams
        self.pending = None   # the challenge in flight
        self.cache = {}       # (call-id, cseq, branch) -> (response bytes, dest)
        self.registered = False
        self.contact = None
        self.mo, self.mt_sent, self.mt_ok = 0, 0, 0
        self.mt_tx = {}
        self.tag = token(8)
        self.unprot_dropped = 0
        self.dereg = False
        self.reg_ok = 0

    # -- SA bookkeeping
    def set_for(self, ue_port, local_port, inbound):
        """index of the SA set whose (UE port, P-CSCF port) pair matches, and
        the SA name; None if none does."""
        for si in range(len(self.sets) - 1, -1, -1):
            s = self.sets[si]
            for name, (src, sport, dst, dport, spi) in s.sas.items():
                if inbound and s.direction(name) == "in" and sport == ue_port and dport == local_port:
                    return si, name
                if not inbound and s.direction(name) == "out" and sport == local_port and dport == ue_port:
                    return si, name
        return None

    def send(self, sock, data, dest):
        """send and count the datagram on the SA that 7.1 puts it on"""
        sock.sendto(data, dest)
        lp = sock.getsockname()[1]
        hit = self.set_for(dest[1], lp, False) if lp != int(self.a["port"]) else None
        if hit:
            self.tally[hit] = self.tally.get(hit, 0) + 1
        note("P-CSCF %s -> %s  %s%s" % (hostport(self.ip, lp), hostport(dest[0], dest[1]), first_line(data),
                                         "  [ESP, SA %s set %d]" % (hit[1], hit[0] + 1) if hit else ""))

    def bind_protected(self, port):
        if port not in self.socks:
            self.socks[port] = udp_sock(self.ip, port)

    # -- SM1 -> SM6
    def on_unprotected_register(self, m, data, src):
        vias = via_list(m)
        if not vias:
            return
        tr, vhost, vport, vparams = parse_via(vias[0])
        key = (m.get("call-id"), m.get("cseq"), vparams.get("branch"))
        if key in self.cache:  # a retransmission: the same answer (RFC 3261 17.2.1)
            self.u.sendto(*self.cache[key])
            note("P-CSCF retransmission of %s: answered again" % first_line(data))
            return
        if self.sets:
            note("P-CSCF unprotected REGISTER while SAs exist: ignored (one initial registration per run)")
            return
        ue_ip = src[0]
        # RFC 3261 18.2.2 / RFC 3581: the response to the source port when rport
        dport = src[1] if "rport" in vparams else (vport or 5060)

        def via_fix(v):
            if ue_ip != vhost:
                v += ";received=" + ue_ip
            if "rport" in vparams and not vparams["rport"]:
                v = re.sub(r";rport(?=;|$)", ";rport=%d" % src[1], v)
            return v

        r = self.challenge(m, ue_ip, src, self.u, (ue_ip, dport), via_fix, "pcscf-sm1")
        if r is not None:
            self.cache[key] = (r, (ue_ip, dport))

    def challenge(self, m, ue_ip, src, sock, dest, via_fix, what):
        """SM1 -> SM6 (7.2): negotiate, new AV, new SPIs, install the new SA
        set, 401 with Security-Server.  Initial registration (unprotected,
        from 5060) or authenticated re-registration (7.4: over the current
        SAs; the new set has a new port_uc at the UE and, here, a new port_pc,
        port_ps and port_us stay)."""
        mechs = parse_mechs(m.all("security-client"))
        check(what, bool(mechs), "REGISTER from %s with Security-Client: %d mechanism(s) (Annex H)"
              % (hostport(*src), len(mechs)))
        # 7.2: the first pair on our priority list that the UE also offers
        choice = None
        for pair in self.policy:
            alg, ealg = pair.split("/")
            for name, p in mechs:
                if name != "ipsec-3gpp":
                    continue
                if (p.get("alg", "").lower() == alg and p.get("ealg", "null").lower() == ealg and
                        p.get("prot", "esp").lower() == "esp" and p.get("mod", "trans").lower() == "trans"):
                    choice = (alg, ealg, p)
                    break
            if choice:
                break
        if not check("pcscf-negotiate", choice is not None,
                     "selected %s (7.2: first pair of our list %s also offered)" % (
                         "%s/%s" % choice[:2] if choice else "nothing", "/".join(self.policy[:1]) + ",..")):
            self.send(sock, response(m, 494, "Security Agreement Required", to_tag=self.tag, via_fix=via_fix), dest)
            return None
        alg, ealg, p = choice
        try:
            spi_uc, spi_us = int(p["spi-c"]), int(p["spi-s"])
            port_uc, port_us = int(p["port-c"]), int(p["port-s"])
        except (KeyError, ValueError):
            check("pcscf-sm1-params", False, "spi-c/spi-s/port-c/port-s missing or not numbers: %r" % p)
            return None
        # 7.1 ports: the UE's protected ports differ from 5060/5061 and from
        # each other; 7.1 rule 3: (UE IP, port_uc) not yet in the SA table
        in_table = [s for s in self.sets if s.port_uc == port_uc]
        check("pcscf-sm1-params", port_uc not in (5060, 5061) and port_us not in (5060, 5061) and port_uc != port_us
              and 0 < spi_uc < 2 ** 32 and 0 < spi_us < 2 ** 32 and spi_uc != spi_us and not in_table,
              "UE spi_uc=%d spi_us=%d port_uc=%d port_us=%d%s" % (
                  spi_uc, spi_us, port_uc, port_us,
                  "" if not in_table else " -- port_uc already in the SA table (7.1 rule 3)"))
        if self.sets and port_us != self.sets[-1].port_us:
            note("P-CSCF the UE changed port_us %d -> %d (7.1: it stays fixed until de-registration)"
                 % (self.sets[-1].port_us, port_us))
        # 7.2: our SPIs unique and different from the UE's (and from every
        # SPI in use)
        used = {x.sas[n][4] for x in self.sets for n in x.sas} | {0, spi_uc, spi_us}
        spi_pc = spi_ps = 0
        while spi_pc in used or spi_ps in used or spi_pc == spi_ps:
            spi_pc = random.randint(0x1000, 0xFFFFFFFF)
            spi_ps = random.randint(0x1000, 0xFFFFFFFF)
        # port_ps fixed (7.1 NOTE); a new port_pc per set keeps the selectors
        # of the old and the new set apart while both exist (7.4)
        port_pc, port_ps = int(self.a["port-pc"]) + 2 * len(self.sets), int(self.a["port-ps"])
        # HSS: the next AV (TS 33.102 6.3.2; SQN = SEQ || IND, IND 0)
        self.seq += 1
        sqn = (self.seq << 5).to_bytes(6, "big")
        rand = os.urandom(16)
        xres, ck, ik, autn = aka_vector(self.mil, sqn, self.amf, rand)
        nonce = base64.b64encode(rand + autn).decode()
        note("HSS: AV for SQN 0x%s: RAND %s AUTN %s" % (sqn.hex(), rand.hex(), autn.hex()))
        s = SaSet("pcscf", ue_ip, self.ip, port_uc, port_us, port_pc, port_ps,
                  spi_uc, spi_us, spi_pc, spi_ps, alg, ealg, ck, ik, 10 * (len(self.sets) + 1))
        # 7.2: the P-CSCF establishes the SAs before it sends SM6
        rc, err = ip_batch(s.batch())
        check("pcscf-sa-install", rc == 0, "set %d: 4 SAs + 8 policies with ip xfrm (transport mode, Annex I keys): %s"
              % (len(self.sets) + 1, s.describe() if rc == 0 else "ip -batch failed: " + err[:300]))
        if rc != 0:
            return None
        self.sets.append(s)
        self.bind_protected(port_ps)
        self.bind_protected(port_pc)
        sec_server = ", ".join(
            "ipsec-3gpp;q=0.%d;alg=%s;ealg=%s;prot=esp;mod=trans;spi-c=%d;spi-s=%d;port-c=%d;port-s=%d"
            % (9 - i, pr.split("/")[0], pr.split("/")[1], spi_pc, spi_ps, port_pc, port_ps)
            for i, pr in enumerate(self.policy))
        self.pending = {"nonce": nonce, "xres": xres, "sec_client": norm_mechs(mechs),
                        "sec_server": sec_server, "set": len(self.sets) - 1}
        extra = [("WWW-Authenticate", 'Digest realm="%s", nonce="%s", algorithm=AKAv1-MD5, qop="auth"'
                  % (self.a["realm"], nonce)),
                 ("Security-Server", sec_server)]
        r = response(m, 401, "Unauthorized", extra, to_tag=self.tag, via_fix=via_fix)
        self.send(sock, r, dest)
        return r

    # -- SM7 -> SM12
    def on_protected_register(self, m, src, si):
        s = self.sets[si]
        pend = self.pending
        tr, vhost, vport, vparams = parse_via(via_list(m)[0]) if via_list(m) else ("", "", None, {})
        # 7.1 rule 2: the packet's source address is the one in the Via
        check("pcscf-sm7-via", vhost == src[0] and vport == s.port_us,
              "Via sent-by %s:%s; packet from %s; port_us %d (7.1 rule 2, UDP case)"
              % (vhost, vport, src[0], s.port_us))
        ok_v = pend is not None and norm_mechs(parse_mechs(m.all("security-verify"))) == \
            norm_mechs(parse_mechs([pend["sec_server"]]))
        check("pcscf-security-verify", ok_v, "Security-Verify %s the Security-Server we sent (7.2, RFC 3329 2.3.1)"
              % ("equals" if ok_v else "differs from: %r vs %r" % (m.all("security-verify"), pend and pend["sec_server"])))
        ok_c = pend is not None and norm_mechs(parse_mechs(m.all("security-client"))) == pend["sec_client"]
        check("pcscf-security-client", ok_c, "Security-Client of SM7 %s the one of SM1 (Annex H rule 3)"
              % ("equals" if ok_c else "differs from"))
        au = parse_auth(m.get("authorization") or "")
        ok_a = False
        if pend and au.get("nonce") == pend["nonce"]:
            want = digest_response(au.get("username", ""), au.get("realm", ""), pend["xres"], "REGISTER",
                                   au.get("uri", ""), au["nonce"], au.get("nc", ""), au.get("cnonce", ""),
                                   au.get("qop", ""))
            ok_a = (au.get("response", "").lower() == want and au.get("username") == self.a["impi"] and
                    au.get("algorithm", "").lower() == "akav1-md5")
        check("pcscf-aka-response", ok_a, "Authorization response %s (RFC 3310: password = XRES), username %s"
              % ("verified" if ok_a else "wrong: %r" % au, au.get("username")))
        dest = (src[0], s.port_us)  # 7.1 UDP case: responses to port_us ...
        if not (ok_v and ok_c and ok_a):
            self.send(self.socks[s.port_pc], response(m, 403, "Forbidden", to_tag=self.tag), dest)
            return
        self.registered = True
        self.reg_ok += 1
        self.pending = None
        ct = m.get("contact") or ""
        mm = re.search(r"<([^>]+)>", ct)
        self.contact = mm.group(1) if mm else ct.split(";")[0]
        extra = [("Contact", "<%s>;expires=600" % self.contact),
                 ("Service-Route", "<sip:orig@%s;lr>" % hostport(self.ip, s.port_ps))]
        # ... from port_pc (SA PC_US, spi_us)
        self.send(self.socks[s.port_pc], response(m, 200, "OK", extra, to_tag=self.tag), dest)
        check("pcscf-200-register", True, "200 OK for the protected REGISTER sent from port_pc %d to port_us %d "
              "(SA PC_US, spi_us 0x%08x, 7.1 UDP case)" % (s.port_pc, s.port_us, s.sas["PC_US"][4]))

    def on_protected(self, data, src, lport):
        hit = self.set_for(src[1], lport, True)
        m = Sip(data)
        if not hit:
            check("pcscf-inbound-sa", False, "%s arrived on port %d from %s: on no SA's port pair"
                  % (first_line(data), lport, hostport(*src)))
            return
        si, name = hit
        self.tally[hit] = self.tally.get(hit, 0) + 1
        s = self.sets[si]
        note("P-CSCF %s <- %s  %s  [ESP, SA %s set %d]" % (hostport(self.ip, lport), hostport(*src),
                                                         first_line(data), name, si + 1))
        # 7.1 UDP case: requests and responses from the UE come on port_ps
        # from port_uc, i.e. over UC_PS
        check("pcscf-rx-on-sa", name == "UC_PS",
              "%s from %s to port %d: SA %s (spi 0x%08x)%s" % (
                  first_line(data), hostport(*src), lport, name, s.sas[name][4],
                  "" if name == "UC_PS" else " -- 7.1 UDP case wants UC_PS (port_uc -> port_ps)"))
        if m.is_request and m.method == "REGISTER":
            exp = m.get("expires")
            ct = m.get("contact") or ""
            mm = re.search(r"expires=(\d+)", ct)
            expires = int(mm.group(1)) if mm else int(exp) if exp and exp.isdigit() else 600
            if self.pending is not None and self.pending["set"] == si:
                self.on_protected_register(m, src, si)
            elif expires == 0 and self.registered:
                # de-registration over the SAs: no new challenge; the 200 goes
                # over PC_US of the set it came on, then the SAs may go
                self.registered = False
                self.dereg = True
                self.send(self.socks[s.port_pc], response(m, 200, "OK", to_tag=self.tag), (src[0], s.port_us))
                check("pcscf-deregister", True, "REGISTER Expires 0 over SA UC_PS of set %d answered 200 from "
                      "port_pc %d to port_us %d (SA PC_US)" % (si + 1, s.port_pc, s.port_us))
            elif self.registered:
                # 7.4: authenticated re-registration: challenge over the
                # current SAs (401 from port_pc to port_us), new SA set
                note("P-CSCF re-registration over set %d: new challenge and a new SA set (7.4)" % (si + 1))
                self.challenge(m, src[0], src, self.socks[s.port_pc], (src[0], s.port_us), None, "pcscf-rereg")
            else:
                self.send(self.socks[s.port_pc], response(m, 403, "Forbidden", to_tag=self.tag), (src[0], s.port_us))
        elif m.is_request and m.method == "MESSAGE":
            if not self.registered:
                self.send(self.socks[s.port_pc], response(m, 403, "Forbidden", to_tag=self.tag), (src[0], s.port_us))
                return
            self.mo += 1
            v = via_list(m)
            vport = parse_via(v[0])[2] if v else None
            check("pcscf-mo-message-via", vport == s.port_us,
                  "MO MESSAGE Via sent-by port %s, port_us %d" % (vport, s.port_us))
            # 7.1 UDP case: the response from port_pc to port_us (SA PC_US)
            self.send(self.socks[s.port_pc], response(m, 200, "OK", to_tag=token(6)), (src[0], s.port_us))
            check("pcscf-mo-message", True, "MO MESSAGE %r answered 200 from port_pc %d to port_us %d (SA PC_US)"
                  % (m.body[:40], s.port_pc, s.port_us))
            if m.body.startswith("echo: "):
                self.send_mt(s, src[0], m.body[6:])
        elif m.is_request:
            self.send(self.socks[s.port_pc], response(m, 405, "Method Not Allowed", to_tag=token(6)),
                      (src[0], s.port_us))
        else:
            t = self.mt_tx.pop((m.get("call-id"), m.get("cseq")), None)
            if t is not None:
                self.mt_ok += m.status == 200
                check("pcscf-mt-response", m.status == 200 and name == "UC_PS",
                      "UE answered the MT MESSAGE with %d from port_uc %d on port_ps %d (SA UC_PS, 7.1 UDP case)"
                      % (m.status, src[1], lport))
            else:
                note("P-CSCF response to no request of ours: " + first_line(data))

    def send_mt(self, s, ue_ip, text):
        """a network-originated MESSAGE: from port_pc to the UE's port_us
        (SA PC_US); our Via names port_ps, where 7.1 wants the UE's answer."""
        self.mt_sent += 1
        branch = "z9hG4bK" + token(12)
        cid = "mt%d-%s" % (self.mt_sent, token(10))
        cseq = "%d MESSAGE" % self.mt_sent
        target = self.contact or "sip:%s" % hostport(ue_ip, s.port_us)
        hs = [("Via", "SIP/2.0/UDP %s;branch=%s" % (hostport(self.ip, s.port_ps), branch)),
              ("Max-Forwards", "70"), ("From", "<sip:service@%s>;tag=%s" % (self.a["realm"], token(6))),
              ("To", "<sip:%s>" % self.a["impi"]), ("Call-ID", cid), ("CSeq", cseq),
              ("Content-Type", "text/plain")]
        self.mt_tx[(cid, cseq)] = True
        self.send(self.socks[s.port_pc], build("MESSAGE %s SIP/2.0" % target, hs, text), (ue_ip, s.port_us))
        check("pcscf-mt-message", True, "MT MESSAGE %r sent from port_pc %d to port_us %d (SA PC_US)"
              % (text[:40], s.port_pc, s.port_us))

    def run(self):
        deadline = time.time() + float(self.a["timeout"])
        if self.a["ready"]:
            open(self.a["ready"], "w").close()
        note("P-CSCF+S-CSCF/HSS on %s, port_pc %s port_ps %s, policy %s" % (
            hostport(self.ip, int(self.a["port"])), self.a["port-pc"], self.a["port-ps"], ",".join(self.policy)))
        while not STOP[0] and time.time() < deadline:
            if not self.a["serve"] and self.reg_ok and self.mo >= 1 and self.mt_sent >= 1 and not self.mt_tx:
                break  # the flow is over
            socks = [self.u] + list(self.socks.values())
            try:
                r, _, _ = select.select(socks, [], [], 0.2)
            except InterruptedError:
                continue
            for sk in r:
                self.handle(sk)
        # drain what is already queued (its packets are in the kernel's counters)
        while True:
            r, _, _ = select.select([self.u] + list(self.socks.values()), [], [], 0.05)
            if not r:
                break
            for sk in r:
                self.handle(sk)
        if not STOP[0] and time.time() >= deadline:
            check("pcscf-flow", False, "timed out (registrations %d, MO %d, MT %d/%d answered)"
                  % (self.reg_ok, self.mo, self.mt_ok, self.mt_sent))
        check("pcscf-flow-complete", self.reg_ok >= 1 and self.mo >= 1 and self.mt_sent >= 1 and self.mt_ok >= 1,
              "registrations %d (SA sets %d), MO MESSAGEs answered %d, MT MESSAGEs %d sent / %d answered 200, "
              "de-registered %s, unprotected non-REGISTER requests discarded %d (7.1 rule 3)"
              % (self.reg_ok, len(self.sets), self.mo, self.mt_sent, self.mt_ok, self.dereg, self.unprot_dropped))
        if self.sets:
            check_counters("pcscf", self.sets, self.tally,
                           {"UC_PS": 3, "US_PC": 0, "PC_US": 3, "PS_UC": 0} if self.a["strict"] else None)
            for s in self.sets:
                ip_batch(s.batch("delete"))

    def handle(self, sk):
        try:
            data, src = sk.recvfrom(65535)
        except BlockingIOError:
            return
        src = src[:2]
        lport = sk.getsockname()[1]
        if sk is self.u:
            m = Sip(data)
            note("P-CSCF %s <- %s  %s  [unprotected]" % (hostport(self.ip, lport), hostport(*src), first_line(data)))
            if m.is_request and m.method == "REGISTER":
                self.on_unprotected_register(m, data, src)
            elif m.is_request:
                # 7.1 rule 3: only REGISTER (and emergency, error messages)
                # on unprotected ports: everything else is discarded
                self.unprot_dropped += 1
                note("P-CSCF discarded an unprotected %s (7.1 rule 3)" % m.method)
            return
        self.on_protected(data, src, lport)


# ---------------------------------------------------------------- UE
UE_DEFAULTS = {
    "ip": "192.0.2.20", "port": "5060", "pcscf-ip": "192.0.2.10", "pcscf-port": "5060",
    "port-uc": "5110", "port-us": "5111",
    "k": "465b5ce8b199b49faa5f0a2ee238a6bc", "op": "cdc202d5123e20f62b6d676ac72cb318", "opc": "",
    "impi": "alice@ims.example.net", "impu": "sip:alice@ims.example.net", "realm": "ims.example.net",
    "sqn-ms": "0", "algs": ",".join(ALL_PAIRS), "timeout": "10", "tag": "ims-peer",
    "dereg": False, "strict": False,
}


class Ue:
    def __init__(self, a):
        self.a = a
        self.ip = a["ip"]
        self.pip, self.pport = a["pcscf-ip"], int(a["pcscf-port"])
        self.mil = Milenage(bytes.fromhex(a["k"]), op=None if a["opc"] else bytes.fromhex(a["op"]),
                            opc=bytes.fromhex(a["opc"]) if a["opc"] else None)
        # TS 33.102 Annex C.3.2: SEQ_MS per IND (5 bits), accept SEQ > SEQ_MS(IND)
        self.seq_ms = [int(a["sqn-ms"], 0) >> 5] * 32
        self.algs = [p.strip() for p in a["algs"].split(",") if p.strip()]
        self.port_uc, self.port_us = int(a["port-uc"]), int(a["port-us"])
        self.spi_uc, self.spi_us = random.randint(0x1000, 0xFFFFFFFF), random.randint(0x1000, 0xFFFFFFFF)
        while self.spi_us == self.spi_uc:
            self.spi_us = random.randint(0x1000, 0xFFFFFFFF)
        self.u = udp_sock(self.ip, int(a["port"]))
        self.call_id = token(16)
        self.from_tag = token(8)
        self.cseq = 0
        self.set = None
        self.suc = self.sus = None
        self.tally = {}
        self.service_route = []
        self.deadline = time.time() + float(a["timeout"])
        self.user = a["impi"].split("@")[0]
        self.pending_mt = []

    def sec_client(self):
        # Annex H: one mechanism per supported pair, our SPIs and ports in each
        return ", ".join("ipsec-3gpp;alg=%s;ealg=%s;prot=esp;mod=trans;spi-c=%d;spi-s=%d;port-c=%d;port-s=%d"
                         % (p.split("/")[0], p.split("/")[1], self.spi_uc, self.spi_us, self.port_uc, self.port_us)
                         for p in self.algs)

    def register_msg(self, via_port, extra, expires=600):
        self.cseq += 1
        hs = [("Via", "SIP/2.0/UDP %s;branch=z9hG4bK%s;rport" % (hostport(self.ip, via_port), token(12))),
              ("Max-Forwards", "70"),
              ("From", "<%s>;tag=%s" % (self.a["impu"], self.from_tag)),
              ("To", "<%s>" % self.a["impu"]),
              ("Call-ID", self.call_id), ("CSeq", "%d REGISTER" % self.cseq),
              ("Contact", "<sip:%s@%s>;expires=%d" % (self.user, hostport(self.ip, self.port_us), expires)),
              ("Expires", str(expires)),
              ("Supported", "path, sec-agree"), ("Require", "sec-agree"), ("Proxy-Require", "sec-agree")]
        return build("REGISTER sip:%s SIP/2.0" % self.a["realm"], hs + extra)

    def send_prot(self, data):
        """from port_uc to the P-CSCF's port_ps: SA UC_PS (7.1 UDP case)"""
        s = self.set
        self.suc.sendto(data, (self.pip, s.port_ps))
        self.tally[(0, "UC_PS")] = self.tally.get((0, "UC_PS"), 0) + 1
        note("UE %s -> %s  %s  [ESP, SA UC_PS spi 0x%08x]" % (hostport(self.ip, self.port_uc),
                                                            hostport(self.pip, s.port_ps), first_line(data),
                                                            s.sas["UC_PS"][4]))

    def recv(self, socks, want, wait=None):
        """next datagram on any of socks matching want(m, sock, src), within
        the deadline; others are noted (MT requests are kept)."""
        end = min(self.deadline, time.time() + wait) if wait else self.deadline
        while time.time() < end:
            r, _, _ = select.select(socks, [], [], max(0.0, min(0.2, end - time.time())))
            for sk in r:
                data, src = sk.recvfrom(65535)
                src = src[:2]
                lport = sk.getsockname()[1]
                prot = sk is self.sus or sk is self.suc
                name = None
                if prot:
                    name = "PC_US" if lport == self.port_us else "PS_UC"
                    if self.set and src[1] != (self.set.port_pc if name == "PC_US" else self.set.port_ps):
                        name = "?"
                    self.tally[(0, name)] = self.tally.get((0, name), 0) + 1
                note("UE %s <- %s  %s  [%s]" % (hostport(self.ip, lport), hostport(*src), first_line(data),
                                                "ESP, SA %s" % name if prot else "unprotected"))
                m = Sip(data)
                if want(m, sk, src):
                    return m, sk, src
                if m.is_request and prot:
                    self.pending_mt.append((m, sk, src))
        return None, None, None

    def run(self):
        a = self.a
        # ---- SM1: unprotected REGISTER with Security-Client (7.2, Annex H)
        auth0 = ('Digest username="%s", realm="%s", uri="sip:%s", nonce="", response=""'
                 % (a["impi"], a["realm"], a["realm"]))
        sm1 = self.register_msg(int(a["port"]), [("Authorization", auth0), ("Security-Client", self.sec_client())])
        sm1_cseq = self.cseq
        m = None
        t1 = 0.5
        for attempt in range(7):  # RFC 3261 timer A: 0.5, 1, 2, 4.. s
            self.u.sendto(sm1, (self.pip, self.pport))
            note("UE %s -> %s  %s  [unprotected]" % (hostport(self.ip, int(a["port"])), hostport(self.pip, self.pport),
                                                   first_line(sm1)))
            m, _, _ = self.recv([self.u], lambda m, s, src: not m.is_request and m.cseq()[0] == sm1_cseq
                                and m.status >= 200, wait=t1)
            if m is not None or time.time() >= self.deadline:
                break
            t1 *= 2
        if not check("ue-401", m is not None and m.status == 401,
                     "answer to the unprotected REGISTER: %s" % (m.start if m else "nothing")):
            return
        www = m.get("www-authenticate") or ""
        ch = parse_auth(www)
        check("ue-401-no-keys", "ck" not in ch and "ik" not in ch,
              "the 401 carries no ck=/ik= (6.1.1 SM6: the P-CSCF removes the keys)")
        # ---- AKA (6.1.1): AUTN = SQN^AK || AMF || MAC
        try:
            raw = base64.b64decode(ch.get("nonce", ""))
        except Exception:
            raw = b""
        if not check("ue-nonce", len(raw) >= 32 and ch.get("algorithm", "").lower() == "akav1-md5",
                     "nonce of %d octets (RFC 3310: RAND || AUTN), algorithm %s" % (len(raw), ch.get("algorithm"))):
            return
        rand, autn = raw[:16], raw[16:32]
        res, ck, ik, ak = self.mil.f2345(rand)
        sqn = xor(autn[:6], ak)
        amf = autn[6:8]
        xmac, _ = self.mil.f1(rand, sqn, amf)
        if not check("ue-autn-mac", xmac == autn[8:16], "XMAC %s %s MAC %s (TS 33.102 6.3.3)"
                     % (xmac.hex(), "==" if xmac == autn[8:16] else "!=", autn[8:16].hex())):
            return
        sv = int.from_bytes(sqn, "big")
        seq, ind = sv >> 5, sv & 31
        check("ue-sqn", seq > self.seq_ms[ind], "SQN 0x%s (SEQ %d, IND %d) fresh against SEQ_MS %d (TS 33.102 C.2)"
              % (sqn.hex(), seq, ind, self.seq_ms[ind]))
        self.seq_ms[ind] = seq
        # ---- Security-Server: 7.2, the first pair on the P-CSCF's list we support
        srv_vals = m.all("security-server")
        srv = parse_mechs(srv_vals)
        order = sorted(range(len(srv)), key=lambda i: -float(srv[i][1].get("q", "0") or 0))
        sel = None
        for i in order:
            name, p = srv[i]
            pair = "%s/%s" % (p.get("alg", "").lower(), p.get("ealg", "null").lower())
            if name == "ipsec-3gpp" and pair in self.algs and p.get("prot", "esp").lower() == "esp" \
                    and p.get("mod", "trans").lower() == "trans":
                sel = (pair, p)
                break
        if not check("ue-select", sel is not None, "Security-Server %d mechanism(s); selected %s"
                     % (len(srv), sel[0] if sel else "none acceptable")):
            return
        pair, p = sel
        try:
            spi_pc, spi_ps, port_pc, port_ps = int(p["spi-c"]), int(p["spi-s"]), int(p["port-c"]), int(p["port-s"])
        except (KeyError, ValueError):
            check("ue-security-server", False, "spi-c/spi-s/port-c/port-s missing: %r" % p)
            return
        check("ue-security-server", spi_pc not in (self.spi_uc, self.spi_us) and spi_ps not in (self.spi_uc, self.spi_us)
              and spi_pc != spi_ps and port_pc not in (5060, 5061) and port_ps not in (5060, 5061) and port_pc != port_ps,
              "P-CSCF spi_pc=%d spi_ps=%d port_pc=%d port_ps=%d (7.1, 7.2: SPIs differ from ours)"
              % (spi_pc, spi_ps, port_pc, port_ps))
        s = SaSet("ue", self.ip, self.pip, self.port_uc, self.port_us, port_pc, port_ps,
                  self.spi_uc, self.spi_us, spi_pc, spi_ps, pair.split("/")[0], pair.split("/")[1], ck, ik, 10)
        rc, err = ip_batch(s.batch())
        if not check("ue-sa-install", rc == 0, "4 SAs + 8 policies with ip xfrm: %s"
                     % (s.describe() if rc == 0 else "ip -batch failed: " + err[:300])):
            return
        self.set = s
        self.suc = udp_sock(self.ip, self.port_uc)
        self.sus = udp_sock(self.ip, self.port_us)
        try:
            self.flow(ch, srv_vals, res, s)
        finally:
            check_counters("ue", [s], self.tally,
                           ({"UC_PS": 4, "US_PC": 0, "PC_US": 4, "PS_UC": 0} if a["dereg"] else
                            {"UC_PS": 3, "US_PC": 0, "PC_US": 3, "PS_UC": 0}) if a["strict"] else None)
            ip_batch(s.batch("delete"))

    def wait_resp(self, cseq, what):
        def want(m, sk, src):
            return not m.is_request and m.cseq()[0] == cseq and m.status >= 200
        m, sk, src = self.recv([self.u, self.sus, self.suc], want)
        if m is None:
            check(what, False, "no final response")
            return None
        s = self.set
        on = sk is self.sus and src[1] == s.port_pc
        check(what, m.status == 200 and on, "%s on port %d from %s (7.1 UDP case wants port_us %d from port_pc %d: "
              "SA PC_US, spi_us 0x%08x)" % (m.start, sk.getsockname()[1], hostport(*src), s.port_us, s.port_pc,
                                            s.sas["PC_US"][4]))
        return m

    def flow(self, ch, srv_vals, res, s):
        a = self.a
        # ---- SM7: protected REGISTER, Via sent-by port_us, Security-Verify =
        # Security-Server, Security-Client repeated (Annex H rule 2)
        uri = "sip:%s" % a["realm"]
        cnonce, nc, qop = token(16), "00000001", "auth" if "auth" in ch.get("qop", "").split(",") else ""
        resp = digest_response(a["impi"], ch.get("realm", ""), res, "REGISTER", uri, ch["nonce"], nc, cnonce, qop)
        auth = 'Digest username="%s", realm="%s", uri="%s", nonce="%s", algorithm=AKAv1-MD5, response="%s"' % (
            a["impi"], ch.get("realm", ""), uri, ch["nonce"], resp)
        if qop:
            auth += ", qop=%s, nc=%s, cnonce=\"%s\"" % (qop, nc, cnonce)
        if "opaque" in ch:
            auth += ', opaque="%s"' % ch["opaque"]
        extra = [("Authorization", auth), ("Security-Client", self.sec_client())]
        extra += [("Security-Verify", v) for v in srv_vals]
        sm7 = self.register_msg(self.port_us, extra)
        self.send_prot(sm7)
        m = self.wait_resp(self.cseq, "ue-200-register")
        if m is None or m.status != 200:
            return
        self.service_route = [v for x in m.all("service-route") for v in split_commas(x)]
        # ---- MO MESSAGE from port_uc; the network echoes "echo: " bodies
        mo = self.message("echo: hello UE, from the network")
        self.send_prot(mo)
        mo_cseq = self.cseq
        self.wait_resp(mo_cseq, "ue-mo-message")
        # ---- MT MESSAGE on port_us (SA PC_US); our 200 from port_uc to port_ps
        mt = None
        if self.pending_mt:
            mt = self.pending_mt.pop(0)
        else:
            mt = self.recv([self.u, self.sus, self.suc], lambda m, sk, src: m.is_request)
        m, sk, src = mt
        if not check("ue-mt-message", m is not None and m.method == "MESSAGE" and sk is self.sus
                     and src[1] == s.port_pc,
                     "%s on %s from %s (7.1 UDP case wants port_us %d from port_pc %d: SA PC_US)"
                     % (m.start if m else "nothing", sk.getsockname()[1] if sk else "-",
                        hostport(*src) if src else "-", s.port_us, s.port_pc)):
            return
        v = via_list(m)
        tr, vhost, vport, vp = parse_via(v[0]) if v else ("", "", None, {})
        check("ue-mt-via", vhost == self.pip and vport == s.port_ps,
              "top Via of the MT MESSAGE %s:%s, port_ps %d (RFC 3261 18.2.2 sends our answer there; 7.1: port_ps)"
              % (vhost, vport, s.port_ps))
        self.send_prot(response(m, 200, "OK", to_tag=token(6)))
        check("ue-mt-response", True, "200 for the MT MESSAGE %r sent from port_uc %d to port_ps %d (SA UC_PS)"
              % (m.body[:40], self.port_uc, s.port_ps))
        if a["dereg"]:
            # RFC 3261 10.2.2 de-registration over the SAs, with an
            # Authorization for the last nonce (nc 2, RFC 2617 3.2.2)
            cn2 = token(16)
            r2 = digest_response(a["impi"], ch.get("realm", ""), res, "REGISTER", uri, ch["nonce"], "00000002", cn2, qop)
            au2 = 'Digest username="%s", realm="%s", uri="%s", nonce="%s", algorithm=AKAv1-MD5, response="%s"' % (
                a["impi"], ch.get("realm", ""), uri, ch["nonce"], r2)
            if qop:
                au2 += ', qop=%s, nc=00000002, cnonce="%s"' % (qop, cn2)
            self.send_prot(self.register_msg(self.port_us, [("Authorization", au2), ("Security-Client", self.sec_client())]
                                             + [("Security-Verify", v) for v in srv_vals], expires=0))
            self.wait_resp(self.cseq, "ue-deregister")
        # anything still queued counts (kernel counters include it)
        while True:
            r, _, _ = select.select([self.sus, self.suc], [], [], 0.3)
            if not r:
                break
            for sk in r:
                data, src = sk.recvfrom(65535)
                name = "PC_US" if sk is self.sus else "PS_UC"
                self.tally[(0, name)] = self.tally.get((0, name), 0) + 1
                note("UE late %s from %s on SA %s" % (first_line(data), hostport(*src[:2]), name))

    def message(self, text):
        self.cseq += 1
        s = self.set
        hs = [("Via", "SIP/2.0/UDP %s;branch=z9hG4bK%s" % (hostport(self.ip, self.port_us), token(12))),
              ("Max-Forwards", "70"),
              ("Route", "<sip:%s;lr>" % hostport(self.pip, s.port_ps))]
        hs += [("Route", r) for r in self.service_route]
        hs += [("From", "<%s>;tag=%s" % (self.a["impu"], token(8))),
               ("To", "<sip:service@%s>" % self.a["realm"]),
               ("Call-ID", "mo-" + token(12)), ("CSeq", "%d MESSAGE" % self.cseq),
               ("Contact", "<sip:%s@%s>" % (self.user, hostport(self.ip, self.port_us))),
               ("Content-Type", "text/plain")]
        return build("MESSAGE sip:service@%s SIP/2.0" % self.a["realm"], hs, text)


def main():
    global TAG
    if len(sys.argv) < 2 or sys.argv[1] not in ("pcscf", "ue", "selftest"):
        sys.stderr.write("usage: ims_peer.py pcscf|ue|selftest [--option value ...] (see the source)\n")
        return 2
    role = sys.argv[1]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGUSR1, on_signal)
    if role == "selftest":
        self_test("selftest")
        return 0
    a = arg_parse(sys.argv[2:], PCSCF_DEFAULTS if role == "pcscf" else UE_DEFAULTS)
    TAG = a["tag"]
    self_test(role)
    try:
        (Pcscf if role == "pcscf" else Ue)(a).run()
    except Exception as e:  # a crash is a FAIL line, never a silent pass
        import traceback
        for l in traceback.format_exc().splitlines():
            note(l)
        check(role + "-crashed", False, "%s: %s" % (type(e).__name__, e))
    out("# END %s (%d failed)" % (role, NFAIL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
