/*
 * sa_7_1_carriers.c -- sa/: which SA carries which message, TS 33.203
 * v7.7.0 clause 7.1 items 1 and 2, per transport:
 *
 *   UDP case: "the P-CSCF receives requests and responses protected with
 *   ESP from any UE on the port port_ps ... sends requests and responses
 *   protected with ESP to a UE on the port port_pc"; "the UE receives
 *   requests and responses protected with ESP on the port port_us ...
 *   sends requests and responses protected with ESP on the port port_uc".
 *   So over UDP the UE's messages travel UC_PS and the P-CSCF's PC_US.
 *
 *   TCP case: a request opens (or reuses) a connection from the sender's
 *   client port to the peer's server port; its response comes back on that
 *   connection (RFC 3261 18.2.2): UE request UC_PS, answer PS_UC; P-CSCF
 *   request PC_US, answer US_PC.
 *
 * The truth is those sentences: each test names the SA the clause gives
 * and checks that sa/ sends on it, accepts an arrival on it and refuses the
 * others.  (Before issue 14 sa/ expected answers to the UE on PS_UC over
 * UDP and sent the UE's answers on US_PC: the _udp_ tests fail there.)
 * The channel of sa_world.h checks that both ends hold the SA with the
 * same SPI, ports and keys.
 */
#include "../../imssec.h"
#include "../t.h"
#include "sa_world.h"

static world W;

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

static int ue_state(void)
{
    return imssec_sa_state(&W.ue.t, W.ue.user);
}

/* SM1..SM7 of a registration, then the P-CSCF's SUCCESS: *sm12 is the SA
 * sa/ names for the 200 OK (the UE has not seen it yet). */
static int reg_until_sm12(w_flow *f, int force_unprot, imssec_sa_ref *sm12)
{
    imssec_sa_ev_args a;
    int rc;
    if ((rc = w_sm1(&W, f, force_unprot)) != IMSSEC_OK || (rc = w_sm6(&W, f)) != IMSSEC_OK ||
        (rc = w_sm7(&W, f, NULL)) != IMSSEC_OK)
        return rc;
    w_args(&W, &a);
    rc = imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &f->pc_sm12, W.now, NULL);
    *sm12 = f->pc_sm12.protect_with;
    return rc;
}

/* The UE's SUCCESS for a 200 OK that the P-CSCF sent on `out`. */
static int ue_success_on(imssec_sa_ref out)
{
    imssec_sa_ev_args a;
    w_args(&W, &a);
    if (w_carry(&W.pc, &W.ue, out, &a.arrived_on) != 0)
        return -1000;
    return imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, W.now, NULL);
}

/* A message the P-CSCF sends on `out`, reported to the UE as MSG_IN. */
static int ue_msg_on(imssec_sa_ref out, int msg)
{
    imssec_sa_ev_args a;
    memset(&a, 0, sizeof a);
    if (w_carry(&W.pc, &W.ue, out, &a.arrived_on) != 0)
        return -1000;
    a.transport = W.transport;
    a.msg = (uint8_t)msg;
    return imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL);
}

/* A message the UE sends on `out`, reported to the P-CSCF as MSG_IN. */
static int pc_msg_on(imssec_sa_ref out, int msg)
{
    imssec_sa_ev_args a;
    memset(&a, 0, sizeof a);
    if (w_carry(&W.ue, &W.pc, out, &a.arrived_on) != 0)
        return -1000;
    a.transport = W.transport;
    a.msg = (uint8_t)msg;
    return imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL);
}

/* UDP: SM7 leaves the UE on UC_PS, SM12 the P-CSCF on PC_US (port_pc ->
 * port_us), and the UE accepts it there; the same on a re-registration,
 * whose SM1 and SM6 travel on the old set's UC_PS and PC_US. */
T_TEST(sa_7_1_udp_sm12_on_pc_us_accepted)
{
    w_flow f1, f2;
    imssec_sa_ref sm12;
    T_OK(w_init(&W));
    T_OK(reg_until_sm12(&f1, 0, &sm12));
    T_EQ_INT(w_which(&W.ue, f1.ue_sm7.protect_with), IMSSEC_SA_UC_PS);
    T_EQ_INT(w_which(&W.pc, sm12), IMSSEC_SA_PC_US);
    T_OK(ue_success_on(sm12));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_OK(w_sm1(&W, &f2, 0));
    T_EQ_INT(w_which(&W.ue, f2.ue_sm1.protect_with), IMSSEC_SA_UC_PS);
    T_OK(w_sm6(&W, &f2));
    T_EQ_INT(w_which(&W.pc, f2.pc_sm6.protect_with), IMSSEC_SA_PC_US);
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_EQ_INT(w_which(&W.pc, f2.pc_sm12.protect_with), IMSSEC_SA_PC_US);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_ASSERT(w_consistent(&W));
}

/* UDP: a 200 OK on PS_UC (port_ps -> port_uc) is not what 7.1 says: the UE
 * discards it and nothing changes; the one on PC_US is then accepted. */
T_TEST(sa_7_1_udp_sm12_on_ps_uc_refused)
{
    w_flow f;
    imssec_sa_ref sm12, wrong;
    T_OK(w_init(&W));
    T_OK(reg_until_sm12(&f, 0, &sm12));
    wrong = w_sibling(&W.pc, sm12, IMSSEC_SA_PS_UC);
    T_ASSERT(wrong != 0);
    T_EQ_INT(ue_success_on(wrong), IMSSEC_E_SA_WRONG);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_AUTH_UNPROT);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4);
    T_OK(ue_success_on(sm12));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
}

/* The tolerance (IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA): a response on the
 * other inbound SA of the very set the rule names is accepted; a request
 * there is not. */
T_TEST(sa_7_1_udp_tolerance_accepts_response_on_ps_uc)
{
    w_flow f;
    imssec_sa_ref sm12, wrong;
    T_OK(w_init_opt(&W, IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA, 0));
    T_OK(reg_until_sm12(&f, 0, &sm12));
    wrong = w_sibling(&W.pc, sm12, IMSSEC_SA_PS_UC);
    T_OK(ue_success_on(wrong));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_OK(ue_msg_on(wrong, IMSSEC_SA_MSG_RESPONSE));
    T_OK(ue_msg_on(wrong, IMSSEC_SA_MSG_ERROR));
    T_EQ_INT(ue_msg_on(wrong, IMSSEC_SA_MSG_REQUEST), IMSSEC_E_SA_WRONG);
    T_OK(ue_msg_on(sm12, IMSSEC_SA_MSG_REQUEST));
}

/* The tolerance never reaches another set: during a re-registration the
 * 200 OK must come on the new set; the old set's PC_US or PS_UC is refused
 * with or without the option, and so is an SA of a deleted set. */
T_TEST(sa_7_1_udp_tolerance_never_another_set)
{
    w_flow f1, f2;
    imssec_sa_ref sm12, old_pc_us, old_ps_uc, gone;
    imssec_sa_ev_args a;
    uint64_t next;
    T_OK(w_init_opt(&W, IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA, 0));
    T_OK(w_register(&W, &f1, 0));
    old_pc_us = f1.pc_sm12.protect_with;
    old_ps_uc = w_sibling(&W.pc, old_pc_us, IMSSEC_SA_PS_UC);
    T_ASSERT(old_ps_uc != 0);
    T_OK(reg_until_sm12(&f2, 0, &sm12));
    T_ASSERT(sm12 != old_pc_us);
    T_EQ_INT(ue_success_on(old_pc_us), IMSSEC_E_SA_WRONG);
    T_EQ_INT(ue_success_on(old_ps_uc), IMSSEC_E_SA_WRONG);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_AUTH_PROT);
    T_OK(ue_success_on(w_sibling(&W.pc, sm12, IMSSEC_SA_PS_UC)));
    /* a set that expired: its inbound SA is gone at the UE */
    T_OK(w_carry(&W.pc, &W.ue, sm12, &gone));
    W.now += 4000u * 1000u;
    T_OK(imssec_sa_tick(&W.ue.t, W.now, &next));
    w_args(&W, &a);
    a.arrived_on = gone;
    a.msg = IMSSEC_SA_MSG_RESPONSE;
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
}

/* TCP: every answer comes back on the reverse of its request's
 * connection: SM6 of a re-registration and SM12 on PS_UC, and a 200 OK on
 * PC_US is refused over TCP (it is right only over UDP). */
T_TEST(sa_7_1_tcp_registration_answers_on_reverse_connection)
{
    w_flow f1, f2;
    imssec_sa_ref sm12, wrong;
    T_OK(w_init(&W));
    W.transport = IMSSEC_TRANSPORT_TCP;
    T_OK(reg_until_sm12(&f1, 0, &sm12));
    T_EQ_INT(w_which(&W.ue, f1.ue_sm7.protect_with), IMSSEC_SA_UC_PS);
    T_EQ_INT(w_which(&W.pc, sm12), IMSSEC_SA_PS_UC);
    T_OK(ue_success_on(sm12));
    T_OK(w_sm1(&W, &f2, 0));
    T_EQ_INT(w_which(&W.ue, f2.ue_sm1.protect_with), IMSSEC_SA_UC_PS);
    T_OK(w_sm6(&W, &f2));
    T_EQ_INT(w_which(&W.pc, f2.pc_sm6.protect_with), IMSSEC_SA_PS_UC);
    T_OK(w_sm7(&W, &f2, NULL));
    {
        imssec_sa_ev_args a;
        w_args(&W, &a);
        T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &f2.pc_sm12, W.now,
                             NULL));
    }
    T_EQ_INT(w_which(&W.pc, f2.pc_sm12.protect_with), IMSSEC_SA_PS_UC);
    wrong = w_sibling(&W.pc, f2.pc_sm12.protect_with, IMSSEC_SA_PC_US);
    T_EQ_INT(ue_success_on(wrong), IMSSEC_E_SA_WRONG);
    T_OK(ue_success_on(f2.pc_sm12.protect_with));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_ASSERT(w_consistent(&W));
}

/* UDP, mobile originated: the UE's request on UC_PS, the P-CSCF's answers
 * (final and error) on PC_US; an answer on PS_UC is discarded. */
T_TEST(sa_7_1_udp_mo_request_and_response)
{
    w_flow f;
    imssec_sa_ref sent, in, rs, ra;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_OK(w_request(&W, 1, &sent, &in));
    T_EQ_INT(w_which(&W.ue, sent), IMSSEC_SA_UC_PS);
    T_OK(w_response(&W, 0, in, IMSSEC_SA_MSG_RESPONSE, &rs, &ra));
    T_EQ_INT(w_which(&W.pc, rs), IMSSEC_SA_PC_US);
    T_OK(w_response(&W, 0, in, IMSSEC_SA_MSG_ERROR, &rs, &ra));
    T_EQ_INT(ue_msg_on(w_sibling(&W.pc, rs, IMSSEC_SA_PS_UC), IMSSEC_SA_MSG_RESPONSE),
             IMSSEC_E_SA_WRONG);
}

/* UDP, mobile terminated: the P-CSCF's request on PC_US; the UE answers
 * from port_uc, on UC_PS; an answer on US_PC is discarded. */
T_TEST(sa_7_1_udp_mt_request_and_response)
{
    w_flow f;
    imssec_sa_ref sent, in, rs, ra;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_INT(w_which(&W.pc, sent), IMSSEC_SA_PC_US);
    T_OK(w_response(&W, 1, in, IMSSEC_SA_MSG_RESPONSE, &rs, &ra));
    T_EQ_INT(w_which(&W.ue, rs), IMSSEC_SA_UC_PS);
    T_EQ_INT(pc_msg_on(w_sibling(&W.ue, rs, IMSSEC_SA_US_PC), IMSSEC_SA_MSG_RESPONSE),
             IMSSEC_E_SA_WRONG);
}

/* TCP, both directions: UE request UC_PS, answer PS_UC; P-CSCF request
 * PC_US, answer US_PC; each UDP carrier of an answer is refused over TCP. */
T_TEST(sa_7_1_tcp_mo_and_mt_answers_on_reverse_connection)
{
    w_flow f;
    imssec_sa_ref sent, in, rs, ra;
    T_OK(w_init(&W));
    W.transport = IMSSEC_TRANSPORT_TCP;
    T_OK(w_register(&W, &f, 0));
    T_OK(w_request(&W, 1, &sent, &in));
    T_EQ_INT(w_which(&W.ue, sent), IMSSEC_SA_UC_PS);
    T_OK(w_response(&W, 0, in, IMSSEC_SA_MSG_RESPONSE, &rs, &ra));
    T_EQ_INT(w_which(&W.pc, rs), IMSSEC_SA_PS_UC);
    T_EQ_INT(ue_msg_on(w_sibling(&W.pc, rs, IMSSEC_SA_PC_US), IMSSEC_SA_MSG_RESPONSE),
             IMSSEC_E_SA_WRONG);
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_INT(w_which(&W.pc, sent), IMSSEC_SA_PC_US);
    T_OK(w_response(&W, 1, in, IMSSEC_SA_MSG_RESPONSE, &rs, &ra));
    T_EQ_INT(w_which(&W.ue, rs), IMSSEC_SA_US_PC);
    T_EQ_INT(pc_msg_on(w_sibling(&W.ue, rs, IMSSEC_SA_UC_PS), IMSSEC_SA_MSG_RESPONSE),
             IMSSEC_E_SA_WRONG);
}

/* 7.4 with 7.1: transactions pending across a re-registration finish on the
 * set they started on, on that set's carrier for the transport; new
 * requests take the new set; the old set goes once they end. */
static void pending_across_reregistration(int transport)
{
    w_flow f1, f2;
    imssec_sa_ref mo_sent, mo_in, mt_sent, mt_in, rs, ra, s2, i2;
    T_OK(w_init(&W));
    W.transport = (uint8_t)transport;
    T_OK(w_register(&W, &f1, 0));
    /* an MO and an MT transaction start on set A */
    T_OK(w_request(&W, 1, &mo_sent, &mo_in));
    T_OK(imssec_sa_txn_begin(&W.ue.t, mo_sent));
    T_OK(imssec_sa_txn_begin(&W.pc.t, mo_in));
    T_OK(w_request(&W, 0, &mt_sent, &mt_in));
    T_OK(imssec_sa_txn_begin(&W.ue.t, mt_in));
    T_OK(imssec_sa_txn_begin(&W.pc.t, mt_sent));
    /* re-registration: B is current at both ends, A old */
    T_OK(w_register(&W, &f2, 0));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 8);
    /* the answers of the pending transactions: on A, the transport's
     * carrier, accepted there */
    T_OK(w_response(&W, 0, mo_in, IMSSEC_SA_MSG_RESPONSE, &rs, &ra));
    T_EQ_INT(w_which(&W.pc, rs), transport == IMSSEC_TRANSPORT_TCP ? IMSSEC_SA_PS_UC
                                                                   : IMSSEC_SA_PC_US);
    T_EQ_UINT(w_sibling(&W.pc, rs, IMSSEC_SA_PC_US), w_sibling(&W.pc, mt_sent, IMSSEC_SA_PC_US));
    T_OK(w_response(&W, 1, mt_in, IMSSEC_SA_MSG_RESPONSE, &rs, &ra));
    T_EQ_INT(w_which(&W.ue, rs), transport == IMSSEC_TRANSPORT_TCP ? IMSSEC_SA_US_PC
                                                                   : IMSSEC_SA_UC_PS);
    T_EQ_UINT(w_sibling(&W.ue, rs, IMSSEC_SA_UC_PS), mo_sent);
    /* a new request leaves on B */
    T_OK(w_request(&W, 1, &s2, &i2));
    T_EQ_UINT(s2, f2.ue_sm7.protect_with);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 8);
    /* the transactions end: A goes at the UE (a message came on B) */
    T_OK(imssec_sa_txn_end(&W.ue.t, mo_sent, W.now));
    T_OK(imssec_sa_txn_end(&W.ue.t, mt_in, W.now));
    T_OK(w_request(&W, 0, &s2, &i2));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4);
    T_OK(imssec_sa_txn_end(&W.pc.t, mo_in, W.now));
    T_OK(imssec_sa_txn_end(&W.pc.t, mt_sent, W.now));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_ASSERT(w_consistent(&W));
}

T_TEST(sa_7_1_udp_pending_transactions_across_reregistration)
{
    pending_across_reregistration(IMSSEC_TRANSPORT_UDP);
}

T_TEST(sa_7_1_tcp_pending_transactions_across_reregistration)
{
    pending_across_reregistration(IMSSEC_TRANSPORT_TCP);
}

/* De-registration and a failure response follow the same carriers: the
 * de-registering REGISTER on UC_PS, its final response on PC_US (UDP) or
 * PS_UC (TCP); the failure response to a protected re-registration too. */
static void dereg_and_failure(int transport)
{
    w_flow f1, f2;
    imssec_sa_ev_out o;
    imssec_sa_ev_args a;
    imssec_sa_ref in, resp;
    int answer = transport == IMSSEC_TRANSPORT_TCP ? IMSSEC_SA_PS_UC : IMSSEC_SA_PC_US;
    T_OK(w_init(&W));
    W.transport = (uint8_t)transport;
    T_OK(w_register(&W, &f1, 0));
    /* a protected re-registration that fails at the S-CSCF */
    T_OK(w_sm1(&W, &f2, 0));
    w_args(&W, &a);
    a.kind = IMSSEC_SA_KIND_OTHER;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now, NULL));
    T_EQ_INT(w_which(&W.pc, o.protect_with), answer);
    w_args(&W, &a);
    a.kind = IMSSEC_SA_KIND_OTHER;
    T_OK(w_carry(&W.pc, &W.ue, o.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    /* de-registration */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, W.now, NULL));
    T_EQ_INT(w_which(&W.ue, o.protect_with), IMSSEC_SA_UC_PS);
    w_args(&W, &a);
    T_OK(w_carry(&W.ue, &W.pc, o.protect_with, &in));
    a.arrived_on = in;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, W.now, NULL));
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, transport, 0, in, &resp));
    T_EQ_INT(w_which(&W.pc, resp), answer);
    /* the other downlink SA is refused for the final response */
    w_args(&W, &a);
    T_OK(w_carry(&W.pc, &W.ue,
                 w_sibling(&W.pc, resp, answer == IMSSEC_SA_PC_US ? IMSSEC_SA_PS_UC
                                                                  : IMSSEC_SA_PC_US),
                 &a.arrived_on));
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_DONE, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_OK(w_carry(&W.pc, &W.ue, resp, &a.arrived_on));
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, W.now, NULL));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_DONE, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_ASSERT(w_consistent(&W));
}

T_TEST(sa_7_1_udp_failure_and_deregistration)
{
    dereg_and_failure(IMSSEC_TRANSPORT_UDP);
}

T_TEST(sa_7_1_tcp_failure_and_deregistration)
{
    dereg_and_failure(IMSSEC_TRANSPORT_TCP);
}

/* M.7.1 NOTE: "The handling of the protected ports is the same,
 * irrespective of whether transport or UDP encapsulated tunnel mode is
 * used": UDP-enc-tun SAs follow the UDP and TCP cases above. */
T_TEST(sa_M_7_1_udp_enc_tun_follows_udp_and_tcp_cases)
{
    w_flow f;
    imssec_sa_ref sm12, sent, in, rs, ra;
    int tr;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    for (tr = IMSSEC_TRANSPORT_UDP; tr <= IMSSEC_TRANSPORT_TCP; tr++) {
        T_OK(w_init(&W));
        W.nat = 1;
        W.mode = IMSSEC_MODE_UDP_ENC_TUN;
        W.transport = (uint8_t)tr;
        T_OK(reg_until_sm12(&f, 0, &sm12));
        T_EQ_INT(w_which(&W.pc, sm12),
                 tr == IMSSEC_TRANSPORT_TCP ? IMSSEC_SA_PS_UC : IMSSEC_SA_PC_US);
        T_OK(ue_success_on(sm12));
        T_OK(w_request(&W, 0, &sent, &in));
        T_OK(w_response(&W, 1, in, IMSSEC_SA_MSG_RESPONSE, &rs, &ra));
        T_EQ_INT(w_which(&W.ue, rs),
                 tr == IMSSEC_TRANSPORT_TCP ? IMSSEC_SA_US_PC : IMSSEC_SA_UC_PS);
    }
}
