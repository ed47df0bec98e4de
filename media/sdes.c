/*
 * media/sdes.c -- SDES, the a=crypto attribute of RFC 4568 as TS 33.328
 * Annex E profiles it: a strict parser, the builder, the answerer's choice
 * and the offerer's check of the answer (RFC 4568 7.1), and the bridge to
 * the SRTP session of media/srtp.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

typedef struct sd_cur {
    const char *p;
    size_t n, i;
    const char *why;
} sd_cur;

static int sd_fail(imssec_errinfo *err, int code, const sd_cur *c, const char *why,
                   const char *clause)
{
    isc_fail(err, code, why, clause);
    if (err)
        err->offset = c->i;
    return code;
}

static int sd_wsp(int ch)
{
    return ch == ' ' || ch == '\t';
}

static int sd_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* 1*WSP; 0 when there is none */
static int sd_skip_wsp(sd_cur *c)
{
    size_t s = c->i;
    while (c->i < c->n && sd_wsp((unsigned char)c->p[c->i]))
        c->i++;
    return c->i > s;
}

/* A field: everything up to the next WSP or the end. */
static imssec_str sd_field(sd_cur *c)
{
    imssec_str f;
    f.p = c->p + c->i;
    while (c->i < c->n && !sd_wsp((unsigned char)c->p[c->i]))
        c->i++;
    f.n = (size_t)(c->p + c->i - f.p);
    return f;
}

/* 1*max DIGIT as a number; -1 on no digit, too many digits or overflow
 * past `limit`. */
static int sd_number(const char *p, size_t n, size_t max_digits, uint64_t limit, uint64_t *v)
{
    size_t i;
    uint64_t x = 0;
    if (n == 0 || n > max_digits)
        return -1;
    for (i = 0; i < n; i++) {
        if (!sd_digit((unsigned char)p[i]))
            return -1;
        x = x * 10 + (uint64_t)(p[i] - '0');
        if (x > limit)
            return -1;
    }
    *v = x;
    return 0;
}

static int sd_eq(imssec_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static int sd_prefix(imssec_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

/* mki-value (decimal, any length) into mki_len big-endian bytes; -1 when
 * it does not fit. */
static int sd_mki_value(const char *p, size_t n, uint8_t *out, size_t mki_len)
{
    size_t i;
    int k;
    if (n == 0)
        return -1;
    memset(out, 0, mki_len);
    for (i = 0; i < n; i++) {
        unsigned carry;
        if (!sd_digit((unsigned char)p[i]))
            return -1;
        carry = (unsigned)(p[i] - '0');
        for (k = (int)mki_len - 1; k >= 0; k--) {
            unsigned v = out[k] * 10u + carry;
            out[k] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry)
            return -1;
    }
    return 0;
}

/* One key-param (RFC 4568 9.2 srtp-key-info) of text kp into key. */
static int sd_key_param(imssec_str kp, int suite, imssec_sdes_key *key, const char **why,
                        int *code)
{
    size_t klen = imssec_srtp_suite_key_len(suite), slen = imssec_srtp_suite_salt_len(suite);
    uint8_t ks[IMSSEC_SRTP_MASTER_KEY_MAX + IMSSEC_SRTP_MASTER_SALT_MAX];
    size_t i = 0, j, got = 0;
    imssec_str part[3];
    size_t np = 0;
    *code = IMSSEC_E_SYNTAX;
    if (!sd_prefix(kp, "inline:")) {
        size_t c = 0;
        while (c < kp.n && kp.p[c] != ':')
            c++;
        *why = c < kp.n && c > 0 ? "a key method other than inline" : "expected inline:";
        if (c < kp.n && c > 0)
            *code = IMSSEC_E_UNSUPPORTED;
        return -1;
    }
    i = 7;
    /* key-salt ["|" lifetime] ["|" mki] */
    while (np < 3) {
        j = i;
        while (j < kp.n && kp.p[j] != '|')
            j++;
        part[np].p = kp.p + i;
        part[np].n = j - i;
        np++;
        if (j >= kp.n)
            break;
        i = j + 1;
        if (np == 3) {
            *why = "more than key|lifetime|mki";
            return -1;
        }
    }
    memset(key, 0, sizeof *key);
    if (imssec_base64_decode(part[0], ks, sizeof ks, &got) != IMSSEC_OK) {
        *why = imssec_base64_decode(part[0], NULL, 0, &got) == IMSSEC_E_SPACE
                   ? "key||salt longer than the suite's"
                   : "key||salt is not base64";
        isc_wipe(ks, sizeof ks);
        return -1;
    }
    if (got != klen + slen) {
        *why = "key||salt is not the suite's length";
        isc_wipe(ks, sizeof ks);
        return -1;
    }
    memcpy(key->key, ks, klen);
    memcpy(key->salt, ks + klen, slen);
    isc_wipe(ks, sizeof ks);
    for (j = 1; j < np; j++) {
        imssec_str f = part[j];
        size_t colon = 0;
        while (colon < f.n && f.p[colon] != ':')
            colon++;
        if (colon < f.n) { /* mki = mki-value ":" mki-length */
            uint64_t ml;
            if (j != np - 1) {
                *why = "the MKI comes after the lifetime";
                return -1;
            }
            if (sd_number(f.p + colon + 1, f.n - colon - 1, 3, 128, &ml) != 0 || ml == 0) {
                *why = "mki-length is 1..128";
                return -1;
            }
            if (ml > IMSSEC_SRTP_MKI_MAX) {
                *why = "MKI longer than IMSSEC_SRTP_MKI_MAX";
                *code = IMSSEC_E_UNSUPPORTED;
                return -1;
            }
            key->mki_len = (size_t)ml;
            if (sd_mki_value(f.p, colon, key->mki, key->mki_len) != 0) {
                *why = "mki-value is not a number that fits mki-length bytes";
                return -1;
            }
        } else { /* lifetime = ["2^"] 1*DIGIT */
            uint64_t v;
            if (j != 1) {
                *why = "the lifetime comes right after the key";
                return -1;
            }
            if (f.n >= 2 && f.p[0] == '2' && f.p[1] == '^') {
                if (sd_number(f.p + 2, f.n - 2, 2, 64, &v) != 0) {
                    *why = "lifetime 2^n needs n digits";
                    return -1;
                }
                if (v > 48) {
                    *why = "lifetime above 2^48 (RFC 3711 9.2)";
                    *code = IMSSEC_E_RANGE;
                    return -1;
                }
                key->lifetime = (uint64_t)1 << v;
            } else if (sd_number(f.p, f.n, 15, IMSSEC_SRTP_LIFETIME_MAX, &v) != 0) {
                *why = "lifetime is digits up to 2^48";
                *code = f.n && sd_digit((unsigned char)f.p[0]) ? IMSSEC_E_RANGE : IMSSEC_E_SYNTAX;
                return -1;
            } else {
                key->lifetime = v;
            }
            if (key->lifetime == 0) {
                *why = "lifetime 0";
                return -1;
            }
        }
    }
    return 0;
}

/* One session parameter (RFC 4568 6.3). */
static int sd_session_param(imssec_str f, imssec_sdes_crypto *c, const char **why, int *code)
{
    uint64_t v;
    *code = IMSSEC_E_SYNTAX;
    if (sd_eq(f, "UNENCRYPTED_SRTP"))
        c->flags |= IMSSEC_SRTP_UNENCRYPTED_SRTP;
    else if (sd_eq(f, "UNENCRYPTED_SRTCP"))
        c->flags |= IMSSEC_SRTP_UNENCRYPTED_SRTCP;
    else if (sd_eq(f, "UNAUTHENTICATED_SRTP"))
        c->flags |= IMSSEC_SRTP_UNAUTHENTICATED_SRTP;
    else if (sd_prefix(f, "KDR=")) {
        if (sd_number(f.p + 4, f.n - 4, 2, 24, &v) != 0) {
            *why = "KDR=0..24";
            return -1;
        }
        /* KDR=n is the rate 2^n; only "no key derivation" is run (TS
         * 33.328 Annex C allows refusing the others) */
        *why = "a key derivation rate other than 0";
        *code = IMSSEC_E_UNSUPPORTED;
        return -1;
    } else if (sd_prefix(f, "WSH=")) {
        if (sd_number(f.p + 4, f.n - 4, 10, UINT32_MAX, &v) != 0 || v < 64) {
            *why = "WSH= needs a number of at least 64";
            return -1;
        }
        c->wsh = (uint32_t)v;
    } else if (sd_prefix(f, "FEC_ORDER=")) {
        imssec_str t = {f.p + 10, f.n - 10};
        if (sd_eq(t, "FEC_SRTP"))
            c->fec_order = 1;
        else if (sd_eq(t, "SRTP_FEC"))
            c->fec_order = 2;
        else {
            *why = "FEC_ORDER=FEC_SRTP or SRTP_FEC";
            return -1;
        }
    } else if (sd_prefix(f, "FEC_KEY=")) {
        *why = "FEC_KEY (FEC is not supported)";
        *code = IMSSEC_E_UNSUPPORTED;
        return -1;
    } else if (f.n >= 2 && f.p[0] == '-') {
        c->n_ignored++; /* optional: "MAY be ignored" (RFC 4568 6.3.7) */
    } else {
        *why = "a session parameter not understood";
        *code = IMSSEC_E_UNSUPPORTED;
        return -1;
    }
    return 0;
}

IMSSEC_API int imssec_sdes_parse(imssec_str value, imssec_sdes_crypto *out, imssec_errinfo *err)
{
    imssec_sdes_crypto c;
    imssec_str f;
    sd_cur cur;
    uint64_t tag;
    size_t i, start;
    const char *why = NULL;
    int code = IMSSEC_E_SYNTAX;
    if (!out || (!value.p && value.n))
        return isc_fail_param(err, "value / out", "NULL argument");
    cur.p = value.p ? value.p : "";
    cur.n = value.n;
    cur.i = 0;
    cur.why = NULL;
    /* the attribute value, with or without its name ("a=crypto:" in SDP,
     * "crypto:" as tshark and many logs print it) */
    if (value.n >= 9 && memcmp(value.p, "a=crypto:", 9) == 0)
        cur.i = 9;
    else if (value.n >= 7 && memcmp(value.p, "crypto:", 7) == 0)
        cur.i = 7;
    memset(&c, 0, sizeof c);
    /* tag */
    start = cur.i;
    f = sd_field(&cur);
    if (sd_number(f.p, f.n, 9, 999999999u, &tag) != 0) {
        cur.i = start;
        return sd_fail(err, IMSSEC_E_SYNTAX, &cur, "tag is 1 to 9 digits", "RFC 4568 9.1");
    }
    c.tag = (uint32_t)tag;
    /* crypto-suite */
    if (!sd_skip_wsp(&cur))
        return sd_fail(err, IMSSEC_E_SYNTAX, &cur, "expected a crypto-suite", "RFC 4568 9.1");
    start = cur.i;
    f = sd_field(&cur);
    for (i = 0; i < f.n; i++) {
        int ch = (unsigned char)f.p[i];
        if (!(sd_digit(ch) || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_')) {
            cur.i = start + i;
            return sd_fail(err, IMSSEC_E_SYNTAX, &cur, "crypto-suite is ALPHA / DIGIT / _",
                           "RFC 4568 9.1");
        }
    }
    if (f.n == 0)
        return sd_fail(err, IMSSEC_E_SYNTAX, &cur, "empty crypto-suite", "RFC 4568 9.1");
    c.suite = imssec_srtp_suite_from_name(f);
    /* key-params: key-param *(";" key-param) */
    if (!sd_skip_wsp(&cur))
        return sd_fail(err, IMSSEC_E_SYNTAX, &cur, "expected key-params", "RFC 4568 9.1");
    start = cur.i;
    f = sd_field(&cur);
    if (c.suite == IMSSEC_SRTP_SUITE_UNKNOWN) {
        cur.i = start;
        return sd_fail(err, IMSSEC_E_UNSUPPORTED, &cur, "an unknown crypto-suite",
                       "RFC 4568 6.2");
    }
    for (i = 0; i <= f.n;) {
        size_t j = i;
        imssec_str kp;
        while (j < f.n && f.p[j] != ';')
            j++;
        kp.p = f.p + i;
        kp.n = j - i;
        if (c.n_keys == IMSSEC_SRTP_KEYS_MAX) {
            cur.i = start + i;
            isc_wipe(&c, sizeof c);
            return sd_fail(err, IMSSEC_E_RANGE, &cur, "more keys than IMSSEC_SRTP_KEYS_MAX",
                           "RFC 4568 6.1");
        }
        if (sd_key_param(kp, c.suite, &c.keys[c.n_keys], &why, &code) != 0) {
            cur.i = start + i;
            isc_wipe(&c, sizeof c);
            return sd_fail(err, code, &cur, why, "RFC 4568 6.1, 9.2");
        }
        c.n_keys++;
        i = j + 1;
    }
    /* several keys: each with an MKI, all of one length (RFC 4568 6.1) */
    if (c.n_keys > 1)
        for (i = 0; i < c.n_keys; i++)
            if (c.keys[i].mki_len == 0 || c.keys[i].mki_len != c.keys[0].mki_len) {
                cur.i = start;
                isc_wipe(&c, sizeof c);
                return sd_fail(err, IMSSEC_E_SYNTAX, &cur,
                               "several keys need MKIs of one length", "RFC 4568 6.1");
            }
    /* session parameters */
    while (cur.i < cur.n) {
        if (!sd_skip_wsp(&cur) || cur.i >= cur.n) {
            isc_wipe(&c, sizeof c);
            return sd_fail(err, IMSSEC_E_SYNTAX, &cur, "expected a session parameter",
                           "RFC 4568 9.1");
        }
        start = cur.i;
        f = sd_field(&cur);
        if (sd_session_param(f, &c, &why, &code) != 0) {
            cur.i = start;
            isc_wipe(&c, sizeof c);
            return sd_fail(err, code, &cur, why, "RFC 4568 6.3");
        }
    }
    /* RFC 7714: the GCM suites cannot drop encryption or authentication */
    if ((c.suite == IMSSEC_SRTP_AEAD_AES_128_GCM || c.suite == IMSSEC_SRTP_AEAD_AES_256_GCM) &&
        (c.flags & (IMSSEC_SRTP_UNENCRYPTED_SRTP | IMSSEC_SRTP_UNAUTHENTICATED_SRTP))) {
        isc_wipe(&c, sizeof c);
        return sd_fail(err, IMSSEC_E_UNSUPPORTED, &cur,
                       "an AEAD suite without encryption or authentication", "RFC 7714 14.2");
    }
    *out = c;
    isc_wipe(&c, sizeof c);
    return IMSSEC_OK;
}

/* "2^n" when the lifetime is a power of two, else decimal. */
static void sd_put_lifetime(isc_sbuf *b, uint64_t v)
{
    int k;
    for (k = 0; k < 64; k++)
        if (v == (uint64_t)1 << k) {
            isc_sb_puts(b, "2^");
            isc_sb_putu(b, (uint32_t)k);
            return;
        }
    {
        char d[24];
        int n = 0;
        while (v) {
            d[n++] = (char)('0' + v % 10);
            v /= 10;
        }
        while (n)
            isc_sb_putn(b, &d[--n], 1);
    }
}

/* The MKI's decimal value (big-endian bytes, any length). */
static void sd_put_mki(isc_sbuf *b, const uint8_t *mki, size_t n)
{
    uint8_t w[IMSSEC_SRTP_MKI_MAX];
    char d[3 * IMSSEC_SRTP_MKI_MAX + 1];
    size_t nd = 0, i;
    int zero;
    memcpy(w, mki, n);
    do { /* repeated division by 10 */
        unsigned rem = 0;
        zero = 1;
        for (i = 0; i < n; i++) {
            unsigned cur = rem << 8 | w[i];
            w[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero &= w[i] == 0;
        }
        d[nd++] = (char)('0' + rem);
    } while (!zero);
    while (nd)
        isc_sb_putn(b, &d[--nd], 1);
}

static int sd_crypto_ok(const imssec_sdes_crypto *c)
{
    size_t i;
    if (!c || !imssec_srtp_suite_name(c->suite) || c->n_keys == 0 ||
        c->n_keys > IMSSEC_SRTP_KEYS_MAX || c->tag > 999999999u || c->fec_order < 0 ||
        c->fec_order > 2 || (c->wsh && c->wsh < 64) ||
        (c->flags & ~(IMSSEC_SRTP_UNENCRYPTED_SRTP | IMSSEC_SRTP_UNENCRYPTED_SRTCP |
                      IMSSEC_SRTP_UNAUTHENTICATED_SRTP)))
        return 0;
    for (i = 0; i < c->n_keys; i++) {
        const imssec_sdes_key *k = &c->keys[i];
        if (k->mki_len > IMSSEC_SRTP_MKI_MAX || k->lifetime > IMSSEC_SRTP_LIFETIME_MAX)
            return 0;
        /* Annex E: MKI when, and only when, several keys are present --
         * a single key may still carry one (RFC 4568 allows it) */
        if (c->n_keys > 1 && (k->mki_len == 0 || k->mki_len != c->keys[0].mki_len))
            return 0;
    }
    return 1;
}

static void sd_build_body(const imssec_sdes_crypto *c, isc_sbuf *b)
{
    size_t klen = imssec_srtp_suite_key_len(c->suite), slen = imssec_srtp_suite_salt_len(c->suite);
    size_t i;
    isc_sb_putu(b, c->tag);
    isc_sb_puts(b, " ");
    isc_sb_puts(b, imssec_srtp_suite_name(c->suite));
    isc_sb_puts(b, " ");
    for (i = 0; i < c->n_keys; i++) {
        const imssec_sdes_key *k = &c->keys[i];
        uint8_t ks[IMSSEC_SRTP_MASTER_KEY_MAX + IMSSEC_SRTP_MASTER_SALT_MAX];
        char b64[((IMSSEC_SRTP_MASTER_KEY_MAX + IMSSEC_SRTP_MASTER_SALT_MAX + 2) / 3) * 4 + 1];
        size_t bl = 0;
        if (i)
            isc_sb_puts(b, ";");
        isc_sb_puts(b, "inline:");
        memcpy(ks, k->key, klen);
        memcpy(ks + klen, k->salt, slen);
        (void)imssec_base64_encode(ks, klen + slen, b64, sizeof b64, &bl);
        isc_sb_putn(b, b64, bl);
        isc_wipe(ks, sizeof ks);
        isc_wipe(b64, sizeof b64);
        if (k->lifetime) {
            isc_sb_puts(b, "|");
            sd_put_lifetime(b, k->lifetime);
        }
        if (k->mki_len) {
            isc_sb_puts(b, "|");
            sd_put_mki(b, k->mki, k->mki_len);
            isc_sb_puts(b, ":");
            isc_sb_putu(b, (uint32_t)k->mki_len);
        }
    }
    if (c->flags & IMSSEC_SRTP_UNENCRYPTED_SRTP)
        isc_sb_puts(b, " UNENCRYPTED_SRTP");
    if (c->flags & IMSSEC_SRTP_UNENCRYPTED_SRTCP)
        isc_sb_puts(b, " UNENCRYPTED_SRTCP");
    if (c->flags & IMSSEC_SRTP_UNAUTHENTICATED_SRTP)
        isc_sb_puts(b, " UNAUTHENTICATED_SRTP");
    if (c->fec_order)
        isc_sb_puts(b, c->fec_order == 1 ? " FEC_ORDER=FEC_SRTP" : " FEC_ORDER=SRTP_FEC");
    if (c->wsh) {
        isc_sb_puts(b, " WSH=");
        isc_sb_putu(b, c->wsh);
    }
}

IMSSEC_API int imssec_sdes_build(const imssec_sdes_crypto *c, char *out, size_t out_cap,
                                 size_t *out_len)
{
    isc_sbuf b;
    if (!out_len || (out_cap && !out) || !sd_crypto_ok(c))
        return IMSSEC_E_PARAM;
    isc_sb_init(&b, NULL, 0);
    sd_build_body(c, &b);
    *out_len = b.len;
    if (b.len > out_cap)
        return IMSSEC_E_SPACE;
    isc_sb_init(&b, out, out_cap);
    sd_build_body(c, &b);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sdes_new_key(int suite, const imssec_io *io, imssec_sdes_key *key)
{
    size_t klen = imssec_srtp_suite_key_len(suite), slen = imssec_srtp_suite_salt_len(suite);
    if (!key || !io || !io->random || klen == 0)
        return IMSSEC_E_PARAM;
    memset(key, 0, sizeof *key);
    if (io->random(io->user, key->key, klen) != 0 || io->random(io->user, key->salt, slen) != 0) {
        isc_wipe(key, sizeof *key);
        return IMSSEC_E_CALLBACK;
    }
    return IMSSEC_OK;
}

static int sd_policy_runs(const imssec_sdes_policy *pol, int suite)
{
    size_t i;
    if (!pol->suites)
        return suite == IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80;
    for (i = 0; i < pol->n_suites; i++)
        if (pol->suites[i] == suite)
            return 1;
    return 0;
}

/* 6.2.1.2 of TS 33.328, for every call that puts a key into SDP. */
static int sd_hop_ok(const imssec_sdes_policy *pol, imssec_errinfo *err)
{
    if (pol->hop_confidential || pol->allow_insecure_hop)
        return IMSSEC_OK;
    return isc_fail(err, IMSSEC_E_INSECURE,
                    "SDES keys over a SIP hop without confidentiality protection",
                    "TS 33.328 6.2.1.2");
}

IMSSEC_API int imssec_sdes_answer(const imssec_str *offer, size_t n_offer,
                                  const imssec_sdes_policy *policy, const imssec_io *io,
                                  imssec_sdes_crypto *chosen, imssec_sdes_crypto *answer,
                                  size_t *index, imssec_errinfo *err)
{
    imssec_sdes_crypto c;
    size_t i;
    int rc;
    if ((n_offer && !offer) || !policy || !io || !answer)
        return isc_fail_param(err, "offer / policy / io / answer", "NULL argument");
    if ((rc = sd_hop_ok(policy, err)) != IMSSEC_OK)
        return rc;
    for (i = 0; i < n_offer; i++) {
        if (imssec_sdes_parse(offer[i], &c, NULL) != IMSSEC_OK)
            continue; /* malformed or not runnable: the next one (7.1.2) */
        if (!sd_policy_runs(policy, c.suite) || (c.flags & ~policy->flags_ok)) {
            isc_wipe(&c, sizeof c);
            continue;
        }
        /* the answer: same tag, suite and session parameters, our own key */
        memset(answer, 0, sizeof *answer);
        answer->tag = c.tag;
        answer->suite = c.suite;
        answer->flags = c.flags;
        answer->fec_order = c.fec_order;
        answer->n_keys = 1;
        if ((rc = imssec_sdes_new_key(c.suite, io, &answer->keys[0])) != IMSSEC_OK) {
            isc_wipe(&c, sizeof c);
            return isc_fail(err, rc, "io->random failed", NULL);
        }
        /* Annex E: "the key lifetime ... shall not be sent" for e2ae (the
         * answer carries none in any case) */
        if (chosen)
            *chosen = c;
        if (index)
            *index = i;
        isc_wipe(&c, sizeof c);
        return IMSSEC_OK;
    }
    return isc_fail(err, IMSSEC_E_SDES_REJECT, "no offered crypto attribute is acceptable",
                    "RFC 4568 7.1.2, TS 33.328 Annex E");
}

IMSSEC_API int imssec_sdes_offer(const imssec_sdes_policy *policy, const imssec_io *io,
                                 imssec_sdes_crypto *out, size_t out_cap, size_t *out_len,
                                 imssec_errinfo *err)
{
    static const int dflt = IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80;
    const int *suites;
    size_t n, i;
    int rc;
    if (!policy || !io || !out_len || (out_cap && !out))
        return isc_fail_param(err, "policy / io / out", "NULL argument");
    suites = policy->suites ? policy->suites : &dflt;
    n = policy->suites ? policy->n_suites : 1;
    for (i = 0; i < n; i++)
        if (!imssec_srtp_suite_name(suites[i]))
            return isc_fail_param(err, "policy->suites", "not a suite");
    /* Annex E: AES_CM_128_HMAC_SHA1_80 "shall be supported" -- offered */
    for (i = 0; i < n && suites[i] != dflt; i++)
        ;
    if (i == n)
        return isc_fail(err, IMSSEC_E_PARAM, "the policy lacks AES_CM_128_HMAC_SHA1_80",
                        "TS 33.328 Annex E");
    if ((rc = sd_hop_ok(policy, err)) != IMSSEC_OK)
        return rc;
    *out_len = n;
    if (n > out_cap)
        return isc_fail(err, IMSSEC_E_SPACE, "out_cap too small", NULL);
    for (i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].tag = (uint32_t)(i + 1);
        out[i].suite = suites[i];
        out[i].n_keys = 1; /* one key: no MKI, no lifetime (Annex E) */
        if ((rc = imssec_sdes_new_key(suites[i], io, &out[i].keys[0])) != IMSSEC_OK) {
            isc_wipe(out, n * sizeof *out);
            return isc_fail(err, rc, "io->random failed", NULL);
        }
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_sdes_match(const imssec_sdes_crypto *offer, size_t n_offer,
                                 const imssec_str *answer, size_t n_answer,
                                 imssec_sdes_crypto *answer_out, size_t *index,
                                 imssec_errinfo *err)
{
    imssec_sdes_crypto a;
    size_t i;
    int rc;
    if ((n_offer && !offer) || (n_answer && !answer) || !answer_out)
        return isc_fail_param(err, "offer / answer / answer_out", "NULL argument");
    /* 7.1.3: the answer "MUST" hold exactly one crypto attribute */
    if (n_answer != 1)
        return isc_fail(err, IMSSEC_E_SDES_REJECT,
                        n_answer ? "several crypto attributes in the answer"
                                 : "no crypto attribute in the answer",
                        "RFC 4568 7.1.3");
    if ((rc = imssec_sdes_parse(answer[0], &a, err)) != IMSSEC_OK)
        return rc;
    for (i = 0; i < n_offer; i++) {
        if (offer[i].tag != a.tag)
            continue;
        if (offer[i].suite != a.suite || a.flags != offer[i].flags) {
            isc_wipe(&a, sizeof a);
            return isc_fail(err, IMSSEC_E_SDES_REJECT,
                            "the answer changed the suite or the session parameters of its tag",
                            "RFC 4568 7.1.3");
        }
        *answer_out = a;
        if (index)
            *index = i;
        isc_wipe(&a, sizeof a);
        return IMSSEC_OK;
    }
    isc_wipe(&a, sizeof a);
    return isc_fail(err, IMSSEC_E_SDES_REJECT, "the answer's tag was not offered",
                    "RFC 4568 7.1.3");
}

IMSSEC_API int imssec_sdes_srtp_params(const imssec_sdes_crypto *c, int dir,
                                       imssec_srtp_params *p,
                                       imssec_srtp_key keys[IMSSEC_SRTP_KEYS_MAX])
{
    size_t i;
    if (!p || !keys || !sd_crypto_ok(c) ||
        (dir != IMSSEC_SRTP_OUTBOUND && dir != IMSSEC_SRTP_INBOUND))
        return IMSSEC_E_PARAM;
    imssec_srtp_params_init(p);
    p->suite = c->suite;
    p->dir = dir;
    p->flags = c->flags;
    if (c->wsh && dir == IMSSEC_SRTP_INBOUND) {
        /* RFC 4568 6.3.6: the sender's hint for the receiver's replay
         * window: the power of two that covers it, as far as allowed */
        uint32_t w = 64;
        while (w < c->wsh && w < IMSSEC_SRTP_REPLAY_WINDOW_MAX)
            w <<= 1;
        if (w > p->replay_window)
            p->replay_window = w;
    }
    for (i = 0; i < c->n_keys; i++) {
        const imssec_sdes_key *k = &c->keys[i];
        memset(&keys[i], 0, sizeof keys[i]);
        keys[i].key = k->key;
        keys[i].key_len = imssec_srtp_suite_key_len(c->suite);
        keys[i].salt = k->salt;
        keys[i].salt_len = imssec_srtp_suite_salt_len(c->suite);
        keys[i].mki = k->mki_len ? k->mki : NULL;
        keys[i].mki_len = k->mki_len;
        /* RFC 4568 6.1: the lifetime counts SRTP and SRTCP packets */
        keys[i].srtp_lifetime = k->lifetime;
        keys[i].srtcp_lifetime =
            k->lifetime > IMSSEC_SRTCP_LIFETIME_MAX ? IMSSEC_SRTCP_LIFETIME_MAX : k->lifetime;
    }
    p->keys = keys;
    p->key_count = c->n_keys;
    return IMSSEC_OK;
}

IMSSEC_API void imssec_sdes_wipe(imssec_sdes_crypto *c)
{
    if (c)
        isc_wipe(c, sizeof *c);
}
