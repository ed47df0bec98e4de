/*
 * fuzz_sa_register.c -- the one-call registration steps under hostile
 * header text.  One input is a registration between a UE table and a
 * P-CSCF table (SM1, the S-CSCF's 401, SM6, SM7, as imssec_sa_ue_register /
 * _pcscf_register / _pcscf_challenge / _ue_challenge / _pcscf_auth run it);
 * the first byte says which header values the fuzzer replaces, and the
 * rest, split at NUL bytes, are those values:
 *
 *   bit 0  SM1 Security-Client at the P-CSCF     bit 4  401 Security-Server at the UE
 *   bit 1  SM1 Via                               bit 5  401 Via at the UE
 *   bit 2  the S-CSCF's WWW-Authenticate         bit 6  SM7 Authorization
 *   bit 3  401 WWW-Authenticate at the UE        bit 7  SM7 Security-Verify and -Client
 *
 * Everything not replaced is the genuine value of the previous step, so
 * the fuzzer reaches the deep states.  After every call both tables keep
 * their invariants (imssec_sa_table_check); a call that fails leaves its
 * table byte for byte unchanged -- except the UE's answer once the AKA ran
 * (sync / MAC failure and the rejection by 7.3.2.2 are steps of the flow).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

#define FZ_FIELDS 9

static int fz_random(void *user, uint8_t *out, size_t len)
{
    uint64_t *s = (uint64_t *)user;
    size_t i;
    for (i = 0; i < len; i++) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        out[i] = (uint8_t)(*s >> 24);
    }
    return 0;
}

static int fz_install(void *user, const imssec_sa_info *sa, uint64_t *h, imssec_errinfo *err)
{
    (void)user;
    (void)err;
    *h = sa->spi;
    return 0;
}

static int fz_other(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    (void)user;
    (void)sa;
    (void)err;
    return 0;
}

typedef struct fz_side {
    imssec_sa_table t;
    uint64_t mem[8192 / 8];
    uint32_t user;
} fz_side;

static fz_side ue, pc;
static uint64_t mem_copy[8192 / 8];
static imssec_sa_table t_copy;

static void fz_save(const fz_side *s)
{
    memcpy(mem_copy, s->mem, sizeof mem_copy);
    t_copy = s->t;
}

static void fz_same(const fz_side *s)
{
    if (memcmp(mem_copy, s->mem, sizeof mem_copy) != 0 || memcmp(&t_copy, &s->t, sizeof t_copy))
        abort(); /* refused, yet something changed */
}

static void fz_check(void)
{
    if (imssec_sa_table_check(&ue.t) != IMSSEC_OK || imssec_sa_table_check(&pc.t) != IMSSEC_OK)
        abort();
}

static int fz_aka(void *user, const uint8_t rand[16], const uint8_t autn[16],
                  imssec_aka_result *out)
{
    return imssec_aka_ue_check((const imssec_milenage *)user, NULL, 0, rand, autn, out);
}

static void fz_setup(int role, fz_side *s, const imssec_sa_callbacks *cb, const imssec_io *io)
{
    imssec_sa_config cfg;
    imssec_sa_config_init(&cfg, role);
    if (imssec_sa_table_setup(&s->t, &cfg, cb, io, 1, 4, s->mem, sizeof s->mem, NULL) ||
        imssec_sa_user_lookup(&s->t, imssec_cstr("alice@ims.example.net"), 1, &s->user))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* what the build runs (the reduced configurations too) */
    static const imssec_secagree_pair pairs[] = {
        {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC},
        {IMSSEC_ENABLE_HMAC_MD5 ? IMSSEC_ALG_HMAC_MD5_96 : IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
    };
    static const int modes[] = {IMSSEC_MODE_TRANS, IMSSEC_MODE_UDP_ENC_TUN};
    const size_t n_modes = IMSSEC_ENABLE_UDPENCAP ? 2 : 1;
    static const uint8_t amf[2] = {0x80, 0x00}, rnd[16] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    static char sc[2048], authz0[256], www_s[512], www_ue[512], ss[1024], authz[512], sv[1024],
        nonce[128], chal[400];
    imssec_str f[FZ_FIELDS];
    imssec_sa_callbacks cb;
    imssec_io io;
    imssec_milenage m;
    imssec_aka_provider prov;
    imssec_aka_vector v;
    imssec_secagree_offer offer;
    imssec_secagree_policy pol;
    imssec_sa_ue_sm1 u1;
    imssec_sa_ue_sm1_out u1o;
    imssec_sa_pcscf_sm1 p1;
    imssec_sa_pcscf_sm1_out p1o;
    imssec_sa_pcscf_401 p4;
    imssec_sa_pcscf_401_out p4o;
    imssec_sa_ue_401 u4;
    imssec_sa_ue_401_out u4o;
    imssec_sa_pcscf_sm7 p7;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    uint8_t k[16], op[16];
    size_t nf = 0, i, start, nl = 0, cl = 0, wl = 0;
    unsigned flags;
    int rc, ip;

    if (size == 0)
        return 0;
    flags = data[0];
    memset(f, 0, sizeof f);
    for (start = i = 1; i <= size && nf < FZ_FIELDS; i++) {
        if (i == size || data[i] == 0) {
            f[nf].p = (const char *)data + start;
            f[nf].n = i - start;
            nf++;
            start = i + 1;
        }
    }

    memset(&io, 0, sizeof io);
    io.user = &rng;
    io.random = fz_random;
    memset(&cb, 0, sizeof cb);
    cb.install = fz_install;
    cb.remove = fz_other;
    cb.update = fz_other;
    fz_setup(IMSSEC_SA_ROLE_UE, &ue, &cb, &io);
    fz_setup(IMSSEC_SA_ROLE_PCSCF, &pc, &cb, &io);
    memset(k, 0x46, 16);
    memset(op, 0xcd, 16);
    imssec_milenage_init_op(&m, k, op);
    prov.authenticate = fz_aka;
    prov.user = &m;
    memset(&offer, 0, sizeof offer);
    offer.pairs = pairs;
    offer.n_pairs = 2;
    offer.modes = modes;
    offer.n_modes = n_modes;
    offer.allow_no_encryption = 1;
    memset(&pol, 0, sizeof pol);
    pol.pairs = pairs;
    pol.n_pairs = 2;
    pol.udp_encap = IMSSEC_ENABLE_UDPENCAP;

    /* SM1 at the UE (genuine) */
    memset(&u1, 0, sizeof u1);
    u1.ue_ip.len = 4;
    u1.ue_ip.b[0] = 10;
    u1.ue_ip.b[3] = 7;
    u1.offer = &offer;
    memset(&u1o, 0, sizeof u1o);
    u1o.security_client = sc;
    u1o.security_client_cap = sizeof sc;
    u1o.authorization = authz0;
    u1o.authorization_cap = sizeof authz0;
    if (imssec_sa_ue_register(&ue.t, ue.user, &u1, &u1o, 1000, NULL) != IMSSEC_OK)
        abort();
    fz_check();

    /* SM1 at the P-CSCF */
    memset(&p1, 0, sizeof p1);
    p1.security_client = (flags & 0x01) ? f[0] : imssec_cstr(sc);
    p1.via = (flags & 0x02) ? f[1] : imssec_cstr("SIP/2.0/UDP 10.0.0.7:5064;branch=z9hG4bK1");
    p1.src = u1.ue_ip;
    p1.policy = &pol;
    fz_save(&pc);
    rc = imssec_sa_pcscf_register(&pc.t, pc.user, &p1, &p1o, 1000, NULL);
    fz_check();
    if (rc != IMSSEC_OK) {
        fz_same(&pc);
        return 0;
    }

    /* the S-CSCF's 401 */
    if (imssec_aka_vector_gen(&m, &io, rnd, 64, amf, &v) != IMSSEC_OK ||
        imssec_aka_nonce_encode(v.rand, v.autn, NULL, 0, 1, nonce, sizeof nonce, &nl) != IMSSEC_OK ||
        imssec_digest_challenge_build(IMSSEC_DIGEST_AKAV1_MD5, imssec_cstr("ims.example.net"),
                                      (imssec_str){nonce, nl}, (imssec_str){"", 0},
                                      IMSSEC_DIGEST_QOP_BIT(IMSSEC_DIGEST_QOP_AUTH), 0, 0, chal,
                                      sizeof chal, &cl) != IMSSEC_OK)
        abort();
    memcpy(www_s, chal, cl);
    memcpy(www_s + cl, ",ck=\"", 5);
    wl = cl + 5;
    for (i = 0; i < 16; i++) {
        static const char hx[] = "0123456789abcdef";
        www_s[wl++] = hx[v.ck[i] >> 4];
        www_s[wl++] = hx[v.ck[i] & 15];
    }
    memcpy(www_s + wl, "\",ik=\"", 6);
    wl += 6;
    for (i = 0; i < 16; i++) {
        static const char hx[] = "0123456789abcdef";
        www_s[wl++] = hx[v.ik[i] >> 4];
        www_s[wl++] = hx[v.ik[i] & 15];
    }
    www_s[wl++] = '"';
    memset(&p4, 0, sizeof p4);
    p4.www_authenticate = (flags & 0x04) ? f[2] : (imssec_str){www_s, wl};
    p4.policy = &pol;
    p4.pcscf_ip.len = 4;
    p4.pcscf_ip.b[0] = 192;
    p4.pcscf_ip.b[3] = 1;
    memset(&p4o, 0, sizeof p4o);
    p4o.www_authenticate = www_ue;
    p4o.www_authenticate_cap = sizeof www_ue;
    p4o.security_server = ss;
    p4o.security_server_cap = sizeof ss;
    fz_save(&pc);
    rc = imssec_sa_pcscf_challenge(&pc.t, pc.user, &p4, &p4o, 1000, NULL);
    fz_check();
    if (rc != IMSSEC_OK) {
        fz_same(&pc);
        return 0;
    }

    /* SM6 at the UE */
    memset(&u4, 0, sizeof u4);
    u4.www_authenticate = (flags & 0x08) ? f[3] : (imssec_str){www_ue, p4o.www_authenticate_len};
    u4.security_server = (flags & 0x10) ? f[4] : (imssec_str){ss, p4o.security_server_len};
    u4.via = (flags & 0x20) ? f[5] : (imssec_str){NULL, 0};
    u4.aka = &prov;
    u4.username = imssec_cstr("alice@ims.example.net");
    u4.uri = imssec_cstr("sip:ims.example.net");
    u4.cnonce = imssec_cstr("0a4f113b");
    u4.nc = 1;
    u4.supported = pairs;
    u4.n_supported = 2;
    u4.udp_encap = IMSSEC_ENABLE_UDPENCAP;
    u4.ue_ip = u1.ue_ip;
    u4.pcscf_ip = p4.pcscf_ip;
    memset(&u4o, 0, sizeof u4o);
    u4o.authorization = authz;
    u4o.authorization_cap = sizeof authz;
    u4o.security_verify = sv;
    u4o.security_verify_cap = sizeof sv;
    fz_save(&ue);
    rc = imssec_sa_ue_challenge(&ue.t, ue.user, &u4, &u4o, 1000, NULL);
    fz_check();
    if (rc != IMSSEC_OK && rc != IMSSEC_E_SYNC_FAILURE && rc != IMSSEC_E_MAC_FAILURE &&
        rc != IMSSEC_E_AMF) {
        if (rc != IMSSEC_E_SECAGREE_REJECT)
            fz_same(&ue);
        return 0;
    }

    /* SM7 (or the failure REGISTER) at the P-CSCF; the UE's SA is
     * recognised by the P-CSCF through the SPI it shares */
    memset(&p7, 0, sizeof p7);
    p7.authorization = (flags & 0x40) ? f[6] : (imssec_str){authz, u4o.authorization_len};
    p7.security_verify = (flags & 0x80) ? f[7] : (imssec_str){sv, u4o.security_verify_len};
    p7.security_client = (flags & 0x80) ? f[8] : imssec_cstr(sc);
    p7.sm1_security_client = imssec_cstr(sc);
    p7.via = p1.via;
    p7.src = u1.ue_ip;
    if (u4o.protect_with) {
        /* a replaced Security-Server gives the UE SPIs the P-CSCF does not
         * have: then SM7 arrives on no SA the P-CSCF knows */
        imssec_sa_info info;
        if (imssec_sa_get(&ue.t, u4o.protect_with, &info) != IMSSEC_OK)
            abort();
        if (imssec_sa_find_spi(&pc.t, info.spi, &p7.arrived_on) != IMSSEC_OK)
            p7.arrived_on = 0;
    }
    p7.policy = &pol;
    fz_save(&pc);
    rc = imssec_sa_pcscf_auth(&pc.t, pc.user, &p7, &ip, 1000, NULL);
    fz_check();
    if (rc != IMSSEC_OK)
        fz_same(&pc);
    return 0;
}
