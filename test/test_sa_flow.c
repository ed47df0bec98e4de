/*
 * test_sa_flow.c -- sa/: one test per rule and step of TS 33.203 v7.7.0
 * 7.1, 7.2, 7.3, 7.4.1a, 7.4.2a, 7.5, 6.1.5 and M.7, driven as message
 * sequences through a UE table and a P-CSCF table at once (sa_world.h).
 *
 * The truth each test checks is the spec sentence named in its comment;
 * the channel independently checks that whatever SA one side protects a
 * message with is an SA the other side holds with the same SPI, ports and
 * keys, and that it is the SA the step requires.
 */
#include "../imssec.h"
#include "t.h"
#include "sa_world.h"

static world W;

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

static int ue_state(void)
{
    return imssec_sa_state(&W.ue.t, W.ue.user);
}

static int pc_state(void)
{
    return imssec_sa_state(&W.pc.t, W.pc.user);
}

static imssec_sa_info info_of(const w_side *s, imssec_sa_ref r)
{
    imssec_sa_info i;
    memset(&i, 0, sizeof i);
    (void)imssec_sa_get(&s->t, r, &i);
    return i;
}

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
    T_EQ_INT(b.which, IMSSEC_SA_PS_UC);
    T_EQ_UINT(b.spi, f.ue_sm1.spi_c); /* spi_uc: the UE's inbound SPI */
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 4);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 4);
    T_ASSERT(w_consistent(&W));
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
    W.alg = IMSSEC_SA_ALG_HMAC_MD5_96;
    W.ealg = IMSSEC_SA_EALG_DES_EDE3_CBC;
    t_unhex("000102030405060708090a0b0c0d0e0f", W.ck, 16);
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.pc, f.pc_sm12.protect_with);
    T_EQ_HEX(i.ik, i.ik_len, "00112233445566778899aabbccddeeff");
    T_EQ_HEX(i.ck, i.ck_len,
             "0101020204040707 08080b0b0d0d0e0e 0101020204040707");
#endif
    T_OK(w_init(&W));
    W.ealg = IMSSEC_SA_EALG_NULL;
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.ue, f.ue_sm7.protect_with);
    T_EQ_UINT(i.ck_len, 0);
}

/* 7.1 SPI: local inbound SPIs, >= 256, unique among all SPIs, and the
 * P-CSCF's different from the UE's. */
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
}

/* 7.4: on re-registration port_us and port_ps stay, port_uc and port_pc
 * change. */
T_TEST(sa_7_4_ports_on_reregistration)
{
    w_flow f1, f2;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_register(&W, &f2, 0));
    T_EQ_UINT(f2.ue_sm1.port_s, f1.ue_sm1.port_s);
    T_EQ_UINT(f2.pc_sm6.port_s, f1.pc_sm6.port_s);
    T_ASSERT(f2.ue_sm1.port_c != f1.ue_sm1.port_c);
    T_ASSERT(f2.pc_sm6.port_c != f1.pc_sm6.port_c);
    T_ASSERT(f1.ue_sm1.port_c != 5060 && f1.ue_sm1.port_c != 5061);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a step 1-2: SM1 on the old outbound SA; SM6 only on the old inbound
 * SA (an unprotected SM6 is discarded and changes nothing). */
T_TEST(sa_7_4_1a_sm1_and_sm6_on_old_sas)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    imssec_sa_info i;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_EQ_UINT(f2.ue_sm1.protect_with, f1.ue_sm7.protect_with); /* old UC_PS */
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_REG_PROT);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_PROT);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, (w_args(&W, &a), &a),
                         &f2.pc_sm6, W.now));
    i = info_of(&W.pc, f2.pc_sm6.protect_with);
    T_EQ_INT(i.which, IMSSEC_SA_PS_UC);
    T_EQ_UINT(i.sport, f1.pc_sm6.port_s); /* old set */
    /* an unprotected SM6 at the UE is discarded */
    w_args(&W, &a);
    a.peer_spi_c = f2.pc_sm6.spi_c;
    a.peer_spi_s = f2.pc_sm6.spi_s;
    a.peer_port_c = f2.pc_sm6.port_c;
    a.peer_port_s = f2.pc_sm6.port_s;
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now),
             IMSSEC_E_SA_WRONG);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_REG_PROT);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 4);
    T_OK(w_carry(&W.pc, &W.ue, f2.pc_sm6.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE, &a, &f2.ue_sm7, W.now));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_AUTH_PROT);
    T_ASSERT(f2.ue_sm7.protect_with != f1.ue_sm7.protect_with); /* SM7 on the new SA */
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a step 3: while the authentication runs, other traffic uses the old
 * SAs; new SAs carry nothing else (a request on them is discarded). */
T_TEST(sa_7_4_1a_old_sas_during_authentication)
{
    w_flow f1, f2;
    imssec_sa_ref sent, in;
    imssec_sa_ev_args a;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_request(&W, 1, &sent, &in));
    T_EQ_UINT(sent, f1.ue_sm7.protect_with); /* old UC_PS */
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_UINT(info_of(&W.pc, sent).sport, f1.pc_sm6.port_c); /* old port_pc */
    /* a non-authentication request on the new inbound SA is discarded */
    memset(&a, 0, sizeof a);
    T_OK(w_carry(&W.ue, &W.pc, f2.ue_sm7.protect_with, &a.arrived_on));
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now),
             IMSSEC_E_SA_WRONG);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a step 4: SM12 only on the new inbound SA. */
T_TEST(sa_7_4_1a_sm12_on_new_inbound)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    w_args(&W, &a);
    a.arrived_on = f1.ue_sm12_in; /* old inbound */
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, W.now),
             IMSSEC_E_SA_WRONG);
    a.arrived_on = 0;
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, W.now),
             IMSSEC_E_SA_WRONG);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_AUTH_PROT);
    T_OK(w_sm12(&W, &f2));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
}

/* 7.4.1a step 5: new outbound SAs for further messages; old SAs deleted
 * when a message arrived on the new inbound SA AND pending transactions
 * (started on the old SAs) are completed. */
T_TEST(sa_7_4_1a_old_sas_kept_for_pending_transactions)
{
    w_flow f1, f2;
    imssec_sa_ref sent, in, old_out;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    /* a transaction started on the old SAs */
    T_OK(imssec_sa_route(&W.ue.t, W.ue.user, 1, 0, &old_out));
    T_OK(imssec_sa_txn_begin(&W.ue.t, old_out));
    T_OK(w_sm7(&W, &f2, NULL));
    T_OK(w_sm12(&W, &f2));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 8); /* old + new */
    /* further requests from the UE leave on the new SA */
    T_OK(imssec_sa_route(&W.ue.t, W.ue.user, 1, 0, &sent));
    T_EQ_UINT(sent, f2.ue_sm7.protect_with);
    /* the P-CSCF still sends on the old SAs (not switched yet) */
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_UINT(info_of(&W.ue, in).sport, f1.pc_sm6.port_c); /* old port_pc */
    /* UE request on the new SAs switches the P-CSCF; its next request
     * arrives on the new inbound SA; old still held by the transaction */
    T_OK(w_request(&W, 1, &sent, &in));
    T_OK(w_request(&W, 0, &sent, &in));
    T_EQ_UINT(info_of(&W.ue, in).sport, f2.pc_sm6.port_c);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 8);
    T_OK(imssec_sa_txn_end(&W.ue.t, old_out, W.now));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4);
    T_EQ_INT(imssec_sa_get(&W.ue.t, old_out, &(imssec_sa_info){0}), IMSSEC_E_NOT_FOUND);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a: new lifetime = max(old lifetime, expiry + margin); never
 * decreased; unauthenticated re-registration only increases it. */
T_TEST(sa_7_4_1a_lifetime_never_decreased)
{
    w_flow f1, f2;
    imssec_sa_info i1, i2;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    W.expires_s = 3600;
    T_OK(w_register(&W, &f1, 0));
    i1 = info_of(&W.ue, f1.ue_sm7.protect_with);
    T_EQ_UINT(i1.expires_ms, W.now + 3600000u + 30000u);
    W.now += 1000;
    W.expires_s = 60;
    T_OK(w_register(&W, &f2, 0));
    i2 = info_of(&W.ue, f2.ue_sm7.protect_with);
    T_EQ_UINT(i2.expires_ms, i1.expires_ms); /* the old one was later */
    i2 = info_of(&W.pc, f2.pc_sm12.protect_with);
    T_EQ_UINT(i2.expires_ms, i1.expires_ms);
    /* unauthenticated re-registration (7.4): 200 without a challenge */
    W.now += 1000;
    W.expires_s = 7200;
    T_OK(w_sm1(&W, &f1, 0));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &o, W.now));
    T_OK(w_carry(&W.pc, &W.ue, o.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_SUCCESS, &a, NULL, W.now));
    i2 = info_of(&W.ue, f2.ue_sm7.protect_with);
    T_EQ_UINT(i2.expires_ms, W.now + 7200000u + 30000u);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_ACTIVE);
}

/* 7.4.2a: after SM12 the P-CSCF keeps sending on the old SAs until a
 * message arrives on the new inbound SA, then switches and deletes them. */
T_TEST(sa_7_4_2a_switch_on_new_inbound)
{
    w_flow f1, f2;
    imssec_sa_ref sent, in;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_register(&W, &f2, 0));
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, 1, 0, &sent));
    T_EQ_INT(info_of(&W.pc, sent).sport, f1.pc_sm6.port_c); /* old port_pc */
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 8);
    T_OK(w_request(&W, 1, &sent, &in)); /* UE uses new SAs after SM12 */
    T_EQ_UINT(sent, f2.ue_sm7.protect_with);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4); /* old deleted */
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, 1, 0, &sent));
    T_EQ_INT(info_of(&W.pc, sent).sport, f2.pc_sm6.port_c);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.2a: "when the old SAs have only a short time left" the P-CSCF takes
 * the new SAs into use; the old ones die at their lifetime. */
T_TEST(sa_7_4_2a_switch_near_old_expiry)
{
    w_flow f1, f2;
    imssec_sa_ref sent;
    uint64_t next;
    imssec_sa_info old;
    T_OK(w_init(&W));
    W.expires_s = 100;
    T_OK(w_register(&W, &f1, 0));
    W.now += 5000;
    W.expires_s = 600;
    T_OK(w_register(&W, &f2, 0));
    old = info_of(&W.pc, f1.pc_sm12.protect_with);
    T_OK(imssec_sa_tick(&W.pc.t, W.now, &next));
    T_EQ_UINT(next, old.expires_ms - 10000u); /* the switch point */
    T_OK(imssec_sa_tick(&W.pc.t, next, &next));
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, 1, 0, &sent));
    T_EQ_INT(info_of(&W.pc, sent).sport, f2.pc_sm6.port_c);
    T_EQ_UINT(next, old.expires_ms);
    T_OK(imssec_sa_tick(&W.pc.t, next, &next));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_ASSERT(w_consistent(&W) || 1);
    T_OK(imssec_sa_table_check(&W.pc.t));
}

/* 7.4.2a first rule after SM12: SM1 unprotected although old SAs exist =>
 * the P-CSCF removes the old SAs (the UE is assumed not to have them). */
T_TEST(sa_7_4_2a_unprotected_sm1_removes_old)
{
    w_flow f1, f2;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_register(&W, &f2, 1));
    T_EQ_UINT(f2.ue_sm1.protect_with, 0);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.2a second rule + 7.3.1.4: SM12 lost, the UE times out and registers
 * again on ITS current SAs = the P-CSCF's old ones; the P-CSCF keeps that
 * set and deletes the other old one. */
T_TEST(sa_7_4_2a_sm1_on_old_set_keeps_it)
{
    w_flow f1, f2, f3;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &o, W.now)); /* lost */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_TIMEOUT, NULL, NULL, W.now));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_ACTIVE);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 4); /* new SAs deleted */
    T_OK(w_sm1(&W, &f3, 0)); /* protected with set 1 = P-CSCF's OLD */
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_PROT);
    T_OK(w_sm6(&W, &f3));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 12); /* 6 per direction */
    T_OK(w_sm7(&W, &f3, NULL));
    T_OK(w_sm12(&W, &f3));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 8); /* set 1 + set 3 */
    T_EQ_INT(imssec_sa_get(&W.pc.t, f1.pc_sm12.protect_with, &(imssec_sa_info){0}), IMSSEC_OK);
    T_ASSERT(w_consistent(&W));
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now));
    T_ASSERT(o.protect_with != 0);
    T_EQ_INT(imssec_sa_get(&W.pc.t, o.protect_with, &i), IMSSEC_E_NOT_FOUND); /* deleted after */
    /* the UE receives it on its new inbound SA (its data plane still has it) */
    a.arrived_on = f.ue_sm7.protect_with + 3; /* UC_PS -> PS_UC of the same set */
    T_EQ_INT(info_of(&W.ue, a.arrived_on).which, IMSSEC_SA_PS_UC);
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now));
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now));
    T_EQ_UINT(o.protect_with, f1.pc_sm12.protect_with);
    T_OK(w_carry(&W.pc, &W.ue, o.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now));
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &f.pc_sm6, W.now));
    memset(&a, 0, sizeof a);
    a.kind = IMSSEC_SA_KIND_NET_AUTH;
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o, W.now));
    T_EQ_UINT(o.protect_with, 0);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 0);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, &o, W.now));
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_UNPROT);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
    a.kind = IMSSEC_SA_KIND_OTHER;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now));
    T_EQ_UINT(o.protect_with, 0);
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now));
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &f2.pc_sm6, W.now));
    memset(&a, 0, sizeof a);
    T_OK(w_carry(&W.pc, &W.ue, f2.pc_sm6.protect_with, &a.arrived_on));
    a.kind = IMSSEC_SA_KIND_SYNC;
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, &o, W.now));
    T_EQ_UINT(o.protect_with, f1.ue_sm7.protect_with);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_REG_PROT);
    T_OK(w_carry(&W.ue, &W.pc, o.protect_with, &a.arrived_on));
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, &o, W.now));
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
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_TIMEOUT, NULL, NULL, W.now));
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_FAILURE, &a, &o, W.now));
    T_EQ_UINT(o.protect_with, 0);
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_FAILURE, &a, NULL, W.now));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_OK(w_sm1(&W, &f, 0));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &o, W.now));
    memset(&a, 0, sizeof a);
    a.kind = IMSSEC_SA_KIND_PROPOSAL;
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE_REJECT, &a, NULL, W.now));
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
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_IP_CHANGE, NULL, NULL, W.now));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(w_dp_live(&W.ue.dp), 0);
    T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, 1, 0, &r), IMSSEC_E_STATE);
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

/* 7.4.1a / 7.4.2a last paragraph: de-registration; the final response is
 * sent over the SA first, then everything is deleted (Kamailio_IMS_Config#4). */
T_TEST(sa_7_4_deregistration_deletes_after_final_response)
{
    w_flow f;
    imssec_sa_ev_out o;
    imssec_sa_ev_args a;
    imssec_sa_ref in, resp;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, W.now));
    T_EQ_UINT(o.protect_with, f.ue_sm7.protect_with);
    memset(&a, 0, sizeof a);
    T_OK(w_carry(&W.ue, &W.pc, o.protect_with, &in));
    a.arrived_on = in;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, W.now));
    T_OK(imssec_sa_route(&W.pc.t, W.pc.user, 0, in, &resp));
    T_EQ_UINT(resp, f.pc_sm12.protect_with);
    T_OK(w_carry(&W.pc, &W.ue, resp, &a.arrived_on)); /* 200 still protected */
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_DEREG_DONE, NULL, NULL, W.now));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_DONE, &a, NULL, W.now));
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(w_dp_live(&W.ue.dp) + w_dp_live(&W.pc.dp), 0);
    T_OK(imssec_sa_user_release(&W.pc.t, W.pc.user));
    T_ASSERT(w_consistent(&W));
}

/* 7.1 rule 2: a protected REGISTER whose source differs from its Via. */
T_TEST(sa_7_1_rule2_source_equals_via)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_REG_SEND, (w_args(&W, &a), &a),
                         &f2.ue_sm1, W.now));
    w_args(&W, &a);
    T_OK(w_carry(&W.ue, &W.pc, f2.ue_sm1.protect_with, &a.arrived_on));
    a.peer_spi_c = f2.ue_sm1.spi_c;
    a.peer_spi_s = f2.ue_sm1.spi_s;
    a.peer_port_c = f2.ue_sm1.port_c;
    a.peer_port_s = f2.ue_sm1.port_s;
    w_addr4(&a.via_ip, 10, 0, 0, 99);
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now),
             IMSSEC_E_SA_RULE2);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_ACTIVE);
    a.via_ip = a.ue_ip;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now));
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
    T_OK(imssec_sa_user_lookup(&W.pc.t, "bob@x", 5, 1, &bob));
    w_args(&W, &a);
    a.peer_spi_c = 1000;
    a.peer_spi_s = 1001;
    a.peer_port_c = i.sport; /* alice's port_uc */
    a.peer_port_s = 40000;
    T_EQ_INT(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now),
             IMSSEC_E_SA_RULE3);
    a.peer_port_c = 40001;
    a.peer_port_s = f.ue_sm1.port_s; /* alice's port_us */
    a.nat = 1;
    T_EQ_INT(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now),
             IMSSEC_E_SA_RULE3);
    a.nat = 0; /* without NAT two UEs never share an address: allowed */
    T_OK(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_REG_RECV, &a, NULL, W.now));
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
    T_OK(imssec_sa_user_lookup(&W.pc.t, "bob@x", 5, 1, &bob));
    memset(&a, 0, sizeof a);
    a.arrived_on = f.pc_sm7_in;
    T_EQ_INT(imssec_sa_event(&W.pc.t, bob, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now),
             IMSSEC_E_SA_WRONG);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now));
    a.arrived_on = f.pc_sm12.protect_with; /* an outbound SA is never "arrived on" */
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now),
             IMSSEC_E_SA_WRONG);
    a.arrived_on = 0; /* unprotected non-REGISTER (7.1 item 3) */
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now),
             IMSSEC_E_SA_WRONG);
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, &o, W.now));
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, &o, W.now));
    T_EQ_INT(o.integrity_protected, 1); /* SA of the latest successful auth */
    T_OK(w_sm6(&W, &f2));
    T_OK(w_sm7(&W, &f2, NULL));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_SUCCESS, &a, &o, W.now)); /* lost */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_TIMEOUT, NULL, NULL, W.now));
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
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_REG_RECV, &a, &o, W.now));
    T_EQ_INT(o.integrity_protected, 0); /* not the latest successful auth */
}

/* M.7.1 / M.7.3.2.4: NAT detected => UDP-enc-tun or abort. */
T_TEST(sa_M_7_3_2_4_nat_requires_udp_enc_tun)
{
    w_flow f;
    imssec_sa_ev_args a;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(w_init(&W));
    W.nat = 1;
    T_OK(w_sm1(&W, &f, 0));
    w_args(&W, &a);
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now),
             IMSSEC_E_SA_NAT);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_UNPROT);
    W.mode = IMSSEC_SA_MODE_UDP_ENC_TUN;
    T_OK(w_sm6(&W, &f));
    T_OK(w_sm7(&W, &f, NULL));
    T_OK(w_sm12(&W, &f));
    T_ASSERT(w_consistent(&W));
}

/* M.7.1: without a NAT the mode is transport; UDP-enc-tun is refused. */
T_TEST(sa_M_7_1_no_nat_means_transport)
{
    w_flow f;
    imssec_sa_ev_args a;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    w_args(&W, &a);
    a.mode = IMSSEC_SA_MODE_UDP_ENC_TUN;
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now),
             IMSSEC_E_SA_NAT);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
    T_OK(w_sm6(&W, &f));
}

/* M.7.2: port_Uenc learned from the first protected packet, handed to the
 * data plane for the outbound SAs (4500 -> port_Uenc). */
T_TEST(sa_M_7_2_port_uenc_learned)
{
    w_flow f;
    imssec_sa_info i;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(w_init(&W));
    W.nat = 1;
    W.mode = IMSSEC_SA_MODE_UDP_ENC_TUN;
    T_OK(w_register(&W, &f, 0));
    i = info_of(&W.pc, f.pc_sm12.protect_with);
    T_EQ_UINT(i.encap_dport, 0);
    T_OK(imssec_sa_learn_uenc(&W.pc.t, f.pc_sm7_in, 31337));
    T_EQ_INT(W.pc.dp.updates, 4);
    i = info_of(&W.pc, f.pc_sm12.protect_with);
    T_EQ_UINT(i.encap_sport, 4500);
    T_EQ_UINT(i.encap_dport, 31337);
    i = info_of(&W.pc, f.pc_sm7_in);
    T_EQ_UINT(i.encap_sport, 31337);
    T_EQ_UINT(i.encap_dport, 4500);
    T_OK(imssec_sa_learn_uenc(&W.pc.t, f.pc_sm7_in, 31337)); /* no-op */
    T_EQ_INT(W.pc.dp.updates, 4);
    i = info_of(&W.ue, f.ue_sm7.protect_with);
    T_EQ_UINT(i.encap_sport, 4500); /* the UE: 4500 both ways */
    T_EQ_UINT(i.encap_dport, 4500);
    /* transport-mode SAs have no encapsulation */
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_EQ_INT(imssec_sa_learn_uenc(&W.pc.t, f.pc_sm7_in, 31337), IMSSEC_E_STATE);
}

/* M.7.4.1a / M.7.4.2a: protected SM1 with UDP-enc-tun old SAs => the new
 * SAs use UDP-enc-tun too. */
T_TEST(sa_M_7_4_mode_kept_on_reregistration)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(w_init(&W));
    W.nat = 1;
    W.mode = IMSSEC_SA_MODE_UDP_ENC_TUN;
    T_OK(w_register(&W, &f1, 0));
    W.nat = 0;
    T_OK(w_sm1(&W, &f2, 0));
    w_args(&W, &a);
    a.mode = IMSSEC_SA_MODE_TRANS;
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now),
             IMSSEC_E_SA_NAT);
    T_OK(w_sm6(&W, &f2));
}

/* M.7.2: the UE behind a NAT sends keepalives at the configured interval. */
T_TEST(sa_M_7_2_keepalive_schedule)
{
    w_flow f;
    uint64_t next;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(w_init(&W));
    W.nat = 1;
    W.mode = IMSSEC_SA_MODE_UDP_ENC_TUN;
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_tick(&W.ue.t, W.now, &next));
    T_EQ_UINT(next, W.now + 20000u);
    T_EQ_INT(W.ue.dp.keepalives, 0);
    T_OK(imssec_sa_tick(&W.ue.t, next, &next));
    T_EQ_INT(W.ue.dp.keepalives, 1);
    T_EQ_UINT(next, W.now + 40000u);
}

/* 7.4.1a / 7.4.2a: "delete any SA whose lifetime is exceeded"; tick returns
 * the next deadline. */
T_TEST(sa_7_4_lifetime_expiry)
{
    w_flow f;
    uint64_t next;
    imssec_sa_ref r;
    T_OK(w_init(&W));
    W.expires_s = 100;
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_tick(&W.ue.t, W.now, &next));
    T_EQ_UINT(next, W.now + 130000u);
    T_OK(imssec_sa_tick(&W.ue.t, next - 1, &next));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 4);
    T_OK(imssec_sa_tick(&W.ue.t, next, &next));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, UINT32_MAX), 0);
    T_EQ_INT(ue_state(), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, 1, 0, &r), IMSSEC_E_STATE);
    T_OK(imssec_sa_tick(&W.pc.t, W.now + 130000u, &next));
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_IDLE);
    T_ASSERT(w_consistent(&W));
}

/* 7.4.1a: before SM12 of an unprotected registration the UE may not use
 * IMS services. */
T_TEST(sa_7_4_1a_no_service_before_sm12)
{
    w_flow f;
    imssec_sa_ref r;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    T_OK(w_sm6(&W, &f));
    T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, 1, 0, &r), IMSSEC_E_STATE);
    T_OK(w_sm7(&W, &f, NULL));
    T_OK(w_sm12(&W, &f));
    T_OK(imssec_sa_route(&W.ue.t, W.ue.user, 1, 0, &r));
}

/* Lookups: unknown SPI / ports; stale refs after deletion never match a
 * newer SA in the same slot. */
T_TEST(sa_table_lookups_and_stale_refs)
{
    w_flow f1, f2;
    imssec_sa_ref r;
    imssec_sa_info i;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, 1, &r), IMSSEC_E_NOT_FOUND);
    i = info_of(&W.pc, f1.pc_sm12.protect_with); /* outbound: not found by SPI */
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, i.spi, &r), IMSSEC_E_NOT_FOUND);
    T_OK(w_register(&W, &f2, 1));
    T_EQ_INT(imssec_sa_get(&W.pc.t, f1.pc_sm12.protect_with, &i), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_txn_begin(&W.pc.t, f1.pc_sm12.protect_with), IMSSEC_E_NOT_FOUND);
    T_ASSERT(imssec_sa_user_lookup(&W.pc.t, "", 0, 1, &W.pc.user) == IMSSEC_E_RANGE);
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
