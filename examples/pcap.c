/*
 * pcap.c -- see pcap.h.
 */
#include "pcap.h"
#include "ladder.h"
#include "tcp_lite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pcap_fd = -1;

static void put32(uint8_t *p, uint32_t v)
{
    /* pcap files are written in the host's byte order; the magic tells readers */
    memcpy(p, &v, 4);
}

static void pcap_die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", ladder_name(), what, strerror(errno));
    exit(3);
}

void pcap_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
    if (fd >= 0) {
        uint8_t h[24];
        uint16_t v;
        put32(h, 0xa1b2c3d4u);
        v = 2;
        memcpy(h + 4, &v, 2);
        v = 4;
        memcpy(h + 6, &v, 2);
        put32(h + 8, 0);
        put32(h + 12, 0);
        put32(h + 16, 65535);
        put32(h + 20, 101); /* LINKTYPE_RAW */
        if (write(fd, h, sizeof h) != (ssize_t)sizeof h)
            pcap_die("pcap header");
    } else if (errno == EEXIST) {
        fd = open(path, O_WRONLY | O_APPEND);
    }
    if (fd < 0)
        pcap_die("pcap open");
    pcap_fd = fd;
}

void pcap_ip(const void *pkt, size_t n)
{
    static uint8_t rec[16 + 65536];
    struct timespec ts;
    if (pcap_fd < 0 || n > 65535)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    put32(rec, (uint32_t)ts.tv_sec);
    put32(rec + 4, (uint32_t)(ts.tv_nsec / 1000));
    put32(rec + 8, (uint32_t)n);
    put32(rec + 12, (uint32_t)n);
    memcpy(rec + 16, pkt, n);
    /* one write per record: O_APPEND keeps the three writers' records whole */
    if (write(pcap_fd, rec, 16 + n) != (ssize_t)(16 + n))
        pcap_die("pcap write");
}

static void pcap_flow(const imssec_addr *src, unsigned sport, const imssec_addr *dst,
                      unsigned dport, int transport, const void *payload, size_t n)
{
    static uint8_t pkt[65536];
    imssec_flow f;
    size_t len = 0;
    if (pcap_fd < 0)
        return;
    memset(&f, 0, sizeof f);
    f.src = *src;
    f.dst = *dst;
    f.sport = (uint16_t)sport;
    f.dport = (uint16_t)dport;
    f.transport = transport;
    if (imssec_esp_ip_build(&f, payload, n, pkt, sizeof pkt, &len) == IMSSEC_OK)
        pcap_ip(pkt, len);
}

void pcap_udp(const imssec_addr *src, unsigned sport, const imssec_addr *dst, unsigned dport,
              const void *payload, size_t n)
{
    pcap_flow(src, sport, dst, dport, IMSSEC_TRANSPORT_UDP, payload, n);
}

void pcap_tcp(const imssec_addr *src, unsigned sport, const imssec_addr *dst, unsigned dport,
              uint32_t seq, uint32_t ack, const void *payload, size_t n)
{
    static uint8_t seg[TL_HDR + 65536];
    if (pcap_fd < 0 || n > sizeof seg - TL_HDR)
        return;
    tl_put_header(seg, (uint16_t)sport, (uint16_t)dport, seq, ack, TL_PSH | TL_ACK, 65535);
    memcpy(seg + TL_HDR, payload, n);
    pcap_flow(src, sport, dst, dport, IMSSEC_TRANSPORT_TCP, seg, TL_HDR + n);
}
