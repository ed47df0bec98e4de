/*
 * tls_link.h -- the P-CSCF <-> S-CSCF hop over TLS (RFC 3261 TLS
 * transport; TS 33.203 6.5 as changed by the CRs on TLS between CSCFs):
 * mbedTLS's TLS 1.2 with certificates on both sides, SIP framed by
 * Content-Length on the stream.  During the handshake the peer's
 * certificate chain is verified against --ca and its names (RFC 5922 7.1:
 * subjectAltName, else the subject CN) are checked against the list of
 * interworking partners with the library's imssec_tls_partner_check():
 * "When sending/receiving the certificate during the TLS handshaking
 * phase, the CSCF shall verify the name on the certificate against the
 * list of the interworking partners."  A certificate that is not a
 * partner's ends the handshake with a bad_certificate alert.
 *
 * The library stays free of TLS and I/O: this is host code, like net.h.
 * Every record written is also appended to the demo's capture (pcap.h),
 * and with a key log file the TLS 1.2 master secrets are written in the
 * NSS key log format (CLIENT_RANDOM ...) so Wireshark can decrypt the hop.
 * Not part of imssec.
 */
#ifndef EXAMPLES_TLS_LINK_H
#define EXAMPLES_TLS_LINK_H

#include "../imssec.h"
#include "sip.h"
#include "sip_io.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <stdio.h>

#define TLS_MAX_PARTNERS 8

typedef struct tls_link_cfg {
    int server;           /* 1: accepts (the S-CSCF), requires a client certificate */
    const char *peer;     /* the peer's role for the ladder: "S-CSCF" / "P-CSCF" */
    const char *step;     /* the VERIFIED/FAILED step name, e.g. "pcscf-core-tls" */
    const char *ca, *cert, *key; /* PEM files */
    const char *partners; /* "name1,name2": the interworking partners */
    const char *keylog;   /* NULL, or the NSS key log file to append to */
} tls_link_cfg;

/* server, peer and step as given; ca, cert, key, partners, keylog from the
 * command line (--ca, --cert, --key, --partners, --tls-keylog). */
void tls_link_cfg_args(tls_link_cfg *c, int server, const char *peer, const char *step, int argc,
                       char **argv);

typedef struct tls_link {
    tls_link_cfg cfg;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca, cert;
    mbedtls_pk_context key;
    mbedtls_ssl_config conf;
    char partner_text[512];
    imssec_str partners[TLS_MAX_PARTNERS];
    size_t n_partners;
    FILE *keylog;
} tls_link;

typedef struct tls_conn {
    tls_link *link;
    mbedtls_ssl_context ssl;
    int fd, up;
    imssec_addr local, peer;
    unsigned lport, pport;
    uint32_t tx, rx;         /* TCP bytes sent / received: the capture's seq / ack */
    char partner[128];       /* the partner the certificate matched */
    char names[256];         /* the certificate's names, for the ladder */
    char refused[384];       /* why the certificate was refused (the 6.5 check) */
    char buf[2 * SIP_MAX_MSG]; /* tls_conn_next(): received, not yet a whole message */
    size_t len;
} tls_conn;

/* Load the CA, our certificate and key, the partner list.  Exits with a
 * message when one of them cannot be loaded (a demo program). */
void tls_link_init(tls_link *l, const tls_link_cfg *cfg);
void tls_link_free(tls_link *l);

/* Connect to peer:port from local (port any) and run the handshake.  0 when
 * the connection is up (a VERIFIED line names the partner), -1 with a
 * FAILED line (refused certificate, no connection, handshake error). */
int tls_conn_connect(tls_link *l, tls_conn *c, const imssec_addr *local, const imssec_addr *peer,
                     unsigned port);
/* Accept one connection from the listening socket lfd and run the
 * handshake.  0 or -1, as tls_conn_connect(). */
int tls_conn_accept(tls_link *l, tls_conn *c, int lfd);
/* Application data: >0 bytes, 0 nothing yet, -1 the connection is gone
 * (closed; a ladder line says why). */
long tls_conn_read(tls_conn *c, char *buf, size_t cap);
/* All n bytes; 0, or -1 (closed). */
int tls_conn_write(tls_conn *c, const char *p, size_t n);
/* close_notify, then the socket; c can be connected again. */
void tls_conn_close(tls_conn *c, const char *why);
/* A whole SIP message received on c (Content-Length framing, sip_frame),
 * read when c->fd is readable: 1 with buf[0..*len) NUL-terminated, 0 not
 * yet, -1 the connection is gone. */
int tls_conn_next(tls_conn *c, int readable, char *buf, size_t cap, size_t *len);

/* The P-CSCF's S-CSCF link as a stream channel of sip_io (core): c is
 * connected to peer:port on the first message sent (and again after it
 * closed).  Returns the channel for sio_send_unprotected(). */
int tls_sio_core(sio *s, tls_link *l, tls_conn *c, const imssec_addr *local,
                 const imssec_addr *peer, unsigned port);

#endif
