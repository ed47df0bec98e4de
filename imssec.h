/*
 * imssec.h -- the only public header of imssec, an embeddable C99 library for
 * 3GPP IMS access security (TS 33.203): IMS AKA and the SIP digest that
 * carries it, the RFC 3329 security agreement, the IPsec SA table with the UE
 * and P-CSCF state machines, and a software ESP engine.
 *
 * SPDX-License-Identifier: MIT
 *
 * ===========================================================================
 * Conventions (they hold for every function below unless its comment says
 * otherwise)
 * ===========================================================================
 *
 * Memory.  The caller owns all memory.  The library never allocates, has no
 *   global or static mutable state, and keeps no pointer to caller memory
 *   after a call returns, except where a function documents that an object
 *   refers to storage the caller handed it (for example a table's slot array
 *   or a parsed header's slices into the input text); such storage must
 *   outlive the object.  Objects are plain structs so that `sizeof` works for
 *   static or stack allocation; fields whose names end in `_` are private.
 *
 * Life cycle.  `*_init()` returns void, cannot fail and sets every field.
 *   `*_wipe()` zeroizes an object including any key material; there is no
 *   `*_free()` because nothing is ever allocated.
 *
 * NULL.  Pointer parameters must not be NULL unless documented as optional.
 *   A (pointer, length) pair with length 0 may have a NULL pointer.
 *   Debug-style argument checks return IMSSEC_E_PARAM; peer-controlled input
 *   can never cause undefined behaviour.
 *
 * Errors.  Functions that can fail return `int`: IMSSEC_OK (0) or a negative
 *   `imssec_err` value.  Byte counts travel through `size_t *` out-parameters,
 *   never mixed with errors.  Per-packet and per-message verdicts (replay, ICV
 *   failure, no SA, MAC failure, ...) are distinct from fatal errors:
 *   imssec_err_is_verdict() tells them apart.  On any error, output buffers
 *   and object state are left as they were unless documented otherwise;
 *   IMSSEC_E_SPACE reports the capacity needed through the length pointer.
 *   imssec_strerror() never returns NULL.
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
 * Encoding.  Binary values are (pointer, length) byte arrays; text values are
 *   (pointer, length) slices and need not be NUL-terminated unless stated.
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
 * IMSSEC_CONFIG_FILE, or with -D.  imssec.c rejects impossible combinations
 * with #error; imssec_build_info() lists what was compiled in.
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
/* Largest anti-replay window an SA may ask for, in bits: a power of two,
 * 32..4096 (RFC 4303 section 3.4.3 requires at least 32). */
#ifndef IMSSEC_REPLAY_WINDOW_MAX
#define IMSSEC_REPLAY_WINDOW_MAX 4096
#endif
/* Calls to imssec_io.log.  0 compiles every log statement out. */
#ifndef IMSSEC_ENABLE_LOG
#define IMSSEC_ENABLE_LOG 1
#endif

/* ===========================================================================
 * Errors
 * ===========================================================================
 * One list, used both for the enum and for imssec_strerror().  Ranges:
 *   -1..-19  usage and resource errors (fatal for the call)
 *   -20..-39 per-packet verdicts (drop the packet, keep the SA)
 *   -40..-59 authentication verdicts and errors (aka/ and digest)
 *   -60..-79 security agreement (secagree/)
 *   -80..-99 SA table and state machines (sa/)
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
    X(IMSSEC_E_NC, -45, "nonce count not increasing")

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

/* ===========================================================================
 * Library information
 * ======================================================================== */

#define IMSSEC_VERSION_MAJOR 0
#define IMSSEC_VERSION_MINOR 1
#define IMSSEC_VERSION_PATCH 0
#define IMSSEC_VERSION_STRING "0.1.0"

/* "0.1.0". */
IMSSEC_API const char *imssec_version(void);

/* A constant string listing the compiled-in options and the crypto backend,
 * for example "imssec 0.1.0 mbedtls=2.28.3 3des=1 hmac-md5=1 ipv6=1
 * udpencap=1 replay-window-max=4096 log=1". */
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
 * Base64 (RFC 4648 section 4).  Used for AKA nonces, AUTS and AKAv2
 * passwords; exposed because SIP stacks need the same handling.
 * ======================================================================== */

/* Encode in[0..in_len) with padding into out (not NUL-terminated).
 * *out_len = 4 * ceil(in_len / 3).  Returns IMSSEC_OK or IMSSEC_E_SPACE
 * (then *out_len is the size needed and nothing was written). */
IMSSEC_API int imssec_base64_encode(const uint8_t *in, size_t in_len, char *out,
                                    size_t out_cap, size_t *out_len);

/* Decode text[0..len).  Padding is optional (real IMS nonces are sent both
 * ways); when present it must be correct.  No whitespace, no characters
 * outside the alphabet, no non-zero bits in the last symbol's unused part.
 * Returns IMSSEC_OK, IMSSEC_E_SYNTAX or IMSSEC_E_SPACE (then *out_len is the
 * size needed).  On error nothing is written. */
IMSSEC_API int imssec_base64_decode(const char *text, size_t len, uint8_t *out,
                                    size_t out_cap, size_t *out_len);

/* ===========================================================================
 * Module sections follow.  Each module owns the block between its markers.
 * ======================================================================== */

/* ---- BEGIN aka/ ----------------------------------------------------------- */
/* ---- END aka/ ------------------------------------------------------------- */

/* ---- BEGIN secagree/ ------------------------------------------------------ */
/* ---- END secagree/ -------------------------------------------------------- */

/* ---- BEGIN esp/ ----------------------------------------------------------- */
/* ---- END esp/ ------------------------------------------------------------- */

/* ---- BEGIN sa/ ------------------------------------------------------------ */
/* ---- END sa/ -------------------------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* IMSSEC_H */
