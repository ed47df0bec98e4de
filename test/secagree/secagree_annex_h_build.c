/*
 * secagree_annex_h_build.c -- building and comparing Security-Client/
 * -Server/-Verify (RFC 3329, TS 33.203 Annex H): the builder's known
 * output and IMSSEC_E_SPACE, parse(build(x)) == x, the echo of Annex H item
 * 2, the Annex H defaults of the comparison (E9) and the Security-Verify
 * normalisation (E17).
 */

#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "secagree_fixture.h"

/* Builder output for hand-filled mechanisms, written out by hand: SPIs
 * printed unsigned (never %d: the Kamailio bug), q scaled back; too small an
 * output reports the size needed and writes nothing; unwritable values (SPI
 * 0, port 0, port-c == port-s, q > 1) are refused. */
T_TEST(secagree_build_known_output)
{
    imssec_secagree_mech m[2];
    char out[256];
    size_t n;
    memset(m, 0, sizeof m);
    m[0].kind = IMSSEC_SECAGREE_IPSEC_3GPP;
    m[0].alg = IMSSEC_ALG_HMAC_SHA1_96;
    m[0].ealg = IMSSEC_EALG_AES_CBC;
    m[0].spi_c = 4294967295u; /* printed unsigned, never %d (Kamailio bug) */
    m[0].spi_s = 2147483648u;
    m[0].port_c = 65535;
    m[0].port_s = 5064;
    m[0].q = 125;
    m[0].present = AE | P4 | IMSSEC_SECAGREE_HAS_Q | IMSSEC_SECAGREE_HAS_PROT;
    m[1].kind = IMSSEC_SECAGREE_TLS;
    m[1].q = 1000;
    m[1].present = IMSSEC_SECAGREE_HAS_Q;
    T_EQ_INT(imssec_secagree_build(m, 2, out, sizeof out, &n, NULL), IMSSEC_OK);
    T_EQ_SLICE(out, n,
               "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;spi-c=4294967295;"
               "spi-s=2147483648;port-c=65535;port-s=5064;q=0.125, tls;q=1");
    /* too small: nothing written, size needed reported */
    memset(out, 'Z', sizeof out);
    T_EQ_INT(imssec_secagree_build(m, 2, out, 10, &n, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(n, 126); /* strlen of the text above */
    T_EQ_UINT(out[0], 'Z');
    /* unwritable values */
    m[0].spi_c = 0;
    T_EQ_INT(imssec_secagree_build(m, 2, out, sizeof out, &n, NULL), IMSSEC_E_PARAM);
    m[0].spi_c = 1;
    m[0].port_c = 5064;
    T_EQ_INT(imssec_secagree_build(m, 2, out, sizeof out, &n, NULL), IMSSEC_E_PARAM);

    /* one mechanism: alg, SA parameters and q */
    {
        imssec_secagree_mech m;
        char out[256];
        size_t len;
        memset(&m, 0, sizeof m);
        m.kind = IMSSEC_SECAGREE_IPSEC_3GPP;
        m.present = IMSSEC_SECAGREE_HAS_ALG | IMSSEC_SECAGREE_HAS_SA_PARAMS | IMSSEC_SECAGREE_HAS_Q;
        m.alg = IMSSEC_ALG_HMAC_SHA1_96;
        m.spi_c = 4294967295u;
        m.spi_s = 2147483648u;
        m.port_c = 65535;
        m.port_s = 1;
        m.q = 100;
        T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len, NULL), IMSSEC_OK);
        T_EQ_SLICE(out, len,
                   "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=4294967295;spi-s=2147483648;port-c=65535;"
                   "port-s=1;q=0.1");
        m.q = 1001;
        T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len, NULL), IMSSEC_E_PARAM);
        m.q = 1000;
        m.spi_c = 0;
        T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len, NULL), IMSSEC_E_PARAM);
        m.spi_c = 1;
        m.port_c = 0;
        T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len, NULL), IMSSEC_E_PARAM);
        m.port_c = 1; /* == port_s */
        T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len, NULL), IMSSEC_E_PARAM);
    }
}

/* parse(build(x)) == x for every vector line and the edge-case inputs. */
T_TEST(secagree_build_roundtrip)
{
    static const char *in[] = {
        ("ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919; "
         "port-c=8034; port-s=8904,ipsec-3gpp; alg=hmac-sha-1-96; ealg=null; spi-c=1; spi-s=2; "
         "port-c=8034; port-s=8904"),
        "ipsec-3gpp ; q=0.1",
        ("ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=aes-cbc;spi-c=5000;spi-s=5001;"
         "port-c=9999;port-s=20000,ipsec-ike;q=0.1;test=458;toto"),
        "IPSEC-3gpp;alg=\"odd value\";ealg=weird;mod=UDP-ENC-TUN;x=\"q, \\\"uo\\\"\";y=[::1]",
        "foo;bar=baz;q=0.010, tls;q=0.",
    };
    size_t k;
    for (k = 0; k < sizeof in / sizeof in[0]; k++) {
        imssec_secagree_mech a[8], b[8];
        size_t na, nb, n1, n2;
        char o1[1024], o2[1024];
        imssec_errinfo why_e;
        T_EQ_INT(imssec_secagree_parse(T_S(in[k], strlen(in[k])), a, 8, &na, NULL), IMSSEC_OK);
        T_EQ_INT(imssec_secagree_build(a, na, o1, sizeof o1 - 1, &n1, NULL), IMSSEC_OK);
        o1[n1] = 0;
        if (sa_parse(o1, b, 8, &nb, NULL) != IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "input %u: rebuilt text refused: %.*s", (unsigned)k,
                    (int)n1, o1);
            return;
        }
        /* b points into the guard area, a into in[k] */
        if (!imssec_secagree_equal(a, na, b, nb, &why_e)) {
            t_fail_(__FILE__, __LINE__, "input %u: %s: %.*s", (unsigned)k, why_e.what, (int)n1, o1);
            return;
        }
        /* the canonical form is a fixed point */
        T_EQ_INT(imssec_secagree_build(b, nb, o2, sizeof o2, &n2, NULL), IMSSEC_OK);
        T_EQ_MEM(o2, o1, n1);
        T_EQ_UINT(n2, n1);
    }
}

/* Builder: E_SPACE reports the exact need and writes nothing; parse(build)
 * round-trips the typed fields. */
T_TEST(secagree_build_space_roundtrip)
{
    imssec_secagree_mech m[NM], m2[NM];
    size_t i, count, count2, need, len;
    char out[1024], canary[1024];
    for (i = 0; i < sizeof sa_good / sizeof sa_good[0]; i++) {
        T_EQ_INT(sa_parse_str(sa_good[i], m, NM, &count), IMSSEC_OK);
        T_EQ_INT(imssec_secagree_build(m, count, out, sizeof out, &need, NULL), IMSSEC_OK);
        T_EQ_INT(imssec_secagree_parse(T_S(out, need), m2, NM, &count2, NULL), IMSSEC_OK);
        T_EQ_UINT(count2, count);
        T_ASSERT(imssec_secagree_equal(m, count, m2, count2, NULL) == 1);
        memset(out, 0x5A, sizeof out);
        memcpy(canary, out, sizeof out);
        len = 0;
        T_EQ_INT(imssec_secagree_build(m, count, out, need - 1, &len, NULL), IMSSEC_E_SPACE);
        T_EQ_UINT(len, need);
        T_EQ_MEM(out, canary, sizeof out);
        T_EQ_INT(imssec_secagree_build(m, count, out, need, &len, NULL), IMSSEC_OK);
        T_EQ_UINT(len, need);
        T_EQ_UINT((uint8_t)out[need], 0x5A);
        /* echo too */
        T_EQ_INT(imssec_secagree_echo(m, count, out, sizeof out, &need, NULL), IMSSEC_OK);
        memset(out, 0x5A, sizeof out);
        T_EQ_INT(imssec_secagree_echo(m, count, out, need - 1, &len, NULL), IMSSEC_E_SPACE);
        T_EQ_UINT(len, need);
        T_EQ_MEM(out, canary, sizeof out);
    }
}

/* Echo (Security-Verify, RFC 3329 2.3.1, Annex H item 2): the raw slices
 * joined, folded line breaks removed, and what it writes parses back equal. */
T_TEST(secagree_rfc3329_2_3_1_echo_exact)
{
    static const char *s = "ipsec-3gpp ;alg=HMAC-md5-96;\r\n spi-c=1 ,  tls;q=0.5";
    imssec_secagree_mech m[2];
    size_t n, ol;
    char out[128];
    T_EQ_INT(imssec_secagree_parse(T_S(s, strlen(s)), m, 2, &n, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_echo(m, n, out, sizeof out, &ol, NULL), IMSSEC_OK);
    T_EQ_SLICE(out, ol, "ipsec-3gpp ;alg=HMAC-md5-96; spi-c=1, tls;q=0.5");

    /* three folded line breaks: none left in the echo */
    {
        const char *s = "ipsec-3gpp;\r\n alg=hmac-md5-96;\r\n\tspi-c=1;spi-s=2;port-c=3;port-s=4,\r\n tls";
        imssec_secagree_mech m[4], m2[4];
        size_t n, n2, len, i;
        char out[256];
        T_EQ_INT(sa_parse_str(s, m, 4, &n), IMSSEC_OK);
        T_EQ_INT(imssec_secagree_echo(m, n, out, sizeof out, &len, NULL), IMSSEC_OK);
        for (i = 0; i < len; i++)
            if (out[i] == '\r' || out[i] == '\n') {
                t_fail_(__FILE__, __LINE__, "line break kept in echo: \"%.*s\"", (int)len, out);
                return;
            }
        T_EQ_INT(imssec_secagree_parse(T_S(out, len), m2, 4, &n2, NULL), IMSSEC_OK);
        T_ASSERT(imssec_secagree_equal(m, n, m2, n2, NULL) == 1);
    }
}

/* E9: Annex H defaults in the comparison: absent ealg/prot/mod equal
 * null/esp/trans; absent alg equals only absent alg.  The normalised
 * comparison in general: q absent != q=1, q=1 == q=1.000; the order of
 * mechanisms is significant, the order and case of parameters are not;
 * unknown values compare case-insensitively; symmetric. */
T_TEST(secagree_e9_annexh_defaults)
{
    imssec_secagree_mech a[2], b[2];
    size_t na, nb;
    imssec_errinfo why_e;
    static const char *s0 = "ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4";
    T_EQ_INT(imssec_secagree_parse(T_S(s0, strlen(s0)), a, 2, &na, NULL), IMSSEC_OK);
    T_EQ_INT(sa_parse("ipsec-3gpp;port-s=4;ealg=null;prot=esp;mod=trans;alg=hmac-md5-96;"
                      "spi-c=1;spi-s=2;port-c=3",
                      b, 2, &nb, NULL),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_equal(a, na, b, nb, &why_e), 1);
    T_EQ_INT(sa_parse("ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4",
                      b, 2, &nb, NULL),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_equal(a, na, b, nb, &why_e), 0);
    T_EQ_STR(why_e.what, "ealg");
    T_EQ_INT(sa_parse("ipsec-3gpp;alg=hmac-md5-96;mod=tun;spi-c=1;spi-s=2;port-c=3;port-s=4", b,
                      2, &nb, NULL),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_equal(a, na, b, nb, &why_e), 0);
    T_EQ_STR(why_e.what, "mod");

    /* eighteen pairs, both ways round */
    {
        static const struct {
            const char *a, *b;
            int eq;
        } c[] = {
            {"ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=null", "ipsec-3gpp;alg=hmac-md5-96", 1},
            {"ipsec-3gpp;alg=hmac-md5-96;spi-c=1", "ipsec-3gpp;spi-c=1;ALG=HMAC-MD5-96", 1},
            {"ipsec-3gpp;alg=hmac-md5-96;q=1", "ipsec-3gpp;alg=hmac-md5-96", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;q=1", "ipsec-3gpp;alg=hmac-md5-96;q=1.000", 1},
            {"ipsec-3gpp;alg=hmac-md5-96, tls", "tls, ipsec-3gpp;alg=hmac-md5-96", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;spi-c=1", "ipsec-3gpp;alg=hmac-md5-96;spi-c=2", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;port-s=1", "ipsec-3gpp;alg=hmac-md5-96;port-s=2", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc", "ipsec-3gpp;alg=hmac-md5-96", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;prot=ah", "ipsec-3gpp;alg=hmac-md5-96", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;foo=1", "ipsec-3gpp;alg=hmac-md5-96", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;foo=1", "ipsec-3gpp;alg=hmac-md5-96;foo=2", 0},
            {"ipsec-3gpp;alg=hmac-md5-96;foo=1;bar", "ipsec-3gpp;BAR;alg=hmac-md5-96;FOO=1", 1},
            {"ipsec-3gpp;alg=x-unknown", "ipsec-3gpp;alg=X-UNKNOWN", 1},
            {"ipsec-3gpp;alg=x-unknown", "ipsec-3gpp;alg=y-unknown", 0},
            {"ipsec-3gpp;alg=hmac-md5-96", "ipsec-3gpp;alg=hmac-md5-96, ipsec-3gpp;alg=hmac-md5-96", 0},
            {"tls", "digest", 0},
            {"foo", "FOO", 1},
            {"foo", "bar", 0},
        };
        size_t i;
        for (i = 0; i < sizeof c / sizeof c[0]; i++) {
            imssec_secagree_mech a[4], b[4];
            size_t na, nb;
            T_EQ_INT(sa_parse_str(c[i].a, a, 4, &na), IMSSEC_OK);
            T_EQ_INT(sa_parse_str(c[i].b, b, 4, &nb), IMSSEC_OK);
            if (imssec_secagree_equal(a, na, b, nb, NULL) != c[i].eq ||
                imssec_secagree_equal(b, nb, a, na, NULL) != c[i].eq) {
                t_fail_(__FILE__, __LINE__, "equal(\"%s\", \"%s\") != %d", c[i].a, c[i].b, c[i].eq);
                return;
            }
        }
    }
}

/* E17: Security-Verify differing only in case, whitespace, parameter order
 * or quoting is equal; any value, q, list length or order differs. */
T_TEST(secagree_e17_verify_normalisation)
{
    static const char *sent =
        "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=111;spi-s=222;port-c=5062;port-s=5064;"
        "q=0.5, ipsec-3gpp;alg=hmac-md5-96;spi-c=111;spi-s=222;port-c=5062;port-s=5064;x=Y";
    static const struct {
        const char *recv;
        int eq;
        const char *why;
    } c[] = {
        {"IPSEC-3GPP ; Port-S=5064;port-c=5062;SPI-S=222;spi-c=111;EALG=AES-CBC;alg=HMAC-SHA-1-96;"
         "q=0.500 ,ipsec-3gpp;alg=\"hmac-md5-96\";spi-c=111;spi-s=222;port-c=5062;port-s=5064;X=y;"
         "prot=esp",
         1, NULL},
        {"ipsec-3gpp;alg=hmac-md5-96;spi-c=111;spi-s=222;port-c=5062;port-s=5064;x=Y, "
         "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=111;spi-s=222;port-c=5062;port-s=5064;"
         "q=0.5",
         0, "alg"},
        {"ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=111;spi-s=223;port-c=5062;port-s=5064;"
         "q=0.5, ipsec-3gpp;alg=hmac-md5-96;spi-c=111;spi-s=222;port-c=5062;port-s=5064;x=Y",
         0, "spi-s"},
        {"ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=111;spi-s=222;port-c=5062;port-s=5064;"
         "q=0.4, ipsec-3gpp;alg=hmac-md5-96;spi-c=111;spi-s=222;port-c=5062;port-s=5064;x=Y",
         0, "q"},
        {"ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=111;spi-s=222;port-c=5062;port-s=5064;"
         "q=0.5",
         0, "list length"},
        {"ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=111;spi-s=222;port-c=5062;port-s=5064;"
         "q=0.5, ipsec-3gpp;alg=hmac-md5-96;spi-c=111;spi-s=222;port-c=5062;port-s=5064;x=Z",
         0, "extension parameters"},
        {"ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=111;spi-s=222;port-c=5062;port-s=5064;"
         "q=0.5, ipsec-3gpp;alg=hmac-md5-96;spi-c=111;spi-s=222;port-c=5062;port-s=5064;x=Y;prot=ah",
         0, "prot"},
    };
    imssec_secagree_mech a[4], b[4];
    size_t na, nb, k;
    T_EQ_INT(imssec_secagree_parse(T_S(sent, strlen(sent)), a, 4, &na, NULL), IMSSEC_OK);
    for (k = 0; k < sizeof c / sizeof c[0]; k++) {
        imssec_errinfo why_e;
        T_EQ_INT(sa_parse(c[k].recv, b, 4, &nb, NULL), IMSSEC_OK);
        if (imssec_secagree_equal(a, na, b, nb, &why_e) != c[k].eq ||
            (!c[k].eq && strcmp(why_e.what, c[k].why) != 0)) {
            t_fail_(__FILE__, __LINE__, "case %u: why=%s", (unsigned)k, why_e.what ? why_e.what : "-");
            return;
        }
        /* symmetric */
        T_EQ_INT(imssec_secagree_equal(b, nb, a, na, NULL), c[k].eq);
    }
}
