/*
 * control.c -- command lines from a descriptor (control.h).
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ctl_open(ctl *c, const char *path)
{
    struct stat sb;
    memset(c, 0, sizeof *c);
    if (strcmp(path, "-") == 0) {
        c->fd = 0;
        return 0;
    }
    if (stat(path, &sb) != 0) {
        perror(path);
        return -1;
    }
    c->fd = open(path, S_ISFIFO(sb.st_mode) ? O_RDWR : O_RDONLY);
    if (c->fd < 0) {
        perror(path);
        return -1;
    }
    return 0;
}

static void ctl_push(ctl *c, const char *line, size_t n)
{
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    while (n && (*line == ' ' || *line == '\t'))
        line++, n--;
    if (n == 0 || *line == '#')
        return;
    if (c->n == CTL_QUEUE) {
        fprintf(stderr, "control: more than %d commands queued: \"%.*s\" dropped\n", CTL_QUEUE,
                (int)n, line);
        return;
    }
    memcpy(c->q[(c->head + c->n) % CTL_QUEUE], line, n);
    c->q[(c->head + c->n) % CTL_QUEUE][n] = '\0';
    c->n++;
}

void ctl_readable(ctl *c)
{
    char buf[1024];
    ssize_t r;
    size_t i, start = 0;
    if (c->eof)
        return;
    r = read(c->fd, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        c->eof = 1;
        if (c->part_len && !c->overflow)
            ctl_push(c, c->part, c->part_len);
        c->part_len = 0;
        return;
    }
    for (i = 0; i < (size_t)r; i++) {
        if (buf[i] != '\n')
            continue;
        if (c->overflow) {
            c->overflow = 0;
        } else if (c->part_len + (i - start) < CTL_LINE) {
            memcpy(c->part + c->part_len, buf + start, i - start);
            ctl_push(c, c->part, c->part_len + (i - start));
        } else {
            fprintf(stderr, "control: a line longer than %d bytes dropped\n", CTL_LINE - 1);
        }
        c->part_len = 0;
        start = i + 1;
    }
    if (start < (size_t)r && !c->overflow) {
        size_t rest = (size_t)r - start;
        if (c->part_len + rest < CTL_LINE) {
            memcpy(c->part + c->part_len, buf + start, rest);
            c->part_len += rest;
        } else {
            fprintf(stderr, "control: a line longer than %d bytes dropped\n", CTL_LINE - 1);
            c->overflow = 1;
            c->part_len = 0;
        }
    }
}

int ctl_next(ctl *c, char out[CTL_LINE])
{
    if (!c->n)
        return 0;
    memcpy(out, c->q[c->head], CTL_LINE);
    c->head = (c->head + 1) % CTL_QUEUE;
    c->n--;
    return 1;
}
