/*
 * sa/rules.c -- the rules of TS 33.203 v7.7.0 that both state machines
 * apply: which SA carries a message (7.1 items 1 and 2, UDP and TCP cases),
 * whether an arrival is on the right SA (7.1 rules 4 and 7, 7.4.1a,
 * 7.4.2a), the checks on the values a peer chose, and the SA lifetimes of
 * 7.4.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* TS 33.203 7.1 items 1 and 2: the SA that carries a message.
 *   UDP case: "the P-CSCF receives requests and responses protected with
 *   ESP from any UE on the port port_ps ... sends requests and responses
 *   protected with ESP to a UE on the port port_pc"; "the UE receives
 *   requests and responses protected with ESP on the port port_us ... sends
 *   requests and responses protected with ESP on the port port_uc".  So the
 *   UE's messages travel UC_PS and the P-CSCF's PC_US, whatever they are.
 *   TCP case: a request goes on a connection from the sender's client port
 *   to the peer's server port ("set up a TCP connection from its port_pc to
 *   the port port_us of the UE before sending a request"; the UE "to the
 *   port port_ps"), and its response back on that connection (RFC 3261
 *   18.2.2).
 * M.7.1 NOTE: the same in UDP-encapsulated tunnel mode. */
static int sa_71_carrier(int sender_is_ue, int is_request, int transport)
{
    if (transport != IMSSEC_TRANSPORT_TCP || is_request)
        return sender_is_ue ? IMSSEC_SA_UC_PS : IMSSEC_SA_PC_US;
    /* a TCP response, on the reverse of its request's connection */
    return sender_is_ue ? IMSSEC_SA_US_PC : IMSSEC_SA_PS_UC;
}

/* Did the message of this event arrive on the carrier of the set in
 * `role`?  The sender is our peer; is_request says what the message is.
 * With IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA a response may have come on the
 * other inbound SA of the same set (never another set). */
static int sa_arrival_ok(const sa_ctx *c, int role, int is_request)
{
    int peer_is_ue = c->t->cfg_.role == IMSSEC_SA_ROLE_PCSCF;
    if (role == SA_R_NONE || c->arole != role)
        return 0;
    if (c->w == sa_71_carrier(peer_is_ue, is_request, c->a->transport))
        return 1;
    return !is_request && (c->t->cfg_.options & IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA) &&
           sa_is_inbound(c->t, c->w);
}

/* NET_DEREG, both roles: the network ended the registration -- a
 * reg-event NOTIFY with the registration terminated (UE: received and
 * answered; P-CSCF: passed to the UE), or an administrative release --
 * and "the UE [P-CSCF] shall delete all SAs ... once all the IMPUs are
 * de-registered" (7.4.1a, 7.4.2a).  The caller sends the NOTIFY or its
 * response first (imssec_sa_route), then reports this event. */
static int sa_release(sa_ctx *c)
{
    sa_user_delete_all(c->t, c->u);
    c->next = ST(IDLE);
    return IMSSEC_OK;
}

/* A message on the wrong SA (or unprotected where it must not be): the
 * verdict of 7.1 rules 4 / 7 and 7.4.1a / 7.4.2a ("If the UE / P-CSCF
 * receives a message protected with the incorrect SA, it shall discard
 * the message"). */
static int sa_wrong(sa_ctx *c, const char *what)
{
    isc_fail(c->err, IMSSEC_E_SA_WRONG, what,
             c->t->cfg_.role == IMSSEC_SA_ROLE_UE ? "TS 33.203 7.1 rule 7, 7.4.1a"
                                                  : "TS 33.203 7.1 rule 4, 7.4.2a");
    return IMSSEC_E_SA_WRONG;
}

/* A refusal with everything errinfo can say about it. */
static int sa_fail(sa_ctx *c, int code, const char *param, const char *what, const char *clause)
{
    isc_fail(c->err, code, what, clause);
    if (c->err)
        c->err->param = param;
    return code;
}

/* 7.1: "The ports port_ps and port_pc [port_us and port_uc] are different
 * from the standard SIP ports 5060 and 5061." */
static int sa_valid_port(uint16_t p)
{
    return p != 0 && p != 5060 && p != 5061;
}

/* The algorithms and addresses of a new set. */
static int sa_check_newset_args(sa_ctx *c)
{
    const imssec_sa_ev_args *a = c->a;
    if (a->alg != IMSSEC_ALG_HMAC_SHA1_96 && a->alg != IMSSEC_ALG_AES_GMAC &&
        a->alg != IMSSEC_ALG_NULL && !(a->alg == IMSSEC_ALG_HMAC_MD5_96 && IMSSEC_ENABLE_HMAC_MD5))
        return sa_fail(c, IMSSEC_E_UNSUPPORTED, "alg", "integrity algorithm not supported", NULL);
    if (!(a->ealg == IMSSEC_EALG_NULL || a->ealg == IMSSEC_EALG_AES_CBC ||
          a->ealg == IMSSEC_EALG_AES_GCM ||
          (a->ealg == IMSSEC_EALG_DES_EDE3_CBC && IMSSEC_ENABLE_3DES)))
        return sa_fail(c, IMSSEC_E_UNSUPPORTED, "ealg", "encryption algorithm not supported",
                       NULL);
    /* later-release pairs (Annex I keys exist only for these): alg null
     * with aes-gcm and only with it (RFC 4106), aes-gmac without
     * encryption (RFC 4543) */
    if ((a->alg == IMSSEC_ALG_NULL) != (a->ealg == IMSSEC_EALG_AES_GCM) ||
        (a->alg == IMSSEC_ALG_AES_GMAC && a->ealg != IMSSEC_EALG_NULL))
        return sa_fail(c, IMSSEC_E_PARAM, a->alg == IMSSEC_ALG_AES_GMAC ? "ealg" : "alg",
                       "alg null goes with aes-gcm only, aes-gmac with ealg null only", NULL);
    if (!(a->mode == IMSSEC_MODE_TRANS ||
          (a->mode == IMSSEC_MODE_UDP_ENC_TUN && IMSSEC_ENABLE_UDPENCAP)))
        return sa_fail(c, IMSSEC_E_UNSUPPORTED, "mode", "mode neither trans nor UDP-enc-tun",
                       "TS 33.203 6.3, M.6.3");
    if (!isc_addr_ok(&a->ue_ip) || !isc_addr_ok(&a->pcscf_ip) || a->ue_ip.len != a->pcscf_ip.len)
        return isc_fail_param(c->err, "ue_ip / pcscf_ip", "missing or of different families");
    return IMSSEC_OK;
}

/* The peer's SPIs and ports (Security-Client at the P-CSCF, Security-Server
 * at the UE): 7.1 ports, SPIs outside the IANA-reserved 1..255, client and
 * server values distinct. */
static int sa_check_peer_values(sa_ctx *c)
{
    const imssec_sa_ev_args *a = c->a;
    if (!sa_valid_port(a->peer_port_c) || !sa_valid_port(a->peer_port_s))
        return sa_fail(c, IMSSEC_E_PARAM, "peer_port_c / peer_port_s",
                       "a protected port is 0, 5060 or 5061", "TS 33.203 7.1");
    if (a->peer_port_c == a->peer_port_s)
        return isc_fail_param(c->err, "peer_port_c", "client and server port equal");
    if (a->peer_spi_c < 256 || a->peer_spi_s < 256 || a->peer_spi_c == a->peer_spi_s)
        return isc_fail_param(c->err, "peer_spi_c / peer_spi_s",
                              "an SPI below 256, or client and server SPI equal");
    return IMSSEC_OK;
}

/* 7.4.1a / 7.4.2a: a lifetime that "will expire shortly after the
 * registration timer in the message". */
static uint64_t sa_lifetime_after(const imssec_sa_table *t, uint64_t now_ms, uint32_t expires_s)
{
    return now_ms + (uint64_t)expires_s * 1000u + t->cfg_.margin_ms;
}

static void sa_extend(imssec_sa_table *t, imssec_sa_user *u, int role, uint64_t until)
{
    uint32_t s = sa_role_set(u, role);
    /* 7.4.1a NOTE: "the lifetime of a SA is never decreased" */
    if (s != UINT32_MAX && t->sets_[s].expires_ms_ < until)
        t->sets_[s].expires_ms_ = until;
}

/* SM12: the new SAs become the current ones with the lifetime of 7.4.1a /
 * 7.4.2a ("either equals the latest lifetime of the old SAs or it will
 * expire shortly after the registration timer in the message, depending
 * which gives the SAs the longer life").  Of the old sets only the one in
 * role `keep` stays (as OLD, for pending transactions); SA_R_NONE deletes
 * them all. */
static void sa_promote_new(imssec_sa_table *t, imssec_sa_user *u, uint64_t until, int keep)
{
    uint32_t k = keep != SA_R_NONE ? u->set_[keep] : 0, set = u->set_[SA_R_NEW] - 1;
    int r;
    for (r = SA_R_CUR; r <= SA_R_OLD; r++)
        if (u->set_[r] && t->sets_[u->set_[r] - 1].expires_ms_ > until)
            until = t->sets_[u->set_[r] - 1].expires_ms_;
    for (r = SA_R_CUR; r <= SA_R_OLD; r++)
        if (u->set_[r] && u->set_[r] != k)
            sa_role_delete(t, u, r);
    u->set_[SA_R_OLD] = k;
    t->sets_[set].expires_ms_ = until;
    u->set_[SA_R_CUR] = set + 1;
    u->set_[SA_R_NEW] = 0;
    u->flags_ = 0;
    u->mode_ = t->sets_[set].mode_;
}

/* Old SAs wait for the switch-over trigger and their pending transactions
 * (7.4.1a: "the old SAs shall be deleted as soon as either all pending SIP
 * transactions have been completed, or have timed out"; 7.4.2a likewise);
 * delete them when both are done. */
static void sa_retire_old(imssec_sa_table *t, imssec_sa_user *u)
{
    uint32_t s = sa_role_set(u, SA_R_OLD);
    int busy_sm1 = (u->state_ == ST(REG_PROT) || u->state_ == ST(AUTH_PROT) ||
                    u->state_ == ST(DEREG)) && u->sm1_set_ == SA_R_OLD;
    if (s == UINT32_MAX || busy_sm1)
        return;
    if ((u->flags_ & SA_F_NEW_SEEN) && t->sets_[s].pending_ == 0)
        sa_set_delete(t, s);
}

/* After an abandoned procedure: registered if SAs of an earlier successful
 * authentication remain. */
static int sa_state_after_abort(const imssec_sa_user *u)
{
    return u->set_[SA_R_CUR] ? ST(ACTIVE) : ST(IDLE);
}
