/*
 * ipsec.c -- see ipsec.h.
 */
#include "ipsec.h"
#include "dp_xfrm.h"
#include "ladder.h"
#include "net.h"
#include "pcap.h"

#include <stddef.h>
#include <string.h>

static int ex_note_ix(const ex_dp *d, imssec_sa_ref sa)
{
    int i;
    for (i = 0; sa && i < EX_POOL; i++)
        if (d->note[i].ref == sa)
            return i;
    return -1;
}

static ex_sa_note *ex_note(ex_dp *d, imssec_sa_ref sa)
{
    int i = ex_note_ix(d, sa);
    return i < 0 ? NULL : &d->note[i];
}

static const char *ex_mode_text(int mode)
{
    return mode == IMSSEC_MODE_TRANS ? "transport" : "UDP-enc-tun";
}

/* ---- the library's callbacks, wrapped ------------------------------------- */

/* The wrappers' user pointer is the pool, not the ex_dp: the library's
 * payload calls (imssec_sa_esp_protect / _unprotect / _of) accept a pool
 * only if it is the table's callback user (sa/esp_adapter.c); the ex_dp
 * around it is found from the member. */
static ex_dp *ex_of(void *pool)
{
    return (ex_dp *)(void *)((char *)pool - offsetof(ex_dp, pool));
}

static int ex_install(void *user, const imssec_sa_info *sa, uint64_t *handle, imssec_errinfo *err)
{
    ex_dp *d = ex_of(user);
    ex_sa_note *n = NULL;
    int rc, i, set = d->installs / 4 + 1;
    if (sa->mode != d->mode) {
        /* the socket decides what this program can carry */
        ladder("    install refused: sa/ wants %s mode, this data plane runs %s",
               ex_mode_text(sa->mode), ex_mode_text(d->mode));
        err->what = "the example's data plane has no socket for this mode";
        return -1;
    }
    rc = d->lib.install(d->lib.user, sa, handle, err);
    if (rc != 0)
        return rc;
    for (i = 0; i < EX_POOL && !n; i++)
        if (!d->note[i].ref)
            n = &d->note[i];
    if (n) {
        n->ref = sa->ref;
        n->set = set;
        n->which = sa->which;
        n->inbound = sa->inbound;
        n->logged = 0;
        n->spi = sa->spi;
        n->sport = sa->sport;
        n->dport = sa->dport;
    }
    d->installs++;
    ladder("    SA+ %s spi=0x%08x  port %u -> %u  (set %d, %s)", sa->inbound ? "in " : "out",
           (unsigned)sa->spi, sa->sport, sa->dport, set, ex_mode_text(sa->mode));
    return 0;
}

static int ex_update(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    ex_dp *d = ex_of(user);
    int rc = d->lib.update(d->lib.user, sa, err);
    if (rc == 0)
        ladder("    SA~ %s spi=0x%08x  UDP encapsulation %u -> %u (port_Uenc learnt, M.7.2)",
               sa->inbound ? "in " : "out", (unsigned)sa->spi, sa->encap_sport, sa->encap_dport);
    return rc;
}

static int ex_remove(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    ex_dp *d = ex_of(user);
    ex_sa_note *n = ex_note(d, sa->ref);
    int rc = d->lib.remove(d->lib.user, sa, err);
    ladder("    SA- %s spi=0x%08x  (set %d: %s)", sa->inbound ? "in " : "out", (unsigned)sa->spi,
           n ? n->set : 0, d->why ? d->why : "deleted by sa/");
    if (n)
        memset(n, 0, sizeof *n);
    if (d->removed)
        d->removed(d->removed_user, sa->ref);
    return rc;
}

/* M.7.2: the UE behind a NAT keeps its binding open; sa/'s tick says when. */
static int ex_keepalive(void *user, imssec_str impi)
{
    (void)impi;
    ex_of(user)->keepalive_due = 1;
    return 0;
}

void ex_dp_init(ex_dp *d, const imssec_io *io, int mode, int fd, int tap, FILE *esp_sa)
{
    memset(d, 0, sizeof *d);
    d->io = io;
    d->mode = mode;
    d->fd = fd;
    d->tap = tap;
    d->esp_sa = esp_sa;
    net_local(fd, &d->local, &d->local_port);
    imssec_sa_esp_pool_init(&d->pool, d->sas, EX_POOL);
    imssec_sa_esp_callbacks(&d->lib, &d->pool);
    d->cb.user = &d->pool;
    d->cb.install = ex_install;
    d->cb.update = ex_update;
    d->cb.remove = ex_remove;
    d->cb.keepalive = mode == IMSSEC_MODE_UDP_ENC_TUN ? ex_keepalive : NULL;
}

void ex_dp_attach(ex_dp *d, imssec_sa_table *t)
{
    d->t = t;
}

/* ---- the key log ---------------------------------------------------------------- */

/* One line per SA, as the options of the CLI's `imssec wireshark-esp-sa`,
 * which writes the line of Wireshark's esp_sa table from them (demo.sh
 * runs it, issue 13): the outer addresses (UDP-enc-tun: the sockets';
 * transport mode: the SA's), the SPI and the Annex I keys by the library's
 * own names.  AES-GCM (RFC 4106) has no integrity key: --alg null. */
static void ex_key_log(ex_dp *d, imssec_sa_ref sa, const imssec_addr *outer_dst)
{
    ex_sa_note *n = ex_note(d, sa);
    imssec_sa_info info;
    char ik[2 * IMSSEC_ESP_AUTH_KEY_MAX + 1], ck[2 * IMSSEC_ESP_ENC_KEY_MAX + 1];
    char src[IMSSEC_ADDR_TEXT_MAX + 1], dst[IMSSEC_ADDR_TEXT_MAX + 1];
    const char *alg, *ealg;
    if (!d->esp_sa || (n && n->logged) || imssec_sa_get(d->t, sa, &info) != IMSSEC_OK)
        return;
    if (n)
        n->logged = 1;
    addr_text(d->mode == IMSSEC_MODE_TRANS ? &info.src : &d->local, 0, src);
    addr_text(outer_dst, 0, dst);
    hex_encode(info.ik, info.ik_len, ik);
    hex_encode(info.ck, info.ck_len, ck);
    alg = imssec_alg_name(info.alg);
    ealg = imssec_ealg_name(info.ealg);
    fprintf(d->esp_sa, "--src %s --dst %s --spi 0x%08x --alg %s --ealg %s", src, dst,
            (unsigned)info.spi, alg ? alg : "?", ealg ? ealg : "?");
    if (info.ik_len)
        fprintf(d->esp_sa, " --auth-key %s", ik);
    if (info.ck_len)
        fprintf(d->esp_sa, " --enc-key %s", ck);
    fprintf(d->esp_sa, "\n");
    fflush(d->esp_sa);
    imssec_wipe(ik, sizeof ik);
    imssec_wipe(ck, sizeof ck);
    imssec_wipe(&info, sizeof info);
}

/* ---- sending and receiving ------------------------------------------------------ */

static void ex_wire(ex_dp *d, const uint8_t *p, size_t n, const imssec_addr *to, unsigned port)
{
    if (d->mode == IMSSEC_MODE_UDP_ENC_TUN) {
        /* the ESP part from the encapsulation socket: the kernel writes
         * the outer IP and UDP headers (RFC 3948 2.1) */
        pcap_udp(&d->local, d->local_port, to, port, p, n);
        net_sendto(d->fd, to, port, p, n);
    } else {
        pcap_ip(p, n);
        net_send_raw(d->fd, to, p, n);
    }
}

int ex_dp_send(ex_dp *d, imssec_sa_ref sa, int transport, const uint8_t *payload, size_t n,
               imssec_errinfo *err)
{
    static uint8_t out[SIP_MAX_MSG + 48 + IMSSEC_ESP_OVERHEAD_MAX];
    imssec_sa_esp_packet pkt;
    unsigned port;
    int rc;
    if (d->xfrm)
        return dp_xfrm_send(d, sa, transport, payload, n, err);
    rc = imssec_sa_esp_protect(&d->pool, d->t, sa, transport, payload, n, out, sizeof out,
                                   &pkt, err);
    if (rc != IMSSEC_OK)
        return rc;
    ex_key_log(d, sa, &pkt.to);
    /* M.7.2, RFC 3948 2.3: traffic on UDP-encapsulated SAs keeps the NAT
     * binding open; sa/ postpones the UE's next keepalive (a no-op at the
     * P-CSCF and in transport mode) */
    (void)imssec_sa_note_sent(d->t, sa, net_now_ms());
    port = d->encap_port && d->mode == IMSSEC_MODE_UDP_ENC_TUN ? d->encap_port : pkt.to_port;
    ex_wire(d, out + pkt.send_off, pkt.len - pkt.send_off, &pkt.to, port);
    if (d->remember && pkt.len - pkt.send_off <= sizeof d->last) {
        d->remember = 0;
        memcpy(d->last, out + pkt.send_off, pkt.len - pkt.send_off);
        d->last_len = pkt.len - pkt.send_off;
        d->last_to = pkt.to;
        d->last_port = port;
    }
    return IMSSEC_OK;
}

void ex_dp_replay_last(ex_dp *d)
{
    if (d->xfrm) {
        dp_xfrm_replay(d);
        return;
    }
    if (d->last_len)
        ex_wire(d, d->last, d->last_len, &d->last_to, d->last_port);
}

int ex_dp_recv(ex_dp *d, int fd, uint8_t *out, size_t cap, imssec_sa_esp_received *rx,
               imssec_errinfo *err)
{
    static uint8_t in[65536];
    imssec_addr src;
    unsigned sport = 0;
    long n;
    if (d->xfrm)
        return dp_xfrm_recv(d, fd, out, cap, rx, err);
    if (fd == d->tap) {
        /* IPv6 transport mode: the whole packet, header included */
        n = net_ipv6_tap_recv(fd, &d->local, in, sizeof in);
        if (n <= 0)
            return IMSSEC_E_NOT_ESP; /* another packet on the interface */
        return imssec_sa_esp_unprotect(&d->pool, d->t, IMSSEC_ESP_IN_IP, in, (size_t)n, 0, out,
                                       cap, rx, err);
    }
    n = net_recvfrom(fd, in, sizeof in, &src, &sport);
    if (n <= 0)
        return IMSSEC_E_NOT_ESP;
    /* UDP: the datagram is the ESP part (the kernel took the outer headers
     * off; its source port is the UE's NAT port, M.7.2); raw IPv4: the
     * whole packet */
    return imssec_sa_esp_unprotect(&d->pool, d->t,
                                   d->mode == IMSSEC_MODE_UDP_ENC_TUN ? IMSSEC_ESP_IN_ESP
                                                                      : IMSSEC_ESP_IN_IP,
                                   in, (size_t)n, (uint16_t)sport, out, cap, rx, err);
}

/* ---- the ladder's view ------------------------------------------------------------ */

const char *ex_dp_name(const ex_dp *d, imssec_sa_ref sa, char *buf, size_t cap)
{
    int i = ex_note_ix(d, sa);
    const ex_sa_note *n = i < 0 ? NULL : &d->note[i];
    if (!sa)
        snprintf(buf, cap, "unprotected");
    else if (!n)
        snprintf(buf, cap, "an SA the data plane does not have");
    else
        snprintf(buf, cap, "spi=0x%08x (set %d, %u->%u)", (unsigned)n->spi, n->set, n->sport,
                 n->dport);
    return buf;
}

int ex_dp_set_of(const ex_dp *d, imssec_sa_ref sa)
{
    int i = ex_note_ix(d, sa);
    return i < 0 ? 0 : d->note[i].set;
}

int ex_dp_count(const ex_dp *d, int set)
{
    int i, k = 0;
    if (set == 0 && d->xfrm)
        return dp_xfrm_count(d); /* read back from the kernel */
    if (set == 0)
        return (int)d->pool.used; /* the library's own count of live esp/ SAs */
    for (i = 0; i < EX_POOL; i++)
        k += d->note[i].ref != 0 && d->note[i].set == set;
    return k;
}

int ex_dp_user_count(const ex_dp *d, uint32_t user)
{
    int i, k = 0;
    uint32_t u;
    for (i = 0; i < EX_POOL; i++)
        k += d->note[i].ref != 0 && imssec_sa_owner(d->t, d->note[i].ref, &u) == IMSSEC_OK &&
             u == user;
    return k;
}
