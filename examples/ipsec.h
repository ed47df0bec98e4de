/*
 * ipsec.h -- the UE's and the P-CSCF's data plane, which is the library's:
 * the sa/ table's SAs live in an esp/ SA pool (imssec_sa_esp_pool with
 * imssec_sa_esp_callbacks()), a SIP payload is protected on the SA sa/
 * names with imssec_sa_esp_protect(), and every ESP datagram received goes
 * to imssec_sa_esp_unprotect(), which finds the SA by SPI and checks the
 * inner selectors (TS 33.203 7.1 rules 4 and 7).
 *
 * What this file adds around it is what a program has to do itself:
 *   - the sockets: a UDP socket for RFC 3948 ESP-in-UDP (TS 33.203 Annex
 *     M, UDP-encapsulated tunnel mode) or a raw socket for IP protocol 50
 *     (transport mode, clause 6.3);
 *   - the capture (pcap.h) of every ESP packet it sends;
 *   - the key log, from which the CLI's `imssec wireshark-esp-sa` makes
 *     Wireshark's esp_sa table: the keys come from imssec_sa_get() the
 *     first time an SA carries a packet (an SA that never does is never
 *     listed: a later SA may reuse its SPI with other keys); and
 *     imssec_sa_note_sent() for every packet (M.7.2 keepalives);
 *   - the ladder: the library's callbacks are wrapped to print SA+ / SA- /
 *     SA~ (install, remove, port_Uenc learnt) and to refuse SAs of a mode
 *     this program has no socket for.
 */
#ifndef EXAMPLES_IPSEC_H
#define EXAMPLES_IPSEC_H

#include "../imssec.h"
#include "sip.h"

#include <stdio.h>

#define EX_POOL 48 /* esp/ SAs: at most three sets of four per user (7.1 rule 3), four users */

/* What the ladder says about one installed SA (no keys). */
typedef struct ex_sa_note {
    imssec_sa_ref ref;
    int set; /* the set of four it came with: 1, 2, ... (for the ladder) */
    int which, inbound, logged;
    uint32_t spi;
    uint16_t sport, dport;
} ex_sa_note;

typedef struct ex_dp {
    imssec_esp_sa sas[EX_POOL];
    imssec_sa_esp_pool pool;
    imssec_sa_callbacks lib; /* the library's data plane */
    imssec_sa_callbacks cb;  /* what the table is given: lib, wrapped */
    imssec_sa_table *t;
    const imssec_io *io;
    int mode;                /* IMSSEC_MODE_UDP_ENC_TUN (UDP socket) or IMSSEC_MODE_TRANS (raw) */
    int fd;                  /* ESP goes out (and, except IPv6 transport, comes in) here */
    int tap;                 /* IPv6 transport mode: ESP comes in here (net_ipv6_tap), else -1 */
    imssec_addr local;       /* the socket's address: the outer source */
    unsigned local_port;     /* UDP: the socket's port */
    unsigned encap_port;     /* UE: the P-CSCF's encapsulation port when not 4500; 0 = sa/'s */
    FILE *esp_sa;            /* key log: `imssec wireshark-esp-sa` options per SA, or NULL */
    ex_sa_note note[EX_POOL];
    int installs;
    const char *why;         /* the reason printed with SA- lines */
    /* told after an SA is removed (sip_io.c drops the TCP connections it
     * carried); must not call into the table */
    void (*removed)(void *user, imssec_sa_ref sa);
    void *removed_user;
    int keepalive_due;       /* sa/ asked for a NAT keepalive (M.7.2) */
    unsigned keepalives;     /* how many went out */
    imssec_addr ka_to;       /* UE, UDP-enc-tun: where keepalives go (the P-CSCF, */
    unsigned ka_port;        /* its encapsulation port); 0: none */
    int remember;            /* keep a copy of the next packet sent (the replay check) */
    uint8_t last[SIP_MAX_MSG + 256];
    size_t last_len;
    imssec_addr last_to;
    unsigned last_port;
    struct dp_xfrm *xfrm;    /* --dataplane xfrm: the kernel's ESP (dp_xfrm.h); NULL: esp/ */
} ex_dp;

/* mode: IMSSEC_MODE_UDP_ENC_TUN or IMSSEC_MODE_TRANS; fd: its socket (tap:
 * -1 unless IPv6 transport mode).  The callbacks for
 * imssec_sa_table_setup() are then &d->cb; call ex_dp_attach() once the
 * table is set up. */
void ex_dp_init(ex_dp *d, const imssec_io *io, int mode, int fd, int tap, FILE *esp_sa);
void ex_dp_attach(ex_dp *d, imssec_sa_table *t);

/* Protect a SIP message (UDP) or a TCP segment on SA `sa` and send it;
 * the packet goes to the capture.  IMSSEC_OK or the library's error. */
int ex_dp_send(ex_dp *d, imssec_sa_ref sa, int transport, const uint8_t *payload, size_t n,
               imssec_errinfo *err);
/* The packet kept by `remember`, sent again byte for byte. */
void ex_dp_replay_last(ex_dp *d);

/* Read one packet from socket `fd` (d->fd or d->tap) and unprotect it
 * (imssec_sa_esp_unprotect()): *rx names the SA, its user and the inner
 * flow; the payload is out[rx->payload_off ..].  Returns the library's
 * value: IMSSEC_OK, IMSSEC_E_NOT_ESP (nothing for us: a keepalive, another
 * packet on the interface) or a verdict (drop it). */
int ex_dp_recv(ex_dp *d, int fd, uint8_t *out, size_t cap, imssec_sa_esp_received *rx,
               imssec_errinfo *err);

/* The ladder's view of the SAs: "spi=0x1234abcd (set 2, 6100->5064)", the
 * set an SA came with (0: unknown), and how many SAs of set `set` (0:
 * all) the data plane holds. */
const char *ex_dp_name(const ex_dp *d, imssec_sa_ref sa, char *buf, size_t cap);
int ex_dp_set_of(const ex_dp *d, imssec_sa_ref sa);
int ex_dp_count(const ex_dp *d, int set);
/* How many SAs of sa/ user `user` the data plane holds (several UEs at
 * one P-CSCF). */
int ex_dp_user_count(const ex_dp *d, uint32_t user);

#endif
