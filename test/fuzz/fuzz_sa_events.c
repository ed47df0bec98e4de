/*
 * fuzz_sa_events.c -- the sa/ state machines under hostile event sequences.
 * The bytes choose the side (UE or P-CSCF table), the user, the event, its
 * arguments (arrival SA from the refs seen so far, kinds, flags,
 * algorithms, addresses, peer SPIs and ports, the transport and the kind
 * of message), time steps (small and jumps), transactions, routes over
 * UDP and TCP, port_Uenc learning, IMPUs added, removed and checked,
 * snapshot round trips and which data-plane callback fails.  After every operation the tables'
 * invariants must hold (imssec_sa_table_check) and a refused event must
 * leave the table byte-for-byte unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

typedef struct fz_in {
    const uint8_t *p;
    size_t n, off;
} fz_in;

static uint8_t fz_byte(fz_in *in)
{
    return in->off < in->n ? in->p[in->off++] : 0;
}

static uint32_t fz_u32(fz_in *in)
{
    uint32_t v = fz_byte(in);
    v = (v << 8) | fz_byte(in);
    v = (v << 8) | fz_byte(in);
    return (v << 8) | fz_byte(in);
}

typedef struct fz_state {
    uint64_t rng;
    int calls, fail_at;
} fz_state;

static int fz_random(void *user, uint8_t *out, size_t len)
{
    fz_state *s = (fz_state *)user;
    size_t i;
    for (i = 0; i < len; i++) {
        s->rng ^= s->rng << 13;
        s->rng ^= s->rng >> 7;
        s->rng ^= s->rng << 17;
        out[i] = (uint8_t)(s->rng >> 24);
    }
    return 0;
}

static int fz_fail(void *user)
{
    fz_state *s = (fz_state *)user;
    return ++s->calls == s->fail_at ? -1 : 0;
}

static int fz_install(void *user, const imssec_sa_info *sa, uint64_t *h, imssec_errinfo *err)
{
    (void)err;
    *h = sa->spi;
    return fz_fail(user);
}

static int fz_remove(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    (void)err;
    (void)sa;
    return fz_fail(user);
}

static int fz_update(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    (void)err;
    (void)sa;
    return fz_fail(user);
}

static int fz_keepalive(void *user, imssec_str impi)
{
    (void)impi;
    return fz_fail(user);
}

#define FZ_REFS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t mem[2][4096 / 8], copy[4096 / 8];
    static imssec_sa_impu impus[2][6], impus2[6];
    static const char *const impu_names[4] = {"sip:a@x", "tel:+1", "sip:b@x", "sip:c@x"};
    static uint8_t snap[4096];
    imssec_sa_table t[2], tcopy;
    imssec_sa_config cfg;
    imssec_sa_callbacks cb;
    imssec_io io;
    fz_state st;
    fz_in in;
    imssec_sa_ref refs[FZ_REFS];
    uint32_t peer_spi[4] = {1000, 1001, 1002, 1003};
    uint16_t peer_port[4] = {40000, 40001, 40002, 40003};
    uint32_t users[2][3];
    uint64_t now = 1000;
    size_t nrefs = 0, memsz;
    int side, i;
    static const char *names[3] = {"a@x", "b@x", "c@x"};

    in.p = data;
    in.n = size;
    in.off = 0;
    memset(&st, 0, sizeof st);
    st.rng = 0x9e3779b97f4a7c15ull ^ fz_u32(&in);
    st.fail_at = fz_byte(&in); /* 0: no failure; else the n-th callback fails */
    memset(&io, 0, sizeof io);
    io.user = &st;
    io.random = fz_random;
    memset(&cb, 0, sizeof cb);
    cb.user = &st;
    cb.install = fz_install;
    cb.remove = fz_remove;
    cb.update = fz_update;
    cb.keepalive = fz_keepalive;
    memsz = imssec_sa_table_mem(3, 10);
    if (memsz > sizeof mem[0])
        abort();
    for (side = 0; side < 2; side++) {
        imssec_sa_config_init(&cfg, side);
        cfg.port_min = 40000;
        cfg.port_max = 40040; /* small: collisions happen */
        if (imssec_sa_table_setup(&t[side], &cfg, &cb, &io, 3, 10, mem[side], sizeof mem[side], NULL))
            abort();
        for (i = 0; i < 3; i++)
            if (imssec_sa_user_lookup(&t[side], imssec_cstr(names[i]), 1, &users[side][i]))
                abort();
        if (imssec_sa_impu_attach(&t[side], impus[side], 6, 2) != IMSSEC_OK)
            abort();
    }

    while (in.off < in.n) {
        uint8_t op = fz_byte(&in);
        imssec_sa_table *T;
        uint32_t u;
        side = op & 1;
        T = &t[side];
        u = users[side][(op >> 1) % 3];
        switch ((op >> 3) % 8) {
        case 0:
        case 1:
        case 2: { /* an event */
            imssec_sa_ev_args a;
            imssec_sa_ev_out o;
            int ev = fz_byte(&in) % IMSSEC_SA_EV_COUNT_, rc;
            uint8_t f = fz_byte(&in), g = fz_byte(&in);
            memset(&a, 0, sizeof a);
            a.arrived_on = (f & 1) && nrefs ? refs[fz_byte(&in) % nrefs] : 0;
            if ((f & 0x80) && nrefs)
                a.arrived_on ^= 1ull << (fz_byte(&in) % 64); /* forged */
            a.kind = (uint8_t)((f >> 1) % 7);
            a.force_unprotected = (f >> 4) & 1;
            a.nat = (f >> 5) & 1;
            a.alg = (uint8_t)(g % 4);
            a.ealg = (uint8_t)((g >> 2) % 4);
            a.mode = (uint8_t)((g >> 4) % 3);
            a.transport = (uint8_t)(g >> 7);
            i = fz_byte(&in);
            a.msg = (uint8_t)(i % 5); /* 4: not a message kind */
            a.emergency = (uint8_t)((i >> 3) & 1);
            a.expires_s = fz_byte(&in) * 10u;
            a.ue_ip.len = 4;
            a.ue_ip.b[0] = 10;
            a.ue_ip.b[3] = (uint8_t)(1 + ((g >> 6) & 1));
            a.via_ip = a.ue_ip;
            if (f & 0x40)
                a.via_ip.b[3] ^= 0x10;
            a.pcscf_ip.len = 4;
            a.pcscf_ip.b[0] = 192;
            a.pcscf_ip.b[3] = 1;
            i = fz_byte(&in);
            a.peer_spi_c = peer_spi[i & 3];
            a.peer_spi_s = peer_spi[(i >> 2) & 3];
            a.peer_port_c = peer_port[(i >> 4) & 3];
            a.peer_port_s = peer_port[(i >> 6) & 3];
            memset(a.ik, 0x11, 16);
            memset(a.ck, 0x22, 16);
            memcpy(copy, mem[side], memsz);
            tcopy = *T;
            rc = imssec_sa_event(T, u, ev, &a, &o, now, NULL);
            if (rc == IMSSEC_OK || rc == IMSSEC_E_CALLBACK) {
                if (rc == IMSSEC_OK) {
                    if (o.state != imssec_sa_state(T, u))
                        abort();
                    if (o.protect_with && nrefs < FZ_REFS)
                        refs[nrefs++] = o.protect_with;
                    if (o.spi_c) { /* the other side sees these as peer values */
                        peer_spi[0] = o.spi_c;
                        peer_spi[1] = o.spi_s;
                        peer_port[0] = o.port_c;
                        peer_port[1] = o.port_s;
                    }
                }
            } else if (memcmp(copy, mem[side], memsz) != 0 ||
                       memcmp(&tcopy, T, sizeof tcopy) != 0) {
                abort(); /* refused, yet something changed */
            }
            break;
        }
        case 3: { /* time */
            uint64_t next = 0;
            uint8_t b = fz_byte(&in);
            now += (b & 0x80) ? (uint64_t)(b & 0x7f) * 100000u : (uint64_t)b * 500u;
            (void)imssec_sa_tick(T, now, &next);
            if (next <= now)
                abort();
            break;
        }
        case 4: /* transactions */
            if (nrefs) {
                imssec_sa_ref r = refs[fz_byte(&in) % nrefs];
                if (op & 0x40)
                    (void)imssec_sa_txn_begin(T, r);
                else
                    (void)imssec_sa_txn_end(T, r, now);
            }
            break;
        case 5: { /* routes and lookups */
            imssec_sa_ref r = 0, in_ref = nrefs ? refs[fz_byte(&in) % nrefs] : 0;
            imssec_sa_info info;
            uint32_t owner;
            if (imssec_sa_route(T, u, (op >> 6) & 1, op >> 7, in_ref, &r) == IMSSEC_OK) {
                if (imssec_sa_get(T, r, &info) != IMSSEC_OK || info.inbound)
                    abort();
                if (imssec_sa_owner(T, r, &owner) != IMSSEC_OK || owner != u)
                    abort();
                if (nrefs < FZ_REFS)
                    refs[nrefs++] = r;
            }
            if (imssec_sa_find_spi(T, peer_spi[fz_byte(&in) & 3], &r) == IMSSEC_OK) {
                if (imssec_sa_get(T, r, &info) != IMSSEC_OK || !info.inbound)
                    abort();
                if (nrefs < FZ_REFS)
                    refs[nrefs++] = r;
            }
            break;
        }
        case 6:
            if (op & 0x40) { /* IMPUs */
                uint8_t b = fz_byte(&in);
                imssec_str s = imssec_cstr(impu_names[b & 3]);
                size_t before = imssec_sa_impu_count(T, u);
                int rc;
                if ((b >> 2) % 3 == 0) {
                    rc = imssec_sa_impu_add(T, u, s);
                    if (rc == IMSSEC_OK && imssec_sa_impu_count(T, u) < before)
                        abort();
                } else if ((b >> 2) % 3 == 1) {
                    rc = imssec_sa_impu_remove(T, u, s, now, NULL);
                    if (rc == IMSSEC_OK && before == 1 && imssec_sa_count(T, u) != 0)
                        abort(); /* the last one takes the SAs along */
                } else if (nrefs) {
                    (void)imssec_sa_impu_check(T, refs[fz_byte(&in) % nrefs], s);
                }
            } else if (nrefs) {
                (void)imssec_sa_learn_uenc(T, refs[fz_byte(&in) % nrefs],
                                           (uint16_t)(1 + fz_byte(&in)));
            }
            break;
        default: { /* snapshot round trip through a second table */
            size_t n = 0, n2 = 0;
            static uint64_t mem2[4096 / 8];
            static uint8_t snap2[4096];
            imssec_sa_table t2;
            int keys = op >> 7;
            if (imssec_sa_snapshot(T, keys, snap, sizeof snap, &n) != IMSSEC_OK)
                abort();
            imssec_sa_config_init(&cfg, side);
            cfg.port_min = 40000;
            cfg.port_max = 40040;
            if (imssec_sa_table_setup(&t2, &cfg, NULL, &io, 3, 10, mem2, sizeof mem2, NULL) ||
                imssec_sa_impu_attach(&t2, impus2, 6, 2))
                abort();
            if (imssec_sa_restore(&t2, snap, n) != IMSSEC_OK)
                abort();
            if (imssec_sa_snapshot(&t2, keys, snap2, sizeof snap2, &n2) != IMSSEC_OK ||
                n2 != n || memcmp(snap, snap2, n) != 0)
                abort();
            break;
        }
        }
        if (imssec_sa_table_check(&t[0]) != IMSSEC_OK || imssec_sa_table_check(&t[1]) != IMSSEC_OK)
            abort();
    }
    imssec_sa_table_wipe(&t[0]);
    imssec_sa_table_wipe(&t[1]);
    return 0;
}
