/*
 * wb_sa_fsm.c -- sa/ white-box: the exhaustive (state, event) walk against
 * the transition table sa_rules, and randomised sequences checked against
 * the invariants of 7.1 / 7.4 (six SAs per direction per IMPI, unique SPIs,
 * no SA outlives its lifetime, keys wiped on delete, UE and P-CSCF agree on
 * the current SA after every completed exchange).
 */
#include "sa_world.h"

static world sa_wbW;
static w_side sa_wb_saved;

/* Drive side `role` of the world into state st; 0 if reached. */
static int sa_wb_reach(world *w, int st)
{
    w_flow f;
    imssec_sa_ev_out o;
    imssec_sa_ev_args a;
    if (w_init(w) != IMSSEC_OK)
        return -1;
    switch (st) {
    case IMSSEC_SA_ST_IDLE:
        return 0;
    case IMSSEC_SA_ST_REG_UNPROT:
        return w_sm1(w, &f, 0);
    case IMSSEC_SA_ST_AUTH_UNPROT:
        if (w_sm1(w, &f, 0) || w_sm6(w, &f))
            return -1;
        return w_sm7(w, &f, NULL);
    case IMSSEC_SA_ST_ACTIVE:
        return w_register(w, &f, 0);
    case IMSSEC_SA_ST_REG_PROT:
        if (w_register(w, &f, 0))
            return -1;
        return w_sm1(w, &f, 0);
    case IMSSEC_SA_ST_AUTH_PROT:
        if (w_register(w, &f, 0) || w_sm1(w, &f, 0) || w_sm6(w, &f))
            return -1;
        return w_sm7(w, &f, NULL);
    case IMSSEC_SA_ST_DEREG:
        if (w_register(w, &f, 0))
            return -1;
        if (imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, w->now, NULL))
            return -1;
        w_args(w, &a);
        if (w_carry(&w->ue, &w->pc, o.protect_with, &a.arrived_on))
            return -1;
        return imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, w->now, NULL);
    default:
        return -1;
    }
}

static int sa_wb_side_equal(const w_side *a, const w_side *b)
{
    return memcmp(&a->t, &b->t, sizeof a->t) == 0 && memcmp(a->mem, b->mem, sizeof a->mem) == 0 &&
           memcmp(&a->dp, &b->dp, sizeof a->dp) == 0;
}

/* Argument variants for one event on side s: every arrival (unprotected,
 * each SA of each live set of the user, a forged ref), every kind. */
static size_t sa_wb_variants(const world *w, const w_side *s, int ev, imssec_sa_ev_args *v,
                             size_t cap)
{
    int kinds = (ev == IMSSEC_SA_EV_CHALLENGE_REJECT || ev == IMSSEC_SA_EV_AUTH_RECV ||
                 ev == IMSSEC_SA_EV_FAILURE) ? IMSSEC_SA_KIND_OTHER : 0;
    const imssec_sa_user *u = &s->t.users_[s->user];
    imssec_sa_ref arr[20];
    size_t na = 0, n = 0, i;
    int r, k, wh;
    arr[na++] = 0;
    arr[na++] = ((uint64_t)77 << 32) | 1u; /* forged */
    for (r = 0; r < 4; r++)
        if (u->set_[r])
            for (wh = 0; wh < 4; wh++)
                arr[na++] = sa_ref_make(&s->t, u->set_[r] - 1, wh);
    for (i = 0; i < na; i++) {
        for (k = 0; k <= kinds; k++) {
            imssec_sa_ev_args *a;
            if (n + 2 > cap)
                return n;
            a = &v[n++];
            w_args(w, a);
            a->arrived_on = arr[i];
            a->kind = (uint8_t)k;
            a->peer_spi_c = 70001;
            a->peer_spi_s = 70002;
            a->peer_port_c = 40123;
            a->peer_port_s = u->set_[SA_R_CUR] ? s->t.sets_[u->set_[SA_R_CUR] - 1].port_us_ : 40124;
            if (s->t.cfg_.role == IMSSEC_SA_ROLE_UE) {
                a->peer_port_s = 40124; /* the P-CSCF's port_ps from SM6 */
                a->peer_port_c = 40125;
            }
            v[n] = *a;
            v[n].force_unprotected = 1;
            n++;
        }
    }
    return n;
}

static int sa_wb_walk_role(int role, unsigned *hits, unsigned *pairs)
{
    static imssec_sa_ev_args v[256];
    int st, ev;
    for (st = 0; st < IMSSEC_SA_ST_COUNT_; st++) {
        w_side *s;
        if (sa_wb_reach(&sa_wbW, st) != IMSSEC_OK)
            return 1000 + st;
        s = role == IMSSEC_SA_ROLE_UE ? &sa_wbW.ue : &sa_wbW.pc;
        if (imssec_sa_state(&s->t, s->user) != st)
            return 2000 + st;
        sa_wb_saved = *s;
        for (ev = 0; ev < IMSSEC_SA_EV_COUNT_; ev++) {
            const sa_rule *rule = sa_rule_find(role, st, ev);
            size_t nv = sa_wb_variants(&sa_wbW, s, ev, v, ISC_ARRAY_LEN(v)), i;
            (*pairs)++;
            for (i = 0; i < nv; i++) {
                imssec_sa_ev_out o;
                int rc;
                *s = sa_wb_saved;
                rc = imssec_sa_event(&s->t, s->user, ev, &v[i], &o, sa_wbW.now, NULL);
                if (!rule) {
                    if (rc != IMSSEC_E_STATE || !sa_wb_side_equal(s, &sa_wb_saved))
                        return 3000 + st * 100 + ev;
                    continue;
                }
                if (rc == IMSSEC_E_STATE)
                    return 4000 + st * 100 + ev; /* a row exists: never a state error */
                if (rc != IMSSEC_OK) {
                    if (!sa_wb_side_equal(s, &sa_wb_saved)) /* verdicts change nothing */
                        return 5000 + st * 100 + ev;
                    continue;
                }
                if (!(rule->to & SA_B(o.state)) || o.state != s->t.users_[s->user].state_)
                    return 6000 + st * 100 + ev;
                if (imssec_sa_table_check(&s->t) != IMSSEC_OK)
                    return 7000 + st * 100 + ev;
                hits[rule - sa_rules] = 1;
            }
        }
        *s = sa_wb_saved;
    }
    return 0;
}

/* Every (state, event) pair of both roles: the documented transition or
 * IMSSEC_E_STATE with the table byte-for-byte unchanged; verdict errors
 * also change nothing; every row of sa_rules is taken at least once. */
T_TEST(sa_wb_exhaustive_state_event_walk)
{
    unsigned hits[ISC_ARRAY_LEN(sa_rules)], pairs = 0;
    size_t i;
    memset(hits, 0, sizeof hits);
    T_EQ_INT(sa_wb_walk_role(IMSSEC_SA_ROLE_UE, hits, &pairs), 0);
    T_EQ_INT(sa_wb_walk_role(IMSSEC_SA_ROLE_PCSCF, hits, &pairs), 0);
    T_EQ_UINT(pairs, 2u * IMSSEC_SA_ST_COUNT_ * IMSSEC_SA_EV_COUNT_);
    for (i = 0; i < ISC_ARRAY_LEN(sa_rules); i++) {
        if (!hits[i]) {
            t_fail_(__FILE__, __LINE__, "rule %u (%s states 0x%02x %s) never taken", (unsigned)i,
                    sa_rules[i].role ? "P-CSCF" : "UE", (unsigned)sa_rules[i].from,
                    sa_event_names[sa_rules[i].event]);
            return;
        }
    }
}

/* Free set records hold no key material (wiped on delete). */
static int sa_wb_free_sets_wiped(const imssec_sa_table *t)
{
    uint32_t i;
    for (i = 0; i < t->set_cap_; i++) {
        const imssec_sa_set *s = &t->sets_[i];
        size_t k;
        if (s->used_)
            continue;
        for (k = 0; k < sizeof s->ik_; k++)
            if (s->ik_[k])
                return 0;
        for (k = 0; k < sizeof s->ck_; k++)
            if (s->ck_[k])
                return 0;
        if (s->spi_[0] || s->expires_ms_)
            return 0;
    }
    return 1;
}

static int sa_wb_no_overdue(const imssec_sa_table *t, uint64_t now)
{
    uint32_t i;
    for (i = 0; i < t->set_cap_; i++)
        if (t->sets_[i].used_ && t->sets_[i].expires_ms_ <= now)
            return 0;
    return 1;
}

/* Both ACTIVE after a completed exchange: the UE's current set is the
 * P-CSCF's current set (same four SPIs). */
static int sa_wb_agree(const world *w)
{
    const imssec_sa_user *ue = &w->ue.t.users_[w->ue.user], *pc = &w->pc.t.users_[w->pc.user];
    const imssec_sa_set *a, *b;
    if (!ue->set_[SA_R_CUR] || !pc->set_[SA_R_CUR])
        return 0;
    a = &w->ue.t.sets_[ue->set_[SA_R_CUR] - 1];
    b = &w->pc.t.sets_[pc->set_[SA_R_CUR] - 1];
    return memcmp(a->spi_, b->spi_, sizeof a->spi_) == 0 && a->port_uc_ == b->port_uc_ &&
           a->port_pc_ == b->port_pc_;
}

/* Randomised sequences: registrations, re-registrations with and without
 * protection, lost messages, failures of every kind, timeouts, transactions,
 * traffic both ways, clock jumps and IP changes. */
T_TEST(sa_wb_random_sequences_keep_invariants)
{
    int run, step;
    for (run = 0; run < 40; run++) {
        world *w = &sa_wbW;
        w_flow f;
        imssec_sa_ref open_txn[8];
        int n_txn = 0;
        static imssec_sa_impu impu_ue[4], impu_pc[4];
        static const char *const impus[3] = {"sip:a@x", "tel:+1", "sip:b@x"};
        T_EQ_INT(w_init(w), IMSSEC_OK);
        T_EQ_INT(imssec_sa_impu_attach(&w->ue.t, impu_ue, 4, 2), IMSSEC_OK);
        T_EQ_INT(imssec_sa_impu_attach(&w->pc.t, impu_pc, 4, 2), IMSSEC_OK);
        /* steps run in random order, so a step may read refs that an
         * earlier (failed) step never wrote: start from "no SA" */
        memset(&f, 0, sizeof f);
        w->mode = (t_rand64() & 3) == 0 ? IMSSEC_MODE_UDP_ENC_TUN : IMSSEC_MODE_TRANS;
        w->nat = w->mode == IMSSEC_MODE_UDP_ENC_TUN;
        for (step = 0; step < 60; step++) {
            int op = (int)(t_rand64() % 16), rc = 0;
            imssec_sa_ev_args a;
            imssec_sa_ev_out o;
            imssec_sa_ref r1, r2;
            uint64_t next;
            w->expires_s = (uint32_t)(30 + t_rand64() % 600);
            memset(&a, 0, sizeof a);
            switch (op) {
            case 0:
            case 1:
                rc = w_register(w, &f, (int)(t_rand64() & 1));
                if (rc == IMSSEC_OK) {
                    T_ASSERT(sa_wb_agree(w));
                    T_EQ_INT(imssec_sa_state(&w->ue.t, w->ue.user), IMSSEC_SA_ST_ACTIVE);
                    T_EQ_INT(imssec_sa_state(&w->pc.t, w->pc.user), IMSSEC_SA_ST_ACTIVE);
                }
                break;
            case 2:
                (void)w_sm1(w, &f, (int)(t_rand64() & 1));
                break;
            case 3:
                (void)w_sm6(w, &f);
                break;
            case 4:
                (void)w_sm7(w, &f, NULL);
                break;
            case 5:
                (void)w_sm12(w, &f);
                break;
            case 6: /* a failure response from the P-CSCF */
                w_args(w, &a);
                a.kind = (uint8_t)(1 + t_rand64() % 5);
                if (imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, w->now, NULL) ==
                        IMSSEC_OK &&
                    w_carry(&w->pc, &w->ue, o.protect_with, &a.arrived_on) == 0)
                    (void)imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL,
                                          w->now, NULL);
                break;
            case 7: /* the UE cannot accept SM6 */
                a.kind = (uint8_t)(1 + t_rand64() % 3);
                a.arrived_on = f.ue_sm6_in;
                if (imssec_sa_event(&w->ue.t, w->ue.user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o,
                                    w->now, NULL) == IMSSEC_OK &&
                    a.kind != IMSSEC_SA_KIND_PROPOSAL &&
                    w_carry(&w->ue, &w->pc, o.protect_with, &a.arrived_on) == 0) {
                    w_args(w, &a);
                    a.kind = IMSSEC_SA_KIND_SYNC;
                    a.arrived_on = f.pc_sm1_in;
                    (void)imssec_sa_event(&w->pc.t, w->pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, NULL,
                                          w->now, NULL);
                }
                break;
            case 8:
                (void)imssec_sa_event(t_rand64() & 1 ? &w->ue.t : &w->pc.t, 0,
                                      IMSSEC_SA_EV_TIMEOUT, NULL, NULL, w->now, NULL);
                break;
            case 9: /* traffic */
                if (w_request(w, (int)(t_rand64() & 1), &r1, &r2) == IMSSEC_OK && n_txn < 8 &&
                    (t_rand64() & 1)) {
                    if (imssec_sa_txn_begin(&w->ue.t, r2) == IMSSEC_OK ||
                        imssec_sa_txn_begin(&w->pc.t, r2) == IMSSEC_OK)
                        open_txn[n_txn++] = r2;
                }
                break;
            case 10:
                if (n_txn) {
                    n_txn--;
                    (void)imssec_sa_txn_end(&w->ue.t, open_txn[n_txn], w->now);
                    (void)imssec_sa_txn_end(&w->pc.t, open_txn[n_txn], w->now);
                }
                break;
            case 11: /* clock: small step or a jump */
                w->now += (t_rand64() & 3) ? t_rand64() % 20000 : t_rand64() % 2000000;
                T_EQ_INT(imssec_sa_tick(&w->ue.t, w->now, &next), IMSSEC_OK);
                T_EQ_INT(imssec_sa_tick(&w->pc.t, w->now, &next), IMSSEC_OK);
                T_ASSERT(next > w->now);
                T_ASSERT(sa_wb_no_overdue(&w->ue.t, w->now));
                T_ASSERT(sa_wb_no_overdue(&w->pc.t, w->now));
                break;
            case 12:
                (void)imssec_sa_event(&w->ue.t, 0, IMSSEC_SA_EV_IP_CHANGE, NULL, NULL, w->now, NULL);
                w->ue_ip.b[3]++;
                break;
            case 13: /* the network ends the registration (7.4.1a, 7.4.2a) */
                if (imssec_sa_event(t_rand64() & 1 ? &w->ue.t : &w->pc.t, 0, IMSSEC_SA_EV_NET_DEREG,
                                    NULL, NULL, w->now, NULL) == IMSSEC_OK)
                    T_ASSERT(imssec_sa_count(&w->ue.t, 0) == 0 || imssec_sa_count(&w->pc.t, 0) == 0);
                break;
            case 14: { /* an IMPU registered or de-registered (7.1 rule 1, 7.4) */
                imssec_sa_table *t = t_rand64() & 1 ? &w->ue.t : &w->pc.t;
                imssec_str s = imssec_cstr(impus[t_rand64() % 3]);
                size_t before = imssec_sa_impu_count(t, 0);
                if (t_rand64() & 1) {
                    rc = imssec_sa_impu_add(t, 0, s);
                    T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_STATE || rc == IMSSEC_E_SPACE);
                } else if (imssec_sa_impu_remove(t, 0, s, w->now, NULL) == IMSSEC_OK &&
                           before == 1) {
                    T_EQ_INT(imssec_sa_state(t, 0), IMSSEC_SA_ST_IDLE); /* the last one */
                }
                break;
            }
            default: /* de-registration */
                w_args(w, &a);
                if (imssec_sa_event(&w->ue.t, 0, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, w->now, NULL) ==
                        IMSSEC_OK &&
                    w_carry(&w->ue, &w->pc, o.protect_with, &a.arrived_on) == 0 &&
                    imssec_sa_event(&w->pc.t, 0, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, w->now, NULL) ==
                        IMSSEC_OK &&
                    imssec_sa_route(&w->pc.t, 0, IMSSEC_TRANSPORT_UDP, 0, a.arrived_on, &r1) == IMSSEC_OK &&
                    w_carry(&w->pc, &w->ue, r1, &a.arrived_on) == 0 &&
                    imssec_sa_event(&w->pc.t, 0, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, w->now, NULL) ==
                        IMSSEC_OK) {
                    T_EQ_INT(imssec_sa_event(&w->ue.t, 0, IMSSEC_SA_EV_DEREG_DONE, &a, NULL,
                                             w->now, NULL), IMSSEC_OK);
                    T_EQ_UINT(imssec_sa_count(&w->ue.t, UINT32_MAX) +
                                  imssec_sa_count(&w->pc.t, UINT32_MAX), 0);
                }
                break;
            }
            (void)rc;
            T_EQ_INT(imssec_sa_table_check(&w->ue.t), IMSSEC_OK);
            T_EQ_INT(imssec_sa_table_check(&w->pc.t), IMSSEC_OK);
            T_ASSERT(imssec_sa_count(&w->pc.t, w->pc.user) <= 12); /* 6 per direction */
            T_ASSERT(sa_wb_free_sets_wiped(&w->ue.t));
            T_ASSERT(sa_wb_free_sets_wiped(&w->pc.t));
            T_ASSERT(w_consistent(w));
        }
    }
}

/* The keys a set stores are Annex I's, from its one implementation
 * (imssec_esp_keys, tested against hand-worked vectors in
 * esp/esp_annex_i_keys.c): what a data plane is handed is exactly that. */
T_TEST(sa_wb_annex_i_keys_from_esp_keys)
{
    world w;
    w_flow f;
    imssec_sa_info info;
    uint8_t ik[IMSSEC_ESP_AUTH_KEY_MAX], ck[IMSSEC_ESP_ENC_KEY_MAX];
    size_t ikl = 0, ckl = 0;
    imssec_sa_ref r;
    T_EQ_INT(w_init(&w), IMSSEC_OK);
    w.alg = IMSSEC_ALG_HMAC_MD5_96;
    w.ealg = IMSSEC_ENABLE_3DES ? IMSSEC_EALG_DES_EDE3_CBC : IMSSEC_EALG_AES_CBC;
    if (!IMSSEC_ENABLE_HMAC_MD5)
        w.alg = IMSSEC_ALG_HMAC_SHA1_96;
    T_EQ_INT(w_register(&w, &f, 0), 0);
    T_EQ_INT(imssec_sa_route(&w.ue.t, w.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_OK);
    T_EQ_INT(imssec_sa_get(&w.ue.t, r, &info), IMSSEC_OK);
    T_EQ_INT(imssec_esp_keys(w.alg, w.ealg, w.ik, w.ck, ik, &ikl, ck, &ckl), IMSSEC_OK);
    T_EQ_UINT(info.ik_len, ikl);
    T_EQ_UINT(info.ck_len, ckl);
    T_EQ_MEM(info.ik, ik, ikl);
    T_EQ_MEM(info.ck, ck, ckl);
}

/* Backward-shift deletion keeps every remaining key reachable, including
 * across the wrap of the slot array (checked by imssec_sa_table_check). */
T_TEST(sa_wb_index_churn)
{
    static uint64_t mem[(1 << 16) / 8];
    imssec_sa_table t;
    imssec_sa_config cfg;
    imssec_io io;
    uint32_t users[40];
    int round, i;
    memset(&io, 0, sizeof io);
    io.random = t_io_random;
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 40, 64, mem, sizeof mem, NULL), IMSSEC_OK);
    for (round = 0; round < 30; round++) {
        for (i = 0; i < 40; i++) {
            char name[16];
            imssec_sa_ev_args a;
            int n = sprintf(name, "u%d", i);
            T_EQ_INT(imssec_sa_user_lookup(&t,T_S(name, (size_t)n), 1, &users[i]), IMSSEC_OK);
            if (t.users_[users[i]].state_ != IMSSEC_SA_ST_IDLE || (t_rand64() & 1))
                continue;
            memset(&a, 0, sizeof a);
            w_addr4(&a.ue_ip, 10, 1, (uint8_t)round, (uint8_t)i);
            a.via_ip = a.ue_ip;
            w_addr4(&a.pcscf_ip, 10, 9, 9, 9);
            a.peer_spi_c = 1000 + (uint32_t)i;
            a.peer_spi_s = 2000 + (uint32_t)i;
            a.peer_port_c = 40000;
            a.peer_port_s = 40001;
            a.alg = IMSSEC_ALG_HMAC_SHA1_96;
            if (imssec_sa_event(&t, users[i], IMSSEC_SA_EV_REG_RECV, &a, NULL, 0, NULL) == IMSSEC_OK)
                (void)imssec_sa_event(&t, users[i], IMSSEC_SA_EV_CHALLENGE, &a, NULL, 0, NULL);
        }
        for (i = 0; i < 40; i++)
            if (t_rand64() % 3 == 0)
                (void)imssec_sa_event(&t, users[i], IMSSEC_SA_EV_TIMEOUT, NULL, NULL, 0, NULL);
        T_EQ_INT(imssec_sa_table_check(&t), IMSSEC_OK);
        for (i = 0; i < 40; i++)
            if (t.users_[users[i]].state_ == IMSSEC_SA_ST_IDLE && (t_rand64() & 1))
                T_EQ_INT(imssec_sa_user_release(&t, users[i]), IMSSEC_OK);
        T_EQ_INT(imssec_sa_table_check(&t), IMSSEC_OK);
    }
    imssec_sa_table_wipe(&t);
}
