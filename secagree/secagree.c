/*
 * secagree.c -- RFC 3329 Security-Client / -Server / -Verify parsing,
 * building and comparison with the TS 33.203 Annex H `ipsec-3gpp`
 * mechanism.
 *
 * The parser lexes with core/lex.c (the library's one RFC 3261 lexer) and
 * one parameter lexer (sec_lex_param) serves the parser, the parameter
 * iterator, the builder's validation of extension parameters and the Via
 * parser, so that what the parser accepts and what the iterator walks can
 * never disagree.  Every loop advances an index bounded by the input
 * length; the per-mechanism parameter count is capped
 * (IMSSEC_SECAGREE_PARAMS_MAX).
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

/* A parameter value: token, quoted-string or an IPv6 reference
 * (gen-value = token / host / quoted-string, RFC 3261 25.1).  Returns the
 * index after it, or 0 on a syntax error (a value never starts at 0). */
static size_t sec_lex_value(const char *p, size_t n, size_t i)
{
    size_t s = i;
    if (i < n && p[i] == '"')
        return isc_lex_quoted(p, n, i);
    if (i < n && p[i] == '[') {
        for (i++; i < n && (isc_lex_is((unsigned char)p[i], ISC_LEX_ALNUM) || p[i] == ':' ||
                            p[i] == '.');
             i++)
            ;
        if (i >= n || p[i] != ']' || i == s + 1)
            return 0;
        return i + 1;
    }
    while (i < n && (isc_lex_is((unsigned char)p[i], ISC_LEX_TOKEN) || p[i] == ':'))
        i++;
    return i == s ? 0 : i;
}

/* Lex the next parameter of a mechanism starting at *i, which is just after
 * the name or a previous parameter.  Returns 1 with *out set, 0 at the end of
 * the mechanism (*i then at the ',' or at n), -1 on a syntax error (*i at the
 * offending byte).  Empty parameters (";;" and a trailing ';') are skipped. */
static int sec_lex_param(const char *p, size_t n, size_t *i, imssec_secagree_param *out)
{
    size_t k = *i;
    for (;;) {
        size_t ns, e;
        k = isc_lex_lws(p, n, k);
        if (k >= n || p[k] == ',') {
            *i = k;
            return 0;
        }
        if (p[k] != ';') {
            *i = k;
            return -1;
        }
        k = isc_lex_lws(p, n, k + 1);
        if (k >= n || p[k] == ',' || p[k] == ';')
            continue; /* empty parameter */
        ns = k;
        k = isc_lex_token(p, n, k);
        if (k == ns) {
            *i = k;
            return -1;
        }
        out->name.p = p + ns;
        out->name.n = k - ns;
        out->value.p = NULL;
        out->value.n = 0;
        out->known = 0;
        e = isc_lex_lws(p, n, k);
        if (e < n && p[e] == '=') {
            size_t vs = isc_lex_lws(p, n, e + 1), ve = sec_lex_value(p, n, vs);
            if (ve == 0) {
                *i = vs;
                return -1;
            }
            out->value.p = p + vs;
            out->value.n = ve - vs;
            k = ve;
        }
        *i = k;
        return 1;
    }
}

/* ---- typed values -------------------------------------------------------- */

static const char *const sec_prot_names[] = {"esp", "ah"};
static const char *const sec_kind_names[] = {NULL,  "ipsec-3gpp", "digest",
                                             "tls", "ipsec-ike",  "ipsec-man"};

/* Typed parameters of ipsec-3gpp, in the builder's order (bit k of
 * `present` is parameter k); q applies to every mechanism (RFC 3329 2.2). */
enum { SEC_P_ALG, SEC_P_EALG, SEC_P_PROT, SEC_P_MOD, SEC_P_SPI_C, SEC_P_SPI_S, SEC_P_PORT_C,
       SEC_P_PORT_S, SEC_P_Q, SEC_P_NONE };

/* The typed parameter a name is, without a table walk: the names differ in
 * length and first letters.  Case-insensitive. */
static int sec_param_id(int kind, const char *p, size_t n)
{
    int id = SEC_P_NONE;
    char c0 = n ? (char)isc_lower((unsigned char)p[0]) : 0;
    switch (n) {
    case 1:
        if (c0 == 'q')
            return SEC_P_Q;
        return SEC_P_NONE;
    case 3:
        if (isc_lex_ieq(p, 3, "alg", 3))
            id = SEC_P_ALG;
        else if (isc_lex_ieq(p, 3, "mod", 3))
            id = SEC_P_MOD;
        break;
    case 4:
        if (isc_lex_ieq(p, 4, "ealg", 4))
            id = SEC_P_EALG;
        else if (isc_lex_ieq(p, 4, "prot", 4))
            id = SEC_P_PROT;
        break;
    case 5:
        if (isc_lex_ieq(p, 4, "spi-", 4)) {
            char c = (char)isc_lower((unsigned char)p[4]);
            id = c == 'c' ? SEC_P_SPI_C : c == 's' ? SEC_P_SPI_S : SEC_P_NONE;
        }
        break;
    case 6:
        if (isc_lex_ieq(p, 5, "port-", 5)) {
            char c = (char)isc_lower((unsigned char)p[5]);
            id = c == 'c' ? SEC_P_PORT_C : c == 's' ? SEC_P_PORT_S : SEC_P_NONE;
        }
        break;
    default:
        break;
    }
    return kind == IMSSEC_SECAGREE_IPSEC_3GPP ? id : SEC_P_NONE;
}

static int sec_kind_of(const char *p, size_t n)
{
    return isc_name_lookup(p, n, sec_kind_names, 6, IMSSEC_SECAGREE_OTHER);
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
 * 0..1000 (RFC 3261 25.1). */
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
 * an escape is refused rather than half-unescaped: a zero-copy slice cannot
 * unescape, and a typed value has no business holding one. */
static int sec_unquote(imssec_str v, imssec_str *t)
{
    if (v.n >= 2 && v.p[0] == '"') {
        size_t i;
        for (i = 1; i + 1 < v.n; i++)
            if (v.p[i] == '\\' || v.p[i] == '\r' || v.p[i] == '\n')
                return IMSSEC_E_SYNTAX;
        t->p = v.p + 1;
        t->n = v.n - 2;
    } else {
        *t = v;
    }
    return t->n ? IMSSEC_OK : IMSSEC_E_SYNTAX;
}

/* ---- one mechanism ------------------------------------------------------- */

/* Where and why one mechanism failed to parse. */
typedef struct sec_fail {
    size_t off;
    const char *what;
} sec_fail;

static int sec_bad(sec_fail *f, size_t off, const char *what, int code)
{
    f->off = off;
    f->what = what;
    return code;
}

/* Parse the mechanism starting at *i (LWS already skipped; not at ',' or
 * the end) into *m.  On success *i is at the ',' that ends it or at n. */
static int sec_mech_parse(const char *p, size_t n, size_t *pi, imssec_secagree_mech *m,
                          sec_fail *f)
{
    size_t i = *pi, ns = i, end, portc_off = 0, np = 0, k;
    imssec_str ext[IMSSEC_SECAGREE_PARAMS_MAX];
    size_t n_ext = 0;
    imssec_secagree_param prm;
    int r;

    memset(m, 0, sizeof *m);
    i = isc_lex_token(p, n, i);
    if (i == ns)
        return sec_bad(f, i, "expected a mechanism name", IMSSEC_E_SYNTAX);
    m->name.p = p + ns;
    m->name.n = i - ns;
    m->kind = sec_kind_of(m->name.p, m->name.n);
    m->params.p = p + i;
    end = i;
    while ((r = sec_lex_param(p, n, &i, &prm)) == 1) {
        int id = sec_param_id(m->kind, prm.name.p, prm.name.n);
        size_t voff = (size_t)((prm.value.p ? prm.value.p : prm.name.p) - p);
        imssec_str t;
        uint32_t v = 0;
        end = i;
        if (++np > IMSSEC_SECAGREE_PARAMS_MAX)
            return sec_bad(f, (size_t)(prm.name.p - p), "too many parameters", IMSSEC_E_RANGE);
        /* A repeated parameter makes the offer ambiguous (a downgrade
         * vector): the whole list is refused, typed or not.  Typed ones are
         * tracked by their `present` bit, the others by name. */
        if (id == SEC_P_NONE) {
            for (k = 0; k < n_ext; k++)
                if (isc_lex_ieq(ext[k].p, ext[k].n, prm.name.p, prm.name.n))
                    return sec_bad(f, (size_t)(prm.name.p - p), "duplicate parameter",
                                   IMSSEC_E_SYNTAX);
            ext[n_ext++] = prm.name;
            m->n_ext++;
            continue;
        }
        if (m->present & (1u << id))
            return sec_bad(f, (size_t)(prm.name.p - p), "duplicate parameter", IMSSEC_E_SYNTAX);
        if (!prm.value.p || sec_unquote(prm.value, &t) != IMSSEC_OK)
            return sec_bad(f, voff, "parameter needs a value", IMSSEC_E_SYNTAX);
        switch (id) {
        case SEC_P_ALG:
            m->alg = imssec_alg_from_name(t);
            m->alg_text = t;
            break;
        case SEC_P_EALG:
            m->ealg = imssec_ealg_from_name(t);
            m->ealg_text = t;
            break;
        case SEC_P_PROT:
            m->prot = isc_name_lookup(t.p, t.n, sec_prot_names, 2, IMSSEC_SECAGREE_PROT_UNKNOWN);
            m->prot_text = t;
            break;
        case SEC_P_MOD:
            m->mode = imssec_mode_from_name(t);
            m->mode_text = t;
            break;
        case SEC_P_SPI_C:
        case SEC_P_SPI_S:
            /* spivalue: decimal, 1..4294967295 (0 is reserved, RFC 4303 2.1) */
            if ((r = sec_number(t.p, t.n, 0xffffffffu, 10, &v)) != IMSSEC_OK)
                return sec_bad(f, voff, r == IMSSEC_E_RANGE ? "spi out of range" : "spi not decimal",
                               r);
            if (id == SEC_P_SPI_C)
                m->spi_c = v;
            else
                m->spi_s = v;
            break;
        case SEC_P_PORT_C:
        case SEC_P_PORT_S:
            if ((r = sec_number(t.p, t.n, 65535u, 5, &v)) != IMSSEC_OK)
                return sec_bad(f, voff,
                               r == IMSSEC_E_RANGE ? "port out of range" : "port not decimal", r);
            if (id == SEC_P_PORT_C)
                m->port_c = (uint16_t)v;
            else
                m->port_s = (uint16_t)v;
            portc_off = voff; /* the later of the two, for the error */
            break;
        default: /* SEC_P_Q */
            if ((r = sec_qvalue(t.p, t.n, &m->q)) != IMSSEC_OK)
                return sec_bad(f, voff, "bad qvalue", r);
            break;
        }
        m->present |= 1u << id;
    }
    if (r < 0)
        return sec_bad(f, i, "malformed parameter", IMSSEC_E_SYNTAX);
    /* The protected client and server ports identify different SAs. */
    if ((m->present & (IMSSEC_SECAGREE_HAS_PORT_C | IMSSEC_SECAGREE_HAS_PORT_S)) ==
            (IMSSEC_SECAGREE_HAS_PORT_C | IMSSEC_SECAGREE_HAS_PORT_S) &&
        m->port_c == m->port_s)
        return sec_bad(f, portc_off, "port-c equals port-s", IMSSEC_E_RANGE);
    /* raw and params end at the last byte consumed, trailing LWS excluded;
     * a trailing ';' is part of the mechanism as sent. */
    for (k = end;;) {
        k = isc_lex_lws(p, n, k);
        if (k < n && p[k] == ';') {
            end = ++k;
            continue;
        }
        break;
    }
    m->raw.p = p + ns;
    m->raw.n = end - ns;
    m->params.n = (size_t)(p + end - m->params.p);
    *pi = i;
    return IMSSEC_OK;
}

/* Parse every instance.  Mechanism k is stored in store[k] while k <
 * store_cap (the rest are parsed into a scratch record and dropped); the
 * total goes to *count. */
static int sec_parse_all(const imssec_str *values, size_t nv, imssec_secagree_mech *store,
                         size_t store_cap, size_t *count, imssec_errinfo *err)
{
    size_t v, total = 0;
    imssec_secagree_mech sink;
    for (v = 0; v < nv; v++) {
        const char *p = values[v].p;
        size_t n = values[v].n, i = 0;
        if (!p && n)
            return isc_fail_param(err, "values", "NULL header value");
        for (;;) {
            sec_fail f;
            int r;
            i = isc_lex_lws(p, n, i);
            if (i >= n)
                break;
            if (p[i] == ',') { /* empty list element (RFC 3261 7.3.1) */
                i++;
                continue;
            }
            r = sec_mech_parse(p, n, &i, total < store_cap ? &store[total] : &sink, &f);
            if (r) {
                isc_fail(err, r, f.what, "RFC 3329 2.2");
                if (err) {
                    err->value_index = v;
                    err->item_index = total;
                    err->offset = f.off;
                }
                return r;
            }
            total++;
            if (i < n) /* sec_lex_param stopped at ',' */
                i++;
        }
    }
    if (total == 0) {
        isc_fail(err, IMSSEC_E_SYNTAX, "no mechanism", "RFC 3329 2.2");
        if (err) {
            err->value_index = nv ? nv - 1 : 0;
            err->offset = nv ? values[nv - 1].n : 0;
        }
        return IMSSEC_E_SYNTAX;
    }
    *count = total;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_parse_multi(const imssec_str *values, size_t n_values,
                                           imssec_secagree_mech *out, size_t out_cap,
                                           size_t *out_len, imssec_errinfo *err)
{
    /* One pass into stack scratch covers every real header (6 offers at
     * most in the field): out is written only once the whole list parsed,
     * so nothing is half-written on error.  Longer lists take a second,
     * storing pass straight into out. */
    imssec_secagree_mech tmp[IMSSEC_SECAGREE_CHECK_MAX];
    size_t count = 0;
    int r;
    if ((n_values && !values) || !out_len || (out_cap && !out))
        return isc_fail_param(err, "out", "NULL argument");
    r = sec_parse_all(values, n_values, tmp, IMSSEC_SECAGREE_CHECK_MAX, &count, err);
    if (r)
        return r;
    if (count > out_cap) {
        *out_len = count;
        return isc_fail(err, IMSSEC_E_SPACE, "more mechanisms than out_cap", NULL);
    }
    if (count <= IMSSEC_SECAGREE_CHECK_MAX)
        memcpy(out, tmp, count * sizeof *out);
    else
        (void)sec_parse_all(values, n_values, out, out_cap, &count, NULL);
    *out_len = count;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_parse(imssec_str value, imssec_secagree_mech *out,
                                     size_t out_cap, size_t *out_len, imssec_errinfo *err)
{
    return imssec_secagree_parse_multi(&value, 1, out, out_cap, out_len, err);
}

IMSSEC_API int imssec_secagree_param_next(const imssec_secagree_mech *m, size_t *cursor,
                                          imssec_secagree_param *p)
{
    size_t i;
    imssec_secagree_param t;
    if (!m || !cursor || !p || !m->params.p || *cursor > m->params.n)
        return 0;
    i = *cursor;
    if (sec_lex_param(m->params.p, m->params.n, &i, &t) != 1)
        return 0;
    t.known = sec_param_id(m->kind, t.name.p, t.name.n) != SEC_P_NONE;
    *p = t;
    *cursor = i;
    return 1;
}

/* ---- builder -------------------------------------------------------------- */

/* A typed value: the registered spelling, else the text (as a token, or
 * quoted when it came from a quoted-string). */
static int sec_put_value(isc_sbuf *b, const char *known, imssec_str t)
{
    size_t i;
    if (known) {
        isc_sb_puts(b, known);
        return IMSSEC_OK;
    }
    if (isc_lex_all_token(t.p, t.n)) {
        isc_sb_putn(b, t.p, t.n);
        return IMSSEC_OK;
    }
    if (!t.p || t.n == 0)
        return IMSSEC_E_PARAM;
    for (i = 0; i < t.n; i++) {
        unsigned char ch = (unsigned char)t.p[i];
        if (ch == '"' || ch == '\\' || (ch < 0x20 && ch != '\t') || ch == 0x7f)
            return IMSSEC_E_PARAM;
    }
    isc_sb_putn(b, "\"", 1);
    isc_sb_putn(b, t.p, t.n);
    isc_sb_putn(b, "\"", 1);
    return IMSSEC_OK;
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

/* The typed fields a mechanism holds, as present bits: what the builder
 * checks `present` against. */
static unsigned sec_fields_set(const imssec_secagree_mech *m)
{
    return (m->alg ? IMSSEC_SECAGREE_HAS_ALG : 0u) | (m->ealg ? IMSSEC_SECAGREE_HAS_EALG : 0u) |
           (m->prot ? IMSSEC_SECAGREE_HAS_PROT : 0u) | (m->mode ? IMSSEC_SECAGREE_HAS_MOD : 0u) |
           (m->spi_c ? IMSSEC_SECAGREE_HAS_SPI_C : 0u) |
           (m->spi_s ? IMSSEC_SECAGREE_HAS_SPI_S : 0u) |
           (m->port_c ? IMSSEC_SECAGREE_HAS_PORT_C : 0u) |
           (m->port_s ? IMSSEC_SECAGREE_HAS_PORT_S : 0u) | (m->q ? IMSSEC_SECAGREE_HAS_Q : 0u);
}

/* Bits whose zero value is a real value (alg=null, ealg=null, prot=esp,
 * mod=trans, q=0): present with a zero field is fine for these. */
#define SEC_ZERO_OK                                                                          \
    (IMSSEC_SECAGREE_HAS_ALG | IMSSEC_SECAGREE_HAS_EALG | IMSSEC_SECAGREE_HAS_PROT |         \
     IMSSEC_SECAGREE_HAS_MOD | IMSSEC_SECAGREE_HAS_Q)

/* Write one mechanism; on IMSSEC_E_PARAM *field names what is wrong. */
static int sec_build_one(isc_sbuf *b, const imssec_secagree_mech *m, const char **field)
{
    unsigned pr = m->present, set = sec_fields_set(m);
    if (m->kind < IMSSEC_SECAGREE_OTHER || m->kind > IMSSEC_SECAGREE_IPSEC_MAN) {
        *field = "kind";
        return IMSSEC_E_PARAM;
    }
    if (m->kind != IMSSEC_SECAGREE_OTHER) {
        isc_sb_puts(b, sec_kind_names[m->kind]);
    } else {
        if (!isc_lex_all_token(m->name.p, m->name.n) || sec_kind_of(m->name.p, m->name.n) != 0) {
            *field = "name";
            return IMSSEC_E_PARAM;
        }
        isc_sb_putn(b, m->name.p, m->name.n);
    }
    /* A value without its bit is dropped by a lenient builder; here it is
     * an error (the caller meant something the header would not say). */
    if (set & ~pr) {
        *field = "present (a value is set without its present bit)";
        return IMSSEC_E_PARAM;
    }
    if (pr & ~set & ~SEC_ZERO_OK) {
        *field = "present (a bit is set for a zero spi or port)";
        return IMSSEC_E_PARAM;
    }
    if (m->kind != IMSSEC_SECAGREE_IPSEC_3GPP && (pr & ~IMSSEC_SECAGREE_HAS_Q)) {
        *field = "present (typed ipsec-3gpp parameters on another mechanism)";
        return IMSSEC_E_PARAM;
    }
    /* the four enumerated parameters: a known value is written by name, an
     * unknown one from its preserved text */
    if (pr & IMSSEC_SECAGREE_HAS_ALG) {
        isc_sb_puts(b, ";alg=");
        if (m->alg < IMSSEC_ALG_NULL || m->alg > IMSSEC_ALG_UNKNOWN ||
            sec_put_value(b, imssec_alg_name(m->alg), m->alg_text) != IMSSEC_OK) {
            *field = "alg";
            return IMSSEC_E_PARAM;
        }
    }
    if (pr & IMSSEC_SECAGREE_HAS_EALG) {
        isc_sb_puts(b, ";ealg=");
        if (m->ealg < IMSSEC_EALG_NULL || m->ealg > IMSSEC_EALG_UNKNOWN ||
            sec_put_value(b, imssec_ealg_name(m->ealg), m->ealg_text) != IMSSEC_OK) {
            *field = "ealg";
            return IMSSEC_E_PARAM;
        }
    }
    if (pr & IMSSEC_SECAGREE_HAS_PROT) {
        isc_sb_puts(b, ";prot=");
        if (m->prot < IMSSEC_SECAGREE_PROT_ESP || m->prot > IMSSEC_SECAGREE_PROT_UNKNOWN ||
            sec_put_value(b, m->prot < IMSSEC_SECAGREE_PROT_UNKNOWN ? sec_prot_names[m->prot] : NULL,
                          m->prot_text) != IMSSEC_OK) {
            *field = "prot";
            return IMSSEC_E_PARAM;
        }
    }
    if (pr & IMSSEC_SECAGREE_HAS_MOD) {
        isc_sb_puts(b, ";mod=");
        if (m->mode < IMSSEC_MODE_TRANS || m->mode > IMSSEC_MODE_UNKNOWN ||
            m->mode == IMSSEC_MODE_UDP_ENC_TRANS ||
            sec_put_value(b, imssec_mode_name(m->mode), m->mode_text) != IMSSEC_OK) {
            *field = "mode";
            return IMSSEC_E_PARAM;
        }
    }
    if ((pr & IMSSEC_SECAGREE_HAS_PORT_C) && (pr & IMSSEC_SECAGREE_HAS_PORT_S) &&
        m->port_c == m->port_s) {
        *field = "port_c equals port_s";
        return IMSSEC_E_PARAM;
    }
    if ((pr & IMSSEC_SECAGREE_HAS_Q) && m->q > 1000) {
        *field = "q";
        return IMSSEC_E_PARAM;
    }
    if (pr & IMSSEC_SECAGREE_HAS_SPI_C) {
        isc_sb_puts(b, ";spi-c=");
        isc_sb_putu(b, m->spi_c);
    }
    if (pr & IMSSEC_SECAGREE_HAS_SPI_S) {
        isc_sb_puts(b, ";spi-s=");
        isc_sb_putu(b, m->spi_s);
    }
    if (pr & IMSSEC_SECAGREE_HAS_PORT_C) {
        isc_sb_puts(b, ";port-c=");
        isc_sb_putu(b, m->port_c);
    }
    if (pr & IMSSEC_SECAGREE_HAS_PORT_S) {
        isc_sb_puts(b, ";port-s=");
        isc_sb_putu(b, m->port_s);
    }
    if (pr & IMSSEC_SECAGREE_HAS_Q) {
        isc_sb_puts(b, ";q=");
        sec_put_q(b, m->q);
    }
    /* Extension parameters, validated by the parser's lexer; typed names
     * among them are skipped (the typed fields said what to write). */
    if (m->params.p && m->params.n) {
        size_t i = 0, count = 0;
        imssec_secagree_param prm;
        int r;
        while ((r = sec_lex_param(m->params.p, m->params.n, &i, &prm)) == 1) {
            size_t k;
            if (++count > IMSSEC_SECAGREE_PARAMS_MAX) {
                *field = "params (too many)";
                return IMSSEC_E_PARAM;
            }
            if (sec_param_id(m->kind, prm.name.p, prm.name.n) != SEC_P_NONE)
                continue;
            isc_sb_putn(b, ";", 1);
            isc_sb_putn(b, prm.name.p, prm.name.n);
            if (prm.value.p) {
                isc_sb_putn(b, "=", 1);
                /* a quoted value may hold a fold: write it unfolded */
                for (k = 0; k < prm.value.n; k++)
                    if (prm.value.p[k] != '\r' && prm.value.p[k] != '\n')
                        isc_sb_putn(b, prm.value.p + k, 1);
            }
        }
        if (r < 0 || i != m->params.n) {
            *field = "params";
            return IMSSEC_E_PARAM;
        }
    }
    return IMSSEC_OK;
}

static void sec_put_raw(isc_sbuf *b, imssec_str raw)
{
    size_t j;
    for (j = 0; j < raw.n; j++)
        if (raw.p[j] != '\r' && raw.p[j] != '\n')
            isc_sb_putn(b, raw.p + j, 1);
}

static int sec_emit_into(isc_sbuf *b, const imssec_secagree_mech *mechs, size_t n, int echo,
                         imssec_errinfo *err)
{
    size_t k;
    for (k = 0; k < n; k++) {
        const char *field = NULL;
        if (k)
            isc_sb_puts(b, ", ");
        if (echo && mechs[k].raw.p) {
            sec_put_raw(b, mechs[k].raw);
        } else if (sec_build_one(b, &mechs[k], &field) != IMSSEC_OK) {
            isc_fail_param(err, field, "mechanism cannot be written");
            if (err)
                err->item_index = k;
            return IMSSEC_E_PARAM;
        }
    }
    return IMSSEC_OK;
}

static int sec_emit(const imssec_secagree_mech *mechs, size_t n, char *out, size_t out_cap,
                    size_t *out_len, int echo, imssec_errinfo *err)
{
    isc_sbuf b;
    int r;
    if ((n && !mechs) || !out_len || (out_cap && !out))
        return isc_fail_param(err, "out", "NULL argument");
    /* Measure first, so that out is untouched unless everything fits. */
    isc_sb_init(&b, NULL, 0);
    if ((r = sec_emit_into(&b, mechs, n, echo, err)) != IMSSEC_OK)
        return r;
    *out_len = b.len;
    if (b.len > out_cap)
        return isc_fail(err, IMSSEC_E_SPACE, "header value longer than out_cap", NULL);
    isc_sb_init(&b, out, out_cap);
    (void)sec_emit_into(&b, mechs, n, echo, NULL);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_secagree_build(const imssec_secagree_mech *mechs, size_t n, char *out,
                                     size_t out_cap, size_t *out_len, imssec_errinfo *err)
{
    return sec_emit(mechs, n, out, out_cap, out_len, 0, err);
}

IMSSEC_API int imssec_secagree_echo(const imssec_secagree_mech *mechs, size_t n, char *out,
                                    size_t out_cap, size_t *out_len, imssec_errinfo *err)
{
    return sec_emit(mechs, n, out, out_cap, out_len, 1, err);
}

/* ---- normalised comparison ------------------------------------------------ */

/* Typed enum equality; two UNKNOWN values compare by text. */
static int sec_enum_eq(int a, imssec_str at, int b, imssec_str bt, int unknown)
{
    if (a != b)
        return 0;
    return a != unknown || isc_lex_ieq(at.p, at.n, bt.p, bt.n);
}

/* Case-insensitive equality ignoring CR and LF: a fold (CRLF WSP) inside a
 * quoted value equals its unfolded form (RFC 3261 7.3.1). */
static int sec_unfolded_ieq(imssec_str a, imssec_str b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a.n && (a.p[i] == '\r' || a.p[i] == '\n'))
            i++;
        while (j < b.n && (b.p[j] == '\r' || b.p[j] == '\n'))
            j++;
        if (i == a.n || j == b.n)
            return i == a.n && j == b.n;
        if (isc_lower((unsigned char)a.p[i]) != isc_lower((unsigned char)b.p[j]))
            return 0;
        i++;
        j++;
    }
}

/* Extension parameter value as compared: quotes stripped, case ignored. */
static imssec_str sec_ext_value(const imssec_secagree_param *p)
{
    imssec_str t = p->value;
    if (!t.p)
        t.n = 0;
    if (t.n >= 2 && t.p[0] == '"') {
        t.p++;
        t.n -= 2;
    }
    return t;
}

/* 1 if every extension parameter of a occurs in b with an equal value. */
static int sec_ext_subset(const imssec_secagree_mech *a, const imssec_secagree_mech *b)
{
    size_t ca = 0;
    imssec_secagree_param pa;
    while (imssec_secagree_param_next(a, &ca, &pa)) {
        size_t cb = 0;
        int found = 0;
        imssec_secagree_param pb;
        if (pa.known)
            continue;
        while (!found && imssec_secagree_param_next(b, &cb, &pb)) {
            if (pb.known || !isc_lex_ieq(pa.name.p, pa.name.n, pb.name.p, pb.name.n))
                continue;
            if ((pa.value.p == NULL) != (pb.value.p == NULL))
                return 0;
            if (!sec_unfolded_ieq(sec_ext_value(&pa), sec_ext_value(&pb)))
                return 0;
            found = 1;
        }
        if (!found)
            return 0;
    }
    return 1;
}

static unsigned sec_ext_count(const imssec_secagree_mech *m)
{
    size_t c = 0;
    unsigned k = 0;
    imssec_secagree_param p;
    while (imssec_secagree_param_next(m, &c, &p))
        if (!p.known)
            k++;
    return k;
}

/* A numeric field compares equal when both lack it or both hold the same. */
static int sec_num_differs(unsigned pa, unsigned pb, unsigned bit, uint32_t a, uint32_t b)
{
    if (!((pa | pb) & bit))
        return 0;
    return (pa & bit) != (pb & bit) || a != b;
}

/* The first difference between two mechanisms, or NULL. */
static const char *sec_mech_diff(const imssec_secagree_mech *a, const imssec_secagree_mech *b)
{
    unsigned pa = a->present, pb = b->present;
    if (a->kind != b->kind ||
        (a->kind == IMSSEC_SECAGREE_OTHER && !isc_lex_ieq(a->name.p, a->name.n, b->name.p, b->name.n)))
        return "mechanism name";
    if (a->kind == IMSSEC_SECAGREE_IPSEC_3GPP) {
        /* alg is mandatory (Annex H): no default, absent equals only absent */
        if ((pa & IMSSEC_SECAGREE_HAS_ALG) != (pb & IMSSEC_SECAGREE_HAS_ALG) ||
            ((pa & IMSSEC_SECAGREE_HAS_ALG) &&
             !sec_enum_eq(a->alg, a->alg_text, b->alg, b->alg_text, IMSSEC_ALG_UNKNOWN)))
            return "alg";
        /* Annex H defaults: the zero enum values are null / esp / trans, and
         * an absent parameter holds zero, so it compares as its default. */
        if (!sec_enum_eq(a->ealg, a->ealg_text, b->ealg, b->ealg_text, IMSSEC_EALG_UNKNOWN))
            return "ealg";
        if (!sec_enum_eq(a->prot, a->prot_text, b->prot, b->prot_text,
                         IMSSEC_SECAGREE_PROT_UNKNOWN))
            return "prot";
        if (!sec_enum_eq(a->mode, a->mode_text, b->mode, b->mode_text, IMSSEC_MODE_UNKNOWN))
            return "mod";
        if (sec_num_differs(pa, pb, IMSSEC_SECAGREE_HAS_SPI_C, a->spi_c, b->spi_c))
            return "spi-c";
        if (sec_num_differs(pa, pb, IMSSEC_SECAGREE_HAS_SPI_S, a->spi_s, b->spi_s))
            return "spi-s";
        if (sec_num_differs(pa, pb, IMSSEC_SECAGREE_HAS_PORT_C, a->port_c, b->port_c))
            return "port-c";
        if (sec_num_differs(pa, pb, IMSSEC_SECAGREE_HAS_PORT_S, a->port_s, b->port_s))
            return "port-s";
    }
    if ((pa & IMSSEC_SECAGREE_HAS_Q) != (pb & IMSSEC_SECAGREE_HAS_Q) ||
        ((pa & IMSSEC_SECAGREE_HAS_Q) && a->q != b->q))
        return "q";
    if (sec_ext_count(a) != sec_ext_count(b) || !sec_ext_subset(a, b))
        return "extension parameters";
    return NULL;
}

IMSSEC_API int imssec_secagree_equal(const imssec_secagree_mech *a, size_t na,
                                     const imssec_secagree_mech *b, size_t nb,
                                     imssec_errinfo *err)
{
    size_t k;
    if (na != nb || (na && (!a || !b))) {
        isc_fail(err, IMSSEC_E_SECAGREE_MISMATCH, "list length", "RFC 3329 2.3.1");
        if (err)
            err->item_index = na < nb ? na : nb;
        return 0;
    }
    for (k = 0; k < na; k++) {
        const char *d = sec_mech_diff(&a[k], &b[k]);
        if (d) {
            isc_fail(err, IMSSEC_E_SECAGREE_MISMATCH, d, "RFC 3329 2.3.1");
            if (err)
                err->item_index = k;
            return 0;
        }
    }
    return 1;
}

IMSSEC_API int imssec_secagree_check(imssec_str a, imssec_str b, imssec_errinfo *err)
{
    imssec_secagree_mech ma[IMSSEC_SECAGREE_CHECK_MAX], mb[IMSSEC_SECAGREE_CHECK_MAX];
    size_t na = 0, nb = 0;
    int r = imssec_secagree_parse(a, ma, IMSSEC_SECAGREE_CHECK_MAX, &na, err);
    if (r)
        return r;
    if ((r = imssec_secagree_parse(b, mb, IMSSEC_SECAGREE_CHECK_MAX, &nb, err)) != IMSSEC_OK) {
        if (err)
            err->value_index = 1;
        return r;
    }
    return imssec_secagree_equal(ma, na, mb, nb, err) ? IMSSEC_OK : IMSSEC_E_SECAGREE_MISMATCH;
}

IMSSEC_API const char *imssec_secagree_kind_name(int kind)
{
    return (kind > 0 && kind <= IMSSEC_SECAGREE_IPSEC_MAN) ? sec_kind_names[kind] : NULL;
}
