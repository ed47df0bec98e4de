/*
 * fuzz_secagree_roundtrip.c -- the builder's property: for any list the
 * parser accepts, parse(build(x)) == x (normalised comparison), and the
 * canonical form is a fixed point (build(parse(build(x))) == build(x)).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

#define FZ_MAXM 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imssec_secagree_mech a[FZ_MAXM], b[FZ_MAXM];
    size_t na, nb, l1, l2;
    static char o1[1 << 16], o2[1 << 16];
    if (imssec_secagree_parse(((imssec_str){(const char *)data, size}), a, FZ_MAXM, &na, NULL) != IMSSEC_OK)
        return 0;
    if (imssec_secagree_build(a, na, o1, sizeof o1, &l1, NULL) != IMSSEC_OK)
        abort(); /* everything parsed must be buildable */
    if (imssec_secagree_parse(((imssec_str){o1, l1}), b, FZ_MAXM, &nb, NULL) != IMSSEC_OK)
        abort();
    if (!imssec_secagree_equal(a, na, b, nb, NULL))
        abort();
    if (imssec_secagree_build(b, nb, o2, sizeof o2, &l2, NULL) != IMSSEC_OK || l2 != l1 ||
        memcmp(o1, o2, l1) != 0)
        abort();
    return 0;
}
