/*
 * esp_fixture.h -- for the esp/ tests (public API only): the packets and
 * SAs they build.  Three families, each written independently:
 *  - crafted packets (mk_*, craft_esp, wrap_v4, mk_trailer, in_sa,
 *    send_crafted): ESP made with mbedTLS HMAC / AES as the reference
 *    (RFC 4303 2, 3.3, 3.4; RFC 2404; RFC 3602), chosen trailers included;
 *  - pk_*: UDP packets of either family and SAs for the round-trip and
 *    hostile-input matrices;
 *  - esp_t_*: packets this library protects, one fresh outbound SA per
 *    packet number (the kernel-vector tests);
 * and replay_sa(), an inbound SA with a chosen window, ESN and start.
 */
#ifndef IMSSEC_TEST_ESP_FIXTURE_H
#define IMSSEC_TEST_ESP_FIXTURE_H

#include "../../imssec.h"
#include "../t.h"
#include "esp_state.h"

#include <mbedtls/aes.h>
#include <mbedtls/md.h>

#if defined(__GNUC__) || defined(__clang__)
#define EF_FN static __attribute__((unused))
#else
#define EF_FN static
#endif

/* ---- addresses, keys, plain packets, SA pairs, build checks ----------------- */

EF_FN const uint8_t k_auth[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

EF_FN const uint8_t k_enc[24] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                  0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                  0x31, 0x32, 0x34, 0x37, 0x38, 0x3b, 0x3d, 0x3e};

EF_FN const imssec_io esp_io = {NULL, t_io_random, NULL, NULL};

EF_FN size_t auth_klen(int a)
{
    return a == IMSSEC_ALG_HMAC_MD5_96 ? 16 : a == IMSSEC_ALG_HMAC_SHA1_96 ? 20 : 0;
}

EF_FN size_t enc_klen(int e)
{
    return e == IMSSEC_EALG_AES_CBC ? 16 : e == IMSSEC_EALG_DES_EDE3_CBC ? 24 : 0;
}

EF_FN void mk_params(imssec_esp_params *p, int dir, int mode, int auth, int enc, int fam,
                      uint32_t spi)
{
    imssec_esp_params_init(p);
    p->spi = spi;
    p->dir = dir;
    p->mode = mode;
    p->alg = auth;
    p->ealg = enc;
    p->auth_key = auth_klen(auth) ? k_auth : NULL;
    p->auth_key_len = auth_klen(auth);
    p->enc_key = enc_klen(enc) ? k_enc : NULL;
    p->enc_key_len = enc_klen(enc);
    p->src.len = p->dst.len = (uint8_t)(fam == 6 ? 16 : 4);
    if (fam == 4) {
        uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
        memcpy(p->src.b, dir == IMSSEC_ESP_OUTBOUND ? a : b, 4);
        memcpy(p->dst.b, dir == IMSSEC_ESP_OUTBOUND ? b : a, 4);
    } else {
        p->src.b[0] = p->dst.b[0] = 0x20;
        p->src.b[1] = p->dst.b[1] = 0x01;
        p->src.b[15] = dir == IMSSEC_ESP_OUTBOUND ? 1 : 2;
        p->dst.b[15] = dir == IMSSEC_ESP_OUTBOUND ? 2 : 1;
    }
}

EF_FN uint16_t csum16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)(p[n - 1] << 8);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* IPv4 UDP packet with `opt` bytes of IP options (multiple of 4). */
EF_FN size_t mk_v4(uint8_t *b, size_t plen, size_t opt)
{
    size_t hl = 20 + opt, i, tot = hl + 8 + plen;
    uint16_t c;
    memset(b, 0, hl);
    b[0] = (uint8_t)(0x40 | (hl / 4));
    b[1] = 0x10;
    b[2] = (uint8_t)(tot >> 8);
    b[3] = (uint8_t)tot;
    b[4] = 0x12;
    b[5] = 0x34;
    b[6] = 0x40;
    b[8] = 61;
    b[9] = 17;
    b[12] = 192, b[13] = 0, b[14] = 2, b[15] = 1;
    b[16] = 192, b[17] = 0, b[18] = 2, b[19] = 2;
    for (i = 0; i < opt; i++)
        b[20 + i] = 1; /* NOP options */
    c = csum16(b, hl);
    b[10] = (uint8_t)(c >> 8);
    b[11] = (uint8_t)c;
    b[hl] = 0x13, b[hl + 1] = 0xc4, b[hl + 2] = 0x13, b[hl + 3] = 0xc5;
    b[hl + 4] = (uint8_t)((8 + plen) >> 8);
    b[hl + 5] = (uint8_t)(8 + plen);
    b[hl + 6] = 0, b[hl + 7] = 0;
    for (i = 0; i < plen; i++)
        b[hl + 8 + i] = (uint8_t)(i * 7 + 3);
    return tot;
}

/* IPv6 UDP packet, optionally with a hop-by-hop and a destination options
 * header (8 bytes each). */
EF_FN size_t mk_v6(uint8_t *b, size_t plen, int hbh, int dst)
{
    size_t off = 40, i, pl;
    uint8_t *nh = &b[6];
    memset(b, 0, 40);
    b[0] = 0x60;
    b[1] = 0x20;
    b[7] = 63;
    b[8] = 0x20, b[9] = 0x01, b[23] = 1;
    b[24] = 0x20, b[25] = 0x01, b[39] = 2;
    if (hbh) {
        *nh = 0;
        memset(b + off, 0, 8);
        b[off + 2] = 1; /* PadN */
        b[off + 3] = 4;
        nh = &b[off];
        off += 8;
    }
    if (dst) {
        *nh = 60;
        memset(b + off, 0, 8);
        b[off + 2] = 1;
        b[off + 3] = 4;
        nh = &b[off];
        off += 8;
    }
    *nh = 17;
    b[off] = 0x13, b[off + 1] = 0xc4, b[off + 2] = 0x13, b[off + 3] = 0xc5;
    b[off + 4] = (uint8_t)((8 + plen) >> 8);
    b[off + 5] = (uint8_t)(8 + plen);
    b[off + 6] = 0x12, b[off + 7] = 0x34;
    for (i = 0; i < plen; i++)
        b[off + 8 + i] = (uint8_t)(i * 13 + 1);
    pl = off - 40 + 8 + plen;
    b[4] = (uint8_t)(pl >> 8);
    b[5] = (uint8_t)pl;
    return 40 + pl;
}

typedef struct esp_pair {
    imssec_esp_sa out, in;
} esp_pair;

EF_FN int mk_pair(esp_pair *sp, int mode, int auth, int enc, int fam, int esn, uint64_t seq,
                   uint32_t window)
{
    imssec_esp_params p;
    int rc;
    mk_params(&p, IMSSEC_ESP_OUTBOUND, mode, auth, enc, fam, 0x1234);
    p.esn = esn;
    p.seq = seq;
    if (window)
        p.replay_window = window;
    if ((rc = imssec_esp_sa_setup(&sp->out, &p, NULL)) != IMSSEC_OK)
        return rc;
    mk_params(&p, IMSSEC_ESP_INBOUND, mode, auth, enc, fam, 0x1234);
    p.esn = esn;
    p.seq = seq;
    if (window)
        p.replay_window = window;
    return imssec_esp_sa_setup(&sp->in, &p, NULL);
}

/* ---- build configuration ------------------------------------------------
 * The suite also runs in reduced builds (test/configs/cfg_minimal.h): 3DES,
 * HMAC-MD5-96, IPv6 or UDP encapsulation compiled out, a smaller replay
 * window.  Combinations the build lacks are skipped inside loops (after
 * checking they are refused), algorithm-specific tests fall back to
 * HMAC-SHA-1-96 / AES-CBC, windows are clamped; in the full build every
 * choice below is the original one. */

/* The window a test asks for, or the build's largest if that is smaller. */
#define ESP_W(w) ((uint32_t)(w) < IMSSEC_REPLAY_WINDOW_MAX ? (uint32_t)(w) \
                                                          : (uint32_t)IMSSEC_REPLAY_WINDOW_MAX)

/* HMAC-MD5-96 / 3DES where built, otherwise HMAC-SHA-1-96 / AES-CBC. */
#define ESP_AUTH_MD5_OR_SHA1 \
    (IMSSEC_ENABLE_HMAC_MD5 ? IMSSEC_ALG_HMAC_MD5_96 : IMSSEC_ALG_HMAC_SHA1_96)

#define ESP_ENC_3DES_OR_AES \
    (IMSSEC_ENABLE_3DES ? IMSSEC_EALG_DES_EDE3_CBC : IMSSEC_EALG_AES_CBC)

EF_FN int esp_built(int mode, int auth, int enc, int fam)
{
    return (mode != IMSSEC_MODE_UDP_ENC_TUN || IMSSEC_ENABLE_UDPENCAP) &&
           (auth != IMSSEC_ALG_HMAC_MD5_96 || IMSSEC_ENABLE_HMAC_MD5) &&
           (enc != IMSSEC_EALG_DES_EDE3_CBC || IMSSEC_ENABLE_3DES) &&
           (fam != 6 || IMSSEC_ENABLE_IPV6);
}

/* A combination the build left out is refused with IMSSEC_E_UNSUPPORTED:
 * at setup, or -- IPv6 in transport mode, where the SA carries no
 * addresses -- when an IPv6 packet is protected.  1 if refused so. */
EF_FN int esp_unbuilt_refused(int mode, int auth, int enc, int fam)
{
    esp_pair sp;
    uint8_t pkt[128], out[256];
    size_t n, len;
    int rc = mk_pair(&sp, mode, auth, enc, fam, 0, 0, 0);
    if (esp_built(mode, auth, enc, 4) && mode == IMSSEC_MODE_TRANS && fam == 6) {
        if (rc != IMSSEC_OK)
            return 0;
        n = mk_v6(pkt, 20, 0, 0);
        return imssec_esp_protect(&sp.out, &esp_io, NULL, pkt, n, out, sizeof out, &len, NULL) ==
                   IMSSEC_E_UNSUPPORTED &&
               imssec_esp_protect_size(&sp.out, pkt, n) == 0;
    }
    return rc == IMSSEC_E_UNSUPPORTED;
}

/* Everything but the stats must be unchanged by a rejected packet, and the
 * accepted-packet counters too. */
EF_FN int sa_same_but_stats(const imssec_esp_sa *a, const imssec_esp_sa *b)
{
    return esp_same_but_stats(a, b) &&
           imssec_esp_sa_stats(a)->packets == imssec_esp_sa_stats(b)->packets &&
           imssec_esp_sa_stats(a)->bytes == imssec_esp_sa_stats(b)->bytes;
}

EF_FN uint64_t drops(const imssec_esp_stats *s)
{
    return s->replay + s->icv + s->bad_padding + s->malformed + s->dummy + s->no_sa;
}

/* ---- crafted packets (NULL or AES encryption, HMAC-SHA-1-96) ----------- */

/* ESP (SPI..ICV) from a plaintext payload+trailer; with ESN the ICV covers
 * Seqh too (RFC 4303 2.2.1, 3.3.2).  iv16 non-NULL: AES-CBC. */
EF_FN size_t craft_esp(uint8_t *o, uint32_t spi, uint64_t seq, int esn, const uint8_t *pt,
                        size_t ptlen, const uint8_t *iv16)
{
    uint8_t mac[20], tmp[2048];
    size_t off = 8, n;
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    o[0] = (uint8_t)(spi >> 24), o[1] = (uint8_t)(spi >> 16), o[2] = (uint8_t)(spi >> 8),
    o[3] = (uint8_t)spi;
    o[4] = (uint8_t)(seq >> 24), o[5] = (uint8_t)(seq >> 16), o[6] = (uint8_t)(seq >> 8),
    o[7] = (uint8_t)seq;
    if (iv16) {
        mbedtls_aes_context aes;
        uint8_t iv[16];
        memcpy(o + 8, iv16, 16);
        memcpy(iv, iv16, 16);
        mbedtls_aes_init(&aes);
        mbedtls_aes_setkey_enc(&aes, k_enc, 128);
        mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, ptlen, iv, pt, o + 24);
        mbedtls_aes_free(&aes);
        off = 24;
    } else {
        memcpy(o + 8, pt, ptlen);
    }
    n = off + ptlen;
    memcpy(tmp, o, n);
    if (esn) {
        tmp[n] = (uint8_t)(seq >> 56), tmp[n + 1] = (uint8_t)(seq >> 48),
        tmp[n + 2] = (uint8_t)(seq >> 40), tmp[n + 3] = (uint8_t)(seq >> 32);
    }
    mbedtls_md_hmac(md, k_auth, 20, tmp, n + (esn ? 4 : 0), mac);
    memcpy(o + n, mac, 12);
    return n + 12;
}

/* Wrap ESP in an IPv4 header (protocol 50). */
EF_FN size_t wrap_v4(uint8_t *o, const uint8_t *esp, size_t n)
{
    size_t tot = 20 + n;
    uint16_t c;
    memset(o, 0, 20);
    o[0] = 0x45;
    o[2] = (uint8_t)(tot >> 8);
    o[3] = (uint8_t)tot;
    o[8] = 64;
    o[9] = 50;
    o[12] = 192, o[13] = 0, o[14] = 2, o[15] = 1;
    o[16] = 192, o[17] = 0, o[18] = 2, o[19] = 2;
    c = csum16(o, 20);
    o[10] = (uint8_t)(c >> 8);
    o[11] = (uint8_t)c;
    memcpy(o + 20, esp, n);
    return tot;
}

/* Transport payload: a UDP datagram of `dlen` bytes, then `padn` pad bytes
 * (from pad[] or 1,2,3..), pad length `padlen_field`, next header nh. */
EF_FN size_t mk_trailer(uint8_t *pt, size_t dlen, size_t padn, const uint8_t *pad,
                         uint8_t padlen_field, uint8_t nh)
{
    size_t i, n = 0;
    pt[0] = 0x13, pt[1] = 0xc4, pt[2] = 0x13, pt[3] = 0xc5;
    pt[4] = (uint8_t)(dlen >> 8), pt[5] = (uint8_t)dlen, pt[6] = 0, pt[7] = 0;
    for (i = 8; i < dlen; i++)
        pt[i] = (uint8_t)i;
    n = dlen;
    for (i = 0; i < padn; i++)
        pt[n++] = pad ? pad[i] : (uint8_t)(i + 1);
    pt[n++] = padlen_field;
    pt[n++] = nh;
    return n;
}

EF_FN int in_sa(imssec_esp_sa *sa, int enc, int esn, uint64_t seq, uint32_t window)
{
    imssec_esp_params p;
    mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, enc, 4,
              0x1234);
    p.esn = esn;
    p.seq = seq;
    if (window)
        p.replay_window = window;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

EF_FN int send_crafted(imssec_esp_sa *sa, uint64_t seq, int esn, const uint8_t *pt, size_t n,
                        const uint8_t *iv)
{
    uint8_t esp[2048], pkt[2100], out[2100];
    size_t en = craft_esp(esp, 0x1234, seq, esn, pt, n, iv);
    size_t pn = wrap_v4(pkt, esp, en), len;
    return imssec_esp_unprotect(sa, pkt, pn, out, sizeof out, &len, NULL, NULL);
}

/* ---- pk_: the round-trip and hostile-input matrices ------------------------- */

EF_FN const uint8_t pk_ak[20] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
                                  0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4};

EF_FN const uint8_t pk_ek[24] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                  0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01,
                                  0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23};

EF_FN int pk_sa(imssec_esp_sa *sa, int dir, int mode, int auth, int enc, int fam)
{
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 0xc0ffee;
    p.dir = dir;
    p.mode = mode;
    p.alg = auth;
    p.auth_key = pk_ak;
    p.auth_key_len = auth == IMSSEC_ALG_HMAC_MD5_96 ? 16 : 20;
    p.ealg = enc;
    p.enc_key = pk_ek;
    p.enc_key_len = enc == IMSSEC_EALG_AES_CBC ? 16 : enc == IMSSEC_EALG_NULL ? 0 : 24;
    p.src.len = p.dst.len = (uint8_t)(fam == 6 ? 16 : 4);
    p.src.b[0] = 198;
    p.dst.b[0] = 203;
    p.src.b[15] = 1;
    p.dst.b[15] = 2;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

/* A UDP packet of family fam with `payload` bytes (lengths right, IPv4
 * header checksum right). */
EF_FN size_t pk_packet(uint8_t *p, int fam, size_t payload)
{
    size_t i, h = fam == 4 ? 20 : 40, n = h + 8 + payload;
    memset(p, 0, n);
    if (fam == 4) {
        uint32_t s = 0;
        p[0] = 0x45;
        p[2] = (uint8_t)(n >> 8);
        p[3] = (uint8_t)n;
        p[4] = 0x12;
        p[6] = 0x40;
        p[8] = 64;
        p[9] = 17;
        p[12] = 10, p[15] = 1, p[16] = 10, p[19] = 2;
        for (i = 0; i < 20; i += 2)
            s += (uint32_t)p[i] << 8 | p[i + 1];
        while (s >> 16)
            s = (s & 0xffff) + (s >> 16);
        p[10] = (uint8_t)(~s >> 8);
        p[11] = (uint8_t)~s;
    } else {
        p[0] = 0x60;
        p[4] = (uint8_t)((n - 40) >> 8);
        p[5] = (uint8_t)(n - 40);
        p[6] = 17;
        p[7] = 64;
        p[8] = 0xfd, p[23] = 1, p[24] = 0xfd, p[39] = 2;
    }
    p[h] = 0x13, p[h + 1] = 0xc4, p[h + 2] = 0x13, p[h + 3] = 0xc6;
    p[h + 4] = (uint8_t)((8 + payload) >> 8);
    p[h + 5] = (uint8_t)(8 + payload);
    t_randbytes(p + h + 8, payload);
    return n;
}

/* ---- packets this library protects (esp-vectors.md sections 4 and 6) -------- */

EF_FN const uint8_t esp_t_ak[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20};

EF_FN const uint8_t esp_t_ek[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                     0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};

EF_FN int esp_t_sa(imssec_esp_sa *sa, int dir, uint32_t window, int esn, uint64_t seq)
{
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 0x1001;
    p.dir = dir;
    p.alg = IMSSEC_ALG_HMAC_SHA1_96;
    p.auth_key = esp_t_ak;
    p.auth_key_len = 20;
    p.ealg = IMSSEC_EALG_AES_CBC;
    p.enc_key = esp_t_ek;
    p.enc_key_len = 16;
    p.replay_window = window;
    p.esn = esn;
    p.seq = seq;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

/* A small UDP datagram 192.0.2.1 -> 192.0.2.2 (checksum 0: not checked). */
EF_FN size_t esp_t_udp4(uint8_t *p, size_t payload)
{
    size_t i, n = 28 + payload;
    t_unhex("450000001234400040110000c0000201c00002021f901f9000000000", p, 28);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    p[24] = (uint8_t)((8 + payload) >> 8);
    p[25] = (uint8_t)(8 + payload);
    for (i = 0; i < payload; i++)
        p[28 + i] = (uint8_t)(i * 7 + 1);
    {   /* header checksum, so the packet is a valid one */
        uint32_t s = 0;
        for (i = 0; i < 20; i += 2)
            s += (uint32_t)p[i] << 8 | p[i + 1];
        while (s >> 16)
            s = (s & 0xffff) + (s >> 16);
        p[10] = (uint8_t)(~s >> 8);
        p[11] = (uint8_t)~s;
    }
    return n;
}

/* Protect one packet with sequence number seq (a fresh outbound SA). */
EF_FN size_t esp_t_packet(uint64_t seq, int esn, uint8_t *out, size_t cap)
{
    imssec_esp_sa o;
    uint8_t pt[100], iv[16];
    size_t n = esp_t_udp4(pt, 20), olen = 0;
    memset(iv, (int)(seq & 0xff), sizeof iv);
    if (esp_t_sa(&o, IMSSEC_ESP_OUTBOUND, 32, esn, seq - 1) != IMSSEC_OK ||
        imssec_esp_protect(&o, NULL, iv, pt, n, out, cap, &olen, NULL) != IMSSEC_OK)
        olen = 0;
    imssec_esp_sa_wipe(&o);
    return olen;
}

/* ---- an inbound SA for the anti-replay tests --------------------------------- */

EF_FN int replay_sa(imssec_esp_sa *sa, uint32_t w, int esn, uint64_t start)
{
    static const uint8_t ak[20] = {7};
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 77;
    p.dir = IMSSEC_ESP_INBOUND;
    p.auth_key = ak;
    p.auth_key_len = 20;
    p.replay_window = w;
    p.esn = esn;
    p.seq = start;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

#endif
