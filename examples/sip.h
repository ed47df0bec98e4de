/*
 * sip.h -- the little SIP text toolkit shared by the example programs: a
 * parser and a builder for RFC 3261 messages, stream framing, and the
 * top-Via fields a proxy needs.  What is security (Authorization,
 * WWW-Authenticate, Security-*) is parsed by the library, not here.  Not
 * part of imssec.
 *
 * SIP here is real SIP (RFC 3261): requests and responses carry Via with
 * branch (and received/rport when a proxy adds them), From/To with tags,
 * Call-ID, CSeq, Max-Forwards, Contact, Expires, Path/Service-Route and
 * Content-Length, so Wireshark and real SIP stacks accept them.  The parser
 * is strict enough for the demo and never reads outside its buffer.
 */
#ifndef EXAMPLES_SIP_H
#define EXAMPLES_SIP_H

#include "../imssec.h"

#include <stddef.h>
#include <stdint.h>

#define SIP_MAX_MSG 8192 /* one SIP message */
#define SIP_MAX_HDRS 64

/* A slice of text, not NUL-terminated: the library's imssec_str, so that
 * header values go to its parsers as they are. */
typedef imssec_str sip_str;

typedef struct sip_hdr {
    sip_str name, value;
} sip_hdr;

typedef struct sip_msg {
    int is_request;
    sip_str method, uri; /* requests */
    int status;          /* responses */
    sip_str reason;
    sip_hdr hdrs[SIP_MAX_HDRS];
    int nhdrs;
    sip_str body;
} sip_msg;

/* Parse buf[0..len) (one whole message).  Returns 0, or -1 if it is not a
 * SIP message this demo understands.  Slices point into buf. */
int sip_parse(sip_msg *m, const char *buf, size_t len);

/* Stream framing (RFC 3261 18.3): is there a whole message at the front of
 * buf[0..n)?  1: yes, it starts at buf + *skip (CRLF keep-alives skipped)
 * and is *len bytes (headers, then Content-Length bytes of body); 0: not
 * yet; -1: not SIP, or larger than SIP_MAX_MSG (close the stream). */
int sip_frame(const char *buf, size_t n, size_t *skip, size_t *len);

/* The nth (0-based) header called `name` (long or compact form, any case).
 * Returns 1 and sets *out if found, else 0. */
int sip_get(const sip_msg *m, const char *name, int nth, sip_str *out);
int sip_count(const sip_msg *m, const char *name);
/* Every instance of `name` joined with ", " (RFC 3261 7.3.1: the same as
 * one comma-separated list) into out (NUL-terminated); returns the length. */
size_t sip_join(const sip_msg *m, const char *name, char *out, size_t cap);

/* Header-name equality with compact forms (RFC 3261 7.3.3). */
int sip_name_is(sip_str name, const char *want);

/* `;name=value` (or `;name`) inside a header value such as a Via or a
 * Contact.  Returns 1 and sets *out (quotes removed) if present, else 0. */
int sip_param(sip_str value, const char *name, sip_str *out);

int sip_eq(sip_str s, const char *lit);     /* case-insensitive */
int sip_has(sip_str s, const char *needle); /* case-insensitive substring */
/* Copy s into buf as a C string (truncated to cap-1). */
char *sip_cstr(sip_str s, char *buf, size_t cap);
sip_str sip_s(const char *cstr);

/* A parsed Via: SIP/2.0/UDP host:port;branch=...;rport;received=... */
typedef struct sip_via {
    char transport[8];
    char host[64];
    unsigned port; /* 5060 when absent */
    char branch[80];
    int rport_present;
    char received[64];
    unsigned rport;
} sip_via;
int sip_via_parse(sip_str value, sip_via *out);

/* The URI inside <...> of a header value (or up to the first ';'), e.g.
 * the To of a REGISTER: "sip:alice@ims.example.net". */
char *sip_uri_of(sip_str value, char *buf, size_t cap);

/* The first line of a message, for the ladder. */
char *sip_first_line(const void *p, size_t n, char *buf, size_t cap);

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

#endif
