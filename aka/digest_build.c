/*
 * digest_build.c -- the digest header builders: Authorization /
 * Proxy-Authorization (RFC 2617 3.2.2, RFC 3310 3.4), the initial REGISTER's
 * Authorization of TS 24.229 5.1.1.2.1, WWW-Authenticate (RFC 2617 3.2.1),
 * Authentication-Info (RFC 2617 3.2.3), and the P-CSCF's removal of the
 * ck= / ik= parameters from the S-CSCF's challenge (TS 33.203 6.1.1).
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

/* name="value" with '"' and '\' escaped (RFC 3261 quoted-pair). */
static void dig_put_quoted(isc_sbuf *b, const char *name, const char *p, size_t n)
{
    size_t i;
    isc_sb_puts(b, name);
    isc_sb_putn(b, "=\"", 2);
    for (i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\')
            isc_sb_putn(b, "\\", 1);
        isc_sb_putn(b, p + i, 1);
    }
    isc_sb_putn(b, "\"", 1);
}

static void dig_put_nc(isc_sbuf *b, uint32_t nc)
{
    uint8_t ncb[4];
    isc_put_be32(ncb, nc);
    isc_sb_puthex(b, ncb, 4);
}

/* The builders run their emitter twice: pass 0 measures (capacity 0, so
 * nothing is stored), pass 1 writes, and only when the whole value fits, so
 * that on IMSSEC_E_SPACE the caller's buffer is left as it was (imssec.h
 * conventions) instead of holding a cut-off header.  Returns 1 when pass 0
 * found that the value does not fit (*out_len = the size needed). */
static int dig_pass_check(int pass, const isc_sbuf *b, size_t out_cap, size_t *out_len)
{
    if (pass != 0)
        return 0;
    *out_len = b->len;
    return b->len > out_cap;
}

IMSSEC_API int imssec_digest_credentials_build(const imssec_digest_in *in,
                                               const imssec_digest_out *res, imssec_str opaque,
                                               imssec_str auts, char *out, size_t out_cap,
                                               size_t *out_len)
{
    isc_sbuf b;
    char tmp[1];
    int pass;
    if (!in || !out_len || (!out && out_cap) || !dig_alg_ok(in->alg))
        return in && !dig_alg_ok(in->alg) ? IMSSEC_E_UNSUPPORTED : IMSSEC_E_PARAM;
    if ((in->userhash && !res) || in->qop < IMSSEC_DIGEST_QOP_NONE ||
        in->qop > IMSSEC_DIGEST_QOP_AUTH_INT)
        return IMSSEC_E_PARAM;
    for (pass = 0; pass < 2; pass++) {
        isc_sb_init(&b, pass ? out : tmp, pass ? out_cap : 0);
        isc_sb_puts(&b, "Digest ");
        if (in->userhash)
            dig_put_quoted(&b, "username", res->username, res->hex_len);
        else
            dig_put_quoted(&b, "username", in->username.p, in->username.n);
        isc_sb_puts(&b, ", ");
        dig_put_quoted(&b, "realm", in->realm.p, in->realm.n);
        isc_sb_puts(&b, ", ");
        dig_put_quoted(&b, "nonce", in->nonce.p, in->nonce.n);
        isc_sb_puts(&b, ", ");
        dig_put_quoted(&b, "uri", in->uri.p, in->uri.n);
        isc_sb_puts(&b, ", ");
        dig_put_quoted(&b, "response", res ? res->response : "", res ? res->hex_len : 0);
        isc_sb_puts(&b, ", algorithm=");
        isc_sb_puts(&b, dig_algs[in->alg].name);
        if (in->qop != IMSSEC_DIGEST_QOP_NONE) {
            isc_sb_puts(&b, ", ");
            dig_put_quoted(&b, "cnonce", in->cnonce.p, in->cnonce.n);
            isc_sb_puts(&b, in->qop == IMSSEC_DIGEST_QOP_AUTH ? ", qop=auth" : ", qop=auth-int");
            isc_sb_puts(&b, ", nc=");
            dig_put_nc(&b, in->nc);
        }
        if (opaque.n) {
            isc_sb_puts(&b, ", ");
            dig_put_quoted(&b, "opaque", opaque.p, opaque.n);
        }
        if (auts.n) {
            isc_sb_puts(&b, ", ");
            dig_put_quoted(&b, "auts", auts.p, auts.n);
        }
        if (in->userhash)
            isc_sb_puts(&b, ", userhash=true");
        if (dig_pass_check(pass, &b, out_cap, out_len))
            return IMSSEC_E_SPACE;
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_challenge_build(int alg, imssec_str realm, imssec_str nonce,
                                             imssec_str opaque, unsigned qop_mask, int stale,
                                             int userhash, char *out, size_t out_cap,
                                             size_t *out_len)
{
    isc_sbuf b;
    char tmp[1];
    int pass;
    if (!dig_alg_ok(alg))
        return IMSSEC_E_UNSUPPORTED;
    if (!out_len || (!out && out_cap))
        return IMSSEC_E_PARAM;
    qop_mask &= IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH) |
                IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT);
    for (pass = 0; pass < 2; pass++) {
        isc_sb_init(&b, pass ? out : tmp, pass ? out_cap : 0);
        isc_sb_puts(&b, "Digest ");
        dig_put_quoted(&b, "realm", realm.p, realm.n);
        isc_sb_puts(&b, ", ");
        dig_put_quoted(&b, "nonce", nonce.p, nonce.n);
        isc_sb_puts(&b, ", algorithm=");
        isc_sb_puts(&b, dig_algs[alg].name);
        if (qop_mask) {
            isc_sb_puts(&b, ", qop=\"");
            if (qop_mask & IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH))
                isc_sb_puts(&b, (qop_mask & IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT))
                                    ? "auth,auth-int"
                                    : "auth");
            else
                isc_sb_puts(&b, "auth-int");
            isc_sb_puts(&b, "\"");
        }
        if (opaque.n) {
            isc_sb_puts(&b, ", ");
            dig_put_quoted(&b, "opaque", opaque.p, opaque.n);
        }
        if (stale)
            isc_sb_puts(&b, ", stale=true");
        if (userhash)
            isc_sb_puts(&b, ", userhash=true");
        if (dig_pass_check(pass, &b, out_cap, out_len))
            return IMSSEC_E_SPACE;
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_info_build(const imssec_digest_in *in, imssec_str nextnonce,
                                        char *out, size_t out_cap, size_t *out_len)
{
    isc_sbuf b;
    char tmp[1], rsp[IMSSEC_DIGEST_HEX_MAX + 1];
    int rc, pass;
    if (!in || !out_len || (!out && out_cap))
        return IMSSEC_E_PARAM;
    rc = imssec_digest_rspauth(in, rsp);
    if (rc != IMSSEC_OK)
        return rc;
    for (pass = 0; pass < 2; pass++) {
        int first = 1;
        isc_sb_init(&b, pass ? out : tmp, pass ? out_cap : 0);
        if (nextnonce.n) {
            dig_put_quoted(&b, "nextnonce", nextnonce.p, nextnonce.n);
            first = 0;
        }
        if (in->qop != IMSSEC_DIGEST_QOP_NONE) {
            isc_sb_puts(&b, first ? "" : ", ");
            isc_sb_puts(&b, in->qop == IMSSEC_DIGEST_QOP_AUTH ? "qop=auth" : "qop=auth-int");
            first = 0;
        }
        isc_sb_puts(&b, first ? "" : ", ");
        dig_put_quoted(&b, "rspauth", rsp, strlen(rsp));
        if (in->qop != IMSSEC_DIGEST_QOP_NONE) {
            isc_sb_puts(&b, ", ");
            dig_put_quoted(&b, "cnonce", in->cnonce.p, in->cnonce.n);
            isc_sb_puts(&b, ", nc=");
            dig_put_nc(&b, in->nc);
        }
        if (dig_pass_check(pass, &b, out_cap, out_len)) {
            rc = IMSSEC_E_SPACE;
            break;
        }
    }
    isc_wipe(rsp, sizeof rsp);
    return rc;
}

/* Constant-time comparison of peer hex (either case) with our lowercase
 * hex of the same digest. */

IMSSEC_API int imssec_digest_initial_build(imssec_str username, imssec_str realm, imssec_str uri,
                                           char *out, size_t out_cap, size_t *out_len)
{
    isc_sbuf b;
    int pass;
    if (!out_len || (!out && out_cap) || !username.n || !realm.n || !uri.n || !username.p ||
        !realm.p || !uri.p)
        return IMSSEC_E_PARAM;
    /* TS 24.229 5.1.1.2.1: username = the private user identity, realm =
     * the home network domain, uri = the REGISTER's Request-URI, nonce and
     * response empty */
    for (pass = 0; pass < 2; pass++) {
        isc_sb_init(&b, pass ? out : NULL, pass ? out_cap : 0);
        isc_sb_puts(&b, "Digest ");
        dig_put_quoted(&b, "username", username.p, username.n);
        isc_sb_puts(&b, ", ");
        dig_put_quoted(&b, "realm", realm.p, realm.n);
        isc_sb_puts(&b, ", ");
        dig_put_quoted(&b, "uri", uri.p, uri.n);
        isc_sb_puts(&b, ", nonce=\"\", response=\"\"");
        if (dig_pass_check(pass, &b, out_cap, out_len))
            return IMSSEC_E_SPACE;
    }
    return IMSSEC_OK;
}

/* 32 hex digits (quoted or not) into 16 bytes. */
static int dig_key16(const dig_kv *kv, uint8_t key[16])
{
    size_t i;
    if (kv->value.n != 32)
        return -1;
    for (i = 0; i < 16; i++) {
        int hi = dig_hexval((unsigned char)kv->value.p[2 * i]),
            lo = dig_hexval((unsigned char)kv->value.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* One walk over the challenge for imssec_digest_take_keys(): validates,
 * finds the keys and writes (or, into a zero-capacity builder, measures)
 * the value without them.  Kept text: the scheme, the gap before the first
 * parameter, then each kept parameter with the separator that preceded it
 * in the input (none for the first one kept), then whatever trailed the
 * last parameter. */
static int dig_keys_walk(dig_cur *c, isc_sbuf *b, uint8_t k[2][16], int have[2])
{
    imssec_str scheme;
    size_t scheme_end, first_ps = 0, prev_pe = 0;
    int kept = 0, any = 0;
    dig_lws(c);
    if (dig_token(c, &scheme) != 0)
        return DIG_BAD(c, "expected an auth-scheme");
    scheme_end = c->i;
    isc_sb_putn(b, c->p, scheme_end);
    for (;;) {
        size_t ps, pe;
        dig_kv kv;
        int which;
        (void)dig_skip_empty(c);
        if (c->i >= c->n)
            break;
        ps = c->i;
        memset(&kv, 0, sizeof kv);
        if (dig_param(c, &kv) != 0)
            return DIG_BAD(c, "malformed auth-param");
        pe = c->i;
        if (!any)
            first_ps = ps;
        which = isc_token_eq(kv.name.p, kv.name.n, "ck")   ? 0
                : isc_token_eq(kv.name.p, kv.name.n, "ik") ? 1
                                                           : -1;
        if (which >= 0) {
            if (have[which])
                return DIG_BAD(c, "ck or ik repeated");
            if (dig_key16(&kv, k[which]) != 0)
                return DIG_BAD(c, "ck or ik is not 32 hex digits");
            have[which] = 1;
        } else {
            /* the gap after the scheme for the first kept parameter, the
             * separator that preceded it for the others */
            size_t from = kept ? prev_pe : scheme_end, to = kept ? ps : first_ps;
            isc_sb_putn(b, c->p + from, to - from);
            isc_sb_putn(b, c->p + ps, pe - ps);
            kept = 1;
        }
        any = 1;
        prev_pe = pe;
        if (dig_sep(c) != 0)
            return DIG_BAD(c, "expected ','");
    }
    if (any)
        isc_sb_putn(b, c->p + prev_pe, c->n - prev_pe);
    else
        isc_sb_putn(b, c->p + scheme_end, c->n - scheme_end);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_take_keys(imssec_str value, char *out, size_t out_cap,
                                       size_t *out_len, uint8_t ck[IMSSEC_AKA_CK_LEN],
                                       uint8_t ik[IMSSEC_AKA_IK_LEN], imssec_errinfo *err)
{
    dig_cur c;
    isc_sbuf b;
    uint8_t k[2][16];
    int have[2] = {0, 0}, rc;
    if ((!value.p && value.n) || !out_len || (!out && out_cap) || !ck || !ik)
        return isc_fail_param(err, "out", "NULL argument");
    c.p = value.p ? value.p : "";
    c.n = value.n;
    c.i = 0;
    c.why = NULL;
    isc_sb_init(&b, NULL, 0);
    rc = dig_keys_walk(&c, &b, k, have);
    if (rc == IMSSEC_OK && (!have[0] || !have[1]))
        rc = isc_fail(err, IMSSEC_E_NOT_FOUND, "the challenge carries no ck or no ik",
                      "TS 33.203 6.1.1");
    else if (rc != IMSSEC_OK)
        dig_report(err, rc, &c, 0, "TS 33.203 6.1.1");
    if (rc == IMSSEC_OK) {
        *out_len = b.len;
        if (b.len > out_cap) {
            rc = IMSSEC_E_SPACE;
        } else {
            c.i = 0;
            isc_sb_init(&b, out, out_cap);
            (void)dig_keys_walk(&c, &b, k, (int[2]){0, 0});
            memcpy(ck, k[0], 16);
            memcpy(ik, k[1], 16);
        }
    }
    isc_wipe(k, sizeof k);
    return rc;
}
