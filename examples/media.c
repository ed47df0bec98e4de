/*
 * media.c -- see media.h.
 */
#include "media.h"
#include "ladder.h"
#include "net.h"
#include "pcap.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static uint32_t media_rand32(void)
{
    uint8_t b[4];
    if (net_random(NULL, b, sizeof b) != 0)
        return 0x1234abcdu;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void media_open(media_ep *m, const imssec_addr *ip)
{
    memset(m, 0, sizeof *m);
    m->fd = net_udp(ip, 0);
    net_local(m->fd, &m->local, &m->port);
    /* RFC 3550 5.1: SSRC, the first sequence number and timestamp random */
    m->ssrc = media_rand32();
    m->seq = (uint16_t)media_rand32();
    m->ts = media_rand32();
}

void media_close(media_ep *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}

size_t media_rtp(media_ep *m, uint8_t *pkt, const uint8_t *payload, size_t n)
{
    pkt[0] = 0x80; /* V=2, P=0, X=0, CC=0 */
    pkt[1] = MEDIA_PT;
    pkt[2] = (uint8_t)(m->seq >> 8);
    pkt[3] = (uint8_t)m->seq;
    pkt[4] = (uint8_t)(m->ts >> 24);
    pkt[5] = (uint8_t)(m->ts >> 16);
    pkt[6] = (uint8_t)(m->ts >> 8);
    pkt[7] = (uint8_t)m->ts;
    pkt[8] = (uint8_t)(m->ssrc >> 24);
    pkt[9] = (uint8_t)(m->ssrc >> 16);
    pkt[10] = (uint8_t)(m->ssrc >> 8);
    pkt[11] = (uint8_t)m->ssrc;
    memcpy(pkt + 12, payload, n);
    m->seq++;
    m->ts += MEDIA_PAYLOAD;
    return 12 + n;
}

void media_send(media_ep *m, const uint8_t *pkt, size_t n)
{
    if (m->fd < 0 || !m->peer_port)
        return;
    pcap_udp(&m->local, m->port, &m->peer, m->peer_port, pkt, n);
    net_sendto(m->fd, &m->peer, m->peer_port, pkt, n);
}

long media_recv(const media_ep *m, uint8_t *buf, size_t cap, imssec_addr *src, unsigned *sport)
{
    return m->fd < 0 ? -1 : net_recvfrom(m->fd, buf, cap, src, sport);
}

int media_rtp_parse(const uint8_t *pkt, size_t n, uint32_t *ssrc, uint16_t *seq,
                    size_t *payload_off)
{
    size_t off;
    if (n < 12 || (pkt[0] >> 6) != 2)
        return -1;
    off = 12 + 4 * (size_t)(pkt[0] & 15);
    if (pkt[0] & 0x10) { /* a header extension (RFC 3550 5.3.1) */
        if (n < off + 4)
            return -1;
        off += 4 + 4 * ((size_t)pkt[off + 2] << 8 | pkt[off + 3]);
    }
    if (off > n)
        return -1;
    *ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 | pkt[11];
    *seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    *payload_off = off;
    return 0;
}

void media_frame(uint8_t out[MEDIA_PAYLOAD], unsigned n)
{
    char text[MEDIA_PAYLOAD + 1];
    int k = snprintf(text, sizeof text, "frame %03u: imssec demo audio, 160 bytes per 20 ms. ",
                     n % 1000);
    size_t i;
    for (i = 0; i < MEDIA_PAYLOAD; i++)
        out[i] = (uint8_t)text[i % (size_t)k];
}

int media_frame_check(const uint8_t *p, size_t len, unsigned *n)
{
    uint8_t want[MEDIA_PAYLOAD];
    unsigned x;
    if (len != MEDIA_PAYLOAD || memcmp(p, "frame ", 6) != 0 || p[6] < '0' || p[6] > '9' ||
        p[7] < '0' || p[7] > '9' || p[8] < '0' || p[8] > '9')
        return 0;
    x = (unsigned)(p[6] - '0') * 100 + (unsigned)(p[7] - '0') * 10 + (unsigned)(p[8] - '0');
    media_frame(want, x);
    if (memcmp(p, want, MEDIA_PAYLOAD) != 0)
        return 0;
    *n = x;
    return 1;
}

/* ---- SRTP --------------------------------------------------------------------- */

int media_srtp_setup(media_srtp *s, const imssec_sdp_keys *k, imssec_errinfo *err)
{
    imssec_srtp_params rx, tx;
    imssec_srtp_key rxk[IMSSEC_SRTP_KEYS_MAX], txk[IMSSEC_SRTP_KEYS_MAX];
    int rc;
    memset(s, 0, sizeof *s);
    /* rx: the peer's sending key (INBOUND), tx: ours; with e2ae the
     * lifetimes are the RFC 3711 defaults (TS 33.328 7.2.1 step 7) */
    rc = imssec_sdp_keys_srtp(k, &rx, rxk, &tx, txk);
    if (rc == IMSSEC_OK) {
        rx.auto_streams = 1; /* the peer's SSRC is whatever it sends (RFC 3711 3.2.3) */
        tx.auto_streams = 1;
        rc = imssec_srtp_session_setup(&s->rx, &rx, s->rx_streams, 2, err);
    }
    if (rc == IMSSEC_OK) {
        rc = imssec_srtp_session_setup(&s->tx, &tx, s->tx_streams, 2, err);
        if (rc != IMSSEC_OK)
            imssec_srtp_session_wipe(&s->rx);
    }
    imssec_wipe(rxk, sizeof rxk);
    imssec_wipe(txk, sizeof txk);
    s->up = rc == IMSSEC_OK;
    return rc;
}

void media_srtp_wipe(media_srtp *s)
{
    if (s->up) {
        imssec_srtp_session_wipe(&s->tx);
        imssec_srtp_session_wipe(&s->rx);
    }
    s->up = 0;
}

/* ---- the IMS Access GW -------------------------------------------------------- */

void media_gw_open(media_gw *g, const imssec_addr *ip)
{
    memset(g, 0, sizeof *g);
    media_open(&g->ue, ip);
    media_open(&g->core, ip);
    g->chan_ue = g->chan_core = -1;
    g->open = 1;
}

void media_gw_from_ue(void *user, int fd)
{
    media_gw *g = user;
    uint8_t pkt[MEDIA_PKT_MAX];
    imssec_addr src;
    imssec_srtp_rx rx;
    imssec_errinfo e;
    unsigned sport = 0;
    size_t len = 0;
    long n = net_recvfrom(fd, pkt, sizeof pkt, &src, &sport);
    int rc;
    if (n <= 0)
        return;
    if (!g->srtp.up) {
        g->early++; /* before the answer there are no keys: nothing to check it with */
        return;
    }
    memset(&e, 0, sizeof e);
    /* 7.2.1 step 9: "checks integrity / decrypts the media stream arriving
     * from IMS UE A" with K11 */
    rc = imssec_srtp_unprotect(&g->srtp.rx, pkt, (size_t)n, &len, &rx, &e);
    if (rc != IMSSEC_OK) {
        g->refused++;
        g->last_verdict = rc;
        ladder("    gw: SRTP packet from the UE refused: %s (%s)", imssec_errname(rc),
               e.what ? e.what : imssec_strerror(rc));
        return;
    }
    g->from_ue++;
    if (!imssec_addr_equal(&src, &g->ue.peer) || sport != g->ue.peer_port) {
        /* symmetric RTP: the UE's SDP named another address (a NAT): what
         * authenticated came from here, so SRTP towards the UE goes here */
        char t[IMSSEC_ADDR_TEXT_MAX + 1];
        ladder("    gw: authenticated SRTP from %s:%u: sending to the UE there", addr_text(&src, 1, t),
               sport);
        g->ue.peer = src;
        g->ue.peer_port = sport;
    }
    /* "before passing it on towards the terminating network" as RTP (6.2.1.1) */
    media_send(&g->core, pkt, len);
    g->to_core++;
}

void media_gw_from_core(void *user, int fd)
{
    media_gw *g = user;
    uint8_t pkt[MEDIA_PKT_MAX];
    imssec_errinfo e;
    size_t len = 0;
    long n = net_recvfrom(fd, pkt, sizeof pkt - IMSSEC_SRTP_OVERHEAD_MAX, NULL, NULL);
    int rc;
    if (n <= 0)
        return;
    if (!g->srtp.up) {
        g->early++;
        return;
    }
    g->from_core++;
    memset(&e, 0, sizeof e);
    /* 7.2.1 step 9: "integrity protects / encrypts the media stream arriving
     * from the terminating network" with K12 */
    rc = imssec_srtp_protect(&g->srtp.tx, pkt, (size_t)n, sizeof pkt, &len, &e);
    if (rc != IMSSEC_OK) {
        g->refused++;
        g->last_verdict = rc;
        ladder("    gw: RTP packet from the core not protected: %s", imssec_errname(rc));
        return;
    }
    media_send(&g->ue, pkt, len);
    g->to_ue++;
}

void media_gw_close(media_gw *g)
{
    if (!g->open)
        return;
    g->open = 0;
    media_srtp_wipe(&g->srtp);
    media_close(&g->ue);
    media_close(&g->core);
}
