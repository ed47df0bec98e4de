/*
 * fuzz_secagree.c -- every secagree/ entry point over hostile text: parse
 * (one value, or several instances split at NUL bytes), parameter
 * iteration, build, echo, compare, both negotiations, Via parse and NAT
 * detection.  Asserts the invariants that need no oracle: a parsed list
 * equals itself, its echo reparses to an equal list, and a negotiation's
 * choice is an entry of the input list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

#define FZ_MAXM 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const imssec_sec_pair pol_pairs[] = {
        {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC}, {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
        {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_AES_CBC}, {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL}};
    imssec_sec_mech m[FZ_MAXM], m2[FZ_MAXM], srv[FZ_MAXM];
    const char *vals[8];
    size_t lens[8], nv = 0, n = 0, n2 = 0, ns = 0, ol, i, start = 0;
    imssec_sec_errinfo e;
    static char out[1 << 16];
    const char *text = (const char *)data;
    int r;

    /* header instances separated by NUL */
    for (i = 0; i <= size && nv < 8; i++)
        if (i == size || data[i] == 0) {
            vals[nv] = text + start;
            lens[nv++] = i - start;
            start = i + 1;
        }
    r = imssec_secagree_parse_multi(vals, lens, nv, m, FZ_MAXM, &n, &e);
    {
        imssec_sec_via via;
        if (imssec_secagree_via_parse(text, size, &via) == IMSSEC_OK) {
            static const uint8_t a4[4] = {10, 0, 0, 1};
            int nat;
            if (!via.host || via.host_len == 0)
                abort();
            (void)imssec_secagree_nat_detect(&via, a4, 4, &nat);
        }
    }
    if (r != IMSSEC_OK)
        return 0;
    if (n == 0 || n > FZ_MAXM)
        abort();
    for (i = 0; i < n; i++) {
        size_t cur = 0, k = 0;
        imssec_sec_param p;
        while (imssec_secagree_param_next(&m[i], &cur, &p))
            if (++k > IMSSEC_SEC_MAX_PARAMS)
                abort();
    }
    if (!imssec_secagree_equal(m, n, m, n, NULL, NULL))
        abort();
    (void)imssec_secagree_build(m, n, out, sizeof out, &ol);
    if (imssec_secagree_echo(m, n, out, sizeof out, &ol) != IMSSEC_OK)
        abort();
    if (imssec_secagree_parse(out, ol, m2, FZ_MAXM, &n2, NULL) != IMSSEC_OK ||
        !imssec_secagree_equal(m, n, m2, n2, NULL, NULL))
        abort();
    {
        imssec_sec_pcscf_policy pol;
        imssec_sec_choice ch;
        imssec_sec_reject rej;
        int conf;
        memset(&pol, 0, sizeof pol);
        pol.pairs = pol_pairs;
        pol.n_pairs = 4;
        pol.spi_pc = 1000;
        pol.spi_ps = 1001;
        pol.port_pc = 5062;
        pol.port_ps = 5064;
        for (conf = 0; conf < 3; conf++) {
            pol.confidentiality = conf;
            pol.udp_encap = conf & 1;
            r = imssec_secagree_pcscf_negotiate(m, n, &pol, conf == 1, srv, FZ_MAXM, &ns, &ch,
                                                &rej);
            if (r == IMSSEC_OK && (ch.index >= n || m[ch.index].kind != IMSSEC_SEC_IPSEC_3GPP))
                abort();
            if (r == IMSSEC_E_SECAGREE_REJECT && (!rej.clause || !rej.reason))
                abort();
        }
        r = imssec_secagree_ue_select(m, n, pol_pairs, 4, 1, size & 1, &ch, &rej);
        if (r == IMSSEC_OK && (ch.index >= n || (m[ch.index].present & IMSSEC_SECP_SA_PARAMS) !=
                                                    IMSSEC_SECP_SA_PARAMS))
            abort();
    }
    return 0;
}
