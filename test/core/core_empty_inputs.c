/*
 * core_empty_inputs.c -- every text parser of the public API on the empty
 * slice {NULL, 0}, which the conventions allow: a clear verdict, no
 * arithmetic on the NULL pointer (the ASan/UBSan cells abort on it), the
 * outputs untouched.  Found by fuzz_sa_register (an absent header value).
 */
#include "../../imssec.h"
#include "../t.h"

T_TEST(core_empty_slice_every_parser)
{
    const imssec_str e = {NULL, 0};
    imssec_digest_challenge ch;
    imssec_digest_credentials cr;
    imssec_digest_info di;
    imssec_secagree_mech m[2];
    imssec_secagree_via via;
    imssec_sdes_crypto sc;
    imssec_addr a;
    uint8_t rand[16], autn[16], ck[16], ik[16], b[8];
    char out[64];
    size_t n = 0, nm = 0;
    T_EQ_INT(imssec_digest_challenge_parse(e, &ch, 1, &n, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_digest_credentials_parse(e, &cr, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_digest_info_parse(e, &di, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_digest_take_keys(e, out, sizeof out, &n, ck, ik, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_secagree_parse(e, m, 2, &nm, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_secagree_via_parse(e, &via, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_sdes_parse(e, &sc, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_addr_parse(e, &a), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_aka_nonce_decode(e, rand, autn, NULL, 0, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_base64_decode(e, b, sizeof b, &n), IMSSEC_OK); /* the empty string */
    T_EQ_UINT(n, 0);
    T_EQ_INT(imssec_sdp_check(e, &n, NULL), IMSSEC_E_SYNTAX);
}
