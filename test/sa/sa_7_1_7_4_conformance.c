/*
 * sa_conformance.c -- sa/ and secagree/: the TS 33.203 v7.7.0 rules of
 * issue 11 (an audit found them partial or missing), one test per rule,
 * named for its clause.  The truth is the quoted sentence; the fixture is
 * sa_world.h (a UE table and a P-CSCF table over an in-memory channel that
 * checks both ends hold the same SAs).
 */
#include "../../imssec.h"
#include "../t.h"
#include "sa_world.h"

static world W;

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

/* Live SAs per direction at one end, from its data plane (what the kernel
 * or engine would hold), for 7.1 rule 3. */
static void per_direction(const w_side *s, int *up, int *down)
{
    int i;
    *up = *down = 0;
    for (i = 0; i < W_DP_MAX; i++) {
        if (!s->dp.sa[i].live)
            continue;
        if (s->dp.sa[i].info.which == IMSSEC_SA_UC_PS || s->dp.sa[i].info.which == IMSSEC_SA_US_PC)
            (*up)++;
        else
            (*down)++;
    }
}

/* The most SAs per direction the P-CSCF's data plane held at any moment:
 * its install callback, wrapped, measures after every install. */
static int pc_high_water;

static int install_measured(void *user, const imssec_sa_info *sa, uint64_t *handle,
                            imssec_errinfo *err)
{
    int rc = w_install(user, sa, handle, err), up, down;
    per_direction(&W.pc, &up, &down);
    if (up > pc_high_water)
        pc_high_water = up;
    if (down > pc_high_water)
        pc_high_water = down;
    return rc;
}

static int six_at_most(void)
{
    int u1, d1, u2, d2;
    per_direction(&W.ue, &u1, &d1);
    per_direction(&W.pc, &u2, &d2);
    return u1 <= 6 && d1 <= 6 && u2 <= 6 && d2 <= 6;
}

/* 7.1 rule 3: "the P-CSCF shall check that, for any one IMPI, no more than
 * six SAs per direction are stored at any one time" -- and the data plane
 * never holds more either, even in the worst sequence: a re-registration
 * whose old SAs are kept for a pending transaction, abandoned after the
 * challenge (its new SAs become registration SAs at the P-CSCF, 7.4.2a),
 * then a third attempt.  The P-CSCF deletes the registration SAs before it
 * installs the new ones (the 0.1 code installed first: eight per
 * direction for a moment). */
T_TEST(sa_7_1_rule3_six_sas_per_direction_never_exceeded)
{
    w_flow f1, f2, f3, f4;
    imssec_sa_ref sent, in;
    int up, down;
    T_OK(w_init(&W));
    W.pc.cb.install = install_measured;
    pc_high_water = 0;
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_request(&W, 1, &sent, &in));
    T_OK(imssec_sa_txn_begin(&W.ue.t, sent));
    T_OK(imssec_sa_txn_begin(&W.pc.t, in)); /* set A stays for this */
    T_OK(w_register(&W, &f2, 0));           /* B current, A old */
    T_ASSERT(six_at_most());
    T_OK(w_sm1(&W, &f3, 0));
    T_OK(w_sm6(&W, &f3)); /* C new: three sets = six SAs per direction */
    per_direction(&W.pc, &up, &down);
    T_EQ_INT(up, 6);
    T_EQ_INT(down, 6);
    /* abandoned: the next SM1 makes C registration SAs, the challenge
     * deletes them before D is installed */
    T_OK(w_sm1(&W, &f4, 0));
    T_ASSERT(six_at_most());
    W.pc.dp.installs = W.pc.dp.removes = 0;
    T_OK(w_sm6(&W, &f4));
    T_EQ_INT(W.pc.dp.removes, 4);
    T_EQ_INT(W.pc.dp.installs, 4);
    T_ASSERT(six_at_most());
    T_OK(w_sm7(&W, &f4, NULL));
    T_OK(w_sm12(&W, &f4));
    T_ASSERT(six_at_most());
    T_EQ_INT(pc_high_water, 6); /* reached, never passed */
    T_ASSERT(w_consistent(&W));
}

/* 7.1 rule 2 on every protected REGISTER: the de-registration and the
 * REGISTER reporting a failure too ("upon receipt of a protected REGISTER
 * message ... the source IP address ... coincide with the UE's IP address
 * inserted in the Via header"). */
T_TEST(sa_7_1_rule2_every_protected_register)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    imssec_sa_ref in;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    /* de-registration with a Via that is not the source */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, W.now, NULL));
    T_OK(w_carry(&W.ue, &W.pc, o.protect_with, &in));
    w_args(&W, &a);
    a.arrived_on = in;
    a.via_ip.b[3] ^= 1;
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_DEREG_RECV, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_RULE2);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_ACTIVE);
    /* the failure REGISTER of a protected re-registration */
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    T_OK(w_sm6(&W, &f2));
    T_OK(w_carry(&W.ue, &W.pc, f1.ue_sm7.protect_with, &in)); /* on the old SA */
    w_args(&W, &a);
    a.arrived_on = in;
    a.kind = IMSSEC_SA_KIND_SYNC;
    a.ue_ip.b[3] ^= 2; /* source differs from Via and SA */
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_RULE2);
    a.ue_ip = W.ue_ip;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_AUTH_RECV, &a, NULL, W.now, NULL));
}

/* 7.1: "The ports port_ps and port_pc are different from the standard SIP
 * ports 5060 and 5061" (and port_us, port_uc): refused in configuration,
 * in the P-CSCF's choice and in the UE's selection. */
T_TEST(sa_7_1_protected_ports_never_5060_or_5061)
{
    static const char sc[] =
        "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=1111;spi-s=2222;"
        "port-c=5062;port-s=5060";
    static const char ss[] =
        "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=3333;spi-s=4444;"
        "port-c=5061;port-s=7000";
    static const imssec_secagree_pair pairs[] = {{IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC}};
    imssec_secagree_mech m[2];
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo e;
    imssec_sa_config cfg;
    imssec_sa_table t;
    static uint64_t mem[4096];
    size_t n = 0;
    imssec_io io;
    memset(&io, 0, sizeof io);
    io.random = t_io_random;
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    cfg.pcscf_port_ps = 5060;
    memset(&e, 0, sizeof e);
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 2, 4, mem, sizeof mem, &e), IMSSEC_E_PARAM);
    T_ASSERT(e.param && strstr(e.param, "pcscf_port_ps"));
    cfg.pcscf_port_ps = 5061;
    T_EQ_INT(imssec_sa_table_setup(&t, &cfg, NULL, &io, 2, 4, mem, sizeof mem, NULL), IMSSEC_E_PARAM);
    memset(&pol, 0, sizeof pol);
    pol.pairs = pairs;
    pol.n_pairs = 1;
    T_OK(imssec_secagree_parse(T_S(sc, sizeof sc - 1), m, 2, &n, NULL));
    memset(&e, 0, sizeof e);
    T_EQ_INT(imssec_secagree_pcscf_choose(m, n, &pol, 0, &ch, &e), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(e.sip_status, 494);
    T_ASSERT(e.clause && strstr(e.clause, "7.1"));
    T_OK(imssec_secagree_parse(T_S(ss, sizeof ss - 1), m, 2, &n, NULL));
    T_EQ_INT(imssec_secagree_ue_select(m, n, pairs, 1, 0, 0, &ch, NULL), IMSSEC_E_SECAGREE_REJECT);
}

/* 7.1 items 3 and 4: "The P-CSCF is allowed to receive only REGISTER
 * messages, messages relating to emergency services ... and error messages
 * on unprotected ports"; "The UE is allowed to receive only ... responses
 * to unprotected REGISTER messages; messages relating to emergency
 * services; error messages" -- everything else unprotected is discarded. */
T_TEST(sa_7_1_items_3_and_4_unprotected_arrivals)
{
    w_flow f;
    imssec_sa_ev_args a;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    memset(&a, 0, sizeof a);
    a.msg = IMSSEC_SA_MSG_REQUEST;
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    a.msg = IMSSEC_SA_MSG_RESPONSE;
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    a.msg = IMSSEC_SA_MSG_ERROR;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL));
    a.msg = IMSSEC_SA_MSG_REQUEST;
    a.emergency = 1;
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL));
    /* the UE: a response to an unprotected REGISTER, only while one is
     * outstanding */
    a.emergency = 0;
    a.msg = IMSSEC_SA_MSG_REGISTER_RESPONSE;
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_WRONG);
    T_OK(w_sm1(&W, &f, 1)); /* an unprotected re-registration */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL));
}

/* 7.4.1a / 7.4.2a: the network ends the registration (a reg-event NOTIFY,
 * an administrative release): both ends delete every SA and the P-CSCF
 * can release the user record.  0.1 had no path: only expiry removed
 * them. */
T_TEST(sa_7_4_2a_network_initiated_deregistration)
{
    w_flow f;
    imssec_sa_ref sent, in;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    /* the NOTIFY to the UE on the current SAs, accepted there, then both
     * ends report NET_DEREG */
    T_OK(w_request(&W, 0, &sent, &in));
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_NET_DEREG, NULL, NULL, W.now, NULL));
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_NET_DEREG, NULL, NULL, W.now, NULL));
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(imssec_sa_state(&W.ue.t, W.ue.user), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(w_dp_live(&W.pc.dp) + w_dp_live(&W.ue.dp), 0);
    T_OK(imssec_sa_user_release(&W.pc.t, W.pc.user));
    /* in IDLE there is nothing to end */
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_NET_DEREG, NULL, NULL, W.now, NULL),
             IMSSEC_E_STATE);
    /* also in the middle of a registration */
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f, 0));
    T_OK(w_sm1(&W, &f, 0));
    T_OK(w_sm6(&W, &f));
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_NET_DEREG, NULL, NULL, W.now, NULL));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 0);
    T_ASSERT(w_consistent(&W));
}

/* 7.1 rule 1, 7.2, 7.4.1a, 7.1 rule 4: the IMPUs stored with the IMPI;
 * the SAs are deleted "once all the IMPUs are de-registered"; a message
 * claiming an IMPU of another user is not that SA's user. */
T_TEST(sa_7_1_rule1_impus_stored_and_last_one_deletes)
{
    static imssec_sa_impu slots[4];
    w_flow f;
    imssec_sa_ref sent, in;
    imssec_str got;
    T_OK(w_init(&W));
    T_EQ_INT(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("sip:a@x", 7)), IMSSEC_E_STATE);
    T_OK(imssec_sa_impu_attach(&W.pc.t, slots, 4, 2));
    T_EQ_INT(imssec_sa_impu_attach(&W.pc.t, slots, 4, 2), IMSSEC_E_STATE);
    /* "successfully registered IMPUs": only once ACTIVE */
    T_EQ_INT(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("sip:a@x", 7)), IMSSEC_E_STATE);
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("sip:alice@ims.example.net", 25)));
    T_OK(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("tel:+15551234", 13)));
    T_OK(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("tel:+15551234", 13))); /* again: no-op */
    T_EQ_INT(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("sip:third@x", 11)), IMSSEC_E_SPACE);
    T_EQ_INT(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("", 0)), IMSSEC_E_RANGE);
    T_EQ_UINT(imssec_sa_impu_count(&W.pc.t, W.pc.user), 2);
    T_OK(imssec_sa_impu_get(&W.pc.t, W.pc.user, 1, &got));
    T_EQ_UINT(got.n, 13);
    T_ASSERT(memcmp(got.p, "tel:+15551234", 13) == 0);
    T_OK(imssec_sa_table_check(&W.pc.t));
    /* rule 4: the SA's user vs the user at SIP level */
    T_OK(w_request(&W, 1, &sent, &in));
    T_OK(imssec_sa_impu_check(&W.pc.t, in, T_S("sip:alice@ims.example.net", 25)));
    T_EQ_INT(imssec_sa_impu_check(&W.pc.t, in, T_S("sip:bob@ims.example.net", 23)),
             IMSSEC_E_SA_WRONG);
    /* one de-registered: the SAs stay; the last: they go */
    T_OK(imssec_sa_impu_remove(&W.pc.t, W.pc.user, T_S("tel:+15551234", 13), W.now, NULL));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_EQ_INT(imssec_sa_impu_remove(&W.pc.t, W.pc.user, T_S("tel:+15551234", 13), W.now, NULL),
             IMSSEC_E_NOT_FOUND);
    T_OK(imssec_sa_impu_remove(&W.pc.t, W.pc.user, T_S("sip:alice@ims.example.net", 25), W.now,
                               NULL));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 0);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_IDLE);
    T_EQ_INT(w_dp_live(&W.pc.dp), 0);
    T_OK(imssec_sa_table_check(&W.pc.t));
}

/* The IMPUs survive a snapshot and go with the registration: expiry
 * forgets them, and a restored table keeps them. */
T_TEST(sa_7_1_rule1_impus_snapshot_and_expiry)
{
    static imssec_sa_impu slots[4], slots2[4];
    static uint8_t snap[4096];
    static uint64_t mem2[(1 << 14) / 8];
    imssec_sa_table t2;
    imssec_sa_config cfg;
    w_flow f;
    size_t n = 0;
    uint64_t next;
    T_OK(w_init(&W));
    T_OK(imssec_sa_impu_attach(&W.pc.t, slots, 4, 4));
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_impu_add(&W.pc.t, W.pc.user, T_S("sip:alice@ims.example.net", 25)));
    T_OK(imssec_sa_snapshot(&W.pc.t, 1, snap, sizeof snap, &n));
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    T_OK(imssec_sa_table_setup(&t2, &cfg, NULL, &W.io, 8, 16, mem2, sizeof mem2, NULL));
    T_EQ_INT(imssec_sa_restore(&t2, snap, n), IMSSEC_E_SPACE); /* no slots attached */
    T_OK(imssec_sa_impu_attach(&t2, slots2, 4, 4));
    T_OK(imssec_sa_restore(&t2, snap, n));
    T_EQ_UINT(imssec_sa_impu_count(&t2, W.pc.user), 1);
    T_OK(imssec_sa_table_check(&t2));
    /* the registration expires: the IMPUs go with it */
    W.now += 4000u * 1000u;
    T_OK(imssec_sa_tick(&W.pc.t, W.now, &next));
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_IDLE);
    T_EQ_UINT(imssec_sa_impu_count(&W.pc.t, W.pc.user), 0);
    T_OK(imssec_sa_table_check(&W.pc.t));
}

/* 7.4.2a at the P-CSCF: "the old SAs ... are deleted ... when all pending
 * transactions ... have completed": a transaction the P-CSCF started on
 * the old set keeps that set until it ends, after the switch-over. */
T_TEST(sa_7_4_2a_pcscf_old_sas_kept_for_pending_transactions)
{
    w_flow f1, f2;
    imssec_sa_ref mt_sent, mt_in, s, i;
    T_OK(w_init(&W));
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_request(&W, 0, &mt_sent, &mt_in));
    T_OK(imssec_sa_txn_begin(&W.pc.t, mt_sent));
    T_OK(w_register(&W, &f2, 0));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 8);
    T_OK(w_request(&W, 1, &s, &i)); /* the UE used the new SAs: switch-over */
    T_OK(w_request(&W, 0, &s, &i));
    T_EQ_UINT(w_sibling(&W.pc, s, IMSSEC_SA_PC_US), w_sibling(&W.pc, f2.pc_sm12.protect_with,
                                                              IMSSEC_SA_PC_US));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 8); /* still pending */
    T_OK(imssec_sa_txn_end(&W.pc.t, mt_sent, W.now));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_ASSERT(w_consistent(&W));
}

/* M.7.4.1a: "If the old SAs are UDP encapsulated, the new SAs shall also
 * be": a re-registration behind a NAT that offered transport mode is
 * refused by the UE. */
T_TEST(sa_M_7_4_1a_ue_keeps_udp_enc_tun)
{
    w_flow f1, f2;
    imssec_sa_ev_args a;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(w_init(&W));
    W.nat = 1;
    W.mode = IMSSEC_MODE_UDP_ENC_TUN;
    T_OK(w_register(&W, &f1, 0));
    T_OK(w_sm1(&W, &f2, 0));
    W.mode = IMSSEC_MODE_UDP_ENC_TUN;
    {
        imssec_sa_ev_out o;
        imssec_sa_ref in;
        w_args(&W, &a);
        T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &o, W.now, NULL));
        T_OK(w_carry(&W.pc, &W.ue, o.protect_with, &in));
        w_args(&W, &a);
        a.arrived_on = in;
        a.mode = IMSSEC_MODE_TRANS;
        a.peer_spi_c = o.spi_c;
        a.peer_spi_s = o.spi_s;
        a.peer_port_c = o.port_c;
        a.peer_port_s = o.port_s;
        T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL),
                 IMSSEC_E_SA_NAT);
        a.mode = IMSSEC_MODE_UDP_ENC_TUN;
        T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL));
    }
}

/* 7.1: "The UE shall define the SPIs such that they are unique and
 * different from any SPIs as received in the Security-Server header": a
 * P-CSCF choosing one of the UE's inbound SPIs is refused (E_EXISTS,
 * nothing changed). */
T_TEST(sa_7_1_ue_refuses_pcscf_spi_equal_to_own)
{
    w_flow f;
    imssec_sa_ev_args a;
    imssec_sa_ev_out o;
    imssec_sa_ref in;
    T_OK(w_init(&W));
    T_OK(w_sm1(&W, &f, 0));
    w_args(&W, &a);
    T_OK(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, &o, W.now, NULL));
    T_OK(w_carry(&W.pc, &W.ue, o.protect_with, &in));
    w_args(&W, &a);
    a.arrived_on = in;
    a.peer_spi_c = f.ue_sm1.spi_s; /* the UE's own inbound SPI */
    a.peer_spi_s = o.spi_s;
    a.peer_port_c = o.port_c;
    a.peer_port_s = o.port_s;
    T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL),
             IMSSEC_E_EXISTS);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 0);
    T_EQ_INT(imssec_sa_state(&W.ue.t, W.ue.user), IMSSEC_SA_ST_REG_UNPROT);
}
