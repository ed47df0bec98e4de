/*
 * digest_alg.c -- the digest algorithms (RFC 2617 3.2.2, RFC 7616 3.4,
 * RFC 8760, RFC 3310, RFC 4169): their names, HA1 / HA2 / response, the
 * AKA passwords (RFC 3310 3.1, RFC 4169 3.1), and the constant-time hex
 * comparison every verifier uses.  The parsers, builders, server and
 * client of the digest follow in that order and build on this file.
 *
 * SPDX-License-Identifier: MIT
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

IMSSEC_API int imssec_digest_alg_from_name(imssec_str name)
{
    int i;
    if (!name.p)
        return IMSSEC_DIGEST_UNKNOWN;
    for (i = 1; i < IMSSEC_DIGEST_ALG_COUNT; i++)
        if (isc_token_eq(name.p, name.n, dig_algs[i].name))
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
static void dig_ha2(int hash, int qop, imssec_str method, imssec_str uri,
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
static int dig_compute(const imssec_digest_in *in, imssec_str method,
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
    imssec_str empty = {"", 0};
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


static int dig_hex_eq(imssec_str peer, const char *ours, size_t n)
{
    uint32_t d = 0;
    size_t i;
    if (peer.n != n)
        return 0;
    for (i = 0; i < n; i++)
        d |= (uint32_t)((unsigned)isc_lower((unsigned char)peer.p[i]) ^ (unsigned char)ours[i]);
    return isc_ct_eq(&d, "\0\0\0\0", sizeof d);
}

static int dig_str_eq(imssec_str a, imssec_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

