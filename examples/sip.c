/*
 * sip.c -- see sip.h.
 */
#include "sip.h"
#include "ladder.h"
#include "net.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text helpers -------------------------------------------------------- */

static int sip_lc(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

sip_str sip_s(const char *cstr)
{
    sip_str s;
    s.p = cstr;
    s.n = strlen(cstr);
    return s;
}

int sip_eq(sip_str s, const char *lit)
{
    size_t i, n = strlen(lit);
    if (s.n != n)
        return 0;
    for (i = 0; i < n; i++)
        if (sip_lc((unsigned char)s.p[i]) != sip_lc((unsigned char)lit[i]))
            return 0;
    return 1;
}

int sip_has(sip_str s, const char *needle)
{
    size_t i, n = strlen(needle);
    sip_str w;
    for (i = 0; i + n <= s.n; i++) {
        w.p = s.p + i;
        w.n = n;
        if (sip_eq(w, needle))
            return 1;
    }
    return 0;
}

char *sip_cstr(sip_str s, char *buf, size_t cap)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    memcpy(buf, s.p, n);
    buf[n] = '\0';
    return buf;
}

static sip_str sip_trim(sip_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* ---- parsing --------------------------------------------------------------- */

/* Next CRLF-terminated line of [*pos, end).  Returns 0 at the end. */
static int sip_line(const char *buf, size_t len, size_t *pos, sip_str *line)
{
    size_t i;
    for (i = *pos; i + 1 < len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n') {
            line->p = buf + *pos;
            line->n = i - *pos;
            *pos = i + 2;
            return 1;
        }
    }
    return 0;
}

static int sip_atou(sip_str s, unsigned *out, unsigned max)
{
    size_t i;
    unsigned long v = 0;
    if (s.n == 0 || s.n > 10)
        return -1;
    for (i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s.p[i] - '0');
    }
    if (v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* headers_only: buf holds the header block of a stream message, the body
 * is still to come (sip_frame). */
static int sip_parse_x(sip_msg *m, const char *buf, size_t len, int headers_only)
{
    size_t pos = 0, i;
    sip_str line, cl;
    unsigned clen;

    memset(m, 0, sizeof *m);
    if (!sip_line(buf, len, &pos, &line))
        return -1;
    if (line.n > 8 && memcmp(line.p, "SIP/2.0 ", 8) == 0) {
        sip_str code;
        unsigned st;
        code.p = line.p + 8;
        code.n = line.n - 8 < 3 ? line.n - 8 : 3;
        if (sip_atou(code, &st, 699) || st < 100)
            return -1;
        m->status = (int)st;
        m->reason.p = line.p + 8 + code.n;
        m->reason.n = line.n - 8 - code.n;
        m->reason = sip_trim(m->reason);
    } else {
        /* METHOD SP Request-URI SP SIP/2.0 */
        const char *sp1 = memchr(line.p, ' ', line.n), *sp2;
        if (!sp1 || sp1 == line.p)
            return -1;
        sp2 = memchr(sp1 + 1, ' ', line.n - (size_t)(sp1 + 1 - line.p));
        if (!sp2 || (size_t)(line.p + line.n - sp2) != 8 || memcmp(sp2 + 1, "SIP/2.0", 7))
            return -1;
        m->is_request = 1;
        m->method.p = line.p;
        m->method.n = (size_t)(sp1 - line.p);
        m->uri.p = sp1 + 1;
        m->uri.n = (size_t)(sp2 - sp1 - 1);
    }
    for (;;) {
        const char *colon;
        if (!sip_line(buf, len, &pos, &line))
            return -1; /* no blank line */
        if (line.n == 0)
            break;
        if (line.p[0] == ' ' || line.p[0] == '\t') {
            /* Folded continuation: extend the previous header's value. */
            if (m->nhdrs == 0)
                return -1;
            m->hdrs[m->nhdrs - 1].value.n = (size_t)(line.p + line.n - m->hdrs[m->nhdrs - 1].value.p);
            continue;
        }
        if (m->nhdrs == SIP_MAX_HDRS)
            return -1;
        colon = memchr(line.p, ':', line.n);
        if (!colon || colon == line.p)
            return -1;
        m->hdrs[m->nhdrs].name.p = line.p;
        m->hdrs[m->nhdrs].name.n = (size_t)(colon - line.p);
        m->hdrs[m->nhdrs].name = sip_trim(m->hdrs[m->nhdrs].name);
        m->hdrs[m->nhdrs].value.p = colon + 1;
        m->hdrs[m->nhdrs].value.n = (size_t)(line.p + line.n - colon - 1);
        m->hdrs[m->nhdrs].value = sip_trim(m->hdrs[m->nhdrs].value);
        m->nhdrs++;
    }
    for (i = 0; i < (size_t)m->nhdrs; i++)
        m->hdrs[i].value = sip_trim(m->hdrs[i].value);
    m->body.p = buf + pos;
    m->body.n = len - pos;
    if (sip_get(m, "Content-Length", 0, &cl)) {
        if (sip_atou(cl, &clen, SIP_MAX_MSG) || (!headers_only && clen > m->body.n))
            return -1;
        m->body.n = clen;
    }
    return 0;
}

int sip_parse(sip_msg *m, const char *buf, size_t len)
{
    return sip_parse_x(m, buf, len, 0);
}

int sip_name_is(sip_str name, const char *want)
{
    static const char *const compact[][2] = {
        {"via", "v"},     {"call-id", "i"}, {"contact", "m"}, {"content-length", "l"},
        {"from", "f"},    {"to", "t"},      {"content-type", "c"}, {"supported", "k"},
        {"subject", "s"},
    };
    size_t i;
    if (sip_eq(name, want))
        return 1;
    for (i = 0; i < sizeof compact / sizeof compact[0]; i++) {
        if (sip_eq(sip_s(want), compact[i][0]) && sip_eq(name, compact[i][1]))
            return 1;
    }
    return 0;
}

int sip_get(const sip_msg *m, const char *name, int nth, sip_str *out)
{
    int i;
    for (i = 0; i < m->nhdrs; i++) {
        if (sip_name_is(m->hdrs[i].name, name) && nth-- == 0) {
            *out = m->hdrs[i].value;
            return 1;
        }
    }
    return 0;
}

int sip_count(const sip_msg *m, const char *name)
{
    int i, n = 0;
    for (i = 0; i < m->nhdrs; i++)
        n += sip_name_is(m->hdrs[i].name, name);
    return n;
}

int sip_param(sip_str value, const char *name, sip_str *out)
{
    size_t i = 0, nl = strlen(name);
    while (i < value.n) {
        const char *semi = memchr(value.p + i, ';', value.n - i);
        size_t s, e;
        sip_str key;
        if (!semi)
            return 0;
        s = (size_t)(semi - value.p) + 1;
        for (e = s; e < value.n && value.p[e] != ';' && value.p[e] != ','; e++)
            ;
        key.p = value.p + s;
        key.n = e - s;
        key = sip_trim(key);
        if (key.n >= nl) {
            sip_str k = key;
            k.n = nl;
            if (sip_eq(k, name)) {
                sip_str rest;
                rest.p = key.p + nl;
                rest.n = key.n - nl;
                rest = sip_trim(rest);
                if (rest.n == 0) {
                    out->p = rest.p;
                    out->n = 0;
                    return 1;
                }
                if (rest.p[0] == '=') {
                    rest.p++;
                    rest.n--;
                    rest = sip_trim(rest);
                    if (rest.n >= 2 && rest.p[0] == '"' && rest.p[rest.n - 1] == '"') {
                        rest.p++;
                        rest.n -= 2;
                    }
                    *out = rest;
                    return 1;
                }
            }
        }
        i = e;
    }
    return 0;
}

int sip_via_parse(sip_str value, sip_via *out)
{
    size_t i, hs, he;
    sip_str s;
    memset(out, 0, sizeof *out);
    out->port = 5060;
    /* "SIP/2.0/UDP" LWS sent-by */
    for (i = 0; i < value.n && value.p[i] != ' ' && value.p[i] != '\t'; i++)
        ;
    /* SIP/2.0/UDP or SIP/2.0/TCP (RFC 3261 20.42) */
    if (i < 8 || i >= value.n || !sip_eq((sip_str){value.p, 8}, "SIP/2.0/"))
        return -1;
    snprintf(out->transport, sizeof out->transport, "%.*s", (int)(i - 8), value.p + 8);
    while (i < value.n && (value.p[i] == ' ' || value.p[i] == '\t'))
        i++;
    hs = i;
    if (i < value.n && value.p[i] == '[') { /* IPv6 reference */
        while (i < value.n && value.p[i] != ']')
            i++;
        if (i < value.n)
            i++;
    } else {
        while (i < value.n && value.p[i] != ':' && value.p[i] != ';' && value.p[i] != ' ')
            i++;
    }
    he = i;
    if (he == hs || he - hs >= sizeof out->host)
        return -1;
    memcpy(out->host, value.p + hs, he - hs);
    out->host[he - hs] = '\0';
    if (i < value.n && value.p[i] == ':') {
        sip_str p;
        p.p = value.p + i + 1;
        for (p.n = 0; i + 1 + p.n < value.n && value.p[i + 1 + p.n] >= '0' &&
                      value.p[i + 1 + p.n] <= '9';
             p.n++)
            ;
        if (sip_atou(p, &out->port, 65535))
            return -1;
    }
    if (sip_param(value, "branch", &s))
        sip_cstr(s, out->branch, sizeof out->branch);
    if (sip_param(value, "received", &s))
        sip_cstr(s, out->received, sizeof out->received);
    if (sip_param(value, "rport", &s)) {
        out->rport_present = 1;
        if (s.n)
            (void)sip_atou(s, &out->rport, 65535);
    }
    return out->branch[0] ? 0 : -1;
}

char *sip_uri_of(sip_str value, char *buf, size_t cap)
{
    const char *lt = memchr(value.p, '<', value.n), *gt;
    sip_str u;
    if (lt) {
        gt = memchr(lt, '>', value.n - (size_t)(lt - value.p));
        if (!gt)
            return sip_cstr(sip_s(""), buf, cap);
        u.p = lt + 1;
        u.n = (size_t)(gt - lt - 1);
    } else {
        const char *semi = memchr(value.p, ';', value.n);
        u.p = value.p;
        u.n = semi ? (size_t)(semi - value.p) : value.n;
    }
    return sip_cstr(u, buf, cap);
}

/* ---- building -------------------------------------------------------------- */

void sip_b_init(sip_buf *b)
{
    b->n = 0;
    b->overflow = 0;
    b->p[0] = '\0';
}

void sip_b_add(sip_buf *b, const char *fmt, ...)
{
    va_list ap;
    int r;
    if (b->overflow)
        return;
    va_start(ap, fmt);
    r = vsnprintf(b->p + b->n, sizeof b->p - b->n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= sizeof b->p - b->n)
        b->overflow = 1;
    else
        b->n += (size_t)r;
}

void sip_b_str(sip_buf *b, sip_str s)
{
    sip_b_add(b, "%.*s", (int)s.n, s.p);
}

void sip_b_hdr(sip_buf *b, const sip_hdr *h)
{
    sip_b_add(b, "%.*s: %.*s\r\n", (int)h->name.n, h->name.p, (int)h->value.n, h->value.p);
}

void sip_b_copy(sip_buf *b, const sip_msg *m, const char *name)
{
    int i;
    for (i = 0; i < m->nhdrs; i++)
        if (sip_name_is(m->hdrs[i].name, name))
            sip_b_hdr(b, &m->hdrs[i]);
}

int sip_b_end(sip_buf *b, const char *body, size_t body_len)
{
    sip_b_add(b, "Content-Length: %u\r\n\r\n", (unsigned)body_len);
    if (body_len)
        sip_b_add(b, "%.*s", (int)body_len, body);
    return b->overflow ? -1 : 0;
}

void sip_b_response(sip_buf *b, const sip_msg *req, int status, const char *reason,
                    const char *to_tag)
{
    sip_str to;
    sip_b_init(b);
    sip_b_add(b, "SIP/2.0 %d %s\r\n", status, reason);
    sip_b_copy(b, req, "Via");
    sip_b_copy(b, req, "From");
    if (sip_get(req, "To", 0, &to)) {
        sip_str tag;
        if (to_tag && !sip_param(to, "tag", &tag))
            sip_b_add(b, "To: %.*s;tag=%s\r\n", (int)to.n, to.p, to_tag);
        else
            sip_b_add(b, "To: %.*s\r\n", (int)to.n, to.p);
    }
    sip_b_copy(b, req, "Call-ID");
    sip_b_copy(b, req, "CSeq");
}

void sip_token(char *out, size_t hex_digits)
{
    uint8_t r[32];
    size_t n = (hex_digits + 1) / 2;
    if (n > sizeof r)
        n = sizeof r;
    (void)net_random(NULL, r, n);
    hex_encode(r, n, out);
    out[hex_digits < 2 * n ? hex_digits : 2 * n] = '\0';
}


/* ---- framing on a stream (RFC 3261 18.3) ------------------------------------ */

int sip_frame(const char *buf, size_t n, size_t *skip, size_t *len)
{
    size_t i = 0, h;
    sip_msg m;
    sip_str cl;
    /* CRLF keep-alives between messages (RFC 5626 4.4.1) are skipped */
    while (i + 1 < n && buf[i] == '\r' && buf[i + 1] == '\n')
        i += 2;
    *skip = i;
    for (h = i; h + 3 < n; h++)
        if (memcmp(buf + h, "\r\n\r\n", 4) == 0)
            break;
    if (h + 3 >= n)
        return n - i > SIP_MAX_MSG ? -1 : 0;
    h += 4;
    /* the header block alone tells the body length: Content-Length is
     * mandatory over a stream (RFC 3261 20.14) */
    if (sip_parse_x(&m, buf + i, h - i, 1) != 0 || !sip_get(&m, "Content-Length", 0, &cl))
        return -1;
    if (h - i + m.body.n > SIP_MAX_MSG)
        return -1;
    if (h + m.body.n > n)
        return 0;
    *len = h - i + m.body.n;
    return 1;
}

size_t sip_join(const sip_msg *m, const char *name, char *out, size_t cap)
{
    size_t used = 0;
    int i;
    sip_str v;
    for (i = 0; sip_get(m, name, i, &v); i++) {
        if (used + v.n + 3 > cap)
            break;
        if (used) {
            memcpy(out + used, ", ", 2);
            used += 2;
        }
        memcpy(out + used, v.p, v.n);
        used += v.n;
    }
    if (cap)
        out[used] = '\0';
    return used;
}

char *sip_first_line(const void *p, size_t n, char *buf, size_t cap)
{
    const char *s = p, *e = memchr(s, '\r', n);
    sip_str l;
    l.p = s;
    l.n = e ? (size_t)(e - s) : (n < 60 ? n : 60);
    return sip_cstr(l, buf, cap);
}
