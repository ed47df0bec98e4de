/*
 * esp_rfc4303_esn.c -- extended sequence numbers (RFC 4303 2.2.1, 3.3.3,
 * Appendix A2): the high-half inference against two independent
 * formulations and the boundary table of esp-vectors.md section 6, real
 * packets across 2^32 (the ICV covers Seqh), and the sender's counter
 * running out.
 */

#include "esp_fixture.h"

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

/* RFC 4303 Appendix A2 as its own case formula: Tl >= W - 1: Seqh = Th if
 * Seql >= Tl - W + 1, else Th + 1; Tl < W - 1: Seqh = Th - 1 if Seql >=
 * Tl - W + 1 (mod 2^32), else Th.  For 0 < Th < 2^32 - 1 (no edge of the
 * number space near). */
static uint64_t a2_formula(uint64_t top, uint32_t w, uint32_t seql)
{
    uint32_t th = (uint32_t)(top >> 32), tl = (uint32_t)top, seqh;
    if (tl >= w - 1)
        seqh = seql >= tl - w + 1 ? th : th + 1;
    else
        seqh = seql >= tl - w + 1 ? th - 1 : th;
    return (uint64_t)seqh << 32 | seql;
}

/* The ESN high-half inference against both references (ref_infer, the
 * interval form, and a2_formula) on two kinds of state: tops near the
 * subspace edges (Th 0, 1, 2^32 - 1 or random; Tl near 0 or 2^32 - 1) with
 * low halves near the window edges, 3000 each for W = 32, 64, 1024, 4096;
 * and 20000 random states (Th 1..5, W = 32 << 0..7 halved down to this
 * build's largest window). */
T_TEST(esp_rfc4303_a2_esn_inference_vs_reference)
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
            uint64_t top, got;
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
            got = imssec_esp_replay_infer(&sa, seql);
            T_EQ_UINT(got, ref_infer(top, w, seql));
            if (th >= 1 && th < 0xffffffffu)
                T_EQ_UINT(got, a2_formula(top, w, seql));
            imssec_esp_sa_wipe(&sa);
        }
    }
    for (i = 0; i < 20000; i++) {
        imssec_esp_sa sa;
        uint32_t w = 32u << (t_rand64() % 8);
        uint64_t x = t_rand64();
        /* halve down to this build's largest window (the draws stay the
         * same, so the full build sees the same states) */
        while (w > IMSSEC_REPLAY_WINDOW_MAX)
            w >>= 1;
        uint32_t th = (uint32_t)(1 + (x % 5)), tl, seql;
        uint64_t t, got;
        switch ((x >> 8) % 3) {
        case 0: tl = (uint32_t)(t_rand64() % (2 * w)); break;
        case 1: tl = 0xffffffffu - (uint32_t)(t_rand64() % (2 * w)); break;
        default: tl = (uint32_t)t_rand64(); break;
        }
        switch ((x >> 16) % 3) {
        case 0: seql = tl - (uint32_t)(t_rand64() % (2 * w)); break;
        case 1: seql = tl + (uint32_t)(t_rand64() % (2 * w)); break;
        default: seql = (uint32_t)t_rand64(); break;
        }
        t = (uint64_t)th << 32 | tl;
        T_EQ_INT(replay_sa(&sa, w, 1, t), IMSSEC_OK);
        got = imssec_esp_replay_infer(&sa, seql);
        if (got != a2_formula(t, w, seql)) {
            t_fail_(__FILE__, __LINE__, "W=%u T=%llx seql=%x: got %llx want %llx", (unsigned)w,
                    (unsigned long long)t, (unsigned)seql, (unsigned long long)got,
                    (unsigned long long)a2_formula(t, w, seql));
            return;
        }
        T_EQ_UINT(got, ref_infer(t, w, seql));
        imssec_esp_sa_wipe(&sa);
    }
}

/* RFC 4303 Appendix A2 boundary rows of esp-vectors.md section 6 (W = 64:
 * checked there against the Linux kernel and RFC 4303 A2), and the rows
 * around them: exactly Tl - W + 1 (in the window), one left of it, Tl =
 * W - 1 (case A) and Tl = W - 2 (case B).  A build whose window cannot
 * reach 64 (cfg_minimal.h: 32) gets the same boundary cases worked out by
 * hand from the A2 rule for W = 32:
 *   Tl >= W-1: Seqh = Th if Seql >= Tl-W+1, else Th+1;
 *   Tl <  W-1: Seqh = Th-1 if Seql >= Tl-W+1 (mod 2^32), else Th.
 * Row 4 (T = 2^32 + 1) is also a replay of the top itself. */
#if IMSSEC_REPLAY_WINDOW_MAX >= 64
#define ESP_INFER_W 64
#else
#define ESP_INFER_W 32
#endif
T_TEST(esp_rfc4303_a2_esn_inference_table)
{
    static const struct {
        uint64_t t;
        uint32_t seql;
        uint64_t want;
    } c[] = {
#if ESP_INFER_W == 64
        {0xfffffff0u, 0xffffffffu, 0xffffffffu},
        {0xffffffffu, 0x00000000u, 0x100000000ull},
        {0x100000000ull, 0xffffffe0u, 0xffffffe0u},
        {0x100000001ull, 0x00000001u, 0x100000001ull},
        {0x100000010ull, 0xffffffc0u, 0x1ffffffc0ull},
        {0x100000010ull, 0xffffffd1u, 0xffffffd1u},     /* exactly Tl-W+1: in window */
        {0x100000010ull, 0xffffffd0u, 0x1ffffffd0ull},  /* one left of it */
        {0x10000003full, 0x00000000u, 0x100000000ull},  /* Tl = W-1: case A */
        {0x10000003full, 0xffffffffu, 0x1ffffffffull},  /* case A: ahead? no: Th+1 */
        {0x10000003eull, 0xffffffffu, 0xffffffffull},   /* case B: Th-1 */
#else /* W = 32 */
        {0xfffffff0u, 0xffffffffu, 0xffffffffu},       /* Tl-W+1 = ffffffd1: Th */
        {0xffffffffu, 0x00000000u, 0x100000000ull},    /* 0 < ffffffe0: Th+1 */
        {0x100000000ull, 0xffffffe1u, 0xffffffe1u},    /* exactly Tl-W+1: Th-1 */
        {0x100000000ull, 0xffffffe0u, 0x1ffffffe0ull}, /* one left of it: Th */
        {0x100000001ull, 0x00000001u, 0x100000001ull}, /* 1 < ffffffe2: Th */
        {0x100000010ull, 0xffffffc0u, 0x1ffffffc0ull}, /* < fffffff1: Th */
        {0x100000010ull, 0xfffffff1u, 0xfffffff1u},    /* exactly Tl-W+1: Th-1 */
        {0x100000010ull, 0xfffffff0u, 0x1fffffff0ull}, /* one left of it: Th */
        {0x10000001full, 0x00000000u, 0x100000000ull}, /* Tl = W-1: case A, >= 0 */
        {0x10000001full, 0xffffffffu, 0x1ffffffffull}, /* case A: Th, not Th-1 */
        {0x10000001eull, 0xffffffffu, 0xffffffffull},  /* case B: Th-1 */
#endif
    };
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        imssec_esp_sa sa;
        uint64_t got;
        T_EQ_INT(in_sa(&sa, IMSSEC_EALG_NULL, 1, c[i].t, ESP_INFER_W), IMSSEC_OK);
        got = imssec_esp_replay_infer(&sa, c[i].seql);
        if (got != c[i].want) {
            t_fail_(__FILE__, __LINE__, "T=%llx seql=%x: got %llx want %llx",
                    (unsigned long long)c[i].t, (unsigned)c[i].seql, (unsigned long long)got,
                    (unsigned long long)c[i].want);
            return;
        }
    }

    /* row 4 again, as a packet number: the top itself is a replay */
    {
        imssec_esp_sa sa;
        T_EQ_INT(in_sa(&sa, IMSSEC_EALG_NULL, 1, UINT64_C(0x100000001), ESP_INFER_W), IMSSEC_OK);
        T_EQ_INT(imssec_esp_replay_check(&sa, UINT64_C(0x100000001)), IMSSEC_E_REPLAY);
        imssec_esp_sa_wipe(&sa);
    }
}

/* ESN across 2^32 with real packets (RFC 4303 2.2.1, A2).  T5 of the kernel
 * harness (esp-vectors.md section 4): the sender starts at oseq 0xfffffffe;
 * 0xffffffff, 2^32 and 2^32 + 1 are delivered; only the low half is on the
 * wire; the ICV covers Seqh, so a receiver inferring the wrong high half
 * rejects the packet as an integrity failure (row 5's note); a non-ESN
 * sender stops before wrapping.  Then eight packets across 2^32 reporting
 * the 64-bit number, and crafted packets whose ICV used the wrong Seqh (an
 * ICV failure that moves nothing) around a window restored below 2^32. */
T_TEST(esp_rfc4303_2_2_1_esn_wrap_end_to_end)
{
    imssec_esp_sa o, in, wrong;
    uint8_t pt[100], pkt[3][200], out[200], iv[16] = {0};
    size_t n = esp_t_udp4(pt, 30), len[3], olen;
    uint64_t seq;
    int i;
    T_EQ_INT(esp_t_sa(&o, IMSSEC_ESP_OUTBOUND, 32, 1, UINT64_C(0xfffffffe)), IMSSEC_OK);
    for (i = 0; i < 3; i++)
        T_EQ_INT(imssec_esp_protect(&o, NULL, iv, pt, n, pkt[i], sizeof pkt[i], &len[i], NULL),
                 IMSSEC_OK);
    T_EQ_UINT(imssec_esp_sa_seq(&o), UINT64_C(0x100000001));
    /* only the low half is on the wire */
    T_EQ_HEX(pkt[1] + 24, 4, "00000000");
    T_EQ_INT(esp_t_sa(&in, IMSSEC_ESP_INBOUND, 32, 1, UINT64_C(0xfffffff0)), IMSSEC_OK);
    for (i = 0; i < 3; i++) {
        T_EQ_INT(imssec_esp_unprotect(&in, pkt[i], len[i], out, sizeof out, &olen, &seq, NULL),
                 IMSSEC_OK);
        T_EQ_UINT(seq, UINT64_C(0xffffffff) + (uint64_t)i);
        T_EQ_MEM(out, pt, n);
    }
    T_EQ_INT(esp_t_sa(&wrong, IMSSEC_ESP_INBOUND, 32, 1, UINT64_C(0x200000100)), IMSSEC_OK);
    T_EQ_INT(imssec_esp_unprotect(&wrong, pkt[1], len[1], out, sizeof out, &olen, &seq, NULL),
             IMSSEC_E_ICV);
    /* exhaustion: non-ESN stops before wrapping */
    imssec_esp_sa_wipe(&o);
    T_EQ_INT(esp_t_sa(&o, IMSSEC_ESP_OUTBOUND, 32, 0, UINT64_C(0xfffffffe)), IMSSEC_OK);
    T_EQ_INT(imssec_esp_protect(&o, NULL, iv, pt, n, out, sizeof out, &olen, NULL), IMSSEC_OK);
    T_EQ_HEX(out + 24, 4, "ffffffff");
    T_EQ_INT(imssec_esp_protect(&o, NULL, iv, pt, n, out, sizeof out, &olen, NULL),
             IMSSEC_E_SEQ_EXHAUSTED);
    T_EQ_UINT(imssec_esp_sa_stats(&o)->seq_exhausted, 1);
    T_EQ_UINT(imssec_esp_sa_seq(&o), UINT64_C(0xffffffff));
    imssec_esp_sa_wipe(&o);
    T_EQ_INT(esp_t_sa(&o, IMSSEC_ESP_OUTBOUND, 32, 1, UINT64_MAX), IMSSEC_OK);
    T_EQ_INT(imssec_esp_protect(&o, NULL, iv, pt, n, out, sizeof out, &olen, NULL),
             IMSSEC_E_SEQ_EXHAUSTED);
    imssec_esp_sa_wipe(&o);
    imssec_esp_sa_wipe(&in);
    imssec_esp_sa_wipe(&wrong);

    /* from 0xfffffffc, AES-CBC, W = 64 (32 in a smaller build) */
    {
        esp_pair a;
        uint8_t pkt[200], prot[400], out[400];
        size_t n, pn, len, i;
        uint64_t sq;
        T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
                         IMSSEC_EALG_AES_CBC, 4, 1, 0xfffffffcull, ESP_W(64)), IMSSEC_OK);
        n = mk_v4(pkt, 33, 0);
        for (i = 0; i < 8; i++) {
            T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL),
                     IMSSEC_OK);
            T_EQ_INT(imssec_esp_unprotect(&a.in, prot, pn, out, sizeof out, &len, &sq, NULL), IMSSEC_OK);
            T_EQ_UINT(sq, 0xfffffffdull + i);
            T_EQ_MEM(out, pkt, n);
        }
        T_EQ_UINT(imssec_esp_sa_seq(&a.in), 0x100000004ull);
        /* crafted: low half 2 with Seqh 0 (a forged old-subspace ICV) */
        {
            imssec_esp_sa sa;
            uint8_t pt[64];
            size_t m;
            /* every number below is within 32 of the top: W = 32 is enough */
            T_EQ_INT(in_sa(&sa, IMSSEC_EALG_NULL, 1, 0xfffffff0ull, ESP_W(64)), IMSSEC_OK);
            m = mk_trailer(pt, 10, 0, NULL, 0, 17);
            T_EQ_INT(send_crafted(&sa, 0x100000004ull, 1, pt, m, NULL), IMSSEC_OK);
            /* low half 5 with an ICV over Seqh 0: inferred 2^32+5, ICV fails */
            T_EQ_INT(send_crafted(&sa, 0x000000005ull, 1, pt, m, NULL), IMSSEC_E_ICV);
            T_EQ_UINT(imssec_esp_sa_seq(&sa), 0x100000004ull);
            T_EQ_INT(send_crafted(&sa, 0x0fffffff5ull, 1, pt, m, NULL), IMSSEC_OK); /* in window */
            T_EQ_INT(send_crafted(&sa, 0x0fffffff5ull, 1, pt, m, NULL), IMSSEC_E_REPLAY);
            T_EQ_INT(send_crafted(&sa, 0x0fffffff0ull, 1, pt, m, NULL), IMSSEC_E_REPLAY); /* restored */
            T_EQ_INT(send_crafted(&sa, 0x100000005ull, 1, pt, m, NULL), IMSSEC_OK);
            T_EQ_UINT(imssec_esp_sa_stats(&sa)->packets, 3);
        }
    }
}

/* Outbound: the 32-bit counter stops at 2^32-1 (RFC 4303 3.3.3); nothing
 * written, seq unchanged. With ESN it continues past 2^32. */
T_TEST(esp_rfc4303_3_3_3_seq_exhausted)
{
    esp_pair a;
    uint8_t pkt[200], prot[400], canary[400];
    size_t n, pn;
    imssec_esp_params p;
    imssec_esp_sa sa;
    T_EQ_INT(mk_pair(&a, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL, 4,
                     0, 0xfffffffeull, 0), IMSSEC_OK);
    n = mk_v4(pkt, 10, 0);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    T_EQ_UINT(imssec_esp_sa_seq(&a.out), 0xffffffffull);
    T_EQ_HEX(prot + 24, 4, "ffffffff");
    memset(prot, 0xA5, sizeof prot);
    memcpy(canary, prot, sizeof prot);
    T_EQ_INT(imssec_esp_protect(&a.out, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL),
             IMSSEC_E_SEQ_EXHAUSTED);
    T_EQ_MEM(prot, canary, sizeof prot);
    T_EQ_UINT(imssec_esp_sa_seq(&a.out), 0xffffffffull);
    T_EQ_UINT(imssec_esp_sa_stats(&a.out)->packets, 1);
    /* seq > 2^32-1 without ESN is refused at setup, and *sa is zeroed */
    mk_params(&p, IMSSEC_ESP_OUTBOUND, IMSSEC_MODE_TRANS, IMSSEC_ALG_HMAC_SHA1_96,
              IMSSEC_EALG_NULL, 4, 1);
    p.seq = 0x100000000ull;
    memset(&sa, 0xA5, sizeof sa);
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_E_PARAM);
    {
        static const imssec_esp_sa zero;
        T_EQ_MEM(&sa, &zero, sizeof sa);
    }
    p.esn = 1;
    p.seq = UINT64_MAX - 1;
    T_EQ_INT(imssec_esp_sa_setup(&sa, &p, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_esp_protect(&sa, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_esp_protect(&sa, &esp_io, NULL, pkt, n, prot, sizeof prot, &pn, NULL),
             IMSSEC_E_SEQ_EXHAUSTED);
}
