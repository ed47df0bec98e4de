/*
 * net.c -- see net.h.  POSIX sockets, poll, clock_gettime, /dev/urandom;
 * net_ipv6_tap() is Linux (AF_PACKET).
 */
#include "net.h"
#include "ladder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", ladder_name(), what, strerror(errno));
    exit(3);
}

/* The socket address of ip:port.  The one place where an imssec_addr
 * meets struct sockaddr (the two layouts are the library's and POSIX's). */
socklen_t net_sockaddr(const imssec_addr *ip, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (ip->len == 16) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        memcpy(&a->sin6_addr, ip->b, 16);
        return sizeof *a;
    }
    if (ip->len == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        memcpy(&a->sin_addr, ip->b, 4);
        return sizeof *a;
    }
    fprintf(stderr, "%s: no address\n", ladder_name());
    exit(2);
}

static void net_sa_addr(const struct sockaddr_storage *ss, imssec_addr *ip, unsigned *port)
{
    memset(ip, 0, sizeof *ip);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        ip->len = 16;
        memcpy(ip->b, &a->sin6_addr, 16);
        *port = ntohs(a->sin6_port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        ip->len = 4;
        memcpy(ip->b, &a->sin_addr, 4);
        *port = ntohs(a->sin_port);
    }
}

static void net_bind(int fd, const imssec_addr *ip, unsigned port, const char *what)
{
    struct sockaddr_storage a;
    socklen_t al = net_sockaddr(ip, port, &a);
    if (bind(fd, (struct sockaddr *)&a, al) < 0) {
        char t[IMSSEC_ADDR_TEXT_MAX + 1], msg[96];
        snprintf(msg, sizeof msg, "%s: bind %s:%u", what, addr_text(ip, 1, t), port);
        die(msg);
    }
}

static int net_socket(const imssec_addr *ip, int type, int proto)
{
    int fd = socket(ip->len == 16 ? AF_INET6 : AF_INET, type, proto);
    if (fd < 0)
        die(type == SOCK_RAW ? "raw ESP socket (transport mode needs root)" : "socket");
    return fd;
}

int net_udp(const imssec_addr *ip, unsigned port)
{
    int fd = net_socket(ip, SOCK_DGRAM, 0);
    net_bind(fd, ip, port, "UDP");
    return fd;
}

int net_tcp_listen(const imssec_addr *ip, unsigned port)
{
    int one = 1, fd = net_socket(ip, SOCK_STREAM, 0);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    net_bind(fd, ip, port, "TCP");
    if (listen(fd, 8) < 0)
        die("listen");
    return fd;
}

int net_tcp_connect(const imssec_addr *local, unsigned lport, const imssec_addr *peer,
                    unsigned port)
{
    struct sockaddr_storage a;
    socklen_t al = net_sockaddr(peer, port, &a);
    int one = 1, fd = net_socket(peer, SOCK_STREAM, 0);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    net_bind(fd, local, lport, "TCP");
    if (connect(fd, (struct sockaddr *)&a, al) < 0)
        die("connect");
    return fd;
}

int net_tcp_accept(int lfd, imssec_addr *peer, unsigned *port)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    int fd = accept(lfd, (struct sockaddr *)&a, &l);
    if (fd < 0)
        die("accept");
    net_sa_addr(&a, peer, port);
    return fd;
}

void net_local(int fd, imssec_addr *ip, unsigned *port)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &l) < 0)
        die("getsockname");
    net_sa_addr(&a, ip, port);
}

void net_sendto(int fd, const imssec_addr *dst, unsigned port, const void *p, size_t n)
{
    struct sockaddr_storage a;
    socklen_t al = net_sockaddr(dst, port, &a);
    if (sendto(fd, p, n, 0, (struct sockaddr *)&a, al) < 0)
        die("sendto");
}

int net_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

long net_recvfrom(int fd, void *buf, size_t cap, imssec_addr *src, unsigned *port)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    ssize_t got;
    memset(&a, 0, sizeof a);
    got = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&a, &l);
    if (got <= 0)
        return -1;
    if (src && l > 0)
        net_sa_addr(&a, src, port);
    return (long)got;
}

int net_raw_esp(const imssec_addr *ip)
{
    int one = 1, fd = net_socket(ip, SOCK_RAW, IPPROTO_ESP);
    if (ip->len == 4 && setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0)
        die("IP_HDRINCL");
    if (ip->len == 16) {
        /* only for sending: what arrives is read through net_ipv6_tap() */
        int small = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    net_bind(fd, ip, 0, "raw ESP");
    return fd;
}

void net_send_raw(int fd, const imssec_addr *dst, const uint8_t *pkt, size_t n)
{
    struct sockaddr_storage a;
    socklen_t al = net_sockaddr(dst, 0, &a);
    if (dst->len == 16) {
        /* the kernel writes the IPv6 header (next header 50, our bound
         * source): send what follows the library's */
        if (n < 40)
            return;
        pkt += 40;
        n -= 40;
    }
    if (sendto(fd, pkt, n, 0, (struct sockaddr *)&a, al) < 0)
        die("sendto (raw)");
}

int net_ipv6_tap(void)
{
    int fd = socket(AF_PACKET, SOCK_DGRAM, htons(0x86dd)); /* ETH_P_IPV6 */
    if (fd < 0)
        die("AF_PACKET socket (IPv6 transport mode needs root on Linux)");
    return fd;
}

long net_ipv6_tap_recv(int fd, const imssec_addr *me, uint8_t *buf, size_t cap)
{
    struct sockaddr_ll from;
    socklen_t l = sizeof from;
    ssize_t got = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &l);
    if (got < 0)
        die("recvfrom (AF_PACKET)");
    /* ours: received (not sent) by this host, to `me`, next header ESP;
     * only the header fields that say so are read here, esp/ parses the rest */
    if (from.sll_pkttype == PACKET_OUTGOING || got < 48 || (buf[0] >> 4) != 6 || buf[6] != 50 ||
        memcmp(buf + 24, me->b, 16) != 0)
        return 0;
    return (long)got;
}

int net_wait(const int *fds, int n, int timeout_ms)
{
    struct pollfd pf[40];
    int i, r;
    if (n > 40)
        n = 40; /* sip_io.c: SIO_CHANS + 2 + DP_XFRM_FDS */
    for (i = 0; i < n; i++) {
        pf[i].fd = fds[i];
        pf[i].events = POLLIN;
        pf[i].revents = 0;
    }
    r = poll(pf, (nfds_t)n, timeout_ms < 0 ? 0 : timeout_ms);
    if (r < 0 && errno != EINTR)
        die("poll");
    for (i = 0; r > 0 && i < n; i++)
        if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
            return i;
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
