/*
 * sa/snapshot.c -- snapshot and restore of the whole table (restart without
 * losing registered users).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* ===========================================================================
 * Snapshot / restore
 *
 * Format (big-endian), version 2 (modes and algorithms as imssec_mode, imssec_alg, imssec_ealg):
 *   "ISSA" | version | role | with_keys | 0 | n_users u32 | n_sets u32
 *   users, ascending index: idx u32 | impi_len u8 | impi | state flags sm1
 *     nat mode neg_alg neg_ealg neg_mode e2ae u8 | set_[4] u32 | ue_ip (len u8, 16 bytes) | spi_c spi_s u32
 *     | port_c port_s port_us port_ps u16 | tmp_expires ka_next u64
 *     | client_digest (32 bytes)
 *   sets, ascending index: idx gen user u32 | alg ealg mode ik_len ck_len u8
 *     | ue_ip pcscf_ip (17 bytes each) | uc us pc ps uenc u16 | spi[4] u32
 *     | pending u32 | expires u64 | handle[4] u64 | ik | ck
 *   n_impus u32, then per IMPU (users ascending, each in list order):
 *     user u32 | len u16 | the IMPU
 *   SHA-256 of all of the above.
 * ======================================================================== */
#define SA_SNAP_VERSION 2 /* 2: modes and algorithms in the shared enums */
#define SA_SNAP_HDR 16

typedef struct sa_wr {
    uint8_t *p;
    size_t cap, n;
} sa_wr;

static void sa_w(sa_wr *w, const void *p, size_t n)
{
    if (w->n + n <= w->cap && w->p)
        memcpy(w->p + w->n, p, n);
    w->n += n;
}

static void sa_w8(sa_wr *w, uint8_t v)
{
    sa_w(w, &v, 1);
}

static void sa_w16(sa_wr *w, uint16_t v)
{
    uint8_t b[2];
    isc_put_be16(b, v);
    sa_w(w, b, 2);
}

static void sa_w32(sa_wr *w, uint32_t v)
{
    uint8_t b[4];
    isc_put_be32(b, v);
    sa_w(w, b, 4);
}

static void sa_w64(sa_wr *w, uint64_t v)
{
    sa_w32(w, (uint32_t)(v >> 32));
    sa_w32(w, (uint32_t)v);
}

static void sa_waddr(sa_wr *w, const imssec_addr *a)
{
    sa_w8(w, a->len);
    sa_w(w, a->b, 16);
}

static void sa_snapshot_body(const imssec_sa_table *t, int with_keys, uint8_t *out, size_t cap,
                             size_t *len);

IMSSEC_API int imssec_sa_snapshot(const imssec_sa_table *t, int with_keys, uint8_t *out,
                                  size_t cap, size_t *out_len)
{
    size_t need;
    if (!t || !out_len || (!out && cap))
        return IMSSEC_E_PARAM;
    /* size first (nothing written), then the bytes */
    sa_snapshot_body(t, with_keys, NULL, 0, &need);
    *out_len = need + 32;
    if (need + 32 > cap)
        return IMSSEC_E_SPACE;
    sa_snapshot_body(t, with_keys, out, cap, &need);
    isc_hash_once(ISC_SHA256, out, need, out + need);
    return IMSSEC_OK;
}

static void sa_snapshot_body(const imssec_sa_table *t, int with_keys, uint8_t *out, size_t cap,
                             size_t *len)
{
    sa_wr w;
    uint32_t i;
    int k;
    memset(&w, 0, sizeof w);
    w.p = out;
    w.cap = cap;
    sa_w(&w, "ISSA", 4);
    sa_w8(&w, SA_SNAP_VERSION);
    sa_w8(&w, t->cfg_.role);
    sa_w8(&w, with_keys ? 1 : 0);
    sa_w8(&w, 0);
    sa_w32(&w, t->users_used_);
    sa_w32(&w, t->sets_used_);
    for (i = 0; i < t->user_cap_; i++) {
        const imssec_sa_user *u = &t->users_[i];
        if (!u->used_)
            continue;
        sa_w32(&w, i);
        sa_w8(&w, u->impi_len_);
        sa_w(&w, u->impi_, u->impi_len_);
        sa_w8(&w, u->state_);
        sa_w8(&w, u->flags_);
        sa_w8(&w, u->sm1_set_);
        sa_w8(&w, u->nat_);
        sa_w8(&w, u->mode_);
        sa_w8(&w, u->neg_alg_);
        sa_w8(&w, u->neg_ealg_);
        sa_w8(&w, u->neg_mode_);
        sa_w8(&w, u->e2ae_);
        for (k = 0; k < 4; k++)
            sa_w32(&w, u->set_[k]);
        sa_waddr(&w, &u->ue_ip_);
        sa_w32(&w, u->spi_c_);
        sa_w32(&w, u->spi_s_);
        sa_w16(&w, u->port_c_);
        sa_w16(&w, u->port_s_);
        sa_w16(&w, u->port_us_);
        sa_w16(&w, u->port_ps_);
        sa_w64(&w, u->tmp_expires_ms_);
        sa_w64(&w, u->ka_next_ms_);
        sa_w(&w, u->client_digest_, 32);
    }
    for (i = 0; i < t->set_cap_; i++) {
        const imssec_sa_set *s = &t->sets_[i];
        if (!s->used_)
            continue;
        sa_w32(&w, i);
        sa_w32(&w, s->gen_);
        sa_w32(&w, s->user_);
        sa_w8(&w, s->alg_);
        sa_w8(&w, s->ealg_);
        sa_w8(&w, s->mode_);
        sa_w8(&w, with_keys ? s->ik_len_ : 0);
        sa_w8(&w, with_keys ? s->ck_len_ : 0);
        sa_waddr(&w, &s->ue_ip_);
        sa_waddr(&w, &s->pcscf_ip_);
        sa_w16(&w, s->port_uc_);
        sa_w16(&w, s->port_us_);
        sa_w16(&w, s->port_pc_);
        sa_w16(&w, s->port_ps_);
        sa_w16(&w, s->port_uenc_);
        for (k = 0; k < 4; k++)
            sa_w32(&w, s->spi_[k]);
        sa_w32(&w, s->pending_);
        sa_w64(&w, s->expires_ms_);
        for (k = 0; k < 4; k++)
            sa_w64(&w, s->handle_[k]);
        if (with_keys) {
            sa_w(&w, s->ik_, s->ik_len_);
            sa_w(&w, s->ck_, s->ck_len_);
        }
    }
    /* the IMPUs, user by user in list order */
    sa_w32(&w, t->impu_used_);
    for (i = 0; i < t->user_cap_; i++) {
        uint32_t k;
        if (!t->users_[i].used_)
            continue;
        for (k = t->users_[i].impu_head_; k; k = t->impu_[k - 1].next_) {
            sa_w32(&w, i);
            sa_w16(&w, t->impu_[k - 1].len_);
            sa_w(&w, t->impu_[k - 1].uri_, t->impu_[k - 1].len_);
        }
    }
    *len = w.n;
}

typedef struct sa_rd {
    const uint8_t *p;
    size_t n, off;
    int bad;
} sa_rd;

static const uint8_t *sa_r(sa_rd *r, size_t n)
{
    const uint8_t *q;
    if (r->bad || r->n - r->off < n) {
        r->bad = 1;
        return NULL;
    }
    q = r->p + r->off;
    r->off += n;
    return q;
}

static uint8_t sa_r8(sa_rd *r)
{
    const uint8_t *q = sa_r(r, 1);
    return q ? q[0] : 0;
}

static uint16_t sa_r16(sa_rd *r)
{
    const uint8_t *q = sa_r(r, 2);
    return q ? isc_be16(q) : 0;
}

static uint32_t sa_r32(sa_rd *r)
{
    const uint8_t *q = sa_r(r, 4);
    return q ? isc_be32(q) : 0;
}

static uint64_t sa_r64(sa_rd *r)
{
    uint64_t hi = sa_r32(r);
    return (hi << 32) | sa_r32(r);
}

static void sa_raddr(sa_rd *r, imssec_addr *a, int may_be_empty)
{
    const uint8_t *q;
    memset(a, 0, sizeof *a);
    a->len = sa_r8(r);
    q = sa_r(r, 16);
    if (q)
        memcpy(a->b, q, 16);
    if (!(isc_addr_ok(a) || (may_be_empty && a->len == 0)))
        r->bad = 1;
    if (a->len < 16 && q) {
        size_t k;
        for (k = a->len; k < 16; k++)
            if (q[k])
                r->bad = 1; /* canonical: unused bytes are zero */
    }
}

/* Parse one user / set record into u / s; apply = 0 only validates. */
static void sa_rd_user(sa_rd *r, const imssec_sa_table *t, imssec_sa_user *u, uint32_t *idx)
{
    const uint8_t *q;
    int k;
    memset(u, 0, sizeof *u);
    *idx = sa_r32(r);
    u->impi_len_ = sa_r8(r);
    if (u->impi_len_ == 0 || u->impi_len_ > IMSSEC_SA_IMPI_MAX)
        r->bad = 1;
    q = sa_r(r, r->bad ? 0 : u->impi_len_);
    if (q && !r->bad)
        memcpy(u->impi_, q, u->impi_len_);
    u->state_ = sa_r8(r);
    u->flags_ = sa_r8(r);
    u->sm1_set_ = sa_r8(r);
    u->nat_ = sa_r8(r);
    u->mode_ = sa_r8(r);
    u->neg_alg_ = sa_r8(r);
    u->neg_ealg_ = sa_r8(r);
    u->neg_mode_ = sa_r8(r);
    u->e2ae_ = sa_r8(r);
    for (k = 0; k < 4; k++) {
        u->set_[k] = sa_r32(r);
        if (u->set_[k] > t->set_cap_)
            r->bad = 1;
    }
    sa_raddr(r, &u->ue_ip_, 1);
    u->spi_c_ = sa_r32(r);
    u->spi_s_ = sa_r32(r);
    u->port_c_ = sa_r16(r);
    u->port_s_ = sa_r16(r);
    u->port_us_ = sa_r16(r);
    u->port_ps_ = sa_r16(r);
    u->tmp_expires_ms_ = sa_r64(r);
    u->ka_next_ms_ = sa_r64(r);
    q = sa_r(r, 32);
    if (q)
        memcpy(u->client_digest_, q, 32);
    u->used_ = 1;
    if (*idx >= t->user_cap_ || u->state_ >= IMSSEC_SA_ST_COUNT_ ||
        (u->sm1_set_ > SA_R_REG && u->sm1_set_ != SA_R_NONE) || u->nat_ > 1 ||
        (u->mode_ != IMSSEC_MODE_TRANS && u->mode_ != IMSSEC_MODE_UDP_ENC_TUN) ||
        u->neg_alg_ >= IMSSEC_ALG_UNKNOWN || u->neg_ealg_ >= IMSSEC_EALG_UNKNOWN ||
        u->neg_mode_ >= IMSSEC_MODE_UNKNOWN || (u->flags_ & ~3u) || (u->e2ae_ & ~3u))
        r->bad = 1;
}

static void sa_rd_set(sa_rd *r, const imssec_sa_table *t, imssec_sa_set *s, uint32_t *idx)
{
    const uint8_t *q;
    int k;
    memset(s, 0, sizeof *s);
    *idx = sa_r32(r);
    s->gen_ = sa_r32(r);
    s->user_ = sa_r32(r);
    s->alg_ = sa_r8(r);
    s->ealg_ = sa_r8(r);
    s->mode_ = sa_r8(r);
    s->ik_len_ = sa_r8(r);
    s->ck_len_ = sa_r8(r);
    sa_raddr(r, &s->ue_ip_, 0);
    sa_raddr(r, &s->pcscf_ip_, 0);
    s->port_uc_ = sa_r16(r);
    s->port_us_ = sa_r16(r);
    s->port_pc_ = sa_r16(r);
    s->port_ps_ = sa_r16(r);
    s->port_uenc_ = sa_r16(r);
    for (k = 0; k < 4; k++)
        s->spi_[k] = sa_r32(r);
    s->pending_ = sa_r32(r);
    s->expires_ms_ = sa_r64(r);
    for (k = 0; k < 4; k++)
        s->handle_[k] = sa_r64(r);
    if (s->ik_len_ > sizeof s->ik_ || s->ck_len_ > sizeof s->ck_)
        r->bad = 1;
    q = sa_r(r, r->bad ? 0 : s->ik_len_);
    if (q && !r->bad)
        memcpy(s->ik_, q, s->ik_len_);
    q = sa_r(r, r->bad ? 0 : s->ck_len_);
    if (q && !r->bad)
        memcpy(s->ck_, q, s->ck_len_);
    s->used_ = 1;
    if (*idx >= t->set_cap_ || s->gen_ == 0 || s->user_ >= t->user_cap_ ||
        s->alg_ > IMSSEC_ALG_AES_GMAC || s->ealg_ > IMSSEC_EALG_AES_GCM ||
        /* the pairs sa_check_newset_args admits: alg null with aes-gcm
         * only, aes-gmac with ealg null only */
        (s->alg_ == IMSSEC_ALG_NULL) != (s->ealg_ == IMSSEC_EALG_AES_GCM) ||
        (s->alg_ == IMSSEC_ALG_AES_GMAC && s->ealg_ != IMSSEC_EALG_NULL) ||
        (s->mode_ != IMSSEC_MODE_TRANS && s->mode_ != IMSSEC_MODE_UDP_ENC_TUN) ||
        s->ue_ip_.len != s->pcscf_ip_.len)
        r->bad = 1;
}

/* The IMPU records: the first pass validates each (length, user index,
 * users ascending, no duplicate and at most per_user for one user, room),
 * the second stores them (after sa_impu_clear).  That a user is restored
 * and registered is left to the final consistency check. */
static int sa_restore_impus(imssec_sa_table *t, sa_rd *r, size_t body, int apply)
{
    uint32_t n = sa_r32(r), i, cur = UINT32_MAX, in_cur = 0;
    size_t group = 0; /* offset of the current user's first record */
    if (r->bad)
        return IMSSEC_E_SYNTAX;
    if (n && (!t->impu_ || n > t->impu_cap_))
        return IMSSEC_E_SPACE;
    for (i = 0; i < n; i++) {
        size_t at = r->off, len, o;
        uint32_t ui = sa_r32(r);
        const uint8_t *q;
        len = sa_r16(r);
        q = r->bad ? NULL : sa_r(r, len);
        if (!q || len == 0 || len > IMSSEC_SA_IMPU_MAX || ui >= t->user_cap_ ||
            (cur != UINT32_MAX && ui < cur))
            return IMSSEC_E_SYNTAX;
        if (ui != cur) {
            cur = ui;
            in_cur = 0;
            group = at;
        }
        if (++in_cur > t->impu_per_user_)
            return IMSSEC_E_SPACE;
        for (o = group; o < at; o += 6 + isc_be16(r->p + o + 4))
            if (isc_be16(r->p + o + 4) == len && memcmp(r->p + o + 6, q, len) == 0)
                return IMSSEC_E_SYNTAX; /* the same IMPU twice */
        if (apply)
            (void)sa_impu_insert(t, ui, (const char *)q, len);
    }
    if (r->off != body)
        return IMSSEC_E_SYNTAX;
    return IMSSEC_OK;
}

/* One pass over the snapshot body; with apply = 0 nothing is written. */
static int sa_restore_pass(imssec_sa_table *t, const uint8_t *in, size_t body, int apply)
{
    sa_rd r;
    uint32_t nu, ns, i, idx, last;
    r.p = in;
    r.n = body;
    r.off = SA_SNAP_HDR;
    r.bad = 0;
    nu = isc_be32(in + 8);
    ns = isc_be32(in + 12);
    if (nu > t->user_cap_ || ns > t->set_cap_)
        return IMSSEC_E_SPACE;
    last = 0;
    for (i = 0; i < nu && !r.bad; i++) {
        imssec_sa_user u;
        sa_rd_user(&r, t, &u, &idx);
        if (i && idx <= last)
            r.bad = 1; /* strictly ascending: no duplicates */
        last = idx;
        if (apply && !r.bad)
            t->users_[idx] = u;
        isc_wipe(&u, sizeof u);
    }
    last = 0;
    for (i = 0; i < ns && !r.bad; i++) {
        imssec_sa_set s;
        sa_rd_set(&r, t, &s, &idx);
        if (i && idx <= last)
            r.bad = 1;
        last = idx;
        if (apply && !r.bad)
            t->sets_[idx] = s;
        isc_wipe(&s, sizeof s);
    }
    if (r.bad)
        return IMSSEC_E_SYNTAX;
    return sa_restore_impus(t, &r, body, apply);
}

static void sa_clear(imssec_sa_table *t)
{
    uint32_t i;
    if (t->impu_)
        sa_impu_clear(t);
    isc_wipe(t->users_, (size_t)t->user_cap_ * sizeof(imssec_sa_user));
    isc_wipe(t->sets_, (size_t)t->set_cap_ * sizeof(imssec_sa_set));
    memset(t->ix_spi_, 0, ((size_t)t->ix_spi_mask_ + 1u) * 4u);
    memset(t->ix_port_, 0, ((size_t)t->ix_port_mask_ + 1u) * 4u);
    memset(t->ix_impi_, 0, ((size_t)t->ix_impi_mask_ + 1u) * 4u);
    t->users_used_ = t->sets_used_ = t->free_user_ = t->free_set_ = t->heap_n_ = 0;
    memset(t->heap_, 0, (size_t)t->user_cap_ * 4u);
    for (i = 0; i < t->set_cap_; i++)
        t->sets_[i].gen_ = 1;
}

/* Free lists and indexes from the records. */
static void sa_rebuild(imssec_sa_table *t)
{
    uint32_t i;
    int w;
    t->users_used_ = t->sets_used_ = t->free_user_ = t->free_set_ = 0;
    for (i = t->user_cap_; i > 0; i--) {
        imssec_sa_user *u = &t->users_[i - 1];
        if (u->used_) {
            t->users_used_++;
            sa_ix_insert(t, SA_IX_IMPI, i);
        } else {
            u->set_[0] = t->free_user_;
            t->free_user_ = i;
        }
    }
    for (i = t->set_cap_; i > 0; i--) {
        imssec_sa_set *s = &t->sets_[i - 1];
        if (s->used_) {
            t->sets_used_++;
            for (w = 0; w < 4; w++) {
                sa_ix_insert(t, SA_IX_SPI, (i - 1) * 4u + (uint32_t)w + 1u);
                sa_ix_insert(t, SA_IX_PORT, (i - 1) * 4u + (uint32_t)w + 1u);
            }
        } else {
            if (!s->gen_)
                s->gen_ = 1;
            s->user_ = t->free_set_;
            t->free_set_ = i;
        }
    }
    t->heap_n_ = 0;
    for (i = 0; i < t->user_cap_; i++) {
        t->users_[i].heap_pos_ = 0;
        t->users_[i].due_ms_ = 0;
        if (t->users_[i].used_)
            sa_sched(t, i);
    }
}

IMSSEC_API int imssec_sa_restore(imssec_sa_table *t, const uint8_t *in, size_t len)
{
    uint8_t h[32];
    size_t body;
    int rc;
    if (!t || !t->users_ || (!in && len))
        return IMSSEC_E_PARAM;
    if (len < SA_SNAP_HDR + 32)
        return IMSSEC_E_SYNTAX;
    body = len - 32;
    isc_hash_once(ISC_SHA256, in, body, h);
    if (!isc_ct_eq(h, in + body, 32) || memcmp(in, "ISSA", 4) != 0 ||
        in[4] != SA_SNAP_VERSION || in[5] != t->cfg_.role || in[6] > 1 || in[7] != 0)
        return IMSSEC_E_SYNTAX;
    /* validate everything before touching the table */
    if ((rc = sa_restore_pass(t, in, body, 0)) != IMSSEC_OK)
        return rc;
    sa_clear(t);
    (void)sa_restore_pass(t, in, body, 1);
    sa_rebuild(t);
    if (imssec_sa_table_check(t) != IMSSEC_OK) {
        /* records individually valid but not a consistent table (only a
         * hand-made snapshot with a correct hash can get here) */
        sa_clear(t);
        sa_rebuild(t);
        return IMSSEC_E_SYNTAX;
    }
    return IMSSEC_OK;
}

