/*
 * aka_scscf.c -- the S-CSCF's side of TS 33.203 6.1: the vector store
 * (6.1.1 first in / first out, never sent twice, the RAND kept; 6.1.3 the
 * old vectors deleted when the batch after a resynchronisation arrives) and
 * the kinds of AKA REGISTER it receives (6.1.2.2, 6.1.3, TS 24.229
 * 5.1.1.2.1).  Truths: the clause sentences, and a USIM (imssec_aka_ue_check
 * with its own SQN state, the TS 33.102 Annex C rules) that refuses a
 * vector sent twice.
 */
#include "../../imssec.h"
#include "../t.h"

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

static void key(imssec_milenage *m)
{
    uint8_t k[16], op[16];
    /* TS 35.207 test set 2 K and OP */
    t_unhex("0396eb317b6d1c36f19c1c84cd6ffd16", k, 16);
    t_unhex("ff53bade17df5d4e793073ce9d7579fa", op, 16);
    imssec_milenage_init_op(m, k, op);
}

static const uint8_t amf[2] = {0x80, 0x00};
static const imssec_io io = {NULL, t_io_random, NULL, NULL};

/* A batch of n vectors with ascending SQNs (IND 0) from sqn. */
static int batch(const imssec_milenage *m, uint64_t sqn, imssec_aka_vector *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (imssec_aka_vector_gen(m, &io, NULL, sqn + 32 * i, amf, &v[i]) != IMSSEC_OK)
            return -1;
    return 0;
}

/* 6.1.1: "authentication vectors ... are used on a first-in / first-out
 * basis"; "no AV shall be sent more than once" (the USIM would refuse it:
 * checked with a USIM); the store is bounded. */
T_TEST(aka_6_1_1_vectors_fifo_never_twice)
{
    imssec_milenage m;
    imssec_aka_vector slots[3], in[4], out;
    imssec_aka_vstore vs;
    imssec_aka_sqn usim;
    imssec_aka_result r;
    int i;
    key(&m);
    imssec_aka_sqn_init(&usim);
    T_OK(imssec_aka_vstore_init(&vs, slots, 3));
    T_EQ_INT(batch(&m, 32, in, 4), 0);
    T_EQ_INT(imssec_aka_vstore_put(&vs, in, 4, 0), IMSSEC_E_SPACE); /* bounded: all or nothing */
    T_EQ_UINT(imssec_aka_vstore_count(&vs), 0);
    T_OK(imssec_aka_vstore_put(&vs, in, 3, 0));
    for (i = 0; i < 3; i++) {
        T_OK(imssec_aka_vstore_next(&vs, &out));
        T_EQ_MEM(out.rand, in[i].rand, 16); /* first in, first out */
        T_EQ_INT(imssec_aka_ue_check(&m, &usim, 0, out.rand, out.autn, &r), IMSSEC_OK);
    }
    T_EQ_INT(imssec_aka_vstore_next(&vs, &out), IMSSEC_E_NOT_FOUND); /* none twice */
    /* had one been sent again, the USIM says: sync failure */
    T_EQ_INT(imssec_aka_ue_check(&m, &usim, 0, in[0].rand, in[0].autn, &r), IMSSEC_E_SYNC_FAILURE);
    /* the ring wraps */
    T_OK(imssec_aka_vstore_put(&vs, in + 3, 1, 0));
    T_OK(imssec_aka_vstore_next(&vs, &out));
    T_EQ_MEM(out.rand, in[3].rand, 16);
    imssec_aka_vstore_wipe(&vs);
}

/* 6.1.1 "The S-CSCF also stores the RAND sent to the UE for use in case of
 * a synchronization failure"; 6.1.3 "When the S-CSCF receives the new
 * batch ... it deletes the old ones": the AUTS is verified against the RAND
 * in flight, the HSS resynchronises, the old vectors go, and the USIM
 * accepts the new batch. */
T_TEST(aka_6_1_3_resync_uses_stored_rand_and_deletes_old)
{
    imssec_milenage m;
    imssec_aka_vector slots[4], in[2], fresh[2], out, flight;
    imssec_aka_vstore vs;
    imssec_aka_sqn usim;
    imssec_aka_result r;
    uint64_t sqn_ms = 0, next = 0;
    uint8_t forged[16];
    key(&m);
    imssec_aka_sqn_init(&usim);
    T_OK(imssec_aka_sqn_record(&usim, 0x20000)); /* the USIM is ahead */
    T_OK(imssec_aka_vstore_init(&vs, slots, 4));
    T_EQ_INT(batch(&m, 64, in, 2), 0);
    T_OK(imssec_aka_vstore_put(&vs, in, 2, 0));
    T_OK(imssec_aka_vstore_next(&vs, &out));
    T_EQ_INT(imssec_aka_ue_check(&m, &usim, 0, out.rand, out.autn, &r), IMSSEC_E_SYNC_FAILURE);
    /* the AUTS REGISTER's nonce names the RAND in flight; another does not */
    memcpy(forged, out.rand, 16);
    forged[0] ^= 1;
    T_EQ_INT(imssec_aka_vstore_sent(&vs, forged, &flight), IMSSEC_E_NOT_FOUND);
    T_OK(imssec_aka_vstore_sent(&vs, out.rand, &flight));
    T_OK(imssec_aka_auts_verify(&m, flight.rand, r.auts, &sqn_ms));
    T_EQ_UINT(sqn_ms, 0x20000);
    /* the new batch after the HSS resynchronised replaces the old one */
    T_OK(imssec_aka_sqn_next(sqn_ms, 5, 0, &next));
    T_EQ_INT(batch(&m, next, fresh, 2), 0);
    T_EQ_UINT(imssec_aka_vstore_count(&vs), 1);
    T_OK(imssec_aka_vstore_put(&vs, fresh, 2, 1));
    T_EQ_UINT(imssec_aka_vstore_count(&vs), 2);
    T_OK(imssec_aka_vstore_next(&vs, &out));
    T_EQ_MEM(out.rand, fresh[0].rand, 16); /* in[1] is gone */
    T_OK(imssec_aka_ue_check(&m, &usim, 0, out.rand, out.autn, &r));
    imssec_aka_vstore_done(&vs);
    T_EQ_INT(imssec_aka_vstore_sent(&vs, out.rand, &flight), IMSSEC_E_NOT_FOUND);
    imssec_aka_vstore_wipe(&vs);
}

/* What the S-CSCF (and the P-CSCF) reads from an AKA REGISTER: the
 * initial one (TS 24.229 5.1.1.2.1), the answer, AUTS (6.1.3) and the
 * empty response of a network authentication failure (6.1.2.2, 7.3.1.2:
 * the UE "sends a REGISTER ... indicating a network authentication
 * failure"); each built by this library's UE side, parsed back. */
T_TEST(aka_6_1_2_2_scscf_recognises_each_register)
{
    imssec_milenage m;
    imssec_aka_soft soft;
    imssec_aka_provider p;
    imssec_aka_vector v;
    imssec_digest_challenge ch;
    imssec_digest_credentials cr;
    imssec_digest_request rq;
    imssec_aka_result ar;
    imssec_aka_sqn st;
    char nonce[80], chal[300], out[600];
    size_t nl = 0, cl = 0, ol = 0, nch = 0;
    int round;
    key(&m);
    T_OK(imssec_digest_initial_build(T_S("alice@x", 7), T_S("x", 1), T_S("sip:x", 5), out,
                                     sizeof out, &ol));
    T_OK(imssec_digest_credentials_parse(T_S(out, ol), &cr, NULL));
    T_EQ_INT(imssec_digest_aka_kind(&cr), IMSSEC_DIGEST_AKA_INITIAL);
    for (round = 0; round < 3; round++) {
        imssec_aka_sqn_init(&st);
        if (round == 1)
            T_OK(imssec_aka_sqn_record(&st, 0x40000)); /* SQN out of range */
        soft.milenage = &m;
        soft.sqn = &st;
        soft.policy = 0;
        imssec_aka_soft_provider(&p, &soft);
        T_OK(imssec_aka_vector_gen(&m, &io, NULL, 96, amf, &v));
        if (round == 2)
            v.autn[10] ^= 4; /* a forged MAC */
        T_OK(imssec_aka_nonce_encode(v.rand, v.autn, NULL, 0, 1, nonce, sizeof nonce, &nl));
        T_OK(imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, T_S("x", 1), T_S(nonce, nl),
                                           T_S("", 0), 0, 0, 0, chal, sizeof chal, &cl));
        T_OK(imssec_digest_challenge_parse(T_S(chal, cl), &ch, 1, &nch, NULL));
        memset(&rq, 0, sizeof rq);
        rq.username = T_S("alice@x", 7);
        rq.method = T_S("REGISTER", 8);
        rq.uri = T_S("sip:x", 5);
        (void)imssec_digest_aka_respond(&p, &ch, &rq, &ar, NULL, out, sizeof out, &ol);
        T_OK(imssec_digest_credentials_parse(T_S(out, ol), &cr, NULL));
        T_EQ_INT(imssec_digest_aka_kind(&cr), round == 0   ? IMSSEC_DIGEST_AKA_ANSWER
                                              : round == 1 ? IMSSEC_DIGEST_AKA_SYNC_FAILURE
                                                           : IMSSEC_DIGEST_AKA_NETWORK_FAILURE);
    }
    T_EQ_INT(imssec_digest_aka_kind(NULL), IMSSEC_E_PARAM);
}
