/*
 * aka_fixture.h -- for the aka/ tests: the TS 35.207 Milenage keys (test
 * sets 1 and 2), a persistence callback that counts and can fail, and the
 * credentials fixture of the server-side digest tests (the RFC 2617 3.5
 * inputs, computed, built and parsed back).  Public API only.
 */
#ifndef IMSSEC_TEST_AKA_FIXTURE_H
#define IMSSEC_TEST_AKA_FIXTURE_H

#include "../../imssec.h"
#include "../t.h"

#if defined(__GNUC__) || defined(__clang__)
#define AF_FN static __attribute__((unused))
#else
#define AF_FN static
#endif

#define S(x) {(x), sizeof(x) - 1}

/* TS 35.207 test set 1 */
AF_FN const char *K1 = "465b5ce8b199b49faa5f0a2ee238a6bc";
AF_FN const char *OPC1 = "cd63cb71954a9f4e48a5994e37a02baf";

AF_FN void mk_m(imssec_milenage *m)
{
    uint8_t k[16], opc[16];
    t_unhex(K1, k, 16);
    t_unhex(OPC1, opc, 16);
    imssec_milenage_init_opc(m, k, opc);
}

AF_FN void tlp_key(imssec_milenage *m)
{
    uint8_t k[16], op[16];
    /* TS 35.207 test set 2 K and OP */
    t_unhex("0396eb317b6d1c36f19c1c84cd6ffd16", k, 16);
    t_unhex("ff53bade17df5d4e793073ce9d7579fa", op, 16);
    imssec_milenage_init_op(m, k, op);
}

AF_FN const uint8_t tlp_amf[2] = {0x80, 0x00};

/* A persistence callback (the SQN state has to survive a power loss) that
 * counts its calls and fails while persist_fail is set. */

AF_FN int persist_calls, persist_fail;

AF_FN int persist_cb(void *u, const imssec_aka_sqn *st)
{
    (void)u, (void)st;
    persist_calls++;
    return persist_fail;
}

AF_FN imssec_str tdg_s(const char *s)
{
    imssec_str r;
    r.p = s;
    r.n = strlen(s);
    return r;
}

/* ---- digest server side: one credentials case ---------------------------- */

typedef struct srv_case {
    imssec_digest_in in;
    imssec_digest_out out;
    char hdr[1024];
    size_t hlen;
    imssec_digest_credentials cr;
} srv_case;

AF_FN const uint8_t pw[] = "Circle Of Life";

AF_FN int mk_creds(srv_case *c, int alg, int qop, uint32_t nc)
{
    imssec_str none = {NULL, 0};
    int rc;
    memset(&c->in, 0, sizeof c->in);
    c->in.alg = alg;
    c->in.qop = qop;
    c->in.username.p = "Mufasa", c->in.username.n = 6;
    c->in.realm.p = "testrealm@host.com", c->in.realm.n = 18;
    c->in.nonce.p = "dcd98b7102dd2f0e8b11d0f600bfb0c093", c->in.nonce.n = 34;
    c->in.cnonce.p = "0a4f113b", c->in.cnonce.n = 8;
    c->in.method.p = "GET", c->in.method.n = 3;
    c->in.uri.p = "/dir/index.html", c->in.uri.n = 15;
    c->in.password = pw;
    c->in.password_len = sizeof pw - 1;
    c->in.nc = nc;
    if ((rc = imssec_digest_compute(&c->in, &c->out)) != IMSSEC_OK)
        return rc;
    if ((rc = imssec_digest_credentials_build(&c->in, &c->out, none, none, c->hdr, sizeof c->hdr,
                                              &c->hlen)) != IMSSEC_OK)
        return rc;
    return imssec_digest_credentials_parse(T_S(c->hdr, c->hlen), &c->cr, NULL);
}

#endif
