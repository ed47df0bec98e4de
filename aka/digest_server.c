/*
 * digest_server.c -- the digest server (the S-CSCF's side of TS 33.203
 * 6.1): issued nonces and the verification of credentials (RFC 2617 3.2.2,
 * RFC 7616 3.3 and 3.4).
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

IMSSEC_API int imssec_digest_aka_kind(const imssec_digest_credentials *cr)
{
    if (!cr)
        return IMSSEC_E_PARAM;
    /* TS 24.229 5.1.1.2.1: the initial REGISTER carries nonce="" */
    if (cr->nonce.n == 0)
        return IMSSEC_DIGEST_AKA_INITIAL;
    /* TS 33.203 6.1.3, RFC 3310 3.4: AUTS */
    if (cr->auts.p)
        return IMSSEC_DIGEST_AKA_SYNC_FAILURE;
    /* TS 33.203 6.1.2.2 / 7.3.1.2, TS 24.229 5.1.1.5.3: the REGISTER
     * indicating a network authentication failure has an empty response */
    if (cr->response.n == 0)
        return IMSSEC_DIGEST_AKA_NETWORK_FAILURE;
    return IMSSEC_DIGEST_AKA_ANSWER;
}

IMSSEC_API int imssec_digest_nonce_set(imssec_digest_nonce *st, imssec_str nonce,
                                       uint64_t expires_ms)
{
    if (!st || (!nonce.p && nonce.n))
        return IMSSEC_E_PARAM;
    if (nonce.n > sizeof st->nonce_)
        return IMSSEC_E_RANGE; /* longer than IMSSEC_DIGEST_NONCE_MAX */
    memset(st, 0, sizeof *st);
    if (nonce.n)
        memcpy(st->nonce_, nonce.p, nonce.n);
    st->len_ = nonce.n;
    st->expires_ms_ = expires_ms;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_server_verify(imssec_digest_nonce *st,
                                           const imssec_digest_credentials *cr, int alg,
                                           imssec_str username, imssec_str method,
                                           const uint8_t *body, size_t body_len,
                                           const uint8_t *password, size_t password_len,
                                           uint64_t now_ms)
{
    dig_field user, realm, nonce, uri, cnonce;
    imssec_digest_in in;
    imssec_digest_out o;
    int ok;
    if (!st || !cr || (!password && password_len) || (!body && body_len))
        return IMSSEC_E_PARAM;
    if (cr->alg != alg || !dig_alg_ok(alg))
        return IMSSEC_E_AUTH;
    if (dig_unq(cr->realm, &realm) || dig_unq(cr->nonce, &nonce) || dig_unq(cr->uri, &uri) ||
        dig_unq(cr->cnonce, &cnonce) || dig_unq(cr->username, &user))
        return IMSSEC_E_AUTH;
    if (nonce.s.n != st->len_ || !isc_ct_eq(nonce.s.p, st->nonce_, st->len_))
        return IMSSEC_E_AUTH;
    if (cr->userhash && username.n == 0)
        return IMSSEC_E_PARAM;
    memset(&in, 0, sizeof in);
    in.alg = alg;
    in.qop = cr->qop.n ? cr->qop_val : IMSSEC_DIGEST_QOP_NONE;
    in.username = username.n ? username : user.s;
    in.realm = realm.s;
    in.nonce = nonce.s;
    in.cnonce = cnonce.s;
    in.method = method;
    in.uri = uri.s;
    in.password = password;
    in.password_len = password_len;
    in.nc = cr->nc;
    in.body = body;
    in.body_len = body_len;
    if (dig_compute(&in, method, &o) != IMSSEC_OK)
        return IMSSEC_E_AUTH;
    ok = dig_hex_eq(cr->response, o.response, o.hex_len);
    if (ok && cr->userhash)
        ok = dig_hex_eq(cr->username, o.username, o.hex_len);
    isc_wipe(&o, sizeof o);
    if (!ok)
        return IMSSEC_E_AUTH;
    if (now_ms >= st->expires_ms_)
        return IMSSEC_E_STALE;
    if (in.qop != IMSSEC_DIGEST_QOP_NONE) {
        if (st->used_ && cr->nc <= st->last_nc_)
            return IMSSEC_E_NC;
        st->last_nc_ = cr->nc;
    } else if (st->used_) {
        return IMSSEC_E_NC; /* without nc a nonce can be used only once */
    }
    st->used_ = 1;
    return IMSSEC_OK;
}

