/*
 * milenage.c -- the Milenage algorithm set f1, f1*, f2, f3, f4, f5, f5*
 * (3GPP TS 35.206 clause 4) over the seam's AES-128.
 *
 * One key schedule per call: the AES context lives on the stack of the
 * caller-facing function and is handed down, so an imssec_milenage stays
 * const and shareable between threads.
 */
#include "../imssec.h"

/* TS 35.206 4.1 default constants: r in bits, c as the last byte of a
 * 128-bit value (all other bytes zero). */
static const uint8_t aka_mil_r_default[5] = {64, 0, 32, 64, 96};
static const uint8_t aka_mil_c_last[5] = {0, 1, 2, 4, 8};

/* out = x rotated cyclically by r bits towards the most significant end. */
static void aka_mil_rot(const uint8_t x[16], unsigned r, uint8_t out[16])
{
    unsigned bytes = (r >> 3) & 15, bits = r & 7, i;
    for (i = 0; i < 16; i++) {
        unsigned a = x[(i + bytes) & 15], b = x[(i + bytes + 1) & 15];
        out[i] = (uint8_t)(bits ? (a << bits | b >> (8 - bits)) : a);
    }
}

static void aka_mil_defaults(imssec_milenage *m)
{
    unsigned i;
    memset(m->c_, 0, sizeof m->c_);
    for (i = 0; i < 5; i++) {
        m->c_[i][15] = aka_mil_c_last[i];
        m->r_[i] = aka_mil_r_default[i];
    }
}

IMSSEC_API void imssec_milenage_init_opc(imssec_milenage *m, const uint8_t k[16],
                                         const uint8_t opc[16])
{
    memcpy(m->k_, k, 16);
    memcpy(m->opc_, opc, 16);
    aka_mil_defaults(m);
}

IMSSEC_API void imssec_milenage_init_op(imssec_milenage *m, const uint8_t k[16],
                                        const uint8_t op[16])
{
    isc_aes128 aes;
    uint8_t e[16];
    unsigned i;
    isc_aes128_setkey(&aes, k);
    isc_aes128_encrypt(&aes, op, e);
    isc_aes128_wipe(&aes);
    memcpy(m->k_, k, 16);
    for (i = 0; i < 16; i++)
        m->opc_[i] = (uint8_t)(op[i] ^ e[i]);
    isc_wipe(e, sizeof e);
    aka_mil_defaults(m);
}

IMSSEC_API int imssec_milenage_set_constants(imssec_milenage *m, const uint8_t c[80],
                                             const uint8_t r_bits[5])
{
    unsigned i;
    for (i = 0; i < 5; i++)
        if (r_bits[i] >= 128)
            return IMSSEC_E_RANGE;
    memcpy(m->c_, c, sizeof m->c_);
    memcpy(m->r_, r_bits, sizeof m->r_);
    return IMSSEC_OK;
}

IMSSEC_API void imssec_milenage_get_opc(const imssec_milenage *m, uint8_t opc[16])
{
    memcpy(opc, m->opc_, 16);
}

IMSSEC_API void imssec_milenage_wipe(imssec_milenage *m)
{
    isc_wipe(m, sizeof *m);
}

/* TEMP = E_K(RAND xor OPc). */
static void aka_mil_temp(const imssec_milenage *m, isc_aes128 *aes, const uint8_t rand[16],
                         uint8_t temp[16])
{
    uint8_t x[16];
    unsigned i;
    for (i = 0; i < 16; i++)
        x[i] = (uint8_t)(rand[i] ^ m->opc_[i]);
    isc_aes128_encrypt(aes, x, temp);
    isc_wipe(x, sizeof x);
}

/* OUT1 of TS 35.206 4.1: f1 is out[0..8), f1* is out[8..16). */
static void aka_mil_out1(const imssec_milenage *m, isc_aes128 *aes, const uint8_t temp[16],
                         const uint8_t sqn[6], const uint8_t amf[2], uint8_t out[16])
{
    uint8_t in1[16], x[16], y[16];
    unsigned i;
    memcpy(in1, sqn, 6);
    memcpy(in1 + 6, amf, 2);
    memcpy(in1 + 8, in1, 8);
    for (i = 0; i < 16; i++)
        x[i] = (uint8_t)(in1[i] ^ m->opc_[i]);
    aka_mil_rot(x, m->r_[0], y);
    for (i = 0; i < 16; i++)
        y[i] = (uint8_t)(y[i] ^ temp[i] ^ m->c_[0][i]);
    isc_aes128_encrypt(aes, y, out);
    for (i = 0; i < 16; i++)
        out[i] ^= m->opc_[i];
    isc_wipe(x, sizeof x);
    isc_wipe(y, sizeof y);
}

/* OUT2..OUT5 (which = 2..5): E_K(rot(TEMP xor OPc, r) xor c) xor OPc. */
static void aka_mil_outn(const imssec_milenage *m, isc_aes128 *aes, const uint8_t temp[16],
                         unsigned which, uint8_t out[16])
{
    uint8_t x[16], y[16];
    unsigned i;
    for (i = 0; i < 16; i++)
        x[i] = (uint8_t)(temp[i] ^ m->opc_[i]);
    aka_mil_rot(x, m->r_[which - 1], y);
    for (i = 0; i < 16; i++)
        y[i] ^= m->c_[which - 1][i];
    isc_aes128_encrypt(aes, y, out);
    for (i = 0; i < 16; i++)
        out[i] ^= m->opc_[i];
    isc_wipe(x, sizeof x);
    isc_wipe(y, sizeof y);
}

IMSSEC_API void imssec_milenage_f1(const imssec_milenage *m, const uint8_t rand[16],
                                   const uint8_t sqn[6], const uint8_t amf[2],
                                   uint8_t mac_a[8], uint8_t mac_s[8])
{
    isc_aes128 aes;
    uint8_t temp[16], out[16];
    isc_aes128_setkey(&aes, m->k_);
    aka_mil_temp(m, &aes, rand, temp);
    aka_mil_out1(m, &aes, temp, sqn, amf, out);
    if (mac_a)
        memcpy(mac_a, out, 8);
    if (mac_s)
        memcpy(mac_s, out + 8, 8);
    isc_aes128_wipe(&aes);
    isc_wipe(temp, sizeof temp);
    isc_wipe(out, sizeof out);
}

IMSSEC_API void imssec_milenage_f2345(const imssec_milenage *m, const uint8_t rand[16],
                                      uint8_t res[8], uint8_t ck[16], uint8_t ik[16],
                                      uint8_t ak[6], uint8_t ak_star[6])
{
    isc_aes128 aes;
    uint8_t temp[16], out[16];
    isc_aes128_setkey(&aes, m->k_);
    aka_mil_temp(m, &aes, rand, temp);
    if (res || ak) {
        aka_mil_outn(m, &aes, temp, 2, out);
        if (res)
            memcpy(res, out + 8, 8);
        if (ak)
            memcpy(ak, out, 6);
    }
    if (ck) {
        aka_mil_outn(m, &aes, temp, 3, out);
        memcpy(ck, out, 16);
    }
    if (ik) {
        aka_mil_outn(m, &aes, temp, 4, out);
        memcpy(ik, out, 16);
    }
    if (ak_star) {
        aka_mil_outn(m, &aes, temp, 5, out);
        memcpy(ak_star, out, 6);
    }
    isc_aes128_wipe(&aes);
    isc_wipe(temp, sizeof temp);
    isc_wipe(out, sizeof out);
}
