/*
 * adv.h -- helpers for the adversarial tests (public interface only).
 * Guard-page placement: gp_place() copies n bytes so that they end exactly
 * at a PROT_NONE page; any read past the end faults.
 */
#ifndef IMSSEC_ADV_H
#define IMSSEC_ADV_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct adv_gp {
    uint8_t *base;
    size_t page;
} adv_gp;

static int adv_gp_init(adv_gp *g)
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
static uint8_t *adv_gp_place(adv_gp *g, const void *src, size_t n)
{
    uint8_t *dst = g->base + g->page - n;
    if (n)
        memcpy(dst, src, n);
    return dst;
}

static void adv_gp_free(adv_gp *g)
{
    munmap(g->base, 2 * g->page);
}

#endif
