/*
 * srtp_kdf.c -- the SRTP key derivation (RFC 3711 4.3) with
 * key_derivation_rate 0, the only rate this library supports (TS 33.328
 * Annex C lets an implementation refuse the others).
 *
 * RFC 3711 4.3.1: r = index DIV kdr = 0 (a DIV 0 = 0), key_id = label || r
 * (8 + 48 bits), x = key_id XOR master_salt with both right-aligned, and a
 * session key of n bits is PRF_n(k_master, x).  4.3.3: PRF_n is AES in
 * counter mode keyed with the master key, IV = x * 2^16, truncated to n
 * bits.  With r = 0 only octet 7 of the 14-octet salt changes (it holds the
 * label).  RFC 6188 uses the same PRF with a 256-bit master key.  For the
 * GCM suites the 96-bit master salt fills the first 12 of the 14 octets,
 * the last two are zero: what libsrtp does (srtp_stream_init_keys()), and
 * what its interop proves.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

enum {
    SRTP_LABEL_RTP_ENC = 0x00,
    SRTP_LABEL_RTP_AUTH = 0x01,
    SRTP_LABEL_RTP_SALT = 0x02,
    SRTP_LABEL_RTCP_ENC = 0x03,
    SRTP_LABEL_RTCP_AUTH = 0x04,
    SRTP_LABEL_RTCP_SALT = 0x05
};

#define SRTP_KDF_OUT_MAX ((size_t)1 << 20) /* 2^16 AES blocks: the 16-bit block counter */

/* out[0..n) = PRF_n(k_master, (label || 0^48) XOR salt14) with `prf` keyed
 * with the master key. */
static void srtp_kdf_run(isc_aes_ctr *prf, const uint8_t salt14[14], uint8_t label,
                         uint8_t *out, size_t n)
{
    uint8_t iv[16];
    memcpy(iv, salt14, 14);
    iv[7] ^= label; /* key_id = label || r occupies octets 7..13, r = 0 */
    iv[14] = iv[15] = 0; /* x * 2^16 */
    isc_aes_ctr_xor(prf, iv, 0, NULL, out, n);
}

IMSSEC_API int imssec_srtp_kdf(const uint8_t *master_key, size_t key_len,
                               const uint8_t *master_salt, size_t salt_len, uint8_t label,
                               uint8_t *out, size_t out_len)
{
    isc_aes_ctr prf;
    uint8_t salt14[14];
    if (!master_key || !master_salt || (!out && out_len) || out_len > SRTP_KDF_OUT_MAX)
        return IMSSEC_E_PARAM;
    if ((key_len != 16 && key_len != 24 && key_len != 32) || (salt_len != 14 && salt_len != 12))
        return IMSSEC_E_PARAM;
    memset(salt14, 0, sizeof salt14);
    memcpy(salt14, master_salt, salt_len);
    (void)isc_aes_ctr_setkey(&prf, master_key, key_len);
    srtp_kdf_run(&prf, salt14, label, out, out_len);
    isc_aes_ctr_wipe(&prf);
    isc_wipe(salt14, sizeof salt14);
    return IMSSEC_OK;
}
