/*
 * wb_core_crypto.c -- known answers for the crypto seam and the shared internals.
 * Sources of truth are named on each vector.
 */

/* hash by name, one shot; checks the output against hex */
static int wb_hash_is(int alg, const char *msg, size_t n, const char *hex, int line)
{
    uint8_t out[64];
    isc_hash_once(alg, msg, n, out);
    return t_hex_differs_(__FILE__, line, "digest", out, isc_hash_len(alg), hex);
}
#define WB_HASH(alg, s, hex)                                                   \
    do {                                                                       \
        if (wb_hash_is(alg, s, strlen(s), hex, __LINE__))                      \
            return;                                                            \
    } while (0)

/* FIPS 180-2 / FIPS 180-4 example "abc" and the 896-bit message; RFC 1321
 * appendix A.5 for MD5. */
T_TEST(core_hash_known_answers)
{
    static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                               "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    WB_HASH(ISC_MD5, "", "d41d8cd98f00b204e9800998ecf8427e");
    WB_HASH(ISC_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72");
    WB_HASH(ISC_MD5, "message digest", "f96b697d7cb7938d525a2f31aaf161d0");
    WB_HASH(ISC_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
    WB_HASH(ISC_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    WB_HASH(ISC_SHA512, "abc",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    WB_HASH(ISC_SHA512_256, "abc",
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
    WB_HASH(ISC_SHA512_256, m896,
            "3928e184fb8690f840da3988121d31be65cb9d3ef83ee6146feac861e19b563a");
}

/* Incremental hashing gives the one-shot result at every split point. */
T_TEST(core_hash_split_scan)
{
    uint8_t msg[300], one[64], two[64];
    int alg;
    size_t cut;
    t_randbytes(msg, sizeof msg);
    for (alg = ISC_MD5; alg <= ISC_SHA512_256; alg++) {
        isc_hash_once(alg, msg, sizeof msg, one);
        for (cut = 0; cut <= sizeof msg; cut++) {
            isc_hash h;
            isc_hash_start(&h, alg);
            isc_hash_update(&h, msg, cut);
            isc_hash_update(&h, msg + cut, sizeof msg - cut);
            isc_hash_finish(&h, two);
            T_EQ_MEM(two, one, isc_hash_len(alg));
        }
    }
}

/* RFC 2202 sections 2 and 3, all seven cases each, full and -96 (the
 * truncation RFC 2403 / RFC 2404 use as the ESP ICV); the table is
 * test/vectors/esp-vectors.md section 1. */
T_TEST(core_hmac_rfc2202)
{
    static const struct {
        int alg;
        const char *key, *data, *mac;
    } v[] = {
        {ISC_MD5, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", "9294727a3638bb1c13f48ef8158bfc9d"},
        {ISC_MD5, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "750c783e6ab0b503eaa86e310a5db738"},
        {ISC_MD5, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dd*50", "56be34521d144c88dbb8c733f0e8b3f6"},
        {ISC_MD5, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50", "697eaf0aca3a3aea3a75164746ffaa79"},
        {ISC_MD5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e", "56461ef2342edc00f9bab995690efd4c"},
        {ISC_MD5, "aa*80", "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374", "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
        {ISC_MD5, "aa*80", "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b657920616e64204c6172676572205468616e204f6e6520426c6f636b2d53697a652044617461", "6f630fad67cda0ee1fb1f562db3aa53e"},
        {ISC_SHA1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", "b617318655057264e28bc0b6fb378c8ef146be00"},
        {ISC_SHA1, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {ISC_SHA1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dd*50", "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {ISC_SHA1, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50", "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
        {ISC_SHA1, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
        {ISC_SHA1, "aa*80", "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374", "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
        {ISC_SHA1, "aa*80", "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b657920616e64204c6172676572205468616e204f6e6520426c6f636b2d53697a652044617461", "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
    };
    size_t i;
    for (i = 0; i < ISC_ARRAY_LEN(v); i++) {
        uint8_t key[128], data[128], mac[64], want[64];
        size_t kl, dl, ml;
        isc_hmac k;
        isc_hash c;
        /* "xx*N" is byte xx repeated N times */
        if (strchr(v[i].key, '*')) {
            kl = (size_t)atoi(strchr(v[i].key, '*') + 1);
            memset(key, (int)strtol(v[i].key, NULL, 16), kl);
        } else {
            kl = t_unhex(v[i].key, key, sizeof key);
        }
        if (strchr(v[i].data, '*')) {
            dl = (size_t)atoi(strchr(v[i].data, '*') + 1);
            memset(data, (int)strtol(v[i].data, NULL, 16), dl);
        } else {
            dl = t_unhex(v[i].data, data, sizeof data);
        }
        ml = t_unhex(v[i].mac, want, sizeof want);
        isc_hmac_once(v[i].alg, key, kl, data, dl, mac);
        T_EQ_MEM(mac, want, ml);
        /* the precomputed state, reused for three messages, gives the same
         * answer every time and is not changed by use */
        isc_hmac_setkey(&k, v[i].alg, key, kl);
        for (kl = 0; kl < 3; kl++) {
            memset(mac, 0, sizeof mac);
            isc_hmac_start(&k, &c);
            isc_hash_update(&c, data, dl / 2);
            isc_hash_update(&c, data + dl / 2, dl - dl / 2);
            isc_hmac_finish(&k, &c, mac);
            T_EQ_MEM(mac, want, 12); /* the -96 ICV */
            T_EQ_MEM(mac, want, ml);
        }
        isc_hmac_wipe(&k);
    }
}

/* RFC 4231 test case 2 for HMAC-SHA-256 and HMAC-SHA-512. */
T_TEST(core_hmac_rfc4231)
{
    static const char d[] = "what do ya want for nothing?";
    uint8_t mac[64];
    isc_hmac_once(ISC_SHA256, (const uint8_t *)"Jefe", 4, d, strlen(d), mac);
    T_EQ_HEX(mac, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    isc_hmac_once(ISC_SHA512, (const uint8_t *)"Jefe", 4, d, strlen(d), mac);
    T_EQ_HEX(mac, 64, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

/* RFC 3602 section 4, cases 1-4: AES-128-CBC, both directions, in place. */
T_TEST(core_aes_cbc_rfc3602)
{
    static const struct {
        const char *key, *iv, *pt, *ct;
    } v[] = {
        {"06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
         "53696e676c6520626c6f636b206d7367", "e353779c1079aeb82708942dbe77181a"},
        {"c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"},
        {"6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
         "5468697320697320612034382d62797465206d657373616765202865786163746c7920332041455320626c6f636b7329",
         "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684"},
        {"56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
         "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
         "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"},
    };
    size_t i;
    for (i = 0; i < ISC_ARRAY_LEN(v); i++) {
        uint8_t key[16], iv[16], pt[64], ct[64], buf[64];
        size_t n;
        isc_cipher c;
        t_unhex(v[i].key, key, sizeof key);
        t_unhex(v[i].iv, iv, sizeof iv);
        n = t_unhex(v[i].pt, pt, sizeof pt);
        t_unhex(v[i].ct, ct, sizeof ct);
        T_EQ_INT(isc_cipher_setkey(&c, ISC_CIPHER_AES128_CBC, key, 16), IMSSEC_OK);
        memcpy(buf, pt, n);
        isc_cipher_cbc(&c, 1, iv, buf, buf, n);
        T_EQ_MEM(buf, ct, n);
        isc_cipher_cbc(&c, 0, iv, buf, buf, n);
        T_EQ_MEM(buf, pt, n);
        isc_cipher_wipe(&c);
    }
}

/* NIST SP 800-67 Rev.1 TDEA example (three keys), block by block: CBC with a
 * zero IV over one block is ECB. */
T_TEST(core_des3_sp800_67)
{
#if IMSSEC_ENABLE_3DES
    uint8_t key[24], pt[24], ct[24], blk[8], zero[8] = {0};
    size_t i;
    isc_cipher c;
    t_unhex("0123456789abcdef23456789abcdef01456789abcdef0123", key, sizeof key);
    memcpy(pt, "The qufck brown fox jump", 24);
    t_unhex("a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900", ct, sizeof ct);
    T_EQ_INT(isc_cipher_setkey(&c, ISC_CIPHER_DES3_CBC, key, 24), IMSSEC_OK);
    for (i = 0; i < 24; i += 8) {
        isc_cipher_cbc(&c, 1, zero, pt + i, blk, 8);
        T_EQ_MEM(blk, ct + i, 8);
        isc_cipher_cbc(&c, 0, zero, ct + i, blk, 8);
        T_EQ_MEM(blk, pt + i, 8);
    }
#else
    T_SKIP("compiled without IMSSEC_ENABLE_3DES");
#endif
}

/* A keyed cipher copied to another address (as a restored SA snapshot or a
 * moved table slot would be) still works: the seam rebuilds its schedules. */
T_TEST(core_cipher_survives_move)
{
    static isc_cipher a, b[2];
    uint8_t key[24], iv[16], pt[48], ct[48], buf[48];
    int alg;
    t_randbytes(key, sizeof key);
    t_randbytes(iv, sizeof iv);
    t_randbytes(pt, sizeof pt);
    for (alg = ISC_CIPHER_AES128_CBC; alg <= ISC_CIPHER_DES3_CBC; alg++) {
        if (isc_cipher_setkey(&a, alg, key, isc_cipher_keylen(alg)) != IMSSEC_OK)
            continue; /* 3DES compiled out */
        isc_cipher_cbc(&a, 1, iv, pt, ct, sizeof pt);
        memcpy((uint8_t *)&b[1], &a, sizeof a);
        memset(&a, 0xa5, sizeof a);
        isc_cipher_cbc(&b[1], 0, iv, ct, buf, sizeof buf);
        T_EQ_MEM(buf, pt, sizeof pt);
    }
}

T_TEST(core_ct_eq_and_token_eq)
{
    uint8_t a[32], b[32];
    size_t i;
    t_randbytes(a, sizeof a);
    memcpy(b, a, sizeof a);
    T_EQ_INT(isc_ct_eq(a, b, sizeof a), 1);
    T_EQ_INT(isc_ct_eq(a, b, 0), 1);
    for (i = 0; i < sizeof a * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        T_EQ_INT(isc_ct_eq(a, b, sizeof a), 0);
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    T_EQ_INT(isc_token_eq("ALG", 3, "alg"), 1);
    T_EQ_INT(isc_token_eq("al", 2, "alg"), 0);   /* no prefix matches */
    T_EQ_INT(isc_token_eq("algx", 4, "alg"), 0);
    T_EQ_INT(isc_token_eq("", 0, "alg"), 0);
    T_EQ_INT(isc_token_eq("", 0, ""), 1);
}

T_TEST(core_sbuf_bounded)
{
    char out[8];
    isc_sbuf b;
    static const uint8_t k[3] = {0x00, 0xab, 0xff};
    isc_sb_init(&b, out, sizeof out);
    isc_sb_puts(&b, "n=");
    isc_sb_putu(&b, 4294967295u);
    T_ASSERT(!isc_sb_ok(&b));
    T_EQ_UINT(b.len, 12);
    T_EQ_SLICE(out, sizeof out, "n=429496");
    isc_sb_init(&b, out, sizeof out);
    isc_sb_puthex(&b, k, 3);
    T_ASSERT(isc_sb_ok(&b));
    T_EQ_SLICE(out, b.len, "00abff");
}
