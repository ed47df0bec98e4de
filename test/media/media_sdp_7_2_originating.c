/*
 * media_sdp_7_2_originating.c -- the SDP procedures of TS 33.328 7.2 and 7.5
 * (media/sdp.c), UE originating: the P-CSCF (IMS-ALG) rewrites for e2ae,
 * the UE offer / answer for e2ae and e2e, emergency sessions, the hop rule.
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
 * 7.2.1 at the IMS-ALG, hand-written: the UE's offer (step 1) with an e2ae
 * audio stream and an e2e video stream; what goes to the S-CSCF (step 3);
 * the core's answer (step 6) and what goes back to the UE (step 8).
 * ------------------------------------------------------------------------ */

/* Step 1: two SDES attributes and the indication on the audio stream; the
 * first one asks for UNENCRYPTED_SRTP, which the policy does not accept,
 * so the second one is the one selected.  The video stream is e2e (7.2.2:
 * SRTP, no indication). */
static const char UE_OFFER_1[] =
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
    "s=-\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 49170 RTP/SAVP 96 97\n"
    "b=AS:41\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=rtpmap:97 telephone-event/16000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA " UNENCRYPTED_SRTP\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KC "\n"
    "a=3ge2ae:requested\n"
    "a=sendrecv\n"
    "m=video 49172 RTP/SAVPF 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KD "|2^31\n"
    "a=rtcp-fb:98 nack\n";

/* Step 3: "changes the transport from SRTP to RTP ... removes all received
 * SDES crypto attributes and the indication" -- in the audio section only;
 * the video section is the input's, byte for byte. */
static const char CORE_OFFER_1[] =
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
    "s=-\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 49170 RTP/AVP 96 97\n"
    "b=AS:41\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=rtpmap:97 telephone-event/16000\n"
    "a=sendrecv\n"
    "m=video 49172 RTP/SAVPF 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KD "|2^31\n"
    "a=rtcp-fb:98 nack\n";

/* Step 6: the terminating side answered audio with plain RTP and video e2e
 * with its own SDES key. */
static const char CORE_ANSWER_1[] =
    "v=0\n"
    "o=bob 2808844564 2808844564 IN IP4 198.51.100.20\n"
    "s=-\n"
    "c=IN IP4 198.51.100.20\n"
    "t=0 0\n"
    "m=audio 3456 RTP/AVP 96\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=sendrecv\n"
    "m=video 3458 RTP/SAVPF 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KE "\n";

/* Step 8: "change the transport from RTP to SRTP in the SDP Answer and
 * includes the SDES crypto attribute created in step 7" (K12: tag 2 and
 * suite as selected, the key made of 0x42, no lifetime), appended at the
 * end of the audio section. */
static const char UE_ANSWER_1[] =
    "v=0\n"
    "o=bob 2808844564 2808844564 IN IP4 198.51.100.20\n"
    "s=-\n"
    "c=IN IP4 198.51.100.20\n"
    "t=0 0\n"
    "m=audio 3456 RTP/SAVP 96\n"
    "a=rtpmap:96 AMR-WB/16000\n"
    "a=sendrecv\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KB "\n"
    "m=video 3458 RTP/SAVPF 98\n"
    "a=rtpmap:98 H264/90000\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KE "\n";

static void orig_offer_answer(int use_crlf)
{
    static const int only32[] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32,
                                 IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80};
    env v;
    const char *in, *want;
    size_t n = 0, nk = 0, i;
    imssec_srtp_params rx, tx;
    imssec_srtp_key rxk[IMSSEC_SRTP_KEYS_MAX], txk[IMSSEC_SRTP_KEYS_MAX];
    char line[200];
    env_init(&v, 0x42, IMSSEC_SDP_REG_E2AE);
    v.pol.suites = only32;
    in = use_crlf ? crlf(UE_OFFER_1, g_buf[0], sizeof g_buf[0]) : UE_OFFER_1;
    want = use_crlf ? crlf(CORE_OFFER_1, g_buf[1], sizeof g_buf[1]) : CORE_OFFER_1;
    T_OK(imssec_sdp_alg_orig_offer(S(in), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, want);
    T_EQ_UINT(nk, 1);
    T_EQ_UINT(g_k1[0].m_index, 0);
    T_EQ_INT(g_k1[0].mode, IMSSEC_SDP_MODE_E2AE);
    T_EQ_INT(g_k1[0].status, IMSSEC_SDP_OFFERED);
    T_EQ_INT(g_k1[0].avpf, 0);
    /* K11: the selected attribute -- tag 2, the key and salt of 0x43 */
    T_EQ_UINT(g_k1[0].remote.tag, 2);
    T_EQ_INT(g_k1[0].remote.suite, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32);
    for (i = 0; i < 16; i++)
        T_EQ_UINT(g_k1[0].remote.keys[0].key[i], 0x43);
    /* K12, prepared for step 7 */
    T_EQ_UINT(g_k1[0].n_local, 1);
    T_OK(imssec_sdes_build(&g_k1[0].local[0], line, sizeof line, &n));
    T_EQ_SLICE(line, n, "2 AES_CM_128_HMAC_SHA1_32 inline:" KB);
    T_EQ_UINT(v.r.calls, 2); /* one key and its salt */
    /* steps 7, 8 */
    in = use_crlf ? crlf(CORE_ANSWER_1, g_buf[2], sizeof g_buf[2]) : CORE_ANSWER_1;
    want = use_crlf ? crlf(UE_ANSWER_1, g_buf[3], sizeof g_buf[3]) : UE_ANSWER_1;
    T_OK(imssec_sdp_alg_orig_answer(S(in), &v.o, g_k1, nk, g_out, sizeof g_out, &n, &v.e));
    T_EQ_SLICE(g_out, n, want);
    T_EQ_INT(g_k1[0].status, IMSSEC_SDP_AGREED);
    T_EQ_UINT(v.r.calls, 2);
    /* step 7: the IMS Access GW checks / decrypts with K11, protects with
     * K12, default lifetimes */
    T_OK(imssec_sdp_keys_srtp(&g_k1[0], &rx, rxk, &tx, txk));
    T_EQ_INT(rx.dir, IMSSEC_SRTP_INBOUND);
    T_EQ_INT(rx.suite, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32);
    T_EQ_UINT(rx.key_count, 1);
    T_EQ_HEX(rxk[0].key, 16, "43434343434343434343434343434343");
    T_EQ_UINT(rxk[0].srtp_lifetime, 0);
    T_EQ_INT(tx.dir, IMSSEC_SRTP_OUTBOUND);
    T_EQ_HEX(txk[0].key, 16, "42424242424242424242424242424242");
    T_EQ_HEX(txk[0].salt, 14, "4242424242424242424242424242");
    imssec_sdp_keys_wipe(g_k1, nk);
}

T_TEST(media_33328_7_2_1_imsalg_offer_answer_lf)
{
    orig_offer_answer(0);
}

T_TEST(media_33328_7_2_1_imsalg_offer_answer_crlf)
{
    orig_offer_answer(1);
}

/* ---------------------------------------------------------------------------
 * 7.2.2 and what the IMS-ALG must not touch.
 * ------------------------------------------------------------------------ */

/* e2e SRTP without the indication, plain RTP, an indicator value that is
 * neither requested nor applied ("ignored", TS 24.229 7.5.2), e2ae asked
 * for an RTP/AVP stream (7.2.1 step 2 looks at SRTP only), MSRP (not this
 * code's), and a disabled stream: byte for byte through. */
static const char OFFER_UNTOUCHED[] =
    "v=0\r\n"
    "o=alice 1 1 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "a=3ge2ae:requested\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/SAVP 0\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\r\n"
    "m=audio 49172 RTP/AVP 0\n"
    "a=3ge2ae:requested\n"
    "m=video 49174 RTP/SAVPF 98\r\n"
    "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" KB "|2^20|1:4\r\n"
    "a=3ge2ae:requestedx\r\n"
    "m=message 49176 TCP/TLS/MSRP *\r\n"
    "a=3ge2ae:requested\r\n"
    "a=fingerprint:SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n"
    "m=audio 0 RTP/AVP 0\r\n";

T_TEST(media_33328_7_2_2_imsalg_sections_without_indication_untouched)
{
    env v;
    size_t n = 0, nk = 9;
    env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE);
    T_OK(imssec_sdp_alg_orig_offer(S(OFFER_UNTOUCHED), &v.o, g_out, sizeof g_out, &n, g_k1, 4,
                                   &nk, &v.e));
    T_EQ_SLICE(g_out, n, OFFER_UNTOUCHED);
    T_EQ_UINT(nk, 0);
    T_EQ_UINT(v.r.calls, 0);
    /* no key is put into SDP, so the hop does not matter; nor does the
     * registration */
    v.pol.hop_confidential = 0;
    v.o.flags = 0;
    T_OK(imssec_sdp_alg_orig_offer(S(OFFER_UNTOUCHED), &v.o, g_out, sizeof g_out, &n, NULL, 0,
                                   &nk, &v.e));
    T_EQ_SLICE(g_out, n, OFFER_UNTOUCHED);
    /* the same text as an answer with nothing to do, and at the UE */
    T_OK(imssec_sdp_alg_orig_answer(S(OFFER_UNTOUCHED), &v.o, NULL, 0, g_out, sizeof g_out, &n,
                                    &v.e));
    T_EQ_SLICE(g_out, n, OFFER_UNTOUCHED);
    T_OK(imssec_sdp_ue_offer(S(OFFER_UNTOUCHED), &v.o, g_out, sizeof g_out, &n, NULL, 0, &nk,
                             &v.e));
    T_EQ_SLICE(g_out, n, OFFER_UNTOUCHED);
}

/* 7.3.1, last paragraph: "A P-CSCF (IMS-ALG) supporting e2ae-security
 * shall remove any indication "e2ae-security offered by network" if
 * inserted in a SIP message by another party" -- from a UE's offer too;
 * nothing else of those sections changes. */
T_TEST(media_33328_7_3_1_imsalg_removes_foreign_applied)
{
    static const char in[] =
        "v=0\n"
        "o=alice 1 1 IN IP4 192.0.2.10\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 49170 RTP/SAVP 0\n"
        "a=3ge2ae:applied\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
        "a=3GE2AE:Applied\n"
        "a=sendrecv\n";
    static const char want[] =
        "v=0\n"
        "o=alice 1 1 IN IP4 192.0.2.10\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 49170 RTP/SAVP 0\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
        "a=sendrecv\n";
    env v;
    size_t n = 0, nk = 0;
    env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE);
    T_OK(imssec_sdp_alg_orig_offer(S(in), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, want);
    T_EQ_UINT(nk, 0);
    /* the UE does not filter its own peer's SDP */
    T_OK(imssec_sdp_ue_offer(S(in), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, in);
}

/* Names and indicators are ABNF strings (RFC 5234 2.3: case-insensitive);
 * a=CRYPTO must not slip through to the core with its key.  The proto is
 * recognised in any case and written in the registry's. */
T_TEST(media_33328_7_2_1_names_case_insensitive)
{
    static const char in[] =
        "v=0\n"
        "o=- 1 1 IN IP4 192.0.2.10\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 49170 rtp/savp 0\n"
        "a=CRYPTO:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
        "a=Crypto\n"
        "a=3GE2AE:ReQuested\n";
    static const char want[] =
        "v=0\n"
        "o=- 1 1 IN IP4 192.0.2.10\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 49170 RTP/AVP 0\n";
    env v;
    size_t n = 0, nk = 0;
    env_init(&v, 0x42, IMSSEC_SDP_REG_E2AE);
    T_OK(imssec_sdp_alg_orig_offer(S(in), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, want);
    T_EQ_UINT(nk, 1);
    T_EQ_UINT(g_k1[0].remote.keys[0].key[0], 0x41);
}

/* ---------------------------------------------------------------------------
 * Refusals: 6.2.1.2, 7.2.1 NOTE 2a, RFC 4568 7.1.2.
 * ------------------------------------------------------------------------ */

/* Every function that would put a key into SDP refuses when the hop to the
 * UE has no confidentiality, before it creates or writes anything. */
T_TEST(media_33328_6_2_1_2_key_over_insecure_hop_refused)
{
    env v;
    size_t n = 77, nk = 77;
    unsigned char snap[sizeof g_k1];
    memset(g_out, '#', sizeof g_out);
    memset(g_k1, 0x5c, sizeof g_k1);
    memcpy(snap, g_k1, sizeof g_k1);
    env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE);
    v.pol.hop_confidential = 0;
#define REFUSED(call)                                                          \
    do {                                                                       \
        memset(&v.e, 0, sizeof v.e);                                           \
        T_EQ_INT((call), IMSSEC_E_INSECURE);                                   \
        T_ASSERT(v.e.clause && strstr(v.e.clause, "6.2.1.2"));                 \
        T_EQ_UINT(n, 77);                                                      \
        T_EQ_UINT(nk, 77);                                                     \
        T_ASSERT(g_out[0] == '#' && g_out[sizeof g_out - 1] == '#');           \
        T_ASSERT(memcmp(g_k1, snap, sizeof g_k1) == 0);                        \
        T_EQ_UINT(v.r.calls, 0);                                               \
    } while (0)
    /* 7.2.1: the IMS-ALG would answer the UE with K12 */
    REFUSED(imssec_sdp_alg_orig_offer(S(UE_OFFER_E2AE), &v.o, g_out, sizeof g_out, &n, g_k1, 4,
                                      &nk, &v.e));
    /* 7.3.1: K21 towards the UE */
    REFUSED(imssec_sdp_alg_term_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk,
                                      &v.e));
    /* the UE's own offer, e2ae and e2e */
    REFUSED(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    v.o.flags = IMSSEC_SDP_WANT_E2E;
    REFUSED(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    /* the UE answering an SDES offer */
    REFUSED(imssec_sdp_ue_answer(S(UE_OFFER_E2AE), S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n,
                                 g_k1, 4, &nk, &v.e));
    /* the answer step: keys made over a protected hop, answer over none */
    {
        env ok;
        size_t m = 0, mk = 0;
        env_init(&ok, 0x45, IMSSEC_SDP_REG_E2AE);
        T_OK(imssec_sdp_alg_orig_offer(S(UE_OFFER_E2AE), &ok.o, g_out2, sizeof g_out2, &m, g_k3,
                                       4, &mk, &ok.e));
        T_EQ_UINT(mk, 2);
        memcpy(snap, g_k3, sizeof g_k3);
        ok.pol.hop_confidential = 0;
        memset(&ok.e, 0, sizeof ok.e);
        T_EQ_INT(imssec_sdp_alg_orig_answer(S(CORE_ANSWER_2), &ok.o, g_k3, 2, g_out, sizeof g_out,
                                            &n, &ok.e),
                 IMSSEC_E_INSECURE);
        T_ASSERT(ok.e.clause && strstr(ok.e.clause, "6.2.1.2"));
        T_ASSERT(memcmp(g_k3, snap, sizeof g_k3) == 0 && g_out[0] == '#' && n == 77);
        /* a test network may allow it */
        ok.pol.allow_insecure_hop = 1;
        T_OK(imssec_sdp_alg_orig_answer(S(CORE_ANSWER_2), &ok.o, g_k3, 2, g_out, sizeof g_out, &n,
                                        &ok.e));
        imssec_sdp_keys_wipe(g_k3, 4);
    }
#undef REFUSED
}

/* 7.2.1 NOTE 2a: "If an indication for e2ae security ... is present in an
 * SDP offer but the support for e2ae security ... was not successfully
 * established during registration then this is an error case."  And a
 * section with nothing acceptable (RFC 4568 7.1.2): refused, the section
 * named. */
T_TEST(media_33328_7_2_1_note2a_and_no_acceptable_crypto)
{
    static const char two[] =
        "v=0\n"
        "o=- 1 1 IN IP4 192.0.2.10\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 49170 RTP/SAVP 0\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\n"
        "a=3ge2ae:requested\n"
        "m=video 49172 RTP/SAVP 98\n"
        "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" KA KA "AA\n"
        "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:short\n"
        "a=3ge2ae:requested\n";
    env v;
    size_t n = 5, nk = 5;
    env_init(&v, 0x41, 0);
    memset(g_out, '#', 16);
    T_EQ_INT(imssec_sdp_alg_orig_offer(S(two), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e),
             IMSSEC_E_STATE);
    T_EQ_INT(v.e.sip_status, 488);
    T_EQ_UINT(v.e.item_index, 0);
    T_ASSERT(v.e.clause && strstr(v.e.clause, "NOTE 2a"));
    v.o.flags = IMSSEC_SDP_REG_E2AE;
    memset(&v.e, 0, sizeof v.e);
    T_EQ_INT(imssec_sdp_alg_orig_offer(S(two), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e),
             IMSSEC_E_SDES_REJECT);
    T_EQ_UINT(v.e.item_index, 1);
    T_EQ_UINT(v.e.offset, (size_t)(strstr(two, "m=video") - two));
    T_EQ_INT(v.e.sip_status, 488);
    T_ASSERT(g_out[0] == '#' && n == 5 && nk == 5);
    T_EQ_UINT(v.r.calls, 0);
}

/* ---------------------------------------------------------------------------
 * The UE: e2e (7.2.2), emergency (7.5).
 * ------------------------------------------------------------------------ */


/* 7.2.1: e2ae "unless the IMS UE initiates a procedure for e2e security":
 * with WANT_E2E the offer carries SDES and no indication (7.2.2 step 1:
 * "does not include any indication"); the peer's answer may give a
 * lifetime, which e2e keeps (Annex E: optional for e2e). */
T_TEST(media_33328_7_2_2_ue_offer_e2e_and_answer)
{
    static const char answer[] =
        "v=0\n"
        "o=bob 1 1 IN IP4 198.51.100.20\n"
        "s=-\n"
        "t=0 0\n"
        "m=audio 3456 RTP/SAVP 96\n"
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KE "|2^20\n"
        "m=video 0 RTP/SAVPF 98\n";
    env v;
    size_t n = 0, nk = 0;
    env_init(&v, 0x41, IMSSEC_SDP_REG_E2AE | IMSSEC_SDP_WANT_E2E);
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, UE_OFFER_E2E);
    T_EQ_UINT(nk, 2);
    T_EQ_INT(g_k1[0].mode, IMSSEC_SDP_MODE_E2E);
    T_OK(imssec_sdp_ue_check_answer(S(answer), g_k1, nk, &v.e));
    T_EQ_INT(g_k1[0].status, IMSSEC_SDP_AGREED);
    T_EQ_UINT(g_k1[0].local[0].tag, 2);
    T_EQ_UINT(g_k1[0].local[0].keys[0].key[0], 0x42);
    T_EQ_UINT(g_k1[0].remote.keys[0].lifetime, (uint64_t)1 << 20);
    T_EQ_INT(g_k1[1].status, IMSSEC_SDP_REJECTED); /* video refused: port 0 */
    {
        imssec_srtp_params rx, tx;
        imssec_srtp_key rk[IMSSEC_SRTP_KEYS_MAX], tk[IMSSEC_SRTP_KEYS_MAX];
        T_EQ_INT(imssec_sdp_keys_srtp(&g_k1[1], &rx, rk, &tx, tk), IMSSEC_E_STATE);
    }
    imssec_sdp_keys_wipe(g_k1, nk);
}

/* 7.5: "E2ae security procedures according to clause 7.2.1 shall be
 * applied to an emergency call set-up if and only if the registration
 * procedure ... has shown that both, IMS UE and network, support e2ae
 * security.  E2e security shall not be applied to emergency calls." */
T_TEST(media_33328_7_5_emergency_never_e2e)
{
    env v;
    size_t n = 0, nk = 9;
    env_init(&v, 0x41, IMSSEC_SDP_EMERGENCY | IMSSEC_SDP_WANT_E2E);
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, UE_DRAFT); /* no crypto added */
    T_EQ_UINT(nk, 0);
    T_EQ_UINT(v.r.calls, 0);
    /* e2ae registered: e2ae, even though the user asked for e2e */
    v.o.flags = IMSSEC_SDP_EMERGENCY | IMSSEC_SDP_WANT_E2E | IMSSEC_SDP_REG_E2AE;
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, UE_OFFER_E2AE);
    T_EQ_INT(g_k1[0].mode, IMSSEC_SDP_MODE_E2AE);
    /* not emergency, not registered, no wish: plain */
    v.o.flags = 0;
    T_OK(imssec_sdp_ue_offer(S(UE_DRAFT), &v.o, g_out, sizeof g_out, &n, g_k1, 4, &nk, &v.e));
    T_EQ_SLICE(g_out, n, UE_DRAFT);
    T_EQ_UINT(nk, 0);
    imssec_sdp_keys_wipe(g_k1, 4);
}

/* 7.2.1 end to end: the UE's offer, the IMS-ALG, the core's plain answer,
 * the IMS-ALG again, the UE; then SRTP between the UE and the access
 * gateway with the keys both ends were given. */
T_TEST(media_33328_7_2_1_end_to_end_ue_alg_core_srtp)
{
    env ue, alg;
    size_t nu = 0, ng = 0, i;
    orig_chain(&ue, &alg, &nu, &ng);
    T_EQ_UINT(ng, 2);
    for (i = 0; i < 2; i++) {
        /* the GW's K11 is the UE's key, its K12 the UE's remote */
        T_ASSERT(imssec_ct_equal(g_k3[i].remote.keys[0].key, g_k2[i].local[0].keys[0].key, 16));
        T_ASSERT(imssec_ct_equal(g_k2[i].remote.keys[0].key, g_k3[i].local[0].keys[0].key, 16));
        T_EQ_UINT(g_k2[i].remote.keys[0].key[0], 0x45 + i);
        T_EQ_INT(srtp_both_ways(&g_k2[i], &g_k3[i], 0x11110000u + (uint32_t)i), 0);
    }
    /* the pairing matters: audio keys do not open video packets */
    T_ASSERT(srtp_both_ways(&g_k2[0], &g_k3[1], 7) != 0);
    imssec_sdp_keys_wipe(g_k2, nu);
    imssec_sdp_keys_wipe(g_k3, ng);
}
