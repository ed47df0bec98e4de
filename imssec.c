/*
 * imssec.c -- the only file to compile.  Everything below is one translation
 * unit: configuration checks, then the shared internals and the crypto seam
 * (core/, the one place that includes mbedTLS), then the modules.
 *
 * Every name defined here or in a module without the `imssec_` prefix has
 * internal linkage (`static`); test/run.sh checks this with nm.  Internal
 * names carry a prefix: `isc_` for core/, then one per module (`aka_`,
 * `dig_`, `sec_`, `esp_`, `sa_`, `srtp_`).
 *
 * `make dist` inlines the included sources into dist/imssec.c; nothing else
 * changes, so the two-file drop behaves exactly like this tree.
 *
 * SPDX-License-Identifier: MIT
 */
#include "imssec.h"

#include <string.h> /* memcpy, memset, memcmp on non-secret data; strlen */

/* ===========================================================================
 * 1. Configuration checks: every knob of imssec.h's Configuration block
 * ======================================================================== */

#if (IMSSEC_ENABLE_3DES != 0 && IMSSEC_ENABLE_3DES != 1) ||                   \
    (IMSSEC_ENABLE_HMAC_MD5 != 0 && IMSSEC_ENABLE_HMAC_MD5 != 1) ||           \
    (IMSSEC_ENABLE_IPV6 != 0 && IMSSEC_ENABLE_IPV6 != 1) ||                   \
    (IMSSEC_ENABLE_UDPENCAP != 0 && IMSSEC_ENABLE_UDPENCAP != 1) ||           \
    (IMSSEC_ENABLE_LOG != 0 && IMSSEC_ENABLE_LOG != 1)
#error "IMSSEC_ENABLE_* options must be 0 or 1"
#endif
#if IMSSEC_REPLAY_WINDOW_MAX < 32 || IMSSEC_REPLAY_WINDOW_MAX > 4096 ||        \
    (IMSSEC_REPLAY_WINDOW_MAX & (IMSSEC_REPLAY_WINDOW_MAX - 1)) != 0
#error "IMSSEC_REPLAY_WINDOW_MAX must be a power of two between 32 and 4096"
#endif
#if IMSSEC_AKA_IND_BITS_MAX < 0 || IMSSEC_AKA_IND_BITS_MAX > 10
#error "IMSSEC_AKA_IND_BITS_MAX must be 0..10"
#endif
#if IMSSEC_AKA_NONCE_DATA_MAX < 1 || IMSSEC_AKA_NONCE_DATA_MAX > 65535
#error "IMSSEC_AKA_NONCE_DATA_MAX must be 1..65535"
#endif
#if IMSSEC_DIGEST_EXTRA_MAX < 1 || IMSSEC_DIGEST_EXTRA_MAX > 64
#error "IMSSEC_DIGEST_EXTRA_MAX must be 1..64"
#endif
#if IMSSEC_DIGEST_NONCE_MAX < 32 || IMSSEC_DIGEST_NONCE_MAX > 1024
#error "IMSSEC_DIGEST_NONCE_MAX must be 32..1024"
#endif
#if IMSSEC_SA_IMPI_MAX < 1 || IMSSEC_SA_IMPI_MAX > 255
#error "IMSSEC_SA_IMPI_MAX must be 1..255"
#endif
#if IMSSEC_SRTP_KEYS_MAX < 1 || IMSSEC_SRTP_KEYS_MAX > 16
#error "IMSSEC_SRTP_KEYS_MAX must be 1..16"
#endif
#if IMSSEC_SRTP_MKI_MAX < 1 || IMSSEC_SRTP_MKI_MAX > 128
#error "IMSSEC_SRTP_MKI_MAX must be 1..128"
#endif
#if IMSSEC_SRTP_REPLAY_WINDOW_MAX < 64 || IMSSEC_SRTP_REPLAY_WINDOW_MAX > 32768 ||   \
    (IMSSEC_SRTP_REPLAY_WINDOW_MAX & (IMSSEC_SRTP_REPLAY_WINDOW_MAX - 1)) != 0
#error "IMSSEC_SRTP_REPLAY_WINDOW_MAX must be a power of two between 64 and 32768"
#endif

/* ===========================================================================
 * 2. core/: internals every module uses, the crypto seam, the RFC 3261
 *    lexer, addresses, and the public core functions
 * ======================================================================== */

/* ---- BEGIN core/ ---- */
#include "core/util.c"
#include "core/crypto.c"
#include "core/lex.c"
#include "core/addr.c"
#include "core/core.c"
#include "core/tls_partner.c"
/* ---- END core/ ---- */

/* ===========================================================================
 * 3. Modules.  Each module owns the block between its markers; list its
 *    source files in dependency order.
 * ======================================================================== */

/* ---- BEGIN aka/ ---- */
#include "aka/milenage.c"
#include "aka/sqn.c"
#include "aka/aka.c"
#include "aka/vstore.c"
#include "aka/digest_alg.c"
#include "aka/digest_parse.c"
#include "aka/digest_build.c"
#include "aka/digest_server.c"
#include "aka/digest_client.c"
/* ---- END aka/ ---- */

/* ---- BEGIN secagree/ ---- */
#include "secagree/secagree.c"
#include "secagree/negotiate.c"
#include "secagree/via.c"
/* ---- END secagree/ ---- */

/* ---- BEGIN esp/ ---- */
#include "esp/keys.c"
#include "esp/replay.c"
#include "esp/esp.c"
#include "esp/udpencap.c"
#include "esp/flow.c"
/* ---- END esp/ ---- */

/* ---- BEGIN sa/ ---- */
#include "sa/index.c"
#include "sa/table.c"
#include "sa/alloc.c"
#include "sa/rules.c"
#include "sa/ue.c"
#include "sa/pcscf.c"
#include "sa/fsm.c"
#include "sa/impu.c"
#include "sa/tick.c"
#include "sa/snapshot.c"
#include "sa/check.c"
#include "sa/esp_adapter.c"
#include "sa/reg_ue.c"
#include "sa/reg_pcscf.c"
/* ---- END sa/ ---- */

/* ---- BEGIN media/ ---- */
#include "media/srtp_kdf.c"
#include "media/srtp_replay.c"
#include "media/srtp.c"
#include "media/sdes.c"
#include "media/sdp_text.c"
#include "media/sdp.c"
/* ---- END media/ ---- */
