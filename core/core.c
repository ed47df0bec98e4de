/*
 * core/core.c -- the public core: errors and their explanation, version and
 * build information, wipe and constant-time compare, the shared vocabulary's
 * names, base64.
 *
 * SPDX-License-Identifier: MIT
 */

IMSSEC_API const char *imssec_strerror(int err)
{
    switch (err) {
#define IMSSEC_ERR_TEXT_(name, value, text) case value: return text;
        IMSSEC_ERROR_LIST(IMSSEC_ERR_TEXT_)
#undef IMSSEC_ERR_TEXT_
    default: return "unknown error";
    }
}

IMSSEC_API const char *imssec_errname(int err)
{
    switch (err) {
#define IMSSEC_ERR_NAME_(name, value, text) case value: return #name;
        IMSSEC_ERROR_LIST(IMSSEC_ERR_NAME_)
#undef IMSSEC_ERR_NAME_
    default: return "IMSSEC_E_UNKNOWN";
    }
}

IMSSEC_API int imssec_err_is_verdict(int err)
{
    return (err <= -20 && err >= -119) ? 1 : 0;
}

IMSSEC_API const char *imssec_version(void)
{
    return IMSSEC_VERSION_STRING;
}

#define ISC_STR_(x) #x
#define ISC_STR(x) ISC_STR_(x)
IMSSEC_API const char *imssec_build_info(void)
{
    return "imssec " IMSSEC_VERSION_STRING " mbedtls=" MBEDTLS_VERSION_STRING
           " 3des=" ISC_STR(IMSSEC_ENABLE_3DES) " hmac-md5=" ISC_STR(IMSSEC_ENABLE_HMAC_MD5)
           " ipv6=" ISC_STR(IMSSEC_ENABLE_IPV6) " udpencap=" ISC_STR(IMSSEC_ENABLE_UDPENCAP)
           " log=" ISC_STR(IMSSEC_ENABLE_LOG)
           " replay-window-max=" ISC_STR(IMSSEC_REPLAY_WINDOW_MAX)
           " aka-ind-bits-max=" ISC_STR(IMSSEC_AKA_IND_BITS_MAX)
           " aka-nonce-data-max=" ISC_STR(IMSSEC_AKA_NONCE_DATA_MAX)
           " digest-extra-max=" ISC_STR(IMSSEC_DIGEST_EXTRA_MAX)
           " digest-nonce-max=" ISC_STR(IMSSEC_DIGEST_NONCE_MAX)
           " sa-impi-max=" ISC_STR(IMSSEC_SA_IMPI_MAX)
           " sa-impu-max=" ISC_STR(IMSSEC_SA_IMPU_MAX)
           " srtp-keys-max=" ISC_STR(IMSSEC_SRTP_KEYS_MAX)
           " srtp-mki-max=" ISC_STR(IMSSEC_SRTP_MKI_MAX)
           " srtp-replay-window-max=" ISC_STR(IMSSEC_SRTP_REPLAY_WINDOW_MAX)
           " sdp-crypto-max=" ISC_STR(IMSSEC_SDP_CRYPTO_MAX);
}

IMSSEC_API void imssec_wipe(void *p, size_t n)
{
    isc_wipe(p, n);
}

IMSSEC_API int imssec_ct_equal(const void *a, const void *b, size_t n)
{
    return isc_ct_eq(a, b, n);
}

static const char isc_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

IMSSEC_API int imssec_base64_encode(const uint8_t *in, size_t in_len, char *out,
                                    size_t out_cap, size_t *out_len)
{
    size_t need, i, o = 0;
    if ((!in && in_len) || !out_len || (out_cap && !out) || in_len > (SIZE_MAX / 4) * 3 - 3)
        return IMSSEC_E_PARAM;
    need = (in_len + 2) / 3 * 4;
    *out_len = need;
    if (need > out_cap)
        return IMSSEC_E_SPACE; /* *out_len is the size needed either way */
    for (i = 0; i + 3 <= in_len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = isc_b64_alphabet[v >> 18];
        out[o++] = isc_b64_alphabet[(v >> 12) & 63];
        out[o++] = isc_b64_alphabet[(v >> 6) & 63];
        out[o++] = isc_b64_alphabet[v & 63];
    }
    if (in_len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = isc_b64_alphabet[v >> 18];
        out[o++] = isc_b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (in_len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = isc_b64_alphabet[v >> 18];
        out[o++] = isc_b64_alphabet[(v >> 12) & 63];
        out[o++] = isc_b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    return IMSSEC_OK;
}

/* Value of one base64 symbol, or -1.  Branch-light: nonces are not secret,
 * but AKAv2 passwords pass through here. */
static ISC_UNUSED int isc_b64_value(unsigned char c)
{
    int v = -1;
    v += ((c >= 'A') & (c <= 'Z')) * (c - 'A' + 1);
    v += ((c >= 'a') & (c <= 'z')) * (c - 'a' + 27);
    v += ((c >= '0') & (c <= '9')) * (c - '0' + 53);
    v += (c == '+') * 63;
    v += (c == '/') * 64;
    return v;
}

IMSSEC_API int imssec_base64_decode(imssec_str in, uint8_t *out, size_t out_cap,
                                    size_t *out_len)
{
    const char *text = in.p;
    size_t len = in.n, data = len, need, i, o = 0;
    uint32_t acc = 0;
    if ((!text && len) || !out_len || (out_cap && !out))
        return IMSSEC_E_PARAM;
    /* padding: if present it must complete the last quantum exactly */
    if (data > 0 && text[data - 1] == '=') {
        data--;
        if (data > 0 && text[data - 1] == '=')
            data--;
        if (len % 4 != 0)
            return IMSSEC_E_SYNTAX;
    }
    if (data % 4 == 1)
        return IMSSEC_E_SYNTAX; /* a single leftover symbol carries < 8 bits */
    if (len != data && (data + (4 - data % 4) % 4) != len)
        return IMSSEC_E_SYNTAX; /* "==" after a 3-symbol tail, "=" after 2, ... */
    need = data / 4 * 3 + (data % 4 ? data % 4 - 1 : 0);
    for (i = 0; i < data; i++)
        if (isc_b64_value((unsigned char)text[i]) < 0)
            return IMSSEC_E_SYNTAX;
    if (data % 4 == 2 && (isc_b64_value((unsigned char)text[data - 1]) & 15))
        return IMSSEC_E_SYNTAX; /* non-canonical: unused bits set */
    if (data % 4 == 3 && (isc_b64_value((unsigned char)text[data - 1]) & 3))
        return IMSSEC_E_SYNTAX;
    *out_len = need;
    if (need > out_cap)
        return IMSSEC_E_SPACE;
    for (i = 0; i < data; i++) {
        acc = acc << 6 | (uint32_t)isc_b64_value((unsigned char)text[i]);
        if (i % 4 == 3) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (data % 4 == 2) {
        out[o++] = (uint8_t)(acc >> 4);
    } else if (data % 4 == 3) {
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    isc_wipe(&acc, sizeof acc);
    return IMSSEC_OK;
}


/* ---- the shared vocabulary ------------------------------------------------ */

IMSSEC_API imssec_str imssec_cstr(const char *s)
{
    imssec_str r;
    r.p = s;
    r.n = s ? strlen(s) : 0;
    return r;
}

static const char *const isc_alg_names[] = {"null", "hmac-md5-96", "hmac-sha-1-96", "aes-gmac"};
static const char *const isc_ealg_names[] = {"null", "des-ede3-cbc", "aes-cbc", "aes-gcm"};
/* Annex H and Annex M spellings; RFC 3948 transport mode has none */
static const char *const isc_mode_names[] = {"trans", "tun", "UDP-enc-tun", NULL};
static const char *const isc_transport_names[] = {"udp", "tcp"};

/* Index of `name` in names[0..count) (case-insensitive, whole token), or
 * `unknown`.  No strlen per candidate: the keyword must end where the name
 * does. */
static int isc_name_lookup(const char *p, size_t n, const char *const *names, int count,
                           int unknown)
{
    int k;
    for (k = 0; k < count; k++) {
        const char *kw = names[k];
        size_t i;
        if (!kw)
            continue;
        for (i = 0; i < n && kw[i]; i++)
            if (isc_lower((unsigned char)p[i]) != isc_lower((unsigned char)kw[i]))
                break;
        if (i == n && kw[n] == 0)
            return k;
    }
    return unknown;
}

IMSSEC_API const char *imssec_alg_name(int alg)
{
    return (alg >= 0 && alg < IMSSEC_ALG_UNKNOWN) ? isc_alg_names[alg] : NULL;
}
IMSSEC_API const char *imssec_ealg_name(int ealg)
{
    return (ealg >= 0 && ealg < IMSSEC_EALG_UNKNOWN) ? isc_ealg_names[ealg] : NULL;
}
IMSSEC_API const char *imssec_mode_name(int mode)
{
    return (mode >= 0 && mode < IMSSEC_MODE_UNKNOWN) ? isc_mode_names[mode] : NULL;
}
IMSSEC_API const char *imssec_transport_name(int transport)
{
    return (transport == IMSSEC_TRANSPORT_UDP || transport == IMSSEC_TRANSPORT_TCP)
               ? isc_transport_names[transport]
               : NULL;
}
IMSSEC_API int imssec_alg_from_name(imssec_str name)
{
    return isc_name_lookup(name.p, name.n, isc_alg_names, 4, IMSSEC_ALG_UNKNOWN);
}
IMSSEC_API int imssec_ealg_from_name(imssec_str name)
{
    return isc_name_lookup(name.p, name.n, isc_ealg_names, 4, IMSSEC_EALG_UNKNOWN);
}
IMSSEC_API int imssec_mode_from_name(imssec_str name)
{
    return isc_name_lookup(name.p, name.n, isc_mode_names, 3, IMSSEC_MODE_UNKNOWN);
}
IMSSEC_API int imssec_transport_from_name(imssec_str name)
{
    return isc_name_lookup(name.p, name.n, isc_transport_names, 2, -1);
}

/* ---- error details --------------------------------------------------------- */

/* Fill an error-info struct (optional) and return the code: the one way
 * every module reports why. */
static ISC_UNUSED int isc_fail(imssec_errinfo *e, int code, const char *what, const char *clause)
{
    if (e) {
        memset(e, 0, sizeof *e);
        e->code = code;
        e->what = what;
        e->clause = clause;
        e->state = -1;
        e->event = -1;
    }
    return code;
}

/* The same for an argument error: `param` names the argument or field. */
static ISC_UNUSED int isc_fail_param(imssec_errinfo *e, const char *param, const char *what)
{
    isc_fail(e, IMSSEC_E_PARAM, what, NULL);
    if (e)
        e->param = param;
    return IMSSEC_E_PARAM;
}

static void isc_errinfo_put(isc_sbuf *b, const imssec_errinfo *e)
{
    isc_sb_puts(b, imssec_errname(e->code));
    isc_sb_puts(b, ": ");
    if (e->event >= 0 && e->state >= 0) {
        isc_sb_puts(b, "event ");
        isc_sb_puts(b, imssec_sa_event_name(e->event));
        isc_sb_puts(b, " in state ");
        isc_sb_puts(b, imssec_sa_state_name(e->state));
        isc_sb_puts(b, ": ");
    }
    isc_sb_puts(b, e->what ? e->what : imssec_strerror(e->code));
    if (e->param) {
        isc_sb_puts(b, " [");
        isc_sb_puts(b, e->param);
        isc_sb_puts(b, "]");
    }
    if (e->limit) {
        isc_sb_puts(b, " (limit ");
        isc_sb_putu(b, e->limit);
        isc_sb_puts(b, ")");
    }
    if (e->sys_errno) {
        isc_sb_puts(b, " (errno ");
        isc_sb_putu(b, (uint64_t)(e->sys_errno < 0 ? -(int64_t)e->sys_errno : e->sys_errno));
        isc_sb_puts(b, ")");
    }
    if (e->offset || e->item_index || e->value_index) {
        isc_sb_puts(b, " at value ");
        isc_sb_putu(b, e->value_index);
        isc_sb_puts(b, " item ");
        isc_sb_putu(b, e->item_index);
        isc_sb_puts(b, " offset ");
        isc_sb_putu(b, e->offset);
    }
    if (e->sip_status) {
        isc_sb_puts(b, "; answer ");
        isc_sb_putu(b, (uint64_t)e->sip_status);
    }
    if (e->clause) {
        isc_sb_puts(b, " (");
        isc_sb_puts(b, e->clause);
        isc_sb_puts(b, ")");
    }
}

IMSSEC_API int imssec_errinfo_format(const imssec_errinfo *e, char *out, size_t out_cap,
                                     size_t *out_len)
{
    isc_sbuf b;
    if (!e || !out_len || (out_cap && !out))
        return IMSSEC_E_PARAM;
    isc_sb_init(&b, NULL, 0); /* measure first: nothing is written unless it all fits */
    isc_errinfo_put(&b, e);
    *out_len = b.len;
    if (b.len > out_cap)
        return IMSSEC_E_SPACE;
    isc_sb_init(&b, out, out_cap);
    isc_errinfo_put(&b, e);
    return IMSSEC_OK;
}
