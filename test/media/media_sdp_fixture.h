/*
 * media_sdp_fixture.h -- shared by the media_sdp_*.c tests: the fixed
 * random callback (each key one repeated letter, so the expected a=crypto
 * lines are hand-checkable base64), the environments and the SRTP check.
 */
#ifndef MEDIA_SDP_FIXTURE_H
#define MEDIA_SDP_FIXTURE_H
#if defined(__GNUC__) || defined(__clang__)
#define MS_UNUSED __attribute__((unused))
#else
#define MS_UNUSED
#endif
#include "../../imssec.h"
#include "../t.h"

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

/* key || salt (30 bytes, AES_CM_128_HMAC_SHA1_*) of one letter */
#define KA "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB" /* 0x41 */
#define KB "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC" /* 0x42 */
#define KC "Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0ND" /* 0x43 */
#define KD "RERERERERERERERERERERERERERERERERERERERE" /* 0x44 */
#define KE "RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVF" /* 0x45 */
#define KF "RkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZG" /* 0x46 */

/* imssec_sdes_new_key() asks for the key, then the salt: two calls per
 * key, so key n (from 0) is made of the letter base + n.  fail_at > 0
 * makes that call (counted from 1) and every later one fail. */
typedef struct trng {
    uint8_t base;
    unsigned calls, fail_at;
} trng;

MS_UNUSED static int trng_fill(void *user, uint8_t *out, size_t len)
{
    trng *r = (trng *)user;
    r->calls++;
    if (r->fail_at && r->calls >= r->fail_at)
        return -1;
    memset(out, r->base + (r->calls - 1) / 2, len);
    return 0;
}

MS_UNUSED static const int g_suites[] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80,
                               IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32};

typedef struct env {
    imssec_sdes_policy pol;
    trng r;
    imssec_io io;
    imssec_sdp_opts o;
    imssec_errinfo e;
} env;

MS_UNUSED static void env_init(env *v, uint8_t base, unsigned flags)
{
    memset(v, 0, sizeof *v);
    v->pol.suites = g_suites;
    v->pol.n_suites = 2;
    v->pol.hop_confidential = 1; /* an IPsec SA with encryption (TS 33.203) */
    v->r.base = base;
    v->io.user = &v->r;
    v->io.random = trng_fill;
    v->o.policy = &v->pol;
    v->o.io = &v->io;
    v->o.flags = flags;
}

/* The same text with every LF written as CRLF (the CRLF runs). */
MS_UNUSED static const char *crlf(const char *lf, char *buf, size_t cap)
{
    size_t i, n = 0;
    for (i = 0; lf[i] && n + 2 < cap; i++) {
        if (lf[i] == '\n')
            buf[n++] = '\r';
        buf[n++] = lf[i];
    }
    buf[n] = 0;
    return buf;
}

MS_UNUSED static imssec_str S(const char *s)
{
    return imssec_cstr(s);
}

MS_UNUSED static char g_out[8192], g_out2[8192], g_out3[8192], g_buf[6][8192];
MS_UNUSED static imssec_sdp_keys g_k1[4], g_k2[4], g_k3[4];


MS_UNUSED static imssec_srtp_session g_sess[4];
MS_UNUSED static imssec_srtp_stream g_streams[4][2];

/* SRTP between `a` (the UE) and `b` (the IMS Access GW, or the other UE):
 * a packet from a through b arrives as the original RTP (at the GW: what it
 * forwards to the core), a plain RTP packet protected by b (from the core)
 * arrives at a; a flipped bit is refused.  Returns 0 when all held. */
MS_UNUSED static int srtp_both_ways(const imssec_sdp_keys *a, const imssec_sdp_keys *b, uint32_t ssrc)
{
    imssec_srtp_params p[4];
    imssec_srtp_key kk[4][IMSSEC_SRTP_KEYS_MAX];
    uint8_t pkt[256], orig[172];
    size_t len = 0, k;
    int bad = 0;
    /* sessions: 0 a tx, 1 a rx, 2 b tx, 3 b rx */
    if (imssec_sdp_keys_srtp(a, &p[1], kk[1], &p[0], kk[0]) != IMSSEC_OK ||
        imssec_sdp_keys_srtp(b, &p[3], kk[3], &p[2], kk[2]) != IMSSEC_OK)
        return 1;
    for (k = 0; k < 4; k++) {
        p[k].auto_streams = 1;
        if (imssec_srtp_session_setup(&g_sess[k], &p[k], g_streams[k], 2, NULL) != IMSSEC_OK)
            return 2;
    }
    for (k = 0; k < 2 && !bad; k++) {
        imssec_srtp_session *tx = &g_sess[k ? 2 : 0], *rx = &g_sess[k ? 1 : 3];
        imssec_srtp_rx info;
        t_randbytes(orig, sizeof orig);
        orig[0] = 0x80; /* V=2, no padding, extension or CSRC */
        orig[1] = 96;
        orig[8] = (uint8_t)(ssrc >> 24);
        orig[9] = (uint8_t)(ssrc >> 16);
        orig[10] = (uint8_t)(ssrc >> 8);
        orig[11] = (uint8_t)ssrc;
        memcpy(pkt, orig, sizeof orig);
        if (imssec_srtp_protect(tx, pkt, sizeof orig, sizeof pkt, &len, NULL) != IMSSEC_OK ||
            len <= sizeof orig || memcmp(pkt + 12, orig + 12, sizeof orig - 12) == 0)
            bad = 3;
        else {
            size_t l2 = 0;
            pkt[20] ^= 1; /* tampered on the access network */
            if (imssec_srtp_unprotect(rx, pkt, len, &l2, NULL, NULL) != IMSSEC_E_ICV)
                bad = 4;
            pkt[20] ^= 1;
            if (!bad && (imssec_srtp_unprotect(rx, pkt, len, &l2, &info, NULL) != IMSSEC_OK ||
                         l2 != sizeof orig || memcmp(pkt, orig, sizeof orig) != 0 ||
                         info.ssrc != ssrc))
                bad = 5;
        }
    }
    for (k = 0; k < 4; k++)
        imssec_srtp_session_wipe(&g_sess[k]);
    return bad;
}

/* ---------------------------------------------------------------------------
 * The end-to-end check: UE offer -> IMS-ALG -> core (plain RTP/AVP) ->
 * IMS-ALG -> UE; then SRTP between the UE and the IMS Access GW.
 * ------------------------------------------------------------------------ */

/* What the UE's media stack wrote (plain RTP, audio and video). */
MS_UNUSED static const char UE_DRAFT[] =
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
    "s=-\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 49170 RTP/AVP 96\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=ptime:20\n"
    "m=video 49172 RTP/AVPF 98\n"
    "a=rtpmap:98 H264/90000\n";

/* 7.2.1 step 1 with 7.1.1 ("shall secure all RTP media streams"): both
 * streams SRTP, the policy's two suites, "e2ae-security requested by UE";
 * keys A, B (audio) and C, D (video), no lifetime. */
MS_UNUSED static const char UE_OFFER_E2AE[] =
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
    "s=-\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 49170 RTP/SAVP 96\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=ptime:20\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KB "\n"
    "a=3ge2ae:requested\n"
    "m=video 49172 RTP/SAVPF 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KD "\n"
    "a=3ge2ae:requested\n";

MS_UNUSED static const char CORE_ANSWER_2[] =
    "v=0\n"
    "o=bob 1 1 IN IP4 198.51.100.20\n"
    "s=-\n"
    "c=IN IP4 198.51.100.20\n"
    "t=0 0\n"
    "m=audio 3456 RTP/AVP 96\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "m=video 3458 RTP/AVPF 98\n"
    "a=rtpmap:98 H264/90000\n";

/* 7.2.1 step 8: tag 1 of each stream (the first acceptable), K12 = E
 * (audio) and F (video). */
MS_UNUSED static const char UE_ANSWER_2[] =
    "v=0\n"
    "o=bob 1 1 IN IP4 198.51.100.20\n"
    "s=-\n"
    "c=IN IP4 198.51.100.20\n"
    "t=0 0\n"
    "m=audio 3456 RTP/SAVP 96\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KE "\n"
    "m=video 3458 RTP/SAVPF 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KF "\n";

/* The chain of 7.2.1 with the UE's and the IMS-ALG's functions; leaves the
 * UE's entries in g_k2 and the IMS-ALG's in g_k3. */
MS_UNUSED static void orig_chain(env *ue, env *alg, size_t *nu, size_t *ng)
{
    size_t n = 0, n2 = 0, n3 = 0;
    env_init(ue, 0x41, IMSSEC_SDP_REG_E2AE);
    env_init(alg, 0x45, IMSSEC_SDP_REG_E2AE);
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &ue->o, g_out, sizeof g_out, &n, g_k2, 4, nu, &ue->e));
    T_EQ_SLICE(g_out, n, UE_OFFER_E2AE);
    T_EQ_UINT(*nu, 2);
    T_EQ_INT(g_k2[1].avpf, 1);
    T_EQ_UINT(g_k2[1].n_local, 2);
    /* the IMS-ALG undoes exactly what the UE did: the core sees the draft */
    T_OK(imssec_sdp_alg_orig_offer(T_S(g_out, n), &alg->o, g_out2, sizeof g_out2, &n2, g_k3, 4,
                                   ng, &alg->e));
    T_EQ_SLICE(g_out2, n2, UE_DRAFT);
    T_EQ_UINT(*ng, 2);
    T_OK(imssec_sdp_alg_orig_answer(S(CORE_ANSWER_2), &alg->o, g_k3, *ng, g_out3, sizeof g_out3,
                                    &n3, &alg->e));
    T_EQ_SLICE(g_out3, n3, UE_ANSWER_2);
    T_OK(imssec_sdp_ue_check_answer(T_S(g_out3, n3), g_k2, *nu, &ue->e));
    T_EQ_INT(g_k2[0].status, IMSSEC_SDP_AGREED);
    T_EQ_INT(g_k2[1].status, IMSSEC_SDP_AGREED);
    T_EQ_UINT(g_k2[0].n_local, 1);
    T_EQ_UINT(g_k2[0].local[0].tag, 1);
}


MS_UNUSED static const char UE_OFFER_E2E[] =
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
    "s=-\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 49170 RTP/SAVP 96\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=ptime:20\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KB "\n"
    "m=video 49172 RTP/SAVPF 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KD "\n";

#endif
