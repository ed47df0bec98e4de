/*
 * call.c -- see call.h.
 */
#include "call.h"
#include "ladder.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SDP text ------------------------------------------------------------- */

size_t sdp_plain(char *out, size_t cap, const char *user, const imssec_addr *ip, unsigned port)
{
    char h[IMSSEC_ADDR_TEXT_MAX + 1];
    const char *fam = ip->len == 16 ? "IP6" : "IP4";
    int n;
    addr_text(ip, 0, h);
    /* RFC 8866 5; RFC 3551: payload type 0 is PCMU/8000 */
    n = snprintf(out, cap,
                 "v=0\r\no=%s 2890844526 2890844526 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
                 "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:%d\r\na=sendrecv\r\n",
                 user, fam, h, fam, h, port, MEDIA_FRAME_MS);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* The next line of sdp from *pos: [*b, *e) without its line end (LF or
 * CRLF, RFC 8866 5). */
static int sdp_line(sip_str sdp, size_t *pos, size_t *b, size_t *e)
{
    size_t i = *pos;
    if (i >= sdp.n)
        return 0;
    *b = i;
    while (i < sdp.n && sdp.p[i] != '\n')
        i++;
    *e = i > *b && sdp.p[i - 1] == '\r' ? i - 1 : i;
    *pos = i < sdp.n ? i + 1 : i;
    return 1;
}

int sdp_media_addr(sip_str sdp, imssec_addr *ip, unsigned *port)
{
    size_t pos = 0, b, e;
    int have_c = 0, have_m = 0;
    while (sdp_line(sdp, &pos, &b, &e) && !(have_c && have_m)) {
        const char *l = sdp.p + b;
        size_t n = e - b;
        if (!have_c && n > 11 && memcmp(l, "c=IN IP", 7) == 0) {
            /* c=IN IP4 <addr> (RFC 8866 5.7) */
            const char *a = l + 9;
            size_t al = n - 9, k = 0;
            while (k < al && a[k] != ' ' && a[k] != '/')
                k++;
            have_c = imssec_addr_parse((imssec_str){a, k}, ip) == IMSSEC_OK;
        } else if (!have_m && n > 2 && memcmp(l, "m=", 2) == 0) {
            const char *sp = memchr(l, ' ', n);
            if (sp) {
                *port = (unsigned)strtoul(sp + 1, NULL, 10);
                have_m = 1;
            }
        }
    }
    return have_c && have_m ? 0 : -1;
}

int sdp_readdress(sip_str in, const imssec_addr *ip, unsigned port, char *out, size_t cap,
                  size_t *len)
{
    char h[IMSSEC_ADDR_TEXT_MAX + 1];
    size_t pos = 0, b, e, n = 0;
    int first_m = 1, k;
    addr_text(ip, 0, h);
    while (sdp_line(in, &pos, &b, &e)) {
        const char *l = in.p + b, *end = in.p + e;
        size_t ll = e - b, eol = (size_t)(in.p + pos - end); /* the line end, as it was */
        if (ll > 7 && memcmp(l, "c=IN IP", 7) == 0) {
            k = snprintf(out + n, cap - n, "c=IN %s %s", ip->len == 16 ? "IP6" : "IP4", h);
        } else if (first_m && ll > 2 && memcmp(l, "m=", 2) == 0 && memchr(l, ' ', ll)) {
            /* m=<media> <port> <proto> <fmt>...: only the port changes */
            const char *sp = memchr(l, ' ', ll), *sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
            first_m = 0;
            if (!sp2)
                return -1;
            k = snprintf(out + n, cap - n, "%.*s %u%.*s", (int)(sp - l), l, port,
                         (int)(end - sp2), sp2);
        } else {
            k = snprintf(out + n, cap - n, "%.*s", (int)ll, l);
        }
        if (k < 0 || (size_t)k >= cap - n || cap - n - (size_t)k <= eol)
            return -1;
        n += (size_t)k;
        memcpy(out + n, end, eol);
        n += eol;
    }
    *len = n;
    return 0;
}

/* ---- the hop and the policy ------------------------------------------------- */

int call_hop_confidential(const imssec_sa_table *t, imssec_sa_ref sa, char *why, size_t cap)
{
    imssec_sa_info i;
    const char *name;
    /* the decision is the library's (TS 33.328 6.2.1.2); i is only for the log */
    int conf = imssec_sa_confidential(t, sa);
    if (!sa || imssec_sa_get(t, sa, &i) != IMSSEC_OK) {
        snprintf(why, cap, "no SA");
        return 0;
    }
    name = imssec_ealg_name(i.ealg);
    snprintf(why, cap, "spi=0x%08x, ealg %s", (unsigned)i.spi, name ? name : "?");
    imssec_wipe(&i, sizeof i);
    return conf;
}

static const int call_suites[] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80,
                                  IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32};

void call_policy(imssec_sdes_policy *p, int hop_confidential)
{
    memset(p, 0, sizeof *p);
    p->suites = call_suites;
    p->n_suites = 2;
    p->hop_confidential = hop_confidential;
}

/* ---- the UE ----------------------------------------------------------------------- */

/* The UE's side of the media while the call runs. */
typedef struct call_ue_media {
    media_ep ep;
    media_srtp srtp;
    unsigned got, echoed, failed;
    int last_verdict;
} call_ue_media;

static void call_ue_rx(void *user, int fd)
{
    call_ue_media *u = user;
    uint8_t pkt[MEDIA_PKT_MAX];
    imssec_srtp_rx rx;
    size_t len = 0, off;
    uint32_t ssrc;
    uint16_t seq;
    unsigned no;
    long n = net_recvfrom(fd, pkt, sizeof pkt, NULL, NULL);
    int rc;
    if (n <= 0)
        return;
    /* 7.2.1 step 9: the UE "checks integrity / decrypts" what the gateway sends */
    rc = imssec_srtp_unprotect(&u->srtp.rx, pkt, (size_t)n, &len, &rx, NULL);
    if (rc != IMSSEC_OK) {
        u->failed++;
        u->last_verdict = rc;
        return;
    }
    u->got++;
    if (media_rtp_parse(pkt, len, &ssrc, &seq, &off) == 0 &&
        media_frame_check(pkt + off, len - off, &no))
        u->echoed++;
}

/* A request of the call: Via with port_us and rport (TS 24.229 5.1.2A),
 * the P-CSCF's port_ps and the Service-Route as the route (RFC 3608). */
static void call_ue_request(sip_buf *b, const call_ue_env *e, const char *method, const char *uri,
                            unsigned cseq, unsigned port_ps, const char *to_tag)
{
    char branch[32], h[IMSSEC_ADDR_TEXT_MAX + 1], p[IMSSEC_ADDR_TEXT_MAX + 1];
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    addr_text(&e->ip, 1, h);
    sip_b_init(b);
    sip_b_add(b, "%s %s SIP/2.0\r\n", method, uri);
    sip_b_add(b, "Via: SIP/2.0/%s %s:%u;branch=%s;rport\r\n",
              e->transport == IMSSEC_TRANSPORT_TCP ? "TCP" : "UDP", h, e->port_us, branch);
    sip_b_add(b, "Max-Forwards: 70\r\n");
    sip_b_add(b, "Route: <sip:%s:%u;lr>\r\n", addr_text(&e->pcscf_ip, 1, p), port_ps);
    if (e->service_route[0])
        sip_b_add(b, "Route: <%s>\r\n", e->service_route);
    sip_b_add(b, "From: <%s>;tag=%s\r\n", e->impu, e->tag);
    sip_b_add(b, "To: <sip:bob@%s>%s%s\r\n", e->realm, to_tag ? ";tag=" : "", to_tag ? to_tag : "");
    sip_b_add(b, "Call-ID: %s\r\n", e->call_id);
    sip_b_add(b, "CSeq: %u %s\r\n", cseq, method);
}

/* One request of the call over the SA sa/ routes it to and its final
 * response (ACK: none).  Returns the status (0 for ACK), -1. */
static int call_ue_txn(const call_ue_env *e, sip_buf *b, unsigned cseq, int is_ack, sip_msg *m,
                       sio_from *from)
{
    imssec_sa_ref ref = 0;
    int status, rc;
    if (imssec_sa_route(e->sat, e->user, e->transport, 1, 0, &ref) != IMSSEC_OK)
        return -1;
    if (is_ack) /* the ACK of a 2xx is a transaction of its own, without response (RFC 3261 13.2.2.4) */
        return e->send(ref, 1, b) == 0 ? 0 : -1;
    imssec_sa_txn_begin(e->sat, ref); /* 7.4: a transaction keeps its set */
    if (e->send(ref, 1, b) != 0)
        return -1;
    status = e->wait(cseq, m, from);
    rc = status > 0 ? e->msg_in(m, from, "a message arrived on the new SAs (7.4.1a)") : -1;
    imssec_sa_txn_end(e->sat, ref, net_now_ms());
    return rc == IMSSEC_OK ? status : -1;
}

int call_ue(const call_ue_env *e)
{
    static char sdp[2048], offer[4096];
    static call_ue_media u;
    imssec_sdp_keys keys[2];
    imssec_sdes_policy pol;
    imssec_sdp_opts o;
    imssec_errinfo er;
    imssec_sa_ref ref = 0;
    imssec_sa_info info;
    sip_buf b;
    sip_msg m;
    sio_from from;
    char hop_why[64], name[96], line[200], to_tag[64] = "", uri[160], t[IMSSEC_ADDR_TEXT_MAX + 1];
    size_t n, olen = 0, nk = 0, ll = 0;
    unsigned port_ps, cseq = 1, sent = 0, k, ka0;
    int e2ae, hop, rc, status, chan, ok;
    uint64_t next, tail = 0;

    memset(&u, 0, sizeof u);
    memset(keys, 0, sizeof keys);
    memset(&er, 0, sizeof er);
    e2ae = imssec_sa_e2ae(e->sat, e->user);
    if (imssec_sa_route(e->sat, e->user, e->transport, 1, 0, &ref) != IMSSEC_OK ||
        imssec_sa_get(e->sat, ref, &info) != IMSSEC_OK) {
        verify(0, "call-offer", "sa/ names no SA for the INVITE");
        return -1;
    }
    port_ps = info.dport;
    imssec_wipe(&info, sizeof info);
    /* 6.2.1.2: the INVITE with the keys travels on `ref` */
    hop = call_hop_confidential(e->sat, ref, hop_why, sizeof hop_why);
    media_open(&u.ep, &e->sock_ip);
    n = sdp_plain(sdp, sizeof sdp, e->user_part, &e->ip, u.ep.port);
    call_policy(&pol, hop);
    memset(&o, 0, sizeof o);
    o.policy = &pol;
    o.io = e->lib_io;
    o.flags = e2ae ? IMSSEC_SDP_REG_E2AE : 0; /* 7.1.1: both indicated support */
    rc = imssec_sdp_ue_offer((imssec_str){sdp, n}, &o, offer, sizeof offer - 1, &olen, keys, 2,
                             &nk, &er);
    if (rc == IMSSEC_E_INSECURE) {
        /* 6.2.1.2: no key over a hop without confidentiality; 7.1.1: with
         * e2ae agreed every RTP stream must be secured, so no call */
        ok = verify(!hop, "call-key-refused",
                    "imssec_sdp_ue_offer: %s (%s): the INVITE would go on %s; no SDES key is "
                    "sent and no call is set up (7.1.1: all RTP streams must be secured)",
                    imssec_errname(rc), er.clause ? er.clause : "TS 33.328 6.2.1.2", hop_why);
        media_close(&u.ep);
        if (e->message("no call: the SDES keys were refused, the SIP SAs do not encrypt "
                       "(TS 33.328 6.2.1.2)") != 200)
            ok = 0;
        return ok ? 0 : -1;
    }
    if (rc != IMSSEC_OK || nk != 1 || keys[0].mode != IMSSEC_SDP_MODE_E2AE) {
        verify(0, "call-offer", "imssec_sdp_ue_offer: %s, %u sections, e2ae registered %d",
               rc == IMSSEC_OK ? "no e2ae section" : err_text(&er, rc), (unsigned)nk, e2ae);
        media_close(&u.ep);
        return -1;
    }
    offer[olen] = '\0';
    verify(strstr(offer, "RTP/SAVP") && strstr(offer, "a=3ge2ae:requested") && keys[0].n_local == 2,
           "call-offer",
           "INVITE offer made by imssec_sdp_ue_offer: RTP/SAVP, %u a=crypto (%s, %s), "
           "a=3ge2ae:requested (TS 33.328 7.2.1 step 1); e2ae registered, the INVITE goes on %s",
           (unsigned)keys[0].n_local, imssec_srtp_suite_name(keys[0].local[0].suite),
           imssec_srtp_suite_name(keys[0].local[1].suite), hop_why);

    /* INVITE, over the SA sa/ names (7.1) */
    snprintf(uri, sizeof uri, "sip:bob@%s", e->realm);
    call_ue_request(&b, e, "INVITE", uri, cseq, port_ps, NULL);
    sip_b_add(&b, "Contact: <sip:%s@%s:%u>\r\n", e->user_part, addr_text(&e->ip, 1, t), e->port_us);
    sip_b_add(&b, "Content-Type: application/sdp\r\n");
    sip_b_end(&b, offer, olen);
    status = call_ue_txn(e, &b, cseq, 0, &m, &from);
    if (status != 200 || !m.body.n) {
        verify(0, "call-answer", "INVITE: %d", status);
        goto out;
    }
    /* 7.2.1 step 8: the answer must carry the gateway's key for our offer */
    rc = imssec_sdp_ue_check_answer(m.body, keys, nk, &er);
    if (rc == IMSSEC_OK && keys[0].status == IMSSEC_SDP_AGREED)
        (void)imssec_sdes_build(&keys[0].remote, line, sizeof line - 1, &ll);
    line[ll] = '\0';
    if (rc == IMSSEC_OK && sdp_media_addr(m.body, &u.ep.peer, &u.ep.peer_port) != 0)
        rc = IMSSEC_E_NOT_FOUND;
    if (!verify(rc == IMSSEC_OK && keys[0].status == IMSSEC_SDP_AGREED, "call-answer",
                "200 OK on %s: RTP/SAVP with the IMS-ALG's a=crypto:%.60s... accepted "
                "(imssec_sdp_ue_check_answer, 7.2.1 step 8); media to %s:%u",
                ex_dp_name(e->dp, from.sa, name, sizeof name), line,
                addr_text(&u.ep.peer, 1, t), u.ep.peer_port))
        goto out;
    imssec_wipe(line, sizeof line);
    {
        sip_str tt, c;
        if (sip_get(&m, "To", 0, &tt) && sip_param(tt, "tag", &tt))
            sip_cstr(tt, to_tag, sizeof to_tag);
        if (sip_get(&m, "Contact", 0, &c))
            sip_uri_of(c, uri, sizeof uri); /* the remote target (RFC 3261 12.1.2) */
    }
    call_ue_request(&b, e, "ACK", uri, cseq, port_ps, to_tag);
    sip_b_end(&b, NULL, 0);
    if (call_ue_txn(e, &b, cseq, 1, &m, &from) != 0)
        goto out;

    /* 7.2.1 step 9: SRTP with the IMS Access GW, 20 ms frames */
    if (media_srtp_setup(&u.srtp, &keys[0], &er) != IMSSEC_OK) {
        verify(0, "call-srtp-ue", "SRTP sessions: %s", err_text(&er, er.code));
        goto out;
    }
    chan = sio_add_hook(e->io, u.ep.fd, call_ue_rx, &u);
    ka0 = e->dp->keepalives;
    ladder("    media: SRTP to %s:%u (the IMS Access GW), a frame every %d ms", addr_text(&u.ep.peer, 1, t),
           u.ep.peer_port, MEDIA_FRAME_MS);
    next = net_now_ms();
    for (;;) {
        uint64_t now = net_now_ms();
        if (sent < e->frames && now >= next) {
            uint8_t pkt[MEDIA_PKT_MAX], pay[MEDIA_PAYLOAD];
            size_t len = 0;
            media_frame(pay, sent);
            n = media_rtp(&u.ep, pkt, pay, sizeof pay);
            if (imssec_srtp_protect(&u.srtp.tx, pkt, n, sizeof pkt, &len, &er) == IMSSEC_OK)
                media_send(&u.ep, pkt, len);
            if (++sent == e->frames) {
                /* and one with a flipped bit: the gateway must refuse it */
                media_frame(pay, sent);
                n = media_rtp(&u.ep, pkt, pay, sizeof pay);
                if (imssec_srtp_protect(&u.srtp.tx, pkt, n, sizeof pkt, &len, &er) == IMSSEC_OK) {
                    pkt[20] ^= 0x01;
                    ladder("    %u SRTP frames sent; one more with a flipped bit (it must be "
                           "refused)", sent);
                    media_send(&u.ep, pkt, len);
                }
                tail = now + 1000;
            }
            next += MEDIA_FRAME_MS;
            continue;
        }
        if (sent == e->frames && (u.got >= e->frames || now >= tail))
            break;
        e->poll((int)((sent < e->frames ? next : tail) - now));
    }
    sio_remove_hook(e->io, chan);
    k = e->dp->keepalives - ka0;
    if (k)
        ladder("    %u NAT keepalives meanwhile: the media left the SAs idle (M.7.2)", k);
    verify(u.got == e->frames && u.echoed == e->frames && u.failed == 0, "call-srtp-ue",
           "%u RTP frames protected (%s, %u-byte tag) and %u SRTP packets from the gateway "
           "authenticated and decrypted, %u failures; every payload came back as sent",
           sent, imssec_srtp_suite_name(keys[0].local[0].suite),
           (unsigned)imssec_srtp_overhead(&u.srtp.tx, 0), u.got, u.failed);

    /* BYE */
    cseq++;
    call_ue_request(&b, e, "BYE", uri, cseq, port_ps, to_tag);
    sip_b_end(&b, NULL, 0);
    status = call_ue_txn(e, &b, cseq, 0, &m, &from);
    verify(status == 200, "call-bye", "BYE answered %d on %s; SRTP sessions wiped", status,
           status > 0 ? ex_dp_name(e->dp, from.sa, name, sizeof name) : "nothing");
out:
    media_srtp_wipe(&u.srtp);
    media_close(&u.ep);
    imssec_sdp_keys_wipe(keys, 2);
    return verify_failures() ? -1 : 0;
}

/* ---- the IMS-ALG ------------------------------------------------------------------ */

int call_alg_offer(call_alg *a, const char *call_id, sip_str offer, const imssec_addr *gw_ip,
                   int reg_e2ae, int hop_confidential, char *out, size_t cap, size_t *len,
                   int *sip_status)
{
    static const imssec_io io = {NULL, net_random, NULL, NULL};
    static char tmp[4096];
    imssec_sdes_policy pol;
    imssec_sdp_opts o;
    imssec_errinfo er;
    size_t n = 0;
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    int rc;

    call_alg_end(a, NULL);
    memset(&er, 0, sizeof er);
    call_policy(&pol, hop_confidential);
    memset(&o, 0, sizeof o);
    o.policy = &pol;
    o.io = &io;
    o.flags = reg_e2ae ? IMSSEC_SDP_REG_E2AE : 0; /* as stored at registration (7.1.1) */
    rc = imssec_sdp_alg_orig_offer(offer, &o, tmp, sizeof tmp, &n, a->keys, 2, &a->n_keys, &er);
    if (rc == IMSSEC_OK && a->n_keys == 0 && n < cap) {
        /* nothing requested e2ae (7.2.2 or plain RTP): not the gateway's call */
        ladder("    no media stream requests e2ae: the offer goes on as it is");
        memcpy(out, tmp, n);
        *len = n;
        return 0;
    }
    if (rc != IMSSEC_OK || a->n_keys != 1) {
        *sip_status = er.sip_status ? er.sip_status : 488;
        verify(0, "call-alg-offer", "imssec_sdp_alg_orig_offer: %s",
               rc == IMSSEC_OK ? "more than one e2ae stream (the demo's gateway relays one)"
                               : err_text(&er, rc));
        imssec_sdp_keys_wipe(a->keys, 2);
        return -1;
    }
    a->active = 1;
    snprintf(a->call_id, sizeof a->call_id, "%s", call_id);
    /* 7.2.1 step 2: "includes the IMS Access GW in the media path" */
    media_gw_open(&a->gw, gw_ip);
    if (sdp_media_addr(offer, &a->gw.ue.peer, &a->gw.ue.peer_port) != 0 ||
        sdp_readdress((sip_str){tmp, n}, &a->gw.core.local, a->gw.core.port, out, cap, len) != 0) {
        *sip_status = 488;
        verify(0, "call-alg-offer", "the offer names no media address");
        return -1;
    }
    verify(!sip_has((sip_str){out, *len}, "a=crypto") && !sip_has((sip_str){out, *len}, "3ge2ae") &&
               sip_has((sip_str){out, *len}, "RTP/AVP"),
           "call-alg-offer",
           "imssec_sdp_alg_orig_offer: a=crypto:%u %s selected (K11), every a=crypto and "
           "a=3ge2ae:requested removed, RTP/SAVP -> RTP/AVP (TS 33.328 7.2.1 steps 2, 3); the "
           "gateway's core side %s:%u in c=/m=",
           (unsigned)a->keys[0].remote.tag, imssec_srtp_suite_name(a->keys[0].remote.suite),
           addr_text(&a->gw.core.local, 1, t), a->gw.core.port);
    return 0;
}

int call_alg_answer(call_alg *a, sio *io, sip_str answer, int hop_confidential, char *out,
                    size_t cap, size_t *len)
{
    static char tmp[4096];
    imssec_sdes_policy pol;
    imssec_sdp_opts o;
    imssec_errinfo er;
    size_t n = 0;
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    int rc;

    if (!a->active)
        return -1;
    memset(&er, 0, sizeof er);
    if (sdp_media_addr(answer, &a->gw.core.peer, &a->gw.core.peer_port) != 0 ||
        sdp_readdress(answer, &a->gw.ue.local, a->gw.ue.port, tmp, sizeof tmp, &n) != 0) {
        verify(0, "call-alg-answer", "the answer names no media address");
        return -1;
    }
    call_policy(&pol, hop_confidential); /* 6.2.1.2: K12 goes to the UE in this answer */
    memset(&o, 0, sizeof o);
    o.policy = &pol;
    rc = imssec_sdp_alg_orig_answer((sip_str){tmp, n}, &o, a->keys, a->n_keys, out, cap, len, &er);
    if (rc != IMSSEC_OK || a->keys[0].status != IMSSEC_SDP_AGREED) {
        verify(0, "call-alg-answer", "imssec_sdp_alg_orig_answer: %s",
               rc == IMSSEC_OK ? "the stream was rejected" : err_text(&er, rc));
        return -1;
    }
    /* 7.2.1 step 7: the IMS Access GW gets K11 and K12 (over Iq, 6.2.1.3.1) */
    rc = media_srtp_setup(&a->gw.srtp, &a->keys[0], &er);
    if (rc != IMSSEC_OK) {
        verify(0, "call-alg-answer", "the gateway's SRTP sessions: %s", err_text(&er, rc));
        return -1;
    }
    a->gw.chan_ue = sio_add_hook(io, a->gw.ue.fd, media_gw_from_ue, &a->gw);
    a->gw.chan_core = sio_add_hook(io, a->gw.core.fd, media_gw_from_core, &a->gw);
    verify(sip_has((sip_str){out, *len}, "RTP/SAVP") && sip_has((sip_str){out, *len}, "a=crypto:"),
           "call-alg-answer",
           "imssec_sdp_alg_orig_answer: RTP/AVP -> RTP/SAVP, our a=crypto:%u %s (K12, a fresh "
           "key, no lifetime) added (7.2.1 steps 7, 8); the gateway's access side %s:%u in "
           "c=/m=, its SRTP sessions set up",
           (unsigned)a->keys[0].local[0].tag, imssec_srtp_suite_name(a->keys[0].local[0].suite),
           addr_text(&a->gw.ue.local, 1, t), a->gw.ue.port);
    return 0;
}

void call_alg_end(call_alg *a, sio *io)
{
    media_gw *g = &a->gw;
    if (!a->active)
        return;
    if (io) {
        sio_remove_hook(io, g->chan_ue);
        sio_remove_hook(io, g->chan_core);
        verify(g->from_ue > 0 && g->from_ue == g->to_core && g->from_core == g->to_ue &&
                   g->to_ue > 0 && g->refused == 1 && g->last_verdict == IMSSEC_E_ICV,
               "call-gw",
               "IMS Access GW: %u SRTP packets from the UE authenticated and decrypted (K11), "
               "passed on as RTP (%u); %u RTP packets from the core protected (K12) towards the "
               "UE (%u); %u refused (%s: the tampered one), %u before the answer (6.2.1.1)",
               g->from_ue, g->to_core, g->from_core, g->to_ue, g->refused,
               g->refused ? imssec_errname(g->last_verdict) : "none", g->early);
    }
    media_gw_close(g);
    imssec_sdp_keys_wipe(a->keys, 2);
    a->active = 0;
}

/* ---- the reg event -------------------------------------------------------------- */

size_t regevent_body(char *out, size_t cap, const char *aor, const char *contact)
{
    /* RFC 3680 5.3: reginfo (version, state), registration (aor, id,
     * state), contact (id, state, event) with its uri */
    int n = snprintf(out, cap,
                     "<?xml version=\"1.0\"?>\r\n"
                     "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"1\" "
                     "state=\"full\">\r\n"
                     "  <registration aor=\"%s\" id=\"r1\" state=\"terminated\">\r\n"
                     "    <contact id=\"c1\" state=\"terminated\" event=\"rejected\">\r\n"
                     "      <uri>%s</uri>\r\n"
                     "    </contact>\r\n"
                     "  </registration>\r\n"
                     "</reginfo>\r\n",
                     aor, contact);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* The value of attribute `name` inside the tag text [p, e). */
static int xml_attr(const char *p, const char *e, const char *name, sip_str *v)
{
    size_t nl = strlen(name);
    for (; p + nl + 2 < e; p++) {
        if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') && memcmp(p, name, nl) == 0 &&
            p[nl] == '=' && (p[nl + 1] == '"' || p[nl + 1] == '\'')) {
            const char *q = p + nl + 2, *c = memchr(q, p[nl + 1], (size_t)(e - q));
            if (!c)
                return 0;
            v->p = q;
            v->n = (size_t)(c - q);
            return 1;
        }
    }
    return 0;
}

int regevent_terminated(const sip_msg *m, const char *aor, char *why, size_t cap)
{
    sip_str ev, ss, ct, v;
    const char *p, *end = m->body.p + m->body.n;
    snprintf(why, cap, "ok");
    if (!m->is_request || !sip_eq(m->method, "NOTIFY"))
        return snprintf(why, cap, "not a NOTIFY"), 0;
    /* RFC 3680 3: the package name; RFC 6665 8.2.3 */
    if (!sip_get(m, "Event", 0, &ev) || ev.n < 3 || strncmp(ev.p, "reg", 3) != 0 ||
        (ev.n > 3 && ev.p[3] != ';' && ev.p[3] != ' '))
        return snprintf(why, cap, "no Event: reg"), 0;
    if (!sip_get(m, "Subscription-State", 0, &ss) || ss.n < 10 ||
        strncmp(ss.p, "terminated", 10) != 0)
        return snprintf(why, cap, "the subscription is not terminated"), 0;
    if (!sip_get(m, "Content-Type", 0, &ct) || !sip_has(ct, "application/reginfo+xml"))
        return snprintf(why, cap, "no reginfo body"), 0;
    /* every <registration> element: the one of aor must be terminated */
    for (p = m->body.p; p && p < end; p++) {
        const char *gt;
        p = memchr(p, '<', (size_t)(end - p));
        if (!p || (size_t)(end - p) < 14)
            break;
        if (memcmp(p, "<registration", 13) != 0 || (p[13] != ' ' && p[13] != '\t' && p[13] != '\n'))
            continue;
        gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            break;
        if (xml_attr(p + 1, gt, "aor", &v) && v.n == strlen(aor) && memcmp(v.p, aor, v.n) == 0) {
            if (xml_attr(p + 1, gt, "state", &v) && sip_eq(v, "terminated"))
                return 1;
            return snprintf(why, cap, "the registration of %s is not terminated", aor), 0;
        }
    }
    return snprintf(why, cap, "no registration of %s in the reginfo", aor), 0;
}
