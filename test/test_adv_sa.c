/*
 * test_adv_sa.c -- adversarial tests of the SA table and the UE / P-CSCF
 * state machines (public API only; the fixture of test/sa_world.h).
 */
#include "sa_world.h"

#include <stdint.h>

/* The fixture's w_side.mem is a uint64_t array inside a struct: on i386 it
 * is only 4-byte aligned, and imssec_sa_table_setup() requires 8.  Place
 * worlds so that both tables' memory is 8-byte aligned. */
static world *adv_world(int slot)
{
    static uint64_t buf[3][(sizeof(world) + 15) / 8];
    uintptr_t base = (uintptr_t)buf[slot];
    size_t adj = (size_t)((8 - (base + offsetof(world, ue.mem)) % 8) % 8);
    world *w = (world *)(base + adj);
    if (((uintptr_t)w->pc.mem | (uintptr_t)w->ue.mem) & 7)
        return NULL;
    return w;
}
static w_side *adv_side(void)
{
    static uint64_t buf[(sizeof(w_side) + 15) / 8];
    uintptr_t base = (uintptr_t)buf;
    size_t adj = (size_t)((8 - (base + offsetof(w_side, mem)) % 8) % 8);
    return (w_side *)(base + adj);
}
#define ADV_WORLD(p, slot)                                                     \
    world *p = adv_world(slot);                                                \
    if (!p)                                                                    \
        T_SKIP("cannot align the fixture's table memory on this ABI")

#define SNAP_MAX 16384

static size_t snap(const imssec_sa_table *t, uint8_t *buf)
{
    size_t len = 0;
    if (imssec_sa_snapshot(t, 1, buf, SNAP_MAX, &len) != IMSSEC_OK)
        return 0;
    return len;
}

/* Drive the world through the first `steps` half-steps of a registration,
 * a re-registration and a de-registration.  Returns the step reached. */
static int drive(world *w, w_flow *f, w_flow *f2, int steps)
{
    imssec_sa_ev_args a;
    int s = 0;
#define STEP(x)                                                                \
    do {                                                                       \
        if (s++ >= steps)                                                      \
            return s - 1;                                                      \
        if ((x) != IMSSEC_OK)                                                  \
            return -s;                                                         \
    } while (0)
    STEP(w_sm1(w, f, 0));
    STEP(w_sm6(w, f));
    STEP(w_sm7(w, f, NULL));
    STEP(w_sm12(w, f));
    w->now += 1000;
    STEP(w_sm1(w, f2, 0));
    STEP(w_sm6(w, f2));
    STEP(w_sm7(w, f2, NULL));
    STEP(w_sm12(w, f2));
    w_args(w, &a);
    STEP(imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_DEREG_SEND, &a, NULL, w->now));
#undef STEP
    return s;
}

/* Exhaustive (state, event) walk on both machines: whatever an event
 * returns other than OK (and CALLBACK), the table is byte-for-byte the same
 * (snapshot with keys) and no callback ran; E_STATE never changes the state. */
T_TEST(adv_sa_walk_errors_change_nothing)
{
    static uint8_t before[SNAP_MAX], after[SNAP_MAX];
    int steps, side, ev, variant, out_reported = 0;
    for (steps = 0; steps <= 9; steps++)
        for (side = 0; side < 2; side++)
            for (ev = 0; ev < IMSSEC_SA_EV_COUNT_; ev++)
                for (variant = 0; variant < 4; variant++) {
                    ADV_WORLD(wp, 0);
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
                    nb = snap(&sd->t, before);
                    T_ASSERT(nb > 0);
                    st0 = imssec_sa_state(&sd->t, sd->user);
                    calls0 = sd->dp.calls;
                    memset(&out, 0xA5, sizeof out);
                    rc = imssec_sa_event(&sd->t, sd->user, ev, &a, &out, wp->now);
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
                    na = snap(&sd->t, after);
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
T_TEST(adv_sa_bad_args)
{
    ADV_WORLD(wp, 0);
    w_flow f;
    imssec_sa_ev_args a;
    static uint8_t before[SNAP_MAX], after[SNAP_MAX];
    size_t nb, na;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    nb = snap(&wp->pc.t, before);
    w_args(wp, &a);
    T_ASSERT(imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_COUNT_, &a, NULL, wp->now) != IMSSEC_OK);
    T_ASSERT(imssec_sa_event(&wp->pc.t, wp->pc.user, -1, &a, NULL, wp->now) != IMSSEC_OK);
    T_ASSERT(imssec_sa_event(&wp->pc.t, 12345, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now) != IMSSEC_OK);
    T_ASSERT(imssec_sa_event(&wp->pc.t, UINT32_MAX, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now) != IMSSEC_OK);
    na = snap(&wp->pc.t, after);
    T_EQ_UINT(na, nb);
    T_EQ_MEM(after, before, nb);
    T_EQ_INT(imssec_sa_state(&wp->pc.t, 99999), -1);
    T_EQ_INT(imssec_sa_user_release(&wp->pc.t, wp->pc.user), IMSSEC_E_STATE);
    T_EQ_INT(imssec_sa_user_release(&wp->pc.t, 99999), IMSSEC_E_PARAM);
}

/* Snapshot: SPACE reports the need and writes nothing; restore of the
 * genuine snapshot gives the same snapshot back. */
T_TEST(adv_sa_snapshot_roundtrip)
{
    ADV_WORLD(wp, 0);
    ADV_WORLD(wp2, 1);
    w_flow f;
    static uint8_t s1[SNAP_MAX], s2[SNAP_MAX], can[SNAP_MAX];
    size_t n1, n2, need = 0;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    n1 = snap(&wp->pc.t, s1);
    T_ASSERT(n1 > 0);
    memset(s2, 0xA5, sizeof s2);
    memcpy(can, s2, sizeof s2);
    T_EQ_INT(imssec_sa_snapshot(&wp->pc.t, 1, s2, n1 - 1, &need), IMSSEC_E_SPACE);
    T_EQ_UINT(need, n1);
    T_EQ_MEM(s2, can, sizeof s2);
    T_EQ_INT(w_init(wp2), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&wp2->pc.t, s1, n1), IMSSEC_OK);
    T_EQ_INT(imssec_sa_table_check(&wp2->pc.t), IMSSEC_OK);
    n2 = snap(&wp2->pc.t, s2);
    T_EQ_UINT(n2, n1);
    T_EQ_MEM(s2, s1, n1);
    T_EQ_UINT(imssec_sa_count(&wp2->pc.t, UINT32_MAX), imssec_sa_count(&wp->pc.t, UINT32_MAX));
    /* wrong role: SYNTAX, target unchanged */
    n2 = snap(&wp2->ue.t, s2);
    T_EQ_INT(imssec_sa_restore(&wp2->ue.t, s1, n1), IMSSEC_E_SYNTAX);
    {
        static uint8_t s3[SNAP_MAX];
        size_t n3 = snap(&wp2->ue.t, s3);
        T_EQ_UINT(n3, n2);
        T_EQ_MEM(s3, s2, n2);
    }
}

/* Every single-byte corruption and every truncation of a snapshot is
 * rejected with SYNTAX and leaves the target table unchanged. */
T_TEST(adv_sa_snapshot_corruption)
{
    ADV_WORLD(wp, 0);
    ADV_WORLD(wp2, 1);
    w_flow f;
    static uint8_t s1[SNAP_MAX], bad[SNAP_MAX], t0[SNAP_MAX], t1[SNAP_MAX];
    size_t n1, n0, i;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    n1 = snap(&wp->pc.t, s1);
    T_ASSERT(n1 > 0);
    T_EQ_INT(w_init(wp2), IMSSEC_OK);
    {
        w_flow g;
        memset(&g, 0, sizeof g);
        T_EQ_INT(w_sm1(wp2, &g, 0), IMSSEC_OK); /* the target holds something */
    }
    n0 = snap(&wp2->pc.t, t0);
    for (i = 0; i < n1; i++) {
        int rc;
        memcpy(bad, s1, n1);
        bad[i] ^= (uint8_t)(1u << (i % 8));
        rc = imssec_sa_restore(&wp2->pc.t, bad, n1);
        if (rc != IMSSEC_E_SYNTAX) {
            t_fail_(__FILE__, __LINE__, "byte %zu of %zu corrupted: rc %s", i, n1,
                    imssec_errname(rc));
            return;
        }
    }
    for (i = 0; i < n1; i++) {
        int rc = imssec_sa_restore(&wp2->pc.t, s1, i);
        if (rc != IMSSEC_E_SYNTAX) {
            t_fail_(__FILE__, __LINE__, "truncated to %zu of %zu: rc %s", i, n1, imssec_errname(rc));
            return;
        }
    }
    /* trailing garbage */
    memcpy(bad, s1, n1);
    bad[n1] = 0;
    T_EQ_INT(imssec_sa_restore(&wp2->pc.t, bad, n1 + 1), IMSSEC_E_SYNTAX);
    T_EQ_UINT(snap(&wp2->pc.t, t1), n0);
    T_EQ_MEM(t1, t0, n0);
}

/* Without keys, the snapshot contains neither IK nor CK (nor their ESP
 * expansions); with keys, restore gives the keys back. */
T_TEST(adv_sa_snapshot_keys)
{
    ADV_WORLD(wp, 0);
    ADV_WORLD(wp2, 1);
    w_flow f;
    static uint8_t s[SNAP_MAX];
    size_t n = 0, i;
    imssec_sa_info info;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&wp->pc.t, 0, s, sizeof s, &n), IMSSEC_OK);
    for (i = 0; i + 8 <= n; i++) {
        if (memcmp(s + i, wp->ik, 8) == 0 || memcmp(s + i, wp->ck, 8) == 0 ||
            memcmp(s + i, wp->ik + 8, 8) == 0 || memcmp(s + i, wp->ck + 8, 8) == 0) {
            t_fail_(__FILE__, __LINE__, "key bytes at offset %zu of a keyless snapshot", i);
            return;
        }
    }
    T_EQ_INT(imssec_sa_snapshot(&wp->pc.t, 1, s, sizeof s, &n), IMSSEC_OK);
    T_EQ_INT(w_init(wp2), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&wp2->pc.t, s, n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_get(&wp2->pc.t, f.pc_sm7_in, &info), IMSSEC_OK);
    T_EQ_UINT(info.ik_len, 20);
    T_EQ_MEM(info.ik, wp->ik, 16);
    T_EQ_UINT(info.ck_len, 16);
    T_EQ_MEM(info.ck, wp->ck, 16);
}

/* Restore into a table with smaller capacities: SPACE, unchanged. */
T_TEST(adv_sa_restore_capacity)
{
    ADV_WORLD(wp, 0);
    w_flow f;
    static uint8_t s[SNAP_MAX];
    size_t n, i;
    w_side *smallp = adv_side();
    imssec_io io;
    memset(&f, 0, sizeof f);
    memset(&io, 0, sizeof io);
    io.random = t_io_random;
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    /* three users registered at the P-CSCF */
    for (i = 0; i < 3; i++) {
        char impi[32];
        world *pw = wp;
        int len = snprintf(impi, sizeof impi, "user%u@x", (unsigned)i);
        T_EQ_INT(imssec_sa_user_lookup(&pw->pc.t, impi, (size_t)len, 1, &pw->pc.user), IMSSEC_OK);
        T_EQ_INT(imssec_sa_user_lookup(&pw->ue.t, w_impi, strlen(w_impi), 1, &pw->ue.user),
                 IMSSEC_OK);
        if (i) {
            /* fresh UE side for each user */
            T_EQ_INT(w_side_setup(&pw->ue, IMSSEC_SA_ROLE_UE, &pw->io, 1, 4), IMSSEC_OK);
            T_EQ_INT(imssec_sa_user_lookup(&pw->ue.t, w_impi, strlen(w_impi), 1, &pw->ue.user),
                     IMSSEC_OK);
            pw->ue_ip.b[3] = (uint8_t)(7 + i);
        }
        memset(&f, 0, sizeof f);
        T_EQ_INT(w_register(pw, &f, 0), IMSSEC_OK);
    }
    n = snap(&wp->pc.t, s);
    T_ASSERT(n > 0);
    T_EQ_INT(w_side_setup(smallp, IMSSEC_SA_ROLE_PCSCF, &io, 3, 16), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&smallp->t, s, n), IMSSEC_E_SPACE);
    T_EQ_UINT(imssec_sa_count(&smallp->t, UINT32_MAX), 0);
    T_EQ_INT(w_side_setup(smallp, IMSSEC_SA_ROLE_PCSCF, &io, 8, 2), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&smallp->t, s, n), IMSSEC_E_SPACE);
    /* 4 users (w_init's alice + 3), one set per registered user */
    T_EQ_UINT(imssec_sa_count(&wp->pc.t, UINT32_MAX), 12);
    T_EQ_INT(w_side_setup(smallp, IMSSEC_SA_ROLE_PCSCF, &io, 4, 3), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&smallp->t, s, n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_table_check(&smallp->t), IMSSEC_OK);
}

/* SPIs: unique, never 0..255 (IANA reserved, RFC 4303 2.1), even with an
 * RNG that keeps proposing reserved and duplicate values. */
static int evil_calls;
static int evil_rng(void *u, uint8_t *out, size_t len)
{
    (void)u;
    evil_calls++;
    if (evil_calls % 3 != 0) {
        /* small values and repeats */
        memset(out, 0, len);
        if (len)
            out[len - 1] = (uint8_t)(evil_calls & 7);
        return 0;
    }
    t_randbytes(out, len);
    return 0;
}

T_TEST(adv_sa_spi_unique_evil_rng)
{
    ADV_WORLD(wp, 0);
    w_flow f, f2;
    size_t k;
    uint32_t spis[64];
    size_t ns = 0, i, j;
    memset(&f, 0, sizeof f);
    memset(&f2, 0, sizeof f2);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    wp->io.random = evil_rng;
    evil_calls = 0;
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    wp->now += 1000;
    T_EQ_INT(w_register(wp, &f2, 0), IMSSEC_OK);
    /* collect every SPI of both tables through find_spi on the refs we know */
    {
        imssec_sa_ref refs[8] = {f.ue_sm12_in, f.ue_sm6_in, f.pc_sm7_in, f.pc_sm1_in,
                                 f2.ue_sm12_in, f2.ue_sm6_in, f2.pc_sm7_in, f2.pc_sm1_in};
        for (k = 0; k < 8; k++) {
            imssec_sa_info info;
            const imssec_sa_table *t = (k % 4) < 2 ? &wp->ue.t : &wp->pc.t;
            if (!refs[k] || imssec_sa_get(t, refs[k], &info) != IMSSEC_OK)
                continue;
            spis[ns++] = info.spi;
        }
    }
    for (k = 0; k < 4; k++) {
        spis[ns++] = k < 2 ? (k ? f2.ue_sm1.spi_c : f.ue_sm1.spi_c)
                           : (k == 2 ? f.pc_sm6.spi_c : f2.pc_sm6.spi_c);
        spis[ns++] = k < 2 ? (k ? f2.ue_sm1.spi_s : f.ue_sm1.spi_s)
                           : (k == 2 ? f.pc_sm6.spi_s : f2.pc_sm6.spi_s);
    }
    for (i = 0; i < ns; i++)
        if (spis[i] < 256) {
            t_fail_(__FILE__, __LINE__, "SPI %u allocated (reserved 1..255)", (unsigned)spis[i]);
            return;
        }
    /* the allocated values of one side are pairwise distinct */
    {
        uint32_t alloc[8] = {f.ue_sm1.spi_c, f.ue_sm1.spi_s, f2.ue_sm1.spi_c, f2.ue_sm1.spi_s,
                             f.pc_sm6.spi_c, f.pc_sm6.spi_s, f2.pc_sm6.spi_c, f2.pc_sm6.spi_s};
        for (i = 0; i < 8; i++)
            for (j = i + 1; j < 8; j++)
                if (alloc[i] == alloc[j] && (i < 4) == (j < 4)) {
                    t_fail_(__FILE__, __LINE__, "SPI %u allocated twice", (unsigned)alloc[i]);
                    return;
                }
    }
    T_EQ_INT(imssec_sa_table_check(&wp->ue.t), IMSSEC_OK);
    T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
}

/* An RNG that always fails / always returns zeros: clean errors, no hang. */
static int zero_rng(void *u, uint8_t *out, size_t len)
{
    (void)u;
    memset(out, 0, len);
    return 0;
}
static int zero_after_setup;
static int late_zero_rng(void *u, uint8_t *out, size_t len)
{
    if (zero_after_setup)
        return zero_rng(u, out, len);
    return t_io_random(u, out, len);
}

T_TEST(adv_sa_zero_rng_terminates)
{
    ADV_WORLD(wp, 0);
    w_flow f;
    imssec_sa_ev_args a;
    int rc;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    zero_after_setup = 0;
    wp->io.random = late_zero_rng;
    zero_after_setup = 1;
    w_args(wp, &a);
    rc = imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_REG_SEND, &a, &f.ue_sm1, wp->now);
    /* all-zero random bytes: either a valid allocation (not reserved,
     * ports in range) or a clean error; above all, it returns */
    if (rc == IMSSEC_OK) {
        T_ASSERT(f.ue_sm1.spi_c >= 256 && f.ue_sm1.spi_s >= 256);
        T_ASSERT(f.ue_sm1.spi_c != f.ue_sm1.spi_s);
        T_ASSERT(f.ue_sm1.port_c != f.ue_sm1.port_s);
        T_ASSERT(f.ue_sm1.port_c >= 49152 && f.ue_sm1.port_s >= 49152);
    }
    T_EQ_INT(imssec_sa_table_check(&wp->ue.t), IMSSEC_OK);
}

/* Callback fault injection over a full registration + re-registration on
 * both sides: the i-th callback fails for every i; the failing call
 * returns IMSSEC_E_CALLBACK, the table stays consistent, and the data
 * plane never has fewer SAs than the table. */
T_TEST(adv_sa_callback_faults)
{
    int side, i;
    for (side = 0; side < 2; side++)
        for (i = 1; i < 40; i++) {
            ADV_WORLD(wp, 0);
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

/* Capacity: one user record; the second IMPI is SPACE.  IMPI limits. */
T_TEST(adv_sa_capacity_users)
{
    w_side *sp = adv_side();
    imssec_io io;
    uint32_t u;
    char big[IMSSEC_SA_IMPI_MAX + 1];
    memset(&io, 0, sizeof io);
    io.random = t_io_random;
    T_EQ_INT(w_side_setup(sp, IMSSEC_SA_ROLE_PCSCF, &io, 1, 4), IMSSEC_OK);
    T_EQ_INT(imssec_sa_user_lookup(&sp->t, "a", 1, 1, &u), IMSSEC_OK);
    T_EQ_INT(imssec_sa_user_lookup(&sp->t, "b", 1, 1, &u), IMSSEC_E_SPACE);
    T_EQ_INT(imssec_sa_user_lookup(&sp->t, "b", 1, 0, &u), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_user_lookup(&sp->t, "", 0, 1, &u), IMSSEC_E_RANGE);
    memset(big, 'x', sizeof big);
    T_EQ_INT(imssec_sa_user_lookup(&sp->t, big, sizeof big, 1, &u), IMSSEC_E_RANGE);
    T_EQ_INT(imssec_sa_user_release(&sp->t, 0), IMSSEC_OK);
    T_EQ_INT(imssec_sa_user_lookup(&sp->t, big, IMSSEC_SA_IMPI_MAX, 1, &u), IMSSEC_OK);
    T_EQ_INT(imssec_sa_table_check(&sp->t), IMSSEC_OK);
}

/* Setup: too little memory is SPACE, misaligned memory PARAM; table_mem
 * overflow is 0. */
T_TEST(adv_sa_setup_memory)
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
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need - 1), IMSSEC_E_SPACE);
    /* misaligned for any ABI (the records need uint64_t alignment: 8 on
     * most ABIs, 4 on i386, so an offset of 4 is legitimately aligned there) */
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, (uint8_t *)mem + 1, need),
             IMSSEC_E_PARAM);
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need), IMSSEC_OK);
    T_EQ_UINT(imssec_sa_table_mem(SIZE_MAX / 2, 1), 0);
    T_EQ_UINT(imssec_sa_table_mem(1, SIZE_MAX / 3), 0);
    T_EQ_UINT(imssec_sa_table_mem(SIZE_MAX, SIZE_MAX), 0);
    cfg.port_min = 5060;
    cfg.port_max = 5061;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need), IMSSEC_E_PARAM);
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    cfg.port_min = 60000;
    cfg.port_max = 50000;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, &cb, &io, 4, 8, mem, need), IMSSEC_E_PARAM);
}

/* Stale refs: after de-registration every old ref is NOT_FOUND, and a new
 * registration reusing the slots does not resurrect them. */
T_TEST(adv_sa_stale_refs)
{
    ADV_WORLD(wp, 0);
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
    T_EQ_INT(imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_IP_CHANGE, &a, NULL, wp->now),
             IMSSEC_OK);
    T_EQ_UINT(imssec_sa_count(&wp->ue.t, UINT32_MAX), 0);
    T_EQ_INT(imssec_sa_get(&wp->ue.t, f.ue_sm12_in, &info), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_owner(&wp->ue.t, f.ue_sm12_in, &owner), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_txn_begin(&wp->ue.t, f.ue_sm12_in), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_route(&wp->ue.t, wp->ue.user, 1, 0, &r), IMSSEC_E_STATE);
    T_EQ_INT(imssec_sa_get(&wp->ue.t, 0, &info), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_get(&wp->ue.t, ~(imssec_sa_ref)0, &info), IMSSEC_E_NOT_FOUND);
}

/* No free set for the re-registration: E_SPACE, nothing changed (the old
 * registration keeps working). */
T_TEST(adv_sa_no_free_set)
{
    ADV_WORLD(wp, 0);
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
            T_EQ_INT(imssec_sa_user_lookup(&wp->pc.t, w_impi, strlen(w_impi), 1, &wp->pc.user),
                     IMSSEC_OK);
        } else {
            T_EQ_INT(w_side_setup(&wp->ue, IMSSEC_SA_ROLE_UE, &wp->io, 1, 1), IMSSEC_OK);
            T_EQ_INT(imssec_sa_user_lookup(&wp->ue.t, w_impi, strlen(w_impi), 1, &wp->ue.user),
                     IMSSEC_OK);
        }
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        T_EQ_INT(w_sm1(wp, &f2, 0), IMSSEC_OK);
        sd = side ? &wp->pc : &wp->ue;
        nb = snap(&sd->t, b);
        st = imssec_sa_state(&sd->t, sd->user);
        if (side) {
            w_args(wp, &a);
            rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &f2.pc_sm6, wp->now);
        } else {
            rc = w_sm6(wp, &f2);
        }
        T_EQ_INT(rc, IMSSEC_E_SPACE);
        na = snap(&sd->t, a_);
        T_EQ_UINT(na, nb);
        T_EQ_MEM(a_, b, nb);
        T_EQ_INT(imssec_sa_state(&sd->t, sd->user), st);
        T_EQ_INT(imssec_sa_table_check(&sd->t), IMSSEC_OK);
    }
}

/* Lifetimes (7.4): after the registration expires (plus margin) tick
 * deletes every SA; the next deadline is in the future; no SA outlives its
 * expires_ms. */
T_TEST(adv_sa_tick_expiry)
{
    ADV_WORLD(wp, 0);
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

/* Hostile Security-Client values at the P-CSCF (peer input): SPI 0,
 * reserved SPIs, equal SPIs, port 0, equal ports, the P-CSCF's own ports:
 * never undefined behaviour, and if accepted the table stays consistent. */
T_TEST(adv_sa_hostile_sm1)
{
    static const struct {
        uint32_t spi_c, spi_s;
        uint16_t port_c, port_s;
    } c[] = {
        {0, 0, 0, 0},
        {0, 1000, 5000, 5001},
        {1000, 1000, 5000, 5001},
        {1000, 1001, 5000, 5000},
        {1000, 1001, 0, 5001},
        {1, 2, 5000, 5001},
        {0xffffffffu, 0xfffffffeu, 65535, 65534},
        {1000, 1001, 5060, 5061},
    };
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        ADV_WORLD(wp, 0);
        imssec_sa_ev_args a;
        imssec_sa_ev_out o;
        int rc;
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        w_args(wp, &a);
        a.peer_spi_c = c[i].spi_c;
        a.peer_spi_s = c[i].spi_s;
        a.peer_port_c = c[i].port_c;
        a.peer_port_s = c[i].port_s;
        rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_REG_RECV, &a, NULL, wp->now);
        T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
        if (rc != IMSSEC_OK)
            continue;
        w_args(wp, &a);
        rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &o, wp->now);
        T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
        if (rc == IMSSEC_OK) {
            /* our own SPIs never equal the peer's, never reserved */
            T_ASSERT(o.spi_c >= 256 && o.spi_s >= 256 && o.spi_c != o.spi_s);
            T_ASSERT(o.spi_c != c[i].spi_c && o.spi_c != c[i].spi_s);
            T_ASSERT(o.spi_s != c[i].spi_c && o.spi_s != c[i].spi_s);
        }
        if (c[i].spi_c == 0 || c[i].port_c == 0 || c[i].port_c == c[i].port_s)
            if (rc == IMSSEC_OK)
                t_fail_(__FILE__, __LINE__,
                        "SAs created for spi_c %u spi_s %u port_c %u port_s %u",
                        (unsigned)c[i].spi_c, (unsigned)c[i].spi_s, (unsigned)c[i].port_c,
                        (unsigned)c[i].port_s);
    }
}

/* Protection required (7.4.1a, 7.4.2a, 7.1 rule 4): SM7 unprotected at the
 * P-CSCF, SM12 unprotected at the UE, and a message after registration
 * unprotected or on another user's SA are all rejected, state unchanged. */
T_TEST(adv_sa_unprotected_rejected)
{
    ADV_WORLD(wp, 0);
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
    nb = snap(&wp->pc.t, b);
    w_args(wp, &a);
    a.arrived_on = 0;
    rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, NULL, wp->now);
    T_EQ_INT(rc, IMSSEC_E_SA_WRONG);
    na = snap(&wp->pc.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    /* SM12 unprotected at the UE */
    T_EQ_INT(w_sm7(wp, &f, NULL), IMSSEC_OK);
    nb = snap(&wp->ue.t, b);
    w_args(wp, &a);
    a.arrived_on = 0;
    rc = imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, wp->now);
    T_EQ_INT(rc, IMSSEC_E_SA_WRONG);
    na = snap(&wp->ue.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    /* registered: an unprotected message */
    {
        imssec_sa_ev_args a2;
        w_args(wp, &a2);
        T_EQ_INT(imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_SUCCESS, &a2, &f.pc_sm12, wp->now),
                 IMSSEC_OK);
    }
    nb = snap(&wp->pc.t, b);
    memset(&a, 0, sizeof a);
    a.arrived_on = 0;
    rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now);
    T_EQ_INT(rc, IMSSEC_E_SA_WRONG);
    na = snap(&wp->pc.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    /* an outbound SA used as "arrived on" (a message cannot arrive on it) */
    {
        imssec_sa_ref out_ref;
        T_EQ_INT(imssec_sa_route(&wp->pc.t, wp->pc.user, 1, 0, &out_ref), IMSSEC_OK);
        a.arrived_on = out_ref;
        rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, wp->now);
        T_ASSERT(rc != IMSSEC_OK);
        na = snap(&wp->pc.t, a_);
        T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    }
}

/* Table wipe: no key bytes remain in the caller's memory; remove callbacks
 * for every SA. */
T_TEST(adv_sa_table_wipe_keys)
{
    ADV_WORLD(wp, 0);
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

/* Keys are wiped when SAs are dropped (IP change deletes everything, 7.5). */
T_TEST(adv_sa_keys_wiped_on_delete)
{
    ADV_WORLD(wp, 0);
    w_flow f;
    imssec_sa_ev_args a;
    size_t i;
    const uint8_t *m;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    w_args(wp, &a);
    T_EQ_INT(imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_IP_CHANGE, &a, NULL, wp->now),
             IMSSEC_OK);
    T_EQ_UINT(imssec_sa_count(&wp->ue.t, UINT32_MAX), 0);
    m = (const uint8_t *)wp->ue.mem;
    for (i = 0; i + 8 <= sizeof wp->ue.mem; i++)
        if (memcmp(m + i, wp->ik, 8) == 0 || memcmp(m + i, wp->ck, 8) == 0) {
            t_fail_(__FILE__, __LINE__, "key bytes left at offset %zu after the SAs were deleted",
                    i);
            return;
        }
}

/* learn_uenc on a transport-mode SA is E_STATE (nothing changes); lookups
 * by ports honour the direction. */
T_TEST(adv_sa_learn_uenc_and_ports)
{
    ADV_WORLD(wp, 0);
    w_flow f;
    imssec_sa_info si;
    imssec_sa_ref r;
    static uint8_t b[SNAP_MAX], a_[SNAP_MAX];
    size_t nb, na;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    nb = snap(&wp->pc.t, b);
    T_EQ_INT(imssec_sa_learn_uenc(&wp->pc.t, f.pc_sm7_in, 40000), IMSSEC_E_STATE);
    T_EQ_INT(imssec_sa_learn_uenc(&wp->pc.t, f.pc_sm7_in ^ 0x100000000ull, 40000),
             IMSSEC_E_NOT_FOUND);
    na = snap(&wp->pc.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    T_EQ_INT(wp->pc.dp.updates, 0);
    T_EQ_INT(imssec_sa_get(&wp->pc.t, f.pc_sm7_in, &si), IMSSEC_OK);
    T_EQ_INT(si.inbound, 1);
    T_EQ_INT(imssec_sa_find_ports(&wp->pc.t, &si.src, si.sport, si.dport, 1, &r), IMSSEC_OK);
    T_EQ_UINT(r, f.pc_sm7_in);
    /* the same port pair downlink is the paired SA in the other direction */
    T_EQ_INT(imssec_sa_find_ports(&wp->pc.t, &si.src, si.sport, si.dport, 0, &r), IMSSEC_OK);
    T_ASSERT(r != f.pc_sm7_in);
    {
        imssec_sa_info so;
        T_EQ_INT(imssec_sa_get(&wp->pc.t, r, &so), IMSSEC_OK);
        T_EQ_INT(so.inbound, 0);
        T_EQ_UINT(so.sport, si.dport);
        T_EQ_UINT(so.dport, si.sport);
    }
    T_EQ_INT(imssec_sa_find_ports(&wp->pc.t, &si.src, si.dport, si.sport, 1, &r),
             IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_find_spi(&wp->pc.t, 0, &r), IMSSEC_E_NOT_FOUND);
}

/* Conventions: outputs untouched on error (lookups, route). */
T_TEST(adv_sa_outputs_untouched_on_error)
{
    ADV_WORLD(wp, 0);
    imssec_sa_ref r = 0x1234567;
    uint32_t u = 0x7654321;
    imssec_sa_info info, c;
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(imssec_sa_find_spi(&wp->pc.t, 4242, &r), IMSSEC_E_NOT_FOUND);
    T_EQ_UINT(r, 0x1234567);
    T_EQ_INT(imssec_sa_route(&wp->pc.t, wp->pc.user, 1, 0, &r), IMSSEC_E_STATE);
    T_EQ_UINT(r, 0x1234567);
    T_EQ_INT(imssec_sa_owner(&wp->pc.t, 99, &u), IMSSEC_E_NOT_FOUND);
    T_EQ_UINT(u, 0x7654321);
    T_EQ_INT(imssec_sa_user_lookup(&wp->pc.t, "nobody", 6, 0, &u), IMSSEC_E_NOT_FOUND);
    T_EQ_UINT(u, 0x7654321);
    memset(&info, 0xA5, sizeof info);
    memcpy(&c, &info, sizeof info);
    T_EQ_INT(imssec_sa_get(&wp->pc.t, 99, &info), IMSSEC_E_NOT_FOUND);
    T_EQ_MEM(&info, &c, sizeof info);
}
