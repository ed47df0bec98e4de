/*
 * sa_flow.h -- the world of one sa/ flow test file (a UE table and a
 * P-CSCF table, sa_world.h) and its accessors.  Each file including this
 * has its own W.
 */
#ifndef IMSSEC_TEST_SA_FLOW_H
#define IMSSEC_TEST_SA_FLOW_H

#include "sa_world.h"

static world W;

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

W_FN int ue_state(void)
{
    return imssec_sa_state(&W.ue.t, W.ue.user);
}

W_FN int pc_state(void)
{
    return imssec_sa_state(&W.pc.t, W.pc.user);
}

W_FN imssec_sa_info info_of(const w_side *s, imssec_sa_ref r)
{
    imssec_sa_info i;
    memset(&i, 0, sizeof i);
    (void)imssec_sa_get(&s->t, r, &i);
    return i;
}

#endif
