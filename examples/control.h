/*
 * control.h -- commands for a long-running example program, one per line,
 * from standard input, a file or a FIFO (--control).  The descriptor is
 * polled with the SIP sockets (sio_add_hook), so reading a command never
 * stops the program from answering the network, sending keepalives or
 * running sa/'s timers.  Not part of imssec.
 */
#ifndef EXAMPLES_CONTROL_H
#define EXAMPLES_CONTROL_H

#include <stddef.h>

#define CTL_LINE 512 /* a longer line is refused as a whole */
#define CTL_QUEUE 16 /* whole lines read and not yet taken */

typedef struct ctl {
    int fd;
    int eof;         /* the writer is gone: no more commands */
    int overflow;    /* discarding the rest of an over-long line */
    char part[CTL_LINE];
    size_t part_len;
    char q[CTL_QUEUE][CTL_LINE];
    unsigned head, n;
} ctl;

/* "-": standard input.  A FIFO is opened read-write so that it never
 * reaches end-of-file: any number of `echo CMD > FIFO` may follow each
 * other.  0, or -1 with a message on stderr. */
int ctl_open(ctl *c, const char *path);
/* Read what the descriptor has (call when poll says it is readable). */
void ctl_readable(ctl *c);
/* The next whole line (without its newline; blank lines and lines whose
 * first non-blank is '#' are skipped) into out, or 0 when none is queued. */
int ctl_next(ctl *c, char out[CTL_LINE]);

#endif
