/*
 * t.h -- the test harness.  A test is `T_TEST(name) { ... }` in a file of
 * test/<module>/ (public API only), or in test/<module>/wb_<name>.c
 * (white-box: compiled inside the library's translation unit, so it sees
 * the static internals); test/README.md has the layout.  The Makefile
 * collects every `T_TEST(` at the start of a line into the runner's table.
 *
 * A failing assertion prints file:line and what differed, and ends the test.
 * T_SKIP(reason) ends it as skipped: a skipped test is never counted as
 * passed.  The runner's last line is "N passed, N failed, N skipped".
 */
#ifndef IMSSEC_T_H
#define IMSSEC_T_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../imssec.h"

#define T_TEST(name) void t_test_##name(void)

/* A text slice for the library's imssec_str parameters. */
#define T_S(p, n) ((imssec_str){(p), (n)})

/* The slices of n (pointer, length) pairs, in a static array of 32 that
 * the next call overwrites (for parse_multi-style calls). */
const imssec_str *t_strv(const char *const *v, const size_t *len, size_t n);

/* An imssec_addr of len (4 or 16) bytes, in a ring of 8 static ones (valid
 * for the next 7 calls). */
const imssec_addr *t_addr(const void *b, size_t len);

void t_fail_(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void t_skip_(const char *reason);
int t_mem_differs_(const char *file, int line, const char *what, const void *got,
                   const void *want, size_t n);
int t_hex_differs_(const char *file, int line, const char *what, const void *got,
                   size_t n, const char *want_hex);

/* Decode a hex string (whitespace ignored) into out; returns the byte count.
 * Aborts the process on malformed hex or overflow: test data is trusted. */
size_t t_unhex(const char *hex, uint8_t *out, size_t cap);

/* Path of a file under test/vectors/ (uses $IMSSEC_VECTORS if set). */
const char *t_vector_path(const char *name);

/* Deterministic PRNG for randomised tests (xorshift64*; seed from
 * $IMSSEC_TEST_SEED or a fixed default; the seed is printed on failure). */
uint64_t t_rand64(void);
void t_randbytes(uint8_t *out, size_t n);

/* An imssec_io.random-compatible callback backed by t_randbytes. */
int t_io_random(void *user, uint8_t *out, size_t len);

#define T_ASSERT(cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            t_fail_(__FILE__, __LINE__, "assertion failed: %s", #cond);        \
            return;                                                            \
        }                                                                      \
    } while (0)

#define T_EQ_INT(got, want)                                                    \
    do {                                                                       \
        long long t_g_ = (long long)(got), t_w_ = (long long)(want);           \
        if (t_g_ != t_w_) {                                                    \
            t_fail_(__FILE__, __LINE__, "%s is %lld, want %lld (%s)", #got,    \
                    t_g_, t_w_, #want);                                        \
            return;                                                            \
        }                                                                      \
    } while (0)

#define T_EQ_UINT(got, want)                                                   \
    do {                                                                       \
        unsigned long long t_g_ = (unsigned long long)(got),                   \
                           t_w_ = (unsigned long long)(want);                  \
        if (t_g_ != t_w_) {                                                    \
            t_fail_(__FILE__, __LINE__, "%s is %llu (0x%llx), want %llu (0x%llx)", \
                    #got, t_g_, t_g_, t_w_, t_w_);                             \
            return;                                                            \
        }                                                                      \
    } while (0)

#define T_EQ_STR(got, want)                                                    \
    do {                                                                       \
        const char *t_g_ = (got), *t_w_ = (want);                              \
        if (!t_g_ || !t_w_ || strcmp(t_g_, t_w_) != 0) {                       \
            t_fail_(__FILE__, __LINE__, "%s is \"%s\", want \"%s\"", #got,     \
                    t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)");           \
            return;                                                            \
        }                                                                      \
    } while (0)

/* Compare a (pointer, length) text slice with a C string. */
#define T_EQ_SLICE(p, n, want)                                                 \
    do {                                                                       \
        const char *t_w_ = (want);                                             \
        size_t t_n_ = (size_t)(n);                                             \
        if (t_n_ != strlen(t_w_) || (t_n_ && memcmp((p), t_w_, t_n_) != 0)) {  \
            t_fail_(__FILE__, __LINE__, "%s is \"%.*s\", want \"%s\"", #p,     \
                    (int)t_n_, (const char *)(p), t_w_);                       \
            return;                                                            \
        }                                                                      \
    } while (0)

#define T_EQ_MEM(got, want, n)                                                 \
    do {                                                                       \
        if (t_mem_differs_(__FILE__, __LINE__, #got, (got), (want), (n)))      \
            return;                                                            \
    } while (0)

#define T_EQ_HEX(got, n, want_hex)                                             \
    do {                                                                       \
        if (t_hex_differs_(__FILE__, __LINE__, #got, (got), (n), (want_hex)))  \
            return;                                                            \
    } while (0)

#define T_SKIP(reason)                                                         \
    do {                                                                       \
        t_skip_(reason);                                                       \
        return;                                                                \
    } while (0)

#endif /* IMSSEC_T_H */
