/*
 * imssec.c -- the only file to compile.  Everything below is one translation
 * unit: configuration checks, shared internals, the crypto seam (the one
 * place that includes mbedTLS), then the module sources.
 *
 * Every name defined here or in a module without the `imssec_` prefix has
 * internal linkage (`static`); `test/symbols.sh` checks this with nm.
 * Internal names carry a prefix: `isc_` for shared internals, then one per
 * module (`aka_`, `dig_`, `sec_`, `esp_`, `sa_`).
 *
 * `make dist` inlines the module sources into dist/imssec.c; nothing else
 * changes, so the two-file drop behaves exactly like this tree.
 *
 * SPDX-License-Identifier: MIT
 */
#include "imssec.h"

#include <string.h> /* memcpy, memset, memcmp on non-secret data */

/* ===========================================================================
 * 1. Configuration checks
 * ======================================================================== */

#if IMSSEC_REPLAY_WINDOW_MAX < 32 || IMSSEC_REPLAY_WINDOW_MAX > 4096 ||        \
    (IMSSEC_REPLAY_WINDOW_MAX & (IMSSEC_REPLAY_WINDOW_MAX - 1)) != 0
#error "IMSSEC_REPLAY_WINDOW_MAX must be a power of two between 32 and 4096"
#endif
#if (IMSSEC_ENABLE_3DES != 0 && IMSSEC_ENABLE_3DES != 1) ||                   \
    (IMSSEC_ENABLE_HMAC_MD5 != 0 && IMSSEC_ENABLE_HMAC_MD5 != 1) ||           \
    (IMSSEC_ENABLE_IPV6 != 0 && IMSSEC_ENABLE_IPV6 != 1) ||                   \
    (IMSSEC_ENABLE_UDPENCAP != 0 && IMSSEC_ENABLE_UDPENCAP != 1) ||           \
    (IMSSEC_ENABLE_LOG != 0 && IMSSEC_ENABLE_LOG != 1)
#error "IMSSEC_ENABLE_* options must be 0 or 1"
#endif

/* ===========================================================================
 * 2. Crypto seam: the only place that includes mbedTLS
 * ===========================================================================
 * Offers the rest of the library: AES-128 block encryption, AES-128-CBC,
 * DES-EDE3-CBC, MD5, SHA-1, SHA-256, SHA-512, SHA-512/256, HMAC over each
 * with precomputed inner/outer states, all on the per-algorithm contexts
 * (mbedtls_md_setup() would calloc).  Works with mbedTLS 2.28 and 3.x.
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

/* Compile-time assertion usable at file scope (C99 has no _Static_assert). */
#define ISC_STATIC_ASSERT(name, cond) typedef char isc_assert_##name[(cond) ? 1 : -1]

/* Shared internals below are used by some modules in some configurations
 * only; an unused one is not an error. */
#if defined(__GNUC__) || defined(__clang__)
#define ISC_UNUSED __attribute__((unused))
#else
#define ISC_UNUSED
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

/* ===========================================================================
 * 3. Shared internals
 * ======================================================================== */

#define ISC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static ISC_UNUSED uint16_t isc_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static ISC_UNUSED uint32_t isc_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static ISC_UNUSED uint64_t isc_be48(const uint8_t *p)
{
    return (uint64_t)isc_be16(p) << 32 | isc_be32(p + 2);
}
static ISC_UNUSED void isc_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static ISC_UNUSED void isc_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static ISC_UNUSED void isc_put_be48(uint8_t *p, uint64_t v)
{
    isc_put_be16(p, (uint16_t)(v >> 32));
    isc_put_be32(p + 2, (uint32_t)v);
}

/* ASCII-only, locale-independent character classes and case folding. */
static ISC_UNUSED int isc_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}
static ISC_UNUSED int isc_is_digit(int c)
{
    return c >= '0' && c <= '9';
}
/* Case-insensitive whole-token equality: (p, n) equals the NUL-terminated
 * keyword exactly, lengths included (no prefix matches). */
static ISC_UNUSED int isc_token_eq(const char *p, size_t n, const char *kw)
{
    size_t i;
    if (strlen(kw) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (isc_lower((unsigned char)p[i]) != isc_lower((unsigned char)kw[i]))
            return 0;
    return 1;
}

/* A bounded text builder for log lines and headers.  Writes never pass
 * `cap`; `len` keeps counting so the caller learns the size needed. */
typedef struct isc_sbuf {
    char *p;
    size_t cap, len;
} isc_sbuf;

static ISC_UNUSED void isc_sb_init(isc_sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
}
static ISC_UNUSED void isc_sb_putn(isc_sbuf *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++, b->len++)
        if (b->len < b->cap)
            b->p[b->len] = s[i];
}
static ISC_UNUSED void isc_sb_puts(isc_sbuf *b, const char *s)
{
    isc_sb_putn(b, s, strlen(s));
}
static ISC_UNUSED void isc_sb_putu(isc_sbuf *b, uint64_t v)
{
    char d[20];
    size_t n = 0;
    do {
        d[sizeof d - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    isc_sb_putn(b, d + sizeof d - n, n);
}
static ISC_UNUSED void isc_sb_puthex(isc_sbuf *b, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        char two[2];
        two[0] = hx[p[i] >> 4];
        two[1] = hx[p[i] & 15];
        isc_sb_putn(b, two, 2);
    }
}
static ISC_UNUSED int isc_sb_ok(const isc_sbuf *b)
{
    return b->len <= b->cap;
}

#if IMSSEC_ENABLE_LOG
static ISC_UNUSED void isc_log(const imssec_io *io, int level, const isc_sbuf *b)
{
    if (io && io->log)
        io->log(io->user, level, b->p, b->len < b->cap ? b->len : b->cap);
}
#endif

/* Random bytes from the caller; IMSSEC_E_CALLBACK if absent or failing. */
static ISC_UNUSED int isc_random(const imssec_io *io, uint8_t *out, size_t n)
{
    if (!io || !io->random || io->random(io->user, out, n) != 0)
        return IMSSEC_E_CALLBACK;
    return IMSSEC_OK;
}

/* ===========================================================================
 * 4. Public core: errors, version, wipe, base64
 * ======================================================================== */

IMSSEC_API const char *imssec_strerror(int err)
{
    switch (err) {
#define IMSSEC_ERR_TEXT_(name, value, text) case value: return text;
        IMSSEC_ERROR_LIST(IMSSEC_ERR_TEXT_)
#undef IMSSEC_ERR_TEXT_
    default: return "unknown error";
    }
}

IMSSEC_API const char *imssec_errname(int err)
{
    switch (err) {
#define IMSSEC_ERR_NAME_(name, value, text) case value: return #name;
        IMSSEC_ERROR_LIST(IMSSEC_ERR_NAME_)
#undef IMSSEC_ERR_NAME_
    default: return "IMSSEC_E_UNKNOWN";
    }
}

IMSSEC_API int imssec_err_is_verdict(int err)
{
    return (err <= -20 && err >= -99) ? 1 : 0;
}

IMSSEC_API const char *imssec_version(void)
{
    return IMSSEC_VERSION_STRING;
}

#define ISC_STR_(x) #x
#define ISC_STR(x) ISC_STR_(x)
IMSSEC_API const char *imssec_build_info(void)
{
    return "imssec " IMSSEC_VERSION_STRING " mbedtls=" MBEDTLS_VERSION_STRING
           " 3des=" ISC_STR(IMSSEC_ENABLE_3DES) " hmac-md5=" ISC_STR(IMSSEC_ENABLE_HMAC_MD5)
           " ipv6=" ISC_STR(IMSSEC_ENABLE_IPV6) " udpencap=" ISC_STR(IMSSEC_ENABLE_UDPENCAP)
           " replay-window-max=" ISC_STR(IMSSEC_REPLAY_WINDOW_MAX)
           " log=" ISC_STR(IMSSEC_ENABLE_LOG);
}

IMSSEC_API void imssec_wipe(void *p, size_t n)
{
    isc_wipe(p, n);
}

IMSSEC_API int imssec_ct_equal(const void *a, const void *b, size_t n)
{
    return isc_ct_eq(a, b, n);
}

static const char isc_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

IMSSEC_API int imssec_base64_encode(const uint8_t *in, size_t in_len, char *out,
                                    size_t out_cap, size_t *out_len)
{
    size_t need, i, o = 0;
    if ((!in && in_len) || !out_len || in_len > (SIZE_MAX / 4) * 3 - 3)
        return IMSSEC_E_PARAM;
    need = (in_len + 2) / 3 * 4;
    *out_len = need;
    if (need > out_cap)
        return IMSSEC_E_SPACE;
    for (i = 0; i + 3 <= in_len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = isc_b64_alphabet[v >> 18];
        out[o++] = isc_b64_alphabet[(v >> 12) & 63];
        out[o++] = isc_b64_alphabet[(v >> 6) & 63];
        out[o++] = isc_b64_alphabet[v & 63];
    }
    if (in_len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = isc_b64_alphabet[v >> 18];
        out[o++] = isc_b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (in_len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = isc_b64_alphabet[v >> 18];
        out[o++] = isc_b64_alphabet[(v >> 12) & 63];
        out[o++] = isc_b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    return IMSSEC_OK;
}

/* Value of one base64 symbol, or -1.  Branch-light: nonces are not secret,
 * but AKAv2 passwords pass through here. */
static ISC_UNUSED int isc_b64_value(unsigned char c)
{
    int v = -1;
    v += ((c >= 'A') & (c <= 'Z')) * (c - 'A' + 1);
    v += ((c >= 'a') & (c <= 'z')) * (c - 'a' + 27);
    v += ((c >= '0') & (c <= '9')) * (c - '0' + 53);
    v += (c == '+') * 63;
    v += (c == '/') * 64;
    return v;
}

IMSSEC_API int imssec_base64_decode(const char *text, size_t len, uint8_t *out,
                                    size_t out_cap, size_t *out_len)
{
    size_t data = len, need, i, o = 0;
    uint32_t acc = 0;
    if ((!text && len) || !out_len)
        return IMSSEC_E_PARAM;
    /* padding: if present it must complete the last quantum exactly */
    if (data > 0 && text[data - 1] == '=') {
        data--;
        if (data > 0 && text[data - 1] == '=')
            data--;
        if (len % 4 != 0)
            return IMSSEC_E_SYNTAX;
    }
    if (data % 4 == 1)
        return IMSSEC_E_SYNTAX; /* a single leftover symbol carries < 8 bits */
    if (len != data && (data + (4 - data % 4) % 4) != len)
        return IMSSEC_E_SYNTAX; /* "==" after a 3-symbol tail, "=" after 2, ... */
    need = data / 4 * 3 + (data % 4 ? data % 4 - 1 : 0);
    for (i = 0; i < data; i++)
        if (isc_b64_value((unsigned char)text[i]) < 0)
            return IMSSEC_E_SYNTAX;
    if (data % 4 == 2 && (isc_b64_value((unsigned char)text[data - 1]) & 15))
        return IMSSEC_E_SYNTAX; /* non-canonical: unused bits set */
    if (data % 4 == 3 && (isc_b64_value((unsigned char)text[data - 1]) & 3))
        return IMSSEC_E_SYNTAX;
    *out_len = need;
    if (need > out_cap)
        return IMSSEC_E_SPACE;
    for (i = 0; i < data; i++) {
        acc = acc << 6 | (uint32_t)isc_b64_value((unsigned char)text[i]);
        if (i % 4 == 3) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (data % 4 == 2) {
        out[o++] = (uint8_t)(acc >> 4);
    } else if (data % 4 == 3) {
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    isc_wipe(&acc, sizeof acc);
    return IMSSEC_OK;
}

/* ===========================================================================
 * 5. Modules.  Each module owns the block between its markers; list its
 *    source files in dependency order.
 * ======================================================================== */

/* ---- BEGIN aka/ ---- */
#include "aka/milenage.c"
#include "aka/sqn.c"
#include "aka/aka.c"
#include "aka/digest_parse.c"
#include "aka/digest.c"
/* ---- END aka/ ---- */

/* ---- BEGIN secagree/ ---- */
#include "secagree/secagree.c"
#include "secagree/negotiate.c"
/* ---- END secagree/ ---- */

/* ---- BEGIN esp/ ---- */
#include "esp/keys.c"
#include "esp/replay.c"
#include "esp/esp.c"
#include "esp/udpencap.c"
/* ---- END esp/ ---- */

/* ---- BEGIN sa/ ---- */
#include "sa/sa.c"
#include "sa/esp_adapter.c"
/* ---- END sa/ ---- */
