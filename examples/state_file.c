/*
 * state_file.c -- see state_file.h.
 */
#include "state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t sf_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static void sf_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sf_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void sf_out_init(sf_out *o, uint8_t *buf, size_t cap)
{
    o->p = buf;
    o->cap = cap;
    o->n = 0;
    o->bad = 0;
    sf_bytes(o, SF_MAGIC, SF_MAGIC_LEN);
}

void sf_bytes(sf_out *o, const void *p, size_t n)
{
    if (o->bad || n > o->cap - o->n) {
        o->bad = 1;
        return;
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

void sf_u32(sf_out *o, uint32_t v)
{
    uint8_t b[4];
    sf_put32(b, v);
    sf_bytes(o, b, 4);
}

void sf_u64(sf_out *o, uint64_t v)
{
    sf_u32(o, (uint32_t)(v >> 32));
    sf_u32(o, (uint32_t)v);
}

void sf_str(sf_out *o, const char *s)
{
    size_t n = strlen(s);
    sf_u32(o, (uint32_t)n);
    sf_bytes(o, s, n);
}

size_t sf_section_begin(sf_out *o, const char tag[4])
{
    size_t at;
    sf_bytes(o, tag, 4);
    at = o->n;
    sf_u32(o, 0);
    return at;
}

void sf_section_end(sf_out *o, size_t at)
{
    if (!o->bad)
        sf_put32(o->p + at, (uint32_t)(o->n - at - 4));
}

int sf_finish_write(sf_out *o, const char *path)
{
    char tmp[4096];
    size_t off = 0;
    int fd, saved;
    sf_u32(o, sf_crc32(o->p, o->n));
    if (o->bad) {
        errno = ENOSPC; /* the caller's buffer was too small */
        return -1;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* the keys are in it: nobody else may read it, not even for a moment
     * (O_CREAT's mode, and fchmod for a FILE.tmp left by an older run) */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0600) != 0)
        goto fail;
    while (off < o->n) {
        ssize_t w = write(fd, o->p + off, o->n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        off += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    {
        /* the rename itself survives a crash once the directory is synced */
        char *slash = strrchr(tmp, '/');
        int dfd;
        if (slash)
            *slash = '\0';
        dfd = open(slash ? (slash == tmp ? "/" : tmp) : ".", O_RDONLY);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    return 0;
fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

int sf_read_file(const char *path, uint8_t *buf, size_t cap, size_t *len, const char **why)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) {
        if (errno == ENOENT)
            return 0;
        *why = strerror(errno);
        return -1;
    }
    n = fread(buf, 1, cap, f);
    if (ferror(f)) {
        *why = "read error";
        fclose(f);
        return -1;
    }
    if (n == cap && fgetc(f) != EOF) {
        *why = "larger than any state this program writes";
        fclose(f);
        return -1;
    }
    fclose(f);
    *len = n;
    return 1;
}

int sf_check(const uint8_t *buf, size_t len, const char **why)
{
    size_t off = SF_MAGIC_LEN;
    if (len < SF_MAGIC_LEN || memcmp(buf, SF_MAGIC, SF_MAGIC_LEN) != 0) {
        *why = "not a state file of this program (bad magic)";
        return -1;
    }
    /* sections up to exactly the 4 bytes of the CRC */
    while (len - off > 4) {
        uint32_t sl;
        if (len - off < 8 + 4) {
            *why = "truncated (a section header runs past the end)";
            return -1;
        }
        sl = sf_get32(buf + off + 4);
        if (sl > len - off - 8 - 4) {
            *why = "truncated (a section runs past the end)";
            return -1;
        }
        off += 8 + sl;
    }
    if (len - off != 4) {
        *why = "truncated (no CRC)";
        return -1;
    }
    if (sf_crc32(buf, off) != sf_get32(buf + off)) {
        *why = "corrupt (CRC mismatch)";
        return -1;
    }
    return 0;
}

int sf_section(const uint8_t *buf, size_t len, const char tag[4], sf_in *sec)
{
    size_t off = SF_MAGIC_LEN;
    while (len - off > 4) {
        uint32_t sl = sf_get32(buf + off + 4);
        if (memcmp(buf + off, tag, 4) == 0) {
            sec->p = buf + off + 8;
            sec->n = sl;
            sec->off = 0;
            sec->bad = 0;
            return 0;
        }
        off += 8 + sl;
    }
    return -1;
}

void sf_get_bytes(sf_in *in, void *p, size_t n)
{
    if (in->bad || n > in->n - in->off) {
        in->bad = 1;
        memset(p, 0, n);
        return;
    }
    memcpy(p, in->p + in->off, n);
    in->off += n;
}

uint32_t sf_get_u32(sf_in *in)
{
    uint8_t b[4];
    sf_get_bytes(in, b, 4);
    return sf_get32(b);
}

uint64_t sf_get_u64(sf_in *in)
{
    uint64_t hi = sf_get_u32(in);
    return hi << 32 | sf_get_u32(in);
}

void sf_get_str(sf_in *in, char *out, size_t cap)
{
    uint32_t n = sf_get_u32(in);
    if (in->bad || n >= cap || n > in->n - in->off) {
        in->bad = 1;
        out[0] = '\0';
        return;
    }
    memcpy(out, in->p + in->off, n);
    out[n] = '\0';
    in->off += n;
}
