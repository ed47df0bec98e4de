/*
 * wb_core_gcm.c -- core/crypto.c's AES-GCM (its own constant-time GHASH on
 * the mbedTLS AES block) against mbedTLS's GCM as the independent truth:
 * random keys (128 and 256 bits), IVs, AAD and payload lengths across the
 * block boundaries, tag and ciphertext byte for byte, and the check
 * refusing every single-bit change of the tag.
 */
#include <mbedtls/gcm.h>

T_TEST(core_wb_gcm_vs_mbedtls_random)
{
    int iter;
    for (iter = 0; iter < 400; iter++) {
        uint8_t key[32], iv[12], aad[64], pt[300], ours[300], ref[300], tag[16], rtag[16];
        size_t klen = (iter & 1) ? 32 : 16, alen = t_rand64() % 41, n = t_rand64() % 260;
        isc_gcm g;
        mbedtls_gcm_context m;
        int bit;
        t_randbytes(key, sizeof key);
        t_randbytes(iv, sizeof iv);
        t_randbytes(aad, sizeof aad);
        t_randbytes(pt, sizeof pt);
        memcpy(ours, pt, n);
        T_EQ_INT(isc_gcm_setkey(&g, key, klen), IMSSEC_OK);
        T_EQ_INT(isc_gcm_seal(&g, iv, aad, alen, ours, n, tag), IMSSEC_OK);
        mbedtls_gcm_init(&m);
        T_EQ_INT(mbedtls_gcm_setkey(&m, MBEDTLS_CIPHER_ID_AES, key, (unsigned)klen * 8), 0);
        T_EQ_INT(mbedtls_gcm_crypt_and_tag(&m, MBEDTLS_GCM_ENCRYPT, n, iv, 12, aad, alen, pt, ref,
                                           16, rtag),
                 0);
        mbedtls_gcm_free(&m);
        T_EQ_MEM(ours, ref, n);
        T_EQ_MEM(tag, rtag, 16);
        T_ASSERT(isc_gcm_check(&g, iv, aad, alen, ours, n, tag));
        bit = (int)(t_rand64() % 128);
        tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        T_ASSERT(!isc_gcm_check(&g, iv, aad, alen, ours, n, tag));
        isc_gcm_ctr(&g, iv, ours, n);
        T_EQ_MEM(ours, pt, n);
        isc_gcm_wipe(&g);
    }
}
