#!/usr/bin/env python3
"""capture_check.py -- the UE's side of the demo's capture, as Wireshark
decoded it (ESP decrypted with the demo's SA table), checked against what
real P-CSCFs expect of a UE (TS 24.229 5.1.1.2, 5.1.1.5; TS 33.203 7.1, 7.4;
RFC 3329 2.3.1).  The input is tshark's fields, one SIP message per line
(examples/demo.sh writes it); the ladder's own VERIFIED lines are not
consulted: this is Wireshark's reading of the bytes on the wire.

  capture_check.py FILE TRANSPORT     (TRANSPORT udp or tcp)

Fields (tab-separated, '#' between repeated values): frame, esp.spi,
udp.srcport, udp.dstport, tcp.srcport, tcp.dstport, sip.Method,
sip.Status-Code, sip.CSeq, sip.Call-ID, sip.Via, sip.Contact,
sip.Security-Server, sip.Security-Verify.

Which side sent a message is read from its Via headers: a request with one
Via is the UE's (it is the first hop), one with more comes from the P-CSCF;
a response with one Via answers the UE's request.  The demo's deliberately
unprotected MESSAGE (Call-ID "unprot-...", which the P-CSCF must refuse) is
left out of the "inside ESP" rule.

Prints "VERIFIED capture-24229-<rule>: ..." or "FAILED capture-24229-<rule>:
..." lines; exit status 1 if any failed.
"""
import re
import sys

F = ["frame", "spi", "usp", "udp", "tsp", "tdp", "method", "status", "cseq", "callid", "via",
     "contact", "secserver", "secverify"]


def vals(s):
    return [v for v in s.split("#") if v] if s else []


def sent_by_port(via):
    m = re.match(r"SIP/2\.0/[A-Za-z]+\s+(\[[^\]]+\]|[^:;\s]+):(\d+)", via.strip())
    return int(m.group(2)) if m else None


def uri_port(contact):
    m = re.search(r"<sip:[^@>]+@(\[[^\]]+\]|[^:;>]+):(\d+)", contact)
    return int(m.group(2)) if m else None


def main():
    path, transport = sys.argv[1], sys.argv[2]
    rows = []
    for line in open(path, encoding="utf-8", errors="replace"):
        p = line.rstrip("\n").split("\t")
        p += [""] * (len(F) - len(p))
        r = dict(zip(F, p))
        r["vias"] = vals(r["via"])
        r["esp"] = bool(r["spi"])
        # the inner ports: the last of the UDP (outer 4500, inner) or TCP ones
        ports = (r["tsp"], r["tdp"]) if transport == "tcp" and r["tsp"] else (r["usp"], r["udp"])
        r["sport"] = int(vals(ports[0].replace(",", "#"))[-1]) if ports[0] else None
        r["dport"] = int(vals(ports[1].replace(",", "#"))[-1]) if ports[1] else None
        rows.append(r)
    fails = 0

    def out(ok, rule, text):
        nonlocal fails
        fails += 0 if ok else 1
        print("%s capture-24229-%s: %s" % ("VERIFIED" if ok else "FAILED", rule, text))

    ue_req = [r for r in rows if r["method"] and len(r["vias"]) == 1]
    net_req = [r for r in rows if r["method"] and len(r["vias"]) >= 2]
    to_ue_resp = [r for r in rows if r["status"] and len(r["vias"]) == 1]
    from_ue_resp = [r for r in rows if r["status"] and len(r["vias"]) >= 2]
    if not ue_req or not any(r["esp"] for r in ue_req):
        out(False, "messages", "no UE request in the capture (%d SIP messages)" % len(rows))
        return 1

    # TS 24.229 5.1.1.2.1, TS 33.203 7.1: the Via sent-by of every REGISTER
    # and protected request is port_us, the one protected server port of the
    # UE, kept over re-registrations (7.4); the Contact carries it too.
    prot = [r for r in ue_req if r["esp"]]
    us = {sent_by_port(r["vias"][0]) for r in prot}
    port_us = us.pop() if len(us) == 1 else None
    out(port_us is not None, "via-port-us",
        "the Via sent-by port of all %d protected UE requests is port_us %s" % (len(prot), port_us)
        if port_us is not None else "protected UE requests name several Via ports: %s" % sorted(us))
    regs = [r for r in ue_req if r["method"] == "REGISTER" and not r["esp"]]
    bad = [r["frame"] for r in regs if sent_by_port(r["vias"][0]) != port_us]
    out(regs and not bad, "unprotected-register-port-us",
        "the %d unprotected REGISTER(s) already name port_us in Via (frames %s)" %
        (len(regs), ",".join(r["frame"] for r in regs)) if not bad else
        "unprotected REGISTER without port_us in Via: frames %s" % bad)
    withc = [r for r in ue_req if r["contact"]]
    bad = [r["frame"] for r in withc if uri_port(r["contact"]) != port_us]
    out(withc and not bad, "contact-port-us",
        "the Contact of %d UE requests is at port_us" % len(withc) if not bad else
        "Contact not at port_us: frames %s" % bad)

    # 7.1: after the first 401 everything of the UE travels inside ESP
    first401 = next((int(r["frame"]) for r in to_ue_resp if r["status"] == "401"), None)
    late = [r["frame"] for r in ue_req if not r["esp"] and first401 and int(r["frame"]) > first401
            and not r["callid"].startswith("unprot-") and r["method"] != "REGISTER"]
    out(first401 is not None and not late, "protected",
        "every UE request after the 401 is inside ESP, but the demo's deliberate unprotected MESSAGE"
        if not late else "UE requests outside ESP: frames %s" % late)

    # 7.1: who sends from and to which port
    if transport == "udp":
        bad = [r["frame"] for r in prot if r["sport"] == port_us]
        out(not bad, "udp-from-port-uc",
            "over UDP the UE sends its requests from port_uc (never from port_us %s)" % port_us
            if not bad else "requests from port_us: frames %s" % bad)
        inbound = [r for r in to_ue_resp + net_req if r["esp"]]
        bad = [r["frame"] for r in inbound if r["dport"] != port_us]
        out(inbound and not bad, "udp-to-port-us",
            "all %d responses and requests of the P-CSCF reach the UE at port_us %s" %
            (len(inbound), port_us) if not bad else "not to port_us: frames %s" % bad)
    else:
        req_port = {(r["callid"], r["cseq"]): r["sport"] for r in prot}
        resp = [r for r in to_ue_resp if r["esp"] and (r["callid"], r["cseq"]) in req_port]
        bad = [r["frame"] for r in resp if r["dport"] != req_port[(r["callid"], r["cseq"])]]
        out(resp and not bad, "tcp-response-same-connection",
            "the %d responses to the UE come back on their request's connection" % len(resp)
            if not bad else "responses on another connection: frames %s" % bad)
        nreq = [r for r in net_req if r["esp"]]
        bad = [r["frame"] for r in nreq if r["dport"] != port_us]
        out(nreq and not bad, "tcp-requests-to-port-us",
            "the %d requests of the P-CSCF come on connections to port_us %s" % (len(nreq), port_us)
            if not bad else "not to port_us: frames %s" % bad)

    # TS 24.229 5.1.1.5.1, RFC 3329 2.3.1: Security-Verify repeats the
    # Security-Server of the 401 exactly
    n, bad = 0, []
    for r in ue_req:
        if r["method"] != "REGISTER" or not r["secverify"]:
            continue
        prev = [x for x in to_ue_resp if x["status"] == "401" and x["secserver"] and
                int(x["frame"]) < int(r["frame"]) and x["callid"] == r["callid"]]
        n += 1
        if not prev or prev[-1]["secserver"] != r["secverify"]:
            bad.append(r["frame"])
    out(n and not bad, "security-verify",
        "the Security-Verify of %d REGISTERs equals the Security-Server of the 401 before it, "
        "byte for byte" % n if not bad else "Security-Verify differs: frames %s" % bad)
    # 7.1: the UE answers the P-CSCF's requests inside ESP as well
    bad = [r["frame"] for r in from_ue_resp if not r["esp"]]
    out(from_ue_resp and not bad, "responses-protected",
        "the UE's %d responses to the P-CSCF's requests are inside ESP" % len(from_ue_resp)
        if not bad else "unprotected responses: frames %s" % bad)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
