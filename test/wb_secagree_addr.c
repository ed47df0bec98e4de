/*
 * wb_secagree_addr.c -- the address parsers behind NAT detection (M.7.2)
 * against the C library's inet_pton (an independent implementation).
 */
#include <arpa/inet.h>

/* Random IPv6 addresses printed by inet_ntop (compressed, mixed case after
 * our flip, some with embedded IPv4) parse to the same 16 bytes. */
T_TEST(secagree_wb_ip6_vs_inet_pton)
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
        if (!sec_ip6(txt, strlen(txt), got)) {
            t_fail_(__FILE__, __LINE__, "refused %s", txt);
            return;
        }
        T_EQ_MEM(got, a, 16);
    }
}

/* Strings inet_pton refuses are refused, and the ones it accepts agree. */
T_TEST(secagree_wb_ip_edge_cases)
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
        int got = sec_ip6(v6[k], strlen(v6[k]), b);
        if (want != got || (want && memcmp(a, b, 16) != 0)) {
            t_fail_(__FILE__, __LINE__, "%s: inet_pton %d, ours %d", v6[k], want, got);
            return;
        }
    }
    for (k = 0; k < sizeof v4 / sizeof v4[0]; k++) {
        uint8_t a[4], b[4];
        int want = inet_pton(AF_INET, v4[k], a) == 1;
        int got = sec_ip4(v4[k], strlen(v4[k]), b);
        if (want != got || (want && memcmp(a, b, 4) != 0)) {
            t_fail_(__FILE__, __LINE__, "%s: inet_pton %d, ours %d", v4[k], want, got);
            return;
        }
    }
}
