/*
 * media_sdes.c -- SDES (RFC 4568, TS 33.328 Annex E): the a=crypto parser
 * and builder, offer / answer, and SRTP sessions keyed from it.  Truths:
 * the RFC 4568 section 4 example (its key||salt decoded independently with
 * Python's base64: 3d2d6e40255e7821426a75667239293f / 2c2335685c603d265d7b
 * 71695051), the RFC grammar, and two SRTP sessions keyed from an offer
 * and its answer that exchange packets.
 */
#include "../../imssec.h"
#include "../t.h"

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

static imssec_str S(const char *s)
{
    return imssec_cstr(s);
}

/* RFC 4568 section 4's example, field by field. */
T_TEST(media_rfc4568_4_example)
{
    imssec_sdes_crypto c;
    char out[200];
    size_t n = 0;
    T_OK(imssec_sdes_parse(
        S("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"),
        &c, NULL));
    T_EQ_UINT(c.tag, 1);
    T_EQ_INT(c.suite, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80);
    T_EQ_UINT(c.n_keys, 1);
    T_EQ_HEX(c.keys[0].key, 16, "3d2d6e40255e7821426a75667239293f");
    T_EQ_HEX(c.keys[0].salt, 14, "2c2335685c603d265d7b71695051");
    T_EQ_UINT(c.keys[0].lifetime, 1u << 20);
    T_EQ_UINT(c.keys[0].mki_len, 4);
    T_EQ_HEX(c.keys[0].mki, 4, "00000001");
    T_EQ_UINT(c.flags, 0);
    /* the builder writes the same line back */
    T_OK(imssec_sdes_build(&c, out, sizeof out, &n));
    T_EQ_SLICE(out, n, "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4");
    imssec_sdes_wipe(&c);
}

/* RFC 4568 9.1 / 9.2 and the parser failure modes found in deployed
 * stacks: tag 0 and leading zeros, over-long keys, lifetime and MKI
 * checked (not ignored), more keys than fit, several keys without MKI,
 * session parameters understood or refused. */
T_TEST(media_rfc4568_9_grammar_edges)
{
    static const struct {
        const char *line;
        int rc;
    } cases[] = {
        {"0 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_OK},
        {"007 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_OK},
        {"999999999 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_OK},
        {"1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_E_SYNTAX},
        {"x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRAAAA", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^49", IMSSEC_E_RANGE},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1000", IMSSEC_OK},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|0", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:0", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:129", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|256:1", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|255:1", IMSSEC_OK},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4|2^20", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR;"
         "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4;"
         "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2:2", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4;"
         "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2:4", IMSSEC_OK},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=0", IMSSEC_E_UNSUPPORTED},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=25", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR FOO", IMSSEC_E_UNSUPPORTED},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR -FOO=1", IMSSEC_OK},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR FEC_KEY=inline:x", IMSSEC_E_UNSUPPORTED},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR WSH=63", IMSSEC_E_SYNTAX},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR WSH=256 UNENCRYPTED_SRTCP", IMSSEC_OK},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR ", IMSSEC_E_SYNTAX},
        {"1  AES_CM_128_HMAC_SHA1_80\tinline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_OK},
        {"1 AES_CM_128_HMAC_SHA1_80", IMSSEC_E_SYNTAX},
        {"1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", IMSSEC_E_UNSUPPORTED},
        {"1 AES_CM_128_HMAC_SHA1_80 uri:https://kms.example/k", IMSSEC_E_UNSUPPORTED},
        {"1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw== UNENCRYPTED_SRTP", IMSSEC_E_UNSUPPORTED},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imssec_sdes_crypto c;
        imssec_errinfo e;
        int rc;
        memset(&c, 0x5a, sizeof c);
        memset(&e, 0, sizeof e);
        rc = imssec_sdes_parse(S(cases[i].line), &c, &e);
        if (rc != cases[i].rc)
            t_fail_(__FILE__, __LINE__, "case %zu \"%s\": %d, want %d (%s)", i, cases[i].line, rc,
                    cases[i].rc, e.what ? e.what : "");
        if (rc != IMSSEC_OK && (c.tag != 0x5a5a5a5au || e.what == NULL))
            t_fail_(__FILE__, __LINE__, "case %zu: refused but out written or no reason", i);
    }
    {
        imssec_sdes_crypto c;
        T_OK(imssec_sdes_parse(S(cases[1].line), &c, NULL));
        T_EQ_UINT(c.tag, 7);
        T_OK(imssec_sdes_parse(S(cases[21].line), &c, NULL));
        T_EQ_UINT(c.n_ignored, 1);
        T_OK(imssec_sdes_parse(S(cases[24].line), &c, NULL));
        T_EQ_UINT(c.wsh, 256);
        T_EQ_UINT(c.flags, IMSSEC_SRTP_UNENCRYPTED_SRTCP);
        T_OK(imssec_sdes_parse(S(cases[13].line), &c, NULL));
        T_EQ_HEX(c.keys[0].mki, 1, "ff");
    }
}

/* Build then parse: every field survives (lifetimes as 2^n and decimal,
 * a 16-byte MKI, several keys, session flags, AES-256 and GCM keys). */
T_TEST(media_rfc4568_build_parse_roundtrip)
{
    int round;
    for (round = 0; round < 200; round++) {
        imssec_sdes_crypto c, d;
        char out[1024];
        size_t n = 0, k;
        memset(&c, 0, sizeof c);
        c.tag = (uint32_t)(t_rand64() % 1000000000u);
        c.suite = (int)(t_rand64() % IMSSEC_SRTP_SUITE_UNKNOWN);
        c.n_keys = 1 + (size_t)(t_rand64() % IMSSEC_SRTP_KEYS_MAX);
        for (k = 0; k < c.n_keys; k++) {
            t_randbytes(c.keys[k].key, imssec_srtp_suite_key_len(c.suite));
            t_randbytes(c.keys[k].salt, imssec_srtp_suite_salt_len(c.suite));
            c.keys[k].lifetime = (t_rand64() & 1) ? (uint64_t)1 << (t_rand64() % 49)
                                                  : 1 + t_rand64() % IMSSEC_SRTP_LIFETIME_MAX;
            if (c.n_keys > 1 || (t_rand64() & 1)) {
                c.keys[k].mki_len = c.n_keys > 1 && k ? c.keys[0].mki_len
                                                      : 1 + (size_t)(t_rand64() % IMSSEC_SRTP_MKI_MAX);
                t_randbytes(c.keys[k].mki, c.keys[k].mki_len);
            }
        }
        if (c.suite < IMSSEC_SRTP_AEAD_AES_128_GCM)
            c.flags = (unsigned)(t_rand64() % 8);
        else
            c.flags = (unsigned)(t_rand64() % 2) * IMSSEC_SRTP_UNENCRYPTED_SRTCP;
        T_OK(imssec_sdes_build(&c, out, sizeof out, &n));
        T_OK(imssec_sdes_parse(T_S(out, n), &d, NULL));
        T_EQ_UINT(d.tag, c.tag);
        T_EQ_INT(d.suite, c.suite);
        T_EQ_UINT(d.n_keys, c.n_keys);
        T_EQ_UINT(d.flags, c.flags);
        for (k = 0; k < c.n_keys; k++) {
            T_EQ_MEM(d.keys[k].key, c.keys[k].key, imssec_srtp_suite_key_len(c.suite));
            T_EQ_MEM(d.keys[k].salt, c.keys[k].salt, imssec_srtp_suite_salt_len(c.suite));
            T_EQ_UINT(d.keys[k].lifetime, c.keys[k].lifetime);
            T_EQ_UINT(d.keys[k].mki_len, c.keys[k].mki_len);
            T_EQ_MEM(d.keys[k].mki, c.keys[k].mki, c.keys[k].mki_len);
        }
    }
}

static const imssec_io sd_io = {NULL, t_io_random, NULL, NULL};

/* RFC 4568 7.1.2 with Annex E: the answerer takes the first offered
 * attribute it can run -- unparsable, unknown and unwanted ones skipped, a
 * long offer (100 lines: no fixed array) fine -- and answers with the same
 * tag and flags and its own key; no confidentiality on the hop: refused. */
T_TEST(media_rfc4568_7_1_2_answerer_choice)
{
    static const int suites[] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80,
                                 IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32};
    static char many[100][120];
    imssec_str offer[100];
    imssec_sdes_policy pol;
    imssec_sdes_crypto chosen, answer;
    size_t idx = 99, i;
    imssec_errinfo e;
    offer[0] = S("1 AES_CM_128_HMAC_SHA1_80 inline:bad!");
    offer[1] = S("2 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    offer[2] = S("3 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRPS1uQCVeeCFCanVmcjkpPywj");
    offer[3] = S("4 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP");
    offer[4] = S("5 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTCP");
    offer[5] = S("6 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    memset(&pol, 0, sizeof pol);
    pol.suites = suites;
    pol.n_suites = 2;
    pol.flags_ok = IMSSEC_SRTP_UNENCRYPTED_SRTCP;
    memset(&e, 0, sizeof e);
    T_EQ_INT(imssec_sdes_answer(offer, 6, &pol, &sd_io, &chosen, &answer, &idx, &e),
             IMSSEC_E_INSECURE);
    T_ASSERT(e.clause && strstr(e.clause, "6.2.1.2"));
    pol.hop_confidential = 1;
    T_OK(imssec_sdes_answer(offer, 6, &pol, &sd_io, &chosen, &answer, &idx, NULL));
    T_EQ_UINT(idx, 4);
    T_EQ_UINT(answer.tag, 5);
    T_EQ_INT(answer.suite, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32);
    T_EQ_UINT(answer.flags, IMSSEC_SRTP_UNENCRYPTED_SRTCP);
    T_EQ_UINT(answer.n_keys, 1);
    T_EQ_UINT(answer.keys[0].lifetime, 0);
    T_EQ_UINT(answer.keys[0].mki_len, 0);
    T_ASSERT(memcmp(answer.keys[0].key, chosen.keys[0].key, 16) != 0);
    /* nothing acceptable */
    T_EQ_INT(imssec_sdes_answer(offer, 4, &pol, &sd_io, &chosen, &answer, &idx, NULL),
             IMSSEC_E_SDES_REJECT);
    /* a long offer: the last line is the only acceptable one */
    for (i = 0; i < 100; i++) {
        snprintf(many[i], sizeof many[i], "%u AES_256_CM_HMAC_SHA1_32 inline:x", (unsigned)i);
        offer[i] = S(many[i]);
    }
    snprintf(many[99], sizeof many[99],
             "77 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    offer[99] = S(many[99]);
    T_OK(imssec_sdes_answer(offer, 100, &pol, &sd_io, &chosen, &answer, &idx, NULL));
    T_EQ_UINT(idx, 99);
    T_EQ_UINT(answer.tag, 77);
}

/* RFC 4568 7.1.3: the offerer accepts exactly one attribute with an
 * offered tag, the same suite and flags. */
T_TEST(media_rfc4568_7_1_3_offerer_checks_answer)
{
    imssec_sdes_policy pol;
    imssec_sdes_crypto offer[4], got;
    imssec_str ans[2];
    size_t n = 0, idx = 9;
    static const int suites[] = {IMSSEC_SRTP_AEAD_AES_128_GCM, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80};
    memset(&pol, 0, sizeof pol);
    pol.suites = suites;
    pol.n_suites = 1;
    pol.hop_confidential = 1;
    T_EQ_INT(imssec_sdes_offer(&pol, &sd_io, offer, 4, &n, NULL), IMSSEC_E_PARAM); /* Annex E */
    pol.n_suites = 2;
    T_OK(imssec_sdes_offer(&pol, &sd_io, offer, 4, &n, NULL));
    T_EQ_UINT(n, 2);
    T_EQ_UINT(offer[1].tag, 2);
    ans[0] = S("2 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    ans[1] = S("1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==");
    T_EQ_INT(imssec_sdes_match(offer, n, ans, 2, &got, &idx, NULL), IMSSEC_E_SDES_REJECT);
    T_EQ_INT(imssec_sdes_match(offer, n, ans, 0, &got, &idx, NULL), IMSSEC_E_SDES_REJECT);
    T_OK(imssec_sdes_match(offer, n, ans, 1, &got, &idx, NULL));
    T_EQ_UINT(idx, 1);
    ans[0] = S("3 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    T_EQ_INT(imssec_sdes_match(offer, n, ans, 1, &got, &idx, NULL), IMSSEC_E_SDES_REJECT);
    ans[0] = S("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    T_EQ_INT(imssec_sdes_match(offer, n, ans, 1, &got, &idx, NULL), IMSSEC_E_SDES_REJECT);
    ans[0] = S("2 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP");
    T_EQ_INT(imssec_sdes_match(offer, n, ans, 1, &got, &idx, NULL), IMSSEC_E_SDES_REJECT);
}

/* An offer, its answer, and SRTP both ways keyed from them: the offerer's
 * outbound session from its own attribute talks to the answerer's inbound
 * session from the same attribute, and back with the answer's key. */
T_TEST(media_sdes_keys_srtp_both_ways)
{
    imssec_sdes_policy pol;
    imssec_sdes_crypto offer[1], chosen, answer, got;
    imssec_srtp_params p;
    imssec_srtp_key keys[IMSSEC_SRTP_KEYS_MAX];
    static imssec_srtp_session s[4];
    static imssec_srtp_stream st[4][2];
    char line[200], aline[200];
    imssec_str l, al;
    size_t n = 0, ln = 0, aln = 0, idx = 0, k, len = 0;
    uint8_t pkt[200], orig[172];
    imssec_srtp_rx rx;
    memset(&pol, 0, sizeof pol);
    pol.hop_confidential = 1;
    T_OK(imssec_sdes_offer(&pol, &sd_io, offer, 1, &n, NULL));
    T_OK(imssec_sdes_build(&offer[0], line, sizeof line, &ln));
    l = T_S(line, ln);
    T_OK(imssec_sdes_answer(&l, 1, &pol, &sd_io, &chosen, &answer, &idx, NULL));
    T_OK(imssec_sdes_build(&answer, aline, sizeof aline, &aln));
    al = T_S(aline, aln);
    T_OK(imssec_sdes_match(offer, 1, &al, 1, &got, &idx, NULL));
    /* s0: offerer out, s1: answerer in (the offer's key); s2: answerer out,
     * s3: offerer in (the answer's key) */
    T_OK(imssec_sdes_srtp_params(&offer[0], IMSSEC_SRTP_OUTBOUND, &p, keys));
    p.auto_streams = 1;
    T_OK(imssec_srtp_session_setup(&s[0], &p, st[0], 2, NULL));
    T_OK(imssec_sdes_srtp_params(&chosen, IMSSEC_SRTP_INBOUND, &p, keys));
    p.auto_streams = 1;
    T_OK(imssec_srtp_session_setup(&s[1], &p, st[1], 2, NULL));
    T_OK(imssec_sdes_srtp_params(&answer, IMSSEC_SRTP_OUTBOUND, &p, keys));
    p.auto_streams = 1;
    T_OK(imssec_srtp_session_setup(&s[2], &p, st[2], 2, NULL));
    T_OK(imssec_sdes_srtp_params(&got, IMSSEC_SRTP_INBOUND, &p, keys));
    p.auto_streams = 1;
    T_OK(imssec_srtp_session_setup(&s[3], &p, st[3], 2, NULL));
    for (k = 0; k < 2; k++) {
        imssec_srtp_session *tx = &s[k * 2], *rxs = &s[k * 2 + 1];
        t_randbytes(orig, sizeof orig);
        orig[0] = 0x80;
        orig[1] = 0;
        memcpy(pkt, orig, sizeof orig);
        T_OK(imssec_srtp_protect(tx, pkt, sizeof orig, sizeof pkt, &len, NULL));
        T_ASSERT(memcmp(pkt + 12, orig + 12, sizeof orig - 12) != 0);
        T_OK(imssec_srtp_unprotect(rxs, pkt, len, &len, &rx, NULL));
        T_EQ_UINT(len, sizeof orig);
        T_EQ_MEM(pkt, orig, sizeof orig);
    }
    for (k = 0; k < 4; k++)
        imssec_srtp_session_wipe(&s[k]);
}
