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
 * HMAC otherwise guards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

static const uint8_t fz_ak[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                  0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t fz_ek[24] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                  13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};

static int fz_sa(imssec_esp_sa *sa, uint8_t cfg, int dir)
{
    static const int algs[4][2] = {{IMSSEC_ESP_AUTH_NONE, IMSSEC_ESP_ENC_AES_CBC},
                                   {IMSSEC_ESP_AUTH_HMAC_SHA1_96, IMSSEC_ESP_ENC_NULL},
                                   {IMSSEC_ESP_AUTH_HMAC_MD5_96, IMSSEC_ESP_ENC_DES_EDE3_CBC},
                                   {IMSSEC_ESP_AUTH_NONE, IMSSEC_ESP_ENC_DES_EDE3_CBC}};
    imssec_esp_params p;
    int a = (cfg >> 2) & 3;
    imssec_esp_params_init(&p);
    p.spi = 0x1001;
    p.dir = dir;
    p.mode = cfg & 3; /* IMSSEC_ESP_TRANSPORT .. IMSSEC_ESP_UDP_TRANSPORT */
    p.auth = algs[a][0];
    p.enc = algs[a][1];
    p.auth_key = fz_ak;
    p.auth_key_len = p.auth == IMSSEC_ESP_AUTH_HMAC_MD5_96 ? 16 : p.auth ? 20 : 0;
    p.enc_key = fz_ek;
    p.enc_key_len = p.enc == IMSSEC_ESP_ENC_AES_CBC ? 16 : p.enc ? 24 : 0;
    p.esn = (cfg >> 4) & 1;
    p.replay_window = 32;
    p.sport = 4500;
    p.dport = 4500;
    p.src.family = p.dst.family = (cfg & 0x40) ? 6 : 4;
    p.src.a[0] = 192;
    p.dst.a[0] = 198;
    return imssec_esp_sa_setup(sa, &p);
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
    size_t n, olen = 0, blen = 0;
    uint8_t cfg;
    int rc;
    if (size < 1 || size > 65536)
        return 0;
    cfg = data[0];
    n = size - 1;
    memcpy(buf, data + 1, n);
    rc = fz_sa(&in, cfg, IMSSEC_ESP_INBOUND);
    if (rc == IMSSEC_E_UNSUPPORTED)
        return 0; /* this configuration compiled it out */
    if (rc != IMSSEC_OK)
        abort();
    if (!(cfg & 0x80)) {
        rc = imssec_esp_unprotect(&in, buf, n, (cfg & 0x20) ? buf : out,
                                  (cfg & 0x20) ? sizeof buf : sizeof out, &olen, NULL);
        if (rc == IMSSEC_OK && olen > n)
            abort(); /* the plaintext is never longer than the packet */
        if (rc != IMSSEC_OK && !imssec_err_is_verdict(rc))
            abort(); /* hostile input gets a verdict, never a usage error */
        if (rc != IMSSEC_OK && in.stats.packets != 0)
            abort();
        imssec_esp_sa_wipe(&in);
        return 0;
    }
    {
        imssec_io io;
        memset(&io, 0, sizeof io);
        io.random = fz_random;
        if (fz_sa(&o, cfg, IMSSEC_ESP_OUTBOUND) != IMSSEC_OK)
            abort();
        rc = imssec_esp_protect(&o, &io, NULL, buf, n, out, sizeof out, &olen);
        if (rc == IMSSEC_OK) {
            if (olen != imssec_esp_protect_size(&o, buf, n) || olen > n + IMSSEC_ESP_OVERHEAD_MAX)
                abort();
            rc = imssec_esp_unprotect(&in, out, olen, back, sizeof back, &blen, NULL);
            /* what protect accepted must come back identical, except that
             * transport mode recomputes the IPv4 header checksum, and a
             * packet whose upper protocol is 59 (IPv6 "no next header")
             * is indistinguishable from an RFC 4303 dummy packet */
            if (rc == IMSSEC_E_DUMMY)
                rc = IMSSEC_OK, blen = n, memcpy(back, buf, n);
            if (rc != IMSSEC_OK || blen != n)
                abort();
            if ((cfg & 3) == IMSSEC_ESP_UDP_TRANSPORT) {
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
