/*
 * cli.h -- the frame of build/imssec, the command-line tool over the library.
 *
 * Interface (stable; scripts depend on it):
 *   imssec <command> --name value ... [--json]
 *   hex in (either case), lowercase hex out; one `name=value` per line on
 *   stdout, or one JSON object with --json.  `imssec help` lists commands,
 *   `imssec <command> --help` documents one.
 *   Exit 0 when the command ran (a verdict such as result=mac_failure is
 *   still 0); exit 2 with one line `error: ...` on stderr for bad arguments
 *   or malformed input.
 *
 * A module adds commands by defining a table `const cli_cmd cli_cmds_<module>[]`
 * (ended by an entry with name NULL) in cli/cmd_<module>.c; cli/main.c lists
 * the tables.
 */
#ifndef IMSSEC_CLI_H
#define IMSSEC_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../imssec.h"

typedef struct cli_opt {
    const char *name; /* without the leading "--" */
    int flag;         /* 1: takes no value */
    const char *help; /* one line: what the value is */
} cli_opt;

typedef struct cli_ctx cli_ctx;

typedef struct cli_cmd {
    const char *name;
    const char *summary; /* one line for `imssec help` */
    const char *usage;   /* synopsis and output description for --help */
    const cli_opt *opts; /* ended by {NULL} */
    int (*run)(cli_ctx *c);
} cli_cmd;

/* ---- reading arguments (a bad value exits 2 with "error: --name: ...") ---- */
const char *cli_get(cli_ctx *c, const char *name);      /* NULL if absent */
const char *cli_need(cli_ctx *c, const char *name);     /* exits 2 if absent */
int cli_has(cli_ctx *c, const char *name);              /* flag or value given */
/* Hex value of --name into out; its length must be in [min, max]. */
size_t cli_hex(cli_ctx *c, const char *name, uint8_t *out, size_t min, size_t max);
/* Hex value of exactly n bytes. */
void cli_hex_exact(cli_ctx *c, const char *name, uint8_t *out, size_t n);
/* Unsigned decimal (or 0x-prefixed hex) in [min, max]. */
uint64_t cli_uint(cli_ctx *c, const char *name, uint64_t min, uint64_t max);
/* Exactly one of the two options must be given; returns 0 for a, 1 for b. */
int cli_one_of(cli_ctx *c, const char *a, const char *b);

/* Print "error: <msg>" (printf-style) to stderr and exit 2. */
void cli_fail(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

/* ---- writing results ---------------------------------------------------- */
void cli_out_str(cli_ctx *c, const char *name, const char *value);
void cli_out_strn(cli_ctx *c, const char *name, const char *value, size_t n);
void cli_out_hex(cli_ctx *c, const char *name, const uint8_t *p, size_t n);
void cli_out_uint(cli_ctx *c, const char *name, uint64_t v);

/* Parse a hex string (whitespace not allowed) into out; returns the byte
 * count or (size_t)-1 on bad hex or overflow.  For commands that take hex
 * inside other values. */
size_t cli_unhex(const char *hex, uint8_t *out, size_t cap);

#endif
