/*
 * sa_table_props.c -- sa/ table properties over the public API: callback
 * fault injection, an install failure undoing its step, errors that change
 * nothing (the exhaustive state x event walk, bad arguments, outputs
 * untouched), lookups and stale refs, setup and capacity, wipe.
 */

#include "sa_flow.h"

#include "sa_aligned.h"

/* A scenario exercising every callback: initial registration, traffic,
 * protected re-registration with a pending transaction, port_Uenc
 * learning, switch-over, expiry of the old SAs, keepalives,
 * de-registration.  Returns the first error. */
static int scenario(world *w)
{
    w_flow f1, f2;
    imssec_sa_ref s, in, txn;
    imssec_sa_ev_out o;
    imssec_sa_ev_args a;
    uint64_t next;
    int rc;
    w->nat = IMSSEC_ENABLE_UDPENCAP;
    w->mode = IMSSEC_ENABLE_UDPENCAP ? IMSSEC_MODE_UDP_ENC_TUN : IMSSEC_MODE_TRANS;
    W_TRY(w_register(w, &f1, 0));
    if (IMSSEC_ENABLE_UDPENCAP)
        W_TRY(imssec_sa_learn_uenc(&w->pc.t, f1.pc_sm7_in, 40500));
    W_TRY(w_request(w, 1, &s, &in));
    W_TRY(imssec_sa_route(&w->ue.t, w->ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &txn));
    W_TRY(imssec_sa_txn_begin(&w->ue.t, txn));
    W_TRY(w_register(w, &f2, 0));
    W_TRY(w_request(w, 1, &s, &in));
    W_TRY(w_request(w, 0, &s, &in));
    W_TRY(imssec_sa_txn_end(&w->ue.t, txn, w->now));
    w->now += 25000;
    W_TRY(imssec_sa_tick(&w->ue.t, w->now, &next));
    W_TRY(imssec_sa_tick(&w->pc.t, w->now, &next));
    W_TRY(imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, w->now, NULL));
    w_args(w, &a);
    W_CHAN(w_carry(&w->ue, &w->pc, o.protect_with, &a.arrived_on));
    W_TRY(imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, w->now, NULL));
    W_TRY(imssec_sa_route(&w->pc.t, w->pc.user, IMSSEC_TRANSPORT_UDP, 0, a.arrived_on, &s));
    W_CHAN(w_carry(&w->pc, &w->ue, s, &a.arrived_on));
    W_TRY(imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, w->now, NULL));
    rc = imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_DEREG_DONE, &a, NULL, w->now, NULL);
    return rc;
}

/* Table and data plane consistent after a failed callback: the table's own
 * invariants hold, every SA in the table is in the data plane, and the data
 * plane holds at most the one SA whose remove() failed in addition. */
static int consistent_after_fault(w_side *s)
{
    int i, extra = 0;
    if (imssec_sa_table_check(&s->t) != IMSSEC_OK)
        return 0;
    for (i = 0; i < W_DP_MAX; i++) {
        imssec_sa_info info;
        if (!s->dp.sa[i].live)
            continue;
        if (imssec_sa_get(&s->t, s->dp.sa[i].info.ref, &info) != IMSSEC_OK)
            extra++;
        else if (info.handle != s->dp.sa[i].handle)
            return 0;
    }
    if ((size_t)w_dp_live(&s->dp) - (size_t)extra != imssec_sa_count(&s->t, UINT32_MAX))
        return 0;
    return extra <= 1;
}

/* Fault injection (style-anchors 4.4): rerun a scenario failing its i-th
 * callback, for every i, on each side; every run ends in a clean error
 * (IMSSEC_E_CALLBACK or the peer's resulting verdict) with a consistent
 * table, and an install failure leaves the data plane exactly the table.
 * The same over a registration + re-registration + de-registration: the
 * table stays consistent, the data plane never has fewer SAs than the table
 * and never sees remove() of an SA it does not hold. */
T_TEST(sa_callback_fault_injection)
{
    int side, i, total[2];
    T_EQ_INT(w_init(&W), IMSSEC_OK);
    T_EQ_INT(scenario(&W), IMSSEC_OK);
    total[0] = W.ue.dp.calls;
    total[1] = W.pc.dp.calls;
    T_ASSERT(total[0] > 10 && total[1] > 10);
    for (side = 0; side < 2; side++) {
        for (i = 1; i <= total[side]; i++) {
            w_side *s;
            int rc;
            T_EQ_INT(w_init(&W), IMSSEC_OK);
            s = side ? &W.pc : &W.ue;
            s->dp.fail_at = i;
            rc = scenario(&W);
            if (rc == IMSSEC_OK) {
                t_fail_(__FILE__, __LINE__, "side %d: failing callback %d went unnoticed", side, i);
                return;
            }
            if (!consistent_after_fault(&W.ue) || !consistent_after_fault(&W.pc)) {
                t_fail_(__FILE__, __LINE__, "side %d callback %d: inconsistent (rc %s)", side, i,
                        imssec_errname(rc));
                return;
            }
            s->dp.fail_at = 0;
            imssec_sa_table_wipe(&W.ue.t);
            imssec_sa_table_wipe(&W.pc.t);
        }
    }

    /* the first 39 callbacks of drive(), each failing once */
    {
        int side, i;
        for (side = 0; side < 2; side++)
            for (i = 1; i < 40; i++) {
                ALIGNED_WORLD(wp, 0);
                w_flow f, f2;
                int r;
                memset(&f, 0, sizeof f);
                memset(&f2, 0, sizeof f2);
                T_EQ_INT(w_init(wp), IMSSEC_OK);
                (side ? &wp->pc : &wp->ue)->dp.fail_at = i;
                r = drive(wp, &f, &f2, 9);
                T_ASSERT(r == 9 || r < 0);
                T_EQ_INT(imssec_sa_table_check(&wp->ue.t), IMSSEC_OK);
                T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
                if ((size_t)w_dp_live(&wp->ue.dp) < imssec_sa_count(&wp->ue.t, UINT32_MAX) ||
                    (size_t)w_dp_live(&wp->pc.dp) < imssec_sa_count(&wp->pc.t, UINT32_MAX)) {
                    t_fail_(__FILE__, __LINE__, "fail_at %d on %s: table holds SAs the data plane lacks",
                            i, side ? "P-CSCF" : "UE");
                    return;
                }
                if (wp->ue.dp.remove_unknown || wp->pc.dp.remove_unknown) {
                    t_fail_(__FILE__, __LINE__, "fail_at %d on %s: remove() of an unknown SA", i,
                            side ? "P-CSCF" : "UE");
                    return;
                }
            }
    }
}

/* An install failure undoes the whole step: state and table as before. */
T_TEST(sa_install_failure_undoes_step)
{
    w_flow f;
    imssec_sa_ev_args a;
    int k;
    for (k = 1; k <= 4; k++) {
        T_EQ_INT(w_init(&W), IMSSEC_OK);
        T_EQ_INT(w_sm1(&W, &f, 0), IMSSEC_OK);
        W.pc.dp.fail_at = W.pc.dp.calls + k;
        w_args(&W, &a);
        T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL),
                 IMSSEC_E_CALLBACK);
        T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_REG_UNPROT);
        T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
        T_EQ_INT(w_dp_live(&W.pc.dp), 0);
        T_EQ_INT(imssec_sa_table_check(&W.pc.t), IMSSEC_OK);
        W.pc.dp.fail_at = 0;
        T_EQ_INT(w_sm6(&W, &f), IMSSEC_OK); /* and the retry works */
    }
}

/* Exhaustive (state, event) walk on both machines: whatever an event
 * returns other than OK (and CALLBACK), the table is byte-for-byte the same
 * (snapshot with keys) and no callback ran; E_STATE never changes the state. */
T_TEST(sa_event_errors_change_nothing_walk)
{
    static uint8_t before[SNAP_MAX], after[SNAP_MAX];
    int steps, side, ev, variant, out_reported = 0;
    for (steps = 0; steps <= 9; steps++)
        for (side = 0; side < 2; side++)
            for (ev = 0; ev < IMSSEC_SA_EV_COUNT_; ev++)
                for (variant = 0; variant < 4; variant++) {
                    ALIGNED_WORLD(wp, 0);
                    w_flow f, f2;
                    w_side *sd;
                    imssec_sa_ev_args a;
                    imssec_sa_ev_out out;
                    size_t nb, na;
                    int rc, st0, calls0, r;
                    memset(&f, 0, sizeof f);
                    memset(&f2, 0, sizeof f2);
                    T_EQ_INT(w_init(wp), IMSSEC_OK);
                    r = drive(wp, &f, &f2, steps);
                    T_EQ_INT(r, steps);
                    sd = side ? &wp->pc : &wp->ue;
                    w_args(wp, &a);
                    switch (variant) {
                    case 0: a.arrived_on = 0; break;
                    case 1: /* the latest inbound SA of this side */
                        a.arrived_on = side ? (f2.pc_sm7_in ? f2.pc_sm7_in : f.pc_sm7_in)
                                            : (f2.ue_sm12_in ? f2.ue_sm12_in : f.ue_sm12_in);
                        break;
                    case 2: /* the other side's ref: garbage here */
                        a.arrived_on = side ? f.ue_sm12_in : f.pc_sm7_in;
                        a.arrived_on ^= 0x5a5a0000ull;
                        break;
                    default: /* an older inbound SA */
                        a.arrived_on = side ? f.pc_sm1_in ? f.pc_sm1_in : f.pc_sm7_in
                                            : f.ue_sm6_in ? f.ue_sm6_in : f.ue_sm12_in;
                        a.kind = (uint8_t)(1 + (ev % 5));
                        break;
                    }
                    if (side) {
                        a.peer_spi_c = 0x11111111u + (uint32_t)steps;
                        a.peer_spi_s = 0x22222222u + (uint32_t)steps;
                        a.peer_port_c = (uint16_t)(40000 + steps);
                        a.peer_port_s = (uint16_t)(41000 + steps);
                    } else {
                        a.peer_spi_c = f.pc_sm6.spi_c ? f.pc_sm6.spi_c : 0x33333333u;
                        a.peer_spi_s = f.pc_sm6.spi_s ? f.pc_sm6.spi_s : 0x44444444u;
                        a.peer_port_c = f.pc_sm6.port_c ? f.pc_sm6.port_c : 6100;
                        a.peer_port_s = f.pc_sm6.port_s ? f.pc_sm6.port_s : 6101;
                    }
                    nb = table_snap(&sd->t, before);
                    T_ASSERT(nb > 0);
                    st0 = imssec_sa_state(&sd->t, sd->user);
                    calls0 = sd->dp.calls;
                    memset(&out, 0xA5, sizeof out);
                    rc = imssec_sa_event(&sd->t, sd->user, ev, &a, &out, wp->now, NULL);
                    T_EQ_INT(imssec_sa_table_check(&sd->t), IMSSEC_OK);
                    if (rc == IMSSEC_OK || rc == IMSSEC_E_CALLBACK)
                        continue;
                    {
                        imssec_sa_ev_out oc;
                        memset(&oc, 0xA5, sizeof oc);
                        if (memcmp(&oc, &out, sizeof out) != 0 && !out_reported) {
                            out_reported = 1;
                            t_fail_(__FILE__, __LINE__,
                                    "%s in %s (%s, step %d, variant %d) returned %s but wrote *out",
                                    imssec_sa_event_name(ev), imssec_sa_state_name(st0),
                                    side ? "P-CSCF" : "UE", steps, variant, imssec_errname(rc));
                        }
                    }
                    na = table_snap(&sd->t, after);
                    if (na != nb || memcmp(before, after, nb) != 0 || sd->dp.calls != calls0 ||
                        imssec_sa_state(&sd->t, sd->user) != st0) {
                        t_fail_(__FILE__, __LINE__,
                                "%s in %s (%s, step %d, variant %d) returned %s but changed the "
                                "table (calls %d -> %d, state %d -> %d)",
                                imssec_sa_event_name(ev), imssec_sa_state_name(st0),
                                side ? "P-CSCF" : "UE", steps, variant, imssec_errname(rc), calls0,
                                sd->dp.calls, st0, imssec_sa_state(&sd->t, sd->user));
                        return;
                    }
                }
}

/* Events with out-of-range numbers / indexes: PARAM (or STATE), nothing
 * changed. */
T_TEST(sa_event_bad_args_change_nothing)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f;
    imssec_sa_ev_args a;
    static uint8_t before[SNAP_MAX], after[SNAP_MAX];
    size_t nb, na;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    nb = table_snap(&wp->pc.t, before);
    w_args(wp, &a);
    T_ASSERT(imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_COUNT_, &a, NULL, wp->now, NULL) != IMSSEC_OK);
    T_ASSERT(imssec_sa_event(&wp->pc.t, wp->pc.user, -1, &a, NULL, wp->now, NULL) != IMSSEC_OK);
    T_ASSERT(imssec_sa_event(&wp->pc.t, 12345, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now, NULL) != IMSSEC_OK);
    T_ASSERT(imssec_sa_event(&wp->pc.t, UINT32_MAX, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now, NULL) != IMSSEC_OK);
    na = table_snap(&wp->pc.t, after);
    T_EQ_UINT(na, nb);
    T_EQ_MEM(after, before, nb);
    T_EQ_INT(imssec_sa_state(&wp->pc.t, 99999), -1);
    T_EQ_INT(imssec_sa_user_release(&wp->pc.t, wp->pc.user), IMSSEC_E_STATE);
    T_EQ_INT(imssec_sa_user_release(&wp->pc.t, 99999), IMSSEC_E_PARAM);
}

/* Conventions: outputs untouched on error (lookups, route). */
T_TEST(sa_outputs_untouched_on_error)
{
    ALIGNED_WORLD(wp, 0);
    imssec_sa_ref r = 0x1234567;
    uint32_t u = 0x7654321;
    imssec_sa_info info, c;
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(imssec_sa_find_spi(&wp->pc.t, 4242, &r), IMSSEC_E_NOT_FOUND);
    T_EQ_UINT(r, 0x1234567);
    T_EQ_INT(imssec_sa_route(&wp->pc.t, wp->pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_E_STATE);
    T_EQ_UINT(r, 0x1234567);
    T_EQ_INT(imssec_sa_owner(&wp->pc.t, 99, &u), IMSSEC_E_NOT_FOUND);
    T_EQ_UINT(u, 0x7654321);
    T_EQ_INT(imssec_sa_user_lookup(&wp->pc.t,T_S("nobody", 6), 0, &u), IMSSEC_E_NOT_FOUND);
    T_EQ_UINT(u, 0x7654321);
    memset(&info, 0xA5, sizeof info);
    memcpy(&c, &info, sizeof info);
    T_EQ_INT(imssec_sa_get(&wp->pc.t, 99, &info), IMSSEC_E_NOT_FOUND);
    T_EQ_MEM(&info, &c, sizeof info);
}

/* Lookups: unknown SPI / ports; stale refs after deletion never match a
 * newer SA in the same slot; after the SAs are gone (IP change) every old
 * ref is NOT_FOUND for get, owner and txn_begin, route is E_STATE, and ref 0
 * and ~0 are never found. */
T_TEST(sa_table_lookups_and_stale_refs)
{
    w_flow f1, f2;
    imssec_sa_ref r;
    imssec_sa_info i;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, 1, &r), IMSSEC_E_NOT_FOUND);
    i = info_of(&W.pc, f1.pc_sm12.protect_with); /* outbound: not found by SPI */
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, i.spi, &r), IMSSEC_E_NOT_FOUND);
    T_OK(w_register(&W, &f2, 1));
    T_EQ_INT(imssec_sa_get(&W.pc.t, f1.pc_sm12.protect_with, &i), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_txn_begin(&W.pc.t, f1.pc_sm12.protect_with), IMSSEC_E_NOT_FOUND);
    T_ASSERT(imssec_sa_user_lookup(&W.pc.t,T_S("", 0), 1, &W.pc.user) == IMSSEC_E_RANGE);

    /* every old ref after an IP change */
    {
        ALIGNED_WORLD(wp, 0);
        w_flow f, f2;
        imssec_sa_ev_args a;
        imssec_sa_info info;
        imssec_sa_ref r;
        uint32_t owner;
        memset(&f, 0, sizeof f);
        memset(&f2, 0, sizeof f2);
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        w_args(wp, &a);
        T_EQ_INT(imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_IP_CHANGE, &a, NULL, wp->now, NULL),
                 IMSSEC_OK);
        T_EQ_UINT(imssec_sa_count(&wp->ue.t, UINT32_MAX), 0);
        T_EQ_INT(imssec_sa_get(&wp->ue.t, f.ue_sm12_in, &info), IMSSEC_E_NOT_FOUND);
        T_EQ_INT(imssec_sa_owner(&wp->ue.t, f.ue_sm12_in, &owner), IMSSEC_E_NOT_FOUND);
        T_EQ_INT(imssec_sa_txn_begin(&wp->ue.t, f.ue_sm12_in), IMSSEC_E_NOT_FOUND);
        T_EQ_INT(imssec_sa_route(&wp->ue.t, wp->ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_E_STATE);
        T_EQ_INT(imssec_sa_get(&wp->ue.t, 0, &info), IMSSEC_E_NOT_FOUND);
        T_EQ_INT(imssec_sa_get(&wp->ue.t, ~(imssec_sa_ref)0, &info), IMSSEC_E_NOT_FOUND);
    }
}

/* Setup and capacity errors: too little memory is SPACE, misaligned memory
 * PARAM, a bad port range PARAM, no RNG CALLBACK; table_mem overflow is 0;
 * one user record: the second IMPI is SPACE, lookups without create
 * NOT_FOUND, IMPI length limits RANGE. */
T_TEST(sa_setup_and_capacity)
{
    static uint64_t mem[4096 / 8];
    imssec_sa_table t;
    imssec_sa_config cfg;
    imssec_io io;
    uint32_t u;
    memset(&io, 0, sizeof io);
    io.random = t_io_random;
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    T_EQ_UINT(imssec_sa_table_mem(0, 4), 0);
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, 16, NULL), IMSSEC_E_SPACE);
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, (uint8_t *)mem + 1, 1000, NULL),
             IMSSEC_E_PARAM);
    cfg.port_min = 6000;
    cfg.port_max = 5000;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, sizeof mem, NULL), IMSSEC_E_PARAM);
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    io.random = NULL;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, sizeof mem, NULL), IMSSEC_E_CALLBACK);
    io.random = t_io_random;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, sizeof mem, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_sa_user_lookup(&t,T_S("a", 1), 0, &u), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_user_lookup(&t,T_S("a", 1), 1, &u), IMSSEC_OK);
    T_EQ_INT(imssec_sa_user_lookup(&t,T_S("b", 1), 1, &u), IMSSEC_E_SPACE);
    T_EQ_INT(imssec_sa_event(&t, u, 99, NULL, NULL, 0, NULL), IMSSEC_E_PARAM);
    T_EQ_INT(imssec_sa_event(&t, u, IMSSEC_SA_EV_SUCCESS, NULL, NULL, 0, NULL), IMSSEC_E_STATE);
    T_EQ_STR(imssec_sa_state_name(IMSSEC_SA_ST_AUTH_PROT), "AUTH_PROT");
    T_EQ_STR(imssec_sa_event_name(IMSSEC_SA_EV_CHALLENGE), "CHALLENGE");
    T_EQ_STR(imssec_sa_state_name(99), "?");
    T_EQ_STR(imssec_errname(IMSSEC_E_SA_RULE3), "IMSSEC_E_SA_RULE3");
    imssec_sa_table_wipe(&t);

    /* table_mem overflow; the port range; capacity four users, eight sets */
    {
        imssec_sa_table t;
        imssec_sa_config cfg;
        imssec_sa_callbacks cb;
        imssec_io io;
        static uint64_t mem[4096];
        size_t need;
        memset(&cb, 0, sizeof cb);
        memset(&io, 0, sizeof io);
        io.random = t_io_random;
        cb.install = w_install;
        cb.remove = w_remove;
        cb.update = w_update;
        imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
        need = imssec_sa_table_mem(4, 8);
        T_ASSERT(need > 0 && need <= sizeof mem);
        T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need - 1, NULL), IMSSEC_E_SPACE);
        /* misaligned for any ABI (the records need uint64_t alignment: 8 on
         * most ABIs, 4 on i386, so an offset of 4 is legitimately aligned there) */
        T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, (uint8_t *)mem + 1, need, NULL),
                 IMSSEC_E_PARAM);
        T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need, NULL), IMSSEC_OK);
        T_EQ_UINT(imssec_sa_table_mem(SIZE_MAX / 2, 1), 0);
        T_EQ_UINT(imssec_sa_table_mem(1, SIZE_MAX / 3), 0);
        T_EQ_UINT(imssec_sa_table_mem(SIZE_MAX, SIZE_MAX), 0);
        cfg.port_min = 5060;
        cfg.port_max = 5061;
        T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need, NULL), IMSSEC_E_PARAM);
        imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
        cfg.port_min = 60000;
        cfg.port_max = 50000;
        T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need, NULL), IMSSEC_E_PARAM);
    }

    /* one user record; the IMPI limits */
    {
        w_side *sp = aligned_side();
        imssec_io io;
        uint32_t u;
        char big[IMSSEC_SA_IMPI_MAX + 1];
        memset(&io, 0, sizeof io);
        io.random = t_io_random;
        T_EQ_INT(w_side_setup(sp, IMSSEC_SA_ROLE_PCSCF, &io, 1, 4), IMSSEC_OK);
        T_EQ_INT(imssec_sa_user_lookup(&sp->t,T_S("a", 1), 1, &u), IMSSEC_OK);
        T_EQ_INT(imssec_sa_user_lookup(&sp->t,T_S("b", 1), 1, &u), IMSSEC_E_SPACE);
        T_EQ_INT(imssec_sa_user_lookup(&sp->t,T_S("b", 1), 0, &u), IMSSEC_E_NOT_FOUND);
        T_EQ_INT(imssec_sa_user_lookup(&sp->t,T_S("", 0), 1, &u), IMSSEC_E_RANGE);
        memset(big, 'x', sizeof big);
        T_EQ_INT(imssec_sa_user_lookup(&sp->t,T_S(big, sizeof big), 1, &u), IMSSEC_E_RANGE);
        T_EQ_INT(imssec_sa_user_release(&sp->t, 0), IMSSEC_OK);
        T_EQ_INT(imssec_sa_user_lookup(&sp->t,T_S(big, IMSSEC_SA_IMPI_MAX), 1, &u), IMSSEC_OK);
        T_EQ_INT(imssec_sa_table_check(&sp->t), IMSSEC_OK);
    }
}

/* Table wipe: no key bytes remain in the caller's memory; remove callbacks
 * for every SA. */
T_TEST(sa_table_wipe_keys)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f;
    size_t i;
    const uint8_t *m;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    T_ASSERT(w_dp_live(&wp->pc.dp) > 0);
    imssec_sa_table_wipe(&wp->pc.t);
    T_EQ_INT(w_dp_live(&wp->pc.dp), 0);
    m = (const uint8_t *)wp->pc.mem;
    for (i = 0; i + 8 <= sizeof wp->pc.mem; i++)
        if (memcmp(m + i, wp->ik, 8) == 0 || memcmp(m + i, wp->ck, 8) == 0) {
            t_fail_(__FILE__, __LINE__, "key bytes left at offset %zu after wipe", i);
            return;
        }
    m = (const uint8_t *)&wp->pc.t;
    for (i = 0; i + 8 <= sizeof wp->pc.t; i++)
        T_ASSERT(memcmp(m + i, wp->ik, 8) != 0 && memcmp(m + i, wp->ck, 8) != 0);
}
