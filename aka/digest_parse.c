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
    const char *why; /* set where a parse fails: the errinfo `what` */
} dig_cur;

/* A syntax error at the cursor, with its reason. */
#define DIG_BAD(c, msg) ((c)->why = (msg), IMSSEC_E_SYNTAX)

/* Report a failed parse through the optional errinfo. */
static int dig_report(imssec_errinfo *err, int rc, const dig_cur *c, size_t item,
                      const char *clause)
{
    isc_fail(err, rc,
             c->why ? c->why
                    : rc == IMSSEC_E_RANGE ? "more unknown parameters than IMSSEC_DIGEST_EXTRA_MAX"
                                           : "malformed header value",
             clause);
    if (err) {
        err->offset = c->i;
        err->item_index = item;
        if (rc == IMSSEC_E_RANGE)
            err->limit = IMSSEC_DIGEST_EXTRA_MAX;
    }
    return rc;
}

/* The cursor-style wrappers over core/lex.c, the library's one RFC 3261
 * lexer (the sec-agree parser uses the same functions). */
static void dig_lws(dig_cur *c)
{
    c->i = isc_lex_lws(c->p, c->n, c->i);
}

static int dig_token(dig_cur *c, imssec_str *out)
{
    size_t s = c->i;
    c->i = isc_lex_token(c->p, c->n, c->i);
    out->p = c->p + s;
    out->n = c->i - s;
    return out->n ? 0 : -1;
}

/* quoted-string (RFC 3261 25.1): the slice excludes the quotes and keeps
 * quoted-pairs. */
static int dig_quoted(dig_cur *c, imssec_str *out)
{
    size_t e;
    if (c->i >= c->n || c->p[c->i] != '"')
        return -1;
    e = isc_lex_quoted(c->p, c->n, c->i);
    if (e == 0)
        return -1;
    out->p = c->p + c->i + 1;
    out->n = e - c->i - 2;
    c->i = e;
    return 0;
}

IMSSEC_API int imssec_digest_unquote(imssec_str s, char *out, size_t out_cap, size_t *out_len)
{
    if (!out_len || (!s.p && s.n) || (out_cap && !out))
        return IMSSEC_E_PARAM;
    return isc_lex_unquote(s, out, out_cap, out_len);
}

/* One auth-param: name = (token | quoted-string).  For a challenge's first
 * element also token68.  Returns 0, 1 when the token is a new scheme (cursor
 * restored to it), -1 on syntax error. */
typedef struct dig_kv {
    imssec_str name, value;
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
        return IMSSEC_E_RANGE; /* more than the configured bound: not a size the caller can fix */
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
static int dig_qop_mask(imssec_str v, unsigned *mask)
{
    dig_cur c;
    unsigned m = 0;
    c.p = v.p ? v.p : "";
    c.n = v.n;
    c.i = 0;
    for (;;) {
        imssec_str t;
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
    return imssec_digest_alg_from_name(kv->value);
}

/* token68 (RFC 7235 2.1) for non-Digest schemes such as Bearer. */
static int dig_token68(dig_cur *c, imssec_str *out)
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
                    return DIG_BAD(c, "expected ',' after token68");
                first = 0;
                continue;
            }
            return DIG_BAD(c, "malformed auth-param");
        }
        if (r == 1) {
            if (comma)
                break; /* "Negotiate, Digest ...": the next challenge */
            if (first && !ch->is_digest) {
                /* "Bearer abc" style: a lone token68 */
                imssec_str t;
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
            return DIG_BAD(c, "expected '=' or ','"); /* "Digest Basic ...": no separator */
        }
        first = 0;
        idx = dig_name_index(&kv, dig_ch_names, (int)ISC_ARRAY_LEN(dig_ch_names));
        if (idx >= 0) {
            if (seen & (1u << idx))
                return DIG_BAD(c, "duplicate parameter");
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
                    return DIG_BAD(c, "qop is not a token list");
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
            if (rc == IMSSEC_E_SYNTAX)
                return DIG_BAD(c, "duplicate parameter");
            if (rc != IMSSEC_OK)
                return rc;
        }
        if (dig_sep(c) != 0)
            return DIG_BAD(c, "expected ','");
    }
    if (ch->is_digest && (!(seen & 1u) || !(seen & 2u)))
        return DIG_BAD(c, "Digest challenge without realm or nonce"); /* RFC 2617 3.2.1 */
    return IMSSEC_OK;
}

/* One challenge: scheme, then its parameters. */
static int dig_challenge_one(dig_cur *c, imssec_digest_challenge *ch)
{
    memset(ch, 0, sizeof *ch);
    if (dig_token(c, &ch->scheme) != 0)
        return DIG_BAD(c, "expected an auth-scheme");
    ch->is_digest = isc_token_eq(ch->scheme.p, ch->scheme.n, "Digest");
    ch->alg = ch->is_digest ? IMSSEC_DIGEST_MD5 : IMSSEC_DIGEST_UNKNOWN;
    if (c->i < c->n && c->p[c->i] != ' ' && c->p[c->i] != '\t' && c->p[c->i] != ',' &&
        c->p[c->i] != '\r' && c->p[c->i] != '\n')
        return DIG_BAD(c, "expected LWS after the auth-scheme");
    return dig_challenge_params(c, ch);
}

IMSSEC_API int imssec_digest_challenge_parse(imssec_str value, imssec_digest_challenge *out,
                                             size_t out_cap, size_t *out_len,
                                             imssec_errinfo *err)
{
    dig_cur c;
    size_t count = 0;
    if ((!value.p && value.n) || !out_len || (!out && out_cap))
        return isc_fail_param(err, "out", "NULL argument");
    c.p = value.p ? value.p : "";
    c.n = value.n;
    c.i = 0;
    c.why = NULL;
    /* The first pass validates and counts, the second writes, so that on
     * error nothing in out[] changes; the first goes on past out_cap so that
     * IMSSEC_E_SPACE can report the count needed. */
    for (;;) {
        imssec_digest_challenge tmp;
        int rc;
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        if ((rc = dig_challenge_one(&c, &tmp)) != IMSSEC_OK)
            return dig_report(err, rc, &c, count, "RFC 7235 4.1, RFC 2617 3.2.1");
        count++;
    }
    if (count == 0) {
        c.why = "no challenge";
        return dig_report(err, IMSSEC_E_SYNTAX, &c, 0, "RFC 7235 4.1");
    }
    *out_len = count;
    if (count > out_cap)
        return IMSSEC_E_SPACE;
    c.i = 0;
    for (count = 0;;) {
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        (void)dig_challenge_one(&c, &out[count++]);
    }
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
static int dig_nc(imssec_str v, uint32_t *nc)
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

static int dig_qop_value(imssec_str v, int *qop)
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

static int dig_credentials(dig_cur *c, imssec_digest_credentials *out);

IMSSEC_API int imssec_digest_credentials_parse(imssec_str value, imssec_digest_credentials *out,
                                               imssec_errinfo *err)
{
    dig_cur c;
    int rc;
    if ((!value.p && value.n) || !out)
        return isc_fail_param(err, "out", "NULL argument");
    c.p = value.p ? value.p : "";
    c.n = value.n;
    c.i = 0;
    c.why = NULL;
    rc = dig_credentials(&c, out);
    if (rc != IMSSEC_OK) {
        if (rc == IMSSEC_E_UNSUPPORTED && !c.why)
            c.why = "not the Digest scheme";
        return dig_report(err, rc, &c, 0, "RFC 2617 3.2.2");
    }
    return IMSSEC_OK;
}

static int dig_credentials(dig_cur *cp, imssec_digest_credentials *out)
{
    dig_cur c = *cp;
    imssec_digest_credentials cr;
    imssec_str scheme;
    unsigned seen = 0;
    int rc = IMSSEC_OK;
    memset(&cr, 0, sizeof cr);
    dig_lws(&c);
    if (dig_token(&c, &scheme) != 0) {
        rc = DIG_BAD(&c, "expected an auth-scheme");
        goto done;
    }
    if (!isc_token_eq(scheme.p, scheme.n, "Digest")) {
        rc = IMSSEC_E_UNSUPPORTED;
        goto done;
    }
    if (c.i >= c.n || (c.p[c.i] != ' ' && c.p[c.i] != '\t' && c.p[c.i] != '\r' && c.p[c.i] != '\n')) {
        rc = DIG_BAD(&c, "expected LWS after Digest");
        goto done;
    }
    cr.alg = IMSSEC_DIGEST_MD5;
    for (;;) {
        dig_kv kv;
        int idx, r;
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        memset(&kv, 0, sizeof kv);
        r = dig_param(&c, &kv);
        if (r != 0) { /* a second scheme is not allowed here */
            rc = DIG_BAD(&c, "malformed auth-param");
            goto done;
        }
        idx = dig_name_index(&kv, dig_cr_names, (int)ISC_ARRAY_LEN(dig_cr_names));
        if (idx >= 0) {
            if (seen & (1u << idx)) {
                rc = DIG_BAD(&c, "duplicate parameter");
                goto done;
            }
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
                if (dig_qop_value(kv.value, &cr.qop_val) != 0) {
                    rc = DIG_BAD(&c, "qop is neither auth nor auth-int");
                    goto done;
                }
                break;
            case 9:
                if (dig_nc(kv.value, &cr.nc) != 0) {
                    rc = DIG_BAD(&c, "nc is not 8 hex digits");
                    goto done;
                }
                break;
            case 10: cr.auts = kv.value; break;
            default: cr.userhash = dig_true(&kv); break;
            }
        } else {
            if ((rc = dig_add_extra(cr.extra, &cr.n_extra, &kv)) != IMSSEC_OK) {
                if (rc == IMSSEC_E_SYNTAX)
                    c.why = "duplicate parameter";
                goto done;
            }
        }
        if (dig_sep(&c) != 0) {
            rc = DIG_BAD(&c, "expected ','");
            goto done;
        }
    }
    /* username, realm, nonce, uri, response are required (RFC 2617 3.2.2;
     * IMS initial REGISTER sends them empty); qop needs nc and cnonce */
    if ((seen & 0x1fu) != 0x1fu)
        rc = DIG_BAD(&c, "username, realm, nonce, uri and response are required");
    else if ((seen & (1u << 8)) && (!(seen & (1u << 9)) || !(seen & (1u << 6))))
        rc = DIG_BAD(&c, "qop needs nc and cnonce");
    else
        *out = cr;
done:
    *cp = c;
    return rc;
}

static const char *const dig_info_names[] = {"nextnonce", "qop", "rspauth", "cnonce", "nc"};

IMSSEC_API int imssec_digest_info_parse(imssec_str value, imssec_digest_info *out,
                                         imssec_errinfo *err)
{
    dig_cur c;
    imssec_digest_info in;
    unsigned seen = 0;
    if ((!value.p && value.n) || !out)
        return isc_fail_param(err, "out", "NULL argument");
    c.p = value.p ? value.p : "";
    c.n = value.n;
    c.i = 0;
    c.why = NULL;
    memset(&in, 0, sizeof in);
    for (;;) {
        dig_kv kv;
        int idx;
        (void)dig_skip_empty(&c);
        if (c.i >= c.n)
            break;
        memset(&kv, 0, sizeof kv);
        if (dig_param(&c, &kv) != 0)
            return dig_report(err, DIG_BAD(&c, "malformed auth-param"), &c, 0, "RFC 2617 3.2.3");
        idx = dig_name_index(&kv, dig_info_names, (int)ISC_ARRAY_LEN(dig_info_names));
        if (idx >= 0) {
            if (seen & (1u << idx))
                return dig_report(err, DIG_BAD(&c, "duplicate parameter"), &c, 0, "RFC 2617 3.2.3");
            seen |= 1u << idx;
            switch (idx) {
            case 0: in.nextnonce = kv.value; break;
            case 1:
                in.qop = kv.value;
                if (dig_qop_value(kv.value, &in.qop_val) != 0)
                    return dig_report(err, DIG_BAD(&c, "qop is neither auth nor auth-int"), &c, 0,
                                      "RFC 2617 3.2.3");
                break;
            case 2: in.rspauth = kv.value; break;
            case 3: in.cnonce = kv.value; break;
            default:
                in.nc_text = kv.value;
                if (dig_nc(kv.value, &in.nc) != 0)
                    return dig_report(err, DIG_BAD(&c, "nc is not 8 hex digits"), &c, 0,
                                      "RFC 2617 3.2.3");
                break;
            }
        } /* unknown Authentication-Info params are ignored (RFC 7615) */
        if (dig_sep(&c) != 0)
            return dig_report(err, DIG_BAD(&c, "expected ','"), &c, 0, "RFC 2617 3.2.3");
    }
    if (seen == 0)
        return dig_report(err, DIG_BAD(&c, "no known parameter"), &c, 0, "RFC 2617 3.2.3");
    *out = in;
    return IMSSEC_OK;
}

/* An unquoted copy of a parsed value, on the stack: what the server and the
 * client hash. */
#define DIG_FIELD_MAX 256 /* longest unquoted value handled on the stack */

typedef struct dig_field {
    char buf[DIG_FIELD_MAX];
    imssec_str s;
} dig_field;

static int dig_unq(imssec_str v, dig_field *f)
{
    size_t n = 0;
    if (isc_lex_unquote(v, f->buf, sizeof f->buf, &n) != IMSSEC_OK)
        return -1;
    f->s.p = f->buf;
    f->s.n = n;
    return 0;
}

