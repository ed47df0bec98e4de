/*
 * main.c -- argument parsing, output formatting and the command list of
 * build/imssec.  See cli.h for the interface contract.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Command tables, one per module (cli/cmd_<module>.c). */
extern const cli_cmd cli_cmds_core[];
extern const cli_cmd cli_cmds_aka[];
extern const cli_cmd cli_cmds_secagree[];
extern const cli_cmd cli_cmds_esp[];
extern const cli_cmd cli_cmds_sa[];
extern const cli_cmd cli_cmds_media[];
static const cli_cmd *const cli_tables[] = {cli_cmds_core, cli_cmds_aka, cli_cmds_secagree,
                                            cli_cmds_esp, cli_cmds_sa, cli_cmds_media};

#define CLI_MAX_ARGS 64

struct cli_ctx {
    const cli_cmd *cmd;
    int nargs;
    const char *names[CLI_MAX_ARGS];
    const char *values[CLI_MAX_ARGS]; /* NULL for a flag */
    int json, nout;
};

void cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static int cli_find(cli_ctx *c, const char *name)
{
    int i;
    for (i = 0; i < c->nargs; i++)
        if (strcmp(c->names[i], name) == 0)
            return i;
    return -1;
}

const char *cli_get(cli_ctx *c, const char *name)
{
    int i = cli_find(c, name);
    return i < 0 ? NULL : c->values[i];
}

const char *cli_need(cli_ctx *c, const char *name)
{
    const char *v = cli_get(c, name);
    if (!v)
        cli_fail("%s: missing --%s (see 'imssec %s --help')", c->cmd->name, name,
                 c->cmd->name);
    return v;
}

int cli_has(cli_ctx *c, const char *name)
{
    return cli_find(c, name) >= 0;
}

int cli_one_of(cli_ctx *c, const char *a, const char *b)
{
    int ha = cli_has(c, a), hb = cli_has(c, b);
    if (ha == hb)
        cli_fail("%s: give exactly one of --%s and --%s", c->cmd->name, a, b);
    return hb;
}

static int cli_nibble(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

size_t cli_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex), i;
    if (n % 2 || n / 2 > cap)
        return (size_t)-1;
    for (i = 0; i < n; i += 2) {
        int hi = cli_nibble((unsigned char)hex[i]), lo = cli_nibble((unsigned char)hex[i + 1]);
        if (hi < 0 || lo < 0)
            return (size_t)-1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

size_t cli_hex(cli_ctx *c, const char *name, uint8_t *out, size_t min, size_t max)
{
    const char *v = cli_need(c, name);
    size_t n = strlen(v), got;
    if (n % 2)
        cli_fail("--%s: odd number of hex digits", name);
    if (n / 2 < min || n / 2 > max) {
        if (min == max)
            cli_fail("--%s: want %zu bytes (%zu hex digits), got %zu", name, min, 2 * min,
                     n / 2);
        cli_fail("--%s: want %zu..%zu bytes, got %zu", name, min, max, n / 2);
    }
    got = cli_unhex(v, out, max);
    if (got == (size_t)-1)
        cli_fail("--%s: not hex", name);
    return got;
}

void cli_hex_exact(cli_ctx *c, const char *name, uint8_t *out, size_t n)
{
    (void)cli_hex(c, name, out, n, n);
}

uint64_t cli_uint(cli_ctx *c, const char *name, uint64_t min, uint64_t max)
{
    const char *v = cli_need(c, name);
    char *end;
    unsigned long long x;
    if (!*v || *v == '-' || *v == '+' || *v == ' ')
        cli_fail("--%s: not an unsigned number: '%s'", name, v);
    errno = 0;
    x = strtoull(v, &end, 0);
    if (errno || *end)
        cli_fail("--%s: not an unsigned number: '%s'", name, v);
    if (x < min || x > max)
        cli_fail("--%s: %llu is outside %llu..%llu", name, x, (unsigned long long)min,
                 (unsigned long long)max);
    return x;
}

/* ---- output ---------------------------------------------------------------- */

static void cli_json_str(const char *s, size_t n)
{
    size_t i;
    putchar('"');
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

void cli_out_strn(cli_ctx *c, const char *name, const char *value, size_t n)
{
    if (c->json) {
        printf("%s", c->nout ? ",\n  " : "{\n  ");
        cli_json_str(name, strlen(name));
        fputs(": ", stdout);
        cli_json_str(value, n);
    } else {
        printf("%s=%.*s\n", name, (int)n, value);
    }
    c->nout++;
}

void cli_out_str(cli_ctx *c, const char *name, const char *value)
{
    cli_out_strn(c, name, value, strlen(value));
}

void cli_out_hex(cli_ctx *c, const char *name, const uint8_t *p, size_t n)
{
    static char buf[2 * 65536 + 1];
    size_t i;
    if (n > 65536)
        cli_fail("internal: output too long");
    for (i = 0; i < n; i++)
        sprintf(buf + 2 * i, "%02x", p[i]);
    cli_out_strn(c, name, buf, 2 * n);
}

void cli_out_uint(cli_ctx *c, const char *name, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cli_out_str(c, name, buf);
}

/* ---- help and dispatch ----------------------------------------------------- */

static const cli_cmd *cli_lookup(const char *name)
{
    size_t t;
    const cli_cmd *k;
    for (t = 0; t < sizeof cli_tables / sizeof cli_tables[0]; t++)
        for (k = cli_tables[t]; k->name; k++)
            if (strcmp(k->name, name) == 0)
                return k;
    return NULL;
}

static void cli_help_all(FILE *f)
{
    size_t t;
    const cli_cmd *k;
    fprintf(f, "usage: imssec <command> [--option value ...] [--json]\n"
               "       imssec <command> --help\n\n"
               "Hex in, lowercase hex out, one name=value per line (or JSON with --json).\n"
               "Exit 0 when the command ran (verdicts included), 2 on bad input.\n\n"
               "commands:\n");
    for (t = 0; t < sizeof cli_tables / sizeof cli_tables[0]; t++)
        for (k = cli_tables[t]; k->name; k++)
            fprintf(f, "  %-20s %s\n", k->name, k->summary);
}

static void cli_help_cmd(const cli_cmd *k)
{
    const cli_opt *o;
    printf("imssec %s: %s\n\n%s\n", k->name, k->summary, k->usage);
    if (k->opts && k->opts->name) {
        printf("\noptions:\n");
        for (o = k->opts; o->name; o++)
            printf("  --%-16s %s\n", o->name, o->help);
    }
    printf("  --%-16s %s\n", "json", "print one JSON object instead of name=value lines");
}

static int cli_run(int argc, char **argv)
{
    cli_ctx c;
    int i;
    memset(&c, 0, sizeof c);
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        if (argc >= 3 && strcmp(argv[1], "help") == 0) {
            const cli_cmd *k = cli_lookup(argv[2]);
            if (!k)
                cli_fail("unknown command '%s' (see 'imssec help')", argv[2]);
            cli_help_cmd(k);
            return 0;
        }
        cli_help_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    c.cmd = cli_lookup(argv[1]);
    if (!c.cmd)
        cli_fail("unknown command '%s' (see 'imssec help')", argv[1]);
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const cli_opt *o;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_help_cmd(c.cmd);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            c.json = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            cli_fail("%s: unexpected argument '%s'", c.cmd->name, a);
        for (o = c.cmd->opts; o && o->name; o++)
            if (strcmp(o->name, a + 2) == 0)
                break;
        if (!o || !o->name)
            cli_fail("%s: unknown option '%s' (see 'imssec %s --help')", c.cmd->name, a,
                     c.cmd->name);
        if (cli_find(&c, o->name) >= 0)
            cli_fail("%s: --%s given twice", c.cmd->name, o->name);
        if (c.nargs == CLI_MAX_ARGS)
            cli_fail("too many arguments");
        c.names[c.nargs] = o->name;
        if (o->flag) {
            c.values[c.nargs] = "";
        } else {
            if (i + 1 >= argc)
                cli_fail("%s: --%s needs a value", c.cmd->name, o->name);
            c.values[c.nargs] = argv[++i];
        }
        c.nargs++;
    }
    i = c.cmd->run(&c);
    if (c.json)
        printf(c.nout ? "\n}\n" : "{}\n");
    return i;
}

int main(int argc, char **argv)
{
    int rc = cli_run(argc, argv);
    if (fflush(stdout) != 0)
        return 2;
    return rc;
}
