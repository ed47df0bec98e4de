/*
 * bench_sa.c -- sa/ at 1k, 100k and 1M SAs (P-CSCF table, one registered
 * set of four SAs per UE): lookups by inbound SPI and by (UE IP, UE port,
 * P-CSCF port) per second, full registration cycles per second (SM1, SM6,
 * SM7, SM12, de-registration on a table already holding N SAs) and bytes
 * per SA.  Baselines measured in the same run: a linear scan over a plain
 * array of the same SPIs (what a list-based table does) and a direct array
 * index into the SA records (the floor: the same memory, no hashing).  Printed as ratios; absolute rates
 * are informational.  The claim checked: lookup cost is flat from 1k to 1M.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../imssec.h"

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t bench_rng = 0x9e3779b97f4a7c15ull;

static uint64_t bench_next(void)
{
    bench_rng ^= bench_rng << 13;
    bench_rng ^= bench_rng >> 7;
    bench_rng ^= bench_rng << 17;
    return bench_rng;
}

static int bench_random(void *user, uint8_t *out, size_t len)
{
    size_t i;
    (void)user;
    for (i = 0; i < len; i++)
        out[i] = (uint8_t)(bench_next() >> 24);
    return 0;
}

static volatile uint64_t bench_sink;

typedef struct bench_ue {
    imssec_addr ip;
    uint32_t user, spi_in; /* one of the P-CSCF's inbound SPIs */
    uint16_t port_uc, port_ps;
} bench_ue;

static void bench_args(imssec_sa_ev_args *a, uint32_t k)
{
    memset(a, 0, sizeof *a);
    a->ue_ip.len = 4;
    a->ue_ip.b[0] = 10;
    a->ue_ip.b[1] = (uint8_t)(k >> 16);
    a->ue_ip.b[2] = (uint8_t)(k >> 8);
    a->ue_ip.b[3] = (uint8_t)k;
    a->via_ip = a->ue_ip;
    a->pcscf_ip.len = 4;
    a->pcscf_ip.b[0] = 192;
    a->pcscf_ip.b[3] = 1;
    a->peer_spi_c = 0x10000000u + k * 2u;
    a->peer_spi_s = 0x10000001u + k * 2u;
    a->peer_port_c = 40000;
    a->peer_port_s = 40001;
    a->alg = IMSSEC_ALG_HMAC_SHA1_96;
    a->ealg = IMSSEC_EALG_AES_CBC;
    a->expires_s = 3600;
}

/* SM1 .. SM12 for user k at the P-CSCF. */
static int bench_register(imssec_sa_table *t, uint32_t u, uint32_t k, bench_ue *out)
{
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    imssec_sa_info info;
    int rc;
    bench_args(&a, k);
    /* a UE whose SPI equals one of ours is refused (7.1): it picks others */
    while ((rc = imssec_sa_event(t, u, IMSSEC_SA_EV_REG_RECV, &a, NULL, 0, NULL)) == IMSSEC_E_EXISTS) {
        a.peer_spi_c += 0x01000000u;
        a.peer_spi_s += 0x01000000u;
    }
    if (rc ||
        (rc = imssec_sa_event(t, u, IMSSEC_SA_EV_CHALLENGE, &a, &o, 0, NULL)))
        return rc;
    if ((rc = imssec_sa_find_spi(t, o.spi_s, &a.arrived_on)))
        return rc;
    if ((rc = imssec_sa_event(t, u, IMSSEC_SA_EV_AUTH_RECV, &a, NULL, 0, NULL)) ||
        (rc = imssec_sa_event(t, u, IMSSEC_SA_EV_SUCCESS, &a, NULL, 0, NULL)))
        return rc;
    if (out) {
        out->ip = a.ue_ip;
        out->user = u;
        out->spi_in = o.spi_s;
        (void)imssec_sa_get(t, a.arrived_on, &info);
        out->port_uc = info.sport;
        out->port_ps = info.dport;
    }
    return 0;
}

static double bench_first_spi, bench_first_cyc;

static void bench_one(size_t n_sas)
{
    size_t users = n_sas / 4, mem_len = imssec_sa_table_mem(users + 1, users + 4), i;
    void *mem = malloc(mem_len);
    bench_ue *ues = malloc(users * sizeof *ues);
    uint32_t *plain = malloc(users * 2 * sizeof *plain);
    imssec_sa_table t;
    imssec_sa_config cfg;
    imssec_io io;
    double t0, dt, r_spi, r_ports, r_lin, r_idx, r_cyc, r_tick;
    unsigned long ops, cycles;
    uint64_t acc = 0;
    if (!mem || !ues || !plain) {
        printf("out of memory at %zu SAs\n", n_sas);
        exit(1);
    }
    memset(&io, 0, sizeof io);
    io.random = bench_random;
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    cfg.pcscf_port_ps = 5064;
    if (imssec_sa_table_setup(&t, &cfg, NULL, &io, users + 1, users + 4, mem, mem_len, NULL)) {
        printf("setup failed\n");
        exit(1);
    }
    for (i = 0; i < users; i++) {
        char name[32];
        int len = sprintf(name, "ue%zu@bench", i);
        uint32_t u;
        if (imssec_sa_user_lookup(&t,((imssec_str){name, (size_t)len}), 1, &u) ||
            bench_register(&t, u, (uint32_t)i, &ues[i])) {
            printf("fill failed at %zu\n", i);
            exit(1);
        }
        plain[2 * i] = ues[i].spi_in;
        plain[2 * i + 1] = ues[i].spi_in ^ 1u;
    }

    /* lookups by inbound SPI, random order */
    ops = 0;
    t0 = bench_now();
    do {
        for (i = 0; i < 10000; i++) {
            imssec_sa_ref r;
            const bench_ue *e = &ues[bench_next() % users];
            (void)imssec_sa_find_spi(&t, e->spi_in, &r);
            acc += r;
        }
        ops += 10000;
        dt = bench_now() - t0;
    } while (dt < 0.3);
    r_spi = (double)ops / dt;

    ops = 0;
    t0 = bench_now();
    do {
        for (i = 0; i < 10000; i++) {
            imssec_sa_ref r;
            const bench_ue *e = &ues[bench_next() % users];
            (void)imssec_sa_find_ports(&t, &e->ip, e->port_uc, e->port_ps, 1, &r);
            acc += r;
        }
        ops += 10000;
        dt = bench_now() - t0;
    } while (dt < 0.3);
    r_ports = (double)ops / dt;

    /* baseline 1: linear scan of a plain SPI array (a list-based table) */
    ops = 0;
    t0 = bench_now();
    do {
        uint32_t want = ues[bench_next() % users].spi_in;
        size_t j;
        for (j = 0; j < users * 2; j++)
            if (plain[j] == want)
                break;
        acc += j;
        ops++;
        dt = bench_now() - t0;
    } while (dt < 0.3);
    r_lin = (double)ops / dt;

    /* baseline 2: the floor: read the SPI of a random record straight from
     * the set array by position (no hashing, no index), same memory */
    ops = 0;
    t0 = bench_now();
    do {
        for (i = 0; i < 10000; i++) {
            const bench_ue *e = &ues[bench_next() % users];
            acc += t.sets_[(e->spi_in ^ (uint32_t)i) % users].spi_[0];
        }
        ops += 10000;
        dt = bench_now() - t0;
    } while (dt < 0.3);
    r_idx = (double)ops / dt;

    /* registration cycles on the full table: a fresh UE registers and
     * de-registers (SM1, SM6, SM7, SM12, REGISTER Expires 0, 200) */
    cycles = 0;
    t0 = bench_now();
    do {
        uint32_t u;
        imssec_sa_ev_args a;
        if (imssec_sa_user_lookup(&t,((imssec_str){"cycle@bench", 11}), 1, &u) ||
            bench_register(&t, u, (uint32_t)(users + (cycles & 0xff)), NULL)) {
            printf("cycle failed\n");
            exit(1);
        }
        bench_args(&a, (uint32_t)(users + (cycles & 0xff)));
        /* the UE's de-REGISTER arrives on its port_uc -> port_ps SA */
        (void)imssec_sa_find_ports(&t, &a.ue_ip, 40000, 5064, 1, &a.arrived_on);
        if (imssec_sa_event(&t, u, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, 0, NULL) ||
            imssec_sa_event(&t, u, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, 0, NULL) ||
            imssec_sa_user_release(&t, u)) {
            printf("dereg failed\n");
            exit(1);
        }
        cycles++;
        dt = bench_now() - t0;
    } while (dt < 0.3);
    r_cyc = (double)cycles / dt;

    /* tick with nothing due: O(1) with the deadline heap */
    ops = 0;
    t0 = bench_now();
    do {
        uint64_t next;
        for (i = 0; i < 10000; i++) {
            (void)imssec_sa_tick(&t, 1000 + i, &next);
            acc += next;
        }
        ops += 10000;
        dt = bench_now() - t0;
    } while (dt < 0.2);
    r_tick = (double)ops / dt;

    bench_sink = acc;
    if (!bench_first_spi) {
        bench_first_spi = r_spi;
        bench_first_cyc = r_cyc;
    }
    printf("%8zu SAs: %5.1f bytes/SA | find_spi %.2e/s = %.0fx linear scan, %.2fx direct index,"
           " %.2fx the 1k rate | find_ports %.2e/s | registration cycles %.2e/s, %.2fx the 1k"
           " rate | idle tick %.2e/s\n",
           n_sas, (double)mem_len / (double)(4 * (users + 4)), r_spi, r_spi / r_lin,
           r_spi / r_idx, r_spi / bench_first_spi, r_ports, r_cyc, r_cyc / bench_first_cyc,
           r_tick);
    if (imssec_sa_table_check(&t) != IMSSEC_OK) {
        printf("table inconsistent\n");
        exit(1);
    }
    imssec_sa_table_wipe(&t);
    free(mem);
    free(ues);
    free(plain);
    fflush(stdout);
}

int main(void)
{
    printf("sa/: P-CSCF table, one registered UE = 4 SAs; ratios vs baselines of the same run\n");
    bench_one(1000);
    bench_one(100000);
    bench_one(1000000);
    return 0;
}
