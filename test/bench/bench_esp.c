/*
 * bench_esp.c -- esp/ throughput: protect + unprotect of one packet, in
 * packets per second, for IP packets of 64, 512 and 1400 bytes with
 * AES-CBC + HMAC-SHA-1-96, DES-EDE3-CBC + HMAC-MD5-96 and NULL +
 * HMAC-SHA-1-96, each as a ratio to the bare mbedTLS primitive calls doing
 * the same cryptographic work on the same bytes, measured in the same run:
 * encrypt + HMAC over SPI..ciphertext, then HMAC + decrypt, with the HMAC
 * inner/outer midstates cached (the fastest way to drive mbedTLS, so the
 * ratio shows only what the engine adds: parsing, headers, padding,
 * replay window, copies).  Target: ratio >= 0.90 at 1400 B and >= 0.75 at
 * 64 B.  Also printed: the gain of cached midstates over mbedTLS's own
 * keyed HMAC (mbedtls_md_hmac_reset per packet) at each size.
 *
 * The later-release suites: AES-GCM (RFC 4106, alg null) and AES-GMAC (RFC
 * 4543, ealg null), each against bare mbedTLS GCM doing the same work on
 * the same bytes in the same run: mbedtls_gcm_crypt_and_tag then
 * mbedtls_gcm_auth_decrypt over SPI || seq as AAD and payload || trailer
 * (GCM), or with everything from the SPI through the trailer as AAD and no
 * text (GMAC).  The bench may allocate (mbedtls_gcm_setkey callocs its
 * cipher context); the library does not, and its GHASH is a constant-time
 * software one, while mbedTLS multiplies with PCLMULQDQ when it has AES-NI
 * (or with 4-bit tables, which are not constant time): these ratios show
 * that price, so they are printed without a target.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/aes.h>
#include <mbedtls/des.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>
#include <mbedtls/version.h>

#include "../../imssec.h"

#if MBEDTLS_VERSION_NUMBER < 0x03000000
#define b_sha1_starts mbedtls_sha1_starts_ret
#define b_sha1_update mbedtls_sha1_update_ret
#define b_sha1_finish mbedtls_sha1_finish_ret
#define b_md5_starts mbedtls_md5_starts_ret
#define b_md5_update mbedtls_md5_update_ret
#define b_md5_finish mbedtls_md5_finish_ret
#else
#define b_sha1_starts mbedtls_sha1_starts
#define b_sha1_update mbedtls_sha1_update
#define b_sha1_finish mbedtls_sha1_finish
#define b_md5_starts mbedtls_md5_starts
#define b_md5_update mbedtls_md5_update
#define b_md5_finish mbedtls_md5_finish
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const unsigned char ak[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const unsigned char ek[24] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                     0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01,
                                     0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23};
static unsigned char iv[16];

enum { SUITE_AES_SHA1, SUITE_3DES_MD5, SUITE_NULL_SHA1, SUITE_GCM, SUITE_GMAC, SUITE_COUNT };
static const char *suite_name[] = {"aes-cbc+hmac-sha-1-96", "des-ede3-cbc+hmac-md5-96",
                                   "null+hmac-sha-1-96", "aes-gcm (alg null)",
                                   "aes-gmac (ealg null)"};
/* key || salt for the GCM suites (RFC 4106 / 4543 keying material) */
static const unsigned char gk[20] = {0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a,
                                     0x8f, 0x94, 0x67, 0x30, 0x83, 0x08, 0xca, 0xfe, 0xba, 0xbe};

/* ---- the baseline: bare mbedTLS ------------------------------------------- */

typedef struct base {
    int suite;  /* which cipher runs */
    int md5;    /* which HMAC runs */
    mbedtls_aes_context aes_e, aes_d;
    mbedtls_des3_context des_e, des_d;
    mbedtls_sha1_context s_in, s_out; /* midstates after K^ipad, K^opad */
    mbedtls_md5_context m_in, m_out;
    mbedtls_md_context_t md; /* mbedTLS's own keyed HMAC */
    mbedtls_gcm_context gcm; /* the GCM suites */
} base;

static void base_init(base *b, int suite)
{
    unsigned char pad[64];
    int i, md5 = suite == SUITE_3DES_MD5;
    size_t kl = md5 ? 16 : 20;
    memset(b, 0, sizeof *b);
    b->suite = suite;
    b->md5 = md5;
    mbedtls_aes_init(&b->aes_e);
    mbedtls_aes_init(&b->aes_d);
    mbedtls_aes_setkey_enc(&b->aes_e, ek, 128);
    mbedtls_aes_setkey_dec(&b->aes_d, ek, 128);
    mbedtls_des3_init(&b->des_e);
    mbedtls_des3_init(&b->des_d);
    mbedtls_des3_set3key_enc(&b->des_e, ek);
    mbedtls_des3_set3key_dec(&b->des_d, ek);
    for (i = 0; i < 2; i++) {
        int k;
        memset(pad, i ? 0x5c : 0x36, 64);
        for (k = 0; k < (int)kl; k++)
            pad[k] ^= ak[k];
        if (md5) {
            mbedtls_md5_context *c = i ? &b->m_out : &b->m_in;
            mbedtls_md5_init(c);
            b_md5_starts(c);
            b_md5_update(c, pad, 64);
        } else {
            mbedtls_sha1_context *c = i ? &b->s_out : &b->s_in;
            mbedtls_sha1_init(c);
            b_sha1_starts(c);
            b_sha1_update(c, pad, 64);
        }
    }
    mbedtls_md_init(&b->md);
    mbedtls_md_setup(&b->md, mbedtls_md_info_from_type(md5 ? MBEDTLS_MD_MD5 : MBEDTLS_MD_SHA1), 1);
    mbedtls_md_hmac_starts(&b->md, ak, kl);
    mbedtls_gcm_init(&b->gcm);
    mbedtls_gcm_setkey(&b->gcm, MBEDTLS_CIPHER_ID_AES, gk, 128);
}

static void base_free(base *b)
{
    mbedtls_md_free(&b->md);
    mbedtls_gcm_free(&b->gcm);
}

/* One protect + unprotect of the GCM suites with bare mbedTLS on esp[0..8
 * + 8 + elen): SPI seq IV payload||trailer, the tag after it. */
static void base_gcm_packet(base *b, unsigned char *esp, size_t elen)
{
    unsigned char nonce[12], tag[16];
    memcpy(nonce, gk + 16, 4);
    memcpy(nonce + 4, esp + 8, 8);
    if (b->suite == SUITE_GCM) {
        mbedtls_gcm_crypt_and_tag(&b->gcm, MBEDTLS_GCM_ENCRYPT, elen, nonce, 12, esp, 8, esp + 16,
                                  esp + 16, 16, esp + 16 + elen);
        if (mbedtls_gcm_auth_decrypt(&b->gcm, elen, nonce, 12, esp, 8, esp + 16 + elen, 16,
                                     esp + 16, esp + 16) != 0)
            fprintf(stderr, "baseline GCM tag mismatch\n");
    } else {
        mbedtls_gcm_crypt_and_tag(&b->gcm, MBEDTLS_GCM_ENCRYPT, 0, nonce, 12, esp, 16 + elen, NULL,
                                  NULL, 16, esp + 16 + elen);
        memcpy(tag, esp + 16 + elen, 16);
        if (mbedtls_gcm_auth_decrypt(&b->gcm, 0, nonce, 12, esp, 16 + elen, tag, 16, NULL,
                                     NULL) != 0)
            fprintf(stderr, "baseline GMAC tag mismatch\n");
    }
}

static void base_hmac(base *b, const unsigned char *p, size_t n, unsigned char *icv)
{
    unsigned char h[20];
    if (b->md5) {
        mbedtls_md5_context c;
        mbedtls_md5_clone(&c, &b->m_in);
        b_md5_update(&c, p, n);
        b_md5_finish(&c, h);
        mbedtls_md5_clone(&c, &b->m_out);
        b_md5_update(&c, h, 16);
        b_md5_finish(&c, h);
    } else {
        mbedtls_sha1_context c;
        mbedtls_sha1_clone(&c, &b->s_in);
        b_sha1_update(&c, p, n);
        b_sha1_finish(&c, h);
        mbedtls_sha1_clone(&c, &b->s_out);
        b_sha1_update(&c, h, 20);
        b_sha1_finish(&c, h);
    }
    memcpy(icv, h, 12);
}

static void base_hmac_md(base *b, const unsigned char *p, size_t n, unsigned char *icv)
{
    unsigned char h[20];
    mbedtls_md_hmac_reset(&b->md);
    mbedtls_md_hmac_update(&b->md, p, n);
    mbedtls_md_hmac_finish(&b->md, h);
    memcpy(icv, h, 12);
}

static void base_cbc(base *b, int enc, unsigned char *p, size_t n)
{
    unsigned char v[16];
    memcpy(v, iv, 16);
    if (b->suite == SUITE_AES_SHA1)
        mbedtls_aes_crypt_cbc(enc ? &b->aes_e : &b->aes_d, enc ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT,
                              n, v, p, p);
    else if (b->suite == SUITE_3DES_MD5)
        mbedtls_des3_crypt_cbc(enc ? &b->des_e : &b->des_d, enc ? MBEDTLS_DES_ENCRYPT : MBEDTLS_DES_DECRYPT,
                               n, v, p, p);
}

/* One protect + unprotect worth of primitive calls on esp[0..n): esp is
 * SPI seq IV ciphertext, the ICV goes after it. */
static void base_packet(base *b, unsigned char *esp, size_t ivl, size_t elen, int md_hmac)
{
    unsigned char icv[12];
    if (b->suite == SUITE_GCM || b->suite == SUITE_GMAC) {
        base_gcm_packet(b, esp, elen);
        return;
    }
    base_cbc(b, 1, esp + 8 + ivl, elen);
    (md_hmac ? base_hmac_md : base_hmac)(b, esp, 8 + ivl + elen, esp + 8 + ivl + elen);
    (md_hmac ? base_hmac_md : base_hmac)(b, esp, 8 + ivl + elen, icv);
    if (memcmp(icv, esp + 8 + ivl + elen, 12) != 0)
        fprintf(stderr, "baseline ICV mismatch\n");
    base_cbc(b, 0, esp + 8 + ivl, elen);
}

/* ---- timing --------------------------------------------------------------- */

#define MIN_TIME 0.12

typedef struct run_ctx {
    int suite, md_hmac;
    size_t size;
    imssec_esp_sa o, in;
    base b;
    unsigned char pt[1500], pkt[1700], out[1700], esp[1700];
    int gcm; /* a GCM suite */
    size_t n, ivl, elen;
} run_ctx;

static double rate_ours(run_ctx *r)
{
    double t0 = now_s(), t;
    unsigned long k = 0;
    size_t plen, olen;
    do {
        int i;
        for (i = 0; i < 64; i++) {
            if (imssec_esp_protect(&r->o, NULL, iv, r->pt, r->n, r->pkt, sizeof r->pkt, &plen, NULL) ||
                imssec_esp_unprotect(&r->in, r->pkt, plen, r->out, sizeof r->out, &olen, NULL, NULL)) {
                fprintf(stderr, "engine failed\n");
                return 0;
            }
        }
        k += 64;
        t = now_s() - t0;
    } while (t < MIN_TIME);
    return k / t;
}

static double rate_base(run_ctx *r)
{
    double t0 = now_s(), t;
    unsigned long k = 0;
    do {
        int i;
        for (i = 0; i < 64; i++)
            base_packet(&r->b, r->esp, r->ivl, r->elen, r->md_hmac);
        k += 64;
        t = now_s() - t0;
    } while (t < MIN_TIME);
    return k / t;
}

static void setup(run_ctx *r, int suite, size_t size)
{
    imssec_esp_params p;
    size_t i, al;
    memset(r, 0, sizeof *r);
    r->suite = suite;
    r->size = size;
    imssec_esp_params_init(&p);
    p.spi = 0x1001;
    p.alg = suite == SUITE_3DES_MD5 ? IMSSEC_ALG_HMAC_MD5_96 : IMSSEC_ALG_HMAC_SHA1_96;
    p.auth_key = ak;
    p.auth_key_len = suite == SUITE_3DES_MD5 ? 16 : 20;
    p.ealg = suite == SUITE_AES_SHA1 ? IMSSEC_EALG_AES_CBC
            : suite == SUITE_3DES_MD5 ? IMSSEC_EALG_DES_EDE3_CBC : IMSSEC_EALG_NULL;
    p.enc_key = ek;
    p.enc_key_len = suite == SUITE_AES_SHA1 ? 16 : suite == SUITE_3DES_MD5 ? 24 : 0;
    r->gcm = suite == SUITE_GCM || suite == SUITE_GMAC;
    if (suite == SUITE_GCM) {
        p.alg = IMSSEC_ALG_NULL;
        p.auth_key_len = 0;
        p.ealg = IMSSEC_EALG_AES_GCM;
        p.enc_key = gk;
        p.enc_key_len = 20;
    } else if (suite == SUITE_GMAC) {
        p.alg = IMSSEC_ALG_AES_GMAC;
        p.auth_key = gk;
        p.auth_key_len = 20;
        p.enc_key_len = 0;
    }
    imssec_esp_sa_setup(&r->o, &p, NULL);
    p.dir = IMSSEC_ESP_INBOUND;
    imssec_esp_sa_setup(&r->in, &p, NULL);
    /* an IPv4 UDP packet of `size` bytes */
    r->n = size;
    r->pt[0] = 0x45;
    r->pt[2] = (unsigned char)(size >> 8);
    r->pt[3] = (unsigned char)size;
    r->pt[8] = 64;
    r->pt[9] = 17;
    r->pt[12] = 192, r->pt[15] = 1, r->pt[16] = 192, r->pt[19] = 2;
    r->pt[24] = (unsigned char)((size - 20) >> 8);
    r->pt[25] = (unsigned char)(size - 20);
    for (i = 28; i < size; i++)
        r->pt[i] = (unsigned char)i;
    /* the baseline works on the same ESP bytes: payload = size - 20 */
    r->ivl = suite == SUITE_AES_SHA1 ? 16 : suite == SUITE_3DES_MD5 || r->gcm ? 8 : 0;
    al = suite == SUITE_AES_SHA1 ? 16 : suite == SUITE_3DES_MD5 ? 8 : 4;
    r->elen = (size - 20 + 2 + al - 1) / al * al;
    memcpy(r->esp + 8 + r->ivl, r->pt + 20, size - 20);
    r->esp[3] = 1;
    r->esp[7] = 1;
    base_init(&r->b, suite);
}

int main(void)
{
    static run_ctx r;
    static const size_t sizes[] = {64, 512, 1400};
    int suite, worst = 0;
    size_t si;
    printf("esp protect+unprotect, packets/s (best of 5, interleaved), engine vs bare mbedTLS %s\n",
           MBEDTLS_VERSION_STRING);
    printf("%-26s %5s %12s %12s %7s   %s\n", "suite", "bytes", "engine", "mbedtls", "ratio",
           "target");
    for (suite = 0; suite < SUITE_COUNT; suite++)
        for (si = 0; si < 3; si++) {
            double ours = 0, bare = 0, x;
            int rep;
            setup(&r, suite, sizes[si]);
            for (rep = 0; rep < 5; rep++) {
                if ((x = rate_ours(&r)) > ours)
                    ours = x;
                if ((x = rate_base(&r)) > bare)
                    bare = x;
            }
            if (r.gcm) {
                /* no target: a constant-time software GHASH against
                 * mbedTLS's (PCLMULQDQ or table) one, see the top */
                printf("%-26s %5zu %12.0f %12.0f %7.3f   (no target)\n", suite_name[suite],
                       sizes[si], ours, bare, ours / bare);
            } else {
                double target = sizes[si] >= 1400 ? 0.90 : sizes[si] <= 64 ? 0.75 : 0.80;
                int ok = ours / bare >= target;
                if (!ok)
                    worst = 1;
                printf("%-26s %5zu %12.0f %12.0f %7.3f   %s >= %.2f\n", suite_name[suite],
                       sizes[si], ours, bare, ours / bare, ok ? "ok  " : "MISS", target);
            }
            imssec_esp_sa_wipe(&r.o);
            imssec_esp_sa_wipe(&r.in);
            base_free(&r.b);
        }
    printf("\nprecomputed HMAC states: cached midstates vs mbedtls_md_hmac_reset per packet\n");
    printf("(the same bare-mbedTLS packet work, only the HMAC call differs)\n");
    for (suite = 0; suite < 3; suite += 2)
        for (si = 0; si < 3; si++) {
            double cached = 0, md = 0, x;
            int rep;
            setup(&r, suite == 0 ? SUITE_NULL_SHA1 : SUITE_3DES_MD5, sizes[si]);
            if (suite == 2) { /* HMAC-MD5 alone: no 3DES in this comparison */
                r.b.suite = SUITE_NULL_SHA1;
                r.ivl = 0;
                r.elen = (sizes[si] - 20 + 2 + 3) / 4 * 4;
            }
            for (rep = 0; rep < 3; rep++) {
                r.md_hmac = 0;
                if ((x = rate_base(&r)) > cached)
                    cached = x;
                r.md_hmac = 1;
                if ((x = rate_base(&r)) > md)
                    md = x;
            }
            printf("%-26s %5zu cached %10.0f  md_hmac %10.0f  gain %+5.1f%%\n",
                   suite == 0 ? "hmac-sha-1-96" : "hmac-md5-96", sizes[si], cached, md,
                   (cached / md - 1) * 100);
            imssec_esp_sa_wipe(&r.o);
            imssec_esp_sa_wipe(&r.in);
            base_free(&r.b);
        }
    printf("%s\n", worst ? "some ratios are below target (see MISS)" : "all ratios within target");
    return 0;
}
