/*
 * secagree_fixture.h -- for the secagree/ parser tests: guarded parsing
 * (sa_parse() places every input so that its last byte is followed by a
 * PROT_NONE page: any over-read faults), the expected fields of a vector
 * line, and the good header values the hostile-input cases start from,
 * with an unguarded parse and a canary check.  A file including this defines
 * _DEFAULT_SOURCE (MAP_ANONYMOUS) before any header.
 */
#ifndef IMSSEC_TEST_SECAGREE_FIXTURE_H
#define IMSSEC_TEST_SECAGREE_FIXTURE_H

#include "../../imssec.h"
#include "../t.h"

#include <sys/mman.h>
#include <unistd.h>

#if defined(__GNUC__) || defined(__clang__)
#define SF_FN static __attribute__((unused))
#else
#define SF_FN static
#endif

/* ---- guard-page parsing ---------------------------------------------------- */

#define SA_MAXM 16

typedef struct sa_guard {
    char *base;
    size_t span; /* readable bytes before the guard page */
} sa_guard;

SF_FN sa_guard sa_g;

/* Copy s to end exactly at a PROT_NONE page; returns the copy. */
SF_FN const char *sa_place(const char *s, size_t n)
{
    if (!sa_g.base) {
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        void *p;
        sa_g.span = 16 * pg;
        p = mmap(NULL, sa_g.span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
        if (p == MAP_FAILED)
            abort();
        if (mprotect((char *)p + sa_g.span, pg, PROT_NONE) != 0)
            abort();
        sa_g.base = (char *)p;
    }
    if (n > sa_g.span)
        abort();
    memcpy(sa_g.base + sa_g.span - n, s, n);
    return sa_g.base + sa_g.span - n;
}

/* Parse s (guarded).  Results point into the guard area until the next call. */
SF_FN int sa_parse(const char *s, imssec_secagree_mech *m, size_t cap, size_t *n,
                    imssec_errinfo *e)
{
    size_t len = strlen(s);
    return imssec_secagree_parse(T_S(sa_place(s, len), len), m, cap, n, e);
}

/* Offset of needle's first occurrence in hay (test helper). */
SF_FN size_t sa_off(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    return p ? (size_t)(p - hay) : (size_t)-1;
}

/* ---- the vector file --------------------------------------------------------- */

typedef struct sa_exp {
    int kind, alg, ealg;
    unsigned present;
    uint32_t spi_c, spi_s;
    uint16_t port_c, port_s, q;
} sa_exp;

#define P4 (IMSSEC_SECAGREE_HAS_SPI_C | IMSSEC_SECAGREE_HAS_SPI_S | IMSSEC_SECAGREE_HAS_PORT_C | IMSSEC_SECAGREE_HAS_PORT_S)

#define AE (IMSSEC_SECAGREE_HAS_ALG | IMSSEC_SECAGREE_HAS_EALG)

#define PM (IMSSEC_SECAGREE_HAS_PROT | IMSSEC_SECAGREE_HAS_MOD)

#define I3 IMSSEC_SECAGREE_IPSEC_3GPP

#define MD5 IMSSEC_ALG_HMAC_MD5_96

#define SHA IMSSEC_ALG_HMAC_SHA1_96

SF_FN int sa_check(const imssec_secagree_mech *m, const sa_exp *x)
{
    return m->kind == x->kind && m->present == x->present &&
           (!(x->present & IMSSEC_SECAGREE_HAS_ALG) || m->alg == x->alg) &&
           (!(x->present & IMSSEC_SECAGREE_HAS_EALG) || m->ealg == x->ealg) && m->spi_c == x->spi_c &&
           m->spi_s == x->spi_s && m->port_c == x->port_c && m->port_s == x->port_s &&
           m->q == x->q && m->prot == IMSSEC_SECAGREE_PROT_ESP && m->mode == IMSSEC_MODE_TRANS;
}

/* ---- the good inputs of the hostile-input cases ----------------------------- */

#define NM 16

SF_FN const char *const sa_good[] = {
    "ipsec-3gpp;prot=esp;mod=trans;spi-c=73111;spi-s=73112;port-c=8802;port-s=8800;"
    "alg=hmac-md5-96;ealg=null, ipsec-3gpp;prot=esp;mod=trans;spi-c=73111;spi-s=73112;"
    "port-c=8802;port-s=8800;alg=hmac-sha-1-96;ealg=null",
    "ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919; "
    "port-c=8034; port-s=8904,tls;q=0.2",
    "ipsec-3gpp ; q=0.1",
    "ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=aes-cbc;spi-c=5000;spi-s=5001;"
    "port-c=9999;port-s=20000,ipsec-ike;q=0.1;test=458;toto",
    "ipsec-3gpp;alg=hmac-sha-1-96;foo=\"a,b;c\\\"d\";spi-c=1;spi-s=2;port-c=3;port-s=4, digest",
    "ipsec-3gpp;\r\n alg=hmac-sha-1-96;\r\n\tspi-c=4294967295;spi-s=1;port-c=65535;port-s=1",
};

SF_FN int sa_parse_str(const char *s, imssec_secagree_mech *m, size_t cap, size_t *count)
{
    return imssec_secagree_parse(T_S(s, strlen(s)), m, cap, count, NULL);
}

/* Parse with the output array filled with a canary; on error check that
 * neither the array nor *count moved. Returns the rc, or 99 on a violation. */
SF_FN int sa_parse_canary(const char *s, size_t len, size_t cap)
{
    imssec_secagree_mech m[NM], canary[NM];
    size_t count = 777;
    imssec_errinfo ei;
    int rc;
    memset(m, 0xA5, sizeof m);
    memcpy(canary, m, sizeof m);
    rc = imssec_secagree_parse(T_S(s, len), m, cap, &count, &ei);
    if (rc != IMSSEC_OK && memcmp(m, canary, sizeof m) != 0)
        return 99;
    if (rc != IMSSEC_OK && rc != IMSSEC_E_SPACE && count != 777)
        return 98;
    return rc;
}

#endif
