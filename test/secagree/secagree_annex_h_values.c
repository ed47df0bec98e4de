/*
 * secagree_annex_h_values.c -- the typed values of RFC 3329 / TS 33.203
 * Annex H (E10 SPIs, E11 ports, E12 q, E13 unknown and E16 odd-but-valid
 * values), the parameter cap, and hostile input: IMSSEC_E_SPACE and errors
 * leave the output untouched, every prefix and suffix and random mutations
 * placed at a guard page, embedded NUL, grammar corners, long headers.
 */

#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "secagree_fixture.h"

#include "../guard_page.h"

/* E10: SPI 1..4294967295 decimal only; a 32- or 64-bit overflow must never
 * wrap to a valid value. */
T_TEST(secagree_e10_spi_range)
{
    static const struct {
        const char *v;
        int r;
        uint32_t spi;
    } c[] = {{"0", IMSSEC_E_RANGE, 0},          {"1", IMSSEC_OK, 1},
             {"255", IMSSEC_OK, 255},           {"2147483648", IMSSEC_OK, 2147483648u},
             {"4294967295", IMSSEC_OK, 4294967295u}, {"4294967296", IMSSEC_E_RANGE, 0},
             {"99999999999", IMSSEC_E_RANGE, 0}, {"0x10", IMSSEC_E_SYNTAX, 0},
             {"-1", IMSSEC_E_SYNTAX, 0},        {"+1", IMSSEC_E_SYNTAX, 0},
             {"", IMSSEC_E_SYNTAX, 0},          {"0000000042", IMSSEC_OK, 42},
             {"1e3", IMSSEC_E_SYNTAX, 0},       {"00000000000", IMSSEC_E_RANGE, 0}};
    size_t k, n;
    imssec_secagree_mech m[1];
    char buf[64];
    for (k = 0; k < sizeof c / sizeof c[0]; k++) {
        int r;
        snprintf(buf, sizeof buf, "ipsec-3gpp;spi-s=%s", c[k].v);
        r = sa_parse(buf, m, 1, &n, NULL);
        if (r != c[k].r || (r == 0 && m[0].spi_s != c[k].spi)) {
            t_fail_(__FILE__, __LINE__, "spi-s=%s: %d", c[k].v, r);
            return;
        }
    }

    /* spi-c: 2^32 + 1, 2^33 + 1, 2^64 + 1 and other near misses */
    {
        static const struct {
            const char *v;
            int ok;
            uint32_t want;
        } c[] = {
            {"1", 1, 1},
            {"4294967295", 1, 4294967295u},
            {"0", 0, 0},
            {"4294967296", 0, 0},
            {"4294967297", 0, 0},          /* 2^32+1: wraps to 1 if unchecked */
            {"8589934593", 0, 0},          /* 2^33+1 */
            {"18446744073709551617", 0, 0}, /* 2^64+1: wraps to 1 in 64 bits */
            {"99999999999999999999999999", 0, 0},
            {"0x10", 0, 0},
            {"+5", 0, 0},
            {"-5", 0, 0},
            {"", 0, 0},
            {"5a", 0, 0},
            {"1 2", 0, 0},
            {"1.0", 0, 0},
        };
        size_t i;
        for (i = 0; i < sizeof c / sizeof c[0]; i++) {
            char buf[128];
            imssec_secagree_mech m[2];
            size_t count;
            int rc;
            snprintf(buf, sizeof buf, "ipsec-3gpp;alg=hmac-md5-96;spi-c=%s;spi-s=7;port-c=1;port-s=2",
                     c[i].v);
            rc = sa_parse_str(buf, m, 2, &count);
            if (c[i].ok) {
                T_EQ_INT(rc, IMSSEC_OK);
                T_EQ_UINT(m[0].spi_c, c[i].want);
            } else if (rc == IMSSEC_OK) {
                t_fail_(__FILE__, __LINE__, "spi-c=%s accepted as %u", c[i].v, (unsigned)m[0].spi_c);
                return;
            }
        }
    }
}

/* E11: ports 1..65535, port-c != port-s; no wrap modulo 2^16, 2^32 or
 * 2^64. */
T_TEST(secagree_e11_port_range)
{
    static const struct {
        const char *v;
        int r;
    } c[] = {{"port-c=0", IMSSEC_E_RANGE},     {"port-c=65536", IMSSEC_E_RANGE},
             {"port-c=-1", IMSSEC_E_SYNTAX},   {"port-c=65535", IMSSEC_OK},
             {"port-s=1", IMSSEC_OK},          {"port-c=5060;port-s=5060", IMSSEC_E_RANGE},
             {"port-c=5060;port-s=5061", IMSSEC_OK}, {"port-c=", IMSSEC_E_SYNTAX}};
    size_t k, n;
    imssec_secagree_mech m[1];
    char buf[64];
    for (k = 0; k < sizeof c / sizeof c[0]; k++) {
        snprintf(buf, sizeof buf, "ipsec-3gpp;%s", c[k].v);
        if (sa_parse(buf, m, 1, &n, NULL) != c[k].r) {
            t_fail_(__FILE__, __LINE__, "%s", c[k].v);
            return;
        }
    }

    /* port-c: wrapped values, signs, hex, trailing junk */
    {
        static const struct {
            const char *v;
            int ok;
        } c[] = {
            {"1", 1},         {"65535", 1},      {"0", 0},      {"65536", 0},
            {"65537", 0},     {"131152", 0} /* 2*65536+80 */, {"4294967376", 0} /* 2^32+80 */,
            {"18446744073709551696", 0} /* 2^64+80 */, {"-1", 0}, {"", 0}, {"80x", 0},
            {"0x50", 0},
        };
        size_t i;
        for (i = 0; i < sizeof c / sizeof c[0]; i++) {
            char buf[128];
            imssec_secagree_mech m[2];
            size_t count;
            int rc;
            snprintf(buf, sizeof buf, "ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=7;port-c=%s;port-s=2",
                     c[i].v);
            rc = sa_parse_str(buf, m, 2, &count);
            if (c[i].ok)
                T_EQ_INT(rc, IMSSEC_OK);
            else if (rc == IMSSEC_OK) {
                t_fail_(__FILE__, __LINE__, "port-c=%s accepted as %u", c[i].v, (unsigned)m[0].port_c);
                return;
            }
        }
    }
}

/* E12: the RFC 3261 qvalue grammar, ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "."
 * 0*3("0") ] ), scaled to 0..1000. */
T_TEST(secagree_e12_qvalue)
{
    static const struct {
        const char *v;
        int q; /* -1: refused */
    } c[] = {{"0", 0},      {"0.", 0},      {"0.5", 500},  {"0.25", 250}, {"0.125", 125},
             {"1", 1000},   {"1.", 1000},   {"1.000", 1000}, {"0.001", 1}, {"0.010", 10},
             {"1.5", -1},   {".5", -1},     {"", -1},      {"2", -1},     {"0.1234", -1},
             {"01", -1},    {"0,5", -1},    {"1.001", -1}};
    size_t k, n;
    imssec_secagree_mech m[2];
    char buf[64];
    for (k = 0; k < sizeof c / sizeof c[0]; k++) {
        int r;
        snprintf(buf, sizeof buf, "tls;q=%s", c[k].v);
        r = sa_parse(buf, m, 2, &n, NULL);
        if (c[k].q < 0 ? (r == IMSSEC_OK && n == 1) : (r != IMSSEC_OK || m[0].q != c[k].q)) {
            t_fail_(__FILE__, __LINE__, "q=%s: r=%d", c[k].v, r);
            return;
        }
    }

    /* 22 spellings; HAS_Q set on every accepted one */
    {
        static const struct {
            const char *v;
            int want; /* -1 = reject */
        } c[] = {
            {"0", 0},       {"0.", 0},      {"0.5", 500},   {"0.25", 250}, {"0.125", 125},
            {"0.001", 1},   {"0.999", 999}, {"1", 1000},    {"1.", 1000},  {"1.0", 1000},
            {"1.000", 1000}, {"1.001", -1}, {"1.5", -1},    {"2", -1},     {".5", -1},
            {"", -1},       {"0.1234", -1}, {"00.5", -1},   {"0.5x", -1},  {"-0", -1},
            {"1.0000", -1}, {"01", -1},
        };
        size_t i;
        for (i = 0; i < sizeof c / sizeof c[0]; i++) {
            char buf[64];
            imssec_secagree_mech m[2];
            size_t count;
            int rc;
            snprintf(buf, sizeof buf, "tls;q=%s", c[i].v);
            rc = sa_parse_str(buf, m, 2, &count);
            if (c[i].want < 0) {
                if (rc == IMSSEC_OK) {
                    t_fail_(__FILE__, __LINE__, "q=%s accepted as %u", c[i].v, (unsigned)m[0].q);
                    return;
                }
            } else {
                if (rc != IMSSEC_OK || m[0].q != c[i].want || !(m[0].present & IMSSEC_SECAGREE_HAS_Q)) {
                    t_fail_(__FILE__, __LINE__, "q=%s: rc %d q %u", c[i].v, rc, (unsigned)m[0].q);
                    return;
                }
            }
        }
    }
}

/* E13: unknown values are kept as unknown with their text, never mapped to
 * a default; later-release values are recognised. */
T_TEST(secagree_e13_unknown_values)
{
    imssec_secagree_mech m[1];
    size_t n;
    T_EQ_INT(sa_parse("ipsec-3gpp;alg=notsupported;ealg=camellia;prot=foo;mod=bar", m, 1, &n,
                      NULL),
             IMSSEC_OK);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_UNKNOWN);
    T_EQ_SLICE(m[0].alg_text.p, m[0].alg_text.n, "notsupported");
    T_EQ_INT(m[0].ealg, IMSSEC_EALG_UNKNOWN);
    T_EQ_SLICE(m[0].ealg_text.p, m[0].ealg_text.n, "camellia");
    T_EQ_INT(m[0].prot, IMSSEC_SECAGREE_PROT_UNKNOWN);
    T_EQ_INT(m[0].mode, IMSSEC_MODE_UNKNOWN);
    T_EQ_INT(sa_parse("ipsec-3gpp;alg=aes-gmac;ealg=aes-gcm", m, 1, &n, NULL), IMSSEC_OK);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_AES_GMAC);
    T_EQ_INT(m[0].ealg, IMSSEC_EALG_AES_GCM);
    T_EQ_INT(sa_parse("ipsec-3gpp;alg=null", m, 1, &n, NULL), IMSSEC_OK);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_NULL);

    /* near misses of known values */
    {
        const char *s = "ipsec-3gpp;alg=hmac-sha-256-128;ealg=aes-ctr;prot=esp2;mod=transport";
        imssec_secagree_mech m[2];
        size_t count;
        T_EQ_INT(sa_parse_str(s, m, 2, &count), IMSSEC_OK);
        T_EQ_INT(m[0].alg, IMSSEC_ALG_UNKNOWN);
        T_EQ_INT(m[0].ealg, IMSSEC_EALG_UNKNOWN);
        T_EQ_INT(m[0].prot, IMSSEC_SECAGREE_PROT_UNKNOWN);
        T_EQ_INT(m[0].mode, IMSSEC_MODE_UNKNOWN);
        T_EQ_SLICE(m[0].alg_text.p, m[0].alg_text.n, "hmac-sha-256-128");
    }
}

/* E16: odd-but-valid network values: spi == port, spi > 2^31, equal SPIs. */
T_TEST(secagree_e16_odd_valid_values)
{
    imssec_secagree_mech m[1];
    size_t n;
    T_EQ_INT(sa_parse("ipsec-3gpp;alg=hmac-sha-1-96;spi-c=3000000000;spi-s=3000000000;"
                      "port-c=12003;port-s=12009",
                      m, 1, &n, NULL),
             IMSSEC_OK);
    T_EQ_UINT(m[0].spi_c, 3000000000u);
    T_EQ_INT(sa_parse("ipsec-3gpp;alg=hmac-sha-1-96;spi-c=12003;spi-s=12009;port-c=12003;"
                      "port-s=12009",
                      m, 1, &n, NULL),
             IMSSEC_OK);
}

/* A parameter-count cap (IMSSEC_SECAGREE_PARAMS_MAX) bounds the duplicate
 * check: exactly the cap is fine, one more is IMSSEC_E_RANGE at its offset. */
T_TEST(secagree_parse_param_cap)
{
    char buf[512];
    size_t k, n;
    imssec_secagree_mech m[1];
    imssec_errinfo e;
    strcpy(buf, "x");
    for (k = 0; k < IMSSEC_SECAGREE_PARAMS_MAX; k++)
        sprintf(buf + strlen(buf), ";p%u", (unsigned)k);
    T_EQ_INT(sa_parse(buf, m, 1, &n, &e), IMSSEC_OK);
    strcat(buf, ";last");
    T_EQ_INT(sa_parse(buf, m, 1, &n, &e), IMSSEC_E_RANGE);
    T_EQ_UINT(e.offset, strlen(buf) - 4);

    /* valued parameters: n_ext is the cap; one more refused */
    {
        char buf[1024];
        size_t off, i, count;
        imssec_secagree_mech m[2];
        off = (size_t)snprintf(buf, sizeof buf, "tls");
        for (i = 0; i < IMSSEC_SECAGREE_PARAMS_MAX; i++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, ";p%u=%u", (unsigned)i, (unsigned)i);
        T_EQ_INT(sa_parse_str(buf, m, 2, &count), IMSSEC_OK);
        T_EQ_UINT(m[0].n_ext, IMSSEC_SECAGREE_PARAMS_MAX);
        snprintf(buf + off, sizeof buf - off, ";x");
        T_ASSERT(sa_parse_str(buf, m, 2, &count) != IMSSEC_OK);
    }
}

/* Nothing half-written; IMSSEC_E_SPACE reports the count needed (also for
 * a capacity of 0, and for a list whose too-many element comes late), the
 * array untouched; an error later in the list leaves the array untouched. */
T_TEST(secagree_parse_space_and_atomicity)
{
    imssec_secagree_mech m[3];
    size_t n = 0;
    imssec_errinfo e;
    memset(m, 0x5a, sizeof m);
    T_EQ_INT(sa_parse("tls, digest, ipsec-3gpp", m, 2, &n, &e), IMSSEC_E_SPACE);
    T_EQ_UINT(n, 3);
    T_EQ_UINT(((unsigned char *)m)[0], 0x5a);
    n = 77;
    T_EQ_INT(sa_parse("tls, digest, ipsec-3gpp;port-s=99999", m, 3, &n, &e), IMSSEC_E_RANGE);
    T_EQ_UINT(n, 77);
    T_EQ_UINT(((unsigned char *)m)[0], 0x5a);
    T_EQ_UINT(e.item_index, 2);
    T_EQ_UINT(e.offset, 31);
    T_EQ_STR(e.what, "port out of range");
    T_EQ_INT(sa_parse("tls, dig@est", m, 3, &n, &e), IMSSEC_E_SYNTAX);
    T_EQ_UINT(e.item_index, 1);
    T_EQ_UINT(e.offset, 8);
    T_EQ_INT(imssec_secagree_parse(T_S("tls", 3), NULL, 1, &n, NULL), IMSSEC_E_PARAM);

    /* the count needed, exactly */
    {
        const char *s = sa_good[0]; /* 2 mechanisms */
        const char *s3 = "tls, digest;q=0.5, ipsec-3gpp;alg=hmac-md5-96";
        imssec_secagree_mech m[NM], canary[NM];
        size_t count = 0;
        memset(m, 0xA5, sizeof m);
        memcpy(canary, m, sizeof m);
        T_EQ_INT(imssec_secagree_parse(T_S(s, strlen(s)), m, 1, &count, NULL), IMSSEC_E_SPACE);
        T_EQ_UINT(count, 2);
        T_EQ_MEM(m, canary, sizeof m);
        count = 0;
        T_EQ_INT(imssec_secagree_parse(T_S(s3, strlen(s3)), m, 2, &count, NULL), IMSSEC_E_SPACE);
        T_EQ_UINT(count, 3);
        T_EQ_MEM(m, canary, sizeof m);
        count = 0;
        T_EQ_INT(imssec_secagree_parse(T_S(s3, strlen(s3)), m, 0, &count, NULL), IMSSEC_E_SPACE);
        T_EQ_UINT(count, 3);
        T_EQ_INT(imssec_secagree_parse(T_S(s3, strlen(s3)), m, 3, &count, NULL), IMSSEC_OK);
        T_EQ_UINT(count, 3);
    }
}

/* On error the output array is untouched (conventions). */
T_TEST(secagree_parse_error_leaves_output)
{
    static const char *bad[] = {
        "ipsec-3gpp;spi-c=0;spi-s=1;port-c=1;port-s=2",
        "ipsec-3gpp;alg=hmac-md5-96, ipsec-3gpp;spi-c=4294967296",
        "ipsec-3gpp;alg=hmac-md5-96, ipsec-3gpp;alg=a;alg=b",
        "ipsec-3gpp;port-c=5;port-s=5",
        "ipsec-3gpp;q=1.5",
        "ipsec-3gpp;foo=\"unterminated",
        "",
        ",,,",
        "ipsec-3gpp;alg=hmac-md5-96, tls, ipsec-3gpp;port-c=70000",
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sa_parse_canary(bad[i], strlen(bad[i]), NM);
        if (rc == IMSSEC_OK || rc == 99 || rc == 98) {
            t_fail_(__FILE__, __LINE__, "\"%s\": rc %d", bad[i], rc);
            return;
        }
    }
}

/* A malformed mechanism after the point where the array is full: the
 * input is malformed, so SYNTAX/RANGE is the honest answer; at minimum the
 * array must stay untouched. */
T_TEST(secagree_parse_space_then_error)
{
    const char *s = "tls, tls, ipsec-3gpp;spi-c=0";
    int rc = sa_parse_canary(s, strlen(s), 1);
    T_ASSERT(rc != 99 && rc != IMSSEC_OK);
}

/* Every prefix of a valid header either parses or fails cleanly, placed at
 * the guard page (an over-read at any truncation point would fault); an
 * error offset never points past the input, and the slices of a successful
 * parse stay inside it. */
T_TEST(secagree_every_prefix_guarded)
{
    static const char *s =
        "ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919;"
        " port-c=8034; port-s=8904,\r\n ipsec-3gpp;x=\"q\\\"\";y=[2001:db8::1];q=0.125, tls;q=1.";
    size_t len = strlen(s), k;
    for (k = 0; k <= len; k++) {
        imssec_secagree_mech m[4];
        size_t n;
        imssec_errinfo e;
        const char *p = sa_place(s, k);
        int r = imssec_secagree_parse(T_S(p, k), m, 4, &n, &e);
        T_ASSERT(r == IMSSEC_OK || r == IMSSEC_E_SYNTAX || r == IMSSEC_E_RANGE);
        if (r != IMSSEC_OK)
            T_ASSERT(e.offset <= k);
    }

    /* every prefix of the six good inputs */
    {
        guard_page g;
        size_t i, k;
        T_ASSERT(gp_init(&g) == 0);
        for (i = 0; i < sizeof sa_good / sizeof sa_good[0]; i++) {
            size_t n = strlen(sa_good[i]);
            imssec_secagree_mech m[NM];
            size_t count;
            const char *p = (const char *)gp_place(&g, sa_good[i], n);
            T_EQ_INT(imssec_secagree_parse(T_S(p, n), m, NM, &count, NULL), IMSSEC_OK);
            for (k = 0; k <= n; k++) {
                const char *q = (const char *)gp_place(&g, sa_good[i], k);
                int rc = imssec_secagree_parse(T_S(q, k), m, NM, &count, NULL);
                T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_RANGE);
                if (rc == IMSSEC_OK) {
                    size_t j;
                    T_ASSERT(count >= 1 && count <= NM);
                    for (j = 0; j < count; j++) {
                        T_ASSERT(m[j].raw.p >= q && m[j].raw.p + m[j].raw.n <= q + k);
                        T_ASSERT(m[j].name.p >= q && m[j].name.p + m[j].name.n <= q + k);
                    }
                }
            }
        }
        gp_free(&g);
    }
}

/* Every suffix too (inputs that start mid-token). */
T_TEST(secagree_rfc3329_2_2_suffix_guard_page)
{
    guard_page g;
    size_t i, k;
    T_ASSERT(gp_init(&g) == 0);
    for (i = 0; i < sizeof sa_good / sizeof sa_good[0]; i++) {
        size_t n = strlen(sa_good[i]);
        for (k = 0; k < n; k++) {
            imssec_secagree_mech m[NM];
            size_t count;
            const char *q = (const char *)gp_place(&g, sa_good[i] + k, n - k);
            int rc = imssec_secagree_parse(T_S(q, n - k), m, NM, &count, NULL);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_RANGE);
        }
    }
    gp_free(&g);
}

/* Random byte mutations of good inputs: never crash; OK results stay in
 * the input; parse_multi equals the joined single parse. */
T_TEST(secagree_rfc3329_2_2_mutations_guard_page)
{
    guard_page g;
    size_t i, r;
    T_ASSERT(gp_init(&g) == 0);
    for (r = 0; r < 3000; r++) {
        char buf[512];
        const char *src = sa_good[r % (sizeof sa_good / sizeof sa_good[0])];
        size_t n = strlen(src), nmut = 1 + t_rand64() % 4;
        imssec_secagree_mech m[NM];
        size_t count;
        const char *q;
        int rc;
        memcpy(buf, src, n);
        for (i = 0; i < nmut; i++) {
            static const char alpha[] = ";,=\" \r\n\t\\0123456789-aAzZ\x00\xff";
            buf[t_rand64() % n] = alpha[t_rand64() % (sizeof alpha - 1)];
        }
        q = (const char *)gp_place(&g, buf, n);
        rc = imssec_secagree_parse(T_S(q, n), m, NM, &count, NULL);
        T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_RANGE);
        if (rc == IMSSEC_OK) {
            char out[1024];
            size_t len, c2;
            imssec_secagree_mech m2[NM];
            for (i = 0; i < count; i++)
                T_ASSERT(m[i].raw.p >= q && m[i].raw.p + m[i].raw.n <= q + n);
            rc = imssec_secagree_build(m, count, out, sizeof out, &len, NULL);
            if (rc == IMSSEC_OK) {
                T_EQ_INT(imssec_secagree_parse(T_S(out, len), m2, NM, &c2, NULL), IMSSEC_OK);
                if (imssec_secagree_equal(m, count, m2, c2, NULL) != 1) {
                    t_fail_(__FILE__, __LINE__, "round trip differs: \"%.*s\" -> \"%.*s\"",
                            (int)n, q, (int)len, out);
                    return;
                }
            }
        }
    }
    gp_free(&g);
}

/* Embedded NUL: the length decides, and NUL is not a token character. */
T_TEST(secagree_rfc3329_2_2_embedded_nul)
{
    static const char s1[] = "ipsec-3gpp;alg=hmac-md5-96\0;spi-c=1;spi-s=2;port-c=3;port-s=4";
    static const char s2[] = "ipsec-3gpp;alg=hmac-md5-96;spi-c=1\0002";
    static const char s3[] = "ipsec-3gpp\0, tls";
    imssec_secagree_mech m[4];
    size_t count;
    int rc;
    rc = imssec_secagree_parse(T_S(s1, sizeof s1 - 1), m, 4, &count, NULL);
    T_ASSERT(rc != IMSSEC_OK);
    rc = imssec_secagree_parse(T_S(s2, sizeof s2 - 1), m, 4, &count, NULL);
    T_ASSERT(rc != IMSSEC_OK);
    rc = imssec_secagree_parse(T_S(s3, sizeof s3 - 1), m, 4, &count, NULL);
    T_ASSERT(rc != IMSSEC_OK);
}

/* RFC 3329 2.2 grammar corners: empty values, empty names, non-token
 * characters are errors.  (Quoted numbers `spi-c="123"` and `;;` are
 * accepted: E4/E5 of the anchors allow unquoting and empty parameters.) */
T_TEST(secagree_rfc3329_2_2_grammar_corners)
{
    static const char *bad[] = {
        "ipsec-3gpp;alg=",
        "tls;foo=",
        "tls;=bar",
        ";alg=hmac-md5-96",
        "ipsec@3gpp;alg=hmac-md5-96",
        "ipsec-3gpp alg=hmac-md5-96",
        "ipsec-3gpp;alg=hmac-md5-96 x",
        "tls;a=b=c",
        "ipsec-3gpp;alg=hmac\x01md5",
    };
    imssec_secagree_mech m[4];
    size_t i, n;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sa_parse_str(bad[i], m, 4, &n);
        if (rc == IMSSEC_OK)
            t_fail_(__FILE__, __LINE__, "accepted: \"%s\" (%zu mechs, present %#x, n_ext %u)",
                    bad[i], n, m[0].present, m[0].n_ext);
    }
}

/* Long hostile headers: linear time, exact SPACE count. */
T_TEST(secagree_long_header_linear)
{
    static char buf[200000];
    size_t off = 0, count = 0;
    imssec_secagree_mech m[4];
    while (off + 8 < sizeof buf) {
        memcpy(buf + off, "tls, ,", 6);
        off += 6;
    }
    T_EQ_INT(imssec_secagree_parse(T_S(buf, off), m, 4, &count, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(count, off / 6);
}
