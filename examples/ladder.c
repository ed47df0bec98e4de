/*
 * ladder.c -- see ladder.h.
 */
#include "ladder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the ladder ------------------------------------------------------------ */

static const char *role_name = "?";
static int n_failed;

void ladder_role(const char *role)
{
    role_name = role;
    setvbuf(stdout, NULL, _IOLBF, 0);
}

const char *ladder_name(void)
{
    return role_name;
}

static void ladder_v(const char *fmt, va_list ap)
{
    char line[1200];
    size_t n;
    int k = snprintf(line, sizeof line, "%-6s | ", role_name);
    if (k < 0)
        return;
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    n = strlen(line);
    if (n + 1 < sizeof line)
        line[n++] = '\n';
    /* One write(2) per line: the three programs share the terminal. */
    fflush(stdout);
    if (write(STDOUT_FILENO, line, n) < 0)
        return;
}

void ladder(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ladder_v(fmt, ap);
    va_end(ap);
}

int verify(int ok, const char *step, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ok)
        n_failed++;
    ladder("%s %s: %s", ok ? "VERIFIED" : "FAILED", step, msg);
    return ok;
}

int verify_failures(void)
{
    return n_failed;
}

/* ---- hex --------------------------------------------------------------------- */

static int hex_nib(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex), i;
    if (n >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        n -= 2;
    }
    if (n % 2 || n / 2 > cap)
        return (size_t)-1;
    for (i = 0; i < n; i += 2) {
        int hi = hex_nib((unsigned char)hex[i]), lo = hex_nib((unsigned char)hex[i + 1]);
        if (hi < 0 || lo < 0)
            return (size_t)-1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

char *hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

/* ---- text of library values --------------------------------------------------- */

const char *addr_text(const imssec_addr *a, int bracket, char buf[IMSSEC_ADDR_TEXT_MAX + 1])
{
    size_t n = 0;
    if (imssec_addr_format(a, bracket, buf, IMSSEC_ADDR_TEXT_MAX, &n) != IMSSEC_OK)
        n = (size_t)snprintf(buf, IMSSEC_ADDR_TEXT_MAX, "?");
    buf[n] = '\0';
    return buf;
}

const char *pair_text(int alg, int ealg, char *buf, size_t cap)
{
    const char *a = imssec_alg_name(alg), *e = imssec_ealg_name(ealg);
    snprintf(buf, cap, "%s/%s", a ? a : "?", e ? e : "?");
    return buf;
}

/* ---- command line ------------------------------------------------------------ */

static int arg_is_flag(const char *const *known, const char *name)
{
    size_t n = strlen(name);
    for (; *known; known++)
        if (strncmp(*known, name, n) == 0 && (*known)[n] == '!')
            return 1;
    return 0;
}

static void arg_usage(const char *const *usage)
{
    for (; *usage; usage++)
        fputs(*usage, stderr);
}

void arg_check(int argc, char **argv, const char *const *known, const char *const *usage)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *const *k;
        int ok = 0;
        if (strncmp(argv[i], "--", 2) == 0) {
            for (k = known; *k; k++) {
                size_t n = strlen(*k);
                if ((*k)[n - 1] == '!')
                    n--;
                if (strlen(argv[i] + 2) == n && strncmp(argv[i] + 2, *k, n) == 0)
                    ok = 1;
            }
        }
        if (!ok || strcmp(argv[i], "--help") == 0) {
            arg_usage(usage);
            exit(strcmp(argv[i], "--help") == 0 ? 0 : 2);
        }
        if (!arg_is_flag(known, argv[i] + 2)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
                arg_usage(usage);
                exit(2);
            }
            i++;
        }
    }
}

const char *arg_str(int argc, char **argv, const char *name, const char *def)
{
    int i;
    for (i = 1; i + 1 < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return argv[i + 1];
    return def;
}

int arg_flag(int argc, char **argv, const char *name)
{
    int i;
    for (i = 1; i < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return 1;
    return 0;
}

unsigned long long arg_num(int argc, char **argv, const char *name, unsigned long long def)
{
    const char *v = arg_str(argc, argv, name, NULL);
    char *end;
    unsigned long long x;
    if (!v)
        return def;
    errno = 0;
    x = strtoull(v, &end, 0);
    if (errno || !*v || *end || *v == '-') {
        fprintf(stderr, "--%s: not a number: %s\n", name, v);
        exit(2);
    }
    return x;
}

void arg_hex(int argc, char **argv, const char *name, const char *def, uint8_t *out, size_t n)
{
    const char *v = arg_str(argc, argv, name, def);
    if (!v || hex_decode(v, out, n) != n) {
        fprintf(stderr, "--%s: want %u bytes of hex\n", name, (unsigned)n);
        exit(2);
    }
}

void arg_addr(int argc, char **argv, const char *name, const char *def, imssec_addr *out)
{
    const char *v = arg_str(argc, argv, name, def);
    if (!v || imssec_addr_parse(imssec_cstr(v), out) != IMSSEC_OK) {
        fprintf(stderr, "--%s: not an IPv4 or IPv6 address: %s\n", name, v ? v : "(none)");
        exit(2);
    }
}

size_t arg_pairs(int argc, char **argv, const char *name, const char *def,
                 imssec_secagree_pair *pairs, size_t cap)
{
    const char *p = arg_str(argc, argv, name, def);
    size_t n = 0;
    while (p && *p) {
        size_t len = strcspn(p, ","), al = strcspn(p, "/,");
        imssec_str a = {p, al}, e = {p + al + 1, al < len ? len - al - 1 : 0};
        if (n == cap) {
            fprintf(stderr, "--%s: more than %u pairs\n", name, (unsigned)cap);
            exit(2);
        }
        pairs[n].alg = imssec_alg_from_name(a);
        pairs[n].ealg = al < len ? imssec_ealg_from_name(e) : IMSSEC_EALG_NULL;
        if (pairs[n].alg == IMSSEC_ALG_UNKNOWN || pairs[n].alg == IMSSEC_ALG_NULL ||
            pairs[n].ealg == IMSSEC_EALG_UNKNOWN) {
            fprintf(stderr, "--%s: unknown pair '%.*s'\n", name, (int)len, p);
            exit(2);
        }
        n++;
        p += len;
        if (*p == ',')
            p++;
    }
    return n;
}

const char *err_text(const imssec_errinfo *e, int rc)
{
    static char line[256];
    size_t n = 0;
    if (imssec_errinfo_format(e, line, sizeof line - 1, &n) != IMSSEC_OK)
        return imssec_strerror(rc);
    line[n] = '\0';
    return line;
}
