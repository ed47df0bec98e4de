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
 *   -40..-59 authentication verdicts (aka/ and digest)
 *   -60..-79 security agreement verdicts (secagree/)
 *   -80..-99 SA rule verdicts (sa/: discard or refuse the message)
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
    X(IMSSEC_E_SA_WRONG, -80, "message protected with the wrong SA or unprotected") \
    X(IMSSEC_E_SA_RULE2, -81, "protected REGISTER source address differs from Via (TS 33.203 7.1 rule 2)") \
    X(IMSSEC_E_SA_RULE3, -82, "UE address and protected port already in the SA table (7.1 rule 3)") \
    X(IMSSEC_E_SA_LIMIT, -83, "more than six SAs per direction for one IMPI (7.1 rule 3)") \
    X(IMSSEC_E_SA_NAT, -84, "SA mode does not match NAT detection (TS 33.203 M.7.1, M.7.3.2.4)")

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

/* Largest IND length (bits) an imssec_aka_sqn can hold: the state holds
 * 2^IMSSEC_AKA_IND_BITS_MAX SEQ_MS slots of 8 bytes.  0..10. */
#ifndef IMSSEC_AKA_IND_BITS_MAX
#define IMSSEC_AKA_IND_BITS_MAX 8
#endif
/* Largest server data after RAND||AUTN in an AKA nonce that
 * imssec_aka_nonce_decode() accepts, in bytes. */
#ifndef IMSSEC_AKA_NONCE_DATA_MAX
#define IMSSEC_AKA_NONCE_DATA_MAX 256
#endif

/* ---- Milenage (TS 35.206) ------------------------------------------------ */

/* K, OPc and the operator constants c1..c5 / r1..r5.  Holds the secret key:
 * imssec_milenage_wipe() when done.  Every function taking a `const
 * imssec_milenage *` runs one AES key schedule per call, on the stack, so
 * one object may serve several threads at once. */
typedef struct imssec_milenage {
    uint8_t k_[16];
    uint8_t opc_[16];
    uint8_t c_[5][16];
    uint8_t r_[5]; /* rotations in bits, 0..127 */
} imssec_milenage;

/* Load K and OPc; constants are set to the TS 35.206 defaults (r1=64, r2=0,
 * r3=32, r4=64, r5=96; c1=0, c2=1, c3=2, c4=4, c5=8). */
IMSSEC_API void imssec_milenage_init_opc(imssec_milenage *m, const uint8_t k[16],
                                         const uint8_t opc[16]);

/* Load K and OP; OPc = OP xor E_K(OP) (TS 35.206 4.1).  Default constants. */
IMSSEC_API void imssec_milenage_init_op(imssec_milenage *m, const uint8_t k[16],
                                        const uint8_t op[16]);

/* Replace the operator constants: c is c1 || c2 || c3 || c4 || c5 (16
 * bytes each), r_bits[i] is r(i+1) in bits (TS 35.206 4.1 allows any value
 * 0..127).  Returns IMSSEC_OK or IMSSEC_E_RANGE (an r >= 128; nothing
 * changed). */
IMSSEC_API int imssec_milenage_set_constants(imssec_milenage *m, const uint8_t c[80],
                                             const uint8_t r_bits[5]);

/* Copy out OPc (the one derived from OP, or the one loaded). */
IMSSEC_API void imssec_milenage_get_opc(const imssec_milenage *m, uint8_t opc[16]);

/* f1 and f1* (TS 35.206 4.1): MAC-A and MAC-S over RAND, SQN and AMF.
 * Either output may be NULL. */
IMSSEC_API void imssec_milenage_f1(const imssec_milenage *m, const uint8_t rand[16],
                                   const uint8_t sqn[6], const uint8_t amf[2],
                                   uint8_t mac_a[8], uint8_t mac_s[8]);

/* f2 (RES, 8 bytes), f3 (CK), f4 (IK), f5 (AK) and f5* (AK for resync) of
 * RAND.  Each output may be NULL. */
IMSSEC_API void imssec_milenage_f2345(const imssec_milenage *m, const uint8_t rand[16],
                                      uint8_t res[8], uint8_t ck[16], uint8_t ik[16],
                                      uint8_t ak[6], uint8_t ak_star[6]);

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
    uint8_t ck[16], ik[16];
    uint8_t auts[14];
    uint8_t amf[2];   /* from AUTN (software check only; a USIM does not tell) */
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
                                   unsigned policy, const uint8_t rand[16],
                                   const uint8_t autn[16], imssec_aka_result *out);

/* ---- Pluggable AKA provider ------------------------------------------------ */

/* One interface for software Milenage and a real USIM/ISIM: `authenticate`
 * runs AUTHENTICATE on (RAND, AUTN) and returns IMSSEC_OK with res/res_len
 * (4..16)/ck/ik, IMSSEC_E_SYNC_FAILURE with auts, IMSSEC_E_MAC_FAILURE, or
 * IMSSEC_E_AMF; any other value is reported as IMSSEC_E_CALLBACK.  A USIM
 * callback leaves sqn_known 0. */
typedef struct imssec_aka_provider {
    int (*authenticate)(void *user, const uint8_t rand[16], const uint8_t autn[16],
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
IMSSEC_API int imssec_aka_authenticate(const imssec_aka_provider *p, const uint8_t rand[16],
                                       const uint8_t autn[16], imssec_aka_result *out);

/* ---- Network side (HSS / S-CSCF) ----------------------------------------- */

typedef struct imssec_aka_vector {
    uint8_t rand[16];
    uint8_t autn[16]; /* SQN xor AK || AMF || MAC-A */
    uint8_t xres[IMSSEC_AKA_RES_MAX];
    size_t xres_len; /* 8 */
    uint8_t ck[16], ik[16];
    uint8_t ak[6];
    uint64_t sqn;
} imssec_aka_vector;

/* Generate an authentication vector (TS 33.102 6.3.2) for `sqn` (48 bits)
 * and `amf`.  RAND is `rand` if non-NULL, else 16 bytes from io->random.
 * Returns IMSSEC_OK, IMSSEC_E_RANGE (sqn), IMSSEC_E_CALLBACK (RNG). */
IMSSEC_API int imssec_aka_vector_gen(const imssec_milenage *m, const imssec_io *io,
                                     const uint8_t rand[16], uint64_t sqn,
                                     const uint8_t amf[2], imssec_aka_vector *v);

/* Verify AUTS = (SQN_MS xor f5*(RAND)) || MAC-S against f1*(SQN_MS, RAND,
 * AMF 0000) (TS 33.102 6.3.5).  IMSSEC_OK with *sqn_ms set, or
 * IMSSEC_E_MAC_FAILURE (*sqn_ms unchanged). */
IMSSEC_API int imssec_aka_auts_verify(const imssec_milenage *m, const uint8_t rand[16],
                                      const uint8_t auts[14], uint64_t *sqn_ms);

/* The next SQN to allocate for IND slot `ind` after `sqn` (the last SQN used,
 * or SQN_MS after a resync), TS 33.102 C.3.2 with an IND per slot:
 * ((sqn + 2^ind_bits) with the IND bits cleared) | ind, modulo 2^48.
 * ind_bits 0..28, ind < 2^ind_bits.  IMSSEC_OK or IMSSEC_E_RANGE. */
IMSSEC_API int imssec_aka_sqn_next(uint64_t sqn, unsigned ind_bits, unsigned ind,
                                   uint64_t *next);

/* ---- IMS AKA nonce (RFC 3310 3.1, TS 33.203 6.1) ---------------------------- */

/* base64(RAND || AUTN || server_data), with or without '=' padding.
 * Returns IMSSEC_OK or IMSSEC_E_SPACE (*out_len = size needed). */
IMSSEC_API int imssec_aka_nonce_encode(const uint8_t rand[16], const uint8_t autn[16],
                                       const uint8_t *server_data, size_t sd_len, int padded,
                                       char *out, size_t cap, size_t *out_len);

/* Decode a nonce (padding optional).  server_data/sd_len are optional (NULL
 * = ignore the server data).  Returns IMSSEC_OK, IMSSEC_E_SYNTAX (bad base64
 * or fewer than 32 bytes), IMSSEC_E_SPACE (server data longer than sd_cap or
 * IMSSEC_AKA_NONCE_DATA_MAX). */
IMSSEC_API int imssec_aka_nonce_decode(const char *text, size_t len, uint8_t rand[16],
                                       uint8_t autn[16], uint8_t *server_data, size_t sd_cap,
                                       size_t *sd_len);

/* ---- SIP / HTTP digest ------------------------------------------------------- */

/* A slice of caller text (not NUL-terminated). */
typedef struct imssec_digest_str {
    const char *p;
    size_t n;
} imssec_digest_str;

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
IMSSEC_API int imssec_digest_alg_from_name(const char *p, size_t n);
/* 1 for the AKAv1/AKAv2 algorithms. */
IMSSEC_API int imssec_digest_alg_is_aka(int alg);

/* Everything one digest response depends on.  Text fields are unquoted
 * values.  For AKA algorithms `password` is the AKA password (see
 * imssec_digest_aka_password()). */
typedef struct imssec_digest_in {
    int alg;                 /* enum imssec_digest_alg */
    int qop;                 /* enum imssec_digest_qop */
    imssec_digest_str username, realm, nonce, cnonce, method, uri;
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
                                          const uint8_t ck[16], const uint8_t ik[16],
                                          uint8_t *out, size_t cap, size_t *out_len);

/* A parameter the parser does not interpret, kept for the caller. */
typedef struct imssec_digest_param {
    imssec_digest_str name, value; /* value without quotes, escapes kept */
    int quoted;
} imssec_digest_param;

#ifndef IMSSEC_DIGEST_EXTRA_MAX
#define IMSSEC_DIGEST_EXTRA_MAX 8 /* unknown parameters kept per header */
#endif

/* One challenge of WWW-Authenticate / Proxy-Authenticate.  Slices point
 * into the parsed text; quoted values exclude the quotes and keep escapes
 * (imssec_digest_unquote() removes them). */
typedef struct imssec_digest_challenge {
    imssec_digest_str scheme; /* "Digest", or another scheme (then only params/token68) */
    int is_digest;
    int alg;                  /* algorithm=, MD5 when absent (RFC 2617 3.2.1) */
    imssec_digest_str realm, nonce, opaque, domain, algorithm, qop, charset, token68;
    unsigned qop_mask;        /* IMSSEC_DIGEST_QOP_BIT(AUTH / AUTH_INT); 0 = no qop */
    int qop_unknown_only;     /* 1: qop= present, no auth / auth-int in it (qop_mask 0) */
    int stale, userhash;
    imssec_digest_param extra[IMSSEC_DIGEST_EXTRA_MAX];
    size_t n_extra;
} imssec_digest_challenge;

/* Parse one header value holding one or more challenges (RFC 7235 2.1
 * list; RFC 2617 / RFC 3261 grammar: LWS, case-insensitive names,
 * quoted-string escapes).  Appends to out[*n .. cap): call once per header
 * with the same array to collect several headers.  A Digest challenge
 * needs realm and nonce; unknown algorithm values are kept (alg UNKNOWN,
 * never selected).  Unknown qop options are ignored (RFC 7616 3.3, RFC 2617
 * 3.2.1); a qop list with no known option at all (qop="foo", qop="") is
 * not an error, because one odd challenge must not make the others in the
 * list unusable: it parses with qop_mask 0, qop_unknown_only 1 and the raw
 * text in `qop`, and imssec_digest_respond() / imssec_digest_aka_respond()
 * answer it with IMSSEC_E_UNSUPPORTED and imssec_digest_challenge_select()
 * skips it.  Duplicate parameters (names compared case-insensitively), a
 * qop value that is not a token list and malformed text are
 * IMSSEC_E_SYNTAX.  More challenges than fit: IMSSEC_E_SPACE with *n set
 * to the count needed (the old *n plus the challenges in `text`), out[]
 * unchanged.  More unknown parameters in one challenge than
 * IMSSEC_DIGEST_EXTRA_MAX: IMSSEC_E_SPACE with *n unchanged (a bigger array
 * would not help).  On any other error *n and out[] are unchanged. */
IMSSEC_API int imssec_digest_challenge_parse(const char *text, size_t len,
                                             imssec_digest_challenge *out, size_t cap,
                                             size_t *n);

/* Index of the Digest challenge whose algorithm comes first in `pref`
 * (npref entries of enum imssec_digest_alg), or -1 (IMSSEC_E_NOT_FOUND is
 * not used: -1 is "none acceptable").  Challenges whose qop list has no
 * known option (qop_unknown_only) are skipped. */
IMSSEC_API int imssec_digest_challenge_select(const imssec_digest_challenge *ch, size_t n,
                                              const int *pref, size_t npref);

/* Authorization / Proxy-Authorization (RFC 2617 3.2.2, RFC 3310 3.4 auts). */
typedef struct imssec_digest_credentials {
    imssec_digest_str username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop,
        auts;
    int alg;       /* MD5 when algorithm= is absent */
    int qop_val;   /* enum imssec_digest_qop */
    uint32_t nc;   /* 0 when absent */
    int userhash;
    imssec_digest_param extra[IMSSEC_DIGEST_EXTRA_MAX];
    size_t n_extra;
} imssec_digest_credentials;

/* Parse one Digest credentials value.  qop requires nc (8 hex digits) and
 * cnonce.  Deliberate leniency (server side): nc may be quoted
 * (nc="00000001"; RFC 2617 3.2.2 has it unquoted, but some deployed
 * clients quote it) and its hex digits may be upper case; it must still be
 * exactly 8 hex digits, and imssec_digest_server_verify() still enforces
 * monotonicity.  IMSSEC_OK, IMSSEC_E_SYNTAX, IMSSEC_E_SPACE (extra params),
 * IMSSEC_E_UNSUPPORTED (not the Digest scheme).  *out unchanged on error. */
IMSSEC_API int imssec_digest_credentials_parse(const char *text, size_t len,
                                               imssec_digest_credentials *out);

/* Copy s without quoted-pair escapes into out.  IMSSEC_OK, IMSSEC_E_SPACE
 * (*out_len = need), IMSSEC_E_SYNTAX (a trailing lone backslash). */
IMSSEC_API int imssec_digest_unquote(imssec_digest_str s, char *out, size_t cap,
                                     size_t *out_len);

/* Build "Digest username=..., realm=..., nonce=..., uri=..., response=...,
 * algorithm=..., [cnonce=..., qop=..., nc=...,] [opaque=...,] [auts=...,]
 * [userhash=true]" from `in` and `res` (from imssec_digest_compute();
 * NULL writes response="" for an AKA sync failure without password).
 * opaque/auts: n == 0 to omit.  IMSSEC_OK or IMSSEC_E_SPACE (*out_len =
 * the size needed, nothing written: the builders below measure first). */
IMSSEC_API int imssec_digest_credentials_build(const imssec_digest_in *in,
                                               const imssec_digest_out *res,
                                               imssec_digest_str opaque, imssec_digest_str auts,
                                               char *out, size_t cap, size_t *out_len);

/* Build a Digest challenge value: realm, nonce, algorithm, qop list from
 * qop_mask, opaque (n == 0: omitted), stale=true, userhash=true when set.
 * IMSSEC_OK, IMSSEC_E_UNSUPPORTED (alg), IMSSEC_E_SPACE (*out_len). */
IMSSEC_API int imssec_digest_challenge_build(int alg, imssec_digest_str realm,
                                             imssec_digest_str nonce, imssec_digest_str opaque,
                                             unsigned qop_mask, int stale, int userhash,
                                             char *out, size_t cap, size_t *out_len);

/* Authentication-Info (RFC 2617 3.2.3, RFC 7616 3.5). */
typedef struct imssec_digest_info {
    imssec_digest_str nextnonce, qop, rspauth, cnonce, nc_text;
    int qop_val;
    uint32_t nc;
} imssec_digest_info;

/* Build "nextnonce=..., qop=..., rspauth=..., cnonce=..., nc=..." for `in`
 * (nextnonce omitted when n == 0).  IMSSEC_OK or IMSSEC_E_SPACE. */
IMSSEC_API int imssec_digest_info_build(const imssec_digest_in *in, imssec_digest_str nextnonce,
                                        char *out, size_t cap, size_t *out_len);
IMSSEC_API int imssec_digest_info_parse(const char *text, size_t len, imssec_digest_info *out);
/* Check rspauth (constant time) and that qop/nc/cnonce echo `in`.
 * IMSSEC_OK or IMSSEC_E_AUTH. */
IMSSEC_API int imssec_digest_info_verify(const imssec_digest_in *in,
                                         const imssec_digest_info *info);

/* ---- Digest server side ---------------------------------------------------- */

#ifndef IMSSEC_DIGEST_NONCE_MAX
#define IMSSEC_DIGEST_NONCE_MAX 128
#endif

/* One issued nonce: its text, expiry and the highest nc seen. */
typedef struct imssec_digest_nonce {
    char nonce_[IMSSEC_DIGEST_NONCE_MAX];
    size_t len_;
    uint64_t expires_ms_;
    uint32_t last_nc_;
    int used_;
} imssec_digest_nonce;

/* Remember an issued nonce valid until expires_ms.  IMSSEC_OK or
 * IMSSEC_E_SPACE (longer than IMSSEC_DIGEST_NONCE_MAX). */
IMSSEC_API int imssec_digest_nonce_set(imssec_digest_nonce *st, const char *nonce, size_t len,
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
 * n == 0: the one in the credentials).  On IMSSEC_OK the nc is recorded. */
IMSSEC_API int imssec_digest_server_verify(imssec_digest_nonce *st,
                                           const imssec_digest_credentials *cr, int alg,
                                           imssec_digest_str username, imssec_digest_str method,
                                           const uint8_t *body, size_t body_len,
                                           const uint8_t *password, size_t password_len,
                                           uint64_t now_ms);

/* ---- Digest client with AKA ------------------------------------------------- */

typedef struct imssec_digest_request {
    imssec_digest_str username, method, uri, cnonce; /* cnonce needed when qop is used */
    uint32_t nc;
    const uint8_t *body;
    size_t body_len;
    int prefer_auth_int; /* choose auth-int when both are offered */
} imssec_digest_request;

/* Answer a chosen challenge with a password (non-AKA algorithms).
 * Chooses qop (auth, or auth-int if preferred or the only one offered;
 * none when the challenge has no qop).  Fills *dout (optional) and writes
 * the credentials.  IMSSEC_OK, IMSSEC_E_UNSUPPORTED (alg unknown or AKA; a
 * qop list with no known option, see imssec_digest_challenge_parse(): no
 * downgrade to the qop-less form; realm, nonce or opaque longer than 256
 * characters), IMSSEC_E_PARAM (no cnonce), IMSSEC_E_SPACE (*out_len = the
 * size needed; nothing written). */
IMSSEC_API int imssec_digest_respond(const imssec_digest_challenge *ch,
                                     const imssec_digest_request *rq, const uint8_t *password,
                                     size_t password_len, imssec_digest_out *dout, char *out,
                                     size_t cap, size_t *out_len);

/* Answer an AKA challenge (RFC 3310 / RFC 4169): decode the nonce, run the
 * provider on RAND/AUTN, derive the password and build the credentials.
 * Returns IMSSEC_OK (credentials written, *ar holds RES/CK/IK for the SA),
 * IMSSEC_E_SYNC_FAILURE (credentials written with auts=base64(AUTS) and the
 * response over an empty password, RFC 3310 3.4), IMSSEC_E_MAC_FAILURE or
 * IMSSEC_E_AMF (nothing written: TS 24.229 5.1.1.5.3 network authentication
 * failure is the caller's next step), or the errors of imssec_digest_respond()
 * and imssec_aka_authenticate().  Everything that can refuse the answer
 * (nonce, qop, cnonce, output size) is checked BEFORE the provider runs, so
 * an error never uses the challenge up (a USIM's AUTHENTICATE cannot be
 * undone): IMSSEC_E_SPACE comes first and reports in *out_len the larger of
 * the two possible answers (the sync-failure one, with auts=), so the
 * credentials written may be shorter than that. */
IMSSEC_API int imssec_digest_aka_respond(const imssec_aka_provider *p,
                                         const imssec_digest_challenge *ch,
                                         const imssec_digest_request *rq,
                                         imssec_aka_result *ar, imssec_digest_out *dout,
                                         char *out, size_t cap, size_t *out_len);
/* ---- END aka/ ------------------------------------------------------------- */

/* ---- BEGIN secagree/ ------------------------------------------------------ */
/* ===========================================================================
 * Security agreement: RFC 3329 Security-Client / -Server / -Verify with the
 * TS 33.203 Annex H `ipsec-3gpp` mechanism; negotiation of clause 7.2 and
 * Annex M (M.7.2).  Pure functions over caller memory.
 *
 * Parsed mechanisms refer to the input text (zero-copy): the text must
 * outlive the imssec_sec_mech array.  Names, parameter names and token
 * values are case-insensitive; the original spelling is kept in the slices.
 * ======================================================================== */

/* Mechanism names (RFC 3329 section 2.2 registry + Annex H). */
enum imssec_sec_kind {
    IMSSEC_SEC_OTHER = 0, /* any other name, preserved as text */
    IMSSEC_SEC_IPSEC_3GPP = 1,
    IMSSEC_SEC_DIGEST = 2,
    IMSSEC_SEC_TLS = 3,
    IMSSEC_SEC_IPSEC_IKE = 4,
    IMSSEC_SEC_IPSEC_MAN = 5
};

/* alg=.  0 = absent (Annex H: mandatory, so an offer without it is never
 * selected).  AES_GMAC and NULL are later-release values (known, not
 * supported by this library's ESP). */
enum imssec_sec_alg {
    IMSSEC_ALG_ABSENT = 0,
    IMSSEC_ALG_HMAC_MD5_96 = 1,
    IMSSEC_ALG_HMAC_SHA1_96 = 2,
    IMSSEC_ALG_AES_GMAC = 3,
    IMSSEC_ALG_NULL = 4,
    IMSSEC_ALG_UNKNOWN = 5 /* text in alg_text */
};
/* ealg=.  0 = null, which is also the Annex H default when absent (the
 * `present` bits tell absent from explicit). */
enum imssec_sec_ealg {
    IMSSEC_EALG_NULL = 0,
    IMSSEC_EALG_DES_EDE3_CBC = 1,
    IMSSEC_EALG_AES_CBC = 2,
    IMSSEC_EALG_AES_GCM = 3, /* later release: known, unsupported */
    IMSSEC_EALG_UNKNOWN = 4
};
/* prot=.  0 = esp, the Annex H default. */
enum imssec_sec_prot { IMSSEC_PROT_ESP = 0, IMSSEC_PROT_AH = 1, IMSSEC_PROT_UNKNOWN = 2 };
/* mod=.  0 = trans, the Annex H default. */
enum imssec_sec_mode {
    IMSSEC_MODE_TRANS = 0,
    IMSSEC_MODE_TUN = 1,
    IMSSEC_MODE_UDP_ENC_TUN = 2, /* Annex M */
    IMSSEC_MODE_UNKNOWN = 3
};

/* Bits of imssec_sec_mech.present: the parameter appeared (or, for the
 * builder, is to be written). */
#define IMSSEC_SECP_ALG 0x001u
#define IMSSEC_SECP_EALG 0x002u
#define IMSSEC_SECP_PROT 0x004u
#define IMSSEC_SECP_MOD 0x008u
#define IMSSEC_SECP_SPI_C 0x010u
#define IMSSEC_SECP_SPI_S 0x020u
#define IMSSEC_SECP_PORT_C 0x040u
#define IMSSEC_SECP_PORT_S 0x080u
#define IMSSEC_SECP_Q 0x100u
/* All four of spi-c, spi-s, port-c, port-s: an SA proposal.  A list whose
 * entries lack them (421/494 answers) is a capability list only. */
#define IMSSEC_SECP_SA_PARAMS 0x0f0u

/* Most parameters one mechanism may carry (bounds every loop). */
#define IMSSEC_SEC_MAX_PARAMS 32

/* One mechanism.  For the builder, fill `kind` (or name/name_len for an
 * OTHER name), the typed fields and `present`; leave raw/params NULL (or
 * point `params` at text from a parse to carry its extension parameters). */
typedef struct imssec_sec_mech {
    const char *raw;      /* the whole mechanism as received, outer LWS trimmed */
    size_t raw_len;
    const char *name;     /* mechanism name as spelled */
    size_t name_len;
    int kind;             /* enum imssec_sec_kind */
    unsigned present;     /* IMSSEC_SECP_* */
    int alg, ealg, prot, mod; /* enums above; for ipsec-3gpp only */
    const char *alg_text; /* value text (unquoted), also for known values */
    size_t alg_len;
    const char *ealg_text;
    size_t ealg_len;
    const char *prot_text;
    size_t prot_len;
    const char *mod_text;
    size_t mod_len;
    uint32_t spi_c, spi_s; /* 1..4294967295 */
    uint16_t port_c, port_s; /* 1..65535 */
    uint16_t q;           /* 0..1000 (q=0.5 -> 500); any mechanism */
    const char *params;   /* the text after the name: ";p=v;..." (may be NULL) */
    size_t params_len;
    unsigned n_ext;       /* parameters other than the typed ones */
} imssec_sec_mech;

/* One parameter, from imssec_secagree_param_next(). */
typedef struct imssec_sec_param {
    const char *name;
    size_t name_len;
    const char *value; /* as written, quotes included; NULL for a flag */
    size_t value_len;
    int known;         /* 1: one of the typed parameters of this mechanism */
} imssec_sec_param;

/* Where a parse failed.  `value_index`: which header instance (0 for
 * imssec_secagree_parse); `mech_index`: which mechanism of the whole list;
 * `offset`: byte offset in that instance; `what`: a constant English
 * phrase ("port out of range", ...). */
typedef struct imssec_sec_errinfo {
    size_t value_index, mech_index, offset;
    const char *what;
} imssec_sec_errinfo;

/* Parse one header value (the text after "Security-Client:" etc.) into
 * mechs[0..cap).  RFC 3329 section 2.2 grammar with RFC 3261 LWS (folded
 * lines included), quoted-string values, valueless parameters and empty
 * list elements; Annex H typed parameters for ipsec-3gpp; `q` (RFC 3261
 * qvalue) for any mechanism.  Rejected: SPIs outside 1..4294967295 or not
 * plain decimal, ports outside 1..65535, port-c == port-s, bad qvalues,
 * a parameter repeated in one mechanism, more than IMSSEC_SEC_MAX_PARAMS
 * parameters, an empty list.
 * Returns IMSSEC_OK (*count set), IMSSEC_E_SYNTAX / IMSSEC_E_RANGE (err,
 * optional, says where), or IMSSEC_E_SPACE (*count = mechanisms needed).
 * On error mechs is untouched. */
IMSSEC_API int imssec_secagree_parse(const char *value, size_t len, imssec_sec_mech *mechs,
                                     size_t cap, size_t *count, imssec_sec_errinfo *err);

/* The same over n header instances in message order (RFC 3261 7.3.1: equal
 * to one comma-joined list).  values[i] / lens[i]. */
IMSSEC_API int imssec_secagree_parse_multi(const char *const *values, const size_t *lens,
                                           size_t n, imssec_sec_mech *mechs, size_t cap,
                                           size_t *count, imssec_sec_errinfo *err);

/* Iterate the parameters of a parsed mechanism in order.  *cursor starts
 * at 0.  Returns 1 with *p filled, or 0 at the end. */
IMSSEC_API int imssec_secagree_param_next(const imssec_sec_mech *m, size_t *cursor,
                                          imssec_sec_param *p);

/* Build a header value from mechs[0..n): mechanisms joined by ", "; for each
 * the name, then the present typed parameters in the order alg, ealg, prot,
 * mod, spi-c, spi-s, port-c, port-s, q, then the extension parameters of
 * `params` in their order.  Known values use their registered spelling,
 * unknown ones their text; SPIs and ports unsigned decimal; q shortest form.
 * Deterministic; imssec_secagree_parse() of the output gives back equal
 * typed fields.  Returns IMSSEC_OK, IMSSEC_E_PARAM (a field that cannot be
 * written: out-of-range number, non-token text), IMSSEC_E_SPACE (*out_len =
 * bytes needed; out untouched).  Not NUL-terminated. */
IMSSEC_API int imssec_secagree_build(const imssec_sec_mech *mechs, size_t n, char *out,
                                     size_t cap, size_t *out_len);

/* Echo: the raw slices of mechs[0..n) joined by ", ", folded line breaks
 * removed.  For Security-Verify (RFC 3329 2.3.1: the server's list as
 * received) and the repeated Security-Client of Annex H.  Mechanisms
 * without `raw` are built.  Returns as imssec_secagree_build(). */
IMSSEC_API int imssec_secagree_echo(const imssec_sec_mech *mechs, size_t n, char *out,
                                    size_t cap, size_t *out_len);

/* Normalised comparison (RFC 3329 2.3.1 Security-Verify check; Annex H
 * item 3 Security-Client re-check; TS 33.203 7.2 / 7.3.2.3).  Equal when
 * both lists have the same length and, mechanism by mechanism in order,
 * the same name, the same typed values after Annex H defaults (absent prot
 * = esp, mod = trans, ealg = null; unknown values compared as text, case
 * ignored), the same q (absent only equals absent) and the same set of
 * extension parameters (order and case ignored).  Returns 1 equal, 0 not;
 * *why (optional) gets a constant phrase ("list length", "mechanism 1:
 * spi-s", ...) and *where (optional) the first differing index. */
IMSSEC_API int imssec_secagree_equal(const imssec_sec_mech *a, size_t na,
                                     const imssec_sec_mech *b, size_t nb, const char **why,
                                     size_t *where);

/* ---- negotiation ---------------------------------------------------------- */

/* One integrity + encryption combination (enum imssec_sec_alg / _ealg). */
typedef struct imssec_sec_pair {
    int alg, ealg;
} imssec_sec_pair;

/* The P-CSCF's confidentiality policy (clause 7.2 and its notes). */
enum imssec_sec_conf {
    IMSSEC_CONF_SUPPORTED = 0, /* encrypt whenever the UE supports it */
    IMSSEC_CONF_REQUIRED = 1,  /* abort when the UE offers no encryption */
    IMSSEC_CONF_NEVER = 2      /* never: no ealg in Security-Server */
};

typedef struct imssec_sec_pcscf_policy {
    const imssec_sec_pair *pairs; /* supported combinations, by priority */
    size_t n_pairs;
    int confidentiality;          /* enum imssec_sec_conf */
    int udp_encap;                /* 1: P-CSCF supports UDP-enc-tun (Annex M) */
    /* The P-CSCF's own values for its Security-Server entries (clause 7.1:
     * spi_pc, spi_ps, port_pc, port_ps).  All zero: a capability list only. */
    uint32_t spi_pc, spi_ps;
    uint16_t port_pc, port_ps;
} imssec_sec_pcscf_policy;

/* The outcome of a negotiation. */
typedef struct imssec_sec_choice {
    size_t index;       /* entry of the peer's list that was chosen */
    int alg, ealg, mod; /* resolved (defaults applied) */
    uint32_t spi_c, spi_s; /* of the chosen peer entry */
    uint16_t port_c, port_s;
} imssec_sec_choice;

/* Why a negotiation failed.  clause: "7.3.2.1", "7.3.2.2", "M.7.3.2.4", ...;
 * sip_status: the response the P-CSCF should send (494), or 0 for none
 * (M.7.2: silently discard; UE side: abandon); reason: constant phrase. */
typedef struct imssec_sec_reject {
    const char *clause;
    int sip_status;
    const char *reason;
} imssec_sec_reject;

/* P-CSCF side (TS 33.203 7.2, M.7.2).  Selects the first pair of the policy
 * that the UE also offered in an acceptable ipsec-3gpp entry (prot esp, all
 * four SA parameters, a mode usable here: trans without NAT; with NAT only
 * UDP-enc-tun and only if policy->udp_encap).  Confidentiality: REQUIRED
 * skips ealg=null pairs; NEVER selects on alg alone with ealg null.  Writes
 * the Security-Server list to send into server[0..cap): every policy pair
 * (REQUIRED: encrypting pairs only; NEVER: each alg once, no ealg; else all,
 * even when the UE offered no encryption: the anti-bidding-down rule),
 * prot=esp, mod=trans or UDP-enc-tun (NAT), the P-CSCF's SPIs and ports.
 * Returns IMSSEC_OK (*choice, *n_server set), IMSSEC_E_SECAGREE_REJECT
 * (*rej set: 7.3.2.1 / 494 for no acceptable offer, prot=ah-only,
 * unsupported-only or confidentiality required; M.7.3.2.4 / 0 for a NAT
 * without UDP-enc-tun on either side), IMSSEC_E_SPACE (*n_server = entries
 * needed), IMSSEC_E_PARAM (bad policy).  Outputs untouched on error. */
IMSSEC_API int imssec_secagree_pcscf_negotiate(const imssec_sec_mech *client, size_t n_client,
                                               const imssec_sec_pcscf_policy *policy, int nat,
                                               imssec_sec_mech *server, size_t cap,
                                               size_t *n_server, imssec_sec_choice *choice,
                                               imssec_sec_reject *rej);

/* UE side (TS 33.203 7.2, M.7.2).  Chooses the first entry of the server's
 * list (ordered by q, highest first, absent q = 1000, ties in list order)
 * that is ipsec-3gpp, prot esp, an SA proposal (all four SA parameters;
 * a capability list is never one), an (alg, ealg) pair in supported[] (no
 * ealg = null), and a usable mode: UDP-enc-tun needs udp_encap; trans is
 * usable unless mod was absent and `nat` (M.7.2: a `received` in the top
 * Via of the 401).  Returns IMSSEC_OK, IMSSEC_E_SECAGREE_REJECT (7.3.2.2 or
 * M.7.2: abandon the registration) or IMSSEC_E_PARAM. */
IMSSEC_API int imssec_secagree_ue_select(const imssec_sec_mech *server, size_t n_server,
                                         const imssec_sec_pair *supported, size_t n_supported,
                                         int udp_encap, int nat, imssec_sec_choice *choice,
                                         imssec_sec_reject *rej);

/* The top Via of a message (RFC 3261 20.42), enough for NAT detection. */
typedef struct imssec_sec_via {
    const char *transport; /* "UDP", "TCP", ... */
    size_t transport_len;
    const char *host;      /* sent-by host as written (IPv6 with brackets) */
    size_t host_len;
    uint16_t port;         /* 0 if absent */
    const char *received;  /* value of `received`, NULL if absent */
    size_t received_len;
    int has_rport;
    uint16_t rport;        /* 0 if absent or valueless */
} imssec_sec_via;

/* Parse the first via-parm of a Via header value (stops at the first
 * top-level comma).  Returns IMSSEC_OK or IMSSEC_E_SYNTAX; *via untouched
 * on error.  UE side: M.7.2 NAT detection is `via.received != NULL`. */
IMSSEC_API int imssec_secagree_via_parse(const char *value, size_t len, imssec_sec_via *via);

/* P-CSCF NAT detection (M.7.2): compares the packet's source address
 * (src, 4 or 16 bytes) with the top Via sent-by host.  *nat = 1 when they
 * differ.  Returns IMSSEC_OK, IMSSEC_E_UNSUPPORTED when sent-by is a domain
 * name (the caller must resolve it, M.7.2 NOTE), IMSSEC_E_SYNTAX for a
 * malformed bracketed IPv6 reference, IMSSEC_E_PARAM. */
IMSSEC_API int imssec_secagree_nat_detect(const imssec_sec_via *via, const uint8_t *src,
                                          size_t src_len, int *nat);

/* Registered spellings ("hmac-sha-1-96", "aes-cbc", "esp", "UDP-enc-tun",
 * "ipsec-3gpp"); NULL for ABSENT/UNKNOWN/OTHER. */
IMSSEC_API const char *imssec_secagree_alg_name(int alg);
IMSSEC_API const char *imssec_secagree_ealg_name(int ealg);
IMSSEC_API const char *imssec_secagree_mode_name(int mod);
IMSSEC_API const char *imssec_secagree_kind_name(int kind);
/* ---- END secagree/ -------------------------------------------------------- */

/* ---- BEGIN esp/ ----------------------------------------------------------- */
/* ===========================================================================
 * esp/: a software ESP engine (RFC 4303) for the IMS SAs of TS 33.203
 * clauses 6.2/6.3 and Annex M: transport, tunnel and RFC 3948
 * UDP-encapsulated tunnel mode; HMAC-MD5-96 (RFC 2403) / HMAC-SHA-1-96
 * (RFC 2404); NULL / DES-EDE3-CBC (RFC 2451) / AES-128-CBC (RFC 3602);
 * RFC 6479-style anti-replay window; optional ESN (RFC 4303 Appendix A).
 *
 * One imssec_esp_sa is one direction of one SA.  It lives in caller memory,
 * holds the precomputed HMAC inner/outer states and the cipher schedules,
 * and may be copied or moved with memcpy between calls.
 * ======================================================================== */

/* Integrity algorithms.  NONE exists only to reproduce the encryption-only
 * samples of RFC 3602 section 4; TS 33.203 never negotiates it, and an SA
 * without integrity has no anti-replay protection. */
enum imssec_esp_auth {
    IMSSEC_ESP_AUTH_NONE = 0,
    IMSSEC_ESP_AUTH_HMAC_MD5_96 = 1, /* RFC 2403: 16-byte key */
    IMSSEC_ESP_AUTH_HMAC_SHA1_96 = 2 /* RFC 2404: 20-byte key */
};
/* Encryption algorithms. */
enum imssec_esp_enc {
    IMSSEC_ESP_ENC_NULL = 0,         /* RFC 2410 */
    IMSSEC_ESP_ENC_DES_EDE3_CBC = 1, /* RFC 2451: 24-byte key, 8-byte IV */
    IMSSEC_ESP_ENC_AES_CBC = 2       /* RFC 3602, 128-bit: 16-byte key and IV */
};
enum imssec_esp_mode {
    IMSSEC_ESP_TRANSPORT = 0,  /* RFC 4303 3.1.1: the IP header is kept */
    IMSSEC_ESP_TUNNEL = 1,     /* RFC 4303 3.1.2: outer IP header src -> dst */
    IMSSEC_ESP_UDP_TUNNEL = 2, /* RFC 3948 2.1 + tunnel: outer IP, UDP, ESP */
    /* RFC 3948 2.1 + transport: the packet's IP header (protocol 17), UDP
     * sport -> dport (the SA's ports), then ESP exactly as in transport
     * mode.  Outbound UDP checksum: 0 on IPv4 (RFC 3948 2.1 SHOULD);
     * computed on IPv6 (RFC 6935 allows 0 only for opted-in tunnels;
     * RFC 8200 8.1).  Inbound: the UDP length must match the IP length and
     * the destination port must be the SA's dport (else MALFORMED); a
     * keepalive or Non-ESP marker is IMSSEC_E_NOT_ESP.  RFC 3948 3.1.2 on
     * the inner transport checksum, which the NAT invalidated (no NAT-OA
     * is used): inner UDP over IPv4 gets checksum 0 (option 4); inner TCP,
     * and UDP over IPv6 (where 0 is not allowed), get the checksum
     * recomputed over the rebuilt packet's pseudo-header (option 3).
     * Other inner protocols are left as they are.  Needs
     * IMSSEC_ENABLE_UDPENCAP (else setup says IMSSEC_E_UNSUPPORTED). */
    IMSSEC_ESP_UDP_TRANSPORT = 3
};
enum imssec_esp_dir {
    IMSSEC_ESP_OUTBOUND = 0, /* protect */
    IMSSEC_ESP_INBOUND = 1   /* unprotect */
};

#define IMSSEC_ESP_ICV_LEN 12     /* both HMAC-*-96 */
#define IMSSEC_ESP_AUTH_KEY_MAX 20 /* HMAC-SHA-1-96 */
#define IMSSEC_ESP_ENC_KEY_MAX 24  /* DES-EDE3-CBC */
#define IMSSEC_ESP_IV_MAX 16       /* AES-CBC */
/* Default window: 64 bits (Linux, RFC 4303 3.4.3 "64 SHOULD"), or the
 * configured maximum when that is smaller. */
#define IMSSEC_ESP_REPLAY_DEFAULT (IMSSEC_REPLAY_WINDOW_MAX < 64 ? IMSSEC_REPLAY_WINDOW_MAX : 64)
/* Largest growth of a packet by imssec_esp_protect(): outer IPv6 40 + UDP 8
 * + SPI/seq 8 + IV 16 + padding 15 + pad length/next header 2 + ICV 12. */
#define IMSSEC_ESP_OVERHEAD_MAX 101

/* An IP address.  family 4: a[0..4) holds the address; family 6: a[0..16);
 * family 0: unset. */
typedef struct imssec_esp_addr {
    uint8_t family;
    uint8_t a[16];
} imssec_esp_addr;

/* Everything an SA is made from.  imssec_esp_params_init() sets defaults;
 * the keys are read once by imssec_esp_sa_setup() and not kept referenced. */
typedef struct imssec_esp_params {
    uint32_t spi;  /* 1..2^32-1 (0 is reserved, RFC 4303 2.1) */
    int dir;       /* enum imssec_esp_dir */
    int mode;      /* enum imssec_esp_mode */
    int auth;      /* enum imssec_esp_auth */
    int enc;       /* enum imssec_esp_enc */
    const uint8_t *auth_key; /* IK_ESP (see imssec_esp_keys) */
    size_t auth_key_len;     /* 16 for MD5, 20 for SHA-1, 0 for NONE */
    const uint8_t *enc_key;  /* CK_ESP */
    size_t enc_key_len;      /* 24 for DES-EDE3-CBC, 16 for AES, 0 for NULL */
    /* Tunnel modes: the outer header's source and destination (outbound:
     * this host -> peer; inbound: peer -> this host; inbound packets whose
     * outer addresses differ are still accepted: NAT may rewrite them).
     * Both families equal.  Ignored in transport mode. */
    imssec_esp_addr src, dst;
    /* UDP tunnel and UDP transport: UDP source/destination ports (default 4500/4500;
     * the caller updates dport when it learns the peer's NAT port). */
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

/* The SA.  All fields are private except through the functions below;
 * `stats` and `seq` may be read directly. */
typedef struct imssec_esp_sa {
    uint32_t spi;
    int dir, mode, auth, enc, esn;
    imssec_esp_addr src, dst;
    uint16_t sport, dport;
    uint32_t window;  /* replay window size in bits */
    uint64_t seq;     /* outbound: last sent; inbound: highest accepted */
    imssec_esp_stats stats;
    uint32_t setup_;  /* magic: set by imssec_esp_sa_setup, 0 after wipe */
    /* RFC 6479 ring: bit (n mod 64) of word (n / 64) mod nwords, covering
     * [seq - window + 1, seq]; one extra word so the top never aliases. */
    uint64_t replay_[(IMSSEC_REPLAY_WINDOW_MAX + 63) / 64 + 1];
    /* Opaque crypto state (an isc_hmac and an isc_cipher in imssec.c; their
     * sizes are checked there at compile time). */
    uint64_t auth_state_[80];
    uint64_t cipher_state_[128];
} imssec_esp_sa;

/* TS 33.203 Annex I: derive the ESP keys from the IMS AKA keys.
 *   auth HMAC-MD5-96:  IK_ESP = IK_IM (16 bytes)
 *   auth HMAC-SHA-1-96: IK_ESP = IK_IM || 32 zero bits (20 bytes)
 *   enc AES-CBC:        CK_ESP = CK_IM (16 bytes)
 *   enc DES-EDE3-CBC:   CK_ESP = CK1 || CK2 || CK1 with DES odd parity set
 *                       in every byte (RFC 2451), CK_IM = CK1 || CK2
 *   enc NULL:           no key (*ck_esp_len = 0)
 * ik_esp has room for IMSSEC_ESP_AUTH_KEY_MAX bytes, ck_esp for
 * IMSSEC_ESP_ENC_KEY_MAX.  Returns IMSSEC_OK, IMSSEC_E_PARAM (unknown alg,
 * or AUTH_NONE) or IMSSEC_E_UNSUPPORTED (algorithm compiled out). */
IMSSEC_API int imssec_esp_keys(int auth, int enc, const uint8_t ik_im[16],
                               const uint8_t ck_im[16], uint8_t *ik_esp, size_t *ik_esp_len,
                               uint8_t *ck_esp, size_t *ck_esp_len);

/* Defaults: dir outbound, transport, HMAC-SHA-1-96, NULL encryption, no
 * keys, no addresses, ports 4500/4500, no ESN, window
 * IMSSEC_ESP_REPLAY_DEFAULT, seq 0. */
IMSSEC_API void imssec_esp_params_init(imssec_esp_params *p);

/* Create an SA from p: validates everything, precomputes the HMAC states
 * and cipher key schedules.  Returns IMSSEC_OK; IMSSEC_E_PARAM (SPI 0, key
 * length, window not a power of two in range, address families, seq > 2^32-1
 * without ESN, enc NULL with auth NONE); IMSSEC_E_UNSUPPORTED (algorithm or
 * IPv6 / UDP encapsulation compiled out).  On error *sa is zeroed. */
IMSSEC_API int imssec_esp_sa_setup(imssec_esp_sa *sa, const imssec_esp_params *p);

/* Zeroize the SA: keys, HMAC states, schedules, window, counters. */
IMSSEC_API void imssec_esp_sa_wipe(imssec_esp_sa *sa);

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
 *     RFC 3948 UDP header inserted before ESP (see IMSSEC_ESP_UDP_TRANSPORT).
 *   Tunnel modes: an outer header sa->src -> sa->dst is added (IPv4: TTL 64,
 *     DF and TOS copied from an inner IPv4 header, ID = low 16 bits of the
 *     sequence number; IPv6: hop limit 64, traffic class copied), in UDP
 *     tunnel mode followed by the RFC 3948 UDP header (checksum 0 on IPv4,
 *     computed on IPv6).
 *   Padding 1, 2, 3, ... to the cipher block (4 bytes for NULL).
 * iv: optional (NULL = io->random supplies it); exactly the cipher's IV size
 *   (16 AES, 8 3DES, ignored for NULL).  Pass one only for known-answer
 *   tests: a reused or predictable CBC IV breaks confidentiality.
 * io: needed only when iv is NULL and the cipher has an IV.
 * Buffers: out may equal in (in place: the caller declares the buffer
 *   exclusively writable) or must not overlap it.  out_cap is checked
 *   against imssec_esp_protect_size() before anything is written.
 * Returns IMSSEC_OK (*out_len set, sa->seq advanced); IMSSEC_E_SPACE
 * (*out_len = size needed); IMSSEC_E_RANGE (the result would be longer
 * than an IP length field allows); IMSSEC_E_SEQ_EXHAUSTED (seq would pass 2^32-1,
 * or 2^64-1 with ESN: rekey); IMSSEC_E_MALFORMED (in is not a valid IPv4 /
 * IPv6 packet); IMSSEC_E_UNSUPPORTED; IMSSEC_E_CALLBACK (RNG failed);
 * IMSSEC_E_PARAM.  On error nothing is written and the SA is unchanged. */
IMSSEC_API int imssec_esp_protect(imssec_esp_sa *sa, const imssec_io *io, const uint8_t *iv,
                                  const uint8_t *in, size_t in_len, uint8_t *out,
                                  size_t out_cap, size_t *out_len);

/* Inbound (RFC 4303 3.4): unprotect the ESP IP packet in[0..in_len) (for
 * UDP tunnel mode: outer IP, UDP header, ESP).  In this order: parse ->
 * replay pre-check (with ESN: Seqh inferred per RFC 4303 Appendix A2) ->
 * ICV over SPI..ciphertext (|| Seqh with ESN), constant time -> window
 * commit -> decrypt the trailer (and in tunnel modes the inner header)
 * into a stack buffer -> strict padding check (pad length fits, every pad
 * byte is 1, 2, 3, ...), next header, inner header -> only then the rest
 * decrypted into out, and the plaintext packet rebuilt: transport: the
 * original protocol / next header and lengths restored, IPv4 checksum
 * recomputed; UDP transport: the same with the UDP header removed and the
 * inner TCP/UDP checksum handled per RFC 3948 3.1.2 (see
 * IMSSEC_ESP_UDP_TRANSPORT); tunnel: the inner packet, trimmed to its own
 * IP length (TFC padding dropped).
 * Buffers: out may equal in (in place) or must not overlap it; out_cap must
 *   be >= in_len (checked first).
 * seq: optional; on IMSSEC_OK receives the packet's full (64-bit with ESN)
 *   sequence number.
 * Returns IMSSEC_OK (*out_len); verdicts (packet dropped, outputs and the
 * input buffer unchanged, even in place; the stats counter of the same
 * name incremented): IMSSEC_E_MALFORMED (truncated, bad lengths, fragments,
 * not ESP, ciphertext not a block multiple, inner packet invalid, UDP
 * transport: UDP length or destination port wrong),
 * IMSSEC_E_NO_SA (SPI is not this SA's: the caller's demultiplexing picked
 * the wrong SA; counted in stats.no_sa), IMSSEC_E_NOT_ESP (UDP modes: a
 * keepalive or an IKE packet; not counted), IMSSEC_E_REPLAY, IMSSEC_E_ICV,
 * IMSSEC_E_BAD_PADDING, IMSSEC_E_DUMMY (next header 59: drop silently).
 * The SA is unchanged except that counter, with one exception: after the
 * ICV verified the window is committed, so BAD_PADDING, DUMMY and
 * MALFORMED-after-decrypt still consume the sequence number (RFC 4303
 * 3.4.3: the packet is authentic).  Also IMSSEC_E_SPACE (*out_len =
 * in_len, nothing else changed) and IMSSEC_E_PARAM (nothing changed). */
IMSSEC_API int imssec_esp_unprotect(imssec_esp_sa *sa, const uint8_t *in, size_t in_len,
                                    uint8_t *out, size_t out_cap, size_t *out_len,
                                    uint64_t *seq);

/* Inbound for a tunnel-mode SA when the caller holds only the ESP part,
 * e.g. the payload of a port-4500 UDP socket after imssec_esp_udp_demux()
 * said IMSSEC_UDP_ESP (esp = udp + off): esp[0..len) starts at the SPI.
 * The output is the inner IP packet; everything else (order of checks,
 * buffers, verdicts, counters) is as imssec_esp_unprotect().  Transport
 * and UDP transport SAs get IMSSEC_E_PARAM (their header is outside the ESP part).  For the
 * way out, a socket sender sends the output of imssec_esp_protect() from
 * offset 28 (IPv4 outer) or 48 (IPv6 outer) on. */
IMSSEC_API int imssec_esp_unprotect_esp(imssec_esp_sa *sa, const uint8_t *esp, size_t len,
                                        uint8_t *out, size_t out_cap, size_t *out_len,
                                        uint64_t *seq);

/* Anti-replay primitives, exposed for callers that split the work (and for
 * tests).  check: 0 if the full sequence number would be accepted now,
 * IMSSEC_E_REPLAY otherwise; changes nothing.  commit: marks it received
 * (call only after the ICV verified).  infer: RFC 4303 Appendix A2, the
 * full 64-bit number for a received low half (without ESN: seql itself). */
IMSSEC_API int imssec_esp_replay_check(const imssec_esp_sa *sa, uint64_t seq);
IMSSEC_API void imssec_esp_replay_commit(imssec_esp_sa *sa, uint64_t seq);
IMSSEC_API uint64_t imssec_esp_replay_infer(const imssec_esp_sa *sa, uint32_t seql);

/* RFC 3948 section 2 demultiplexing of a datagram received on a port-4500
 * UDP socket.  udp[0..len) starts at the UDP header (8 bytes); the UDP
 * length field, not len, decides (len may include link padding).
 * *kind: IMSSEC_UDP_ESP (*spi = the SPI, *off = offset of the ESP header in
 * udp), IMSSEC_UDP_IKE (Non-ESP marker; *off = offset of the IKE header, for
 * the key manager), IMSSEC_UDP_KEEPALIVE (1 byte 0xFF: consume silently).
 * Returns IMSSEC_OK, or IMSSEC_E_MALFORMED (truncated, UDP length below 8
 * or beyond len, an ESP header shorter than SPI + seq, an SPI of 0 that is
 * not a Non-ESP marker). */
enum imssec_udp_kind { IMSSEC_UDP_ESP = 0, IMSSEC_UDP_IKE = 1, IMSSEC_UDP_KEEPALIVE = 2 };
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
 * src -> dst, UDP sport -> dport with length 9, one byte 0xFF.  Returns
 * IMSSEC_OK, IMSSEC_E_SPACE (*out_len = size needed) or IMSSEC_E_PARAM (not
 * an outbound UDP tunnel SA). */
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
 * the built-in esp/ engine, Linux XFRM, hardware).
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
 * An SA is referred to by an imssec_sa_ref (0 = "no SA": unprotected).  A
 * ref carries a generation, so a ref to a deleted SA never matches a newer
 * SA stored in the same slot.
 */
#define IMSSEC_SA_UC_PS 0
#define IMSSEC_SA_US_PC 1
#define IMSSEC_SA_PC_US 2
#define IMSSEC_SA_PS_UC 3

/* Longest IMPI stored (bytes).  Longer IMPIs are rejected (IMSSEC_E_RANGE). */
#ifndef IMSSEC_SA_IMPI_MAX
#define IMSSEC_SA_IMPI_MAX 64
#endif

typedef uint64_t imssec_sa_ref;

enum imssec_sa_role { IMSSEC_SA_ROLE_UE = 0, IMSSEC_SA_ROLE_PCSCF = 1 };
/* Integrity algorithm (7.1). */
enum imssec_sa_alg { IMSSEC_SA_ALG_HMAC_MD5_96 = 1, IMSSEC_SA_ALG_HMAC_SHA1_96 = 2 };
/* Encryption algorithm (7.1; NULL per Annex H default). */
enum imssec_sa_ealg {
    IMSSEC_SA_EALG_NULL = 0,
    IMSSEC_SA_EALG_DES_EDE3_CBC = 1,
    IMSSEC_SA_EALG_AES_CBC = 2
};
/* Mode (7.1 transport; M.7.1 UDP-encapsulated tunnel behind a NAT). */
enum imssec_sa_mode { IMSSEC_SA_MODE_TRANS = 0, IMSSEC_SA_MODE_UDP_ENC_TUN = 1 };

/* An IPv4 (len 4) or IPv6 (len 16) address, network byte order. */
typedef struct imssec_sa_addr {
    uint8_t len;
    uint8_t b[16];
} imssec_sa_addr;

/* One SA as the data plane sees it (passed to the callbacks, returned by
 * imssec_sa_get).  Keys are the expanded ESP keys of Annex I. */
typedef struct imssec_sa_info {
    imssec_sa_ref ref;
    uint8_t which;          /* IMSSEC_SA_UC_PS ... */
    uint8_t inbound;        /* 1 if inbound at the table's owner */
    uint8_t alg, ealg, mode;
    imssec_sa_addr src, dst; /* inner addresses (M.7.1) */
    uint16_t sport, dport;   /* the protected ports (selectors) */
    uint32_t spi;
    uint16_t encap_sport, encap_dport; /* UDP-enc-tun: 4500 / port_Uenc (M.7.1); 0 if unknown */
    uint64_t expires_ms;    /* application-layer lifetime (7.4) */
    const uint8_t *ik;      /* IK_ESP: 16 (MD5) or 20 (SHA-1) bytes */
    size_t ik_len;
    const uint8_t *ck;      /* CK_ESP: 0, 16 (AES) or 24 (3DES, parity adjusted) */
    size_t ck_len;
    const char *impi;       /* the user, IMPI (7.1 rule 1); not NUL-terminated */
    size_t impi_len;
    uint64_t handle;        /* what install() stored for this SA */
} imssec_sa_info;

/* The data-plane seam.  Every callback returns 0 on success.  The table
 * never calls back into itself from a callback.
 *  install: create the SA; may store an opaque handle in *handle.  A failing
 *           install undoes the whole step (SAs installed earlier in the same
 *           step are removed again) and the event returns IMSSEC_E_CALLBACK
 *           with the state unchanged.
 *  update:  the SA's encapsulation port changed (port_Uenc learned, M.7.2).
 *           On failure nothing changes and IMSSEC_E_CALLBACK is returned.
 *  remove:  delete the SA.  The table deletes it anyway (the spec forbids
 *           further use; keys are wiped) and the event completes, returning
 *           IMSSEC_E_CALLBACK so the caller can retry in its data plane.
 *  keepalive (optional): UE behind a NAT, UDP-enc-tun: send a NAT keepalive
 *           (RFC 3948) now; scheduled by imssec_sa_tick (M.7.2). */
typedef struct imssec_sa_callbacks {
    void *user;
    int (*install)(void *user, const imssec_sa_info *sa, uint64_t *handle);
    int (*update)(void *user, const imssec_sa_info *sa);
    int (*remove)(void *user, const imssec_sa_info *sa);
    int (*keepalive)(void *user, const char *impi, size_t impi_len);
} imssec_sa_callbacks;

typedef struct imssec_sa_config {
    uint8_t role;               /* IMSSEC_SA_ROLE_* */
    uint16_t port_min, port_max; /* protected ports are drawn from here (never 5060/5061) */
    uint16_t pcscf_port_ps;     /* P-CSCF: fixed port_ps for all UEs, 0 = one per UE */
    uint32_t reg_lifetime_ms;   /* lifetime of new SAs until SM12 (7.4.1a/7.4.2a) */
    uint32_t margin_ms;         /* "shortly after the registration timer" (7.4) */
    uint32_t switch_before_ms;  /* P-CSCF: "old SAs have only a short time left" (7.4.2a) */
    uint32_t keepalive_ms;      /* UE NAT keepalive interval (M.7.2; RFC 3948: 20 s) */
} imssec_sa_config;

/* Defaults: UE or P-CSCF, ports 49152..65535, reg lifetime 64*T1 = 32 s,
 * margin 30 s, switch 10 s before expiry, keepalive 20 s. */
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

/* Event arguments; fields an event does not use are ignored. */
typedef struct imssec_sa_ev_args {
    imssec_sa_ref arrived_on;   /* SA the message arrived on, 0 = unprotected */
    uint8_t kind;               /* IMSSEC_SA_KIND_* */
    uint8_t force_unprotected;  /* UE REG_SEND: send SM1 unprotected although SAs exist */
    uint8_t nat;                /* P-CSCF REG_RECV: NAT detected (M.7.2) */
    uint8_t alg, ealg, mode;    /* CHALLENGE: negotiated by secagree/ */
    uint32_t expires_s;         /* SUCCESS: registration expiry from the 200 */
    imssec_sa_addr ue_ip;       /* UE: own (public, M.7.1) address; P-CSCF REG_RECV: packet source */
    imssec_sa_addr via_ip;      /* P-CSCF REG_RECV: address in the top Via (rule 2) */
    imssec_sa_addr pcscf_ip;    /* UE: P-CSCF address; P-CSCF: own address */
    /* The peer's values: P-CSCF REG_RECV: the UE's Security-Client
     * spi-c/spi-s/port-c/port-s (spi_uc, spi_us, port_uc, port_us); UE
     * CHALLENGE: the P-CSCF's Security-Server values (spi_pc, spi_ps,
     * port_pc, port_ps).  SPIs >= 256, ports not 0/5060/5061, c != s. */
    uint32_t peer_spi_c, peer_spi_s;
    uint16_t peer_port_c, peer_port_s;
    uint8_t ik[16], ck[16];     /* CHALLENGE: IK_IM and CK_IM (wiped by the caller) */
} imssec_sa_ev_args;

/* Event results.  protect_with is the SA for the message this step sends
 * (0 = unprotected): UE REG_SEND -> SM1 (old outbound SA or none), UE
 * CHALLENGE -> SM7 (new outbound SA), UE CHALLENGE_REJECT -> the failure
 * REGISTER, UE DEREG_SEND -> the de-REGISTER; P-CSCF CHALLENGE -> SM6,
 * SUCCESS -> SM12, FAILURE -> the failure response (7.4.1a, 7.4.2a). */
typedef struct imssec_sa_ev_out {
    imssec_sa_ref protect_with; /* see above */
    uint32_t spi_c, spi_s;      /* our Security-Client (UE) / Security-Server (P-CSCF) values */
    uint16_t port_c, port_s;
    uint8_t integrity_protected; /* P-CSCF: indication towards the S-CSCF (6.1.5) */
    uint8_t state;               /* state after the event */
} imssec_sa_ev_out;

/* One user (IMPI) record, one set record and the table.  Private fields. */
typedef struct imssec_sa_user {
    uint8_t impi_[IMSSEC_SA_IMPI_MAX];
    uint8_t impi_len_, state_, used_, flags_;
    uint32_t set_[4];        /* by role: current, old, new, registration; 0 = none, else idx+1 */
    imssec_sa_addr ue_ip_;   /* SM1 source (P-CSCF temporary storage) / own IP (UE) */
    uint32_t spi_c_, spi_s_; /* UE's spi-c/spi-s of the registration in progress */
    uint16_t port_c_, port_s_;
    uint16_t port_us_, port_ps_; /* fixed protected server ports (7.4) */
    uint8_t nat_, sm1_set_, mode_, pad_;
    uint64_t tmp_expires_ms_; /* temporary storage / awaited response deadline */
    uint64_t ka_next_ms_;     /* next NAT keepalive (UE) */
    uint64_t due_ms_;         /* earliest of the above and the sets' lifetimes */
    uint32_t heap_pos_;       /* 1 + position in the deadline heap, 0 = none */
    uint32_t pad2_;
} imssec_sa_user;

typedef struct imssec_sa_set {
    uint32_t gen_, user_;     /* generation; owning user index */
    uint8_t used_, alg_, ealg_, mode_;
    uint8_t ik_len_, ck_len_, pad_[2];
    imssec_sa_addr ue_ip_, pcscf_ip_;
    uint16_t port_uc_, port_us_, port_pc_, port_ps_, port_uenc_;
    uint16_t pad2_;
    uint32_t spi_[4];         /* by IMSSEC_SA_* */
    uint32_t pending_;        /* pending SIP transactions started on this set */
    uint64_t expires_ms_;
    uint64_t handle_[4];
    uint8_t ik_[20], ck_[24];
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
    int cb_err_;              /* a remove callback failed during this call */
    uint64_t seed_;
} imssec_sa_table;

/* Bytes of caller memory needed for `users` users and `sets` SA sets (4 SAs
 * each; a user needs at most 3 at a time, 7.1 rule 3).  0 on overflow. */
IMSSEC_API size_t imssec_sa_table_mem(size_t users, size_t sets);

/* Set up a table in mem[0..mem_len) (aligned for uint64_t, at least
 * imssec_sa_table_mem(users, sets) bytes).  cfg, cb and io are copied /
 * referenced (cb and io must outlive the table); io->random is required
 * (SPIs, ports, the hash seed).  Returns IMSSEC_OK, IMSSEC_E_PARAM (bad
 * config, misaligned memory, more than 2^24 sets), IMSSEC_E_SPACE (mem too
 * small) or IMSSEC_E_CALLBACK (random failed). */
IMSSEC_API int imssec_sa_table_setup(imssec_sa_table *t, const imssec_sa_config *cfg,
                                     const imssec_sa_callbacks *cb, const imssec_io *io,
                                     size_t users, size_t sets, void *mem, size_t mem_len);

/* Delete every SA (remove callbacks), wipe all keys and the table. */
IMSSEC_API void imssec_sa_table_wipe(imssec_sa_table *t);

/* The user record for impi: found (IMSSEC_OK) or, if create is 1, created in
 * state IDLE.  *user_idx receives its index.  IMSSEC_E_NOT_FOUND,
 * IMSSEC_E_SPACE (no free user record), IMSSEC_E_RANGE (IMPI too long or
 * empty).  O(1). */
IMSSEC_API int imssec_sa_user_lookup(imssec_sa_table *t, const char *impi, size_t impi_len,
                                     int create, uint32_t *user_idx);

/* Forget a user record in state IDLE (P-CSCF: after de-registration or
 * expiry).  IMSSEC_OK, IMSSEC_E_STATE (not IDLE), IMSSEC_E_PARAM. */
IMSSEC_API int imssec_sa_user_release(imssec_sa_table *t, uint32_t user_idx);

/* Current state of a user (IMSSEC_SA_ST_*), or -1 for a bad index. */
IMSSEC_API int imssec_sa_state(const imssec_sa_table *t, uint32_t user_idx);

/* Feed one event to a user's state machine (UE or P-CSCF by the table's
 * role).  Every (state, event) pair either takes the documented transition
 * (see sa/sa.c, table sa_rules) or returns IMSSEC_E_STATE and changes
 * nothing.  Returns IMSSEC_OK, IMSSEC_E_STATE, IMSSEC_E_SA_WRONG (message
 * protected with the wrong SA, or unprotected where protection is required:
 * discard it, nothing changed), IMSSEC_E_SA_RULE2 / _RULE3 / _LIMIT / _NAT
 * (7.1 rules 2 and 3, M.7.3.2.4: abort the registration, nothing changed),
 * IMSSEC_E_EXISTS (a peer SPI equals one of our inbound SPIs, 7.1: the
 * peer must choose others), IMSSEC_E_UNSUPPORTED (algorithm or mode not
 * compiled in), IMSSEC_E_SPACE (no free set, or no free SPI / port found),
 * IMSSEC_E_CALLBACK (see imssec_sa_callbacks), IMSSEC_E_PARAM.  out may be
 * NULL. */
IMSSEC_API int imssec_sa_event(imssec_sa_table *t, uint32_t user_idx, int event,
                               const imssec_sa_ev_args *a, imssec_sa_ev_out *out,
                               uint64_t now_ms);

/* Which SA protects an outgoing non-REGISTER message of this user (7.4.1a,
 * 7.4.2a).  is_request: 1 for a request we start (our client port to the
 * peer's server port), 0 for a response (our server port to the peer's
 * client port); for a response, in_ref is the SA the request arrived on (a
 * pending transaction stays on its set).  IMSSEC_OK with *sa, or
 * IMSSEC_E_STATE when no SA may be used (IMS service not allowed yet). */
IMSSEC_API int imssec_sa_route(imssec_sa_table *t, uint32_t user_idx, int is_request,
                               imssec_sa_ref in_ref, imssec_sa_ref *sa);

/* A SIP transaction started (begin) or ended / timed out (end) on the set of
 * sa (pending transactions, 7.4).  end may delete old SAs that waited only
 * for it.  IMSSEC_E_NOT_FOUND for a stale ref; IMSSEC_E_CALLBACK as above. */
IMSSEC_API int imssec_sa_txn_begin(imssec_sa_table *t, imssec_sa_ref sa);
IMSSEC_API int imssec_sa_txn_end(imssec_sa_table *t, imssec_sa_ref sa, uint64_t now_ms);

/* Lookups, O(1): inbound SA by SPI; SA by (UE IP, UE port, P-CSCF port,
 * direction) (7.1 rule 4, M.7.1 rule 7); the set's user index.  Return
 * IMSSEC_OK or IMSSEC_E_NOT_FOUND. */
IMSSEC_API int imssec_sa_find_spi(const imssec_sa_table *t, uint32_t spi, imssec_sa_ref *sa);
IMSSEC_API int imssec_sa_find_ports(const imssec_sa_table *t, const imssec_sa_addr *ue_ip,
                                    uint16_t ue_port, uint16_t pcscf_port, int uplink,
                                    imssec_sa_ref *sa);
IMSSEC_API int imssec_sa_owner(const imssec_sa_table *t, imssec_sa_ref sa, uint32_t *user_idx);

/* Describe an SA (keys point into the table: valid until the next call that
 * may delete it).  IMSSEC_E_NOT_FOUND for a stale ref. */
IMSSEC_API int imssec_sa_get(const imssec_sa_table *t, imssec_sa_ref sa, imssec_sa_info *info);

/* P-CSCF, M.7.2: the first UDP-encapsulated packet on inbound SA sa came
 * from NAT port port_uenc; learn it for the set's outbound SAs (update
 * callbacks).  Later packets with the same port are no-ops.  IMSSEC_OK,
 * IMSSEC_E_NOT_FOUND, IMSSEC_E_STATE (not UDP-enc-tun), IMSSEC_E_CALLBACK. */
IMSSEC_API int imssec_sa_learn_uenc(imssec_sa_table *t, imssec_sa_ref sa, uint16_t port_uenc);

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

/* Names for logs: "ACTIVE", "CHALLENGE", ...; never NULL. */
IMSSEC_API const char *imssec_sa_state_name(int state);
IMSSEC_API const char *imssec_sa_event_name(int event);

/* Snapshot of the whole table into out[0..cap) (versioned, SHA-256
 * protected); keys are included only if with_keys is 1 (otherwise restore
 * brings the records back without keys and without calling install).
 * IMSSEC_OK or IMSSEC_E_SPACE (*out_len = size needed, nothing written). */
IMSSEC_API int imssec_sa_snapshot(const imssec_sa_table *t, int with_keys, uint8_t *out,
                                  size_t cap, size_t *out_len);

/* Restore a snapshot into a table set up with the same role and at least
 * the same capacities, replacing its contents (no callbacks are made: the
 * data plane is assumed to have kept its SAs).  IMSSEC_OK, IMSSEC_E_SYNTAX
 * (truncated, corrupted, wrong version or role: the table is unchanged),
 * IMSSEC_E_SPACE (capacities too small). */
IMSSEC_API int imssec_sa_restore(imssec_sa_table *t, const uint8_t *in, size_t len);

/* ---------------------------------------------------------------------------
 * The default data plane: SAs installed into esp/ engine objects held in a
 * caller array.  imssec_sa_esp_callbacks() fills a callback struct whose
 * install sets up one imssec_esp_sa per SA (handle = slot + 1), update
 * applies the learned port_Uenc, remove wipes the slot.  Transport mode maps
 * to IMSSEC_ESP_TRANSPORT, UDP-enc-tun to IMSSEC_ESP_UDP_TUNNEL with the
 * SA's addresses as outer addresses (a UE behind a NAT must set the outer
 * source to its local address itself: sa/ stores only the public one,
 * M.7.1).  The pool must outlive the table. */
typedef struct imssec_sa_esp_pool {
    imssec_esp_sa *sas;
    size_t cap, used, cursor_;
    uint32_t replay_window; /* 0 = IMSSEC_ESP_REPLAY_DEFAULT */
} imssec_sa_esp_pool;

IMSSEC_API void imssec_sa_esp_pool_init(imssec_sa_esp_pool *p, imssec_esp_sa *sas, size_t cap);
IMSSEC_API void imssec_sa_esp_callbacks(imssec_sa_callbacks *cb, imssec_sa_esp_pool *p);
/* The esp/ SA behind an sa/ ref (NULL for a stale ref or another data plane). */
IMSSEC_API imssec_esp_sa *imssec_sa_esp_of(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                           imssec_sa_ref sa);
/* ---- END sa/ -------------------------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* IMSSEC_H */
