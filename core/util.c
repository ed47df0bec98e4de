/*
 * core/util.c -- internals every module uses: portability macros, byte
 * order, ASCII case, the bounded text builder, logging and the caller's RNG.
 * Everything here has internal linkage and the `isc_` prefix.
 *
 * SPDX-License-Identifier: MIT
 */
/* Compile-time assertion usable at file scope (C99 has no _Static_assert). */
#define ISC_STATIC_ASSERT(name, cond) typedef char isc_assert_##name[(cond) ? 1 : -1]

/* Shared internals below are used by some modules in some configurations
 * only; an unused one is not an error. */
#if defined(__GNUC__) || defined(__clang__)
#define ISC_UNUSED __attribute__((unused))
#else
#define ISC_UNUSED
#endif

#define ISC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static ISC_UNUSED uint16_t isc_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static ISC_UNUSED uint32_t isc_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static ISC_UNUSED uint64_t isc_be48(const uint8_t *p)
{
    return (uint64_t)isc_be16(p) << 32 | isc_be32(p + 2);
}
static ISC_UNUSED void isc_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static ISC_UNUSED void isc_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static ISC_UNUSED void isc_put_be48(uint8_t *p, uint64_t v)
{
    isc_put_be16(p, (uint16_t)(v >> 32));
    isc_put_be32(p + 2, (uint32_t)v);
}

/* ASCII-only, locale-independent character classes and case folding. */
static ISC_UNUSED int isc_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}
static ISC_UNUSED int isc_is_digit(int c)
{
    return c >= '0' && c <= '9';
}
/* Case-insensitive whole-token equality: (p, n) equals the NUL-terminated
 * keyword exactly, lengths included (no prefix matches). */
static ISC_UNUSED int isc_token_eq(const char *p, size_t n, const char *kw)
{
    size_t i;
    if (strlen(kw) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (isc_lower((unsigned char)p[i]) != isc_lower((unsigned char)kw[i]))
            return 0;
    return 1;
}

/* A bounded text builder for log lines and headers.  Writes never pass
 * `cap`; `len` keeps counting so the caller learns the size needed. */
typedef struct isc_sbuf {
    char *p;
    size_t cap, len;
} isc_sbuf;

static ISC_UNUSED void isc_sb_init(isc_sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
}
static ISC_UNUSED void isc_sb_putn(isc_sbuf *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++, b->len++)
        if (b->len < b->cap)
            b->p[b->len] = s[i];
}
static ISC_UNUSED void isc_sb_puts(isc_sbuf *b, const char *s)
{
    isc_sb_putn(b, s, strlen(s));
}
static ISC_UNUSED void isc_sb_putu(isc_sbuf *b, uint64_t v)
{
    char d[20];
    size_t n = 0;
    do {
        d[sizeof d - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    isc_sb_putn(b, d + sizeof d - n, n);
}
static ISC_UNUSED void isc_sb_puthex(isc_sbuf *b, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        char two[2];
        two[0] = hx[p[i] >> 4];
        two[1] = hx[p[i] & 15];
        isc_sb_putn(b, two, 2);
    }
}
static ISC_UNUSED int isc_sb_ok(const isc_sbuf *b)
{
    return b->len <= b->cap;
}

#if IMSSEC_ENABLE_LOG
static ISC_UNUSED void isc_log(const imssec_io *io, int level, const isc_sbuf *b)
{
    if (io && io->log)
        io->log(io->user, level, b->p, b->len < b->cap ? b->len : b->cap);
}
#endif

/* Random bytes from the caller; IMSSEC_E_CALLBACK if absent or failing. */
static ISC_UNUSED int isc_random(const imssec_io *io, uint8_t *out, size_t n)
{
    if (!io || !io->random || io->random(io->user, out, n) != 0)
        return IMSSEC_E_CALLBACK;
    return IMSSEC_OK;
}

