/*
 * cmd_media.c -- commands over the media/ module: the SDES a=crypto
 * attribute (RFC 4568 as TS 33.328 Annex E profiles it) parsed and
 * answered, one SRTP / SRTCP packet (RFC 3711) protected or unprotected,
 * the SRTP key derivation (RFC 3711 4.3), and a classic pcap capture whose
 * SRTP is replaced by the plain RTP so that Wireshark can decode and play
 * it.
 *
 * Several a=crypto lines in one option.  The frame (cli/main.c) takes an
 * option once (core.t checks that), so --offer and --crypto hold one
 * attribute per text line, as they stand in the SDP: --offer "$(grep
 * '^a=crypto:' offer.sdp)".  A trailing CR is dropped, empty lines are
 * skipped.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MD_PKT_MAX 65535
#define MD_LINES_MAX 16  /* a=crypto lines per --crypto (one SRTP session each) */
#define MD_OFFER_MAX 64  /* a=crypto lines per --offer */
#define MD_LINE_OUT 1024 /* one built attribute */

static const char *const md_suite_list =
    "AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, "
    "AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM";

/* ---- option values ----------------------------------------------------------- */

/* A suite by its RFC 4568 6.2 / RFC 6188 / RFC 7714 name (case-sensitive,
 * RFC 4568 9.2). */
static int md_suite_name(const char *opt, const char *p, size_t n)
{
    imssec_str s;
    int suite;
    s.p = p;
    s.n = n;
    suite = imssec_srtp_suite_from_name(s);
    if (suite == IMSSEC_SRTP_SUITE_UNKNOWN)
        cli_fail("--%s: unknown suite '%.*s' (want one of %s)", opt, (int)n, p, md_suite_list);
    return suite;
}

static int md_suite(cli_ctx *c)
{
    const char *v = cli_get(c, "suite");
    return v ? md_suite_name("suite", v, strlen(v)) : IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80;
}

/* "A,B,...": suites (an offer lists them in this order). */
static size_t md_suites(cli_ctx *c, const char *opt, int *out, size_t cap)
{
    const char *v = cli_need(c, opt), *p = v;
    size_t n = 0;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == cap)
            cli_fail("--%s: more than %u suites", opt, (unsigned)cap);
        out[n++] = md_suite_name(opt, p, len);
        p += len;
        if (*p == ',' && !*++p)
            cli_fail("--%s: trailing comma", opt);
    }
    if (n == 0)
        cli_fail("--%s: empty", opt);
    return n;
}

static const struct {
    unsigned bit;
    const char *name;
} md_flag_tab[] = {{IMSSEC_SRTP_UNENCRYPTED_SRTP, "UNENCRYPTED_SRTP"},
                   {IMSSEC_SRTP_UNENCRYPTED_SRTCP, "UNENCRYPTED_SRTCP"},
                   {IMSSEC_SRTP_UNAUTHENTICATED_SRTP, "UNAUTHENTICATED_SRTP"}};

/* The SDES session parameters (RFC 4568 6.3.2, 6.3.3) as a comma list;
 * an empty value is no flag. */
static unsigned md_flags(cli_ctx *c, const char *opt)
{
    const char *v = cli_get(c, opt), *p;
    unsigned f = 0;
    if (!v)
        return 0;
    for (p = v; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p), i;
        for (i = 0; i < sizeof md_flag_tab / sizeof md_flag_tab[0]; i++)
            if (strlen(md_flag_tab[i].name) == len && memcmp(md_flag_tab[i].name, p, len) == 0)
                break;
        if (i == sizeof md_flag_tab / sizeof md_flag_tab[0])
            cli_fail("--%s: unknown flag '%.*s' (want UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, "
                     "UNAUTHENTICATED_SRTP)",
                     opt, (int)len, p);
        f |= md_flag_tab[i].bit;
        p += len;
        if (*p == ',' && !*++p)
            cli_fail("--%s: trailing comma", opt);
    }
    return f;
}

static void md_out_flags(cli_ctx *c, const char *name, unsigned flags)
{
    char buf[80];
    size_t i, n = 0;
    buf[0] = 0;
    for (i = 0; i < sizeof md_flag_tab / sizeof md_flag_tab[0]; i++)
        if (flags & md_flag_tab[i].bit)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "",
                                  md_flag_tab[i].name);
    cli_out_str(c, name, buf);
}

/* The a=crypto lines of one option, one per text line. */
static size_t md_lines(const char *opt, const char *v, imssec_str *out, size_t cap)
{
    size_t n = 0;
    while (*v) {
        const char *nl = strchr(v, '\n');
        size_t len = nl ? (size_t)(nl - v) : strlen(v);
        if (len && v[len - 1] == '\r')
            len--;
        if (len) {
            if (n == cap)
                cli_fail("--%s: at most %u a=crypto line%s", opt, (unsigned)cap,
                         cap == 1 ? "" : "s");
            out[n].p = v;
            out[n].n = len;
            n++;
        }
        v += nl ? (size_t)(nl - v) + 1 : strlen(v);
    }
    if (n == 0)
        cli_fail("--%s: no a=crypto line", opt);
    return n;
}

/* The verdict names of result= (as esp-unprotect's). */
static const char *md_result(int rc)
{
    switch (rc) {
    case IMSSEC_OK: return "ok";
    case IMSSEC_E_SYNTAX: return "syntax";
    case IMSSEC_E_UNSUPPORTED: return "unsupported";
    case IMSSEC_E_RANGE: return "range";
    case IMSSEC_E_ICV: return "icv_failure";
    case IMSSEC_E_REPLAY: return "replay";
    case IMSSEC_E_MALFORMED: return "malformed";
    case IMSSEC_E_NO_SA: return "no_sa";
    case IMSSEC_E_SEQ_EXHAUSTED: return "seq_exhausted";
    case IMSSEC_E_SDES_REJECT: return "sdes_reject";
    case IMSSEC_E_INSECURE: return "insecure";
    case IMSSEC_E_STATE: return "state";
    case IMSSEC_E_NOT_FOUND: return "not_found";
    default: return NULL;
    }
}

static void md_out_reason(cli_ctx *c, const imssec_errinfo *e)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s%s", e->clause ? e->clause : "", e->clause ? ": " : "",
             e->what ? e->what : "");
    cli_out_str(c, "reason", buf);
}

/* A line that must parse (keys the user hands us): a refusal is bad input. */
static void md_parse_or_fail(const char *opt, size_t line, size_t nlines, imssec_str v,
                             imssec_sdes_crypto *x)
{
    imssec_errinfo e;
    int rc;
    memset(&e, 0, sizeof e);
    rc = imssec_sdes_parse(v, x, &e);
    if (rc == IMSSEC_OK)
        return;
    if (nlines > 1)
        cli_fail("--%s line %u: %s at offset %u: %s (%s)", opt, (unsigned)line + 1,
                 imssec_strerror(rc), (unsigned)e.offset, e.what ? e.what : "",
                 e.clause ? e.clause : "");
    cli_fail("--%s: %s at offset %u: %s (%s)", opt, imssec_strerror(rc), (unsigned)e.offset,
             e.what ? e.what : "", e.clause ? e.clause : "");
}

static void md_out_line(cli_ctx *c, const char *name, const imssec_sdes_crypto *x)
{
    static char buf[MD_LINE_OUT];
    size_t n = 0;
    int rc = imssec_sdes_build(x, buf, sizeof buf, &n);
    if (rc != IMSSEC_OK)
        cli_fail("cannot build %s: %s", name, imssec_strerror(rc));
    cli_out_strn(c, name, buf, n);
    imssec_wipe(buf, sizeof buf);
}

static int md_urandom(void *user, uint8_t *out, size_t len)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got;
    (void)user;
    if (!f)
        return -1;
    got = fread(out, 1, len, f);
    fclose(f);
    return got == len ? 0 : -1;
}

/* ---- sdes-parse ------------------------------------------------------------------ */

static const cli_opt sdes_parse_opts[] = {
    {"value", 0, "one a=crypto attribute (with or without the a=crypto: prefix)"},
    {NULL, 0, NULL}};

static int cmd_sdes_parse(cli_ctx *c)
{
    const char *v = cli_need(c, "value");
    imssec_sdes_crypto x;
    imssec_errinfo e;
    char key[32];
    size_t i;
    int rc;
    memset(&e, 0, sizeof e);
    rc = imssec_sdes_parse(imssec_cstr(v), &x, &e);
    if (rc != IMSSEC_OK) {
        /* a refused line is a verdict (RFC 4568 7.1.2: the answerer skips it) */
        if (!md_result(rc))
            cli_fail("sdes-parse: %s (%s)", imssec_strerror(rc), imssec_errname(rc));
        cli_out_str(c, "result", md_result(rc));
        md_out_reason(c, &e);
        cli_out_uint(c, "offset", e.offset);
        return 0;
    }
    cli_out_str(c, "result", "ok");
    cli_out_uint(c, "tag", x.tag);
    cli_out_str(c, "suite", imssec_srtp_suite_name(x.suite));
    cli_out_uint(c, "keys", x.n_keys);
    for (i = 0; i < x.n_keys; i++) {
        const imssec_sdes_key *k = &x.keys[i];
        snprintf(key, sizeof key, "key.%u.key", (unsigned)i);
        cli_out_hex(c, key, k->key, imssec_srtp_suite_key_len(x.suite));
        snprintf(key, sizeof key, "key.%u.salt", (unsigned)i);
        cli_out_hex(c, key, k->salt, imssec_srtp_suite_salt_len(x.suite));
        snprintf(key, sizeof key, "key.%u.lifetime", (unsigned)i);
        if (k->lifetime)
            cli_out_uint(c, key, k->lifetime);
        else
            cli_out_str(c, key, ""); /* absent: the suite's maximum applies */
        snprintf(key, sizeof key, "key.%u.mki", (unsigned)i);
        cli_out_hex(c, key, k->mki, k->mki_len);
        snprintf(key, sizeof key, "key.%u.mki_len", (unsigned)i);
        cli_out_uint(c, key, k->mki_len);
    }
    md_out_flags(c, "flags", x.flags);
    if (x.wsh)
        cli_out_uint(c, "wsh", x.wsh);
    else
        cli_out_str(c, "wsh", "");
    cli_out_str(c, "fec_order", x.fec_order == 1 ? "FEC_SRTP" : x.fec_order == 2 ? "SRTP_FEC" : "");
    cli_out_uint(c, "n_ignored", x.n_ignored);
    md_out_line(c, "canonical", &x);
    imssec_sdes_wipe(&x);
    return 0;
}

/* ---- sdes-answer ----------------------------------------------------------------- */

static const cli_opt sdes_answer_opts[] = {
    {"offer", 0, "the offered a=crypto lines of one media section, one per text line"},
    {"suites", 0, "suites the answerer runs: A,B,... (default AES_CM_128_HMAC_SHA1_80)"},
    {"flags", 0, "session parameters it agrees to: UNENCRYPTED_SRTP,UNENCRYPTED_SRTCP,..."},
    {"insecure-hop", 1, "the SIP hop carrying the answer has no confidentiality (TS 33.328 6.2.1.2)"},
    {"allow-insecure", 1, "with --insecure-hop: send the key anyway (test networks only)"},
    {"key", 0, "the answer's master key, hex (default: fresh random)"},
    {"salt", 0, "the answer's master salt, hex (with --key)"},
    {NULL, 0, NULL}};

/* A fixed-output imssec_io.random: the library draws the answer's master
 * key, then its master salt (imssec_sdes_new_key()); this hands out --key
 * and --salt in that order, and refuses any other request. */
typedef struct md_fixed {
    const uint8_t *part[2];
    size_t len[2];
    size_t next;
} md_fixed;

static int md_fixed_random(void *user, uint8_t *out, size_t len)
{
    md_fixed *f = (md_fixed *)user;
    if (f->next >= 2 || len != f->len[f->next])
        return -1;
    memcpy(out, f->part[f->next], len);
    f->next++;
    return 0;
}

/* For the dry run that learns the chosen suite before --key is checked. */
static int md_zero_random(void *user, uint8_t *out, size_t len)
{
    (void)user;
    memset(out, 0, len);
    return 0;
}

static int cmd_sdes_answer(cli_ctx *c)
{
    static imssec_str offer[MD_OFFER_MAX];
    static imssec_sdes_crypto chosen, answer;
    int suites[8];
    uint8_t key[IMSSEC_SRTP_MASTER_KEY_MAX], salt[IMSSEC_SRTP_MASTER_SALT_MAX];
    imssec_sdes_policy pol;
    imssec_io io;
    imssec_errinfo e;
    md_fixed fx;
    size_t n = md_lines("offer", cli_need(c, "offer"), offer, MD_OFFER_MAX), idx = 0;
    size_t kl = 0, sl = 0;
    int fixed = cli_has(c, "key") || cli_has(c, "salt"), rc;
    memset(&pol, 0, sizeof pol);
    if (cli_has(c, "suites")) {
        pol.suites = suites;
        pol.n_suites = md_suites(c, "suites", suites, sizeof suites / sizeof suites[0]);
    }
    pol.flags_ok = md_flags(c, "flags");
    if (cli_has(c, "allow-insecure") && !cli_has(c, "insecure-hop"))
        cli_fail("--allow-insecure needs --insecure-hop");
    pol.hop_confidential = !cli_has(c, "insecure-hop");
    pol.allow_insecure_hop = cli_has(c, "allow-insecure");
    memset(&io, 0, sizeof io);
    io.random = md_urandom;
    if (fixed) {
        kl = cli_hex(c, "key", key, 1, sizeof key);
        sl = cli_hex(c, "salt", salt, 1, sizeof salt);
        io.random = md_zero_random; /* dry run: which suite, so which lengths */
    }
    memset(&e, 0, sizeof e);
    rc = imssec_sdes_answer(offer, n, &pol, &io, &chosen, &answer, &idx, &e);
    if (rc == IMSSEC_OK && fixed) {
        size_t wk = imssec_srtp_suite_key_len(answer.suite);
        size_t ws = imssec_srtp_suite_salt_len(answer.suite);
        if (kl != wk)
            cli_fail("--key: the chosen %s needs %u bytes, got %u",
                     imssec_srtp_suite_name(answer.suite), (unsigned)wk, (unsigned)kl);
        if (sl != ws)
            cli_fail("--salt: the chosen %s needs %u bytes, got %u",
                     imssec_srtp_suite_name(answer.suite), (unsigned)ws, (unsigned)sl);
        memset(&fx, 0, sizeof fx);
        fx.part[0] = key;
        fx.len[0] = kl;
        fx.part[1] = salt;
        fx.len[1] = sl;
        io.random = md_fixed_random;
        io.user = &fx;
        memset(&e, 0, sizeof e);
        rc = imssec_sdes_answer(offer, n, &pol, &io, &chosen, &answer, &idx, &e);
    }
    imssec_wipe(key, sizeof key);
    imssec_wipe(salt, sizeof salt);
    if (rc == IMSSEC_E_SDES_REJECT || rc == IMSSEC_E_INSECURE) {
        /* verdicts: reject the media stream (RFC 4568 7.1.2) / do not send
         * the key over that hop (TS 33.328 6.2.1.2) */
        imssec_sdes_wipe(&chosen);
        imssec_sdes_wipe(&answer);
        cli_out_str(c, "result", md_result(rc));
        md_out_reason(c, &e);
        return 0;
    }
    if (rc != IMSSEC_OK)
        cli_fail("sdes-answer: %s (%s)", imssec_strerror(rc), imssec_errname(rc));
    cli_out_str(c, "result", "ok");
    cli_out_uint(c, "index", idx);
    cli_out_uint(c, "tag", answer.tag);
    cli_out_str(c, "suite", imssec_srtp_suite_name(answer.suite));
    md_out_flags(c, "flags", answer.flags);
    cli_out_hex(c, "key", answer.keys[0].key, imssec_srtp_suite_key_len(answer.suite));
    cli_out_hex(c, "salt", answer.keys[0].salt, imssec_srtp_suite_salt_len(answer.suite));
    md_out_line(c, "answer", &answer);
    imssec_sdes_wipe(&chosen);
    imssec_sdes_wipe(&answer);
    return 0;
}

/* ---- srtp-protect / srtp-unprotect ------------------------------------------------- */

#define MD_SRTP_OPTS                                                                   \
    {"suite", 0, "crypto suite (default AES_CM_128_HMAC_SHA1_80)"},                    \
    {"key", 0, "master key, hex (16 or 32 bytes, as the suite)"},                      \
    {"salt", 0, "master salt, hex (14 bytes; 12 for the GCM suites)"},                 \
    {"mki", 0, "the key's MKI as sent on the wire, hex (default: none)"},              \
    {"flags", 0, "UNENCRYPTED_SRTP,UNENCRYPTED_SRTCP,UNAUTHENTICATED_SRTP"},           \
    {"crypto", 0, "instead of --suite/--key/--salt/--mki/--flags: an a=crypto line"},  \
    {"packet", 0, "the RTP (or with --rtcp the compound RTCP) packet, hex"},           \
    {"rtcp", 1, "SRTCP (RFC 3711 3.4) instead of SRTP"}

static const cli_opt protect_opts[] = {
    MD_SRTP_OPTS,
    {"roc", 0, "SRTP: the stream's rollover counter (default 0; index = ROC||SEQ)"},
    {"index", 0, "SRTCP: this packet's SRTCP index, 0..2^31-1 (default 0)"},
    {NULL, 0, NULL}};

static const cli_opt unprotect_opts[] = {
    MD_SRTP_OPTS,
    {"roc", 0, "SRTP: the sender's rollover counter (default 0)"},
    {NULL, 0, NULL}};

/* Key material a session is set up from (kept until setup returns). */
typedef struct md_keys {
    uint8_t key[IMSSEC_SRTP_MASTER_KEY_MAX], salt[IMSSEC_SRTP_MASTER_SALT_MAX];
    uint8_t mki[IMSSEC_SRTP_MKI_MAX];
    imssec_srtp_key k[IMSSEC_SRTP_KEYS_MAX];
    imssec_sdes_crypto x;
} md_keys;

static void md_session(cli_ctx *c, int dir, imssec_srtp_session *s, imssec_srtp_stream *st,
                       size_t cap)
{
    static md_keys mk;
    imssec_srtp_params p;
    imssec_errinfo e;
    int rc;
    if (cli_one_of(c, "key", "crypto")) {
        static imssec_str line[1];
        if (cli_has(c, "suite") || cli_has(c, "salt") || cli_has(c, "mki") || cli_has(c, "flags"))
            cli_fail("--crypto carries suite, key, salt, MKI and flags: give none of those");
        md_lines("crypto", cli_need(c, "crypto"), line, 1);
        md_parse_or_fail("crypto", 0, 1, line[0], &mk.x);
        /* the line's keys are the sender's: outbound to protect, inbound
         * to unprotect; the first key sends */
        rc = imssec_sdes_srtp_params(&mk.x, dir, &p, mk.k);
        if (rc != IMSSEC_OK)
            cli_fail("--crypto: %s", imssec_strerror(rc));
    } else {
        int suite = md_suite(c);
        size_t kl = imssec_srtp_suite_key_len(suite), sl = imssec_srtp_suite_salt_len(suite);
        imssec_srtp_params_init(&p);
        p.suite = suite;
        p.dir = dir;
        p.flags = md_flags(c, "flags");
        memset(mk.k, 0, sizeof mk.k);
        cli_hex(c, "key", mk.key, kl, kl);
        cli_hex(c, "salt", mk.salt, sl, sl);
        mk.k[0].key = mk.key;
        mk.k[0].key_len = kl;
        mk.k[0].salt = mk.salt;
        mk.k[0].salt_len = sl;
        if (cli_has(c, "mki")) {
            mk.k[0].mki_len = cli_hex(c, "mki", mk.mki, 1, IMSSEC_SRTP_MKI_MAX);
            mk.k[0].mki = mk.mki;
        }
        p.keys = mk.k;
        p.key_count = 1;
    }
    p.auto_streams = 1;
    memset(&e, 0, sizeof e);
    rc = imssec_srtp_session_setup(s, &p, st, cap, &e);
    imssec_wipe(&mk, sizeof mk);
    if (rc != IMSSEC_OK)
        cli_fail("SRTP parameters rejected: %s (%s%s%s)", imssec_strerror(rc),
                 e.param ? e.param : "", e.param ? ": " : "", e.what ? e.what : "");
}

static uint32_t md_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Seed the packet's stream (its SSRC: RFC 3550 5.1 / 6.4.1) with a ROC or
 * an SRTCP index; a packet too short to carry an SSRC is left to the
 * library, which refuses it as malformed. */
static void md_seed(cli_ctx *c, imssec_srtp_session *s, const uint8_t *pkt, size_t n, int rtcp,
                    int outbound)
{
    imssec_srtp_stream_state st;
    imssec_errinfo e;
    int rc;
    memset(&st, 0, sizeof st);
    if (rtcp) {
        if (cli_has(c, "roc"))
            cli_fail("--roc is for SRTP; SRTCP packets carry their index (RFC 3711 3.4)");
        if (!outbound || !cli_has(c, "index"))
            return;
        st.rtcp_index = (uint32_t)cli_uint(c, "index", 0, 0x7fffffffu);
        if (n < IMSSEC_SRTP_RTCP_HEADER_MIN)
            return;
    } else {
        if (outbound && cli_has(c, "index"))
            cli_fail("--index is for --rtcp; SRTP takes --roc");
        if (!cli_has(c, "roc"))
            return;
        st.roc = (uint32_t)cli_uint(c, "roc", 0, UINT32_MAX);
        if (n < IMSSEC_SRTP_RTP_HEADER_MIN)
            return;
    }
    memset(&e, 0, sizeof e);
    rc = imssec_srtp_stream_add(s, md_be32(pkt + (rtcp ? 4 : 8)), &st, &e);
    if (rc != IMSSEC_OK)
        cli_fail("stream: %s", imssec_strerror(rc));
}

static int cmd_srtp_protect(cli_ctx *c)
{
    static uint8_t pkt[MD_PKT_MAX + IMSSEC_SRTCP_OVERHEAD_MAX];
    static imssec_srtp_session s;
    static imssec_srtp_stream st[1];
    imssec_srtp_stream_state ss;
    imssec_errinfo e;
    int rtcp = cli_has(c, "rtcp"), rc;
    size_t n, out = 0;
    md_session(c, IMSSEC_SRTP_OUTBOUND, &s, st, 1);
    n = cli_hex(c, "packet", pkt, 1, MD_PKT_MAX);
    md_seed(c, &s, pkt, n, rtcp, 1);
    memset(&e, 0, sizeof e);
    rc = rtcp ? imssec_srtp_protect_rtcp(&s, pkt, n, sizeof pkt, &out, &e)
              : imssec_srtp_protect(&s, pkt, n, sizeof pkt, &out, &e);
    if (rc != IMSSEC_OK) {
        imssec_srtp_session_wipe(&s);
        cli_fail("srtp-protect: %s (%s)%s%s", imssec_strerror(rc), imssec_errname(rc),
                 e.what ? ": " : "", e.what ? e.what : "");
    }
    /* the index the packet was protected with: ROC || SEQ, or the SRTCP
     * index (the stream now points past it) */
    if (imssec_srtp_stream_get(&s, md_be32(pkt + (rtcp ? 4 : 8)), &ss) == IMSSEC_OK)
        cli_out_uint(c, "index", rtcp ? (uint64_t)ss.rtcp_index - 1
                                      : (uint64_t)ss.roc << 16 | ss.seq);
    cli_out_hex(c, "packet", pkt, out);
    imssec_srtp_session_wipe(&s);
    return 0;
}

static int cmd_srtp_unprotect(cli_ctx *c)
{
    static uint8_t pkt[MD_PKT_MAX];
    static imssec_srtp_session s;
    static imssec_srtp_stream st[1];
    imssec_srtp_rx rx;
    int rtcp = cli_has(c, "rtcp"), rc;
    size_t n, out = 0;
    md_session(c, IMSSEC_SRTP_INBOUND, &s, st, 1);
    n = cli_hex(c, "packet", pkt, 1, MD_PKT_MAX);
    md_seed(c, &s, pkt, n, rtcp, 0);
    memset(&rx, 0, sizeof rx);
    rc = rtcp ? imssec_srtp_unprotect_rtcp(&s, pkt, n, &out, &rx, NULL)
              : imssec_srtp_unprotect(&s, pkt, n, &out, &rx, NULL);
    imssec_srtp_session_wipe(&s);
    if (!imssec_err_is_verdict(rc) && rc != IMSSEC_OK)
        cli_fail("srtp-unprotect: %s (%s)", imssec_strerror(rc), imssec_errname(rc));
    cli_out_str(c, "result", md_result(rc) ? md_result(rc) : imssec_errname(rc));
    if (rc != IMSSEC_OK)
        return 0;
    cli_out_uint(c, "ssrc", rx.ssrc);
    cli_out_uint(c, "index", rx.index);
    if (rtcp)
        cli_out_uint(c, "encrypted", (uint64_t)rx.encrypted);
    cli_out_hex(c, "packet", pkt, out);
    return 0;
}

/* ---- srtp-kdf ---------------------------------------------------------------------- */

static const cli_opt kdf_opts[] = {
    {"suite", 0, "crypto suite (default AES_CM_128_HMAC_SHA1_80): sets the lengths"},
    {"key", 0, "master key, hex"},
    {"salt", 0, "master salt, hex"},
    {"label", 0, "only this label (0..5, RFC 3711 4.3.1/4.3.2) ..."},
    {"length", 0, "... and this many bytes (1..65536)"},
    {NULL, 0, NULL}};

static int cmd_srtp_kdf(cli_ctx *c)
{
    static uint8_t out[65536];
    static const char *const names[6] = {"srtp_cipher_key",  "srtp_auth_key",  "srtp_salt",
                                         "srtcp_cipher_key", "srtcp_auth_key", "srtcp_salt"};
    uint8_t key[IMSSEC_SRTP_MASTER_KEY_MAX], salt[IMSSEC_SRTP_MASTER_SALT_MAX];
    int suite = md_suite(c), gcm, rc;
    size_t kl = imssec_srtp_suite_key_len(suite), sl = imssec_srtp_suite_salt_len(suite), i;
    cli_hex(c, "key", key, kl, kl);
    cli_hex(c, "salt", salt, sl, sl);
    gcm = suite == IMSSEC_SRTP_AEAD_AES_128_GCM || suite == IMSSEC_SRTP_AEAD_AES_256_GCM;
    if (cli_has(c, "label") || cli_has(c, "length")) {
        uint8_t label = (uint8_t)cli_uint(c, "label", 0, 5);
        size_t len = (size_t)cli_uint(c, "length", 1, sizeof out);
        rc = imssec_srtp_kdf(key, kl, salt, sl, label, out, len);
        if (rc != IMSSEC_OK)
            cli_fail("srtp-kdf: %s", imssec_strerror(rc));
        cli_out_hex(c, "out", out, len);
    } else {
        /* RFC 3711 4.3.1 with key_derivation_rate 0: k_e (the suite's key
         * length), k_a (160 bits, 4.2.1; none for GCM, RFC 7714 12), k_s
         * (112 bits; 96 for GCM, RFC 7714 12) */
        for (i = 0; i < 6; i++) {
            size_t len = i % 3 == 0 ? kl : i % 3 == 1 ? (gcm ? 0 : 20) : sl;
            rc = len ? imssec_srtp_kdf(key, kl, salt, sl, (uint8_t)i, out, len) : IMSSEC_OK;
            if (rc != IMSSEC_OK)
                cli_fail("srtp-kdf: %s", imssec_strerror(rc));
            cli_out_hex(c, names[i], out, len);
        }
    }
    imssec_wipe(out, sizeof out);
    imssec_wipe(key, sizeof key);
    imssec_wipe(salt, sizeof salt);
    return 0;
}

/* ---- srtp-decrypt-pcap ------------------------------------------------------------ */

/*
 * The classic libpcap format (the "pcap" file of tcpdump and Wireshark,
 * draft-ietf-opsawg-pcap): a 24-byte header (magic a1b2c3d4 for
 * microseconds or a1b23c4d for nanoseconds, in the writer's byte order;
 * version 2.x; snaplen; link type) and records of a 16-byte header (seconds,
 * fraction, captured length, original length) and the captured bytes.  The
 * reader trusts nothing: every length is checked against what was read and
 * against MD_REC_MAX before it is used; a file that breaks the format is
 * bad input (exit 2, no output file left behind).
 */
#define MD_REC_MAX 262144 /* Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD */
#define MD_SESSIONS_MAX MD_LINES_MAX
#define MD_STREAMS 64 /* SSRCs per session (auto_streams) */
#define MD_SSRC_MAX 32

enum { MD_LT_ETHERNET = 1, MD_LT_RAW = 101, MD_LT_SLL = 113, MD_LT_IPV4 = 228, MD_LT_IPV6 = 229,
       MD_LT_SLL2 = 276 };

typedef struct md_pcap {
    FILE *in, *out;
    const char *out_path;
    int big; /* the file's byte order */
    uint32_t linktype;
    unsigned long record;
} md_pcap;

static md_pcap *md_cur; /* for md_pfail(): the output to remove */

static void md_pfail(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

static void md_pfail(const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (md_cur && md_cur->out) {
        fclose(md_cur->out);
        md_cur->out = NULL;
        remove(md_cur->out_path); /* no half-written capture */
    }
    cli_fail("%s", msg);
}

static uint32_t md_rd32(const md_pcap *f, const uint8_t *p)
{
    return f->big ? md_be32(p)
                  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void md_wr32(const md_pcap *f, uint8_t *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++)
        p[f->big ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint16_t md_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void md_put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void md_write(md_pcap *f, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, f->out) != n)
        md_pfail("--out: write failed");
}

static void md_pcap_header(md_pcap *f)
{
    uint8_t h[24];
    uint32_t magic;
    size_t got = fread(h, 1, sizeof h, f->in);
    if (got < 4)
        md_pfail("--in: not a pcap file (%u bytes)", (unsigned)got);
    f->big = 0;
    magic = md_rd32(f, h);
    if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) {
        f->big = 1;
        magic = md_rd32(f, h);
    }
    if (magic == 0x0a0d0d0au)
        md_pfail("--in: a pcapng file; convert it first: editcap -F pcap IN OUT");
    if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du)
        md_pfail("--in: not a pcap file (magic %02x%02x%02x%02x)", h[0], h[1], h[2], h[3]);
    if (got < sizeof h)
        md_pfail("--in: pcap header cut short (%u of 24 bytes)", (unsigned)got);
    if ((f->big ? md_be16(h + 4) : (unsigned)(h[5] << 8 | h[4])) != 2)
        md_pfail("--in: pcap version %u, want 2", f->big ? md_be16(h + 4) : (unsigned)(h[5] << 8 | h[4]));
    /* the link type is the low 16 bits; bits 28..31 may announce an FCS,
     * which stays in the frame's trailer */
    f->linktype = md_rd32(f, h + 20) & 0xffffu;
    if (f->linktype != MD_LT_ETHERNET && f->linktype != MD_LT_RAW && f->linktype != MD_LT_IPV4 &&
        f->linktype != MD_LT_IPV6 && f->linktype != MD_LT_SLL && f->linktype != MD_LT_SLL2)
        md_pfail("--in: link type %u not supported (Ethernet 1, raw IP 101/228/229, Linux cooked "
                 "113/276)",
                 (unsigned)f->linktype);
    md_write(f, h, sizeof h);
}

/* Where the IP packet of a frame starts and its version (4 or 6), or 0. */
static size_t md_l3(const md_pcap *f, const uint8_t *p, size_t n, int *ver)
{
    size_t off;
    unsigned type, tags = 0;
    *ver = 0;
    switch (f->linktype) {
    case MD_LT_ETHERNET:
        if (n < 14)
            return 0;
        off = 14;
        type = md_be16(p + 12);
        /* IEEE 802.1Q / 802.1ad tags, at most two */
        while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags < 2 && off + 4 <= n) {
            type = md_be16(p + off + 2);
            off += 4;
            tags++;
        }
        break;
    case MD_LT_SLL: /* 16 bytes; the protocol (an EtherType) at 14 */
        if (n < 16)
            return 0;
        off = 16;
        type = md_be16(p + 14);
        break;
    case MD_LT_SLL2: /* 20 bytes; the protocol first */
        if (n < 20)
            return 0;
        off = 20;
        type = md_be16(p);
        break;
    default: /* raw IP: the version nibble (101), or fixed (228, 229) */
        off = 0;
        if (n < 1)
            return 0;
        type = f->linktype == MD_LT_IPV4   ? 0x0800
               : f->linktype == MD_LT_IPV6 ? 0x86dd
               : (p[0] >> 4) == 4          ? 0x0800
               : (p[0] >> 4) == 6          ? 0x86dd
                                           : 0;
        break;
    }
    if (type == 0x0800)
        *ver = 4;
    else if (type == 0x86dd)
        *ver = 6;
    return *ver ? off : 0;
}

/* One UDP datagram found in a frame. */
typedef struct md_udp {
    int ver;
    size_t ip, udp, payload, plen; /* offsets in the frame; payload length */
} md_udp;

/* Find an unfragmented UDP datagram (RFC 768) in IPv4 (RFC 791) or IPv6
 * (RFC 8200: hop-by-hop and destination options skipped; a routing or
 * fragment header leaves the packet alone).  The UDP length must be
 * exactly what the IP length leaves for it. */
static int md_find_udp(const md_pcap *f, const uint8_t *p, size_t n, md_udp *u)
{
    size_t ip = md_l3(f, p, n, &u->ver), avail, end, hl, off;
    unsigned nh, ulen, i;
    if (!u->ver || ip > n)
        return 0;
    avail = n - ip;
    u->ip = ip;
    if (u->ver == 4) {
        if (avail < 20 || (p[ip] >> 4) != 4)
            return 0;
        hl = (size_t)(p[ip] & 15) * 4;
        end = md_be16(p + ip + 2);
        if (hl < 20 || end < hl + 8 || end > avail)
            return 0;
        if ((md_be16(p + ip + 6) & 0x3fff) != 0 || p[ip + 9] != 17)
            return 0; /* a fragment (MF or an offset), or not UDP */
        off = ip + hl;
        end += ip;
    } else {
        if (avail < 40 || (p[ip] >> 4) != 6)
            return 0;
        end = md_be16(p + ip + 4);
        if (end == 0 || 40 + end > avail)
            return 0; /* a jumbogram, or cut short */
        end += ip + 40;
        off = ip + 40;
        nh = p[ip + 6];
        for (i = 0; (nh == 0 || nh == 60) && i < 8; i++) {
            if (off + 8 > end)
                return 0;
            nh = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
        }
        if (nh != 17 || off + 8 > end)
            return 0;
    }
    ulen = md_be16(p + off + 4);
    if (ulen < 8 || off + ulen != end)
        return 0;
    u->udp = off;
    u->payload = off + 8;
    u->plen = ulen - 8u;
    return 1;
}

/* The Internet checksum (RFC 1071) of p[0..n), added to sum. */
static uint32_t md_sum(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static unsigned md_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return ~sum & 0xffffu;
}

/* The datagram's payload shrank from u->plen to plen: fix the UDP length,
 * the IP length and checksums.  IPv4: the header checksum recomputed, the
 * UDP checksum 0 (RFC 768: "no checksum"); IPv6: the UDP checksum is
 * mandatory (RFC 8200 8.1) and recomputed over the pseudo-header. */
static void md_fix_headers(uint8_t *p, const md_udp *u, size_t plen)
{
    size_t shrink = u->plen - plen, ulen = plen + 8;
    md_put16(p + u->udp + 4, (unsigned)ulen);
    if (u->ver == 4) {
        size_t hl = (size_t)(p[u->ip] & 15) * 4;
        md_put16(p + u->ip + 2, md_be16(p + u->ip + 2) - (unsigned)shrink);
        md_put16(p + u->ip + 10, 0);
        md_put16(p + u->ip + 10, md_fold(md_sum(0, p + u->ip, hl)));
        md_put16(p + u->udp + 6, 0);
    } else {
        uint32_t sum;
        unsigned ck;
        md_put16(p + u->ip + 4, md_be16(p + u->ip + 4) - (unsigned)shrink);
        md_put16(p + u->udp + 6, 0);
        sum = md_sum(0, p + u->ip + 8, 32); /* source and destination */
        sum += (uint32_t)ulen + 17;         /* upper-layer length, next header */
        sum = md_sum(sum, p + u->udp, ulen);
        ck = md_fold(sum);
        md_put16(p + u->udp + 6, ck ? ck : 0xffff);
    }
}

/* The verdicts counted, in the order in which a packet that no session
 * accepts is blamed on one (the most telling first: a replay or a used-up
 * key means the right key was found). */
static const int md_verdicts[] = {IMSSEC_E_REPLAY, IMSSEC_E_SEQ_EXHAUSTED, IMSSEC_E_ICV,
                                  IMSSEC_E_MALFORMED, IMSSEC_E_NO_SA};
#define MD_NV (sizeof md_verdicts / sizeof md_verdicts[0])

static size_t md_rank(int rc)
{
    size_t i;
    for (i = 0; i < MD_NV; i++)
        if (md_verdicts[i] == rc)
            return i;
    return MD_NV;
}

static size_t md_ssrcs(cli_ctx *c, uint32_t *out)
{
    const char *v = cli_get(c, "ssrc"), *p;
    size_t n = 0;
    if (!v)
        return 0;
    for (p = v; *p;) {
        char *end;
        unsigned long long x;
        if (*p < '0' || *p > '9')
            cli_fail("--ssrc: expected SSRC[,SSRC...] (decimal or 0x hex): '%s'", v);
        x = strtoull(p, &end, 0);
        if ((*end && *end != ',') || x > UINT32_MAX || (*end == ',' && !end[1]))
            cli_fail("--ssrc: expected SSRC[,SSRC...] (decimal or 0x hex): '%s'", v);
        if (n == MD_SSRC_MAX)
            cli_fail("--ssrc: more than %u SSRCs", MD_SSRC_MAX);
        out[n++] = (uint32_t)x;
        p = *end ? end + 1 : end;
    }
    return n;
}

static const cli_opt decrypt_opts[] = {
    {"in", 0, "a classic pcap file (not pcapng)"},
    {"out", 0, "the copy to write, with the plain RTP / RTCP"},
    {"crypto", 0, "the a=crypto lines whose keys protect the traffic, one per text line"},
    {"ssrc", 0, "only these SSRCs: SSRC[,SSRC...] (decimal or 0x hex)"},
    {NULL, 0, NULL}};

static int cmd_srtp_decrypt_pcap(cli_ctx *c)
{
    static imssec_str lines[MD_SESSIONS_MAX];
    static imssec_sdes_crypto x;
    static imssec_srtp_session s[MD_SESSIONS_MAX];
    static imssec_srtp_stream st[MD_SESSIONS_MAX][MD_STREAMS];
    static uint8_t frame[MD_REC_MAX], work[MD_REC_MAX];
    static const char *const vname[MD_NV] = {"failed.replay", "failed.seq_exhausted",
                                             "failed.icv_failure", "failed.malformed",
                                             "failed.no_sa"};
    const char *in = cli_need(c, "in"), *outp = cli_need(c, "out");
    uint32_t ssrc[MD_SSRC_MAX];
    size_t nssrc = md_ssrcs(c, ssrc), ns, i;
    unsigned long total = 0, dec_rtp = 0, dec_rtcp = 0, failed = 0, passed = 0;
    unsigned long by[MD_NV];
    md_pcap f;
    struct stat sa, sb;
    memset(by, 0, sizeof by);
    memset(&f, 0, sizeof f);
    ns = md_lines("crypto", cli_need(c, "crypto"), lines, MD_SESSIONS_MAX);
    /* one inbound session per line: the line's keys are its sender's, and
     * auto_streams accepts every SSRC whose packets authenticate (RFC
     * 3711 3.2.3: the context is found by the keys, not told the SSRCs) */
    for (i = 0; i < ns; i++) {
        imssec_srtp_params p;
        imssec_srtp_key keys[IMSSEC_SRTP_KEYS_MAX];
        imssec_errinfo e;
        int rc;
        md_parse_or_fail("crypto", i, ns, lines[i], &x);
        rc = imssec_sdes_srtp_params(&x, IMSSEC_SRTP_INBOUND, &p, keys);
        if (rc == IMSSEC_OK) {
            p.auto_streams = 1;
            memset(&e, 0, sizeof e);
            rc = imssec_srtp_session_setup(&s[i], &p, st[i], MD_STREAMS, &e);
        }
        imssec_sdes_wipe(&x);
        if (rc != IMSSEC_OK)
            cli_fail("--crypto line %u: %s", (unsigned)i + 1, imssec_strerror(rc));
    }
    f.in = fopen(in, "rb");
    if (!f.in)
        cli_fail("--in: cannot open '%s'", in);
    if (stat(in, &sa) == 0 && stat(outp, &sb) == 0 && sa.st_dev == sb.st_dev &&
        sa.st_ino == sb.st_ino)
        cli_fail("--out is the --in file");
    f.out = fopen(outp, "wb");
    if (!f.out)
        cli_fail("--out: cannot create '%s'", outp);
    f.out_path = outp;
    md_cur = &f;
    md_pcap_header(&f);
    for (;;) {
        uint8_t rh[16];
        size_t got = fread(rh, 1, sizeof rh, f.in), n, plen, pos;
        uint32_t incl, orig, id;
        int rtcp, best = 0, accepted = 0;
        md_udp u;
        if (got == 0)
            break;
        f.record++;
        if (got < sizeof rh)
            md_pfail("--in: record %lu: header cut short (%u of 16 bytes)", f.record,
                     (unsigned)got);
        incl = md_rd32(&f, rh + 8);
        orig = md_rd32(&f, rh + 12);
        if (incl > MD_REC_MAX)
            md_pfail("--in: record %lu: captured length %lu above %u", f.record,
                     (unsigned long)incl, MD_REC_MAX);
        if (incl > orig)
            md_pfail("--in: record %lu: captured length %lu above the original %lu", f.record,
                     (unsigned long)incl, (unsigned long)orig);
        n = incl;
        if (fread(frame, 1, n, f.in) != n)
            md_pfail("--in: record %lu: the file ends inside the record", f.record);
        total++;
        /* an SRTP or SRTCP packet: RTP version 2 (RFC 3550 5.1) over UDP
         * in a frame captured whole; SRTCP when the second byte is an RTCP
         * packet type, 192..223 (RFC 5761 4: SR 200 .. APP 204 and the
         * feedback types that may start a reduced-size packet) */
        if (incl != orig || !md_find_udp(&f, frame, n, &u) || u.plen < 8 ||
            (frame[u.payload] >> 6) != 2) {
            passed++;
            md_write(&f, rh, sizeof rh);
            md_write(&f, frame, n);
            continue;
        }
        rtcp = frame[u.payload + 1] >= 192 && frame[u.payload + 1] <= 223;
        if (!rtcp && u.plen < IMSSEC_SRTP_RTP_HEADER_MIN) {
            passed++;
            md_write(&f, rh, sizeof rh);
            md_write(&f, frame, n);
            continue;
        }
        id = md_be32(frame + u.payload + (rtcp ? 4 : 8));
        for (i = 0; i < nssrc && ssrc[i] != id; i++)
            ;
        if (nssrc && i == nssrc) {
            passed++;
            md_write(&f, rh, sizeof rh);
            md_write(&f, frame, n);
            continue;
        }
        plen = 0;
        for (i = 0; i < ns && !accepted; i++) {
            int rc;
            memcpy(work, frame + u.payload, u.plen);
            rc = rtcp ? imssec_srtp_unprotect_rtcp(&s[i], work, u.plen, &plen, NULL, NULL)
                      : imssec_srtp_unprotect(&s[i], work, u.plen, &plen, NULL, NULL);
            if (rc == IMSSEC_OK)
                accepted = 1;
            else if (i == 0 || md_rank(rc) < md_rank(best))
                best = rc;
        }
        if (!accepted || plen > u.plen) {
            failed++;
            if (md_rank(best) < MD_NV)
                by[md_rank(best)]++;
            md_write(&f, rh, sizeof rh);
            md_write(&f, frame, n);
            continue;
        }
        /* the frame with the plain packet: headers, payload, and whatever
         * followed the IP packet (Ethernet padding, an FCS) moved up */
        pos = u.payload + u.plen;
        memcpy(frame + u.payload, work, plen);
        memmove(frame + u.payload + plen, frame + pos, n - pos);
        md_fix_headers(frame, &u, plen);
        md_wr32(&f, rh + 8, (uint32_t)(n - (u.plen - plen)));
        md_wr32(&f, rh + 12, (uint32_t)(orig - (u.plen - plen)));
        md_write(&f, rh, sizeof rh);
        md_write(&f, frame, n - (u.plen - plen));
        if (rtcp)
            dec_rtcp++;
        else
            dec_rtp++;
    }
    if (ferror(f.in))
        md_pfail("--in: read error");
    fclose(f.in);
    if (fclose(f.out) != 0) {
        f.out = NULL;
        remove(outp);
        cli_fail("--out: write failed");
    }
    f.out = NULL;
    md_cur = NULL;
    imssec_wipe(work, sizeof work);
    cli_out_uint(c, "packets", total);
    cli_out_uint(c, "decrypted", dec_rtp + dec_rtcp);
    cli_out_uint(c, "decrypted.srtp", dec_rtp);
    cli_out_uint(c, "decrypted.srtcp", dec_rtcp);
    cli_out_uint(c, "failed", failed);
    for (i = 0; i < MD_NV; i++)
        cli_out_uint(c, vname[i], by[i]);
    cli_out_uint(c, "passed", passed);
    {
        size_t streams = 0;
        for (i = 0; i < ns; i++) {
            streams += imssec_srtp_stream_count(&s[i]);
            imssec_srtp_session_wipe(&s[i]);
        }
        cli_out_uint(c, "streams", streams);
    }
    return 0;
}

/* ---- sdp-e2ae -------------------------------------------------------------------- */

/*
 * The P-CSCF as IMS-ALG (TS 33.328 7.2.1 originating, 7.3.1 terminating)
 * over imssec_sdp_alg_*.  The CLI keeps no state between runs, so an
 * answer step is given the offer of its exchange as the IMS-ALG received
 * it and runs the offer step on it again: the keys the offer step took out
 * (K11) or created (K12, K21) come back, created ones from the same
 * --random bytes.  Without --random the originating answer gets a fresh
 * K12 (it was never sent), but the terminating answer is refused: the
 * K21 already sent to the UE could not be recreated.
 */
#define MD_SDP_MAX 262144
#define MD_SDP_SECTIONS 32

static const cli_opt sdp_opts[] = {
    {"step", 0, "orig-offer | orig-answer (7.2.1) | term-offer | term-answer (7.3.1)"},
    {"sdp", 0, "the SDP to rewrite, as text (a missing last line end is added)"},
    {"file", 0, "... or read from this file (as is)"},
    {"offer", 0, "*-answer: the offer of the exchange as the IMS-ALG received it, as text"},
    {"offer-file", 0, "... or read from this file"},
    {"out", 0, "where to write the rewritten SDP"},
    {"suites", 0, "suites the IMS-ALG runs: A,B,... (default AES_CM_128_HMAC_SHA1_80)"},
    {"flags", 0, "session parameters it agrees to: UNENCRYPTED_SRTP,..."},
    {"no-reg-e2ae", 1, "the UE did not register with e2ae support (7.1.1)"},
    {"insecure-hop", 1, "the hop to the UE has no confidentiality (TS 33.328 6.2.1.2)"},
    {"allow-insecure", 1, "with --insecure-hop: send keys anyway (test networks only)"},
    {"random", 0, "the bytes io.random returns, in order, hex (default: /dev/urandom)"},
    {NULL, 0, NULL}};

/* A fixed stream of "random" bytes: --random handed out in order. */
typedef struct md_stream {
    const uint8_t *p;
    size_t n, used;
    int short_;
} md_stream;

static int md_stream_random(void *user, uint8_t *out, size_t len)
{
    md_stream *s = (md_stream *)user;
    if (len > s->n - s->used) {
        s->short_ = 1;
        return -1;
    }
    memcpy(out, s->p + s->used, len);
    s->used += len;
    return 0;
}

/* An SDP from --<text> or --<file>; buf holds it. */
static imssec_str md_sdp_in(cli_ctx *c, const char *text, const char *file, char *buf)
{
    imssec_str s;
    size_t n;
    if (cli_one_of(c, text, file)) {
        const char *path = cli_need(c, file);
        FILE *f = fopen(path, "rb");
        if (!f)
            cli_fail("--%s: cannot open '%s'", file, path);
        n = fread(buf, 1, MD_SDP_MAX, f);
        if (ferror(f) || (n == MD_SDP_MAX && fgetc(f) != EOF)) {
            fclose(f);
            cli_fail("--%s: unreadable or longer than %u bytes", file, MD_SDP_MAX);
        }
        fclose(f);
    } else {
        const char *v = cli_need(c, text);
        n = strlen(v);
        if (n + 1 > MD_SDP_MAX)
            cli_fail("--%s: longer than %u bytes", text, MD_SDP_MAX - 1);
        memcpy(buf, v, n);
        /* $(...) in a shell drops the last line end the SDP needs */
        if (n && buf[n - 1] != '\n')
            buf[n++] = '\n';
    }
    s.p = buf;
    s.n = n;
    return s;
}

static int cmd_sdp_e2ae(cli_ctx *c)
{
    static char in[MD_SDP_MAX], offer_in[MD_SDP_MAX], out[2 * MD_SDP_MAX];
    static imssec_sdp_keys keys[MD_SDP_SECTIONS];
    static uint8_t rnd[4096];
    static const char *const steps[4] = {"orig-offer", "orig-answer", "term-offer",
                                         "term-answer"};
    static const char *const status[4] = {"", "offered", "agreed", "rejected"};
    const char *step = cli_need(c, "step"), *outp = cli_need(c, "out");
    int suites[8], which, rc;
    imssec_sdes_policy pol;
    imssec_sdp_opts o;
    imssec_io io;
    imssec_errinfo e;
    md_stream rs;
    imssec_str sdp, offer;
    size_t n = 0, nk = 0, i, j;
    char name[40];
    FILE *f;
    for (which = 0; which < 4 && strcmp(step, steps[which]) != 0; which++)
        ;
    if (which == 4)
        cli_fail("--step: want orig-offer, orig-answer, term-offer or term-answer, got '%s'", step);
    memset(&pol, 0, sizeof pol);
    if (cli_has(c, "suites")) {
        pol.suites = suites;
        pol.n_suites = md_suites(c, "suites", suites, sizeof suites / sizeof suites[0]);
    }
    pol.flags_ok = md_flags(c, "flags");
    if (cli_has(c, "allow-insecure") && !cli_has(c, "insecure-hop"))
        cli_fail("--allow-insecure needs --insecure-hop");
    pol.hop_confidential = !cli_has(c, "insecure-hop");
    pol.allow_insecure_hop = cli_has(c, "allow-insecure");
    memset(&io, 0, sizeof io);
    memset(&rs, 0, sizeof rs);
    io.random = md_urandom;
    if (cli_has(c, "random")) {
        rs.p = rnd;
        rs.n = cli_hex(c, "random", rnd, 1, sizeof rnd);
        io.random = md_stream_random;
        io.user = &rs;
    } else if (which == 3) {
        cli_fail("term-answer needs the --random of its term-offer step: the K21 sent to the "
                 "UE must be recreated");
    }
    memset(&o, 0, sizeof o);
    o.policy = &pol;
    o.io = &io;
    o.flags = cli_has(c, "no-reg-e2ae") ? 0 : IMSSEC_SDP_REG_E2AE;
    sdp = md_sdp_in(c, "sdp", "file", in);
    if (which == 1 || which == 3)
        offer = md_sdp_in(c, "offer", "offer-file", offer_in);
    else if (cli_has(c, "offer") || cli_has(c, "offer-file"))
        cli_fail("--offer is for the answer steps");
    memset(&e, 0, sizeof e);
    if (which == 1 || which == 3) {
        /* the offer step again, output discarded: its keys */
        size_t on = 0;
        rc = which == 1 ? imssec_sdp_alg_orig_offer(offer, &o, out, sizeof out, &on, keys,
                                                    MD_SDP_SECTIONS, &nk, &e)
                        : imssec_sdp_alg_term_offer(offer, &o, out, sizeof out, &on, keys,
                                                    MD_SDP_SECTIONS, &nk, &e);
        if (rc != IMSSEC_OK && !rs.short_) {
            if (!md_result(rc) || rc == IMSSEC_E_RANGE)
                cli_fail("--offer: %s (%s)%s%s", imssec_strerror(rc), imssec_errname(rc),
                         e.what ? ": " : "", e.what ? e.what : "");
            cli_fail("--offer: the offer step refuses it: %s: %s%s%s", md_result(rc),
                     e.clause ? e.clause : "", e.clause ? ": " : "", e.what ? e.what : "");
        }
        memset(&e, 0, sizeof e);
        if (rc == IMSSEC_OK)
            rc = which == 1
                     ? imssec_sdp_alg_orig_answer(sdp, &o, keys, nk, out, sizeof out, &n, &e)
                     : imssec_sdp_alg_term_answer(sdp, keys, nk, out, sizeof out, &n, &e);
    } else {
        rc = which == 0 ? imssec_sdp_alg_orig_offer(sdp, &o, out, sizeof out, &n, keys,
                                                    MD_SDP_SECTIONS, &nk, &e)
                        : imssec_sdp_alg_term_offer(sdp, &o, out, sizeof out, &n, keys,
                                                    MD_SDP_SECTIONS, &nk, &e);
    }
    imssec_wipe(rnd, sizeof rnd);
    if (rs.short_)
        cli_fail("--random: %u byte%s not enough for the keys", (unsigned)rs.n,
                 rs.n == 1 ? " is" : "s are");
    if (rc != IMSSEC_OK) {
        /* the peer's SDP refused: a verdict, answer with err.sip_status */
        if (!md_result(rc) || rc == IMSSEC_E_RANGE)
            cli_fail("sdp-e2ae: %s (%s)%s%s", imssec_strerror(rc), imssec_errname(rc),
                     e.what ? ": " : "", e.what ? e.what : "");
        cli_out_str(c, "result", md_result(rc));
        md_out_reason(c, &e);
        cli_out_uint(c, "sip_status", (uint64_t)e.sip_status);
        cli_out_uint(c, "section", e.item_index);
        cli_out_uint(c, "offset", e.offset);
        imssec_sdp_keys_wipe(keys, MD_SDP_SECTIONS);
        return 0;
    }
    f = fopen(outp, "wb");
    if (!f || (n && fwrite(out, 1, n, f) != n) || fclose(f) != 0) {
        imssec_sdp_keys_wipe(keys, MD_SDP_SECTIONS);
        cli_fail("--out: cannot write '%s'", outp);
    }
    /* the IMS Access GW's keys per secured section (6.2.1.3.1): remote is
     * the UE's sending key (K11 / K22), local the IMS-ALG's (K12 / K21) */
    cli_out_str(c, "result", "ok");
    cli_out_uint(c, "sections", nk);
    for (i = 0; i < nk; i++) {
        const imssec_sdp_keys *k = &keys[i];
        snprintf(name, sizeof name, "section.%u.m_index", (unsigned)i);
        cli_out_uint(c, name, k->m_index);
        snprintf(name, sizeof name, "section.%u.status", (unsigned)i);
        cli_out_str(c, name, k->status >= 1 && k->status <= 3 ? status[k->status] : "?");
        snprintf(name, sizeof name, "section.%u.avpf", (unsigned)i);
        cli_out_uint(c, name, (uint64_t)k->avpf);
        snprintf(name, sizeof name, "section.%u.remote", (unsigned)i);
        if (k->remote.n_keys)
            md_out_line(c, name, &k->remote);
        else
            cli_out_str(c, name, "");
        for (j = 0; j < k->n_local; j++) {
            snprintf(name, sizeof name, "section.%u.local.%u", (unsigned)i, (unsigned)j);
            md_out_line(c, name, &k->local[j]);
        }
    }
    if (rs.p)
        cli_out_uint(c, "random_used", rs.used);
    imssec_sdp_keys_wipe(keys, MD_SDP_SECTIONS);
    return 0;
}

const cli_cmd cli_cmds_media[] = {
    {"sdes-parse", "parse an SDES a=crypto attribute (RFC 4568, TS 33.328 Annex E)",
     "Prints result=ok, tag=, suite=, keys=<n>, per key i key.i.key= key.i.salt= (hex)\n"
     "  key.i.lifetime= (packets; empty when absent) key.i.mki= (hex, empty without MKI)\n"
     "  key.i.mki_len=, then flags= (UNENCRYPTED_SRTP,UNENCRYPTED_SRTCP,UNAUTHENTICATED_SRTP),\n"
     "  wsh= (empty when absent), fec_order= (FEC_SRTP|SRTP_FEC|empty), n_ignored= (optional\n"
     "  \"-\" parameters skipped, RFC 4568 6.3.7) and canonical= (imssec_sdes_build: lifetime as\n"
     "  2^n when a power of two, ignored parameters dropped).  A refused line is a verdict\n"
     "  (exit 0): result=syntax|unsupported|range, reason=<clause>: <why>, offset= (byte in\n"
     "  --value).",
     sdes_parse_opts, cmd_sdes_parse},
    {"sdes-answer", "answer an SDES offer: choose an a=crypto line, build the answer's",
     "RFC 4568 7.1.2, TS 33.328 Annex E: the first offered line (in offer order) that parses,\n"
     "  has a --suites suite and only --flags session parameters.  Prints result=ok, index=\n"
     "  (0-based line of --offer), tag=, suite=, flags=, key=, salt= (the answer's key, hex)\n"
     "  and answer= (the attribute value, without \"a=crypto:\").  Verdicts (exit 0):\n"
     "  result=sdes_reject (no line acceptable: reject the media stream) or result=insecure\n"
     "  (--insecure-hop: TS 33.328 6.2.1.2 forbids the key on that hop), with reason=.\n"
     "  Several offered lines: one per text line of --offer (the CLI takes an option once).\n"
     "  --key/--salt make the answer deterministic: the library takes its random bytes\n"
     "  from the caller's imssec_io.random, and the CLI installs one that returns --key and\n"
     "  then --salt (their lengths must be the chosen suite's).",
     sdes_answer_opts, cmd_sdes_answer},
    {"srtp-protect", "protect one RTP packet (SRTP) or RTCP packet (SRTCP, --rtcp)",
     "RFC 3711 3.3 / 3.4.  Prints index= (ROC||SEQ, or the SRTCP index) and packet= (the\n"
     "  protected packet, hex).  The stream of the packet's SSRC is fresh: ROC --roc, SRTCP\n"
     "  index --index.  With --crypto the line's first key protects.",
     protect_opts, cmd_srtp_protect},
    {"srtp-unprotect", "unprotect one SRTP packet (or SRTCP with --rtcp)",
     "RFC 3711 3.3 / 3.4 with a fresh receiver (s_l from this packet, ROC --roc).\n"
     "  Prints result=ok|icv_failure|replay|malformed|no_sa|seq_exhausted and on ok ssrc=,\n"
     "  index= (ROC||SEQ or the SRTCP index), for SRTCP encrypted= (the E flag), and\n"
     "  packet= (the plain RTP / RTCP packet).",
     unprotect_opts, cmd_srtp_unprotect},
    {"srtp-kdf", "the SRTP key derivation (RFC 3711 4.3, key_derivation_rate 0)",
     "Prints srtp_cipher_key=, srtp_auth_key=, srtp_salt=, srtcp_cipher_key=,\n"
     "  srtcp_auth_key=, srtcp_salt= (labels 0..5; the auth keys empty for GCM, RFC 7714\n"
     "  12); or with --label and --length out= (that many bytes of that label).",
     kdf_opts, cmd_srtp_kdf},
    {"srtp-decrypt-pcap", "replace the SRTP / SRTCP of a pcap capture by plain RTP / RTCP",
     "Reads a classic pcap (link types Ethernet, raw IPv4/IPv6, Linux cooked v1/v2; IPv4 and\n"
     "  IPv6 UDP), takes each RTP version 2 datagram (SRTCP: RTCP packet types 192..223,\n"
     "  RFC 5761 4) and tries the inbound session of every --crypto line (auto_streams: any\n"
     "  SSRC that authenticates).  --out is the same capture with each accepted packet\n"
     "  replaced by its plain RTP / RTCP (UDP and IP lengths fixed; IPv4 header checksum\n"
     "  recomputed and UDP checksum 0, IPv6 UDP checksum recomputed); everything else is\n"
     "  copied unchanged.  Prints packets=, decrypted= (decrypted.srtp=, decrypted.srtcp=),\n"
     "  failed= and failed.<verdict>= (a packet no session accepts counts under the first\n"
     "  of replay, seq_exhausted, icv_failure, malformed, no_sa that a session gave),\n"
     "  passed= (not SRTP, other SSRCs, fragments, cut by the snaplen) and streams=.\n"
     "  The SDP in the capture still says RTP/SAVP, so tell Wireshark to ignore it and\n"
     "  decode the ports as RTP: tshark -o sdp.establish_conversation:FALSE\n"
     "  -d udp.port==PORT,rtp (or --enable-heuristic rtp_udp).",
     decrypt_opts, cmd_srtp_decrypt_pcap},
    {"sdp-e2ae", "IMS-ALG: rewrite an SDP offer or answer for e2ae (TS 33.328 7.2.1, 7.3.1)",
     "--step orig-offer: the UE's offer towards the core: the selected a=crypto (K11) taken\n"
     "  out, RTP/SAVP -> RTP/AVP, a=3ge2ae removed, K12 prepared.  orig-answer: the core's\n"
     "  answer towards the UE (--offer: the UE's offer): RTP/AVP -> RTP/SAVP, K12 added.\n"
     "  term-offer: the core's offer towards the UE: RTP/AVP -> RTP/SAVP, K21 offered (one per\n"
     "  --suites suite) and a=3ge2ae:applied.  term-answer: the UE's answer towards the core\n"
     "  (--offer: the core's offer, --random: that of the term-offer run): K22 taken out.\n"
     "  Writes the SDP to --out and prints result=ok, sections=<n> and per secured section i\n"
     "  section.i.m_index= (0: the first m= line), .status= (offered|agreed|rejected), .avpf=,\n"
     "  .remote= (the UE's sending attribute: K11 / K22, inbound at the IMS Access GW; empty\n"
     "  until known) and .local.j= (the IMS-ALG's: K12 / K21), then random_used= with --random.\n"
     "  A refused SDP is a verdict (exit 0): result=syntax|sdes_reject|state|insecure|\n"
     "  not_found|unsupported, reason=, sip_status= (488: reject the request), section=, offset=.\n"
     "  The CLI keeps no state: an answer step runs the offer step on --offer again (see the\n"
     "  source); --random makes the keys deterministic (the bytes handed out in order).",
     sdp_opts, cmd_sdp_e2ae},
    {NULL, NULL, NULL, NULL, NULL}};
