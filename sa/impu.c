/*
 * sa/impu.c -- the public user identities stored with each IMPI (TS 33.203
 * 7.1 rule 1 "IMPI, IMPU1, ..., IMPUn"; 7.2; 7.4.1a / 7.4.2a: the SAs go
 * once all the IMPUs are de-registered; 7.1 rule 4: the user at SIP level
 * is the SA's user).  The slots are caller memory attached to the table;
 * each user's slots form a list (imssec_sa_user.impu_head_), the free ones
 * another (impu_free_).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

IMSSEC_API int imssec_sa_impu_attach(imssec_sa_table *t, imssec_sa_impu *slots, size_t n,
                                     unsigned per_user)
{
    if (!t || !t->users_ || !slots || n == 0 || n > SA_MAX_SETS || per_user == 0 ||
        per_user > 255)
        return IMSSEC_E_PARAM;
    if (t->impu_)
        return IMSSEC_E_STATE;
    t->impu_ = slots;
    t->impu_cap_ = (uint32_t)n;
    t->impu_per_user_ = per_user;
    sa_impu_clear(t);
    return IMSSEC_OK;
}

/* Every slot free, every user without IMPUs (set-up and restore). */
static void sa_impu_clear(imssec_sa_table *t)
{
    uint32_t i;
    for (i = 0; i < t->user_cap_; i++) {
        t->users_[i].impu_head_ = 0;
        t->users_[i].impu_n_ = 0;
    }
    t->impu_free_ = 0;
    t->impu_used_ = 0;
    for (i = t->impu_cap_; i > 0; i--) {
        imssec_sa_impu *s = &t->impu_[i - 1];
        isc_wipe(s, sizeof *s);
        s->next_ = t->impu_free_;
        t->impu_free_ = i;
    }
}

/* Slot index + 1 of impu in user ui's list, 0 if absent; *prev receives
 * the predecessor's index + 1 (0: the head). */
static uint32_t sa_impu_find(const imssec_sa_table *t, uint32_t ui, const char *p, size_t n,
                             uint32_t *prev)
{
    uint32_t k = t->users_[ui].impu_head_, pv = 0;
    while (k) {
        const imssec_sa_impu *s = &t->impu_[k - 1];
        if (s->len_ == n && memcmp(s->uri_, p, n) == 0) {
            if (prev)
                *prev = pv;
            return k;
        }
        pv = k;
        k = s->next_;
    }
    return 0;
}

/* Store one IMPU for user ui (the caller checked state and length). */
static int sa_impu_insert(imssec_sa_table *t, uint32_t ui, const char *p, size_t n)
{
    imssec_sa_user *u = &t->users_[ui];
    imssec_sa_impu *s;
    uint32_t k, *tail;
    if (sa_impu_find(t, ui, p, n, NULL))
        return IMSSEC_OK;
    if (u->impu_n_ >= t->impu_per_user_ || !t->impu_free_)
        return IMSSEC_E_SPACE;
    k = t->impu_free_;
    s = &t->impu_[k - 1];
    t->impu_free_ = s->next_;
    s->next_ = 0;
    s->user_ = ui;
    s->used_ = 1;
    s->len_ = (uint16_t)n;
    memcpy(s->uri_, p, n);
    /* appended: the order they were added in */
    for (tail = &u->impu_head_; *tail; tail = &t->impu_[*tail - 1].next_)
        ;
    *tail = k;
    u->impu_n_++;
    t->impu_used_++;
    return IMSSEC_OK;
}

/* Forget every IMPU of user ui (its registration ended). */
static void sa_impu_forget(imssec_sa_table *t, uint32_t ui)
{
    imssec_sa_user *u = &t->users_[ui];
    while (u->impu_head_) {
        uint32_t k = u->impu_head_;
        imssec_sa_impu *s = &t->impu_[k - 1];
        u->impu_head_ = s->next_;
        isc_wipe(s, sizeof *s);
        s->next_ = t->impu_free_;
        t->impu_free_ = k;
        t->impu_used_--;
    }
    u->impu_n_ = 0;
}

static int sa_impu_text_ok(imssec_str impu)
{
    return impu.p && impu.n >= 1 && impu.n <= IMSSEC_SA_IMPU_MAX;
}

IMSSEC_API int imssec_sa_impu_add(imssec_sa_table *t, uint32_t user_idx, imssec_str impu)
{
    if (!t || user_idx >= t->user_cap_ || !t->users_[user_idx].used_ || (!impu.p && impu.n))
        return IMSSEC_E_PARAM;
    if (!sa_impu_text_ok(impu))
        return IMSSEC_E_RANGE;
    /* 7.2: "successfully registered IMPUs" */
    if (!t->impu_ || t->users_[user_idx].state_ != ST(ACTIVE))
        return IMSSEC_E_STATE;
    return sa_impu_insert(t, user_idx, impu.p, impu.n);
}

IMSSEC_API int imssec_sa_impu_remove(imssec_sa_table *t, uint32_t user_idx, imssec_str impu,
                                     uint64_t now_ms, imssec_errinfo *err)
{
    imssec_sa_user *u;
    imssec_sa_impu *s;
    uint32_t k, prev = 0;
    if (!t || user_idx >= t->user_cap_ || !t->users_[user_idx].used_ || (!impu.p && impu.n))
        return isc_fail_param(err, "user_idx / impu", "no such user");
    u = &t->users_[user_idx];
    k = t->impu_ && impu.p ? sa_impu_find(t, user_idx, impu.p, impu.n, &prev) : 0;
    if (!k)
        return isc_fail(err, IMSSEC_E_NOT_FOUND, "IMPU not registered for this user", NULL);
    s = &t->impu_[k - 1];
    if (prev)
        t->impu_[prev - 1].next_ = s->next_;
    else
        u->impu_head_ = s->next_;
    isc_wipe(s, sizeof *s);
    s->next_ = t->impu_free_;
    t->impu_free_ = k;
    t->impu_used_--;
    u->impu_n_--;
    if (u->impu_n_ > 0 || u->state_ == ST(IDLE))
        return IMSSEC_OK;
    /* "once all the IMPUs are de-registered" (7.4.1a, 7.4.2a) */
    return sa_event_run(t, user_idx, EV(NET_DEREG), NULL, NULL, now_ms, 0, err);
}

IMSSEC_API size_t imssec_sa_impu_count(const imssec_sa_table *t, uint32_t user_idx)
{
    if (!t || user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return 0;
    return t->users_[user_idx].impu_n_;
}

IMSSEC_API int imssec_sa_impu_get(const imssec_sa_table *t, uint32_t user_idx, size_t i,
                                  imssec_str *impu)
{
    uint32_t k;
    if (!t || !impu || user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return IMSSEC_E_PARAM;
    for (k = t->users_[user_idx].impu_head_; k && i; i--)
        k = t->impu_[k - 1].next_;
    if (!k)
        return IMSSEC_E_NOT_FOUND;
    impu->p = t->impu_[k - 1].uri_;
    impu->n = t->impu_[k - 1].len_;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_impu_check(const imssec_sa_table *t, imssec_sa_ref sa, imssec_str impu)
{
    uint32_t set;
    if (!t || (!impu.p && impu.n))
        return IMSSEC_E_PARAM;
    set = sa_ref_set(t, sa, NULL);
    if (set == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    if (!t->impu_ || !impu.p || !sa_impu_find(t, t->sets_[set].user_, impu.p, impu.n, NULL))
        return IMSSEC_E_SA_WRONG;
    return IMSSEC_OK;
}
