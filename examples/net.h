/*
 * net.h -- the POSIX sockets the examples need, with addresses as the
 * library's imssec_addr: UDP (SIP, and ESP in UDP on 4500), kernel TCP
 * (unprotected SIP over TCP), raw IP protocol 50 (transport-mode ESP), the
 * clock and the RNG.  Every function exits with a message on a local error
 * (a bad address from the command line, a port in use): these are demo
 * programs.  Not part of imssec.
 */
#ifndef EXAMPLES_NET_H
#define EXAMPLES_NET_H

#include "../imssec.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A UDP socket bound to ip:port (port 0: any). */
int net_udp(const imssec_addr *ip, unsigned port);
/* A listening TCP socket on ip:port. */
int net_tcp_listen(const imssec_addr *ip, unsigned port);
/* A TCP connection from local:lport (lport 0: any) to peer:port. */
int net_tcp_connect(const imssec_addr *local, unsigned lport, const imssec_addr *peer,
                    unsigned port);
/* Accept one connection; *peer / *port: its remote end. */
int net_tcp_accept(int lfd, imssec_addr *peer, unsigned *port);
/* The local end of a socket. */
void net_local(int fd, imssec_addr *ip, unsigned *port);
/* ip:port as a struct sockaddr in *ss; its length. */
socklen_t net_sockaddr(const imssec_addr *ip, unsigned port, struct sockaddr_storage *ss);

/* One datagram to dst:port. */
void net_sendto(int fd, const imssec_addr *dst, unsigned port, const void *p, size_t n);
/* All n bytes on a stream socket; -1 if the connection is gone. */
int net_write_all(int fd, const void *p, size_t n);
/* One datagram (or, on a stream or raw socket, what read() gives) with
 * its source.  Returns the length, or -1 (EOF / error on a stream). */
long net_recvfrom(int fd, void *buf, size_t cap, imssec_addr *src, unsigned *port);

/* A raw socket for IP protocol 50 bound to ip.  IPv4: IP_HDRINCL, so what
 * is sent and received are whole IPv4 packets.  IPv6 has no portable
 * equivalent: the kernel writes the IPv6 header on send (net_send_raw
 * skips the library's 40 bytes) and never passes it up on receive (RFC
 * 3542 section 3), so receiving uses net_ipv6_tap().  Needs root. */
int net_raw_esp(const imssec_addr *ip);
void net_send_raw(int fd, const imssec_addr *dst, const uint8_t *pkt, size_t n);
/* Linux only (AF_PACKET, SOCK_DGRAM): every IPv6 packet this host
 * receives, header included.  net_ipv6_tap_recv() returns one that is
 * addressed to `me` with next header 50 (ESP), else 0 (not ours). */
int net_ipv6_tap(void);
long net_ipv6_tap_recv(int fd, const imssec_addr *me, uint8_t *buf, size_t cap);

/* Wait up to timeout_ms for any of fds[0..n) to become readable.  Returns
 * the index of one that is, or -1 on timeout. */
int net_wait(const int *fds, int n, int timeout_ms);

uint64_t net_now_ms(void);
/* The imssec_io.random callback: /dev/urandom. */
int net_random(void *user, uint8_t *out, size_t len);

#endif
