/*
 * t_main.c -- runs the tests listed in the generated tests.inc.
 *
 *   test_unit [-q] [-l] [substring ...]
 *     -q  print only failures, skips and the summary
 *     -l  list test names and exit
 *     substrings select the tests whose names contain any of them
 *
 * Exit status: 0 when nothing failed, 1 otherwise.  Last line:
 * "N passed, N failed, N skipped".
 */
#include "t.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#define T_DECL(name) void t_test_##name(void);
#include "tests.inc"
#undef T_DECL

static const struct {
    const char *name;
    void (*fn)(void);
} t_all[] = {
#define T_DECL(name) {#name, t_test_##name},
#include "tests.inc"
#undef T_DECL
};

const imssec_str *t_strv(const char *const *v, const size_t *len, size_t n)
{
    static imssec_str s[32];
    size_t i;
    if (n > 32)
        abort();
    for (i = 0; i < n; i++) {
        s[i].p = v[i];
        s[i].n = len[i];
    }
    return s;
}

const imssec_addr *t_addr(const void *b, size_t len)
{
    static imssec_addr ring[8];
    static unsigned k;
    imssec_addr *a = &ring[k++ % 8];
    if (len > 16)
        abort();
    memset(a, 0, sizeof *a);
    a->len = (uint8_t)len;
    memcpy(a->b, b, len);
    return a;
}

static int t_state; /* 0 running/passed, 1 failed, 2 skipped */
static const char *t_current;
static uint64_t t_seed = UINT64_C(0x9e3779b97f4a7c15), t_prng;

void t_fail_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    t_state = 1;
    fprintf(stdout, "  %s:%d: [%s] ", file, line, t_current);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

static const char *t_skip_reason;
void t_skip_(const char *reason)
{
    if (t_state == 0)
        t_state = 2;
    t_skip_reason = reason;
}

static void t_hexdump(const char *label, const uint8_t *p, size_t n)
{
    size_t i;
    fprintf(stdout, "    %s (%zu):", label, n);
    for (i = 0; i < n; i++)
        fprintf(stdout, "%s%02x", (i % 32 == 0) ? "\n      " : "", p[i]);
    fputc('\n', stdout);
}

int t_mem_differs_(const char *file, int line, const char *what, const void *got,
                   const void *want, size_t n)
{
    if (n == 0 || memcmp(got, want, n) == 0)
        return 0;
    t_fail_(file, line, "%s differs", what);
    t_hexdump("got ", (const uint8_t *)got, n);
    t_hexdump("want", (const uint8_t *)want, n);
    return 1;
}

int t_hex_differs_(const char *file, int line, const char *what, const void *got,
                   size_t n, const char *want_hex)
{
    static uint8_t want[65536];
    size_t wn = t_unhex(want_hex, want, sizeof want);
    if (wn != n) {
        t_fail_(file, line, "%s has %zu bytes, want %zu", what, n, wn);
        t_hexdump("got ", (const uint8_t *)got, n);
        t_hexdump("want", want, wn);
        return 1;
    }
    return t_mem_differs_(file, line, what, got, want, n);
}

static int t_nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t t_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        int v;
        if (*hex == ' ' || *hex == '\n' || *hex == '\t')
            continue;
        v = t_nibble((unsigned char)*hex);
        if (v < 0 || (hi < 0 && n >= cap)) {
            fprintf(stderr, "t_unhex: bad test hex near \"%.16s\"\n", hex);
            abort();
        }
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "t_unhex: odd number of hex digits\n");
        abort();
    }
    return n;
}

const char *t_vector_path(const char *name)
{
    static char buf[1024];
    const char *dir = getenv("IMSSEC_VECTORS");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "test/vectors", name);
    return buf;
}

uint64_t t_rand64(void)
{
    t_prng ^= t_prng >> 12;
    t_prng ^= t_prng << 25;
    t_prng ^= t_prng >> 27;
    return t_prng * UINT64_C(2685821657736338717);
}

void t_randbytes(uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (uint8_t)(t_rand64() >> 56);
}

int t_io_random(void *user, uint8_t *out, size_t len)
{
    (void)user;
    t_randbytes(out, len);
    return 0;
}

static double t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int quiet = 0, list = 0, i, nsel = 0;
    double t0, dt;
    unsigned passed = 0, failed = 0, skipped = 0;
    size_t k;
    const char *seed = getenv("IMSSEC_TEST_SEED");
    const char *sel[64];

    if (seed)
        t_seed = strtoull(seed, NULL, 0);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "-l") == 0)
            list = 1;
        else if (nsel < 64)
            sel[nsel++] = argv[i];
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (k = 0; k < sizeof t_all / sizeof t_all[0]; k++) {
        int j, want = nsel == 0;
        for (j = 0; j < nsel; j++)
            if (strstr(t_all[k].name, sel[j]))
                want = 1;
        if (!want)
            continue;
        if (list) {
            printf("%s\n", t_all[k].name);
            continue;
        }
        t_current = t_all[k].name;
        t_state = 0;
        t_skip_reason = NULL;
        t_prng = t_seed ^ (UINT64_C(0x100000001b3) * (k + 1));
        t0 = t_now();
        t_all[k].fn();
        dt = t_now() - t0;
        if (t_state == 0) {
            passed++;
            if (!quiet)
                printf("ok   %s\n", t_current);
        } else if (t_state == 1) {
            failed++;
            printf("FAIL %s (seed 0x%llx)\n", t_current, (unsigned long long)t_seed);
        } else {
            skipped++;
            printf("skip %s: %s\n", t_current, t_skip_reason ? t_skip_reason : "");
        }
        /* the suite runs in a dozen build cells, under valgrind and qemu:
         * name the slow tests so they can be moved to the long tests */
        if (dt > 1.0)
            printf("slow %s: %.2f s\n", t_current, dt);
    }
    if (list)
        return 0;
    printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
