/*
 * core/addr.c -- imssec_addr: the one IP address type of the library, its
 * text forms (RFC 791 dotted quad, RFC 4291 2.2 and RFC 5952 for IPv6,
 * RFC 3261 IPv6reference brackets) and equality.
 *
 * SPDX-License-Identifier: MIT
 */

/* Dotted-quad IPv4, four decimal parts 0..255 without leading zeros. */
static int isc_addr_ip4(const char *p, size_t n, uint8_t out[4])
{
    size_t i = 0, part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0, d = 0;
        if (part) {
            if (i >= n || p[i] != '.')
                return 0;
            i++;
        }
        while (i < n && isc_is_digit((unsigned char)p[i]) && d < 4) {
            v = v * 10 + (unsigned)(p[i++] - '0');
            d++;
        }
        if (d == 0 || d > 3 || v > 255 || (d > 1 && p[i - d] == '0'))
            return 0;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

static int isc_addr_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = isc_lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* RFC 4291 2.2 text forms, including "::" and a trailing dotted quad. */
static int isc_addr_ip6(const char *p, size_t n, uint8_t out[16])
{
    uint8_t a[16];
    size_t i = 0, w = 0, gap = 16;
    int have_gap = 0;
    memset(a, 0, sizeof a);
    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        have_gap = 1;
        gap = 0;
        i = 2;
    } else if (n >= 1 && p[0] == ':') {
        return 0;
    }
    while (i < n) {
        unsigned v = 0, d = 0;
        size_t s = i;
        while (i < n && isc_addr_hexval((unsigned char)p[i]) >= 0 && d < 5) {
            v = v * 16 + (unsigned)isc_addr_hexval((unsigned char)p[i++]);
            d++;
        }
        if (i < n && p[i] == '.') { /* embedded IPv4 in the last 32 bits */
            if (w > 12 || !isc_addr_ip4(p + s, n - s, a + w))
                return 0;
            w += 4;
            i = n;
            break;
        }
        if (d == 0 || d > 4 || w > 14)
            return 0;
        a[w++] = (uint8_t)(v >> 8);
        a[w++] = (uint8_t)v;
        if (i == n)
            break;
        if (p[i] != ':')
            return 0;
        i++;
        if (i < n && p[i] == ':') {
            if (have_gap)
                return 0;
            have_gap = 1;
            gap = w;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return 0;
        }
    }
    if (have_gap) {
        size_t tail = w - gap;
        if (w > 14)
            return 0;
        memset(out, 0, 16);
        memcpy(out, a, gap);
        memcpy(out + 16 - tail, a + gap, tail);
        return 1;
    }
    if (w != 16)
        return 0;
    memcpy(out, a, 16);
    return 1;
}

/* An address of either family as text (optionally in brackets), whatever
 * the build: for comparisons (M.7.2 NAT detection) a Via may name an IPv6
 * address even where IPv6 packets are compiled out.  1 or 0. */
static int isc_addr_text(const char *p, size_t n, imssec_addr *a)
{
    memset(a, 0, sizeof *a);
    if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
        if (!isc_addr_ip6(p + 1, n - 2, a->b))
            return 0;
        a->len = 16;
    } else if (isc_addr_ip4(p, n, a->b)) {
        a->len = 4;
    } else if (isc_addr_ip6(p, n, a->b)) {
        a->len = 16;
    } else {
        return 0;
    }
    return 1;
}

IMSSEC_API int imssec_addr_parse(imssec_str text, imssec_addr *out)
{
    imssec_addr a;
    if (!out || (text.n && !text.p))
        return IMSSEC_E_PARAM;
    if (!isc_addr_text(text.p, text.n, &a))
        return IMSSEC_E_SYNTAX;
    if (a.len == 16 && !IMSSEC_ENABLE_IPV6)
        return IMSSEC_E_UNSUPPORTED;
    *out = a;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_addr_format(const imssec_addr *a, int bracket, char *out, size_t out_cap,
                                  size_t *out_len)
{
    char buf[IMSSEC_ADDR_TEXT_MAX];
    isc_sbuf b;
    if (!a || !out_len || (out_cap && !out) || (a->len != 4 && a->len != 16))
        return IMSSEC_E_PARAM;
    isc_sb_init(&b, buf, sizeof buf);
    if (a->len == 4) {
        int k;
        for (k = 0; k < 4; k++) {
            if (k)
                isc_sb_putn(&b, ".", 1);
            isc_sb_putu(&b, a->b[k]);
        }
    } else {
        static const char hx[] = "0123456789abcdef";
        int best = -1, best_len = 0, k;
        uint16_t g[8];
        for (k = 0; k < 8; k++)
            g[k] = isc_be16(a->b + 2 * k);
        /* RFC 5952 4.2: the longest run of two or more zero groups, the
         * first one when runs tie, becomes "::" */
        for (k = 0; k < 8;) {
            int e = k;
            while (e < 8 && g[e] == 0)
                e++;
            if (e - k > best_len && e - k >= 2) {
                best = k;
                best_len = e - k;
            }
            k = e > k ? e : k + 1;
        }
        if (bracket)
            isc_sb_putn(&b, "[", 1);
        for (k = 0; k < 8; k++) {
            char d[4];
            int nd = 0, s;
            if (k == best) {
                isc_sb_putn(&b, "::", 2);
                k += best_len - 1;
                continue;
            }
            if (k && k != best + best_len)
                isc_sb_putn(&b, ":", 1);
            for (s = 12; s >= 0; s -= 4) /* RFC 5952 4.1: no leading zeros */
                if (nd || ((g[k] >> s) & 15) || s == 0)
                    d[nd++] = hx[(g[k] >> s) & 15];
            isc_sb_putn(&b, d, (size_t)nd);
        }
        if (bracket)
            isc_sb_putn(&b, "]", 1);
    }
    *out_len = b.len;
    if (b.len > out_cap)
        return IMSSEC_E_SPACE;
    memcpy(out, buf, b.len);
    return IMSSEC_OK;
}

IMSSEC_API int imssec_addr_equal(const imssec_addr *a, const imssec_addr *b)
{
    if (!a || !b)
        return 0;
    return a->len == b->len && a->len <= 16 && memcmp(a->b, b->b, a->len) == 0;
}

/* Internal: a usable address of this build (IPv4, or IPv6 when compiled in). */
static ISC_UNUSED int isc_addr_ok(const imssec_addr *a)
{
    return a->len == 4 || (IMSSEC_ENABLE_IPV6 && a->len == 16);
}
