/*
 * esp_rfc3948_udp_transport.c -- RFC 3948 UDP-encapsulated transport mode
 * (IMSSEC_MODE_UDP_ENC_TRANS) through the public API.
 *
 * Truth:
 *  - Known answers built independently of this library with python3-scapy
 *    2.5 (IP/IPv6/UDP/TCP headers, lengths and every checksum) and
 *    python3-cryptography (AES-128-CBC) + hmac/hashlib (HMAC-SHA-1-96); the
 *    ESP part assembled by hand per RFC 4303 (padding 1,2,3.., seq 1,
 *    SPI 0x4001, IV 20..2f, auth key 01..14, enc key 00 11 .. ff, UDP
 *    4500 -> 50123).  The generator, in short:
 *      inner = raw(IP(src="10.0.0.1", dst="10.0.0.2", id=0x1234, flags="DF",
 *                     ttl=64, tos=0x10) / UDP(sport=5060, dport=5060)   # or
 *                  TCP(sport=5060, dport=5061, seq=1000, ack=2000,
 *                      flags="PA", window=8192) / Raw(b"INVITE sip:..."))
 *         (IPv6: src 2001:db8::1 dst 2001:db8::2 hlim 64 tc 0x10)
 *      esp   = SPI|seq|IV|AES-CBC(l4 | pad | padlen | nh) ; + HMAC[:12]
 *      prot  = raw(IP(same fields, proto=17) / UDP(4500, 50123, chksum=0)
 *                  / Raw(esp))                 (IPv6: nh=17, checksum by scapy)
 *      nat   = prot with src rewritten to 192.0.2.77 (IPv6:
 *              2001:db8:ffff::77), IP / outer UDP checksums redone by scapy
 *      exp   = inner with the same src; RFC 3948 3.1.2: UDP/IPv4 checksum
 *              0, otherwise the transport checksum recomputed by scapy.
 *  - The inner checksum after unprotect is also checked by ud_l4_ok()
 *    below, an RFC 1071 sum written here independently of esp/.
 */
#include "../../imssec.h"
#include "../t.h"
#include "esp_state.h"

static const uint8_t ud_ak[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                  11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const uint8_t ud_ek[24] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                                  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static const uint8_t ud_iv[16] = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                  0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};

static int ud_sa(imssec_esp_sa *sa, int dir, int auth, int enc, uint16_t dport)
{
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 0x4001;
    p.dir = dir;
    p.mode = IMSSEC_MODE_UDP_ENC_TRANS;
    p.alg = auth;
    p.auth_key = ud_ak;
    p.auth_key_len = auth == IMSSEC_ALG_HMAC_MD5_96 ? 16 : 20;
    p.ealg = enc;
    p.enc_key = ud_ek;
    p.enc_key_len = enc == IMSSEC_EALG_AES_CBC ? 16 : enc == IMSSEC_EALG_NULL ? 0 : 24;
    p.sport = 4500;
    p.dport = dport;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

/* RFC 1071 one's-complement sum, independent of the library. */
static uint32_t ud_sum(uint32_t s, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    return s;
}
static uint16_t ud_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* 1 if the transport checksum of the IP packet p[0..n) (no extension
 * headers) is right: UDP over IPv4 with checksum 0 counts as right only if
 * zero_ok. */
static int ud_l4_ok(const uint8_t *p, size_t n, int zero_ok)
{
    int v6 = (p[0] >> 4) == 6;
    size_t h = v6 ? 40 : (size_t)(p[0] & 15) * 4, alen = v6 ? 16 : 4, l4 = n - h;
    uint8_t proto = v6 ? p[6] : p[9];
    size_t ck = proto == 17 ? 6 : 16;
    uint32_t s = 0;
    if (proto == 17 && !v6 && p[h + ck] == 0 && p[h + ck + 1] == 0)
        return zero_ok;
    s = ud_sum(s, p + (v6 ? 8 : 12), 2 * alen);
    s += proto;
    s += (uint32_t)l4;
    s = ud_sum(s, p + h, l4);
    return ud_fold(s) == 0xffff;
}

typedef struct ud_kat {
    const char *name, *inner, *prot, *nat, *exp;
} ud_kat;

static const ud_kat ud_kats[] = {
    {"v4_udp",
     "4510004012344000401114670a0000010a00000213c413c4002c99fd494e56495445207369703a626f6240"
     "696d732e6578616d706c65205349502f322e300d0a",
     "4510007012344000401114370a0000010a0000021194c3cb005c00000000400100000001202122232425"
     "262728292a2b2c2d2e2f5aa58100f3b499d52379bef31d9514aa64a8c1ccf85731f5f42ab2249fca60df"
     "66ecefa43ee8bd03a18e7921617958cf775f022751bd1efd19f81613",
     "451000701234400040115beac000024d0a0000021194c3cb005c00000000400100000001202122232425"
     "262728292a2b2c2d2e2f5aa58100f3b499d52379bef31d9514aa64a8c1ccf85731f5f42ab2249fca60df"
     "66ecefa43ee8bd03a18e7921617958cf775f022751bd1efd19f81613",
     "451000401234400040115c1ac000024d0a00000213c413c4002c0000494e56495445207369703a626f6240"
     "696d732e6578616d706c65205349502f322e300d0a"},
    {"v4_tcp",
     "4510004c12344000400614660a0000010a00000213c413c5000003e8000007d0501820001e570000494e"
     "56495445207369703a626f6240696d732e6578616d706c65205349502f322e300d0a",
     "4510008012344000401114270a0000010a0000021194c3cb006c00000000400100000001202122232425"
     "262728292a2b2c2d2e2f91445ee07fa84270b0ce61bfba9c5300046229288e1bb1d9a153591bfcdca1a0"
     "7f68da3e1057a0269621d7c49dd65728d2359b6d938fb83ccbe7163ad2223ba607fcad1577fb69cd52fb"
     "a111",
     "451000801234400040115bdac000024d0a0000021194c3cb006c00000000400100000001202122232425"
     "262728292a2b2c2d2e2f91445ee07fa84270b0ce61bfba9c5300046229288e1bb1d9a153591bfcdca1a0"
     "7f68da3e1057a0269621d7c49dd65728d2359b6d938fb83ccbe7163ad2223ba607fcad1577fb69cd52fb"
     "a111",
     "4510004c1234400040065c19c000024d0a00000213c413c5000003e8000007d050182000660a0000494e"
     "56495445207369703a626f6240696d732e6578616d706c65205349502f322e300d0a"},
    {"v6_udp",
     "61000000002c114020010db800000000000000000000000120010db80000000000000000000000021"
     "3c413c4002c528b494e56495445207369703a626f6240696d732e6578616d706c65205349502f322e30"
     "0d0a",
     "61000000005c114020010db800000000000000000000000120010db8000000000000000000000002119"
     "4c3cb005c6e220000400100000001202122232425262728292a2b2c2d2e2fea5f4abc885a3b3978624b"
     "68c45524143f9847de13d21fa666481e35b38dd537c9ddf3f49fa7cd9b52f674d640751cd280b39083d2"
     "61ed7ad54a835c",
     "61000000005c114020010db8ffff0000000000000000007720010db8000000000000000000000002119"
     "4c3cb005c6dac0000400100000001202122232425262728292a2b2c2d2e2fea5f4abc885a3b3978624b"
     "68c45524143f9847de13d21fa666481e35b38dd537c9ddf3f49fa7cd9b52f674d640751cd280b39083d2"
     "61ed7ad54a835c",
     "61000000002c114020010db8ffff0000000000000000007720010db80000000000000000000000021"
     "3c413c4002c5215494e56495445207369703a626f6240696d732e6578616d706c65205349502f322e30"
     "0d0a"},
    {"v6_tcp",
     "610000000038064020010db800000000000000000000000120010db80000000000000000000000021"
     "3c413c5000003e8000007d050182000d6e40000494e56495445207369703a626f6240696d732e657861"
     "6d706c65205349502f322e300d0a",
     "61000000006c114020010db800000000000000000000000120010db8000000000000000000000002119"
     "4c3cb006c86390000400100000001202122232425262728292a2b2c2d2e2f91445ee07fa84270b0ce61"
     "bfba9c5300012c42040c4a24dd401468f066b35563b450606a1e9a1a8f2571f138551703880f9fa818e6"
     "172b49e10889428d24a84133893debfe671b1533503eaf",
     "61000000006c114020010db8ffff0000000000000000007720010db8000000000000000000000002119"
     "4c3cb006c85c30000400100000001202122232425262728292a2b2c2d2e2f91445ee07fa84270b0ce61"
     "bfba9c5300012c42040c4a24dd401468f066b35563b450606a1e9a1a8f2571f138551703880f9fa818e6"
     "172b49e10889428d24a84133893debfe671b1533503eaf",
     "610000000038064020010db8ffff0000000000000000007720010db80000000000000000000000021"
     "3c413c5000003e8000007d050182000d66e0000494e56495445207369703a626f6240696d732e657861"
     "6d706c65205349502f322e300d0a"},
};

T_TEST(esp_udptr_minimal_config_unsupported)
{
    imssec_esp_sa sa;
    int rc = ud_sa(&sa, IMSSEC_ESP_OUTBOUND, IMSSEC_ALG_HMAC_SHA1_96,
                   IMSSEC_EALG_AES_CBC, 4500);
    if (IMSSEC_ENABLE_UDPENCAP) {
        T_EQ_INT(rc, IMSSEC_OK);
        imssec_esp_sa_wipe(&sa);
        return;
    }
    T_EQ_INT(rc, IMSSEC_E_UNSUPPORTED);
    T_SKIP("UDP encapsulation compiled out (setup refused it, as it must)");
}

/* Protect reproduces the scapy/cryptography packet; unprotect of the
 * NATted packet gives scapy's expected plaintext with the RFC 3948 3.1.2
 * checksum handling; both out of place and in place. */
T_TEST(esp_udptr_known_answer)
{
    size_t k;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out");
    for (k = 0; k < sizeof ud_kats / sizeof ud_kats[0]; k++) {
        const ud_kat *v = &ud_kats[k];
        uint8_t in[256], prot[256], nat[256], exp[256], out[256];
        size_t nin, nprot, nnat, nexp, olen = 0;
        uint64_t seq = 0;
        imssec_esp_sa o, i;
        int ip;
        if (v->name[1] == '6' && !IMSSEC_ENABLE_IPV6)
            continue;
        nin = t_unhex(v->inner, in, sizeof in);
        nprot = t_unhex(v->prot, prot, sizeof prot);
        nnat = t_unhex(v->nat, nat, sizeof nat);
        nexp = t_unhex(v->exp, exp, sizeof exp);
        T_EQ_INT(ud_sa(&o, IMSSEC_ESP_OUTBOUND, IMSSEC_ALG_HMAC_SHA1_96,
                       IMSSEC_EALG_AES_CBC, 50123), IMSSEC_OK);
        T_EQ_UINT(imssec_esp_protect_size(&o, in, nin), nprot);
        T_EQ_INT(imssec_esp_protect(&o, NULL, ud_iv, in, nin, out, sizeof out, &olen, NULL),
                 IMSSEC_OK);
        T_EQ_UINT(olen, nprot);
        T_EQ_MEM(out, prot, nprot);
        imssec_esp_sa_wipe(&o);
        T_ASSERT(ud_l4_ok(exp, nexp, 1)); /* the truth agrees with our checker */
        for (ip = 0; ip < 2; ip++) {
            uint8_t buf[256];
            T_EQ_INT(ud_sa(&i, IMSSEC_ESP_INBOUND, IMSSEC_ALG_HMAC_SHA1_96,
                           IMSSEC_EALG_AES_CBC, 50123), IMSSEC_OK);
            memcpy(buf, nat, nnat);
            olen = 0;
            T_EQ_INT(imssec_esp_unprotect(&i, buf, nnat, ip ? buf : out, ip ? sizeof buf
                                                                             : sizeof out,
                                          &olen, &seq, NULL),
                     IMSSEC_OK);
            T_EQ_UINT(olen, nexp);
            T_EQ_UINT(seq, 1);
            T_EQ_MEM(ip ? buf : out, exp, nexp);
            T_ASSERT(ud_l4_ok(ip ? buf : out, olen, 1));
            T_EQ_UINT(imssec_esp_sa_stats(&i)->packets, 1);
            imssec_esp_sa_wipe(&i);
        }
    }
}

/* Builds an IP packet (family fam, proto 17 or 6) with a right transport
 * checksum computed by ud_sum; returns its length. */
static size_t ud_build(uint8_t *p, int fam, int proto, size_t payload)
{
    size_t h = fam == 4 ? 20 : 40, l4h = proto == 17 ? 8 : 20, n = h + l4h + payload, i;
    size_t ck = proto == 17 ? 6 : 16, alen = fam == 4 ? 4 : 16;
    uint32_t s;
    memset(p, 0, n);
    if (fam == 4) {
        p[0] = 0x45, p[2] = (uint8_t)(n >> 8), p[3] = (uint8_t)n, p[4] = 7, p[6] = 0x40;
        p[8] = 64, p[9] = (uint8_t)proto;
        p[12] = 172, p[13] = 16, p[15] = 1, p[16] = 172, p[17] = 16, p[19] = 2;
        s = ud_fold(ud_sum(0, p, 20));
        p[10] = (uint8_t)(~s >> 8), p[11] = (uint8_t)~s;
    } else {
        p[0] = 0x60, p[4] = (uint8_t)((n - 40) >> 8), p[5] = (uint8_t)(n - 40);
        p[6] = (uint8_t)proto, p[7] = 64;
        p[8] = 0xfd, p[23] = 1, p[24] = 0xfd, p[39] = 2;
    }
    p[h] = 0x13, p[h + 1] = 0xc4, p[h + 2] = 0x13, p[h + 3] = 0xc5;
    if (proto == 17) {
        p[h + 4] = (uint8_t)((n - h) >> 8), p[h + 5] = (uint8_t)(n - h);
    } else {
        p[h + 12] = 0x50, p[h + 13] = 0x18, p[h + 14] = 0x20;
    }
    for (i = 0; i < payload; i++)
        p[h + l4h + i] = (uint8_t)(i * 7 + 3);
    s = ud_sum(0, p + (fam == 4 ? 12 : 8), 2 * alen) + (uint32_t)proto + (uint32_t)(n - h);
    s = (uint16_t)~ud_fold(ud_sum(s, p + h, n - h));
    if (s == 0 && proto == 17)
        s = 0xffff;
    p[h + ck] = (uint8_t)(s >> 8), p[h + ck + 1] = (uint8_t)s;
    return n;
}

/* IPv4/IPv6 x UDP/TCP x algorithms x sizes, in place and out of place:
 * without a NAT the plaintext comes back byte for byte, except the inner
 * UDP/IPv4 checksum, which RFC 3948 3.1.2 (option 4) sets to 0. */
T_TEST(esp_udptr_round_trip)
{
    static const int algs[][2] = {
        {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC},
        {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
        {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC}};
    static const size_t sizes[] = {0, 1, 13, 200};
    int fam, proto, ip;
    size_t a, z;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out");
    for (fam = 4; fam <= 6; fam += 2) {
        if (fam == 6 && !IMSSEC_ENABLE_IPV6)
            continue;
        for (proto = 6; proto <= 17; proto += 11)
            for (a = 0; a < sizeof algs / sizeof algs[0]; a++)
                for (z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
                    for (ip = 0; ip < 2; ip++) {
                        uint8_t pkt[400], buf[400], out[400], want[400];
                        size_t n, plen = 0, olen = 0, h = fam == 4 ? 20 : 40;
                        imssec_esp_sa o, i;
                        uint64_t seq = 0;
                        if ((algs[a][0] == IMSSEC_ALG_HMAC_MD5_96 &&
                             !IMSSEC_ENABLE_HMAC_MD5) ||
                            (algs[a][1] == IMSSEC_EALG_DES_EDE3_CBC && !IMSSEC_ENABLE_3DES))
                            continue;
                        n = ud_build(pkt, fam, proto, sizes[z]);
                        T_ASSERT(ud_l4_ok(pkt, n, 0));
                        T_EQ_INT(ud_sa(&o, IMSSEC_ESP_OUTBOUND, algs[a][0], algs[a][1], 4500),
                                 IMSSEC_OK);
                        T_EQ_INT(ud_sa(&i, IMSSEC_ESP_INBOUND, algs[a][0], algs[a][1], 4500),
                                 IMSSEC_OK);
                        memcpy(buf, pkt, n);
                        T_EQ_INT(imssec_esp_protect(&o, NULL, ud_iv, buf, n, ip ? buf : out,
                                                    400, &plen, NULL),
                                 IMSSEC_OK);
                        if (!ip)
                            memcpy(buf, out, plen);
                        /* outer: protocol 17, UDP 4500 -> 4500, right length */
                        T_EQ_UINT(buf[fam == 4 ? 9 : 6], 17);
                        T_EQ_UINT((size_t)buf[h + 4] << 8 | buf[h + 5], plen - h);
                        T_EQ_UINT((size_t)buf[h + 2] << 8 | buf[h + 3], 4500);
                        if (fam == 4) {
                            T_EQ_UINT(buf[h + 6] | buf[h + 7], 0);
                            T_EQ_UINT(ud_fold(ud_sum(0, buf, 20)), 0xffff);
                        } else {
                            T_ASSERT(ud_l4_ok(buf, plen, 0)); /* UDP checksum */
                        }
                        T_EQ_INT(imssec_esp_unprotect(&i, buf, plen, ip ? buf : out, 400,
                                                      &olen, &seq, NULL),
                                 IMSSEC_OK);
                        T_EQ_UINT(olen, n);
                        T_EQ_UINT(seq, 1);
                        memcpy(want, pkt, n);
                        if (fam == 4 && proto == 17)
                            want[h + 6] = want[h + 7] = 0;
                        T_EQ_MEM(ip ? buf : out, want, n);
                        T_ASSERT(ud_l4_ok(ip ? buf : out, olen, 1));
                        imssec_esp_sa_wipe(&o);
                        imssec_esp_sa_wipe(&i);
                    }
    }
}

/* One hostile input: the verdict, the input and output untouched, the SA
 * unchanged except the verdict's counter. */
static int ud_hostile(const uint8_t *pkt, size_t n, uint16_t dport, int want)
{
    imssec_esp_sa sa, snap;
    uint8_t buf[256], out[256], out0[256];
    size_t olen = 0x5a5a;
    int ip, rc;
    for (ip = 0; ip < 2; ip++) {
        if (ud_sa(&sa, IMSSEC_ESP_INBOUND, IMSSEC_ALG_HMAC_SHA1_96,
                  IMSSEC_EALG_AES_CBC, dport) != IMSSEC_OK)
            return 0;
        memcpy(&snap, &sa, sizeof sa);
        memcpy(buf, pkt, n);
        memset(out, 0xa5, sizeof out);
        memcpy(out0, out, sizeof out);
        rc = imssec_esp_unprotect(&sa, buf, n, ip ? buf : out, ip ? sizeof buf : sizeof out,
                                  &olen, NULL, NULL);
        if (rc != want || olen != 0x5a5a || memcmp(buf, pkt, n) != 0 ||
            memcmp(out, out0, sizeof out) != 0 || !esp_same_but_stats(&sa, &snap) ||
            imssec_esp_sa_stats(&sa)->malformed !=
                imssec_esp_sa_stats(&snap)->malformed + (want == IMSSEC_E_MALFORMED) ||
            imssec_esp_sa_stats(&sa)->icv != imssec_esp_sa_stats(&snap)->icv + (want == IMSSEC_E_ICV)) {
            imssec_esp_sa_wipe(&sa);
            return 0;
        }
        imssec_esp_sa_wipe(&sa);
    }
    return 1;
}

T_TEST(esp_udptr_hostile_input)
{
    uint8_t nat[256], bad[256], ka[64], good[256];
    size_t n, k, len, gl = 0;
    imssec_esp_sa sa;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out");
    n = t_unhex(ud_kats[0].nat, nat, sizeof nat); /* IPv4, UDP at 20 */
    /* every truncation (the IP length then disagrees with the buffer) */
    for (k = 0; k < n; k++)
        T_ASSERT(ud_hostile(nat, k, 50123, IMSSEC_E_MALFORMED));
    /* truncated consistently: IP total length and UDP length shortened.
     * ESP part (len - 28) shorter than SPI+seq+IV+ICV+2 or a ciphertext
     * not a whole number of AES blocks: malformed; else the ICV fails. */
    for (len = 20; len < n; len++) {
        int want = len < 28 + 38 || (len - 28 - 36) % 16 != 0 ? IMSSEC_E_MALFORMED
                                                               : IMSSEC_E_ICV;
        memcpy(bad, nat, len);
        bad[2] = (uint8_t)(len >> 8), bad[3] = (uint8_t)len;
        if (len >= 26)
            bad[24] = (uint8_t)((len - 20) >> 8), bad[25] = (uint8_t)(len - 20);
        T_ASSERT(ud_hostile(bad, len, 50123, want));
    }
    /* every wrong UDP length */
    for (len = 0; len < 0x100; len++) {
        if (len == n - 20)
            continue;
        memcpy(bad, nat, n);
        bad[24] = 0, bad[25] = (uint8_t)len;
        T_ASSERT(ud_hostile(bad, n, 50123, IMSSEC_E_MALFORMED));
    }
    /* wrong destination port (the SA is bound to another) */
    T_ASSERT(ud_hostile(nat, n, 4500, IMSSEC_E_MALFORMED));
    /* not UDP: an ESP-in-IP packet on a UDP transport SA */
    memcpy(bad, nat, n);
    bad[9] = 50;
    T_ASSERT(ud_hostile(bad, n, 50123, IMSSEC_E_MALFORMED));
    /* a NAT keepalive (RFC 3948 2.2) and a Non-ESP marker (2.1): not ESP */
    k = t_unhex("4500001d00010000401166cd0a0000010a0000021194c3cb00090000ff", ka, sizeof ka);
    T_ASSERT(ud_hostile(ka, k, 50123, IMSSEC_E_NOT_ESP));
    memcpy(bad, nat, n);
    memset(bad + 28, 0, 4);
    T_ASSERT(ud_hostile(bad, n, 50123, IMSSEC_E_NOT_ESP));
    /* a flipped ciphertext bit: ICV failure, counted, nothing else */
    memcpy(bad, nat, n);
    bad[60] ^= 1;
    T_EQ_INT(ud_sa(&sa, IMSSEC_ESP_INBOUND, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
                   50123), IMSSEC_OK);
    T_EQ_INT(imssec_esp_unprotect(&sa, bad, n, good, sizeof good, &gl, NULL, NULL), IMSSEC_E_ICV);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->icv, 1);
    /* the genuine packet still goes through, once */
    T_EQ_INT(imssec_esp_unprotect(&sa, nat, n, good, sizeof good, &gl, NULL, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_esp_unprotect(&sa, nat, n, good, sizeof good, &gl, NULL, NULL), IMSSEC_E_REPLAY);
    /* the ESP-only entry point is for tunnel SAs */
    T_EQ_INT(imssec_esp_unprotect_esp(&sa, nat + 28, n - 28, good, sizeof good, &gl, NULL, NULL),
             IMSSEC_E_PARAM);
    imssec_esp_sa_wipe(&sa);
}
