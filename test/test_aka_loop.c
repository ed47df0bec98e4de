/*
 * test_aka_loop.c -- the UE and the network side of this library against
 * each other (issue 3 "UE<->network loop"), the TS 33.102 Annex C SQN rules
 * (hand-checked cases named per assertion), the provider seam with a fake
 * USIM, and IMS AKA digest end to end (UE answers, S-CSCF verifies with
 * XRES).  The Milenage outputs themselves are pinned by test_aka_milenage.c.
 */
#include "../imssec.h"
#include "t.h"

static void tlp_key(imssec_milenage *m)
{
    uint8_t k[16], op[16];
    /* TS 35.207 test set 2 K and OP */
    t_unhex("0396eb317b6d1c36f19c1c84cd6ffd16", k, 16);
    t_unhex("ff53bade17df5d4e793073ce9d7579fa", op, 16);
    imssec_milenage_init_op(m, k, op);
}

static const uint8_t tlp_amf[2] = {0x80, 0x00};

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

/* Annex C.2 rules, hand-checked with IND = 5 bits: SQN 0x45 is SEQ 2 IND 5. */
T_TEST(aka_sqn_annex_c)
{
    imssec_aka_sqn st;
    uint64_t next;
    imssec_aka_sqn_init(&st);
    T_EQ_INT(imssec_aka_sqn_check(&st, 0x45), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_record(&st, 0x45), IMSSEC_OK);
    T_EQ_UINT(imssec_aka_sqn_seq_ms(&st, 5), 2);
    /* same slot, same or lower SEQ: stale; other slot with SEQ 1: fresh
     * (that is what IND is for: out-of-order vectors from several VLRs) */
    T_EQ_INT(imssec_aka_sqn_check(&st, 0x45), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_sqn_check(&st, 0x25), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_sqn_check(&st, 0x26), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_check(&st, 0x65), IMSSEC_OK);
    /* delta: SEQ - 2 <= 2^28 accepted, one more refused */
    T_EQ_INT(imssec_aka_sqn_check(&st, ((UINT64_C(1) << 28) + 2) << 5), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_check(&st, ((UINT64_C(1) << 28) + 3) << 5), IMSSEC_E_SYNC_FAILURE);
    /* 48-bit overflow */
    T_EQ_INT(imssec_aka_sqn_check(&st, UINT64_C(1) << 48), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_sqn_record(&st, UINT64_C(1) << 48), IMSSEC_E_RANGE);
    /* age limit L = 3: highest SEQ 10, so SEQ 7 is the oldest accepted */
    T_EQ_INT(imssec_aka_sqn_configure(&st, 5, UINT64_C(1) << 28, 3), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_record(&st, (10 << 5) | 1), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_check(&st, (7 << 5) | 2), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_check(&st, (6 << 5) | 2), IMSSEC_E_SYNC_FAILURE);
    /* IND 0 bits: a single counter, strictly increasing */
    T_EQ_INT(imssec_aka_sqn_configure(&st, 0, 100, 0), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_record(&st, 50), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_check(&st, 50), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_sqn_check(&st, 51), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_check(&st, 150), IMSSEC_OK);
    T_EQ_INT(imssec_aka_sqn_check(&st, 151), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(imssec_aka_sqn_configure(&st, IMSSEC_AKA_IND_BITS_MAX + 1, 100, 0), IMSSEC_E_RANGE);
    T_EQ_INT(imssec_aka_sqn_configure(&st, 5, 0, 0), IMSSEC_E_RANGE);
    /* network side: C.3.2 with the 48-bit wrap; IND out of range */
    T_EQ_INT(imssec_aka_sqn_next(IMSSEC_AKA_SQN_MASK, 5, 1, &next), IMSSEC_OK);
    T_EQ_UINT(next, 1);
    T_EQ_INT(imssec_aka_sqn_next(0, 5, 32, &next), IMSSEC_E_RANGE);
    T_EQ_INT(imssec_aka_sqn_next(0, 29, 0, &next), IMSSEC_E_RANGE);
}

static int tlp_persist_calls, tlp_persist_fail;
static uint64_t tlp_persist_highest;
static int tlp_persist(void *user, const imssec_aka_sqn *st)
{
    (void)user;
    tlp_persist_calls++;
    tlp_persist_highest = imssec_aka_sqn_highest(st);
    return tlp_persist_fail ? -1 : 0;
}

/* The persistence callback sees the new state; when it fails the check
 * fails and the state is rolled back, so the same challenge is accepted
 * once the flash works again. */
T_TEST(aka_sqn_persist_rollback)
{
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_vector v;
    imssec_aka_result r;
    tlp_key(&m);
    imssec_aka_sqn_init(&st);
    imssec_aka_sqn_set_persist(&st, tlp_persist, NULL);
    tlp_persist_calls = 0;
    tlp_persist_fail = 1;
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, (const uint8_t *)"0123456789abcdef", 0x47, tlp_amf,
                                   &v), IMSSEC_OK);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_E_CALLBACK);
    T_EQ_INT(tlp_persist_calls, 1);
    T_EQ_UINT(imssec_aka_sqn_highest(&st), 0);
    T_EQ_UINT(imssec_aka_sqn_seq_ms(&st, 7), 0);
    tlp_persist_fail = 0;
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
    T_EQ_INT(tlp_persist_calls, 2);
    T_EQ_UINT(tlp_persist_highest, 0x47);
    /* sync failure does not persist anything */
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_E_SYNC_FAILURE);
    T_EQ_INT(tlp_persist_calls, 2);
}

/* AMF separation bit: ignored by default (IMS), enforced when asked; the
 * state does not change on IMSSEC_E_AMF. */
T_TEST(aka_amf_policy)
{
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_vector v;
    imssec_aka_result r;
    static const uint8_t amf0[2] = {0x00, 0x00};
    tlp_key(&m);
    imssec_aka_sqn_init(&st);
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, (const uint8_t *)"0123456789abcdef", 0x40, amf0, &v),
             IMSSEC_OK);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, IMSSEC_AKA_POLICY_AMF_SEPARATION, v.rand, v.autn, &r),
             IMSSEC_E_AMF);
    T_EQ_UINT(imssec_aka_sqn_highest(&st), 0);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
    T_EQ_MEM(r.amf, amf0, 2);
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, (const uint8_t *)"0123456789abcdef", 0x60, tlp_amf,
                                   &v), IMSSEC_OK);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, IMSSEC_AKA_POLICY_AMF_SEPARATION, v.rand, v.autn, &r),
             IMSSEC_OK);
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
    T_EQ_INT(imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, (imssec_digest_str){"ims.example", 11},
                                           (imssec_digest_str){nonce, nn}, (imssec_digest_str){NULL, 0},
                                           IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH), 0, 0, hdr,
                                           sizeof hdr, &hn), IMSSEC_OK);
    T_EQ_INT(imssec_digest_challenge_parse(hdr, hn, &ch, 1, &n), IMSSEC_OK);
    memset(&rq, 0, sizeof rq);
    rq.username = (imssec_digest_str){"alice@ims.example", 17};
    rq.method = (imssec_digest_str){"REGISTER", 8};
    rq.uri = (imssec_digest_str){"sip:ims.example", 15};
    rq.cnonce = (imssec_digest_str){"c0ffee", 6};
    rq.nc = 1;
    T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on), IMSSEC_OK);
    T_EQ_UINT(r.res_len, 4);
    T_EQ_HEX(r.res, 4, "0700ab00");
    /* the S-CSCF side: password = XRES (4 bytes with a 0x00), nc checked */
    T_EQ_INT(imssec_digest_credentials_parse(out, on, &cr), IMSSEC_OK);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, r.res, 4, r.ck, r.ik, pw,
                                        sizeof pw, &pn), IMSSEC_OK);
    T_EQ_INT(imssec_digest_nonce_set(&st, nonce, nn, 30000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_AKAV1_MD5, (imssec_digest_str){NULL, 0},
                                         rq.method, NULL, 0, pw, pn, 1), IMSSEC_OK);
    /* a truncated RES (as a C string would) does not verify */
    T_EQ_INT(imssec_digest_nonce_set(&st, nonce, nn, 30000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_AKAV1_MD5, (imssec_digest_str){NULL, 0},
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
    T_EQ_INT(imssec_digest_credentials_parse(out, on, &cr), IMSSEC_OK);
    T_EQ_SLICE(cr.auts.p, cr.auts.n, "MzMzMzMzMzMzMzMzMzM=");
    u.verdict = IMSSEC_E_MAC_FAILURE;
    on = 0;
    T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on),
             IMSSEC_E_MAC_FAILURE);
    T_EQ_UINT(on, 0);
    u.verdict = -999;
    T_EQ_INT(imssec_aka_authenticate(&p, rand, autn, &r), IMSSEC_E_CALLBACK);
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
        T_EQ_INT(imssec_digest_challenge_build(algs[a], (imssec_digest_str){"ims.example", 11},
                                               (imssec_digest_str){nonce, nn}, (imssec_digest_str){"op", 2},
                                               IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH) |
                                                   IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT),
                                               0, 0, hdr, sizeof hdr, &hn_len), IMSSEC_OK);
        T_EQ_INT(imssec_digest_challenge_parse(hdr, hn_len, &ch, 1, &n), IMSSEC_OK);
        T_EQ_INT(ch.alg, algs[a]);
        memset(&rq, 0, sizeof rq);
        rq.username = (imssec_digest_str){"alice@ims.example", 17};
        rq.method = (imssec_digest_str){"REGISTER", 8};
        rq.uri = (imssec_digest_str){"sip:ims.example", 15};
        rq.cnonce = (imssec_digest_str){"0a4f113b", 8};
        rq.nc = 1;
        rq.body = (const uint8_t *)"v=0";
        rq.body_len = 3;
        rq.prefer_auth_int = (a & 1) != 0;
        T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on), IMSSEC_OK);
        T_EQ_INT(imssec_digest_credentials_parse(out, on, &cr), IMSSEC_OK);
        T_EQ_INT(cr.qop_val, (a & 1) ? IMSSEC_DIGEST_QOP_AUTH_INT : IMSSEC_DIGEST_QOP_AUTH);
        T_EQ_INT(imssec_digest_aka_password(algs[a], v.xres, v.xres_len, v.ck, v.ik, pw, sizeof pw, &pn),
                 IMSSEC_OK);
        T_EQ_INT(imssec_digest_nonce_set(&st, nonce, nn, 30000), IMSSEC_OK);
        T_EQ_INT(imssec_digest_server_verify(&st, &cr, algs[a], (imssec_digest_str){NULL, 0}, rq.method,
                                             rq.body, rq.body_len, pw, pn, 5), IMSSEC_OK);
        /* the same challenge again: the UE answers with auts */
        T_EQ_INT(imssec_digest_aka_respond(&p, &ch, &rq, &r, NULL, out, sizeof out, &on),
                 IMSSEC_E_SYNC_FAILURE);
        T_EQ_INT(imssec_digest_credentials_parse(out, on, &cr), IMSSEC_OK);
        T_ASSERT(cr.auts.n < sizeof auts_bin_txt);
        T_EQ_INT(imssec_base64_decode(cr.auts.p, cr.auts.n, auts, sizeof auts, &al), IMSSEC_OK);
        T_EQ_UINT(al, 14);
        T_EQ_INT(imssec_aka_auts_verify(&m, v.rand, auts, &ms), IMSSEC_OK);
        T_EQ_UINT(ms, hn);
        /* the response then is over an empty password (RFC 3310 3.4) */
        T_EQ_INT(imssec_digest_nonce_set(&st, nonce, nn, 30000), IMSSEC_OK);
        T_EQ_INT(imssec_digest_server_verify(&st, &cr, algs[a], (imssec_digest_str){NULL, 0}, rq.method,
                                             rq.body, rq.body_len, NULL, 0, 5), IMSSEC_OK);
    }
}
