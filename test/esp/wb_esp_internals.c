/*
 * wb_esp_internals.c -- white-box checks of esp/: the ICV function against
 * RFC 2202 (the cases whose key has the ESP key size), the 3DES seam
 * against NIST SP 800-67, and inbound verdicts that need a packet whose ICV
 * is valid but whose trailer is wrong (bad padding, dummy, pad length
 * overrun), made by re-signing a NULL-encrypted packet.
 */

static int wb_esp_sa(imssec_esp_sa *sa, int dir, int auth, const uint8_t *key, size_t klen)
{
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 0x2002;
    p.dir = dir;
    p.alg = auth;
    p.auth_key = key;
    p.auth_key_len = klen;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

/* RFC 2202 sections 2 and 3, cases 1, 3, 5 (16-byte MD5 / 20-byte SHA-1
 * keys: the only sizes an ESP SA takes), truncated to 96 bits. */
T_TEST(esp_wb_icv_rfc2202)
{
    static const struct {
        int auth;
        uint8_t kb;
        size_t klen;
        const char *data;
        size_t dlen;
        const char *icv;
    } v[] = {
        {IMSSEC_ALG_HMAC_MD5_96, 0x0b, 16, "Hi There", 8, "9294727a3638bb1c13f48ef8"},
        {IMSSEC_ALG_HMAC_MD5_96, 0xaa, 16, NULL, 50, "56be34521d144c88dbb8c733"},
        {IMSSEC_ALG_HMAC_MD5_96, 0x0c, 16, "Test With Truncation", 20, "56461ef2342edc00f9bab995"},
        {IMSSEC_ALG_HMAC_SHA1_96, 0x0b, 20, "Hi There", 8, "b617318655057264e28bc0b6"},
        {IMSSEC_ALG_HMAC_SHA1_96, 0xaa, 20, NULL, 50, "125d7342b9ac11cd91a39af4"},
        {IMSSEC_ALG_HMAC_SHA1_96, 0x0c, 20, "Test With Truncation", 20, "4c1a03424b55e07fe7f27be1"},
    };
    size_t i;
    for (i = 0; i < ISC_ARRAY_LEN(v); i++) {
        imssec_esp_sa sa;
        uint8_t key[20], data[50], icv[IMSSEC_ESP_ICV_LEN];
        if (v[i].auth == IMSSEC_ALG_HMAC_MD5_96 && !IMSSEC_ENABLE_HMAC_MD5)
            continue; /* compiled out */
        memset(key, v[i].kb, sizeof key);
        if (v[i].data)
            memcpy(data, v[i].data, v[i].dlen);
        else
            memset(data, 0xdd, v[i].dlen);
        T_EQ_INT(wb_esp_sa(&sa, IMSSEC_ESP_INBOUND, v[i].auth, key, v[i].klen), IMSSEC_OK);
        esp_icv(&sa, data, v[i].dlen, 0, icv);
        T_EQ_HEX(icv, sizeof icv, v[i].icv);
        imssec_esp_sa_wipe(&sa);
        /* wiped: no key state left */
        {
            size_t k;
            const uint8_t *b = (const uint8_t *)&sa;
            for (k = 0; k < sizeof sa; k++)
                T_EQ_UINT(b[k], 0);
        }
    }
}

/* NIST SP 800-67 Rev. 1 TDEA example (ECB: each block CBC with a zero IV). */
T_TEST(esp_wb_tdea_sp800_67)
{
#if IMSSEC_ENABLE_3DES
    isc_cipher c;
    uint8_t key[24], zero[8] = {0}, out[24];
    const char *pt = "The qufck brown fox jump";
    size_t b;
    t_unhex("0123456789abcdef23456789abcdef01456789abcdef0123", key, 24);
    T_EQ_INT(isc_cipher_setkey(&c, ISC_CIPHER_DES3_CBC, key, 24), IMSSEC_OK);
    for (b = 0; b < 24; b += 8)
        isc_cipher_cbc(&c, 1, zero, (const uint8_t *)pt + b, out + b, 8);
    T_EQ_HEX(out, 24, "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900");
    isc_cipher_wipe(&c);
#else
    T_SKIP("3DES compiled out");
#endif
}

/* Protect a small IPv4 UDP packet with NULL encryption and HMAC-SHA-1-96,
 * let `edit` change the (clear) trailer, re-sign, and unprotect. */
static int wb_esp_resigned(int pad_index, uint8_t pad_value, int nh, int *rc_out,
                           imssec_esp_stats *st)
{
    static const uint8_t key[20] = {9, 8, 7};
    imssec_esp_sa o, in;
    uint8_t pt[64], pkt[160], out[160];
    size_t n = 28 + 9, plen, olen;
    memset(pt, 0, sizeof pt);
    t_unhex("45000025000040004011000ac0000201c0000202" "1f901f9000110000" "616263646566676869",
            pt, sizeof pt);
    if (wb_esp_sa(&o, IMSSEC_ESP_OUTBOUND, IMSSEC_ALG_HMAC_SHA1_96, key, 20) ||
        wb_esp_sa(&in, IMSSEC_ESP_INBOUND, IMSSEC_ALG_HMAC_SHA1_96, key, 20) ||
        imssec_esp_protect(&o, NULL, NULL, pt, n, pkt, sizeof pkt, &plen, NULL))
        return -1;
    /* ESP at 20: SPI seq | 17 payload + 1 pad 01 + padlen 01 + nh 17 | ICV */
    if (pad_index >= 0)
        pkt[20 + 8 + 17 + pad_index] = pad_value;
    if (nh >= 0)
        pkt[plen - 12 - 1] = (uint8_t)nh;
    esp_icv(&o, pkt + 20, plen - 20 - 12, 0, pkt + plen - 12);
    *rc_out = imssec_esp_unprotect(&in, pkt, plen, out, sizeof out, &olen, NULL, NULL);
    *st = in.stats_;
    imssec_esp_sa_wipe(&o);
    imssec_esp_sa_wipe(&in);
    return 0;
}

T_TEST(esp_wb_trailer_verdicts)
{
    imssec_esp_stats st;
    int rc;
    /* unchanged: accepted (the re-signing itself is right) */
    T_EQ_INT(wb_esp_resigned(-1, 0, -1, &rc, &st), 0);
    T_EQ_INT(rc, IMSSEC_OK);
    /* pad byte 1 must be 0x01 */
    T_EQ_INT(wb_esp_resigned(0, 0x00, -1, &rc, &st), 0);
    T_EQ_INT(rc, IMSSEC_E_BAD_PADDING);
    T_EQ_UINT(st.bad_padding, 1);
    /* pad length 2 claims a pad byte that is the payload's last byte */
    T_EQ_INT(wb_esp_resigned(1, 0x02, -1, &rc, &st), 0);
    T_EQ_INT(rc, IMSSEC_E_BAD_PADDING);
    /* pad length beyond the payload (VPP ef5a3e9eaac class) */
    T_EQ_INT(wb_esp_resigned(1, 0xff, -1, &rc, &st), 0);
    T_EQ_INT(rc, IMSSEC_E_BAD_PADDING);
    T_EQ_INT(wb_esp_resigned(1, 18, -1, &rc, &st), 0);
    T_EQ_INT(rc, IMSSEC_E_BAD_PADDING);
    /* pad length 0 with payload byte as pad: payload grows by one, still ok */
    T_EQ_INT(wb_esp_resigned(1, 0x00, -1, &rc, &st), 0);
    T_EQ_INT(rc, IMSSEC_OK);
    /* next header 59: dummy, dropped silently */
    T_EQ_INT(wb_esp_resigned(-1, 0, 59, &rc, &st), 0);
    T_EQ_INT(rc, IMSSEC_E_DUMMY);
    T_EQ_UINT(st.dummy, 1);
    T_EQ_UINT(st.packets, 0);
}

/* The cipher schedules survive the SA being moved (memcpy) in memory. */
T_TEST(esp_wb_sa_relocatable)
{
    static const uint8_t ak[20] = {1}, ek[16] = {2};
    imssec_esp_params p;
    imssec_esp_sa *a, *b;
    static imssec_esp_sa slots[2];
    uint8_t pt[64], pkt[200], out[200], iv[16] = {0};
    size_t n = 40, plen, olen;
    memset(pt, 0, sizeof pt);
    t_unhex("45000028000040004011000ac0000201c0000202" "1f901f9000140000" "000102030405060708090a0b",
            pt, sizeof pt);
    imssec_esp_params_init(&p);
    p.spi = 5;
    p.auth_key = ak;
    p.auth_key_len = 20;
    p.ealg = IMSSEC_EALG_AES_CBC;
    p.enc_key = ek;
    p.enc_key_len = 16;
    a = &slots[0];
    b = &slots[1];
    T_EQ_INT(imssec_esp_sa_setup(a, &p, NULL), IMSSEC_OK);
    memcpy(b, a, sizeof *a);
    memset(a, 0x5a, sizeof *a);
    T_EQ_INT(imssec_esp_protect(b, NULL, iv, pt, n, pkt, sizeof pkt, &plen, NULL), IMSSEC_OK);
    p.dir = IMSSEC_ESP_INBOUND;
    T_EQ_INT(imssec_esp_sa_setup(a, &p, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_esp_unprotect(a, pkt, plen, out, sizeof out, &olen, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(olen, n);
    /* all but the IPv4 checksum, which is recomputed (0x000a was fake) */
    T_EQ_MEM(out, pt, 10);
    T_EQ_MEM(out + 12, pt + 12, n - 12);
    imssec_esp_sa_wipe(a);
    imssec_esp_sa_wipe(b);
}
