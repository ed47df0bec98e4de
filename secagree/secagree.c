/*
 * secagree.c -- RFC 3329 Security-Client / -Server / -Verify parsing,
 * building and comparison with the TS 33.203 Annex H `ipsec-3gpp`
 * mechanism.
 *
 * One lexer (sec_lex_*) serves the parser, the parameter iterator, the
 * builder's validation and the Via parser, so that what the parser accepts
 * and what the iterator walks can never disagree.  Every loop advances an
 * index bounded by the input length; the per-mechanism parameter count is
 * capped (IMSSEC_SEC_MAX_PARAMS) so the duplicate checks stay O(1) per
 * parameter.
 */
#include "../imssec.h"

/* ---- character classes (RFC 3261 section 25.1) --------------------------- */

static int sec_is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
 * as a table: the parser's hottest test. */
static const uint8_t sec_token_tab[256] = {
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 1, ['.'] = 1,
    ['!'] = 1, ['%'] = 1, ['*'] = 1, ['_'] = 1, ['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1};

static int sec_is_token(int c)
{
    return sec_token_tab[c & 0xff];
}

static int sec_all_token(const char *p, size_t n)
{
    size_t i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!sec_is_token((unsigned char)p[i]))
            return 0;
    return 1;
}

static int sec_text_ieq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;
    if (an != bn)
        return 0;
    for (i = 0; i < an; i++)
        if (isc_lower((unsigned char)a[i]) != isc_lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* LWS = [*WSP CRLF] 1*WSP (RFC 3261 25.1).  A bare LF fold is accepted too:
 * stacks that unfold lines sloppily hand us LF-only text. */
static size_t sec_skip_lws(const char *p, size_t n, size_t i)
{
    for (;;) {
        if (i < n && (p[i] == ' ' || p[i] == '\t')) {
            i++;
        } else if (i + 2 < n && p[i] == '\r' && p[i + 1] == '\n' &&
                   (p[i + 2] == ' ' || p[i + 2] == '\t')) {
            i += 3;
        } else if (i + 1 < n && p[i] == '\n' && (p[i + 1] == ' ' || p[i + 1] == '\t')) {
            i += 2;
        } else {
            return i;
        }
    }
}

/* A parameter value: token, quoted-string or an IPv6 reference
 * (gen-value = token / host / quoted-string).  Returns the index after it,
 * or 0 on a syntax error (a value never starts at index 0). */
static size_t sec_lex_value(const char *p, size_t n, size_t i)
{
    size_t s = i;
    if (i < n && p[i] == '"') {
        /* quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE */
        for (i++; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '"')
                return i + 1;
            if (c == '\\') {
                if (i + 1 >= n || (unsigned char)p[i + 1] > 0x7f || p[i + 1] == '\r' ||
                    p[i + 1] == '\n')
                    return 0;
                i++;
            } else if (c == '\r' || c == '\n') {
                size_t j = sec_skip_lws(p, n, i);
                if (j == i)
                    return 0;
                i = j - 1;
            } else if (c < 0x20 && c != '\t') {
                return 0;
            } else if (c == 0x7f) {
                return 0;
            }
        }
        return 0;
    }
    if (i < n && p[i] == '[') {
        for (i++; i < n && (sec_is_alnum((unsigned char)p[i]) || p[i] == ':' || p[i] == '.');
             i++)
            ;
        if (i >= n || p[i] != ']' || i == s + 1)
            return 0;
        return i + 1;
    }
    while (i < n && (sec_is_token((unsigned char)p[i]) || p[i] == ':'))
        i++;
    return i == s ? 0 : i;
}

/* Lex the next parameter of a mechanism starting at *i, which is just after
 * the name or a previous parameter.  Returns 1 with *out set, 0 at the end of
 * the mechanism (*i then at the ',' or at n), -1 on a syntax error (*i at the
 * offending byte).  Empty parameters (";;" and a trailing ';') are skipped. */
static int sec_lex_param(const char *p, size_t n, size_t *i, imssec_sec_param *out)
{
    size_t k = *i;
    for (;;) {
        size_t ns;
        k = sec_skip_lws(p, n, k);
        if (k >= n || p[k] == ',') {
            *i = k;
            return 0;
        }
        if (p[k] != ';') {
            *i = k;
            return -1;
        }
        k = sec_skip_lws(p, n, k + 1);
        if (k >= n || p[k] == ',' || p[k] == ';')
            continue; /* empty parameter */
        ns = k;
        while (k < n && sec_is_token((unsigned char)p[k]))
            k++;
        if (k == ns) {
            *i = k;
            return -1;
        }
        out->name = p + ns;
        out->name_len = k - ns;
        out->value = NULL;
        out->value_len = 0;
        out->known = 0;
        {
            size_t e = sec_skip_lws(p, n, k);
            if (e < n && p[e] == '=') {
                size_t vs = sec_skip_lws(p, n, e + 1), ve;
                ve = sec_lex_value(p, n, vs);
                if (ve == 0) {
                    *i = vs;
                    return -1;
                }
                out->value = p + vs;
                out->value_len = ve - vs;
                k = ve;
            }
        }
        *i = k;
        return 1;
    }
}

/* ---- typed values -------------------------------------------------------- */

static const char *const sec_alg_names[] = {NULL, "hmac-md5-96", "hmac-sha-1-96", "aes-gmac",
                                            "null"};
static const char *const sec_ealg_names[] = {"null", "des-ede3-cbc", "aes-cbc", "aes-gcm"};
static const char *const sec_prot_names[] = {"esp", "ah"};
static const char *const sec_mode_names[] = {"trans", "tun", "UDP-enc-tun"};
static const char *const sec_kind_names[] = {NULL,  "ipsec-3gpp", "digest",
                                             "tls", "ipsec-ike",  "ipsec-man"};

/* Index of (p, n) in names[0..count) (case-insensitive, whole token), or
 * `unknown`. */
static int sec_lookup(const char *p, size_t n, const char *const *names, int count, int unknown)
{
    int k;
    for (k = 0; k < count; k++) {
        const char *kw = names[k];
        size_t i;
        if (!kw)
            continue;
        /* whole-token, case-insensitive, without a strlen per candidate */
        for (i = 0; i < n && kw[i]; i++)
            if (isc_lower((unsigned char)p[i]) != isc_lower((unsigned char)kw[i]))
                break;
        if (i == n && kw[n] == 0)
            return k;
    }
    return unknown;
}

/* Typed parameters of ipsec-3gpp, in the builder's order; q applies to every
 * mechanism (RFC 3329 section 2.2 preference). */
enum { SEC_P_ALG, SEC_P_EALG, SEC_P_PROT, SEC_P_MOD, SEC_P_SPI_C, SEC_P_SPI_S, SEC_P_PORT_C,
       SEC_P_PORT_S, SEC_P_Q, SEC_P_NONE };
static const char *const sec_param_names[] = {"alg",   "ealg",   "prot",   "mod", "spi-c",
                                              "spi-s", "port-c", "port-s", "q"};

static int sec_param_id(int kind, const char *p, size_t n)
{
    int k = sec_lookup(p, n, sec_param_names, SEC_P_NONE, SEC_P_NONE);
    if (kind != IMSSEC_SEC_IPSEC_3GPP && k != SEC_P_Q)
        return SEC_P_NONE;
    return k;
}

/* Decimal 1..max, digits only (no sign, no hex, no empty), at most maxdig
 * digits.  Returns 0 and *v, or IMSSEC_E_SYNTAX / IMSSEC_E_RANGE. */
static int sec_number(const char *p, size_t n, uint32_t max, size_t maxdig, uint32_t *v)
{
    size_t i;
    uint64_t acc = 0;
    if (n == 0)
        return IMSSEC_E_SYNTAX;
    for (i = 0; i < n; i++)
        if (!isc_is_digit((unsigned char)p[i]))
            return IMSSEC_E_SYNTAX;
    if (n > maxdig)
        return IMSSEC_E_RANGE;
    for (i = 0; i < n; i++)
        acc = acc * 10 + (uint64_t)(p[i] - '0');
    if (acc == 0 || acc > max)
        return IMSSEC_E_RANGE;
    *v = (uint32_t)acc;
    return IMSSEC_OK;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), scaled to
 * 0..1000. */
static int sec_qvalue(const char *p, size_t n, uint16_t *q)
{
    size_t i;
    unsigned v = 0, scale = 100;
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return IMSSEC_E_SYNTAX;
    if (n > 1 && p[1] != '.')
        return IMSSEC_E_SYNTAX;
    if (n > 5)
        return IMSSEC_E_SYNTAX;
    for (i = 2; i < n; i++) {
        if (!isc_is_digit((unsigned char)p[i]))
            return IMSSEC_E_SYNTAX;
        if (p[0] == '1' && p[i] != '0')
            return IMSSEC_E_RANGE;
        v += (unsigned)(p[i] - '0') * scale;
        scale /= 10;
    }
    *q = (uint16_t)(p[0] == '1' ? 1000 : v);
    return IMSSEC_OK;
}

/* The text of a value for typed use: quotes removed.  A quoted value with
 * an escape is refused rather than half-unescaped (zero-copy cannot unescape;
 * E4 of the research note: unquote consistently or reject). */
static int sec_unquote(const char *v, size_t n, const char **t, size_t *tn)
{
    if (n >= 2 && v[0] == '"') {
        size_t i;
        for (i = 1; i + 1 < n; i++)
            if (v[i] == '\\' || v[i] == '\r' || v[i] == '\n')
                return IMSSEC_E_SYNTAX;
        *t = v + 1;
        *tn = n - 2;
    } else {
        *t = v;
        *tn = n;
    }
    return *tn ? IMSSEC_OK : IMSSEC_E_SYNTAX;
}

/* ---- one mechanism ------------------------------------------------------- */

typedef struct sec_cursor {
    const char *p;
    size_t n;
    size_t i;
} sec_cursor;

/* Parse the mechanism starting at c->i (LWS already skipped; not at ',' or
 * the end).  Fills *m; on error sets *eoff and *what. */
static int sec_mech_parse(sec_cursor *c, imssec_sec_mech *m, size_t *eoff, const char **what)
{
    const char *p = c->p;
    size_t n = c->n, i = c->i, ns = c->i, end, portc_off = 0;
    const char *names[IMSSEC_SEC_MAX_PARAMS];
    size_t name_lens[IMSSEC_SEC_MAX_PARAMS];
    size_t np = 0;
    imssec_sec_param prm;
    int r;

    memset(m, 0, sizeof *m);
    while (i < n && sec_is_token((unsigned char)p[i]))
        i++;
    if (i == ns) {
        *eoff = i;
        *what = "expected a mechanism name";
        return IMSSEC_E_SYNTAX;
    }
    m->name = p + ns;
    m->name_len = i - ns;
    m->kind = sec_lookup(m->name, m->name_len, sec_kind_names, 6, IMSSEC_SEC_OTHER);
    m->params = p + i;
    end = i;
    while ((r = sec_lex_param(p, n, &i, &prm)) == 1) {
        int id = sec_param_id(m->kind, prm.name, prm.name_len);
        size_t voff = prm.value ? (size_t)(prm.value - p) : (size_t)(prm.name - p);
        size_t k;
        end = i;
        if (np == IMSSEC_SEC_MAX_PARAMS) {
            *eoff = (size_t)(prm.name - p);
            *what = "too many parameters";
            return IMSSEC_E_RANGE;
        }
        /* E8: a repeated parameter makes the offer ambiguous (a downgrade
         * vector), so the whole list is refused, typed or not. */
        for (k = 0; k < np; k++)
            if (sec_text_ieq(names[k], name_lens[k], prm.name, prm.name_len)) {
                *eoff = (size_t)(prm.name - p);
                *what = "duplicate parameter";
                return IMSSEC_E_SYNTAX;
            }
        names[np] = prm.name;
        name_lens[np] = prm.name_len;
        np++;
        if (id == SEC_P_NONE) {
            m->n_ext++;
            continue;
        }
        {
            const char *t;
            size_t tn;
            uint32_t v = 0;
            if (!prm.value || sec_unquote(prm.value, prm.value_len, &t, &tn) != IMSSEC_OK) {
                *eoff = voff;
                *what = "parameter needs a value";
                return IMSSEC_E_SYNTAX;
            }
            switch (id) {
            case SEC_P_ALG:
                m->alg = sec_lookup(t, tn, sec_alg_names, 5, IMSSEC_ALG_UNKNOWN);
                m->alg_text = t;
                m->alg_len = tn;
                break;
            case SEC_P_EALG:
                m->ealg = sec_lookup(t, tn, sec_ealg_names, 4, IMSSEC_EALG_UNKNOWN);
                m->ealg_text = t;
                m->ealg_len = tn;
                break;
            case SEC_P_PROT:
                m->prot = sec_lookup(t, tn, sec_prot_names, 2, IMSSEC_PROT_UNKNOWN);
                m->prot_text = t;
                m->prot_len = tn;
                break;
            case SEC_P_MOD:
                m->mod = sec_lookup(t, tn, sec_mode_names, 3, IMSSEC_MODE_UNKNOWN);
                m->mod_text = t;
                m->mod_len = tn;
                break;
            case SEC_P_SPI_C:
            case SEC_P_SPI_S:
                /* spivalue: decimal, 1..4294967295 (0 is reserved, RFC 4303 2.1) */
                r = sec_number(t, tn, 0xffffffffu, 10, &v);
                if (r) {
                    *eoff = voff;
                    *what = r == IMSSEC_E_RANGE ? "spi out of range" : "spi not decimal";
                    return r;
                }
                if (id == SEC_P_SPI_C)
                    m->spi_c = v;
                else
                    m->spi_s = v;
                break;
            case SEC_P_PORT_C:
            case SEC_P_PORT_S:
                r = sec_number(t, tn, 65535u, 5, &v);
                if (r) {
                    *eoff = voff;
                    *what = r == IMSSEC_E_RANGE ? "port out of range" : "port not decimal";
                    return r;
                }
                if (id == SEC_P_PORT_C)
                    m->port_c = (uint16_t)v;
                else
                    m->port_s = (uint16_t)v;
                portc_off = voff; /* the later of the two, for the error */
                break;
            default: /* SEC_P_Q */
                r = sec_qvalue(t, tn, &m->q);
                if (r) {
                    *eoff = voff;
                    *what = "bad qvalue";
                    return r;
                }
                break;
            }
            m->present |= 1u << id;
        }
    }
    if (r < 0) {
        *eoff = i;
        *what = "malformed parameter";
        return IMSSEC_E_SYNTAX;
    }
    /* E11: the protected client and server ports identify different SAs. */
    if ((m->present & (IMSSEC_SECP_PORT_C | IMSSEC_SECP_PORT_S)) ==
            (IMSSEC_SECP_PORT_C | IMSSEC_SECP_PORT_S) &&
        m->port_c == m->port_s) {
        *eoff = portc_off;
        *what = "port-c equals port-s";
        return IMSSEC_E_RANGE;
    }
    /* raw and params end at the last byte consumed, trailing LWS excluded;
     * a trailing ';' is part of the mechanism as sent. */
    {
        size_t e = end, k = end;
        for (;;) {
            k = sec_skip_lws(p, n, k);
            if (k < n && p[k] == ';') {
                e = ++k;
                continue;
            }
            break;
        }
        end = e;
    }
    m->raw = p + ns;
    m->raw_len = end - ns;
    m->params_len = (size_t)(p + end - m->params);
    c->i = i;
    return IMSSEC_OK;
}

/* Parse every instance; mechs == NULL counts and validates only. */
static int sec_parse_all(const char *const *values, const size_t *lens, size_t nv,
                         imssec_sec_mech *mechs, size_t *count, imssec_sec_errinfo *err)
{
    size_t v, total = 0;
    imssec_sec_mech tmp;
    for (v = 0; v < nv; v++) {
        sec_cursor c;
        if (!values[v] && lens[v])
            return IMSSEC_E_PARAM;
        c.p = values[v];
        c.n = lens[v];
        c.i = 0;
        for (;;) {
            size_t eoff = 0;
            const char *what = NULL;
            int r;
            c.i = sec_skip_lws(c.p, c.n, c.i);
            if (c.i >= c.n)
                break;
            if (c.p[c.i] == ',') { /* empty list element (RFC 3261 7.3.1) */
                c.i++;
                continue;
            }
            r = sec_mech_parse(&c, mechs ? &mechs[total] : &tmp, &eoff, &what);
            if (r) {
                if (err) {
                    err->value_index = v;
                    err->mech_index = total;
                    err->offset = eoff;
                    err->what = what;
                }
                return r;
            }
            total++;
            /* sec_lex_param stopped at ',' or the end */
            if (c.i < c.n)
                c.i++;
        }
    }
    if (total == 0) {
        if (err) {
            err->value_index = nv ? nv - 1 : 0;
            err->mech_index = 0;
            err->offset = nv ? lens[nv - 1] : 0;
            err->what = "no mechanism";
        }
        return IMSSEC_E_SYNTAX;
    }
    *count = total;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_parse_multi(const char *const *values, const size_t *lens,
                                           size_t n, imssec_sec_mech *mechs, size_t cap,
                                           size_t *count, imssec_sec_errinfo *err)
{
    size_t need = 0;
    int r;
    if ((n && (!values || !lens)) || !count || (cap && !mechs))
        return IMSSEC_E_PARAM;
    /* Two passes: validate and count first so that nothing is written on an
     * error or a short array. */
    r = sec_parse_all(values, lens, n, NULL, &need, err);
    if (r)
        return r;
    if (need > cap) {
        *count = need;
        return IMSSEC_E_SPACE;
    }
    return sec_parse_all(values, lens, n, mechs, count, err);
}

IMSSEC_API int imssec_secagree_parse(const char *value, size_t len, imssec_sec_mech *mechs,
                                     size_t cap, size_t *count, imssec_sec_errinfo *err)
{
    const char *v[1];
    size_t l[1];
    v[0] = value;
    l[0] = len;
    return imssec_secagree_parse_multi(v, l, 1, mechs, cap, count, err);
}

IMSSEC_API int imssec_secagree_param_next(const imssec_sec_mech *m, size_t *cursor,
                                          imssec_sec_param *p)
{
    size_t i;
    imssec_sec_param t;
    if (!m || !cursor || !p || !m->params || *cursor > m->params_len)
        return 0;
    i = *cursor;
    if (sec_lex_param(m->params, m->params_len, &i, &t) != 1)
        return 0;
    t.known = sec_param_id(m->kind, t.name, t.name_len) != SEC_P_NONE;
    *p = t;
    *cursor = i;
    return 1;
}

/* ---- builder -------------------------------------------------------------- */

/* A typed value: the registered spelling, else the text (as a token, or
 * quoted when it came from a quoted-string). */
static int sec_put_value(isc_sbuf *b, const char *known, const char *t, size_t tn)
{
    size_t i;
    if (known) {
        isc_sb_puts(b, known);
        return IMSSEC_OK;
    }
    if (sec_all_token(t, tn)) {
        isc_sb_putn(b, t, tn);
        return IMSSEC_OK;
    }
    if (!t || tn == 0)
        return IMSSEC_E_PARAM;
    for (i = 0; i < tn; i++) {
        unsigned char ch = (unsigned char)t[i];
        if (ch == '"' || ch == '\\' || (ch < 0x20 && ch != '\t') || ch == 0x7f)
            return IMSSEC_E_PARAM;
    }
    isc_sb_putn(b, "\"", 1);
    isc_sb_putn(b, t, tn);
    isc_sb_putn(b, "\"", 1);
    return IMSSEC_OK;
}

/* ";name=value" for an enumerated parameter whose value must lie in
 * [lo, unknown]; IMSSEC_E_PARAM (nothing meaningful written) otherwise. */
static int sec_put_enum(isc_sbuf *b, const char *prefix, int v, int lo, int unknown,
                        const char *const *names, const char *text, size_t text_len)
{
    if (v < lo || v > unknown)
        return IMSSEC_E_PARAM;
    isc_sb_puts(b, prefix);
    return sec_put_value(b, v == unknown ? NULL : names[v], text, text_len);
}

static void sec_put_q(isc_sbuf *b, unsigned q)
{
    char d[5];
    size_t k = 0;
    if (q >= 1000) {
        isc_sb_puts(b, "1");
        return;
    }
    d[k++] = '0';
    if (q) {
        d[k++] = '.';
        d[k++] = (char)('0' + q / 100);
        if (q % 100) {
            d[k++] = (char)('0' + q / 10 % 10);
            if (q % 10)
                d[k++] = (char)('0' + q % 10);
        }
    }
    isc_sb_putn(b, d, k);
}

static int sec_build_one(isc_sbuf *b, const imssec_sec_mech *m)
{
    int r = IMSSEC_OK;
    unsigned pr = m->present;
    if (m->kind < 0 || m->kind > IMSSEC_SEC_IPSEC_MAN)
        return IMSSEC_E_PARAM;
    if (m->kind != IMSSEC_SEC_OTHER) {
        isc_sb_puts(b, sec_kind_names[m->kind]);
    } else {
        if (!sec_all_token(m->name, m->name_len) ||
            sec_lookup(m->name, m->name_len, sec_kind_names, 6, 0) != 0)
            return IMSSEC_E_PARAM;
        isc_sb_putn(b, m->name, m->name_len);
    }
    if (m->kind != IMSSEC_SEC_IPSEC_3GPP)
        pr &= IMSSEC_SECP_Q;
    /* the four enumerated parameters: a known value is written by name, an
     * unknown one (value == its *_UNKNOWN) from its preserved text */
    if (pr & IMSSEC_SECP_ALG)
        r |= sec_put_enum(b, ";alg=", (int)m->alg, IMSSEC_ALG_HMAC_MD5_96, IMSSEC_ALG_UNKNOWN,
                          sec_alg_names, m->alg_text, m->alg_len);
    if (pr & IMSSEC_SECP_EALG)
        r |= sec_put_enum(b, ";ealg=", (int)m->ealg, IMSSEC_EALG_NULL, IMSSEC_EALG_UNKNOWN,
                          sec_ealg_names, m->ealg_text, m->ealg_len);
    if (pr & IMSSEC_SECP_PROT)
        r |= sec_put_enum(b, ";prot=", (int)m->prot, IMSSEC_PROT_ESP, IMSSEC_PROT_UNKNOWN,
                          sec_prot_names, m->prot_text, m->prot_len);
    if (pr & IMSSEC_SECP_MOD)
        r |= sec_put_enum(b, ";mod=", (int)m->mod, IMSSEC_MODE_TRANS, IMSSEC_MODE_UNKNOWN,
                          sec_mode_names, m->mod_text, m->mod_len);
    if (r)
        return IMSSEC_E_PARAM;
    if (((pr & IMSSEC_SECP_SPI_C) && m->spi_c == 0) || ((pr & IMSSEC_SECP_SPI_S) && m->spi_s == 0) ||
        ((pr & IMSSEC_SECP_PORT_C) && m->port_c == 0) ||
        ((pr & IMSSEC_SECP_PORT_S) && m->port_s == 0) ||
        ((pr & IMSSEC_SECP_PORT_C) && (pr & IMSSEC_SECP_PORT_S) && m->port_c == m->port_s) ||
        ((pr & IMSSEC_SECP_Q) && m->q > 1000))
        return IMSSEC_E_PARAM;
    if (pr & IMSSEC_SECP_SPI_C) {
        isc_sb_puts(b, ";spi-c=");
        isc_sb_putu(b, m->spi_c);
    }
    if (pr & IMSSEC_SECP_SPI_S) {
        isc_sb_puts(b, ";spi-s=");
        isc_sb_putu(b, m->spi_s);
    }
    if (pr & IMSSEC_SECP_PORT_C) {
        isc_sb_puts(b, ";port-c=");
        isc_sb_putu(b, m->port_c);
    }
    if (pr & IMSSEC_SECP_PORT_S) {
        isc_sb_puts(b, ";port-s=");
        isc_sb_putu(b, m->port_s);
    }
    if (pr & IMSSEC_SECP_Q) {
        isc_sb_puts(b, ";q=");
        sec_put_q(b, m->q);
    }
    /* Extension parameters, validated by the same lexer as the parser and
     * checked for duplicates of the typed ones. */
    if (m->params && m->params_len) {
        size_t i = 0, count = 0;
        imssec_sec_param prm;
        while ((r = sec_lex_param(m->params, m->params_len, &i, &prm)) == 1) {
            if (++count > IMSSEC_SEC_MAX_PARAMS)
                return IMSSEC_E_PARAM;
            if (sec_param_id(m->kind, prm.name, prm.name_len) != SEC_P_NONE)
                continue;
            isc_sb_putn(b, ";", 1);
            isc_sb_putn(b, prm.name, prm.name_len);
            if (prm.value) {
                size_t k;
                isc_sb_putn(b, "=", 1);
                /* a quoted value may hold a fold: write it unfolded */
                for (k = 0; k < prm.value_len; k++)
                    if (prm.value[k] != '\r' && prm.value[k] != '\n')
                        isc_sb_putn(b, prm.value + k, 1);
            }
        }
        if (r < 0 || i != m->params_len)
            return IMSSEC_E_PARAM;
    }
    return IMSSEC_OK;
}

static int sec_emit(const imssec_sec_mech *mechs, size_t n, char *out, size_t cap,
                    size_t *out_len, int echo)
{
    isc_sbuf b;
    size_t k;
    int r;
    if ((n && !mechs) || !out_len || (cap && !out))
        return IMSSEC_E_PARAM;
    /* A first pass into a zero-capacity buffer measures, so that `out` is
     * untouched unless everything fits. */
    isc_sb_init(&b, out, 0);
    for (k = 0; k < n; k++) {
        if (k)
            isc_sb_puts(&b, ", ");
        if (echo && mechs[k].raw) {
            size_t j;
            for (j = 0; j < mechs[k].raw_len; j++)
                if (mechs[k].raw[j] != '\r' && mechs[k].raw[j] != '\n')
                    isc_sb_putn(&b, mechs[k].raw + j, 1);
        } else if ((r = sec_build_one(&b, &mechs[k])) != IMSSEC_OK) {
            return r;
        }
    }
    if (b.len > cap) {
        *out_len = b.len;
        return IMSSEC_E_SPACE;
    }
    isc_sb_init(&b, out, cap);
    for (k = 0; k < n; k++) {
        if (k)
            isc_sb_puts(&b, ", ");
        if (echo && mechs[k].raw) {
            size_t j;
            for (j = 0; j < mechs[k].raw_len; j++)
                if (mechs[k].raw[j] != '\r' && mechs[k].raw[j] != '\n')
                    isc_sb_putn(&b, mechs[k].raw + j, 1);
        } else {
            (void)sec_build_one(&b, &mechs[k]);
        }
    }
    *out_len = b.len;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_build(const imssec_sec_mech *mechs, size_t n, char *out,
                                     size_t cap, size_t *out_len)
{
    return sec_emit(mechs, n, out, cap, out_len, 0);
}

IMSSEC_API int imssec_secagree_echo(const imssec_sec_mech *mechs, size_t n, char *out,
                                    size_t cap, size_t *out_len)
{
    return sec_emit(mechs, n, out, cap, out_len, 1);
}

/* ---- normalised comparison ------------------------------------------------ */

/* Typed enum equality; two UNKNOWN values compare by text. */
static int sec_enum_eq(int a, const char *at, size_t an, int b, const char *bt, size_t bn,
                       int unknown)
{
    if (a != b)
        return 0;
    return a != unknown || sec_text_ieq(at, an, bt, bn);
}

/* Case-insensitive equality ignoring CR and LF: a fold (CRLF WSP) inside a
 * quoted value equals its unfolded form (RFC 3261 7.3.1). */
static int sec_unfolded_ieq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && (a[i] == '\r' || a[i] == '\n'))
            i++;
        while (j < bn && (b[j] == '\r' || b[j] == '\n'))
            j++;
        if (i == an || j == bn)
            return i == an && j == bn;
        if (isc_lower((unsigned char)a[i]) != isc_lower((unsigned char)b[j]))
            return 0;
        i++;
        j++;
    }
}

/* Extension parameter value as compared: quotes stripped, case ignored. */
static void sec_ext_value(const imssec_sec_param *p, const char **t, size_t *n)
{
    *t = p->value;
    *n = p->value ? p->value_len : 0;
    if (*n >= 2 && (*t)[0] == '"') {
        (*t)++;
        *n -= 2;
    }
}

/* 1 if every extension parameter of a occurs in b with an equal value. */
static int sec_ext_subset(const imssec_sec_mech *a, const imssec_sec_mech *b)
{
    size_t ca = 0;
    imssec_sec_param pa;
    while (imssec_secagree_param_next(a, &ca, &pa)) {
        size_t cb = 0;
        int found = 0;
        imssec_sec_param pb;
        if (pa.known)
            continue;
        while (!found && imssec_secagree_param_next(b, &cb, &pb)) {
            const char *ta, *tb;
            size_t na, nb;
            if (pb.known || !sec_text_ieq(pa.name, pa.name_len, pb.name, pb.name_len))
                continue;
            if ((pa.value == NULL) != (pb.value == NULL))
                return 0;
            sec_ext_value(&pa, &ta, &na);
            sec_ext_value(&pb, &tb, &nb);
            if (!sec_unfolded_ieq(ta, na, tb, nb))
                return 0;
            found = 1;
        }
        if (!found)
            return 0;
    }
    return 1;
}

static unsigned sec_ext_count(const imssec_sec_mech *m)
{
    size_t c = 0;
    unsigned k = 0;
    imssec_sec_param p;
    while (imssec_secagree_param_next(m, &c, &p))
        if (!p.known)
            k++;
    return k;
}

/* The first difference between two mechanisms, or NULL. */
static const char *sec_mech_diff(const imssec_sec_mech *a, const imssec_sec_mech *b)
{
    unsigned pa = a->present, pb = b->present;
    if (a->kind != b->kind ||
        (a->kind == IMSSEC_SEC_OTHER && !sec_text_ieq(a->name, a->name_len, b->name, b->name_len)))
        return "mechanism name";
    if (a->kind == IMSSEC_SEC_IPSEC_3GPP) {
        /* alg is mandatory (Annex H): no default, absent equals only absent */
        if ((pa & IMSSEC_SECP_ALG) != (pb & IMSSEC_SECP_ALG) ||
            ((pa & IMSSEC_SECP_ALG) &&
             !sec_enum_eq(a->alg, a->alg_text, a->alg_len, b->alg, b->alg_text, b->alg_len,
                          IMSSEC_ALG_UNKNOWN)))
            return "alg";
        /* Annex H defaults: the zero enum values are null / esp / trans, so
         * an absent parameter compares as its default. */
        if (!sec_enum_eq((pa & IMSSEC_SECP_EALG) ? a->ealg : IMSSEC_EALG_NULL, a->ealg_text,
                         a->ealg_len, (pb & IMSSEC_SECP_EALG) ? b->ealg : IMSSEC_EALG_NULL,
                         b->ealg_text, b->ealg_len, IMSSEC_EALG_UNKNOWN))
            return "ealg";
        if (!sec_enum_eq((pa & IMSSEC_SECP_PROT) ? a->prot : IMSSEC_PROT_ESP, a->prot_text,
                         a->prot_len, (pb & IMSSEC_SECP_PROT) ? b->prot : IMSSEC_PROT_ESP,
                         b->prot_text, b->prot_len, IMSSEC_PROT_UNKNOWN))
            return "prot";
        if (!sec_enum_eq((pa & IMSSEC_SECP_MOD) ? a->mod : IMSSEC_MODE_TRANS, a->mod_text,
                         a->mod_len, (pb & IMSSEC_SECP_MOD) ? b->mod : IMSSEC_MODE_TRANS,
                         b->mod_text, b->mod_len, IMSSEC_MODE_UNKNOWN))
            return "mod";
        if ((pa & IMSSEC_SECP_SPI_C) != (pb & IMSSEC_SECP_SPI_C) || a->spi_c != b->spi_c)
            if ((pa | pb) & IMSSEC_SECP_SPI_C)
                return "spi-c";
        if ((pa & IMSSEC_SECP_SPI_S) != (pb & IMSSEC_SECP_SPI_S) || a->spi_s != b->spi_s)
            if ((pa | pb) & IMSSEC_SECP_SPI_S)
                return "spi-s";
        if ((pa & IMSSEC_SECP_PORT_C) != (pb & IMSSEC_SECP_PORT_C) || a->port_c != b->port_c)
            if ((pa | pb) & IMSSEC_SECP_PORT_C)
                return "port-c";
        if ((pa & IMSSEC_SECP_PORT_S) != (pb & IMSSEC_SECP_PORT_S) || a->port_s != b->port_s)
            if ((pa | pb) & IMSSEC_SECP_PORT_S)
                return "port-s";
    }
    if ((pa & IMSSEC_SECP_Q) != (pb & IMSSEC_SECP_Q) ||
        ((pa & IMSSEC_SECP_Q) && a->q != b->q))
        return "q";
    if (sec_ext_count(a) != sec_ext_count(b) || !sec_ext_subset(a, b))
        return "extension parameters";
    return NULL;
}

IMSSEC_API int imssec_secagree_equal(const imssec_sec_mech *a, size_t na,
                                     const imssec_sec_mech *b, size_t nb, const char **why,
                                     size_t *where)
{
    size_t k;
    if (na != nb || (na && (!a || !b))) {
        if (why)
            *why = "list length";
        if (where)
            *where = na < nb ? na : nb;
        return 0;
    }
    for (k = 0; k < na; k++) {
        const char *d = sec_mech_diff(&a[k], &b[k]);
        if (d) {
            if (why)
                *why = d;
            if (where)
                *where = k;
            return 0;
        }
    }
    if (why)
        *why = NULL;
    return 1;
}

IMSSEC_API const char *imssec_secagree_alg_name(int alg)
{
    return (alg > 0 && alg < IMSSEC_ALG_UNKNOWN) ? sec_alg_names[alg] : NULL;
}
IMSSEC_API const char *imssec_secagree_ealg_name(int ealg)
{
    return (ealg >= 0 && ealg < IMSSEC_EALG_UNKNOWN) ? sec_ealg_names[ealg] : NULL;
}
IMSSEC_API const char *imssec_secagree_mode_name(int mod)
{
    return (mod >= 0 && mod < IMSSEC_MODE_UNKNOWN) ? sec_mode_names[mod] : NULL;
}
IMSSEC_API const char *imssec_secagree_kind_name(int kind)
{
    return (kind > 0 && kind <= IMSSEC_SEC_IPSEC_MAN) ? sec_kind_names[kind] : NULL;
}
