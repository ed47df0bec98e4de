/*
 * esp_annex_i_keys.c -- the key expansion of TS 33.203 Annex I through the
 * public API, hand-checked: HMAC-SHA-1-96 appends 32 zero bits, HMAC-MD5-96
 * and AES-CBC take the keys unchanged, 3DES is CK1||CK2||CK1 with odd
 * parity in the low bit of every byte; a build without 3DES / HMAC-MD5
 * refuses those with the outputs untouched.
 */

#include "../../imssec.h"
#include "../t.h"

/* ---- Annex I ----------------------------------------------------------------- */

/* TS 33.203 Annex I, checked by hand: SHA-1 appends 32 zero bits; MD5 and
 * AES take the keys unchanged; 3DES is CK1||CK2||CK1 with odd parity.  The
 * parity bytes were worked out by hand: 0x00 -> 0x01 (no bits set, so the
 * low bit makes one), 0x01 -> 0x01, 0x02 -> 0x02, 0x03 -> 0x02 (two bits:
 * low bit cleared), 0xfe -> 0xfe (7 bits), 0xff -> 0xfe, 0x80 -> 0x80,
 * 0x7f -> 0x7f, 0x10 -> 0x10, 0x11 -> 0x10, 0xaa -> 0xab (4 bits), 0x55 ->
 * 0x54, 0x96 -> 0x97 (4 bits), 0x69 -> 0x68, 0xe0 -> 0xe0, 0x0e -> 0x0e. */
T_TEST(esp_keys_annex_i)
{
    uint8_t ik[16], ck[16], ike[IMSSEC_ESP_AUTH_KEY_MAX], cke[IMSSEC_ESP_ENC_KEY_MAX];
    size_t il, cl;
    t_unhex("000102030405060708090a0b0c0d0e0f", ik, 16);
    t_unhex("00010203fefff0807f101155aa966900", ck, 16);
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, ik, ck, ike,
                             &il, cke, &cl),
             IMSSEC_OK);
    T_EQ_UINT(il, 20);
    T_EQ_HEX(ike, il, "000102030405060708090a0b0c0d0e0f00000000");
    T_EQ_UINT(cl, 16);
    T_EQ_HEX(cke, cl, "00010203fefff0807f101155aa966900");
    if (!IMSSEC_ENABLE_3DES || !IMSSEC_ENABLE_HMAC_MD5) {
        T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC, ik,
                                 ck, ike, &il, cke, &cl),
                 IMSSEC_E_UNSUPPORTED);
        T_SKIP("3DES or HMAC-MD5 compiled out (SHA-1 / AES part checked)");
    }
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC, ik, ck,
                             ike, &il, cke, &cl),
             IMSSEC_OK);
    T_EQ_UINT(il, 16);
    T_EQ_HEX(ike, il, "000102030405060708090a0b0c0d0e0f");
    T_EQ_UINT(cl, 24);
    /* 00 01 02 03 fe ff f0 80 | 7f 10 11 55 aa 96 69 00 | CK1 again
     * f0 has 4 bits -> f1 */
    T_EQ_HEX(cke, cl,
             "01010202fefef1807f101054ab976801"
             "01010202fefef180");
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL, ik, ck, ike, &il,
                             cke, &cl),
             IMSSEC_OK);
    T_EQ_UINT(cl, 0);
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_NULL, IMSSEC_EALG_NULL, ik, ck, ike, &il, cke,
                             &cl),
             IMSSEC_E_PARAM);
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_SHA1_96, 7, ik, ck, ike, &il, cke, &cl),
             IMSSEC_E_PARAM);
}

/* Every 3DES key byte has odd parity and differs from CK only in bit 0. */
T_TEST(esp_keys_des_parity_all_bytes)
{
    uint8_t ik[16] = {0}, ck[16], ike[20], cke[24];
    size_t il, cl, i;
    unsigned v;
    if (!IMSSEC_ENABLE_3DES)
        T_SKIP("3DES compiled out");
    for (v = 0; v < 256; v += 16) {
        for (i = 0; i < 16; i++)
            ck[i] = (uint8_t)(v + i);
        T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_DES_EDE3_CBC, ik,
                                 ck, ike, &il, cke, &cl),
                 IMSSEC_OK);
        for (i = 0; i < 24; i++) {
            unsigned b = cke[i], bits = 0;
            while (b) {
                bits += b & 1;
                b >>= 1;
            }
            T_EQ_UINT(bits & 1, 1);
            T_EQ_UINT(cke[i] & 0xfe, ck[i < 16 ? i : i - 16] & 0xfe);
        }
    }
}

/* Annex I key expansion, hand-checked.  A build without 3DES / HMAC-MD5
 * refuses those (UNSUPPORTED, outputs untouched) and checks the AES-CBC
 * expansion (CK_ESP = CK_IM) in their place. */
T_TEST(esp_annex_i_keys_3des_parity_and_unsupported)
{
    uint8_t ik[16], ck[16], ike[20], cke[24];
    size_t il = 99, cl = 99, i;
    for (i = 0; i < 16; i++) {
        ik[i] = (uint8_t)(0xf0 + i);
        ck[i] = (uint8_t)(i * 0x11);
    }
    if (IMSSEC_ENABLE_3DES) {
        T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_DES_EDE3_CBC, ik,
                                 ck, ike, &il, cke, &cl), IMSSEC_OK);
        T_EQ_UINT(il, 20);
        T_EQ_MEM(ike, ik, 16);
        T_EQ_HEX(ike + 16, 4, "00000000");
        T_EQ_UINT(cl, 24);
        /* 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff with odd parity
         * in the low bit: 01 10 23 32 45 54 67 76 89 98 ab ba cd dc ef fe */
        T_EQ_HEX(cke, 24, "0110233245546776 89 98 ab ba cd dc ef fe 0110233245546776");
    } else {
        memset(ike, 0xA5, sizeof ike);
        memset(cke, 0xA5, sizeof cke);
        T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_DES_EDE3_CBC, ik,
                                 ck, ike, &il, cke, &cl), IMSSEC_E_UNSUPPORTED);
        T_EQ_UINT(il, 99);
        T_EQ_UINT(cl, 99);
        T_EQ_UINT(ike[0], 0xA5);
        T_EQ_UINT(cke[0], 0xA5);
        T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, ik, ck,
                                 ike, &il, cke, &cl), IMSSEC_OK);
        T_EQ_UINT(il, 20);
        T_EQ_MEM(ike, ik, 16);
        T_EQ_HEX(ike + 16, 4, "00000000");
        T_EQ_UINT(cl, 16);
        T_EQ_MEM(cke, ck, 16);
    }
    if (IMSSEC_ENABLE_HMAC_MD5) {
        T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL, ik, ck, ike,
                                 &il, cke, &cl), IMSSEC_OK);
        T_EQ_UINT(il, 16);
        T_EQ_UINT(cl, 0);
    } else {
        T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL, ik, ck, ike,
                                 &il, cke, &cl), IMSSEC_E_UNSUPPORTED);
        T_EQ_UINT(il, 20);
    }
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_NULL, IMSSEC_EALG_NULL, ik, ck, ike, &il, cke, &cl),
             IMSSEC_E_PARAM);
}
