/*
 * test_core.c -- the public core: errors, version, base64, wipe and compare.
 */
#include "../imssec.h"
#include "t.h"

/* RFC 4648 section 10 test vectors, both directions. */
T_TEST(core_base64_rfc4648)
{
    static const char *v[][2] = {{"", ""},          {"f", "Zg=="},
                                 {"fo", "Zm8="},    {"foo", "Zm9v"},
                                 {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                 {"foobar", "Zm9vYmFy"}};
    size_t i, n;
    char enc[16];
    uint8_t dec[16];
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        T_EQ_INT(imssec_base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), enc,
                                      sizeof enc, &n), IMSSEC_OK);
        T_EQ_SLICE(enc, n, v[i][1]);
        T_EQ_INT(imssec_base64_decode(v[i][1], strlen(v[i][1]), dec, sizeof dec, &n),
                 IMSSEC_OK);
        T_EQ_SLICE((const char *)dec, n, v[i][0]);
    }
}

/* IMS nonces arrive with and without padding; both decode to the same
 * bytes.  (mbedTLS's decoder silently drops an unpadded tail.) */
T_TEST(core_base64_unpadded)
{
    uint8_t dec[8];
    size_t n;
    T_EQ_INT(imssec_base64_decode("Zg", 2, dec, sizeof dec, &n), IMSSEC_OK);
    T_EQ_SLICE((const char *)dec, n, "f");
    T_EQ_INT(imssec_base64_decode("Zm8", 3, dec, sizeof dec, &n), IMSSEC_OK);
    T_EQ_SLICE((const char *)dec, n, "fo");
    T_EQ_INT(imssec_base64_decode("Zm9vYmE", 7, dec, sizeof dec, &n), IMSSEC_OK);
    T_EQ_SLICE((const char *)dec, n, "fooba");
}

T_TEST(core_base64_rejects)
{
    static const char *bad[] = {"Z",     "Zg=",  "Zg===", "Zm9=v", "Zm 9v", "Zh==",
                                "Zm9=",  "=",    "Zm9v=", "Zm9vY", "Z!==",  "Zm9v\n"};
    uint8_t dec[8];
    size_t i, n = 99;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(dec, 0x5a, sizeof dec);
        if (imssec_base64_decode(bad[i], strlen(bad[i]), dec, sizeof dec, &n) !=
            IMSSEC_E_SYNTAX) {
            t_fail_(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
            return;
        }
        T_EQ_UINT(dec[0], 0x5a); /* nothing written */
    }
}

T_TEST(core_base64_space)
{
    char enc[3];
    uint8_t dec[2];
    size_t n = 0;
    T_EQ_INT(imssec_base64_encode((const uint8_t *)"foo", 3, enc, sizeof enc, &n),
             IMSSEC_E_SPACE);
    T_EQ_UINT(n, 4);
    T_EQ_INT(imssec_base64_decode("Zm9v", 4, dec, sizeof dec, &n), IMSSEC_E_SPACE);
    T_EQ_UINT(n, 3);
}

T_TEST(core_strerror_total)
{
    int e;
    for (e = -2000; e <= 10; e++) {
        T_ASSERT(imssec_strerror(e) != NULL);
        T_ASSERT(imssec_errname(e) != NULL);
    }
    T_EQ_STR(imssec_strerror(IMSSEC_OK), "success");
    T_EQ_STR(imssec_errname(IMSSEC_E_ICV), "IMSSEC_E_ICV");
    T_EQ_STR(imssec_strerror(12345), "unknown error");
    T_EQ_INT(imssec_err_is_verdict(IMSSEC_E_REPLAY), 1);
    T_EQ_INT(imssec_err_is_verdict(IMSSEC_E_MAC_FAILURE), 1);
    T_EQ_INT(imssec_err_is_verdict(IMSSEC_E_SECAGREE_REJECT), 1);
    T_EQ_INT(imssec_err_is_verdict(IMSSEC_E_SA_WRONG), 1);
    T_EQ_INT(imssec_err_is_verdict(IMSSEC_E_PARAM), 0);
    T_EQ_INT(imssec_err_is_verdict(IMSSEC_E_SPACE), 0);
    T_EQ_INT(imssec_err_is_verdict(IMSSEC_OK), 0);
}

T_TEST(core_version_and_build_info)
{
    T_EQ_STR(imssec_version(), IMSSEC_VERSION_STRING);
    T_ASSERT(strstr(imssec_build_info(), "mbedtls=") != NULL);
    T_ASSERT(strstr(imssec_build_info(), IMSSEC_VERSION_STRING) != NULL);
}

T_TEST(core_wipe_and_ct_equal)
{
    uint8_t k[24];
    size_t i;
    memset(k, 0xee, sizeof k);
    imssec_wipe(k, sizeof k);
    for (i = 0; i < sizeof k; i++)
        T_EQ_UINT(k[i], 0);
    T_EQ_INT(imssec_ct_equal("abc", "abc", 3), 1);
    T_EQ_INT(imssec_ct_equal("abc", "abd", 3), 0);
}
