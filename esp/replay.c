/*
 * replay.c -- the anti-replay window (RFC 4303 section 3.4.3) as an RFC 6479
 * ring of 64-bit words: advancing clears whole words, nothing is ever
 * shifted, so the cost of a jump is bounded by the ring size, not by the
 * distance.  ESN: the high half is inferred per RFC 4303 Appendix A2.
 */
#include "../imssec.h"

/* Words in the ring: enough for every number in [T - W + 1, T] to have its
 * own bit (the window straddles at most ceil(W/64) + 1 words). */
static uint32_t esp_replay_words(uint32_t window)
{
    return (window + 63u) / 64u + 1u;
}

static uint64_t *esp_replay_word(imssec_esp_sa *sa, uint64_t seq)
{
    return &sa->replay_[(seq >> 6) % esp_replay_words(sa->window_)];
}

/* Empty the window, then mark every number <= top as received: used at
 * setup so that a restored SA accepts nothing at or below its last top. */
static void esp_replay_reset(imssec_esp_sa *sa, uint64_t top)
{
    uint32_t n = esp_replay_words(sa->window_), i;
    sa->seq_ = top;
    for (i = 0; i < n; i++)
        sa->replay_[i] = top ? ~(uint64_t)0 : 0;
    if (top) {
        unsigned b = (unsigned)(top & 63);
        *esp_replay_word(sa, top) = b == 63 ? ~(uint64_t)0 : (((uint64_t)1 << (b + 1)) - 1);
    }
}

IMSSEC_API uint64_t imssec_esp_replay_infer(const imssec_esp_sa *sa, uint32_t seql)
{
    uint32_t th, tl, w;
    if (!sa || !sa->esn_)
        return seql;
    th = (uint32_t)(sa->seq_ >> 32);
    tl = (uint32_t)sa->seq_;
    w = sa->window_;
    if (tl >= w - 1) { /* window within one subspace */
        if (seql < tl - w + 1) {
            if (th == UINT32_MAX)
                return 0; /* beyond 2^64: never valid, checked as replay */
            return (uint64_t)(th + 1) << 32 | seql;
        }
        return (uint64_t)th << 32 | seql;
    }
    /* the window spans two subspaces */
    if (seql >= (uint32_t)(tl - w + 1)) {
        if (th == 0)
            return 0; /* before the first packet: never valid */
        return (uint64_t)(th - 1) << 32 | seql;
    }
    return (uint64_t)th << 32 | seql;
}

IMSSEC_API int imssec_esp_replay_check(const imssec_esp_sa *sa, uint64_t seq)
{
    uint64_t w;
    if (!sa)
        return IMSSEC_E_PARAM;
    if (seq == 0)
        return IMSSEC_E_REPLAY; /* number 0 is never sent (RFC 4303 3.3.3) */
    if (seq > sa->seq_)
        return IMSSEC_OK;
    if (sa->seq_ - seq >= sa->window_)
        return IMSSEC_E_REPLAY; /* left of the window */
    w = sa->replay_[(seq >> 6) % esp_replay_words(sa->window_)];
    return (w >> (seq & 63)) & 1 ? IMSSEC_E_REPLAY : IMSSEC_OK;
}

IMSSEC_API void imssec_esp_replay_commit(imssec_esp_sa *sa, uint64_t seq)
{
    uint32_t n;
    if (!sa || seq == 0)
        return;
    n = esp_replay_words(sa->window_);
    if (seq > sa->seq_) {
        uint64_t ob = sa->seq_ >> 6, nb = seq >> 6, i;
        if (nb - ob >= n) {
            for (i = 0; i < n; i++)
                sa->replay_[i] = 0;
        } else {
            for (i = ob + 1; i <= nb; i++)
                sa->replay_[i % n] = 0;
        }
        sa->seq_ = seq;
    } else if (sa->seq_ - seq >= sa->window_) {
        return; /* outside the window: its word now belongs to newer numbers */
    }
    *esp_replay_word(sa, seq) |= (uint64_t)1 << (seq & 63);
}
