/*
 * sa_world.h -- test fixture for the sa/ tests: a UE table and a P-CSCF
 * table talking through an in-memory channel, each with a fake data plane
 * that records the SAs installed through the callbacks.
 *
 * The channel is what a real network does: a message protected with the
 * sender's outbound SA X carries X's SPI and ports; the receiver's data plane
 * finds its inbound SA by that SPI (and the test checks that the lookup by
 * (UE IP, UE port, P-CSCF port) finds the same SA, and that both ends hold
 * the same keys for it).  Included by the sa/ tests only.
 */
#ifndef IMSSEC_SA_WORLD_H
#define IMSSEC_SA_WORLD_H

#include "../../imssec.h"
#include "../t.h"

#if defined(__GNUC__) || defined(__clang__)
#define W_FN static __attribute__((unused))
#else
#define W_FN static
#endif

#define W_DP_MAX 64

typedef struct w_dp_sa {
    int live;
    imssec_sa_info info;
    uint8_t ik[20], ck[24];
    uint64_t handle;
} w_dp_sa;

typedef struct w_dp {
    w_dp_sa sa[W_DP_MAX];
    int installs, removes, updates, keepalives;
    int calls, fail_at; /* fail the fail_at-th callback (1-based), 0 = never */
    int remove_unknown; /* remove() of an SA never installed */
} w_dp;

typedef struct w_side {
    imssec_sa_table t;
    imssec_sa_callbacks cb;
    w_dp dp;
    uint64_t mem[(1 << 14) / 8];
    uint32_t user;
} w_side;

typedef struct world {
    w_side ue, pc;
    imssec_io io;
    imssec_addr ue_ip, pc_ip;
    uint8_t ik[16], ck[16];
    uint64_t now;
    uint8_t alg, ealg, mode, nat;
    uint8_t transport; /* enum imssec_transport of every message (7.1 UDP / TCP case) */
    uint32_t expires_s;
} world;

W_FN int w_fault(w_dp *d)
{
    d->calls++;
    return d->fail_at && d->calls == d->fail_at;
}

W_FN int w_install(void *user, const imssec_sa_info *sa, uint64_t *handle, imssec_errinfo *err)
{
    w_dp *d = (w_dp *)user;
    int i;
    (void)err;
    if (w_fault(d))
        return -1;
    for (i = 0; i < W_DP_MAX; i++) {
        if (!d->sa[i].live) {
            d->sa[i].live = 1;
            d->sa[i].info = *sa;
            memcpy(d->sa[i].ik, sa->ik, sa->ik_len);
            memcpy(d->sa[i].ck, sa->ck, sa->ck_len);
            d->sa[i].info.ik = d->sa[i].ik;
            d->sa[i].info.ck = d->sa[i].ck;
            d->sa[i].handle = 1000u + (uint64_t)i;
            *handle = d->sa[i].handle;
            d->installs++;
            return 0;
        }
    }
    return -1;
}

static w_dp_sa *w_dp_find(w_dp *d, imssec_sa_ref ref)
{
    int i;
    for (i = 0; i < W_DP_MAX; i++)
        if (d->sa[i].live && d->sa[i].info.ref == ref)
            return &d->sa[i];
    return NULL;
}

W_FN int w_remove(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    w_dp *d = (w_dp *)user;
    w_dp_sa *s = w_dp_find(d, sa->ref);
    int fail = w_fault(d);
    (void)err;
    if (!s)
        d->remove_unknown++;
    else if (s->handle != sa->handle)
        d->remove_unknown++;
    if (fail)
        return -1;
    if (s) {
        memset(s, 0, sizeof *s);
        d->removes++;
    }
    return 0;
}

W_FN int w_update(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    w_dp *d = (w_dp *)user;
    w_dp_sa *s = w_dp_find(d, sa->ref);
    (void)err;
    if (w_fault(d))
        return -1;
    if (s) {
        s->info.encap_sport = sa->encap_sport;
        s->info.encap_dport = sa->encap_dport;
    }
    d->updates++;
    return 0;
}

W_FN int w_keepalive(void *user, imssec_str impi)
{
    w_dp *d = (w_dp *)user;
    (void)impi;
    if (w_fault(d))
        return -1;
    d->keepalives++;
    return 0;
}

W_FN int w_dp_live(const w_dp *d)
{
    int i, n = 0;
    for (i = 0; i < W_DP_MAX; i++)
        n += d->sa[i].live;
    return n;
}

W_FN void w_addr4(imssec_addr *a, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3)
{
    memset(a, 0, sizeof *a);
    a->len = 4;
    a->b[0] = a0;
    a->b[1] = a1;
    a->b[2] = a2;
    a->b[3] = a3;
}

W_FN int w_side_setup_opt(w_side *s, int role, unsigned options, const imssec_io *io,
                          size_t users, size_t sets)
{
    imssec_sa_config cfg;
    imssec_sa_config_init(&cfg, role);
    cfg.options = (uint8_t)options;
    memset(&s->dp, 0, sizeof s->dp);
    s->cb.user = &s->dp;
    s->cb.install = w_install;
    s->cb.remove = w_remove;
    s->cb.update = w_update;
    s->cb.keepalive = w_keepalive;
    if (imssec_sa_table_mem(users, sets) > sizeof s->mem)
        return IMSSEC_E_SPACE;
    return imssec_sa_table_setup(&s->t, &cfg, &s->cb, io, users, sets, s->mem, sizeof s->mem, NULL);
}

W_FN int w_side_setup(w_side *s, int role, const imssec_io *io, size_t users, size_t sets)
{
    return w_side_setup_opt(s, role, 0, io, users, sets);
}

static const char w_impi[] = "alice@ims.example.net";

/* Both sides, with IMSSEC_SA_OPT_* for the UE and the P-CSCF table. */
W_FN int w_init_opt(world *w, unsigned ue_options, unsigned pc_options)
{
    int rc;
    memset(w, 0, sizeof *w);
    w->io.random = t_io_random;
    w_addr4(&w->ue_ip, 10, 0, 0, 7);
    w_addr4(&w->pc_ip, 192, 0, 2, 1);
    t_unhex("00112233445566778899aabbccddeeff", w->ik, 16);
    t_unhex("ffeeddccbbaa99887766554433221100", w->ck, 16);
    w->now = 1000;
    w->alg = IMSSEC_ALG_HMAC_SHA1_96;
    w->ealg = IMSSEC_EALG_AES_CBC;
    w->mode = IMSSEC_MODE_TRANS;
    w->expires_s = 600;
    if ((rc = w_side_setup_opt(&w->ue, IMSSEC_SA_ROLE_UE, ue_options, &w->io, 1, 4)) != IMSSEC_OK)
        return rc;
    if ((rc = w_side_setup_opt(&w->pc, IMSSEC_SA_ROLE_PCSCF, pc_options, &w->io, 8, 16)) !=
        IMSSEC_OK)
        return rc;
    if ((rc = imssec_sa_user_lookup(&w->ue.t,T_S(w_impi, strlen(w_impi)), 1, &w->ue.user)) != IMSSEC_OK)
        return rc;
    return imssec_sa_user_lookup(&w->pc.t,T_S(w_impi, strlen(w_impi)), 1, &w->pc.user);
}

W_FN int w_init(world *w)
{
    return w_init_opt(w, 0, 0);
}

/* The channel: a message sent protected with `out` (a ref of the sender's
 * table) arrives at the receiver on the inbound SA with the same SPI.
 * Returns 0 with *in set (0 for unprotected), or -1 if the receiver has no
 * such SA or the two ends disagree about the SA. */
W_FN int w_carry(const w_side *from, const w_side *to, imssec_sa_ref out, imssec_sa_ref *in)
{
    imssec_sa_info so, si;
    imssec_sa_ref by_ports;
    int up;
    *in = 0;
    if (out == 0)
        return 0;
    if (imssec_sa_get(&from->t, out, &so) != IMSSEC_OK || so.inbound)
        return -1;
    if (imssec_sa_find_spi(&to->t, so.spi, in) != IMSSEC_OK)
        return -1;
    if (imssec_sa_get(&to->t, *in, &si) != IMSSEC_OK || !si.inbound)
        return -1;
    up = si.which == IMSSEC_SA_UC_PS || si.which == IMSSEC_SA_US_PC;
    /* both ends agree on the selectors and the keys of this SA */
    if (so.which != si.which || so.sport != si.sport || so.dport != si.dport ||
        so.alg != si.alg || so.ealg != si.ealg || so.mode != si.mode ||
        so.ik_len != si.ik_len || so.ck_len != si.ck_len ||
        memcmp(so.ik, si.ik, so.ik_len) != 0 || (so.ck_len && memcmp(so.ck, si.ck, so.ck_len) != 0))
        return -1;
    /* 7.1 rule 4 / M.7.1 rule 7: the port triple identifies the same SA */
    if (imssec_sa_find_ports(&to->t, up ? &si.src : &si.dst, up ? si.sport : si.dport,
                             up ? si.dport : si.sport, up, &by_ports) != IMSSEC_OK ||
        by_ports != *in)
        return -1;
    return 0;
}

W_FN void w_args(const world *w, imssec_sa_ev_args *a)
{
    memset(a, 0, sizeof *a);
    a->ue_ip = w->ue_ip;
    a->via_ip = w->ue_ip;
    a->pcscf_ip = w->pc_ip;
    a->alg = w->alg;
    a->ealg = w->ealg;
    a->mode = w->mode;
    a->nat = w->nat;
    a->transport = w->transport;
    a->expires_s = w->expires_s;
    memcpy(a->ik, w->ik, 16);
    memcpy(a->ck, w->ck, 16);
}

/* The steps of 7.2 / 6.1.1, each through both machines.  Every helper
 * returns the first non-OK code (or -1000 for a channel inconsistency). */
typedef struct w_flow {
    imssec_sa_ev_out ue_sm1, pc_sm6, ue_sm7, pc_sm12;
    imssec_sa_ref pc_sm1_in, ue_sm6_in, pc_sm7_in, ue_sm12_in;
} w_flow;

#define W_TRY(x)                                                               \
    do {                                                                       \
        int w_rc_ = (x);                                                       \
        if (w_rc_ != IMSSEC_OK)                                                \
            return w_rc_;                                                      \
    } while (0)
#define W_CHAN(x)                                                              \
    do {                                                                       \
        if ((x) != 0)                                                          \
            return -1000;                                                      \
    } while (0)

/* SM1: UE sends REGISTER, P-CSCF receives it. */
W_FN int w_sm1(world *w, w_flow *f, int force_unprot)
{
    imssec_sa_ev_args a;
    w_args(w, &a);
    a.force_unprotected = (uint8_t)force_unprot;
    W_TRY(imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_REG_SEND, &a, &f->ue_sm1, w->now, NULL));
    W_CHAN(w_carry(&w->ue, &w->pc, f->ue_sm1.protect_with, &f->pc_sm1_in));
    w_args(w, &a);
    a.arrived_on = f->pc_sm1_in;
    a.peer_spi_c = f->ue_sm1.spi_c;
    a.peer_spi_s = f->ue_sm1.spi_s;
    a.peer_port_c = f->ue_sm1.port_c;
    a.peer_port_s = f->ue_sm1.port_s;
    return imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_REG_RECV, &a, NULL, w->now, NULL);
}

/* SM4..SM6: P-CSCF forwards the 401 and creates its new SAs; the UE
 * receives it and creates its own. */
W_FN int w_sm6(world *w, w_flow *f)
{
    imssec_sa_ev_args a;
    w_args(w, &a);
    W_TRY(imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &f->pc_sm6, w->now, NULL));
    W_CHAN(w_carry(&w->pc, &w->ue, f->pc_sm6.protect_with, &f->ue_sm6_in));
    w_args(w, &a);
    a.arrived_on = f->ue_sm6_in;
    a.peer_spi_c = f->pc_sm6.spi_c;
    a.peer_spi_s = f->pc_sm6.spi_s;
    a.peer_port_c = f->pc_sm6.port_c;
    a.peer_port_s = f->pc_sm6.port_s;
    return imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_CHALLENGE, &a, &f->ue_sm7, w->now, NULL);
}

/* SM7: the UE's answer on the new outbound SA reaches the P-CSCF. */
W_FN int w_sm7(world *w, w_flow *f, imssec_sa_ev_out *pc_out)
{
    imssec_sa_ev_args a;
    W_CHAN(w_carry(&w->ue, &w->pc, f->ue_sm7.protect_with, &f->pc_sm7_in));
    w_args(w, &a);
    a.arrived_on = f->pc_sm7_in;
    return imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, pc_out, w->now, NULL);
}

/* SM12: the P-CSCF sends 200 OK, the UE receives it. */
W_FN int w_sm12(world *w, w_flow *f)
{
    imssec_sa_ev_args a;
    w_args(w, &a);
    W_TRY(imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_SUCCESS, &a, &f->pc_sm12, w->now, NULL));
    W_CHAN(w_carry(&w->pc, &w->ue, f->pc_sm12.protect_with, &f->ue_sm12_in));
    w_args(w, &a);
    a.arrived_on = f->ue_sm12_in;
    return imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, w->now, NULL);
}

W_FN int w_register(world *w, w_flow *f, int force_unprot)
{
    W_TRY(w_sm1(w, f, force_unprot));
    W_TRY(w_sm6(w, f));
    W_TRY(w_sm7(w, f, NULL));
    return w_sm12(w, f);
}

/* A request from one side to the other on the SA the sender's route picks
 * (txn_ref 0: a new request); the receiver reports MSG_IN.  Returns the
 * receiver's event result. */
W_FN int w_request(world *w, int from_ue, imssec_sa_ref *sent, imssec_sa_ref *arrived)
{
    w_side *from = from_ue ? &w->ue : &w->pc, *to = from_ue ? &w->pc : &w->ue;
    imssec_sa_ev_args a;
    W_TRY(imssec_sa_route(&from->t, from->user, w->transport, 1, 0, sent));
    W_CHAN(w_carry(from, to, *sent, arrived));
    memset(&a, 0, sizeof a);
    a.arrived_on = *arrived;
    a.transport = w->transport;
    a.msg = IMSSEC_SA_MSG_REQUEST;
    return imssec_sa_event(&to->t, to->user, IMSSEC_SA_EV_MSG_IN, &a, NULL, w->now, NULL);
}

/* The response to a request that arrived at `responder` on req_in (a ref of
 * the responder's table): routed with the request's SA as transaction
 * reference, carried, and reported to the requester as MSG_IN with `msg`
 * (IMSSEC_SA_MSG_RESPONSE or _ERROR).  *sent / *arrived: the SAs. */
W_FN int w_response(world *w, int responder_is_ue, imssec_sa_ref req_in, int msg,
                    imssec_sa_ref *sent, imssec_sa_ref *arrived)
{
    w_side *from = responder_is_ue ? &w->ue : &w->pc, *to = responder_is_ue ? &w->pc : &w->ue;
    imssec_sa_ev_args a;
    W_TRY(imssec_sa_route(&from->t, from->user, w->transport, 0, req_in, sent));
    W_CHAN(w_carry(from, to, *sent, arrived));
    memset(&a, 0, sizeof a);
    a.arrived_on = *arrived;
    a.transport = w->transport;
    a.msg = (uint8_t)msg;
    return imssec_sa_event(&to->t, to->user, IMSSEC_SA_EV_MSG_IN, &a, NULL, w->now, NULL);
}

/* Which SA (IMSSEC_SA_*) a ref of side s names, or -1. */
W_FN int w_which(const w_side *s, imssec_sa_ref r)
{
    imssec_sa_info i;
    if (imssec_sa_get(&s->t, r, &i) != IMSSEC_OK)
        return -1;
    return i.which;
}

/* The outbound SA `which` (IMSSEC_SA_*) of the set of r, in side s; 0 if
 * none.  For tests that send a message on an SA the rules do not name: the
 * 7.1 carriers give every outbound SA of a set (requests: UC_PS / PC_US;
 * TCP responses: US_PC / PS_UC). */
W_FN imssec_sa_ref w_sibling(w_side *s, imssec_sa_ref r, int which)
{
    imssec_sa_ref o = 0;
    int req = which == IMSSEC_SA_UC_PS || which == IMSSEC_SA_PC_US;
    if (imssec_sa_route(&s->t, s->user, req ? IMSSEC_TRANSPORT_UDP : IMSSEC_TRANSPORT_TCP, req, r,
                        &o) != IMSSEC_OK)
        return 0;
    return w_which(s, o) == which ? o : 0;
}

/* Both sides consistent, and they agree on the SAs. */
W_FN int w_consistent(world *w)
{
    if (imssec_sa_table_check(&w->ue.t) != IMSSEC_OK)
        return 0;
    if (imssec_sa_table_check(&w->pc.t) != IMSSEC_OK)
        return 0;
    if (w->ue.dp.remove_unknown || w->pc.dp.remove_unknown)
        return 0;
    /* the data planes hold exactly the table's SAs */
    if ((size_t)w_dp_live(&w->ue.dp) != imssec_sa_count(&w->ue.t, UINT32_MAX) ||
        (size_t)w_dp_live(&w->pc.dp) != imssec_sa_count(&w->pc.t, UINT32_MAX))
        return 0;
    return 1;
}

#endif
