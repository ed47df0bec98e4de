/*
 * wb_core_addr.c -- the address parsers and printer of core/addr.c (the
 * one imssec_addr of the library; NAT detection of M.7.2 rests on them)
 * against the C library's inet_pton / inet_ntop (an independent
 * implementation).
 */
#include <arpa/inet.h>

/* Random IPv6 addresses printed by inet_ntop (compressed, mixed case after
 * our flip, some with embedded IPv4) parse to the same 16 bytes. */
T_TEST(core_wb_addr_ip6_vs_inet_pton)
{
    int k;
    for (k = 0; k < 2000; k++) {
        uint8_t a[16], got[16];
        char txt[64];
        size_t j;
        t_randbytes(a, 16);
        /* runs of zero groups exercise "::" */
        if (k & 1) {
            size_t off = (size_t)(k % 7) * 2, len = (size_t)(k % 5) * 2;
            memset(a + off, 0, off + len > 16 ? 16 - off : len);
        }
        if (k % 11 == 0) /* ::ffff:a.b.c.d form */
            memset(a, 0, 10), a[10] = a[11] = 0xff;
        T_ASSERT(inet_ntop(AF_INET6, a, txt, sizeof txt) != NULL);
        if (k & 2)
            for (j = 0; txt[j]; j++)
                if (txt[j] >= 'a' && txt[j] <= 'f')
                    txt[j] = (char)(txt[j] - 32);
        if (!isc_addr_ip6(txt, strlen(txt), got)) {
            t_fail_(__FILE__, __LINE__, "refused %s", txt);
            return;
        }
        T_EQ_MEM(got, a, 16);
    }
}

/* Strings inet_pton refuses are refused, and the ones it accepts agree. */
T_TEST(core_wb_addr_edge_cases)
{
    static const char *v6[] = {"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
                               "::2:3:4:5:6:7:8", "1::8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
                               ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::",
                               "1:2:3:4:5:6:7", ":1::", "1::2:", "g::", "::1.2.3", "::1.2.3.256",
                               "1:2:3:4:5:6:7:1.2.3.4", "", "::01.2.3.4", "1:2:3:4:5:6:7:8::"};
    static const char *v4[] = {"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3",
                               "1.2.3.4.5", "01.2.3.4", "1..2.3", "1.2.3.4 ", "", "a.b.c.d"};
    size_t k;
    for (k = 0; k < sizeof v6 / sizeof v6[0]; k++) {
        uint8_t a[16], b[16];
        int want = inet_pton(AF_INET6, v6[k], a) == 1;
        int got = isc_addr_ip6(v6[k], strlen(v6[k]), b);
        if (want != got || (want && memcmp(a, b, 16) != 0)) {
            t_fail_(__FILE__, __LINE__, "%s: inet_pton %d, ours %d", v6[k], want, got);
            return;
        }
    }
    for (k = 0; k < sizeof v4 / sizeof v4[0]; k++) {
        uint8_t a[4], b[4];
        int want = inet_pton(AF_INET, v4[k], a) == 1;
        int got = isc_addr_ip4(v4[k], strlen(v4[k]), b);
        if (want != got || (want && memcmp(a, b, 4) != 0)) {
            t_fail_(__FILE__, __LINE__, "%s: inet_pton %d, ours %d", v4[k], want, got);
            return;
        }
    }
}

/* imssec_addr_format prints what inet_ntop prints (glibc follows RFC 5952:
 * lowercase, no leading zeros, the longest run of two or more zero groups
 * as "::"), except for IPv4-mapped addresses, which it keeps in hex; and
 * imssec_addr_parse reads every output back. */
T_TEST(core_addr_format_rfc5952_vs_inet_ntop)
{
    int k;
    for (k = 0; k < 3000; k++) {
        imssec_addr a, back;
        char want[64], got[IMSSEC_ADDR_TEXT_MAX + 1];
        size_t n = 0;
        memset(&a, 0, sizeof a);
        a.len = (k % 3 == 0) ? 4 : 16;
        t_randbytes(a.b, a.len);
        if (a.len == 16 && (k & 1)) { /* zero runs, sometimes two of equal length */
            size_t off = (size_t)(k % 7) * 2, len = (size_t)(k % 5) * 2;
            memset(a.b + off, 0, off + len > 16 ? 16 - off : len);
            if (k % 13 == 0)
                memset(a.b + 12, 0, 4);
        }
        if (a.len == 16 && a.b[0] == 0 && a.b[1] == 0)
            a.b[0] = 1; /* keep clear of ::ffff:a.b.c.d and ::a.b.c.d */
        T_ASSERT(inet_ntop(a.len == 4 ? AF_INET : AF_INET6, a.b, want, sizeof want) != NULL);
        T_EQ_INT(imssec_addr_format(&a, 0, got, sizeof got, &n), IMSSEC_OK);
        got[n] = 0;
        T_EQ_STR(got, want);
        if (a.len == 16 && !IMSSEC_ENABLE_IPV6) {
            /* the text is still written; reading it back is refused */
            T_EQ_INT(imssec_addr_parse(T_S(got, n), &back), IMSSEC_E_UNSUPPORTED);
            continue;
        }
        T_EQ_INT(imssec_addr_parse(T_S(got, n), &back), IMSSEC_OK);
        T_ASSERT(imssec_addr_equal(&a, &back));
    }
}

T_TEST(core_addr_brackets_and_space)
{
    imssec_addr a;
    char out[IMSSEC_ADDR_TEXT_MAX];
    size_t n = 99;
    T_EQ_INT(imssec_addr_parse(imssec_cstr("[1.2.3.4]"), &a), IMSSEC_E_SYNTAX);
    if (!IMSSEC_ENABLE_IPV6) {
        T_EQ_INT(imssec_addr_parse(imssec_cstr("[2001:db8::1]"), &a), IMSSEC_E_UNSUPPORTED);
        T_SKIP("IPv6 compiled out (IMSSEC_ENABLE_IPV6 0): the IPv6 forms are refused");
    }
    T_EQ_INT(imssec_addr_parse(imssec_cstr("[2001:db8::1]"), &a), IMSSEC_OK);
    T_EQ_UINT(a.len, 16);
    T_EQ_INT(imssec_addr_format(&a, 1, out, sizeof out, &n), IMSSEC_OK);
    T_EQ_SLICE(out, n, "[2001:db8::1]");
    /* output convention: too small measures and writes nothing */
    memset(out, 'x', sizeof out);
    T_EQ_INT(imssec_addr_format(&a, 1, out, 5, &n), IMSSEC_E_SPACE);
    T_EQ_UINT(n, 13);
    T_EQ_INT(out[0], 'x');
    T_EQ_INT(imssec_addr_parse(imssec_cstr("[1.2.3.4]"), &a), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_addr_parse(imssec_cstr("host.example"), &a), IMSSEC_E_SYNTAX);
}
