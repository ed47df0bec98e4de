/*
 * negotiate.c -- the security-mode set-up decisions of TS 33.203 clause 7.2
 * and Annex M (M.7.2): the P-CSCF's choice and Security-Server list, the
 * UE's choice from that list, and the Via facts NAT detection rests on.
 */
#include "../imssec.h"

/* Algorithms this library's ESP engine can run.  aes-gmac, alg=null and
 * aes-gcm are recognised by the parser but never negotiated. */
static int sec_alg_supported(int alg)
{
    if (alg == IMSSEC_ALG_HMAC_SHA1_96)
        return 1;
    return IMSSEC_ENABLE_HMAC_MD5 && alg == IMSSEC_ALG_HMAC_MD5_96;
}
static int sec_ealg_supported(int ealg)
{
    if (ealg == IMSSEC_EALG_NULL || ealg == IMSSEC_EALG_AES_CBC)
        return 1;
    return IMSSEC_ENABLE_3DES && ealg == IMSSEC_EALG_DES_EDE3_CBC;
}

/* Pair validity of later releases (E19): alg=null only with aes-gcm,
 * aes-gmac only without encryption. */
static int sec_pair_valid(int alg, int ealg)
{
    if (alg == IMSSEC_ALG_NULL)
        return ealg == IMSSEC_EALG_AES_GCM;
    if (alg == IMSSEC_ALG_AES_GMAC)
        return ealg == IMSSEC_EALG_NULL;
    return alg != IMSSEC_ALG_ABSENT && alg != IMSSEC_ALG_UNKNOWN && ealg != IMSSEC_EALG_UNKNOWN;
}

static int sec_eff_ealg(const imssec_sec_mech *m)
{
    return (m->present & IMSSEC_SECP_EALG) ? m->ealg : IMSSEC_EALG_NULL;
}
static int sec_eff_prot(const imssec_sec_mech *m)
{
    return (m->present & IMSSEC_SECP_PROT) ? m->prot : IMSSEC_PROT_ESP;
}

static void sec_set_reject(imssec_sec_reject *rej, const char *clause, int status,
                           const char *reason)
{
    if (rej) {
        rej->clause = clause;
        rej->sip_status = status;
        rej->reason = reason;
    }
}

/* A client entry the P-CSCF could ever use, mode aside: ipsec-3gpp, prot
 * esp, a valid and supported pair, and all four SA parameters. */
static int sec_client_usable(const imssec_sec_mech *m)
{
    return m->kind == IMSSEC_SEC_IPSEC_3GPP && (m->present & IMSSEC_SECP_ALG) &&
           sec_eff_prot(m) == IMSSEC_PROT_ESP &&
           sec_pair_valid(m->alg, sec_eff_ealg(m)) && sec_alg_supported(m->alg) &&
           sec_ealg_supported(sec_eff_ealg(m)) &&
           (m->present & IMSSEC_SECP_SA_PARAMS) == IMSSEC_SECP_SA_PARAMS;
}

static int sec_mode_of(const imssec_sec_mech *m)
{
    return (m->present & IMSSEC_SECP_MOD) ? m->mod : IMSSEC_MODE_TRANS;
}

/* 1 if policy entry k goes into the Security-Server list (SM6): not a
 * NULL-encryption pair when confidentiality is required, and, when it is
 * never used, only the first pair of each integrity algorithm. */
static int sec_server_lists(const imssec_sec_pcscf_policy *pol, int conf, size_t k)
{
    size_t j;
    if (conf == IMSSEC_CONF_REQUIRED && pol->pairs[k].ealg == IMSSEC_EALG_NULL)
        return 0;
    if (conf == IMSSEC_CONF_NEVER)
        for (j = 0; j < k; j++)
            if (pol->pairs[j].alg == pol->pairs[k].alg)
                return 0;
    return 1;
}

IMSSEC_API int imssec_secagree_pcscf_negotiate(const imssec_sec_mech *client, size_t n_client,
                                               const imssec_sec_pcscf_policy *pol, int nat,
                                               imssec_sec_mech *server, size_t cap,
                                               size_t *n_server, imssec_sec_choice *choice,
                                               imssec_sec_reject *rej)
{
    size_t k, j, need = 0, any_esp = 0, any_ah = 0, any_udp = 0, any_enc = 0;
    int want_mode = nat ? IMSSEC_MODE_UDP_ENC_TUN : IMSSEC_MODE_TRANS;
    int conf, found = 0;
    imssec_sec_choice ch;

    if ((n_client && !client) || !pol || (pol->n_pairs && !pol->pairs) || !n_server ||
        !choice || (cap && !server))
        return IMSSEC_E_PARAM;
    conf = pol->confidentiality;
    if (conf < IMSSEC_CONF_SUPPORTED || conf > IMSSEC_CONF_NEVER || pol->n_pairs == 0)
        return IMSSEC_E_PARAM;
    for (k = 0; k < pol->n_pairs; k++)
        if (!sec_pair_valid(pol->pairs[k].alg, pol->pairs[k].ealg) ||
            !sec_alg_supported(pol->pairs[k].alg) || !sec_ealg_supported(pol->pairs[k].ealg))
            return IMSSEC_E_PARAM;

    /* What did the UE offer at all? (for a precise reason) */
    for (k = 0; k < n_client; k++) {
        const imssec_sec_mech *m = &client[k];
        if (m->kind != IMSSEC_SEC_IPSEC_3GPP)
            continue;
        if (sec_eff_prot(m) == IMSSEC_PROT_AH)
            any_ah++;
        if (!sec_client_usable(m))
            continue;
        any_esp++;
        if (sec_mode_of(m) == IMSSEC_MODE_UDP_ENC_TUN)
            any_udp++;
        if (sec_eff_ealg(m) != IMSSEC_EALG_NULL)
            any_enc++;
    }
    /* M.7.2 / M.7.3.2.4: behind a NAT only UDP-encapsulated tunnel mode
     * works; without it on either side the SM1 is silently discarded. */
    if (nat && (!pol->udp_encap || !IMSSEC_ENABLE_UDPENCAP || any_udp == 0)) {
        sec_set_reject(rej, "M.7.3.2.4", 0,
                       !pol->udp_encap ? "NAT detected but the P-CSCF has no UDP-enc-tun"
                                       : "NAT detected but the UE did not offer UDP-enc-tun");
        return IMSSEC_E_SECAGREE_REJECT;
    }
    if (any_esp == 0) {
        sec_set_reject(rej, "7.3.2.1", 494,
                       any_ah ? "only prot=ah offered (clause 6: esp only)"
                              : "no supported ipsec-3gpp offer");
        return IMSSEC_E_SECAGREE_REJECT;
    }
    if (conf == IMSSEC_CONF_REQUIRED && any_enc == 0) {
        sec_set_reject(rej, "7.2", 494, "confidentiality required but the UE offered none");
        return IMSSEC_E_SECAGREE_REJECT;
    }

    /* Clause 7.2: the first combination of the P-CSCF's list that the UE
     * also offered.  Pairs, never alg and ealg separately (kamailio #4211,
     * phhusson/ims #13). */
    memset(&ch, 0, sizeof ch);
    for (k = 0; k < pol->n_pairs && !found; k++) {
        int palg = pol->pairs[k].alg, pealg = pol->pairs[k].ealg;
        if (conf == IMSSEC_CONF_REQUIRED && pealg == IMSSEC_EALG_NULL)
            continue;
        if (conf == IMSSEC_CONF_NEVER)
            pealg = IMSSEC_EALG_NULL;
        for (j = 0; j < n_client && !found; j++) {
            const imssec_sec_mech *m = &client[j];
            if (!sec_client_usable(m) || m->alg != palg || sec_mode_of(m) != want_mode)
                continue;
            /* NEVER: the UE will select null encryption (7.2), whatever
             * ealg its offer carried for this alg. */
            if (conf != IMSSEC_CONF_NEVER && sec_eff_ealg(m) != pealg)
                continue;
            ch.index = j;
            ch.alg = palg;
            ch.ealg = pealg;
            ch.mod = want_mode;
            ch.spi_c = m->spi_c;
            ch.spi_s = m->spi_s;
            ch.port_c = m->port_c;
            ch.port_s = m->port_s;
            found = 1;
        }
    }
    if (!found) {
        sec_set_reject(rej, "7.3.2.1", 494, "no offered combination is in the P-CSCF's list");
        return IMSSEC_E_SECAGREE_REJECT;
    }

    /* The Security-Server list (SM6). */
    for (k = 0; k < pol->n_pairs; k++)
        need += (size_t)sec_server_lists(pol, conf, k);
    if (need > cap) {
        *n_server = need;
        return IMSSEC_E_SPACE;
    }
    need = 0;
    for (k = 0; k < pol->n_pairs; k++) {
        imssec_sec_mech *s;
        if (!sec_server_lists(pol, conf, k))
            continue;
        s = &server[need++];
        memset(s, 0, sizeof *s);
        s->kind = IMSSEC_SEC_IPSEC_3GPP;
        s->alg = pol->pairs[k].alg;
        s->ealg = pol->pairs[k].ealg;
        s->prot = IMSSEC_PROT_ESP;
        s->mod = want_mode;
        s->present = IMSSEC_SECP_ALG | IMSSEC_SECP_PROT | IMSSEC_SECP_MOD;
        /* NEVER: "it shall not include encryption algorithms" (7.2) */
        if (conf != IMSSEC_CONF_NEVER)
            s->present |= IMSSEC_SECP_EALG;
        if (pol->spi_pc && pol->spi_ps && pol->port_pc && pol->port_ps) {
            s->spi_c = pol->spi_pc;
            s->spi_s = pol->spi_ps;
            s->port_c = pol->port_pc;
            s->port_s = pol->port_ps;
            s->present |= IMSSEC_SECP_SA_PARAMS;
        }
    }
    *n_server = need;
    *choice = ch;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_ue_select(const imssec_sec_mech *server, size_t n_server,
                                         const imssec_sec_pair *sup, size_t n_sup,
                                         int udp_encap, int nat, imssec_sec_choice *choice,
                                         imssec_sec_reject *rej)
{
    size_t k, j, any_sa = 0, best = 0;
    int best_q = -1, nat_abort = 0;
    if ((n_server && !server) || (n_sup && !sup) || !choice)
        return IMSSEC_E_PARAM;
    for (k = 0; k < n_server; k++) {
        const imssec_sec_mech *m = &server[k];
        int q, mode, ok = 0;
        if (m->kind != IMSSEC_SEC_IPSEC_3GPP)
            continue;
        /* E15: a list without SPIs and ports (421/494) is a capability
         * list, never an SA proposal. */
        if ((m->present & IMSSEC_SECP_SA_PARAMS) != IMSSEC_SECP_SA_PARAMS)
            continue;
        any_sa++;
        if (!(m->present & IMSSEC_SECP_ALG) || sec_eff_prot(m) != IMSSEC_PROT_ESP ||
            !sec_pair_valid(m->alg, sec_eff_ealg(m)) || !sec_alg_supported(m->alg) ||
            !sec_ealg_supported(sec_eff_ealg(m)))
            continue;
        for (j = 0; j < n_sup && !ok; j++)
            ok = sup[j].alg == m->alg && sup[j].ealg == sec_eff_ealg(m);
        if (!ok)
            continue;
        mode = sec_mode_of(m);
        if (mode == IMSSEC_MODE_UDP_ENC_TUN) {
            if (!udp_encap || !IMSSEC_ENABLE_UDPENCAP)
                continue;
        } else if (mode == IMSSEC_MODE_TRANS) {
            /* M.7.2: no mode information and a `received` in the top Via:
             * behind a NAT, transport mode cannot work. */
            if (nat && !(m->present & IMSSEC_SECP_MOD)) {
                nat_abort = 1;
                continue;
            }
        } else {
            continue;
        }
        /* RFC 3329 2.3.1: highest q first; absent q ranks as 1 (the RFC 3261
         * Accept convention); ties keep list order (strict '>'). */
        q = (m->present & IMSSEC_SECP_Q) ? m->q : 1000;
        if (q > best_q) {
            best_q = q;
            best = k;
        }
    }
    if (best_q < 0) {
        if (nat_abort)
            sec_set_reject(rej, "M.7.2", 0, "behind a NAT and the server gave no mode");
        else if (any_sa == 0)
            sec_set_reject(rej, "7.3.2.2", 0, "no SA proposal (capability list only)");
        else
            sec_set_reject(rej, "7.3.2.2", 0, "no acceptable entry in Security-Server");
        return IMSSEC_E_SECAGREE_REJECT;
    }
    {
        const imssec_sec_mech *m = &server[best];
        imssec_sec_choice ch;
        memset(&ch, 0, sizeof ch);
        ch.index = best;
        ch.alg = m->alg;
        ch.ealg = sec_eff_ealg(m);
        ch.mod = sec_mode_of(m);
        ch.spi_c = m->spi_c;
        ch.spi_s = m->spi_s;
        ch.port_c = m->port_c;
        ch.port_s = m->port_s;
        *choice = ch;
    }
    return IMSSEC_OK;
}

/* ---- Via ------------------------------------------------------------------- */

IMSSEC_API int imssec_secagree_via_parse(const char *p, size_t n, imssec_sec_via *out)
{
    imssec_sec_via v;
    size_t i, s, part;
    imssec_sec_param prm;
    int r;
    if ((n && !p) || !out)
        return IMSSEC_E_PARAM;
    memset(&v, 0, sizeof v);
    /* sent-protocol = protocol-name SLASH protocol-version SLASH transport */
    i = sec_skip_lws(p, n, 0);
    for (part = 0; part < 3; part++) {
        s = i;
        while (i < n && sec_is_token((unsigned char)p[i]))
            i++;
        if (i == s)
            return IMSSEC_E_SYNTAX;
        if (part == 2) {
            v.transport = p + s;
            v.transport_len = i - s;
            break;
        }
        i = sec_skip_lws(p, n, i);
        if (i >= n || p[i] != '/')
            return IMSSEC_E_SYNTAX;
        i = sec_skip_lws(p, n, i + 1);
    }
    /* LWS sent-by */
    s = i;
    i = sec_skip_lws(p, n, i);
    if (i == s)
        return IMSSEC_E_SYNTAX;
    s = i;
    if (i < n && p[i] == '[') {
        while (i < n && p[i] != ']')
            i++;
        if (i >= n)
            return IMSSEC_E_SYNTAX;
        i++;
    } else {
        while (i < n && (sec_is_alnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '.'))
            i++;
    }
    if (i == s)
        return IMSSEC_E_SYNTAX;
    v.host = p + s;
    v.host_len = i - s;
    {
        size_t c = sec_skip_lws(p, n, i);
        if (c < n && p[c] == ':') {
            uint32_t port;
            c = sec_skip_lws(p, n, c + 1);
            s = c;
            while (c < n && isc_is_digit((unsigned char)p[c]))
                c++;
            if (sec_number(p + s, c - s, 65535u, 5, &port) != IMSSEC_OK)
                return IMSSEC_E_SYNTAX;
            v.port = (uint16_t)port;
            i = c;
        }
    }
    while ((r = sec_lex_param(p, n, &i, &prm)) == 1) {
        if (isc_token_eq(prm.name, prm.name_len, "received")) {
            if (!prm.value || v.received)
                return IMSSEC_E_SYNTAX;
            v.received = prm.value;
            v.received_len = prm.value_len;
        } else if (isc_token_eq(prm.name, prm.name_len, "rport")) {
            if (v.has_rport)
                return IMSSEC_E_SYNTAX;
            v.has_rport = 1;
            if (prm.value) {
                uint32_t port;
                if (sec_number(prm.value, prm.value_len, 65535u, 5, &port) != IMSSEC_OK)
                    return IMSSEC_E_SYNTAX;
                v.rport = (uint16_t)port;
            }
        }
    }
    if (r < 0)
        return IMSSEC_E_SYNTAX;
    *out = v;
    return IMSSEC_OK;
}

/* Dotted-quad IPv4, four decimal parts 0..255 without leading zeros. */
static int sec_ip4(const char *p, size_t n, uint8_t out[4])
{
    size_t i = 0, part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0, d = 0;
        if (part) {
            if (i >= n || p[i] != '.')
                return 0;
            i++;
        }
        while (i < n && isc_is_digit((unsigned char)p[i]) && d < 4) {
            v = v * 10 + (unsigned)(p[i++] - '0');
            d++;
        }
        if (d == 0 || d > 3 || v > 255 || (d > 1 && p[i - d] == '0'))
            return 0;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

static int sec_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = isc_lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* RFC 4291 2.2 text forms, including "::" and a trailing dotted quad. */
static int sec_ip6(const char *p, size_t n, uint8_t out[16])
{
    uint8_t a[16];
    size_t i = 0, w = 0, gap = 16;
    int have_gap = 0;
    memset(a, 0, sizeof a);
    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        have_gap = 1;
        gap = 0;
        i = 2;
    } else if (n >= 1 && p[0] == ':') {
        return 0;
    }
    while (i < n) {
        unsigned v = 0, d = 0;
        size_t s = i;
        while (i < n && sec_hexval((unsigned char)p[i]) >= 0 && d < 5) {
            v = v * 16 + (unsigned)sec_hexval((unsigned char)p[i++]);
            d++;
        }
        if (i < n && p[i] == '.') { /* embedded IPv4 in the last 32 bits */
            if (w > 12 || !sec_ip4(p + s, n - s, a + w))
                return 0;
            w += 4;
            i = n;
            break;
        }
        if (d == 0 || d > 4 || w > 14)
            return 0;
        a[w++] = (uint8_t)(v >> 8);
        a[w++] = (uint8_t)v;
        if (i == n)
            break;
        if (p[i] != ':')
            return 0;
        i++;
        if (i < n && p[i] == ':') {
            if (have_gap)
                return 0;
            have_gap = 1;
            gap = w;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return 0;
        }
    }
    if (have_gap) {
        size_t tail = w - gap;
        if (w > 14)
            return 0;
        memset(out, 0, 16);
        memcpy(out, a, gap);
        memcpy(out + 16 - tail, a + gap, tail);
        return 1;
    }
    if (w != 16)
        return 0;
    memcpy(out, a, 16);
    return 1;
}

IMSSEC_API int imssec_secagree_nat_detect(const imssec_sec_via *via, const uint8_t *src,
                                          size_t src_len, int *nat)
{
    uint8_t a[16];
    size_t alen;
    if (!via || !src || !nat || (src_len != 4 && src_len != 16) || !via->host)
        return IMSSEC_E_PARAM;
    if (via->host_len >= 2 && via->host[0] == '[' && via->host[via->host_len - 1] == ']') {
        if (!sec_ip6(via->host + 1, via->host_len - 2, a))
            return IMSSEC_E_SYNTAX;
        alen = 16;
    } else if (sec_ip4(via->host, via->host_len, a)) {
        alen = 4;
    } else {
        return IMSSEC_E_UNSUPPORTED; /* a domain name: resolve first (M.7.2 NOTE) */
    }
    *nat = !(alen == src_len && memcmp(a, src, alen) == 0);
    return IMSSEC_OK;
}
