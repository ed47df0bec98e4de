/*
 * sa_int.h -- the private header of sa/: what its files share.
 *
 * sa/ is one module in several files, in this order (imssec.c includes
 * them so): index.c (hashing, the three indexes, refs, the deadline heap),
 * table.c (set-up, users, sets and their data-plane callbacks), alloc.c
 * (SPIs and ports), rules.c (the TS 33.203 7.1 rules on which SA carries
 * what, and the argument checks), ue.c and pcscf.c (the actions of the two
 * state machines), fsm.c (the transition table and the public event,
 * routing and lookup calls), impu.c (the IMPUs of each user), tick.c (time), snapshot.c, check.c (the
 * invariant check and counts), esp_adapter.c (the built-in data plane),
 * reg_ue.c and reg_pcscf.c (the one-call registration steps).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef IMSSEC_SA_INT_H
#define IMSSEC_SA_INT_H

#include "../imssec.h"

/* The set roles a user owns (the spec's vocabulary, 7.4.1a / 7.4.2a):
 *   CUR  the SAs of the latest successful authentication
 *   OLD  the previous ones, kept for pending transactions (7.4)
 *   NEW  created by the authentication in progress ("new SAs")
 *   REG  P-CSCF only: new SAs of an incomplete earlier authentication
 *        ("registration SAs", 7.4.2a), deleted when the next new SAs appear
 * At most three are alive at once: 3 sets x 2 SAs = the six SAs per
 * direction of 7.1 rule 3 (M.7.1 NOTE). */
#define SA_R_CUR 0
#define SA_R_OLD 1
#define SA_R_NEW 2
#define SA_R_REG 3
#define SA_R_NONE 0xff

#define SA_F_NEW_SEEN 0x01 /* a further message arrived on CUR's inbound SA */
#define SA_F_SWITCHED 0x02 /* P-CSCF: outbound moved from OLD to CUR (7.4.2a) */

#define SA_MAX_SETS (1u << 24)
#define SA_SPI_DUP_MAX 4 /* peer-chosen SPIs equal to ones in the table */
#define SA_ENCAP_PORT 4500

#define ST(x) IMSSEC_SA_ST_##x
#define EV(x) IMSSEC_SA_EV_##x

enum { SA_IX_SPI = 0, SA_IX_PORT = 1, SA_IX_IMPI = 2 };

/* What a new set is made from. */
typedef struct sa_newset {
    uint8_t alg, ealg, mode;
    imssec_addr ue_ip, pcscf_ip;
    uint16_t port_uc, port_us, port_pc, port_ps;
    uint32_t spi_uc, spi_us, spi_pc, spi_ps;
    const uint8_t *ik, *ck;
    uint64_t expires_ms;
} sa_newset;

/* One event being handled: what every action reads and writes. */
typedef struct sa_ctx {
    imssec_sa_table *t;
    uint32_t ui;
    imssec_sa_user *u;
    int event;
    const imssec_sa_ev_args *a;
    imssec_sa_ev_out *o;
    uint64_t now;
    imssec_errinfo *err;
    int next;       /* the state the action chose */
    int arole;      /* role of the set a->arrived_on belongs to, SA_R_NONE */
    int w;          /* which SA of that set (IMSSEC_SA_*) */
    int prot;       /* the procedure's SM1 was protected (REG_PROT, AUTH_PROT) */
    int dry;        /* check only: the action returns before it changes anything */
} sa_ctx;

/* index.c */
static uint64_t sa_mix(uint64_t x);
static uint64_t sa_hash_bytes(uint64_t seed, const uint8_t *p, size_t n);
static uint64_t sa_hash_spi(const imssec_sa_table *t, uint32_t spi);
static uint64_t sa_hash_port(const imssec_sa_table *t, const imssec_addr *ip, uint16_t port);
static void sa_ix_insert(imssec_sa_table *t, int ix, uint32_t v);
static void sa_ix_remove(imssec_sa_table *t, int ix, uint32_t v);
static int sa_ix_holds(const imssec_sa_table *t, int ix, uint32_t v);
static uint32_t *sa_ix(const imssec_sa_table *t, int ix, uint32_t *mask);
static uint64_t sa_hash_of(const imssec_sa_table *t, int ix, uint32_t v);
static imssec_sa_ref sa_ref_make(const imssec_sa_table *t, uint32_t set, int which);
static uint32_t sa_ref_set(const imssec_sa_table *t, imssec_sa_ref r, int *which);
static void sa_heap_remove(imssec_sa_table *t, uint32_t ui);
static void sa_sched(imssec_sa_table *t, uint32_t ui);
static uint64_t sa_user_due(const imssec_sa_table *t, const imssec_sa_user *u);
static uint32_t sa_keepalive_set(const imssec_sa_user *u);

/* table.c */
static int sa_is_uplink(int which);
static int sa_is_inbound(const imssec_sa_table *t, int which);
static uint16_t sa_ue_port(const imssec_sa_set *s, int which);
static uint16_t sa_pc_port(const imssec_sa_set *s, int which);
static void sa_info_fill(const imssec_sa_table *t, uint32_t set, int which, imssec_sa_info *i);
static void sa_set_delete(imssec_sa_table *t, uint32_t set);
static int sa_set_create(imssec_sa_table *t, uint32_t ui, int role, const sa_newset *n,
                         imssec_errinfo *err);
static void sa_cb_failed(imssec_sa_table *t, int code, const imssec_errinfo *said);
static int sa_cb_result(imssec_sa_table *t, imssec_errinfo *err);
static uint32_t sa_role_set(const imssec_sa_user *u, int role);
static void sa_role_delete(imssec_sa_table *t, imssec_sa_user *u, int role);
static int sa_sets_alive(const imssec_sa_user *u);
static imssec_sa_ref sa_role_ref(const imssec_sa_table *t, const imssec_sa_user *u, int role,
                                 int which);
static int sa_ref_role(const imssec_sa_table *t, uint32_t ui, imssec_sa_ref r, int *which);
static void sa_user_reset(imssec_sa_user *u);
static void sa_user_delete_all(imssec_sa_table *t, imssec_sa_user *u);

/* alloc.c */
static int sa_spi_count(const imssec_sa_table *t, uint32_t spi);
static int sa_spi_alloc(const imssec_sa_table *t, uint32_t peer1, uint32_t peer2, uint32_t other,
                        uint32_t *spi);
static int sa_peer_spi_clash(const imssec_sa_table *t, const imssec_sa_user *u, uint32_t spi);
static int sa_port_used(const imssec_sa_table *t, const imssec_addr *ip, uint16_t port,
                        uint32_t skip_user);
static int sa_port_alloc(const imssec_sa_table *t, const imssec_sa_user *u,
                         const imssec_addr *ue_ip, uint16_t avoid, uint16_t *port);

/* impu.c */
static void sa_impu_clear(imssec_sa_table *t);
static void sa_impu_forget(imssec_sa_table *t, uint32_t ui);
static int sa_impu_insert(imssec_sa_table *t, uint32_t ui, const char *p, size_t n);

/* fsm.c */
static int sa_event_run(imssec_sa_table *t, uint32_t user_idx, int event,
                        const imssec_sa_ev_args *a, imssec_sa_ev_out *out, uint64_t now_ms,
                        int dry, imssec_errinfo *err);

/* rules.c */
static int sa_71_carrier(int sender_is_ue, int is_request, int transport);
static int sa_arrival_ok(const sa_ctx *c, int role, int is_request);
static int sa_wrong(sa_ctx *c, const char *what);
static int sa_fail(sa_ctx *c, int code, const char *param, const char *what, const char *clause);
static int sa_valid_port(uint16_t p);
static int sa_check_newset_args(sa_ctx *c);
static int sa_check_peer_values(sa_ctx *c);
static uint64_t sa_lifetime_after(const imssec_sa_table *t, uint64_t now_ms, uint32_t expires_s);
static void sa_extend(imssec_sa_table *t, imssec_sa_user *u, int role, uint64_t until);
static void sa_retire_old(imssec_sa_table *t, imssec_sa_user *u);
static int sa_state_after_abort(const imssec_sa_user *u);
static int sa_release(sa_ctx *c);
static void sa_promote_new(imssec_sa_table *t, imssec_sa_user *u, uint64_t until, int keep);

#endif /* IMSSEC_SA_INT_H */
