/*
 * xfrm/imssec_xfrm.c -- the Linux XFRM data plane behind imssec_sa_callbacks
 * (see imssec_xfrm.h for what is installed and why).  Plain uapi netlink:
 * a request is one nlmsghdr + struct + attributes (<linux/netlink.h>,
 * <linux/xfrm.h>), sent to the kernel (port id 0) with a fresh sequence
 * number and NLM_F_ACK; the answer is matched by (sequence number, our port
 * id).  Nothing here allocates; the only buffers are the request on the
 * stack (wiped: it holds keys) and imssec_xfrm.buf_ for the answers (wiped
 * after every exchange: a GETSA answer holds keys too).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <netinet/in.h> /* before the uapi headers: glibc's in6_addr wins (libc-compat.h) */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>

#include "imssec_xfrm.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif
#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif
#ifndef UDP_ENCAP_ESPINUDP
#define UDP_ENCAP_ESPINUDP 2
#endif

/* The netlink framing (<linux/netlink.h> NLMSG_* / NLA_*, as unsigned
 * size_t arithmetic): messages and attributes are 4-byte aligned; a
 * nlmsghdr is 16 bytes, an nlattr header 4. */
#define XF_ALIGN4(n) (((size_t)(n) + 3u) & ~(size_t)3u)
#define XF_NLMSG_HDR XF_ALIGN4(sizeof(struct nlmsghdr))
#define XF_NLA_HDR XF_ALIGN4(sizeof(struct nlattr))
#define XF_DATA(h) ((const void *)((const uint8_t *)(h) + XF_NLMSG_HDR))
#define XF_LEN(n) ((size_t)(n) + XF_NLMSG_HDR) /* NLMSG_LENGTH */

/* NLMSG_OK / NLMSG_NEXT over a received buffer (4-byte aligned). */
static int xf_ok(const struct nlmsghdr *h, size_t left)
{
    return left >= sizeof *h && h->nlmsg_len >= sizeof *h && h->nlmsg_len <= left;
}

static const struct nlmsghdr *xf_next(const struct nlmsghdr *h, size_t *left)
{
    size_t step = XF_ALIGN4(h->nlmsg_len);
    if (step > *left)
        step = *left;
    *left -= step;
    return (const struct nlmsghdr *)(const void *)((const uint8_t *)h + step);
}

#define XF_ENCAP_PORT 4500 /* RFC 3948 / TS 33.203 M.7.1 */
#define XF_BATCH 32        /* entries collected per dump round (flush, refresh) */

/* ---- small helpers ---------------------------------------------------------- */

static void xf_wipe(void *p, size_t n)
{
    imssec_wipe(p, n);
}

static int xf_fail(imssec_errinfo *err, int code, const char *what, int sys)
{
    if (err) {
        err->code = code;
        err->what = what;
        err->sys_errno = sys;
    }
    return code;
}

/* An argument or usage error of a public entry point (errinfo fully set). */
static int xf_fail_param(imssec_errinfo *err, int code, const char *param, const char *what)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = code;
        err->what = what;
        err->param = param;
        err->state = -1;
        err->event = -1;
    }
    return code;
}

static int xf_family(const imssec_addr *a)
{
    return a->len == 4 ? AF_INET : a->len == 16 ? AF_INET6 : 0;
}

static void xf_addr_to(xfrm_address_t *k, const imssec_addr *a)
{
    memset(k, 0, sizeof *k);
    memcpy(k, a->b, a->len);
}

static void xf_addr_from(imssec_addr *a, const xfrm_address_t *k, int family)
{
    memset(a, 0, sizeof *a);
    a->len = (uint8_t)(family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0);
    memcpy(a->b, k, a->len);
}

static uint64_t xf_now_ms(const imssec_xfrm *x)
{
    struct timespec ts;
    if (x->clock_ms)
        return x->clock_ms(x->clock_user);
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The kernel's add_time is wall-clock seconds (ktime_get_real_seconds). */
static uint64_t xf_wall_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec;
}

/* ---- names: TS 33.203 algorithms -> Linux crypto API names ------------------ */

IMSSEC_API int imssec_xfrm_alg_names(int alg, int ealg, const char **auth, const char **enc)
{
    const char *a = NULL, *e = NULL;
    if (ealg == IMSSEC_EALG_AES_GCM) {
        /* RFC 4106: the AEAD authenticates itself; alg must be NULL */
        if (alg != IMSSEC_ALG_NULL)
            return IMSSEC_E_UNSUPPORTED;
        e = "rfc4106(gcm(aes))";
    } else if (alg == IMSSEC_ALG_AES_GMAC) {
        /* RFC 4543 (ENCR_NULL_AUTH_AES_GMAC): integrity only */
        if (ealg != IMSSEC_EALG_NULL)
            return IMSSEC_E_UNSUPPORTED;
        e = "rfc4543(gcm(aes))";
    } else {
        switch (alg) {
        case IMSSEC_ALG_HMAC_MD5_96: a = "hmac(md5)"; break;   /* RFC 2403 */
        case IMSSEC_ALG_HMAC_SHA1_96: a = "hmac(sha1)"; break; /* RFC 2404 */
        default: return IMSSEC_E_UNSUPPORTED; /* NULL integrity without GCM: never negotiated */
        }
        switch (ealg) {
        case IMSSEC_EALG_NULL: e = "ecb(cipher_null)"; break;    /* RFC 2410 */
        case IMSSEC_EALG_DES_EDE3_CBC: e = "cbc(des3_ede)"; break; /* RFC 2451 */
        case IMSSEC_EALG_AES_CBC: e = "cbc(aes)"; break;         /* RFC 3602 */
        default: return IMSSEC_E_UNSUPPORTED;
        }
    }
    if (auth)
        *auth = a;
    if (enc)
        *enc = e;
    return IMSSEC_OK;
}

/* ---- message building -------------------------------------------------------- */

typedef struct xf_msg {
    union {
        struct nlmsghdr h; /* alignment */
        uint8_t b[IMSSEC_XFRM_MSG_MAX];
    } u;
    size_t len;
    int ovf;
} xf_msg;

static void *xf_put(xf_msg *m, size_t n)
{
    size_t a = XF_ALIGN4(n);
    void *p;
    if (m->ovf || a > sizeof m->u.b - m->len) {
        m->ovf = 1;
        return NULL;
    }
    p = m->u.b + m->len;
    memset(p, 0, a);
    m->len += a;
    return p;
}

static void xf_begin(xf_msg *m, uint16_t type, uint16_t flags, uint32_t seq)
{
    struct nlmsghdr *h;
    m->len = 0;
    m->ovf = 0;
    h = (struct nlmsghdr *)xf_put(m, sizeof *h);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    h->nlmsg_pid = 0; /* the kernel knows the sender from the socket */
}

/* An attribute of n payload bytes; returns the payload (zeroed). */
static void *xf_attr(xf_msg *m, uint16_t type, size_t n)
{
    struct nlattr *a = (struct nlattr *)xf_put(m, XF_NLA_HDR + n);
    if (!a)
        return NULL;
    a->nla_type = type;
    a->nla_len = (uint16_t)(XF_NLA_HDR + n);
    return (uint8_t *)a + XF_NLA_HDR;
}

static int xf_end(xf_msg *m)
{
    if (m->ovf)
        return IMSSEC_E_SPACE;
    m->u.h.nlmsg_len = (uint32_t)m->len;
    return IMSSEC_OK;
}

/* Copy a finished message out (output convention). */
static int xf_out(xf_msg *m, uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (!out_len || (out_cap && !out))
        return IMSSEC_E_PARAM;
    *out_len = m->len;
    if (m->len > out_cap)
        return IMSSEC_E_SPACE;
    memcpy(out, m->u.b, m->len);
    return IMSSEC_OK;
}

/* The kernel view of one imssec_sa_info: families, outer addresses, mode. */
typedef struct xf_view {
    int family;               /* inner and outer (the same here) */
    imssec_addr osrc, odst;   /* outer: SA saddr / id.daddr; template saddr / daddr */
    uint8_t kmode;            /* XFRM_MODE_TRANSPORT / XFRM_MODE_TUNNEL */
    int encap;                /* RFC 3948 UDP encapsulation */
    uint16_t esport, edport;  /* encapsulation ports as installed */
} xf_view;

static int xf_view_of(const imssec_xfrm *x, const imssec_sa_info *sa, xf_view *v,
                      imssec_errinfo *err)
{
    memset(v, 0, sizeof *v);
    v->family = xf_family(&sa->src);
    if (!v->family || sa->dst.len != sa->src.len)
        return xf_fail(err, IMSSEC_E_PARAM, "the SA's addresses are not both IPv4 or both IPv6", 0);
    if (sa->spi == 0)
        return xf_fail(err, IMSSEC_E_PARAM, "SPI 0 (RFC 4303 2.1)", 0);
    v->osrc = sa->src;
    v->odst = sa->dst;
    switch (sa->mode) {
    case IMSSEC_MODE_TRANS:
        v->kmode = XFRM_MODE_TRANSPORT;
        break;
    case IMSSEC_MODE_TUN:
        v->kmode = XFRM_MODE_TUNNEL;
        break;
    case IMSSEC_MODE_UDP_ENC_TUN:
        v->kmode = XFRM_MODE_TUNNEL;
        v->encap = 1;
        /* M.7.1: behind a NAT the UE's outer address is its local one; the
         * inner one (sa/'s) the public one */
        if (x->outer_local.len) {
            if (x->outer_local.len != sa->src.len)
                return xf_fail(err, IMSSEC_E_PARAM,
                               "outer_local is not of the SA's address family", 0);
            if (sa->inbound)
                v->odst = x->outer_local;
            else
                v->osrc = x->outer_local;
        }
        /* The SA's ports (M.7.1: the UE 4500 both ways; the P-CSCF 4500 and
         * port_Uenc).  Unknown port_Uenc (0): an inbound SA keeps 0 as the
         * expected source port, so the kernel reports the first packet's
         * port as XFRM_MSG_MAPPING (imssec_xfrm_learn_uenc); an outbound SA
         * sends to 4500 until it is learned. */
        v->esport = sa->encap_sport;
        v->edport = sa->encap_dport ? sa->encap_dport : XF_ENCAP_PORT;
        if (!sa->inbound && !v->esport)
            v->esport = XF_ENCAP_PORT;
        break;
    default:
        return xf_fail(err, IMSSEC_E_UNSUPPORTED, "a mode the kernel adapter does not install", 0);
    }
    return IMSSEC_OK;
}

static void xf_selector(struct xfrm_selector *s, const imssec_sa_info *sa, int family,
                        uint8_t proto)
{
    memset(s, 0, sizeof *s);
    xf_addr_to(&s->daddr, &sa->dst);
    xf_addr_to(&s->saddr, &sa->src);
    s->dport = htons(sa->dport);
    s->dport_mask = 0xffff;
    s->sport = htons(sa->sport);
    s->sport_mask = 0xffff;
    s->family = (uint16_t)family;
    s->prefixlen_d = s->prefixlen_s = (uint8_t)(family == AF_INET ? 32 : 128);
    s->proto = proto;
}

static void xf_lifetime(struct xfrm_lifetime_cfg *l, uint64_t soft_s, uint64_t hard_s)
{
    l->soft_byte_limit = l->hard_byte_limit = XFRM_INF;
    l->soft_packet_limit = l->hard_packet_limit = XFRM_INF;
    l->soft_add_expires_seconds = soft_s;
    l->hard_add_expires_seconds = hard_s;
}

/* An algorithm attribute: name, key length in bits, the key; for AUTH_TRUNC
 * and AEAD also the truncation / ICV length. */
static int xf_put_alg(xf_msg *m, uint16_t type, const char *name, const uint8_t *key,
                      size_t key_len, unsigned extra_bits)
{
    size_t head = type == XFRMA_ALG_CRYPT ? sizeof(struct xfrm_algo)
                                          : sizeof(struct xfrm_algo_auth);
    uint8_t *p = (uint8_t *)xf_attr(m, type, head + key_len);
    unsigned bits = (unsigned)key_len * 8u;
    if (!p)
        return IMSSEC_E_SPACE;
    /* xfrm_algo, xfrm_algo_auth and xfrm_algo_aead all start with
     * alg_name[64] then alg_key_len; the two longer ones have one more
     * unsigned int (trunc / icv length) before the key */
    memcpy(p, name, strlen(name));
    memcpy(p + 64, &bits, sizeof bits);
    if (type != XFRMA_ALG_CRYPT)
        memcpy(p + 68, &extra_bits, sizeof extra_bits);
    if (key_len)
        memcpy(p + head, key, key_len);
    return IMSSEC_OK;
}

static int xf_build_sa(const imssec_xfrm *x, const imssec_sa_info *sa, int msg_type, uint32_t seq,
                       uint64_t soft_s, uint64_t hard_s, xf_msg *m, imssec_errinfo *err)
{
    struct xfrm_usersa_info *u;
    const char *auth = NULL, *enc = NULL;
    xf_view v;
    size_t want_ik = 0, want_ck = 0;
    uint32_t win;
    int rc;
    if ((rc = xf_view_of(x, sa, &v, err)) != IMSSEC_OK)
        return rc;
    if (imssec_xfrm_alg_names(sa->alg, sa->ealg, &auth, &enc) != IMSSEC_OK)
        return xf_fail(err, IMSSEC_E_UNSUPPORTED,
                       "an alg / ealg pair the kernel adapter has no transform for", 0);
    /* the Annex I key lengths (imssec_esp_keys) */
    switch (sa->alg) {
    case IMSSEC_ALG_HMAC_MD5_96: want_ik = 16; break;
    case IMSSEC_ALG_HMAC_SHA1_96: want_ik = 20; break;
    case IMSSEC_ALG_AES_GMAC: want_ik = 20; break; /* key || salt */
    default: want_ik = 0; break;
    }
    switch (sa->ealg) {
    case IMSSEC_EALG_DES_EDE3_CBC: want_ck = 24; break;
    case IMSSEC_EALG_AES_CBC: want_ck = 16; break;
    case IMSSEC_EALG_AES_GCM: want_ck = 20; break; /* key || salt */
    default: want_ck = 0; break;
    }
    if (sa->ik_len != want_ik || sa->ck_len != want_ck || (want_ik && !sa->ik) ||
        (want_ck && !sa->ck))
        return xf_fail(err, IMSSEC_E_UNSUPPORTED, "a key length that is not Annex I's", 0);
    if (msg_type != XFRM_MSG_NEWSA && msg_type != XFRM_MSG_UPDSA)
        return xf_fail(err, IMSSEC_E_PARAM, "msg_type is not XFRM_MSG_NEWSA / UPDSA", 0);
    xf_begin(m, (uint16_t)msg_type,
             (uint16_t)(NLM_F_REQUEST | NLM_F_ACK |
                        (msg_type == XFRM_MSG_NEWSA ? NLM_F_CREATE | NLM_F_EXCL : 0)),
             seq);
    u = (struct xfrm_usersa_info *)xf_put(m, sizeof *u);
    if (!u)
        return IMSSEC_E_SPACE;
    /* the selector: inner addresses and protected ports, any protocol (7.1:
     * one SA for UDP and TCP) */
    xf_selector(&u->sel, sa, v.family, 0);
    xf_addr_to(&u->id.daddr, &v.odst);
    u->id.spi = htonl(sa->spi);
    u->id.proto = IPPROTO_ESP;
    xf_addr_to(&u->saddr, &v.osrc);
    xf_lifetime(&u->lft, soft_s, hard_s);
    u->reqid = x->tag; /* the tag (imssec_xfrm.h) */
    u->family = (uint16_t)v.family;
    u->mode = v.kmode;
    win = sa->inbound ? x->replay_window : 0;
    if (win <= 32) {
        u->replay_window = (uint8_t)win; /* the legacy 32-bit window */
    } else {
        /* RFC 4303 3.4.3 window above 32: XFRMA_REPLAY_ESN_VAL in bitmap
         * mode (replay_window in xfrm_usersa_info must then be 0) */
        uint32_t words = (win + 31) / 32;
        struct xfrm_replay_state_esn *r = (struct xfrm_replay_state_esn *)xf_attr(
            m, XFRMA_REPLAY_ESN_VAL, sizeof *r + (size_t)words * 4u);
        if (!r)
            return IMSSEC_E_SPACE;
        r->bmp_len = words;
        r->replay_window = win;
    }
    if (auth) {
        /* RFC 2403 / 2404: 96-bit truncation, explicitly (XFRMA_ALG_AUTH
         * would mean the kernel's default for the name) */
        if ((rc = xf_put_alg(m, XFRMA_ALG_AUTH_TRUNC, auth, sa->ik, sa->ik_len, 96)) != IMSSEC_OK)
            return rc;
        if ((rc = xf_put_alg(m, XFRMA_ALG_CRYPT, enc, sa->ck, sa->ck_len, 0)) != IMSSEC_OK)
            return rc;
    } else {
        /* RFC 4106 / RFC 4543 with a 16-byte ICV: key || 4-byte salt */
        const uint8_t *k = sa->ealg == IMSSEC_EALG_AES_GCM ? sa->ck : sa->ik;
        size_t kl = sa->ealg == IMSSEC_EALG_AES_GCM ? sa->ck_len : sa->ik_len;
        if ((rc = xf_put_alg(m, XFRMA_ALG_AEAD, enc, k, kl, 128)) != IMSSEC_OK)
            return rc;
    }
    if (v.encap) {
        struct xfrm_encap_tmpl *e = (struct xfrm_encap_tmpl *)xf_attr(m, XFRMA_ENCAP, sizeof *e);
        if (!e)
            return IMSSEC_E_SPACE;
        e->encap_type = UDP_ENCAP_ESPINUDP; /* RFC 3948: ESP in UDP, no non-IKE marker */
        e->encap_sport = htons(v.esport);
        e->encap_dport = htons(v.edport);
    }
    return xf_end(m);
}

static int xf_build_policy(const imssec_xfrm *x, const imssec_sa_info *sa, uint8_t proto,
                           uint32_t seq, xf_msg *m, imssec_errinfo *err)
{
    struct xfrm_userpolicy_info *p;
    struct xfrm_user_tmpl *t;
    xf_view v;
    int rc;
    if ((rc = xf_view_of(x, sa, &v, err)) != IMSSEC_OK)
        return rc;
    xf_begin(m, XFRM_MSG_NEWPOLICY, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
    p = (struct xfrm_userpolicy_info *)xf_put(m, sizeof *p);
    if (!p)
        return IMSSEC_E_SPACE;
    xf_selector(&p->sel, sa, v.family, proto);
    xf_lifetime(&p->lft, 0, 0);
    p->priority = x->priority;
    p->dir = sa->inbound ? XFRM_POLICY_IN : XFRM_POLICY_OUT;
    p->action = XFRM_POLICY_ALLOW;
    t = (struct xfrm_user_tmpl *)xf_attr(m, XFRMA_TMPL, sizeof *t);
    if (!t)
        return IMSSEC_E_SPACE;
    /* the template names exactly this SA: outer addresses, SPI, mode, tag */
    xf_addr_to(&t->id.daddr, &v.odst);
    t->id.spi = htonl(sa->spi);
    t->id.proto = IPPROTO_ESP;
    t->family = (uint16_t)v.family;
    xf_addr_to(&t->saddr, &v.osrc);
    t->reqid = x->tag;
    t->mode = v.kmode;
    t->aalgos = t->ealgos = t->calgos = ~0u;
    return xf_end(m);
}

IMSSEC_API int imssec_xfrm_sa_msg(const imssec_xfrm *x, const imssec_sa_info *sa, int msg_type,
                                  uint32_t seq, uint64_t soft_s, uint64_t hard_s, uint8_t *out,
                                  size_t out_cap, size_t *out_len, imssec_errinfo *err)
{
    xf_msg m;
    int rc;
    if (!x || !sa || !out_len || (out_cap && !out))
        return xf_fail_param(err, IMSSEC_E_PARAM, "x / sa / out", "NULL argument");
    rc = xf_build_sa(x, sa, msg_type, seq, soft_s, hard_s, &m, err);
    if (rc == IMSSEC_OK)
        rc = xf_out(&m, out, out_cap, out_len);
    xf_wipe(&m, sizeof m);
    return rc;
}

IMSSEC_API int imssec_xfrm_policy_msg(const imssec_xfrm *x, const imssec_sa_info *sa,
                                      int transport, uint32_t seq, uint8_t *out, size_t out_cap,
                                      size_t *out_len, imssec_errinfo *err)
{
    xf_msg m;
    int rc;
    if (!x || !sa || !out_len || (out_cap && !out))
        return xf_fail_param(err, IMSSEC_E_PARAM, "x / sa / out", "NULL argument");
    if (transport != IMSSEC_TRANSPORT_UDP && transport != IMSSEC_TRANSPORT_TCP)
        return xf_fail_param(err, IMSSEC_E_PARAM, "transport", "not UDP or TCP");
    rc = xf_build_policy(x, sa, transport == IMSSEC_TRANSPORT_UDP ? IPPROTO_UDP : IPPROTO_TCP,
                         seq, &m, err);
    if (rc == IMSSEC_OK)
        rc = xf_out(&m, out, out_cap, out_len);
    return rc;
}

/* ---- the exchange ------------------------------------------------------------ */

/* Called for every data message of the answer (a GET's reply, a dump's
 * parts) in imssec_xfrm.buf_; must not send requests.  Nonzero stops
 * nothing but is returned. */
typedef int (*xf_visit)(imssec_xfrm *x, const struct nlmsghdr *h, void *ctx);

static void xf_ext_ack(imssec_xfrm *x, const struct nlmsghdr *h)
{
    const struct nlmsgerr *e = (const struct nlmsgerr *)XF_DATA(h);
    size_t off = sizeof *e, end = h->nlmsg_len - XF_NLMSG_HDR;
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return;
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
        off += e->msg.nlmsg_len > XF_NLMSG_HDR ? e->msg.nlmsg_len - XF_NLMSG_HDR : 0;
    off = XF_ALIGN4(off);
    while (off + XF_NLA_HDR <= end) {
        const struct nlattr *a = (const struct nlattr *)(const void *)((const uint8_t *)e + off);
        size_t al = a->nla_len;
        if (al < XF_NLA_HDR || off + al > end)
            break;
        if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            size_t n = al - XF_NLA_HDR;
            if (n >= sizeof x->ext_ack)
                n = sizeof x->ext_ack - 1;
            memcpy(x->ext_ack, (const uint8_t *)a + XF_NLA_HDR, n);
            x->ext_ack[n] = 0;
            n = strlen(x->ext_ack);
            while (n && (x->ext_ack[n - 1] == '\n' || x->ext_ack[n - 1] == ' '))
                x->ext_ack[--n] = 0;
        }
        off += XF_ALIGN4(al);
    }
}

/* Send m (a request or a dump) and read its answer.  0 = acknowledged (or
 * the dump complete); else the kernel's errno (or the socket's), with
 * x->last_errno and x->ext_ack set. */
static int xf_talk(imssec_xfrm *x, xf_msg *m, int dump, xf_visit visit, void *ctx, int *vrc)
{
    struct sockaddr_nl kernel;
    uint32_t seq;
    uint64_t deadline;
    ssize_t n;
    int result = -1;
    if (x->fd_ < 0)
        return EBADF;
    seq = ++x->seq_;
    if (seq == 0)
        seq = ++x->seq_;
    m->u.h.nlmsg_seq = seq;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK; /* nl_pid 0: the kernel */
    do
        n = sendto(x->fd_, m->u.b, m->len, 0, (const struct sockaddr *)&kernel, sizeof kernel);
    while (n < 0 && errno == EINTR);
    x->requests++;
    x->ext_ack[0] = 0;
    if (n < 0 || (size_t)n != m->len) {
        result = n < 0 ? errno : EMSGSIZE;
        goto done;
    }
    {
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        deadline = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + x->timeout_ms;
    }
    for (;;) {
        struct pollfd pfd;
        struct timespec ts;
        struct iovec iov;
        struct msghdr mh;
        struct sockaddr_nl from;
        uint64_t now;
        size_t left;
        const struct nlmsghdr *h;
        int pr;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
        if (now >= deadline) {
            result = ETIMEDOUT;
            goto done;
        }
        pfd.fd = x->fd_;
        pfd.events = POLLIN;
        pfd.revents = 0;
        pr = poll(&pfd, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            result = pr == 0 ? ETIMEDOUT : errno;
            goto done;
        }
        iov.iov_base = x->buf_;
        iov.iov_len = sizeof x->buf_;
        memset(&mh, 0, sizeof mh);
        mh.msg_name = &from;
        mh.msg_namelen = sizeof from;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        n = recvmsg(x->fd_, &mh, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            result = errno; /* ENOBUFS: the kernel dropped answers */
            goto done;
        }
        if (mh.msg_flags & MSG_TRUNC) {
            result = EMSGSIZE;
            goto done;
        }
        if (from.nl_pid != 0)
            continue; /* not from the kernel */
        left = (size_t)n;
        for (h = (const struct nlmsghdr *)(const void *)x->buf_; xf_ok(h, left);
             h = xf_next(h, &left)) {
            if (h->nlmsg_seq != seq || h->nlmsg_pid != x->portid_)
                continue; /* the answer to an earlier, abandoned request */
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = (const struct nlmsgerr *)XF_DATA(h);
                if (h->nlmsg_len < XF_LEN(sizeof(int))) {
                    result = EPROTO;
                    goto done;
                }
                if (e->error == 0) {
                    result = 0; /* the ACK */
                    goto done;
                }
                xf_ext_ack(x, h);
                result = e->error < 0 ? -e->error : e->error;
                goto done;
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                int de = 0;
                if (h->nlmsg_len >= XF_LEN(sizeof(int)))
                    memcpy(&de, XF_DATA(h), sizeof de);
                result = de < 0 ? -de : 0;
                goto done;
            }
            if (visit) {
                int r = visit(x, h, ctx);
                if (r && vrc && !*vrc)
                    *vrc = r;
            }
            if (!dump && !(m->u.h.nlmsg_flags & NLM_F_ACK)) {
                result = 0;
                goto done;
            }
        }
    }
done:
    xf_wipe(x->buf_, sizeof x->buf_); /* GETSA answers carry keys */
    if (result != 0) {
        x->last_errno = result;
        x->refused++;
    }
    return result;
}

/* xf_talk, with a refusal turned into IMSSEC_E_CALLBACK + errinfo. */
static int xf_do(imssec_xfrm *x, xf_msg *m, int dump, xf_visit visit, void *ctx,
                 const char *what, imssec_errinfo *err)
{
    int vrc = 0, e = xf_talk(x, m, dump, visit, ctx, &vrc);
    if (e)
        return xf_fail(err, IMSSEC_E_CALLBACK, what, e);
    return vrc;
}

/* ---- parsing the kernel's messages ----------------------------------------- */

/* The attribute `type` of a message whose fixed part is `fixed` bytes, or
 * NULL; *len its payload length. */
static const void *xf_find_attr(const struct nlmsghdr *h, size_t fixed, uint16_t type,
                                size_t *len)
{
    size_t off = XF_NLMSG_HDR + XF_ALIGN4(fixed);
    while (off + XF_NLA_HDR <= h->nlmsg_len) {
        const struct nlattr *a = (const struct nlattr *)(const void *)((const uint8_t *)h + off);
        if (a->nla_len < XF_NLA_HDR || off + a->nla_len > h->nlmsg_len)
            return NULL;
        if ((a->nla_type & NLA_TYPE_MASK) == type) {
            *len = a->nla_len - XF_NLA_HDR;
            return (const uint8_t *)a + XF_NLA_HDR;
        }
        off += XF_ALIGN4(a->nla_len);
    }
    return NULL;
}

/* The xfrm_usersa_info of an SA message, copied out: netlink aligns
 * messages to 4 bytes only, the struct has 64-bit members.  1 if h is one. */
static int xf_sa_of(const struct nlmsghdr *h, struct xfrm_usersa_info *u)
{
    if ((h->nlmsg_type != XFRM_MSG_NEWSA && h->nlmsg_type != XFRM_MSG_UPDSA) ||
        h->nlmsg_len < XF_LEN(sizeof(struct xfrm_usersa_info)))
        return 0;
    memcpy(u, XF_DATA(h), sizeof *u);
    return 1;
}

static void xf_alg_name(char dst[64], const void *a, size_t len, uint32_t *key_bits,
                        uint32_t *extra, size_t head)
{
    if (len < head)
        return;
    memcpy(dst, a, 63);
    dst[63] = 0;
    memcpy(key_bits, (const uint8_t *)a + 64, 4);
    if (extra)
        memcpy(extra, (const uint8_t *)a + 68, 4);
}

static void xf_parse_sa(const struct nlmsghdr *h, const struct xfrm_usersa_info *u,
                        imssec_xfrm_sa *o)
{
    const void *a;
    size_t len = 0;
    memset(o, 0, sizeof *o);
    o->spi = ntohl(u->id.spi);
    o->reqid = u->reqid;
    o->proto = u->id.proto;
    xf_addr_from(&o->src, &u->saddr, u->family);
    xf_addr_from(&o->dst, &u->id.daddr, u->family);
    xf_addr_from(&o->sel_src, &u->sel.saddr, u->sel.family);
    xf_addr_from(&o->sel_dst, &u->sel.daddr, u->sel.family);
    o->sel_sport = ntohs(u->sel.sport);
    o->sel_dport = ntohs(u->sel.dport);
    o->packets = u->curlft.packets;
    o->bytes = u->curlft.bytes;
    o->add_time = u->curlft.add_time;
    o->replay = u->stats.replay;
    o->integrity_failed = u->stats.integrity_failed;
    o->soft_add_s = u->lft.soft_add_expires_seconds;
    o->hard_add_s = u->lft.hard_add_expires_seconds;
    o->replay_window = u->replay_window;
    o->mode = u->mode == XFRM_MODE_TRANSPORT ? IMSSEC_MODE_TRANS
              : u->mode == XFRM_MODE_TUNNEL  ? IMSSEC_MODE_TUN
                                             : IMSSEC_MODE_UNKNOWN;
    if ((a = xf_find_attr(h, sizeof *u, XFRMA_ALG_AUTH_TRUNC, &len)) != NULL)
        xf_alg_name(o->auth, a, len, &o->auth_key_bits, &o->auth_trunc_bits,
                    sizeof(struct xfrm_algo_auth));
    else if ((a = xf_find_attr(h, sizeof *u, XFRMA_ALG_AUTH, &len)) != NULL)
        xf_alg_name(o->auth, a, len, &o->auth_key_bits, NULL, sizeof(struct xfrm_algo));
    if ((a = xf_find_attr(h, sizeof *u, XFRMA_ALG_CRYPT, &len)) != NULL)
        xf_alg_name(o->enc, a, len, &o->enc_key_bits, NULL, sizeof(struct xfrm_algo));
    else if ((a = xf_find_attr(h, sizeof *u, XFRMA_ALG_AEAD, &len)) != NULL)
        xf_alg_name(o->enc, a, len, &o->enc_key_bits, &o->icv_bits, sizeof(struct xfrm_algo_aead));
    if ((a = xf_find_attr(h, sizeof *u, XFRMA_ENCAP, &len)) != NULL &&
        len >= sizeof(struct xfrm_encap_tmpl)) {
        struct xfrm_encap_tmpl e;
        memcpy(&e, a, sizeof e);
        o->encap_sport = ntohs(e.encap_sport);
        o->encap_dport = ntohs(e.encap_dport);
        if (o->mode == IMSSEC_MODE_TUN)
            o->mode = IMSSEC_MODE_UDP_ENC_TUN;
    }
    if ((a = xf_find_attr(h, sizeof *u, XFRMA_REPLAY_ESN_VAL, &len)) != NULL &&
        len >= sizeof(struct xfrm_replay_state_esn)) {
        struct xfrm_replay_state_esn r;
        memcpy(&r, a, sizeof r);
        o->replay_window = r.replay_window;
    }
}

/* The templates of a policy message, or NULL; *n their number. */
static const struct xfrm_user_tmpl *xf_tmpls(const struct nlmsghdr *h, size_t *n)
{
    size_t len = 0;
    const void *a = xf_find_attr(h, sizeof(struct xfrm_userpolicy_info), XFRMA_TMPL, &len);
    *n = a ? len / sizeof(struct xfrm_user_tmpl) : 0;
    return (const struct xfrm_user_tmpl *)a;
}

/* 1 if the policy message h has a template with our tag. */
static int xf_policy_ours(const imssec_xfrm *x, const struct nlmsghdr *h)
{
    size_t n, i;
    const struct xfrm_user_tmpl *t;
    if (h->nlmsg_type != XFRM_MSG_NEWPOLICY ||
        h->nlmsg_len < XF_LEN(sizeof(struct xfrm_userpolicy_info)))
        return 0;
    t = xf_tmpls(h, &n);
    for (i = 0; i < n; i++) {
        struct xfrm_user_tmpl tm;
        memcpy(&tm, (const uint8_t *)t + i * sizeof tm, sizeof tm);
        if (tm.reqid == x->tag)
            return 1;
    }
    return 0;
}

static void xf_parse_policy(const struct nlmsghdr *h, imssec_xfrm_policy *o)
{
    struct xfrm_userpolicy_info p; /* copied: 64-bit members, 4-aligned message */
    const struct xfrm_user_tmpl *t;
    size_t n;
    memcpy(&p, XF_DATA(h), sizeof p);
    memset(o, 0, sizeof *o);
    o->index = p.index;
    o->priority = p.priority;
    o->dir = p.dir;
    o->proto = p.sel.proto;
    xf_addr_from(&o->src, &p.sel.saddr, p.sel.family);
    xf_addr_from(&o->dst, &p.sel.daddr, p.sel.family);
    o->sport = ntohs(p.sel.sport);
    o->dport = ntohs(p.sel.dport);
    t = xf_tmpls(h, &n);
    if (n) {
        struct xfrm_user_tmpl tm;
        memcpy(&tm, t, sizeof tm);
        o->tmpl_spi = ntohl(tm.id.spi);
        o->tmpl_mode = tm.mode == XFRM_MODE_TRANSPORT ? IMSSEC_MODE_TRANS : IMSSEC_MODE_TUN;
        xf_addr_from(&o->tmpl_src, &tm.saddr, tm.family);
        xf_addr_from(&o->tmpl_dst, &tm.id.daddr, tm.family);
    }
}

/* ---- single entries: read back, then delete or update ------------------------ */

typedef struct xf_got_sa {
    int found;
    uint32_t reqid;
    uint64_t add_time, soft, hard;
} xf_got_sa;

static int xf_visit_got_sa(imssec_xfrm *x, const struct nlmsghdr *h, void *ctx)
{
    xf_got_sa *g = (xf_got_sa *)ctx;
    struct xfrm_usersa_info u;
    (void)x;
    if (xf_sa_of(h, &u)) {
        g->found = 1;
        g->reqid = u.reqid;
        g->add_time = u.curlft.add_time;
        g->soft = u.lft.soft_add_expires_seconds;
        g->hard = u.lft.hard_add_expires_seconds;
    }
    return 0;
}

static void xf_sa_id_msg(xf_msg *m, uint16_t type, int family, const imssec_addr *daddr,
                         uint32_t spi)
{
    struct xfrm_usersa_id *id;
    xf_begin(m, type, NLM_F_REQUEST | NLM_F_ACK, 0);
    id = (struct xfrm_usersa_id *)xf_put(m, sizeof *id);
    xf_addr_to(&id->daddr, daddr);
    id->spi = htonl(spi);
    id->family = (uint16_t)family;
    id->proto = IPPROTO_ESP;
    (void)xf_end(m);
}

/* GETSA (daddr, spi): IMSSEC_OK with *g, IMSSEC_E_NOT_FOUND (ESRCH), or a
 * refusal. */
static int xf_get_sa(imssec_xfrm *x, int family, const imssec_addr *daddr, uint32_t spi,
                     xf_got_sa *g, imssec_errinfo *err)
{
    xf_msg m;
    int rc;
    memset(g, 0, sizeof *g);
    xf_sa_id_msg(&m, XFRM_MSG_GETSA, family, daddr, spi);
    rc = xf_do(x, &m, 0, xf_visit_got_sa, g, "the kernel refused to read the SA back (XFRM_MSG_GETSA)",
               err);
    if (rc == IMSSEC_OK && !g->found)
        rc = xf_fail(err, IMSSEC_E_CALLBACK, "XFRM_MSG_GETSA answered without the SA", ENOENT);
    return rc;
}

/* Delete SA (daddr, spi) if it carries our tag. */
static int xf_del_sa(imssec_xfrm *x, int family, const imssec_addr *daddr, uint32_t spi,
                     imssec_errinfo *err)
{
    xf_got_sa g;
    xf_msg m;
    int rc = xf_get_sa(x, family, daddr, spi, &g, err);
    if (rc != IMSSEC_OK)
        return rc;
    if (g.reqid != x->tag)
        return xf_fail(err, IMSSEC_E_CALLBACK,
                       "the SA with this (daddr, SPI) is not the adapter's (another reqid): left alone",
                       EPERM);
    xf_sa_id_msg(&m, XFRM_MSG_DELSA, family, daddr, spi);
    return xf_do(x, &m, 0, NULL, NULL, "the kernel refused to delete the SA (XFRM_MSG_DELSA)", err);
}

typedef struct xf_got_pol {
    int found, ours;
    uint32_t index, spi;
} xf_got_pol;

static int xf_visit_got_pol(imssec_xfrm *x, const struct nlmsghdr *h, void *ctx)
{
    xf_got_pol *g = (xf_got_pol *)ctx;
    if (h->nlmsg_type == XFRM_MSG_NEWPOLICY &&
        h->nlmsg_len >= XF_LEN(sizeof(struct xfrm_userpolicy_info))) {
        imssec_xfrm_policy p;
        xf_parse_policy(h, &p);
        g->found = 1;
        g->ours = xf_policy_ours(x, h);
        g->index = p.index;
        g->spi = p.tmpl_spi;
    }
    return 0;
}

/* xfrm_userpolicy_id by selector (index 0) or by index (selector zero). */
static void xf_pol_id_msg(xf_msg *m, uint16_t type, const struct xfrm_selector *sel,
                          uint32_t index, uint8_t dir)
{
    struct xfrm_userpolicy_id *id;
    xf_begin(m, type, NLM_F_REQUEST | NLM_F_ACK, 0);
    id = (struct xfrm_userpolicy_id *)xf_put(m, sizeof *id);
    if (sel)
        id->sel = *sel;
    id->index = index;
    id->dir = dir;
    (void)xf_end(m);
}

/* Delete the policy (selector of sa, proto, direction) if its template
 * carries our tag and names sa's SPI: read back by selector, deleted by the
 * index the kernel gave it. */
static int xf_del_policy(imssec_xfrm *x, const imssec_sa_info *sa, int family, uint8_t proto,
                         imssec_errinfo *err)
{
    struct xfrm_selector sel;
    xf_got_pol g;
    xf_msg m;
    uint8_t dir = sa->inbound ? XFRM_POLICY_IN : XFRM_POLICY_OUT;
    int rc;
    xf_selector(&sel, sa, family, proto);
    memset(&g, 0, sizeof g);
    xf_pol_id_msg(&m, XFRM_MSG_GETPOLICY, &sel, 0, dir);
    rc = xf_do(x, &m, 0, xf_visit_got_pol, &g,
               "the kernel refused to read the policy back (XFRM_MSG_GETPOLICY)", err);
    if (rc != IMSSEC_OK)
        return rc;
    if (!g.found)
        return xf_fail(err, IMSSEC_E_CALLBACK, "XFRM_MSG_GETPOLICY answered without the policy",
                       ENOENT);
    if (!g.ours || g.spi != sa->spi)
        return xf_fail(err, IMSSEC_E_CALLBACK,
                       "the policy on these selectors is not the adapter's: left alone", EPERM);
    xf_pol_id_msg(&m, XFRM_MSG_DELPOLICY, NULL, g.index, dir);
    return xf_do(x, &m, 0, NULL, NULL, "the kernel refused to delete the policy (XFRM_MSG_DELPOLICY)",
                 err);
}

/* soft / hard lifetimes for an SA whose add time was add_time (wall s):
 * soft = sa/'s expiry, hard = that + margin. */
static void xf_lifetimes(const imssec_xfrm *x, const imssec_sa_info *sa, uint64_t age_s,
                         uint64_t *soft, uint64_t *hard)
{
    uint64_t now = xf_now_ms(x), rem;
    rem = sa->expires_ms > now ? (sa->expires_ms - now + 999u) / 1000u : 0;
    if (rem > 10u * 366u * 86400u) /* effectively none; keep the sums finite */
        rem = 10u * 366u * 86400u;
    *soft = age_s + (rem ? rem : 1u);
    *hard = *soft + x->lifetime_margin_s;
}

/* ---- the callbacks ------------------------------------------------------------- */

/* The SA's id.daddr as installed (xf_view_of's outer destination). */
static const imssec_addr *xf_sa_daddr(const imssec_xfrm *x, const imssec_sa_info *sa)
{
    return sa->mode == IMSSEC_MODE_UDP_ENC_TUN && sa->inbound && x->outer_local.len
               ? &x->outer_local
               : &sa->dst;
}

static int xf_cb_install(void *user, const imssec_sa_info *sa, uint64_t *handle,
                         imssec_errinfo *err)
{
    imssec_xfrm *x = (imssec_xfrm *)user;
    uint64_t soft, hard;
    xf_msg m;
    int rc, k, family = xf_family(&sa->src);
    static const uint8_t protos[2] = {IPPROTO_UDP, IPPROTO_TCP};
    xf_lifetimes(x, sa, 0, &soft, &hard);
    rc = xf_build_sa(x, sa, XFRM_MSG_NEWSA, 0, soft, hard, &m, err);
    if (rc == IMSSEC_OK)
        rc = xf_do(x, &m, 0, NULL, NULL,
                   "the kernel refused the SA (XFRM_MSG_NEWSA; EEXIST: its (daddr, SPI, ESP) "
                   "is taken)",
                   err);
    xf_wipe(&m, sizeof m);
    if (rc != IMSSEC_OK)
        return rc == IMSSEC_E_SPACE ? IMSSEC_E_CALLBACK : rc;
    for (k = 0; k < 2; k++) {
        rc = xf_build_policy(x, sa, protos[k], 0, &m, err);
        if (rc == IMSSEC_OK)
            rc = xf_do(x, &m, 0, NULL, NULL,
                       k == 0 ? "the kernel refused the UDP policy (XFRM_MSG_NEWPOLICY; EEXIST: a "
                                "policy on these selectors exists)"
                              : "the kernel refused the TCP policy (XFRM_MSG_NEWPOLICY; EEXIST: a "
                                "policy on these selectors exists)",
                       err);
        if (rc != IMSSEC_OK) {
            /* undo this install; the refusal stays what err says */
            imssec_errinfo ignored;
            int j, keep = x->last_errno;
            char keep_ack[sizeof x->ext_ack];
            memcpy(keep_ack, x->ext_ack, sizeof keep_ack);
            memset(&ignored, 0, sizeof ignored);
            for (j = 0; j < k; j++)
                (void)xf_del_policy(x, sa, family, protos[j], &ignored);
            (void)xf_del_sa(x, family, xf_sa_daddr(x, sa), sa->spi, &ignored);
            x->last_errno = keep;
            memcpy(x->ext_ack, keep_ack, sizeof keep_ack);
            return rc;
        }
    }
    if (sa->mode == IMSSEC_MODE_UDP_ENC_TUN && !sa->inbound) {
        /* where the NAT keepalives go (RFC 3948 4; M.7.2) */
        x->ka_to_ = sa->dst;
        x->ka_port_ = sa->encap_dport ? sa->encap_dport : XF_ENCAP_PORT;
    }
    *handle = (uint64_t)x->tag << 32 | sa->spi;
    return 0;
}

static int xf_cb_remove(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    imssec_xfrm *x = (imssec_xfrm *)user;
    int family = xf_family(&sa->src), rc = IMSSEC_OK, r, k;
    static const uint8_t protos[2] = {IPPROTO_UDP, IPPROTO_TCP};
    imssec_errinfo e;
    /* policies first, so that no policy is ever left without its SA */
    for (k = 0; k < 2; k++) {
        memset(&e, 0, sizeof e);
        r = xf_del_policy(x, sa, family, protos[k], &e);
        if (r != IMSSEC_OK && rc == IMSSEC_OK) {
            rc = r;
            *err = e;
        }
    }
    memset(&e, 0, sizeof e);
    r = xf_del_sa(x, family, xf_sa_daddr(x, sa), sa->spi, &e);
    if (r != IMSSEC_OK && rc == IMSSEC_OK) {
        rc = r;
        *err = e;
    }
    return rc;
}

/* Rewrite an SA of ours with XFRM_MSG_UPDSA: the kernel takes the new
 * XFRMA_ENCAP and lifetimes and keeps everything else of the SA it has
 * (keys, counters, replay state: xfrm_state_update()). */
static int xf_update_sa(imssec_xfrm *x, const imssec_sa_info *sa, imssec_errinfo *err)
{
    xf_got_sa g;
    xf_msg m;
    uint64_t soft, hard, wall, age;
    int rc = xf_get_sa(x, xf_family(&sa->src), xf_sa_daddr(x, sa), sa->spi, &g, err);
    if (rc != IMSSEC_OK)
        return rc;
    if (g.reqid != x->tag)
        return xf_fail(err, IMSSEC_E_CALLBACK, "the SA is not the adapter's: left alone", EPERM);
    wall = xf_wall_s();
    age = wall > g.add_time ? wall - g.add_time : 0;
    xf_lifetimes(x, sa, age, &soft, &hard);
    rc = xf_build_sa(x, sa, XFRM_MSG_UPDSA, 0, soft, hard, &m, err);
    if (rc == IMSSEC_OK)
        rc = xf_do(x, &m, 0, NULL, NULL, "the kernel refused to update the SA (XFRM_MSG_UPDSA)", err);
    xf_wipe(&m, sizeof m);
    return rc == IMSSEC_E_SPACE ? IMSSEC_E_CALLBACK : rc;
}

static int xf_cb_update(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    return xf_update_sa((imssec_xfrm *)user, sa, err);
}

static int xf_cb_keepalive(void *user, imssec_str impi)
{
    imssec_xfrm *x = (imssec_xfrm *)user;
    static const uint8_t ka = 0xff; /* RFC 3948 2.3 */
    int fd;
    ssize_t n;
    (void)impi;
    if (!x->ka_to_.len)
        return -1;
    fd = x->encap_fd_[x->ka_to_.len == 16];
    if (fd < 0)
        return -1;
    if (x->ka_to_.len == 4) {
        struct sockaddr_in to;
        memset(&to, 0, sizeof to);
        to.sin_family = AF_INET;
        to.sin_port = htons(x->ka_port_);
        memcpy(&to.sin_addr, x->ka_to_.b, 4);
        n = sendto(fd, &ka, 1, 0, (const struct sockaddr *)&to, sizeof to);
    } else {
        struct sockaddr_in6 to;
        memset(&to, 0, sizeof to);
        to.sin6_family = AF_INET6;
        to.sin6_port = htons(x->ka_port_);
        memcpy(&to.sin6_addr, x->ka_to_.b, 16);
        n = sendto(fd, &ka, 1, 0, (const struct sockaddr *)&to, sizeof to);
    }
    if (n != 1)
        return -1;
    x->keepalives++;
    return 0;
}

IMSSEC_API void imssec_xfrm_callbacks(imssec_sa_callbacks *cb, imssec_xfrm *x)
{
    memset(cb, 0, sizeof *cb);
    cb->user = x;
    cb->install = xf_cb_install;
    cb->update = xf_cb_update;
    cb->remove = xf_cb_remove;
    cb->keepalive = xf_cb_keepalive;
}

/* ---- life cycle ---------------------------------------------------------------- */

IMSSEC_API void imssec_xfrm_init(imssec_xfrm *x)
{
    memset(x, 0, sizeof *x);
    x->tag = IMSSEC_XFRM_TAG_DEFAULT;
    x->priority = IMSSEC_XFRM_PRIORITY_DEFAULT;
    x->replay_window = IMSSEC_XFRM_REPLAY_DEFAULT;
    x->lifetime_margin_s = IMSSEC_XFRM_MARGIN_DEFAULT;
    x->timeout_ms = IMSSEC_XFRM_TIMEOUT_DEFAULT;
    x->fd_ = x->map_fd_ = -1;
    x->encap_fd_[0] = x->encap_fd_[1] = -1;
}

static int xf_nl_socket(uint32_t *portid, int group, int *sys)
{
    struct sockaddr_nl a;
    socklen_t al = sizeof a;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM), one = 1;
    if (fd < 0) {
        *sys = errno;
        return -1;
    }
    memset(&a, 0, sizeof a);
    a.nl_family = AF_NETLINK; /* nl_pid 0: the kernel assigns our port id */
    if (bind(fd, (const struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        *sys = errno;
        close(fd);
        return -1;
    }
    if (portid)
        *portid = a.nl_pid;
    /* errors without the request echoed (it holds keys), with the
     * kernel's message when it has one; both optional */
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    if (group && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
        *sys = errno;
        close(fd);
        return -1;
    }
    return fd;
}

IMSSEC_API int imssec_xfrm_open(imssec_xfrm *x, imssec_errinfo *err)
{
    int sys = 0;
    if (!x)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x", "NULL argument");
    if (x->fd_ >= 0)
        return xf_fail_param(err, IMSSEC_E_STATE, "x", "already open");
    if (x->replay_window == 0 || x->replay_window > IMSSEC_XFRM_REPLAY_MAX)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x->replay_window", "not 1..4096 bits");
    if (x->tag == 0)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x->tag",
                             "0 (a template with reqid 0 matches only untagged SAs)");
    if (x->outer_local.len != 0 && x->outer_local.len != 4 && x->outer_local.len != 16)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x->outer_local", "length not 0, 4 or 16");
    if (x->timeout_ms == 0)
        x->timeout_ms = IMSSEC_XFRM_TIMEOUT_DEFAULT;
    x->fd_ = xf_nl_socket(&x->portid_, 0, &sys);
    if (x->fd_ < 0) {
        xf_fail_param(err, IMSSEC_E_CALLBACK, NULL, "cannot open a NETLINK_XFRM socket");
        if (err)
            err->sys_errno = sys;
        return IMSSEC_E_CALLBACK;
    }
    if (x->listen_mapping) {
        x->map_fd_ = xf_nl_socket(NULL, XFRMNLGRP_MAPPING, &sys);
        if (x->map_fd_ < 0) {
            close(x->fd_);
            x->fd_ = -1;
            xf_fail_param(err, IMSSEC_E_CALLBACK, NULL,
                          "cannot join the XFRMNLGRP_MAPPING group (CAP_NET_ADMIN?)");
            if (err)
                err->sys_errno = sys;
            return IMSSEC_E_CALLBACK;
        }
    }
    {
        /* a sequence start that differs between runs: answers to a
         * previous process's port id never match anyway */
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        x->seq_ = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec << 20;
    }
    return IMSSEC_OK;
}

IMSSEC_API void imssec_xfrm_close(imssec_xfrm *x)
{
    int i;
    if (!x)
        return;
    if (x->fd_ >= 0)
        close(x->fd_);
    if (x->map_fd_ >= 0)
        close(x->map_fd_);
    for (i = 0; i < 2; i++)
        if (x->encap_fd_[i] >= 0)
            close(x->encap_fd_[i]);
    x->fd_ = x->map_fd_ = x->encap_fd_[0] = x->encap_fd_[1] = -1;
    xf_wipe(x->buf_, sizeof x->buf_);
}

IMSSEC_API int imssec_xfrm_encap_open(imssec_xfrm *x, int family, uint16_t port,
                                      imssec_errinfo *err)
{
    int fd, v6 = family == 6, one = 1, type = UDP_ENCAP_ESPINUDP, rc;
    if (!x || (family != 4 && family != 6) || port == 0)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x / family / port", "not 4 or 6, or port 0");
    if (x->encap_fd_[v6] >= 0)
        return xf_fail_param(err, IMSSEC_E_STATE, "family", "an encapsulation socket is open");
    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6) {
        struct sockaddr_in6 a;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
            goto fail_fd;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        rc = bind(fd, (const struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        rc = bind(fd, (const struct sockaddr *)&a, sizeof a);
    }
    if (rc != 0)
        goto fail_fd;
    /* RFC 3948: the kernel takes ESP out of this socket's datagrams (SPI !=
     * 0), passes IKE behind the non-ESP marker up and eats keepalives */
    if (setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof type) != 0)
        goto fail_fd;
    x->encap_fd_[v6] = fd;
    return IMSSEC_OK;
fail_fd: {
    int e = errno;
    close(fd);
    errno = e;
}
fail:
    rc = errno;
    xf_fail_param(err, IMSSEC_E_CALLBACK, NULL, "cannot open the UDP_ENCAP_ESPINUDP socket");
    if (err)
        err->sys_errno = rc;
    return IMSSEC_E_CALLBACK;
}

IMSSEC_API int imssec_xfrm_mapping_fd(const imssec_xfrm *x)
{
    return x ? x->map_fd_ : -1;
}

/* ---- dumps: read-back, flush, refresh ------------------------------------------ */

/* A dump request: the header alone (the kernel's xfrm_dump_sa() reads
 * optional filter attributes right after it; we filter by the tag here).
 * A dump is not acknowledged: it is complete at NLMSG_DONE, and a refusal
 * comes as NLMSG_ERROR with the request's sequence number. */
static void xf_dump_msg(xf_msg *m, uint16_t type)
{
    xf_begin(m, type, NLM_F_REQUEST | NLM_F_DUMP, 0);
    (void)xf_end(m);
}

typedef struct xf_list_ctx {
    imssec_xfrm_sa *sas;
    imssec_xfrm_policy *pols;
    size_t cap, n;
} xf_list_ctx;

static int xf_visit_list_sa(imssec_xfrm *x, const struct nlmsghdr *h, void *ctx)
{
    xf_list_ctx *c = (xf_list_ctx *)ctx;
    struct xfrm_usersa_info u;
    if (!xf_sa_of(h, &u) || u.reqid != x->tag)
        return 0;
    if (c->n < c->cap)
        xf_parse_sa(h, &u, &c->sas[c->n]);
    c->n++;
    return 0;
}

static int xf_visit_list_pol(imssec_xfrm *x, const struct nlmsghdr *h, void *ctx)
{
    xf_list_ctx *c = (xf_list_ctx *)ctx;
    if (!xf_policy_ours(x, h))
        return 0;
    if (c->n < c->cap)
        xf_parse_policy(h, &c->pols[c->n]);
    c->n++;
    return 0;
}

/* One dump of our entries into out[0..out_cap) (elements of `size` bytes):
 * the output convention (*out_len = how many exist; IMSSEC_E_SPACE and out
 * wiped when they do not fit; out wiped on a refusal too). */
static int xf_list_run(imssec_xfrm *x, xf_list_ctx *c, uint16_t type,
                       xf_visit visit,
                       const char *what, void *out, size_t size, size_t out_cap,
                       size_t *out_len, imssec_errinfo *err)
{
    xf_msg m;
    int rc;
    xf_dump_msg(&m, type);
    if (err)
        memset(err, 0, sizeof *err);
    rc = xf_do(x, &m, 1, visit, c, what, err);
    if (rc == IMSSEC_OK) {
        *out_len = c->n;
        if (c->n > out_cap)
            rc = IMSSEC_E_SPACE;
    }
    if (rc != IMSSEC_OK && out_cap)
        memset(out, 0, out_cap * size);
    return rc;
}

IMSSEC_API int imssec_xfrm_list(imssec_xfrm *x, imssec_xfrm_sa *out, size_t out_cap,
                                size_t *out_len, imssec_errinfo *err)
{
    xf_list_ctx c;
    if (!x || !out_len || (out_cap && !out))
        return xf_fail_param(err, IMSSEC_E_PARAM, "x / out / out_len", "NULL argument");
    memset(&c, 0, sizeof c);
    c.sas = out;
    c.cap = out_cap;
    return xf_list_run(x, &c, XFRM_MSG_GETSA, xf_visit_list_sa,
                       "the kernel refused the SA dump (XFRM_MSG_GETSA)", out, sizeof *out,
                       out_cap, out_len, err);
}

IMSSEC_API int imssec_xfrm_list_policies(imssec_xfrm *x, imssec_xfrm_policy *out,
                                         size_t out_cap, size_t *out_len, imssec_errinfo *err)
{
    xf_list_ctx c;
    if (!x || !out_len || (out_cap && !out))
        return xf_fail_param(err, IMSSEC_E_PARAM, "x / out / out_len", "NULL argument");
    memset(&c, 0, sizeof c);
    c.pols = out;
    c.cap = out_cap;
    return xf_list_run(x, &c, XFRM_MSG_GETPOLICY, xf_visit_list_pol,
                       "the kernel refused the policy dump (XFRM_MSG_GETPOLICY)", out,
                       sizeof *out, out_cap, out_len, err);
}

/* A round of a dump: up to XF_BATCH of our entries after the first `skip`. */
typedef struct xf_batch {
    size_t skip, seen, n;
    struct {
        int family;
        imssec_addr daddr;
        uint32_t spi, index;
        uint8_t dir;
        imssec_xfrm_sa sa;
    } e[XF_BATCH];
} xf_batch;

static int xf_visit_batch_sa(imssec_xfrm *x, const struct nlmsghdr *h, void *ctx)
{
    xf_batch *b = (xf_batch *)ctx;
    struct xfrm_usersa_info u;
    if (!xf_sa_of(h, &u) || u.reqid != x->tag)
        return 0;
    if (b->seen++ < b->skip || b->n >= XF_BATCH)
        return 0;
    b->e[b->n].family = u.family;
    xf_addr_from(&b->e[b->n].daddr, &u.id.daddr, u.family);
    b->e[b->n].spi = ntohl(u.id.spi);
    xf_parse_sa(h, &u, &b->e[b->n].sa);
    b->n++;
    return 0;
}

static int xf_visit_batch_pol(imssec_xfrm *x, const struct nlmsghdr *h, void *ctx)
{
    xf_batch *b = (xf_batch *)ctx;
    struct xfrm_userpolicy_info p;
    if (!xf_policy_ours(x, h))
        return 0;
    if (b->seen++ < b->skip || b->n >= XF_BATCH)
        return 0;
    memcpy(&p, XF_DATA(h), sizeof p);
    b->e[b->n].index = p.index;
    b->e[b->n].dir = p.dir;
    b->n++;
    return 0;
}

IMSSEC_API int imssec_xfrm_flush_stale(imssec_xfrm *x, size_t *n_sas, size_t *n_policies,
                                       imssec_errinfo *err)
{
    xf_batch b;
    xf_msg m;
    size_t ns = 0, np = 0, i;
    int rc = IMSSEC_OK, r, pass;
    if (!x)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x", "NULL argument");
    if (err)
        memset(err, 0, sizeof *err);
    /* policies first (none left pointing at a deleted SA), then SAs; each
     * in rounds: a dump must be read to its end before the next request.
     * An entry whose delete fails is skipped in the next round. */
    for (pass = 0; pass < 2; pass++) {
        size_t skip = 0;
        for (;;) {
            size_t deleted = 0;
            memset(&b, 0, sizeof b);
            b.skip = skip;
            xf_dump_msg(&m, pass == 0 ? XFRM_MSG_GETPOLICY : XFRM_MSG_GETSA);
            r = xf_do(x, &m, 1, pass == 0 ? xf_visit_batch_pol : xf_visit_batch_sa, &b,
                      pass == 0 ? "the kernel refused the policy dump (XFRM_MSG_GETPOLICY)"
                                : "the kernel refused the SA dump (XFRM_MSG_GETSA)",
                      err);
            if (r != IMSSEC_OK)
                return r;
            for (i = 0; i < b.n; i++) {
                imssec_errinfo e;
                memset(&e, 0, sizeof e);
                if (pass == 0) {
                    xf_pol_id_msg(&m, XFRM_MSG_DELPOLICY, NULL, b.e[i].index, b.e[i].dir);
                    r = xf_do(x, &m, 0, NULL, NULL,
                              "the kernel refused to delete a stale policy (XFRM_MSG_DELPOLICY)",
                              &e);
                } else {
                    xf_sa_id_msg(&m, XFRM_MSG_DELSA, b.e[i].family, &b.e[i].daddr, b.e[i].spi);
                    r = xf_do(x, &m, 0, NULL, NULL,
                              "the kernel refused to delete a stale SA (XFRM_MSG_DELSA)", &e);
                }
                if (r == IMSSEC_OK) {
                    deleted++;
                } else if (rc == IMSSEC_OK) {
                    rc = r;
                    if (err)
                        *err = e;
                }
            }
            if (pass == 0)
                np += deleted;
            else
                ns += deleted;
            if (b.n < XF_BATCH)
                break; /* the dump had no more of ours */
            skip += b.n - deleted; /* the undeletable ones come first again */
        }
    }
    if (n_sas)
        *n_sas = ns;
    if (n_policies)
        *n_policies = np;
    return rc;
}

/* The table's SA for a kernel SA of ours: by SPI (inbound), else by the
 * selectors (7.1 rule 4: (UE IP, UE port, P-CSCF port) and the direction),
 * checked by SPI. */
static int xf_table_sa(const imssec_sa_table *t, const imssec_xfrm_sa *k, imssec_sa_info *info)
{
    imssec_sa_ref r;
    int up;
    if (imssec_sa_find_spi(t, k->spi, &r) == IMSSEC_OK && imssec_sa_get(t, r, info) == IMSSEC_OK &&
        info->spi == k->spi)
        return 1;
    for (up = 0; up < 2; up++) {
        const imssec_addr *ue = up ? &k->sel_src : &k->sel_dst;
        uint16_t ue_port = up ? k->sel_sport : k->sel_dport;
        uint16_t pc_port = up ? k->sel_dport : k->sel_sport;
        if (imssec_sa_find_ports(t, ue, ue_port, pc_port, up, &r) == IMSSEC_OK &&
            imssec_sa_get(t, r, info) == IMSSEC_OK && info->spi == k->spi)
            return 1;
    }
    return 0;
}

IMSSEC_API int imssec_xfrm_refresh(imssec_xfrm *x, const imssec_sa_table *t, size_t *updated,
                                   size_t *orphans, imssec_errinfo *err)
{
    xf_batch b;
    xf_msg m;
    size_t skip = 0, nu = 0, no = 0, i;
    int rc = IMSSEC_OK, r;
    if (!x || !t)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x / t", "NULL argument");
    if (err)
        memset(err, 0, sizeof *err);
    for (;;) {
        memset(&b, 0, sizeof b);
        b.skip = skip;
        xf_dump_msg(&m, XFRM_MSG_GETSA);
        r = xf_do(x, &m, 1, xf_visit_batch_sa, &b, "the kernel refused the SA dump (XFRM_MSG_GETSA)",
                  err);
        if (r != IMSSEC_OK)
            return r;
        for (i = 0; i < b.n; i++) {
            imssec_sa_info info;
            uint64_t soft, hard, wall = xf_wall_s(), age;
            const imssec_xfrm_sa *k = &b.e[i].sa;
            if (!xf_table_sa(t, k, &info)) {
                no++;
                continue;
            }
            age = wall > k->add_time ? wall - k->add_time : 0;
            xf_lifetimes(x, &info, age, &soft, &hard);
            if (soft + 1 >= k->soft_add_s && soft <= k->soft_add_s + 1 &&
                hard + 1 >= k->hard_add_s && hard <= k->hard_add_s + 1) {
                xf_wipe(&info, sizeof info);
                continue;
            }
            {
                imssec_errinfo e;
                memset(&e, 0, sizeof e);
                r = xf_build_sa(x, &info, XFRM_MSG_UPDSA, 0, soft, hard, &m, &e);
                if (r == IMSSEC_OK)
                    r = xf_do(x, &m, 0, NULL, NULL,
                              "the kernel refused to update an SA's lifetimes (XFRM_MSG_UPDSA)", &e);
                xf_wipe(&m, sizeof m);
                if (r == IMSSEC_OK) {
                    nu++;
                } else if (rc == IMSSEC_OK) {
                    rc = r == IMSSEC_E_SPACE ? IMSSEC_E_CALLBACK : r;
                    if (err)
                        *err = e;
                }
            }
            xf_wipe(&info, sizeof info);
        }
        if (b.n < XF_BATCH)
            break;
        skip += b.n;
    }
    if (updated)
        *updated = nu;
    if (orphans)
        *orphans = no;
    return rc;
}

IMSSEC_API int imssec_xfrm_learn_uenc(imssec_xfrm *x, imssec_sa_table *t, size_t *learned,
                                      imssec_errinfo *err)
{
    size_t nl = 0;
    int rc = IMSSEC_OK;
    if (!x || !t)
        return xf_fail_param(err, IMSSEC_E_PARAM, "x / t", "NULL argument");
    if (x->map_fd_ < 0)
        return xf_fail_param(err, IMSSEC_E_STATE, "x->listen_mapping",
                             "not listening to XFRMNLGRP_MAPPING");
    if (err)
        memset(err, 0, sizeof *err);
    for (;;) {
        struct xfrm_user_mapping got[XF_BATCH];
        size_t ng = 0, left, i;
        const struct nlmsghdr *h;
        ssize_t n = recv(x->map_fd_, x->buf_, sizeof x->buf_, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            /* ENOBUFS: reports were lost; the next packet reports again */
            if (rc == IMSSEC_OK)
                rc = xf_fail(err, IMSSEC_E_CALLBACK, "reading XFRM_MSG_MAPPING failed", errno);
            if (errno == ENOBUFS)
                continue;
            break;
        }
        left = (size_t)n;
        for (h = (const struct nlmsghdr *)(const void *)x->buf_; xf_ok(h, left);
             h = xf_next(h, &left)) {
            if (h->nlmsg_type != XFRM_MSG_MAPPING ||
                h->nlmsg_len < XF_LEN(sizeof(struct xfrm_user_mapping)) || ng >= XF_BATCH)
                continue;
            memcpy(&got[ng], XF_DATA(h), sizeof got[ng]);
            if (got[ng].reqid == x->tag && got[ng].id.proto == IPPROTO_ESP)
                ng++;
        }
        /* the update callbacks below reuse buf_ */
        for (i = 0; i < ng; i++) {
            imssec_sa_ref ref;
            uint16_t port = ntohs(got[i].new_sport);
            int r;
            if (imssec_sa_find_spi(t, ntohl(got[i].id.spi), &ref) != IMSSEC_OK || port == 0)
                continue; /* not (or no longer) the table's */
            /* M.7.2: the UE's NAT port; a new public address (the NAT
             * rebound to another one) has no place in sa/ (7.5: the UE
             * registers again) */
            r = imssec_sa_learn_uenc(t, ref, port);
            if (r == IMSSEC_OK) {
                nl++;
            } else if (rc == IMSSEC_OK) {
                rc = xf_fail(err, IMSSEC_E_CALLBACK,
                             "imssec_sa_learn_uenc failed for a reported NAT port (M.7.2)",
                             x->last_errno);
            }
        }
    }
    if (learned)
        *learned = nl;
    return rc;
}
