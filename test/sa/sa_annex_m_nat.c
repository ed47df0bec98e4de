/*
 * sa_annex_m_nat.c -- sa/ behind a NAT, TS 33.203 v7.7.0 Annex M: the mode
 * (M.7.1: transport without a NAT, UDP-enc-tun or abort with one,
 * M.7.3.2.4), port_Uenc learned from the first protected packet (M.7.2),
 * the keepalive schedule, the mode kept on re-registration (M.7.4.1a /
 * M.7.4.2a).  Driven through both tables at once (sa_world.h).
 */

#include "sa_flow.h"

#include "sa_aligned.h"

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
    a.mode = IMSSEC_MODE_UDP_ENC_TUN;
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_NAT);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, UINT32_MAX), 0);
    T_OK(w_sm6(&W, &f));
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
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_NAT);
    T_EQ_INT(pc_state(), IMSSEC_SA_ST_REG_UNPROT);
    W.mode = IMSSEC_MODE_UDP_ENC_TUN;
    T_OK(w_sm6(&W, &f));
    T_OK(w_sm7(&W, &f, NULL));
    T_OK(w_sm12(&W, &f));
    T_ASSERT(w_consistent(&W));
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
    W.mode = IMSSEC_MODE_UDP_ENC_TUN;
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

/* learn_uenc on a transport-mode SA is E_STATE (nothing changes); lookups
 * by ports honour the direction. */
T_TEST(sa_M_7_2_learn_uenc_transport_and_ports)
{
    ALIGNED_WORLD(wp, 0);
    w_flow f;
    imssec_sa_info si;
    imssec_sa_ref r;
    static uint8_t b[SNAP_MAX], a_[SNAP_MAX];
    size_t nb, na;
    memset(&f, 0, sizeof f);
    T_EQ_INT(w_init(wp), IMSSEC_OK);
    T_EQ_INT(w_register(wp, &f, 0), IMSSEC_OK);
    nb = table_snap(&wp->pc.t, b);
    T_EQ_INT(imssec_sa_learn_uenc(&wp->pc.t, f.pc_sm7_in, 40000), IMSSEC_E_STATE);
    T_EQ_INT(imssec_sa_learn_uenc(&wp->pc.t, f.pc_sm7_in ^ 0x100000000ull, 40000),
             IMSSEC_E_NOT_FOUND);
    na = table_snap(&wp->pc.t, a_);
    T_ASSERT(na == nb && memcmp(a_, b, nb) == 0);
    T_EQ_INT(wp->pc.dp.updates, 0);
    T_EQ_INT(imssec_sa_get(&wp->pc.t, f.pc_sm7_in, &si), IMSSEC_OK);
    T_EQ_INT(si.inbound, 1);
    T_EQ_INT(imssec_sa_find_ports(&wp->pc.t, &si.src, si.sport, si.dport, 1, &r), IMSSEC_OK);
    T_EQ_UINT(r, f.pc_sm7_in);
    /* the same port pair downlink is the paired SA in the other direction */
    T_EQ_INT(imssec_sa_find_ports(&wp->pc.t, &si.src, si.sport, si.dport, 0, &r), IMSSEC_OK);
    T_ASSERT(r != f.pc_sm7_in);
    {
        imssec_sa_info so;
        T_EQ_INT(imssec_sa_get(&wp->pc.t, r, &so), IMSSEC_OK);
        T_EQ_INT(so.inbound, 0);
        T_EQ_UINT(so.sport, si.dport);
        T_EQ_UINT(so.dport, si.sport);
    }
    T_EQ_INT(imssec_sa_find_ports(&wp->pc.t, &si.src, si.dport, si.sport, 1, &r),
             IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_sa_find_spi(&wp->pc.t, 0, &r), IMSSEC_E_NOT_FOUND);
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
    W.mode = IMSSEC_MODE_UDP_ENC_TUN;
    T_OK(w_register(&W, &f, 0));
    T_OK(imssec_sa_tick(&W.ue.t, W.now, &next));
    T_EQ_UINT(next, W.now + 20000u);
    T_EQ_INT(W.ue.dp.keepalives, 0);
    T_OK(imssec_sa_tick(&W.ue.t, next, &next));
    T_EQ_INT(W.ue.dp.keepalives, 1);
    T_EQ_UINT(next, W.now + 40000u);
}

/* M.7.2 with RFC 3948 2.3: keepalives from the first protected message on
 * (SM7, before the registration completes), and none after an interval
 * that had outbound traffic (imssec_sa_note_sent). */
T_TEST(sa_M_7_2_keepalive_from_sm7_and_only_when_idle)
{
    w_flow f;
    uint64_t next;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(w_init(&W));
    W.nat = 1;
    W.mode = IMSSEC_MODE_UDP_ENC_TUN;
    T_OK(w_sm1(&W, &f, 0));
    T_OK(w_sm6(&W, &f)); /* the UE made its SAs: SM7 leaves now */
    T_OK(imssec_sa_tick(&W.ue.t, W.now, &next));
    T_EQ_UINT(next, W.now + 20000u);
    T_OK(imssec_sa_tick(&W.ue.t, next, &next)); /* no answer yet: keep the binding */
    T_EQ_INT(W.ue.dp.keepalives, 1);
    W.now += 20000u;
    T_OK(w_sm7(&W, &f, NULL));
    T_OK(w_sm12(&W, &f));
    /* traffic 15 s into the interval: the keepalive moves to 20 s after it */
    T_OK(imssec_sa_tick(&W.ue.t, W.now, &next));
    T_EQ_UINT(next, W.now + 20000u);
    T_OK(imssec_sa_note_sent(&W.ue.t, f.ue_sm7.protect_with, W.now + 15000u));
    T_OK(imssec_sa_tick(&W.ue.t, W.now + 20000u, &next));
    T_EQ_INT(W.ue.dp.keepalives, 1);
    T_EQ_UINT(next, W.now + 35000u);
    T_OK(imssec_sa_tick(&W.ue.t, next, &next));
    T_EQ_INT(W.ue.dp.keepalives, 2);
    T_EQ_INT(imssec_sa_note_sent(&W.ue.t, 0, W.now), IMSSEC_E_NOT_FOUND);
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
    W.mode = IMSSEC_MODE_UDP_ENC_TUN;
    T_OK(w_register(&W, &f1, 0));
    W.nat = 0;
    T_OK(w_sm1(&W, &f2, 0));
    w_args(&W, &a);
    a.mode = IMSSEC_MODE_TRANS;
    T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_CHALLENGE, &a, NULL, W.now, NULL),
             IMSSEC_E_SA_NAT);
    T_OK(w_sm6(&W, &f2));
}
