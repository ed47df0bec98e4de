/*
 * sa/pcscf.c -- the P-CSCF's state machine: the actions of the P-CSCF rows
 * of the transition table (fsm.c), TS 33.203 7.1 rules 1-4, 7.4.2a,
 * M.7.4.2a, 7.3 and 6.1.5.  An action checks, then changes; when it
 * returns an error nothing has changed (the one exception is written at
 * sa_pc_challenge).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* The SA the P-CSCF's own message leaves on: requests PC_US, responses
 * PC_US over UDP and PS_UC over TCP (7.1 item 1). */
static imssec_sa_ref sa_pc_out(const sa_ctx *c, int role, int is_request)
{
    return sa_role_ref(c->t, c->u, role, sa_71_carrier(0, is_request, c->a->transport));
}

/* 7.1 rule 2: "The SIP application at the P-CSCF shall check upon receipt
 * of a protected REGISTER message that the source IP address in the packet
 * headers coincide with the UE's IP address inserted in the Via header"
 * (the caller resolves a symbolic name first), and it is the address of
 * the SA it came on.  Every protected REGISTER: SM1, SM7, the failure
 * REGISTERs and the de-registration. */
static int sa_pc_rule2(sa_ctx *c)
{
    const imssec_sa_set *s;
    if (c->arole == SA_R_NONE)
        return IMSSEC_OK;
    s = &c->t->sets_[c->u->set_[c->arole] - 1];
    if (!isc_addr_ok(&c->a->ue_ip) || !isc_addr_ok(&c->a->via_ip))
        return isc_fail_param(c->err, "ue_ip / via_ip",
                              "a protected REGISTER needs its source and Via addresses");
    if (!imssec_addr_equal(&c->a->ue_ip, &c->a->via_ip) ||
        !imssec_addr_equal(&c->a->ue_ip, &s->ue_ip_))
        return sa_fail(c, IMSSEC_E_SA_RULE2, NULL,
                       "protected REGISTER: source address, Via address and SA address differ",
                       "TS 33.203 7.1 rule 2");
    return IMSSEC_OK;
}

/* REG_RECV: SM1.  "If SM1 is protected, it shall be protected with the old
 * inbound SA" (7.4.2a); rules 2 and 3 of 7.1; the values go to temporary
 * storage until the challenge (7.2). */
static int sa_pc_reg_recv(sa_ctx *c)
{
    imssec_sa_table *t = c->t;
    imssec_sa_user *u = c->u;
    const imssec_sa_ev_args *a = c->a;
    int protected_ = c->arole != SA_R_NONE, rc;
    if (protected_ &&
        !((c->arole == SA_R_CUR || c->arole == SA_R_OLD) && sa_arrival_ok(c, c->arole, 1)))
        return sa_wrong(c, "protected SM1 not on an old inbound SA");
    if (!isc_addr_ok(&a->ue_ip))
        return isc_fail_param(c->err, "ue_ip", "missing");
    if ((rc = sa_check_peer_values(c)) != IMSSEC_OK || (rc = sa_pc_rule2(c)) != IMSSEC_OK)
        return rc;
    /* 7.4: "the protected server ports at the UE (port_us) and the P-CSCF
     * (port_ps) shall remain unchanged" */
    if (protected_ && a->peer_port_s != t->sets_[u->set_[c->arole] - 1].port_us_)
        return sa_fail(c, IMSSEC_E_SA_RULE3, "peer_port_s",
                       "port_us changed during a re-registration", "TS 33.203 7.4");
    if (sa_peer_spi_clash(t, u, a->peer_spi_c) || sa_peer_spi_clash(t, u, a->peer_spi_s))
        return sa_fail(c, IMSSEC_E_EXISTS, "peer_spi_c / peer_spi_s",
                       "the UE chose an SPI equal to one of ours", "TS 33.203 7.1");
    /* rule 3: "(UE_IP_address, UE_protected_client_port) ... has not yet
     * been associated with entries in the SA_table" */
    if (sa_port_used(t, &a->ue_ip, a->peer_port_c, UINT32_MAX))
        return sa_fail(c, IMSSEC_E_SA_RULE3, "peer_port_c", "(UE IP, port_uc) already in the table",
                       "TS 33.203 7.1 rule 3");
    /* behind a NAT several UEs share one address: (UE IP, port_us) must not
     * be another UE's */
    if (a->nat && sa_port_used(t, &a->ue_ip, a->peer_port_s, c->ui))
        return sa_fail(c, IMSSEC_E_SA_RULE3, "peer_port_s",
                       "(UE IP, port_us) belongs to another UE behind the NAT",
                       "TS 33.203 7.1 rule 3, M.7.1");
    /* an incomplete earlier procedure: its new SAs become registration SAs
     * (7.4.2a) */
    if (u->set_[SA_R_NEW]) {
        sa_role_delete(t, u, SA_R_REG);
        u->set_[SA_R_REG] = u->set_[SA_R_NEW];
        u->set_[SA_R_NEW] = 0;
    }
    u->ue_ip_ = a->ue_ip;
    u->spi_c_ = a->peer_spi_c;
    u->spi_s_ = a->peer_spi_s;
    u->port_c_ = a->peer_port_c;
    u->port_s_ = a->peer_port_s;
    u->nat_ = a->nat ? 1 : 0;
    u->neg_alg_ = (uint8_t)a->alg;
    u->neg_ealg_ = (uint8_t)a->ealg;
    u->neg_mode_ = (uint8_t)a->mode;
    u->sm1_set_ = protected_ ? (uint8_t)c->arole : SA_R_NONE;
    u->tmp_expires_ms_ = c->now + t->cfg_.reg_lifetime_ms;
    /* 6.1.5: integrity protected with an SA of the latest successful
     * authentication */
    c->o->integrity_protected = c->arole == SA_R_CUR;
    c->next = protected_ ? ST(REG_PROT) : ST(REG_UNPROT);
    return IMSSEC_OK;
}

/* CHALLENGE: SM6 is sent.  "The P-CSCF then creates the new SAs ... The
 * registration SAs shall be deleted if they exist" (7.4.2a; 7.3.1.4: "it
 * shall delete any information relating to any previous registration
 * procedure").  They are deleted before the new ones are installed, so
 * that the data plane never holds more than six SAs per direction for the
 * user (7.1 rule 3): the one step that changes something even when it then
 * fails (a refused install), as 7.3.1.4 wants the old procedure gone. */
static int sa_pc_challenge(sa_ctx *c)
{
    imssec_sa_table *t = c->t;
    imssec_sa_user *u = c->u;
    const imssec_sa_ev_args *a = c->a;
    sa_newset n;
    uint32_t spi_pc, spi_ps;
    uint16_t port_pc, port_ps;
    int rc, others = sa_sets_alive(u) - (u->set_[SA_R_REG] ? 1 : 0);
    if ((rc = sa_check_newset_args(c)) != IMSSEC_OK)
        return rc;
    if (a->ue_ip.len != u->ue_ip_.len)
        return isc_fail_param(c->err, "ue_ip", "not of the family SM1 came from");
    /* M.7.3.2.4 / M.7.1: NAT => UDP-enc-tun; no NAT => transport; M.7.4.2a:
     * UDP-enc-tun old SAs => UDP-enc-tun new ones */
    if (u->nat_ && a->mode != IMSSEC_MODE_UDP_ENC_TUN)
        return sa_fail(c, IMSSEC_E_SA_NAT, "mode", "NAT detected: UDP-enc-tun only",
                       "TS 33.203 M.7.1, M.7.3.2.4");
    if (c->prot && t->sets_[u->set_[u->sm1_set_] - 1].mode_ == IMSSEC_MODE_UDP_ENC_TUN) {
        if (a->mode != IMSSEC_MODE_UDP_ENC_TUN)
            return sa_fail(c, IMSSEC_E_SA_NAT, "mode", "the old SAs are UDP-enc-tun",
                           "TS 33.203 M.7.4.2a");
    } else if (!u->nat_ && a->mode != IMSSEC_MODE_TRANS) {
        return sa_fail(c, IMSSEC_E_SA_NAT, "mode", "no NAT: transport mode only",
                       "TS 33.203 M.7.1");
    }
    /* rule 3: "no more than six SAs per direction are stored at any one
     * time" */
    if (others >= 3) {
        sa_fail(c, IMSSEC_E_SA_LIMIT, NULL, "more than six SAs per direction for one IMPI",
                "TS 33.203 7.1 rule 3");
        if (c->err)
            c->err->limit = 6;
        return IMSSEC_E_SA_LIMIT;
    }
    if ((rc = sa_spi_alloc(t, u->spi_c_, u->spi_s_, 0, &spi_pc)) != IMSSEC_OK ||
        (rc = sa_spi_alloc(t, u->spi_c_, u->spi_s_, spi_pc, &spi_ps)) != IMSSEC_OK)
        return isc_fail(c->err, rc, "no free SPI", NULL);
    if (sa_peer_spi_clash(t, u, u->spi_c_) || sa_peer_spi_clash(t, u, u->spi_s_))
        return sa_fail(c, IMSSEC_E_EXISTS, NULL, "the UE's SPIs were taken since SM1",
                       "TS 33.203 7.1");
    /* UE-chosen SPIs may repeat across users; bound the clusters */
    if (sa_spi_count(t, u->spi_c_) >= SA_SPI_DUP_MAX || sa_spi_count(t, u->spi_s_) >= SA_SPI_DUP_MAX)
        return sa_fail(c, IMSSEC_E_EXISTS, NULL, "too many users share the UE's SPIs", NULL);
    port_ps = t->cfg_.pcscf_port_ps;
    if (!port_ps)
        port_ps = u->port_ps_;
    if (!port_ps && (rc = sa_port_alloc(t, u, &u->ue_ip_, 0, &port_ps)) != IMSSEC_OK)
        return isc_fail(c->err, rc, "no free protected port", NULL);
    if ((rc = sa_port_alloc(t, u, &u->ue_ip_, port_ps, &port_pc)) != IMSSEC_OK)
        return isc_fail(c->err, rc, "no free protected port", NULL);
    n.alg = (uint8_t)a->alg;
    n.ealg = (uint8_t)a->ealg;
    n.mode = (uint8_t)a->mode;
    n.ue_ip = u->ue_ip_;
    n.pcscf_ip = a->pcscf_ip;
    n.port_uc = u->port_c_;
    n.port_us = u->port_s_;
    n.port_pc = port_pc;
    n.port_ps = port_ps;
    n.spi_uc = u->spi_c_;
    n.spi_us = u->spi_s_;
    n.spi_pc = spi_pc;
    n.spi_ps = spi_ps;
    n.ik = a->ik;
    n.ck = a->ck;
    n.expires_ms = c->now + t->cfg_.reg_lifetime_ms;
    sa_role_delete(t, u, SA_R_REG);
    if ((rc = sa_set_create(t, c->ui, SA_R_NEW, &n, c->err)) != IMSSEC_OK)
        return rc;
    u->port_ps_ = port_ps;
    /* SM6: "protected with the old outbound SA, if SM1 was protected and
     * unprotected otherwise" */
    c->o->protect_with = c->prot ? sa_pc_out(c, u->sm1_set_, 0) : 0;
    c->o->spi_c = spi_pc;
    c->o->spi_s = spi_ps;
    c->o->port_c = port_pc;
    c->o->port_s = port_ps;
    c->next = c->prot ? ST(AUTH_PROT) : ST(AUTH_UNPROT);
    return IMSSEC_OK;
}

/* AUTH_RECV: SM7 "shall be protected using the new inbound SA" (7.4.2a),
 * and marked integrity protected towards the S-CSCF (6.1.5).  Or the
 * REGISTER that reports a MAC or SQN failure: "The P-CSCF deletes the new
 * SAs after receiving this message" (7.3.1.2, 7.3.1.3). */
static int sa_pc_auth_recv(sa_ctx *c)
{
    imssec_sa_user *u = c->u;
    int rc;
    if (c->a->kind == IMSSEC_SA_KIND_NONE) {
        if (!sa_arrival_ok(c, SA_R_NEW, 1))
            return sa_wrong(c, "SM7 not on the new inbound SA");
        if ((rc = sa_pc_rule2(c)) != IMSSEC_OK)
            return rc;
        c->o->integrity_protected = 1;
        c->next = u->state_;
        return IMSSEC_OK;
    }
    if (c->a->kind != IMSSEC_SA_KIND_NET_AUTH && c->a->kind != IMSSEC_SA_KIND_SYNC)
        return isc_fail_param(c->err, "kind", "NONE, NET_AUTH or SYNC");
    /* the failure REGISTER: on the old SA if SM1 was protected (7.4.2a) */
    if (c->prot ? !sa_arrival_ok(c, u->sm1_set_, 1) : c->arole != SA_R_NONE)
        return sa_wrong(c, "failure REGISTER not on the SA SM1 came on");
    if ((rc = sa_pc_rule2(c)) != IMSSEC_OK)
        return rc;
    sa_role_delete(c->t, u, SA_R_NEW);
    u->tmp_expires_ms_ = c->now + c->t->cfg_.reg_lifetime_ms;
    c->o->integrity_protected = c->arole == SA_R_CUR;
    c->next = c->prot ? ST(REG_PROT) : ST(REG_UNPROT);
    return IMSSEC_OK;
}

/* SUCCESS: SM12 "shall be protected using the new outbound SA"; then
 * (7.4.2a) "If there are old SAs, but SM1 ... was received unprotected,
 * ... the P-CSCF shall remove the old SAs"; "If SM1 ... was protected with
 * an old valid SA, the P-CSCF keeps this inbound SA and the corresponding
 * three SAs ... Any other old SAs are deleted."  An unauthenticated
 * re-registration extends the current SAs instead. */
static int sa_pc_success(sa_ctx *c)
{
    imssec_sa_table *t = c->t;
    imssec_sa_user *u = c->u;
    uint64_t until = sa_lifetime_after(t, c->now, c->a->expires_s);
    if (u->state_ == ST(REG_PROT)) {
        c->o->protect_with = sa_pc_out(c, u->sm1_set_, 0);
        sa_extend(t, u, SA_R_CUR, until);
        sa_role_delete(t, u, SA_R_REG); /* the abandoned procedure's SAs */
        c->next = ST(ACTIVE);
        return IMSSEC_OK;
    }
    c->o->protect_with = sa_pc_out(c, SA_R_NEW, 0); /* SM12 */
    sa_promote_new(t, u, until, u->state_ == ST(AUTH_PROT) ? u->sm1_set_ : SA_R_NONE);
    /* the ref above names the new set's SA, which is now CUR: same set */
    u->port_ps_ = t->sets_[u->set_[SA_R_CUR] - 1].port_ps_;
    c->next = ST(ACTIVE);
    return IMSSEC_OK;
}

/* FAILURE: a failure response is sent.  Protection as for the UE (7.4.2a:
 * none after an unprotected SM1 except the user authentication failure,
 * on the new SAs; the old SAs after a protected one); then "the P-CSCF
 * shall delete the new SAs". */
static int sa_pc_failure(sa_ctx *c)
{
    imssec_sa_user *u = c->u;
    int st = u->state_;
    if (st == ST(DEREG)) {
        c->o->protect_with = sa_pc_out(c, u->sm1_set_, 0);
        c->next = ST(ACTIVE);
        return IMSSEC_OK;
    }
    if (c->prot)
        c->o->protect_with = sa_pc_out(c, u->sm1_set_, 0);
    else if (st == ST(AUTH_UNPROT) && c->a->kind == IMSSEC_SA_KIND_USER_AUTH)
        c->o->protect_with = sa_pc_out(c, SA_R_NEW, 0);
    else
        c->o->protect_with = 0;
    sa_role_delete(c->t, u, SA_R_NEW);
    sa_role_delete(c->t, u, SA_R_REG);
    c->next = sa_state_after_abort(u);
    return IMSSEC_OK;
}

/* TIMEOUT: the temporary storage of an incomplete procedure goes
 * (7.3.1.1: "It shall delete the temporarily stored SA parameters
 * associated with this registration after a time-out"). */
static int sa_pc_timeout(sa_ctx *c)
{
    if (c->u->state_ == ST(DEREG)) {
        c->next = ST(ACTIVE);
        return IMSSEC_OK;
    }
    sa_role_delete(c->t, c->u, SA_R_NEW);
    sa_role_delete(c->t, c->u, SA_R_REG);
    c->next = sa_state_after_abort(c->u);
    return IMSSEC_OK;
}

/* MSG_IN: 7.1 item 3 ("The P-CSCF is allowed to receive only REGISTER
 * messages, messages relating to emergency services ... and error
 * messages on unprotected ports") and rule 4 (the correct inbound SA).
 * "When ... a further SIP message protected with a new inbound SA is
 * successfully received from the UE, the P-CSCF starts to use the new SAs
 * for outbound messages" (7.4.2a). */
static int sa_pc_msg_in(sa_ctx *c)
{
    imssec_sa_user *u = c->u;
    int is_req = c->a->msg == IMSSEC_SA_MSG_REQUEST;
    if (c->a->msg > IMSSEC_SA_MSG_ERROR)
        return isc_fail_param(c->err, "msg", "REQUEST, RESPONSE or ERROR at the P-CSCF");
    if (c->arole == SA_R_NONE) {
        if (c->a->emergency || c->a->msg == IMSSEC_SA_MSG_ERROR) {
            c->next = u->state_;
            return IMSSEC_OK;
        }
        return sa_wrong(c, "unprotected, and neither an error nor an emergency message "
                           "(7.1 item 3)");
    }
    if (!((c->arole == SA_R_CUR || c->arole == SA_R_OLD) && sa_arrival_ok(c, c->arole, is_req)))
        return sa_wrong(c, c->arole == SA_R_NEW || c->arole == SA_R_REG
                               ? "new SAs carry only authentication traffic until SM12"
                               : "not on the SA the 7.1 rules name for it");
    if (c->arole == SA_R_CUR && u->set_[SA_R_OLD]) {
        u->flags_ |= SA_F_NEW_SEEN | SA_F_SWITCHED;
        sa_retire_old(c->t, u);
    }
    c->next = u->state_;
    return IMSSEC_OK;
}

/* DEREG_RECV: a protected de-registration (on an old inbound SA; rule 2). */
static int sa_pc_dereg_recv(sa_ctx *c)
{
    int rc;
    if (!((c->arole == SA_R_CUR || c->arole == SA_R_OLD) && sa_arrival_ok(c, c->arole, 1)))
        return sa_wrong(c, "de-registration not on a current inbound SA");
    if ((rc = sa_pc_rule2(c)) != IMSSEC_OK)
        return rc;
    c->u->sm1_set_ = (uint8_t)c->arole;
    c->next = ST(DEREG);
    return IMSSEC_OK;
}

/* DEREG_DONE: the final response was sent (over the SAs: see
 * imssec_sa_route); "The P-CSCF shall delete all SAs it holds that are
 * associated with a particular IMPI once all the associated IMPUs are
 * de-registered" (7.4.2a). */
static int sa_pc_dereg_done(sa_ctx *c)
{
    sa_user_delete_all(c->t, c->u);
    c->next = ST(IDLE);
    return IMSSEC_OK;
}
