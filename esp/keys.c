/*
 * keys.c -- TS 33.203 Annex I: ESP keys from the IMS AKA keys IK_IM, CK_IM
 * (v7.7.0 for HMAC-MD5-96 / HMAC-SHA-1-96 / DES-EDE3-CBC / AES-CBC; the
 * later-release text for AES-GMAC / AES-GCM, see esp_annex_i_salt).
 * The library's only copy of the rule: sa/ expands the keys of every SA it
 * stores through imssec_esp_keys().
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

/* RFC 2451 section 2.5 (via FIPS 46-3): the low bit of every DES key byte
 * makes the byte's bit count odd.  Not secret-dependent in timing: pure
 * arithmetic, no table or branch. */
static uint8_t esp_des_odd_parity(uint8_t b)
{
    unsigned v = (unsigned)b >> 1;
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return (uint8_t)((b & 0xfeu) | (~v & 1u));
}

/* The later-release salt of Annex I: the 32 least significant bits of the
 * 256-bit output of the TS 33.220 Annex B KDF, HMAC-SHA-256 keyed with
 * CK_IM || IK_IM over S = FC || P0 || L0 (B.2.2: L0 the length of P0 as
 * two bytes).  AES-GMAC: FC 0x58, P0 "AES_GMAC_SALT"; AES-GCM: FC 0x59,
 * P0 "AES_GCM_SALT".  (TS 33.203 Annex I text of the release that added
 * the two algorithms, as quoted in OpenSIPS modules/proto_ipsec/
 * ipsec_algo.c; the v7.7.0 of the rest of the library has no such rule.) */
static void esp_annex_i_salt(uint8_t fc, const char *p0, const uint8_t ik_im[16],
                             const uint8_t ck_im[16], uint8_t salt[4])
{
    uint8_t key[32], s[1 + 16 + 2], out[32];
    size_t l0 = strlen(p0);
    memcpy(key, ck_im, 16);
    memcpy(key + 16, ik_im, 16);
    s[0] = fc;
    memcpy(s + 1, p0, l0);
    isc_put_be16(s + 1 + l0, (uint16_t)l0);
    isc_hmac_once(ISC_SHA256, key, sizeof key, s, 1 + l0 + 2, out);
    memcpy(salt, out + 28, 4);
    isc_wipe(key, sizeof key);
    isc_wipe(out, sizeof out);
}

IMSSEC_API int imssec_esp_keys(int alg, int ealg, const uint8_t ik_im[IMSSEC_AKA_IK_LEN],
                               const uint8_t ck_im[IMSSEC_AKA_CK_LEN],
                               uint8_t ik_esp[IMSSEC_ESP_AUTH_KEY_MAX], size_t *ik_esp_len,
                               uint8_t ck_esp[IMSSEC_ESP_ENC_KEY_MAX], size_t *ck_esp_len)
{
    size_t i;
    if (!ik_im || !ck_im || !ik_esp || !ik_esp_len || !ck_esp || !ck_esp_len)
        return IMSSEC_E_PARAM;
    if (alg != IMSSEC_ALG_HMAC_MD5_96 && alg != IMSSEC_ALG_HMAC_SHA1_96 &&
        alg != IMSSEC_ALG_AES_GMAC && alg != IMSSEC_ALG_NULL)
        return IMSSEC_E_PARAM;
    if (ealg != IMSSEC_EALG_NULL && ealg != IMSSEC_EALG_AES_CBC &&
        ealg != IMSSEC_EALG_DES_EDE3_CBC && ealg != IMSSEC_EALG_AES_GCM)
        return IMSSEC_E_PARAM;
    /* the pairs of the later releases: alg NULL only with AES-GCM (its
     * own integrity), AES-GMAC only without encryption */
    if ((alg == IMSSEC_ALG_NULL) != (ealg == IMSSEC_EALG_AES_GCM) ||
        (alg == IMSSEC_ALG_AES_GMAC && ealg != IMSSEC_EALG_NULL))
        return IMSSEC_E_PARAM;
    if ((alg == IMSSEC_ALG_HMAC_MD5_96 && !IMSSEC_ENABLE_HMAC_MD5) ||
        (ealg == IMSSEC_EALG_DES_EDE3_CBC && !IMSSEC_ENABLE_3DES))
        return IMSSEC_E_UNSUPPORTED;
    /* Integrity: IK_ESP = IK_IM, IK_IM || 0^32 for HMAC-SHA-1-96, IK_IM ||
     * salt for AES-GMAC (the RFC 4543 keying material: key, then salt),
     * nothing for NULL (AES-GCM). */
    *ik_esp_len = 0;
    if (alg != IMSSEC_ALG_NULL) {
        memcpy(ik_esp, ik_im, 16);
        *ik_esp_len = 16;
    }
    if (alg == IMSSEC_ALG_HMAC_SHA1_96) {
        memset(ik_esp + 16, 0, 4);
        *ik_esp_len = 20;
    } else if (alg == IMSSEC_ALG_AES_GMAC) {
        esp_annex_i_salt(0x58, "AES_GMAC_SALT", ik_im, ck_im, ik_esp + 16);
        *ik_esp_len = 20;
    }
    /* Encryption: CK_ESP = CK_IM (AES-CBC), CK_IM || salt (AES-GCM, RFC
     * 4106 keying material), CK1 || CK2 || CK1 with parity (DES-EDE3-CBC,
     * CK1 = the 64 most significant bits), none (NULL). */
    *ck_esp_len = 0;
    if (ealg == IMSSEC_EALG_AES_CBC || ealg == IMSSEC_EALG_AES_GCM) {
        memcpy(ck_esp, ck_im, 16);
        *ck_esp_len = 16;
        if (ealg == IMSSEC_EALG_AES_GCM) {
            esp_annex_i_salt(0x59, "AES_GCM_SALT", ik_im, ck_im, ck_esp + 16);
            *ck_esp_len = 20;
        }
    } else if (ealg == IMSSEC_EALG_DES_EDE3_CBC) {
        for (i = 0; i < 24; i++)
            ck_esp[i] = esp_des_odd_parity(ck_im[i < 16 ? i : i - 16]);
        *ck_esp_len = 24;
    }
    return IMSSEC_OK;
}
