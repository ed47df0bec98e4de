/*
 * fuzz_aka_nonce.c -- the AKA nonce decoder and the UE's AUTN check on
 * whatever RAND || AUTN it yields (with an Annex C state), plus AUTS
 * verification on the same bytes.
 */
#include <stdint.h>
#include <string.h>

#include "../../imssec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t rand[16], autn[16], sd[64];
    size_t sdn = 0;
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_result r;
    uint64_t ms;
    static const uint8_t k[16] = {9, 8, 7};
    if (imssec_aka_nonce_decode(((imssec_str){(const char *)data, size}), rand, autn, sd, sizeof sd, &sdn) !=
        IMSSEC_OK)
        return 0;
    imssec_milenage_init_opc(&m, k, k);
    imssec_aka_sqn_init(&st);
    (void)imssec_aka_sqn_record(&st, 0x1234);
    (void)imssec_aka_ue_check(&m, &st, IMSSEC_AKA_POLICY_AMF_SEPARATION, rand, autn, &r);
    (void)imssec_aka_auts_verify(&m, rand, autn, &ms);
    return 0;
}
