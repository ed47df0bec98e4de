/*
 * tcp_lite.c -- see tcp_lite.h.  RFC 9293 section numbers in the comments.
 */
#include "tcp_lite.h"

#include <string.h>

#define TL_RTO_INIT 400      /* ms; RFC 6298 says 1 s: on loopback less is enough */
#define TL_TRIES_MAX 6
#define TL_TIME_WAIT_MS 1000 /* 2 MSL would be minutes (3.6.1); an example need not */

/* Sequence arithmetic modulo 2^32 (3.4). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LE(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v);
}

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) << 16 | rd16(p + 2);
}

const char *tl_state_name(int state)
{
    static const char *const n[] = {"FREE",        "SYN-SENT",  "SYN-RECEIVED", "ESTABLISHED",
                                    "FIN-WAIT-1",  "FIN-WAIT-2", "CLOSING",     "TIME-WAIT",
                                    "CLOSE-WAIT",  "LAST-ACK"};
    return state >= 0 && state <= TL_LAST_ACK ? n[state] : "?";
}

void tl_put_header(uint8_t hdr[TL_HDR], uint16_t sport, uint16_t dport, uint32_t seq,
                   uint32_t ack, unsigned flags, uint16_t window)
{
    memset(hdr, 0, TL_HDR);
    be16(hdr, sport);
    be16(hdr + 2, dport);
    be32(hdr + 4, seq);
    be32(hdr + 8, ack);
    hdr[12] = (TL_HDR / 4) << 4; /* data offset */
    hdr[13] = (uint8_t)flags;
    be16(hdr + 14, window);
}

void tl_init(tl_stack *s, void *user, const imssec_io *io)
{
    memset(s, 0, sizeof *s);
    s->user = user;
    s->io = io;
}

static void tl_note(tl_stack *s, const tl_conn *c, const char *what)
{
    if (s->note)
        s->note(s->user, c, what);
}

void tl_drop(tl_stack *s, tl_conn *c, const char *why)
{
    if (c->state == TL_FREE)
        return;
    tl_note(s, c, why);
    memset(c, 0, sizeof *c);
}

static uint16_t tl_window(const tl_conn *c)
{
    size_t w = TL_BUF - c->rcv_len;
    return (uint16_t)(w > 65535 ? 65535 : w);
}

/* Send one segment: flags, sequence number, data (SYN carries the MSS
 * option, 3.7.1). */
static int tl_emit(tl_stack *s, tl_conn *c, unsigned flags, uint32_t seq, const uint8_t *data,
                   size_t n)
{
    uint8_t seg[TL_HDR + 4 + TL_MSS];
    size_t h = TL_HDR;
    if (n > TL_MSS)
        n = TL_MSS;
    tl_put_header(seg, c->lport, c->rport, seq, flags & TL_ACK ? c->rcv_nxt : 0, flags,
                  tl_window(c));
    if (flags & TL_SYN) {
        seg[h] = 2; /* kind MSS, length 4 */
        seg[h + 1] = 4;
        be16(seg + h + 2, TL_MSS);
        h += 4;
        seg[12] = (uint8_t)((h / 4) << 4);
    }
    if (n)
        memcpy(seg + h, data, n);
    if (s->output(s->user, c, seg, h + n) != 0) {
        tl_drop(s, c, "dropped: its SA is gone");
        return -1;
    }
    return 0;
}

static void tl_ack_now(tl_stack *s, tl_conn *c)
{
    (void)tl_emit(s, c, TL_ACK, c->snd_nxt, NULL, 0);
}

static uint32_t tl_fin_seq(const tl_conn *c)
{
    return c->data_seq + (uint32_t)c->snd_len;
}

static void tl_arm(tl_conn *c, uint64_t now)
{
    if (c->snd_una != c->snd_nxt && !c->rto_at)
        c->rto_at = now + c->rto_ms;
    if (c->snd_una == c->snd_nxt) {
        c->rto_at = 0;
        c->tries = 0;
        c->rto_ms = TL_RTO_INIT;
    }
}

/* Send what may be sent: the SYN, then data within the peer's window in
 * segments of at most the peer's MSS, then the FIN (3.10.4, 3.10.7). */
static void tl_push(tl_stack *s, tl_conn *c, uint64_t now)
{
    if (c->state == TL_SYN_SENT || c->state == TL_SYN_RCVD) {
        if (c->snd_nxt == c->iss) {
            if (tl_emit(s, c, c->state == TL_SYN_SENT ? TL_SYN : TL_SYN | TL_ACK, c->iss, NULL,
                        0) != 0)
                return;
            c->snd_nxt = c->iss + 1;
        }
        tl_arm(c, now);
        return;
    }
    if (c->state != TL_ESTABLISHED && c->state != TL_CLOSE_WAIT && c->state != TL_FIN_WAIT_1 &&
        c->state != TL_CLOSING && c->state != TL_LAST_ACK)
        return;
    for (;;) {
        uint32_t end = tl_fin_seq(c), limit = c->snd_una + c->snd_wnd;
        size_t off, n;
        if (!SEQ_LT(c->snd_nxt, end) || !SEQ_LT(c->snd_nxt, limit))
            break;
        off = (size_t)(c->snd_nxt - c->data_seq);
        n = (size_t)(end - c->snd_nxt);
        if (n > (size_t)(limit - c->snd_nxt))
            n = (size_t)(limit - c->snd_nxt);
        if (n > c->peer_mss)
            n = c->peer_mss;
        if (tl_emit(s, c, TL_ACK | TL_PSH, c->snd_nxt, c->snd + off, n) != 0)
            return;
        c->snd_nxt += (uint32_t)n;
    }
    if (c->fin_queued && c->snd_nxt == tl_fin_seq(c)) {
        if (tl_emit(s, c, TL_FIN | TL_ACK, c->snd_nxt, NULL, 0) != 0)
            return;
        c->snd_nxt++;
        if (c->state == TL_ESTABLISHED)
            c->state = TL_FIN_WAIT_1;
        else if (c->state == TL_CLOSE_WAIT)
            c->state = TL_LAST_ACK;
    }
    tl_arm(c, now);
}

static tl_conn *tl_slot(tl_stack *s)
{
    int i;
    for (i = 0; i < TL_MAX_CONN; i++)
        if (s->conn[i].state == TL_FREE)
            return &s->conn[i];
    return NULL;
}

static void tl_setup(tl_stack *s, tl_conn *c, const imssec_addr *raddr, uint16_t rport,
                     uint16_t lport)
{
    uint8_t r[4] = {0, 0, 0, 0};
    memset(c, 0, sizeof *c);
    c->raddr = *raddr;
    c->rport = rport;
    c->lport = lport;
    /* 3.4.1: the initial sequence number should be unpredictable */
    if (s->io && s->io->random)
        (void)s->io->random(s->io->user, r, sizeof r);
    c->iss = rd32(r);
    c->snd_una = c->snd_nxt = c->iss;
    c->data_seq = c->iss + 1;
    c->peer_mss = 536; /* 3.7.1: the default when the peer sends no MSS option */
    c->snd_wnd = 1;    /* room for the SYN until the peer announces its window */
    c->rto_ms = TL_RTO_INIT;
}

tl_conn *tl_find(tl_stack *s, const imssec_addr *raddr, uint16_t rport, uint16_t lport)
{
    int i;
    for (i = 0; i < TL_MAX_CONN; i++) {
        tl_conn *c = &s->conn[i];
        if (c->state != TL_FREE && c->rport == rport && c->lport == lport &&
            imssec_addr_equal(&c->raddr, raddr))
            return c;
    }
    return NULL;
}

tl_conn *tl_connect(tl_stack *s, const imssec_addr *raddr, uint16_t rport, uint16_t lport,
                    imssec_sa_ref out_sa, uint64_t now)
{
    tl_conn *c = tl_slot(s);
    if (!c)
        return NULL;
    tl_setup(s, c, raddr, rport, lport);
    c->state = TL_SYN_SENT;
    c->out_sa = out_sa;
    tl_note(s, c, "SYN sent");
    tl_push(s, c, now);
    return c->state == TL_FREE ? NULL : c;
}

int tl_send(tl_stack *s, tl_conn *c, const void *data, size_t n, uint64_t now)
{
    if (c->fin_queued || c->state == TL_FREE || c->snd_len + n > TL_BUF)
        return -1;
    memcpy(c->snd + c->snd_len, data, n);
    c->snd_len += n;
    tl_push(s, c, now);
    return 0;
}

void tl_close(tl_stack *s, tl_conn *c, uint64_t now)
{
    if (c->state == TL_FREE || c->fin_queued)
        return;
    if (c->state == TL_SYN_SENT) {
        tl_drop(s, c, "closed before it was open");
        return;
    }
    c->fin_queued = 1;
    tl_push(s, c, now);
}

void tl_consume(tl_stack *s, tl_conn *c, size_t n, uint64_t now)
{
    int was_closed = tl_window(c) < TL_MSS;
    if (n > c->rcv_len)
        n = c->rcv_len;
    memmove(c->rcv, c->rcv + n, c->rcv_len - n);
    c->rcv_len -= n;
    (void)now;
    if (was_closed && tl_window(c) >= TL_MSS && c->state != TL_FREE)
        tl_ack_now(s, c); /* a window update (3.8.6.2.2) */
}

/* The MSS option of a SYN (3.7.1), or 536. */
static uint16_t tl_mss_option(const uint8_t *seg, size_t hlen)
{
    size_t i = TL_HDR;
    while (i < hlen) {
        if (seg[i] == 0)
            break;
        if (seg[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= hlen || seg[i + 1] < 2 || i + seg[i + 1] > hlen)
            break;
        if (seg[i] == 2 && seg[i + 1] == 4) {
            uint32_t m = rd16(seg + i + 2);
            return (uint16_t)(m < 64 ? 64 : m > TL_MSS ? TL_MSS : m);
        }
        i += seg[i + 1];
    }
    return 536;
}

/* An acceptable ACK (3.10.7.4): frees acknowledged data, notes an
 * acknowledged FIN, takes the peer's window. */
static void tl_on_ack(tl_stack *s, tl_conn *c, uint32_t ack, uint32_t wnd, uint64_t now)
{
    if (SEQ_GT(ack, c->snd_nxt))
        return; /* acknowledges something not yet sent: ignore */
    c->snd_wnd = wnd;
    if (!SEQ_GT(ack, c->snd_una))
        return;
    c->snd_una = ack;
    if (SEQ_GT(ack, c->data_seq)) {
        size_t done = (size_t)(ack - c->data_seq);
        if (done > c->snd_len)
            done = c->snd_len; /* the rest is the FIN */
        memmove(c->snd, c->snd + done, c->snd_len - done);
        c->snd_len -= done;
        c->data_seq += (uint32_t)done;
    }
    c->rto_at = 0;
    c->tries = 0;
    c->rto_ms = TL_RTO_INIT;
    if (c->state == TL_SYN_RCVD) {
        c->state = TL_ESTABLISHED;
        tl_note(s, c, "established");
    }
    if (c->fin_queued && ack == tl_fin_seq(c) + 1) {
        if (c->state == TL_FIN_WAIT_1)
            c->state = TL_FIN_WAIT_2;
        else if (c->state == TL_CLOSING) {
            c->state = TL_TIME_WAIT;
            c->tw_until = now + TL_TIME_WAIT_MS;
        } else if (c->state == TL_LAST_ACK) {
            tl_drop(s, c, "closed");
            return;
        }
    }
    tl_arm(c, now);
}

void tl_input(tl_stack *s, const imssec_flow *f, const uint8_t *seg, size_t n,
              imssec_sa_ref in_sa, uint64_t now)
{
    tl_conn *c;
    uint32_t seq, ack, wnd;
    unsigned flags;
    size_t hlen, dlen;
    const uint8_t *data;
    if (n < TL_HDR)
        return;
    hlen = (size_t)(seg[12] >> 4) * 4;
    if (hlen < TL_HDR || hlen > n)
        return;
    seq = rd32(seg + 4);
    ack = rd32(seg + 8);
    flags = seg[13];
    wnd = rd16(seg + 14);
    data = seg + hlen;
    dlen = n - hlen;
    c = tl_find(s, &f->src, f->sport, f->dport);

    if (!c) {
        /* LISTEN (3.10.7.2): a SYN opens a connection if the owner takes it */
        tl_conn tmp;
        if ((flags & (TL_SYN | TL_ACK | TL_RST)) != TL_SYN || !s->accept || !(c = tl_slot(s)))
            return;
        tl_setup(s, &tmp, &f->src, f->sport, f->dport);
        tmp.in_sa = in_sa;
        if (s->accept(s->user, &tmp) != 0)
            return;
        *c = tmp;
        c->state = TL_SYN_RCVD;
        c->rcv_nxt = seq + 1;
        c->peer_mss = tl_mss_option(seg, hlen);
        c->snd_wnd = wnd;
        tl_note(s, c, "SYN received");
        tl_push(s, c, now);
        return;
    }
    if (flags & TL_RST) {
        /* 3.10.7.3: accept a reset only at the expected sequence number */
        if (c->state == TL_SYN_SENT ? (flags & TL_ACK) && ack == c->iss + 1 : seq == c->rcv_nxt)
            tl_drop(s, c, "reset by the peer");
        return;
    }
    if (c->state == TL_SYN_SENT) {
        /* 3.10.7.3: our SYN acknowledged with the peer's SYN */
        if ((flags & (TL_SYN | TL_ACK)) != (TL_SYN | TL_ACK) || ack != c->iss + 1)
            return;
        c->rcv_nxt = seq + 1;
        c->peer_mss = tl_mss_option(seg, hlen);
        c->state = TL_ESTABLISHED;
        tl_on_ack(s, c, ack, wnd, now);
        tl_note(s, c, "established");
        tl_ack_now(s, c);
        tl_push(s, c, now);
        return;
    }
    if (flags & TL_SYN) {
        /* a retransmitted SYN (our SYN-ACK was lost) or a duplicate: the
         * answer is our current state (3.10.7.4, "send an ACK") */
        if (c->state == TL_SYN_RCVD && seq + 1 == c->rcv_nxt) {
            c->snd_nxt = c->iss;
            tl_push(s, c, now);
        } else {
            tl_ack_now(s, c);
        }
        return;
    }
    if (!(flags & TL_ACK))
        return; /* 3.10.7.4: "if the ACK bit is off drop the segment" */
    tl_on_ack(s, c, ack, wnd, now);
    if (c->state == TL_FREE)
        return;
    if (dlen || (flags & TL_FIN)) {
        if (seq != c->rcv_nxt) {
            /* out of order or a duplicate: not kept; the ACK tells the
             * peer what we expect (3.10.7.4) */
            tl_ack_now(s, c);
            return;
        }
        if (dlen > TL_BUF - c->rcv_len)
            dlen = TL_BUF - c->rcv_len; /* beyond our window: the peer resends it */
        if (c->state == TL_ESTABLISHED || c->state == TL_FIN_WAIT_1 || c->state == TL_FIN_WAIT_2) {
            memcpy(c->rcv + c->rcv_len, data, dlen);
            c->rcv_len += dlen;
            c->rcv_nxt += (uint32_t)dlen;
        }
        if ((flags & TL_FIN) && dlen == n - hlen && c->state != TL_CLOSE_WAIT &&
            c->state != TL_LAST_ACK && c->state != TL_CLOSING && c->state != TL_TIME_WAIT) {
            c->rcv_nxt++;
            tl_note(s, c, "FIN received");
            if (c->state == TL_ESTABLISHED || c->state == TL_SYN_RCVD) {
                /* SIP does not half-close: the peer is done, so are we */
                c->state = TL_CLOSE_WAIT;
                c->fin_queued = 1;
            } else if (c->state == TL_FIN_WAIT_1) {
                c->state = TL_CLOSING;
            } else if (c->state == TL_FIN_WAIT_2) {
                c->state = TL_TIME_WAIT;
                c->tw_until = now + TL_TIME_WAIT_MS;
            }
        }
        tl_ack_now(s, c);
    }
    if (c->state != TL_FREE)
        tl_push(s, c, now);
}

void tl_tick(tl_stack *s, uint64_t now)
{
    int i;
    for (i = 0; i < TL_MAX_CONN; i++) {
        tl_conn *c = &s->conn[i];
        if (c->state == TL_FREE)
            continue;
        if (c->state == TL_TIME_WAIT && now >= c->tw_until) {
            tl_drop(s, c, "closed (TIME-WAIT over)");
            continue;
        }
        if (c->rto_at && now >= c->rto_at) {
            /* 3.8.1: retransmit from the oldest unacknowledged octet */
            if (++c->tries > TL_TRIES_MAX) {
                tl_drop(s, c, "aborted: no acknowledgement");
                continue;
            }
            tl_note(s, c, "retransmission");
            c->snd_nxt = c->snd_una;
            c->rto_at = 0;
            c->rto_ms *= 2;
            tl_push(s, c, now); /* the SYN, the data and the FIN go again as needed */
        }
    }
}

uint64_t tl_next(const tl_stack *s)
{
    uint64_t next = UINT64_MAX;
    int i;
    for (i = 0; i < TL_MAX_CONN; i++) {
        const tl_conn *c = &s->conn[i];
        if (c->state == TL_FREE)
            continue;
        if (c->rto_at && c->rto_at < next)
            next = c->rto_at;
        if (c->state == TL_TIME_WAIT && c->tw_until < next)
            next = c->tw_until;
    }
    return next;
}
