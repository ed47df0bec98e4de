/*
 * sa/fsm.c -- the transition table of the UE and P-CSCF state machines and
 * the public calls built on it: imssec_sa_event() (dispatch), routing
 * (which SA protects an outgoing message), pending transactions, lookups
 * and the M.7.2 learning of the UE's NAT port.
 *
 * One row per (role, set of states, event): the states the event is legal
 * in, the states its action may lead to, the action, and the clause that
 * defines it.  Any (state, event) pair without a row is IMSSEC_E_STATE with
 * nothing changed; imssec.h lists the same table for readers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

#define SA_B(s) (1u << (s))
#define SA_ANY 0x7fu
#define SA_REG_ANY (SA_B(ST(REG_UNPROT)) | SA_B(ST(REG_PROT)))
#define SA_AUTH_ANY (SA_B(ST(AUTH_UNPROT)) | SA_B(ST(AUTH_PROT)))
#define SA_IN_PROC (SA_REG_ANY | SA_AUTH_ANY)
#define SA_UE IMSSEC_SA_ROLE_UE
#define SA_PC IMSSEC_SA_ROLE_PCSCF

typedef struct sa_rule {
    uint8_t role;
    uint8_t from;  /* states the event is legal in (bits) */
    uint8_t event;
    uint8_t to;    /* states the action may choose (bits) */
    int (*act)(sa_ctx *c);
    const char *clause;
} sa_rule;

static const sa_rule sa_rules[] = {
    /* ---- UE: TS 33.203 7.4.1a, M.7.4.1a, 7.3, 7.5 ---- */
    {SA_UE, SA_B(ST(IDLE)) | SA_IN_PROC | SA_B(ST(ACTIVE)), EV(REG_SEND), SA_REG_ANY,
     sa_ue_reg_send, "TS 33.203 7.4.1a"},
    {SA_UE, SA_REG_ANY, EV(CHALLENGE), SA_AUTH_ANY, sa_ue_challenge, "TS 33.203 7.4.1a"},
    {SA_UE, SA_REG_ANY, EV(CHALLENGE_REJECT), SA_REG_ANY | SA_B(ST(ACTIVE)) | SA_B(ST(IDLE)),
     sa_ue_challenge_reject, "TS 33.203 7.3.1.2, 7.3.1.3, 7.3.2.2"},
    {SA_UE, SA_AUTH_ANY | SA_B(ST(REG_PROT)), EV(SUCCESS), SA_B(ST(ACTIVE)), sa_ue_success,
     "TS 33.203 7.4.1a"},
    {SA_UE, SA_IN_PROC | SA_B(ST(DEREG)), EV(FAILURE), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE)),
     sa_ue_failure, "TS 33.203 7.4.1a, 7.3.1.1"},
    {SA_UE, SA_IN_PROC | SA_B(ST(DEREG)), EV(TIMEOUT), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE)),
     sa_ue_timeout, "TS 33.203 7.3.1.4"},
    {SA_UE, SA_ANY, EV(MSG_IN), SA_ANY, sa_ue_msg_in, "TS 33.203 7.1 item 4, rule 7, 7.4.1a"},
    {SA_UE, SA_ANY, EV(IP_CHANGE), SA_B(ST(IDLE)), sa_ue_ip_change, "TS 33.203 7.5"},
    {SA_UE, SA_B(ST(ACTIVE)), EV(DEREG_SEND), SA_B(ST(DEREG)), sa_ue_dereg_send,
     "TS 33.203 7.4.1a"},
    {SA_UE, SA_B(ST(DEREG)), EV(DEREG_DONE), SA_B(ST(IDLE)), sa_ue_dereg_done,
     "TS 33.203 7.4.1a"},
    {SA_UE, SA_IN_PROC | SA_B(ST(ACTIVE)) | SA_B(ST(DEREG)), EV(NET_DEREG), SA_B(ST(IDLE)),
     sa_release, "TS 33.203 7.4.1a"},

    /* ---- P-CSCF: TS 33.203 7.1 rules 1-4, 7.4.2a, M.7.4.2a, 6.1.5 ---- */
    {SA_PC, SA_B(ST(IDLE)) | SA_IN_PROC | SA_B(ST(ACTIVE)), EV(REG_RECV), SA_REG_ANY,
     sa_pc_reg_recv, "TS 33.203 7.1 rules 2 and 3, 7.4.2a"},
    {SA_PC, SA_REG_ANY, EV(CHALLENGE), SA_AUTH_ANY, sa_pc_challenge,
     "TS 33.203 7.4.2a, 7.3.1.4, M.7.1"},
    {SA_PC, SA_AUTH_ANY, EV(AUTH_RECV), SA_IN_PROC, sa_pc_auth_recv,
     "TS 33.203 7.4.2a, 7.3.1.2, 7.3.1.3, 6.1.5"},
    {SA_PC, SA_AUTH_ANY | SA_B(ST(REG_PROT)), EV(SUCCESS), SA_B(ST(ACTIVE)), sa_pc_success,
     "TS 33.203 7.4.2a"},
    {SA_PC, SA_IN_PROC | SA_B(ST(DEREG)), EV(FAILURE), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE)),
     sa_pc_failure, "TS 33.203 7.4.2a, 7.3"},
    {SA_PC, SA_IN_PROC | SA_B(ST(DEREG)), EV(TIMEOUT), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE)),
     sa_pc_timeout, "TS 33.203 7.3.1.1, 7.3.1.4"},
    {SA_PC, SA_ANY, EV(MSG_IN), SA_ANY, sa_pc_msg_in, "TS 33.203 7.1 item 3, rule 4, 7.4.2a"},
    {SA_PC, SA_B(ST(ACTIVE)), EV(DEREG_RECV), SA_B(ST(DEREG)), sa_pc_dereg_recv,
     "TS 33.203 7.4.2a, 7.1 rule 2"},
    {SA_PC, SA_B(ST(DEREG)), EV(DEREG_DONE), SA_B(ST(IDLE)), sa_pc_dereg_done,
     "TS 33.203 7.4.2a"},
    {SA_PC, SA_IN_PROC | SA_B(ST(ACTIVE)) | SA_B(ST(DEREG)), EV(NET_DEREG), SA_B(ST(IDLE)),
     sa_release, "TS 33.203 7.4.2a"},
};

static const sa_rule *sa_rule_find(int role, int state, int event)
{
    size_t i;
    for (i = 0; i < ISC_ARRAY_LEN(sa_rules); i++) {
        const sa_rule *r = &sa_rules[i];
        if (r->role == role && r->event == event && (r->from & SA_B(state)))
            return r;
    }
    return NULL;
}

IMSSEC_API int imssec_sa_confidential(const imssec_sa_table *t, imssec_sa_ref sa)
{
    uint32_t set;
    if (!t)
        return 0;
    set = sa_ref_set(t, sa, NULL);
    return set != UINT32_MAX && t->sets_[set].ealg_ != IMSSEC_EALG_NULL;
}

IMSSEC_API int imssec_sa_e2ae(const imssec_sa_table *t, uint32_t user_idx)
{
    if (!t || user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return 0;
    return t->users_[user_idx].e2ae_ == 3;
}

IMSSEC_API void imssec_sa_args_from_choice(imssec_sa_ev_args *a,
                                           const imssec_secagree_choice *choice)
{
    if (!a || !choice)
        return;
    a->alg = choice->alg;
    a->ealg = choice->ealg;
    a->mode = choice->mode;
    a->peer_spi_c = choice->spi_c;
    a->peer_spi_s = choice->spi_s;
    a->peer_port_c = choice->port_c;
    a->peer_port_s = choice->port_s;
}

IMSSEC_API int imssec_sa_event(imssec_sa_table *t, uint32_t user_idx, int event,
                               const imssec_sa_ev_args *a, imssec_sa_ev_out *out,
                               uint64_t now_ms, imssec_errinfo *err)
{
    return sa_event_run(t, user_idx, event, a, out, now_ms, 0, err);
}

/* The event; with dry = 1 only its checks (for the actions that support
 * it: see c->dry), so that a caller can know an event will be accepted
 * before it does something irreversible (a USIM's AUTHENTICATE). */
static int sa_event_run(imssec_sa_table *t, uint32_t user_idx, int event,
                        const imssec_sa_ev_args *a, imssec_sa_ev_out *out, uint64_t now_ms,
                        int dry, imssec_errinfo *err)
{
    static const imssec_sa_ev_args none_args = {0};
    imssec_sa_ev_out o;
    const sa_rule *r;
    sa_ctx c;
    int rc;
    if (!t || !t->users_ || user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return isc_fail_param(err, "user_idx", "no such user");
    if (event < 0 || event >= IMSSEC_SA_EV_COUNT_)
        return isc_fail_param(err, "event", "not a imssec_sa_event");
    if (!a)
        a = &none_args;
    if (dry && !(t->cfg_.role == IMSSEC_SA_ROLE_UE &&
                 (event == EV(CHALLENGE) || event == EV(CHALLENGE_REJECT))))
        return isc_fail_param(err, "event", "internal: no dry run for this event");
    if (a->transport != IMSSEC_TRANSPORT_UDP && a->transport != IMSSEC_TRANSPORT_TCP)
        return isc_fail_param(err, "transport", "not a imssec_transport");
    memset(&c, 0, sizeof c);
    c.t = t;
    c.ui = user_idx;
    c.u = &t->users_[user_idx];
    c.event = event;
    c.a = a;
    c.o = &o;
    c.now = now_ms;
    c.err = err;
    c.next = -1;
    c.dry = dry;
    r = sa_rule_find(t->cfg_.role, c.u->state_, event);
    if (!r) {
        isc_fail(err, IMSSEC_E_STATE, "event not allowed in this state", NULL);
        if (err) {
            err->state = c.u->state_;
            err->event = event;
        }
        return IMSSEC_E_STATE;
    }
    memset(&o, 0, sizeof o);
    t->cb_err_ = 0;
    c.prot = c.u->state_ == ST(REG_PROT) || c.u->state_ == ST(AUTH_PROT);
    c.arole = a->arrived_on ? sa_ref_role(t, user_idx, a->arrived_on, &c.w) : SA_R_NONE;
    /* 7.1 rules 4 and 7: the SA must be this user's (a live set) and
     * inbound here */
    if (a->arrived_on && c.arole == SA_R_NONE)
        rc = sa_wrong(&c, "the SA is stale, unknown or another user's");
    else if (c.arole != SA_R_NONE && !sa_is_inbound(t, c.w))
        rc = sa_wrong(&c, "an outbound SA given as arrival SA");
    else
        rc = r->act(&c);
    if (rc != IMSSEC_OK) {
        if (err) {
            err->state = c.u->state_;
            err->event = event;
            if (!err->clause && rc != IMSSEC_E_PARAM)
                err->clause = r->clause;
        }
        return rc;
    }
    if (c.next < 0 || !(r->to & SA_B(c.next)))
        return isc_fail(err, IMSSEC_E_STATE, "internal: the action left its row", r->clause);
    if (dry)
        return IMSSEC_OK;
    c.u->state_ = (uint8_t)c.next;
    if (c.next == ST(IDLE))
        sa_user_delete_all(t, c.u); /* nothing of a registration survives IDLE */
    if (c.next == ST(ACTIVE) || c.next == ST(IDLE))
        c.u->tmp_expires_ms_ = 0;
    o.state = (uint8_t)c.next;
    if (out)
        *out = o;
    sa_sched(t, user_idx);
    return sa_cb_result(t, err);
}

/* ===========================================================================
 * Routing, transactions, lookups
 * ======================================================================== */
IMSSEC_API int imssec_sa_route(imssec_sa_table *t, uint32_t user_idx, int transport,
                               int is_request, imssec_sa_ref txn_ref, imssec_sa_ref *sa)
{
    const imssec_sa_user *u;
    int pc, st, role, w;
    if (!t || !sa || user_idx >= t->user_cap_ || !t->users_[user_idx].used_ ||
        (transport != IMSSEC_TRANSPORT_UDP && transport != IMSSEC_TRANSPORT_TCP))
        return IMSSEC_E_PARAM;
    u = &t->users_[user_idx];
    pc = t->cfg_.role == IMSSEC_SA_ROLE_PCSCF;
    st = u->state_;
    if (st == ST(IDLE) || !u->set_[SA_R_CUR])
        return IMSSEC_E_STATE;
    if (!pc && (st == ST(REG_UNPROT) || st == ST(AUTH_UNPROT)))
        return IMSSEC_E_STATE; /* 7.4.1a: "not allowed to use IMS service until ... SM12" */
    if (txn_ref) {
        /* 7.4: a pending transaction stays on the set it started on */
        role = sa_ref_role(t, user_idx, txn_ref, &w);
        if (role != SA_R_CUR && role != SA_R_OLD)
            return IMSSEC_E_NOT_FOUND;
    } else if (!is_request) {
        return IMSSEC_E_PARAM; /* a response needs the SA its request came on */
    } else {
        role = SA_R_CUR;
        /* 7.4.2a: the P-CSCF keeps sending on the old SAs until the UE has
         * used the new ones (or the old ones are about to expire) */
        if (pc && u->set_[SA_R_OLD] && !(u->flags_ & SA_F_SWITCHED))
            role = SA_R_OLD;
    }
    *sa = sa_role_ref(t, u, role, sa_71_carrier(!pc, is_request, transport));
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_reverse(const imssec_sa_table *t, imssec_sa_ref sa, imssec_sa_ref *rev)
{
    /* UC_PS 0 <-> PS_UC 3, US_PC 1 <-> PC_US 2 */
    static const int other[4] = {IMSSEC_SA_PS_UC, IMSSEC_SA_PC_US, IMSSEC_SA_US_PC,
                                 IMSSEC_SA_UC_PS};
    uint32_t set;
    int which;
    if (!t || !rev)
        return IMSSEC_E_PARAM;
    set = sa_ref_set(t, sa, &which);
    if (set == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    *rev = sa_ref_make(t, set, other[which]);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_txn_begin(imssec_sa_table *t, imssec_sa_ref sa)
{
    uint32_t s;
    if (!t)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, NULL);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    if (t->sets_[s].pending_ == UINT32_MAX)
        return IMSSEC_E_RANGE;
    t->sets_[s].pending_++;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_txn_end(imssec_sa_table *t, imssec_sa_ref sa, uint64_t now_ms)
{
    uint32_t s;
    (void)now_ms;
    if (!t)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, NULL);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    if (t->sets_[s].pending_ == 0)
        return IMSSEC_E_STATE;
    t->sets_[s].pending_--;
    t->cb_err_ = 0;
    {
        uint32_t ui = t->sets_[s].user_;
        sa_retire_old(t, &t->users_[ui]);
        sa_sched(t, ui);
    }
    return sa_cb_result(t, NULL);
}

IMSSEC_API int imssec_sa_find_spi(const imssec_sa_table *t, uint32_t spi, imssec_sa_ref *sa)
{
    uint32_t mask, i;
    if (!t || !sa)
        return IMSSEC_E_PARAM;
    mask = t->ix_spi_mask_;
    i = (uint32_t)sa_hash_spi(t, spi) & mask;
    while (t->ix_spi_[i] != 0) {
        uint32_t v = t->ix_spi_[i], set = (v - 1) >> 2;
        int w = (int)((v - 1) & 3);
        if (t->sets_[set].spi_[w] == spi && sa_is_inbound(t, w)) {
            *sa = sa_ref_make(t, set, w);
            return IMSSEC_OK;
        }
        i = (i + 1) & mask;
    }
    return IMSSEC_E_NOT_FOUND;
}

IMSSEC_API int imssec_sa_find_ports(const imssec_sa_table *t, const imssec_addr *ue_ip,
                                    uint16_t ue_port, uint16_t pcscf_port, int uplink,
                                    imssec_sa_ref *sa)
{
    uint32_t mask, i;
    if (!t || !ue_ip || !sa || !isc_addr_ok(ue_ip))
        return IMSSEC_E_PARAM;
    mask = t->ix_port_mask_;
    i = (uint32_t)sa_hash_port(t, ue_ip, ue_port) & mask;
    while (t->ix_port_[i] != 0) {
        uint32_t v = t->ix_port_[i], set = (v - 1) >> 2;
        int w = (int)((v - 1) & 3);
        const imssec_sa_set *s = &t->sets_[set];
        if (sa_ue_port(s, w) == ue_port && sa_pc_port(s, w) == pcscf_port &&
            sa_is_uplink(w) == (uplink != 0) && imssec_addr_equal(&s->ue_ip_, ue_ip)) {
            *sa = sa_ref_make(t, set, w);
            return IMSSEC_OK;
        }
        i = (i + 1) & mask;
    }
    return IMSSEC_E_NOT_FOUND;
}

IMSSEC_API int imssec_sa_owner(const imssec_sa_table *t, imssec_sa_ref sa, uint32_t *user_idx)
{
    uint32_t s;
    if (!t || !user_idx)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, NULL);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    *user_idx = t->sets_[s].user_;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_get(const imssec_sa_table *t, imssec_sa_ref sa, imssec_sa_info *info)
{
    uint32_t s;
    int w;
    if (!t || !info)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, &w);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    sa_info_fill(t, s, w, info);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_learn_uenc(imssec_sa_table *t, imssec_sa_ref sa, uint16_t port_uenc)
{
    uint32_t s;
    int w, k;
    uint16_t before;
    if (!t || port_uenc == 0)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, &w);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    if (t->cfg_.role != IMSSEC_SA_ROLE_PCSCF || !sa_is_inbound(t, w) ||
        t->sets_[s].mode_ != IMSSEC_MODE_UDP_ENC_TUN)
        return IMSSEC_E_STATE;
    before = t->sets_[s].port_uenc_;
    if (before == port_uenc)
        return IMSSEC_OK;
    t->sets_[s].port_uenc_ = port_uenc;
    if (t->cb_ && t->cb_->update) {
        for (k = 0; k < 4; k++) {
            imssec_sa_info info;
            imssec_errinfo said;
            int rc;
            sa_info_fill(t, s, k, &info);
            rc = t->cb_->update(t->cb_->user, &info, &said);
            isc_wipe(&info, sizeof info);
            if (rc != 0) {
                int j;
                t->sets_[s].port_uenc_ = before;
                for (j = 0; j < k; j++) { /* put back what was changed */
                    sa_info_fill(t, s, j, &info);
                    (void)t->cb_->update(t->cb_->user, &info, &said);
                    isc_wipe(&info, sizeof info);
                }
                return IMSSEC_E_CALLBACK;
            }
        }
    }
    return IMSSEC_OK;
}

