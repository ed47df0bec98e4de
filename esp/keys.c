/*
 * keys.c -- TS 33.203 Annex I: ESP keys from the IMS AKA keys IK_IM, CK_IM.
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

IMSSEC_API int imssec_esp_keys(int auth, int enc, const uint8_t ik_im[16],
                               const uint8_t ck_im[16], uint8_t *ik_esp, size_t *ik_esp_len,
                               uint8_t *ck_esp, size_t *ck_esp_len)
{
    size_t i;
    if (!ik_im || !ck_im || !ik_esp || !ik_esp_len || !ck_esp || !ck_esp_len)
        return IMSSEC_E_PARAM;
    if (auth != IMSSEC_ESP_AUTH_HMAC_MD5_96 && auth != IMSSEC_ESP_AUTH_HMAC_SHA1_96)
        return IMSSEC_E_PARAM;
    if (enc != IMSSEC_ESP_ENC_NULL && enc != IMSSEC_ESP_ENC_AES_CBC &&
        enc != IMSSEC_ESP_ENC_DES_EDE3_CBC)
        return IMSSEC_E_PARAM;
    if ((auth == IMSSEC_ESP_AUTH_HMAC_MD5_96 && !IMSSEC_ENABLE_HMAC_MD5) ||
        (enc == IMSSEC_ESP_ENC_DES_EDE3_CBC && !IMSSEC_ENABLE_3DES))
        return IMSSEC_E_UNSUPPORTED;
    /* Integrity: IK_ESP = IK_IM, or IK_IM || 0^32 for HMAC-SHA-1-96. */
    memcpy(ik_esp, ik_im, 16);
    *ik_esp_len = 16;
    if (auth == IMSSEC_ESP_AUTH_HMAC_SHA1_96) {
        memset(ik_esp + 16, 0, 4);
        *ik_esp_len = 20;
    }
    /* Encryption: CK_ESP = CK_IM (AES), CK1 || CK2 || CK1 with parity
     * (DES-EDE3-CBC, CK1 = the 64 most significant bits), none (NULL). */
    *ck_esp_len = 0;
    if (enc == IMSSEC_ESP_ENC_AES_CBC) {
        memcpy(ck_esp, ck_im, 16);
        *ck_esp_len = 16;
    } else if (enc == IMSSEC_ESP_ENC_DES_EDE3_CBC) {
        for (i = 0; i < 24; i++)
            ck_esp[i] = esp_des_odd_parity(ck_im[i < 16 ? i : i - 16]);
        *ck_esp_len = 24;
    }
    return IMSSEC_OK;
}
