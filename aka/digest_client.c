/*
 * digest_client.c -- the digest client (the UE's side of TS 33.203 6.1):
 * answering a challenge with a password or through an AKA provider (RFC
 * 3310 3.2-3.4, RFC 4169), and checking the server's Authentication-Info.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

static int dig_choose_qop(const imssec_digest_challenge *ch, int prefer_int, int *qop)
{
    unsigned a = IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH),
             ai = IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT);
    if (dig_qop_unusable(ch)) {
        /* a qop list with no option we know: RFC 7616 3.3 has the client
         * ignore the unknown ones, which leaves nothing to answer with;
         * answering without qop (RFC 2069 form) would be a downgrade */
        return IMSSEC_E_UNSUPPORTED;
    } else if (ch->qop_mask == 0) {
        *qop = IMSSEC_DIGEST_QOP_NONE;
    } else if ((ch->qop_mask & ai) && (prefer_int || !(ch->qop_mask & a))) {
        *qop = IMSSEC_DIGEST_QOP_AUTH_INT;
    } else {
        *qop = IMSSEC_DIGEST_QOP_AUTH;
    }
    return IMSSEC_OK;
}

/* Everything an answer depends on except the password.  `in` points into
 * the fields, so a dig_prep is filled in place and never copied. */
typedef struct dig_prep {
    dig_field realm, nonce, opaque;
    imssec_digest_in in;
} dig_prep;

/* Check and unquote what the answer needs.  Runs before any AKA provider,
 * so that every refusal comes before the challenge is used up. */
static int dig_prepare(const imssec_digest_challenge *ch, const imssec_digest_request *rq,
                       dig_prep *pr)
{
    int rc, qop;
    if ((!rq->body && rq->body_len) || (!rq->username.p && rq->username.n) ||
        (!rq->method.p && rq->method.n) || (!rq->uri.p && rq->uri.n) ||
        (!rq->cnonce.p && rq->cnonce.n))
        return IMSSEC_E_PARAM;
    if ((rc = dig_choose_qop(ch, rq->prefer_auth_int, &qop)) != IMSSEC_OK)
        return rc;
    if (qop != IMSSEC_DIGEST_QOP_NONE && rq->cnonce.n == 0)
        return IMSSEC_E_PARAM;
    /* a realm, nonce or opaque longer than DIG_FIELD_MAX unquoted: we
     * cannot answer this challenge (a bigger output buffer would not help,
     * so this is not IMSSEC_E_SPACE) */
    if (dig_unq(ch->realm, &pr->realm) || dig_unq(ch->nonce, &pr->nonce) ||
        dig_unq(ch->opaque, &pr->opaque))
        return IMSSEC_E_UNSUPPORTED;
    memset(&pr->in, 0, sizeof pr->in);
    pr->in.alg = ch->alg;
    pr->in.qop = qop;
    pr->in.username = rq->username;
    pr->in.realm = pr->realm.s;
    pr->in.nonce = pr->nonce.s;
    pr->in.cnonce = rq->cnonce;
    pr->in.method = rq->method;
    pr->in.uri = rq->uri;
    pr->in.nc = rq->nc;
    pr->in.body = rq->body;
    pr->in.body_len = rq->body_len;
    pr->in.userhash = ch->userhash;
    return IMSSEC_OK;
}

/* Compute with `password` and build the credentials (with auts= when
 * auts.n != 0).  Two-pass builder: nothing written on IMSSEC_E_SPACE. */
static int dig_answer(dig_prep *pr, const uint8_t *password, size_t password_len,
                      imssec_str auts, imssec_digest_out *dout, char *out, size_t out_cap,
                      size_t *out_len)
{
    imssec_digest_out o;
    int rc;
    pr->in.password = password;
    pr->in.password_len = password_len;
    rc = imssec_digest_compute(&pr->in, &o);
    if (rc == IMSSEC_OK) {
        rc = imssec_digest_credentials_build(&pr->in, &o, pr->opaque.s, auts, out, out_cap,
                                             out_len);
        if (rc == IMSSEC_OK && dout)
            *dout = o;
    }
    pr->in.password = NULL;
    pr->in.password_len = 0;
    isc_wipe(&o, sizeof o);
    return rc;
}

IMSSEC_API int imssec_digest_respond(const imssec_digest_challenge *ch,
                                     const imssec_digest_request *rq, const uint8_t *password,
                                     size_t password_len, imssec_digest_out *dout, char *out,
                                     size_t out_cap, size_t *out_len)
{
    imssec_str none = {NULL, 0};
    dig_prep pr;
    int rc;
    if (!ch || !rq || !out_len || (!password && password_len) || (!out && out_cap))
        return IMSSEC_E_PARAM;
    if (!ch->is_digest || !dig_alg_ok(ch->alg) || dig_algs[ch->alg].aka)
        return IMSSEC_E_UNSUPPORTED;
    if ((rc = dig_prepare(ch, rq, &pr)) != IMSSEC_OK)
        return rc;
    return dig_answer(&pr, password, password_len, none, dout, out, out_cap, out_len);
}

/* The credentials' length for a password of any value: hex digests have a
 * fixed length and need no escaping, so only auts= changes it. */
static int dig_measure(dig_prep *pr, imssec_str auts, size_t *need)
{
    int rc = dig_answer(pr, NULL, 0, auts, NULL, NULL, 0, need);
    return rc == IMSSEC_E_SPACE ? IMSSEC_OK : rc;
}

IMSSEC_API int imssec_digest_aka_respond(const imssec_aka_provider *p,
                                         const imssec_digest_challenge *ch,
                                         const imssec_digest_request *rq,
                                         imssec_aka_result *ar, imssec_digest_out *dout,
                                         char *out, size_t out_cap, size_t *out_len)
{
    static const uint8_t zero_auts[IMSSEC_AKA_AUTS_LEN] = {0};
    dig_prep pr;
    uint8_t rand[16], autn[16], pw[64];
    imssec_aka_result r;
    char a64[24];
    size_t pwn = 0, an = 0, need_ok = 0, need_sync = 0;
    imssec_str none = {NULL, 0}, auts;
    int rc, v;
    if (!p || !ch || !rq || !ar || !out_len || (!out && out_cap))
        return IMSSEC_E_PARAM;
    if (!ch->is_digest || !imssec_digest_alg_is_aka(ch->alg))
        return IMSSEC_E_UNSUPPORTED;
    /* the nonce first: an undecodable AKA nonce is IMSSEC_E_SYNTAX */
    if (dig_unq(ch->nonce, &pr.nonce) != 0)
        return IMSSEC_E_SYNTAX;
    rc = imssec_aka_nonce_decode(pr.nonce.s, rand, autn, NULL, 0, NULL);
    if (rc != IMSSEC_OK)
        return rc == IMSSEC_E_SPACE ? IMSSEC_E_SYNTAX : rc;
    if ((rc = dig_prepare(ch, rq, &pr)) != IMSSEC_OK)
        return rc;
    /* Size the output before AUTHENTICATE: a USIM's accepted challenge
     * cannot be undone, so an IMSSEC_E_SPACE found afterwards would use the
     * challenge up and the retry would be a sync failure.  The outcome is
     * not known yet, so the need is the larger of the two answers (the sync
     * failure one adds auts=, whose base64 length is fixed). */
    (void)imssec_base64_encode(zero_auts, sizeof zero_auts, a64, sizeof a64, &an);
    auts.p = a64;
    auts.n = an;
    if ((rc = dig_measure(&pr, none, &need_ok)) != IMSSEC_OK ||
        (rc = dig_measure(&pr, auts, &need_sync)) != IMSSEC_OK)
        return rc;
    if (need_sync < need_ok)
        need_sync = need_ok;
    if (need_sync > out_cap) {
        *out_len = need_sync;
        return IMSSEC_E_SPACE;
    }
    memset(&r, 0, sizeof r);
    v = imssec_aka_authenticate(p, rand, autn, &r);
    if (v == IMSSEC_OK) {
        rc = imssec_digest_aka_password(ch->alg, r.res, r.res_len, r.ck, r.ik, pw, sizeof pw,
                                        &pwn);
        if (rc == IMSSEC_OK)
            rc = dig_answer(&pr, pw, pwn, none, dout, out, out_cap, out_len);
    } else if (v == IMSSEC_E_SYNC_FAILURE) {
        /* RFC 3310 3.4: auts=base64(AUTS), response over an empty password */
        (void)imssec_base64_encode(r.auts, sizeof r.auts, a64, sizeof a64, &an);
        auts.n = an;
        rc = dig_answer(&pr, NULL, 0, auts, dout, out, out_cap, out_len);
        if (rc == IMSSEC_OK)
            rc = IMSSEC_E_SYNC_FAILURE;
    } else if (v == IMSSEC_E_MAC_FAILURE || v == IMSSEC_E_AMF) {
        /* TS 33.203 6.1.2.2 / 7.3.1.2, RFC 3310 3.3: the REGISTER that says
         * the network did not authenticate: response="" and no auts (the
         * S-CSCF tells it from a sync failure by the missing auts); the
         * plain user name, as there is no response to hash it with */
        pr.in.userhash = 0;
        rc = imssec_digest_credentials_build(&pr.in, NULL, pr.opaque.s, none, out, out_cap,
                                             out_len);
        if (rc == IMSSEC_OK)
            rc = v;
    } else {
        rc = v;
    }
    if (rc == IMSSEC_OK || rc == IMSSEC_E_SYNC_FAILURE || rc == IMSSEC_E_AMF ||
        rc == IMSSEC_E_MAC_FAILURE)
        *ar = r;
    isc_wipe(&r, sizeof r);
    isc_wipe(pw, sizeof pw);
    isc_wipe(a64, sizeof a64);
    return rc;
}


IMSSEC_API int imssec_digest_info_verify(const imssec_digest_in *in,
                                         const imssec_digest_info *info)
{
    char rsp[IMSSEC_DIGEST_HEX_MAX + 1];
    int ok;
    if (!in || !info)
        return IMSSEC_E_PARAM;
    if (imssec_digest_rspauth(in, rsp) != IMSSEC_OK)
        return IMSSEC_E_AUTH;
    ok = dig_hex_eq(info->rspauth, rsp, strlen(rsp));
    if (in->qop != IMSSEC_DIGEST_QOP_NONE &&
        (info->qop_val != in->qop || (info->nc_text.n && info->nc != in->nc) ||
         (info->cnonce.n && !dig_str_eq(info->cnonce, in->cnonce))))
        ok = 0;
    isc_wipe(rsp, sizeof rsp);
    return ok ? IMSSEC_OK : IMSSEC_E_AUTH;
}

