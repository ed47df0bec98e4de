/*
 * core/tls_partner.c -- TS 33.203 6.5 (as changed): the CSCF "shall verify
 * the name on the certificate against the list of the interworking
 * partners", with RFC 5922 7.1 for which names a SIP certificate carries.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

/* A name without a final dot. */
static imssec_str isc_host_trim(imssec_str s)
{
    if (s.n && s.p[s.n - 1] == '.')
        s.n--;
    return s;
}

static int isc_host_eq(imssec_str a, imssec_str b)
{
    size_t i;
    a = isc_host_trim(a);
    b = isc_host_trim(b);
    if (a.n == 0 || a.n != b.n)
        return 0;
    for (i = 0; i < a.n; i++) {
        int x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
        if (x >= 'A' && x <= 'Z')
            x += 'a' - 'A';
        if (y >= 'A' && y <= 'Z')
            y += 'a' - 'A';
        if (x != y || x == '*')
            return 0; /* RFC 5922 7.2: no wildcards */
    }
    return 1;
}

/* RFC 5922 7.1: the host of a sip: or sips: URI (userinfo and port,
 * parameters and headers dropped); {NULL, 0} for any other URI. */
static imssec_str isc_uri_host(imssec_str u)
{
    imssec_str h = {NULL, 0};
    size_t i = 0, s, e;
    if (u.n >= 4 && (u.p[0] | 0x20) == 's' && (u.p[1] | 0x20) == 'i' && (u.p[2] | 0x20) == 'p') {
        i = 3;
        if (i < u.n && (u.p[i] | 0x20) == 's')
            i++;
        if (i >= u.n || u.p[i] != ':')
            return h;
        i++;
    } else {
        return h;
    }
    s = i;
    for (e = i; e < u.n; e++) /* userinfo */
        if (u.p[e] == '@') {
            s = e + 1;
            break;
        }
    for (e = s; e < u.n && u.p[e] != ':' && u.p[e] != ';' && u.p[e] != '?' && u.p[e] != '>'; e++)
        ;
    h.p = u.p + s;
    h.n = e - s;
    return h;
}

IMSSEC_API int imssec_tls_partner_check(const imssec_str *partners, size_t n_partners,
                                        const imssec_cert_name *names, size_t n_names,
                                        size_t *which, imssec_errinfo *err)
{
    size_t i, k, sans = 0;
    if ((n_partners && !partners) || (n_names && !names))
        return isc_fail_param(err, "partners / names", "NULL argument");
    for (i = 0; i < n_names; i++)
        sans += names[i].kind == IMSSEC_CERT_SAN_URI || names[i].kind == IMSSEC_CERT_SAN_DNS;
    for (i = 0; i < n_names; i++) {
        imssec_str h = names[i].name;
        if (names[i].kind == IMSSEC_CERT_SAN_URI)
            h = isc_uri_host(h);
        else if (names[i].kind == IMSSEC_CERT_CN ? sans != 0 : names[i].kind != IMSSEC_CERT_SAN_DNS)
            continue; /* the CN counts only without subjectAltName names */
        if (!h.p)
            continue;
        for (k = 0; k < n_partners; k++)
            if (isc_host_eq(h, partners[k])) {
                if (which)
                    *which = k;
                return IMSSEC_OK;
            }
    }
    isc_fail(err, IMSSEC_E_NOT_FOUND,
             n_names ? "no name on the certificate is an interworking partner"
                     : "the certificate carries no name",
             "TS 33.203 6.5, RFC 5922 7.1");
    return IMSSEC_E_NOT_FOUND;
}
