/*
 * sa/table.c -- the table itself: configuration, memory layout and set-up,
 * user records (one per IMPI) and set records (four SAs each, one
 * authentication), and the data-plane callbacks that install and remove
 * the SAs of a set.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

static const char *const sa_state_names[] = {"IDLE",        "REG_UNPROT", "REG_PROT",
                                             "AUTH_UNPROT", "AUTH_PROT",  "ACTIVE",
                                             "DEREG"};
static const char *const sa_event_names[] = {
    "REG_SEND", "REG_RECV", "CHALLENGE", "CHALLENGE_REJECT", "AUTH_RECV",
    "SUCCESS",  "FAILURE",  "TIMEOUT",   "MSG_IN",           "IP_CHANGE",
    "DEREG_SEND", "DEREG_RECV", "DEREG_DONE", "NET_DEREG"};
ISC_STATIC_ASSERT(sa_state_names_n, ISC_ARRAY_LEN(sa_state_names) == IMSSEC_SA_ST_COUNT_);
ISC_STATIC_ASSERT(sa_event_names_n, ISC_ARRAY_LEN(sa_event_names) == IMSSEC_SA_EV_COUNT_);
ISC_STATIC_ASSERT(sa_impi_max_fits, IMSSEC_SA_IMPI_MAX >= 1 && IMSSEC_SA_IMPI_MAX <= 255);

static int sa_is_uplink(int which)
{
    return which == IMSSEC_SA_UC_PS || which == IMSSEC_SA_US_PC;
}

static int sa_is_inbound(const imssec_sa_table *t, int which)
{
    return (t->cfg_.role == IMSSEC_SA_ROLE_PCSCF) == sa_is_uplink(which);
}

static void sa_info_fill(const imssec_sa_table *t, uint32_t set, int which, imssec_sa_info *i)
{
    const imssec_sa_set *s = &t->sets_[set];
    const imssec_sa_user *u = &t->users_[s->user_];
    int up = sa_is_uplink(which);
    memset(i, 0, sizeof *i);
    i->ref = sa_ref_make(t, set, which);
    i->which = (uint8_t)which;
    i->inbound = (uint8_t)sa_is_inbound(t, which);
    i->alg = s->alg_;
    i->ealg = s->ealg_;
    i->mode = s->mode_;
    i->src = up ? s->ue_ip_ : s->pcscf_ip_;
    i->dst = up ? s->pcscf_ip_ : s->ue_ip_;
    i->sport = up ? sa_ue_port(s, which) : sa_pc_port(s, which);
    i->dport = up ? sa_pc_port(s, which) : sa_ue_port(s, which);
    i->spi = s->spi_[which];
    if (s->mode_ == IMSSEC_MODE_UDP_ENC_TUN) {
        /* M.7.1: the UE uses 4500 both ways; the P-CSCF talks to port_Uenc */
        if (t->cfg_.role == IMSSEC_SA_ROLE_UE) {
            i->encap_sport = SA_ENCAP_PORT;
            i->encap_dport = SA_ENCAP_PORT;
        } else if (up) {
            i->encap_sport = s->port_uenc_;
            i->encap_dport = SA_ENCAP_PORT;
        } else {
            i->encap_sport = SA_ENCAP_PORT;
            i->encap_dport = s->port_uenc_;
        }
    }
    i->expires_ms = s->expires_ms_;
    i->ik = s->ik_;
    i->ik_len = s->ik_len_;
    i->ck = s->ck_;
    i->ck_len = s->ck_len_;
    i->impi.p = (const char *)u->impi_;
    i->impi.n = u->impi_len_;
    i->handle = s->handle_[which];
}

static void sa_log(const imssec_sa_table *t, const char *what, const imssec_sa_user *u,
                   uint32_t n)
{
#if IMSSEC_ENABLE_LOG
    char buf[160];
    isc_sbuf b;
    if (!t->io_ || !t->io_->log)
        return;
    isc_sb_init(&b, buf, sizeof buf);
    isc_sb_puts(&b, "sa: ");
    isc_sb_puts(&b, what);
    isc_sb_puts(&b, " ");
    isc_sb_putn(&b, (const char *)u->impi_, u->impi_len_);
    isc_sb_puts(&b, " ");
    isc_sb_putu(&b, n);
    isc_log(t->io_, IMSSEC_LOG_DEBUG, &b);
#else
    (void)t;
    (void)what;
    (void)u;
    (void)n;
#endif
}

/* A data-plane callback failed: remember the first failure of this call
 * (its code and what the callback said) for sa_cb_result(). */
static void sa_cb_failed(imssec_sa_table *t, int code, const imssec_errinfo *said)
{
    if (t->cb_err_)
        return;
    t->cb_err_ = code;
    t->cb_info_ = *said;
    t->cb_info_.code = code;
    if (!t->cb_info_.what)
        t->cb_info_.what = "a data-plane callback reported failure";
}

/* Delete a set: data plane, indexes, keys, role slot.  A failing remove
 * callback is recorded (sa_cb_failed) but never stops the deletion. */
static void sa_set_delete(imssec_sa_table *t, uint32_t set)
{
    imssec_sa_set *s = &t->sets_[set];
    imssec_sa_user *u = &t->users_[s->user_];
    int w, r;
    for (w = 0; w < 4; w++) {
        if (t->cb_ && t->cb_->remove) {
            imssec_sa_info info;
            imssec_errinfo said;
            memset(&said, 0, sizeof said);
            sa_info_fill(t, set, w, &info);
            if (t->cb_->remove(t->cb_->user, &info, &said) != 0)
                sa_cb_failed(t, IMSSEC_E_CALLBACK, &said);
            isc_wipe(&info, sizeof info);
        }
    }
    for (w = 0; w < 4; w++) {
        sa_ix_remove(t, SA_IX_SPI, set * 4u + (uint32_t)w + 1u);
        sa_ix_remove(t, SA_IX_PORT, set * 4u + (uint32_t)w + 1u);
    }
    for (r = 0; r < 4; r++)
        if (u->set_[r] == set + 1)
            u->set_[r] = 0;
    sa_log(t, "delete set of", u, s->spi_[0]);
    {
        uint32_t gen = s->gen_ + 1;
        isc_wipe(s, sizeof *s); /* keys included */
        s->gen_ = gen ? gen : 1;
    }
    s->user_ = t->free_set_; /* free-list link */
    t->free_set_ = set + 1;
    t->sets_used_--;
}

/* The result of a step whose deletions may have failed in the data plane;
 * cb_err_ never survives a call, so a refused call changes no byte. */
static int sa_cb_result(imssec_sa_table *t, imssec_errinfo *err)
{
    int rc = t->cb_err_;
    if (rc && err)
        *err = t->cb_info_;
    t->cb_err_ = 0;
    memset(&t->cb_info_, 0, sizeof t->cb_info_);
    return rc;
}

static uint32_t sa_role_set(const imssec_sa_user *u, int role)
{
    return u->set_[role] ? u->set_[role] - 1 : UINT32_MAX;
}

static void sa_role_delete(imssec_sa_table *t, imssec_sa_user *u, int role)
{
    uint32_t s = sa_role_set(u, role);
    if (s != UINT32_MAX)
        sa_set_delete(t, s);
}

static int sa_sets_alive(const imssec_sa_user *u)
{
    int r, n = 0;
    for (r = 0; r < 4; r++)
        n += u->set_[r] != 0;
    return n;
}

/* Create a set in role `role` of user ui and install its four SAs.  On a
 * failing install everything done here is undone. */
static int sa_set_create(imssec_sa_table *t, uint32_t ui, int role, const sa_newset *n,
                         imssec_errinfo *err)
{
    imssec_sa_set *s;
    uint32_t set;
    int w;
    if (t->free_set_ == 0)
        return IMSSEC_E_SPACE;
    set = t->free_set_ - 1;
    s = &t->sets_[set];
    t->free_set_ = s->user_;
    {
        uint32_t gen = s->gen_;
        memset(s, 0, sizeof *s);
        s->gen_ = gen ? gen : 1;
    }
    s->used_ = 1;
    s->user_ = ui;
    s->alg_ = n->alg;
    s->ealg_ = n->ealg;
    s->mode_ = n->mode;
    s->ue_ip_ = n->ue_ip;
    s->pcscf_ip_ = n->pcscf_ip;
    s->port_uc_ = n->port_uc;
    s->port_us_ = n->port_us;
    s->port_pc_ = n->port_pc;
    s->port_ps_ = n->port_ps;
    s->spi_[IMSSEC_SA_UC_PS] = n->spi_ps;
    s->spi_[IMSSEC_SA_US_PC] = n->spi_pc;
    s->spi_[IMSSEC_SA_PC_US] = n->spi_us;
    s->spi_[IMSSEC_SA_PS_UC] = n->spi_uc;
    s->expires_ms_ = n->expires_ms;
    {
        /* Annex I, in its one place (esp/keys.c); the arguments were
         * checked, so it cannot fail */
        size_t ik_len = 0, ck_len = 0;
        (void)imssec_esp_keys(n->alg, n->ealg, n->ik, n->ck, s->ik_, &ik_len, s->ck_, &ck_len);
        s->ik_len_ = (uint8_t)ik_len;
        s->ck_len_ = (uint8_t)ck_len;
    }
    t->sets_used_++;
    for (w = 0; w < 4; w++) {
        sa_ix_insert(t, SA_IX_SPI, set * 4u + (uint32_t)w + 1u);
        sa_ix_insert(t, SA_IX_PORT, set * 4u + (uint32_t)w + 1u);
    }
    t->users_[ui].set_[role] = set + 1;
    if (t->cb_ && t->cb_->install) {
        for (w = 0; w < 4; w++) {
            imssec_sa_info info;
            imssec_errinfo said;
            uint64_t h = 0;
            int rc;
            memset(&said, 0, sizeof said);
            sa_info_fill(t, set, w, &info);
            rc = t->cb_->install(t->cb_->user, &info, &h, &said);
            isc_wipe(&info, sizeof info);
            if (rc != 0) {
                /* undo: the SAs installed so far, then the record (without
                 * calling remove for the ones never installed) */
                const imssec_sa_callbacks *cb = t->cb_;
                imssec_errinfo ignored;
                int k, saved = t->cb_err_;
                imssec_errinfo saved_info = t->cb_info_;
                for (k = 0; k < w; k++) {
                    if (cb->remove) {
                        sa_info_fill(t, set, k, &info);
                        (void)cb->remove(cb->user, &info, &ignored);
                        isc_wipe(&info, sizeof info);
                    }
                }
                t->cb_ = NULL;
                sa_set_delete(t, set);
                t->cb_ = cb;
                t->cb_err_ = saved;
                t->cb_info_ = saved_info;
                /* a full data plane is a resource error, not a failure */
                rc = rc == IMSSEC_E_SPACE ? IMSSEC_E_SPACE : IMSSEC_E_CALLBACK;
                said.code = rc;
                if (!said.what)
                    said.what = rc == IMSSEC_E_SPACE ? "the data plane has no room for the SA"
                                                     : "the data plane refused to install an SA";
                if (err)
                    *err = said;
                return rc;
            }
            s->handle_[w] = h;
        }
    }
    sa_log(t, "new set of", &t->users_[ui], n->spi_ps);
    return IMSSEC_OK;
}

/* ===========================================================================
 * Public: configuration, setup, users
 * ======================================================================== */
IMSSEC_API void imssec_sa_config_init(imssec_sa_config *cfg, int role)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->role = (uint8_t)(role == IMSSEC_SA_ROLE_PCSCF ? IMSSEC_SA_ROLE_PCSCF : IMSSEC_SA_ROLE_UE);
    cfg->port_min = 49152;
    cfg->port_max = 65535;
    cfg->pcscf_port_ps = 0;
    cfg->reg_lifetime_ms = 32000; /* 64*T1: a REGISTER transaction's timeout */
    cfg->margin_ms = 30000;
    cfg->switch_before_ms = 10000;
    cfg->keepalive_ms = 20000;
}

/* The records' natural alignment (8 on most ABIs, 4 for uint64_t on i386). */
typedef struct sa_align_probe {
    char c;
    imssec_sa_set s;
} sa_align_probe;
#define SA_ALIGN offsetof(sa_align_probe, s)

static uint32_t sa_pow2_at_least(uint64_t n)
{
    uint64_t p = 8;
    while (p < n)
        p <<= 1;
    return (uint32_t)p;
}

/* Layout of the caller buffer; returns the total, 0 on overflow. */
static size_t sa_layout(size_t users, size_t sets, size_t *off_sets, size_t *off_spi,
                        size_t *off_port, size_t *off_impi, size_t *off_heap, uint32_t *n_spi,
                        uint32_t *n_impi)
{
    size_t a, b, c;
    if (users == 0 || sets == 0 || sets > SA_MAX_SETS || users > SA_MAX_SETS)
        return 0;
    *n_spi = sa_pow2_at_least((uint64_t)sets * 8u);
    *n_impi = sa_pow2_at_least((uint64_t)users * 2u);
    a = users * sizeof(imssec_sa_user);
    a = (a + 7u) & ~(size_t)7u;
    *off_sets = a;
    b = a + sets * sizeof(imssec_sa_set);
    *off_spi = b;
    c = b + (size_t)*n_spi * 4u;
    *off_port = c;
    c += (size_t)*n_spi * 4u;
    *off_impi = c;
    c += (size_t)*n_impi * 4u;
    *off_heap = c;
    c += users * 4u;
    return c;
}

IMSSEC_API size_t imssec_sa_table_mem(size_t users, size_t sets)
{
    size_t a, b, c, d, h;
    uint32_t e, f;
    return sa_layout(users, sets, &a, &b, &c, &d, &h, &e, &f);
}

IMSSEC_API int imssec_sa_table_setup(imssec_sa_table *t, const imssec_sa_config *cfg,
                                     const imssec_sa_callbacks *cb, const imssec_io *io,
                                     size_t users, size_t sets, void *mem, size_t mem_len,
                                     imssec_errinfo *err)
{
    size_t o_sets, o_spi, o_port, o_impi, o_heap, need, i;
    uint32_t n_spi, n_impi;
    uint8_t seed[8];
    if (!t || !cfg || !io || !mem)
        return isc_fail_param(err, "t / cfg / io / mem", "NULL argument");
    if (((uintptr_t)mem % SA_ALIGN) != 0)
        return isc_fail_param(err, "mem", "not aligned for the records");
    if (cfg->role > IMSSEC_SA_ROLE_PCSCF)
        return isc_fail_param(err, "cfg->role", "not a imssec_sa_role");
    if (cfg->options & ~(unsigned)IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA)
        return isc_fail_param(err, "cfg->options", "unknown option bits");
    if (cfg->port_min == 0 || cfg->port_min > cfg->port_max ||
        (uint32_t)cfg->port_max - cfg->port_min < 8u)
        return isc_fail_param(err, "cfg->port_min / port_max", "fewer than 8 ports");
    /* 7.1: the protected ports "are different from the standard SIP ports
     * 5060 and 5061" */
    if (cfg->pcscf_port_ps == 5060 || cfg->pcscf_port_ps == 5061) {
        isc_fail(err, IMSSEC_E_PARAM, "a protected port must not be 5060 or 5061",
                 "TS 33.203 7.1");
        if (err)
            err->param = "cfg->pcscf_port_ps";
        return IMSSEC_E_PARAM;
    }
    if (cfg->reg_lifetime_ms == 0)
        return isc_fail_param(err, "cfg->reg_lifetime_ms", "0");
    need = sa_layout(users, sets, &o_sets, &o_spi, &o_port, &o_impi, &o_heap, &n_spi, &n_impi);
    if (need == 0)
        return isc_fail_param(err, "users / sets", "0 or more than 2^24");
    if (mem_len < need) {
        isc_fail(err, IMSSEC_E_SPACE, "mem_len below imssec_sa_table_mem()", NULL);
        if (err)
            err->limit = need;
        return IMSSEC_E_SPACE;
    }
    if (isc_random(io, seed, sizeof seed) != IMSSEC_OK)
        return isc_fail(err, IMSSEC_E_CALLBACK, "io->random failed", NULL);
    memset(t, 0, sizeof *t);
    memset(mem, 0, need);
    t->cfg_ = *cfg;
    t->cb_ = cb;
    t->io_ = io;
    t->users_ = (imssec_sa_user *)mem;
    t->sets_ = (imssec_sa_set *)(void *)((uint8_t *)mem + o_sets);
    t->ix_spi_ = (uint32_t *)(void *)((uint8_t *)mem + o_spi);
    t->ix_port_ = (uint32_t *)(void *)((uint8_t *)mem + o_port);
    t->ix_impi_ = (uint32_t *)(void *)((uint8_t *)mem + o_impi);
    t->heap_ = (uint32_t *)(void *)((uint8_t *)mem + o_heap);
    t->user_cap_ = (uint32_t)users;
    t->set_cap_ = (uint32_t)sets;
    t->ix_spi_mask_ = n_spi - 1;
    t->ix_port_mask_ = n_spi - 1;
    t->ix_impi_mask_ = n_impi - 1;
    t->seed_ = ((uint64_t)isc_be32(seed) << 32) | isc_be32(seed + 4);
    isc_wipe(seed, sizeof seed);
    /* free lists in index order */
    for (i = users; i > 0; i--) {
        t->users_[i - 1].set_[0] = t->free_user_;
        t->free_user_ = (uint32_t)i;
    }
    for (i = sets; i > 0; i--) {
        t->sets_[i - 1].gen_ = 1;
        t->sets_[i - 1].user_ = t->free_set_;
        t->free_set_ = (uint32_t)i;
    }
    return IMSSEC_OK;
}

static void sa_user_reset(imssec_sa_user *u)
{
    uint8_t keep[IMSSEC_SA_IMPI_MAX], n = u->impi_len_;
    uint32_t pos = u->heap_pos_;
    uint64_t due = u->due_ms_;
    memcpy(keep, u->impi_, sizeof keep);
    memset(u, 0, sizeof *u);
    memcpy(u->impi_, keep, sizeof keep);
    u->impi_len_ = n;
    u->used_ = 1;
    u->heap_pos_ = pos; /* the heap is fixed up by sa_sched afterwards */
    u->due_ms_ = due;
}

static void sa_user_delete_all(imssec_sa_table *t, imssec_sa_user *u)
{
    int r;
    for (r = 0; r < 4; r++)
        sa_role_delete(t, u, r);
    if (t->impu_)
        sa_impu_forget(t, (uint32_t)(u - t->users_)); /* the registration is gone */
    sa_user_reset(u); /* IDLE; fixed server ports released (7.1 NOTEs) */
}

IMSSEC_API void imssec_sa_table_wipe(imssec_sa_table *t)
{
    uint32_t i;
    if (!t || !t->users_)
        return;
    for (i = 0; i < t->user_cap_; i++)
        if (t->users_[i].used_)
            sa_user_delete_all(t, &t->users_[i]);
    isc_wipe(t->users_, (size_t)t->user_cap_ * sizeof(imssec_sa_user));
    isc_wipe(t->sets_, (size_t)t->set_cap_ * sizeof(imssec_sa_set));
    isc_wipe(t, sizeof *t);
}

static uint32_t sa_user_find(const imssec_sa_table *t, const uint8_t *impi, size_t n)
{
    uint32_t mask = t->ix_impi_mask_;
    uint32_t i = (uint32_t)sa_hash_bytes(t->seed_ + 2, impi, n) & mask;
    while (t->ix_impi_[i] != 0) {
        const imssec_sa_user *u = &t->users_[t->ix_impi_[i] - 1];
        if (u->impi_len_ == n && memcmp(u->impi_, impi, n) == 0)
            return t->ix_impi_[i] - 1;
        i = (i + 1) & mask;
    }
    return UINT32_MAX;
}

IMSSEC_API int imssec_sa_user_lookup(imssec_sa_table *t, imssec_str impi_s, int create,
                                     uint32_t *user_idx)
{
    const char *impi = impi_s.p;
    size_t impi_len = impi_s.n;
    uint32_t ui;
    imssec_sa_user *u;
    if (!t || !user_idx || (!impi && impi_len))
        return IMSSEC_E_PARAM;
    if (impi_len == 0 || impi_len > IMSSEC_SA_IMPI_MAX)
        return IMSSEC_E_RANGE;
    ui = sa_user_find(t, (const uint8_t *)impi, impi_len);
    if (ui != UINT32_MAX) {
        *user_idx = ui;
        return IMSSEC_OK;
    }
    if (!create)
        return IMSSEC_E_NOT_FOUND;
    if (t->free_user_ == 0)
        return IMSSEC_E_SPACE;
    ui = t->free_user_ - 1;
    u = &t->users_[ui];
    t->free_user_ = u->set_[0];
    memset(u, 0, sizeof *u);
    memcpy(u->impi_, impi, impi_len);
    u->impi_len_ = (uint8_t)impi_len;
    u->used_ = 1;
    t->users_used_++;
    sa_ix_insert(t, SA_IX_IMPI, ui + 1);
    *user_idx = ui;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_user_release(imssec_sa_table *t, uint32_t user_idx)
{
    imssec_sa_user *u;
    if (!t || user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return IMSSEC_E_PARAM;
    u = &t->users_[user_idx];
    if (u->state_ != ST(IDLE) || sa_sets_alive(u) != 0)
        return IMSSEC_E_STATE;
    sa_ix_remove(t, SA_IX_IMPI, user_idx + 1);
    sa_heap_remove(t, user_idx);
    isc_wipe(u, sizeof *u);
    u->set_[0] = t->free_user_;
    t->free_user_ = user_idx + 1;
    t->users_used_--;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_state(const imssec_sa_table *t, uint32_t user_idx)
{
    if (!t || user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return -1;
    return t->users_[user_idx].state_;
}

IMSSEC_API const char *imssec_sa_state_name(int state)
{
    if (state < 0 || state >= IMSSEC_SA_ST_COUNT_)
        return "?";
    return sa_state_names[state];
}

IMSSEC_API const char *imssec_sa_event_name(int event)
{
    if (event < 0 || event >= IMSSEC_SA_EV_COUNT_)
        return "?";
    return sa_event_names[event];
}

/* Role of the set a ref belongs to for user ui, or SA_R_NONE. */
static int sa_ref_role(const imssec_sa_table *t, uint32_t ui, imssec_sa_ref r, int *which)
{
    uint32_t set = sa_ref_set(t, r, which);
    int k;
    if (set == UINT32_MAX || t->sets_[set].user_ != ui)
        return SA_R_NONE;
    for (k = 0; k < 4; k++)
        if (t->users_[ui].set_[k] == set + 1)
            return k;
    return SA_R_NONE;
}

static imssec_sa_ref sa_role_ref(const imssec_sa_table *t, const imssec_sa_user *u, int role,
                                 int which)
{
    uint32_t s = sa_role_set(u, role);
    return s == UINT32_MAX ? 0 : sa_ref_make(t, s, which);
}

