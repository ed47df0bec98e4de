/*
 * fuzz_digest_challenge.c -- WWW-Authenticate / Proxy-Authenticate parsing
 * and everything a client does with a parsed challenge: select, unquote,
 * answer with a password, answer an AKA challenge through software Milenage.
 */
#include <stdint.h>
#include <string.h>

#include "../../imssec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imssec_digest_challenge ch[4];
    size_t n = 0, i, len;
    static const int pref[] = {IMSSEC_DIGEST_AKAV2_SHA256, IMSSEC_DIGEST_AKAV1_MD5,
                               IMSSEC_DIGEST_SHA256, IMSSEC_DIGEST_MD5};
    char out[1024], buf[64];
    imssec_digest_request rq;
    imssec_milenage m;
    imssec_aka_soft soft;
    imssec_aka_provider p;
    imssec_aka_result ar;
    static const uint8_t k[16] = {1, 2, 3};
    if (imssec_digest_challenge_parse(((imssec_str){(const char *)data, size}), ch, 4, &n, NULL) != IMSSEC_OK)
        return 0;
    (void)imssec_digest_challenge_select(ch, n, pref, 4);
    memset(&rq, 0, sizeof rq);
    rq.username.p = "u";
    rq.username.n = 1;
    rq.method.p = "REGISTER";
    rq.method.n = 8;
    rq.uri.p = "sip:x";
    rq.uri.n = 5;
    rq.cnonce.p = "c";
    rq.cnonce.n = 1;
    rq.nc = 1;
    imssec_milenage_init_opc(&m, k, k);
    soft.milenage = &m;
    soft.sqn = NULL;
    soft.policy = 0;
    imssec_aka_soft_provider(&p, &soft);
    for (i = 0; i < n; i++) {
        size_t j;
        (void)imssec_digest_unquote(ch[i].realm, buf, sizeof buf, &len);
        (void)imssec_digest_unquote(ch[i].nonce, buf, sizeof buf, &len);
        for (j = 0; j < ch[i].n_extra; j++)
            (void)imssec_digest_unquote(ch[i].extra[j].value, buf, sizeof buf, &len);
        (void)imssec_digest_respond(&ch[i], &rq, (const uint8_t *)"pw", 2, NULL, out,
                                    sizeof out, &len);
        (void)imssec_digest_aka_respond(&p, &ch[i], &rq, &ar, NULL, out, sizeof out, &len);
        (void)imssec_digest_respond(&ch[i], &rq, (const uint8_t *)"pw", 2, NULL, out, 16, &len);
    }
    return 0;
}
