/*
 * srtp_replay.c -- the SRTP and SRTCP replay lists (RFC 3711 3.3.2) as
 * RFC 6479-style rings of 64-bit words, and the receiver's packet index
 * estimate (RFC 3711 3.3.1, Appendix A).
 *
 * A window of W packets accepts an index ahead of the highest one (`top`),
 * or within [top - W + 1, top] when its bit is clear; anything older "can
 * be assumed to have been received".  The ring has a power-of-two number
 * of words, at least W / 64 + 1, so word (i / 64) mod n is well defined
 * modulo 2^48 and the W bits below top never share a word with top + 1.
 * Moving top forward clears only the words it passes (at most n).
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

#define SRTP_INDEX_MASK ((((uint64_t)1) << 48) - 1)
#define SRTP_RING_WORDS_MAX (2 * IMSSEC_SRTP_REPLAY_WINDOW_MAX / 64)

/* Words of the ring for a window: the smallest power of two >= W/64 + 1. */
static uint32_t srtp_ring_words(uint32_t window)
{
    uint32_t n = 1;
    while (n < window / 64 + 1)
        n <<= 1;
    return n;
}

/* 0 if `index` (delta = index - top, signed) may be accepted, else
 * IMSSEC_E_REPLAY.  `have` is 0 before the first packet: all accepted. */
static int srtp_ring_check(const uint64_t *ring, uint32_t window, int have, uint64_t index,
                           int64_t delta)
{
    uint32_t n = srtp_ring_words(window);
    if (!have || delta > 0)
        return IMSSEC_OK;
    if (-delta >= (int64_t)window)
        return IMSSEC_E_REPLAY; /* left of the window */
    return (ring[(index >> 6) & (n - 1)] >> (index & 63)) & 1 ? IMSSEC_E_REPLAY : IMSSEC_OK;
}

/* Mark `index` received and move top to it when it is ahead.  `mask` is
 * the index space (2^48 - 1 for SRTP, 2^31 - 1 for SRTCP). */
static void srtp_ring_commit(uint64_t *ring, uint32_t window, uint8_t *have, uint64_t *top,
                             uint64_t index, int64_t delta, uint64_t mask)
{
    uint32_t n = srtp_ring_words(window), k;
    if (!*have) {
        for (k = 0; k < n; k++)
            ring[k] = 0;
        *have = 1;
        *top = index;
    } else if (delta > 0) {
        uint64_t steps = (((*top & 63) + (uint64_t)delta) >> 6); /* word boundaries crossed */
        uint64_t w = *top >> 6;
        if (steps >= n) {
            for (k = 0; k < n; k++)
                ring[k] = 0;
        } else {
            for (k = 1; k <= (uint32_t)steps; k++)
                ring[(w + k) & (n - 1)] = 0;
        }
        *top = index & mask;
    }
    ring[(index >> 6) & (n - 1)] |= (uint64_t)1 << (index & 63);
}

/* Mark every index <= top as received (a restored stream). */
static void srtp_ring_fill(uint64_t *ring, uint32_t window, uint64_t top)
{
    uint32_t n = srtp_ring_words(window), k;
    unsigned b = (unsigned)(top & 63);
    for (k = 0; k < n; k++)
        ring[k] = ~(uint64_t)0;
    ring[(top >> 6) & (n - 1)] = b == 63 ? ~(uint64_t)0 : (((uint64_t)1 << (b + 1)) - 1);
}

/* RFC 3711 Appendix A, on the stream's highest index top = ROC || s_l:
 * v in {ROC - 1, ROC, ROC + 1} (mod 2^32) such that 2^16 * v + SEQ is
 * closest to 2^16 * ROC + s_l.  Returns the index (mod 2^48) and *delta =
 * index - top as a signed number (-2^16 < delta < 2^16); *step = v - ROC. */
static uint64_t srtp_index_guess(uint64_t top, uint16_t seq, int64_t *delta, int *step)
{
    uint32_t roc = (uint32_t)(top >> 16), v;
    int32_t s_l = (int32_t)(top & 0xffff), sq = (int32_t)seq;
    int d;
    if (s_l < 32768) {
        d = (sq - s_l > 32768) ? -1 : 0;
    } else {
        d = (s_l - 32768 > sq) ? 1 : 0;
    }
    v = roc + (uint32_t)d; /* mod 2^32, as the RFC says */
    *step = d;
    *delta = (int64_t)sq - s_l + (int64_t)d * 65536;
    return ((uint64_t)v << 16) | seq;
}
