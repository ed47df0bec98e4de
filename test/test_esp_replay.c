/*
 * test_esp_replay.c -- the anti-replay window against a naive reference
 * model (a plain list of the numbers seen, RFC 4303 section 3.4.3 read
 * literally), on random and adversarial sequences, for every window size
 * 32..4096, with 32-bit and 64-bit (ESN) numbers; and the ESN high-half
 * inference against an independent formulation of RFC 4303 Appendix A2.
 */
#include "../imssec.h"
#include "t.h"

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

static int replay_sa(imssec_esp_sa *sa, uint32_t w, int esn, uint64_t start)
{
    static const uint8_t ak[20] = {7};
    imssec_esp_params p;
    imssec_esp_params_init(&p);
    p.spi = 77;
    p.dir = IMSSEC_ESP_INBOUND;
    p.auth_key = ak;
    p.auth_key_len = 20;
    p.replay_window = w;
    p.esn = esn;
    p.seq = start;
    return imssec_esp_sa_setup(sa, &p);
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

T_TEST(esp_replay_differential)
{
    static ref_window ref;
    uint32_t w;
    int esn, round;
    for (w = 32; w <= IMSSEC_REPLAY_WINDOW_MAX; w *= 2) {
        for (esn = 0; esn <= 1; esn++) {
            for (round = 0; round < 2; round++) {
                imssec_esp_sa sa;
                /* ESN: start just below 2^32 so the run crosses it */
                uint64_t start = esn ? UINT64_C(0xffffffff) - 3 * w : (round ? 1000 : 0);
                uint64_t limit = esn ? UINT64_MAX : UINT32_MAX, last = 1;
                int i, ops = w >= 1024 ? 1200 : 2500;
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
                    uint64_t s = replay_next(&ref, last, limit);
                    int want = ref_accepts(&ref, s);
                    int got = imssec_esp_replay_check(&sa, s) == IMSSEC_OK;
                    if (got != want)
                        t_fail_(__FILE__, __LINE__, "W=%u esn=%d op %d seq %llu top %llu: got %d want %d",
                                (unsigned)w, esn, i, (unsigned long long)s,
                                (unsigned long long)ref.top, got, want);
                    T_EQ_INT(got, want);
                    if (want && (t_rand64() % 8) != 0) { /* 1 in 8: ICV "failed" */
                        imssec_esp_replay_commit(&sa, s);
                        ref_accept(&ref, s);
                        last = s;
                    }
                    T_EQ_UINT(sa.seq, ref.top);
                }
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

/* RFC 4303 Appendix A2 restated: the inferred number is the unique one
 * with the received low half in [T - W + 1, T - W + 1 + 2^32); a number
 * that would be below 1 or above 2^64 - 1 is never valid (0 returned). */
static uint64_t ref_infer(uint64_t top, uint32_t w, uint32_t seql)
{
    /* lower bound of the interval, possibly "negative" */
    int neg = top + 1 < w;
    uint64_t lo = top + 1 - w; /* wraps when neg */
    uint64_t cand;
    if (neg) {
        /* interval [lo - 2^64, lo - 2^64 + 2^32) straddles 0: the candidate
         * is in high half 0 when seql < (lo + 2^32) mod 2^32 ... */
        uint32_t lol = (uint32_t)lo;
        return seql < lol ? (uint64_t)seql : 0; /* seql >= lol: below 0 */
    }
    cand = (lo & ~(uint64_t)0xffffffff) | seql;
    if (cand < lo) {
        if ((lo >> 32) == 0xffffffffu)
            return 0;
        cand += UINT64_C(0x100000000);
    }
    return cand;
}

T_TEST(esp_esn_inference_vs_reference)
{
    static const uint32_t ws[] = {32, 64, 1024, 4096};
    size_t wi;
    int i;
    for (wi = 0; wi < sizeof ws / sizeof ws[0]; wi++) {
        uint32_t w = ws[wi];
        if (w > IMSSEC_REPLAY_WINDOW_MAX)
            continue;
        for (i = 0; i < 3000; i++) {
            imssec_esp_sa sa;
            uint64_t top;
            uint32_t seql, th = (uint32_t)t_rand64(), tl;
            switch (i % 6) { /* tops near the subspace edges */
            case 0: th = 0; break;
            case 1: th = 1; break;
            case 2: th = 0xffffffffu; break;
            default: break;
            }
            tl = (i % 3 == 0) ? (uint32_t)t_rand64() % (2 * w)
                 : (i % 3 == 1) ? 0xffffffffu - (uint32_t)t_rand64() % (2 * w)
                                : (uint32_t)t_rand64();
            top = (uint64_t)th << 32 | tl;
            if (top == 0)
                top = 1;
            switch (t_rand64() % 4) { /* low halves near the window edges */
            case 0: seql = (uint32_t)(top - w + 1) - (uint32_t)(t_rand64() % 3); break;
            case 1: seql = (uint32_t)(top - w + 1) + (uint32_t)(t_rand64() % 3); break;
            case 2: seql = (uint32_t)top + (uint32_t)(t_rand64() % 3); break;
            default: seql = (uint32_t)t_rand64(); break;
            }
            T_EQ_INT(replay_sa(&sa, w, 1, top), IMSSEC_OK);
            T_EQ_UINT(imssec_esp_replay_infer(&sa, seql), ref_infer(top, w, seql));
            imssec_esp_sa_wipe(&sa);
        }
    }
}
