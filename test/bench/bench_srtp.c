/*
 * bench_srtp.c -- media/ SRTP throughput: protect + unprotect of one RTP
 * packet (12-byte header, payloads of 20, 60, 160 and 1200 bytes), for
 * AES_CM_128_HMAC_SHA1_80 and _32, as ratios measured in the same run to
 *   - libsrtp2 (the system's libsrtp 2.5.0: srtp_protect + srtp_unprotect
 *     on the same packets and keys), and
 *   - the bare mbedTLS primitives doing the same cryptographic work on the
 *     same bytes: AES-CTR (mbedtls_aes_crypt_ctr) over the payload and
 *     HMAC-SHA1 over header || payload || ROC with cached inner/outer
 *     midstates, then HMAC and AES-CTR again to unprotect.
 * Every loop also rebuilds the packet (sequence number + payload copy) the
 * same way, so the copies cost the three the same.  Best of 5 runs,
 * interleaved.  Rates are printed next to the ratios only for context: the
 * result is the ratio.  Target: ours >= libsrtp at every size.  Also
 * printed: the memory a session and a stream take.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/aes.h>
#include <mbedtls/sha1.h>
#include <mbedtls/version.h>
#include <srtp2/srtp.h>

#include "../../imssec.h"

#if MBEDTLS_VERSION_NUMBER < 0x03000000
#define b_sha1_starts mbedtls_sha1_starts_ret
#define b_sha1_update mbedtls_sha1_update_ret
#define b_sha1_finish mbedtls_sha1_finish_ret
#else
#define b_sha1_starts mbedtls_sha1_starts
#define b_sha1_update mbedtls_sha1_update
#define b_sha1_finish mbedtls_sha1_finish
#endif

#define MIN_TIME 0.15
#define SSRC 0xcafebabeu

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t master[30]; /* key || salt */

typedef struct run {
    int tag32;
    size_t payload;
    uint8_t tmpl[1300], pkt[1400];
    uint16_t seq_ours, seq_lib, seq_base;
    imssec_srtp_session tx, rx;
    imssec_srtp_stream txs[1], rxs[1];
    srtp_t ltx, lrx;
    /* the baseline */
    mbedtls_aes_context aes;
    mbedtls_sha1_context in, out;
    uint8_t salt[14];
} run;

static void hdr(uint8_t *p, uint16_t seq)
{
    p[0] = 0x80;
    p[1] = 0;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    memset(p + 4, 0, 4);
    p[8] = (uint8_t)(SSRC >> 24), p[9] = (uint8_t)(SSRC >> 16);
    p[10] = (uint8_t)(SSRC >> 8), p[11] = (uint8_t)SSRC;
}

static int setup(run *r, int tag32, size_t payload)
{
    imssec_srtp_params p;
    imssec_srtp_key k;
    srtp_policy_t lp;
    uint8_t ek[16], ak[20], pad[64];
    size_t i;
    memset(r, 0, sizeof *r);
    r->tag32 = tag32;
    r->payload = payload;
    for (i = 0; i < payload; i++)
        r->tmpl[i] = (uint8_t)(i * 7);
    memset(&k, 0, sizeof k);
    k.key = master, k.key_len = 16, k.salt = master + 16, k.salt_len = 14;
    imssec_srtp_params_init(&p);
    p.suite = tag32 ? IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32 : IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80;
    p.keys = &k;
    p.key_count = 1;
    p.auto_streams = 1;
    if (imssec_srtp_session_setup(&r->tx, &p, r->txs, 1, NULL) != IMSSEC_OK)
        return -1;
    p.dir = IMSSEC_SRTP_INBOUND;
    if (imssec_srtp_session_setup(&r->rx, &p, r->rxs, 1, NULL) != IMSSEC_OK)
        return -1;
    memset(&lp, 0, sizeof lp);
    if (tag32)
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&lp.rtp);
    else
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&lp.rtp);
    srtp_crypto_policy_set_rtcp_default(&lp.rtcp);
    lp.key = master;
    lp.window_size = 128;
    lp.ssrc.type = ssrc_any_outbound;
    if (srtp_create(&r->ltx, &lp) != srtp_err_status_ok)
        return -1;
    lp.ssrc.type = ssrc_any_inbound;
    if (srtp_create(&r->lrx, &lp) != srtp_err_status_ok)
        return -1;
    /* the baseline's session keys are the real ones (RFC 3711 4.3) */
    imssec_srtp_kdf(master, 16, master + 16, 14, 0, ek, 16);
    imssec_srtp_kdf(master, 16, master + 16, 14, 1, ak, 20);
    imssec_srtp_kdf(master, 16, master + 16, 14, 2, r->salt, 14);
    mbedtls_aes_init(&r->aes);
    mbedtls_aes_setkey_enc(&r->aes, ek, 128);
    for (i = 0; i < 2; i++) {
        size_t b;
        mbedtls_sha1_context *c = i ? &r->out : &r->in;
        memset(pad, i ? 0x5c : 0x36, 64);
        for (b = 0; b < 20; b++)
            pad[b] ^= ak[b];
        mbedtls_sha1_init(c);
        b_sha1_starts(c);
        b_sha1_update(c, pad, 64);
    }
    return 0;
}

static void teardown(run *r)
{
    imssec_srtp_session_wipe(&r->tx);
    imssec_srtp_session_wipe(&r->rx);
    srtp_dealloc(r->ltx);
    srtp_dealloc(r->lrx);
    mbedtls_aes_free(&r->aes);
}

static size_t build(run *r, uint16_t seq)
{
    hdr(r->pkt, seq);
    memcpy(r->pkt + 12, r->tmpl, r->payload);
    return 12 + r->payload;
}

static int one_ours(run *r)
{
    size_t n = build(r, r->seq_ours++), out;
    if (imssec_srtp_protect(&r->tx, r->pkt, n, sizeof r->pkt, &out, NULL) != IMSSEC_OK ||
        imssec_srtp_unprotect(&r->rx, r->pkt, out, &out, NULL, NULL) != IMSSEC_OK)
        return -1;
    return 0;
}

static int one_lib(run *r)
{
    int n = (int)build(r, r->seq_lib++);
    if (srtp_protect(r->ltx, r->pkt, &n) != srtp_err_status_ok ||
        srtp_unprotect(r->lrx, r->pkt, &n) != srtp_err_status_ok)
        return -1;
    return 0;
}

/* The same work with the bare primitives: no parsing, no index estimate,
 * no replay window, no stream lookup. */
static void base_hmac(run *r, const uint8_t *p, size_t n, const uint8_t roc[4], uint8_t tag[20])
{
    mbedtls_sha1_context c;
    uint8_t h[20];
    mbedtls_sha1_clone(&c, &r->in);
    b_sha1_update(&c, p, n);
    b_sha1_update(&c, roc, 4);
    b_sha1_finish(&c, h);
    mbedtls_sha1_clone(&c, &r->out);
    b_sha1_update(&c, h, 20);
    b_sha1_finish(&c, tag);
}

static void base_ctr(run *r, uint16_t seq, uint8_t *p, size_t n)
{
    uint8_t iv[16], sb[16];
    size_t off = 0;
    memcpy(iv, r->salt, 14);
    iv[14] = iv[15] = 0;
    iv[4] ^= (uint8_t)(SSRC >> 24), iv[5] ^= (uint8_t)(SSRC >> 16);
    iv[6] ^= (uint8_t)(SSRC >> 8), iv[7] ^= (uint8_t)SSRC;
    iv[12] ^= (uint8_t)(seq >> 8), iv[13] ^= (uint8_t)seq;
    mbedtls_aes_crypt_ctr(&r->aes, n, &off, iv, sb, p, p);
}

static int one_base(run *r)
{
    static const uint8_t roc[4] = {0, 0, 0, 0};
    uint16_t seq = r->seq_base++;
    size_t n = build(r, seq), tl = r->tag32 ? 4 : 10;
    uint8_t tag[20], t2[20];
    base_ctr(r, seq, r->pkt + 12, r->payload);
    base_hmac(r, r->pkt, n, roc, tag);
    memcpy(r->pkt + n, tag, tl);
    base_hmac(r, r->pkt, n, roc, t2);
    if (memcmp(t2, r->pkt + n, tl) != 0)
        return -1;
    base_ctr(r, seq, r->pkt + 12, r->payload);
    return 0;
}

static double rate(run *r, int (*one)(run *))
{
    double t0 = now_s(), t;
    unsigned long k = 0;
    do {
        int i;
        for (i = 0; i < 64; i++)
            if (one(r) != 0) {
                fprintf(stderr, "bench: a packet failed\n");
                return 0;
            }
        k += 64;
        t = now_s() - t0;
    } while (t < MIN_TIME);
    return k / t;
}

int main(void)
{
    static run r;
    static const size_t sizes[] = {20, 60, 160, 1200};
    size_t si, i;
    int t32, miss = 0;
    for (i = 0; i < sizeof master; i++)
        master[i] = (uint8_t)(i * 11 + 3);
    if (srtp_init() != srtp_err_status_ok)
        return 1;
    printf("srtp protect+unprotect (best of 5, interleaved); imssec vs libsrtp %s and vs bare "
           "mbedTLS %s\n",
           srtp_get_version_string(), MBEDTLS_VERSION_STRING);
    if (setup(&r, 0, 160) == 0) { /* warm up (clock ramp, caches) before measuring */
        rate(&r, one_ours);
        rate(&r, one_lib);
        rate(&r, one_base);
        teardown(&r);
    }
    printf("%-24s %7s %9s %9s   %s\n", "suite", "payload", "/libsrtp", "/mbedtls",
           "(kpackets/s: imssec libsrtp mbedtls, context only)");
    for (t32 = 0; t32 < 2; t32++)
        for (si = 0; si < 4; si++) {
            double o = 0, l = 0, b = 0, x;
            int rep;
            if (setup(&r, t32, sizes[si]) != 0) {
                printf("bench: setup failed\n");
                return 1;
            }
            for (rep = 0; rep < 5; rep++) {
                if ((x = rate(&r, one_ours)) > o)
                    o = x;
                if ((x = rate(&r, one_lib)) > l)
                    l = x;
                if ((x = rate(&r, one_base)) > b)
                    b = x;
            }
            if (o < l)
                miss = 1;
            printf("%-24s %7zu %8.2fx %8.2fx   (%.0f %.0f %.0f)%s\n",
                   t32 ? "AES_CM_128_HMAC_SHA1_32" : "AES_CM_128_HMAC_SHA1_80", sizes[si], o / l,
                   o / b, o / 1e3, l / 1e3, b / 1e3, o < l ? "  MISS: below libsrtp" : "");
            teardown(&r);
        }
    printf("\nmemory: session %zu bytes (IMSSEC_SRTP_KEYS_MAX=%d key sets of %zu bytes), "
           "stream %zu bytes (IMSSEC_SRTP_REPLAY_WINDOW_MAX=%d)\n",
           sizeof(imssec_srtp_session), IMSSEC_SRTP_KEYS_MAX, sizeof(imssec_srtp_keyslot),
           sizeof(imssec_srtp_stream), IMSSEC_SRTP_REPLAY_WINDOW_MAX);
    printf("%s\n", miss ? "some sizes are below libsrtp (see MISS)" : "at least libsrtp's speed at every size");
    srtp_shutdown();
    return 0;
}
