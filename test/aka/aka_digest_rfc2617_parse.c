/*
 * aka_digest_rfc2617_parse.c -- the SIP/HTTP digest parsers (RFC 2617,
 * RFC 7616 3.3, RFC 7230 3.2.6): the grammar rules, challenge selection,
 * qop lists, names, algorithms, escapes and limits, and hostile input:
 * every prefix and suffix and random mutations placed at a guard page,
 * embedded NUL bytes, long headers; outputs untouched on every error.
 */

#include "aka_fixture.h"

#include "../guard_page.h"

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

/* Grammar: case-insensitive names, escapes, unknown params kept, duplicates
 * and malformed input refused with nothing written. */
T_TEST(aka_digest_parser_rules)
{
    static const char ok1[] = "dIgEsT REALM=\"a\\\"b\\\\c\", NONCE=xyz, Foo=\"bar baz\", stale=TRUE, ,";
    static const char *bad[] = {
        "Digest realm=a, realm=b, nonce=c", "Digest realm=\"a, nonce=c",
        "Digest realm=a nonce=c",           "Digest realm=a, nonce=",
        "Digest nonce=c",                   "Digest realm=a, nonce=c, x=1, X=2",
        "Digest realm=a,\r\nnonce=c",       "Digest realm=\"a\\",
        "",                                 "Digest Basic realm=a",
        "Digest realm=a, nonce=c, qop=\"auth;x\""};
    imssec_digest_challenge ch[2];
    imssec_digest_credentials cr;
    char buf[16];
    size_t n = 0, i, len;
    T_EQ_INT(imssec_digest_challenge_parse(T_S(ok1, strlen(ok1)), ch, 2, &n, NULL), IMSSEC_OK);
    T_EQ_UINT(n, 1);
    T_ASSERT(ch[0].is_digest);
    T_ASSERT(ch[0].stale);
    T_EQ_SLICE(ch[0].realm.p, ch[0].realm.n, "a\\\"b\\\\c");
    T_EQ_INT(imssec_digest_unquote(ch[0].realm, buf, sizeof buf, &len), IMSSEC_OK);
    T_EQ_SLICE(buf, len, "a\"b\\c");
    T_EQ_UINT(ch[0].n_extra, 1);
    T_EQ_SLICE(ch[0].extra[0].name.p, ch[0].extra[0].name.n, "Foo");
    T_EQ_SLICE(ch[0].extra[0].value.p, ch[0].extra[0].value.n, "bar baz");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 0;
        if (imssec_digest_challenge_parse(T_S(bad[i], strlen(bad[i])), ch, 2, &n, NULL) != IMSSEC_E_SYNTAX) {
            t_fail_(__FILE__, __LINE__, "accepted: %s", bad[i]);
            return;
        }
        T_EQ_UINT(n, 0);
    }
    /* credentials: nc must be 8 hex digits; qop needs nc and cnonce */
    {
        static const char c1[] = "Digest username=u, realm=r, nonce=n, uri=\"sip:x\", response=\"\","
                                 " qop=auth, nc=1, cnonce=c";
        static const char c2[] = "Digest username=u, realm=r, nonce=n, uri=\"sip:x\", response=\"\","
                                 " qop=auth, nc=0000000a";
        static const char c3[] = "Digest username=u, realm=r, nonce=n, uri=\"sip:x\", response=\"\","
                                 " qop=auth, nc=0000000A, cnonce=c";
        T_EQ_INT(imssec_digest_credentials_parse(T_S(c1, strlen(c1)), &cr, NULL), IMSSEC_E_SYNTAX);
        T_EQ_INT(imssec_digest_credentials_parse(T_S(c2, strlen(c2)), &cr, NULL), IMSSEC_E_SYNTAX);
        T_EQ_INT(imssec_digest_credentials_parse(T_S(c3, strlen(c3)), &cr, NULL), IMSSEC_OK);
        T_EQ_UINT(cr.nc, 10);
    }
    T_EQ_INT(imssec_digest_credentials_parse(T_S("Basic dXNlcjpwYXNz", 18), &cr, NULL), IMSSEC_E_UNSUPPORTED);
    /* IMS initial REGISTER: empty nonce and response (TS 24.229 5.1.1.2) */
    {
        static const char init[] = "Digest username=\"alice@ims.example\", realm=\"ims.example\","
                                   " nonce=\"\", uri=\"sip:ims.example\", response=\"\"";
        T_EQ_INT(imssec_digest_credentials_parse(T_S(init, strlen(init)), &cr, NULL), IMSSEC_OK);
        T_EQ_UINT(cr.nonce.n, 0);
        T_EQ_INT(cr.alg, IMSSEC_DIGEST_MD5);
    }
}

/* RFC 7616 3.9.1: two challenges in one header; the preference picks one;
 * other schemes are kept (token68 too) and skipped by select, which returns
 * -1 when no challenge has a preferred algorithm. */
T_TEST(aka_digest_rfc7616_3_9_1_challenge_select)
{
    static const char h[] =
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256,"
        " nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
        " opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\","
        " Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5,"
        " nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
        " opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    static const char h2[] = "Basic realm=\"x\", Bearer abc==, Negotiate, Digest realm=r, nonce=n, algorithm=AKAv1-MD5";
    imssec_digest_challenge ch[6];
    size_t n = 0;
    int pref1[] = {IMSSEC_DIGEST_SHA256, IMSSEC_DIGEST_MD5};
    int pref2[] = {IMSSEC_DIGEST_SHA512_256, IMSSEC_DIGEST_MD5};
    int pref3[] = {IMSSEC_DIGEST_AKAV1_MD5};
    imssec_digest_request rq;
    imssec_digest_out o;
    char out[512];
    size_t len;
    T_EQ_INT(imssec_digest_challenge_parse(T_S(h, strlen(h)), ch, 6, &n, NULL), IMSSEC_OK);
    T_EQ_UINT(n, 2);
    T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_SHA256);
    T_EQ_INT(ch[1].alg, IMSSEC_DIGEST_MD5);
    T_EQ_INT(imssec_digest_challenge_select(ch, n, pref1, 2), 0);
    T_EQ_INT(imssec_digest_challenge_select(ch, n, pref2, 2), 1);
    T_EQ_INT(imssec_digest_challenge_select(ch, n, pref3, 1), -1);
    /* the RFC's SHA-256 response (3.9.1) through the client */
    memset(&rq, 0, sizeof rq);
    rq.username = tdg_s("Mufasa");
    rq.method = tdg_s("GET");
    rq.uri = tdg_s("/dir/index.html");
    rq.cnonce = tdg_s("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
    rq.nc = 1;
    T_EQ_INT(imssec_digest_respond(&ch[0], &rq, (const uint8_t *)"Circle of Life", 14, &o, out,
                                   sizeof out, &len), IMSSEC_OK);
    T_EQ_STR(o.response, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    /* a second header goes after the first (out + n); other schemes are
     * kept, token68 too */
    {
        size_t n2 = 0;
        T_EQ_INT(imssec_digest_challenge_parse(T_S(h2, strlen(h2)), ch + n, 6 - n, &n2, NULL),
                 IMSSEC_OK);
        n += n2;
    }
    T_EQ_UINT(n, 6);
    T_ASSERT(!ch[2].is_digest);
    T_EQ_SLICE(ch[2].scheme.p, ch[2].scheme.n, "Basic");
    T_EQ_SLICE(ch[3].token68.p, ch[3].token68.n, "abc==");
    T_EQ_SLICE(ch[4].scheme.p, ch[4].scheme.n, "Negotiate");
    T_EQ_INT(ch[5].alg, IMSSEC_DIGEST_AKAV1_MD5);
    T_EQ_INT(imssec_digest_challenge_select(ch, n, pref3, 1), 5);
    /* full: E_SPACE with the count needed (the output convention): h2
     * holds 4 challenges, 3 slots are left after three */
    T_EQ_INT(imssec_digest_challenge_parse(T_S(h2, strlen(h2)), ch + 3, 3, &n, NULL),
             IMSSEC_E_SPACE);
    T_EQ_UINT(n, 4);

    /* Basic first, then MD5 and AKAv1-MD5: preference order, -1 when none */
    {
        const char *s = "Basic realm=\"x\", Digest realm=\"a\", nonce=\"1\", algorithm=MD5, "
                        "Digest realm=\"b\", nonce=\"2\", algorithm=AKAv1-MD5";
        imssec_digest_challenge ch[4];
        size_t n = 0;
        static const int p1[] = {IMSSEC_DIGEST_AKAV2_MD5, IMSSEC_DIGEST_AKAV1_MD5, IMSSEC_DIGEST_MD5};
        static const int p2[] = {IMSSEC_DIGEST_SHA256};
        T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 4, &n, NULL), IMSSEC_OK);
        T_EQ_UINT(n, 3);
        T_EQ_INT(ch[0].is_digest, 0);
        T_EQ_INT(imssec_digest_challenge_select(ch, n, p1, 3), 2);
        T_EQ_INT(imssec_digest_challenge_select(ch, n, p2, 1), -1);
    }
}

/* qop lists: unknown tokens ignored when a known one is present.  A list
 * of only unknown tokens (or an empty one) parses: RFC 7616 3.3 / RFC 2617
 * 3.2.1 have clients ignore qop values they do not recognise, and one
 * header may hold several challenges, so rejecting the whole header for one
 * odd challenge would make the others unusable.  Such a challenge keeps its
 * raw qop text, is flagged qop_unknown_only, is answered with
 * IMSSEC_E_UNSUPPORTED (never with the qop-less RFC 2069 form: a downgrade)
 * and is skipped by select. */
/* The single challenge qop="auth-conf" alone: IMSSEC_E_UNSUPPORTED ("or only
 * unknown qop values") if it parses at all. */
T_TEST(aka_digest_rfc7616_3_3_qop_lists)
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
        rc = imssec_digest_challenge_parse(T_S(buf, strlen(buf)), ch, 2, &n, NULL);
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
    /* qop="auth-conf" as the only challenge */
    {
        const char *s = "Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\", algorithm=MD5";
        imssec_digest_challenge ch[1];
        imssec_digest_request rq;
        char out[1024];
        size_t n = 0, len = 0;
        int rc;
        rc = imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 1, &n, NULL);
        if (rc == IMSSEC_OK) { /* else rejected at parse time: the contract allows it */
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
    }
}

/* Every prefix and suffix of good inputs at a guard page; never crash,
 * slices inside the input. */
T_TEST(aka_digest_challenge_parse_truncations)
{
    guard_page g;
    size_t i, k;
    T_ASSERT(gp_init(&g) == 0);
    for (i = 0; i < sizeof ch_good / sizeof ch_good[0]; i++) {
        size_t len = strlen(ch_good[i]);
        imssec_digest_challenge ch[4];
        size_t n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(T_S(ch_good[i], len), ch, 4, &n, NULL), IMSSEC_OK);
        for (k = 0; k <= 2 * len; k++) {
            const char *src = k <= len ? ch_good[i] : ch_good[i] + (k - len);
            size_t l = k <= len ? k : len - (k - len);
            const char *q = (const char *)gp_place(&g, src, l);
            int rc;
            size_t j;
            n = 0;
            rc = imssec_digest_challenge_parse(T_S(q, l), ch, 4, &n, NULL);
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
    gp_free(&g);
}

T_TEST(aka_digest_credentials_parse_truncations)
{
    guard_page g;
    size_t i, k;
    T_ASSERT(gp_init(&g) == 0);
    for (i = 0; i < sizeof cr_good / sizeof cr_good[0]; i++) {
        size_t len = strlen(cr_good[i]);
        imssec_digest_credentials cr;
        T_EQ_INT(imssec_digest_credentials_parse(T_S(cr_good[i], len), &cr, NULL), IMSSEC_OK);
        for (k = 0; k <= 2 * len; k++) {
            const char *src = k <= len ? cr_good[i] : cr_good[i] + (k - len);
            size_t l = k <= len ? k : len - (k - len);
            const char *q = (const char *)gp_place(&g, src, l);
            int rc = imssec_digest_credentials_parse(T_S(q, l), &cr, NULL);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_SPACE ||
                     rc == IMSSEC_E_UNSUPPORTED);
        }
    }
    gp_free(&g);
}

T_TEST(aka_digest_info_parse_truncations)
{
    static const char *s = "nextnonce=\"47364c23432d2e131a5fb210812c\", qop=auth, "
                           "rspauth=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", "
                           "nc=00000001";
    guard_page g;
    size_t k, len = strlen(s);
    imssec_digest_info in;
    T_ASSERT(gp_init(&g) == 0);
    T_EQ_INT(imssec_digest_info_parse(T_S(s, len), &in, NULL), IMSSEC_OK);
    T_EQ_UINT(in.nc, 1);
    for (k = 0; k <= len; k++) {
        const char *q = (const char *)gp_place(&g, s, k);
        int rc = imssec_digest_info_parse(T_S(q, k), &in, NULL);
        T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_SPACE);
    }
    gp_free(&g);
}

/* On error the challenge array and *n are untouched. */
T_TEST(aka_digest_challenge_parse_error_untouched)
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
        rc = imssec_digest_challenge_parse(T_S(bad[i], strlen(bad[i])), ch, 4, &n, NULL);
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
        T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 1, &n, NULL), IMSSEC_E_SPACE);
        T_EQ_MEM(ch, c, sizeof ch);
        T_EQ_UINT(n, 2);
        /* retry with the reported count: fits exactly */
        n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 2, &n, NULL), IMSSEC_OK);
        T_EQ_UINT(n, 2);
        /* a second header goes to the slots after the first one's (the
         * output convention: out + 2, out_cap - 2), and a short rest
         * leaves everything as it was */
        memcpy(ch, c, sizeof ch);
        n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch + 2, 1, &n, NULL), IMSSEC_E_SPACE);
        T_EQ_UINT(n, 2);
        T_EQ_MEM(ch, c, sizeof ch);
        T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch + 2, 2, &n, NULL), IMSSEC_OK);
        T_EQ_UINT(n, 2);
        T_EQ_MEM(&ch[0], &c[0], 2 * sizeof ch[0]);
        T_EQ_SLICE(ch[3].realm.p, ch[3].realm.n, "b");
    }
    /* too many unknown parameters is not cured by a bigger array: RANGE,
     * not SPACE, and *out_len stays as it was */
    {
        imssec_digest_challenge ch[4];
        char buf[512];
        size_t off, i, n = 1;
        off = (size_t)snprintf(buf, sizeof buf, "Digest realm=\"r\", nonce=\"n\"");
        for (i = 0; i <= IMSSEC_DIGEST_EXTRA_MAX; i++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, ", x%u=1", (unsigned)i);
        T_EQ_INT(imssec_digest_challenge_parse(T_S(buf, off), ch, 4, &n, NULL), IMSSEC_E_RANGE);
        T_EQ_UINT(n, 1);
    }
}

/* Whole-name matching: "alg" is not "algorithm", "nonce-x" not "nonce";
 * case-insensitive names; escapes kept in slices. */
T_TEST(aka_digest_rfc7616_3_3_challenge_names)
{
    const char *s = "DIGEST Realm=\"a\\\"b\", NONCE=\"n\", alg=SHA-256, nonce-x=1, "
                    "realmx=\"y\", Algorithm=\"sha-256\", QOP=\"auth-int\"";
    imssec_digest_challenge ch[2];
    size_t n = 0;
    char buf[16];
    size_t bl;
    T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 2, &n, NULL), IMSSEC_OK);
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
    T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 2, &n, NULL), IMSSEC_OK);
    T_EQ_INT(ch[0].stale, 0);
    s = "Digest realm=\"r\", nonce=\"n\", stale=\"TRUE\"";
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 2, &n, NULL), IMSSEC_OK);
    T_EQ_INT(ch[0].stale, 1);
    /* absent algorithm = MD5 */
    s = "Digest realm=\"r\", nonce=\"n\", algorithmx=SHA-256";
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(T_S(s, strlen(s)), ch, 2, &n, NULL), IMSSEC_OK);
    T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_MD5);
}

/* unquote: SPACE with the need; lone trailing backslash SYNTAX. */
T_TEST(aka_digest_unquote_space_and_syntax)
{
    imssec_str s = S("a\\\"b\\\\c");
    imssec_str bad = S("abc\\");
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
T_TEST(aka_digest_rfc2617_3_2_2_credentials_rejects)
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
        if (imssec_digest_credentials_parse(T_S(buf, strlen(buf)), &cr, NULL) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "nc=%s accepted (nc %u)", nc_bad[i], (unsigned)cr.nc);
            continue;
        }
        T_EQ_MEM(&cr, &c, sizeof cr);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imssec_digest_credentials cr, c;
        memset(&cr, 0xA5, sizeof cr);
        memcpy(&c, &cr, sizeof cr);
        if (imssec_digest_credentials_parse(T_S(bad[i], strlen(bad[i])), &cr, NULL) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "accepted: %s", bad[i]);
            continue;
        }
        T_EQ_MEM(&cr, &c, sizeof cr);
    }
    {
        const char *b = "Basic dXNlcjpwYXNz";
        imssec_digest_credentials cr;
        T_EQ_INT(imssec_digest_credentials_parse(T_S(b, strlen(b)), &cr, NULL), IMSSEC_E_UNSUPPORTED);
    }
    /* the quoted form is the same value as the unquoted one */
    {
        const char *q = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", "
                        "response=\"00\", qop=auth, cnonce=\"c\", nc=\"0000001F\"";
        imssec_digest_credentials cr;
        T_EQ_INT(imssec_digest_credentials_parse(T_S(q, strlen(q)), &cr, NULL), IMSSEC_OK);
        T_EQ_UINT(cr.nc, 0x1f);
    }
}

/* More than IMSSEC_DIGEST_EXTRA_MAX unknown params: SPACE; exactly the max
 * is fine. */
T_TEST(aka_digest_extra_params_max)
{
    char buf[1024];
    size_t off, i, n;
    imssec_digest_challenge ch[1];
    off = (size_t)snprintf(buf, sizeof buf, "Digest realm=\"r\", nonce=\"n\"");
    for (i = 0; i < IMSSEC_DIGEST_EXTRA_MAX; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, ", x%u=%u", (unsigned)i, (unsigned)i);
    n = 0;
    T_EQ_INT(imssec_digest_challenge_parse(T_S(buf, off), ch, 1, &n, NULL), IMSSEC_OK);
    T_EQ_UINT(ch[0].n_extra, IMSSEC_DIGEST_EXTRA_MAX);
    off += (size_t)snprintf(buf + off, sizeof buf - off, ", y=1");
    n = 0;
    {
        /* a bound of the build, not of the caller's array: IMSSEC_E_RANGE
         * (a bigger output could not help), with the bound in err.limit */
        imssec_errinfo e;
        T_EQ_INT(imssec_digest_challenge_parse(T_S(buf, off), ch, 1, &n, &e), IMSSEC_E_RANGE);
        T_EQ_UINT(n, 0);
        T_EQ_UINT(e.limit, IMSSEC_DIGEST_EXTRA_MAX);
    }
}

/* Random mutations of good challenges/credentials at a guard page. */
T_TEST(aka_digest_parse_mutations_guard_page)
{
    guard_page g;
    size_t r, i;
    T_ASSERT(gp_init(&g) == 0);
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
        q = (const char *)gp_place(&g, buf, n);
        if (which) {
            imssec_digest_credentials cr;
            (void)imssec_digest_credentials_parse(T_S(q, n), &cr, NULL);
        } else {
            imssec_digest_challenge ch[4];
            size_t k = 0;
            int rc = imssec_digest_challenge_parse(T_S(q, n), ch, 4, &k, NULL);
            /* on SPACE k is the count needed (more than fits), else <= 4 */
            T_ASSERT(rc == IMSSEC_E_SPACE ? k == 0 || k > 4 : k <= 4);
        }
    }
    gp_free(&g);
}

/* Long hostile headers: linear time (a quadratic parser would take
 * seconds here), correct SPACE/EXTRA handling. */
T_TEST(aka_digest_long_header_linear)
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
    rc = imssec_digest_challenge_parse(T_S(buf, off - 2), ch, 2, &n, NULL);
    T_EQ_INT(rc, IMSSEC_E_SPACE);
    T_EQ_UINT(n, count); /* the count needed */
}

/* Algorithm names: whole-name, case-insensitive; quoted values work. */
T_TEST(aka_digest_alg_names)
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
        if (imssec_digest_alg_from_name(T_S(c[i].n, strlen(c[i].n))) != c[i].alg)
            t_fail_(__FILE__, __LINE__, "\"%s\" -> %d, want %d", c[i].n,
                    imssec_digest_alg_from_name(T_S(c[i].n, strlen(c[i].n))), c[i].alg);
    {
        static const char s[] = "MD5\0-sess";
        T_EQ_INT(imssec_digest_alg_from_name(T_S(s, sizeof s - 1)), IMSSEC_DIGEST_UNKNOWN);
        T_EQ_INT(imssec_digest_alg_from_name(T_S(s, 3)), IMSSEC_DIGEST_MD5);
    }
    {
        const char *h = "Digest realm=\"r\", nonce=\"n\", algorithm=\"akav1-md5\"";
        imssec_digest_challenge ch[1];
        size_t n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(T_S(h, strlen(h)), ch, 1, &n, NULL), IMSSEC_OK);
        T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_AKAV1_MD5);
        h = "Digest realm=\"r\", nonce=\"n\", algorithm=AKAv9";
        n = 0;
        T_EQ_INT(imssec_digest_challenge_parse(T_S(h, strlen(h)), ch, 1, &n, NULL), IMSSEC_OK);
        T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_UNKNOWN);
    }
}

/* Embedded NUL / CTL bytes (RFC 7230 3.2.6: not in qdtext or tchar): the
 * length decides, and the value is rejected, never truncated at the NUL. */
T_TEST(aka_digest_rfc7230_3_2_6_embedded_nul)
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
    if (imssec_digest_challenge_parse(T_S(c1, sizeof c1 - 1), ch, 2, &n, NULL) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL in realm accepted (realm %zu bytes)", ch[0].realm.n);
    n = 0;
    if (imssec_digest_challenge_parse(T_S(c2, sizeof c2 - 1), ch, 2, &n, NULL) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL in algorithm token accepted (alg %d)", ch[0].alg);
    n = 0;
    if (imssec_digest_challenge_parse(T_S(c3, sizeof c3 - 1), ch, 2, &n, NULL) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL between parameters accepted");
    if (imssec_digest_credentials_parse(T_S(k1, sizeof k1 - 1), &cr, NULL) == IMSSEC_OK)
        t_fail_(__FILE__, __LINE__, "NUL in username accepted");
}
