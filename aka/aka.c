/*
 * aka.c -- AKA on both sides (TS 33.102 6.3): the UE's AUTN check with AUTS
 * generation, the provider seam for a real USIM, network vector generation
 * and AUTS verification, and the IMS AKA nonce (RFC 3310 3.1).
 */
#include "../imssec.h"

static const uint8_t aka_amf_resync[2] = {0, 0}; /* AMF* for MAC-S, TS 33.102 6.3.3 */

IMSSEC_API int imssec_aka_ue_check(const imssec_milenage *m, imssec_aka_sqn *st,
                                   unsigned policy, const uint8_t rand[16],
                                   const uint8_t autn[16], imssec_aka_result *out)
{
    isc_aes128 aes;
    imssec_aka_result r;
    uint8_t temp[16], o[16], sqnb[6];
    uint64_t sqn;
    unsigned i;
    int rc = IMSSEC_OK;

    memset(&r, 0, sizeof r);
    isc_aes128_setkey(&aes, m->k_);
    aka_mil_temp(m, &aes, rand, temp);
    /* 1. AK = f5(RAND) (OUT2 also carries RES), SQN = (SQN xor AK) xor AK */
    aka_mil_outn(m, &aes, temp, 2, o);
    for (i = 0; i < 6; i++)
        sqnb[i] = (uint8_t)(autn[i] ^ o[i]);
    memcpy(r.res, o + 8, 8);
    r.res_len = IMSSEC_MILENAGE_RES_LEN;
    memcpy(r.amf, autn + 6, 2);
    sqn = isc_be48(sqnb);
    r.sqn = sqn;
    r.sqn_known = 1;
    /* 2. XMAC = f1(SQN, AMF) against MAC, before anything else depends on
     * the SQN: a forged AUTN must never make the UE emit an AUTS */
    aka_mil_out1(m, &aes, temp, sqnb, autn + 6, o);
    if (!isc_ct_eq(o, autn + 8, 8)) {
        rc = IMSSEC_E_MAC_FAILURE;
        goto done;
    }
    /* 3. freshness (Annex C.2) */
    if (st && imssec_aka_sqn_check(st, sqn) != IMSSEC_OK) {
        uint8_t ms[6];
        isc_put_be48(ms, st->highest_);
        aka_mil_outn(m, &aes, temp, 5, o); /* AK* = f5* */
        for (i = 0; i < 6; i++)
            r.auts[i] = (uint8_t)(ms[i] ^ o[i]);
        aka_mil_out1(m, &aes, temp, ms, aka_amf_resync, o);
        memcpy(r.auts + 6, o + 8, 8); /* MAC-S = f1* */
        rc = IMSSEC_E_SYNC_FAILURE;
        goto copy;
    }
    /* 4. AMF policy: opt-in only */
    if ((policy & IMSSEC_AKA_POLICY_AMF_SEPARATION) && !(r.amf[0] & 0x80)) {
        rc = IMSSEC_E_AMF;
        goto copy;
    }
    aka_mil_outn(m, &aes, temp, 3, r.ck);
    aka_mil_outn(m, &aes, temp, 4, r.ik);
    if (st) {
        rc = aka_sqn_accept(st, sqn);
        if (rc != IMSSEC_OK)
            goto done;
    }
copy:
    *out = r;
done:
    isc_aes128_wipe(&aes);
    isc_wipe(temp, sizeof temp);
    isc_wipe(o, sizeof o);
    isc_wipe(&r, sizeof r);
    return rc;
}

static int aka_soft_authenticate(void *user, const uint8_t rand[16], const uint8_t autn[16],
                                 imssec_aka_result *out)
{
    const imssec_aka_soft *s = (const imssec_aka_soft *)user;
    return imssec_aka_ue_check(s->milenage, s->sqn, s->policy, rand, autn, out);
}

IMSSEC_API void imssec_aka_soft_provider(imssec_aka_provider *p, imssec_aka_soft *s)
{
    p->authenticate = aka_soft_authenticate;
    p->user = s;
}

IMSSEC_API int imssec_aka_authenticate(const imssec_aka_provider *p, const uint8_t rand[16],
                                       const uint8_t autn[16], imssec_aka_result *out)
{
    imssec_aka_result r;
    int rc;
    if (!p || !p->authenticate || !rand || !autn || !out)
        return IMSSEC_E_PARAM;
    memset(&r, 0, sizeof r);
    rc = p->authenticate(p->user, rand, autn, &r);
    if (rc == IMSSEC_OK && (r.res_len < IMSSEC_AKA_RES_MIN || r.res_len > IMSSEC_AKA_RES_MAX))
        rc = IMSSEC_E_CALLBACK; /* a USIM answer we cannot use */
    else if (rc != IMSSEC_OK && rc != IMSSEC_E_SYNC_FAILURE && rc != IMSSEC_E_MAC_FAILURE &&
             rc != IMSSEC_E_AMF && rc != IMSSEC_E_CALLBACK)
        rc = IMSSEC_E_CALLBACK;
    if (rc == IMSSEC_OK || rc == IMSSEC_E_SYNC_FAILURE || rc == IMSSEC_E_AMF)
        *out = r;
    isc_wipe(&r, sizeof r);
    return rc;
}

IMSSEC_API int imssec_aka_vector_gen(const imssec_milenage *m, const imssec_io *io,
                                     const uint8_t rand[16], uint64_t sqn,
                                     const uint8_t amf[2], imssec_aka_vector *v)
{
    isc_aes128 aes;
    imssec_aka_vector r;
    uint8_t temp[16], o[16], sqnb[6];
    unsigned i;
    int rc;
    if (sqn > IMSSEC_AKA_SQN_MASK)
        return IMSSEC_E_RANGE;
    memset(&r, 0, sizeof r);
    if (rand)
        memcpy(r.rand, rand, 16);
    else if ((rc = isc_random(io, r.rand, 16)) != IMSSEC_OK)
        return rc;
    isc_put_be48(sqnb, sqn);
    isc_aes128_setkey(&aes, m->k_);
    aka_mil_temp(m, &aes, r.rand, temp);
    aka_mil_outn(m, &aes, temp, 2, o);
    memcpy(r.ak, o, 6);
    memcpy(r.xres, o + 8, 8);
    r.xres_len = IMSSEC_MILENAGE_RES_LEN;
    aka_mil_outn(m, &aes, temp, 3, r.ck);
    aka_mil_outn(m, &aes, temp, 4, r.ik);
    aka_mil_out1(m, &aes, temp, sqnb, amf, o);
    for (i = 0; i < 6; i++)
        r.autn[i] = (uint8_t)(sqnb[i] ^ r.ak[i]);
    memcpy(r.autn + 6, amf, 2);
    memcpy(r.autn + 8, o, 8);
    r.sqn = sqn;
    *v = r;
    isc_aes128_wipe(&aes);
    isc_wipe(temp, sizeof temp);
    isc_wipe(o, sizeof o);
    isc_wipe(&r, sizeof r);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_aka_auts_verify(const imssec_milenage *m, const uint8_t rand[16],
                                      const uint8_t auts[14], uint64_t *sqn_ms)
{
    isc_aes128 aes;
    uint8_t temp[16], o[16], ms[6];
    unsigned i;
    int ok;
    isc_aes128_setkey(&aes, m->k_);
    aka_mil_temp(m, &aes, rand, temp);
    aka_mil_outn(m, &aes, temp, 5, o);
    for (i = 0; i < 6; i++)
        ms[i] = (uint8_t)(auts[i] ^ o[i]);
    aka_mil_out1(m, &aes, temp, ms, aka_amf_resync, o);
    ok = isc_ct_eq(o + 8, auts + 6, 8);
    if (ok)
        *sqn_ms = isc_be48(ms);
    isc_aes128_wipe(&aes);
    isc_wipe(temp, sizeof temp);
    isc_wipe(o, sizeof o);
    return ok ? IMSSEC_OK : IMSSEC_E_MAC_FAILURE;
}

/* ---- nonce ------------------------------------------------------------------ */

IMSSEC_API int imssec_aka_nonce_encode(const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                       const uint8_t autn[IMSSEC_AKA_AUTN_LEN],
                                       const uint8_t *server_data, size_t server_data_len,
                                       int padded, char *out, size_t out_cap, size_t *out_len)
{
    uint8_t raw[32 + IMSSEC_AKA_NONCE_DATA_MAX];
    char txt[(32 + IMSSEC_AKA_NONCE_DATA_MAX + 2) / 3 * 4];
    size_t n = 32 + server_data_len, tn = 0, need;
    if (!rand || !autn || server_data_len > IMSSEC_AKA_NONCE_DATA_MAX ||
        (server_data_len && !server_data) || !out_len || (out_cap && !out))
        return IMSSEC_E_PARAM;
    memcpy(raw, rand, 16);
    memcpy(raw + 16, autn, 16);
    if (server_data_len)
        memcpy(raw + 32, server_data, server_data_len);
    (void)imssec_base64_encode(raw, n, txt, sizeof txt, &tn);
    need = tn;
    if (!padded)
        while (need > 0 && txt[need - 1] == '=')
            need--;
    *out_len = need;
    if (need > out_cap)
        return IMSSEC_E_SPACE;
    memcpy(out, txt, need);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_aka_nonce_decode(imssec_str nonce, uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                       uint8_t autn[IMSSEC_AKA_AUTN_LEN], uint8_t *server_data,
                                       size_t server_data_cap, size_t *server_data_len)
{
    uint8_t raw[32 + IMSSEC_AKA_NONCE_DATA_MAX];
    size_t need = 0;
    int rc;
    if ((!nonce.p && nonce.n) || !rand || !autn || (server_data_cap && !server_data))
        return IMSSEC_E_PARAM;
    rc = imssec_base64_decode(nonce, NULL, 0, &need);
    if (rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_PARAM || need < 32)
        return IMSSEC_E_SYNTAX;
    if (need > sizeof raw)
        return IMSSEC_E_RANGE; /* more server data than IMSSEC_AKA_NONCE_DATA_MAX */
    if (server_data && need - 32 > server_data_cap) {
        if (server_data_len)
            *server_data_len = need - 32;
        return IMSSEC_E_SPACE;
    }
    if (imssec_base64_decode(nonce, raw, sizeof raw, &need) != IMSSEC_OK)
        return IMSSEC_E_SYNTAX;
    memcpy(rand, raw, 16);
    memcpy(autn, raw + 16, 16);
    if (server_data && need > 32)
        memcpy(server_data, raw + 32, need - 32);
    if (server_data_len)
        *server_data_len = need - 32;
    isc_wipe(raw, sizeof raw);
    return IMSSEC_OK;
}
