/*
 * bench_aka.c -- Milenage authentication vectors per second next to
 * libosmocore's osmo_auth_gen_vec() in the same run (issue 3 target: at
 * least 3x), and digest responses per second next to a plain MD5 baseline.
 * Printed as ratios; absolute rates are informational only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <osmocom/crypt/auth.h>

#include "../../imssec.h"

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint8_t bench_sink;

/* Runs fn in growing batches until 0.5 s have passed; returns ops/s. */
static double bench_rate(void (*fn)(unsigned long), unsigned long batch)
{
    double t0 = bench_now(), t;
    unsigned long done = 0;
    do {
        fn(batch);
        done += batch;
        t = bench_now() - t0;
    } while (t < 0.5);
    return (double)done / t;
}

static uint8_t bk[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
                         0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
static uint8_t bop[16] = {0xcd, 0xc2, 0x02, 0xd5, 0x12, 0x3e, 0x20, 0xf6,
                          0x2b, 0x6d, 0x67, 0x6a, 0xc7, 0x2c, 0xb3, 0x18};
static uint8_t brand[16];

static void run_imssec(unsigned long n)
{
    imssec_milenage m;
    imssec_aka_vector v;
    static const uint8_t amf[2] = {0x80, 0};
    unsigned long i;
    imssec_milenage_init_opc(&m, bk, bop);
    for (i = 0; i < n; i++) {
        brand[0] = (uint8_t)i;
        (void)imssec_aka_vector_gen(&m, NULL, brand, 32 * (uint64_t)i, amf, &v);
        bench_sink ^= v.autn[15];
    }
}

static void run_osmo(unsigned long n)
{
    struct osmo_sub_auth_data aud;
    struct osmo_auth_vector v;
    unsigned long i;
    memset(&aud, 0, sizeof aud);
    aud.type = OSMO_AUTH_TYPE_UMTS;
    aud.algo = OSMO_AUTH_ALG_MILENAGE;
    memcpy(aud.u.umts.k, bk, 16);
    memcpy(aud.u.umts.opc, bop, 16);
    aud.u.umts.amf[0] = 0x80;
    aud.u.umts.ind_bitlen = 5;
    for (i = 0; i < n; i++) {
        brand[0] = (uint8_t)i;
        (void)osmo_auth_gen_vec(&v, &aud, brand);
        bench_sink ^= v.autn[15];
    }
}

static void run_digest(unsigned long n)
{
    imssec_digest_in in;
    imssec_digest_out o;
    unsigned long i;
    memset(&in, 0, sizeof in);
    in.alg = IMSSEC_DIGEST_MD5;
    in.qop = IMSSEC_DIGEST_QOP_AUTH;
    in.username.p = "alice@ims.example.com";
    in.username.n = 21;
    in.realm.p = "ims.example.com";
    in.realm.n = 15;
    in.nonce.p = "amEFB2XKoyyQNxNw5dbcLXkMXYDEewAAcWzgCIO8OeE=";
    in.nonce.n = 44;
    in.cnonce.p = "0a4f113b";
    in.cnonce.n = 8;
    in.method.p = "REGISTER";
    in.method.n = 8;
    in.uri.p = "sip:ims.example.com";
    in.uri.n = 19;
    in.password = bk;
    in.password_len = 8;
    for (i = 0; i < n; i++) {
        in.nc = (uint32_t)i;
        (void)imssec_digest_compute(&in, &o);
        bench_sink ^= (uint8_t)o.response[0];
    }
}

static void run_digest_sha256(unsigned long n)
{
    imssec_digest_in in;
    imssec_digest_out o;
    unsigned long i;
    memset(&in, 0, sizeof in);
    in.alg = IMSSEC_DIGEST_SHA256;
    in.qop = IMSSEC_DIGEST_QOP_AUTH;
    in.username.p = "alice@ims.example.com";
    in.username.n = 21;
    in.realm.p = "ims.example.com";
    in.realm.n = 15;
    in.nonce.p = "amEFB2XKoyyQNxNw5dbcLXkMXYDEewAAcWzgCIO8OeE=";
    in.nonce.n = 44;
    in.cnonce.p = "0a4f113b";
    in.cnonce.n = 8;
    in.method.p = "REGISTER";
    in.method.n = 8;
    in.uri.p = "sip:ims.example.com";
    in.uri.n = 19;
    in.password = bk;
    in.password_len = 8;
    for (i = 0; i < n; i++) {
        in.nc = (uint32_t)i;
        (void)imssec_digest_compute(&in, &o);
        bench_sink ^= (uint8_t)o.response[0];
    }
}

int main(void)
{
    double ours, theirs, dig, dig256;
    ours = bench_rate(run_imssec, 2000);
    theirs = bench_rate(run_osmo, 2000);
    printf("milenage vectors/s: imssec %.0f, libosmocore osmo_auth_gen_vec %.0f, ratio %.2fx "
           "(target >= 3x)\n", ours, theirs, ours / theirs);
    dig = bench_rate(run_digest, 2000);
    dig256 = bench_rate(run_digest_sha256, 2000);
    printf("digest responses/s: MD5 qop=auth %.0f, SHA-256 qop=auth %.0f; "
           "vs one Milenage vector: %.2fx, %.2fx\n", dig, dig256, dig / ours, dig256 / ours);
    return 0;
}
