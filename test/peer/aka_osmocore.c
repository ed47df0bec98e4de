/*
 * aka_osmocore.c -- differential test of aka/ against Debian's libosmocore
 * (an independent Milenage: hostap-derived code behind osmo_auth_gen_vec).
 * Built and run by test/peer/aka-osmocore.sh.
 *
 * Per iteration, with random K, OP or OPc, RAND, previous SQN, IND length
 * and slot, AMF:
 *   - next SQN: our imssec_aka_sqn_next() == the SQN libosmocore used
 *   - f1 (MAC-A), f2 (RES), f3 (CK), f4 (IK), f5 (AK): our vector == theirs
 *   - our UE accepts their AUTN with our RES/CK/IK
 *   - f1*, f5*: our UE's AUTS (sync failure at a random SQN_MS) is accepted
 *     by their AUTS verification with the same SQN_MS, and by ours; their
 *     post-resync SQN equals our sqn_next(SQN_MS)
 *   - every 8th iteration a bit-flipped AUTS is refused by both
 * Prints PASS/FAIL lines; exit status 0 either way (the script reports).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osmocom/crypt/auth.h>

#include "../../imssec.h"

static uint64_t rng = UINT64_C(0x243f6a8885a308d3);
static uint64_t rnd64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(2685821657736338717);
}
static void rndbytes(uint8_t *p, size_t n)
{
    while (n--)
        *p++ = (uint8_t)rnd64();
}

static int fail(const char *what, long i)
{
    printf("FAIL aka-osmocore-%s: iteration %ld differs (seed 0x243f6a8885a308d3)\n", what, i);
    return 1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000, i;
    long nauts_bad = 0;
    int bad = 0;
    for (i = 0; i < n && !bad; i++) {
        struct osmo_sub_auth_data aud;
        struct osmo_auth_vector ov, ov2;
        imssec_milenage m;
        imssec_aka_vector v;
        imssec_aka_result r;
        imssec_aka_sqn st;
        uint8_t k[16], op[16], rand[16], rand2[16], amf[2], auts[14];
        uint64_t prev, used, next, ms, ms2 = 0;
        unsigned bits, ind;
        int is_op = (int)(rnd64() & 1), rc;

        rndbytes(k, 16);
        rndbytes(op, 16);
        rndbytes(rand, 16);
        rndbytes(rand2, 16);
        rndbytes(amf, 2);
        bits = (unsigned)(rnd64() % 11);
        ind = (unsigned)(rnd64() & ((1u << bits) - 1));
        prev = rnd64() & IMSSEC_AKA_SQN_MASK;
        if (i % 4 == 0)
            prev &= 0xffff; /* small counters as in real HLRs too */

        memset(&aud, 0, sizeof aud);
        aud.type = OSMO_AUTH_TYPE_UMTS;
        aud.algo = OSMO_AUTH_ALG_MILENAGE;
        memcpy(aud.u.umts.k, k, 16);
        memcpy(aud.u.umts.opc, op, 16);
        aud.u.umts.opc_is_op = is_op;
        memcpy(aud.u.umts.amf, amf, 2);
        aud.u.umts.sqn = prev;
        aud.u.umts.ind_bitlen = bits;
        aud.u.umts.ind = ind;
        memset(&ov, 0, sizeof ov);
        if (osmo_auth_gen_vec(&ov, &aud, rand) != 0) {
            printf("FAIL aka-osmocore-gen: libosmocore refused iteration %ld\n", i);
            return 0;
        }
        used = aud.u.umts.sqn;
        if (imssec_aka_sqn_next(prev, bits, ind, &next) != IMSSEC_OK || next != used)
            bad |= fail("sqn-next", i);

        if (is_op)
            imssec_milenage_init_op(&m, k, op);
        else
            imssec_milenage_init_opc(&m, k, op);
        if (imssec_aka_vector_gen(&m, NULL, rand, used, amf, &v) != IMSSEC_OK)
            bad |= fail("vector", i);
        if (memcmp(v.autn, ov.autn, 16) != 0)
            bad |= fail("autn-f1-f5", i);
        if (ov.res_len != v.xres_len || memcmp(v.xres, ov.res, v.xres_len) != 0)
            bad |= fail("res-f2", i);
        if (memcmp(v.ck, ov.ck, 16) != 0)
            bad |= fail("ck-f3", i);
        if (memcmp(v.ik, ov.ik, 16) != 0)
            bad |= fail("ik-f4", i);

        /* our UE on their AUTN */
        if (imssec_aka_ue_check(&m, NULL, 0, ov.rand, ov.autn, &r) != IMSSEC_OK ||
            memcmp(r.res, ov.res, 8) != 0 || memcmp(r.ck, ov.ck, 16) != 0 || r.sqn != used)
            bad |= fail("ue-accepts", i);

        /* our UE at SQN_MS >= used: sync failure; they verify our AUTS */
        ms = used + (rnd64() & 0xfffff);
        if (ms > IMSSEC_AKA_SQN_MASK)
            ms = IMSSEC_AKA_SQN_MASK;
        imssec_aka_sqn_init(&st);
        (void)imssec_aka_sqn_configure(&st, 0, UINT64_C(1) << 28, 0);
        (void)imssec_aka_sqn_record(&st, ms);
        rc = imssec_aka_ue_check(&m, &st, 0, ov.rand, ov.autn, &r);
        if (rc != IMSSEC_E_SYNC_FAILURE) {
            bad |= fail("ue-sync", i);
            continue;
        }
        memcpy(auts, r.auts, 14);
        aud.u.umts.sqn_ms = 0;
        memset(&ov2, 0, sizeof ov2);
        if (osmo_auth_gen_vec_auts(&ov2, &aud, auts, rand, rand2) != 0 ||
            aud.u.umts.sqn_ms != ms)
            bad |= fail("auts-gen-f1star-f5star", i);
        if (imssec_aka_auts_verify(&m, rand, auts, &ms2) != IMSSEC_OK || ms2 != ms)
            bad |= fail("auts-verify", i);
        if (imssec_aka_sqn_next(ms, bits, ind, &next) != IMSSEC_OK || next != aud.u.umts.sqn)
            bad |= fail("sqn-after-resync", i);
        if (i % 8 == 0) {
            unsigned bit = (unsigned)(rnd64() % 112);
            auts[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            aud.u.umts.sqn = prev;
            if (osmo_auth_gen_vec_auts(&ov2, &aud, auts, rand, rand2) == 0)
                bad |= fail("auts-tampered-osmo", i);
            if (imssec_aka_auts_verify(&m, rand, auts, &ms2) != IMSSEC_E_MAC_FAILURE)
                bad |= fail("auts-tampered", i);
            nauts_bad++;
        }
        imssec_milenage_wipe(&m);
    }
    if (!bad) {
        printf("PASS aka-osmocore-vectors: %ld random inputs, f1 f2 f3 f4 f5 AUTN equal\n", n);
        printf("PASS aka-osmocore-auts: %ld AUTS (f1* f5*) accepted by libosmocore, %ld tampered refused by both\n",
               n, nauts_bad);
        printf("PASS aka-osmocore-sqn: next SQN and post-resync SQN equal for IND 0..10 bits\n");
    }
    return 0;
}
