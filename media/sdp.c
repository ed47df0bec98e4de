/*
 * media/sdp.c -- the SDP side of TS 33.328 (v14.1.0) media plane security
 * with SDES, as pure functions over SDP text: the P-CSCF (IMS-ALG)
 * rewrites for e2ae (7.2.1, 7.3.1), the UE's offer, answer check and answer
 * (7.2.1, 7.2.2, 7.3.1, 7.3.2), session updates (7.4) and emergency
 * sessions (7.5).  The a=crypto attributes themselves are media/sdes.c's.
 *
 * Every procedure runs the same three passes over the text, so that
 * nothing is written unless everything succeeds:
 *   1. dry:    check each section, compute its new keys into a temporary
 *              (with a zero "random" callback) and measure the output;
 *   2. commit: the same computation into the caller's keys[] (only here
 *              is io->random called);
 *   3. emit:   write the text from keys[].
 * The computation is deterministic in everything but key bytes, which do
 * not change any length, so pass 3 writes exactly what pass 1 measured.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

#if IMSSEC_SDP_CRYPTO_MAX < 1 || IMSSEC_SDP_CRYPTO_MAX > 6
#error "IMSSEC_SDP_CRYPTO_MAX must be 1..6"
#endif

/* the procedures */
enum {
    SDP_ALG_ORIG_OFFER,
    SDP_ALG_ORIG_ANSWER,
    SDP_ALG_TERM_OFFER,
    SDP_ALG_TERM_ANSWER,
    SDP_UE_OFFER,
    SDP_UE_CHECK,
    SDP_UE_ANSWER
};
#define SDP_CREATES(k) ((k) == SDP_ALG_ORIG_OFFER || (k) == SDP_ALG_TERM_OFFER || \
                        (k) == SDP_UE_OFFER || (k) == SDP_UE_ANSWER)

/* ---- keys ---------------------------------------------------------------------- */

static int sdp_keys_ok(const imssec_sdp_keys *k)
{
    size_t i;
    if ((k->mode != IMSSEC_SDP_MODE_E2AE && k->mode != IMSSEC_SDP_MODE_E2E) ||
        k->status < IMSSEC_SDP_OFFERED || k->status > IMSSEC_SDP_REJECTED || k->n_local == 0 ||
        k->n_local > IMSSEC_SDP_CRYPTO_MAX || (k->status == IMSSEC_SDP_AGREED && k->n_local != 1))
        return 0;
    for (i = 0; i < k->n_local; i++)
        if (!sd_crypto_ok(&k->local[i]))
            return 0;
    return k->status != IMSSEC_SDP_AGREED || sd_crypto_ok(&k->remote);
}

/* The same attribute: tag, suite, session flags and every key, salt and
 * MKI (lifetimes aside: e2ae clears them). */
static int sdp_same(const imssec_sdes_crypto *a, const imssec_sdes_crypto *b)
{
    size_t i, kl = imssec_srtp_suite_key_len(a->suite), sl = imssec_srtp_suite_salt_len(a->suite);
    int eq = a->tag == b->tag && a->suite == b->suite && a->flags == b->flags &&
             a->n_keys == b->n_keys && a->n_keys <= IMSSEC_SRTP_KEYS_MAX;
    for (i = 0; eq && i < a->n_keys; i++)
        eq = imssec_ct_equal(a->keys[i].key, b->keys[i].key, kl) &&
             imssec_ct_equal(a->keys[i].salt, b->keys[i].salt, sl) &&
             a->keys[i].mki_len == b->keys[i].mki_len &&
             a->keys[i].mki_len <= IMSSEC_SRTP_MKI_MAX &&
             memcmp(a->keys[i].mki, b->keys[i].mki, a->keys[i].mki_len) == 0;
    return eq;
}

/* 1 if section s offers an attribute equal to `want`. */
static int sdp_offers(const char *t, size_t n, const sdp_sec *s, const imssec_sdes_crypto *want)
{
    size_t pos = s->start;
    imssec_str v;
    imssec_sdes_crypto c;
    int found = 0;
    while (!found && sdp_next_crypto(t, n, s, &pos, &v))
        if (imssec_sdes_parse(v, &c, NULL) == IMSSEC_OK) {
            found = sdp_same(&c, want);
            isc_wipe(&c, sizeof c);
        }
    return found;
}

static void sdp_no_lifetime(imssec_sdes_crypto *c)
{
    size_t i;
    for (i = 0; i < IMSSEC_SRTP_KEYS_MAX; i++)
        c->keys[i].lifetime = 0;
}

/* ---- the job ---------------------------------------------------------------- */

typedef struct sdp_job {
    int kind;
    const char *t, *ot;         /* the SDP; SDP_UE_ANSWER: ot is the offer */
    size_t n, on;
    const imssec_sdp_opts *o;   /* NULL for the two answer checks */
    int mode;                   /* SDP_UE_OFFER: 0 none, else enum imssec_sdp_mode */
    imssec_sdp_keys *keys;
    size_t nk;                  /* updaters: entries; creators: capacity */
    imssec_errinfo *err;
} sdp_job;

/* A failure about section s. */
static int sdp_fail(const sdp_job *j, int code, const sdp_sec *s, const char *what,
                    const char *clause)
{
    isc_fail(j->err, code, what, clause);
    if (j->err) {
        j->err->item_index = s->index;
        j->err->offset = s->start;
        if (code == IMSSEC_E_SDES_REJECT)
            j->err->sip_status = 488; /* Not Acceptable Here */
    }
    return code;
}

/* An error of media/sdes.c about the value v of section s: its offset
 * becomes one in the SDP text. */
static int sdp_fail_sdes(const sdp_job *j, int rc, const sdp_sec *s, const char *t, imssec_str v)
{
    if (j->err) {
        j->err->item_index = s->index;
        j->err->offset += (size_t)(v.p - t);
        if (rc == IMSSEC_E_SDES_REJECT)
            j->err->sip_status = 488;
    }
    return rc;
}

static int sdp_hop(const sdp_job *j, const sdp_sec *s)
{
    int rc = sd_hop_ok(j->o->policy, j->err); /* TS 33.328 6.2.1.2 */
    if (rc != IMSSEC_OK && j->err)
        j->err->item_index = s->index;
    return rc;
}

/* opts.prev's entry for m_index, if agreed; *bad on a malformed one. */
static const imssec_sdp_keys *sdp_prev(const sdp_job *j, size_t m_index, int *bad)
{
    size_t i;
    for (i = 0; j->o && i < j->o->n_prev; i++)
        if (j->o->prev[i].m_index == m_index) {
            if (!sdp_keys_ok(&j->o->prev[i])) {
                *bad = 1;
                return NULL;
            }
            return j->o->prev[i].status == IMSSEC_SDP_AGREED ? &j->o->prev[i] : NULL;
        }
    return NULL;
}

/* Take over an agreed entry for a re-offer or re-answer (7.4). */
static void sdp_reuse(imssec_sdp_keys *k, const imssec_sdp_keys *p)
{
    k->local[0] = p->local[0];
    k->n_local = 1;
    k->remote = p->remote;
    k->unchanged = 1;
}

/* RFC 4568 7.1.2 over the a=crypto lines of section s, one at a time (so
 * no array bounds them): the first acceptable one in offer order --
 * exactly imssec_sdes_answer()'s rule -- and the answer to it. */
static int sdp_select(const sdp_job *j, const char *t, size_t n, const sdp_sec *s,
                      const imssec_io *io, imssec_sdes_crypto *chosen, imssec_sdes_crypto *answer,
                      const char *clause)
{
    size_t pos = s->start;
    imssec_str v;
    while (sdp_next_crypto(t, n, s, &pos, &v)) {
        int rc = imssec_sdes_answer(&v, 1, j->o->policy, io, chosen, answer, NULL, NULL);
        if (rc == IMSSEC_OK)
            return rc;
        if (rc != IMSSEC_E_SDES_REJECT)
            return sdp_fail(j, rc, s, "imssec_sdes_answer failed (io->random?)", NULL);
    }
    return sdp_fail(j, IMSSEC_E_SDES_REJECT, s, "no acceptable a=crypto attribute in the section",
                    clause);
}

/* A fresh offer into k->local (imssec_sdes_offer(): one per policy suite). */
static int sdp_fresh_offer(const sdp_job *j, const sdp_sec *s, const imssec_io *io,
                           imssec_sdp_keys *k)
{
    int rc = imssec_sdes_offer(j->o->policy, io, k->local, IMSSEC_SDP_CRYPTO_MAX, &k->n_local,
                               j->err);
    if (rc == IMSSEC_E_SPACE)
        return sdp_fail(j, IMSSEC_E_RANGE, s,
                        "the policy has more suites than IMSSEC_SDP_CRYPTO_MAX", NULL);
    if (rc != IMSSEC_OK && j->err)
        j->err->item_index = s->index;
    return rc;
}

/* The answer to our offer in section s (RFC 4568 7.1.3): exactly one
 * attribute naming one of k->local; k becomes AGREED. */
static int sdp_take_answer(const sdp_job *j, const sdp_sec *s, imssec_sdp_keys *k)
{
    imssec_sdes_crypto a;
    imssec_str v;
    size_t pos = s->start, idx = 0;
    int rc;
    if (s->n_crypto != 1)
        return sdp_fail(j, IMSSEC_E_SDES_REJECT, s,
                        s->n_crypto ? "several a=crypto attributes in the answer's section"
                                    : "no a=crypto attribute in the answer's section",
                        "RFC 4568 7.1.3");
    (void)sdp_next_crypto(j->t, j->n, s, &pos, &v);
    rc = imssec_sdes_match(k->local, k->n_local, &v, 1, &a, &idx, j->err);
    if (rc != IMSSEC_OK)
        return sdp_fail_sdes(j, rc, s, j->t, v);
    if (k->mode == IMSSEC_SDP_MODE_E2AE)
        sdp_no_lifetime(&a); /* the RFC 3711 defaults at the IMS Access GW */
    k->unchanged = k->unchanged && sdp_same(&a, &k->remote);
    k->remote = a;
    if (idx)
        k->local[0] = k->local[idx];
    for (idx = 1; idx < k->n_local; idx++)
        isc_wipe(&k->local[idx], sizeof k->local[idx]);
    k->n_local = 1;
    k->status = IMSSEC_SDP_AGREED;
    isc_wipe(&a, sizeof a);
    return IMSSEC_OK;
}

/* An answer's section for an entry we offered: port 0 rejects; else the
 * proto must be `want`. */
static int sdp_answer_proto(const sdp_job *j, const sdp_sec *s, imssec_sdp_keys *k, int want,
                            const char *clause)
{
    if (k->status != IMSSEC_SDP_OFFERED)
        return sdp_fail(j, IMSSEC_E_STATE, s, "the section's keys are not OFFERED", NULL);
    if (s->ml.port0) { /* RFC 3264 6: the stream is rejected */
        k->status = IMSSEC_SDP_REJECTED;
        k->unchanged = 0;
        return 1;
    }
    if (s->ml.prof != want)
        return sdp_fail(j, IMSSEC_E_SDES_REJECT, s, "the answer changed the section's transport",
                        clause);
    return 0;
}

/* An updater's step: the section's entry k, updated in place. */
static int sdp_update(const sdp_job *j, const sdp_sec *s, imssec_sdp_keys *k)
{
    int rc;
    if (!sdp_keys_ok(k))
        return sdp_fail(j, IMSSEC_E_PARAM, s, "malformed keys[] entry", NULL);
    if (j->kind != SDP_UE_CHECK && k->mode != IMSSEC_SDP_MODE_E2AE)
        return sdp_fail(j, IMSSEC_E_STATE, s, "not an e2ae entry", NULL);
    if (j->kind == SDP_ALG_ORIG_ANSWER) { /* 7.2.1 step 8: RTP back to SRTP */
        rc = sdp_answer_proto(j, s, k, k->avpf ? SDP_AVPF : SDP_AVP, "TS 33.328 7.2.1 step 8");
        if (rc == 0 && (rc = sdp_hop(j, s)) == IMSSEC_OK)
            k->status = IMSSEC_SDP_AGREED;
    } else { /* 7.3.1 steps 6, 7 (SDP_ALG_TERM_ANSWER); 7.2.1 step 8 at the UE */
        rc = sdp_answer_proto(j, s, k, k->avpf ? SDP_SAVPF : SDP_SAVP, "RFC 3264 6");
        if (rc == 0)
            rc = sdp_take_answer(j, s, k);
    }
    return rc < 0 ? rc : IMSSEC_OK;
}

/* A creator's step: whether section s (os: the offer's section for
 * SDP_UE_ANSWER) gets an entry (*touched), and the entry, into *k. */
static int sdp_create(const sdp_job *j, const sdp_sec *s, const sdp_sec *os, const imssec_io *io,
                      imssec_sdp_keys *k, int *touched)
{
    const imssec_sdp_keys *p;
    int bad = 0, rc, prof = s->ml.prof;
    unsigned fl = j->o->flags;
    *touched = 0;
    switch (j->kind) {
    case SDP_ALG_ORIG_OFFER: /* 7.2.1 step 2 */
        if (!SDP_SECURE(prof) || !(s->ind & SDP_IND_REQUESTED))
            return IMSSEC_OK;
        if (!(fl & IMSSEC_SDP_REG_E2AE)) {
            rc = sdp_fail(j, IMSSEC_E_STATE, s,
                          "e2ae requested but not indicated by both at registration",
                          "TS 33.328 7.2.1 step 2 NOTE 2a, 7.1.1");
            if (j->err)
                j->err->sip_status = 488;
            return rc;
        }
        break;
    case SDP_ALG_TERM_OFFER: /* 7.3.1 step 3 */
        if (!(fl & IMSSEC_SDP_REG_E2AE) || !SDP_PLAIN(prof) || s->ml.port0)
            return IMSSEC_OK;
        break;
    case SDP_UE_OFFER:
        if (!j->mode || !SDP_PLAIN(prof) || s->ml.port0)
            return IMSSEC_OK;
        break;
    default: /* SDP_UE_ANSWER: the offer's section decides */
        if (!SDP_SECURE(os->ml.prof) || os->ml.port0 || os->n_crypto == 0 || s->ml.port0)
            return IMSSEC_OK;
        if (!(SDP_PLAIN(prof) || SDP_SECURE(prof)) || SDP_FB(prof) != SDP_FB(os->ml.prof))
            return sdp_fail(j, IMSSEC_E_PARAM, s,
                            "the answer's proto does not fit the offer's RTP/SAVP(F)",
                            "RFC 3264 6");
        break;
    }
    *touched = 1;
    if ((rc = sdp_hop(j, s)) != IMSSEC_OK)
        return rc;
    p = sdp_prev(j, s->index, &bad);
    if (bad)
        return sdp_fail(j, IMSSEC_E_PARAM, s, "malformed opts.prev entry", NULL);
    memset(k, 0, sizeof *k);
    k->m_index = s->index;
    k->status = IMSSEC_SDP_OFFERED;
    k->mode = IMSSEC_SDP_MODE_E2AE;
    k->avpf = SDP_FB(prof);
    switch (j->kind) {
    case SDP_ALG_ORIG_OFFER: /* step 3: select one; step 7: create K12 */
        if (p && p->mode == IMSSEC_SDP_MODE_E2AE && sdp_offers(j->t, j->n, s, &p->remote)) {
            sdp_reuse(k, p); /* 7.4: the UE kept its key: so do we */
            return IMSSEC_OK;
        }
        rc = sdp_select(j, j->t, j->n, s, io, &k->remote, &k->local[0], "TS 33.328 7.2.1 step 3");
        sdp_no_lifetime(&k->remote); /* step 7: "set the key lifetime to the default values" */
        k->n_local = 1;
        break;
    case SDP_ALG_TERM_OFFER: /* step 4: K21 */
        if (p && p->mode == IMSSEC_SDP_MODE_E2AE) {
            sdp_reuse(k, p); /* 7.4: no context update with e2ae */
            return IMSSEC_OK;
        }
        rc = sdp_fresh_offer(j, s, io, k);
        break;
    case SDP_UE_OFFER:
        k->mode = j->mode;
        if (p && p->mode == j->mode &&
            (j->mode == IMSSEC_SDP_MODE_E2AE || !(fl & IMSSEC_SDP_REKEY))) {
            sdp_reuse(k, p); /* 7.4: "the previously sent security context" */
            return IMSSEC_OK;
        }
        rc = sdp_fresh_offer(j, s, io, k);
        break;
    default: /* SDP_UE_ANSWER: 7.3.1 step 5, 7.3.2 step 4 */
        k->status = IMSSEC_SDP_AGREED;
        k->avpf = SDP_FB(os->ml.prof);
        k->mode = (os->ind & SDP_IND_APPLIED) ? IMSSEC_SDP_MODE_E2AE : IMSSEC_SDP_MODE_E2E;
        if (p && p->local[0].tag == p->remote.tag && sdp_offers(j->ot, j->on, os, &p->remote)) {
            sdp_reuse(k, p); /* 7.4: an unchanged offer gets an unchanged answer */
            return IMSSEC_OK;
        }
        rc = sdp_select(j, j->ot, j->on, os, io, &k->remote, &k->local[0], "RFC 4568 7.1.2");
        if (k->mode == IMSSEC_SDP_MODE_E2AE)
            sdp_no_lifetime(&k->remote); /* 7.3.1 step 6 */
        k->n_local = 1;
        break;
    }
    if (rc != IMSSEC_OK)
        isc_wipe(k, sizeof *k);
    return rc;
}

/* The rewrite of a section: with its entry k, or (k NULL) untouched. */
static void sdp_plan_of(const sdp_job *j, const imssec_sdp_keys *k, sdp_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    if (!k) {
        /* 7.3.1: "A P-CSCF (IMS-ALG) supporting e2ae-security shall remove
         * any indication "e2ae-security offered by network" if inserted in
         * a SIP message by another party." */
        if (j->kind <= SDP_ALG_TERM_ANSWER)
            pl->drop = SDP_DROP_APPLIED;
        return;
    }
    pl->drop = SDP_DROP_CRYPTO | SDP_DROP_E2AE;
    pl->proto = k->avpf ? SDP_SAVPF : SDP_SAVP;
    switch (j->kind) {
    case SDP_ALG_ORIG_OFFER:  /* 7.2.1 step 3: "changes the transport from SRTP to RTP" */
    case SDP_ALG_TERM_ANSWER: /* 7.3.1 step 7 */
        pl->proto = k->avpf ? SDP_AVPF : SDP_AVP;
        break;
    case SDP_ALG_ORIG_ANSWER: /* 7.2.1 step 8: "includes the SDES crypto attribute
                               * created in step 7" */
        if (k->status == IMSSEC_SDP_AGREED) {
            pl->add = k->local;
            pl->n_add = 1;
        }
        break;
    case SDP_ALG_TERM_OFFER: /* 7.3.1 step 4 */
        pl->add = k->local;
        pl->n_add = k->n_local;
        pl->ind = "applied";
        break;
    case SDP_UE_OFFER: /* 7.2.1 step 1 ("e2ae-security requested by UE"), 7.2.2 step 1 */
        pl->add = k->local;
        pl->n_add = k->n_local;
        pl->ind = k->mode == IMSSEC_SDP_MODE_E2AE ? "requested" : NULL;
        break;
    default: /* SDP_UE_ANSWER */
        pl->add = k->local;
        pl->n_add = 1;
        break;
    }
}

static int sdp_zero_random(void *user, uint8_t *out, size_t len)
{
    (void)user;
    memset(out, 0, len);
    return 0;
}

enum { SDP_DRY, SDP_COMMIT, SDP_WRITE };

/* One pass over the text (and, for SDP_UE_ANSWER, over the offer in step).
 * SDP_DRY checks, measures into *b and counts the entries into *nk;
 * SDP_COMMIT computes j->keys; SDP_WRITE writes into *b from j->keys. */
static int sdp_pass(const sdp_job *j, int phase, isc_sbuf *b, size_t *nk)
{
    imssec_io zio;
    imssec_sdp_keys tmp;
    const imssec_io *io = phase == SDP_DRY ? &zio : (j->o ? j->o->io : NULL);
    size_t pos = sdp_next_m(j->t, j->n, 0), opos = 0, idx = 0, ki = 0;
    int rc;
    memset(&zio, 0, sizeof zio);
    zio.random = sdp_zero_random;
    if (j->kind == SDP_UE_ANSWER)
        opos = sdp_next_m(j->ot, j->on, 0);
    if (phase != SDP_COMMIT)
        isc_sb_putn(b, j->t, pos); /* the session level, unchanged */
    for (; pos < j->n; idx++) {
        sdp_sec s, os;
        sdp_plan pl;
        imssec_sdp_keys *k = NULL;
        size_t before = b->len;
        int touched = 0;
        sdp_section(j->t, j->n, pos, idx, &s);
        pos = s.end;
        memset(&os, 0, sizeof os);
        if (j->kind == SDP_UE_ANSWER) {
            if (opos >= j->on)
                return sdp_fail(j, IMSSEC_E_PARAM, &s,
                                "the answer has more m= lines than the offer", "RFC 3264 6");
            sdp_section(j->ot, j->on, opos, idx, &os);
            opos = os.end;
        }
        if (ki < j->nk && (phase == SDP_WRITE || !SDP_CREATES(j->kind))) {
            if (j->keys[ki].m_index < idx)
                return sdp_fail(j, IMSSEC_E_PARAM, &s, "keys[] is not in m_index order", NULL);
            if (j->keys[ki].m_index == idx)
                k = &j->keys[ki];
        }
        if (phase == SDP_WRITE) {
            /* the entries of SDP_COMMIT */
        } else if (SDP_CREATES(j->kind)) {
            k = phase == SDP_DRY || !j->keys ? &tmp : &j->keys[ki];
            rc = sdp_create(j, &s, &os, io, k, &touched);
            if (rc != IMSSEC_OK) {
                if (phase == SDP_COMMIT)
                    isc_wipe(j->keys, ki * sizeof *j->keys);
                return rc; /* sdp_create wiped *k */
            }
            if (!touched)
                k = NULL;
        } else if (k) {
            if (phase == SDP_DRY) {
                tmp = *k;
                k = &tmp;
            }
            rc = sdp_update(j, &s, k);
            if (rc != IMSSEC_OK) { /* SDP_DRY only: SDP_COMMIT repeats what passed */
                isc_wipe(&tmp, sizeof tmp);
                return rc;
            }
        }
        if (k)
            ki++;
        if (phase != SDP_COMMIT) {
            sdp_plan_of(j, k, &pl);
            sdp_emit(b, j->t, j->n, &s, &pl);
        }
        if (k == &tmp)
            isc_wipe(&tmp, sizeof tmp);
        if (b->len < before)
            return isc_fail(j->err, IMSSEC_E_RANGE, "the output length overflows", NULL);
    }
    if (j->kind == SDP_UE_ANSWER && opos < j->on)
        return isc_fail(j->err, IMSSEC_E_PARAM, "the answer has fewer m= lines than the offer",
                        "RFC 3264 6");
    if (!SDP_CREATES(j->kind) && ki < j->nk)
        return isc_fail(j->err, IMSSEC_E_NOT_FOUND, "a keys[] section is not in the SDP", NULL);
    *nk = ki;
    return IMSSEC_OK;
}

/* The three passes.  Creators: j->nk is the capacity, *keys_len the count.
 * out may be NULL (SDP_UE_CHECK: no text). */
static int sdp_run(sdp_job *j, char *out, size_t out_cap, size_t *out_len, size_t *keys_len)
{
    isc_sbuf b;
    size_t nk = 0, n2 = 0;
    int rc;
    if (j->n > SIZE_MAX / 4 || j->on > SIZE_MAX / 4)
        return isc_fail(j->err, IMSSEC_E_RANGE, "SDP too long", NULL);
    if ((rc = sdp_check_text(j->t, j->n, NULL, j->err)) != IMSSEC_OK)
        return rc;
    if (j->kind == SDP_UE_ANSWER && (rc = sdp_check_text(j->ot, j->on, NULL, j->err)) != IMSSEC_OK)
        return rc;
    isc_sb_init(&b, NULL, 0);
    if ((rc = sdp_pass(j, SDP_DRY, &b, &nk)) != IMSSEC_OK)
        return rc;
    if (j->kind != SDP_UE_CHECK && (b.len > out_cap || (SDP_CREATES(j->kind) && nk > j->nk))) {
        *out_len = b.len;
        if (keys_len)
            *keys_len = nk;
        return isc_fail(j->err, IMSSEC_E_SPACE, b.len > out_cap ? "out_cap too small"
                                                                 : "keys_cap too small", NULL);
    }
    if ((rc = sdp_pass(j, SDP_COMMIT, &b, &n2)) != IMSSEC_OK)
        return rc; /* IMSSEC_E_CALLBACK: keys[] wiped */
    if (j->kind == SDP_UE_CHECK)
        return IMSSEC_OK;
    j->nk = nk;
    isc_sb_init(&b, out, out_cap);
    (void)sdp_pass(j, SDP_WRITE, &b, &n2);
    *out_len = b.len;
    if (keys_len)
        *keys_len = nk;
    return IMSSEC_OK;
}

/* ---- the public functions ---------------------------------------------------- */

static int sdp_args(const imssec_str *a, const imssec_sdp_opts *o, int creates, char *out,
                    size_t out_cap, size_t *out_len, imssec_errinfo *err)
{
    if (!a || (!a->p && a->n))
        return isc_fail_param(err, "sdp", "NULL text");
    if ((out_cap && !out) || !out_len)
        return isc_fail_param(err, "out / out_len", "NULL argument");
    if (o) {
        if (!o->policy)
            return isc_fail_param(err, "opts->policy", "NULL policy");
        if (creates && (!o->io || !o->io->random))
            return isc_fail_param(err, "opts->io", "io->random is required");
        if (o->n_prev && !o->prev)
            return isc_fail_param(err, "opts->prev", "NULL with n_prev");
        if (o->flags & ~(IMSSEC_SDP_REG_E2AE | IMSSEC_SDP_WANT_E2E | IMSSEC_SDP_EMERGENCY |
                         IMSSEC_SDP_REKEY))
            return isc_fail_param(err, "opts->flags", "unknown flag");
    }
    return IMSSEC_OK;
}

static int sdp_creator(int kind, imssec_str t, imssec_str ot, const imssec_sdp_opts *o,
                       char *out, size_t out_cap, size_t *out_len, imssec_sdp_keys *keys,
                       size_t keys_cap, size_t *keys_len, imssec_errinfo *err)
{
    sdp_job j;
    int rc;
    if (!o)
        return isc_fail_param(err, "opts", "NULL argument");
    if ((rc = sdp_args(&t, o, 1, out, out_cap, out_len, err)) != IMSSEC_OK)
        return rc;
    if ((kind == SDP_UE_ANSWER && !ot.p && ot.n) || (keys_cap && !keys) || !keys_len)
        return isc_fail_param(err, "keys / keys_len / offer", "NULL argument");
    memset(&j, 0, sizeof j);
    j.kind = kind;
    j.t = t.p;
    j.n = t.n;
    j.ot = ot.p;
    j.on = ot.n;
    j.o = o;
    j.keys = keys;
    j.nk = keys_cap;
    j.err = err;
    if (kind == SDP_UE_OFFER) {
        unsigned f = o->flags;
        if (f & IMSSEC_SDP_EMERGENCY) /* 7.5 */
            j.mode = (f & IMSSEC_SDP_REG_E2AE) ? IMSSEC_SDP_MODE_E2AE : 0;
        else if (f & IMSSEC_SDP_WANT_E2E) /* 7.2.1, 7.2.2 */
            j.mode = IMSSEC_SDP_MODE_E2E;
        else if (f & IMSSEC_SDP_REG_E2AE) /* 7.1.1, 7.2.1 */
            j.mode = IMSSEC_SDP_MODE_E2AE;
    }
    return sdp_run(&j, out, out_cap, out_len, keys_len);
}

static int sdp_updater(int kind, imssec_str t, const imssec_sdp_opts *o, imssec_sdp_keys *keys,
                       size_t n_keys, char *out, size_t out_cap, size_t *out_len,
                       imssec_errinfo *err)
{
    sdp_job j;
    size_t dummy = 0, i;
    int rc;
    if (kind == SDP_UE_CHECK)
        out_len = &dummy;
    if ((rc = sdp_args(&t, o, 0, out, out_cap, out_len, err)) != IMSSEC_OK)
        return rc;
    if (n_keys && !keys)
        return isc_fail_param(err, "keys", "NULL argument");
    for (i = 1; i < n_keys; i++)
        if (keys[i].m_index <= keys[i - 1].m_index)
            return isc_fail_param(err, "keys", "not in increasing m_index order");
    memset(&j, 0, sizeof j);
    j.kind = kind;
    j.t = t.p;
    j.n = t.n;
    j.o = o;
    j.keys = keys;
    j.nk = n_keys;
    j.err = err;
    return sdp_run(&j, out, out_cap, out_len, NULL);
}

IMSSEC_API int imssec_sdp_check(imssec_str sdp, size_t *n_media, imssec_errinfo *err)
{
    if (!sdp.p && sdp.n)
        return isc_fail_param(err, "sdp", "NULL text");
    return sdp_check_text(sdp.p, sdp.n, n_media, err);
}

IMSSEC_API int imssec_sdp_alg_orig_offer(imssec_str offer, const imssec_sdp_opts *opts,
                                         char *out, size_t out_cap, size_t *out_len,
                                         imssec_sdp_keys *keys, size_t keys_cap,
                                         size_t *keys_len, imssec_errinfo *err)
{
    imssec_str none = {NULL, 0};
    return sdp_creator(SDP_ALG_ORIG_OFFER, offer, none, opts, out, out_cap, out_len, keys,
                       keys_cap, keys_len, err);
}

IMSSEC_API int imssec_sdp_alg_orig_answer(imssec_str answer, const imssec_sdp_opts *opts,
                                          imssec_sdp_keys *keys, size_t n_keys,
                                          char *out, size_t out_cap, size_t *out_len,
                                          imssec_errinfo *err)
{
    if (!opts)
        return isc_fail_param(err, "opts", "NULL argument");
    return sdp_updater(SDP_ALG_ORIG_ANSWER, answer, opts, keys, n_keys, out, out_cap, out_len,
                       err);
}

IMSSEC_API int imssec_sdp_alg_term_offer(imssec_str offer, const imssec_sdp_opts *opts,
                                         char *out, size_t out_cap, size_t *out_len,
                                         imssec_sdp_keys *keys, size_t keys_cap,
                                         size_t *keys_len, imssec_errinfo *err)
{
    imssec_str none = {NULL, 0};
    return sdp_creator(SDP_ALG_TERM_OFFER, offer, none, opts, out, out_cap, out_len, keys,
                       keys_cap, keys_len, err);
}

IMSSEC_API int imssec_sdp_alg_term_answer(imssec_str answer, imssec_sdp_keys *keys,
                                          size_t n_keys, char *out, size_t out_cap,
                                          size_t *out_len, imssec_errinfo *err)
{
    return sdp_updater(SDP_ALG_TERM_ANSWER, answer, NULL, keys, n_keys, out, out_cap, out_len,
                       err);
}

IMSSEC_API int imssec_sdp_ue_offer(imssec_str offer, const imssec_sdp_opts *opts, char *out,
                                   size_t out_cap, size_t *out_len, imssec_sdp_keys *keys,
                                   size_t keys_cap, size_t *keys_len, imssec_errinfo *err)
{
    imssec_str none = {NULL, 0};
    return sdp_creator(SDP_UE_OFFER, offer, none, opts, out, out_cap, out_len, keys, keys_cap,
                       keys_len, err);
}

IMSSEC_API int imssec_sdp_ue_check_answer(imssec_str answer, imssec_sdp_keys *keys,
                                          size_t n_keys, imssec_errinfo *err)
{
    return sdp_updater(SDP_UE_CHECK, answer, NULL, keys, n_keys, NULL, 0, NULL, err);
}

IMSSEC_API int imssec_sdp_ue_answer(imssec_str offer, imssec_str answer,
                                    const imssec_sdp_opts *opts, char *out, size_t out_cap,
                                    size_t *out_len, imssec_sdp_keys *keys, size_t keys_cap,
                                    size_t *keys_len, imssec_errinfo *err)
{
    return sdp_creator(SDP_UE_ANSWER, answer, offer, opts, out, out_cap, out_len, keys, keys_cap,
                       keys_len, err);
}

IMSSEC_API int imssec_sdp_keys_srtp(const imssec_sdp_keys *k, imssec_srtp_params *rx,
                                    imssec_srtp_key rx_keys[IMSSEC_SRTP_KEYS_MAX],
                                    imssec_srtp_params *tx,
                                    imssec_srtp_key tx_keys[IMSSEC_SRTP_KEYS_MAX])
{
    if (!k || !rx || !rx_keys || !tx || !tx_keys)
        return IMSSEC_E_PARAM;
    if (k->status != IMSSEC_SDP_AGREED)
        return IMSSEC_E_STATE;
    if (!sdp_keys_ok(k))
        return IMSSEC_E_PARAM;
    /* both attributes were checked: neither call can fail now */
    (void)imssec_sdes_srtp_params(&k->remote, IMSSEC_SRTP_INBOUND, rx, rx_keys);
    (void)imssec_sdes_srtp_params(&k->local[0], IMSSEC_SRTP_OUTBOUND, tx, tx_keys);
    return IMSSEC_OK;
}

IMSSEC_API void imssec_sdp_keys_wipe(imssec_sdp_keys *k, size_t n)
{
    if (k && n)
        isc_wipe(k, n * sizeof *k);
}
