/*
 * fuzz_digest_credentials.c -- Authorization / Proxy-Authorization and
 * Authentication-Info parsing, then server-side verification of whatever
 * parsed.  The first byte picks the algorithm the server expects.
 */
#include <stdint.h>
#include <string.h>

#include "../../imssec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imssec_digest_credentials cr;
    imssec_digest_info info;
    imssec_digest_nonce st;
    imssec_str user = {"u", 1}, method = {"REGISTER", 8};
    int alg;
    if (size < 1)
        return 0;
    alg = data[0] % IMSSEC_DIGEST_ALG_COUNT;
    data++;
    size--;
    if (imssec_digest_info_parse(((imssec_str){(const char *)data, size}), &info, NULL) == IMSSEC_OK) {
        imssec_digest_in in;
        memset(&in, 0, sizeof in);
        in.alg = alg ? alg : IMSSEC_DIGEST_MD5;
        in.qop = info.qop_val;
        (void)imssec_digest_info_verify(&in, &info);
    }
    if (imssec_digest_credentials_parse(((imssec_str){(const char *)data, size}), &cr, NULL) != IMSSEC_OK)
        return 0;
    if (cr.nonce.n <= IMSSEC_DIGEST_NONCE_MAX &&
        imssec_digest_nonce_set(&st,((imssec_str){cr.nonce.p, cr.nonce.n}), 100) == IMSSEC_OK) {
        (void)imssec_digest_server_verify(&st, &cr, alg, user, method, data, size,
                                          (const uint8_t *)"pw", 2, 5);
        (void)imssec_digest_server_verify(&st, &cr, cr.alg, user, method, NULL, 0, NULL, 0, 500);
    }
    return 0;
}
