/*
 * test_media_srtp.c -- media/ SRTP and SRTCP through the public API.
 *
 * Independent truths used here:
 *   - RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation),
 *     RFC 6188 section 7.1 / 7.2 (AES-256 keystream and KDF): the values
 *     are copied from the RFC text (RFC 3711 read from the text of the RFC,
 *     RFC 6188 values as reproduced identically by several independent
 *     implementations' test suites, found with the search tool).
 *   - libsrtp 2.5.0 test/srtp_driver.c srtp_validate() and
 *     srtp_validate_aes_256(): protected packets made by libsrtp with the
 *     RFC 3711 B.3 / RFC 6188 7.2 master keys.
 *   - HMAC-SHA1 computed here with mbedTLS's generic md API (not the
 *     library's own HMAC code) for the RFC 4771 tag layouts.
 *   - The RFC 3711 rules themselves (3.3.1 ROC update, 3.3.2 window,
 *     9.2 lifetimes), checked as properties against simple models.
 */
#include "../t.h"

#include <mbedtls/md.h>

#include "../../imssec.h"

/* ---- helpers ------------------------------------------------------------------ */

/* RFC 3711 B.3 master key and salt (also libsrtp's test_key). */
static const char *const B3_KEY = "E1F97A0D3E018BE0D64FA32C06DE4139";
static const char *const B3_SALT = "0EC675AD498AFEEBB6960B3AABE6";

typedef struct pair {
    imssec_srtp_session tx, rx;
    imssec_srtp_stream txs[8], rxs[8];
    uint8_t key[32], salt[14], key2[32], salt2[14];
} pair;

static int mk_session(imssec_srtp_session *s, imssec_srtp_stream *st, size_t cap, int suite,
                      int dir, unsigned flags, const imssec_srtp_key *keys, size_t nkeys,
                      int auto_streams)
{
    imssec_srtp_params p;
    imssec_srtp_params_init(&p);
    p.suite = suite;
    p.dir = dir;
    p.flags = flags;
    p.keys = keys;
    p.key_count = nkeys;
    p.auto_streams = auto_streams;
    return imssec_srtp_session_setup(s, &p, st, cap, NULL);
}

/* A sender and a receiver for one suite, one master key, auto streams on
 * both sides. */
static int mk_pair(pair *pr, int suite, unsigned flags)
{
    imssec_srtp_key k;
    int rc;
    memset(pr, 0, sizeof *pr);
    t_randbytes(pr->key, sizeof pr->key);
    t_randbytes(pr->salt, sizeof pr->salt);
    memset(&k, 0, sizeof k);
    k.key = pr->key;
    k.key_len = imssec_srtp_suite_key_len(suite);
    k.salt = pr->salt;
    k.salt_len = imssec_srtp_suite_salt_len(suite);
    rc = mk_session(&pr->tx, pr->txs, 8, suite, IMSSEC_SRTP_OUTBOUND, flags, &k, 1, 1);
    if (rc == IMSSEC_OK)
        rc = mk_session(&pr->rx, pr->rxs, 8, suite, IMSSEC_SRTP_INBOUND, flags, &k, 1, 1);
    return rc;
}

static void pair_wipe(pair *pr)
{
    imssec_srtp_session_wipe(&pr->tx);
    imssec_srtp_session_wipe(&pr->rx);
}

/* An RTP packet: version 2, PT 0, seq, timestamp, ssrc, payload bytes. */
static size_t mk_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t payload)
{
    size_t i;
    p[0] = 0x80;
    p[1] = 0x00;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[4] = 0x11;
    p[5] = 0x22;
    p[6] = (uint8_t)(seq >> 8);
    p[7] = (uint8_t)seq;
    p[8] = (uint8_t)(ssrc >> 24);
    p[9] = (uint8_t)(ssrc >> 16);
    p[10] = (uint8_t)(ssrc >> 8);
    p[11] = (uint8_t)ssrc;
    for (i = 0; i < payload; i++)
        p[12 + i] = (uint8_t)(seq + i * 7);
    return 12 + payload;
}

/* An RTCP receiver report with some bytes after the SSRC. */
static size_t mk_rtcp(uint8_t *p, uint32_t ssrc, size_t extra)
{
    size_t i;
    p[0] = 0x81;
    p[1] = 201;
    p[2] = 0;
    p[3] = (uint8_t)((8 + extra) / 4 - 1);
    p[4] = (uint8_t)(ssrc >> 24);
    p[5] = (uint8_t)(ssrc >> 16);
    p[6] = (uint8_t)(ssrc >> 8);
    p[7] = (uint8_t)ssrc;
    for (i = 0; i < extra; i++)
        p[8 + i] = (uint8_t)(i * 13 + 1);
    return 8 + extra;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* protect seq on pr->tx into w (from a fresh RTP packet); 0 on failure */
static size_t send_rtp(pair *pr, uint8_t *w, uint16_t seq, uint32_t ssrc, size_t payload)
{
    size_t n = mk_rtp(w, seq, ssrc, payload), out = 0;
    if (imssec_srtp_protect(&pr->tx, w, n, 1500, &out, NULL) != IMSSEC_OK)
        return 0;
    return out;
}

/* ---- RFC known answers ---------------------------------------------------------- */

/* RFC 3711 Appendix B.2: session key 2B7E..., session salt F0F1...FD,
 * SSRC 0, index 0, keystream segment of 65282 blocks.  RFC 3711 4.3.3 defines
 * the PRF as AES-CM (4.1.1) with IV = x * 2^16; with label 0 and r = 0, x
 * is the salt itself, so imssec_srtp_kdf(label 0) must yield the B.2 segment.
 * (The packet path with these session keys is test/wb_media_srtp.c.) */
T_TEST(srtp_rfc3711_b2_keystream)
{
    static uint8_t ks[1044512];
    uint8_t key[16], salt[14];
    t_unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof key);
    t_unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", salt, sizeof salt);
    T_EQ_INT(imssec_srtp_kdf(key, 16, salt, 14, 0, ks, sizeof ks), IMSSEC_OK);
    T_EQ_HEX(ks, 48,
             "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB "
             "41E95B3BB0A2E8DD477901E4FCA894C0");
    T_EQ_HEX(ks + sizeof ks - 48, 48,
             "EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE "
             "6A2CC3787889374FBEB4C81B17BA6C44");
    /* more than 2^16 blocks would repeat the counter: refused */
    T_EQ_INT(imssec_srtp_kdf(key, 16, salt, 14, 0, ks, ((size_t)1 << 20) + 1), IMSSEC_E_PARAM);
}

/* RFC 3711 Appendix B.3: cipher key, cipher salt, and the 94-octet auth key. */
T_TEST(srtp_rfc3711_b3_key_derivation)
{
    uint8_t key[16], salt[14], out[94];
    t_unhex(B3_KEY, key, sizeof key);
    t_unhex(B3_SALT, salt, sizeof salt);
    T_EQ_INT(imssec_srtp_kdf(key, 16, salt, 14, 0x00, out, 16), IMSSEC_OK);
    T_EQ_HEX(out, 16, "C61E7A93744F39EE10734AFE3FF7A087");
    T_EQ_INT(imssec_srtp_kdf(key, 16, salt, 14, 0x02, out, 14), IMSSEC_OK);
    T_EQ_HEX(out, 14, "30CBBC08863D8C85D49DB34A9AE1");
    T_EQ_INT(imssec_srtp_kdf(key, 16, salt, 14, 0x01, out, 94), IMSSEC_OK);
    T_EQ_HEX(out, 94,
             "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE "
             "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25 "
             "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2");
}

/* RFC 6188 section 7.1: the AES-256-CM keystream for the B.2 counters. */
T_TEST(srtp_rfc6188_7_1_aes256_keystream)
{
    static uint8_t ks[1044512];
    uint8_t key[32], salt[14];
    t_unhex("57f82fe3613fd170a85ec93c40b1f0922ec4cb0dc025b58272147cc438944a98", key,
            sizeof key);
    t_unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", salt, sizeof salt);
    T_EQ_INT(imssec_srtp_kdf(key, 32, salt, 14, 0, ks, sizeof ks), IMSSEC_OK);
    T_EQ_HEX(ks, 48,
             "92bdd28a93c3f52511c677d08b5515a4 9da71b2378a854f67050756ded165bac "
             "63c4868b7096d88421b563b8c94c9a31");
    T_EQ_HEX(ks + sizeof ks - 48, 48,
             "cea518c90fd91ced9cbb18c078a547113dbc4814f4da5f00a08772b63c6a046d"
             "6eb246913062a16891433e97dd01a57f");
}

/* RFC 6188 section 7.2: AES_256_CM_PRF key derivation. */
T_TEST(srtp_rfc6188_7_2_aes256_key_derivation)
{
    uint8_t key[32], salt[14], out[32];
    t_unhex("f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6", key,
            sizeof key);
    t_unhex("3b04803de51ee7c96423ab5b78d2", salt, sizeof salt);
    T_EQ_INT(imssec_srtp_kdf(key, 32, salt, 14, 0x00, out, 32), IMSSEC_OK);
    T_EQ_HEX(out, 32, "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4");
    T_EQ_INT(imssec_srtp_kdf(key, 32, salt, 14, 0x02, out, 14), IMSSEC_OK);
    T_EQ_HEX(out, 14, "fa31791685ca444a9e07c6c64e93");
    T_EQ_INT(imssec_srtp_kdf(key, 32, salt, 14, 0x01, out, 20), IMSSEC_OK);
    T_EQ_HEX(out, 20, "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05");
}

/* libsrtp 2.5.0 test/srtp_driver.c srtp_validate(): SSRC 0xcafebabe, seq
 * 0x1234, 16 bytes 0xab, master key/salt of RFC 3711 B.3; libsrtp's first
 * SRTCP packet has index 1 (ours starts at 0 as RFC 3711 3.4 says, so the
 * stream is seeded with index 1). */
T_TEST(srtp_rfc3711_4_libsrtp_reference_packets)
{
    imssec_srtp_session tx, rx;
    imssec_srtp_stream ts[2], rs[2];
    imssec_srtp_key k;
    imssec_srtp_stream_state st;
    uint8_t key[16], salt[14], buf[64], ref[64];
    size_t n, out;
    memset(&k, 0, sizeof k);
    t_unhex(B3_KEY, key, sizeof key);
    t_unhex(B3_SALT, salt, sizeof salt);
    k.key = key, k.key_len = 16, k.salt = salt, k.salt_len = 14;
    T_EQ_INT(mk_session(&tx, ts, 2, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_OUTBOUND, 0,
                        &k, 1, 0),
             IMSSEC_OK);
    T_EQ_INT(mk_session(&rx, rs, 2, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_INBOUND, 0,
                        &k, 1, 0),
             IMSSEC_OK);
    memset(&st, 0, sizeof st);
    st.rtcp_index = 1;
    T_EQ_INT(imssec_srtp_stream_add(&tx, 0xcafebabe, &st, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_stream_add(&rx, 0xcafebabe, NULL, NULL), IMSSEC_OK);

    n = t_unhex("800f1234decafbadcafebabe abababababababababababababababab", buf, sizeof buf);
    T_EQ_INT(imssec_srtp_protect(&tx, buf, n, sizeof buf, &out, NULL), IMSSEC_OK);
    T_EQ_HEX(buf, out,
             "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb");
    T_EQ_INT(imssec_srtp_unprotect(&rx, buf, out, &out, NULL, NULL), IMSSEC_OK);
    t_unhex("800f1234decafbadcafebabe abababababababababababababababab", ref, sizeof ref);
    T_EQ_INT(out, n);
    T_EQ_MEM(buf, ref, n);

    n = t_unhex("81c8000bcafebabe abababababababababababababababab", buf, sizeof buf);
    T_EQ_INT(imssec_srtp_protect_rtcp(&tx, buf, n, sizeof buf, &out, NULL), IMSSEC_OK);
    T_EQ_HEX(buf, out,
             "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798");
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&rx, buf, out, &out, NULL, NULL), IMSSEC_OK);
    T_EQ_INT(out, 24);
    T_EQ_HEX(buf, out, "81c8000bcafebabe abababababababababababababababab");
    imssec_srtp_session_wipe(&tx);
    imssec_srtp_session_wipe(&rx);

    /* srtp_validate_aes_256(): the RFC 6188 7.2 master key */
    t_unhex("f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6", ref, 32);
    t_unhex("3b04803de51ee7c96423ab5b78d2", salt, sizeof salt);
    k.key = ref, k.key_len = 32;
    T_EQ_INT(mk_session(&tx, ts, 2, IMSSEC_SRTP_AES_256_CM_HMAC_SHA1_80, IMSSEC_SRTP_OUTBOUND, 0,
                        &k, 1, 1),
             IMSSEC_OK);
    n = t_unhex("800f1234decafbadcafebabe abababababababababababababababab", buf, sizeof buf);
    T_EQ_INT(imssec_srtp_protect(&tx, buf, n, sizeof buf, &out, NULL), IMSSEC_OK);
    T_EQ_HEX(buf, out,
             "800f1234decafbadcafebabef1d9de17ff251ff1aa007774b0b4b40da08d9d9a5b3a55d8873b");
    imssec_srtp_session_wipe(&tx);
}

/* ---- packet index and ROC (RFC 3711 3.3.1) -------------------------------------- */

/* In-order across the wrap: the sender's ROC becomes 1 after 65535, the
 * receiver follows. */
T_TEST(srtp_rfc3711_3_3_1_roc_wrap)
{
    pair pr;
    uint8_t w[1500];
    uint32_t i;
    imssec_srtp_stream_state st;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, 0), IMSSEC_OK);
    for (i = 0; i < 40; i++) {
        uint16_t seq = (uint16_t)(65520 + i);
        size_t n = send_rtp(&pr, w, seq, 0x1234, 20), out;
        imssec_srtp_rx rx;
        T_ASSERT(n == 12 + 20 + 10);
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
        T_EQ_UINT(rx.index, 65520u + i);
    }
    T_EQ_INT(imssec_srtp_stream_get(&pr.tx, 0x1234, &st), IMSSEC_OK);
    T_EQ_UINT(st.roc, 1);
    T_EQ_INT(imssec_srtp_stream_get(&pr.rx, 0x1234, &st), IMSSEC_OK);
    T_EQ_UINT(st.roc, 1);
    T_EQ_UINT(st.seq, (65520u + 39) & 0xffff);
    pair_wipe(&pr);
}

/* Loss across the wrap: 65531..65535 and 0..2 never arrive; seq 3 is
 * still guessed ROC + 1 (s_l >= 2^15 and s_l - 2^15 > SEQ). */
T_TEST(srtp_rfc3711_3_3_1_roc_wrap_loss)
{
    pair pr;
    uint8_t w[1500], keep[1500];
    size_t n, out, kn = 0;
    uint32_t i;
    imssec_srtp_rx rx;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, 0), IMSSEC_OK);
    for (i = 65525; i < 65536 + 200; i++) {
        uint16_t seq = (uint16_t)i;
        n = send_rtp(&pr, w, seq, 7, 30);
        T_ASSERT(n);
        if (i > 65530 && i < 65536 + 3)
            continue; /* lost */
        if (i == 65536 + 100) { /* keep one to replay later */
            memcpy(keep, w, n);
            kn = n;
        }
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
        T_EQ_UINT(rx.index, i);
    }
    /* a burst of ~30000 lost packets: still within 2^15, still in sync */
    for (i = 65536 + 200; i < 65536 + 200 + 30000; i++)
        T_ASSERT(send_rtp(&pr, w, (uint16_t)i, 7, 0));
    n = send_rtp(&pr, w, (uint16_t)i, 7, 30);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, i);
    /* and the kept packet is now far left of the window */
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, keep, kn, &out, NULL, NULL), IMSSEC_E_REPLAY);
    pair_wipe(&pr);
}

/* Reordering across the wrap: 0 and 1 (ROC 1) arrive before 65534 and
 * 65535 (ROC 0).  v = ROC - 1 for the late ones; ROC and s_l stay. */
T_TEST(srtp_rfc3711_3_3_1_roc_wrap_reorder)
{
    pair pr;
    uint8_t w[6][1500];
    size_t n[6], out;
    static const uint16_t order[6] = {65532, 65533, 0, 1, 65534, 65535};
    static const uint32_t want[6] = {65532, 65533, 65536, 65537, 65534, 65535};
    int i;
    imssec_srtp_rx rx;
    imssec_srtp_stream_state st;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, 0), IMSSEC_OK);
    for (i = 0; i < 6; i++) /* sent in sequence order */
        n[i] = send_rtp(&pr, w[i], (uint16_t)(65532 + i), 9, 16);
    for (i = 0; i < 6; i++) {
        int k = (order[i] >= 65532) ? order[i] - 65532 : order[i] + 4;
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w[k], n[k], &out, &rx, NULL), IMSSEC_OK);
        T_EQ_UINT(rx.index, want[i]);
    }
    T_EQ_INT(imssec_srtp_stream_get(&pr.rx, 9, &st), IMSSEC_OK);
    T_EQ_UINT(st.roc, 1);
    T_EQ_UINT(st.seq, 1);
    pair_wipe(&pr);
}

/* A late joiner told the sender's current ROC (RFC 3711 3.3.1 "Receivers
 * joining an on-going session MUST be given the current ROC"), with ROC
 * greater than 0 (libsrtp #307 was broken there). */
T_TEST(srtp_rfc3711_3_3_1_late_joiner_roc)
{
    pair pr;
    imssec_srtp_stream_state st;
    uint8_t w[1500];
    size_t n, out;
    imssec_srtp_rx rx;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, 0), IMSSEC_OK);
    memset(&st, 0, sizeof st);
    st.roc = 5;
    st.seq = 100;
    st.seq_known = 1;
    T_EQ_INT(imssec_srtp_stream_add(&pr.tx, 42, &st, NULL), IMSSEC_OK);
    memset(&st, 0, sizeof st);
    st.roc = 5; /* s_l from the first packet */
    T_EQ_INT(imssec_srtp_stream_add(&pr.rx, 42, &st, NULL), IMSSEC_OK);
    n = send_rtp(&pr, w, 101, 42, 10);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, (5ull << 16) | 101);
    /* the sender refuses to reuse 100 (seeded as sent) */
    n = mk_rtp(w, 100, 42, 10);
    T_EQ_INT(imssec_srtp_protect(&pr.tx, w, n, sizeof w, &out, NULL), IMSSEC_E_REPLAY);
    pair_wipe(&pr);
}

/* ---- replay (RFC 3711 3.3.2) ------------------------------------------------------ */

T_TEST(srtp_rfc3711_3_3_2_replay_window)
{
    static const uint32_t windows[3] = {64, 128, 512};
    int wi;
    for (wi = 0; wi < 3 && windows[wi] <= IMSSEC_SRTP_REPLAY_WINDOW_MAX; wi++) {
        imssec_srtp_session tx, rx;
        imssec_srtp_stream ts[1], rs[1];
        imssec_srtp_params p;
        imssec_srtp_key k;
        uint8_t key[16] = {1}, salt[14] = {2};
        static uint8_t pk[700][64];
        static size_t n[700];
        size_t out;
        uint32_t W = windows[wi], i;
        memset(&k, 0, sizeof k);
        k.key = key, k.key_len = 16, k.salt = salt, k.salt_len = 14;
        imssec_srtp_params_init(&p);
        p.keys = &k;
        p.key_count = 1;
        p.auto_streams = 1;
        p.replay_window = W;
        T_EQ_INT(imssec_srtp_session_setup(&tx, &p, ts, 1, NULL), IMSSEC_OK);
        p.dir = IMSSEC_SRTP_INBOUND;
        T_EQ_INT(imssec_srtp_session_setup(&rx, &p, rs, 1, NULL), IMSSEC_OK);
        for (i = 0; i < 700; i++) {
            size_t m = mk_rtp(pk[i], (uint16_t)(1000 + i), 5, 8);
            T_EQ_INT(imssec_srtp_protect(&tx, pk[i], m, sizeof pk[i], &n[i], NULL), IMSSEC_OK);
        }
        /* receive 600 only (index 1600), then probe the edge of the window */
        {
            uint8_t c[64];
            memcpy(c, pk[600], n[600]);
            T_EQ_INT(imssec_srtp_unprotect(&rx, c, n[600], &out, NULL, NULL), IMSSEC_OK);
            memcpy(c, pk[600], n[600]);
            T_EQ_INT(imssec_srtp_unprotect(&rx, c, n[600], &out, NULL, NULL), IMSSEC_E_REPLAY);
            memcpy(c, pk[600 - W], n[600 - W]); /* top - W: left of the window */
            T_EQ_INT(imssec_srtp_unprotect(&rx, c, n[600 - W], &out, NULL, NULL), IMSSEC_E_REPLAY);
            memcpy(c, pk[600 - W + 1], n[600 - W + 1]); /* top - W + 1: inside */
            T_EQ_INT(imssec_srtp_unprotect(&rx, c, n[600 - W + 1], &out, NULL, NULL), IMSSEC_OK);
            memcpy(c, pk[600 - W + 1], n[600 - W + 1]);
            T_EQ_INT(imssec_srtp_unprotect(&rx, c, n[600 - W + 1], &out, NULL, NULL),
                     IMSSEC_E_REPLAY);
            memcpy(c, pk[650], n[650]); /* ahead */
            T_EQ_INT(imssec_srtp_unprotect(&rx, c, n[650], &out, NULL, NULL), IMSSEC_OK);
            memcpy(c, pk[620], n[620]); /* behind the new top, never seen */
            T_EQ_INT(imssec_srtp_unprotect(&rx, c, n[620], &out, NULL, NULL), IMSSEC_OK);
        }
        T_EQ_UINT(imssec_srtp_session_stats(&rx)->replay, 3);
        imssec_srtp_session_wipe(&tx);
        imssec_srtp_session_wipe(&rx);
    }
}

/* The window against a model: a set of accepted indices and the rule
 * "accept iff ahead of top, or within W and unseen". */
T_TEST(srtp_rfc3711_3_3_2_replay_model)
{
    pair pr;
    static uint8_t pk[3000][48];
    static size_t n[3000];
    static uint8_t seen[3000];
    uint32_t i, top = 0;
    int have = 0;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32, 0), IMSSEC_OK);
    for (i = 0; i < 3000; i++)
        T_ASSERT((n[i] = send_rtp(&pr, pk[i], (uint16_t)(65000 + i), 77, 4)) != 0);
    memset(seen, 0, sizeof seen);
    for (i = 0; i < 20000; i++) {
        /* the first packet must be from before the wrap (i < 536): a receiver
         * without s_l cannot know the sender's ROC (RFC 3711 3.3.1) */
        uint32_t j = (uint32_t)(t_rand64() % (have ? 3000 : 500));
        uint8_t c[48];
        size_t out;
        int want, got;
        if (i % 3 == 0 && have && top + 1 < 3000) { /* mostly forward, as real traffic */
            j = top + 1 + (uint32_t)(t_rand64() % 5);
            if (j > 2999)
                j = 2999;
        }
        want = !have || j > top || (top - j < IMSSEC_SRTP_REPLAY_DEFAULT && !seen[j]);
        memcpy(c, pk[j], n[j]);
        got = imssec_srtp_unprotect(&pr.rx, c, n[j], &out, NULL, NULL);
        T_EQ_INT(got, want ? IMSSEC_OK : IMSSEC_E_REPLAY);
        if (want) {
            seen[j] = 1;
            if (!have || j > top)
                top = j;
            have = 1;
        }
    }
    pair_wipe(&pr);
}

T_TEST(srtp_rfc3711_3_4_srtcp_replay_and_index)
{
    pair pr;
    uint8_t pk[300][80];
    size_t n[300], out;
    int i;
    imssec_srtp_rx rx;
    imssec_srtp_stream_state st;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32, 0), IMSSEC_OK);
    for (i = 0; i < 300; i++) {
        size_t m = mk_rtcp(pk[i], 0xabcdef01, 20);
        T_EQ_INT(imssec_srtp_protect_rtcp(&pr.tx, pk[i], m, sizeof pk[i], &n[i], NULL), IMSSEC_OK);
        /* _32 suite: the SRTCP tag is still 80 bits (RFC 3711 5.2) */
        T_EQ_INT(n[i], m + 4 + 10);
        T_EQ_UINT(be32(pk[i] + m), 0x80000000u | (uint32_t)i);
    }
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, pk[250], n[250], &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, 250);
    T_EQ_INT(rx.encrypted, 1);
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, pk[250], n[250], &out, NULL, NULL),
             IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, pk[250 - IMSSEC_SRTP_REPLAY_DEFAULT],
                                        n[250 - IMSSEC_SRTP_REPLAY_DEFAULT], &out, NULL, NULL),
             IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, pk[250 - IMSSEC_SRTP_REPLAY_DEFAULT + 1],
                                        n[250 - IMSSEC_SRTP_REPLAY_DEFAULT + 1], &out, NULL, NULL),
             IMSSEC_OK);
    T_EQ_INT(imssec_srtp_stream_get(&pr.rx, 0xabcdef01, &st), IMSSEC_OK);
    T_EQ_INT(st.rtcp_known, 1);
    T_EQ_UINT(st.rtcp_index, 250);
    T_EQ_INT(imssec_srtp_stream_get(&pr.tx, 0xabcdef01, &st), IMSSEC_OK);
    T_EQ_UINT(st.rtcp_index, 300);
    pair_wipe(&pr);
}

/* ---- failures change nothing ----------------------------------------------------- */

typedef struct snap {
    imssec_srtp_session s;
    imssec_srtp_stream st[8];
} snap;

static void take(snap *sn, const pair *pr)
{
    memcpy(&sn->s, &pr->rx, sizeof sn->s);
    memcpy(sn->st, pr->rxs, sizeof sn->st);
    memset(&sn->s.stats_, 0, sizeof sn->s.stats_); /* documented exception */
}

static int same(const snap *a, const snap *b)
{
    return memcmp(&a->s, &b->s, sizeof a->s) == 0 && memcmp(a->st, b->st, sizeof a->st) == 0;
}

/* Every inbound verdict leaves the session, its streams and the buffer as
 * they were (RFC 3711 3.3 steps 5-7: update only after authentication). */
T_TEST(srtp_rfc3711_3_3_failure_changes_nothing)
{
    static const int suites[3] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80,
                                  IMSSEC_SRTP_AEAD_AES_128_GCM,
                                  IMSSEC_SRTP_AES_256_CM_HMAC_SHA1_32};
    int si;
    for (si = 0; si < 3; si++) {
        pair pr;
        uint8_t w[200], c[200], d[200];
        size_t n, out, i;
        int it;
        snap a, b;
        if (mk_pair(&pr, suites[si], 0) == IMSSEC_E_UNSUPPORTED)
            continue;
        n = send_rtp(&pr, w, 501, 3, 40);
        memcpy(c, w, n);
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, c, n, &out, NULL, NULL), IMSSEC_OK);
        for (it = 0; it < 500; it++) {
            int rc;
            size_t m = n;
            memcpy(c, w, n); /* 501: received already */
            switch (it % 5) {
            case 0: /* a flipped bit anywhere */
                c[t_rand64() % n] ^= (uint8_t)(1u << (t_rand64() % 8));
                break;
            case 1: /* truncated */
                m = (size_t)(t_rand64() % n);
                break;
            case 2: /* a forged packet for a new SSRC (auto_streams is on) */
                c[8 + t_rand64() % 4] ^= (uint8_t)(1 + t_rand64() % 255);
                break;
            case 3: /* a new sequence number, random bytes after the header */
                c[3] ^= (uint8_t)(1 + t_rand64() % 255);
                for (i = 12; i < n; i++)
                    c[i] = (uint8_t)t_rand64();
                break;
            default: /* the replay itself */
                break;
            }
            memcpy(d, c, m);
            take(&a, &pr);
            rc = imssec_srtp_unprotect(&pr.rx, c, m, &out, NULL, NULL);
            T_ASSERT(rc != IMSSEC_OK);
            T_ASSERT(imssec_err_is_verdict(rc));
            take(&b, &pr);
            T_ASSERT(same(&a, &b));
            T_EQ_MEM(c, d, m);
        }
        T_EQ_UINT(imssec_srtp_stream_count(&pr.rx), 1);
        pair_wipe(&pr);
    }
}

/* The same for SRTCP, including a wrong E flag and an unknown MKI. */
T_TEST(srtp_rfc3711_3_4_failure_changes_nothing)
{
    pair pr;
    uint8_t w[200], c[200];
    size_t n, out;
    int it;
    snap a, b;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, 0), IMSSEC_OK);
    n = mk_rtcp(w, 99, 40);
    T_EQ_INT(imssec_srtp_protect_rtcp(&pr.tx, w, n, sizeof w, &n, NULL), IMSSEC_OK);
    for (it = 0; it < 300; it++) {
        int rc;
        size_t m = n;
        memcpy(c, w, n);
        if (it % 3 == 0)
            c[t_rand64() % n] ^= (uint8_t)(1u << (t_rand64() % 8));
        else if (it % 3 == 1)
            m = (size_t)(t_rand64() % n);
        else
            c[n - 14] ^= 0x80; /* the E flag */
        take(&a, &pr);
        {
            uint8_t d[200];
            memcpy(d, c, m);
            rc = imssec_srtp_unprotect_rtcp(&pr.rx, c, m, &out, NULL, NULL);
            T_ASSERT(rc != IMSSEC_OK);
            T_ASSERT(imssec_err_is_verdict(rc));
            T_EQ_MEM(c, d, m);
        }
        take(&b, &pr);
        T_ASSERT(same(&a, &b));
    }
    T_EQ_UINT(imssec_srtp_stream_count(&pr.rx), 0);
    memcpy(c, w, n);
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, c, n, &out, NULL, NULL), IMSSEC_OK);
    pair_wipe(&pr);
}

/* A mutated packet leaves the buffer untouched (GCM too: the tag is checked
 * before anything is decrypted). */
T_TEST(srtp_rfc7714_buffer_unchanged_on_failure)
{
    static const int suites[2] = {IMSSEC_SRTP_AEAD_AES_256_GCM, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80};
    int si, it;
    for (si = 0; si < 2; si++) {
        pair pr;
        uint8_t w[300], c[300], d[300];
        size_t n, out;
        if (mk_pair(&pr, suites[si], 0) == IMSSEC_E_UNSUPPORTED)
            T_SKIP("AES-GCM compiled out of this mbedTLS");
        n = send_rtp(&pr, w, 7, 1, 200);
        for (it = 0; it < 200; it++) {
            memcpy(c, w, n);
            c[12 + t_rand64() % (n - 12)] ^= 0x01;
            memcpy(d, c, n);
            T_EQ_INT(imssec_srtp_unprotect(&pr.rx, c, n, &out, NULL, NULL), IMSSEC_E_ICV);
            T_EQ_MEM(c, d, n);
        }
        pair_wipe(&pr);
    }
}

/* ---- keys: MKI, lifetimes, KDR ------------------------------------------------- */

T_TEST(srtp_rfc3711_8_1_mki_rekey)
{
    imssec_srtp_session tx, rx;
    imssec_srtp_stream ts[2], rs[2];
    imssec_srtp_key k[2], k3;
    uint8_t key[3][16], salt[3][14], mki[3][4] = {{0, 0, 0, 1}, {0, 0, 0, 2}, {0, 0, 0, 3}};
    uint8_t w[100], old[100];
    size_t n, out, on, idx;
    imssec_srtp_rx r;
    imssec_srtp_key_info info;
    int i;
    if (IMSSEC_SRTP_KEYS_MAX < 2 || IMSSEC_SRTP_MKI_MAX < 4)
        T_SKIP("needs IMSSEC_SRTP_KEYS_MAX >= 2 and IMSSEC_SRTP_MKI_MAX >= 4");
    for (i = 0; i < 3; i++) {
        t_randbytes(key[i], 16);
        t_randbytes(salt[i], 14);
    }
    memset(k, 0, sizeof k);
    for (i = 0; i < 2; i++) {
        k[i].key = key[i], k[i].key_len = 16, k[i].salt = salt[i], k[i].salt_len = 14;
        k[i].mki = mki[i], k[i].mki_len = 4;
    }
    T_EQ_INT(mk_session(&tx, ts, 2, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_OUTBOUND, 0,
                        k, 2, 1),
             IMSSEC_OK);
    T_EQ_INT(mk_session(&rx, rs, 2, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_INBOUND, 0,
                        k, 2, 1),
             IMSSEC_OK);
    T_EQ_UINT(imssec_srtp_overhead(&tx, 0), 14);
    T_EQ_UINT(imssec_srtp_overhead(&tx, 1), 18);
    n = mk_rtp(w, 1, 10, 20);
    T_EQ_INT(imssec_srtp_protect(&tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    T_EQ_INT(out, n + 4 + 10);
    T_EQ_MEM(w + n, mki[0], 4); /* MKI before the tag (RFC 3711 3.1) */
    memcpy(old, w, out);
    on = out;
    /* switch the send key: the MKI follows, the receiver follows the MKI */
    T_EQ_INT(imssec_srtp_key_select(&tx, 1), IMSSEC_OK);
    n = mk_rtp(w, 2, 10, 20);
    T_EQ_INT(imssec_srtp_protect(&tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    T_EQ_MEM(w + n, mki[1], 4);
    T_EQ_INT(imssec_srtp_unprotect(&rx, w, out, &out, &r, NULL), IMSSEC_OK);
    T_EQ_UINT(r.key_index, 1);
    /* the old key's packet still verifies until the old key is removed */
    memcpy(w, old, on);
    T_EQ_INT(imssec_srtp_key_remove(&rx, 0), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_unprotect(&rx, w, on, &out, NULL, NULL), IMSSEC_E_NO_SA);
    T_EQ_UINT(imssec_srtp_session_stats(&rx)->no_key, 1);
    T_EQ_INT(imssec_srtp_key_remove(&tx, 1), IMSSEC_E_STATE); /* the send key */
    T_EQ_INT(imssec_srtp_key_remove(&tx, 0), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_key_get(&tx, 0, &info), IMSSEC_E_NOT_FOUND);
    /* a third key, added while running */
    memset(&k3, 0, sizeof k3);
    k3.key = key[2], k3.key_len = 16, k3.salt = salt[2], k3.salt_len = 14;
    k3.mki = mki[1], k3.mki_len = 4;
    T_EQ_INT(imssec_srtp_key_add(&tx, &k3, &idx, NULL), IMSSEC_E_EXISTS);
    k3.mki = mki[2];
    k3.mki_len = 3;
    T_EQ_INT(imssec_srtp_key_add(&tx, &k3, &idx, NULL), IMSSEC_E_PARAM);
    k3.mki_len = 4;
    T_EQ_INT(imssec_srtp_key_add(&tx, &k3, &idx, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_key_add(&rx, &k3, NULL, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_key_select(&tx, idx), IMSSEC_OK);
    n = mk_rtp(w, 3, 10, 20);
    T_EQ_INT(imssec_srtp_protect(&tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_unprotect(&rx, w, out, &out, &r, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_key_get(&rx, r.key_index, &info), IMSSEC_OK);
    T_EQ_MEM(info.mki, mki[2], 4);
    T_EQ_UINT(info.srtp_packets, 1);
    /* an unknown MKI */
    n = mk_rtp(w, 4, 10, 20);
    T_EQ_INT(imssec_srtp_protect(&tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    w[n + 3] ^= 0x40;
    T_EQ_INT(imssec_srtp_unprotect(&rx, w, out, &out, NULL, NULL), IMSSEC_E_NO_SA);
    imssec_srtp_session_wipe(&tx);
    imssec_srtp_session_wipe(&rx);
}

typedef struct evlog {
    int n;
    imssec_srtp_event ev[8];
} evlog;

static void on_event(void *user, const imssec_srtp_event *ev)
{
    evlog *l = (evlog *)user;
    if (l->n < 8)
        l->ev[l->n] = *ev;
    l->n++;
}

/* RFC 3711 9.2 / TS 33.328 7.2.1 NOTE 1: lifetimes enforced, and reported
 * before they are reached. */
T_TEST(srtp_rfc3711_9_2_key_lifetime)
{
    imssec_srtp_session tx, rx;
    imssec_srtp_stream ts[1], rs[1];
    imssec_srtp_params p;
    imssec_srtp_key k;
    imssec_srtp_key_info info;
    uint8_t key[16] = {9}, salt[14] = {8}, w[12][100], c[100];
    size_t n[12], out;
    evlog ltx, lrx;
    int i;
    memset(&k, 0, sizeof k);
    memset(&ltx, 0, sizeof ltx);
    memset(&lrx, 0, sizeof lrx);
    k.key = key, k.key_len = 16, k.salt = salt, k.salt_len = 14;
    /* defaults: 2^48 and 2^31 */
    imssec_srtp_params_init(&p);
    p.keys = &k;
    p.key_count = 1;
    T_EQ_INT(imssec_srtp_session_setup(&tx, &p, ts, 1, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_key_get(&tx, 0, &info), IMSSEC_OK);
    T_EQ_UINT(info.srtp_remaining, (uint64_t)1 << 48);
    T_EQ_UINT(info.srtcp_remaining, (uint64_t)1 << 31);
    imssec_srtp_session_wipe(&tx);
    k.srtp_lifetime = ((uint64_t)1 << 48) + 1;
    T_EQ_INT(imssec_srtp_session_setup(&tx, &p, ts, 1, NULL), IMSSEC_E_RANGE);
    k.srtp_lifetime = 10;
    k.srtcp_lifetime = 4;
    p.lifetime_margin = 3;
    p.auto_streams = 1;
    p.event = on_event;
    p.user = &ltx;
    T_EQ_INT(imssec_srtp_session_setup(&tx, &p, ts, 1, NULL), IMSSEC_OK);
    p.dir = IMSSEC_SRTP_INBOUND;
    p.user = &lrx;
    T_EQ_INT(imssec_srtp_session_setup(&rx, &p, rs, 1, NULL), IMSSEC_OK);
    for (i = 0; i < 11; i++) {
        size_t m = mk_rtp(w[i], (uint16_t)i, 1, 5);
        int rc = imssec_srtp_protect(&tx, w[i], m, sizeof w[i], &n[i], NULL);
        T_EQ_INT(rc, i < 10 ? IMSSEC_OK : IMSSEC_E_SEQ_EXHAUSTED);
        if (i == 5)
            T_EQ_INT(ltx.n, 1); /* stream new */
        if (i == 6) { /* 3 left after the 7th packet */
            T_EQ_INT(ltx.n, 2);
            T_EQ_INT(ltx.ev[1].kind, IMSSEC_SRTP_EV_KEY_SOFT_LIMIT);
            T_EQ_UINT(ltx.ev[1].remaining, 3);
            T_EQ_INT(ltx.ev[1].rtcp, 0);
        }
    }
    T_EQ_INT(ltx.n, 3);
    T_EQ_INT(ltx.ev[2].kind, IMSSEC_SRTP_EV_KEY_HARD_LIMIT);
    T_EQ_INT(imssec_srtp_key_get(&tx, 0, &info), IMSSEC_OK);
    T_EQ_UINT(info.srtp_remaining, 0);
    T_EQ_INT(info.soft_limit, 1);
    /* the receiver counts too, and refuses an 11th packet */
    for (i = 0; i < 10; i++)
        T_EQ_INT(imssec_srtp_unprotect(&rx, w[i], n[i], &out, NULL, NULL), IMSSEC_OK);
    T_EQ_INT(lrx.n, 3);
    /* SRTCP counts separately */
    for (i = 0; i < 5; i++) {
        size_t m = mk_rtcp(c, 1, 8);
        T_EQ_INT(imssec_srtp_protect_rtcp(&tx, c, m, sizeof c, &out, NULL),
                 i < 4 ? IMSSEC_OK : IMSSEC_E_SEQ_EXHAUSTED);
    }
    T_EQ_INT(ltx.n, 5);
    T_EQ_INT(ltx.ev[3].kind, IMSSEC_SRTP_EV_KEY_SOFT_LIMIT);
    T_EQ_INT(ltx.ev[3].rtcp, 1);
    T_EQ_UINT(ltx.ev[3].remaining, 3);
    imssec_srtp_session_wipe(&tx);
    imssec_srtp_session_wipe(&rx);
}

/* TS 33.328 Annex C: KDR other than 0 may be refused, and is, clearly. */
T_TEST(srtp_ts33328_annex_c_kdr_refused)
{
    imssec_srtp_session s;
    imssec_srtp_stream st[1];
    imssec_srtp_params p;
    imssec_srtp_key k;
    imssec_errinfo e;
    uint8_t key[16] = {0}, salt[14] = {0};
    memset(&k, 0, sizeof k);
    k.key = key, k.key_len = 16, k.salt = salt, k.salt_len = 14;
    imssec_srtp_params_init(&p);
    p.keys = &k;
    p.key_count = 1;
    p.kdr = (uint64_t)1 << 16;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_UNSUPPORTED);
    T_ASSERT(e.clause && strstr(e.clause, "Annex C"));
    T_ASSERT(e.what && strstr(e.what, "key derivation rate"));
    p.kdr = 0;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_OK);
    imssec_srtp_session_wipe(&s);
}

T_TEST(srtp_params_refused)
{
    imssec_srtp_session s;
    imssec_srtp_stream st[1];
    imssec_srtp_params p;
    imssec_srtp_key k[2];
    imssec_errinfo e;
    uint8_t key[32] = {0}, salt[14] = {0}, mki[2] = {1, 2};
    memset(k, 0, sizeof k);
    k[0].key = key, k[0].key_len = 16, k[0].salt = salt, k[0].salt_len = 14;
    k[1] = k[0];
    imssec_srtp_params_init(&p);
    p.keys = k;
    p.key_count = 1;
    k[0].key_len = 32;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM);
    T_EQ_STR(e.param, "key.key_len");
    k[0].key_len = 16;
    k[0].salt_len = 12;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM);
    T_EQ_STR(e.param, "key.salt_len");
    k[0].salt_len = 14;
    p.replay_window = 100;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM);
    p.replay_window = 32;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM);
    p.replay_window = IMSSEC_SRTP_REPLAY_DEFAULT;
    p.key_count = 2; /* two keys without MKI */
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM);
    k[0].mki = mki, k[0].mki_len = 2;
    k[1].mki = mki, k[1].mki_len = 2;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM); /* same MKI */
    k[1].mki_len = 1;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM); /* lengths differ */
    p.key_count = 1;
    k[0].mki = NULL, k[0].mki_len = 0;
    p.suite = IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32;
    p.rcc_mode = IMSSEC_SRTP_RCC_M2; /* no room for a MAC after the ROC */
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM);
    p.rcc_mode = IMSSEC_SRTP_RCC_NONE;
    p.suite = IMSSEC_SRTP_AEAD_AES_128_GCM;
    k[0].salt_len = 12;
    p.flags = IMSSEC_SRTP_UNENCRYPTED_SRTP;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_UNSUPPORTED);
    p.suite = 99;
    T_EQ_INT(imssec_srtp_session_setup(&s, &p, st, 1, &e), IMSSEC_E_PARAM);
    /* a failed setup leaves a zeroed session */
    {
        uint8_t z[sizeof s];
        memset(z, 0, sizeof z);
        T_EQ_MEM(&s, z, sizeof s);
    }
    T_EQ_STR(imssec_srtp_suite_name(IMSSEC_SRTP_AEAD_AES_256_GCM), "AEAD_AES_256_GCM");
    T_EQ_INT(imssec_srtp_suite_from_name(imssec_cstr("AES_CM_128_HMAC_SHA1_32")),
             IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32);
    T_EQ_INT(imssec_srtp_suite_from_name(imssec_cstr("aes_cm_128_hmac_sha1_32")),
             IMSSEC_SRTP_SUITE_UNKNOWN);
    T_EQ_INT(imssec_srtp_suite_from_name(imssec_cstr("AES_CM_128_HMAC_SHA1")),
             IMSSEC_SRTP_SUITE_UNKNOWN);
}

/* ---- SDES session parameters (RFC 4568 6.3, TS 33.328 Annex E) ------------------- */

T_TEST(srtp_rfc4568_6_3_unencrypted_unauthenticated)
{
    pair pr;
    uint8_t w[100], ref[100];
    size_t n, out;
    imssec_srtp_rx rx;
    /* UNENCRYPTED_SRTP: payload in the clear, tag present and checked */
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_UNENCRYPTED_SRTP),
             IMSSEC_OK);
    n = mk_rtp(ref, 1, 2, 30);
    memcpy(w, ref, n);
    T_EQ_INT(imssec_srtp_protect(&pr.tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    T_EQ_INT(out, n + 10);
    T_EQ_MEM(w, ref, n);
    w[20] ^= 1;
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, out, &out, NULL, NULL), IMSSEC_E_ICV);
    w[20] ^= 1;
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n + 10, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_INT(rx.encrypted, 0);
    /* SRTCP is still encrypted */
    n = mk_rtcp(ref, 2, 12);
    memcpy(w, ref, n);
    T_EQ_INT(imssec_srtp_protect_rtcp(&pr.tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    T_ASSERT(memcmp(w + 8, ref + 8, 12) != 0);
    pair_wipe(&pr);

    /* UNAUTHENTICATED_SRTP: no tag; SRTCP keeps its tag */
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_UNAUTHENTICATED_SRTP),
             IMSSEC_OK);
    n = mk_rtp(ref, 1, 2, 30);
    memcpy(w, ref, n);
    T_EQ_INT(imssec_srtp_protect(&pr.tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    T_EQ_INT(out, n);
    T_ASSERT(memcmp(w + 12, ref + 12, 30) != 0);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, out, &out, NULL, NULL), IMSSEC_OK);
    T_EQ_MEM(w, ref, n);
    n = mk_rtcp(ref, 2, 12);
    T_EQ_INT(imssec_srtp_protect_rtcp(&pr.tx, ref, n, sizeof ref, &out, NULL), IMSSEC_OK);
    T_EQ_INT(out, n + 14);
    pair_wipe(&pr);

    /* UNENCRYPTED_SRTCP: E = 0, body in the clear, a packet with E = 1 is refused */
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_256_CM_HMAC_SHA1_32, IMSSEC_SRTP_UNENCRYPTED_SRTCP),
             IMSSEC_OK);
    n = mk_rtcp(ref, 2, 12);
    memcpy(w, ref, n);
    T_EQ_INT(imssec_srtp_protect_rtcp(&pr.tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
    T_EQ_MEM(w, ref, n);
    T_EQ_UINT(w[n], 0x00); /* E = 0 */
    w[n] |= 0x80;
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, w, out, &out, NULL, NULL), IMSSEC_E_MALFORMED);
    w[n] &= 0x7f;
    T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, w, n + 14, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_INT(rx.encrypted, 0);
    T_EQ_MEM(w, ref, n);
    pair_wipe(&pr);
}

/* ---- streams ------------------------------------------------------------------------ */

/* A receiver of a new call leg: streams created from the template only for
 * authentic packets; a full table refuses new SSRCs without side effects. */
T_TEST(srtp_rfc3711_3_2_3_auto_streams)
{
    pair pr;
    uint8_t w[100];
    size_t n, out;
    uint32_t ssrc;
    imssec_srtp_rx rx;
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, 0), IMSSEC_OK);
    for (ssrc = 1; ssrc <= 9; ssrc++) {
        n = send_rtp(&pr, w, 10, ssrc, 20);
        if (ssrc == 9) { /* the sender's table (8) is full too */
            T_EQ_INT(n, 0);
            break;
        }
        w[15] ^= 1; /* forged first: no stream */
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_E_ICV);
        T_EQ_UINT(imssec_srtp_stream_count(&pr.rx), ssrc - 1);
        w[15] ^= 1;
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
        T_EQ_INT(rx.new_stream, 1);
        T_EQ_UINT(imssec_srtp_stream_count(&pr.rx), ssrc);
    }
    /* a ninth SSRC at the receiver: authentic, but no room */
    T_EQ_INT(imssec_srtp_stream_remove(&pr.tx, 1), IMSSEC_OK);
    n = send_rtp(&pr, w, 10, 9, 20);
    T_ASSERT(n);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_E_NO_SA);
    T_EQ_UINT(imssec_srtp_session_stats(&pr.rx)->no_stream, 1);
    pair_wipe(&pr);

    /* without auto streams: only the SSRCs added */
    {
        imssec_srtp_session tx, rxs;
        imssec_srtp_stream ts[2], rs[2];
        imssec_srtp_key k;
        uint8_t key[16] = {3}, salt[14] = {4};
        memset(&k, 0, sizeof k);
        k.key = key, k.key_len = 16, k.salt = salt, k.salt_len = 14;
        T_EQ_INT(mk_session(&tx, ts, 2, 0, IMSSEC_SRTP_OUTBOUND, 0, &k, 1, 0), IMSSEC_OK);
        T_EQ_INT(mk_session(&rxs, rs, 2, 0, IMSSEC_SRTP_INBOUND, 0, &k, 1, 0), IMSSEC_OK);
        n = mk_rtp(w, 1, 5, 10);
        T_EQ_INT(imssec_srtp_protect(&tx, w, n, sizeof w, &out, NULL), IMSSEC_E_NO_SA);
        T_EQ_INT(imssec_srtp_stream_add(&tx, 5, NULL, NULL), IMSSEC_OK);
        T_EQ_INT(imssec_srtp_stream_add(&tx, 5, NULL, NULL), IMSSEC_E_EXISTS);
        T_EQ_INT(imssec_srtp_protect(&tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
        T_EQ_INT(imssec_srtp_unprotect(&rxs, w, out, &out, NULL, NULL), IMSSEC_E_NO_SA);
        imssec_srtp_session_wipe(&tx);
        imssec_srtp_session_wipe(&rxs);
    }
}

/* The stream table (open addressing, backward-shift deletion) against a
 * plain list, through random adds and removes. */
T_TEST(srtp_stream_table_model)
{
    imssec_srtp_session s;
    static imssec_srtp_stream st[37];
    imssec_srtp_key k;
    uint8_t key[16] = {5}, salt[14] = {6};
    uint32_t model[37];
    size_t nm = 0, i;
    int it;
    memset(&k, 0, sizeof k);
    k.key = key, k.key_len = 16, k.salt = salt, k.salt_len = 14;
    T_EQ_INT(mk_session(&s, st, 37, 0, IMSSEC_SRTP_INBOUND, 0, &k, 1, 0), IMSSEC_OK);
    for (it = 0; it < 20000; it++) {
        uint32_t ssrc = (uint32_t)(t_rand64() % 64); /* few values: many collisions */
        imssec_srtp_stream_state ss;
        int in = 0;
        size_t at = 0;
        for (i = 0; i < nm; i++)
            if (model[i] == ssrc)
                in = 1, at = i;
        if (t_rand64() & 1) {
            int rc;
            memset(&ss, 0, sizeof ss);
            ss.roc = ssrc * 3;
            rc = imssec_srtp_stream_add(&s, ssrc, &ss, NULL);
            T_EQ_INT(rc, in ? IMSSEC_E_EXISTS : nm == 37 ? IMSSEC_E_SPACE : IMSSEC_OK);
            if (rc == IMSSEC_OK)
                model[nm++] = ssrc;
        } else {
            T_EQ_INT(imssec_srtp_stream_remove(&s, ssrc), in ? IMSSEC_OK : IMSSEC_E_NOT_FOUND);
            if (in)
                model[at] = model[--nm];
        }
        T_EQ_UINT(imssec_srtp_stream_count(&s), nm);
        for (i = 0; i < nm; i++) {
            T_EQ_INT(imssec_srtp_stream_get(&s, model[i], &ss), IMSSEC_OK);
            T_EQ_UINT(ss.roc, model[i] * 3);
        }
    }
    imssec_srtp_session_wipe(&s);
}

/* ---- RFC 4771 ------------------------------------------------------------------------- */

/* HMAC-SHA1 with mbedTLS's generic API, independent of the library's. */
static void ref_hmac(const uint8_t *key, size_t klen, const uint8_t *a, size_t an,
                     const uint8_t *b, size_t bn, uint8_t out[20])
{
    mbedtls_md_context_t c;
    mbedtls_md_init(&c);
    mbedtls_md_setup(&c, mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), 1);
    mbedtls_md_hmac_starts(&c, key, klen);
    mbedtls_md_hmac_update(&c, a, an);
    mbedtls_md_hmac_update(&c, b, bn);
    mbedtls_md_hmac_finish(&c, out);
    mbedtls_md_free(&c);
}

static int mk_rcc_pair(pair *pr, int suite, int mode, uint32_t rate)
{
    imssec_srtp_params p;
    imssec_srtp_key k;
    int rc;
    memset(pr, 0, sizeof *pr);
    t_randbytes(pr->key, 16);
    t_randbytes(pr->salt, 14);
    memset(&k, 0, sizeof k);
    k.key = pr->key, k.key_len = 16, k.salt = pr->salt, k.salt_len = 14;
    imssec_srtp_params_init(&p);
    p.suite = suite;
    p.keys = &k;
    p.key_count = 1;
    p.auto_streams = 1;
    p.rcc_mode = mode;
    p.rcc_rate = rate;
    rc = imssec_srtp_session_setup(&pr->tx, &p, pr->txs, 8, NULL);
    p.dir = IMSSEC_SRTP_INBOUND;
    if (rc == IMSSEC_OK)
        rc = imssec_srtp_session_setup(&pr->rx, &p, pr->rxs, 8, NULL);
    return rc;
}

/* RFC 4771 3 (R = 1): every packet carries TAG = ROC_sender || MAC_tr, the
 * MAC computed as the default transform's and truncated by 32 bits; a
 * receiver that was told the wrong ROC (here 0, the sender is at 7) syncs
 * from the first packet. */
T_TEST(srtp_rfc4771_rccm2_r1_late_joiner)
{
    pair pr;
    imssec_srtp_stream_state st;
    uint8_t w[100], a[20], mac[20], roc[4] = {0, 0, 0, 7};
    size_t n, out;
    imssec_srtp_rx rx;
    T_EQ_INT(mk_rcc_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_RCC_M2, 1),
             IMSSEC_OK);
    memset(&st, 0, sizeof st);
    st.roc = 7;
    st.seq = 500;
    st.seq_known = 1;
    T_EQ_INT(imssec_srtp_stream_add(&pr.tx, 77, &st, NULL), IMSSEC_OK);
    n = send_rtp(&pr, w, 501, 77, 30);
    T_EQ_INT(n, 12 + 30 + 10);
    T_EQ_HEX(w + n - 10, 4, "00000007");
    T_EQ_INT(imssec_srtp_kdf(pr.key, 16, pr.salt, 14, 1, a, 20), IMSSEC_OK);
    ref_hmac(a, 20, w, n - 10, roc, 4, mac);
    T_EQ_MEM(w + n - 6, mac, 6);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, (7ull << 16) | 501);
    /* a forged ROC (ahead, so not a replay) fails the MAC */
    n = send_rtp(&pr, w, 502, 77, 30);
    w[n - 7] ^= 0x0f;
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_E_ICV);
    pair_wipe(&pr);
}

/* RFC 4771 with R = 4: modes 1 and 2 differ on the packets that do not
 * carry the ROC (no tag / the default tag); mode 3 carries the bare ROC.
 * The receiver learns the stream (auto_streams): in RCCm1 only from the
 * first ROC-carrying packet, SEQ 12 (a packet without a tag creates none,
 * srtp_rfc4771_3_rccm1_untagged_creates_no_stream). */
T_TEST(srtp_rfc4771_rcc_modes_rate4)
{
    static const int modes[3] = {IMSSEC_SRTP_RCC_M1, IMSSEC_SRTP_RCC_M2, IMSSEC_SRTP_RCC_M3};
    int mi;
    for (mi = 0; mi < 3; mi++) {
        pair pr;
        uint8_t w[100], a[20], mac[20], roc[4] = {0, 0, 0, 0};
        size_t n, out;
        uint16_t seq;
        T_EQ_INT(mk_rcc_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, modes[mi], 4), IMSSEC_OK);
        T_EQ_INT(imssec_srtp_kdf(pr.key, 16, pr.salt, 14, 1, a, 20), IMSSEC_OK);
        for (seq = 10; seq < 20; seq++) {
            size_t tl;
            int carry = seq % 4 == 0;
            n = send_rtp(&pr, w, seq, 1, 12);
            tl = n - 24;
            if (modes[mi] == IMSSEC_SRTP_RCC_M1)
                T_EQ_INT(tl, carry ? 10 : 0);
            else if (modes[mi] == IMSSEC_SRTP_RCC_M2)
                T_EQ_INT(tl, 10);
            else
                T_EQ_INT(tl, carry ? 4 : 0);
            if (carry)
                T_EQ_HEX(w + 24, 4, "00000000");
            if (tl == 10) {
                ref_hmac(a, 20, w, 24, roc, 4, mac);
                T_EQ_MEM(w + 24 + (carry ? 4 : 0), mac, carry ? 6 : 10);
            }
            if (modes[mi] == IMSSEC_SRTP_RCC_M1 && seq < 12) {
                T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_E_NO_SA);
                continue;
            }
            T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_OK);
            T_EQ_INT(out, 24);
        }
        pair_wipe(&pr);
    }
}

/* RFC 4771 3, RFC 3711 3.3.1 / 3.3.2: an RCCm1 packet without a tag proves
 * nothing, so it is decrypted but does not move the stream: a forged one
 * (no key needed) with SEQ s_l + 0x7ff1 leaves ROC and s_l as they were
 * and the genuine packets after it, the authenticated ROC-carrying ones
 * included, are all accepted at their own index.  A duplicate of a packet
 * without a tag is not a replay (no integrity, no replay list). */
T_TEST(srtp_rfc4771_3_rccm1_untagged_moves_nothing)
{
    pair pr;
    imssec_srtp_stream_state st;
    imssec_srtp_rx rx;
    uint8_t w[100], dup[100];
    size_t n, nd = 0, out;
    uint16_t seq;
    T_EQ_INT(mk_rcc_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_RCC_M1, 4),
             IMSSEC_OK);
    n = send_rtp(&pr, w, 12, 9, 16); /* ROC-carrying: creates the stream */
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_OK);
    /* the forged one: a bare RTP header and payload, no tag */
    n = mk_rtp(w, (uint16_t)(12 + 0x7ff1), 9, 16); /* not 0 mod 4: no ROC */
    T_EQ_INT(n, 12 + 16);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_srtp_stream_get(&pr.rx, 9, &st), IMSSEC_OK);
    T_EQ_UINT(st.roc, 0);
    T_EQ_UINT(st.seq, 12);
    for (seq = 13; seq < 30; seq++) {
        n = send_rtp(&pr, w, seq, 9, 16);
        if (seq == 13) {
            memcpy(dup, w, n);
            nd = n;
        }
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
        T_EQ_UINT(rx.index, seq);
    }
    T_EQ_INT(imssec_srtp_stream_get(&pr.rx, 9, &st), IMSSEC_OK);
    T_EQ_UINT(st.seq, 28); /* the last ROC-carrying packet */
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, dup, nd, &out, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(imssec_srtp_session_stats(&pr.rx)->replay, 0);
    pair_wipe(&pr);
}

/* imssec.h "auto_streams": a stream is created only by an authenticated
 * packet; in RCCm1 that is a ROC-carrying one (RFC 4771 3). */
T_TEST(srtp_rfc4771_3_rccm1_untagged_creates_no_stream)
{
    pair pr;
    imssec_srtp_rx rx;
    uint8_t w[100];
    size_t n, out;
    uint32_t ssrc;
    T_EQ_INT(mk_rcc_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_RCC_M1, 4),
             IMSSEC_OK);
    for (ssrc = 1; ssrc <= 8; ssrc++) { /* as many as the table holds */
        n = mk_rtp(w, 13, ssrc, 16);
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_E_NO_SA);
    }
    T_EQ_UINT(imssec_srtp_stream_count(&pr.rx), 0);
    n = send_rtp(&pr, w, 16, 77, 16);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_INT(rx.new_stream, 1);
    T_EQ_UINT(imssec_srtp_stream_count(&pr.rx), 1);
    pair_wipe(&pr);
}

/* RFC 4771 3: in RCCm3 (no integrity) a ROC-carrying packet's ROC_sender
 * replaces the receiver's ROC: a corrupted or forged ROC_sender misleads
 * it only until the next ROC-carrying packet, which is not refused as a
 * replay (RFC 3711 3.3.2: no replay list without integrity). */
T_TEST(srtp_rfc4771_3_rccm3_roc_sender_replaces)
{
    pair pr;
    imssec_srtp_stream_state st;
    imssec_srtp_rx rx;
    uint8_t w[100];
    size_t n, out;
    T_EQ_INT(mk_rcc_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_RCC_M3, 4),
             IMSSEC_OK);
    n = send_rtp(&pr, w, 12, 5, 16);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, NULL, NULL), IMSSEC_OK);
    n = send_rtp(&pr, w, 16, 5, 16);
    T_EQ_HEX(w + n - 4, 4, "00000000");
    w[n - 4] = 0x7f; /* ROC_sender 0x7f000000 */
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, (0x7f000000ull << 16) | 16);
    T_EQ_INT(imssec_srtp_stream_get(&pr.rx, 5, &st), IMSSEC_OK);
    T_EQ_UINT(st.roc, 0x7f000000u);
    n = send_rtp(&pr, w, 17, 5, 16); /* estimated from the wrong ROC */
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, (0x7f000000ull << 16) | 17);
    n = send_rtp(&pr, w, 18, 5, 16);
    n = send_rtp(&pr, w, 20, 5, 16); /* ROC-carrying, genuine */
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, 20);
    T_EQ_INT(imssec_srtp_stream_get(&pr.rx, 5, &st), IMSSEC_OK);
    T_EQ_UINT(st.roc, 0);
    T_EQ_UINT(st.seq, 20);
    n = send_rtp(&pr, w, 21, 5, 16);
    T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, n, &out, &rx, NULL), IMSSEC_OK);
    T_EQ_UINT(rx.index, 21);
    pair_wipe(&pr);
}

/* ---- the other suites round trip ---------------------------------------------------- */

T_TEST(srtp_all_suites_roundtrip)
{
    int suite, flags;
    for (suite = 0; suite < IMSSEC_SRTP_SUITE_UNKNOWN; suite++) {
        for (flags = 0; flags < 8; flags++) {
            pair pr;
            uint8_t w[1500], ref[1500];
            size_t n, out, len;
            int rc = mk_pair(&pr, suite, (unsigned)flags), i;
            if (rc == IMSSEC_E_UNSUPPORTED)
                continue; /* GCM without encryption or authentication */
            T_EQ_INT(rc, IMSSEC_OK);
            for (i = 0; i < 50; i++) {
                len = (size_t)(t_rand64() % 1200);
                n = mk_rtp(ref, (uint16_t)(65500 + i * 3), 0x5eed, len + 16);
                if (i % 4 == 1) { /* two CSRCs and a one-word extension (RFC 3550 5.3.1) */
                    ref[0] = 0x92;
                    ref[20] = 0xbe, ref[21] = 0xde, ref[22] = 0, ref[23] = 1;
                } else {
                    n -= 16;
                }
                memcpy(w, ref, n);
                T_EQ_INT(imssec_srtp_protect(&pr.tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
                T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, out, &out, NULL, NULL), IMSSEC_OK);
                T_EQ_INT(out, n);
                T_EQ_MEM(w, ref, n);
                n = mk_rtcp(ref, 0x5eed, (size_t)(t_rand64() % 200) * 4);
                memcpy(w, ref, n);
                T_EQ_INT(imssec_srtp_protect_rtcp(&pr.tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
                T_EQ_INT(imssec_srtp_unprotect_rtcp(&pr.rx, w, out, &out, NULL, NULL), IMSSEC_OK);
                T_EQ_INT(out, n);
                T_EQ_MEM(w, ref, n);
            }
            pair_wipe(&pr);
        }
    }
}

/* Wipe zeroizes the session and the stream table. */
T_TEST(srtp_wipe_zeroes_keys)
{
    pair pr;
    uint8_t w[100], z[sizeof(imssec_srtp_session)];
    T_EQ_INT(mk_pair(&pr, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, 0), IMSSEC_OK);
    T_ASSERT(send_rtp(&pr, w, 1, 1, 10));
    pair_wipe(&pr);
    memset(z, 0, sizeof z);
    T_EQ_MEM(&pr.tx, z, sizeof pr.tx);
    T_EQ_MEM(&pr.rx, z, sizeof pr.rx);
    {
        uint8_t zs[sizeof pr.txs];
        memset(zs, 0, sizeof zs);
        T_EQ_MEM(pr.txs, zs, sizeof zs);
    }
    imssec_srtp_session_wipe(&pr.tx); /* twice is fine */
}

/* A session may be moved with memcpy between calls (the AES schedules,
 * which point into themselves in mbedTLS 2.28, are rebuilt on first use). */
T_TEST(srtp_session_moved_with_memcpy)
{
    static const int suites[2] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_AEAD_AES_256_GCM};
    int si, i;
    for (si = 0; si < 2; si++) {
        pair pr;
        static imssec_srtp_session moved_tx, moved_rx;
        uint8_t w[200], ref[200];
        size_t n, out;
        if (mk_pair(&pr, suites[si], 0) == IMSSEC_E_UNSUPPORTED)
            continue;
        T_ASSERT(send_rtp(&pr, w, 1, 4, 30));
        T_EQ_INT(imssec_srtp_unprotect(&pr.rx, w, 12 + 30 + (si ? 16 : 10), &out, NULL, NULL),
                 IMSSEC_OK);
        memcpy(&moved_tx, &pr.tx, sizeof moved_tx);
        memcpy(&moved_rx, &pr.rx, sizeof moved_rx);
        memset(&pr.tx, 0xee, sizeof pr.tx); /* the old copies are gone */
        memset(&pr.rx, 0xee, sizeof pr.rx);
        for (i = 2; i < 20; i++) {
            n = mk_rtp(ref, (uint16_t)i, 4, 30);
            memcpy(w, ref, n);
            T_EQ_INT(imssec_srtp_protect(&moved_tx, w, n, sizeof w, &out, NULL), IMSSEC_OK);
            T_EQ_INT(imssec_srtp_unprotect(&moved_rx, w, out, &out, NULL, NULL), IMSSEC_OK);
            T_EQ_MEM(w, ref, n);
        }
        imssec_srtp_session_wipe(&moved_tx);
        imssec_srtp_session_wipe(&moved_rx);
    }
}
