/*
 * wb_media_srtp.c -- white-box tests of media/ (compiled inside the
 * library's translation unit): the packet path with session keys given
 * directly, which is how RFC 7714's vectors (sections 16 and 17) and RFC
 * 3711 B.2 state them, plus the index estimate and the replay ring against
 * independent models.
 *
 * RFC 7714 vectors: the values as printed in RFC 7714 sections 16.1.1,
 * 16.2.1, 17.1-17.4 (key 000102..0f[..1f], salt "Quid pro quo"), found
 * with the search tool and identical in several independent
 * implementations' test suites (jitsi-srtp, HACL*, SharpSRTP, ...).  As
 * they note, the subsections of section 17 encrypt the packet
 * 81c8000d 4d617273 ... deadbeef (the section 17 preamble prints a
 * slightly different one); the subsections are self-consistent.
 */

static const char *const WB_GCM_KEY128 = "000102030405060708090a0b0c0d0e0f";
static const char *const WB_GCM_KEY256 =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *const WB_GCM_SALT = "517569642070726f2071756f"; /* "Quid pro quo" */
static const char *const WB_RTP =
    "8040f17b8041f8d35501a0b2"
    "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
static const char *const WB_RTCP = "81c8000d4d6172734e5450314e545032525450200000042a0000e930"
                                   "4c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

/* A session whose key 0 has the given session keys instead of derived
 * ones (both SRTP and SRTCP, as the RFC 7714 vectors use). */
static int wb_session(imssec_srtp_session *s, imssec_srtp_stream *st, size_t cap, int suite,
                      int dir, unsigned flags, const char *key_hex, const char *salt_hex)
{
    imssec_srtp_params p;
    imssec_srtp_key k;
    uint8_t mk[32] = {0}, ms[14] = {0}, key[32], salt[14];
    size_t kl = t_unhex(key_hex, key, sizeof key), sl = t_unhex(salt_hex, salt, sizeof salt);
    srtp_keyset *ks;
    int rc;
    memset(&k, 0, sizeof k);
    k.key = mk, k.key_len = imssec_srtp_suite_key_len(suite);
    k.salt = ms, k.salt_len = imssec_srtp_suite_salt_len(suite);
    imssec_srtp_params_init(&p);
    p.suite = suite;
    p.dir = dir;
    p.flags = flags;
    p.keys = &k;
    p.key_count = 1;
    p.auto_streams = 1;
    rc = imssec_srtp_session_setup(s, &p, st, cap, NULL);
    if (rc != IMSSEC_OK)
        return rc;
    ks = srtp_ks(&s->keys_[0]);
    if (srtp_is_gcm(s)) {
        isc_gcm_wipe(&ks->u.gcm.rtp.gcm);
        isc_gcm_wipe(&ks->u.gcm.rtcp.gcm);
        if (isc_gcm_setkey(&ks->u.gcm.rtp.gcm, key, kl) != IMSSEC_OK ||
            isc_gcm_setkey(&ks->u.gcm.rtcp.gcm, key, kl) != IMSSEC_OK)
            return IMSSEC_E_CRYPTO;
        memcpy(ks->u.gcm.rtp.salt, salt, 12);
        memcpy(ks->u.gcm.rtcp.salt, salt, 12);
    } else {
        (void)isc_aes_ctr_setkey(&ks->u.cm.rtp.enc, key, kl);
        memcpy(ks->u.cm.rtp.salt, salt, sl);
    }
    return IMSSEC_OK;
}

/* RFC 7714 16.1.1 / 16.2.1 (encryption) and 16.1.2 / 16.2.2 (decryption). */
T_TEST(srtp_rfc7714_16_srtp_gcm_vectors)
{
    static const struct {
        int suite;
        const char *key, *out;
    } v[2] = {
        {IMSSEC_SRTP_AEAD_AES_128_GCM, NULL,
         "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b"
         "36de3adf8833899d7f27beb16a9152cf765ee4390cce"},
        {IMSSEC_SRTP_AEAD_AES_256_GCM, NULL,
         "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f"
         "1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13"},
    };
    int i;
    for (i = 0; i < 2; i++) {
        imssec_srtp_session tx, rx;
        imssec_srtp_stream ts[1], rs[1];
        uint8_t buf[128], ref[128];
        size_t n, out;
        const char *key = i ? WB_GCM_KEY256 : WB_GCM_KEY128;
        T_EQ_INT(wb_session(&tx, ts, 1, v[i].suite, IMSSEC_SRTP_OUTBOUND, 0, key, WB_GCM_SALT),
                 IMSSEC_OK);
        T_EQ_INT(wb_session(&rx, rs, 1, v[i].suite, IMSSEC_SRTP_INBOUND, 0, key, WB_GCM_SALT),
                 IMSSEC_OK);
        n = t_unhex(WB_RTP, buf, sizeof buf);
        memcpy(ref, buf, n);
        T_EQ_INT(imssec_srtp_protect(&tx, buf, n, sizeof buf, &out, NULL), IMSSEC_OK);
        T_EQ_HEX(buf, out, v[i].out);
        T_EQ_INT(imssec_srtp_unprotect(&rx, buf, out, &out, NULL, NULL), IMSSEC_OK);
        T_EQ_INT(out, n);
        T_EQ_MEM(buf, ref, n);
        /* 16.1.2: a modified tag is refused, nothing decrypted */
        n = t_unhex(v[i].out, buf, sizeof buf);
        buf[n - 1] ^= 1;
        memcpy(ref, buf, n);
        imssec_srtp_session_wipe(&rx);
        T_EQ_INT(wb_session(&rx, rs, 1, v[i].suite, IMSSEC_SRTP_INBOUND, 0, key, WB_GCM_SALT),
                 IMSSEC_OK);
        T_EQ_INT(imssec_srtp_unprotect(&rx, buf, n, &out, NULL, NULL), IMSSEC_E_ICV);
        T_EQ_MEM(buf, ref, n);
        imssec_srtp_session_wipe(&tx);
        imssec_srtp_session_wipe(&rx);
    }
}

/* RFC 7714 17.1-17.4: SRTCP, index 0x5d4, E = 1 (encrypted) and E = 0
 * (authenticated only: the whole packet is AAD). */
T_TEST(srtp_rfc7714_17_srtcp_gcm_vectors)
{
    static const struct {
        int suite;
        unsigned flags;
        const char *out;
    } v[4] = {
        {IMSSEC_SRTP_AEAD_AES_128_GCM, 0,
         "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b46"
         "86303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4"},
        {IMSSEC_SRTP_AEAD_AES_256_GCM, 0,
         "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658"
         "c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4"},
        {IMSSEC_SRTP_AEAD_AES_128_GCM, IMSSEC_SRTP_UNENCRYPTED_SRTCP,
         "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeef"
         "deadbeefdeadbeef841dd9683dd78ec92ae58790125f62b3000005d4"},
        {IMSSEC_SRTP_AEAD_AES_256_GCM, IMSSEC_SRTP_UNENCRYPTED_SRTCP,
         "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeef"
         "deadbeefdeadbeef91db4afbfeee5a978fab4393ed2615fe000005d4"},
    };
    int i;
    for (i = 0; i < 4; i++) {
        imssec_srtp_session tx, rx;
        imssec_srtp_stream ts[1], rs[1];
        imssec_srtp_stream_state st;
        imssec_srtp_rx r;
        uint8_t buf[128], ref[128];
        size_t n, out;
        const char *key = (i & 1) ? WB_GCM_KEY256 : WB_GCM_KEY128;
        T_EQ_INT(wb_session(&tx, ts, 1, v[i].suite, IMSSEC_SRTP_OUTBOUND, v[i].flags, key,
                            WB_GCM_SALT),
                 IMSSEC_OK);
        T_EQ_INT(wb_session(&rx, rs, 1, v[i].suite, IMSSEC_SRTP_INBOUND, v[i].flags, key,
                            WB_GCM_SALT),
                 IMSSEC_OK);
        memset(&st, 0, sizeof st);
        st.rtcp_index = 0x5d4;
        T_EQ_INT(imssec_srtp_stream_add(&tx, 0x4d617273, &st, NULL), IMSSEC_OK);
        n = t_unhex(WB_RTCP, buf, sizeof buf);
        memcpy(ref, buf, n);
        T_EQ_INT(imssec_srtp_protect_rtcp(&tx, buf, n, sizeof buf, &out, NULL), IMSSEC_OK);
        T_EQ_HEX(buf, out, v[i].out);
        T_EQ_INT(imssec_srtp_unprotect_rtcp(&rx, buf, out, &out, &r, NULL), IMSSEC_OK);
        T_EQ_INT(out, n);
        T_EQ_MEM(buf, ref, n);
        T_EQ_UINT(r.index, 0x5d4);
        T_EQ_INT(r.encrypted, v[i].flags ? 0 : 1);
        /* a modified AAD byte (the header) is refused and the buffer kept */
        imssec_srtp_session_wipe(&rx);
        T_EQ_INT(wb_session(&rx, rs, 1, v[i].suite, IMSSEC_SRTP_INBOUND, v[i].flags, key,
                            WB_GCM_SALT),
                 IMSSEC_OK);
        n = t_unhex(v[i].out, buf, sizeof buf);
        buf[3] ^= 1;
        memcpy(ref, buf, n);
        T_EQ_INT(imssec_srtp_unprotect_rtcp(&rx, buf, n, &out, NULL, NULL), IMSSEC_E_ICV);
        T_EQ_MEM(buf, ref, n);
        imssec_srtp_session_wipe(&tx);
        imssec_srtp_session_wipe(&rx);
    }
}

/* RFC 3711 B.2 through the packet path: session key 2B7E..., session salt
 * F0F1..FD, SSRC 0, ROC 0, SEQ 0, an all-zero payload of the whole
 * 65282-block segment: the ciphertext is the keystream. */
T_TEST(srtp_rfc3711_b2_packet_keystream)
{
    static uint8_t pkt[12 + 1044512];
    imssec_srtp_session tx;
    imssec_srtp_stream ts[1];
    size_t out;
    T_EQ_INT(wb_session(&tx, ts, 1, IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80, IMSSEC_SRTP_OUTBOUND,
                        IMSSEC_SRTP_UNAUTHENTICATED_SRTP, "2B7E151628AED2A6ABF7158809CF4F3C",
                        "F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
             IMSSEC_OK);
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0x80;
    T_EQ_INT(imssec_srtp_protect(&tx, pkt, sizeof pkt, sizeof pkt, &out, NULL), IMSSEC_OK);
    T_EQ_INT(out, sizeof pkt);
    T_EQ_HEX(pkt + 12, 48,
             "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB "
             "41E95B3BB0A2E8DD477901E4FCA894C0");
    T_EQ_HEX(pkt + sizeof pkt - 48, 48,
             "EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE "
             "6A2CC3787889374FBEB4C81B17BA6C44");
    imssec_srtp_session_wipe(&tx);
}

/* RFC 3711 Appendix A against the definition of 3.3.1: v in {ROC-1, ROC,
 * ROC+1} such that i is closest to 2^16 * ROC + s_l; at an exact tie
 * (distance 2^15) the pseudocode keeps v = ROC. */
T_TEST(srtp_rfc3711_appendix_a_index_guess)
{
    static const uint32_t rocs[4] = {0, 1, 77, 0xffffffffu};
    uint32_t sls[40];
    int ri, si, n = 0;
    uint32_t seq;
    sls[n++] = 0, sls[n++] = 1, sls[n++] = 100, sls[n++] = 32767, sls[n++] = 32768;
    sls[n++] = 32769, sls[n++] = 40000, sls[n++] = 65534, sls[n++] = 65535;
    while (n < 40)
        sls[n++] = (uint32_t)(t_rand64() & 0xffff);
    for (ri = 0; ri < 4; ri++) {
        for (si = 0; si < n; si++) {
            uint64_t top = ((uint64_t)rocs[ri] << 16) | sls[si];
            for (seq = 0; seq < 65536; seq++) {
                int64_t best = 0, dist = INT64_MAX, delta;
                int d, bd = 0, step;
                uint64_t idx;
                for (d = -1; d <= 1; d++) {
                    int64_t x = (int64_t)seq - (int64_t)sls[si] + (int64_t)d * 65536;
                    int64_t ax = x < 0 ? -x : x;
                    if (ax < dist || (ax == dist && d == 0)) {
                        dist = ax;
                        best = x;
                        bd = d;
                    }
                }
                idx = srtp_index_guess(top, (uint16_t)seq, &delta, &step);
                if (step != bd || delta != best ||
                    idx != ((((uint64_t)(uint32_t)(rocs[ri] + (uint32_t)bd)) << 16) | seq)) {
                    T_EQ_INT(step, bd);
                    T_EQ_INT(delta, best);
                    T_EQ_UINT(idx, 0);
                }
            }
        }
    }
}

/* The ring against a plain model (a set of seen indices) with jumps,
 * reordering and the window edge, for every window size. */
T_TEST(srtp_rfc3711_3_3_2_ring_model)
{
    static uint8_t seen[1 << 17];
    uint32_t w;
    for (w = 64; w <= IMSSEC_SRTP_REPLAY_WINDOW_MAX; w *= 2) {
        uint64_t ring[SRTP_RING_WORDS_MAX], top = 0, idx;
        uint8_t have = 0;
        int it;
        memset(seen, 0, sizeof seen);
        memset(ring, 0xa5, sizeof ring); /* garbage: commit of the first packet clears it */
        for (it = 0; it < 40000; it++) {
            int64_t delta;
            int want, got;
            uint64_t r = t_rand64() % 100;
            if (!have)
                idx = 1000 + t_rand64() % 1000;
            else if (r < 50)
                idx = top + 1 + t_rand64() % 3;
            else if (r < 55)
                idx = top + 1 + t_rand64() % (4 * w); /* a jump */
            else if (top > 2 * w)
                idx = top - t_rand64() % (w + 8); /* around the left edge */
            else
                idx = top + 1;
            if (idx >= sizeof seen)
                break;
            delta = (int64_t)idx - (int64_t)top;
            want = !have || delta > 0 || (-delta < (int64_t)w && !seen[idx]);
            got = srtp_ring_check(ring, w, have, idx, delta) == IMSSEC_OK;
            T_EQ_INT(got, want);
            if (got) {
                srtp_ring_commit(ring, w, &have, &top, idx, delta, SRTP_INDEX_MASK);
                seen[idx] = 1;
            }
        }
    }
}

/* The seam's counter mode against mbedTLS's own (mbedtls_aes_crypt_ctr
 * increments the whole 128-bit block too), across the carries out of the
 * low 32 and 64 bits, with the block-aligned skip and odd lengths. */
T_TEST(srtp_seam_aes_ctr_matches_mbedtls_ctr)
{
    static const char *const ivs[3] = {"000102030405060708090a0bfffffff0",
                                       "0001020304050607fffffffffffffffa",
                                       "fffffffffffffffffffffffffffffffe"};
    uint8_t key[32], iv[16], in[700], a[700], b[700], nc[16], sb[16];
    int i, kl;
    for (kl = 16; kl <= 32; kl += 8) {
        for (i = 0; i < 3; i++) {
            isc_aes_ctr c;
            mbedtls_aes_context m;
            size_t off = 0, n = 1 + (size_t)(t_rand64() % 600), skip = 16 * (size_t)(t_rand64() % 5);
            t_randbytes(key, sizeof key);
            t_randbytes(in, sizeof in);
            t_unhex(ivs[i], iv, 16);
            T_EQ_INT(isc_aes_ctr_setkey(&c, key, (size_t)kl), IMSSEC_OK);
            isc_aes_ctr_xor(&c, iv, skip, in, a, n);
            mbedtls_aes_init(&m);
            mbedtls_aes_setkey_enc(&m, key, (unsigned)kl * 8);
            memcpy(nc, iv, 16);
            memset(b, 0, sizeof b);
            mbedtls_aes_crypt_ctr(&m, skip, &off, nc, sb, b, b); /* run the skipped blocks */
            mbedtls_aes_crypt_ctr(&m, n, &off, nc, sb, in, b);
            T_EQ_MEM(a, b, n);
            isc_aes_ctr_xor(&c, iv, skip, NULL, a, n); /* the bare keystream */
            for (off = 0; off < n; off++)
                b[off] ^= in[off];
            T_EQ_MEM(a, b, n);
            mbedtls_aes_free(&m);
            isc_aes_ctr_wipe(&c);
        }
    }
}
