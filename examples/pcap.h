/*
 * pcap.h -- the demo's capture file (LINKTYPE_RAW: every record is a bare
 * IPv4 or IPv6 packet).  The UE, the P-CSCF and the S-CSCF all append to
 * the same file; each records what it sends, as it goes on the wire.  The
 * IP and UDP/TCP headers of the unprotected records are written by the
 * library (imssec_esp_ip_build()); ESP packets are recorded as the library
 * made them.  Not part of imssec.
 */
#ifndef EXAMPLES_PCAP_H
#define EXAMPLES_PCAP_H

#include "../imssec.h"

#include <stddef.h>
#include <stdint.h>

/* Open (the first process creates it with the file header) for appending. */
void pcap_open(const char *path);
/* One whole IP packet. */
void pcap_ip(const void *pkt, size_t n);
/* A UDP datagram src:sport -> dst:dport carrying payload. */
void pcap_udp(const imssec_addr *src, unsigned sport, const imssec_addr *dst, unsigned dport,
              const void *payload, size_t n);
/* Data sent on a kernel TCP connection, as one segment with PSH|ACK.  The
 * kernel's sequence numbers are not visible to a program: seq and ack are
 * relative (the bytes this end sent / received so far, from 1), which is
 * how Wireshark shows them anyway. */
void pcap_tcp(const imssec_addr *src, unsigned sport, const imssec_addr *dst, unsigned dport,
              uint32_t seq, uint32_t ack, const void *payload, size_t n);

#endif
