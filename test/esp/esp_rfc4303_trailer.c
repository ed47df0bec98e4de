/*
 * esp_rfc4303_trailer.c -- what esp/ inbound does with a packet whose ICV
 * is valid but whose content is wrong, on packets crafted with mbedTLS as
 * the reference: padding (RFC 4303 2.4: 1, 2, 3, ..., up to 255 bytes,
 * several cipher blocks), dummy packets (2.6), tunnel inner packets and
 * TFC padding (2.7); a verdict leaves the output untouched, in place and
 * out of place, and still consumes the sequence number.
 */

#include "esp_fixture.h"

/* A well-formed crafted packet is accepted (sanity for the helpers). */
T_TEST(esp_crafted_reference_packets_ok)
{
    imssec_esp_sa sa;
    uint8_t pt[256];
    size_t n;
    static const uint8_t iv[16] = {1};
    T_EQ_INT(in_sa(&sa, IMSSEC_EALG_NULL, 0, 0, 0), IMSSEC_OK);
    n = mk_trailer(pt, 10, 0, NULL, 0, 17); /* 10 + 2 = 12: aligned */
    T_EQ_INT(send_crafted(&sa, 1, 0, pt, n, NULL), IMSSEC_OK);
    n = mk_trailer(pt, 8, 2, NULL, 2, 17);
    T_EQ_INT(send_crafted(&sa, 2, 0, pt, n, NULL), IMSSEC_OK);
    T_EQ_INT(in_sa(&sa, IMSSEC_EALG_AES_CBC, 0, 0, 0), IMSSEC_OK);
    n = mk_trailer(pt, 8, 6, NULL, 6, 17);
    T_EQ_INT(send_crafted(&sa, 1, 0, pt, n, iv), IMSSEC_OK);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 1);
}

/* Bad padding (RFC 4303 2.4: pad bytes 1, 2, 3, ...; pad length fits):
 * BAD_PADDING, counted, and the sequence number is consumed (the ICV
 * verified). */
T_TEST(esp_rfc4303_2_4_bad_padding)
{
    imssec_esp_sa sa;
    uint8_t pt[256];
    size_t n;
    static const uint8_t badpad[6] = {1, 2, 3, 4, 5, 7};
    static const uint8_t iv[16] = {7, 7};
    int e;
    for (e = 0; e < 2; e++) {
        const uint8_t *ivp = e ? iv : NULL;
        int enc = e ? IMSSEC_EALG_AES_CBC : IMSSEC_EALG_NULL;
        T_EQ_INT(in_sa(&sa, enc, 0, 0, 0), IMSSEC_OK);
        n = mk_trailer(pt, 8, 6, badpad, 6, 17);
        T_EQ_INT(send_crafted(&sa, 1, 0, pt, n, ivp), IMSSEC_E_BAD_PADDING);
        T_EQ_UINT(imssec_esp_sa_stats(&sa)->bad_padding, 1);
        n = mk_trailer(pt, 8, 6, NULL, 6, 17);
        T_EQ_INT(send_crafted(&sa, 1, 0, pt, n, ivp), IMSSEC_E_REPLAY); /* consumed */
        T_EQ_INT(send_crafted(&sa, 2, 0, pt, n, ivp), IMSSEC_OK);
        /* pad length larger than the payload */
        n = mk_trailer(pt, 8, 6, NULL, 200, 17);
        T_EQ_INT(send_crafted(&sa, 3, 0, pt, n, ivp), IMSSEC_E_BAD_PADDING);
        /* pad length exactly the payload: nothing left for the datagram */
        n = mk_trailer(pt, 8, 6, NULL, 14, 17);
        {
            int rc = send_crafted(&sa, 4, 0, pt, n, ivp);
            T_ASSERT(rc == IMSSEC_E_BAD_PADDING || rc == IMSSEC_E_MALFORMED);
        }
        /* pad length 255 */
        n = mk_trailer(pt, 8, 6, NULL, 255, 17);
        T_EQ_INT(send_crafted(&sa, 5, 0, pt, n, ivp), IMSSEC_E_BAD_PADDING);
        T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 1);
        T_EQ_UINT(imssec_esp_sa_seq(&sa), 5);
    }
}

/* Next header 59 (RFC 4303 2.6): dummy, dropped silently, counted. */
T_TEST(esp_rfc4303_2_6_dummy_packet)
{
    imssec_esp_sa sa;
    uint8_t pt[256];
    size_t n;
    T_EQ_INT(in_sa(&sa, IMSSEC_EALG_NULL, 0, 0, 0), IMSSEC_OK);
    n = mk_trailer(pt, 8, 2, NULL, 2, 59);
    T_EQ_INT(send_crafted(&sa, 1, 0, pt, n, NULL), IMSSEC_E_DUMMY);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->dummy, 1);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 0);
    T_ASSERT(imssec_err_is_verdict(IMSSEC_E_DUMMY));
    n = mk_trailer(pt, 8, 2, NULL, 2, 17);
    T_EQ_INT(send_crafted(&sa, 1, 0, pt, n, NULL), IMSSEC_E_REPLAY);
}

/* Tunnel mode: the inner packet is trimmed to its own length (TFC padding);
 * an inner length beyond the payload is MALFORMED (after the ICV: the
 * sequence number is consumed). */
T_TEST(esp_rfc4303_2_7_tunnel_inner_trimmed)
{
    imssec_esp_params p;
    imssec_esp_sa sa;
    uint8_t inner[200], pt[300], esp[400], pkt[500], out[500];
    size_t in_n, n, en, pn, len, i;
    mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TUN, IMSSEC_ALG_HMAC_SHA1_96,
              IMSSEC_EALG_NULL, 4, 0x1234);
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
    in_n = mk_v4(inner, 20, 0); /* 48 bytes */
    memcpy(pt, inner, in_n);
    for (i = 0; i < 6; i++) /* TFC padding */
        pt[in_n + i] = 0xEE;
    n = in_n + 6;
    pt[n++] = 1; /* pad 1,2 to make n+2 aligned: 54 + 2 = 56 */
    pt[n++] = 2;
    pt[n++] = 2;
    pt[n++] = 4; /* IPv4 */
    en = craft_esp(esp, 0x1234, 1, 0, pt, n, NULL);
    pn = wrap_v4(pkt, esp, en);
    T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(len, in_n);
    T_EQ_MEM(out, inner, in_n);
    /* inner total length larger than what arrived */
    pt[2] = 0, pt[3] = 200;
    en = craft_esp(esp, 0x1234, 2, 0, pt, n, NULL);
    pn = wrap_v4(pkt, esp, en);
    T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_E_MALFORMED);
    T_EQ_INT(imssec_esp_replay_check(&sa, 2), IMSSEC_E_REPLAY);
    /* inner total length below its header */
    pt[2] = 0, pt[3] = 10;
    en = craft_esp(esp, 0x1234, 3, 0, pt, n, NULL);
    pn = wrap_v4(pkt, esp, en);
    T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_E_MALFORMED);
    /* next header says IPv6 but the inner packet is IPv4 */
    pt[2] = 0, pt[3] = (uint8_t)in_n;
    pt[n - 1] = 41;
    en = craft_esp(esp, 0x1234, 4, 0, pt, n, NULL);
    pn = wrap_v4(pkt, esp, en);
    T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_E_MALFORMED);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 1);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->malformed, 3);
}

/* RFC 4303 3.4 / imssec.h: a verdict leaves the outputs unchanged.  Out of
 * place, BAD_PADDING / DUMMY / MALFORMED-after-decrypt must not leave
 * decrypted bytes in `out` (in place: esp_rfc4303_3_4_verdict_inplace_untouched). */
T_TEST(esp_rfc4303_3_4_verdict_out_untouched)
{
    imssec_esp_sa sa;
    uint8_t pt[256], esp[512], pkt[600], out[600], can[600];
    size_t n, en, pn, len = 4242;
    uint64_t sq = 77;
    static const uint8_t badpad[6] = {1, 2, 3, 4, 5, 9};
    static const uint8_t iv[16] = {0x42};
    int k;
    for (k = 0; k < 2; k++) {
        int rc;
        T_EQ_INT(in_sa(&sa, IMSSEC_EALG_AES_CBC, 0, 0, 0), IMSSEC_OK);
        if (k == 0)
            n = mk_trailer(pt, 8, 6, badpad, 6, 17);
        else
            n = mk_trailer(pt, 8, 6, NULL, 6, 59);
        en = craft_esp(esp, 0x1234, 1, 0, pt, n, iv);
        pn = wrap_v4(pkt, esp, en);
        memset(out, 0xA5, sizeof out);
        memcpy(can, out, sizeof out);
        len = 4242;
        rc = imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, &sq, NULL);
        T_EQ_INT(rc, k == 0 ? IMSSEC_E_BAD_PADDING : IMSSEC_E_DUMMY);
        T_EQ_UINT(len, 4242);
        if (memcmp(out, can, sizeof out) != 0) {
            size_t i, first = 0, cnt = 0;
            for (i = 0; i < sizeof out; i++)
                if (out[i] != can[i]) {
                    if (!cnt)
                        first = i;
                    cnt++;
                }
            t_fail_(__FILE__, __LINE__, "%s: out-of-place output written (%zu bytes from %zu)",
                    k == 0 ? "BAD_PADDING" : "DUMMY", cnt, first);
        }
    }
}

/* Same for MALFORMED after decryption (tunnel inner packet invalid). */
T_TEST(esp_rfc4303_3_4_verdict_out_untouched_tunnel)
{
    imssec_esp_params p;
    imssec_esp_sa sa;
    uint8_t inner[100], pt[200], esp[400], pkt[500], out[500], can[500];
    size_t in_n, n, en, pn, len = 4242;
    static const uint8_t iv[16] = {0x24};
    mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TUN, IMSSEC_ALG_HMAC_SHA1_96,
              IMSSEC_EALG_AES_CBC, 4, 0x1234);
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
    in_n = mk_v4(inner, 18, 0); /* 46 bytes */
    memcpy(pt, inner, in_n);
    pt[2] = 0, pt[3] = 200; /* inner length beyond the payload */
    /* trailer: pad 1..k, pad length k, next header 4; a block multiple */
    {
        size_t k = (16 - (in_n + 2) % 16) % 16, i;
        for (i = 0; i < k; i++)
            pt[in_n + i] = (uint8_t)(i + 1);
        n = in_n + k;
        pt[n++] = (uint8_t)k;
        pt[n++] = 4;
    }
    en = craft_esp(esp, 0x1234, 1, 0, pt, n, iv);
    pn = wrap_v4(pkt, esp, en);
    memset(out, 0xA5, sizeof out);
    memcpy(can, out, sizeof out);
    T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_E_MALFORMED);
    T_EQ_UINT(len, 4242);
    T_EQ_MEM(out, can, sizeof out);
}

/* ---- validate-first decryption (issue 5) ------------------------------- */

/* Tunnel-mode inbound SA (AES-CBC + HMAC-SHA-1-96, IPv4), SPI 0x1234. */
static int tun_sa(imssec_esp_sa *sa)
{
    imssec_esp_params p;
    mk_params(&p, IMSSEC_ESP_INBOUND, IMSSEC_MODE_TUN, IMSSEC_ALG_HMAC_SHA1_96,
              IMSSEC_EALG_AES_CBC, 4, 0x1234);
    return imssec_esp_sa_setup(sa, &p, NULL);
}

/* Tunnel payload: the inner packet inner[0..in_n) + `padn` pad bytes 1,2,..
 * (padn is rounded up so that the total is an AES block multiple), the
 * pad length and next header 4 (IPv4).  Returns the length. */
static size_t tun_trailer(uint8_t *pt, const uint8_t *inner, size_t in_n, size_t padn)
{
    size_t i, n;
    while ((in_n + padn + 2) % 16 != 0)
        padn++;
    memcpy(pt, inner, in_n);
    n = in_n;
    for (i = 0; i < padn; i++)
        pt[n++] = (uint8_t)(i + 1);
    pt[n++] = (uint8_t)padn;
    pt[n++] = 4;
    return n;
}

/* In place (out == in) the rejected packet is left exactly as received:
 * the trailer and the inner header are validated on the stack before any
 * decryption into the buffer.  Transport BAD_PADDING and DUMMY, tunnel
 * MALFORMED, through imssec_esp_unprotect and imssec_esp_unprotect_esp;
 * the sequence number is still consumed (the ICV verified). */
T_TEST(esp_rfc4303_3_4_verdict_inplace_untouched)
{
    imssec_esp_sa sa;
    uint8_t pt[256], esp[512] = {0}, pkt[600] = {0}, orig[600], inner[100];
    size_t n, en, pn, len, in_n;
    uint64_t sq;
    static const uint8_t badpad[6] = {1, 2, 3, 4, 5, 9};
    static const uint8_t iv[16] = {0x42, 1};
    int k;
    for (k = 0; k < 2; k++) {
        T_EQ_INT(in_sa(&sa, IMSSEC_EALG_AES_CBC, 0, 0, 0), IMSSEC_OK);
        n = k == 0 ? mk_trailer(pt, 8, 6, badpad, 6, 17) : mk_trailer(pt, 8, 6, NULL, 6, 59);
        en = craft_esp(esp, 0x1234, 1, 0, pt, n, iv);
        pn = wrap_v4(pkt, esp, en);
        memcpy(orig, pkt, sizeof pkt);
        len = 4242;
        sq = 77;
        T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, pkt, sizeof pkt, &len, &sq, NULL),
                 k == 0 ? IMSSEC_E_BAD_PADDING : IMSSEC_E_DUMMY);
        T_EQ_MEM(pkt, orig, sizeof pkt);
        T_EQ_UINT(len, 4242);
        T_EQ_UINT(sq, 77);
        T_EQ_UINT(imssec_esp_sa_seq(&sa), 1); /* consumed */
        T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 0);
        T_EQ_UINT(k == 0 ? imssec_esp_sa_stats(&sa)->bad_padding : imssec_esp_sa_stats(&sa)->dummy, 1);
    }
    /* tunnel: inner IPv4 total length 200 > payload */
    in_n = mk_v4(inner, 18, 0);
    inner[2] = 0, inner[3] = 200;
    n = tun_trailer(pt, inner, in_n, 0);
    for (k = 0; k < 4; k++) {
        T_EQ_INT(tun_sa(&sa), IMSSEC_OK);
        en = craft_esp(esp, 0x1234, 1, 0, pt, n, iv);
        pn = wrap_v4(pkt, esp, en);
        memcpy(orig, pkt, sizeof pkt);
        len = 4242;
        switch (k) {
        case 0: /* whole packet, in place */
            T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, pkt, sizeof pkt, &len, NULL, NULL),
                     IMSSEC_E_MALFORMED);
            break;
        case 1: /* ESP part, in place */
            T_EQ_INT(imssec_esp_unprotect_esp(&sa, pkt + 20, en, pkt + 20, sizeof pkt - 20, &len,
                                              NULL, NULL),
                     IMSSEC_E_MALFORMED);
            break;
        case 2: /* ESP part, out of place: the output untouched */
            memset(esp, 0xA5, sizeof esp);
            memcpy(orig, esp, sizeof esp);
            T_EQ_INT(imssec_esp_unprotect_esp(&sa, pkt + 20, en, esp, sizeof esp, &len, NULL, NULL),
                     IMSSEC_E_MALFORMED);
            T_EQ_MEM(esp, orig, sizeof esp);
            memcpy(orig, pkt, sizeof pkt);
            break;
        default: /* an inner header too short for IPv4 (IHL 4) */
            pt[0] = 0x44;
            en = craft_esp(esp, 0x1234, 1, 0, pt, n, iv);
            pn = wrap_v4(pkt, esp, en);
            memcpy(orig, pkt, sizeof pkt);
            T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, pkt, sizeof pkt, &len, NULL, NULL),
                     IMSSEC_E_MALFORMED);
            pt[0] = 0x45;
            break;
        }
        T_EQ_MEM(pkt, orig, sizeof pkt);
        T_EQ_UINT(len, 4242);
        T_EQ_UINT(imssec_esp_sa_stats(&sa)->malformed, 1);
        T_EQ_UINT(imssec_esp_sa_seq(&sa), 1);
    }
}

/* Padding longer than one cipher block (RFC 4303 2.4 allows 0..255 bytes):
 * the trailer spans several blocks, all decrypted and checked before
 * anything is written.  Pad lengths 15, 31, .., 255 (2 to 17 trailer
 * blocks) are accepted with the right plaintext, in and out of place; a
 * wrong byte at the far (first) end of
 * a long padding is BAD_PADDING with the buffer untouched.  Reference:
 * mbedTLS AES-CBC / HMAC-SHA-1 (craft_esp) and the packet built here. */
T_TEST(esp_rfc4303_2_4_long_padding)
{
    imssec_esp_sa sa;
    uint8_t dgram[64], pt[400], esp[512], pkt[600] = {0}, out[600], orig[600];
    size_t padn, n, en, pn, len, dlen = 31;
    uint64_t seq = 0;
    static const uint8_t iv[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    uint8_t want[64];
    int inplace;
    T_EQ_INT(in_sa(&sa, IMSSEC_EALG_AES_CBC, 0, 0, 0), IMSSEC_OK);
    (void)mk_trailer(dgram, dlen, 0, NULL, 0, 17); /* the UDP datagram */
    /* the expected transport packet: IPv4 header (protocol 17, total 51,
     * checksum recomputed) + the datagram */
    memset(want, 0, 20);
    want[0] = 0x45, want[3] = (uint8_t)(20 + dlen), want[8] = 64, want[9] = 17;
    want[12] = 192, want[13] = 0, want[14] = 2, want[15] = 1;
    want[16] = 192, want[17] = 0, want[18] = 2, want[19] = 2;
    {
        uint16_t c = csum16(want, 20);
        want[10] = (uint8_t)(c >> 8), want[11] = (uint8_t)c;
    }
    memcpy(want + 20, dgram, dlen);
    for (padn = 15; padn <= 255; padn += 16) /* dlen 31 + padn + 2: a block multiple */
        for (inplace = 0; inplace < 2; inplace++) {
            n = mk_trailer(pt, dlen, padn, NULL, (uint8_t)padn, 17);
            T_EQ_UINT(n % 16, 0);
            en = craft_esp(esp, 0x1234, ++seq, 0, pt, n, iv);
            pn = wrap_v4(pkt, esp, en);
            len = 0;
            if (inplace) {
                T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, pkt, sizeof pkt, &len, NULL, NULL),
                         IMSSEC_OK);
                T_EQ_UINT(len, 20 + dlen);
                T_EQ_MEM(pkt, want, 20 + dlen);
            } else {
                T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL),
                         IMSSEC_OK);
                T_EQ_UINT(len, 20 + dlen);
                T_EQ_MEM(out, want, 20 + dlen);
            }
        }
    /* pad length 255, first pad byte wrong: 17 blocks back from the end */
    for (inplace = 0; inplace < 2; inplace++) {
        n = mk_trailer(pt, dlen, 255, NULL, 255, 17);
        pt[dlen] = 0;
        en = craft_esp(esp, 0x1234, ++seq, 0, pt, n, iv);
        pn = wrap_v4(pkt, esp, en);
        memcpy(orig, pkt, sizeof pkt);
        memset(out, 0xA5, sizeof out);
        len = 4242;
        T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, inplace ? pkt : out,
                                      inplace ? sizeof pkt : sizeof out, &len, NULL, NULL),
                 IMSSEC_E_BAD_PADDING);
        T_EQ_MEM(pkt, orig, sizeof pkt);
        T_EQ_UINT(out[0], 0xA5);
        T_EQ_UINT(out[sizeof out - 1], 0xA5);
        T_EQ_UINT(out[100], 0xA5);
        T_EQ_UINT(len, 4242);
    }
    /* pad length claiming more than the whole ciphertext */
    n = mk_trailer(pt, 8, 6, NULL, 255, 17); /* 16 bytes: one block */
    en = craft_esp(esp, 0x1234, ++seq, 0, pt, n, iv);
    pn = wrap_v4(pkt, esp, en);
    memcpy(orig, pkt, sizeof pkt);
    T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, pkt, sizeof pkt, &len, NULL, NULL),
             IMSSEC_E_BAD_PADDING);
    T_EQ_MEM(pkt, orig, sizeof pkt);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 32);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->bad_padding, 3);
}

/* Tunnel mode: the inner header is checked in the first block, the
 * trailer in the last block(s), the blocks between are decrypted straight
 * into place.  Inner packets from a bare 20-byte IPv4 header (two blocks:
 * head and tail, nothing between) to 328 bytes, with TFC padding after
 * the inner packet (RFC 4303 2.7: trimmed to the inner length) and short
 * or long ESP padding, in and out of place, through both entry points; the
 * output equals the inner packet built here. */
T_TEST(esp_rfc4303_2_7_tunnel_blocks)
{
    imssec_esp_sa sa;
    uint8_t inner[400], body[500], pt[800], esp[900], pkt[1000], out[1000];
    static const size_t plens[] = {0, 1, 12, 13, 20, 100, 300};
    static const size_t tfcs[] = {0, 5, 40};
    static const size_t pads[] = {0, 100};
    static const uint8_t iv[16] = {3, 1, 4, 1, 5, 9, 2, 6};
    size_t a, t, d, in_n, n, en, pn, len, i, cnt = 0;
    uint64_t seq = 0;
    int way;
    T_EQ_INT(tun_sa(&sa), IMSSEC_OK);
    for (a = 0; a < sizeof plens / sizeof plens[0]; a++)
        for (t = 0; t < sizeof tfcs / sizeof tfcs[0]; t++)
            for (d = 0; d < sizeof pads / sizeof pads[0]; d++)
                for (way = 0; way < 3; way++) {
                    in_n = mk_v4(inner, plens[a], 0);
                    if (plens[a] == 0) { /* a bare IPv4 header, protocol 59 */
                        uint16_t c;
                        in_n = 20;
                        inner[3] = 20, inner[9] = 59, inner[10] = inner[11] = 0;
                        c = csum16(inner, 20);
                        inner[10] = (uint8_t)(c >> 8), inner[11] = (uint8_t)c;
                    }
                    memcpy(body, inner, in_n);
                    for (i = 0; i < tfcs[t]; i++)
                        body[in_n + i] = (uint8_t)(0xE0 + i); /* TFC padding */
                    n = tun_trailer(pt, body, in_n + tfcs[t], pads[d]);
                    en = craft_esp(esp, 0x1234, ++seq, 0, pt, n, iv);
                    pn = wrap_v4(pkt, esp, en);
                    len = 0;
                    if (way == 0) { /* whole packet, in place */
                        T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, pkt, sizeof pkt, &len, NULL, NULL),
                                 IMSSEC_OK);
                        T_EQ_UINT(len, in_n);
                        T_EQ_MEM(pkt, inner, in_n);
                    } else if (way == 1) { /* whole packet, out of place */
                        T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL),
                                 IMSSEC_OK);
                        T_EQ_UINT(len, in_n);
                        T_EQ_MEM(out, inner, in_n);
                    } else { /* ESP part, out of place */
                        T_EQ_INT(imssec_esp_unprotect_esp(&sa, esp, en, out, sizeof out, &len,
                                                          NULL, NULL),
                                 IMSSEC_OK);
                        T_EQ_UINT(len, in_n);
                        T_EQ_MEM(out, inner, in_n);
                    }
                    cnt++;
                }
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, cnt);
}
