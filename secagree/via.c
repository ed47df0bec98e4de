/*
 * via.c -- the top Via of a SIP message (RFC 3261 20.42) and the NAT
 * detection of TS 33.203 M.7.2 that rests on it: the P-CSCF compares the
 * packet's source address with the sent-by host; the UE looks for the
 * `received` parameter the P-CSCF added.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

static int sec_via_bad(imssec_errinfo *err, size_t off, const char *what)
{
    isc_fail(err, IMSSEC_E_SYNTAX, what, "RFC 3261 20.42");
    if (err)
        err->offset = off;
    return IMSSEC_E_SYNTAX;
}

IMSSEC_API int imssec_secagree_via_parse(imssec_str value, imssec_secagree_via *out,
                                         imssec_errinfo *err)
{
    imssec_secagree_via v;
    const char *p = value.p ? value.p : "";
    size_t n = value.n, i, s, part;
    imssec_secagree_param prm;
    int r;
    if ((n && !p) || !out)
        return isc_fail_param(err, "value", "NULL argument");
    memset(&v, 0, sizeof v);
    /* sent-protocol = protocol-name SLASH protocol-version SLASH transport */
    i = isc_lex_lws(p, n, 0);
    for (part = 0; part < 3; part++) {
        s = i;
        i = isc_lex_token(p, n, i);
        if (i == s)
            return sec_via_bad(err, i, "expected SIP/2.0/transport");
        if (part == 2) {
            v.transport.p = p + s;
            v.transport.n = i - s;
            break;
        }
        i = isc_lex_lws(p, n, i);
        if (i >= n || p[i] != '/')
            return sec_via_bad(err, i, "expected '/'");
        i = isc_lex_lws(p, n, i + 1);
    }
    /* LWS sent-by */
    s = i;
    i = isc_lex_lws(p, n, i);
    if (i == s)
        return sec_via_bad(err, i, "expected LWS before sent-by");
    s = i;
    if (i < n && p[i] == '[') {
        while (i < n && p[i] != ']')
            i++;
        if (i >= n)
            return sec_via_bad(err, s, "unterminated IPv6 reference");
        i++;
    } else {
        while (i < n && (isc_lex_is((unsigned char)p[i], ISC_LEX_ALNUM) || p[i] == '-' ||
                         p[i] == '.'))
            i++;
    }
    if (i == s)
        return sec_via_bad(err, i, "expected a sent-by host");
    v.host.p = p + s;
    v.host.n = i - s;
    {
        size_t c = isc_lex_lws(p, n, i);
        if (c < n && p[c] == ':') {
            uint32_t port;
            c = isc_lex_lws(p, n, c + 1);
            s = c;
            while (c < n && isc_is_digit((unsigned char)p[c]))
                c++;
            if (sec_number(p + s, c - s, 65535u, 5, &port) != IMSSEC_OK)
                return sec_via_bad(err, s, "bad sent-by port");
            v.port = (uint16_t)port;
            i = c;
        }
    }
    while ((r = sec_lex_param(p, n, &i, &prm)) == 1) {
        if (isc_token_eq(prm.name.p, prm.name.n, "received")) {
            if (!prm.value.p || v.received.p)
                return sec_via_bad(err, (size_t)(prm.name.p - p), "bad or repeated received");
            v.received = prm.value;
        } else if (isc_token_eq(prm.name.p, prm.name.n, "rport")) {
            if (v.has_rport)
                return sec_via_bad(err, (size_t)(prm.name.p - p), "repeated rport");
            v.has_rport = 1;
            if (prm.value.p) {
                uint32_t port;
                if (sec_number(prm.value.p, prm.value.n, 65535u, 5, &port) != IMSSEC_OK)
                    return sec_via_bad(err, (size_t)(prm.value.p - p), "bad rport");
                v.rport = (uint16_t)port;
            }
        }
    }
    if (r < 0)
        return sec_via_bad(err, i, "malformed via-params");
    *out = v;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_nat_detect(const imssec_secagree_via *via, const imssec_addr *src,
                                          int *nat)
{
    imssec_addr a;
    if (!via || !src || !nat || (src->len != 4 && src->len != 16) || !via->host.p)
        return IMSSEC_E_PARAM;
    if (!isc_addr_text(via->host.p, via->host.n, &a))
        return via->host.n && via->host.p[0] != '['
                   ? IMSSEC_E_UNSUPPORTED /* a domain name: resolve first (M.7.2 NOTE) */
                   : IMSSEC_E_SYNTAX;
    /* M.7.2: NAT when the source address differs from the sent-by host */
    *nat = !imssec_addr_equal(&a, src);
    return IMSSEC_OK;
}
