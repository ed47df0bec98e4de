/*
 * esp_rfc3948_udp_encap.c -- UDP encapsulation of RFC 3948 (TS 33.203
 * M.7.2): demultiplexing on port 4500, the NAT-keepalive packet and its
 * timer, a port-4500 socket receiver unprotecting the ESP part alone, and
 * keepalives / IKE handed to a UDP-tunnel SA.  The kernel capture is
 * test/vectors/esp-vectors.md section 5.
 */

#include "esp_fixture.h"

#include "../guard_page.h"

/* RFC 3948 2: demultiplexing, decided on the UDP length. */
static size_t mk_udp(uint8_t *b, const uint8_t *pl, size_t n, size_t udplen_field)
{
    b[0] = 0x11, b[1] = 0x94, b[2] = 0x11, b[3] = 0x94;
    b[4] = (uint8_t)(udplen_field >> 8);
    b[5] = (uint8_t)udplen_field;
    b[6] = b[7] = 0;
    if (n)
        memcpy(b + 8, pl, n);
    return 8 + n;
}

/* RFC 3948 section 2 demultiplexing of what arrives on port 4500; the UDP
 * length decides.  A keepalive (with link padding after it), IKE behind the
 * Non-ESP marker, ESP with its SPI and offset (the T3 header of
 * esp-vectors.md section 5); every truncation of an ESP datagram with a
 * consistent UDP length placed at a guard page; UDP lengths beyond the
 * buffer and below 8; 0xFF that is no keepalive; a zero payload that is no
 * Non-ESP marker. */
T_TEST(esp_rfc3948_2_udp_demux)
{
    uint8_t d[64];
    int kind = -1;
    uint32_t spi = 0;
    size_t off = 0;
    /* keepalive, with 11 bytes of link padding after it */
    memset(d, 0, sizeof d);
    t_unhex("11941194000959afff", d, sizeof d);
    T_EQ_INT(imssec_esp_udp_demux(d, 20, &kind, &spi, &off), IMSSEC_OK);
    T_EQ_INT(kind, IMSSEC_ESP_UDP_KEEPALIVE);
    /* IKE behind the Non-ESP marker */
    t_unhex("11941194002000000000000011112222", d, sizeof d);
    T_EQ_INT(imssec_esp_udp_demux(d, 32, &kind, &spi, &off), IMSSEC_OK);
    T_EQ_INT(kind, IMSSEC_ESP_UDP_IKE);
    T_EQ_UINT(off, 12);
    /* ESP (the T3 header of esp-vectors.md section 5) */
    t_unhex("11941194006c00000000300100000001", d, sizeof d);
    T_EQ_INT(imssec_esp_udp_demux(d, 0x6c, &kind, &spi, &off), IMSSEC_OK);
    T_EQ_UINT(spi, 0x3001);
    T_EQ_INT(imssec_esp_udp_demux(d, 16, &kind, &spi, &off), IMSSEC_E_MALFORMED); /* ul > len */
    d[4] = 0, d[5] = 16;
    T_EQ_INT(imssec_esp_udp_demux(d, 16, &kind, &spi, &off), IMSSEC_OK);
    T_EQ_INT(kind, IMSSEC_ESP_UDP_ESP);
    T_EQ_UINT(spi, 0x3001);
    T_EQ_UINT(off, 8);
    /* too short for SPI + seq; UDP length below 8; a 1-byte non-0xff */
    d[5] = 14;
    T_EQ_INT(imssec_esp_udp_demux(d, 16, &kind, &spi, &off), IMSSEC_E_MALFORMED);
    d[5] = 7;
    T_EQ_INT(imssec_esp_udp_demux(d, 16, &kind, &spi, &off), IMSSEC_E_MALFORMED);
    d[5] = 9;
    d[8] = 0xfe;
    T_EQ_INT(imssec_esp_udp_demux(d, 16, &kind, &spi, &off), IMSSEC_E_MALFORMED);
    T_EQ_INT(imssec_esp_udp_demux(d, 7, &kind, &spi, &off), IMSSEC_E_MALFORMED);

    /* datagrams built here (the truncations at a guard page) */
    {
        uint8_t u[64];
        static const uint8_t ka[1] = {0xff};
        static const uint8_t esp[12] = {0, 0, 0x30, 0x01, 0, 0, 0, 1, 9, 9, 9, 9};
        static const uint8_t ike[12] = {0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4};
        int kind;
        uint32_t spi;
        size_t off, n;
        guard_page g;
        T_ASSERT(gp_init(&g) == 0);
        n = mk_udp(u, ka, 1, 9);
        T_EQ_INT(imssec_esp_udp_demux(gp_place(&g, u, n), n, &kind, &spi, &off), IMSSEC_OK);
        T_EQ_INT(kind, IMSSEC_ESP_UDP_KEEPALIVE);
        /* link padding after a keepalive */
        memset(u + 9, 0, 8);
        T_EQ_INT(imssec_esp_udp_demux(gp_place(&g, u, 17), 17, &kind, &spi, &off), IMSSEC_OK);
        T_EQ_INT(kind, IMSSEC_ESP_UDP_KEEPALIVE);
        n = mk_udp(u, esp, 12, 20);
        T_EQ_INT(imssec_esp_udp_demux(gp_place(&g, u, n), n, &kind, &spi, &off), IMSSEC_OK);
        T_EQ_INT(kind, IMSSEC_ESP_UDP_ESP);
        T_EQ_UINT(spi, 0x3001);
        T_EQ_UINT(off, 8);
        n = mk_udp(u, ike, 12, 20);
        T_EQ_INT(imssec_esp_udp_demux(gp_place(&g, u, n), n, &kind, &spi, &off), IMSSEC_OK);
        T_EQ_INT(kind, IMSSEC_ESP_UDP_IKE);
        T_EQ_UINT(off, 12);
        /* every truncation of the ESP datagram with a consistent UDP length */
        {
            size_t k;
            for (k = 0; k < 20; k++) {
                int rc;
                mk_udp(u, esp, 12, k);
                rc = imssec_esp_udp_demux(gp_place(&g, u, k), k, &kind, &spi, &off);
                if (k == 9) {
                    /* 1 byte 0x00: neither keepalive nor ESP */
                    T_EQ_INT(rc, IMSSEC_E_MALFORMED);
                } else if (k < 16) {
                    if (rc != IMSSEC_E_MALFORMED) {
                        t_fail_(__FILE__, __LINE__, "udp len %zu: rc %d kind %d", k, rc, kind);
                        return;
                    }
                }
            }
        }
        /* UDP length beyond len; below 8 */
        n = mk_udp(u, esp, 12, 21);
        T_EQ_INT(imssec_esp_udp_demux(u, n, &kind, &spi, &off), IMSSEC_E_MALFORMED);
        n = mk_udp(u, esp, 12, 7);
        T_EQ_INT(imssec_esp_udp_demux(u, n, &kind, &spi, &off), IMSSEC_E_MALFORMED);
        /* 0xff with UDP length 10: not a keepalive */
        u[8] = 0xff, u[9] = 0xff;
        mk_udp(u, u + 8, 0, 10);
        T_EQ_INT(imssec_esp_udp_demux(u, 10, &kind, &spi, &off), IMSSEC_E_MALFORMED);
        /* keepalive byte but the UDP length says 12 (4-byte payload 0xff000000) */
        {
            static const uint8_t x[4] = {0xff, 0, 0, 0};
            n = mk_udp(u, x, 4, 12);
            T_EQ_INT(imssec_esp_udp_demux(u, n, &kind, &spi, &off), IMSSEC_E_MALFORMED);
        }
        /* a 2-byte zero payload is not a Non-ESP marker */
        {
            static const uint8_t z[2] = {0, 0};
            n = mk_udp(u, z, 2, 10);
            T_EQ_INT(imssec_esp_udp_demux(u, n, &kind, &spi, &off), IMSSEC_E_MALFORMED);
        }
        gp_free(&g);
    }
}

/* RFC 3948 2.3: the NAT-keepalive packet (IPv4 header, UDP length 9,
 * 0xFF) of an outbound UDP-encapsulated SA; a build without UDP
 * encapsulation refuses the SA and skips.  IMSSEC_E_SPACE reports the size
 * needed and writes nothing; the fields (header checksum valid, addresses,
 * ports 4500 -> dport); an inbound SA is refused.  Then the packet for
 * 192.0.2.1:4500 -> 192.0.2.2:4500 byte for byte: the UDP checksum 0x59af
 * was worked out by hand (RFC 768: c000+0201+c000+0202+0011+0009
 * pseudo-header, 1194+1194+0009+ff00, folded, complemented).  The Linux
 * capture in esp-vectors.md section 5 shows 841e there: that is the
 * uncomplemented pseudo-header sum alone (checksum offload on veth,
 * captured before completion), so it is not compared. */
T_TEST(esp_rfc3948_2_3_keepalive_packet)
{
    imssec_esp_params p;
    imssec_esp_sa sa;
    uint8_t out[64], canary[64];
    size_t len = 0;
    mk_params(&p, IMSSEC_ESP_OUTBOUND, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
              IMSSEC_EALG_NULL, 4, 7);
    p.dport = 33333;
    if (!IMSSEC_ENABLE_UDPENCAP) {
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_UNSUPPORTED);
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP=0)");
    }
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
    memset(out, 0xA5, sizeof out);
    memcpy(canary, out, sizeof out);
    T_EQ_INT(imssec_esp_keepalive_build(&sa, out, 28, &len), IMSSEC_E_SPACE);
    T_EQ_UINT(len, 29);
    T_EQ_MEM(out, canary, sizeof out);
    T_EQ_INT(imssec_esp_keepalive_build(&sa, out, sizeof out, &len), IMSSEC_OK);
    T_EQ_UINT(len, 29);
    T_EQ_UINT(out[0], 0x45);
    T_EQ_UINT(out[2] << 8 | out[3], 29);
    T_EQ_UINT(out[9], 17);
    T_EQ_UINT(csum16(out, 20), 0);
    T_EQ_HEX(out + 12, 8, "c0000201c0000202");
    T_EQ_HEX(out + 20, 6, "11948235 0009");
    T_EQ_UINT(out[28], 0xff);
    /* inbound SA: PARAM */
    p.dir = IMSSEC_ESP_INBOUND;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_esp_keepalive_build(&sa, out, sizeof out, &len), IMSSEC_E_PARAM);
    /* byte for byte, dport 4500 */
    {
        imssec_esp_params p;
        imssec_esp_sa sa;
        uint8_t out[64];
        size_t n;
        imssec_esp_params_init(&p);
        p.spi = 0x3001;
        p.mode = IMSSEC_MODE_UDP_ENC_TUN;
        p.auth_key = pk_ak;
        p.auth_key_len = 20;
        p.src.len = p.dst.len = 4;
        t_unhex("c0000201", p.src.b, 4);
        t_unhex("c0000202", p.dst.b, 4);
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
        T_EQ_INT(imssec_esp_keepalive_build(&sa, out, 28, &n), IMSSEC_E_SPACE);
        T_EQ_UINT(n, 29);
        T_EQ_INT(imssec_esp_keepalive_build(&sa, out, sizeof out, &n), IMSSEC_OK);
        T_EQ_UINT(n, 29);
        T_EQ_HEX(out, 29, "4500001d000040004011b6ccc0000201c0000202" "11941194000959afff");
        imssec_esp_sa_wipe(&sa);
    }
}

/* The keepalive timer (RFC 3948 2.3, TS 33.203 M.7.2): 20 s by default,
 * restarted by traffic, a clock going back ignored. */
T_TEST(esp_rfc3948_2_3_keepalive_timer)
{
    imssec_esp_keepalive k;
    /* timer: 20 s default, restarted by traffic, clock going back ignored */
    imssec_esp_keepalive_init(&k, 0, 1000);
    T_EQ_UINT(k.interval_ms, 20000);
    T_EQ_INT(imssec_esp_keepalive_due(&k, 20999), 0);
    T_EQ_INT(imssec_esp_keepalive_due(&k, 21000), 1);
    T_EQ_INT(imssec_esp_keepalive_due(&k, 21001), 0);
    imssec_esp_keepalive_sent(&k, 30000);
    T_EQ_INT(imssec_esp_keepalive_due(&k, 41000), 0);
    T_EQ_INT(imssec_esp_keepalive_due(&k, 50000), 1);
    T_EQ_INT(imssec_esp_keepalive_due(&k, 10), 0);
}

/* A port-4500 socket receiver: demux the UDP payload, then unprotect the
 * ESP part alone; keepalives and IKE never reach the SA. */
T_TEST(esp_udp_socket_receive_path)
{
    static uint8_t pt[200], pkt[400], out[400];
    imssec_esp_sa o, in;
    size_t n, plen, olen, off = 0;
    int kind = -1;
    uint32_t spi = 0;
    if (!IMSSEC_ENABLE_UDPENCAP || !IMSSEC_ENABLE_IPV6)
        T_SKIP("UDP encapsulation or IPv6 compiled out");
    T_EQ_INT(pk_sa(&o, IMSSEC_ESP_OUTBOUND, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
                   IMSSEC_EALG_AES_CBC, 4),
             IMSSEC_OK);
    T_EQ_INT(pk_sa(&in, IMSSEC_ESP_INBOUND, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
                   IMSSEC_EALG_AES_CBC, 4),
             IMSSEC_OK);
    n = pk_packet(pt, 6, 77);
    T_EQ_INT(imssec_esp_protect(&o, NULL, pk_ek, pt, n, pkt, sizeof pkt, &plen, NULL), IMSSEC_OK);
    /* the socket sees the datagram from the UDP header on */
    T_EQ_INT(imssec_esp_udp_demux(pkt + 20, plen - 20, &kind, &spi, &off), IMSSEC_OK);
    T_EQ_INT(kind, IMSSEC_ESP_UDP_ESP);
    T_EQ_UINT(spi, 0xc0ffee);
    T_EQ_INT(imssec_esp_unprotect_esp(&in, pkt + 20 + off, plen - 28, out, sizeof out, &olen,
                                      NULL, NULL),
             IMSSEC_OK);
    T_EQ_UINT(olen, n);
    T_EQ_MEM(out, pt, n);
    /* replayed through the socket path too */
    T_EQ_INT(imssec_esp_unprotect_esp(&in, pkt + 28, plen - 28, out, sizeof out, &olen, NULL, NULL),
             IMSSEC_E_REPLAY);
    /* the full-packet path refuses a keepalive / IKE datagram */
    {
        uint8_t ka[64];
        size_t kn;
        T_EQ_INT(imssec_esp_keepalive_build(&o, ka, sizeof ka, &kn), IMSSEC_OK);
        T_EQ_INT(imssec_esp_unprotect(&in, ka, kn, out, sizeof out, &olen, NULL, NULL),
                 IMSSEC_E_NOT_ESP);
    }
    /* transport SAs have no use for it */
    imssec_esp_sa_wipe(&o);
    T_EQ_INT(pk_sa(&o, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                   IMSSEC_EALG_AES_CBC, 4),
             IMSSEC_OK);
    T_EQ_INT(imssec_esp_unprotect_esp(&o, pkt + 28, plen - 28, out, sizeof out, &olen, NULL, NULL),
             IMSSEC_E_PARAM);
    imssec_esp_sa_wipe(&o);
    imssec_esp_sa_wipe(&in);
}

/* A NAT keepalive or an IKE packet handed to a UDP-tunnel SA's unprotect:
 * a verdict (NOT_ESP or MALFORMED), never OK. */
T_TEST(esp_rfc3948_2_udp_tunnel_non_esp)
{
    imssec_esp_params p;
    imssec_esp_sa out_sa, in_sa_;
    uint8_t ka[64], o[128], ike[64];
    size_t kl, len;
    int rc;
    mk_params(&p, IMSSEC_ESP_OUTBOUND, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
              IMSSEC_EALG_NULL, 4, 0x1234);
    if (!IMSSEC_ENABLE_UDPENCAP) {
        T_EQ_INT(imssec_esp_sa_setup(&out_sa, &p, NULL), IMSSEC_E_UNSUPPORTED);
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP=0)");
    }
    T_EQ_INT(imssec_esp_sa_setup(&out_sa, &p, NULL), IMSSEC_OK);
    mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
              IMSSEC_EALG_NULL, 4, 0x1234);
    T_EQ_INT(imssec_esp_sa_setup(&in_sa_, &p, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_esp_keepalive_build(&out_sa, ka, sizeof ka, &kl), IMSSEC_OK);
    rc = imssec_esp_unprotect(&in_sa_, ka, kl, o, sizeof o, &len, NULL, NULL);
    T_ASSERT(rc == IMSSEC_E_NOT_ESP || rc == IMSSEC_E_MALFORMED);
    /* IKE: non-ESP marker + 28 bytes */
    memcpy(ike, ka, 28);
    memset(ike + 28, 0, 4);
    memset(ike + 32, 0x11, 28);
    ike[2] = 0, ike[3] = 60;
    ike[24] = 0, ike[25] = 40;
    {
        uint16_t c;
        ike[10] = ike[11] = 0;
        c = csum16(ike, 20);
        ike[10] = (uint8_t)(c >> 8);
        ike[11] = (uint8_t)c;
    }
    rc = imssec_esp_unprotect(&in_sa_, ike, 60, o, sizeof o, &len, NULL, NULL);
    T_ASSERT(rc == IMSSEC_E_NOT_ESP || rc == IMSSEC_E_MALFORMED);
    T_EQ_UINT(imssec_esp_sa_stats(&in_sa_)->packets, 0);
}
