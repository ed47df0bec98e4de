/*
 * aka_ue_network.c -- the UE and the network side of this library against
 * each other (issue 3 "UE<->network loop"): TS 33.102 6.3.2 vectors, 6.3.3
 * the UE's check (every AUTN and RAND bit flip a MAC failure that changes
 * nothing), 6.3.5 re-synchronisation (AUTS with the highest SQN and AMF
 * 0000, each AUTS bit flip refused), and the provider seam with a fake
 * USIM.  The Milenage outputs themselves are pinned by
 * aka_milenage_ts35207.c.
 */

#include "aka_fixture.h"

/* Network vectors are accepted by the UE; a replay gives sync failure, the
 * AUTS resynchronises the network (next SQN per C.3.2), and the next
 * vector is accepted; a tampered AUTN gives MAC failure and no AUTS. */
T_TEST(aka_loop_ue_network)
{
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_vector v, old;
    imssec_aka_result r;
    imssec_io io;
    uint64_t hn_sqn = 0, ms = 0;
    int i, bit;
    memset(&io, 0, sizeof io);
    io.random = t_io_random;
    tlp_key(&m);
    imssec_aka_sqn_init(&st);
    for (i = 0; i < 40; i++) {
        T_EQ_INT(imssec_aka_sqn_next(hn_sqn, 5, (unsigned)(i % 32), &hn_sqn), IMSSEC_OK);
        T_EQ_INT(imssec_aka_vector_gen(&m, &io, NULL, hn_sqn, tlp_amf, &v), IMSSEC_OK);
        T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
        T_EQ_UINT(r.res_len, v.xres_len);
        T_EQ_MEM(r.res, v.xres, v.xres_len);
        T_EQ_MEM(r.ck, v.ck, 16);
        T_EQ_MEM(r.ik, v.ik, 16);
        T_EQ_UINT(r.sqn, hn_sqn);
        if (i == 5)
            old = v;
    }
    T_EQ_UINT(imssec_aka_sqn_highest(&st), hn_sqn);
    /* replay of an old vector: sync failure, AUTS carries the highest SQN */
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, old.rand, old.autn, &r), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_auts_verify(&m, old.rand, r.auts, &ms), IMSSEC_OK);
    T_EQ_UINT(ms, hn_sqn);
    /* the HN lost its counter (restored from backup at SQN 0x40) */
    hn_sqn = 0x40;
    T_EQ_INT(imssec_aka_vector_gen(&m, &io, NULL, hn_sqn, tlp_amf, &v), IMSSEC_OK);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_auts_verify(&m, v.rand, r.auts, &ms), IMSSEC_OK);
    T_EQ_UINT(ms, imssec_aka_sqn_highest(&st));
    T_EQ_INT(imssec_aka_sqn_next(ms, 5, 3, &hn_sqn), IMSSEC_OK);
    T_EQ_INT(imssec_aka_vector_gen(&m, &io, NULL, hn_sqn, tlp_amf, &v), IMSSEC_OK);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
    /* a flipped bit anywhere in SQN^AK, AMF or MAC: MAC failure, out untouched */
    for (bit = 0; bit < 128; bit += 7) {
        imssec_aka_sqn before = st;
        uint8_t autn[16];
        T_EQ_INT(imssec_aka_vector_gen(&m, &io, NULL, hn_sqn + 32, tlp_amf, &v), IMSSEC_OK);
        memcpy(autn, v.autn, 16);
        autn[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(&r, 0x5a, sizeof r);
        T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, autn, &r), IMSSEC_E_MAC_FAILURE);
        T_EQ_UINT(r.res[0], 0x5a);
        T_ASSERT(memcmp(&before, &st, sizeof st) == 0);
    }
    /* AUTS with a flipped bit fails verification */
    r.auts[13] ^= 1;
    T_EQ_INT(imssec_aka_auts_verify(&m, old.rand, r.auts, &ms), IMSSEC_E_MAC_FAILURE);
}

/* Every bit flip of AUTN: MAC failure, SQN state byte-identical, persist
 * never called; then the genuine AUTN is accepted. */
T_TEST(aka_ts33102_6_3_3_autn_bitflips_mac_failure)
{
    imssec_milenage m;
    imssec_aka_sqn st, st0;
    imssec_aka_vector v;
    imssec_aka_result r;
    static const uint8_t amf[2] = {0x80, 0x00};
    uint8_t rand[16] = {1, 2, 3};
    size_t bit;
    mk_m(&m);
    imssec_aka_sqn_init(&st);
    imssec_aka_sqn_set_persist(&st, persist_cb, NULL);
    T_EQ_INT(imssec_aka_sqn_record(&st, 0x40), IMSSEC_OK);
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, 0x61, amf, &v), IMSSEC_OK);
    memcpy(&st0, &st, sizeof st);
    persist_calls = 0;
    persist_fail = 0;
    for (bit = 0; bit < 128; bit++) {
        uint8_t autn[16];
        memcpy(autn, v.autn, 16);
        autn[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        if (imssec_aka_ue_check(&m, &st, 0, v.rand, autn, &r) != IMSSEC_E_MAC_FAILURE) {
            t_fail_(__FILE__, __LINE__, "AUTN bit %zu flipped not a MAC failure", bit);
            return;
        }
        T_EQ_MEM(&st, &st0, sizeof st);
    }
    /* RAND flips too */
    for (bit = 0; bit < 128; bit += 7) {
        uint8_t rnd[16];
        memcpy(rnd, v.rand, 16);
        rnd[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, rnd, v.autn, &r), IMSSEC_E_MAC_FAILURE);
        T_EQ_MEM(&st, &st0, sizeof st);
    }
    T_EQ_INT(persist_calls, 0);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
    T_EQ_INT(persist_calls, 1);
    T_EQ_UINT(imssec_aka_sqn_highest(&st), 0x61);
    T_EQ_MEM(r.res, v.xres, 8);
    T_EQ_MEM(r.ck, v.ck, 16);
    T_EQ_MEM(r.ik, v.ik, 16);
    T_EQ_UINT(r.res_len, 8);
    /* the same challenge again: sync failure (replay), state unchanged */
    memcpy(&st0, &st, sizeof st);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_E_SYNC_FAILURE);
    T_EQ_MEM(&st, &st0, sizeof st);
}

/* Sync failure: AUTS verified by the network recovers SQN_MS (6.3.5); the
 * next SQN from sqn_next is accepted; each bit flip of AUTS is a MAC
 * failure and leaves *sqn_ms alone. */
T_TEST(aka_ts33102_6_3_5_resync_loop)
{
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_vector v;
    imssec_aka_result r;
    static const uint8_t amf[2] = {0x80, 0x00};
    uint8_t rand[16] = {9, 9, 9};
    uint64_t sqn_ms = 0x1234, next;
    size_t bit;
    mk_m(&m);
    imssec_aka_sqn_init(&st);
    T_EQ_INT(imssec_aka_sqn_record(&st, 0x2a7), IMSSEC_OK); /* SEQ 0x15, IND 7 */
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, 0x2a7, amf, &v), IMSSEC_OK);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_auts_verify(&m, v.rand, r.auts, &sqn_ms), IMSSEC_OK);
    T_EQ_UINT(sqn_ms, 0x2a7);
    for (bit = 0; bit < 112; bit++) {
        uint8_t auts[14];
        uint64_t s = 0x5555;
        memcpy(auts, r.auts, 14);
        auts[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        if (imssec_aka_auts_verify(&m, v.rand, auts, &s) != IMSSEC_E_MAC_FAILURE || s != 0x5555) {
            t_fail_(__FILE__, __LINE__, "AUTS bit %zu flipped accepted", bit);
            return;
        }
    }
    /* AUTS is bound to RAND */
    {
        uint8_t r2[16];
        uint64_t s = 0x5555;
        memcpy(r2, v.rand, 16);
        r2[15] ^= 1;
        T_EQ_INT(imssec_aka_auts_verify(&m, r2, r.auts, &s), IMSSEC_E_MAC_FAILURE);
    }
    T_EQ_INT(imssec_aka_sqn_next(sqn_ms, 5, 7, &next), IMSSEC_OK);
    T_EQ_UINT(next, 0x2c7);
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, next, amf, &v), IMSSEC_OK);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
    T_EQ_UINT(imssec_aka_sqn_highest(&st), 0x2c7);
}

/* AUTS uses the highest accepted SQN and AMF 0000 (6.3.3, 6.3.5), even
 * when the failing challenge came in another IND slot. */
T_TEST(aka_ts33102_6_3_5_auts_highest_sqn_amf0)
{
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_vector v;
    imssec_aka_result r;
    static const uint8_t amf[2] = {0xb9, 0xb9};
    uint8_t rand[16] = {5}, ak_s[6], macs[8], sqnb[6];
    static const uint8_t amf0[2] = {0, 0};
    uint64_t hi = 0x3e5; /* SEQ 0x1f, IND 5 */
    int i;
    mk_m(&m);
    imssec_aka_sqn_init(&st);
    T_EQ_INT(imssec_aka_sqn_record(&st, 0x0a3), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_record(&st, hi), IMSSEC_OK);
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, 0x0a3, amf, &v), IMSSEC_OK); /* same as SEQ_MS(3) */
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_E_SYNC_FAILURE);
    imssec_milenage_f2345(&m, v.rand, NULL, NULL, NULL, NULL, ak_s);
    for (i = 0; i < 6; i++)
        sqnb[i] = (uint8_t)(hi >> (40 - 8 * i));
    imssec_milenage_f1(&m, v.rand, sqnb, amf0, NULL, macs);
    for (i = 0; i < 6; i++)
        T_EQ_UINT(r.auts[i], (uint8_t)(sqnb[i] ^ ak_s[i]));
    T_EQ_MEM(r.auts + 6, macs, 8);
    T_EQ_UINT(r.sqn, 0x0a3);
    T_EQ_INT(r.sqn_known, 1);
    T_EQ_HEX(r.amf, 2, "b9b9");
}

/* A fake USIM behind the provider seam: 4-byte RES containing 0x00 (binary
 * safety) and a bad RES length that the library must refuse. */
typedef struct tlp_usim {
    size_t res_len;
    int verdict;
} tlp_usim;

static int tlp_usim_auth(void *user, const uint8_t rand[16], const uint8_t autn[16],
                         imssec_aka_result *out)
{
    const tlp_usim *u = (const tlp_usim *)user;
    (void)autn;
    memset(out->res, 0, sizeof out->res);
    out->res[0] = rand[0];
    out->res[2] = 0xab; /* res[1] = 0x00 */
    out->res_len = u->res_len;
    memset(out->ck, 0x11, 16);
    memset(out->ik, 0x22, 16);
    memset(out->auts, 0x33, 14);
    return u->verdict;
}

T_TEST(aka_provider_usim_digest)
{
    tlp_usim u;
    imssec_aka_provider p;
    imssec_aka_result r;
    imssec_digest_challenge ch;
    imssec_digest_credentials cr;
    imssec_digest_request rq;
    imssec_digest_nonce st;
    uint8_t rand[16] = {7}, autn[16] = {0}, pw[64];
    char nonce[64], hdr[256], out[768];
    size_t nn, hn, on, pn, n = 0;
    p.authenticate = tlp_usim_auth;
    p.user = &u;
    u.res_len = 4;
    u.verdict = IMSSEC_OK;
    T_EQ_INT(imssec_aka_nonce_encode(rand, autn, NULL, 0, 0, nonce, sizeof nonce, &nn), IMSSEC_OK);
    T_EQ_INT(imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, (imssec_str){"ims.example", 11},
                                           (imssec_str){nonce, nn}, (imssec_str){NULL, 0},
                                           IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH), 0, 0, hdr,
                                           sizeof hdr, &hn), IMSSEC_OK);
    T_EQ_INT(imssec_digest_challenge_parse(T_S(hdr, hn), &ch, 1, &n, NULL), IMSSEC_OK);
    memset(&rq, 0, sizeof rq);
    rq.username = (imssec_str){"alice@ims.example", 17};
    rq.method = (imssec_str){"REGISTER", 8};
    rq.uri = (imssec_str){"sip:ims.example", 15};
    rq.cnonce = (imssec_str){"c0ffee", 6};
    rq.nc = 1;
    T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on), IMSSEC_OK);
    T_EQ_UINT(r.res_len, 4);
    T_EQ_HEX(r.res, 4, "0700ab00");
    /* the S-CSCF side: password = XRES (4 bytes with a 0x00), nc checked */
    T_EQ_INT(imssec_digest_credentials_parse(T_S(out, on), &cr, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, r.res, 4, r.ck, r.ik, pw,
                                        sizeof pw, &pn), IMSSEC_OK);
    T_EQ_INT(imssec_digest_nonce_set(&st,T_S(nonce, nn), 30000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_AKAV1_MD5, (imssec_str){NULL, 0},
                                         rq.method, NULL, 0, pw, pn, 1), IMSSEC_OK);
    /* a truncated RES (as a C string would) does not verify */
    T_EQ_INT(imssec_digest_nonce_set(&st,T_S(nonce, nn), 30000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_AKAV1_MD5, (imssec_str){NULL, 0},
                                         rq.method, NULL, 0, pw, 1, 1), IMSSEC_E_AUTH);
    /* bad RES length from the USIM */
    u.res_len = 17;
    T_EQ_INT(imssec_aka_authenticate(&p, rand, autn, &r), IMSSEC_E_CALLBACK);
    u.res_len = 3;
    T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on),
             IMSSEC_E_CALLBACK);
    /* a USIM's sync failure: auts = base64(33 x 14) */
    u.verdict = IMSSEC_E_SYNC_FAILURE;
    T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on),
             IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_digest_credentials_parse(T_S(out, on), &cr, NULL), IMSSEC_OK);
    T_EQ_SLICE(cr.auts.p, cr.auts.n, "MzMzMzMzMzMzMzMzMzM=");
    /* a USIM's MAC failure: the failure REGISTER's credentials, response=""
     * and no auts (TS 33.203 6.1.2.2, RFC 3310 3.3) */
    u.verdict = IMSSEC_E_MAC_FAILURE;
    on = 0;
    T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on),
             IMSSEC_E_MAC_FAILURE);
    T_EQ_INT(imssec_digest_credentials_parse(T_S(out, on), &cr, NULL), IMSSEC_OK);
    T_EQ_UINT(cr.response.n, 0);
    T_ASSERT(cr.auts.p == NULL);
    u.verdict = -999;
    T_EQ_INT(imssec_aka_authenticate(&p, rand, autn, &r), IMSSEC_E_CALLBACK);
}

/* Software provider and authenticate(): verdicts pass through; a provider
 * returning a bogus RES length or verdict is E_CALLBACK/E_PARAM. */
static int bad_res_len(void *u, const uint8_t rand[16], const uint8_t autn[16],
                       imssec_aka_result *out)
{
    (void)u, (void)rand, (void)autn;
    memset(out, 0, sizeof *out);
    out->res_len = 17;
    return IMSSEC_OK;
}

static int bad_verdict(void *u, const uint8_t rand[16], const uint8_t autn[16],
                       imssec_aka_result *out)
{
    (void)u, (void)rand, (void)autn;
    memset(out, 0, sizeof *out);
    out->res_len = 8;
    return IMSSEC_E_STALE;
}

static int short_res(void *u, const uint8_t rand[16], const uint8_t autn[16],
                     imssec_aka_result *out)
{
    (void)u, (void)rand, (void)autn;
    memset(out, 0, sizeof *out);
    out->res_len = 3;
    return IMSSEC_OK;
}

T_TEST(aka_provider_validation)
{
    imssec_aka_provider p;
    imssec_aka_result r;
    uint8_t rand[16] = {0}, autn[16] = {0};
    int rc;
    p.user = NULL;
    p.authenticate = bad_res_len;
    rc = imssec_aka_authenticate(&p, rand, autn, &r);
    T_ASSERT(rc == IMSSEC_E_CALLBACK || rc == IMSSEC_E_PARAM);
    p.authenticate = short_res;
    rc = imssec_aka_authenticate(&p, rand, autn, &r);
    T_ASSERT(rc == IMSSEC_E_CALLBACK || rc == IMSSEC_E_PARAM);
    p.authenticate = bad_verdict;
    T_EQ_INT(imssec_aka_authenticate(&p, rand, autn, &r), IMSSEC_E_CALLBACK);
}

/* Network side errors leave the vector alone. */
static int fail_rng(void *u, uint8_t *o, size_t n)
{
    (void)u, (void)o, (void)n;
    return 5;
}

T_TEST(aka_ts33102_6_3_2_vector_gen_errors)
{
    imssec_milenage m;
    imssec_aka_vector v, c;
    static const uint8_t amf[2] = {0x80, 0};
    static const imssec_io bad = {NULL, fail_rng, NULL, NULL};
    uint8_t rand[16] = {1};
    mk_m(&m);
    memset(&v, 0xA5, sizeof v);
    memcpy(&c, &v, sizeof v);
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, 1ull << 48, amf, &v), IMSSEC_E_RANGE);
    T_EQ_MEM(&v, &c, sizeof v);
    T_EQ_INT(imssec_aka_vector_gen(&m, &bad, NULL, 5, amf, &v), IMSSEC_E_CALLBACK);
    T_EQ_MEM(&v, &c, sizeof v);
}
