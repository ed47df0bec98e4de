/*
 * sip_io.h -- SIP messages in and out of the UE and the P-CSCF.
 *
 *   unprotected   UDP datagrams and kernel TCP streams on ordinary sockets:
 *                 the REGISTER exchange before the SAs exist, the messages
 *                 TS 33.203 7.1 items 3 and 4 allow without protection, and
 *                 the P-CSCF's link to the S-CSCF (UDP, or a TLS stream of
 *                 tls_link.h through sio_stream_ops);
 *   protected     over the SAs through ipsec.h: over UDP one SIP message
 *                 per ESP packet; over TCP a byte stream of the user-space
 *                 TCP (tcp_lite.h), one connection per pair of SAs.
 *
 * The SA a message goes on is always the one sa/ named (imssec_sa_route(),
 * a protect_with).  Over TCP this layer finds the connection whose ports
 * are that SA's selectors, or opens it when the message is a request on a
 * client port (7.1 TCP case: "set up a TCP connection from its port_pc to
 * the port port_us of the UE" / "to the port port_ps of the P-CSCF"); a
 * response goes on the connection its request came on, never a new one.
 * The pure TCP segments of a connection (SYN, ACK, FIN) travel on the SA
 * whose selectors are the connection's ports, as an IPsec policy lookup
 * would place them.
 */
#ifndef EXAMPLES_SIP_IO_H
#define EXAMPLES_SIP_IO_H

#include "../imssec.h"
#include "ipsec.h"
#include "sip.h"
#include "tcp_lite.h"

enum sio_kind { SIO_UNPROT = 0, SIO_PROT = 1, SIO_CORE = 2 };

/* Where a received message came from. */
typedef struct sio_from {
    int kind;                /* enum sio_kind */
    int transport;           /* IMSSEC_TRANSPORT_UDP / _TCP */
    imssec_addr src;         /* unprotected: the socket peer; protected: the inner source */
    unsigned sport;
    int chan;                /* unprotected / core: the channel (reply on it) */
    imssec_sa_ref sa;        /* protected: the SA it arrived on (give it to sa/ as arrived_on) */
    uint32_t user;           /* protected: that SA's user (7.1 rule 4) */
    imssec_flow flow;        /* protected: the inner flow; its ports are the SA's */
    tl_conn *conn;           /* protected TCP: the connection */
} sio_from;

#define SIO_CHANS 10
enum sio_chan_kind { SIO_CH_FREE = 0, SIO_CH_UDP, SIO_CH_TCP, SIO_CH_LISTEN, SIO_CH_HOOK };

/* A descriptor that is not SIP (a call's media, media.h; a control pipe): sio_recv() polls it
 * with the others and calls this when it is readable. */
typedef void (*sio_hook_fn)(void *user, int fd);

/* A stream of the S-CSCF link that is not a plain socket (TLS,
 * tls_link.h): the channel keeps it while it is down and opens it again
 * when a message is sent.  open: the connected fd or -1 (it said why);
 * read: >0 bytes, 0 nothing yet, -1 gone; pending: bytes it holds that
 * read() gives without the fd being readable (TLS records already
 * decrypted); write: 0 or -1; close: why. */
typedef struct sio_stream_ops {
    int (*open)(void *user);
    long (*read)(void *user, char *buf, size_t cap);
    size_t (*pending)(void *user);
    int (*write)(void *user, const char *p, size_t n);
    void (*close)(void *user, const char *why);
    const char *name; /* for the ladder: "TLS" */
} sio_stream_ops;

typedef struct sio_chan {
    int kind;                /* enum sio_chan_kind */
    const sio_stream_ops *ops; /* SIO_CH_TCP: not a plain socket (fd -1 while down) */
    void *ops_user;
    int fd, core;
    imssec_addr local, peer; /* TCP: the two ends */
    unsigned local_port, peer_port;
    uint32_t tx, rx;         /* TCP: bytes sent / received (the capture's relative seq / ack) */
    sio_hook_fn hook;        /* SIO_CH_HOOK */
    void *hook_user;
    char buf[2 * SIP_MAX_MSG];
    size_t len;              /* TCP: received, not yet a whole message */
} sio_chan;

typedef struct sio {
    int role;                /* IMSSEC_SA_ROLE_UE / _PCSCF: which way the ladder's arrows point */
    imssec_sa_table *t;
    ex_dp *dp;
    tl_stack tcp;
    sio_chan chan[SIO_CHANS];
    /* An ESP packet the library refused (replay, ICV, no SA, ...): told
     * here; NULL prints a ladder line. */
    void (*dropped)(void *user, int verdict, const imssec_errinfo *e);
    void *user;
    /* one message put back by sio_unread() */
    char back[SIP_MAX_MSG];
    size_t back_len;
    sio_from back_from;
    /* set by a hook: sio_recv() returns 0 (as on a timeout) once the hook
     * has run, so that an idle caller acts on what the hook read at once */
    int wake;
} sio;

/* t and dp may be NULL (no SAs: the S-CSCF link only). */
void sio_init(sio *s, int role, imssec_sa_table *t, ex_dp *dp, const imssec_io *io);
/* Add a UDP socket, a listening TCP socket or a connected TCP stream;
 * core: the S-CSCF link.  Returns the channel. */
int sio_add_udp(sio *s, int fd, int core);
int sio_add_listener(sio *s, int fd);
int sio_add_stream(sio *s, int fd, const imssec_addr *peer, unsigned peer_port);
/* The S-CSCF link as a stream of ops (core; opened on the first send). */
int sio_add_core_stream(sio *s, const sio_stream_ops *ops, void *user);
/* Poll fd in sio_recv() too and call fn(user, fd) when it is readable (the
 * socket stays the caller's); sio_remove_hook() stops that.  Returns the
 * channel or -1. */
int sio_add_hook(sio *s, int fd, sio_hook_fn fn, void *user);
void sio_remove_hook(sio *s, int chan);

/* The next SIP message, copied into buf[0..*len) (NUL-terminated), within
 * timeout_ms.  Runs the TCP timers and imssec_sa_tick() meanwhile.
 * Returns 1, or 0 on timeout. */
int sio_recv(sio *s, int timeout_ms, char *buf, size_t cap, size_t *len, sio_from *from);
/* Put one message back: the next sio_recv() returns it first. */
void sio_unread(sio *s, const char *buf, size_t len, const sio_from *from);

/* Send msg on SA sa (named by sa/) with the transport of the message.
 * *conn (optional) receives the TCP connection used.  0 or -1 (with a
 * FAILED line: the library refused, or no connection for a response). */
int sio_send_protected(sio *s, imssec_sa_ref sa, int transport, int is_request, const char *msg,
                       size_t n, tl_conn **conn);
/* Send msg unprotected on channel chan: a datagram to dst:port (UDP) or
 * on the stream (TCP; dst ignored). */
int sio_send_unprotected(sio *s, int chan, const imssec_addr *dst, unsigned port,
                         const char *msg, size_t n);

/* Close a protected TCP connection (FIN) and wait until the close
 * completes (TIME-WAIT or gone) or timeout_ms passes; a message that
 * arrives meanwhile is kept for sio_recv().  1: closed. */
int sio_close_wait(sio *s, tl_conn *c, int timeout_ms);

#endif
