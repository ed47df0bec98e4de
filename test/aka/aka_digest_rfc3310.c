/*
 * aka_digest_rfc3310.c -- IMS AKA inside HTTP digest (RFC 3310, AKAv2 RFC
 * 4169): the passwords, a binary RES, the UE's answers through the
 * provider (IMSSEC_E_SPACE and refusals never consume the challenge; sync
 * failure carries auts=; MAC failure is the REGISTER of TS 33.203 6.1.2.2),
 * hostile nonces, and the S-CSCF verifying with XRES end to end.
 * mbedTLS is the reference for the hashes.
 */

#include "aka_fixture.h"

#include <mbedtls/md.h>

/* ---- digest + AKA (RFC 3310) ---------------------------------------------- */

typedef struct aka_env {
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_soft soft;
    imssec_aka_provider prov;
    imssec_aka_vector v;
    char hdr[256];
    imssec_digest_challenge ch[1];
    imssec_digest_request rq;
} aka_env;

static int aka_env_init(aka_env *e, uint64_t net_sqn, uint64_t ue_sqn)
{
    static const uint8_t amf[2] = {0x80, 0x00};
    uint8_t rand[16] = {0x11, 0x22};
    char nonce[128];
    size_t nl, n = 0;
    int rc;
    mk_m(&e->m);
    imssec_aka_sqn_init(&e->st);
    if (ue_sqn && (rc = imssec_aka_sqn_record(&e->st, ue_sqn)) != IMSSEC_OK)
        return rc;
    e->soft.milenage = &e->m;
    e->soft.sqn = &e->st;
    e->soft.policy = 0;
    imssec_aka_soft_provider(&e->prov, &e->soft);
    if ((rc = imssec_aka_vector_gen(&e->m, NULL, rand, net_sqn, amf, &e->v)) != IMSSEC_OK)
        return rc;
    if ((rc = imssec_aka_nonce_encode(e->v.rand, e->v.autn, NULL, 0, 1, nonce, sizeof nonce,
                                      &nl)) != IMSSEC_OK)
        return rc;
    snprintf(e->hdr, sizeof e->hdr,
             "Digest realm=\"ims.example.com\", nonce=\"%.*s\", algorithm=AKAv1-MD5, qop=\"auth\"",
             (int)nl, nonce);
    if ((rc = imssec_digest_challenge_parse(T_S(e->hdr, strlen(e->hdr)), e->ch, 1, &n, NULL)) != IMSSEC_OK)
        return rc;
    memset(&e->rq, 0, sizeof e->rq);
    e->rq.username.p = "user@ims.example.com", e->rq.username.n = 20;
    e->rq.method.p = "REGISTER", e->rq.method.n = 8;
    e->rq.uri.p = "sip:ims.example.com", e->rq.uri.n = 19;
    e->rq.cnonce.p = "abcd", e->rq.cnonce.n = 4;
    e->rq.nc = 1;
    return IMSSEC_OK;
}

/* E_SPACE must not consume the challenge: "on any error ... object state
 * [is] left as they were".  Retrying with a big buffer must succeed, not
 * turn into a sync failure because the SQN was already accepted. */
T_TEST(aka_digest_rfc3310_respond_space_keeps_sqn)
{
    aka_env e;
    imssec_aka_result ar;
    imssec_digest_out dout;
    char out[1024], can[1024];
    size_t need = 0, len = 0;
    imssec_aka_sqn st0;
    int rc;
    T_EQ_INT(aka_env_init(&e, 0x41, 0), IMSSEC_OK);
    memcpy(&st0, &e.st, sizeof st0);
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    rc = imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, 10, &need);
    T_EQ_INT(rc, IMSSEC_E_SPACE);
    T_ASSERT(need > 10);
    if (memcmp(out, can, sizeof out) != 0)
        t_fail_(__FILE__, __LINE__, "E_SPACE wrote into out: \"%.10s\"", out);
    if (memcmp(&e.st, &st0, sizeof st0) != 0)
        t_fail_(__FILE__, __LINE__, "E_SPACE changed the SQN state (highest %llx)",
                (unsigned long long)imssec_aka_sqn_highest(&e.st));
    /* The size is checked before AUTHENTICATE, when the outcome is not
     * known, so the need is the larger answer: the sync-failure one, which
     * adds ", auts=\"<base64 of the 14-byte AUTS: 20 chars>\"" (RFC 3310
     * 3.4) = 29 characters.  Retrying with exactly that capacity works. */
    rc = imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, need, &len);
    T_EQ_INT(rc, IMSSEC_OK);
    T_EQ_UINT(len + 29, need);
    T_ASSERT(imssec_aka_sqn_highest(&e.st) == 0x41);
    /* the same challenge again is now a sync failure, and its answer fits
     * the reported capacity exactly */
    {
        size_t need2 = 0, len2 = 0;
        imssec_digest_credentials cr;
        memcpy(out, can, sizeof out);
        rc = imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, need - 1,
                                       &need2);
        T_EQ_INT(rc, IMSSEC_E_SPACE);
        T_EQ_UINT(need2, need);
        T_EQ_MEM(out, can, sizeof out);
        rc = imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, need, &len2);
        T_EQ_INT(rc, IMSSEC_E_SYNC_FAILURE);
        T_EQ_UINT(len2, need);
        T_EQ_INT(imssec_digest_credentials_parse(T_S(out, len2), &cr, NULL), IMSSEC_OK);
        T_EQ_UINT(cr.auts.n, 20);
    }
}

/* Refusals that do not depend on the AKA outcome (qop list with no known
 * option, no cnonce with qop) come before the provider runs: state
 * unchanged, nothing written, and the challenge still answers later. */
T_TEST(aka_digest_rfc3310_refusals_keep_sqn)
{
    aka_env e;
    imssec_aka_result ar;
    imssec_digest_out dout;
    char out[1024], can[1024];
    size_t len = 4242, n = 0;
    imssec_aka_sqn st0;
    imssec_digest_challenge odd[1];
    const char *q;
    T_EQ_INT(aka_env_init(&e, 0x41, 0), IMSSEC_OK);
    memcpy(&st0, &e.st, sizeof st0);
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    /* same nonce, qop="auth-conf" only */
    q = strstr(e.hdr, "qop=");
    T_ASSERT(q != NULL);
    {
        char h[300];
        snprintf(h, sizeof h, "%.*sqop=\"auth-conf\"", (int)(q - e.hdr), e.hdr);
        T_EQ_INT(imssec_digest_challenge_parse(T_S(h, strlen(h)), odd, 1, &n, NULL), IMSSEC_OK);
        T_EQ_INT(imssec_digest_aka_respond(&e.prov, &odd[0], &e.rq, &ar, &dout, out, sizeof out,
                                           &len), IMSSEC_E_UNSUPPORTED);
    }
    e.rq.cnonce.n = 0;
    T_EQ_INT(imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, sizeof out, &len),
             IMSSEC_E_PARAM);
    T_EQ_MEM(out, can, sizeof out);
    T_EQ_UINT(len, 4242);
    T_EQ_MEM(&e.st, &st0, sizeof st0);
    e.rq.cnonce.n = 4;
    T_EQ_INT(imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, sizeof out, &len),
             IMSSEC_OK);
}

/* Sync failure through the digest layer (RFC 3310 3.4): credentials carry
 * auts=base64(AUTS) and the network recovers SQN_MS from it. */
T_TEST(aka_6_1_3_sync_failure_register_auts)
{
    aka_env e;
    imssec_aka_result ar;
    imssec_digest_out dout;
    imssec_digest_credentials cr;
    char out[1024], auts_txt[64];
    uint8_t auts[16];
    size_t len = 0, al, bl;
    uint64_t sqn_ms = 0;
    T_EQ_INT(aka_env_init(&e, 0x41, 0x3e1), IMSSEC_OK);
    T_EQ_INT(imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, sizeof out, &len),
             IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_digest_credentials_parse(T_S(out, len), &cr, NULL), IMSSEC_OK);
    T_ASSERT(cr.auts.n > 0);
    T_EQ_INT(imssec_digest_unquote(cr.auts, auts_txt, sizeof auts_txt, &al), IMSSEC_OK);
    T_EQ_INT(imssec_base64_decode(T_S(auts_txt, al), auts, sizeof auts, &bl), IMSSEC_OK);
    T_EQ_UINT(bl, 14);
    T_EQ_INT(imssec_aka_auts_verify(&e.m, e.v.rand, auts, &sqn_ms), IMSSEC_OK);
    T_EQ_UINT(sqn_ms, 0x3e1);
    T_EQ_INT(cr.alg, IMSSEC_DIGEST_AKAV1_MD5);
}

/* MAC failure: the REGISTER "indicating a network authentication failure"
 * (TS 33.203 6.1.2.2, 7.3.1.2; RFC 3310 3.3; TS 24.229 5.1.1.5.3) is
 * written: the challenge's nonce, response="" and no auts (the S-CSCF
 * tells it from a sync failure by the missing auts); the SQN state is
 * unchanged. */
T_TEST(aka_6_1_2_2_mac_failure_register)
{
    aka_env e;
    imssec_aka_result ar;
    imssec_digest_out dout;
    char out[1024], can[1024], nonce[128];
    size_t len = 4242, nl, n = 0;
    imssec_aka_sqn st0;
    e.v.autn[0] = 0;
    T_EQ_INT(aka_env_init(&e, 0x41, 0), IMSSEC_OK);
    e.v.autn[15] ^= 1; /* corrupt MAC-A */
    T_EQ_INT(imssec_aka_nonce_encode(e.v.rand, e.v.autn, NULL, 0, 1, nonce, sizeof nonce, &nl),
             IMSSEC_OK);
    snprintf(e.hdr, sizeof e.hdr, "Digest realm=\"r\", nonce=\"%.*s\", algorithm=AKAv1-MD5",
             (int)nl, nonce);
    T_EQ_INT(imssec_digest_challenge_parse(T_S(e.hdr, strlen(e.hdr)), e.ch, 1, &n, NULL), IMSSEC_OK);
    memcpy(&st0, &e.st, sizeof st0);
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    T_EQ_INT(imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, sizeof out, &len),
             IMSSEC_E_MAC_FAILURE);
    T_EQ_MEM(&e.st, &st0, sizeof st0);
    {
        imssec_digest_credentials cr;
        T_ASSERT(len > 0 && len < sizeof out);
        T_EQ_INT(out[len], 0x5A); /* nothing past what it reported */
        T_EQ_INT(imssec_digest_credentials_parse(T_S(out, len), &cr, NULL), IMSSEC_OK);
        T_EQ_UINT(cr.response.n, 0);
        T_ASSERT(cr.response.p != NULL); /* present, and empty */
        T_EQ_UINT(cr.auts.n, 0);
        T_ASSERT(cr.auts.p == NULL);
        T_EQ_UINT(cr.nonce.n, nl);
        T_EQ_MEM(cr.nonce.p, nonce, nl);
        T_EQ_INT(cr.alg, IMSSEC_DIGEST_AKAV1_MD5);
    }
    (void)can;
}

/* A hostile nonce (short, bad base64, huge) in an AKA challenge: a clean
 * error, the provider never consulted (state unchanged), nothing written. */
T_TEST(aka_digest_rfc3310_bad_nonce_untouched)
{
    static const char *nonces[] = {"", "AAAA", "!!!!", "QUJD", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    size_t i;
    for (i = 0; i < sizeof nonces / sizeof nonces[0]; i++) {
        aka_env e;
        imssec_aka_result ar;
        imssec_digest_out dout;
        char out[512], can[512];
        size_t len = 0, n = 0;
        imssec_aka_sqn st0;
        int rc;
        T_EQ_INT(aka_env_init(&e, 0x41, 0), IMSSEC_OK);
        snprintf(e.hdr, sizeof e.hdr, "Digest realm=\"r\", nonce=\"%s\", algorithm=AKAv1-MD5",
                 nonces[i]);
        T_EQ_INT(imssec_digest_challenge_parse(T_S(e.hdr, strlen(e.hdr)), e.ch, 1, &n, NULL), IMSSEC_OK);
        memcpy(&st0, &e.st, sizeof st0);
        memset(out, 0x5A, sizeof out);
        memcpy(can, out, sizeof out);
        rc = imssec_digest_aka_respond(&e.prov, &e.ch[0], &e.rq, &ar, &dout, out, sizeof out, &len);
        T_ASSERT(rc != IMSSEC_OK);
        T_EQ_MEM(out, can, sizeof out);
        T_EQ_MEM(&e.st, &st0, sizeof st0);
    }
}

/* IMS AKA end to end with software Milenage on both sides, AKAv1 and AKAv2,
 * then a replayed challenge answered with auts= that the network verifies. */
T_TEST(aka_digest_ims_register_loop)
{
    static const int algs[] = {IMSSEC_DIGEST_AKAV1_MD5, IMSSEC_DIGEST_AKAV2_MD5,
                               IMSSEC_DIGEST_AKAV1_SHA256, IMSSEC_DIGEST_AKAV2_SHA256};
    imssec_milenage m;
    imssec_aka_sqn sqn;
    imssec_aka_soft soft;
    imssec_aka_provider p;
    imssec_aka_vector v;
    imssec_aka_result r;
    size_t a;
    uint64_t hn = 0;
    tlp_key(&m);
    imssec_aka_sqn_init(&sqn);
    soft.milenage = &m;
    soft.sqn = &sqn;
    soft.policy = 0;
    imssec_aka_soft_provider(&p, &soft);
    for (a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        imssec_digest_challenge ch;
        imssec_digest_credentials cr;
        imssec_digest_request rq;
        imssec_digest_nonce st;
        char nonce[64], hdr[256], out[768], auts_bin_txt[32];
        uint8_t pw[64], auts[14];
        size_t nn, hn_len, on, pn, n = 0, al;
        uint64_t ms;
        T_EQ_INT(imssec_aka_sqn_next(hn, 5, 0, &hn), IMSSEC_OK);
        T_EQ_INT(imssec_aka_vector_gen(&m, NULL, (const uint8_t *)"fedcba9876543210", hn, tlp_amf, &v),
                 IMSSEC_OK);
        T_EQ_INT(imssec_aka_nonce_encode(v.rand, v.autn, NULL, 0, 1, nonce, sizeof nonce, &nn), IMSSEC_OK);
        T_EQ_INT(imssec_digest_challenge_build(algs[a], (imssec_str){"ims.example", 11},
                                               (imssec_str){nonce, nn}, (imssec_str){"op", 2},
                                               IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH) |
                                                   IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT),
                                               0, 0, hdr, sizeof hdr, &hn_len), IMSSEC_OK);
        T_EQ_INT(imssec_digest_challenge_parse(T_S(hdr, hn_len), &ch, 1, &n, NULL), IMSSEC_OK);
        T_EQ_INT(ch.alg, algs[a]);
        memset(&rq, 0, sizeof rq);
        rq.username = (imssec_str){"alice@ims.example", 17};
        rq.method = (imssec_str){"REGISTER", 8};
        rq.uri = (imssec_str){"sip:ims.example", 15};
        rq.cnonce = (imssec_str){"0a4f113b", 8};
        rq.nc = 1;
        rq.body = (const uint8_t *)"v=0";
        rq.body_len = 3;
        rq.prefer_auth_int = (a & 1) != 0;
        T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on), IMSSEC_OK);
        T_EQ_INT(imssec_digest_credentials_parse(T_S(out, on), &cr, NULL), IMSSEC_OK);
        T_EQ_INT(cr.qop_val, (a & 1) ? IMSSEC_DIGEST_QOP_AUTH_INT : IMSSEC_DIGEST_QOP_AUTH);
        T_EQ_INT(imssec_digest_aka_password(algs[a], v.xres, v.xres_len, v.ck, v.ik, pw, sizeof pw, &pn),
                 IMSSEC_OK);
        T_EQ_INT(imssec_digest_nonce_set(&st,T_S(nonce, nn), 30000), IMSSEC_OK);
        T_EQ_INT(imssec_digest_server_verify(&st, &cr, algs[a], (imssec_str){NULL, 0}, rq.method,
                                             rq.body, rq.body_len, pw, pn, 5), IMSSEC_OK);
        /* the same challenge again: the UE answers with auts */
        T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on),
                 IMSSEC_E_SYNC_FAILURE);
        T_EQ_INT(imssec_digest_credentials_parse(T_S(out, on), &cr, NULL), IMSSEC_OK);
        T_ASSERT(cr.auts.n < sizeof auts_bin_txt);
        T_EQ_INT(imssec_base64_decode(T_S(cr.auts.p, cr.auts.n), auts, sizeof auts, &al), IMSSEC_OK);
        T_EQ_UINT(al, 14);
        T_EQ_INT(imssec_aka_auts_verify(&m, v.rand, auts, &ms), IMSSEC_OK);
        T_EQ_UINT(ms, hn);
        /* the response then is over an empty password (RFC 3310 3.4) */
        T_EQ_INT(imssec_digest_nonce_set(&st,T_S(nonce, nn), 30000), IMSSEC_OK);
        T_EQ_INT(imssec_digest_server_verify(&st, &cr, algs[a], (imssec_str){NULL, 0}, rq.method,
                                             rq.body, rq.body_len, NULL, 0, 5), IMSSEC_OK);
    }
}

/* The AKA passwords: AKAv1 (RFC 3310 3.1) is RES itself, AKAv2 (RFC 4169
 * 3.1) base64(HMAC-H(RES||IK||CK, "http-digest-akav2-password")).  First for
 * RES/CK/IK of aka-flows.tsv row osmo-auc-gen-1 (values from Python:
 * base64(hmac.new(RES+IK+CK, b"http-digest-akav2-password", md5 /
 * sha256).digest())), then against mbedTLS for 8- and 16-byte RES, with
 * IMSSEC_E_SPACE reporting the need and writing nothing. */
T_TEST(aka_digest_rfc3310_rfc4169_passwords)
{
    uint8_t res[8], ck[16], ik[16], pw[64];
    size_t n;
    t_unhex("f511d3a7f06e6a30", res, 8);
    t_unhex("f0b29f50a7d873f30336473bdc35d04f", ck, 16);
    t_unhex("6cf555588bb61ab2ff23cd333c05ed09", ik, 16);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 8, ck, ik, pw, sizeof pw, &n),
             IMSSEC_OK);
    T_EQ_UINT(n, 8);
    T_EQ_MEM(pw, res, 8);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pw, sizeof pw, &n),
             IMSSEC_OK);
    T_EQ_SLICE((char *)pw, n, "uKayboZU8nMa4NtZ+JgEcw==");
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_SHA256, res, 8, ck, ik, pw, sizeof pw,
                                        &n), IMSSEC_OK);
    T_EQ_SLICE((char *)pw, n, "dF4fXzTcObfXilwyAJw83Vj9zB1XIs70HrPeqYWKZVA=");
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_MD5, res, 8, ck, ik, pw, sizeof pw, &n),
             IMSSEC_E_UNSUPPORTED);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 3, ck, ik, pw, sizeof pw, &n),
             IMSSEC_E_PARAM);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pw, 10, &n),
             IMSSEC_E_SPACE);
    T_EQ_UINT(n, 24);

    /* RES 00..0f, CK 40..4f, IK 80..8f against mbedTLS HMAC */
    {
        uint8_t res[16], ck[16], ik[16], key[48], mac[32], pwd[64], canary[64];
        char ref[64];
        size_t pl = 0, rl, need;
        static const char lbl[] = "http-digest-akav2-password";
        int h;
        int i;
        for (i = 0; i < 16; i++)
            res[i] = (uint8_t)i, ck[i] = (uint8_t)(0x40 + i), ik[i] = (uint8_t)(0x80 + i);
        for (h = 0; h < 2; h++) {
            int alg = h ? IMSSEC_DIGEST_AKAV2_SHA256 : IMSSEC_DIGEST_AKAV2_MD5;
            const mbedtls_md_info_t *md =
                mbedtls_md_info_from_type(h ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_MD5);
            size_t ml = h ? 32 : 16, rlen = h ? 16 : 8;
            memcpy(key, res, rlen);
            memcpy(key + rlen, ik, 16);
            memcpy(key + rlen + 16, ck, 16);
            mbedtls_md_hmac(md, key, rlen + 32, (const uint8_t *)lbl, sizeof lbl - 1, mac);
            T_EQ_INT(imssec_base64_encode(mac, ml, ref, sizeof ref - 1, &rl), IMSSEC_OK);
            ref[rl] = 0;
            T_EQ_INT(imssec_digest_aka_password(alg, res, rlen, ck, ik, pwd, sizeof pwd, &pl),
                     IMSSEC_OK);
            T_EQ_SLICE((const char *)pwd, pl, ref);
            need = pl;
            memset(pwd, 0xA5, sizeof pwd);
            memcpy(canary, pwd, sizeof pwd);
            pl = 0;
            T_EQ_INT(imssec_digest_aka_password(alg, res, rlen, ck, ik, pwd, need - 1, &pl),
                     IMSSEC_E_SPACE);
            T_EQ_UINT(pl, need);
            T_EQ_MEM(pwd, canary, sizeof pwd);
        }
        T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 3, ck, ik, pwd, sizeof pwd,
                                            &pl), IMSSEC_E_PARAM);
        T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 17, ck, ik, pwd, sizeof pwd,
                                            &pl), IMSSEC_E_PARAM);
        T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_MD5, res, 8, ck, ik, pwd, sizeof pwd, &pl),
                 IMSSEC_E_UNSUPPORTED);
    }
}

/* A server that asked for qop must not accept a qop-less (RFC 2069)
 * response: a downgrade removes the cnonce/nc protection.  The verify API
 * has no "qop required" input, so this records the behaviour: credentials
 * whose qop was stripped are computed without nc and pass only once. */

/* AKAv1-MD5 password = RES bytes (RFC 3310 3.1), binary safe (NUL bytes). */
T_TEST(aka_digest_rfc3310_3_1_akav1_binary_res)
{
    static const uint8_t res[8] = {0x00, 0x11, 0x00, 0x22, 0x00, 0x00, 0x33, 0x00};
    uint8_t ck[16] = {1}, ik[16] = {2}, pwd[64], ref[16], a1[128];
    size_t pl = 0, n;
    imssec_digest_in in;
    imssec_digest_out out;
    char hex[33];
    int i;
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 8, ck, ik, pwd, sizeof pwd,
                                        &pl), IMSSEC_OK);
    T_EQ_UINT(pl, 8);
    T_EQ_MEM(pwd, res, 8);
    memset(&in, 0, sizeof in);
    in.alg = IMSSEC_DIGEST_AKAV1_MD5;
    in.qop = IMSSEC_DIGEST_QOP_NONE;
    in.username.p = "u", in.username.n = 1;
    in.realm.p = "r", in.realm.n = 1;
    in.nonce.p = "n", in.nonce.n = 1;
    in.method.p = "REGISTER", in.method.n = 8;
    in.uri.p = "sip:r", in.uri.n = 5;
    in.password = pwd;
    in.password_len = pl;
    T_EQ_INT(imssec_digest_compute(&in, &out), IMSSEC_OK);
    memcpy(a1, "u:r:", 4);
    memcpy(a1 + 4, res, 8);
    n = 12;
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_MD5), a1, n, ref);
    for (i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", ref[i]);
    T_EQ_STR(out.ha1, hex);
}

/* AKAv2-MD5 end to end: the S-CSCF verifies with the password from XRES,
 * IK and CK (RFC 4169); a password from a different IK fails. */
T_TEST(aka_digest_rfc4169_akav2_server)
{
    uint8_t res[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ik[16] = {9}, ck[16] = {10}, pwd[64], pwd2[64];
    size_t pl, pl2;
    srv_case c;
    imssec_digest_nonce st;
    imssec_str none = {NULL, 0};
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pwd, sizeof pwd, &pl),
             IMSSEC_OK);
    ik[0] ^= 1;
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pwd2, sizeof pwd2,
                                        &pl2), IMSSEC_OK);
    T_ASSERT(pl == pl2 && memcmp(pwd, pwd2, pl) != 0);
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_AKAV2_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    c.in.password = pwd;
    c.in.password_len = pl;
    T_EQ_INT(imssec_digest_compute(&c.in, &c.out), IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_build(&c.in, &c.out, none, none, c.hdr, sizeof c.hdr, &c.hlen),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_parse(T_S(c.hdr, c.hlen), &c.cr, NULL), IMSSEC_OK);
    T_EQ_INT(c.cr.alg, IMSSEC_DIGEST_AKAV2_MD5);
    T_EQ_INT(imssec_digest_nonce_set(&st,T_S(c.in.nonce.p, c.in.nonce.n), 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_AKAV2_MD5, none, c.in.method,
                                         NULL, 0, pwd2, pl2, 0), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_AKAV1_MD5, none, c.in.method,
                                         NULL, 0, pwd, pl, 0), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_AKAV2_MD5, none, c.in.method,
                                         NULL, 0, pwd, pl, 0), IMSSEC_OK);
}
