/*
 * sa/tick.c -- time: SA lifetimes, temporary storage, the P-CSCF's switch-over to
 * new SAs and NAT keepalives, all driven by the caller's clock.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* ===========================================================================
 * Time
 * ======================================================================== */
/* Everything due for one user at now_ms. */
static void sa_tick_user(imssec_sa_table *t, imssec_sa_user *u, uint64_t now_ms)
{
    int st = u->state_, r;
    /* lifetimes (7.4.1a, 7.4.2a: "shall delete any SA whose lifetime is exceeded") */
    for (r = 0; r < 4; r++) {
        uint32_t s = sa_role_set(u, r);
        if (s != UINT32_MAX && t->sets_[s].expires_ms_ <= now_ms) {
            int was_sm1 = (r == u->sm1_set_) &&
                          (st == ST(REG_PROT) || st == ST(AUTH_PROT) || st == ST(DEREG));
            sa_set_delete(t, s);
            if (r == SA_R_CUR && st != ST(REG_UNPROT) && st != ST(AUTH_UNPROT)) {
                sa_user_delete_all(t, u); /* registration gone */
                return;
            }
            /* registration SAs (REG) belong to an earlier, abandoned
             * procedure: deleting them is all 7.3.1.4 asks; NEW ones and
             * the set SM1 came on belong to the running procedure */
            if (r == SA_R_NEW || was_sm1) {
                /* 7.3.1.4: drop the procedure that created / used it */
                sa_role_delete(t, u, SA_R_NEW);
                sa_role_delete(t, u, SA_R_REG);
                u->state_ = (uint8_t)sa_state_after_abort(u);
                u->tmp_expires_ms_ = 0;
                if (u->state_ == ST(IDLE)) {
                    sa_user_delete_all(t, u);
                    return;
                }
            }
        }
    }
    st = u->state_;
    /* temporary storage awaiting the network (7.3.1.1) */
    if ((st == ST(REG_UNPROT) || st == ST(REG_PROT)) && u->tmp_expires_ms_ &&
        u->tmp_expires_ms_ <= now_ms) {
        sa_role_delete(t, u, SA_R_REG);
        u->state_ = (uint8_t)sa_state_after_abort(u);
        u->tmp_expires_ms_ = 0;
        if (u->state_ == ST(IDLE)) {
            sa_user_delete_all(t, u);
            return;
        }
    }
    /* P-CSCF: old SAs with only a short time left => switch (7.4.2a) */
    if (t->cfg_.role == IMSSEC_SA_ROLE_PCSCF && u->set_[SA_R_OLD] &&
        !(u->flags_ & SA_F_SWITCHED)) {
        uint64_t oe = t->sets_[u->set_[SA_R_OLD] - 1].expires_ms_;
        if (oe <= (uint64_t)t->cfg_.switch_before_ms + now_ms)
            u->flags_ |= SA_F_SWITCHED;
    }
    /* UE NAT keepalive (M.7.2, RFC 3948) */
    if (t->cfg_.role == IMSSEC_SA_ROLE_UE && sa_keepalive_set(u) &&
        t->sets_[sa_keepalive_set(u) - 1].mode_ == IMSSEC_MODE_UDP_ENC_TUN &&
        t->cfg_.keepalive_ms && u->ka_next_ms_ <= now_ms) {
        imssec_str impi;
        impi.p = (const char *)u->impi_;
        impi.n = u->impi_len_;
        if (t->cb_ && t->cb_->keepalive && t->cb_->keepalive(t->cb_->user, impi) != 0) {
            imssec_errinfo said;
            memset(&said, 0, sizeof said);
            said.what = "the keepalive callback failed";
            sa_cb_failed(t, IMSSEC_E_CALLBACK, &said);
        }
        u->ka_next_ms_ = now_ms + t->cfg_.keepalive_ms;
    }
}

IMSSEC_API int imssec_sa_note_sent(imssec_sa_table *t, imssec_sa_ref sa, uint64_t now_ms)
{
    uint32_t set;
    imssec_sa_user *u;
    if (!t)
        return IMSSEC_E_PARAM;
    set = sa_ref_set(t, sa, NULL);
    if (set == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    u = &t->users_[t->sets_[set].user_];
    /* RFC 3948 2.3: a keepalive is needed only after an interval without
     * outbound traffic */
    if (t->cfg_.role == IMSSEC_SA_ROLE_UE && t->sets_[set].mode_ == IMSSEC_MODE_UDP_ENC_TUN &&
        t->cfg_.keepalive_ms && now_ms + t->cfg_.keepalive_ms > u->ka_next_ms_) {
        u->ka_next_ms_ = now_ms + t->cfg_.keepalive_ms;
        sa_sched(t, t->sets_[set].user_);
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_tick(imssec_sa_table *t, uint64_t now_ms, uint64_t *next_ms)
{
    uint32_t guard;
    if (!t || !next_ms)
        return IMSSEC_E_PARAM;
    t->cb_err_ = 0;
    /* each pass over a due user leaves it with a deadline after now_ms, so
     * every user is visited at most once; the guard only bounds a bug */
    guard = t->heap_n_ + 1u;
    while (t->heap_n_ && t->users_[t->heap_[0]].due_ms_ <= now_ms && guard--) {
        uint32_t ui = t->heap_[0];
        sa_tick_user(t, &t->users_[ui], now_ms);
        sa_sched(t, ui);
    }
    *next_ms = t->heap_n_ ? t->users_[t->heap_[0]].due_ms_ : UINT64_MAX;
    return sa_cb_result(t, NULL);
}

