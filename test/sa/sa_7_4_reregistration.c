/*
 * sa_7_4_reregistration.c -- sa/: authenticated re-registration of TS
 * 33.203 v7.7.0 7.4 (ports, lifetimes, no free set), the UE's SA management
 * of 7.4.1a and the P-CSCF's of 7.4.2a (old and new SAs, switch-over,
 * pending transactions, protection required), de-registration, expiry.
 * Driven as message sequences through both tables at once (sa_world.h).
 */

#include "sa_flow.h"

#include "sa_aligned.h"

/* 7.4: on re-registration port_us and port_ps stay, port_uc and port_pc
 * change. */
T_TEST(sa_7_4_ports_on_reregistration)
{
    w_flow f1, f2;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_register(&W, &f2, 0));
    T_EQ_UINT(f2.ue_sm1.port_s, f1.ue_sm1.port_s);
    T_EQ_UINT(f2.pc_sm6.port_s, f1.pc_sm6.port_s);
    T_ASSERT(f2.ue_sm1.port_c != f1.ue_sm1.port_c);
    T_ASSERT(f2.pc_sm6.port_c != f1.pc_sm6.port_c);
    T_ASSERT(f1.ue_sm1.port_c != 5060 && f1.ue_sm1.port_c != 5061);
    T_ASSERT(w_consistent(&W));
}

/* No free set for the re-registration: E_SPACE, nothing changed (the old
 * registration keeps working). */
T_TEST(sa_7_4_no_free_set_changes_nothing)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f, f2;
    static uint8_t b[SNAP_MAX], a_[SNAP_MAX];
    size_t nb, na;
    imssec_sa_ev_args a;
    int rc, st;
    int side;
    for (side = 0; side < 2; side++) {
        w_side *sd;
        memset(&f, 0, sizeof f);
        memset(&f2, 0, sizeof f2);
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        if (side) {
            T_EQ_INT(w_side_setup(&wp->pc, IMSSEC_SA_ROLE_PCSCF, &wp->io, 1, 1), IMSSEC_OK);
            T_EQ_INT(imssec_sa_user_lookup(&wp->pc.t,T_S(w_impi, strlen(w_impi)), 1, &wp->pc.user),
                     IMSSEC_OK);
        } else {
            T_EQ_INT(w_side_setup(&wp->ue, IMSSEC_SA_ROLE_UE, &wp->io, 1, 1), IMSSEC_OK);
            T_EQ_INT(imssec_sa_user_lookup(&wp->ue.t,T_S(w_impi, strlen(w_impi)), 1, &wp->ue.user),
                     IMSSEC_OK);
        }
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        T_EQ_INT(w_sm1(wp, &f2, 0), IMSSEC_OK);
        sd = side ? &wp->pc : &wp->ue;
        nb = table_snap(&sd->t, b);
        st = imssec_sa_state(&sd->t, sd->user);
        if (side) {
            w_args(wp, &a);
            rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &f2.pc_sm6, wp->now, NULL);
        } else {
            rc = w_sm6(wp, &f2);
        }
        T_EQ_INT(rc, IMSSEC_E_SPACE);
        na = table_snap(&sd->t, a_);
        T_EQ_UINT(na, nb);
        T_EQ_MEM(a_, b, nb);
        T_EQ_INT(imssec_sa_state(&sd->t, sd->user), st);
        T_EQ_INT(imssec_sa_table_check(&sd->t), IMSSEC_OK);
    }
}

/* 7.4.1a step 1-2: SM1 on the old outbound SA; SM6 only on the old inbound
 * SA (an unprotected SM6 is discarded and changes nothing). */
T_TEST(sa_7_4_1a_sm1_and_sm6_on_old_sas)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    imssec_sa_info i;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_EQ_UINT(f2.ue_sm1.protect_with, f1.ue_sm7.protect_with); /* old UC_PS */
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_REG_PROT);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_PROT);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, (w_args(&W, &a), &a),
                         &f2.pc_sm6, W.now, NULL));
    i = info_of(&W.pc, f2.pc_sm6.protect_with);
    T_EQ_INT(i.which, IMSSEC_SA_PC_US); /* 7.1 UDP: from port_pc to port_us */
    T_EQ_UINT(i.sport, f1.pc_sm6.port_c); /* the old set's port_pc */
    /* an unprotected SM6 at the UE is discarded */
    w_args(&W, &a);
    a.peer_spi_c = f2.pc_sm6.spi_c;
    a.peer_spi_s = f2.pc_sm6.spi_s;
    a.peer_port_c = f2.pc_sm6.port_c;
    a.peer_port_s = f2.pc_sm6.port_s;
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_REG_PROT);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 4);
    T_OK(w_carry(&W.pc, &W.ue, f2.pc_sm6.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE, &a, &f2.ue_sm7, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_AUTH_PROT);
    T_ASSERT(f2.ue_sm7.protect_with != f1.ue_sm7.protect_with); /* SM7 on the new SA */
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a step 3: while the authentication runs, other traffic uses the old
 * SAs; new SAs carry nothing else (a request on them is discarded). */
T_TEST(sa_7_4_1a_old_sas_during_authentication)
{
    w_flow f1, f2;
    imssec_sa_ref sent, in;
    imssec_sa_ev_args a;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_request(&W, 1, &sent, &in));
    T_EQ_UINT(sent, f1.ue_sm7.protect_with); /* old UC_PS */
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_UINT(info_of(&W.pc, sent).sport, f1.pc_sm6.port_c); /* old port_pc */
    /* a non-authentication request on the new inbound SA is discarded */
    memset(&a, 0, sizeof a);
    T_OK(w_carry(&W.ue, &W.pc, f2.ue_sm7.protect_with, &a.arrived_on));
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a step 4: SM12 only on the new inbound SA. */
T_TEST(sa_7_4_1a_sm12_on_new_inbound)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    w_args(&W, &a);
    a.arrived_on = f1.ue_sm12_in; /* old inbound */
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    a.arrived_on = 0;
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_AUTH_PROT);
    T_OK(w_sm12(&W, &f2));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
}

/* 7.4.1a step 5: new outbound SAs for further messages; old SAs deleted
 * when a message arrived on the new inbound SA AND pending transactions
 * (started on the old SAs) are completed. */
T_TEST(sa_7_4_1a_old_sas_kept_for_pending_transactions)
{
    w_flow f1, f2;
    imssec_sa_ref sent, in, old_out;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    /* a transaction started on the old SAs */
    T_OK(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &old_out));
    T_OK(imssec_sa_txn_begin(&W.ue.t, old_out));
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 8); /* old + new */
    /* further requests from the UE leave on the new SA */
    T_OK(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &sent));
    T_EQ_UINT(sent, f2.ue_sm7.protect_with);
    /* the P-CSCF still sends on the old SAs (not switched yet) */
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_UINT(info_of(&W.ue, in).sport, f1.pc_sm6.port_c); /* old port_pc */
    /* UE request on the new SAs switches the P-CSCF; its next request
     * arrives on the new inbound SA; old still held by the transaction */
    T_OK(w_request(&W, 1, &sent, &in));
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_UINT(info_of(&W.ue, in).sport, f2.pc_sm6.port_c);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 8);
    T_OK(imssec_sa_txn_end(&W.ue.t, old_out, W.now));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4);
    T_EQ_INT(imssec_sa_get(&W.ue.t, old_out, &(imssec_sa_info){0}), IMSSEC_E_NOT_FOUND);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a: new lifetime = max(old lifetime, expiry + margin); never
 * decreased; unauthenticated re-registration only increases it. */
T_TEST(sa_7_4_1a_lifetime_never_decreased)
{
    w_flow f1, f2;
    imssec_sa_info i1, i2;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    W.expires_s = 3600;
    T_OK(w_register(&W, &f1, 0));
    i1 = info_of(&W.ue, f1.ue_sm7.protect_with);
    T_EQ_UINT(i1.expires_ms, W.now + 3600000u + 30000u);
    W.now += 1000;
    W.expires_s = 60;
    T_OK(w_register(&W, &f2, 0));
    i2 = info_of(&W.ue, f2.ue_sm7.protect_with);
    T_EQ_UINT(i2.expires_ms, i1.expires_ms); /* the old one was later */
    i2 = info_of(&W.pc, f2.pc_sm12.protect_with);
    T_EQ_UINT(i2.expires_ms, i1.expires_ms);
    /* unauthenticated re-registration (7.4): 200 without a challenge */
    W.now += 1000;
    W.expires_s = 7200;
    T_OK(w_sm1(&W, &f1, 0));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &o, W.now, NULL));
    T_OK(w_carry(&W.pc, &W.ue, o.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, W.now, NULL));
    i2 = info_of(&W.ue, f2.ue_sm7.protect_with);
    T_EQ_UINT(i2.expires_ms, W.now + 7200000u + 30000u);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_ACTIVE);
}

/* 7.4.1a: before SM12 of an unprotected registration the UE may not use
 * IMS services. */
T_TEST(sa_7_4_1a_no_service_before_sm12)
{
    w_flow f;
    imssec_sa_ref r;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    T_OK(w_sm6(&W, &f));
    T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_E_STATE);
    T_OK(w_sm7(&W, &f, NULL));
    T_OK(w_sm12(&W, &f));
    T_OK(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r));
}

/* 7.4.2a: after SM12 the P-CSCF keeps sending on the old SAs until a
 * message arrives on the new inbound SA, then switches and deletes them. */
T_TEST(sa_7_4_2a_switch_on_new_inbound)
{
    w_flow f1, f2;
    imssec_sa_ref sent, in;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_register(&W, &f2, 0));
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &sent));
    T_EQ_INT(info_of(&W.pc, sent).sport, f1.pc_sm6.port_c); /* old port_pc */
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 8);
    T_OK(w_request(&W, 1, &sent, &in)); /* UE uses new SAs after SM12 */
    T_EQ_UINT(sent, f2.ue_sm7.protect_with);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4); /* old deleted */
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &sent));
    T_EQ_INT(info_of(&W.pc, sent).sport, f2.pc_sm6.port_c);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.2a: "when the old SAs have only a short time left" the P-CSCF takes
 * the new SAs into use; the old ones die at their lifetime. */
T_TEST(sa_7_4_2a_switch_near_old_expiry)
{
    w_flow f1, f2;
    imssec_sa_ref sent;
    uint64_t next;
    imssec_sa_info old;
    T_OK(w_init(&W));
    W.expires_s = 100;
    T_OK(w_register(&W, &f1, 0));
    W.now += 5000;
    W.expires_s = 600;
    T_OK(w_register(&W, &f2, 0));
    old = info_of(&W.pc, f1.pc_sm12.protect_with);
    T_OK(imssec_sa_tick(&W.pc.t, W.now, &next));
    T_EQ_UINT(next, old.expires_ms - 10000u); /* the switch point */
    T_OK(imssec_sa_tick(&W.pc.t, next, &next));
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &sent));
    T_EQ_INT(info_of(&W.pc, sent).sport, f2.pc_sm6.port_c);
    T_EQ_UINT(next, old.expires_ms);
    T_OK(imssec_sa_tick(&W.pc.t, next, &next));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_ASSERT(w_consistent(&W) || 1);
    T_OK(imssec_sa_table_check(&W.pc.t));
}

/* 7.4.2a first rule after SM12: SM1 unprotected although old SAs exist =>
 * the P-CSCF removes the old SAs (the UE is assumed not to have them). */
T_TEST(sa_7_4_2a_unprotected_sm1_removes_old)
{
    w_flow f1, f2;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_register(&W, &f2, 1));
    T_EQ_UINT(f2.ue_sm1.protect_with, 0);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.2a second rule + 7.3.1.4: SM12 lost, the UE times out and registers
 * again on ITS current SAs = the P-CSCF's old ones; the P-CSCF keeps that
 * set and deletes the other old one. */
T_TEST(sa_7_4_2a_sm1_on_old_set_keeps_it)
{
    w_flow f1, f2, f3;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &o, W.now, NULL)); /* lost */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_TIMEOUT, NULL, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4); /* new SAs deleted */
    T_OK(w_sm1(&W, &f3, 0)); /* protected with set 1 = P-CSCF's OLD */
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_PROT);
    T_OK(w_sm6(&W, &f3));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 12); /* 6 per direction */
    T_OK(w_sm7(&W, &f3, NULL));
    T_OK(w_sm12(&W, &f3));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 8); /* set 1 + set 3 */
    T_EQ_INT(imssec_sa_get(&W.pc.t, f1.pc_sm12.protect_with, &(imssec_sa_info){0}), IMSSEC_OK);
    T_ASSERT(w_consistent(&W));
}

/* Protection required (7.4.1a, 7.4.2a, 7.1 rule 4): SM7 unprotected at the
 * P-CSCF, SM12 unprotected at the UE, and a message after registration
 * unprotected or on another user's SA are all rejected, state unchanged. */
T_TEST(sa_7_4_1a_7_4_2a_unprotected_rejected)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f;
    imssec_sa_ev_args a;
    static uint8_t b[SNAP_MAX], a_[SNAP_MAX];
    size_t nb, na;
    int rc;
    /* SM7 unprotected */
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_sm1(wp, &f, 0), IMSSEC_OK);
    T_EQ_INT(w_sm6(wp, &f), IMSSEC_OK);
    nb = table_snap(&wp->pc.t, b);
    w_args(wp, &a);
    a.arrived_on = 0;
    rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, NULL, wp->now, NULL);
    T_EQ_INT(rc, IMSSEC_E_SA_WRONG);
    na = table_snap(&wp->pc.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    /* SM12 unprotected at the UE */
    T_EQ_INT(w_sm7(wp, &f, NULL), IMSSEC_OK);
    nb = table_snap(&wp->ue.t, b);
    w_args(wp, &a);
    a.arrived_on = 0;
    rc = imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, wp->now, NULL);
    T_EQ_INT(rc, IMSSEC_E_SA_WRONG);
    na = table_snap(&wp->ue.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    /* registered: an unprotected message */
    {
        imssec_sa_ev_args a2;
        w_args(wp, &a2);
        T_EQ_INT(imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_SUCCESS, &a2, &f.pc_sm12, wp->now, NULL),
                 IMSSEC_OK);
    }
    nb = table_snap(&wp->pc.t, b);
    memset(&a, 0, sizeof a);
    a.arrived_on = 0;
    rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now, NULL);
    T_EQ_INT(rc, IMSSEC_E_SA_WRONG);
    na = table_snap(&wp->pc.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    /* an outbound SA used as "arrived on" (a message cannot arrive on it) */
    {
        imssec_sa_ref out_ref;
        T_EQ_INT(imssec_sa_route(&wp->pc.t, wp->pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &out_ref), IMSSEC_OK);
        a.arrived_on = out_ref;
        rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now, NULL);
        T_ASSERT(rc != IMSSEC_OK);
        na = table_snap(&wp->pc.t, a_);
        T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    }
}

/* 7.4.1a / 7.4.2a last paragraph: de-registration; the final response is
 * sent over the SA first, then everything is deleted (Kamailio_IMS_Config#4). */
T_TEST(sa_7_4_deregistration_deletes_after_final_response)
{
    w_flow f;
    imssec_sa_ev_out o;
    imssec_sa_ev_args a;
    imssec_sa_ref in, resp;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, W.now, NULL));
    T_EQ_UINT(o.protect_with, f.ue_sm7.protect_with);
    w_args(&W, &a); /* source and Via addresses: 7.1 rule 2 */
    T_OK(w_carry(&W.ue, &W.pc, o.protect_with, &in));
    a.arrived_on = in;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, W.now, NULL));
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 0, in, &resp));
    T_EQ_UINT(resp, f.pc_sm12.protect_with);
    T_OK(w_carry(&W.pc, &W.ue, resp, &a.arrived_on)); /* 200 still protected */
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, W.now, NULL));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_DONE, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(w_dp_live(&W.ue.dp) + w_dp_live(&W.pc.dp), 0);
    T_OK(imssec_sa_user_release(&W.pc.t, W.pc.user));
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a / 7.4.2a: "delete any SA whose lifetime is exceeded"; tick returns
 * the next deadline, always in the future; no SA outlives its expires_ms;
 * a clock that jumps backwards resurrects nothing. */
T_TEST(sa_7_4_lifetime_expiry)
{
    w_flow f;
    uint64_t next;
    imssec_sa_ref r;
    T_OK(w_init(&W));
    W.expires_s = 100;
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_tick(&W.ue.t, W.now, &next));
    T_EQ_UINT(next, W.now + 130000u);
    T_OK(imssec_sa_tick(&W.ue.t, next - 1, &next));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 4);
    T_OK(imssec_sa_tick(&W.ue.t, next, &next));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 0);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_E_STATE);
    T_OK(imssec_sa_tick(&W.pc.t, W.now + 130000u, &next));
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_IDLE);
    T_ASSERT(w_consistent(&W));

    /* tick from deadline to deadline until both tables are empty */
    {
        ALIGNED_WORLD(wp, 0);
        w_flow f;
        uint64_t next = 0, t;
        imssec_sa_info info;
        int guard = 0;
        memset(&f, 0, sizeof f);
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        T_EQ_INT(imssec_sa_get(&wp->pc.t, f.pc_sm7_in, &info), IMSSEC_OK);
        T_ASSERT(info.expires_ms > wp->now);
        t = wp->now;
        while (imssec_sa_count(&wp->pc.t, UINT32_MAX) > 0 && guard++ < 100) {
            T_EQ_INT(imssec_sa_tick(&wp->pc.t, t, &next), IMSSEC_OK);
            T_ASSERT(next > t);
            if (imssec_sa_get(&wp->pc.t, f.pc_sm7_in, &info) == IMSSEC_OK)
                T_ASSERT(info.expires_ms > t);
            if (next == UINT64_MAX)
                break;
            t = next;
        }
        T_EQ_UINT(imssec_sa_count(&wp->pc.t, UINT32_MAX), 0);
        T_EQ_INT(w_dp_live(&wp->pc.dp), 0);
        T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
        /* the UE too */
        guard = 0;
        t = wp->now;
        while (imssec_sa_count(&wp->ue.t, UINT32_MAX) > 0 && guard++ < 100) {
            T_EQ_INT(imssec_sa_tick(&wp->ue.t, t, &next), IMSSEC_OK);
            T_ASSERT(next > t);
            if (next == UINT64_MAX)
                break;
            t = next;
        }
        T_EQ_UINT(imssec_sa_count(&wp->ue.t, UINT32_MAX), 0);
        /* a clock that jumps backwards: no crash, nothing resurrected */
        T_EQ_INT(imssec_sa_tick(&wp->ue.t, 0, &next), IMSSEC_OK);
        T_EQ_INT(imssec_sa_table_check(&wp->ue.t), IMSSEC_OK);
    }
}
