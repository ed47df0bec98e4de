/*
 * media_sdp_7_3_7_4_terminating.c -- the SDP procedures of TS 33.328 7.3
 * and 7.4 (media/sdp.c): the IMS-ALG and the UE on the terminating side,
 * session updates, and the SDP checks on malformed input.
 *
 * The truths: SDP written out by hand from the steps of 7.2.1 / 7.3.1
 * (what is removed, what is changed, what is added) and compared byte for
 * byte; keys from a "random" callback that fills a whole key with one
 * letter, so every a=crypto line is hand-checkable base64 (RFC 4648 4:
 * 0x41 0x41 0x41 = 010000 010100 000101 000001 = "QUFB", and 30 bytes of
 * key || salt are ten such groups); and SRTP sessions built from the
 * results at the UE and at the IMS Access GW that exchange real packets,
 * with plain RTP on the core side (6.2.1.1).
 */
#include "media_sdp_fixture.h"

/* ---------------------------------------------------------------------------
 * 7.3.1 at the terminating IMS-ALG and UE, 7.3.2 for an e2e stream.
 * ------------------------------------------------------------------------ */

/* Step 1: from the originating network: a plain audio stream (with an
 * "offered by network" indication inserted by another party), an e2e
 * video stream (7.3.2), a disabled stream. */
static const char TERM_CORE_OFFER[] =
    "v=0\n"
    "o=carol 1 1 IN IP4 203.0.113.5\n"
    "s=-\n"
    "c=IN IP4 203.0.113.5\n"
    "t=0 0\n"
    "m=audio 5004 RTP/AVP 0 8\n"
    "a=3ge2ae:applied\n"
    "a=rtpmap:0 PCMU/8000\n"
    "m=video 5006 RTP/SAVP 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KF "\n"
    "a=3ge2ae:applied\n"
    "m=audio 0 RTP/AVP 0\n";

/* Step 4: "changes the transport from RTP to SRTP in the SDP Offer,
 * includes one or more SDES crypto attributes, as well as an indication
 * that e2ae security is offered by the network" (K21 = A and B); the
 * foreign indications are gone (last paragraph); video and the disabled
 * stream as received. */
static const char TERM_UE_OFFER[] =
    "v=0\n"
    "o=carol 1 1 IN IP4 203.0.113.5\n"
    "s=-\n"
    "c=IN IP4 203.0.113.5\n"
    "t=0 0\n"
    "m=audio 5004 RTP/SAVP 0 8\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KB "\n"
    "a=3ge2ae:applied\n"
    "m=video 5006 RTP/SAVP 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KF "\n"
    "m=audio 0 RTP/AVP 0\n";

/* What UE B's media stack answers. */
static const char TERM_UE_DRAFT[] =
    "v=0\n"
    "o=bob 7 7 IN IP4 192.0.2.77\n"
    "s=-\n"
    "c=IN IP4 192.0.2.77\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n"
    "m=video 6002 RTP/SAVP 98\n"
    "a=rtpmap:98 H264/90000\n"
    "m=audio 0 RTP/AVP 0\n";

/* Step 5: "one of the received SDES crypto attributes" with K22 = C; the
 * e2e video stream (7.3.2 step 4) answered with D. */
static const char TERM_UE_ANSWER[] =
    "v=0\n"
    "o=bob 7 7 IN IP4 192.0.2.77\n"
    "s=-\n"
    "c=IN IP4 192.0.2.77\n"
    "t=0 0\n"
    "m=audio 6000 RTP/SAVP 0\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n"
    "m=video 6002 RTP/SAVP 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KD "\n"
    "m=audio 0 RTP/AVP 0\n";

/* Step 7: "changes the transport from SRTP to RTP in the SDP Answer and
 * removes the SDES crypto attribute" -- audio only. */
static const char TERM_CORE_ANSWER[] =
    "v=0\n"
    "o=bob 7 7 IN IP4 192.0.2.77\n"
    "s=-\n"
    "c=IN IP4 192.0.2.77\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n"
    "m=video 6002 RTP/SAVP 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KD "\n"
    "m=audio 0 RTP/AVP 0\n";

static void term_chain(env *alg, env *ue, size_t *ng, size_t *nu)
{
    size_t n = 0;
    env_init(alg, 0x41, IMSSEC_SDP_REG_E2AE);
    env_init(ue, 0x43, IMSSEC_SDP_REG_E2AE);
    T_OK(imssec_sdp_alg_term_offer(S(TERM_CORE_OFFER), &alg->o, g_out, sizeof g_out, &n, g_k3, 4,
                                   ng, &alg->e));
    T_EQ_SLICE(g_out, n, TERM_UE_OFFER);
    T_EQ_UINT(*ng, 1);
    T_EQ_UINT(g_k3[0].n_local, 2);
    T_EQ_INT(g_k3[0].status, IMSSEC_SDP_OFFERED);
    memcpy(g_out2, g_out, n);
    T_OK(imssec_sdp_ue_answer(T_S(g_out2, n), S(TERM_UE_DRAFT), &ue->o, g_out, sizeof g_out, &n,
                              g_k2, 4, nu, &ue->e));
    T_EQ_SLICE(g_out, n, TERM_UE_ANSWER);
    T_EQ_UINT(*nu, 2);
    T_EQ_INT(g_k2[0].mode, IMSSEC_SDP_MODE_E2AE); /* a=3ge2ae:applied */
    T_EQ_INT(g_k2[1].mode, IMSSEC_SDP_MODE_E2E);
    T_EQ_INT(g_k2[1].status, IMSSEC_SDP_AGREED);
    T_EQ_UINT(g_k2[1].m_index, 1);
    T_OK(imssec_sdp_alg_term_answer(T_S(g_out, n), g_k3, *ng, g_out3, sizeof g_out3, &n,
                                    &alg->e));
    T_EQ_SLICE(g_out3, n, TERM_CORE_ANSWER);
    T_EQ_INT(g_k3[0].status, IMSSEC_SDP_AGREED);
    T_EQ_UINT(g_k3[0].n_local, 1);
    T_EQ_UINT(g_k3[0].local[0].tag, 1);
    T_EQ_UINT(g_k3[0].local[0].keys[0].key[0], 0x41); /* K21 */
    T_EQ_UINT(g_k3[0].remote.keys[0].key[0], 0x43);   /* K22 */
}

T_TEST(media_33328_7_3_1_imsalg_term_offer_ue_answer_srtp)
{
    env alg, ue;
    size_t ng = 0, nu = 0;
    term_chain(&alg, &ue, &ng, &nu);
    /* step 6: the GW checks / decrypts with K22, protects with K21 */
    T_EQ_INT(srtp_both_ways(&g_k2[0], &g_k3[0], 0xabcdef01u), 0);
    imssec_sdp_keys_wipe(g_k2, nu);
    imssec_sdp_keys_wipe(g_k3, ng);
}

/* 7.3.1 step 3: without both indications at registration the IMS-ALG
 * "continues as described for a call without IMS media plane security"
 * (still removing foreign indications). */
T_TEST(media_33328_7_3_1_imsalg_term_offer_without_registration)
{
    static const char want[] =
        "v=0\n"
        "o=carol 1 1 IN IP4 203.0.113.5\n"
        "s=-\n"
        "c=IN IP4 203.0.113.5\n"
        "t=0 0\n"
        "m=audio 5004 RTP/AVP 0 8\n"
        "a=rtpmap:0 PCMU/8000\n"
        "m=video 5006 RTP/SAVP 98\n"
        "a=rtpmap:98 H264/90000\n"
        "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KF "\n"
        "m=audio 0 RTP/AVP 0\n";
    env v;
    size_t n = 0, nk = 0;
    env_init(&v, 0x41, 0);
    v.pol.hop_confidential = 0;
    T_OK(imssec_sdp_alg_term_offer(S(TERM_CORE_OFFER), &v.o, g_out, sizeof g_out, &n, g_k1, 4,
                                   &nk, &v.e));
    T_EQ_SLICE(g_out, n, want);
    T_EQ_UINT(nk, 0);
}

/* The UE's answer and the IMS-ALG's check of it refuse what RFC 4568 7.1.3
 * and RFC 3264 6 do not allow; keys[] stays as it was. */
T_TEST(media_33328_7_3_1_answer_refusals)
{
    static const char two[] =
        "v=0\n"
        "o=bob 7 7 IN IP4 192.0.2.77\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 6000 RTP/SAVP 0\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n"
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KC "\n";
    static const char tag9[] =
        "v=0\n"
        "o=bob 7 7 IN IP4 192.0.2.77\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 6000 RTP/SAVP 0\n"
        "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n";
    static const char plain[] =
        "v=0\n"
        "o=bob 7 7 IN IP4 192.0.2.77\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 6000 RTP/AVP 0\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n";
    static const char badkey[] =
        "v=0\n"
        "o=bob 7 7 IN IP4 192.0.2.77\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 6000 RTP/SAVP 0\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUFB!\n";
    static const char rejected[] =
        "v=0\n"
        "o=bob 7 7 IN IP4 192.0.2.77\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 0 RTP/SAVP 0\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n";
    static const char rejected_out[] =
        "v=0\n"
        "o=bob 7 7 IN IP4 192.0.2.77\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 0 RTP/AVP 0\n";
    static unsigned char snap[sizeof g_k1];
    env v;
    size_t n = 0, nk = 0;
    env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE);
    T_OK(imssec_sdp_alg_term_offer(S(TERM_CORE_OFFER), &v.o, g_out, sizeof g_out, &n, g_k1, 4,
                                   &nk, &v.e));
    memcpy(snap, g_k1, sizeof g_k1);
    T_EQ_INT(imssec_sdp_alg_term_answer(S(two), g_k1, nk, g_out, sizeof g_out, &n, &v.e),
             IMSSEC_E_SDES_REJECT);
    T_EQ_INT(imssec_sdp_alg_term_answer(S(tag9), g_k1, nk, g_out, sizeof g_out, &n, &v.e),
             IMSSEC_E_SDES_REJECT);
    T_EQ_INT(imssec_sdp_alg_term_answer(S(plain), g_k1, nk, g_out, sizeof g_out, &n, &v.e),
             IMSSEC_E_SDES_REJECT);
    memset(&v.e, 0, sizeof v.e);
    T_EQ_INT(imssec_sdp_alg_term_answer(S(badkey), g_k1, nk, g_out, sizeof g_out, &n, &v.e),
             IMSSEC_E_SYNTAX);
    /* the offset points into the a=crypto line of the SDP */
    T_ASSERT(v.e.offset > (size_t)(strstr(badkey, "a=crypto") - badkey) &&
             v.e.offset < sizeof badkey);
    T_EQ_UINT(v.e.item_index, 0);
    T_ASSERT(memcmp(g_k1, snap, sizeof g_k1) == 0);
    /* the answer lacks the section */
    T_EQ_INT(imssec_sdp_alg_term_answer(S("v=0\ns=-\n"), g_k1, nk, g_out, sizeof g_out, &n, &v.e),
             IMSSEC_E_NOT_FOUND);
    T_ASSERT(memcmp(g_k1, snap, sizeof g_k1) == 0);
    /* a stream the UE rejected: nothing to set up, RTP again towards the core */
    T_OK(imssec_sdp_alg_term_answer(S(rejected), g_k1, nk, g_out, sizeof g_out, &n, &v.e));
    T_EQ_SLICE(g_out, n, rejected_out);
    T_EQ_INT(g_k1[0].status, IMSSEC_SDP_REJECTED);
    /* done is done */
    T_EQ_INT(imssec_sdp_alg_term_answer(S(rejected), g_k1, nk, g_out, sizeof g_out, &n, &v.e),
             IMSSEC_E_STATE);
    imssec_sdp_keys_wipe(g_k1, 4);
}

/* The core's answer for 7.2.1: a section missing, its transport changed, a
 * stream rejected. */
T_TEST(media_33328_7_2_1_imsalg_answer_refusals)
{
    static const char secure[] =
        "v=0\n"
        "o=bob 1 1 IN IP4 198.51.100.20\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 3456 RTP/SAVP 96\n"
        "m=video 3458 RTP/AVPF 98\n";
    static const char rejected[] =
        "v=0\n"
        "o=bob 1 1 IN IP4 198.51.100.20\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 0 RTP/AVP 96\n"
        "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:" KF "\n"
        "m=video 3458 RTP/AVPF 98\n";
    static const char rejected_out[] =
        "v=0\n"
        "o=bob 1 1 IN IP4 198.51.100.20\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 0 RTP/SAVP 96\n"
        "m=video 3458 RTP/SAVPF 98\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KF "\n";
    static unsigned char snap[sizeof g_k1];
    env v;
    size_t n = 0, nk = 0;
    env_init(&v, 0x45, IMSSEC_SDP_REG_E2AE);
    T_OK(imssec_sdp_alg_orig_offer(S(UE_OFFER_E2AE), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk,
                                   &v.e));
    memcpy(snap, g_k1, sizeof g_k1);
    T_EQ_INT(imssec_sdp_alg_orig_answer(S("v=0\nm=audio 1 RTP/AVP 0\n"), &v.o, g_k1, nk, g_out,
                                        sizeof g_out, &n, &v.e),
             IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sdp_alg_orig_answer(S(secure), &v.o, g_k1, nk, g_out, sizeof g_out, &n, &v.e),
             IMSSEC_E_SDES_REJECT);
    T_ASSERT(memcmp(g_k1, snap, sizeof g_k1) == 0);
    /* keys[] out of order */
    {
        imssec_sdp_keys swap = g_k1[0];
        g_k1[0] = g_k1[1];
        g_k1[1] = swap;
        T_EQ_INT(imssec_sdp_alg_orig_answer(S(CORE_ANSWER_2), &v.o, g_k1, nk, g_out, sizeof g_out,
                                            &n, &v.e),
                 IMSSEC_E_PARAM);
        memcpy(g_k1, snap, sizeof g_k1);
    }
    T_OK(imssec_sdp_alg_orig_answer(S(rejected), &v.o, g_k1, nk, g_out, sizeof g_out, &n, &v.e));
    T_EQ_SLICE(g_out, n, rejected_out);
    T_EQ_INT(g_k1[0].status, IMSSEC_SDP_REJECTED);
    T_EQ_INT(g_k1[1].status, IMSSEC_SDP_AGREED);
    imssec_sdp_keys_wipe(g_k1, 4);
}

/* ---------------------------------------------------------------------------
 * 7.4 session updates.
 * ------------------------------------------------------------------------ */

/* e2ae: the UE re-offers what was agreed (the selected attribute only, same
 * tag and key); the IMS-ALG keeps both keys (no random bytes drawn) and
 * answers with the K12 it sent before; the UE sees its context unchanged
 * -- "there shall be no re-initialization".  IMSSEC_SDP_REKEY does not
 * apply to e2ae ("Media security context update is not used with e2ae
 * security"). */
T_TEST(media_33328_7_4_e2ae_reoffer_keeps_context)
{
    static const char reoffer[] =
        "v=0\n"
        "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
        "s=-\n"
        "c=IN IP4 192.0.2.10\n"
        "t=0 0\n"
        "m=audio 49170 RTP/SAVP 96\n"
        "a=rtpmap:96 AMR-WB/16000\n"
        "a=ptime:20\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
        "a=3ge2ae:requested\n"
        "m=video 49172 RTP/SAVPF 98\n"
        "a=rtpmap:98 H264/90000\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n"
        "a=3ge2ae:requested\n";
    env ue, alg;
    size_t nu = 0, ng = 0, n = 0, n2 = 0, m = 0;
    static imssec_sdp_keys pu[4], pg[4];
    orig_chain(&ue, &alg, &nu, &ng);
    memcpy(pu, g_k2, sizeof pu);
    memcpy(pg, g_k3, sizeof pg);
    ue.o.prev = pu;
    ue.o.n_prev = nu;
    ue.o.flags |= IMSSEC_SDP_REKEY;
    ue.r.calls = 0;
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &ue.o, g_out, sizeof g_out, &n, g_k2, 4, &m, &ue.e));
    T_EQ_SLICE(g_out, n, reoffer);
    T_EQ_UINT(ue.r.calls, 0);
    T_EQ_INT(g_k2[0].unchanged, 1);
    alg.o.prev = pg;
    alg.o.n_prev = ng;
    alg.r.calls = 0;
    T_OK(imssec_sdp_alg_orig_offer(T_S(g_out, n), &alg.o, g_out2, sizeof g_out2, &n2, g_k3, 4, &m,
                                   &alg.e));
    T_EQ_SLICE(g_out2, n2, UE_DRAFT);
    T_EQ_UINT(alg.r.calls, 0);
    T_EQ_INT(g_k3[0].unchanged, 1);
    T_OK(imssec_sdp_alg_orig_answer(S(CORE_ANSWER_2), &alg.o, g_k3, ng, g_out3, sizeof g_out3, &n,
                                    &alg.e));
    T_EQ_SLICE(g_out3, n, UE_ANSWER_2); /* the same K12 lines as before */
    T_OK(imssec_sdp_ue_check_answer(T_S(g_out3, n), g_k2, nu, &ue.e));
    T_EQ_INT(g_k2[0].unchanged, 1);
    T_EQ_INT(g_k2[1].unchanged, 1);
    T_EQ_INT(g_k3[1].unchanged, 1);
    /* a UE that does send a new key anyway (here: a fresh e2ae offer) is
     * taken as a new context at the IMS-ALG, with a new K12 */
    ue.o.prev = NULL;
    ue.o.n_prev = 0;
    ue.r.base = 0x50;
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &ue.o, g_out, sizeof g_out, &n, g_k2, 4, &m, &ue.e));
    T_OK(imssec_sdp_alg_orig_offer(T_S(g_out, n), &alg.o, g_out2, sizeof g_out2, &n2, g_k3, 4, &m,
                                   &alg.e));
    T_EQ_INT(g_k3[0].unchanged, 0);
    T_EQ_UINT(alg.r.calls, 4);
    imssec_sdp_keys_wipe(g_k2, 4);
    imssec_sdp_keys_wipe(g_k3, 4);
    imssec_sdp_keys_wipe(pu, 4);
    imssec_sdp_keys_wipe(pg, 4);
}

/* e2e between two UEs: a re-offer with the agreed attribute is answered
 * with the one answered before (no new key, unchanged on both sides);
 * IMSSEC_SDP_REKEY makes fresh keys in both directions. */
T_TEST(media_33328_7_4_e2e_reoffer_keep_or_rekey)
{
    static const char reoffer[] =
        "v=0\n"
        "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
        "s=-\n"
        "c=IN IP4 192.0.2.10\n"
        "t=0 0\n"
        "m=audio 49170 RTP/SAVP 96\n"
        "a=rtpmap:96 AMR-WB/16000\n"
        "a=ptime:20\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
        "m=video 49172 RTP/SAVPF 98\n"
        "a=rtpmap:98 H264/90000\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KC "\n";
    static const char b_draft[] =
        "v=0\n"
        "o=bob 1 1 IN IP4 198.51.100.20\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 3456 RTP/AVP 96\n"
        "m=video 3458 RTP/AVPF 98\n";
    static const char b_answer[] =
        "v=0\n"
        "o=bob 1 1 IN IP4 198.51.100.20\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 3456 RTP/SAVP 96\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KE "\n"
        "m=video 3458 RTP/SAVPF 98\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KF "\n";
    static imssec_sdp_keys pa[4], pb[4];
    env a, b;
    size_t n = 0, n2 = 0, na = 0, nb = 0, m = 0;
    env_init(&a, 0x41, IMSSEC_SDP_WANT_E2E);
    env_init(&b, 0x45, 0);
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &a.o, g_out, sizeof g_out, &n, g_k1, 4, &na, &a.e));
    T_EQ_SLICE(g_out, n, UE_OFFER_E2E);
    T_OK(imssec_sdp_ue_answer(T_S(g_out, n), S(b_draft), &b.o, g_out2, sizeof g_out2, &n2, g_k2, 4,
                              &nb, &b.e));
    T_EQ_SLICE(g_out2, n2, b_answer);
    T_EQ_INT(g_k2[0].mode, IMSSEC_SDP_MODE_E2E);
    T_OK(imssec_sdp_ue_check_answer(T_S(g_out2, n2), g_k1, na, &a.e));
    T_EQ_INT(srtp_both_ways(&g_k1[0], &g_k2[0], 1), 0);
    T_EQ_INT(srtp_both_ways(&g_k1[1], &g_k2[1], 2), 0);
    /* keep */
    memcpy(pa, g_k1, sizeof pa);
    memcpy(pb, g_k2, sizeof pb);
    a.o.prev = pa;
    a.o.n_prev = na;
    b.o.prev = pb;
    b.o.n_prev = nb;
    a.r.calls = b.r.calls = 0;
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &a.o, g_out, sizeof g_out, &n, g_k1, 4, &m, &a.e));
    T_EQ_SLICE(g_out, n, reoffer);
    T_OK(imssec_sdp_ue_answer(T_S(g_out, n), S(b_draft), &b.o, g_out2, sizeof g_out2, &n2, g_k2, 4,
                              &m, &b.e));
    T_EQ_SLICE(g_out2, n2, b_answer);
    T_EQ_INT(g_k2[0].unchanged, 1);
    T_OK(imssec_sdp_ue_check_answer(T_S(g_out2, n2), g_k1, na, &a.e));
    T_EQ_INT(g_k1[0].unchanged, 1);
    T_EQ_INT(g_k1[1].unchanged, 1);
    T_EQ_UINT(a.r.calls + b.r.calls, 0);
    /* re-key: new keys both ways, unchanged 0 */
    a.o.flags |= IMSSEC_SDP_REKEY;
    a.r.base = 0x61;
    b.r.base = 0x71;
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &a.o, g_out, sizeof g_out, &n, g_k1, 4, &m, &a.e));
    T_EQ_UINT(g_k1[0].n_local, 2);
    T_EQ_INT(g_k1[0].unchanged, 0);
    T_OK(imssec_sdp_ue_answer(T_S(g_out, n), S(b_draft), &b.o, g_out2, sizeof g_out2, &n2, g_k2, 4,
                              &m, &b.e));
    T_EQ_INT(g_k2[0].unchanged, 0);
    T_EQ_UINT(g_k2[0].local[0].keys[0].key[0], 0x71);
    T_OK(imssec_sdp_ue_check_answer(T_S(g_out2, n2), g_k1, na, &a.e));
    T_EQ_INT(g_k1[0].unchanged, 0);
    T_EQ_UINT(g_k1[0].remote.keys[0].key[0], 0x71);
    T_EQ_INT(srtp_both_ways(&g_k1[0], &g_k2[0], 3), 0);
    imssec_sdp_keys_wipe(g_k1, 4);
    imssec_sdp_keys_wipe(g_k2, 4);
    imssec_sdp_keys_wipe(pa, 4);
    imssec_sdp_keys_wipe(pb, 4);
}

/* ---------------------------------------------------------------------------
 * The text: RFC 8866 structure, the output convention, failures.
 * ------------------------------------------------------------------------ */

/* Malformed SDP: IMSSEC_E_SYNTAX at the offending byte, from the checker
 * and from every procedure, nothing written. */
T_TEST(media_sdp_rfc8866_malformed_refused)
{
    static const struct {
        const char *sdp;
        size_t len; /* 0: strlen */
        size_t offset;
    } bad[] = {
        {"", 0, 0},
        {"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-", 0, 34},        /* no line end */
        {"o=- 1 1 IN IP4 192.0.2.1\n", 0, 0},                    /* v=0 first */
        {"v=1\n", 0, 0},
        {"v=0\ns=a\rb\n", 0, 7},                                 /* bare CR */
        {"v=0\ns=a\0b\n", 10, 7},                                /* NUL */
        {"v=0\nS=x\n", 0, 4},                                    /* uppercase type */
        {"v=0\nx\n", 0, 4},
        {"v=0\n=x\n", 0, 4},
        {"v=0\nm=audio  49170 RTP/AVP 0\n", 0, 12},              /* two SPs */
        {"v=0\nm=audio 65536 RTP/AVP 0\n", 0, 12},
        {"v=0\nm=audio 123456 RTP/AVP 0\n", 0, 12},
        {"v=0\nm=audio 49170/ RTP/AVP 0\n", 0, 18},
        {"v=0\nm=audio 49170 RTP/AVP\n", 0, 25},                 /* no fmt */
        {"v=0\nm=audio 49170 RTP/AVP 0 \n", 0, 28},              /* trailing SP */
        {"v=0\nm=audio 49170 RTP//AVP 0\n", 0, 22},
        {"v=0\nm= 49170 RTP/AVP 0\n", 0, 6},
        {"v=0\nm=audio 49170 RTP/AVP 0\ta\n", 0, 27},
        {"v=0\na=:x\n", 0, 6},
        {"v=0\na=crypto x\n", 0, 12},
        {"v=0\nm=audio 1 RTP/AVP 0\r\r\n", 0, 23},
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].sdp), n = 99, nk = 99, m = 99;
        imssec_errinfo e;
        env v;
        int rc;
        env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE);
        memset(&e, 0, sizeof e);
        rc = imssec_sdp_check(T_S(bad[i].sdp, len), &m, &e);
        if (rc != IMSSEC_E_SYNTAX || e.offset != bad[i].offset || !e.what || m != 99)
            t_fail_(__FILE__, __LINE__, "case %zu: rc %d offset %zu (want %zu) %s", i, rc,
                    e.offset, bad[i].offset, e.what ? e.what : "");
        memset(g_out, '#', 64);
        T_EQ_INT(imssec_sdp_alg_orig_offer(T_S(bad[i].sdp, len), &v.o, g_out, sizeof g_out, &n,
                                           g_k1, 4, &nk, NULL),
                 IMSSEC_E_SYNTAX);
        T_EQ_INT(imssec_sdp_ue_offer(T_S(bad[i].sdp, len), &v.o, g_out, sizeof g_out, &n, g_k1, 4,
                                     &nk, NULL),
                 IMSSEC_E_SYNTAX);
        T_EQ_INT(imssec_sdp_alg_term_answer(T_S(bad[i].sdp, len), NULL, 0, g_out, sizeof g_out, &n,
                                            NULL),
                 IMSSEC_E_SYNTAX);
        T_EQ_INT(imssec_sdp_ue_answer(S(UE_OFFER_E2E), T_S(bad[i].sdp, len), &v.o, g_out,
                                      sizeof g_out, &n, g_k1, 4, &nk, NULL),
                 IMSSEC_E_SYNTAX);
        T_ASSERT(g_out[0] == '#' && n == 99 && nk == 99);
    }
    /* well-formed: a bare v=0, a disabled stream with CRLF, a very long
     * line (no bound on lines), an empty attribute value */
    {
        static char big[300000];
        size_t m = 0, n = 0, nk = 0, L;
        env v;
        T_OK(imssec_sdp_check(S("v=0\n"), &m, NULL));
        T_EQ_UINT(m, 0);
        T_OK(imssec_sdp_check(S("v=0\r\nm=audio 0/2 RTP/AVP 0 8\r\na=x:\r\n"), &m, NULL));
        T_EQ_UINT(m, 1);
        L = (size_t)snprintf(big, sizeof big,
                             "v=0\nm=audio 5 RTP/SAVP 0\na=3ge2ae:requested\na=x:");
        memset(big + L, 'y', 250000);
        L += 250000;
        snprintf(big + L, sizeof big - L, "\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\n", KA);
        T_OK(imssec_sdp_check(S(big), &m, NULL));
        env_init(&v, 0x42, IMSSEC_SDP_REG_E2AE);
        T_EQ_INT(imssec_sdp_alg_orig_offer(S(big), &v.o, NULL, 0, &n, NULL, 0, &nk, NULL),
                 IMSSEC_E_SPACE);
        T_EQ_UINT(nk, 1);
        T_EQ_UINT(n, strlen(big) - strlen("a=3ge2ae:requested\n") -
                         strlen("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n") - 1);
    }
}

/* The output convention with two outputs: too little room for either
 * reports both sizes and writes nothing (no random bytes drawn either);
 * measuring with NULL / 0 works; the exact size succeeds. */
T_TEST(media_sdp_output_convention_space)
{
    env v;
    size_t n = 0, nk = 0, need = strlen(UE_OFFER_E2AE);
    static unsigned char snap[sizeof g_k1];
    env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE);
    memset(g_out, '#', sizeof g_out);
    memset(g_k1, 0x33, sizeof g_k1);
    memcpy(snap, g_k1, sizeof g_k1);
    T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, NULL, 0, &n, NULL, 0, &nk, &v.e),
             IMSSEC_E_SPACE);
    T_EQ_UINT(n, need);
    T_EQ_UINT(nk, 2);
    n = nk = 0;
    T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, need - 1, &n, g_k1, 4, &nk, &v.e),
             IMSSEC_E_SPACE);
    T_EQ_UINT(n, need);
    T_EQ_UINT(nk, 2);
    T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, need, &n, g_k1, 1, &nk, &v.e),
             IMSSEC_E_SPACE);
    T_ASSERT(g_out[0] == '#' && memcmp(g_k1, snap, sizeof g_k1) == 0);
    T_EQ_UINT(v.r.calls, 0);
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, need, &n, g_k1, 2, &nk, &v.e));
    T_EQ_SLICE(g_out, n, UE_OFFER_E2AE);
    T_ASSERT(g_out[need] == '#');
    /* the answer step */
    {
        env alg;
        size_t m = 0, want = strlen(UE_ANSWER_2);
        env_init(&alg, 0x45, IMSSEC_SDP_REG_E2AE);
        T_OK(imssec_sdp_alg_orig_offer(T_S(g_out, n), &alg.o, g_out2, sizeof g_out2, &m, g_k3, 4,
                                       &nk, &alg.e));
        memcpy(snap, g_k3, sizeof g_k3);
        memset(g_out3, '#', sizeof g_out3);
        T_EQ_INT(imssec_sdp_alg_orig_answer(S(CORE_ANSWER_2), &alg.o, g_k3, nk, g_out3, want - 1,
                                            &m, &alg.e),
                 IMSSEC_E_SPACE);
        T_EQ_UINT(m, want);
        T_ASSERT(g_out3[0] == '#' && memcmp(g_k3, snap, sizeof g_k3) == 0);
        T_OK(imssec_sdp_alg_orig_answer(S(CORE_ANSWER_2), &alg.o, g_k3, nk, g_out3, want, &m,
                                        &alg.e));
        T_EQ_SLICE(g_out3, m, UE_ANSWER_2);
    }
    imssec_sdp_keys_wipe(g_k1, 4);
    imssec_sdp_keys_wipe(g_k3, 4);
}

/* io->random failing half-way: IMSSEC_E_CALLBACK, the text untouched, the
 * entries made so far zeroized.  Bad arguments: IMSSEC_E_PARAM. */
T_TEST(media_sdp_callback_failure_and_params)
{
    env v;
    size_t n = 1, nk = 1, i;
    imssec_sdp_keys bad;
    imssec_srtp_params p;
    imssec_srtp_key k[IMSSEC_SRTP_KEYS_MAX];
    const unsigned char *z = (const unsigned char *)&g_k1[0];
    env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE);
    v.r.fail_at = 6; /* audio's two keys take calls 1-4, video's first key 5-6 */
    memset(g_out, '#', sizeof g_out);
    memset(g_k1, 0x33, sizeof g_k1);
    T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e),
             IMSSEC_E_CALLBACK);
    T_ASSERT(g_out[0] == '#' && n == 1 && nk == 1);
    for (i = 0; i < 2 * sizeof g_k1[0]; i++)
        T_EQ_UINT(z[i], 0);
    /* arguments */
    v.r.fail_at = 0;
    T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), NULL, g_out, sizeof g_out, &n, g_k1, 4, &nk, NULL),
             IMSSEC_E_PARAM);
    v.o.io = NULL;
    T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, NULL),
             IMSSEC_E_PARAM);
    v.o.io = &v.io;
    v.o.flags = 0x100;
    T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, NULL),
             IMSSEC_E_PARAM);
    v.o.flags = IMSSEC_SDP_REG_E2AE;
    T_EQ_INT(imssec_sdp_ue_offer(T_S(NULL, 4), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, NULL),
             IMSSEC_E_PARAM);
    /* a malformed entry */
    memset(&bad, 0, sizeof bad);
    bad.mode = IMSSEC_SDP_MODE_E2AE;
    bad.status = IMSSEC_SDP_OFFERED;
    T_EQ_INT(imssec_sdp_alg_term_answer(S(TERM_UE_ANSWER), &bad, 1, g_out, sizeof g_out, &n, NULL),
             IMSSEC_E_PARAM);
    bad.status = IMSSEC_SDP_AGREED;
    T_EQ_INT(imssec_sdp_keys_srtp(&bad, &p, k, &p, k), IMSSEC_E_PARAM);
    /* a policy that cannot make an Annex E offer */
    {
        static const int gcm[] = {IMSSEC_SRTP_AEAD_AES_128_GCM};
        v.pol.suites = gcm;
        v.pol.n_suites = 1;
        T_EQ_INT(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk,
                                     NULL),
                 IMSSEC_E_PARAM);
    }
}

