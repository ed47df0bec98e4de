/*
 * sa_7_2_register_glue.c -- the one-call registration steps (imssec_sa_ue_register,
 * imssec_sa_ue_challenge, imssec_sa_pcscf_register, imssec_sa_pcscf_challenge,
 * imssec_sa_pcscf_auth) end to end: a UE table and a P-CSCF table
 * (sa_world.h), an S-CSCF written here from the aka/ network side
 * (Milenage vectors for the TS 35.207 test set 2 K and OP, the nonce of
 * RFC 3310 3.1, ck=/ik= as TS 24.229 5.4.1.2.1 adds them) and only header
 * text between them.
 *
 * The independent truths: the S-CSCF verifies the UE's response against
 * XRES from its own vector; the SAs' integrity keys at both ends are the
 * vector's IK and CK (TS 33.203 Annex I: for HMAC-SHA-1-96 "IK_ESP is
 * obtained from IK_IM by appending 32 zero bits"; CK_ESP = CK_IM for
 * AES-CBC); the headers carry
 * the values 7.2 names (checked by parsing them back); and the clause
 * each refusal cites.
 */
#include "../../imssec.h"
#include "../t.h"
#include "sa_world.h"

#define T_OK(x) T_EQ_INT((x), IMSSEC_OK)

static world W;

static const char g_impi[] = "alice@ims.example.net";
static const char g_realm[] = "ims.example.net";
static const char g_uri[] = "sip:ims.example.net";

static const imssec_secagree_pair g_pairs[] = {
    {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC},
#if IMSSEC_ENABLE_HMAC_MD5
    {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_AES_CBC},
#endif
    {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
};
#define G_NPAIRS (sizeof g_pairs / sizeof g_pairs[0])
static const int g_modes_nat[] = {IMSSEC_MODE_UDP_ENC_TUN, IMSSEC_MODE_TRANS};

/* The network (S-CSCF/HSS) and the UE's USIM, from one K/OP. */
typedef struct net {
    imssec_milenage m;
    imssec_aka_sqn ue_sqn;
    imssec_aka_soft soft;
    imssec_aka_provider usim;
    int usim_calls;
    imssec_aka_vector v;
    uint64_t hn_sqn;
    char nonce[128];
    size_t nonce_len;
} net;

static net N;

static int counting_usim(void *user, const uint8_t rand[16], const uint8_t autn[16],
                         imssec_aka_result *out)
{
    net *n = (net *)user;
    n->usim_calls++;
    return imssec_aka_ue_check(&n->m, &n->ue_sqn, 0, rand, autn, out);
}

static void net_init(void)
{
    uint8_t k[16], op[16];
    memset(&N, 0, sizeof N);
    /* TS 35.207 test set 2 */
    t_unhex("0396eb317b6d1c36f19c1c84cd6ffd16", k, 16);
    t_unhex("ff53bade17df5d4e793073ce9d7579fa", op, 16);
    imssec_milenage_init_op(&N.m, k, op);
    imssec_aka_sqn_init(&N.ue_sqn);
    N.usim.authenticate = counting_usim;
    N.usim.user = &N;
}

/* SM3/SM4: a fresh vector and the S-CSCF's WWW-Authenticate with ck=/ik=. */
static int scscf_401(char *out, size_t cap, size_t *len, int tamper_autn)
{
    static const uint8_t amf[2] = {0x80, 0x00};
    char chal[400], hck[33], hik[33];
    size_t cl = 0;
    int i, rc;
    N.hn_sqn += 32;
    if ((rc = imssec_aka_vector_gen(&N.m, &W.io, NULL, N.hn_sqn, amf, &N.v)) != IMSSEC_OK)
        return rc;
    if (tamper_autn)
        N.v.autn[15] ^= 1;
    if ((rc = imssec_aka_nonce_encode(N.v.rand, N.v.autn, NULL, 0, 1, N.nonce, sizeof N.nonce,
                                      &N.nonce_len)) != IMSSEC_OK)
        return rc;
    if ((rc = imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, T_S(g_realm, strlen(g_realm)),
                                            T_S(N.nonce, N.nonce_len), T_S("", 0),
                                            IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH), 0, 0,
                                            chal, sizeof chal, &cl)) != IMSSEC_OK)
        return rc;
    for (i = 0; i < 16; i++) {
        snprintf(hck + 2 * i, 3, "%02x", N.v.ck[i]);
        snprintf(hik + 2 * i, 3, "%02x", N.v.ik[i]);
    }
    *len = (size_t)snprintf(out, cap, "%.*s,ck=\"%s\",ik=\"%s\"", (int)cl, chal, hck, hik);
    return *len < cap ? IMSSEC_OK : IMSSEC_E_SPACE;
}

/* The S-CSCF's check of SM9: the response over the password from XRES. */
static int scscf_verify(const char *authz, size_t len)
{
    imssec_digest_credentials cr;
    imssec_digest_nonce st;
    uint8_t pw[64];
    size_t pl = 0;
    int rc;
    if ((rc = imssec_digest_credentials_parse(T_S(authz, len), &cr, NULL)) != IMSSEC_OK)
        return rc;
    if ((rc = imssec_digest_nonce_set(&st, T_S(N.nonce, N.nonce_len), UINT64_MAX)) != IMSSEC_OK)
        return rc;
    rc = imssec_digest_aka_password(IMSSEC_DIGEST_AKAV1_MD5, N.v.xres, N.v.xres_len, N.v.ck,
                                    N.v.ik, pw, sizeof pw, &pl);
    if (rc != IMSSEC_OK)
        return rc;
    return imssec_digest_server_verify(&st, &cr, IMSSEC_DIGEST_AKAV1_MD5, T_S("", 0),
                                       T_S("REGISTER", 8), NULL, 0, pw, pl, 0);
}

/* The texts one registration puts on the wire, and the SAs they went on. */
typedef struct reg {
    char sc[1024], authz0[256], www_s[512], www_ue[512], ss[512], authz[512], sv[512], via[96];
    char via401[128]; /* the 401's top Via as the UE sees it (M.7.2: `received`) */
    size_t sc_len, authz0_len, www_s_len, www_ue_len, ss_len, authz_len, sv_len, via_len;
    size_t via401_len;
    imssec_sa_ue_sm1_out ue1;
    imssec_sa_pcscf_sm1_out pc1;
    imssec_sa_pcscf_401_out pc401;
    imssec_sa_ue_401_out ue401;
    imssec_sa_ref pc_sm1_in, ue_sm6_in, pc_sm7_in;
    int ue_rc, pc_auth_rc, integrity;
} reg;

static imssec_secagree_offer g_offer;
static imssec_secagree_policy g_policy;
static const imssec_secagree_pair *g_ue_pairs; /* what the UE runs (7.2) */
static size_t g_ue_n;

static int glue_init(void)
{
    net_init();
    g_ue_pairs = g_pairs;
    g_ue_n = G_NPAIRS;
    memset(&g_offer, 0, sizeof g_offer);
    g_offer.pairs = g_pairs;
    g_offer.n_pairs = G_NPAIRS;
    memset(&g_policy, 0, sizeof g_policy);
    g_policy.pairs = g_pairs;
    g_policy.n_pairs = G_NPAIRS;
    g_policy.udp_encap = 1;
    return w_init(&W);
}

/* SM1 from the UE, through the P-CSCF. */
static int glue_sm1(reg *r)
{
    imssec_sa_ue_sm1 in;
    imssec_sa_pcscf_sm1 pin;
    char ip[IMSSEC_ADDR_TEXT_MAX];
    size_t il = 0;
    int rc;
    memset(&in, 0, sizeof in);
    in.ue_ip = W.ue_ip;
    in.offer = &g_offer;
    in.transport = W.transport;
    in.impi = T_S(g_impi, strlen(g_impi));
    in.realm = T_S(g_realm, strlen(g_realm));
    in.uri = T_S(g_uri, strlen(g_uri));
    r->ue1.security_client = r->sc;
    r->ue1.security_client_cap = sizeof r->sc;
    r->ue1.authorization = r->authz0;
    r->ue1.authorization_cap = sizeof r->authz0;
    rc = imssec_sa_ue_register(&W.ue.t, W.ue.user, &in, &r->ue1, W.now, NULL);
    if (rc != IMSSEC_OK)
        return rc;
    r->sc_len = r->ue1.security_client_len;
    r->authz0_len = r->ue1.authorization_len;
    /* TS 24.229 5.1.1.2: the Via sent-by carries port_us */
    (void)imssec_addr_format(&W.ue_ip, 1, ip, sizeof ip, &il);
    r->via_len = (size_t)snprintf(r->via, sizeof r->via, "SIP/2.0/UDP %.*s:%u;branch=z9hG4bK77",
                                  (int)il, ip, (unsigned)r->ue1.port_us);
    if (w_carry(&W.ue, &W.pc, r->ue1.protect_with, &r->pc_sm1_in) != 0)
        return -1000;
    memset(&pin, 0, sizeof pin);
    pin.security_client = T_S(r->sc, r->sc_len);
    pin.via = T_S(r->via, r->via_len);
    pin.src = W.ue_ip;
    pin.arrived_on = r->pc_sm1_in;
    pin.transport = W.transport;
    pin.policy = &g_policy;
    return imssec_sa_pcscf_register(&W.pc.t, W.pc.user, &pin, &r->pc1, W.now, NULL);
}

/* SM4 -> SM6 at the P-CSCF, then SM6 at the UE (the AKA runs there). */
static int glue_sm6(reg *r, int tamper_autn)
{
    imssec_sa_pcscf_401 pin;
    imssec_sa_ue_401 uin;
    int rc;
    if ((rc = scscf_401(r->www_s, sizeof r->www_s, &r->www_s_len, tamper_autn)) != IMSSEC_OK)
        return rc;
    memset(&pin, 0, sizeof pin);
    pin.www_authenticate = T_S(r->www_s, r->www_s_len);
    pin.policy = &g_policy;
    pin.pcscf_ip = W.pc_ip;
    pin.transport = W.transport;
    r->pc401.www_authenticate = r->www_ue;
    r->pc401.www_authenticate_cap = sizeof r->www_ue;
    r->pc401.security_server = r->ss;
    r->pc401.security_server_cap = sizeof r->ss;
    if ((rc = imssec_sa_pcscf_challenge(&W.pc.t, W.pc.user, &pin, &r->pc401, W.now, NULL)) !=
        IMSSEC_OK)
        return rc;
    r->www_ue_len = r->pc401.www_authenticate_len;
    r->ss_len = r->pc401.security_server_len;
    if (w_carry(&W.pc, &W.ue, r->pc401.protect_with, &r->ue_sm6_in) != 0)
        return -1000;
    memset(&uin, 0, sizeof uin);
    uin.www_authenticate = T_S(r->www_ue, r->www_ue_len);
    uin.security_server = T_S(r->ss, r->ss_len);
    uin.via = T_S(r->via401, r->via401_len);
    uin.arrived_on = r->ue_sm6_in;
    uin.transport = W.transport;
    uin.aka = &N.usim;
    uin.username = T_S(g_impi, strlen(g_impi));
    uin.uri = T_S(g_uri, strlen(g_uri));
    uin.cnonce = T_S("0a4f113b", 8);
    uin.nc = 1;
    uin.supported = g_ue_pairs;
    uin.n_supported = g_ue_n;
    uin.udp_encap = 1;
    uin.ue_ip = W.ue_ip;
    uin.pcscf_ip = W.pc_ip;
    r->ue401.authorization = r->authz;
    r->ue401.authorization_cap = sizeof r->authz;
    r->ue401.security_verify = r->sv;
    r->ue401.security_verify_cap = sizeof r->sv;
    r->ue_rc = imssec_sa_ue_challenge(&W.ue.t, W.ue.user, &uin, &r->ue401, W.now, NULL);
    r->authz_len = r->ue401.authorization_len;
    r->sv_len = r->ue401.security_verify_len;
    return r->ue_rc;
}

/* SM7 (or the failure REGISTER) at the P-CSCF, with what the UE sent. */
static int glue_sm7(reg *r, imssec_errinfo *err)
{
    imssec_sa_pcscf_sm7 in;
    if (w_carry(&W.ue, &W.pc, r->ue401.protect_with, &r->pc_sm7_in) != 0)
        return -1000;
    memset(&in, 0, sizeof in);
    in.authorization = T_S(r->authz, r->authz_len);
    in.security_verify = T_S(r->sv, r->sv_len);
    in.security_client = T_S(r->sc, r->sc_len);
    in.sm1_security_client = T_S(r->sc, r->sc_len);
    in.via = T_S(r->via, r->via_len);
    in.src = W.ue_ip;
    in.arrived_on = r->pc_sm7_in;
    in.transport = W.transport;
    in.policy = &g_policy;
    return imssec_sa_pcscf_auth(&W.pc.t, W.pc.user, &in, &r->integrity, W.now, err);
}

/* SM1..SM12 through the glue; SM8..SM11 are the S-CSCF's check above. */
static int glue_register(reg *r)
{
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = glue_sm1(r)) != IMSSEC_OK || (rc = glue_sm6(r, 0)) != IMSSEC_OK ||
        (rc = glue_sm7(r, NULL)) != IMSSEC_OK)
        return rc;
    if ((rc = scscf_verify(r->authz, r->authz_len)) != IMSSEC_OK)
        return rc;
    return w_sm12(&W, &(w_flow){0});
}

/* Add 1 to the number after the first `name` in buf (a tampered header). */
static int bump_param(char *buf, size_t *len, const char *name)
{
    char tmp[1024], *p = strstr(buf, name), *end;
    unsigned long v;
    if (!p)
        return -1;
    v = strtoul(p + strlen(name), &end, 10);
    *len = (size_t)snprintf(tmp, sizeof tmp, "%.*s%s%lu%s", (int)(p - buf), buf, name, v + 1, end);
    memcpy(buf, tmp, *len + 1);
    return 0;
}

static int contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

/* 7.2 and 6.1.1 through the five calls: the S-CSCF accepts the response,
 * both ends hold four SAs keyed from the vector's IK, the headers carry
 * the SA values of 7.1. */
T_TEST(sa_7_2_glue_initial_registration)
{
    reg r;
    imssec_secagree_mech m[4];
    imssec_sa_info ui, pi;
    size_t n = 0;
    T_OK(glue_init());
    T_OK(glue_register(&r));
    T_EQ_INT(imssec_sa_state(&W.ue.t, W.ue.user), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_ACTIVE);
    T_EQ_INT(N.usim_calls, 1);
    T_EQ_INT(r.integrity, 1);
    /* the initial Authorization of TS 24.229 5.1.1.2.1 */
    T_ASSERT(contains(r.authz0, r.authz0_len, "username=\"alice@ims.example.net\""));
    T_ASSERT(contains(r.authz0, r.authz0_len, "response=\"\""));
    /* the chosen pair is the first of the policy the UE offered */
    T_EQ_INT(r.pc1.choice.alg, IMSSEC_ALG_HMAC_SHA1_96);
    T_EQ_INT(r.pc1.choice.ealg, IMSSEC_EALG_AES_CBC);
    T_EQ_INT(r.pc1.choice.mode, IMSSEC_MODE_TRANS);
    T_EQ_INT(r.pc1.nat, 0);
    /* 6.1.1: the keys never reach the UE; the rest of the value is kept */
    T_ASSERT(!contains(r.www_ue, r.www_ue_len, "ck=") && !contains(r.www_ue, r.www_ue_len, "ik="));
    T_ASSERT(contains(r.www_ue, r.www_ue_len, N.nonce));
    /* Security-Server: the P-CSCF's SPIs and ports of the SAs it made */
    T_OK(imssec_secagree_parse(T_S(r.ss, r.ss_len), m, 4, &n, NULL));
    T_EQ_UINT(n, G_NPAIRS); /* every policy pair (7.2 NOTE: no bidding down) */
    T_OK(imssec_sa_get(&W.pc.t, r.pc_sm7_in, &pi));
    T_EQ_INT(pi.which, IMSSEC_SA_UC_PS);
    T_EQ_UINT(m[0].spi_s, pi.spi);
    T_EQ_UINT(m[0].port_s, pi.dport);
    /* Security-Verify echoes the Security-Server */
    T_OK(imssec_secagree_check(T_S(r.ss, r.ss_len), T_S(r.sv, r.sv_len), NULL));
    /* Annex I: IK_ESP for HMAC-SHA-1-96 starts with IK_IM, both ends */
    T_OK(imssec_sa_get(&W.ue.t, r.ue401.protect_with, &ui));
    T_EQ_UINT(ui.ik_len, 20);
    T_EQ_MEM(ui.ik, N.v.ik, 16);
    T_EQ_MEM(pi.ik, N.v.ik, 16);
    T_EQ_UINT(ui.ck_len, 16);
    T_EQ_MEM(ui.ck, N.v.ck, 16);
    T_ASSERT(w_consistent(&W));
}

/* 7.2: "the P-CSCF shall check whether the integrity and encryption
 * algorithms list, SPI_P and Port_P received in SM7 is identical with the
 * corresponding parameters sent in SM6 ... whether SPI_U and Port_U
 * received in SM7 are identical with those received in SM1": a changed
 * Security-Verify or Security-Client is E_SECAGREE_MISMATCH, nothing
 * changed; the right ones then pass. */
T_TEST(sa_7_2_glue_sm7_verify_and_client_must_match)
{
    reg r;
    imssec_errinfo e;
    char keep[512];
    size_t keep_len;
    T_OK(glue_init());
    memset(&r, 0, sizeof r);
    T_OK(glue_sm1(&r));
    T_OK(glue_sm6(&r, 0));
    /* Security-Verify naming another SPI_P */
    memcpy(keep, r.sv, r.sv_len + 1);
    keep_len = r.sv_len;
    T_OK(bump_param(r.sv, &r.sv_len, "spi-s="));
    memset(&e, 0, sizeof e);
    T_EQ_INT(glue_sm7(&r, &e), IMSSEC_E_SECAGREE_MISMATCH);
    T_ASSERT(e.clause && strstr(e.clause, "7.2"));
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_AUTH_UNPROT);
    memcpy(r.sv, keep, keep_len + 1);
    r.sv_len = keep_len;
    /* Security-Client of SM7 with another spi-c than SM1's */
    {
        char sc2[1024];
        size_t l2 = r.sc_len;
        imssec_sa_pcscf_sm7 in;
        int ip = 0;
        memcpy(sc2, r.sc, r.sc_len + 1);
        T_OK(bump_param(sc2, &l2, "spi-c="));
        T_OK(w_carry(&W.ue, &W.pc, r.ue401.protect_with, &r.pc_sm7_in));
        memset(&in, 0, sizeof in);
        in.authorization = T_S(r.authz, r.authz_len);
        in.security_verify = T_S(r.sv, r.sv_len);
        in.security_client = T_S(sc2, l2);
        in.sm1_security_client = T_S(r.sc, r.sc_len);
        in.via = T_S(r.via, r.via_len);
        in.src = W.ue_ip;
        in.arrived_on = r.pc_sm7_in;
        in.policy = &g_policy;
        memset(&e, 0, sizeof e);
        T_EQ_INT(imssec_sa_pcscf_auth(&W.pc.t, W.pc.user, &in, &ip, W.now, &e),
                 IMSSEC_E_SECAGREE_MISMATCH);
        T_ASSERT(e.clause && strstr(e.clause, "Annex H"));
        T_EQ_INT(ip, 0);
    }
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_AUTH_UNPROT);
    T_OK(glue_sm7(&r, NULL));
    T_EQ_INT(r.integrity, 1);
}

/* 7.3.1.3 / 6.1.3: the USIM's SQN is ahead: the UE's answer carries auts=
 * (the HN resynchronises from it), the P-CSCF reads it as the failure
 * REGISTER and deletes its new SAs; the UE still holds none in use. */
T_TEST(sa_7_3_1_3_glue_sync_failure)
{
    reg r;
    imssec_digest_credentials cr;
    uint8_t auts[14];
    size_t al = 0;
    uint64_t ms = 0;
    T_OK(glue_init());
    T_OK(imssec_aka_sqn_record(&N.ue_sqn, 0x10000)); /* USIM ahead of the HN */
    memset(&r, 0, sizeof r);
    T_OK(glue_sm1(&r));
    T_EQ_INT(glue_sm6(&r, 0), IMSSEC_E_SYNC_FAILURE);
    T_EQ_UINT(r.ue401.protect_with, 0); /* SM1 was unprotected */
    T_OK(imssec_digest_credentials_parse(T_S(r.authz, r.authz_len), &cr, NULL));
    T_ASSERT(cr.auts.p != NULL);
    T_OK(imssec_base64_decode(cr.auts, auts, sizeof auts, &al));
    T_EQ_UINT(al, 14);
    T_OK(imssec_aka_auts_verify(&N.m, N.v.rand, auts, &ms));
    T_EQ_UINT(ms, 0x10000);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 4);
    T_OK(glue_sm7(&r, NULL));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 0);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_REG_UNPROT);
}

/* 7.3.1.2 / 6.1.2.2: a forged AUTN: MAC failure, the REGISTER carries an
 * empty response; the P-CSCF deletes its new SAs; the UE made none. */
T_TEST(sa_7_3_1_2_glue_network_auth_failure)
{
    reg r;
    T_OK(glue_init());
    memset(&r, 0, sizeof r);
    T_OK(glue_sm1(&r));
    T_EQ_INT(glue_sm6(&r, 1), IMSSEC_E_MAC_FAILURE);
    T_ASSERT(contains(r.authz, r.authz_len, "response=\"\""));
    T_ASSERT(!contains(r.authz, r.authz_len, "auts="));
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 0);
    T_OK(glue_sm7(&r, NULL));
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 0);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_REG_UNPROT);
}

/* 7.3.2.1: a Security-Client with nothing the policy accepts: 494, the
 * table unchanged. */
T_TEST(sa_7_3_2_1_glue_unacceptable_offer_494)
{
    static const char sc[] = "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=ah;mod=trans;"
                             "spi-c=1111;spi-s=2222;port-c=5062;port-s=5064";
    imssec_sa_pcscf_sm1 in;
    imssec_sa_pcscf_sm1_out o;
    imssec_errinfo e;
    T_OK(glue_init());
    memset(&in, 0, sizeof in);
    in.security_client = T_S(sc, sizeof sc - 1);
    in.via = T_S("SIP/2.0/UDP 10.0.0.7:5064;branch=z9hG4bK1", 41);
    in.src = W.ue_ip;
    in.policy = &g_policy;
    memset(&e, 0, sizeof e);
    T_EQ_INT(imssec_sa_pcscf_register(&W.pc.t, W.pc.user, &in, &o, W.now, &e),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(o.sip_status, 494);
    T_ASSERT(e.clause && strstr(e.clause, "7.3.2.1"));
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_IDLE);
}

/* 7.3.2.2: nothing in the Security-Server the UE runs: the registration is
 * abandoned before the challenge is used (the USIM is not asked). */
T_TEST(sa_7_3_2_2_glue_ue_abandons_before_aka)
{
    static const imssec_secagree_pair gcm_only[] = {{IMSSEC_ALG_NULL, IMSSEC_EALG_AES_GCM}};
    reg r;
    T_OK(glue_init());
    memset(&r, 0, sizeof r);
    T_OK(glue_sm1(&r));
    g_ue_pairs = gcm_only; /* the UE cannot run what the P-CSCF lists */
    g_ue_n = 1;
    T_EQ_INT(glue_sm6(&r, 0), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(N.usim_calls, 0);
    T_EQ_INT(imssec_sa_state(&W.ue.t, W.ue.user), IMSSEC_SA_ST_IDLE);
    T_EQ_UINT(imssec_sa_count(&W.ue.t, W.ue.user), 0);
}

/* Short buffers: E_SPACE with the sizes needed and nothing changed, then
 * the same call with those sizes succeeds. */
T_TEST(sa_glue_short_buffers_change_nothing)
{
    reg r;
    imssec_sa_pcscf_401 pin;
    imssec_sa_ue_sm1 in;
    imssec_sa_ue_sm1_out o;
    char small[8];
    T_OK(glue_init());
    memset(&in, 0, sizeof in);
    in.ue_ip = W.ue_ip;
    in.offer = &g_offer;
    memset(&o, 0, sizeof o);
    o.security_client = small;
    o.security_client_cap = sizeof small;
    T_EQ_INT(imssec_sa_ue_register(&W.ue.t, W.ue.user, &in, &o, W.now, NULL), IMSSEC_E_SPACE);
    T_ASSERT(o.security_client_len > 100 * G_NPAIRS); /* each entry is over 100 bytes */
    T_EQ_INT(imssec_sa_state(&W.ue.t, W.ue.user), IMSSEC_SA_ST_IDLE);
    memset(&r, 0, sizeof r);
    T_OK(glue_sm1(&r));
    T_OK(scscf_401(r.www_s, sizeof r.www_s, &r.www_s_len, 0));
    memset(&pin, 0, sizeof pin);
    pin.www_authenticate = T_S(r.www_s, r.www_s_len);
    pin.policy = &g_policy;
    pin.pcscf_ip = W.pc_ip;
    r.pc401.www_authenticate = r.www_ue;
    r.pc401.www_authenticate_cap = sizeof r.www_ue;
    r.pc401.security_server = small;
    r.pc401.security_server_cap = sizeof small;
    T_EQ_INT(imssec_sa_pcscf_challenge(&W.pc.t, W.pc.user, &pin, &r.pc401, W.now, NULL),
             IMSSEC_E_SPACE);
    T_EQ_UINT(r.pc401.www_authenticate_len, r.www_s_len - 2 * strlen(",ck=\"\"") - 64);
    T_EQ_UINT(imssec_sa_count(&W.pc.t, W.pc.user), 0);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_REG_UNPROT);
}

/* M.7.2: SM1 from behind a NAT (source differs from the Via): UDP-enc-tun
 * is chosen, the Security-Server says so, the UE (told by `received` in
 * the 401's Via) selects it, and the SAs are UDP-enc-tun at both ends. */
T_TEST(sa_M_7_2_glue_nat_detected)
{
    reg r;
    imssec_sa_info i;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(glue_init());
    g_offer.modes = g_modes_nat;
    g_offer.n_modes = 2;
    /* the Via keeps the private address; the source is the NAT's */
    memset(&r, 0, sizeof r);
    {
        imssec_sa_ue_sm1 in;
        imssec_sa_pcscf_sm1 pin;
        memset(&in, 0, sizeof in);
        in.ue_ip = W.ue_ip; /* the public address (M.7.1) */
        in.offer = &g_offer;
        r.ue1.security_client = r.sc;
        r.ue1.security_client_cap = sizeof r.sc;
        T_OK(imssec_sa_ue_register(&W.ue.t, W.ue.user, &in, &r.ue1, W.now, NULL));
        r.sc_len = r.ue1.security_client_len;
        r.via_len = (size_t)snprintf(r.via, sizeof r.via, "SIP/2.0/UDP 192.168.1.20:%u;branch=z9",
                                     (unsigned)r.ue1.port_us);
        memset(&pin, 0, sizeof pin);
        pin.security_client = T_S(r.sc, r.sc_len);
        pin.via = T_S(r.via, r.via_len);
        pin.src = W.ue_ip;
        pin.policy = &g_policy;
        T_OK(imssec_sa_pcscf_register(&W.pc.t, W.pc.user, &pin, &r.pc1, W.now, NULL));
    }
    T_EQ_INT(r.pc1.nat, 1);
    T_EQ_INT(r.pc1.choice.mode, IMSSEC_MODE_UDP_ENC_TUN);
    r.via401_len = (size_t)snprintf(r.via401, sizeof r.via401, "%s;received=10.0.0.7", r.via);
    T_OK(glue_sm6(&r, 0));
    T_ASSERT(contains(r.ss, r.ss_len, "mod=UDP-enc-tun"));
    T_EQ_INT(r.ue401.choice.mode, IMSSEC_MODE_UDP_ENC_TUN);
    T_OK(imssec_sa_get(&W.ue.t, r.ue401.protect_with, &i));
    T_EQ_INT(i.mode, IMSSEC_MODE_UDP_ENC_TUN);
    T_OK(glue_sm7(&r, NULL));
    T_EQ_INT(r.integrity, 1);
}

/* TS 33.328 7.1.1 through the one-call steps: the UE's "e2ae-security
 * supported by UE" (sdes-srtp;mediasec in the Security-Client, TS 24.229
 * 7.2A.7), stored by the P-CSCF; its "... supported by network" in the
 * Security-Server only to a UE that indicated support; both ends store
 * the outcome; SM7's checks include the media mechanism. */
T_TEST(media_33328_7_1_1_e2ae_indications)
{
    int round;
    for (round = 0; round < 3; round++) {
        reg r;
        imssec_secagree_mech m[8];
        size_t n = 0;
        T_OK(glue_init());
        g_offer.e2ae = round != 1; /* round 1: the UE does not indicate */
        g_policy.e2ae = round != 2; /* round 2: the network does not */
        T_OK(glue_register(&r));
        T_OK(imssec_secagree_parse(T_S(r.sc, r.sc_len), m, 8, &n, NULL));
        T_EQ_INT(imssec_secagree_e2ae(m, n), round != 1);
        T_OK(imssec_secagree_parse(T_S(r.ss, r.ss_len), m, 8, &n, NULL));
        T_EQ_INT(imssec_secagree_e2ae(m, n), round == 0);
        T_EQ_INT(imssec_sa_e2ae(&W.ue.t, W.ue.user), round == 0);
        T_EQ_INT(imssec_sa_e2ae(&W.pc.t, W.pc.user), round == 0);
    }
}

/* TS 33.328 6.2.1.2 ("SDES ... shall only be sent over a SIP hop that is
 * confidentiality protected"): imssec_sa_confidential() says 1 for the SAs
 * a registration with an encryption algorithm made, 0 when the network's
 * policy chose NULL encryption, and 0 for a stale ref. */
T_TEST(media_33328_6_2_1_2_sa_confidential_follows_the_chosen_ealg)
{
    static const imssec_secagree_pair null_only[] = {{IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL}};
    int round;
    for (round = 0; round < 2; round++) {
        reg r;
        T_OK(glue_init());
        if (round == 1) {
            g_policy.pairs = null_only;
            g_policy.n_pairs = 1;
        }
        T_OK(glue_register(&r));
        T_EQ_INT(r.ue401.choice.ealg, round == 0 ? IMSSEC_EALG_AES_CBC : IMSSEC_EALG_NULL);
        T_EQ_INT(imssec_sa_confidential(&W.ue.t, r.ue401.protect_with), round == 0);
        T_EQ_INT(imssec_sa_confidential(&W.pc.t, r.pc_sm7_in), round == 0);
        T_EQ_INT(imssec_sa_confidential(&W.ue.t, 0), 0);
        T_EQ_INT(imssec_sa_confidential(NULL, r.ue401.protect_with), 0);
    }
}

/* M.7.2 / M.7.4.2a: once registered behind a NAT the UE's Via carries its
 * public address ("In the Via and Contact header the UE shall use its
 * public IP address"), so a protected re-registration shows no NAT by Via
 * and source; it arrived on UDP-enc-tun SAs, so the new SAs are
 * UDP-enc-tun again (the 0.2 draft chose trans and its own CHALLENGE then
 * refused it: found by the examples). */
T_TEST(sa_M_7_4_2a_glue_nat_reregistration_keeps_udp_enc_tun)
{
    reg r;
    imssec_sa_info i;
    int round;
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP 0)");
    T_OK(glue_init());
    g_offer.modes = g_modes_nat;
    g_offer.n_modes = 2;
    for (round = 0; round < 2; round++) {
        imssec_sa_ue_sm1 in;
        imssec_sa_pcscf_sm1 pin;
        memset(&r, 0, sizeof r);
        memset(&in, 0, sizeof in);
        in.ue_ip = W.ue_ip;
        in.offer = &g_offer;
        r.ue1.security_client = r.sc;
        r.ue1.security_client_cap = sizeof r.sc;
        T_OK(imssec_sa_ue_register(&W.ue.t, W.ue.user, &in, &r.ue1, W.now, NULL));
        r.sc_len = r.ue1.security_client_len;
        /* round 0: the private address (NAT seen); round 1: the public one */
        r.via_len = (size_t)snprintf(r.via, sizeof r.via, "SIP/2.0/UDP %s:%u;branch=z9%d",
                                     round ? "10.0.0.7" : "192.168.1.20",
                                     (unsigned)r.ue1.port_us, round);
        T_OK(w_carry(&W.ue, &W.pc, r.ue1.protect_with, &r.pc_sm1_in));
        memset(&pin, 0, sizeof pin);
        pin.security_client = T_S(r.sc, r.sc_len);
        pin.via = T_S(r.via, r.via_len);
        pin.src = W.ue_ip;
        pin.arrived_on = r.pc_sm1_in;
        pin.policy = &g_policy;
        T_OK(imssec_sa_pcscf_register(&W.pc.t, W.pc.user, &pin, &r.pc1, W.now, NULL));
        T_EQ_INT(r.pc1.nat, 1);
        T_EQ_INT(r.pc1.choice.mode, IMSSEC_MODE_UDP_ENC_TUN);
        r.via401_len = (size_t)snprintf(r.via401, sizeof r.via401, "%s;received=10.0.0.7", r.via);
        T_OK(glue_sm6(&r, 0));
        T_OK(imssec_sa_get(&W.ue.t, r.ue401.protect_with, &i));
        T_EQ_INT(i.mode, IMSSEC_MODE_UDP_ENC_TUN);
        T_OK(glue_sm7(&r, NULL));
        T_OK(w_sm12(&W, &(w_flow){0}));
        T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_ACTIVE);
    }
}

/* The values SM6's Security-Server carries come back as numbers too; the
 * reverse SA pairs each SA with the one between the same ports the other
 * way (a TCP connection's two directions, 7.1 TCP case); the
 * de-registration's one-call step applies 7.1 rule 2 to its Via. */
T_TEST(sa_7_1_glue_values_reverse_and_deregister)
{
    reg r;
    imssec_secagree_mech m[4];
    imssec_sa_info a, b;
    imssec_sa_ev_out o;
    imssec_sa_ref in, rev;
    size_t n = 0;
    T_OK(glue_init());
    T_OK(glue_register(&r));
    T_OK(imssec_secagree_parse(T_S(r.ss, r.ss_len), m, 4, &n, NULL));
    T_EQ_UINT(r.pc401.spi_pc, m[0].spi_c);
    T_EQ_UINT(r.pc401.spi_ps, m[0].spi_s);
    T_EQ_UINT(r.pc401.port_pc, m[0].port_c);
    T_EQ_UINT(r.pc401.port_ps, m[0].port_s);
    /* UC_PS <-> PS_UC: the same two ports, swapped */
    T_OK(imssec_sa_reverse(&W.pc.t, r.pc_sm7_in, &rev));
    T_OK(imssec_sa_get(&W.pc.t, r.pc_sm7_in, &a));
    T_OK(imssec_sa_get(&W.pc.t, rev, &b));
    T_EQ_INT(a.which, IMSSEC_SA_UC_PS);
    T_EQ_INT(b.which, IMSSEC_SA_PS_UC);
    T_EQ_UINT(a.sport, b.dport);
    T_EQ_UINT(a.dport, b.sport);
    T_OK(imssec_sa_reverse(&W.pc.t, rev, &rev));
    T_EQ_UINT(rev, r.pc_sm7_in);
    T_EQ_INT(imssec_sa_reverse(&W.pc.t, 0, &rev), IMSSEC_E_NOT_FOUND);
    /* de-registration: a Via naming another address is refused (rule 2) */
    T_OK(imssec_sa_event(&W.ue.t, W.ue.user, IMSSEC_SA_EV_DEREG_SEND, NULL, &o, W.now, NULL));
    T_OK(w_carry(&W.ue, &W.pc, o.protect_with, &in));
    T_EQ_INT(imssec_sa_pcscf_deregister(&W.pc.t, W.pc.user,
                                        T_S("SIP/2.0/UDP 10.0.0.99:5064;branch=z9", 36), &W.ue_ip,
                                        in, IMSSEC_TRANSPORT_UDP, W.now, NULL),
             IMSSEC_E_SA_RULE2);
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_ACTIVE);
    T_OK(imssec_sa_pcscf_deregister(&W.pc.t, W.pc.user, T_S(r.via, r.via_len), &W.ue_ip, in,
                                    IMSSEC_TRANSPORT_UDP, W.now, NULL));
    T_EQ_INT(imssec_sa_state(&W.pc.t, W.pc.user), IMSSEC_SA_ST_DEREG);
}

/* Annex H item 1: "the server shall store the Security-Client header
 * received in SM1" -- the table keeps its digest, so SM7 is checked with no
 * copy from the caller: the same mechanisms in another order and case
 * pass, a changed port-c does not. */
T_TEST(sa_annex_h_1_table_keeps_sm1_security_client)
{
    reg r;
    imssec_sa_pcscf_sm7 in;
    imssec_secagree_mech m[8];
    char re[1024], up[1024];
    size_t n = 0, rl = 0, i;
    int ip = 0;
    T_OK(glue_init());
    memset(&r, 0, sizeof r);
    T_OK(glue_sm1(&r));
    T_OK(glue_sm6(&r, 0));
    T_OK(w_carry(&W.ue, &W.pc, r.ue401.protect_with, &r.pc_sm7_in));
    /* SM7's Security-Client: SM1's mechanisms in reverse order, upper case */
    T_OK(imssec_secagree_parse(T_S(r.sc, r.sc_len), m, 8, &n, NULL));
    T_ASSERT(n >= 2);
    for (i = 0; i < n / 2; i++) {
        imssec_secagree_mech x = m[i];
        m[i] = m[n - 1 - i];
        m[n - 1 - i] = x;
    }
    T_OK(imssec_secagree_build(m, n, re, sizeof re, &rl, NULL));
    for (i = 0; i < rl; i++)
        up[i] = (char)((re[i] >= 'a' && re[i] <= 'z') ? re[i] - 32 : re[i]);
    memset(&in, 0, sizeof in);
    in.authorization = T_S(r.authz, r.authz_len);
    in.security_verify = T_S(r.sv, r.sv_len);
    in.via = T_S(r.via, r.via_len);
    in.src = W.ue_ip;
    in.arrived_on = r.pc_sm7_in;
    in.policy = &g_policy;
    /* a changed value: refused (no SM1 copy given) */
    {
        char bad[1024];
        size_t bl;
        memcpy(bad, r.sc, r.sc_len + 1);
        bl = r.sc_len;
        T_OK(bump_param(bad, &bl, "port-c="));
        in.security_client = T_S(bad, bl);
        T_EQ_INT(imssec_sa_pcscf_auth(&W.pc.t, W.pc.user, &in, &ip, W.now, NULL),
                 IMSSEC_E_SECAGREE_MISMATCH);
    }
    in.security_client = T_S(up, rl);
    T_OK(imssec_sa_pcscf_auth(&W.pc.t, W.pc.user, &in, &ip, W.now, NULL));
    T_EQ_INT(ip, 1);
}
