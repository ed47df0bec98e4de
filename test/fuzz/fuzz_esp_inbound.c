/*
 * fuzz_esp_inbound.c -- hostile packets into imssec_esp_unprotect() on a
 * fixed SA, and arbitrary plaintext through protect -> unprotect.
 *
 * Byte 0 chooses: bits 0-1 mode (transport, tunnel, UDP tunnel, UDP
 * transport), bits 2-3
 * algorithms, bit 4 ESN, bit 5 in place, bit 6 the outer family for tunnel
 * modes, bit 7 the direction: 0 = the rest is an inbound packet; 1 = the
 * rest is a plaintext IP packet that must survive protect + unprotect
 * unchanged.  The algorithm set includes integrity NONE with AES so that
 * the fuzzer reaches decryption, padding and inner-packet checks, which an
 * HMAC otherwise guards.  Algorithms 3 take one more byte (byte 1), whose
 * value mod 3 picks NONE + DES-EDE3-CBC (what 3 alone meant before), AES-GCM
 * (RFC 4106) or AES-GMAC (RFC 4543); the packet follows it.  (The corpus
 * files of algorithms 3 got a 0 byte there, so they mean what they meant.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

static const uint8_t fz_ak[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                  0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t fz_ek[24] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                  13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};

/* a: algorithms 0..5 (4 and 5 reached through byte 1, see above) */
static int fz_sa(imssec_esp_sa *sa, uint8_t cfg, int a, int dir)
{
    static const int algs[6][2] = {{IMSSEC_ALG_NULL, IMSSEC_EALG_AES_CBC},
                                   {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
                                   {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC},
                                   {IMSSEC_ALG_NULL, IMSSEC_EALG_DES_EDE3_CBC},
                                   {IMSSEC_ALG_NULL, IMSSEC_EALG_AES_GCM},
                                   {IMSSEC_ALG_AES_GMAC, IMSSEC_EALG_NULL}};
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 0x1001;
    p.dir = dir;
    p.mode = cfg & 3; /* IMSSEC_MODE_TRANS .. IMSSEC_MODE_UDP_ENC_TRANS */
    p.alg = algs[a][0];
    p.ealg = algs[a][1];
    p.auth_key = fz_ak;
    /* GMAC and GCM: key || salt, 20 bytes */
    p.auth_key_len = p.alg == IMSSEC_ALG_HMAC_MD5_96 ? 16 : p.alg ? 20 : 0;
    p.enc_key = fz_ek;
    p.enc_key_len = p.ealg == IMSSEC_EALG_AES_CBC   ? 16
                    : p.ealg == IMSSEC_EALG_AES_GCM ? 20
                    : p.ealg                        ? 24
                                                    : 0;
    p.esn = (cfg >> 4) & 1;
    p.replay_window = 32;
    p.sport = 4500;
    p.dport = 4500;
    p.src.len = p.dst.len = (cfg & 0x40) ? 16 : 4;
    p.src.b[0] = 192;
    p.dst.b[0] = 198;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

static int fz_random(void *user, uint8_t *out, size_t len)
{
    (void)user;
    memset(out, 0x5a, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[70000], out[70000 + IMSSEC_ESP_OVERHEAD_MAX], back[70000 + 200];
    imssec_esp_sa in, o;
    size_t n, olen = 0, blen = 0, skip = 1;
    uint8_t cfg;
    int rc, a;
    if (size < 1 || size > 65536)
        return 0;
    cfg = data[0];
    a = (cfg >> 2) & 3;
    if (a == 3) { /* the extension byte */
        if (size < 2)
            return 0;
        a = data[1] % 3 == 0 ? 3 : data[1] % 3 == 1 ? 4 : 5;
        skip = 2;
    }
    n = size - skip;
    memcpy(buf, data + skip, n);
    rc = fz_sa(&in, cfg, a, IMSSEC_ESP_INBOUND);
    if (rc == IMSSEC_E_UNSUPPORTED)
        return 0; /* this configuration compiled it out */
    if (rc != IMSSEC_OK)
        abort();
    if (!(cfg & 0x80)) {
        rc = imssec_esp_unprotect(&in, buf, n, (cfg & 0x20) ? buf : out,
                                  (cfg & 0x20) ? sizeof buf : sizeof out, &olen, NULL, NULL);
        if (rc == IMSSEC_OK && olen > n)
            abort(); /* the plaintext is never longer than the packet */
        if (rc != IMSSEC_OK && !imssec_err_is_verdict(rc))
            abort(); /* hostile input gets a verdict, never a usage error */
        if (rc != IMSSEC_OK && imssec_esp_sa_stats(&in)->packets != 0)
            abort();
        imssec_esp_sa_wipe(&in);
        return 0;
    }
    {
        imssec_io io;
        memset(&io, 0, sizeof io);
        io.random = fz_random;
        if (fz_sa(&o, cfg, a, IMSSEC_ESP_OUTBOUND) != IMSSEC_OK)
            abort();
        rc = imssec_esp_protect(&o, &io, NULL, buf, n, out, sizeof out, &olen, NULL);
        if (rc == IMSSEC_OK) {
            if (olen != imssec_esp_protect_size(&o, buf, n) || olen > n + IMSSEC_ESP_OVERHEAD_MAX)
                abort();
            rc = imssec_esp_unprotect(&in, out, olen, back, sizeof back, &blen, NULL, NULL);
            /* what protect accepted must come back identical, except that
             * transport mode recomputes the IPv4 header checksum, and a
             * packet whose upper protocol is 59 (IPv6 "no next header")
             * is indistinguishable from an RFC 4303 dummy packet */
            if (rc == IMSSEC_E_DUMMY)
                rc = IMSSEC_OK, blen = n, memcpy(back, buf, n);
            if (rc != IMSSEC_OK || blen != n)
                abort();
            if ((cfg & 3) == IMSSEC_MODE_UDP_ENC_TRANS) {
                /* RFC 3948 3.1.2: UDP-encapsulated transport also zeroes or
                 * recomputes the inner TCP/UDP checksum, so differences
                 * may only sit in the IPv4 header checksum and in one
                 * other 2-byte field */
                size_t i, other = (size_t)-1;
                for (i = 0; i < n; i++) {
                    if (back[i] == buf[i] || ((buf[0] >> 4) == 4 && (i == 10 || i == 11)))
                        continue;
                    if (other == (size_t)-1)
                        other = i;
                    else if (i != other + 1)
                        abort();
                }
            } else if ((cfg & 3) == 0 && (buf[0] >> 4) == 4) {
                if (memcmp(back, buf, 10) != 0 || memcmp(back + 12, buf + 12, n - 12) != 0)
                    abort();
            } else if (memcmp(back, buf, n) != 0) {
                abort();
            }
        }
        imssec_esp_sa_wipe(&o);
    }
    imssec_esp_sa_wipe(&in);
    return 0;
}
