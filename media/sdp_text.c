/*
 * media/sdp_text.c -- SDP text for media/sdp.c: the line structure of
 * RFC 8866 5 (CRLF or LF), the m= line grammar (RFC 8866 5.14, 9), media
 * sections, the a=crypto / a=3ge2ae attributes (RFC 4568 9.1, TS 24.229
 * 7.5.2) and the writer that copies a section with its changes.  Zero-copy
 * and bounded: every function reads only t[0, n).
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

/* The protos this file knows (RFC 3551, RFC 4585, RFC 3711, RFC 5124). */
enum { SDP_OTHER = 0, SDP_AVP = 1, SDP_AVPF = 2, SDP_SAVP = 3, SDP_SAVPF = 4 };
static const char *const sdp_proto_name[] = {"", "RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF"};

#define SDP_PLAIN(p) ((p) == SDP_AVP || (p) == SDP_AVPF)
#define SDP_SECURE(p) ((p) == SDP_SAVP || (p) == SDP_SAVPF)
#define SDP_FB(p) ((p) == SDP_AVPF || (p) == SDP_SAVPF)

/* a=3ge2ae indicators seen in a section (TS 24.229 7.5.2) */
#define SDP_IND_REQUESTED 1u
#define SDP_IND_APPLIED 2u
#define SDP_IND_OTHER 4u

/* lines a rewrite removes */
#define SDP_DROP_CRYPTO 1u  /* every a=crypto */
#define SDP_DROP_E2AE 2u    /* every a=3ge2ae */
#define SDP_DROP_APPLIED 4u /* a=3ge2ae:applied only (7.3.1, last paragraph) */

/* ---- lines ----------------------------------------------------------------- */

/* One line: content t[off, off + len), then eol bytes (1: LF, 2: CRLF). */
typedef struct sdp_ln {
    size_t off, len, eol;
} sdp_ln;

/* The line at pos.  On checked text every line is complete; on any other
 * text a line without LF ends at n (eol 0), so nothing past n is read. */
static void sdp_line(const char *t, size_t n, size_t pos, sdp_ln *l)
{
    const char *lf = (const char *)memchr(t + pos, '\n', n - pos);
    size_t e = lf ? (size_t)(lf - t) : n;
    l->off = pos;
    l->eol = lf ? 1 : 0;
    if (lf && e > pos && t[e - 1] == '\r')
        l->eol = 2;
    l->len = e + (lf ? 1 : 0) - l->eol - pos;
}

static size_t sdp_after(const sdp_ln *l)
{
    return l->off + l->len + l->eol;
}

/* RFC 8866 9: token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 /
 * %x41-5A / %x5E-7E */
static int sdp_tchar(int c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
           c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
           (c >= 0x5e && c <= 0x7e);
}

/* A token from p[*i] on (bounded by n); its length. */
static size_t sdp_token(const char *p, size_t n, size_t *i)
{
    size_t s = *i;
    while (*i < n && sdp_tchar((unsigned char)p[*i]))
        (*i)++;
    return *i - s;
}

/* "a=<name>" or "a=<name>:<value>", the name compared case-insensitively
 * (RFC 5234 2.3: the quoted strings of RFC 4568 9.1 and TS 24.229 7.5.2
 * are); 1 and *v = the value, else 0. */
static int sdp_attr(const char *t, const sdp_ln *l, const char *name, imssec_str *v)
{
    size_t k = strlen(name);
    const char *p = t + l->off;
    if (l->len < 2 + k || p[0] != 'a' || !isc_token_eq(p + 2, k, name))
        return 0;
    if (l->len > 2 + k && p[2 + k] != ':')
        return 0;
    v->p = p + 2 + k + (l->len > 2 + k);
    v->n = l->len - 2 - k - (l->len > 2 + k);
    return 1;
}

/* TS 24.229 7.5.2: indicator = "requested" / "applied" / token; other
 * values are ignored. */
static unsigned sdp_ind(imssec_str v)
{
    if (isc_token_eq(v.p, v.n, "requested"))
        return SDP_IND_REQUESTED;
    if (isc_token_eq(v.p, v.n, "applied"))
        return SDP_IND_APPLIED;
    return SDP_IND_OTHER;
}

/* ---- the m= line (RFC 8866 5.14, 9) ---------------------------------------- */

typedef struct sdp_mline {
    size_t proto_off, proto_len; /* in the text */
    int prof;                    /* SDP_* */
    int port0;                   /* the port is 0: a disabled / rejected stream */
} sdp_mline;

/* m=<media> SP <port>["/"<integer>] SP <proto> 1*(SP <fmt>), proto = token
 * *("/" token), fmt = token.  NULL, or why (and *at: the offset). */
static const char *sdp_mparse(const char *t, const sdp_ln *l, sdp_mline *m, size_t *at)
{
    const char *p = t + l->off;
    size_t n = l->len, i = 2, s, nf = 0, k;
    uint32_t port = 0;
    memset(m, 0, sizeof *m);
    if (sdp_token(p, n, &i) == 0)
        return *at = l->off + i, "m= starts with a media token";
    if (i >= n || p[i] != ' ')
        return *at = l->off + i, "m= fields are separated by one SP";
    s = ++i;
    while (i < n && isc_is_digit((unsigned char)p[i]) && i - s < 5)
        port = port * 10 + (uint32_t)(p[i++] - '0');
    if (i == s || port > 65535 || (i < n && isc_is_digit((unsigned char)p[i])))
        return *at = l->off + s, "the port is 0..65535";
    if (i < n && p[i] == '/') { /* number of ports */
        s = ++i;
        while (i < n && isc_is_digit((unsigned char)p[i]) && i - s < 5)
            i++;
        if (i == s || (i < n && isc_is_digit((unsigned char)p[i])))
            return *at = l->off + s, "the number of ports is 1 to 5 digits";
    }
    if (i >= n || p[i] != ' ')
        return *at = l->off + i, "m= fields are separated by one SP";
    s = ++i;
    for (;;) {
        if (sdp_token(p, n, &i) == 0)
            return *at = l->off + i, "proto is token *(\"/\" token)";
        if (i < n && p[i] == '/') {
            i++;
            continue;
        }
        break;
    }
    m->proto_off = l->off + s;
    m->proto_len = i - s;
    while (i < n) {
        if (p[i] != ' ')
            return *at = l->off + i, "m= fields are separated by one SP";
        i++;
        if (sdp_token(p, n, &i) == 0)
            return *at = l->off + i, "a fmt is a token";
        nf++;
    }
    if (nf == 0)
        return *at = l->off + i, "m= needs at least one fmt";
    m->port0 = port == 0;
    for (k = 1; k <= SDP_SAVPF; k++)
        if (isc_token_eq(p + (m->proto_off - l->off), m->proto_len, sdp_proto_name[k]))
            m->prof = (int)k;
    return NULL;
}

/* ---- the whole text ----------------------------------------------------------- */

static int sdp_syntax(imssec_errinfo *err, size_t at, const char *why)
{
    isc_fail(err, IMSSEC_E_SYNTAX, why, "RFC 8866 5, 9");
    if (err)
        err->offset = at;
    return IMSSEC_E_SYNTAX;
}

/* The line structure of RFC 8866 5 for every line, v=0 first, the grammar
 * of every m= line and the name of every a= line. */
static int sdp_check_text(const char *t, size_t n, size_t *n_media, imssec_errinfo *err)
{
    size_t pos = 0, nm = 0, i, at = 0;
    if (n == 0)
        return sdp_syntax(err, 0, "empty SDP");
    while (pos < n) {
        sdp_ln l;
        sdp_line(t, n, pos, &l);
        if (l.eol == 0)
            return sdp_syntax(err, n, "the last line has no line end (CRLF or LF)");
        for (i = l.off; i < l.off + l.len; i++)
            if (t[i] == '\r' || t[i] == '\0')
                return sdp_syntax(err, i, "CR or NUL inside a line");
        if (l.len < 2 || t[pos + 1] != '=' || t[pos] < 'a' || t[pos] > 'z')
            return sdp_syntax(err, pos, "a line is <type>=<value>, the type one lowercase letter");
        if (pos == 0 && !(l.len == 3 && t[0] == 'v' && t[2] == '0'))
            return sdp_syntax(err, 0, "the first line is v=0");
        if (t[pos] == 'm') {
            sdp_mline m;
            const char *why = sdp_mparse(t, &l, &m, &at);
            if (why)
                return sdp_syntax(err, at, why);
            nm++;
        } else if (t[pos] == 'a') {
            i = 2;
            if (sdp_token(t + pos, l.len, &i) == 0 || (i < l.len && t[pos + i] != ':'))
                return sdp_syntax(err, pos + i, "a= is a token name, then \":\" and the value");
        }
        pos = sdp_after(&l);
    }
    if (n_media)
        *n_media = nm;
    return IMSSEC_OK;
}

/* One media section: its m= line up to the next m= line or the end. */
typedef struct sdp_sec {
    size_t index, start, end;
    sdp_ln m;
    sdp_mline ml;
    size_t n_crypto; /* a=crypto lines */
    unsigned ind;    /* SDP_IND_* of its a=3ge2ae lines */
} sdp_sec;

/* The first m= line at or after pos (n: none) in checked text. */
static size_t sdp_next_m(const char *t, size_t n, size_t pos)
{
    sdp_ln l;
    while (pos < n && t[pos] != 'm') {
        sdp_line(t, n, pos, &l);
        pos = sdp_after(&l);
    }
    return pos;
}

static void sdp_section(const char *t, size_t n, size_t pos, size_t index, sdp_sec *s)
{
    sdp_ln l;
    imssec_str v;
    size_t at;
    memset(s, 0, sizeof *s);
    s->index = index;
    s->start = pos;
    sdp_line(t, n, pos, &s->m);
    (void)sdp_mparse(t, &s->m, &s->ml, &at);
    pos = sdp_after(&s->m);
    while (pos < n && t[pos] != 'm') {
        sdp_line(t, n, pos, &l);
        if (sdp_attr(t, &l, "crypto", &v))
            s->n_crypto++;
        else if (sdp_attr(t, &l, "3ge2ae", &v))
            s->ind |= sdp_ind(v);
        pos = sdp_after(&l);
    }
    s->end = pos;
}

/* The next a=crypto value of section s from *pos on; 0 at its end. */
static int sdp_next_crypto(const char *t, size_t n, const sdp_sec *s, size_t *pos, imssec_str *v)
{
    sdp_ln l;
    while (*pos < s->end) {
        sdp_line(t, n, *pos, &l);
        *pos = sdp_after(&l);
        if (sdp_attr(t, &l, "crypto", v))
            return 1;
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------------ */

/* What a section's rewrite does. */
typedef struct sdp_plan {
    int proto;                     /* SDP_* written as the m= proto; 0: kept */
    unsigned drop;                 /* SDP_DROP_* */
    const imssec_sdes_crypto *add; /* a=crypto lines appended */
    size_t n_add;
    const char *ind;               /* then a=3ge2ae:<ind>, or NULL */
} sdp_plan;

static void sdp_emit(isc_sbuf *b, const char *t, size_t n, const sdp_sec *s, const sdp_plan *pl)
{
    const char *eol = s->m.eol == 2 ? "\r\n" : "\n";
    size_t pos, i, pe = s->ml.proto_off + s->ml.proto_len;
    sdp_ln l;
    imssec_str v;
    if (pl->proto) {
        isc_sb_putn(b, t + s->start, s->ml.proto_off - s->start);
        isc_sb_puts(b, sdp_proto_name[pl->proto]);
        isc_sb_putn(b, t + pe, sdp_after(&s->m) - pe);
    } else {
        isc_sb_putn(b, t + s->start, sdp_after(&s->m) - s->start);
    }
    for (pos = sdp_after(&s->m); pos < s->end; pos = sdp_after(&l)) {
        int drop = 0;
        sdp_line(t, n, pos, &l);
        if (sdp_attr(t, &l, "crypto", &v))
            drop = (pl->drop & SDP_DROP_CRYPTO) != 0;
        else if (sdp_attr(t, &l, "3ge2ae", &v))
            drop = (pl->drop & SDP_DROP_E2AE) ||
                   ((pl->drop & SDP_DROP_APPLIED) && sdp_ind(v) == SDP_IND_APPLIED);
        if (!drop)
            isc_sb_putn(b, t + l.off, l.len + l.eol);
    }
    for (i = 0; i < pl->n_add; i++) {
        isc_sb_puts(b, "a=crypto:");
        sd_build_body(&pl->add[i], b); /* media/sdes.c, checked by sdp_keys_ok() */
        isc_sb_puts(b, eol);
    }
    if (pl->ind) {
        isc_sb_puts(b, "a=3ge2ae:");
        isc_sb_puts(b, pl->ind);
        isc_sb_puts(b, eol);
    }
}
