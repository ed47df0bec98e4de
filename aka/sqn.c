/*
 * sqn.c -- the USIM's sequence number memory of TS 33.102 Annex C.2 (UE
 * side) and the SEQ || IND allocation of Annex C.3 (network side).
 */
#include "../imssec.h"

#if IMSSEC_AKA_IND_BITS_MAX < 0 || IMSSEC_AKA_IND_BITS_MAX > 10
#error "IMSSEC_AKA_IND_BITS_MAX must be 0..10"
#endif

#define AKA_SQN_DELTA_DEFAULT (UINT64_C(1) << 28) /* TS 33.102 C.2.2 */
#define AKA_SQN_IND_DEFAULT 5u                     /* TS 33.102 C.3.4 (a = 32) */

IMSSEC_API void imssec_aka_sqn_init(imssec_aka_sqn *st)
{
    memset(st, 0, sizeof *st);
    st->ind_bits_ = AKA_SQN_IND_DEFAULT <= IMSSEC_AKA_IND_BITS_MAX ? AKA_SQN_IND_DEFAULT
                                                                   : IMSSEC_AKA_IND_BITS_MAX;
    st->delta_ = AKA_SQN_DELTA_DEFAULT;
    st->limit_ = 0;
    st->persist_ = NULL;
    st->persist_user_ = NULL;
}

IMSSEC_API int imssec_aka_sqn_configure(imssec_aka_sqn *st, unsigned ind_bits, uint64_t delta,
                                        uint64_t limit_l)
{
    int (*persist)(void *, const imssec_aka_sqn *) = st->persist_;
    void *user = st->persist_user_;
    if (ind_bits > IMSSEC_AKA_IND_BITS_MAX || delta == 0 || delta > (UINT64_C(1) << 43) ||
        limit_l > IMSSEC_AKA_SQN_MASK)
        return IMSSEC_E_RANGE;
    imssec_aka_sqn_init(st);
    st->ind_bits_ = ind_bits;
    st->delta_ = delta;
    st->limit_ = limit_l;
    st->persist_ = persist;
    st->persist_user_ = user;
    return IMSSEC_OK;
}

IMSSEC_API void imssec_aka_sqn_set_persist(imssec_aka_sqn *st,
                                           int (*persist)(void *user, const imssec_aka_sqn *st),
                                           void *user)
{
    st->persist_ = persist;
    st->persist_user_ = user;
}

static unsigned aka_sqn_ind(const imssec_aka_sqn *st, uint64_t sqn)
{
    return (unsigned)(sqn & ((UINT64_C(1) << st->ind_bits_) - 1));
}

IMSSEC_API int imssec_aka_sqn_record(imssec_aka_sqn *st, uint64_t sqn)
{
    uint64_t seq = sqn >> st->ind_bits_;
    unsigned ind = aka_sqn_ind(st, sqn);
    if (sqn > IMSSEC_AKA_SQN_MASK)
        return IMSSEC_E_RANGE;
    if (seq > st->seq_ms_[ind])
        st->seq_ms_[ind] = seq;
    if (sqn > st->highest_)
        st->highest_ = sqn;
    return IMSSEC_OK;
}

IMSSEC_API uint64_t imssec_aka_sqn_highest(const imssec_aka_sqn *st)
{
    return st->highest_;
}

IMSSEC_API uint64_t imssec_aka_sqn_seq_ms(const imssec_aka_sqn *st, unsigned ind)
{
    return ind < (1u << st->ind_bits_) ? st->seq_ms_[ind] : 0;
}

IMSSEC_API int imssec_aka_sqn_check(const imssec_aka_sqn *st, uint64_t sqn)
{
    uint64_t seq = sqn >> st->ind_bits_, top = st->highest_ >> st->ind_bits_;
    if (sqn > IMSSEC_AKA_SQN_MASK)
        return IMSSEC_E_SYNC_FAILURE;
    /* C.2.2: fresh for its IND slot */
    if (seq <= st->seq_ms_[aka_sqn_ind(st, sqn)])
        return IMSSEC_E_SYNC_FAILURE;
    /* C.2.2: not too far ahead of the highest accepted SEQ (wrap-around
     * protection: a huge jump would exhaust the counter) */
    if (seq > top && seq - top > st->delta_)
        return IMSSEC_E_SYNC_FAILURE;
    /* C.2.3: optional age limit */
    if (st->limit_ && top > seq && top - seq > st->limit_)
        return IMSSEC_E_SYNC_FAILURE;
    return IMSSEC_OK;
}

/* Accept `sqn` (already checked) and persist; on a failing callback the
 * state is restored and IMSSEC_E_CALLBACK returned. */
static int aka_sqn_accept(imssec_aka_sqn *st, uint64_t sqn)
{
    unsigned ind = aka_sqn_ind(st, sqn);
    uint64_t old_seq = st->seq_ms_[ind], old_high = st->highest_;
    st->seq_ms_[ind] = sqn >> st->ind_bits_;
    if (sqn > st->highest_)
        st->highest_ = sqn;
    if (st->persist_ && st->persist_(st->persist_user_, st) != 0) {
        st->seq_ms_[ind] = old_seq;
        st->highest_ = old_high;
        return IMSSEC_E_CALLBACK;
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_aka_sqn_next(uint64_t sqn, unsigned ind_bits, unsigned ind,
                                   uint64_t *next)
{
    uint64_t span;
    if (ind_bits > 28 || sqn > IMSSEC_AKA_SQN_MASK)
        return IMSSEC_E_RANGE;
    span = UINT64_C(1) << ind_bits;
    if (ind >= span)
        return IMSSEC_E_RANGE;
    /* C.3.2: SEQ increments by one, IND names the slot this vector is for */
    *next = (((sqn + span) & ~(span - 1)) | ind) & IMSSEC_AKA_SQN_MASK;
    return IMSSEC_OK;
}
