/*
 * sip_io.c -- see sip_io.h.
 */
#include "sip_io.h"
#include "dp_xfrm.h"
#include "ladder.h"
#include "net.h"
#include "pcap.h"

#include <string.h>
#include <unistd.h>

/* The ladder's arrows: UE on the left, the network on the right; "=="
 * protected, "--" unprotected. */
static const char *sio_arrow(const sio *s, int sending, int protected_)
{
    int right = (s->role == IMSSEC_SA_ROLE_UE) == sending;
    return protected_ ? (right ? "==>" : "<==") : (right ? "-->" : "<--");
}

static void sio_show(const sio *s, int sending, int protected_, const char *msg, size_t n,
                     const char *how)
{
    char first[128];
    ladder("%s %-40s %s", sio_arrow(s, sending, protected_), sip_first_line(msg, n, first, sizeof first),
           how);
}

static const char *sio_how(const sio *s, imssec_sa_ref sa, int transport, char *buf, size_t cap)
{
    size_t k;
    ex_dp_name(s->dp, sa, buf, cap);
    k = strlen(buf);
    if (transport == IMSSEC_TRANSPORT_TCP && k + 6 < cap)
        memcpy(buf + k, ", TCP", 6);
    return buf;
}

/* ---- the TCP inside the SAs ------------------------------------------------ */

static int sio_tcp_output(void *user, tl_conn *c, const uint8_t *seg, size_t n)
{
    sio *s = user;
    imssec_errinfo e;
    memset(&e, 0, sizeof e);
    return ex_dp_send(s->dp, c->out_sa, IMSSEC_TRANSPORT_TCP, seg, n, &e) == IMSSEC_OK ? 0 : -1;
}

/* The SA that carries our segments of a connection whose SYN came on
 * `in`: the one with the reverse selectors (7.1: the response, and every
 * segment, comes back on the same connection).  The lookup is by the
 * connection's ports (7.1 rules 4 and 7), as an IPsec policy would do. */
static int sio_reverse(const sio *s, imssec_sa_ref in, imssec_sa_ref *out)
{
    imssec_sa_info i;
    int rc;
    if (imssec_sa_get(s->t, in, &i) != IMSSEC_OK)
        return -1;
    if (s->role == IMSSEC_SA_ROLE_UE) /* in: P-CSCF -> UE; out: UE -> P-CSCF */
        rc = imssec_sa_find_ports(s->t, &i.dst, i.dport, i.sport, 1, out);
    else /* in: UE -> P-CSCF; out: P-CSCF -> UE */
        rc = imssec_sa_find_ports(s->t, &i.src, i.sport, i.dport, 0, out);
    imssec_wipe(&i, sizeof i);
    return rc == IMSSEC_OK ? 0 : -1;
}

static int sio_tcp_accept(void *user, tl_conn *c)
{
    sio *s = user;
    imssec_sa_info i;
    int which;
    if (imssec_sa_get(s->t, c->in_sa, &i) != IMSSEC_OK)
        return -1;
    which = i.which;
    imssec_wipe(&i, sizeof i);
    /* 7.1 TCP case: a connection is opened to the server port only: at
     * the UE port_us (SA PC_US), at the P-CSCF port_ps (SA UC_PS) */
    if (which != (s->role == IMSSEC_SA_ROLE_UE ? IMSSEC_SA_PC_US : IMSSEC_SA_UC_PS)) {
        ladder("    tcp: SYN to our client port %u refused (7.1: connections go to the server port)",
               c->lport);
        return -1;
    }
    return sio_reverse(s, c->in_sa, &c->out_sa);
}

static void sio_tcp_note(void *user, const tl_conn *c, const char *what)
{
    (void)user;
    ladder("    tcp %u->%u: %s", c->lport, c->rport, what);
}

/* ex_dp tells us an SA is gone: the connections it carried cannot send
 * anything any more. */
static void sio_sa_removed(void *user, imssec_sa_ref sa)
{
    sio *s = user;
    int i;
    for (i = 0; i < TL_MAX_CONN; i++) {
        tl_conn *c = &s->tcp.conn[i];
        if (c->state != TL_FREE && (c->out_sa == sa || c->in_sa == sa))
            tl_drop(&s->tcp, c, "gone with its SAs");
    }
}

void sio_init(sio *s, int role, imssec_sa_table *t, ex_dp *dp, const imssec_io *io)
{
    memset(s, 0, sizeof *s);
    s->role = role;
    s->t = t;
    s->dp = dp;
    tl_init(&s->tcp, s, io);
    s->tcp.output = sio_tcp_output;
    s->tcp.accept = sio_tcp_accept;
    s->tcp.note = sio_tcp_note;
    if (dp) {
        dp->removed = sio_sa_removed;
        dp->removed_user = s;
    }
}

/* ---- channels ------------------------------------------------------------------ */

static int sio_chan_new(sio *s, int fd, int kind, int core)
{
    int i;
    for (i = 0; i < SIO_CHANS; i++) {
        sio_chan *c = &s->chan[i];
        if (c->kind != SIO_CH_FREE)
            continue;
        memset(c, 0, sizeof *c);
        c->kind = kind;
        c->fd = fd;
        c->core = core;
        if (fd >= 0 && kind != SIO_CH_HOOK) /* a hook's descriptor need not be a socket */
            net_local(fd, &c->local, &c->local_port);
        return i;
    }
    ladder("too many connections: one closed");
    if (fd >= 0)
        close(fd);
    return -1;
}

int sio_add_udp(sio *s, int fd, int core)
{
    return sio_chan_new(s, fd, SIO_CH_UDP, core);
}

int sio_add_listener(sio *s, int fd)
{
    return sio_chan_new(s, fd, SIO_CH_LISTEN, 0);
}

int sio_add_stream(sio *s, int fd, const imssec_addr *peer, unsigned peer_port)
{
    int i = sio_chan_new(s, fd, SIO_CH_TCP, 0);
    if (i >= 0) {
        s->chan[i].peer = *peer;
        s->chan[i].peer_port = peer_port;
    }
    return i;
}

int sio_add_core_stream(sio *s, const sio_stream_ops *ops, void *user)
{
    int i = sio_chan_new(s, -1, SIO_CH_TCP, 1); /* no descriptor: the ops read and write */
    if (i >= 0) {
        s->chan[i].ops = ops;
        s->chan[i].ops_user = user;
    }
    return i;
}

int sio_add_hook(sio *s, int fd, sio_hook_fn fn, void *user)
{
    int i = sio_chan_new(s, fd, SIO_CH_HOOK, 0);
    if (i >= 0) {
        s->chan[i].hook = fn;
        s->chan[i].hook_user = user;
    }
    return i;
}

void sio_remove_hook(sio *s, int chan)
{
    if (chan >= 0 && chan < SIO_CHANS && s->chan[chan].kind == SIO_CH_HOOK)
        s->chan[chan].kind = SIO_CH_FREE; /* the socket is the caller's to close */
}

static void sio_chan_close(sio *s, int i, const char *why)
{
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    if (s->chan[i].ops) { /* kept: opened again on the next send */
        if (s->chan[i].fd >= 0)
            s->chan[i].ops->close(s->chan[i].ops_user, why);
        s->chan[i].fd = -1;
        s->chan[i].len = 0;
        return;
    }
    ladder("    TCP connection from %s:%u %s", addr_text(&s->chan[i].peer, 1, t),
           s->chan[i].peer_port, why);
    close(s->chan[i].fd);
    s->chan[i].kind = SIO_CH_FREE;
}

/* ---- receiving ------------------------------------------------------------------- */

static int sio_take(char *buf, size_t cap, size_t *len, const char *p, size_t n)
{
    if (n >= cap)
        return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *len = n;
    return 1;
}

/* A whole message already buffered on a stream (kernel or tcp_lite)? */
static int sio_framed(sio *s, char *buf, size_t cap, size_t *len, sio_from *from)
{
    size_t skip = 0, n = 0;
    int i, r;
    char how_[96];
    if (s->dp && s->dp->xfrm && dp_xfrm_framed(s->dp, buf, cap, len, from)) {
        sio_show(s, 0, 1, buf, *len, sio_how(s, from->sa, IMSSEC_TRANSPORT_TCP, how_, sizeof how_));
        return 1;
    }
    for (i = 0; i < SIO_CHANS; i++) {
        sio_chan *c = &s->chan[i];
        if (c->kind != SIO_CH_TCP || !c->len)
            continue;
        r = sip_frame(c->buf, c->len, &skip, &n);
        if (r < 0) {
            sio_chan_close(s, i, "sent something that is not SIP: closed");
            continue;
        }
        if (r == 0)
            continue;
        r = sio_take(buf, cap, len, c->buf + skip, n);
        memmove(c->buf, c->buf + skip + n, c->len - skip - n);
        c->len -= skip + n;
        if (!r)
            continue;
        memset(from, 0, sizeof *from);
        from->kind = c->core ? SIO_CORE : SIO_UNPROT;
        from->transport = IMSSEC_TRANSPORT_TCP;
        from->src = c->peer;
        from->sport = c->peer_port;
        from->chan = i;
        if (!c->core)
            sio_show(s, 0, 0, buf, *len, "unprotected, TCP");
        return 1;
    }
    for (i = 0; i < TL_MAX_CONN; i++) {
        tl_conn *c = &s->tcp.conn[i];
        char how[96];
        if (c->state == TL_FREE || !c->rcv_len)
            continue;
        r = sip_frame((const char *)c->rcv, c->rcv_len, &skip, &n);
        if (r < 0) {
            tl_drop(&s->tcp, c, "sent something that is not SIP: dropped");
            continue;
        }
        if (r == 0)
            continue;
        r = sio_take(buf, cap, len, (const char *)c->rcv + skip, n);
        tl_consume(&s->tcp, c, skip + n, net_now_ms());
        if (!r)
            continue;
        memset(from, 0, sizeof *from);
        from->kind = SIO_PROT;
        from->transport = IMSSEC_TRANSPORT_TCP;
        from->src = c->raddr;
        from->sport = c->rport;
        from->sa = c->in_sa;
        (void)imssec_sa_owner(s->t, c->in_sa, &from->user);
        from->flow.src = c->raddr;
        from->flow.sport = c->rport;
        from->flow.dport = c->lport;
        from->flow.transport = IMSSEC_TRANSPORT_TCP;
        from->conn = c;
        sio_show(s, 0, 1, buf, *len, sio_how(s, c->in_sa, IMSSEC_TRANSPORT_TCP, how, sizeof how));
        return 1;
    }
    return 0;
}

static void sio_drop(sio *s, int rc, const char *what)
{
    imssec_errinfo e;
    memset(&e, 0, sizeof e);
    e.what = what;
    if (s->dropped)
        s->dropped(s->user, rc, &e);
    else
        ladder("ESP packet dropped: %s (%s)", imssec_errname(rc), what);
}

/* One packet from the ESP socket: a UDP message is returned, a TCP
 * segment goes to the TCP. */
static int sio_esp_in(sio *s, int fd, char *buf, size_t cap, size_t *len, sio_from *from)
{
    static uint8_t out[65536];
    imssec_sa_esp_received rx;
    imssec_errinfo e;
    int rc;
    memset(&e, 0, sizeof e);
    rc = ex_dp_recv(s->dp, fd, out, sizeof out, &rx, &e);
    if (rc == IMSSEC_E_NOT_ESP)
        return 0; /* nothing for us, a NAT keepalive (RFC 3948 2.2) */
    if (rc != IMSSEC_OK) {
        if (s->dropped)
            s->dropped(s->user, rc, &e);
        else
            ladder("ESP packet dropped: %s (%s)", imssec_errname(rc),
                   e.what ? e.what : imssec_strerror(rc));
        return 0;
    }
    if (rx.flow.transport == IMSSEC_TRANSPORT_TCP) {
        tl_conn *c;
        tl_input(&s->tcp, &rx.flow, out + rx.payload_off, rx.payload_len, rx.sa, net_now_ms());
        c = tl_find(&s->tcp, &rx.flow.src, rx.flow.sport, rx.flow.dport);
        if (c)
            c->in_sa = rx.sa;
        return 0;
    }
    if (!sio_take(buf, cap, len, (const char *)out + rx.payload_off, rx.payload_len))
        return 0;
    memset(from, 0, sizeof *from);
    from->kind = SIO_PROT;
    from->transport = IMSSEC_TRANSPORT_UDP;
    from->src = rx.flow.src;
    from->sport = rx.flow.sport;
    from->sa = rx.sa;
    from->user = rx.user;
    from->flow = rx.flow;
    {
        char how[96];
        sio_show(s, 0, 1, buf, *len, sio_how(s, rx.sa, IMSSEC_TRANSPORT_UDP, how, sizeof how));
    }
    return 1;
}

static int sio_chan_in(sio *s, int i, char *buf, size_t cap, size_t *len, sio_from *from)
{
    sio_chan *c = &s->chan[i];
    long n;
    if (c->kind == SIO_CH_HOOK) {
        c->hook(c->hook_user, c->fd);
        return 0;
    }
    if (c->kind == SIO_CH_LISTEN) {
        imssec_addr peer;
        unsigned port;
        char t[IMSSEC_ADDR_TEXT_MAX + 1];
        int fd = net_tcp_accept(c->fd, &peer, &port), k = sio_add_stream(s, fd, &peer, port);
        if (k >= 0)
            ladder("    TCP connection from %s:%u accepted", addr_text(&peer, 1, t), port);
        return 0;
    }
    if (c->kind == SIO_CH_TCP) {
        if (c->ops) {
            n = c->ops->read(c->ops_user, c->buf + c->len, sizeof c->buf - c->len);
            if (n < 0) {
                c->fd = -1; /* closed by ops */
                c->len = 0;
            } else {
                c->len += (size_t)n;
            }
            return 0;
        }
        n = net_recvfrom(c->fd, c->buf + c->len, sizeof c->buf - c->len, NULL, NULL);
        if (n <= 0) {
            sio_chan_close(s, i, "closed by the peer");
            return 0;
        }
        c->len += (size_t)n;
        c->rx += (uint32_t)n;
        return 0;
    }
    {
        static char dgram[SIP_MAX_MSG + 1];
        imssec_addr src;
        unsigned port;
        n = net_recvfrom(c->fd, dgram, sizeof dgram, &src, &port);
        if (n <= 0 || !sio_take(buf, cap, len, dgram, (size_t)n))
            return 0;
        memset(from, 0, sizeof *from);
        from->kind = c->core ? SIO_CORE : SIO_UNPROT;
        from->transport = IMSSEC_TRANSPORT_UDP;
        from->src = src;
        from->sport = port;
        from->chan = i;
        if (!c->core) {
            char how[80], t[IMSSEC_ADDR_TEXT_MAX + 1];
            snprintf(how, sizeof how, "unprotected from %s:%u", addr_text(&src, 1, t), port);
            sio_show(s, 0, 0, buf, *len, s->role == IMSSEC_SA_ROLE_UE ? "unprotected" : how);
        }
        return 1;
    }
}

int sio_recv(sio *s, int timeout_ms, char *buf, size_t cap, size_t *len, sio_from *from)
{
    uint64_t end = net_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    if (s->back_len) {
        int r = sio_take(buf, cap, len, s->back, s->back_len);
        *from = s->back_from;
        s->back_len = 0;
        if (r)
            return 1;
    }
    for (;;) {
        int fds[SIO_CHANS + 2 + DP_XFRM_FDS], who[SIO_CHANS + 2 + DP_XFRM_FDS], nfd = 0, i, k;
        uint64_t now = net_now_ms(), next = end, t;
        if (sio_framed(s, buf, cap, len, from))
            return 1;
        for (i = 0, k = 0; i < SIO_CHANS; i++) {
            sio_chan *c = &s->chan[i];
            if (c->ops && c->fd >= 0 && c->len < sizeof c->buf && c->ops->pending(c->ops_user)) {
                (void)sio_chan_in(s, i, buf, cap, len, from); /* no fd event will come for it */
                k = 1;
            }
        }
        if (k)
            continue;
        if (now >= end)
            return 0;
        /* the timers: SA lifetimes and NAT keepalives (sa/), the TCP's */
        if (s->t && imssec_sa_tick(s->t, now, &t) == IMSSEC_OK && t < next)
            next = t;
        if (s->dp && s->dp->keepalive_due) {
            /* M.7.2, RFC 3948 4: one 0xFF byte from the encapsulation socket */
            static const uint8_t ka = 0xff;
            s->dp->keepalive_due = 0;
            if (s->dp->ka_port) {
                s->dp->keepalives++;
                ladder("    NAT keepalive to the P-CSCF (M.7.2)");
                pcap_udp(&s->dp->local, s->dp->local_port, &s->dp->ka_to, s->dp->ka_port, &ka, 1);
                net_sendto(s->dp->fd, &s->dp->ka_to, s->dp->ka_port, &ka, 1);
            }
        }
        tl_tick(&s->tcp, now);
        t = tl_next(&s->tcp);
        if (t < next)
            next = t;
        for (i = 0; i < SIO_CHANS; i++)
            if (s->chan[i].kind != SIO_CH_FREE && s->chan[i].fd >= 0) {
                fds[nfd] = s->chan[i].fd;
                who[nfd++] = i;
            }
        if (s->dp && s->dp->xfrm) {
            /* the kernel's ESP: the protected ports' sockets; its replay drops */
            for (i = dp_xfrm_fds(s->dp, fds + nfd, DP_XFRM_FDS); i > 0; i--)
                who[nfd++] = -1;
            next = next > now + 100 ? now + 100 : next;
            if (dp_xfrm_poll(s->dp) == IMSSEC_E_REPLAY)
                sio_drop(s, IMSSEC_E_REPLAY, "the kernel's anti-replay window (xfrm_stats.replay)");
        } else if (s->dp) {
            /* IPv6 transport mode: ESP arrives on the tap only (the raw
             * socket is for sending, net.h) */
            fds[nfd] = s->dp->tap >= 0 ? s->dp->tap : s->dp->fd;
            who[nfd++] = -1;
        }
        k = net_wait(fds, nfd, (int)(next > now ? next - now : 0));
        if (k < 0)
            continue;
        if (who[k] < 0 ? sio_esp_in(s, fds[k], buf, cap, len, from)
                       : sio_chan_in(s, who[k], buf, cap, len, from))
            return 1;
        if (s->wake) {
            s->wake = 0;
            return 0;
        }
    }
}

void sio_unread(sio *s, const char *buf, size_t len, const sio_from *from)
{
    if (len > sizeof s->back) {
        ladder("a message arrived while waiting and was too long to keep: dropped");
        return;
    }
    if (s->back_len)
        ladder("a message arrived while waiting and could not be kept: dropped");
    memcpy(s->back, buf, len);
    s->back_len = len;
    s->back_from = *from;
}

/* ---- sending ---------------------------------------------------------------------- */

static int sio_fail(const char *why)
{
    verify(0, "send", "%s", why);
    return -1;
}

int sio_send_protected(sio *s, imssec_sa_ref sa, int transport, int is_request, const char *msg,
                       size_t n, tl_conn **conn)
{
    char how[96];
    imssec_errinfo e;
    int rc;
    memset(&e, 0, sizeof e);
    if (conn)
        *conn = NULL;
    sio_show(s, 1, 1, msg, n, sio_how(s, sa, transport, how, sizeof how));
    if (transport == IMSSEC_TRANSPORT_TCP && s->dp && s->dp->xfrm) {
        /* kernel TCP inside the kernel's SAs (dp_xfrm.h) */
        rc = dp_xfrm_send_tcp(s->dp, sa, is_request, msg, n, conn, &e);
        return rc == IMSSEC_OK ? 0 : sio_fail(e.what ? e.what : imssec_errname(rc));
    }
    if (transport == IMSSEC_TRANSPORT_TCP) {
        imssec_sa_info i;
        tl_conn *c;
        uint64_t now = net_now_ms();
        if (imssec_sa_get(s->t, sa, &i) != IMSSEC_OK)
            return sio_fail("sa/ named an SA it does not have");
        /* the connection whose ports are the SA's: (our port, the peer's port) */
        c = tl_find(&s->tcp, &i.dst, i.dport, i.sport);
        if (!c && is_request)
            c = tl_connect(&s->tcp, &i.dst, i.dport, i.sport, sa, now);
        imssec_wipe(&i, sizeof i);
        if (!c)
            return sio_fail(is_request ? "no room for another TCP connection"
                                       : "no TCP connection for this response (7.1: it goes on "
                                         "the connection its request came on)");
        if (c->out_sa != sa)
            return sio_fail("the connection's segments go on another SA than sa/ named");
        if (conn)
            *conn = c;
        if (tl_send(&s->tcp, c, msg, n, now) != 0)
            return sio_fail("the TCP connection cannot take the message");
        return 0;
    }
    rc = ex_dp_send(s->dp, sa, transport, (const uint8_t *)msg, n, &e);
    if (rc != IMSSEC_OK) {
        verify(0, "send", "imssec_sa_esp_protect: %s (%s)", imssec_errname(rc),
               e.what ? e.what : imssec_strerror(rc));
        return -1;
    }
    return 0;
}

int sio_send_unprotected(sio *s, int chan, const imssec_addr *dst, unsigned port,
                         const char *msg, size_t n)
{
    sio_chan *c;
    if (chan < 0 || chan >= SIO_CHANS || s->chan[chan].kind == SIO_CH_FREE)
        return sio_fail("the unprotected connection is gone");
    c = &s->chan[chan];
    if (c->ops && c->fd < 0 && (c->fd = c->ops->open(c->ops_user)) < 0) {
        char first[128], why[192];
        snprintf(why, sizeof why, "no %s connection to the S-CSCF: %s not sent", c->ops->name,
                 sip_first_line(msg, n, first, sizeof first));
        return sio_fail(why);
    }
    if (c->core) {
        char first[128];
        ladder("--> %-40s to S-CSCF%s%s", sip_first_line(msg, n, first, sizeof first),
               c->ops ? ", " : "", c->ops ? c->ops->name : "");
    } else {
        const char *how = c->kind == SIO_CH_TCP ? "unprotected, TCP" : "unprotected";
        sio_show(s, 1, 0, msg, n, how);
    }
    if (c->ops) { /* it captures what goes on the wire itself */
        if (c->ops->write(c->ops_user, msg, n) != 0) {
            c->fd = -1;
            return sio_fail("the TLS connection to the S-CSCF is gone");
        }
        return 0;
    }
    if (c->kind == SIO_CH_TCP) {
        pcap_tcp(&c->local, c->local_port, &c->peer, c->peer_port, c->tx + 1, c->rx + 1, msg, n);
        c->tx += (uint32_t)n;
        if (net_write_all(c->fd, msg, n) != 0) {
            sio_chan_close(s, chan, "is gone");
            return -1;
        }
        return 0;
    }
    pcap_udp(&c->local, c->local_port, dst, port, msg, n);
    net_sendto(c->fd, dst, port, msg, n);
    return 0;
}

int sio_close_wait(sio *s, tl_conn *c, int timeout_ms)
{
    uint64_t end = net_now_ms() + (uint64_t)timeout_ms;
    char buf[SIP_MAX_MSG + 1];
    size_t len;
    sio_from from;
    if (!(s->dp && s->dp->xfrm && dp_xfrm_tcp_close(s->dp, c)))
        tl_close(&s->tcp, c, net_now_ms());
    /* TIME-WAIT: our FIN acknowledged and the peer's received (RFC 9293
     * 3.6); FREE before that means the connection was dropped */
    while (c->state != TL_FREE && c->state != TL_TIME_WAIT) {
        uint64_t now = net_now_ms();
        if (now >= end)
            return 0;
        if (sio_recv(s, (int)(end - now < 50 ? end - now : 50), buf, sizeof buf, &len, &from))
            sio_unread(s, buf, len, &from);
    }
    return c->state == TL_TIME_WAIT;
}
