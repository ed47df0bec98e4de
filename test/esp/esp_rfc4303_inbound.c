/*
 * esp_rfc4303_inbound.c -- hostile input to esp/ inbound (RFC 4303 3.4):
 * every truncation (as received, and with the IP length fixed up; placed
 * at a guard page), every bit flipped from the SPI to the end of the ICV,
 * random garbage, bad headers, fragments, wrong SPIs, short outputs and
 * overlapping buffers.  Each is a verdict; the SA's window and counters
 * of accepted packets and the output do not change.
 */

#include "esp_fixture.h"

#include "../guard_page.h"

/* Hostile input: every truncation (with and without the IP length fixed
 * up to match) and a set of bad headers.  Each is a verdict; the SA's
 * window and counters of accepted packets and the output do not change. */
T_TEST(esp_inbound_hostile_input)
{
    static uint8_t pt[300], pkt[400], bad[400], out[400];
    int mode, fam;
    for (mode = IMSSEC_MODE_TRANS; mode <= IMSSEC_MODE_UDP_ENC_TUN; mode++)
    for (fam = 4; fam <= 6; fam += 2) {
        imssec_esp_sa o, in;
        size_t n, plen, olen, cut, ipl = fam == 4 ? 20 : 40;
        int fix, rc, enc = IMSSEC_ENABLE_3DES ? IMSSEC_EALG_DES_EDE3_CBC
                                              : IMSSEC_EALG_AES_CBC;
        if ((!IMSSEC_ENABLE_IPV6 && fam == 6) ||
            (!IMSSEC_ENABLE_UDPENCAP && mode == IMSSEC_MODE_UDP_ENC_TUN))
            continue; /* compiled out */
        T_EQ_INT(pk_sa(&o, IMSSEC_ESP_OUTBOUND, mode, IMSSEC_ALG_HMAC_SHA1_96, enc, fam),
                 IMSSEC_OK);
        T_EQ_INT(pk_sa(&in, IMSSEC_ESP_INBOUND, mode, IMSSEC_ALG_HMAC_SHA1_96, enc, fam),
                 IMSSEC_OK);
        n = pk_packet(pt, fam, 40);
        T_EQ_INT(imssec_esp_protect(&o, NULL, pk_ek, pt, n, pkt, sizeof pkt, &plen, NULL), IMSSEC_OK);
        for (cut = 0; cut < plen; cut++)
            for (fix = 0; fix <= 1; fix++) {
                memcpy(bad, pkt, cut);
                if (fix && cut >= ipl) {
                    if (fam == 4) {
                        bad[2] = (uint8_t)(cut >> 8);
                        bad[3] = (uint8_t)cut;
                    } else {
                        bad[4] = (uint8_t)((cut - 40) >> 8);
                        bad[5] = (uint8_t)(cut - 40);
                    }
                    if (mode == IMSSEC_MODE_UDP_ENC_TUN && cut >= ipl + 8) {
                        bad[ipl + 4] = (uint8_t)((cut - ipl) >> 8);
                        bad[ipl + 5] = (uint8_t)(cut - ipl);
                    }
                }
                memset(out, 0x77, sizeof out);
                rc = imssec_esp_unprotect(&in, bad, cut, out, sizeof out, &olen, NULL, NULL);
                T_ASSERT(rc != IMSSEC_OK);
                T_ASSERT(imssec_err_is_verdict(rc));
                T_EQ_UINT(out[0], 0x77);
                T_EQ_UINT(out[cut ? cut - 1 : 0], 0x77);
            }
        T_EQ_UINT(imssec_esp_sa_seq(&in), 0);
        T_EQ_UINT(imssec_esp_sa_stats(&in)->packets, 0);
        /* wrong SPI */
        memcpy(bad, pkt, plen);
        bad[ipl + (mode == IMSSEC_MODE_UDP_ENC_TUN ? 8 : 0) + 3] ^= 1;
        T_EQ_INT(imssec_esp_unprotect(&in, bad, plen, out, sizeof out, &olen, NULL, NULL),
                 IMSSEC_E_NO_SA);
        /* IPv4: fragments and a bad version/IHL */
        if (fam == 4) {
            memcpy(bad, pkt, plen);
            bad[6] |= 0x20; /* MF */
            T_EQ_INT(imssec_esp_unprotect(&in, bad, plen, out, sizeof out, &olen, NULL, NULL),
                     IMSSEC_E_MALFORMED);
            memcpy(bad, pkt, plen);
            bad[0] = 0x44;
            T_EQ_INT(imssec_esp_unprotect(&in, bad, plen, out, sizeof out, &olen, NULL, NULL),
                     IMSSEC_E_MALFORMED);
            memcpy(bad, pkt, plen);
            bad[9] = 51; /* AH */
            T_EQ_INT(imssec_esp_unprotect(&in, bad, plen, out, sizeof out, &olen, NULL, NULL),
                     IMSSEC_E_MALFORMED);
        }
        /* output buffer too small: E_SPACE before anything */
        T_EQ_INT(imssec_esp_unprotect(&in, pkt, plen, out, plen - 1, &olen, NULL, NULL),
                 IMSSEC_E_SPACE);
        /* overlapping but not identical buffers are refused */
        memcpy(out, pkt, plen);
        T_EQ_INT(imssec_esp_unprotect(&in, out, plen, out + 1, sizeof out - 1, &olen, NULL, NULL),
                 IMSSEC_E_PARAM);
        /* and the genuine packet still goes through afterwards */
        T_EQ_INT(imssec_esp_unprotect(&in, pkt, plen, out, sizeof out, &olen, NULL, NULL), IMSSEC_OK);
        T_EQ_MEM(out, pt, n);
        /* an outbound SA refuses inbound work and vice versa */
        T_EQ_INT(imssec_esp_unprotect(&o, pkt, plen, out, sizeof out, &olen, NULL, NULL),
                 IMSSEC_E_PARAM);
        T_EQ_INT(imssec_esp_protect(&in, NULL, pk_ek, pt, n, out, sizeof out, &olen, NULL),
                 IMSSEC_E_PARAM);
        imssec_esp_sa_wipe(&o);
        imssec_esp_sa_wipe(&in);
    }
}

/* Every truncation of a valid packet (as received: IP length fixed up too,
 * and as is), placed at a guard page: a verdict, SA unchanged, and the
 * full packet is still accepted afterwards. */
T_TEST(esp_rfc4303_3_4_truncations_guard_page)
{
    static const int modes[] = {IMSSEC_MODE_TRANS, IMSSEC_MODE_TUN, IMSSEC_MODE_UDP_ENC_TUN};
    size_t mo, f, k, fix;
    guard_page g;
    T_ASSERT(gp_init(&g) == 0);
    for (mo = 0; mo < 3; mo++)
        for (f = 0; f < 2; f++) {
            esp_pair a;
            uint8_t pkt[200], prot[400], out[400];
            size_t n, pn, len;
            int fam = f ? 6 : 4;
            imssec_esp_sa before;
            if (!esp_built(modes[mo], IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC, fam)) {
                T_ASSERT(esp_unbuilt_refused(modes[mo], IMSSEC_ALG_HMAC_SHA1_96,
                                             IMSSEC_EALG_AES_CBC, fam));
                continue;
            }
            T_EQ_INT(mk_pair(&a, modes[mo], IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
                             fam, 0, 0, 0), IMSSEC_OK);
            n = fam == 4 ? mk_v4(pkt, 37, 0) : mk_v6(pkt, 37, 0, 0);
            T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL),
                     IMSSEC_OK);
            memcpy(&before, &a.in, sizeof before);
            for (fix = 0; fix < 2; fix++)
                for (k = 0; k < pn; k++) {
                    uint8_t tr[400];
                    uint8_t *q;
                    int rc;
                    memcpy(tr, prot, k);
                    if (fix && fam == 4 && k >= 20) {
                        uint16_t c;
                        tr[2] = (uint8_t)(k >> 8);
                        tr[3] = (uint8_t)k;
                        tr[10] = tr[11] = 0;
                        c = csum16(tr, 20);
                        tr[10] = (uint8_t)(c >> 8);
                        tr[11] = (uint8_t)c;
                        if (modes[mo] == IMSSEC_MODE_UDP_ENC_TUN && k >= 28) {
                            tr[24] = (uint8_t)((k - 20) >> 8);
                            tr[25] = (uint8_t)(k - 20);
                        }
                    }
                    if (fix && fam == 6 && k >= 40) {
                        tr[4] = (uint8_t)((k - 40) >> 8);
                        tr[5] = (uint8_t)(k - 40);
                        if (modes[mo] == IMSSEC_MODE_UDP_ENC_TUN && k >= 48) {
                            tr[44] = (uint8_t)((k - 40) >> 8);
                            tr[45] = (uint8_t)(k - 40);
                        }
                    }
                    q = gp_place(&g, tr, k);
                    rc = imssec_esp_unprotect(&a.in, q, k, out, sizeof out, &len, NULL, NULL);
                    if (rc == IMSSEC_OK || !imssec_err_is_verdict(rc)) {
                        t_fail_(__FILE__, __LINE__, "mode %d v%d truncated to %zu/%zu (fix %zu): %d",
                                modes[mo], fam, k, pn, fix, rc);
                        return;
                    }
                    if (!sa_same_but_stats(&a.in, &before)) {
                        t_fail_(__FILE__, __LINE__, "SA changed by truncation to %zu", k);
                        return;
                    }
                }
            T_EQ_UINT(drops(imssec_esp_sa_stats(&a.in)), 2 * pn);
            T_EQ_INT(imssec_esp_unprotect(&a.in, gp_place(&g, prot, pn), pn, out, sizeof out,
                                          &len, NULL, NULL), IMSSEC_OK);
            T_EQ_UINT(len, n);
            T_EQ_MEM(out, pkt, n);
        }
    gp_free(&g);
}

/* Flip every bit from the SPI to the end of the ICV: rejected, the window
 * does not move, output untouched; then the genuine packet is accepted.
 * HMAC-MD5-96 (HMAC-SHA-1-96 where MD5 is compiled out: the same 12-byte
 * ICV, so the same layout). */
T_TEST(esp_rfc4303_3_4_4_bitflips)
{
    static const int encs[] = {IMSSEC_EALG_NULL, IMSSEC_EALG_DES_EDE3_CBC,
                               IMSSEC_EALG_AES_CBC};
    size_t e, bit;
    for (e = 0; e < 3; e++) {
        esp_pair a;
        uint8_t pkt[200], prot[400], out[400], canary[400];
        size_t n, pn, len;
        uint64_t sq;
        imssec_esp_sa before;
        if (!esp_built(IMSSEC_MODE_TRANS, ESP_AUTH_MD5_OR_SHA1, encs[e], 4)) {
            T_ASSERT(esp_unbuilt_refused(IMSSEC_MODE_TRANS, ESP_AUTH_MD5_OR_SHA1, encs[e], 4));
            continue;
        }
        T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, ESP_AUTH_MD5_OR_SHA1, encs[e], 4, 0, 0, 0),
                 IMSSEC_OK);
        n = mk_v4(pkt, 21, 0);
        T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL),
                 IMSSEC_OK);
        memcpy(&before, &a.in, sizeof before);
        memset(out, 0xA5, sizeof out);
        memcpy(canary, out, sizeof out);
        for (bit = 20 * 8; bit < pn * 8; bit++) {
            int rc;
            sq = 0xdeadbeef;
            prot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            rc = imssec_esp_unprotect(&a.in, prot, pn, out, sizeof out, &len, &sq, NULL);
            prot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (rc == IMSSEC_OK || !imssec_err_is_verdict(rc)) {
                t_fail_(__FILE__, __LINE__, "enc %d: bit %zu flipped: rc %d", encs[e], bit, rc);
                return;
            }
            if (bit < 24 * 8)
                T_EQ_INT(rc, IMSSEC_E_NO_SA); /* SPI (lengths are fine) */
            else if (bit >= 28 * 8)
                T_EQ_INT(rc, IMSSEC_E_ICV);
            T_ASSERT(sa_same_but_stats(&a.in, &before));
            T_EQ_MEM(out, canary, sizeof out);
            T_EQ_UINT(sq, 0xdeadbeef);
        }
        T_EQ_UINT(drops(imssec_esp_sa_stats(&a.in)), (pn - 20) * 8);
        T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, out, sizeof out, &len, &sq, NULL), IMSSEC_OK);
        T_EQ_UINT(sq, 1);
        T_EQ_MEM(out, pkt, n);
    }
}

/* Random garbage after a valid header at a guard page: never OK, never
 * crashes; the SA survives. */
T_TEST(esp_inbound_random_garbage_guard_page)
{
    imssec_esp_sa sa;
    size_t r;
    guard_page g;
    uint8_t pt[64];
    T_ASSERT(gp_init(&g) == 0);
    T_EQ_INT(in_sa(&sa, IMSSEC_EALG_AES_CBC, 1, 0, ESP_W(128)), IMSSEC_OK);
    for (r = 0; r < 4000; r++) {
        uint8_t buf[128], out[256];
        size_t n = t_rand64() % sizeof buf, len;
        int rc;
        t_randbytes(buf, n);
        if (n >= 20 && (r & 1)) {
            buf[0] = 0x45;
            buf[2] = 0;
            buf[3] = (uint8_t)n;
            buf[9] = 50;
            if (n >= 24)
                buf[20] = 0, buf[21] = 0, buf[22] = 0x12, buf[23] = 0x34;
        }
        rc = imssec_esp_unprotect(&sa, gp_place(&g, buf, n), n, out, sizeof out, &len, NULL, NULL);
        T_ASSERT(rc != IMSSEC_OK && imssec_err_is_verdict(rc));
    }
    T_EQ_UINT(imssec_esp_sa_seq(&sa), 0);
    {
        static const uint8_t iv[16] = {3};
        size_t n = mk_trailer(pt, 8, 6, NULL, 6, 17);
        T_EQ_INT(send_crafted(&sa, 1, 1, pt, n, iv), IMSSEC_OK);
    }
    gp_free(&g);
}

/* RFC 4303 3.4.1: an outer IPv4 fragment is not processed (reassembly is
 * the IP layer's job); it must be dropped, not decrypted. */
T_TEST(esp_rfc4303_3_4_1_inbound_fragment_dropped)
{
    esp_pair a;
    uint8_t pkt[200], prot[400], out[400], fr[400];
    size_t n, pn, len;
    uint16_t c;
    int i;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL, 4,
                     0, 0, 0), IMSSEC_OK);
    n = mk_v4(pkt, 30, 0);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    for (i = 0; i < 2; i++) {
        memcpy(fr, prot, pn);
        if (i == 0)
            fr[6] |= 0x20; /* MF */
        else
            fr[7] = 0x10;  /* fragment offset 16*8 */
        fr[10] = fr[11] = 0;
        c = csum16(fr, 20);
        fr[10] = (uint8_t)(c >> 8);
        fr[11] = (uint8_t)c;
        T_ASSERT(imssec_esp_unprotect(&a.in, fr, pn, out, sizeof out, &len, NULL, NULL) != IMSSEC_OK);
    }
    T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_OK);
}

/* Conventions: outputs untouched on error (demux, keys). */
T_TEST(esp_outputs_untouched_on_error)
{
    uint8_t u[16] = {0x11, 0x94, 0x11, 0x94, 0, 7, 0, 0};
    int kind = 77;
    uint32_t spi = 0x77777777u;
    size_t off = 777;
    uint8_t ik[16] = {1}, ck[16] = {2}, ike[20], cke[24], c1[20], c2[24];
    size_t il = 55, cl = 66;
    T_EQ_INT(imssec_esp_udp_demux(u, 8, &kind, &spi, &off), IMSSEC_E_MALFORMED);
    T_EQ_INT(kind, 77);
    T_EQ_UINT(spi, 0x77777777u);
    T_EQ_UINT(off, 777);
    memset(ike, 0xA5, sizeof ike);
    memset(cke, 0xA5, sizeof cke);
    memcpy(c1, ike, sizeof ike);
    memcpy(c2, cke, sizeof cke);
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_NULL, IMSSEC_EALG_AES_CBC, ik, ck, ike, &il, cke, &cl),
             IMSSEC_E_PARAM);
    T_EQ_INT(imssec_esp_keys(IMSSEC_ALG_HMAC_MD5_96, 9, ik, ck, ike, &il, cke, &cl),
             IMSSEC_E_PARAM);
    T_EQ_MEM(ike, c1, sizeof ike);
    T_EQ_MEM(cke, c2, sizeof cke);
    T_EQ_UINT(il, 55);
    T_EQ_UINT(cl, 66);
}
