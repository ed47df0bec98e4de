/*
 * fuzz_secagree.c -- every secagree/ entry point over hostile text: parse
 * (one value, or several instances split at NUL bytes), parameter
 * iteration, build, echo, compare, both negotiations and the builders of
 * Security-Server and Security-Client, Via parse and NAT detection.
 * Asserts the invariants that need no oracle: a parsed list equals itself,
 * its echo reparses to an equal list, a negotiation's choice is an entry of
 * the input list, and what the builders write parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

#define FZ_MAXM 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const imssec_secagree_pair pol_pairs[] = {
        {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC}, {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
        {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_AES_CBC}, {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL}};
    imssec_secagree_mech m[FZ_MAXM], m2[FZ_MAXM], srv[FZ_MAXM];
    imssec_str vals[8];
    size_t nv = 0, n = 0, n2 = 0, ns = 0, ol, i, start = 0;
    imssec_errinfo e;
    static char out[1 << 16];
    const char *text = (const char *)data;
    int r;

    /* header instances separated by NUL */
    for (i = 0; i <= size && nv < 8; i++)
        if (i == size || data[i] == 0) {
            vals[nv].p = text + start;
            vals[nv++].n = i - start;
            start = i + 1;
        }
    r = imssec_secagree_parse_multi(vals, nv, m, FZ_MAXM, &n, &e);
    {
        imssec_secagree_via via;
        if (imssec_secagree_via_parse(((imssec_str){text, size}), &via, NULL) == IMSSEC_OK) {
            imssec_addr a4;
            int nat;
            memset(&a4, 0, sizeof a4);
            a4.len = 4;
            a4.b[0] = 10;
            a4.b[3] = 1;
            if (!via.host.p || via.host.n == 0)
                abort();
            (void)imssec_secagree_nat_detect(&via, &a4, &nat);
        }
    }
    if (r != IMSSEC_OK)
        return 0;
    if (n == 0 || n > FZ_MAXM)
        abort();
    for (i = 0; i < n; i++) {
        size_t cur = 0, k = 0;
        imssec_secagree_param p;
        while (imssec_secagree_param_next(&m[i], &cur, &p))
            if (++k > IMSSEC_SECAGREE_PARAMS_MAX)
                abort();
    }
    if (!imssec_secagree_equal(m, n, m, n, NULL))
        abort();
    (void)imssec_secagree_build(m, n, out, sizeof out, &ol, NULL);
    if (imssec_secagree_echo(m, n, out, sizeof out, &ol, NULL) != IMSSEC_OK)
        abort();
    if (imssec_secagree_parse(((imssec_str){out, ol}), m2, FZ_MAXM, &n2, NULL) != IMSSEC_OK ||
        !imssec_secagree_equal(m, n, m2, n2, NULL))
        abort();
    {
        imssec_secagree_policy pol;
        imssec_secagree_choice ch;
        imssec_errinfo rej;
        int conf;
        memset(&pol, 0, sizeof pol);
        pol.pairs = pol_pairs;
        pol.n_pairs = IMSSEC_ENABLE_HMAC_MD5 ? 4 : 2;
        for (conf = 0; conf < 3; conf++) {
            pol.confidentiality = conf;
            pol.udp_encap = conf & 1;
            r = imssec_secagree_pcscf_choose(m, n, &pol, conf == 1, &ch, &rej);
            if (r == IMSSEC_OK && (ch.index >= n || m[ch.index].kind != IMSSEC_SECAGREE_IPSEC_3GPP))
                abort();
            if (r == IMSSEC_E_SECAGREE_REJECT && (!rej.clause || !rej.what))
                abort();
            if (r == IMSSEC_OK) {
                /* the Security-Server and a Security-Client built from the
                 * choice parse back, with the values they were given */
                imssec_secagree_offer offer;
                imssec_secagree_pair pair;
                if (imssec_secagree_server_build(&pol, conf == 1, 1000, 1001, 5062, 5064, out,
                                                 sizeof out, &ol) != IMSSEC_OK ||
                    imssec_secagree_parse(((imssec_str){out, ol}), srv, FZ_MAXM, &ns, NULL) !=
                        IMSSEC_OK ||
                    srv[0].spi_c != 1000 || srv[0].port_s != 5064)
                    abort();
                memset(&offer, 0, sizeof offer);
                pair.alg = ch.alg;
                pair.ealg = ch.ealg;
                offer.pairs = &pair;
                offer.n_pairs = 1;
                offer.modes = &ch.mode;
                offer.n_modes = 1;
                offer.allow_no_encryption = 1;
                if (imssec_secagree_client_build(&offer, ch.spi_c, ch.spi_s, ch.port_c, ch.port_s,
                                                 out, sizeof out, &ol, NULL) == IMSSEC_OK &&
                    (imssec_secagree_parse(((imssec_str){out, ol}), srv, FZ_MAXM, &ns, NULL) !=
                         IMSSEC_OK ||
                     ns != 1 || srv[0].alg != ch.alg || srv[0].spi_c != ch.spi_c))
                    abort();
            }
        }
        r = imssec_secagree_ue_select(m, n, pol_pairs, 4, 1, size & 1, &ch, &rej);
        if (r == IMSSEC_OK && (ch.index >= n || (m[ch.index].present & IMSSEC_SECAGREE_HAS_SA_PARAMS) !=
                                                    IMSSEC_SECAGREE_HAS_SA_PARAMS))
            abort();
    }
    return 0;
}
