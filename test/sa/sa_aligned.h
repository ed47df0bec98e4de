/*
 * sa_aligned.h -- for the sa/ tests that need more than the static world of
 * their file: worlds and sides whose table memory is 8-byte aligned on
 * every ABI, table snapshots (with keys) to show that a step changed
 * nothing, and a driver through registration, re-registration and
 * de-registration.  Public API only; the fixture of sa_world.h.
 */
#ifndef IMSSEC_TEST_SA_ALIGNED_H
#define IMSSEC_TEST_SA_ALIGNED_H

#include "sa_world.h"

#include <stdint.h>

/* The fixture's w_side.mem is a uint64_t array inside a struct: on i386 it
 * is only 4-byte aligned, and imssec_sa_table_setup() requires 8.  Place
 * worlds so that both tables' memory is 8-byte aligned. */
W_FN world *aligned_world(int slot)
{
    static uint64_t buf[3][(sizeof(world) + 15) / 8];
    uintptr_t base = (uintptr_t)buf[slot];
    size_t adj = (size_t)((8 - (base + offsetof(world, ue.mem)) % 8) % 8);
    world *w = (world *)(base + adj);
    if (((uintptr_t)w->pc.mem | (uintptr_t)w->ue.mem) & 7)
        return NULL;
    return w;
}

W_FN w_side *aligned_side(void)
{
    static uint64_t buf[(sizeof(w_side) + 15) / 8];
    uintptr_t base = (uintptr_t)buf;
    size_t adj = (size_t)((8 - (base + offsetof(w_side, mem)) % 8) % 8);
    return (w_side *)(base + adj);
}

#define ALIGNED_WORLD(p, slot)                                                 \
    world *p = aligned_world(slot);                                            \
    if (!p)                                                                    \
        T_SKIP("cannot align the fixture's table memory on this ABI")

#define SNAP_MAX 16384

W_FN size_t table_snap(const imssec_sa_table *t, uint8_t *buf)
{
    size_t len = 0;
    if (imssec_sa_snapshot(t, 1, buf, SNAP_MAX, &len) != IMSSEC_OK)
        return 0;
    return len;
}

/* Drive the world through the first `steps` half-steps of a registration,
 * a re-registration and a de-registration.  Returns the step reached. */
W_FN int drive(world *w, w_flow *f, w_flow *f2, int steps)
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
    STEP(imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_DEREG_SEND, &a, NULL, w->now, NULL));
#undef STEP
    return s;
}

#endif
