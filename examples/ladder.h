/*
 * ladder.h -- what the example programs print and how they are started:
 * the ladder (one line per message or decision, prefixed with the role),
 * the "VERIFIED <step>: ..." / "FAILED <step>: ..." outcome lines that
 * examples/demo.sh and test/peer/demo.sh check, the `--name value`
 * command line, and hex.  Not part of imssec.
 */
#ifndef EXAMPLES_LADDER_H
#define EXAMPLES_LADDER_H

#include "../imssec.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define EX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define EX_PRINTF(f, a)
#endif

/* The ladder: every line is "<role> | text", written with one write(2) so
 * that the three programs' lines interleave cleanly on one terminal. */
void ladder_role(const char *role);
const char *ladder_name(void);
void ladder(const char *fmt, ...) EX_PRINTF(1, 2);

/* Outcome lines: "VERIFIED <step>: ..." when ok, else "FAILED <step>: ..."
 * (counted).  Returns ok. */
int verify(int ok, const char *step, const char *fmt, ...) EX_PRINTF(3, 4);
int verify_failures(void);

/* Command lines are `--name value` pairs and `--flag`s.  arg_check exits
 * with the usage text when an argument is not in `known` (a NULL-terminated
 * list of names; a trailing '!' marks a flag).  The usage text is a
 * NULL-terminated list of strings printed one after the other (C99 only
 * promises string literals of 4095 bytes). */
void arg_check(int argc, char **argv, const char *const *known, const char *const *usage);
const char *arg_str(int argc, char **argv, const char *name, const char *def);
unsigned long long arg_num(int argc, char **argv, const char *name, unsigned long long def);
int arg_flag(int argc, char **argv, const char *name);
/* Exactly n bytes of hex from --name (exits with a message if bad). */
void arg_hex(int argc, char **argv, const char *name, const char *def, uint8_t *out, size_t n);
/* An IPv4 / IPv6 address from --name, parsed by imssec_addr_parse() (exits
 * with a message if it is not one). */
void arg_addr(int argc, char **argv, const char *name, const char *def, imssec_addr *out);
/* "hmac-sha-1-96/aes-cbc,hmac-md5-96/null" from --name into pairs[]
 * (imssec_alg_from_name / imssec_ealg_from_name); exits if bad. */
size_t arg_pairs(int argc, char **argv, const char *name, const char *def,
                 imssec_secagree_pair *pairs, size_t cap);

/* Text of an address for the ladder and for SIP (bracket 1: "[::1]", the
 * RFC 3261 IPv6reference form).  buf is NUL-terminated. */
/* An errinfo as one line (imssec_errinfo_format; the error name when that
 * fails); a static buffer, valid until the next call. */
const char *err_text(const imssec_errinfo *e, int rc);
const char *addr_text(const imssec_addr *a, int bracket, char buf[IMSSEC_ADDR_TEXT_MAX + 1]);
/* "hmac-sha-1-96/aes-cbc" */
const char *pair_text(int alg, int ealg, char *buf, size_t cap);

size_t hex_decode(const char *hex, uint8_t *out, size_t cap); /* (size_t)-1 on error */
char *hex_encode(const uint8_t *p, size_t n, char *out);      /* out: 2n+1 */

#endif
