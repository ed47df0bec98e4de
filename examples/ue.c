/*
 * ue.c -- a UE with a software ISIM, for the imssec demo (TS 33.203).
 *
 * It runs one scripted session against the P-CSCF, over UDP or TCP
 * (--transport), with UDP-encapsulated tunnel-mode SAs (Annex M, behind a
 * NAT) or transport-mode SAs (--mode transport, raw IP sockets):
 *   1. REGISTER, unprotected, with Security-Client and the initial
 *      Authorization: imssec_sa_ue_register() (SM1; TS 24.229 5.1.1.2);
 *   2. the 401: imssec_sa_ue_challenge() selects from Security-Server
 *      (7.2; M.7.2 with `received` in the top Via), runs AKA on the ISIM
 *      and creates the four SAs.  Sync failure: a REGISTER with auts=
 *      (6.1.3), a new 401 follows.  MAC failure: a REGISTER saying so
 *      (6.1.2.2), the network refuses the registration;
 *   3. SM7 with Security-Verify on the SA sa/ names; SM12 over the new SAs;
 *   4. MESSAGE to and from the network over the SAs; a replayed ESP packet
 *      and an unprotected MESSAGE, both refused;
 *   5. re-registration with authentication while a network-initiated
 *      MESSAGE is still unanswered: its response goes over the old SAs,
 *      which are deleted afterwards; the next messages use the new SAs
 *      (7.4).  Over TCP the old client connection is closed (FIN);
 *   6. a call (call.c): INVITE with an e2ae SDP offer (TS 33.328 7.2.1),
 *      the IMS-ALG's answer checked, ACK, SRTP with the P-CSCF's IMS Access
 *      GW, BYE; with SAs that do not encrypt the key is refused (6.2.1.2)
 *      and no call is set up;
 *   7. de-registration: every SA deleted after the final response; or
 *      (--net-dereg) the network ends the registration with a reg-event
 *      NOTIFY, answered on the SAs, then every SA is deleted.
 * TS 33.203 7.1 port use: the UE receives on port_us (it is the Via
 * sent-by and the Contact of its protected requests) and, over UDP, sends
 * everything from port_uc; over TCP a request opens a connection from
 * port_uc to port_ps and its response comes back on it, a request of the
 * P-CSCF comes on a connection to port_us and is answered on it.  sa/
 * names the SA of every message (imssec_sa_route, protect_with); the UE
 * never picks one.  Every check prints "VERIFIED <step>: ..." or
 * "FAILED <step>: ...".
 *
 * With --control the UE is long-running instead (run_control()): after
 * step 3 it executes commands read from a pipe, a file or a FIFO (message,
 * rereg, dereg, register, status, sleep, quit), keeps answering the
 * network, and re-registers before the granted expiry (TS 24.229
 * 5.1.1.4.1).  --sqn-file keeps the ISIM's SQN state across runs.
 *
 * Only imssec.h plus POSIX (through the files of examples/).
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
#include "control.h"
#include "sqn_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const usage[] = {
    "usage: ue [--k HEX] [--op HEX | --opc HEX] [--impi alice@ims.example.net]\n"
    "          [--impu sip:alice@ims.example.net] [--realm ims.example.net]\n"
    "          [--sqn-ms N] [--ind-bits 5] [--algs hmac-sha-1-96/aes-cbc,...]\n"
    "          [--ip 127.0.0.1] [--private-ip ADDR] [--pcscf-ip 127.0.0.1]\n"
    "          [--pcscf-port 5060] [--encap-port 4500] [--expires 600]\n"
    "          [--transport udp|tcp] [--mode udp|transport] [--from-5060] [--single-offer]\n"
    "          [--expect ok|mac-failure] [--net-dereg] [--frames 100] [--keepalive-ms 20000]\n"
    "          [--pcap FILE] [--esp-keys FILE] [--timeout-ms 30000] [--dataplane esp|xfrm]\n"
    "          [--home-domain DOMAIN] [--via-host HOST] [--user-agent TEXT]\n"
    "          [--message-to URI] [--sqn-file FILE] [--control FILE|-] [--no-auto-rereg]\n"
    "A UE with a software ISIM (see the comment at the top of ue.c).\n"
    "  --k, --op, --opc  the USIM's K and OP or OPc (hex; default TS 35.207 test set 1)\n"
    "  --sqn-ms      the highest SQN the USIM has accepted (without --sqn-file)\n"
    "  --ind-bits    the USIM's IND length (TS 33.102 C.1.2; the HSS's must match)\n"
    "  --sqn-file    keep the USIM's SQN state (SEQ_MS per IND, TS 33.102 C.1.2) in FILE:\n"
    "                read at start (if it exists), rewritten atomically after every\n"
    "                accepted challenge, so a real HSS does not see a reset USIM\n"
    "  --impi, --impu, --realm  identities and the digest realm\n"
    "  --home-domain the REGISTER's Request-URI sip:DOMAIN and the digest uri\n"
    "                (TS 24.229 5.1.1.2: the home network domain); default --realm\n"
    "  --algs        the Security-Client's alg/ealg pairs, in order of preference\n"
    "  --pcscf-ip, --pcscf-port  where the unprotected REGISTER goes\n"
    "  --encap-port  the P-CSCF's ESP-in-UDP port (M.7.1: 4500)\n"
    "  --expect      ok, or mac-failure: the network's AUTN must fail (a wrong --k);\n"
    "                the registration is then refused and no SA may exist\n"
    "  --pcap        append every packet the UE sends to FILE (raw IP)\n"
    "  --expires     the registration expiry asked for (the 200 OK's is used)\n"
    "  --via-host    the host of the Via sent-by and the Contact (default: the\n"
    "                address, the public one once a NAT is seen, M.7.2)\n"
    "  --user-agent  the User-Agent header\n"
    "  --message-to  the Request-URI of the UE's MESSAGEs (default sip:service@REALM;\n"
    "                the demo's S-CSCF echoes a text that begins with \"echo:\")\n",
    "  --control     after the first registration, take commands from FILE (a FIFO,\n"
    "                a file, - for standard input) instead of running the scripted\n"
    "                session; one per line:\n"
    "                  message [TEXT]  a MESSAGE over the SAs\n"
    "                  rereg           re-register now\n"
    "                  dereg           de-register (every SA deleted)\n"
    "                  register        register again after dereg\n"
    "                  status          one STATUS line: state, SAs, expiry, next rereg\n"
    "                  sleep MS        keep serving the network for MS ms, then go on\n"
    "                  quit            de-register if registered, and exit\n"
    "                end of file is quit (a FIFO never ends: it is opened read-write);\n"
    "                while registered it re-registers by itself before expiry\n"
    "                (TS 24.229 5.1.1.4.1: 600 s before it, or at half of an expiry of\n"
    "                1200 s or less)\n"
    "  --no-auto-rereg  with --control: only the rereg command re-registers\n"
    "  --ip          the address the UE's sockets use\n"
    "  --private-ip  the address it believes it has (Via, Contact); another one than\n"
    "                --ip puts it behind a NAT (M.7.2); default: --ip\n"
    "  --mode        udp: UDP-encapsulated tunnel mode (Annex M); transport: transport\n"
    "                mode over raw IP sockets (root)\n"
    "  --transport   SIP over UDP or TCP (TS 33.203 7.1 has rules for both)\n"
    "  --from-5060   send the unprotected REGISTER from port 5060\n"
    "  --single-offer  one mechanism in Security-Client (some P-CSCFs read only the first)\n"
    "  --net-dereg   at the end wait for the network to de-register us (reg-event NOTIFY)\n"
    "  --frames      20 ms RTP frames the call sends (0: no call)\n"
    "  --keepalive-ms  NAT keepalive interval (M.7.2; RFC 3948: 20 s)\n"
    "  --dataplane   esp: the library's esp/ engine; xfrm: the Linux kernel's ESP through\n"
    "                the XFRM adapter (root; --mode transport)\n"
    "  --esp-keys    append each SA's keys as options of `imssec wireshark-esp-sa`\n"
    "  --timeout-ms  how long to wait for each answer\n"
    "  --pause-after-register MS  after the first MESSAGE wait MS ms (answering the\n"
    "                network), e.g. while a test restarts the P-CSCF (issue 13)\n",
    NULL};

static const char *const known[] = {
    "k",          "op",          "opc",         "impi",       "impu",    "realm",
    "sqn-ms",     "ind-bits",    "algs",        "private-ip", "ip",      "pcscf-ip",
    "pcscf-port", "encap-port",  "expires",     "expect",     "pcap",    "esp-keys",
    "timeout-ms", "transport",   "mode",        "from-5060!", "single-offer!", "net-dereg!",
    "frames",     "keepalive-ms", "home-domain", "via-host",   "user-agent", "message-to",
    "sqn-file",   "control",     "no-auto-rereg!", "pause-after-register", "dataplane", NULL};

static const imssec_io io = {NULL, net_random, NULL, NULL};

static struct {
    /* the ISIM: software Milenage behind a provider that notes the outcome */
    imssec_milenage mil;
    imssec_aka_sqn sqn;
    imssec_aka_soft soft;
    imssec_aka_provider soft_prov, isim;
    int aka_rc;
    uint64_t aka_sqn; /* SQN of the last AUTN */
    size_t aka_res_len;
    sqn_file sqnf;    /* --sqn-file: the USIM's SQN state across runs */
    char impi[128], impu[128], realm[64], uri[80], user_part[64];
    char via_host[IMSSEC_ADDR_TEXT_MAX + 64], user_agent[128], message_to[160];
    /* the network */
    imssec_addr my_ip, priv_ip, pub_ip, pcscf_ip; /* pub_ip.len 0: no NAT seen */
    unsigned pcscf_port, expires;
    int transport, mode, unprot_chan, timeout_ms;
    imssec_secagree_pair supported[8];
    int modes[2];
    imssec_secagree_offer offer;
    /* the SAs: sa/'s table (UE role), the library's esp/ pool behind it */
    imssec_sa_table sat;
    uint64_t sa_mem[2048];
    uint32_t user;
    ex_dp dp;
    sio io;
    /* registration */
    char call_id[48], from_tag[16];
    unsigned cseq;
    char sec_client[2048]; /* this attempt's offer, repeated in SM7 (Annex H) */
    unsigned port_uc, port_us;
    char service_route[256];
    tl_conn *req_conn;     /* TCP: the connection the last request went on */
    /* network-initiated MESSAGEs */
    int hold_next;         /* keep the next one unanswered */
    char held[SIP_MAX_MSG + 1];
    size_t held_n;
    sio_from held_from;
    int net_msgs, last_net_set;
    unsigned msg_cseq;
    int net_dereg;         /* a reg-event NOTIFY ended the registration */
    /* the registration's lifetime: what the 200 OK granted, when */
    unsigned granted_s;
    uint64_t registered_ms;
    unsigned reregs, auto_reregs;
    /* --control: the long-running UE */
    ctl ctl;
    int ctl_chan, idle, auto_rereg;
    uint64_t retry_ms;     /* a failed automatic re-registration: not before then */
} ue;

/* The Via transport token (RFC 3261 20.42) of the transport in use. */
static const char *via_tp(void)
{
    return ue.transport == IMSSEC_TRANSPORT_TCP ? "TCP" : "UDP";
}

/* The host of the Via sent-by and the Contact: --via-host, or the address
 * (TS 24.229 5.1.1.2; the public one behind a NAT, M.7.2).  h must hold
 * sizeof ue.via_host bytes. */
static const char *sent_by_host(char *h);

static char rx[SIP_MAX_MSG + 1];
static size_t rx_n;

static const imssec_addr *own_ip(void)
{
    /* M.7.1: behind a NAT the SAs, the Via and the Contact carry the public
     * address the 401 told us (`received`) */
    return ue.pub_ip.len ? &ue.pub_ip : &ue.priv_ip;
}

static const char *sent_by_host(char *h)
{
    if (ue.via_host[0])
        return strcpy(h, ue.via_host);
    return addr_text(own_ip(), 1, h);
}


/* The ISIM as an imssec_aka_provider: the software Milenage provider, with
 * a note of what it found (SQN of AUTN, RES length) for the ladder's checks:
 * imssec_sa_ue_challenge() runs it and keeps the keys to itself. */
static int isim_authenticate(void *user, const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                             const uint8_t autn[IMSSEC_AKA_AUTN_LEN], imssec_aka_result *out)
{
    int rc = ue.soft_prov.authenticate(ue.soft_prov.user, rand, autn, out);
    (void)user;
    ue.aka_rc = rc;
    ue.aka_sqn = out->sqn_known ? out->sqn : 0;
    ue.aka_res_len = rc == IMSSEC_OK ? out->res_len : 0;
    return rc;
}

/* Feed an event to the UE state machine; print the transition. */
static int sa_ev(int event, const imssec_sa_ev_args *a, imssec_sa_ev_out *o, const char *reason)
{
    int before = imssec_sa_state(&ue.sat, ue.user), rc;
    imssec_errinfo e;
    memset(&e, 0, sizeof e);
    ue.dp.why = reason;
    rc = imssec_sa_event(&ue.sat, ue.user, event, a, o, net_now_ms(), &e);
    ue.dp.why = NULL;
    if (rc == IMSSEC_OK && event == IMSSEC_SA_EV_SUCCESS) {
        /* registered: the expiry the 200 OK granted runs from now */
        ue.granted_s = a->expires_s;
        ue.registered_ms = net_now_ms();
    }
    if (rc != IMSSEC_OK)
        ladder("    sa/ %s in %s: %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               err_text(&e, rc));
    else if (imssec_sa_state(&ue.sat, ue.user) != before)
        ladder("    sa/ %s: %s -> %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               imssec_sa_state_name(imssec_sa_state(&ue.sat, ue.user)));
    return rc;
}

static void state_note(int before)
{
    if (imssec_sa_state(&ue.sat, ue.user) != before)
        ladder("    sa/ %s -> %s", imssec_sa_state_name(before),
               imssec_sa_state_name(imssec_sa_state(&ue.sat, ue.user)));
}

/* ---- sending and receiving ------------------------------------------------------ */

/* On the SA sa/ named, or (0) unprotected to the P-CSCF's port. */
static int send_msg(imssec_sa_ref sa, int is_request, const sip_buf *b)
{
    tl_conn *c = NULL;
    int rc;
    if (!sa)
        return sio_send_unprotected(&ue.io, ue.unprot_chan, &ue.pcscf_ip, ue.pcscf_port, b->p,
                                    b->n);
    rc = sio_send_protected(&ue.io, sa, ue.transport, is_request, b->p, b->n, &c);
    if (is_request && c)
        ue.req_conn = c;
    return rc;
}

static int recv_msg(sip_msg *m, sio_from *from, int timeout_ms)
{
    for (;;) {
        if (!sio_recv(&ue.io, timeout_ms, rx, sizeof rx, &rx_n, from))
            return -1;
        if (sip_parse(m, rx, rx_n) == 0)
            return 0;
        ladder("a message that is not SIP dropped");
    }
}

static int msg_kind(const sip_msg *m)
{
    return m->is_request ? IMSSEC_SA_MSG_REQUEST
           : m->status >= 300 ? IMSSEC_SA_MSG_ERROR
                              : IMSSEC_SA_MSG_RESPONSE;
}

/* A message other than a REGISTER response arrived: may it (7.1, 7.4.1a)? */
static int msg_in(const sip_msg *m, const sio_from *from, const char *reason)
{
    imssec_sa_ev_args a;
    memset(&a, 0, sizeof a);
    a.arrived_on = from->kind == SIO_PROT ? from->sa : 0;
    a.transport = (uint8_t)from->transport;
    a.msg = (uint8_t)msg_kind(m);
    return sa_ev(IMSSEC_SA_EV_MSG_IN, &a, NULL, reason);
}

/* The answer to a request from the network: on the SA sa/ names for a
 * response to a request that came on from->sa (7.1: over UDP from port_uc,
 * over TCP on the request's connection; 7.4: a pending transaction stays on
 * its set). */
static void answer_net_message(const char *raw, size_t n, const sio_from *from)
{
    sip_msg m;
    sip_buf b;
    imssec_sa_ref out = 0;
    int rc;
    if (sip_parse(&m, raw, n) != 0)
        return;
    sip_b_response(&b, &m, 200, "OK", "ue1");
    sip_b_end(&b, NULL, 0);
    rc = imssec_sa_route(&ue.sat, ue.user, from->transport, 0, from->sa, &out);
    if (rc != IMSSEC_OK) {
        verify(0, "ue-route", "no SA for the response: %s", imssec_errname(rc));
        return;
    }
    send_msg(out, 0, &b);
}

/* A reg-event NOTIFY (RFC 3680) that sa/ accepted (MSG_IN, 7.1): when it
 * ends our registration, the 200 OK goes on the SA imssec_sa_route()
 * names for the response, then every SA is deleted (7.4.1a: "once all the
 * IMPUs are de-registered"; TS 24.229 5.1.1.7: after the NOTIFY's
 * transaction).  The demo's UE has not SUBSCRIBEd (TS 24.229 5.1.1.3):
 * the NOTIFY stands for one of that subscription. */
static void on_notify(const sip_msg *m, const sio_from *from)
{
    char why_[96], in[96], on[96];
    imssec_sa_ref out = 0;
    sip_buf b;
    int rc, ok;
    ok = regevent_terminated(m, ue.impu, why_, sizeof why_);
    sip_b_response(&b, m, 200, "OK", "ue1");
    sip_b_end(&b, NULL, 0);
    rc = imssec_sa_route(&ue.sat, ue.user, from->transport, 0, from->sa, &out);
    ex_dp_name(&ue.dp, from->sa, in, sizeof in);
    ex_dp_name(&ue.dp, out, on, sizeof on);
    if (rc != IMSSEC_OK || send_msg(out, 0, &b) != 0 || !ok) {
        verify(0, "net-dereg", "NOTIFY: %s, response route %s", why_, imssec_errname(rc));
        return;
    }
    sa_ev(IMSSEC_SA_EV_NET_DEREG, NULL, NULL, "the network ended the registration");
    ue.net_dereg = 1;
    verify(ex_dp_count(&ue.dp, 0) == 0 && imssec_sa_count(&ue.sat, UINT32_MAX) == 0 &&
               imssec_sa_state(&ue.sat, ue.user) == IMSSEC_SA_ST_IDLE,
           "net-dereg",
           "reg-event NOTIFY (Subscription-State: terminated, %s terminated) on %s, accepted "
           "by sa/ (MSG_IN, the 7.1 carrier); "
           "200 OK sent on %s, then every SA deleted (data plane %d, sa/ %u)",
           ue.impu, in, on, ex_dp_count(&ue.dp, 0), (unsigned)imssec_sa_count(&ue.sat, UINT32_MAX));
}

/* A request from the network arrived while we wait for something else. */
static void on_net_request(const sip_msg *m, const sio_from *from)
{
    char text[128], name[96];
    int rc = msg_in(m, from, "a message arrived on the new SAs (7.4.1a)");
    if (rc != IMSSEC_OK) {
        ladder("    %.*s %s: discarded (7.1 item 4)", (int)m->method.n, m->method.p,
               from->kind == SIO_PROT ? "on the wrong SA" : "unprotected");
        return;
    }
    if (sip_eq(m->method, "NOTIFY")) {
        on_notify(m, from);
        return;
    }
    if (!sip_eq(m->method, "MESSAGE")) {
        ladder("unexpected %.*s ignored", (int)m->method.n, m->method.p);
        return;
    }
    sip_cstr(m->body, text, sizeof text);
    ue.net_msgs++;
    ue.last_net_set = ex_dp_set_of(&ue.dp, from->sa);
    ladder("    MESSAGE from the network: \"%s\"", text);
    /* 7.1 UDP and TCP case: the UE receives requests on port_us */
    if (!verify(from->flow.dport == ue.port_us, "network-message",
                "arrived on %s at port_us %u; sa/ accepts it",
                ex_dp_name(&ue.dp, from->sa, name, sizeof name), from->flow.dport))
        return;
    if (ue.hold_next) {
        ue.hold_next = 0;
        memcpy(ue.held, rx, rx_n);
        ue.held_n = rx_n;
        ue.held_from = *from;
        imssec_sa_txn_begin(&ue.sat, from->sa); /* keeps the set alive (7.4) */
        ladder("    (holding the response: this transaction stays pending on set %d)",
               ue.last_net_set);
        return;
    }
    answer_net_message(rx, rx_n, from);
}

/* Wait for the final response to our request CSeq `cseq`; requests from the
 * network that arrive meanwhile are handled. */
static int wait_response(unsigned cseq, sip_msg *m, sio_from *from)
{
    for (;;) {
        sip_str cs;
        if (recv_msg(m, from, ue.timeout_ms) != 0)
            return -1;
        if (m->is_request) {
            on_net_request(m, from);
            continue;
        }
        if (!sip_get(m, "CSeq", 0, &cs) || strtoul(cs.p, NULL, 10) != cseq || m->status < 200)
            continue;
        return m->status;
    }
}

static int wait_net_message(int already)
{
    sip_msg m;
    sio_from from;
    while (ue.net_msgs == already) {
        if (recv_msg(&m, &from, ue.timeout_ms) != 0)
            return -1;
        if (m.is_request)
            on_net_request(&m, &from);
    }
    return 0;
}

/* ---- REGISTER ----------------------------------------------------------------------- */

/* A REGISTER.  TS 24.229 5.1.1.2: the Via sent-by and the Contact carry the
 * protected server port port_us (7.1: the UE receives there), with the
 * public address once the 401 told it (M.7.2); rport (RFC 3581) brings
 * the answers to an unprotected REGISTER back to the port it left from. */
static void build_register(sip_buf *b, unsigned expires, const char *authz,
                           const char *sec_verify)
{
    char branch[32], h[sizeof ue.via_host];
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    sent_by_host(h);
    ue.cseq++;
    sip_b_init(b);
    sip_b_add(b, "REGISTER %s SIP/2.0\r\n", ue.uri);
    sip_b_add(b, "Via: SIP/2.0/%s %s:%u;branch=%s;rport\r\n", via_tp(),
              h, ue.port_us, branch);
    sip_b_add(b, "Max-Forwards: 70\r\n");
    sip_b_add(b, "From: <%s>;tag=%s\r\n", ue.impu, ue.from_tag);
    sip_b_add(b, "To: <%s>\r\n", ue.impu);
    sip_b_add(b, "Call-ID: %s\r\n", ue.call_id);
    sip_b_add(b, "CSeq: %u REGISTER\r\n", ue.cseq);
    sip_b_add(b, "Contact: <sip:%s@%s:%u>;expires=%u\r\n", ue.user_part, h, ue.port_us, expires);
    sip_b_add(b, "Expires: %u\r\n", expires);
    sip_b_add(b, "Authorization: %s\r\n", authz);
    sip_b_add(b, "Security-Client: %s\r\n", ue.sec_client);
    if (sec_verify)
        sip_b_add(b, "Security-Verify: %s\r\n", sec_verify);
    sip_b_add(b, "Require: sec-agree\r\nProxy-Require: sec-agree\r\n");
    sip_b_add(b, "Supported: path, sec-agree\r\n");
    sip_b_add(b, "User-Agent: %s\r\n", ue.user_agent);
    sip_b_end(b, NULL, 0);
}

/* What the P-CSCF must have done to the 401 (6.1.1, TS 24.229 5.2.2.1):
 * the keys removed, a Security-Server added.  Checked with the library's
 * digest parser. */
static int challenge_ok(const sip_msg *m, const char *www)
{
    imssec_digest_challenge ch[4];
    size_t n = 0, i, k;
    int keys = 0;
    if (imssec_digest_challenge_parse(imssec_cstr(www), ch, 4, &n, NULL) != IMSSEC_OK || !n)
        return 0;
    for (i = 0; i < n; i++)
        for (k = 0; k < ch[i].n_extra; k++)
            keys |= sip_eq(ch[i].extra[k].name, "ck") ||
                    sip_eq(ch[i].extra[k].name, "ik");
    return !keys && sip_count(m, "Security-Server") > 0;
}

/* M.7.2: a `received` in the top Via of the 401 means NAT; from then on
 * the public address goes into the SAs, the Via and the Contact. */
static void learn_public_address(const sip_msg *m)
{
    imssec_secagree_via via;
    imssec_addr pub;
    sip_str v;
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    if (!sip_get(m, "Via", 0, &v) || imssec_secagree_via_parse(v, &via, NULL) != IMSSEC_OK ||
        !via.received.p || imssec_addr_parse(via.received, &pub) != IMSSEC_OK)
        return;
    if (!imssec_addr_equal(&pub, &ue.priv_ip) && !imssec_addr_equal(&pub, &ue.pub_ip))
        ladder("    NAT detected: the P-CSCF saw us as %s:%u", addr_text(&pub, 1, t), via.rport);
    ue.pub_ip = pub;
}

/* The expiry the registrar granted (RFC 3261 10.2.4, TS 24.229 5.1.1.2):
 * the expires parameter of our Contact in the 200 OK (the first Contact
 * with one if none is ours), else its Expires header, else what we asked.
 * It may be shorter than what we asked; the SAs' lifetime (7.4) and the
 * re-registration follow it (sa_ev() notes it once SUCCESS is taken). */
static unsigned granted_expiry(const sip_msg *m)
{
    sip_str c, e, first = {NULL, 0};
    char buf[16], mine[sizeof ue.via_host + 96], h[sizeof ue.via_host], uri[256];
    unsigned v = ue.expires;
    int i, found = 0;
    snprintf(mine, sizeof mine, "sip:%s@%s:%u", ue.user_part, sent_by_host(h), ue.port_us);
    for (i = 0; !found && sip_get(m, "Contact", i, &c); i++) {
        if (!sip_param(c, "expires", &e))
            continue;
        if (!first.p)
            first = e;
        found = strcmp(sip_uri_of(c, uri, sizeof uri), mine) == 0;
    }
    if (!found && first.p) {
        e = first;
        found = 1;
    }
    if (found || sip_get(m, "Expires", 0, &e))
        v = (unsigned)strtoul(sip_cstr(e, buf, sizeof buf), NULL, 10);
    if (v != ue.expires)
        ladder("    the registrar granted %u s (we asked for %u s)", v, ue.expires);
    return v;
}

/* The 401: AKA, SAs, and the REGISTER that answers it.  Returns the final
 * status of the registration (200 or the failure), or -1. */
static int authenticate(sip_msg *m, sio_from *from, int expect_mac_failure)
{
    for (;;) {
        imssec_sa_ue_401 in;
        imssec_sa_ue_401_out out;
        imssec_errinfo e;
        char www[2048], ss[2048], authz[1024], sv[2048], names[64], cnonce[17], name[96];
        sip_str via;
        int rc, status, set, before;
        sip_buf b;

        sip_join(m, "WWW-Authenticate", www, sizeof www);
        if (!verify(challenge_ok(m, www), "register-challenge",
                    "401 %s, with Security-Server and without CK/IK",
                    from->kind == SIO_PROT ? "over the current SAs" : "unprotected"))
            return -1;
        learn_public_address(m);
        sip_join(m, "Security-Server", ss, sizeof ss);
        sip_token(cnonce, 16);
        memset(&in, 0, sizeof in);
        memset(&out, 0, sizeof out);
        memset(&e, 0, sizeof e);
        in.www_authenticate = imssec_cstr(www);
        in.security_server = imssec_cstr(ss);
        if (sip_get(m, "Via", 0, &via))
            in.via = via;
        in.arrived_on = from->kind == SIO_PROT ? from->sa : 0;
        in.transport = from->transport;
        in.aka = &ue.isim;
        in.username = imssec_cstr(ue.impi);
        in.uri = imssec_cstr(ue.uri);
        in.cnonce = imssec_cstr(cnonce);
        in.nc = 1;
        in.supported = ue.supported;
        in.n_supported = ue.offer.n_pairs;
        in.udp_encap = ue.mode == IMSSEC_MODE_UDP_ENC_TUN;
        in.ue_ip = *own_ip();
        in.pcscf_ip = ue.pcscf_ip;
        out.authorization = authz;
        out.authorization_cap = sizeof authz - 1;
        out.security_verify = sv;
        out.security_verify_cap = sizeof sv - 1;
        ue.aka_rc = 1; /* "not run" */
        before = imssec_sa_state(&ue.sat, ue.user);
        rc = imssec_sa_ue_challenge(&ue.sat, ue.user, &in, &out, net_now_ms(), &e);
        state_note(before);
        authz[out.authorization_len < sizeof authz ? out.authorization_len : 0] = '\0';
        if (rc == IMSSEC_E_SYNC_FAILURE) {
            /* 6.1.3, 7.3.1.3: the REGISTER with auts= goes the way SM1 went
             * (sa/ says which SA); no new SA */
            verify(1, "aka-sync-failure",
                   "SQN 0x%012llx from the network is not fresh (our highest: 0x%012llx): "
                   "answering with AUTS", (unsigned long long)ue.aka_sqn,
                   (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
            build_register(&b, ue.expires, authz, NULL);
            if (send_msg(out.protect_with, 1, &b) != 0)
                return -1;
            status = wait_response(ue.cseq, m, from);
            if (!verify(status == 401, "aka-resync",
                        "%s", status == 401 ? "the S-CSCF resynchronised and challenged again"
                                            : "no new 401 after AUTS"))
                return status;
            continue;
        }
        if (rc == IMSSEC_E_MAC_FAILURE || rc == IMSSEC_E_AMF) {
            /* 6.1.2.2, 7.3.1.2: the REGISTER that says the network failed
             * to authenticate; no new SA */
            verify(expect_mac_failure, "aka-network-failure",
                   "AUTN did not verify (%s); no SA created (%d in the data plane)",
                   imssec_errname(rc), ex_dp_count(&ue.dp, 0));
            build_register(&b, ue.expires, authz, NULL);
            if (send_msg(out.protect_with, 1, &b) != 0)
                return -1;
            return wait_response(ue.cseq, m, from);
        }
        if (rc == IMSSEC_E_SECAGREE_REJECT) {
            verify(0, "ue-select", "nothing acceptable in the Security-Server: %s", err_text(&e, rc));
            return -1;
        }
        if (rc != IMSSEC_OK) {
            verify(0, "aka", "imssec_sa_ue_challenge: %s", err_text(&e, rc));
            return -1;
        }
        verify(!expect_mac_failure && ue.aka_rc == IMSSEC_OK, "aka",
               "network authenticated: SQN 0x%012llx accepted, RES %u bytes, CK/IK derived",
               (unsigned long long)ue.aka_sqn, (unsigned)ue.aka_res_len);
        ladder("    selected ipsec-3gpp %s mod=%s from the Security-Server (entry %u)",
               pair_text(out.choice.alg, out.choice.ealg, names, sizeof names),
               imssec_mode_name(out.choice.mode), (unsigned)out.choice.index);
        set = ex_dp_set_of(&ue.dp, out.protect_with);
        verify(set && ex_dp_count(&ue.dp, set) == 4, "sa-created", "4 SAs of set %d (%s, %s)", set,
               names, ue.mode == IMSSEC_MODE_TRANS ? "transport mode" : "UDP-enc-tun");

        /* SM7 on the SA sa/ named, with Security-Verify = the server's list */
        sv[out.security_verify_len] = '\0';
        build_register(&b, ue.expires, authz, sv);
        if (send_msg(out.protect_with, 1, &b) != 0)
            return -1;
        status = wait_response(ue.cseq, m, from);
        {
            imssec_sa_ev_args a;
            memset(&a, 0, sizeof a);
            a.arrived_on = from->kind == SIO_PROT ? from->sa : 0;
            a.transport = (uint8_t)from->transport;
            if (status == 200) {
                sip_str v;
                a.expires_s = granted_expiry(m);
                /* sa/ accepts SM12 only on the new set's carrier (7.4.1a, 7.1) */
                rc = sa_ev(IMSSEC_SA_EV_SUCCESS, &a, NULL, "SM12 arrived: superseded (7.4.1a)");
                verify(rc == IMSSEC_OK && ex_dp_set_of(&ue.dp, from->sa) == set, "register",
                       "200 OK arrived on %s, the new inbound SA",
                       ex_dp_name(&ue.dp, from->sa, name, sizeof name));
                if (sip_get(m, "Service-Route", 0, &v))
                    sip_uri_of(v, ue.service_route, sizeof ue.service_route);
                return rc == IMSSEC_OK ? 200 : -1;
            }
            if (status < 0)
                return status;
            a.kind = status == 401 || status == 403 ? IMSSEC_SA_KIND_USER_AUTH
                                                    : IMSSEC_SA_KIND_OTHER;
            sa_ev(IMSSEC_SA_EV_FAILURE, &a, NULL, "registration failed (7.3)");
            return status;
        }
    }
}

/* One registration (initial or re-registration).  Returns 200 on success. */
static int do_register(int expect_mac_failure)
{
    imssec_sa_ue_sm1 in;
    imssec_sa_ue_sm1_out out;
    imssec_errinfo e;
    char authz[512];
    sip_buf b;
    sip_msg m;
    sio_from from;
    int status, st, rc, before = imssec_sa_state(&ue.sat, ue.user);
    unsigned old_uc = ue.port_uc;

    /* an initial registration learns the NAT anew (M.7.2): from the
     * private address, as the first one did */
    if (before == IMSSEC_SA_ST_IDLE)
        ue.pub_ip.len = 0;
    /* SM1: fresh SPIs and port_uc, port_us kept (7.4), the old SA or none */
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    memset(&e, 0, sizeof e);
    in.ue_ip = *own_ip();
    in.offer = &ue.offer;
    in.transport = ue.transport;
    in.impi = imssec_cstr(ue.impi);
    in.realm = imssec_cstr(ue.realm);
    in.uri = imssec_cstr(ue.uri);
    out.security_client = ue.sec_client;
    out.security_client_cap = sizeof ue.sec_client - 1;
    out.authorization = authz;
    out.authorization_cap = sizeof authz - 1;
    rc = imssec_sa_ue_register(&ue.sat, ue.user, &in, &out, net_now_ms(), &e);
    if (rc != IMSSEC_OK) {
        verify(0, "ue-register", "imssec_sa_ue_register: %s", err_text(&e, rc));
        return -1;
    }
    state_note(before);
    ue.sec_client[out.security_client_len] = '\0';
    authz[out.authorization_len] = '\0';
    ue.port_uc = out.port_uc;
    ue.port_us = out.port_us;
    build_register(&b, ue.expires, authz, NULL);
    if (send_msg(out.protect_with, 1, &b) != 0)
        return -1;
    status = wait_response(ue.cseq, &m, &from);
    if (status == 401) {
        status = authenticate(&m, &from, expect_mac_failure);
    } else if (status == 200 && imssec_sa_state(&ue.sat, ue.user) == IMSSEC_SA_ST_REG_PROT) {
        /* 5.1.2: "a re-registration might not need to be authenticated":
         * the registrar accepts a protected re-REGISTER without a
         * challenge.  sa/ extends the current SAs (SUCCESS in REG_PROT);
         * the port_uc and SPIs drawn for this attempt were never used, the
         * current set keeps its own. */
        imssec_sa_ev_args a;
        char name[96];
        memset(&a, 0, sizeof a);
        a.arrived_on = from.kind == SIO_PROT ? from.sa : 0;
        a.transport = (uint8_t)from.transport;
        a.expires_s = granted_expiry(&m);
        ue.port_uc = old_uc;
        rc = sa_ev(IMSSEC_SA_EV_SUCCESS, &a, NULL, NULL);
        verify(rc == IMSSEC_OK, "register",
               "200 OK without a challenge on %s: the current SAs stay, lifetime extended",
               ex_dp_name(&ue.dp, from.sa, name, sizeof name));
        if (rc != IMSSEC_OK)
            status = -1;
    } else {
        verify(0, "register-challenge", "expected 401, got %d", status);
    }
    st = imssec_sa_state(&ue.sat, ue.user);
    if (status != 200 && st != IMSSEC_SA_ST_ACTIVE && st != IMSSEC_SA_ST_IDLE) {
        /* a failure response (the 403 after a network authentication
         * failure) or a timeout ends the attempt (7.3.1, 7.3.1.4) */
        imssec_sa_ev_args a;
        memset(&a, 0, sizeof a);
        a.arrived_on = status > 0 && from.kind == SIO_PROT ? from.sa : 0;
        a.transport = (uint8_t)ue.transport;
        a.kind = IMSSEC_SA_KIND_OTHER;
        sa_ev(status > 0 ? IMSSEC_SA_EV_FAILURE : IMSSEC_SA_EV_TIMEOUT, &a, NULL,
              "registration failed (7.3)");
    }
    return status;
}

/* A MESSAGE to the network over the SA sa/ routes it to; returns the status. */
static int send_message(const char *text)
{
    sip_buf b;
    sip_msg m;
    sio_from from;
    imssec_sa_ref ref = 0;
    imssec_sa_info info;
    char branch[32], name[96], h[sizeof ue.via_host], p[IMSSEC_ADDR_TEXT_MAX + 1];
    unsigned port_ps;
    int status, rc;
    if (imssec_sa_route(&ue.sat, ue.user, ue.transport, 1, 0, &ref) != IMSSEC_OK ||
        imssec_sa_get(&ue.sat, ref, &info) != IMSSEC_OK) {
        verify(0, "ue-message", "sa/ has no SA for a request");
        return -1;
    }
    port_ps = info.dport; /* the SA's destination: the P-CSCF's protected server port */
    imssec_wipe(&info, sizeof info);
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    sent_by_host(h);
    ue.msg_cseq++;
    sip_b_init(&b);
    sip_b_add(&b, "MESSAGE %s SIP/2.0\r\n", ue.message_to);
    sip_b_add(&b, "Via: SIP/2.0/%s %s:%u;branch=%s;rport\r\n", via_tp(),
              h, ue.port_us, branch);
    sip_b_add(&b, "Max-Forwards: 70\r\n");
    sip_b_add(&b, "Route: <sip:%s:%u;lr>\r\n", addr_text(&ue.pcscf_ip, 1, p), port_ps);
    if (ue.service_route[0])
        sip_b_add(&b, "Route: <%s>\r\n", ue.service_route);
    sip_b_add(&b, "From: <%s>;tag=%s\r\n", ue.impu, ue.from_tag);
    sip_b_add(&b, "To: <%s>\r\n", ue.message_to);
    sip_b_add(&b, "Call-ID: m%u-%s\r\n", ue.msg_cseq, ue.call_id);
    sip_b_add(&b, "CSeq: %u MESSAGE\r\n", 1000 + ue.msg_cseq);
    sip_b_add(&b, "Contact: <sip:%s@%s:%u>\r\n", ue.user_part, h, ue.port_us);
    sip_b_add(&b, "Content-Type: text/plain\r\n");
    sip_b_end(&b, text, strlen(text));
    imssec_sa_txn_begin(&ue.sat, ref);
    if (send_msg(ref, 1, &b) != 0)
        return -1;
    status = wait_response(1000 + ue.msg_cseq, &m, &from);
    rc = status > 0 ? msg_in(&m, &from, "a message arrived on the new SAs (7.4.1a)") : -1;
    imssec_sa_txn_end(&ue.sat, ref, net_now_ms());
    verify(status == 200 && rc == IMSSEC_OK && from.kind == SIO_PROT &&
               ex_dp_set_of(&ue.dp, from.sa) == ex_dp_set_of(&ue.dp, ref),
           "ue-message", "\"%s\": %d on %s, the set the request used", text, status,
           status > 0 ? ex_dp_name(&ue.dp, from.sa, name, sizeof name) : "nothing");
    return status;
}

static int deregister(void)
{
    sip_buf b;
    sip_msg m;
    sio_from from;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    char authz[512], name[96];
    size_t al = 0;
    int status, rc;
    memset(&a, 0, sizeof a);
    memset(&o, 0, sizeof o);
    a.transport = (uint8_t)ue.transport;
    if (sa_ev(IMSSEC_SA_EV_DEREG_SEND, &a, &o, NULL) != IMSSEC_OK)
        return 0;
    if (imssec_digest_initial_build(imssec_cstr(ue.impi), imssec_cstr(ue.realm),
                                    imssec_cstr(ue.uri), authz, sizeof authz - 1, &al) != IMSSEC_OK)
        return 0;
    authz[al] = '\0';
    build_register(&b, 0, authz, NULL);
    if (send_msg(o.protect_with, 1, &b) != 0)
        return 0;
    status = wait_response(ue.cseq, &m, &from);
    if (status != 200) {
        verify(0, "deregister", "%d", status);
        return 0;
    }
    /* 7.4.1a: every SA goes once the final response is in */
    a.arrived_on = from.kind == SIO_PROT ? from.sa : 0;
    a.transport = (uint8_t)from.transport;
    ex_dp_name(&ue.dp, a.arrived_on, name, sizeof name);
    rc = sa_ev(IMSSEC_SA_EV_DEREG_DONE, &a, NULL, "de-registered");
    verify(rc == IMSSEC_OK && a.arrived_on, "deregister-response",
           "200 OK over %s; sa/ accepts it", name);
    return verify(ex_dp_count(&ue.dp, 0) == 0 && imssec_sa_count(&ue.sat, UINT32_MAX) == 0,
                  "deregister", "%d: every SA deleted (data plane %d, sa/ %u)", status,
                  ex_dp_count(&ue.dp, 0), (unsigned)imssec_sa_count(&ue.sat, UINT32_MAX));
}

/* ---- the call and the network's de-registration ---------------------------------- */

/* One SIP message handled as between the steps (call.c's media loop). */
static int poll_sip(int timeout_ms)
{
    sip_msg m;
    sio_from from;
    if (recv_msg(&m, &from, timeout_ms) != 0)
        return 0;
    if (m.is_request)
        on_net_request(&m, &from);
    else
        ladder("a response nobody waits for ignored");
    return 1;
}

/* 6: the call of call.c over our SAs and SIP I/O */
static int call(int argc, char **argv)
{
    char call_id[64];
    const call_ue_env e = {
        .sat = &ue.sat, .user = ue.user, .dp = &ue.dp, .io = &ue.io, .lib_io = &io,
        .transport = ue.transport, .ip = *own_ip(), .sock_ip = ue.my_ip, .pcscf_ip = ue.pcscf_ip,
        .port_us = ue.port_us, .impu = ue.impu, .realm = ue.realm, .user_part = ue.user_part,
        .service_route = ue.service_route, .tag = ue.from_tag, .call_id = call_id,
        .frames = (unsigned)arg_num(argc, argv, "frames", 100), .send = send_msg,
        .wait = wait_response, .msg_in = msg_in, .poll = poll_sip, .message = send_message};
    snprintf(call_id, sizeof call_id, "call-%s", ue.call_id);
    return call_ue(&e);
}

/* 7 (--net-dereg): the S-CSCF ends the registration (on_notify). */
static void wait_net_dereg(void)
{
    uint64_t end = net_now_ms() + (uint64_t)ue.timeout_ms;
    while (!ue.net_dereg && net_now_ms() < end)
        poll_sip((int)(end - net_now_ms()));
    if (!ue.net_dereg)
        verify(0, "net-dereg", "no reg-event NOTIFY ended the registration");
}

/* ---- the session ---------------------------------------------------------------- */

/* 4: two things the P-CSCF must refuse: the same ESP packet again
 * (anti-replay, RFC 4303 3.4.3) and a request on the unprotected port
 * (7.1 item 3).  Neither may get an answer. */
static void refused_traffic(void)
{
    sip_buf b;
    sip_msg m;
    sio_from from;
    char h[IMSSEC_ADDR_TEXT_MAX + 1];
    ladder("    replaying the ESP packet of the MESSAGE above, byte for byte");
    ex_dp_replay_last(&ue.dp);
    sip_b_init(&b);
    sip_b_add(&b, "MESSAGE sip:service@%s SIP/2.0\r\n", ue.realm);
    sip_b_add(&b, "Via: SIP/2.0/%s %s:%u;branch=z9hG4bKunprot%u;rport\r\n",
              via_tp(), addr_text(own_ip(), 1, h),
              ue.io.chan[ue.unprot_chan].local_port, ue.cseq);
    sip_b_add(&b, "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <sip:service@%s>\r\n", ue.impu,
              ue.from_tag, ue.realm);
    sip_b_add(&b, "Call-ID: unprot-%s\r\nCSeq: 1 MESSAGE\r\n", ue.call_id);
    sip_b_end(&b, "not protected", 13);
    send_msg(0, 1, &b);
    verify(recv_msg(&m, &from, 500) != 0, "ue-refused-traffic",
           "neither the replayed packet nor the unprotected MESSAGE got an answer");
}

/* 5-7: re-registration with a network MESSAGE pending on the old SAs. */
static int reregister(void)
{
    imssec_sa_ref r_old = 0, r_new = 0, out = 0;
    unsigned old_us = ue.port_us, old_uc = ue.port_uc;
    int s_old, s_new, set;
    tl_conn *old_conn = ue.req_conn;
    imssec_sa_route(&ue.sat, ue.user, ue.transport, 1, 0, &r_old);
    s_old = ex_dp_set_of(&ue.dp, r_old);
    if (!s_old || do_register(0) != 200) {
        verify(0, "reregister", "re-registration failed");
        return -1;
    }
    imssec_sa_route(&ue.sat, ue.user, ue.transport, 1, 0, &r_new);
    s_new = ex_dp_set_of(&ue.dp, r_new);
    /* 7.4: requests now use the new SAs; the old set stays for the
     * pending transaction; port_us fixed, port_uc new */
    verify(s_new && s_new != s_old && ue.port_us == old_us && ue.port_uc != old_uc &&
               ex_dp_count(&ue.dp, 0) == 8 && imssec_sa_count(&ue.sat, UINT32_MAX) == 8,
           "reregister",
           "new SAs (set %d) in use, old ones (set %d) kept: port_us %u unchanged, port_uc %u -> "
           "%u, 8 SAs",
           s_new, s_old, ue.port_us, old_uc, ue.port_uc);
    if (ue.transport == IMSSEC_TRANSPORT_TCP && old_conn && old_conn->state != TL_FREE &&
        old_conn->out_sa == r_old) {
        /* the client connection of the old set carries nothing any more:
         * closed (FIN both ways) while the old SAs still exist */
        unsigned lp = old_conn->lport, rp = old_conn->rport;
        verify(sio_close_wait(&ue.io, old_conn, 3000), "tcp-close",
               "the old set's connection %u->%u closed with FIN both ways", lp, rp);
    }
    if (!ue.held_n) {
        verify(0, "pending-on-old-sa", "no pending MESSAGE");
        return -1;
    }
    /* 6: the pending transaction ends over the old SAs, then they go */
    set = ex_dp_set_of(&ue.dp, ue.held_from.sa);
    imssec_sa_route(&ue.sat, ue.user, ue.held_from.transport, 0, ue.held_from.sa, &out);
    ladder("    answering the pending MESSAGE: sa/ routes it over set %d", ex_dp_set_of(&ue.dp, out));
    verify(out && ex_dp_set_of(&ue.dp, out) == set, "pending-on-old-sa",
           "the pending MESSAGE is answered over set %d, the old SAs it came on", set);
    answer_net_message(ue.held, ue.held_n, &ue.held_from);
    imssec_sa_txn_end(&ue.sat, ue.held_from.sa, net_now_ms());
    ue.held_n = 0;
    /* 7: everything now runs over the new SAs; the first message that
     * arrives on them retires the old set (7.4.1a) */
    if (send_message("hello over the new SAs") != 200)
        return -1;
    verify(ex_dp_count(&ue.dp, set) == 0 && ex_dp_count(&ue.dp, 0) == 4 &&
               imssec_sa_count(&ue.sat, UINT32_MAX) == 4,
           "old-sa-deleted",
           "set %d deleted after its transaction ended and a message arrived on the new SAs; 4 SAs "
           "left", set);
    return 0;
}

/* ---- the long-running UE (--control) ------------------------------------------ */

static int registered(void)
{
    return imssec_sa_state(&ue.sat, ue.user) == IMSSEC_SA_ST_ACTIVE;
}

/* TS 24.229 5.1.1.4.1: the UE re-registers 600 s before the expiry when
 * the registration was for more than 1200 s, at half of it otherwise. */
static uint64_t rereg_due_ms(void)
{
    uint64_t g = ue.granted_s;
    return ue.registered_ms + 1000 * (g > 1200 ? g - 600 : g / 2);
}

static void on_control(void *user, int fd)
{
    (void)user;
    (void)fd;
    ctl_readable(&ue.ctl);
    if (ue.ctl.eof && ue.ctl_chan >= 0) {
        /* at end of file poll() says "readable" for ever */
        sio_remove_hook(&ue.io, ue.ctl_chan);
        ue.ctl_chan = -1;
    }
    if (ue.idle)
        ue.io.wake = 1;
}

static void status_line(void)
{
    uint64_t now = net_now_ms(), end = ue.registered_ms + 1000 * (uint64_t)ue.granted_s;
    long long left = registered() ? (long long)(end > now ? (end - now) / 1000 : 0) : -1;
    long long next = registered() && ue.auto_rereg
                         ? (long long)(rereg_due_ms() > now ? (rereg_due_ms() - now) / 1000 : 0)
                         : -1;
    ladder("STATUS state=%s sas=%u dataplane=%d granted=%u left_s=%lld next_rereg_s=%lld "
           "reregs=%u auto=%u keepalives=%u sqn=0x%012llx",
           imssec_sa_state_name(imssec_sa_state(&ue.sat, ue.user)),
           (unsigned)imssec_sa_count(&ue.sat, UINT32_MAX), ex_dp_count(&ue.dp, 0), ue.granted_s,
           left, next, ue.reregs, ue.auto_reregs, ue.dp.keepalives,
           (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
}

/* A re-registration, commanded or due (7.4: port_us kept, new SAs). */
static int rereg_now(int automatic)
{
    imssec_sa_ref r = 0;
    unsigned us = ue.port_us;
    int status;
    ladder("%s re-registration (granted %u s)", automatic ? "automatic" : "commanded",
           ue.granted_s);
    status = do_register(0);
    imssec_sa_route(&ue.sat, ue.user, ue.transport, 1, 0, &r);
    if (!verify(status == 200 && ue.port_us == us && registered(), "rereg",
                "%s re-registration: %d, requests now on set %d, port_us %u kept, next due in "
                "%llu s",
                automatic ? "automatic" : "commanded", status, ex_dp_set_of(&ue.dp, r),
                ue.port_us,
                (unsigned long long)((rereg_due_ms() - net_now_ms()) / 1000))) {
        /* still registered on the current SAs, if they live: try again later */
        ue.retry_ms = net_now_ms() + 5000;
        return -1;
    }
    ue.reregs++;
    ue.auto_reregs += automatic != 0;
    ue.retry_ms = 0;
    return 0;
}

/* One command line; 1 when it was quit.  `sleep MS` only sets *sleep_until:
 * run_control() keeps serving the network until then. */
static int command(char *line, uint64_t *sleep_until)
{
    char *arg = line + strcspn(line, " \t");
    if (*arg)
        *arg++ = '\0';
    arg += strspn(arg, " \t");
    ladder("command: %s%s%s", line, *arg ? " " : "", arg);
    if (strcmp(line, "quit") == 0)
        return 1;
    if (strcmp(line, "sleep") == 0) {
        *sleep_until = net_now_ms() + strtoull(arg, NULL, 10);
    } else if (strcmp(line, "status") == 0) {
        status_line();
    } else if (strcmp(line, "message") == 0) {
        if (registered())
            send_message(*arg ? arg : "hello from the UE");
        else
            ladder("    not registered: no SAs to send on");
    } else if (strcmp(line, "rereg") == 0) {
        if (registered())
            rereg_now(0);
        else
            ladder("    not registered: use register");
    } else if (strcmp(line, "dereg") == 0) {
        if (registered())
            deregister();
        else
            ladder("    not registered");
    } else if (strcmp(line, "register") == 0) {
        if (imssec_sa_state(&ue.sat, ue.user) == IMSSEC_SA_ST_IDLE)
            verify(do_register(0) == 200, "register", "registered again");
        else
            ladder("    already registered: use rereg");
    } else {
        ladder("    unknown command \"%s\" (see ue --help, --control)", line);
    }
    return 0;
}

/* After the first registration: commands from --control, SIP served
 * meanwhile, re-registration before expiry.  Ends at quit or end of file,
 * de-registering first. */
static void run_control(const char *path)
{
    char line[CTL_LINE];
    uint64_t sleep_until = 0;
    if (ctl_open(&ue.ctl, path) != 0) {
        verify(0, "control", "cannot read commands from %s", path);
        return;
    }
    ue.ctl_chan = sio_add_hook(&ue.io, ue.ctl.fd, on_control, NULL);
    ladder("long-running: commands from %s; automatic re-registration %s", path,
           ue.auto_rereg ? "on (TS 24.229 5.1.1.4.1)" : "off");
    for (;;) {
        uint64_t now = net_now_ms(), next = now + 1000;
        if (ue.auto_rereg && registered()) {
            uint64_t due = rereg_due_ms() > ue.retry_ms ? rereg_due_ms() : ue.retry_ms;
            if (now >= due) {
                rereg_now(1);
                continue;
            }
            if (due < next)
                next = due;
        }
        if (sleep_until && now >= sleep_until)
            sleep_until = 0;
        if (!sleep_until && ctl_next(&ue.ctl, line)) {
            if (command(line, &sleep_until))
                break;
            continue;
        }
        if (!sleep_until && ue.ctl.eof)
            break;
        if (sleep_until && sleep_until < next)
            next = sleep_until;
        ue.idle = 1;
        poll_sip((int)(next - now));
        ue.idle = 0;
    }
    if (ue.ctl_chan >= 0)
        sio_remove_hook(&ue.io, ue.ctl_chan);
    if (ue.ctl.fd > 0)
        close(ue.ctl.fd);
    if (registered())
        deregister();
}

static void setup(int argc, char **argv)
{
    uint8_t k[16], op[16];
    const char *t = arg_str(argc, argv, "transport", "udp"), *mode = arg_str(argc, argv, "mode", "udp");
    const char *pcap = arg_str(argc, argv, "pcap", NULL), *esp_sa = arg_str(argc, argv, "esp-keys", NULL);
    const char *at;
    uint64_t sqn_ms;
    unsigned ind_bits = (unsigned)arg_num(argc, argv, "ind-bits", 5);
    FILE *esp_sa_file = NULL;
    int efd, tap = -1;
    unsigned encap_port;

    /* the ISIM; defaults: TS 35.207 test set 1 */
    arg_hex(argc, argv, "k", "465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
    if (arg_str(argc, argv, "opc", NULL)) {
        arg_hex(argc, argv, "opc", NULL, op, 16);
        imssec_milenage_init_opc(&ue.mil, k, op);
    } else {
        arg_hex(argc, argv, "op", "cdc202d5123e20f62b6d676ac72cb318", op, 16);
        imssec_milenage_init_op(&ue.mil, k, op);
    }
    imssec_wipe(k, sizeof k);
    imssec_aka_sqn_init(&ue.sqn);
    if (imssec_aka_sqn_configure(&ue.sqn, ind_bits, (uint64_t)1 << 28, 0) != IMSSEC_OK) {
        fprintf(stderr, "ue: --ind-bits out of range\n");
        exit(2);
    }
    sqn_ms = arg_num(argc, argv, "sqn-ms", 0);
    if (sqn_ms && imssec_aka_sqn_record(&ue.sqn, sqn_ms) != IMSSEC_OK) {
        fprintf(stderr, "ue: --sqn-ms out of range\n");
        exit(2);
    }
    ue.sqnf.path = arg_str(argc, argv, "sqn-file", NULL);
    if (ue.sqnf.path) {
        /* the USIM's memory: what it accepted in earlier runs */
        int r = sqn_file_load(ue.sqnf.path, ind_bits, &ue.sqn);
        if (r < 0)
            exit(2);
        ue.sqnf.ind_bits = ind_bits;
        sqn_file_attach(&ue.sqnf, &ue.sqn);
        if (r == 0 && sqn_file_save(&ue.sqnf, &ue.sqn) != 0) {
            perror(ue.sqnf.path);
            exit(2);
        }
        ladder("SQN state %s %s: highest SQN 0x%012llx", r ? "read from" : "created in",
               ue.sqnf.path, (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
    }
    ue.soft.milenage = &ue.mil;
    ue.soft.sqn = &ue.sqn;
    imssec_aka_soft_provider(&ue.soft_prov, &ue.soft);
    ue.isim.authenticate = isim_authenticate;
    snprintf(ue.impi, sizeof ue.impi, "%s", arg_str(argc, argv, "impi", "alice@ims.example.net"));
    snprintf(ue.impu, sizeof ue.impu, "%s", arg_str(argc, argv, "impu", "sip:alice@ims.example.net"));
    snprintf(ue.realm, sizeof ue.realm, "%s", arg_str(argc, argv, "realm", "ims.example.net"));
    /* TS 24.229 5.1.1.2: the REGISTER's Request-URI is the home network
     * domain name (the digest uri repeats it, RFC 2617 3.2.2) */
    snprintf(ue.uri, sizeof ue.uri, "sip:%s", arg_str(argc, argv, "home-domain", ue.realm));
    snprintf(ue.via_host, sizeof ue.via_host, "%s", arg_str(argc, argv, "via-host", ""));
    snprintf(ue.user_agent, sizeof ue.user_agent, "%s", arg_str(argc, argv, "user-agent", ""));
    if (!ue.user_agent[0])
        snprintf(ue.user_agent, sizeof ue.user_agent, "imssec-demo-ue/%s", imssec_version());
    snprintf(ue.message_to, sizeof ue.message_to, "%s", arg_str(argc, argv, "message-to", ""));
    if (!ue.message_to[0])
        snprintf(ue.message_to, sizeof ue.message_to, "sip:service@%s", ue.realm);
    at = strchr(ue.impu, '@');
    snprintf(ue.user_part, sizeof ue.user_part, "%.*s",
             at && strncmp(ue.impu, "sip:", 4) == 0 ? (int)(at - ue.impu - 4) : 5,
             at && strncmp(ue.impu, "sip:", 4) == 0 ? ue.impu + 4 : "alice");

    /* what the Security-Client offers (7.2): every pair, in UDP-enc-tun
     * and transport mode when UDP encapsulation is possible (Annex M) */
    if (strcmp(mode, "udp") != 0 && strcmp(mode, "transport") != 0) {
        fprintf(stderr, "ue: --mode udp|transport\n");
        exit(2);
    }
    ue.mode = strcmp(mode, "transport") == 0 ? IMSSEC_MODE_TRANS : IMSSEC_MODE_UDP_ENC_TUN;
    ue.offer.pairs = ue.supported;
    ue.offer.n_pairs = arg_pairs(argc, argv, "algs",
                                 "hmac-sha-1-96/aes-cbc,hmac-sha-1-96/des-ede3-cbc,"
                                 "hmac-md5-96/aes-cbc,hmac-md5-96/des-ede3-cbc,"
                                 "hmac-sha-1-96/null,hmac-md5-96/null",
                                 ue.supported, 8);
    ue.modes[0] = ue.mode;
    ue.modes[1] = IMSSEC_MODE_TRANS;
    ue.offer.modes = ue.modes;
    ue.offer.n_modes = ue.mode == IMSSEC_MODE_UDP_ENC_TUN ? 2 : 1;
    ue.offer.single = arg_flag(argc, argv, "single-offer");
    /* TS 33.328 7.1.1: "e2ae-security supported by UE" (sdes-srtp;mediasec) */
    ue.offer.e2ae = 1;

    /* the network */
    ue.transport = imssec_transport_from_name(imssec_cstr(t));
    if (ue.transport < 0) {
        fprintf(stderr, "ue: --transport udp|tcp\n");
        exit(2);
    }
    arg_addr(argc, argv, "ip", "127.0.0.1", &ue.my_ip);
    arg_addr(argc, argv, "private-ip", arg_str(argc, argv, "ip", "127.0.0.1"), &ue.priv_ip);
    arg_addr(argc, argv, "pcscf-ip", "127.0.0.1", &ue.pcscf_ip);
    ue.pcscf_port = (unsigned)arg_num(argc, argv, "pcscf-port", 5060);
    encap_port = (unsigned)arg_num(argc, argv, "encap-port", 4500);
    ue.expires = (unsigned)arg_num(argc, argv, "expires", 600);
    ue.timeout_ms = (int)arg_num(argc, argv, "timeout-ms", 30000);
    if (pcap)
        pcap_open(pcap);
    if (esp_sa && !(esp_sa_file = fopen(esp_sa, "a"))) {
        perror(esp_sa);
        exit(2);
    }
    if (ue.mode == IMSSEC_MODE_TRANS) {
        /* clause 6.3: ESP straight over IP, protocol 50 */
        efd = net_raw_esp(&ue.my_ip);
        if (ue.my_ip.len == 16)
            tap = net_ipv6_tap();
    } else {
        /* Annex M: ESP in UDP.  Behind the (simulated) NAT an ephemeral
         * port stands for the NAT's mapping of the UE's 4500 */
        efd = net_udp(&ue.my_ip, 0);
    }
    ex_dp_init(&ue.dp, &io, ue.mode, efd, tap, esp_sa_file);
    if (dp_xfrm_arg(&ue.dp, argc, argv, IMSSEC_SA_ROLE_UE) != 0)
        exit(2);
    if (ue.mode == IMSSEC_MODE_UDP_ENC_TUN) {
        /* M.7.1: the SAs carry the public address, the outer header the
         * local one */
        ue.dp.pool.outer_local = ue.my_ip;
        ue.dp.encap_port = encap_port != 4500 ? encap_port : 0;
        ue.dp.ka_to = ue.pcscf_ip;
        ue.dp.ka_port = encap_port;
    }
    {
        imssec_sa_config cfg;
        imssec_errinfo e;
        int rc;
        memset(&e, 0, sizeof e);
        imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_UE);
        cfg.keepalive_ms = (uint32_t)arg_num(argc, argv, "keepalive-ms", cfg.keepalive_ms);
        rc = imssec_sa_table_setup(&ue.sat, &cfg, &ue.dp.cb, &io, 1, 4, ue.sa_mem,
                                   sizeof ue.sa_mem, &e);
        if (rc == IMSSEC_OK)
            rc = imssec_sa_user_lookup(&ue.sat, imssec_cstr(ue.impi), 1, &ue.user);
        if (rc != IMSSEC_OK) {
            fprintf(stderr, "ue: sa/ table: %s\n", err_text(&e, rc));
            exit(2);
        }
        ex_dp_attach(&ue.dp, &ue.sat);
    }
    sio_init(&ue.io, IMSSEC_SA_ROLE_UE, &ue.sat, &ue.dp, &io);
    {
        /* the unprotected port: any but port_uc / port_us (7.1), 5060 if asked */
        unsigned lport = arg_flag(argc, argv, "from-5060") ? 5060 : 0;
        if (ue.transport == IMSSEC_TRANSPORT_TCP)
            ue.unprot_chan = sio_add_stream(
                &ue.io, net_tcp_connect(&ue.my_ip, lport, &ue.pcscf_ip, ue.pcscf_port),
                &ue.pcscf_ip, ue.pcscf_port);
        else
            ue.unprot_chan = sio_add_udp(&ue.io, net_udp(&ue.my_ip, lport), 0);
    }
    sip_token(ue.call_id, 24);
    sip_token(ue.from_tag, 8);
    {
        char h1[IMSSEC_ADDR_TEXT_MAX + 1], h2[IMSSEC_ADDR_TEXT_MAX + 1], h3[IMSSEC_ADDR_TEXT_MAX + 1];
        const sio_chan *c = &ue.io.chan[ue.unprot_chan];
        if (!imssec_addr_equal(&ue.priv_ip, &ue.my_ip))
            ladder("UE %s at %s (behind a NAT: seen as %s:%u), P-CSCF %s:%u, SIP over %s, "
                   "SQN_MS=0x%012llx",
                   ue.impi, addr_text(&ue.priv_ip, 0, h3), addr_text(&ue.my_ip, 1, h1),
                   c->local_port, addr_text(&ue.pcscf_ip, 1, h2), ue.pcscf_port,
                   via_tp(),
                   (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
        else
            ladder("UE %s at %s:%u (no NAT), P-CSCF %s:%u, SIP over %s, SQN_MS=0x%012llx", ue.impi,
                   addr_text(&ue.my_ip, 1, h1), c->local_port, addr_text(&ue.pcscf_ip, 1, h2),
                   ue.pcscf_port, via_tp(),
                   (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
    }
}

int main(int argc, char **argv)
{
    int expect_mac, status, before, e2ae = 0;

    ladder_role("UE");
    arg_check(argc, argv, known, usage);
    memset(&ue, 0, sizeof ue);
    expect_mac = strcmp(arg_str(argc, argv, "expect", "ok"), "mac-failure") == 0;
    setup(argc, argv);

    /* 1-3: initial registration */
    status = do_register(expect_mac);
    if (expect_mac) {
        verify(status == 403 && ex_dp_count(&ue.dp, 0) == 0, "registration-refused",
               "the network answered %d; no SA exists", status);
        goto out;
    }
    if (status != 200) {
        verify(0, "register", "registration failed: %d", status);
        goto out;
    }
    /* 7.1.1: e2ae is agreed only when both ends indicated it; a P-CSCF
     * without TS 33.328 support (a real one, or the kernel test's) leaves it
     * out, which is no failure: the UE then makes no e2ae call. */
    e2ae = imssec_sa_e2ae(&ue.sat, ue.user) == 1;
    if (e2ae)
        verify(1, "e2ae",
               "imssec_sa_e2ae() = 1: our Security-Client and the P-CSCF's Security-Server both "
               "carried sdes-srtp;mediasec (TS 33.328 7.1.1)");
    else
        ladder("    the P-CSCF's Security-Server has no mediasec: e2ae not agreed "
               "(TS 33.328 7.1.1), no call");
    if (arg_str(argc, argv, "control", NULL)) {
        ue.auto_rereg = !arg_flag(argc, argv, "no-auto-rereg");
        run_control(arg_str(argc, argv, "control", NULL));
        goto out;
    }
    /* 4: MESSAGE both ways over the SAs */
    ue.dp.remember = 1; /* its first ESP packet, for the replay below */
    if (send_message("hello from the UE") != 200)
        goto out;
    {
        uint64_t end = net_now_ms() + arg_num(argc, argv, "pause-after-register", 0);
        if (end > net_now_ms())
            ladder("    registered: pausing %llu ms", (unsigned long long)(end - net_now_ms()));
        while (net_now_ms() < end)
            poll_sip((int)(end - net_now_ms()));
    }
    refused_traffic();
    before = ue.net_msgs;
    if (send_message("echo: hello UE, from the network") != 200 || wait_net_message(before) != 0) {
        verify(0, "network-message", "no MESSAGE from the network");
        goto out;
    }
    /* 5: a network MESSAGE left pending, then re-registration */
    ue.hold_next = 1;
    before = ue.net_msgs;
    if (send_message("echo: this one stays pending during re-registration") != 200 ||
        wait_net_message(before) != 0) {
        verify(0, "network-message", "no MESSAGE from the network");
        goto out;
    }
    if (reregister() != 0)
        goto out;
    before = ue.net_msgs;
    if (send_message("echo: hello UE, over the new SAs") != 200 || wait_net_message(before) != 0) {
        verify(0, "network-message", "no MESSAGE from the network over the new SAs");
        goto out;
    }
    {
        imssec_sa_ref cur = 0;
        imssec_sa_route(&ue.sat, ue.user, ue.transport, 1, 0, &cur);
        verify(cur && ue.last_net_set == ex_dp_set_of(&ue.dp, cur), "switch-over",
               "the network's MESSAGE came over set %d, the new SAs", ue.last_net_set);
    }
    /* 6, 7: the call, then the end of the registration */
    if (e2ae && arg_num(argc, argv, "frames", 100) && call(argc, argv) != 0)
        goto out;
    if (arg_flag(argc, argv, "net-dereg"))
        wait_net_dereg();
    else
        deregister();
out:
    ue.dp.why = "UE exits";
    dp_xfrm_settle(&ue.dp);
    imssec_sa_table_wipe(&ue.sat);
    dp_xfrm_close(&ue.dp);
    imssec_milenage_wipe(&ue.mil);
    if (ue.dp.esp_sa)
        fclose(ue.dp.esp_sa);
    ladder("exit (%d failures)", verify_failures());
    return verify_failures() ? 1 : 0;
}
