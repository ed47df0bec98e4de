/*
 * dp_xfrm.c -- see dp_xfrm.h.
 */
#include "dp_xfrm.h"
#include "ladder.h"
#include "net.h"
#include "sip.h"
#include "sip_io.h"

#include <stdio.h>
#include <string.h>

static int dpx_want(int argc, char **argv, int *xfrm)
{
    const char *dp = arg_str(argc, argv, "dataplane", "esp");
    *xfrm = strcmp(dp, "xfrm") == 0;
    if (!*xfrm && strcmp(dp, "esp") != 0) {
        fprintf(stderr, "%s: --dataplane esp|xfrm\n", ladder_name());
        return -1;
    }
    return 0;
}

#ifndef EX_XFRM

/* Not Linux (or built without build/libimssec_xfrm.a): esp/ only. */
int dp_xfrm_arg(ex_dp *d, int argc, char **argv, int role)
{
    int x;
    (void)d;
    (void)role;
    if (dpx_want(argc, argv, &x) != 0)
        return -1;
    if (x) {
        fprintf(stderr, "%s: --dataplane xfrm: built without the XFRM adapter (Linux only)\n",
                ladder_name());
        return -1;
    }
    return 0;
}
int dp_xfrm_send(ex_dp *d, imssec_sa_ref sa, int transport, const uint8_t *payload, size_t n,
                 imssec_errinfo *err)
{
    (void)d, (void)sa, (void)transport, (void)payload, (void)n, (void)err;
    return IMSSEC_E_UNSUPPORTED;
}
int dp_xfrm_recv(ex_dp *d, int fd, uint8_t *out, size_t cap, imssec_sa_esp_received *rx,
                 imssec_errinfo *err)
{
    (void)d, (void)fd, (void)out, (void)cap, (void)rx, (void)err;
    return IMSSEC_E_NOT_ESP;
}
void dp_xfrm_replay(ex_dp *d)
{
    (void)d;
}
int dp_xfrm_count(const ex_dp *d)
{
    (void)d;
    return -1;
}
int dp_xfrm_fds(const ex_dp *d, int *fds, int cap)
{
    (void)d, (void)fds, (void)cap;
    return 0;
}
int dp_xfrm_poll(ex_dp *d)
{
    (void)d;
    return IMSSEC_OK;
}
void dp_xfrm_settle(ex_dp *d)
{
    (void)d;
}
void dp_xfrm_close(ex_dp *d)
{
    (void)d;
}
int dp_xfrm_framed(ex_dp *d, char *buf, size_t cap, size_t *len, struct sio_from *from)
{
    (void)d, (void)buf, (void)cap, (void)len, (void)from;
    return 0;
}
int dp_xfrm_send_tcp(ex_dp *d, imssec_sa_ref sa, int is_request, const char *msg, size_t n,
                     tl_conn **conn, imssec_errinfo *err)
{
    (void)d, (void)sa, (void)is_request, (void)msg, (void)n, (void)conn, (void)err;
    return IMSSEC_E_UNSUPPORTED;
}
int dp_xfrm_tcp_close(ex_dp *d, tl_conn *c)
{
    (void)d, (void)c;
    return 0;
}

#else /* EX_XFRM */

#include "../xfrm/imssec_xfrm.h"

#include <arpa/inet.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define DPX_LIST 64 /* the P-CSCF table: 4 users x 12 SAs, and room */

typedef struct dpx_sock {
    int fd, refs;
    int lfd;                 /* our server port (UE port_us, P-CSCF port_ps): TCP listener; else -1 */
    imssec_addr ip;
    unsigned port;
} dpx_sock;

/* A kernel TCP connection inside a pair of SAs (7.1 TCP case).  tl_conn
 * serves as its descriptor (the programs keep and compare these: the
 * request's connection, the one to close); only state, raddr, ports,
 * in_sa / out_sa and rcv / rcv_len are used. */
typedef struct dpx_conn {
    tl_conn c;
    int fd;
} dpx_conn;

struct dp_xfrm {
    imssec_xfrm x;
    imssec_sa_callbacks k; /* the adapter's callbacks */
    ex_dp *d;
    int role;
    dpx_sock sock[DP_XFRM_SOCKS];
    dpx_conn conn[DP_XFRM_CONNS];
    int dirty, added, removed, updated, had_sas;
    const char *why;
    uint32_t replay_seen;
    uint64_t in_packets;
    uint64_t next_poll;
    imssec_xfrm_sa sas[DPX_LIST];
    imssec_xfrm_policy pols[2 * DPX_LIST];
};

/* One per process: the UE and the P-CSCF each have one data plane. */
static struct dp_xfrm X;

/* ---- the protected ports' sockets ---------------------------------------------- */

static dpx_sock *dpx_sock_find(const imssec_addr *ip, unsigned port)
{
    int i;
    for (i = 0; i < DP_XFRM_SOCKS; i++)
        if (X.sock[i].refs && X.sock[i].port == port && imssec_addr_equal(&X.sock[i].ip, ip))
            return &X.sock[i];
    return NULL;
}

static int dpx_sock_ref(const imssec_addr *ip, unsigned port, int server)
{
    dpx_sock *s = dpx_sock_find(ip, port);
    int i;
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    if (s) {
        s->refs++;
        return 0;
    }
    for (i = 0; i < DP_XFRM_SOCKS && !s; i++)
        if (!X.sock[i].refs)
            s = &X.sock[i];
    if (!s)
        return -1;
    s->fd = net_udp(ip, port); /* exits if the port is taken */
    s->lfd = server ? net_tcp_listen(ip, port) : -1;
    s->refs = 1;
    s->ip = *ip;
    s->port = port;
    ladder("    xfrm: UDP socket%s on protected port %s:%u opened (the kernel applies ESP by "
           "policy)", server ? " and TCP listener" : "", addr_text(ip, 1, t), port);
    return 0;
}

static void dpx_sock_unref(const imssec_addr *ip, unsigned port)
{
    dpx_sock *s = dpx_sock_find(ip, port);
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    if (!s || --s->refs > 0)
        return;
    close(s->fd);
    if (s->lfd >= 0)
        close(s->lfd);
    ladder("    xfrm: UDP socket%s on protected port %s:%u closed (no SA uses it)",
           s->lfd >= 0 ? " and TCP listener" : "", addr_text(&s->ip, 1, t), s->port);
    memset(s, 0, sizeof *s);
}

/* Our end of an SA: the destination of an inbound one, the source of an
 * outbound one. */
static void dpx_local(const imssec_sa_info *sa, const imssec_addr **ip, unsigned *port)
{
    *ip = sa->inbound ? &sa->dst : &sa->src;
    *port = sa->inbound ? sa->dport : sa->sport;
}

/* Whether our end of sa is our server port: the UE's port_us (PC_US in,
 * US_PC out), the P-CSCF's port_ps (UC_PS in, PS_UC out) (7.1). */
static int dpx_server(const imssec_sa_info *sa)
{
    if (X.role == IMSSEC_SA_ROLE_UE)
        return sa->which == IMSSEC_SA_PC_US || sa->which == IMSSEC_SA_US_PC;
    return sa->which == IMSSEC_SA_UC_PS || sa->which == IMSSEC_SA_PS_UC;
}

static void dpx_conn_drop(dpx_conn *k, const char *why)
{
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    if (k->c.state != TL_TIME_WAIT) /* else closed already */
        ladder("    xfrm tcp %u->%s:%u: %s", k->c.lport, addr_text(&k->c.raddr, 1, t), k->c.rport,
               why);
    if (k->fd >= 0)
        close(k->fd);
    memset(k, 0, sizeof *k);
    k->fd = -1;
}

/* ---- the adapter's callbacks, with the sockets and the change count ----------- */

static int dpx_install(void *user, const imssec_sa_info *sa, uint64_t *handle, imssec_errinfo *err)
{
    const imssec_addr *ip;
    unsigned port;
    int rc;
    (void)user;
    dpx_local(sa, &ip, &port);
    rc = X.k.install(X.k.user, sa, handle, err);
    if (rc != 0)
        return rc;
    X.dirty = 1;
    X.added++;
    X.had_sas = 1;
    if (dpx_sock_ref(ip, port, dpx_server(sa)) != 0) {
        err->what = "the xfrm data plane has no room for another protected port";
        (void)X.k.remove(X.k.user, sa, err);
        X.added--;
        return -1;
    }
    return 0;
}

static int dpx_update(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    (void)user;
    X.dirty = 1;
    X.updated++;
    return X.k.update(X.k.user, sa, err);
}

static int dpx_remove(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    const imssec_addr *ip;
    unsigned port;
    int rc, k;
    (void)user;
    dpx_local(sa, &ip, &port);
    rc = X.k.remove(X.k.user, sa, err);
    for (k = 0; k < DP_XFRM_CONNS; k++)
        if (X.conn[k].c.state != TL_FREE &&
            (X.conn[k].c.in_sa == sa->ref || X.conn[k].c.out_sa == sa->ref))
            dpx_conn_drop(&X.conn[k], "gone with its SAs");
    dpx_sock_unref(ip, port);
    X.dirty = 1;
    X.removed++;
    X.why = X.d->why;
    return rc;
}

static int dpx_keepalive(void *user, imssec_str impi)
{
    (void)user;
    return X.k.keepalive ? X.k.keepalive(X.k.user, impi) : 0;
}

int dp_xfrm_arg(ex_dp *d, int argc, char **argv, int role)
{
    imssec_errinfo e;
    size_t ns = 0, np = 0;
    int want, rc;
    if (dpx_want(argc, argv, &want) != 0)
        return -1;
    if (!want)
        return 0;
    if (d->mode != IMSSEC_MODE_TRANS) {
        fprintf(stderr, "%s: --dataplane xfrm needs --mode transport (the examples' kernel data "
                        "plane is transport mode)\n", ladder_name());
        return -1;
    }
    memset(&X, 0, sizeof X);
    memset(&e, 0, sizeof e);
    for (rc = 0; rc < DP_XFRM_CONNS; rc++)
        X.conn[rc].fd = -1;
    imssec_xfrm_init(&X.x);
    rc = imssec_xfrm_open(&X.x, &e);
    if (rc == IMSSEC_OK)
        rc = imssec_xfrm_flush_stale(&X.x, &ns, &np, &e);
    if (rc != IMSSEC_OK) {
        fprintf(stderr, "%s: --dataplane xfrm: %s (errno %d; needs CAP_NET_ADMIN and a kernel "
                        "with XFRM)\n", ladder_name(), err_text(&e, rc), e.sys_errno);
        imssec_xfrm_close(&X.x);
        return -1;
    }
    X.d = d;
    X.role = role;
    imssec_xfrm_callbacks(&X.k, &X.x);
    d->lib.user = &X;
    d->lib.install = dpx_install;
    d->lib.update = dpx_update;
    d->lib.remove = dpx_remove;
    d->lib.keepalive = dpx_keepalive;
    d->xfrm = &X;
    ladder("data plane: the kernel's ESP through the XFRM adapter (tag 0x%08x; %u SAs and %u "
           "policies of an earlier run removed), SIP over UDP and TCP on the protected ports",
           (unsigned)X.x.tag, (unsigned)ns, (unsigned)np);
    return 0;
}

/* ---- the read-back check -------------------------------------------------------- */

/* The sa/ SA a kernel SA stands for: found by its selectors (the 7.1
 * lookup by UE address and ports, both directions) and then compared
 * field by field (SPI, inner = outer addresses in transport mode, ports,
 * the tag, the mode).  0 when none matches. */
static imssec_sa_ref dpx_match(const imssec_xfrm_sa *k, int *inbound)
{
    imssec_sa_ref ref = 0;
    imssec_sa_info i;
    int up, ok;
    for (up = 0; up < 2; up++) {
        /* uplink: UE -> P-CSCF, the selector's source is the UE */
        const imssec_addr *ue = up ? &k->sel_src : &k->sel_dst;
        uint16_t ue_port = up ? k->sel_sport : k->sel_dport;
        uint16_t pc_port = up ? k->sel_dport : k->sel_sport;
        if (imssec_sa_find_ports(X.d->t, ue, ue_port, pc_port, up, &ref) == IMSSEC_OK)
            break;
        ref = 0;
    }
    if (!ref || imssec_sa_get(X.d->t, ref, &i) != IMSSEC_OK)
        return 0;
    ok = i.spi == k->spi && k->reqid == X.x.tag && k->mode == IMSSEC_MODE_TRANS &&
         imssec_addr_equal(&i.src, &k->sel_src) && imssec_addr_equal(&i.dst, &k->sel_dst) &&
         imssec_addr_equal(&i.src, &k->src) && imssec_addr_equal(&i.dst, &k->dst) &&
         i.sport == k->sel_sport && i.dport == k->sel_dport;
    *inbound = i.inbound;
    imssec_wipe(&i, sizeof i);
    return ok ? ref : 0;
}

/* Read our SAs and policies back; 0 or -1 (a FAILED line). */
static int dpx_read(size_t *ns, size_t *np)
{
    imssec_errinfo e;
    int rc;
    memset(&e, 0, sizeof e);
    rc = imssec_xfrm_list(&X.x, X.sas, DPX_LIST, ns, &e);
    if (rc == IMSSEC_OK)
        rc = imssec_xfrm_list_policies(&X.x, X.pols, 2 * DPX_LIST, np, &e);
    if (rc != IMSSEC_OK) {
        verify(0, "xfrm-read", "reading the kernel's SAs back: %s (errno %d)", err_text(&e, rc),
               e.sys_errno);
        return -1;
    }
    return 0;
}

/* The kernel's replay drops on our SAs; and the most ESP packets our
 * inbound SAs have counted at one time (xfrm_lifetime_cur), for the proof
 * at exit that the kernel did the ESP. */
static uint32_t dpx_replays(size_t ns)
{
    uint32_t sum = 0;
    uint64_t in = 0;
    size_t i;
    imssec_sa_ref ref;
    for (i = 0; i < ns; i++) {
        sum += X.sas[i].replay;
        if (imssec_sa_find_spi(X.d->t, X.sas[i].spi, &ref) == IMSSEC_OK)
            in += X.sas[i].packets; /* an inbound SA (find_spi knows only those) */
    }
    if (in > X.in_packets)
        X.in_packets = in;
    return sum;
}

/* The read-back: print the kernel's SAs of ours and, with the table
 * (table = 1), compare them with it: VERIFIED / FAILED xfrm-match.  After
 * imssec_sa_table_wipe() the table must not be used (table = 0): listed
 * only. */
static void dpx_check(const char *when, int table)
{
    imssec_sa_ref refs[DPX_LIST];
    size_t ns = 0, np = 0, nt, i, j, upd = 0, orph = 0, pol_ok = 0;
    imssec_errinfo e;
    int matched = 1, rc;
    char a[IMSSEC_ADDR_TEXT_MAX + 1], b[IMSSEC_ADDR_TEXT_MAX + 1];
    X.dirty = 0;
    if (dpx_read(&ns, &np) != 0)
        return;
    if (!table) {
        ladder("    kernel (ip xfrm state / policy, reqid 0x%08x), read back %s: %u SAs, %u "
               "policies", (unsigned)X.x.tag, when, (unsigned)ns, (unsigned)np);
        for (i = 0; i < ns; i++)
            ladder("      spi=0x%08x %s:%u -> %s:%u", (unsigned)X.sas[i].spi,
                   addr_text(&X.sas[i].sel_src, 1, a), X.sas[i].sel_sport,
                   addr_text(&X.sas[i].sel_dst, 1, b), X.sas[i].sel_dport);
        return;
    }
    memset(&e, 0, sizeof e);
    /* sa/ lengthens lifetimes without a callback: the adapter follows */
    rc = imssec_xfrm_refresh(&X.x, X.d->t, &upd, &orph, &e);
    if (rc != IMSSEC_OK)
        verify(0, "xfrm-refresh", "imssec_xfrm_refresh: %s", err_text(&e, rc));
    nt = imssec_sa_count(X.d->t, UINT32_MAX);
    ladder("    kernel (ip xfrm state / policy, reqid 0x%08x), read back %s: %u SAs, %u policies",
           (unsigned)X.x.tag, when, (unsigned)ns, (unsigned)np);
    for (i = 0; i < ns; i++) {
        const imssec_xfrm_sa *k = &X.sas[i];
        int in = 0;
        refs[i] = dpx_match(k, &in);
        for (j = 0; j < i && refs[i]; j++)
            if (refs[j] == refs[i])
                refs[i] = 0; /* two kernel SAs for one of sa/'s */
        matched &= refs[i] != 0;
        ladder("      %s spi=0x%08x %s:%u -> %s:%u %s%s%s %llu pkts  %s",
               refs[i] ? (in ? "in " : "out") : "?  ", (unsigned)k->spi,
               addr_text(&k->sel_src, 1, a), k->sel_sport, addr_text(&k->sel_dst, 1, b),
               k->sel_dport, k->auth, k->auth[0] ? "/" : "", k->enc,
               (unsigned long long)k->packets, refs[i] ? "= sa/'s" : "NOT IN sa/'s TABLE");
    }
    /* two policies (UDP, TCP) per SA, each naming one of these SAs */
    for (i = 0; i < np; i++)
        for (j = 0; j < ns; j++)
            if (X.pols[i].tmpl_spi == X.sas[j].spi &&
                imssec_addr_equal(&X.pols[i].tmpl_dst, &X.sas[j].dst) &&
                X.pols[i].sport == X.sas[j].sel_sport && X.pols[i].dport == X.sas[j].sel_dport) {
                pol_ok++;
                break;
            }
    verify(matched && ns == nt && np == 2 * ns && pol_ok == np && orph == 0, "xfrm-match",
           "%s: the kernel's %u SAs of ours = sa/'s %u (SPI, addresses, ports), %u policies "
           "naming them (UDP+TCP each), %u orphans",
           when, (unsigned)ns, (unsigned)nt, (unsigned)np, (unsigned)orph);
    X.replay_seen = dpx_replays(ns);
}

static void dpx_check_changes(int table)
{
    char when[200], plus[24] = "";
    if (X.added)
        snprintf(plus, sizeof plus, "SA+ x%d ", X.added);
    if (X.removed)
        snprintf(when, sizeof when, "after %sSA- x%d%s (%s)", plus, X.removed,
                 X.updated ? " SA~" : "", X.why ? X.why : "deleted by sa/");
    else
        snprintf(when, sizeof when, "after SA+ x%d%s (a new set)", X.added,
                 X.updated ? " SA~" : "");
    X.added = X.removed = X.updated = 0;
    dpx_check(when, table);
}

int dp_xfrm_poll(ex_dp *d)
{
    uint64_t now = net_now_ms();
    uint32_t before = X.replay_seen;
    size_t ns = 0, np = 0;
    (void)d;
    if (X.dirty)
        dpx_check_changes(1);
    else if (now >= X.next_poll && dpx_read(&ns, &np) == 0)
        X.replay_seen = dpx_replays(ns);
    else
        return IMSSEC_OK;
    X.next_poll = now + 100;
    return X.replay_seen > before ? IMSSEC_E_REPLAY : IMSSEC_OK;
}

void dp_xfrm_settle(ex_dp *d)
{
    if (d->xfrm && X.dirty)
        dpx_check_changes(1);
}

void dp_xfrm_close(ex_dp *d)
{
    size_t ns = 0, np = 0;
    int i;
    if (!d->xfrm)
        return;
    if (X.dirty) /* the table's wipe removed SAs: the table is gone, list only */
        dpx_check_changes(0);
    if (dpx_read(&ns, &np) == 0)
        verify(ns == 0 && np == 0, "xfrm-none-left",
               "%s: no SA and no policy with reqid 0x%08x left in the kernel (read back: %u SAs, "
               "%u policies)",
               X.had_sas ? "at exit (every SA deleted)" : "at exit (no SA was made)",
               (unsigned)X.x.tag, (unsigned)ns, (unsigned)np);
    if (X.in_packets)
        verify(1, "xfrm-esp",
               "the kernel's inbound SAs of ours counted up to %llu ESP packets at once "
               "(xfrm_lifetime_cur): the kernel did the ESP",
               (unsigned long long)X.in_packets);
    else if (X.had_sas)
        ladder("    (no ESP packet arrived on the kernel's SAs of ours)");
    for (i = 0; i < DP_XFRM_CONNS; i++)
        if (X.conn[i].c.state != TL_FREE && X.conn[i].fd >= 0)
            close(X.conn[i].fd);
    for (i = 0; i < DP_XFRM_SOCKS; i++)
        if (X.sock[i].refs) {
            close(X.sock[i].fd);
            if (X.sock[i].lfd >= 0)
                close(X.sock[i].lfd);
        }
    imssec_xfrm_close(&X.x);
    d->xfrm = NULL;
}

/* ---- SIP over the protected ports ------------------------------------------------ */

/* The replay check (d->remember): the kernel makes the ESP packet, so the
 * program watches it leave (AF_PACKET, PACKET_OUTGOING) and keeps a copy:
 * ESP (IP protocol / next header 50) to the SA's address with its SPI. */
static uint32_t dpx_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int dpx_tap_open(void)
{
    /* ETH_P_ALL: a socket of one protocol sees only packets that arrive */
    return socket(AF_PACKET, SOCK_DGRAM, htons(0x0003));
}

static void dpx_tap_catch(ex_dp *d, int fd, const imssec_sa_info *i)
{
    uint64_t end = net_now_ms() + 500;
    uint8_t buf[sizeof d->last];
    while (net_now_ms() < end) {
        struct pollfd pf;
        struct sockaddr_ll from;
        socklen_t l = sizeof from;
        ssize_t got;
        size_t off;
        int v6 = i->dst.len == 16;
        pf.fd = fd;
        pf.events = POLLIN;
        if (poll(&pf, 1, 100) <= 0)
            continue;
        got = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &l);
        if (got < 48 || from.sll_pkttype != PACKET_OUTGOING ||
            from.sll_protocol != htons(v6 ? 0x86dd : 0x0800))
            continue;
        off = v6 ? 40 : (size_t)(buf[0] & 15) * 4;
        if ((buf[0] >> 4) != (v6 ? 6 : 4) || buf[v6 ? 6 : 9] != 50 ||
            memcmp(buf + (v6 ? 24 : 16), i->dst.b, i->dst.len) != 0 || (size_t)got < off + 8 ||
            dpx_be32(buf + off) != i->spi)
            continue;
        memcpy(d->last, buf, (size_t)got);
        d->last_len = (size_t)got;
        d->last_to = i->dst;
        ladder("    xfrm: the kernel's ESP packet of this message kept (spi=0x%08x seq=%u, %u "
               "bytes, seen leaving on AF_PACKET) for the replay check",
               (unsigned)i->spi, (unsigned)dpx_be32(buf + off + 4), (unsigned)got);
        return;
    }
    ladder("    xfrm: the kernel's ESP packet of this message was not seen leaving: no replay");
}

int dp_xfrm_send(ex_dp *d, imssec_sa_ref sa, int transport, const uint8_t *payload, size_t n,
                 imssec_errinfo *err)
{
    imssec_sa_info i;
    dpx_sock *s;
    int tap = -1;
    if (X.dirty)
        dpx_check_changes(1); /* the SAs sa/ just made, before the first message on them */
    if (transport != IMSSEC_TRANSPORT_UDP) {
        err->what = "--dataplane xfrm: SIP over TCP goes on kernel connections (dp_xfrm_send_tcp)";
        return IMSSEC_E_UNSUPPORTED;
    }
    if (imssec_sa_get(d->t, sa, &i) != IMSSEC_OK || i.inbound) {
        err->what = "not an outbound SA of the table";
        return IMSSEC_E_NOT_FOUND;
    }
    s = dpx_sock_find(&i.src, i.sport);
    if (s && d->remember) {
        d->remember = 0;
        tap = dpx_tap_open();
    }
    if (s)
        net_sendto(s->fd, &i.dst, i.dport, payload, n); /* the kernel's policy: ESP on sa */
    if (tap >= 0) {
        dpx_tap_catch(d, tap, &i);
        close(tap);
    }
    (void)imssec_sa_note_sent(d->t, sa, net_now_ms());
    imssec_wipe(&i, sizeof i);
    if (!s) {
        err->what = "no socket on the SA's protected port";
        return IMSSEC_E_NOT_FOUND;
    }
    return IMSSEC_OK;
}

/* ---- SIP over kernel TCP inside the SAs (7.1 TCP case) ------------------------ */

static dpx_conn *dpx_conn_new(void)
{
    int i;
    for (i = 0; i < DP_XFRM_CONNS; i++)
        if (X.conn[i].c.state == TL_FREE)
            return &X.conn[i];
    return NULL;
}

/* A connection to our server port: its SAs by its ports (7.1 rules 4 and
 * 7; the kernel's inbound TCP policy let the SYN in only over that SA). */
static void dpx_accept(ex_dp *d, dpx_sock *s)
{
    imssec_addr peer;
    unsigned port;
    imssec_sa_ref in = 0, out = 0;
    dpx_conn *k;
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    int fd = net_tcp_accept(s->lfd, &peer, &port), rc;
    if (X.role == IMSSEC_SA_ROLE_UE)
        rc = imssec_sa_find_ports(d->t, &s->ip, (uint16_t)s->port, (uint16_t)port, 0, &in);
    else
        rc = imssec_sa_find_ports(d->t, &peer, (uint16_t)port, (uint16_t)s->port, 1, &in);
    if (rc == IMSSEC_OK)
        rc = imssec_sa_reverse(d->t, in, &out);
    k = rc == IMSSEC_OK ? dpx_conn_new() : NULL;
    if (!k) {
        ladder("    xfrm tcp: connection from %s:%u to %u refused (%s)", addr_text(&peer, 1, t), port,
               s->port, rc == IMSSEC_OK ? "no room" : "no SA has its ports");
        close(fd);
        return;
    }
    memset(k, 0, sizeof *k);
    k->fd = fd;
    k->c.state = TL_ESTABLISHED;
    k->c.raddr = peer;
    k->c.rport = (uint16_t)port;
    k->c.lport = (uint16_t)s->port;
    k->c.in_sa = in;
    k->c.out_sa = out;
    ladder("    xfrm tcp %u<-%s:%u: accepted (kernel TCP, ESP by policy)", k->c.lport,
           addr_text(&peer, 1, t), k->c.rport);
}

static void dpx_stream_in(ex_dp *d, int fd)
{
    int i;
    for (i = 0; i < DP_XFRM_SOCKS; i++)
        if (X.sock[i].refs && X.sock[i].lfd == fd && fd >= 0) {
            dpx_accept(d, &X.sock[i]);
            return;
        }
    for (i = 0; i < DP_XFRM_CONNS; i++) {
        dpx_conn *k = &X.conn[i];
        long n;
        if (k->c.state == TL_FREE || k->fd != fd)
            continue;
        n = net_recvfrom(fd, k->c.rcv + k->c.rcv_len, sizeof k->c.rcv - k->c.rcv_len, NULL, NULL);
        if (n > 0) {
            k->c.rcv_len += (size_t)n;
            return;
        }
        if (k->c.state == TL_FIN_WAIT_1) {
            /* our FIN went first, the peer's came back: closed both ways */
            char t[IMSSEC_ADDR_TEXT_MAX + 1];
            close(k->fd);
            k->fd = -1;
            k->c.state = TL_TIME_WAIT;
            ladder("    xfrm tcp %u->%s:%u: closed both ways (FIN, FIN)", k->c.lport,
                   addr_text(&k->c.raddr, 1, t), k->c.rport);
        } else {
            dpx_conn_drop(k, "closed by the peer (FIN): closed");
        }
        return;
    }
}

int dp_xfrm_framed(ex_dp *d, char *buf, size_t cap, size_t *len, struct sio_from *from)
{
    int i;
    for (i = 0; i < DP_XFRM_CONNS; i++) {
        dpx_conn *k = &X.conn[i];
        size_t skip = 0, n = 0;
        int r;
        if (k->c.state == TL_FREE || !k->c.rcv_len)
            continue;
        r = sip_frame((const char *)k->c.rcv, k->c.rcv_len, &skip, &n);
        if (r < 0) {
            dpx_conn_drop(k, "sent something that is not SIP: closed");
            continue;
        }
        if (r == 0)
            continue;
        r = n < cap;
        if (r) {
            memcpy(buf, k->c.rcv + skip, n);
            buf[n] = '\0';
            *len = n;
        }
        memmove(k->c.rcv, k->c.rcv + skip + n, k->c.rcv_len - skip - n);
        k->c.rcv_len -= skip + n;
        if (!r)
            continue;
        memset(from, 0, sizeof *from);
        from->kind = SIO_PROT;
        from->transport = IMSSEC_TRANSPORT_TCP;
        from->src = k->c.raddr;
        from->sport = k->c.rport;
        from->sa = k->c.in_sa;
        (void)imssec_sa_owner(d->t, k->c.in_sa, &from->user);
        from->flow.src = k->c.raddr;
        from->flow.sport = k->c.rport;
        from->flow.dport = k->c.lport;
        from->flow.transport = IMSSEC_TRANSPORT_TCP;
        from->conn = &k->c;
        return 1;
    }
    return 0;
}

int dp_xfrm_send_tcp(ex_dp *d, imssec_sa_ref sa, int is_request, const char *msg, size_t n,
                     tl_conn **conn, imssec_errinfo *err)
{
    imssec_sa_info i;
    dpx_conn *k = NULL;
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    int j, tap = -1;
    if (X.dirty)
        dpx_check_changes(1);
    if (imssec_sa_get(d->t, sa, &i) != IMSSEC_OK || i.inbound) {
        err->what = "not an outbound SA of the table";
        return IMSSEC_E_NOT_FOUND;
    }
    /* the connection whose ports are the SA's: (our port, the peer's port) */
    for (j = 0; j < DP_XFRM_CONNS && !k; j++)
        if (X.conn[j].c.state == TL_ESTABLISHED && X.conn[j].c.lport == i.sport &&
            X.conn[j].c.rport == i.dport && imssec_addr_equal(&X.conn[j].c.raddr, &i.dst))
            k = &X.conn[j];
    if (!k && is_request && (k = dpx_conn_new()) != NULL) {
        /* 7.1: from our client port to the peer's server port; kernel TCP,
         * the handshake already inside the SAs (the TCP policies) */
        memset(k, 0, sizeof *k);
        k->fd = net_tcp_connect(&i.src, i.sport, &i.dst, i.dport);
        k->c.state = TL_ESTABLISHED;
        k->c.raddr = i.dst;
        k->c.rport = i.dport;
        k->c.lport = i.sport;
        k->c.out_sa = sa;
        (void)imssec_sa_reverse(d->t, sa, &k->c.in_sa);
        ladder("    xfrm tcp %u->%s:%u: connected (kernel TCP, ESP by policy)", k->c.lport,
               addr_text(&i.dst, 1, t), k->c.rport);
    }
    imssec_wipe(&i, sizeof i);
    if (!k) {
        err->what = is_request ? "no room for another TCP connection"
                               : "no TCP connection for this response (7.1: it goes on the "
                                 "connection its request came on)";
        return IMSSEC_E_NOT_FOUND;
    }
    if (k->c.out_sa != sa) {
        err->what = "the connection's segments go on another SA than sa/ named";
        return IMSSEC_E_STATE;
    }
    if (conn)
        *conn = &k->c;
    if (d->remember && imssec_sa_get(d->t, sa, &i) == IMSSEC_OK) {
        d->remember = 0;
        tap = dpx_tap_open();
    }
    if (net_write_all(k->fd, msg, n) != 0) {
        if (tap >= 0)
            close(tap);
        dpx_conn_drop(k, "is gone");
        err->what = "the TCP connection is gone";
        return IMSSEC_E_STATE;
    }
    if (tap >= 0) {
        dpx_tap_catch(d, tap, &i);
        close(tap);
        imssec_wipe(&i, sizeof i);
    }
    (void)imssec_sa_note_sent(d->t, sa, net_now_ms());
    return IMSSEC_OK;
}

int dp_xfrm_tcp_close(ex_dp *d, tl_conn *c)
{
    int i;
    (void)d;
    for (i = 0; i < DP_XFRM_CONNS; i++)
        if (&X.conn[i].c == c && c->state == TL_ESTABLISHED) {
            shutdown(X.conn[i].fd, SHUT_WR); /* our FIN; the peer's comes back */
            c->state = TL_FIN_WAIT_1;
            return 1;
        }
    return 0;
}

int dp_xfrm_recv(ex_dp *d, int fd, uint8_t *out, size_t cap, imssec_sa_esp_received *rx,
                 imssec_errinfo *err)
{
    imssec_addr src;
    imssec_sa_info i;
    unsigned sport = 0;
    dpx_sock *s = NULL;
    imssec_sa_ref ref = 0;
    long n;
    int k, ok;
    for (k = 0; k < DP_XFRM_SOCKS && !s; k++)
        if (X.sock[k].refs && X.sock[k].fd == fd)
            s = &X.sock[k];
    if (!s) {
        dpx_stream_in(d, fd); /* TCP: into the connection's buffer (dp_xfrm_framed) */
        return IMSSEC_E_NOT_ESP;
    }
    n = net_recvfrom(fd, out, cap, &src, &sport);
    if (n <= 0)
        return IMSSEC_E_NOT_ESP;
    /* the SA by its selectors (7.1 rules 4 and 7): the kernel delivered
     * it to this port from src:sport only if it came over that SA */
    if (X.role == IMSSEC_SA_ROLE_UE)
        k = imssec_sa_find_ports(d->t, &s->ip, (uint16_t)s->port, (uint16_t)sport, 0, &ref);
    else
        k = imssec_sa_find_ports(d->t, &src, (uint16_t)sport, (uint16_t)s->port, 1, &ref);
    if (k != IMSSEC_OK || imssec_sa_get(d->t, ref, &i) != IMSSEC_OK) {
        err->what = "a datagram on a protected port from a port of no SA (imssec_sa_find_ports)";
        return IMSSEC_E_NO_SA;
    }
    ok = i.inbound && imssec_addr_equal(&i.src, &src) && i.sport == sport &&
         imssec_addr_equal(&i.dst, &s->ip) && i.dport == s->port;
    imssec_wipe(&i, sizeof i);
    if (!ok) {
        err->what = "the SA found by the ports is not this datagram's";
        return IMSSEC_E_NO_SA;
    }
    memset(rx, 0, sizeof *rx);
    rx->sa = ref;
    (void)imssec_sa_owner(d->t, ref, &rx->user);
    rx->flow.src = src;
    rx->flow.dst = s->ip;
    rx->flow.sport = (uint16_t)sport;
    rx->flow.dport = (uint16_t)s->port;
    rx->flow.transport = IMSSEC_TRANSPORT_UDP;
    rx->payload_off = 0;
    rx->payload_len = (size_t)n;
    return IMSSEC_OK;
}

void dp_xfrm_replay(ex_dp *d)
{
    /* the kernel's packet, byte for byte, on the raw ESP socket (d->fd,
     * transport mode): no policy of ours matches IP protocol 50 */
    if (d->last_len)
        net_send_raw(d->fd, &d->last_to, d->last, d->last_len);
    else
        ladder("    (kernel ESP: no copy of the kernel's packet was kept: no replay)");
}

int dp_xfrm_count(const ex_dp *d)
{
    size_t ns = 0, np = 0;
    (void)d;
    if (X.dirty)
        dpx_check_changes(1); /* the programs count after an event: the read-back first */
    return dpx_read(&ns, &np) == 0 ? (int)ns : -1;
}

int dp_xfrm_fds(const ex_dp *d, int *fds, int cap)
{
    int i, n = 0;
    (void)d;
    for (i = 0; i < DP_XFRM_SOCKS; i++)
        if (X.sock[i].refs) {
            if (n < cap)
                fds[n++] = X.sock[i].fd;
            if (X.sock[i].lfd >= 0 && n < cap)
                fds[n++] = X.sock[i].lfd;
        }
    for (i = 0; i < DP_XFRM_CONNS; i++)
        if (X.conn[i].c.state != TL_FREE && X.conn[i].fd >= 0 && n < cap)
            fds[n++] = X.conn[i].fd;
    return n;
}

#endif /* EX_XFRM */
