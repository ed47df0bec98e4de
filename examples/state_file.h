/*
 * state_file.h -- a small framed state file for the examples (issue 13,
 * "Restart without loss"): the P-CSCF writes its sa/ table snapshot, its
 * esp/ pool snapshot and its own records into one file after every change
 * and reads them back at start-up.
 *
 * The file: the 8-byte magic, then sections (a 4-byte tag, a 4-byte
 * big-endian length, the bytes), then a CRC-32 (IEEE 802.3, big-endian)
 * of everything before it.  The library's snapshots carry their own
 * SHA-256; the CRC is this framing's check against a truncated or damaged
 * file (not a defence against someone who can write it: the file holds
 * the SA keys and is created mode 0600).
 *
 * Writing is atomic: FILE.tmp is written (mode 0600), fsync'd and renamed
 * over FILE, so a crash leaves the old file or the new one, never a mix.
 * Not part of imssec.
 */
#ifndef EXAMPLES_STATE_FILE_H
#define EXAMPLES_STATE_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SF_MAGIC "imssecS1"
#define SF_MAGIC_LEN 8

/* A byte buffer being written; `bad` is set once it overflows. */
typedef struct sf_out {
    uint8_t *p;
    size_t cap, n;
    int bad;
} sf_out;

/* A byte buffer being read; `bad` is set once a read runs past the end. */
typedef struct sf_in {
    const uint8_t *p;
    size_t n, off;
    int bad;
} sf_in;

void sf_out_init(sf_out *o, uint8_t *buf, size_t cap); /* writes the magic */
void sf_u32(sf_out *o, uint32_t v);
void sf_u64(sf_out *o, uint64_t v);
void sf_bytes(sf_out *o, const void *p, size_t n);
void sf_str(sf_out *o, const char *s);                /* u32 length, the bytes */
/* Start a section; sf_section_end() fills in its length. */
size_t sf_section_begin(sf_out *o, const char tag[4]);
void sf_section_end(sf_out *o, size_t at);
/* Append the CRC and write the file atomically, mode 0600.  0, or -1 with
 * errno (and nothing replaced). */
int sf_finish_write(sf_out *o, const char *path);

/* Read the whole file into buf (at most cap bytes).  1: read, 0: it does
 * not exist, -1: an error (why says which). */
int sf_read_file(const char *path, uint8_t *buf, size_t cap, size_t *len, const char **why);
/* The magic, the section framing (every section inside the file, the CRC
 * right after the last one) and the CRC: 0, or -1 (why: what is wrong). */
int sf_check(const uint8_t *buf, size_t len, const char **why);
/* The first section `tag` of a checked file: 0 and *sec over its bytes, or
 * -1 (no such section). */
int sf_section(const uint8_t *buf, size_t len, const char tag[4], sf_in *sec);
uint32_t sf_get_u32(sf_in *in);
uint64_t sf_get_u64(sf_in *in);
void sf_get_bytes(sf_in *in, void *p, size_t n);
/* A string of at most cap - 1 bytes, NUL-terminated (longer: bad). */
void sf_get_str(sf_in *in, char *out, size_t cap);

#endif
