/*
 * scscf.c -- an S-CSCF with a built-in HSS, for the imssec demo.
 *
 * It registers its subscribers (--impi, one or a few) with IMS AKA (TS
 * 33.203 clause 6.1):
 *   - REGISTER without a response to a challenge of ours: generate an
 *     authentication vector (aka/: SQN = SEQ || IND, TS 33.102 Annex C) and
 *     answer 401 with WWW-Authenticate: Digest ... algorithm=AKAv1-MD5 plus
 *     ck= and ik= for the P-CSCF (TS 24.229 5.4.1.2.1);
 *   - a response with auts=: verify AUTS, resynchronise SQN, challenge again
 *     (clause 6.1.3);
 *   - a response: check it against XRES (RFC 3310), answer 200 with
 *     Service-Route, or 403;
 *   - an empty response without auts: network authentication failure
 *     reported by the UE (clause 6.1.2.2): 403;
 *   - REGISTER Expires: 0 from an integrity-protected registered UE: 200.
 * It answers MESSAGE requests with 200 and, when the body says
 * "echo: text", sends a MESSAGE with "text" back to the UE along the Path.
 * It plays the called party of the UE's call (call.c): the offer that
 * reaches it must be plain RTP/AVP without keys (TS 33.328 7.2.1 step 3);
 * it answers 200 OK with plain RTP/AVP and echoes every RTP frame back
 * as a stream of its own.  With --net-dereg, once the call is over (BYE,
 * or the UE's "no call: ..." MESSAGE) the registrar ends the registration
 * with a reg-event NOTIFY (RFC 3680) sent along the Path.
 *
 * With --core-tls the P-CSCF's hop is SIP over TLS (RFC 3261, TS 33.203
 * 6.5; tls_link.h) on TCP --port instead of UDP: the P-CSCF's client
 * certificate is required and checked against --ca and --partners, and
 * requests to the UE go back on the P-CSCF's connection (its Via alias).
 *
 * Only imssec.h (aka/ digest and Milenage) plus POSIX sockets (and
 * mbedTLS's TLS for --core-tls).
 */
#include "../imssec.h"
#include "call.h"
#include "ladder.h"
#include "net.h"
#include "pcap.h"
#include "sip.h"
#include "tls_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage[] = {
    "usage: scscf [--listen-ip 127.0.0.1] [--port 5070] [--k HEX] [--op HEX | --opc HEX]\n"
    "             [--impi alice@ims.example.net[,IMPI...]] [--realm ims.example.net]\n"
    "             [--sqn N] [--ind-bits 5] [--ind 0] [--expires 600] [--pcap FILE]\n"
    "             [--net-dereg] [--timeout-ms 30000] [--keep-running] [--no-reauth]\n"
    "             [--core-tls --ca FILE --cert FILE --key FILE --partners NAME,...\n"
    "              [--tls-keylog FILE]]\n"
    "An S-CSCF with a built-in HSS (see the comment at the top of scscf.c).\n"
    "  --listen-ip, --port  where it takes SIP from the P-CSCF\n"
    "  --k, --op, --opc  the subscribers' K and OP or OPc (hex; default TS 35.207 set 1)\n"
    "  --impi        the subscribers (comma-separated IMPIs, the same K and OP)\n"
    "  --realm       the digest realm of its challenges\n"
    "  --sqn, --ind-bits, --ind  the HSS's SQN (SEQ || IND, TS 33.102 C.3) and the\n"
    "                IND slot and length its vectors use\n"
    "  --pcap        append every packet it sends to FILE (raw IP)\n"
    "  --net-dereg   end the registration itself after the call: a reg-event NOTIFY\n"
    "                (RFC 3680) through the P-CSCF\n"
    "  --expires     the longest registration it grants (RFC 3261 10.3 item 7: a\n"
    "                shorter one than asked is granted in the 200 OK's Contact)\n"
    "  --timeout-ms  how long it waits for the flow to finish\n"
    "  --keep-running  do not stop when the UE de-registers: serve until --timeout-ms\n"
    "  --no-reauth   accept a registered UE's integrity-protected re-REGISTER without a\n"
    "                new challenge (TS 33.203 5.1.2: the operator's policy)\n"
    "  --core-tls      SIP from the P-CSCF over TLS on TCP --port (RFC 3261; TS 33.203\n"
    "                  6.5) instead of UDP; a client certificate is required\n"
    "  --ca FILE       PEM CA certificate(s) the P-CSCF's certificate must chain to\n"
    "  --cert FILE     our PEM server certificate\n"
    "  --key FILE      its PEM private key\n"
    "  --partners L    the interworking partners: comma-separated domain names; a\n"
    "                  client certificate with no name on the list ends the connection\n"
    "  --tls-keylog F  append the TLS master secrets to F (NSS key log, Wireshark)\n",
    NULL};

static const char *const known[] = {"listen-ip", "port", "k", "op", "opc", "impi", "realm",
                                    "sqn", "ind-bits", "ind", "expires", "pcap",
                                    "timeout-ms", "keep-running!", "no-reauth!", "net-dereg!", "core-tls!",
                                    "ca", "cert", "key", "partners", "tls-keylog", NULL};

static const imssec_io io = {NULL, net_random, NULL, NULL};

static unsigned max_expires; /* --expires */
static int keep_running; /* --keep-running: serve until --timeout-ms */
static int no_reauth;    /* --no-reauth: protected re-registrations without a challenge */

/* The HSS's record of a subscriber and the registrar's binding; `hss` is
 * the one the message in hand is for (the IMPIs of --impi, all with the
 * same K and OP). */
#define MAX_SUBS 4
typedef struct sub_rec {
    imssec_milenage mil;
    char impi[128], realm[64];
    uint64_t sqn; /* last SQN used */
    unsigned ind_bits, ind;
    /* the challenge in flight */
    int pending;
    imssec_aka_vector av;
    char nonce[64];
    imssec_digest_nonce nonce_state;
    /* the binding */
    int registered;
    char contact[256], path[256];
    unsigned expires;
} sub_rec;
static sub_rec subs[MAX_SUBS], *hss = &subs[0];
static int n_subs;

/* The subscriber with this IMPI (a REGISTER's username), or NULL. */
static sub_rec *sub_by_impi(sip_str impi)
{
    int i;
    for (i = 0; i < n_subs; i++)
        if (impi.n == strlen(subs[i].impi) && memcmp(impi.p, subs[i].impi, impi.n) == 0)
            return &subs[i];
    return NULL;
}

/* The registered subscriber whose public identity sip:IMPI is the From of
 * a request from the UE side, else the first registered one. */
static void sub_from(const sip_msg *req)
{
    char from[160] = "", uri[160];
    sip_str v;
    int i, first = -1;
    if (sip_get(req, "From", 0, &v))
        sip_uri_of(v, from, sizeof from);
    for (i = 0; i < n_subs; i++) {
        if (!subs[i].registered)
            continue;
        snprintf(uri, sizeof uri, "sip:%s", subs[i].impi);
        if (strcmp(uri, from) == 0) {
            hss = &subs[i];
            return;
        }
        if (first < 0)
            first = i;
    }
    if (first >= 0)
        hss = &subs[first];
}

static int any_registered(void)
{
    int i;
    for (i = 0; i < n_subs; i++)
        if (subs[i].registered || subs[i].pending)
            return 1;
    return 0;
}

/* Network-initiated MESSAGE transactions waiting for the UE's answer. */
#define MAX_TX 8
static struct {
    int used, notify; /* notify: the reg-event NOTIFY that ends the registration */
    char branch[64], what[80];
} tx[MAX_TX];

/* The called party's media (one call at a time). */
static struct {
    int active;
    media_ep ep;   /* its socket; ep.peer: the IMS Access GW's core side (the offer's c=/m=) */
    unsigned rx, plain, echoed;
    char call_id[96];
} callee;
static int net_dereg, dereg_sent, dereg_done;

static int fd;
static imssec_addr my_ip;
static unsigned my_port;

/* --core-tls: the listening socket, the P-CSCF's connections, the one the
 * message in hand came on (its responses go back on it, RFC 3261 18.2.2) */
#define CORE_CONNS 4
static int core_tls, core_lfd = -1;
static tls_link core_link;
static tls_conn core_conn[CORE_CONNS];
static tls_conn *core_cur;
/* RFC 5923: the sent-by of a request's top Via with ;alias names its
 * connection (the P-CSCF's Path points there) */
static struct {
    int set;
    imssec_addr ip;
    unsigned port;
} core_alias[CORE_CONNS];

static void core_alias_learn(const sip_msg *m)
{
    sip_str v, a;
    sip_via via;
    int i = core_cur ? (int)(core_cur - core_conn) : -1;
    if (i < 0 || !m->is_request || !sip_get(m, "Via", 0, &v) || !sip_param(v, "alias", &a) ||
        sip_via_parse(v, &via) != 0 ||
        imssec_addr_parse(imssec_cstr(via.host), &core_alias[i].ip) != IMSSEC_OK)
        return;
    if (!core_alias[i].set) {
        char t[IMSSEC_ADDR_TEXT_MAX + 1];
        ladder("    the TLS connection from %s:%u is the way to %s:%u (Via alias, RFC 5923)",
               addr_text(&core_cur->peer, 1, t), core_cur->pport, via.host, via.port);
    }
    core_alias[i].port = via.port;
    core_alias[i].set = 1;
}

/* The connection for a message to ip:port: the one aliased to it, else
 * the one the message in hand came on, else the last one up. */
static tls_conn *core_pick(const imssec_addr *ip, unsigned port)
{
    int i;
    for (i = 0; i < CORE_CONNS; i++)
        if (core_conn[i].up && core_alias[i].set && core_alias[i].port == port &&
            imssec_addr_equal(&core_alias[i].ip, ip))
            return &core_conn[i];
    if (core_cur && core_cur->up)
        return core_cur;
    for (i = CORE_CONNS - 1; i >= 0; i--)
        if (core_conn[i].up)
            return &core_conn[i];
    return NULL;
}


static void send_to(const imssec_addr *ip, unsigned port, const sip_buf *b)
{
    char first[128], t[IMSSEC_ADDR_TEXT_MAX + 1];
    if (core_tls) {
        tls_conn *c = core_pick(ip, port);
        if (!c) {
            verify(0, "scscf-core-tls", "no TLS connection to the P-CSCF: %s not sent",
                   sip_first_line(b->p, b->n, first, sizeof first));
            return;
        }
        ladder("%-40s --> %s:%u, TLS", sip_first_line(b->p, b->n, first, sizeof first),
               addr_text(&c->peer, 1, t), c->pport);
        (void)tls_conn_write(c, b->p, b->n); /* it captures the records */
        return;
    }
    ladder("%-40s --> %s:%u", sip_first_line(b->p, b->n, first, sizeof first),
           addr_text(ip, 1, t), port);
    pcap_udp(&my_ip, my_port, ip, port, b->p, b->n);
    net_sendto(fd, ip, port, b->p, b->n);
}

/* Where a response goes: the top Via (received/rport when present,
 * RFC 3261 18.2.2, RFC 3581). */
static void reply(const sip_msg *req, const sip_buf *b)
{
    sip_str v;
    sip_via via;
    imssec_addr to;
    if (!sip_get(req, "Via", 0, &v) || sip_via_parse(v, &via) != 0 ||
        imssec_addr_parse(imssec_cstr(via.received[0] ? via.received : via.host), &to) != IMSSEC_OK)
        return;
    send_to(&to, via.rport ? via.rport : via.port, b);
}

static void simple_reply(const sip_msg *req, int status, const char *reason)
{
    sip_buf b;
    char tag[9];
    sip_token(tag, 8);
    sip_b_response(&b, req, status, reason, tag);
    sip_b_end(&b, NULL, 0);
    reply(req, &b);
}

static int challenge(const sip_msg *req)
{
    static const uint8_t amf[2] = {0x80, 0x00}; /* AMF of the TS 35.208 examples' style */
    char www[512], ck_hex[33], ik_hex[33];
    size_t nl, wl;
    uint64_t next;
    sip_buf b;
    char tag[9];
    int rc;

    rc = imssec_aka_sqn_next(hss->sqn, hss->ind_bits, hss->ind, &next);
    if (rc == IMSSEC_OK)
        rc = imssec_aka_vector_gen(&hss->mil, &io, NULL, next, amf, &hss->av);
    if (rc == IMSSEC_OK)
        rc = imssec_aka_nonce_encode(hss->av.rand, hss->av.autn, NULL, 0, 1, hss->nonce,
                                     sizeof hss->nonce - 1, &nl);
    if (rc != IMSSEC_OK) {
        verify(0, "hss-vector", "%s", imssec_strerror(rc));
        simple_reply(req, 500, "Server Internal Error");
        return -1;
    }
    hss->nonce[nl] = '\0';
    hss->sqn = next;
    hss->pending = 1;
    (void)imssec_digest_nonce_set(&hss->nonce_state, (imssec_str){hss->nonce, nl},
                                  net_now_ms() + 60000);
    ladder("HSS: AKA vector for SQN=0x%012llx (SEQ=%llu IND=%u)", (unsigned long long)next,
           (unsigned long long)(next >> hss->ind_bits), hss->ind);
    rc = imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, imssec_cstr(hss->realm),
                                       (imssec_str){hss->nonce, nl}, imssec_cstr(NULL),
                                       IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH), 0, 0, www,
                                       sizeof www, &wl);
    if (rc != IMSSEC_OK) {
        verify(0, "scscf-challenge", "%s", imssec_strerror(rc));
        return -1;
    }
    /* TS 24.229 5.4.1.2.1: CK and IK travel to the P-CSCF in the 401, which
     * removes them before it forwards the challenge to the UE. */
    sip_token(tag, 8);
    sip_b_response(&b, req, 401, "Unauthorized", tag);
    sip_b_add(&b, "WWW-Authenticate: %.*s, ck=\"%s\", ik=\"%s\"\r\n", (int)wl, www,
              hex_encode(hss->av.ck, 16, ck_hex), hex_encode(hss->av.ik, 16, ik_hex));
    sip_b_end(&b, NULL, 0);
    reply(req, &b);
    return 0;
}

/* The binding made (or refreshed) and its 200 OK. */
static void register_ok(const sip_msg *req, unsigned expires)
{
    sip_buf b;
    sip_str contact, path;
    char tag[9], h[IMSSEC_ADDR_TEXT_MAX + 1];
    sip_token(tag, 8);
    hss->registered = 1;
    hss->expires = expires;
    if (sip_get(req, "Contact", 0, &contact))
        sip_uri_of(contact, hss->contact, sizeof hss->contact);
    if (sip_get(req, "Path", 0, &path))
        sip_uri_of(path, hss->path, sizeof hss->path);
    ladder("registrar: %s registered, contact <%s>, path <%s>, expires %u", hss->impi,
           hss->contact, hss->path, expires);
    sip_b_response(&b, req, 200, "OK", tag);
    sip_b_add(&b, "Contact: <%s>;expires=%u\r\n", hss->contact, expires);
    sip_b_copy(&b, req, "Path");
    sip_b_add(&b, "Service-Route: <sip:orig@%s:%u;lr>\r\n", addr_text(&my_ip, 1, h), my_port);
    sip_b_add(&b, "P-Associated-URI: <sip:%s>\r\n", hss->impi);
    sip_b_end(&b, NULL, 0);
    reply(req, &b);
}

static void on_register(const sip_msg *req)
{
    sip_str auth, exp_s;
    imssec_digest_credentials cr;
    unsigned expires = 600;
    char buf[64];
    int have_cred = 0, integrity = 0, rc;

    if (sip_get(req, "Expires", 0, &exp_s))
        expires = (unsigned)strtoul(sip_cstr(exp_s, buf, sizeof buf), NULL, 10);
    if (expires > max_expires)
        expires = max_expires;
    if (sip_get(req, "Authorization", 0, &auth)) {
        size_t i;
        if (imssec_digest_credentials_parse(auth, &cr, NULL) == IMSSEC_OK)
            have_cred = 1;
        else
            ladder("Authorization: malformed, ignored");
        if (have_cred) {
            sub_rec *s = sub_by_impi(cr.username);
            if (!s) {
                ladder("registrar: %.*s is no subscriber of this HSS", (int)cr.username.n,
                       cr.username.p);
                simple_reply(req, 403, "Forbidden");
                return;
            }
            hss = s;
        }
        /* TS 24.229 5.4.1.1: the P-CSCF tells whether the REGISTER arrived
         * integrity protected (TS 33.203 6.1.5): a parameter the digest
         * parser keeps among the unknown ones */
        for (i = 0; have_cred && i < cr.n_extra; i++)
            if (sip_eq(cr.extra[i].name, "integrity-protected"))
                integrity = sip_eq(cr.extra[i].value, "yes");
    }

    /* De-registration from a registered, integrity-protected UE. */
    if (expires == 0 && hss->registered && integrity) {
        sip_buf b;
        char tag[9];
        sip_token(tag, 8);
        sip_b_response(&b, req, 200, "OK", tag);
        sip_b_add(&b, "Contact: %s;expires=0\r\n", hss->contact);
        sip_b_end(&b, NULL, 0);
        hss->registered = 0;
        ladder("registrar: %s de-registered", hss->impi);
        reply(req, &b);
        return;
    }

    /* --no-reauth: TS 33.203 5.1.2, "it is the policy of the operator that
     * decides when to trigger a re-authentication": a registered UE's
     * integrity-protected re-registration is accepted as it is */
    if (no_reauth && hss->registered && integrity && expires > 0) {
        ladder("registrar: %s re-registers integrity protected: no new challenge (--no-reauth, "
               "TS 33.203 5.1.2)", hss->impi);
        hss->pending = 0;
        register_ok(req, expires);
        return;
    }
    if (!have_cred || !hss->pending || cr.nonce.n != strlen(hss->nonce) ||
        memcmp(cr.nonce.p, hss->nonce, cr.nonce.n) != 0) {
        /* No answer to a challenge of ours: challenge (also on every
         * re-registration: this S-CSCF always authenticates). */
        challenge(req);
        return;
    }
    hss->pending = 0;

    if (cr.auts.n) {
        /* RFC 3310 3.4 / TS 33.203 6.1.3: synchronisation failure. */
        uint8_t auts[IMSSEC_AKA_AUTS_LEN + 2];
        size_t al;
        uint64_t sqn_ms;
        char txt[64];
        rc = imssec_base64_decode(cr.auts, auts, sizeof auts, &al);
        if (rc == IMSSEC_OK && al == IMSSEC_AKA_AUTS_LEN)
            rc = imssec_aka_auts_verify(&hss->mil, hss->av.rand, auts, &sqn_ms);
        else
            rc = IMSSEC_E_SYNTAX;
        if (rc == IMSSEC_OK)
            snprintf(txt, sizeof txt, "0x%012llx", (unsigned long long)sqn_ms);
        if (!verify(rc == IMSSEC_OK, "hss-resync", "AUTS %s%s",
                    rc == IMSSEC_OK ? "verified (MAC-S good), SQN_MS=" : imssec_strerror(rc),
                    rc == IMSSEC_OK ? txt : "")) {
            simple_reply(req, 403, "Forbidden");
            return;
        }
        hss->sqn = sqn_ms;
        challenge(req);
        return;
    }
    if (cr.response.n == 0) {
        /* TS 33.203 6.1.2.2: the UE could not authenticate the network. */
        ladder("UE reports network authentication failure (empty response, no auts)");
        simple_reply(req, 403, "Forbidden");
        hss->registered = 0;
        return;
    }

    {
        uint8_t pw[64];
        size_t pwl;
        imssec_str user = {NULL, 0}, method = {"REGISTER", 8};
        rc = imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, hss->av.xres, hss->av.xres_len,
                                        hss->av.ck, hss->av.ik, pw, sizeof pw, &pwl);
        if (rc == IMSSEC_OK)
            rc = imssec_digest_server_verify(&hss->nonce_state, &cr, IMSSEC_DIGEST_AKAV1_MD5, user,
                                             method, NULL, 0, pw, pwl, net_now_ms());
        imssec_wipe(pw, sizeof pw);
    }
    if (!verify(rc == IMSSEC_OK, "scscf-auth", "digest AKAv1-MD5 response %s",
                rc == IMSSEC_OK ? "matches XRES: user authenticated" : imssec_strerror(rc))) {
        simple_reply(req, 403, "Forbidden");
        return;
    }

    register_ok(req, expires);
}

/* Send a request to the registered UE along its Path (RFC 3327): a
 * MESSAGE with text, or the reg-event NOTIFY that ends the registration. */
static void request_to_ue(const char *text, int notify)
{
    sip_buf b;
    char branch[24], tag[9], callid[17], host[64], h[IMSSEC_ADDR_TEXT_MAX + 1];
    unsigned port = 5060;
    const char *at, *colon;
    imssec_addr to;
    int i;

    if (!hss->registered) {
        verify(0, "network-message", "UE not registered");
        return;
    }
    /* The Path's URI "sip:term@HOST:PORT;lr" says where the P-CSCF is. */
    at = strchr(hss->path, '@');
    at = at ? at + 1 : hss->path + 4;
    {
        /* host, or [IPv6] (RFC 3261 IPv6reference; imssec_addr_parse takes both) */
        size_t hl = at[0] == '[' ? strcspn(at, "]") + 1 : strcspn(at, ":;>");
        if (hl >= sizeof host)
            hl = sizeof host - 1;
        memcpy(host, at, hl);
        host[hl] = '\0';
        at += hl;
    }
    colon = *at == ':' ? at : NULL;
    if (colon)
        port = (unsigned)strtoul(colon + 1, NULL, 10);
    if (imssec_addr_parse(imssec_cstr(host), &to) != IMSSEC_OK) {
        verify(0, "network-message", "the Path names no address: %s", hss->path);
        return;
    }
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    sip_token(tag, 8);
    sip_token(callid, 16);
    sip_b_init(&b);
    sip_b_add(&b, "%s %s SIP/2.0\r\n", notify ? "NOTIFY" : "MESSAGE", hss->contact);
    sip_b_add(&b, "Via: SIP/2.0/%s %s:%u;branch=%s\r\n", core_tls ? "TLS" : "UDP",
              addr_text(&my_ip, 1, h), my_port, branch);
    sip_b_add(&b, "Max-Forwards: 70\r\n");
    sip_b_add(&b, "Route: <%s>\r\n", hss->path);
    sip_b_add(&b, "From: <sip:service@%s>;tag=%s\r\n", hss->realm, tag);
    sip_b_add(&b, "To: <sip:%s>\r\n", hss->impi);
    sip_b_add(&b, "Call-ID: %s@%s\r\n", callid, addr_text(&my_ip, 1, h));
    if (notify) {
        /* RFC 3680, RFC 6665 4.2.2: the registration is gone, so is the
         * subscription (reason noresource) */
        char body[1024];
        size_t n = regevent_body(body, sizeof body, text, hss->contact);
        sip_b_add(&b, "CSeq: 2 NOTIFY\r\nEvent: reg\r\n");
        sip_b_add(&b, "Subscription-State: terminated;reason=noresource\r\n");
        sip_b_add(&b, "Content-Type: application/reginfo+xml\r\n");
        sip_b_end(&b, body, n);
    } else {
        sip_b_add(&b, "CSeq: 1 MESSAGE\r\n");
        sip_b_add(&b, "Content-Type: text/plain\r\n");
        sip_b_end(&b, text, strlen(text));
    }
    for (i = 0; i < MAX_TX; i++)
        if (!tx[i].used) {
            tx[i].used = 1;
            tx[i].notify = notify;
            snprintf(tx[i].branch, sizeof tx[i].branch, "%s", branch);
            snprintf(tx[i].what, sizeof tx[i].what, "%.70s", text);
            break;
        }
    send_to(&to, port, &b);
}

/* ---- the called party (call.c) ------------------------------------------------ */

/* --net-dereg: the registrar ends the registration once the call is over
 * (RFC 3680: a NOTIFY with the registration terminated). */
static void end_registration(void)
{
    char aor[160];
    if (!net_dereg || dereg_sent || !hss->registered)
        return;
    dereg_sent = 1;
    snprintf(aor, sizeof aor, "sip:%s", hss->impi);
    ladder("registrar: ending the registration of %s (reg-event NOTIFY)", aor);
    request_to_ue(aor, 1);
    hss->registered = 0;
}

static void on_invite(const sip_msg *req)
{
    static char sdp[1024];
    sip_buf b;
    sip_str c;
    char tag[9], h[IMSSEC_ADDR_TEXT_MAX + 1];
    size_t n;
    int plain = sip_has(req->body, "RTP/AVP") && !sip_has(req->body, "RTP/SAVP") &&
                !sip_has(req->body, "a=crypto") && !sip_has(req->body, "3ge2ae");
    if (callee.active)
        media_close(&callee.ep);
    memset(&callee, 0, sizeof callee);
    /* 7.2.1 step 3: what reaches the core carries no key */
    if (!verify(plain, "call-core-offer",
                "INVITE offer in the core: RTP/AVP, no a=crypto, no a=3ge2ae (TS 33.328 7.2.1 "
                "step 3)") ||
        (media_open(&callee.ep, &my_ip),
         sdp_media_addr(req->body, &callee.ep.peer, &callee.ep.peer_port) != 0)) {
        simple_reply(req, 488, "Not Acceptable Here");
        return;
    }
    callee.active = 1;
    sip_cstr(sip_get(req, "Call-ID", 0, &c) ? c : sip_s(""), callee.call_id, sizeof callee.call_id);
    ladder("callee: media from %s:%u (the IMS Access GW's core side), ours on :%u",
           addr_text(&callee.ep.peer, 1, h), callee.ep.peer_port, callee.ep.port);
    n = sdp_plain(sdp, sizeof sdp, "bob", &my_ip, callee.ep.port);
    sip_token(tag, 8);
    sip_b_response(&b, req, 200, "OK", tag);
    sip_b_add(&b, "Contact: <sip:bob@%s:%u>\r\n", addr_text(&my_ip, 1, h), my_port);
    sip_b_add(&b, "Content-Type: application/sdp\r\n");
    sip_b_end(&b, sdp, n);
    reply(req, &b);
}

/* An RTP packet from the IMS Access GW: plain (6.2.1.1), echoed back. */
static void callee_media(void)
{
    uint8_t pkt[MEDIA_PKT_MAX], out[MEDIA_PKT_MAX];
    uint32_t ssrc;
    uint16_t seq;
    size_t off;
    unsigned no;
    long n = media_recv(&callee.ep, pkt, sizeof pkt, NULL, NULL);
    if (n <= 0)
        return;
    callee.rx++;
    if (media_rtp_parse(pkt, (size_t)n, &ssrc, &seq, &off) != 0 ||
        !media_frame_check(pkt + off, (size_t)n - off, &no))
        return;
    callee.plain++; /* exactly header + frame: readable, no SRTP tag */
    media_send(&callee.ep, out, media_rtp(&callee.ep, out, pkt + off, (size_t)n - off));
    callee.echoed++;
}

static void on_bye(const sip_msg *req)
{
    simple_reply(req, 200, "OK");
    if (!callee.active)
        return;
    verify(callee.rx > 0 && callee.plain == callee.rx && callee.echoed == callee.rx,
           "call-rtp-core",
           "%u RTP packets from the IMS Access GW, all plain RTP (%u readable frames of %u bytes, "
           "no SRTP tag), %u echoed back from SSRC 0x%08x (TS 33.328 6.2.1.1)",
           callee.rx, callee.plain, 12 + MEDIA_PAYLOAD, callee.echoed, (unsigned)callee.ep.ssrc);
    media_close(&callee.ep);
    callee.active = 0;
    end_registration();
}

static void on_response(const sip_msg *rsp)
{
    sip_str v, cseq;
    sip_via via;
    int i;
    if (!sip_get(rsp, "Via", 0, &v) || sip_via_parse(v, &via) != 0 || !sip_get(rsp, "CSeq", 0, &cseq))
        return;
    for (i = 0; i < MAX_TX; i++) {
        if (tx[i].used && strcmp(tx[i].branch, via.branch) == 0) {
            if (rsp->status >= 200 && tx[i].notify) {
                verify(rsp->status == 200, "scscf-net-dereg",
                       "the UE answered the reg-event NOTIFY with %d: %s is de-registered",
                       rsp->status, tx[i].what);
                dereg_done = 1;
                tx[i].used = 0;
            } else if (rsp->status >= 200) {
                verify(rsp->status == 200, "network-message-answered", "MESSAGE \"%s\": %d",
                       tx[i].what, rsp->status);
                tx[i].used = 0;
            }
            return;
        }
    }
    ladder("response for an unknown transaction ignored");
}

/* --core-tls: the next SIP message from one of the P-CSCF's connections
 * (accepting and shaking hands meanwhile; the callee's media too), within
 * wait_ms.  Its length, or 0. */
static long core_next(char *buf, size_t cap, uint64_t wait_ms, imssec_addr *src, unsigned *sport)
{
    int fds[2 + CORE_CONNS], who[2 + CORE_CONNS], nf = 0, i, k;
    size_t n;
    for (i = 0; i < CORE_CONNS; i++) /* a message already buffered */
        if (core_conn[i].up && tls_conn_next(&core_conn[i], 0, buf, cap, &n) == 1)
            goto got;
    fds[nf] = core_lfd, who[nf++] = -1;
    if (callee.active)
        fds[nf] = callee.ep.fd, who[nf++] = -2;
    for (i = 0; i < CORE_CONNS; i++)
        if (core_conn[i].up)
            fds[nf] = core_conn[i].fd, who[nf++] = i;
    k = net_wait(fds, nf, (int)wait_ms);
    if (k < 0)
        return 0;
    if (who[k] == -2) {
        callee_media();
        return 0;
    }
    if (who[k] == -1) {
        for (i = 0; i < CORE_CONNS && core_conn[i].up; i++)
            ;
        if (i == CORE_CONNS) {
            tls_conn spare; /* no room: refused after the handshake */
            if (tls_conn_accept(&core_link, &spare, core_lfd) == 0)
                tls_conn_close(&spare, "no room for another connection");
            return 0;
        }
        core_alias[i].set = 0;
        (void)tls_conn_accept(&core_link, &core_conn[i], core_lfd);
        return 0;
    }
    i = who[k];
    if (tls_conn_next(&core_conn[i], 1, buf, cap, &n) != 1)
        return 0;
got:
    core_cur = &core_conn[i];
    *src = core_cur->peer;
    *sport = core_cur->pport;
    return (long)n;
}

int main(int argc, char **argv)
{
    uint8_t k[16], op[16], buf[SIP_MAX_MSG + 1];
    const char *pcap = arg_str(argc, argv, "pcap", NULL);
    uint64_t deadline;
    int ever_registered = 0, done = 0, i;
    char h[IMSSEC_ADDR_TEXT_MAX + 1];

    ladder_role("S-CSCF");
    arg_check(argc, argv, known, usage);
    memset(subs, 0, sizeof subs);
    arg_addr(argc, argv, "listen-ip", "127.0.0.1", &my_ip);
    my_port = (unsigned)arg_num(argc, argv, "port", 5070);
    /* Defaults: TS 35.207 test set 1. */
    arg_hex(argc, argv, "k", "465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
    if (arg_str(argc, argv, "opc", NULL)) {
        arg_hex(argc, argv, "opc", NULL, op, 16);
        imssec_milenage_init_opc(&hss->mil, k, op);
    } else {
        arg_hex(argc, argv, "op", "cdc202d5123e20f62b6d676ac72cb318", op, 16);
        imssec_milenage_init_op(&hss->mil, k, op);
    }
    imssec_wipe(k, sizeof k);
    snprintf(hss->impi, sizeof hss->impi, "%s", arg_str(argc, argv, "impi", "alice@ims.example.net"));
    snprintf(hss->realm, sizeof hss->realm, "%s", arg_str(argc, argv, "realm", "ims.example.net"));
    hss->sqn = arg_num(argc, argv, "sqn", 0x20);
    hss->ind_bits = (unsigned)arg_num(argc, argv, "ind-bits", 5);
    hss->ind = (unsigned)arg_num(argc, argv, "ind", 0);
    net_dereg = arg_flag(argc, argv, "net-dereg");
    max_expires = (unsigned)arg_num(argc, argv, "expires", 600);
    if (pcap)
        pcap_open(pcap);
    core_tls = arg_flag(argc, argv, "core-tls");
    if (core_tls) {
        tls_link_cfg tc;
        tls_link_cfg_args(&tc, 1, "P-CSCF", "scscf-core-tls", argc, argv);
        tls_link_init(&core_link, &tc);
        for (i = 0; i < CORE_CONNS; i++)
            core_conn[i].fd = -1;
        fd = -1;
        core_lfd = net_tcp_listen(&my_ip, my_port);
    } else {
        fd = net_udp(&my_ip, my_port);
    }
    {
        /* --impi a,b,c: more subscribers, the same K, OP and SQN */
        static char all[sizeof hss->impi];
        const char *p = all;
        snprintf(all, sizeof all, "%s", hss->impi);
        n_subs = 0;
        while (n_subs < MAX_SUBS && *p) {
            size_t l = strcspn(p, ",");
            if (n_subs)
                subs[n_subs] = subs[0];
            snprintf(subs[n_subs].impi, sizeof subs[n_subs].impi, "%.*s", (int)l, p);
            n_subs++;
            p += l + (p[l] == ',');
        }
        if (n_subs == 0) {
            fprintf(stderr, "scscf: --impi is empty\n");
            return 2;
        }
        ladder("HSS/S-CSCF ready on %s:%u%s%s for %s (SQN=0x%012llx, IND %u bits)",
               addr_text(&my_ip, 1, h), my_port, core_tls ? " TLS, partners " : "",
               core_tls ? core_link.cfg.partners : "", all, (unsigned long long)hss->sqn,
               hss->ind_bits);
    }
    deadline = net_now_ms() + arg_num(argc, argv, "timeout-ms", 30000);
    keep_running = arg_flag(argc, argv, "keep-running");
    no_reauth = arg_flag(argc, argv, "no-reauth");

    while (!done || keep_running) {
        long n;
        imssec_addr src;
        unsigned sport;
        sip_msg m;
        uint64_t now = net_now_ms();
        if (now >= deadline) {
            /* --keep-running: the deadline is the end, not a failure */
            verify(keep_running, "scscf", "%s",
                   keep_running ? "--timeout-ms reached" : "timed out waiting for the flow to finish");
            break;
        }
        if (core_tls) {
            n = core_next((char *)buf, sizeof buf, deadline - now, &src, &sport);
            if (n <= 0)
                continue;
        } else {
            int fds[2] = {fd, callee.active ? callee.ep.fd : -1};
            int k = net_wait(fds, callee.active ? 2 : 1, (int)(deadline - now));
            if (k == 1) {
                callee_media();
                continue;
            }
            if (k < 0 || (n = net_recvfrom(fd, buf, sizeof buf - 1, &src, &sport)) <= 0)
                continue;
        }
        if (sip_parse(&m, (const char *)buf, (size_t)n) != 0) {
            ladder("dropped a datagram that is not SIP from %s:%u", addr_text(&src, 1, h), sport);
            continue;
        }
        if (core_tls)
            core_alias_learn(&m);
        if (!m.is_request) {
            on_response(&m);
            if (dereg_done)
                done = 1; /* the network ended the registration: the flow is over */
            continue;
        }
        if (sip_eq(m.method, "REGISTER")) {
            int was = any_registered();
            on_register(&m);
            ever_registered |= hss->registered;
            if (was && !any_registered())
                done = 1; /* every subscriber de-registered: the flow is over */
            if (!any_registered() && !ever_registered)
                done = 1; /* 403: the registration was refused */
        } else if (sip_eq(m.method, "MESSAGE")) {
            char text[256];
            sip_cstr(m.body, text, sizeof text);
            ladder("MESSAGE from the UE: \"%s\"", text);
            sub_from(&m);
            simple_reply(&m, 200, "OK");
            if (strncmp(text, "echo: ", 6) == 0)
                request_to_ue(text + 6, 0);
            if (strncmp(text, "no call: ", 9) == 0)
                end_registration(); /* the UE set up no call (call.c) */
        } else if (sip_eq(m.method, "INVITE")) {
            on_invite(&m);
        } else if (sip_eq(m.method, "ACK")) {
            ladder("callee: ACK, the call is up");
        } else if (sip_eq(m.method, "BYE")) {
            sub_from(&m);
            on_bye(&m);
        } else {
            simple_reply(&m, 405, "Method Not Allowed");
        }
    }
    for (i = 0; i < MAX_TX; i++)
        if (tx[i].used)
            verify(0, "network-message-answered", "MESSAGE \"%s\" never answered", tx[i].what);
    if (core_tls) {
        for (i = 0; i < CORE_CONNS; i++)
            tls_conn_close(&core_conn[i], "the S-CSCF exits");
        tls_link_free(&core_link);
    }
    for (i = 0; i < MAX_SUBS; i++) {
        imssec_milenage_wipe(&subs[i].mil);
        imssec_wipe(&subs[i].av, sizeof subs[i].av);
    }
    ladder("exit (%d failures)", verify_failures());
    return verify_failures() ? 1 : 0;
}
