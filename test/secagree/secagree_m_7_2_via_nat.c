/*
 * secagree_m_7_2_via_nat.c -- the top Via and NAT detection of TS 33.203
 * M.7.2: the P-CSCF compares the packet source with the sent-by of the top
 * Via (addresses, not spellings); the Via parser's values, and every
 * truncation placed at a guard page.
 */

#include "../../imssec.h"
#include "../t.h"

#include "../guard_page.h"

/* M.7.2 (P-CSCF): packet source vs top Via sent-by.  Addresses are
 * compared, not spellings: the same IPv6 address written differently is no
 * NAT, a different one (or the other family) is; a host name cannot be
 * compared (UNSUPPORTED, output untouched); a bad address length is PARAM. */
T_TEST(secagree_m_7_2_nat_detect)
{
    imssec_secagree_via v;
    static const uint8_t a4[4] = {192, 0, 2, 4}, b4[4] = {198, 51, 100, 7};
    static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    int nat = -1;
    static const char *v4 = "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776;rport";
    static const char *v6 = "SIP / 2.0 / TCP [2001:DB8::1]:5062 ;branch=z9hG4bK1, SIP/2.0/UDP x";
    static const char *vd = "SIP/2.0/UDP ue.example.com;branch=z9hG4bK1";
    T_EQ_INT(imssec_secagree_via_parse(T_S(v4, strlen(v4)), &v, NULL), IMSSEC_OK);
    T_EQ_SLICE(v.transport.p, v.transport.n, "UDP");
    T_EQ_SLICE(v.host.p, v.host.n, "192.0.2.4");
    T_EQ_UINT(v.port, 5060);
    T_EQ_INT(v.has_rport, 1);
    T_EQ_INT(imssec_secagree_nat_detect(&v, t_addr(a4, 4), &nat), IMSSEC_OK);
    T_EQ_INT(nat, 0);
    T_EQ_INT(imssec_secagree_nat_detect(&v, t_addr(b4, 4), &nat), IMSSEC_OK);
    T_EQ_INT(nat, 1);
    T_EQ_INT(imssec_secagree_nat_detect(&v, t_addr(a6, 16), &nat), IMSSEC_OK);
    T_EQ_INT(nat, 1);
    T_EQ_INT(imssec_secagree_via_parse(T_S(v6, strlen(v6)), &v, NULL), IMSSEC_OK);
    T_EQ_SLICE(v.host.p, v.host.n, "[2001:DB8::1]");
    T_EQ_UINT(v.port, 5062);
    T_EQ_INT(imssec_secagree_nat_detect(&v, t_addr(a6, 16), &nat), IMSSEC_OK);
    T_EQ_INT(nat, 0);
    T_EQ_INT(imssec_secagree_via_parse(T_S(vd, strlen(vd)), &v, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_nat_detect(&v, t_addr(a4, 4), &nat), IMSSEC_E_UNSUPPORTED);
    T_EQ_INT(imssec_secagree_via_parse(T_S("SIP/2.0/UDP", 11), &v, NULL), IMSSEC_E_SYNTAX);
    T_EQ_INT(imssec_secagree_via_parse(T_S("SIP/2.0/UDP h:99999", 19), &v, NULL), IMSSEC_E_SYNTAX);

    /* spellings of 2001:db8::1 and of 192.0.2.1 */
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
            imssec_secagree_via via;
            int nat = 7, rc;
            T_EQ_INT(imssec_secagree_via_parse(T_S(c[i].via, strlen(c[i].via)), &via, NULL), IMSSEC_OK);
            rc = imssec_secagree_nat_detect(&via, t_addr(src6, 16), &nat);
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
                imssec_secagree_via via;
                int nat = 7, rc;
                T_EQ_INT(imssec_secagree_via_parse(T_S(d[i].via, strlen(d[i].via)), &via, NULL), IMSSEC_OK);
                rc = imssec_secagree_nat_detect(&via, t_addr(src4, 4), &nat);
                if (rc != IMSSEC_OK || nat != d[i].nat)
                    t_fail_(__FILE__, __LINE__, "%s: rc %d nat %d, want nat %d", d[i].via, rc, nat,
                            d[i].nat);
            }
        }
        {
            imssec_secagree_via via;
            int nat = 7;
            const char *v = "SIP/2.0/UDP pcscf.example.com:5060";
            T_EQ_INT(imssec_secagree_via_parse(T_S(v, strlen(v)), &via, NULL), IMSSEC_OK);
            T_EQ_INT(imssec_secagree_nat_detect(&via, t_addr(src4, 4), &nat), IMSSEC_E_UNSUPPORTED);
            T_EQ_INT(nat, 7);
            /* a 5-byte address (read from the 16-byte array: no over-read) */
            T_EQ_INT(imssec_secagree_nat_detect(&via, t_addr(src6, 5), &nat), IMSSEC_E_PARAM);
        }
    }
}

/* Via parser: truncations at a guard page; canary on error. */
T_TEST(secagree_m_7_2_via_guard_page)
{
    static const char *v[] = {
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=198.51.100.7;rport=4321",
        "SIP/2.0/TCP [2001:db8::1]:5062;branch=z9hG4bKx, SIP/2.0/UDP 10.0.0.1",
        "SIP / 2.0 / UDP\r\n host.example.com ;rport;received=\"1.2.3.4\"",
    };
    guard_page g;
    size_t i, k;
    T_ASSERT(gp_init(&g) == 0);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i]);
        for (k = 0; k <= n; k++) {
            imssec_secagree_via via, c;
            const char *q = (const char *)gp_place(&g, v[i], k);
            int rc;
            memset(&via, 0xA5, sizeof via);
            memcpy(&c, &via, sizeof via);
            rc = imssec_secagree_via_parse(T_S(q, k), &via, NULL);
            T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX);
            if (rc != IMSSEC_OK)
                T_EQ_MEM(&via, &c, sizeof via);
        }
    }
    gp_free(&g);
}

/* Via: port range; rport without value. */
T_TEST(secagree_m_7_2_via_values)
{
    static const char *bad[] = {"SIP/2.0/UDP 192.0.2.1:65536", "SIP/2.0/UDP 192.0.2.1:4295032832",
                                "SIP/2.0/UDP 192.0.2.1:", "SIP/2.0/UDP 192.0.2.1;rport=70000"};
    imssec_secagree_via via;
    size_t i;
    const char *ok = "SIP/2.0/UDP 192.0.2.1:5060;rport;received=198.51.100.7";
    T_EQ_INT(imssec_secagree_via_parse(T_S(ok, strlen(ok)), &via, NULL), IMSSEC_OK);
    T_EQ_UINT(via.port, 5060);
    T_EQ_INT(via.has_rport, 1);
    T_EQ_UINT(via.rport, 0);
    T_EQ_SLICE(via.received.p, via.received.n, "198.51.100.7");
    T_EQ_SLICE(via.host.p, via.host.n, "192.0.2.1");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (imssec_secagree_via_parse(T_S(bad[i], strlen(bad[i])), &via, NULL) == IMSSEC_OK) {
            t_fail_(__FILE__, __LINE__, "\"%s\" accepted (port %u rport %u)", bad[i],
                    (unsigned)via.port, (unsigned)via.rport);
            return;
        }
    }
}
