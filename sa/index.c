/*
 * sa/index.c -- the hashing of the SA table, its three open-addressing indexes
 * (inbound SPI, (UE IP, UE port), IMPI), SA references and the deadline
 * heap that lets imssec_sa_tick() touch only the users that are due.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* ===========================================================================
 * Hashing and the three indexes
 * ======================================================================== */
static uint64_t sa_mix(uint64_t x)
{
    /* splitmix64 finaliser: full avalanche, so low bits are usable */
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t sa_hash_bytes(uint64_t seed, const uint8_t *p, size_t n)
{
    uint64_t h = sa_mix(seed ^ (uint64_t)n);
    size_t i;
    for (i = 0; i < n; i++)
        h = sa_mix(h ^ p[i]) + (uint64_t)i;
    return sa_mix(h);
}


static uint16_t sa_ue_port(const imssec_sa_set *s, int which)
{
    return (which == IMSSEC_SA_UC_PS || which == IMSSEC_SA_PS_UC) ? s->port_uc_ : s->port_us_;
}

static uint16_t sa_pc_port(const imssec_sa_set *s, int which)
{
    return (which == IMSSEC_SA_UC_PS || which == IMSSEC_SA_PS_UC) ? s->port_ps_ : s->port_pc_;
}

static uint64_t sa_hash_spi(const imssec_sa_table *t, uint32_t spi)
{
    return sa_mix(t->seed_ ^ spi);
}

static uint64_t sa_hash_port(const imssec_sa_table *t, const imssec_addr *ip, uint16_t port)
{
    uint8_t k[19];
    memcpy(k, ip->b, 16);
    k[16] = ip->len;
    isc_put_be16(k + 17, port);
    return sa_hash_bytes(t->seed_ + 1, k, sizeof k);
}

static uint64_t sa_hash_of(const imssec_sa_table *t, int ix, uint32_t v)
{
    if (ix == SA_IX_IMPI) {
        const imssec_sa_user *u = &t->users_[v - 1];
        return sa_hash_bytes(t->seed_ + 2, u->impi_, u->impi_len_);
    } else {
        const imssec_sa_set *s = &t->sets_[(v - 1) >> 2];
        int w = (int)((v - 1) & 3);
        if (ix == SA_IX_SPI)
            return sa_hash_spi(t, s->spi_[w]);
        return sa_hash_port(t, &s->ue_ip_, sa_ue_port(s, w));
    }
}

static uint32_t *sa_ix(const imssec_sa_table *t, int ix, uint32_t *mask)
{
    if (ix == SA_IX_SPI) {
        *mask = t->ix_spi_mask_;
        return t->ix_spi_;
    }
    if (ix == SA_IX_PORT) {
        *mask = t->ix_port_mask_;
        return t->ix_port_;
    }
    *mask = t->ix_impi_mask_;
    return t->ix_impi_;
}

static void sa_ix_insert(imssec_sa_table *t, int ix, uint32_t v)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask);
    uint32_t i = (uint32_t)sa_hash_of(t, ix, v) & mask;
    while (a[i] != 0)
        i = (i + 1) & mask;
    a[i] = v;
}

/* Backward-shift deletion: later members of the cluster that may live in
 * the hole are moved up, so no tombstones ever accumulate. */
static void sa_ix_remove(imssec_sa_table *t, int ix, uint32_t v)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask);
    uint32_t i = (uint32_t)sa_hash_of(t, ix, v) & mask, j, k;
    while (a[i] != v) {
        if (a[i] == 0)
            return; /* not present: nothing to do */
        i = (i + 1) & mask;
    }
    j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (a[j] == 0)
            break;
        k = (uint32_t)sa_hash_of(t, ix, a[j]) & mask;
        /* move a[j] to i unless its home k lies cyclically in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        a[i] = a[j];
        i = j;
    }
    a[i] = 0;
}

/* ===========================================================================
 * Refs and sets
 * ======================================================================== */
static imssec_sa_ref sa_ref_make(const imssec_sa_table *t, uint32_t set, int which)
{
    return ((uint64_t)t->sets_[set].gen_ << 32) | (uint64_t)(set * 4u + (uint32_t)which + 1u);
}

/* The set index of a live ref, or UINT32_MAX. */
static uint32_t sa_ref_set(const imssec_sa_table *t, imssec_sa_ref r, int *which)
{
    uint32_t lo = (uint32_t)r, set;
    if (lo == 0)
        return UINT32_MAX;
    set = (lo - 1) >> 2;
    if (set >= t->set_cap_ || !t->sets_[set].used_ || t->sets_[set].gen_ != (uint32_t)(r >> 32))
        return UINT32_MAX;
    if (which)
        *which = (int)((lo - 1) & 3);
    return set;
}

/* ===========================================================================
 * The deadline heap: users keyed by due_ms_, so tick touches only the users
 * that are due (a P-CSCF with a million SAs has as many deadlines).
 * ======================================================================== */

/* The earliest moment something must happen to user u, UINT64_MAX if never. */
/* The set whose UDP-encapsulated SAs the UE keeps alive (M.7.2): the
 * current one, or during a first registration the new one (from SM7 on);
 * 1 + index, 0 = none. */
static uint32_t sa_keepalive_set(const imssec_sa_user *u)
{
    return u->set_[SA_R_CUR] ? u->set_[SA_R_CUR] : u->set_[SA_R_NEW];
}

static uint64_t sa_user_due(const imssec_sa_table *t, const imssec_sa_user *u)
{
    uint64_t d = UINT64_MAX;
    int r;
    for (r = 0; r < 4; r++)
        if (u->set_[r] && t->sets_[u->set_[r] - 1].expires_ms_ < d)
            d = t->sets_[u->set_[r] - 1].expires_ms_;
    if ((u->state_ == ST(REG_UNPROT) || u->state_ == ST(REG_PROT)) && u->tmp_expires_ms_ &&
        u->tmp_expires_ms_ < d)
        d = u->tmp_expires_ms_;
    if (t->cfg_.role == IMSSEC_SA_ROLE_PCSCF && u->set_[SA_R_OLD] &&
        !(u->flags_ & SA_F_SWITCHED)) {
        uint64_t oe = t->sets_[u->set_[SA_R_OLD] - 1].expires_ms_;
        uint64_t at = oe > t->cfg_.switch_before_ms ? oe - t->cfg_.switch_before_ms : 0;
        if (at < d)
            d = at;
    }
    if (t->cfg_.role == IMSSEC_SA_ROLE_UE && t->cfg_.keepalive_ms && sa_keepalive_set(u) &&
        t->sets_[sa_keepalive_set(u) - 1].mode_ == IMSSEC_MODE_UDP_ENC_TUN &&
        u->ka_next_ms_ < d)
        d = u->ka_next_ms_;
    return d;
}

static void sa_heap_set(imssec_sa_table *t, uint32_t pos, uint32_t ui)
{
    t->heap_[pos] = ui;
    t->users_[ui].heap_pos_ = pos + 1;
}

static void sa_heap_up(imssec_sa_table *t, uint32_t pos)
{
    uint32_t ui = t->heap_[pos];
    uint64_t d = t->users_[ui].due_ms_;
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (t->users_[t->heap_[parent]].due_ms_ <= d)
            break;
        sa_heap_set(t, pos, t->heap_[parent]);
        pos = parent;
    }
    sa_heap_set(t, pos, ui);
}

static void sa_heap_down(imssec_sa_table *t, uint32_t pos)
{
    uint32_t ui = t->heap_[pos];
    uint64_t d = t->users_[ui].due_ms_;
    for (;;) {
        uint32_t c = 2 * pos + 1;
        if (c >= t->heap_n_)
            break;
        if (c + 1 < t->heap_n_ &&
            t->users_[t->heap_[c + 1]].due_ms_ < t->users_[t->heap_[c]].due_ms_)
            c++;
        if (d <= t->users_[t->heap_[c]].due_ms_)
            break;
        sa_heap_set(t, pos, t->heap_[c]);
        pos = c;
    }
    sa_heap_set(t, pos, ui);
}

static void sa_heap_remove(imssec_sa_table *t, uint32_t ui)
{
    uint32_t pos = t->users_[ui].heap_pos_, last;
    if (pos == 0)
        return;
    pos--;
    t->users_[ui].heap_pos_ = 0;
    t->users_[ui].due_ms_ = 0;
    last = t->heap_[--t->heap_n_];
    if (pos < t->heap_n_) {
        sa_heap_set(t, pos, last);
        sa_heap_up(t, pos);
        sa_heap_down(t, t->users_[last].heap_pos_ - 1);
    }
}

/* Recompute user ui's deadline and put it where it belongs in the heap. */
static void sa_sched(imssec_sa_table *t, uint32_t ui)
{
    imssec_sa_user *u = &t->users_[ui];
    uint64_t d = u->used_ ? sa_user_due(t, u) : UINT64_MAX;
    if (d == UINT64_MAX) {
        sa_heap_remove(t, ui);
        return;
    }
    u->due_ms_ = d;
    if (u->heap_pos_ == 0) {
        sa_heap_set(t, t->heap_n_++, ui);
        sa_heap_up(t, t->heap_n_ - 1);
    } else {
        sa_heap_up(t, u->heap_pos_ - 1);
        sa_heap_down(t, u->heap_pos_ - 1);
    }
}

static int sa_ix_holds(const imssec_sa_table *t, int ix, uint32_t v)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask);
    uint32_t i = (uint32_t)sa_hash_of(t, ix, v) & mask, n = 0;
    while (a[i] != 0 && n++ <= mask) {
        if (a[i] == v)
            return 1;
        i = (i + 1) & mask;
    }
    return 0;
}

