/*
 * core/crypto.c -- the crypto seam: the only place that includes mbedTLS.
 * Offers the rest of the library: AES-128 block encryption, AES-128-CBC,
 * DES-EDE3-CBC, MD5, SHA-1, SHA-256, SHA-512, SHA-512/256, HMAC over each
 * with precomputed inner/outer states, all on the per-algorithm contexts
 * (mbedtls_md_setup() would calloc); AES in counter mode (128/192/256-bit
 * keys) and AES-GCM built on it with a GHASH of our own (for media/'s SRTP
 * AEAD and esp/'s RFC 4106 / RFC 4543 suites).
 * Works with mbedTLS 2.28 and 3.x.
 *
 * SPDX-License-Identifier: MIT
 */
#if !defined(MBEDTLS_ALLOW_PRIVATE_ACCESS)
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* 3.x: SHA-512/256 sets the IV itself */
#endif
#include <mbedtls/version.h>
#if MBEDTLS_VERSION_NUMBER < 0x03000000
#include <mbedtls/config.h>
#else
#include <mbedtls/build_info.h>
#endif
#include <mbedtls/aes.h>
#include <mbedtls/md5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#if IMSSEC_ENABLE_3DES
#include <mbedtls/des.h>
#endif

#if MBEDTLS_VERSION_NUMBER < 0x021C0000
#error "imssec needs mbedTLS 2.28 or later"
#endif
#if !defined(MBEDTLS_AES_C) || !defined(MBEDTLS_CIPHER_MODE_CBC)
#error "imssec needs MBEDTLS_AES_C and MBEDTLS_CIPHER_MODE_CBC"
#endif
#if !defined(MBEDTLS_MD5_C) || !defined(MBEDTLS_SHA1_C) ||                    \
    !defined(MBEDTLS_SHA256_C) || !defined(MBEDTLS_SHA512_C)
#error "imssec needs MBEDTLS_MD5_C, MBEDTLS_SHA1_C, MBEDTLS_SHA256_C and MBEDTLS_SHA512_C"
#endif
#if IMSSEC_ENABLE_3DES && !defined(MBEDTLS_DES_C)
#error "IMSSEC_ENABLE_3DES needs MBEDTLS_DES_C (or set IMSSEC_ENABLE_3DES to 0)"
#endif

/* The 2.x names with `_ret` became the plain names in 3.0. */
#if MBEDTLS_VERSION_NUMBER < 0x03000000
#define isc_md5_starts_ mbedtls_md5_starts_ret
#define isc_md5_update_ mbedtls_md5_update_ret
#define isc_md5_finish_ mbedtls_md5_finish_ret
#define isc_sha1_starts_ mbedtls_sha1_starts_ret
#define isc_sha1_update_ mbedtls_sha1_update_ret
#define isc_sha1_finish_ mbedtls_sha1_finish_ret
#define isc_sha256_starts_ mbedtls_sha256_starts_ret
#define isc_sha256_update_ mbedtls_sha256_update_ret
#define isc_sha256_finish_ mbedtls_sha256_finish_ret
#define isc_sha512_starts_ mbedtls_sha512_starts_ret
#define isc_sha512_update_ mbedtls_sha512_update_ret
#define isc_sha512_finish_ mbedtls_sha512_finish_ret
#else
#define isc_md5_starts_ mbedtls_md5_starts
#define isc_md5_update_ mbedtls_md5_update
#define isc_md5_finish_ mbedtls_md5_finish
#define isc_sha1_starts_ mbedtls_sha1_starts
#define isc_sha1_update_ mbedtls_sha1_update
#define isc_sha1_finish_ mbedtls_sha1_finish
#define isc_sha256_starts_ mbedtls_sha256_starts
#define isc_sha256_update_ mbedtls_sha256_update
#define isc_sha256_finish_ mbedtls_sha256_finish
#define isc_sha512_starts_ mbedtls_sha512_starts
#define isc_sha512_update_ mbedtls_sha512_update
#define isc_sha512_finish_ mbedtls_sha512_finish
#endif


/* ---- secrets ------------------------------------------------------------- */

static ISC_UNUSED void isc_wipe(void *p, size_t n)
{
    if (n != 0)
        mbedtls_platform_zeroize(p, n);
}

/* 1 if equal, else 0; time depends only on n. */
static ISC_UNUSED int isc_ct_eq(const void *a, const void *b, size_t n)
{
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    uint32_t d = 0;
    size_t i;
    for (i = 0; i < n; i++)
        d |= (uint32_t)(x[i] ^ y[i]);
    return (int)(1u & ((d - 1u) >> 8));
}

/* ---- hashes -------------------------------------------------------------- */

enum isc_hash_alg {
    ISC_MD5 = 0,
    ISC_SHA1 = 1,
    ISC_SHA256 = 2,
    ISC_SHA512 = 3,
    ISC_SHA512_256 = 4 /* FIPS 180-4 section 5.3.6.2: own IV, output truncated */
};
#define ISC_HASH_MAX_LEN 64   /* SHA-512 output */
#define ISC_HASH_MAX_BLOCK 128 /* SHA-512 block */

typedef struct isc_hash {
    int alg;
    union {
        mbedtls_md5_context md5;
        mbedtls_sha1_context sha1;
        mbedtls_sha256_context sha256;
        mbedtls_sha512_context sha512;
    } u;
} isc_hash;

static ISC_UNUSED size_t isc_hash_len(int alg)
{
    static const uint8_t len[] = {16, 20, 32, 64, 32};
    return len[alg];
}

static ISC_UNUSED size_t isc_hash_block(int alg)
{
    return alg >= ISC_SHA512 ? 128u : 64u;
}

/* FIPS 180-4 section 5.3.6.2: initial hash value for SHA-512/256. */
static const uint64_t isc_sha512_256_iv[8] = {
    UINT64_C(0x22312194FC2BF72C), UINT64_C(0x9F555FA3C84C64C2),
    UINT64_C(0x2393B86B6F53B151), UINT64_C(0x963877195940EABD),
    UINT64_C(0x96283EE2A88EFFE3), UINT64_C(0xBE5E1E2553863992),
    UINT64_C(0x2B0199FC2C85B8AA), UINT64_C(0x0EB72DDC81C52CA2)};

/* The per-algorithm starts/update/finish never fail for in-memory software
 * contexts (they return errors only for hardware _ALT back-ends), so the
 * seam does not propagate them; a failing back-end is an integration error
 * caught by the known-answer tests. */
static ISC_UNUSED void isc_hash_start(isc_hash *h, int alg)
{
    h->alg = alg;
    switch (alg) {
    case ISC_MD5:
        mbedtls_md5_init(&h->u.md5);
        (void)isc_md5_starts_(&h->u.md5);
        break;
    case ISC_SHA1:
        mbedtls_sha1_init(&h->u.sha1);
        (void)isc_sha1_starts_(&h->u.sha1);
        break;
    case ISC_SHA256:
        mbedtls_sha256_init(&h->u.sha256);
        (void)isc_sha256_starts_(&h->u.sha256, 0);
        break;
    default:
        mbedtls_sha512_init(&h->u.sha512);
        (void)isc_sha512_starts_(&h->u.sha512, 0);
        if (alg == ISC_SHA512_256)
            memcpy(h->u.sha512.state, isc_sha512_256_iv, sizeof isc_sha512_256_iv);
        break;
    }
}

static ISC_UNUSED void isc_hash_update(isc_hash *h, const void *p, size_t n)
{
    const unsigned char *d = (const unsigned char *)p;
    if (n == 0)
        return;
    switch (h->alg) {
    case ISC_MD5: (void)isc_md5_update_(&h->u.md5, d, n); break;
    case ISC_SHA1: (void)isc_sha1_update_(&h->u.sha1, d, n); break;
    case ISC_SHA256: (void)isc_sha256_update_(&h->u.sha256, d, n); break;
    default: (void)isc_sha512_update_(&h->u.sha512, d, n); break;
    }
}

/* Writes isc_hash_len(h->alg) bytes and wipes the context. */
static ISC_UNUSED void isc_hash_finish(isc_hash *h, uint8_t *out)
{
    uint8_t full[64];
    switch (h->alg) {
    case ISC_MD5: (void)isc_md5_finish_(&h->u.md5, out); break;
    case ISC_SHA1: (void)isc_sha1_finish_(&h->u.sha1, out); break;
    case ISC_SHA256: (void)isc_sha256_finish_(&h->u.sha256, out); break;
    case ISC_SHA512: (void)isc_sha512_finish_(&h->u.sha512, out); break;
    default:
        (void)isc_sha512_finish_(&h->u.sha512, full);
        memcpy(out, full, 32);
        isc_wipe(full, sizeof full);
        break;
    }
    isc_wipe(&h->u, sizeof h->u);
}

static ISC_UNUSED void isc_hash_once(int alg, const void *p, size_t n, uint8_t *out)
{
    isc_hash h;
    isc_hash_start(&h, alg);
    isc_hash_update(&h, p, n);
    isc_hash_finish(&h, out);
}

/* ---- HMAC with precomputed pads (RFC 2104) -------------------------------- */

/* A keyed HMAC: the hash states after absorbing K^ipad and K^opad.  Keyed
 * once (per SA), then each message clones `inner`: no re-hash of the pads. */
typedef struct isc_hmac {
    isc_hash inner, outer;
} isc_hmac;

static ISC_UNUSED void isc_hmac_setkey(isc_hmac *k, int alg, const uint8_t *key, size_t klen)
{
    uint8_t pad[ISC_HASH_MAX_BLOCK], kh[ISC_HASH_MAX_LEN];
    size_t bs = isc_hash_block(alg), i;
    if (klen > bs) { /* RFC 2104: longer keys are hashed first */
        isc_hash_once(alg, key, klen, kh);
        key = kh;
        klen = isc_hash_len(alg);
    }
    memset(pad, 0x36, bs);
    for (i = 0; i < klen; i++)
        pad[i] ^= key[i];
    isc_hash_start(&k->inner, alg);
    isc_hash_update(&k->inner, pad, bs);
    for (i = 0; i < bs; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    isc_hash_start(&k->outer, alg);
    isc_hash_update(&k->outer, pad, bs);
    isc_wipe(pad, sizeof pad);
    isc_wipe(kh, sizeof kh);
}

/* Start one message: *ctx becomes a copy of the keyed inner state. */
static ISC_UNUSED void isc_hmac_start(const isc_hmac *k, isc_hash *ctx)
{
    *ctx = k->inner; /* the contexts hold no pointers: a struct copy clones */
}

/* Finish one message: writes the full isc_hash_len() bytes. */
static ISC_UNUSED void isc_hmac_finish(const isc_hmac *k, isc_hash *ctx, uint8_t *out)
{
    uint8_t ih[ISC_HASH_MAX_LEN];
    isc_hash o = k->outer;
    isc_hash_finish(ctx, ih);
    isc_hash_update(&o, ih, isc_hash_len(k->inner.alg));
    isc_hash_finish(&o, out);
    isc_wipe(ih, sizeof ih);
}

/* One-shot HMAC with no precomputation, for per-message keys. */
static ISC_UNUSED void isc_hmac_once(int alg, const uint8_t *key, size_t klen, const void *msg,
                          size_t n, uint8_t *out)
{
    isc_hmac k;
    isc_hash c;
    isc_hmac_setkey(&k, alg, key, klen);
    isc_hmac_start(&k, &c);
    isc_hash_update(&c, msg, n);
    isc_hmac_finish(&k, &c, out);
    isc_wipe(&k, sizeof k);
}

static ISC_UNUSED void isc_hmac_wipe(isc_hmac *k)
{
    isc_wipe(k, sizeof *k);
}

/* ---- AES-128 block (Milenage) -------------------------------------------- */

typedef struct isc_aes128 {
    mbedtls_aes_context ctx;
} isc_aes128;

static ISC_UNUSED void isc_aes128_setkey(isc_aes128 *a, const uint8_t key[16])
{
    mbedtls_aes_init(&a->ctx);
    (void)mbedtls_aes_setkey_enc(&a->ctx, key, 128);
}

static ISC_UNUSED void isc_aes128_encrypt(isc_aes128 *a, const uint8_t in[16], uint8_t out[16])
{
    (void)mbedtls_aes_crypt_ecb(&a->ctx, MBEDTLS_AES_ENCRYPT, in, out);
}

static ISC_UNUSED void isc_aes128_wipe(isc_aes128 *a)
{
    mbedtls_aes_free(&a->ctx);
    isc_wipe(a, sizeof *a);
}

/* ---- CBC ciphers (ESP) --------------------------------------------------- */

enum isc_cipher_alg {
    ISC_CIPHER_NULL = 0,
    ISC_CIPHER_AES128_CBC = 1, /* RFC 3602 */
    ISC_CIPHER_DES3_CBC = 2    /* RFC 2451 */
};

/* Encrypt and decrypt key schedules for one SA.  The raw key is kept so the
 * schedules can be rebuilt when the object has been moved in memory: an
 * mbedTLS 2.28 AES context points into itself, and 3.x aligns its round keys
 * for AES-NI relative to its own address. */
typedef struct isc_cipher {
    int alg;
    size_t klen;
    const struct isc_cipher *self; /* address at which the schedules were made */
    uint8_t key[24];
    union {
        struct {
            mbedtls_aes_context enc, dec;
        } aes;
#if IMSSEC_ENABLE_3DES
        struct {
            mbedtls_des3_context enc, dec;
        } des3;
#endif
    } u;
} isc_cipher;

static ISC_UNUSED size_t isc_cipher_block(int alg)
{
    return alg == ISC_CIPHER_AES128_CBC ? 16u : alg == ISC_CIPHER_DES3_CBC ? 8u : 1u;
}

static ISC_UNUSED size_t isc_cipher_keylen(int alg)
{
    return alg == ISC_CIPHER_AES128_CBC ? 16u : alg == ISC_CIPHER_DES3_CBC ? 24u : 0u;
}

static ISC_UNUSED void isc_cipher_schedule_(isc_cipher *c)
{
    c->self = c;
    switch (c->alg) {
    case ISC_CIPHER_AES128_CBC:
        mbedtls_aes_init(&c->u.aes.enc);
        mbedtls_aes_init(&c->u.aes.dec);
        (void)mbedtls_aes_setkey_enc(&c->u.aes.enc, c->key, 128);
        (void)mbedtls_aes_setkey_dec(&c->u.aes.dec, c->key, 128);
        break;
#if IMSSEC_ENABLE_3DES
    case ISC_CIPHER_DES3_CBC:
        mbedtls_des3_init(&c->u.des3.enc);
        mbedtls_des3_init(&c->u.des3.dec);
        (void)mbedtls_des3_set3key_enc(&c->u.des3.enc, c->key);
        (void)mbedtls_des3_set3key_dec(&c->u.des3.dec, c->key);
        break;
#endif
    default:
        break;
    }
}

/* Returns IMSSEC_OK, IMSSEC_E_UNSUPPORTED (alg compiled out or unknown) or
 * IMSSEC_E_PARAM (wrong key length). */
static ISC_UNUSED int isc_cipher_setkey(isc_cipher *c, int alg, const uint8_t *key, size_t klen)
{
    if (alg != ISC_CIPHER_NULL && alg != ISC_CIPHER_AES128_CBC &&
        (alg != ISC_CIPHER_DES3_CBC || !IMSSEC_ENABLE_3DES))
        return IMSSEC_E_UNSUPPORTED;
    if (klen != isc_cipher_keylen(alg))
        return IMSSEC_E_PARAM;
    memset(c, 0, sizeof *c);
    c->alg = alg;
    c->klen = klen;
    if (klen)
        memcpy(c->key, key, klen);
    isc_cipher_schedule_(c);
    return IMSSEC_OK;
}

/* CBC over n bytes (a multiple of the block size).  `iv` is not modified.
 * in == out is allowed.  NULL cipher copies. */
static ISC_UNUSED void isc_cipher_cbc(isc_cipher *c, int encrypt, const uint8_t *iv,
                           const uint8_t *in, uint8_t *out, size_t n)
{
    unsigned char ivc[16];
    if (c->alg == ISC_CIPHER_NULL) {
        if (in != out && n)
            memmove(out, in, n);
        return;
    }
    if (c->self != c)
        isc_cipher_schedule_(c);
    memcpy(ivc, iv, isc_cipher_block(c->alg));
    if (c->alg == ISC_CIPHER_AES128_CBC) {
        (void)mbedtls_aes_crypt_cbc(encrypt ? &c->u.aes.enc : &c->u.aes.dec,
                                    encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT,
                                    n, ivc, in, out);
    }
#if IMSSEC_ENABLE_3DES
    else {
        (void)mbedtls_des3_crypt_cbc(encrypt ? &c->u.des3.enc : &c->u.des3.dec,
                                     encrypt ? MBEDTLS_DES_ENCRYPT : MBEDTLS_DES_DECRYPT,
                                     n, ivc, in, out);
    }
#endif
}

static ISC_UNUSED void isc_cipher_wipe(isc_cipher *c)
{
    isc_wipe(c, sizeof *c);
}


/* ---- AES in counter mode (SRTP AES-CM, RFC 3711 4.1.1, and its KDF) ------ */

/* One AES key schedule for counter mode.  As with isc_cipher, the raw key
 * is kept so the schedule can be rebuilt after the object was moved (an
 * mbedTLS 2.28 AES context points into itself; 3.x aligns its round keys
 * relative to its own address). */
typedef struct isc_aes_ctr {
    const struct isc_aes_ctr *self; /* address at which the schedule was made */
    size_t klen;
    uint8_t key[32];
    mbedtls_aes_context ctx;
} isc_aes_ctr;

static ISC_UNUSED void isc_aes_ctr_schedule_(isc_aes_ctr *a)
{
    a->self = a;
    mbedtls_aes_init(&a->ctx);
    (void)mbedtls_aes_setkey_enc(&a->ctx, a->key, (unsigned)(a->klen * 8));
}

/* IMSSEC_OK, or IMSSEC_E_PARAM for a key length other than 16, 24, 32. */
static ISC_UNUSED int isc_aes_ctr_setkey(isc_aes_ctr *a, const uint8_t *key, size_t klen)
{
    if (klen != 16 && klen != 24 && klen != 32)
        return IMSSEC_E_PARAM;
    memset(a, 0, sizeof *a);
    a->klen = klen;
    memcpy(a->key, key, klen);
    isc_aes_ctr_schedule_(a);
    return IMSSEC_OK;
}

/* ctr += by, as a 128-bit big-endian integer. */
static ISC_UNUSED void isc_aes_ctr_inc_(uint8_t ctr[16], uint64_t by)
{
    int b;
    for (b = 15; b >= 0 && by; b--) {
        uint64_t v = (uint64_t)ctr[b] + (by & 0xff);
        ctr[b] = (uint8_t)v;
        by = (by >> 8) + (v >> 8);
    }
}

/* out[i] = in[i] ^ keystream[skip + i] for i < n, where the keystream is
 * E(k, iv) || E(k, iv + 1) || ... (the whole 128-bit block incremented as
 * a big-endian integer, RFC 3711 4.1.1 "IV + j mod 2^128").  in == out is
 * allowed; in == NULL writes the bare keystream.  `skip` must be a multiple
 * of 16. */
static ISC_UNUSED void isc_aes_ctr_xor(isc_aes_ctr *a, const uint8_t iv[16], size_t skip,
                                       const uint8_t *in, uint8_t *out, size_t n)
{
    uint8_t ctr[16], ks[16];
    size_t i, off = 0;
    uint32_t lo;
    if (a->self != a)
        isc_aes_ctr_schedule_(a);
    memcpy(ctr, iv, 16);
    isc_aes_ctr_inc_(ctr, skip / 16);
    lo = isc_be32(ctr + 12);
    for (; off + 16 <= n; off += 16) {
        uint64_t x0, x1, k0, k1;
        (void)mbedtls_aes_crypt_ecb(&a->ctx, MBEDTLS_AES_ENCRYPT, ctr, ks);
        memcpy(&k0, ks, 8);
        memcpy(&k1, ks + 8, 8);
        if (in) {
            memcpy(&x0, in + off, 8);
            memcpy(&x1, in + off + 8, 8);
            k0 ^= x0;
            k1 ^= x1;
        }
        memcpy(out + off, &k0, 8);
        memcpy(out + off + 8, &k1, 8);
        isc_put_be32(ctr + 12, ++lo); /* the low word; a carry out of it is rare */
        if (lo == 0)
            isc_aes_ctr_inc_(ctr, (uint64_t)1 << 32);
    }
    if (off < n) {
        (void)mbedtls_aes_crypt_ecb(&a->ctx, MBEDTLS_AES_ENCRYPT, ctr, ks);
        for (i = 0; off + i < n; i++)
            out[off + i] = (uint8_t)((in ? in[off + i] : 0) ^ ks[i]);
    }
    isc_wipe(ks, sizeof ks);
}

static ISC_UNUSED void isc_aes_ctr_wipe(isc_aes_ctr *a)
{
    mbedtls_aes_free(&a->ctx);
    isc_wipe(a, sizeof *a);
}

/* ---- AES-GCM (SRTP AEAD, RFC 7714; ESP, RFC 4106 / 4543; NIST SP 800-38D) ---- */

/* GCM is built here from the AES block (isc_aes_ctr) and a GHASH of our
 * own, because mbedTLS's GCM context allocates its block cipher with
 * mbedtls_calloc (mbedtls_cipher_setup): the library allocates nothing.
 *
 * GHASH multiplies in GF(2^128) with SP 800-38D's bit order (bit 0 of a
 * block, the most significant bit of its first byte, is the coefficient of
 * x^0).  Read as a big-endian 128-bit integer a block is therefore the bit
 * reversal of the polynomial, and the carry-less product of two such
 * integers, shifted left by one, is the bit reversal of the 256-bit
 * polynomial product: its upper half holds the low-degree terms, its lower
 * half the terms of degree 128.. that are folded back with x^128 = x^7 +
 * x^2 + x + 1 (twice: the first fold itself overflows by up to 7 degrees).
 * The carry-less multiply uses integer multiplications on operands with
 * holes (one bit in four), so that no carry reaches a bit that is kept: no
 * table lookups, no branches on data, constant time. */

/* Low 64 bits of the carry-less product x * y.  Each of the 16 products
 * has bits only at positions of one class mod 4 and at most 15 terms per
 * position below bit 60 (16 at bit 60, whose carry leaves the word): the
 * 4-bit gaps hold every sum. */
static uint64_t isc_bmul64(uint64_t x, uint64_t y)
{
    const uint64_t m0 = 0x1111111111111111u, m1 = m0 << 1, m2 = m0 << 2, m3 = m0 << 3;
    uint64_t x0 = x & m0, x1 = x & m1, x2 = x & m2, x3 = x & m3;
    uint64_t y0 = y & m0, y1 = y & m1, y2 = y & m2, y3 = y & m3;
    uint64_t z0 = (x0 * y0) ^ (x1 * y3) ^ (x2 * y2) ^ (x3 * y1);
    uint64_t z1 = (x0 * y1) ^ (x1 * y0) ^ (x2 * y3) ^ (x3 * y2);
    uint64_t z2 = (x0 * y2) ^ (x1 * y1) ^ (x2 * y0) ^ (x3 * y3);
    uint64_t z3 = (x0 * y3) ^ (x1 * y2) ^ (x2 * y1) ^ (x3 * y0);
    return (z0 & m0) | (z1 & m1) | (z2 & m2) | (z3 & m3);
}

static uint64_t isc_rev64(uint64_t x)
{
    x = ((x & 0x5555555555555555u) << 1) | ((x >> 1) & 0x5555555555555555u);
    x = ((x & 0x3333333333333333u) << 2) | ((x >> 2) & 0x3333333333333333u);
    x = ((x & 0x0f0f0f0f0f0f0f0fu) << 4) | ((x >> 4) & 0x0f0f0f0f0f0f0f0fu);
    x = ((x & 0x00ff00ff00ff00ffu) << 8) | ((x >> 8) & 0x00ff00ff00ff00ffu);
    x = ((x & 0x0000ffff0000ffffu) << 16) | ((x >> 16) & 0x0000ffff0000ffffu);
    return (x << 32) | (x >> 32);
}

/* The 127-bit carry-less product: the high half from the reversed operands
 * (rev(x) * rev(y) = rev127(x * y)). */
static void isc_clmul64(uint64_t x, uint64_t y, uint64_t *hi, uint64_t *lo)
{
    *lo = isc_bmul64(x, y);
    *hi = isc_rev64(isc_bmul64(isc_rev64(x), isc_rev64(y))) >> 1;
}

/* y := y * h in GCM's GF(2^128); y[0], h[0] are the first 8 bytes read big
 * endian. */
static void isc_ghash_mul(uint64_t y[2], const uint64_t h[2])
{
    uint64_t l1, l0, h1, h0, m1, m0, z3, z2, z1, z0, over, rhi, rlo;
    /* Karatsuba: three 64 x 64 products */
    isc_clmul64(y[1], h[1], &l1, &l0);
    isc_clmul64(y[0], h[0], &h1, &h0);
    isc_clmul64(y[0] ^ y[1], h[0] ^ h[1], &m1, &m0);
    m1 ^= l1 ^ h1;
    m0 ^= l0 ^ h0;
    z0 = l0;
    z1 = l1 ^ m0;
    z2 = h0 ^ m1;
    z3 = h1;
    /* << 1: the reversed 256-bit product */
    z3 = (z3 << 1) | (z2 >> 63);
    z2 = (z2 << 1) | (z1 >> 63);
    z1 = (z1 << 1) | (z0 >> 63);
    z0 <<= 1;
    /* fold B = z1:z0 (degrees 128..255) onto A = z3:z2 with x^0,1,2,7;
     * what B << (128 - m) pushes out (degrees 128..134 again) is `over` */
    over = (z0 << 63) ^ (z0 << 62) ^ (z0 << 57);
    rhi = z3 ^ z1 ^ (z1 >> 1) ^ (z1 >> 2) ^ (z1 >> 7) ^ over ^ (over >> 1) ^ (over >> 2) ^
          (over >> 7);
    rlo = z2 ^ z0 ^ ((z0 >> 1) | (z1 << 63)) ^ ((z0 >> 2) | (z1 << 62)) ^
          ((z0 >> 7) | (z1 << 57)) ^ (over << 63) ^ (over << 62) ^ (over << 57);
    y[0] = rhi;
    y[1] = rlo;
}

static uint64_t isc_be64_(const uint8_t *p)
{
    return ((uint64_t)isc_be32(p) << 32) | isc_be32(p + 4);
}

/* GHASH_H over data[0..n), zero-padded to whole blocks, into y. */
static void isc_ghash_update(uint64_t y[2], const uint64_t h[2], const uint8_t *data, size_t n)
{
    uint8_t last[16];
    size_t off;
    for (off = 0; off + 16 <= n; off += 16) {
        y[0] ^= isc_be64_(data + off);
        y[1] ^= isc_be64_(data + off + 8);
        isc_ghash_mul(y, h);
    }
    if (off < n) {
        memset(last, 0, sizeof last);
        memcpy(last, data + off, n - off);
        y[0] ^= isc_be64_(last);
        y[1] ^= isc_be64_(last + 8);
        isc_ghash_mul(y, h);
    }
}

/* A GCM key: the AES counter-mode schedule and the hash key H = E(K, 0). */
typedef struct isc_gcm {
    int ready;
    uint64_t h[2];
    isc_aes_ctr ctr;
} isc_gcm;

/* IMSSEC_OK or IMSSEC_E_PARAM (key length other than 16 or 32). */
static ISC_UNUSED int isc_gcm_setkey(isc_gcm *g, const uint8_t *key, size_t klen)
{
    static const uint8_t zero[16] = {0};
    uint8_t hb[16];
    memset(g, 0, sizeof *g);
    if (klen != 16 && klen != 32)
        return IMSSEC_E_PARAM;
    (void)isc_aes_ctr_setkey(&g->ctr, key, klen);
    isc_aes_ctr_xor(&g->ctr, zero, 0, NULL, hb, 16); /* E(K, 0^128) */
    g->h[0] = isc_be64_(hb);
    g->h[1] = isc_be64_(hb + 8);
    isc_wipe(hb, sizeof hb);
    g->ready = 1;
    return IMSSEC_OK;
}

/* An incremental GHASH over A || C || lengths (SP 800-38D 7.1 steps 5-6):
 * the AAD may come in any number of pieces (ESP with ESN: SPI, Seqh and
 * the low sequence number are not contiguous; RFC 4543 adds the whole
 * packet), then the ciphertext in any number of pieces; A and C are each
 * zero-padded to whole blocks as one string.  A partial block waits in
 * `part`.  What is buffered and when depends only on the lengths, never
 * on the data: the time stays independent of the bytes hashed.  Feed all
 * the AAD (isc_gcm_aad) before any ciphertext (isc_gcm_text). */
typedef struct isc_ghash {
    uint64_t y[2];
    uint8_t part[16];
    size_t fill;           /* bytes waiting in part */
    uint64_t alen, clen;   /* bytes of A and of C so far */
    int in_text;           /* 1 once the ciphertext has started */
} isc_ghash;

static void isc_ghash_absorb_(isc_ghash *s, const uint64_t h[2], const uint8_t *p, size_t n)
{
    size_t whole;
    if (n == 0)
        return;
    if (s->fill) {
        size_t k = 16 - s->fill < n ? 16 - s->fill : n;
        memcpy(s->part + s->fill, p, k);
        s->fill += k;
        p += k;
        n -= k;
        if (s->fill < 16)
            return;
        isc_ghash_update(s->y, h, s->part, 16);
        s->fill = 0;
    }
    whole = n / 16 * 16;
    isc_ghash_update(s->y, h, p, whole);
    if (n > whole)
        memcpy(s->part, p + whole, n - whole);
    s->fill = n - whole;
}

/* The pending partial block, zero-padded (isc_ghash_update pads). */
static void isc_ghash_pad_(isc_ghash *s, const uint64_t h[2])
{
    if (s->fill) {
        isc_ghash_update(s->y, h, s->part, s->fill);
        s->fill = 0;
    }
}

static ISC_UNUSED void isc_gcm_start(isc_ghash *s)
{
    memset(s, 0, sizeof *s);
}

static ISC_UNUSED void isc_gcm_aad(const isc_gcm *g, isc_ghash *s, const uint8_t *p, size_t n)
{
    isc_ghash_absorb_(s, g->h, p, n);
    s->alen += n;
}

static ISC_UNUSED void isc_gcm_text(const isc_gcm *g, isc_ghash *s, const uint8_t *ct, size_t n)
{
    if (!s->in_text) {
        isc_ghash_pad_(s, g->h); /* A ends on a block boundary */
        s->in_text = 1;
    }
    isc_ghash_absorb_(s, g->h, ct, n);
    s->clen += n;
}

/* The tag: GHASH(A || C || lengths) xor E(K, J0), J0 = IV || 0^31 || 1 for
 * the 96-bit IV (SP 800-38D 7.1).  Wipes *s. */
static ISC_UNUSED void isc_gcm_finish(isc_gcm *g, isc_ghash *s, const uint8_t iv[12],
                                      uint8_t tag[16])
{
    uint8_t j0[16], ek[16], lens[16];
    isc_ghash_pad_(s, g->h);
    isc_put_be32(lens, (uint32_t)(s->alen >> 29));
    isc_put_be32(lens + 4, (uint32_t)(s->alen << 3));
    isc_put_be32(lens + 8, (uint32_t)(s->clen >> 29));
    isc_put_be32(lens + 12, (uint32_t)(s->clen << 3));
    isc_ghash_update(s->y, g->h, lens, 16);
    memcpy(j0, iv, 12);
    j0[12] = j0[13] = j0[14] = 0;
    j0[15] = 1;
    isc_aes_ctr_xor(&g->ctr, j0, 0, NULL, ek, 16);
    isc_put_be32(tag, (uint32_t)(s->y[0] >> 32) ^ isc_be32(ek));
    isc_put_be32(tag + 4, (uint32_t)s->y[0] ^ isc_be32(ek + 4));
    isc_put_be32(tag + 8, (uint32_t)(s->y[1] >> 32) ^ isc_be32(ek + 8));
    isc_put_be32(tag + 12, (uint32_t)s->y[1] ^ isc_be32(ek + 12));
    isc_wipe(ek, sizeof ek);
    isc_wipe(s, sizeof *s);
}

/* The tag of (aad, ct) under iv, both contiguous. */
static void isc_gcm_tag_(isc_gcm *g, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
                         const uint8_t *ct, size_t n, uint8_t tag[16])
{
    isc_ghash s;
    isc_gcm_start(&s);
    isc_gcm_aad(g, &s, aad, aad_len);
    isc_gcm_text(g, &s, ct, n);
    isc_gcm_finish(g, &s, iv, tag);
}

/* The GCM payload keystream for iv (it starts at inc32(J0)) from byte `off`
 * on, xored into out[0..n) from in[0..n): decrypts (or encrypts) any byte
 * range of a payload, e.g. an ESP trailer alone.  in == out is allowed. */
static ISC_UNUSED void isc_gcm_ctr_at(isc_gcm *g, const uint8_t iv[12], size_t off,
                                      const uint8_t *in, uint8_t *out, size_t n)
{
    uint8_t cb[16], ks[16];
    size_t head = off % 16, i, k;
    memcpy(cb, iv, 12);
    cb[12] = cb[13] = cb[14] = 0;
    cb[15] = 2; /* inc32(J0) */
    if (head && n) {
        isc_aes_ctr_xor(&g->ctr, cb, off - head, NULL, ks, 16);
        k = 16 - head < n ? 16 - head : n;
        for (i = 0; i < k; i++)
            out[i] = (uint8_t)(in[i] ^ ks[head + i]);
        isc_wipe(ks, sizeof ks);
        off += k;
        in += k;
        out += k;
        n -= k;
    }
    if (n)
        isc_aes_ctr_xor(&g->ctr, cb, off, in, out, n);
}

/* Decrypt (or encrypt: it is the keystream) buf[0..n) in place with the
 * GCM payload keystream for iv. */
static ISC_UNUSED void isc_gcm_ctr(isc_gcm *g, const uint8_t iv[12], uint8_t *buf, size_t n)
{
    isc_gcm_ctr_at(g, iv, 0, buf, buf, n);
}

/* Encrypt buf[0..n) in place and write the 16-byte tag, with aad[0..aad_len)
 * authenticated.  IMSSEC_OK or IMSSEC_E_CRYPTO (no key). */
static ISC_UNUSED int isc_gcm_seal(isc_gcm *g, const uint8_t iv[12], const uint8_t *aad,
                                   size_t aad_len, uint8_t *buf, size_t n, uint8_t tag[16])
{
    if (!g->ready)
        return IMSSEC_E_CRYPTO;
    isc_gcm_ctr(g, iv, buf, n);
    isc_gcm_tag_(g, iv, aad, aad_len, buf, n, tag);
    return IMSSEC_OK;
}

/* 1 if tag is the GCM tag of (aad, ct[0..n)) under iv, else 0; ct is not
 * modified (the caller decrypts with isc_gcm_ctr() only after 1).  The
 * comparison is constant time. */
static ISC_UNUSED int isc_gcm_check(isc_gcm *g, const uint8_t iv[12], const uint8_t *aad,
                                    size_t aad_len, const uint8_t *ct, size_t n,
                                    const uint8_t tag[16])
{
    uint8_t t[16];
    int ok;
    if (!g->ready)
        return 0;
    isc_gcm_tag_(g, iv, aad, aad_len, ct, n, t);
    ok = isc_ct_eq(t, tag, 16);
    isc_wipe(t, sizeof t);
    return ok;
}

static ISC_UNUSED void isc_gcm_wipe(isc_gcm *g)
{
    isc_aes_ctr_wipe(&g->ctr);
    isc_wipe(g, sizeof *g);
}
