/*
 * sa_7_2_7_3_registration.c -- sa/: the set-up of TS 33.203 v7.7.0 7.2
 * (SM1..SM12, IPv4 and IPv6), the SA parameters of 7.1 (SPIs, rules 2-4,
 * hostile Security-Client values), Annex I keys, the integrity-protected
 * indicator of 6.1.5, the error cases of 7.3 and the IP address change of
 * 7.5, driven as message sequences through a UE table and a P-CSCF table
 * at once (sa_world.h).
 *
 * The truth each test checks is the spec sentence named in its comment;
 * the channel independently checks that whatever SA one side protects a
 * message with is an SA the other side holds with the same SPI, ports and
 * keys, and that it is the SA the step requires.
 */

#include "sa_flow.h"

#include "sa_aligned.h"

/* 7.2 / 6.1.1: SM1 unprotected, SM6 unprotected, SM7 on the new outbound
 * SA, SM12 on the new inbound SA; both ends end with the same four SAs. */
T_TEST(sa_7_2_initial_registration)
{
    w_flow f;
    imssec_sa_info a, b;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    T_EQ_UINT(f.ue_sm1.protect_with, 0);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_REG_UNPROT);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_UNPROT);
    T_OK(w_sm6(&W, &f));
    T_EQ_UINT(f.pc_sm6.protect_with, 0);
    T_EQ_INT(W.pc.dp.installs, 4);
    T_EQ_INT(W.ue.dp.installs, 4);
    a = info_of(&W.ue, f.ue_sm7.protect_with);
    T_EQ_INT(a.which, IMSSEC_SA_UC_PS); /* SM7 from port_uc to port_ps */
    T_EQ_UINT(a.sport, f.ue_sm1.port_c);
    T_EQ_UINT(a.dport, f.pc_sm6.port_s);
    T_EQ_UINT(a.spi, f.pc_sm6.spi_s); /* spi_ps: the P-CSCF's inbound SPI */
    T_OK(w_sm7(&W, &f, NULL));
    T_OK(w_sm12(&W, &f));
    b = info_of(&W.pc, f.pc_sm12.protect_with);
    /* 7.1 UDP case: the P-CSCF sends responses from port_pc to port_us */
    T_EQ_INT(b.which, IMSSEC_SA_PC_US);
    T_EQ_UINT(b.spi, f.ue_sm1.spi_s); /* spi_us: the UE's inbound SPI at port_us */
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 4);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 4);
    T_ASSERT(w_consistent(&W));
}

/* 7.1 selectors over IPv6: the same flow with 16-byte addresses. */
T_TEST(sa_7_2_initial_registration_ipv6)
{
    w_flow f;
    imssec_sa_info i;
    if (!IMSSEC_ENABLE_IPV6)
        T_SKIP("IPv6 compiled out (IMSSEC_ENABLE_IPV6 0)");
    T_OK(w_init(&W));
    W.ue_ip.len = 16;
    t_unhex("20010db8000000000000000000000007", W.ue_ip.b, 16);
    W.pc_ip.len = 16;
    t_unhex("20010db8000000000000000000000001", W.pc_ip.b, 16);
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.pc, f.pc_sm12.protect_with);
    T_EQ_UINT(i.dst.len, 16);
    T_EQ_HEX(i.dst.b, 16, "20010db8000000000000000000000007");
    T_ASSERT(w_consistent(&W));
    /* mixed families are refused */
    W.pc_ip.len = 4;
    T_EQ_INT(w_register(&W, &f, 0), IMSSEC_E_PARAM);
}

/* Annex I: HMAC-SHA-1-96 IK_ESP = IK || 0^32; AES CK_ESP = CK; 3DES
 * CK1 || CK2 || CK1 with odd parity (values worked by hand). */
T_TEST(sa_annex_i_key_expansion)
{
    w_flow f;
    imssec_sa_info i;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.ue, f.ue_sm7.protect_with);
    T_EQ_HEX(i.ik, i.ik_len, "00112233445566778899aabbccddeeff00000000");
    T_EQ_HEX(i.ck, i.ck_len, "ffeeddccbbaa99887766554433221100");
#if IMSSEC_ENABLE_HMAC_MD5 && IMSSEC_ENABLE_3DES
    T_OK(w_init(&W));
    W.alg = IMSSEC_ALG_HMAC_MD5_96;
    W.ealg = IMSSEC_EALG_DES_EDE3_CBC;
    t_unhex("000102030405060708090a0b0c0d0e0f", W.ck, 16);
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.pc, f.pc_sm12.protect_with);
    T_EQ_HEX(i.ik, i.ik_len, "00112233445566778899aabbccddeeff");
    T_EQ_HEX(i.ck, i.ck_len,
             "0101020204040707 08080b0b0d0d0e0e 0101020204040707");
#endif
    T_OK(w_init(&W));
    W.ealg = IMSSEC_EALG_NULL;
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.ue, f.ue_sm7.protect_with);
    T_EQ_UINT(i.ck_len, 0);
}

/* SPIs: unique, never 0..255 (IANA reserved, RFC 4303 2.1), even with an
 * RNG that keeps proposing reserved and duplicate values. */
static int evil_calls;

static int evil_rng(void *u, uint8_t *out, size_t len)
{
    (void)u;
    evil_calls++;
    if (evil_calls % 3 != 0) {
        /* small values and repeats */
        memset(out, 0, len);
        if (len)
            out[len - 1] = (uint8_t)(evil_calls & 7);
        return 0;
    }
    t_randbytes(out, len);
    return 0;
}

/* 7.1 SPI: local inbound SPIs, >= 256, unique among all SPIs, and the
 * P-CSCF's different from the UE's; so too with an RNG that keeps proposing
 * reserved (RFC 4303 2.1: 1..255) and duplicate values. */
T_TEST(sa_7_1_spi_allocation)
{
    w_flow f;
    int round;
    T_OK(w_init(&W));
    for (round = 0; round < 5; round++) {
        uint32_t s[4];
        int i, j;
        T_OK(w_register(&W, &f, 0));
        s[0] = f.ue_sm1.spi_c;
        s[1] = f.ue_sm1.spi_s;
        s[2] = f.pc_sm6.spi_c;
        s[3] = f.pc_sm6.spi_s;
        for (i = 0; i < 4; i++) {
            T_ASSERT(s[i] >= 256);
            for (j = i + 1; j < 4; j++)
                T_ASSERT(s[i] != s[j]);
        }
        T_ASSERT(w_consistent(&W));
    }

    /* two registrations with an RNG proposing small values and repeats */
    {
        ALIGNED_WORLD(wp, 0);
        w_flow f, f2;
        size_t k;
        uint32_t spis[64];
        size_t ns = 0, i, j;
        memset(&f, 0, sizeof f);
        memset(&f2, 0, sizeof f2);
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        wp->io.random = evil_rng;
        evil_calls = 0;
        T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
        wp->now += 1000;
        T_EQ_INT(w_register(wp, &f2, 0), IMSSEC_OK);
        /* collect every SPI of both tables through find_spi on the refs we know */
        {
            imssec_sa_ref refs[8] = {f.ue_sm12_in, f.ue_sm6_in, f.pc_sm7_in, f.pc_sm1_in,
                                     f2.ue_sm12_in, f2.ue_sm6_in, f2.pc_sm7_in, f2.pc_sm1_in};
            for (k = 0; k < 8; k++) {
                imssec_sa_info info;
                const imssec_sa_table *t = (k % 4) < 2 ? &wp->ue.t : &wp->pc.t;
                if (!refs[k] || imssec_sa_get(t, refs[k], &info) != IMSSEC_OK)
                    continue;
                spis[ns++] = info.spi;
            }
        }
        for (k = 0; k < 4; k++) {
            spis[ns++] = k < 2 ? (k ? f2.ue_sm1.spi_c : f.ue_sm1.spi_c)
                               : (k == 2 ? f.pc_sm6.spi_c : f2.pc_sm6.spi_c);
            spis[ns++] = k < 2 ? (k ? f2.ue_sm1.spi_s : f.ue_sm1.spi_s)
                               : (k == 2 ? f.pc_sm6.spi_s : f2.pc_sm6.spi_s);
        }
        for (i = 0; i < ns; i++)
            if (spis[i] < 256) {
                t_fail_(__FILE__, __LINE__, "SPI %u allocated (reserved 1..255)", (unsigned)spis[i]);
                return;
            }
        /* the allocated values of one side are pairwise distinct */
        {
            uint32_t alloc[8] = {f.ue_sm1.spi_c, f.ue_sm1.spi_s, f2.ue_sm1.spi_c, f2.ue_sm1.spi_s,
                                 f.pc_sm6.spi_c, f.pc_sm6.spi_s, f2.pc_sm6.spi_c, f2.pc_sm6.spi_s};
            for (i = 0; i < 8; i++)
                for (j = i + 1; j < 8; j++)
                    if (alloc[i] == alloc[j] && (i < 4) == (j < 4)) {
                        t_fail_(__FILE__, __LINE__, "SPI %u allocated twice", (unsigned)alloc[i]);
                        return;
                    }
        }
        T_EQ_INT(imssec_sa_table_check(&wp->ue.t), IMSSEC_OK);
        T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
    }
}

/* An RNG that always fails / always returns zeros: clean errors, no hang. */
static int zero_rng(void *u, uint8_t *out, size_t len)
{
    (void)u;
    memset(out, 0, len);
    return 0;
}

static int zero_after_setup;

static int late_zero_rng(void *u, uint8_t *out, size_t len)
{
    if (zero_after_setup)
        return zero_rng(u, out, len);
    return t_io_random(u, out, len);
}

T_TEST(sa_7_1_spi_zero_rng_terminates)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f;
    imssec_sa_ev_args a;
    int rc;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    zero_after_setup = 0;
    wp->io.random = late_zero_rng;
    zero_after_setup = 1;
    w_args(wp, &a);
    rc = imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_REG_SEND, &a, &f.ue_sm1, wp->now, NULL);
    /* all-zero random bytes: either a valid allocation (not reserved,
     * ports in range) or a clean error; above all, it returns */
    if (rc == IMSSEC_OK) {
        T_ASSERT(f.ue_sm1.spi_c >= 256 && f.ue_sm1.spi_s >= 256);
        T_ASSERT(f.ue_sm1.spi_c != f.ue_sm1.spi_s);
        T_ASSERT(f.ue_sm1.port_c != f.ue_sm1.port_s);
        T_ASSERT(f.ue_sm1.port_c >= 49152 && f.ue_sm1.port_s >= 49152);
    }
    T_EQ_INT(imssec_sa_table_check(&wp->ue.t), IMSSEC_OK);
}

/* 7.1 rule 2: a protected REGISTER whose source differs from its Via. */
T_TEST(sa_7_1_rule2_source_equals_via)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_REG_SEND, (w_args(&W, &a), &a),
                         &f2.ue_sm1, W.now, NULL));
    w_args(&W, &a);
    T_OK(w_carry(&W.ue, &W.pc, f2.ue_sm1.protect_with, &a.arrived_on));
    a.peer_spi_c = f2.ue_sm1.spi_c;
    a.peer_spi_s = f2.ue_sm1.spi_s;
    a.peer_port_c = f2.ue_sm1.port_c;
    a.peer_port_s = f2.ue_sm1.port_s;
    w_addr4(&a.via_ip, 10, 0, 0, 99);
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_RULE2);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_ACTIVE);
    a.via_ip = a.ue_ip;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now, NULL));
}

/* 7.1 rule 3: (UE IP, port_uc) already in the table => abort; behind a
 * NAT also (UE IP, port_us) of another UE. */
T_TEST(sa_7_1_rule3_port_collision)
{
    w_flow f;
    imssec_sa_ev_args a;
    imssec_sa_info i;
    uint32_t bob;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.pc, f.pc_sm7_in);
    T_OK(imssec_sa_user_lookup(&W.pc.t,T_S("bob@x", 5), 1, &bob));
    w_args(&W, &a);
    a.peer_spi_c = 1000;
    a.peer_spi_s = 1001;
    a.peer_port_c = i.sport; /* alice's port_uc */
    a.peer_port_s = 40000;
    T_EQ_INT(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_RULE3);
    a.peer_port_c = 40001;
    a.peer_port_s = f.ue_sm1.port_s; /* alice's port_us */
    a.nat = 1;
    T_EQ_INT(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_RULE3);
    a.nat = 0; /* without NAT two UEs never share an address: allowed */
    T_OK(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now, NULL));
    T_EQ_INT(imssec_sa_state(&W.pc.t, bob), IMSSEC_SA_ST_REG_UNPROT);
}

/* 7.1 rule 4: a message protected with another user's SA is refused. */
T_TEST(sa_7_1_rule4_sa_belongs_to_user)
{
    w_flow f;
    imssec_sa_ev_args a;
    uint32_t bob;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_user_lookup(&W.pc.t,T_S("bob@x", 5), 1, &bob));
    memset(&a, 0, sizeof a);
    a.arrived_on = f.pc_sm7_in;
    T_EQ_INT(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL));
    a.arrived_on = f.pc_sm12.protect_with; /* an outbound SA is never "arrived on" */
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    a.arrived_on = 0; /* unprotected non-REGISTER (7.1 item 3) */
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
}

/* Hostile Security-Client values at the P-CSCF (peer input): SPI 0,
 * reserved SPIs, equal SPIs, port 0, equal ports, the P-CSCF's own ports:
 * never undefined behaviour, and if accepted the table stays consistent. */
T_TEST(sa_7_1_hostile_security_client_values)
{
    static const struct {
        uint32_t spi_c, spi_s;
        uint16_t port_c, port_s;
    } c[] = {
        {0, 0, 0, 0},
        {0, 1000, 5000, 5001},
        {1000, 1000, 5000, 5001},
        {1000, 1001, 5000, 5000},
        {1000, 1001, 0, 5001},
        {1, 2, 5000, 5001},
        {0xffffffffu, 0xfffffffeu, 65535, 65534},
        {1000, 1001, 5060, 5061},
    };
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        ALIGNED_WORLD(wp, 0);
        imssec_sa_ev_args a;
        imssec_sa_ev_out o;
        int rc;
        T_EQ_INT(w_init(wp), IMSSEC_OK);
        w_args(wp, &a);
        a.peer_spi_c = c[i].spi_c;
        a.peer_spi_s = c[i].spi_s;
        a.peer_port_c = c[i].port_c;
        a.peer_port_s = c[i].port_s;
        rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_REG_RECV, &a, NULL, wp->now, NULL);
        T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
        if (rc != IMSSEC_OK)
            continue;
        w_args(wp, &a);
        rc = imssec_sa_event(&wp->pc.t, wp->pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &o, wp->now, NULL);
        T_EQ_INT(imssec_sa_table_check(&wp->pc.t), IMSSEC_OK);
        if (rc == IMSSEC_OK) {
            /* our own SPIs never equal the peer's, never reserved */
            T_ASSERT(o.spi_c >= 256 && o.spi_s >= 256 && o.spi_c != o.spi_s);
            T_ASSERT(o.spi_c != c[i].spi_c && o.spi_c != c[i].spi_s);
            T_ASSERT(o.spi_s != c[i].spi_c && o.spi_s != c[i].spi_s);
        }
        if (c[i].spi_c == 0 || c[i].port_c == 0 || c[i].port_c == c[i].port_s)
            if (rc == IMSSEC_OK)
                t_fail_(__FILE__, __LINE__,
                        "SAs created for spi_c %u spi_s %u port_c %u port_s %u",
                        (unsigned)c[i].spi_c, (unsigned)c[i].spi_s, (unsigned)c[i].port_c,
                        (unsigned)c[i].port_s);
    }
}

/* 6.1.5: the integrity-protected indication towards the S-CSCF. */
T_TEST(sa_6_1_5_integrity_protection_indicator)
{
    w_flow f1, f2, f3;
    imssec_sa_ev_out o;
    imssec_sa_ev_args a;
    imssec_sa_ref sm1;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f1, 0));
    w_args(&W, &a);
    a.peer_spi_c = f1.ue_sm1.spi_c;
    a.peer_spi_s = f1.ue_sm1.spi_s;
    a.peer_port_c = f1.ue_sm1.port_c;
    a.peer_port_s = f1.ue_sm1.port_s;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, &o, W.now, NULL));
    T_EQ_INT(o.integrity_protected, 0); /* unprotected SM1 */
    T_OK(w_sm6(&W, &f1));
    T_OK(w_sm7(&W, &f1, &o));
    T_EQ_INT(o.integrity_protected, 1); /* auth response on the SA of this auth */
    T_OK(w_sm12(&W, &f1));
    T_OK(w_sm1(&W, &f2, 0));
    w_args(&W, &a);
    a.arrived_on = f2.pc_sm1_in;
    a.peer_spi_c = f2.ue_sm1.spi_c;
    a.peer_spi_s = f2.ue_sm1.spi_s;
    a.peer_port_c = f2.ue_sm1.port_c;
    a.peer_port_s = f2.ue_sm1.port_s;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, &o, W.now, NULL));
    T_EQ_INT(o.integrity_protected, 1); /* SA of the latest successful auth */
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &o, W.now, NULL)); /* lost */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_TIMEOUT, NULL, NULL, W.now, NULL));
    /* the UE re-registers on set 1, which the P-CSCF now calls old */
    sm1 = 0;
    T_OK(w_sm1(&W, &f3, 0));
    sm1 = f3.pc_sm1_in;
    w_args(&W, &a);
    a.arrived_on = sm1;
    a.peer_spi_c = f3.ue_sm1.spi_c;
    a.peer_spi_s = f3.ue_sm1.spi_s;
    a.peer_port_c = f3.ue_sm1.port_c;
    a.peer_port_s = f3.ue_sm1.port_s;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, &o, W.now, NULL));
    T_EQ_INT(o.integrity_protected, 0); /* not the latest successful auth */
}

/* 7.3.1.1 (SM1 unprotected): the 4xx Auth_Failure is protected with the
 * new SA; both sides then delete the new SAs. */
T_TEST(sa_7_3_1_1_user_auth_failure_unprotected)
{
    w_flow f;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    imssec_sa_info i;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    T_OK(w_sm6(&W, &f));
    T_OK(w_sm7(&W, &f, NULL));
    w_args(&W, &a);
    a.kind = IMSSEC_SA_KIND_USER_AUTH;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now, NULL));
    T_ASSERT(o.protect_with != 0);
    T_EQ_INT(imssec_sa_get(&W.pc.t, o.protect_with, &i), IMSSEC_E_NOT_FOUND); /* deleted after */
    /* the UE receives it on its new inbound SA (its data plane still has it) */
    a.arrived_on = f.ue_sm7.protect_with + 2; /* UC_PS -> PC_US of the same set */
    T_EQ_INT(info_of(&W.ue, a.arrived_on).which, IMSSEC_SA_PC_US);
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_IDLE);
    T_ASSERT(w_consistent(&W));
    T_EQ_INT(w_dp_live(&W.ue.dp), 0);
}

/* 7.3.1.1 (SM1 protected): the failure is protected with the old SAs. */
T_TEST(sa_7_3_1_1_user_auth_failure_protected)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    w_args(&W, &a);
    a.kind = IMSSEC_SA_KIND_USER_AUTH;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now, NULL));
    T_EQ_UINT(o.protect_with, f1.pc_sm12.protect_with);
    T_OK(w_carry(&W.pc, &W.ue, o.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_ASSERT(w_consistent(&W));
}

/* 7.3.1.2: MAC failure at the UE: no new SAs at the UE; the failure
 * REGISTER goes unprotected (SM1 unprotected) and the P-CSCF deletes its
 * new SAs on receipt; the final 4xx is unprotected. */
T_TEST(sa_7_3_1_2_network_auth_failure)
{
    w_flow f;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &f.pc_sm6, W.now, NULL));
    memset(&a, 0, sizeof a);
    a.kind = IMSSEC_SA_KIND_NET_AUTH;
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o, W.now, NULL));
    T_EQ_UINT(o.protect_with, 0);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 0);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, &o, W.now, NULL));
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_UNPROT);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
    a.kind = IMSSEC_SA_KIND_OTHER;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now, NULL));
    T_EQ_UINT(o.protect_with, 0);
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_IDLE);
    T_ASSERT(w_consistent(&W));
}

/* 7.3.1.3: sync failure on a protected re-registration: failure REGISTER
 * on the old SA, P-CSCF deletes the new SAs, the S-CSCF re-challenges and
 * the registration completes. */
T_TEST(sa_7_3_1_3_sync_failure_then_success)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &f2.pc_sm6, W.now, NULL));
    memset(&a, 0, sizeof a);
    T_OK(w_carry(&W.pc, &W.ue, f2.pc_sm6.protect_with, &a.arrived_on));
    a.kind = IMSSEC_SA_KIND_SYNC;
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o, W.now, NULL));
    T_EQ_UINT(o.protect_with, f1.ue_sm7.protect_with);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_REG_PROT);
    w_args(&W, &a); /* a protected REGISTER: 7.1 rule 2 needs its addresses */
    a.kind = IMSSEC_SA_KIND_SYNC;
    T_OK(w_carry(&W.ue, &W.pc, o.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, &o, W.now, NULL));
    T_EQ_INT(o.integrity_protected, 1);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_PROT);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_OK(w_sm6(&W, &f2)); /* the new challenge (SM10 of 6.1.3) */
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_ASSERT(w_consistent(&W));
}

/* 7.3.1.4 at the P-CSCF: a new SM1 during an authentication turns its new
 * SAs into registration SAs, which die when the next new SAs are created. */
T_TEST(sa_7_3_1_4_incomplete_authentication)
{
    w_flow f1, f2;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f1, 0));
    T_OK(w_sm6(&W, &f1));
    /* SM7 lost; the UE gives up and starts again */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_TIMEOUT, NULL, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_OK(w_sm1(&W, &f2, 0));
    T_EQ_UINT(f2.ue_sm1.protect_with, 0);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4); /* registration SAs */
    T_OK(w_sm6(&W, &f2));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4); /* replaced */
    T_EQ_INT(imssec_sa_get(&W.pc.t, f1.pc_sm6.protect_with ? f1.pc_sm6.protect_with : 1,
                           &(imssec_sa_info){0}), IMSSEC_E_NOT_FOUND);
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_ASSERT(w_consistent(&W));
}

/* 7.3.1.1 / 7.3.1.4: temporary storage and registration SAs time out. */
T_TEST(sa_7_3_1_4_registration_sas_time_out)
{
    w_flow f;
    uint64_t next;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    T_OK(w_sm6(&W, &f));
    T_OK(imssec_sa_tick(&W.pc.t, W.now, &next));
    T_EQ_UINT(next, W.now + 32000u);
    T_OK(imssec_sa_tick(&W.pc.t, next, &next));
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
    T_EQ_UINT(next, UINT64_MAX);
    T_OK(imssec_sa_tick(&W.ue.t, W.now + 32000u, &next));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_ASSERT(w_consistent(&W));
}

/* 7.3.1.4 last paragraph: registration SAs that reach their lifetime are
 * deleted with what belongs to THEIR procedure; the procedure running since
 * the newer SM1 goes on. */
T_TEST(sa_7_3_1_4_registration_sas_expire_alone)
{
    w_flow f1, f2;
    uint64_t next, t0;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f1, 0));
    t0 = W.now;
    T_OK(w_sm6(&W, &f1)); /* P-CSCF new SAs, lifetime t0 + 32 s */
    W.now = t0 + 20000;
    T_OK(w_sm1(&W, &f2, 0)); /* new SM1: those become registration SAs */
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_OK(imssec_sa_tick(&W.pc.t, W.now, &next));
    T_EQ_UINT(next, t0 + 32000u);
    T_OK(imssec_sa_tick(&W.pc.t, next, &next));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 0);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_UNPROT); /* the new procedure lives */
    T_EQ_UINT(next, t0 + 20000u + 32000u);         /* its own temporary storage */
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_ASSERT(w_consistent(&W));
}

/* 7.3.2.1: proposal unacceptable to the P-CSCF: error response to SM1,
 * unprotected (SM1 was), nothing created. 7.3.2.2: unacceptable to the UE:
 * registration abandoned. */
T_TEST(sa_7_3_2_proposal_unacceptable)
{
    w_flow f;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    memset(&a, 0, sizeof a);
    a.kind = IMSSEC_SA_KIND_PROPOSAL;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now, NULL));
    T_EQ_UINT(o.protect_with, 0);
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_OK(w_sm1(&W, &f, 0));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &o, W.now, NULL));
    memset(&a, 0, sizeof a);
    a.kind = IMSSEC_SA_KIND_PROPOSAL;
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 0);
}

/* 7.5: the UE's IP address changes: all SAs deleted, next REGISTER
 * unprotected from the new address. */
T_TEST(sa_7_5_ip_change)
{
    w_flow f;
    imssec_sa_ref r;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_IP_CHANGE, NULL, NULL, W.now, NULL));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(w_dp_live(&W.ue.dp), 0);
    T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_E_STATE);
    w_addr4(&W.ue_ip, 10, 0, 0, 8);
    T_OK(w_sm1(&W, &f, 0));
    T_EQ_UINT(f.ue_sm1.protect_with, 0);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_UNPROT);
    T_OK(w_sm6(&W, &f));
    T_OK(w_sm7(&W, &f, NULL));
    T_OK(w_sm12(&W, &f));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4); /* old-address SAs removed */
    T_ASSERT(w_consistent(&W));
}

/* Keys are wiped when SAs are dropped (IP change deletes everything, 7.5). */
T_TEST(sa_7_5_keys_wiped_on_delete)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f;
    imssec_sa_ev_args a;
    size_t i;
    const uint8_t *m;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    w_args(wp, &a);
    T_EQ_INT(imssec_sa_event(&wp->ue.t, wp->ue.user, IMSSEC_SA_EV_IP_CHANGE, &a, NULL, wp->now, NULL),
             IMSSEC_OK);
    T_EQ_UINT(imssec_sa_count(&wp->ue.t, UINT32_MAX), 0);
    m = (const uint8_t *)wp->ue.mem;
    for (i = 0; i + 8 <= sizeof wp->ue.mem; i++)
        if (memcmp(m + i, wp->ik, 8) == 0 || memcmp(m + i, wp->ck, 8) == 0) {
            t_fail_(__FILE__, __LINE__, "key bytes left at offset %zu after the SAs were deleted",
                    i);
            return;
        }
}
