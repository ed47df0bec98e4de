/*
 * digest.c -- HTTP/SIP digest computation (RFC 2617 3.2.2, RFC 7616 3.4,
 * RFC 8760), the AKA passwords (RFC 3310 3.1, RFC 4169 3.1), header
 * building, server-side verification and the client answer to an AKA
 * challenge (TS 33.203 6.1, RFC 3310 3.4 resynchronisation).
 */
#include "../imssec.h"

static const struct {
    const char *name;
    int hash; /* ISC_* */
    int sess;
    int aka; /* 0, 1 (AKAv1), 2 (AKAv2) */
} dig_algs[IMSSEC_DIGEST_ALG_COUNT] = {
    {"", 0, 0, 0},
    {"MD5", ISC_MD5, 0, 0},
    {"MD5-sess", ISC_MD5, 1, 0},
    {"SHA-256", ISC_SHA256, 0, 0},
    {"SHA-256-sess", ISC_SHA256, 1, 0},
    {"SHA-512-256", ISC_SHA512_256, 0, 0},
    {"SHA-512-256-sess", ISC_SHA512_256, 1, 0},
    {"AKAv1-MD5", ISC_MD5, 0, 1},
    {"AKAv2-MD5", ISC_MD5, 0, 2},
    {"AKAv1-SHA-256", ISC_SHA256, 0, 1},
    {"AKAv2-SHA-256", ISC_SHA256, 0, 2}};

static int dig_alg_ok(int alg)
{
    return alg > IMSSEC_DIGEST_UNKNOWN && alg < IMSSEC_DIGEST_ALG_COUNT;
}

IMSSEC_API const char *imssec_digest_alg_name(int alg)
{
    return dig_alg_ok(alg) ? dig_algs[alg].name : "";
}

IMSSEC_API int imssec_digest_alg_from_name(const char *p, size_t n)
{
    int i;
    if (!p)
        return IMSSEC_DIGEST_UNKNOWN;
    for (i = 1; i < IMSSEC_DIGEST_ALG_COUNT; i++)
        if (isc_token_eq(p, n, dig_algs[i].name))
            return i;
    return IMSSEC_DIGEST_UNKNOWN;
}

IMSSEC_API int imssec_digest_alg_is_aka(int alg)
{
    return dig_alg_ok(alg) && dig_algs[alg].aka != 0;
}

static void dig_tohex(const uint8_t *b, size_t n, char *hex)
{
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        hex[2 * i] = hx[b[i] >> 4];
        hex[2 * i + 1] = hx[b[i] & 15];
    }
    hex[2 * n] = 0;
}

static void dig_upd(isc_hash *h, const char *p, size_t n)
{
    isc_hash_update(h, p, n);
}

static void dig_colon(isc_hash *h)
{
    isc_hash_update(h, ":", 1);
}

/* HA2 = H(method:uri[:H(body)]) as hex into ha2. */
static void dig_ha2(int hash, int qop, imssec_digest_str method, imssec_digest_str uri,
                    const uint8_t *body, size_t body_len, char *ha2)
{
    isc_hash h;
    uint8_t d[ISC_HASH_MAX_LEN];
    size_t hl = isc_hash_len(hash);
    isc_hash_start(&h, hash);
    dig_upd(&h, method.p, method.n);
    dig_colon(&h);
    dig_upd(&h, uri.p, uri.n);
    if (qop == IMSSEC_DIGEST_QOP_AUTH_INT) {
        char bh[2 * ISC_HASH_MAX_LEN + 1];
        uint8_t bd[ISC_HASH_MAX_LEN];
        isc_hash_once(hash, body, body_len, bd);
        dig_tohex(bd, hl, bh);
        dig_colon(&h);
        dig_upd(&h, bh, 2 * hl);
    }
    isc_hash_finish(&h, d);
    dig_tohex(d, hl, ha2);
}

/* The shared core: ha1, ha2 (with the given method) and response. */
static int dig_compute(const imssec_digest_in *in, imssec_digest_str method,
                       imssec_digest_out *out)
{
    isc_hash h;
    uint8_t d[ISC_HASH_MAX_LEN];
    char nc[9];
    int hash;
    size_t hl;
    if (!dig_alg_ok(in->alg))
        return IMSSEC_E_UNSUPPORTED;
    if (in->qop < IMSSEC_DIGEST_QOP_NONE || in->qop > IMSSEC_DIGEST_QOP_AUTH_INT)
        return IMSSEC_E_PARAM;
    hash = dig_algs[in->alg].hash;
    hl = isc_hash_len(hash);
    out->hex_len = 2 * hl;
    /* A1 = username:realm:password (RFC 7616 3.4.2 keeps the plain user name
     * in A1 also with userhash) */
    isc_hash_start(&h, hash);
    dig_upd(&h, in->username.p, in->username.n);
    dig_colon(&h);
    dig_upd(&h, in->realm.p, in->realm.n);
    dig_colon(&h);
    isc_hash_update(&h, in->password, in->password_len);
    isc_hash_finish(&h, d);
    dig_tohex(d, hl, out->ha1);
    if (dig_algs[in->alg].sess) {
        isc_hash_start(&h, hash);
        dig_upd(&h, out->ha1, 2 * hl);
        dig_colon(&h);
        dig_upd(&h, in->nonce.p, in->nonce.n);
        dig_colon(&h);
        dig_upd(&h, in->cnonce.p, in->cnonce.n);
        isc_hash_finish(&h, d);
        dig_tohex(d, hl, out->ha1);
    }
    dig_ha2(hash, in->qop, method, in->uri, in->body, in->body_len, out->ha2);
    isc_hash_start(&h, hash);
    dig_upd(&h, out->ha1, 2 * hl);
    dig_colon(&h);
    dig_upd(&h, in->nonce.p, in->nonce.n);
    dig_colon(&h);
    if (in->qop != IMSSEC_DIGEST_QOP_NONE) {
        uint8_t ncb[4];
        isc_put_be32(ncb, in->nc);
        dig_tohex(ncb, 4, nc);
        dig_upd(&h, nc, 8);
        dig_colon(&h);
        dig_upd(&h, in->cnonce.p, in->cnonce.n);
        dig_colon(&h);
        isc_hash_update(&h, in->qop == IMSSEC_DIGEST_QOP_AUTH ? "auth" : "auth-int",
                        in->qop == IMSSEC_DIGEST_QOP_AUTH ? 4u : 8u);
        dig_colon(&h);
    }
    dig_upd(&h, out->ha2, 2 * hl);
    isc_hash_finish(&h, d);
    dig_tohex(d, hl, out->response);
    /* userhash (RFC 7616 3.4.4): H(username:realm) */
    isc_hash_start(&h, hash);
    dig_upd(&h, in->username.p, in->username.n);
    dig_colon(&h);
    dig_upd(&h, in->realm.p, in->realm.n);
    isc_hash_finish(&h, d);
    dig_tohex(d, hl, out->username);
    isc_wipe(d, sizeof d);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_compute(const imssec_digest_in *in, imssec_digest_out *out)
{
    imssec_digest_out o;
    int rc;
    if (!in || !out || (!in->password && in->password_len) || (!in->body && in->body_len))
        return IMSSEC_E_PARAM;
    memset(&o, 0, sizeof o);
    rc = dig_compute(in, in->method, &o);
    if (rc == IMSSEC_OK)
        *out = o;
    isc_wipe(&o, sizeof o);
    return rc;
}

IMSSEC_API int imssec_digest_rspauth(const imssec_digest_in *in,
                                     char hex[IMSSEC_DIGEST_HEX_MAX + 1])
{
    imssec_digest_out o;
    imssec_digest_str empty = {"", 0};
    int rc;
    if (!in || !hex || (!in->password && in->password_len) || (!in->body && in->body_len))
        return IMSSEC_E_PARAM;
    rc = dig_compute(in, empty, &o);
    if (rc == IMSSEC_OK)
        memcpy(hex, o.response, o.hex_len + 1);
    isc_wipe(&o, sizeof o);
    return rc;
}

IMSSEC_API int imssec_digest_aka_password(int alg, const uint8_t *res, size_t res_len,
                                          const uint8_t ck[16], const uint8_t ik[16],
                                          uint8_t *out, size_t cap, size_t *out_len)
{
    static const char label[] = "http-digest-akav2-password";
    if (!imssec_digest_alg_is_aka(alg))
        return IMSSEC_E_UNSUPPORTED;
    if (!res || !out_len || res_len < IMSSEC_AKA_RES_MIN || res_len > IMSSEC_AKA_RES_MAX)
        return IMSSEC_E_PARAM;
    if (dig_algs[alg].aka == 1) {
        /* RFC 3310 3.1: the password is RES itself, as raw bytes */
        *out_len = res_len;
        if (res_len > cap)
            return IMSSEC_E_SPACE;
        memcpy(out, res, res_len);
        return IMSSEC_OK;
    } else {
        /* RFC 4169 3.1: base64(PRF(RES || IK || CK, "http-digest-akav2-password")) */
        uint8_t key[IMSSEC_AKA_RES_MAX + 32], mac[ISC_HASH_MAX_LEN];
        char b64[(ISC_HASH_MAX_LEN + 2) / 3 * 4];
        size_t hl = isc_hash_len(dig_algs[alg].hash), bn = 0;
        if (!ck || !ik)
            return IMSSEC_E_PARAM;
        *out_len = (hl + 2) / 3 * 4;
        if (*out_len > cap)
            return IMSSEC_E_SPACE;
        memcpy(key, res, res_len);
        memcpy(key + res_len, ik, 16);
        memcpy(key + res_len + 16, ck, 16);
        isc_hmac_once(dig_algs[alg].hash, key, res_len + 32, label, sizeof label - 1, mac);
        (void)imssec_base64_encode(mac, hl, b64, sizeof b64, &bn);
        memcpy(out, b64, bn);
        isc_wipe(key, sizeof key);
        isc_wipe(mac, sizeof mac);
        isc_wipe(b64, sizeof b64);
        return IMSSEC_OK;
    }
}

/* ---- building headers ------------------------------------------------------ */

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
static int dig_pass_check(int pass, const isc_sbuf *b, size_t cap, size_t *out_len)
{
    if (pass != 0)
        return 0;
    *out_len = b->len;
    return b->len > cap;
}

IMSSEC_API int imssec_digest_credentials_build(const imssec_digest_in *in,
                                               const imssec_digest_out *res,
                                               imssec_digest_str opaque, imssec_digest_str auts,
                                               char *out, size_t cap, size_t *out_len)
{
    isc_sbuf b;
    char tmp[1];
    int pass;
    if (!in || !out_len || (!out && cap) || !dig_alg_ok(in->alg))
        return in && !dig_alg_ok(in->alg) ? IMSSEC_E_UNSUPPORTED : IMSSEC_E_PARAM;
    if ((in->userhash && !res) || in->qop < IMSSEC_DIGEST_QOP_NONE ||
        in->qop > IMSSEC_DIGEST_QOP_AUTH_INT)
        return IMSSEC_E_PARAM;
    for (pass = 0; pass < 2; pass++) {
        isc_sb_init(&b, pass ? out : tmp, pass ? cap : 0);
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
        if (dig_pass_check(pass, &b, cap, out_len))
            return IMSSEC_E_SPACE;
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_challenge_build(int alg, imssec_digest_str realm,
                                             imssec_digest_str nonce, imssec_digest_str opaque,
                                             unsigned qop_mask, int stale, int userhash,
                                             char *out, size_t cap, size_t *out_len)
{
    isc_sbuf b;
    char tmp[1];
    int pass;
    if (!dig_alg_ok(alg))
        return IMSSEC_E_UNSUPPORTED;
    if (!out_len || (!out && cap))
        return IMSSEC_E_PARAM;
    qop_mask &= IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH) |
                IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT);
    for (pass = 0; pass < 2; pass++) {
        isc_sb_init(&b, pass ? out : tmp, pass ? cap : 0);
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
        if (dig_pass_check(pass, &b, cap, out_len))
            return IMSSEC_E_SPACE;
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_info_build(const imssec_digest_in *in, imssec_digest_str nextnonce,
                                        char *out, size_t cap, size_t *out_len)
{
    isc_sbuf b;
    char tmp[1], rsp[IMSSEC_DIGEST_HEX_MAX + 1];
    int rc, pass;
    if (!in || !out_len || (!out && cap))
        return IMSSEC_E_PARAM;
    rc = imssec_digest_rspauth(in, rsp);
    if (rc != IMSSEC_OK)
        return rc;
    for (pass = 0; pass < 2; pass++) {
        int first = 1;
        isc_sb_init(&b, pass ? out : tmp, pass ? cap : 0);
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
        if (dig_pass_check(pass, &b, cap, out_len)) {
            rc = IMSSEC_E_SPACE;
            break;
        }
    }
    isc_wipe(rsp, sizeof rsp);
    return rc;
}

/* Constant-time comparison of peer hex (either case) with our lowercase
 * hex of the same digest. */
static int dig_hex_eq(imssec_digest_str peer, const char *ours, size_t n)
{
    uint32_t d = 0;
    size_t i;
    if (peer.n != n)
        return 0;
    for (i = 0; i < n; i++)
        d |= (uint32_t)((unsigned)isc_lower((unsigned char)peer.p[i]) ^ (unsigned char)ours[i]);
    return isc_ct_eq(&d, "\0\0\0\0", sizeof d);
}

static int dig_str_eq(imssec_digest_str a, imssec_digest_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
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

/* ---- server side ----------------------------------------------------------- */

IMSSEC_API int imssec_digest_nonce_set(imssec_digest_nonce *st, const char *nonce, size_t len,
                                       uint64_t expires_ms)
{
    if (!st || (!nonce && len))
        return IMSSEC_E_PARAM;
    if (len > sizeof st->nonce_)
        return IMSSEC_E_SPACE;
    memset(st, 0, sizeof *st);
    if (len)
        memcpy(st->nonce_, nonce, len);
    st->len_ = len;
    st->expires_ms_ = expires_ms;
    return IMSSEC_OK;
}

#define DIG_FIELD_MAX 256 /* longest unquoted value handled on the stack */

typedef struct dig_field {
    char buf[DIG_FIELD_MAX];
    imssec_digest_str s;
} dig_field;

static int dig_unq(imssec_digest_str v, dig_field *f)
{
    size_t n = 0;
    if (imssec_digest_unquote(v, f->buf, sizeof f->buf, &n) != IMSSEC_OK)
        return -1;
    f->s.p = f->buf;
    f->s.n = n;
    return 0;
}

IMSSEC_API int imssec_digest_server_verify(imssec_digest_nonce *st,
                                           const imssec_digest_credentials *cr, int alg,
                                           imssec_digest_str username, imssec_digest_str method,
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

/* ---- client side ------------------------------------------------------------ */

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
                      imssec_digest_str auts, imssec_digest_out *dout, char *out, size_t cap,
                      size_t *out_len)
{
    imssec_digest_out o;
    int rc;
    pr->in.password = password;
    pr->in.password_len = password_len;
    rc = imssec_digest_compute(&pr->in, &o);
    if (rc == IMSSEC_OK) {
        rc = imssec_digest_credentials_build(&pr->in, &o, pr->opaque.s, auts, out, cap, out_len);
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
                                     size_t cap, size_t *out_len)
{
    imssec_digest_str none = {NULL, 0};
    dig_prep pr;
    int rc;
    if (!ch || !rq || !out_len || (!password && password_len) || (!out && cap))
        return IMSSEC_E_PARAM;
    if (!ch->is_digest || !dig_alg_ok(ch->alg) || dig_algs[ch->alg].aka)
        return IMSSEC_E_UNSUPPORTED;
    if ((rc = dig_prepare(ch, rq, &pr)) != IMSSEC_OK)
        return rc;
    return dig_answer(&pr, password, password_len, none, dout, out, cap, out_len);
}

/* The credentials' length for a password of any value: hex digests have a
 * fixed length and need no escaping, so only auts= changes it. */
static int dig_measure(dig_prep *pr, imssec_digest_str auts, size_t *need)
{
    int rc = dig_answer(pr, NULL, 0, auts, NULL, NULL, 0, need);
    return rc == IMSSEC_E_SPACE ? IMSSEC_OK : rc;
}

IMSSEC_API int imssec_digest_aka_respond(const imssec_aka_provider *p,
                                         const imssec_digest_challenge *ch,
                                         const imssec_digest_request *rq,
                                         imssec_aka_result *ar, imssec_digest_out *dout,
                                         char *out, size_t cap, size_t *out_len)
{
    static const uint8_t zero_auts[IMSSEC_AKA_AUTS_LEN] = {0};
    dig_prep pr;
    uint8_t rand[16], autn[16], pw[64];
    imssec_aka_result r;
    char a64[24];
    size_t pwn = 0, an = 0, need_ok = 0, need_sync = 0;
    imssec_digest_str none = {NULL, 0}, auts;
    int rc, v;
    if (!p || !ch || !rq || !ar || !out_len || (!out && cap))
        return IMSSEC_E_PARAM;
    if (!ch->is_digest || !imssec_digest_alg_is_aka(ch->alg))
        return IMSSEC_E_UNSUPPORTED;
    /* the nonce first: an undecodable AKA nonce is IMSSEC_E_SYNTAX */
    if (dig_unq(ch->nonce, &pr.nonce) != 0)
        return IMSSEC_E_SYNTAX;
    rc = imssec_aka_nonce_decode(pr.nonce.s.p, pr.nonce.s.n, rand, autn, NULL, 0, NULL);
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
    if (need_sync > cap) {
        *out_len = need_sync;
        return IMSSEC_E_SPACE;
    }
    memset(&r, 0, sizeof r);
    v = imssec_aka_authenticate(p, rand, autn, &r);
    if (v == IMSSEC_OK) {
        rc = imssec_digest_aka_password(ch->alg, r.res, r.res_len, r.ck, r.ik, pw, sizeof pw,
                                        &pwn);
        if (rc == IMSSEC_OK)
            rc = dig_answer(&pr, pw, pwn, none, dout, out, cap, out_len);
    } else if (v == IMSSEC_E_SYNC_FAILURE) {
        /* RFC 3310 3.4: auts=base64(AUTS), response over an empty password */
        (void)imssec_base64_encode(r.auts, sizeof r.auts, a64, sizeof a64, &an);
        auts.n = an;
        rc = dig_answer(&pr, NULL, 0, auts, dout, out, cap, out_len);
        if (rc == IMSSEC_OK)
            rc = IMSSEC_E_SYNC_FAILURE;
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
