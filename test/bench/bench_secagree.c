/*
 * bench_secagree.c -- sec-agree header parsing speed on the real-world
 * lines of test/vectors/secagree-headers.txt (embedded), printed as a ratio
 * to a baseline measured in the same run: a memchr/strlen scan over the
 * same bytes (the cost of merely touching every byte and finding every
 * list separator).  Also instructions per byte under callgrind (two runs,
 * N and 0 iterations, so start-up cost cancels), when valgrind is present.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../imssec.h"

static const char *const bs_lines[] = {
    "ipsec-3gpp;prot=esp;mod=trans;spi-c=73111;spi-s=73112;port-c=8802;port-s=8800;alg=hmac-md5-"
    "96;ealg=null, ipsec-3gpp;prot=esp;mod=trans;spi-c=73111;spi-s=73112;port-c=8802;port-s=8800;"
    "alg=hmac-sha-1-96;ealg=null",
    "ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919; "
    "port-c=8034; port-s=8904,ipsec-3gpp; alg=hmac-md5-96; ealg=aes-cbc; spi-c=1028536224; "
    "spi-s=455113919; port-c=8034; port-s=8904,ipsec-3gpp; alg=hmac-md5-96; ealg=null; "
    "spi-c=1028536224; spi-s=455113919; port-c=8034; port-s=8904,ipsec-3gpp; alg=hmac-sha-1-96; "
    "ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919; port-c=8034; port-s=8904,ipsec-3gpp; "
    "alg=hmac-sha-1-96; ealg=aes-cbc; spi-c=1028536224; spi-s=455113919; port-c=8034; "
    "port-s=8904,ipsec-3gpp; alg=hmac-sha-1-96; ealg=null; spi-c=1028536224; spi-s=455113919; "
    "port-c=8034; port-s=8904",
    "ipsec-3gpp ; q=0.1",
    "ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8765423;port-c=7524;"
    "spi-s=1234563;port-s=1358, ipsec-3gpp;alg= hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;"
    "spi-c=8765423;port-c=7524;spi-s=1234563;port-s=1358, tls",
    "ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;prot=esp;mod=trans;port-c=61676;port-s=61662;"
    "spi-c=4294967295;spi-s=67890,tls;q=0.2",
    "ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=aes-cbc;spi-c=5000;spi-s=5001;"
    "port-c=9999;port-s=20000,ipsec-ike;q=0.1;test=458;toto",
    "ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; prot=ah; mod=trans; spi-c=1111; "
    "spi-s=2222; port-c=5062; port-s=5064"};
#define BS_N (sizeof bs_lines / sizeof bs_lines[0])

static size_t bs_len[BS_N];
static volatile size_t bs_sink;

static double bs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bs_parse_all(long iters)
{
    imssec_secagree_mech m[8];
    long k;
    size_t i, n, acc = 0;
    for (k = 0; k < iters; k++)
        for (i = 0; i < BS_N; i++) {
            if (imssec_secagree_parse(((imssec_str){bs_lines[i], bs_len[i]}), m, 8, &n, NULL) != IMSSEC_OK)
                abort();
            acc += n + m[0].present;
        }
    bs_sink = acc;
}

/* Baseline: strlen plus a memchr walk over every ',' and ';'. */
static void bs_scan_all(long iters)
{
    long k;
    size_t i, acc = 0;
    for (k = 0; k < iters; k++)
        for (i = 0; i < BS_N; i++) {
            const char *p = bs_lines[i];
            size_t len = strlen(p);
            const char *e = p + len, *q = p;
            while ((q = memchr(q, ';', (size_t)(e - q))) != NULL) {
                acc++;
                q++;
            }
            q = p;
            while ((q = memchr(q, ',', (size_t)(e - q))) != NULL) {
                acc++;
                q++;
            }
            acc += len;
        }
    bs_sink = acc;
}

/* Time fn until it has run for at least 0.3 s; returns calls of one
 * iteration (all lines) per second. */
static double bs_rate(void (*fn)(long))
{
    long iters = 1000;
    for (;;) {
        double t0 = bs_now(), dt;
        fn(iters);
        dt = bs_now() - t0;
        if (dt > 0.3)
            return (double)iters / dt;
        iters *= 2;
    }
}

static long bs_callgrind_ir(const char *self, long iters)
{
    char cmd[1024], line[256];
    const char *out = "/tmp/bench_secagree.callgrind";
    long ir = -1;
    FILE *f;
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --callgrind-out-file=%s %s --iters %ld >/dev/null 2>&1",
             out, self, iters);
    if (system(cmd) != 0)
        return -1;
    f = fopen(out, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "summary:", 8) == 0 || strncmp(line, "totals:", 7) == 0)
            ir = strtol(strchr(line, ':') + 1, NULL, 10);
    fclose(f);
    remove(out);
    return ir;
}

int main(int argc, char **argv)
{
    size_t i, bytes = 0;
    double parse_rate, scan_rate;
    for (i = 0; i < BS_N; i++) {
        bs_len[i] = strlen(bs_lines[i]);
        bytes += bs_len[i];
    }
    if (argc == 3 && strcmp(argv[1], "--iters") == 0) { /* the callgrind child */
        bs_parse_all(atol(argv[2]));
        return 0;
    }
    bs_parse_all(10); /* warm up, and check that every line parses */
    parse_rate = bs_rate(bs_parse_all);
    scan_rate = bs_rate(bs_scan_all);
    printf("secagree: %u real-world header values, %u bytes\n", (unsigned)BS_N, (unsigned)bytes);
    printf("secagree: parse %.0f headers/s (%.1f MB/s); baseline memchr/strlen scan %.0f "
           "headers/s; parse/scan time ratio %.1f\n",
           parse_rate * BS_N, parse_rate * (double)bytes / 1e6, scan_rate * BS_N,
           scan_rate / parse_rate);
    if (system("command -v valgrind >/dev/null 2>&1") == 0) {
        long a = bs_callgrind_ir(argv[0], 200), b = bs_callgrind_ir(argv[0], 0);
        if (a > 0 && b > 0 && a > b)
            printf("secagree: %.1f instructions per byte (callgrind, %ld Ir over %u x %u bytes)\n",
                   (double)(a - b) / (200.0 * (double)bytes), a - b, 200u, (unsigned)bytes);
        else
            printf("secagree: instructions per byte: callgrind run failed\n");
    } else {
        printf("secagree: instructions per byte: skipped (valgrind not installed)\n");
    }
    return 0;
}
