/*
 * wb_core_ct.c -- constant-flow checks in the ctgrind style (Monocypher,
 * mbedTLS's valgrind_constant_flow): the secret inputs are marked
 * "undefined" for valgrind's memcheck, so any branch or memory index that
 * depends on them is reported as an error, and the valgrind cell of
 * `make test` fails.  Outside valgrind the marks are no-ops and the test
 * says it skipped.
 */
#include <valgrind/memcheck.h>

#define WB_SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define WB_PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

T_TEST(core_ct_constant_flow_under_valgrind)
{
    uint8_t a[32], b[32], key[20], msg[100], mac[64];
    int r, alg;
    if (!RUNNING_ON_VALGRIND)
        T_SKIP("constant-flow marks are checked only in the valgrind cell");
    t_randbytes(a, sizeof a);
    memcpy(b, a, sizeof b);
    b[31] ^= 1;
    t_randbytes(key, sizeof key);
    t_randbytes(msg, sizeof msg);

    /* MAC / ICV / digest-response comparison */
    WB_SECRET(a, sizeof a);
    WB_SECRET(b, sizeof b);
    r = isc_ct_eq(a, b, sizeof a);
    WB_PUBLIC(&r, sizeof r); /* the verdict itself is public */
    T_EQ_INT(r, 0);
    r = imssec_ct_equal(a, a, sizeof a);
    WB_PUBLIC(&r, sizeof r);
    T_EQ_INT(r, 1);

    /* HMAC over each hash with a secret key and message: the ESP ICV and
     * the AKAv2 password derivation */
    for (alg = ISC_MD5; alg <= ISC_SHA512_256; alg++) {
        WB_SECRET(key, sizeof key);
        WB_SECRET(msg, sizeof msg);
        isc_hmac_once(alg, key, sizeof key, msg, sizeof msg, mac);
        WB_PUBLIC(mac, sizeof mac);
    }
    WB_PUBLIC(a, sizeof a);
    WB_PUBLIC(b, sizeof b);
    WB_PUBLIC(key, sizeof key);
    WB_PUBLIC(msg, sizeof msg);
}
