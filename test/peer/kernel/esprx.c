/*
 * esprx.c -- a stream of ESP packets through ONE inbound imssec SA
 * (public API of libimssec.a), for test/peer/esp-kernel.sh.
 *
 * `imssec esp-unprotect` makes a fresh SA per packet; the kernel interop test
 * also needs what only a long-lived SA shows: the replay window across
 * packets and, with ESN, the high sequence bits inferred (RFC 4303
 * Appendix A) from the window rather than given.
 *
 *   esprx SPI AUTH ENC AUTHKEY|- ENCKEY|- MODE ESN START HEX...
 *     AUTH: hmac-md5-96 | hmac-sha-1-96 | aes-gmac | null; ENC: null |
 *     des-ede3-cbc | aes-cbc | aes-gcm (the GCM suites: key || salt)
 *     MODE: transport | tunnel | udp-tunnel; ESN: 0 | 1; START: the SA's initial
 *     "highest received" sequence number (imssec_esp_params.seq)
 *   prints per packet: "N NAME SEQ PLAINHEX" (NAME from imssec_errname,
 *   SEQ and PLAINHEX "-" unless accepted)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../imssec.h"

static size_t rx_unhex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = strlen(s), i;
    if (n % 2 || n / 2 > cap)
        exit(2);
    for (i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            exit(2);
        out[i] = (unsigned char)v;
    }
    return n / 2;
}

int main(int argc, char **argv)
{
    static unsigned char in[4096], out[4096];
    unsigned char ak[IMSSEC_ESP_AUTH_KEY_MAX], ek[IMSSEC_ESP_ENC_KEY_MAX];
    imssec_esp_params p;
    imssec_esp_sa sa;
    int i, rc;
    if (argc < 10) {
        fprintf(stderr, "usage: esprx SPI AUTH ENC AUTHKEY|- ENCKEY|- MODE ESN START HEX...\n");
        return 2;
    }
    imssec_esp_params_init(&p);
    p.dir = IMSSEC_ESP_INBOUND;
    p.spi = (uint32_t)strtoul(argv[1], NULL, 0);
    p.alg = !strcmp(argv[2], "hmac-md5-96") ? IMSSEC_ALG_HMAC_MD5_96
            : !strcmp(argv[2], "aes-gmac")  ? IMSSEC_ALG_AES_GMAC
            : !strcmp(argv[2], "null")      ? IMSSEC_ALG_NULL
                                            : IMSSEC_ALG_HMAC_SHA1_96;
    p.ealg = !strcmp(argv[3], "aes-cbc")        ? IMSSEC_EALG_AES_CBC
            : !strcmp(argv[3], "des-ede3-cbc") ? IMSSEC_EALG_DES_EDE3_CBC
            : !strcmp(argv[3], "aes-gcm")      ? IMSSEC_EALG_AES_GCM
                                               : IMSSEC_EALG_NULL;
    if (strcmp(argv[4], "-")) {
        p.auth_key = ak;
        p.auth_key_len = rx_unhex(argv[4], ak, sizeof ak);
    }
    if (strcmp(argv[5], "-")) {
        p.enc_key = ek;
        p.enc_key_len = rx_unhex(argv[5], ek, sizeof ek);
    }
    if (!strcmp(argv[6], "udp-tunnel") || !strcmp(argv[6], "tunnel")) {
        /* inbound outer addresses are not enforced (NAT), but must be set */
        p.mode = !strcmp(argv[6], "tunnel") ? IMSSEC_MODE_TUN : IMSSEC_MODE_UDP_ENC_TUN;
        p.src.len = p.dst.len = 4;
        memcpy(p.src.b, "\xc0\x00\x02\x01", 4);
        memcpy(p.dst.b, "\xc0\x00\x02\x02", 4);
    }
    p.esn = atoi(argv[7]);
    p.seq = strtoull(argv[8], NULL, 0);
    rc = imssec_esp_sa_setup(&sa, &p, NULL);
    if (rc != IMSSEC_OK) {
        printf("setup %s\n", imssec_errname(rc));
        return 1;
    }
    for (i = 9; i < argc; i++) {
        size_t n = rx_unhex(argv[i], in, sizeof in), olen = 0, k;
        uint64_t seq = 0;
        rc = imssec_esp_unprotect(&sa, in, n, out, sizeof out, &olen, &seq, NULL);
        printf("%d %s ", i - 8, imssec_errname(rc));
        if (rc == IMSSEC_OK) {
            printf("%llu ", (unsigned long long)seq);
            for (k = 0; k < olen; k++)
                printf("%02x", out[k]);
            printf("\n");
        } else {
            printf("- -\n");
        }
    }
    imssec_esp_sa_wipe(&sa);
    return 0;
}
