/*
 * core_errors_version.c -- the public core besides base64: error names and
 * texts (total over every code, verdict classification), version and build
 * information, wipe and constant-time compare.
 */

#include "../../imssec.h"
#include "../t.h"

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
