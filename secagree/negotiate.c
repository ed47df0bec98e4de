/*
 * negotiate.c -- the security mode set-up decisions of TS 33.203 clause 7.2
 * and Annex M (M.7.2): the UE's offer (SM1), the P-CSCF's choice (SM1) and
 * Security-Server list (SM6), and the UE's choice from that list (SM6).
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

/* Algorithms this library's ESP engine can run: the Release 7 ones and
 * the later-release AES-GMAC (RFC 4543) and alg=null (only with AES-GCM,
 * sec_pair_valid). */
static int sec_alg_supported(int alg)
{
    if (alg == IMSSEC_ALG_HMAC_SHA1_96 || alg == IMSSEC_ALG_AES_GMAC || alg == IMSSEC_ALG_NULL)
        return 1;
    return IMSSEC_ENABLE_HMAC_MD5 && alg == IMSSEC_ALG_HMAC_MD5_96;
}
static int sec_ealg_supported(int ealg)
{
    if (ealg == IMSSEC_EALG_NULL || ealg == IMSSEC_EALG_AES_CBC || ealg == IMSSEC_EALG_AES_GCM)
        return 1;
    return IMSSEC_ENABLE_3DES && ealg == IMSSEC_EALG_DES_EDE3_CBC;
}

/* Pair validity of later releases: alg=null only with aes-gcm, aes-gcm
 * only with alg=null (RFC 4106: its own integrity), aes-gmac only without
 * encryption (RFC 4543). */
static int sec_pair_valid(int alg, int ealg)
{
    if (alg == IMSSEC_ALG_NULL)
        return ealg == IMSSEC_EALG_AES_GCM;
    if (alg == IMSSEC_ALG_AES_GMAC)
        return ealg == IMSSEC_EALG_NULL;
    if (ealg == IMSSEC_EALG_AES_GCM)
        return 0;
    return alg > IMSSEC_ALG_NULL && alg < IMSSEC_ALG_UNKNOWN && ealg >= IMSSEC_EALG_NULL &&
           ealg < IMSSEC_EALG_UNKNOWN;
}

static int sec_pair_usable(int alg, int ealg)
{
    return sec_pair_valid(alg, ealg) && sec_alg_supported(alg) && sec_ealg_supported(ealg);
}

/* Absent ealg, prot and mod take their Annex H defaults, which are the
 * zero values: a parsed mechanism holds 0 for an absent parameter. */
static int sec_usable_proposal(const imssec_secagree_mech *m)
{
    return m->kind == IMSSEC_SECAGREE_IPSEC_3GPP && (m->present & IMSSEC_SECAGREE_HAS_ALG) &&
           m->prot == IMSSEC_SECAGREE_PROT_ESP &&
           (m->present & IMSSEC_SECAGREE_HAS_SA_PARAMS) == IMSSEC_SECAGREE_HAS_SA_PARAMS;
}

/* 7.1: "The ports port_us and port_uc are different from the standard SIP
 * ports 5060 and 5061" (items 1 and 2; so are the P-CSCF's). */
static int sec_ports_allowed(const imssec_secagree_mech *m)
{
    return m->port_c != 5060 && m->port_c != 5061 && m->port_s != 5060 && m->port_s != 5061;
}

static int sec_policy_ok(const imssec_secagree_policy *pol, imssec_errinfo *err)
{
    size_t k;
    if (!pol || (pol->n_pairs && !pol->pairs))
        return isc_fail_param(err, "policy", "NULL policy or pairs");
    if (pol->confidentiality < IMSSEC_SECAGREE_CONF_SUPPORTED ||
        pol->confidentiality > IMSSEC_SECAGREE_CONF_NEVER)
        return isc_fail_param(err, "policy->confidentiality", "not a imssec_secagree_conf");
    if (pol->n_pairs == 0)
        return isc_fail_param(err, "policy->n_pairs", "no pair");
    for (k = 0; k < pol->n_pairs; k++) {
        if (!sec_pair_usable(pol->pairs[k].alg, pol->pairs[k].ealg))
            return isc_fail_param(err, "policy->pairs", "pair not valid or not compiled in");
        /* 7.2 NEVER: no encryption is used, and aes-gcm is nothing else
         * (its alg=null would be left with no protection at all) */
        if (pol->confidentiality == IMSSEC_SECAGREE_CONF_NEVER &&
            pol->pairs[k].ealg == IMSSEC_EALG_AES_GCM)
            return isc_fail_param(err, "policy->pairs",
                                  "aes-gcm in a policy that never uses confidentiality");
    }
    return IMSSEC_OK;
}

/* The policy's pairs in priority order: 7.2 (M.7.2 likewise) "Release 6
 * algorithms shall have higher priority than Release 5 algorithms", so
 * the pairs with encryption (Release 6) come first, each group in the
 * caller's order; with CONF_NEVER only the caller's order counts.  The
 * index into pol->pairs of the j-th pair in that order. */
static size_t sec_prio(const imssec_secagree_policy *pol, size_t j)
{
    size_t k, seen = 0;
    int pass;
    if (pol->confidentiality == IMSSEC_SECAGREE_CONF_NEVER)
        return j;
    for (pass = 0; pass < 2; pass++)
        for (k = 0; k < pol->n_pairs; k++)
            if ((pol->pairs[k].ealg == IMSSEC_EALG_NULL) == (pass == 1) && seen++ == j)
                return k;
    return j; /* not reached: j < n_pairs */
}

static int sec_reject(imssec_errinfo *err, const char *clause, int status, const char *what)
{
    isc_fail(err, IMSSEC_E_SECAGREE_REJECT, what, clause);
    if (err)
        err->sip_status = status;
    return IMSSEC_E_SECAGREE_REJECT;
}

IMSSEC_API int imssec_secagree_pcscf_choose(const imssec_secagree_mech *client, size_t n_client,
                                            const imssec_secagree_policy *pol, int nat,
                                            imssec_secagree_choice *choice, imssec_errinfo *err)
{
    size_t k, j, any_esp = 0, any_ah = 0, any_udp = 0, any_enc = 0, any_sip_port = 0;
    int want_mode = nat ? IMSSEC_MODE_UDP_ENC_TUN : IMSSEC_MODE_TRANS, conf, r;
    if ((n_client && !client) || !choice)
        return isc_fail_param(err, "client", "NULL argument");
    if ((r = sec_policy_ok(pol, err)) != IMSSEC_OK)
        return r;
    conf = pol->confidentiality;

    /* What did the UE offer at all? (for a precise reason) */
    for (k = 0; k < n_client; k++) {
        const imssec_secagree_mech *m = &client[k];
        if (m->kind != IMSSEC_SECAGREE_IPSEC_3GPP)
            continue;
        if (m->prot == IMSSEC_SECAGREE_PROT_AH)
            any_ah++;
        if (!sec_usable_proposal(m) || !sec_pair_usable(m->alg, m->ealg))
            continue;
        if (!sec_ports_allowed(m)) {
            any_sip_port++;
            continue;
        }
        any_esp++;
        any_udp += m->mode == IMSSEC_MODE_UDP_ENC_TUN;
        any_enc += m->ealg != IMSSEC_EALG_NULL;
    }
    /* M.7.2 / M.7.3.2.4: behind a NAT only UDP-encapsulated tunnel mode
     * works; without it on either side the SM1 is silently discarded. */
    if (nat && (!pol->udp_encap || !IMSSEC_ENABLE_UDPENCAP || any_udp == 0))
        return sec_reject(err, "TS 33.203 M.7.3.2.4", 0,
                          !pol->udp_encap ? "NAT detected but the P-CSCF has no UDP-enc-tun"
                                          : "NAT detected but the UE did not offer UDP-enc-tun");
    if (any_esp == 0)
        return sec_reject(err, any_sip_port ? "TS 33.203 7.1, 7.3.2.1" : "TS 33.203 7.3.2.1", 494,
                          any_sip_port ? "the offered protected ports are 5060 or 5061"
                          : any_ah     ? "only prot=ah offered (clause 6: esp only)"
                                       : "no supported ipsec-3gpp offer");
    if (conf == IMSSEC_SECAGREE_CONF_REQUIRED && any_enc == 0)
        return sec_reject(err, "TS 33.203 7.2", 494,
                          "confidentiality required but the UE offered none");

    /* 7.2: the first combination of the P-CSCF's list that the UE also
     * offered.  Pairs, never alg and ealg separately: choosing each on its
     * own can produce a combination the UE never offered. */
    for (k = 0; k < pol->n_pairs; k++) {
        size_t pk = sec_prio(pol, k);
        int palg = pol->pairs[pk].alg, pealg = pol->pairs[pk].ealg;
        if (conf == IMSSEC_SECAGREE_CONF_REQUIRED && pealg == IMSSEC_EALG_NULL)
            continue;
        if (conf == IMSSEC_SECAGREE_CONF_NEVER)
            pealg = IMSSEC_EALG_NULL;
        for (j = 0; j < n_client; j++) {
            const imssec_secagree_mech *m = &client[j];
            if (!sec_usable_proposal(m) || !sec_pair_usable(m->alg, m->ealg) ||
                !sec_ports_allowed(m) || m->alg != palg || m->mode != want_mode)
                continue;
            /* NEVER: the UE will select null encryption (7.2), whatever
             * ealg its offer carried for this alg. */
            if (conf != IMSSEC_SECAGREE_CONF_NEVER && m->ealg != pealg)
                continue;
            memset(choice, 0, sizeof *choice);
            choice->index = j;
            choice->alg = palg;
            choice->ealg = pealg;
            choice->mode = want_mode;
            choice->spi_c = m->spi_c;
            choice->spi_s = m->spi_s;
            choice->port_c = m->port_c;
            choice->port_s = m->port_s;
            return IMSSEC_OK;
        }
    }
    return sec_reject(err, "TS 33.203 7.3.2.1", 494,
                      "no offered combination is in the P-CSCF's list");
}

/* 1 if policy entry k goes into the Security-Server list (SM6): not a
 * NULL-encryption pair when confidentiality is required, and, when it is
 * never used, only the first pair of each integrity algorithm. */
static int sec_server_lists(const imssec_secagree_policy *pol, size_t k)
{
    size_t j;
    if (pol->confidentiality == IMSSEC_SECAGREE_CONF_REQUIRED &&
        pol->pairs[k].ealg == IMSSEC_EALG_NULL)
        return 0;
    if (pol->confidentiality == IMSSEC_SECAGREE_CONF_NEVER)
        for (j = 0; j < k; j++)
            if (pol->pairs[j].alg == pol->pairs[k].alg)
                return 0;
    return 1;
}

/* Write a list of ipsec-3gpp entries, one per usable entry of pairs[] in
 * each of modes[]: the body shared by the Security-Server and
 * Security-Client builders. */
static void sec_put_entries(isc_sbuf *b, const imssec_secagree_pair *pairs, size_t n_pairs,
                            const imssec_secagree_policy *server_policy, const int *modes,
                            size_t n_modes, int with_ealg, uint32_t spi_c, uint32_t spi_s,
                            uint16_t port_c, uint16_t port_s, size_t max_entries)
{
    size_t md, j, written = 0;
    for (md = 0; md < n_modes; md++) {
        for (j = 0; j < n_pairs && written < max_entries; j++) {
            size_t k = server_policy ? sec_prio(server_policy, j) : j;
            if (server_policy && !sec_server_lists(server_policy, k))
                continue;
            if (written++)
                isc_sb_puts(b, ", ");
            isc_sb_puts(b, "ipsec-3gpp;alg=");
            isc_sb_puts(b, imssec_alg_name(pairs[k].alg));
            if (with_ealg) {
                isc_sb_puts(b, ";ealg=");
                isc_sb_puts(b, imssec_ealg_name(pairs[k].ealg));
            }
            isc_sb_puts(b, ";prot=esp;mod=");
            isc_sb_puts(b, imssec_mode_name(modes[md]));
            if (spi_c) {
                isc_sb_puts(b, ";spi-c=");
                isc_sb_putu(b, spi_c);
                isc_sb_puts(b, ";spi-s=");
                isc_sb_putu(b, spi_s);
                isc_sb_puts(b, ";port-c=");
                isc_sb_putu(b, port_c);
                isc_sb_puts(b, ";port-s=");
                isc_sb_putu(b, port_s);
            }
        }
    }
}

/* TS 33.328 7.1.1 with TS 24.229 7.2A.7: "e2ae-security supported" is
 * the media mechanism sdes-srtp with the mediasec parameter, listed after
 * the ipsec-3gpp entries (it is not an SA proposal). */
static void sec_put_e2ae(isc_sbuf *b, int e2ae)
{
    if (e2ae)
        isc_sb_puts(b, ", sdes-srtp;mediasec");
}

IMSSEC_API int imssec_secagree_e2ae(const imssec_secagree_mech *m, size_t n)
{
    size_t k;
    for (k = 0; m && k < n; k++) {
        size_t cur = 0;
        imssec_secagree_param p;
        if (!isc_token_eq(m[k].name.p, m[k].name.n, "sdes-srtp"))
            continue;
        while (imssec_secagree_param_next(&m[k], &cur, &p) == 1)
            if (!p.value.p && isc_token_eq(p.name.p, p.name.n, "mediasec"))
                return 1;
    }
    return 0;
}

/* Measure, then write: the output convention for a builder body. */
#define SEC_BUILD_TWICE(b, out, out_cap, out_len, CALL)                                      \
    do {                                                                                     \
        isc_sb_init(&(b), NULL, 0);                                                          \
        CALL;                                                                                \
        *(out_len) = (b).len;                                                                \
        if ((b).len > (out_cap))                                                             \
            return IMSSEC_E_SPACE;                                                           \
        isc_sb_init(&(b), (out), (out_cap));                                                 \
        CALL;                                                                                \
    } while (0)

IMSSEC_API int imssec_secagree_server_build(const imssec_secagree_policy *pol, int nat,
                                            uint32_t spi_pc, uint32_t spi_ps, uint16_t port_pc,
                                            uint16_t port_ps, char *out, size_t out_cap,
                                            size_t *out_len)
{
    isc_sbuf b;
    int mode = nat ? IMSSEC_MODE_UDP_ENC_TUN : IMSSEC_MODE_TRANS;
    int all = spi_pc && spi_ps && port_pc && port_ps, none = !(spi_pc | spi_ps | port_pc | port_ps);
    if (!out_len || (out_cap && !out) || sec_policy_ok(pol, NULL) != IMSSEC_OK ||
        !(all || none) || (all && port_pc == port_ps))
        return IMSSEC_E_PARAM;
    /* 7.2: NEVER means "it shall not include encryption algorithms" */
    SEC_BUILD_TWICE(b, out, out_cap, out_len,
                    (sec_put_entries(&b, pol->pairs, pol->n_pairs, pol, &mode, 1,
                                     pol->confidentiality != IMSSEC_SECAGREE_CONF_NEVER, spi_pc,
                                     spi_ps, port_pc, port_ps, (size_t)-1),
                     sec_put_e2ae(&b, pol->e2ae)));
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_client_build(const imssec_secagree_offer *o, uint32_t spi_c,
                                            uint32_t spi_s, uint16_t port_c, uint16_t port_s,
                                            char *out, size_t out_cap, size_t *out_len,
                                            imssec_errinfo *err)
{
    static const int trans_only[1] = {IMSSEC_MODE_TRANS};
    const int *modes;
    size_t n_modes, k, any_enc = 0;
    isc_sbuf b;
    if (!o || !out_len || (out_cap && !out) || (o->n_pairs && !o->pairs) ||
        (o->n_modes && !o->modes))
        return isc_fail_param(err, "offer", "NULL argument");
    if (o->n_pairs == 0)
        return isc_fail_param(err, "offer->n_pairs", "no pair to offer");
    if (!spi_c || !spi_s || !port_c || !port_s || port_c == port_s)
        return isc_fail_param(err, "spi_c/spi_s/port_c/port_s", "zero values or equal ports");
    modes = o->n_modes ? o->modes : trans_only;
    n_modes = o->n_modes ? o->n_modes : 1;
    for (k = 0; k < n_modes; k++)
        if (modes[k] != IMSSEC_MODE_TRANS &&
            !(modes[k] == IMSSEC_MODE_UDP_ENC_TUN && IMSSEC_ENABLE_UDPENCAP))
            return isc_fail_param(err, "offer->modes", "only trans and UDP-enc-tun are offered");
    for (k = 0; k < o->n_pairs; k++) {
        if (!sec_pair_usable(o->pairs[k].alg, o->pairs[k].ealg))
            return isc_fail_param(err, "offer->pairs", "pair not valid or not compiled in");
        any_enc += o->pairs[k].ealg != IMSSEC_EALG_NULL;
    }
    /* TS 33.203 5.1.3: "The UE shall always offer encryption algorithms" */
    if ((o->single ? o->pairs[0].ealg == IMSSEC_EALG_NULL : any_enc == 0) &&
        !o->allow_no_encryption) {
        isc_fail(err, IMSSEC_E_PARAM, "the UE shall always offer encryption algorithms",
                 "TS 33.203 5.1.3");
        if (err)
            err->param = "offer->pairs";
        return IMSSEC_E_PARAM;
    }
    SEC_BUILD_TWICE(b, out, out_cap, out_len,
                    (sec_put_entries(&b, o->pairs, o->n_pairs, NULL, modes, o->single ? 1 : n_modes,
                                     1, spi_c, spi_s, port_c, port_s, o->single ? 1 : (size_t)-1),
                     sec_put_e2ae(&b, o->e2ae)));
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_ue_select(const imssec_secagree_mech *server, size_t n_server,
                                         const imssec_secagree_pair *sup, size_t n_sup,
                                         int udp_encap, int nat, imssec_secagree_choice *choice,
                                         imssec_errinfo *err)
{
    size_t k, j, any_sa = 0, best = 0;
    int best_q = -1, best_ealg = 0, nat_abort = 0;
    if ((n_server && !server) || (n_sup && !sup) || !choice)
        return isc_fail_param(err, "server", "NULL argument");
    for (k = 0; k < n_server; k++) {
        const imssec_secagree_mech *m = &server[k];
        int q, ok = 0, ealg = m->ealg;
        int no_ealg = !(m->present & IMSSEC_SECAGREE_HAS_EALG);
        if (m->kind != IMSSEC_SECAGREE_IPSEC_3GPP)
            continue;
        /* A list without SPIs and ports (421/494) is a capability list,
         * never an SA proposal. */
        if ((m->present & IMSSEC_SECAGREE_HAS_SA_PARAMS) != IMSSEC_SECAGREE_HAS_SA_PARAMS)
            continue;
        any_sa++;
        if (!sec_usable_proposal(m) || !sec_pair_usable(m->alg, m->ealg) || !sec_ports_allowed(m))
            continue;
        /* 7.2: "If the P-CSCF did not include any confidentiality algorithm
         * in SM6 then the UE shall select the NULL encryption algorithm":
         * an entry without ealg matches any supported pair of its alg. */
        for (j = 0; j < n_sup && !ok; j++)
            ok = sup[j].alg == m->alg && (no_ealg || sup[j].ealg == m->ealg);
        if (!ok)
            continue;
        if (m->mode == IMSSEC_MODE_UDP_ENC_TUN) {
            if (!udp_encap || !IMSSEC_ENABLE_UDPENCAP)
                continue;
        } else if (m->mode == IMSSEC_MODE_TRANS) {
            /* M.7.2: no mode information and a `received` in the top Via:
             * behind a NAT, transport mode cannot work. */
            if (nat && !(m->present & IMSSEC_SECAGREE_HAS_MOD)) {
                nat_abort = 1;
                continue;
            }
        } else {
            continue;
        }
        /* RFC 3329 2.3.1: highest q first; absent q ranks as 1 (the RFC 3261
         * Accept convention); ties keep list order (strict '>'). */
        q = (m->present & IMSSEC_SECAGREE_HAS_Q) ? m->q : 1000;
        if (q > best_q) {
            best_q = q;
            best = k;
            best_ealg = no_ealg ? IMSSEC_EALG_NULL : ealg;
        }
    }
    if (best_q < 0) {
        if (nat_abort)
            return sec_reject(err, "TS 33.203 M.7.2", 0, "behind a NAT and the server gave no mode");
        if (any_sa == 0)
            return sec_reject(err, "TS 33.203 7.3.2.2", 0, "no SA proposal (capability list only)");
        return sec_reject(err, "TS 33.203 7.3.2.2", 0, "no acceptable entry in Security-Server");
    }
    memset(choice, 0, sizeof *choice);
    choice->index = best;
    choice->alg = server[best].alg;
    choice->ealg = best_ealg;
    choice->mode = server[best].mode;
    choice->spi_c = server[best].spi_c;
    choice->spi_s = server[best].spi_s;
    choice->port_c = server[best].port_c;
    choice->port_s = server[best].port_s;
    return IMSSEC_OK;
}
