/*
 * tcp_lite.h -- an example-grade TCP endpoint (RFC 9293) for SIP over TCP
 * inside the ESP SAs.
 *
 * Why it exists: with the library's software ESP engine a protected SIP
 * message over TCP is an inner TCP segment.  imssec_sa_esp_protect(...,
 * IMSSEC_TRANSPORT_TCP, segment) takes a segment the caller built -- the
 * header with its data offset -- and fills in only what the SA decides:
 * the ports (the SA's protected ports, TS 33.203 7.1 selectors) and the
 * checksum over the inner IP header the library writes.  The kernel's TCP
 * cannot be used for that, so this file is the TCP.
 *
 * What it does: active and passive open (SYN, SYN-ACK, ACK, with an MSS
 * option), in-order data with an immediate ACK for every data segment,
 * the peer's receive window, a retransmission timer (go-back-N from the
 * oldest unacknowledged byte, RTO doubling, abort after a few tries),
 * FIN in both directions (a FIN received on an open connection is answered
 * by closing it too), RST received (the connection is gone), a short
 * TIME-WAIT.  What it does not: out-of-order reassembly (such segments are
 * dropped and the peer retransmits), congestion control, SACK, window
 * scaling, timestamps, urgent data, keep-alives.  It is correct on
 * loopback and between two of these examples; it is not a TCP for the
 * open Internet.
 *
 * It does no I/O: segments go out through the `output` callback (the
 * caller protects them on the connection's SA) and come in through
 * tl_input() (the caller unprotected them).  Time is passed in.
 */
#ifndef EXAMPLES_TCP_LITE_H
#define EXAMPLES_TCP_LITE_H

#include "../imssec.h"

#include <stddef.h>
#include <stdint.h>

#define TL_MAX_CONN 8
#define TL_BUF 16384   /* send and receive buffer of one connection */
#define TL_MSS 1300    /* what we send per segment at most, and announce (fits ESP in a 1500 MTU) */
#define TL_HDR 20      /* header without options */

/* TCP header flags (RFC 9293 3.1) */
#define TL_FIN 0x01
#define TL_SYN 0x02
#define TL_RST 0x04
#define TL_PSH 0x08
#define TL_ACK 0x10

enum tl_state {
    TL_FREE = 0, TL_SYN_SENT, TL_SYN_RCVD, TL_ESTABLISHED, TL_FIN_WAIT_1, TL_FIN_WAIT_2,
    TL_CLOSING, TL_TIME_WAIT, TL_CLOSE_WAIT, TL_LAST_ACK
};

typedef struct tl_conn {
    int state;
    imssec_addr raddr;          /* the peer (inner address) */
    uint16_t lport, rport;      /* the protected ports of the connection */
    uint32_t iss, snd_una, snd_nxt, snd_wnd, data_seq; /* data_seq: sequence number of snd[0] */
    uint32_t rcv_nxt;
    uint16_t peer_mss;
    int fin_queued;             /* the application closed: FIN after the queued data */
    uint64_t rto_at;            /* retransmission deadline, 0 = none */
    unsigned rto_ms, tries;
    uint64_t tw_until;          /* TIME-WAIT end */
    uint8_t snd[TL_BUF];        /* unacknowledged and unsent data, from data_seq */
    size_t snd_len;
    uint8_t rcv[TL_BUF];        /* in-order data the application has not taken */
    size_t rcv_len;
    /* the owner's: the SA this connection's segments are protected with and
     * the one they arrive on (TS 33.203 7.1: one pair of SAs per connection) */
    imssec_sa_ref out_sa, in_sa;
} tl_conn;

typedef struct tl_stack {
    tl_conn conn[TL_MAX_CONN];
    void *user;
    /* Send one segment (header + data) on c; non-zero = it cannot be sent
     * any more (e.g. its SA is gone): the connection is dropped. */
    int (*output)(void *user, tl_conn *c, const uint8_t *seg, size_t n);
    /* A SYN arrived for c (its addresses and ports set, in_sa set):
     * return 0 to accept it (and set c->out_sa), non-zero to ignore it. */
    int (*accept)(void *user, tl_conn *c);
    /* Optional: one line for the ladder ("established", "closed", ...). */
    void (*note)(void *user, const tl_conn *c, const char *what);
    const imssec_io *io;        /* random: initial sequence numbers */
} tl_stack;

void tl_init(tl_stack *s, void *user, const imssec_io *io);

/* The connection with that peer and those ports, or NULL. */
tl_conn *tl_find(tl_stack *s, const imssec_addr *raddr, uint16_t rport, uint16_t lport);
/* Active open (sends the SYN).  NULL when no slot is free. */
tl_conn *tl_connect(tl_stack *s, const imssec_addr *raddr, uint16_t rport, uint16_t lport,
                    imssec_sa_ref out_sa, uint64_t now);
/* Queue data (sent as soon as the connection and the peer's window allow).
 * -1 when it does not fit or the connection is closing. */
int tl_send(tl_stack *s, tl_conn *c, const void *data, size_t n, uint64_t now);
/* Close: FIN after the queued data. */
void tl_close(tl_stack *s, tl_conn *c, uint64_t now);
/* Forget a connection at once (its SA was deleted: nothing can be sent). */
void tl_drop(tl_stack *s, tl_conn *c, const char *why);

/* One received segment of flow f (inner addresses and ports), seg[0..n)
 * the whole segment.  in_sa: the SA it arrived on. */
void tl_input(tl_stack *s, const imssec_flow *f, const uint8_t *seg, size_t n,
              imssec_sa_ref in_sa, uint64_t now);

/* Retransmissions and TIME-WAIT; tl_next() is the earliest deadline
 * (UINT64_MAX: none). */
void tl_tick(tl_stack *s, uint64_t now);
uint64_t tl_next(const tl_stack *s);

/* The application takes n bytes from the front of c->rcv (the window
 * reopens; an ACK announces it when it had been closed). */
void tl_consume(tl_stack *s, tl_conn *c, size_t n, uint64_t now);

/* A TCP header (no options, checksum 0: imssec_esp_ip_build() fills it)
 * into hdr[0..20).  Also used by pcap.c to record unprotected kernel TCP. */
void tl_put_header(uint8_t hdr[TL_HDR], uint16_t sport, uint16_t dport, uint32_t seq,
                   uint32_t ack, unsigned flags, uint16_t window);

const char *tl_state_name(int state);

#endif
