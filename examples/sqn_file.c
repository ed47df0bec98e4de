/*
 * sqn_file.c -- the ISIM's SQN state in a file (sqn_file.h).
 */
#include "sqn_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sqn_file_save(sqn_file *f, const imssec_aka_sqn *st)
{
    char tmp[4096], text[64 * (1u << IMSSEC_AKA_IND_BITS_MAX) + 128];
    size_t n = 0;
    unsigned i;
    int fd, ok;
    if (strlen(f->path) + 5 > sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    n += (size_t)snprintf(text + n, sizeof text - n, "imssec-sqn 1\nind-bits %u\nhighest %012llx\n",
                          f->ind_bits, (unsigned long long)imssec_aka_sqn_highest(st));
    for (i = 0; i < (1u << f->ind_bits); i++) {
        uint64_t s = imssec_aka_sqn_seq_ms(st, i);
        if (s)
            n += (size_t)snprintf(text + n, sizeof text - n, "seq-ms %u %012llx\n", i,
                                  (unsigned long long)s);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, f->path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    f->saves++;
    return 0;
}

/* imssec_aka_sqn's persistence callback: non-zero makes the library
 * refuse the challenge and roll the state back (the file and the ISIM
 * never disagree). */
static int sqn_file_persist(void *user, const imssec_aka_sqn *st)
{
    sqn_file *f = user;
    if (sqn_file_save(f, st) == 0)
        return 0;
    fprintf(stderr, "ue: cannot write the SQN file %s: %s\n", f->path, strerror(errno));
    return -1;
}

void sqn_file_attach(sqn_file *f, imssec_aka_sqn *st)
{
    imssec_aka_sqn_set_persist(st, sqn_file_persist, f);
}

/* One hex number of at most 12 digits (48 bits) ending the line. */
static int sqn_hex48(const char *s, uint64_t *out)
{
    size_t n = strspn(s, "0123456789abcdefABCDEF");
    if (n == 0 || n > 12 || (s[n] != '\n' && s[n] != '\0'))
        return -1;
    *out = (uint64_t)strtoull(s, NULL, 16);
    return 0;
}

int sqn_file_load(const char *path, unsigned ind_bits, imssec_aka_sqn *st)
{
    FILE *fp = fopen(path, "r");
    char line[128];
    imssec_aka_sqn tmp = *st; /* st changes only when the whole file is good */
    unsigned lineno = 0, bits = 99;
    int version = 0;
    if (!fp)
        return errno == ENOENT ? 0 : (perror(path), -1);
    while (fgets(line, sizeof line, fp)) {
        uint64_t v = 0;
        unsigned ind;
        int used = 0;
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp))
            goto bad;
        if (lineno == 1) {
            if (strcmp(line, "imssec-sqn 1\n") != 0)
                goto bad;
            version = 1;
        } else if (sscanf(line, "ind-bits %u%n", &bits, &used) == 1 && line[used] == '\n') {
            if (bits != ind_bits) {
                fprintf(stderr, "ue: %s is for %u IND bits, --ind-bits is %u\n", path, bits,
                        ind_bits);
                fclose(fp);
                return -1;
            }
        } else if (strncmp(line, "highest ", 8) == 0 && bits == ind_bits &&
                   sqn_hex48(line + 8, &v) == 0) {
            if (imssec_aka_sqn_record(&tmp, v) != IMSSEC_OK)
                goto bad;
        } else if (sscanf(line, "seq-ms %u %n", &ind, &used) == 1 && used > 0 &&
                   bits == ind_bits && ind < (1u << bits) && sqn_hex48(line + used, &v) == 0 &&
                   v <= (IMSSEC_AKA_SQN_MASK >> bits)) {
            if (imssec_aka_sqn_record(&tmp, (v << bits) | ind) != IMSSEC_OK)
                goto bad;
        } else {
            goto bad;
        }
    }
    fclose(fp);
    if (!version || bits != ind_bits) {
        fprintf(stderr, "ue: %s: not an SQN file (no header or ind-bits line)\n", path);
        return -1;
    }
    *st = tmp; /* a copy of st: its persistence callback too */
    return 1;
bad:
    fprintf(stderr, "ue: %s line %u: malformed\n", path, lineno);
    fclose(fp);
    return -1;
}
