/*
 * test_adv_secagree.c -- adversarial tests of the RFC 3329 / TS 33.203
 * Annex H parser, builder, comparison and negotiation (public API only).
 */
#include "../imssec.h"
#include "t.h"
#include "adv_guard.h"

#define NM 16

static const char *const sa_good[] = {
    "ipsec-3gpp;prot=esp;mod=trans;spi-c=73111;spi-s=73112;port-c=8802;port-s=8800;"
    "alg=hmac-md5-96;ealg=null, ipsec-3gpp;prot=esp;mod=trans;spi-c=73111;spi-s=73112;"
    "port-c=8802;port-s=8800;alg=hmac-sha-1-96;ealg=null",
    "ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919; "
    "port-c=8034; port-s=8904,tls;q=0.2",
    "ipsec-3gpp ; q=0.1",
    "ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=aes-cbc;spi-c=5000;spi-s=5001;"
    "port-c=9999;port-s=20000,ipsec-ike;q=0.1;test=458;toto",
    "ipsec-3gpp;alg=hmac-sha-1-96;foo=\"a,b;c\\\"d\";spi-c=1;spi-s=2;port-c=3;port-s=4, digest",
    "ipsec-3gpp;\r\n alg=hmac-sha-1-96;\r\n\tspi-c=4294967295;spi-s=1;port-c=65535;port-s=1",
};

static int sa_parse_str(const char *s, imssec_sec_mech *m, size_t cap, size_t *count)
{
    return imssec_secagree_parse(s, strlen(s), m, cap, count, NULL);
}

/* Parse with the output array filled with a canary; on error check that
 * neither the array nor *count moved. Returns the rc, or 99 on a violation. */
static int sa_parse_canary(const char *s, size_t len, size_t cap)
{
    imssec_sec_mech m[NM], canary[NM];
    size_t count = 777;
    imssec_sec_errinfo ei;
    int rc;
    memset(m, 0xA5, sizeof m);
    memcpy(canary, m, sizeof m);
    rc = imssec_secagree_parse(s, len, m, cap, &count, &ei);
    if (rc != IMSSEC_OK && memcmp(m, canary, sizeof m) != 0)
        return 99;
    if (rc != IMSSEC_OK && rc != IMSSEC_E_SPACE && count != 777)
        return 98;
    return rc;
}

/* Every prefix of good inputs, placed to end at a guard page. */
T_TEST(adv_secagree_truncation_guard_page)
{
    adv_gp g;
    size_t i, k;
    T_ASSERT(adv_gp_init(&g) == 0);
    for (i = 0; i < sizeof sa_good / sizeof sa_good[0]; i++) {
        size_t n = strlen(sa_good[i]);
        imssec_sec_mech m[NM];
        size_t count;
        const char *p = (const char *)adv_gp_place(&g, sa_good[i], n);
        T_EQ_INT(imssec_secagree_parse(p, n, m, NM, &count, NULL), IMSSEC_OK);
        for (k = 0; k <= n; k++) {
            const char *q = (const char *)adv_gp_place(&g, sa_good[i], k);
            int rc = imssec_secagree_parse(q, k, m, NM, &count, NULL);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_RANGE);
            if (rc == IMSSEC_OK) {
                size_t j;
                T_ASSERT(count >= 1 && count <= NM);
                for (j = 0; j < count; j++) {
                    T_ASSERT(m[j].raw >= q && m[j].raw + m[j].raw_len <= q + k);
                    T_ASSERT(m[j].name >= q && m[j].name + m[j].name_len <= q + k);
                }
            }
        }
    }
    adv_gp_free(&g);
}

/* Every suffix too (inputs that start mid-token). */
T_TEST(adv_secagree_suffix_guard_page)
{
    adv_gp g;
    size_t i, k;
    T_ASSERT(adv_gp_init(&g) == 0);
    for (i = 0; i < sizeof sa_good / sizeof sa_good[0]; i++) {
        size_t n = strlen(sa_good[i]);
        for (k = 0; k < n; k++) {
            imssec_sec_mech m[NM];
            size_t count;
            const char *q = (const char *)adv_gp_place(&g, sa_good[i] + k, n - k);
            int rc = imssec_secagree_parse(q, n - k, m, NM, &count, NULL);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_RANGE);
        }
    }
    adv_gp_free(&g);
}

/* On error the output array is untouched (conventions). */
T_TEST(adv_secagree_error_leaves_output)
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

/* IMSSEC_E_SPACE: *count = mechanisms needed, output untouched, for a list
 * whose too-many element comes late. */
T_TEST(adv_secagree_space_exact)
{
    const char *s = sa_good[0]; /* 2 mechanisms */
    const char *s3 = "tls, digest;q=0.5, ipsec-3gpp;alg=hmac-md5-96";
    imssec_sec_mech m[NM], canary[NM];
    size_t count = 0;
    memset(m, 0xA5, sizeof m);
    memcpy(canary, m, sizeof m);
    T_EQ_INT(imssec_secagree_parse(s, strlen(s), m, 1, &count, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(count, 2);
    T_EQ_MEM(m, canary, sizeof m);
    count = 0;
    T_EQ_INT(imssec_secagree_parse(s3, strlen(s3), m, 2, &count, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(count, 3);
    T_EQ_MEM(m, canary, sizeof m);
    count = 0;
    T_EQ_INT(imssec_secagree_parse(s3, strlen(s3), m, 0, &count, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(count, 3);
    T_EQ_INT(imssec_secagree_parse(s3, strlen(s3), m, 3, &count, NULL), IMSSEC_OK);
    T_EQ_UINT(count, 3);
}

/* A malformed mechanism after the point where the array is full: the
 * input is malformed, so SYNTAX/RANGE is the honest answer; at minimum the
 * array must stay untouched. */
T_TEST(adv_secagree_space_then_error)
{
    const char *s = "tls, tls, ipsec-3gpp;spi-c=0";
    int rc = sa_parse_canary(s, strlen(s), 1);
    T_ASSERT(rc != 99 && rc != IMSSEC_OK);
}

/* Whole-token keyword matching (E1): prefixes and extensions of typed
 * names are extension parameters. */
T_TEST(adv_secagree_prefix_keywords)
{
    const char *s = "ipsec-3gpp;al=hmac-md5-96;algorithm=x;spi=5;spi-cc=7;port=9;"
                    "port-c2=3;ealgx=aes-cbc;q1=0;mode=tun;prot-x=ah";
    imssec_sec_mech m[2];
    size_t count;
    T_EQ_INT(sa_parse_str(s, m, 2, &count), IMSSEC_OK);
    T_EQ_UINT(count, 1);
    T_EQ_UINT(m[0].present, 0);
    T_EQ_UINT(m[0].n_ext, 10);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_ABSENT);
    T_EQ_INT(m[0].mod, IMSSEC_MODE_TRANS);
}

/* Case-insensitive names and values (E2). */
T_TEST(adv_secagree_case)
{
    const char *s = "IPSEC-3GPP;ALG=HMAC-SHA-1-96;EALG=AES-CBC;PROT=ESP;MOD=udp-ENC-TUN;"
                    "SPI-C=11;Spi-S=12;PORT-C=13;port-S=14;Q=0.5";
    imssec_sec_mech m[2];
    size_t count;
    T_EQ_INT(sa_parse_str(s, m, 2, &count), IMSSEC_OK);
    T_EQ_INT(m[0].kind, IMSSEC_SEC_IPSEC_3GPP);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_HMAC_SHA1_96);
    T_EQ_INT(m[0].ealg, IMSSEC_EALG_AES_CBC);
    T_EQ_INT(m[0].mod, IMSSEC_MODE_UDP_ENC_TUN);
    T_EQ_UINT(m[0].spi_c, 11);
    T_EQ_UINT(m[0].spi_s, 12);
    T_EQ_UINT(m[0].port_c, 13);
    T_EQ_UINT(m[0].port_s, 14);
    T_EQ_UINT(m[0].q, 500);
    T_EQ_UINT(m[0].present, 0x1ff);
}

/* SPI values (Annex H spivalue, E10): 32-bit overflow must never wrap. */
T_TEST(adv_secagree_spi_numbers)
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
        imssec_sec_mech m[2];
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

/* Port values (E11): 1..65535; no wrap modulo 2^16 or 2^32. */
T_TEST(adv_secagree_port_numbers)
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
        imssec_sec_mech m[2];
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

/* RFC 3261 qvalue: ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ). */
T_TEST(adv_secagree_qvalue)
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
        imssec_sec_mech m[2];
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
            if (rc != IMSSEC_OK || m[0].q != c[i].want || !(m[0].present & IMSSEC_SECP_Q)) {
                t_fail_(__FILE__, __LINE__, "q=%s: rc %d q %u", c[i].v, rc, (unsigned)m[0].q);
                return;
            }
        }
    }
}

/* Duplicate parameters in one mechanism (E8), including different case
 * and duplicate extension parameters; never merged across mechanisms. */
T_TEST(adv_secagree_duplicates)
{
    static const char *bad[] = {
        "ipsec-3gpp;alg=hmac-md5-96;alg=hmac-md5-96",
        "ipsec-3gpp;alg=hmac-md5-96;ALG=hmac-sha-1-96",
        "ipsec-3gpp;spi-c=1;SPI-C=2",
        "ipsec-3gpp;q=0.1;q=0.2",
        "ipsec-3gpp;foo=1;FOO=2",
        "ipsec-3gpp;toto;toto",
        "tls;q=0.1;Q=0.1",
    };
    const char *ok = "ipsec-3gpp;alg=hmac-md5-96, ipsec-3gpp;alg=hmac-sha-1-96";
    imssec_sec_mech m[4];
    size_t i, count;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sa_parse_str(bad[i], m, 4, &count) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "duplicate accepted: %s", bad[i]);
            return;
        }
    }
    T_EQ_INT(sa_parse_str(ok, m, 4, &count), IMSSEC_OK);
    T_EQ_UINT(count, 2);
}

/* Quoted strings: commas, semicolons and escaped quotes inside do not split. */
T_TEST(adv_secagree_quoted)
{
    const char *s = "ipsec-3gpp;foo=\"a,b;c\\\"d,e\";alg=hmac-md5-96, digest;bar=\"\\\\\"";
    const char *bad1 = "ipsec-3gpp;foo=\"abc";
    const char *bad2 = "ipsec-3gpp;foo=\"abc\\\"";
    imssec_sec_mech m[4];
    size_t count, cur = 0;
    imssec_sec_param p;
    int found = 0;
    T_EQ_INT(sa_parse_str(s, m, 4, &count), IMSSEC_OK);
    T_EQ_UINT(count, 2);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_HMAC_MD5_96);
    T_EQ_INT(m[1].kind, IMSSEC_SEC_DIGEST);
    while (imssec_secagree_param_next(&m[0], &cur, &p)) {
        if (p.name_len == 3 && memcmp(p.name, "foo", 3) == 0) {
            T_EQ_SLICE(p.value, p.value_len, "\"a,b;c\\\"d,e\"");
            found = 1;
        }
    }
    T_ASSERT(found);
    T_ASSERT(sa_parse_str(bad1, m, 4, &count) != IMSSEC_OK);
    T_ASSERT(sa_parse_str(bad2, m, 4, &count) != IMSSEC_OK);
}

/* Folded lines (RFC 3261 7.3.1) and broken line endings. */
T_TEST(adv_secagree_folding)
{
    const char *ok = "ipsec-3gpp\r\n ;\r\n\talg\r\n =\r\n hmac-md5-96 ,\r\n tls";
    static const char *bad[] = {
        "ipsec-3gpp;alg=hmac-md5-96\r\n;spi-c=1", /* CRLF not followed by WSP */
        "ipsec-3gpp;\r\nalg=hmac-md5-96",
        "ipsec-3gpp;alg=hmac-md5-96\r\n",
        "ipsec-3gpp;alg=hmac-md5-96\r",
    };
    imssec_sec_mech m[4];
    size_t i, count;
    T_EQ_INT(sa_parse_str(ok, m, 4, &count), IMSSEC_OK);
    T_EQ_UINT(count, 2);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_HMAC_MD5_96);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sa_parse_str(bad[i], m, 4, &count) == IMSSEC_OK &&
            (m[0].present & IMSSEC_SECP_SPI_C) == 0 && i == 0) {
            t_fail_(__FILE__, __LINE__, "bare CRLF accepted and truncated: %s", bad[i]);
            return;
        }
    }
}

/* Embedded NUL: the length decides, and NUL is not a token character. */
T_TEST(adv_secagree_embedded_nul)
{
    static const char s1[] = "ipsec-3gpp;alg=hmac-md5-96\0;spi-c=1;spi-s=2;port-c=3;port-s=4";
    static const char s2[] = "ipsec-3gpp;alg=hmac-md5-96;spi-c=1\0002";
    static const char s3[] = "ipsec-3gpp\0, tls";
    imssec_sec_mech m[4];
    size_t count;
    int rc;
    rc = imssec_secagree_parse(s1, sizeof s1 - 1, m, 4, &count, NULL);
    T_ASSERT(rc != IMSSEC_OK);
    rc = imssec_secagree_parse(s2, sizeof s2 - 1, m, 4, &count, NULL);
    T_ASSERT(rc != IMSSEC_OK);
    rc = imssec_secagree_parse(s3, sizeof s3 - 1, m, 4, &count, NULL);
    T_ASSERT(rc != IMSSEC_OK);
}

/* Empty list elements are ignored; an all-empty list is an error. */
T_TEST(adv_secagree_empty_elements)
{
    const char *s = " , ipsec-3gpp;alg=hmac-md5-96 ,, , tls ,";
    static const char *bad[] = {"", " ", ",", " , , ", "\r\n "};
    imssec_sec_mech m[4];
    size_t i, count;
    T_EQ_INT(sa_parse_str(s, m, 4, &count), IMSSEC_OK);
    T_EQ_UINT(count, 2);
    T_EQ_SLICE(m[0].raw, m[0].raw_len, "ipsec-3gpp;alg=hmac-md5-96");
    T_EQ_SLICE(m[1].raw, m[1].raw_len, "tls");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sa_parse_str(bad[i], m, 4, &count) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "empty list \"%s\" accepted", bad[i]);
            return;
        }
    }
}

/* Unknown values are kept as unknown, never mapped to defaults (E13). */
T_TEST(adv_secagree_unknown_values)
{
    const char *s = "ipsec-3gpp;alg=hmac-sha-256-128;ealg=aes-ctr;prot=esp2;mod=transport";
    imssec_sec_mech m[2];
    size_t count;
    T_EQ_INT(sa_parse_str(s, m, 2, &count), IMSSEC_OK);
    T_EQ_INT(m[0].alg, IMSSEC_ALG_UNKNOWN);
    T_EQ_INT(m[0].ealg, IMSSEC_EALG_UNKNOWN);
    T_EQ_INT(m[0].prot, IMSSEC_PROT_UNKNOWN);
    T_EQ_INT(m[0].mod, IMSSEC_MODE_UNKNOWN);
    T_EQ_SLICE(m[0].alg_text, m[0].alg_len, "hmac-sha-256-128");
}

/* More than IMSSEC_SEC_MAX_PARAMS parameters is an error; exactly the max
 * is fine. */
T_TEST(adv_secagree_max_params)
{
    char buf[1024];
    size_t off, i, count;
    imssec_sec_mech m[2];
    off = (size_t)snprintf(buf, sizeof buf, "tls");
    for (i = 0; i < IMSSEC_SEC_MAX_PARAMS; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, ";p%u=%u", (unsigned)i, (unsigned)i);
    T_EQ_INT(sa_parse_str(buf, m, 2, &count), IMSSEC_OK);
    T_EQ_UINT(m[0].n_ext, IMSSEC_SEC_MAX_PARAMS);
    snprintf(buf + off, sizeof buf - off, ";x");
    T_ASSERT(sa_parse_str(buf, m, 2, &count) != IMSSEC_OK);
}

/* Builder: E_SPACE reports the exact need and writes nothing; parse(build)
 * round-trips the typed fields. */
T_TEST(adv_secagree_build_space_roundtrip)
{
    imssec_sec_mech m[NM], m2[NM];
    size_t i, count, count2, need, len;
    char out[1024], canary[1024];
    for (i = 0; i < sizeof sa_good / sizeof sa_good[0]; i++) {
        T_EQ_INT(sa_parse_str(sa_good[i], m, NM, &count), IMSSEC_OK);
        T_EQ_INT(imssec_secagree_build(m, count, out, sizeof out, &need), IMSSEC_OK);
        T_EQ_INT(imssec_secagree_parse(out, need, m2, NM, &count2, NULL), IMSSEC_OK);
        T_EQ_UINT(count2, count);
        T_ASSERT(imssec_secagree_equal(m, count, m2, count2, NULL, NULL) == 1);
        memset(out, 0x5A, sizeof out);
        memcpy(canary, out, sizeof out);
        len = 0;
        T_EQ_INT(imssec_secagree_build(m, count, out, need - 1, &len), IMSSEC_E_SPACE);
        T_EQ_UINT(len, need);
        T_EQ_MEM(out, canary, sizeof out);
        T_EQ_INT(imssec_secagree_build(m, count, out, need, &len), IMSSEC_OK);
        T_EQ_UINT(len, need);
        T_EQ_UINT((uint8_t)out[need], 0x5A);
        /* echo too */
        T_EQ_INT(imssec_secagree_echo(m, count, out, sizeof out, &need), IMSSEC_OK);
        memset(out, 0x5A, sizeof out);
        T_EQ_INT(imssec_secagree_echo(m, count, out, need - 1, &len), IMSSEC_E_SPACE);
        T_EQ_UINT(len, need);
        T_EQ_MEM(out, canary, sizeof out);
    }
}

/* Builder: SPIs printed unsigned; out-of-range typed fields refused. */
T_TEST(adv_secagree_build_fields)
{
    imssec_sec_mech m;
    char out[256];
    size_t len;
    memset(&m, 0, sizeof m);
    m.kind = IMSSEC_SEC_IPSEC_3GPP;
    m.present = IMSSEC_SECP_ALG | IMSSEC_SECP_SA_PARAMS | IMSSEC_SECP_Q;
    m.alg = IMSSEC_ALG_HMAC_SHA1_96;
    m.spi_c = 4294967295u;
    m.spi_s = 2147483648u;
    m.port_c = 65535;
    m.port_s = 1;
    m.q = 100;
    T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len), IMSSEC_OK);
    T_EQ_SLICE(out, len,
               "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=4294967295;spi-s=2147483648;port-c=65535;"
               "port-s=1;q=0.1");
    m.q = 1001;
    T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len), IMSSEC_E_PARAM);
    m.q = 1000;
    m.spi_c = 0;
    T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len), IMSSEC_E_PARAM);
    m.spi_c = 1;
    m.port_c = 0;
    T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len), IMSSEC_E_PARAM);
    m.port_c = 1; /* == port_s */
    T_EQ_INT(imssec_secagree_build(&m, 1, out, sizeof out, &len), IMSSEC_E_PARAM);
}

/* Normalised comparison: Annex H defaults; q absent != q=1; order of
 * mechanisms significant, order of parameters not. */
T_TEST(adv_secagree_equal)
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
        imssec_sec_mech a[4], b[4];
        size_t na, nb;
        T_EQ_INT(sa_parse_str(c[i].a, a, 4, &na), IMSSEC_OK);
        T_EQ_INT(sa_parse_str(c[i].b, b, 4, &nb), IMSSEC_OK);
        if (imssec_secagree_equal(a, na, b, nb, NULL, NULL) != c[i].eq ||
            imssec_secagree_equal(b, nb, a, na, NULL, NULL) != c[i].eq) {
            t_fail_(__FILE__, __LINE__, "equal(\"%s\", \"%s\") != %d", c[i].a, c[i].b, c[i].eq);
            return;
        }
    }
}

static const imssec_sec_pair pol_pairs[] = {
    {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC},
    {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
    {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL},
};
/* The pairs of pol_pairs this build supports (hmac-md5-96 may be compiled
 * out: test/configs/cfg_minimal.h) and how many distinct algs they have:
 * the Security-Server list sizes with every pair and with NEVER. */
#define POL_N (IMSSEC_ENABLE_HMAC_MD5 ? 3u : 2u)
#define POL_NALG (IMSSEC_ENABLE_HMAC_MD5 ? 2u : 1u)

static void pol_init(imssec_sec_pcscf_policy *p)
{
    memset(p, 0, sizeof *p);
    p->pairs = pol_pairs;
    p->n_pairs = POL_N;
    p->confidentiality = IMSSEC_CONF_SUPPORTED;
    p->spi_pc = 1000;
    p->spi_ps = 1001;
    p->port_pc = 5100;
    p->port_ps = 5101;
}

/* P-CSCF: prot=ah-only, capability-only lists, unsupported-only are 494
 * (7.3.2.1); outputs untouched. */
T_TEST(adv_secagree_pcscf_reject_untouched)
{
    static const char *bad[] = {
        "ipsec-3gpp;alg=hmac-sha-1-96;prot=ah;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "ipsec-3gpp;alg=hmac-sha-1-96;q=0.5",
        "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3", /* port-s missing */
        "ipsec-3gpp;alg=x-new;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "ipsec-3gpp;spi-c=1;spi-s=2;port-c=3;port-s=4", /* no alg: Annex H mandatory */
        "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-gcm;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "ipsec-3gpp;alg=hmac-sha-1-96;mod=tun;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "tls, digest",
    };
    size_t i;
    imssec_sec_pcscf_policy pol;
    pol_init(&pol);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imssec_sec_mech c[4], srv[8], srv_c[8];
        imssec_sec_choice ch, ch_c;
        imssec_sec_reject rej;
        size_t nc, ns = 4242;
        int rc;
        T_EQ_INT(sa_parse_str(bad[i], c, 4, &nc), IMSSEC_OK);
        memset(srv, 0xA5, sizeof srv);
        memcpy(srv_c, srv, sizeof srv);
        memset(&ch, 0xA5, sizeof ch);
        memcpy(&ch_c, &ch, sizeof ch);
        memset(&rej, 0, sizeof rej);
        rc = imssec_secagree_pcscf_negotiate(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej);
        if (rc != IMSSEC_E_SECAGREE_REJECT) {
            t_fail_(__FILE__, __LINE__, "\"%s\": rc %d", bad[i], rc);
            return;
        }
        T_EQ_INT(rej.sip_status, 494);
        T_ASSERT(rej.clause != NULL && strcmp(rej.clause, "7.3.2.1") == 0);
        T_EQ_MEM(srv, srv_c, sizeof srv);
        T_EQ_MEM(&ch, &ch_c, sizeof ch);
        T_EQ_UINT(ns, 4242);
    }
}

/* P-CSCF anti-bidding-down (7.2 NOTE): the UE offered no encryption, the
 * Security-Server still lists the encrypting pairs; NEVER lists no ealg;
 * REQUIRED rejects a UE without encryption. */
T_TEST(adv_secagree_pcscf_policy_forms)
{
    const char *s = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=11;spi-s=12;port-c=13;port-s=14";
    imssec_sec_mech c[2], srv[8];
    imssec_sec_choice ch;
    imssec_sec_reject rej;
    imssec_sec_pcscf_policy pol;
    size_t nc, ns, i;
    int saw_aes = 0;
    pol_init(&pol);
    T_EQ_INT(sa_parse_str(s, c, 2, &nc), IMSSEC_OK);
    if (!IMSSEC_ENABLE_HMAC_MD5) {
        /* a policy naming a compiled-out alg is a bad policy */
        pol.n_pairs = 3;
        T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej),
                 IMSSEC_E_PARAM);
        pol.n_pairs = POL_N;
    }
    T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(ch.alg, IMSSEC_ALG_HMAC_SHA1_96);
    T_EQ_INT(ch.ealg, IMSSEC_EALG_NULL);
    T_EQ_UINT(ch.spi_c, 11);
    T_EQ_UINT(ch.port_s, 14);
    T_EQ_UINT(ns, POL_N);
    for (i = 0; i < ns; i++) {
        if (srv[i].ealg == IMSSEC_EALG_AES_CBC)
            saw_aes = 1;
        T_EQ_UINT(srv[i].spi_c, 1000);
        T_EQ_UINT(srv[i].spi_s, 1001);
        T_EQ_UINT(srv[i].port_c, 5100);
        T_EQ_UINT(srv[i].port_s, 5101);
    }
    T_ASSERT(saw_aes);
    /* E_SPACE: *n_server = needed */
    ns = 0;
    T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 0, srv, POL_N - 1, &ns, &ch, &rej),
             IMSSEC_E_SPACE);
    T_EQ_UINT(ns, POL_N);
    /* NEVER: each alg once, no ealg */
    pol.confidentiality = IMSSEC_CONF_NEVER;
    T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej), IMSSEC_OK);
    T_EQ_UINT(ns, POL_NALG);
    for (i = 0; i < ns; i++)
        T_ASSERT((srv[i].present & IMSSEC_SECP_EALG) == 0);
    /* REQUIRED: reject */
    pol.confidentiality = IMSSEC_CONF_REQUIRED;
    T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(rej.sip_status, 494);
}

/* NAT without UDP-enc-tun offered: M.7.3.2.4, no response (0).  A build
 * without UDP encapsulation aborts the same way whatever the UE offered. */
T_TEST(adv_secagree_pcscf_nat)
{
    const char *s = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=11;spi-s=12;port-c=13;port-s=14";
    const char *u = "ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=11;spi-s=12;port-c=13;"
                    "port-s=14";
    imssec_sec_mech c[2], srv[8];
    imssec_sec_choice ch;
    imssec_sec_reject rej;
    imssec_sec_pcscf_policy pol;
    size_t nc, ns;
    pol_init(&pol);
    pol.udp_encap = 1;
    T_EQ_INT(sa_parse_str(s, c, 2, &nc), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(rej.sip_status, 0);
    T_ASSERT(rej.clause && strcmp(rej.clause, "M.7.3.2.4") == 0);
    T_EQ_INT(sa_parse_str(u, c, 2, &nc), IMSSEC_OK);
    if (IMSSEC_ENABLE_UDPENCAP) {
        T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
                 IMSSEC_OK);
        T_EQ_INT(ch.mod, IMSSEC_MODE_UDP_ENC_TUN);
    } else {
        rej.clause = NULL;
        T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
                 IMSSEC_E_SECAGREE_REJECT);
        T_EQ_INT(rej.sip_status, 0);
        T_ASSERT(rej.clause && strcmp(rej.clause, "M.7.3.2.4") == 0);
    }
    /* P-CSCF without udp_encap: abort too */
    pol.udp_encap = 0;
    T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(rej.sip_status, 0);
}

/* UE: a capability list (no SPIs/ports) is never an SA proposal; q order. */
T_TEST(adv_secagree_ue_select)
{
    const char *cap = "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;q=0.9";
    const char *qord = "ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4;q=0.1,"
                       "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4;q=0.5,"
                       "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;"
                       "port-s=4;q=0.5";
    static const imssec_sec_pair sup[] = {{IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL},
                                          {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
                                          {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC}};
    imssec_sec_mech s[4];
    imssec_sec_choice ch, ch_c;
    imssec_sec_reject rej;
    size_t n;
    T_EQ_INT(sa_parse_str(cap, s, 4, &n), IMSSEC_OK);
    memset(&ch, 0xA5, sizeof ch);
    memcpy(&ch_c, &ch, sizeof ch);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 3, 0, 0, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_MEM(&ch, &ch_c, sizeof ch);
    T_EQ_INT(sa_parse_str(qord, s, 4, &n), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 3, 0, 0, &ch, &rej), IMSSEC_OK);
    T_EQ_UINT(ch.index, 1); /* q=0.5 first, ties in list order */
    T_EQ_INT(ch.alg, IMSSEC_ALG_HMAC_SHA1_96);
    T_EQ_INT(ch.ealg, IMSSEC_EALG_NULL);
}

/* Via parser: truncations at a guard page; canary on error. */
T_TEST(adv_secagree_via_guard)
{
    static const char *v[] = {
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=198.51.100.7;rport=4321",
        "SIP/2.0/TCP [2001:db8::1]:5062;branch=z9hG4bKx, SIP/2.0/UDP 10.0.0.1",
        "SIP / 2.0 / UDP\r\n host.example.com ;rport;received=\"1.2.3.4\"",
    };
    adv_gp g;
    size_t i, k;
    T_ASSERT(adv_gp_init(&g) == 0);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i]);
        for (k = 0; k <= n; k++) {
            imssec_sec_via via, c;
            const char *q = (const char *)adv_gp_place(&g, v[i], k);
            int rc;
            memset(&via, 0xA5, sizeof via);
            memcpy(&c, &via, sizeof via);
            rc = imssec_secagree_via_parse(q, k, &via);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX);
            if (rc != IMSSEC_OK)
                T_EQ_MEM(&via, &c, sizeof via);
        }
    }
    adv_gp_free(&g);
}

/* Via: port range; rport without value. */
T_TEST(adv_secagree_via_values)
{
    static const char *bad[] = {"SIP/2.0/UDP 192.0.2.1:65536", "SIP/2.0/UDP 192.0.2.1:4295032832",
                                "SIP/2.0/UDP 192.0.2.1:", "SIP/2.0/UDP 192.0.2.1;rport=70000"};
    imssec_sec_via via;
    size_t i;
    const char *ok = "SIP/2.0/UDP 192.0.2.1:5060;rport;received=198.51.100.7";
    T_EQ_INT(imssec_secagree_via_parse(ok, strlen(ok), &via), IMSSEC_OK);
    T_EQ_UINT(via.port, 5060);
    T_EQ_INT(via.has_rport, 1);
    T_EQ_UINT(via.rport, 0);
    T_EQ_SLICE(via.received, via.received_len, "198.51.100.7");
    T_EQ_SLICE(via.host, via.host_len, "192.0.2.1");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (imssec_secagree_via_parse(bad[i], strlen(bad[i]), &via) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "\"%s\" accepted (port %u rport %u)", bad[i],
                    (unsigned)via.port, (unsigned)via.rport);
            return;
        }
    }
}

/* Random byte mutations of good inputs: never crash; OK results stay in
 * the input; parse_multi equals the joined single parse. */
T_TEST(adv_secagree_mutations)
{
    adv_gp g;
    size_t i, r;
    T_ASSERT(adv_gp_init(&g) == 0);
    for (r = 0; r < 3000; r++) {
        char buf[512];
        const char *src = sa_good[r % (sizeof sa_good / sizeof sa_good[0])];
        size_t n = strlen(src), nmut = 1 + t_rand64() % 4;
        imssec_sec_mech m[NM];
        size_t count;
        const char *q;
        int rc;
        memcpy(buf, src, n);
        for (i = 0; i < nmut; i++) {
            static const char alpha[] = ";,=\" \r\n\t\\0123456789-aAzZ\x00\xff";
            buf[t_rand64() % n] = alpha[t_rand64() % (sizeof alpha - 1)];
        }
        q = (const char *)adv_gp_place(&g, buf, n);
        rc = imssec_secagree_parse(q, n, m, NM, &count, NULL);
        T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_RANGE);
        if (rc == IMSSEC_OK) {
            char out[1024];
            size_t len, c2;
            imssec_sec_mech m2[NM];
            for (i = 0; i < count; i++)
                T_ASSERT(m[i].raw >= q && m[i].raw + m[i].raw_len <= q + n);
            rc = imssec_secagree_build(m, count, out, sizeof out, &len);
            if (rc == IMSSEC_OK) {
                T_EQ_INT(imssec_secagree_parse(out, len, m2, NM, &c2, NULL), IMSSEC_OK);
                if (imssec_secagree_equal(m, count, m2, c2, NULL, NULL) != 1) {
                    t_fail_(__FILE__, __LINE__, "round trip differs: \"%.*s\" -> \"%.*s\"",
                            (int)n, q, (int)len, out);
                    return;
                }
            }
        }
    }
    adv_gp_free(&g);
}

/* parse_multi: the same as one comma-joined list; SPACE counts across
 * instances; mech_index of an error counts across instances. */
T_TEST(adv_secagree_multi)
{
    const char *v[3] = {"ipsec-3gpp;alg=hmac-md5-96, tls", "digest", "ipsec-3gpp;port-c=0"};
    size_t lens[3], count = 0;
    imssec_sec_mech m[NM], canary[NM];
    imssec_sec_errinfo ei;
    lens[0] = strlen(v[0]);
    lens[1] = strlen(v[1]);
    lens[2] = strlen(v[2]);
    T_EQ_INT(imssec_secagree_parse_multi(v, lens, 2, m, NM, &count, NULL), IMSSEC_OK);
    T_EQ_UINT(count, 3);
    T_EQ_INT(m[2].kind, IMSSEC_SEC_DIGEST);
    count = 0;
    memset(m, 0xA5, sizeof m);
    memcpy(canary, m, sizeof m);
    T_EQ_INT(imssec_secagree_parse_multi(v, lens, 2, m, 2, &count, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(count, 3);
    T_EQ_MEM(m, canary, sizeof m);
    memset(&ei, 0, sizeof ei);
    T_ASSERT(imssec_secagree_parse_multi(v, lens, 3, m, NM, &count, &ei) != IMSSEC_OK);
    T_EQ_MEM(m, canary, sizeof m);
    T_EQ_UINT(ei.value_index, 2);
    T_EQ_UINT(ei.mech_index, 3);
    T_ASSERT(ei.what != NULL);
}

/* NAT detection compares addresses, not spellings (M.7.2): the same IPv6
 * address written differently is not a NAT; a different one is. */
T_TEST(adv_secagree_nat_detect_forms)
{
    static const struct {
        const char *via;
        int nat; /* -1: error expected */
    } c[] = {
        {"SIP/2.0/UDP [2001:db8::1]:5060", 0},
        {"SIP/2.0/UDP [2001:DB8::1]:5060", 0},
        {"SIP/2.0/UDP [2001:0db8:0000:0000:0000:0000:0000:0001]:5060", 0},
        {"SIP/2.0/UDP [2001:db8:0:0::0:1]", 0},
        {"SIP/2.0/UDP [2001:db8::2]:5060", 1},
        {"SIP/2.0/UDP [2001:db8::1:0]:5060", 1},
        {"SIP/2.0/UDP [::1]:5060", 1},
    };
    uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    uint8_t src4[4] = {192, 0, 2, 1};
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        imssec_sec_via via;
        int nat = 7, rc;
        T_EQ_INT(imssec_secagree_via_parse(c[i].via, strlen(c[i].via), &via), IMSSEC_OK);
        rc = imssec_secagree_nat_detect(&via, src6, 16, &nat);
        if (rc != IMSSEC_OK || nat != c[i].nat)
            t_fail_(__FILE__, __LINE__, "%s: rc %d nat %d, want nat %d", c[i].via, rc, nat,
                    c[i].nat);
    }
    {
        static const struct {
            const char *via;
            int nat;
        } d[] = {
            {"SIP/2.0/UDP 192.0.2.1:5060", 0},
            {"SIP/2.0/UDP 192.0.2.10:5060", 1},
            {"SIP/2.0/UDP 192.0.2.1", 0},
            {"SIP/2.0/UDP 92.0.2.1", 1},
            {"SIP/2.0/UDP [2001:db8::1]", 1}, /* other family */
        };
        for (i = 0; i < sizeof d / sizeof d[0]; i++) {
            imssec_sec_via via;
            int nat = 7, rc;
            T_EQ_INT(imssec_secagree_via_parse(d[i].via, strlen(d[i].via), &via), IMSSEC_OK);
            rc = imssec_secagree_nat_detect(&via, src4, 4, &nat);
            if (rc != IMSSEC_OK || nat != d[i].nat)
                t_fail_(__FILE__, __LINE__, "%s: rc %d nat %d, want nat %d", d[i].via, rc, nat,
                        d[i].nat);
        }
    }
    {
        imssec_sec_via via;
        int nat = 7;
        const char *v = "SIP/2.0/UDP pcscf.example.com:5060";
        T_EQ_INT(imssec_secagree_via_parse(v, strlen(v), &via), IMSSEC_OK);
        T_EQ_INT(imssec_secagree_nat_detect(&via, src4, 4, &nat), IMSSEC_E_UNSUPPORTED);
        T_EQ_INT(nat, 7);
        T_EQ_INT(imssec_secagree_nat_detect(&via, src4, 5, &nat), IMSSEC_E_PARAM);
    }
}

/* Echo (RFC 3329 2.3.1): the raw text with folded line breaks removed. */
T_TEST(adv_secagree_echo_unfolds)
{
    const char *s = "ipsec-3gpp;\r\n alg=hmac-md5-96;\r\n\tspi-c=1;spi-s=2;port-c=3;port-s=4,\r\n tls";
    imssec_sec_mech m[4], m2[4];
    size_t n, n2, len, i;
    char out[256];
    T_EQ_INT(sa_parse_str(s, m, 4, &n), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_echo(m, n, out, sizeof out, &len), IMSSEC_OK);
    for (i = 0; i < len; i++)
        if (out[i] == '\r' || out[i] == '\n') {
            t_fail_(__FILE__, __LINE__, "line break kept in echo: \"%.*s\"", (int)len, out);
            return;
        }
    T_EQ_INT(imssec_secagree_parse(out, len, m2, 4, &n2, NULL), IMSSEC_OK);
    T_ASSERT(imssec_secagree_equal(m, n, m2, n2, NULL, NULL) == 1);
}

/* RFC 3329 2.2 grammar corners: empty values, empty names, non-token
 * characters are errors.  (Quoted numbers `spi-c="123"` and `;;` are
 * accepted: E4/E5 of the anchors allow unquoting and empty parameters.) */
T_TEST(adv_secagree_grammar_corners)
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
    imssec_sec_mech m[4];
    size_t i, n;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sa_parse_str(bad[i], m, 4, &n);
        if (rc == IMSSEC_OK)
            t_fail_(__FILE__, __LINE__, "accepted: \"%s\" (%zu mechs, present %#x, n_ext %u)",
                    bad[i], n, m[0].present, m[0].n_ext);
    }
}

/* A quoted typed value (E4): accepted consistently (unquoted text, known
 * value) or rejected; never half-known. */
T_TEST(adv_secagree_quoted_typed)
{
    const char *s = "ipsec-3gpp;alg=\"hmac-md5-96\";ealg=\"aes-cbc\"";
    const char *u = "ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc";
    imssec_sec_mech m[2], m2[2];
    size_t n, n2;
    if (sa_parse_str(s, m, 2, &n) != IMSSEC_OK)
        return;
    T_EQ_INT(m[0].alg, IMSSEC_ALG_HMAC_MD5_96);
    T_EQ_INT(m[0].ealg, IMSSEC_EALG_AES_CBC);
    T_EQ_SLICE(m[0].alg_text, m[0].alg_len, "hmac-md5-96");
    T_EQ_INT(sa_parse_str(u, m2, 2, &n2), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_equal(m, n, m2, n2, NULL, NULL), 1);
}

/* Long hostile headers: linear time, exact SPACE count. */
T_TEST(adv_secagree_long_header)
{
    static char buf[200000];
    size_t off = 0, count = 0;
    imssec_sec_mech m[4];
    while (off + 8 < sizeof buf) {
        memcpy(buf + off, "tls, ,", 6);
        off += 6;
    }
    T_EQ_INT(imssec_secagree_parse(buf, off, m, 4, &count, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(count, off / 6);
}

/* pcscf_negotiate E_SPACE: server array and choice untouched. */
T_TEST(adv_secagree_pcscf_space_untouched)
{
    const char *s = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=11;spi-s=12;port-c=13;port-s=14";
    imssec_sec_mech c[2], srv[8], srv_c[8];
    imssec_sec_choice ch, ch_c;
    imssec_sec_reject rej;
    imssec_sec_pcscf_policy pol;
    size_t nc, ns = 0;
    pol_init(&pol);
    T_EQ_INT(sa_parse_str(s, c, 2, &nc), IMSSEC_OK);
    memset(srv, 0xA5, sizeof srv);
    memcpy(srv_c, srv, sizeof srv);
    memset(&ch, 0xA5, sizeof ch);
    memcpy(&ch_c, &ch, sizeof ch);
    T_EQ_INT(imssec_secagree_pcscf_negotiate(c, nc, &pol, 0, srv, POL_N - 1, &ns, &ch, &rej),
             IMSSEC_E_SPACE);
    T_EQ_UINT(ns, POL_N);
    T_EQ_MEM(srv, srv_c, sizeof srv);
    T_EQ_MEM(&ch, &ch_c, sizeof ch);
}

/* UE behind NAT (M.7.2): an entry without mod is not usable, an explicit
 * trans is, UDP-enc-tun needs udp_encap (and a build that has it). */
T_TEST(adv_secagree_ue_select_nat)
{
    const char *absent = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4";
    const char *udp = "ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=1;spi-s=2;port-c=3;"
                      "port-s=4";
    static const imssec_sec_pair sup[] = {{IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL}};
    imssec_sec_mech s[2];
    imssec_sec_choice ch;
    imssec_sec_reject rej;
    size_t n;
    T_EQ_INT(sa_parse_str(absent, s, 2, &n), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 1, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 0, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(sa_parse_str(udp, s, 2, &n), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 0, 1, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    if (!IMSSEC_ENABLE_UDPENCAP) { /* compiled out: unusable even when asked for */
        T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 1, &ch, &rej),
                 IMSSEC_E_SECAGREE_REJECT);
        return;
    }
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 1, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(ch.mod, IMSSEC_MODE_UDP_ENC_TUN);
}

/* parse_multi with no instances is an empty list; empty instances between
 * real ones are fine. */
T_TEST(adv_secagree_multi_empty)
{
    const char *v[3] = {"", "tls", " "};
    size_t lens[3] = {0, 3, 1}, count = 99;
    imssec_sec_mech m[4];
    T_ASSERT(imssec_secagree_parse_multi(v, lens, 0, m, 4, &count, NULL) != IMSSEC_OK);
    T_EQ_INT(imssec_secagree_parse_multi(v, lens, 3, m, 4, &count, NULL), IMSSEC_OK);
    T_EQ_UINT(count, 1);
    T_ASSERT(imssec_secagree_parse_multi(v, lens, 1, m, 4, &count, NULL) != IMSSEC_OK);
}
