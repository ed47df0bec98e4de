/*
 * esp_interop_scapy.c -- ESP packets made by an independent implementation,
 * scapy 2.5.0 (scapy/layers/ipsec.py, Debian python3-scapy, on top of
 * python3-cryptography), reproduced byte for byte by imssec_esp_protect()
 * with the same IV and unprotected back to the plaintext.  The generator is
 * test/peer/esp-scapy.sh's `vectors` step; the same script also runs a
 * randomised two-way differential against scapy.
 *
 * scapy 2.5.0 writes 8 into the UDP length of NAT-T packets (a scapy bug:
 * it deletes the field before the ESP payload is attached); that one field
 * of t3 was set to the real length (IP total - 20) here.  The outer IP
 * header of t3 is scapy's own (ID 5, no DF), so t3 is compared from the UDP
 * header on.
 *
 * scapy 2.5.0 also leaves Seqh out of the ICV of non-AEAD ESP (its
 * _encrypt_esp calls auth_algo.sign() without esn), so the ICV of t5 (ESN,
 * seq 2^32 + 5) was recomputed with Python's hmac/hashlib over the ESP
 * bytes || Seqh (00000001), as RFC 4303 sections 2.2.1 and 3.3.2.1 say.
 */
#include "../../imssec.h"
#include "../t.h"

static const uint8_t ak20[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const uint8_t ak16[16] = {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
                                 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40};

static const struct esp_scapy_row {
    const char *name;
    int mode, auth, enc;
    uint32_t spi;
    uint64_t seq;
    int esn;
    const char *iv, *plain, *esp;
} esp_scapy_rows[] = {
    {"t1_v4_sha1_aes", IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, 0x1001, UINT64_C(0x7), 0, "000102030405060708090a0b0c0d0e0f",
         "4500003e1c46400040119a65c0000201c000020213c413c6002a9b6a52454749"
         "53544552207369703a696d732e6578616d706c65205349502f322e300d0a",
         "450000681c46400040329a1ac0000201c0000202000010010000000700010203"
         "0405060708090a0b0c0d0e0f289978bc23ff0bee71e12ca9b7f88690dbe8591a"
         "a803e1d624ffb601178e66e37da4afd4f57730ec33d0fa8eed216cf6666847d1"
         "fa53182f133a5d73"},
    {"t2_v4_md5_3des", IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC, 0x1002, UINT64_C(0x1), 0, "a0a1a2a3a4a5a6a7",
         "4500003e1c46400040119a65c0000201c000020213c413c6002a9b6a52454749"
         "53544552207369703a696d732e6578616d706c65205349502f322e300d0a",
         "450000601c46400040329a22c0000201c00002020000100200000001a0a1a2a3"
         "a4a5a6a7e22011f8975692832e87e52f5cbb0ae5ce1522eae06bfde12cbc0d4e"
         "910990e3b914e837d814ed8088552f4997a361a0e0860517b79a91d2635a9791"},
    {"t6_v4_sha1_null", IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL, 0x1006, UINT64_C(0x3), 0, "",
         "4500003e1c46400040119a65c0000201c000020213c413c6002a9b6a52454749"
         "53544552207369703a696d732e6578616d706c65205349502f322e300d0a",
         "450000541c46400040329a2ec0000201c0000202000010060000000313c413c6"
         "002a9b6a5245474953544552207369703a696d732e6578616d706c6520534950"
         "2f322e300d0a0011f448d4e6d1c7273a48ac54bb"},
    {"t4_v6hbh_sha1_aes", IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, 0x1004, UINT64_C(0x2), 0, "101112131415161718191a1b1c1d1e1f",
         "6000000000280040fd000db8000100000000000000000001fd000db800010000"
         "0000000000000002110001040000000013c413c60020c718494e564954452073"
         "69703a626f62205349502f322e300d0a",
         "60000000005c0040fd000db8000100000000000000000001fd000db800010000"
         "0000000000000002320001040000000000001004000000021011121314151617"
         "18191a1b1c1d1e1fcfa2b9403725b1ad612b8a94bc697989cc0073d5e1df2007"
         "a3da2864b89c7e93f0309a99d46944293eda3268a891e857ea770dc987a741a4"
         "19b127f7"},
    {"t4b_v6_md5_3des", IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC, 0x1005, UINT64_C(0x9), 0, "0000000000000000",
         "6000000000131140fd000db8000100000000000000000001fd000db800010000"
         "000000000000000213c413c60013f06c7878787878787878787878",
         "6000000000343240fd000db8000100000000000000000001fd000db800010000"
         "0000000000000002000010050000000900000000000000002a4c6328768b9f9e"
         "797cc807d20cb2aea8eafebd2b737a583b4619bb10dc85e431e7a656"},
    {"t5_esn_sha1_aes", IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, 0x1007, UINT64_C(0x100000005), 1, "00000000000000000000000000000000",
         "4500003e1c46400040119a65c0000201c000020213c413c6002a9b6a52454749"
         "53544552207369703a696d732e6578616d706c65205349502f322e300d0a",
         "450000681c46400040329a1ac0000201c0000202000010070000000500000000"
         "000000000000000000000000806630b265979ca8316040309408a977eb7be8d2"
         "f80a490b88648a06acf1d91b0e89b75e3bac4376c069fdf54d9f73961135751e"
         "c2460ac1f7bc15ad"},
    {"t3_udp_tunnel_sha1_aes", IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, 0x3001, UINT64_C(0x1), 0, "202122232425262728292a2b2c2d2e2f",
         "4500003e1c46400040119a65c0000201c000020213c413c6002a9b6a52454749"
         "53544552207369703a696d732e6578616d706c65205349502f322e300d0a",
         "4500008000050000401125fec6336401c633640211941194006c000000003001"
         "00000001202122232425262728292a2b2c2d2e2fa2a07e629f746a9c83b590f0"
         "8e921b4dc23b9c2d3ffa879869300ab3ccec602fcf872ba806d7f84a2e1c1373"
         "c10022589667a94740e72dfc828ea0734fef3764f84fbfe37f217835fc9bdebe"},
};

/* 1 if this build has what the row needs (features may be compiled out). */
static int esp_scapy_row_ok(const struct esp_scapy_row *r)
{
    return (r->auth != IMSSEC_ALG_HMAC_MD5_96 || IMSSEC_ENABLE_HMAC_MD5) &&
           (r->enc != IMSSEC_EALG_DES_EDE3_CBC || IMSSEC_ENABLE_3DES) &&
           (r->plain[0] != '6' || IMSSEC_ENABLE_IPV6) &&
           (r->mode != IMSSEC_MODE_UDP_ENC_TUN || IMSSEC_ENABLE_UDPENCAP);
}

static int esp_scapy_sa(imssec_esp_sa *sa, const struct esp_scapy_row *r, int dir)
{
    static uint8_t ek[24];
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = r->spi;
    p.dir = dir;
    p.mode = r->mode;
    p.alg = r->auth;
    p.ealg = r->enc;
    p.esn = r->esn;
    p.auth_key = r->auth == IMSSEC_ALG_HMAC_MD5_96 ? ak16 : ak20;
    p.auth_key_len = r->auth == IMSSEC_ALG_HMAC_MD5_96 ? 16 : 20;
    if (r->enc == IMSSEC_EALG_AES_CBC)
        p.enc_key_len = t_unhex("00112233445566778899aabbccddeeff", ek, sizeof ek);
    else if (r->enc == IMSSEC_EALG_DES_EDE3_CBC)
        p.enc_key_len = t_unhex("0123456789abcdef23456789abcdef01456789abcdef0123", ek, sizeof ek);
    p.enc_key = ek;
    if (r->mode != IMSSEC_MODE_TRANS) {
        p.src.len = p.dst.len = 4;
        t_unhex("c6336401", p.src.b, 4); /* 198.51.100.1 -> .2 */
        t_unhex("c6336402", p.dst.b, 4);
    }
    /* outbound: the packet gets r->seq; inbound: the window sits just
     * below it so that Appendix A2 infers the same high half */
    p.seq = r->seq - 1;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

T_TEST(esp_scapy_protect_byte_for_byte)
{
    size_t i;
    for (i = 0; i < sizeof esp_scapy_rows / sizeof esp_scapy_rows[0]; i++) {
        const struct esp_scapy_row *r = &esp_scapy_rows[i];
        uint8_t pt[200], want[300], out[300], iv[16];
        size_t pn = t_unhex(r->plain, pt, sizeof pt), wn = t_unhex(r->esp, want, sizeof want),
               olen = 0, skip = r->mode == IMSSEC_MODE_TRANS ? 0 : 20;
        imssec_esp_sa sa;
        if (!esp_scapy_row_ok(r))
            continue;
        t_unhex(r->iv, iv, sizeof iv);
        T_EQ_INT(esp_scapy_sa(&sa, r, IMSSEC_ESP_OUTBOUND), IMSSEC_OK);
        T_EQ_INT(imssec_esp_protect(&sa, NULL, iv, pt, pn, out, sizeof out, &olen, NULL), IMSSEC_OK);
        T_EQ_UINT(olen, wn);
        T_EQ_MEM(out + skip, want + skip, wn - skip);
        if (skip) { /* our outer header: 198.51.100.1 -> .2, UDP, length, DF copied */
            T_EQ_HEX(out, 4, "45000080");
            T_EQ_HEX(out + 6, 4, "40004011");
            T_EQ_HEX(out + 12, 8, "c6336401c6336402");
        }
        imssec_esp_sa_wipe(&sa);
    }
}

T_TEST(esp_scapy_unprotect)
{
    size_t i;
    for (i = 0; i < sizeof esp_scapy_rows / sizeof esp_scapy_rows[0]; i++) {
        const struct esp_scapy_row *r = &esp_scapy_rows[i];
        uint8_t pt[200], in[300], out[300];
        size_t pn = t_unhex(r->plain, pt, sizeof pt), n = t_unhex(r->esp, in, sizeof in),
               olen = 0;
        uint64_t seq = 0;
        imssec_esp_sa sa;
        if (!esp_scapy_row_ok(r))
            continue;
        T_EQ_INT(esp_scapy_sa(&sa, r, IMSSEC_ESP_INBOUND), IMSSEC_OK);
        T_EQ_INT(imssec_esp_unprotect(&sa, in, n, out, sizeof out, &olen, &seq, NULL), IMSSEC_OK);
        T_EQ_UINT(seq, r->seq);
        T_EQ_UINT(olen, pn);
        T_EQ_MEM(out, pt, pn);
        /* every single-bit flip after the IP header is dropped and leaves
         * the SA as it was (here: ICV, or malformed for the UDP header) */
        {
            /* from the ESP header on: the IP header (and an IPv6
             * hop-by-hop header) is not covered by ESP */
            size_t bit, start = (in[0] >> 4) == 4 ? 20 : 40;
            imssec_esp_sa fresh;
            if ((in[0] >> 4) == 6 && in[6] == 0)
                start += 8;
            if (r->mode == IMSSEC_MODE_UDP_ENC_TUN)
                start += 8; /* the UDP ports are not authenticated either */
            T_EQ_INT(esp_scapy_sa(&fresh, r, IMSSEC_ESP_INBOUND), IMSSEC_OK);
            for (bit = start * 8; bit < n * 8; bit += 7) {
                int rc;
                in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                rc = imssec_esp_unprotect(&fresh, in, n, out, sizeof out, &olen, NULL, NULL);
                in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                T_ASSERT(rc != IMSSEC_OK);
                T_ASSERT(imssec_err_is_verdict(rc));
            }
            T_EQ_UINT(imssec_esp_sa_stats(&fresh)->packets, 0);
            T_EQ_INT(imssec_esp_unprotect(&fresh, in, n, out, sizeof out, &olen, NULL, NULL),
                     IMSSEC_OK);
            imssec_esp_sa_wipe(&fresh);
        }
        imssec_esp_sa_wipe(&sa);
    }
}
