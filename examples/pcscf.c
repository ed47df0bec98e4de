/*
 * pcscf.c -- a P-CSCF for the imssec demo (TS 33.203 clauses 6, 7 and
 * Annex M).
 *
 *   UE  --unprotected REGISTER-->  :5060 UDP and TCP   (7.1 item 3: REGISTER only)
 *   UE  <==ESP in UDP (RFC 3948)==> :4500              (Annex M, UDP-enc-tun SAs)
 *       or ESP over IP (protocol 50) with --mode transport (clause 6.3)
 *       inside the SAs SIP over UDP or TCP, on the ports 7.1 gives each
 *   P-CSCF :6060 <--plain SIP over UDP-->  S-CSCF
 *       or with --core-tls SIP over TLS (RFC 3261, TS 33.203 6.5; tls_link.h):
 *       the S-CSCF's certificate is checked against --ca and --partners
 *
 * The registration goes through the library's one-call steps:
 *   SM1   imssec_sa_pcscf_register(): NAT detection (M.7.2), the choice from
 *         the Security-Client (7.2), 7.1 rules 2 and 3; a 494 with our
 *         capability list when nothing is acceptable (7.3.2.1);
 *   SM4   imssec_sa_pcscf_challenge(): CK and IK taken out of the S-CSCF's
 *         WWW-Authenticate (6.1.1), the new SAs, our Security-Server;
 *   SM7   imssec_sa_pcscf_auth(): Security-Verify equals SM6's
 *         Security-Server, Security-Client equals SM1's (7.2, Annex H), the
 *         SA it came on; the integrity-protected indication towards the
 *         S-CSCF (6.1.5).  The REGISTERs that report an AKA failure
 *         (7.3.1.2, 7.3.1.3) go through the same call.
 * As IMS-ALG with its IMS Access GW (TS 33.328 7.2.1, call.c): the UE's
 * e2ae offer loses its keys on the way to the core, the core's answer gets
 * the gateway's key, and the gateway runs SRTP towards the UE and RTP
 * towards the core.  A reg-event NOTIFY that ends the registration is
 * passed on to the UE; once its transaction is over every SA goes
 * (NET_DEREG, 7.4.2a).
 * SM12, failures, de-registration and every other message are sa/ events
 * (imssec_sa_event) and routes (imssec_sa_route): sa/ names the SA each
 * message goes on and says whether one arrived on the right SA; this file
 * never picks an SA.  The data plane is the library's esp/ pool (ipsec.h),
 * SIP over TCP inside the SAs the user-space TCP of tcp_lite.h (sip_io.h).
 * It serves a few UEs at a time (one record each, by sa/ user), and with
 * --state FILE it survives being killed: see "restart without loss" below.
 */
#include "../imssec.h"
#include "call.h"
#include "dp_xfrm.h"
#include "ipsec.h"
#include "ladder.h"
#include "net.h"
#include "pcap.h"
#include "sip.h"
#include "sip_io.h"
#include "state_file.h"
#include "tls_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage[] = {
    "usage: pcscf [--ip 127.0.0.1] [--port 5060] [--encap-port 4500] [--core-port 6060]\n"
    "             [--scscf-ip 127.0.0.1] [--scscf-port 5070] [--mode udp|transport]\n"
    "             [--policy hmac-sha-1-96/aes-cbc,hmac-sha-1-96/des-ede3-cbc,...]\n"
    "             [--confidentiality supported|required|never] [--pcap FILE]\n"
    "             [--esp-keys FILE] [--state FILE] [--timeout-ms 30000] [--keep-running]\n"
    "             [--dataplane esp|xfrm]\n"
    "             [--core-tls --ca FILE --cert FILE --key FILE --partners NAME,...\n"
    "              [--tls-keylog FILE]]\n"
    "A P-CSCF (see the comment at the top of pcscf.c).  It takes SIP over UDP and\n"
    "TCP, unprotected on --port and inside the SAs.\n"
    "  --ip, --port    its address and unprotected SIP port (UDP and TCP)\n"
    "  --encap-port    ESP-in-UDP (Annex M; M.7.1: 4500)\n"
    "  --scscf-ip, --scscf-port  the S-CSCF\n"
    "  --core-port     our UDP port towards the S-CSCF (without --core-tls)\n"
    "  --mode          udp: UDP-encapsulated tunnel mode SAs (UEs behind a NAT);\n"
    "                  transport: transport mode over raw IP sockets (root)\n"
    "  --policy        the acceptable alg/ealg pairs, in order of preference (7.2)\n"
    "  --confidentiality  supported (default), required or never: whether SAs\n"
    "                  without encryption (ealg null) are accepted / offered (7.2)\n"
    "  --pcap          append every packet it sends to FILE (raw IP)\n"
    "  --esp-keys      append each SA's keys as options of `imssec wireshark-esp-sa`\n"
    "  --timeout-ms    how long it waits for the UEs' flows to finish\n"
    "  --dataplane     esp: the library's esp/ engine; xfrm: the Linux kernel's ESP\n"
    "                  through the XFRM adapter (root; --mode transport)\n"
    "  --state FILE  restart without loss: after every change the SA table (with its\n"
    "                keys), the ESP sequence state and the registrations are written\n"
    "                to FILE (atomically: FILE.tmp, fsync, rename; created mode 0600,\n"
    "                as it holds the keys); at start-up an existing FILE is restored\n"
    "                (a corrupt or truncated one is refused)\n"
    "  --keep-running  do not stop when the UEs de-register or are refused: serve\n"
    "                  registrations until --timeout-ms (for a long-running UE)\n"
    "  --core-tls      the hop to the S-CSCF over TLS (RFC 3261; TS 33.203 6.5) to\n"
    "                  --scscf-ip:--scscf-port (TCP) instead of UDP from --core-port\n"
    "  --ca FILE       PEM CA certificate(s) the S-CSCF's certificate must chain to\n"
    "  --cert FILE     our PEM certificate (the S-CSCF requires one)\n"
    "  --key FILE      its PEM private key\n"
    "  --partners L    the interworking partners: comma-separated domain names; a\n"
    "                  certificate with no name on the list ends the connection\n"
    "  --tls-keylog F  append the TLS master secrets to F (NSS key log, Wireshark)\n",
    NULL};

static const char *const known[] = {"ip",     "port",   "encap-port", "core-port", "scscf-ip",
                                    "scscf-port", "mode", "policy", "confidentiality", "pcap",
                                    "esp-keys", "timeout-ms", "state", "keep-running!",
                                    "core-tls!", "ca", "cert", "key", "partners", "tls-keylog",
                                    "dataplane", NULL};

static const imssec_io io = {NULL, net_random, NULL, NULL};

static imssec_addr my_ip, scscf_ip;
static unsigned core_port, scscf_port;
static int keep_running; /* --keep-running: serve until --timeout-ms */
static int core_chan;
static int core_tls; /* --core-tls: the S-CSCF link is core_conn */
static tls_link core_link;
static tls_conn core_conn;
static sio S;
static ex_dp DP;
static imssec_secagree_pair policy_pairs[8];
static imssec_secagree_policy policy;
static call_alg alg; /* the IMS-ALG's call (one at a time) */

/* sa/: the P-CSCF state machine and SA table, in our memory */
static imssec_sa_table sat;
static uint64_t sa_mem[8192];

/* What this demo remembers about each UE besides sa/'s records: one
 * record per sa/ user index; `ue` is the one the message in hand is for
 * (ue_select()). */
#define MAX_UES 4 /* the sa/ table's users */
typedef struct ue_rec {
    int have_user;
    uint32_t user;
    char sec_client[2048]; /* SM1's Security-Client: SM7 must repeat it (Annex H) */
    unsigned port_ps;      /* our protected server port for the UE (in our Security-Server) */
    int nat;               /* M.7.2, from the unprotected SM1 */
    int transport;         /* the transport the UE registered with: our requests use it */
    char aor[128];         /* the IMPU it registered (the REGISTER's To) */
    int dereg, registered, done;
} ue_rec;
static ue_rec ues[MAX_UES];
static ue_rec *ue = &ues[0];

/* The record of sa/ user `user` becomes the current one. */
static void ue_select(uint32_t user)
{
    if (user < MAX_UES)
        ue = &ues[user];
}

/* Every UE this P-CSCF has served is done (de-registered, refused) and
 * none is still being served: the flow is over. */
static int all_done(void)
{
    int i, any = 0;
    for (i = 0; i < MAX_UES; i++) {
        if (ues[i].have_user && !ues[i].done)
            return 0;
        any |= ues[i].done;
    }
    return any;
}

/* Transactions: requests forwarded by us, by our Via branch. */
#define MAX_TX 16
typedef struct ptx {
    int used;
    char branch[64];
    int from_ue;           /* a request from the UE; else one from the S-CSCF to the UE */
    int is_register;
    sio_from in;           /* from_ue: how it arrived (SA, transport, channel) */
    imssec_sa_ref out_sa;  /* to the UE: the SA it went on */
    tl_conn *out_conn;     /* to the UE over TCP: the connection */
    int pending;           /* imssec_sa_txn_begin() was called for it (7.4) */
    int method;            /* enum tx_method: what its response means to us */
    uint32_t user;         /* the sa/ user it belongs to */
} ptx;
enum tx_method { TX_OTHER = 0, TX_INVITE, TX_BYE, TX_NOTIFY_DEREG };
static ptx tx[MAX_TX];

/* The Via transport token (RFC 3261 20.42) of the transport in use. */
static const char *via_tp(void)
{
    return ue->transport == IMSSEC_TRANSPORT_TCP ? "TCP" : "UDP";
}

static ptx *tx_new(const char *branch)
{
    int i;
    for (i = 0; i < MAX_TX; i++)
        if (!tx[i].used) {
            memset(&tx[i], 0, sizeof tx[i]);
            tx[i].used = 1;
            tx[i].user = ue->user;
            snprintf(tx[i].branch, sizeof tx[i].branch, "%s", branch);
            return &tx[i];
        }
    return NULL;
}

static ptx *tx_find(const sip_msg *m)
{
    sip_str v;
    sip_via via;
    int i;
    if (!sip_get(m, "Via", 0, &v) || sip_via_parse(v, &via) != 0)
        return NULL;
    for (i = 0; i < MAX_TX; i++)
        if (tx[i].used && strcmp(tx[i].branch, via.branch) == 0)
            return &tx[i];
    return NULL;
}

/* A transaction ended: sa/ may now retire an old set (7.4). */
static void tx_done(ptx *t)
{
    if (t->pending)
        imssec_sa_txn_end(&sat, t->from_ue ? t->in.sa : t->out_sa, net_now_ms());
    t->used = 0;
}


static const char *clause_of(const imssec_errinfo *e)
{
    /* "TS 33.203 7.3.2.1" -> "7.3.2.1" (the demo's check reads it so) */
    const char *c = e->clause ? e->clause : "?";
    return strncmp(c, "TS 33.203 ", 10) == 0 ? c + 10 : c;
}

/* Feed an event to the P-CSCF state machine; print the transition. */
static int sa_ev(int event, const imssec_sa_ev_args *a, imssec_sa_ev_out *o, const char *reason)
{
    int before = imssec_sa_state(&sat, ue->user), rc;
    imssec_errinfo e;
    memset(&e, 0, sizeof e);
    DP.why = reason;
    rc = imssec_sa_event(&sat, ue->user, event, a, o, net_now_ms(), &e);
    DP.why = NULL;
    if (rc != IMSSEC_OK)
        ladder("    sa/ %s in %s: %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               err_text(&e, rc));
    else if (imssec_sa_state(&sat, ue->user) != before)
        ladder("    sa/ %s: %s -> %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               imssec_sa_state_name(imssec_sa_state(&sat, ue->user)));
    return rc;
}

static void state_note(int before)
{
    if (imssec_sa_state(&sat, ue->user) != before)
        ladder("    sa/ %s -> %s", imssec_sa_state_name(before),
               imssec_sa_state_name(imssec_sa_state(&sat, ue->user)));
}

/* ---- sending ----------------------------------------------------------------- */

/* A response to a request from the UE: on the SA sa/ named, or (0)
 * unprotected where the request came from. */
static int reply_to_ue(const sio_from *in, imssec_sa_ref protect_with, const sip_buf *b)
{
    if (protect_with)
        return sio_send_protected(&S, protect_with, in->transport, 0, b->p, b->n, NULL);
    if (in->kind == SIO_PROT) {
        verify(0, "pcscf-route", "sa/ named no SA for the response to a protected request");
        return -1;
    }
    return sio_send_unprotected(&S, in->chan, &in->src, in->sport, b->p, b->n);
}

/* Copy a response without our top Via; `www` replaces WWW-Authenticate and
 * `extra` is added (both optional). */
static void copy_response(sip_buf *b, const sip_msg *m, const char *www, const char *extra,
                          const sip_str *body)
{
    int i, first_via = 1;
    sip_b_init(b);
    sip_b_add(b, "SIP/2.0 %d %.*s\r\n", m->status, (int)m->reason.n, m->reason.p);
    for (i = 0; i < m->nhdrs; i++) {
        const sip_hdr *h = &m->hdrs[i];
        if (sip_name_is(h->name, "Via") && first_via) {
            first_via = 0; /* ours */
            continue;
        }
        if (sip_name_is(h->name, "Content-Length"))
            continue;
        if (www && sip_name_is(h->name, "WWW-Authenticate")) {
            sip_b_add(b, "WWW-Authenticate: %s\r\n", www);
            continue;
        }
        sip_b_hdr(b, h);
    }
    if (extra)
        sip_b_add(b, "%s", extra);
    if (!body)
        body = &m->body;
    sip_b_end(b, body->p, body->n);
}

/* ---- towards the S-CSCF --------------------------------------------------------- */

/* Forward a request from the UE.  integrity: NULL for a non-REGISTER, else
 * the indication of TS 33.203 6.1.5 (TS 24.229 5.2.2: integrity-protected
 * in the Authorization). */
static void forward_to_scscf(const sip_msg *m, const sio_from *in, const char *integrity,
                             int is_register, const sip_str *body)
{
    sip_buf b;
    char branch[32], h[IMSSEC_ADDR_TEXT_MAX + 1], src[IMSSEC_ADDR_TEXT_MAX + 1];
    int i, first_via = 1;
    ptx *t;

    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    sip_b_init(&b);
    sip_b_add(&b, "%.*s %.*s SIP/2.0\r\n", (int)m->method.n, m->method.p, (int)m->uri.n,
              m->uri.p);
    /* over TLS: RFC 3261 18 transport TLS; alias (RFC 5923): the S-CSCF
     * sends its requests back on this connection */
    sip_b_add(&b, "Via: SIP/2.0/%s %s:%u;branch=%s%s\r\n", core_tls ? "TLS" : "UDP",
              addr_text(&my_ip, 1, h), core_port, branch, core_tls ? ";alias" : "");
    for (i = 0; i < m->nhdrs; i++) {
        const sip_hdr *hd = &m->hdrs[i];
        if (sip_name_is(hd->name, "Via") && first_via) {
            /* RFC 3261 18.2.1, RFC 3581: record where an unprotected request
             * came from; behind a NAT the UE learns its public address from
             * `received` (M.7.2) */
            sip_str rp;
            int unprot = in->kind == SIO_UNPROT;
            int rport = unprot && sip_param(hd->value, "rport", &rp) && rp.n == 0;
            first_via = 0;
            if (rport) {
                size_t cut = (size_t)(rp.p - hd->value.p) - 6; /* the empty ";rport" */
                sip_b_add(&b, "Via: %.*s%.*s;rport=%u", (int)cut, hd->value.p,
                          (int)(hd->value.n - cut - 6), hd->value.p + cut + 6, in->sport);
            } else {
                sip_b_add(&b, "Via: %.*s", (int)hd->value.n, hd->value.p);
            }
            if (unprot && ue->nat) /* the sent-by host is not the source (SM1's M.7.2 verdict) */
                sip_b_add(&b, ";received=%s", addr_text(&in->src, 0, src));
            sip_b_add(&b, "\r\n");
        } else if (sip_name_is(hd->name, "Security-Client") ||
                   sip_name_is(hd->name, "Security-Verify") || sip_name_is(hd->name, "Route") ||
                   sip_name_is(hd->name, "Content-Length")) {
            continue; /* TS 24.229 5.2.2: not forwarded */
        } else if ((sip_name_is(hd->name, "Require") || sip_name_is(hd->name, "Proxy-Require")) &&
                   sip_has(hd->value, "sec-agree") && hd->value.n <= strlen("sec-agree") + 2) {
            continue; /* the sec-agree option tag is for this hop only */
        } else if (sip_name_is(hd->name, "Authorization") && integrity) {
            sip_b_add(&b, "Authorization: %.*s, integrity-protected=\"%s\"\r\n", (int)hd->value.n,
                      hd->value.p, integrity);
        } else {
            sip_b_hdr(&b, hd);
        }
    }
    if (is_register)
        sip_b_add(&b, "Path: <%s:term@%s:%u;lr>\r\nSupported: path\r\n", core_tls ? "sips" : "sip",
                  addr_text(&my_ip, 1, h), core_port);
    if (!body)
        body = &m->body;
    sip_b_end(&b, body->p, body->n);
    /* an ACK (of a 2xx) has no response: no transaction (RFC 3261 17) */
    t = sip_eq(m->method, "ACK") ? NULL : tx_new(branch);
    if (t) {
        t->from_ue = 1;
        t->method = sip_eq(m->method, "INVITE") ? TX_INVITE
                    : sip_eq(m->method, "BYE")  ? TX_BYE
                                                : TX_OTHER;
        t->is_register = is_register;
        t->in = *in;
        /* 7.4: a transaction started on a set keeps it alive */
        if (in->kind == SIO_PROT && !is_register)
            t->pending = imssec_sa_txn_begin(&sat, in->sa) == IMSSEC_OK;
    }
    if (sio_send_unprotected(&S, core_chan, &scscf_ip, scscf_port, b.p, b.n) != 0 && t &&
        in->kind == SIO_UNPROT) {
        /* no hop to the S-CSCF (e.g. its TLS certificate refused, 6.5):
         * RFC 3261 16.9, a transport error is a 503 */
        sip_buf r;
        tx_done(t);
        sip_b_response(&r, m, 503, "Service Unavailable", "pcscf");
        sip_b_end(&r, NULL, 0);
        reply_to_ue(in, 0, &r);
    }
}

/* ---- SM1 ----------------------------------------------------------------------------- */

static int find_user(const sip_msg *m, imssec_digest_credentials *cr)
{
    sip_str auth;
    uint32_t user;
    if (!sip_get(m, "Authorization", 0, &auth) ||
        imssec_digest_credentials_parse(auth, cr, NULL) != IMSSEC_OK || !cr->username.n) {
        ladder("REGISTER without a usable Authorization (TS 24.229 5.1.1.2.1): dropped");
        return -1;
    }
    if (imssec_sa_user_lookup(&sat, cr->username, 1, &user) != IMSSEC_OK || user >= MAX_UES) {
        ladder("no room for user %.*s", (int)cr->username.n, cr->username.p);
        return -1;
    }
    ue_select(user);
    if (!ue->have_user) {
        memset(ue, 0, sizeof *ue); /* a new user (or a released index used again) */
        ue->user = user;
    }
    ue->have_user = 1;
    ue->done = 0; /* a REGISTER of its: being served again */
    return 0;
}

/* SM1: unprotected, or (re-registration) over the current SAs. */
static void on_sm1(const sip_msg *m, const sio_from *from)
{
    imssec_sa_pcscf_sm1 in;
    imssec_sa_pcscf_sm1_out out;
    imssec_errinfo e;
    sip_str via;
    char names[64], t1[IMSSEC_ADDR_TEXT_MAX + 1];
    int rc, before = imssec_sa_state(&sat, ue->user);

    if (!sip_get(m, "Via", 0, &via)) {
        ladder("REGISTER without a Via dropped");
        return;
    }
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    memset(&e, 0, sizeof e);
    sip_join(m, "Security-Client", ue->sec_client, sizeof ue->sec_client);
    {
        sip_str to;
        if (sip_get(m, "To", 0, &to))
            sip_uri_of(to, ue->aor, sizeof ue->aor);
    }
    in.security_client = imssec_cstr(ue->sec_client);
    in.via = via;
    in.src = from->src;
    in.arrived_on = from->kind == SIO_PROT ? from->sa : 0;
    in.transport = from->transport;
    in.policy = &policy;
    /* the library keeps UDP-enc-tun for a SM1 on UDP-enc-tun SAs (M.7.4.2a) */
    rc = imssec_sa_pcscf_register(&sat, ue->user, &in, &out, net_now_ms(), &e);
    if (from->kind == SIO_UNPROT) {
        sip_via vp;
        ue->nat = out.nat;
        ladder("    NAT %s: Via sent-by %s, packet from %s:%u (M.7.2)",
               out.nat ? "detected" : "not detected",
               sip_via_parse(via, &vp) == 0 ? vp.host : "?", addr_text(&from->src, 1, t1),
               from->sport);
    }
    if (rc == IMSSEC_E_SECAGREE_REJECT) {
        verify(0, "pcscf-negotiate", "clause %s: %s (SIP %d)", clause_of(&e),
               e.what ? e.what : "rejected", out.sip_status);
        if (out.sip_status) {
            /* RFC 3329 2.3.1: the rejection lists what we do accept */
            sip_buf b;
            char caps[2048];
            size_t cl = 0;
            sip_b_response(&b, m, out.sip_status, "Security Agreement Required", "pcscf");
            if (imssec_secagree_server_build(&policy, out.nat, 0, 0, 0, 0, caps, sizeof caps - 1,
                                             &cl) == IMSSEC_OK)
                sip_b_add(&b, "Security-Server: %.*s\r\nRequire: sec-agree\r\n", (int)cl, caps);
            sip_b_end(&b, NULL, 0);
            reply_to_ue(from, out.protect_with, &b);
        }
        ue->done = !ue->registered;
        return;
    }
    if (rc != IMSSEC_OK) {
        verify(0, "pcscf-register", "SM1 refused: %s", err_text(&e, rc));
        return;
    }
    state_note(before);
    verify(1, "pcscf-negotiate", "ipsec-3gpp %s mod=%s (UE entry %u)",
           pair_text(out.choice.alg, out.choice.ealg, names, sizeof names),
           imssec_mode_name(out.choice.mode), (unsigned)out.choice.index);
    forward_to_scscf(m, from, out.integrity_protected ? "yes" : "no", 1, NULL);
}

/* ---- SM7, and the REGISTERs that report an AKA failure ------------------------------ */

static void on_sm7(const sip_msg *m, const sio_from *from, const imssec_digest_credentials *cr)
{
    imssec_sa_pcscf_sm7 in;
    imssec_errinfo e;
    sip_str v;
    char sv[2048], sc[2048], name[96];
    int rc, integrity = 0, before = imssec_sa_state(&sat, ue->user);
    int answer = !cr->auts.p && cr->response.n;

    memset(&in, 0, sizeof in);
    memset(&e, 0, sizeof e);
    if (sip_get(m, "Authorization", 0, &v))
        in.authorization = v;
    sip_join(m, "Security-Verify", sv, sizeof sv);
    sip_join(m, "Security-Client", sc, sizeof sc);
    in.security_verify = imssec_cstr(sv);
    in.security_client = imssec_cstr(sc);
    in.sm1_security_client = imssec_cstr(ue->sec_client);
    if (sip_get(m, "Via", 0, &v))
        in.via = v;
    in.src = from->src;
    in.arrived_on = from->kind == SIO_PROT ? from->sa : 0;
    in.transport = from->transport;
    in.policy = &policy;
    DP.why = "the UE reported an AKA failure (7.3.1.2, 7.3.1.3)";
    rc = imssec_sa_pcscf_auth(&sat, ue->user, &in, &integrity, net_now_ms(), &e);
    DP.why = NULL;
    if (!answer) {
        if (rc != IMSSEC_OK) {
            verify(0, "pcscf-auth-failure", "%s", err_text(&e, rc));
            return;
        }
        state_note(before);
        ladder("    the UE reports %s: its new SAs deleted, forwarded to the S-CSCF",
               cr->auts.p ? "a synchronisation failure (auts=, 7.3.1.3)"
                          : "a network authentication failure (7.3.1.2)");
        forward_to_scscf(m, from, integrity ? "yes" : "no", 1, NULL);
        return;
    }
    if (rc == IMSSEC_E_SECAGREE_MISMATCH) {
        /* the call checks Security-Verify first, then Security-Client */
        int client = e.clause && strstr(e.clause, "Annex H");
        if (client)
            verify(1, "pcscf-security-verify", "Security-Verify equals the Security-Server sent");
        verify(0, client ? "pcscf-security-client" : "pcscf-security-verify",
               "%s: the registration is aborted (7.3.2.3)", err_text(&e, rc));
        return; /* sa/'s temporary SAs expire (TIMEOUT) */
    }
    if (rc != IMSSEC_OK) {
        verify(0, "pcscf-protected-register", "SM7 refused: %s", err_text(&e, rc));
        return;
    }
    state_note(before);
    verify(1, "pcscf-security-verify",
           "Security-Verify equals the Security-Server sent (RFC 3329 2.3.1, 7.2)");
    verify(1, "pcscf-security-client", "Security-Client equals the one of SM1 (Annex H)");
    verify(integrity == 1, "pcscf-protected-register",
           "SM7 arrived on %s, the new inbound SA; integrity-protected=%s",
           ex_dp_name(&DP, from->sa, name, sizeof name), integrity ? "yes" : "no");
    forward_to_scscf(m, from, integrity ? "yes" : "no", 1, NULL);
}

/* ---- SM4 -> SM6, SM12 and failures: REGISTER responses from the S-CSCF -------------- */

static void on_challenge(const sip_msg *m, ptx *t)
{
    imssec_sa_pcscf_401 in;
    imssec_sa_pcscf_401_out out;
    imssec_errinfo e;
    imssec_digest_challenge ch[2];
    imssec_secagree_mech srv[16];
    char www[1024], ss[2048], extra[2200];
    size_t nch = 0, ns = 0, i;
    sip_str w;
    int rc, keys_left = 0, before = imssec_sa_state(&sat, ue->user);
    sip_buf b;

    if (!sip_get(m, "WWW-Authenticate", 0, &w)) {
        verify(0, "pcscf-keys", "401 from the S-CSCF without WWW-Authenticate");
        return;
    }
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    memset(&e, 0, sizeof e);
    in.www_authenticate = w;
    in.policy = &policy;
    in.pcscf_ip = my_ip;
    in.transport = t->in.transport;
    out.www_authenticate = www;
    out.www_authenticate_cap = sizeof www - 1;
    out.security_server = ss;
    out.security_server_cap = sizeof ss - 1;
    DP.why = "an earlier attempt's SAs (7.4.2a)";
    rc = imssec_sa_pcscf_challenge(&sat, ue->user, &in, &out, net_now_ms(), &e);
    DP.why = NULL;
    if (rc != IMSSEC_OK) {
        verify(0, rc == IMSSEC_E_NOT_FOUND || rc == IMSSEC_E_SYNTAX ? "pcscf-keys" : "pcscf-sa-create",
               "%s", err_text(&e, rc));
        return;
    }
    state_note(before);
    www[out.www_authenticate_len] = '\0';
    ss[out.security_server_len] = '\0';
    /* the check of 6.1.1 on what goes to the UE, by the library's parser */
    if (imssec_digest_challenge_parse(imssec_cstr(www), ch, 2, &nch, NULL) == IMSSEC_OK)
        for (i = 0; i < ch[0].n_extra; i++)
            keys_left |= sip_eq(ch[0].extra[i].name, "ck") ||
                         sip_eq(ch[0].extra[i].name, "ik");
    verify(nch == 1 && !keys_left, "pcscf-keys",
           "CK and IK taken from the 401 and removed before it goes to the UE (6.1.1)");
    /* our protected server port, for the Via of our requests to the UE */
    if (imssec_secagree_parse(imssec_cstr(ss), srv, 16, &ns, NULL) == IMSSEC_OK && ns)
        ue->port_ps = srv[0].port_s;
    snprintf(extra, sizeof extra, "Security-Server: %s\r\nRequire: sec-agree\r\n", ss);
    copy_response(&b, m, www, extra, NULL);
    reply_to_ue(&t->in, out.protect_with, &b);
}

static void on_register_response(const sip_msg *m, ptx *t)
{
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    sip_buf b;

    if (m->status == 401) {
        on_challenge(m, t);
        return;
    }
    memset(&a, 0, sizeof a);
    memset(&o, 0, sizeof o);
    a.transport = (uint8_t)t->in.transport;
    copy_response(&b, m, NULL, NULL, NULL);
    if (ue->dereg && m->status == 200) {
        /* de-registration: the final response over the SAs, then every SA
         * goes (7.4.2a) */
        imssec_sa_ref r = 0;
        if (imssec_sa_route(&sat, ue->user, t->in.transport, 0, t->in.sa, &r) != IMSSEC_OK) {
            verify(0, "pcscf-dereg", "sa/ names no SA for the final response");
            return;
        }
        reply_to_ue(&t->in, r, &b);
        sa_ev(IMSSEC_SA_EV_DEREG_DONE, &a, NULL, "de-registered");
        ue->registered = 0;
        ue->dereg = 0; /* a later REGISTER (--keep-running) is a new registration */
        verify(ex_dp_user_count(&DP, ue->user) == 0 && imssec_sa_count(&sat, ue->user) == 0, "pcscf-dereg",
               "final response sent over the SAs, then every SA deleted (data plane %d, sa/ %u)",
               ex_dp_user_count(&DP, ue->user), (unsigned)imssec_sa_count(&sat, ue->user));
        ue->done = 1;
        return;
    }
    if (m->status == 200) {
        /* SM12: on the SA sa/ names (the new set's); the set SM1 came on is
         * kept for its transactions (7.4.2a) */
        sip_str c, e;
        char eb[16];
        a.expires_s = 600;
        if (sip_get(m, "Contact", 0, &c) && sip_param(c, "expires", &e))
            a.expires_s = (uint32_t)strtoul(sip_cstr(e, eb, sizeof eb), NULL, 10);
        if (sa_ev(IMSSEC_SA_EV_SUCCESS, &a, &o, "SM12 sent: superseded (7.4.2a)") != IMSSEC_OK)
            return;
        reply_to_ue(&t->in, o.protect_with, &b);
        if (!ue->registered) {
            /* TS 33.328 7.1.1: e2ae when the UE indicated it (it is up to
             * the UE) and we did (policy.e2ae) */
            imssec_secagree_mech mech[24];
            size_t nm = 0;
            int ue_said = imssec_secagree_parse(imssec_cstr(ue->sec_client), mech, 24, &nm,
                                                NULL) == IMSSEC_OK &&
                          imssec_secagree_e2ae(mech, nm);
            int e2ae = imssec_sa_e2ae(&sat, ue->user);
            verify(e2ae == (ue_said && policy.e2ae), "pcscf-e2ae",
                   "imssec_sa_e2ae() = %d: sdes-srtp;mediasec %s the UE's Security-Client and %s "
                   "our Security-Server (TS 33.328 7.1.1)", e2ae, ue_said ? "in" : "not in",
                   ue_said && policy.e2ae ? "in" : "not in");
        }
        ue->registered = 1;
        ue->transport = t->in.transport;
        return;
    }
    /* a failure response: sa/ deletes the new SAs and names the SA for it
     * (7.3, 7.4.2a: a user authentication failure goes on the new SAs) */
    {
        int st = imssec_sa_state(&sat, ue->user);
        a.kind = m->status == 403 && (st == IMSSEC_SA_ST_AUTH_UNPROT || st == IMSSEC_SA_ST_AUTH_PROT)
                     ? IMSSEC_SA_KIND_USER_AUTH
                     : IMSSEC_SA_KIND_OTHER;
    }
    if (sa_ev(IMSSEC_SA_EV_FAILURE, &a, &o, "registration failed (7.3)") != IMSSEC_OK)
        return;
    reply_to_ue(&t->in, o.protect_with, &b);
    if (!ue->registered) {
        verify(ex_dp_user_count(&DP, ue->user) == 0 && imssec_sa_count(&sat, ue->user) == 0,
               "pcscf-refused", "registration refused (%d): no SA left", m->status);
        ue->done = 1;
    }
}

/* ---- other traffic ---------------------------------------------------------------- */

/* Which UE a request is for (hdr "To": from the S-CSCF) or from ("From":
 * an unprotected one from the UE side): the registered one whose IMPU is
 * that URI, else the only registered one.  1: `ue` is it; 0: none (`ue`
 * unchanged). */
static int ue_for_request(const sip_msg *m, const char *hdr)
{
    char uri[128] = "";
    sip_str v;
    int i, n = 0, only = -1;
    if (sip_get(m, hdr, 0, &v))
        sip_uri_of(v, uri, sizeof uri);
    for (i = 0; i < MAX_UES; i++) {
        if (!ues[i].have_user || !ues[i].registered)
            continue;
        if (strcmp(ues[i].aor, uri) == 0) {
            ue = &ues[i];
            return 1;
        }
        n++;
        only = i;
    }
    if (n == 1)
        ue = &ues[only];
    return n == 1;
}

/* A request from the S-CSCF to the UE (MESSAGE): sa/ routes it (7.4.2a:
 * on the old SAs until the UE has used the new ones). */
static void relay_request_to_ue(const sip_msg *m)
{
    sip_buf b;
    char branch[32], h[IMSSEC_ADDR_TEXT_MAX + 1];
    int i, first_route = 1;
    imssec_sa_ref ref = 0;
    ptx *t;
    tl_conn *conn = NULL;
    if (!ue_for_request(m, "To") || !ue->have_user || !ue->registered ||
        imssec_sa_route(&sat, ue->user, ue->transport, 1, 0, &ref) != IMSSEC_OK) {
        sip_buf r;
        sip_b_response(&r, m, 404, "Not Found", "pcscf");
        sip_b_end(&r, NULL, 0);
        sio_send_unprotected(&S, core_chan, &scscf_ip, scscf_port, r.p, r.n);
        return;
    }
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    sip_b_init(&b);
    sip_b_add(&b, "%.*s %.*s SIP/2.0\r\n", (int)m->method.n, m->method.p, (int)m->uri.n,
              m->uri.p);
    /* TS 24.229: our protected server port; 7.1: the UE answers to port_ps */
    sip_b_add(&b, "Via: SIP/2.0/%s %s:%u;branch=%s\r\n", via_tp(),
              addr_text(&my_ip, 1, h), ue->port_ps, branch);
    for (i = 0; i < m->nhdrs; i++) {
        if (sip_name_is(m->hdrs[i].name, "Route") && first_route) {
            first_route = 0; /* the Path entry that brought it here */
            continue;
        }
        if (!sip_name_is(m->hdrs[i].name, "Content-Length"))
            sip_b_hdr(&b, &m->hdrs[i]);
    }
    sip_b_end(&b, m->body.p, m->body.n);
    t = tx_new(branch);
    if (t) {
        char why_[96];
        t->out_sa = ref;
        t->pending = imssec_sa_txn_begin(&sat, ref) == IMSSEC_OK;
        if (sip_eq(m->method, "NOTIFY") && regevent_terminated(m, ue->aor, why_, sizeof why_)) {
            /* RFC 3680: the registrar ended the registration */
            t->method = TX_NOTIFY_DEREG;
            ladder("    reg-event NOTIFY: %s terminated; passed on to the UE, the SAs go once "
                   "this transaction is over (7.4.2a)", ue->aor);
        }
    }
    sio_send_protected(&S, ref, ue->transport, 1, b.p, b.n, &conn);
    if (t)
        t->out_conn = conn;
}

/* A response from the UE to a request we relayed from the S-CSCF. */
static void relay_response_to_scscf(const sip_msg *m, ptx *t, const sio_from *from, int rc)
{
    sip_buf b;
    char name[96];
    int same_set = ex_dp_set_of(&DP, from->sa) == ex_dp_set_of(&DP, t->out_sa);
    int same_conn = from->transport != IMSSEC_TRANSPORT_TCP || from->conn == t->out_conn;
    /* 7.1: the answer to our request on PC_US comes on the same set's
     * UC_PS (UDP: from port_uc to port_ps) or back on the connection
     * (TCP: US_PC); sa/'s MSG_IN verdict is the rule, the set and the
     * connection are what this demo can see */
    if (!verify(rc == IMSSEC_OK && same_set && same_conn, "pcscf-response-sa",
                "%d arrived on %s, the set its request used%s; sa/ accepts it", m->status,
                ex_dp_name(&DP, from->sa, name, sizeof name),
                from->transport == IMSSEC_TRANSPORT_TCP ? ", on its TCP connection" : ""))
        return; /* discarded (7.1, 7.4.2a) */
    copy_response(&b, m, NULL, NULL, NULL);
    ex_dp_name(&DP, t->out_sa, name, sizeof name);
    if (m->status >= 200 && t->method == TX_NOTIFY_DEREG) {
        /* the network-initiated de-registration: the NOTIFY went on the SAs,
         * its response goes on to the S-CSCF, then every SA is deleted
         * (7.4.2a: "once all the associated IMPUs are de-registered";
         * TS 24.229 5.2.5.1: after the NOTIFY's transaction) */
        tx_done(t);
        sio_send_unprotected(&S, core_chan, &scscf_ip, scscf_port, b.p, b.n);
        sa_ev(IMSSEC_SA_EV_NET_DEREG, NULL, NULL, "the network ended the registration");
        ue->registered = 0;
        verify(ex_dp_user_count(&DP, ue->user) == 0 && imssec_sa_count(&sat, ue->user) == 0 &&
                   imssec_sa_state(&sat, ue->user) == IMSSEC_SA_ST_IDLE,
               "pcscf-net-dereg",
               "reg-event NOTIFY passed to the UE on %s, its %d sent on to the S-CSCF, then every "
               "SA deleted (data plane %d, sa/ %u)",
               name, m->status, ex_dp_user_count(&DP, ue->user), (unsigned)imssec_sa_count(&sat, ue->user));
        (void)imssec_sa_user_release(&sat, ue->user);
        ue->have_user = 0;
        ue->done = 1;
        return;
    }
    if (m->status >= 200)
        tx_done(t);
    sio_send_unprotected(&S, core_chan, &scscf_ip, scscf_port, b.p, b.n);
}

/* The UE's INVITE (TS 33.328 7.2.1 steps 2, 3): the IMS-ALG takes the keys
 * out of the offer and puts its IMS Access GW into the media path.  The
 * answer with K12 will go back on the SA sa/ routes the response to: that
 * is the hop of 6.2.1.2. */
static void on_invite(const sip_msg *m, const sio_from *from)
{
    static char sdp[4096];
    char hop_why[64], cid[96];
    imssec_sa_ref back = 0;
    sip_str c;
    size_t n = 0;
    int status = 488, hop;
    (void)imssec_sa_route(&sat, ue->user, from->transport, 0, from->sa, &back);
    hop = call_hop_confidential(&sat, back, hop_why, sizeof hop_why);
    sip_cstr(sip_get(m, "Call-ID", 0, &c) ? c : sip_s(""), cid, sizeof cid);
    if (call_alg_offer(&alg, cid, m->body, &my_ip, imssec_sa_e2ae(&sat, ue->user), hop, sdp,
                       sizeof sdp, &n, &status) != 0) {
        sip_buf r;
        sip_b_response(&r, m, status, "Not Acceptable Here", "pcscf");
        sip_b_end(&r, NULL, 0);
        reply_to_ue(from, back, &r);
        return;
    }
    forward_to_scscf(m, from, NULL, 0, &(sip_str){sdp, n});
}

static void on_protected(const sip_msg *m, const sio_from *from)
{
    imssec_sa_ev_args a;
    int before, rc;
    ue_select(from->user);
    if (!ue->have_user || from->user != ue->user) {
        /* 7.1 rule 4: the SA's user is the one the message is handled for */
        ladder("a message on an SA of another user dropped");
        return;
    }
    memset(&a, 0, sizeof a);
    a.arrived_on = from->sa;
    a.transport = (uint8_t)from->transport;
    if (m->is_request && sip_eq(m->method, "REGISTER")) {
        imssec_digest_credentials cr;
        sip_str e;
        char eb[16];
        int st = imssec_sa_state(&sat, ue->user), expires = -1;
        if (find_user(m, &cr) != 0)
            return;
        if (sip_get(m, "Expires", 0, &e))
            expires = atoi(sip_cstr(e, eb, sizeof eb));
        if (st == IMSSEC_SA_ST_AUTH_UNPROT || st == IMSSEC_SA_ST_AUTH_PROT) {
            on_sm7(m, from, &cr);
        } else if (expires == 0) {
            /* the one-call step applies 7.1 rule 2 to this protected
             * REGISTER too (source, Via, SA address), then DEREG_RECV */
            sip_str v;
            imssec_errinfo er;
            int before_st = imssec_sa_state(&sat, ue->user), rc;
            memset(&er, 0, sizeof er);
            if (!sip_get(m, "Via", 0, &v)) {
                ladder("de-registering REGISTER without a Via dropped");
                return;
            }
            rc = imssec_sa_pcscf_deregister(&sat, ue->user, v, &from->src, from->sa,
                                            from->transport, net_now_ms(), &er);
            if (rc != IMSSEC_OK) {
                ladder("    sa/ DEREG_RECV in %s: %s", imssec_sa_state_name(before_st),
                       err_text(&er, rc));
                return;
            }
            state_note(before_st);
            ue->dereg = 1;
            forward_to_scscf(m, from, "yes", 1, NULL);
        } else {
            on_sm1(m, from); /* a re-registration over the current SAs (7.4) */
        }
        return;
    }
    /* Any other message: sa/ accepts it only on the right SA of the
     * current or old set (7.1, 7.4.2a); the first one on the new set
     * switches over and retires the old once its transactions end. */
    a.msg = (uint8_t)(m->is_request ? IMSSEC_SA_MSG_REQUEST
                      : m->status >= 300 ? IMSSEC_SA_MSG_ERROR
                                         : IMSSEC_SA_MSG_RESPONSE);
    before = ex_dp_user_count(&DP, ue->user);
    rc = sa_ev(IMSSEC_SA_EV_MSG_IN, &a, NULL, "a message arrived on the new SAs (7.4.2a)");
    if (ex_dp_user_count(&DP, ue->user) < before)
        verify(ex_dp_user_count(&DP, ue->user) == 4 && imssec_sa_count(&sat, ue->user) == 4,
               "pcscf-switch-over", "a message on the new SAs: the old set was deleted, %d SAs left",
               ex_dp_user_count(&DP, ue->user));
    if (!m->is_request) {
        ptx *t = tx_find(m);
        if (!t || t->from_ue) {
            ladder("response for an unknown transaction dropped");
            return;
        }
        relay_response_to_scscf(m, t, from, rc);
        return;
    }
    if (rc != IMSSEC_OK)
        return; /* discarded (7.1) */
    if (sip_eq(m->method, "INVITE") && m->body.n) {
        on_invite(m, from);
        return;
    }
    forward_to_scscf(m, from, NULL, 0, NULL);
}

static void on_unprotected(const sip_msg *m, const sio_from *from)
{
    imssec_digest_credentials cr;
    int st;
    if (!m->is_request) {
        ladder("unprotected response dropped (no request of ours went that way)");
        return;
    }
    if (!sip_eq(m->method, "REGISTER")) {
        /* 7.1 item 3: only REGISTER (and emergency and error messages) on
         * an unprotected port; sa/ says so for a known user */
        imssec_sa_ev_args a;
        int rc;
        (void)ue_for_request(m, "From"); /* else the UE handled last */
        if (!ue->have_user) {
            ladder("unprotected %.*s from an unknown user dropped (7.1 item 3)", (int)m->method.n,
                   m->method.p);
            return;
        }
        memset(&a, 0, sizeof a);
        a.transport = (uint8_t)from->transport;
        a.msg = IMSSEC_SA_MSG_REQUEST;
        rc = imssec_sa_event(&sat, ue->user, IMSSEC_SA_EV_MSG_IN, &a, NULL, net_now_ms(), NULL);
        verify(rc == IMSSEC_E_SA_WRONG, "pcscf-unprotected-dropped",
               "unprotected %.*s dropped: sa/ refuses it (%s; only REGISTER on the unprotected "
               "port, clause 7.1)", (int)m->method.n, m->method.p, imssec_errname(rc));
        return;
    }
    if (find_user(m, &cr) != 0)
        return;
    /* The REGISTER that reports an AKA failure answers our challenge
     * (auts=, or the challenge's nonce with an empty response: 7.3.1.2,
     * 7.3.1.3); any other one starts a registration. */
    st = imssec_sa_state(&sat, ue->user);
    if ((st == IMSSEC_SA_ST_AUTH_UNPROT || st == IMSSEC_SA_ST_AUTH_PROT) &&
        (cr.auts.p || cr.nonce.n))
        on_sm7(m, from, &cr);
    else
        on_sm1(m, from);
}

static void on_core(const sip_msg *m)
{
    ptx *t;
    if (m->is_request) {
        relay_request_to_ue(m);
        return;
    }
    t = tx_find(m);
    if (!t || !t->from_ue)
        return;
    ue_select(t->user);
    if (t->is_register) {
        on_register_response(m, t);
    } else {
        /* a response to a request of the UE: back on the set the request
         * came on, on the SA sa/ names for it (7.1, 7.4) */
        static char sdp[4096];
        sip_buf b;
        imssec_sa_ref r = 0;
        sip_str body = m->body;
        size_t n = 0;
        int routed = imssec_sa_route(&sat, ue->user, t->in.transport, 0, t->in.sa, &r) == IMSSEC_OK;
        if (t->method == TX_INVITE && m->status == 200 && m->body.n && alg.active) {
            /* 7.2.1 steps 7, 8: the answer gets K12; it travels on r (6.2.1.2) */
            char hop_why[64];
            int hop = call_hop_confidential(&sat, r, hop_why, sizeof hop_why);
            if (call_alg_answer(&alg, &S, m->body, hop, sdp, sizeof sdp, &n) != 0)
                return; /* no answer without our key: the UE's transaction times out */
            body = (sip_str){sdp, n};
        }
        copy_response(&b, m, NULL, NULL, &body);
        if (!routed)
            verify(0, "pcscf-route", "sa/ names no SA for the response");
        else
            reply_to_ue(&t->in, r, &b);
        if (t->method == TX_BYE && m->status >= 200)
            call_alg_end(&alg, &S); /* the call is over: the gateway's counts */
    }
    if (m->status >= 200)
        tx_done(t);
}

/* An ESP packet the library refused. */
static void on_dropped(void *user, int verdict, const imssec_errinfo *e)
{
    (void)user;
    if (verdict == IMSSEC_E_REPLAY)
        verify(1, "pcscf-replay-dropped",
               "a replayed ESP packet was dropped by %s anti-replay window (RFC 4303 3.4.3)",
               DP.xfrm ? "the kernel's" : "esp/'s");
    else
        ladder("ESP packet dropped: %s (%s)", imssec_errname(verdict),
               e->what ? e->what : imssec_strerror(verdict));
}

/* ---- restart without loss (--state FILE, issue 13) -------------------------------
 *
 * After every change the P-CSCF writes, atomically (state_file.h), what it
 * needs to go on serving its UEs when it is killed and started again:
 *   SATB  imssec_sa_snapshot() with keys: users, states, SAs, timers;
 *   POOL  imssec_sa_esp_pool_snapshot(): each esp/ SA's slot and sequence
 *         numbers (the keys come from SATB);
 *   PCSC  this file's own records: per UE what the table does not hold (SM1's
 *         Security-Client for SM7, our port_ps for our requests' Via, the NAT
 *         verdict, the transport, the AoR, the registration flags), the open
 *         transactions (so that a UE mid-registration completes: the S-CSCF's
 *         401 or 200 still finds its request), and the ladder's SA notes.
 * At start-up the table is restored first, then the pool (imssec.h: the
 * pool's restore sets every SA up again from the restored table).  What
 * this does not bring back: protected TCP connections (tcp_lite.c keeps
 * them in memory: a UE over TCP sets up a new one), a call in progress. */
#define STATE_VERSION 1
#define STATE_SEQ_MARGIN 64 /* packets an outbound SA may have sent after the last snapshot */
static const char *state_path;
static uint8_t state_buf[3 * 65536], state_last[sizeof state_buf], state_tmp[65536];
static size_t state_last_len;
static int state_failed;

static void sf_addr(sf_out *o, const imssec_addr *a)
{
    sf_u32(o, a->len);
    sf_bytes(o, a->b, sizeof a->b);
}

static void sf_get_addr(sf_in *in, imssec_addr *a)
{
    uint32_t n = sf_get_u32(in);
    sf_get_bytes(in, a->b, sizeof a->b);
    if (n != 0 && n != 4 && n != 16)
        in->bad = 1;
    a->len = (uint8_t)n;
}

/* A transaction that survives a restart: no TCP connection behind it. */
static int tx_restorable(const ptx *t)
{
    return t->used && !t->out_conn && !t->in.conn &&
           !(t->in.kind == SIO_UNPROT && t->in.transport == IMSSEC_TRANSPORT_TCP);
}

static void state_app(sf_out *o)
{
    size_t at = sf_section_begin(o, "PCSC");
    int i, n = 0;
    sf_u32(o, STATE_VERSION);
    sf_u32(o, MAX_UES);
    for (i = 0; i < MAX_UES; i++) {
        const ue_rec *u = &ues[i];
        sf_u32(o, (uint32_t)u->have_user);
        sf_u32(o, u->user);
        sf_str(o, u->sec_client);
        sf_u32(o, u->port_ps);
        sf_u32(o, (uint32_t)u->nat);
        sf_u32(o, (uint32_t)u->transport);
        sf_str(o, u->aor);
        sf_u32(o, (uint32_t)u->dereg);
        sf_u32(o, (uint32_t)u->registered);
        sf_u32(o, (uint32_t)u->done);
    }
    for (i = 0; i < MAX_TX; i++)
        n += tx_restorable(&tx[i]);
    sf_u32(o, (uint32_t)n);
    for (i = 0; i < MAX_TX; i++) {
        const ptx *t = &tx[i];
        if (!tx_restorable(t))
            continue;
        sf_str(o, t->branch);
        sf_u32(o, (uint32_t)t->from_ue);
        sf_u32(o, (uint32_t)t->is_register);
        sf_u32(o, (uint32_t)t->in.kind);
        sf_u32(o, (uint32_t)t->in.transport);
        sf_addr(o, &t->in.src);
        sf_u32(o, t->in.sport);
        sf_u32(o, (uint32_t)t->in.chan);
        sf_u64(o, t->in.sa);
        sf_u32(o, t->in.user);
        sf_addr(o, &t->in.flow.src);
        sf_addr(o, &t->in.flow.dst);
        sf_u32(o, t->in.flow.sport);
        sf_u32(o, t->in.flow.dport);
        sf_u32(o, (uint32_t)t->in.flow.transport);
        sf_u64(o, t->out_sa);
        sf_u32(o, (uint32_t)t->pending);
        sf_u32(o, (uint32_t)t->method);
        sf_u32(o, t->user);
    }
    sf_u32(o, (uint32_t)DP.installs);
    sf_u32(o, EX_POOL);
    for (i = 0; i < EX_POOL; i++) {
        const ex_sa_note *nt = &DP.note[i];
        sf_u64(o, nt->ref);
        sf_u32(o, (uint32_t)nt->set);
        sf_u32(o, (uint32_t)nt->which);
        sf_u32(o, (uint32_t)nt->inbound);
        sf_u32(o, (uint32_t)nt->logged);
        sf_u32(o, nt->spi);
        sf_u32(o, nt->sport);
        sf_u32(o, nt->dport);
    }
    sf_section_end(o, at);
}

/* Write the state if it changed since the last write. */
static void state_save(void)
{
    sf_out o;
    size_t at, n = 0;
    int rc;
    if (!state_path || state_failed)
        return;
    sf_out_init(&o, state_buf, sizeof state_buf);
    state_app(&o);
    at = sf_section_begin(&o, "SATB");
    rc = imssec_sa_snapshot(&sat, 1, state_tmp, sizeof state_tmp, &n);
    if (rc == IMSSEC_OK)
        sf_bytes(&o, state_tmp, n);
    sf_section_end(&o, at);
    if (rc == IMSSEC_OK) {
        at = sf_section_begin(&o, "POOL");
        rc = imssec_sa_esp_pool_snapshot(&DP.pool, state_tmp, sizeof state_tmp, &n);
        if (rc == IMSSEC_OK)
            sf_bytes(&o, state_tmp, n);
        sf_section_end(&o, at);
    }
    imssec_wipe(state_tmp, sizeof state_tmp);
    if (rc != IMSSEC_OK || o.bad) {
        verify(0, "pcscf-state", "no snapshot: %s", rc != IMSSEC_OK ? imssec_errname(rc)
                                                                    : "the state buffer is too small");
        state_failed = 1;
        return;
    }
    if (o.n + 4 == state_last_len && memcmp(state_buf, state_last, o.n) == 0)
        return; /* nothing changed (the CRC follows from the rest) */
    if (sf_finish_write(&o, state_path) != 0) {
        verify(0, "pcscf-state", "%s: %s", state_path, strerror(errno));
        state_failed = 1;
        return;
    }
    memcpy(state_last, state_buf, o.n);
    state_last_len = o.n;
    imssec_wipe(state_buf, sizeof state_buf);
}

static int state_app_load(sf_in *in)
{
    int i, n;
    if (sf_get_u32(in) != STATE_VERSION || sf_get_u32(in) != MAX_UES)
        return -1;
    for (i = 0; i < MAX_UES; i++) {
        ue_rec *u = &ues[i];
        u->have_user = (int)sf_get_u32(in);
        u->user = sf_get_u32(in);
        sf_get_str(in, u->sec_client, sizeof u->sec_client);
        u->port_ps = sf_get_u32(in);
        u->nat = (int)sf_get_u32(in);
        u->transport = (int)sf_get_u32(in);
        sf_get_str(in, u->aor, sizeof u->aor);
        u->dereg = (int)sf_get_u32(in);
        u->registered = (int)sf_get_u32(in);
        u->done = (int)sf_get_u32(in);
        if (u->have_user && u->user != (uint32_t)i)
            return -1;
    }
    n = (int)sf_get_u32(in);
    if (n < 0 || n > MAX_TX)
        return -1;
    for (i = 0; i < n; i++) {
        ptx *t = &tx[i];
        t->used = 1;
        sf_get_str(in, t->branch, sizeof t->branch);
        t->from_ue = (int)sf_get_u32(in);
        t->is_register = (int)sf_get_u32(in);
        t->in.kind = (int)sf_get_u32(in);
        t->in.transport = (int)sf_get_u32(in);
        sf_get_addr(in, &t->in.src);
        t->in.sport = sf_get_u32(in);
        t->in.chan = (int)sf_get_u32(in);
        t->in.sa = sf_get_u64(in);
        t->in.user = sf_get_u32(in);
        sf_get_addr(in, &t->in.flow.src);
        sf_get_addr(in, &t->in.flow.dst);
        t->in.flow.sport = (uint16_t)sf_get_u32(in);
        t->in.flow.dport = (uint16_t)sf_get_u32(in);
        t->in.flow.transport = (int)sf_get_u32(in);
        t->out_sa = sf_get_u64(in);
        t->pending = (int)sf_get_u32(in);
        t->method = (int)sf_get_u32(in);
        t->user = sf_get_u32(in);
        if (t->user >= MAX_UES || t->in.chan < 0 || t->in.chan >= SIO_CHANS ||
            (t->in.kind != SIO_UNPROT && t->in.kind != SIO_PROT) ||
            (t->in.transport != IMSSEC_TRANSPORT_UDP && t->in.transport != IMSSEC_TRANSPORT_TCP))
            return -1;
    }
    DP.installs = (int)sf_get_u32(in);
    if (sf_get_u32(in) != EX_POOL)
        return -1;
    for (i = 0; i < EX_POOL; i++) {
        ex_sa_note *nt = &DP.note[i];
        nt->ref = sf_get_u64(in);
        nt->set = (int)sf_get_u32(in);
        nt->which = (int)sf_get_u32(in);
        nt->inbound = (int)sf_get_u32(in);
        nt->logged = (int)sf_get_u32(in);
        nt->spi = sf_get_u32(in);
        nt->sport = (uint16_t)sf_get_u32(in);
        nt->dport = (uint16_t)sf_get_u32(in);
    }
    return in->bad || in->off != in->n ? -1 : 0;
}

/* The file as read at start-up (state_read), restored by state_load. */
static uint8_t state_in[sizeof state_buf];
static size_t state_in_len;
static int state_exists;

/* Start-up with --state, before any socket is opened: read the file if
 * there is one and check its framing.  0, or -1 with a message (the caller
 * exits). */
static int state_read(void)
{
    const char *why = NULL;
    int rc = sf_read_file(state_path, state_in, sizeof state_in, &state_in_len, &why);
    state_exists = rc == 1;
    if (rc < 0 || (rc == 1 && sf_check(state_in, state_in_len, &why) != 0)) {
        fprintf(stderr, "pcscf: state file %s: %s; refusing to start (remove it to start empty)\n",
                state_path, why);
        return -1;
    }
    return 0;
}

/* Restore what state_read() found, with the table and the pool set up.  0
 * (also when there is no file yet), or -1 with a message (the caller
 * exits). */
static int state_load(void)
{
    const uint8_t *buf = state_in;
    size_t len = state_in_len;
    sf_in app, tb, pl;
    imssec_errinfo e;
    int rc, i, users = 0, reg = 0, sas = 0;
    if (!state_exists) {
        ladder("state %s: none yet, starting empty; written after every change (mode 0600)",
               state_path);
        return 0;
    }
    if (sf_section(buf, len, "PCSC", &app) != 0 || sf_section(buf, len, "SATB", &tb) != 0 ||
        sf_section(buf, len, "POOL", &pl) != 0) {
        fprintf(stderr, "pcscf: state file %s: a section is missing; refusing to start\n",
                state_path);
        return -1;
    }
    if (state_app_load(&app) != 0) {
        fprintf(stderr, "pcscf: state file %s: the P-CSCF records are malformed; refusing to start\n",
                state_path);
        return -1;
    }
    memset(&e, 0, sizeof e);
    rc = imssec_sa_restore(&sat, tb.p, tb.n);
    if (rc == IMSSEC_OK)
        rc = imssec_sa_esp_pool_restore(&DP.pool, &sat, pl.p, pl.n, STATE_SEQ_MARGIN, &e);
    imssec_wipe(state_in, sizeof state_in);
    if (rc != IMSSEC_OK) {
        fprintf(stderr, "pcscf: state file %s: restore refused: %s; refusing to start\n",
                state_path, err_text(&e, rc));
        return -1;
    }
    /* the ladder's notes must name exactly the table's SAs */
    for (i = 0; i < EX_POOL; i++) {
        imssec_sa_info info;
        const ex_sa_note *nt = &DP.note[i];
        if (!nt->ref)
            continue;
        if (imssec_sa_get(&sat, nt->ref, &info) != IMSSEC_OK || info.spi != nt->spi) {
            fprintf(stderr, "pcscf: state file %s: its records do not match its SA table; "
                            "refusing to start\n", state_path);
            return -1;
        }
        imssec_wipe(&info, sizeof info);
        sas++;
    }
    if ((size_t)sas != imssec_sa_count(&sat, UINT32_MAX) || (size_t)sas != DP.pool.used) {
        fprintf(stderr, "pcscf: state file %s: %d SA notes, %u SAs in the table, %u in the pool; "
                        "refusing to start\n", state_path, sas,
                (unsigned)imssec_sa_count(&sat, UINT32_MAX), (unsigned)DP.pool.used);
        return -1;
    }
    for (i = 0; i < MAX_UES; i++) {
        users += ues[i].have_user;
        reg += ues[i].have_user && ues[i].registered;
    }
    for (i = 0; i < EX_POOL; i++) {
        const ex_sa_note *nt = &DP.note[i];
        if (nt->ref)
            ladder("    SA= %s spi=0x%08x  port %u -> %u  (set %d, restored)",
                   nt->inbound ? "in " : "out", (unsigned)nt->spi, nt->sport, nt->dport, nt->set);
    }
    ladder("restored from %s: %d users (%d registered), %d SAs; outbound sequence numbers go on "
           "+%d (RFC 4303 3.3.3), inbound windows refuse what arrived before",
           state_path, users, reg, sas, STATE_SEQ_MARGIN);
    return 0;
}

int main(int argc, char **argv)
{
    const char *pcap = arg_str(argc, argv, "pcap", NULL), *esp_sa = arg_str(argc, argv, "esp-keys", NULL);
    const char *pol_text, *conf, *mode = arg_str(argc, argv, "mode", "udp");
    static char buf[SIP_MAX_MSG + 1];
    char hb[IMSSEC_ADDR_TEXT_MAX + 1];
    unsigned my_port, encap_port;
    uint64_t deadline;
    FILE *esp_sa_file = NULL;
    int transport_mode, efd, tap = -1;

    ladder_role("P-CSCF");
    arg_check(argc, argv, known, usage);
    state_path = arg_str(argc, argv, "state", NULL);
    if (state_path && state_read() != 0)
        return 2;
    arg_addr(argc, argv, "ip", "127.0.0.1", &my_ip);
    arg_addr(argc, argv, "scscf-ip", "127.0.0.1", &scscf_ip);
    my_port = (unsigned)arg_num(argc, argv, "port", 5060);
    encap_port = (unsigned)arg_num(argc, argv, "encap-port", 4500);
    core_port = (unsigned)arg_num(argc, argv, "core-port", 6060);
    scscf_port = (unsigned)arg_num(argc, argv, "scscf-port", 5070);
    if (strcmp(mode, "udp") != 0 && strcmp(mode, "transport") != 0) {
        fprintf(stderr, "pcscf: --mode udp|transport\n");
        return 2;
    }
    transport_mode = strcmp(mode, "transport") == 0;
    pol_text = arg_str(argc, argv, "policy",
                       "hmac-sha-1-96/aes-cbc,hmac-sha-1-96/des-ede3-cbc,hmac-md5-96/aes-cbc,"
                       "hmac-md5-96/des-ede3-cbc,hmac-sha-1-96/null,hmac-md5-96/null");
    policy.pairs = policy_pairs;
    policy.n_pairs = arg_pairs(argc, argv, "policy", pol_text, policy_pairs, 8);
    conf = arg_str(argc, argv, "confidentiality", "supported");
    policy.confidentiality = strcmp(conf, "required") == 0 ? IMSSEC_SECAGREE_CONF_REQUIRED
                             : strcmp(conf, "never") == 0  ? IMSSEC_SECAGREE_CONF_NEVER
                                                           : IMSSEC_SECAGREE_CONF_SUPPORTED;
    /* Annex M: UDP-enc-tun needs the encapsulation socket */
    policy.udp_encap = !transport_mode;
    /* TS 33.328 7.1.1: this network prefers e2ae (sdes-srtp;mediasec) */
    policy.e2ae = 1;
    if (pcap)
        pcap_open(pcap);
    if (esp_sa && !(esp_sa_file = fopen(esp_sa, "a"))) {
        perror(esp_sa);
        return 2;
    }
    if (transport_mode) {
        /* clause 6.3: ESP straight over IP */
        efd = net_raw_esp(&my_ip);
        if (my_ip.len == 16)
            tap = net_ipv6_tap();
    } else {
        efd = net_udp(&my_ip, encap_port);
    }
    ex_dp_init(&DP, &io, transport_mode ? IMSSEC_MODE_TRANS : IMSSEC_MODE_UDP_ENC_TUN, efd, tap,
               esp_sa_file);
    if (dp_xfrm_arg(&DP, argc, argv, IMSSEC_SA_ROLE_PCSCF) != 0)
        return 2;
    {
        /* sa/: the P-CSCF state machine and its SA table (room for a few
         * users), the library's esp/ pool behind it */
        imssec_sa_config cfg;
        imssec_errinfo e;
        int rc;
        memset(&e, 0, sizeof e);
        imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
        rc = imssec_sa_table_setup(&sat, &cfg, &DP.cb, &io, 4, 12, sa_mem, sizeof sa_mem, &e);
        if (rc != IMSSEC_OK) {
            fprintf(stderr, "pcscf: sa/ table (%u bytes needed): %s\n",
                    (unsigned)imssec_sa_table_mem(4, 12), err_text(&e, rc));
            return 2;
        }
        ex_dp_attach(&DP, &sat);
    }
    sio_init(&S, IMSSEC_SA_ROLE_PCSCF, &sat, &DP, &io);
    S.dropped = on_dropped;
    sio_add_udp(&S, net_udp(&my_ip, my_port), 0);
    sio_add_listener(&S, net_tcp_listen(&my_ip, my_port));
    core_tls = arg_flag(argc, argv, "core-tls");
    if (core_tls) {
        tls_link_cfg tc;
        tls_link_cfg_args(&tc, 0, "S-CSCF", "pcscf-core-tls", argc, argv);
        tls_link_init(&core_link, &tc);
        core_chan = tls_sio_core(&S, &core_link, &core_conn, &my_ip, &scscf_ip, scscf_port);
    } else {
        core_chan = sio_add_udp(&S, net_udp(&my_ip, core_port), 1);
    }
    if (state_path && state_load() != 0)
        return 2; /* nothing served from a state that does not restore */
    ladder("P-CSCF ready: SIP %s:%u UDP+TCP (unprotected: REGISTER only), %s, core %s :%u%s%s, "
           "policy %s",
           addr_text(&my_ip, 1, hb), my_port,
           transport_mode ? "ESP (IP protocol 50)" : "ESP-in-UDP :4500",
           core_tls ? "TLS to" : "UDP", core_tls ? scscf_port : core_port,
           core_tls ? ", partners " : "", core_tls ? core_link.cfg.partners : "", pol_text);
    if (!transport_mode && DP.local_port != 4500)
        ladder("    (ESP-in-UDP on :%u: TS 33.203 M.7.1 says 4500)", DP.local_port);
    deadline = net_now_ms() + arg_num(argc, argv, "timeout-ms", 30000);
    keep_running = arg_flag(argc, argv, "keep-running");

    while (!all_done() || keep_running) {
        size_t n;
        sio_from from;
        sip_msg m;
        uint64_t now = net_now_ms();
        if (now >= deadline) {
            /* --keep-running: the deadline is the end, not a failure */
            verify(keep_running, "pcscf", "%s",
                   keep_running ? "--timeout-ms reached" : "timed out waiting for the flow to finish");
            break;
        }
        /* --state: wake up at least every second, for what sa/'s timers
         * changed (state_save() writes only a changed state) */
        if (!sio_recv(&S, (int)(state_path && deadline - now > 1000 ? 1000 : deadline - now), buf,
                      sizeof buf, &n, &from)) {
            state_save();
            continue;
        }
        if (sip_parse(&m, buf, n) != 0)
            ladder("a message that is not SIP dropped");
        else if (from.kind == SIO_CORE)
            on_core(&m);
        else if (from.kind == SIO_PROT)
            on_protected(&m, &from);
        else
            on_unprotected(&m, &from);
        state_save(); /* after each message: the SAs, the states, the sequence numbers */
    }
    call_alg_end(&alg, NULL);
    if (core_tls) {
        tls_conn_close(&core_conn, "the P-CSCF exits");
        tls_link_free(&core_link);
    }
    DP.why = "P-CSCF exits";
    dp_xfrm_settle(&DP);
    imssec_sa_table_wipe(&sat);
    dp_xfrm_close(&DP);
    if (esp_sa_file)
        fclose(esp_sa_file);
    ladder("exit (%d failures)", verify_failures());
    return verify_failures() ? 1 : 0;
}
