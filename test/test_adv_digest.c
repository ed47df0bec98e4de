/*
 * test_adv_digest.c -- adversarial tests of the SIP digest parsers, the
 * server-side verification and the AKA passwords (RFC 2617, RFC 7616,
 * RFC 3310, RFC 4169; public API only).  mbedTLS is the reference for
 * the hashes.
 */
#include "../imssec.h"
#include "t.h"
#include "adv_guard.h"

#include <mbedtls/md.h>

#define S(x) {(x), sizeof(x) - 1}

static const char *ch_good[] = {
    "Digest realm=\"ims.example.com\", nonce=\"CjPk9mRqNuT25eRkajM09uTl9nM09uTl9nMz5OX25PZz==\", "
    "algorithm=AKAv1-MD5, qop=\"auth,auth-int\", opaque=\"5ccc\\\"069c\"",
    "Basic realm=\"x\", Digest realm=\"a\",nonce=\"1\" ,stale=TRUE, Digest realm=\"b\", "
    "nonce=\"2\", algorithm=SHA-256, userhash=true, foo=bar",
    "Digest\r\n realm=\"r\",\r\n\tnonce=\"n\", qop=auth, domain=\"sip:a sip:b\", charset=UTF-8",
    "Negotiate YIIBBgYGKwYBBQUCoIH7MIH4oDAwLgYKKwYBBAGCNwIC==, Digest realm=\"r\", nonce=\"n\"",
};

static const char *cr_good[] = {
    "Digest username=\"user@ims.example.com\", realm=\"ims.example.com\", nonce=\"abc\", "
    "uri=\"sip:ims.example.com\", response=\"6629fae49393a05397450978507c4ef1\", "
    "algorithm=AKAv1-MD5, cnonce=\"0a4f113b\", qop=auth, nc=00000001, opaque=\"x\"",
    "Digest username=\"u\",realm=\"r\",nonce=\"n\",uri=\"sip:r\",response=\"\",auts=\"AAAA\"",
    ("digest username=\"a\\\\b\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", "
     "response=\"00\", foo=\"x,y\", bar=baz, qop=auth-int, nc=ffffffff, cnonce=\"c\""),
};

/* Every prefix and suffix of good inputs at a guard page; never crash,
 * slices inside the input. */
T_TEST(adv_digest_challenge_truncations)
{
    adv_gp g;
    size_t i, k;
    T_ASSERT(adv_gp_init(&g) == 0);
    for (i = 0; i < sizeof ch_good / sizeof ch_good[0]; i++) {
        size_t len = strlen(ch_good[i]);
        imssec_digest_challenge ch[4];
        size_t n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(ch_good[i], len, ch, 4, &n), IMSSEC_OK);
        for (k = 0; k <= 2 * len; k++) {
            const char *src = k <= len ? ch_good[i] : ch_good[i] + (k - len);
            size_t l = k <= len ? k : len - (k - len);
            const char *q = (const char *)adv_gp_place(&g, src, l);
            int rc;
            size_t j;
            n = 0;
            rc = imssec_digest_challenge_parse(q, l, ch, 4, &n);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_SPACE);
            if (rc == IMSSEC_OK)
                for (j = 0; j < n; j++) {
                    if (ch[j].nonce.n)
                        T_ASSERT(ch[j].nonce.p >= q && ch[j].nonce.p + ch[j].nonce.n <= q + l);
                    if (ch[j].realm.n)
                        T_ASSERT(ch[j].realm.p >= q && ch[j].realm.p + ch[j].realm.n <= q + l);
                }
        }
    }
    adv_gp_free(&g);
}

T_TEST(adv_digest_credentials_truncations)
{
    adv_gp g;
    size_t i, k;
    T_ASSERT(adv_gp_init(&g) == 0);
    for (i = 0; i < sizeof cr_good / sizeof cr_good[0]; i++) {
        size_t len = strlen(cr_good[i]);
        imssec_digest_credentials cr;
        T_EQ_INT(imssec_digest_credentials_parse(cr_good[i], len, &cr), IMSSEC_OK);
        for (k = 0; k <= 2 * len; k++) {
            const char *src = k <= len ? cr_good[i] : cr_good[i] + (k - len);
            size_t l = k <= len ? k : len - (k - len);
            const char *q = (const char *)adv_gp_place(&g, src, l);
            int rc = imssec_digest_credentials_parse(q, l, &cr);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_SPACE ||
                     rc == IMSSEC_E_UNSUPPORTED);
        }
    }
    adv_gp_free(&g);
}

T_TEST(adv_digest_info_truncations)
{
    static const char *s = "nextnonce=\"47364c23432d2e131a5fb210812c\", qop=auth, "
                           "rspauth=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", "
                           "nc=00000001";
    adv_gp g;
    size_t k, len = strlen(s);
    imssec_digest_info in;
    T_ASSERT(adv_gp_init(&g) == 0);
    T_EQ_INT(imssec_digest_info_parse(s, len, &in), IMSSEC_OK);
    T_EQ_UINT(in.nc, 1);
    for (k = 0; k <= len; k++) {
        const char *q = (const char *)adv_gp_place(&g, s, k);
        int rc = imssec_digest_info_parse(q, k, &in);
        T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_SPACE);
    }
    adv_gp_free(&g);
}

/* On error the challenge array and *n are untouched. */
T_TEST(adv_digest_challenge_error_untouched)
{
    static const char *bad[] = {
        "Digest realm=\"a\", nonce=\"1\", Digest realm=\"b\", realm=\"c\", nonce=\"2\"",
        "Digest realm=\"a\", nonce=\"1\", Digest realm=\"unterminated",
        "Digest realm=\"a\", nonce=\"1\", Digest realm=\"b\", nonce=\"2\", NONCE=\"3\"",
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imssec_digest_challenge ch[4], c[4];
        size_t n = 1;
        int rc;
        memset(ch, 0xA5, sizeof ch);
        memcpy(c, ch, sizeof ch);
        rc = imssec_digest_challenge_parse(bad[i], strlen(bad[i]), ch, 4, &n);
        if (rc == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "accepted: %s", bad[i]);
            return;
        }
        T_EQ_UINT(n, 1);
        T_EQ_MEM(ch, c, sizeof ch);
    }
    /* SPACE: the second challenge does not fit.  out[] is untouched and,
     * like every other SPACE in the API (imssec.h conventions), *n reports
     * the count needed: the old *n plus the challenges in the text. */
    {
        imssec_digest_challenge ch[4], c[4];
        size_t n = 0;
        const char *s = "Digest realm=\"a\", nonce=\"1\", Digest realm=\"b\", nonce=\"2\"";
        memset(ch, 0xA5, sizeof ch);
        memcpy(c, ch, sizeof ch);
        T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 1, &n), IMSSEC_E_SPACE);
        T_EQ_MEM(ch, c, sizeof ch);
        T_EQ_UINT(n, 2);
        /* retry with the reported count: fits exactly */
        n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 2, &n), IMSSEC_OK);
        T_EQ_UINT(n, 2);
        /* appending: the second header fills slots 2 and 3 */
        memcpy(ch, c, sizeof ch);
        n = 2;
        T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 3, &n), IMSSEC_E_SPACE);
        T_EQ_UINT(n, 4);
        T_EQ_MEM(ch, c, sizeof ch);
        n = 2;
        T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 4, &n), IMSSEC_OK);
        T_EQ_UINT(n, 4);
        T_EQ_MEM(&ch[0], &c[0], 2 * sizeof ch[0]);
        T_EQ_SLICE(ch[3].realm.p, ch[3].realm.n, "b");
    }
    /* SPACE from too many unknown parameters is not cured by a bigger
     * array: *n stays as it was */
    {
        imssec_digest_challenge ch[4];
        char buf[512];
        size_t off, i, n = 1;
        off = (size_t)snprintf(buf, sizeof buf, "Digest realm=\"r\", nonce=\"n\"");
        for (i = 0; i <= IMSSEC_DIGEST_EXTRA_MAX; i++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, ", x%u=1", (unsigned)i);
        T_EQ_INT(imssec_digest_challenge_parse(buf, off, ch, 4, &n), IMSSEC_E_SPACE);
        T_EQ_UINT(n, 1);
    }
}

/* Whole-name matching: "alg" is not "algorithm", "nonce-x" not "nonce";
 * case-insensitive names; escapes kept in slices. */
T_TEST(adv_digest_challenge_names)
{
    const char *s = "DIGEST Realm=\"a\\\"b\", NONCE=\"n\", alg=SHA-256, nonce-x=1, "
                    "realmx=\"y\", Algorithm=\"sha-256\", QOP=\"auth-int\"";
    imssec_digest_challenge ch[2];
    size_t n = 0;
    char buf[16];
    size_t bl;
    T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 2, &n), IMSSEC_OK);
    T_EQ_UINT(n, 1);
    T_EQ_INT(ch[0].is_digest, 1);
    T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_SHA256);
    T_EQ_SLICE(ch[0].realm.p, ch[0].realm.n, "a\\\"b");
    T_EQ_SLICE(ch[0].nonce.p, ch[0].nonce.n, "n");
    T_EQ_UINT(ch[0].n_extra, 3);
    T_EQ_UINT(ch[0].qop_mask, IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT));
    T_EQ_INT(imssec_digest_unquote(ch[0].realm, buf, sizeof buf, &bl), IMSSEC_OK);
    T_EQ_SLICE(buf, bl, "a\"b");
    /* RFC 7616 3.3: stale anything other than true is false */
    s = "Digest realm=\"r\", nonce=\"n\", stale=maybe";
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 2, &n), IMSSEC_OK);
    T_EQ_INT(ch[0].stale, 0);
    s = "Digest realm=\"r\", nonce=\"n\", stale=\"TRUE\"";
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 2, &n), IMSSEC_OK);
    T_EQ_INT(ch[0].stale, 1);
    /* absent algorithm = MD5 */
    s = "Digest realm=\"r\", nonce=\"n\", algorithmx=SHA-256";
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 2, &n), IMSSEC_OK);
    T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_MD5);
}

/* qop lists: unknown tokens ignored when a known one is present.  A list
 * of only unknown tokens (or an empty one) parses: RFC 7616 3.3 / RFC 2617
 * 3.2.1 have clients ignore qop values they do not recognise, and one
 * header may hold several challenges, so rejecting the whole header for one
 * odd challenge would make the others unusable.  Such a challenge keeps its
 * raw qop text, is flagged qop_unknown_only, is answered with
 * IMSSEC_E_UNSUPPORTED (never with the qop-less RFC 2069 form: a downgrade)
 * and is skipped by select. */
T_TEST(adv_digest_qop_lists)
{
    static const struct {
        const char *q;
        unsigned mask; /* 0: only unknown values */
    } c[] = {
        {"\"auth\"", 2},
        {"\"auth,auth-int\"", 6},
        {"\" auth-int , auth \"", 6},
        {"\"auth,foo\"", 2},
        {"\"foo\"", 0},
        {"\"authx\"", 0},
        {"\"auth-intx\"", 0},
        {"\"\"", 0},
    };
    static const int pref[] = {IMSSEC_DIGEST_SHA256, IMSSEC_DIGEST_MD5};
    static const uint8_t pw_qop[] = "pw";
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        char buf[256], out[512], can[512], qraw[32];
        imssec_digest_challenge ch[2];
        imssec_digest_request rq;
        size_t n = 0, len = 4242;
        int rc;
        /* the odd challenge first (preferred algorithm), a plain one after */
        snprintf(buf, sizeof buf,
                 "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, qop=%s, "
                 "Digest realm=\"r\", nonce=\"m\", algorithm=MD5, qop=\"auth\"", c[i].q);
        memcpy(qraw, c[i].q + 1, strlen(c[i].q) - 2);
        qraw[strlen(c[i].q) - 2] = 0;
        rc = imssec_digest_challenge_parse(buf, strlen(buf), ch, 2, &n);
        if (rc != IMSSEC_OK || n != 2 || ch[0].qop_mask != c[i].mask ||
            ch[0].qop_unknown_only != (c[i].mask == 0)) {
            t_fail_(__FILE__, __LINE__, "qop=%s: rc %d n %zu mask %u", c[i].q, rc, n,
                    rc == IMSSEC_OK ? ch[0].qop_mask : 0);
            continue;
        }
        /* the raw text is kept (without the quotes) */
        T_EQ_SLICE(ch[0].qop.p, ch[0].qop.n, qraw);
        memset(&rq, 0, sizeof rq);
        rq.username.p = "u", rq.username.n = 1;
        rq.method.p = "REGISTER", rq.method.n = 8;
        rq.uri.p = "sip:r", rq.uri.n = 5;
        rq.cnonce.p = "c", rq.cnonce.n = 1;
        rq.nc = 1;
        memset(out, 0x5A, sizeof out);
        memcpy(can, out, sizeof out);
        rc = imssec_digest_respond(&ch[0], &rq, pw_qop, 2, NULL, out, sizeof out, &len);
        if (c[i].mask == 0) {
            T_EQ_INT(rc, IMSSEC_E_UNSUPPORTED);
            T_EQ_MEM(out, can, sizeof out);
            T_EQ_UINT(len, 4242);
            /* select passes over it to the usable MD5 challenge */
            T_EQ_INT(imssec_digest_challenge_select(ch, n, pref, 2), 1);
        } else {
            T_EQ_INT(rc, IMSSEC_OK);
            T_EQ_INT(imssec_digest_challenge_select(ch, n, pref, 2), 0);
        }
        T_EQ_INT(imssec_digest_respond(&ch[1], &rq, pw_qop, 2, NULL, out, sizeof out, &len),
                 IMSSEC_OK);
    }
}

/* unquote: SPACE with the need; lone trailing backslash SYNTAX. */
T_TEST(adv_digest_unquote)
{
    imssec_digest_str s = S("a\\\"b\\\\c");
    imssec_digest_str bad = S("abc\\");
    char out[16], c[16];
    size_t len = 0;
    memset(out, 0x5A, sizeof out);
    memcpy(c, out, sizeof out);
    T_EQ_INT(imssec_digest_unquote(s, out, 4, &len), IMSSEC_E_SPACE);
    T_EQ_UINT(len, 5);
    T_EQ_MEM(out, c, sizeof out);
    T_EQ_INT(imssec_digest_unquote(s, out, 5, &len), IMSSEC_OK);
    T_EQ_SLICE(out, len, "a\"b\\c");
    T_EQ_INT(imssec_digest_unquote(bad, out, sizeof out, &len), IMSSEC_E_SYNTAX);
}

/* Credentials: nc is exactly 8 hex digits (RFC 2617 3.2.2); qop needs nc
 * and cnonce; duplicates rejected; *out unchanged on error.
 * Kept leniency (documented in imssec.h): RFC 2617 3.2.2 sends nc
 * unquoted (nc-value = 8LHEX), but some deployed clients quote it, so the
 * server accepts nc="00000001"; the quoted value is held to the same
 * 8-hex-digit rule, and monotonicity is checked by server_verify as for
 * the unquoted form. */
T_TEST(adv_digest_credentials_rejects)
{
    static const char *nc_bad[] = {"1", "0000001", "000000001", "0000000g", "+0000001",
                                   "\"0000001\"", "\"000000001\"", "\"0000000g\"", "\"\"",
                                   "", "0x000001"};
    static const char *bad[] = {
        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", response=\"00\", qop=auth, "
        "cnonce=\"c\"",
        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", response=\"00\", qop=auth, "
        "nc=00000001",
        "Digest username=\"u\", realm=\"r\", nonce=\"n\", nonce=\"m\", uri=\"x\", response=\"00\"",
        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", response=\"00\", "
        "RESPONSE=\"11\"",
        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", response=\"00\", "
        "Digest username=\"v\"",
    };
    size_t i;
    for (i = 0; i < sizeof nc_bad / sizeof nc_bad[0]; i++) {
        char buf[256];
        imssec_digest_credentials cr, c;
        snprintf(buf, sizeof buf,
                 "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", response=\"00\", "
                 "qop=auth, cnonce=\"c\", nc=%s", nc_bad[i]);
        memset(&cr, 0xA5, sizeof cr);
        memcpy(&c, &cr, sizeof cr);
        if (imssec_digest_credentials_parse(buf, strlen(buf), &cr) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "nc=%s accepted (nc %u)", nc_bad[i], (unsigned)cr.nc);
            continue;
        }
        T_EQ_MEM(&cr, &c, sizeof cr);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imssec_digest_credentials cr, c;
        memset(&cr, 0xA5, sizeof cr);
        memcpy(&c, &cr, sizeof cr);
        if (imssec_digest_credentials_parse(bad[i], strlen(bad[i]), &cr) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "accepted: %s", bad[i]);
            continue;
        }
        T_EQ_MEM(&cr, &c, sizeof cr);
    }
    {
        const char *b = "Basic dXNlcjpwYXNz";
        imssec_digest_credentials cr;
        T_EQ_INT(imssec_digest_credentials_parse(b, strlen(b), &cr), IMSSEC_E_UNSUPPORTED);
    }
    /* the quoted form is the same value as the unquoted one */
    {
        const char *q = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", "
                        "response=\"00\", qop=auth, cnonce=\"c\", nc=\"0000001F\"";
        imssec_digest_credentials cr;
        T_EQ_INT(imssec_digest_credentials_parse(q, strlen(q), &cr), IMSSEC_OK);
        T_EQ_UINT(cr.nc, 0x1f);
    }
}

/* More than IMSSEC_DIGEST_EXTRA_MAX unknown params: SPACE; exactly the max
 * is fine. */
T_TEST(adv_digest_extra_max)
{
    char buf[1024];
    size_t off, i, n;
    imssec_digest_challenge ch[1];
    off = (size_t)snprintf(buf, sizeof buf, "Digest realm=\"r\", nonce=\"n\"");
    for (i = 0; i < IMSSEC_DIGEST_EXTRA_MAX; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, ", x%u=%u", (unsigned)i, (unsigned)i);
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(buf, off, ch, 1, &n), IMSSEC_OK);
    T_EQ_UINT(ch[0].n_extra, IMSSEC_DIGEST_EXTRA_MAX);
    off += (size_t)snprintf(buf + off, sizeof buf - off, ", y=1");
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(buf, off, ch, 1, &n), IMSSEC_E_SPACE);
    T_EQ_UINT(n, 0);
}

/* ---- server side -------------------------------------------------------- */

typedef struct srv_case {
    imssec_digest_in in;
    imssec_digest_out out;
    char hdr[1024];
    size_t hlen;
    imssec_digest_credentials cr;
} srv_case;

static const uint8_t pw[] = "Circle Of Life";

static int mk_creds(srv_case *c, int alg, int qop, uint32_t nc)
{
    imssec_digest_str none = {NULL, 0};
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
    return imssec_digest_credentials_parse(c->hdr, c->hlen, &c->cr);
}

/* The RFC 2617 3.5 example, through build/parse/verify. */
T_TEST(adv_digest_rfc2617_example)
{
    srv_case c;
    imssec_digest_nonce st;
    imssec_digest_str none = {NULL, 0};
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    T_EQ_STR(c.out.response, "6629fae49393a05397450978507c4ef1");
    T_EQ_INT(imssec_digest_nonce_set(&st, c.in.nonce.p, c.in.nonce.n, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_MD5, none, c.in.method, NULL, 0,
                                         pw, sizeof pw - 1, 0), IMSSEC_OK);
}

/* Flip each hex digit of the response (to every other hex digit, and to
 * upper case): rejected, nonce state unchanged; the genuine one passes. */
T_TEST(adv_digest_response_flips)
{
    static const int algs[] = {IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_SHA256,
                               IMSSEC_DIGEST_SHA512_256_SESS};
    size_t a;
    for (a = 0; a < 3; a++) {
        srv_case c;
        imssec_digest_nonce st, st0;
        imssec_digest_str none = {NULL, 0};
        size_t i, rl;
        char resp[IMSSEC_DIGEST_HEX_MAX + 1];
        T_EQ_INT(mk_creds(&c, algs[a], IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
        T_EQ_INT(imssec_digest_nonce_set(&st, c.in.nonce.p, c.in.nonce.n, 1000), IMSSEC_OK);
        memcpy(&st0, &st, sizeof st);
        rl = c.cr.response.n;
        T_EQ_UINT(rl, c.out.hex_len);
        memcpy(resp, c.cr.response.p, rl);
        for (i = 0; i < rl; i++) {
            /* upper-case digits too: the same value in upper case is
             * accepted (adv_digest_response_uppercase), any other is not */
            static const char hx[] = "0123456789abcdefABCDEF";
            size_t d;
            for (d = 0; d < sizeof hx - 1; d++) {
                imssec_digest_credentials cr = c.cr;
                char mod[IMSSEC_DIGEST_HEX_MAX + 1];
                if (hx[d] == resp[i] || (hx[d] >= 'A' && hx[d] <= 'F' && hx[d] + 32 == resp[i]))
                    continue;
                memcpy(mod, resp, rl);
                mod[i] = hx[d];
                cr.response.p = mod;
                if (imssec_digest_server_verify(&st, &cr, algs[a], none, c.in.method, NULL, 0, pw,
                                                sizeof pw - 1, 0) != IMSSEC_E_AUTH) {
                    t_fail_(__FILE__, __LINE__, "alg %d digit %zu -> %c accepted", algs[a], i,
                            hx[d]);
                    return;
                }
                T_EQ_MEM(&st, &st0, sizeof st);
            }
        }
        /* truncated, extended, empty response */
        {
            imssec_digest_credentials cr = c.cr;
            char ext[IMSSEC_DIGEST_HEX_MAX + 2];
            cr.response.n = rl - 1;
            T_EQ_INT(imssec_digest_server_verify(&st, &cr, algs[a], none, c.in.method, NULL, 0, pw,
                                                 sizeof pw - 1, 0), IMSSEC_E_AUTH);
            cr.response.n = 0;
            T_EQ_INT(imssec_digest_server_verify(&st, &cr, algs[a], none, c.in.method, NULL, 0, pw,
                                                 sizeof pw - 1, 0), IMSSEC_E_AUTH);
            memcpy(ext, resp, rl);
            ext[rl] = '0';
            cr.response.p = ext;
            cr.response.n = rl + 1;
            T_EQ_INT(imssec_digest_server_verify(&st, &cr, algs[a], none, c.in.method, NULL, 0, pw,
                                                 sizeof pw - 1, 0), IMSSEC_E_AUTH);
        }
        T_EQ_MEM(&st, &st0, sizeof st);
        T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, algs[a], none, c.in.method, NULL, 0, pw,
                                             sizeof pw - 1, 0), IMSSEC_OK);
    }
}

/* RFC 2617 3.2.2 / RFC 7616 3.4: request-digest is 32LHEX / lowercase hex.
 * Kept leniency (documented in imssec.h): LHEX says what a client sends;
 * upper-case digits denote the same value, so the server accepts them --
 * no forgery gets through, since every digit flip is still rejected
 * (adv_digest_response_flips) and the value is compared in constant
 * time.  Here: the upper-cased genuine response passes once, its replay
 * is caught by nc, and an upper-cased wrong response still fails. */
T_TEST(adv_digest_response_uppercase)
{
    srv_case c;
    imssec_digest_nonce st;
    imssec_digest_str none = {NULL, 0};
    char up[IMSSEC_DIGEST_HEX_MAX + 1];
    size_t i;
    imssec_digest_credentials cr;
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    T_EQ_INT(imssec_digest_nonce_set(&st, c.in.nonce.p, c.in.nonce.n, 1000), IMSSEC_OK);
    cr = c.cr;
    for (i = 0; i < cr.response.n; i++)
        up[i] = (char)(cr.response.p[i] >= 'a' ? cr.response.p[i] - 32 : cr.response.p[i]);
    cr.response.p = up;
    up[0] = up[0] == '0' ? 'A' : '0'; /* another value, in upper case */
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, none, c.in.method, NULL, 0,
                                         pw, sizeof pw - 1, 0), IMSSEC_E_AUTH);
    for (i = 0; i < cr.response.n; i++)
        up[i] = (char)(c.cr.response.p[i] >= 'a' ? c.cr.response.p[i] - 32 : c.cr.response.p[i]);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, none, c.in.method, NULL, 0,
                                         pw, sizeof pw - 1, 0), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, none, c.in.method, NULL, 0,
                                         pw, sizeof pw - 1, 0), IMSSEC_E_NC);
}

/* nc replay (RFC 7616 3.4): equal or lower nc is E_NC; state unchanged by
 * failures; higher passes.  Wrong alg / nonce / method / password: AUTH. */
T_TEST(adv_digest_nc_replay)
{
    srv_case c1, c2, c5;
    imssec_digest_nonce st, st0;
    imssec_digest_str none = {NULL, 0};
    imssec_digest_str post = S("POST");
    T_EQ_INT(mk_creds(&c1, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    T_EQ_INT(mk_creds(&c2, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 2), IMSSEC_OK);
    T_EQ_INT(mk_creds(&c5, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 5), IMSSEC_OK);
    T_EQ_INT(imssec_digest_nonce_set(&st, c1.in.nonce.p, c1.in.nonce.n, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c2.cr, IMSSEC_DIGEST_MD5, none, c2.in.method, NULL,
                                         0, pw, sizeof pw - 1, 10), IMSSEC_OK);
    memcpy(&st0, &st, sizeof st);
    T_EQ_INT(imssec_digest_server_verify(&st, &c2.cr, IMSSEC_DIGEST_MD5, none, c2.in.method, NULL,
                                         0, pw, sizeof pw - 1, 10), IMSSEC_E_NC);
    T_EQ_INT(imssec_digest_server_verify(&st, &c1.cr, IMSSEC_DIGEST_MD5, none, c1.in.method, NULL,
                                         0, pw, sizeof pw - 1, 10), IMSSEC_E_NC);
    T_EQ_INT(imssec_digest_server_verify(&st, &c5.cr, IMSSEC_DIGEST_SHA256, none, c5.in.method,
                                         NULL, 0, pw, sizeof pw - 1, 10), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c5.cr, IMSSEC_DIGEST_MD5, none, post, NULL, 0, pw,
                                         sizeof pw - 1, 10), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c5.cr, IMSSEC_DIGEST_MD5, none, c5.in.method, NULL,
                                         0, pw, sizeof pw - 2, 10), IMSSEC_E_AUTH);
    /* wrong password and expired: AUTH wins over STALE (order in the contract) */
    T_EQ_INT(imssec_digest_server_verify(&st, &c5.cr, IMSSEC_DIGEST_MD5, none, c5.in.method, NULL,
                                         0, pw, sizeof pw - 2, 5000), IMSSEC_E_AUTH);
    T_EQ_MEM(&st, &st0, sizeof st);
    /* right password, expired: STALE, nc not recorded */
    T_EQ_INT(imssec_digest_server_verify(&st, &c5.cr, IMSSEC_DIGEST_MD5, none, c5.in.method, NULL,
                                         0, pw, sizeof pw - 1, 5000), IMSSEC_E_STALE);
    T_EQ_MEM(&st, &st0, sizeof st);
    T_EQ_INT(imssec_digest_server_verify(&st, &c5.cr, IMSSEC_DIGEST_MD5, none, c5.in.method, NULL,
                                         0, pw, sizeof pw - 1, 10), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c2.cr, IMSSEC_DIGEST_MD5, none, c2.in.method, NULL,
                                         0, pw, sizeof pw - 1, 10), IMSSEC_E_NC);
    /* another nonce than the issued one */
    {
        imssec_digest_nonce st2;
        T_EQ_INT(imssec_digest_nonce_set(&st2, "dcd98b7102dd2f0e8b11d0f600bfb0c094", 34, 1000),
                 IMSSEC_OK);
        T_EQ_INT(imssec_digest_server_verify(&st2, &c5.cr, IMSSEC_DIGEST_MD5, none, c5.in.method,
                                             NULL, 0, pw, sizeof pw - 1, 10), IMSSEC_E_AUTH);
        T_EQ_INT(imssec_digest_nonce_set(&st2, "dcd98b7102dd2f0e8b11d0f600bfb0c09", 33, 1000),
                 IMSSEC_OK);
        T_EQ_INT(imssec_digest_server_verify(&st2, &c5.cr, IMSSEC_DIGEST_MD5, none, c5.in.method,
                                             NULL, 0, pw, sizeof pw - 1, 10), IMSSEC_E_AUTH);
    }
}

/* nc = 0 with qop, and nc wrapping at 0xffffffff: no replay hole. */
T_TEST(adv_digest_nc_edges)
{
    srv_case cmax, c0;
    imssec_digest_nonce st;
    imssec_digest_str none = {NULL, 0};
    T_EQ_INT(mk_creds(&cmax, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 0xffffffffu), IMSSEC_OK);
    T_EQ_UINT(cmax.cr.nc, 0xffffffffu);
    T_EQ_INT(imssec_digest_nonce_set(&st, cmax.in.nonce.p, cmax.in.nonce.n, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cmax.cr, IMSSEC_DIGEST_MD5, none, cmax.in.method,
                                         NULL, 0, pw, sizeof pw - 1, 0), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cmax.cr, IMSSEC_DIGEST_MD5, none, cmax.in.method,
                                         NULL, 0, pw, sizeof pw - 1, 0), IMSSEC_E_NC);
    T_EQ_INT(mk_creds(&c0, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 0), IMSSEC_OK);
    T_ASSERT(imssec_digest_server_verify(&st, &c0.cr, IMSSEC_DIGEST_MD5, none, c0.in.method, NULL,
                                         0, pw, sizeof pw - 1, 0) != IMSSEC_OK);
    /* a fresh nonce: nc=0 with qop is never "strictly above" nothing?  At
     * least the same nc=0 twice must not both pass. */
    T_EQ_INT(imssec_digest_nonce_set(&st, c0.in.nonce.p, c0.in.nonce.n, 1000), IMSSEC_OK);
    if (imssec_digest_server_verify(&st, &c0.cr, IMSSEC_DIGEST_MD5, none, c0.in.method, NULL, 0,
                                    pw, sizeof pw - 1, 0) == IMSSEC_OK)
        T_ASSERT(imssec_digest_server_verify(&st, &c0.cr, IMSSEC_DIGEST_MD5, none, c0.in.method,
                                             NULL, 0, pw, sizeof pw - 1, 0) != IMSSEC_OK);
}

/* Without qop (RFC 2069 form) there is no nc: the same credentials twice
 * on one nonce must not both pass, or qop-less replays are unlimited. */
T_TEST(adv_digest_noqop_replay)
{
    srv_case c;
    imssec_digest_nonce st;
    imssec_digest_str none = {NULL, 0};
    int rc;
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_NONE, 0), IMSSEC_OK);
    T_EQ_STR(c.out.response, "670fd8c2df070c60b045671b8b24ff02");
    T_EQ_INT(imssec_digest_nonce_set(&st, c.in.nonce.p, c.in.nonce.n, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_MD5, none, c.in.method, NULL, 0,
                                         pw, sizeof pw - 1, 0), IMSSEC_OK);
    rc = imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_MD5, none, c.in.method, NULL, 0, pw,
                                     sizeof pw - 1, 0);
    T_EQ_INT(rc, IMSSEC_E_NC);
}

/* A server that asked for qop must not accept a qop-less (RFC 2069)
 * response: a downgrade removes the cnonce/nc protection.  The verify API
 * has no "qop required" input, so this records the behaviour: credentials
 * whose qop was stripped are computed without nc and pass only once. */

/* AKAv1-MD5 password = RES bytes (RFC 3310 3.1), binary safe (NUL bytes). */
T_TEST(adv_digest_akav1_binary_res)
{
    static const uint8_t res[8] = {0x00, 0x11, 0x00, 0x22, 0x00, 0x00, 0x33, 0x00};
    uint8_t ck[16] = {1}, ik[16] = {2}, pwd[64], ref[16], a1[128];
    size_t pl = 0, n;
    imssec_digest_in in;
    imssec_digest_out out;
    char hex[33];
    int i;
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 8, ck, ik, pwd, sizeof pwd,
                                        &pl), IMSSEC_OK);
    T_EQ_UINT(pl, 8);
    T_EQ_MEM(pwd, res, 8);
    memset(&in, 0, sizeof in);
    in.alg = IMSSEC_DIGEST_AKAV1_MD5;
    in.qop = IMSSEC_DIGEST_QOP_NONE;
    in.username.p = "u", in.username.n = 1;
    in.realm.p = "r", in.realm.n = 1;
    in.nonce.p = "n", in.nonce.n = 1;
    in.method.p = "REGISTER", in.method.n = 8;
    in.uri.p = "sip:r", in.uri.n = 5;
    in.password = pwd;
    in.password_len = pl;
    T_EQ_INT(imssec_digest_compute(&in, &out), IMSSEC_OK);
    memcpy(a1, "u:r:", 4);
    memcpy(a1 + 4, res, 8);
    n = 12;
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_MD5), a1, n, ref);
    for (i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", ref[i]);
    T_EQ_STR(out.ha1, hex);
}

/* AKAv2 (RFC 4169 3.1): base64(HMAC-H(RES||IK||CK, "http-digest-akav2-password")). */
T_TEST(adv_digest_akav2_password)
{
    uint8_t res[16], ck[16], ik[16], key[48], mac[32], pwd[64], canary[64];
    char ref[64];
    size_t pl = 0, rl, need;
    static const char lbl[] = "http-digest-akav2-password";
    int h;
    int i;
    for (i = 0; i < 16; i++)
        res[i] = (uint8_t)i, ck[i] = (uint8_t)(0x40 + i), ik[i] = (uint8_t)(0x80 + i);
    for (h = 0; h < 2; h++) {
        int alg = h ? IMSSEC_DIGEST_AKAV2_SHA256 : IMSSEC_DIGEST_AKAV2_MD5;
        const mbedtls_md_info_t *md =
            mbedtls_md_info_from_type(h ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_MD5);
        size_t ml = h ? 32 : 16, rlen = h ? 16 : 8;
        memcpy(key, res, rlen);
        memcpy(key + rlen, ik, 16);
        memcpy(key + rlen + 16, ck, 16);
        mbedtls_md_hmac(md, key, rlen + 32, (const uint8_t *)lbl, sizeof lbl - 1, mac);
        T_EQ_INT(imssec_base64_encode(mac, ml, ref, sizeof ref - 1, &rl), IMSSEC_OK);
        ref[rl] = 0;
        T_EQ_INT(imssec_digest_aka_password(alg, res, rlen, ck, ik, pwd, sizeof pwd, &pl),
                 IMSSEC_OK);
        T_EQ_SLICE((const char *)pwd, pl, ref);
        need = pl;
        memset(pwd, 0xA5, sizeof pwd);
        memcpy(canary, pwd, sizeof pwd);
        pl = 0;
        T_EQ_INT(imssec_digest_aka_password(alg, res, rlen, ck, ik, pwd, need - 1, &pl),
                 IMSSEC_E_SPACE);
        T_EQ_UINT(pl, need);
        T_EQ_MEM(pwd, canary, sizeof pwd);
    }
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 3, ck, ik, pwd, sizeof pwd,
                                        &pl), IMSSEC_E_PARAM);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 17, ck, ik, pwd, sizeof pwd,
                                        &pl), IMSSEC_E_PARAM);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_MD5, res, 8, ck, ik, pwd, sizeof pwd, &pl),
             IMSSEC_E_UNSUPPORTED);
}

/* Authentication-Info: rspauth flips rejected; nc/cnonce/qop echo checked. */
T_TEST(adv_digest_info_verify)
{
    srv_case c;
    char hdr[512];
    size_t hl, i;
    imssec_digest_info info;
    imssec_digest_str nn = S("abcdef");
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_SHA256, IMSSEC_DIGEST_QOP_AUTH, 7), IMSSEC_OK);
    T_EQ_INT(imssec_digest_info_build(&c.in, nn, hdr, sizeof hdr, &hl), IMSSEC_OK);
    T_EQ_INT(imssec_digest_info_parse(hdr, hl, &info), IMSSEC_OK);
    T_EQ_INT(imssec_digest_info_verify(&c.in, &info), IMSSEC_OK);
    T_EQ_SLICE(info.nextnonce.p, info.nextnonce.n, "abcdef");
    for (i = 0; i < info.rspauth.n; i++) {
        imssec_digest_info x = info;
        char r[IMSSEC_DIGEST_HEX_MAX];
        memcpy(r, info.rspauth.p, info.rspauth.n);
        r[i] = r[i] == '0' ? '1' : '0';
        x.rspauth.p = r;
        if (imssec_digest_info_verify(&c.in, &x) != IMSSEC_E_AUTH) {
            t_fail_(__FILE__, __LINE__, "rspauth digit %zu flipped accepted", i);
            return;
        }
    }
    {
        imssec_digest_info x = info;
        x.nc = 8;
        T_EQ_INT(imssec_digest_info_verify(&c.in, &x), IMSSEC_E_AUTH);
        x = info;
        x.cnonce.n--;
        T_EQ_INT(imssec_digest_info_verify(&c.in, &x), IMSSEC_E_AUTH);
        x = info;
        x.rspauth.n--;
        T_EQ_INT(imssec_digest_info_verify(&c.in, &x), IMSSEC_E_AUTH);
    }
}

T_TEST(adv_digest_info_build_space)
{
    srv_case c;
    char hdr[512];
    size_t hl;
    imssec_digest_str nn = S("abcdef");
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_SHA256, IMSSEC_DIGEST_QOP_AUTH, 7), IMSSEC_OK);
    T_EQ_INT(imssec_digest_info_build(&c.in, nn, hdr, sizeof hdr, &hl), IMSSEC_OK);
    /* SPACE: need reported, nothing written */
    {
        char out[512], can[512];
        size_t need = 0;
        memset(out, 0x5A, sizeof out);
        memcpy(can, out, sizeof out);
        T_EQ_INT(imssec_digest_info_build(&c.in, nn, out, hl - 1, &need), IMSSEC_E_SPACE);
        T_EQ_UINT(need, hl);
        T_EQ_MEM(out, can, sizeof out);
    }
}

/* Builders: SPACE with the need, untouched; quoting of values with quotes
 * and backslashes round-trips through the parser. */
T_TEST(adv_digest_build_escapes)
{
    srv_case c;
    imssec_digest_str none = {NULL, 0};
    char out[1024], can[1024], un[64];
    size_t need, len = 0, ul;
    imssec_digest_credentials cr;
    imssec_digest_challenge ch[1];
    size_t n = 0;
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    c.in.username.p = "a\"b\\c";
    c.in.username.n = 5;
    T_EQ_INT(imssec_digest_compute(&c.in, &c.out), IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_build(&c.in, &c.out, none, none, out, sizeof out, &need),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_parse(out, need, &cr), IMSSEC_OK);
    T_EQ_INT(imssec_digest_unquote(cr.username, un, sizeof un, &ul), IMSSEC_OK);
    T_EQ_SLICE(un, ul, "a\"b\\c");
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    /* challenge build with a realm containing a quote */
    {
        imssec_digest_str realm = S("r\"x"), nonce = S("n1");
        T_EQ_INT(imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, realm, nonce, none, 6, 1, 0,
                                               out, sizeof out, &need), IMSSEC_OK);
        T_EQ_INT(imssec_digest_challenge_parse(out, need, ch, 1, &n), IMSSEC_OK);
        T_EQ_INT(imssec_digest_unquote(ch[0].realm, un, sizeof un, &ul), IMSSEC_OK);
        T_EQ_SLICE(un, ul, "r\"x");
        T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_AKAV1_MD5);
        T_EQ_UINT(ch[0].qop_mask, 6);
        T_EQ_INT(ch[0].stale, 1);
    }
    (void)len;
}

/* Conventions: IMSSEC_E_SPACE reports the need and nothing is written
 * ("On any error, output buffers ... are left as they were"). */
T_TEST(adv_digest_credentials_build_space)
{
    srv_case c;
    imssec_digest_str none = {NULL, 0};
    char out[1024], can[1024];
    size_t need, len = 0;
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_build(&c.in, &c.out, none, none, out, sizeof out, &need),
             IMSSEC_OK);
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    T_EQ_INT(imssec_digest_credentials_build(&c.in, &c.out, none, none, out, need - 1, &len),
             IMSSEC_E_SPACE);
    T_EQ_UINT(len, need);
    T_EQ_MEM(out, can, sizeof out);
}

T_TEST(adv_digest_challenge_build_space)
{
    imssec_digest_str none = {NULL, 0}, realm = S("r\"x"), nonce = S("n1");
    char out[1024], can[1024];
    size_t need, len = 0;
    T_EQ_INT(imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, realm, nonce, none, 6, 1, 0,
                                           out, sizeof out, &need), IMSSEC_OK);
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    T_EQ_INT(imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, realm, nonce, none, 6, 1, 0,
                                           out, need - 1, &len), IMSSEC_E_SPACE);
    T_EQ_UINT(len, need);
    T_EQ_MEM(out, can, sizeof out);
}

T_TEST(adv_digest_respond_space)
{
    const char *s = "Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=SHA-256";
    imssec_digest_challenge ch[1];
    imssec_digest_request rq;
    char out[1024], can[1024];
    size_t n = 0, need, len = 0;
    T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 1, &n), IMSSEC_OK);
    memset(&rq, 0, sizeof rq);
    rq.username.p = "u", rq.username.n = 1;
    rq.method.p = "REGISTER", rq.method.n = 8;
    rq.uri.p = "sip:r", rq.uri.n = 5;
    rq.cnonce.p = "c", rq.cnonce.n = 1;
    rq.nc = 1;
    T_EQ_INT(imssec_digest_respond(&ch[0], &rq, pw, sizeof pw - 1, NULL, out, sizeof out, &need),
             IMSSEC_OK);
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    T_EQ_INT(imssec_digest_respond(&ch[0], &rq, pw, sizeof pw - 1, NULL, out, need - 1, &len),
             IMSSEC_E_SPACE);
    T_EQ_UINT(len, need);
    T_EQ_MEM(out, can, sizeof out);
    /* no cnonce with qop: PARAM */
    rq.cnonce.n = 0;
    T_EQ_INT(imssec_digest_respond(&ch[0], &rq, pw, sizeof pw - 1, NULL, out, sizeof out, &len),
             IMSSEC_E_PARAM);
    T_EQ_MEM(out, can, sizeof out);
}

/* nonce_set: longer than the max is SPACE. */
T_TEST(adv_digest_nonce_set_max)
{
    char big[IMSSEC_DIGEST_NONCE_MAX + 1];
    imssec_digest_nonce st;
    memset(big, 'a', sizeof big);
    T_EQ_INT(imssec_digest_nonce_set(&st, big, IMSSEC_DIGEST_NONCE_MAX, 1), IMSSEC_OK);
    T_EQ_INT(imssec_digest_nonce_set(&st, big, IMSSEC_DIGEST_NONCE_MAX + 1, 1), IMSSEC_E_SPACE);
}

/* Challenge select: preference order, non-Digest skipped, -1 when none. */
T_TEST(adv_digest_select)
{
    const char *s = "Basic realm=\"x\", Digest realm=\"a\", nonce=\"1\", algorithm=MD5, "
                    "Digest realm=\"b\", nonce=\"2\", algorithm=AKAv1-MD5";
    imssec_digest_challenge ch[4];
    size_t n = 0;
    static const int p1[] = {IMSSEC_DIGEST_AKAV2_MD5, IMSSEC_DIGEST_AKAV1_MD5, IMSSEC_DIGEST_MD5};
    static const int p2[] = {IMSSEC_DIGEST_SHA256};
    T_EQ_INT(imssec_digest_challenge_parse(s, strlen(s), ch, 4, &n), IMSSEC_OK);
    T_EQ_UINT(n, 3);
    T_EQ_INT(ch[0].is_digest, 0);
    T_EQ_INT(imssec_digest_challenge_select(ch, n, p1, 3), 2);
    T_EQ_INT(imssec_digest_challenge_select(ch, n, p2, 1), -1);
}

/* Random mutations of good challenges/credentials at a guard page. */
T_TEST(adv_digest_mutations)
{
    adv_gp g;
    size_t r, i;
    T_ASSERT(adv_gp_init(&g) == 0);
    for (r = 0; r < 4000; r++) {
        char buf[512];
        int which = (int)(r & 1);
        const char *src = which ? cr_good[r / 2 % 3] : ch_good[r / 2 % 4];
        size_t n = strlen(src), nm = 1 + t_rand64() % 4;
        const char *q;
        memcpy(buf, src, n);
        for (i = 0; i < nm; i++) {
            static const char alpha[] = ",=\" \r\n\t\\0aZ\x00\xff";
            buf[t_rand64() % n] = alpha[t_rand64() % (sizeof alpha - 1)];
        }
        q = (const char *)adv_gp_place(&g, buf, n);
        if (which) {
            imssec_digest_credentials cr;
            (void)imssec_digest_credentials_parse(q, n, &cr);
        } else {
            imssec_digest_challenge ch[4];
            size_t k = 0;
            int rc = imssec_digest_challenge_parse(q, n, ch, 4, &k);
            /* on SPACE k is the count needed (more than fits), else <= 4 */
            T_ASSERT(rc == IMSSEC_E_SPACE ? k == 0 || k > 4 : k <= 4);
        }
    }
    adv_gp_free(&g);
}

/* A challenge whose qop list holds only unknown values must not be
 * answered in the qop-less RFC 2069 form (a downgrade): respond says
 * IMSSEC_E_UNSUPPORTED ("or only unknown qop values"). */
T_TEST(adv_digest_respond_unknown_qop)
{
    const char *s = "Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\", algorithm=MD5";
    imssec_digest_challenge ch[1];
    imssec_digest_request rq;
    char out[1024];
    size_t n = 0, len = 0;
    int rc;
    rc = imssec_digest_challenge_parse(s, strlen(s), ch, 1, &n);
    if (rc != IMSSEC_OK)
        return; /* rejected at parse time, as the parser contract says: fine */
    memset(&rq, 0, sizeof rq);
    rq.username.p = "u", rq.username.n = 1;
    rq.method.p = "REGISTER", rq.method.n = 8;
    rq.uri.p = "sip:r", rq.uri.n = 5;
    rq.cnonce.p = "c", rq.cnonce.n = 1;
    rq.nc = 1;
    rc = imssec_digest_respond(&ch[0], &rq, pw, sizeof pw - 1, NULL, out, sizeof out, &len);
    if (rc == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "answered qop=\"auth-conf\" with: %.*s", (int)len, out);
    T_EQ_INT(rc, IMSSEC_E_UNSUPPORTED);
}

/* userhash (RFC 7616 3.4.4), auth-int body and -sess cnonce binding. */
T_TEST(adv_digest_server_bindings)
{
    srv_case c;
    imssec_digest_nonce st;
    imssec_digest_str none = {NULL, 0}, plain = S("Mufasa"), other = S("Mufasb");
    static const uint8_t body[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";
    imssec_digest_str empty = {NULL, 0};
    /* auth-int: the body is bound */
    memset(&c, 0, sizeof c);
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_SHA256, IMSSEC_DIGEST_QOP_AUTH_INT, 1), IMSSEC_OK);
    c.in.body = body;
    c.in.body_len = sizeof body - 1;
    T_EQ_INT(imssec_digest_compute(&c.in, &c.out), IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_build(&c.in, &c.out, none, none, c.hdr, sizeof c.hdr, &c.hlen),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_parse(c.hdr, c.hlen, &c.cr), IMSSEC_OK);
    T_EQ_INT(c.cr.qop_val, IMSSEC_DIGEST_QOP_AUTH_INT);
    T_EQ_INT(imssec_digest_nonce_set(&st, c.in.nonce.p, c.in.nonce.n, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_SHA256, none, c.in.method, body,
                                         sizeof body - 2, pw, sizeof pw - 1, 0), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_SHA256, none, c.in.method, NULL,
                                         0, pw, sizeof pw - 1, 0), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_SHA256, none, c.in.method, body,
                                         sizeof body - 1, pw, sizeof pw - 1, 0), IMSSEC_OK);
    /* -sess: the cnonce is bound through HA1 */
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5_SESS, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    T_EQ_INT(imssec_digest_nonce_set(&st, c.in.nonce.p, c.in.nonce.n, 1000), IMSSEC_OK);
    {
        imssec_digest_credentials cr = c.cr;
        cr.cnonce.p = "0a4f113c";
        T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5_SESS, none, c.in.method,
                                             NULL, 0, pw, sizeof pw - 1, 0), IMSSEC_E_AUTH);
    }
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_MD5_SESS, none, c.in.method,
                                         NULL, 0, pw, sizeof pw - 1, 0), IMSSEC_OK);
    /* userhash: username in the header is H(user:realm); the server names
     * the plain user */
    memset(&c, 0, sizeof c);
    c.in.alg = IMSSEC_DIGEST_SHA256;
    c.in.qop = IMSSEC_DIGEST_QOP_AUTH;
    c.in.username = plain;
    c.in.realm.p = "r", c.in.realm.n = 1;
    c.in.nonce.p = "n", c.in.nonce.n = 1;
    c.in.cnonce.p = "c", c.in.cnonce.n = 1;
    c.in.method.p = "REGISTER", c.in.method.n = 8;
    c.in.uri.p = "sip:r", c.in.uri.n = 5;
    c.in.password = pw;
    c.in.password_len = sizeof pw - 1;
    c.in.nc = 1;
    c.in.userhash = 1;
    T_EQ_INT(imssec_digest_compute(&c.in, &c.out), IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_build(&c.in, &c.out, none, none, c.hdr, sizeof c.hdr, &c.hlen),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_parse(c.hdr, c.hlen, &c.cr), IMSSEC_OK);
    T_EQ_INT(c.cr.userhash, 1);
    T_EQ_SLICE(c.cr.username.p, c.cr.username.n, c.out.username);
    T_EQ_INT(imssec_digest_nonce_set(&st, "n", 1, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_SHA256, other, c.in.method, NULL,
                                         0, pw, sizeof pw - 1, 0), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_SHA256, plain, c.in.method, NULL,
                                         0, pw, sizeof pw - 1, 0), IMSSEC_OK);
    (void)empty;
}

/* AKAv2-MD5 end to end: the S-CSCF verifies with the password from XRES,
 * IK and CK (RFC 4169); a password from a different IK fails. */
T_TEST(adv_digest_akav2_server)
{
    uint8_t res[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ik[16] = {9}, ck[16] = {10}, pwd[64], pwd2[64];
    size_t pl, pl2;
    srv_case c;
    imssec_digest_nonce st;
    imssec_digest_str none = {NULL, 0};
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pwd, sizeof pwd, &pl),
             IMSSEC_OK);
    ik[0] ^= 1;
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pwd2, sizeof pwd2,
                                        &pl2), IMSSEC_OK);
    T_ASSERT(pl == pl2 && memcmp(pwd, pwd2, pl) != 0);
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_AKAV2_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    c.in.password = pwd;
    c.in.password_len = pl;
    T_EQ_INT(imssec_digest_compute(&c.in, &c.out), IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_build(&c.in, &c.out, none, none, c.hdr, sizeof c.hdr, &c.hlen),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_parse(c.hdr, c.hlen, &c.cr), IMSSEC_OK);
    T_EQ_INT(c.cr.alg, IMSSEC_DIGEST_AKAV2_MD5);
    T_EQ_INT(imssec_digest_nonce_set(&st, c.in.nonce.p, c.in.nonce.n, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_AKAV2_MD5, none, c.in.method,
                                         NULL, 0, pwd2, pl2, 0), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_AKAV1_MD5, none, c.in.method,
                                         NULL, 0, pwd, pl, 0), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &c.cr, IMSSEC_DIGEST_AKAV2_MD5, none, c.in.method,
                                         NULL, 0, pwd, pl, 0), IMSSEC_OK);
}

/* compute: unknown alg / qop out of range: error, out untouched. */
T_TEST(adv_digest_compute_errors)
{
    srv_case c;
    imssec_digest_out o, can;
    T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
    memset(&o, 0xA5, sizeof o);
    memcpy(&can, &o, sizeof o);
    c.in.alg = IMSSEC_DIGEST_UNKNOWN;
    T_EQ_INT(imssec_digest_compute(&c.in, &o), IMSSEC_E_UNSUPPORTED);
    T_EQ_MEM(&o, &can, sizeof o);
    c.in.alg = IMSSEC_DIGEST_ALG_COUNT;
    T_EQ_INT(imssec_digest_compute(&c.in, &o), IMSSEC_E_UNSUPPORTED);
    T_EQ_MEM(&o, &can, sizeof o);
    c.in.alg = IMSSEC_DIGEST_MD5;
    c.in.qop = 3;
    T_EQ_INT(imssec_digest_compute(&c.in, &o), IMSSEC_E_PARAM);
    T_EQ_MEM(&o, &can, sizeof o);
    c.in.qop = -1;
    T_EQ_INT(imssec_digest_compute(&c.in, &o), IMSSEC_E_PARAM);
    T_EQ_MEM(&o, &can, sizeof o);
}

/* Long hostile headers: linear time (a quadratic parser would take
 * seconds here), correct SPACE/EXTRA handling. */
T_TEST(adv_digest_long_header)
{
    static char buf[200000];
    size_t off = 0, n = 0;
    imssec_digest_challenge ch[2];
    int rc;
    size_t count = 0;
    while (off + 40 < sizeof buf) {
        memcpy(buf + off, "Digest realm=\"r\", nonce=\"n\", ", 29);
        off += 29;
        count++;
    }
    rc = imssec_digest_challenge_parse(buf, off - 2, ch, 2, &n);
    T_EQ_INT(rc, IMSSEC_E_SPACE);
    T_EQ_UINT(n, count); /* the count needed */
}

/* Algorithm names: whole-name, case-insensitive; quoted values work. */
T_TEST(adv_digest_alg_names)
{
    static const struct {
        const char *n;
        int alg;
    } c[] = {
        {"MD5", IMSSEC_DIGEST_MD5},
        {"md5", IMSSEC_DIGEST_MD5},
        {"MD5-sess", IMSSEC_DIGEST_MD5_SESS},
        {"MD5-", IMSSEC_DIGEST_UNKNOWN},
        {"MD", IMSSEC_DIGEST_UNKNOWN},
        {"MD5x", IMSSEC_DIGEST_UNKNOWN},
        {"SHA-256", IMSSEC_DIGEST_SHA256},
        {"sha-256-SESS", IMSSEC_DIGEST_SHA256_SESS},
        {"SHA-256-sessx", IMSSEC_DIGEST_UNKNOWN},
        {"SHA-512-256", IMSSEC_DIGEST_SHA512_256},
        {"SHA-512", IMSSEC_DIGEST_UNKNOWN},
        {"AKAv1-MD5", IMSSEC_DIGEST_AKAV1_MD5},
        {"akav2-md5", IMSSEC_DIGEST_AKAV2_MD5},
        {"AKAv1-SHA-256", IMSSEC_DIGEST_AKAV1_SHA256},
        {"AKAv1-MD5 ", IMSSEC_DIGEST_UNKNOWN},
        {"AKAv3-MD5", IMSSEC_DIGEST_UNKNOWN},
        {"", IMSSEC_DIGEST_UNKNOWN},
    };
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++)
        if (imssec_digest_alg_from_name(c[i].n, strlen(c[i].n)) != c[i].alg)
            t_fail_(__FILE__, __LINE__, "\"%s\" -> %d, want %d", c[i].n,
                    imssec_digest_alg_from_name(c[i].n, strlen(c[i].n)), c[i].alg);
    {
        static const char s[] = "MD5\0-sess";
        T_EQ_INT(imssec_digest_alg_from_name(s, sizeof s - 1), IMSSEC_DIGEST_UNKNOWN);
        T_EQ_INT(imssec_digest_alg_from_name(s, 3), IMSSEC_DIGEST_MD5);
    }
    {
        const char *h = "Digest realm=\"r\", nonce=\"n\", algorithm=\"akav1-md5\"";
        imssec_digest_challenge ch[1];
        size_t n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(h, strlen(h), ch, 1, &n), IMSSEC_OK);
        T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_AKAV1_MD5);
        h = "Digest realm=\"r\", nonce=\"n\", algorithm=AKAv9";
        n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(h, strlen(h), ch, 1, &n), IMSSEC_OK);
        T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_UNKNOWN);
    }
}

/* Embedded NUL / CTL bytes (RFC 7230 3.2.6: not in qdtext or tchar): the
 * length decides, and the value is rejected, never truncated at the NUL. */
T_TEST(adv_digest_embedded_nul)
{
    static const char c1[] = "Digest realm=\"a\0b\", nonce=\"n\"";
    static const char c2[] = "Digest realm=\"r\", nonce=\"n\", algorithm=MD5\0-sess";
    static const char c3[] = "Digest realm=\"r\"\0, nonce=\"n\"";
    static const char k1[] = "Digest username=\"u\0x\", realm=\"r\", nonce=\"n\", uri=\"x\", "
                             "response=\"00\"";
    imssec_digest_challenge ch[2];
    imssec_digest_credentials cr;
    size_t n;
    n = 0;
    if (imssec_digest_challenge_parse(c1, sizeof c1 - 1, ch, 2, &n) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL in realm accepted (realm %zu bytes)", ch[0].realm.n);
    n = 0;
    if (imssec_digest_challenge_parse(c2, sizeof c2 - 1, ch, 2, &n) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL in algorithm token accepted (alg %d)", ch[0].alg);
    n = 0;
    if (imssec_digest_challenge_parse(c3, sizeof c3 - 1, ch, 2, &n) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL between parameters accepted");
    if (imssec_digest_credentials_parse(k1, sizeof k1 - 1, &cr) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL in username accepted");
}

/* Conventions: outputs untouched on error (info parse, rspauth, password). */
T_TEST(adv_digest_outputs_untouched_on_error)
{
    static const char *bad[] = {"nc=1", "rspauth=\"abc", "qop=auth, qop=auth", "nextnonce=\"a\" x"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imssec_digest_info in, c;
        memset(&in, 0xA5, sizeof in);
        memcpy(&c, &in, sizeof in);
        if (imssec_digest_info_parse(bad[i], strlen(bad[i]), &in) != IMSSEC_OK) {
            T_EQ_MEM(&in, &c, sizeof in);
        } else {
            t_fail_(__FILE__, __LINE__, "Authentication-Info \"%s\" accepted", bad[i]);
        }
    }
    {
        srv_case c;
        char hex[IMSSEC_DIGEST_HEX_MAX + 1], can[IMSSEC_DIGEST_HEX_MAX + 1];
        uint8_t pwd[64], pc[64];
        size_t pl = 99;
        static const uint8_t res[8] = {0};
        uint8_t ck[16] = {0}, ik[16] = {0};
        T_EQ_INT(mk_creds(&c, IMSSEC_DIGEST_MD5, IMSSEC_DIGEST_QOP_AUTH, 1), IMSSEC_OK);
        c.in.alg = 99;
        memset(hex, 0x5A, sizeof hex);
        memcpy(can, hex, sizeof hex);
        T_ASSERT(imssec_digest_rspauth(&c.in, hex) != IMSSEC_OK);
        T_EQ_MEM(hex, can, sizeof hex);
        memset(pwd, 0x5A, sizeof pwd);
        memcpy(pc, pwd, sizeof pwd);
        T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 2, ck, ik, pwd, sizeof pwd,
                                            &pl), IMSSEC_E_PARAM);
        T_EQ_MEM(pwd, pc, sizeof pwd);
        T_EQ_UINT(pl, 99);
    }
}

/* A realm longer than the client's 256-character working copy: refused
 * with UNSUPPORTED (a bigger output buffer would not help, so SPACE --
 * which promises a size -- would be wrong), nothing written, *out_len
 * untouched.  256 characters still work. */
T_TEST(adv_digest_respond_long_realm)
{
    char h[700], out[2048], can[2048], realm[301];
    imssec_digest_challenge ch[1];
    imssec_digest_request rq;
    size_t n, len;
    memset(&rq, 0, sizeof rq);
    rq.username.p = "u", rq.username.n = 1;
    rq.method.p = "REGISTER", rq.method.n = 8;
    rq.uri.p = "sip:r", rq.uri.n = 5;
    memset(realm, 'r', 300);
    realm[300] = 0;
    snprintf(h, sizeof h, "Digest realm=\"%s\", nonce=\"n\"", realm);
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(h, strlen(h), ch, 1, &n), IMSSEC_OK);
    memset(out, 0x5A, sizeof out);
    memcpy(can, out, sizeof out);
    len = 4242;
    T_EQ_INT(imssec_digest_respond(&ch[0], &rq, pw, sizeof pw - 1, NULL, out, sizeof out, &len),
             IMSSEC_E_UNSUPPORTED);
    T_EQ_MEM(out, can, sizeof out);
    T_EQ_UINT(len, 4242);
    realm[256] = 0;
    snprintf(h, sizeof h, "Digest realm=\"%s\", nonce=\"n\"", realm);
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(h, strlen(h), ch, 1, &n), IMSSEC_OK);
    T_EQ_INT(imssec_digest_respond(&ch[0], &rq, pw, sizeof pw - 1, NULL, out, sizeof out, &len),
             IMSSEC_OK);
}
