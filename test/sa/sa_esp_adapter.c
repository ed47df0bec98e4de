/*
 * sa_esp_adapter.c -- sa/ with the default data plane (esp/ engine objects):
 * after a registration driven through both state machines, a SIP packet
 * protected by the UE on the SA its route picks is accepted by the P-CSCF's
 * esp/ SA found by SPI, and the other way round.  The two ends' SAs are
 * built independently (each side expands its own keys), so a mismatch in
 * SPI, direction, key expansion or algorithm mapping fails the ICV.
 */
#include "../../imssec.h"
#include "../t.h"
#include "sa_world.h"

static world W;
static imssec_esp_sa ue_esp[16], pc_esp[32];
static imssec_sa_esp_pool ue_pool, pc_pool;

static int esp_world(void)
{
    imssec_sa_config cfg;
    int rc;
    if ((rc = w_init(&W)) != IMSSEC_OK)
        return rc;
    imssec_sa_esp_pool_init(&ue_pool, ue_esp, 16);
    imssec_sa_esp_pool_init(&pc_pool, pc_esp, 32);
    imssec_sa_esp_callbacks(&W.ue.cb, &ue_pool);
    imssec_sa_esp_callbacks(&W.pc.cb, &pc_pool);
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_UE);
    if ((rc = imssec_sa_table_setup(&W.ue.t, &cfg, &W.ue.cb, &W.io, 1, 4, W.ue.mem,
                                    sizeof W.ue.mem, NULL)) != IMSSEC_OK)
        return rc;
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    if ((rc = imssec_sa_table_setup(&W.pc.t, &cfg, &W.pc.cb, &W.io, 8, 16, W.pc.mem,
                                    sizeof W.pc.mem, NULL)) != IMSSEC_OK)
        return rc;
    if ((rc = imssec_sa_user_lookup(&W.ue.t,T_S("alice@x", 7), 1, &W.ue.user)) != IMSSEC_OK)
        return rc;
    return imssec_sa_user_lookup(&W.pc.t,T_S("alice@x", 7), 1, &W.pc.user);
}

/* IPv4 + UDP + payload with a correct header checksum (RFC 791). */
static size_t ipv4_udp(uint8_t *p, const imssec_sa_info *sa, const char *payload)
{
    size_t n = strlen(payload), len = 28 + n, i;
    uint32_t sum = 0;
    memset(p, 0, 28);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[8] = 64;
    p[9] = 17;
    memcpy(p + 12, sa->src.b, 4);
    memcpy(p + 16, sa->dst.b, 4);
    for (i = 0; i < 20; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    p[10] = (uint8_t)(~sum >> 8);
    p[11] = (uint8_t)~sum;
    p[20] = (uint8_t)(sa->sport >> 8);
    p[21] = (uint8_t)sa->sport;
    p[22] = (uint8_t)(sa->dport >> 8);
    p[23] = (uint8_t)sa->dport;
    p[24] = (uint8_t)((8 + n) >> 8);
    p[25] = (uint8_t)(8 + n);
    memcpy(p + 28, payload, n);
    return len;
}

/* Protect on `out` of side a, find the inbound SA by SPI at side b,
 * unprotect there; returns the unprotect result. */
static int send_over(w_side *a, imssec_sa_esp_pool *pa, w_side *b, imssec_sa_esp_pool *pb,
                     imssec_sa_ref out, const char *msg, int tamper)
{
    uint8_t pkt[512], enc[512 + IMSSEC_ESP_OVERHEAD_MAX], dec[600];
    imssec_sa_info info;
    imssec_esp_sa *eo, *ei;
    imssec_sa_ref in;
    size_t n, m, k;
    int rc;
    if (imssec_sa_get(&a->t, out, &info) != IMSSEC_OK)
        return -100;
    n = ipv4_udp(pkt, &info, msg);
    eo = imssec_sa_esp_of(pa, &a->t, out);
    if (!eo)
        return -101;
    if ((rc = imssec_esp_protect(eo, &W.io, NULL, pkt, n, enc, sizeof enc, &m, NULL)) != IMSSEC_OK)
        return rc;
    if (tamper)
        enc[m - 1] ^= 1;
    if (imssec_sa_find_spi(&b->t, info.spi, &in) != IMSSEC_OK)
        return -102;
    ei = imssec_sa_esp_of(pb, &b->t, in);
    if (!ei)
        return -103;
    rc = imssec_esp_unprotect(ei, enc, m, dec, sizeof dec, &k, NULL, NULL);
    if (rc == IMSSEC_OK && (k != n || memcmp(dec, pkt, n) != 0))
        return -104;
    return rc;
}

T_TEST(sa_esp_adapter_registration_traffic)
{
    static const uint8_t algs[][2] = {
        {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC},
        {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_DES_EDE3_CBC},
        {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL}};
    size_t k;
    for (k = 0; k < sizeof algs / sizeof algs[0]; k++) {
        w_flow f1, f2;
        imssec_sa_ref r;
        if ((!IMSSEC_ENABLE_HMAC_MD5 && algs[k][0] == IMSSEC_ALG_HMAC_MD5_96) ||
            (!IMSSEC_ENABLE_3DES && algs[k][1] == IMSSEC_EALG_DES_EDE3_CBC))
            continue; /* compiled out */
        T_EQ_INT(esp_world(), IMSSEC_OK);
        W.alg = algs[k][0];
        W.ealg = algs[k][1];
        T_EQ_INT(w_register(&W, &f1, 0), IMSSEC_OK);
        T_EQ_UINT(ue_pool.used, 4);
        T_EQ_UINT(pc_pool.used, 4);
        /* SM7 went on the UE's new outbound SA: the P-CSCF's esp/ SA takes it */
        T_EQ_INT(send_over(&W.ue, &ue_pool, &W.pc, &pc_pool, f1.ue_sm7.protect_with,
                           "REGISTER sip:ims.example SIP/2.0\r\n", 0), IMSSEC_OK);
        T_EQ_INT(send_over(&W.pc, &pc_pool, &W.ue, &ue_pool, f1.pc_sm12.protect_with,
                           "SIP/2.0 200 OK\r\n", 0), IMSSEC_OK);
        T_EQ_INT(send_over(&W.pc, &pc_pool, &W.ue, &ue_pool, f1.pc_sm12.protect_with,
                           "SIP/2.0 200 OK\r\n", 1), IMSSEC_E_ICV);
        T_EQ_INT(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_OK);
        T_EQ_INT(send_over(&W.pc, &pc_pool, &W.ue, &ue_pool, r, "NOTIFY x SIP/2.0\r\n", 0),
                 IMSSEC_OK);
        /* re-registration: new SAs work, old ones are gone from the pool at
         * the switch-over */
        T_EQ_INT(w_register(&W, &f2, 0), IMSSEC_OK);
        T_EQ_UINT(pc_pool.used, 8);
        T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &r), IMSSEC_OK);
        T_EQ_INT(send_over(&W.ue, &ue_pool, &W.pc, &pc_pool, r, "MESSAGE x SIP/2.0\r\n", 0),
                 IMSSEC_OK);
        {
            imssec_sa_ev_args a;
            memset(&a, 0, sizeof a);
            T_EQ_INT(w_carry(&W.ue, &W.pc, r, &a.arrived_on), 0);
            T_EQ_INT(imssec_sa_event(&W.pc.t, W.pc.user, IMSSEC_SA_EV_MSG_IN, &a, NULL, W.now, NULL),
                     IMSSEC_OK);
        }
        T_EQ_UINT(pc_pool.used, 4);
        T_EQ_INT(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_IP_CHANGE, NULL, NULL, W.now, NULL),
                 IMSSEC_OK);
        T_EQ_UINT(ue_pool.used, 0);
        T_ASSERT(imssec_sa_esp_of(&ue_pool, &W.ue.t, r) == NULL);
    }
}

/* Annex I key expansion in sa/ agrees with esp/'s own imssec_esp_keys (two
 * implementations written independently). */
T_TEST(sa_esp_keys_agree_with_esp_module)
{
    static const int pairs[][2] = {{1, 0}, {1, 1}, {1, 2}, {2, 0}, {2, 1}, {2, 2}};
    size_t k;
    for (k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        w_flow f;
        imssec_sa_info i;
        uint8_t ik[IMSSEC_ESP_AUTH_KEY_MAX], ck[IMSSEC_ESP_ENC_KEY_MAX];
        size_t ikn, ckn;
        if ((!IMSSEC_ENABLE_HMAC_MD5 && pairs[k][0] == IMSSEC_ALG_HMAC_MD5_96) ||
            (!IMSSEC_ENABLE_3DES && pairs[k][1] == IMSSEC_EALG_DES_EDE3_CBC))
            continue; /* compiled out */
        T_EQ_INT(w_init(&W), IMSSEC_OK);
        t_randbytes(W.ik, 16);
        t_randbytes(W.ck, 16);
        W.alg = (uint8_t)pairs[k][0];
        W.ealg = (uint8_t)pairs[k][1];
        T_EQ_INT(w_register(&W, &f, 0), IMSSEC_OK);
        T_EQ_INT(imssec_sa_get(&W.pc.t, f.pc_sm12.protect_with, &i), IMSSEC_OK);
        T_EQ_INT(imssec_esp_keys(pairs[k][0], pairs[k][1], W.ik, W.ck, ik, &ikn, ck, &ckn),
                 IMSSEC_OK);
        T_EQ_UINT(i.ik_len, ikn);
        T_EQ_MEM(i.ik, ik, ikn);
        T_EQ_UINT(i.ck_len, ckn);
        if (ckn)
            T_EQ_MEM(i.ck, ck, ckn);
    }
}

/* Restart without loss (issue 13): the P-CSCF saves its table (with keys)
 * and its pool's sequence state, "crashes" (its memory is wiped), and
 * restores both into fresh memory: the UE's traffic resumes on the same
 * SAs; a packet captured before the snapshot and replayed is refused (RFC
 * 4303 3.4.3); the P-CSCF's next outbound number is past anything sent
 * before the crash (3.3.3), which the UE accepts. */
T_TEST(sa_esp_restart_without_loss)
{
    static uint8_t snap[8192], psnap[1024], old_pkt[600];
    static uint64_t mem2[(1 << 14) / 8];
    static imssec_esp_sa esp2[32];
    imssec_sa_esp_pool pool2;
    imssec_sa_table t2;
    imssec_sa_callbacks cb2;
    imssec_sa_config cfg;
    imssec_sa_ref up, down, in;
    imssec_sa_info info;
    uint8_t pkt[512], dec[600];
    size_t n = 0, pn = 0, old_len = 0, m, k;
    imssec_esp_sa *eo, *ei;
    w_flow f;
    int i;
    T_EQ_INT(esp_world(), IMSSEC_OK);
    T_EQ_INT(w_register(&W, &f, 0), IMSSEC_OK);
    T_EQ_INT(imssec_sa_route(&W.ue.t, W.ue.user, IMSSEC_TRANSPORT_UDP, 1, 0, &up), IMSSEC_OK);
    T_EQ_INT(imssec_sa_route(&W.pc.t, W.pc.user, IMSSEC_TRANSPORT_UDP, 1, 0, &down), IMSSEC_OK);
    /* traffic both ways; keep one uplink packet as an attacker would */
    for (i = 0; i < 5; i++) {
        T_EQ_INT(send_over(&W.ue, &ue_pool, &W.pc, &pc_pool, up, "MESSAGE a SIP/2.0\r\n", 0),
                 IMSSEC_OK);
        T_EQ_INT(send_over(&W.pc, &pc_pool, &W.ue, &ue_pool, down, "MESSAGE b SIP/2.0\r\n", 0),
                 IMSSEC_OK);
    }
    T_EQ_INT(imssec_sa_get(&W.ue.t, up, &info), IMSSEC_OK);
    eo = imssec_sa_esp_of(&ue_pool, &W.ue.t, up);
    n = ipv4_udp(pkt, &info, "MESSAGE captured SIP/2.0\r\n");
    T_EQ_INT(imssec_esp_protect(eo, &W.io, NULL, pkt, n, old_pkt, sizeof old_pkt, &old_len, NULL),
             IMSSEC_OK);
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, info.spi, &in), IMSSEC_OK);
    ei = imssec_sa_esp_of(&pc_pool, &W.pc.t, in);
    T_EQ_INT(imssec_esp_unprotect(ei, old_pkt, old_len, dec, sizeof dec, &k, NULL, NULL), IMSSEC_OK);
    /* the snapshot pair, then the crash */
    T_EQ_INT(imssec_sa_snapshot(&W.pc.t, 1, snap, sizeof snap, &n), IMSSEC_OK);
    T_EQ_INT(imssec_sa_esp_pool_snapshot(&pc_pool, psnap, sizeof psnap, &pn), IMSSEC_OK);
    T_EQ_UINT(pn, 12 + 4 * 17 + 32);
    /* two more downlink packets after the snapshot, lost with the crash */
    T_EQ_INT(send_over(&W.pc, &pc_pool, &W.ue, &ue_pool, down, "MESSAGE c SIP/2.0\r\n", 0), IMSSEC_OK);
    T_EQ_INT(send_over(&W.pc, &pc_pool, &W.ue, &ue_pool, down, "MESSAGE d SIP/2.0\r\n", 0), IMSSEC_OK);
    memset(W.pc.mem, 0xdd, sizeof W.pc.mem);
    memset(pc_esp, 0xdd, sizeof pc_esp);
    /* the restart */
    imssec_sa_esp_pool_init(&pool2, esp2, 32);
    imssec_sa_esp_callbacks(&cb2, &pool2);
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_PCSCF);
    T_EQ_INT(imssec_sa_table_setup(&t2, &cfg, &cb2, &W.io, 8, 16, mem2, sizeof mem2, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_sa_restore(&t2, snap, n), IMSSEC_OK);
    psnap[20] ^= 1; /* a corrupted pool snapshot is refused, the pool left empty */
    T_EQ_INT(imssec_sa_esp_pool_restore(&pool2, &t2, psnap, pn, 1000, NULL), IMSSEC_E_SYNTAX);
    T_EQ_UINT(pool2.used, 0);
    psnap[20] ^= 1;
    T_EQ_INT(imssec_sa_esp_pool_restore(&pool2, &t2, psnap, pn, 1000, NULL), IMSSEC_OK);
    T_EQ_UINT(pool2.used, 4);
    W.pc.t = t2;
    /* the replayed pre-snapshot packet: refused */
    T_EQ_INT(imssec_sa_find_spi(&W.pc.t, info.spi, &in), IMSSEC_OK);
    ei = imssec_sa_esp_of(&pool2, &W.pc.t, in);
    T_ASSERT(ei != NULL);
    T_EQ_INT(imssec_esp_unprotect(ei, old_pkt, old_len, dec, sizeof dec, &k, NULL, NULL),
             IMSSEC_E_REPLAY);
    /* traffic resumes on the same SAs, both ways */
    T_EQ_INT(send_over(&W.ue, &ue_pool, &W.pc, &pool2, up, "MESSAGE e SIP/2.0\r\n", 0), IMSSEC_OK);
    T_EQ_INT(send_over(&W.pc, &pool2, &W.ue, &ue_pool, down, "MESSAGE f SIP/2.0\r\n", 0), IMSSEC_OK);
    /* the P-CSCF's first number after the restart is beyond the margin */
    eo = imssec_sa_esp_of(&pool2, &W.pc.t, down);
    T_ASSERT(imssec_esp_sa_seq(eo) > 1000 + 5);
    (void)m;
}
