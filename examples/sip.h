/*
 * sip.h -- the little SIP, UDP, pcap and ladder layer shared by the three
 * example programs (ue.c, pcscf.c, scscf.c).  It is NOT part of imssec: it is
 * the minimum a demo needs around the library, written to be read.
 *
 * SIP here is real SIP over UDP (RFC 3261): requests and responses carry Via
 * with branch (and received/rport when a proxy adds them), From/To with tags,
 * Call-ID, CSeq, Max-Forwards, Contact, Expires, Path/Service-Route and
 * Content-Length, so Wireshark and real SIP stacks accept them.  The parser
 * is strict enough for the demo and never reads outside its buffer.
 */
#ifndef EXAMPLES_SIP_H
#define EXAMPLES_SIP_H

#include <stddef.h>
#include <stdint.h>

#define SIP_MAX_MSG 8192  /* one SIP message (UDP, no fragmentation games) */
#define SIP_MAX_HDRS 64

/* A slice of text: not NUL-terminated. */
typedef struct sip_str {
    const char *p;
    size_t n;
} sip_str;

typedef struct sip_hdr {
    sip_str name, value;
} sip_hdr;

typedef struct sip_msg {
    int is_request;
    sip_str method, uri;   /* requests */
    int status;            /* responses */
    sip_str reason;
    sip_hdr hdrs[SIP_MAX_HDRS];
    int nhdrs;
    sip_str body;
} sip_msg;

/* Parse buf[0..len) (one datagram).  Returns 0, or -1 if it is not a SIP
 * message this demo understands.  Slices point into buf. */
int sip_parse(sip_msg *m, const char *buf, size_t len);

/* The nth (0-based) header called `name` (long or compact form, any case).
 * Comma-separated values inside one header line are not split.  Returns 1
 * and sets *out if found, else 0. */
int sip_get(const sip_msg *m, const char *name, int nth, sip_str *out);
int sip_count(const sip_msg *m, const char *name);

/* Header-name equality with compact forms (RFC 3261 section 7.3.3). */
int sip_name_is(sip_str name, const char *want);

/* `;name=value` (or `;name`) inside a header value such as a Via; and
 * `name=value` / `name="value"` inside a digest challenge or credentials.
 * Returns 1 and sets *out (quotes removed) if present, else 0. */
int sip_param(sip_str value, const char *name, sip_str *out);
int sip_auth_param(sip_str value, const char *name, sip_str *out);

int sip_eq(sip_str s, const char *lit);     /* case-insensitive */
int sip_has(sip_str s, const char *needle); /* case-insensitive substring */
/* Copy s into buf as a C string (truncated to cap-1). */
char *sip_cstr(sip_str s, char *buf, size_t cap);
sip_str sip_s(const char *cstr);

/* A parsed Via: SIP/2.0/UDP host:port;branch=...;rport;received=... */
typedef struct sip_via {
    char host[64];
    unsigned port; /* 5060 when absent */
    char branch[80];
    int rport_present;
    char received[64];
    unsigned rport;
} sip_via;
int sip_via_parse(sip_str value, sip_via *out);

/* The user@host part of the first <sip:...> URI in a header value, e.g. the
 * To of a REGISTER: "sip:alice@ims.example.net". */
char *sip_uri_of(sip_str value, char *buf, size_t cap);

/* ---- building ------------------------------------------------------------ */

typedef struct sip_buf {
    char p[SIP_MAX_MSG];
    size_t n;
    int overflow;
} sip_buf;

void sip_b_init(sip_buf *b);
void sip_b_add(sip_buf *b, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sip_b_str(sip_buf *b, sip_str s);
/* "Name: value\r\n" for one parsed header, unchanged. */
void sip_b_hdr(sip_buf *b, const sip_hdr *h);
/* Every header called `name`, unchanged, in order. */
void sip_b_copy(sip_buf *b, const sip_msg *m, const char *name);
/* Content-Length, the blank line and the body.  Returns 0, or -1 on overflow. */
int sip_b_end(sip_buf *b, const char *body, size_t body_len);

/* Start a response to `req`: status line, its Via headers, From, To (adding
 * `;tag=to_tag` if the To has none and to_tag is not NULL), Call-ID, CSeq.
 * The caller adds more headers and calls sip_b_end(). */
void sip_b_response(sip_buf *b, const sip_msg *req, int status, const char *reason,
                    const char *to_tag);

/* A fresh random token (hex) for branches, tags and Call-IDs. */
void sip_token(char *out, size_t hex_digits);

/* ---- UDP, pcap, ladder --------------------------------------------------- */

/* Bind a UDP socket on ip:port (port 0 = any).  Returns the fd or exits. */
int net_udp(const char *ip, unsigned port);
unsigned net_port(int fd);
/* Send and record the datagram in the pcap (if one is open). */
void net_send(int fd, const char *dst_ip, unsigned dst_port, const void *p, size_t n);
/* A raw IPv4 socket for protocol 50 (ESP) bound to ip, with IP_HDRINCL:
 * what is sent and received are whole IPv4 packets.  Needs root (or
 * CAP_NET_RAW).  Returns the fd or exits. */
int net_raw_esp(const char *ip);
/* Send a whole IPv4 packet on a raw socket (not recorded). */
void net_send_raw(int fd, const char *dst_ip, const void *pkt, size_t n);
/* Send without recording (the caller records the whole packet itself). */
void net_send_quiet(int fd, const char *dst_ip, unsigned dst_port, const void *p, size_t n);
/* The local address and port of a bound socket. */
void net_local(int fd, char ip[64], unsigned *port);
/* Wait up to timeout_ms for a datagram on any of fds[0..nfd).  Returns the
 * index of the fd that got one (and fills buf, len, src), -1 on timeout. */
int net_recv(const int *fds, int nfd, int timeout_ms, uint8_t *buf, size_t cap, size_t *len,
             char src_ip[64], unsigned *src_port);
uint64_t net_now_ms(void);
/* Fill out with random bytes from the OS (the imssec_io.random callback). */
int net_random(void *user, uint8_t *out, size_t len);

/* pcap (LINKTYPE_RAW: every record is a bare IPv4 or IPv6 packet).  All three
 * processes append to the same file: the first creates it with the header. */
void pcap_open(const char *path);
/* Record a UDP datagram as it would appear on the wire. */
void pcap_udp(const char *src_ip, unsigned sport, const char *dst_ip, unsigned dport,
              const void *payload, size_t n);
/* Record a whole IP packet (e.g. an ESP packet built by esp/). */
void pcap_ip(const void *pkt, size_t n);
/* Build an IPv4/UDP or IPv6/UDP packet (by the address family of src_ip)
 * around payload into out (checksums set).  Returns the packet length or 0
 * if it does not fit. */
size_t ip_udp_build(uint8_t *out, size_t cap, const char *src_ip, unsigned sport,
                    const char *dst_ip, unsigned dport, const void *payload, size_t n);
/* Split an IPv4/UDP or IPv6/UDP packet.  Returns 0 and the slices, or -1. */
int ip_udp_parse(const uint8_t *pkt, size_t n, char src_ip[64], unsigned *sport,
                 char dst_ip[64], unsigned *dport, const uint8_t **payload, size_t *plen);
/* "[2001:db8::1]" for an IPv6 address, the address itself otherwise (RFC
 * 3261 IPv6reference); and back. */
const char *host_fmt(const char *ip, char buf[72]);
const char *host_ip(const char *host, char buf[64]);

/* The ladder: every line is prefixed with the role, written in one write so
 * the three processes' lines interleave cleanly. */
void ladder_role(const char *role);
void ladder(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* The first line of a SIP message, for the ladder ("REGISTER sip:..." or
 * "SIP/2.0 401 Unauthorized"). */
char *sip_first_line(const void *p, size_t n, char *buf, size_t cap);

/* Outcome lines checked by the demo: "VERIFIED <step>: ..." or
 * "FAILED <step>: ...".  Returns ok. */
int verify(int ok, const char *step, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int verify_failures(void);
/* "NOTIMPL <step>: ..." -- a step the library cannot do yet; counts as a failure. */
void not_implemented(const char *step, const char *what);

/* Command lines are `--name value` pairs and `--flag`s.  arg_str returns
 * the value or def; arg_flag 1 if present; arg_check exits with a usage
 * message when an argument is not in `known` (a NULL-terminated list of
 * names; a trailing '!' marks a flag). */
const char *arg_str(int argc, char **argv, const char *name, const char *def);
unsigned long long arg_num(int argc, char **argv, const char *name, unsigned long long def);
int arg_flag(int argc, char **argv, const char *name);
void arg_check(int argc, char **argv, const char *const *known, const char *usage);
/* Read exactly n bytes of hex from --name (exits with a message if bad). */
void arg_hex(int argc, char **argv, const char *name, const char *def, uint8_t *out, size_t n);

/* Hex helpers for the command lines. */
size_t hex_decode(const char *hex, uint8_t *out, size_t cap); /* (size_t)-1 on error */
char *hex_encode(const uint8_t *p, size_t n, char *out);      /* out: 2n+1 */

#endif
