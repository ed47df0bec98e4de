/*
 * sa_snapshot.c -- sa/ snapshot and restore: a restarted P-CSCF behaves
 * identically, keys only when asked, every corruption rejected with the
 * target unchanged, capacities checked.
 */

#include "sa_flow.h"

#include "sa_aligned.h"

static uint8_t snap[8192], snap2[8192];

/* Snapshot -> P-CSCF restart (fresh table, data plane kept) -> restore ->
 * identical behaviour: same lookups, same routes, same snapshot bytes, and
 * the UE re-registers through the restored table as if nothing happened.
 * IMSSEC_E_SPACE reports the need and writes nothing; a snapshot restores
 * only into a table of its role. */
T_TEST(sa_snapshot_restore_identical)
{
    w_flow f1, f2, f3;
    size_t n, n2;
    imssec_sa_ref r1, r2;
    imssec_sa_info i1, i2;
    imssec_sa_config cfg;
    T_EQ_INT(w_init(&W), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f1, 0), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f2, 0), IMSSEC_OK); /* old + current at the P-CSCF */
    T_EQ_INT(imssec_sa_get(&W.pc.t, f2.pc_sm7_in, &i1), IMSSEC_OK);
    T_EQ_INT(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r1), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap, sizeof snap, &n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap, 10, &n2), IMSSEC_E_SPACE);
    T_EQ_UINT(n2, n);
    /* restart: a new, empty table in the same memory */
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    T_EQ_INT(imssec_sa_table_setup(&W.pc.t, &cfg, &W.pc.cb, &W.io, 8, 16, W.pc.mem,
                                   sizeof W.pc.mem, NULL), IMSSEC_OK);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
    T_EQ_INT(imssec_sa_restore(&W.pc.t, snap, n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_table_check(&W.pc.t), IMSSEC_OK);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 8);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, i1.spi, &r2), IMSSEC_OK);
    T_EQ_UINT(r2, f2.pc_sm7_in);
    T_EQ_INT(imssec_sa_get(&W.pc.t, r2, &i2), IMSSEC_OK);
    T_EQ_MEM(i2.ik, i1.ik, i1.ik_len);
    T_EQ_UINT(i2.expires_ms, i1.expires_ms);
    T_EQ_UINT(i2.handle, i1.handle);
    T_EQ_INT(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r2), IMSSEC_OK);
    T_EQ_UINT(r1, r2);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap2, sizeof snap2, &n2), IMSSEC_OK);
    T_EQ_UINT(n2, n);
    T_EQ_MEM(snap2, snap, n);
    /* the UE carries on: traffic, switch-over, re-registration */
    T_EQ_INT(w_request(&W, 1, &r1, &r2), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f3, 0), IMSSEC_OK);
    T_ASSERT(w_consistent(&W));

    /* into a second world; a P-CSCF snapshot into a UE table: SYNTAX, unchanged */
    {
        ALIGNED_WORLD(wp, 0);
        ALIGNED_WORLD(wp2, 1);
        w_flow f;
        static uint8_t s1[SNAP_MAX], s2[SNAP_MAX], can[SNAP_MAX];
        size_t n1, n2, need = 0;
        memset(&f, 0, sizeof f);
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        n1 = table_snap(&wp->pc.t, s1);
        T_ASSERT(n1 > 0);
        memset(s2, 0xA5, sizeof s2);
        memcpy(can, s2, sizeof s2);
        T_EQ_INT(imssec_sa_snapshot(&wp->pc.t, 1, s2, n1 - 1, &need), IMSSEC_E_SPACE);
        T_EQ_UINT(need, n1);
        T_EQ_MEM(s2, can, sizeof s2);
        T_EQ_INT(w_init(wp2), IMSSEC_OK);
        T_EQ_INT(imssec_sa_restore(&wp2->pc.t, s1, n1), IMSSEC_OK);
        T_EQ_INT(imssec_sa_table_check(&wp2->pc.t), IMSSEC_OK);
        n2 = table_snap(&wp2->pc.t, s2);
        T_EQ_UINT(n2, n1);
        T_EQ_MEM(s2, s1, n1);
        T_EQ_UINT(imssec_sa_count(&wp2->pc.t, UINT32_MAX), imssec_sa_count(&wp->pc.t, UINT32_MAX));
        /* wrong role: SYNTAX, target unchanged */
        n2 = table_snap(&wp2->ue.t, s2);
        T_EQ_INT(imssec_sa_restore(&wp2->ue.t, s1, n1), IMSSEC_E_SYNTAX);
        {
            static uint8_t s3[SNAP_MAX];
            size_t n3 = table_snap(&wp2->ue.t, s3);
            T_EQ_UINT(n3, n2);
            T_EQ_MEM(s3, s2, n2);
        }
    }
}

/* Keys only when asked: a keyless snapshot contains neither IK nor CK (nor
 * any 8-byte piece of them); a keyless restore keeps the records without
 * keys; with keys, restore gives the keys back (IK_ESP 20 bytes). */
T_TEST(sa_snapshot_without_keys)
{
    w_flow f;
    size_t n, i;
    static world W2;
    imssec_sa_info info;
    T_EQ_INT(w_init(&W), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f, 0), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 0, snap, sizeof snap, &n), IMSSEC_OK);
    for (i = 0; i + 16 <= n; i++) /* neither IK nor CK appears anywhere */
        T_ASSERT(memcmp(snap + i, W.ik, 16) != 0 && memcmp(snap + i, W.ck, 16) != 0);
    T_EQ_INT(w_init(&W2), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_get(&W2.pc.t, f.pc_sm7_in, &info), IMSSEC_OK);
    T_EQ_UINT(info.ik_len, 0);
    T_EQ_UINT(info.ck_len, 0);
    T_EQ_INT(imssec_sa_table_check(&W2.pc.t), IMSSEC_OK);

    /* 8-byte pieces; then the keys restored */
    {
        ALIGNED_WORLD(wp, 0);
        ALIGNED_WORLD(wp2, 1);
        w_flow f;
        static uint8_t s[SNAP_MAX];
        size_t n = 0, i;
        imssec_sa_info info;
        memset(&f, 0, sizeof f);
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        T_EQ_INT(imssec_sa_snapshot(&wp->pc.t, 0, s, sizeof s, &n), IMSSEC_OK);
        for (i = 0; i + 8 <= n; i++) {
            if (memcmp(s + i, wp->ik, 8) == 0 || memcmp(s + i, wp->ck, 8) == 0 ||
                memcmp(s + i, wp->ik + 8, 8) == 0 || memcmp(s + i, wp->ck + 8, 8) == 0) {
                t_fail_(__FILE__, __LINE__, "key bytes at offset %zu of a keyless snapshot", i);
                return;
            }
        }
        T_EQ_INT(imssec_sa_snapshot(&wp->pc.t, 1, s, sizeof s, &n), IMSSEC_OK);
        T_EQ_INT(w_init(wp2), IMSSEC_OK);
        T_EQ_INT(imssec_sa_restore(&wp2->pc.t, s, n), IMSSEC_OK);
        T_EQ_INT(imssec_sa_get(&wp2->pc.t, f.pc_sm7_in, &info), IMSSEC_OK);
        T_EQ_UINT(info.ik_len, 20);
        T_EQ_MEM(info.ik, wp->ik, 16);
        T_EQ_UINT(info.ck_len, 16);
        T_EQ_MEM(info.ck, wp->ck, 16);
    }
}

/* Every truncation and every single-bit flip (every byte too), and
 * trailing garbage, are rejected with IMSSEC_E_SYNTAX, and the target table
 * is left as it was. */
T_TEST(sa_snapshot_corrupt_rejected)
{
    w_flow f;
    size_t n, i;
    static world W2;
    uint8_t before[sizeof W2.pc.mem];
    T_EQ_INT(w_init(&W), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f, 0), IMSSEC_OK);
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap, sizeof snap, &n), IMSSEC_OK);
    T_EQ_INT(w_init(&W2), IMSSEC_OK);
    T_EQ_INT(w_sm1(&W2, &f, 0), IMSSEC_OK);
    memcpy(before, W2.pc.mem, sizeof before);
    for (i = 0; i < n; i++)
        T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, i), IMSSEC_E_SYNTAX);
    for (i = 0; i < n * 8; i += 7) {
        snap[i / 8] ^= (uint8_t)(1u << (i % 8));
        T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, n), IMSSEC_E_SYNTAX);
        snap[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    T_EQ_MEM(W2.pc.mem, before, sizeof before);
    T_EQ_INT(imssec_sa_state(&W2.pc.t, W2.pc.user), IMSSEC_SA_ST_REG_UNPROT);
    /* a UE snapshot does not restore into a P-CSCF table */
    T_EQ_INT(imssec_sa_snapshot(&W.ue.t, 1, snap, sizeof snap, &n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&W2.pc.t, snap, n), IMSSEC_E_SYNTAX);

    /* one flipped bit in every byte; every truncation; one byte too many */
    {
        ALIGNED_WORLD(wp, 0);
        ALIGNED_WORLD(wp2, 1);
        w_flow f;
        static uint8_t s1[SNAP_MAX], bad[SNAP_MAX], t0[SNAP_MAX], t1[SNAP_MAX];
        size_t n1, n0, i;
        memset(&f, 0, sizeof f);
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        n1 = table_snap(&wp->pc.t, s1);
        T_ASSERT(n1 > 0);
        T_EQ_INT(w_init(wp2), IMSSEC_OK);
        {
            w_flow g;
            memset(&g, 0, sizeof g);
            T_EQ_INT(w_sm1(wp2, &g, 0), IMSSEC_OK); /* the target holds something */
        }
        n0 = table_snap(&wp2->pc.t, t0);
        for (i = 0; i < n1; i++) {
            int rc;
            memcpy(bad, s1, n1);
            bad[i] ^= (uint8_t)(1u << (i % 8));
            rc = imssec_sa_restore(&wp2->pc.t, bad, n1);
            if (rc != IMSSEC_E_SYNTAX) {
                t_fail_(__FILE__, __LINE__, "byte %zu of %zu corrupted: rc %s", i, n1,
                        imssec_errname(rc));
                return;
            }
        }
        for (i = 0; i < n1; i++) {
            int rc = imssec_sa_restore(&wp2->pc.t, s1, i);
            if (rc != IMSSEC_E_SYNTAX) {
                t_fail_(__FILE__, __LINE__, "truncated to %zu of %zu: rc %s", i, n1, imssec_errname(rc));
                return;
            }
        }
        /* trailing garbage */
        memcpy(bad, s1, n1);
        bad[n1] = 0;
        T_EQ_INT(imssec_sa_restore(&wp2->pc.t, bad, n1 + 1), IMSSEC_E_SYNTAX);
        T_EQ_UINT(table_snap(&wp2->pc.t, t1), n0);
        T_EQ_MEM(t1, t0, n0);
    }
}

/* Restore into a table with smaller capacities: SPACE, unchanged. */
T_TEST(sa_snapshot_restore_capacity)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f;
    static uint8_t s[SNAP_MAX];
    size_t n, i;
    w_side *smallp = aligned_side();
    imssec_io io;
    memset(&f, 0, sizeof f);
    memset(&io, 0, sizeof io);
    io.random = t_io_random;
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    /* three users registered at the P-CSCF */
    for (i = 0; i < 3; i++) {
        char impi[32];
        world *pw = wp;
        int len = snprintf(impi, sizeof impi, "user%u@x", (unsigned)i);
        T_EQ_INT(imssec_sa_user_lookup(&pw->pc.t,T_S(impi, (size_t)len), 1, &pw->pc.user), IMSSEC_OK);
        T_EQ_INT(imssec_sa_user_lookup(&pw->ue.t,T_S(w_impi, strlen(w_impi)), 1, &pw->ue.user),
                 IMSSEC_OK);
        if (i) {
            /* fresh UE side for each user */
            T_EQ_INT(w_side_setup(&pw->ue, IMSSEC_SA_ROLE_UE, &pw->io, 1, 4), IMSSEC_OK);
            T_EQ_INT(imssec_sa_user_lookup(&pw->ue.t,T_S(w_impi, strlen(w_impi)), 1, &pw->ue.user),
                     IMSSEC_OK);
            pw->ue_ip.b[3] = (uint8_t)(7 + i);
        }
        memset(&f, 0, sizeof f);
        T_EQ_INT(w_register(pw, &f, 0), IMSSEC_OK);
    }
    n = table_snap(&wp->pc.t, s);
    T_ASSERT(n > 0);
    T_EQ_INT(w_side_setup(smallp, IMSSEC_SA_ROLE_PCSCF, &io, 3, 16), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&smallp->t, s, n), IMSSEC_E_SPACE);
    T_EQ_UINT(imssec_sa_count(&smallp->t, UINT32_MAX), 0);
    T_EQ_INT(w_side_setup(smallp, IMSSEC_SA_ROLE_PCSCF, &io, 8, 2), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&smallp->t, s, n), IMSSEC_E_SPACE);
    /* 4 users (w_init's alice + 3), one set per registered user */
    T_EQ_UINT(imssec_sa_count(&wp->pc.t, UINT32_MAX), 12);
    T_EQ_INT(w_side_setup(smallp, IMSSEC_SA_ROLE_PCSCF, &io, 4, 3), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&smallp->t, s, n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_table_check(&smallp->t), IMSSEC_OK);
}
