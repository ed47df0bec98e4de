/*
 * fuzz_srtp_unprotect.c -- hostile packets into imssec_srtp_unprotect() and
 * imssec_srtp_unprotect_rtcp() on fixed keys, and arbitrary RTP / RTCP
 * through protect -> unprotect.
 *
 * Byte 0 chooses the configuration: bits 0-2 the suite (mod 6), bit 3
 * SRTCP instead of SRTP, bit 4 two master keys with 4-byte MKIs (else one
 * without MKI), bits 5-6 the SDES flags (0 none, 1 UNENCRYPTED_SRTP, 2
 * UNAUTHENTICATED_SRTP, 3 UNENCRYPTED_SRTCP; the AEAD suites ignore 1 and
 * 2), bit 7 the direction: 0 = the rest is an inbound packet; 1 = the rest
 * is a plaintext packet that must survive protect + unprotect unchanged.
 * Byte 1 primes the receiver before the input arrives: bits 0-2 how many
 * authentic packets (made here, SSRC 0x11223344, sequence numbers from
 * bits 3-7 * 2048 + 65000) it has accepted already, so the input meets
 * existing streams and windows.
 *
 * Invariants checked (abort() on violation):
 *   - a failing unprotect returns a verdict (never a usage error), and the
 *     session, its stream table and the packet buffer are byte for byte as
 *     before, except the documented failure counters (imssec_srtp_stats);
 *   - an accepted packet never grows;
 *   - what protect accepted comes back identical.
 *
 * Built with -DFUZZ_SRTP_GEN_CORPUS it is instead a program that writes the
 * seed corpus (real packets made by protect, some truncated or tampered)
 * into the directory given as its argument.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

static const uint8_t fz_key[2][46] = {
    {0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
     0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6, 0xc1, 0x73,
     0xc3, 0x17, 0xf2, 0xda, 0xbe, 0x35, 0x77, 0x93, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6},
    {0xf0, 0xf0, 0x49, 0x14, 0xb5, 0x13, 0xf2, 0x76, 0x3a, 0x1b, 0x1f, 0xa1, 0x30, 0xf1, 0x0e, 0x29,
     0x98, 0xf6, 0xf6, 0xe4, 0x3e, 0x43, 0x09, 0xd1, 0xe6, 0x22, 0xa0, 0xe3, 0x32, 0xb9, 0xf1, 0xb6,
     0x3b, 0x04, 0x80, 0x3d, 0xe5, 0x1e, 0xe7, 0xc9, 0x64, 0x23, 0xab, 0x5b, 0x78, 0xd2}};
static const uint8_t fz_mki[2][4] = {{0, 0, 0, 1}, {0xde, 0xad, 0xbe, 0xef}};

#define FZ_SSRC 0x11223344u
#define FZ_STREAMS 4

typedef struct fz {
    imssec_srtp_session tx, rx;
    imssec_srtp_stream txs[FZ_STREAMS], rxs[FZ_STREAMS];
} fz;

static unsigned fz_flags(uint8_t cfg, int suite)
{
    static const unsigned f[4] = {0, IMSSEC_SRTP_UNENCRYPTED_SRTP,
                                  IMSSEC_SRTP_UNAUTHENTICATED_SRTP, IMSSEC_SRTP_UNENCRYPTED_SRTCP};
    unsigned v = f[(cfg >> 5) & 3];
    if (suite >= IMSSEC_SRTP_AEAD_AES_128_GCM)
        v &= IMSSEC_SRTP_UNENCRYPTED_SRTCP;
    return v;
}

/* 0, or IMSSEC_E_UNSUPPORTED (GCM compiled out); anything else aborts. */
static int fz_setup(fz *z, uint8_t cfg)
{
    imssec_srtp_params p;
    imssec_srtp_key k[2];
    int suite = (cfg & 7) % 6, i, rc;
    size_t kl = imssec_srtp_suite_key_len(suite), sl = imssec_srtp_suite_salt_len(suite);
    if ((cfg & 0x10) && (IMSSEC_SRTP_KEYS_MAX < 2 || IMSSEC_SRTP_MKI_MAX < 4))
        return IMSSEC_E_UNSUPPORTED; /* this configuration is too small for the MKI case */
    memset(k, 0, sizeof k);
    for (i = 0; i < 2; i++) {
        k[i].key = fz_key[i];
        k[i].key_len = kl;
        k[i].salt = fz_key[i] + kl;
        k[i].salt_len = sl;
        if (cfg & 0x10) {
            k[i].mki = fz_mki[i];
            k[i].mki_len = 4;
        }
    }
    imssec_srtp_params_init(&p);
    p.suite = suite;
    p.flags = fz_flags(cfg, suite);
    p.keys = k;
    p.key_count = (cfg & 0x10) ? 2 : 1;
    p.auto_streams = 1;
    rc = imssec_srtp_session_setup(&z->tx, &p, z->txs, FZ_STREAMS, NULL);
    if (rc == IMSSEC_E_UNSUPPORTED)
        return rc;
    p.dir = IMSSEC_SRTP_INBOUND;
    if (rc != IMSSEC_OK || imssec_srtp_session_setup(&z->rx, &p, z->rxs, FZ_STREAMS, NULL) !=
                               IMSSEC_OK)
        abort();
    if (cfg & 0x10) /* the second key sends */
        imssec_srtp_key_select(&z->tx, 1);
    return 0;
}

static size_t fz_rtp(uint8_t *b, uint16_t seq, size_t payload)
{
    size_t i;
    b[0] = 0x80;
    b[1] = 0x08;
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    b[4] = b[5] = b[6] = 0;
    b[7] = (uint8_t)seq;
    b[8] = 0x11, b[9] = 0x22, b[10] = 0x33, b[11] = 0x44;
    for (i = 0; i < payload; i++)
        b[12 + i] = (uint8_t)(i * 31 + seq);
    return 12 + payload;
}

static size_t fz_rtcp(uint8_t *b, size_t words)
{
    size_t i;
    b[0] = 0x81;
    b[1] = 201;
    b[2] = 0;
    b[3] = (uint8_t)words;
    b[4] = 0x11, b[5] = 0x22, b[6] = 0x33, b[7] = 0x44;
    for (i = 8; i < 4 + 4 * words; i++)
        b[i] = (uint8_t)i;
    return 4 + 4 * words;
}

/* Feed the receiver `count` authentic packets of the kind cfg says. */
static void fz_prime(fz *z, uint8_t cfg, uint8_t prime)
{
    unsigned i, count = prime & 7;
    uint16_t base = (uint16_t)(65000u + (unsigned)(prime >> 3) * 2048u);
    for (i = 0; i < count; i++) {
        uint8_t b[256];
        size_t n, out;
        if (cfg & 0x08) {
            n = fz_rtcp(b, 4);
            if (imssec_srtp_protect_rtcp(&z->tx, b, n, sizeof b, &n, NULL) != IMSSEC_OK ||
                imssec_srtp_unprotect_rtcp(&z->rx, b, n, &out, NULL, NULL) != IMSSEC_OK)
                abort();
        } else {
            n = fz_rtp(b, (uint16_t)(base + i * 3), 20);
            if (imssec_srtp_protect(&z->tx, b, n, sizeof b, &n, NULL) != IMSSEC_OK ||
                imssec_srtp_unprotect(&z->rx, b, n, &out, NULL, NULL) != IMSSEC_OK)
                abort();
        }
    }
}

/* The session and its streams, failure counters blanked. */
typedef struct fz_snap {
    imssec_srtp_session s;
    imssec_srtp_stream st[FZ_STREAMS];
} fz_snap;

static void fz_take(fz_snap *sn, const fz *z)
{
    memcpy(&sn->s, &z->rx, sizeof sn->s);
    memcpy(sn->st, z->rxs, sizeof sn->st);
    memset(&sn->s.stats_, 0, sizeof sn->s.stats_);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[70000], orig[70000];
    static fz z;
    static fz_snap before, after;
    size_t n, out = 0;
    uint8_t cfg, prime;
    int rc;
    if (size < 2 || size > 65536)
        return 0;
    cfg = data[0];
    prime = data[1];
    n = size - 2;
    if (fz_setup(&z, cfg) != 0)
        return 0;
    fz_prime(&z, cfg, prime);
    memcpy(buf, data + 2, n);
    if (!(cfg & 0x80)) {
        memcpy(orig, buf, n);
        fz_take(&before, &z);
        rc = (cfg & 0x08) ? imssec_srtp_unprotect_rtcp(&z.rx, buf, n, &out, NULL, NULL)
                          : imssec_srtp_unprotect(&z.rx, buf, n, &out, NULL, NULL);
        if (rc == IMSSEC_OK) {
            if (out > n)
                abort();
        } else {
            if (!imssec_err_is_verdict(rc))
                abort(); /* hostile input gets a verdict, never a usage error */
            fz_take(&after, &z);
            if (memcmp(&before, &after, sizeof before) != 0)
                abort(); /* a refused packet changed the session */
            if (memcmp(buf, orig, n) != 0)
                abort(); /* ... or the caller's buffer */
        }
    } else {
        size_t m = 0;
        memcpy(orig, buf, n);
        rc = (cfg & 0x08) ? imssec_srtp_protect_rtcp(&z.tx, buf, n, sizeof buf, &out, NULL)
                          : imssec_srtp_protect(&z.tx, buf, n, sizeof buf, &out, NULL);
        if (rc == IMSSEC_OK) {
            if (out < n || out > n + IMSSEC_SRTCP_OVERHEAD_MAX)
                abort();
            rc = (cfg & 0x08) ? imssec_srtp_unprotect_rtcp(&z.rx, buf, out, &m, NULL, NULL)
                              : imssec_srtp_unprotect(&z.rx, buf, out, &m, NULL, NULL);
            /* the only refusal possible: the input reused an index the
             * priming already used (same SSRC and sequence number) */
            if (rc == IMSSEC_E_REPLAY && (prime & 7))
                rc = IMSSEC_OK, m = n, memcpy(buf, orig, n);
            if (rc != IMSSEC_OK || m != n || memcmp(buf, orig, n) != 0)
                abort();
        }
    }
    imssec_srtp_session_wipe(&z.tx);
    imssec_srtp_session_wipe(&z.rx);
    return 0;
}

#ifdef FUZZ_SRTP_GEN_CORPUS
/* Write the seed corpus: for a set of configurations, a real packet (what
 * the sender would send next after the priming), its truncation and a
 * tampered copy. */
static void gen_write(const char *dir, const char *name, uint8_t cfg, uint8_t prime,
                      const uint8_t *p, size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputc(cfg, f);
    fputc(prime, f);
    fwrite(p, 1, n, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        uint8_t cfg, prime;
    } g[] = {
        {"rtp-cm128-80", 0x00, 0x00},          {"rtp-cm128-80-primed", 0x00, 0x03},
        {"rtp-cm128-32-wrap", 0x01, 0x0f},     {"rtp-cm256-80-mki", 0x12, 0x02},
        {"rtp-cm256-32-unenc", 0x23, 0x01},    {"rtp-cm128-80-unauth", 0x40, 0x02},
        {"rtp-gcm128", 0x04, 0x00},            {"rtp-gcm256-mki-primed", 0x15, 0x05},
        {"rtcp-cm128-80", 0x08, 0x00},         {"rtcp-cm128-32-primed", 0x09, 0x04},
        {"rtcp-cm256-unenc-srtcp", 0x6a, 0x01}, {"rtcp-gcm128-mki", 0x1c, 0x02},
        {"rtcp-gcm256-unenc-srtcp", 0x6d, 0x00}, {"roundtrip-rtp", 0x80, 0x00},
        {"roundtrip-rtcp-gcm", 0x8c, 0x01},
    };
    size_t i;
    if (argc != 2) {
        fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
        return 2;
    }
    for (i = 0; i < sizeof g / sizeof g[0]; i++) {
        fz zz;
        uint8_t b[512];
        size_t n;
        char name[128];
        if (fz_setup(&zz, g[i].cfg) != 0)
            continue;
        fz_prime(&zz, g[i].cfg, g[i].prime);
        if (g[i].cfg & 0x80) {
            n = (g[i].cfg & 0x08) ? fz_rtcp(b, 6) : fz_rtp(b, 4242, 33);
        } else if (g[i].cfg & 0x08) {
            n = fz_rtcp(b, 6);
            if (imssec_srtp_protect_rtcp(&zz.tx, b, n, sizeof b, &n, NULL) != IMSSEC_OK)
                return 1;
        } else {
            uint16_t base = (uint16_t)(65000u + (unsigned)(g[i].prime >> 3) * 2048u);
            n = fz_rtp(b, (uint16_t)(base + (g[i].prime & 7) * 3), 40);
            if (imssec_srtp_protect(&zz.tx, b, n, sizeof b, &n, NULL) != IMSSEC_OK)
                return 1;
        }
        gen_write(argv[1], g[i].name, g[i].cfg, g[i].prime, b, n);
        if (!(g[i].cfg & 0x80) && i % 2 == 0) {
            snprintf(name, sizeof name, "%s-truncated", g[i].name);
            gen_write(argv[1], name, g[i].cfg, g[i].prime, b, n - 3);
            b[n / 2] ^= 0x20;
            snprintf(name, sizeof name, "%s-tampered", g[i].name);
            gen_write(argv[1], name, g[i].cfg, g[i].prime, b, n);
        }
        imssec_srtp_session_wipe(&zz.tx);
        imssec_srtp_session_wipe(&zz.rx);
    }
    return 0;
}
#endif
