/*
 * test_aka_digest.c -- SIP/HTTP digest: every row of test/vectors/digest.tsv
 * (RFC 2617 3.5, RFC 7616 3.9.1 / 3.9.2 corrected, OpenSIPS test values),
 * the RFC 2617 3.5 headers through parser, client and server, the AKAv1/v2
 * passwords (values from Python's hmac/hashlib, see each test) and the
 * parser's grammar rules.
 */
#include "../imssec.h"
#include "t.h"

static imssec_digest_str tdg_s(const char *s)
{
    imssec_digest_str r;
    r.p = s;
    r.n = strlen(s);
    return r;
}

static char *tdg_col(char *line, int idx)
{
    /* idx-th tab-separated cell, NUL-terminated in place (line is a copy) */
    int i;
    char *p = line, *t;
    for (i = 0; i < idx; i++) {
        p = strchr(p, '\t');
        if (!p)
            return (char *)"";
        p++;
    }
    t = strchr(p, '\t');
    if (t) {
        static char cell[64][512];
        static int k;
        char *c = cell[k++ & 63];
        size_t n = (size_t)(t - p);
        if (n >= 512)
            n = 511;
        memcpy(c, p, n);
        c[n] = 0;
        return c;
    }
    return p;
}

/* Every row of digest.tsv: HA1, HA2, response (and the userhash user name). */
T_TEST(aka_digest_vectors)
{
    FILE *f = fopen(t_vector_path("digest.tsv"), "rb");
    char hdr[4096], line[4096];
    const char *names[64];
    char hcopy[4096];
    int ncol = 0, rows = 0;
    if (!f)
        T_SKIP("digest.tsv not found");
    if (!fgets(hdr, sizeof hdr, f)) {
        fclose(f);
        T_SKIP("digest.tsv empty");
    }
    hdr[strcspn(hdr, "\r\n")] = 0;
    strcpy(hcopy, hdr);
    {
        char *p = hcopy;
        for (;;) {
            char *t = strchr(p, '\t');
            names[ncol++] = p;
            if (!t)
                break;
            *t = 0;
            p = t + 1;
        }
    }
    while (fgets(line, sizeof line, f)) {
        imssec_digest_in in;
        imssec_digest_out o;
        uint8_t pwbin[64];
        int i, c[64];
        const char *want[] = {"algorithm", "qop", "username", "userhash", "realm", "password",
                              "password_hex", "method", "uri", "nonce", "nc", "cnonce",
                              "entity_body", "exp_username", "exp_HA1", "exp_HA2",
                              "exp_response"};
        const char *v[17];
        line[strcspn(line, "\r\n")] = 0;
        if (!*line)
            continue;
        for (i = 0; i < 17; i++) {
            int j;
            c[i] = -1;
            for (j = 0; j < ncol; j++)
                if (strcmp(names[j], want[i]) == 0)
                    c[i] = j;
            T_ASSERT(c[i] >= 0);
            v[i] = tdg_col(line, c[i]);
        }
        memset(&in, 0, sizeof in);
        in.alg = imssec_digest_alg_from_name(v[0], strlen(v[0]));
        T_ASSERT(in.alg != IMSSEC_DIGEST_UNKNOWN);
        in.qop = !*v[1] ? IMSSEC_DIGEST_QOP_NONE
                 : strcmp(v[1], "auth") == 0 ? IMSSEC_DIGEST_QOP_AUTH
                                              : IMSSEC_DIGEST_QOP_AUTH_INT;
        in.username = tdg_s(v[2]);
        in.userhash = strcmp(v[3], "true") == 0;
        in.realm = tdg_s(v[4]);
        if (*v[6]) {
            in.password = pwbin;
            in.password_len = t_unhex(v[6], pwbin, sizeof pwbin);
        } else {
            in.password = (const uint8_t *)v[5];
            in.password_len = strlen(v[5]);
        }
        in.method = tdg_s(v[7]);
        in.uri = tdg_s(v[8]);
        in.nonce = tdg_s(v[9]);
        in.nc = *v[10] ? (uint32_t)strtoul(v[10], NULL, 16) : 0;
        in.cnonce = tdg_s(v[11]);
        in.body = (const uint8_t *)v[12];
        in.body_len = strlen(v[12]);
        T_EQ_INT(imssec_digest_compute(&in, &o), IMSSEC_OK);
        if (*v[13])
            T_EQ_STR(o.username, v[13]);
        T_EQ_STR(o.ha1, v[14]);
        T_EQ_STR(o.ha2, v[15]);
        T_EQ_STR(o.response, v[16]);
        rows++;
    }
    fclose(f);
    T_EQ_INT(rows, 7);
}

/* RFC 2617 section 3.5: the challenge and the client's answer, end to end:
 * parse, answer with the published cnonce, re-parse, verify on the server. */
static const char tdg_2617_ch[] =
    "Digest\r\n realm=\"testrealm@host.com\",\r\n qop=\"auth,auth-int\",\r\n"
    " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
    " opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
static const char tdg_2617_cr[] =
    "Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n"
    " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n"
    " qop=auth,\r\n nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n"
    " response=\"6629fae49393a05397450978507c4ef1\",\r\n"
    " opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

T_TEST(aka_digest_rfc2617_flow)
{
    imssec_digest_challenge ch[2];
    imssec_digest_credentials cr, cr2;
    imssec_digest_request rq;
    imssec_digest_out o;
    imssec_digest_nonce st;
    size_t n = 0, len = 0;
    char hdr[512];
    static const uint8_t pw[] = "Circle Of Life";

    T_EQ_INT(imssec_digest_challenge_parse(tdg_2617_ch, strlen(tdg_2617_ch), ch, 2, &n), IMSSEC_OK);
    T_EQ_UINT(n, 1);
    T_ASSERT(ch[0].is_digest);
    T_EQ_INT(ch[0].alg, IMSSEC_DIGEST_MD5);
    T_EQ_SLICE(ch[0].realm.p, ch[0].realm.n, "testrealm@host.com");
    T_EQ_SLICE(ch[0].nonce.p, ch[0].nonce.n, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    T_EQ_UINT(ch[0].qop_mask, IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH) |
                                  IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT));

    memset(&rq, 0, sizeof rq);
    rq.username = tdg_s("Mufasa");
    rq.method = tdg_s("GET");
    rq.uri = tdg_s("/dir/index.html");
    rq.cnonce = tdg_s("0a4f113b");
    rq.nc = 1;
    T_EQ_INT(imssec_digest_respond(&ch[0], &rq, pw, sizeof pw - 1, &o, hdr, sizeof hdr, &len),
             IMSSEC_OK);
    T_EQ_STR(o.response, "6629fae49393a05397450978507c4ef1");
    T_EQ_INT(imssec_digest_credentials_parse(hdr, len, &cr2), IMSSEC_OK);
    T_EQ_SLICE(cr2.response.p, cr2.response.n, "6629fae49393a05397450978507c4ef1");
    T_EQ_SLICE(cr2.opaque.p, cr2.opaque.n, "5ccc069c403ebaf9f0171e9517f40e41");
    T_EQ_INT(cr2.qop_val, IMSSEC_DIGEST_QOP_AUTH);
    T_EQ_UINT(cr2.nc, 1);

    /* the published Authorization, verified by the server */
    T_EQ_INT(imssec_digest_credentials_parse(tdg_2617_cr, strlen(tdg_2617_cr), &cr), IMSSEC_OK);
    T_EQ_SLICE(cr.username.p, cr.username.n, "Mufasa");
    T_EQ_SLICE(cr.uri.p, cr.uri.n, "/dir/index.html");
    T_EQ_INT(imssec_digest_nonce_set(&st, "dcd98b7102dd2f0e8b11d0f600bfb0c093", 34, 1000),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, tdg_s(""), tdg_s("GET"),
                                         NULL, 0, pw, sizeof pw - 1, 10), IMSSEC_OK);
    /* the same nc again: replay */
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, tdg_s(""), tdg_s("GET"),
                                         NULL, 0, pw, sizeof pw - 1, 11), IMSSEC_E_NC);
    /* wrong password, wrong method, wrong algorithm: no match */
    T_EQ_INT(imssec_digest_nonce_set(&st, "dcd98b7102dd2f0e8b11d0f600bfb0c093", 34, 1000),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, tdg_s(""), tdg_s("GET"),
                                         NULL, 0, pw, sizeof pw - 2, 10), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, tdg_s(""), tdg_s("PUT"),
                                         NULL, 0, pw, sizeof pw - 1, 10), IMSSEC_E_AUTH);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_SHA256, tdg_s(""), tdg_s("GET"),
                                         NULL, 0, pw, sizeof pw - 1, 10), IMSSEC_E_AUTH);
    /* right password after expiry: stale (RFC 7616 3.3) */
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, tdg_s(""), tdg_s("GET"),
                                         NULL, 0, pw, sizeof pw - 1, 1000), IMSSEC_E_STALE);
    /* another nonce than the one issued */
    T_EQ_INT(imssec_digest_nonce_set(&st, "abc", 3, 1000), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_MD5, tdg_s(""), tdg_s("GET"),
                                         NULL, 0, pw, sizeof pw - 1, 10), IMSSEC_E_AUTH);
}

/* Authentication-Info: rspauth is the response with an empty method (RFC
 * 2617 3.2.3); value for the RFC 2617 3.5 inputs computed with Python:
 * md5(HA1 + ":" + nonce + ":00000001:0a4f113b:auth:" + md5(":/dir/index.html")). */
T_TEST(aka_digest_auth_info)
{
    imssec_digest_in in;
    imssec_digest_info info;
    char hdr[256], rsp[IMSSEC_DIGEST_HEX_MAX + 1];
    size_t len;
    memset(&in, 0, sizeof in);
    in.alg = IMSSEC_DIGEST_MD5;
    in.qop = IMSSEC_DIGEST_QOP_AUTH;
    in.username = tdg_s("Mufasa");
    in.realm = tdg_s("testrealm@host.com");
    in.password = (const uint8_t *)"Circle Of Life";
    in.password_len = 14;
    in.nonce = tdg_s("dcd98b7102dd2f0e8b11d0f600bfb0c093");
    in.cnonce = tdg_s("0a4f113b");
    in.nc = 1;
    in.method = tdg_s("GET");
    in.uri = tdg_s("/dir/index.html");
    T_EQ_INT(imssec_digest_rspauth(&in, rsp), IMSSEC_OK);
    T_EQ_STR(rsp, "376602cfd2f4e8e5e78b948a85263e85");
    T_EQ_INT(imssec_digest_info_build(&in, tdg_s("next1"), hdr, sizeof hdr, &len), IMSSEC_OK);
    T_EQ_INT(imssec_digest_info_parse(hdr, len, &info), IMSSEC_OK);
    T_EQ_SLICE(info.nextnonce.p, info.nextnonce.n, "next1");
    T_EQ_INT(imssec_digest_info_verify(&in, &info), IMSSEC_OK);
    in.nc = 2;
    T_EQ_INT(imssec_digest_info_verify(&in, &info), IMSSEC_E_AUTH);
}

/* RFC 7616 3.9.1: two challenges in one header; the preference picks one. */
T_TEST(aka_digest_multi_challenge_select)
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
    T_EQ_INT(imssec_digest_challenge_parse(h, strlen(h), ch, 6, &n), IMSSEC_OK);
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
    /* a second header appends; other schemes are kept, token68 too */
    T_EQ_INT(imssec_digest_challenge_parse(h2, strlen(h2), ch, 6, &n), IMSSEC_OK);
    T_EQ_UINT(n, 6);
    T_ASSERT(!ch[2].is_digest);
    T_EQ_SLICE(ch[2].scheme.p, ch[2].scheme.n, "Basic");
    T_EQ_SLICE(ch[3].token68.p, ch[3].token68.n, "abc==");
    T_EQ_SLICE(ch[4].scheme.p, ch[4].scheme.n, "Negotiate");
    T_EQ_INT(ch[5].alg, IMSSEC_DIGEST_AKAV1_MD5);
    T_EQ_INT(imssec_digest_challenge_select(ch, n, pref3, 1), 5);
    /* full: E_SPACE with the count needed (imssec.h conventions) */
    n = 3; /* 3 + 4 challenges do not fit in 6 */
    T_EQ_INT(imssec_digest_challenge_parse(h2, strlen(h2), ch, 6, &n), IMSSEC_E_SPACE);
    T_EQ_UINT(n, 7);
}

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
    T_EQ_INT(imssec_digest_challenge_parse(ok1, strlen(ok1), ch, 2, &n), IMSSEC_OK);
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
        if (imssec_digest_challenge_parse(bad[i], strlen(bad[i]), ch, 2, &n) != IMSSEC_E_SYNTAX) {
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
        T_EQ_INT(imssec_digest_credentials_parse(c1, strlen(c1), &cr), IMSSEC_E_SYNTAX);
        T_EQ_INT(imssec_digest_credentials_parse(c2, strlen(c2), &cr), IMSSEC_E_SYNTAX);
        T_EQ_INT(imssec_digest_credentials_parse(c3, strlen(c3), &cr), IMSSEC_OK);
        T_EQ_UINT(cr.nc, 10);
    }
    T_EQ_INT(imssec_digest_credentials_parse("Basic dXNlcjpwYXNz", 18, &cr), IMSSEC_E_UNSUPPORTED);
    /* IMS initial REGISTER: empty nonce and response (TS 24.229 5.1.1.2) */
    {
        static const char init[] = "Digest username=\"alice@ims.example\", realm=\"ims.example\","
                                   " nonce=\"\", uri=\"sip:ims.example\", response=\"\"";
        T_EQ_INT(imssec_digest_credentials_parse(init, strlen(init), &cr), IMSSEC_OK);
        T_EQ_UINT(cr.nonce.n, 0);
        T_EQ_INT(cr.alg, IMSSEC_DIGEST_MD5);
    }
}

/* AKA passwords for RES/CK/IK of aka-flows.tsv row osmo-auc-gen-1; the AKAv2
 * values come from Python: base64(hmac.new(RES+IK+CK,
 * b"http-digest-akav2-password", md5 / sha256).digest()). */
T_TEST(aka_digest_aka_passwords)
{
    uint8_t res[8], ck[16], ik[16], pw[64];
    size_t n;
    t_unhex("f511d3a7f06e6a30", res, 8);
    t_unhex("f0b29f50a7d873f30336473bdc35d04f", ck, 16);
    t_unhex("6cf555588bb61ab2ff23cd333c05ed09", ik, 16);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 8, ck, ik, pw, sizeof pw, &n),
             IMSSEC_OK);
    T_EQ_UINT(n, 8);
    T_EQ_MEM(pw, res, 8);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pw, sizeof pw, &n),
             IMSSEC_OK);
    T_EQ_SLICE((char *)pw, n, "uKayboZU8nMa4NtZ+JgEcw==");
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_SHA256, res, 8, ck, ik, pw, sizeof pw,
                                        &n), IMSSEC_OK);
    T_EQ_SLICE((char *)pw, n, "dF4fXzTcObfXilwyAJw83Vj9zB1XIs70HrPeqYWKZVA=");
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_MD5, res, 8, ck, ik, pw, sizeof pw, &n),
             IMSSEC_E_UNSUPPORTED);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, res, 3, ck, ik, pw, sizeof pw, &n),
             IMSSEC_E_PARAM);
    T_EQ_INT(imssec_digest_aka_password(IMSSEC_DIGEST_AKAV2_MD5, res, 8, ck, ik, pw, 10, &n),
             IMSSEC_E_SPACE);
    T_EQ_UINT(n, 24);
}

/* A challenge we build parses back to what we put in (escaping included),
 * and the client honours userhash from it (RFC 7616 3.4.4: username is
 * H(username:realm), checked against Python in test/peer/). */
T_TEST(aka_digest_challenge_roundtrip)
{
    imssec_digest_challenge ch;
    imssec_digest_request rq;
    imssec_digest_credentials cr;
    imssec_digest_out o;
    imssec_digest_nonce st;
    char hdr[256], out[512], buf[32];
    size_t len, n = 0, on;
    T_EQ_INT(imssec_digest_challenge_build(IMSSEC_DIGEST_SHA512_256_SESS, tdg_s("r\"1"), tdg_s("n1"),
                                           tdg_s("o\\p"),
                                           IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT), 1, 1,
                                           hdr, sizeof hdr, &len), IMSSEC_OK);
    T_EQ_SLICE(hdr, len, "Digest realm=\"r\\\"1\", nonce=\"n1\", algorithm=SHA-512-256-sess, "
                         "qop=\"auth-int\", opaque=\"o\\\\p\", stale=true, userhash=true");
    T_EQ_INT(imssec_digest_challenge_parse(hdr, len, &ch, 1, &n), IMSSEC_OK);
    T_EQ_INT(ch.alg, IMSSEC_DIGEST_SHA512_256_SESS);
    T_ASSERT(ch.stale && ch.userhash);
    T_EQ_UINT(ch.qop_mask, IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT));
    T_EQ_INT(imssec_digest_unquote(ch.opaque, buf, sizeof buf, &len), IMSSEC_OK);
    T_EQ_SLICE(buf, len, "o\\p");
    /* too small: E_SPACE with the size needed */
    T_EQ_INT(imssec_digest_challenge_build(IMSSEC_DIGEST_MD5, tdg_s("r"), tdg_s("n"), tdg_s(""), 0, 0,
                                           0, hdr, 10, &len), IMSSEC_E_SPACE);
    T_EQ_UINT(len, strlen("Digest realm=\"r\", nonce=\"n\", algorithm=MD5"));
    /* the client answers with the hashed user name; the server verifies */
    memset(&rq, 0, sizeof rq);
    rq.username = tdg_s("bob");
    rq.method = tdg_s("MESSAGE");
    rq.uri = tdg_s("sip:x");
    rq.cnonce = tdg_s("cn");
    rq.nc = 3;
    T_EQ_INT(imssec_digest_respond(&ch, &rq, (const uint8_t *)"pw", 2, &o, out, sizeof out, &on),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_credentials_parse(out, on, &cr), IMSSEC_OK);
    T_ASSERT(cr.userhash);
    T_EQ_SLICE(cr.username.p, cr.username.n, o.username);
    T_EQ_INT(imssec_digest_nonce_set(&st, "n1", 2, 100), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_SHA512_256_SESS, tdg_s("bob"),
                                         tdg_s("MESSAGE"), NULL, 0, (const uint8_t *)"pw", 2, 1),
             IMSSEC_OK);
    T_EQ_INT(imssec_digest_nonce_set(&st, "n1", 2, 100), IMSSEC_OK);
    T_EQ_INT(imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_SHA512_256_SESS, tdg_s("eve"),
                                         tdg_s("MESSAGE"), NULL, 0, (const uint8_t *)"pw", 2, 1),
             IMSSEC_E_AUTH);
    /* an unknown-only qop list is not silently downgraded to no qop */
    n = 0;
    {
        static const char h[] = "Digest realm=r, nonce=n, qop=\"auth-conf\"";
        T_EQ_INT(imssec_digest_challenge_parse(h, strlen(h), &ch, 1, &n), IMSSEC_OK);
    }
    T_EQ_INT(imssec_digest_respond(&ch, &rq, (const uint8_t *)"pw", 2, &o, out, sizeof out, &on),
             IMSSEC_E_UNSUPPORTED);
}
