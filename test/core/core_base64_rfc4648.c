/*
 * core_base64_rfc4648.c -- base64 (RFC 4648) of the public core: the
 * section 10 vectors both ways, the unpadded forms IMS nonces use, what is
 * refused, IMSSEC_E_SPACE, random alphabet strings placed at a guard page
 * (canonical re-encoding), an embedded NUL, and an input length whose
 * encoded size overflows size_t.
 */

#include "../../imssec.h"
#include "../t.h"
#include "../guard_page.h"

#include <signal.h>
#include <sys/wait.h>

/* RFC 4648 section 10 test vectors, both directions. */
T_TEST(core_base64_rfc4648)
{
    static const char *v[][2] = {{"", ""},          {"f", "Zg=="},
                                 {"fo", "Zm8="},    {"foo", "Zm9v"},
                                 {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                 {"foobar", "Zm9vYmFy"}};
    size_t i, n;
    char enc[16];
    uint8_t dec[16];
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        T_EQ_INT(imssec_base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), enc,
                                      sizeof enc, &n), IMSSEC_OK);
        T_EQ_SLICE(enc, n, v[i][1]);
        T_EQ_INT(imssec_base64_decode(T_S(v[i][1], strlen(v[i][1])), dec, sizeof dec, &n),
                 IMSSEC_OK);
        T_EQ_SLICE((const char *)dec, n, v[i][0]);
    }
}

/* IMS nonces arrive with and without padding; both decode to the same
 * bytes.  (mbedTLS's decoder silently drops an unpadded tail.) */
T_TEST(core_base64_unpadded)
{
    uint8_t dec[8];
    size_t n;
    T_EQ_INT(imssec_base64_decode(T_S("Zg", 2), dec, sizeof dec, &n), IMSSEC_OK);
    T_EQ_SLICE((const char *)dec, n, "f");
    T_EQ_INT(imssec_base64_decode(T_S("Zm8", 3), dec, sizeof dec, &n), IMSSEC_OK);
    T_EQ_SLICE((const char *)dec, n, "fo");
    T_EQ_INT(imssec_base64_decode(T_S("Zm9vYmE", 7), dec, sizeof dec, &n), IMSSEC_OK);
    T_EQ_SLICE((const char *)dec, n, "fooba");
}

T_TEST(core_base64_rejects)
{
    static const char *bad[] = {"Z",     "Zg=",  "Zg===", "Zm9=v", "Zm 9v", "Zh==",
                                "Zm9=",  "=",    "Zm9v=", "Zm9vY", "Z!==",  "Zm9v\n"};
    uint8_t dec[8];
    size_t i, n = 99;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(dec, 0x5a, sizeof dec);
        if (imssec_base64_decode(T_S(bad[i], strlen(bad[i])), dec, sizeof dec, &n) !=
            IMSSEC_E_SYNTAX) {
            t_fail_(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
            return;
        }
        T_EQ_UINT(dec[0], 0x5a); /* nothing written */
    }
}

T_TEST(core_base64_space)
{
    char enc[3];
    uint8_t dec[2];
    size_t n = 0;
    T_EQ_INT(imssec_base64_encode((const uint8_t *)"foo", 3, enc, sizeof enc, &n),
             IMSSEC_E_SPACE);
    T_EQ_UINT(n, 4);
    T_EQ_INT(imssec_base64_decode(T_S("Zm9v", 4), dec, sizeof dec, &n), IMSSEC_E_SPACE);
    T_EQ_UINT(n, 3);
}

/* base64 decode at a guard page, all lengths, random alphabet strings;
 * SPACE reports the need. */
T_TEST(core_base64_rfc4648_decode_guard_page_random)
{
    guard_page g;
    size_t r;
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    T_ASSERT(gp_init(&g) == 0);
    for (r = 0; r < 5000; r++) {
        char t[40];
        uint8_t out[40], enc_in[40];
        char re[64];
        size_t n = t_rand64() % 36, i, ol, rl;
        int rc;
        for (i = 0; i < n; i++)
            t[i] = al[t_rand64() % (r & 1 ? 64 : 65)];
        rc = imssec_base64_decode(T_S((const char *)gp_place(&g, t, n), n), out, sizeof out, &ol);
        T_ASSERT(rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX);
        if (rc == IMSSEC_OK) {
            /* canonical: re-encoding gives the input modulo padding */
            memcpy(enc_in, out, ol);
            T_EQ_INT(imssec_base64_encode(enc_in, ol, re, sizeof re, &rl), IMSSEC_OK);
            T_ASSERT(rl >= n && memcmp(re, t, n) == 0);
            for (i = n; i < rl; i++)
                T_ASSERT(re[i] == '=');
            T_ASSERT(ol == n * 3 / 4 || n % 4 == 0);
            if (ol > 0) {
                size_t need = 0;
                uint8_t o2[40];
                memset(o2, 0xA5, sizeof o2);
                T_EQ_INT(imssec_base64_decode(T_S(t, n), o2, ol - 1, &need), IMSSEC_E_SPACE);
                T_EQ_UINT(need, ol);
                T_EQ_UINT(o2[0], 0xA5);
            }
        }
    }
    gp_free(&g);
}

/* base64 decode with embedded NUL: rejected. */
T_TEST(core_base64_rfc4648_embedded_nul_rejected)
{
    static const char s[] = "Zm9v\0mFy";
    uint8_t out[16];
    size_t n;
    T_EQ_INT(imssec_base64_decode(T_S(s, 8), out, sizeof out, &n), IMSSEC_E_SYNTAX);
}

/* base64 encode: a length whose 4*ceil(n/3) overflows size_t must not be
 * taken as a tiny need (run in a child: a crash is the bug). */
T_TEST(core_base64_encode_length_overflow)
{
    pid_t pid;
    int status = 0;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        static const uint8_t in[4] = {1, 2, 3, 4};
        char out[8];
        size_t len = 0, huge = (SIZE_MAX / 4 + 1) * 3; /* 4*ceil(n/3) == 2^64 */
        int rc;
        alarm(5);
        rc = imssec_base64_encode(in, huge, out, sizeof out, &len);
        _exit(rc == IMSSEC_OK ? 3 : 0);
    }
    T_ASSERT(pid > 0);
    T_ASSERT(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) {
        t_fail_(__FILE__, __LINE__, "imssec_base64_encode(in_len=3*2^62) died with signal %d",
                WTERMSIG(status));
        return;
    }
    T_EQ_INT(WEXITSTATUS(status), 0);
}
