/*
 * esp_rfc3602_case5.c -- the RFC 3602 section 4 case-5 ESP packet (AES-CBC,
 * no integrity) byte for byte, protected and unprotected, in place and out
 * of place, IMSSEC_E_SPACE and a replay of it.
 */

#include "../../imssec.h"
#include "../t.h"

/* ---- RFC 3602 section 4, case 5 ------------------------------------------------ */

static const char rfc3602_c5_plain[] =
    "4500005408f200004001f9fec0a87b03c0a87b64"
    "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";

static const char rfc3602_c5_esp[] =
    "4500007c08f200004032f9a5c0a87b03c0a87b64"
    "0000432100000001"
    "e96e8c08ab465763fd098d45dd3ff893"
    "f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856"
    "a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874a"
    "a269add047ad2d5913ac19b7cfbad4a6";

static int c5_sa(imssec_esp_sa *sa, int dir)
{
    static uint8_t key[16];
    imssec_esp_params p;
    t_unhex("90d382b410eeba7ad938c46cec1a82bf", key, 16);
    imssec_esp_params_init(&p);
    p.spi = 0x4321;
    p.dir = dir;
    p.alg = IMSSEC_ALG_NULL;
    p.ealg = IMSSEC_EALG_AES_CBC;
    p.enc_key = key;
    p.enc_key_len = 16;
    return imssec_esp_sa_setup(sa, &p, NULL);
}

T_TEST(esp_rfc3602_case5_protect)
{
    imssec_esp_sa sa;
    uint8_t in[84], iv[16], out[200], want[124];
    size_t n, w, olen;
    n = t_unhex(rfc3602_c5_plain, in, sizeof in);
    w = t_unhex(rfc3602_c5_esp, want, sizeof want);
    t_unhex("e96e8c08ab465763fd098d45dd3ff893", iv, 16);
    T_EQ_INT(c5_sa(&sa, IMSSEC_ESP_OUTBOUND), IMSSEC_OK);
    T_EQ_UINT(imssec_esp_protect_size(&sa, in, n), w);
    /* one byte short: E_SPACE, nothing written, SA unchanged */
    memset(out, 0xee, sizeof out);
    T_EQ_INT(imssec_esp_protect(&sa, NULL, iv, in, n, out, w - 1, &olen, NULL), IMSSEC_E_SPACE);
    T_EQ_UINT(olen, w);
    T_EQ_UINT(out[0], 0xee);
    T_EQ_UINT(imssec_esp_sa_seq(&sa), 0);
    T_EQ_INT(imssec_esp_protect(&sa, NULL, iv, in, n, out, sizeof out, &olen, NULL), IMSSEC_OK);
    T_EQ_UINT(olen, w);
    T_EQ_MEM(out, want, w);
    T_EQ_UINT(imssec_esp_sa_seq(&sa), 1);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 1);
    /* in place gives the same bytes */
    {
        uint8_t buf[200];
        imssec_esp_sa sb;
        T_EQ_INT(c5_sa(&sb, IMSSEC_ESP_OUTBOUND), IMSSEC_OK);
        memcpy(buf, in, n);
        T_EQ_INT(imssec_esp_protect(&sb, NULL, iv, buf, n, buf, sizeof buf, &olen, NULL), IMSSEC_OK);
        T_EQ_MEM(buf, want, w);
        imssec_esp_sa_wipe(&sb);
    }
    imssec_esp_sa_wipe(&sa);
}

T_TEST(esp_rfc3602_case5_unprotect)
{
    imssec_esp_sa sa;
    uint8_t in[124], want[84], out[200];
    size_t n, w, olen;
    uint64_t seq = 0;
    n = t_unhex(rfc3602_c5_esp, in, sizeof in);
    w = t_unhex(rfc3602_c5_plain, want, sizeof want);
    T_EQ_INT(c5_sa(&sa, IMSSEC_ESP_INBOUND), IMSSEC_OK);
    T_EQ_INT(imssec_esp_unprotect(&sa, in, n, out, sizeof out, &olen, &seq, NULL), IMSSEC_OK);
    T_EQ_UINT(olen, w);
    T_EQ_MEM(out, want, w);
    T_EQ_UINT(seq, 1);
    /* the same packet again: replay */
    T_EQ_INT(imssec_esp_unprotect(&sa, in, n, out, sizeof out, &olen, &seq, NULL), IMSSEC_E_REPLAY);
    T_EQ_UINT(imssec_esp_sa_stats(&sa)->replay, 1);
    /* in place on a fresh SA */
    imssec_esp_sa_wipe(&sa);
    T_EQ_INT(c5_sa(&sa, IMSSEC_ESP_INBOUND), IMSSEC_OK);
    T_EQ_INT(imssec_esp_unprotect(&sa, in, n, in, sizeof in, &olen, NULL, NULL), IMSSEC_OK);
    T_EQ_UINT(olen, w);
    T_EQ_MEM(in, want, w);
    imssec_esp_sa_wipe(&sa);
}
