/*
 * sa/ue.c -- the UE's state machine: the actions of the UE rows of the
 * transition table (fsm.c), TS 33.203 7.4.1a, M.7.4.1a, 7.3 and 7.5.  An
 * action checks, then changes; when it returns an error nothing has
 * changed.  c->next receives the state it chose; fsm.c checks that the row
 * allows it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* The SA the UE's own message of this event leaves on: its requests and
 * (UDP) responses go UC_PS (7.1 item 2). */
static imssec_sa_ref sa_ue_out(const sa_ctx *c, int role, int is_request)
{
    return sa_role_ref(c->t, c->u, role, sa_71_carrier(1, is_request, c->a->transport));
}

/* SM6 (and its rejection): "protected with the old inbound SA if SM1 was
 * protected and unprotected otherwise" (7.4.1a), on the carrier of a
 * response (7.1). */
static int sa_ue_sm6_arrival(sa_ctx *c)
{
    if (c->prot ? !sa_arrival_ok(c, c->u->sm1_set_, 0) : c->arole != SA_R_NONE)
        return sa_wrong(c, c->prot ? "SM6 not on the old inbound SA that answers SM1"
                                   : "SM6 protected although SM1 was not");
    return IMSSEC_OK;
}

/* REG_SEND: SM1.  "The UE shall be involved in only one registration
 * procedure at a time" (7.4.1a): an incomplete one is dropped.  "If SM1
 * was protected, it shall be protected with the old outbound SA." */
static int sa_ue_reg_send(sa_ctx *c)
{
    imssec_sa_table *t = c->t;
    imssec_sa_user *u = c->u;
    uint32_t spi_c, spi_s;
    uint16_t port_c, port_s;
    int use_old = u->set_[SA_R_CUR] && !c->a->force_unprotected, rc;
    if (!isc_addr_ok(&c->a->ue_ip))
        return isc_fail_param(c->err, "ue_ip", "missing");
    /* Security-Client values: fresh SPIs and port_uc; port_us stays fixed
     * while registered (7.4: "the protected server ports ... shall remain
     * unchanged, while the protected client ports ... shall change") */
    if ((rc = sa_spi_alloc(t, 0, 0, 0, &spi_c)) != IMSSEC_OK ||
        (rc = sa_spi_alloc(t, 0, 0, spi_c, &spi_s)) != IMSSEC_OK)
        return isc_fail(c->err, rc, "no free SPI", NULL);
    port_s = u->port_us_;
    if (!port_s || !u->set_[SA_R_CUR]) {
        if ((rc = sa_port_alloc(t, u, &c->a->ue_ip, 0, &port_s)) != IMSSEC_OK)
            return isc_fail(c->err, rc, "no free protected port", NULL);
    }
    if ((rc = sa_port_alloc(t, u, &c->a->ue_ip, port_s, &port_c)) != IMSSEC_OK)
        return isc_fail(c->err, rc, "no free protected port", NULL);
    /* nothing changed so far; from here on the step cannot fail */
    sa_role_delete(t, u, SA_R_NEW);
    u->spi_c_ = spi_c;
    u->spi_s_ = spi_s;
    u->port_c_ = port_c;
    u->port_us_ = port_s;
    u->port_s_ = port_s;
    u->ue_ip_ = c->a->ue_ip;
    u->sm1_set_ = use_old ? SA_R_CUR : SA_R_NONE;
    u->tmp_expires_ms_ = c->now + t->cfg_.reg_lifetime_ms;
    c->o->protect_with = use_old ? sa_ue_out(c, SA_R_CUR, 1) : 0;
    c->o->spi_c = spi_c;
    c->o->spi_s = spi_s;
    c->o->port_c = port_c;
    c->o->port_s = port_s;
    c->next = use_old ? ST(REG_PROT) : ST(REG_UNPROT);
    return IMSSEC_OK;
}

/* CHALLENGE: SM6 processed, "the UE creates the new SAs"; "The lifetime of
 * the new SAs shall be set to allow enough time to complete the
 * registration procedure"; SM7 "shall be protected with the new outbound
 * SA" (7.4.1a). */
static int sa_ue_challenge(sa_ctx *c)
{
    imssec_sa_table *t = c->t;
    imssec_sa_user *u = c->u;
    const imssec_sa_ev_args *a = c->a;
    sa_newset n;
    int rc;
    if ((rc = sa_ue_sm6_arrival(c)) != IMSSEC_OK || (rc = sa_check_newset_args(c)) != IMSSEC_OK ||
        (rc = sa_check_peer_values(c)) != IMSSEC_OK)
        return rc;
    if (!imssec_addr_equal(&a->ue_ip, &u->ue_ip_) && a->mode != IMSSEC_MODE_UDP_ENC_TUN)
        return isc_fail_param(c->err, "ue_ip",
                              "transport mode needs the address SM1 was sent from");
    if (sa_peer_spi_clash(t, u, a->peer_spi_c) || sa_peer_spi_clash(t, u, a->peer_spi_s))
        return sa_fail(c, IMSSEC_E_EXISTS, "peer_spi_c / peer_spi_s",
                       "the P-CSCF chose an SPI equal to one of ours", "TS 33.203 7.1");
    /* M.7.4.1a: UDP-enc-tun old SAs => UDP-enc-tun new SAs */
    if (c->prot && t->sets_[u->set_[SA_R_CUR] - 1].mode_ == IMSSEC_MODE_UDP_ENC_TUN &&
        a->mode != IMSSEC_MODE_UDP_ENC_TUN)
        return sa_fail(c, IMSSEC_E_SA_NAT, "mode", "the old SAs are UDP-enc-tun, the new are not",
                       "TS 33.203 M.7.4.1a");
    if (sa_sets_alive(u) >= 3) {
        sa_fail(c, IMSSEC_E_SA_LIMIT, NULL, "a fourth set of SAs for one user",
                "TS 33.203 7.1 rule 3");
        if (c->err)
            c->err->limit = 6;
        return IMSSEC_E_SA_LIMIT;
    }
    if (c->dry) {
        c->next = c->prot ? ST(AUTH_PROT) : ST(AUTH_UNPROT);
        return IMSSEC_OK;
    }
    n.alg = (uint8_t)a->alg;
    n.ealg = (uint8_t)a->ealg;
    n.mode = (uint8_t)a->mode;
    n.ue_ip = a->ue_ip;
    n.pcscf_ip = a->pcscf_ip;
    n.port_uc = u->port_c_;
    n.port_us = u->port_s_;
    n.port_pc = a->peer_port_c;
    n.port_ps = a->peer_port_s;
    n.spi_uc = u->spi_c_;
    n.spi_us = u->spi_s_;
    n.spi_pc = a->peer_spi_c;
    n.spi_ps = a->peer_spi_s;
    n.ik = a->ik;
    n.ck = a->ck;
    n.expires_ms = c->now + t->cfg_.reg_lifetime_ms;
    if ((rc = sa_set_create(t, c->ui, SA_R_NEW, &n, c->err)) != IMSSEC_OK)
        return rc;
    c->o->protect_with = sa_ue_out(c, SA_R_NEW, 1); /* SM7 */
    /* M.7.2 / RFC 3948 2.3: keep the NAT binding from the first protected
     * message on (SM7 leaves now: the next keepalive one interval later) */
    if (n.mode == IMSSEC_MODE_UDP_ENC_TUN)
        u->ka_next_ms_ = c->now + t->cfg_.keepalive_ms;
    c->next = c->prot ? ST(AUTH_PROT) : ST(AUTH_UNPROT);
    return IMSSEC_OK;
}

/* CHALLENGE_REJECT: SM6 cannot be accepted.  MAC or SQN failure: the UE
 * sends a REGISTER indicating it, which "may pass through an already
 * established SA" (7.3.1.2, 7.3.1.3); 7.4.1a: "If SM1 was protected, the
 * old SAs shall be used to protect the failure messages".  A proposal the
 * UE cannot accept: "the UE shall abandon the registration procedure"
 * (7.3.2.2). */
static int sa_ue_challenge_reject(sa_ctx *c)
{
    int rc = sa_ue_sm6_arrival(c);
    if (rc != IMSSEC_OK)
        return rc;
    if (c->dry) {
        c->next = c->u->state_;
        return IMSSEC_OK;
    }
    if (c->a->kind == IMSSEC_SA_KIND_NET_AUTH || c->a->kind == IMSSEC_SA_KIND_SYNC) {
        c->o->protect_with = c->prot ? sa_ue_out(c, SA_R_CUR, 1) : 0;
        c->u->tmp_expires_ms_ = c->now + c->t->cfg_.reg_lifetime_ms;
        c->next = c->u->state_;
        return IMSSEC_OK;
    }
    if (c->a->kind != IMSSEC_SA_KIND_PROPOSAL)
        return isc_fail_param(c->err, "kind", "NET_AUTH, SYNC or PROPOSAL");
    c->next = sa_state_after_abort(c->u);
    return IMSSEC_OK;
}

/* SUCCESS: SM12, "protected with the new inbound SA"; the UE sets the new
 * SAs' lifetime to the longer of the old ones' and the registration expiry
 * (7.4.1a).  After an unprotected SM1 the P-CSCF removed the old SAs
 * (7.4.2a first rule), so the UE drops them too.  An unauthenticated
 * re-registration (SM1 protected, 200 without a challenge) keeps the SAs
 * and extends them ("increase the lifetime of the SAs created by the last
 * successful authentication", 7.4.1a). */
static int sa_ue_success(sa_ctx *c)
{
    imssec_sa_table *t = c->t;
    imssec_sa_user *u = c->u;
    uint64_t until = sa_lifetime_after(t, c->now, c->a->expires_s);
    if (u->state_ == ST(REG_PROT)) {
        if (!sa_arrival_ok(c, SA_R_CUR, 0))
            return sa_wrong(c, "200 to an unchallenged REGISTER not on the current SAs");
        sa_extend(t, u, SA_R_CUR, until);
        c->next = ST(ACTIVE);
        return IMSSEC_OK;
    }
    if (!sa_arrival_ok(c, SA_R_NEW, 0))
        return sa_wrong(c, "SM12 not on the new inbound SA");
    sa_promote_new(t, u, until, u->state_ == ST(AUTH_PROT) ? SA_R_CUR : SA_R_NONE);
    u->port_us_ = t->sets_[u->set_[SA_R_CUR] - 1].port_us_;
    u->ka_next_ms_ = c->now + t->cfg_.keepalive_ms;
    c->next = ST(ACTIVE);
    return IMSSEC_OK;
}

/* FAILURE: a failure response.  "If the SM1 was not protected, then no
 * protection shall be applied to the failure messages, except the user
 * authentication failure message which shall be protected with the new SA.
 * If SM1 was protected, the old SAs shall be used ... the UE shall delete
 * the new SAs" (7.4.1a). */
static int sa_ue_failure(sa_ctx *c)
{
    imssec_sa_user *u = c->u;
    int st = u->state_, ok;
    if (st == ST(DEREG) || st == ST(REG_PROT) || st == ST(AUTH_PROT))
        ok = sa_arrival_ok(c, u->sm1_set_, 0);
    else if (st == ST(AUTH_UNPROT) && c->a->kind == IMSSEC_SA_KIND_USER_AUTH)
        ok = sa_arrival_ok(c, SA_R_NEW, 0);
    else
        ok = c->arole == SA_R_NONE;
    if (!ok)
        return sa_wrong(c, "failure response not on the SA 7.4.1a names");
    if (st == ST(DEREG)) {
        c->next = ST(ACTIVE);
        return IMSSEC_OK;
    }
    sa_role_delete(c->t, u, SA_R_NEW);
    c->next = sa_state_after_abort(u);
    return IMSSEC_OK;
}

/* TIMEOUT: the registration transaction timed out (7.3.1.4: the UE
 * "shall start a registration procedure if it still requires any IM
 * services"): the new SAs go; a timed-out de-registration ends everything. */
static int sa_ue_timeout(sa_ctx *c)
{
    if (c->u->state_ == ST(DEREG)) {
        sa_user_delete_all(c->t, c->u);
        c->next = ST(IDLE);
        return IMSSEC_OK;
    }
    sa_role_delete(c->t, c->u, SA_R_NEW);
    c->next = sa_state_after_abort(c->u);
    return IMSSEC_OK;
}

/* MSG_IN: 7.1 item 4 (what may arrive unprotected) and rule 7 (protected:
 * the right SA).  "These new SAs shall not be used to protect
 * non-authentication traffic until noted" (7.4.1a): only CUR and OLD carry
 * other traffic; "When a further SIP message protected with a new inbound
 * SA is successfully received from the P-CSCF, then the old SAs shall be
 * deleted as soon as ... all pending SIP transactions have been completed". */
static int sa_ue_msg_in(sa_ctx *c)
{
    imssec_sa_user *u = c->u;
    int st = u->state_, is_req = c->a->msg == IMSSEC_SA_MSG_REQUEST;
    if (c->a->msg > IMSSEC_SA_MSG_REGISTER_RESPONSE)
        return isc_fail_param(c->err, "msg", "not a imssec_sa_msg");
    if (c->arole == SA_R_NONE) {
        if (c->a->emergency || c->a->msg == IMSSEC_SA_MSG_ERROR ||
            (c->a->msg == IMSSEC_SA_MSG_REGISTER_RESPONSE && st == ST(REG_UNPROT))) {
            c->next = st;
            return IMSSEC_OK;
        }
        return sa_wrong(c, "unprotected, and not an error, an emergency message or a response "
                           "to an unprotected REGISTER (7.1 item 4)");
    }
    if (c->a->msg == IMSSEC_SA_MSG_REGISTER_RESPONSE) {
        /* a provisional answer of the registration in progress: on the SAs
         * its REGISTER went on */
        int role = (st == ST(AUTH_UNPROT) || st == ST(AUTH_PROT)) ? SA_R_NEW : u->sm1_set_;
        if (!sa_arrival_ok(c, role, 0))
            return sa_wrong(c, "REGISTER response not on the SAs of its REGISTER");
        c->next = st;
        return IMSSEC_OK;
    }
    if (!((c->arole == SA_R_CUR || c->arole == SA_R_OLD) && sa_arrival_ok(c, c->arole, is_req)))
        return sa_wrong(c, c->arole == SA_R_NEW || c->arole == SA_R_REG
                               ? "new SAs carry only authentication traffic until SM12"
                               : "not on the SA the 7.1 rules name for it");
    if (c->arole == SA_R_CUR && u->set_[SA_R_OLD] && st != ST(REG_UNPROT) &&
        st != ST(AUTH_UNPROT)) {
        u->flags_ |= SA_F_NEW_SEEN;
        sa_retire_old(c->t, u);
    }
    c->next = st;
    return IMSSEC_OK;
}

/* IP_CHANGE: "the UE shall delete the existing SA's and initiate an
 * unprotected registration procedure" (7.5). */
static int sa_ue_ip_change(sa_ctx *c)
{
    sa_user_delete_all(c->t, c->u);
    c->next = ST(IDLE);
    return IMSSEC_OK;
}

/* DEREG_SEND: the de-registration REGISTER, on the current SAs. */
static int sa_ue_dereg_send(sa_ctx *c)
{
    c->o->protect_with = sa_ue_out(c, SA_R_CUR, 1);
    c->u->sm1_set_ = SA_R_CUR;
    c->next = ST(DEREG);
    return IMSSEC_OK;
}

/* DEREG_DONE: "The UE shall delete all SAs it holds once all the IMPUs are
 * de-registered" (7.4.1a), after the final response (on the current SAs). */
static int sa_ue_dereg_done(sa_ctx *c)
{
    if (!sa_arrival_ok(c, SA_R_CUR, 0))
        return sa_wrong(c, "de-registration response not on the current SAs");
    sa_user_delete_all(c->t, c->u);
    c->next = ST(IDLE);
    return IMSSEC_OK;
}
