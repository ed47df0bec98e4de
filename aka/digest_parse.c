/*
 * digest_parse.c -- zero-copy parsers for WWW-Authenticate /
 * Proxy-Authenticate (several challenges), Authorization /
 * Proxy-Authorization and Authentication-Info (RFC 2617 section 3.2, RFC
 * 3261 section 25.1 grammar, RFC 7235 section 2.1 lists).
 *
 * Peer text is hostile: every loop advances at least one byte or ends, every
 * read is bounds-checked against the slice length, and outputs are written
 * only when the whole value parsed.
 */
#include "../imssec.h"

typedef struct dig_cur {
    const char *p;
    size_t n, i;
} dig_cur;

/* RFC 3261 token characters */
static int dig_is_token(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_':
    case '+': case '`': case '\'': case '~':
        return 1;
    default:
        return 0;
    }
}

/* Skip LWS = [*WSP CRLF] 1*WSP (bare LF tolerated).  A line break not
 * followed by whitespace ends the value: it is left for the caller, which
 * then fails on it. */
static void dig_lws(dig_cur *c)
{
    for (;;) {
        if (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t')) {
            c->i++;
        } else if (c->i + 2 < c->n && c->p[c->i] == '\r' && c->p[c->i + 1] == '\n' &&
                   (c->p[c->i + 2] == ' ' || c->p[c->i + 2] == '\t')) {
            c->i += 3;
        } else if (c->i + 1 < c->n && c->p[c->i] == '\n' &&
                   (c->p[c->i + 1] == ' ' || c->p[c->i + 1] == '\t')) {
            c->i += 2;
        } else {
            return;
        }
    }
}

static int dig_token(dig_cur *c, imssec_digest_str *out)
{
    size_t s = c->i;
    while (c->i < c->n && dig_is_token((unsigned char)c->p[c->i]))
        c->i++;
    out->p = c->p + s;
    out->n = c->i - s;
    return out->n ? 0 : -1;
}

/* quoted-string (RFC 3261 25.1): the slice excludes the quotes and keeps
 * quoted-pairs. */
static int dig_quoted(dig_cur *c, imssec_digest_str *out)
{
    size_t s;
    if (c->i >= c->n || c->p[c->i] != '"')
        return -1;
    s = ++c->i;
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->p[c->i];
        if (ch == '"') {
            out->p = c->p + s;
            out->n = c->i - s;
            c->i++;
            return 0;
        }
        if (ch == '\\') {
            unsigned char e;
            if (c->i + 1 >= c->n)
                return -1;
            e = (unsigned char)c->p[c->i + 1];
            if (e == '\r' || e == '\n' || e > 0x7f)
                return -1;
            c->i += 2;
            continue;
        }
        if (ch == '\r' || ch == '\n') {
            size_t before = c->i;
            dig_lws(c);
            if (c->i == before)
                return -1; /* a line break that is not LWS */
            continue;
        }
        if (ch < 0x20 && ch != '\t')
            return -1;
        if (ch == 0x7f)
            return -1;
        c->i++;
    }
    return -1; /* unterminated */
}

IMSSEC_API int imssec_digest_unquote(imssec_digest_str s, char *out, size_t cap,
                                     size_t *out_len)
{
    size_t i, n = 0;
    if (!out_len || (!s.p && s.n))
        return IMSSEC_E_PARAM;
    for (i = 0; i < s.n; i++, n++) {
        if (s.p[i] == '\\') {
            if (++i >= s.n)
                return IMSSEC_E_SYNTAX;
        }
    }
    *out_len = n;
    if (n > cap)
        return IMSSEC_E_SPACE;
    for (i = 0, n = 0; i < s.n; i++)
        out[n++] = s.p[i] == '\\' ? s.p[++i] : s.p[i];
    return IMSSEC_OK;
}

/* One auth-param: name = (token | quoted-string).  For a challenge's first
 * element also token68.  Returns 0, 1 when the token is a new scheme (cursor
 * restored to it), -1 on syntax error. */
typedef struct dig_kv {
    imssec_digest_str name, value;
    int quoted;
} dig_kv;

static int dig_param(dig_cur *c, dig_kv *kv)
{
    size_t start = c->i;
    if (dig_token(c, &kv->name) != 0)
        return -1;
    dig_lws(c);
    if (c->i >= c->n || c->p[c->i] != '=') {
        c->i = start;
        return 1;
    }
    c->i++;
    dig_lws(c);
    if (c->i < c->n && c->p[c->i] == '"') {
        kv->quoted = 1;
        return dig_quoted(c, &kv->value);
    }
    kv->quoted = 0;
    return dig_token(c, &kv->value);
}

/* After a value: LWS, then ',' (consumed) or end.  -1 otherwise. */
static int dig_sep(dig_cur *c)
{
    dig_lws(c);
    if (c->i >= c->n)
        return 0;
    if (c->p[c->i] != ',')
        return -1;
    c->i++;
    return 0;
}

/* Skip empty list elements: LWS and commas (RFC 7230 7, #rule).  Returns 1
 * if a comma was skipped. */
static int dig_skip_empty(dig_cur *c)
{
    int comma = 0;
    for (;;) {
        dig_lws(c);
        if (c->i < c->n && c->p[c->i] == ',') {
            c->i++;
            comma = 1;
        } else {
            return comma;
        }
    }
}

static int dig_true(const dig_kv *kv)
{
    return isc_token_eq(kv->value.p, kv->value.n, "true");
}

/* Names seen so far (known ones by bit, unknown in `extra`): a repeated
 * parameter is a syntax error (which value would the peer mean?). */
static int dig_add_extra(imssec_digest_param *extra, size_t *n_extra, const dig_kv *kv)
{
    size_t i;
    for (i = 0; i < *n_extra; i++) {
        size_t j;
        int same = extra[i].name.n == kv->name.n;
        for (j = 0; same && j < kv->name.n; j++)
            same = isc_lower((unsigned char)extra[i].name.p[j]) ==
                   isc_lower((unsigned char)kv->name.p[j]);
        if (same)
            return IMSSEC_E_SYNTAX;
    }
    if (*n_extra >= IMSSEC_DIGEST_EXTRA_MAX)
        return IMSSEC_E_SPACE;
    extra[*n_extra].name = kv->name;
    extra[*n_extra].value = kv->value;
    extra[*n_extra].quoted = kv->quoted;
    (*n_extra)++;
    return IMSSEC_OK;
}

/* Index of kv's name in `names`, or -1. */
static int dig_name_index(const dig_kv *kv, const char *const *names, int count)
{
    int i;
    for (i = 0; i < count; i++)
        if (isc_token_eq(kv->name.p, kv->name.n, names[i]))
            return i;
    return -1;
}

/* qop list of a challenge: quoted "auth,auth-int" (a bare token is
 * tolerated); unknown options are ignored, empty elements allowed. */
static int dig_qop_mask(imssec_digest_str v, unsigned *mask)
{
    dig_cur c;
    unsigned m = 0;
    c.p = v.p;
    c.n = v.n;
    c.i = 0;
    for (;;) {
        imssec_digest_str t;
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        if (dig_token(&c, &t) != 0)
            return -1;
        if (isc_token_eq(t.p, t.n, "auth"))
            m |= IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH);
        else if (isc_token_eq(t.p, t.n, "auth-int"))
            m |= IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH_INT);
        if (dig_sep(&c) != 0)
            return -1;
    }
    *mask = m;
    return 0;
}

static int dig_alg_value(const dig_kv *kv)
{
    return imssec_digest_alg_from_name(kv->value.p, kv->value.n);
}

/* token68 (RFC 7235 2.1) for non-Digest schemes such as Bearer. */
static int dig_token68(dig_cur *c, imssec_digest_str *out)
{
    size_t s = c->i;
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->p[c->i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '+' || ch == '/')
            c->i++;
        else
            break;
    }
    if (c->i == s)
        return -1;
    while (c->i < c->n && c->p[c->i] == '=')
        c->i++;
    out->p = c->p + s;
    out->n = c->i - s;
    return 0;
}

static const char *const dig_ch_names[] = {"realm",  "nonce",   "opaque",  "domain",  "algorithm",
                                           "qop",    "stale",   "charset", "userhash"};

/* Parse the params of one challenge after its scheme. */
static int dig_challenge_params(dig_cur *c, imssec_digest_challenge *ch)
{
    unsigned seen = 0;
    int first = 1;
    for (;;) {
        dig_kv kv;
        size_t before;
        int r, idx, comma;
        comma = dig_skip_empty(c) | !first; /* dig_sep ate the comma after an element */
        if (c->i >= c->n)
            break;
        before = c->i;
        memset(&kv, 0, sizeof kv);
        r = dig_param(c, &kv);
        if (r < 0) {
            /* maybe token68 right after a non-Digest scheme */
            c->i = before;
            if (first && !ch->is_digest && dig_token68(c, &ch->token68) == 0) {
                if (dig_sep(c) != 0)
                    return IMSSEC_E_SYNTAX;
                first = 0;
                continue;
            }
            return IMSSEC_E_SYNTAX;
        }
        if (r == 1) {
            if (comma)
                break; /* "Negotiate, Digest ...": the next challenge */
            if (first && !ch->is_digest) {
                /* "Bearer abc" style: a lone token68 */
                imssec_digest_str t;
                if (dig_token68(c, &t) == 0) {
                    size_t save = c->i;
                    dig_lws(c);
                    if (c->i >= c->n || c->p[c->i] == ',') {
                        ch->token68 = t;
                        (void)dig_sep(c);
                        first = 0;
                        continue;
                    }
                    c->i = save;
                }
                c->i = before;
            }
            return IMSSEC_E_SYNTAX; /* "Digest Basic ...": no separator */
        }
        first = 0;
        idx = dig_name_index(&kv, dig_ch_names, (int)ISC_ARRAY_LEN(dig_ch_names));
        if (idx >= 0) {
            if (seen & (1u << idx))
                return IMSSEC_E_SYNTAX;
            seen |= 1u << idx;
            switch (idx) {
            case 0: ch->realm = kv.value; break;
            case 1: ch->nonce = kv.value; break;
            case 2: ch->opaque = kv.value; break;
            case 3: ch->domain = kv.value; break;
            case 4:
                ch->algorithm = kv.value;
                ch->alg = dig_alg_value(&kv);
                break;
            case 5:
                ch->qop = kv.value;
                if (dig_qop_mask(kv.value, &ch->qop_mask) != 0)
                    return IMSSEC_E_SYNTAX;
                /* only unknown options (or none): not an error (RFC 7616
                 * 3.3, RFC 2617 3.2.1: clients ignore unknown values, and
                 * one odd challenge must not make the others in the list
                 * unusable); respond and select treat it as unsupported */
                ch->qop_unknown_only = ch->qop_mask == 0;
                break;
            case 6: ch->stale = dig_true(&kv); break;
            case 7: ch->charset = kv.value; break;
            default: ch->userhash = dig_true(&kv); break;
            }
        } else {
            int rc = dig_add_extra(ch->extra, &ch->n_extra, &kv);
            if (rc != IMSSEC_OK)
                return rc;
        }
        if (dig_sep(c) != 0)
            return IMSSEC_E_SYNTAX;
    }
    if (ch->is_digest && (!(seen & 1u) || !(seen & 2u)))
        return IMSSEC_E_SYNTAX; /* realm and nonce are required (RFC 2617 3.2.1) */
    return IMSSEC_OK;
}

IMSSEC_API int imssec_digest_challenge_parse(const char *text, size_t len,
                                             imssec_digest_challenge *out, size_t cap,
                                             size_t *n)
{
    dig_cur c;
    size_t count;
    if ((!text && len) || !n || *n > cap || (!out && cap))
        return IMSSEC_E_PARAM;
    c.p = text;
    c.n = len;
    c.i = 0;
    count = *n;
    /* first pass validates and counts; second pass writes, so that on error
     * nothing in out[] changes.  The first pass goes on past `cap` so that
     * IMSSEC_E_SPACE can report the count needed (the input is parsed once
     * more at most: linear). */
    {
        size_t added = 0;
        for (;;) {
            imssec_digest_challenge tmp;
            int rc;
            (void)dig_skip_empty(&c);
            if (c.i >= c.n)
                break;
            memset(&tmp, 0, sizeof tmp);
            if (dig_token(&c, &tmp.scheme) != 0)
                return IMSSEC_E_SYNTAX;
            tmp.is_digest = isc_token_eq(tmp.scheme.p, tmp.scheme.n, "Digest");
            tmp.alg = tmp.is_digest ? IMSSEC_DIGEST_MD5 : IMSSEC_DIGEST_UNKNOWN;
            if (c.i < c.n && c.p[c.i] != ' ' && c.p[c.i] != '\t' && c.p[c.i] != ',' &&
                c.p[c.i] != '\r' && c.p[c.i] != '\n')
                return IMSSEC_E_SYNTAX;
            /* IMSSEC_E_SPACE from here (too many unknown parameters) is not
             * cured by a bigger array: *n stays as it was */
            rc = dig_challenge_params(&c, &tmp);
            if (rc != IMSSEC_OK)
                return rc;
            added++;
        }
        if (added == 0)
            return IMSSEC_E_SYNTAX;
        if (added > cap - count) {
            *n = count + added;
            return IMSSEC_E_SPACE;
        }
    }
    c.i = 0;
    for (;;) {
        imssec_digest_challenge *ch;
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        ch = &out[count++];
        memset(ch, 0, sizeof *ch);
        (void)dig_token(&c, &ch->scheme);
        ch->is_digest = isc_token_eq(ch->scheme.p, ch->scheme.n, "Digest");
        ch->alg = ch->is_digest ? IMSSEC_DIGEST_MD5 : IMSSEC_DIGEST_UNKNOWN;
        (void)dig_challenge_params(&c, ch);
    }
    *n = count;
    return IMSSEC_OK;
}

/* 1 when a challenge offers qop but no option we know (also a hand-filled
 * challenge with qop text and an empty mask): it cannot be answered without
 * a downgrade to the qop-less RFC 2069 form. */
static int dig_qop_unusable(const imssec_digest_challenge *ch)
{
    return ch->qop_mask == 0 && (ch->qop_unknown_only || ch->qop.n != 0);
}

IMSSEC_API int imssec_digest_challenge_select(const imssec_digest_challenge *ch, size_t n,
                                              const int *pref, size_t npref)
{
    size_t i, j;
    if ((!ch && n) || (!pref && npref))
        return -1;
    for (j = 0; j < npref; j++)
        for (i = 0; i < n; i++)
            if (ch[i].is_digest && ch[i].alg == pref[j] && pref[j] != IMSSEC_DIGEST_UNKNOWN &&
                !dig_qop_unusable(&ch[i]))
                return (int)i;
    return -1;
}

static int dig_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = isc_lower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* nc = 8LHEX (RFC 2617 3.2.2; upper case tolerated) */
static int dig_nc(imssec_digest_str v, uint32_t *nc)
{
    uint32_t x = 0;
    size_t i;
    if (v.n != 8)
        return -1;
    for (i = 0; i < 8; i++) {
        int d = dig_hexval((unsigned char)v.p[i]);
        if (d < 0)
            return -1;
        x = x << 4 | (uint32_t)d;
    }
    *nc = x;
    return 0;
}

static int dig_qop_value(imssec_digest_str v, int *qop)
{
    if (isc_token_eq(v.p, v.n, "auth"))
        *qop = IMSSEC_DIGEST_QOP_AUTH;
    else if (isc_token_eq(v.p, v.n, "auth-int"))
        *qop = IMSSEC_DIGEST_QOP_AUTH_INT;
    else
        return -1;
    return 0;
}

static const char *const dig_cr_names[] = {"username", "realm",  "nonce",  "uri",
                                           "response", "algorithm", "cnonce", "opaque",
                                           "qop",      "nc",     "auts",   "userhash"};

IMSSEC_API int imssec_digest_credentials_parse(const char *text, size_t len,
                                               imssec_digest_credentials *out)
{
    dig_cur c;
    imssec_digest_credentials cr;
    imssec_digest_str scheme, nc_text = {NULL, 0};
    unsigned seen = 0;
    if ((!text && len) || !out)
        return IMSSEC_E_PARAM;
    c.p = text;
    c.n = len;
    c.i = 0;
    memset(&cr, 0, sizeof cr);
    dig_lws(&c);
    if (dig_token(&c, &scheme) != 0)
        return IMSSEC_E_SYNTAX;
    if (!isc_token_eq(scheme.p, scheme.n, "Digest"))
        return IMSSEC_E_UNSUPPORTED;
    if (c.i >= c.n || (c.p[c.i] != ' ' && c.p[c.i] != '\t' && c.p[c.i] != '\r' && c.p[c.i] != '\n'))
        return IMSSEC_E_SYNTAX;
    cr.alg = IMSSEC_DIGEST_MD5;
    for (;;) {
        dig_kv kv;
        int idx, r;
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        memset(&kv, 0, sizeof kv);
        r = dig_param(&c, &kv);
        if (r != 0)
            return IMSSEC_E_SYNTAX; /* a second scheme is not allowed here */
        idx = dig_name_index(&kv, dig_cr_names, (int)ISC_ARRAY_LEN(dig_cr_names));
        if (idx >= 0) {
            if (seen & (1u << idx))
                return IMSSEC_E_SYNTAX;
            seen |= 1u << idx;
            switch (idx) {
            case 0: cr.username = kv.value; break;
            case 1: cr.realm = kv.value; break;
            case 2: cr.nonce = kv.value; break;
            case 3: cr.uri = kv.value; break;
            case 4: cr.response = kv.value; break;
            case 5:
                cr.algorithm = kv.value;
                cr.alg = dig_alg_value(&kv);
                break;
            case 6: cr.cnonce = kv.value; break;
            case 7: cr.opaque = kv.value; break;
            case 8:
                cr.qop = kv.value;
                if (dig_qop_value(kv.value, &cr.qop_val) != 0)
                    return IMSSEC_E_SYNTAX;
                break;
            case 9:
                nc_text = kv.value;
                if (dig_nc(kv.value, &cr.nc) != 0)
                    return IMSSEC_E_SYNTAX;
                break;
            case 10: cr.auts = kv.value; break;
            default: cr.userhash = dig_true(&kv); break;
            }
        } else {
            int rc = dig_add_extra(cr.extra, &cr.n_extra, &kv);
            if (rc != IMSSEC_OK)
                return rc;
        }
        if (dig_sep(&c) != 0)
            return IMSSEC_E_SYNTAX;
    }
    /* username, realm, nonce, uri, response are required (RFC 2617 3.2.2;
     * IMS initial REGISTER sends them empty); qop needs nc and cnonce */
    if ((seen & 0x1fu) != 0x1fu)
        return IMSSEC_E_SYNTAX;
    if ((seen & (1u << 8)) && (!(seen & (1u << 9)) || !(seen & (1u << 6))))
        return IMSSEC_E_SYNTAX;
    (void)nc_text;
    *out = cr;
    return IMSSEC_OK;
}

static const char *const dig_info_names[] = {"nextnonce", "qop", "rspauth", "cnonce", "nc"};

IMSSEC_API int imssec_digest_info_parse(const char *text, size_t len, imssec_digest_info *out)
{
    dig_cur c;
    imssec_digest_info in;
    unsigned seen = 0;
    if ((!text && len) || !out)
        return IMSSEC_E_PARAM;
    c.p = text;
    c.n = len;
    c.i = 0;
    memset(&in, 0, sizeof in);
    for (;;) {
        dig_kv kv;
        int idx;
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        memset(&kv, 0, sizeof kv);
        if (dig_param(&c, &kv) != 0)
            return IMSSEC_E_SYNTAX;
        idx = dig_name_index(&kv, dig_info_names, (int)ISC_ARRAY_LEN(dig_info_names));
        if (idx >= 0) {
            if (seen & (1u << idx))
                return IMSSEC_E_SYNTAX;
            seen |= 1u << idx;
            switch (idx) {
            case 0: in.nextnonce = kv.value; break;
            case 1:
                in.qop = kv.value;
                if (dig_qop_value(kv.value, &in.qop_val) != 0)
                    return IMSSEC_E_SYNTAX;
                break;
            case 2: in.rspauth = kv.value; break;
            case 3: in.cnonce = kv.value; break;
            default:
                in.nc_text = kv.value;
                if (dig_nc(kv.value, &in.nc) != 0)
                    return IMSSEC_E_SYNTAX;
                break;
            }
        } /* unknown Authentication-Info params are ignored (RFC 7615) */
        if (dig_sep(&c) != 0)
            return IMSSEC_E_SYNTAX;
    }
    if (seen == 0)
        return IMSSEC_E_SYNTAX;
    *out = in;
    return IMSSEC_OK;
}
