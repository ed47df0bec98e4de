/*
 * pcscf.c -- a P-CSCF for the imssec demo (TS 33.203 clauses 6, 7 and
 * Annex M).
 *
 *   UE  --unprotected REGISTER-->  :5060            (clause 7.1: REGISTER only)
 *   UE  <==ESP in UDP (RFC 3948)==> :4500           (Annex M, UDP-enc-tun SAs)
 *       or ESP over IP (protocol 50) with --transport (clause 6.3)
 *   P-CSCF :6060 <--plain SIP-->  S-CSCF
 *
 * The P-CSCF state machine of sa/ (7.1 rules 1-4, 7.4.2a, M.7) decides
 * everything about SAs: it is told what happened (SM1 arrived, SM6 sent,
 * SM7 arrived on SA x, SM12 sent, a message arrived on SA y, ...) and
 * answers which SA protects what we send next and whether a message came
 * on the right SA; its install/remove callbacks drive esp/ (ipsec.c).
 *
 * SM1 (REGISTER with Security-Client): NAT detection, sec-agree negotiation
 * with the configured policy (secagree/); forwarded with Path and
 * integrity-protected.  SM4 (401 from the S-CSCF): CK and IK taken out of
 * WWW-Authenticate, the new SAs created, Security-Server added, SM6 sent.
 * SM7: Security-Verify must equal the Security-Server sent and
 * Security-Client the one of SM1 (Annex H).  SM12 goes back over the new
 * SAs.  De-registration deletes every SA once the final response has been
 * sent over them.
 */
#include "../imssec.h"
#include "ipsec.h"
#include "sip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: pcscf [--ip 127.0.0.1] [--port 5060] [--encap-port 4500] [--core-port 6060]\n"
    "             [--scscf-ip 127.0.0.1] [--scscf-port 5070]\n"
    "             [--policy hmac-sha-1-96/aes-cbc,hmac-sha-1-96/des-ede3-cbc,...]\n"
    "             [--confidentiality supported|required|never] [--pcap FILE]\n"
    "             [--esp-sa FILE] [--timeout-ms 30000] [--transport]\n"
    "A P-CSCF (see the comment at the top of pcscf.c).\n";

static const char *const known[] = {"ip",     "port",      "encap-port", "core-port",
                                    "scscf-ip", "scscf-port", "policy",
                                    "confidentiality", "pcap", "esp-sa", "timeout-ms",
                                    "transport!", NULL};

static const imssec_io io = {NULL, net_random, NULL, NULL};

static char my_ip[64], scscf_ip[64];
static unsigned my_port, core_port, scscf_port;
static int ufd, efd, cfd;
static ex_ipsec ipsec;
static imssec_sec_pair policy_pairs[8];
static size_t n_policy;
static int confidentiality;

/* sa/: the P-CSCF state machine and SA table, in our memory. */
static imssec_sa_table sat;
static imssec_sa_callbacks sacb;
static uint64_t sa_mem[8192];

/* What this demo remembers about its one UE besides sa/'s records. */
static struct {
    int have_user;
    uint32_t user;
    char ue_ip[64];          /* public address (packet source of SM1) */
    unsigned ue_port;
    int nat;
    imssec_sec_choice choice;  /* negotiated at SM1 */
    char sec_client[2048];   /* this attempt's Security-Client, for Annex H */
    char sec_server[2048];   /* the Security-Server we sent */
    int dereg;               /* a de-registration is in progress */
    int registered;
    int done;                /* the flow is over */
} ue;

/* Transactions: requests forwarded by us, by our Via branch. */
#define MAX_TX 16
typedef struct ptx {
    int used;
    char branch[64];
    int from_ue;          /* request from the UE; else from the S-CSCF to the UE */
    int is_register;
    imssec_sa_ref in_ref; /* from_ue: the SA it arrived on (0: unprotected) */
    imssec_sa_ref out_ref; /* to the UE: the SA it went out on */
} ptx;
static ptx tx[MAX_TX];

static ptx *tx_new(const char *branch)
{
    int i;
    for (i = 0; i < MAX_TX; i++)
        if (!tx[i].used) {
            memset(&tx[i], 0, sizeof tx[i]);
            tx[i].used = 1;
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

/* A transaction on an SA ended: sa/ may now retire an old set (7.4). */
static void tx_done(ptx *t)
{
    imssec_sa_ref r = t->from_ue ? t->in_ref : t->out_ref;
    if (r && !t->is_register)
        imssec_sa_txn_end(&sat, r, net_now_ms());
    t->used = 0;
}

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

/* Feed an event to the P-CSCF state machine; print the transition. */
static int sa_ev(int event, const imssec_sa_ev_args *a, imssec_sa_ev_out *o, const char *why)
{
    int before = imssec_sa_state(&sat, ue.user), rc;
    imssec_sa_ev_out tmp;
    if (!o)
        o = &tmp;
    memset(o, 0, sizeof *o);
    ipsec.why = why;
    rc = imssec_sa_event(&sat, ue.user, event, a, o, net_now_ms());
    ipsec.why = NULL;
    if (rc != IMSSEC_OK)
        ladder("    sa/ %s in %s: %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               imssec_strerror(rc));
    else if (imssec_sa_state(&sat, ue.user) != before)
        ladder("    sa/ %s: %s -> %s", imssec_sa_event_name(event), imssec_sa_state_name(before),
               imssec_sa_state_name(imssec_sa_state(&sat, ue.user)));
    return rc;
}

/* ---- sending ------------------------------------------------------------- */

static void show(const char *dir, const sip_buf *b, const char *how)
{
    char first[128];
    ladder("%s %-40s %s", dir, sip_first_line(b->p, b->n, first, sizeof first), how);
}

static void to_scscf(const sip_buf *b)
{
    show("-->", b, "to S-CSCF");
    net_send(cfd, scscf_ip, scscf_port, b->p, b->n);
}

/* To the UE over the SA sa/ chose, or unprotected when ref is 0. */
static int to_ue(imssec_sa_ref ref, const sip_buf *b)
{
    ex_sa *sa;
    char how[96];
    int rc;
    if (!ref) {
        show("<--", b, "unprotected");
        net_send(ufd, ue.ue_ip, ue.ue_port, b->p, b->n);
        return 0;
    }
    sa = ex_sa_by_ref(&ipsec, ref);
    if (!sa) {
        verify(0, "pcscf-send", "sa/ chose an SA the data plane does not have");
        return -1;
    }
    show("<==", b, ex_sa_name(sa, how, sizeof how));
    rc = ex_send(&ipsec, sa, b->p, b->n);
    if (rc != IMSSEC_OK)
        verify(0, "pcscf-send", "imssec_esp_protect: %s", imssec_strerror(rc));
    return rc;
}

/* A response back to the UE over the set its request came on (7.1, 7.4). */
static int reply_to_ue(imssec_sa_ref in_ref, const sip_buf *b)
{
    imssec_sa_ref out = 0;
    if (in_ref && imssec_sa_route(&sat, ue.user, 0, in_ref, &out) != IMSSEC_OK) {
        verify(0, "pcscf-route", "no SA for the response");
        return -1;
    }
    return to_ue(out, b);
}

/* Copy a response without our top Via; `www` replaces WWW-Authenticate and
 * `extra` is added (both optional). */
static void copy_response(sip_buf *b, const sip_msg *m, const char *www, const char *extra)
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
    sip_b_end(b, m->body.p, m->body.n);
}

/* ---- helpers ------------------------------------------------------------ */

static void strip_sec_agree(sip_buf *b, const sip_hdr *h)
{
    /* Require / Proxy-Require: drop the sec-agree option tag (TS 24.229
     * 5.2.2: the P-CSCF removes it before forwarding). */
    if (sip_has(h->value, "sec-agree") && h->value.n <= strlen("sec-agree") + 2)
        return;
    sip_b_hdr(b, h);
}
static int parse_sec(const sip_msg *m, const char *name, imssec_sec_mech *mechs, size_t cap,
                     size_t *n, char *copy, size_t copy_cap)
{
    /* All instances joined with ", " into `copy` (the mechanisms point
     * into it), RFC 3261 7.3.1. */
    size_t used = 0;
    int i, cnt = sip_count(m, name), rc;
    imssec_sec_errinfo ei;
    copy[0] = '\0';
    for (i = 0; i < cnt; i++) {
        sip_str v;
        sip_get(m, name, i, &v);
        if (used + v.n + 3 > copy_cap)
            return IMSSEC_E_SPACE;
        if (used) {
            memcpy(copy + used, ", ", 2);
            used += 2;
        }
        memcpy(copy + used, v.p, v.n);
        used += v.n;
        copy[used] = '\0';
    }
    if (!cnt)
        return IMSSEC_E_NOT_FOUND;
    rc = imssec_secagree_parse(copy, used, mechs, cap, n, &ei);
    if (rc != IMSSEC_OK)
        ladder("%s: %s at mechanism %u offset %u", name, ei.what ? ei.what : imssec_strerror(rc),
               (unsigned)ei.mech_index, (unsigned)ei.offset);
    return rc;
}
static int take_keys(sip_str www, char *out, size_t cap, uint8_t ck[16], uint8_t ik[16])
{
    sip_str ckv, ikv;
    char hex[40];
    size_t i, o = 0;
    if (!sip_auth_param(www, "ck", &ckv) || !sip_auth_param(www, "ik", &ikv))
        return -1;
    if (hex_decode(sip_cstr(ckv, hex, sizeof hex), ck, 16) != 16 ||
        hex_decode(sip_cstr(ikv, hex, sizeof hex), ik, 16) != 16)
        return -1;
    /* Remove ", ck=\"...\"" and ", ik=\"...\"": walk the text and skip
     * the two parameters (with the comma before them). */
    for (i = 0; i < www.n && o + 1 < cap;) {
        const char *p = www.p + i;
        size_t rest = www.n - i;
        if (rest > 4 && *p == ',') {
            size_t j = 1;
            while (j < rest && p[j] == ' ')
                j++;
            if (rest - j > 3 && (p[j] == 'c' || p[j] == 'C' || p[j] == 'i' || p[j] == 'I') &&
                (p[j + 1] == 'k' || p[j + 1] == 'K') && (p[j + 2] == '=' || p[j + 2] == ' ')) {
                /* skip to the end of the value */
                size_t k = j + 2;
                while (k < rest && p[k] != '"')
                    k++;
                k++;
                while (k < rest && p[k] != '"')
                    k++;
                i += k + 1;
                continue;
            }
        }
        out[o++] = *p;
        i++;
    }
    out[o] = '\0';
    return 0;
}

/* ---- towards the S-CSCF ---------------------------------------------------- */

/* Forward a request from the UE.  `integrity`: NULL for a non-REGISTER,
 * else the integrity-protected value sa/ gave (TS 33.203 6.1.5). */
static void forward_to_scscf(const sip_msg *m, const char *integrity, imssec_sa_ref in_ref,
                             int is_register)
{
    sip_buf b;
    char branch[32], h[72];
    int i, first_via = 1;
    ptx *t;

    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    sip_b_init(&b);
    sip_b_add(&b, "%.*s %.*s SIP/2.0\r\n", (int)m->method.n, m->method.p, (int)m->uri.n,
              m->uri.p);
    sip_b_add(&b, "Via: SIP/2.0/UDP %s:%u;branch=%s\r\n", host_fmt(my_ip, h), core_port, branch);
    for (i = 0; i < m->nhdrs; i++) {
        const sip_hdr *h = &m->hdrs[i];
        if (sip_name_is(h->name, "Via") && first_via) {
            /* RFC 3581 / M.7.2: record where the request really came from;
             * the UE learns its public address from `received`. */
            sip_str rp;
            size_t keep = h->value.n;
            first_via = 0;
            if (!in_ref && ue.nat && sip_param(h->value, "rport", &rp) && rp.n == 0)
                keep = (size_t)(rp.p - h->value.p) - 6; /* drop the empty ";rport" */
            sip_b_add(&b, "Via: %.*s", (int)keep, h->value.p);
            if (keep != h->value.n)
                sip_b_add(&b, "%.*s", (int)(h->value.n - keep - 6), h->value.p + keep + 6);
            if (!in_ref && ue.nat)
                sip_b_add(&b, ";received=%s;rport=%u", ue.ue_ip, ue.ue_port);
            sip_b_add(&b, "\r\n");
        } else if (sip_name_is(h->name, "Security-Client") ||
                   sip_name_is(h->name, "Security-Verify") || sip_name_is(h->name, "Route") ||
                   sip_name_is(h->name, "Content-Length")) {
            continue;
        } else if (sip_name_is(h->name, "Require") || sip_name_is(h->name, "Proxy-Require")) {
            strip_sec_agree(&b, h);
        } else if (sip_name_is(h->name, "Authorization") && integrity) {
            sip_b_add(&b, "Authorization: %.*s, integrity-protected=\"%s\"\r\n", (int)h->value.n,
                      h->value.p, integrity);
        } else {
            sip_b_hdr(&b, h);
        }
    }
    if (is_register)
        sip_b_add(&b, "Path: <sip:term@%s:%u;lr>\r\nSupported: path\r\n", host_fmt(my_ip, h),
                  core_port);
    sip_b_end(&b, m->body.p, m->body.n);
    t = tx_new(branch);
    if (t) {
        t->from_ue = 1;
        t->is_register = is_register;
        t->in_ref = in_ref;
        if (in_ref && !is_register)
            imssec_sa_txn_begin(&sat, in_ref);
    }
    to_scscf(&b);
}

/* ---- SM1 --------------------------------------------------------------------- */

static int find_user(const sip_msg *m)
{
    sip_str auth, u;
    char impi[128];
    if (!sip_get(m, "Authorization", 0, &auth) || !sip_auth_param(auth, "username", &u) || !u.n) {
        ladder("REGISTER without a username: dropped");
        return -1;
    }
    sip_cstr(u, impi, sizeof impi);
    if (imssec_sa_user_lookup(&sat, impi, strlen(impi), 1, &ue.user) != IMSSEC_OK) {
        ladder("no room for user %s", impi);
        return -1;
    }
    ue.have_user = 1;
    return 0;
}

/* SM1: unprotected (on = NULL) or, re-registering, over the current SAs. */
static void on_register_sm1(const sip_msg *m, const char *src_ip, unsigned src_port, ex_sa *on)
{
    imssec_sec_mech client[16], server[16];
    size_t nc, ns;
    imssec_sec_pcscf_policy pol;
    imssec_sec_reject rej;
    imssec_sec_via via;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    sip_str v, auth, resp, auts;
    int rc, nat = 0;
    char copy[2048], names[64], host[64];

    if (!sip_get(m, "Via", 0, &v) || imssec_secagree_via_parse(v.p, v.n, &via) != IMSSEC_OK) {
        ladder("REGISTER without a usable Via dropped");
        return;
    }
    snprintf(host, sizeof host, "%.*s", (int)via.host_len, via.host);
    memset(&a, 0, sizeof a);
    a.arrived_on = on ? on->ref : 0;
    addr_of(src_ip, &a.ue_ip);
    addr_of(host, &a.via_ip);
    addr_of(my_ip, &a.pcscf_ip);

    /* The REGISTER that answers a challenge with a failure (7.3.1.2,
     * 7.3.1.3): sa/ drops the new SAs; the S-CSCF decides what follows. */
    if (sip_get(m, "Authorization", 0, &auth) &&
        (sip_auth_param(auth, "auts", &auts) ||
         (sip_auth_param(auth, "response", &resp) && resp.n == 0 &&
          sip_auth_param(auth, "nonce", &resp) && resp.n))) {
        a.kind = sip_auth_param(auth, "auts", &auts) ? IMSSEC_SA_KIND_SYNC : IMSSEC_SA_KIND_NET_AUTH;
        if (sa_ev(IMSSEC_SA_EV_AUTH_RECV, &a, &o, "the UE reported a failure (7.3.1.2/7.3.1.3)") !=
            IMSSEC_OK)
            return;
        forward_to_scscf(m, o.integrity_protected ? "yes" : "no", a.arrived_on, 1);
        return;
    }

    if (!on) {
        /* M.7.2: NAT when the packet's source differs from the Via sent-by. */
        imssec_sa_addr src;
        addr_of(src_ip, &src);
        if (imssec_secagree_nat_detect(&via, src.b, src.len, &nat) != IMSSEC_OK)
            nat = 1;
        ue.nat = nat;
        snprintf(ue.ue_ip, sizeof ue.ue_ip, "%s", src_ip);
        ue.ue_port = src_port;
        /* Inside the SAs the UE uses its public address (M.7.2). */
        snprintf(ipsec.inner_peer, sizeof ipsec.inner_peer, "%s", src_ip);
        ladder("    NAT %s: Via sent-by %s, packet from %s:%u", nat ? "detected" : "not detected",
               host, host_fmt(src_ip, copy), src_port);
    }
    a.nat = (uint8_t)ue.nat;
    rc = parse_sec(m, "Security-Client", client, 16, &nc, copy, sizeof copy);
    if (rc != IMSSEC_OK) {
        ladder("REGISTER without a valid Security-Client: %s", imssec_strerror(rc));
        return;
    }
    /* Clause 7.2: choose now (the SPIs and ports of our Security-Server
     * come from sa/ when the 401 goes out). */
    memset(&pol, 0, sizeof pol);
    pol.pairs = policy_pairs;
    pol.n_pairs = n_policy;
    pol.confidentiality = confidentiality;
    pol.udp_encap = !ipsec.transport;
    rc = imssec_secagree_pcscf_negotiate(client, nc, &pol, ue.nat, server, 16, &ns, &ue.choice,
                                         &rej);
    if (rc != IMSSEC_OK) {
        if (rc == IMSSEC_E_SECAGREE_REJECT)
            verify(0, "pcscf-negotiate", "clause %s: %s (SIP %d)", rej.clause, rej.reason,
                   rej.sip_status);
        else
            verify(0, "pcscf-negotiate", "%s", imssec_strerror(rc));
        if (rc == IMSSEC_E_SECAGREE_REJECT && rej.sip_status) {
            sip_buf b;
            sip_b_response(&b, m, rej.sip_status, "Security Agreement Required", "pcscf");
            sip_b_end(&b, NULL, 0);
            reply_to_ue(a.arrived_on, &b);
        }
        ue.done = !ue.registered;
        return;
    }
    a.peer_spi_c = ue.choice.spi_c;
    a.peer_spi_s = ue.choice.spi_s;
    a.peer_port_c = ue.choice.port_c;
    a.peer_port_s = ue.choice.port_s;
    /* 7.1 rules 2 and 3, temporary storage: sa/. */
    if (sa_ev(IMSSEC_SA_EV_REG_RECV, &a, &o, NULL) != IMSSEC_OK) {
        verify(0, "pcscf-register", "sa/ refused SM1");
        return;
    }
    snprintf(ue.sec_client, sizeof ue.sec_client, "%s", copy); /* Annex H */
    verify(1, "pcscf-negotiate", "ipsec-3gpp %s mod=%s (UE entry %u)",
           ex_pair_name(ue.choice.alg, ue.choice.ealg, names, sizeof names),
           imssec_secagree_mode_name(ue.choice.mod), (unsigned)ue.choice.index);
    forward_to_scscf(m, o.integrity_protected ? "yes" : "no", a.arrived_on, 1);
}

/* ---- SM4 -> SM6, SM12 and failures: REGISTER responses from the S-CSCF -- */

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

/* The 401: keys out, SAs in, Security-Server added. */
static void on_challenge(const sip_msg *m, ptx *t)
{
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    imssec_sec_mech client[16], server[16];
    imssec_sec_pcscf_policy pol;
    imssec_sec_choice ch2;
    imssec_sec_reject rej;
    size_t nc, ns, sl;
    sip_str w;
    char www[1024], extra[2200], names[64];
    int rc;
    sip_buf b;

    memset(&a, 0, sizeof a);
    if (!sip_get(m, "WWW-Authenticate", 0, &w) || take_keys(w, www, sizeof www, a.ck, a.ik) != 0) {
        verify(0, "pcscf-keys", "401 from the S-CSCF without ck/ik");
        return;
    }
    verify(strstr(www, "ck=") == NULL && strstr(www, "ik=") == NULL, "pcscf-keys",
           "CK and IK taken from the 401 and removed before it goes to the UE");
    /* SM6 is sent: sa/ creates the new SAs (install callbacks -> esp/),
     * chooses our SPIs and ports, and says how SM6 is protected. */
    a.alg = sa_alg_of(ue.choice.alg);
    a.ealg = sa_ealg_of(ue.choice.ealg);
    a.mode = (uint8_t)(ue.choice.mod == IMSSEC_MODE_UDP_ENC_TUN ? IMSSEC_SA_MODE_UDP_ENC_TUN
                                                                : IMSSEC_SA_MODE_TRANS);
    addr_of(ue.ue_ip, &a.ue_ip);
    addr_of(my_ip, &a.pcscf_ip);
    ladder("    creating the new SAs (%s)",
           ex_pair_name(ue.choice.alg, ue.choice.ealg, names, sizeof names));
    rc = sa_ev(IMSSEC_SA_EV_CHALLENGE, &a, &o, "an earlier attempt's SAs (7.4.2a)");
    imssec_wipe(&a, sizeof a);
    if (rc != IMSSEC_OK) {
        verify(0, "pcscf-sa-create", "sa/ could not create the SAs: %s", imssec_strerror(rc));
        return;
    }
    /* The Security-Server with the values sa/ allocated: the same
     * negotiation again, now with our SPIs and ports in the policy. */
    memset(&pol, 0, sizeof pol);
    pol.pairs = policy_pairs;
    pol.n_pairs = n_policy;
    pol.confidentiality = confidentiality;
    pol.udp_encap = !ipsec.transport;
    pol.spi_pc = o.spi_c;
    pol.spi_ps = o.spi_s;
    pol.port_pc = o.port_c;
    pol.port_ps = o.port_s;
    rc = imssec_secagree_parse(ue.sec_client, strlen(ue.sec_client), client, 16, &nc, NULL);
    if (rc == IMSSEC_OK)
        rc = imssec_secagree_pcscf_negotiate(client, nc, &pol, ue.nat, server, 16, &ns, &ch2, &rej);
    if (rc == IMSSEC_OK)
        rc = imssec_secagree_build(server, ns, ue.sec_server, sizeof ue.sec_server - 1, &sl);
    if (rc != IMSSEC_OK || ch2.index != ue.choice.index) {
        verify(0, "pcscf-negotiate", "Security-Server: %s", imssec_strerror(rc));
        return;
    }
    ue.sec_server[sl] = '\0';
    snprintf(extra, sizeof extra, "Security-Server: %s\r\nRequire: sec-agree\r\n", ue.sec_server);
    copy_response(&b, m, www, extra);
    to_ue(o.protect_with, &b);
    (void)t;
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
    copy_response(&b, m, NULL, NULL);
    if (ue.dereg && m->status == 200) {
        /* De-registration: the final response goes over the SAs, then sa/
         * deletes all of them (7.4.2a, 7.5). */
        reply_to_ue(t->in_ref, &b);
        sa_ev(IMSSEC_SA_EV_DEREG_DONE, &a, NULL, "de-registered");
        ue.registered = 0;
        verify(ex_sa_count(&ipsec, 0) == 0 && imssec_sa_count(&sat, UINT32_MAX) == 0,
               "pcscf-dereg",
               "final response sent over the SAs, then every SA deleted (data plane %d, sa/ %u)",
               ex_sa_count(&ipsec, 0), (unsigned)imssec_sa_count(&sat, UINT32_MAX));
        ue.done = 1;
        return;
    }
    if (m->status == 200) {
        /* SM12: sa/ picks the new outbound SA; the new set becomes current
         * and the set SM1 came on is kept for its transactions (7.4.2a). */
        sip_str e;
        char eb[16];
        a.expires_s = 600;
        if (sip_get(m, "Contact", 0, &e) && sip_param(e, "expires", &e))
            a.expires_s = (uint32_t)strtoul(sip_cstr(e, eb, sizeof eb), NULL, 10);
        if (sa_ev(IMSSEC_SA_EV_SUCCESS, &a, &o, "SM12 sent: superseded (7.4.2a)") != IMSSEC_OK)
            return;
        to_ue(o.protect_with, &b);
        ue.registered = 1;
        return;
    }
    /* A failure response (403 after a failed authentication): sa/ deletes
     * the new SAs and says how to protect the response (7.3, 7.4.2a). */
    a.kind = m->status == 403 ? IMSSEC_SA_KIND_USER_AUTH : IMSSEC_SA_KIND_OTHER;
    if (sa_ev(IMSSEC_SA_EV_FAILURE, &a, &o, "registration failed (7.3)") != IMSSEC_OK)
        return;
    to_ue(o.protect_with, &b);
    if (!ue.registered) {
        verify(ex_sa_count(&ipsec, 0) == 0 && imssec_sa_count(&sat, UINT32_MAX) == 0,
               "pcscf-refused", "registration refused (%d): no SA left", m->status);
        ue.done = 1;
    }
}

/* ---- other traffic --------------------------------------------------------- */

/* A request from the S-CSCF to the UE (MESSAGE): sa/ routes it (7.4.2a:
 * the old SAs until the UE has shown it uses the new ones). */
static void relay_request_to_ue(const sip_msg *m)
{
    sip_buf b;
    char branch[32], h[72];
    int i, first_route = 1;
    imssec_sa_ref ref;
    ex_sa *out;
    ptx *t;
    if (!ue.have_user || imssec_sa_route(&sat, ue.user, 1, 0, &ref) != IMSSEC_OK ||
        !(out = ex_sa_by_ref(&ipsec, ref))) {
        sip_buf r;
        sip_b_response(&r, m, 404, "Not Found", "pcscf");
        sip_b_end(&r, NULL, 0);
        to_scscf(&r);
        return;
    }
    strcpy(branch, "z9hG4bK");
    sip_token(branch + 7, 16);
    sip_b_init(&b);
    sip_b_add(&b, "%.*s %.*s SIP/2.0\r\n", (int)m->method.n, m->method.p, (int)m->uri.n,
              m->uri.p);
    sip_b_add(&b, "Via: SIP/2.0/UDP %s:%u;branch=%s\r\n", host_fmt(my_ip, h), out->lport, branch);
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
        t->out_ref = ref;
        imssec_sa_txn_begin(&sat, ref);
    }
    to_ue(ref, &b);
}

/* A response from the UE to a request we relayed from the S-CSCF. */
static void relay_response_to_scscf(const sip_msg *m, ptx *t, const ex_sa *on)
{
    sip_buf b;
    ex_sa *out = ex_sa_by_ref(&ipsec, t->out_ref);
    char name[80];
    /* Clause 7.1: the response comes on the inbound SA of the set the
     * request went out on, from port_us to port_pc. */
    verify(out && on->gen == out->gen && on->lport == out->lport, "pcscf-response-sa",
           "%d arrived on %s, the set its request used", m->status,
           ex_sa_name(on, name, sizeof name));
    copy_response(&b, m, NULL, NULL);
    tx_done(t);
    to_scscf(&b);
}

/* Something arrived over ESP from the UE. */
static void on_protected(const sip_msg *m, const char *raw, size_t rawn, ex_sa *on,
                         unsigned isport, unsigned idport, const char *src_ip)
{
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    char first[128], name[80];
    int before, rc;
    uint32_t owner;
    ladder("==> %-40s %s", sip_first_line(raw, rawn, first, sizeof first),
           ex_sa_name(on, name, sizeof name));
    if (idport != on->lport || isport != on->rport) {
        verify(0, "pcscf-ports", "inner ports %u->%u do not match the SA (%u->%u)", isport,
               idport, on->rport, on->lport);
        return;
    }
    /* 7.1 rule 4: the SA belongs to this user. */
    if (imssec_sa_owner(&sat, on->ref, &owner) != IMSSEC_OK || owner != ue.user) {
        ladder("packet on an SA of another user dropped");
        return;
    }
    memset(&a, 0, sizeof a);
    a.arrived_on = on->ref;
    addr_of(src_ip, &a.ue_ip);
    addr_of(my_ip, &a.pcscf_ip);
    if (m->is_request && sip_eq(m->method, "REGISTER")) {
        sip_str e, v;
        imssec_sec_via via;
        char eb[16], host[64];
        int expires = -1, st = imssec_sa_state(&sat, ue.user);
        if (sip_get(m, "Expires", 0, &e))
            expires = atoi(sip_cstr(e, eb, sizeof eb));
        if (!sip_get(m, "Via", 0, &v) || imssec_secagree_via_parse(v.p, v.n, &via) != IMSSEC_OK)
            return;
        snprintf(host, sizeof host, "%.*s", (int)via.host_len, via.host);
        addr_of(host, &a.via_ip);
        if (st == IMSSEC_SA_ST_AUTH_UNPROT || st == IMSSEC_SA_ST_AUTH_PROT) {
            /* SM7: Security-Verify must equal what we sent, Security-Client
             * the one of SM1 (7.2, Annex H); sa/ checks the SA (rule 4)
             * and the Via address (rule 2). */
            imssec_sec_mech x[16], y[16];
            size_t nx, ny;
            const char *why = NULL;
            char copy[2048];
            int ok = parse_sec(m, "Security-Verify", x, 16, &nx, copy, sizeof copy) == IMSSEC_OK &&
                     imssec_secagree_parse(ue.sec_server, strlen(ue.sec_server), y, 16, &ny,
                                           NULL) == IMSSEC_OK &&
                     imssec_secagree_equal(x, nx, y, ny, &why, NULL);
            verify(ok, "pcscf-security-verify", "%s",
                   ok ? "Security-Verify equals the Security-Server sent" : (why ? why : "absent"));
            if (ok) {
                ok = parse_sec(m, "Security-Client", x, 16, &nx, copy, sizeof copy) == IMSSEC_OK &&
                     imssec_secagree_parse(ue.sec_client, strlen(ue.sec_client), y, 16, &ny,
                                           NULL) == IMSSEC_OK &&
                     imssec_secagree_equal(x, nx, y, ny, &why, NULL);
                verify(ok, "pcscf-security-client", "%s",
                       ok ? "Security-Client equals the one of SM1 (Annex H)"
                          : (why ? why : "absent"));
            }
            if (!ok)
                return; /* the registration times out; sa/ cleans up on TIMEOUT */
            rc = sa_ev(IMSSEC_SA_EV_AUTH_RECV, &a, &o, NULL);
            if (!verify(rc == IMSSEC_OK, "pcscf-protected-register",
                        "SM7 arrived on %s, the new inbound SA; integrity-protected=%s",
                        ex_sa_name(on, name, sizeof name), o.integrity_protected ? "yes" : "no"))
                return;
            forward_to_scscf(m, o.integrity_protected ? "yes" : "no", on->ref, 1);
            return;
        }
        if (expires == 0) {
            if (sa_ev(IMSSEC_SA_EV_DEREG_RECV, &a, &o, NULL) != IMSSEC_OK)
                return;
            ue.dereg = 1;
            forward_to_scscf(m, "yes", on->ref, 1);
            return;
        }
        /* A re-registration: SM1 over the current SAs (7.4). */
        on_register_sm1(m, src_ip, 0, on);
        return;
    }
    /* Any other message: sa/ accepts it only on the current or old SAs
     * (7.4.2a) and, on the new ones, switches over and retires the old. */
    before = ex_sa_count(&ipsec, 0);
    if (sa_ev(IMSSEC_SA_EV_MSG_IN, &a, NULL, "a message arrived on the new SAs (7.4.2a)") !=
        IMSSEC_OK)
        return;
    if (ex_sa_count(&ipsec, 0) < before)
        verify(ex_sa_count(&ipsec, 0) == 4 && imssec_sa_count(&sat, UINT32_MAX) == 4,
               "pcscf-switch-over", "a message on the new SAs: the old set was deleted, %d SAs "
               "left", ex_sa_count(&ipsec, 0));
    if (!m->is_request) {
        ptx *t = tx_find(m);
        if (!t || t->from_ue) {
            ladder("response for an unknown transaction dropped");
            return;
        }
        relay_response_to_scscf(m, t, on);
        return;
    }
    forward_to_scscf(m, NULL, on->ref, 0);
}

int main(int argc, char **argv)
{
    const char *pcap = arg_str(argc, argv, "pcap", NULL), *esp_sa = arg_str(argc, argv, "esp-sa", NULL);
    const char *pol_text, *conf;
    static uint8_t buf[SIP_MAX_MSG + 1];
    static char sip[SIP_MAX_MSG + 1];
    char hb[72];
    char polcopy[256], *tok, *save = NULL;
    uint64_t deadline;
    int fds[3];

    ladder_role("P-CSCF");
    arg_check(argc, argv, known, usage);
    snprintf(my_ip, sizeof my_ip, "%s", arg_str(argc, argv, "ip", "127.0.0.1"));
    snprintf(scscf_ip, sizeof scscf_ip, "%s", arg_str(argc, argv, "scscf-ip", "127.0.0.1"));
    my_port = (unsigned)arg_num(argc, argv, "port", 5060);
    core_port = (unsigned)arg_num(argc, argv, "core-port", 6060);
    scscf_port = (unsigned)arg_num(argc, argv, "scscf-port", 5070);
    pol_text = arg_str(argc, argv, "policy",
                       "hmac-sha-1-96/aes-cbc,hmac-sha-1-96/des-ede3-cbc,hmac-md5-96/aes-cbc,"
                       "hmac-md5-96/des-ede3-cbc,hmac-sha-1-96/null,hmac-md5-96/null");
    snprintf(polcopy, sizeof polcopy, "%s", pol_text);
    for (tok = strtok_r(polcopy, ",", &save); tok && n_policy < 8; tok = strtok_r(NULL, ",", &save)) {
        if (ex_pair_parse(tok, &policy_pairs[n_policy]) != 0) {
            fprintf(stderr, "pcscf: --policy: unknown pair '%s'\n", tok);
            return 2;
        }
        n_policy++;
    }
    conf = arg_str(argc, argv, "confidentiality", "supported");
    confidentiality = strcmp(conf, "required") == 0 ? IMSSEC_CONF_REQUIRED
                      : strcmp(conf, "never") == 0  ? IMSSEC_CONF_NEVER
                                                    : IMSSEC_CONF_SUPPORTED;
    if (pcap)
        pcap_open(pcap);
    ufd = net_udp(my_ip, my_port);
    cfd = net_udp(my_ip, core_port);
    memset(&ipsec, 0, sizeof ipsec);
    if (arg_flag(argc, argv, "transport")) {
        /* Transport mode (clause 6.3): ESP straight over IP. */
        efd = net_raw_esp(my_ip);
        ipsec.transport = 1;
    } else {
        efd = net_udp(my_ip, (unsigned)arg_num(argc, argv, "encap-port", 4500));
        ipsec.encap_local = net_port(efd);
    }
    ipsec.io = &io;
    ipsec.fd = efd;
    ipsec.role = "P-CSCF";
    {
        /* sa/: the P-CSCF state machine and its SA table (room for a few
         * users), esp/ behind it through the callbacks (ipsec.c). */
        imssec_sa_config cfg;
        int rc;
        imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
        sacb.user = &ipsec;
        sacb.install = ex_cb_install;
        sacb.update = ex_cb_update;
        sacb.remove = ex_cb_remove;
        rc = imssec_sa_table_setup(&sat, &cfg, &sacb, &io, 4, 12, sa_mem, sizeof sa_mem);
        if (rc != IMSSEC_OK) {
            fprintf(stderr, "pcscf: sa/ table (%u bytes needed): %s\n",
                    (unsigned)imssec_sa_table_mem(4, 12), imssec_strerror(rc));
            return 2;
        }
    }
    snprintf(ipsec.outer_local, sizeof ipsec.outer_local, "%s", my_ip);
    snprintf(ipsec.inner_local, sizeof ipsec.inner_local, "%s", my_ip);
    if (esp_sa) {
        ipsec.esp_sa_file = fopen(esp_sa, "a");
        if (!ipsec.esp_sa_file) {
            perror(esp_sa);
            return 2;
        }
    }
    if (ipsec.transport)
        ladder("P-CSCF ready: SIP %s:%u (unprotected: REGISTER only), ESP (IP protocol 50), "
               "core :%u, policy %s", host_fmt(my_ip, hb), my_port, core_port, pol_text);
    else
        ladder("P-CSCF ready: SIP %s:%u (unprotected: REGISTER only), ESP-in-UDP :%u, core :%u, "
               "policy %s", host_fmt(my_ip, hb), my_port, ipsec.encap_local, core_port, pol_text);
    fds[0] = ufd;
    fds[1] = efd;
    fds[2] = cfd;
    deadline = net_now_ms() + arg_num(argc, argv, "timeout-ms", 30000);

    while (!ue.done) {
        size_t n;
        char src[64];
        unsigned sport;
        sip_msg m;
        uint64_t now = net_now_ms();
        int which;
        if (now >= deadline) {
            verify(0, "pcscf", "timed out waiting for the flow to finish");
            break;
        }
        which = net_recv(fds, 3, (int)(deadline - now), buf, sizeof buf - 1, &n, src, &sport);
        if (which < 0)
            continue;
        if (which == 1) {
            ex_sa *on;
            size_t sl;
            unsigned is, id;
            int rc;
            if (!ipsec.transport && ue.ue_ip[0] &&
                (strcmp(src, ipsec.outer_peer) != 0 || sport != ipsec.encap_peer)) {
                /* M.7.2: port_Uenc is learnt from the protected packets. */
                snprintf(ipsec.outer_peer, sizeof ipsec.outer_peer, "%s", src);
                ipsec.encap_peer = sport;
            }
            rc = ex_recv(&ipsec, buf, n, src, sport, &on, sip, sizeof sip, &sl, &is, &id);
            if (rc == IMSSEC_E_NOT_ESP)
                continue; /* NAT keepalive */
            if (rc != IMSSEC_OK) {
                if (rc == IMSSEC_E_REPLAY)
                    verify(1, "pcscf-replay-dropped",
                           "a replayed ESP packet was dropped by esp/'s anti-replay window");
                else
                    ladder("ESP packet from %s:%u dropped: %s", src, sport, imssec_strerror(rc));
                continue;
            }
            if (sip_parse(&m, sip, sl) != 0) {
                ladder("protected packet is not SIP: dropped");
                continue;
            }
            if (!ipsec.transport)
                imssec_sa_learn_uenc(&sat, on->ref, (uint16_t)sport);
            on_protected(&m, sip, sl, on, is, id, src);
        } else if (which == 0) {
            char first[128], hbuf[72];
            buf[n] = '\0';
            if (sip_parse(&m, (const char *)buf, n) != 0 || !m.is_request)
                continue;
            if (!sip_eq(m.method, "REGISTER")) {
                /* Clause 7.1: only REGISTER on the unprotected port. */
                verify(1, "pcscf-unprotected-dropped",
                       "unprotected %.*s dropped: only REGISTER on the unprotected port "
                       "(clause 7.1)", (int)m.method.n, m.method.p);
                continue;
            }
            ladder("--> %-40s unprotected from %s:%u",
                   sip_first_line(buf, n, first, sizeof first), host_fmt(src, hbuf), sport);
            if (find_user(&m) != 0)
                continue;
            snprintf(ipsec.outer_peer, sizeof ipsec.outer_peer, "%s", src);
            ipsec.encap_peer = sport; /* the NAT binding; updated by ESP */
            on_register_sm1(&m, src, sport, NULL);
        } else {
            buf[n] = '\0';
            if (sip_parse(&m, (const char *)buf, n) != 0)
                continue;
            if (m.is_request) {
                relay_request_to_ue(&m);
            } else {
                ptx *t = tx_find(&m);
                if (!t || !t->from_ue)
                    continue;
                if (t->is_register) {
                    on_register_response(&m, t);
                } else {
                    sip_buf b;
                    copy_response(&b, &m, NULL, NULL);
                    reply_to_ue(t->in_ref, &b);
                }
                if (m.status >= 200)
                    tx_done(t);
            }
        }
    }
    ipsec.why = "P-CSCF exits";
    imssec_sa_table_wipe(&sat);
    if (ipsec.esp_sa_file)
        fclose(ipsec.esp_sa_file);
    ladder("exit (%d failures)", verify_failures());
    return verify_failures() ? 1 : 0;
}
