/*
 * srtp.c -- SRTP and SRTCP packet processing (RFC 3711 3.3, 3.4, 4.1, 4.2;
 * RFC 6188; RFC 7714; RFC 4771), the session's keys and its stream table.
 *
 * Packet layouts (RFC 3711 figures 1 and 2, RFC 7714 sections 8 and 9):
 *   SRTP  AES-CM:  header | E(payload)           | MKI | tag
 *         GCM:     header | E(payload) tag16    | MKI
 *   SRTCP AES-CM:  header8 | E(rest) | E||index   | MKI | tag
 *         GCM:     header8 | E(rest) tag16 | E||index | MKI
 * The HMAC covers header..payload || ROC (SRTP) or header..E||index
 * (SRTCP); the MKI is never authenticated (RFC 3711 3.1).  GCM's AAD is
 * the RTP header (SRTP), header8 || E||index (SRTCP, E = 1), or the whole
 * RTCP packet || E||index (E = 0, no plaintext; RFC 7714 9.2).
 *
 * Inbound every check happens before anything is written: the tag is
 * verified over the ciphertext (GCM too, see isc_gcm_check()), and only
 * then is the payload decrypted and the stream committed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

#define SRTP_MAGIC 0x53525450u /* "SRTP": set once the session is usable */
#define SRTP_ROC_LEN 4
#define SRTP_HMAC_TAG 10 /* HMAC-SHA1-80 */
#define SRTP_GCM_TAG 16
#define SRTP_RTCP_INDEX_MASK 0x7fffffffu

/* ---- suites ---------------------------------------------------------------- */

typedef struct srtp_suite_info {
    const char *name;
    uint8_t key_len, salt_len, tag_len, rtcp_tag_len, gcm;
} srtp_suite_info;

/* RFC 4568 6.2 (the SRTCP tag of the _32 suite is 80 bits: RFC 3711 5.2
 * forbids shorter SRTCP tags), RFC 6188 5, RFC 7714 14.1. */
static const srtp_suite_info srtp_suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10, 0},
    {"AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10, 0},
    {"AES_256_CM_HMAC_SHA1_80", 32, 14, 10, 10, 0},
    {"AES_256_CM_HMAC_SHA1_32", 32, 14, 4, 10, 0},
    {"AEAD_AES_128_GCM", 16, 12, 16, 16, 1},
    {"AEAD_AES_256_GCM", 32, 12, 16, 16, 1},
};

static const srtp_suite_info *srtp_suite(int suite)
{
    return (suite >= 0 && suite < IMSSEC_SRTP_SUITE_UNKNOWN) ? &srtp_suites[suite] : NULL;
}

IMSSEC_API const char *imssec_srtp_suite_name(int suite)
{
    const srtp_suite_info *si = srtp_suite(suite);
    return si ? si->name : NULL;
}

IMSSEC_API int imssec_srtp_suite_from_name(imssec_str name)
{
    int k;
    for (k = 0; k < IMSSEC_SRTP_SUITE_UNKNOWN; k++) {
        const char *kw = srtp_suites[k].name;
        if (name.n == strlen(kw) && (name.n == 0 || memcmp(name.p, kw, name.n) == 0))
            return k;
    }
    return IMSSEC_SRTP_SUITE_UNKNOWN;
}

IMSSEC_API size_t imssec_srtp_suite_key_len(int suite)
{
    const srtp_suite_info *si = srtp_suite(suite);
    return si ? si->key_len : 0;
}

IMSSEC_API size_t imssec_srtp_suite_salt_len(int suite)
{
    const srtp_suite_info *si = srtp_suite(suite);
    return si ? si->salt_len : 0;
}

/* ---- derived keys ------------------------------------------------------------ */

/* One direction of one master key: SRTP or SRTCP session keys. */
typedef struct srtp_cm_keys {
    isc_aes_ctr enc;
    isc_hmac auth;
    uint8_t salt[14];
} srtp_cm_keys;
typedef struct srtp_gcm_keys {
    isc_gcm gcm;
    uint8_t salt[12];
} srtp_gcm_keys;
typedef struct srtp_keyset {
    union {
        struct {
            srtp_cm_keys rtp, rtcp;
        } cm;
        struct {
            srtp_gcm_keys rtp, rtcp;
        } gcm;
    } u;
} srtp_keyset;

/* The opaque storage of a key slot must hold the seam's types (sizes differ
 * between mbedTLS 2.28 and 3.6 and between -m32 and -m64). */
ISC_STATIC_ASSERT(srtp_keyset_fits,
                  sizeof(srtp_keyset) <= sizeof(((imssec_srtp_keyslot *)0)->state_));

static srtp_keyset *srtp_ks(imssec_srtp_keyslot *k)
{
    return (srtp_keyset *)(void *)k->state_;
}

static int srtp_is_gcm(const imssec_srtp_session *s)
{
    return srtp_suites[s->suite_].gcm;
}

/* Derive a key's session keys (RFC 3711 4.3, labels 0..5) into slot. */
static int srtp_key_derive(imssec_srtp_session *s, imssec_srtp_keyslot *slot,
                           const imssec_srtp_key *k)
{
    const srtp_suite_info *si = &srtp_suites[s->suite_];
    srtp_keyset *ks = srtp_ks(slot);
    isc_aes_ctr prf;
    uint8_t salt14[14], key[32], auth[20];
    int rc = IMSSEC_OK;
    memset(salt14, 0, sizeof salt14);
    memcpy(salt14, k->salt, k->salt_len);
    (void)isc_aes_ctr_setkey(&prf, k->key, k->key_len);
    memset(ks, 0, sizeof *ks);
    if (si->gcm) {
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTP_ENC, key, si->key_len);
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTP_SALT, ks->u.gcm.rtp.salt, 12);
        rc = isc_gcm_setkey(&ks->u.gcm.rtp.gcm, key, si->key_len);
        if (rc == IMSSEC_OK) {
            srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTCP_ENC, key, si->key_len);
            srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTCP_SALT, ks->u.gcm.rtcp.salt, 12);
            rc = isc_gcm_setkey(&ks->u.gcm.rtcp.gcm, key, si->key_len);
            if (rc != IMSSEC_OK)
                isc_gcm_wipe(&ks->u.gcm.rtp.gcm);
        }
    } else {
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTP_ENC, key, si->key_len);
        (void)isc_aes_ctr_setkey(&ks->u.cm.rtp.enc, key, si->key_len);
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTP_AUTH, auth, sizeof auth);
        isc_hmac_setkey(&ks->u.cm.rtp.auth, ISC_SHA1, auth, sizeof auth);
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTP_SALT, ks->u.cm.rtp.salt, 14);
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTCP_ENC, key, si->key_len);
        (void)isc_aes_ctr_setkey(&ks->u.cm.rtcp.enc, key, si->key_len);
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTCP_AUTH, auth, sizeof auth);
        isc_hmac_setkey(&ks->u.cm.rtcp.auth, ISC_SHA1, auth, sizeof auth);
        srtp_kdf_run(&prf, salt14, SRTP_LABEL_RTCP_SALT, ks->u.cm.rtcp.salt, 14);
    }
    isc_aes_ctr_wipe(&prf);
    isc_wipe(salt14, sizeof salt14);
    isc_wipe(key, sizeof key);
    isc_wipe(auth, sizeof auth);
    if (rc != IMSSEC_OK)
        isc_wipe(ks, sizeof *ks);
    return rc;
}

/* Zeroize a slot and release what mbedTLS holds for it. */
static void srtp_key_wipe(imssec_srtp_session *s, imssec_srtp_keyslot *slot)
{
    if (slot->used_ && srtp_is_gcm(s)) {
        isc_gcm_wipe(&srtp_ks(slot)->u.gcm.rtp.gcm);
        isc_gcm_wipe(&srtp_ks(slot)->u.gcm.rtcp.gcm);
    }
    isc_wipe(slot, sizeof *slot);
}

/* Validate k for session s (setup has set suite_, mki_len_).  On success
 * fill slot. */
static int srtp_key_install(imssec_srtp_session *s, imssec_srtp_keyslot *slot,
                            const imssec_srtp_key *k, imssec_errinfo *err)
{
    const srtp_suite_info *si = &srtp_suites[s->suite_];
    uint64_t lt, ltc;
    int rc;
    if (!k->key || k->key_len != si->key_len)
        return isc_fail_param(err, "key.key_len", "master key length does not fit the suite");
    if (!k->salt || k->salt_len != si->salt_len)
        return isc_fail_param(err, "key.salt_len", "master salt length does not fit the suite");
    if (k->mki_len != s->mki_len_ || (k->mki_len && !k->mki))
        return isc_fail_param(err, "key.mki_len",
                              "every master key of a session has an MKI of the same length");
    lt = k->srtp_lifetime ? k->srtp_lifetime : IMSSEC_SRTP_LIFETIME_MAX;
    ltc = k->srtcp_lifetime ? k->srtcp_lifetime : IMSSEC_SRTCP_LIFETIME_MAX;
    if (lt > IMSSEC_SRTP_LIFETIME_MAX || ltc > IMSSEC_SRTCP_LIFETIME_MAX) {
        isc_fail(err, IMSSEC_E_RANGE, "key lifetime above 2^48 SRTP / 2^31 SRTCP packets",
                 "RFC 3711 9.2; TS 33.328 7.2.1 NOTE 1");
        if (err)
            err->limit = lt > IMSSEC_SRTP_LIFETIME_MAX ? IMSSEC_SRTP_LIFETIME_MAX
                                                       : IMSSEC_SRTCP_LIFETIME_MAX;
        return IMSSEC_E_RANGE;
    }
    memset(slot, 0, sizeof *slot);
    rc = srtp_key_derive(s, slot, k);
    if (rc != IMSSEC_OK) {
        isc_wipe(slot, sizeof *slot);
        return isc_fail(err, rc, "the key does not fit the suite", "RFC 7714");
    }
    if (k->mki_len)
        memcpy(slot->mki_, k->mki, k->mki_len);
    slot->srtp_limit_ = lt;
    slot->srtcp_limit_ = ltc;
    slot->used_ = 1;
    return IMSSEC_OK;
}

/* The slot whose MKI is mki[0..s->mki_len_), or the only key without MKI. */
static imssec_srtp_keyslot *srtp_key_by_mki(imssec_srtp_session *s, const uint8_t *mki,
                                            size_t *index)
{
    size_t i;
    for (i = 0; i < IMSSEC_SRTP_KEYS_MAX; i++) {
        imssec_srtp_keyslot *k = &s->keys_[i];
        if (k->used_ && (s->mki_len_ == 0 || memcmp(k->mki_, mki, s->mki_len_) == 0)) {
            *index = i;
            return k;
        }
    }
    return NULL;
}

/* ---- the stream table: open addressing with linear probing ---------------- */

static size_t srtp_home(const imssec_srtp_session *s, uint32_t ssrc)
{
    return (size_t)(((uint64_t)(uint32_t)(ssrc * 2654435761u) * s->stream_cap_) >> 32);
}

static size_t srtp_next(const imssec_srtp_session *s, size_t i)
{
    return i + 1 == s->stream_cap_ ? 0 : i + 1;
}

static imssec_srtp_stream *srtp_find(const imssec_srtp_session *s, uint32_t ssrc)
{
    size_t i, n;
    if (s->last_ < s->stream_cap_ && s->streams_[s->last_].used_ &&
        s->streams_[s->last_].ssrc_ == ssrc)
        return &s->streams_[s->last_];
    for (i = srtp_home(s, ssrc), n = 0; n < s->stream_cap_; n++, i = srtp_next(s, i)) {
        imssec_srtp_stream *st = &s->streams_[i];
        if (!st->used_)
            return NULL;
        if (st->ssrc_ == ssrc)
            return st;
    }
    return NULL;
}

/* The slot a new stream for ssrc would take, or NULL when the table is
 * full (call only after srtp_find() said it is absent). */
static imssec_srtp_stream *srtp_free_slot(const imssec_srtp_session *s, uint32_t ssrc)
{
    size_t i, n;
    if (s->stream_count_ >= s->stream_cap_)
        return NULL;
    for (i = srtp_home(s, ssrc), n = 0; n < s->stream_cap_; n++, i = srtp_next(s, i))
        if (!s->streams_[i].used_)
            return &s->streams_[i];
    return NULL;
}

/* A fresh stream for ssrc (RFC 3711 3.3.1: ROC 0, s_l from the first
 * packet, SRTCP index 0). */
static void srtp_stream_fresh(imssec_srtp_stream *st, uint32_t ssrc)
{
    memset(st, 0, sizeof *st);
    st->ssrc_ = ssrc;
    st->used_ = 1;
}

/* Remove slot i, shifting the probe chain back (no tombstones). */
static void srtp_table_delete(imssec_srtp_session *s, size_t i)
{
    size_t j = i;
    isc_wipe(&s->streams_[i], sizeof s->streams_[i]);
    for (;;) {
        size_t k;
        j = srtp_next(s, j);
        if (!s->streams_[j].used_)
            break;
        k = srtp_home(s, s->streams_[j].ssrc_);
        /* the entry at j may move to i unless its home lies in (i, j] */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            s->streams_[i] = s->streams_[j];
            isc_wipe(&s->streams_[j], sizeof s->streams_[j]);
            i = j;
        }
    }
    s->stream_count_--;
    s->last_ = 0;
}

/* ---- verdicts and events ------------------------------------------------------ */

/* Count a verdict in the session's failure counters (inbound sessions
 * only: the counters are about peer input) and explain it. */
static int srtp_verdict(imssec_srtp_session *s, imssec_errinfo *err, int code, const char *what,
                        const char *clause)
{
    if (s->dir_ == IMSSEC_SRTP_INBOUND) {
        switch (code) {
        case IMSSEC_E_MALFORMED: s->stats_.malformed++; break;
        case IMSSEC_E_REPLAY: s->stats_.replay++; break;
        case IMSSEC_E_ICV: s->stats_.auth++; break;
        case IMSSEC_E_SEQ_EXHAUSTED: s->stats_.expired++; break;
        default: break;
        }
    }
    return isc_fail(err, code, what, clause);
}

static int srtp_no_key(imssec_srtp_session *s, imssec_errinfo *err)
{
    if (s->dir_ == IMSSEC_SRTP_INBOUND)
        s->stats_.no_key++;
    return isc_fail(err, IMSSEC_E_NO_SA, "no master key has this MKI", "RFC 3711 3.1, 8.1");
}

static int srtp_no_stream(imssec_srtp_session *s, imssec_errinfo *err, int full)
{
    if (s->dir_ == IMSSEC_SRTP_INBOUND)
        s->stats_.no_stream++;
    return isc_fail(err, IMSSEC_E_NO_SA,
                    full ? "stream table full: no slot for a new SSRC" : "no stream for this SSRC",
                    "RFC 3711 3.2.3");
}

static int srtp_no_stream_unauth(imssec_srtp_session *s, imssec_errinfo *err)
{
    s->stats_.no_stream++;
    return isc_fail(err, IMSSEC_E_NO_SA,
                    "no stream for this SSRC, and a packet without a tag cannot create one",
                    "RFC 4771 3, RFC 3711 3.2.3");
}

static void srtp_emit(imssec_srtp_session *s, int kind, int rtcp, size_t key_index, uint32_t ssrc,
                      uint64_t remaining)
{
    imssec_srtp_event ev;
    if (!s->event_)
        return;
    ev.kind = kind;
    ev.rtcp = rtcp;
    ev.key_index = key_index;
    ev.ssrc = ssrc;
    ev.remaining = remaining;
    s->event_(s->user_, &ev);
}

/* 1 if the key may process one more packet of that kind. */
static int srtp_key_alive(const imssec_srtp_keyslot *k, int rtcp)
{
    return rtcp ? k->srtcp_count_ < k->srtcp_limit_ : k->srtp_count_ < k->srtp_limit_;
}

static int srtp_expired(imssec_srtp_session *s, imssec_errinfo *err, int rtcp)
{
    int rc = srtp_verdict(s, err, IMSSEC_E_SEQ_EXHAUSTED,
                          rtcp ? "master key lifetime used up (SRTCP packets): re-key"
                               : "master key lifetime used up (SRTP packets): re-key",
                          "RFC 3711 3.3.1, 9.2; TS 33.328 7.2.1 NOTE 1");
    if (err)
        err->limit = rtcp ? IMSSEC_SRTCP_LIFETIME_MAX : IMSSEC_SRTP_LIFETIME_MAX;
    return rc;
}

/* After a packet was processed with key ki: count it and raise the soft
 * limit (margin reached) and hard limit (lifetime used up) events once. */
static void srtp_key_count(imssec_srtp_session *s, size_t ki, int rtcp, uint32_t ssrc)
{
    imssec_srtp_keyslot *k = &s->keys_[ki];
    uint64_t count = rtcp ? ++k->srtcp_count_ : ++k->srtp_count_;
    uint64_t limit = rtcp ? k->srtcp_limit_ : k->srtp_limit_;
    uint64_t left = limit - count;
    uint8_t soft = (uint8_t)(rtcp ? 2 : 1), hard = (uint8_t)(rtcp ? 8 : 4);
    if (left <= s->margin_ && !(k->events_ & soft)) {
        k->events_ |= soft;
        srtp_emit(s, IMSSEC_SRTP_EV_KEY_SOFT_LIMIT, rtcp, ki, ssrc, left);
    }
    if (left == 0 && !(k->events_ & hard)) {
        k->events_ |= hard;
        srtp_emit(s, IMSSEC_SRTP_EV_KEY_HARD_LIMIT, rtcp, ki, ssrc, 0);
    }
}

/* ---- session life cycle ------------------------------------------------------- */

IMSSEC_API void imssec_srtp_params_init(imssec_srtp_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->suite = IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80;
    p->dir = IMSSEC_SRTP_OUTBOUND;
    p->replay_window = IMSSEC_SRTP_REPLAY_DEFAULT;
    p->srtcp_replay_window = IMSSEC_SRTP_REPLAY_DEFAULT;
    p->rcc_mode = IMSSEC_SRTP_RCC_NONE;
    p->rcc_rate = 1;
    p->lifetime_margin = IMSSEC_SRTP_MARGIN_DEFAULT;
}

static int srtp_window_ok(uint32_t w)
{
    return w >= 64 && w <= IMSSEC_SRTP_REPLAY_WINDOW_MAX && (w & (w - 1)) == 0;
}

static int srtp_mki_taken(const imssec_srtp_session *s, const imssec_srtp_key *k)
{
    size_t i;
    for (i = 0; i < IMSSEC_SRTP_KEYS_MAX; i++)
        if (s->keys_[i].used_ && s->mki_len_ && memcmp(s->keys_[i].mki_, k->mki, s->mki_len_) == 0)
            return 1;
    return 0;
}

static int srtp_setup(imssec_srtp_session *s, const imssec_srtp_params *p,
                      imssec_srtp_stream *streams, size_t stream_cap, imssec_errinfo *err)
{
    const srtp_suite_info *si;
    size_t i;
    int rc;
    memset(s, 0, sizeof *s); /* the error path below wipes what was installed */
    if (!p)
        return isc_fail_param(err, "p", "no parameters");
    si = srtp_suite(p->suite);
    if (!si)
        return isc_fail_param(err, "suite", "unknown crypto suite");
    if (p->dir != IMSSEC_SRTP_OUTBOUND && p->dir != IMSSEC_SRTP_INBOUND)
        return isc_fail_param(err, "dir", "direction is neither outbound nor inbound");
    if (p->flags & ~(unsigned)(IMSSEC_SRTP_UNENCRYPTED_SRTP | IMSSEC_SRTP_UNENCRYPTED_SRTCP |
                               IMSSEC_SRTP_UNAUTHENTICATED_SRTP))
        return isc_fail_param(err, "flags", "unknown flag");
    if (p->kdr != 0)
        return isc_fail(err, IMSSEC_E_UNSUPPORTED,
                        "key derivation rate other than 0 is not supported",
                        "TS 33.328 Annex C; RFC 3711 4.3.1");
    if (!srtp_window_ok(p->replay_window))
        return isc_fail_param(err, "replay_window",
                              "window must be a power of two, 64..IMSSEC_SRTP_REPLAY_WINDOW_MAX");
    if (!srtp_window_ok(p->srtcp_replay_window))
        return isc_fail_param(err, "srtcp_replay_window",
                              "window must be a power of two, 64..IMSSEC_SRTP_REPLAY_WINDOW_MAX");
    if (p->rcc_mode < IMSSEC_SRTP_RCC_NONE || p->rcc_mode > IMSSEC_SRTP_RCC_M3)
        return isc_fail_param(err, "rcc_mode", "unknown RFC 4771 mode");
    if (p->rcc_mode != IMSSEC_SRTP_RCC_NONE) {
        if (si->gcm)
            return isc_fail(err, IMSSEC_E_UNSUPPORTED, "RFC 4771 with an AEAD suite",
                            "RFC 4771; RFC 7714");
        if (p->rcc_rate < 1 || p->rcc_rate > 65535)
            return isc_fail_param(err, "rcc_rate", "RFC 4771 rate R must be 1..65535");
        if (p->rcc_mode != IMSSEC_SRTP_RCC_M3 && si->tag_len <= SRTP_ROC_LEN)
            return isc_fail_param(err, "rcc_mode",
                                  "RCCm1/RCCm2 need a tag longer than the 32-bit ROC");
        if (p->flags & IMSSEC_SRTP_UNAUTHENTICATED_SRTP)
            return isc_fail_param(err, "flags", "RFC 4771 is an integrity transform: "
                                                "not with UNAUTHENTICATED_SRTP");
    }
    if (si->gcm && (p->flags & (IMSSEC_SRTP_UNENCRYPTED_SRTP | IMSSEC_SRTP_UNAUTHENTICATED_SRTP)))
        return isc_fail(err, IMSSEC_E_UNSUPPORTED,
                        "an AEAD suite always encrypts and authenticates SRTP", "RFC 7714 8");
    if (!p->keys || p->key_count < 1 || p->key_count > IMSSEC_SRTP_KEYS_MAX)
        return isc_fail_param(err, "key_count", "1..IMSSEC_SRTP_KEYS_MAX master keys");
    if (!streams || stream_cap < 1)
        return isc_fail_param(err, "streams", "no stream table");
    if (p->keys[0].mki_len > IMSSEC_SRTP_MKI_MAX)
        return isc_fail_param(err, "key.mki_len", "MKI longer than IMSSEC_SRTP_MKI_MAX");
    if (p->key_count > 1 && p->keys[0].mki_len == 0)
        return isc_fail_param(err, "key.mki_len", "several master keys need an MKI each");

    s->suite_ = p->suite;
    s->dir_ = p->dir;
    s->flags_ = p->flags;
    s->rcc_mode_ = p->rcc_mode;
    s->rcc_rate_ = p->rcc_mode ? p->rcc_rate : 1;
    s->window_ = p->replay_window;
    s->srtcp_window_ = p->srtcp_replay_window;
    s->auto_streams_ = p->auto_streams ? 1 : 0;
    s->mki_len_ = p->keys[0].mki_len;
    s->margin_ = p->lifetime_margin;
    s->event_ = p->event;
    s->user_ = p->user;
    for (i = 0; i < p->key_count; i++) {
        if (srtp_mki_taken(s, &p->keys[i]))
            return isc_fail_param(err, "key.mki", "two master keys have the same MKI");
        rc = srtp_key_install(s, &s->keys_[i], &p->keys[i], err);
        if (rc != IMSSEC_OK)
            return rc;
        s->key_count_++;
    }
    memset(streams, 0, stream_cap * sizeof *streams);
    s->streams_ = streams;
    s->stream_cap_ = stream_cap;
    s->send_key_ = 0;
    s->setup_ = SRTP_MAGIC;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_session_setup(imssec_srtp_session *s, const imssec_srtp_params *p,
                                         imssec_srtp_stream *streams, size_t stream_cap,
                                         imssec_errinfo *err)
{
    int rc;
    if (!s)
        return isc_fail_param(err, "s", "no session");
    rc = srtp_setup(s, p, streams, stream_cap, err);
    if (rc != IMSSEC_OK) {
        size_t i;
        /* suite_ is valid once any key is installed: release those keys */
        for (i = 0; i < IMSSEC_SRTP_KEYS_MAX; i++)
            srtp_key_wipe(s, &s->keys_[i]);
        isc_wipe(s, sizeof *s);
    }
    return rc;
}

IMSSEC_API void imssec_srtp_session_wipe(imssec_srtp_session *s)
{
    size_t i;
    if (!s)
        return;
    if (s->setup_ == SRTP_MAGIC) {
        for (i = 0; i < IMSSEC_SRTP_KEYS_MAX; i++)
            srtp_key_wipe(s, &s->keys_[i]);
        if (s->streams_)
            isc_wipe(s->streams_, s->stream_cap_ * sizeof *s->streams_);
    }
    isc_wipe(s, sizeof *s);
}

static int srtp_ready(const imssec_srtp_session *s)
{
    return s && s->setup_ == SRTP_MAGIC;
}

IMSSEC_API int imssec_srtp_key_add(imssec_srtp_session *s, const imssec_srtp_key *k,
                                   size_t *key_index, imssec_errinfo *err)
{
    size_t i;
    int rc;
    if (!srtp_ready(s) || !k)
        return isc_fail_param(err, s ? "k" : "s", "no session or no key");
    if (s->mki_len_ == 0)
        return isc_fail_param(err, "key.mki_len",
                              "the session has no MKI: it can hold only one master key");
    if (k->mki_len != s->mki_len_ || !k->mki)
        return isc_fail_param(err, "key.mki_len",
                              "every master key of a session has an MKI of the same length");
    if (srtp_mki_taken(s, k))
        return isc_fail(err, IMSSEC_E_EXISTS, "a master key with this MKI exists", "RFC 3711 8.1");
    for (i = 0; i < IMSSEC_SRTP_KEYS_MAX && s->keys_[i].used_; i++)
        ;
    if (i == IMSSEC_SRTP_KEYS_MAX)
        return isc_fail(err, IMSSEC_E_SPACE, "all IMSSEC_SRTP_KEYS_MAX key slots are used", NULL);
    rc = srtp_key_install(s, &s->keys_[i], k, err);
    if (rc != IMSSEC_OK)
        return rc;
    s->key_count_++;
    if (key_index)
        *key_index = i;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_key_remove(imssec_srtp_session *s, size_t key_index)
{
    if (!srtp_ready(s) || key_index >= IMSSEC_SRTP_KEYS_MAX)
        return IMSSEC_E_PARAM;
    if (!s->keys_[key_index].used_)
        return IMSSEC_E_NOT_FOUND;
    if (s->dir_ == IMSSEC_SRTP_OUTBOUND && key_index == s->send_key_)
        return IMSSEC_E_STATE;
    srtp_key_wipe(s, &s->keys_[key_index]);
    s->key_count_--;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_key_select(imssec_srtp_session *s, size_t key_index)
{
    if (!srtp_ready(s) || s->dir_ != IMSSEC_SRTP_OUTBOUND || key_index >= IMSSEC_SRTP_KEYS_MAX)
        return IMSSEC_E_PARAM;
    if (!s->keys_[key_index].used_)
        return IMSSEC_E_NOT_FOUND;
    s->send_key_ = key_index;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_key_get(const imssec_srtp_session *s, size_t key_index,
                                   imssec_srtp_key_info *info)
{
    const imssec_srtp_keyslot *k;
    if (!srtp_ready(s) || !info || key_index >= IMSSEC_SRTP_KEYS_MAX)
        return IMSSEC_E_PARAM;
    k = &s->keys_[key_index];
    if (!k->used_)
        return IMSSEC_E_NOT_FOUND;
    memset(info, 0, sizeof *info);
    info->srtp_packets = k->srtp_count_;
    info->srtcp_packets = k->srtcp_count_;
    info->srtp_remaining = k->srtp_limit_ - k->srtp_count_;
    info->srtcp_remaining = k->srtcp_limit_ - k->srtcp_count_;
    info->soft_limit = (k->events_ & 3) ? 1 : 0;
    info->selected = s->dir_ == IMSSEC_SRTP_OUTBOUND && s->send_key_ == key_index;
    info->mki_len = s->mki_len_;
    memcpy(info->mki, k->mki_, s->mki_len_);
    return IMSSEC_OK;
}

/* ---- streams -------------------------------------------------------------------- */

IMSSEC_API int imssec_srtp_stream_add(imssec_srtp_session *s, uint32_t ssrc,
                                      const imssec_srtp_stream_state *st, imssec_errinfo *err)
{
    imssec_srtp_stream *slot;
    if (!srtp_ready(s))
        return isc_fail_param(err, "s", "session not set up");
    if (st && st->rtcp_index > SRTP_RTCP_INDEX_MASK)
        return isc_fail_param(err, "st.rtcp_index", "SRTCP index is 31 bits");
    if (srtp_find(s, ssrc))
        return isc_fail(err, IMSSEC_E_EXISTS, "a stream for this SSRC exists", NULL);
    slot = srtp_free_slot(s, ssrc);
    if (!slot)
        return isc_fail(err, IMSSEC_E_SPACE, "stream table full", NULL);
    srtp_stream_fresh(slot, ssrc);
    if (st) {
        slot->roc_init_ = st->roc;
        if (st->seq_known) {
            slot->rtp_have_ = 1;
            slot->rtp_top_ = ((uint64_t)st->roc << 16) | st->seq;
            srtp_ring_fill(slot->rtp_ring_, s->window_, slot->rtp_top_);
        }
        if (s->dir_ == IMSSEC_SRTP_OUTBOUND) {
            slot->rtcp_next_ = st->rtcp_index;
        } else if (st->rtcp_known) {
            slot->rtcp_have_ = 1;
            slot->rtcp_top_ = st->rtcp_index;
            srtp_ring_fill(slot->rtcp_ring_, s->srtcp_window_, slot->rtcp_top_);
        }
    }
    s->stream_count_++;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_stream_remove(imssec_srtp_session *s, uint32_t ssrc)
{
    imssec_srtp_stream *st;
    if (!srtp_ready(s))
        return IMSSEC_E_PARAM;
    st = srtp_find(s, ssrc);
    if (!st)
        return IMSSEC_E_NOT_FOUND;
    srtp_table_delete(s, (size_t)(st - s->streams_));
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_stream_get(const imssec_srtp_session *s, uint32_t ssrc,
                                      imssec_srtp_stream_state *out)
{
    const imssec_srtp_stream *st;
    if (!srtp_ready(s) || !out)
        return IMSSEC_E_PARAM;
    st = srtp_find(s, ssrc);
    if (!st)
        return IMSSEC_E_NOT_FOUND;
    memset(out, 0, sizeof *out);
    out->roc = st->rtp_have_ ? (uint32_t)(st->rtp_top_ >> 16) : st->roc_init_;
    out->seq = (uint16_t)(st->rtp_have_ ? st->rtp_top_ & 0xffff : 0);
    out->seq_known = st->rtp_have_;
    if (s->dir_ == IMSSEC_SRTP_OUTBOUND) {
        out->rtcp_index = st->rtcp_next_;
    } else {
        out->rtcp_known = st->rtcp_have_;
        out->rtcp_index = (uint32_t)st->rtcp_top_;
    }
    out->packets = st->packets_;
    out->bytes = st->bytes_;
    out->rtcp_packets = st->rtcp_packets_;
    out->rtcp_bytes = st->rtcp_bytes_;
    return IMSSEC_OK;
}

IMSSEC_API size_t imssec_srtp_stream_count(const imssec_srtp_session *s)
{
    return srtp_ready(s) ? s->stream_count_ : 0;
}

IMSSEC_API const imssec_srtp_stats *imssec_srtp_session_stats(const imssec_srtp_session *s)
{
    return s ? &s->stats_ : NULL;
}

/* ---- per-packet helpers --------------------------------------------------------- */

/* SRTP tag length of a packet with sequence number seq (RFC 4771: 0 for a
 * packet without tag, ROC + truncated MAC or ROC alone when carrying). */
static size_t srtp_tag_len(const imssec_srtp_session *s, uint16_t seq, int *carry)
{
    size_t tl = srtp_suites[s->suite_].tag_len;
    *carry = 0;
    if (srtp_is_gcm(s))
        return SRTP_GCM_TAG;
    if (s->flags_ & IMSSEC_SRTP_UNAUTHENTICATED_SRTP)
        return 0;
    if (s->rcc_mode_ == IMSSEC_SRTP_RCC_NONE)
        return tl;
    if (seq % s->rcc_rate_ == 0) {
        *carry = 1;
        return s->rcc_mode_ == IMSSEC_SRTP_RCC_M3 ? SRTP_ROC_LEN : tl;
    }
    return s->rcc_mode_ == IMSSEC_SRTP_RCC_M2 ? tl : 0;
}

static size_t srtp_rtcp_tag_len(const imssec_srtp_session *s)
{
    return srtp_suites[s->suite_].rtcp_tag_len;
}

IMSSEC_API size_t imssec_srtp_overhead(const imssec_srtp_session *s, int rtcp)
{
    int carry;
    if (!srtp_ready(s))
        return 0;
    if (rtcp)
        return 4 + s->mki_len_ + srtp_rtcp_tag_len(s);
    return s->mki_len_ + srtp_tag_len(s, 0, &carry); /* RFC 4771: the largest tag */
}

/* The RTP header length (RFC 3550 5.1, 5.3.1), or 0 if pkt[0..len) is not
 * an RTP version 2 packet whose CSRCs and extension fit. */
static size_t srtp_rtp_header(const uint8_t *pkt, size_t len)
{
    size_t h;
    if (len < IMSSEC_SRTP_RTP_HEADER_MIN || (pkt[0] >> 6) != 2)
        return 0;
    h = IMSSEC_SRTP_RTP_HEADER_MIN + 4u * (pkt[0] & 0x0f);
    if (pkt[0] & 0x10) { /* X: 16-bit profile, 16-bit length in words */
        if (h + 4 > len)
            return 0;
        h += 4 + 4u * isc_be16(pkt + h + 2);
    }
    return h <= len ? h : 0;
}

/* AES-CM IV (RFC 3711 4.1.1): (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16). */
static void srtp_cm_iv(uint8_t iv[16], const uint8_t salt[14], uint32_t ssrc, uint64_t index)
{
    int b;
    memcpy(iv, salt, 14);
    iv[14] = iv[15] = 0;
    iv[4] ^= (uint8_t)(ssrc >> 24);
    iv[5] ^= (uint8_t)(ssrc >> 16);
    iv[6] ^= (uint8_t)(ssrc >> 8);
    iv[7] ^= (uint8_t)ssrc;
    for (b = 0; b < 6; b++)
        iv[13 - b] ^= (uint8_t)(index >> (8 * b));
}

/* GCM IVs (RFC 7714 8.1, 9.1): the 12-byte salt XOR
 * 00 00 || SSRC || ROC || SEQ    (SRTP) or
 * 00 00 || SSRC || 00 00 || 0 || SRTCP index   (SRTCP). */
static void srtp_gcm_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint32_t hi,
                        uint16_t lo, int rtcp)
{
    memcpy(iv, salt, 12);
    iv[2] ^= (uint8_t)(ssrc >> 24);
    iv[3] ^= (uint8_t)(ssrc >> 16);
    iv[4] ^= (uint8_t)(ssrc >> 8);
    iv[5] ^= (uint8_t)ssrc;
    if (!rtcp) { /* hi = ROC, lo = SEQ */
        iv[6] ^= (uint8_t)(hi >> 24);
        iv[7] ^= (uint8_t)(hi >> 16);
        iv[8] ^= (uint8_t)(hi >> 8);
        iv[9] ^= (uint8_t)hi;
        iv[10] ^= (uint8_t)(lo >> 8);
        iv[11] ^= (uint8_t)lo;
    } else { /* hi = SRTCP index */
        iv[8] ^= (uint8_t)(hi >> 24);
        iv[9] ^= (uint8_t)(hi >> 16);
        iv[10] ^= (uint8_t)(hi >> 8);
        iv[11] ^= (uint8_t)hi;
    }
}

/* HMAC-SHA1(k, a[0..an) || b[0..bn)), all 20 bytes. */
static void srtp_hmac(const isc_hmac *k, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                      uint8_t out[20])
{
    isc_hash c;
    isc_hmac_start(k, &c);
    isc_hash_update(&c, a, an);
    isc_hash_update(&c, b, bn);
    isc_hmac_finish(k, &c, out);
}

/* The packet index a stream gives to sequence number seq, as in RFC 3711
 * 3.3.1: the stream's first packet takes ROC || SEQ; later ones use the
 * Appendix A estimate.  *delta = index - top (meaningful when st->rtp_have_). */
static uint64_t srtp_estimate(const imssec_srtp_stream *st, uint16_t seq, int64_t *delta,
                              int *step)
{
    *step = 0;
    if (!st->rtp_have_) {
        *delta = 1;
        return ((uint64_t)st->roc_init_ << 16) | seq;
    }
    return srtp_index_guess(st->rtp_top_, seq, delta, step);
}

/* A ROC taken from an RFC 4771 tag: index ROC_sender || SEQ, and its signed
 * distance from the stream's top (mod 2^48). */
static uint64_t srtp_rcc_index(const imssec_srtp_stream *st, uint32_t roc, uint16_t seq,
                               int64_t *delta)
{
    uint64_t index = ((uint64_t)roc << 16) | seq, d;
    if (!st->rtp_have_) {
        *delta = 1;
        return index;
    }
    d = (index - st->rtp_top_) & SRTP_INDEX_MASK;
    *delta = d >= ((uint64_t)1 << 47) ? (int64_t)d - ((int64_t)1 << 48) : (int64_t)d;
    return index;
}

/* After a packet was accepted or sent: stream (created now if new),
 * window, counters. */
static imssec_srtp_stream *srtp_commit_stream(imssec_srtp_session *s, imssec_srtp_stream *st,
                                              imssec_srtp_stream *slot,
                                              const imssec_srtp_stream *prov, size_t ki,
                                              uint32_t ssrc)
{
    if (!st) { /* a new stream: the provisional state goes into its slot */
        *slot = *prov;
        st = slot;
        s->stream_count_++;
        srtp_emit(s, IMSSEC_SRTP_EV_STREAM_NEW, 0, ki, ssrc, 0);
    }
    s->last_ = (size_t)(st - s->streams_);
    return st;
}

/* ---- SRTP ------------------------------------------------------------------------------ */

/* The stream a packet of `ssrc` goes out on: the known one (*st), or with
 * auto_streams a provisional fresh one (*prov) and the free slot it will
 * take once the packet is protected (*slot); nothing is created here. */
static int srtp_out_stream(imssec_srtp_session *s, uint32_t ssrc, imssec_srtp_stream **st,
                           imssec_srtp_stream **slot, imssec_srtp_stream *prov,
                           imssec_errinfo *err)
{
    *st = srtp_find(s, ssrc);
    if (*st)
        return IMSSEC_OK;
    if (!s->auto_streams_)
        return srtp_no_stream(s, err, 0);
    *slot = srtp_free_slot(s, ssrc);
    if (!*slot)
        return srtp_no_stream(s, err, 1);
    srtp_stream_fresh(prov, ssrc);
    return IMSSEC_OK;
}

/* The same inbound: the slot is taken only after the packet authenticated
 * (a forged SSRC creates nothing). */
static int srtp_in_stream(imssec_srtp_session *s, uint32_t ssrc, imssec_srtp_stream **st,
                          imssec_srtp_stream *prov, imssec_errinfo *err)
{
    *st = srtp_find(s, ssrc);
    if (*st)
        return IMSSEC_OK;
    if (!s->auto_streams_)
        return srtp_no_stream(s, err, 0);
    srtp_stream_fresh(prov, ssrc);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_protect(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                   size_t pkt_cap, size_t *out_len, imssec_errinfo *err)
{
    imssec_srtp_stream *st, *slot = NULL, prov;
    imssec_srtp_keyslot *key;
    size_t hlen, tl, need, ki;
    uint32_t ssrc;
    uint16_t seq;
    uint64_t index;
    int64_t delta;
    int step, carry;

    if (!srtp_ready(s) || !pkt || !out_len)
        return isc_fail_param(err, !s ? "s" : !pkt ? "pkt" : "out_len", "missing argument");
    if (s->dir_ != IMSSEC_SRTP_OUTBOUND)
        return isc_fail_param(err, "s", "protect on an inbound session");
    hlen = srtp_rtp_header(pkt, pkt_len);
    if (!hlen)
        return isc_fail(err, IMSSEC_E_MALFORMED, "not an RTP version 2 packet", "RFC 3550 5.1");
    seq = isc_be16(pkt + 2);
    ssrc = isc_be32(pkt + 8);
    ki = s->send_key_;
    key = &s->keys_[ki];
    tl = srtp_tag_len(s, seq, &carry);
    need = pkt_len + s->mki_len_ + tl;
    if (need > pkt_cap) {
        *out_len = need;
        return isc_fail(err, IMSSEC_E_SPACE, "no room for the MKI and tag", NULL);
    }
    if (!srtp_key_alive(key, 0))
        return srtp_expired(s, err, 0);
    {
        int rs = srtp_out_stream(s, ssrc, &st, &slot, &prov, err);
        if (rs != IMSSEC_OK)
            return rs;
    }
    index = srtp_estimate(st ? st : &prov, seq, &delta, &step);
    if (st && st->rtp_have_) {
        uint32_t roc = (uint32_t)(st->rtp_top_ >> 16);
        if ((step > 0 && roc == UINT32_MAX) || (step < 0 && roc == 0))
            return isc_fail(err, step > 0 ? IMSSEC_E_SEQ_EXHAUSTED : IMSSEC_E_REPLAY,
                            step > 0 ? "the 2^48 packet index space is used up"
                                     : "index before the stream's first packet",
                            "RFC 3711 3.3.1");
        if (srtp_ring_check(st->rtp_ring_, s->window_, 1, index, delta) != IMSSEC_OK)
            return isc_fail(err, IMSSEC_E_REPLAY,
                            "packet index already used or left of the window: the keystream "
                            "would repeat",
                            "RFC 3711 4.1.1, 9.1");
    }

    /* everything checked: protect */
    if (srtp_is_gcm(s)) {
        srtp_gcm_keys *g = &srtp_ks(key)->u.gcm.rtp;
        uint8_t iv[12];
        srtp_gcm_iv(iv, g->salt, ssrc, (uint32_t)(index >> 16), seq, 0);
        if (isc_gcm_seal(&g->gcm, iv, pkt, hlen, pkt + hlen, pkt_len - hlen, pkt + pkt_len) !=
            IMSSEC_OK)
            return isc_fail(err, IMSSEC_E_CRYPTO, "AES-GCM failed", NULL);
        memcpy(pkt + pkt_len + SRTP_GCM_TAG, key->mki_, s->mki_len_);
    } else {
        srtp_cm_keys *c = &srtp_ks(key)->u.cm.rtp;
        uint8_t roc[4], mac[20];
        if (!(s->flags_ & IMSSEC_SRTP_UNENCRYPTED_SRTP)) {
            uint8_t iv[16];
            srtp_cm_iv(iv, c->salt, ssrc, index);
            isc_aes_ctr_xor(&c->enc, iv, 0, pkt + hlen, pkt + hlen, pkt_len - hlen);
        }
        memcpy(pkt + pkt_len, key->mki_, s->mki_len_);
        isc_put_be32(roc, (uint32_t)(index >> 16));
        if (carry) { /* RFC 4771: TAG = ROC_sender || MAC truncated by 32 bits */
            memcpy(pkt + pkt_len + s->mki_len_, roc, 4);
            if (tl > SRTP_ROC_LEN) {
                srtp_hmac(&c->auth, pkt, pkt_len, roc, 4, mac);
                memcpy(pkt + pkt_len + s->mki_len_ + 4, mac, tl - 4);
            }
        } else if (tl) {
            srtp_hmac(&c->auth, pkt, pkt_len, roc, 4, mac);
            memcpy(pkt + pkt_len + s->mki_len_, mac, tl);
        }
        isc_wipe(mac, sizeof mac);
    }
    st = srtp_commit_stream(s, st, slot, &prov, ki, ssrc);
    srtp_ring_commit(st->rtp_ring_, s->window_, &st->rtp_have_, &st->rtp_top_, index, delta,
                     SRTP_INDEX_MASK);
    st->packets_++;
    st->bytes_ += pkt_len - hlen;
    *out_len = need;
    srtp_key_count(s, ki, 0, ssrc);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_unprotect(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                     size_t *out_len, imssec_srtp_rx *rx, imssec_errinfo *err)
{
    imssec_srtp_stream *st, *slot = NULL, prov;
    imssec_srtp_keyslot *key;
    size_t hlen, tl, ml, end, ki = 0;
    uint32_t ssrc;
    uint16_t seq;
    uint64_t index;
    int64_t delta;
    int step, carry, gcm, untagged, noint;

    if (!srtp_ready(s) || !pkt || !out_len)
        return isc_fail_param(err, !s ? "s" : !pkt ? "pkt" : "out_len", "missing argument");
    if (s->dir_ != IMSSEC_SRTP_INBOUND)
        return isc_fail_param(err, "s", "unprotect on an outbound session");
    hlen = srtp_rtp_header(pkt, pkt_len);
    if (!hlen)
        return srtp_verdict(s, err, IMSSEC_E_MALFORMED,
                            "not an RTP version 2 packet, or CSRCs / extension beyond its end",
                            "RFC 3550 5.1");
    seq = isc_be16(pkt + 2);
    ssrc = isc_be32(pkt + 8);
    gcm = srtp_is_gcm(s);
    tl = srtp_tag_len(s, seq, &carry);
    ml = s->mki_len_;
    if (hlen + ml + tl > pkt_len)
        return srtp_verdict(s, err, IMSSEC_E_MALFORMED, "shorter than header + MKI + tag",
                            "RFC 3711 3.1");
    /* MKI before the tag (RFC 3711 3.1) or after it (AEAD, RFC 7714 8) */
    key = srtp_key_by_mki(s, gcm ? pkt + pkt_len - ml : pkt + pkt_len - tl - ml, &ki);
    if (!key)
        return srtp_no_key(s, err);
    end = pkt_len - tl - ml; /* the end of the authenticated portion (GCM: of the ciphertext) */
    {
        int rs = srtp_in_stream(s, ssrc, &st, &prov, err);
        if (rs != IMSSEC_OK)
            return rs;
    }
    /* RFC 4771 3: between its ROC-carrying packets RCCm1 sends packets
     * with no tag at all, in a session that otherwise authenticates.  Such
     * a packet is decrypted at the estimated index, but, having proved
     * nothing, it neither creates a stream, nor is checked against or
     * entered in the replay list (RFC 3711 3.3.2: "replay protection is
     * only possible when integrity protection is present"), nor moves ROC
     * and s_l (3.3.1: updated after authentication): one forged packet
     * cannot fill the stream table or push the stream's index away from
     * the sender's.  RCCm3 has no integrity at all: no replay list (3.3.2
     * again), and a ROC-carrying packet sets the stream's ROC and s_l to
     * its own (RFC 4771 3: ROC_local is replaced by ROC_sender), so a
     * corrupted ROC_sender misleads the receiver only until the next one
     * instead of for ever.  (UNAUTHENTICATED_SRTP: as RFC 3711 has it.) */
    untagged = s->rcc_mode_ == IMSSEC_SRTP_RCC_M1 && tl == 0;
    noint = s->rcc_mode_ == IMSSEC_SRTP_RCC_M3;
    if (untagged && !st)
        return srtp_no_stream_unauth(s, err);
    if (carry) /* RFC 4771: ROC_sender leads the tag */
        index = srtp_rcc_index(st ? st : &prov, isc_be32(pkt + pkt_len - tl), seq, &delta);
    else
        index = srtp_estimate(st ? st : &prov, seq, &delta, &step);
    if (st && !untagged && !noint &&
        srtp_ring_check(st->rtp_ring_, s->window_, st->rtp_have_, index, delta) != IMSSEC_OK)
        return srtp_verdict(s, err, IMSSEC_E_REPLAY, "replayed or left of the replay window",
                            "RFC 3711 3.3.2");
    if (!srtp_key_alive(key, 0))
        return srtp_expired(s, err, 0);

    /* the tag, over the packet as received */
    if (gcm) {
        srtp_gcm_keys *g = &srtp_ks(key)->u.gcm.rtp;
        uint8_t iv[12];
        srtp_gcm_iv(iv, g->salt, ssrc, (uint32_t)(index >> 16), seq, 0);
        end = pkt_len - ml - SRTP_GCM_TAG;
        if (!isc_gcm_check(&g->gcm, iv, pkt, hlen, pkt + hlen, end - hlen, pkt + end))
            return srtp_verdict(s, err, IMSSEC_E_ICV, "AES-GCM tag mismatch", "RFC 7714 8");
    } else if (tl && !(carry && tl == SRTP_ROC_LEN)) {
        srtp_cm_keys *c = &srtp_ks(key)->u.cm.rtp;
        uint8_t roc[4], mac[20];
        size_t off = carry ? SRTP_ROC_LEN : 0; /* RFC 4771: MAC after ROC_sender */
        int ok;
        isc_put_be32(roc, (uint32_t)(index >> 16));
        srtp_hmac(&c->auth, pkt, end, roc, 4, mac);
        ok = isc_ct_eq(mac, pkt + pkt_len - tl + off, tl - off);
        isc_wipe(mac, sizeof mac);
        if (!ok)
            return srtp_verdict(s, err, IMSSEC_E_ICV, "authentication tag mismatch",
                                "RFC 3711 4.2");
    }
    if (!st) {
        slot = srtp_free_slot(s, ssrc);
        if (!slot)
            return srtp_no_stream(s, err, 1);
    }

    /* authentic: decrypt, then commit */
    if (gcm) {
        srtp_gcm_keys *g = &srtp_ks(key)->u.gcm.rtp;
        uint8_t iv[12];
        srtp_gcm_iv(iv, g->salt, ssrc, (uint32_t)(index >> 16), seq, 0);
        isc_gcm_ctr(&g->gcm, iv, pkt + hlen, end - hlen);
    } else if (!(s->flags_ & IMSSEC_SRTP_UNENCRYPTED_SRTP)) {
        srtp_cm_keys *c = &srtp_ks(key)->u.cm.rtp;
        uint8_t iv[16];
        srtp_cm_iv(iv, c->salt, ssrc, index);
        isc_aes_ctr_xor(&c->enc, iv, 0, pkt + hlen, pkt + hlen, end - hlen);
    }
    if (!st)
        st = srtp_commit_stream(s, NULL, slot, &prov, ki, ssrc);
    else
        s->last_ = (size_t)(st - s->streams_);
    if (noint && carry)
        st->rtp_have_ = 0; /* ROC_local := ROC_sender, s_l := SEQ */
    if (!untagged)
        srtp_ring_commit(st->rtp_ring_, s->window_, &st->rtp_have_, &st->rtp_top_, index, delta,
                         SRTP_INDEX_MASK);
    st->packets_++;
    st->bytes_ += end - hlen;
    *out_len = end;
    if (rx) {
        rx->ssrc = ssrc;
        rx->index = index;
        rx->key_index = ki;
        rx->new_stream = slot != NULL;
        rx->encrypted = gcm || !(s->flags_ & IMSSEC_SRTP_UNENCRYPTED_SRTP);
        rx->payload_off = hlen;
    }
    srtp_key_count(s, ki, 0, ssrc);
    return IMSSEC_OK;
}

/* ---- SRTCP ----------------------------------------------------------------------------- */

IMSSEC_API int imssec_srtp_protect_rtcp(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                        size_t pkt_cap, size_t *out_len, imssec_errinfo *err)
{
    imssec_srtp_stream *st, *slot = NULL, prov;
    imssec_srtp_keyslot *key;
    size_t tl, ml, need, ki;
    uint32_t ssrc, index, trailer;
    int enc;

    if (!srtp_ready(s) || !pkt || !out_len)
        return isc_fail_param(err, !s ? "s" : !pkt ? "pkt" : "out_len", "missing argument");
    if (s->dir_ != IMSSEC_SRTP_OUTBOUND)
        return isc_fail_param(err, "s", "protect on an inbound session");
    if (pkt_len < IMSSEC_SRTP_RTCP_HEADER_MIN || (pkt[0] >> 6) != 2)
        return isc_fail(err, IMSSEC_E_MALFORMED, "not an RTCP version 2 packet", "RFC 3550 6.4");
    ssrc = isc_be32(pkt + 4);
    ki = s->send_key_;
    key = &s->keys_[ki];
    tl = srtp_rtcp_tag_len(s);
    ml = s->mki_len_;
    need = pkt_len + 4 + ml + tl;
    if (need > pkt_cap) {
        *out_len = need;
        return isc_fail(err, IMSSEC_E_SPACE, "no room for E || index, MKI and tag", NULL);
    }
    if (!srtp_key_alive(key, 1))
        return srtp_expired(s, err, 1);
    {
        int rs = srtp_out_stream(s, ssrc, &st, &slot, &prov, err);
        if (rs != IMSSEC_OK)
            return rs;
    }
    index = st ? st->rtcp_next_ : 0;
    if (index > SRTP_RTCP_INDEX_MASK)
        return isc_fail(err, IMSSEC_E_SEQ_EXHAUSTED, "the 31-bit SRTCP index is used up",
                        "RFC 3711 3.4, 9.2");
    enc = !(s->flags_ & IMSSEC_SRTP_UNENCRYPTED_SRTCP);
    trailer = (enc ? 0x80000000u : 0) | index;

    if (srtp_is_gcm(s)) {
        srtp_gcm_keys *g = &srtp_ks(key)->u.gcm.rtcp;
        uint8_t iv[12], aad[12];
        int rc;
        srtp_gcm_iv(iv, g->salt, ssrc, index, 0, 1);
        if (enc) { /* AAD = header || E || index; the rest encrypted */
            memcpy(aad, pkt, 8);
            isc_put_be32(aad + 8, trailer);
            rc = isc_gcm_seal(&g->gcm, iv, aad, 12, pkt + 8, pkt_len - 8, pkt + pkt_len);
        } else { /* RFC 7714 9.2: AAD = the whole packet || E || index */
            uint8_t tag[16] = {0};
            isc_put_be32(pkt + pkt_len, trailer);
            rc = isc_gcm_seal(&g->gcm, iv, pkt, pkt_len + 4, NULL, 0, tag);
            memcpy(pkt + pkt_len, tag, 16);
        }
        if (rc != IMSSEC_OK)
            return isc_fail(err, IMSSEC_E_CRYPTO, "AES-GCM failed", NULL);
        isc_put_be32(pkt + pkt_len + 16, trailer);
        memcpy(pkt + pkt_len + 20, key->mki_, ml);
    } else {
        srtp_cm_keys *c = &srtp_ks(key)->u.cm.rtcp;
        uint8_t mac[20];
        if (enc) {
            uint8_t iv[16];
            srtp_cm_iv(iv, c->salt, ssrc, index);
            isc_aes_ctr_xor(&c->enc, iv, 0, pkt + 8, pkt + 8, pkt_len - 8);
        }
        isc_put_be32(pkt + pkt_len, trailer);
        memcpy(pkt + pkt_len + 4, key->mki_, ml);
        srtp_hmac(&c->auth, pkt, pkt_len + 4, NULL, 0, mac);
        memcpy(pkt + pkt_len + 4 + ml, mac, tl);
        isc_wipe(mac, sizeof mac);
    }
    st = srtp_commit_stream(s, st, slot, &prov, ki, ssrc);
    st->rtcp_next_ = index + 1;
    st->rtcp_packets_++;
    st->rtcp_bytes_ += pkt_len - 8;
    *out_len = need;
    srtp_key_count(s, ki, 1, ssrc);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_srtp_unprotect_rtcp(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                          size_t *out_len, imssec_srtp_rx *rx,
                                          imssec_errinfo *err)
{
    imssec_srtp_stream *st, *slot = NULL, prov;
    imssec_srtp_keyslot *key;
    size_t tl, ml, tpos, end, ki = 0;
    uint32_t ssrc, trailer, index;
    int64_t delta;
    int enc, gcm;

    if (!srtp_ready(s) || !pkt || !out_len)
        return isc_fail_param(err, !s ? "s" : !pkt ? "pkt" : "out_len", "missing argument");
    if (s->dir_ != IMSSEC_SRTP_INBOUND)
        return isc_fail_param(err, "s", "unprotect on an outbound session");
    gcm = srtp_is_gcm(s);
    tl = srtp_rtcp_tag_len(s);
    ml = s->mki_len_;
    if (pkt_len < IMSSEC_SRTP_RTCP_HEADER_MIN + 4 + ml + tl || (pkt[0] >> 6) != 2)
        return srtp_verdict(s, err, IMSSEC_E_MALFORMED,
                            "not an SRTCP packet: version, or shorter than header + E || index + "
                            "MKI + tag",
                            "RFC 3711 3.4");
    ssrc = isc_be32(pkt + 4);
    /* AES-CM: ... E||index | MKI | tag;  GCM: ... tag | E||index | MKI */
    tpos = gcm ? pkt_len - ml - 4 : pkt_len - tl - ml - 4;
    key = srtp_key_by_mki(s, gcm ? pkt + pkt_len - ml : pkt + pkt_len - tl - ml, &ki);
    if (!key)
        return srtp_no_key(s, err);
    trailer = isc_be32(pkt + tpos);
    enc = (int)(trailer >> 31);
    index = trailer & SRTP_RTCP_INDEX_MASK;
    if (enc != !(s->flags_ & IMSSEC_SRTP_UNENCRYPTED_SRTCP))
        return srtp_verdict(s, err, IMSSEC_E_MALFORMED,
                            "SRTCP E flag differs from the session's encryption setting",
                            "RFC 3711 3.4; RFC 4568 6.3.2");
    {
        int rs = srtp_in_stream(s, ssrc, &st, &prov, err);
        if (rs != IMSSEC_OK)
            return rs;
    }
    delta = (int64_t)index - (int64_t)(st ? st->rtcp_top_ : 0);
    if (st && srtp_ring_check(st->rtcp_ring_, s->srtcp_window_, st->rtcp_have_, index, delta) !=
                  IMSSEC_OK)
        return srtp_verdict(s, err, IMSSEC_E_REPLAY,
                            "SRTCP index replayed or left of the replay window", "RFC 3711 3.4");
    if (!srtp_key_alive(key, 1))
        return srtp_expired(s, err, 1);

    if (gcm) {
        srtp_gcm_keys *g = &srtp_ks(key)->u.gcm.rtcp;
        uint8_t iv[12];
        int ok;
        end = tpos - SRTP_GCM_TAG;
        srtp_gcm_iv(iv, g->salt, ssrc, index, 0, 1);
        if (enc) {
            uint8_t aad[12];
            memcpy(aad, pkt, 8);
            memcpy(aad + 8, pkt + tpos, 4);
            ok = isc_gcm_check(&g->gcm, iv, aad, 12, pkt + 8, end - 8, pkt + end);
        } else {
            /* AAD = packet || E||index, which is not contiguous here: the
             * tag is in between.  Lay the trailer over the tag's first 4
             * bytes for the check, then put the tag back. */
            uint8_t tag[16];
            memcpy(tag, pkt + end, 16);
            memcpy(pkt + end, pkt + tpos, 4);
            ok = isc_gcm_check(&g->gcm, iv, pkt, end + 4, NULL, 0, tag);
            memcpy(pkt + end, tag, 16);
        }
        if (!ok)
            return srtp_verdict(s, err, IMSSEC_E_ICV, "AES-GCM tag mismatch", "RFC 7714 9");
    } else {
        srtp_cm_keys *c = &srtp_ks(key)->u.cm.rtcp;
        uint8_t mac[20];
        int ok;
        end = tpos;
        srtp_hmac(&c->auth, pkt, tpos + 4, NULL, 0, mac);
        ok = isc_ct_eq(mac, pkt + pkt_len - tl, tl);
        isc_wipe(mac, sizeof mac);
        if (!ok)
            return srtp_verdict(s, err, IMSSEC_E_ICV, "authentication tag mismatch",
                                "RFC 3711 3.4, 4.2");
    }
    if (!st) {
        slot = srtp_free_slot(s, ssrc);
        if (!slot)
            return srtp_no_stream(s, err, 1);
    }

    if (enc) {
        if (gcm) {
            srtp_gcm_keys *g = &srtp_ks(key)->u.gcm.rtcp;
            uint8_t iv[12];
            srtp_gcm_iv(iv, g->salt, ssrc, index, 0, 1);
            isc_gcm_ctr(&g->gcm, iv, pkt + 8, end - 8);
        } else {
            srtp_cm_keys *c = &srtp_ks(key)->u.cm.rtcp;
            uint8_t iv[16];
            srtp_cm_iv(iv, c->salt, ssrc, index);
            isc_aes_ctr_xor(&c->enc, iv, 0, pkt + 8, pkt + 8, end - 8);
        }
    }
    if (!st)
        st = srtp_commit_stream(s, NULL, slot, &prov, ki, ssrc);
    else
        s->last_ = (size_t)(st - s->streams_);
    srtp_ring_commit(st->rtcp_ring_, s->srtcp_window_, &st->rtcp_have_, &st->rtcp_top_, index,
                     delta, SRTP_RTCP_INDEX_MASK);
    st->rtcp_packets_++;
    st->rtcp_bytes_ += end - 8;
    *out_len = end;
    if (rx) {
        rx->ssrc = ssrc;
        rx->index = index;
        rx->key_index = ki;
        rx->new_stream = slot != NULL;
        rx->encrypted = enc;
        rx->payload_off = 8;
    }
    srtp_key_count(s, ki, 1, ssrc);
    return IMSSEC_OK;
}
