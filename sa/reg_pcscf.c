/*
 * sa/reg_pcscf.c -- the P-CSCF's registration steps in one call each: SM1,
 * the S-CSCF's 401 on its way to the UE (SM4 -> SM6) and SM7, over
 * secagree/, aka/ and the P-CSCF state machine (TS 33.203 6.1.1, 7.1,
 * 7.2, 7.3, 7.4.2a, M.7.2).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* The address of 7.1 rule 2 from the top Via, and whether the UE is
 * behind a NAT (M.7.2).
 *   Unprotected (SM1 of an initial registration): NAT when the Via's
 *   sent-by differs from the packet source; rule 2 does not apply.
 *   Protected on UDP-enc-tun SAs: behind the NAT those SAs were made for
 *   (M.7.4.2a keeps the mode); the Via may name the UE's private address,
 *   which no packet the P-CSCF sees carries, so rule 2 compares the source
 *   with the SA's address only (via_ip := src).
 *   Protected on transport-mode SAs: no NAT; the Via is taken as written
 *   and rule 2 ("the source IP address ... coincide[s] with the UE's IP
 *   address inserted in the Via header") refuses a REGISTER whose Via names
 *   another address. */
static int sa_pc_via(const imssec_sa_table *t, imssec_sa_ref arrived_on, imssec_str via_text,
                     const imssec_addr *src, imssec_addr *via_ip, int *nat, imssec_errinfo *err)
{
    imssec_secagree_via via;
    imssec_sa_info info;
    int rc, differs = 0, enc_tun = 0;
    if (!isc_addr_ok(src))
        return isc_fail_param(err, "src", "the packet's source address is required");
    if ((rc = imssec_secagree_via_parse(via_text, &via, err)) != IMSSEC_OK)
        return rc;
    rc = imssec_secagree_nat_detect(&via, src, &differs);
    if (rc == IMSSEC_E_UNSUPPORTED)
        return isc_fail(err, rc, "the Via sent-by is a name: resolve it first",
                        "TS 33.203 7.1 rule 2, M.7.2 NOTE");
    if (rc != IMSSEC_OK || imssec_addr_parse(via.host, via_ip) != IMSSEC_OK)
        return isc_fail(err, IMSSEC_E_SYNTAX, "the Via sent-by is not an address",
                        "RFC 3261 20.42");
    if (arrived_on && imssec_sa_get(t, arrived_on, &info) == IMSSEC_OK) {
        enc_tun = info.mode == IMSSEC_MODE_UDP_ENC_TUN;
        isc_wipe(&info, sizeof info);
    }
    *nat = arrived_on ? enc_tun : differs;
    if (enc_tun)
        *via_ip = *src;
    return IMSSEC_OK;
}

/* Annex H item 1: a digest of a Security-Client list that does not depend
 * on the order of its mechanisms or on letter case: the sum (mod 2^256) of
 * the SHA-256 of each mechanism's canonical text, lowercased.  One rule
 * for SM1 (stored) and SM7 (compared). */
static int sa_pc_client_digest(const imssec_secagree_mech *m, size_t n, uint8_t out[32])
{
    char text[512];
    uint8_t h[32];
    size_t k, len, i;
    int j;
    memset(out, 0, 32);
    for (k = 0; k < n; k++) {
        unsigned carry = 0;
        if (imssec_secagree_build(&m[k], 1, text, sizeof text, &len, NULL) != IMSSEC_OK)
            return IMSSEC_E_RANGE;
        for (i = 0; i < len; i++)
            if (text[i] >= 'A' && text[i] <= 'Z')
                text[i] = (char)(text[i] - 'A' + 'a');
        isc_hash_once(ISC_SHA256, text, len, h);
        for (j = 31; j >= 0; j--) {
            unsigned v = (unsigned)out[j] + h[j] + carry;
            out[j] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_pcscf_register(imssec_sa_table *t, uint32_t user,
                                        const imssec_sa_pcscf_sm1 *in,
                                        imssec_sa_pcscf_sm1_out *out, uint64_t now_ms,
                                        imssec_errinfo *err)
{
    imssec_secagree_mech cl[IMSSEC_SECAGREE_CHECK_MAX];
    imssec_secagree_choice choice;
    uint8_t digest[32];
    imssec_errinfo e;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    size_t nc = 0;
    int nat = 0, rc;
    if (!t || !in || !out || !in->policy)
        return isc_fail_param(err, "in / out / policy", "NULL argument");
    memset(&a, 0, sizeof a);
    if ((rc = sa_pc_via(t, in->arrived_on, in->via, &in->src, &a.via_ip, &nat, err)) != IMSSEC_OK)
        return rc;
    rc = imssec_secagree_parse(in->security_client, cl, ISC_ARRAY_LEN(cl), &nc, err);
    if (rc != IMSSEC_OK)
        return rc;
    if (sa_pc_client_digest(cl, nc, digest) != IMSSEC_OK)
        return isc_fail(err, IMSSEC_E_RANGE, "a Security-Client mechanism too long to store",
                        "TS 33.203 Annex H");
    memset(&e, 0, sizeof e);
    rc = imssec_secagree_pcscf_choose(cl, nc, in->policy, nat, &choice, &e);
    if (err)
        *err = e;
    if (rc == IMSSEC_E_SECAGREE_REJECT) {
        /* 7.3.2.1: answer 494 (or, M.7.3.2.4, discard); a protected SM1 is
         * answered on its set's carrier */
        out->nat = nat;
        out->integrity_protected = 0;
        out->sip_status = e.sip_status;
        out->protect_with = 0;
        if (in->arrived_on &&
            imssec_sa_route(t, user, in->transport, 0, in->arrived_on, &out->protect_with) !=
                IMSSEC_OK)
            out->protect_with = 0;
        return rc;
    }
    if (rc != IMSSEC_OK)
        return rc;
    a.arrived_on = in->arrived_on;
    a.transport = (uint8_t)in->transport;
    a.ue_ip = in->src;
    a.nat = (uint8_t)nat;
    imssec_sa_args_from_choice(&a, &choice);
    rc = imssec_sa_event(t, user, IMSSEC_SA_EV_REG_RECV, &a, &o, now_ms, err);
    if (rc != IMSSEC_OK)
        return rc;
    /* TS 33.328 7.1.1: "the P-CSCF (IMS-ALG) shall store it" */
    t->users_[user].e2ae_ =
        imssec_secagree_e2ae(cl, nc) ? (uint8_t)(1 | (t->users_[user].e2ae_ & 2)) : 0;
    memcpy(t->users_[user].client_digest_, digest, 32);
    out->choice = choice;
    out->nat = nat;
    out->integrity_protected = o.integrity_protected;
    out->sip_status = 0;
    out->protect_with = 0;
    return IMSSEC_OK;
}

/* Does the Security-Server of `policy` list the pair chosen at SM1?  (A
 * caller passing another policy at SM6 would create SAs the UE was never
 * offered.)  CONF_NEVER lists each alg without ealg. */
static int sa_pc_policy_lists(const imssec_secagree_policy *p, int alg, int ealg)
{
    size_t i;
    for (i = 0; i < p->n_pairs; i++)
        if (p->pairs[i].alg == alg &&
            (p->confidentiality == IMSSEC_SECAGREE_CONF_NEVER ? ealg == IMSSEC_EALG_NULL
                                                               : p->pairs[i].ealg == ealg))
            return 1;
    return 0;
}

IMSSEC_API int imssec_sa_pcscf_challenge(imssec_sa_table *t, uint32_t user,
                                         const imssec_sa_pcscf_401 *in,
                                         imssec_sa_pcscf_401_out *out, uint64_t now_ms,
                                         imssec_errinfo *err)
{
    const imssec_sa_user *u;
    imssec_secagree_policy pol;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    size_t need_w = 0, need_s = 0;
    int rc;
    if (!t || !in || !out || !in->policy || (out->www_authenticate_cap && !out->www_authenticate) ||
        (out->security_server_cap && !out->security_server))
        return isc_fail_param(err, "in / out / policy", "NULL argument");
    if (user >= t->user_cap_ || !t->users_[user].used_)
        return isc_fail_param(err, "user", "no such user");
    u = &t->users_[user];
    if (!sa_pc_policy_lists(in->policy, u->neg_alg_, u->neg_ealg_))
        return isc_fail_param(err, "policy", "not the policy SM1's choice was made with");
    /* TS 33.328 7.1.1: "e2ae-security supported by network" goes to a UE
     * that indicated its own support */
    pol = *in->policy;
    pol.e2ae = in->policy->e2ae && (u->e2ae_ & 1);
    memset(&a, 0, sizeof a);
    /* sizes and the keys first (nothing changes when a buffer is short);
     * the Security-Server for the longest SPIs and ports */
    rc = imssec_digest_take_keys(in->www_authenticate, NULL, 0, &need_w, a.ck, a.ik, err);
    if (rc != IMSSEC_OK && rc != IMSSEC_E_SPACE)
        return rc;
    rc = imssec_secagree_server_build(&pol, u->nat_, 4294967295u, 4294967294u, 65535, 65534,
                                      NULL, 0, &need_s);
    if (rc != IMSSEC_E_SPACE)
        return rc == IMSSEC_OK ? isc_fail_param(err, "policy", "empty policy")
                               : isc_fail_param(err, "policy", "not a valid policy");
    if (need_w > out->www_authenticate_cap || need_s > out->security_server_cap) {
        out->www_authenticate_len = need_w;
        out->security_server_len = need_s;
        return isc_fail(err, IMSSEC_E_SPACE, "an output buffer is too small", NULL);
    }
    rc = imssec_digest_take_keys(in->www_authenticate, out->www_authenticate,
                                 out->www_authenticate_cap, &out->www_authenticate_len, a.ck,
                                 a.ik, err);
    if (rc != IMSSEC_OK)
        return rc;
    /* the choice made at SM1 (7.2: the P-CSCF "selects" it from the UE's
     * list, the UE confirms it from SM6's) */
    a.alg = u->neg_alg_;
    a.ealg = u->neg_ealg_;
    a.mode = u->neg_mode_;
    a.ue_ip = u->ue_ip_;
    a.pcscf_ip = in->pcscf_ip;
    a.transport = (uint8_t)in->transport;
    rc = imssec_sa_event(t, user, IMSSEC_SA_EV_CHALLENGE, &a, &o, now_ms, err);
    isc_wipe(&a, sizeof a);
    if (rc != IMSSEC_OK) {
        out->www_authenticate_len = 0;
        return rc;
    }
    (void)imssec_secagree_server_build(&pol, u->nat_, o.spi_c, o.spi_s, o.port_c, o.port_s,
                                       out->security_server, out->security_server_cap,
                                       &out->security_server_len);
    t->users_[user].e2ae_ = (uint8_t)((u->e2ae_ & 1) | (pol.e2ae ? 2 : 0));
    out->protect_with = o.protect_with;
    out->spi_pc = o.spi_c;
    out->spi_ps = o.spi_s;
    out->port_pc = o.port_c;
    out->port_ps = o.port_s;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_pcscf_deregister(imssec_sa_table *t, uint32_t user, imssec_str via,
                                          const imssec_addr *src, imssec_sa_ref arrived_on,
                                          int transport, uint64_t now_ms, imssec_errinfo *err)
{
    imssec_sa_ev_args a;
    int nat = 0, rc;
    if (!t || !src)
        return isc_fail_param(err, "t / src", "NULL argument");
    memset(&a, 0, sizeof a);
    if ((rc = sa_pc_via(t, arrived_on, via, src, &a.via_ip, &nat, err)) != IMSSEC_OK)
        return rc;
    a.arrived_on = arrived_on;
    a.transport = (uint8_t)transport;
    a.ue_ip = *src;
    return imssec_sa_event(t, user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, now_ms, err);
}


IMSSEC_API int imssec_sa_pcscf_auth(imssec_sa_table *t, uint32_t user, const imssec_sa_pcscf_sm7 *in,
                                    int *integrity_protected, uint64_t now_ms, imssec_errinfo *err)
{
    imssec_digest_credentials cr;
    imssec_secagree_policy pol;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    int nat = 0, rc;
    if (!t || !in || !integrity_protected)
        return isc_fail_param(err, "in / integrity_protected", "NULL argument");
    if (user >= t->user_cap_ || !t->users_[user].used_)
        return isc_fail_param(err, "user", "no such user");
    memset(&a, 0, sizeof a);
    if ((rc = imssec_digest_credentials_parse(in->authorization, &cr, err)) != IMSSEC_OK)
        return rc;
    if ((rc = sa_pc_via(t, in->arrived_on, in->via, &in->src, &a.via_ip, &nat, err)) != IMSSEC_OK)
        return rc;
    /* which REGISTER it is (7.3.1.2, 7.3.1.3) */
    switch (imssec_digest_aka_kind(&cr)) {
    case IMSSEC_DIGEST_AKA_SYNC_FAILURE:
        a.kind = IMSSEC_SA_KIND_SYNC;
        break;
    case IMSSEC_DIGEST_AKA_NETWORK_FAILURE:
        a.kind = IMSSEC_SA_KIND_NET_AUTH;
        break;
    case IMSSEC_DIGEST_AKA_ANSWER:
        a.kind = IMSSEC_SA_KIND_NONE;
        break;
    default:
        return isc_fail(err, IMSSEC_E_STATE,
                        "a REGISTER asking for a challenge: SM1, not SM7 (imssec_sa_pcscf_register)",
                        "TS 24.229 5.1.1.2.1");
    }
    if (a.kind == IMSSEC_SA_KIND_NONE) {
        const imssec_sa_user *u = &t->users_[user];
        const imssec_sa_set *s;
        char srv[IMSSEC_SECAGREE_CHECK_MAX * 160];
        size_t ns = 0;
        imssec_str sv;
        if (!in->policy)
            return isc_fail_param(err, "policy", "SM7 is checked against SM6's policy");
        if (!u->set_[SA_R_NEW])
            return isc_fail(err, IMSSEC_E_STATE, "no new SAs: SM7 was not expected", NULL);
        s = &t->sets_[u->set_[SA_R_NEW] - 1];
        /* 7.2: "the integrity and encryption algorithms list, SPI_P and
         * Port_P received in SM7 is identical with the corresponding
         * parameters sent in SM6" -- SM6's value, rebuilt from the table */
        pol = *in->policy;
        pol.e2ae = (u->e2ae_ & 2) != 0; /* as SM6 said */
        rc = imssec_secagree_server_build(&pol, u->nat_, s->spi_[IMSSEC_SA_US_PC],
                                          s->spi_[IMSSEC_SA_UC_PS], s->port_pc_, s->port_ps_, srv,
                                          sizeof srv, &ns);
        if (rc == IMSSEC_E_SPACE)
            return isc_fail(err, IMSSEC_E_RANGE, "policy too long to check SM7 against", NULL);
        if (rc != IMSSEC_OK)
            return isc_fail_param(err, "policy", "not a valid policy");
        sv.p = srv;
        sv.n = ns;
        if ((rc = imssec_secagree_check(sv, in->security_verify, err)) != IMSSEC_OK) {
            if (err && rc == IMSSEC_E_SECAGREE_MISMATCH)
                err->clause = "TS 33.203 7.2, 7.3.2.3";
            return rc;
        }
        /* "It further checks whether SPI_U and Port_U received in SM7 are
         * identical with those received in SM1" (Annex H: the whole
         * Security-Client): against the stored digest, and in detail
         * against the caller's copy of SM1's when it has one */
        if (in->sm1_security_client.n &&
            (rc = imssec_secagree_check(in->sm1_security_client, in->security_client, err)) !=
                IMSSEC_OK) {
            if (err && rc == IMSSEC_E_SECAGREE_MISMATCH)
                err->clause = "TS 33.203 7.2, Annex H";
            return rc;
        }
        {
            imssec_secagree_mech cl[IMSSEC_SECAGREE_CHECK_MAX];
            uint8_t digest[32];
            size_t nc = 0;
            if ((rc = imssec_secagree_parse(in->security_client, cl, ISC_ARRAY_LEN(cl), &nc,
                                            err)) != IMSSEC_OK)
                return rc;
            if (sa_pc_client_digest(cl, nc, digest) != IMSSEC_OK ||
                !isc_ct_eq(digest, u->client_digest_, 32))
                return isc_fail(err, IMSSEC_E_SECAGREE_MISMATCH,
                                "SM7's Security-Client differs from SM1's",
                                "TS 33.203 7.2, Annex H");
        }
    }
    a.arrived_on = in->arrived_on;
    a.transport = (uint8_t)in->transport;
    a.ue_ip = in->src;
    rc = imssec_sa_event(t, user, IMSSEC_SA_EV_AUTH_RECV, &a, &o, now_ms, err);
    if (rc != IMSSEC_OK)
        return rc;
    *integrity_protected = o.integrity_protected;
    return IMSSEC_OK;
}
