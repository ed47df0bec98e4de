/*
 * core/lex.c -- the one RFC 3261 lexer (section 25.1) of the library: LWS,
 * token, quoted-string, and the removal of quoted-pair escapes.  The
 * sec-agree and Via parsers (secagree/) and the digest parsers (aka/) all
 * lex with it, so that what one of them accepts the others accept too.
 *
 * Every function takes the text p[0..n) and an index i <= n and returns an
 * index in [i, n]: no loop can run past the input, and every loop advances.
 *
 * SPDX-License-Identifier: MIT
 */

/* Character classes in one table: the parsers' hottest test. */
#define ISC_LEX_TOKEN 0x01u /* RFC 3261 token character */
#define ISC_LEX_WSP 0x02u   /* SP or HTAB */
#define ISC_LEX_DIGIT 0x04u
#define ISC_LEX_ALNUM 0x08u
#define ISC_LEX_HEX 0x10u

#define ISC_LEX_T_ (ISC_LEX_TOKEN)
#define ISC_LEX_D_ (ISC_LEX_TOKEN | ISC_LEX_DIGIT | ISC_LEX_ALNUM | ISC_LEX_HEX)
#define ISC_LEX_X_ (ISC_LEX_TOKEN | ISC_LEX_ALNUM | ISC_LEX_HEX)
#define ISC_LEX_A_ (ISC_LEX_TOKEN | ISC_LEX_ALNUM)

/* token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
static const uint8_t isc_lex_class[256] = {
    ['\t'] = ISC_LEX_WSP, [' '] = ISC_LEX_WSP,
    ['-'] = ISC_LEX_T_, ['.'] = ISC_LEX_T_, ['!'] = ISC_LEX_T_, ['%'] = ISC_LEX_T_,
    ['*'] = ISC_LEX_T_, ['_'] = ISC_LEX_T_, ['+'] = ISC_LEX_T_, ['`'] = ISC_LEX_T_,
    ['\''] = ISC_LEX_T_, ['~'] = ISC_LEX_T_,
    ['0'] = ISC_LEX_D_, ['1'] = ISC_LEX_D_, ['2'] = ISC_LEX_D_, ['3'] = ISC_LEX_D_,
    ['4'] = ISC_LEX_D_, ['5'] = ISC_LEX_D_, ['6'] = ISC_LEX_D_, ['7'] = ISC_LEX_D_,
    ['8'] = ISC_LEX_D_, ['9'] = ISC_LEX_D_,
    ['a'] = ISC_LEX_X_, ['b'] = ISC_LEX_X_, ['c'] = ISC_LEX_X_, ['d'] = ISC_LEX_X_,
    ['e'] = ISC_LEX_X_, ['f'] = ISC_LEX_X_, ['A'] = ISC_LEX_X_, ['B'] = ISC_LEX_X_,
    ['C'] = ISC_LEX_X_, ['D'] = ISC_LEX_X_, ['E'] = ISC_LEX_X_, ['F'] = ISC_LEX_X_,
    ['g'] = ISC_LEX_A_, ['h'] = ISC_LEX_A_, ['i'] = ISC_LEX_A_, ['j'] = ISC_LEX_A_,
    ['k'] = ISC_LEX_A_, ['l'] = ISC_LEX_A_, ['m'] = ISC_LEX_A_, ['n'] = ISC_LEX_A_,
    ['o'] = ISC_LEX_A_, ['p'] = ISC_LEX_A_, ['q'] = ISC_LEX_A_, ['r'] = ISC_LEX_A_,
    ['s'] = ISC_LEX_A_, ['t'] = ISC_LEX_A_, ['u'] = ISC_LEX_A_, ['v'] = ISC_LEX_A_,
    ['w'] = ISC_LEX_A_, ['x'] = ISC_LEX_A_, ['y'] = ISC_LEX_A_, ['z'] = ISC_LEX_A_,
    ['G'] = ISC_LEX_A_, ['H'] = ISC_LEX_A_, ['I'] = ISC_LEX_A_, ['J'] = ISC_LEX_A_,
    ['K'] = ISC_LEX_A_, ['L'] = ISC_LEX_A_, ['M'] = ISC_LEX_A_, ['N'] = ISC_LEX_A_,
    ['O'] = ISC_LEX_A_, ['P'] = ISC_LEX_A_, ['Q'] = ISC_LEX_A_, ['R'] = ISC_LEX_A_,
    ['S'] = ISC_LEX_A_, ['T'] = ISC_LEX_A_, ['U'] = ISC_LEX_A_, ['V'] = ISC_LEX_A_,
    ['W'] = ISC_LEX_A_, ['X'] = ISC_LEX_A_, ['Y'] = ISC_LEX_A_, ['Z'] = ISC_LEX_A_};

static ISC_UNUSED int isc_lex_is(unsigned char c, unsigned cls)
{
    return (isc_lex_class[c] & cls) != 0;
}

/* All of p[0..n) are token characters, and n > 0. */
static ISC_UNUSED int isc_lex_all_token(const char *p, size_t n)
{
    size_t i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!(isc_lex_class[(unsigned char)p[i]] & ISC_LEX_TOKEN))
            return 0;
    return 1;
}

/* LWS = [*WSP CRLF] 1*WSP (RFC 3261 25.1), any number of them.  A bare LF
 * fold is accepted too: stacks that unfold lines sloppily hand us LF-only
 * text.  A line break not followed by whitespace is not LWS: it is left
 * where it is, and the caller fails on it. */
static ISC_UNUSED size_t isc_lex_lws(const char *p, size_t n, size_t i)
{
    for (;;) {
        if (i < n && (isc_lex_class[(unsigned char)p[i]] & ISC_LEX_WSP)) {
            i++;
        } else if (i + 2 < n && p[i] == '\r' && p[i + 1] == '\n' &&
                   (isc_lex_class[(unsigned char)p[i + 2]] & ISC_LEX_WSP)) {
            i += 3;
        } else if (i + 1 < n && p[i] == '\n' &&
                   (isc_lex_class[(unsigned char)p[i + 1]] & ISC_LEX_WSP)) {
            i += 2;
        } else {
            return i;
        }
    }
}

/* The end of the run of token characters starting at i (i itself when
 * p[i] is not one). */
static ISC_UNUSED size_t isc_lex_token(const char *p, size_t n, size_t i)
{
    while (i < n && (isc_lex_class[(unsigned char)p[i]] & ISC_LEX_TOKEN))
        i++;
    return i;
}

/* quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE, p[i] == '"'.
 * qdtext: LWS, printable ASCII but '"' and '\', and UTF8-NONASCII bytes
 * (not validated); quoted-pair: '\' and any ASCII byte but CR and LF.
 * Control characters other than HTAB (and CR LF as part of LWS) and DEL
 * are refused.  Returns the index after the closing quote, or 0 (a quoted
 * string never ends at index 0) when unterminated or malformed. */
static ISC_UNUSED size_t isc_lex_quoted(const char *p, size_t n, size_t i)
{
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
            size_t j = isc_lex_lws(p, n, i);
            if (j == i)
                return 0; /* a line break that is not a fold */
            i = j - 1;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 0;
        }
    }
    return 0;
}

/* Copy the body of a quoted-string (the text between the quotes) without
 * its quoted-pair escapes.  Output convention; IMSSEC_E_SYNTAX for a
 * trailing lone backslash. */
static ISC_UNUSED int isc_lex_unquote(imssec_str s, char *out, size_t out_cap, size_t *out_len)
{
    size_t i, n = 0;
    for (i = 0; i < s.n; i++, n++)
        if (s.p[i] == '\\' && ++i >= s.n)
            return IMSSEC_E_SYNTAX;
    if (n > out_cap) {
        *out_len = n;
        return IMSSEC_E_SPACE;
    }
    for (i = 0, n = 0; i < s.n; i++)
        out[n++] = s.p[i] == '\\' ? s.p[++i] : s.p[i];
    *out_len = n;
    return IMSSEC_OK;
}

/* Case-insensitive equality of two slices (ASCII). */
static ISC_UNUSED int isc_lex_ieq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;
    if (an != bn)
        return 0;
    for (i = 0; i < an; i++)
        if (isc_lower((unsigned char)a[i]) != isc_lower((unsigned char)b[i]))
            return 0;
    return 1;
}
