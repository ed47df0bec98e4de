/*
 * imssec_xfrm.h -- the Linux kernel as the data plane of sa/: an optional
 * adapter behind imssec_sa_callbacks that installs the SAs of TS 33.203 7.1
 * (and Annex M's UDP-encapsulated tunnel mode) into the kernel's XFRM
 * tables over a NETLINK_XFRM socket.  Not part of the unity translation
 * unit imssec.c (which does no I/O): its own source xfrm/imssec_xfrm.c and
 * library build/libimssec_xfrm.a, written against the kernel uapi headers
 * <linux/xfrm.h> and <linux/netlink.h> (no libmnl, no libnl).
 *
 * The conventions of imssec.h hold (caller-owned structs, no malloc,
 * IMSSEC_OK / negative imssec_err, optional imssec_errinfo last), with this
 * module's additions:
 *   - It does I/O: every function that talks to the kernel sends one or
 *     more requests with NLM_F_ACK and reads the answer of each (the
 *     NLMSG_ERROR with the request's sequence number and our port id; a
 *     GET's answer and then its ACK; a dump up to NLMSG_DONE) before it
 *     returns.  A refusal is IMSSEC_E_CALLBACK with err->sys_errno = the
 *     kernel's errno and err->what = which request (a constant string);
 *     the kernel's extended-ACK text, when it sent one, is in
 *     imssec_xfrm.ext_ack until the next request (never in err: errinfo
 *     strings are constants).  Socket failures are reported the same way.
 *   - Time: the install callback is not given the caller's clock, so the
 *     adapter reads one: imssec_xfrm.clock_ms (NULL = CLOCK_MONOTONIC in
 *     milliseconds).  It must be the clock whose values the caller passes
 *     to sa/ as now_ms (expires_ms is on that clock).
 *   - One imssec_xfrm talks to the network namespace it was opened in and
 *     must not be used from two threads at once (imssec.h "Threads").
 *
 * What goes into the kernel for one imssec_sa_info (TS 33.203 7.1, Annex
 * I, Annex M; the uapi names):
 *   SA       XFRM_MSG_NEWSA: id = (daddr, SPI, IPPROTO_ESP), saddr, family
 *            AF_INET / AF_INET6; mode XFRM_MODE_TRANSPORT, or for
 *            UDP-enc-tun XFRM_MODE_TUNNEL with XFRMA_ENCAP
 *            {UDP_ENCAP_ESPINUDP, encap_sport, encap_dport} (RFC 3948);
 *            reqid = the tag (below); selector = the inner addresses (/32,
 *            /128) and the protected ports with proto 0, so that the one SA
 *            carries UDP and TCP (7.1) and nothing on other ports.
 *            Algorithms as imssec_sa_info gives the Annex I keys:
 *              alg HMAC-MD5-96    XFRMA_ALG_AUTH_TRUNC "hmac(md5)",  128-bit key, 96-bit ICV
 *              alg HMAC-SHA-1-96  XFRMA_ALG_AUTH_TRUNC "hmac(sha1)", 160-bit key, 96-bit ICV
 *              ealg NULL          XFRMA_ALG_CRYPT "ecb(cipher_null)", no key (RFC 2410)
 *              ealg DES-EDE3-CBC  XFRMA_ALG_CRYPT "cbc(des3_ede)", 192 bits (RFC 2451)
 *              ealg AES-CBC       XFRMA_ALG_CRYPT "cbc(aes)", 128 bits (RFC 3602)
 *              ealg AES-GCM       XFRMA_ALG_AEAD "rfc4106(gcm(aes))", key || salt
 *                                 (160 bits), 128-bit ICV (RFC 4106); alg NULL
 *              alg AES-GMAC       XFRMA_ALG_AEAD "rfc4543(gcm(aes))", key || salt
 *                                 (160 bits), 128-bit ICV (RFC 4543); ealg NULL
 *            Inbound SAs get the anti-replay window imssec_xfrm.replay_window
 *            (RFC 4303 3.4.3): up to 32 bits in xfrm_usersa_info, above that
 *            as XFRMA_REPLAY_ESN_VAL (bitmap mode; ESN is never negotiated by
 *            TS 33.203, so XFRM_STATE_ESN stays off).  Lifetimes: soft = sa/'s
 *            expiry (the kernel reports XFRM_MSG_EXPIRE then), hard = expiry +
 *            lifetime_margin_s: sa/ deletes the SA itself (7.4); the kernel's
 *            hard limit is only a backstop for a crashed process.
 *   policy   two XFRM_MSG_NEWPOLICY per SA, IPPROTO_UDP and IPPROTO_TCP (a
 *            policy selector has one protocol, and ports only mean anything
 *            with one), dir XFRM_POLICY_OUT for an outbound SA and
 *            XFRM_POLICY_IN for an inbound one, selector = the SA's, one
 *            template (XFRMA_TMPL) naming exactly that SA: its outer
 *            addresses, SPI, ESP, mode and reqid.  Inbound, the template
 *            makes the kernel drop a packet of the SA's flow (addresses and
 *            both ports) that did not arrive on that SA, so an application
 *            may name a received datagram's SA by its (source address,
 *            source port, destination port) with imssec_sa_find_ports (7.1
 *            rules 4 and 7); from any other source port a datagram is
 *            unprotected traffic.  No FWD policies: the host is an end point.
 *   order    install: SA, then its policies (a policy never points to a
 *            missing SA, which would send an ACQUIRE); a failing policy
 *            deletes what this install made, so a refused install leaves
 *            the kernel as it was and sa/ undoes the rest of the step.
 *            remove: policies, then the SA.  update (port_Uenc learned,
 *            M.7.2): XFRM_MSG_UPDSA with the new XFRMA_ENCAP (the kernel
 *            keeps keys, counters and the replay state).
 *   refused  A NEWSA whose (daddr, SPI, ESP) exists is EEXIST; a policy
 *            whose selector and direction exist is EEXIST: never silently
 *            absent.  Before it deletes or updates, the adapter reads the
 *            entry back (XFRM_MSG_GETSA / GETPOLICY) and touches it only if
 *            it carries the tag.
 *
 * Tagging.  Every SA the adapter creates has reqid == imssec_xfrm.tag and
 * every policy it creates has one template whose reqid is the tag.  The
 * reqid is the one identifier XFRM stores for the key manager without
 * changing which packets match (XFRMA_MARK and XFRMA_IF_ID change the
 * lookup; XFRMA_SEC_CTX needs an LSM), and a template with reqid R only
 * ever uses SAs with reqid R, so a foreign SA can never serve one of our
 * policies either.  The default tag, IMSSEC_XFRM_TAG_DEFAULT = 0x33203000
 * ("33.203"), leaves the low 12 bits for an instance number when several
 * processes (or tables) share a network namespace: give each its own tag
 * (imssec_xfrm_refresh() counts a tagged SA its table does not hold as an
 * orphan, and flush_stale() removes every SA of the tag).  Key
 * managers number their reqids from 1 upwards (strongSwan), so the default
 * is far from theirs.  imssec_xfrm_flush_stale() removes exactly the SAs
 * with reqid == tag and the policies with a template of reqid == tag.
 *
 * UE behind a NAT (Annex M, UDP-enc-tun): sa/ stores the UE's public
 * address as the inner one (M.7.1).  The kernel's UE needs its local
 * address as the outer source of its outbound SAs and the outer destination
 * (the SA's daddr, what inbound packets are looked up by) of its inbound
 * ones: set imssec_xfrm.outer_local (the same rule as
 * imssec_sa_esp_pool.outer_local).  The inner source is the public address,
 * so the UE must have that address configured locally (e.g. a /32 on lo)
 * and bind its protected sockets to it.  Both ends need a UDP socket with
 * UDP_ENCAP_ESPINUDP on port 4500 for the kernel to decapsulate (RFC 3948):
 * imssec_xfrm_encap_open().
 */
#ifndef IMSSEC_XFRM_H
#define IMSSEC_XFRM_H

#include "imssec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default tag: the reqid of every SA and policy template made. */
#define IMSSEC_XFRM_TAG_DEFAULT 0x33203000u
/* Defaults of imssec_xfrm_init(). */
#define IMSSEC_XFRM_REPLAY_DEFAULT 64u     /* bits (Linux's and RFC 4303 3.4.3's 64) */
#define IMSSEC_XFRM_MARGIN_DEFAULT 60u     /* s: kernel hard lifetime after sa/'s expiry */
#define IMSSEC_XFRM_PRIORITY_DEFAULT 1000u /* policy priority (lower wins) */
#define IMSSEC_XFRM_TIMEOUT_DEFAULT 2000u  /* ms to wait for the kernel's answer */
/* Largest window the kernel takes (XFRMA_REPLAY_ESN_MAX), bits. */
#define IMSSEC_XFRM_REPLAY_MAX 4096u
/* Receive buffer inside imssec_xfrm: one netlink read (a dump part). */
#define IMSSEC_XFRM_BUF 16384
/* Longest request the adapter builds (an SA with a 4096-bit window). */
#define IMSSEC_XFRM_MSG_MAX 1536

/* The adapter.  Public fields are settings (set them between
 * imssec_xfrm_init() and imssec_xfrm_open(); the first four may also change
 * later, for SAs installed afterwards) and diagnostics (read them). */
typedef struct imssec_xfrm {
    uint32_t tag;            /* reqid of our SAs and templates; IMSSEC_XFRM_TAG_DEFAULT */
    uint32_t priority;       /* policy priority; IMSSEC_XFRM_PRIORITY_DEFAULT */
    uint32_t replay_window;  /* inbound SAs, bits, 1..IMSSEC_XFRM_REPLAY_MAX; 64 */
    uint32_t lifetime_margin_s; /* kernel hard lifetime = sa/'s expiry + this; 60 */
    imssec_addr outer_local; /* UE behind a NAT: its local (outer) address; len 0 = none */
    uint32_t timeout_ms;     /* per kernel answer; IMSSEC_XFRM_TIMEOUT_DEFAULT */
    int listen_mapping;      /* P-CSCF with Annex M: 1 = open() joins XFRMNLGRP_MAPPING */
    /* The clock of sa/'s now_ms (see above).  NULL = CLOCK_MONOTONIC, ms. */
    uint64_t (*clock_ms)(void *user);
    void *clock_user;
    /* Diagnostics. */
    int last_errno;          /* errno of the last refused request, 0 = none */
    char ext_ack[128];       /* the kernel's extended ACK message of it, NUL-terminated */
    uint64_t requests, refused; /* requests sent / refused by the kernel */
    uint64_t keepalives;     /* NAT keepalives sent by the keepalive callback */
    /* Private. */
    int fd_, map_fd_, encap_fd_[2]; /* netlink, mapping group, UDP encap v4/v6 */
    uint32_t seq_, portid_;
    imssec_addr ka_to_;      /* keepalive destination (last outbound UDP-enc-tun SA) */
    uint16_t ka_port_;
    uint64_t buf_[IMSSEC_XFRM_BUF / 8]; /* the kernel's answers (aligned for nlmsghdr) */
} imssec_xfrm;

/* Defaults (above), no sockets (every fd -1).  Cannot fail. */
IMSSEC_API void imssec_xfrm_init(imssec_xfrm *x);

/* Open the NETLINK_XFRM socket (and, with listen_mapping, the one that
 * receives XFRM_MSG_MAPPING) in the calling thread's network namespace.
 * Needs CAP_NET_ADMIN for everything that follows.  IMSSEC_OK;
 * IMSSEC_E_PARAM (a setting out of range); IMSSEC_E_STATE (already open);
 * IMSSEC_E_CALLBACK (socket / bind failed: err->sys_errno). */
IMSSEC_API int imssec_xfrm_open(imssec_xfrm *x, imssec_errinfo *err);

/* Close every socket.  Removes nothing from the kernel: wipe the table
 * (imssec_sa_table_wipe calls remove for every SA) before, or let the next
 * start's imssec_xfrm_flush_stale() find the leftovers. */
IMSSEC_API void imssec_xfrm_close(imssec_xfrm *x);

/* Fill *cb with the adapter's install / update / remove and keepalive
 * (user = x); give cb to imssec_sa_table_setup().  x must stay open for
 * the table's life.  The callbacks put the kernel's errno in
 * err->sys_errno.  keepalive (UE, UDP-enc-tun, M.7.2) sends the RFC 3948
 * one-byte 0xFF from the encapsulation socket to the P-CSCF's encap port
 * of the last outbound UDP-enc-tun SA installed. */
IMSSEC_API void imssec_xfrm_callbacks(imssec_sa_callbacks *cb, imssec_xfrm *x);

/* Open the UDP socket the kernel decapsulates ESP-in-UDP on: bound to the
 * wildcard address of `family` (4 or 6; IPv6 with IPV6_V6ONLY) and `port`
 * (4500, RFC 3948), with UDP_ENCAP = UDP_ENCAP_ESPINUDP.  Kept in x (closed
 * by imssec_xfrm_close), used for keepalives.  IMSSEC_OK, IMSSEC_E_PARAM,
 * IMSSEC_E_STATE (one of this family is open), IMSSEC_E_CALLBACK. */
IMSSEC_API int imssec_xfrm_encap_open(imssec_xfrm *x, int family, uint16_t port,
                                      imssec_errinfo *err);

/* At start-up, after a crash: delete every policy with a template of
 * reqid == x->tag, then every SA with reqid == x->tag, and nothing else.
 * n_sas / n_policies (optional) receive how many were deleted.  IMSSEC_OK
 * or IMSSEC_E_CALLBACK (the first refusal; the rest is still tried). */
IMSSEC_API int imssec_xfrm_flush_stale(imssec_xfrm *x, size_t *n_sas, size_t *n_policies,
                                       imssec_errinfo *err);

/* One of our SAs as the kernel holds it (imssec_xfrm_list). */
typedef struct imssec_xfrm_sa {
    uint32_t spi, reqid;
    uint8_t proto;            /* IPPROTO_ESP */
    uint8_t mode;             /* enum imssec_mode: TRANS, or UDP_ENC_TUN (tunnel with encap) */
    imssec_addr src, dst;     /* the SA's (outer) addresses: saddr, id.daddr */
    imssec_addr sel_src, sel_dst; /* its selector: the inner addresses */
    uint16_t sel_sport, sel_dport; /* and the protected ports */
    uint16_t encap_sport, encap_dport; /* XFRMA_ENCAP, 0 without */
    char auth[64];            /* "hmac(sha1)", "" without (AEAD) */
    char enc[64];             /* "cbc(aes)", "ecb(cipher_null)", "rfc4106(gcm(aes))", ... */
    uint32_t auth_key_bits, auth_trunc_bits, enc_key_bits, icv_bits;
    uint32_t replay_window;   /* bits (0 for our outbound SAs) */
    uint64_t packets, bytes;  /* the kernel's counters (xfrm_lifetime_cur) */
    uint32_t replay, integrity_failed; /* xfrm_stats */
    uint64_t soft_add_s, hard_add_s;   /* lifetimes, s after add_time (0 = none) */
    uint64_t add_time;        /* when the kernel added it (wall clock, s) */
} imssec_xfrm_sa;

/* Read back our SAs: an XFRM_MSG_GETSA dump filtered by the tag, in the
 * kernel's order, into out[0..out_cap).  Output convention, except that
 * on IMSSEC_E_SPACE out[0..out_cap) is zeroed (one dump fills and counts).
 * IMSSEC_E_CALLBACK on a refusal. */
IMSSEC_API int imssec_xfrm_list(imssec_xfrm *x, imssec_xfrm_sa *out, size_t out_cap,
                                size_t *out_len, imssec_errinfo *err);

/* One of our policies (imssec_xfrm_list_policies). */
typedef struct imssec_xfrm_policy {
    uint32_t index, priority;
    uint8_t dir;               /* XFRM_POLICY_IN (0) / XFRM_POLICY_OUT (1) */
    uint8_t proto;             /* IPPROTO_UDP / IPPROTO_TCP */
    uint8_t tmpl_mode;         /* enum imssec_mode of its template */
    imssec_addr src, dst;      /* selector */
    uint16_t sport, dport;
    uint32_t tmpl_spi;         /* the SA its template names */
    imssec_addr tmpl_src, tmpl_dst;
} imssec_xfrm_policy;

/* The same for policies (XFRM_MSG_GETPOLICY dump, filtered by a template
 * with reqid == tag). */
IMSSEC_API int imssec_xfrm_list_policies(imssec_xfrm *x, imssec_xfrm_policy *out,
                                         size_t out_cap, size_t *out_len, imssec_errinfo *err);

/* Follow sa/'s lifetimes.  sa/ lengthens an SA's expiry without a callback
 * (SM12: "the lifetime ... expire[s] shortly after the registration timer",
 * 7.4.1a / 7.4.2a), so call this after a SUCCESS event (and whenever the
 * caller likes): every SA of ours that table t holds (found by SPI and by
 * its selectors, imssec_sa_find_spi / _find_ports) whose kernel lifetimes
 * differ from expires_ms by more than a second is updated
 * (XFRM_MSG_UPDSA: lifetimes only).  updated / orphans (optional): how
 * many were updated, how many of ours t does not hold.  IMSSEC_OK or
 * IMSSEC_E_CALLBACK. */
IMSSEC_API int imssec_xfrm_refresh(imssec_xfrm *x, const imssec_sa_table *t, size_t *updated,
                                   size_t *orphans, imssec_errinfo *err);

/* P-CSCF, M.7.2 with the kernel's ESP: the kernel decapsulates, so the
 * application never sees the UE's NAT port; instead the kernel reports a
 * packet on an inbound UDP-encapsulated SA from another source port than
 * the SA's encap_sport as XFRM_MSG_MAPPING (group XFRMNLGRP_MAPPING; needs
 * listen_mapping = 1 at open).  The adapter installs a P-CSCF's inbound
 * UDP-enc-tun SAs with encap_sport = sa/'s port_Uenc, 0 while unknown, so
 * that the first packet is reported.  This reads every pending report
 * (without blocking) and, for each of our SAs that t holds, calls
 * imssec_sa_learn_uenc(t, sa, new port) -- which calls the update callback
 * for the set's SAs.  learned (optional): how many were applied.  Call it
 * when imssec_xfrm_mapping_fd() is readable, or before answering a message
 * that came on a UDP-enc-tun SA.  IMSSEC_OK; IMSSEC_E_STATE (not
 * listening); IMSSEC_E_CALLBACK (a read failed, or learning did: the
 * remaining reports are still read). */
IMSSEC_API int imssec_xfrm_learn_uenc(imssec_xfrm *x, imssec_sa_table *t, size_t *learned,
                                      imssec_errinfo *err);

/* The mapping socket, for poll(); -1 when not listening. */
IMSSEC_API int imssec_xfrm_mapping_fd(const imssec_xfrm *x);

/* The requests, encoded into a caller buffer (what the callbacks send;
 * exposed for tests).  One netlink message: nlmsghdr (flags NLM_F_REQUEST
 * | NLM_F_ACK, and NLM_F_CREATE | NLM_F_EXCL for a NEWSA / NEWPOLICY),
 * then the uapi struct and its attributes.
 *   imssec_xfrm_sa_msg      XFRM_MSG_NEWSA or XFRM_MSG_UPDSA (msg_type)
 *                           for sa, with soft / hard lifetimes in seconds
 *                           after the add time (0 = none)
 *   imssec_xfrm_policy_msg  XFRM_MSG_NEWPOLICY for sa and one transport
 *                           (IMSSEC_TRANSPORT_UDP / _TCP)
 * Output convention (out_cap >= IMSSEC_XFRM_MSG_MAX always suffices).
 * IMSSEC_E_PARAM: address lengths not 4 / 16 or different, an SPI 0;
 * IMSSEC_E_UNSUPPORTED: an algorithm pair or mode with no kernel
 * equivalent here (alg NULL without AES-GCM, AES-GCM with an alg, AES-GMAC
 * with an ealg, IMSSEC_MODE_UDP_ENC_TRANS), a key of another length than
 * Annex I's.  (IMSSEC_MODE_TUN, never negotiated by sa/, is installed as
 * XFRM_MODE_TUNNEL without XFRMA_ENCAP.) */
IMSSEC_API int imssec_xfrm_sa_msg(const imssec_xfrm *x, const imssec_sa_info *sa, int msg_type,
                                  uint32_t seq, uint64_t soft_s, uint64_t hard_s, uint8_t *out,
                                  size_t out_cap, size_t *out_len, imssec_errinfo *err);
IMSSEC_API int imssec_xfrm_policy_msg(const imssec_xfrm *x, const imssec_sa_info *sa,
                                      int transport, uint32_t seq, uint8_t *out, size_t out_cap,
                                      size_t *out_len, imssec_errinfo *err);

/* The kernel's algorithm names for an SA's alg / ealg (the table above):
 * *auth NULL for the AEAD suites, *enc never NULL on IMSSEC_OK.
 * IMSSEC_OK or IMSSEC_E_UNSUPPORTED. */
IMSSEC_API int imssec_xfrm_alg_names(int alg, int ealg, const char **auth, const char **enc);

#ifdef __cplusplus
}
#endif

#endif /* IMSSEC_XFRM_H */
