/*
 * sa/reg_ue.c -- the UE's registration steps in one call each: the
 * REGISTER (SM1) and the answer to a challenge (SM6 -> SM7), over
 * secagree/, aka/ and the UE state machine (TS 33.203 6.1.1, 7.2, 7.3,
 * 7.4.1a; TS 24.229 5.1.1.2 and 5.1.1.5).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* The digest algorithms an IMS UE answers, strongest first (RFC 4169,
 * RFC 3310). */
static const int sa_ue_aka_algs[] = {IMSSEC_DIGEST_AKAV2_SHA256, IMSSEC_DIGEST_AKAV1_SHA256,
                                     IMSSEC_DIGEST_AKAV2_MD5, IMSSEC_DIGEST_AKAV1_MD5};

IMSSEC_API int imssec_sa_ue_register(imssec_sa_table *t, uint32_t user, const imssec_sa_ue_sm1 *in,
                                     imssec_sa_ue_sm1_out *out, uint64_t now_ms,
                                     imssec_errinfo *err)
{
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    size_t need_sc = 0, need_au = 0;
    int rc;
    if (!t || !in || !out || !in->offer || (out->security_client_cap && !out->security_client) ||
        (out->authorization_cap && !out->authorization))
        return isc_fail_param(err, "in / out", "NULL argument");
    /* Sizes first, for the longest SPIs and ports (the real ones are drawn
     * by the event), so that nothing changes when a buffer is short; the
     * same call validates the offer (5.1.3 included). */
    rc = imssec_secagree_client_build(in->offer, 4294967295u, 4294967294u, 65535, 65534, NULL, 0,
                                      &need_sc, err);
    if (rc != IMSSEC_E_SPACE)
        return rc == IMSSEC_OK ? isc_fail_param(err, "offer", "empty offer") : rc;
    if (in->impi.n) {
        rc = imssec_digest_initial_build(in->impi, in->realm, in->uri, NULL, 0, &need_au);
        if (rc != IMSSEC_E_SPACE)
            return isc_fail_param(err, "impi / realm / uri",
                                  "the initial Authorization needs all three");
    }
    if (need_sc > out->security_client_cap || need_au > out->authorization_cap) {
        out->security_client_len = need_sc;
        out->authorization_len = need_au;
        return isc_fail(err, IMSSEC_E_SPACE, "an output buffer is too small", NULL);
    }
    memset(&a, 0, sizeof a);
    a.ue_ip = in->ue_ip;
    a.transport = (uint8_t)in->transport;
    a.force_unprotected = (uint8_t)(in->force_unprotected != 0);
    rc = imssec_sa_event(t, user, IMSSEC_SA_EV_REG_SEND, &a, &o, now_ms, err);
    if (rc != IMSSEC_OK)
        return rc;
    (void)imssec_secagree_client_build(in->offer, o.spi_c, o.spi_s, o.port_c, o.port_s,
                                       out->security_client, out->security_client_cap,
                                       &out->security_client_len, NULL);
    out->authorization_len = 0;
    if (in->impi.n)
        (void)imssec_digest_initial_build(in->impi, in->realm, in->uri, out->authorization,
                                          out->authorization_cap, &out->authorization_len);
    out->protect_with = o.protect_with;
    out->port_uc = o.port_c;
    out->port_us = o.port_s;
    /* TS 33.328 7.1.1: this registration's indication; the network's stays
     * until the next Security-Server says otherwise */
    t->users_[user].e2ae_ = in->offer->e2ae ? (uint8_t)(1 | (t->users_[user].e2ae_ & 2)) : 0;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_ue_challenge(imssec_sa_table *t, uint32_t user,
                                      const imssec_sa_ue_401 *in, imssec_sa_ue_401_out *out,
                                      uint64_t now_ms, imssec_errinfo *err)
{
    imssec_secagree_mech srv[IMSSEC_SECAGREE_CHECK_MAX];
    imssec_digest_challenge ch[8];
    imssec_secagree_choice choice;
    imssec_secagree_via via;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    imssec_aka_result ar;
    imssec_digest_request rq;
    size_t ns = 0, nch = 0, need_v = 0;
    int nat = 0, idx, rc, outcome;
    if (!t || !in || !out || !in->aka || (in->n_supported && !in->supported) ||
        (out->authorization_cap && !out->authorization) ||
        (out->security_verify_cap && !out->security_verify))
        return isc_fail_param(err, "in / out", "NULL argument");
    /* 1. the proposal (7.2; M.7.2: a `received` in the top Via means NAT) */
    rc = imssec_secagree_parse(in->security_server, srv, IMSSEC_SECAGREE_CHECK_MAX, &ns, err);
    if (rc != IMSSEC_OK)
        return rc;
    if (in->via.n) {
        if ((rc = imssec_secagree_via_parse(in->via, &via, err)) != IMSSEC_OK)
            return rc;
        nat = via.received.p != NULL;
    }
    memset(&a, 0, sizeof a);
    a.arrived_on = in->arrived_on;
    a.transport = (uint8_t)in->transport;
    a.ue_ip = in->ue_ip;
    a.pcscf_ip = in->pcscf_ip;
    rc = imssec_secagree_ue_select(srv, ns, in->supported, in->n_supported, in->udp_encap, nat,
                                   &choice, err);
    if (rc == IMSSEC_E_SECAGREE_REJECT) {
        /* 7.3.2.2: "the UE shall abandon the registration procedure",
         * before the challenge is used */
        int r2;
        a.kind = IMSSEC_SA_KIND_PROPOSAL;
        r2 = imssec_sa_event(t, user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o, now_ms, NULL);
        if (r2 != IMSSEC_OK)
            return isc_fail(err, r2, "the 401 cannot be handled in this state or on this SA",
                            NULL);
        out->protect_with = 0;
        out->authorization_len = out->security_verify_len = 0;
        return IMSSEC_E_SECAGREE_REJECT;
    }
    if (rc != IMSSEC_OK)
        return rc;
    imssec_sa_args_from_choice(&a, &choice);
    /* 2. the challenge, the output sizes and the CHALLENGE step, all before
     * the provider runs (a USIM's AUTHENTICATE cannot be undone) */
    rc = imssec_digest_challenge_parse(in->www_authenticate, ch, ISC_ARRAY_LEN(ch), &nch, err);
    if (rc != IMSSEC_OK)
        return rc;
    idx = imssec_digest_challenge_select(ch, nch, in->digest_algs ? in->digest_algs : sa_ue_aka_algs,
                                         in->digest_algs ? in->n_digest_algs
                                                         : ISC_ARRAY_LEN(sa_ue_aka_algs));
    if (idx < 0 || !imssec_digest_alg_is_aka(ch[idx].alg))
        return isc_fail(err, IMSSEC_E_NOT_FOUND, "no AKA Digest challenge this UE answers",
                        "RFC 3310 3.1, TS 33.203 6.1.1");
    (void)imssec_secagree_echo(srv, ns, NULL, 0, &need_v, NULL);
    if (need_v > out->security_verify_cap) {
        out->security_verify_len = need_v;
        return isc_fail(err, IMSSEC_E_SPACE, "security_verify_cap too small", NULL);
    }
    rc = sa_event_run(t, user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, now_ms, 1, err);
    if (rc != IMSSEC_OK)
        return rc;
    /* 3. AKA (it checks the authorization size before the provider) */
    memset(&rq, 0, sizeof rq);
    rq.username = in->username;
    rq.method.p = "REGISTER";
    rq.method.n = 8;
    rq.uri = in->uri;
    rq.cnonce = in->cnonce;
    rq.nc = in->nc;
    memset(&ar, 0, sizeof ar);
    outcome = imssec_digest_aka_respond(in->aka, &ch[idx], &rq, &ar, NULL, out->authorization,
                                        out->authorization_cap, &out->authorization_len);
    /* 4. the state machine */
    if (outcome == IMSSEC_OK) {
        memcpy(a.ik, ar.ik, sizeof a.ik);
        memcpy(a.ck, ar.ck, sizeof a.ck);
        rc = imssec_sa_event(t, user, IMSSEC_SA_EV_CHALLENGE, &a, &o, now_ms, err);
        isc_wipe(&a, sizeof a);
        isc_wipe(&ar, sizeof ar);
        if (rc != IMSSEC_OK)
            return rc;
        (void)imssec_secagree_echo(srv, ns, out->security_verify, out->security_verify_cap,
                                   &out->security_verify_len, NULL);
        out->protect_with = o.protect_with;
        out->choice = choice;
        /* TS 33.328 7.1.1: "The IMS UE shall store this indication" */
        t->users_[user].e2ae_ =
            (uint8_t)((t->users_[user].e2ae_ & 1) | (imssec_secagree_e2ae(srv, ns) ? 2 : 0));
        return IMSSEC_OK;
    }
    isc_wipe(&ar, sizeof ar);
    if (outcome == IMSSEC_E_SYNC_FAILURE || outcome == IMSSEC_E_MAC_FAILURE ||
        outcome == IMSSEC_E_AMF) {
        a.kind = outcome == IMSSEC_E_SYNC_FAILURE ? IMSSEC_SA_KIND_SYNC : IMSSEC_SA_KIND_NET_AUTH;
        rc = imssec_sa_event(t, user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o, now_ms, err);
        if (rc != IMSSEC_OK)
            return rc;
        out->protect_with = o.protect_with;
        out->security_verify_len = 0;
        isc_fail(err, outcome,
                 outcome == IMSSEC_E_SYNC_FAILURE
                     ? "SQN out of range: the REGISTER carries AUTS"
                     : "the network failed to authenticate: the REGISTER says so",
                 outcome == IMSSEC_E_SYNC_FAILURE ? "TS 33.203 6.1.3, 7.3.1.3"
                                                  : "TS 33.203 6.1.2.2, 7.3.1.2");
        return outcome;
    }
    return isc_fail(err, outcome, "the AKA answer failed", NULL);
}
