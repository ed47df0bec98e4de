/*
 * xfrm_flow.c -- the driver of test/peer/sa-xfrm.sh: sa/ tables whose data
 * plane is the Linux kernel through xfrm/imssec_xfrm.c (issue 13).
 *
 * Not library code: a Linux test program (POSIX + setns).  One process
 * drives both ends, each in its own network namespace of the UML guest
 * (sockets belong to the namespace they were created in, so the process
 * enters A to make the UE's sockets and its NETLINK_XFRM socket, and B for
 * the P-CSCF's): a UE table in A and a P-CSCF table in B, fed the events of
 * TS 33.203 7.2 / 7.4 (imssec_sa_event, as test/sa/sa_world.h does in
 * memory), while the SIP messages travel as real UDP datagrams (and TCP
 * connections) between the namespaces on the protected ports through plain
 * sockets: the kernels do the ESP.  Which SA a message arrived on is what
 * the kernel's inbound policy allows on that port (7.1 rule 4: found with
 * imssec_sa_find_ports).
 *
 *   xfrm_flow bytes                   host: the request encoders against
 *                                     hand-derived bytes (no kernel)
 *   xfrm_flow run [nat=0|1] SCEN...   guest: the scenarios ("all" = every one)
 *   xfrm_flow crash READYFILE         guest: register, then wait to be killed
 *   xfrm_flow restart                 guest: flush_stale after the crash
 *   xfrm_flow list                    guest: print our SAs of A and B
 *
 * Namespaces (made by guest-xfrm.sh): A (UE), B (P-CSCF), N (a NAT between
 * A and B, iptables MASQUERADE).  Addresses (documentation ranges only):
 *   direct v4   UE 192.0.2.20         P-CSCF 192.0.2.10
 *   direct v6   UE 2001:db8:1::20     P-CSCF 2001:db8:1::10
 *   via NAT     UE 198.51.100.20 (private) / 203.0.113.1 (public, the
 *               NAT's outside address, also on A's lo so the UE can be the
 *               inner source, M.7.1)   P-CSCF 203.0.113.10
 * Output: "PASS|FAIL|SKIP sa-xfrm SCEN CHECK: detail" and "# " comments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/xfrm.h>

#include "imssec.h"
#include "xfrm/imssec_xfrm.h"

#define T "sa-xfrm"

/* ---- output ------------------------------------------------------------------ */

static int g_fail;
static char g_scen[64];

static void line(const char *verdict, const char *check, const char *fmt, ...)
{
    va_list ap;
    printf("%s " T " %s %s: ", verdict, g_scen, check);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (verdict[0] == 'F')
        g_fail++;
}

static void note(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int rnd_fd = -1;
static int io_random(void *user, uint8_t *out, size_t len)
{
    (void)user;
    if (rnd_fd < 0)
        rnd_fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    while (len) {
        ssize_t n = read(rnd_fd, out, len);
        if (n <= 0)
            return -1;
        out += n;
        len -= (size_t)n;
    }
    return 0;
}
static const imssec_io g_io = {NULL, io_random, NULL, NULL};

static imssec_addr A(const char *s)
{
    imssec_addr a;
    memset(&a, 0, sizeof a);
    if (imssec_addr_parse(imssec_cstr(s), &a) != IMSSEC_OK)
        fprintf(stderr, "bad address %s\n", s);
    return a;
}

static const char *fmt_addr(const imssec_addr *a, char *buf)
{
    size_t n = 0;
    if (imssec_addr_format(a, 0, buf, IMSSEC_ADDR_TEXT_MAX, &n) != IMSSEC_OK)
        n = (size_t)snprintf(buf, IMSSEC_ADDR_TEXT_MAX, "?");
    buf[n] = 0;
    return buf;
}

static socklen_t to_sa(const imssec_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->len == 4) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, a->b, 4);
        return sizeof *s;
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        memcpy(&s->sin6_addr, a->b, 16);
        return sizeof *s;
    }
}

static void from_sa(const struct sockaddr_storage *ss, imssec_addr *a, uint16_t *port)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        a->len = 4;
        memcpy(a->b, &s->sin_addr, 4);
        *port = ntohs(s->sin_port);
    } else {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        a->len = 16;
        memcpy(a->b, &s->sin6_addr, 16);
        *port = ntohs(s->sin6_port);
    }
}

/* ---- the request encoders, without a kernel ("bytes") ------------------------- */

static int b_fail;
static void bcheck(int ok, const char *what)
{
    if (!ok) {
        printf("FAIL " T " encoder %s\n", what);
        b_fail++;
    }
}

/* The attribute (type, total length) at offset off of msg, or 0. */
static size_t attr_at(const uint8_t *m, size_t off, uint16_t *type)
{
    uint16_t len;
    memcpy(&len, m + off, 2);
    memcpy(type, m + off + 2, 2);
    return len;
}

static int cmd_bytes(void)
{
    imssec_xfrm x;
    imssec_sa_info sa;
    uint8_t ik[20], ck[24], out[IMSSEC_XFRM_MSG_MAX];
    size_t len = 0, off;
    uint16_t type, alen;
    uint32_t u32;
    imssec_errinfo e;
    int i, n = 0;
    imssec_xfrm_init(&x);
    for (i = 0; i < 20; i++)
        ik[i] = (uint8_t)(0xa0 + i);
    for (i = 0; i < 24; i++)
        ck[i] = (uint8_t)(0x10 + i);
    memset(&sa, 0, sizeof sa);
    sa.which = 2; /* PC_US at a UE: inbound */
    sa.inbound = 1;
    sa.alg = IMSSEC_ALG_HMAC_SHA1_96;
    sa.ealg = IMSSEC_EALG_AES_CBC;
    sa.mode = IMSSEC_MODE_TRANS;
    sa.src = A("192.0.2.10");
    sa.dst = A("192.0.2.20");
    sa.sport = 50001;
    sa.dport = 50002;
    sa.spi = 0x11223344;
    sa.ik = ik;
    sa.ik_len = 20;
    sa.ck = ck;
    sa.ck_len = 16;
    /* NEWSA, HMAC-SHA-1-96 / AES-CBC, inbound, window 64.  By hand: 16
     * (nlmsghdr) + 224 (xfrm_usersa_info on LP64) + 4+24+8 (REPLAY_ESN_VAL,
     * two bitmap words) + 4+72+20 (ALG_AUTH_TRUNC) + 4+68+16 (ALG_CRYPT) =
     * 460 */
    bcheck(sizeof(struct xfrm_usersa_info) == 224, "sizeof(xfrm_usersa_info) is 224 (LP64 layout)");
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 7, 30, 90, NULL, 0, &len, NULL) ==
               IMSSEC_E_SPACE && len == 460,
           "NEWSA measures 460 bytes");
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 7, 30, 90, out, sizeof out, &len, NULL) ==
               IMSSEC_OK,
           "NEWSA builds");
    /* nlmsghdr: len 460 = cc 01 00 00, type 16 (XFRM_MSG_NEWSA), flags
     * REQUEST|ACK|EXCL|CREATE = 0x0605, seq 7 */
    {
        static const uint8_t h[16] = {0xcc, 0x01, 0, 0, 0x10, 0, 0x05, 0x06, 7, 0, 0, 0, 0, 0, 0, 0};
        bcheck(memcmp(out, h, 16) == 0, "nlmsghdr bytes cc010000 1000 0506 07000000 00000000");
    }
    /* xfrm_usersa_info: selector daddr 192.0.2.20, saddr 192.0.2.10, dport
     * 50002 (c3 52), sport 50001 (c3 51), masks ffff, family 2, /32 /32,
     * proto 0 (both UDP and TCP) */
    {
        static const uint8_t sel[48] = {192, 0, 2, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0xc3, 0x52, 0xff, 0xff, 0xc3, 0x51, 0xff, 0xff,
                                        2, 0, 32, 32, 0, 0, 0, 0};
        bcheck(memcmp(out + 16, sel, 48) == 0, "selector bytes (addresses, ports, family, /32, proto 0)");
    }
    off = 16 + offsetof(struct xfrm_usersa_info, id);
    bcheck(memcmp(out + off, "\xc0\x00\x02\x14", 4) == 0, "id.daddr 192.0.2.20");
    bcheck(memcmp(out + off + 16, "\x11\x22\x33\x44", 4) == 0, "id.spi in network order");
    bcheck(out[off + 20] == 50, "id.proto 50 (ESP)");
    off = 16 + offsetof(struct xfrm_usersa_info, reqid);
    memcpy(&u32, out + off, 4);
    bcheck(u32 == 0x33203000u, "reqid = the tag 0x33203000");
    bcheck(out[16 + offsetof(struct xfrm_usersa_info, family)] == 2 &&
               out[16 + offsetof(struct xfrm_usersa_info, mode)] == 0 &&
               out[16 + offsetof(struct xfrm_usersa_info, replay_window)] == 0,
           "family AF_INET, mode transport, replay_window 0 (the window is in the ESN attribute)");
    {
        uint64_t l;
        memcpy(&l, out + 16 + offsetof(struct xfrm_usersa_info, lft.soft_add_expires_seconds), 8);
        bcheck(l == 30, "soft lifetime 30 s");
        memcpy(&l, out + 16 + offsetof(struct xfrm_usersa_info, lft.hard_add_expires_seconds), 8);
        bcheck(l == 90, "hard lifetime 90 s");
        memcpy(&l, out + 16 + offsetof(struct xfrm_usersa_info, lft.hard_byte_limit), 8);
        bcheck(l == UINT64_MAX, "no byte limit (XFRM_INF)");
    }
    off = 240;
    alen = (uint16_t)attr_at(out, off, &type);
    bcheck(type == XFRMA_REPLAY_ESN_VAL && alen == 36, "attr 1: XFRMA_REPLAY_ESN_VAL (23), 36 bytes");
    memcpy(&u32, out + off + 4, 4);
    bcheck(u32 == 2, "bmp_len 2 words");
    memcpy(&u32, out + off + 4 + 20, 4);
    bcheck(u32 == 64, "replay_window 64");
    off += 36;
    alen = (uint16_t)attr_at(out, off, &type);
    bcheck(type == XFRMA_ALG_AUTH_TRUNC && alen == 96, "attr 2: XFRMA_ALG_AUTH_TRUNC (20), 96 bytes");
    bcheck(memcmp(out + off + 4, "hmac(sha1)\0", 11) == 0, "name hmac(sha1)");
    bcheck(memcmp(out + off + 4 + 64, "\xa0\x00\x00\x00\x60\x00\x00\x00", 8) == 0,
           "key 160 bits, truncation 96 bits (RFC 2404)");
    bcheck(memcmp(out + off + 4 + 72, ik, 20) == 0, "IK_ESP (20 bytes) in place");
    off += 96;
    alen = (uint16_t)attr_at(out, off, &type);
    bcheck(type == XFRMA_ALG_CRYPT && alen == 88, "attr 3: XFRMA_ALG_CRYPT (2), 88 bytes");
    bcheck(memcmp(out + off + 4, "cbc(aes)\0", 9) == 0, "name cbc(aes)");
    bcheck(memcmp(out + off + 4 + 64, "\x80\x00\x00\x00", 4) == 0, "key 128 bits");
    bcheck(memcmp(out + off + 4 + 68, ck, 16) == 0, "CK_ESP in place");
    n++;

    /* outbound AES-GCM, UDP-enc-tun, UE behind a NAT: no window, AEAD,
     * encap 4500 -> 4500, outer source = outer_local */
    sa.inbound = 0;
    sa.which = 0;
    sa.alg = IMSSEC_ALG_NULL;
    sa.ealg = IMSSEC_EALG_AES_GCM;
    sa.mode = IMSSEC_MODE_UDP_ENC_TUN;
    sa.src = A("203.0.113.1");
    sa.dst = A("203.0.113.10");
    sa.ik = NULL;
    sa.ik_len = 0;
    sa.ck_len = 20;
    sa.encap_sport = sa.encap_dport = 4500;
    x.outer_local = A("198.51.100.20");
    /* 16 + 224 + 4+72+20 (AEAD) + 4+24 (ENCAP) = 364 */
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_UPDSA, 9, 0, 0, out, sizeof out, &len, NULL) ==
               IMSSEC_OK && len == 364,
           "UPDSA AES-GCM UDP-enc-tun: 364 bytes");
    bcheck(out[4] == XFRM_MSG_UPDSA && out[6] == 0x05 && out[7] == 0x00,
           "type 26 (XFRM_MSG_UPDSA), flags REQUEST|ACK only");
    bcheck(memcmp(out + 16 + offsetof(struct xfrm_usersa_info, saddr), "\xc6\x33\x64\x14", 4) == 0,
           "outer saddr = outer_local 198.51.100.20 (M.7.1)");
    bcheck(memcmp(out + 16, "\xcb\x00\x71\x0a", 4) == 0 && memcmp(out + 32, "\xcb\x00\x71\x01", 4) == 0,
           "selector keeps the inner (public) addresses");
    bcheck(out[16 + offsetof(struct xfrm_usersa_info, mode)] == 1, "mode 1 (XFRM_MODE_TUNNEL)");
    off = 240;
    alen = (uint16_t)attr_at(out, off, &type);
    bcheck(type == XFRMA_ALG_AEAD && alen == 96, "attr 1: XFRMA_ALG_AEAD (18), 96 bytes");
    bcheck(memcmp(out + off + 4, "rfc4106(gcm(aes))\0", 18) == 0, "name rfc4106(gcm(aes))");
    bcheck(memcmp(out + off + 4 + 64, "\xa0\x00\x00\x00\x80\x00\x00\x00", 8) == 0,
           "key || salt 160 bits, ICV 128 bits (RFC 4106 8.1)");
    off += 96;
    alen = (uint16_t)attr_at(out, off, &type);
    bcheck(type == XFRMA_ENCAP && alen == 28, "attr 2: XFRMA_ENCAP (4), 28 bytes");
    bcheck(memcmp(out + off + 4, "\x02\x00\x11\x94\x11\x94", 6) == 0,
           "UDP_ENCAP_ESPINUDP (2), sport 4500, dport 4500 (RFC 3948)");
    n++;

    /* the P-CSCF's inbound UDP-enc-tun SA before port_Uenc is known:
     * expected source port 0 (so the first packet is reported, M.7.2) */
    x.outer_local.len = 0;
    sa.inbound = 1;
    sa.encap_sport = 0;
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 9, 0, 0, out, sizeof out, &len, NULL) ==
               IMSSEC_OK,
           "NEWSA inbound UDP-enc-tun builds");
    off = len - 28;
    bcheck(memcmp(out + off + 4, "\x02\x00\x00\x00\x11\x94", 6) == 0,
           "unknown port_Uenc: encap sport 0, dport 4500");
    n++;

    /* AES-GMAC / NULL: rfc4543 with IK_ESP = key || salt */
    sa.alg = IMSSEC_ALG_AES_GMAC;
    sa.ealg = IMSSEC_EALG_NULL;
    sa.mode = IMSSEC_MODE_TRANS;
    sa.ik = ik;
    sa.ik_len = 20;
    sa.ck = NULL;
    sa.ck_len = 0;
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 1, 0, 0, out, sizeof out, &len, NULL) ==
               IMSSEC_OK,
           "NEWSA AES-GMAC builds");
    off = 240 + 36;
    alen = (uint16_t)attr_at(out, off, &type);
    bcheck(type == XFRMA_ALG_AEAD && memcmp(out + off + 4, "rfc4543(gcm(aes))\0", 18) == 0 &&
               memcmp(out + off + 4 + 72, ik, 20) == 0,
           "AES-GMAC: XFRMA_ALG_AEAD rfc4543(gcm(aes)) with IK_ESP (RFC 4543)");
    n++;

    /* HMAC-MD5-96 / NULL: auth-trunc 128/96 and ecb(cipher_null) with no key */
    sa.alg = IMSSEC_ALG_HMAC_MD5_96;
    sa.ik_len = 16;
    x.replay_window = 32;
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 1, 0, 0, out, sizeof out, &len, NULL) ==
               IMSSEC_OK && len == 16 + 224 + 92 + 72,
           "NEWSA MD5/NULL, window 32: 404 bytes (no ESN attribute)");
    bcheck(out[16 + offsetof(struct xfrm_usersa_info, replay_window)] == 32,
           "window 32 in xfrm_usersa_info.replay_window");
    bcheck(memcmp(out + 240 + 4, "hmac(md5)\0", 10) == 0 &&
               memcmp(out + 240 + 4 + 64, "\x80\x00\x00\x00\x60\x00\x00\x00", 8) == 0,
           "hmac(md5), 128-bit key, 96-bit truncation (RFC 2403)");
    alen = (uint16_t)attr_at(out, 240 + 92, &type);
    bcheck(type == XFRMA_ALG_CRYPT && alen == 72 && memcmp(out + 240 + 92 + 4, "ecb(cipher_null)", 16) == 0,
           "ecb(cipher_null) with a 0-bit key (RFC 2410)");
    x.replay_window = 64;
    n++;

    /* the policy: NEWPOLICY, selector proto 17 / 6, dir, one template */
    sa.alg = IMSSEC_ALG_HMAC_SHA1_96;
    sa.ealg = IMSSEC_EALG_DES_EDE3_CBC;
    sa.ik_len = 20;
    sa.ck = ck;
    sa.ck_len = 24;
    sa.inbound = 0;
    sa.src = A("2001:db8:1::20");
    sa.dst = A("2001:db8:1::10");
    bcheck(imssec_xfrm_policy_msg(&x, &sa, IMSSEC_TRANSPORT_TCP, 3, out, sizeof out, &len, NULL) ==
               IMSSEC_OK,
           "NEWPOLICY builds");
    bcheck(len == 16 + sizeof(struct xfrm_userpolicy_info) + 4 + sizeof(struct xfrm_user_tmpl),
           "NEWPOLICY: nlmsghdr + xfrm_userpolicy_info + one XFRMA_TMPL");
    bcheck(out[4] == XFRM_MSG_NEWPOLICY && out[6] == 0x05 && out[7] == 0x06, "type 19, flags 0x0605");
    bcheck(out[16 + offsetof(struct xfrm_selector, proto)] == 6 &&
               out[16 + offsetof(struct xfrm_selector, family)] == 10 &&
               out[16 + offsetof(struct xfrm_selector, prefixlen_d)] == 128,
           "selector proto 6 (TCP), AF_INET6, /128");
    bcheck(out[16 + offsetof(struct xfrm_userpolicy_info, dir)] == XFRM_POLICY_OUT,
           "dir XFRM_POLICY_OUT for an outbound SA");
    memcpy(&u32, out + 16 + offsetof(struct xfrm_userpolicy_info, priority), 4);
    bcheck(u32 == 1000, "priority 1000");
    off = 16 + sizeof(struct xfrm_userpolicy_info);
    alen = (uint16_t)attr_at(out, off, &type);
    bcheck(type == XFRMA_TMPL, "attr XFRMA_TMPL (5)");
    bcheck(memcmp(out + off + 4 + offsetof(struct xfrm_user_tmpl, id.spi), "\x11\x22\x33\x44", 4) == 0 &&
               out[off + 4 + offsetof(struct xfrm_user_tmpl, id.proto)] == 50,
           "template: SPI and ESP of the SA");
    memcpy(&u32, out + off + 4 + offsetof(struct xfrm_user_tmpl, reqid), 4);
    bcheck(u32 == 0x33203000u, "template reqid = the tag");
    bcheck(imssec_xfrm_policy_msg(&x, &sa, IMSSEC_TRANSPORT_UDP, 3, out, sizeof out, &len, NULL) ==
               IMSSEC_OK && out[16 + offsetof(struct xfrm_selector, proto)] == 17,
           "the UDP policy: proto 17");
    n++;

    /* refusals without a kernel */
    memset(&e, 0, sizeof e);
    sa.alg = IMSSEC_ALG_NULL;
    sa.ealg = IMSSEC_EALG_AES_CBC;
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 1, 0, 0, out, sizeof out, &len, &e) ==
               IMSSEC_E_UNSUPPORTED && e.what,
           "alg NULL with AES-CBC: UNSUPPORTED (no integrity: never negotiated)");
    sa.alg = IMSSEC_ALG_HMAC_SHA1_96;
    sa.ealg = IMSSEC_EALG_AES_GCM;
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 1, 0, 0, out, sizeof out, &len, &e) ==
               IMSSEC_E_UNSUPPORTED,
           "AES-GCM with an alg: UNSUPPORTED");
    sa.ealg = IMSSEC_EALG_AES_CBC;
    sa.ck_len = 24;
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 1, 0, 0, out, sizeof out, &len, &e) ==
               IMSSEC_E_UNSUPPORTED,
           "AES-CBC with a 24-byte key: UNSUPPORTED (not Annex I)");
    sa.ck_len = 16;
    sa.dst = A("192.0.2.1");
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 1, 0, 0, out, sizeof out, &len, &e) ==
               IMSSEC_E_PARAM,
           "mixed address families: PARAM");
    sa.dst = sa.src;
    sa.spi = 0;
    bcheck(imssec_xfrm_sa_msg(&x, &sa, XFRM_MSG_NEWSA, 1, 0, 0, out, sizeof out, &len, &e) ==
               IMSSEC_E_PARAM,
           "SPI 0: PARAM");
    {
        const char *au = NULL, *en = NULL;
        bcheck(imssec_xfrm_alg_names(IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC, &au, &en) ==
                       IMSSEC_OK &&
                   strcmp(au, "hmac(md5)") == 0 && strcmp(en, "cbc(des3_ede)") == 0,
               "names hmac(md5) / cbc(des3_ede)");
    }
    n++;
    if (b_fail == 0)
        printf("PASS " T " encoder: NEWSA / UPDSA / NEWPOLICY requests equal the hand-derived bytes "
               "(%d groups: headers, selector, SPI, reqid tag, lifetimes, window, auth-trunc 96, "
               "cbc(aes), rfc4106/rfc4543 key||salt ICV 128, espinudp 4500, outer_local, policy "
               "proto/dir/template; refusals)\n",
               n);
    return b_fail ? 1 : 0;
}

/* ---- namespaces ------------------------------------------------------------------- */

static int ns_fd[3] = {-1, -1, -1}; /* A, B, N */

static int ns_open(void)
{
    static const char *const names[3] = {"/run/netns/A", "/run/netns/B", "/run/netns/N"};
    int i;
    for (i = 0; i < 3; i++) {
        ns_fd[i] = open(names[i], O_RDONLY | O_CLOEXEC);
        if (ns_fd[i] < 0 && i < 2) {
            fprintf(stderr, "open %s: %s\n", names[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int ns_enter(int which)
{
    if (setns(ns_fd[which], CLONE_NEWNET) != 0) {
        fprintf(stderr, "setns: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Run a shell command (ip xfrm ...) and capture its output. */
static int sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    FILE *p;
    size_t n = 0;
    int st;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    if (out && cap) {
        n = fread(out, 1, cap - 1, p);
        out[n] = 0;
    } else {
        char junk[512];
        while (fread(junk, 1, sizeof junk, p) > 0) {
        }
    }
    st = pclose(p);
    return st;
}

/* ---- one side ---------------------------------------------------------------------- */

#define REC_MAX 16
#define SOCK_MAX 24

typedef struct rec {
    int live;
    imssec_sa_ref ref;
    uint32_t spi;
    uint8_t which, inbound;
    int alg, ealg, mode;
    imssec_addr src, dst;
    uint16_t sport, dport;
    uint64_t expect_pkts; /* UDP datagrams the driver sent on it */
} rec;

typedef struct usock {
    uint16_t port;
    int fd;
} usock;

typedef struct side {
    const char *name;
    int role, ns, kernel;
    imssec_xfrm x;
    imssec_esp_sa esp[REC_MAX];
    imssec_sa_esp_pool pool;
    imssec_sa_callbacks inner, cb;
    rec recs[REC_MAX];
    int installs, removes, updates, failed_installs;
    imssec_sa_table t;
    uint64_t mem[4096];
    uint32_t user;
    imssec_addr ip;    /* inner address (UE behind the NAT: the public one) */
    imssec_addr local; /* where unprotected SIP leaves from (UE: private behind the NAT) */
    int sip_fd;        /* UDP 5060 */
    usock us[SOCK_MAX];
    int raw_rx, raw_tx, sw_encap; /* built-in data plane: ESP in, IP out, UDP 4500 */
} side;

static rec *rec_find(side *s, imssec_sa_ref ref)
{
    int i;
    for (i = 0; i < REC_MAX; i++)
        if (s->recs[i].live && s->recs[i].ref == ref)
            return &s->recs[i];
    return NULL;
}

static int rec_install(void *user, const imssec_sa_info *sa, uint64_t *handle, imssec_errinfo *err)
{
    side *s = (side *)user;
    int i, rc = s->inner.install(s->inner.user, sa, handle, err);
    if (rc != 0) {
        s->failed_installs++;
        return rc;
    }
    s->installs++;
    for (i = 0; i < REC_MAX; i++) {
        rec *r = &s->recs[i];
        if (r->live)
            continue;
        memset(r, 0, sizeof *r);
        r->live = 1;
        r->ref = sa->ref;
        r->spi = sa->spi;
        r->which = sa->which;
        r->inbound = sa->inbound;
        r->alg = sa->alg;
        r->ealg = sa->ealg;
        r->mode = sa->mode;
        r->src = sa->src;
        r->dst = sa->dst;
        r->sport = sa->sport;
        r->dport = sa->dport;
        return 0;
    }
    return 0;
}

static int rec_remove(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    side *s = (side *)user;
    rec *r = rec_find(s, sa->ref);
    int rc = s->inner.remove(s->inner.user, sa, err);
    s->removes++;
    if (r)
        r->live = 0;
    return rc;
}

static int rec_update(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    side *s = (side *)user;
    s->updates++;
    return s->inner.update(s->inner.user, sa, err);
}

static int rec_keepalive(void *user, imssec_str impi)
{
    side *s = (side *)user;
    return s->inner.keepalive ? s->inner.keepalive(s->inner.user, impi) : 0;
}

static int rec_live(const side *s)
{
    int i, n = 0;
    for (i = 0; i < REC_MAX; i++)
        n += s->recs[i].live;
    return n;
}

static side UE, PC;

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void side_close(side *s)
{
    int i;
    if (s->t.users_)
        imssec_sa_table_wipe(&s->t);
    if (s->kernel)
        imssec_xfrm_close(&s->x);
    close_fd(&s->sip_fd);
    close_fd(&s->raw_rx);
    close_fd(&s->raw_tx);
    close_fd(&s->sw_encap);
    for (i = 0; i < SOCK_MAX; i++)
        if (s->us[i].port)
            close_fd(&s->us[i].fd);
    memset(s->us, 0, sizeof s->us);
}

static int udp_bound(const side *s, const imssec_addr *a, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl = to_sa(a, port, &ss);
    int fd, one = 1;
    if (ns_enter(s->ns) != 0)
        return -1;
    fd = socket(a->len == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        char b[IMSSEC_ADDR_TEXT_MAX];
        note("%s: bind %s:%u: %s", s->name, fmt_addr(a, b), port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The side's UDP socket on a protected port of its inner address. */
static int udp_port(side *s, uint16_t port)
{
    int i;
    for (i = 0; i < SOCK_MAX; i++)
        if (s->us[i].port == port)
            return s->us[i].fd;
    for (i = 0; i < SOCK_MAX; i++) {
        if (s->us[i].port == 0) {
            int fd = udp_bound(s, &s->ip, port);
            if (fd < 0)
                return -1;
            s->us[i].port = port;
            s->us[i].fd = fd;
            return fd;
        }
    }
    return -1;
}

/* Wait for a datagram on fd (ms); returns its length or -1. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from, int ms)
{
    struct pollfd p;
    socklen_t fl = sizeof *from;
    p.fd = fd;
    p.events = POLLIN;
    if (poll(&p, 1, ms) <= 0)
        return -1;
    return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &fl);
}

/* ---- a scenario ------------------------------------------------------------------- */

typedef struct scen {
    const char *name;
    int fam;            /* 4 / 6 */
    int alg, ealg, mode;
    int nat;            /* 0 none; 1 through namespace N; 2 no NAT device, NAT signalled */
    int ue_k, pc_k;     /* kernel data plane at UE / P-CSCF */
    int tcp, rereg;
    int refuse;
} scen;

static const scen *S;
static int g_have_nat;
static uint8_t g_ik[16], g_ck[16];
static int g_step_fail;     /* readback mismatches in this scenario */
static size_t g_learned;    /* port_Uenc reports applied (M.7.2) */
static int g_steps;
static char g_step_first[256];

/* The kernel names expected for the scenario's suite. */
static void expect_names(int alg, int ealg, const char **au, const char **en)
{
    *au = NULL;
    *en = NULL;
    (void)imssec_xfrm_alg_names(alg, ealg, au, en);
    if (!*au)
        *au = "";
}

/* After every step: the kernel's SAs and policies of ours equal sa/'s table
 * (SPIs, directions, algorithms, mode, selectors, encapsulation ports). */
static int check_side(side *s, const char *step)
{
    char why[256] = "";
    size_t n = 0, np = 0, count = imssec_sa_count(&s->t, UINT32_MAX);
    int i, j, live = rec_live(s);
    imssec_xfrm_sa ks[REC_MAX * 2];
    imssec_xfrm_policy kp[REC_MAX * 4];
    imssec_errinfo e;
    if (imssec_sa_table_check(&s->t) != IMSSEC_OK)
        snprintf(why, sizeof why, "imssec_sa_table_check failed");
    else if ((size_t)live != count)
        snprintf(why, sizeof why, "the data plane got %d SAs, the table has %zu", live, count);
    for (i = 0; !why[0] && i < REC_MAX; i++) {
        imssec_sa_info in;
        rec *r = &s->recs[i];
        if (!r->live)
            continue;
        if (imssec_sa_get(&s->t, r->ref, &in) != IMSSEC_OK || in.spi != r->spi ||
            in.inbound != r->inbound || in.alg != r->alg || in.ealg != r->ealg)
            snprintf(why, sizeof why, "installed SA spi 0x%08x is not the table's", r->spi);
    }
    if (!why[0] && !s->kernel && s->pool.used != count)
        snprintf(why, sizeof why, "esp/ pool holds %zu SAs, the table %zu", s->pool.used, count);
    if (!why[0] && s->kernel) {
        memset(&e, 0, sizeof e);
        if (imssec_xfrm_list(&s->x, ks, REC_MAX * 2, &n, &e) != IMSSEC_OK ||
            imssec_xfrm_list_policies(&s->x, kp, REC_MAX * 4, &np, &e) != IMSSEC_OK)
            snprintf(why, sizeof why, "read-back failed: %s (errno %d)", e.what ? e.what : "?",
                     e.sys_errno);
        else if (n != count || np != 2 * count)
            snprintf(why, sizeof why, "the kernel holds %zu SAs / %zu policies of ours, the table %zu SAs",
                     n, np, count);
        for (i = 0; !why[0] && i < REC_MAX; i++) {
            rec *r = &s->recs[i];
            const imssec_xfrm_sa *k = NULL;
            const char *au, *en;
            imssec_sa_info in;
            int pol = 0;
            if (!r->live)
                continue;
            (void)imssec_sa_get(&s->t, r->ref, &in);
            for (j = 0; j < (int)n; j++)
                if (ks[j].spi == r->spi && imssec_addr_equal(&ks[j].sel_dst, &r->dst))
                    k = &ks[j];
            expect_names(r->alg, r->ealg, &au, &en);
            if (!k) {
                snprintf(why, sizeof why, "SA spi 0x%08x (%s) is not in the kernel", r->spi,
                         r->inbound ? "in" : "out");
                break;
            }
            if (strcmp(k->auth, au) != 0 || strcmp(k->enc, en) != 0 || k->mode != r->mode ||
                k->sel_sport != r->sport || k->sel_dport != r->dport ||
                !imssec_addr_equal(&k->sel_src, &r->src) || k->proto != 50 ||
                (r->inbound ? k->replay_window != s->x.replay_window : k->replay_window != 0)) {
                snprintf(why, sizeof why,
                         "SA spi 0x%08x: kernel has %s/%s mode %d ports %u->%u window %u, the "
                         "table %s/%s mode %d ports %u->%u",
                         r->spi, k->auth, k->enc, k->mode, k->sel_sport, k->sel_dport,
                         k->replay_window, au, en, r->mode, r->sport, r->dport);
                break;
            }
            if (r->mode == IMSSEC_MODE_UDP_ENC_TUN) {
                uint16_t want_s = in.encap_sport, want_d = in.encap_dport ? in.encap_dport : 4500;
                if (!r->inbound && !want_s)
                    want_s = 4500;
                if (k->encap_sport != want_s || k->encap_dport != want_d) {
                    snprintf(why, sizeof why,
                             "SA spi 0x%08x: kernel encap %u->%u, the table %u->%u (M.7.1 / M.7.2)",
                             r->spi, k->encap_sport, k->encap_dport, want_s, want_d);
                    break;
                }
            }
            for (j = 0; j < (int)np; j++)
                if (kp[j].tmpl_spi == r->spi && kp[j].dir == (r->inbound ? 0 : 1) &&
                    kp[j].sport == r->sport && kp[j].dport == r->dport &&
                    imssec_addr_equal(&kp[j].src, &r->src) && imssec_addr_equal(&kp[j].dst, &r->dst))
                    pol |= kp[j].proto == IPPROTO_UDP ? 1 : kp[j].proto == IPPROTO_TCP ? 2 : 4;
            if (pol != 3) {
                snprintf(why, sizeof why, "SA spi 0x%08x: policies found %s%s (want UDP and TCP, dir %s)",
                         r->spi, pol & 1 ? "UDP " : "", pol & 2 ? "TCP" : "", r->inbound ? "in" : "out");
                break;
            }
        }
    }
    g_steps++;
    if (why[0]) {
        g_step_fail++;
        line("FAIL", "readback", "%s after %s: %s", s->name, step, why);
        return -1;
    }
    return 0;
}

static void check_both(const char *step)
{
    check_side(&UE, step);
    check_side(&PC, step);
}

static int side_setup(side *s, const char *name, int role, int ns, int kernel)
{
    imssec_sa_config cfg;
    imssec_errinfo e;
    size_t need = imssec_sa_table_mem(2, 6);
    int rc;
    memset(s, 0, sizeof *s);
    s->name = name;
    s->role = role;
    s->ns = ns;
    s->kernel = kernel;
    s->sip_fd = s->raw_rx = s->raw_tx = s->sw_encap = -1;
    if (ns_enter(ns) != 0)
        return -1;
    if (kernel) {
        size_t ns_ = 0, np = 0;
        imssec_xfrm_init(&s->x);
        s->x.listen_mapping = role == IMSSEC_SA_ROLE_PCSCF;
        if (S->nat == 1 && role == IMSSEC_SA_ROLE_UE)
            s->x.outer_local = A("198.51.100.20");
        memset(&e, 0, sizeof e);
        if ((rc = imssec_xfrm_open(&s->x, &e)) != IMSSEC_OK) {
            line("FAIL", "setup", "%s: imssec_xfrm_open: %s (errno %d)", name, e.what, e.sys_errno);
            return -1;
        }
        /* start-up: our leftovers (none expected here) */
        if (imssec_xfrm_flush_stale(&s->x, &ns_, &np, &e) != IMSSEC_OK || ns_ || np)
            line("FAIL", "setup", "%s: flush_stale at start removed %zu SAs / %zu policies (rc, errno %d)",
                 name, ns_, np, e.sys_errno);
        if (imssec_xfrm_encap_open(&s->x, S->fam, 4500, &e) != IMSSEC_OK) {
            line("FAIL", "setup", "%s: encap socket: %s (errno %d)", name, e.what, e.sys_errno);
            return -1;
        }
        imssec_xfrm_callbacks(&s->inner, &s->x);
    } else {
        imssec_sa_esp_pool_init(&s->pool, s->esp, REC_MAX);
        if (S->nat == 1 && role == IMSSEC_SA_ROLE_UE)
            s->pool.outer_local = A("198.51.100.20");
        imssec_sa_esp_callbacks(&s->inner, &s->pool);
    }
    s->cb.user = s;
    s->cb.install = rec_install;
    s->cb.remove = rec_remove;
    s->cb.update = rec_update;
    s->cb.keepalive = rec_keepalive;
    imssec_sa_config_init(&cfg, role);
    cfg.keepalive_ms = 300; /* M.7.2: quick keepalives for the test */
    if (need > sizeof s->mem) {
        line("FAIL", "setup", "table memory");
        return -1;
    }
    memset(&e, 0, sizeof e);
    if (imssec_sa_table_setup(&s->t, &cfg, &s->cb, &g_io, 2, 6, s->mem, sizeof s->mem, &e) !=
            IMSSEC_OK ||
        imssec_sa_user_lookup(&s->t, imssec_cstr("alice@ims.example.net"), 1, &s->user) != IMSSEC_OK) {
        line("FAIL", "setup", "%s: table: %s", name, e.what ? e.what : "?");
        return -1;
    }
    return 0;
}

/* ---- sending a SIP message ------------------------------------------------------------ */

static uint8_t g_pkt[8192], g_rx[8192];

static size_t sip_text(char *buf, size_t cap, const char *first, const char *extra, int n)
{
    size_t len = (size_t)snprintf(buf, cap,
                                  "%s\r\nVia: SIP/2.0/UDP ue.ims.example.net;branch=z9hG4bK%d\r\n"
                                  "From: <sip:alice@ims.example.net>;tag=%d\r\nTo: <sip:bob@ims.example.net>\r\n"
                                  "Call-ID: %d-xfrm@ims.example.net\r\nCSeq: %d MESSAGE\r\n%s"
                                  "Content-Type: text/plain\r\nContent-Length: 400\r\n\r\n",
                                  first, n, n, n, n, extra ? extra : "");
    while (len < cap && len < 900)
    {
        buf[len] = (char)('a' + len % 26);
        len++;
    }
    return len;
}

/* The side's built-in data plane sockets (created once per scenario). */
static int sw_socks(side *s)
{
    int one = 1;
    if (ns_enter(s->ns) != 0)
        return -1;
    if (S->mode == IMSSEC_MODE_UDP_ENC_TUN) {
        /* a plain UDP socket on 4500: the ESP part arrives as its payload */
        imssec_addr any;
        memset(&any, 0, sizeof any);
        any.len = (uint8_t)(S->fam == 4 ? 4 : 16);
        s->sw_encap = udp_bound(s, &any, 4500);
        return s->sw_encap >= 0 ? 0 : -1;
    }
    s->raw_rx = socket(S->fam == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP);
    s->raw_tx = socket(S->fam == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (s->raw_rx < 0 || s->raw_tx < 0)
        return -1;
    if (S->fam == 4)
        setsockopt(s->raw_tx, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
    return 0;
}

/* Send payload on outbound SA ref of `from`; receive it at `to`; *arrived
 * = the inbound SA of `to` it came on (the kernel's policy / the esp/
 * lookup), *src_port the UDP source port seen. */
static int carry(side *from, side *to, imssec_sa_ref ref, const char *payload, size_t len,
                 imssec_sa_ref *arrived, const char *what)
{
    imssec_sa_info info;
    imssec_errinfo e;
    struct sockaddr_storage ss, rs;
    socklen_t sl;
    ssize_t n;
    rec *r = rec_find(from, ref);
    memset(&e, 0, sizeof e);
    *arrived = 0;
    if (imssec_sa_get(&from->t, ref, &info) != IMSSEC_OK || info.inbound) {
        line("FAIL", what, "%s has no outbound SA to send on", from->name);
        return -1;
    }
    /* the receiver listens on the destination port first */
    if (to->kernel && udp_port(to, info.dport) < 0) {
        line("FAIL", what, "%s: no socket on port %u", to->name, info.dport);
        return -1;
    }
    if (from->kernel) {
        int fd = udp_port(from, info.sport);
        sl = to_sa(&info.dst, info.dport, &ss);
        if (fd < 0 || sendto(fd, payload, len, 0, (struct sockaddr *)&ss, sl) != (ssize_t)len) {
            line("FAIL", what, "%s: sendto: %s", from->name, strerror(errno));
            return -1;
        }
    } else {
        imssec_sa_esp_packet pkt;
        if (imssec_sa_esp_protect(&from->pool, &from->t, ref, IMSSEC_TRANSPORT_UDP,
                                  (const uint8_t *)payload, len, g_pkt, sizeof g_pkt, &pkt,
                                  &e) != IMSSEC_OK) {
            line("FAIL", what, "%s: imssec_sa_esp_protect: %s", from->name, e.what ? e.what : "?");
            return -1;
        }
        sl = to_sa(&pkt.to, pkt.to_port, &ss);
        if (S->mode == IMSSEC_MODE_UDP_ENC_TUN)
            n = sendto(from->sw_encap, g_pkt + pkt.send_off, pkt.len - pkt.send_off, 0,
                       (struct sockaddr *)&ss, sl);
        else
            n = sendto(from->raw_tx, g_pkt, pkt.len, 0, (struct sockaddr *)&ss, sl);
        if (n < 0) {
            line("FAIL", what, "%s: send ESP: %s", from->name, strerror(errno));
            return -1;
        }
    }
    if (r)
        r->expect_pkts++;
    if (to->kernel) {
        imssec_addr sa_;
        uint16_t sp = 0;
        int up = to->role == IMSSEC_SA_ROLE_PCSCF;
        n = recv_wait(udp_port(to, info.dport), g_rx, sizeof g_rx, &rs, 2000);
        if (n != (ssize_t)len || memcmp(g_rx, payload, len) != 0) {
            line("FAIL", what, "%s -> %s on ports %u -> %u: %s", from->name, to->name, info.sport,
                 info.dport, n < 0 ? "nothing delivered by the kernel" : "wrong payload");
            return -1;
        }
        from_sa(&rs, &sa_, &sp);
        /* 7.1 rule 4 / M.7.1 rule 7: (UE IP, UE port, P-CSCF port) names the
         * SA; the kernel's inbound policy only let it in on that one */
        if (imssec_sa_find_ports(&to->t, up ? &sa_ : &to->ip, up ? sp : info.dport,
                                 up ? info.dport : sp, up, arrived) != IMSSEC_OK) {
            line("FAIL", what, "%s: no inbound SA for the ports %u -> %u", to->name, sp, info.dport);
            return -1;
        }
        /* M.7.2: a UDP-encapsulated packet may have taught the kernel the
         * UE's NAT port */
        if (to->role == IMSSEC_SA_ROLE_PCSCF && S->mode == IMSSEC_MODE_UDP_ENC_TUN) {
            size_t learned = 0;
            memset(&e, 0, sizeof e);
            if (imssec_xfrm_learn_uenc(&to->x, &to->t, &learned, &e) != IMSSEC_OK)
                line("FAIL", what, "learn_uenc: %s (errno %d)", e.what ? e.what : "?", e.sys_errno);
            g_learned += learned;
        }
    } else {
        imssec_sa_esp_received rx;
        int fd = S->mode == IMSSEC_MODE_UDP_ENC_TUN ? to->sw_encap : to->raw_rx;
        uint64_t until = mono_ms() + 2000;
        for (;;) {
            imssec_addr sa_;
            uint16_t sp = 0;
            int rc, input = S->mode == IMSSEC_MODE_UDP_ENC_TUN ? IMSSEC_ESP_IN_ESP : IMSSEC_ESP_IN_IP;
            uint64_t now = mono_ms();
            if (now >= until) {
                line("FAIL", what, "%s: no ESP packet arrived for the built-in data plane", to->name);
                return -1;
            }
            n = recv_wait(fd, g_pkt, sizeof g_pkt, &rs, (int)(until - now));
            if (n <= 0)
                continue;
            from_sa(&rs, &sa_, &sp);
            memset(&e, 0, sizeof e);
            rc = imssec_sa_esp_unprotect(&to->pool, &to->t, input, g_pkt, (size_t)n, sp, g_rx,
                                         sizeof g_rx, &rx, &e);
            if (rc == IMSSEC_E_NOT_ESP)
                continue;
            if (rc != IMSSEC_OK) {
                line("FAIL", what, "%s: imssec_sa_esp_unprotect: %s (%s)", to->name,
                     imssec_errname(rc), e.what ? e.what : "");
                return -1;
            }
            if (rx.payload_len != len || memcmp(g_rx + rx.payload_off, payload, len) != 0) {
                line("FAIL", what, "%s: the kernel's ESP unprotected to another payload", to->name);
                return -1;
            }
            *arrived = rx.sa;
            break;
        }
    }
    {
        rec *ri = rec_find(to, *arrived);
        if (ri)
            ri->expect_pkts++;
    }
    return 0;
}

/* ---- the registration (TS 33.203 7.2; raw events as sa_world.h) -------------------- */

typedef struct reg {
    imssec_sa_ev_out ue1, pc6, ue7, pc12;
    imssec_sa_ref pc_in1, ue_in6, pc_in7, ue_in12;
    imssec_addr ue_seen; /* the SM1 source the P-CSCF saw */
} reg;

static void args(imssec_sa_ev_args *a)
{
    memset(a, 0, sizeof *a);
    a->alg = S->alg;
    a->ealg = S->ealg;
    a->mode = S->mode;
    a->transport = IMSSEC_TRANSPORT_UDP;
    a->expires_s = 600;
    a->pcscf_ip = PC.ip;
    memcpy(a->ik, g_ik, 16);
    memcpy(a->ck, g_ck, 16);
}

static int ev(side *s, int event, const imssec_sa_ev_args *a, imssec_sa_ev_out *o, const char *what)
{
    imssec_errinfo e;
    char buf[200];
    size_t bl = 0;
    int rc;
    memset(&e, 0, sizeof e);
    rc = imssec_sa_event(&s->t, s->user, event, a, o, mono_ms(), &e);
    if (rc != IMSSEC_OK) {
        buf[0] = 0;
        if (imssec_errinfo_format(&e, buf, sizeof buf - 1, &bl) == IMSSEC_OK)
            buf[bl] = 0;
        line("FAIL", what, "%s %s: %s [%s] sys_errno %d%s%s", s->name, imssec_sa_event_name(event),
             imssec_errname(rc), buf, e.sys_errno, s->kernel && s->x.ext_ack[0] ? " kernel: " : "",
             s->kernel ? s->x.ext_ack : "");
    }
    return rc;
}

/* The Security-Client / -Server value with the SA values (7.2). */
static size_t secagree(char *out, size_t cap, uint32_t spi_c, uint32_t spi_s, uint16_t pc, uint16_t ps)
{
    imssec_secagree_mech m;
    size_t n = 0;
    memset(&m, 0, sizeof m);
    m.kind = IMSSEC_SECAGREE_IPSEC_3GPP;
    m.alg = S->alg;
    m.ealg = S->ealg;
    m.mode = S->mode;
    m.spi_c = spi_c;
    m.spi_s = spi_s;
    m.port_c = pc;
    m.port_s = ps;
    m.present = IMSSEC_SECAGREE_HAS_ALG | IMSSEC_SECAGREE_HAS_EALG | IMSSEC_SECAGREE_HAS_MOD |
                IMSSEC_SECAGREE_HAS_SA_PARAMS;
    if (imssec_secagree_build(&m, 1, out, cap - 1, &n, NULL) != IMSSEC_OK)
        n = 0;
    out[n] = 0;
    return n;
}

/* The value of header `name` in text (up to CRLF). */
static imssec_str header(const char *text, size_t len, const char *name)
{
    imssec_str r = {NULL, 0};
    size_t k = strlen(name), i;
    for (i = 0; i + k + 2 < len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && strncmp(text + i, name, k) == 0 && text[i + k] == ':') {
            size_t j = i + k + 1;
            while (j < len && text[j] == ' ')
                j++;
            r.p = text + j;
            while (j < len && text[j] != '\r')
                j++;
            r.n = (size_t)(text + j - r.p);
            return r;
        }
    }
    return r;
}

static int peer_values(imssec_str v, imssec_sa_ev_args *a)
{
    imssec_secagree_mech m[2];
    size_t n = 0;
    if (imssec_secagree_parse(v, m, 2, &n, NULL) != IMSSEC_OK || n < 1)
        return -1;
    a->peer_spi_c = m[0].spi_c;
    a->peer_spi_s = m[0].spi_s;
    a->peer_port_c = m[0].port_c;
    a->peer_port_s = m[0].port_s;
    return 0;
}

/* SM1 (unprotected on 5060 or on the current UC_PS) through the P-CSCF,
 * then the P-CSCF's CHALLENGE (SM6 built), SM6 to the UE.  Stops before
 * the UE's CHALLENGE (returns the args for it in *ua). */
static int reg_to_sm6(reg *r, int protected_, imssec_sa_ev_args *ua)
{
    imssec_sa_ev_args a;
    char sc[256], ss[256], text[2048], via[96], ab[IMSSEC_ADDR_TEXT_MAX];
    size_t tl;
    struct sockaddr_storage st;
    socklen_t sl;
    ssize_t n;
    imssec_addr src, via_ip;
    uint16_t sport = 0;
    imssec_str v;
    args(&a);
    /* REG_SEND reads the UE's own address: the one SM1 leaves from */
    a.ue_ip = protected_ ? UE.ip : UE.local;
    if (ev(&UE, IMSSEC_SA_EV_REG_SEND, &a, &r->ue1, protected_ ? "rereg" : "register") != IMSSEC_OK)
        return -1;
    secagree(sc, sizeof sc, r->ue1.spi_c, r->ue1.spi_s, r->ue1.port_c, r->ue1.port_s);
    {
        size_t al = 0;
        (void)imssec_addr_format(protected_ ? &UE.ip : &UE.local, 1, ab, sizeof ab, &al);
        ab[al] = 0;
    }
    snprintf(via, sizeof via, "SIP/2.0/UDP %s:%u;branch=z9hG4bKsm1", ab, r->ue1.port_s);
    tl = (size_t)snprintf(text, sizeof text,
                          "REGISTER sip:ims.example.net SIP/2.0\r\nVia: %s\r\nSecurity-Client: %s\r\n"
                          "Require: sec-agree\r\nProxy-Require: sec-agree\r\nContent-Length: 0\r\n\r\n",
                          via, sc);
    if (!protected_) {
        if (r->ue1.protect_with) {
            line("FAIL", "register", "SM1 was to go unprotected, sa/ names an SA");
            return -1;
        }
        sl = to_sa(&PC.ip, 5060, &st);
        if (sendto(UE.sip_fd, text, tl, 0, (struct sockaddr *)&st, sl) != (ssize_t)tl)
            return -1;
        n = recv_wait(PC.sip_fd, g_rx, sizeof g_rx - 1, &st, 2000);
        if (n <= 0) {
            line("FAIL", "register", "SM1 did not arrive on 5060");
            return -1;
        }
        from_sa(&st, &src, &sport);
        r->pc_in1 = 0;
    } else {
        if (carry(&UE, &PC, r->ue1.protect_with, text, tl, &r->pc_in1, "reregister") != 0)
            return -1;
        memcpy(g_rx, text, tl);
        n = (ssize_t)tl;
        src = UE.ip;
    }
    g_rx[n] = 0;
    r->ue_seen = src;
    /* the P-CSCF reads SM1: Via sent-by and the packet source (M.7.2) */
    v = header((const char *)g_rx, (size_t)n, "Via");
    {
        /* "SIP/2.0/UDP host:port;params", host an IPv4 address or an
         * IPv6 reference in brackets (RFC 3261 25.1) */
        char vb[128], *p, *q;
        size_t vl = v.n < sizeof vb - 1 ? v.n : sizeof vb - 1;
        memcpy(vb, v.p ? v.p : "", vl);
        vb[vl] = 0;
        p = strchr(vb, ' ');
        p = p ? p + 1 : vb;
        q = strchr(p, ';');
        if (q)
            *q = 0;
        q = strrchr(p, ':');
        if (q && (p[0] != '[' || q > strchr(p, ']')))
            *q = 0;
        via_ip = A(p);
    }
    args(&a);
    a.arrived_on = r->pc_in1;
    a.ue_ip = src;
    a.via_ip = via_ip;
    /* M.7.2: NAT when the Via's address is not the source; nat 2 = no NAT
     * device, UDP-enc-tun asked for anyway (the P-CSCF is told so) */
    a.nat = (uint8_t)(!imssec_addr_equal(&src, &via_ip) || S->nat == 2 ||
                      (protected_ && S->mode == IMSSEC_MODE_UDP_ENC_TUN));
    if (peer_values(header((const char *)g_rx, (size_t)n, "Security-Client"), &a) != 0) {
        line("FAIL", "register", "cannot parse SM1's Security-Client");
        return -1;
    }
    if (ev(&PC, IMSSEC_SA_EV_REG_RECV, &a, NULL, protected_ ? "rereg" : "register") != IMSSEC_OK)
        return -1;
    args(&a);
    a.ue_ip = src;
    if (ev(&PC, IMSSEC_SA_EV_CHALLENGE, &a, &r->pc6, protected_ ? "rereg" : "challenge") != IMSSEC_OK)
        return -1;
    check_both("P-CSCF CHALLENGE (SM6 built)");
    secagree(ss, sizeof ss, r->pc6.spi_c, r->pc6.spi_s, r->pc6.port_c, r->pc6.port_s);
    tl = (size_t)snprintf(text, sizeof text,
                          "SIP/2.0 401 Unauthorized\r\nVia: %s;received=%s\r\nSecurity-Server: %s\r\n"
                          "WWW-Authenticate: Digest realm=\"ims.example.net\",nonce=\"x\",algorithm=AKAv1-MD5\r\n"
                          "Content-Length: 0\r\n\r\n",
                          via, fmt_addr(&src, ab), ss);
    if (!r->pc6.protect_with) {
        sl = to_sa(&src, sport, &st);
        if (sendto(PC.sip_fd, text, tl, 0, (struct sockaddr *)&st, sl) != (ssize_t)tl)
            return -1;
        n = recv_wait(UE.sip_fd, g_rx, sizeof g_rx - 1, &st, 2000);
        if (n <= 0) {
            line("FAIL", "challenge", "the 401 did not reach the UE");
            return -1;
        }
        r->ue_in6 = 0;
    } else {
        if (carry(&PC, &UE, r->pc6.protect_with, text, tl, &r->ue_in6, "challenge") != 0)
            return -1;
        memcpy(g_rx, text, tl);
        n = (ssize_t)tl;
    }
    g_rx[n] = 0;
    /* the UE: its public address from `received` (M.7.2), the P-CSCF's
     * values from Security-Server */
    args(ua);
    ua->arrived_on = r->ue_in6;
    v = header((const char *)g_rx, (size_t)n, "Via");
    {
        const char *p = strstr(v.p, ";received=");
        char host[64];
        size_t hl = 0;
        if (p) {
            p += 10;
            while (p[hl] && p[hl] != '\r' && p[hl] != ';' && hl < sizeof host - 1)
                hl++;
        }
        memcpy(host, p ? p : "", hl);
        host[hl] = 0;
        ua->ue_ip = S->mode == IMSSEC_MODE_UDP_ENC_TUN ? A(host) : UE.ip;
    }
    if (peer_values(header((const char *)g_rx, (size_t)n, "Security-Server"), ua) != 0) {
        line("FAIL", "challenge", "cannot parse the Security-Server");
        return -1;
    }
    return 0;
}

/* SM7 and SM12 after the UE's CHALLENGE. */
static int reg_finish(reg *r)
{
    imssec_sa_ev_args a;
    char text[2048];
    size_t tl, upd = 0, orph = 0;
    imssec_errinfo e;
    tl = sip_text(text, sizeof text, "REGISTER sip:ims.example.net SIP/2.0",
                  "Authorization: Digest username=\"alice@ims.example.net\",response=\"0\"\r\n", 7);
    if (carry(&UE, &PC, r->ue7.protect_with, text, tl, &r->pc_in7, "sm7") != 0)
        return -1;
    args(&a);
    a.arrived_on = r->pc_in7;
    a.ue_ip = r->ue_seen;
    a.via_ip = r->ue_seen;
    if (ev(&PC, IMSSEC_SA_EV_AUTH_RECV, &a, NULL, "sm7") != IMSSEC_OK)
        return -1;
    check_both("SM7 (AUTH_RECV)");
    args(&a);
    if (ev(&PC, IMSSEC_SA_EV_SUCCESS, &a, &r->pc12, "sm12") != IMSSEC_OK)
        return -1;
    tl = sip_text(text, sizeof text, "SIP/2.0 200 OK", "Expires: 600\r\n", 12);
    if (carry(&PC, &UE, r->pc12.protect_with, text, tl, &r->ue_in12, "sm12") != 0)
        return -1;
    args(&a);
    a.arrived_on = r->ue_in12;
    if (ev(&UE, IMSSEC_SA_EV_SUCCESS, &a, NULL, "sm12") != IMSSEC_OK)
        return -1;
    /* sa/ lengthened the SAs' lifetime (7.4.1a / 7.4.2a): follow it */
    if (PC.kernel) {
        memset(&e, 0, sizeof e);
        if (imssec_xfrm_refresh(&PC.x, &PC.t, &upd, &orph, &e) != IMSSEC_OK || orph)
            line("FAIL", "lifetimes", "P-CSCF refresh: %s errno %d, %zu orphans", e.what ? e.what : "ok",
                 e.sys_errno, orph);
    }
    if (UE.kernel) {
        memset(&e, 0, sizeof e);
        if (imssec_xfrm_refresh(&UE.x, &UE.t, &upd, &orph, &e) != IMSSEC_OK || orph)
            line("FAIL", "lifetimes", "UE refresh: %s errno %d, %zu orphans", e.what ? e.what : "ok",
                 e.sys_errno, orph);
    }
    check_both("SM12 (SUCCESS) and refresh");
    return 0;
}

/* The kernel's lifetimes of the current set follow sa/'s expiry: appends
 * to out, returns the number of mismatches. */
static int lifetimes_of(side *s, imssec_sa_ref cur, char *out, size_t cap)
{
    imssec_xfrm_sa ks[REC_MAX * 2];
    imssec_sa_info in;
    size_t n = 0, i, ol = strlen(out);
    uint64_t now = mono_ms(), wall = (uint64_t)time(NULL);
    if (!s->kernel)
        return 0;
    if (imssec_sa_get(&s->t, cur, &in) != IMSSEC_OK ||
        imssec_xfrm_list(&s->x, ks, REC_MAX * 2, &n, NULL) != IMSSEC_OK) {
        snprintf(out + ol, cap - ol, "%s%s: read-back failed", ol ? "; " : "", s->name);
        return 1;
    }
    for (i = 0; i < n; i++) {
        uint64_t age, rem, soft_left;
        int bad;
        if (ks[i].spi != in.spi)
            continue;
        age = wall > ks[i].add_time ? wall - ks[i].add_time : 0;
        rem = (in.expires_ms - now) / 1000u;
        soft_left = ks[i].soft_add_s > age ? ks[i].soft_add_s - age : 0;
        bad = soft_left + 3 < rem || soft_left > rem + 3 ||
              ks[i].hard_add_s != ks[i].soft_add_s + s->x.lifetime_margin_s;
        snprintf(out + ol, cap - ol, "%s%s spi 0x%08x soft in %llu s (sa/: %llu s), hard +%llu s%s",
                 ol ? "; " : "", s->name, in.spi, (unsigned long long)soft_left,
                 (unsigned long long)rem, (unsigned long long)(ks[i].hard_add_s - ks[i].soft_add_s),
                 bad ? " MISMATCH" : "");
        return bad;
    }
    snprintf(out + ol, cap - ol, "%s%s: spi 0x%08x not in the kernel", ol ? "; " : "", s->name, in.spi);
    return 1;
}

static void check_lifetimes(imssec_sa_ref ue_cur, imssec_sa_ref pc_cur)
{
    char buf[400] = "";
    int bad = lifetimes_of(&UE, ue_cur, buf, sizeof buf) + lifetimes_of(&PC, pc_cur, buf, sizeof buf);
    if (!buf[0])
        return;
    line(bad ? "FAIL" : "PASS", "lifetimes", "after SM12 and imssec_xfrm_refresh the kernel's soft "
         "lifetime ends with sa/'s expiry (7.4.1a / 7.4.2a), the hard one %u s later as a backstop: %s",
         IMSSEC_XFRM_MARGIN_DEFAULT, buf);
}

/* One UDP request and its response; from_ue: who asks.  *req_out / *req_in:
 * the SAs of the request at the sender / the receiver. */
static int transaction(int from_ue, imssec_sa_ref txn, imssec_sa_ref *req_in_out, int answer,
                       const char *what)
{
    side *a = from_ue ? &UE : &PC, *b = from_ue ? &PC : &UE;
    imssec_sa_ref out, in, rout, rin;
    imssec_sa_ev_args ea;
    char text[2048];
    size_t tl;
    static int cseq = 100;
    (void)txn;
    if (imssec_sa_route(&a->t, a->user, IMSSEC_TRANSPORT_UDP, 1, 0, &out) != IMSSEC_OK) {
        line("FAIL", what, "%s: no SA to send a request on", a->name);
        return -1;
    }
    tl = sip_text(text, sizeof text, "MESSAGE sip:bob@ims.example.net SIP/2.0", NULL, ++cseq);
    if (carry(a, b, out, text, tl, &in, what) != 0)
        return -1;
    memset(&ea, 0, sizeof ea);
    ea.arrived_on = in;
    ea.transport = IMSSEC_TRANSPORT_UDP;
    ea.msg = IMSSEC_SA_MSG_REQUEST;
    if (ev(b, IMSSEC_SA_EV_MSG_IN, &ea, NULL, what) != IMSSEC_OK)
        return -1;
    if (req_in_out) {
        req_in_out[0] = out;
        req_in_out[1] = in;
    }
    if (!answer)
        return 0;
    if (imssec_sa_route(&b->t, b->user, IMSSEC_TRANSPORT_UDP, 0, in, &rout) != IMSSEC_OK) {
        line("FAIL", what, "%s: no SA for the response", b->name);
        return -1;
    }
    tl = sip_text(text, sizeof text, "SIP/2.0 200 OK", NULL, cseq);
    if (carry(b, a, rout, text, tl, &rin, what) != 0)
        return -1;
    ea.arrived_on = rin;
    ea.msg = IMSSEC_SA_MSG_RESPONSE;
    return ev(a, IMSSEC_SA_EV_MSG_IN, &ea, NULL, what);
}

/* The counters per SA against what was sent (UDP: 7.1 names UC_PS and
 * PC_US for everything; US_PC and PS_UC stay at 0): appends to out,
 * returns the number of mismatches.  exact 0: only "more than 0". */
static int counters_of(side *s, int exact, char *out, size_t cap)
{
    imssec_xfrm_sa ks[REC_MAX * 2];
    size_t n = 0, i, bl = strlen(out);
    int k, bad = 0;
    static const char *const wn[4] = {"UC_PS", "US_PC", "PC_US", "PS_UC"};
    bl += (size_t)snprintf(out + bl, cap - bl, "%s%s%s:", bl ? "; " : "", s->name,
                           s->kernel ? "" : " (esp/)");
    if (s->kernel && imssec_xfrm_list(&s->x, ks, REC_MAX * 2, &n, NULL) != IMSSEC_OK) {
        snprintf(out + bl, cap - bl, " read-back failed");
        return 1;
    }
    for (k = 0; k < REC_MAX; k++) {
        rec *r = &s->recs[k];
        uint64_t got = 0;
        int found = 0;
        if (!r->live)
            continue;
        if (!s->kernel) {
            imssec_esp_sa *e = imssec_sa_esp_of(&s->pool, &s->t, r->ref);
            found = e != NULL;
            got = e ? imssec_esp_sa_stats(e)->packets : 0;
        }
        for (i = 0; s->kernel && i < n; i++)
            if (ks[i].spi == r->spi) {
                found = 1;
                got = ks[i].packets;
            }
        if (!found || (exact ? got != r->expect_pkts : got == 0))
            bad++;
        bl += (size_t)snprintf(out + bl, cap - bl, " %s(%s)=%llu", wn[r->which & 3],
                               r->inbound ? "in" : "out", (unsigned long long)got);
        if (exact)
            bl += (size_t)snprintf(out + bl, cap - bl, "/%llu", (unsigned long long)r->expect_pkts);
        if (!found || (exact ? got != r->expect_pkts : got == 0))
            bl += (size_t)snprintf(out + bl, cap - bl, "!");
    }
    return bad;
}

static void check_counters(int exact, const char *what)
{
    char buf[600] = "";
    int bad = counters_of(&UE, exact, buf, sizeof buf) + counters_of(&PC, exact, buf, sizeof buf);
    line(bad ? "FAIL" : "PASS", what, exact ? "packets per SA, counted by the data plane / sent by the "
         "driver: %s" : "packets per SA, every SA carried some: %s", buf);
}

/* A counter of /proc/net/xfrm_stat in namespace ns (-1 if unreadable). */
static long xfrm_stat(int ns, const char *name)
{
    char l[128];
    long v = -1;
    FILE *f;
    if (ns_enter(ns) != 0 || !(f = fopen("/proc/net/xfrm_stat", "r")))
        return -1;
    while (fgets(l, sizeof l, f))
        if (strncmp(l, name, strlen(name)) == 0 && l[strlen(name)] == ' ' ) {
            v = atol(l + strlen(name));
            break;
        }
    fclose(f);
    return v;
}

/* 7.1 rules 4 / 7 with the kernel: the P-CSCF names a datagram's SA by
 * (UE address, UE port, P-CSCF port), which is safe only because its
 * kernel drops a datagram of exactly that flow that did not come through
 * the SA (the XFRM_POLICY_IN policy's template).  Sent in the clear from
 * a raw socket in A (its flow has no ports, so A's policy does not catch
 * it), it must not reach the P-CSCF's socket and must count in
 * XfrmInTmplMismatch. */
static void check_plain_dropped(void)
{
    imssec_flow f;
    imssec_sa_ref out;
    imssec_sa_info in;
    struct sockaddr_storage ss;
    socklen_t sl;
    size_t len = 0;
    long before, after;
    ssize_t n;
    int fd;
    static const char text[] = "MESSAGE sip:bob@ims.example.net SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    if (!PC.kernel || S->nat == 1 ||
        imssec_sa_route(&UE.t, UE.user, IMSSEC_TRANSPORT_UDP, 1, 0, &out) != IMSSEC_OK ||
        imssec_sa_get(&UE.t, out, &in) != IMSSEC_OK)
        return;
    memset(&f, 0, sizeof f);
    f.src = in.src;
    f.dst = in.dst;
    f.sport = in.sport;
    f.dport = in.dport;
    f.transport = IMSSEC_TRANSPORT_UDP;
    if (imssec_esp_ip_build(&f, (const uint8_t *)text, sizeof text - 1, g_pkt, sizeof g_pkt, &len) !=
        IMSSEC_OK)
        return;
    before = xfrm_stat(1, "XfrmInTmplMismatch");
    if (ns_enter(0) != 0)
        return;
    fd = socket(in.src.len == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    sl = to_sa(&in.dst, 0, &ss);
    if (fd < 0 || sendto(fd, g_pkt, len, 0, (struct sockaddr *)&ss, sl) != (ssize_t)len) {
        line("FAIL", "plain-dropped", "raw send: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    n = recv_wait(udp_port(&PC, in.dport), g_rx, sizeof g_rx, &ss, 400);
    after = xfrm_stat(1, "XfrmInTmplMismatch");
    if (n < 0 && after > before)
        line("PASS", "plain-dropped", "an unprotected datagram of UC_PS's exact flow (ports %u -> %u) was "
             "dropped by the P-CSCF's kernel (XfrmInTmplMismatch %ld -> %ld): the socket only ever sees "
             "that flow through the SA (7.1 rules 4, 7)",
             in.sport, in.dport, before, after);
    else
        line("FAIL", "plain-dropped", "an unprotected datagram of UC_PS's flow %s (XfrmInTmplMismatch %ld -> %ld)",
             n >= 0 ? "reached the P-CSCF's socket" : "vanished without the counter", before, after);
}

/* ---- TCP over the SAs (7.1 TCP case) ---------------------------------------------- */

static int tcp_listen(side *s, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl = to_sa(&s->ip, port, &ss);
    int fd, one = 1;
    if (ns_enter(s->ns) != 0)
        return -1;
    fd = socket(s->ip.len == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 2) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int tcp_connect(side *s, uint16_t sport, const imssec_addr *dst, uint16_t dport)
{
    struct sockaddr_storage ss;
    socklen_t sl = to_sa(&s->ip, sport, &ss);
    struct pollfd p;
    int fd, one = 1, err = 0;
    socklen_t el = sizeof err;
    if (ns_enter(s->ns) != 0)
        return -1;
    fd = socket(s->ip.len == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        close(fd);
        return -1;
    }
    sl = to_sa(dst, dport, &ss);
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    p.fd = fd;
    p.events = POLLOUT;
    if (poll(&p, 1, 4000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, 0);
    return fd;
}

static int tcp_read(int fd, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        struct pollfd p;
        ssize_t n;
        p.fd = fd;
        p.events = POLLIN;
        if (poll(&p, 1, 3000) != 1)
            return -1;
        n = recv(fd, buf + got, want - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static void tcp_abort(int fd)
{
    struct linger l = {1, 0}; /* RST: no FIN handshake left behind */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

/* One TCP connection from `a` (client port) to `b` (server port), a
 * request and its response on it (7.1: the response goes back on the
 * request's connection: PS_UC for a UE request, US_PC for a P-CSCF one). */
static int tcp_transaction(int from_ue, const char *what)
{
    side *a = from_ue ? &UE : &PC, *b = from_ue ? &PC : &UE;
    imssec_sa_ref out, in, rout, rin;
    imssec_sa_info oi, ri;
    imssec_sa_ev_args ea;
    char text[2048];
    size_t tl;
    int lfd, cfd, afd, up_b = b->role == IMSSEC_SA_ROLE_PCSCF, rc = -1;
    if (imssec_sa_route(&a->t, a->user, IMSSEC_TRANSPORT_TCP, 1, 0, &out) != IMSSEC_OK ||
        imssec_sa_get(&a->t, out, &oi) != IMSSEC_OK) {
        line("FAIL", what, "%s: no SA for a TCP request", a->name);
        return -1;
    }
    lfd = tcp_listen(b, oi.dport);
    cfd = lfd < 0 ? -1 : tcp_connect(a, oi.sport, &oi.dst, oi.dport);
    if (cfd < 0) {
        line("FAIL", what, "%s -> %s TCP connection %u -> %u failed (%s)", a->name, b->name, oi.sport,
             oi.dport, strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    afd = accept(lfd, NULL, NULL);
    close(lfd);
    tl = sip_text(text, sizeof text, "MESSAGE sip:bob@ims.example.net SIP/2.0", NULL, 900 + from_ue);
    if (afd < 0 || send(cfd, text, tl, 0) != (ssize_t)tl || tcp_read(afd, g_rx, tl) != 0 ||
        memcmp(g_rx, text, tl) != 0) {
        line("FAIL", what, "the request did not cross the TCP connection");
        goto out;
    }
    /* the receiver: the SA of (UE IP, UE port, P-CSCF port) */
    if (imssec_sa_find_ports(&b->t, up_b ? &a->ip : &b->ip, up_b ? oi.sport : oi.dport,
                             up_b ? oi.dport : oi.sport, up_b, &in) != IMSSEC_OK) {
        line("FAIL", what, "%s: no inbound SA for the TCP request's ports", b->name);
        goto out;
    }
    memset(&ea, 0, sizeof ea);
    ea.arrived_on = in;
    ea.transport = IMSSEC_TRANSPORT_TCP;
    ea.msg = IMSSEC_SA_MSG_REQUEST;
    if (ev(b, IMSSEC_SA_EV_MSG_IN, &ea, NULL, what) != IMSSEC_OK)
        goto out;
    if (imssec_sa_route(&b->t, b->user, IMSSEC_TRANSPORT_TCP, 0, in, &rout) != IMSSEC_OK ||
        imssec_sa_get(&b->t, rout, &ri) != IMSSEC_OK || ri.sport != oi.dport || ri.dport != oi.sport) {
        line("FAIL", what, "%s: the response SA is not the connection's other direction", b->name);
        goto out;
    }
    tl = sip_text(text, sizeof text, "SIP/2.0 200 OK", NULL, 900 + from_ue);
    if (send(afd, text, tl, 0) != (ssize_t)tl || tcp_read(cfd, g_rx, tl) != 0) {
        line("FAIL", what, "the response did not cross the TCP connection");
        goto out;
    }
    if (imssec_sa_find_ports(&a->t, up_b ? &a->ip : &b->ip, up_b ? oi.sport : oi.dport,
                             up_b ? oi.dport : oi.sport, !up_b, &rin) != IMSSEC_OK) {
        line("FAIL", what, "%s: no inbound SA for the response", a->name);
        goto out;
    }
    ea.arrived_on = rin;
    ea.msg = IMSSEC_SA_MSG_RESPONSE;
    if (ev(a, IMSSEC_SA_EV_MSG_IN, &ea, NULL, what) != IMSSEC_OK)
        goto out;
    rc = 0;
out:
    if (afd >= 0)
        tcp_abort(afd);
    tcp_abort(cfd);
    return rc;
}

/* ---- the ip(8) view: iproute2 decodes what the adapter installed ----------------- */

static void hexs(char *out, const uint8_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = 0;
}

static void check_ip_view(side *s, imssec_sa_ref ref)
{
    imssec_sa_info in;
    char out[4096], want[4][200], key[64];
    const char *au = NULL, *en = NULL;
    int i, ok = 1;
    if (!s->kernel || imssec_sa_get(&s->t, ref, &in) != IMSSEC_OK)
        return;
    (void)imssec_xfrm_alg_names(in.alg, in.ealg, &au, &en);
    if (sh(out, sizeof out, "ip -n %s xfrm state get src %s dst %s proto esp spi 0x%08x 2>&1",
           s->ns == 0 ? "A" : "B",
           fmt_addr(in.mode == IMSSEC_MODE_UDP_ENC_TUN && s->x.outer_local.len ? &s->x.outer_local : &in.src,
                    want[3]),
           fmt_addr(&in.dst, want[2]), in.spi) != 0) {
        line("FAIL", "iproute2", "%s: ip xfrm state get: %s", s->name, out);
        return;
    }
    snprintf(want[0], sizeof want[0], "proto esp spi 0x%08x reqid %u mode %s", in.spi, s->x.tag,
             in.mode == IMSSEC_MODE_TRANS ? "transport" : "tunnel");
    if (au) {
        hexs(key, in.ik, in.ik_len);
        snprintf(want[1], sizeof want[1], "auth-trunc %s 0x%s 96", au, key);
        hexs(key, in.ck, in.ck_len);
        /* iproute2 prints no key for a 0-bit one (ecb(cipher_null)) */
        if (in.ck_len)
            snprintf(want[2], sizeof want[2], "enc %s 0x%s", en, key);
        else
            snprintf(want[2], sizeof want[2], "enc %s", en);
    } else {
        hexs(key, in.ck_len ? in.ck : in.ik, in.ck_len ? in.ck_len : in.ik_len);
        snprintf(want[1], sizeof want[1], "aead %s 0x%s 128", en, key);
        want[2][0] = 0;
    }
    if (in.mode == IMSSEC_MODE_UDP_ENC_TUN)
        snprintf(want[3], sizeof want[3], "encap type espinudp sport %u", in.encap_sport ? in.encap_sport : 4500);
    else
        want[3][0] = 0;
    for (i = 0; i < 4; i++)
        if (want[i][0] && !strstr(out, want[i])) {
            ok = 0;
            line("FAIL", "iproute2", "%s: `ip xfrm state get` lacks \"%s\"", s->name, want[i]);
        }
    if (ok)
        line("PASS", "iproute2", "%s: iproute2 decodes the adapter's SA as \"%s\", \"%s %s <key> %s\"%s%s%s%s",
             s->name, want[0], au ? "auth-trunc" : "aead", au ? au : en, au ? "96" : "128",
             au ? ", \"enc " : "", au ? en : "", au ? " <key>\"" : "",
             want[3][0] ? ", \"encap type espinudp\"" : "");
}

/* ---- the scenarios ------------------------------------------------------------- */

static int setup_world(void)
{
    side_close(&UE);
    side_close(&PC);
    g_step_fail = 0;
    g_learned = 0;
    g_steps = 0;
    g_step_first[0] = 0;
    if (side_setup(&UE, "UE", IMSSEC_SA_ROLE_UE, 0, S->ue_k) != 0 ||
        side_setup(&PC, "P-CSCF", IMSSEC_SA_ROLE_PCSCF, 1, S->pc_k) != 0)
        return -1;
    if (S->nat == 1) {
        UE.ip = A("203.0.113.1");
        UE.local = A("198.51.100.20");
        PC.ip = A("203.0.113.10");
    } else if (S->fam == 4) {
        UE.ip = UE.local = A("192.0.2.20");
        PC.ip = A("192.0.2.10");
    } else {
        UE.ip = UE.local = A("2001:db8:1::20");
        PC.ip = A("2001:db8:1::10");
    }
    PC.local = PC.ip;
    UE.sip_fd = udp_bound(&UE, &UE.local, 5060);
    PC.sip_fd = udp_bound(&PC, &PC.ip, 5060);
    if (UE.sip_fd < 0 || PC.sip_fd < 0)
        return -1;
    if ((!UE.kernel && sw_socks(&UE) != 0) || (!PC.kernel && sw_socks(&PC) != 0)) {
        line("FAIL", "setup", "raw / UDP sockets for the built-in data plane: %s", strerror(errno));
        return -1;
    }
    io_random(NULL, g_ik, 16);
    io_random(NULL, g_ck, 16);
    return 0;
}

static void run_flow(void)
{
    reg r1, r2;
    imssec_sa_ev_args ua, a;
    imssec_sa_ev_out o;
    imssec_sa_ref pend[2] = {0, 0}, in, resp;
    int fail0 = g_fail;
    char text[2048];
    size_t tl;
    memset(&r1, 0, sizeof r1);
    if (setup_world() != 0) {
        line("FAIL", "setup", "could not set the scenario up");
        return;
    }
    check_both("set-up");
    /* ---- registration, SM1 .. SM12 ---- */
    if (reg_to_sm6(&r1, 0, &ua) != 0)
        return;
    if (ev(&UE, IMSSEC_SA_EV_CHALLENGE, &ua, &r1.ue7, "challenge") != IMSSEC_OK)
        return;
    check_both("UE CHALLENGE (SM6 received)");
    check_ip_view(&UE, r1.ue7.protect_with);
    if (reg_finish(&r1) != 0)
        return;
    check_lifetimes(r1.ue7.protect_with, r1.pc12.protect_with);
    {
        imssec_sa_info pi;
        char uenc[160] = "";
        memset(&pi, 0, sizeof pi);
        (void)imssec_sa_get(&PC.t, r1.pc12.protect_with, &pi);
        if (S->mode == IMSSEC_MODE_UDP_ENC_TUN) {
            if (PC.kernel && g_learned == 0)
                line("FAIL", "register", "the P-CSCF never got an XFRM_MSG_MAPPING: port_Uenc not learned");
            snprintf(uenc, sizeof uenc, "; port_Uenc %u learned %s (M.7.2)", pi.encap_dport,
                     PC.kernel ? "from the kernel's XFRM_MSG_MAPPING after SM7"
                               : "by imssec_sa_esp_unprotect from SM7");
        }
        if (g_fail == fail0)
            line("PASS", "register", "SM1/SM6 unprotected on 5060, SM7 on UC_PS, SM12 on PC_US through %s%s; "
                 "UE and P-CSCF ACTIVE%s",
                 UE.kernel && PC.kernel ? "both kernels" : UE.kernel ? "the UE's kernel and the P-CSCF's esp/"
                                                                     : "the UE's esp/ and the P-CSCF's kernel",
                 S->nat == 1 ? " and the NAT (the UE's public address from `received`)" : "", uenc);
    }
    /* ---- UDP traffic: MO and MT transactions ---- */
    if (transaction(1, 0, NULL, 1, "udp-mo") != 0 || transaction(0, 0, NULL, 1, "udp-mt") != 0)
        return;
    check_both("MO and MT MESSAGE over UDP");
    check_counters(1, "counters-udp");
    check_plain_dropped();
    if (S->mode == IMSSEC_MODE_UDP_ENC_TUN && UE.kernel) {
        uint64_t t0 = mono_ms(), next = 0;
        while (mono_ms() - t0 < 500)
            usleep(50000);
        (void)imssec_sa_tick(&UE.t, mono_ms(), &next);
        if (UE.x.keepalives > 0)
            line("PASS", "keepalive", "UE sent %llu RFC 3948 NAT keepalive(s) from its encap socket "
                 "(imssec_sa_tick after keepalive_ms idle, M.7.2)", (unsigned long long)UE.x.keepalives);
        else
            line("FAIL", "keepalive", "no keepalive after %u ms idle", 300u);
    }
    /* ---- TCP (7.1: a request on the client -> server SAs, the response
     * back on its connection) ---- */
    if (S->tcp && UE.kernel && PC.kernel) {
        if (tcp_transaction(1, "tcp") != 0 || tcp_transaction(0, "tcp") != 0)
            return;
        check_both("TCP transactions");
        check_counters(0, "counters-tcp");
    }
    /* ---- re-registration (7.4): old set kept for a pending transaction ---- */
    if (S->rereg) {
        int fail1 = g_fail;
        memset(&r2, 0, sizeof r2);
        /* a UE transaction on the current set, left open */
        if (transaction(1, 0, pend, 0, "rereg") != 0)
            return;
        imssec_sa_txn_begin(&UE.t, pend[0]);
        imssec_sa_txn_begin(&PC.t, pend[1]);
        if (reg_to_sm6(&r2, 1, &ua) != 0)
            return;
        if (ev(&UE, IMSSEC_SA_EV_CHALLENGE, &ua, &r2.ue7, "rereg") != IMSSEC_OK)
            return;
        check_both("re-registration: UE CHALLENGE");
        if (reg_finish(&r2) != 0)
            return;
        if (imssec_sa_count(&UE.t, UINT32_MAX) != 8 || imssec_sa_count(&PC.t, UINT32_MAX) != 8)
            line("FAIL", "rereg-keeps-old", "after SM12 the tables hold %zu / %zu SAs (want 8: old + new)",
                 imssec_sa_count(&UE.t, UINT32_MAX), imssec_sa_count(&PC.t, UINT32_MAX));
        /* a request on the new SAs: the P-CSCF switches (7.4.2a); the old
         * set stays for the pending transaction */
        if (transaction(1, 0, NULL, 1, "rereg") != 0)
            return;
        check_both("re-registration: first message on the new SAs");
        if (imssec_sa_count(&UE.t, UINT32_MAX) == 8 && imssec_sa_count(&PC.t, UINT32_MAX) == 8 &&
            g_fail == fail1)
            line("PASS", "rereg-keeps-old", "after the new set's SM12 and its first use %s: the old set "
                 "waits for the pending transaction (7.4)",
                 UE.kernel && PC.kernel ? "both kernels hold 8 SAs and 16 policies"
                                        : "the kernel holds 8 SAs and 16 policies, esp/ 8 SAs");
        /* the pending transaction ends: its response on the old set */
        if (imssec_sa_route(&PC.t, PC.user, IMSSEC_TRANSPORT_UDP, 0, pend[1], &resp) != IMSSEC_OK) {
            line("FAIL", "rereg-removes-old", "no old SA for the pending response");
            return;
        }
        tl = sip_text(text, sizeof text, "SIP/2.0 200 OK", NULL, 777);
        if (carry(&PC, &UE, resp, text, tl, &in, "rereg-removes-old") != 0)
            return;
        (void)imssec_sa_txn_end(&PC.t, pend[1], mono_ms());
        memset(&a, 0, sizeof a);
        a.arrived_on = in;
        a.transport = IMSSEC_TRANSPORT_UDP;
        a.msg = IMSSEC_SA_MSG_RESPONSE;
        if (ev(&UE, IMSSEC_SA_EV_MSG_IN, &a, NULL, "rereg-removes-old") != IMSSEC_OK)
            return;
        (void)imssec_sa_txn_end(&UE.t, pend[0], mono_ms());
        check_both("re-registration: the old set's transaction ended");
        if (imssec_sa_count(&UE.t, UINT32_MAX) == 4 && imssec_sa_count(&PC.t, UINT32_MAX) == 4 &&
            g_fail == fail1)
            line("PASS", "rereg-removes-old", "the old set's last transaction ended (its 200 on the old "
                 "PC_US): sa/ removed the old SAs and the adapter took their SAs and policies out of %s "
                 "(4 SAs, 8 policies left)",
                 UE.kernel && PC.kernel ? "both kernels" : "the kernel");
        else if (g_fail == fail1)
            line("FAIL", "rereg-removes-old", "tables hold %zu / %zu SAs after the transaction ended",
                 imssec_sa_count(&UE.t, UINT32_MAX), imssec_sa_count(&PC.t, UINT32_MAX));
    }
    /* ---- de-registration ---- */
    {
        int fail2 = g_fail;
        size_t nu = 0, np = 0, nua = 0, npa = 0;
        if (ev(&UE, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, "dereg") != IMSSEC_OK)
            return;
        tl = sip_text(text, sizeof text, "REGISTER sip:ims.example.net SIP/2.0", "Expires: 0\r\n", 999);
        if (carry(&UE, &PC, o.protect_with, text, tl, &in, "dereg") != 0)
            return;
        args(&a);
        a.arrived_on = in;
        a.ue_ip = UE.ip;
        a.via_ip = UE.ip;
        if (ev(&PC, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, "dereg") != IMSSEC_OK)
            return;
        if (imssec_sa_route(&PC.t, PC.user, IMSSEC_TRANSPORT_UDP, 0, in, &resp) != IMSSEC_OK)
            return;
        tl = sip_text(text, sizeof text, "SIP/2.0 200 OK", "Expires: 0\r\n", 999);
        if (carry(&PC, &UE, resp, text, tl, &in, "dereg") != 0)
            return;
        if (ev(&PC, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, "dereg") != IMSSEC_OK)
            return;
        memset(&a, 0, sizeof a);
        a.arrived_on = in;
        a.transport = IMSSEC_TRANSPORT_UDP;
        if (ev(&UE, IMSSEC_SA_EV_DEREG_DONE, &a, NULL, "dereg") != IMSSEC_OK)
            return;
        check_both("de-registration");
        if (UE.kernel) {
            imssec_xfrm_list(&UE.x, NULL, 0, &nu, NULL);
            imssec_xfrm_list_policies(&UE.x, NULL, 0, &np, NULL);
        }
        if (PC.kernel) {
            imssec_xfrm_list(&PC.x, NULL, 0, &nua, NULL);
            imssec_xfrm_list_policies(&PC.x, NULL, 0, &npa, NULL);
        }
        if (nu + np + nua + npa == 0 && imssec_sa_count(&UE.t, UINT32_MAX) == 0 &&
            imssec_sa_count(&PC.t, UINT32_MAX) == 0 && g_fail == fail2)
            line("PASS", "dereg-empty", "after de-registration neither kernel holds an SA or policy of "
                 "ours (UE: %d installs / %d removes / %d updates; P-CSCF: %d / %d / %d)",
                 UE.installs, UE.removes, UE.updates, PC.installs, PC.removes, PC.updates);
        else
            line("FAIL", "dereg-empty", "left: UE %zu SAs %zu policies, P-CSCF %zu SAs %zu policies", nu, np,
                 nua, npa);
    }
    if (g_step_fail == 0)
        line("PASS", "readback", "after each of %d steps (both sides) the kernel's SAs and policies read "
             "back equal sa/'s table: SPIs, directions, %s, mode, selectors, encap ports, UDP+TCP policies",
             g_steps, S->alg == IMSSEC_ALG_NULL || S->alg == IMSSEC_ALG_AES_GMAC ? "AEAD" : "auth-trunc + enc");
}

/* A refused SA and a refused policy: the kernel's errno reaches the caller
 * through imssec_errinfo.sys_errno, the table and the kernel unchanged. */
static void run_refuse(void)
{
    reg r;
    imssec_sa_ev_args ua;
    imssec_errinfo e;
    imssec_sa_ev_out o;
    char out[2048], b1[IMSSEC_ADDR_TEXT_MAX], b2[IMSSEC_ADDR_TEXT_MAX];
    size_t n = 0, np = 0;
    int rc;
    memset(&r, 0, sizeof r);
    if (setup_world() != 0 || reg_to_sm6(&r, 0, &ua) != 0)
        return;
    /* a foreign SA (another key manager: reqid 7) on (the UE's address,
     * spi_us): the third SA the UE installs, PC_US, collides */
    sh(out, sizeof out,
       "ip -n A xfrm state add src %s dst %s proto esp spi 0x%08x reqid 7 mode transport "
       "auth-trunc 'hmac(sha1)' 0x%040x 96 enc 'cbc(aes)' 0x%032x 2>&1",
       fmt_addr(&PC.ip, b1), fmt_addr(&UE.ip, b2), r.ue1.spi_s, 7, 9);
    memset(&e, 0, sizeof e);
    rc = imssec_sa_event(&UE.t, UE.user, IMSSEC_SA_EV_CHALLENGE, &ua, &o, mono_ms(), &e);
    imssec_xfrm_list(&UE.x, NULL, 0, &n, NULL);
    imssec_xfrm_list_policies(&UE.x, NULL, 0, &np, NULL);
    sh(out, sizeof out, "ip -n A xfrm state get src %s dst %s proto esp spi 0x%08x 2>&1", b1, b2,
       r.ue1.spi_s);
    if (rc == IMSSEC_E_CALLBACK && e.sys_errno == EEXIST && e.what && n == 0 && np == 0 &&
        imssec_sa_count(&UE.t, UINT32_MAX) == 0 &&
        imssec_sa_state(&UE.t, UE.user) == IMSSEC_SA_ST_REG_UNPROT && strstr(out, "reqid 7"))
        line("PASS", "refused-sa", "a foreign SA on (UE, spi_us): CHALLENGE returned %s with sys_errno "
             "EEXIST and what \"%s\"; the two SAs installed before it were removed again (kernel: 0 of "
             "ours, the foreign one intact), table unchanged (REG_UNPROT, 0 SAs; %d installs, %d failed, "
             "%d removes)",
             imssec_errname(rc), e.what, UE.installs, UE.failed_installs, UE.removes);
    else
        line("FAIL", "refused-sa", "rc %s sys_errno %d what %s; kernel %zu SAs %zu policies of ours; "
             "table %zu SAs state %s; foreign: %.80s",
             imssec_errname(rc), e.sys_errno, e.what ? e.what : "-", n, np,
             imssec_sa_count(&UE.t, UINT32_MAX), imssec_sa_state_name(imssec_sa_state(&UE.t, UE.user)),
             out);
    sh(NULL, 0, "ip -n A xfrm state delete src %s dst %s proto esp spi 0x%08x", b1, b2, r.ue1.spi_s);
    /* a foreign policy on the selectors of the UE's US_PC UDP policy: the
     * second SA's first policy is refused, the adapter takes that SA out
     * again, sa/ the first one */
    sh(out, sizeof out,
       "ip -n A xfrm policy add src %s dst %s proto udp sport %u dport %u dir out "
       "tmpl src %s dst %s proto esp reqid 7 mode transport 2>&1",
       b2, b1, r.ue1.port_s, ua.peer_port_c, b2, b1);
    memset(&e, 0, sizeof e);
    {
        int inst0 = UE.installs, rem0 = UE.removes;
        rc = imssec_sa_event(&UE.t, UE.user, IMSSEC_SA_EV_CHALLENGE, &ua, &o, mono_ms(), &e);
        imssec_xfrm_list(&UE.x, NULL, 0, &n, NULL);
        imssec_xfrm_list_policies(&UE.x, NULL, 0, &np, NULL);
        sh(out, sizeof out, "ip -n A xfrm policy get src %s dst %s proto udp sport %u dport %u dir out 2>&1",
           b2, b1, r.ue1.port_s, ua.peer_port_c);
        if (rc == IMSSEC_E_CALLBACK && e.sys_errno == EEXIST && e.what && strstr(e.what, "policy") &&
            n == 0 && np == 0 && imssec_sa_count(&UE.t, UINT32_MAX) == 0 && strstr(out, "reqid 7"))
            line("PASS", "refused-policy", "a foreign policy on US_PC's selectors: CHALLENGE returned %s, "
                 "sys_errno EEXIST, \"%s\"; the adapter deleted the SA it had just added, sa/ removed UC_PS "
                 "(%d install ok, %d remove): kernel 0 SAs / 0 policies of ours, the foreign policy intact",
                 imssec_errname(rc), e.what, UE.installs - inst0, UE.removes - rem0);
        else
            line("FAIL", "refused-policy", "rc %s sys_errno %d what %s; kernel %zu SAs %zu policies; table %zu",
                 imssec_errname(rc), e.sys_errno, e.what ? e.what : "-", n, np,
                 imssec_sa_count(&UE.t, UINT32_MAX));
    }
    sh(NULL, 0, "ip -n A xfrm policy delete src %s dst %s proto udp sport %u dport %u dir out", b2, b1,
       r.ue1.port_s, ua.peer_port_c);
    /* and with the way clear the same CHALLENGE succeeds */
    if (ev(&UE, IMSSEC_SA_EV_CHALLENGE, &ua, &r.ue7, "refused-retry") != IMSSEC_OK)
        return;
    check_both("CHALLENGE retried");
    if (reg_finish(&r) != 0)
        return;
    if (g_step_fail == 0)
        line("PASS", "refused-retry", "with the foreign entries gone the same CHALLENGE installs the set; "
             "SM7/SM12 go through it");
    imssec_sa_table_wipe(&UE.t);
    imssec_sa_table_wipe(&PC.t);
    imssec_xfrm_list(&UE.x, NULL, 0, &n, NULL);
    imssec_xfrm_list(&PC.x, NULL, 0, &np, NULL);
    if (n + np == 0)
        line("PASS", "wipe", "imssec_sa_table_wipe removed every SA from both kernels through the adapter");
    else
        line("FAIL", "wipe", "left %zu / %zu SAs", n, np);
}

/* The catalogue. */
#define SUITE(tag, a, e)                                                                    \
    {"v4-trans-" tag, 4, a, e, IMSSEC_MODE_TRANS, 0, 1, 1, 1, 1, 0},                        \
        {"v6-trans-" tag, 6, a, e, IMSSEC_MODE_TRANS, 0, 1, 1, 1, 1, 0},                    \
        {"v4-udpenc-" tag, 4, a, e, IMSSEC_MODE_UDP_ENC_TUN, 1, 1, 1, 1, 1, 0},             \
    {                                                                                       \
        "v6-udpenc-" tag, 6, a, e, IMSSEC_MODE_UDP_ENC_TUN, 2, 1, 1, 1, 1, 0                \
    }
static scen g_all[] = {
    SUITE("sha1-aes", IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC),
    SUITE("md5-3des", IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC),
    SUITE("sha1-null", IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL),
    SUITE("null-gcm", IMSSEC_ALG_NULL, IMSSEC_EALG_AES_GCM),
    SUITE("gmac-null", IMSSEC_ALG_AES_GMAC, IMSSEC_EALG_NULL),
    /* mixed: one end the kernel, the other the built-in esp/ engine */
    {"mixed-swue-v4-trans-sha1-aes", 4, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
     IMSSEC_MODE_TRANS, 0, 0, 1, 0, 1, 0},
    {"mixed-swpc-v4-trans-md5-3des", 4, IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC,
     IMSSEC_MODE_TRANS, 0, 1, 0, 0, 1, 0},
    {"mixed-swue-v4-udpenc-null-gcm", 4, IMSSEC_ALG_NULL, IMSSEC_EALG_AES_GCM,
     IMSSEC_MODE_UDP_ENC_TUN, 1, 0, 1, 0, 1, 0},
    {"mixed-swpc-v4-udpenc-gmac-null", 4, IMSSEC_ALG_AES_GMAC, IMSSEC_EALG_NULL,
     IMSSEC_MODE_UDP_ENC_TUN, 1, 1, 0, 0, 1, 0},
    {"refuse-v4-trans-sha1-aes", 4, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
     IMSSEC_MODE_TRANS, 0, 1, 1, 0, 0, 1},
};

static int cmd_run(int argc, char **argv)
{
    size_t i;
    int k, all = 0;
    for (k = 0; k < argc; k++) {
        if (strncmp(argv[k], "nat=", 4) == 0)
            g_have_nat = atoi(argv[k] + 4);
        else if (strcmp(argv[k], "all") == 0)
            all = 1;
    }
    if (ns_open() != 0)
        return 2;
    for (i = 0; i < sizeof g_all / sizeof g_all[0]; i++) {
        scen sc = g_all[i];
        int want = all;
        uint64_t t0 = mono_ms();
        for (k = 0; k < argc; k++)
            want |= strcmp(argv[k], sc.name) == 0;
        if (!want)
            continue;
        snprintf(g_scen, sizeof g_scen, "%s", sc.name);
        if (sc.nat == 1 && !g_have_nat) {
            /* no NAT in the guest: the encapsulation between the two
             * namespaces, UDP-enc-tun signalled (port_Uenc = 4500) */
            sc.nat = 2;
            note("%s: no NAT namespace (iptables MASQUERADE unavailable): direct UDP-enc-tun", sc.name);
        }
        S = &sc;
        if (sc.refuse)
            run_refuse();
        else
            run_flow();
        side_close(&UE);
        side_close(&PC);
        note("%s took %llu ms", sc.name, (unsigned long long)(mono_ms() - t0));
    }
    return 0;
}

/* ---- crash and restart ------------------------------------------------------------ */

static scen g_crash = {"crash-v4-trans-sha1-aes", 4, IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC,
                       IMSSEC_MODE_TRANS, 0, 1, 1, 0, 0, 0};

static int cmd_crash(const char *ready)
{
    reg r;
    imssec_sa_ev_args ua;
    FILE *f;
    size_t a = 0, b = 0;
    if (ns_open() != 0)
        return 2;
    snprintf(g_scen, sizeof g_scen, "%s", g_crash.name);
    S = &g_crash;
    memset(&r, 0, sizeof r);
    if (setup_world() != 0 || reg_to_sm6(&r, 0, &ua) != 0 ||
        ev(&UE, IMSSEC_SA_EV_CHALLENGE, &ua, &r.ue7, "crash") != IMSSEC_OK || reg_finish(&r) != 0)
        return 1;
    /* mid-flow: a re-registration under way, its new set installed at the
     * P-CSCF (SM6 sent), not yet at the UE */
    {
        reg r2;
        imssec_sa_ev_args ua2;
        memset(&r2, 0, sizeof r2);
        if (reg_to_sm6(&r2, 1, &ua2) != 0)
            return 1;
    }
    imssec_xfrm_list(&UE.x, NULL, 0, &a, NULL);
    imssec_xfrm_list(&PC.x, NULL, 0, &b, NULL);
    note("crash: registered, re-registration half-way (SM6 sent); the kernels hold %zu (A) and %zu (B) "
         "SAs of ours; waiting to be killed", a, b);
    f = fopen(ready, "w");
    if (f) {
        fprintf(f, "%zu %zu\n", a, b);
        fclose(f);
    }
    for (;;)
        pause();
    return 0;
}

static int cmd_restart(void)
{
    int k, fail0 = g_fail;
    if (ns_open() != 0)
        return 2;
    snprintf(g_scen, sizeof g_scen, "crash-restart");
    for (k = 0; k < 2; k++) {
        imssec_xfrm x;
        imssec_errinfo e;
        size_t before = 0, pol = 0, ns_ = 0, np = 0, after = 0, pafter = 0;
        ns_enter(k);
        imssec_xfrm_init(&x);
        memset(&e, 0, sizeof e);
        if (imssec_xfrm_open(&x, &e) != IMSSEC_OK) {
            line("FAIL", "flush-stale", "open: %s", e.what);
            continue;
        }
        imssec_xfrm_list(&x, NULL, 0, &before, NULL);
        imssec_xfrm_list_policies(&x, NULL, 0, &pol, NULL);
        if (imssec_xfrm_flush_stale(&x, &ns_, &np, &e) != IMSSEC_OK)
            line("FAIL", "flush-stale", "%s: %s errno %d", k ? "B" : "A", e.what, e.sys_errno);
        imssec_xfrm_list(&x, NULL, 0, &after, NULL);
        imssec_xfrm_list_policies(&x, NULL, 0, &pafter, NULL);
        if (before > 0 && pol == 2 * before && ns_ == before && np == pol && after == 0 && pafter == 0)
            line("PASS", "flush-stale", "namespace %s after the crash: %zu SAs and %zu policies with the "
                 "tag left behind; imssec_xfrm_flush_stale removed exactly those (%zu / %zu), none remain",
                 k ? "B (P-CSCF)" : "A (UE)", before, pol, ns_, np);
        else
            line("FAIL", "flush-stale", "namespace %s: before %zu SAs %zu policies, removed %zu / %zu, "
                 "after %zu / %zu",
                 k ? "B" : "A", before, pol, ns_, np, after, pafter);
        imssec_xfrm_close(&x);
    }
    return g_fail == fail0 ? 0 : 1;
}

static int cmd_list(void)
{
    int k;
    if (ns_open() != 0)
        return 2;
    for (k = 0; k < 2; k++) {
        imssec_xfrm x;
        imssec_xfrm_sa ks[64];
        size_t n = 0, i;
        char b1[IMSSEC_ADDR_TEXT_MAX], b2[IMSSEC_ADDR_TEXT_MAX];
        ns_enter(k);
        imssec_xfrm_init(&x);
        if (imssec_xfrm_open(&x, NULL) != IMSSEC_OK)
            continue;
        imssec_xfrm_list(&x, ks, 64, &n, NULL);
        for (i = 0; i < n; i++)
            printf("%s spi 0x%08x %s -> %s %s/%s packets %llu\n", k ? "B" : "A", ks[i].spi,
                   fmt_addr(&ks[i].src, b1), fmt_addr(&ks[i].dst, b2), ks[i].auth, ks[i].enc,
                   (unsigned long long)ks[i].packets);
        imssec_xfrm_close(&x);
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    UE.sip_fd = PC.sip_fd = -1;
    if (argc >= 2 && strcmp(argv[1], "bytes") == 0)
        return cmd_bytes();
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        cmd_run(argc - 2, argv + 2);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "crash") == 0)
        return cmd_crash(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "restart") == 0)
        return cmd_restart();
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return cmd_list();
    fprintf(stderr, "usage: xfrm_flow bytes | run [nat=0|1] all|SCEN... | crash READY | restart | list\n");
    return 2;
}
