/*
 * sa/check.c -- counting and the invariant check (every index consistent with
 * the records, SPIs unique, at most six SAs per direction per IMPI, states
 * and set roles agreeing, the deadline heap ordered).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* ===========================================================================
 * Counting and the invariant check
 * ======================================================================== */
IMSSEC_API size_t imssec_sa_count(const imssec_sa_table *t, uint32_t user_idx)
{
    if (!t)
        return 0;
    if (user_idx == UINT32_MAX)
        return (size_t)t->sets_used_ * 4u;
    if (user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return 0;
    return (size_t)sa_sets_alive(&t->users_[user_idx]) * 4u;
}

static int sa_check_index(const imssec_sa_table *t, int ix, uint32_t *count)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask), i;
    *count = 0;
    for (i = 0; i <= mask; i++) {
        uint32_t v = a[i];
        if (!v)
            continue;
        (*count)++;
        if (ix == SA_IX_IMPI) {
            if (v > t->user_cap_ || !t->users_[v - 1].used_)
                return 0;
        } else if (((v - 1) >> 2) >= t->set_cap_ || !t->sets_[(v - 1) >> 2].used_) {
            return 0;
        }
        if (!sa_ix_holds(t, ix, v)) /* reachable from its home slot */
            return 0;
    }
    return 1;
}

/* The IMPU slots: each user's list holds impu_n_ distinct slots of its
 * own (at most per_user, none while IDLE), the free list the rest. */
static int sa_check_impus(const imssec_sa_table *t)
{
    uint32_t i, seen = 0, free_n = 0, k, steps;
    if (!t->impu_) {
        for (i = 0; i < t->user_cap_; i++)
            if (t->users_[i].impu_head_ || t->users_[i].impu_n_)
                return 0;
        return t->impu_cap_ == 0 && t->impu_used_ == 0;
    }
    for (i = 0; i < t->user_cap_; i++) {
        const imssec_sa_user *u = &t->users_[i];
        uint32_t n = 0;
        if (!u->used_) {
            if (u->impu_head_ || u->impu_n_)
                return 0;
            continue;
        }
        if (u->impu_n_ > t->impu_per_user_ || (u->state_ == ST(IDLE) && u->impu_n_))
            return 0;
        for (k = u->impu_head_; k; k = t->impu_[k - 1].next_) {
            const imssec_sa_impu *s = &t->impu_[k - 1];
            if (k > t->impu_cap_ || !s->used_ || s->user_ != i || s->len_ == 0 ||
                s->len_ > IMSSEC_SA_IMPU_MAX || ++n > u->impu_n_)
                return 0;
        }
        if (n != u->impu_n_)
            return 0;
        seen += n;
    }
    for (k = t->impu_free_, steps = 0; k; k = t->impu_[k - 1].next_) {
        if (k > t->impu_cap_ || t->impu_[k - 1].used_ || ++steps > t->impu_cap_)
            return 0;
        free_n++;
    }
    return seen == t->impu_used_ && seen + free_n == t->impu_cap_;
}

IMSSEC_API int imssec_sa_table_check(const imssec_sa_table *t)
{
    uint32_t i, n_users = 0, n_sets = 0, n_ix;
    int w, r;
    if (!t || !t->users_)
        return IMSSEC_E_PARAM;
    for (i = 0; i < t->set_cap_; i++) {
        const imssec_sa_set *s = &t->sets_[i];
        int refs = 0;
        if (!s->used_)
            continue;
        n_sets++;
        if (s->user_ >= t->user_cap_ || !t->users_[s->user_].used_)
            return IMSSEC_E_STATE;
        for (r = 0; r < 4; r++)
            refs += t->users_[s->user_].set_[r] == i + 1;
        if (refs != 1)
            return IMSSEC_E_STATE; /* every set has exactly one role */
        for (w = 0; w < 4; w++) {
            uint32_t v = i * 4u + (uint32_t)w + 1u;
            if (!sa_ix_holds(t, SA_IX_SPI, v) || !sa_ix_holds(t, SA_IX_PORT, v))
                return IMSSEC_E_STATE;
            if (s->spi_[w] < 256 && sa_is_inbound(t, w))
                return IMSSEC_E_STATE;
            /* our inbound SPIs are unique among all SPIs in the table */
            if (sa_is_inbound(t, w) && sa_spi_count(t, s->spi_[w]) != 1)
                return IMSSEC_E_STATE;
        }
    }
    for (i = 0; i < t->user_cap_; i++) {
        const imssec_sa_user *u = &t->users_[i];
        int st = u->state_, alive;
        if (!u->used_)
            continue;
        n_users++;
        if (!sa_ix_holds(t, SA_IX_IMPI, i + 1) || st >= IMSSEC_SA_ST_COUNT_)
            return IMSSEC_E_STATE;
        for (r = 0; r < 4; r++)
            if (u->set_[r] && (u->set_[r] > t->set_cap_ || !t->sets_[u->set_[r] - 1].used_ ||
                               t->sets_[u->set_[r] - 1].user_ != i))
                return IMSSEC_E_STATE;
        alive = sa_sets_alive(u);
        if (alive > 3) /* 7.1 rule 3: six SAs per direction */
            return IMSSEC_E_STATE;
        if (u->set_[SA_R_OLD] && !u->set_[SA_R_CUR])
            return IMSSEC_E_STATE;
        switch (st) {
        case IMSSEC_SA_ST_IDLE:
            if (alive)
                return IMSSEC_E_STATE;
            break;
        case IMSSEC_SA_ST_REG_UNPROT:
        case IMSSEC_SA_ST_REG_PROT:
            if (u->set_[SA_R_NEW] || (st == ST(REG_PROT) && !u->set_[SA_R_CUR]))
                return IMSSEC_E_STATE;
            break;
        case IMSSEC_SA_ST_AUTH_UNPROT:
        case IMSSEC_SA_ST_AUTH_PROT:
            if (!u->set_[SA_R_NEW] || (st == ST(AUTH_PROT) && !u->set_[SA_R_CUR]))
                return IMSSEC_E_STATE;
            break;
        default: /* ACTIVE, DEREG */
            if (!u->set_[SA_R_CUR] || u->set_[SA_R_NEW] || u->set_[SA_R_REG])
                return IMSSEC_E_STATE;
            break;
        }
    }
    if (n_users != t->users_used_ || n_sets != t->sets_used_)
        return IMSSEC_E_STATE;
    /* the deadline heap: every user with a deadline is in it, keyed by it */
    {
        uint32_t in_heap = 0;
        for (i = 0; i < t->user_cap_; i++) {
            const imssec_sa_user *u = &t->users_[i];
            uint64_t d;
            if (!u->used_) {
                if (u->heap_pos_)
                    return IMSSEC_E_STATE;
                continue;
            }
            d = sa_user_due(t, u);
            if (d == UINT64_MAX) {
                if (u->heap_pos_)
                    return IMSSEC_E_STATE;
                continue;
            }
            if (!u->heap_pos_ || u->heap_pos_ > t->heap_n_ || t->heap_[u->heap_pos_ - 1] != i ||
                u->due_ms_ != d)
                return IMSSEC_E_STATE;
            in_heap++;
        }
        if (in_heap != t->heap_n_)
            return IMSSEC_E_STATE;
        for (i = 1; i < t->heap_n_; i++)
            if (t->users_[t->heap_[(i - 1) / 2]].due_ms_ > t->users_[t->heap_[i]].due_ms_)
                return IMSSEC_E_STATE;
    }
    if (!sa_check_impus(t))
        return IMSSEC_E_STATE;
    if (!sa_check_index(t, SA_IX_SPI, &n_ix) || n_ix != n_sets * 4u)
        return IMSSEC_E_STATE;
    if (!sa_check_index(t, SA_IX_PORT, &n_ix) || n_ix != n_sets * 4u)
        return IMSSEC_E_STATE;
    if (!sa_check_index(t, SA_IX_IMPI, &n_ix) || n_ix != n_users)
        return IMSSEC_E_STATE;
    return IMSSEC_OK;
}

