/*
 * esp_rfc4303_roundtrip.c -- esp/ outbound and the round trip through the
 * public API: every mode x family x algorithm x size (in place and out of
 * place, IP options and IPv6 extension headers, protect_size exact), the
 * IPv6 extension-header chain of RFC 4303 3.1.1, the headers protect
 * emits, IMSSEC_E_SPACE, refused input, a failing RNG, wipe, setup
 * validation, wrong SPI and direction.
 */

#include "esp_fixture.h"

T_TEST(esp_roundtrip_matrix)
{
    static const size_t sizes[] = {0, 1, 13, 14, 15, 16, 17, 100, 1400};
    static uint8_t pt[1600], pkt[1800], out[1800];
    int mode, auth, enc, fam, ifam, inplace;
    size_t si;
    for (mode = IMSSEC_MODE_TRANS; mode <= IMSSEC_MODE_UDP_ENC_TUN; mode++)
    for (auth = IMSSEC_ALG_HMAC_MD5_96; auth <= IMSSEC_ALG_HMAC_SHA1_96; auth++)
    for (enc = IMSSEC_EALG_NULL; enc <= IMSSEC_EALG_AES_CBC; enc++)
    for (fam = 4; fam <= 6; fam += 2)
    for (ifam = 4; ifam <= 6; ifam += 2)
    for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
    for (inplace = 0; inplace <= 1; inplace++) {
        imssec_esp_sa o, in;
        size_t n, plen, olen, al = enc == IMSSEC_EALG_AES_CBC ? 16 : enc ? 8 : 4;
        size_t ivl = enc == IMSSEC_EALG_AES_CBC ? 16 : enc ? 8 : 0;
        uint64_t seq = 0;
        if (mode == IMSSEC_MODE_TRANS && ifam != fam)
            continue;
        if ((!IMSSEC_ENABLE_IPV6 && (fam == 6 || ifam == 6)) ||
            (!IMSSEC_ENABLE_UDPENCAP && mode == IMSSEC_MODE_UDP_ENC_TUN) ||
            (!IMSSEC_ENABLE_3DES && enc == IMSSEC_EALG_DES_EDE3_CBC) ||
            (!IMSSEC_ENABLE_HMAC_MD5 && auth == IMSSEC_ALG_HMAC_MD5_96))
            continue; /* compiled out */
        if ((mode != IMSSEC_MODE_TRANS && sizes[si] == 1400 && (si & 1)))
            continue;
        T_EQ_INT(pk_sa(&o, IMSSEC_ESP_OUTBOUND, mode, auth, enc, fam), IMSSEC_OK);
        T_EQ_INT(pk_sa(&in, IMSSEC_ESP_INBOUND, mode, auth, enc, fam), IMSSEC_OK);
        n = pk_packet(pt, mode == IMSSEC_MODE_TRANS ? fam : ifam, sizes[si]);
        memcpy(pkt, pt, n);
        {
            imssec_io io;
            memset(&io, 0, sizeof io);
            io.random = t_io_random;
            T_EQ_INT(imssec_esp_protect(&o, &io, NULL, pkt, n, inplace ? pkt : out,
                                        sizeof pkt, &plen, NULL),
                     IMSSEC_OK);
            if (!inplace)
                memcpy(pkt, out, plen);
        }
        T_EQ_UINT(plen, imssec_esp_protect_size(&o, pt, n));
        T_ASSERT(plen <= n + IMSSEC_ESP_OVERHEAD_MAX);
        {   /* the encrypted part is aligned, the outer header is consistent */
            size_t outer = mode == IMSSEC_MODE_TRANS ? (fam == 4 ? 20 : 40)
                           : (fam == 4 ? 20 : 40) + (mode == IMSSEC_MODE_UDP_ENC_TUN ? 8 : 0);
            T_EQ_UINT((plen - outer - 8 - ivl - 12) % al, 0);
            if (fam == 4)
                T_EQ_UINT((size_t)pkt[2] << 8 | pkt[3], plen);
            else
                T_EQ_UINT(((size_t)pkt[4] << 8 | pkt[5]) + 40, plen);
            T_EQ_UINT((uint32_t)pkt[outer] << 24 | (uint32_t)pkt[outer + 1] << 16 |
                          (uint32_t)pkt[outer + 2] << 8 | pkt[outer + 3],
                      0xc0ffee);
        }
        T_EQ_INT(imssec_esp_unprotect(&in, pkt, plen, inplace ? pkt : out, sizeof out, &olen,
                                      &seq, NULL),
                 IMSSEC_OK);
        T_EQ_UINT(olen, n);
        T_EQ_MEM(inplace ? pkt : out, pt, n);
        T_EQ_UINT(seq, 1);
        T_EQ_UINT(imssec_esp_sa_stats(&in)->packets, 1);
        T_EQ_UINT(imssec_esp_sa_stats(&in)->bytes, n);
        imssec_esp_sa_wipe(&o);
        imssec_esp_sa_wipe(&in);
    }
}

/* Round trips for every algorithm combination, mode, family and many sizes;
 * protect_size is exact; transport restores the packet bit for bit. */
T_TEST(esp_rfc4303_roundtrip_all_ip_options)
{
    static const int auths[] = {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_ALG_HMAC_SHA1_96};
    static const int encs[] = {IMSSEC_EALG_NULL, IMSSEC_EALG_DES_EDE3_CBC,
                               IMSSEC_EALG_AES_CBC};
    static const int modes[] = {IMSSEC_MODE_TRANS, IMSSEC_MODE_TUN, IMSSEC_MODE_UDP_ENC_TUN};
    static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1400};
    size_t a, e, mo, f, s, v;
    for (a = 0; a < 2; a++)
        for (e = 0; e < 3; e++)
            for (mo = 0; mo < 3; mo++)
                for (f = 0; f < 2; f++) {
                    esp_pair sp;
                    int fam = f ? 6 : 4;
                    if (!esp_built(modes[mo], auths[a], encs[e], fam)) {
                        T_ASSERT(esp_unbuilt_refused(modes[mo], auths[a], encs[e], fam));
                        continue;
                    }
                    T_EQ_INT(mk_pair(&sp, modes[mo], auths[a], encs[e], fam, 0, 0, 0), IMSSEC_OK);
                    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
                        for (v = 0; v < 3; v++) {
                            uint8_t pkt[1600], prot[1800], back[1800];
                            size_t n, need, pn, bn;
                            uint64_t sq = 0;
                            int rc;
                            if (fam == 4)
                                n = mk_v4(pkt, sizes[s], v == 1 ? 4 : v == 2 ? 8 : 0);
                            else
                                n = mk_v6(pkt, sizes[s], v >= 1, v == 2);
                            need = imssec_esp_protect_size(&sp.out, pkt, n);
                            T_ASSERT(need > n && need <= n + IMSSEC_ESP_OVERHEAD_MAX);
                            rc = imssec_esp_protect(&sp.out, &esp_io, NULL, pkt, n, prot,
                                                    sizeof prot, &pn, NULL);
                            if (rc != IMSSEC_OK) {
                                t_fail_(__FILE__, __LINE__, "protect a%zu e%zu m%zu v%d s%zu: %d",
                                        a, e, mo, fam, sizes[s], rc);
                                return;
                            }
                            T_EQ_UINT(pn, need);
                            rc = imssec_esp_unprotect(&sp.in, prot, pn, back, sizeof back, &bn, &sq, NULL);
                            if (rc != IMSSEC_OK) {
                                t_fail_(__FILE__, __LINE__,
                                        "unprotect a%zu e%zu m%zu v%d s%zu var%zu: %d", a, e, mo,
                                        fam, sizes[s], v, rc);
                                return;
                            }
                            T_EQ_UINT(sq, imssec_esp_sa_seq(&sp.out));
                            if (bn != n || memcmp(back, pkt, n) != 0) {
                                t_fail_(__FILE__, __LINE__,
                                        "round trip differs a%zu e%zu m%zu v%d s%zu var%zu", a, e,
                                        mo, fam, sizes[s], v);
                                T_EQ_MEM(back, pkt, n < bn ? n : bn);
                                return;
                            }
                        }
                    T_EQ_UINT(imssec_esp_sa_stats(&sp.in)->packets, imssec_esp_sa_stats(&sp.out)->packets);
                    T_EQ_UINT(drops(imssec_esp_sa_stats(&sp.in)), 0);
                }
}

/* RFC 4303 3.1.1: ESP after hop-by-hop, destination options (because a
 * routing header follows) and routing; the second destination options
 * header is protected.  Chain: IPv6 | HBH | DST | RT | DST | UDP. */
T_TEST(esp_ipv6_extension_chain)
{
    uint8_t pt[200], pkt[300], out[300];
    imssec_esp_sa o, in;
    size_t n = 40 + 32 + 8 + 5, plen, olen;
    if (!IMSSEC_ENABLE_IPV6)
        T_SKIP("IPv6 compiled out");
    memset(pt, 0, sizeof pt);
    pt[0] = 0x60;
    pt[4] = 0;
    pt[5] = (uint8_t)(n - 40);
    pt[6] = 0; /* HBH */
    pt[7] = 64;
    pt[8] = 0xfd, pt[23] = 1, pt[24] = 0xfd, pt[39] = 2;
    pt[40] = 60, pt[41] = 0, pt[42] = 1, pt[43] = 4;  /* HBH -> DST, PadN(4) */
    pt[48] = 43, pt[49] = 0, pt[50] = 1, pt[51] = 4;  /* DST -> RT */
    pt[56] = 60, pt[57] = 0, pt[58] = 4, pt[59] = 0;  /* RT (type 4, 0 segments) -> DST */
    pt[64] = 17, pt[65] = 0, pt[66] = 1, pt[67] = 4;  /* DST -> UDP */
    pt[72] = 0x13, pt[73] = 0xc4, pt[74] = 0x13, pt[75] = 0xc6, pt[77] = 13;
    memcpy(pt + 80, "hello", 5);
    T_EQ_INT(pk_sa(&o, IMSSEC_ESP_OUTBOUND, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                   IMSSEC_EALG_AES_CBC, 6),
             IMSSEC_OK);
    T_EQ_INT(pk_sa(&in, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                   IMSSEC_EALG_AES_CBC, 6),
             IMSSEC_OK);
    T_EQ_INT(imssec_esp_protect(&o, NULL, pk_ek, pt, n, pkt, sizeof pkt, &plen, NULL), IMSSEC_OK);
    T_EQ_MEM(pkt, pt, 4);               /* version, class, flow */
    T_EQ_MEM(pkt + 6, pt + 6, 56 - 6);  /* addresses, HBH, DST unchanged ... */
    T_EQ_UINT(pkt[56], 50);             /* ... RT now points to ESP */
    T_EQ_MEM(pkt + 57, pt + 57, 7);
    T_EQ_HEX(pkt + 64, 4, "00c0ffee");  /* ESP right after RT */
    /* payload: 8 (DST) + 13 (UDP) + 2 -> 32 (AES) */
    T_EQ_UINT(plen, 64 + 8 + 16 + 32 + 12);
    T_EQ_INT(imssec_esp_unprotect(&in, pkt, plen, out, sizeof out, &olen, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(olen, n);
    T_EQ_MEM(out, pt, n);
    /* a fragment header before ESP is refused on both sides */
    pt[64] = 44;
    pt[56] = 44;
    T_EQ_INT(imssec_esp_protect(&o, NULL, pk_ek, pt, n, pkt, sizeof pkt, &plen, NULL),
             IMSSEC_E_UNSUPPORTED);
    imssec_esp_sa_wipe(&o);
    imssec_esp_sa_wipe(&in);
}

/* IPv6 transport with HBH, DST, Routing, DST before UDP (RFC 4303 3.1.1):
 * ESP after the routing header, the last DST inside; round trip exact, and
 * the protected packet's chain reaches ESP (50) after the routing header. */
T_TEST(esp_rfc4303_3_1_1_ipv6_ext_chain_routing_type0)
{
    uint8_t pkt[256], prot[512], back[512];
    size_t n = 0, pn, bn, off;
    esp_pair a;
    int i;
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0x60;
    pkt[6] = 0;   /* HBH */
    pkt[7] = 64;
    pkt[8] = 0x20, pkt[9] = 0x01, pkt[23] = 1;
    pkt[24] = 0x20, pkt[25] = 0x01, pkt[39] = 2;
    off = 40;
    pkt[off] = 60, pkt[off + 1] = 0, pkt[off + 2] = 1, pkt[off + 3] = 4; /* HBH -> DST */
    off += 8;
    pkt[off] = 43, pkt[off + 1] = 0, pkt[off + 2] = 1, pkt[off + 3] = 4; /* DST -> RH */
    off += 8;
    pkt[off] = 60, pkt[off + 1] = 2, pkt[off + 2] = 0, pkt[off + 3] = 0;  /* RH type 0, 1 addr */
    pkt[off + 8] = 0x20, pkt[off + 9] = 0x01, pkt[off + 23] = 2;
    off += 24;
    pkt[off] = 17, pkt[off + 1] = 0, pkt[off + 2] = 1, pkt[off + 3] = 4; /* DST -> UDP */
    off += 8;
    pkt[off] = 0x13, pkt[off + 1] = 0x88, pkt[off + 2] = 0x13, pkt[off + 3] = 0x89;
    pkt[off + 5] = 8 + 20;
    for (i = 0; i < 20; i++)
        pkt[off + 8 + i] = (uint8_t)i;
    n = off + 28;
    pkt[4] = (uint8_t)((n - 40) >> 8);
    pkt[5] = (uint8_t)(n - 40);
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
                     6, 0, 0, 0), IMSSEC_OK);
    if (!IMSSEC_ENABLE_IPV6) {
        T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL),
                 IMSSEC_E_UNSUPPORTED);
        T_SKIP("IPv6 compiled out (IMSSEC_ENABLE_IPV6=0)");
    }
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    /* HBH(0) -> DST(60) -> RH(43) -> ESP(50) */
    T_EQ_UINT(prot[6], 0);
    T_EQ_UINT(prot[40], 60);
    T_EQ_UINT(prot[48], 43);
    T_EQ_UINT(prot[56], 50);
    T_EQ_UINT((size_t)(prot[4] << 8 | prot[5]) + 40, pn);
    T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, back, sizeof back, &bn, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(bn, n);
    T_EQ_MEM(back, pkt, n);
}

static uint16_t udp6_csum(const uint8_t *ip6, const uint8_t *udp, size_t ulen)
{
    uint8_t buf[2048];
    size_t n = 0;
    memcpy(buf, ip6 + 8, 32);
    n = 32;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = (uint8_t)(ulen >> 8), buf[n++] = (uint8_t)ulen;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = 0, buf[n++] = 17;
    memcpy(buf + n, udp, ulen);
    n += ulen;
    return csum16(buf, n);
}

/* Header fields of what protect emits: IPv4 checksums valid (transport and
 * tunnel), tunnel outer TTL 64 / ID = seq / DF and TOS copied; RFC 3948
 * UDP: IPv4 checksum 0, IPv6 checksum correct (RFC 8200 8.1 forbids 0);
 * the IPv6 keepalive too. */
T_TEST(esp_emitted_headers_and_checksums)
{
    esp_pair a;
    uint8_t pkt[200], prot[400], ka[128];
    size_t n, pn, kl;
    /* transport v4 */
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
                     4, 0, 0, 0), IMSSEC_OK);
    n = mk_v4(pkt, 40, 4);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    T_EQ_UINT(csum16(prot, 24), 0);
    T_EQ_UINT(prot[9], 50);
    T_EQ_UINT(prot[8], 61);
    T_EQ_HEX(prot + 4, 2, "1234");
    /* tunnel v4 */
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TUN, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, 4,
                     0, 0x10203, 0), IMSSEC_OK);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    T_EQ_UINT(prot[0], 0x45);
    T_EQ_UINT(csum16(prot, 20), 0);
    T_EQ_UINT(prot[8], 64);
    T_EQ_UINT(prot[1], 0x10);        /* TOS copied */
    T_EQ_UINT(prot[6] & 0x40, 0x40); /* DF copied */
    T_EQ_HEX(prot + 4, 2, "0204");   /* ID = low 16 bits of seq 0x10204 */
    T_EQ_UINT((size_t)(prot[2] << 8 | prot[3]), pn);
    /* the rest is UDP encapsulation (RFC 3948); a build without it refuses
     * the mode, and the transport / tunnel headers above are all there is */
    if (!IMSSEC_ENABLE_UDPENCAP) {
        T_EQ_INT(mk_pair(&a, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
                         IMSSEC_EALG_AES_CBC, 4, 0, 0, 0), IMSSEC_E_UNSUPPORTED);
        return;
    }
    /* UDP tunnel v4: checksum 0 */
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
                     IMSSEC_EALG_AES_CBC, 4, 0, 0, 0), IMSSEC_OK);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    T_EQ_UINT(prot[9], 17);
    T_EQ_HEX(prot + 20, 4, "11941194");
    T_EQ_UINT((size_t)(prot[24] << 8 | prot[25]), pn - 20);
    T_EQ_HEX(prot + 26, 2, "0000");
    T_EQ_HEX(prot + 28, 4, "00001234");
    if (!IMSSEC_ENABLE_IPV6) { /* no IPv6 outer header to build */
        T_EQ_INT(mk_pair(&a, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
                         IMSSEC_EALG_AES_CBC, 6, 0, 0, 0), IMSSEC_E_UNSUPPORTED);
        return;
    }
    /* UDP tunnel v6: checksum computed */
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96,
                     IMSSEC_EALG_AES_CBC, 6, 0, 0, 0), IMSSEC_OK);
    n = mk_v6(pkt, 40, 0, 0);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    T_EQ_UINT(prot[6], 17);
    T_EQ_UINT(prot[7], 64);
    T_ASSERT(prot[46] != 0 || prot[47] != 0);
    T_EQ_UINT(udp6_csum(prot, prot + 40, pn - 40), 0);
    T_EQ_INT(imssec_esp_keepalive_build(&a.out, ka, sizeof ka, &kl), IMSSEC_OK);
    T_EQ_UINT(kl, 49);
    T_EQ_UINT(ka[6], 17);
    T_EQ_UINT(ka[48], 0xff);
    T_EQ_HEX(ka + 44, 2, "0009");
    T_ASSERT(ka[46] != 0 || ka[47] != 0);
    T_EQ_UINT(udp6_csum(ka, ka + 40, 9), 0);
}

/* protect: E_SPACE with the exact need, nothing written, seq unchanged;
 * in-place works and equals out-of-place with the same IV. */
T_TEST(esp_protect_space_and_inplace)
{
    esp_pair a, b;
    uint8_t pkt[200], out[400], canary[400], inpl[400];
    uint8_t iv[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    size_t n, need, len = 0;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
                     4, 0, 0, 0), IMSSEC_OK);
    memcpy(&b, &a, sizeof a);
    n = mk_v4(pkt, 50, 0);
    need = imssec_esp_protect_size(&a.out, pkt, n);
    memset(out, 0xA5, sizeof out);
    memcpy(canary, out, sizeof out);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, iv, pkt, n, out, need - 1, &len, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(len, need);
    T_EQ_MEM(out, canary, sizeof out);
    T_EQ_UINT(imssec_esp_sa_seq(&a.out), 0);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, iv, pkt, n, out, need, &len, NULL), IMSSEC_OK);
    T_EQ_UINT(len, need);
    T_EQ_UINT(out[need], 0xA5);
    memset(inpl, 0, sizeof inpl);
    memcpy(inpl, pkt, n);
    T_EQ_INT(imssec_esp_protect(&b.out, &esp_io, iv, inpl, n, inpl, sizeof inpl, &len, NULL), IMSSEC_OK);
    T_EQ_UINT(len, need);
    T_EQ_MEM(inpl, out, need);
    /* unprotect in place */
    T_EQ_INT(imssec_esp_unprotect(&b.in, inpl, len, inpl, sizeof inpl, &len, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(len, n);
    T_EQ_MEM(inpl, pkt, n);
}

/* In place with too little room: SPACE, the buffer untouched (3DES-CBC,
 * or AES-CBC where 3DES is compiled out). */
T_TEST(esp_protect_inplace_space)
{
    esp_pair a;
    uint8_t buf[400], copy[400];
    size_t n, need, len = 0;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, ESP_ENC_3DES_OR_AES,
                     4, 0, 0, 0), IMSSEC_OK);
    memset(buf, 0x77, sizeof buf);
    n = mk_v4(buf, 50, 0);
    memcpy(copy, buf, sizeof buf);
    need = imssec_esp_protect_size(&a.out, buf, n);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, buf, n, buf, need - 1, &len, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(len, need);
    T_EQ_MEM(buf, copy, sizeof buf);
    T_EQ_UINT(imssec_esp_sa_seq(&a.out), 0);
}

/* unprotect: out_cap < in_len is E_SPACE and nothing changes. */
T_TEST(esp_unprotect_space)
{
    esp_pair a;
    uint8_t pkt[200], prot[400], out[400], canary[400];
    size_t n, pn, len = 0;
    imssec_esp_sa before;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, ESP_AUTH_MD5_OR_SHA1, ESP_ENC_3DES_OR_AES, 4, 0, 0,
                     0), IMSSEC_OK);
    n = mk_v4(pkt, 20, 0);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    memset(out, 0xA5, sizeof out);
    memcpy(canary, out, sizeof out);
    memcpy(&before, &a.in, sizeof before);
    T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, out, pn - 1, &len, NULL, NULL), IMSSEC_E_SPACE);
    T_EQ_MEM(out, canary, sizeof out);
    T_ASSERT(sa_same_but_stats(&a.in, &before));
    T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, out, pn, &len, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(len, n);
}

/* A large IPv4 packet whose protected form exceeds 65535 bytes cannot be
 * represented (IPv4 total length is 16 bits): refused, never a wrapped
 * length field.  Same for IPv6 without jumbograms. */
T_TEST(esp_protect_length_overflow)
{
    static uint8_t pkt[65536], out[65536 + 256];
    static const int modes[] = {IMSSEC_MODE_TRANS, IMSSEC_MODE_TUN, IMSSEC_MODE_UDP_ENC_TUN};
    size_t mo, f;
    for (mo = 0; mo < 3; mo++)
        for (f = 0; f < 2; f++) {
            esp_pair a;
            size_t n, len = 0, sz;
            int rc, fam = f ? 6 : 4;
            if (!esp_built(modes[mo], IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, fam)) {
                T_ASSERT(esp_unbuilt_refused(modes[mo], IMSSEC_ALG_HMAC_SHA1_96,
                                             IMSSEC_EALG_AES_CBC, fam));
                continue;
            }
            T_EQ_INT(mk_pair(&a, modes[mo], IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
                             fam, 0, 0, 0), IMSSEC_OK);
            if (fam == 4) {
                n = mk_v4(pkt, 65535 - 28 - 40, 0); /* 65495 bytes */
            } else {
                n = mk_v6(pkt, 65535 - 8 - 40, 0, 0); /* payload length 65495 */
            }
            sz = imssec_esp_protect_size(&a.out, pkt, n);
            rc = imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, out, sizeof out, &len, NULL);
            if (rc == IMSSEC_OK) {
                size_t field = fam == 4 ? (size_t)(out[2] << 8 | out[3])
                                        : (size_t)(out[4] << 8 | out[5]) + 40;
                if (len > 65535 + (fam == 6 ? 40u : 0u) || field != len) {
                    t_fail_(__FILE__, __LINE__,
                            "mode %d v%d: %zu-byte packet protected to %zu bytes, length field "
                            "says %zu",
                            modes[mo], fam, n, len, field);
                    continue;
                }
            } else {
                T_EQ_UINT(sz, 0);
                T_EQ_UINT(imssec_esp_sa_seq(&a.out), 0);
            }
        }
}

/* Outbound refuses non-IP input, fragments (transport) and lengths that
 * disagree with the buffer; nothing written, seq unchanged. */
T_TEST(esp_protect_rejects_bad_input)
{
    esp_pair a;
    uint8_t pkt[200], bad[200], out[400], canary[400];
    size_t n, len;
    int rc;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                     IMSSEC_EALG_AES_CBC, 4, 0, 0, 0), IMSSEC_OK);
    n = mk_v4(pkt, 30, 0);
    memset(out, 0xA5, sizeof out);
    memcpy(canary, out, sizeof out);
    memcpy(bad, pkt, n);
    bad[0] = 0x55; /* version 5 */
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, bad, n, out, sizeof out, &len, NULL),
             IMSSEC_E_MALFORMED);
    memcpy(bad, pkt, n);
    bad[3] = (uint8_t)(n + 1); /* total length beyond the buffer */
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, bad, n, out, sizeof out, &len, NULL),
             IMSSEC_E_MALFORMED);
    memcpy(bad, pkt, n);
    bad[0] = 0x44; /* IHL 4 */
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, bad, n, out, sizeof out, &len, NULL),
             IMSSEC_E_MALFORMED);
    memcpy(bad, pkt, n);
    bad[6] = 0x20; /* MF: a fragment */
    rc = imssec_esp_protect(&a.out, &esp_io, NULL, bad, n, out, sizeof out, &len, NULL);
    T_EQ_INT(rc, IMSSEC_E_UNSUPPORTED);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, 19, out, sizeof out, &len, NULL),
             IMSSEC_E_MALFORMED);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, 0, out, sizeof out, &len, NULL),
             IMSSEC_E_MALFORMED);
    T_EQ_MEM(out, canary, sizeof out);
    T_EQ_UINT(imssec_esp_sa_seq(&a.out), 0);
    T_EQ_UINT(imssec_esp_protect_size(&a.out, bad, n), 0);
}

static int fail_rng(void *u, uint8_t *o, size_t n)
{
    (void)u, (void)o, (void)n;
    return 1;
}

/* A failing RNG: E_CALLBACK, nothing written, seq unchanged. */
T_TEST(esp_protect_rng_failure)
{
    static const imssec_io bad_io = {NULL, fail_rng, NULL, NULL};
    esp_pair a;
    uint8_t pkt[200], out[400], canary[400];
    size_t n, len;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                     IMSSEC_EALG_AES_CBC, 4, 0, 0, 0), IMSSEC_OK);
    n = mk_v4(pkt, 30, 0);
    memset(out, 0xA5, sizeof out);
    memcpy(canary, out, sizeof out);
    T_EQ_INT(imssec_esp_protect(&a.out, &bad_io, NULL, pkt, n, out, sizeof out, &len, NULL),
             IMSSEC_E_CALLBACK);
    T_EQ_MEM(out, canary, sizeof out);
    T_EQ_UINT(imssec_esp_sa_seq(&a.out), 0);
    T_EQ_UINT(imssec_esp_sa_stats(&a.out)->packets, 0);
}

/* Wipe: every byte of the SA is zero and the SA refuses further use
 * (a 3DES SA, or AES-CBC where 3DES is compiled out). */
T_TEST(esp_sa_wipe_zeroes_and_refuses)
{
    esp_pair a;
    static const imssec_esp_sa zero;
    uint8_t pkt[100], out[300];
    size_t n, len;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, ESP_ENC_3DES_OR_AES,
                     4, 0, 0, 0), IMSSEC_OK);
    n = mk_v4(pkt, 10, 0);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, out, sizeof out, &len, NULL), IMSSEC_OK);
    imssec_esp_sa_wipe(&a.out);
    T_EQ_MEM(&a.out, &zero, sizeof zero);
    T_ASSERT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, out, sizeof out, &len, NULL) != IMSSEC_OK);
    T_EQ_UINT(imssec_esp_protect_size(&a.out, pkt, n), 0);
    imssec_esp_sa_wipe(&a.in);
    T_ASSERT(imssec_esp_unprotect(&a.in, out, len, out, sizeof out, &len, NULL, NULL) != IMSSEC_OK);
}

/* Setup validation: SPI 0 is reserved (RFC 4303 2.1), key lengths must fit
 * the algorithms, tunnel mode needs addresses of one family (UNSUPPORTED
 * where IPv6 is compiled out), neither integrity nor encryption is refused,
 * an unknown algorithm too; the replay window is a power of two up to the
 * build's IMSSEC_REPLAY_WINDOW_MAX.  The SA is zeroed on error. */
T_TEST(esp_rfc4303_2_1_setup_rejects)
{
    imssec_esp_sa sa;
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 1;
    p.auth_key = pk_ak;
    p.auth_key_len = 20;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
    p.spi = 0;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
    T_EQ_UINT(imssec_esp_sa_spi(&sa), 0); /* zeroed on error */
    p.spi = 1;
    p.auth_key_len = 16; /* SHA-1 wants 20 */
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
    p.auth_key_len = 20;
    p.ealg = IMSSEC_EALG_AES_CBC;
    p.enc_key = pk_ek;
    p.enc_key_len = 24;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
    p.enc_key_len = 16;
    p.mode = IMSSEC_MODE_TUN; /* no addresses */
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
    p.src.len = 4;
    p.dst.len = 16; /* mixed families; UNSUPPORTED when IPv6 is compiled out */
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL),
             IMSSEC_ENABLE_IPV6 ? IMSSEC_E_PARAM : IMSSEC_E_UNSUPPORTED);
    p.dst.len = 4;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
    p.alg = IMSSEC_ALG_NULL;
    p.ealg = IMSSEC_EALG_NULL;
    p.enc_key_len = 0;
    p.auth_key_len = 0;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM); /* neither */
    p.alg = 9;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
    imssec_esp_sa_wipe(&sa);

    /* AES-CBC + HMAC-SHA-1-96 inbound: SPI, windows, key lengths, families */
    {
        imssec_esp_params p;
        imssec_esp_sa sa;
        static const uint32_t badw[] = {0, 16, 31, 48, 65, 96, 8192, 0x80000000u};
        size_t i;
        mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                  IMSSEC_EALG_AES_CBC, 4, 0);
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
        p.spi = 1;
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
        for (i = 0; i < sizeof badw / sizeof badw[0]; i++) {
            p.replay_window = badw[i];
            if (imssec_esp_sa_setup(&sa, &p, NULL) != IMSSEC_E_PARAM) {
                t_fail_(__FILE__, __LINE__, "window %u accepted", (unsigned)badw[i]);
                return;
            }
        }
        p.replay_window = 64;
        p.auth_key_len = 16;
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
        p.auth_key_len = 20;
        p.enc_key_len = 24;
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
        p.enc_key_len = 16;
        p.alg = IMSSEC_ALG_NULL;
        p.auth_key_len = 0;
        p.ealg = IMSSEC_EALG_NULL;
        p.enc_key_len = 0;
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
        /* the build's own bound: its maximum is taken, twice that is not */
        mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                  IMSSEC_EALG_AES_CBC, 4, 5);
        p.replay_window = IMSSEC_REPLAY_WINDOW_MAX;
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
        p.replay_window = 2u * IMSSEC_REPLAY_WINDOW_MAX;
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
        /* mixed families; where IPv6 is compiled out, an IPv6 address at all is
         * refused as UNSUPPORTED before the mismatch is looked at */
        mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TUN, IMSSEC_ALG_HMAC_SHA1_96,
                  IMSSEC_EALG_AES_CBC, 4, 5);
        p.dst.len = 16;
        T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_ENABLE_IPV6 ? IMSSEC_E_PARAM : IMSSEC_E_UNSUPPORTED);
    }
}

/* Wrong SPI and wrong direction. */
T_TEST(esp_wrong_spi_and_direction)
{
    esp_pair a;
    uint8_t pkt[200], prot[400], out[400];
    size_t n, pn, len;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL, 4,
                     0, 0, 0), IMSSEC_OK);
    n = mk_v4(pkt, 10, 0);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    T_EQ_UINT(imssec_esp_protect_size(&a.in, pkt, n), 0);
    T_ASSERT(imssec_esp_unprotect(&a.out, prot, pn, out, sizeof out, &len, NULL, NULL) != IMSSEC_OK);
    T_ASSERT(imssec_esp_protect(&a.in, &esp_io, NULL, pkt, n, out, sizeof out, &len, NULL) != IMSSEC_OK);
    prot[23] ^= 1;
    /* imssec.h: a wrong SPI is IMSSEC_E_NO_SA, counted in stats.no_sa */
    T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_E_NO_SA);
    T_EQ_UINT(imssec_esp_sa_stats(&a.in)->no_sa, 1);
    T_EQ_UINT(imssec_esp_sa_stats(&a.in)->malformed, 0);
    prot[23] ^= 1;
    /* not ESP: protocol 17 */
    T_EQ_INT(imssec_esp_unprotect(&a.in, pkt, n, out, sizeof out, &len, NULL, NULL), IMSSEC_E_MALFORMED);
    T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_OK);
}
