/*
 * srtp_rcc_drv.c -- a thin driver over imssec.h's public SRTP API, for the
 * RFC 4771 (RCC) differential test test/peer/srtp-rcc.sh against the
 * independent Python reference test/peer/srtp_rcc_ref.py.  Uses only
 * imssec.h; built against build/libimssec.a.
 *
 *   srtp_rcc_drv setup SUITE MODE RATE
 *       prints the imssec_srtp_session_setup() result name (outbound and
 *       inbound) for AES_CM_128_HMAC_SHA1_SUITE (SUITE 80 or 32).
 *   srtp_rcc_drv protect|unprotect SUITE MODE RATE KEYHEX SALTHEX SSRC ROC [MKIHEX]
 *       SUITE 80, 32 (AES_CM_128_HMAC_SHA1_*) or 25680, 25632
 *       (AES_256_CM_HMAC_SHA1_*); an optional MKI for the one key.
 *       One session (outbound / inbound) with one stream for SSRC (decimal
 *       or 0x hex), seeded with ROC (stream state roc = ROC, seq_known 0)
 *       or fresh (ROC "-": imssec_srtp_stream_add(st NULL)), or not added at
 *       all with auto_streams on (ROC "auto").  Reads one
 *       packet in hex per stdin line and prints per line:
 *         protect:   "OK <srtp hex>" | "ERR <errname>"
 *         unprotect: "OK idx=<index> <rtp hex> roc=<stream roc> seq=<s_l>"
 *                    | "ERR <errname> roc=<stream roc> seq=<s_l>"
 *   srtp_rcc_drv protect_rtcp|unprotect_rtcp ...  the same for SRTCP (RFC
 *       4771 changes SRTP only; SRTCP keeps the default transform).
 * MODE: 0 none, 1 RCCm1, 2 RCCm2, 3 RCCm3.  Exit status 0 unless the
 * arguments or the setup are wrong (2).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imssec.h"

#define BUF 4096

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    while (*s && *s != '\n' && *s != '\r') {
        unsigned v;
        if (n >= cap || sscanf(s, "%2x", &v) != 1 || !s[1])
            return -1;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    *len = n;
    return 0;
}

static void puthex(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static int mk(imssec_srtp_session *s, imssec_srtp_stream *streams, int dir, int suite, int mode,
              uint32_t rate, const uint8_t *key, const uint8_t *salt, const uint8_t *mki,
              size_t mki_len, int auto_streams, imssec_errinfo *err)
{
    imssec_srtp_params p;
    imssec_srtp_key k;
    memset(&k, 0, sizeof k);
    k.key = key;
    k.key_len = imssec_srtp_suite_key_len(suite);
    k.mki = mki_len ? mki : NULL;
    k.mki_len = mki_len;
    k.salt = salt;
    k.salt_len = 14;
    imssec_srtp_params_init(&p);
    p.suite = suite;
    p.dir = dir;
    p.rcc_mode = mode;
    p.rcc_rate = rate;
    p.auto_streams = auto_streams;
    p.keys = &k;
    p.key_count = 1;
    return imssec_srtp_session_setup(s, &p, streams, 4, err);
}

int main(int argc, char **argv)
{
    static imssec_srtp_session s;
    static imssec_srtp_stream streams[4];
    imssec_errinfo err;
    uint8_t key[32], salt[14], mki[IMSSEC_SRTP_MKI_MAX], pkt[BUF];
    size_t mki_len = 0;
    char line[2 * BUF + 8];
    size_t n;
    int suite, mode, dir, rc, rtcp;
    uint32_t rate, ssrc;

    if (argc < 5)
        return 2;
    switch (atoi(argv[2])) {
    case 32: suite = IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32; break;
    case 25680: suite = IMSSEC_SRTP_AES_256_CM_HMAC_SHA1_80; break;
    case 25632: suite = IMSSEC_SRTP_AES_256_CM_HMAC_SHA1_32; break;
    default: suite = IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80; break;
    }
    mode = atoi(argv[3]);
    rate = (uint32_t)strtoul(argv[4], NULL, 0);
    memset(key, 0x11, sizeof key);
    memset(salt, 0x22, sizeof salt);
    if (strcmp(argv[1], "setup") == 0) {
        memset(&err, 0, sizeof err);
        rc = mk(&s, streams, IMSSEC_SRTP_OUTBOUND, suite, mode, rate, key, salt, NULL, 0, 0, &err);
        printf("outbound %s%s%s\n", imssec_errname(rc), err.param ? " " : "",
               err.param ? err.param : "");
        imssec_srtp_session_wipe(&s);
        memset(&err, 0, sizeof err);
        rc = mk(&s, streams, IMSSEC_SRTP_INBOUND, suite, mode, rate, key, salt, NULL, 0, 0, &err);
        printf("inbound %s%s%s\n", imssec_errname(rc), err.param ? " " : "",
               err.param ? err.param : "");
        imssec_srtp_session_wipe(&s);
        return 0;
    }
    if (argc < 9)
        return 2;
    dir = strncmp(argv[1], "unprotect", 9) == 0 ? IMSSEC_SRTP_INBOUND : IMSSEC_SRTP_OUTBOUND;
    rtcp = strstr(argv[1], "_rtcp") != NULL;
    if (unhex(argv[5], key, sizeof key, &n) || n != imssec_srtp_suite_key_len(suite) ||
        unhex(argv[6], salt, sizeof salt, &n) || n != 14)
        return 2;
    if (argc > 9 && unhex(argv[9], mki, sizeof mki, &mki_len))
        return 2;
    ssrc = (uint32_t)strtoul(argv[7], NULL, 0);
    memset(&err, 0, sizeof err);
    rc = mk(&s, streams, dir, suite, mode, rate, key, salt, mki, mki_len,
            strcmp(argv[8], "auto") == 0, &err);
    if (rc != IMSSEC_OK) {
        printf("SETUP %s\n", imssec_errname(rc));
        return 2;
    }
    if (strcmp(argv[8], "auto") == 0) {
        rc = IMSSEC_OK;
    } else if (strcmp(argv[8], "-") == 0) {
        rc = imssec_srtp_stream_add(&s, ssrc, NULL, &err);
    } else {
        imssec_srtp_stream_state st;
        memset(&st, 0, sizeof st);
        st.roc = (uint32_t)strtoul(argv[8], NULL, 0);
        rc = imssec_srtp_stream_add(&s, ssrc, &st, &err);
    }
    if (rc != IMSSEC_OK) {
        printf("STREAM %s\n", imssec_errname(rc));
        return 2;
    }
    while (fgets(line, sizeof line, stdin)) {
        size_t len, out_len = 0;
        imssec_srtp_stream_state st;
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        if (unhex(line, pkt, BUF - IMSSEC_SRTP_OVERHEAD_MAX, &len)) {
            printf("BADHEX\n");
            continue;
        }
        if (dir == IMSSEC_SRTP_OUTBOUND) {
            rc = rtcp ? imssec_srtp_protect_rtcp(&s, pkt, len, BUF, &out_len, &err)
                      : imssec_srtp_protect(&s, pkt, len, BUF, &out_len, &err);
            if (rc == IMSSEC_OK) {
                printf("OK ");
                puthex(pkt, out_len);
                printf("\n");
            } else {
                printf("ERR %s\n", imssec_errname(rc));
            }
        } else {
            imssec_srtp_rx rx;
            memset(&rx, 0, sizeof rx);
            rc = rtcp ? imssec_srtp_unprotect_rtcp(&s, pkt, len, &out_len, &rx, &err)
                      : imssec_srtp_unprotect(&s, pkt, len, &out_len, &rx, &err);
            memset(&st, 0, sizeof st);
            (void)imssec_srtp_stream_get(&s, ssrc, &st);
            if (rc == IMSSEC_OK) {
                printf("OK idx=%llu ", (unsigned long long)rx.index);
                puthex(pkt, out_len);
            } else {
                printf("ERR %s", imssec_errname(rc));
            }
            printf(" roc=%lu seq=%u\n", (unsigned long)st.roc, (unsigned)st.seq);
        }
        fflush(stdout);
    }
    imssec_srtp_session_wipe(&s);
    return 0;
}
