/*
 * media.h -- the media of the demo's call: RTP over plain UDP sockets (the
 * SAs of TS 33.203 carry SIP only; media never goes through them), SRTP
 * sessions from the keys the TS 33.328 SDP procedures agreed, and the
 * IMS Access GW of the example P-CSCF (TS 33.328 6.2.1.1: SRTP towards the
 * UE, RTP towards the network).
 *
 * Every packet sent is written to the capture (pcap.h) as it goes on the
 * wire.  The audio is PCMU-sized (RFC 3551: 8000 samples/s, 20 ms = 160
 * bytes) but its bytes are text ("frame 007: ..."), so that a decrypted
 * copy of the capture shows readable payloads and each end can check what
 * came back.  Not part of imssec.
 */
#ifndef EXAMPLES_MEDIA_H
#define EXAMPLES_MEDIA_H

#include "../imssec.h"

#include <stddef.h>
#include <stdint.h>

#define MEDIA_PT 0          /* PCMU (RFC 3551 6) */
#define MEDIA_FRAME_MS 20
#define MEDIA_PAYLOAD 160   /* 8000 Hz x 20 ms, one byte per sample */
#define MEDIA_PKT_MAX (12 + MEDIA_PAYLOAD + IMSSEC_SRTP_OVERHEAD_MAX + 64)

/* One media socket and the RTP stream this end sends from it. */
typedef struct media_ep {
    int fd;
    imssec_addr local;
    unsigned port;
    imssec_addr peer;       /* where this end sends; peer_port 0: nowhere yet */
    unsigned peer_port;
    uint32_t ssrc;          /* RFC 3550 5.1: random SSRC, first seq and timestamp */
    uint16_t seq;
    uint32_t ts;
} media_ep;

/* A UDP socket on ip (any port) and a fresh stream; fd -1 when closed. */
void media_open(media_ep *m, const imssec_addr *ip);
void media_close(media_ep *m);
/* An RTP packet of this end's stream (V=2, PT 0, the next seq, ts += 160)
 * with payload[0..n) into pkt; returns its length. */
size_t media_rtp(media_ep *m, uint8_t *pkt, const uint8_t *payload, size_t n);
/* Send pkt to the peer (and to the capture). */
void media_send(media_ep *m, const uint8_t *pkt, size_t n);
/* One datagram from the socket; -1 if none. */
long media_recv(const media_ep *m, uint8_t *buf, size_t cap, imssec_addr *src, unsigned *sport);
/* RTP header fields (RFC 3550 5.1); 0, or -1 if it is not RTP v2. */
int media_rtp_parse(const uint8_t *pkt, size_t n, uint32_t *ssrc, uint16_t *seq,
                    size_t *payload_off);

/* Frame n's payload, and the check of one: 1 and *n when p[0..len) is
 * exactly such a frame. */
void media_frame(uint8_t out[MEDIA_PAYLOAD], unsigned n);
int media_frame_check(const uint8_t *p, size_t len, unsigned *n);

/* The two SRTP sessions of one agreed media section (imssec_sdp_keys_srtp:
 * rx with the peer's sending key, tx with ours), auto_streams on. */
typedef struct media_srtp {
    imssec_srtp_session tx, rx;
    imssec_srtp_stream tx_streams[2], rx_streams[2];
    int up;
} media_srtp;
int media_srtp_setup(media_srtp *s, const imssec_sdp_keys *k, imssec_errinfo *err);
void media_srtp_wipe(media_srtp *s);

/* ---- the IMS Access GW (TS 33.328 6.2.1.1, 7.2.1 steps 7 and 9) ---------- */

typedef struct media_gw {
    media_ep ue, core;      /* access side (SRTP) and core side (RTP) */
    media_srtp srtp;        /* K11 inbound, K12 outbound */
    int chan_ue, chan_core; /* the sockets' sio hooks (sip_io.h), -1 if none */
    /* counts: SRTP in from the UE (authenticated and decrypted), RTP out to
     * the core, RTP in from the core, SRTP out to the UE, refused packets */
    unsigned from_ue, to_core, from_core, to_ue, refused, early;
    int last_verdict;       /* the last refusal's imssec_err */
    int open;               /* media_gw_open() was called */
} media_gw;

/* Open both sockets on ip (before the SDP names their ports). */
void media_gw_open(media_gw *g, const imssec_addr *ip);
/* The sio hooks: one packet from the UE (unprotect with K11, forward as
 * RTP) or from the core (protect with K12, forward to the UE).  Until the
 * sessions are up (the answer), packets are dropped and counted in early. */
void media_gw_from_ue(void *gw, int fd);
void media_gw_from_core(void *gw, int fd);
void media_gw_close(media_gw *g);

#endif
