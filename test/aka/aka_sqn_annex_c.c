/*
 * aka_sqn_annex_c.c -- the SQN management of TS 33.102 Annex C (C.2 at the
 * UE: per-IND freshness, delta, the age limit; C.3.2 at the network: the
 * next SQN), its persistence with roll-back, and the AMF separation
 * policy.  Cases hand-checked, named per assertion.
 */

#include "aka_fixture.h"

static int tlp_persist_calls, tlp_persist_fail;

static uint64_t tlp_persist_highest;

static int tlp_persist(void *user, const imssec_aka_sqn *st)
{
    (void)user;
    tlp_persist_calls++;
    tlp_persist_highest = imssec_aka_sqn_highest(st);
    return tlp_persist_fail ? -1 : 0;
}

/* TS 33.102 Annex C.2 rules, hand-checked with IND = 5 bits (SQN 0x45 is
 * SEQ 2 IND 5), the age limit of C.2.3 and the network side of C.3.2; then
 * the same rules from a second set of values (SQN = SEQ << 5 | IND): per-IND
 * freshness, delta 2^28 from the highest SEQ, the age limit L = 5, and a
 * configure out of range leaving the state alone. */
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

    /* C.2.2 / C.2.3 again, SQN = SEQ << 5 | IND */
    {
        imssec_aka_sqn st;
        imssec_aka_sqn_init(&st);
        /* IND 5 bits: SQN = SEQ << 5 | IND */
        T_EQ_INT(imssec_aka_sqn_record(&st, (10u << 5) | 3), IMSSEC_OK);
        T_EQ_INT(imssec_aka_sqn_check(&st, (9u << 5) | 4), IMSSEC_OK);   /* other slot, fresh */
        T_EQ_INT(imssec_aka_sqn_check(&st, (10u << 5) | 3), IMSSEC_E_SYNC_FAILURE);
        T_EQ_INT(imssec_aka_sqn_check(&st, (9u << 5) | 3), IMSSEC_E_SYNC_FAILURE);
        T_EQ_INT(imssec_aka_sqn_check(&st, (11u << 5) | 3), IMSSEC_OK);
        /* delta 2^28 from the highest SEQ: SEQ - SEQ_MS <= delta */
        T_EQ_INT(imssec_aka_sqn_check(&st, ((10ull + (1ull << 28)) << 5) | 3), IMSSEC_OK);
        T_EQ_INT(imssec_aka_sqn_check(&st, ((11ull + (1ull << 28)) << 5) | 3), IMSSEC_E_SYNC_FAILURE);
        T_EQ_INT(imssec_aka_sqn_check(&st, 1ull << 48), IMSSEC_E_SYNC_FAILURE);
        T_EQ_INT(imssec_aka_sqn_record(&st, 1ull << 48), IMSSEC_E_RANGE);
        /* age limit L = 5: SEQ_MS - SEQ <= L */
        T_EQ_INT(imssec_aka_sqn_configure(&st, 5, 1u << 28, 5), IMSSEC_OK);
        T_EQ_UINT(imssec_aka_sqn_highest(&st), 0);
        T_EQ_INT(imssec_aka_sqn_record(&st, (20u << 5) | 1), IMSSEC_OK);
        T_EQ_INT(imssec_aka_sqn_check(&st, (15u << 5) | 2), IMSSEC_OK);
        T_EQ_INT(imssec_aka_sqn_check(&st, (14u << 5) | 2), IMSSEC_E_SYNC_FAILURE);
        /* configure out of range leaves the state alone */
        {
            imssec_aka_sqn c;
            memcpy(&c, &st, sizeof st);
            T_EQ_INT(imssec_aka_sqn_configure(&st, IMSSEC_AKA_IND_BITS_MAX + 1, 1, 0), IMSSEC_E_RANGE);
            T_EQ_INT(imssec_aka_sqn_configure(&st, 5, 0, 0), IMSSEC_E_RANGE);
            T_EQ_INT(imssec_aka_sqn_configure(&st, 5, (1ull << 43) + 1, 0), IMSSEC_E_RANGE);
            T_EQ_MEM(&st, &c, sizeof st);
        }
    }
}

/* sqn_next (C.3.2 with IND per slot) hand-checked values and ranges. */
T_TEST(aka_sqn_annex_c_3_2_next)
{
    uint64_t n = 77;
    T_EQ_INT(imssec_aka_sqn_next(0x17, 5, 0, &n), IMSSEC_OK);
    T_EQ_UINT(n, 0x20);
    T_EQ_INT(imssec_aka_sqn_next(0x17, 5, 5, &n), IMSSEC_OK);
    T_EQ_UINT(n, 0x25);
    T_EQ_INT(imssec_aka_sqn_next(0x21, 0, 0, &n), IMSSEC_OK);
    T_EQ_UINT(n, 0x22);
    T_EQ_INT(imssec_aka_sqn_next(0xffffffffffffull, 5, 3, &n), IMSSEC_OK);
    T_EQ_UINT(n, 3);
    n = 77;
    T_EQ_INT(imssec_aka_sqn_next(0x17, 5, 32, &n), IMSSEC_E_RANGE);
    T_EQ_INT(imssec_aka_sqn_next(0x17, 29, 0, &n), IMSSEC_E_RANGE);
    T_EQ_UINT(n, 77);
}

/* The persistence callback sees the new state; when it fails the check
 * fails and the state is rolled back byte for byte, so the same challenge is
 * accepted once the flash works again; a sync failure persists nothing.
 * (Test sets 2 and 1, SQN 0x47 and 0x21.) */
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

    /* test set 1, SQN 0x21: the state is byte-identical after the failure */
    {
        imssec_milenage m;
        imssec_aka_sqn st, st0;
        imssec_aka_vector v;
        imssec_aka_result r;
        static const uint8_t amf[2] = {0x80, 0x00};
        uint8_t rand[16] = {4};
        mk_m(&m);
        imssec_aka_sqn_init(&st);
        imssec_aka_sqn_set_persist(&st, persist_cb, NULL);
        T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, 0x21, amf, &v), IMSSEC_OK);
        memcpy(&st0, &st, sizeof st);
        persist_fail = 1;
        persist_calls = 0;
        T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_E_CALLBACK);
        T_EQ_INT(persist_calls, 1);
        T_EQ_MEM(&st, &st0, sizeof st);
        persist_fail = 0;
        T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
        T_EQ_UINT(imssec_aka_sqn_highest(&st), 0x21);
    }
}

/* AMF separation bit: ignored by default (IMS), enforced when asked
 * (IMSSEC_E_AMF with the AMF and SQN reported); the state does not change on
 * IMSSEC_E_AMF.  (Test set 2 with AMF 0000 and 8000, test set 1 with 0001.) */
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

    /* test set 1, AMF 0001: E_AMF reports amf and sqn, state byte-identical */
    {
        imssec_milenage m;
        imssec_aka_sqn st, st0;
        imssec_aka_vector v;
        imssec_aka_result r;
        static const uint8_t amf[2] = {0x00, 0x01};
        uint8_t rand[16] = {6};
        mk_m(&m);
        imssec_aka_sqn_init(&st);
        T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, 0x41, amf, &v), IMSSEC_OK);
        memcpy(&st0, &st, sizeof st);
        T_EQ_INT(imssec_aka_ue_check(&m, &st, IMSSEC_AKA_POLICY_AMF_SEPARATION, v.rand, v.autn, &r),
                 IMSSEC_E_AMF);
        T_EQ_MEM(&st, &st0, sizeof st);
        T_EQ_HEX(r.amf, 2, "0001");
        T_EQ_UINT(r.sqn, 0x41);
        T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, v.rand, v.autn, &r), IMSSEC_OK);
    }
}
