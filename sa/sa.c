/*
 * sa/sa.c -- the SA table and the UE / P-CSCF state machines of TS 33.203
 * v7.7.0 clauses 6.1.5, 7.1, 7.3, 7.4 (7.4.1a, 7.4.2a), 7.5 and M.7.
 *
 * Storage: one caller buffer, carved into
 *   users[user_cap]   one record per IMPI: the registration state machine
 *   sets[set_cap]     one record per set of four SAs (one authentication)
 *   ix_spi[]          open addressing, key = SPI, value = set*4+which+1
 *   ix_port[]         open addressing, key = (UE IP, UE port), same values
 *   ix_impi[]         open addressing, key = IMPI, value = user+1
 * Linear probing at load <= 1/2 with backward-shift deletion (no
 * tombstones), so lookups stay flat from a thousand to a million SAs.  The
 * hash is keyed with a random seed so that peers choosing SPIs, ports or
 * IMPIs cannot aim at one probe sequence.
 *
 * A user owns up to four set roles (the spec's vocabulary):
 *   CUR  the SAs of the latest successful authentication
 *   OLD  the previous ones, kept for pending transactions (7.4)
 *   NEW  created by the authentication in progress ("new SAs")
 *   REG  P-CSCF only: new SAs of an incomplete earlier authentication
 *        ("registration SAs", 7.4.2a), deleted when the next new SAs appear
 * At most three are alive at once: 3 sets x 2 SAs = the six SAs per
 * direction of 7.1 rule 3 (M.7.1 NOTE).
 */
#include "../imssec.h"

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

static const char *const sa_state_names[] = {"IDLE",        "REG_UNPROT", "REG_PROT",
                                             "AUTH_UNPROT", "AUTH_PROT",  "ACTIVE",
                                             "DEREG"};
static const char *const sa_event_names[] = {
    "REG_SEND", "REG_RECV", "CHALLENGE", "CHALLENGE_REJECT", "AUTH_RECV",
    "SUCCESS",  "FAILURE",  "TIMEOUT",   "MSG_IN",           "IP_CHANGE",
    "DEREG_SEND", "DEREG_RECV", "DEREG_DONE"};
ISC_STATIC_ASSERT(sa_state_names_n, ISC_ARRAY_LEN(sa_state_names) == IMSSEC_SA_ST_COUNT_);
ISC_STATIC_ASSERT(sa_event_names_n, ISC_ARRAY_LEN(sa_event_names) == IMSSEC_SA_EV_COUNT_);
ISC_STATIC_ASSERT(sa_impi_max_fits, IMSSEC_SA_IMPI_MAX >= 1 && IMSSEC_SA_IMPI_MAX <= 255);

/* ===========================================================================
 * Transition table.  One row per legal (role, state, event); the action
 * decides among the targets in `to` (a bit mask) from the arguments.  Any
 * pair without a row is IMSSEC_E_STATE with nothing changed.
 * ======================================================================== */
#define SA_B(s) (1u << (s))
#define SA_UE IMSSEC_SA_ROLE_UE
#define SA_PC IMSSEC_SA_ROLE_PCSCF
#define ST(x) IMSSEC_SA_ST_##x
#define EV(x) IMSSEC_SA_EV_##x
#define SA_ANY_STATE 0xff

typedef struct sa_rule {
    uint8_t role, from, event;
    uint16_t to; /* allowed targets */
} sa_rule;

static const sa_rule sa_rules[] = {
    /* ---- UE, 7.4.1a / M.7.4.1a ---- */
    /* SM1: protected with the old outbound SA if one exists, else unprotected. */
    {SA_UE, ST(IDLE), EV(REG_SEND), SA_B(ST(REG_UNPROT))},
    {SA_UE, ST(ACTIVE), EV(REG_SEND), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    /* One registration at a time: a new SM1 abandons the incomplete one
     * (7.4.1a first paragraph, 7.3.1.4). */
    {SA_UE, ST(REG_UNPROT), EV(REG_SEND), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    {SA_UE, ST(REG_PROT), EV(REG_SEND), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    {SA_UE, ST(AUTH_UNPROT), EV(REG_SEND), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    {SA_UE, ST(AUTH_PROT), EV(REG_SEND), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    /* SM6 on the old inbound SA (or unprotected): new SAs, SM7 on new outbound. */
    {SA_UE, ST(REG_UNPROT), EV(CHALLENGE), SA_B(ST(AUTH_UNPROT))},
    {SA_UE, ST(REG_PROT), EV(CHALLENGE), SA_B(ST(AUTH_PROT))},
    /* SM6 not acceptable: MAC / SQN failure REGISTER (7.3.1.2, 7.3.1.3) or
     * proposal abandoned (7.3.2.2). */
    {SA_UE, ST(REG_UNPROT), EV(CHALLENGE_REJECT),
     SA_B(ST(REG_UNPROT)) | SA_B(ST(ACTIVE)) | SA_B(ST(IDLE))},
    {SA_UE, ST(REG_PROT), EV(CHALLENGE_REJECT), SA_B(ST(REG_PROT)) | SA_B(ST(ACTIVE))},
    /* SM12 on the new inbound SA; unauthenticated re-registration (7.4). */
    {SA_UE, ST(AUTH_UNPROT), EV(SUCCESS), SA_B(ST(ACTIVE))},
    {SA_UE, ST(AUTH_PROT), EV(SUCCESS), SA_B(ST(ACTIVE))},
    {SA_UE, ST(REG_PROT), EV(SUCCESS), SA_B(ST(ACTIVE))},
    /* Failure responses: delete the new SAs (7.4.1a last paragraphs). */
    {SA_UE, ST(REG_UNPROT), EV(FAILURE), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_UE, ST(REG_PROT), EV(FAILURE), SA_B(ST(ACTIVE))},
    {SA_UE, ST(AUTH_UNPROT), EV(FAILURE), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_UE, ST(AUTH_PROT), EV(FAILURE), SA_B(ST(ACTIVE))},
    {SA_UE, ST(DEREG), EV(FAILURE), SA_B(ST(ACTIVE))},
    /* Incomplete authentication (7.3.1.4). */
    {SA_UE, ST(REG_UNPROT), EV(TIMEOUT), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_UE, ST(REG_PROT), EV(TIMEOUT), SA_B(ST(ACTIVE))},
    {SA_UE, ST(AUTH_UNPROT), EV(TIMEOUT), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_UE, ST(AUTH_PROT), EV(TIMEOUT), SA_B(ST(ACTIVE))},
    {SA_UE, ST(DEREG), EV(TIMEOUT), SA_B(ST(IDLE))},
    /* Inbound non-REGISTER traffic: accepted only on CUR or OLD inbound SAs. */
    {SA_UE, SA_ANY_STATE, EV(MSG_IN), 0xffff},
    /* 7.5: delete everything; next SM1 is unprotected. */
    {SA_UE, SA_ANY_STATE, EV(IP_CHANGE), SA_B(ST(IDLE))},
    /* De-registration: all SAs deleted once the final response arrived. */
    {SA_UE, ST(ACTIVE), EV(DEREG_SEND), SA_B(ST(DEREG))},
    {SA_UE, ST(DEREG), EV(DEREG_DONE), SA_B(ST(IDLE))},

    /* ---- P-CSCF, 7.1 rules 1-4, 7.4.2a / M.7.4.2a, 6.1.5 ---- */
    {SA_PC, ST(IDLE), EV(REG_RECV), SA_B(ST(REG_UNPROT))},
    {SA_PC, ST(ACTIVE), EV(REG_RECV), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    {SA_PC, ST(REG_UNPROT), EV(REG_RECV), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    {SA_PC, ST(REG_PROT), EV(REG_RECV), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    /* A new SM1 during an authentication: the new SAs become registration SAs. */
    {SA_PC, ST(AUTH_UNPROT), EV(REG_RECV), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    {SA_PC, ST(AUTH_PROT), EV(REG_RECV), SA_B(ST(REG_PROT)) | SA_B(ST(REG_UNPROT))},
    /* SM6 sent: new SAs created, registration SAs deleted. */
    {SA_PC, ST(REG_UNPROT), EV(CHALLENGE), SA_B(ST(AUTH_UNPROT))},
    {SA_PC, ST(REG_PROT), EV(CHALLENGE), SA_B(ST(AUTH_PROT))},
    /* SM7 on the new inbound SA, or the failure REGISTER (7.3.1.2/7.3.1.3). */
    {SA_PC, ST(AUTH_UNPROT), EV(AUTH_RECV), SA_B(ST(AUTH_UNPROT)) | SA_B(ST(REG_UNPROT))},
    {SA_PC, ST(AUTH_PROT), EV(AUTH_RECV), SA_B(ST(AUTH_PROT)) | SA_B(ST(REG_PROT))},
    /* SM12 sent on the new outbound SA; unauthenticated re-registration. */
    {SA_PC, ST(AUTH_UNPROT), EV(SUCCESS), SA_B(ST(ACTIVE))},
    {SA_PC, ST(AUTH_PROT), EV(SUCCESS), SA_B(ST(ACTIVE))},
    {SA_PC, ST(REG_PROT), EV(SUCCESS), SA_B(ST(ACTIVE))},
    /* Failure responses sent (7.3, 7.4.2a). */
    {SA_PC, ST(REG_UNPROT), EV(FAILURE), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_PC, ST(REG_PROT), EV(FAILURE), SA_B(ST(ACTIVE))},
    {SA_PC, ST(AUTH_UNPROT), EV(FAILURE), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_PC, ST(AUTH_PROT), EV(FAILURE), SA_B(ST(ACTIVE))},
    {SA_PC, ST(DEREG), EV(FAILURE), SA_B(ST(ACTIVE))},
    /* Temporary storage timed out (7.3.1.1, 7.3.1.4). */
    {SA_PC, ST(REG_UNPROT), EV(TIMEOUT), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_PC, ST(REG_PROT), EV(TIMEOUT), SA_B(ST(ACTIVE))},
    {SA_PC, ST(AUTH_UNPROT), EV(TIMEOUT), SA_B(ST(IDLE)) | SA_B(ST(ACTIVE))},
    {SA_PC, ST(AUTH_PROT), EV(TIMEOUT), SA_B(ST(ACTIVE))},
    {SA_PC, ST(DEREG), EV(TIMEOUT), SA_B(ST(ACTIVE))},
    {SA_PC, SA_ANY_STATE, EV(MSG_IN), 0xffff},
    /* De-registration: delete only after the final response was sent. */
    {SA_PC, ST(ACTIVE), EV(DEREG_RECV), SA_B(ST(DEREG))},
    {SA_PC, ST(DEREG), EV(DEREG_DONE), SA_B(ST(IDLE))},
};

static const sa_rule *sa_rule_find(int role, int state, int event)
{
    size_t i;
    for (i = 0; i < ISC_ARRAY_LEN(sa_rules); i++) {
        const sa_rule *r = &sa_rules[i];
        if (r->role == role && r->event == event &&
            (r->from == state || r->from == SA_ANY_STATE))
            return r;
    }
    return NULL;
}

/* ===========================================================================
 * Hashing and the three indexes
 * ======================================================================== */
static uint64_t sa_mix(uint64_t x)
{
    /* splitmix64 finaliser: full avalanche, so low bits are usable */
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t sa_hash_bytes(uint64_t seed, const uint8_t *p, size_t n)
{
    uint64_t h = sa_mix(seed ^ (uint64_t)n);
    size_t i;
    for (i = 0; i < n; i++)
        h = sa_mix(h ^ p[i]) + (uint64_t)i;
    return sa_mix(h);
}

enum { SA_IX_SPI = 0, SA_IX_PORT = 1, SA_IX_IMPI = 2 };

static uint16_t sa_ue_port(const imssec_sa_set *s, int which)
{
    return (which == IMSSEC_SA_UC_PS || which == IMSSEC_SA_PS_UC) ? s->port_uc_ : s->port_us_;
}

static uint16_t sa_pc_port(const imssec_sa_set *s, int which)
{
    return (which == IMSSEC_SA_UC_PS || which == IMSSEC_SA_PS_UC) ? s->port_ps_ : s->port_pc_;
}

static uint64_t sa_hash_spi(const imssec_sa_table *t, uint32_t spi)
{
    return sa_mix(t->seed_ ^ spi);
}

static uint64_t sa_hash_port(const imssec_sa_table *t, const imssec_sa_addr *ip, uint16_t port)
{
    uint8_t k[19];
    memcpy(k, ip->b, 16);
    k[16] = ip->len;
    isc_put_be16(k + 17, port);
    return sa_hash_bytes(t->seed_ + 1, k, sizeof k);
}

static uint64_t sa_hash_of(const imssec_sa_table *t, int ix, uint32_t v)
{
    if (ix == SA_IX_IMPI) {
        const imssec_sa_user *u = &t->users_[v - 1];
        return sa_hash_bytes(t->seed_ + 2, u->impi_, u->impi_len_);
    } else {
        const imssec_sa_set *s = &t->sets_[(v - 1) >> 2];
        int w = (int)((v - 1) & 3);
        if (ix == SA_IX_SPI)
            return sa_hash_spi(t, s->spi_[w]);
        return sa_hash_port(t, &s->ue_ip_, sa_ue_port(s, w));
    }
}

static uint32_t *sa_ix(const imssec_sa_table *t, int ix, uint32_t *mask)
{
    if (ix == SA_IX_SPI) {
        *mask = t->ix_spi_mask_;
        return t->ix_spi_;
    }
    if (ix == SA_IX_PORT) {
        *mask = t->ix_port_mask_;
        return t->ix_port_;
    }
    *mask = t->ix_impi_mask_;
    return t->ix_impi_;
}

static void sa_ix_insert(imssec_sa_table *t, int ix, uint32_t v)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask);
    uint32_t i = (uint32_t)sa_hash_of(t, ix, v) & mask;
    while (a[i] != 0)
        i = (i + 1) & mask;
    a[i] = v;
}

/* Backward-shift deletion: later members of the cluster that may live in
 * the hole are moved up, so no tombstones ever accumulate. */
static void sa_ix_remove(imssec_sa_table *t, int ix, uint32_t v)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask);
    uint32_t i = (uint32_t)sa_hash_of(t, ix, v) & mask, j, k;
    while (a[i] != v) {
        if (a[i] == 0)
            return; /* not present: nothing to do */
        i = (i + 1) & mask;
    }
    j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (a[j] == 0)
            break;
        k = (uint32_t)sa_hash_of(t, ix, a[j]) & mask;
        /* move a[j] to i unless its home k lies cyclically in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        a[i] = a[j];
        i = j;
    }
    a[i] = 0;
}

/* ===========================================================================
 * Refs and sets
 * ======================================================================== */
static imssec_sa_ref sa_ref_make(const imssec_sa_table *t, uint32_t set, int which)
{
    return ((uint64_t)t->sets_[set].gen_ << 32) | (uint64_t)(set * 4u + (uint32_t)which + 1u);
}

/* The set index of a live ref, or UINT32_MAX. */
static uint32_t sa_ref_set(const imssec_sa_table *t, imssec_sa_ref r, int *which)
{
    uint32_t lo = (uint32_t)r, set;
    if (lo == 0)
        return UINT32_MAX;
    set = (lo - 1) >> 2;
    if (set >= t->set_cap_ || !t->sets_[set].used_ || t->sets_[set].gen_ != (uint32_t)(r >> 32))
        return UINT32_MAX;
    if (which)
        *which = (int)((lo - 1) & 3);
    return set;
}

static int sa_is_uplink(int which)
{
    return which == IMSSEC_SA_UC_PS || which == IMSSEC_SA_US_PC;
}

static int sa_is_inbound(const imssec_sa_table *t, int which)
{
    return (t->cfg_.role == IMSSEC_SA_ROLE_PCSCF) == sa_is_uplink(which);
}

static int sa_addr_eq(const imssec_sa_addr *a, const imssec_sa_addr *b)
{
    return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static int sa_addr_ok(const imssec_sa_addr *a)
{
    return a->len == 4 || (IMSSEC_ENABLE_IPV6 && a->len == 16);
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
    if (s->mode_ == IMSSEC_SA_MODE_UDP_ENC_TUN) {
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
    i->impi = (const char *)u->impi_;
    i->impi_len = u->impi_len_;
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

/* Delete a set: data plane, indexes, keys, role slot.  A failing remove
 * callback is recorded (t->cb_err_) but never stops the deletion. */
static void sa_set_delete(imssec_sa_table *t, uint32_t set)
{
    imssec_sa_set *s = &t->sets_[set];
    imssec_sa_user *u = &t->users_[s->user_];
    int w, r;
    for (w = 0; w < 4; w++) {
        if (t->cb_ && t->cb_->remove) {
            imssec_sa_info info;
            sa_info_fill(t, set, w, &info);
            if (t->cb_->remove(t->cb_->user, &info) != 0)
                t->cb_err_ = 1;
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
static int sa_cb_result(imssec_sa_table *t)
{
    int rc = t->cb_err_ ? IMSSEC_E_CALLBACK : IMSSEC_OK;
    t->cb_err_ = 0;
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

/* Annex I key expansion. */
static void sa_expand_keys(imssec_sa_set *s, const uint8_t ik[16], const uint8_t ck[16])
{
    memcpy(s->ik_, ik, 16);
    s->ik_len_ = 16;
    if (s->alg_ == IMSSEC_SA_ALG_HMAC_SHA1_96) {
        memset(s->ik_ + 16, 0, 4); /* IK_IM || 0^32 */
        s->ik_len_ = 20;
    }
    if (s->ealg_ == IMSSEC_SA_EALG_AES_CBC) {
        memcpy(s->ck_, ck, 16);
        s->ck_len_ = 16;
    } else if (s->ealg_ == IMSSEC_SA_EALG_DES_EDE3_CBC) {
        int i;
        memcpy(s->ck_, ck, 16);
        memcpy(s->ck_ + 16, ck, 8); /* CK1 || CK2 || CK1 */
        for (i = 0; i < 24; i++) {
            /* odd parity in the least significant bit (RFC 2451 / FIPS 46-3) */
            uint8_t b = (uint8_t)(s->ck_[i] & 0xfe), p = b;
            p ^= (uint8_t)(p >> 4);
            p ^= (uint8_t)(p >> 2);
            p ^= (uint8_t)(p >> 1);
            s->ck_[i] = (uint8_t)(b | ((p & 1) ^ 1));
        }
        s->ck_len_ = 24;
    } else {
        s->ck_len_ = 0;
    }
}

typedef struct sa_newset {
    uint8_t alg, ealg, mode;
    imssec_sa_addr ue_ip, pcscf_ip;
    uint16_t port_uc, port_us, port_pc, port_ps;
    uint32_t spi_uc, spi_us, spi_pc, spi_ps;
    const uint8_t *ik, *ck;
    uint64_t expires_ms;
} sa_newset;

/* Create a set in role `role` of user ui and install its four SAs.  On a
 * failing install everything done here is undone. */
static int sa_set_create(imssec_sa_table *t, uint32_t ui, int role, const sa_newset *n)
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
    sa_expand_keys(s, n->ik, n->ck);
    t->sets_used_++;
    for (w = 0; w < 4; w++) {
        sa_ix_insert(t, SA_IX_SPI, set * 4u + (uint32_t)w + 1u);
        sa_ix_insert(t, SA_IX_PORT, set * 4u + (uint32_t)w + 1u);
    }
    t->users_[ui].set_[role] = set + 1;
    if (t->cb_ && t->cb_->install) {
        for (w = 0; w < 4; w++) {
            imssec_sa_info info;
            uint64_t h = 0;
            int rc;
            sa_info_fill(t, set, w, &info);
            rc = t->cb_->install(t->cb_->user, &info, &h);
            isc_wipe(&info, sizeof info);
            if (rc != 0) {
                int k;
                for (k = 0; k < w; k++) {
                    if (t->cb_->remove) {
                        sa_info_fill(t, set, k, &info);
                        (void)t->cb_->remove(t->cb_->user, &info);
                        isc_wipe(&info, sizeof info);
                    }
                }
                {
                    const imssec_sa_callbacks *cb = t->cb_;
                    int saved = t->cb_err_;
                    t->cb_ = NULL; /* already removed above */
                    sa_set_delete(t, set);
                    t->cb_ = cb;
                    t->cb_err_ = saved;
                }
                return IMSSEC_E_CALLBACK;
            }
            s->handle_[w] = h;
        }
    }
    sa_log(t, "new set of", &t->users_[ui], n->spi_ps);
    return IMSSEC_OK;
}

/* ===========================================================================
 * SPI and port allocation
 * ======================================================================== */
static int sa_spi_count(const imssec_sa_table *t, uint32_t spi)
{
    uint32_t mask = t->ix_spi_mask_, i = (uint32_t)sa_hash_spi(t, spi) & mask;
    int n = 0;
    while (t->ix_spi_[i] != 0) {
        uint32_t v = t->ix_spi_[i];
        if (t->sets_[(v - 1) >> 2].spi_[(v - 1) & 3] == spi)
            n++;
        i = (i + 1) & mask;
    }
    return n;
}

/* UE: SPIs reserved by Security-Client but not yet in a set. */
static int sa_spi_reserved(const imssec_sa_table *t, uint32_t spi)
{
    uint32_t i;
    if (t->cfg_.role != IMSSEC_SA_ROLE_UE)
        return 0;
    for (i = 0; i < t->user_cap_; i++) {
        const imssec_sa_user *u = &t->users_[i];
        if (u->used_ && (u->state_ == ST(REG_UNPROT) || u->state_ == ST(REG_PROT)) &&
            (u->spi_c_ == spi || u->spi_s_ == spi))
            return 1;
    }
    return 0;
}

/* 7.1: random, unique among all SPIs in the table, different from the
 * peer's, never 0..255 (IANA reserved), different from `other`. */
static int sa_spi_alloc(const imssec_sa_table *t, uint32_t peer1, uint32_t peer2, uint32_t other,
                        uint32_t *spi)
{
    int tries;
    for (tries = 0; tries < 64; tries++) {
        uint8_t b[4];
        uint32_t v;
        if (isc_random(t->io_, b, 4) != IMSSEC_OK)
            return IMSSEC_E_CALLBACK;
        v = isc_be32(b);
        if (v < 256 || v == peer1 || v == peer2 || v == other)
            continue;
        if (sa_spi_count(t, v) != 0 || sa_spi_reserved(t, v))
            continue;
        *spi = v;
        return IMSSEC_OK;
    }
    return IMSSEC_E_SPACE;
}

/* A peer-chosen SPI must not equal one of our inbound SPIs (ours are
 * unique among all SPIs in the table, 7.1) nor our pending ones. */
static int sa_peer_spi_clash(const imssec_sa_table *t, const imssec_sa_user *u, uint32_t spi)
{
    imssec_sa_ref r;
    if (imssec_sa_find_spi(t, spi, &r) == IMSSEC_OK)
        return 1;
    /* UE: SPIs offered in a Security-Client and not yet in a set are ours
     * too (any user of the table) */
    return t->cfg_.role == IMSSEC_SA_ROLE_UE &&
           (spi == u->spi_c_ || spi == u->spi_s_ || sa_spi_reserved(t, spi));
}

/* Is (ip, port) the UE end of any SA?  With skip_user != UINT32_MAX, SAs of
 * that user are ignored. */
static int sa_port_used(const imssec_sa_table *t, const imssec_sa_addr *ip, uint16_t port,
                        uint32_t skip_user)
{
    uint32_t mask = t->ix_port_mask_, i = (uint32_t)sa_hash_port(t, ip, port) & mask;
    while (t->ix_port_[i] != 0) {
        uint32_t v = t->ix_port_[i];
        const imssec_sa_set *s = &t->sets_[(v - 1) >> 2];
        if (sa_ue_port(s, (int)((v - 1) & 3)) == port && sa_addr_eq(&s->ue_ip_, ip) &&
            s->user_ != skip_user)
            return 1;
        i = (i + 1) & mask;
    }
    return 0;
}

static int sa_port_random(const imssec_sa_table *t, uint16_t *port)
{
    uint8_t b[2];
    uint32_t span = (uint32_t)t->cfg_.port_max - t->cfg_.port_min + 1u;
    if (isc_random(t->io_, b, 2) != IMSSEC_OK)
        return IMSSEC_E_CALLBACK;
    *port = (uint16_t)(t->cfg_.port_min + (uint32_t)isc_be16(b) % span);
    return IMSSEC_OK;
}

static int sa_port_taken_by_user(const imssec_sa_table *t, const imssec_sa_user *u, uint16_t p)
{
    int r;
    if (p == 5060 || p == 5061 || p == u->port_us_ || p == u->port_ps_)
        return 1;
    for (r = 0; r < 4; r++) {
        if (u->set_[r]) {
            const imssec_sa_set *s = &t->sets_[u->set_[r] - 1];
            if (t->cfg_.role == IMSSEC_SA_ROLE_UE ? (p == s->port_uc_ || p == s->port_us_)
                                                  : (p == s->port_pc_ || p == s->port_ps_))
                return 1;
        }
    }
    return 0;
}

/* A fresh protected client port (7.4: port_uc / port_pc change with every
 * new set); the UE also keeps it clear of every (own IP, port) in the table
 * (M.7.1 rule 6). */
static int sa_port_alloc(const imssec_sa_table *t, const imssec_sa_user *u,
                         const imssec_sa_addr *ue_ip, uint16_t avoid, uint16_t *port)
{
    int tries, rc;
    for (tries = 0; tries < 64; tries++) {
        uint16_t p;
        if ((rc = sa_port_random(t, &p)) != IMSSEC_OK)
            return rc;
        if (p == avoid || sa_port_taken_by_user(t, u, p))
            continue;
        if (t->cfg_.role == IMSSEC_SA_ROLE_UE && sa_port_used(t, ue_ip, p, UINT32_MAX))
            continue;
        *port = p;
        return IMSSEC_OK;
    }
    return IMSSEC_E_SPACE;
}

static void sa_heap_remove(imssec_sa_table *t, uint32_t ui);

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
                                     size_t users, size_t sets, void *mem, size_t mem_len)
{
    size_t o_sets, o_spi, o_port, o_impi, o_heap, need, i;
    uint32_t n_spi, n_impi;
    uint8_t seed[8];
    if (!t || !cfg || !io || !mem || ((uintptr_t)mem % SA_ALIGN) != 0)
        return IMSSEC_E_PARAM;
    if (cfg->role > IMSSEC_SA_ROLE_PCSCF || cfg->port_min == 0 || cfg->port_min > cfg->port_max ||
        (uint32_t)cfg->port_max - cfg->port_min < 8u || cfg->reg_lifetime_ms == 0)
        return IMSSEC_E_PARAM;
    need = sa_layout(users, sets, &o_sets, &o_spi, &o_port, &o_impi, &o_heap, &n_spi, &n_impi);
    if (need == 0)
        return IMSSEC_E_PARAM;
    if (mem_len < need)
        return IMSSEC_E_SPACE;
    if (isc_random(io, seed, sizeof seed) != IMSSEC_OK)
        return IMSSEC_E_CALLBACK;
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

IMSSEC_API int imssec_sa_user_lookup(imssec_sa_table *t, const char *impi, size_t impi_len,
                                     int create, uint32_t *user_idx)
{
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

/* ===========================================================================
 * The deadline heap: users keyed by due_ms_, so tick touches only the users
 * that are due (a P-CSCF with a million SAs has as many deadlines).
 * ======================================================================== */

/* The earliest moment something must happen to user u, UINT64_MAX if never. */
static uint64_t sa_user_due(const imssec_sa_table *t, const imssec_sa_user *u)
{
    uint64_t d = UINT64_MAX;
    int r;
    for (r = 0; r < 4; r++)
        if (u->set_[r] && t->sets_[u->set_[r] - 1].expires_ms_ < d)
            d = t->sets_[u->set_[r] - 1].expires_ms_;
    if ((u->state_ == ST(REG_UNPROT) || u->state_ == ST(REG_PROT)) && u->tmp_expires_ms_ &&
        u->tmp_expires_ms_ < d)
        d = u->tmp_expires_ms_;
    if (t->cfg_.role == IMSSEC_SA_ROLE_PCSCF && u->set_[SA_R_OLD] &&
        !(u->flags_ & SA_F_SWITCHED)) {
        uint64_t oe = t->sets_[u->set_[SA_R_OLD] - 1].expires_ms_;
        uint64_t at = oe > t->cfg_.switch_before_ms ? oe - t->cfg_.switch_before_ms : 0;
        if (at < d)
            d = at;
    }
    if (t->cfg_.role == IMSSEC_SA_ROLE_UE && u->set_[SA_R_CUR] && t->cfg_.keepalive_ms &&
        t->sets_[u->set_[SA_R_CUR] - 1].mode_ == IMSSEC_SA_MODE_UDP_ENC_TUN &&
        u->ka_next_ms_ < d)
        d = u->ka_next_ms_;
    return d;
}

static void sa_heap_set(imssec_sa_table *t, uint32_t pos, uint32_t ui)
{
    t->heap_[pos] = ui;
    t->users_[ui].heap_pos_ = pos + 1;
}

static void sa_heap_up(imssec_sa_table *t, uint32_t pos)
{
    uint32_t ui = t->heap_[pos];
    uint64_t d = t->users_[ui].due_ms_;
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (t->users_[t->heap_[parent]].due_ms_ <= d)
            break;
        sa_heap_set(t, pos, t->heap_[parent]);
        pos = parent;
    }
    sa_heap_set(t, pos, ui);
}

static void sa_heap_down(imssec_sa_table *t, uint32_t pos)
{
    uint32_t ui = t->heap_[pos];
    uint64_t d = t->users_[ui].due_ms_;
    for (;;) {
        uint32_t c = 2 * pos + 1;
        if (c >= t->heap_n_)
            break;
        if (c + 1 < t->heap_n_ &&
            t->users_[t->heap_[c + 1]].due_ms_ < t->users_[t->heap_[c]].due_ms_)
            c++;
        if (d <= t->users_[t->heap_[c]].due_ms_)
            break;
        sa_heap_set(t, pos, t->heap_[c]);
        pos = c;
    }
    sa_heap_set(t, pos, ui);
}

static void sa_heap_remove(imssec_sa_table *t, uint32_t ui)
{
    uint32_t pos = t->users_[ui].heap_pos_, last;
    if (pos == 0)
        return;
    pos--;
    t->users_[ui].heap_pos_ = 0;
    t->users_[ui].due_ms_ = 0;
    last = t->heap_[--t->heap_n_];
    if (pos < t->heap_n_) {
        sa_heap_set(t, pos, last);
        sa_heap_up(t, pos);
        sa_heap_down(t, t->users_[last].heap_pos_ - 1);
    }
}

/* Recompute user ui's deadline and put it where it belongs in the heap. */
static void sa_sched(imssec_sa_table *t, uint32_t ui)
{
    imssec_sa_user *u = &t->users_[ui];
    uint64_t d = u->used_ ? sa_user_due(t, u) : UINT64_MAX;
    if (d == UINT64_MAX) {
        sa_heap_remove(t, ui);
        return;
    }
    u->due_ms_ = d;
    if (u->heap_pos_ == 0) {
        sa_heap_set(t, t->heap_n_++, ui);
        sa_heap_up(t, t->heap_n_ - 1);
    } else {
        sa_heap_up(t, u->heap_pos_ - 1);
        sa_heap_down(t, u->heap_pos_ - 1);
    }
}

/* ===========================================================================
 * State machine actions
 * ======================================================================== */

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

/* The SA a response from the peer's server port to our client port arrives
 * on, and the SA our request leaves on.  UE: requests go UC_PS, answers to
 * them come back PS_UC.  P-CSCF: REGISTERs arrive UC_PS, its answers leave
 * PS_UC. */
#define SA_W_REQ_UP IMSSEC_SA_UC_PS
#define SA_W_RSP_DOWN IMSSEC_SA_PS_UC

static uint64_t sa_lifetime_after(const imssec_sa_table *t, uint64_t now_ms, uint32_t expires_s)
{
    return now_ms + (uint64_t)expires_s * 1000u + t->cfg_.margin_ms;
}

static void sa_extend(imssec_sa_table *t, imssec_sa_user *u, int role, uint64_t until)
{
    uint32_t s = sa_role_set(u, role);
    /* 7.4.1a NOTE: the lifetime of an SA is never decreased */
    if (s != UINT32_MAX && t->sets_[s].expires_ms_ < until)
        t->sets_[s].expires_ms_ = until;
}

/* Old SAs wait for the switch-over trigger and their pending transactions
 * (7.4.1a, 7.4.2a); delete them when both are done. */
static void sa_retire_old(imssec_sa_table *t, imssec_sa_user *u)
{
    uint32_t s = sa_role_set(u, SA_R_OLD);
    int busy_sm1 = (u->state_ == ST(REG_PROT) || u->state_ == ST(AUTH_PROT) ||
                    u->state_ == ST(DEREG)) && u->sm1_set_ == SA_R_OLD;
    if (s == UINT32_MAX || busy_sm1)
        return;
    if ((u->flags_ & SA_F_NEW_SEEN) && t->sets_[s].pending_ == 0)
        sa_set_delete(t, s);
}

static int sa_state_after_abort(const imssec_sa_user *u)
{
    return u->set_[SA_R_CUR] ? ST(ACTIVE) : ST(IDLE);
}

/* Arguments checks shared by the two sides. */
static int sa_check_newset_args(const imssec_sa_ev_args *a)
{
    if (a->alg != IMSSEC_SA_ALG_HMAC_SHA1_96 && a->alg != IMSSEC_SA_ALG_HMAC_MD5_96)
        return IMSSEC_E_UNSUPPORTED;
#if !IMSSEC_ENABLE_HMAC_MD5
    if (a->alg == IMSSEC_SA_ALG_HMAC_MD5_96)
        return IMSSEC_E_UNSUPPORTED;
#endif
    if (a->ealg > IMSSEC_SA_EALG_AES_CBC || a->mode > IMSSEC_SA_MODE_UDP_ENC_TUN)
        return IMSSEC_E_UNSUPPORTED;
#if !IMSSEC_ENABLE_3DES
    if (a->ealg == IMSSEC_SA_EALG_DES_EDE3_CBC)
        return IMSSEC_E_UNSUPPORTED;
#endif
#if !IMSSEC_ENABLE_UDPENCAP
    if (a->mode == IMSSEC_SA_MODE_UDP_ENC_TUN)
        return IMSSEC_E_UNSUPPORTED;
#endif
    if (!sa_addr_ok(&a->ue_ip) || !sa_addr_ok(&a->pcscf_ip) || a->ue_ip.len != a->pcscf_ip.len)
        return IMSSEC_E_PARAM;
    return IMSSEC_OK;
}

static int sa_valid_port(uint16_t p)
{
    return p != 0 && p != 5060 && p != 5061;
}

/* ---- UE ------------------------------------------------------------------ */
static int sa_ue_event(imssec_sa_table *t, uint32_t ui, int ev, const imssec_sa_ev_args *a,
                       imssec_sa_ev_out *o, uint64_t now, int *next)
{
    imssec_sa_user *u = &t->users_[ui];
    int st = u->state_, rc, w = 0;
    int prot = (st == ST(REG_PROT) || st == ST(AUTH_PROT));
    int arole = a->arrived_on ? sa_ref_role(t, ui, a->arrived_on, &w) : SA_R_NONE;
    if (a->arrived_on && arole == SA_R_NONE)
        return IMSSEC_E_SA_WRONG; /* stale, foreign or unknown SA */
    if (arole != SA_R_NONE && !sa_is_inbound(t, w))
        return IMSSEC_E_SA_WRONG;

    switch (ev) {
    case IMSSEC_SA_EV_REG_SEND: {
        uint32_t spi_c, spi_s;
        uint16_t port_c, port_s;
        int use_old = u->set_[SA_R_CUR] && !a->force_unprotected;
        if (!sa_addr_ok(&a->ue_ip))
            return IMSSEC_E_PARAM;
        /* Security-Client values: fresh SPIs and port_uc, port_us kept (7.4) */
        if ((rc = sa_spi_alloc(t, 0, 0, 0, &spi_c)) != IMSSEC_OK ||
            (rc = sa_spi_alloc(t, 0, 0, spi_c, &spi_s)) != IMSSEC_OK)
            return rc;
        port_s = u->port_us_;
        if (!port_s || !u->set_[SA_R_CUR]) {
            if ((rc = sa_port_alloc(t, u, &a->ue_ip, 0, &port_s)) != IMSSEC_OK)
                return rc;
        }
        if ((rc = sa_port_alloc(t, u, &a->ue_ip, port_s, &port_c)) != IMSSEC_OK)
            return rc;
        /* nothing changed so far; from here on the step cannot fail */
        sa_role_delete(t, u, SA_R_NEW); /* one registration at a time */
        u->spi_c_ = spi_c;
        u->spi_s_ = spi_s;
        u->port_c_ = port_c;
        u->port_us_ = port_s;
        u->port_s_ = port_s;
        u->ue_ip_ = a->ue_ip;
        u->sm1_set_ = use_old ? SA_R_CUR : SA_R_NONE;
        u->tmp_expires_ms_ = now + t->cfg_.reg_lifetime_ms;
        o->protect_with = use_old ? sa_role_ref(t, u, SA_R_CUR, SA_W_REQ_UP) : 0;
        o->spi_c = spi_c;
        o->spi_s = spi_s;
        o->port_c = port_c;
        o->port_s = port_s;
        *next = use_old ? ST(REG_PROT) : ST(REG_UNPROT);
        return IMSSEC_OK;
    }
    case IMSSEC_SA_EV_CHALLENGE: {
        sa_newset n;
        /* SM6: old inbound SA if SM1 was protected, unprotected otherwise */
        if (prot ? !(arole == u->sm1_set_ && w == SA_W_RSP_DOWN) : arole != SA_R_NONE)
            return IMSSEC_E_SA_WRONG;
        if ((rc = sa_check_newset_args(a)) != IMSSEC_OK)
            return rc;
        if (!sa_addr_eq(&a->ue_ip, &u->ue_ip_) && a->mode != IMSSEC_SA_MODE_UDP_ENC_TUN)
            return IMSSEC_E_PARAM; /* transport mode: the address SM1 used */
        if (!sa_valid_port(a->peer_port_c) || !sa_valid_port(a->peer_port_s) ||
            a->peer_port_c == a->peer_port_s || a->peer_spi_c < 256 || a->peer_spi_s < 256 ||
            a->peer_spi_c == a->peer_spi_s)
            return IMSSEC_E_PARAM;
        if (sa_peer_spi_clash(t, u, a->peer_spi_c) || sa_peer_spi_clash(t, u, a->peer_spi_s))
            return IMSSEC_E_EXISTS;
        /* M.7.4.1a: UDP-enc-tun old SAs => UDP-enc-tun new SAs */
        if (prot && t->sets_[u->set_[SA_R_CUR] - 1].mode_ == IMSSEC_SA_MODE_UDP_ENC_TUN &&
            a->mode != IMSSEC_SA_MODE_UDP_ENC_TUN)
            return IMSSEC_E_SA_NAT;
        if (sa_sets_alive(u) >= 3)
            return IMSSEC_E_SA_LIMIT;
        n.alg = a->alg;
        n.ealg = a->ealg;
        n.mode = a->mode;
        n.ue_ip = a->ue_ip;
        n.pcscf_ip = a->pcscf_ip;
        n.port_uc = u->port_c_;
        n.port_us = u->port_s_;
        n.port_pc = a->peer_port_c;
        n.port_ps = a->peer_port_s;
        n.spi_uc = u->spi_c_;
        n.spi_us = u->spi_s_;
        n.spi_pc = a->peer_spi_c;
        n.spi_ps = a->peer_spi_s;
        n.ik = a->ik;
        n.ck = a->ck;
        /* "enough time to complete the registration procedure" */
        n.expires_ms = now + t->cfg_.reg_lifetime_ms;
        if ((rc = sa_set_create(t, ui, SA_R_NEW, &n)) != IMSSEC_OK)
            return rc;
        o->protect_with = sa_role_ref(t, u, SA_R_NEW, SA_W_REQ_UP); /* SM7 */
        *next = prot ? ST(AUTH_PROT) : ST(AUTH_UNPROT);
        return IMSSEC_OK;
    }
    case IMSSEC_SA_EV_CHALLENGE_REJECT:
        if (prot ? !(arole == u->sm1_set_ && w == SA_W_RSP_DOWN) : arole != SA_R_NONE)
            return IMSSEC_E_SA_WRONG;
        if (a->kind == IMSSEC_SA_KIND_NET_AUTH || a->kind == IMSSEC_SA_KIND_SYNC) {
            /* failure REGISTER: old SA if SM1 was protected, else none */
            o->protect_with = prot ? sa_role_ref(t, u, SA_R_CUR, SA_W_REQ_UP) : 0;
            u->tmp_expires_ms_ = now + t->cfg_.reg_lifetime_ms;
            *next = st;
            return IMSSEC_OK;
        }
        if (a->kind != IMSSEC_SA_KIND_PROPOSAL)
            return IMSSEC_E_PARAM;
        *next = sa_state_after_abort(u); /* 7.3.2.2: abandon */
        return IMSSEC_OK;
    case IMSSEC_SA_EV_SUCCESS:
        if (st == ST(REG_PROT)) {
            /* unauthenticated re-registration: keep the SAs, extend them */
            if (!(arole == SA_R_CUR && w == SA_W_RSP_DOWN))
                return IMSSEC_E_SA_WRONG;
            sa_extend(t, u, SA_R_CUR, sa_lifetime_after(t, now, a->expires_s));
            *next = ST(ACTIVE);
            return IMSSEC_OK;
        }
        /* SM12 on the new inbound SA */
        if (!(arole == SA_R_NEW && w == SA_W_RSP_DOWN))
            return IMSSEC_E_SA_WRONG;
        {
            uint64_t until = sa_lifetime_after(t, now, a->expires_s);
            uint32_t cur = sa_role_set(u, SA_R_CUR);
            if (cur != UINT32_MAX && t->sets_[cur].expires_ms_ > until)
                until = t->sets_[cur].expires_ms_;
            t->sets_[u->set_[SA_R_NEW] - 1].expires_ms_ = until;
            if (st == ST(AUTH_PROT)) {
                sa_role_delete(t, u, SA_R_OLD);
                u->set_[SA_R_OLD] = u->set_[SA_R_CUR];
            } else {
                /* SM1 unprotected: the P-CSCF removes the old SAs */
                sa_role_delete(t, u, SA_R_OLD);
                sa_role_delete(t, u, SA_R_CUR);
            }
            u->set_[SA_R_CUR] = u->set_[SA_R_NEW];
            u->set_[SA_R_NEW] = 0;
            u->flags_ = 0;
            u->port_us_ = t->sets_[u->set_[SA_R_CUR] - 1].port_us_;
            u->mode_ = t->sets_[u->set_[SA_R_CUR] - 1].mode_;
            u->ka_next_ms_ = now + t->cfg_.keepalive_ms;
        }
        *next = ST(ACTIVE);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_FAILURE: {
        int ok;
        if (st == ST(DEREG) || st == ST(REG_PROT) || st == ST(AUTH_PROT))
            ok = arole == u->sm1_set_ && w == SA_W_RSP_DOWN;
        else if (st == ST(AUTH_UNPROT) && a->kind == IMSSEC_SA_KIND_USER_AUTH)
            ok = arole == SA_R_NEW && w == SA_W_RSP_DOWN; /* the one exception */
        else
            ok = arole == SA_R_NONE;
        if (!ok)
            return IMSSEC_E_SA_WRONG;
        if (st == ST(DEREG)) {
            *next = ST(ACTIVE);
            return IMSSEC_OK;
        }
        sa_role_delete(t, u, SA_R_NEW);
        *next = sa_state_after_abort(u);
        return IMSSEC_OK;
    }
    case IMSSEC_SA_EV_TIMEOUT:
        if (st == ST(DEREG)) {
            sa_user_delete_all(t, u);
            *next = ST(IDLE);
            return IMSSEC_OK;
        }
        sa_role_delete(t, u, SA_R_NEW);
        *next = sa_state_after_abort(u);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_MSG_IN:
        /* New SAs carry only authentication traffic until SM12 (7.4.1a). */
        if (arole != SA_R_CUR && arole != SA_R_OLD)
            return IMSSEC_E_SA_WRONG;
        if (arole == SA_R_CUR && u->set_[SA_R_OLD] && st != ST(REG_UNPROT) &&
            st != ST(AUTH_UNPROT)) {
            u->flags_ |= SA_F_NEW_SEEN;
            sa_retire_old(t, u);
        }
        *next = st;
        return IMSSEC_OK;
    case IMSSEC_SA_EV_IP_CHANGE:
        sa_user_delete_all(t, u); /* 7.5 */
        *next = ST(IDLE);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_DEREG_SEND:
        o->protect_with = sa_role_ref(t, u, SA_R_CUR, SA_W_REQ_UP);
        u->sm1_set_ = SA_R_CUR;
        *next = ST(DEREG);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_DEREG_DONE:
        if (!(arole == SA_R_CUR && w == SA_W_RSP_DOWN))
            return IMSSEC_E_SA_WRONG;
        sa_user_delete_all(t, u);
        *next = ST(IDLE);
        return IMSSEC_OK;
    default:
        return IMSSEC_E_STATE;
    }
}

/* ---- P-CSCF -------------------------------------------------------------- */
static int sa_pc_event(imssec_sa_table *t, uint32_t ui, int ev, const imssec_sa_ev_args *a,
                       imssec_sa_ev_out *o, uint64_t now, int *next)
{
    imssec_sa_user *u = &t->users_[ui];
    int st = u->state_, rc, w = 0;
    int prot = (st == ST(REG_PROT) || st == ST(AUTH_PROT));
    int arole = a->arrived_on ? sa_ref_role(t, ui, a->arrived_on, &w) : SA_R_NONE;
    /* 7.1 rule 4: the SA must belong to this user and be inbound */
    if (a->arrived_on && arole == SA_R_NONE)
        return IMSSEC_E_SA_WRONG;
    if (arole != SA_R_NONE && !sa_is_inbound(t, w))
        return IMSSEC_E_SA_WRONG;

    switch (ev) {
    case IMSSEC_SA_EV_REG_RECV: {
        int protected_ = arole != SA_R_NONE;
        if (protected_ && !((arole == SA_R_CUR || arole == SA_R_OLD) && w == SA_W_REQ_UP))
            return IMSSEC_E_SA_WRONG;
        if (!sa_addr_ok(&a->ue_ip))
            return IMSSEC_E_PARAM;
        if (!sa_valid_port(a->peer_port_c) || !sa_valid_port(a->peer_port_s) ||
            a->peer_port_c == a->peer_port_s || a->peer_spi_c < 256 || a->peer_spi_s < 256 ||
            a->peer_spi_c == a->peer_spi_s)
            return IMSSEC_E_PARAM;
        if (protected_) {
            const imssec_sa_set *s = &t->sets_[u->set_[arole] - 1];
            /* rule 2: source address = Via address (the caller resolves names) */
            if (!sa_addr_eq(&a->ue_ip, &a->via_ip))
                return IMSSEC_E_SA_RULE2;
            /* 7.1: same addresses as the initial REGISTER */
            if (!sa_addr_eq(&a->ue_ip, &s->ue_ip_))
                return IMSSEC_E_SA_RULE2;
            /* 7.4: port_us stays fixed while registered */
            if (a->peer_port_s != s->port_us_)
                return IMSSEC_E_SA_RULE3;
        }
        if (sa_peer_spi_clash(t, u, a->peer_spi_c) || sa_peer_spi_clash(t, u, a->peer_spi_s))
            return IMSSEC_E_EXISTS;
        /* rule 3: (UE IP, port_uc) not yet in the SA table */
        if (sa_port_used(t, &a->ue_ip, a->peer_port_c, UINT32_MAX))
            return IMSSEC_E_SA_RULE3;
        /* rule 3, NAT: (UE IP, port_us) not used by another UE */
        if (a->nat && sa_port_used(t, &a->ue_ip, a->peer_port_s, ui))
            return IMSSEC_E_SA_RULE3;
        /* previous incomplete procedure: its new SAs become registration SAs */
        if (u->set_[SA_R_NEW]) {
            sa_role_delete(t, u, SA_R_REG);
            u->set_[SA_R_REG] = u->set_[SA_R_NEW];
            u->set_[SA_R_NEW] = 0;
        }
        /* temporary storage (7.2 SM1) */
        u->ue_ip_ = a->ue_ip;
        u->spi_c_ = a->peer_spi_c;
        u->spi_s_ = a->peer_spi_s;
        u->port_c_ = a->peer_port_c;
        u->port_s_ = a->peer_port_s;
        u->nat_ = a->nat ? 1 : 0;
        u->sm1_set_ = protected_ ? (uint8_t)arole : SA_R_NONE;
        u->tmp_expires_ms_ = now + t->cfg_.reg_lifetime_ms;
        /* 6.1.5: protected with an SA of the latest successful authentication */
        o->integrity_protected = arole == SA_R_CUR;
        *next = protected_ ? ST(REG_PROT) : ST(REG_UNPROT);
        return IMSSEC_OK;
    }
    case IMSSEC_SA_EV_CHALLENGE: {
        sa_newset n;
        uint32_t spi_pc, spi_ps;
        uint16_t port_pc, port_ps;
        int others = sa_sets_alive(u) - (u->set_[SA_R_REG] ? 1 : 0);
        if ((rc = sa_check_newset_args(a)) != IMSSEC_OK)
            return rc;
        if (a->ue_ip.len != u->ue_ip_.len)
            return IMSSEC_E_PARAM;
        /* M.7.3.2.4 / M.7.1: NAT => UDP-enc-tun; M.7.4.2a: keep the mode */
        if (u->nat_ && a->mode != IMSSEC_SA_MODE_UDP_ENC_TUN)
            return IMSSEC_E_SA_NAT;
        if (prot && t->sets_[u->set_[u->sm1_set_] - 1].mode_ == IMSSEC_SA_MODE_UDP_ENC_TUN) {
            if (a->mode != IMSSEC_SA_MODE_UDP_ENC_TUN)
                return IMSSEC_E_SA_NAT;
        } else if (!u->nat_ && a->mode != IMSSEC_SA_MODE_TRANS) {
            return IMSSEC_E_SA_NAT; /* M.7.1: no NAT => transport mode */
        }
        /* rule 3: at most six SAs per direction per IMPI */
        if (others >= 3)
            return IMSSEC_E_SA_LIMIT;
        if ((rc = sa_spi_alloc(t, u->spi_c_, u->spi_s_, 0, &spi_pc)) != IMSSEC_OK ||
            (rc = sa_spi_alloc(t, u->spi_c_, u->spi_s_, spi_pc, &spi_ps)) != IMSSEC_OK)
            return rc;
        if (sa_peer_spi_clash(t, u, u->spi_c_) || sa_peer_spi_clash(t, u, u->spi_s_))
            return IMSSEC_E_EXISTS; /* taken by another user since SM1 */
        /* UE-chosen SPIs may repeat across users; bound the clusters */
        if (sa_spi_count(t, u->spi_c_) >= SA_SPI_DUP_MAX ||
            sa_spi_count(t, u->spi_s_) >= SA_SPI_DUP_MAX)
            return IMSSEC_E_EXISTS;
        port_ps = t->cfg_.pcscf_port_ps;
        if (!port_ps)
            port_ps = u->port_ps_;
        if (!port_ps && (rc = sa_port_alloc(t, u, &u->ue_ip_, 0, &port_ps)) != IMSSEC_OK)
            return rc;
        if ((rc = sa_port_alloc(t, u, &u->ue_ip_, port_ps, &port_pc)) != IMSSEC_OK)
            return rc;
        n.alg = a->alg;
        n.ealg = a->ealg;
        n.mode = a->mode;
        n.ue_ip = u->ue_ip_;
        n.pcscf_ip = a->pcscf_ip;
        n.port_uc = u->port_c_;
        n.port_us = u->port_s_;
        n.port_pc = port_pc;
        n.port_ps = port_ps;
        n.spi_uc = u->spi_c_;
        n.spi_us = u->spi_s_;
        n.spi_pc = spi_pc;
        n.spi_ps = spi_ps;
        n.ik = a->ik;
        n.ck = a->ck;
        n.expires_ms = now + t->cfg_.reg_lifetime_ms;
        if ((rc = sa_set_create(t, ui, SA_R_NEW, &n)) != IMSSEC_OK)
            return rc;
        sa_role_delete(t, u, SA_R_REG); /* 7.4.2a, 7.3.1.4 */
        u->port_ps_ = port_ps;
        o->protect_with = prot ? sa_role_ref(t, u, u->sm1_set_, SA_W_RSP_DOWN) : 0;
        o->spi_c = spi_pc;
        o->spi_s = spi_ps;
        o->port_c = port_pc;
        o->port_s = port_ps;
        *next = prot ? ST(AUTH_PROT) : ST(AUTH_UNPROT);
        return IMSSEC_OK;
    }
    case IMSSEC_SA_EV_AUTH_RECV:
        if (a->kind == IMSSEC_SA_KIND_NONE) {
            const imssec_sa_set *s;
            /* SM7 on the new inbound SA */
            if (!(arole == SA_R_NEW && w == SA_W_REQ_UP))
                return IMSSEC_E_SA_WRONG;
            s = &t->sets_[u->set_[SA_R_NEW] - 1];
            if (!sa_addr_eq(&a->ue_ip, &a->via_ip) || !sa_addr_eq(&a->ue_ip, &s->ue_ip_))
                return IMSSEC_E_SA_RULE2;
            o->integrity_protected = 1; /* 6.1.5 first bullet */
            *next = st;
            return IMSSEC_OK;
        }
        if (a->kind != IMSSEC_SA_KIND_NET_AUTH && a->kind != IMSSEC_SA_KIND_SYNC)
            return IMSSEC_E_PARAM;
        /* failure REGISTER: old SA if SM1 was protected, else unprotected */
        if (prot ? !(arole == u->sm1_set_ && w == SA_W_REQ_UP) : arole != SA_R_NONE)
            return IMSSEC_E_SA_WRONG;
        sa_role_delete(t, u, SA_R_NEW); /* 7.3.1.2, 7.3.1.3 */
        u->tmp_expires_ms_ = now + t->cfg_.reg_lifetime_ms;
        o->integrity_protected = arole == SA_R_CUR;
        *next = prot ? ST(REG_PROT) : ST(REG_UNPROT);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_SUCCESS:
        if (st == ST(REG_PROT)) {
            o->protect_with = sa_role_ref(t, u, u->sm1_set_, SA_W_RSP_DOWN);
            sa_extend(t, u, SA_R_CUR, sa_lifetime_after(t, now, a->expires_s));
            sa_role_delete(t, u, SA_R_REG); /* the abandoned procedure's SAs */
            *next = ST(ACTIVE);
            return IMSSEC_OK;
        }
        o->protect_with = sa_role_ref(t, u, SA_R_NEW, SA_W_RSP_DOWN); /* SM12 */
        {
            uint64_t until = sa_lifetime_after(t, now, a->expires_s);
            uint32_t cur = sa_role_set(u, SA_R_CUR), old = sa_role_set(u, SA_R_OLD);
            if (cur != UINT32_MAX && t->sets_[cur].expires_ms_ > until)
                until = t->sets_[cur].expires_ms_;
            if (old != UINT32_MAX && t->sets_[old].expires_ms_ > until)
                until = t->sets_[old].expires_ms_;
            t->sets_[u->set_[SA_R_NEW] - 1].expires_ms_ = until;
            if (st == ST(AUTH_UNPROT)) {
                /* 7.4.2a: the UE does not have the old SAs any more */
                sa_role_delete(t, u, SA_R_OLD);
                sa_role_delete(t, u, SA_R_CUR);
            } else {
                /* keep the set SM1 came on, delete any other old set */
                int keep = u->sm1_set_, drop = keep == SA_R_CUR ? SA_R_OLD : SA_R_CUR;
                uint32_t k = u->set_[keep];
                sa_role_delete(t, u, drop);
                u->set_[SA_R_OLD] = k;
            }
            u->set_[SA_R_CUR] = u->set_[SA_R_NEW];
            u->set_[SA_R_NEW] = 0;
            u->flags_ = 0;
            u->port_ps_ = t->sets_[u->set_[SA_R_CUR] - 1].port_ps_;
            u->mode_ = t->sets_[u->set_[SA_R_CUR] - 1].mode_;
        }
        *next = ST(ACTIVE);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_FAILURE:
        if (st == ST(DEREG)) {
            o->protect_with = sa_role_ref(t, u, u->sm1_set_, SA_W_RSP_DOWN);
            *next = ST(ACTIVE);
            return IMSSEC_OK;
        }
        if (prot)
            o->protect_with = sa_role_ref(t, u, u->sm1_set_, SA_W_RSP_DOWN);
        else if (st == ST(AUTH_UNPROT) && a->kind == IMSSEC_SA_KIND_USER_AUTH)
            o->protect_with = sa_role_ref(t, u, SA_R_NEW, SA_W_RSP_DOWN);
        else
            o->protect_with = 0;
        sa_role_delete(t, u, SA_R_NEW);
        sa_role_delete(t, u, SA_R_REG);
        *next = sa_state_after_abort(u);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_TIMEOUT:
        if (st == ST(DEREG)) {
            *next = ST(ACTIVE);
            return IMSSEC_OK;
        }
        sa_role_delete(t, u, SA_R_NEW);
        sa_role_delete(t, u, SA_R_REG);
        *next = sa_state_after_abort(u);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_MSG_IN:
        if (arole != SA_R_CUR && arole != SA_R_OLD)
            return IMSSEC_E_SA_WRONG;
        if (arole == SA_R_CUR && u->set_[SA_R_OLD]) {
            /* 7.4.2a: start using the new SAs outbound, retire the old */
            u->flags_ |= SA_F_NEW_SEEN | SA_F_SWITCHED;
            sa_retire_old(t, u);
        }
        *next = st;
        return IMSSEC_OK;
    case IMSSEC_SA_EV_DEREG_RECV:
        if (!((arole == SA_R_CUR || arole == SA_R_OLD) && w == SA_W_REQ_UP))
            return IMSSEC_E_SA_WRONG;
        u->sm1_set_ = (uint8_t)arole;
        *next = ST(DEREG);
        return IMSSEC_OK;
    case IMSSEC_SA_EV_DEREG_DONE:
        sa_user_delete_all(t, u);
        *next = ST(IDLE);
        return IMSSEC_OK;
    default:
        return IMSSEC_E_STATE;
    }
}

IMSSEC_API int imssec_sa_event(imssec_sa_table *t, uint32_t user_idx, int event,
                               const imssec_sa_ev_args *a, imssec_sa_ev_out *out,
                               uint64_t now_ms)
{
    static const imssec_sa_ev_args none_args = {0};
    imssec_sa_ev_out o;
    imssec_sa_user *u;
    const sa_rule *r;
    int next = -1, rc;
    if (!t || user_idx >= t->user_cap_ || !t->users_[user_idx].used_ || event < 0 ||
        event >= IMSSEC_SA_EV_COUNT_)
        return IMSSEC_E_PARAM;
    if (!a)
        a = &none_args;
    u = &t->users_[user_idx];
    r = sa_rule_find(t->cfg_.role, u->state_, event);
    if (!r)
        return IMSSEC_E_STATE;
    memset(&o, 0, sizeof o);
    t->cb_err_ = 0;
    if (t->cfg_.role == IMSSEC_SA_ROLE_UE)
        rc = sa_ue_event(t, user_idx, event, a, &o, now_ms, &next);
    else
        rc = sa_pc_event(t, user_idx, event, a, &o, now_ms, &next);
    if (rc != IMSSEC_OK)
        return rc;
    if (next < 0 || !(r->to & SA_B(next)))
        return IMSSEC_E_STATE; /* unreachable: the table and actions agree */
    u->state_ = (uint8_t)next;
    if (next == ST(IDLE) && sa_sets_alive(u))
        sa_user_delete_all(t, u);
    if (next == ST(ACTIVE) || next == ST(IDLE))
        u->tmp_expires_ms_ = 0;
    o.state = (uint8_t)next;
    if (out)
        *out = o;
    sa_sched(t, user_idx);
    return sa_cb_result(t);
}

/* ===========================================================================
 * Routing, transactions, lookups
 * ======================================================================== */
IMSSEC_API int imssec_sa_route(imssec_sa_table *t, uint32_t user_idx, int is_request,
                               imssec_sa_ref in_ref, imssec_sa_ref *sa)
{
    const imssec_sa_user *u;
    int pc, st;
    if (!t || !sa || user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return IMSSEC_E_PARAM;
    u = &t->users_[user_idx];
    pc = t->cfg_.role == IMSSEC_SA_ROLE_PCSCF;
    st = u->state_;
    if (st == ST(IDLE) || !u->set_[SA_R_CUR])
        return IMSSEC_E_STATE;
    if (!pc && (st == ST(REG_UNPROT) || st == ST(AUTH_UNPROT)))
        return IMSSEC_E_STATE; /* 7.4.1a: no IMS service until SM12 */
    if (is_request) {
        int role = SA_R_CUR;
        /* P-CSCF keeps sending on the old SAs until switch-over (7.4.2a) */
        if (pc && u->set_[SA_R_OLD] && !(u->flags_ & SA_F_SWITCHED))
            role = SA_R_OLD;
        *sa = sa_role_ref(t, u, role, pc ? IMSSEC_SA_PC_US : IMSSEC_SA_UC_PS);
        return IMSSEC_OK;
    } else {
        int w, role = sa_ref_role(t, user_idx, in_ref, &w);
        if (role != SA_R_CUR && role != SA_R_OLD)
            return in_ref ? IMSSEC_E_NOT_FOUND : IMSSEC_E_STATE;
        if (!sa_is_inbound(t, w))
            return IMSSEC_E_PARAM;
        /* the response leaves from our server port to the peer's client port */
        *sa = sa_role_ref(t, u, role, pc ? IMSSEC_SA_PS_UC : IMSSEC_SA_US_PC);
        return IMSSEC_OK;
    }
}

IMSSEC_API int imssec_sa_txn_begin(imssec_sa_table *t, imssec_sa_ref sa)
{
    uint32_t s;
    if (!t)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, NULL);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    if (t->sets_[s].pending_ == UINT32_MAX)
        return IMSSEC_E_RANGE;
    t->sets_[s].pending_++;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_txn_end(imssec_sa_table *t, imssec_sa_ref sa, uint64_t now_ms)
{
    uint32_t s;
    (void)now_ms;
    if (!t)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, NULL);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    if (t->sets_[s].pending_ == 0)
        return IMSSEC_E_STATE;
    t->sets_[s].pending_--;
    t->cb_err_ = 0;
    {
        uint32_t ui = t->sets_[s].user_;
        sa_retire_old(t, &t->users_[ui]);
        sa_sched(t, ui);
    }
    return sa_cb_result(t);
}

IMSSEC_API int imssec_sa_find_spi(const imssec_sa_table *t, uint32_t spi, imssec_sa_ref *sa)
{
    uint32_t mask, i;
    if (!t || !sa)
        return IMSSEC_E_PARAM;
    mask = t->ix_spi_mask_;
    i = (uint32_t)sa_hash_spi(t, spi) & mask;
    while (t->ix_spi_[i] != 0) {
        uint32_t v = t->ix_spi_[i], set = (v - 1) >> 2;
        int w = (int)((v - 1) & 3);
        if (t->sets_[set].spi_[w] == spi && sa_is_inbound(t, w)) {
            *sa = sa_ref_make(t, set, w);
            return IMSSEC_OK;
        }
        i = (i + 1) & mask;
    }
    return IMSSEC_E_NOT_FOUND;
}

IMSSEC_API int imssec_sa_find_ports(const imssec_sa_table *t, const imssec_sa_addr *ue_ip,
                                    uint16_t ue_port, uint16_t pcscf_port, int uplink,
                                    imssec_sa_ref *sa)
{
    uint32_t mask, i;
    if (!t || !ue_ip || !sa || !sa_addr_ok(ue_ip))
        return IMSSEC_E_PARAM;
    mask = t->ix_port_mask_;
    i = (uint32_t)sa_hash_port(t, ue_ip, ue_port) & mask;
    while (t->ix_port_[i] != 0) {
        uint32_t v = t->ix_port_[i], set = (v - 1) >> 2;
        int w = (int)((v - 1) & 3);
        const imssec_sa_set *s = &t->sets_[set];
        if (sa_ue_port(s, w) == ue_port && sa_pc_port(s, w) == pcscf_port &&
            sa_is_uplink(w) == (uplink != 0) && sa_addr_eq(&s->ue_ip_, ue_ip)) {
            *sa = sa_ref_make(t, set, w);
            return IMSSEC_OK;
        }
        i = (i + 1) & mask;
    }
    return IMSSEC_E_NOT_FOUND;
}

IMSSEC_API int imssec_sa_owner(const imssec_sa_table *t, imssec_sa_ref sa, uint32_t *user_idx)
{
    uint32_t s;
    if (!t || !user_idx)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, NULL);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    *user_idx = t->sets_[s].user_;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_get(const imssec_sa_table *t, imssec_sa_ref sa, imssec_sa_info *info)
{
    uint32_t s;
    int w;
    if (!t || !info)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, &w);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    sa_info_fill(t, s, w, info);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sa_learn_uenc(imssec_sa_table *t, imssec_sa_ref sa, uint16_t port_uenc)
{
    uint32_t s;
    int w, k;
    uint16_t before;
    if (!t || port_uenc == 0)
        return IMSSEC_E_PARAM;
    s = sa_ref_set(t, sa, &w);
    if (s == UINT32_MAX)
        return IMSSEC_E_NOT_FOUND;
    if (t->cfg_.role != IMSSEC_SA_ROLE_PCSCF || !sa_is_inbound(t, w) ||
        t->sets_[s].mode_ != IMSSEC_SA_MODE_UDP_ENC_TUN)
        return IMSSEC_E_STATE;
    before = t->sets_[s].port_uenc_;
    if (before == port_uenc)
        return IMSSEC_OK;
    t->sets_[s].port_uenc_ = port_uenc;
    if (t->cb_ && t->cb_->update) {
        for (k = 0; k < 4; k++) {
            imssec_sa_info info;
            int rc;
            sa_info_fill(t, s, k, &info);
            rc = t->cb_->update(t->cb_->user, &info);
            isc_wipe(&info, sizeof info);
            if (rc != 0) {
                int j;
                t->sets_[s].port_uenc_ = before;
                for (j = 0; j < k; j++) { /* put back what was changed */
                    sa_info_fill(t, s, j, &info);
                    (void)t->cb_->update(t->cb_->user, &info);
                    isc_wipe(&info, sizeof info);
                }
                return IMSSEC_E_CALLBACK;
            }
        }
    }
    return IMSSEC_OK;
}

/* ===========================================================================
 * Time
 * ======================================================================== */
/* Everything due for one user at now_ms. */
static void sa_tick_user(imssec_sa_table *t, imssec_sa_user *u, uint64_t now_ms)
{
    int st = u->state_, r;
    uint32_t cur;
    /* lifetimes (7.4.1a, 7.4.2a: "shall delete any SA whose lifetime is exceeded") */
    for (r = 0; r < 4; r++) {
        uint32_t s = sa_role_set(u, r);
        if (s != UINT32_MAX && t->sets_[s].expires_ms_ <= now_ms) {
            int was_sm1 = (r == u->sm1_set_) &&
                          (st == ST(REG_PROT) || st == ST(AUTH_PROT) || st == ST(DEREG));
            sa_set_delete(t, s);
            if (r == SA_R_CUR && st != ST(REG_UNPROT) && st != ST(AUTH_UNPROT)) {
                sa_user_delete_all(t, u); /* registration gone */
                return;
            }
            /* registration SAs (REG) belong to an earlier, abandoned
             * procedure: deleting them is all 7.3.1.4 asks; NEW ones and
             * the set SM1 came on belong to the running procedure */
            if (r == SA_R_NEW || was_sm1) {
                /* 7.3.1.4: drop the procedure that created / used it */
                sa_role_delete(t, u, SA_R_NEW);
                sa_role_delete(t, u, SA_R_REG);
                u->state_ = (uint8_t)sa_state_after_abort(u);
                u->tmp_expires_ms_ = 0;
                if (u->state_ == ST(IDLE)) {
                    sa_user_delete_all(t, u);
                    return;
                }
            }
        }
    }
    st = u->state_;
    /* temporary storage awaiting the network (7.3.1.1) */
    if ((st == ST(REG_UNPROT) || st == ST(REG_PROT)) && u->tmp_expires_ms_ &&
        u->tmp_expires_ms_ <= now_ms) {
        sa_role_delete(t, u, SA_R_REG);
        u->state_ = (uint8_t)sa_state_after_abort(u);
        u->tmp_expires_ms_ = 0;
        if (u->state_ == ST(IDLE)) {
            sa_user_delete_all(t, u);
            return;
        }
    }
    cur = sa_role_set(u, SA_R_CUR);
    /* P-CSCF: old SAs with only a short time left => switch (7.4.2a) */
    if (t->cfg_.role == IMSSEC_SA_ROLE_PCSCF && u->set_[SA_R_OLD] &&
        !(u->flags_ & SA_F_SWITCHED)) {
        uint64_t oe = t->sets_[u->set_[SA_R_OLD] - 1].expires_ms_;
        if (oe <= (uint64_t)t->cfg_.switch_before_ms + now_ms)
            u->flags_ |= SA_F_SWITCHED;
    }
    /* UE NAT keepalive (M.7.2, RFC 3948) */
    if (t->cfg_.role == IMSSEC_SA_ROLE_UE && cur != UINT32_MAX &&
        t->sets_[cur].mode_ == IMSSEC_SA_MODE_UDP_ENC_TUN && t->cfg_.keepalive_ms &&
        u->ka_next_ms_ <= now_ms) {
        if (t->cb_ && t->cb_->keepalive &&
            t->cb_->keepalive(t->cb_->user, (const char *)u->impi_, u->impi_len_) != 0)
            t->cb_err_ = 1;
        u->ka_next_ms_ = now_ms + t->cfg_.keepalive_ms;
    }
}

IMSSEC_API int imssec_sa_tick(imssec_sa_table *t, uint64_t now_ms, uint64_t *next_ms)
{
    uint32_t guard;
    if (!t || !next_ms)
        return IMSSEC_E_PARAM;
    t->cb_err_ = 0;
    /* each pass over a due user leaves it with a deadline after now_ms, so
     * every user is visited at most once; the guard only bounds a bug */
    guard = t->heap_n_ + 1u;
    while (t->heap_n_ && t->users_[t->heap_[0]].due_ms_ <= now_ms && guard--) {
        uint32_t ui = t->heap_[0];
        sa_tick_user(t, &t->users_[ui], now_ms);
        sa_sched(t, ui);
    }
    *next_ms = t->heap_n_ ? t->users_[t->heap_[0]].due_ms_ : UINT64_MAX;
    return sa_cb_result(t);
}

/* ===========================================================================
 * Counting and the invariant check
 * ======================================================================== */
IMSSEC_API size_t imssec_sa_count(const imssec_sa_table *t, uint32_t user_idx)
{
    if (!t)
        return 0;
    if (user_idx == UINT32_MAX)
        return (size_t)t->sets_used_ * 4u;
    if (user_idx >= t->user_cap_ || !t->users_[user_idx].used_)
        return 0;
    return (size_t)sa_sets_alive(&t->users_[user_idx]) * 4u;
}

static int sa_ix_holds(const imssec_sa_table *t, int ix, uint32_t v)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask);
    uint32_t i = (uint32_t)sa_hash_of(t, ix, v) & mask, n = 0;
    while (a[i] != 0 && n++ <= mask) {
        if (a[i] == v)
            return 1;
        i = (i + 1) & mask;
    }
    return 0;
}

static int sa_check_index(const imssec_sa_table *t, int ix, uint32_t *count)
{
    uint32_t mask, *a = sa_ix(t, ix, &mask), i;
    *count = 0;
    for (i = 0; i <= mask; i++) {
        uint32_t v = a[i];
        if (!v)
            continue;
        (*count)++;
        if (ix == SA_IX_IMPI) {
            if (v > t->user_cap_ || !t->users_[v - 1].used_)
                return 0;
        } else if (((v - 1) >> 2) >= t->set_cap_ || !t->sets_[(v - 1) >> 2].used_) {
            return 0;
        }
        if (!sa_ix_holds(t, ix, v)) /* reachable from its home slot */
            return 0;
    }
    return 1;
}

IMSSEC_API int imssec_sa_table_check(const imssec_sa_table *t)
{
    uint32_t i, n_users = 0, n_sets = 0, n_ix;
    int w, r;
    if (!t || !t->users_)
        return IMSSEC_E_PARAM;
    for (i = 0; i < t->set_cap_; i++) {
        const imssec_sa_set *s = &t->sets_[i];
        int refs = 0;
        if (!s->used_)
            continue;
        n_sets++;
        if (s->user_ >= t->user_cap_ || !t->users_[s->user_].used_)
            return IMSSEC_E_STATE;
        for (r = 0; r < 4; r++)
            refs += t->users_[s->user_].set_[r] == i + 1;
        if (refs != 1)
            return IMSSEC_E_STATE; /* every set has exactly one role */
        for (w = 0; w < 4; w++) {
            uint32_t v = i * 4u + (uint32_t)w + 1u;
            if (!sa_ix_holds(t, SA_IX_SPI, v) || !sa_ix_holds(t, SA_IX_PORT, v))
                return IMSSEC_E_STATE;
            if (s->spi_[w] < 256 && sa_is_inbound(t, w))
                return IMSSEC_E_STATE;
            /* our inbound SPIs are unique among all SPIs in the table */
            if (sa_is_inbound(t, w) && sa_spi_count(t, s->spi_[w]) != 1)
                return IMSSEC_E_STATE;
        }
    }
    for (i = 0; i < t->user_cap_; i++) {
        const imssec_sa_user *u = &t->users_[i];
        int st = u->state_, alive;
        if (!u->used_)
            continue;
        n_users++;
        if (!sa_ix_holds(t, SA_IX_IMPI, i + 1) || st >= IMSSEC_SA_ST_COUNT_)
            return IMSSEC_E_STATE;
        for (r = 0; r < 4; r++)
            if (u->set_[r] && (u->set_[r] > t->set_cap_ || !t->sets_[u->set_[r] - 1].used_ ||
                               t->sets_[u->set_[r] - 1].user_ != i))
                return IMSSEC_E_STATE;
        alive = sa_sets_alive(u);
        if (alive > 3) /* 7.1 rule 3: six SAs per direction */
            return IMSSEC_E_STATE;
        if (u->set_[SA_R_OLD] && !u->set_[SA_R_CUR])
            return IMSSEC_E_STATE;
        switch (st) {
        case IMSSEC_SA_ST_IDLE:
            if (alive)
                return IMSSEC_E_STATE;
            break;
        case IMSSEC_SA_ST_REG_UNPROT:
        case IMSSEC_SA_ST_REG_PROT:
            if (u->set_[SA_R_NEW] || (st == ST(REG_PROT) && !u->set_[SA_R_CUR]))
                return IMSSEC_E_STATE;
            break;
        case IMSSEC_SA_ST_AUTH_UNPROT:
        case IMSSEC_SA_ST_AUTH_PROT:
            if (!u->set_[SA_R_NEW] || (st == ST(AUTH_PROT) && !u->set_[SA_R_CUR]))
                return IMSSEC_E_STATE;
            break;
        default: /* ACTIVE, DEREG */
            if (!u->set_[SA_R_CUR] || u->set_[SA_R_NEW] || u->set_[SA_R_REG])
                return IMSSEC_E_STATE;
            break;
        }
    }
    if (n_users != t->users_used_ || n_sets != t->sets_used_)
        return IMSSEC_E_STATE;
    /* the deadline heap: every user with a deadline is in it, keyed by it */
    {
        uint32_t in_heap = 0;
        for (i = 0; i < t->user_cap_; i++) {
            const imssec_sa_user *u = &t->users_[i];
            uint64_t d;
            if (!u->used_) {
                if (u->heap_pos_)
                    return IMSSEC_E_STATE;
                continue;
            }
            d = sa_user_due(t, u);
            if (d == UINT64_MAX) {
                if (u->heap_pos_)
                    return IMSSEC_E_STATE;
                continue;
            }
            if (!u->heap_pos_ || u->heap_pos_ > t->heap_n_ || t->heap_[u->heap_pos_ - 1] != i ||
                u->due_ms_ != d)
                return IMSSEC_E_STATE;
            in_heap++;
        }
        if (in_heap != t->heap_n_)
            return IMSSEC_E_STATE;
        for (i = 1; i < t->heap_n_; i++)
            if (t->users_[t->heap_[(i - 1) / 2]].due_ms_ > t->users_[t->heap_[i]].due_ms_)
                return IMSSEC_E_STATE;
    }
    if (!sa_check_index(t, SA_IX_SPI, &n_ix) || n_ix != n_sets * 4u)
        return IMSSEC_E_STATE;
    if (!sa_check_index(t, SA_IX_PORT, &n_ix) || n_ix != n_sets * 4u)
        return IMSSEC_E_STATE;
    if (!sa_check_index(t, SA_IX_IMPI, &n_ix) || n_ix != n_users)
        return IMSSEC_E_STATE;
    return IMSSEC_OK;
}

/* ===========================================================================
 * Snapshot / restore
 *
 * Format (big-endian), version 1:
 *   "ISSA" | version | role | with_keys | 0 | n_users u32 | n_sets u32
 *   users, ascending index: idx u32 | impi_len u8 | impi | state flags sm1
 *     nat mode u8 | set_[4] u32 | ue_ip (len u8, 16 bytes) | spi_c spi_s u32
 *     | port_c port_s port_us port_ps u16 | tmp_expires ka_next u64
 *   sets, ascending index: idx gen user u32 | alg ealg mode ik_len ck_len u8
 *     | ue_ip pcscf_ip (17 bytes each) | uc us pc ps uenc u16 | spi[4] u32
 *     | pending u32 | expires u64 | handle[4] u64 | ik | ck
 *   SHA-256 of all of the above.
 * ======================================================================== */
#define SA_SNAP_VERSION 1
#define SA_SNAP_HDR 16

typedef struct sa_wr {
    uint8_t *p;
    size_t cap, n;
} sa_wr;

static void sa_w(sa_wr *w, const void *p, size_t n)
{
    if (w->n + n <= w->cap && w->p)
        memcpy(w->p + w->n, p, n);
    w->n += n;
}

static void sa_w8(sa_wr *w, uint8_t v)
{
    sa_w(w, &v, 1);
}

static void sa_w16(sa_wr *w, uint16_t v)
{
    uint8_t b[2];
    isc_put_be16(b, v);
    sa_w(w, b, 2);
}

static void sa_w32(sa_wr *w, uint32_t v)
{
    uint8_t b[4];
    isc_put_be32(b, v);
    sa_w(w, b, 4);
}

static void sa_w64(sa_wr *w, uint64_t v)
{
    sa_w32(w, (uint32_t)(v >> 32));
    sa_w32(w, (uint32_t)v);
}

static void sa_waddr(sa_wr *w, const imssec_sa_addr *a)
{
    sa_w8(w, a->len);
    sa_w(w, a->b, 16);
}

static void sa_snapshot_body(const imssec_sa_table *t, int with_keys, uint8_t *out, size_t cap,
                             size_t *len);

IMSSEC_API int imssec_sa_snapshot(const imssec_sa_table *t, int with_keys, uint8_t *out,
                                  size_t cap, size_t *out_len)
{
    size_t need;
    if (!t || !out_len || (!out && cap))
        return IMSSEC_E_PARAM;
    /* size first (nothing written), then the bytes */
    sa_snapshot_body(t, with_keys, NULL, 0, &need);
    *out_len = need + 32;
    if (need + 32 > cap)
        return IMSSEC_E_SPACE;
    sa_snapshot_body(t, with_keys, out, cap, &need);
    isc_hash_once(ISC_SHA256, out, need, out + need);
    return IMSSEC_OK;
}

static void sa_snapshot_body(const imssec_sa_table *t, int with_keys, uint8_t *out, size_t cap,
                             size_t *len)
{
    sa_wr w;
    uint32_t i;
    int k;
    memset(&w, 0, sizeof w);
    w.p = out;
    w.cap = cap;
    sa_w(&w, "ISSA", 4);
    sa_w8(&w, SA_SNAP_VERSION);
    sa_w8(&w, t->cfg_.role);
    sa_w8(&w, with_keys ? 1 : 0);
    sa_w8(&w, 0);
    sa_w32(&w, t->users_used_);
    sa_w32(&w, t->sets_used_);
    for (i = 0; i < t->user_cap_; i++) {
        const imssec_sa_user *u = &t->users_[i];
        if (!u->used_)
            continue;
        sa_w32(&w, i);
        sa_w8(&w, u->impi_len_);
        sa_w(&w, u->impi_, u->impi_len_);
        sa_w8(&w, u->state_);
        sa_w8(&w, u->flags_);
        sa_w8(&w, u->sm1_set_);
        sa_w8(&w, u->nat_);
        sa_w8(&w, u->mode_);
        for (k = 0; k < 4; k++)
            sa_w32(&w, u->set_[k]);
        sa_waddr(&w, &u->ue_ip_);
        sa_w32(&w, u->spi_c_);
        sa_w32(&w, u->spi_s_);
        sa_w16(&w, u->port_c_);
        sa_w16(&w, u->port_s_);
        sa_w16(&w, u->port_us_);
        sa_w16(&w, u->port_ps_);
        sa_w64(&w, u->tmp_expires_ms_);
        sa_w64(&w, u->ka_next_ms_);
    }
    for (i = 0; i < t->set_cap_; i++) {
        const imssec_sa_set *s = &t->sets_[i];
        if (!s->used_)
            continue;
        sa_w32(&w, i);
        sa_w32(&w, s->gen_);
        sa_w32(&w, s->user_);
        sa_w8(&w, s->alg_);
        sa_w8(&w, s->ealg_);
        sa_w8(&w, s->mode_);
        sa_w8(&w, with_keys ? s->ik_len_ : 0);
        sa_w8(&w, with_keys ? s->ck_len_ : 0);
        sa_waddr(&w, &s->ue_ip_);
        sa_waddr(&w, &s->pcscf_ip_);
        sa_w16(&w, s->port_uc_);
        sa_w16(&w, s->port_us_);
        sa_w16(&w, s->port_pc_);
        sa_w16(&w, s->port_ps_);
        sa_w16(&w, s->port_uenc_);
        for (k = 0; k < 4; k++)
            sa_w32(&w, s->spi_[k]);
        sa_w32(&w, s->pending_);
        sa_w64(&w, s->expires_ms_);
        for (k = 0; k < 4; k++)
            sa_w64(&w, s->handle_[k]);
        if (with_keys) {
            sa_w(&w, s->ik_, s->ik_len_);
            sa_w(&w, s->ck_, s->ck_len_);
        }
    }
    *len = w.n;
}

typedef struct sa_rd {
    const uint8_t *p;
    size_t n, off;
    int bad;
} sa_rd;

static const uint8_t *sa_r(sa_rd *r, size_t n)
{
    const uint8_t *q;
    if (r->bad || r->n - r->off < n) {
        r->bad = 1;
        return NULL;
    }
    q = r->p + r->off;
    r->off += n;
    return q;
}

static uint8_t sa_r8(sa_rd *r)
{
    const uint8_t *q = sa_r(r, 1);
    return q ? q[0] : 0;
}

static uint16_t sa_r16(sa_rd *r)
{
    const uint8_t *q = sa_r(r, 2);
    return q ? isc_be16(q) : 0;
}

static uint32_t sa_r32(sa_rd *r)
{
    const uint8_t *q = sa_r(r, 4);
    return q ? isc_be32(q) : 0;
}

static uint64_t sa_r64(sa_rd *r)
{
    uint64_t hi = sa_r32(r);
    return (hi << 32) | sa_r32(r);
}

static void sa_raddr(sa_rd *r, imssec_sa_addr *a, int may_be_empty)
{
    const uint8_t *q;
    memset(a, 0, sizeof *a);
    a->len = sa_r8(r);
    q = sa_r(r, 16);
    if (q)
        memcpy(a->b, q, 16);
    if (!(sa_addr_ok(a) || (may_be_empty && a->len == 0)))
        r->bad = 1;
    if (a->len < 16 && q) {
        size_t k;
        for (k = a->len; k < 16; k++)
            if (q[k])
                r->bad = 1; /* canonical: unused bytes are zero */
    }
}

/* Parse one user / set record into u / s; apply = 0 only validates. */
static void sa_rd_user(sa_rd *r, const imssec_sa_table *t, imssec_sa_user *u, uint32_t *idx)
{
    const uint8_t *q;
    int k;
    memset(u, 0, sizeof *u);
    *idx = sa_r32(r);
    u->impi_len_ = sa_r8(r);
    if (u->impi_len_ == 0 || u->impi_len_ > IMSSEC_SA_IMPI_MAX)
        r->bad = 1;
    q = sa_r(r, r->bad ? 0 : u->impi_len_);
    if (q && !r->bad)
        memcpy(u->impi_, q, u->impi_len_);
    u->state_ = sa_r8(r);
    u->flags_ = sa_r8(r);
    u->sm1_set_ = sa_r8(r);
    u->nat_ = sa_r8(r);
    u->mode_ = sa_r8(r);
    for (k = 0; k < 4; k++) {
        u->set_[k] = sa_r32(r);
        if (u->set_[k] > t->set_cap_)
            r->bad = 1;
    }
    sa_raddr(r, &u->ue_ip_, 1);
    u->spi_c_ = sa_r32(r);
    u->spi_s_ = sa_r32(r);
    u->port_c_ = sa_r16(r);
    u->port_s_ = sa_r16(r);
    u->port_us_ = sa_r16(r);
    u->port_ps_ = sa_r16(r);
    u->tmp_expires_ms_ = sa_r64(r);
    u->ka_next_ms_ = sa_r64(r);
    u->used_ = 1;
    if (*idx >= t->user_cap_ || u->state_ >= IMSSEC_SA_ST_COUNT_ ||
        (u->sm1_set_ > SA_R_REG && u->sm1_set_ != SA_R_NONE) || u->nat_ > 1 ||
        u->mode_ > IMSSEC_SA_MODE_UDP_ENC_TUN || (u->flags_ & ~3u))
        r->bad = 1;
}

static void sa_rd_set(sa_rd *r, const imssec_sa_table *t, imssec_sa_set *s, uint32_t *idx)
{
    const uint8_t *q;
    int k;
    memset(s, 0, sizeof *s);
    *idx = sa_r32(r);
    s->gen_ = sa_r32(r);
    s->user_ = sa_r32(r);
    s->alg_ = sa_r8(r);
    s->ealg_ = sa_r8(r);
    s->mode_ = sa_r8(r);
    s->ik_len_ = sa_r8(r);
    s->ck_len_ = sa_r8(r);
    sa_raddr(r, &s->ue_ip_, 0);
    sa_raddr(r, &s->pcscf_ip_, 0);
    s->port_uc_ = sa_r16(r);
    s->port_us_ = sa_r16(r);
    s->port_pc_ = sa_r16(r);
    s->port_ps_ = sa_r16(r);
    s->port_uenc_ = sa_r16(r);
    for (k = 0; k < 4; k++)
        s->spi_[k] = sa_r32(r);
    s->pending_ = sa_r32(r);
    s->expires_ms_ = sa_r64(r);
    for (k = 0; k < 4; k++)
        s->handle_[k] = sa_r64(r);
    if (s->ik_len_ > sizeof s->ik_ || s->ck_len_ > sizeof s->ck_)
        r->bad = 1;
    q = sa_r(r, r->bad ? 0 : s->ik_len_);
    if (q && !r->bad)
        memcpy(s->ik_, q, s->ik_len_);
    q = sa_r(r, r->bad ? 0 : s->ck_len_);
    if (q && !r->bad)
        memcpy(s->ck_, q, s->ck_len_);
    s->used_ = 1;
    if (*idx >= t->set_cap_ || s->gen_ == 0 || s->user_ >= t->user_cap_ ||
        s->alg_ < IMSSEC_SA_ALG_HMAC_MD5_96 || s->alg_ > IMSSEC_SA_ALG_HMAC_SHA1_96 ||
        s->ealg_ > IMSSEC_SA_EALG_AES_CBC || s->mode_ > IMSSEC_SA_MODE_UDP_ENC_TUN ||
        s->ue_ip_.len != s->pcscf_ip_.len)
        r->bad = 1;
}

/* One pass over the snapshot body; with apply = 0 nothing is written. */
static int sa_restore_pass(imssec_sa_table *t, const uint8_t *in, size_t body, int apply)
{
    sa_rd r;
    uint32_t nu, ns, i, idx, last;
    r.p = in;
    r.n = body;
    r.off = SA_SNAP_HDR;
    r.bad = 0;
    nu = isc_be32(in + 8);
    ns = isc_be32(in + 12);
    if (nu > t->user_cap_ || ns > t->set_cap_)
        return IMSSEC_E_SPACE;
    last = 0;
    for (i = 0; i < nu && !r.bad; i++) {
        imssec_sa_user u;
        sa_rd_user(&r, t, &u, &idx);
        if (i && idx <= last)
            r.bad = 1; /* strictly ascending: no duplicates */
        last = idx;
        if (apply && !r.bad)
            t->users_[idx] = u;
        isc_wipe(&u, sizeof u);
    }
    last = 0;
    for (i = 0; i < ns && !r.bad; i++) {
        imssec_sa_set s;
        sa_rd_set(&r, t, &s, &idx);
        if (i && idx <= last)
            r.bad = 1;
        last = idx;
        if (apply && !r.bad)
            t->sets_[idx] = s;
        isc_wipe(&s, sizeof s);
    }
    if (r.bad || r.off != body)
        return IMSSEC_E_SYNTAX;
    return IMSSEC_OK;
}

static void sa_clear(imssec_sa_table *t)
{
    uint32_t i;
    isc_wipe(t->users_, (size_t)t->user_cap_ * sizeof(imssec_sa_user));
    isc_wipe(t->sets_, (size_t)t->set_cap_ * sizeof(imssec_sa_set));
    memset(t->ix_spi_, 0, ((size_t)t->ix_spi_mask_ + 1u) * 4u);
    memset(t->ix_port_, 0, ((size_t)t->ix_port_mask_ + 1u) * 4u);
    memset(t->ix_impi_, 0, ((size_t)t->ix_impi_mask_ + 1u) * 4u);
    t->users_used_ = t->sets_used_ = t->free_user_ = t->free_set_ = t->heap_n_ = 0;
    memset(t->heap_, 0, (size_t)t->user_cap_ * 4u);
    for (i = 0; i < t->set_cap_; i++)
        t->sets_[i].gen_ = 1;
}

/* Free lists and indexes from the records. */
static void sa_rebuild(imssec_sa_table *t)
{
    uint32_t i;
    int w;
    t->users_used_ = t->sets_used_ = t->free_user_ = t->free_set_ = 0;
    for (i = t->user_cap_; i > 0; i--) {
        imssec_sa_user *u = &t->users_[i - 1];
        if (u->used_) {
            t->users_used_++;
            sa_ix_insert(t, SA_IX_IMPI, i);
        } else {
            u->set_[0] = t->free_user_;
            t->free_user_ = i;
        }
    }
    for (i = t->set_cap_; i > 0; i--) {
        imssec_sa_set *s = &t->sets_[i - 1];
        if (s->used_) {
            t->sets_used_++;
            for (w = 0; w < 4; w++) {
                sa_ix_insert(t, SA_IX_SPI, (i - 1) * 4u + (uint32_t)w + 1u);
                sa_ix_insert(t, SA_IX_PORT, (i - 1) * 4u + (uint32_t)w + 1u);
            }
        } else {
            if (!s->gen_)
                s->gen_ = 1;
            s->user_ = t->free_set_;
            t->free_set_ = i;
        }
    }
    t->heap_n_ = 0;
    for (i = 0; i < t->user_cap_; i++) {
        t->users_[i].heap_pos_ = 0;
        t->users_[i].due_ms_ = 0;
        if (t->users_[i].used_)
            sa_sched(t, i);
    }
}

IMSSEC_API int imssec_sa_restore(imssec_sa_table *t, const uint8_t *in, size_t len)
{
    uint8_t h[32];
    size_t body;
    int rc;
    if (!t || !t->users_ || (!in && len))
        return IMSSEC_E_PARAM;
    if (len < SA_SNAP_HDR + 32)
        return IMSSEC_E_SYNTAX;
    body = len - 32;
    isc_hash_once(ISC_SHA256, in, body, h);
    if (!isc_ct_eq(h, in + body, 32) || memcmp(in, "ISSA", 4) != 0 ||
        in[4] != SA_SNAP_VERSION || in[5] != t->cfg_.role || in[6] > 1 || in[7] != 0)
        return IMSSEC_E_SYNTAX;
    /* validate everything before touching the table */
    if ((rc = sa_restore_pass(t, in, body, 0)) != IMSSEC_OK)
        return rc;
    sa_clear(t);
    (void)sa_restore_pass(t, in, body, 1);
    sa_rebuild(t);
    if (imssec_sa_table_check(t) != IMSSEC_OK) {
        /* records individually valid but not a consistent table (only a
         * hand-made snapshot with a correct hash can get here) */
        sa_clear(t);
        sa_rebuild(t);
        return IMSSEC_E_SYNTAX;
    }
    return IMSSEC_OK;
}
