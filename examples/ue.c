/*
 * ue.c -- a UE with a software ISIM, for the imssec demo (TS 33.203).
 *
 * It runs one scripted session against the P-CSCF:
 *   1. REGISTER, unprotected, with Security-Client (clause 7.2, Annex H);
 *   2. 401: AKA through the digest layer (aka/).  MAC failure: report it
 *      (clause 6.1.2.2).  Sync failure: REGISTER with auts= (6.1.3), and a
 *      new 401 follows.  Success: select from Security-Server (secagree/),
 *      detect the NAT from `received` in the top Via (M.7.2), and let the
 *      UE state machine (sa/) create the four SAs, which its callbacks
 *      install in esp/ (UDP-encapsulated tunnel mode, Annex M, or transport
 *      mode);
 *   3. the protected REGISTER with Security-Verify; 200 over the new SAs;
 *   4. MESSAGE to the network and from the network, over the SAs; a
 *      replayed ESP packet and an unprotected MESSAGE, both refused;
 *   5. re-registration with authentication while a network-initiated
 *      MESSAGE is still unanswered: its response goes over the old SAs,
 *      which are deleted afterwards; the next messages use the new SAs
 *      (clause 7.4);
 *   6. de-registration: every SA deleted after the final response.
 * sa/ decides which SA protects each message and whether a message arrived
 * on the SA it must; the example never picks SAs itself.
 * Every check prints "VERIFIED <step>: ..." or "FAILED <step>: ...".
 *
 * Only imssec.h plus POSIX sockets (through sip.c and ipsec.c).
 */
#include "../imssec.h"
#include "ipsec.h"
#include "sip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ue [--k HEX] [--op HEX | --opc HEX] [--impi alice@ims.example.net]\n"
    "          [--impu sip:alice@ims.example.net] [--realm ims.example.net]\n"
    "          [--sqn-ms N] [--ind-bits 5] [--algs hmac-sha-1-96/aes-cbc,...]\n"
    "          [--private-ip 192.168.1.20] [--ip 127.0.0.1] [--pcscf-ip 127.0.0.1]\n"
    "          [--pcscf-port 5060] [--encap-port 4500] [--expires 600]\n"
    "          [--expect ok|mac-failure] [--pcap FILE] [--esp-sa FILE] [--timeout-ms 5000]\n"
    "          [--transport]\n"
    "A UE with a software ISIM (see the comment at the top of ue.c).\n";

static const char *const known[] = {"k",          "op",        "opc",        "impi",
                                    "impu",       "realm",     "sqn-ms",     "ind-bits",
                                    "algs",       "private-ip", "ip",        "pcscf-ip",
                                    "pcscf-port", "encap-port", "expires",   "expect",
                                    "pcap",       "esp-sa",    "timeout-ms", "transport!",
                                    NULL};

static const imssec_io io = {NULL, net_random, NULL, NULL};

static struct {
    /* the ISIM */
    imssec_milenage mil;
    imssec_aka_sqn sqn;
    imssec_aka_soft soft;
    imssec_aka_provider prov;
    char impi[128], impu[128], realm[64];
    /* the network */
    char my_ip[64], priv_ip[64], pub_ip[64], pcscf_ip[64];
    unsigned pcscf_port, encap_port, my_port, expires;
    int fd, rfd; /* UDP socket; raw ESP socket in transport mode (-1 otherwise) */
    imssec_sec_pair supported[8];
    size_t n_supported;
    int nat;
    int timeout_ms;
    /* the SAs: sa/'s table (UE role) and the esp/ data plane behind it */
    imssec_sa_table sat;
    imssec_sa_callbacks cb;
    uint64_t sa_mem[2048];
    uint32_t user;
    ex_ipsec ipsec;
    /* registration */
    char call_id[48], from_tag[16];
    unsigned cseq;
    char sec_client[2048]; /* what this attempt offered (repeated in SM7) */
    unsigned port_uc, port_us;
    char service_route[256];
    /* network-initiated MESSAGEs */
    int hold_next;         /* keep the next one unanswered */
    char held[SIP_MAX_MSG + 1];
    size_t held_n;
    imssec_sa_ref held_on;
    int net_msgs;          /* how many arrived */
    int last_net_set;
    unsigned msg_cseq;
} ue;

/* An address as sa/ wants it (IPv4 or IPv6, brackets allowed). */
static void addr_of(const char *text, imssec_sa_addr *a)
{
    char ip[64];
    host_ip(text, ip);
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET6, ip, a->b) == 1)
        a->len = 16;
    else if (inet_pton(AF_INET, ip, a->b) == 1)
        a->len = 4;
}

/* Feed an event to the UE state machine; print the transition. */
static int sa_ev(int event, const imssec_sa_ev_args *a, imssec_sa_ev_out *o, const char *why)
{
    int before = imssec_sa_state(&ue.sat, ue.user), rc;
    ue.ipsec.why = why;
    rc = imssec_sa_event(&ue.sat, ue.user, event, a, o, net_now_ms());
    ue.ipsec.why = NULL;
    if (rc != IMSSEC_OK)
        ladder("    sa/ %s in %s: %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               imssec_strerror(rc));
    else if (imssec_sa_state(&ue.sat, ue.user) != before)
        ladder("    sa/ %s: %s -> %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               imssec_sa_state_name(imssec_sa_state(&ue.sat, ue.user)));
    return rc;
}

static int ex_set_of(imssec_sa_ref ref)
{
    ex_sa *s = ex_sa_by_ref(&ue.ipsec, ref);
    return s ? s->gen : 0;
}

/* ---- sending --------------------------------------------------------------- */

static void show(const char *dir, const sip_buf *b, const char *how)
{
    char first[128];
    ladder("%s %-40s %s", dir, sip_first_line(b->p, b->n, first, sizeof first), how);
}

/* Send over the SA sa/ chose (0: unprotected, to the P-CSCF's port). */
static int send_via(imssec_sa_ref ref, const sip_buf *b)
{
    ex_sa *sa;
    char how[96];
    int rc;
    if (!ref) {
        show("-->", b, "unprotected");
        net_send(ue.fd, ue.pcscf_ip, ue.pcscf_port, b->p, b->n);
        return 0;
    }
    sa = ex_sa_by_ref(&ue.ipsec, ref);
    if (!sa) {
        verify(0, "ue-send", "sa/ chose an SA the data plane does not have");
        return -1;
    }
    show("==>", b, ex_sa_name(sa, how, sizeof how));
    rc = ex_send(&ue.ipsec, sa, b->p, b->n);
    if (rc != IMSSEC_OK)
        verify(0, "ue-send", "imssec_esp_protect: %s", imssec_strerror(rc));
    return rc;
}

/* ---- receiving ------------------------------------------------------------- */

static char rx_raw[SIP_MAX_MSG + 1];
static size_t rx_n;

/* The next SIP message; *on is the SA it came on (NULL: unprotected). */
static int recv_msg(sip_msg *m, ex_sa **on, unsigned *idport, int timeout_ms)
{
    static uint8_t buf[SIP_MAX_MSG + 256];
    uint64_t end = net_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        size_t n;
        char src[64], first[128], name[80];
        unsigned sport, is;
        uint64_t now = net_now_ms();
        int rc, fds[2], which;
        if (now >= end)
            return -1;
        fds[0] = ue.fd;
        fds[1] = ue.rfd;
        which = net_recv(fds, ue.rfd >= 0 ? 2 : 1, (int)(end - now), buf, sizeof buf - 1, &n, src,
                         &sport);
        if (which < 0)
            continue;
        if (which == 0 && sport == ue.pcscf_port) {
            memcpy(rx_raw, buf, n);
            rx_raw[n] = '\0';
            rx_n = n;
            *on = NULL;
            *idport = ue.my_port;
            if (sip_parse(m, rx_raw, rx_n) != 0)
                continue;
            ladder("<-- %-40s unprotected", sip_first_line(rx_raw, rx_n, first, sizeof first));
            return 0;
        }
        rc = ex_recv(&ue.ipsec, buf, n, src, sport, on, rx_raw, sizeof rx_raw, &rx_n, &is, idport);
        if (rc == IMSSEC_E_NOT_ESP)
            continue;
        if (rc != IMSSEC_OK) {
            ladder("ESP packet dropped: %s", imssec_strerror(rc));
            continue;
        }
        if (sip_parse(m, rx_raw, rx_n) != 0)
            continue;
        ladder("<== %-40s %s", sip_first_line(rx_raw, rx_n, first, sizeof first),
               ex_sa_name(*on, name, sizeof name));
        if (*idport != (*on)->lport || is != (*on)->rport) {
            verify(0, "ue-ports", "inner ports %u->%u do not match the SA", is, *idport);
            continue;
        }
        return 0;
    }
}

static void answer_net_message(const char *raw, size_t n, imssec_sa_ref in_ref)
{
    sip_msg m;
    sip_buf b;
    imssec_sa_ref out;
    int rc;
    if (sip_parse(&m, raw, n) != 0)
        return;
    sip_b_response(&b, &m, 200, "OK", "ue1");
    sip_b_end(&b, NULL, 0);
    /* A response leaves from port_us to port_pc of the set the request came
     * on (clause 7.1; 7.4: a pending transaction stays on its set). */
    rc = imssec_sa_route(&ue.sat, ue.user, 0, in_ref, &out);
    if (rc != IMSSEC_OK) {
        verify(0, "ue-route", "no SA for the response: %s", imssec_strerror(rc));
        return;
    }
    send_via(out, &b);
}

/* A request from the network arrived while we wait for something else. */
static void on_net_request(const sip_msg *m, ex_sa *on, unsigned idport)
{
    imssec_sa_ev_args a;
    char text[128], name[80];
    int rc;
    if (!sip_eq(m->method, "MESSAGE") || !on) {
        ladder("unexpected %.*s ignored", (int)m->method.n, m->method.p);
        return;
    }
    /* 7.4.1a: only the current (or old) inbound SAs carry IMS traffic. */
    memset(&a, 0, sizeof a);
    a.arrived_on = on->ref;
    rc = sa_ev(IMSSEC_SA_EV_MSG_IN, &a, NULL, "a message arrived on the new SAs (7.4.1a)");
    sip_cstr(m->body, text, sizeof text);
    ue.net_msgs++;
    ue.last_net_set = on->gen;
    ladder("    MESSAGE from the network: \"%s\"", text);
    if (!verify(rc == IMSSEC_OK && idport == ue.port_us, "network-message",
                "arrived on %s at port_us %u; sa/ accepts it", ex_sa_name(on, name, sizeof name),
                idport))
        return;
    if (ue.hold_next) {
        ue.hold_next = 0;
        memcpy(ue.held, rx_raw, rx_n);
        ue.held_n = rx_n;
        ue.held_on = on->ref;
        imssec_sa_txn_begin(&ue.sat, on->ref); /* keeps the set alive (7.4) */
        ladder("    (holding the response: this transaction stays pending on set %d)", on->gen);
        return;
    }
    answer_net_message(rx_raw, rx_n, on->ref);
}

/* Wait for the final response to our request CSeq `cseq`; requests from the
 * network that arrive meanwhile are handled. */
static int wait_response(unsigned cseq, sip_msg *m, ex_sa **on)
{
    unsigned idport;
    for (;;) {
        sip_str cs;
        if (recv_msg(m, on, &idport, ue.timeout_ms) != 0)
            return -1;
        if (m->is_request) {
            on_net_request(m, *on, idport);
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
    ex_sa *on;
    unsigned idport;
    while (ue.net_msgs == already) {
        if (recv_msg(&m, &on, &idport, ue.timeout_ms) != 0)
            return -1;
        if (m.is_request)
            on_net_request(&m, on, idport);
    }
    return 0;
}

/* ---- REGISTER -------------------------------------------------------------- */

/* The Security-Client of a new attempt: every supported pair, in
 * UDP-enc-tun and in transport mode, with the SPIs and ports sa/ chose. */
static int build_sec_client(const imssec_sa_ev_out *o)
{
    imssec_sec_mech mech[16];
    size_t i, n = 0, len;
    int rc, mode;
    static const int modes[] = {IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_MODE_TRANS};
    memset(mech, 0, sizeof mech);
    for (mode = 0; mode < 2; mode++) {
        for (i = 0; i < ue.n_supported && n < 16; i++, n++) {
            mech[n].kind = IMSSEC_SEC_IPSEC_3GPP;
            mech[n].present = IMSSEC_SECP_ALG | IMSSEC_SECP_EALG | IMSSEC_SECP_PROT |
                              IMSSEC_SECP_MOD | IMSSEC_SECP_SA_PARAMS;
            mech[n].alg = ue.supported[i].alg;
            mech[n].ealg = ue.supported[i].ealg;
            mech[n].prot = IMSSEC_PROT_ESP;
            mech[n].mod = modes[mode];
            mech[n].spi_c = o->spi_c;
            mech[n].spi_s = o->spi_s;
            mech[n].port_c = o->port_c;
            mech[n].port_s = o->port_s;
        }
    }
    rc = imssec_secagree_build(mech, n, ue.sec_client, sizeof ue.sec_client - 1, &len);
    if (rc != IMSSEC_OK) {
        verify(0, "ue-security-client", "%s", imssec_strerror(rc));
        return -1;
    }
    ue.sec_client[len] = '\0';
    return 0;
}

/* Build a REGISTER.  TS 24.229 5.1.1.2 / M.7.2: the Via carries the port
 * the request leaves from (port_uc over SAs), the Contact the protected
 * server port port_us, both with the public address once the 401 told us
 * (received=). */
static void build_register(sip_buf *b, unsigned via_port, unsigned expires, const char *authz,
                           const char *sec_verify)
{
    char branch[32], h[72];
    const char *ip = ue.pub_ip[0] ? ue.pub_ip : ue.priv_ip;
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    ue.cseq++;
    sip_b_init(b);
    sip_b_add(b, "REGISTER sip:%s SIP/2.0\r\n", ue.realm);
    sip_b_add(b, "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n", host_fmt(ip, h), via_port, branch);
    sip_b_add(b, "Max-Forwards: 70\r\n");
    sip_b_add(b, "From: <%s>;tag=%s\r\n", ue.impu, ue.from_tag);
    sip_b_add(b, "To: <%s>\r\n", ue.impu);
    sip_b_add(b, "Call-ID: %s\r\n", ue.call_id);
    sip_b_add(b, "CSeq: %u REGISTER\r\n", ue.cseq);
    sip_b_add(b, "Contact: <sip:%s@%s:%u>;expires=%u\r\n", "alice", h, ue.port_us, expires);
    sip_b_add(b, "Expires: %u\r\n", expires);
    sip_b_add(b, "Authorization: %s\r\n", authz);
    sip_b_add(b, "Security-Client: %s\r\n", ue.sec_client);
    if (sec_verify)
        sip_b_add(b, "Security-Verify: %s\r\n", sec_verify);
    sip_b_add(b, "Require: sec-agree\r\nProxy-Require: sec-agree\r\n");
    sip_b_add(b, "Supported: path, sec-agree\r\n");
    sip_b_add(b, "User-Agent: imssec-demo-ue/%s\r\n", imssec_version());
    sip_b_end(b, NULL, 0);
}

/* The port a message sent with `ref` leaves from (the UDP port if none). */
static unsigned port_of(imssec_sa_ref ref)
{
    ex_sa *s = ex_sa_by_ref(&ue.ipsec, ref);
    return s ? s->lport : ue.my_port;
}

static uint8_t sa_alg_of(int alg)
{
    return (uint8_t)(alg == IMSSEC_ALG_HMAC_MD5_96 ? IMSSEC_SA_ALG_HMAC_MD5_96
                                                   : IMSSEC_SA_ALG_HMAC_SHA1_96);
}

static uint8_t sa_ealg_of(int ealg)
{
    return (uint8_t)(ealg == IMSSEC_EALG_AES_CBC        ? IMSSEC_SA_EALG_AES_CBC
                     : ealg == IMSSEC_EALG_DES_EDE3_CBC ? IMSSEC_SA_EALG_DES_EDE3_CBC
                                                        : IMSSEC_SA_EALG_NULL);
}

/* The 401: AKA, SAs, and the REGISTER that answers it.  Returns the final
 * status of the registration (200 or the failure), or -1. */
static int authenticate(sip_msg *m, ex_sa *on, int expect_mac_failure)
{
    for (;;) {
        imssec_digest_challenge ch[4];
        imssec_sec_mech server[16];
        imssec_sec_choice choice;
        imssec_sec_reject rej;
        imssec_sec_via via;
        imssec_aka_result ar;
        imssec_digest_out dout;
        imssec_digest_request rq;
        imssec_sa_ev_args a;
        imssec_sa_ev_out o;
        static const int pref[] = {IMSSEC_DIGEST_AKAV1_MD5};
        static char uri[80];
        char cred[1024], sec_server[2048], cnonce[17], names[64];
        size_t nch = 0, ns, cl, i;
        sip_str w, v;
        int idx, rc, status, set;
        sip_buf b;

        /* What the P-CSCF must have done to the 401 (TS 24.229 5.2.2.1). */
        for (i = 0; sip_get(m, "WWW-Authenticate", (int)i, &w); i++)
            if (imssec_digest_challenge_parse(w.p, w.n, ch, 4, &nch) != IMSSEC_OK)
                nch = 0;
        if (!sip_get(m, "WWW-Authenticate", 0, &w) || nch == 0) {
            verify(0, "register-challenge", "401 without a usable WWW-Authenticate");
            return -1;
        }
        if (!verify(!sip_auth_param(w, "ck", &v) && !sip_auth_param(w, "ik", &v) &&
                        sip_count(m, "Security-Server") > 0,
                    "register-challenge", "401 %s, with Security-Server and without CK/IK",
                    on ? "over the current SAs" : "unprotected"))
            return -1;
        /* M.7.2: NAT when the P-CSCF added `received` to our Via; from now
         * on that public address goes into Via, Contact and the SAs. */
        if (sip_get(m, "Via", 0, &v) && imssec_secagree_via_parse(v.p, v.n, &via) == IMSSEC_OK &&
            via.received) {
            ue.nat = strncmp(via.received, ue.priv_ip, via.received_len) != 0 ||
                     strlen(ue.priv_ip) != via.received_len;
            snprintf(ue.pub_ip, sizeof ue.pub_ip, "%.*s", (int)via.received_len, via.received);
            if (ue.nat) {
                char h[72];
                ladder("    NAT detected: the P-CSCF saw us as %s:%u", host_fmt(ue.pub_ip, h),
                       via.rport);
                snprintf(ue.ipsec.inner_local, sizeof ue.ipsec.inner_local, "%s", ue.pub_ip);
            }
        }
        /* Security-Server: every instance, as one list. */
        {
            size_t used = 0;
            imssec_sec_errinfo ei;
            for (i = 0; sip_get(m, "Security-Server", (int)i, &v) && used + v.n + 3 < sizeof sec_server; i++) {
                if (used) {
                    memcpy(sec_server + used, ", ", 2);
                    used += 2;
                }
                memcpy(sec_server + used, v.p, v.n);
                used += v.n;
            }
            sec_server[used] = '\0';
            rc = imssec_secagree_parse(sec_server, used, server, 16, &ns, &ei);
            if (rc == IMSSEC_OK)
                rc = imssec_secagree_ue_select(server, ns, ue.supported, ue.n_supported, 1,
                                               ue.nat, &choice, &rej);
            if (rc != IMSSEC_OK) {
                verify(0, "ue-select", "%s",
                       rc == IMSSEC_E_SECAGREE_REJECT ? rej.reason : imssec_strerror(rc));
                memset(&a, 0, sizeof a);
                a.arrived_on = on ? on->ref : 0;
                a.kind = IMSSEC_SA_KIND_PROPOSAL;
                sa_ev(IMSSEC_SA_EV_CHALLENGE_REJECT, &a, NULL, "proposal unacceptable (7.3.2.2)");
                return -1;
            }
        }
        idx = imssec_digest_challenge_select(ch, nch, pref, 1);
        if (idx < 0) {
            verify(0, "aka", "no AKAv1-MD5 challenge");
            return -1;
        }
        sip_token(cnonce, 16);
        memset(&rq, 0, sizeof rq);
        rq.username.p = ue.impi;
        rq.username.n = strlen(ue.impi);
        rq.method.p = "REGISTER";
        rq.method.n = 8;
        snprintf(uri, sizeof uri, "sip:%s", ue.realm);
        rq.uri.p = uri;
        rq.uri.n = strlen(uri);
        rq.cnonce.p = cnonce;
        rq.cnonce.n = strlen(cnonce);
        rq.nc = 1;
        rc = imssec_digest_aka_respond(&ue.prov, &ch[idx], &rq, &ar, &dout, cred, sizeof cred - 1,
                                       &cl);
        if (rc == IMSSEC_E_SYNC_FAILURE || rc == IMSSEC_E_MAC_FAILURE || rc == IMSSEC_E_AMF) {
            /* 7.3.1.2 / 7.3.1.3: the failure REGISTER goes the way SM1
             * went (sa/ says which SA); no new SA is created. */
            char authz[512];
            int sync = rc == IMSSEC_E_SYNC_FAILURE;
            memset(&a, 0, sizeof a);
            a.arrived_on = on ? on->ref : 0;
            a.kind = sync ? IMSSEC_SA_KIND_SYNC : IMSSEC_SA_KIND_NET_AUTH;
            if (sa_ev(IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o, NULL) != IMSSEC_OK)
                return -1;
            if (sync) {
                cred[cl] = '\0';
                verify(1, "aka-sync-failure",
                       "SQN 0x%012llx from the network is not fresh (our highest: 0x%012llx): "
                       "answering with AUTS",
                       (unsigned long long)ar.sqn,
                       (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
                build_register(&b, port_of(o.protect_with), ue.expires, cred, NULL);
            } else {
                imssec_digest_str nonce = ch[idx].nonce;
                verify(expect_mac_failure, "aka-network-failure",
                       "AUTN did not verify (%s); no SA created", imssec_strerror(rc));
                snprintf(authz, sizeof authz,
                         "Digest username=\"%s\", realm=\"%s\", nonce=\"%.*s\", uri=\"sip:%s\", "
                         "response=\"\", algorithm=AKAv1-MD5",
                         ue.impi, ue.realm, (int)nonce.n, nonce.p, ue.realm);
                build_register(&b, port_of(o.protect_with), ue.expires, authz, NULL);
            }
            send_via(o.protect_with, &b);
            status = wait_response(ue.cseq, m, &on);
            if (sync && status == 401) {
                verify(1, "aka-resync", "the S-CSCF resynchronised and challenged again");
                continue;
            }
            if (sync)
                verify(0, "aka-resync", "after AUTS: %d instead of a new 401", status);
            return status;
        }
        if (rc != IMSSEC_OK) {
            verify(0, "aka", "%s", imssec_strerror(rc));
            return -1;
        }
        cred[cl] = '\0';
        verify(!expect_mac_failure, "aka",
               "network authenticated: SQN 0x%012llx accepted, RES %u bytes, CK/IK derived",
               (unsigned long long)ar.sqn, (unsigned)ar.res_len);
        ladder("    selected ipsec-3gpp %s mod=%s from the Security-Server (entry %u)",
               ex_pair_name(choice.alg, choice.ealg, names, sizeof names),
               imssec_secagree_mode_name(choice.mod), (unsigned)choice.index);

        /* SM6 accepted: sa/ creates the four SAs of clause 7.1 (install
         * callbacks -> esp/) and says which one carries SM7. */
        memset(&a, 0, sizeof a);
        a.arrived_on = on ? on->ref : 0;
        a.alg = sa_alg_of(choice.alg);
        a.ealg = sa_ealg_of(choice.ealg);
        a.mode = (uint8_t)(choice.mod == IMSSEC_MODE_UDP_ENC_TUN ? IMSSEC_SA_MODE_UDP_ENC_TUN
                                                                 : IMSSEC_SA_MODE_TRANS);
        addr_of(ue.pub_ip[0] ? ue.pub_ip : ue.priv_ip, &a.ue_ip);
        addr_of(ue.pcscf_ip, &a.pcscf_ip);
        a.peer_spi_c = choice.spi_c;
        a.peer_spi_s = choice.spi_s;
        a.peer_port_c = choice.port_c;
        a.peer_port_s = choice.port_s;
        memcpy(a.ik, ar.ik, 16);
        memcpy(a.ck, ar.ck, 16);
        imssec_wipe(&ar, sizeof ar);
        rc = sa_ev(IMSSEC_SA_EV_CHALLENGE, &a, &o, NULL);
        imssec_wipe(&a, sizeof a);
        if (rc != IMSSEC_OK) {
            verify(0, "sa-created", "sa/ refused the new SAs: %s", imssec_strerror(rc));
            return -1;
        }
        set = ex_set_of(o.protect_with);
        verify(ex_sa_count(&ue.ipsec, set) == 4, "sa-created", "4 SAs of set %d (%s, %s)", set,
               names, ue.ipsec.transport ? "transport mode" : "UDP-enc-tun");

        /* SM7 over the new SAs, with Security-Verify = the server's list. */
        build_register(&b, port_of(o.protect_with), ue.expires, cred, sec_server);
        if (send_via(o.protect_with, &b) != 0)
            return -1;
        status = wait_response(ue.cseq, m, &on);
        memset(&a, 0, sizeof a);
        a.arrived_on = on ? on->ref : 0;
        if (status == 200) {
            char name[80];
            a.expires_s = ue.expires;
            /* sa/ accepts SM12 only on the new inbound SA (7.4.1a). */
            rc = sa_ev(IMSSEC_SA_EV_SUCCESS, &a, NULL, "SM12 arrived: superseded (7.4.1a)");
            verify(rc == IMSSEC_OK && on && on->gen == set, "register",
                   "200 OK arrived on %s, the new inbound SA",
                   ex_sa_name(on, name, sizeof name));
            if (sip_get(m, "Service-Route", 0, &v))
                sip_uri_of(v, ue.service_route, sizeof ue.service_route);
            return rc == IMSSEC_OK ? 200 : -1;
        }
        a.kind = status == 401 || status == 403 ? IMSSEC_SA_KIND_USER_AUTH : IMSSEC_SA_KIND_OTHER;
        sa_ev(IMSSEC_SA_EV_FAILURE, &a, NULL, "registration failed (7.3)");
        return status;
    }
}

/* One registration (initial or re-registration).  Returns 200 on success. */
static int do_register(int expect_mac_failure)
{
    sip_buf b;
    sip_msg m;
    ex_sa *on;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    int status, st;
    char authz[512];

    /* SM1: sa/ picks fresh SPIs and port_uc (port_us stays, 7.4) and
     * whether the old SA protects it. */
    memset(&a, 0, sizeof a);
    addr_of(ue.pub_ip[0] ? ue.pub_ip : ue.priv_ip, &a.ue_ip);
    if (sa_ev(IMSSEC_SA_EV_REG_SEND, &a, &o, NULL) != IMSSEC_OK)
        return -1;
    ue.port_uc = o.port_c;
    ue.port_us = o.port_s;
    if (build_sec_client(&o) != 0)
        return -1;
    /* TS 24.229 5.1.1.2: an Authorization with an empty response in the
     * REGISTER that starts the authentication. */
    snprintf(authz, sizeof authz,
             "Digest username=\"%s\", realm=\"%s\", nonce=\"\", uri=\"sip:%s\", response=\"\"",
             ue.impi, ue.realm, ue.realm);
    build_register(&b, port_of(o.protect_with), ue.expires, authz, NULL);
    if (send_via(o.protect_with, &b) != 0)
        return -1;
    status = wait_response(ue.cseq, &m, &on);
    if (status == 401)
        status = authenticate(&m, on, expect_mac_failure);
    else
        verify(0, "register-challenge", "expected 401, got %d", status);
    st = imssec_sa_state(&ue.sat, ue.user);
    if (status != 200 && st != IMSSEC_SA_ST_ACTIVE && st != IMSSEC_SA_ST_IDLE) {
        /* A failure response (e.g. the 403 after a network authentication
         * failure) or a timeout ends the attempt (7.3.1, 7.3.1.4). */
        memset(&a, 0, sizeof a);
        a.arrived_on = status > 0 && on ? on->ref : 0;
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
    ex_sa *on, *out;
    imssec_sa_ref ref;
    imssec_sa_ev_args a;
    char branch[32], name[80], h[72];
    int status, rc;
    if (imssec_sa_route(&ue.sat, ue.user, 1, 0, &ref) != IMSSEC_OK ||
        !(out = ex_sa_by_ref(&ue.ipsec, ref))) {
        verify(0, "ue-message", "sa/ has no SA for a request");
        return -1;
    }
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    ue.msg_cseq++;
    sip_b_init(&b);
    sip_b_add(&b, "MESSAGE sip:service@%s SIP/2.0\r\n", ue.realm);
    sip_b_add(&b, "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n",
              host_fmt(ue.pub_ip[0] ? ue.pub_ip : ue.priv_ip, h), out->lport, branch);
    sip_b_add(&b, "Max-Forwards: 70\r\n");
    sip_b_add(&b, "Route: <sip:%s:%u;lr>\r\n", host_fmt(ue.pcscf_ip, h), out->rport);
    if (ue.service_route[0])
        sip_b_add(&b, "Route: <%s>\r\n", ue.service_route);
    sip_b_add(&b, "From: <%s>;tag=%s\r\n", ue.impu, ue.from_tag);
    sip_b_add(&b, "To: <sip:service@%s>\r\n", ue.realm);
    sip_b_add(&b, "Call-ID: m%u-%s\r\n", ue.msg_cseq, ue.call_id);
    sip_b_add(&b, "CSeq: %u MESSAGE\r\n", 1000 + ue.msg_cseq);
    sip_b_add(&b, "Content-Type: text/plain\r\n");
    sip_b_end(&b, text, strlen(text));
    imssec_sa_txn_begin(&ue.sat, ref);
    if (send_via(ref, &b) != 0)
        return -1;
    status = wait_response(1000 + ue.msg_cseq, &m, &on);
    memset(&a, 0, sizeof a);
    a.arrived_on = on ? on->ref : 0;
    rc = on ? sa_ev(IMSSEC_SA_EV_MSG_IN, &a, NULL, "a message arrived on the new SAs (7.4.1a)")
            : IMSSEC_E_SA_WRONG;
    imssec_sa_txn_end(&ue.sat, ref, net_now_ms());
    verify(status == 200 && rc == IMSSEC_OK && on->gen == out->gen, "ue-message",
           "\"%s\": %d on %s, the set the request used", text, status,
           on ? ex_sa_name(on, name, sizeof name) : "no SA");
    return status;
}

static int deregister(void)
{
    sip_buf b;
    sip_msg m;
    ex_sa *on;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    char authz[512], name[80];
    int status, rc;
    memset(&a, 0, sizeof a);
    if (sa_ev(IMSSEC_SA_EV_DEREG_SEND, &a, &o, NULL) != IMSSEC_OK)
        return 0;
    snprintf(authz, sizeof authz,
             "Digest username=\"%s\", realm=\"%s\", nonce=\"\", uri=\"sip:%s\", response=\"\"",
             ue.impi, ue.realm, ue.realm);
    build_register(&b, port_of(o.protect_with), 0, authz, NULL);
    if (send_via(o.protect_with, &b) != 0)
        return 0;
    status = wait_response(ue.cseq, &m, &on);
    if (status != 200) {
        verify(0, "deregister", "%d", status);
        return 0;
    }
    /* 7.4.1a / 7.5: every SA goes once the final response is in. */
    a.arrived_on = on ? on->ref : 0;
    ex_sa_name(on, name, sizeof name);
    rc = sa_ev(IMSSEC_SA_EV_DEREG_DONE, &a, NULL, "de-registered");
    verify(rc == IMSSEC_OK && on, "deregister-response", "200 OK over %s; sa/ accepts it",
           name);
    return verify(ex_sa_count(&ue.ipsec, 0) == 0 && imssec_sa_count(&ue.sat, UINT32_MAX) == 0,
                  "deregister", "%d: every SA deleted (data plane %d, sa/ %u)", status,
                  ex_sa_count(&ue.ipsec, 0), (unsigned)imssec_sa_count(&ue.sat, UINT32_MAX));
}

int main(int argc, char **argv)
{
    uint8_t k[16], op[16];
    const char *pcap = arg_str(argc, argv, "pcap", NULL), *esp_sa = arg_str(argc, argv, "esp-sa", NULL);
    const char *expect = arg_str(argc, argv, "expect", "ok"), *algs;
    char algcopy[256], *tok, *save = NULL;
    int expect_mac = 0, status, before;
    uint64_t sqn_ms;

    ladder_role("UE");
    arg_check(argc, argv, known, usage);
    memset(&ue, 0, sizeof ue);
    expect_mac = strcmp(expect, "mac-failure") == 0;
    /* The ISIM.  Defaults: TS 35.207 test set 1. */
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
    if (imssec_aka_sqn_configure(&ue.sqn, (unsigned)arg_num(argc, argv, "ind-bits", 5),
                                 (uint64_t)1 << 28, 0) != IMSSEC_OK) {
        fprintf(stderr, "ue: --ind-bits out of range\n");
        return 2;
    }
    sqn_ms = arg_num(argc, argv, "sqn-ms", 0);
    if (sqn_ms && imssec_aka_sqn_record(&ue.sqn, sqn_ms) != IMSSEC_OK) {
        fprintf(stderr, "ue: --sqn-ms out of range\n");
        return 2;
    }
    ue.soft.milenage = &ue.mil;
    ue.soft.sqn = &ue.sqn;
    ue.soft.policy = 0;
    imssec_aka_soft_provider(&ue.prov, &ue.soft);
    snprintf(ue.impi, sizeof ue.impi, "%s", arg_str(argc, argv, "impi", "alice@ims.example.net"));
    snprintf(ue.impu, sizeof ue.impu, "%s", arg_str(argc, argv, "impu", "sip:alice@ims.example.net"));
    snprintf(ue.realm, sizeof ue.realm, "%s", arg_str(argc, argv, "realm", "ims.example.net"));
    algs = arg_str(argc, argv, "algs",
                   "hmac-sha-1-96/aes-cbc,hmac-sha-1-96/des-ede3-cbc,hmac-md5-96/aes-cbc,"
                   "hmac-md5-96/des-ede3-cbc,hmac-sha-1-96/null,hmac-md5-96/null");
    snprintf(algcopy, sizeof algcopy, "%s", algs);
    for (tok = strtok_r(algcopy, ",", &save); tok && ue.n_supported < 8;
         tok = strtok_r(NULL, ",", &save)) {
        if (ex_pair_parse(tok, &ue.supported[ue.n_supported]) != 0) {
            fprintf(stderr, "ue: --algs: unknown pair '%s'\n", tok);
            return 2;
        }
        ue.n_supported++;
    }
    /* The network. */
    snprintf(ue.my_ip, sizeof ue.my_ip, "%s", arg_str(argc, argv, "ip", "127.0.0.1"));
    snprintf(ue.priv_ip, sizeof ue.priv_ip, "%s", arg_str(argc, argv, "private-ip", "192.168.1.20"));
    snprintf(ue.pcscf_ip, sizeof ue.pcscf_ip, "%s", arg_str(argc, argv, "pcscf-ip", "127.0.0.1"));
    ue.pcscf_port = (unsigned)arg_num(argc, argv, "pcscf-port", 5060);
    ue.encap_port = (unsigned)arg_num(argc, argv, "encap-port", 4500);
    ue.expires = (unsigned)arg_num(argc, argv, "expires", 600);
    ue.timeout_ms = (int)arg_num(argc, argv, "timeout-ms", 5000);
    if (pcap)
        pcap_open(pcap);
    /* One socket for SIP and ESP-in-UDP: behind the NAT it is one binding,
     * so the P-CSCF reaches us at the address it saw (M.7.2). */
    ue.fd = net_udp(ue.my_ip, 0);
    ue.my_port = net_port(ue.fd);
    ue.ipsec.io = &io;
    ue.ipsec.fd = ue.fd;
    ue.ipsec.role = "UE";
    ue.rfd = -1;
    if (arg_flag(argc, argv, "transport")) {
        /* Transport mode (no NAT): ESP straight over IP, protocol 50. */
        ue.rfd = net_raw_esp(ue.my_ip);
        ue.ipsec.fd = ue.rfd;
        ue.ipsec.transport = 1;
    }
    ue.ipsec.role = "UE";
    snprintf(ue.ipsec.outer_local, sizeof ue.ipsec.outer_local, "%s", ue.my_ip);
    ue.ipsec.encap_local = ue.my_port;
    snprintf(ue.ipsec.outer_peer, sizeof ue.ipsec.outer_peer, "%s", ue.pcscf_ip);
    ue.ipsec.encap_peer = ue.encap_port;
    snprintf(ue.ipsec.inner_local, sizeof ue.ipsec.inner_local, "%s", ue.priv_ip);
    snprintf(ue.ipsec.inner_peer, sizeof ue.ipsec.inner_peer, "%s", ue.pcscf_ip);
    if (esp_sa) {
        ue.ipsec.esp_sa_file = fopen(esp_sa, "a");
        if (!ue.ipsec.esp_sa_file) {
            perror(esp_sa);
            return 2;
        }
    }
    /* sa/: the UE state machine, its SA table in our memory, and esp/
     * behind it through the install / remove callbacks. */
    {
        imssec_sa_config cfg;
        int rc;
        imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_UE);
        ue.cb.user = &ue.ipsec;
        ue.cb.install = ex_cb_install;
        ue.cb.update = ex_cb_update;
        ue.cb.remove = ex_cb_remove;
        rc = imssec_sa_table_setup(&ue.sat, &cfg, &ue.cb, &io, 1, 4, ue.sa_mem, sizeof ue.sa_mem);
        if (rc == IMSSEC_OK)
            rc = imssec_sa_user_lookup(&ue.sat, ue.impi, strlen(ue.impi), 1, &ue.user);
        if (rc != IMSSEC_OK) {
            fprintf(stderr, "ue: sa/ table: %s\n", imssec_strerror(rc));
            return 2;
        }
    }
    sip_token(ue.call_id, 24);
    sip_token(ue.from_tag, 8);
    {
        char h1[72], h2[72];
        if (strcmp(ue.priv_ip, ue.my_ip) != 0)
            ladder("UE %s at %s (behind a NAT: seen as %s:%u), P-CSCF %s:%u, SQN_MS=0x%012llx",
                   ue.impi, ue.priv_ip, host_fmt(ue.my_ip, h1), ue.my_port,
                   host_fmt(ue.pcscf_ip, h2), ue.pcscf_port,
                   (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
        else
            ladder("UE %s at %s:%u (no NAT), P-CSCF %s:%u, SQN_MS=0x%012llx", ue.impi,
                   host_fmt(ue.my_ip, h1), ue.my_port, host_fmt(ue.pcscf_ip, h2), ue.pcscf_port,
                   (unsigned long long)imssec_aka_sqn_highest(&ue.sqn));
    }

    /* 1-3: initial registration. */
    status = do_register(expect_mac);
    if (expect_mac) {
        verify(status == 403 && ex_sa_count(&ue.ipsec, 0) == 0, "registration-refused",
               "the network answered %d; no SA exists", status);
        goto out;
    }
    if (status != 200) {
        verify(0, "register", "registration failed: %d", status);
        goto out;
    }
    /* 4: MESSAGE both ways over the SAs. */
    if (send_message("hello from the UE") != 200)
        goto out;
    {
        /* Two things the P-CSCF must refuse: the same ESP packet again
         * (anti-replay, RFC 4303 3.4.3) and a request on the unprotected
         * port (clause 7.1).  Neither may get an answer. */
        sip_buf b;
        sip_msg m;
        ex_sa *on;
        unsigned idport;
        ladder("    replaying the last ESP packet (the MESSAGE above), byte for byte");
        ex_replay_last(&ue.ipsec);
        sip_b_init(&b);
        sip_b_add(&b, "MESSAGE sip:service@%s SIP/2.0\r\n", ue.realm);
        sip_b_add(&b, "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bKunprot%u;rport\r\n",
                  ue.pub_ip[0] ? ue.pub_ip : ue.priv_ip, ue.my_port, ue.cseq);
        sip_b_add(&b, "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <sip:service@%s>\r\n",
                  ue.impu, ue.from_tag, ue.realm);
        sip_b_add(&b, "Call-ID: unprot-%s\r\nCSeq: 1 MESSAGE\r\n", ue.call_id);
        sip_b_end(&b, "not protected", 13);
        send_via(0, &b);
        verify(recv_msg(&m, &on, &idport, 500) != 0, "ue-refused-traffic",
               "neither the replayed packet nor the unprotected MESSAGE got an answer");
    }
    before = ue.net_msgs;
    if (send_message("echo: hello UE, from the network") != 200 || wait_net_message(before) != 0) {
        verify(0, "network-message", "no MESSAGE from the network");
        goto out;
    }
    /* 5: a network MESSAGE left pending, then re-registration. */
    ue.hold_next = 1;
    before = ue.net_msgs;
    if (send_message("echo: this one stays pending during re-registration") != 200 ||
        wait_net_message(before) != 0) {
        verify(0, "network-message", "no MESSAGE from the network");
        goto out;
    }
    {
        imssec_sa_ref r_old, r_new;
        ex_sa *s_old, *s_new;
        unsigned old_us = ue.port_us;
        imssec_sa_route(&ue.sat, ue.user, 1, 0, &r_old);
        s_old = ex_sa_by_ref(&ue.ipsec, r_old);
        if (!s_old || do_register(0) != 200) {
            verify(0, "reregister", "re-registration failed");
            goto out;
        }
        imssec_sa_route(&ue.sat, ue.user, 1, 0, &r_new);
        s_new = ex_sa_by_ref(&ue.ipsec, r_new);
        /* 7.4: requests now use the new SAs; the old set stays for the
         * pending transaction; port_us fixed, port_uc new. */
        verify(s_new && s_new->gen != s_old->gen && ue.port_us == old_us &&
                   s_new->lport != s_old->lport && ex_sa_count(&ue.ipsec, 0) == 8 &&
                   imssec_sa_count(&ue.sat, UINT32_MAX) == 8,
               "reregister",
               "new SAs (set %d) in use, old ones (set %d) kept: port_us %u unchanged, port_uc "
               "%u -> %u, 8 SAs",
               s_new ? s_new->gen : 0, s_old->gen, ue.port_us, s_old->lport,
               s_new ? s_new->lport : 0);
    }
    /* 6: the pending transaction ends over the old SAs, then they go. */
    if (ue.held_n) {
        ex_sa *in = ex_sa_by_ref(&ue.ipsec, ue.held_on);
        imssec_sa_ref out_ref = 0;
        ex_sa *out;
        int set = in ? in->gen : 0;
        imssec_sa_route(&ue.sat, ue.user, 0, ue.held_on, &out_ref);
        out = ex_sa_by_ref(&ue.ipsec, out_ref);
        ladder("    answering the pending MESSAGE: sa/ routes it over set %d", out ? out->gen : 0);
        answer_net_message(ue.held, ue.held_n, ue.held_on);
        imssec_sa_txn_end(&ue.sat, ue.held_on, net_now_ms());
        ue.held_n = 0;
        verify(out && out->gen == set, "pending-on-old-sa",
               "the pending MESSAGE was answered over set %d, the old SAs it came on", set);
        /* 7: everything now runs over the new SAs; the first message that
         * arrives on them retires the old set (7.4.1a). */
        if (send_message("hello over the new SAs") != 200)
            goto out;
        verify(ex_sa_count(&ue.ipsec, set) == 0 && ex_sa_count(&ue.ipsec, 0) == 4 &&
                   imssec_sa_count(&ue.sat, UINT32_MAX) == 4,
               "old-sa-deleted", "set %d deleted after its transaction ended and a message "
               "arrived on the new SAs; 4 SAs left", set);
    } else {
        verify(0, "pending-on-old-sa", "no pending MESSAGE");
        goto out;
    }
    before = ue.net_msgs;
    if (send_message("echo: hello UE, over the new SAs") != 200 || wait_net_message(before) != 0) {
        verify(0, "network-message", "no MESSAGE from the network over the new SAs");
        goto out;
    }
    {
        imssec_sa_ref cur;
        ex_sa *c;
        imssec_sa_route(&ue.sat, ue.user, 1, 0, &cur);
        c = ex_sa_by_ref(&ue.ipsec, cur);
        verify(c && ue.last_net_set == c->gen, "switch-over",
               "the network's MESSAGE came over set %d, the new SAs", ue.last_net_set);
    }
    /* 8: de-registration. */
    deregister();
out:
    ue.ipsec.why = "UE exits";
    imssec_sa_table_wipe(&ue.sat);
    imssec_milenage_wipe(&ue.mil);
    if (ue.ipsec.esp_sa_file)
        fclose(ue.ipsec.esp_sa_file);
    ladder("exit (%d failures)", verify_failures());
    return verify_failures() ? 1 : 0;
}
