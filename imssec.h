/*
 * imssec.h -- the only public header of imssec, an embeddable C99 library for
 * 3GPP IMS security: IMS AKA and the SIP digest that carries it, the RFC 3329
 * security agreement, the IPsec SA table with the UE and P-CSCF state
 * machines of TS 33.203, and a software ESP engine.
 *
 * SPDX-License-Identifier: MIT
 *
 * ===========================================================================
 * Conventions (they hold for every function below unless its comment says
 * otherwise)
 * ===========================================================================
 *
 * Names.  Every public name starts with `imssec_` / `IMSSEC_` and then the
 *   module: `imssec_aka_`, `imssec_digest_` (the digest half of aka/),
 *   `imssec_secagree_`, `imssec_esp_`, `imssec_sa_`.  The vocabulary that
 *   crosses modules (text slices, addresses, algorithms, modes, transports,
 *   error details) has no module part: imssec_str, imssec_addr, imssec_alg,
 *   imssec_ealg, imssec_mode, imssec_transport, imssec_errinfo.  A value
 *   produced by one module is passed to the next one unchanged: there is no
 *   second enum for the same thing anywhere.
 *
 * Memory.  The caller owns all memory.  The library never allocates, has no
 *   global or static mutable state, and keeps no pointer to caller memory
 *   after a call returns, except where a function documents that an object
 *   refers to storage the caller handed it (a table's memory, a parsed
 *   header's slices into the input text); such storage must outlive the
 *   object.  Objects are plain structs so that `sizeof` works for static or
 *   stack allocation.  Fields whose names end in `_` are private: read them
 *   only through the functions of their module, never write them.
 *
 * Life cycle.  `*_init()` returns void, cannot fail and sets every field.
 *   `*_wipe()` zeroizes an object including any key material; there is no
 *   `*_free()` because nothing is ever allocated.
 *
 * NULL.  Pointer parameters must not be NULL unless documented as optional.
 *   A (pointer, length) pair with length 0 may have a NULL pointer.
 *   Argument checks return IMSSEC_E_PARAM; peer-controlled input can never
 *   cause undefined behaviour.
 *
 * Text and bytes.  Text is an imssec_str (pointer, length), never
 *   NUL-terminated unless stated, in structures and parameters alike.  Bytes
 *   are (const uint8_t *, size_t) pairs, or arrays whose size constant is
 *   written into the prototype (`uint8_t rand[IMSSEC_AKA_RAND_LEN]`).
 *
 * Outputs.  A function that writes a variable amount takes three
 *   parameters: the output, its capacity and its length, named `out,
 *   out_cap, out_len` (or `<name>, <name>_cap, <name>_len` when there are
 *   several outputs).  The capacity counts the output's own elements: bytes
 *   for text and packets, entries for arrays.  On IMSSEC_OK the length is
 *   what was written; on IMSSEC_E_SPACE it is what would be needed and
 *   nothing was written; on any other error output and length are
 *   unchanged.  A capacity of 0 with a NULL output only measures.  Text
 *   outputs are not NUL-terminated.
 *
 * Errors.  Functions that can fail return `int`: IMSSEC_OK (0) or a negative
 *   `imssec_err` value.  Per-packet and per-message verdicts (replay, ICV
 *   failure, no SA, MAC failure, wrong SA, ...) are distinct from fatal
 *   errors: imssec_err_is_verdict() tells them apart.  On any error, outputs
 *   and object state are left as they were unless documented otherwise.
 *   Functions whose failures need explaining take an optional last
 *   parameter `imssec_errinfo *err` that receives why (the parameter, the
 *   state and event, the clause, the offset).  imssec_strerror() never
 *   returns NULL.
 *
 * Time and randomness.  The library has no clock and no RNG.  Time is passed
 *   in as an argument (`now_ms`, milliseconds from any monotonic origin the
 *   caller chooses); random bytes come from the caller's `imssec_io.random`
 *   callback or are passed in (for known-answer tests).
 *
 * Threads.  No locking inside.  Distinct objects may be used from distinct
 *   threads at the same time; one object must not be used from two threads at
 *   once.  Callbacks must not call back into the object that invoked them.
 *
 * Secrets.  MACs, ICVs, digest responses and RES are compared in constant
 *   time.  Keys are wiped when the object holding them is wiped or dropped,
 *   and are never passed to the log callback; only the separate, optional
 *   key-log callback ever sees them, and only when the caller installs it.
 *
 * Specifications.  Every rule cites its clause where it is implemented and
 *   where it is documented here; "7.1" alone means TS 33.203 v7.7.0 clause
 *   7.1.  Tests carry the clause in their names (sa_7_1_udp_...).
 */
#ifndef IMSSEC_H
#define IMSSEC_H

#if defined(IMSSEC_CONFIG_FILE)
#include IMSSEC_CONFIG_FILE /* the integrator's overrides come first */
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===========================================================================
 * Configuration (compile-time).  Override any of these in the file named by
 * IMSSEC_CONFIG_FILE, or with -D.  imssec.c rejects impossible values with
 * #error; imssec_build_info() lists every one of them as compiled.  The
 * knobs marked (size) change the size of a public struct: every translation
 * unit that includes imssec.h must see the same value.
 * ======================================================================== */

#ifndef IMSSEC_API
#define IMSSEC_API extern /* define as `static` to compile a private copy */
#endif

/* ESP encryption DES-EDE3-CBC (RFC 2451).  1 = compiled in. */
#ifndef IMSSEC_ENABLE_3DES
#define IMSSEC_ENABLE_3DES 1
#endif
/* ESP integrity HMAC-MD5-96 (RFC 2403).  MD5 itself is always present: the
 * SIP digest (RFC 2617, RFC 3310) needs it. */
#ifndef IMSSEC_ENABLE_HMAC_MD5
#define IMSSEC_ENABLE_HMAC_MD5 1
#endif
/* IPv6 packets in esp/ and IPv6 addresses in sa/. */
#ifndef IMSSEC_ENABLE_IPV6
#define IMSSEC_ENABLE_IPV6 1
#endif
/* RFC 3948 UDP encapsulation (TS 33.203 Annex M, NAT traversal). */
#ifndef IMSSEC_ENABLE_UDPENCAP
#define IMSSEC_ENABLE_UDPENCAP 1
#endif
/* Calls to imssec_io.log.  0 compiles every log statement out. */
#ifndef IMSSEC_ENABLE_LOG
#define IMSSEC_ENABLE_LOG 1
#endif
/* (size) Largest anti-replay window an ESP SA may ask for, in bits: a power
 * of two, 32..4096 (RFC 4303 3.4.3 requires at least 32).  Sizes
 * imssec_esp_sa. */
#ifndef IMSSEC_REPLAY_WINDOW_MAX
#define IMSSEC_REPLAY_WINDOW_MAX 4096
#endif
/* (size) Largest IND length, in bits, that an imssec_aka_sqn can hold (TS
 * 33.102 C.3.2): the state has 2^IMSSEC_AKA_IND_BITS_MAX SEQ_MS slots of 8
 * bytes.  0..10. */
#ifndef IMSSEC_AKA_IND_BITS_MAX
#define IMSSEC_AKA_IND_BITS_MAX 8
#endif
/* Largest server data after RAND || AUTN in an AKA nonce (RFC 3310 3.1)
 * that imssec_aka_nonce_decode() accepts, in bytes.  1..65535. */
#ifndef IMSSEC_AKA_NONCE_DATA_MAX
#define IMSSEC_AKA_NONCE_DATA_MAX 256
#endif
/* (size) Unknown parameters kept per digest challenge or credentials
 * (imssec_digest_challenge.extra[]).  1..64. */
#ifndef IMSSEC_DIGEST_EXTRA_MAX
#define IMSSEC_DIGEST_EXTRA_MAX 8
#endif
/* (size) Longest nonce a digest server remembers
 * (imssec_digest_nonce), in bytes.  32..1024. */
#ifndef IMSSEC_DIGEST_NONCE_MAX
#define IMSSEC_DIGEST_NONCE_MAX 128
#endif
/* (size) Longest IMPI an SA table stores (imssec_sa_user), in bytes.
 * Longer IMPIs are refused with IMSSEC_E_RANGE.  1..255. */
#ifndef IMSSEC_SA_IMPI_MAX
#define IMSSEC_SA_IMPI_MAX 64
#endif
/* (size) Longest IMPU (a SIP or tel URI) the SA table stores
 * (imssec_sa_impu), in bytes.  1..65535. */
#ifndef IMSSEC_SA_IMPU_MAX
#define IMSSEC_SA_IMPU_MAX 128
#endif
/* (size) Master keys one SRTP session can hold at a time (RFC 3711 8.1:
 * several keys told apart by their MKI, e.g. during a re-key).  Sizes
 * imssec_srtp_session.  1..16. */
#ifndef IMSSEC_SRTP_KEYS_MAX
#define IMSSEC_SRTP_KEYS_MAX 4
#endif
/* (size) Longest MKI an SRTP session stores, in bytes (RFC 4568 6.1 allows
 * 1..128).  Sizes imssec_srtp_session.  1..128. */
#ifndef IMSSEC_SRTP_MKI_MAX
#define IMSSEC_SRTP_MKI_MAX 16
#endif
/* (size) Largest SRTP and SRTCP replay window a session may ask for, in
 * packets: a power of two, 64..32768 (RFC 3711 3.3.2 requires at least
 * 64).  Sizes imssec_srtp_stream: two rings of 2 * max / 64 words. */
#ifndef IMSSEC_SRTP_REPLAY_WINDOW_MAX
#define IMSSEC_SRTP_REPLAY_WINDOW_MAX 512
#endif
/* (size) a=crypto attributes one side offers per media section (one per
 * suite of the policy: imssec_sdes_offer()).  Sizes imssec_sdp_keys.
 * 1..6. */
#ifndef IMSSEC_SDP_CRYPTO_MAX
#define IMSSEC_SDP_CRYPTO_MAX 4
#endif

/* ===========================================================================
 * Errors
 * ===========================================================================
 * One list, used both for the enum and for imssec_strerror().  Ranges:
 *   -1..-19  usage and resource errors (fatal for the call)
 *   -20..-39 per-packet verdicts (drop the packet, keep the SA)
 *   -40..-59 authentication verdicts (aka/ and digest)
 *   -60..-79 security agreement verdicts (secagree/)
 *   -80..-99 SA rule verdicts (sa/: discard or refuse the message)
 *   -100..-119 media verdicts (media/: SDES offer / answer)
 * Every code from -20 down is a verdict about peer input: the object is
 * unchanged and still usable (imssec_err_is_verdict()).
 */
#define IMSSEC_ERROR_LIST(X)                                                  \
    X(IMSSEC_OK, 0, "success")                                               \
    X(IMSSEC_E_PARAM, -1, "invalid argument")                                \
    X(IMSSEC_E_SPACE, -2, "output buffer or table too small")                \
    X(IMSSEC_E_SYNTAX, -3, "malformed input")                                \
    X(IMSSEC_E_UNSUPPORTED, -4, "algorithm or feature not supported")        \
    X(IMSSEC_E_STATE, -5, "operation not allowed in the current state")      \
    X(IMSSEC_E_CALLBACK, -6, "a caller callback reported failure")           \
    X(IMSSEC_E_CRYPTO, -7, "crypto backend failure")                         \
    X(IMSSEC_E_NOT_FOUND, -8, "no such entry")                               \
    X(IMSSEC_E_EXISTS, -9, "entry already exists")                           \
    X(IMSSEC_E_RANGE, -10, "value out of range")                             \
    X(IMSSEC_E_INSECURE, -11, "refused: a key would travel over a hop without confidentiality (TS 33.328 6.2.1.2)") \
    X(IMSSEC_E_REPLAY, -20, "packet replayed or left of the replay window")  \
    X(IMSSEC_E_ICV, -21, "integrity check failed")                           \
    X(IMSSEC_E_NO_SA, -22, "no security association for this packet")        \
    X(IMSSEC_E_SEQ_EXHAUSTED, -23, "sequence number space exhausted")        \
    X(IMSSEC_E_BAD_PADDING, -24, "bad ESP padding")                          \
    X(IMSSEC_E_MALFORMED, -25, "malformed packet")                           \
    X(IMSSEC_E_DUMMY, -26, "dummy packet (next header 59), dropped")         \
    X(IMSSEC_E_NOT_ESP, -27, "not an ESP packet (non-ESP marker or keepalive)") \
    X(IMSSEC_E_MAC_FAILURE, -40, "AKA MAC failure: network not authentic")   \
    X(IMSSEC_E_SYNC_FAILURE, -41, "AKA sequence number not acceptable")      \
    X(IMSSEC_E_AMF, -42, "AKA AMF not acceptable")                           \
    X(IMSSEC_E_AUTH, -43, "digest response does not match")                  \
    X(IMSSEC_E_STALE, -44, "stale nonce")                                    \
    X(IMSSEC_E_NC, -45, "nonce count not increasing")                        \
    X(IMSSEC_E_SECAGREE_REJECT, -60, "security agreement proposal unacceptable") \
    X(IMSSEC_E_SECAGREE_MISMATCH, -61, "Security-Verify or repeated Security-Client differs (RFC 3329 2.3.1, Annex H)") \
    X(IMSSEC_E_SA_WRONG, -80, "message protected with the wrong SA or unprotected") \
    X(IMSSEC_E_SA_RULE2, -81, "protected REGISTER source address differs from Via (TS 33.203 7.1 rule 2)") \
    X(IMSSEC_E_SA_RULE3, -82, "UE address and protected port already in the SA table (7.1 rule 3)") \
    X(IMSSEC_E_SA_LIMIT, -83, "more than six SAs per direction for one IMPI (7.1 rule 3)") \
    X(IMSSEC_E_SA_NAT, -84, "SA mode does not match NAT detection (TS 33.203 M.7.1, M.7.3.2.4)") \
    X(IMSSEC_E_SDES_REJECT, -100, "no acceptable SDES crypto attribute (RFC 4568 7.1.2, 7.1.3)")

typedef enum imssec_err {
#define IMSSEC_ERR_ENUM_(name, value, text) name = value,
    IMSSEC_ERROR_LIST(IMSSEC_ERR_ENUM_)
#undef IMSSEC_ERR_ENUM_
    IMSSEC_ERR_END_ = -1000
} imssec_err;

/* A short English description of `err`; never NULL ("unknown error" for a
 * value that is not an imssec_err). */
IMSSEC_API const char *imssec_strerror(int err);

/* The enumerator's name ("IMSSEC_E_ICV"); never NULL. */
IMSSEC_API const char *imssec_errname(int err);

/* 1 if `err` is a per-packet or per-message verdict (the object is still
 * usable and unchanged: drop the packet or answer the peer), 0 otherwise. */
IMSSEC_API int imssec_err_is_verdict(int err);

/* Why a call failed.  Functions that take an `imssec_errinfo *err` (always
 * optional, always the last parameter) fill it on failure and leave it
 * alone on success.  Every pointer in it is a constant string (or NULL):
 * it stays valid forever and never holds peer text or key material. */
typedef struct imssec_errinfo {
    int code;              /* the value the call returned */
    const char *what;      /* what went wrong, a constant English phrase */
    const char *clause;    /* the rule: "TS 33.203 7.1 rule 3", "RFC 3329 2.2"; or NULL */
    const char *param;     /* IMSSEC_E_PARAM: the argument or field at fault; or NULL */
    int sip_status;        /* the SIP response to send (494, 403), 0 = none (discard) */
    size_t value_index;    /* parsers: which header instance (0 for one value) */
    size_t item_index;     /* parsers: which list element (mechanism, challenge) */
    size_t offset;         /* parsers: byte offset in that instance */
    int state, event;      /* sa/: the user's state and the event; -1 = not applicable */
    uint64_t limit;        /* the bound that was reached (IMSSEC_E_SA_LIMIT: 6), 0 = none */
    int sys_errno;         /* a data-plane callback's errno (e.g. from netlink), 0 = none */
} imssec_errinfo;

/* One line for a log: "IMSSEC_E_STATE: event SUCCESS not allowed in state
 * IDLE (TS 33.203 7.4.1a)" with the parts that are set.  Follows the output
 * convention; never fails for a valid `e` other than by IMSSEC_E_SPACE. */
IMSSEC_API int imssec_errinfo_format(const imssec_errinfo *e, char *out, size_t out_cap,
                                     size_t *out_len);

/* ===========================================================================
 * Library information
 * ======================================================================== */

#define IMSSEC_VERSION_MAJOR 0
#define IMSSEC_VERSION_MINOR 2
#define IMSSEC_VERSION_PATCH 0
#define IMSSEC_VERSION_STRING "0.2.0"

/* "0.2.0". */
IMSSEC_API const char *imssec_version(void);

/* A constant string listing every compile-time option and the crypto
 * backend, for example "imssec 0.2.0 mbedtls=2.28.3 3des=1 hmac-md5=1
 * ipv6=1 udpencap=1 log=1 replay-window-max=4096 aka-ind-bits-max=8
 * aka-nonce-data-max=256 digest-extra-max=8 digest-nonce-max=128
 * sa-impi-max=64 sa-impu-max=128 srtp-keys-max=4 srtp-mki-max=16
 * srtp-replay-window-max=512 sdp-crypto-max=4". */
IMSSEC_API const char *imssec_build_info(void);

/* ===========================================================================
 * Caller-supplied I/O: randomness and logging
 * ===========================================================================
 * Modules with more callbacks (SA events, persistence, a USIM) have their own
 * callback structs; this one holds what every module may need.  The struct
 * is typically `static const` and must outlive the objects that point to it.
 */
enum imssec_log_level {
    IMSSEC_LOG_ERROR = 0,
    IMSSEC_LOG_WARN = 1,
    IMSSEC_LOG_INFO = 2,
    IMSSEC_LOG_DEBUG = 3
};

typedef struct imssec_io {
    void *user; /* passed back to every callback */
    /* Fill out[0..len) with cryptographically secure random bytes.  Return 0
     * on success; any other value makes the calling function fail with
     * IMSSEC_E_CALLBACK.  Required by functions that generate SPIs, IVs,
     * RANDs or cnonces unless they take the bytes as an argument. */
    int (*random)(void *user, uint8_t *out, size_t len);
    /* Optional (NULL = silent).  `msg` is `len` bytes, not NUL-terminated,
     * and never contains key material. */
    void (*log)(void *user, int level, const char *msg, size_t len);
    /* Optional (NULL = never called).  Receives key material, for example to
     * write a Wireshark esp_sa table.  `label` is NUL-terminated. */
    void (*key_log)(void *user, const char *label, const uint8_t *key, size_t len);
} imssec_io;

/* Zeroize n bytes at p in a way the compiler may not optimise away. */
IMSSEC_API void imssec_wipe(void *p, size_t n);

/* 1 if a[0..n) equals b[0..n), else 0, in time independent of the contents. */
IMSSEC_API int imssec_ct_equal(const void *a, const void *b, size_t n);

/* ===========================================================================
 * The shared vocabulary: text, addresses, algorithms, modes, transports
 * ======================================================================== */

/* A slice of text: p[0..n), not NUL-terminated.  n == 0 may have p == NULL. */
typedef struct imssec_str {
    const char *p;
    size_t n;
} imssec_str;

/* The slice of a NUL-terminated string (NULL gives the empty slice). */
IMSSEC_API imssec_str imssec_cstr(const char *s);

/* An IP address in network byte order: len 4 (IPv4) or 16 (IPv6) bytes of
 * b are used, the rest are 0; len 0 means "no address". */
typedef struct imssec_addr {
    uint8_t len;
    uint8_t b[16];
} imssec_addr;

/* Longest text imssec_addr_format() writes ("[" 39 "]"). */
#define IMSSEC_ADDR_TEXT_MAX 41

/* Parse a dotted-quad IPv4 address (no leading zeros) or an RFC 4291 2.2
 * IPv6 address (with "::" and an embedded IPv4 tail), optionally in
 * brackets (RFC 3261 IPv6reference).  Returns IMSSEC_OK, IMSSEC_E_SYNTAX
 * (*out unchanged) or IMSSEC_E_UNSUPPORTED (IPv6 compiled out). */
IMSSEC_API int imssec_addr_parse(imssec_str text, imssec_addr *out);

/* The RFC 5952 text of a (IPv6 lowercase, longest zero run as "::"),
 * in brackets when `bracket` is 1.  Output convention; IMSSEC_E_PARAM for
 * a len other than 4 or 16. */
IMSSEC_API int imssec_addr_format(const imssec_addr *a, int bracket, char *out, size_t out_cap,
                                  size_t *out_len);

/* 1 if both are the same address (same length and bytes), else 0. */
IMSSEC_API int imssec_addr_equal(const imssec_addr *a, const imssec_addr *b);

/* The integrity algorithm of an SA: the `alg` of an ipsec-3gpp
 * Security-Client / -Server (TS 33.203 Annex H), the integrity of an sa/
 * SA and of an esp/ SA.  Release 7 negotiates HMAC-MD5-96 and
 * HMAC-SHA-1-96; AES-GMAC and NULL are later-release values (NULL: no
 * integrity transform, only meaningful with AES-GCM, and used by esp/ for
 * the encryption-only samples of RFC 3602).  UNKNOWN is a parsed value
 * this library does not know; it is never negotiated. */
typedef enum imssec_alg {
    IMSSEC_ALG_NULL = 0,
    IMSSEC_ALG_HMAC_MD5_96 = 1,  /* RFC 2403: 16-byte key */
    IMSSEC_ALG_HMAC_SHA1_96 = 2, /* RFC 2404: 20-byte key */
    IMSSEC_ALG_AES_GMAC = 3,     /* RFC 4543 (later release) */
    IMSSEC_ALG_UNKNOWN = 4
} imssec_alg;

/* The encryption algorithm (Annex H `ealg`; NULL is also its default). */
typedef enum imssec_ealg {
    IMSSEC_EALG_NULL = 0,         /* RFC 2410 */
    IMSSEC_EALG_DES_EDE3_CBC = 1, /* RFC 2451: 24-byte key, 8-byte IV */
    IMSSEC_EALG_AES_CBC = 2,      /* RFC 3602, 128-bit: 16-byte key and IV */
    IMSSEC_EALG_AES_GCM = 3,      /* RFC 4106 (later release) */
    IMSSEC_EALG_UNKNOWN = 4
} imssec_ealg;

/* The IPsec mode (Annex H `mod`; TRANS is also its default).  UDP_ENC_TUN
 * is Annex M's NAT traversal (RFC 3948 tunnel mode); UDP_ENC_TRANS (RFC
 * 3948 transport mode) exists only in esp/ and is never negotiated. */
typedef enum imssec_mode {
    IMSSEC_MODE_TRANS = 0,
    IMSSEC_MODE_TUN = 1,
    IMSSEC_MODE_UDP_ENC_TUN = 2,
    IMSSEC_MODE_UDP_ENC_TRANS = 3,
    IMSSEC_MODE_UNKNOWN = 4
} imssec_mode;

/* The transport protocol of a SIP message or flow.  TS 33.203 7.1 gives
 * UDP and TCP different rules for which SA carries what (see sa/). */
typedef enum imssec_transport {
    IMSSEC_TRANSPORT_UDP = 0,
    IMSSEC_TRANSPORT_TCP = 1
} imssec_transport;

/* Registered spellings: "hmac-sha-1-96", "aes-cbc", "UDP-enc-tun", "udp",
 * ...; NULL for UNKNOWN and out-of-range values (and for
 * IMSSEC_MODE_UDP_ENC_TRANS, which has no Annex H spelling). */
IMSSEC_API const char *imssec_alg_name(int alg);
IMSSEC_API const char *imssec_ealg_name(int ealg);
IMSSEC_API const char *imssec_mode_name(int mode);
IMSSEC_API const char *imssec_transport_name(int transport);

/* Name lookups, case-insensitive: the enum value, or the UNKNOWN value
 * (imssec_transport_from_name: -1). */
IMSSEC_API int imssec_alg_from_name(imssec_str name);
IMSSEC_API int imssec_ealg_from_name(imssec_str name);
IMSSEC_API int imssec_mode_from_name(imssec_str name);
IMSSEC_API int imssec_transport_from_name(imssec_str name);

/* One IP flow: what the inner IP and UDP/TCP headers of a protected SIP
 * message say (the selectors of TS 33.203 7.1).  Both addresses have the
 * same length. */
typedef struct imssec_flow {
    imssec_addr src, dst;
    uint16_t sport, dport;
    int transport; /* enum imssec_transport */
} imssec_flow;

/* ===========================================================================
 * Base64 (RFC 4648 section 4).  Used for AKA nonces, AUTS and AKAv2
 * passwords; exposed because SIP stacks need the same handling.
 * ======================================================================== */

/* Encode in[0..in_len) with padding: 4 * ceil(in_len / 3) characters.
 * Output convention. */
IMSSEC_API int imssec_base64_encode(const uint8_t *in, size_t in_len, char *out,
                                    size_t out_cap, size_t *out_len);

/* Decode `text`.  Padding is optional (real IMS nonces are sent both ways);
 * when present it must be correct.  No whitespace, no characters outside
 * the alphabet, no non-zero bits in the last symbol's unused part.  Output
 * convention; IMSSEC_E_SYNTAX otherwise. */
IMSSEC_API int imssec_base64_decode(imssec_str text, uint8_t *out, size_t out_cap,
                                    size_t *out_len);

/* ===========================================================================
 * TLS between CSCFs (TS 33.203 6.5 as changed by the change requests in
 * the specs): "When sending/receiving the certificate during the TLS
 * handshaking phase, the CSCF shall verify the name on the certificate
 * against the list of the interworking partners."  The TLS stack stays the
 * host's; this is the name check, with RFC 5922 7.1's reading of a SIP
 * certificate: the host of each sip:/sips: URI and each dNSName in
 * subjectAltName are its names, the subject CN only when there are none;
 * names compare case-insensitively, a final dot ignored; a wildcard ("*")
 * never matches (RFC 5922 7.2).
 * ======================================================================== */

enum imssec_cert_name_kind {
    IMSSEC_CERT_SAN_URI = 0, /* subjectAltName uniformResourceIdentifier */
    IMSSEC_CERT_SAN_DNS = 1, /* subjectAltName dNSName */
    IMSSEC_CERT_CN = 2       /* subject commonName */
};

typedef struct imssec_cert_name {
    int kind;        /* enum imssec_cert_name_kind */
    imssec_str name; /* as the certificate holds it */
} imssec_cert_name;

/* Check the peer certificate's names against the interworking partners
 * (domain names).  IMSSEC_OK with *which (optional) = the partner matched;
 * IMSSEC_E_NOT_FOUND (no name of the certificate is a partner: end the
 * connection; err says which name was looked at); IMSSEC_E_PARAM. */
IMSSEC_API int imssec_tls_partner_check(const imssec_str *partners, size_t n_partners,
                                        const imssec_cert_name *names, size_t n_names,
                                        size_t *which, imssec_errinfo *err);

/* ===========================================================================
 * Module sections follow.  Each module owns the block between its markers.
 * ======================================================================== */

/* ---- BEGIN aka/ ----------------------------------------------------------- */
/* ===========================================================================
 * aka/: Milenage (TS 35.206), AKA on the UE and network side (TS 33.102
 * clause 6.3 and Annex C), the IMS AKA nonce (RFC 3310, TS 33.203 6.1) and
 * SIP/HTTP digest (RFC 2617, RFC 7616, RFC 8760, RFC 3310, RFC 4169).
 *
 * Byte strings have fixed sizes given by the constants below; RES is 4..16
 * bytes and always travels with an explicit length.  SQN values are held in
 * a uint64_t (48 bits used, big-endian on the wire).
 * ======================================================================== */

#define IMSSEC_AKA_K_LEN 16
#define IMSSEC_AKA_OP_LEN 16
#define IMSSEC_AKA_RAND_LEN 16
#define IMSSEC_AKA_SQN_LEN 6
#define IMSSEC_AKA_AMF_LEN 2
#define IMSSEC_AKA_MAC_LEN 8
#define IMSSEC_AKA_AK_LEN 6
#define IMSSEC_AKA_AUTN_LEN 16
#define IMSSEC_AKA_AUTS_LEN 14
#define IMSSEC_AKA_CK_LEN 16
#define IMSSEC_AKA_IK_LEN 16
#define IMSSEC_AKA_RES_MIN 4
#define IMSSEC_AKA_RES_MAX 16
#define IMSSEC_MILENAGE_RES_LEN 8
#define IMSSEC_AKA_SQN_MASK UINT64_C(0xffffffffffff)


/* ---- Milenage (TS 35.206) ------------------------------------------------ */

/* K, OPc and the operator constants c1..c5 / r1..r5.  Holds the secret key:
 * imssec_milenage_wipe() when done.  Every function taking a `const
 * imssec_milenage *` runs one AES key schedule per call, on the stack, so
 * one object may serve several threads at once. */
typedef struct imssec_milenage {
    uint8_t k_[IMSSEC_AKA_K_LEN];
    uint8_t opc_[IMSSEC_AKA_OP_LEN];
    uint8_t c_[5][16];
    uint8_t r_[5]; /* rotations in bits, 0..127 */
} imssec_milenage;

/* Load K and OPc; constants are set to the TS 35.206 defaults (r1=64, r2=0,
 * r3=32, r4=64, r5=96; c1=0, c2=1, c3=2, c4=4, c5=8). */
IMSSEC_API void imssec_milenage_init_opc(imssec_milenage *m, const uint8_t k[IMSSEC_AKA_K_LEN],
                                         const uint8_t opc[IMSSEC_AKA_OP_LEN]);

/* Load K and OP; OPc = OP xor E_K(OP) (TS 35.206 4.1).  Default constants. */
IMSSEC_API void imssec_milenage_init_op(imssec_milenage *m, const uint8_t k[IMSSEC_AKA_K_LEN],
                                        const uint8_t op[IMSSEC_AKA_OP_LEN]);

/* Replace the operator constants: c is c1 || c2 || c3 || c4 || c5 (16
 * bytes each), r_bits[i] is r(i+1) in bits (TS 35.206 4.1 allows any value
 * 0..127).  Returns IMSSEC_OK or IMSSEC_E_RANGE (an r >= 128; nothing
 * changed). */
IMSSEC_API int imssec_milenage_set_constants(imssec_milenage *m, const uint8_t c[80],
                                             const uint8_t r_bits[5]);

/* Copy out OPc (the one derived from OP, or the one loaded). */
IMSSEC_API void imssec_milenage_get_opc(const imssec_milenage *m, uint8_t opc[IMSSEC_AKA_OP_LEN]);

/* f1 and f1* (TS 35.206 4.1): MAC-A and MAC-S over RAND, SQN and AMF.
 * Either output may be NULL. */
IMSSEC_API void imssec_milenage_f1(const imssec_milenage *m, const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                   const uint8_t sqn[IMSSEC_AKA_SQN_LEN],
                                   const uint8_t amf[IMSSEC_AKA_AMF_LEN],
                                   uint8_t mac_a[IMSSEC_AKA_MAC_LEN],
                                   uint8_t mac_s[IMSSEC_AKA_MAC_LEN]);

/* f2 (RES, 8 bytes), f3 (CK), f4 (IK), f5 (AK) and f5* (AK for resync) of
 * RAND.  Each output may be NULL. */
IMSSEC_API void imssec_milenage_f2345(const imssec_milenage *m, const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                      uint8_t res[IMSSEC_MILENAGE_RES_LEN],
                                      uint8_t ck[IMSSEC_AKA_CK_LEN], uint8_t ik[IMSSEC_AKA_IK_LEN],
                                      uint8_t ak[IMSSEC_AKA_AK_LEN],
                                      uint8_t ak_star[IMSSEC_AKA_AK_LEN]);

/* Zeroize K, OPc and the constants. */
IMSSEC_API void imssec_milenage_wipe(imssec_milenage *m);

/* ---- UE side: SQN state (TS 33.102 Annex C.2) ------------------------------ */

/* The USIM's sequence number memory.  SQN = SEQ || IND with IND the low
 * `ind_bits` bits; one SEQ_MS per IND value (C.2.2), the highest accepted
 * SQN (for AUTS, C.2.1 / 6.3.5), the wrap-around limit delta (C.2.2: accept
 * only SEQ - SEQ_MS <= delta, SEQ_MS the highest accepted SEQ) and the
 * optional age limit L (C.2.3: accept only SEQ_MS - SEQ <= L; 0 = off).
 * Caller-owned; changed only when a challenge is accepted. */
typedef struct imssec_aka_sqn {
    uint64_t seq_ms_[1u << IMSSEC_AKA_IND_BITS_MAX];
    uint64_t highest_; /* highest accepted SQN (SEQ || IND) */
    uint64_t delta_, limit_;
    unsigned ind_bits_;
    int (*persist_)(void *user, const struct imssec_aka_sqn *st);
    void *persist_user_;
} imssec_aka_sqn;

/* Empty state (nothing accepted yet, every SEQ_MS 0), IND 5 bits, delta
 * 2^28, no age limit, no persistence callback. */
IMSSEC_API void imssec_aka_sqn_init(imssec_aka_sqn *st);

/* Set IND length (0..IMSSEC_AKA_IND_BITS_MAX), delta (1..2^43) and L (0 =
 * off) and empty the state.  IMSSEC_OK or IMSSEC_E_RANGE (unchanged). */
IMSSEC_API int imssec_aka_sqn_configure(imssec_aka_sqn *st, unsigned ind_bits, uint64_t delta,
                                        uint64_t limit_l);

/* Install a persistence callback (NULL = none).  It is called with the new
 * state after an accepted challenge, before the check returns; a non-zero
 * return makes the check fail with IMSSEC_E_CALLBACK and the state is rolled
 * back, so flash and RAM never disagree. */
IMSSEC_API void imssec_aka_sqn_set_persist(imssec_aka_sqn *st,
                                           int (*persist)(void *user, const imssec_aka_sqn *st),
                                           void *user);

/* Record `sqn` as accepted without a challenge (restoring a stored state, or
 * a USIM known to be at SQN_MS): SEQ_MS(IND) and, if higher, the highest
 * accepted SQN.  IMSSEC_OK or IMSSEC_E_RANGE (more than 48 bits). */
IMSSEC_API int imssec_aka_sqn_record(imssec_aka_sqn *st, uint64_t sqn);

/* The highest accepted SQN (0 when nothing has been accepted), and SEQ_MS(i)
 * for serialising the state (0 for i out of range). */
IMSSEC_API uint64_t imssec_aka_sqn_highest(const imssec_aka_sqn *st);
IMSSEC_API uint64_t imssec_aka_sqn_seq_ms(const imssec_aka_sqn *st, unsigned ind);

/* Annex C.2 freshness of `sqn` against the state, without changing it:
 * IMSSEC_OK, or IMSSEC_E_SYNC_FAILURE (SEQ <= SEQ_MS(IND), beyond delta or
 * older than L, or more than 48 bits). */
IMSSEC_API int imssec_aka_sqn_check(const imssec_aka_sqn *st, uint64_t sqn);

/* ---- UE side: AUTN verification (TS 33.102 6.3.3) ------------------------- */

/* What one AKA run produced.  Which fields are valid depends on the verdict
 * (see imssec_aka_ue_check()). */
typedef struct imssec_aka_result {
    uint8_t res[IMSSEC_AKA_RES_MAX];
    size_t res_len; /* 4..16; 8 for Milenage */
    uint8_t ck[IMSSEC_AKA_CK_LEN], ik[IMSSEC_AKA_IK_LEN];
    uint8_t auts[IMSSEC_AKA_AUTS_LEN];
    uint8_t amf[IMSSEC_AKA_AMF_LEN];   /* from AUTN (software check only; a USIM does not tell) */
    uint64_t sqn;     /* SQN from AUTN (software check only) */
    int sqn_known;    /* 1 when amf and sqn are filled */
} imssec_aka_result;

/* Policy bits for imssec_aka_ue_check(). */
/* Reject an AUTN whose AMF separation bit (bit 0, 0x8000) is 0 with
 * IMSSEC_E_AMF (TS 33.401 6.1.1; E-UTRAN only -- IMS must not set this). */
#define IMSSEC_AKA_POLICY_AMF_SEPARATION 0x1u

/* The USIM's AUTHENTICATE in spec order (TS 33.102 6.3.3): AK = f5(RAND),
 * SQN = (SQN xor AK) xor AK, XMAC = f1(SQN, AMF), constant-time compare
 * with MAC; then SQN freshness against `st` (Annex C.2; `st` may be NULL:
 * then freshness is the caller's business, e.g. with out->sqn); then the
 * AMF policy.  Returns:
 *   IMSSEC_OK              out: res (8 bytes), ck, ik, amf, sqn; `st`
 *                          updated (SEQ_MS(IND), highest) and persisted
 *   IMSSEC_E_MAC_FAILURE   nothing in out is valid; no AUTS (6.3.3)
 *   IMSSEC_E_SYNC_FAILURE  out: auts = (SQN_MS xor f5*) || f1*(SQN_MS,
 *                          AMF 0000) with SQN_MS the highest accepted SQN
 *                          (6.3.3, 6.3.5); amf, sqn
 *   IMSSEC_E_AMF           out: amf, sqn
 *   IMSSEC_E_CALLBACK      the persistence callback failed; st unchanged
 * `st` changes only on IMSSEC_OK. */
IMSSEC_API int imssec_aka_ue_check(const imssec_milenage *m, imssec_aka_sqn *st,
                                   unsigned policy, const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                   const uint8_t autn[IMSSEC_AKA_AUTN_LEN], imssec_aka_result *out);

/* ---- Pluggable AKA provider ------------------------------------------------ */

/* One interface for software Milenage and a real USIM/ISIM: `authenticate`
 * runs AUTHENTICATE on (RAND, AUTN) and returns IMSSEC_OK with res/res_len
 * (4..16)/ck/ik, IMSSEC_E_SYNC_FAILURE with auts, IMSSEC_E_MAC_FAILURE, or
 * IMSSEC_E_AMF; any other value is reported as IMSSEC_E_CALLBACK.  A USIM
 * callback leaves sqn_known 0. */
typedef struct imssec_aka_provider {
    int (*authenticate)(void *user, const uint8_t rand[IMSSEC_AKA_RAND_LEN], const uint8_t autn[IMSSEC_AKA_AUTN_LEN],
                        imssec_aka_result *out);
    void *user;
} imssec_aka_provider;

/* The software provider's configuration (public fields, set by the caller;
 * must outlive the provider). */
typedef struct imssec_aka_soft {
    const imssec_milenage *milenage;
    imssec_aka_sqn *sqn; /* optional: NULL skips the freshness check */
    unsigned policy;     /* IMSSEC_AKA_POLICY_* */
} imssec_aka_soft;

/* Make `p` run imssec_aka_ue_check() with `s`. */
IMSSEC_API void imssec_aka_soft_provider(imssec_aka_provider *p, imssec_aka_soft *s);

/* Run a provider and validate what it returned (RES length 4..16, verdict
 * one of those listed above).  Returns the provider's verdict,
 * IMSSEC_E_CALLBACK or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_aka_authenticate(const imssec_aka_provider *p, const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                       const uint8_t autn[IMSSEC_AKA_AUTN_LEN], imssec_aka_result *out);

/* ---- Network side (HSS / S-CSCF) ----------------------------------------- */

typedef struct imssec_aka_vector {
    uint8_t rand[IMSSEC_AKA_RAND_LEN];
    uint8_t autn[IMSSEC_AKA_AUTN_LEN]; /* SQN xor AK || AMF || MAC-A */
    uint8_t xres[IMSSEC_AKA_RES_MAX];
    size_t xres_len; /* 8 */
    uint8_t ck[IMSSEC_AKA_CK_LEN], ik[IMSSEC_AKA_IK_LEN];
    uint8_t ak[IMSSEC_AKA_AK_LEN];
    uint64_t sqn;
} imssec_aka_vector;

/* Generate an authentication vector (TS 33.102 6.3.2) for `sqn` (48 bits)
 * and `amf`.  RAND is `rand` if non-NULL, else 16 bytes from io->random.
 * Returns IMSSEC_OK, IMSSEC_E_RANGE (sqn), IMSSEC_E_CALLBACK (RNG). */
IMSSEC_API int imssec_aka_vector_gen(const imssec_milenage *m, const imssec_io *io,
                                     const uint8_t rand[IMSSEC_AKA_RAND_LEN], uint64_t sqn,
                                     const uint8_t amf[IMSSEC_AKA_AMF_LEN], imssec_aka_vector *v);

/* Verify AUTS = (SQN_MS xor f5*(RAND)) || MAC-S against f1*(SQN_MS, RAND,
 * AMF 0000) (TS 33.102 6.3.5).  IMSSEC_OK with *sqn_ms set, or
 * IMSSEC_E_MAC_FAILURE (*sqn_ms unchanged). */
IMSSEC_API int imssec_aka_auts_verify(const imssec_milenage *m, const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                      const uint8_t auts[IMSSEC_AKA_AUTS_LEN], uint64_t *sqn_ms);

/* The next SQN to allocate for IND slot `ind` after `sqn` (the last SQN used,
 * or SQN_MS after a resync), TS 33.102 C.3.2 with an IND per slot:
 * ((sqn + 2^ind_bits) with the IND bits cleared) | ind, modulo 2^48.
 * ind_bits 0..28, ind < 2^ind_bits.  IMSSEC_OK or IMSSEC_E_RANGE. */
IMSSEC_API int imssec_aka_sqn_next(uint64_t sqn, unsigned ind_bits, unsigned ind,
                                   uint64_t *next);

/* ---- The S-CSCF's vectors (TS 33.203 6.1.1, 6.1.2.3, 6.1.3) -----------------
 * One store per IMPI, over a caller array of vectors:
 *   6.1.1 "authentication vectors in a particular S-CSCF are used on a
 *         first-in / first-out basis"; "no AV shall be sent more than once";
 *         "The S-CSCF also stores the RAND sent to the UE for use in case
 *         of a synchronization failure";
 *   6.1.3 "When the S-CSCF receives the new batch of authentication vectors
 *         from the HSS it deletes the old ones for that user".
 * The vector sent last stays as the challenge in flight, found by its RAND
 * (the nonce of the answer or of the AUTS REGISTER), until _done(). */
typedef struct imssec_aka_vstore {
    imssec_aka_vector *v_;   /* private: the caller's array, a ring */
    uint32_t cap_, head_, n_;
    int sent_valid_;
    imssec_aka_vector sent_; /* the challenge in flight */
} imssec_aka_vstore;

/* An empty store over slots[0..cap) (the store owns them until _wipe).
 * IMSSEC_OK or IMSSEC_E_PARAM (cap 0 or above 2^24). */
IMSSEC_API int imssec_aka_vstore_init(imssec_aka_vstore *vs, imssec_aka_vector *slots,
                                      size_t cap);

/* A batch from the HSS (Cx-AV-Req-Resp, in the HSS's order), appended;
 * with after_resync 1 (the answer to a Cx-AV-Req with AUTS) the unused old
 * vectors are deleted first (6.1.3).  IMSSEC_OK; IMSSEC_E_SPACE (no room
 * for all n: nothing stored, nothing deleted); IMSSEC_E_PARAM. */
IMSSEC_API int imssec_aka_vstore_put(imssec_aka_vstore *vs, const imssec_aka_vector *v, size_t n,
                                     int after_resync);

/* The next vector for a challenge (first in, first out), removed from the
 * store so that it is never sent again, and kept as the one in flight
 * (replacing an earlier one: 6.1.2.3, an incomplete authentication is
 * over).  IMSSEC_OK; IMSSEC_E_NOT_FOUND (empty: ask the HSS). */
IMSSEC_API int imssec_aka_vstore_next(imssec_aka_vstore *vs, imssec_aka_vector *out);

/* The vector in flight if its RAND is `rand` (from the nonce of the
 * response or of the AUTS REGISTER: the RAND to give the HSS with AUTS,
 * CM3).  IMSSEC_OK or IMSSEC_E_NOT_FOUND (none in flight, or another RAND:
 * a stale or forged answer). */
IMSSEC_API int imssec_aka_vstore_sent(const imssec_aka_vstore *vs,
                                      const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                      imssec_aka_vector *out);

/* The authentication in flight is over (success, failure or time-out):
 * forget (wipe) its vector. */
IMSSEC_API void imssec_aka_vstore_done(imssec_aka_vstore *vs);

/* Unused vectors held. */
IMSSEC_API size_t imssec_aka_vstore_count(const imssec_aka_vstore *vs);

/* Wipe every vector and the store. */
IMSSEC_API void imssec_aka_vstore_wipe(imssec_aka_vstore *vs);

/* ---- IMS AKA nonce (RFC 3310 3.1, TS 33.203 6.1) ---------------------------- */

/* base64(RAND || AUTN || server_data), with or without '=' padding.
 * Output convention. */
IMSSEC_API int imssec_aka_nonce_encode(const uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                       const uint8_t autn[IMSSEC_AKA_AUTN_LEN],
                                       const uint8_t *server_data, size_t server_data_len,
                                       int padded, char *out, size_t out_cap, size_t *out_len);

/* Decode a nonce (padding optional) into RAND, AUTN and the server data
 * that follows them.  server_data is optional (NULL with server_data_cap 0
 * ignores it; server_data_len may then be NULL too).  Returns IMSSEC_OK,
 * IMSSEC_E_SYNTAX (bad base64, fewer than 32 bytes), IMSSEC_E_RANGE (more
 * server data than IMSSEC_AKA_NONCE_DATA_MAX), IMSSEC_E_SPACE (more server
 * data than server_data_cap: *server_data_len is the size needed). */
IMSSEC_API int imssec_aka_nonce_decode(imssec_str nonce, uint8_t rand[IMSSEC_AKA_RAND_LEN],
                                       uint8_t autn[IMSSEC_AKA_AUTN_LEN], uint8_t *server_data,
                                       size_t server_data_cap, size_t *server_data_len);

/* ---- SIP / HTTP digest ------------------------------------------------------- */

enum imssec_digest_alg {
    IMSSEC_DIGEST_UNKNOWN = 0,
    IMSSEC_DIGEST_MD5 = 1,              /* RFC 2617 */
    IMSSEC_DIGEST_MD5_SESS = 2,         /* RFC 2617 */
    IMSSEC_DIGEST_SHA256 = 3,           /* RFC 7616 "SHA-256" */
    IMSSEC_DIGEST_SHA256_SESS = 4,      /* RFC 7616 */
    IMSSEC_DIGEST_SHA512_256 = 5,       /* RFC 7616 "SHA-512-256" */
    IMSSEC_DIGEST_SHA512_256_SESS = 6,  /* RFC 7616 */
    IMSSEC_DIGEST_AKAV1_MD5 = 7,        /* RFC 3310: password = RES bytes */
    IMSSEC_DIGEST_AKAV2_MD5 = 8,        /* RFC 4169: password = base64(HMAC-MD5(RES||IK||CK, ...)) */
    IMSSEC_DIGEST_AKAV1_SHA256 = 9,     /* "AKAv1-SHA-256": RFC 3310 with SHA-256 */
    IMSSEC_DIGEST_AKAV2_SHA256 = 10     /* "AKAv2-SHA-256": RFC 4169 with HMAC-SHA-256 / SHA-256 */
};
#define IMSSEC_DIGEST_ALG_COUNT 11

enum imssec_digest_qop {
    IMSSEC_DIGEST_QOP_NONE = 0, /* RFC 2069 compatibility form */
    IMSSEC_DIGEST_QOP_AUTH = 1,
    IMSSEC_DIGEST_QOP_AUTH_INT = 2
};
/* Bits of imssec_digest_challenge.qop_mask. */
#define IMSSEC_DIGEST_QOP_BIT(q) (1u << (q))

#define IMSSEC_DIGEST_HEX_MAX 64 /* longest hex digest (SHA-256 family) */

/* "MD5", "AKAv1-MD5", ...; "" for an unknown value. */
IMSSEC_API const char *imssec_digest_alg_name(int alg);
/* Case-insensitive name lookup; IMSSEC_DIGEST_UNKNOWN if not known. */
IMSSEC_API int imssec_digest_alg_from_name(imssec_str name);
/* 1 for the AKAv1/AKAv2 algorithms. */
IMSSEC_API int imssec_digest_alg_is_aka(int alg);

/* Everything one digest response depends on.  Text fields are unquoted
 * values.  For AKA algorithms `password` is the AKA password (see
 * imssec_digest_aka_password()). */
typedef struct imssec_digest_in {
    int alg;                 /* enum imssec_digest_alg */
    int qop;                 /* enum imssec_digest_qop */
    imssec_str username, realm, nonce, cnonce, method, uri;
    const uint8_t *password; /* binary safe */
    size_t password_len;
    uint32_t nc;             /* nonce count (qop != NONE) */
    const uint8_t *body;     /* entity body (auth-int) */
    size_t body_len;
    int userhash;            /* RFC 7616 3.4.4: send H(username:realm) */
} imssec_digest_in;

/* Lowercase hex, NUL-terminated; `hex_len` characters each. */
typedef struct imssec_digest_out {
    char ha1[IMSSEC_DIGEST_HEX_MAX + 1];
    char ha2[IMSSEC_DIGEST_HEX_MAX + 1];
    char response[IMSSEC_DIGEST_HEX_MAX + 1];
    char username[IMSSEC_DIGEST_HEX_MAX + 1]; /* H(username:realm) when userhash */
    size_t hex_len;
} imssec_digest_out;

/* HA1, HA2 and the response (RFC 2617 3.2.2, RFC 7616 3.4): HA1 =
 * H(user:realm:password), for -sess H(HA1:nonce:cnonce); HA2 =
 * H(method:uri[:H(body)]); response = H(HA1:nonce:nc:cnonce:qop:HA2), or
 * H(HA1:nonce:HA2) without qop.  Returns IMSSEC_OK, IMSSEC_E_UNSUPPORTED
 * (alg), IMSSEC_E_PARAM (qop out of range). */
IMSSEC_API int imssec_digest_compute(const imssec_digest_in *in, imssec_digest_out *out);

/* rspauth of Authentication-Info (RFC 2617 3.2.3): the response with an
 * empty method.  hex is NUL-terminated. */
IMSSEC_API int imssec_digest_rspauth(const imssec_digest_in *in,
                                     char hex[IMSSEC_DIGEST_HEX_MAX + 1]);

/* The AKA password for `alg`: AKAv1 the RES bytes (RFC 3310 3.1); AKAv2
 * base64(HMAC-H(RES || IK || CK, "http-digest-akav2-password")) (RFC 4169
 * 3.1, H = MD5 or SHA-256).  Returns IMSSEC_OK, IMSSEC_E_UNSUPPORTED (not
 * an AKA alg), IMSSEC_E_PARAM (res_len), IMSSEC_E_SPACE (*out_len = need;
 * 44 bytes is always enough). */
IMSSEC_API int imssec_digest_aka_password(int alg, const uint8_t *res, size_t res_len,
                                          const uint8_t ck[IMSSEC_AKA_CK_LEN],
                                          const uint8_t ik[IMSSEC_AKA_IK_LEN], uint8_t *out,
                                          size_t out_cap, size_t *out_len);

/* A parameter the parser does not interpret, kept for the caller. */
typedef struct imssec_digest_param {
    imssec_str name, value; /* value without quotes, escapes kept */
    int quoted;
} imssec_digest_param;


/* One challenge of WWW-Authenticate / Proxy-Authenticate.  Slices point
 * into the parsed text; quoted values exclude the quotes and keep escapes
 * (imssec_digest_unquote() removes them). */
typedef struct imssec_digest_challenge {
    imssec_str scheme; /* "Digest", or another scheme (then only params/token68) */
    int is_digest;
    int alg;                  /* algorithm=, MD5 when absent (RFC 2617 3.2.1) */
    imssec_str realm, nonce, opaque, domain, algorithm, qop, charset, token68;
    unsigned qop_mask;        /* IMSSEC_DIGEST_QOP_BIT(AUTH / AUTH_INT); 0 = no qop */
    int qop_unknown_only;     /* 1: qop= present, no auth / auth-int in it (qop_mask 0) */
    int stale, userhash;
    imssec_digest_param extra[IMSSEC_DIGEST_EXTRA_MAX];
    size_t n_extra;
} imssec_digest_challenge;

/* Parse one WWW-Authenticate / Proxy-Authenticate value holding one or
 * more challenges (RFC 7235 2.1 list; RFC 2617 / RFC 3261 grammar: LWS,
 * case-insensitive names, quoted-string escapes).
 *   value    the header value (for several header instances, call once per
 *            instance with out + the count so far: the output convention
 *            makes that safe)
 *   out      the challenges, out_cap of them; *out_len the count
 *   err      optional: why and where it failed
 * A Digest challenge needs realm and nonce; unknown algorithm values are
 * kept (alg UNKNOWN, never selected).  Unknown qop options are ignored (RFC
 * 7616 3.3, RFC 2617 3.2.1); a qop list with no known option at all
 * (qop="foo", qop="") is not an error, because one odd challenge must not
 * make the others in the list unusable: it parses with qop_mask 0,
 * qop_unknown_only 1 and the raw text in `qop`, and imssec_digest_respond()
 * / imssec_digest_aka_respond() answer it with IMSSEC_E_UNSUPPORTED and
 * imssec_digest_challenge_select() skips it.
 * Returns IMSSEC_OK; IMSSEC_E_SYNTAX (duplicate parameters, names compared
 * case-insensitively; a qop value that is not a token list; malformed
 * text); IMSSEC_E_RANGE (more unknown parameters in one challenge than
 * IMSSEC_DIGEST_EXTRA_MAX, err->limit); IMSSEC_E_SPACE (output convention:
 * *out_len = challenges needed).  Nothing is written on error. */
IMSSEC_API int imssec_digest_challenge_parse(imssec_str value, imssec_digest_challenge *out,
                                             size_t out_cap, size_t *out_len,
                                             imssec_errinfo *err);

/* Index of the Digest challenge whose algorithm comes first in `pref`
 * (npref entries of enum imssec_digest_alg), or -1 (IMSSEC_E_NOT_FOUND is
 * not used: -1 is "none acceptable").  Challenges whose qop list has no
 * known option (qop_unknown_only) are skipped. */
IMSSEC_API int imssec_digest_challenge_select(const imssec_digest_challenge *ch, size_t n,
                                              const int *pref, size_t npref);

/* Authorization / Proxy-Authorization (RFC 2617 3.2.2, RFC 3310 3.4 auts). */
typedef struct imssec_digest_credentials {
    imssec_str username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop,
        auts;
    int alg;       /* MD5 when algorithm= is absent */
    int qop_val;   /* enum imssec_digest_qop */
    uint32_t nc;   /* 0 when absent */
    int userhash;
    imssec_digest_param extra[IMSSEC_DIGEST_EXTRA_MAX];
    size_t n_extra;
} imssec_digest_credentials;

/* Parse one Digest credentials value (Authorization / Proxy-Authorization,
 * RFC 2617 3.2.2, RFC 3310 3.4).  username, realm, nonce, uri and response
 * must be present (TS 24.229's initial REGISTER sends them empty); qop
 * requires nc (8 hex digits) and cnonce.  Deliberate leniency (server
 * side): nc may be quoted (nc="00000001"; RFC 2617 3.2.2 has it unquoted,
 * but some deployed clients quote it) and its hex digits may be upper case;
 * it must still be exactly 8 hex digits, and imssec_digest_server_verify()
 * still enforces monotonicity.  Returns IMSSEC_OK, IMSSEC_E_SYNTAX,
 * IMSSEC_E_RANGE (more than IMSSEC_DIGEST_EXTRA_MAX unknown parameters),
 * IMSSEC_E_UNSUPPORTED (not the Digest scheme); err (optional) says why and
 * where.  *out unchanged on error. */
IMSSEC_API int imssec_digest_credentials_parse(imssec_str value, imssec_digest_credentials *out,
                                               imssec_errinfo *err);

/* Copy the body of a quoted-string (what the parsers' slices hold) without
 * its quoted-pair escapes.  Output convention; IMSSEC_E_SYNTAX for a
 * trailing lone backslash. */
IMSSEC_API int imssec_digest_unquote(imssec_str s, char *out, size_t out_cap, size_t *out_len);

/* Build "Digest username=..., realm=..., nonce=..., uri=..., response=...,
 * algorithm=..., [cnonce=..., qop=..., nc=...,] [opaque=...,] [auts=...,]
 * [userhash=true]" from `in` and `res` (from imssec_digest_compute();
 * NULL writes response="": an AKA failure REGISTER without password).
 * opaque, auts: empty to omit.  Output convention; IMSSEC_E_UNSUPPORTED
 * (alg); IMSSEC_E_PARAM. */
IMSSEC_API int imssec_digest_credentials_build(const imssec_digest_in *in,
                                               const imssec_digest_out *res, imssec_str opaque,
                                               imssec_str auts, char *out, size_t out_cap,
                                               size_t *out_len);

/* The Authorization of an initial REGISTER (TS 24.229 5.1.1.2.1, TS 33.203
 * 6.1.1 SM1: the IMPI travels in it so that the S-CSCF can fetch vectors):
 * 'Digest username="<impi>", realm="<realm>", uri="<uri>", nonce="",
 * response=""'.  Output convention; IMSSEC_E_PARAM (an empty username,
 * realm or uri). */
IMSSEC_API int imssec_digest_initial_build(imssec_str username, imssec_str realm, imssec_str uri,
                                           char *out, size_t out_cap, size_t *out_len);

/* Build a Digest challenge value: realm, nonce, algorithm, qop list from
 * qop_mask, opaque (empty: omitted), stale=true, userhash=true when set.
 * Output convention; IMSSEC_E_UNSUPPORTED (alg). */
IMSSEC_API int imssec_digest_challenge_build(int alg, imssec_str realm, imssec_str nonce,
                                             imssec_str opaque, unsigned qop_mask, int stale,
                                             int userhash, char *out, size_t out_cap,
                                             size_t *out_len);

/* P-CSCF, TS 33.203 6.1.1 (SM4 -> SM6): "Upon receiving SM4 the P-CSCF
 * shall store the keys and remove that information and forward the rest of
 * the message to the UE".  The S-CSCF's WWW-Authenticate carries CK and IK
 * as ck="<32 hex>" and ik="<32 hex>" parameters (TS 29.228, TS 24.229
 * 5.2.2.1).
 *   \param value   the WWW-Authenticate value from the S-CSCF (one Digest
 *                  challenge)
 *   \param out     receives the same value without the ck and ik
 *                  parameters, every other byte unchanged
 *   \param ck, ik  receive the keys (wipe them when the SAs are made)
 *   \return IMSSEC_OK; output convention for out; IMSSEC_E_NOT_FOUND (no
 *   ck or no ik); IMSSEC_E_SYNTAX (not a challenge, or ck / ik not 32 hex
 *   digits, or repeated; err says where).  Nothing is written on error. */
IMSSEC_API int imssec_digest_take_keys(imssec_str value, char *out, size_t out_cap,
                                       size_t *out_len, uint8_t ck[IMSSEC_AKA_CK_LEN],
                                       uint8_t ik[IMSSEC_AKA_IK_LEN], imssec_errinfo *err);

/* Authentication-Info (RFC 2617 3.2.3, RFC 7616 3.5). */
typedef struct imssec_digest_info {
    imssec_str nextnonce, qop, rspauth, cnonce, nc_text;
    int qop_val;
    uint32_t nc;
} imssec_digest_info;

/* Build "nextnonce=..., qop=..., rspauth=..., cnonce=..., nc=..." for `in`
 * (nextnonce omitted when empty).  Output convention. */
IMSSEC_API int imssec_digest_info_build(const imssec_digest_in *in, imssec_str nextnonce,
                                        char *out, size_t out_cap, size_t *out_len);

/* Parse an Authentication-Info value (RFC 2617 3.2.3): nextnonce, qop
 * (auth or auth-int), rspauth, cnonce and nc (8 hex digits), each at most
 * once; other parameters are ignored (RFC 7615).  Slices point into value.
 * Returns IMSSEC_OK or IMSSEC_E_SYNTAX (malformed, duplicate, no known
 * parameter at all; err says where).  *out unchanged on error. */
IMSSEC_API int imssec_digest_info_parse(imssec_str value, imssec_digest_info *out,
                                        imssec_errinfo *err);

/* Check rspauth (constant time) and that qop/nc/cnonce echo `in`.
 * IMSSEC_OK or IMSSEC_E_AUTH. */
IMSSEC_API int imssec_digest_info_verify(const imssec_digest_in *in,
                                         const imssec_digest_info *info);

/* ---- Digest server side ---------------------------------------------------- */

/* One issued nonce: its text, expiry and the highest nc seen. */
typedef struct imssec_digest_nonce {
    char nonce_[IMSSEC_DIGEST_NONCE_MAX];
    size_t len_;
    uint64_t expires_ms_;
    uint32_t last_nc_;
    int used_;
} imssec_digest_nonce;

/* What an AKA REGISTER's credentials (imssec_digest_credentials_parse())
 * are, for the S-CSCF and the P-CSCF alike.  The rule lives here only. */
enum imssec_digest_aka_kind {
    IMSSEC_DIGEST_AKA_INITIAL = 0,         /* nonce="": asks for a challenge (TS 24.229 5.1.1.2.1) */
    IMSSEC_DIGEST_AKA_ANSWER = 1,          /* the response to a challenge (SM7 / SM9) */
    IMSSEC_DIGEST_AKA_SYNC_FAILURE = 2,    /* auts=: resynchronise (TS 33.203 6.1.3) */
    IMSSEC_DIGEST_AKA_NETWORK_FAILURE = 3  /* response="": the UE could not authenticate the
                                              network (6.1.2.2, 7.3.1.2); no new vector */
};
/* Returns an enum imssec_digest_aka_kind, or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_digest_aka_kind(const imssec_digest_credentials *cr);

/* Remember an issued nonce valid until expires_ms.  IMSSEC_OK or
 * IMSSEC_E_RANGE (longer than IMSSEC_DIGEST_NONCE_MAX). */
IMSSEC_API int imssec_digest_nonce_set(imssec_digest_nonce *st, imssec_str nonce,
                                       uint64_t expires_ms);

/* Verify credentials against the password (for AKA: the AKA password from
 * XRES, imssec_digest_aka_password()), in this order: algorithm equals
 * `alg` and nonce equals the issued one (IMSSEC_E_AUTH); response, compared
 * in constant time (IMSSEC_E_AUTH; upper-case hex digits are accepted as
 * the same value -- RFC 2617's LHEX says what clients send -- while any
 * other difference fails); expiry (IMSSEC_E_STALE: the password was
 * right, challenge again with stale=true, RFC 7616 3.3); nc strictly above
 * the last accepted one (IMSSEC_E_NC, RFC 7616 3.4 replay).  `username` is
 * the plain user name for A1 (needed when the credentials use userhash;
 * empty: the one in the credentials).  On IMSSEC_OK the nc is recorded. */
IMSSEC_API int imssec_digest_server_verify(imssec_digest_nonce *st,
                                           const imssec_digest_credentials *cr, int alg,
                                           imssec_str username, imssec_str method,
                                           const uint8_t *body, size_t body_len,
                                           const uint8_t *password, size_t password_len,
                                           uint64_t now_ms);

/* ---- Digest client with AKA ------------------------------------------------- */

typedef struct imssec_digest_request {
    imssec_str username, method, uri, cnonce; /* cnonce needed when qop is used */
    uint32_t nc;
    const uint8_t *body;
    size_t body_len;
    int prefer_auth_int; /* choose auth-int when both are offered */
} imssec_digest_request;

/* Answer a chosen challenge with a password (non-AKA algorithms).
 * Chooses qop (auth, or auth-int if preferred or the only one offered;
 * none when the challenge has no qop).  Fills *dout (optional) and writes
 * the credentials.  Output convention; IMSSEC_E_UNSUPPORTED (alg unknown
 * or AKA; a qop list with no known option, see
 * imssec_digest_challenge_parse(): no downgrade to the qop-less form;
 * realm, nonce or opaque longer than 256 characters), IMSSEC_E_PARAM (no
 * cnonce). */
IMSSEC_API int imssec_digest_respond(const imssec_digest_challenge *ch,
                                     const imssec_digest_request *rq, const uint8_t *password,
                                     size_t password_len, imssec_digest_out *dout, char *out,
                                     size_t out_cap, size_t *out_len);

/* Answer an AKA challenge (RFC 3310 / RFC 4169): decode the nonce, run the
 * provider on RAND/AUTN, derive the password and build the credentials.
 *   \param p      the AKA provider (software Milenage or a USIM)
 *   \param ch     the chosen challenge (imssec_digest_challenge_select())
 *   \param rq     username (the IMPI), method, uri, cnonce (qop), nc, body
 *   \param ar     receives RES / CK / IK (OK), AUTS (SYNC_FAILURE)
 *   \param dout   optional: HA1 / HA2 / response
 *   \param out    the Authorization value to send, in every outcome below
 *   \return
 *   IMSSEC_OK             credentials with the response (SM7, TS 33.203 6.1.1)
 *   IMSSEC_E_SYNC_FAILURE credentials with auts=base64(AUTS) and the
 *                         response over an empty password (RFC 3310 3.4,
 *                         TS 33.203 6.1.3)
 *   IMSSEC_E_MAC_FAILURE, IMSSEC_E_AMF
 *                         credentials with response="" and no auts: the
 *                         REGISTER "indicating a network authentication
 *                         failure" (TS 33.203 6.1.2.2, 7.3.1.2; RFC 3310
 *                         3.3, TS 24.229 5.1.1.5.3)
 *   otherwise             the errors of imssec_digest_respond() and
 *                         imssec_aka_authenticate(); nothing written.
 * Ordering: everything that can refuse the answer (nonce, qop, cnonce,
 * output size) is checked BEFORE the provider runs, so an error never uses
 * the challenge up (a USIM's AUTHENTICATE cannot be undone):
 * IMSSEC_E_SPACE comes first and reports in *out_len the largest of the
 * possible answers (the sync-failure one, with auts=), so the credentials
 * written may be shorter than that. */
IMSSEC_API int imssec_digest_aka_respond(const imssec_aka_provider *p,
                                         const imssec_digest_challenge *ch,
                                         const imssec_digest_request *rq, imssec_aka_result *ar,
                                         imssec_digest_out *dout, char *out, size_t out_cap,
                                         size_t *out_len);
/* ---- END aka/ ------------------------------------------------------------- */

/* ---- BEGIN secagree/ ------------------------------------------------------ */
/* ===========================================================================
 * secagree/: the security agreement of RFC 3329 (Security-Client / -Server
 * / -Verify) with the TS 33.203 Annex H `ipsec-3gpp` mechanism; the
 * security mode set-up decisions of clause 7.2 and Annex M (M.7.2); the
 * top Via and NAT detection (M.7.2).  Pure functions over caller memory.
 *
 * Parsed mechanisms refer to the input text (zero-copy): the text must
 * outlive the imssec_secagree_mech array.  Names, parameter names and
 * token values are case-insensitive; the original spelling is kept in the
 * slices (a Security-Verify echoes the server's list as received).
 * ======================================================================== */

/* Mechanism names (RFC 3329 section 2.2 registry + Annex H). */
typedef enum imssec_secagree_kind {
    IMSSEC_SECAGREE_OTHER = 0, /* any other name, preserved as text */
    IMSSEC_SECAGREE_IPSEC_3GPP = 1,
    IMSSEC_SECAGREE_DIGEST = 2,
    IMSSEC_SECAGREE_TLS = 3,
    IMSSEC_SECAGREE_IPSEC_IKE = 4,
    IMSSEC_SECAGREE_IPSEC_MAN = 5
} imssec_secagree_kind;

/* prot= (Annex H; ESP is the default when absent). */
typedef enum imssec_secagree_prot {
    IMSSEC_SECAGREE_PROT_ESP = 0,
    IMSSEC_SECAGREE_PROT_AH = 1,
    IMSSEC_SECAGREE_PROT_UNKNOWN = 2
} imssec_secagree_prot;

/* Bits of imssec_secagree_mech.present: the parameter appeared (or, for
 * the builders, is to be written).  Absent alg is never selected (Annex H:
 * mandatory); absent ealg, prot and mod mean null, esp and trans. */
#define IMSSEC_SECAGREE_HAS_ALG 0x001u
#define IMSSEC_SECAGREE_HAS_EALG 0x002u
#define IMSSEC_SECAGREE_HAS_PROT 0x004u
#define IMSSEC_SECAGREE_HAS_MOD 0x008u
#define IMSSEC_SECAGREE_HAS_SPI_C 0x010u
#define IMSSEC_SECAGREE_HAS_SPI_S 0x020u
#define IMSSEC_SECAGREE_HAS_PORT_C 0x040u
#define IMSSEC_SECAGREE_HAS_PORT_S 0x080u
#define IMSSEC_SECAGREE_HAS_Q 0x100u
/* All four of spi-c, spi-s, port-c, port-s: an SA proposal.  A list whose
 * entries lack them (421/494 answers) is a capability list only. */
#define IMSSEC_SECAGREE_HAS_SA_PARAMS 0x0f0u

/* Most parameters one mechanism may carry (bounds every loop). */
#define IMSSEC_SECAGREE_PARAMS_MAX 32

/* One mechanism.  For imssec_secagree_build(), fill `kind` (or `name` for an
 * OTHER name), the typed fields and `present`, leave `raw` empty (or set
 * `params` to text from a parse to carry its extension parameters).  A
 * typed value that is set must have its `present` bit, and the other way
 * round: the builder refuses a mechanism where they disagree. */
typedef struct imssec_secagree_mech {
    imssec_str raw;         /* the whole mechanism as received, outer LWS trimmed */
    imssec_str name;        /* the mechanism name as spelled */
    int kind;               /* enum imssec_secagree_kind */
    unsigned present;       /* IMSSEC_SECAGREE_HAS_* */
    int alg;                /* enum imssec_alg; ipsec-3gpp only */
    int ealg;               /* enum imssec_ealg */
    int prot;               /* enum imssec_secagree_prot */
    int mode;               /* enum imssec_mode (never UDP_ENC_TRANS) */
    imssec_str alg_text, ealg_text, prot_text, mode_text; /* values, unquoted, as written */
    uint32_t spi_c, spi_s;  /* 1..4294967295 */
    uint16_t port_c, port_s; /* 1..65535, port_c != port_s */
    uint16_t q;             /* 0..1000 (q=0.5 -> 500); any mechanism */
    imssec_str params;      /* the text after the name: ";p=v;..." (may be empty) */
    unsigned n_ext;         /* parameters other than the typed ones */
} imssec_secagree_mech;

/* One parameter, from imssec_secagree_param_next(). */
typedef struct imssec_secagree_param {
    imssec_str name;
    imssec_str value;       /* as written, quotes included; value.p NULL for a flag */
    int known;              /* 1: one of the typed parameters of this mechanism */
} imssec_secagree_param;

/* Parse one header value (the text after "Security-Client:" etc.).  RFC 3329
 * section 2.2 grammar with RFC 3261 LWS (folded lines included),
 * quoted-string values, valueless parameters and empty list elements;
 * Annex H typed parameters for ipsec-3gpp; `q` (RFC 3261 qvalue) for any
 * mechanism.  Rejected: SPIs outside 1..4294967295 or not plain decimal,
 * ports outside 1..65535, port-c == port-s, bad qvalues, a parameter
 * repeated in one mechanism, more than IMSSEC_SECAGREE_PARAMS_MAX
 * parameters, an empty list.
 * Returns IMSSEC_OK, IMSSEC_E_SYNTAX / IMSSEC_E_RANGE (err says where:
 * item_index = mechanism, offset = byte, what = why), IMSSEC_E_SPACE (output
 * convention: *out_len = mechanisms needed).  Nothing is written on error. */
IMSSEC_API int imssec_secagree_parse(imssec_str value, imssec_secagree_mech *out,
                                     size_t out_cap, size_t *out_len, imssec_errinfo *err);

/* The same over n_values header instances in message order (RFC 3261 7.3.1:
 * equal to one comma-joined list); err->value_index names the instance. */
IMSSEC_API int imssec_secagree_parse_multi(const imssec_str *values, size_t n_values,
                                           imssec_secagree_mech *out, size_t out_cap,
                                           size_t *out_len, imssec_errinfo *err);

/* Iterate the parameters of a parsed mechanism in order.  *cursor starts
 * at 0.  Returns 1 with *p filled, or 0 at the end. */
IMSSEC_API int imssec_secagree_param_next(const imssec_secagree_mech *m, size_t *cursor,
                                          imssec_secagree_param *p);

/* Build a header value from mechs[0..n): mechanisms joined by ", "; for
 * each the name, then the present typed parameters in the order alg, ealg,
 * prot, mod, spi-c, spi-s, port-c, port-s, q, then the extension
 * parameters of `params` in their order.  Known values use their
 * registered spelling, unknown ones their text; SPIs and ports unsigned
 * decimal; q in its shortest form.  Deterministic; imssec_secagree_parse()
 * of the output gives back equal typed fields.  Output convention;
 * IMSSEC_E_PARAM (err->item_index, err->param) for a field that cannot be
 * written: an out-of-range number, non-token text, a value without its
 * `present` bit or a bit without its value. */
IMSSEC_API int imssec_secagree_build(const imssec_secagree_mech *mechs, size_t n, char *out,
                                     size_t out_cap, size_t *out_len, imssec_errinfo *err);

/* Echo: the raw slices of mechs[0..n) joined by ", ", folded line breaks
 * removed.  For Security-Verify (RFC 3329 2.3.1: the server's list as
 * received) and the repeated Security-Client of Annex H.  Mechanisms
 * without `raw` are built.  Returns as imssec_secagree_build(). */
IMSSEC_API int imssec_secagree_echo(const imssec_secagree_mech *mechs, size_t n, char *out,
                                    size_t out_cap, size_t *out_len, imssec_errinfo *err);

/* Normalised comparison (RFC 3329 2.3.1 Security-Verify check; Annex H
 * Security-Client re-check; TS 33.203 7.2, 7.3.2.3).  Equal when both lists
 * have the same length and, mechanism by mechanism in order, the same name,
 * the same typed values after Annex H defaults (absent prot = esp, mod =
 * trans, ealg = null; unknown values compared as text, case ignored), the
 * same q (absent only equals absent) and the same set of extension
 * parameters (order and case ignored).  Returns 1 (equal) or 0; on 0, err
 * (optional) gets code IMSSEC_E_SECAGREE_MISMATCH, what = the first
 * difference ("list length", "spi-s", ...) and item_index = where. */
IMSSEC_API int imssec_secagree_equal(const imssec_secagree_mech *a, size_t na,
                                     const imssec_secagree_mech *b, size_t nb,
                                     imssec_errinfo *err);

/* The most mechanisms imssec_secagree_check() compares per value. */
#define IMSSEC_SECAGREE_CHECK_MAX 16

/* The same on two header values as text: IMSSEC_OK when equal,
 * IMSSEC_E_SECAGREE_MISMATCH (err: what, item_index) when not, or the parse
 * error of either (err->value_index 0 = a, 1 = b).  Uses at most
 * 2 x IMSSEC_SECAGREE_CHECK_MAX mechanisms of stack. */
IMSSEC_API int imssec_secagree_check(imssec_str a, imssec_str b, imssec_errinfo *err);

/* ---- negotiation (TS 33.203 7.2, M.7.2) ----------------------------------- */

/* One integrity + encryption combination. */
typedef struct imssec_secagree_pair {
    int alg;  /* enum imssec_alg */
    int ealg; /* enum imssec_ealg */
} imssec_secagree_pair;

/* The P-CSCF's confidentiality policy (clause 7.2 and its notes). */
typedef enum imssec_secagree_conf {
    IMSSEC_SECAGREE_CONF_SUPPORTED = 0, /* encrypt whenever the UE supports it */
    IMSSEC_SECAGREE_CONF_REQUIRED = 1,  /* abort when the UE offers no encryption */
    IMSSEC_SECAGREE_CONF_NEVER = 2      /* never: no ealg in Security-Server */
} imssec_secagree_conf;

/* The P-CSCF's policy. */
typedef struct imssec_secagree_policy {
    const imssec_secagree_pair *pairs; /* supported combinations, by priority */
    size_t n_pairs;
    int confidentiality;               /* enum imssec_secagree_conf */
    int udp_encap;                     /* 1: the P-CSCF supports UDP-enc-tun (Annex M) */
    /* TS 33.328 7.1.1: the network prefers e2ae media protection: the
     * Security-Server lists "sdes-srtp;mediasec" ("e2ae-security supported
     * by network"; imssec_sa_pcscf_challenge() adds it only when the UE's
     * SM1 indicated support). */
    int e2ae;
} imssec_secagree_policy;

/* The outcome of a negotiation: which entry of the peer's list was chosen,
 * the resolved algorithms and mode, and that entry's SA values (the UE's
 * spi-c/spi-s/port-c/port-s at the P-CSCF, the P-CSCF's at the UE).
 * imssec_sa_args_from_choice() carries it into sa/. */
typedef struct imssec_secagree_choice {
    size_t index;
    int alg, ealg, mode;   /* enum imssec_alg / imssec_ealg / imssec_mode */
    uint32_t spi_c, spi_s;
    uint16_t port_c, port_s;
} imssec_secagree_choice;

/* P-CSCF side, on SM1 (7.2, M.7.2): the first pair of the policy that the
 * UE also offered in an acceptable ipsec-3gpp entry (prot esp, all four SA
 * parameters, port-c and port-s other than 5060 and 5061 (7.1), a mode
 * usable here: trans without NAT; behind a NAT only
 * UDP-enc-tun and only if policy->udp_encap).  Confidentiality: REQUIRED
 * skips ealg=null pairs; NEVER selects on alg alone with ealg null.
 * Returns IMSSEC_OK (*choice set), IMSSEC_E_SECAGREE_REJECT (err: clause
 * 7.3.2.1 with sip_status 494 for no acceptable offer, prot=ah only,
 * unsupported only or confidentiality required; M.7.3.2.4 with sip_status
 * 0 -- silently discard -- for a NAT without UDP-enc-tun on either side),
 * IMSSEC_E_PARAM (bad policy).  *choice unchanged on error. */
IMSSEC_API int imssec_secagree_pcscf_choose(const imssec_secagree_mech *client, size_t n_client,
                                            const imssec_secagree_policy *policy, int nat,
                                            imssec_secagree_choice *choice,
                                            imssec_errinfo *err);

/* P-CSCF side, SM6 (7.2): the Security-Server value: every policy pair
 * (REQUIRED: encrypting pairs only; NEVER: each alg once and no ealg;
 * otherwise all, even when the UE offered no encryption -- the
 * anti-bidding-down rule of the 7.2 NOTE), prot=esp, mod=trans or
 * UDP-enc-tun (nat), and the P-CSCF's SPIs and ports (7.1: spi_pc, spi_ps,
 * port_pc, port_ps; all 0 gives a capability list for a 421/494).  Output
 * convention; IMSSEC_E_PARAM for a bad policy or only some values 0. */
IMSSEC_API int imssec_secagree_server_build(const imssec_secagree_policy *policy, int nat,
                                            uint32_t spi_pc, uint32_t spi_ps, uint16_t port_pc,
                                            uint16_t port_ps, char *out, size_t out_cap,
                                            size_t *out_len);

/* The UE's offer (SM1, 7.2). */
typedef struct imssec_secagree_offer {
    const imssec_secagree_pair *pairs; /* supported combinations, by preference */
    size_t n_pairs;
    const int *modes;                  /* enum imssec_mode, by preference; NULL = trans only */
    size_t n_modes;
    /* 1: offer only the first pair in the first mode (many deployed
     * P-CSCFs read only the first mechanism of a Security-Client). */
    int single;
    /* 5.1.3: "The UE shall always offer encryption algorithms": an offer
     * without one is refused unless this is 1 (an explicit override). */
    int allow_no_encryption;
    /* TS 33.328 7.1.1: "e2ae-security supported by UE": the list ends with
     * "sdes-srtp;mediasec" (TS 24.229 7.2A.7). */
    int e2ae;
} imssec_secagree_offer;

/* UE side, SM1: the Security-Client value: one ipsec-3gpp entry per (mode,
 * pair) with alg, ealg, prot=esp, mod and the UE's spi-c, spi-s, port-c,
 * port-s (7.1: spi_uc, spi_us, port_uc, port_us).  Output convention;
 * IMSSEC_E_PARAM (err->what: no pair, a pair not valid or not compiled in,
 * no encryption offered (5.1.3), UDP_ENC_TRANS, zero values). */
IMSSEC_API int imssec_secagree_client_build(const imssec_secagree_offer *offer, uint32_t spi_c,
                                            uint32_t spi_s, uint16_t port_c, uint16_t port_s,
                                            char *out, size_t out_cap, size_t *out_len,
                                            imssec_errinfo *err);

/* UE side, SM6 (7.2, M.7.2): the first entry of the server's list (ordered
 * by q, highest first, absent q = 1000, ties in list order) that is
 * ipsec-3gpp, prot esp, an SA proposal (all four SA parameters, ports
 * other than 5060 and 5061 (7.1); a capability list is never one), an (alg, ealg) pair in supported[] (an
 * entry without ealg -- the P-CSCF never encrypts -- matches any supported
 * pair of its alg and gives ealg null, 7.2), and a usable mode:
 * UDP-enc-tun needs udp_encap; trans is usable unless mod was absent and
 * `nat` (M.7.2: a `received` in the top Via of the 401).  Returns
 * IMSSEC_OK, IMSSEC_E_SECAGREE_REJECT (err->clause 7.3.2.2 or M.7.2:
 * abandon the registration) or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_secagree_ue_select(const imssec_secagree_mech *server, size_t n_server,
                                         const imssec_secagree_pair *supported, size_t n_supported,
                                         int udp_encap, int nat, imssec_secagree_choice *choice,
                                         imssec_errinfo *err);

/* 1 when the list holds the media mechanism "sdes-srtp" with the
 * "mediasec" parameter -- TS 33.328 7.1.1's "e2ae-security supported by
 * UE" in a Security-Client, "... by network" in a Security-Server (TS
 * 24.229 7.2A.7) -- else 0. */
IMSSEC_API int imssec_secagree_e2ae(const imssec_secagree_mech *mechs, size_t n);

/* Registered mechanism names ("ipsec-3gpp", "tls", ...); NULL for OTHER. */
IMSSEC_API const char *imssec_secagree_kind_name(int kind);

/* ---- the top Via and NAT detection (M.7.2) -------------------------------- */

/* The top Via of a message (RFC 3261 20.42): enough for NAT detection. */
typedef struct imssec_secagree_via {
    imssec_str transport; /* "UDP", "TCP", ... */
    imssec_str host;      /* sent-by host as written (IPv6 with brackets) */
    uint16_t port;        /* 0 if absent */
    imssec_str received;  /* value of `received`; received.p NULL if absent */
    int has_rport;
    uint16_t rport;       /* 0 if absent or valueless */
} imssec_secagree_via;

/* Parse the first via-parm of a Via header value (stops at the first
 * top-level comma).  Returns IMSSEC_OK or IMSSEC_E_SYNTAX (err: offset);
 * *via untouched on error.  UE side, M.7.2: NAT is `via.received.p !=
 * NULL` in the 401. */
IMSSEC_API int imssec_secagree_via_parse(imssec_str value, imssec_secagree_via *via,
                                         imssec_errinfo *err);

/* P-CSCF side, M.7.2: NAT detection.  *nat = 1 when the packet's source
 * address `src` differs from the top Via's sent-by host.  Returns
 * IMSSEC_OK, IMSSEC_E_UNSUPPORTED when sent-by is a domain name (the caller
 * must resolve it, M.7.2 NOTE), IMSSEC_E_SYNTAX for a malformed address,
 * IMSSEC_E_PARAM. */
IMSSEC_API int imssec_secagree_nat_detect(const imssec_secagree_via *via, const imssec_addr *src,
                                          int *nat);
/* ---- END secagree/ -------------------------------------------------------- */

/* ---- BEGIN esp/ ----------------------------------------------------------- */
/* ===========================================================================
 * esp/: a software ESP engine (RFC 4303) for the IMS SAs of TS 33.203
 * clauses 6.2/6.3 and Annex M: transport, tunnel and RFC 3948
 * UDP-encapsulated tunnel (and transport) mode; HMAC-MD5-96 (RFC 2403) /
 * HMAC-SHA-1-96 (RFC 2404); NULL / DES-EDE3-CBC (RFC 2451) / AES-128-CBC
 * (RFC 3602); the later-release AES-GCM (RFC 4106) and AES-GMAC (RFC
 * 4543); an RFC 6479-style anti-replay window; optional ESN (RFC 4303
 * Appendix A); the Annex I key expansion.
 *
 * The algorithms and modes are the shared imssec_alg, imssec_ealg and
 * imssec_mode: what secagree/ negotiated and sa/ stored is what an SA is
 * set up with.  IMSSEC_ALG_NULL (no integrity transform) goes with
 * AES-GCM, which authenticates itself; with AES-CBC / DES-EDE3-CBC it
 * exists only to reproduce the encryption-only samples of RFC 3602
 * section 4 (TS 33.203 never negotiates that, and such an SA has no
 * anti-replay protection).
 *
 * The later-release suites (128-bit AES only, as TS 33.203 uses them):
 *   ealg AES-GCM (alg NULL): RFC 4106 with a 16-byte ICV: nonce = salt ||
 *     the packet's 8-byte explicit IV; AAD = SPI || sequence number, with
 *     ESN SPI || Seqh || Seql (RFC 4106 5); payload, padding (to 4 bytes),
 *     pad length and next header encrypted.
 *   alg AES-GMAC (ealg NULL): RFC 4543 (ENCR_NULL_AUTH_AES_GMAC): the same
 *     nonce, IV and 16-byte ICV, no encryption: everything from the SPI
 *     through the next header is AAD, with ESN Seqh after the SPI (RFC 4543
 *     3.3).
 *   Keys as Linux's rfc4106(gcm(aes)) / rfc4543(gcm(aes)) take them: the
 *   16-byte AES key then the 4-byte salt, 20 bytes (RFC 4106 8.1; RFC 4543
 *   likewise), in enc_key for AES-GCM and in auth_key for AES-GMAC;
 *   imssec_esp_keys() makes them from IK_IM / CK_IM.
 *   Inbound, as for the other suites: the tag is verified in constant time
 *   over the packet as received before any byte is decrypted or written,
 *   then the window is committed; the other combinations (AES-GCM with an
 *   alg, AES-GMAC with an ealg) are IMSSEC_E_PARAM.
 *
 * Modes:
 *   TRANS          RFC 4303 3.1.1: the packet's IP header is kept
 *   TUN            RFC 4303 3.1.2: an outer IP header src -> dst
 *   UDP_ENC_TUN    RFC 3948 2.1 + tunnel: outer IP, UDP, ESP (Annex M)
 *   UDP_ENC_TRANS  RFC 3948 2.1 + transport: the packet's IP header
 *                  (protocol 17), UDP sport -> dport (the SA's ports), then
 *                  ESP exactly as in transport mode.  Outbound UDP
 *                  checksum: 0 on IPv4 (RFC 3948 2.1 SHOULD); computed on
 *                  IPv6 (RFC 6935 allows 0 only for opted-in tunnels; RFC
 *                  8200 8.1).  Inbound: the UDP length must match the IP
 *                  length and the destination port must be the SA's dport
 *                  (else MALFORMED); a keepalive or Non-ESP marker is
 *                  IMSSEC_E_NOT_ESP.  RFC 3948 3.1.2 on the inner transport
 *                  checksum, which a NAT invalidated (no NAT-OA is used):
 *                  inner UDP over IPv4 gets checksum 0 (option 4); inner
 *                  TCP, and UDP over IPv6 (where 0 is not allowed), get the
 *                  checksum recomputed over the rebuilt packet's
 *                  pseudo-header (option 3).
 * The UDP modes need IMSSEC_ENABLE_UDPENCAP (else IMSSEC_E_UNSUPPORTED).
 *
 * One imssec_esp_sa is one direction of one SA.  It lives in caller memory,
 * holds the precomputed HMAC inner/outer states and the cipher schedules,
 * and may be copied or moved with memcpy between calls.
 * ======================================================================== */

enum imssec_esp_dir {
    IMSSEC_ESP_OUTBOUND = 0, /* protect */
    IMSSEC_ESP_INBOUND = 1   /* unprotect */
};

#define IMSSEC_ESP_ICV_LEN 12     /* both HMAC-*-96 */
#define IMSSEC_ESP_ICV_MAX 16     /* AES-GCM, AES-GMAC (RFC 4106 / 4543: 16 bytes) */
#define IMSSEC_ESP_AUTH_KEY_MAX 20 /* HMAC-SHA-1-96; AES-GMAC key || salt */
#define IMSSEC_ESP_ENC_KEY_MAX 24  /* DES-EDE3-CBC (AES-GCM key || salt: 20) */
#define IMSSEC_ESP_IV_MAX 16       /* AES-CBC (GCM and GMAC: 8) */
/* Default window: 64 bits (Linux, RFC 4303 3.4.3 "64 SHOULD"), or the
 * configured maximum when that is smaller. */
#define IMSSEC_ESP_REPLAY_DEFAULT (IMSSEC_REPLAY_WINDOW_MAX < 64 ? IMSSEC_REPLAY_WINDOW_MAX : 64)
/* Largest growth of a packet by imssec_esp_protect(): outer IPv6 40 + UDP 8
 * + SPI/seq 8 + IV 16 + padding 15 + pad length/next header 2 + ICV 12. */
#define IMSSEC_ESP_OVERHEAD_MAX 101
/* Largest inner IP + UDP header imssec_esp_protect_flow() adds in front of
 * a UDP payload (IPv6 40 + UDP 8); a TCP segment brings its own header. */
#define IMSSEC_ESP_INNER_MAX 48

/* Everything an SA is made from.  imssec_esp_params_init() sets defaults;
 * the keys are read once by imssec_esp_sa_setup() and not kept referenced. */
typedef struct imssec_esp_params {
    uint32_t spi;  /* 1..2^32-1 (0 is reserved, RFC 4303 2.1) */
    int dir;       /* enum imssec_esp_dir */
    int mode;      /* enum imssec_mode */
    int alg;       /* enum imssec_alg: the integrity transform */
    int ealg;      /* enum imssec_ealg: the encryption transform */
    const uint8_t *auth_key; /* IK_ESP (see imssec_esp_keys) */
    size_t auth_key_len;     /* 16 for MD5, 20 for SHA-1 and AES-GMAC, 0 for NULL */
    const uint8_t *enc_key;  /* CK_ESP */
    size_t enc_key_len;      /* 24 for DES-EDE3-CBC, 16 for AES-CBC, 20 for AES-GCM, 0 for NULL */
    /* Tunnel modes: the outer header's source and destination (outbound:
     * this host -> peer; inbound: peer -> this host; inbound packets whose
     * outer addresses differ are still accepted: NAT may rewrite them).
     * Both the same length.  Ignored in transport modes. */
    imssec_addr src, dst;
    /* UDP modes: UDP source/destination ports (default 4500/4500; the
     * caller updates them with imssec_esp_sa_set_ports() when it learns the
     * peer's NAT port). */
    uint16_t sport, dport;
    int esn;                /* 1: 64-bit extended sequence numbers */
    uint32_t replay_window; /* bits, power of two, 32..IMSSEC_REPLAY_WINDOW_MAX */
    /* Starting point, e.g. when restoring an SA.  Outbound: the last
     * sequence number sent (the next packet gets seq + 1).  Inbound: the
     * highest number already received; every number <= seq is treated as
     * seen (conservative: nothing old is accepted after a restore).  Must
     * fit in 32 bits without ESN.  Default 0. */
    uint64_t seq;
} imssec_esp_params;

/* Per-SA counters.  packets/bytes count protected (outbound) or accepted
 * (inbound) packets and their plaintext IP packet bytes. */
typedef struct imssec_esp_stats {
    uint64_t packets, bytes;
    uint64_t replay;        /* IMSSEC_E_REPLAY */
    uint64_t icv;           /* IMSSEC_E_ICV */
    uint64_t bad_padding;   /* IMSSEC_E_BAD_PADDING */
    uint64_t malformed;     /* IMSSEC_E_MALFORMED */
    uint64_t dummy;         /* IMSSEC_E_DUMMY (next header 59) */
    uint64_t no_sa;         /* IMSSEC_E_NO_SA (SPI is not this SA's) */
    uint64_t seq_exhausted; /* IMSSEC_E_SEQ_EXHAUSTED */
} imssec_esp_stats;

/* The SA: private fields only; read it with the accessors below. */
typedef struct imssec_esp_sa {
    uint32_t spi_;
    int dir_, mode_, alg_, ealg_, esn_;
    imssec_addr src_, dst_;
    uint16_t sport_, dport_;
    uint32_t window_; /* replay window size in bits */
    uint64_t seq_;    /* outbound: last sent; inbound: highest accepted */
    imssec_esp_stats stats_;
    uint32_t setup_;  /* magic: set by imssec_esp_sa_setup, 0 after wipe */
    /* RFC 6479 ring: bit (n mod 64) of word (n / 64) mod nwords, covering
     * [seq - window + 1, seq]; one extra word so the top never aliases. */
    uint64_t replay_[(IMSSEC_REPLAY_WINDOW_MAX + 63) / 64 + 1];
    /* Opaque crypto state (an isc_hmac and an isc_cipher of core/crypto.c,
     * or for AES-GCM / AES-GMAC an isc_gcm key and the salt in
     * cipher_state_; their sizes are checked at compile time). */
    uint64_t auth_state_[80];
    uint64_t cipher_state_[128];
} imssec_esp_sa;

/* TS 33.203 Annex I: derive the ESP keys from the IMS AKA keys.  This is
 * the library's only copy of the rule: sa/ calls it too.
 *   alg HMAC-MD5-96:    IK_ESP = IK_IM (16 bytes)
 *   alg HMAC-SHA-1-96:  IK_ESP = IK_IM || 32 zero bits (20 bytes)
 *   alg AES-GMAC:       IK_ESP = IK_IM || salt (20 bytes), salt = the 32
 *                       least significant bits of KDF(CK_IM || IK_IM, S),
 *                       S = FC 0x58 || "AES_GMAC_SALT" || 0x00 0x0D
 *   alg NULL:           no key (*ik_esp_len = 0), only with AES-GCM
 *   ealg AES-CBC:       CK_ESP = CK_IM (16 bytes)
 *   ealg AES-GCM:       CK_ESP = CK_IM || salt (20 bytes), salt as for
 *                       AES-GMAC with S = FC 0x59 || "AES_GCM_SALT" ||
 *                       0x00 0x0C
 *   ealg DES-EDE3-CBC:  CK_ESP = CK1 || CK2 || CK1 with DES odd parity set
 *                       in every byte (RFC 2451), CK_IM = CK1 || CK2
 *   ealg NULL:          no key (*ck_esp_len = 0)
 * KDF: TS 33.220 Annex B, HMAC-SHA-256 with a 256-bit output.  The rules
 * for MD5, SHA-1, AES-CBC and DES-EDE3-CBC are v7.7.0's; the AES-GMAC /
 * AES-GCM rules are the text of the later TS 33.203 Annex I that added
 * those algorithms, as quoted in OpenSIPS modules/proto_ipsec/ipsec_algo.c
 * (2024; the exact 3GPP version number was not verified here).  Salts
 * tested against an independent HMAC-SHA-256 (Python hmac/hashlib).
 * ik_esp has room for IMSSEC_ESP_AUTH_KEY_MAX bytes, ck_esp for
 * IMSSEC_ESP_ENC_KEY_MAX.  Returns IMSSEC_OK, IMSSEC_E_PARAM (an alg or
 * ealg without an Annex I rule here, or a pair the later releases forbid:
 * alg NULL without AES-GCM, AES-GCM with an alg, AES-GMAC with an ealg) or
 * IMSSEC_E_UNSUPPORTED (algorithm compiled out). */
IMSSEC_API int imssec_esp_keys(int alg, int ealg, const uint8_t ik_im[IMSSEC_AKA_IK_LEN],
                               const uint8_t ck_im[IMSSEC_AKA_CK_LEN],
                               uint8_t ik_esp[IMSSEC_ESP_AUTH_KEY_MAX], size_t *ik_esp_len,
                               uint8_t ck_esp[IMSSEC_ESP_ENC_KEY_MAX], size_t *ck_esp_len);

/* Defaults: dir outbound, transport, HMAC-SHA-1-96, NULL encryption, no
 * keys, no addresses, ports 4500/4500, no ESN, window
 * IMSSEC_ESP_REPLAY_DEFAULT, seq 0. */
IMSSEC_API void imssec_esp_params_init(imssec_esp_params *p);

/* Create an SA from p: validates everything, precomputes the HMAC states
 * and cipher key schedules.  Returns IMSSEC_OK; IMSSEC_E_PARAM (err->param
 * names the field: SPI 0, key length, window not a power of two in range,
 * address lengths, seq > 2^32-1 without ESN, ealg NULL with alg NULL,
 * AES-GCM with an alg, AES-GMAC with an ealg); IMSSEC_E_UNSUPPORTED
 * (algorithm or IPv6 / UDP encapsulation compiled out).  On error *sa is
 * zeroed. */
IMSSEC_API int imssec_esp_sa_setup(imssec_esp_sa *sa, const imssec_esp_params *p,
                                   imssec_errinfo *err);

/* Zeroize the SA: keys, HMAC states, schedules, window, counters. */
IMSSEC_API void imssec_esp_sa_wipe(imssec_esp_sa *sa);

/* What an SA was set up with, without its keys (auth_key and enc_key NULL,
 * lengths 0): seq is the current one (outbound: the last sent; inbound:
 * the highest accepted), the ports the current ones.  IMSSEC_OK or
 * IMSSEC_E_PARAM (not set up). */
IMSSEC_API int imssec_esp_sa_describe(const imssec_esp_sa *sa, imssec_esp_params *p);

/* The SPI (0 when the SA is not set up), the sequence number (outbound:
 * the last one sent; inbound: the highest accepted) and the counters. */
IMSSEC_API uint32_t imssec_esp_sa_spi(const imssec_esp_sa *sa);
IMSSEC_API uint64_t imssec_esp_sa_seq(const imssec_esp_sa *sa);
IMSSEC_API const imssec_esp_stats *imssec_esp_sa_stats(const imssec_esp_sa *sa);

/* UDP modes: change the UDP ports (M.7.2: the P-CSCF learns the UE's NAT
 * port port_Uenc from the first packet).  IMSSEC_OK or IMSSEC_E_PARAM (not
 * a UDP mode, a port 0). */
IMSSEC_API int imssec_esp_sa_set_ports(imssec_esp_sa *sa, uint16_t sport, uint16_t dport);

/* Exact size of the packet imssec_esp_protect() makes from the IP packet
 * in[0..in_len) on this SA, or 0 if it would refuse it (not an outbound SA,
 * not a valid packet).  Never more than in_len + IMSSEC_ESP_OVERHEAD_MAX. */
IMSSEC_API size_t imssec_esp_protect_size(const imssec_esp_sa *sa, const uint8_t *in,
                                          size_t in_len);

/* Outbound (RFC 4303 3.3): protect the plaintext IP packet in[0..in_len).
 *   Transport mode: the IP header is kept (ID, TTL, flags, options), its
 *     protocol / next header becomes 50, lengths and the IPv4 checksum are
 *     updated; for IPv6, ESP goes after hop-by-hop, routing and destination
 *     options that precede a routing header (RFC 4303 3.1.1).  Fragments and
 *     jumbograms are refused with IMSSEC_E_UNSUPPORTED.
 *   UDP transport: as transport, with protocol / next header 17 and the
 *     RFC 3948 UDP header inserted before ESP.
 *   Tunnel modes: an outer header src -> dst is added (IPv4: TTL 64, DF and
 *     TOS copied from an inner IPv4 header, ID = low 16 bits of the
 *     sequence number; IPv6: hop limit 64, traffic class copied), in UDP
 *     tunnel mode followed by the RFC 3948 UDP header (checksum 0 on IPv4,
 *     computed on IPv6).
 *   Padding 1, 2, 3, ... to the cipher block (4 bytes for NULL, AES-GCM
 *   and AES-GMAC).
 * iv: optional (NULL = io->random supplies it); exactly the cipher's IV size
 *   (16 AES-CBC, 8 3DES, AES-GCM and AES-GMAC, ignored for NULL).  Pass one
 *   only for known-answer tests and byte-exact comparisons: a reused or
 *   predictable CBC IV breaks confidentiality, and an AES-GCM / GMAC IV
 *   used twice under one key breaks its integrity (RFC 4106 3.1: unique per
 *   key).  The random default is deliberate there too: Annex I gives all
 *   four SAs of a set the same key and salt, so a per-SA counter (the
 *   sequence number) would repeat across them.
 * io: needed only when iv is NULL and the cipher has an IV.
 * Buffers: out may equal in (in place: the caller declares the buffer
 *   exclusively writable) or must not overlap it.  out_cap is checked
 *   against imssec_esp_protect_size() before anything is written.
 * Returns IMSSEC_OK (*out_len set, the SA's seq advanced); IMSSEC_E_SPACE
 * (*out_len = size needed); IMSSEC_E_RANGE (the result would be longer
 * than an IP length field allows); IMSSEC_E_SEQ_EXHAUSTED (seq would pass
 * 2^32-1, or 2^64-1 with ESN: rekey); IMSSEC_E_MALFORMED (in is not a valid
 * IPv4 / IPv6 packet); IMSSEC_E_UNSUPPORTED; IMSSEC_E_CALLBACK (RNG
 * failed); IMSSEC_E_PARAM.  On error nothing is written and the SA is
 * unchanged; err (optional) says why. */
IMSSEC_API int imssec_esp_protect(imssec_esp_sa *sa, const imssec_io *io, const uint8_t *iv,
                                  const uint8_t *in, size_t in_len, uint8_t *out,
                                  size_t out_cap, size_t *out_len, imssec_errinfo *err);

/* Inbound (RFC 4303 3.4): unprotect the ESP IP packet in[0..in_len) (for
 * UDP tunnel mode: outer IP, UDP header, ESP).  In this order: parse ->
 * replay pre-check (with ESN: Seqh inferred per RFC 4303 Appendix A2) ->
 * ICV over SPI..ciphertext (|| Seqh with ESN; the GCM suites: their tag,
 * AAD as above), constant time -> window
 * commit -> decrypt the trailer (and in tunnel modes the inner header)
 * into a stack buffer -> strict padding check (pad length fits, every pad
 * byte is 1, 2, 3, ...), next header, inner header -> only then the rest
 * decrypted into out, and the plaintext packet rebuilt: transport: the
 * original protocol / next header and lengths restored, IPv4 checksum
 * recomputed; UDP transport: the same with the UDP header removed and the
 * inner TCP/UDP checksum handled per RFC 3948 3.1.2; tunnel: the inner
 * packet, trimmed to its own IP length (TFC padding dropped).
 * Buffers: out may equal in (in place) or must not overlap it; out_cap must
 *   be >= in_len (checked first).
 * seq: optional; on IMSSEC_OK receives the packet's full (64-bit with ESN)
 *   sequence number.
 * Returns IMSSEC_OK (*out_len); verdicts (packet dropped, outputs and the
 * input buffer unchanged, even in place; the stats counter of the same
 * name incremented): IMSSEC_E_MALFORMED (truncated, bad lengths, fragments,
 * not ESP, ciphertext not a block multiple, inner packet invalid, UDP
 * transport: UDP length or destination port wrong), IMSSEC_E_NO_SA (SPI is
 * not this SA's: the caller's demultiplexing picked the wrong SA; err->what
 * says when the SPI matches byte-swapped, a host-order bug at the sender),
 * IMSSEC_E_NOT_ESP (UDP modes: a keepalive or an IKE packet; not counted),
 * IMSSEC_E_REPLAY, IMSSEC_E_ICV, IMSSEC_E_BAD_PADDING, IMSSEC_E_DUMMY (next
 * header 59: drop silently).  The SA is unchanged except that counter,
 * with one exception: after the ICV verified the window is committed, so
 * BAD_PADDING, DUMMY and MALFORMED-after-decrypt still consume the sequence
 * number (RFC 4303 3.4.3: the packet is authentic).  Also IMSSEC_E_SPACE
 * (*out_len = in_len, nothing else changed) and IMSSEC_E_PARAM (nothing
 * changed). */
IMSSEC_API int imssec_esp_unprotect(imssec_esp_sa *sa, const uint8_t *in, size_t in_len,
                                    uint8_t *out, size_t out_cap, size_t *out_len,
                                    uint64_t *seq, imssec_errinfo *err);

/* Inbound for a tunnel-mode SA when the caller holds only the ESP part,
 * e.g. the payload of a port-4500 UDP socket after imssec_esp_udp_demux()
 * said IMSSEC_ESP_UDP_ESP (esp = udp + off): esp[0..len) starts at the SPI.
 * The output is the inner IP packet; everything else (order of checks,
 * buffers, verdicts, counters) is as imssec_esp_unprotect().  Transport
 * and UDP transport SAs get IMSSEC_E_PARAM (their header is outside the
 * ESP part). */
IMSSEC_API int imssec_esp_unprotect_esp(imssec_esp_sa *sa, const uint8_t *esp, size_t len,
                                        uint8_t *out, size_t out_cap, size_t *out_len,
                                        uint64_t *seq, imssec_errinfo *err);

/* ---- the payload level: what a SIP stack sends and receives ---------------- */

/* Write the IP packet that carries a UDP payload or a TCP segment on flow
 * f: an IPv4 header (DF set, ID 0: an atomic datagram, RFC 6864; TTL 64)
 * or an IPv6 header (hop limit 64), then for UDP the UDP header with its
 * checksum (RFC 768; RFC 8200 8.1), for TCP the caller's segment (header
 * included) with its checksum filled in (RFC 9293 3.1).  Output
 * convention; IMSSEC_E_PARAM (address lengths differ or are not 4/16, a
 * port 0, a TCP segment shorter than its header); IMSSEC_E_RANGE (longer
 * than an IP packet can be). */
IMSSEC_API int imssec_esp_ip_build(const imssec_flow *f, const uint8_t *payload,
                                   size_t payload_len, uint8_t *out, size_t out_cap,
                                   size_t *out_len);

/* Parse an IP packet carrying UDP or TCP into its flow and payload: for
 * UDP the bytes after the UDP header, for TCP the whole segment (the
 * caller's TCP stack wants the header).  Lengths and the checksum are
 * verified (UDP checksum 0 on IPv4: none sent, RFC 768).  Returns
 * IMSSEC_OK or IMSSEC_E_MALFORMED (truncated, lengths, fragments, another
 * protocol, a wrong checksum; err says which).  Nothing is written on
 * error. */
IMSSEC_API int imssec_esp_ip_parse(const uint8_t *pkt, size_t len, imssec_flow *f,
                                   size_t *payload_off, size_t *payload_len, imssec_errinfo *err);

/* Protect a payload on flow f: imssec_esp_ip_build() then
 * imssec_esp_protect(), into out (which must not overlap payload).
 * *esp_off (optional) receives the offset of the ESP header: in the UDP
 * modes out + *esp_off is what a UDP socket on the encapsulation port sends
 * (the kernel writes the outer IP and UDP headers); in the other modes the
 * whole packet goes to a raw socket with IP_HDRINCL.  Returns as the two
 * calls. */
IMSSEC_API int imssec_esp_protect_flow(imssec_esp_sa *sa, const imssec_io *io,
                                       const imssec_flow *f, const uint8_t *payload,
                                       size_t payload_len, uint8_t *out, size_t out_cap,
                                       size_t *out_len, size_t *esp_off, imssec_errinfo *err);

/* Where the input of imssec_esp_unprotect_flow() starts. */
enum imssec_esp_input {
    IMSSEC_ESP_IN_IP = 0, /* a whole IP packet (raw socket, TUN device, capture) */
    IMSSEC_ESP_IN_ESP = 1 /* only the ESP part: a UDP encapsulation socket's payload */
};

/* Unprotect a packet and parse the inner IP packet: imssec_esp_unprotect()
 * (or _esp() for IMSSEC_ESP_IN_ESP) then imssec_esp_ip_parse() of the
 * result in out.  *f receives the inner flow; out[*payload_off ..
 * *payload_off + *payload_len) is the UDP payload or the TCP segment.
 * Returns as the two calls (a malformed inner packet is IMSSEC_E_MALFORMED,
 * after the window commit: it was authentic). */
IMSSEC_API int imssec_esp_unprotect_flow(imssec_esp_sa *sa, int input, const uint8_t *in,
                                         size_t in_len, uint8_t *out, size_t out_cap,
                                         imssec_flow *f, size_t *payload_off, size_t *payload_len,
                                         uint64_t *seq, imssec_errinfo *err);

/* ---- anti-replay primitives --------------------------------------------- */

/* Exposed for callers that split the work (and for tests).  check: 0 if
 * the full sequence number would be accepted now, IMSSEC_E_REPLAY
 * otherwise; changes nothing.  commit: marks it received (call only after
 * the ICV verified).  infer: RFC 4303 Appendix A2, the full 64-bit number
 * for a received low half (without ESN: seql itself). */
IMSSEC_API int imssec_esp_replay_check(const imssec_esp_sa *sa, uint64_t seq);
IMSSEC_API void imssec_esp_replay_commit(imssec_esp_sa *sa, uint64_t seq);
IMSSEC_API uint64_t imssec_esp_replay_infer(const imssec_esp_sa *sa, uint32_t seql);

/* ---- RFC 3948 UDP encapsulation: demultiplexing and keepalives -------------- */

/* What imssec_esp_udp_demux() found. */
enum imssec_esp_udp_kind {
    IMSSEC_ESP_UDP_ESP = 0,      /* an ESP packet */
    IMSSEC_ESP_UDP_IKE = 1,      /* behind the Non-ESP marker: for the key manager */
    IMSSEC_ESP_UDP_KEEPALIVE = 2 /* one byte 0xFF: consume silently */
};

/* RFC 3948 section 2 demultiplexing of a datagram received on a port-4500
 * UDP socket.  udp[0..len) starts at the UDP header (8 bytes); the UDP
 * length field, not len, decides (len may include link padding).  *kind;
 * for ESP *spi = the SPI and *off = offset of the ESP header in udp; for
 * IKE *off = offset of the IKE header.  Returns IMSSEC_OK, or
 * IMSSEC_E_MALFORMED (truncated, UDP length below 8 or beyond len, an ESP
 * header shorter than SPI + seq, an SPI of 0 that is not a Non-ESP
 * marker). */
IMSSEC_API int imssec_esp_udp_demux(const uint8_t *udp, size_t len, int *kind, uint32_t *spi,
                                    size_t *off);

/* NAT keepalive (RFC 3948 section 4), driven by the caller's clock. */
typedef struct imssec_esp_keepalive {
    uint64_t last_ms;     /* last packet sent towards the peer */
    uint32_t interval_ms; /* 20000 by default */
} imssec_esp_keepalive;
/* interval_ms 0 = 20 s (RFC 3948 section 4 default). */
IMSSEC_API void imssec_esp_keepalive_init(imssec_esp_keepalive *k, uint32_t interval_ms,
                                          uint64_t now_ms);
/* Tell the timer a packet was sent (keepalives are needed only when idle). */
IMSSEC_API void imssec_esp_keepalive_sent(imssec_esp_keepalive *k, uint64_t now_ms);
/* 1 if a keepalive is due at now_ms (then the timer restarts), else 0. */
IMSSEC_API int imssec_esp_keepalive_due(imssec_esp_keepalive *k, uint64_t now_ms);
/* Build the keepalive IP packet of a UDP tunnel SA: outer IPv4/IPv6 header
 * src -> dst, UDP sport -> dport with length 9, one byte 0xFF.  Output
 * convention; IMSSEC_E_PARAM (not an outbound UDP tunnel SA). */
IMSSEC_API int imssec_esp_keepalive_build(const imssec_esp_sa *sa, uint8_t *out,
                                          size_t out_cap, size_t *out_len);
/* ---- END esp/ ------------------------------------------------------------- */

/* ---- BEGIN sa/ ------------------------------------------------------------ */
/*
 * sa/: the SA table and the UE and P-CSCF state machines of TS 33.203 v7.7.0
 * clauses 6.1.5, 7.1, 7.3, 7.4 (7.4.1a, 7.4.2a), 7.5 and Annex M.7.
 *
 * sa/ does no I/O.  It is told SIP-level facts (events: "REGISTER sent",
 * "401 received with keys", "200 OK sent", "message arrived on SA X", ...)
 * and answers which SA must protect an outgoing message and whether an
 * inbound message on SA X is acceptable.  SA install / update / delete are
 * delivered to the caller through imssec_sa_callbacks (the data-plane seam:
 * the built-in esp/ engine of imssec_sa_esp_callbacks(), Linux XFRM,
 * hardware).
 *
 * Storage.  One caller buffer holds everything: per-user records (one per
 * IMPI: the registration state machine), per-set records (one per set of
 * four SAs created by one authentication: the data of 7.1 rules 1 and 5 and
 * M.7.1) and three open-addressing hash indexes (inbound SPI, (UE IP, UE
 * port), IMPI).  imssec_sa_table_mem() tells how many bytes to provide.
 *
 * The four SAs of a set are named by the ports they join, never by position
 * (cf. kamailio#3513, ports swapped):
 *   IMSSEC_SA_UC_PS  UE port_uc -> P-CSCF port_ps, SPI spi_ps (uplink)
 *   IMSSEC_SA_US_PC  UE port_us -> P-CSCF port_pc, SPI spi_pc (uplink)
 *   IMSSEC_SA_PC_US  P-CSCF port_pc -> UE port_us, SPI spi_us (downlink)
 *   IMSSEC_SA_PS_UC  P-CSCF port_ps -> UE port_uc, SPI spi_uc (downlink)
 * Uplink SAs are inbound at the P-CSCF and outbound at the UE.
 *
 * Which SA carries a message: TS 33.203 7.1 items 1 and 2, by transport.
 *   UDP  the UE sends everything (requests and responses) from port_uc to
 *        port_ps: UC_PS; the P-CSCF sends everything from port_pc to
 *        port_us: PC_US.  US_PC and PS_UC carry nothing.
 *   TCP  a request goes on a connection from the sender's client port to
 *        the peer's server port (UE: UC_PS, P-CSCF: PC_US); the response
 *        comes back on that connection (to a UE request: PS_UC; to a
 *        P-CSCF request: US_PC).
 *   UDP-encapsulated tunnel mode follows the same rules (M.7.1 NOTE: "the
 *   handling of the protected ports is the same").  sa/ applies them to
 *   every arrival it checks and every SA it names for sending; the
 *   transport of the message is part of the event arguments.  The one
 *   tolerance, IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA, accepts a *response*
 *   that arrives on the other inbound SA of the very set the rule names
 *   (a deployed P-CSCF answering over UDP on PS_UC): never an SA of
 *   another set, another user or a deleted set.
 *
 * An SA is referred to by an imssec_sa_ref (0 = "no SA": unprotected).  A
 * ref carries a generation, so a ref to a deleted SA never matches a newer
 * SA stored in the same slot.
 */
#define IMSSEC_SA_UC_PS 0
#define IMSSEC_SA_US_PC 1
#define IMSSEC_SA_PC_US 2
#define IMSSEC_SA_PS_UC 3

typedef uint64_t imssec_sa_ref;

enum imssec_sa_role { IMSSEC_SA_ROLE_UE = 0, IMSSEC_SA_ROLE_PCSCF = 1 };

/* One SA as the data plane sees it (passed to the callbacks, returned by
 * imssec_sa_get).  Keys are the expanded ESP keys of Annex I
 * (imssec_esp_keys()). */
typedef struct imssec_sa_info {
    imssec_sa_ref ref;
    uint8_t which;           /* IMSSEC_SA_UC_PS ... */
    uint8_t inbound;         /* 1 if inbound at the table's owner */
    int alg, ealg, mode;     /* enum imssec_alg / imssec_ealg / imssec_mode */
    imssec_addr src, dst;    /* inner addresses (M.7.1: the UE's public one) */
    uint16_t sport, dport;   /* the protected ports (selectors) */
    uint32_t spi;
    uint16_t encap_sport, encap_dport; /* UDP-enc-tun: 4500 / port_Uenc (M.7.1); 0 if unknown */
    uint64_t expires_ms;     /* application-layer lifetime (7.4) */
    const uint8_t *ik;       /* IK_ESP: 16 (MD5), 20 (SHA-1; AES-GMAC: key || salt), 0 (GCM) */
    size_t ik_len;
    const uint8_t *ck;       /* CK_ESP: 0, 16 (AES-CBC), 20 (AES-GCM: key || salt), 24 (3DES) */
    size_t ck_len;
    imssec_str impi;         /* the user, IMPI (7.1 rule 1) */
    uint64_t handle;         /* what install() stored for this SA */
} imssec_sa_info;

/* The data-plane seam.  Every callback returns 0 on success; the table
 * never calls back into itself from a callback.  `err` is never NULL: a
 * callback may set err->what (a constant string) and err->sys_errno (the
 * kernel's errno) and they reach the caller's errinfo.
 *  install: create the SA; may store an opaque handle in *handle.  A failing
 *           install undoes the whole step (SAs installed earlier in the same
 *           step are removed again) and the event fails with nothing
 *           changed: IMSSEC_E_SPACE when the callback returned
 *           IMSSEC_E_SPACE (the data plane is full), else IMSSEC_E_CALLBACK.
 *  update:  the SA's encapsulation port changed (port_Uenc learned, M.7.2).
 *           On failure nothing changes and IMSSEC_E_CALLBACK is returned.
 *  remove:  delete the SA.  The table deletes it anyway (the spec forbids
 *           further use; keys are wiped) and the event completes, returning
 *           IMSSEC_E_CALLBACK so the caller can retry in its data plane.
 *  keepalive (optional): UE behind a NAT, UDP-enc-tun: send a NAT keepalive
 *           (RFC 3948) now; scheduled by imssec_sa_tick (M.7.2). */
typedef struct imssec_sa_callbacks {
    void *user;
    int (*install)(void *user, const imssec_sa_info *sa, uint64_t *handle, imssec_errinfo *err);
    int (*update)(void *user, const imssec_sa_info *sa, imssec_errinfo *err);
    int (*remove)(void *user, const imssec_sa_info *sa, imssec_errinfo *err);
    int (*keepalive)(void *user, imssec_str impi);
} imssec_sa_callbacks;

/* imssec_sa_config.options */
/* 7.1 tolerance (see above): accept a response on the other inbound SA of
 * the set the rule names. */
#define IMSSEC_SA_OPT_TOLERATE_RESPONSE_SA 0x01u

typedef struct imssec_sa_config {
    uint8_t role;               /* IMSSEC_SA_ROLE_* */
    uint8_t options;            /* IMSSEC_SA_OPT_* */
    uint16_t port_min, port_max; /* protected ports are drawn from here (never 5060/5061) */
    uint16_t pcscf_port_ps;     /* P-CSCF: fixed port_ps for all UEs, 0 = one per UE */
    uint32_t reg_lifetime_ms;   /* lifetime of new SAs until SM12 (7.4.1a/7.4.2a) */
    uint32_t margin_ms;         /* "shortly after the registration timer" (7.4) */
    uint32_t switch_before_ms;  /* P-CSCF: "old SAs have only a short time left" (7.4.2a) */
    uint32_t keepalive_ms;      /* UE NAT keepalive interval (M.7.2; RFC 3948: 20 s) */
} imssec_sa_config;

/* Defaults: UE or P-CSCF, no options, ports 49152..65535, reg lifetime
 * 64*T1 = 32 s, margin 30 s, switch 10 s before expiry, keepalive 20 s. */
IMSSEC_API void imssec_sa_config_init(imssec_sa_config *cfg, int role);

/* Registration state of one user.  UE: 7.4.1a; P-CSCF: 7.4.2a. */
enum imssec_sa_state {
    IMSSEC_SA_ST_IDLE = 0,      /* no SAs, not registered */
    IMSSEC_SA_ST_REG_UNPROT,    /* SM1 sent (UE) / received (P-CSCF) unprotected */
    IMSSEC_SA_ST_REG_PROT,      /* SM1 sent / received protected with an old SA */
    IMSSEC_SA_ST_AUTH_UNPROT,   /* SM6 handled, new SAs exist; SM1 was unprotected */
    IMSSEC_SA_ST_AUTH_PROT,     /* same, SM1 was protected */
    IMSSEC_SA_ST_ACTIVE,        /* registered: current SAs (+ old SAs being retired) */
    IMSSEC_SA_ST_DEREG,         /* de-registration REGISTER sent / received */
    IMSSEC_SA_ST_COUNT_
};

enum imssec_sa_event {
    IMSSEC_SA_EV_REG_SEND = 0,  /* UE: sending REGISTER (SM1) */
    IMSSEC_SA_EV_REG_RECV,      /* P-CSCF: REGISTER without auth response (SM1) arrived */
    IMSSEC_SA_EV_CHALLENGE,     /* UE: 401 with keys received (SM6); P-CSCF: sending it */
    IMSSEC_SA_EV_CHALLENGE_REJECT, /* UE: cannot accept SM6 (kind: MAC, sync, proposal) */
    IMSSEC_SA_EV_AUTH_RECV,     /* P-CSCF: REGISTER with auth response or failure (SM7) arrived */
    IMSSEC_SA_EV_SUCCESS,       /* UE: 200 for REGISTER received; P-CSCF: sending it (SM12) */
    IMSSEC_SA_EV_FAILURE,       /* UE: failure response received; P-CSCF: sending it */
    IMSSEC_SA_EV_TIMEOUT,       /* the registration transaction timed out (7.3.1.4) */
    IMSSEC_SA_EV_MSG_IN,        /* any other message arrived (on an SA or unprotected) */
    IMSSEC_SA_EV_IP_CHANGE,     /* UE: own IP address changed (7.5) */
    IMSSEC_SA_EV_DEREG_SEND,    /* UE: sending REGISTER Expires: 0 */
    IMSSEC_SA_EV_DEREG_RECV,    /* P-CSCF: protected REGISTER Expires: 0 arrived */
    IMSSEC_SA_EV_DEREG_DONE,    /* UE: final response received; P-CSCF: final response sent */
    IMSSEC_SA_EV_NET_DEREG,     /* the network ended the registration (reg-event NOTIFY, release) */
    IMSSEC_SA_EV_COUNT_
};

/* imssec_sa_ev_args.kind */
enum imssec_sa_kind {
    IMSSEC_SA_KIND_NONE = 0,
    IMSSEC_SA_KIND_NET_AUTH = 1,  /* network authentication failure (MAC) 7.3.1.2 */
    IMSSEC_SA_KIND_SYNC = 2,      /* synchronisation failure 7.3.1.3 */
    IMSSEC_SA_KIND_PROPOSAL = 3,  /* proposal unacceptable 7.3.2.1 / 7.3.2.2 / 7.3.2.3 */
    IMSSEC_SA_KIND_USER_AUTH = 4, /* user authentication failure (4xx Auth_Failure) 7.3.1.1 */
    IMSSEC_SA_KIND_OTHER = 5      /* any other failure response */
};

/* imssec_sa_ev_args.msg: what a MSG_IN message is (7.1 items 3, 4 and the
 * carrier rules above). */
enum imssec_sa_msg {
    IMSSEC_SA_MSG_REQUEST = 0,  /* a request other than REGISTER */
    IMSSEC_SA_MSG_RESPONSE = 1, /* a response other than an error response */
    IMSSEC_SA_MSG_ERROR = 2,    /* an error response (3xx-6xx) */
    /* UE only: a response to an unprotected REGISTER (7.1 item 4), e.g.
     * 100 Trying; the final ones go through CHALLENGE / FAILURE */
    IMSSEC_SA_MSG_REGISTER_RESPONSE = 3
};

/* Event arguments; the table below says which fields each event reads. */
typedef struct imssec_sa_ev_args {
    imssec_sa_ref arrived_on;   /* SA the message arrived on, 0 = unprotected */
    uint8_t transport;          /* enum imssec_transport of the message (the 7.1 rules) */
    uint8_t msg;                /* MSG_IN: enum imssec_sa_msg */
    uint8_t emergency;          /* MSG_IN: relates to emergency services (7.1 items 3, 4) */
    uint8_t kind;               /* IMSSEC_SA_KIND_* */
    uint8_t force_unprotected;  /* UE REG_SEND: send SM1 unprotected although SAs exist */
    uint8_t nat;                /* P-CSCF REG_RECV: NAT detected (M.7.2) */
    int alg, ealg, mode;        /* CHALLENGE: negotiated (imssec_sa_args_from_choice) */
    uint32_t expires_s;         /* SUCCESS: registration expiry from the 200 */
    imssec_addr ue_ip;          /* UE: own (public, M.7.1) address; P-CSCF REG_RECV: packet source */
    imssec_addr via_ip;         /* P-CSCF REG_RECV, AUTH_RECV: address in the top Via (rule 2) */
    imssec_addr pcscf_ip;       /* UE: P-CSCF address; P-CSCF: own address */
    /* The peer's values: P-CSCF REG_RECV: the UE's Security-Client
     * spi-c/spi-s/port-c/port-s (spi_uc, spi_us, port_uc, port_us); UE
     * CHALLENGE: the P-CSCF's Security-Server values (spi_pc, spi_ps,
     * port_pc, port_ps).  SPIs >= 256, ports not 0/5060/5061, c != s. */
    uint32_t peer_spi_c, peer_spi_s;
    uint16_t peer_port_c, peer_port_s;
    uint8_t ik[IMSSEC_AKA_IK_LEN], ck[IMSSEC_AKA_CK_LEN]; /* CHALLENGE: IK_IM, CK_IM (wipe) */
} imssec_sa_ev_args;

/* Event results. */
typedef struct imssec_sa_ev_out {
    imssec_sa_ref protect_with; /* the SA for the message this step sends, 0 = unprotected */
    uint32_t spi_c, spi_s;      /* our Security-Client (UE) / Security-Server (P-CSCF) values */
    uint16_t port_c, port_s;
    uint8_t integrity_protected; /* P-CSCF: indication towards the S-CSCF (6.1.5) */
    uint8_t state;               /* state after the event */
} imssec_sa_ev_out;

/* ---------------------------------------------------------------------------
 * The events, as imssec_sa_event() handles them.  "carrier" is the SA the
 * 7.1 rules above name for the message and args->transport.  Any (state,
 * event) pair not listed is IMSSEC_E_STATE with nothing changed.
 *
 * UE (7.4.1a, M.7.4.1a)
 *   REG_SEND      IDLE, REG_*, AUTH_*, ACTIVE.  Reads ue_ip,
 *                 force_unprotected.  Deletes NEW (one registration at a
 *                 time).  Out: fresh spi_c/spi_s, port_c (new), port_s
 *                 (port_us, kept while registered, 7.4); protect_with =
 *                 CUR's UC_PS (SM1 protected) or 0.
 *   CHALLENGE     REG_*.  SM6 must arrive unprotected (REG_UNPROT) or on
 *                 the carrier of SM1's set (REG_PROT).  Reads alg, ealg,
 *                 mode, ue_ip, pcscf_ip, peer_*, ik, ck.  Creates NEW
 *                 (lifetime reg_lifetime_ms).  Out: protect_with = NEW's
 *                 UC_PS (SM7).  -> AUTH_*.  Refuses: E_SA_WRONG, E_EXISTS
 *                 (a peer SPI equals one of ours), E_SA_NAT (M.7.4.1a: old
 *                 SAs UDP-enc-tun and new ones not), E_SA_LIMIT (7.1 rule
 *                 3), E_PARAM, E_UNSUPPORTED.
 *   CHALLENGE_REJECT  REG_*.  Arrival as CHALLENGE.  kind NET_AUTH / SYNC:
 *                 stays, protect_with = CUR's UC_PS or 0 for the failure
 *                 REGISTER (7.3.1.2, 7.3.1.3); kind PROPOSAL: abandons
 *                 (7.3.2.2) -> ACTIVE or IDLE.
 *   SUCCESS       AUTH_*: SM12 on NEW's carrier; NEW becomes CUR, the
 *                 previous CUR becomes OLD (AUTH_PROT) or is deleted
 *                 (AUTH_UNPROT); lifetime max(old, expiry + margin).
 *                 REG_PROT (unauthenticated re-registration): on CUR's
 *                 carrier; CUR's lifetime extended, never shortened.
 *                 Reads expires_s.  -> ACTIVE.
 *   FAILURE       REG_*, AUTH_*, DEREG.  On SM1's set's carrier (REG_PROT,
 *                 AUTH_PROT, DEREG), on NEW's carrier (AUTH_UNPROT with kind
 *                 USER_AUTH), else unprotected.  Deletes NEW.  -> ACTIVE or
 *                 IDLE (DEREG: -> ACTIVE).
 *   TIMEOUT       REG_*, AUTH_*, DEREG.  Deletes NEW (DEREG: everything).
 *   MSG_IN        any state.  Reads arrived_on, transport, msg, emergency.
 *                 Protected: CUR or OLD, on the carrier of (msg, transport);
 *                 the first one on CUR retires OLD once its transactions end
 *                 (7.4.1a).  Unprotected: only an error, an emergency
 *                 message or a response to an unprotected REGISTER (7.1
 *                 item 4).  Else E_SA_WRONG (discard it).
 *   IP_CHANGE     any state.  Deletes everything (7.5).  -> IDLE.
 *   DEREG_SEND    ACTIVE.  protect_with = CUR's UC_PS.  -> DEREG.
 *   DEREG_DONE    DEREG.  On CUR's carrier.  Deletes everything.  -> IDLE.
 *   NET_DEREG     REG_*, AUTH_*, ACTIVE, DEREG.  The network ended the
 *                 registration (a reg-event NOTIFY saying so, checked first
 *                 with MSG_IN and answered on imssec_sa_route()'s SA).
 *                 Deletes everything.  -> IDLE.
 *
 * P-CSCF (7.1 rules 1-4, 7.4.2a, M.7.4.2a, 6.1.5)
 *   REG_RECV      IDLE, REG_*, AUTH_*, ACTIVE.  Unprotected, or on CUR's or
 *                 OLD's UC_PS.  Reads ue_ip (packet source), via_ip, nat,
 *                 peer_* (the UE's Security-Client), alg, ealg, mode (the
 *                 P-CSCF's choice, stored for imssec_sa_pcscf_challenge()).  Checks rule 2
 *                 (protected: source = Via = the SA's address), rule 3
 *                 ((UE IP, port_uc) unused; NAT: port_us unused by another
 *                 UE), port_us unchanged while registered (7.4).  NEW of an
 *                 earlier attempt becomes REG.  Stores the values
 *                 (temporary storage).  Out: integrity_protected (on CUR).
 *   CHALLENGE     REG_*.  Reads alg, ealg, mode, ue_ip, pcscf_ip, ik, ck.
 *                 Checks M.7.1 (NAT => UDP-enc-tun, no NAT => trans,
 *                 M.7.4.2a keep UDP-enc-tun), rule 3 (six per direction).
 *                 Creates NEW, deletes REG (7.3.1.4).  Out: spi_c/spi_s/
 *                 port_c/port_s = spi_pc/spi_ps/port_pc/port_ps for
 *                 Security-Server; protect_with = carrier of SM1's set or 0
 *                 (SM6).  -> AUTH_*.
 *   AUTH_RECV     AUTH_*.  kind NONE: SM7 on NEW's UC_PS, rule 2; out:
 *                 integrity_protected 1.  kind NET_AUTH / SYNC: the failure
 *                 REGISTER, on SM1's set or unprotected; deletes NEW (7.3.1.2,
 *                 7.3.1.3) -> REG_*.
 *   SUCCESS       AUTH_*: protect_with = NEW's carrier (SM12); NEW becomes
 *                 CUR; AUTH_UNPROT deletes the old sets, AUTH_PROT keeps the
 *                 one SM1 came on as OLD (7.4.2a).  REG_PROT: CUR's carrier,
 *                 lifetime extended, REG deleted.  -> ACTIVE.
 *   FAILURE       REG_*, AUTH_*, DEREG.  protect_with = SM1's set's carrier,
 *                 NEW's (AUTH_UNPROT, kind USER_AUTH) or 0.  Deletes NEW and
 *                 REG.  -> ACTIVE or IDLE (DEREG: -> ACTIVE).
 *   TIMEOUT       REG_*, AUTH_*, DEREG.  Deletes NEW and REG.
 *   MSG_IN        any state.  As the UE's, with 7.1 item 3: unprotected
 *                 only errors and emergency messages; the first message on
 *                 CUR switches outbound traffic to CUR (7.4.2a).
 *   DEREG_RECV    ACTIVE.  On CUR's or OLD's UC_PS.  Reads ue_ip, via_ip
 *                 (rule 2: imssec_sa_pcscf_deregister() fills them).  -> DEREG.
 *   DEREG_DONE    DEREG.  Deletes everything (after the final response).
 *   NET_DEREG     REG_*, AUTH_*, ACTIVE, DEREG.  The network ended the
 *                 registration (reg-event NOTIFY from the S-CSCF, relayed
 *                 to the UE: report it once that NOTIFY's transaction is
 *                 over -- the UE's 200 arrives on these SAs --; or an
 *                 administrative release).  Deletes everything.  -> IDLE
 *                 (then imssec_sa_user_release()).
 * ------------------------------------------------------------------------ */

/* One user (IMPI) record, one set record and the table.  Private fields. */
typedef struct imssec_sa_user {
    uint8_t impi_[IMSSEC_SA_IMPI_MAX];
    uint8_t impi_len_, state_, used_, flags_;
    uint32_t set_[4];        /* by role: current, old, new, registration; 0 = none, else idx+1 */
    imssec_addr ue_ip_;      /* SM1 source (P-CSCF temporary storage) / own IP (UE) */
    uint32_t spi_c_, spi_s_; /* UE's spi-c/spi-s of the registration in progress */
    uint16_t port_c_, port_s_;
    uint16_t port_us_, port_ps_; /* fixed protected server ports (7.4) */
    uint8_t nat_, sm1_set_, mode_, impu_n_;
    uint8_t neg_alg_, neg_ealg_, neg_mode_; /* P-CSCF: the choice made at SM1 */
    uint8_t e2ae_;            /* TS 33.328 7.1.1 indications: 1 UE, 2 network */
    uint64_t tmp_expires_ms_; /* temporary storage / awaited response deadline */
    uint64_t ka_next_ms_;     /* next NAT keepalive (UE) */
    uint64_t due_ms_;         /* earliest of the above and the sets' lifetimes */
    uint32_t heap_pos_;       /* 1 + position in the deadline heap, 0 = none */
    uint32_t impu_head_;      /* 1 + first IMPU slot, 0 = none */
    uint8_t client_digest_[32]; /* P-CSCF: SM1's Security-Client (Annex H item 1) */
} imssec_sa_user;

typedef struct imssec_sa_set {
    uint32_t gen_, user_;     /* generation; owning user index */
    uint8_t used_, alg_, ealg_, mode_;
    uint8_t ik_len_, ck_len_, pad_[2];
    imssec_addr ue_ip_, pcscf_ip_;
    uint16_t port_uc_, port_us_, port_pc_, port_ps_, port_uenc_;
    uint16_t pad2_;
    uint32_t spi_[4];         /* by IMSSEC_SA_* */
    uint32_t pending_;        /* pending SIP transactions started on this set */
    uint64_t expires_ms_;
    uint64_t handle_[4];
    uint8_t ik_[IMSSEC_ESP_AUTH_KEY_MAX], ck_[IMSSEC_ESP_ENC_KEY_MAX];
} imssec_sa_set;

typedef struct imssec_sa_table {
    imssec_sa_config cfg_;
    const imssec_sa_callbacks *cb_;
    const imssec_io *io_;
    imssec_sa_user *users_;
    imssec_sa_set *sets_;
    uint32_t *ix_spi_, *ix_port_, *ix_impi_, *heap_;
    uint32_t user_cap_, set_cap_, ix_spi_mask_, ix_port_mask_, ix_impi_mask_;
    uint32_t users_used_, sets_used_, free_user_, free_set_, heap_n_;
    int cb_err_;              /* a callback failed during this call (IMSSEC_E_*, 0 = none) */
    imssec_errinfo cb_info_;  /* what the failing callback said */
    uint64_t seed_;
    struct imssec_sa_impu *impu_; /* optional IMPU slots (imssec_sa_impu_attach) */
    uint32_t impu_cap_, impu_per_user_, impu_free_, impu_used_;
} imssec_sa_table;

/* One stored IMPU (private fields; see imssec_sa_impu_attach()). */
typedef struct imssec_sa_impu {
    uint32_t next_, user_; /* 1 + next slot of the same user (or of the free list); owner */
    uint16_t len_, used_;
    char uri_[IMSSEC_SA_IMPU_MAX];
} imssec_sa_impu;

/* Bytes of caller memory needed for `users` users and `sets` SA sets (4 SAs
 * each; a user needs at most 3 at a time, 7.1 rule 3).  0 on overflow. */
IMSSEC_API size_t imssec_sa_table_mem(size_t users, size_t sets);

/* Set up a table in mem[0..mem_len) (aligned for uint64_t, at least
 * imssec_sa_table_mem(users, sets) bytes).  cfg is copied; cb and io are
 * referenced (they must outlive the table); io->random is required (SPIs,
 * ports, the hash seed).  Returns IMSSEC_OK, IMSSEC_E_PARAM (err->param:
 * bad config -- a port range under 8 ports, a pcscf_port_ps of 5060 or
 * 5061 --, misaligned memory, more than 2^24 sets), IMSSEC_E_SPACE (mem too
 * small) or IMSSEC_E_CALLBACK (random failed). */
IMSSEC_API int imssec_sa_table_setup(imssec_sa_table *t, const imssec_sa_config *cfg,
                                     const imssec_sa_callbacks *cb, const imssec_io *io,
                                     size_t users, size_t sets, void *mem, size_t mem_len,
                                     imssec_errinfo *err);

/* Delete every SA (remove callbacks), wipe all keys and the table. */
IMSSEC_API void imssec_sa_table_wipe(imssec_sa_table *t);

/* The user record for impi: found (IMSSEC_OK) or, if create is 1, created in
 * state IDLE.  *user_idx receives its index.  IMSSEC_E_NOT_FOUND,
 * IMSSEC_E_SPACE (no free user record), IMSSEC_E_RANGE (IMPI empty or longer
 * than IMSSEC_SA_IMPI_MAX).  O(1). */
IMSSEC_API int imssec_sa_user_lookup(imssec_sa_table *t, imssec_str impi, int create,
                                     uint32_t *user_idx);

/* Forget a user record in state IDLE (P-CSCF: after de-registration or
 * expiry).  IMSSEC_OK, IMSSEC_E_STATE (not IDLE), IMSSEC_E_PARAM. */
IMSSEC_API int imssec_sa_user_release(imssec_sa_table *t, uint32_t user_idx);

/* Current state of a user (IMSSEC_SA_ST_*), or -1 for a bad index. */
IMSSEC_API int imssec_sa_state(const imssec_sa_table *t, uint32_t user_idx);

/* Fill the SA arguments of CHALLENGE (UE and P-CSCF) and REG_RECV
 * (P-CSCF) from a negotiation: alg, ealg, mode and the chosen entry's
 * peer_spi_c/_s and peer_port_c/_s (the UE's values at the P-CSCF, the
 * P-CSCF's at the UE).  Other fields are left alone. */
IMSSEC_API void imssec_sa_args_from_choice(imssec_sa_ev_args *a,
                                           const imssec_secagree_choice *choice);

/* Feed one event to a user's state machine (UE or P-CSCF by the table's
 * role): the table above.
 *   \param t, user_idx  the table and the user
 *   \param event        IMSSEC_SA_EV_*
 *   \param a            its arguments (NULL: all zero)
 *   \param out          optional: the results
 *   \param now_ms       the caller's clock
 *   \param err          optional: why it failed (E_STATE: state and event;
 *                       verdicts: what and clause; E_SA_LIMIT: limit 6;
 *                       E_PARAM: the field; callbacks: what and sys_errno)
 *   \return IMSSEC_OK; IMSSEC_E_STATE (no row: nothing changed);
 *   IMSSEC_E_SA_WRONG (protected with the wrong SA, or unprotected where
 *   protection is required: discard the message, nothing changed);
 *   IMSSEC_E_SA_RULE2 / _RULE3 / _LIMIT / _NAT (7.1 rules 2 and 3,
 *   M.7.3.2.4: abort the registration, nothing changed); IMSSEC_E_EXISTS (a
 *   peer SPI equals one of our inbound SPIs, 7.1: the peer must choose
 *   others); IMSSEC_E_UNSUPPORTED (algorithm or mode not compiled in);
 *   IMSSEC_E_SPACE (no free set, no free SPI / port, or the data plane is
 *   full); IMSSEC_E_CALLBACK (see imssec_sa_callbacks); IMSSEC_E_PARAM. */
IMSSEC_API int imssec_sa_event(imssec_sa_table *t, uint32_t user_idx, int event,
                               const imssec_sa_ev_args *a, imssec_sa_ev_out *out,
                               uint64_t now_ms, imssec_errinfo *err);

/* Which SA protects an outgoing non-REGISTER message of this user: the 7.1
 * carrier for (our role, is_request, transport) of the right set (7.4.1a,
 * 7.4.2a).
 *   \param transport  enum imssec_transport of the message
 *   \param is_request 1 for a request, 0 for a response
 *   \param txn_ref    0 for a new request: the current set (the P-CSCF
 *                     keeps using OLD until the switch-over of 7.4.2a).
 *                     Otherwise an SA of the set the transaction started
 *                     on: for a response, the SA its request arrived on; for
 *                     a request inside a pending transaction (ACK, CANCEL),
 *                     the SA its first request used ("a SIP message that is
 *                     part of a pending SIP transaction may still be sent
 *                     over the old SA", 7.4).
 *   \return IMSSEC_OK with *sa; IMSSEC_E_STATE when no SA may be used (IMS
 *   service not allowed yet, 7.4.1a); IMSSEC_E_NOT_FOUND (txn_ref stale or
 *   of another user's or an unusable set). */
IMSSEC_API int imssec_sa_route(imssec_sa_table *t, uint32_t user_idx, int transport,
                               int is_request, imssec_sa_ref txn_ref, imssec_sa_ref *sa);

/* The SA of the same set that runs the other way between the same two
 * ports (UC_PS <-> PS_UC, US_PC <-> PC_US): a TCP connection's two
 * directions (7.1 TCP case).  IMSSEC_OK or IMSSEC_E_NOT_FOUND. */
IMSSEC_API int imssec_sa_reverse(const imssec_sa_table *t, imssec_sa_ref sa, imssec_sa_ref *rev);

/* A SIP transaction started (begin) or ended / timed out (end) on the set of
 * sa (pending transactions, 7.4).  end may delete old SAs that waited only
 * for it.  IMSSEC_E_NOT_FOUND for a stale ref; IMSSEC_E_CALLBACK as above. */
IMSSEC_API int imssec_sa_txn_begin(imssec_sa_table *t, imssec_sa_ref sa);
IMSSEC_API int imssec_sa_txn_end(imssec_sa_table *t, imssec_sa_ref sa, uint64_t now_ms);

/* Lookups, O(1): inbound SA by SPI; SA by (UE IP, UE port, P-CSCF port,
 * direction) (7.1 rule 4, M.7.1 rule 7); the set's user index.  Return
 * IMSSEC_OK or IMSSEC_E_NOT_FOUND. */
IMSSEC_API int imssec_sa_find_spi(const imssec_sa_table *t, uint32_t spi, imssec_sa_ref *sa);
IMSSEC_API int imssec_sa_find_ports(const imssec_sa_table *t, const imssec_addr *ue_ip,
                                    uint16_t ue_port, uint16_t pcscf_port, int uplink,
                                    imssec_sa_ref *sa);
IMSSEC_API int imssec_sa_owner(const imssec_sa_table *t, imssec_sa_ref sa, uint32_t *user_idx);

/* Describe an SA (keys point into the table: valid until the next call that
 * may delete it).  IMSSEC_E_NOT_FOUND for a stale ref. */
IMSSEC_API int imssec_sa_get(const imssec_sa_table *t, imssec_sa_ref sa, imssec_sa_info *info);

/* P-CSCF, M.7.2: the first UDP-encapsulated packet on inbound SA sa came
 * from NAT port port_uenc; learn it for the set's SAs (update callbacks).
 * Later packets with the same port are no-ops.  IMSSEC_OK,
 * IMSSEC_E_NOT_FOUND, IMSSEC_E_STATE (not UDP-enc-tun), IMSSEC_E_CALLBACK.
 * imssec_sa_esp_unprotect() calls it itself. */
IMSSEC_API int imssec_sa_learn_uenc(imssec_sa_table *t, imssec_sa_ref sa, uint16_t port_uenc);

/* UE: a packet left on SA sa at now_ms.  M.7.2 / RFC 3948 2.3: NAT
 * keepalives go out only after keepalive_ms without outbound traffic on
 * UDP-encapsulated SAs (from SM7 on, not only once registered); report
 * sends here to postpone them.  IMSSEC_OK, IMSSEC_E_NOT_FOUND (stale ref);
 * a no-op for other modes and at the P-CSCF. */
IMSSEC_API int imssec_sa_note_sent(imssec_sa_table *t, imssec_sa_ref sa, uint64_t now_ms);

/* Expire what is due at now_ms (SA lifetimes, temporary storage, old-SA
 * switch-over at the P-CSCF, NAT keepalives) and return in *next_ms the next
 * deadline (UINT64_MAX if none).  Returns IMSSEC_OK or IMSSEC_E_CALLBACK (a
 * remove or keepalive callback failed; the expiry still happened).  Users
 * are kept in a deadline heap: O(log users) per user that is due, O(1) when
 * nothing is; call it at *next_ms (earlier or later calls are harmless). */
IMSSEC_API int imssec_sa_tick(imssec_sa_table *t, uint64_t now_ms, uint64_t *next_ms);

/* Number of live SAs (4 per set) of a user, or of the table (user_idx =
 * UINT32_MAX). */
IMSSEC_API size_t imssec_sa_count(const imssec_sa_table *t, uint32_t user_idx);

/* Verify every internal invariant (indexes consistent with the records,
 * SPIs unique, <= 6 SAs per direction per IMPI, states and set roles
 * agree).  IMSSEC_OK or IMSSEC_E_STATE.  For tests and after restore. */
IMSSEC_API int imssec_sa_table_check(const imssec_sa_table *t);

/* TS 33.328 6.2.1.2: 1 when SA sa encrypts (an ealg other than NULL), so
 * that SDES keys may go on it (imssec_sdes_policy.hop_confidential); 0 for
 * a NULL-encryption SA or a stale ref. */
IMSSEC_API int imssec_sa_confidential(const imssec_sa_table *t, imssec_sa_ref sa);

/* TS 33.328 7.1.1: "A request for e2ae security from an IMS UE is only
 * allowed if both the IMS UE and P-CSCF (IMS-ALG) have indicated support
 * of e2ae security": 1 when both did during the user's registration (the
 * one-call steps store the indications: imssec_secagree_offer.e2ae and
 * imssec_secagree_policy.e2ae), else 0. */
IMSSEC_API int imssec_sa_e2ae(const imssec_sa_table *t, uint32_t user_idx);

/* ---- IMPUs (TS 33.203 7.1 rule 1, 7.2, 7.4, 7.4.1a, 7.4.2a) -------------
 * The SA table stores with each IMPI the public identities registered
 * through its SAs -- "(UE_IP_address, ..., IMPI, IMPU1, ..., IMPUn,
 * lifetime)" (7.1 rule 1); "The P-CSCF shall associate all successfully
 * registered IMPUs with the IPsec SAs" (7.2) -- when the caller gives it
 * room: an array of slots shared by all users, at most per_user each.  The
 * SAs are deleted "once all the IMPUs are de-registered" (7.4.1a, 7.4.2a):
 * imssec_sa_impu_remove() of the last one does that.  A user's IMPUs are
 * forgotten whenever its registration ends (state IDLE).  IMPUs compare
 * byte for byte: give them in one canonical form (as the registrar's
 * P-Associated-URI or reg-event lists them).  Snapshots include them. */

/* Give the table n IMPU slots (caller memory, must outlive the table), at
 * most per_user (1..255) for one user.  IMSSEC_OK; IMSSEC_E_PARAM (n 0 or
 * above 2^24, per_user out of range); IMSSEC_E_STATE (already attached). */
IMSSEC_API int imssec_sa_impu_attach(imssec_sa_table *t, imssec_sa_impu *slots, size_t n,
                                     unsigned per_user);

/* impu is registered for the user (a successful registration, SM12:
 * every IMPU the 200 OK lists).  Only in state ACTIVE.  IMSSEC_OK (also
 * when already stored); IMSSEC_E_STATE (not ACTIVE, or no slots
 * attached); IMSSEC_E_RANGE (empty or longer than IMSSEC_SA_IMPU_MAX);
 * IMSSEC_E_SPACE (per_user reached, or no free slot). */
IMSSEC_API int imssec_sa_impu_add(imssec_sa_table *t, uint32_t user_idx, imssec_str impu);

/* impu was de-registered.  When it was the user's last one, every SA of
 * the user is deleted (after the caller has sent the final response or
 * NOTIFY over them) and the state becomes IDLE, as after NET_DEREG.
 * IMSSEC_OK; IMSSEC_E_NOT_FOUND (not stored); IMSSEC_E_CALLBACK (a remove
 * callback failed; the deletion still happened). */
IMSSEC_API int imssec_sa_impu_remove(imssec_sa_table *t, uint32_t user_idx, imssec_str impu,
                                     uint64_t now_ms, imssec_errinfo *err);

/* Number of stored IMPUs of a user (0 for a bad index), and the i-th
 * (in the order they were added; valid until the next change). */
IMSSEC_API size_t imssec_sa_impu_count(const imssec_sa_table *t, uint32_t user_idx);
IMSSEC_API int imssec_sa_impu_get(const imssec_sa_table *t, uint32_t user_idx, size_t i,
                                  imssec_str *impu);

/* 7.1 rule 4: "the user associated with the SA, which was used to protect
 * the incoming message from the UE, is identical to the user who is
 * associated at SIP level with the message": IMSSEC_OK when impu is
 * registered for the owner of SA sa, IMSSEC_E_SA_WRONG when not (the
 * message claims another user's identity), IMSSEC_E_NOT_FOUND for a stale
 * ref. */
IMSSEC_API int imssec_sa_impu_check(const imssec_sa_table *t, imssec_sa_ref sa, imssec_str impu);

/* Names for logs: "ACTIVE", "CHALLENGE", ...; never NULL ("?"). */
IMSSEC_API const char *imssec_sa_state_name(int state);
IMSSEC_API const char *imssec_sa_event_name(int event);

/* Snapshot of the whole table into out[0..out_cap) (versioned, SHA-256
 * protected); keys are included only if with_keys is 1 (otherwise restore
 * brings the records back without keys and without calling install).
 * Output convention. */
IMSSEC_API int imssec_sa_snapshot(const imssec_sa_table *t, int with_keys, uint8_t *out,
                                  size_t out_cap, size_t *out_len);

/* Restore a snapshot into a table set up with the same role and at least
 * the same capacities, replacing its contents (no callbacks are made: the
 * data plane is assumed to have kept its SAs).  IMSSEC_OK, IMSSEC_E_SYNTAX
 * (truncated, corrupted, wrong version or role: the table is unchanged),
 * IMSSEC_E_SPACE (capacities too small). */
IMSSEC_API int imssec_sa_restore(imssec_sa_table *t, const uint8_t *in, size_t len);

/* ---------------------------------------------------------------------------
 * The registration in one call per step: what a SIP stack calls when a
 * REGISTER goes out or a 401 comes in (UE), or when SM1, the S-CSCF's 401
 * and SM7 pass through (P-CSCF).  Each call parses the headers, runs
 * secagree/ and aka/ and feeds the sa/ event, so that the caller never
 * converts one module's values into another's.  Every call checks what can
 * fail before it changes anything, except where its contract says which
 * irreversible step (a USIM's AUTHENTICATE) comes first.
 * ------------------------------------------------------------------------ */

/* UE, SM1 (TS 33.203 7.2, 6.1.1; TS 24.229 5.1.1.2): the REGISTER. */
typedef struct imssec_sa_ue_sm1 {
    imssec_addr ue_ip;                   /* own address (behind a NAT: the public one, M.7.1) */
    const imssec_secagree_offer *offer;  /* what the Security-Client offers */
    int transport;                       /* enum imssec_transport of the REGISTER */
    int force_unprotected;               /* 7.4: send SM1 unprotected although SAs exist */
    /* The initial Authorization (TS 24.229 5.1.1.2.1); empty impi: none */
    imssec_str impi, realm, uri;
} imssec_sa_ue_sm1;

typedef struct imssec_sa_ue_sm1_out {
    char *security_client;      /* the Security-Client value (keep it: SM7 repeats it) */
    size_t security_client_cap, security_client_len;
    char *authorization;        /* optional (NULL): the initial Authorization value */
    size_t authorization_cap, authorization_len;
    imssec_sa_ref protect_with; /* 0: send unprotected (from port 5060 or any); else the old UC_PS */
    uint16_t port_uc, port_us;  /* the protected ports of this attempt (7.1) */
} imssec_sa_ue_sm1_out;

/* The REGISTER of a registration or re-registration (event REG_SEND).
 * Fresh SPIs and port_uc, the fixed port_us (7.4), the Security-Client
 * built from in->offer (imssec_secagree_client_build(): 5.1.3 applies),
 * and the initial Authorization when in->impi is set.
 *   \return IMSSEC_OK; IMSSEC_E_SPACE (nothing changed; the _len fields
 *   hold the sizes needed for any SPIs and ports); the errors of
 *   imssec_secagree_client_build() and of the REG_SEND event. */
IMSSEC_API int imssec_sa_ue_register(imssec_sa_table *t, uint32_t user, const imssec_sa_ue_sm1 *in,
                                     imssec_sa_ue_sm1_out *out, uint64_t now_ms,
                                     imssec_errinfo *err);

/* UE, SM6: a 401 with the challenge and the P-CSCF's Security-Server. */
typedef struct imssec_sa_ue_401 {
    imssec_str www_authenticate;   /* the 401's WWW-Authenticate value */
    imssec_str security_server;    /* its Security-Server value */
    imssec_str via;                /* its top Via (M.7.2: `received` = NAT); may be empty */
    imssec_sa_ref arrived_on;      /* the SA it came on, 0 = unprotected */
    int transport;                 /* enum imssec_transport */
    const imssec_aka_provider *aka;
    const int *digest_algs;        /* by preference; NULL = AKAv2-SHA-256 .. AKAv1-MD5 */
    size_t n_digest_algs;
    imssec_str username, uri;      /* the IMPI and the REGISTER's Request-URI */
    imssec_str cnonce;             /* when the challenge has qop */
    uint32_t nc;
    const imssec_secagree_pair *supported; /* the pairs the UE runs (7.2) */
    size_t n_supported;
    int udp_encap;                 /* the UE runs UDP-enc-tun (Annex M) */
    imssec_addr ue_ip, pcscf_ip;   /* ue_ip: own (public) address */
} imssec_sa_ue_401;

typedef struct imssec_sa_ue_401_out {
    char *authorization;           /* the answering REGISTER's Authorization */
    size_t authorization_cap, authorization_len;
    char *security_verify;         /* IMSSEC_OK: its Security-Verify (the server list echoed) */
    size_t security_verify_cap, security_verify_len;
    imssec_sa_ref protect_with;    /* the SA the answering REGISTER goes on (0: unprotected) */
    imssec_secagree_choice choice; /* IMSSEC_OK: what was selected */
} imssec_sa_ue_401_out;

/* Answer a challenge: the whole of SM6 -> SM7 at the UE.
 *   1. Security-Server: parse, select (7.2, M.7.2 with the Via's
 *      `received`); nothing acceptable: the registration is abandoned
 *      (7.3.2.2, event CHALLENGE_REJECT) and IMSSEC_E_SECAGREE_REJECT
 *      returned before the challenge is used.
 *   2. WWW-Authenticate: parse, choose the AKA challenge; output sizes and
 *      the CHALLENGE step are checked (nothing changed on failure).
 *   3. AKA through in->aka (imssec_digest_aka_respond()): irreversible.
 *   4. The sa/ event: CHALLENGE with CK/IK (new SAs, SM7 on the new UC_PS)
 *      or CHALLENGE_REJECT (SYNC, NET_AUTH: the failure REGISTER on the old
 *      SA or unprotected, 7.3.1.2, 7.3.1.3).
 *   \return IMSSEC_OK (send SM7: authorization, security_verify and the
 *   Security-Client again, on protect_with); IMSSEC_E_SYNC_FAILURE (send
 *   the REGISTER with authorization = auts); IMSSEC_E_MAC_FAILURE /
 *   IMSSEC_E_AMF (send the REGISTER with authorization = the empty
 *   response); IMSSEC_E_SECAGREE_REJECT (send nothing); otherwise an error
 *   of the parsers (E_SYNTAX, E_NOT_FOUND: no AKA challenge), of the
 *   output sizes (E_SPACE) or of the CHALLENGE step, with nothing changed
 *   -- except that an error of step 4 after a successful AKA (a data plane
 *   that refuses the SAs) leaves the challenge used: register again. */
IMSSEC_API int imssec_sa_ue_challenge(imssec_sa_table *t, uint32_t user,
                                      const imssec_sa_ue_401 *in, imssec_sa_ue_401_out *out,
                                      uint64_t now_ms, imssec_errinfo *err);

/* P-CSCF, SM1: a REGISTER without an authentication response arrived. */
typedef struct imssec_sa_pcscf_sm1 {
    imssec_str security_client;          /* its Security-Client value */
    imssec_str via;                      /* its top Via value */
    imssec_addr src;                     /* the packet's source address */
    imssec_sa_ref arrived_on;            /* 0 = unprotected */
    int transport;                       /* enum imssec_transport */
    const imssec_secagree_policy *policy;
} imssec_sa_pcscf_sm1;

typedef struct imssec_sa_pcscf_sm1_out {
    imssec_secagree_choice choice; /* IMSSEC_OK: what was chosen (stored in the table too) */
    int nat;                       /* M.7.2: NAT detected */
    int integrity_protected;       /* 6.1.5: the indication towards the S-CSCF */
    int sip_status;                /* IMSSEC_E_SECAGREE_REJECT: answer this (494), 0 = discard */
    imssec_sa_ref protect_with;    /* the SA for that answer (0 = unprotected) */
} imssec_sa_pcscf_sm1_out;

/* SM1 at the P-CSCF: Via and NAT detection (M.7.2), the Security-Client
 * parsed and chosen from (7.2), then event REG_RECV (7.1 rules 2 and 3).
 * NAT (M.7.2): an unprotected SM1 whose Via sent-by differs from the
 * packet source; a protected one that arrived on UDP-enc-tun SAs (M.7.4.2a:
 * the UE is still behind that NAT, whatever address its Via now names).
 * Rule 2 (every protected REGISTER, here and in imssec_sa_pcscf_auth() and
 * imssec_sa_pcscf_deregister()) compares the source, the Via and the SA's
 * address -- on UDP-enc-tun SAs the source and the SA's address only, as
 * the Via may hold the private address no packet carries.
 *   \return IMSSEC_OK (forward SM1 to the S-CSCF with the integrity
 *   indication); IMSSEC_E_SECAGREE_REJECT (answer sip_status, or discard
 *   when 0; the table unchanged); IMSSEC_E_UNSUPPORTED (the Via's sent-by
 *   is a name: resolve it, M.7.2 NOTE); the parse errors and the verdicts
 *   of REG_RECV. */
IMSSEC_API int imssec_sa_pcscf_register(imssec_sa_table *t, uint32_t user,
                                        const imssec_sa_pcscf_sm1 *in,
                                        imssec_sa_pcscf_sm1_out *out, uint64_t now_ms,
                                        imssec_errinfo *err);

/* P-CSCF, SM4 -> SM6: the S-CSCF's 401 passes through. */
typedef struct imssec_sa_pcscf_401 {
    imssec_str www_authenticate;          /* from the S-CSCF, with ck= and ik= */
    const imssec_secagree_policy *policy; /* the one SM1 was chosen with */
    imssec_addr pcscf_ip;                 /* own address */
    int transport;                        /* enum imssec_transport of the 401 */
} imssec_sa_pcscf_401;

typedef struct imssec_sa_pcscf_401_out {
    char *www_authenticate;     /* the value to forward: without ck= and ik= (6.1.1) */
    size_t www_authenticate_cap, www_authenticate_len;
    char *security_server;      /* the Security-Server to add (7.2, SM6) */
    size_t security_server_cap, security_server_len;
    imssec_sa_ref protect_with; /* SM6 goes on this SA (0: unprotected) */
    uint32_t spi_pc, spi_ps;    /* the values that Security-Server carries (7.1) */
    uint16_t port_pc, port_ps;
} imssec_sa_pcscf_401_out;

/* SM6 at the P-CSCF: takes CK and IK out of the challenge (TS 33.203 6.1.1:
 * "store the keys and remove that information"), creates the new SAs
 * (event CHALLENGE, with the choice stored at SM1) and writes the
 * Security-Server with the P-CSCF's new SPIs and ports.  The keys are
 * wiped before it returns.
 *   \return IMSSEC_OK; IMSSEC_E_SPACE (nothing changed; sizes needed in the
 *   _len fields, the Security-Server's for any SPIs and ports); IMSSEC_E_PARAM
 *   (in->policy does not list the pair chosen at SM1); the errors of
 *   imssec_digest_take_keys() and of the CHALLENGE event. */
IMSSEC_API int imssec_sa_pcscf_challenge(imssec_sa_table *t, uint32_t user,
                                         const imssec_sa_pcscf_401 *in,
                                         imssec_sa_pcscf_401_out *out, uint64_t now_ms,
                                         imssec_errinfo *err);

/* P-CSCF, SM7 (or the REGISTER reporting a MAC or SQN failure). */
typedef struct imssec_sa_pcscf_sm7 {
    imssec_str authorization;       /* its Authorization value */
    imssec_str security_verify;     /* its Security-Verify value (SM7) */
    imssec_str security_client;     /* its Security-Client value */
    imssec_str sm1_security_client; /* optional: the Security-Client SM1 carried, for a
                                       detailed difference (the table keeps its digest) */
    imssec_str via;                 /* its top Via value */
    imssec_addr src;                /* the packet's source address (7.1 rule 2) */
    imssec_sa_ref arrived_on;
    int transport;
    const imssec_secagree_policy *policy; /* the one SM6's Security-Server was built from */
} imssec_sa_pcscf_sm7;

/* SM7 at the P-CSCF.  Annex H item 1 ("the server stores the Security-Client
 * header received in SM1"): imssec_sa_pcscf_register() stores a digest of
 * SM1's list (SHA-256 over its mechanisms in canonical form, order and case
 * ignored, as imssec_secagree_check() compares), so SM7's Security-Client
 * is checked against SM1's even when the caller kept no copy.  The
 * Authorization says which REGISTER it is: auts=
 * (a synchronisation failure, 7.3.1.3), response="" with the challenge's
 * nonce (a network authentication failure, 7.3.1.2), or the answer.  For
 * the answer: Security-Verify equals the Security-Server SM6 carried
 * (rebuilt from the table, RFC 3329 2.3.1, TS 33.203 7.2 and 7.3.2.3), the
 * Security-Client equals SM1's (Annex H); then event AUTH_RECV.
 * *integrity_protected receives the 6.1.5 indication for the S-CSCF.
 *   \return IMSSEC_OK (forward to the S-CSCF); IMSSEC_E_SECAGREE_MISMATCH
 *   (abort the registration: err says what differs); the parse errors and
 *   the verdicts of AUTH_RECV. */
IMSSEC_API int imssec_sa_pcscf_auth(imssec_sa_table *t, uint32_t user, const imssec_sa_pcscf_sm7 *in,
                                    int *integrity_protected, uint64_t now_ms, imssec_errinfo *err);

/* P-CSCF: a de-registering REGISTER (Expires: 0) arrived protected: 7.1
 * rule 2 on its top Via and the packet source (as imssec_sa_pcscf_register()
 * does), then event DEREG_RECV.  Send the final response on
 * imssec_sa_route(t, user, transport, 0, arrived_on, ...), then report
 * DEREG_DONE.  Returns the errors of the Via parse and of DEREG_RECV. */
IMSSEC_API int imssec_sa_pcscf_deregister(imssec_sa_table *t, uint32_t user, imssec_str via,
                                          const imssec_addr *src, imssec_sa_ref arrived_on,
                                          int transport, uint64_t now_ms, imssec_errinfo *err);

/* ---------------------------------------------------------------------------
 * The built-in data plane: SAs installed into esp/ engine objects held in a
 * caller array.  imssec_sa_esp_callbacks() fills a callback struct whose
 * install sets up one imssec_esp_sa per SA (handle = slot + 1; a full pool
 * is IMSSEC_E_SPACE), update applies the learned port_Uenc, remove wipes the
 * slot.  The modes map one to one (TRANS, UDP_ENC_TUN); the outer addresses
 * of UDP-enc-tun SAs are the SA's, except that a UE behind a NAT sets its
 * local address as outer source with imssec_sa_esp_pool.outer_local (M.7.1:
 * sa/ stores only the public one).  The pool must outlive the table.  The
 * table's callbacks may wrap the pool's (to log or to refuse a mode): the
 * payload calls below find an SA's slot by its handle, SPI and direction,
 * as long as the wrapper's install called the pool's and kept its handle. */
typedef struct imssec_sa_esp_pool {
    imssec_esp_sa *sas;
    size_t cap, used, cursor_;
    uint32_t replay_window;  /* 0 = IMSSEC_ESP_REPLAY_DEFAULT */
    imssec_addr outer_local; /* len 0 = the SA's own source address */
} imssec_sa_esp_pool;

/* An empty pool over the caller's array sas[0..cap) (every slot wiped);
 * other fields (replay_window, outer_local) may be set afterwards. */
IMSSEC_API void imssec_sa_esp_pool_init(imssec_sa_esp_pool *p, imssec_esp_sa *sas, size_t cap);

/* Fill *cb with the pool's install / update / remove (keepalive stays NULL:
 * set it to send the RFC 3948 keepalive yourself); give cb to
 * imssec_sa_table_setup(). */
IMSSEC_API void imssec_sa_esp_callbacks(imssec_sa_callbacks *cb, imssec_sa_esp_pool *p);
/* Restart without loss.  imssec_sa_restore() brings the table back but a
 * software data plane lost its SAs with the process: save the pool's
 * sequence state with the table's snapshot (together, after every change
 * that matters: a set installed or removed, and periodically while traffic
 * flows) and restore it after the table:
 *   imssec_sa_esp_pool_snapshot  per SA in use: its slot (handle), SPI,
 *                                direction and sequence number (outbound:
 *                                the last sent; inbound: the highest
 *                                accepted), SHA-256 protected.  Output
 *                                convention.
 *   imssec_sa_esp_pool_restore   into an initialised (empty) pool, with the
 *                                table already restored (with keys): every
 *                                SA of the table is set up again from the
 *                                table (keys, selectors, ports) in the slot
 *                                its handle names; an outbound SA continues
 *                                at its saved number + seq_margin (RFC 4303
 *                                3.3.3: a number is never sent twice -- the
 *                                margin covers packets sent after the
 *                                snapshot), an inbound one accepts nothing at
 *                                or below its saved top (a replay of
 *                                anything received before the snapshot is
 *                                refused; what arrived between the snapshot
 *                                and the crash is the margin's price).
 *                                IMSSEC_OK; IMSSEC_E_SYNTAX (corrupt, or
 *                                not this table's SAs: every table SA must
 *                                have its record); IMSSEC_E_SPACE (pool too
 *                                small); the setup errors.  Nothing is kept
 *                                on error (the pool is left empty). */
IMSSEC_API int imssec_sa_esp_pool_snapshot(const imssec_sa_esp_pool *p, uint8_t *out,
                                           size_t out_cap, size_t *out_len);
IMSSEC_API int imssec_sa_esp_pool_restore(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                          const uint8_t *in, size_t len, uint64_t seq_margin,
                                          imssec_errinfo *err);

/* The esp/ SA behind an sa/ ref (NULL for a stale ref or another data plane). */
IMSSEC_API imssec_esp_sa *imssec_sa_esp_of(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                           imssec_sa_ref sa);

/* The payload level: what a SIP stack calls instead of writing IP headers
 * and reading SPIs. */

/* Where a protected packet goes. */
typedef struct imssec_sa_esp_packet {
    size_t len;       /* the whole packet, outer IP header first */
    /* UDP-enc-tun: send out + send_off (the ESP header) .. out + len from
     * the encapsulation UDP socket to to:to_port; transport: send the whole
     * packet to `to` on a raw IP socket with IP_HDRINCL (send_off 0). */
    size_t send_off;
    imssec_addr to;   /* the outer destination address */
    uint16_t to_port; /* UDP-enc-tun: 4500 or the UE's port_Uenc (M.7.1); else 0 */
} imssec_sa_esp_packet;

/* Protect one SIP message on SA `sa` (imssec_sa_route() or
 * imssec_sa_ev_out.protect_with named it): the library writes the inner IP
 * header and the UDP header (or, for TCP, completes the caller's segment)
 * from the SA's selectors -- its addresses and protected ports (7.1) --
 * and protects the packet (imssec_esp_protect_flow()).
 *   \param transport  IMSSEC_TRANSPORT_UDP: payload is the SIP message;
 *                     IMSSEC_TRANSPORT_TCP: payload is a TCP segment
 *   \param out        the packet; out_cap >= payload_len + 48 +
 *                     IMSSEC_ESP_OVERHEAD_MAX always suffices
 *   \param pkt        where and how to send it (pkt->len is the size
 *                     needed on IMSSEC_E_SPACE)
 *   \return IMSSEC_OK; IMSSEC_E_NOT_FOUND (not an outbound SA of this table
 *   and pool); the errors of imssec_esp_protect_flow(). */
IMSSEC_API int imssec_sa_esp_protect(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                     imssec_sa_ref sa, int transport, const uint8_t *payload,
                                     size_t payload_len, uint8_t *out, size_t out_cap,
                                     imssec_sa_esp_packet *pkt, imssec_errinfo *err);

/* What imssec_sa_esp_unprotect() found. */
typedef struct imssec_sa_esp_received {
    imssec_sa_ref sa;      /* the inbound SA (found by the packet's SPI) */
    uint32_t user;         /* its user: give both to imssec_sa_event(MSG_IN ...) */
    imssec_flow flow;      /* the inner addresses, ports and transport */
    size_t payload_off;    /* the SIP message (UDP) or TCP segment: out[off .. off+len) */
    size_t payload_len;
    uint64_t seq;          /* the ESP sequence number */
} imssec_sa_esp_received;

/* Unprotect one received packet: find its SA by SPI, unprotect it
 * (imssec_esp_unprotect_flow()), and check that the inner addresses and
 * ports are that SA's selectors (7.1 rules 4 and 7).  At the P-CSCF the
 * first packet of a UDP-enc-tun set teaches it the UE's NAT port (M.7.2,
 * imssec_sa_learn_uenc()).
 *   \param input     IMSSEC_ESP_IN_ESP: the payload of the encapsulation UDP
 *                    socket (src_port: the datagram's source port);
 *                    IMSSEC_ESP_IN_IP: a whole IP packet (raw socket, TUN)
 *   \param out       out_cap >= in_len
 *   \param rx        the SA, its user, the inner flow, the payload
 *   \return IMSSEC_OK; IMSSEC_E_NOT_ESP (a keepalive or IKE: not an error);
 *   IMSSEC_E_NO_SA (no inbound SA has the SPI; err says when one has it
 *   byte-swapped); IMSSEC_E_SA_WRONG (inner selectors differ: discard);
 *   the verdicts of imssec_esp_unprotect() (the SA's window and counters
 *   as documented there); IMSSEC_E_MALFORMED. */
IMSSEC_API int imssec_sa_esp_unprotect(imssec_sa_esp_pool *p, imssec_sa_table *t, int input,
                                       const uint8_t *in, size_t in_len, uint16_t src_port,
                                       uint8_t *out, size_t out_cap,
                                       imssec_sa_esp_received *rx, imssec_errinfo *err);
/* ---- END sa/ -------------------------------------------------------------- */

/* ---- BEGIN media/ --- */
/* ===========================================================================
 * media/: SRTP and SRTCP (RFC 3711) for IMS media plane security (TS 33.328
 * v14.1.0 clause 6.1.1, Annex C, Annex E), independent of key management:
 * the keys come in as master key / master salt / MKI values, whether SDES
 * (RFC 4568) or MIKEY carried them.
 *
 * Suites: AES_CM_128_HMAC_SHA1_80 (mandatory, Annex E) and _32 (RFC 4568
 * 6.2), AES_256_CM_HMAC_SHA1_80 / _32 (RFC 6188), AEAD_AES_128_GCM and
 * AEAD_AES_256_GCM (RFC 7714, 16-byte tag; GCM is the library's own, on
 * the AES block of mbedTLS, with a constant-time GHASH).  On top of a suite, the SDES session
 * parameters UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP and UNAUTHENTICATED_SRTP
 * (RFC 4568 6.3.2, 6.3.3) select the NULL cipher / NULL authentication.
 * Key derivation (RFC 3711 4.3) runs once per master key: the key
 * derivation rate must be 0 (Annex C allows refusing the others, and this
 * library does, with IMSSEC_E_UNSUPPORTED).  Optional: RFC 4771 (the ROC
 * carried in the authentication tag), modes RCCm1..3 with rate R.
 *
 * Model.  One imssec_srtp_session is one direction of one cryptographic
 * context: the keys of one SDES crypto attribute (or one MIKEY crypto
 * session) and the streams, one per SSRC, that use them.  An outbound
 * session only protects, an inbound one only unprotects; a call needs two
 * (the keys of the two directions differ in SDES).  The streams live in an
 * array the caller passes to imssec_srtp_session_setup(); the session keeps
 * a pointer to it until wiped.  With `auto_streams`, a packet for an SSRC
 * not yet in the table creates its stream (inbound: only once the packet
 * authenticated; the template of RFC 3711 terms), so a receiver accepts the
 * streams of a new call leg without being told their SSRCs.  (A session
 * that authenticates nothing, UNAUTHENTICATED_SRTP or RCCm3, takes any
 * packet; in RCCm1 only a ROC-carrying one creates a stream.)
 *
 * Master keys.  Up to IMSSEC_SRTP_KEYS_MAX per session.  With one key an
 * MKI is optional; with more, every key has an MKI of the same length
 * (RFC 3711 3.1; TS 33.328 Annex E).  Inbound, the MKI in the packet picks
 * the key; outbound, the caller picks it (imssec_srtp_key_select()).  Each
 * key counts the SRTP and SRTCP packets processed with it in this session;
 * its lifetime (default and maximum 2^48 SRTP and 2^31 SRTCP packets, RFC
 * 3711 9.2, TS 33.328 7.2.1 NOTE 1) is enforced: when `lifetime_margin`
 * packets remain the event callback is told IMSSEC_SRTP_EV_KEY_SOFT_LIMIT
 * (re-key now); IMSSEC_SRTP_EV_KEY_HARD_LIMIT comes with the last packet
 * the key may process, and after it protect and unprotect refuse with
 * IMSSEC_E_SEQ_EXHAUSTED.  imssec_srtp_key_get() reports the same.
 *
 * Packets.  Protect and unprotect work in place on the caller's buffer.
 * Inbound, the order is: parse -> key by MKI -> stream by SSRC -> packet
 * index (RFC 3711 3.3.1 / Appendix A; or the ROC from the tag with RFC
 * 4771) -> replay check -> key lifetime -> tag, compared in constant time
 * (for GCM: the tag is verified before anything is decrypted) -> only then
 * decrypt and commit (stream created, replay window, ROC and s_l, key
 * counters).  Every failure returns a verdict and leaves the session, its
 * streams and the packet buffer exactly as they were, except the failure
 * counters of imssec_srtp_stats.
 *
 * Where this differs from libsrtp (the reference peer; test/peer): the
 * first SRTCP index sent is 0 as RFC 3711 3.4 says (libsrtp sends 1 first;
 * imssec_srtp_stream_add() can seed any index); an inbound SRTCP packet
 * whose E flag differs from the session's setting is refused for every
 * suite (libsrtp: AES-CM only); while ROC is 0 a jump back by more than
 * 2^15 is estimated as ROC - 1 exactly as Appendix A says (libsrtp guesses
 * ROC 0 while its index is below 2^15).
 *
 * Memory.  sizeof(imssec_srtp_session) holds IMSSEC_SRTP_KEYS_MAX derived
 * key sets (AES schedules, HMAC inner/outer states); a stream is small (its
 * size is dominated by the two replay rings).  A session may be moved with
 * memcpy between calls (the AES schedules are rebuilt on first use after a
 * move); nothing in it is allocated.
 * ======================================================================== */

/* The crypto suites (RFC 4568 6.2, RFC 6188 5, RFC 7714 14.1 spellings). */
typedef enum imssec_srtp_suite {
    IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80 = 0, /* 16-byte key, 14-byte salt, 10-byte tag */
    IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32 = 1, /* SRTP tag 4 bytes, SRTCP tag 10 */
    IMSSEC_SRTP_AES_256_CM_HMAC_SHA1_80 = 2, /* 32-byte key, 14-byte salt */
    IMSSEC_SRTP_AES_256_CM_HMAC_SHA1_32 = 3,
    IMSSEC_SRTP_AEAD_AES_128_GCM = 4,        /* 16-byte key, 12-byte salt, 16-byte tag */
    IMSSEC_SRTP_AEAD_AES_256_GCM = 5,        /* 32-byte key, 12-byte salt */
    IMSSEC_SRTP_SUITE_UNKNOWN = 6
} imssec_srtp_suite;

/* The SDES spelling ("AES_CM_128_HMAC_SHA1_80"), NULL for UNKNOWN and
 * out-of-range values. */
IMSSEC_API const char *imssec_srtp_suite_name(int suite);
/* Exact (case-sensitive, RFC 4568 9.2) lookup; IMSSEC_SRTP_SUITE_UNKNOWN
 * if it is none of the above. */
IMSSEC_API int imssec_srtp_suite_from_name(imssec_str name);
/* Master key and master salt lengths of a suite in bytes; 0 for UNKNOWN. */
IMSSEC_API size_t imssec_srtp_suite_key_len(int suite);
IMSSEC_API size_t imssec_srtp_suite_salt_len(int suite);

#define IMSSEC_SRTP_MASTER_KEY_MAX 32
#define IMSSEC_SRTP_MASTER_SALT_MAX 14
#define IMSSEC_SRTP_TAG_MAX 16     /* GCM; HMAC-SHA1 tags are 10 or 4 bytes */
#define IMSSEC_SRTP_RTP_HEADER_MIN 12
#define IMSSEC_SRTP_RTCP_HEADER_MIN 8
/* Largest growth of a packet: SRTP tag + MKI; SRTCP adds E || index. */
#define IMSSEC_SRTP_OVERHEAD_MAX (IMSSEC_SRTP_TAG_MAX + IMSSEC_SRTP_MKI_MAX)
#define IMSSEC_SRTCP_OVERHEAD_MAX (4 + IMSSEC_SRTP_TAG_MAX + IMSSEC_SRTP_MKI_MAX)
/* Default and maximum key lifetimes (RFC 3711 9.2; TS 33.328 7.2.1 NOTE 1). */
#define IMSSEC_SRTP_LIFETIME_MAX ((uint64_t)1 << 48)
#define IMSSEC_SRTCP_LIFETIME_MAX ((uint64_t)1 << 31)
/* Default replay windows (RFC 3711 3.3.2: at least 64; libsrtp uses 128),
 * or the configured maximum when that is smaller. */
#define IMSSEC_SRTP_REPLAY_DEFAULT                                               \
    (IMSSEC_SRTP_REPLAY_WINDOW_MAX < 128 ? IMSSEC_SRTP_REPLAY_WINDOW_MAX : 128)
/* Default margin for IMSSEC_SRTP_EV_KEY_SOFT_LIMIT, in packets. */
#define IMSSEC_SRTP_MARGIN_DEFAULT 65536

/* Session flags: the SDES session parameters (RFC 4568 6.3.2, 6.3.3; TS
 * 33.328 Annex E "mandatory to support").  UNENCRYPTED_SRTP: the NULL
 * cipher for SRTP.  UNENCRYPTED_SRTCP: SRTCP sent with E = 0 (with GCM:
 * authenticated only, RFC 7714 9.2).  UNAUTHENTICATED_SRTP: no SRTP tag (and
 * so no real replay protection, RFC 3711 3.3.2).  SRTCP is always
 * authenticated (RFC 3711 3.4).  The GCM suites cannot drop SRTP
 * encryption or authentication (IMSSEC_E_UNSUPPORTED). */
#define IMSSEC_SRTP_UNENCRYPTED_SRTP 0x01u
#define IMSSEC_SRTP_UNENCRYPTED_SRTCP 0x02u
#define IMSSEC_SRTP_UNAUTHENTICATED_SRTP 0x04u

enum imssec_srtp_dir {
    IMSSEC_SRTP_OUTBOUND = 0, /* protect */
    IMSSEC_SRTP_INBOUND = 1   /* unprotect */
};

/* RFC 4771 integrity transforms carrying the ROC (RCC).  A packet whose
 * sequence number is 0 mod R is "ROC-carrying": its tag is ROC_sender (4
 * bytes) || the HMAC truncated to tag length - 4 bytes (RCCm1, RCCm2) or
 * only ROC_sender (RCCm3, no integrity).  Other packets have no tag (RCCm1,
 * RCCm3) or the default tag (RCCm2).  The receiver takes the index of a
 * ROC-carrying packet from ROC_sender, so a late joiner needs no ROC
 * signalling.  RCCm1's packets without a tag prove nothing: they are
 * decrypted at the estimated index but create no stream, are not in the
 * replay list and do not move ROC / s_l (RFC 3711 3.3.1, 3.3.2), so a
 * forged one desynchronises nothing.  RCCm3 has no integrity: no replay
 * list, and each ROC-carrying packet's ROC_sender replaces the receiver's
 * ROC (RFC 4771 3), so a corrupted one misleads it until the next.
 * AES-CM suites only (the GCM suites: IMSSEC_E_UNSUPPORTED); RCCm1/RCCm2
 * need the 80-bit tag.  TS 33.328 Annex C: "may" for SDES. */
enum imssec_srtp_rcc {
    IMSSEC_SRTP_RCC_NONE = 0,
    IMSSEC_SRTP_RCC_M1 = 1,
    IMSSEC_SRTP_RCC_M2 = 2,
    IMSSEC_SRTP_RCC_M3 = 3
};

/* One master key.  The pointers are read by imssec_srtp_session_setup() /
 * imssec_srtp_key_add() and not kept. */
typedef struct imssec_srtp_key {
    const uint8_t *key;  /* master key, imssec_srtp_suite_key_len() bytes */
    size_t key_len;
    const uint8_t *salt; /* master salt, imssec_srtp_suite_salt_len() bytes */
    size_t salt_len;
    const uint8_t *mki;  /* the MKI value as sent on the wire (big-endian) */
    size_t mki_len;      /* 0 (no MKI) or 1..IMSSEC_SRTP_MKI_MAX */
    /* Packets this key may protect (outbound) or accept (inbound) in this
     * session; 0 = the maximum, IMSSEC_SRTP_LIFETIME_MAX /
     * IMSSEC_SRTCP_LIFETIME_MAX.  Larger values are IMSSEC_E_RANGE. */
    uint64_t srtp_lifetime;
    uint64_t srtcp_lifetime;
} imssec_srtp_key;

/* What the event callback is told. */
enum imssec_srtp_event_kind {
    IMSSEC_SRTP_EV_KEY_SOFT_LIMIT = 0, /* `remaining` packets left on the key: re-key */
    IMSSEC_SRTP_EV_KEY_HARD_LIMIT = 1, /* the key's lifetime is used up: refused */
    IMSSEC_SRTP_EV_STREAM_NEW = 2      /* auto_streams created a stream for `ssrc` */
};
typedef struct imssec_srtp_event {
    int kind;          /* enum imssec_srtp_event_kind */
    int rtcp;          /* 1: the SRTCP count of the key, 0: the SRTP count */
    size_t key_index;  /* which master key */
    uint32_t ssrc;     /* the packet's SSRC */
    uint64_t remaining; /* packets the key may still process (that count) */
} imssec_srtp_event;

/* Everything a session is made from; imssec_srtp_params_init() sets the
 * defaults. */
typedef struct imssec_srtp_params {
    int suite;       /* enum imssec_srtp_suite */
    int dir;         /* enum imssec_srtp_dir */
    unsigned flags;  /* IMSSEC_SRTP_UNENCRYPTED_SRTP | ... */
    /* RFC 3711 key_derivation_rate (the packet count, not RFC 4568's
     * exponent).  Only 0 (the default) is supported: anything else is
     * IMSSEC_E_UNSUPPORTED (TS 33.328 Annex C). */
    uint64_t kdr;
    /* Replay windows in packets: powers of two, 64..
     * IMSSEC_SRTP_REPLAY_WINDOW_MAX (default IMSSEC_SRTP_REPLAY_DEFAULT).
     * Outbound sessions use the SRTP window to refuse a packet index that
     * was already used (a keystream reuse) and ignore the SRTCP one. */
    uint32_t replay_window;
    uint32_t srtcp_replay_window;
    /* 1: a packet for an unknown SSRC creates its stream (inbound: after
     * its tag verified) while the table has room; 0: it is IMSSEC_E_NO_SA. */
    int auto_streams;
    int rcc_mode;     /* enum imssec_srtp_rcc (default NONE) */
    uint32_t rcc_rate; /* RFC 4771 R: 1..65535 (default 1: every packet) */
    /* The initial master keys: 1..IMSSEC_SRTP_KEYS_MAX (key index = array
     * index); more can be added later with imssec_srtp_key_add(). */
    const imssec_srtp_key *keys;
    size_t key_count;
    /* IMSSEC_SRTP_EV_KEY_SOFT_LIMIT is raised when this many packets remain
     * on a key (default IMSSEC_SRTP_MARGIN_DEFAULT, for SRTP and SRTCP
     * counts alike; a margin >= the lifetime raises it at the first packet). */
    uint64_t lifetime_margin;
    /* Optional event callback, called from within protect / unprotect after
     * the packet was processed (or refused); it must not call into the
     * session.  `user` is passed back. */
    void (*event)(void *user, const imssec_srtp_event *ev);
    void *user;
} imssec_srtp_params;

/* A stream's position, to seed a stream (imssec_srtp_stream_add()) or to
 * read it back (imssec_srtp_stream_get()). */
typedef struct imssec_srtp_stream_state {
    uint32_t roc;      /* ROC (RFC 3711 3.3.1); the sender's current one for a late joiner */
    uint16_t seq;      /* inbound: s_l; outbound: the highest sequence number sent */
    uint8_t seq_known; /* 0: s_l is taken from the first packet (RFC 3711 3.3.1) */
    /* SRTCP.  Outbound: the index of the next packet (RFC 3711 3.4 starts
     * at 0).  Inbound: with rtcp_known, the highest index received. */
    uint8_t rtcp_known;
    uint32_t rtcp_index;
    /* Read back only: packets and payload bytes protected / accepted. */
    uint64_t packets, bytes, rtcp_packets, rtcp_bytes;
} imssec_srtp_stream_state;

/* One stream (one SSRC): private fields only.  An array of these is the
 * session's stream table; the caller allocates it and passes it to
 * imssec_srtp_session_setup(), its contents need no initialisation. */
typedef struct imssec_srtp_stream {
    uint32_t ssrc_;
    uint8_t used_;      /* slot in use */
    uint8_t rtp_have_;  /* rtp_top_ valid */
    uint8_t rtcp_have_; /* rtcp_top_ valid */
    uint8_t pad_;
    uint32_t roc_init_; /* ROC of the first packet while !rtp_have_ */
    uint32_t rtcp_next_; /* outbound: next SRTCP index */
    uint64_t rtp_top_;   /* highest packet index (ROC || SEQ) */
    uint64_t rtcp_top_;  /* inbound: highest SRTCP index */
    uint64_t packets_, bytes_, rtcp_packets_, rtcp_bytes_;
    /* RFC 6479-style replay rings: bit (i mod 64) of word (i / 64) mod n */
    uint64_t rtp_ring_[2 * IMSSEC_SRTP_REPLAY_WINDOW_MAX / 64];
    uint64_t rtcp_ring_[2 * IMSSEC_SRTP_REPLAY_WINDOW_MAX / 64];
} imssec_srtp_stream;

/* Failure counters (every verdict increments exactly one) and totals. */
typedef struct imssec_srtp_stats {
    uint64_t malformed; /* IMSSEC_E_MALFORMED */
    uint64_t no_key;    /* IMSSEC_E_NO_SA: no key with that MKI */
    uint64_t no_stream; /* IMSSEC_E_NO_SA: unknown SSRC (or table full) */
    uint64_t replay;    /* IMSSEC_E_REPLAY */
    uint64_t auth;      /* IMSSEC_E_ICV */
    uint64_t expired;   /* IMSSEC_E_SEQ_EXHAUSTED */
} imssec_srtp_stats;

/* Private: one master key's derived state (opaque AES / HMAC / GCM
 * contexts of core/crypto.c, sizes checked at compile time there). */
#define IMSSEC_SRTP_KEY_STATE_WORDS_ 224
typedef struct imssec_srtp_keyslot {
    uint8_t used_;
    uint8_t events_; /* soft/hard limit events raised, per count */
    uint8_t mki_[IMSSEC_SRTP_MKI_MAX];
    uint64_t srtp_count_, srtcp_count_, srtp_limit_, srtcp_limit_;
    uint64_t state_[IMSSEC_SRTP_KEY_STATE_WORDS_];
} imssec_srtp_keyslot;

/* The session: private fields only. */
typedef struct imssec_srtp_session {
    uint32_t setup_; /* magic: set by setup, 0 after wipe */
    int suite_, dir_, rcc_mode_, auto_streams_;
    unsigned flags_;
    uint32_t rcc_rate_, window_, srtcp_window_;
    size_t mki_len_, send_key_, key_count_;
    uint64_t margin_;
    void (*event_)(void *user, const imssec_srtp_event *ev);
    void *user_;
    imssec_srtp_stream *streams_;
    size_t stream_cap_, stream_count_, last_;
    imssec_srtp_stats stats_;
    imssec_srtp_keyslot keys_[IMSSEC_SRTP_KEYS_MAX];
} imssec_srtp_session;

/* Defaults: AES_CM_128_HMAC_SHA1_80, outbound, no flags, kdr 0, windows
 * IMSSEC_SRTP_REPLAY_DEFAULT, no auto streams, no RCC (rate 1), no keys,
 * margin IMSSEC_SRTP_MARGIN_DEFAULT, no callback. */
IMSSEC_API void imssec_srtp_params_init(imssec_srtp_params *p);

/* Create a session from p over the stream table streams[0..stream_cap)
 * (stream_cap >= 1; the array is cleared here and must outlive the session
 * or be handed back by imssec_srtp_session_wipe()).  Derives every key's
 * session keys (RFC 3711 4.3, labels 0..5) and precomputes the AES
 * schedules and HMAC states; the master keys are not kept.  The first key
 * (index 0) is the outbound send key.  Returns IMSSEC_OK; IMSSEC_E_PARAM
 * (err->param names the field: key or salt length for the suite, MKI
 * lengths differ or MKIs repeat, several keys without MKI, a window, an
 * RCC mode with a 32-bit tag, a rate of 0, dir, flags); IMSSEC_E_RANGE (a
 * lifetime above the maximum); IMSSEC_E_UNSUPPORTED (kdr != 0; a GCM suite
 * with UNENCRYPTED_SRTP / UNAUTHENTICATED_SRTP or with RCC).  On error *s
 * is zeroed. */
IMSSEC_API int imssec_srtp_session_setup(imssec_srtp_session *s, const imssec_srtp_params *p,
                                         imssec_srtp_stream *streams, size_t stream_cap,
                                         imssec_errinfo *err);

/* Zeroize the session and its stream table: every derived key, HMAC state
 * and window (and release mbedTLS's GCM contexts).  Safe on a zeroed or
 * already wiped session. */
IMSSEC_API void imssec_srtp_session_wipe(imssec_srtp_session *s);

/* Add a master key (re-keying, RFC 3711 8.1): it must have an MKI of the
 * session's MKI length, different from every other key's (a session set up
 * with one key without MKI cannot take a second one).  *key_index
 * (optional) receives its index.  IMSSEC_OK; IMSSEC_E_SPACE (all
 * IMSSEC_SRTP_KEYS_MAX slots used); IMSSEC_E_EXISTS (the MKI is taken);
 * IMSSEC_E_PARAM; IMSSEC_E_RANGE; IMSSEC_E_CRYPTO as setup. */
IMSSEC_API int imssec_srtp_key_add(imssec_srtp_session *s, const imssec_srtp_key *k,
                                   size_t *key_index, imssec_errinfo *err);

/* Wipe master key key_index (its derived keys and counters); packets with
 * its MKI become IMSSEC_E_NO_SA.  The current send key cannot be removed
 * (IMSSEC_E_STATE: select another one first).  IMSSEC_OK, IMSSEC_E_NOT_FOUND,
 * IMSSEC_E_STATE or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_srtp_key_remove(imssec_srtp_session *s, size_t key_index);

/* Outbound: protect the next packets with master key key_index (its MKI is
 * what they carry).  IMSSEC_OK, IMSSEC_E_NOT_FOUND or IMSSEC_E_PARAM (an
 * inbound session). */
IMSSEC_API int imssec_srtp_key_select(imssec_srtp_session *s, size_t key_index);

/* A key's use: packets processed and left, per count. */
typedef struct imssec_srtp_key_info {
    uint64_t srtp_packets, srtcp_packets;   /* processed with this key */
    uint64_t srtp_remaining, srtcp_remaining; /* until the lifetime is used up */
    int soft_limit; /* 1 once either count is within the margin */
    int selected;   /* 1 for the outbound send key */
    size_t mki_len;
    uint8_t mki[IMSSEC_SRTP_MKI_MAX];
} imssec_srtp_key_info;
/* IMSSEC_OK, IMSSEC_E_NOT_FOUND or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_srtp_key_get(const imssec_srtp_session *s, size_t key_index,
                                   imssec_srtp_key_info *info);

/* Add the stream of `ssrc`, fresh (st NULL: ROC 0, s_l from the first
 * packet, SRTCP index 0) or from a stream state (a late joiner told the
 * sender's ROC; a restored session: with seq_known every index up to
 * roc || seq counts as received inbound and as used outbound, and likewise
 * for rtcp_known).  IMSSEC_OK; IMSSEC_E_EXISTS; IMSSEC_E_SPACE (table
 * full); IMSSEC_E_PARAM (SRTCP index >= 2^31). */
IMSSEC_API int imssec_srtp_stream_add(imssec_srtp_session *s, uint32_t ssrc,
                                      const imssec_srtp_stream_state *st, imssec_errinfo *err);

/* Remove the stream of `ssrc` (its slot is zeroized).  IMSSEC_OK,
 * IMSSEC_E_NOT_FOUND or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_srtp_stream_remove(imssec_srtp_session *s, uint32_t ssrc);

/* Read the stream of `ssrc`: ROC and s_l (seq_known 0 until the first
 * packet), SRTCP index, counters.  IMSSEC_OK, IMSSEC_E_NOT_FOUND or
 * IMSSEC_E_PARAM. */
IMSSEC_API int imssec_srtp_stream_get(const imssec_srtp_session *s, uint32_t ssrc,
                                      imssec_srtp_stream_state *st);

/* Streams in the table; the failure counters. */
IMSSEC_API size_t imssec_srtp_stream_count(const imssec_srtp_session *s);
IMSSEC_API const imssec_srtp_stats *imssec_srtp_session_stats(const imssec_srtp_session *s);

/* Bytes protect adds with the current send key (tag + MKI; SRTCP: + 4). */
IMSSEC_API size_t imssec_srtp_overhead(const imssec_srtp_session *s, int rtcp);

/* What unprotect found out about an accepted packet. */
typedef struct imssec_srtp_rx {
    uint32_t ssrc;
    uint64_t index;     /* SRTP: ROC || SEQ (48 bits); SRTCP: the SRTCP index */
    size_t key_index;   /* the master key that verified it */
    int new_stream;     /* 1: auto_streams created the stream for it */
    int encrypted;      /* SRTCP: the E flag; SRTP: 0 with UNENCRYPTED_SRTP */
    size_t payload_off; /* SRTP: where the payload starts (after CSRCs / extension) */
} imssec_srtp_rx;

/* Outbound (RFC 3711 3.3): protect the RTP packet pkt[0..pkt_len) in place
 * into an SRTP packet of *out_len bytes (pkt_len +
 * imssec_srtp_overhead(s, 0)).  The packet index comes from the sequence
 * number and the stream's ROC and highest index, estimated exactly as on
 * the receiving side (RFC 3711 3.3.1, Appendix A), so a sequence number
 * wrap increments the ROC; an index already used or left of the window is
 * refused (a keystream would repeat).  Returns IMSSEC_OK (the stream and
 * the key counter advanced); IMSSEC_E_SPACE (pkt_cap too small: *out_len =
 * size needed, nothing written); IMSSEC_E_MALFORMED (not an RTP v2 packet,
 * CSRCs or extension beyond pkt_len); IMSSEC_E_NO_SA (unknown SSRC without
 * auto_streams, or auto_streams with the table full); IMSSEC_E_REPLAY
 * (index already used, left of the window, or before the stream's first
 * packet); IMSSEC_E_SEQ_EXHAUSTED (the key's lifetime is used up, or the
 * 2^48 index space); IMSSEC_E_CRYPTO (mbedTLS GCM failed); IMSSEC_E_PARAM
 * (an inbound session).  On error the buffer and the session are
 * unchanged. */
IMSSEC_API int imssec_srtp_protect(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                   size_t pkt_cap, size_t *out_len, imssec_errinfo *err);

/* Inbound (RFC 3711 3.3): unprotect the SRTP packet pkt[0..pkt_len) in
 * place; *out_len receives the RTP packet's length (tag and MKI removed).
 * rx (optional) is filled on IMSSEC_OK.  Verdicts (the session, its
 * streams and pkt unchanged; one imssec_srtp_stats counter incremented):
 * IMSSEC_E_MALFORMED (shorter than header + MKI + tag, not version 2,
 * CSRCs or extension beyond the packet); IMSSEC_E_NO_SA (no key has the
 * MKI; unknown SSRC without auto_streams; with auto_streams, an authentic
 * packet for a new SSRC while the table is full, or an RCCm1 packet
 * without a tag for a new SSRC); IMSSEC_E_REPLAY (index
 * seen or left of the window); IMSSEC_E_ICV (tag mismatch);
 * IMSSEC_E_SEQ_EXHAUSTED (the key's lifetime is used up).  Also
 * IMSSEC_E_PARAM (an outbound session; nothing changed). */
IMSSEC_API int imssec_srtp_unprotect(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                     size_t *out_len, imssec_srtp_rx *rx, imssec_errinfo *err);

/* Outbound SRTCP (RFC 3711 3.4): protect the compound RTCP packet
 * pkt[0..pkt_len) in place (E || index, MKI, tag appended; the SSRC is the
 * first packet's sender SSRC).  The stream's SRTCP index is used and
 * incremented.  Returns as imssec_srtp_protect(); IMSSEC_E_SEQ_EXHAUSTED
 * also when the 31-bit SRTCP index is used up. */
IMSSEC_API int imssec_srtp_protect_rtcp(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                        size_t pkt_cap, size_t *out_len, imssec_errinfo *err);

/* Inbound SRTCP: unprotect pkt[0..pkt_len) in place; *out_len is the RTCP
 * packet's length.  The E flag must match the session (E = 0 exactly when
 * UNENCRYPTED_SRTCP; as libsrtp, else IMSSEC_E_MALFORMED).  Verdicts and
 * state as imssec_srtp_unprotect(), with the separate SRTCP replay window. */
IMSSEC_API int imssec_srtp_unprotect_rtcp(imssec_srtp_session *s, uint8_t *pkt, size_t pkt_len,
                                          size_t *out_len, imssec_srtp_rx *rx,
                                          imssec_errinfo *err);

/* The SRTP key derivation function (RFC 3711 4.3.1 with
 * key_derivation_rate 0, PRF AES-CM 4.3.3; RFC 6188 for 256-bit keys):
 * out[0..out_len) = PRF(master_key, (label || 0^48) XOR master_salt).  A
 * 12-byte (GCM) salt fills the first 12 of the 14 salt octets, the rest
 * zero (as libsrtp; RFC 7714 12).  key_len 16, 24 or 32; salt_len 14 or
 * 12; out_len <= 2^20 (2^16 AES blocks).  Labels: 0 SRTP encryption, 1
 * SRTP authentication, 2 SRTP salt, 3..5 the same for SRTCP.  For tests and
 * key logs.  IMSSEC_OK or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_srtp_kdf(const uint8_t *master_key, size_t key_len,
                               const uint8_t *master_salt, size_t salt_len, uint8_t label,
                               uint8_t *out, size_t out_len);

/* ---------------------------------------------------------------------------
 * SDES: the a=crypto attribute (RFC 4568) as TS 33.328 Annex E profiles it.
 *
 *   a=crypto:<tag> 1*WSP <crypto-suite> 1*WSP <key-params> *(1*WSP <session-param>)
 *   tag        1*9DIGIT (0 is a tag; leading zeros are read as a number)
 *   key-params key-param *(";" key-param); key-param "inline:" key-salt
 *              ["|" lifetime] ["|" mki-value ":" mki-length]
 *   lifetime   ["2^"] 1*DIGIT; mki-length 1..128 bytes
 *   session    KDR=, UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP,
 *              UNAUTHENTICATED_SRTP, FEC_ORDER=, FEC_KEY=, WSH=, and
 *              extensions; one not understood and not marked optional with
 *              a leading "-" makes the attribute unusable (RFC 4568 6.3.7).
 * The parser is strict and zero-copy for what it does not interpret; it
 * returns IMSSEC_E_SYNTAX for a line outside the grammar (err: offset and
 * why) and IMSSEC_E_UNSUPPORTED for a well-formed one this library cannot
 * run (an unknown suite, a key method other than inline, any KDR -- only
 * the rate 0 of "no KDR" is supported, Annex C --, FEC_KEY, an unknown
 * mandatory session parameter, an MKI longer than IMSSEC_SRTP_MKI_MAX):
 * an offer's answerer skips those lines.  More key-params than
 * IMSSEC_SRTP_KEYS_MAX is IMSSEC_E_RANGE.
 * ------------------------------------------------------------------------ */

typedef struct imssec_sdes_key {
    uint8_t key[IMSSEC_SRTP_MASTER_KEY_MAX];   /* the suite's key length */
    uint8_t salt[IMSSEC_SRTP_MASTER_SALT_MAX]; /* the suite's salt length */
    uint64_t lifetime;                         /* packets; 0 = not given */
    uint8_t mki[IMSSEC_SRTP_MKI_MAX];          /* big-endian, mki_len bytes */
    size_t mki_len;                            /* 0 = no MKI */
} imssec_sdes_key;

typedef struct imssec_sdes_crypto {
    uint32_t tag;
    int suite;                 /* enum imssec_srtp_suite */
    imssec_sdes_key keys[IMSSEC_SRTP_KEYS_MAX];
    size_t n_keys;
    unsigned flags;            /* IMSSEC_SRTP_UNENCRYPTED_SRTP | ... */
    uint32_t wsh;              /* WSH= window size hint, 0 = absent */
    int fec_order;             /* 0 absent, 1 FEC_SRTP, 2 SRTP_FEC */
    size_t n_ignored;          /* optional ("-") session parameters skipped */
} imssec_sdes_crypto;

/* Parse one attribute value (with or without its "a=crypto:" or "crypto:"
 * prefix, no line end).  *out is written only on IMSSEC_OK (the keys in it are
 * secret: imssec_sdes_wipe() it).  Returns IMSSEC_OK, IMSSEC_E_SYNTAX,
 * IMSSEC_E_UNSUPPORTED, IMSSEC_E_RANGE (see above; err says which field). */
IMSSEC_API int imssec_sdes_parse(imssec_str value, imssec_sdes_crypto *out, imssec_errinfo *err);

/* Write the attribute value (without "a=crypto:"): tag, suite, each key
 * (base64 of key || salt, with padding), lifetime as "2^n" when a power of
 * two else decimal, MKI as value:length, then the session parameters.
 * Output convention; IMSSEC_E_PARAM for an inconsistent crypto (unknown
 * suite, no key, several keys without MKI or MKIs of different lengths,
 * Annex E). */
IMSSEC_API int imssec_sdes_build(const imssec_sdes_crypto *c, char *out, size_t out_cap,
                                 size_t *out_len);

/* What an answerer (or an IMS-ALG) accepts. */
typedef struct imssec_sdes_policy {
    const int *suites;   /* enum imssec_srtp_suite, by preference; NULL = AES_CM_128_HMAC_SHA1_80 only */
    size_t n_suites;
    unsigned flags_ok;   /* session flags it agrees to (IMSSEC_SRTP_UNENCRYPTED_SRTP ...) */
    /* TS 33.328 6.2.1.2: "SDES ... keys ... shall only be sent over a SIP
     * hop that is confidentiality protected".  1 when the SIP message that
     * will carry the key goes on such a hop (an SA with encryption,
     * imssec_sa_confidential(), or TLS). */
    int hop_confidential;
    int allow_insecure_hop; /* test networks only: send keys anyway */
} imssec_sdes_policy;

/* The answerer (RFC 4568 7.1.2, TS 33.328 Annex E): the first offered
 * attribute (in offer order, the offerer's preference) whose suite the
 * policy runs and whose session parameters it supports; the answer has
 * the same tag, suite and session flags and one fresh key and salt from
 * io->random (no lifetime with e2ae, no MKI: one key).
 *   \param offer      the offer's a=crypto values for one media section
 *   \param chosen     optional: the accepted offered attribute (its keys are
 *                     the offerer's sending keys: inbound at the answerer)
 *   \param answer     the answer's attribute (build it with
 *                     imssec_sdes_build(); its key is the answerer's
 *                     sending key)
 *   \param index      optional: which offered attribute
 *   \return IMSSEC_OK; IMSSEC_E_SDES_REJECT (none acceptable: reject the
 *   media stream); IMSSEC_E_INSECURE (the hop is not confidential);
 *   IMSSEC_E_CALLBACK (io->random failed); IMSSEC_E_PARAM. */
IMSSEC_API int imssec_sdes_answer(const imssec_str *offer, size_t n_offer,
                                  const imssec_sdes_policy *policy, const imssec_io *io,
                                  imssec_sdes_crypto *chosen, imssec_sdes_crypto *answer,
                                  size_t *index, imssec_errinfo *err);

/* An offer: one attribute per policy suite in its order, tags 1.., each
 * with a fresh key (one key: no MKI; no lifetime, Annex E).  The policy
 * must hold AES_CM_128_HMAC_SHA1_80 (Annex E: mandatory).  Build each with
 * imssec_sdes_build(); keep them to match the answer (their keys are the
 * offerer's sending keys).  out receives *out_len attributes.
 * IMSSEC_OK; IMSSEC_E_INSECURE (hop); IMSSEC_E_SPACE; IMSSEC_E_PARAM;
 * IMSSEC_E_CALLBACK. */
IMSSEC_API int imssec_sdes_offer(const imssec_sdes_policy *policy, const imssec_io *io,
                                 imssec_sdes_crypto *out, size_t out_cap, size_t *out_len,
                                 imssec_errinfo *err);

/* The offerer's side (RFC 4568 7.1.3): the answer's a=crypto values for
 * the media section must be exactly one attribute whose tag is one of the
 * offer's, with the same suite and the session flags the offerer offered
 * (an answerer may not add any).  *index receives which offered one.
 * IMSSEC_OK; IMSSEC_E_SDES_REJECT (no attribute, several, an unknown tag,
 * another suite or flags); the parse errors. */
IMSSEC_API int imssec_sdes_match(const imssec_sdes_crypto *offer, size_t n_offer,
                                 const imssec_str *answer, size_t n_answer,
                                 imssec_sdes_crypto *answer_out, size_t *index,
                                 imssec_errinfo *err);

/* A fresh key (and salt) for suite, from io->random, as an offer or an
 * answer sends it.  IMSSEC_OK, IMSSEC_E_PARAM, IMSSEC_E_CALLBACK. */
IMSSEC_API int imssec_sdes_new_key(int suite, const imssec_io *io, imssec_sdes_key *key);

/* Fill SRTP session parameters from an attribute: suite, flags and the
 * keys (keys[] receives one imssec_srtp_key per SDES key, pointing into
 * c, which must outlive the session set-up).  dir: enum imssec_srtp_dir
 * (the keys of the attribute one received are the peer's sending keys:
 * INBOUND; those of the attribute one sent: OUTBOUND).  IMSSEC_OK or
 * IMSSEC_E_PARAM. */
IMSSEC_API int imssec_sdes_srtp_params(const imssec_sdes_crypto *c, int dir,
                                       imssec_srtp_params *p,
                                       imssec_srtp_key keys[IMSSEC_SRTP_KEYS_MAX]);

/* Wipe the keys of an attribute. */
IMSSEC_API void imssec_sdes_wipe(imssec_sdes_crypto *c);

/* ---------------------------------------------------------------------------
 * SDP: the media plane security procedures of TS 33.328 7.2 - 7.5 as pure
 * functions over SDP text (media/sdp_text.c, media/sdp.c).  A P-CSCF
 * acting as IMS-ALG calls imssec_sdp_alg_*: on the originating side (7.2.1)
 * it takes the UE's SDES keys out of the offer and puts its own into the
 * answer, on the
 * terminating side (7.3.1) it adds its keys to the core's plain offer and
 * takes the UE's out of the answer; the IMS Access GW's two SRTP sessions
 * per media stream come from imssec_sdp_keys_srtp() (what travels over Iq,
 * 6.2.1.3.1, is the caller's business).  A UE calls imssec_sdp_ue_*: secure
 * its offer e2ae (a=3ge2ae:requested, TS 24.229 7.5) or e2e (7.2.2), check
 * the answer, answer an offer with SDES (7.3.1, 7.3.2).
 *
 * Text.  A media section is an m= line up to the next m= line.  The input
 * must pass imssec_sdp_check(): every line "<type>=<value>" with a
 * lowercase letter type (RFC 8866 5), ended by CRLF or LF -- the last line
 * too --, no CR or NUL inside a line, "v=0" first, every m= line
 *   m=<media> SP <port>["/"<number>] SP <proto> 1*(SP <fmt>)
 * of RFC 8866 tokens and single SPs, every a= line a token name with an
 * optional ":" value.  IMSSEC_E_SYNTAX otherwise (err: offset, why).  The
 * output is the input with only the changes named below: the proto token of
 * the m= lines concerned (written RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF;
 * recognised in any case), a=crypto and a=3ge2ae lines removed, and new
 * lines appended AT THE END of their media section (a= lines come last in a
 * section, RFC 8866 5, so the order stays valid), each ended like that
 * section's m= line.  Every other byte, line end and session-level line is
 * copied unchanged.  Attribute names (crypto, 3ge2ae) and the indicator
 * values (requested, applied) compare case-insensitively (RFC 5234 2.3);
 * other a=3ge2ae values are ignored (TS 24.229 7.5.2).  The functions
 * that offer keys skip sections whose port is 0 (disabled).  MSRP
 * (TCP/TLS/MSRP, 7.1.2) and KMS (7.2.3) sections are not handled: they
 * pass through untouched.
 *
 * Memory and atomicity.  Zero-copy, bounded, no line-length limit.  `out`
 * must not overlap the input.  Two outputs follow the output convention
 * together: text (out, out_cap, out_len) and, where sections are created,
 * imssec_sdp_keys (keys, keys_cap, keys_len); on IMSSEC_E_SPACE both
 * lengths say what is needed and nothing is written.  Every check and the
 * size are settled before anything is written, so on any error the text
 * output, the lengths and the keys are unchanged -- except IMSSEC_E_CALLBACK
 * (io->random failed while creating keys): keys[0..keys_cap) may then be
 * zeroized; the text output is still unchanged.
 *
 * Keys.  Every function that puts a key into SDP refuses with
 * IMSSEC_E_INSECURE unless policy->hop_confidential or
 * policy->allow_insecure_hop (TS 33.328 6.2.1.2, 6.2.2), before it creates
 * anything.  The "hop" is the one between the UE and the P-CSCF on which
 * the SDP with the key travels.  imssec_sdp_keys holds key material:
 * imssec_sdp_keys_wipe() it.
 *
 * Session updates (7.4).  A re-offer passes the sections agreed by the
 * previous exchange as opts.prev (matched by m_index: RFC 3264 8 keeps the
 * m= lines in place).  The UE re-offers the agreed attribute (same tag,
 * same key) unless IMSSEC_SDP_REKEY asks for fresh keys on e2e sections;
 * e2ae sections are never re-keyed by the UE or the IMS-ALG ("Media
 * security context update is not used with e2ae security").  An answerer
 * that receives the attribute it already agreed answers with the one it
 * sent before.  `unchanged` then tells the caller to keep its SRTP
 * sessions ("there shall be no re-initialization of the media plane
 * protection").  A peer that does send a new key is taken as a new context
 * (unchanged 0): the caller re-creates that direction's session.
 * ------------------------------------------------------------------------ */


/* How a media section is secured. */
enum imssec_sdp_mode {
    IMSSEC_SDP_MODE_E2AE = 1, /* UE <-> IMS Access GW (7.2.1, 7.3.1) */
    IMSSEC_SDP_MODE_E2E = 2   /* UE <-> peer, SDES end to end (7.2.2, 7.3.2) */
};

/* Where its offer / answer stands. */
enum imssec_sdp_status {
    IMSSEC_SDP_OFFERED = 1,  /* offered, the answer not yet seen */
    IMSSEC_SDP_AGREED = 2,   /* both attributes known: imssec_sdp_keys_srtp() */
    IMSSEC_SDP_REJECTED = 3  /* the answer rejected the stream (port 0): no SRTP */
};

/* The keys of one secured media section, from the point of view of the
 * party that holds it (the UE, or the IMS-ALG for its IMS Access GW). */
typedef struct imssec_sdp_keys {
    size_t m_index; /* the media section: 0 = the first m= line */
    int mode;       /* enum imssec_sdp_mode */
    int status;     /* enum imssec_sdp_status */
    int avpf;       /* 1: RTP/SAVPF <-> RTP/AVPF; 0: RTP/SAVP <-> RTP/AVP */
    int unchanged;  /* 7.4: the same attributes as in opts.prev: keep the sessions */
    /* Our sending key(s): OUTBOUND.  An offer not yet answered holds every
     * attribute it offered; once AGREED, local[0] is the one in use and
     * n_local is 1.  (IMS-ALG originating: K12; terminating: K21.) */
    imssec_sdes_crypto local[IMSSEC_SDP_CRYPTO_MAX];
    size_t n_local;
    /* The peer's sending key: INBOUND.  Valid once AGREED (and at the
     * IMS-ALG originating side from the offer on: K11; terminating: K22).
     * With e2ae its lifetimes are 0: the IMS Access GW uses the RFC 3711
     * defaults (7.2.1 step 7, 7.3.1 step 6). */
    imssec_sdes_crypto remote;
} imssec_sdp_keys;

/* opts.flags */
#define IMSSEC_SDP_REG_E2AE 0x01u  /* 7.1.1: UE and network both indicated e2ae support
                                    * at registration (imssec_sa_e2ae()) */
#define IMSSEC_SDP_WANT_E2E 0x02u  /* UE: the user or the UE's policy asks for e2e
                                    * SDES for this session (7.2.1, 7.2.2) */
#define IMSSEC_SDP_EMERGENCY 0x04u /* UE: an emergency session (7.5) */
#define IMSSEC_SDP_REKEY 0x08u     /* UE re-offer: fresh keys for e2e sections (7.4) */

/* What every procedure is given. */
typedef struct imssec_sdp_opts {
    const imssec_sdes_policy *policy; /* suites, session flags, the hop (6.2.1.2) */
    const imssec_io *io;              /* io->random: for the functions that create keys */
    unsigned flags;                   /* IMSSEC_SDP_REG_E2AE | ... */
    const imssec_sdp_keys *prev;      /* 7.4: the sections agreed so far, or NULL */
    size_t n_prev;
} imssec_sdp_opts;

/* Check an SDP body as described above; *n_media (optional) receives the
 * number of m= sections.  IMSSEC_OK, IMSSEC_E_SYNTAX (err: offset, what,
 * clause), IMSSEC_E_PARAM. */
IMSSEC_API int imssec_sdp_check(imssec_str sdp, size_t *n_media, imssec_errinfo *err);

/* P-CSCF (IMS-ALG), originating, the UE's offer towards the S-CSCF (TS
 * 33.328 7.2.1 steps 2, 3 and the key of step 7).  Each section whose
 * proto is RTP/SAVP or RTP/SAVPF and that carries a=3ge2ae:requested:
 * one a=crypto attribute is selected (the first acceptable in offer order:
 * imssec_sdes_answer()'s rule), every a=crypto and a=3ge2ae line is
 * removed and the proto becomes RTP/AVP / RTP/AVPF.  keys[] receives one
 * entry per such section, in m= order: remote = the selected attribute
 * (K11, the UE's sending key: inbound at the IMS Access GW; lifetimes
 * cleared), local[0] = a fresh answer attribute (K12: same tag, suite and
 * session flags, one key from io->random, no lifetime, Annex E) for
 * imssec_sdp_alg_orig_answer(); status OFFERED.  Other sections are
 * copied byte for byte (7.2.2: e2e or plain), except that a=3ge2ae:applied
 * lines -- "e2ae-security offered by network" inserted by another party --
 * are removed (7.3.1).  With opts.prev (7.4): a section whose agreed
 * remote attribute (tag, suite, flags, keys) is offered again keeps its
 * entry (unchanged 1, no new key).
 *   \param offer  the SDP offer received from the UE
 *   \param opts   policy (required), io (required), flags: REG_E2AE
 *                 (required for any section requesting e2ae), prev
 *   \return IMSSEC_OK; IMSSEC_E_SYNTAX; IMSSEC_E_STATE (e2ae requested
 *   without REG_E2AE: "an error case", 7.2.1 NOTE 2a; err->sip_status
 *   488); IMSSEC_E_SDES_REJECT (no acceptable attribute in a section:
 *   err->item_index is its m_index, sip_status 488); IMSSEC_E_INSECURE;
 *   IMSSEC_E_SPACE (either output); IMSSEC_E_CALLBACK; IMSSEC_E_PARAM
 *   (also a malformed opts.prev entry); IMSSEC_E_RANGE (input too long). */
IMSSEC_API int imssec_sdp_alg_orig_offer(imssec_str offer, const imssec_sdp_opts *opts,
                                         char *out, size_t out_cap, size_t *out_len,
                                         imssec_sdp_keys *keys, size_t keys_cap,
                                         size_t *keys_len, imssec_errinfo *err);

/* P-CSCF (IMS-ALG), originating, the answer from the S-CSCF towards the UE
 * (7.2.1 steps 7, 8).  For each keys[i] (from imssec_sdp_alg_orig_offer,
 * status OFFERED, in m_index order): the section's proto must be RTP/AVP
 * or RTP/AVPF as offered (RFC 3264 6); it becomes RTP/SAVP / RTP/SAVPF,
 * any a=crypto or a=3ge2ae line in it is removed and the a=crypto line of
 * local[0] (K12) is appended; status becomes AGREED (the IMS Access GW's
 * sessions: imssec_sdp_keys_srtp()).  A section answered with port 0 is
 * REJECTED: its proto is restored, no key is added.  Other sections as in
 * the offer step (a=3ge2ae:applied removed).
 *   \param answer  the SDP answer from the core (plain RTP for those sections)
 *   \param opts    policy (required: the hop to the UE); io, flags unused
 *   \param keys    in: the offer step's entries, in increasing m_index
 *                  order; out: their status (only on IMSSEC_OK)
 *   \return IMSSEC_OK; IMSSEC_E_SYNTAX; IMSSEC_E_NOT_FOUND (the answer lacks
 *   a section of keys[]); IMSSEC_E_SDES_REJECT (a section's proto is not
 *   the one offered); IMSSEC_E_INSECURE; IMSSEC_E_SPACE; IMSSEC_E_STATE (an
 *   entry not OFFERED / not e2ae); IMSSEC_E_PARAM. */
IMSSEC_API int imssec_sdp_alg_orig_answer(imssec_str answer, const imssec_sdp_opts *opts,
                                          imssec_sdp_keys *keys, size_t n_keys,
                                          char *out, size_t out_cap, size_t *out_len,
                                          imssec_errinfo *err);

/* P-CSCF (IMS-ALG), terminating, the offer from the S-CSCF towards the UE
 * (7.3.1 steps 3, 4).  With IMSSEC_SDP_REG_E2AE, each section whose proto
 * is RTP/AVP or RTP/AVPF and whose port is not 0: the proto becomes
 * RTP/SAVP / RTP/SAVPF, any a=crypto / a=3ge2ae line is removed, and the
 * attributes of imssec_sdes_offer() (K21: one per policy suite, tags 1..,
 * no lifetime) are appended, then a=3ge2ae:applied ("e2ae security
 * offered by the network").  keys[] receives them (local[], status
 * OFFERED).  Sections offered with RTP/SAVP(F) (e2e, 7.3.2; NOTE 2) and
 * all sections without REG_E2AE pass through, a=3ge2ae:applied removed
 * (7.3.1: "shall remove any indication ... inserted ... by another
 * party").  With opts.prev (7.4): an agreed e2ae section is offered again
 * with the attribute it agreed (local[0], unchanged 1).
 *   \param offer  the SDP offer received from the S-CSCF
 *   \param opts   policy (required), io (required), flags: REG_E2AE, prev
 *   \return as imssec_sdp_alg_orig_offer, but no IMSSEC_E_STATE /
 *   IMSSEC_E_SDES_REJECT; IMSSEC_E_RANGE also when the policy has more
 *   suites than IMSSEC_SDP_CRYPTO_MAX; IMSSEC_E_PARAM also for a policy
 *   without AES_CM_128_HMAC_SHA1_80 (Annex E). */
IMSSEC_API int imssec_sdp_alg_term_offer(imssec_str offer, const imssec_sdp_opts *opts,
                                         char *out, size_t out_cap, size_t *out_len,
                                         imssec_sdp_keys *keys, size_t keys_cap,
                                         size_t *keys_len, imssec_errinfo *err);

/* P-CSCF (IMS-ALG), terminating, the UE's answer towards the S-CSCF (7.3.1
 * steps 5 - 7).  For each keys[i] (from imssec_sdp_alg_term_offer, status
 * OFFERED): the section must keep RTP/SAVP(F) and hold exactly one
 * a=crypto attribute answering one offered tag (imssec_sdes_match(): same
 * suite and session flags); remote = that attribute (K22, lifetimes
 * cleared), local[0] = the offered one it names (K21), status AGREED; the
 * proto becomes RTP/AVP(F) and every a=crypto / a=3ge2ae line of the
 * section is removed.  Port 0: REJECTED, proto restored.  Other sections:
 * a=3ge2ae:applied removed.  No key goes into this SDP: no hop check.
 *   \param answer  the SDP answer received from the UE
 *   \param keys    in: the offer step's entries, in increasing m_index
 *                  order; out: AGREED / REJECTED (only on IMSSEC_OK)
 *   \return IMSSEC_OK; IMSSEC_E_SYNTAX; IMSSEC_E_NOT_FOUND;
 *   IMSSEC_E_SDES_REJECT (no, several or a non-matching attribute, another
 *   proto; err->item_index); the parse errors of imssec_sdes_parse() (err:
 *   item_index, offset in the SDP); IMSSEC_E_SPACE; IMSSEC_E_STATE;
 *   IMSSEC_E_PARAM (also keys[] out of order or malformed). */
IMSSEC_API int imssec_sdp_alg_term_answer(imssec_str answer, imssec_sdp_keys *keys,
                                          size_t n_keys, char *out, size_t out_cap,
                                          size_t *out_len, imssec_errinfo *err);

/* UE, its own offer (7.2.1 step 1, 7.2.2 step 1, 7.4, 7.5).  The mode:
 *   - IMSSEC_SDP_EMERGENCY: e2ae when REG_E2AE, else none -- never e2e
 *     (7.5: e2ae "if and only if" registration showed both support it;
 *     "E2e security shall not be applied to emergency calls");
 *   - else IMSSEC_SDP_WANT_E2E: e2e (7.2.1: "unless the IMS UE initiates a
 *     procedure for e2e security"; 7.2.2);
 *   - else REG_E2AE: e2ae (7.1.1: "shall secure all RTP media streams");
 *   - else none: the offer is copied unchanged.
 * Each section whose proto is RTP/AVP or RTP/AVPF and whose port is not 0
 * becomes RTP/SAVP / RTP/SAVPF and gets the attributes of
 * imssec_sdes_offer() (one per policy suite, no lifetime), then, for
 * e2ae, a=3ge2ae:requested (any a=crypto / a=3ge2ae line already in it is
 * removed).  Sections already RTP/SAVP(F) (secured by the caller) and
 * other protos are copied unchanged.  keys[]: one entry per secured
 * section (local[], status OFFERED).  With opts.prev (7.4): a section
 * agreed in the same mode re-offers its agreed attribute (local[0] only,
 * unchanged 1) -- for e2e unless IMSSEC_SDP_REKEY.
 *   \param offer  the UE's own SDP offer, as its media stack wrote it
 *   \param opts   policy (required), io (required), flags: REG_E2AE,
 *                 WANT_E2E, EMERGENCY, REKEY; prev
 *   \return IMSSEC_OK; IMSSEC_E_SYNTAX; IMSSEC_E_INSECURE; IMSSEC_E_SPACE;
 *   IMSSEC_E_RANGE; IMSSEC_E_CALLBACK; IMSSEC_E_PARAM (also a policy
 *   without AES_CM_128_HMAC_SHA1_80). */
IMSSEC_API int imssec_sdp_ue_offer(imssec_str offer, const imssec_sdp_opts *opts, char *out,
                                   size_t out_cap, size_t *out_len, imssec_sdp_keys *keys,
                                   size_t keys_cap, size_t *keys_len, imssec_errinfo *err);

/* UE, the answer to its offer (7.2.1 step 8, 7.2.2 step 6; RFC 4568
 * 7.1.3).  For each keys[i] (from imssec_sdp_ue_offer, status OFFERED):
 * the section must keep RTP/SAVP(F) and hold exactly one a=crypto
 * attribute answering an offered tag with the same suite and session
 * flags; remote = it (e2ae: lifetimes cleared), local[0] = the offered
 * attribute it names, status AGREED.  Port 0: REJECTED.  unchanged stays 1
 * only when a re-offered section is answered with the remote attribute
 * already agreed.  Nothing is written but keys[], and only on IMSSEC_OK.
 *   \param answer  the SDP answer received
 *   \param keys    in: imssec_sdp_ue_offer()'s entries, in increasing
 *                  m_index order; out: AGREED / REJECTED
 *   \return IMSSEC_OK; IMSSEC_E_SYNTAX; IMSSEC_E_NOT_FOUND;
 *   IMSSEC_E_SDES_REJECT; the parse errors of imssec_sdes_parse();
 *   IMSSEC_E_STATE; IMSSEC_E_PARAM (also keys[] out of order or
 *   malformed). */
IMSSEC_API int imssec_sdp_ue_check_answer(imssec_str answer, imssec_sdp_keys *keys,
                                          size_t n_keys, imssec_errinfo *err);

/* UE, answering a received offer with SDES (7.3.1 step 5, 7.3.2 step 4,
 * 7.4).  `answer` is the caller's answer to `offer` (the same number of
 * m= sections, RFC 3264 6).  For each offered section with proto
 * RTP/SAVP(F), a port other than 0 and a=crypto lines, whose answer
 * section's port is not 0 (set it to 0 to reject a stream): the answer's
 * proto must be RTP/AVP(F) or RTP/SAVP(F) with the offer's feedback
 * profile and becomes the offer's; its a=crypto / a=3ge2ae lines are
 * removed and one a=crypto line is appended: the first acceptable offered
 * attribute (imssec_sdes_answer()) answered with a fresh key.  keys[]: the
 * pair (status AGREED), mode e2ae when the offer section carries
 * a=3ge2ae:applied (7.3.1 step 4; remote lifetimes cleared), else e2e.
 * With opts.prev (7.4): a section whose agreed remote attribute is offered
 * again is answered with the attribute sent before (unchanged 1).  Other
 * sections are copied unchanged.
 *   \param offer   the SDP offer received
 *   \param answer  the UE's own SDP answer, as its media stack wrote it
 *   \param opts    policy (required), io (required), prev; flags unused
 *   \return IMSSEC_OK; IMSSEC_E_SYNTAX (either text); IMSSEC_E_SDES_REJECT
 *   (nothing acceptable in a section: err->item_index; reject that stream
 *   and call again); IMSSEC_E_INSECURE; IMSSEC_E_SPACE; IMSSEC_E_CALLBACK;
 *   IMSSEC_E_PARAM (also: m= counts or feedback profiles differ). */
IMSSEC_API int imssec_sdp_ue_answer(imssec_str offer, imssec_str answer,
                                    const imssec_sdp_opts *opts, char *out, size_t out_cap,
                                    size_t *out_len, imssec_sdp_keys *keys, size_t keys_cap,
                                    size_t *keys_len, imssec_errinfo *err);

/* The two SRTP directions of an AGREED section (imssec_sdes_srtp_params()):
 * rx from remote (INBOUND: the peer's sending key), tx from local[0]
 * (OUTBOUND).  At the IMS-ALG these are the IMS Access GW's sessions
 * towards the UE (6.2.1.3.1); the core side stays plain RTP (6.2.1.1).
 * The keys arrays point into *k, which must outlive the session set-up.
 * IMSSEC_OK; IMSSEC_E_STATE (not AGREED); IMSSEC_E_PARAM (nothing is
 * written then). */
IMSSEC_API int imssec_sdp_keys_srtp(const imssec_sdp_keys *k, imssec_srtp_params *rx,
                                    imssec_srtp_key rx_keys[IMSSEC_SRTP_KEYS_MAX],
                                    imssec_srtp_params *tx,
                                    imssec_srtp_key tx_keys[IMSSEC_SRTP_KEYS_MAX]);

/* Zeroize n entries. */
IMSSEC_API void imssec_sdp_keys_wipe(imssec_sdp_keys *k, size_t n);
/* ---- END media/ --- */

#ifdef __cplusplus
}
#endif

#endif /* IMSSEC_H */
