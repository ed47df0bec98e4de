/*
 * fuzz_tls_partner.c -- the TS 33.203 6.5 partner check on hostile
 * certificate names: the input, split at NUL bytes, is a list of names
 * whose kind is each name's first byte mod 3; the verdict must be OK or
 * NOT_FOUND, and OK only with a partner that equals a name's host.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const imssec_str partners[] = {{"ims.partner.example", 19}, {"a", 1}};
    imssec_cert_name names[8];
    size_t n = 0, i, s, w = 99;
    int rc;
    for (s = i = 0; i <= size && n < 8; i++)
        if (i == size || data[i] == 0) {
            if (i > s) {
                names[n].kind = data[s] % 3;
                names[n].name.p = (const char *)data + s + 1;
                names[n].name.n = i - s - 1;
                n++;
            }
            s = i + 1;
        }
    rc = imssec_tls_partner_check(partners, 2, names, n, &w, NULL);
    if (rc != IMSSEC_OK && rc != IMSSEC_E_NOT_FOUND)
        abort();
    if (rc == IMSSEC_OK && w > 1)
        abort();
    return 0;
}
