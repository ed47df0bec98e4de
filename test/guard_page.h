/*
 * guard_page.h -- for tests that feed parsers hostile input (public
 * interface only).  Guard-page placement: gp_place() copies n bytes so that
 * they end exactly at a PROT_NONE page; any read past the end faults.
 */
#ifndef IMSSEC_TEST_GUARD_PAGE_H
#define IMSSEC_TEST_GUARD_PAGE_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#if defined(__GNUC__) || defined(__clang__)
#define GP_FN static __attribute__((unused))
#else
#define GP_FN static
#endif

typedef struct guard_page {
    uint8_t *base;
    size_t page;
} guard_page;

GP_FN int gp_init(guard_page *g)
{
    long ps = sysconf(_SC_PAGESIZE);
    void *p;
    g->page = ps > 0 ? (size_t)ps : 4096;
    int fd = open("/dev/zero", O_RDWR);
    if (fd < 0)
        return -1;
    p = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -1;
    g->base = (uint8_t *)p;
    if (mprotect(g->base + g->page, g->page, PROT_NONE) != 0)
        return -1;
    return 0;
}

/* Copy src[0..n) to end at the guard page; returns the copy. */
GP_FN uint8_t *gp_place(guard_page *g, const void *src, size_t n)
{
    uint8_t *dst = g->base + g->page - n;
    if (n)
        memcpy(dst, src, n);
    return dst;
}

GP_FN void gp_free(guard_page *g)
{
    munmap(g->base, 2 * g->page);
}

#endif
