/*
 * fuzz_sdes.c -- the SDES a=crypto parser (RFC 4568) on hostile text: any
 * input returns a verdict without reading past it and writes nothing on
 * refusal; an accepted attribute builds back to text that parses to the
 * same attribute (byte for byte in its fields).  The same input is also
 * an offer of several lines (split at newlines) for the answerer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

static int fz_random(void *user, uint8_t *out, size_t len)
{
    (void)user;
    memset(out, 0x3c, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int suites[] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80,
                                 IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32,
                                 IMSSEC_SRTP_AEAD_AES_256_GCM};
    imssec_sdes_crypto c, d, chosen, answer;
    imssec_str v = {(const char *)data, size}, lines[16];
    imssec_sdes_policy pol;
    imssec_io io;
    char out[2048];
    size_t n = 0, nl = 0, i, s, idx;
    int rc;
    memset(&c, 0xa5, sizeof c);
    memcpy(&d, &c, sizeof c);
    rc = imssec_sdes_parse(v, &c, NULL);
    if (rc != IMSSEC_OK) {
        if (memcmp(&c, &d, sizeof c) != 0)
            abort(); /* refused, yet written */
        if (rc != IMSSEC_E_SYNTAX && rc != IMSSEC_E_UNSUPPORTED && rc != IMSSEC_E_RANGE)
            abort();
    } else {
        if (imssec_sdes_build(&c, out, sizeof out, &n) != IMSSEC_OK)
            abort();
        if (imssec_sdes_parse((imssec_str){out, n}, &d, NULL) != IMSSEC_OK || d.tag != c.tag ||
            d.suite != c.suite || d.n_keys != c.n_keys || d.flags != c.flags || d.wsh != c.wsh ||
            d.fec_order != c.fec_order || memcmp(d.keys, c.keys, sizeof c.keys) != 0)
            abort();
    }
    /* as an offer */
    for (s = i = 0; i <= size && nl < 16; i++)
        if (i == size || data[i] == '\n') {
            lines[nl].p = (const char *)data + s;
            lines[nl].n = i - s;
            nl++;
            s = i + 1;
        }
    memset(&pol, 0, sizeof pol);
    pol.suites = suites;
    pol.n_suites = 3;
    pol.flags_ok = IMSSEC_SRTP_UNENCRYPTED_SRTCP;
    pol.hop_confidential = 1;
    memset(&io, 0, sizeof io);
    io.random = fz_random;
    rc = imssec_sdes_answer(lines, nl, &pol, &io, &chosen, &answer, &idx, NULL);
    if (rc == IMSSEC_OK) {
        if (idx >= nl || answer.tag != chosen.tag || answer.suite != chosen.suite ||
            imssec_sdes_build(&answer, out, sizeof out, &n) != IMSSEC_OK)
            abort();
    } else if (rc != IMSSEC_E_SDES_REJECT) {
        abort();
    }
    return 0;
}
