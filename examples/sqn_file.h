/*
 * sqn_file.h -- the software ISIM's sequence-number state (TS 33.102
 * Annex C: SEQ_MS per IND slot) kept in a file across runs, as a real
 * USIM keeps it in its own memory.  Without it every run of build/ue starts
 * at SQN_MS 0 and a real HSS, whose SQN only grows, answers the first
 * challenge with a resynchronisation (6.1.3) or, once the UE has accepted
 * a higher SQN than the HSS believes, the UE sends AUTS every time.
 *
 * The file is text, one line per field, written atomically (FILE.tmp,
 * fsync, rename) by the library's persistence callback
 * (imssec_aka_sqn_set_persist), so it is never older than what the UE
 * accepted:
 *     imssec-sqn 1
 *     ind-bits 5
 *     highest 0000000003e8
 *     seq-ms 3 00000000001f        (one line per IND slot whose SEQ_MS is not 0)
 * Not part of imssec.
 */
#ifndef EXAMPLES_SQN_FILE_H
#define EXAMPLES_SQN_FILE_H

#include "../imssec.h"

/* Load `path` into st (configured with ind_bits already).  1: loaded; 0:
 * the file does not exist (st unchanged); -1: unreadable, malformed or of
 * another IND length (a message on stderr; st unchanged). */
int sqn_file_load(const char *path, unsigned ind_bits, imssec_aka_sqn *st);

/* Make st save itself to `path` after every accepted challenge.  `path`
 * and `ind_bits` must outlive st's use (the struct below is the user). */
typedef struct sqn_file {
    const char *path;
    unsigned ind_bits;
    unsigned saves; /* how many times it was written */
} sqn_file;
void sqn_file_attach(sqn_file *f, imssec_aka_sqn *st);

/* Write st to f->path now (atomically).  0 or -1 (errno set). */
int sqn_file_save(sqn_file *f, const imssec_aka_sqn *st);

#endif
