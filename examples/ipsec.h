/*
 * ipsec.h -- the UE's and the P-CSCF's IPsec plumbing for the examples:
 * a small set of esp/ SAs and either the RFC 3948 UDP-encapsulated tunnel
 * mode (TS 33.203 Annex M) over one ordinary UDP socket, or transport mode
 * (clause 6.3) over a raw IP socket for protocol 50.
 *
 * Each SA is one imssec_esp_sa plus what TS 33.203 clause 7.1 says an SA is
 * bound to: the protected ports (port_uc/port_us at the UE, port_pc/port_ps
 * at the P-CSCF) carried in the inner UDP header, and the registration
 * ("generation") that created it, so that re-registration can keep the old
 * set for pending transactions (clause 7.4) and delete it later.
 */
#ifndef EXAMPLES_IPSEC_H
#define EXAMPLES_IPSEC_H

#include "../imssec.h"
#include "sip.h"
#include <stdio.h>

#define EX_MAX_SA 16

typedef struct ex_sa {
    int used;
    imssec_sa_ref ref;     /* sa/'s name for it */
    int gen;               /* the set of four it belongs to: 1, 2, ... */
    int dir;               /* IMSSEC_ESP_INBOUND or IMSSEC_ESP_OUTBOUND */
    uint32_t spi;
    unsigned lport, rport; /* protected ports: local and remote (inner UDP) */
    imssec_esp_sa esp;
    /* For the Wireshark esp_sa line, written when the SA first carries a
     * packet (an SA that never does is never listed: a later SA may reuse
     * its SPI with other keys), then wiped. */
    int logged, auth, enc;
    uint8_t ik_esp[IMSSEC_ESP_AUTH_KEY_MAX], ck_esp[IMSSEC_ESP_ENC_KEY_MAX];
    size_t ik_len, ck_len;
} ex_sa;

typedef struct ex_ipsec {
    ex_sa sa[EX_MAX_SA];
    const imssec_io *io;
    int fd;                   /* the UDP socket carrying ESP-in-UDP */
    char outer_local[64];     /* outer addresses and encapsulation ports */
    unsigned encap_local;
    char outer_peer[64];
    unsigned encap_peer;
    char inner_local[64];     /* inner (tunnelled) IP addresses */
    char inner_peer[64];
    FILE *esp_sa_file;        /* Wireshark esp_sa lines (optional) */
    const char *role;         /* for the ladder */
    int transport;            /* 1: transport mode, fd is a raw ESP socket */
    int installs;             /* SAs installed so far (sets of four) */
    const char *why;          /* reason shown when sa/ removes SAs */
    uint8_t last[SIP_MAX_MSG + 256]; /* the last ESP packet sent */
    size_t last_len;
} ex_ipsec;

/* The data-plane seam of sa/ (imssec_sa_callbacks) implemented with esp/:
 * user = the ex_ipsec.  install creates the esp/ SA from the expanded keys
 * sa/ hands over; remove wipes it; update notes a learnt NAT port. */
int ex_cb_install(void *user, const imssec_sa_info *sa, uint64_t *handle);
int ex_cb_update(void *user, const imssec_sa_info *sa);
int ex_cb_remove(void *user, const imssec_sa_info *sa);
ex_sa *ex_sa_by_ref(ex_ipsec *x, imssec_sa_ref ref);
/* "0x1234abcd (set 2, 6100->5064)" for the ladder. */
const char *ex_sa_name(const ex_sa *s, char *buf, size_t cap);

/* SAs in the data plane (of set gen; gen 0: all), and lookup by SPI. */
int ex_sa_count(const ex_ipsec *x, int gen);
ex_sa *ex_sa_by_spi(ex_ipsec *x, uint32_t spi);

/* Protect the SIP message with `sa` (inner IPv4/UDP lport -> rport inside
 * ESP inside UDP) and send it; the whole ESP packet goes to the pcap.
 * Returns IMSSEC_OK or an imssec error. */
int ex_send(ex_ipsec *x, ex_sa *sa, const char *sip, size_t n);

/* Send the last ESP packet again, byte for byte (a replay, for the demo's
 * anti-replay check). */
void ex_replay_last(ex_ipsec *x);

/* Unprotect a datagram received on x->fd from src_ip:src_port.
 * Returns IMSSEC_OK with *which (the inbound SA), the SIP text and the inner
 * ports; IMSSEC_E_NOT_ESP for a NAT keepalive; IMSSEC_E_NO_SA for an unknown
 * SPI; or the esp/ verdict. */
int ex_recv(ex_ipsec *x, const uint8_t *data, size_t n, const char *src_ip, unsigned src_port,
            ex_sa **which, char *sip, size_t cap, size_t *sip_len, unsigned *inner_sport,
            unsigned *inner_dport);

/* "hmac-sha-1-96/aes-cbc" -> pair; returns 0 or -1. */
int ex_pair_parse(const char *text, imssec_sec_pair *p);
const char *ex_pair_name(int alg, int ealg, char *buf, size_t cap);

#endif
