/*
 * test_sa_props.c -- sa/: callback fault injection, snapshot / restore,
 * capacity and argument errors.
 */
#include "../imssec.h"
#include "t.h"
#include "sa_world.h"

static world W;

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
    w->mode = IMSSEC_ENABLE_UDPENCAP ? IMSSEC_SA_MODE_UDP_ENC_TUN : IMSSEC_SA_MODE_TRANS;
    W_TRY(w_register(w, &f1, 0));
    if (IMSSEC_ENABLE_UDPENCAP)
        W_TRY(imssec_sa_learn_uenc(&w->pc.t, f1.pc_sm7_in, 40500));
    W_TRY(w_request(w, 1, &s, &in));
    W_TRY(imssec_sa_route(&w->ue.t, w->ue.user, 1, 0, &txn));
    W_TRY(imssec_sa_txn_begin(&w->ue.t, txn));
    W_TRY(w_register(w, &f2, 0));
    W_TRY(w_request(w, 1, &s, &in));
    W_TRY(w_request(w, 0, &s, &in));
    W_TRY(imssec_sa_txn_end(&w->ue.t, txn, w->now));
    w->now += 25000;
    W_TRY(imssec_sa_tick(&w->ue.t, w->now, &next));
    W_TRY(imssec_sa_tick(&w->pc.t, w->now, &next));
    W_TRY(imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, w->now));
    memset(&a, 0, sizeof a);
    W_CHAN(w_carry(&w->ue, &w->pc, o.protect_with, &a.arrived_on));
    W_TRY(imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, w->now));
    W_TRY(imssec_sa_route(&w->pc.t, w->pc.user, 0, a.arrived_on, &s));
    W_CHAN(w_carry(&w->pc, &w->ue, s, &a.arrived_on));
    W_TRY(imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, w->now));
    rc = imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_DEREG_DONE, &a, NULL, w->now);
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

/* Fault injection (style-anchors 4.4): rerun the scenario failing its i-th
 * callback, for every i, on each side; every run ends in a clean error
 * (IMSSEC_E_CALLBACK or the peer's resulting verdict) with a consistent
 * table, and an install failure leaves the data plane exactly the table. */
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
        T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now),
                 IMSSEC_E_CALLBACK);
        T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_REG_UNPROT);
        T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
        T_EQ_INT(w_dp_live(&W.pc.dp), 0);
        T_EQ_INT(imssec_sa_table_check(&W.pc.t), IMSSEC_OK);
        W.pc.dp.fail_at = 0;
        T_EQ_INT(w_sm6(&W, &f), IMSSEC_OK); /* and the retry works */
    }
}

static uint8_t snap[8192], snap2[8192];

/* Snapshot -> P-CSCF restart (fresh table, data plane kept) -> restore ->
 * identical behaviour: same lookups, same routes, same snapshot bytes, and
 * the UE re-registers through the restored table as if nothing happened. */
T_TEST(sa_snapshot_restore_identical)
{
    w_flow f1, f2, f3;
    size_t n, n2;
    imssec_sa_ref r1, r2;
    imssec_sa_info i1, i2;
    imssec_sa_config cfg;
    T_EQ_INT(w_init(&W), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f1, 0), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f2, 0), IMSSEC_OK); /* old + current at the P-CSCF */
    T_EQ_INT(imssec_sa_get(&W.pc.t, f2.pc_sm7_in, &i1), IMSSEC_OK);
    T_EQ_INT(imssec_sa_route(&W.pc.t, W.pc.user, 1, 0, &r1), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap, sizeof snap, &n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap, 10, &n2), IMSSEC_E_SPACE);
    T_EQ_UINT(n2, n);
    /* restart: a new, empty table in the same memory */
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    T_EQ_INT(imssec_sa_table_setup(&W.pc.t, &cfg, &W.pc.cb, &W.io, 8, 16, W.pc.mem,
                                   sizeof W.pc.mem), IMSSEC_OK);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
    T_EQ_INT(imssec_sa_restore(&W.pc.t, snap, n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_table_check(&W.pc.t), IMSSEC_OK);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 8);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, i1.spi, &r2), IMSSEC_OK);
    T_EQ_UINT(r2, f2.pc_sm7_in);
    T_EQ_INT(imssec_sa_get(&W.pc.t, r2, &i2), IMSSEC_OK);
    T_EQ_MEM(i2.ik, i1.ik, i1.ik_len);
    T_EQ_UINT(i2.expires_ms, i1.expires_ms);
    T_EQ_UINT(i2.handle, i1.handle);
    T_EQ_INT(imssec_sa_route(&W.pc.t, W.pc.user, 1, 0, &r2), IMSSEC_OK);
    T_EQ_UINT(r1, r2);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap2, sizeof snap2, &n2), IMSSEC_OK);
    T_EQ_UINT(n2, n);
    T_EQ_MEM(snap2, snap, n);
    /* the UE carries on: traffic, switch-over, re-registration */
    T_EQ_INT(w_request(&W, 1, &r1, &r2), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f3, 0), IMSSEC_OK);
    T_ASSERT(w_consistent(&W));
}

/* Keys only when asked; a keyless restore keeps the records without keys. */
T_TEST(sa_snapshot_without_keys)
{
    w_flow f;
    size_t n, i;
    static world W2;
    imssec_sa_info info;
    T_EQ_INT(w_init(&W), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f, 0), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 0, snap, sizeof snap, &n), IMSSEC_OK);
    for (i = 0; i + 16 <= n; i++) /* neither IK nor CK appears anywhere */
        T_ASSERT(memcmp(snap + i, W.ik, 16) != 0 && memcmp(snap + i, W.ck, 16) != 0);
    T_EQ_INT(w_init(&W2), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_get(&W2.pc.t, f.pc_sm7_in, &info), IMSSEC_OK);
    T_EQ_UINT(info.ik_len, 0);
    T_EQ_UINT(info.ck_len, 0);
    T_EQ_INT(imssec_sa_table_check(&W2.pc.t), IMSSEC_OK);
}

/* Every truncation and every single-bit flip is rejected, and the target
 * table is left as it was. */
T_TEST(sa_snapshot_corrupt_rejected)
{
    w_flow f;
    size_t n, i;
    static world W2;
    uint8_t before[sizeof W2.pc.mem];
    T_EQ_INT(w_init(&W), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f, 0), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap, sizeof snap, &n), IMSSEC_OK);
    T_EQ_INT(w_init(&W2), IMSSEC_OK);
    T_EQ_INT(w_sm1(&W2, &f, 0), IMSSEC_OK);
    memcpy(before, W2.pc.mem, sizeof before);
    for (i = 0; i < n; i++)
        T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, i), IMSSEC_E_SYNTAX);
    for (i = 0; i < n * 8; i += 7) {
        snap[i / 8] ^= (uint8_t)(1u << (i % 8));
        T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, n), IMSSEC_E_SYNTAX);
        snap[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    T_EQ_MEM(W2.pc.mem, before, sizeof before);
    T_EQ_INT(imssec_sa_state(&W2.pc.t, W2.pc.user), IMSSEC_SA_ST_REG_UNPROT);
    /* a UE snapshot does not restore into a P-CSCF table */
    T_EQ_INT(imssec_sa_snapshot(&W.ue.t, 1, snap, sizeof snap, &n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, n), IMSSEC_E_SYNTAX);
}

/* Setup and capacity errors. */
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
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, 16), IMSSEC_E_SPACE);
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, (uint8_t *)mem + 1, 1000),
             IMSSEC_E_PARAM);
    cfg.port_min = 6000;
    cfg.port_max = 5000;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, sizeof mem), IMSSEC_E_PARAM);
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    io.random = NULL;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, sizeof mem), IMSSEC_E_CALLBACK);
    io.random = t_io_random;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 1, 4, mem, sizeof mem), IMSSEC_OK);
    T_EQ_INT(imssec_sa_user_lookup(&t, "a", 1, 0, &u), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_user_lookup(&t, "a", 1, 1, &u), IMSSEC_OK);
    T_EQ_INT(imssec_sa_user_lookup(&t, "b", 1, 1, &u), IMSSEC_E_SPACE);
    T_EQ_INT(imssec_sa_event(&t, u, 99, NULL, NULL, 0), IMSSEC_E_PARAM);
    T_EQ_INT(imssec_sa_event(&t, u, IMSSEC_SA_EV_SUCCESS, NULL, NULL, 0), IMSSEC_E_STATE);
    T_EQ_STR(imssec_sa_state_name(IMSSEC_SA_ST_AUTH_PROT), "AUTH_PROT");
    T_EQ_STR(imssec_sa_event_name(IMSSEC_SA_EV_CHALLENGE), "CHALLENGE");
    T_EQ_STR(imssec_sa_state_name(99), "?");
    T_EQ_STR(imssec_errname(IMSSEC_E_SA_RULE3), "IMSSEC_E_SA_RULE3");
    imssec_sa_table_wipe(&t);
}
