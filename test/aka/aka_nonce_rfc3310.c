/*
 * aka_nonce_rfc3310.c -- the IMS AKA nonce of RFC 3310 (base64 of RAND ||
 * AUTN || server data): the padded and unpadded forms, server data, every
 * truncation placed at a guard page, and IMSSEC_E_SPACE on both sides.
 */

#include "aka_fixture.h"

#include "../guard_page.h"

/* Nonce: padded and unpadded forms decode alike; server data is kept;
 * short or malformed nonces are rejected. */
T_TEST(aka_nonce_forms)
{
    /* osmo-auc-gen-1 row of aka-flows.tsv */
    static const char pad[] = "amEFB2XKoyyQNxNw5dbcLXkMXYDEewAAcWzgCIO8OeE=";
    uint8_t rand[16], autn[16], sd[8];
    size_t n = 99;
    char txt[80];
    T_EQ_INT(imssec_aka_nonce_decode(T_S(pad, strlen(pad)), rand, autn, NULL, 0, NULL), IMSSEC_OK);
    T_EQ_HEX(rand, 16, "6a61050765caa32c90371370e5d6dc2d");
    T_EQ_HEX(autn, 16, "790c5d80c47b0000716ce00883bc39e1");
    memset(rand, 0, 16);
    T_EQ_INT(imssec_aka_nonce_decode(T_S(pad, strlen(pad) - 1), rand, autn, sd, sizeof sd, &n),
             IMSSEC_OK);
    T_EQ_UINT(n, 0);
    T_EQ_HEX(rand, 16, "6a61050765caa32c90371370e5d6dc2d");
    T_EQ_INT(imssec_aka_nonce_encode(rand, autn, (const uint8_t *)"\x01\x02\x03", 3, 0, txt,
                                     sizeof txt, &n), IMSSEC_OK);
    T_EQ_UINT(n, 47); /* 35 bytes: 46.67 symbols, no padding */
    T_EQ_INT(imssec_aka_nonce_decode(T_S(txt, n), rand, autn, sd, sizeof sd, &n), IMSSEC_OK);
    T_EQ_UINT(n, 3);
    T_EQ_HEX(sd, 3, "010203");
    T_EQ_INT(imssec_aka_nonce_decode(T_S(txt, 47), rand, autn, sd, 2, &n), IMSSEC_E_SPACE);
    T_EQ_INT(imssec_aka_nonce_decode(T_S("YWJj", 4), rand, autn, NULL, 0, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_aka_nonce_decode(T_S("amEFB2XKoyyQNxNw5dbcLXkMXYDEewAAcWzgCIO8O!E=", 44), rand,
                                     autn, NULL, 0, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_aka_nonce_decode(T_S("", 0), rand, autn, NULL, 0, NULL), IMSSEC_E_SYNTAX);
}

/* Nonce decode: every truncation of a padded and an unpadded nonce at a
 * guard page; outputs untouched on error. */
T_TEST(aka_nonce_rfc3310_decode_truncations)
{
    uint8_t rand[16], autn[16], sd[40];
    char txt[200];
    size_t tl, k, sdl;
    guard_page g;
    int pad;
    for (k = 0; k < 16; k++)
        rand[k] = (uint8_t)k, autn[k] = (uint8_t)(0xf0 | k);
    for (k = 0; k < 40; k++)
        sd[k] = (uint8_t)(k * 3);
    T_ASSERT(gp_init(&g) == 0);
    for (pad = 0; pad < 2; pad++) {
        T_EQ_INT(imssec_aka_nonce_encode(rand, autn, sd, 5, pad, txt, sizeof txt, &tl), IMSSEC_OK);
        T_EQ_UINT(tl, pad ? 52 : 50);
        for (k = 0; k <= tl; k++) {
            uint8_t r2[16], a2[16], s2[40], c[16];
            size_t sl = 999;
            int rc;
            const char *q = (const char *)gp_place(&g, txt, k);
            memset(r2, 0xA5, 16);
            memset(a2, 0xA5, 16);
            memset(s2, 0xA5, 40);
            memset(c, 0xA5, 16);
            rc = imssec_aka_nonce_decode(T_S(q, k), r2, a2, s2, sizeof s2, &sl);
            if (rc == IMSSEC_OK) {
                T_ASSERT(sl <= 5);
                T_EQ_MEM(r2, rand, 16);
                T_EQ_MEM(a2, autn, 16);
                T_EQ_MEM(s2, sd, sl);
            } else {
                T_EQ_INT(rc, IMSSEC_E_SYNTAX);
                T_EQ_MEM(r2, c, 16);
                T_EQ_MEM(a2, c, 16);
                T_EQ_MEM(s2, c, 16);
            }
            if (k < 43) /* fewer than 32 bytes */
                T_EQ_INT(rc, IMSSEC_E_SYNTAX);
        }
    }
    /* server data too big for the caller's buffer: SPACE, need reported */
    T_EQ_INT(imssec_aka_nonce_encode(rand, autn, sd, 40, 1, txt, sizeof txt, &tl), IMSSEC_OK);
    {
        uint8_t r2[16], a2[16], s2[40];
        memset(r2, 0xA5, 16);
        sdl = 0;
        T_EQ_INT(imssec_aka_nonce_decode(T_S(txt, tl), r2, a2, s2, 39, &sdl), IMSSEC_E_SPACE);
        T_EQ_UINT(sdl, 40);
        T_EQ_UINT(r2[0], 0xA5);
        T_EQ_INT(imssec_aka_nonce_decode(T_S(txt, tl), r2, a2, s2, 40, &sdl), IMSSEC_OK);
        T_EQ_UINT(sdl, 40);
        T_EQ_INT(imssec_aka_nonce_decode(T_S(txt, tl), r2, a2, NULL, 0, NULL), IMSSEC_OK);
    }
    gp_free(&g);
}

/* Nonce encode: SPACE reports the need and writes nothing. */
T_TEST(aka_nonce_rfc3310_encode_space)
{
    uint8_t rand[16] = {0}, autn[16] = {0};
    char out[64], canary[64];
    size_t len = 0;
    memset(out, 0x5A, sizeof out);
    memcpy(canary, out, sizeof out);
    T_EQ_INT(imssec_aka_nonce_encode(rand, autn, NULL, 0, 1, out, 43, &len), IMSSEC_E_SPACE);
    T_EQ_UINT(len, 44);
    T_EQ_MEM(out, canary, sizeof out);
    T_EQ_INT(imssec_aka_nonce_encode(rand, autn, NULL, 0, 0, out, 42, &len), IMSSEC_E_SPACE);
    T_EQ_UINT(len, 43);
    T_EQ_MEM(out, canary, sizeof out);
    T_EQ_INT(imssec_aka_nonce_encode(rand, autn, NULL, 0, 0, out, 43, &len), IMSSEC_OK);
    T_EQ_UINT(len, 43);
    T_EQ_UINT((uint8_t)out[43], 0x5A);
}
