/*
 * kpeer.c -- packet tool for the kernel ESP interop harness (test/peer/esp-kernel.sh).
 *
 * Not library code: a Linux test program (POSIX + Linux netns/packet sockets).
 * It runs on the host (mkudp, flip) and inside the User-Mode-Linux guest
 * (run), whose root file system is the host's, so one binary serves both.
 * Packets are hex strings, always starting at the IP header.
 *
 *   kpeer mkudp SRC DST SPORT DPORT IPID TTL TEXT
 *       A plaintext IPv4 (DF set) or IPv6 UDP packet with correct checksums.
 *   kpeer flip HEX OFFSET
 *       HEX with bit 0 of byte OFFSET (negative: from the end) inverted.
 *   kpeer run NS_TX NS_RX IF_TX IF_RX DSTMAC PLANFILE
 *       One process for all scenarios (process start-up is what costs in
 *       UML).  PLANFILE lines, in order:
 *         port P          UDP sockets (v4 and v6) on port P in NS_RX
 *         encap           an RFC 3948 UDP_ENCAP_ESPINUDP socket on 4500 in
 *                         NS_RX (without it the kernel never decapsulates)
 *         ksend S I HEX   let the KERNEL protect plaintext HEX: sent from
 *                         NS_TX through a raw IP_HDRINCL socket (so the kernel
 *                         keeps our IP ID, TTL and flags and applies its
 *                         xfrm policy); prints "esp S I HEX|none" (the ESP
 *                         packet captured on IF_RX) and "kdelivered S I
 *                         PAYLOAD|none" (what NS_RX's kernel delivered)
 *         kreplay S       queue the ESP packet captured for "ksend S 1"
 *         inject HEX      queue a ready-made ESP packet
 *         go N            send the queue as Ethernet frames on IF_TX to
 *                         DSTMAC, in order, then print "delivered PORT
 *                         PAYLOAD" for every datagram NS_RX's kernel
 *                         delivered, until N arrived (plus a short grace
 *                         period for unexpected extra ones) or a time limit.
 *
 * Every wait is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif
#ifndef UDP_ENCAP_ESPINUDP
#define UDP_ENCAP_ESPINUDP 2
#endif
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

#define KP_MAX 4096

static void kp_die(const char *what)
{
    fprintf(stderr, "kpeer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static size_t kp_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s), i;
    if (n % 2 || n / 2 > cap) {
        fprintf(stderr, "kpeer: bad hex (%zu chars)\n", n);
        exit(1);
    }
    for (i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "kpeer: bad hex\n");
            exit(1);
        }
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

static void kp_puthex(const char *tag, int idx, const uint8_t *p, size_t n)
{
    size_t i;
    printf("%s %d ", tag, idx);
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
    fflush(stdout);
}

static uint32_t kp_sum(const uint8_t *p, size_t n, uint32_t s)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)(p[n - 1] << 8);
    return s;
}

static uint16_t kp_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static int kp_mkudp(char **a)
{
    uint8_t pkt[KP_MAX];
    const char *text = a[6];
    size_t tl = strlen(text), ul = 8 + tl, n;
    unsigned sport = (unsigned)atoi(a[2]), dport = (unsigned)atoi(a[3]);
    unsigned id = (unsigned)strtoul(a[4], NULL, 0), ttl = (unsigned)atoi(a[5]);
    uint8_t *u;
    uint32_t s;
    uint16_t c;
    memset(pkt, 0, sizeof pkt);
    if (tl > 1400)
        return 1;
    if (strchr(a[0], ':')) {
        if (inet_pton(AF_INET6, a[0], pkt + 8) != 1 || inet_pton(AF_INET6, a[1], pkt + 24) != 1)
            return 1;
        pkt[0] = 0x60;
        pkt[4] = (uint8_t)(ul >> 8);
        pkt[5] = (uint8_t)ul;
        pkt[6] = 17;
        pkt[7] = (uint8_t)ttl;
        u = pkt + 40;
        n = 40 + ul;
        s = kp_sum(pkt + 8, 32, 0);
    } else {
        if (inet_pton(AF_INET, a[0], pkt + 12) != 1 || inet_pton(AF_INET, a[1], pkt + 16) != 1)
            return 1;
        n = 20 + ul;
        pkt[0] = 0x45;
        pkt[2] = (uint8_t)(n >> 8);
        pkt[3] = (uint8_t)n;
        pkt[4] = (uint8_t)(id >> 8);
        pkt[5] = (uint8_t)id;
        pkt[6] = 0x40; /* DF, as the kernel's own UDP would send it */
        pkt[8] = (uint8_t)ttl;
        pkt[9] = 17;
        c = kp_fold(kp_sum(pkt, 20, 0));
        pkt[10] = (uint8_t)(c >> 8);
        pkt[11] = (uint8_t)c;
        u = pkt + 20;
        s = kp_sum(pkt + 12, 8, 0);
    }
    u[0] = (uint8_t)(sport >> 8);
    u[1] = (uint8_t)sport;
    u[2] = (uint8_t)(dport >> 8);
    u[3] = (uint8_t)dport;
    u[4] = (uint8_t)(ul >> 8);
    u[5] = (uint8_t)ul;
    memcpy(u + 8, text, tl);
    s += 17 + (uint32_t)ul;
    c = kp_fold(kp_sum(u, ul, s));
    if (c == 0)
        c = 0xffff;
    u[6] = (uint8_t)(c >> 8);
    u[7] = (uint8_t)c;
    for (tl = 0; tl < n; tl++)
        printf("%02x", pkt[tl]);
    printf("\n");
    return 0;
}

static int kp_flip(char **a)
{
    uint8_t p[KP_MAX];
    size_t n = kp_unhex(a[0], p, sizeof p), i;
    long off = atol(a[1]);
    if (off < 0)
        off += (long)n;
    if (off < 0 || (size_t)off >= n)
        return 1;
    p[off] ^= 1;
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
    return 0;
}

static long kp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Is this captured IP packet an ESP packet (raw, or ESP-in-UDP on 4500 that
 * is not a keepalive / non-ESP marker)? */
static int kp_is_esp(const uint8_t *p, size_t n)
{
    const uint8_t *u;
    if (n >= 20 && (p[0] >> 4) == 4) {
        size_t hl = (size_t)(p[0] & 15) * 4;
        if (p[9] == 50)
            return 1;
        if (p[9] != 17 || n < hl + 16)
            return 0;
        u = p + hl;
    } else if (n >= 40 && (p[0] >> 4) == 6) {
        if (p[6] == 50)
            return 1;
        if (p[6] != 17 || n < 56)
            return 0;
        u = p + 40;
    } else
        return 0;
    return (u[2] << 8 | u[3]) == 4500 && !(u[8] == 0 && u[9] == 0 && u[10] == 0 && u[11] == 0);
}

#define KP_SOCKS 80
#define KP_QUEUE 256
#define KP_LINE 8192
/* UML under load is slow: a kernel that will deliver does so well within. */
#define KP_WAIT_MS 8000
#define KP_GRACE_MS 300

static int kp_fd[KP_SOCKS], kp_port[KP_SOCKS], kp_nfd, kp_cap = -1;

static void kp_open_port(unsigned port, int encap)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    int one = 1, v = UDP_ENCAP_ESPINUDP, s4, s6;
    if (kp_nfd + 2 > KP_SOCKS) {
        fprintf(stderr, "kpeer: too many ports\n");
        exit(1);
    }
    memset(&a4, 0, sizeof a4);
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    s4 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (s4 < 0 || bind(s4, (struct sockaddr *)&a4, sizeof a4) != 0)
        kp_die("bind udp4");
    if (encap) {
        if (setsockopt(s4, IPPROTO_UDP, UDP_ENCAP, &v, sizeof v) != 0)
            kp_die("UDP_ENCAP");
        kp_fd[kp_nfd] = s4;
        kp_port[kp_nfd++] = -1; /* must never see anything: ESP and keepalives are consumed */
        return;
    }
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (s6 < 0)
        kp_die("udp6 socket");
    setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(s6, (struct sockaddr *)&a6, sizeof a6) != 0)
        kp_die("bind udp6");
    kp_fd[kp_nfd] = s4;
    kp_port[kp_nfd++] = (int)port;
    kp_fd[kp_nfd] = s6;
    kp_port[kp_nfd++] = (int)port;
}

/* Wait up to ms for: an ESP packet on the capture socket (want_esp; stored
 * in esp/esp_len) and/or want_dgrams datagrams.  Prints datagrams as
 * "<tag> <label> <payload>"; returns the number of datagrams. */
static int kp_wait(int want_esp, uint8_t *esp, size_t *esp_len, int want_dgrams, int ms,
                   int grace_ms, const char *tag, const char *label)
{
    uint8_t buf[KP_MAX];
    int got = 0, i;
    long end = kp_now_ms() + ms, grace = 0;
    for (;;) {
        struct pollfd pf[KP_SOCKS + 1];
        int nf = 0, left;
        long now = kp_now_ms();
        if (!want_esp && got >= want_dgrams && !grace)
            grace = now + grace_ms;
        left = (int)((grace && grace < end ? grace : end) - now);
        if (left <= 0)
            break;
        for (i = 0; i < kp_nfd; i++) {
            pf[nf].fd = kp_fd[i];
            pf[nf++].events = POLLIN;
        }
        if (want_esp) {
            pf[nf].fd = kp_cap;
            pf[nf++].events = POLLIN;
        }
        if (poll(pf, (nfds_t)nf, left) <= 0)
            continue;
        for (i = 0; i < nf; i++) {
            struct sockaddr_ll sll;
            socklen_t sl = sizeof sll;
            ssize_t k;
            if (!(pf[i].revents & POLLIN))
                continue;
            if (pf[i].fd == kp_cap) {
                k = recvfrom(kp_cap, buf, sizeof buf, 0, (struct sockaddr *)&sll, &sl);
                if (k > 0 && sll.sll_pkttype != PACKET_OUTGOING && kp_is_esp(buf, (size_t)k)) {
                    memcpy(esp, buf, (size_t)k);
                    *esp_len = (size_t)k;
                    want_esp = 0;
                }
                continue;
            }
            k = recv(pf[i].fd, buf, sizeof buf, 0);
            if (k < 0)
                continue;
            if (kp_port[i] < 0) {
                kp_puthex("encap-socket", 0, buf, (size_t)k);
                continue;
            }
            if (label)
                printf("%s %s ", tag, label);
            else
                printf("%s %d ", tag, kp_port[i]);
            for (sl = 0; sl < (socklen_t)k; sl++)
                printf("%02x", buf[sl]);
            printf("\n");
            got++;
        }
    }
    fflush(stdout);
    return got;
}

typedef struct {
    char s[128];
    uint8_t p[KP_MAX];
    size_t n;
} kp_pkt;

static kp_pkt kp_first[64]; /* the first ESP packet per scenario, for kreplay */
static int kp_nfirst;
static uint8_t kp_q[KP_QUEUE][KP_MAX];
static size_t kp_qlen[KP_QUEUE];
static int kp_nq;

static void kp_queue(const uint8_t *p, size_t n)
{
    if (kp_nq >= KP_QUEUE) {
        fprintf(stderr, "kpeer: queue full\n");
        exit(1);
    }
    memcpy(kp_q[kp_nq], p, n);
    kp_qlen[kp_nq++] = n;
}

static void kp_ksend(const char *s, const char *idx, const char *hex)
{
    uint8_t p[KP_MAX], esp[KP_MAX];
    size_t n = kp_unhex(hex, p, sizeof p), el = 0;
    int v6 = n > 0 && (p[0] >> 4) == 6, fd, one = 1, proto = v6 ? p[6] : p[9];
    struct sockaddr_storage src, dst;
    socklen_t al;
    char label[160];
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src, *d6 = (struct sockaddr_in6 *)&dst;
        s6->sin6_family = d6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, p + 8, 16);
        memcpy(&d6->sin6_addr, p + 24, 16);
        al = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&src, *d4 = (struct sockaddr_in *)&dst;
        s4->sin_family = d4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, p + 12, 4);
        memcpy(&d4->sin_addr, p + 16, 4);
        al = sizeof *s4;
    }
    snprintf(label, sizeof label, "%s %s", s, idx);
    /* A raw socket of the packet's own protocol with HDRINCL (the flow the
     * policy lookup sees then has that protocol, for IPv6), bound to the
     * header's source address (so the flow's source matches too).  A
     * failure is reported and the plan goes on. */
    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, proto);
    if (fd < 0 ||
        setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_HDRINCL : IP_HDRINCL, &one,
                   sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&src, al) != 0 ||
        sendto(fd, p, n, 0, (struct sockaddr *)&dst, al) != (ssize_t)n) {
        fprintf(stderr, "kpeer: ksend %s: %s\n", label, strerror(errno));
        printf("esp %s none\nkdelivered %s none\n", label, label);
        fflush(stdout);
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    if (!kp_wait(1, esp, &el, 1, KP_WAIT_MS, 0, "kdelivered", label))
        printf("kdelivered %s none\n", label);
    printf("esp %s ", label);
    if (!el)
        printf("none");
    for (n = 0; n < el; n++)
        printf("%02x", esp[n]);
    printf("\n");
    fflush(stdout);
    if (el && !strcmp(idx, "1") && kp_nfirst < 64) {
        snprintf(kp_first[kp_nfirst].s, sizeof kp_first[0].s, "%s", s);
        memcpy(kp_first[kp_nfirst].p, esp, el);
        kp_first[kp_nfirst++].n = el;
    }
}

static int kp_run(char **a)
{
    const char *ns_tx = a[0], *ns_rx = a[1], *if_tx = a[2], *if_rx = a[3], *mac = a[4];
    static char line[KP_LINE];
    unsigned m[6];
    int tx, j, rx_ns, tx_ns;
    char path[256];
    struct sockaddr_ll sll, out;
    FILE *f = fopen(a[5], "r");
    if (!f)
        kp_die(a[5]);
    if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        return 2;
    /* keep both namespaces open: sockets are made in either as needed */
    snprintf(path, sizeof path, "/run/netns/%s", ns_rx);
    rx_ns = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/run/netns/%s", ns_tx);
    tx_ns = open(path, O_RDONLY | O_CLOEXEC);
    if (rx_ns < 0 || tx_ns < 0)
        kp_die("netns");
    if (setns(rx_ns, CLONE_NEWNET) != 0)
        kp_die("setns rx");
    kp_cap = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_ALL));
    if (kp_cap < 0)
        kp_die("packet socket");
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)if_nametoindex(if_rx);
    if (sll.sll_ifindex == 0 || bind(kp_cap, (struct sockaddr *)&sll, sizeof sll) != 0)
        kp_die("bind capture socket");
    if (setns(tx_ns, CLONE_NEWNET) != 0)
        kp_die("setns tx");
    tx = socket(AF_PACKET, SOCK_DGRAM, 0);
    if (tx < 0)
        kp_die("packet socket tx");
    memset(&out, 0, sizeof out);
    out.sll_family = AF_PACKET;
    out.sll_ifindex = (int)if_nametoindex(if_tx);
    out.sll_halen = 6;
    for (j = 0; j < 6; j++)
        out.sll_addr[j] = (unsigned char)m[j];
    if (out.sll_ifindex == 0)
        kp_die("if_tx");
    while (fgets(line, sizeof line, f)) {
        char *w[4] = {0, 0, 0, 0}, *save = NULL;
        int nw = 0;
        for (w[0] = strtok_r(line, " \t\n", &save); w[nw] && nw < 3;)
            w[++nw] = strtok_r(NULL, " \t\n", &save);
        if (!w[0])
            continue;
        if ((!strcmp(w[0], "port") && w[1]) || !strcmp(w[0], "encap")) {
            if (setns(rx_ns, CLONE_NEWNET) != 0)
                kp_die("setns rx");
            kp_open_port(w[1] && strcmp(w[0], "encap") ? (unsigned)atoi(w[1]) : 4500,
                         !strcmp(w[0], "encap"));
            if (setns(tx_ns, CLONE_NEWNET) != 0)
                kp_die("setns tx");
        } else if (!strcmp(w[0], "ksend") && w[3]) {
            kp_ksend(w[1], w[2], w[3]);
        } else if (!strcmp(w[0], "kreplay") && w[1]) {
            for (j = 0; j < kp_nfirst; j++)
                if (!strcmp(kp_first[j].s, w[1]))
                    kp_queue(kp_first[j].p, kp_first[j].n);
        } else if (!strcmp(w[0], "inject") && w[1]) {
            uint8_t p[KP_MAX];
            size_t n = kp_unhex(w[1], p, sizeof p);
            kp_queue(p, n);
        } else if (!strcmp(w[0], "go") && w[1]) {
            int i, got;
            for (i = 0; i < kp_nq; i++) {
                out.sll_protocol = htons(kp_qlen[i] && (kp_q[i][0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP);
                if (sendto(tx, kp_q[i], kp_qlen[i], 0, (struct sockaddr *)&out, sizeof out) !=
                    (ssize_t)kp_qlen[i])
                    kp_die("sendto packet");
            }
            printf("sent %d\n", kp_nq);
            kp_nq = 0;
            got = kp_wait(0, NULL, NULL, atoi(w[1]), KP_WAIT_MS * 2, KP_GRACE_MS, "delivered", NULL);
            printf("done %d\n", got);
        } else {
            fprintf(stderr, "kpeer: bad plan line: %s\n", w[0]);
            return 1;
        }
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 9 && !strcmp(argv[1], "mkudp"))
        return kp_mkudp(argv + 2);
    if (argc == 4 && !strcmp(argv[1], "flip"))
        return kp_flip(argv + 2);
    if (argc == 8 && !strcmp(argv[1], "run"))
        return kp_run(argv + 2);
    fprintf(stderr, "usage: kpeer mkudp|flip|run ... (see kpeer.c)\n");
    return 2;
}

