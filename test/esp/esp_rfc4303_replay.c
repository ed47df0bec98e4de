/*
 * esp_rfc4303_replay.c -- the anti-replay window of RFC 4303 section 3.4.3:
 * the Linux kernel's sequence of esp-vectors.md section 6 with two
 * independent packet sources; a differential against a naive reference
 * model (a plain list of the numbers seen, the rule read literally) on
 * random and adversarial sequences, for every window size 32..4096, with
 * 32-bit and 64-bit (ESN) numbers; the top of the 32-bit space; window
 * sizes validated at setup; a forged high number moving nothing; a
 * restored SA treating everything up to its number as seen.
 */

#include "esp_fixture.h"

/* The reference: accept n iff n >= 1, and n > top, or top - n < W and n was
 * never accepted.  `seen` holds accepted numbers inside the window only
 * (older ones can never matter again), so it stays bounded by W. */
typedef struct ref_window {
    uint64_t top, w;
    uint64_t seen[4096 + 1];
    size_t n;
} ref_window;

static int ref_accepts(const ref_window *r, uint64_t s)
{
    size_t i;
    if (s == 0)
        return 0;
    if (s > r->top)
        return 1;
    if (r->top - s >= r->w)
        return 0;
    for (i = 0; i < r->n; i++)
        if (r->seen[i] == s)
            return 0;
    return 1;
}

static void ref_accept(ref_window *r, uint64_t s)
{
    size_t i, k = 0;
    if (s > r->top)
        r->top = s;
    for (i = 0; i < r->n; i++) /* forget what fell out of the window */
        if (r->top - r->seen[i] < r->w)
            r->seen[k++] = r->seen[i];
    r->n = k;
    r->seen[r->n++] = s;
}

/* The next number to offer: mixes random positions around the top with
 * the adversarial ones (exact window edges, word edges, duplicates, big
 * jumps of W +- 1 and of the ring size). */
static uint64_t replay_next(const ref_window *r, uint64_t last, uint64_t limit)
{
    uint64_t t = r->top, w = r->w, d, s;
    switch (t_rand64() % 12) {
    case 0: s = last; break;                        /* duplicate */
    case 1: s = t >= w ? t - w : 0; break;          /* just left of the window */
    case 2: s = t >= w - 1 ? t - w + 1 : 1; break;  /* leftmost slot */
    case 3: s = t + w; break;                       /* jump by W */
    case 4: s = t + w + 1 + t_rand64() % 130; break;/* past a whole ring */
    case 5: s = t + 64 - (t & 63); break;           /* next word boundary */
    case 6: s = (t | 63); break;                    /* last bit of this word */
    case 7: s = t + 1; break;
    case 8: s = t; break;
    default:
        d = t_rand64() % (w + w / 2 + 2);
        s = (t_rand64() & 1) ? t + d % (w / 2 + 1) + 1 : (t > d ? t - d : 1);
        break;
    }
    return s > limit ? limit : s;
}

/* RFC 4303 3.4.3 / esp-vectors.md section 6: the Linux kernel's sequence
 * (W = 32, rows 1..7), then three rows past it at the left edge of the
 * window: 41 - 2 = 39 >= 32 is left of it, 41 - 10 = 31 < 32 inside,
 * 41 - 9 = 32 left.  Run with two independent packet sources: packets this
 * library protects (AES-CBC, HMAC-SHA-1-96, a fresh outbound SA per
 * packet) and packets crafted with mbedTLS (NULL encryption); row 3 has a
 * bit of its ICV flipped.  After row 7 the kernel's final state: seq 0x29,
 * bitmap 0x00000803 (41, 40, 30), 4 accepted, 2 replays, 1 ICV failure --
 * the ICV failure of seq 2 did not touch the window. */
T_TEST(esp_rfc4303_3_4_3_replay_kernel_sequence)
{
    static const struct {
        uint32_t seq;
        int flip, want;
    } rows[] = {{1, 0, IMSSEC_OK},  {1, 0, IMSSEC_E_REPLAY}, {2, 1, IMSSEC_E_ICV},
                {40, 0, IMSSEC_OK}, {5, 0, IMSSEC_E_REPLAY}, {30, 0, IMSSEC_OK},
                {41, 0, IMSSEC_OK},
                /* past the kernel's rows */
                {2, 0, IMSSEC_E_REPLAY}, {10, 0, IMSSEC_OK}, {9, 0, IMSSEC_E_REPLAY}};
    int crafted;
    for (crafted = 0; crafted < 2; crafted++) {
        imssec_esp_sa in;
        uint8_t pt[64], esp[256], pkt[300], out[300];
        size_t i, n = 0, en, pn, olen;
        uint32_t s;
        if (crafted) {
            T_EQ_INT(in_sa(&in, IMSSEC_EALG_NULL, 0, 0, 32), IMSSEC_OK);
            n = mk_trailer(pt, 10, 0, NULL, 0, 17);
        } else {
            T_EQ_INT(esp_t_sa(&in, IMSSEC_ESP_INBOUND, 32, 0, 0), IMSSEC_OK);
        }
        for (i = 0; i < (sizeof rows / sizeof rows[0]); i++) {
            if (crafted) {
                en = craft_esp(esp, 0x1234, rows[i].seq, 0, pt, n, NULL);
                if (rows[i].flip)
                    esp[en - 1] ^= 1; /* a bit of the ICV */
                pn = wrap_v4(pkt, esp, en);
            } else {
                pn = esp_t_packet(rows[i].seq, 0, pkt, sizeof pkt);
                T_ASSERT(pn > 0);
                if (rows[i].flip)
                    pkt[pn - 1] ^= 1; /* a bit of the ICV */
            }
            T_EQ_INT(imssec_esp_unprotect(&in, pkt, pn, out, sizeof out, &olen, NULL, NULL),
                     rows[i].want);
            if (i != 6)
                continue;
            /* final kernel state: seq 0x29, bitmap 0x00000803 (41, 40, 30) */
            T_EQ_UINT(imssec_esp_sa_seq(&in), 0x29);
            for (s = 1; s <= 45; s++) {
                int seen = s == 41 || s == 40 || s == 30 || s + 32 <= 41;
                T_EQ_INT(imssec_esp_replay_check(&in, s), seen ? IMSSEC_E_REPLAY : IMSSEC_OK);
            }
            T_EQ_UINT(imssec_esp_sa_stats(&in)->packets, 4);
            T_EQ_UINT(imssec_esp_sa_stats(&in)->replay, 2);
            T_EQ_UINT(imssec_esp_sa_stats(&in)->icv, 1);
        }
        T_EQ_UINT(imssec_esp_sa_stats(&in)->replay, 4);
        T_EQ_UINT(imssec_esp_sa_stats(&in)->icv, 1);
        T_EQ_UINT(imssec_esp_sa_stats(&in)->packets, 5);
        T_EQ_UINT(imssec_esp_sa_seq(&in), 41);
        imssec_esp_sa_wipe(&in);
    }
}

/* Five kinds of neighbours of the top (just ahead, anywhere up to two
 * windows ahead, the left edge, behind, one window ahead). */
static uint64_t replay_near(uint64_t top, uint64_t w)
{
    uint64_t x = t_rand64();
    switch (x % 5) {
    case 0: return top + 1 + (x >> 8) % 4;
    case 1: return top + (x >> 8) % (2 * w + 3);
    case 2: return top >= w ? top - w + (x >> 8) % 3 : (x >> 8) % (w + 2);
    case 3: return top > (x >> 8) % (w + 5) ? top - (x >> 8) % (w + 5) : 0;
    default: return top + w + (x >> 8) % 3 - 1;
    }
}

/* Around the top with ESN (the run starts below 2^32 and crosses it):
 * ahead, behind, and the leftmost slot or the one left of it. */
static uint64_t replay_wrap(uint64_t top, uint64_t w)
{
    uint64_t x = t_rand64();
    switch (x % 4) {
    case 0: return top + 1 + (x >> 8) % 3;
    case 1: return top - (x >> 8) % (w + 3);
    case 2: return top + (x >> 8) % (w + 3);
    default: return top - w + 1 - (x >> 8) % 2;
    }
}

/* The reference differential: random and adversarial sequences offered to
 * the SA and to the naive model (ref_window), for every window size
 * 32..4096 (beyond this build's IMSSEC_REPLAY_WINDOW_MAX: refused at
 * setup), with 32-bit and 64-bit (ESN) numbers.  The runs:
 *  - replay_next, 32-bit from 0 and from 1000, ESN from just below 2^32
 *    (so the run crosses it); 1 in 8 acceptable numbers is then "lost" to
 *    an ICV failure and not committed;
 *  - replay_near, 32-bit from 0, four rounds; everything acceptable
 *    committed;
 *  - replay_wrap, ESN from 2^32 - 3001 (the window straddles the wrap),
 *    6000 numbers; everything acceptable committed; the top ends above
 *    2^32.
 * Every verdict is the model's (a refusal is IMSSEC_E_REPLAY), the SA's top
 * is the model's after every step, and with ESN the number inferred from
 * an acceptable low half is the number itself (RFC 4303 A2). */
T_TEST(esp_rfc4303_3_4_3_replay_differential)
{
    static const struct {
        int gen, esn, rounds, ops;
    } runs[] = {{0, 0, 2, 2500}, {0, 1, 2, 2500}, {1, 0, 4, 3000}, {2, 1, 1, 6000}};
    static ref_window ref;
    uint32_t w;
    size_t k;
    for (w = 32; w <= 4096; w *= 2) {
        imssec_esp_sa sa;
        if (w > IMSSEC_REPLAY_WINDOW_MAX) { /* beyond this build's window: refused */
            T_EQ_INT(replay_sa(&sa, w, 0, 0), IMSSEC_E_PARAM);
            T_EQ_INT(replay_sa(&sa, w, 1, UINT64_C(0xffffffff) - 3000), IMSSEC_E_PARAM);
            continue;
        }
        for (k = 0; k < sizeof runs / sizeof runs[0]; k++) {
            int round, gen = runs[k].gen, esn = runs[k].esn;
            for (round = 0; round < runs[k].rounds; round++) {
                uint64_t start, limit = esn ? UINT64_MAX : UINT32_MAX, last = 1;
                int i, ops = runs[k].ops;
                if (gen == 0) {
                    /* ESN: start just below 2^32 so the run crosses it */
                    start = esn ? UINT64_C(0xffffffff) - 3 * w : (round ? 1000 : 0);
                    if (w >= 1024)
                        ops = 1200;
                } else {
                    start = gen == 2 ? UINT64_C(0xffffffff) - 3000 : 0;
                }
                T_EQ_INT(replay_sa(&sa, w, esn, start), IMSSEC_OK);
                memset(&ref, 0, sizeof ref);
                ref.w = w;
                ref.top = start;
                /* the SA treats everything <= start as seen */
                if (start) {
                    uint64_t s;
                    for (s = start >= w ? start - w + 1 : 1; s <= start; s++)
                        ref.seen[ref.n++] = s;
                }
                for (i = 0; i < ops; i++) {
                    uint64_t s = gen == 0   ? replay_next(&ref, last, limit)
                                 : gen == 1 ? replay_near(ref.top, w)
                                            : replay_wrap(ref.top, w);
                    int want, got;
                    if (s > limit)
                        break;
                    want = ref_accepts(&ref, s);
                    got = imssec_esp_replay_check(&sa, s);
                    if (got != (want ? IMSSEC_OK : IMSSEC_E_REPLAY))
                        t_fail_(__FILE__, __LINE__,
                                "W=%u esn=%d run %u op %d seq %llu top %llu: got %d want %d",
                                (unsigned)w, esn, (unsigned)k, i, (unsigned long long)s,
                                (unsigned long long)ref.top, got, want);
                    T_EQ_INT(got, want ? IMSSEC_OK : IMSSEC_E_REPLAY);
                    /* inference of the low half gives back the number while
                     * it is inside or ahead of the window (RFC 4303 A2) */
                    if (want && esn)
                        T_EQ_UINT(imssec_esp_replay_infer(&sa, (uint32_t)s), s);
                    if (want && (gen != 0 || (t_rand64() % 8) != 0)) {
                        /* gen 0: 1 in 8 "failed" the ICV: not committed */
                        imssec_esp_replay_commit(&sa, s);
                        ref_accept(&ref, s);
                        last = s;
                    }
                    T_EQ_UINT(imssec_esp_sa_seq(&sa), ref.top);
                }
                if (gen == 2)
                    T_ASSERT(ref.top > UINT64_C(0xffffffff));
                imssec_esp_sa_wipe(&sa);
            }
        }
    }
}

/* Non-ESN numbers stop at 2^32 - 1; the window works up to that edge. */
T_TEST(esp_replay_top_of_32bit_space)
{
    imssec_esp_sa sa;
    T_EQ_INT(replay_sa(&sa, 32, 0, UINT64_C(0xfffffff0)), IMSSEC_OK);
    T_EQ_INT(imssec_esp_replay_check(&sa, UINT64_C(0xffffffff)), IMSSEC_OK);
    imssec_esp_replay_commit(&sa, UINT64_C(0xffffffff));
    T_EQ_INT(imssec_esp_replay_check(&sa, UINT64_C(0xffffffff)), IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_esp_replay_check(&sa, UINT64_C(0xfffffff1)), IMSSEC_OK);
    T_EQ_INT(imssec_esp_replay_check(&sa, UINT64_C(0xfffffff0)), IMSSEC_E_REPLAY);
    /* 32 behind the top is left of a 32-bit window, 31 behind is inside */
    T_EQ_INT(imssec_esp_replay_check(&sa, UINT64_C(0xffffffdf)), IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_esp_replay_check(&sa, UINT64_C(0xffffffe0)), IMSSEC_E_REPLAY);
    /* 0 is never valid; without ESN a low half is the number itself */
    T_EQ_INT(imssec_esp_replay_check(&sa, 0), IMSSEC_E_REPLAY);
    T_EQ_UINT(imssec_esp_replay_infer(&sa, 5), 5);
    imssec_esp_sa_wipe(&sa);
}

/* Window sizes are validated at setup (CVE-2017-7184 class). */
T_TEST(esp_replay_window_sizes_validated)
{
    static const uint32_t bad[] = {0, 1, 16, 31, 33, 48, 96, 100, 8192, 0x80000000u};
    imssec_esp_sa sa;
    size_t i;
    uint32_t w;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        T_EQ_INT(replay_sa(&sa, bad[i], 0, 0), IMSSEC_E_PARAM);
    for (w = 32; w <= IMSSEC_REPLAY_WINDOW_MAX; w *= 2)
        T_EQ_INT(replay_sa(&sa, w, 0, 0), IMSSEC_OK);
    T_EQ_INT(replay_sa(&sa, IMSSEC_REPLAY_WINDOW_MAX * 2, 0, 0), IMSSEC_E_PARAM);
    /* a starting point above 2^32 - 1 needs ESN */
    T_EQ_INT(replay_sa(&sa, 32, 0, UINT64_C(0x100000000)), IMSSEC_E_PARAM);
}

/* A forged packet with a huge sequence number must not move the window. */
T_TEST(esp_rfc4303_3_4_3_forged_high_seq_no_window_move)
{
    imssec_esp_sa sa;
    uint8_t pt[64], esp[256], pkt[300], out[300];
    size_t n, en, pn, len;
    T_EQ_INT(in_sa(&sa, IMSSEC_EALG_NULL, 0, 0, ESP_W(64)), IMSSEC_OK);
    n = mk_trailer(pt, 10, 0, NULL, 0, 17);
    en = craft_esp(esp, 0x1234, 0xfffffff0u, 0, pt, n, NULL);
    esp[en - 5] ^= 0x80;
    pn = wrap_v4(pkt, esp, en);
    T_EQ_INT(imssec_esp_unprotect(&sa, pkt, pn, out, sizeof out, &len, NULL, NULL), IMSSEC_E_ICV);
    T_EQ_UINT(imssec_esp_sa_seq(&sa), 0);
    T_EQ_INT(send_crafted(&sa, 1, 0, pt, n, NULL), IMSSEC_OK);
}

/* Restoring an inbound SA at seq S: every number <= S is treated as seen.
 * (W = 64, or 32 in a smaller build: 990 and 999 stay inside either.) */
T_TEST(esp_rfc4303_3_4_3_restore_seq_all_seen)
{
    imssec_esp_sa sa;
    T_EQ_INT(in_sa(&sa, IMSSEC_EALG_NULL, 0, 1000, ESP_W(64)), IMSSEC_OK);
    T_EQ_INT(imssec_esp_replay_check(&sa, 1000), IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_esp_replay_check(&sa, 999), IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_esp_replay_check(&sa, 950), IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_esp_replay_check(&sa, 1), IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_esp_replay_check(&sa, 1001), IMSSEC_OK);
    T_EQ_INT(imssec_esp_replay_check(&sa, 0), IMSSEC_E_REPLAY);
    /* a jump forward: the numbers between 1000 and the new top are fresh */
    imssec_esp_replay_commit(&sa, 1010);
    T_EQ_INT(imssec_esp_replay_check(&sa, 1005), IMSSEC_OK);
    T_EQ_INT(imssec_esp_replay_check(&sa, 1000), IMSSEC_E_REPLAY);
    T_EQ_INT(imssec_esp_replay_check(&sa, 990), IMSSEC_E_REPLAY);
}
