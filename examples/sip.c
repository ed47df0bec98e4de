/*
 * sip.c -- see sip.h.  Plain POSIX: sockets, poll, clock_gettime, /dev/urandom.
 */
#include "sip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

int sip_parse(sip_msg *m, const char *buf, size_t len)
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
        if (sip_atou(cl, &clen, SIP_MAX_MSG) || clen > m->body.n)
            return -1;
        m->body.n = clen;
    }
    return 0;
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

int sip_auth_param(sip_str value, const char *name, sip_str *out)
{
    /* Walk name=value pairs separated by commas, honouring quoted strings.
     * The first token ("Digest") is skipped. */
    size_t i = 0, nl = strlen(name);
    while (i < value.n && value.p[i] != ' ' && value.p[i] != '\t')
        i++;
    while (i < value.n) {
        size_t ks, ke, vs, ve;
        while (i < value.n && (value.p[i] == ' ' || value.p[i] == '\t' || value.p[i] == ','))
            i++;
        ks = i;
        while (i < value.n && value.p[i] != '=' && value.p[i] != ',')
            i++;
        ke = i;
        while (ke > ks && (value.p[ke - 1] == ' ' || value.p[ke - 1] == '\t'))
            ke--;
        if (i >= value.n || value.p[i] != '=') {
            continue;
        }
        i++;
        while (i < value.n && (value.p[i] == ' ' || value.p[i] == '\t'))
            i++;
        if (i < value.n && value.p[i] == '"') {
            vs = ++i;
            while (i < value.n && value.p[i] != '"') {
                if (value.p[i] == '\\' && i + 1 < value.n)
                    i++;
                i++;
            }
            ve = i;
            if (i < value.n)
                i++;
        } else {
            vs = i;
            while (i < value.n && value.p[i] != ',')
                i++;
            ve = i;
            while (ve > vs && (value.p[ve - 1] == ' ' || value.p[ve - 1] == '\t'))
                ve--;
        }
        if (ke - ks == nl) {
            sip_str k;
            k.p = value.p + ks;
            k.n = nl;
            if (sip_eq(k, name)) {
                out->p = value.p + vs;
                out->n = ve - vs;
                return 1;
            }
        }
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
    if (i >= value.n || !sip_has((sip_str){value.p, i}, "SIP/2.0/UDP"))
        return -1;
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

/* ---- UDP ------------------------------------------------------------------- */

static const char *ladder_name = "?";

static void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", ladder_name, what, strerror(errno));
    exit(3);
}

/* ip:port as a socket address (IPv6 when ip has a colon).  Exits on a bad
 * address: these come from the command line. */
static socklen_t net_sa(const char *ip, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, ip, &a->sin6_addr) == 1)
            return sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, ip, &a->sin_addr) == 1)
            return sizeof *a;
    }
    fprintf(stderr, "%s: bad IP address %s\n", ladder_name, ip);
    exit(2);
}

static void net_sa_text(const struct sockaddr_storage *ss, char ip[64], unsigned *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, 64);
        *port = ntohs(a->sin6_port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, 64);
        *port = ntohs(a->sin_port);
    }
}

int net_udp(const char *ip, unsigned port)
{
    struct sockaddr_storage a;
    socklen_t al = net_sa(ip, port, &a);
    int fd = socket(a.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    if (bind(fd, (struct sockaddr *)&a, al) < 0) {
        char what[96];
        snprintf(what, sizeof what, "bind %s:%u", ip, port);
        die(what);
    }
    return fd;
}

int net_raw_esp(const char *ip)
{
    struct sockaddr_storage a;
    socklen_t al = net_sa(ip, 0, &a);
    int one = 1, fd = socket(a.ss_family, SOCK_RAW, IPPROTO_ESP);
    if (fd < 0)
        die("raw ESP socket (transport mode needs root)");
    /* IPv4: we write the IP header ourselves.  IPv6 has no portable
     * equivalent: the kernel writes it (net_send_raw strips ours). */
    if (a.ss_family == AF_INET && setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0)
        die("IP_HDRINCL");
    if (bind(fd, (struct sockaddr *)&a, al) < 0)
        die("bind raw ESP socket");
    return fd;
}

void net_send_raw(int fd, const char *dst_ip, const void *pkt, size_t n)
{
    struct sockaddr_storage a;
    socklen_t al = net_sa(dst_ip, 0, &a);
    const uint8_t *p = pkt;
    if (a.ss_family == AF_INET6) {
        /* The kernel adds the IPv6 header (next header 50, our bound
         * source): send what follows ours. */
        if (n < 40)
            return;
        p += 40;
        n -= 40;
    }
    if (sendto(fd, p, n, 0, (struct sockaddr *)&a, al) < 0)
        die("sendto (raw)");
}

void net_local(int fd, char ip[64], unsigned *port)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &l) < 0)
        die("getsockname");
    net_sa_text(&a, ip, port);
}

unsigned net_port(int fd)
{
    char ip[64];
    unsigned port;
    net_local(fd, ip, &port);
    return port;
}

static void net_sendto(int fd, const char *dst_ip, unsigned dst_port, const void *p, size_t n,
                       int record)
{
    struct sockaddr_storage a;
    socklen_t al = net_sa(dst_ip, dst_port, &a);
    char src[64];
    unsigned sport;
    net_local(fd, src, &sport);
    if (record)
        pcap_udp(src, sport, dst_ip, dst_port, p, n);
    if (sendto(fd, p, n, 0, (struct sockaddr *)&a, al) < 0)
        die("sendto");
}

void net_send(int fd, const char *dst_ip, unsigned dst_port, const void *p, size_t n)
{
    net_sendto(fd, dst_ip, dst_port, p, n, 1);
}

void net_send_quiet(int fd, const char *dst_ip, unsigned dst_port, const void *p, size_t n)
{
    net_sendto(fd, dst_ip, dst_port, p, n, 0);
}

int net_recv(const int *fds, int nfd, int timeout_ms, uint8_t *buf, size_t cap, size_t *len,
             char src_ip[64], unsigned *src_port)
{
    struct pollfd pf[8];
    int i, r;
    if (nfd > 8)
        nfd = 8;
    for (i = 0; i < nfd; i++) {
        pf[i].fd = fds[i];
        pf[i].events = POLLIN;
        pf[i].revents = 0;
    }
    r = poll(pf, (nfds_t)nfd, timeout_ms < 0 ? 0 : timeout_ms);
    if (r < 0 && errno != EINTR)
        die("poll");
    if (r <= 0)
        return -1;
    for (i = 0; i < nfd; i++) {
        if (pf[i].revents & POLLIN) {
            struct sockaddr_storage a;
            socklen_t l = sizeof a;
            ssize_t got = recvfrom(fds[i], buf, cap, 0, (struct sockaddr *)&a, &l);
            if (got < 0)
                die("recvfrom");
            *len = (size_t)got;
            net_sa_text(&a, src_ip, src_port);
            return i;
        }
    }
    return -1;
}

uint64_t net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int net_random(void *user, uint8_t *out, size_t len)
{
    static int fd = -1;
    (void)user;
    if (fd < 0)
        fd = open("/dev/urandom", O_RDONLY);
    while (len) {
        ssize_t r = fd < 0 ? -1 : read(fd, out, len);
        if (r <= 0)
            return -1;
        out += r;
        len -= (size_t)r;
    }
    return 0;
}

/* ---- pcap ------------------------------------------------------------------ */

static int pcap_fd = -1;

static void pcap_put32(uint8_t *p, uint32_t v)
{
    /* pcap files are written in the host's order; the magic tells readers. */
    memcpy(p, &v, 4);
}

void pcap_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
    if (fd >= 0) {
        uint8_t h[24];
        uint16_t v;
        pcap_put32(h, 0xa1b2c3d4u);
        v = 2;
        memcpy(h + 4, &v, 2);
        v = 4;
        memcpy(h + 6, &v, 2);
        pcap_put32(h + 8, 0);
        pcap_put32(h + 12, 0);
        pcap_put32(h + 16, 65535);
        pcap_put32(h + 20, 101); /* LINKTYPE_RAW */
        if (write(fd, h, sizeof h) != (ssize_t)sizeof h)
            die("pcap header");
    } else if (errno == EEXIST) {
        fd = open(path, O_WRONLY | O_APPEND);
    }
    if (fd < 0)
        die("pcap open");
    pcap_fd = fd;
}

void pcap_ip(const void *pkt, size_t n)
{
    uint8_t rec[16 + 65536];
    struct timespec ts;
    if (pcap_fd < 0 || n > 65535)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    pcap_put32(rec, (uint32_t)ts.tv_sec);
    pcap_put32(rec + 4, (uint32_t)(ts.tv_nsec / 1000));
    pcap_put32(rec + 8, (uint32_t)n);
    pcap_put32(rec + 12, (uint32_t)n);
    memcpy(rec + 16, pkt, n);
    /* One write per record: O_APPEND keeps the three writers' records whole. */
    if (write(pcap_fd, rec, 16 + n) != (ssize_t)(16 + n))
        die("pcap write");
}

static uint32_t ip_sum(const uint8_t *p, size_t n, uint32_t s)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t ip_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* IPv6 (RFC 8200) + UDP with the checksum over the RFC 8200 8.1 pseudo-header. */
static size_t ip6_udp_build(uint8_t *out, size_t cap, const char *src_ip, unsigned sport,
                            const char *dst_ip, unsigned dport, const void *payload, size_t n)
{
    size_t tot = 40 + 8 + n;
    uint8_t pseudo[40];
    uint16_t c;
    if (tot > cap || 8 + n > 65535)
        return 0;
    memset(out, 0, 48);
    out[0] = 0x60;
    out[4] = (uint8_t)((8 + n) >> 8);
    out[5] = (uint8_t)(8 + n);
    out[6] = 17;
    out[7] = 64;
    if (inet_pton(AF_INET6, src_ip, out + 8) != 1 || inet_pton(AF_INET6, dst_ip, out + 24) != 1)
        return 0;
    out[40] = (uint8_t)(sport >> 8);
    out[41] = (uint8_t)sport;
    out[42] = (uint8_t)(dport >> 8);
    out[43] = (uint8_t)dport;
    out[44] = (uint8_t)((8 + n) >> 8);
    out[45] = (uint8_t)(8 + n);
    memcpy(out + 48, payload, n);
    memcpy(pseudo, out + 8, 32);
    memset(pseudo + 32, 0, 8);
    pseudo[34] = out[44];
    pseudo[35] = out[45];
    pseudo[39] = 17;
    c = ip_fold(ip_sum(out + 40, 8 + n, ip_sum(pseudo, 40, 0)));
    if (c == 0)
        c = 0xffff;
    out[46] = (uint8_t)(c >> 8);
    out[47] = (uint8_t)c;
    return tot;
}

size_t ip_udp_build(uint8_t *out, size_t cap, const char *src_ip, unsigned sport,
                    const char *dst_ip, unsigned dport, const void *payload, size_t n)
{
    static uint16_t ip_id;
    if (strchr(src_ip, ':'))
        return ip6_udp_build(out, cap, src_ip, sport, dst_ip, dport, payload, n);
    size_t tot = 20 + 8 + n;
    uint8_t pseudo[12];
    uint16_t c;
    if (tot > cap || tot > 65535)
        return 0;
    memset(out, 0, 28);
    out[0] = 0x45;
    out[2] = (uint8_t)(tot >> 8);
    out[3] = (uint8_t)tot;
    ip_id++;
    out[4] = (uint8_t)(ip_id >> 8);
    out[5] = (uint8_t)ip_id;
    out[6] = 0x40; /* DF */
    out[8] = 64;
    out[9] = 17;
    if (inet_pton(AF_INET, src_ip, out + 12) != 1 || inet_pton(AF_INET, dst_ip, out + 16) != 1)
        return 0;
    c = ip_fold(ip_sum(out, 20, 0));
    out[10] = (uint8_t)(c >> 8);
    out[11] = (uint8_t)c;
    out[20] = (uint8_t)(sport >> 8);
    out[21] = (uint8_t)sport;
    out[22] = (uint8_t)(dport >> 8);
    out[23] = (uint8_t)dport;
    out[24] = (uint8_t)((8 + n) >> 8);
    out[25] = (uint8_t)(8 + n);
    memcpy(out + 28, payload, n);
    memcpy(pseudo, out + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 17;
    pseudo[10] = out[24];
    pseudo[11] = out[25];
    c = ip_fold(ip_sum(out + 20, 8 + n, ip_sum(pseudo, 12, 0)));
    if (c == 0)
        c = 0xffff;
    out[26] = (uint8_t)(c >> 8);
    out[27] = (uint8_t)c;
    return tot;
}

int ip_udp_parse(const uint8_t *pkt, size_t n, char src_ip[64], unsigned *sport,
                 char dst_ip[64], unsigned *dport, const uint8_t **payload, size_t *plen)
{
    size_t ihl, tot, ulen;
    if (n >= 48 && (pkt[0] >> 4) == 6) {
        /* IPv6 with UDP right after the fixed header (what we build). */
        size_t pl = (size_t)pkt[4] << 8 | pkt[5];
        if (pkt[6] != 17 || pl < 8 || pl > n - 40)
            return -1;
        ulen = (size_t)pkt[44] << 8 | pkt[45];
        if (ulen < 8 || ulen > pl)
            return -1;
        inet_ntop(AF_INET6, pkt + 8, src_ip, 64);
        inet_ntop(AF_INET6, pkt + 24, dst_ip, 64);
        *sport = (unsigned)pkt[40] << 8 | pkt[41];
        *dport = (unsigned)pkt[42] << 8 | pkt[43];
        *payload = pkt + 48;
        *plen = ulen - 8;
        return 0;
    }
    if (n < 28 || (pkt[0] >> 4) != 4 || pkt[9] != 17)
        return -1;
    ihl = (size_t)(pkt[0] & 15) * 4;
    tot = (size_t)pkt[2] << 8 | pkt[3];
    if (ihl < 20 || tot > n || tot < ihl + 8)
        return -1;
    ulen = (size_t)pkt[ihl + 4] << 8 | pkt[ihl + 5];
    if (ulen < 8 || ulen > tot - ihl)
        return -1;
    inet_ntop(AF_INET, pkt + 12, src_ip, 64);
    inet_ntop(AF_INET, pkt + 16, dst_ip, 64);
    *sport = (unsigned)pkt[ihl] << 8 | pkt[ihl + 1];
    *dport = (unsigned)pkt[ihl + 2] << 8 | pkt[ihl + 3];
    *payload = pkt + ihl + 8;
    *plen = ulen - 8;
    return 0;
}

void pcap_udp(const char *src_ip, unsigned sport, const char *dst_ip, unsigned dport,
              const void *payload, size_t n)
{
    static uint8_t pkt[65536];
    size_t len;
    if (pcap_fd < 0)
        return;
    len = ip_udp_build(pkt, sizeof pkt, src_ip, sport, dst_ip, dport, payload, n);
    if (len)
        pcap_ip(pkt, len);
}

/* ---- ladder and outcomes --------------------------------------------------- */

static int n_failed;

void ladder_role(const char *role)
{
    ladder_name = role;
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static void ladder_v(const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];
    int k = snprintf(line, sizeof line, "%s%-6s | ", prefix, ladder_name);
    if (k < 0)
        return;
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    /* One write(2) per line: the three programs share the terminal. */
    fflush(stdout);
    {
        size_t n = strlen(line);
        if (n + 1 < sizeof line) {
            line[n] = '\n';
            n++;
        }
        if (write(STDOUT_FILENO, line, n) < 0)
            return;
    }
}

void ladder(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ladder_v("", fmt, ap);
    va_end(ap);
}

char *sip_first_line(const void *p, size_t n, char *buf, size_t cap)
{
    const char *s = p, *e = memchr(s, '\r', n);
    sip_str l;
    l.p = s;
    l.n = e ? (size_t)(e - s) : (n < 60 ? n : 60);
    return sip_cstr(l, buf, cap);
}

int verify(int ok, const char *step, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ok)
        n_failed++;
    ladder("%s %s: %s", ok ? "VERIFIED" : "FAILED", step, msg);
    return ok;
}

int verify_failures(void)
{
    return n_failed;
}

void not_implemented(const char *step, const char *what)
{
    n_failed++;
    ladder("NOTIMPL %s: %s", step, what);
}

/* ---- hex ------------------------------------------------------------------- */

static int hex_nib(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = sip_lc(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex), i;
    if (n >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        n -= 2;
    }
    if (n % 2 || n / 2 > cap)
        return (size_t)-1;
    for (i = 0; i < n; i += 2) {
        int hi = hex_nib((unsigned char)hex[i]), lo = hex_nib((unsigned char)hex[i + 1]);
        if (hi < 0 || lo < 0)
            return (size_t)-1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

char *hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

/* ---- command line ---------------------------------------------------------- */

static int arg_is_flag(const char *const *known, const char *name)
{
    size_t n = strlen(name);
    for (; *known; known++)
        if (strncmp(*known, name, n) == 0 && (*known)[n] == '!')
            return 1;
    return 0;
}

void arg_check(int argc, char **argv, const char *const *known, const char *usage)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *const *k;
        int ok = 0;
        if (strncmp(argv[i], "--", 2) == 0) {
            for (k = known; *k; k++) {
                size_t n = strlen(*k);
                if ((*k)[n - 1] == '!')
                    n--;
                if (strlen(argv[i] + 2) == n && strncmp(argv[i] + 2, *k, n) == 0)
                    ok = 1;
            }
        }
        if (!ok || strcmp(argv[i], "--help") == 0) {
            fprintf(stderr, "%s", usage);
            exit(strcmp(argv[i], "--help") == 0 ? 0 : 2);
        }
        if (!arg_is_flag(known, argv[i] + 2)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n%s", argv[0], argv[i], usage);
                exit(2);
            }
            i++;
        }
    }
}

const char *arg_str(int argc, char **argv, const char *name, const char *def)
{
    int i;
    for (i = 1; i + 1 < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return argv[i + 1];
    return def;
}

int arg_flag(int argc, char **argv, const char *name)
{
    int i;
    for (i = 1; i < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return 1;
    return 0;
}

unsigned long long arg_num(int argc, char **argv, const char *name, unsigned long long def)
{
    const char *v = arg_str(argc, argv, name, NULL);
    char *end;
    unsigned long long x;
    if (!v)
        return def;
    errno = 0;
    x = strtoull(v, &end, 0);
    if (errno || !*v || *end || *v == '-') {
        fprintf(stderr, "--%s: not a number: %s\n", name, v);
        exit(2);
    }
    return x;
}

void arg_hex(int argc, char **argv, const char *name, const char *def, uint8_t *out, size_t n)
{
    const char *v = arg_str(argc, argv, name, def);
    if (!v || hex_decode(v, out, n) != n) {
        fprintf(stderr, "--%s: want %u bytes of hex\n", name, (unsigned)n);
        exit(2);
    }
}

/* ---- IPv6 in SIP text -------------------------------------------------------- */

const char *host_fmt(const char *ip, char buf[72])
{
    /* RFC 3261 25.1: an IPv6 address in a URI or Via is an IPv6reference. */
    snprintf(buf, 72, strchr(ip, ':') ? "[%s]" : "%s", ip);
    return buf;
}

const char *host_ip(const char *host, char buf[64])
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        snprintf(buf, 64, "%.*s", (int)(n - 2), host + 1);
        return buf;
    }
    snprintf(buf, 64, "%s", host);
    return buf;
}
