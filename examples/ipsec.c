/*
 * ipsec.c -- see ipsec.h.  Uses only imssec.h (esp/ and secagree/) and the
 * helpers of sip.h.
 */
#include "ipsec.h"
#include "sip.h"

#include <arpa/inet.h>
#include <string.h>

static int ex_addr(const char *text, imssec_esp_addr *a)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET6, text, a->a) == 1)
        a->family = 6;
    else if (inet_pton(AF_INET, text, a->a) == 1)
        a->family = 4;
    else
        return -1;
    return 0;
}

/* Length of the outer IP + UDP headers of an ESP-in-UDP packet. */
static size_t ex_outer_len(const uint8_t *pkt)
{
    return (pkt[0] >> 4) == 6 ? 48 : 28;
}

/* Wireshark's names (Edit > Preferences > Protocols > ESP > SAs). */
static void ex_wireshark_line(ex_ipsec *x, ex_sa *s)
{
    static const char *const enc_name[] = {"NULL", "TripleDES-CBC [RFC2451]",
                                            "AES-CBC [RFC3602]"};
    static const char *const auth_name[] = {"NULL", "HMAC-MD5-96 [RFC2403]",
                                             "HMAC-SHA-1-96 [RFC2404]"};
    char ik_hex[2 * IMSSEC_ESP_AUTH_KEY_MAX + 1], ck_hex[2 * IMSSEC_ESP_ENC_KEY_MAX + 1];
    if (x->esp_sa_file && !s->logged) {
        hex_encode(s->ik_esp, s->ik_len, ik_hex);
        hex_encode(s->ck_esp, s->ck_len, ck_hex);
        fprintf(x->esp_sa_file,
                "\"%s\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"%s%s\",\"%s\",\"0x%s\"\n",
                strchr(x->outer_local, ':') ? "IPv6" : "IPv4", x->outer_local, x->outer_peer, (unsigned)s->spi, enc_name[s->enc],
                s->ck_len ? "0x" : "", ck_hex, auth_name[s->auth], ik_hex);
        fflush(x->esp_sa_file);
        imssec_wipe(ik_hex, sizeof ik_hex);
        imssec_wipe(ck_hex, sizeof ck_hex);
    }
    s->logged = 1;
    imssec_wipe(s->ik_esp, sizeof s->ik_esp);
    imssec_wipe(s->ck_esp, sizeof s->ck_esp);
}

/* One esp/ SA from already expanded keys (IK_ESP, CK_ESP). */
static ex_sa *ex_sa_add_esp(ex_ipsec *x, int gen, int dir, uint32_t spi, unsigned lport,
                            unsigned rport, int auth, int enc, const uint8_t *ik_esp,
                            size_t ik_len, const uint8_t *ck_esp, size_t ck_len)
{
    imssec_esp_params p;
    int i, rc;
    ex_sa *s = NULL;

    for (i = 0; i < EX_MAX_SA; i++)
        if (!x->sa[i].used) {
            s = &x->sa[i];
            break;
        }
    if (!s || auth < 0 || enc < 0 || ik_len > IMSSEC_ESP_AUTH_KEY_MAX ||
        ck_len > IMSSEC_ESP_ENC_KEY_MAX) {
        ladder("cannot add SA spi=%u: %s", (unsigned)spi, s ? "algorithm" : "table full");
        return NULL;
    }
    imssec_esp_params_init(&p);
    p.spi = spi;
    p.dir = dir;
    /* Annex M when the UE is behind a NAT, else clause 6.3 transport. */
    p.mode = x->transport ? IMSSEC_ESP_TRANSPORT : IMSSEC_ESP_UDP_TUNNEL;
    p.auth = auth;
    p.enc = enc;
    p.auth_key = ik_esp;
    p.auth_key_len = ik_len;
    p.enc_key = ck_esp;
    p.enc_key_len = ck_len;
    if (dir == IMSSEC_ESP_OUTBOUND) {
        ex_addr(x->outer_local, &p.src);
        ex_addr(x->outer_peer, &p.dst);
        p.sport = (uint16_t)x->encap_local;
        p.dport = (uint16_t)x->encap_peer;
    } else {
        ex_addr(x->outer_peer, &p.src);
        ex_addr(x->outer_local, &p.dst);
        p.sport = (uint16_t)x->encap_peer;
        p.dport = (uint16_t)x->encap_local;
    }
    rc = imssec_esp_sa_setup(&s->esp, &p);
    if (rc != IMSSEC_OK) {
        ladder("imssec_esp_sa_setup: %s", imssec_strerror(rc));
        return NULL;
    }
    s->used = 1;
    s->gen = gen;
    s->dir = dir;
    s->spi = spi;
    s->lport = lport;
    s->rport = rport;
    s->logged = dir != IMSSEC_ESP_OUTBOUND || !x->esp_sa_file;
    if (!s->logged) {
        s->auth = auth;
        s->enc = enc;
        memcpy(s->ik_esp, ik_esp, ik_len);
        s->ik_len = ik_len;
        memcpy(s->ck_esp, ck_esp, ck_len);
        s->ck_len = ck_len;
    }
    ladder("    SA+ %s spi=0x%08x  %s %u -> %u  (set %d, %s)",
           dir == IMSSEC_ESP_OUTBOUND ? "out" : "in ", (unsigned)spi,
           dir == IMSSEC_ESP_OUTBOUND ? "port" : "port", dir == IMSSEC_ESP_OUTBOUND ? lport : rport,
           dir == IMSSEC_ESP_OUTBOUND ? rport : lport, gen,
           x->transport ? "transport" : "UDP-enc-tun");
    return s;
}

/* ---- the sa/ data-plane callbacks ----------------------------------------- */

int ex_cb_install(void *user, const imssec_sa_info *in, uint64_t *handle)
{
    ex_ipsec *x = user;
    int auth, enc, dir = in->inbound ? IMSSEC_ESP_INBOUND : IMSSEC_ESP_OUTBOUND;
    unsigned lport = in->inbound ? in->dport : in->sport, rport = in->inbound ? in->sport : in->dport;
    ex_sa *s;
    /* sa/ and esp/ number the algorithms alike, but say so explicitly. */
    auth = in->alg == IMSSEC_SA_ALG_HMAC_MD5_96    ? IMSSEC_ESP_AUTH_HMAC_MD5_96
           : in->alg == IMSSEC_SA_ALG_HMAC_SHA1_96 ? IMSSEC_ESP_AUTH_HMAC_SHA1_96
                                                   : -1;
    enc = in->ealg == IMSSEC_SA_EALG_NULL           ? IMSSEC_ESP_ENC_NULL
          : in->ealg == IMSSEC_SA_EALG_DES_EDE3_CBC ? IMSSEC_ESP_ENC_DES_EDE3_CBC
          : in->ealg == IMSSEC_SA_EALG_AES_CBC      ? IMSSEC_ESP_ENC_AES_CBC
                                                    : -1;
    if ((in->mode == IMSSEC_SA_MODE_TRANS) != (x->transport != 0)) {
        ladder("install: sa/ wants %s mode, this data plane runs the other one",
               in->mode == IMSSEC_SA_MODE_TRANS ? "transport" : "UDP-enc-tun");
        return -1;
    }
    s = ex_sa_add_esp(x, x->installs / 4 + 1, dir, in->spi, lport, rport, auth, enc, in->ik,
                      in->ik_len, in->ck, in->ck_len);
    if (!s)
        return -1;
    x->installs++;
    s->ref = in->ref;
    *handle = (uint64_t)(s - x->sa);
    return 0;
}

int ex_cb_update(void *user, const imssec_sa_info *in)
{
    (void)user;
    /* M.7.2: the P-CSCF learnt the UE's NAT port from the first protected
     * packet.  This data plane already sends to the address and port the
     * packets come from (pcscf.c), so there is nothing to change. */
    ladder("    SA~ %s spi=0x%08x  UDP encapsulation %u -> %u (port_Uenc learnt)",
           in->inbound ? "in " : "out", (unsigned)in->spi, in->encap_sport, in->encap_dport);
    return 0;
}

int ex_cb_remove(void *user, const imssec_sa_info *in)
{
    ex_ipsec *x = user;
    ex_sa *s = ex_sa_by_ref(x, in->ref);
    if (!s)
        return -1;
    ladder("    SA- %s spi=0x%08x  (set %d: %s)", s->dir == IMSSEC_ESP_OUTBOUND ? "out" : "in ",
           (unsigned)s->spi, s->gen, x->why ? x->why : "deleted by sa/");
    imssec_esp_sa_wipe(&s->esp);
    imssec_wipe(s, sizeof *s);
    return 0;
}

ex_sa *ex_sa_by_ref(ex_ipsec *x, imssec_sa_ref ref)
{
    int i;
    for (i = 0; i < EX_MAX_SA; i++)
        if (x->sa[i].used && ref && x->sa[i].ref == ref)
            return &x->sa[i];
    return NULL;
}

const char *ex_sa_name(const ex_sa *s, char *buf, size_t cap)
{
    if (!s)
        snprintf(buf, cap, "unprotected");
    else
        snprintf(buf, cap, "spi=0x%08x (set %d, %u->%u)", (unsigned)s->spi, s->gen,
                 s->dir == IMSSEC_ESP_OUTBOUND ? s->lport : s->rport,
                 s->dir == IMSSEC_ESP_OUTBOUND ? s->rport : s->lport);
    return buf;
}

int ex_sa_count(const ex_ipsec *x, int gen)
{
    int i, n = 0;
    for (i = 0; i < EX_MAX_SA; i++)
        n += x->sa[i].used && (gen == 0 || x->sa[i].gen == gen);
    return n;
}

ex_sa *ex_sa_by_spi(ex_ipsec *x, uint32_t spi)
{
    int i;
    for (i = 0; i < EX_MAX_SA; i++)
        if (x->sa[i].used && x->sa[i].dir == IMSSEC_ESP_INBOUND && x->sa[i].spi == spi)
            return &x->sa[i];
    return NULL;
}

int ex_send(ex_ipsec *x, ex_sa *sa, const char *sip, size_t n)
{
    static uint8_t inner[SIP_MAX_MSG + 64], outer[SIP_MAX_MSG + 64 + IMSSEC_ESP_OVERHEAD_MAX];
    size_t in_len, out_len;
    int rc;
    in_len = ip_udp_build(inner, sizeof inner, x->inner_local, sa->lport, x->inner_peer,
                           sa->rport, sip, n);
    if (!in_len)
        return IMSSEC_E_SPACE;
    rc = imssec_esp_protect(&sa->esp, x->io, NULL, inner, in_len, outer, sizeof outer, &out_len);
    if (rc != IMSSEC_OK)
        return rc;
    if (out_len < ex_outer_len(outer))
        return IMSSEC_E_MALFORMED;
    if (!sa->logged)
        ex_wireshark_line(x, sa);
    pcap_ip(outer, out_len); /* what is on the wire */
    if (out_len <= sizeof x->last) {
        memcpy(x->last, outer, out_len);
        x->last_len = out_len;
    }
    if (x->transport)
        net_send_raw(x->fd, x->outer_peer, outer, out_len); /* IP(50), ESP */
    else /* IP, UDP 4500, ESP: the socket adds the IP and UDP headers */
        net_send_quiet(x->fd, x->outer_peer, x->encap_peer, outer + ex_outer_len(outer),
                       out_len - ex_outer_len(outer));
    return IMSSEC_OK;
}

void ex_replay_last(ex_ipsec *x)
{
    if (!x->last_len)
        return;
    pcap_ip(x->last, x->last_len);
    if (x->transport)
        net_send_raw(x->fd, x->outer_peer, x->last, x->last_len);
    else
        net_send_quiet(x->fd, x->outer_peer, x->encap_peer, x->last + ex_outer_len(x->last),
                       x->last_len - ex_outer_len(x->last));
}

int ex_recv(ex_ipsec *x, const uint8_t *data, size_t n, const char *src_ip, unsigned src_port,
            ex_sa **which, char *sip, size_t cap, size_t *sip_len, unsigned *inner_sport,
            unsigned *inner_dport)
{
    static uint8_t pkt[SIP_MAX_MSG + 256], plain[SIP_MAX_MSG + 256];
    size_t len, plen, off, ulen;
    uint32_t spi;
    int kind, rc;
    ex_sa *sa;
    char s_ip[64], d_ip[64];
    const uint8_t *payload;

    if (x->transport && strchr(x->outer_local, ':')) {
        /* An IPv6 raw socket gives what follows the IPv6 header: put the
         * header back (next header 50, the addresses of the packet). */
        (void)src_port;
        if (n < 8 || n + 40 > sizeof pkt || n > 65535)
            return IMSSEC_E_MALFORMED;
        memset(pkt, 0, 40);
        pkt[0] = 0x60;
        pkt[4] = (uint8_t)(n >> 8);
        pkt[5] = (uint8_t)n;
        pkt[6] = 50;
        pkt[7] = 64;
        if (inet_pton(AF_INET6, src_ip, pkt + 8) != 1 ||
            inet_pton(AF_INET6, x->outer_local, pkt + 24) != 1)
            return IMSSEC_E_MALFORMED;
        memcpy(pkt + 40, data, n);
        len = n + 40;
        spi = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    } else if (x->transport) {
        /* A raw socket gives the whole IPv4 packet: header, then ESP. */
        size_t ihl;
        (void)src_port;
        if (n < 28 || n > sizeof pkt || (data[0] >> 4) != 4 || data[9] != 50)
            return IMSSEC_E_MALFORMED;
        ihl = (size_t)(data[0] & 15) * 4;
        if (ihl < 20 || n < ihl + 8)
            return IMSSEC_E_MALFORMED;
        memcpy(pkt, data, n);
        len = n;
        spi = (uint32_t)data[ihl] << 24 | (uint32_t)data[ihl + 1] << 16 |
              (uint32_t)data[ihl + 2] << 8 | data[ihl + 3];
    } else {
        /* The socket gave us the UDP payload; esp/ works on whole IP
         * packets, so put back the outer IP/UDP header the kernel
         * removed. */
        len = ip_udp_build(pkt, sizeof pkt, src_ip, src_port, x->outer_local, x->encap_local,
                            data, n);
        if (!len)
            return IMSSEC_E_MALFORMED;
        rc = imssec_esp_udp_demux(pkt + ex_outer_len(pkt) - 8, len - (ex_outer_len(pkt) - 8),
                                  &kind, &spi, &off);
        if (rc != IMSSEC_OK)
            return rc;
        if (kind != IMSSEC_UDP_ESP)
            return IMSSEC_E_NOT_ESP;
    }
    sa = ex_sa_by_spi(x, spi);
    if (!sa)
        return IMSSEC_E_NO_SA;
    rc = imssec_esp_unprotect(&sa->esp, pkt, len, plain, sizeof plain, &plen, NULL);
    if (rc != IMSSEC_OK)
        return rc;
    if (ip_udp_parse(plain, plen, s_ip, inner_sport, d_ip, inner_dport, &payload, &ulen) != 0 ||
        ulen >= cap)
        return IMSSEC_E_MALFORMED;
    memcpy(sip, payload, ulen);
    sip[ulen] = '\0';
    *sip_len = ulen;
    *which = sa;
    return IMSSEC_OK;
}

int ex_pair_parse(const char *text, imssec_sec_pair *p)
{
    static const char *const algs[] = {"hmac-md5-96", "hmac-sha-1-96"};
    static const int alg_v[] = {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_ALG_HMAC_SHA1_96};
    static const char *const ealgs[] = {"null", "des-ede3-cbc", "aes-cbc"};
    static const int ealg_v[] = {IMSSEC_EALG_NULL, IMSSEC_EALG_DES_EDE3_CBC, IMSSEC_EALG_AES_CBC};
    const char *slash = strchr(text, '/');
    size_t i, al = slash ? (size_t)(slash - text) : strlen(text);
    p->alg = p->ealg = -1;
    for (i = 0; i < 2; i++)
        if (strlen(algs[i]) == al && strncmp(text, algs[i], al) == 0)
            p->alg = alg_v[i];
    if (!slash)
        p->ealg = IMSSEC_EALG_NULL;
    else
        for (i = 0; i < 3; i++)
            if (strcmp(slash + 1, ealgs[i]) == 0)
                p->ealg = ealg_v[i];
    return p->alg < 0 || p->ealg < 0 ? -1 : 0;
}

const char *ex_pair_name(int alg, int ealg, char *buf, size_t cap)
{
    const char *a = imssec_secagree_alg_name(alg), *e = imssec_secagree_ealg_name(ealg);
    snprintf(buf, cap, "%s/%s", a ? a : "?", e ? e : "null");
    return buf;
}
