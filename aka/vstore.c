/*
 * aka/vstore.c -- the S-CSCF's authentication vectors of one IMPI (TS
 * 33.203 6.1.1, 6.1.2.3, 6.1.3): first in, first out, never sent twice,
 * the RAND sent kept until the authentication is over, and the old
 * vectors dropped when a batch arrives after a resynchronisation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

IMSSEC_API int imssec_aka_vstore_init(imssec_aka_vstore *vs, imssec_aka_vector *slots,
                                      size_t cap)
{
    if (!vs || !slots || cap == 0 || cap > (1u << 24))
        return IMSSEC_E_PARAM;
    memset(vs, 0, sizeof *vs);
    vs->v_ = slots;
    vs->cap_ = (uint32_t)cap;
    isc_wipe(slots, cap * sizeof *slots);
    return IMSSEC_OK;
}

/* Drop every unused vector (wiped: they hold CK, IK and XRES). */
static void vs_clear_unused(imssec_aka_vstore *vs)
{
    isc_wipe(vs->v_, (size_t)vs->cap_ * sizeof *vs->v_);
    vs->head_ = vs->n_ = 0;
}

IMSSEC_API int imssec_aka_vstore_put(imssec_aka_vstore *vs, const imssec_aka_vector *v, size_t n,
                                     int after_resync)
{
    size_t i, have;
    if (!vs || !vs->v_ || (n && !v))
        return IMSSEC_E_PARAM;
    /* 6.1.3: the new batch replaces the old vectors, whose SQNs the USIM
     * has just refused */
    have = after_resync ? 0 : vs->n_;
    if (n > vs->cap_ - have)
        return IMSSEC_E_SPACE;
    if (after_resync)
        vs_clear_unused(vs);
    for (i = 0; i < n; i++)
        vs->v_[(vs->head_ + vs->n_ + i) % vs->cap_] = v[i];
    vs->n_ += (uint32_t)n;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_aka_vstore_next(imssec_aka_vstore *vs, imssec_aka_vector *out)
{
    imssec_aka_vector *v;
    if (!vs || !vs->v_ || !out)
        return IMSSEC_E_PARAM;
    if (vs->n_ == 0)
        return IMSSEC_E_NOT_FOUND;
    v = &vs->v_[vs->head_];
    vs->sent_ = *v;
    vs->sent_valid_ = 1;
    *out = *v;
    isc_wipe(v, sizeof *v); /* "no AV shall be sent more than once" */
    vs->head_ = (vs->head_ + 1) % vs->cap_;
    vs->n_--;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_aka_vstore_sent(const imssec_aka_vstore *vs,
                                      const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                      imssec_aka_vector *out)
{
    if (!vs || !rand || !out)
        return IMSSEC_E_PARAM;
    if (!vs->sent_valid_ || memcmp(vs->sent_.rand, rand, IMSSEC_AKA_RAND_LEN) != 0)
        return IMSSEC_E_NOT_FOUND;
    *out = vs->sent_;
    return IMSSEC_OK;
}

IMSSEC_API void imssec_aka_vstore_done(imssec_aka_vstore *vs)
{
    if (!vs)
        return;
    isc_wipe(&vs->sent_, sizeof vs->sent_);
    vs->sent_valid_ = 0;
}

IMSSEC_API size_t imssec_aka_vstore_count(const imssec_aka_vstore *vs)
{
    return vs ? vs->n_ : 0;
}

IMSSEC_API void imssec_aka_vstore_wipe(imssec_aka_vstore *vs)
{
    if (!vs)
        return;
    if (vs->v_)
        vs_clear_unused(vs);
    isc_wipe(vs, sizeof *vs);
}
