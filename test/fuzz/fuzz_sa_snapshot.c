/*
 * fuzz_sa_snapshot.c -- imssec_sa_restore on hostile snapshots.  The first
 * byte picks the table's role and whether the SHA-256 trailer is replaced
 * by a correct one (so the fuzzer also reaches the record parser behind
 * the integrity check).  A rejected snapshot must leave the table
 * unchanged; an accepted one must give a consistent table whose own
 * snapshot restores to the identical bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "../../imssec.h"

static int fz_random(void *user, uint8_t *out, size_t len)
{
    (void)user;
    memset(out, 0x5a, len);
    return 0;
}

static void fz_sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    (void)mbedtls_sha256(p, n, out, 0);
#else
    (void)mbedtls_sha256_ret(p, n, out, 0);
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t mem[8192 / 8], before[8192 / 8];
    static imssec_sa_impu impus[8], impus_before[8];
    static uint8_t in[8192], snap[8192], snap2[8192];
    imssec_sa_table t, tb;
    imssec_sa_config cfg;
    imssec_io io;
    size_t n, n2, memsz = imssec_sa_table_mem(4, 12);
    int role, rc;
    if (size < 1 || size - 1 > sizeof in || memsz > sizeof mem)
        return 0;
    role = data[0] & 1;
    memcpy(in, data + 1, size - 1);
    n = size - 1;
    if ((data[0] & 2) && n >= 32)
        fz_sha256(in, n - 32, in + n - 32);
    memset(&io, 0, sizeof io);
    io.random = fz_random;
    imssec_sa_config_init(&cfg, role);
    if (imssec_sa_table_setup(&t, &cfg, NULL, &io, 4, 12, mem, sizeof mem, NULL) != IMSSEC_OK ||
        imssec_sa_impu_attach(&t, impus, 8, 4) != IMSSEC_OK)
        abort();
    memcpy(before, mem, memsz);
    memcpy(impus_before, impus, sizeof impus);
    tb = t;
    rc = imssec_sa_restore(&t, in, n);
    if (rc != IMSSEC_OK) {
        if (rc != IMSSEC_E_SYNTAX && rc != IMSSEC_E_SPACE)
            abort();
        if (memcmp(before, mem, memsz) != 0 || memcmp(&tb, &t, sizeof t) != 0 ||
            memcmp(impus_before, impus, sizeof impus) != 0)
            abort();
        return 0;
    }
    if (imssec_sa_table_check(&t) != IMSSEC_OK)
        abort();
    /* the same bytes as a data-plane pool snapshot for this table: a
     * verdict, and an empty pool on refusal */
    {
        static imssec_esp_sa esp[48];
        imssec_sa_esp_pool pool;
        imssec_sa_esp_pool_init(&pool, esp, 48);
        rc = imssec_sa_esp_pool_restore(&pool, &t, in, n, 16, NULL);
        if (rc != IMSSEC_OK && (pool.used != 0 || (rc != IMSSEC_E_SYNTAX && rc != IMSSEC_E_SPACE &&
                                                   rc != IMSSEC_E_PARAM && rc != IMSSEC_E_UNSUPPORTED)))
            abort();
        for (rc = 0; rc < 48; rc++)
            imssec_esp_sa_wipe(&esp[rc]);
    }
    if (imssec_sa_snapshot(&t, 1, snap, sizeof snap, &n2) != IMSSEC_OK)
        abort();
    if (imssec_sa_restore(&t, snap, n2) != IMSSEC_OK)
        abort();
    if (imssec_sa_snapshot(&t, 1, snap2, sizeof snap2, &n) != IMSSEC_OK || n != n2 ||
        memcmp(snap, snap2, n) != 0)
        abort();
    imssec_sa_table_wipe(&t);
    return 0;
}
