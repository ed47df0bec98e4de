/*
 * secagree_7_2_negotiate.c -- the security-mode set-up rules of TS 33.203
 * v7.7.0 clause 7.2, 7.3.2 and Annex M (M.7.2, M.7.3.2.4) at the P-CSCF and
 * the UE, and the Annex H Security-Client / Security-Verify checks.  Test
 * names carry the clause.  Expected choices follow from the spec text
 * applied by hand to the inputs.
 */

#include "../../imssec.h"
#include "../t.h"

#define SHA IMSSEC_ALG_HMAC_SHA1_96

#define MD5 IMSSEC_ALG_HMAC_MD5_96

#define AES IMSSEC_EALG_AES_CBC

#define DES IMSSEC_EALG_DES_EDE3_CBC

#define NUL IMSSEC_EALG_NULL

/* The Chinese-network Security-Client of secagree-headers.txt: md5 and sha1
 * each with des-ede3-cbc, aes-cbc, null (entries 0..5 in that order). */
static const char sn_cmcc[] =
    "ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919; "
    "port-c=8034; port-s=8904,ipsec-3gpp; alg=hmac-md5-96; ealg=aes-cbc; spi-c=1028536224; "
    "spi-s=455113919; port-c=8034; port-s=8904,ipsec-3gpp; alg=hmac-md5-96; ealg=null; "
    "spi-c=1028536224; spi-s=455113919; port-c=8034; port-s=8904,ipsec-3gpp; "
    "alg=hmac-sha-1-96; ealg=des-ede3-cbc; spi-c=1028536224; spi-s=455113919; port-c=8034; "
    "port-s=8904,ipsec-3gpp; alg=hmac-sha-1-96; ealg=aes-cbc; spi-c=1028536224; "
    "spi-s=455113919; port-c=8034; port-s=8904,ipsec-3gpp; alg=hmac-sha-1-96; ealg=null; "
    "spi-c=1028536224; spi-s=455113919; port-c=8034; port-s=8904";

/* The tests run in every build configuration; the reduced one compiles
 * hmac-md5-96 and UDP encapsulation out (test/configs/cfg_minimal.h), and a
 * test whose scenario needs them says so. */
#define SN_NEED_MD5()                                                          \
    do {                                                                       \
        if (!IMSSEC_ENABLE_HMAC_MD5)                                           \
            T_SKIP("hmac-md5-96 compiled out (IMSSEC_ENABLE_HMAC_MD5=0)");     \
    } while (0)

#define SN_NEED_UDPENCAP()                                                     \
    do {                                                                       \
        if (!IMSSEC_ENABLE_UDPENCAP)                                           \
            T_SKIP("UDP encapsulation compiled out (IMSSEC_ENABLE_UDPENCAP=0)"); \
    } while (0)

static const imssec_secagree_pair sn_pol4[] = {{SHA, AES}, {SHA, NUL}, {MD5, AES}, {MD5, NUL}};

/* The P-CSCF's own values in its Security-Server (7.1: spi_pc, spi_ps,
 * port_pc, port_ps); all 0 gives a capability list. */
static uint32_t sn_spi_pc, sn_spi_ps;
static uint16_t sn_port_pc, sn_port_ps;

static void sn_policy(imssec_secagree_policy *p, const imssec_secagree_pair *pairs, size_t n, int conf)
{
    memset(p, 0, sizeof *p);
    p->pairs = pairs;
    p->n_pairs = n;
    p->confidentiality = conf;
    sn_spi_pc = 3333;
    sn_spi_ps = 4444;
    sn_port_pc = 5062;
    sn_port_ps = 5064;
}

/* The P-CSCF's two steps of 7.2: choose on SM1, build the Security-Server
 * for SM6 with its values spi_pc, spi_ps, port_pc, port_ps (parsed back
 * into s[] so that the tests can look at it). */
static int sn_negotiate_at(const imssec_secagree_mech *c, size_t nc,
                           const imssec_secagree_policy *pol, int nat, uint32_t spi_pc,
                           uint32_t spi_ps, uint16_t port_pc, uint16_t port_ps,
                           imssec_secagree_mech *s, size_t cap, size_t *ns,
                           imssec_secagree_choice *ch, imssec_errinfo *rej)
{
    static char text[4096];
    size_t len;
    imssec_secagree_choice tmp;
    int r = imssec_secagree_pcscf_choose(c, nc, pol, nat, &tmp, rej);
    if (r)
        return r;
    r = imssec_secagree_server_build(pol, nat, spi_pc, spi_ps, port_pc, port_ps, text,
                                     sizeof text, &len);
    if (r)
        return r;
    r = imssec_secagree_parse(T_S(text, len), s, cap, ns, NULL);
    if (r == IMSSEC_OK)
        *ch = tmp;
    return r;
}

/* ... with the values sn_policy() set (or a test changed) */
static int sn_negotiate(const imssec_secagree_mech *c, size_t nc, const imssec_secagree_policy *pol,
                        int nat, imssec_secagree_mech *s, size_t cap, size_t *ns,
                        imssec_secagree_choice *ch, imssec_errinfo *rej)
{
    return sn_negotiate_at(c, nc, pol, nat, sn_spi_pc, sn_spi_ps, sn_port_pc, sn_port_ps, s, cap,
                           ns, ch, rej);
}

/* ... with SPIs 1000/1001 and ports 5100/5101 (the pol_init() tests) */
static int sn_negotiate_fixed(const imssec_secagree_mech *c, size_t nc,
                              const imssec_secagree_policy *pol, int nat, imssec_secagree_mech *s,
                              size_t cap, size_t *ns, imssec_secagree_choice *ch,
                              imssec_errinfo *rej)
{
    return sn_negotiate_at(c, nc, pol, nat, 1000, 1001, 5100, 5101, s, cap, ns, ch, rej);
}

static int sn_parse(const char *s, imssec_secagree_mech *m, size_t cap, size_t *n)
{
    return imssec_secagree_parse(T_S(s, strlen(s)), m, cap, n, NULL);
}

static const imssec_secagree_pair pol_pairs[] = {
    {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC},
    {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
    {IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL},
};

/* The pairs of pol_pairs this build supports (hmac-md5-96 may be compiled
 * out: test/configs/cfg_minimal.h) and how many distinct algs they have:
 * the Security-Server list sizes with every pair and with NEVER. */
#define POL_N (IMSSEC_ENABLE_HMAC_MD5 ? 3u : 2u)

#define POL_NALG (IMSSEC_ENABLE_HMAC_MD5 ? 2u : 1u)

static void pol_init(imssec_secagree_policy *p)
{
    memset(p, 0, sizeof *p);
    p->pairs = pol_pairs;
    p->n_pairs = POL_N;
    p->confidentiality = IMSSEC_SECAGREE_CONF_SUPPORTED;
}

/* 7.2: "the P-CSCF selects the first algorithm combination on its own list
 * which is also supported by the UE". */
T_TEST(secagree_pcscf_7_2_first_policy_pair)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[8], s[8];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    char out[512];
    size_t ol;
    T_EQ_INT(sn_parse(sn_cmcc, c, 8, &nc), IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 8, &ns, &ch, &rej), IMSSEC_OK);
    T_EQ_UINT(ch.index, 4); /* sha1 + aes-cbc */
    T_EQ_INT(ch.alg, SHA);
    T_EQ_INT(ch.ealg, AES);
    T_EQ_INT(ch.mode, IMSSEC_MODE_TRANS);
    T_EQ_UINT(ch.spi_c, 1028536224u);
    T_EQ_UINT(ch.spi_s, 455113919u);
    T_EQ_UINT(ch.port_c, 8034);
    T_EQ_UINT(ch.port_s, 8904);
    T_EQ_UINT(ns, 4);
    /* 7.2: "Release 6 algorithms shall have higher priority than Release 5
     * algorithms": the policy {sha1/aes, sha1/null, md5/aes, md5/null}
     * lists both encrypting pairs first */
    T_EQ_INT(imssec_secagree_build(s, 2, out, sizeof out, &ol, NULL), IMSSEC_OK);
    T_EQ_SLICE(out, ol,
               "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=3333;"
               "spi-s=4444;port-c=5062;port-s=5064, ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;"
               "prot=esp;mod=trans;spi-c=3333;spi-s=4444;port-c=5062;port-s=5064");
}

/* 7.2 (M.7.2 likewise): "Release 6 algorithms shall have higher priority
 * than Release 5 algorithms": with the UE offering sha1/null and md5/aes,
 * a policy written {sha1/null, md5/aes} still chooses md5/aes (0.1 chose
 * the integrity-only pair first) and lists md5/aes first in SM6. */
T_TEST(secagree_pcscf_7_2_release6_before_release5)
{
    SN_NEED_MD5();
    static const imssec_secagree_pair rel5_first[] = {{SHA, NUL}, {MD5, AES}};
    imssec_secagree_mech c[4], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4",
                      c, 4, &nc),
             IMSSEC_OK);
    sn_policy(&pol, rel5_first, 2, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, NULL), IMSSEC_OK);
    T_EQ_INT(ch.alg, MD5);
    T_EQ_INT(ch.ealg, AES);
    T_EQ_UINT(ch.index, 1);
    T_EQ_UINT(ns, 2);
    T_EQ_INT(s[0].alg, MD5);
    T_EQ_INT(s[0].ealg, AES);
    T_EQ_INT(s[1].alg, SHA);
    T_EQ_INT(s[1].ealg, NUL);
}

/* 7.2 selects combinations, never alg and ealg separately (deployed
 * P-CSCFs that chose them one by one produced pairs the UE never offered):
 * the UE offered md5+aes and sha1+null only. */
T_TEST(secagree_pcscf_7_2_pairs_not_components)
{
    SN_NEED_MD5();
    static const imssec_secagree_pair pol3[] = {{SHA, AES}, {MD5, AES}, {SHA, NUL}};
    imssec_secagree_mech c[4], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4",
                      c, 4, &nc),
             IMSSEC_OK);
    sn_policy(&pol, pol3, 3, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, NULL), IMSSEC_OK);
    T_EQ_UINT(ch.index, 0);
    T_EQ_INT(ch.alg, MD5);
    T_EQ_INT(ch.ealg, AES);
}

/* 7.2 + NOTE: policy "required" and a UE without encryption: abort. */
T_TEST(secagree_pcscf_7_2_confidentiality_required_rejects)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[4], s[4];
    size_t nc, ns = 99;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    memset(&ch, 0x5a, sizeof ch);
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4",
                      c, 4, &nc),
             IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_REQUIRED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 7.2");
    T_EQ_INT(rej.sip_status, 494);
    T_EQ_UINT(ns, 99);                          /* untouched */
    T_EQ_UINT(((unsigned char *)&ch)[0], 0x5a); /* untouched */
    /* with encryption offered, required picks an encrypting pair and lists
     * only encrypting pairs */
    T_EQ_INT(sn_parse(sn_cmcc, c, 4, &nc), IMSSEC_E_SPACE);
    {
        imssec_secagree_mech c8[8];
        T_EQ_INT(sn_parse(sn_cmcc, c8, 8, &nc), IMSSEC_OK);
        T_EQ_INT(sn_negotiate(c8, nc, &pol, 0, s, 4, &ns, &ch, &rej),
                 IMSSEC_OK);
        T_EQ_INT(ch.ealg, AES);
        T_EQ_UINT(ns, 2);
        T_EQ_INT(s[0].ealg, AES);
        T_EQ_INT(s[1].ealg, AES);
    }
}

/* 7.2 NOTE (anti-bidding-down): "supported" lists its encryption
 * algorithms in SM6 even when the UE offered none, and selects null. */
T_TEST(secagree_pcscf_7_2_anti_bidding_down)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[4], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4", c, 4, &nc),
             IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, NULL), IMSSEC_OK);
    T_EQ_INT(ch.alg, SHA);
    T_EQ_INT(ch.ealg, NUL);
    T_EQ_UINT(ns, 4);
    /* both encrypting pairs listed, first (Release 6 before Release 5) */
    T_EQ_INT(s[0].ealg, AES);
    T_ASSERT(s[0].present & IMSSEC_SECAGREE_HAS_EALG);
    T_EQ_INT(s[1].ealg, AES);
    T_EQ_INT(s[2].ealg, NUL);
}

/* 7.2: configured never to apply confidentiality, the P-CSCF "shall not
 * include encryption algorithms" in SM6; the UE then selects null. */
T_TEST(secagree_pcscf_7_2_confidentiality_never)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[8], s[8];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    char out[512];
    size_t ol;
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;"
                      "port-s=4",
                      c, 8, &nc),
             IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_NEVER);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 8, &ns, &ch, NULL), IMSSEC_OK);
    T_EQ_INT(ch.alg, SHA);
    T_EQ_INT(ch.ealg, NUL);
    T_EQ_UINT(ns, 2); /* sha1, md5: each once */
    T_EQ_INT(imssec_secagree_build(s, ns, out, sizeof out, &ol, NULL), IMSSEC_OK);
    out[ol] = 0;
    T_ASSERT(strstr(out, "ealg") == NULL);
}

/* P-CSCF anti-bidding-down (7.2 NOTE): the UE offered no encryption, the
 * Security-Server still lists the encrypting pairs; NEVER lists no ealg;
 * REQUIRED rejects a UE without encryption. */
T_TEST(secagree_pcscf_7_2_policy_forms)
{
    const char *s = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=11;spi-s=12;port-c=13;port-s=14";
    imssec_secagree_mech c[2], srv[8];
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    imssec_secagree_policy pol;
    size_t nc, ns, i;
    int saw_aes = 0;
    pol_init(&pol);
    T_EQ_INT(sn_parse(s, c, 2, &nc), IMSSEC_OK);
    if (!IMSSEC_ENABLE_HMAC_MD5) {
        /* a policy naming a compiled-out alg is a bad policy */
        pol.n_pairs = 3;
        T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej),
                 IMSSEC_E_PARAM);
        pol.n_pairs = POL_N;
    }
    T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(ch.alg, IMSSEC_ALG_HMAC_SHA1_96);
    T_EQ_INT(ch.ealg, IMSSEC_EALG_NULL);
    T_EQ_UINT(ch.spi_c, 11);
    T_EQ_UINT(ch.port_s, 14);
    T_EQ_UINT(ns, POL_N);
    for (i = 0; i < ns; i++) {
        if (srv[i].ealg == IMSSEC_EALG_AES_CBC)
            saw_aes = 1;
        T_EQ_UINT(srv[i].spi_c, 1000);
        T_EQ_UINT(srv[i].spi_s, 1001);
        T_EQ_UINT(srv[i].port_c, 5100);
        T_EQ_UINT(srv[i].port_s, 5101);
    }
    T_ASSERT(saw_aes);
    /* E_SPACE: *n_server = needed */
    ns = 0;
    T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 0, srv, POL_N - 1, &ns, &ch, &rej),
             IMSSEC_E_SPACE);
    T_EQ_UINT(ns, POL_N);
    /* NEVER: each alg once, no ealg */
    pol.confidentiality = IMSSEC_SECAGREE_CONF_NEVER;
    T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej), IMSSEC_OK);
    T_EQ_UINT(ns, POL_NALG);
    for (i = 0; i < ns; i++)
        T_ASSERT((srv[i].present & IMSSEC_SECAGREE_HAS_EALG) == 0);
    /* REQUIRED: reject */
    pol.confidentiality = IMSSEC_SECAGREE_CONF_REQUIRED;
    T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(rej.sip_status, 494);
}

/* 7.3.2.1 / clause 6: prot=ah only (the documentation example of the vector
 * file) is a proposal the P-CSCF cannot accept. */
T_TEST(secagree_pcscf_7_3_2_1_ah_only_rejected)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[2], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    static const imssec_secagree_pair md5des[] = {{MD5, DES}, {MD5, NUL}};
    T_EQ_INT(sn_parse("ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; prot=ah; mod=trans; "
                      "spi-c=1111; spi-s=2222; port-c=5062; port-s=5064",
                      c, 2, &nc),
             IMSSEC_OK);
    sn_policy(&pol, md5des, IMSSEC_ENABLE_3DES ? 2 : 1, IMSSEC_SECAGREE_CONF_SUPPORTED);
    if (!IMSSEC_ENABLE_3DES)
        pol.pairs = md5des + 1;
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 7.3.2.1");
    T_EQ_INT(rej.sip_status, 494);
    T_EQ_STR(rej.what, "only prot=ah offered (clause 6: esp only)");
}

/* 7.3.2.1: only unsupported offers (later-release or unknown algorithms,
 * tunnel mode, tls, a capability-only entry). */
T_TEST(secagree_pcscf_7_3_2_1_unsupported_only_rejected)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[8], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    T_EQ_INT(sn_parse("tls, ipsec-3gpp;alg=aes-gmac;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-gcm;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-sha-1-96;ealg=camellia;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-sha-1-96;mod=tun;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-sha-1-96",
                      c, 8, &nc),
             IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 7.3.2.1");
    T_EQ_INT(rej.sip_status, 494);
}

/* P-CSCF: prot=ah-only, capability-only lists, unsupported-only are 494
 * (7.3.2.1); outputs untouched. */
T_TEST(secagree_pcscf_7_3_2_1_reject_untouched)
{
    static const char *bad[] = {
        "ipsec-3gpp;alg=hmac-sha-1-96;prot=ah;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "ipsec-3gpp;alg=hmac-sha-1-96;q=0.5",
        "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3", /* port-s missing */
        "ipsec-3gpp;alg=x-new;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "ipsec-3gpp;spi-c=1;spi-s=2;port-c=3;port-s=4", /* no alg: Annex H mandatory */
        "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-gcm;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "ipsec-3gpp;alg=hmac-sha-1-96;mod=tun;spi-c=1;spi-s=2;port-c=3;port-s=4",
        "tls, digest",
    };
    size_t i;
    imssec_secagree_policy pol;
    pol_init(&pol);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imssec_secagree_mech c[4], srv[8], srv_c[8];
        imssec_secagree_choice ch, ch_c;
        imssec_errinfo rej;
        size_t nc, ns = 4242;
        int rc;
        T_EQ_INT(sn_parse(bad[i], c, 4, &nc), IMSSEC_OK);
        memset(srv, 0xA5, sizeof srv);
        memcpy(srv_c, srv, sizeof srv);
        memset(&ch, 0xA5, sizeof ch);
        memcpy(&ch_c, &ch, sizeof ch);
        memset(&rej, 0, sizeof rej);
        rc = sn_negotiate_fixed(c, nc, &pol, 0, srv, 8, &ns, &ch, &rej);
        if (rc != IMSSEC_E_SECAGREE_REJECT) {
            t_fail_(__FILE__, __LINE__, "\"%s\": rc %d", bad[i], rc);
            return;
        }
        T_EQ_INT(rej.sip_status, 494);
        T_ASSERT(rej.clause != NULL && strcmp(rej.clause, "TS 33.203 7.3.2.1") == 0);
        T_EQ_MEM(srv, srv_c, sizeof srv);
        T_EQ_MEM(&ch, &ch_c, sizeof ch);
        T_EQ_UINT(ns, 4242);
    }
}

/* E19: later-release pair rules: alg=null needs aes-gcm, aes-gmac no
 * encryption; invalid pairs are skipped, and refused in a policy. */
T_TEST(secagree_e19_invalid_pairs)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[4], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    static const imssec_secagree_pair bad[] = {{IMSSEC_ALG_NULL, AES}};
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=null;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=aes-gmac;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4",
                      c, 4, &nc),
             IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, NULL), IMSSEC_OK);
    T_EQ_UINT(ch.index, 2);
    sn_policy(&pol, bad, 1, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, NULL),
             IMSSEC_E_PARAM);
}

/* M.7.2: NAT detected and the UE offered UDP-enc-tun: select it and
 * indicate UDP-enc-tun in SM6. */
T_TEST(secagree_pcscf_m_7_2_nat_udp_enc_tun)
{
    SN_NEED_MD5();
    SN_NEED_UDPENCAP();
    imssec_secagree_mech c[4], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;mod=trans;spi-c=1;spi-s=2;"
                      "port-c=3;port-s=4, ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;mod=UDP-enc-tun;"
                      "spi-c=1;spi-s=2;port-c=3;port-s=4",
                      c, 4, &nc),
             IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    pol.udp_encap = 1;
    T_EQ_INT(sn_negotiate(c, nc, &pol, 1, s, 4, &ns, &ch, NULL), IMSSEC_OK);
    T_EQ_UINT(ch.index, 1);
    T_EQ_INT(ch.mode, IMSSEC_MODE_UDP_ENC_TUN);
    T_EQ_INT(s[0].mode, IMSSEC_MODE_UDP_ENC_TUN);
    /* without NAT the same offer gives transport mode (M.7.2 / 7.2) */
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, NULL), IMSSEC_OK);
    T_EQ_UINT(ch.index, 0);
    T_EQ_INT(s[0].mode, IMSSEC_MODE_TRANS);
}

/* M.7.2 / M.7.3.2.4: NAT and no UDP-enc-tun on either side: discard SM1
 * silently (no SIP response). */
T_TEST(secagree_pcscf_m_7_3_2_4_nat_without_udp_enc)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[4], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;"
                      "port-s=4",
                      c, 4, &nc),
             IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    pol.udp_encap = 1;
    T_EQ_INT(sn_negotiate(c, nc, &pol, 1, s, 4, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 M.7.3.2.4");
    T_EQ_INT(rej.sip_status, 0);
    T_EQ_STR(rej.what, "NAT detected but the UE did not offer UDP-enc-tun");
    /* the UE offers it but the P-CSCF does not support NAT traversal */
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=1;spi-s=2;port-c=3;"
                      "port-s=4",
                      c, 4, &nc),
             IMSSEC_OK);
    pol.udp_encap = 0;
    T_EQ_INT(sn_negotiate(c, nc, &pol, 1, s, 4, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 M.7.3.2.4");
}

/* NAT without UDP-enc-tun offered: M.7.3.2.4, no response (0).  A build
 * without UDP encapsulation aborts the same way whatever the UE offered. */
T_TEST(secagree_pcscf_m_7_3_2_4_nat_abort_every_build)
{
    const char *s = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=11;spi-s=12;port-c=13;port-s=14";
    const char *u = "ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=11;spi-s=12;port-c=13;"
                    "port-s=14";
    imssec_secagree_mech c[2], srv[8];
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    imssec_secagree_policy pol;
    size_t nc, ns;
    pol_init(&pol);
    pol.udp_encap = 1;
    T_EQ_INT(sn_parse(s, c, 2, &nc), IMSSEC_OK);
    T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(rej.sip_status, 0);
    T_ASSERT(rej.clause && strcmp(rej.clause, "TS 33.203 M.7.3.2.4") == 0);
    T_EQ_INT(sn_parse(u, c, 2, &nc), IMSSEC_OK);
    if (IMSSEC_ENABLE_UDPENCAP) {
        T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
                 IMSSEC_OK);
        T_EQ_INT(ch.mode, IMSSEC_MODE_UDP_ENC_TUN);
    } else {
        rej.clause = NULL;
        T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
                 IMSSEC_E_SECAGREE_REJECT);
        T_EQ_INT(rej.sip_status, 0);
        T_ASSERT(rej.clause && strcmp(rej.clause, "TS 33.203 M.7.3.2.4") == 0);
    }
    /* P-CSCF without udp_encap: abort too */
    pol.udp_encap = 0;
    T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 1, srv, 8, &ns, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(rej.sip_status, 0);
}

/* Security-Server list too small: IMSSEC_E_SPACE with the count needed. */
T_TEST(secagree_pcscf_server_space)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[8], s[4];
    size_t nc, ns = 0;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    T_EQ_INT(sn_parse(sn_cmcc, c, 8, &nc), IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    memset(s, 0x5a, sizeof s);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 3, &ns, &ch, NULL),
             IMSSEC_E_SPACE);
    T_EQ_UINT(ns, 4);
    T_EQ_UINT(((unsigned char *)s)[0], 0x5a);
}

/* pcscf_negotiate E_SPACE: server array and choice untouched. */
T_TEST(secagree_pcscf_7_2_server_space_untouched)
{
    const char *s = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=11;spi-s=12;port-c=13;port-s=14";
    imssec_secagree_mech c[2], srv[8], srv_c[8];
    imssec_secagree_choice ch, ch_c;
    imssec_errinfo rej;
    imssec_secagree_policy pol;
    size_t nc, ns = 0;
    pol_init(&pol);
    T_EQ_INT(sn_parse(s, c, 2, &nc), IMSSEC_OK);
    memset(srv, 0xA5, sizeof srv);
    memcpy(srv_c, srv, sizeof srv);
    memset(&ch, 0xA5, sizeof ch);
    memcpy(&ch_c, &ch, sizeof ch);
    T_EQ_INT(sn_negotiate_fixed(c, nc, &pol, 0, srv, POL_N - 1, &ns, &ch, &rej),
             IMSSEC_E_SPACE);
    T_EQ_UINT(ns, POL_N);
    T_EQ_MEM(srv, srv_c, sizeof srv);
    T_EQ_MEM(&ch, &ch_c, sizeof ch);
}

/* E15: a Security-Server without SPIs/ports (the 421/494 line of the
 * vector file) is a capability list: never an SA proposal for the UE. */
T_TEST(secagree_e15_capability_list_not_proposal)
{
    SN_NEED_MD5();
    imssec_secagree_mech s[2];
    size_t ns;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    static const imssec_secagree_pair sup[] = {{SHA, NUL}, {MD5, NUL}};
    T_EQ_INT(sn_parse("ipsec-3gpp ; q=0.1", s, 2, &ns), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 2, 0, 0, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 7.3.2.2");
    T_EQ_STR(rej.what, "no SA proposal (capability list only)");
    /* one entry with alg but without SPIs is not one either */
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;port-c=1;port-s=2", s, 2, &ns), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 2, 0, 0, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    /* and a P-CSCF without SPIs builds a capability list */
    {
        imssec_secagree_mech c[2], out[4];
        size_t nc, no;
        imssec_secagree_policy pol;
        T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4", c, 2,
                          &nc),
                 IMSSEC_OK);
        sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
        sn_spi_pc = sn_spi_ps = 0;
        sn_port_pc = sn_port_ps = 0;
        T_EQ_INT(sn_negotiate(c, nc, &pol, 0, out, 4, &no, &ch, NULL),
                 IMSSEC_OK);
        T_EQ_UINT(out[0].present & IMSSEC_SECAGREE_HAS_SA_PARAMS, 0);
        T_EQ_INT(imssec_secagree_ue_select(out, no, sup, 2, 0, 0, &ch, &rej),
                 IMSSEC_E_SECAGREE_REJECT);
    }
}

/* 7.2 (UE) + E14: highest q first, ties in list order, and only pairs the
 * UE supports: the Jio-style list (phhusson/ims #13: q-sorting then taking
 * the winner's ealg picked an unoffered sha1/aes). */
T_TEST(secagree_e14_ue_7_2_first_acceptable_by_q)
{
    SN_NEED_MD5();
    static const char *srv =
        "ipsec-3gpp;q=0.1;alg=hmac-md5-96;spi-c=11;spi-s=12;port-c=100;port-s=101,"
        "ipsec-3gpp;q=0.5;alg=hmac-sha-1-96;spi-c=21;spi-s=22;port-c=200;port-s=201,"
        "ipsec-3gpp;q=0.5;alg=hmac-sha-1-96;ealg=aes-cbc;prot=ah;spi-c=31;spi-s=32;port-c=300;"
        "port-s=301,"
        "ipsec-3gpp;q=0.5;alg=hmac-md5-96;spi-c=41;spi-s=42;port-c=400;port-s=401,"
        "ipsec-3gpp;q=0.7;alg=hmac-md5-96;ealg=des-ede3-cbc;spi-c=51;spi-s=52;port-c=500;"
        "port-s=501";
    static const imssec_secagree_pair sup[] = {{SHA, AES}, {SHA, NUL}, {MD5, NUL}};
    imssec_secagree_mech s[8];
    size_t ns;
    imssec_secagree_choice ch;
    T_EQ_INT(sn_parse(srv, s, 8, &ns), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 3, 0, 0, &ch, NULL), IMSSEC_OK);
    /* q=0.7 md5/des is not supported; of the q=0.5 entries sha1/null (no
     * ealg: null, 7.2) comes first; the ah entry is skipped */
    T_EQ_UINT(ch.index, 1);
    T_EQ_INT(ch.alg, SHA);
    T_EQ_INT(ch.ealg, NUL);
    T_EQ_UINT(ch.spi_c, 21);
    T_EQ_UINT(ch.port_s, 201);
    /* without q the list order decides (7.2 "first ... on the list") */
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4",
                      s, 8, &ns),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 3, 0, 0, &ch, NULL), IMSSEC_OK);
    T_EQ_UINT(ch.index, 0);
}

/* UE: a capability list (no SPIs/ports) is never an SA proposal; q order. */
T_TEST(secagree_ue_7_2_capability_list_and_q_order)
{
    const char *cap = "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;q=0.9";
    const char *qord = "ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4;q=0.1,"
                       "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4;q=0.5,"
                       "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;"
                       "port-s=4;q=0.5";
    static const imssec_secagree_pair sup[] = {{IMSSEC_ALG_HMAC_MD5_96, IMSSEC_EALG_NULL},
                                          {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL},
                                          {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC}};
    imssec_secagree_mech s[4];
    imssec_secagree_choice ch, ch_c;
    imssec_errinfo rej;
    size_t n;
    T_EQ_INT(sn_parse(cap, s, 4, &n), IMSSEC_OK);
    memset(&ch, 0xA5, sizeof ch);
    memcpy(&ch_c, &ch, sizeof ch);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 3, 0, 0, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_MEM(&ch, &ch_c, sizeof ch);
    T_EQ_INT(sn_parse(qord, s, 4, &n), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 3, 0, 0, &ch, &rej), IMSSEC_OK);
    T_EQ_UINT(ch.index, 1); /* q=0.5 first, ties in list order */
    T_EQ_INT(ch.alg, IMSSEC_ALG_HMAC_SHA1_96);
    T_EQ_INT(ch.ealg, IMSSEC_EALG_NULL);
}

/* 7.3.2.2: nothing acceptable: abandon. */
T_TEST(secagree_ue_7_3_2_2_abandon)
{
    imssec_secagree_mech s[4];
    size_t ns;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    static const imssec_secagree_pair sup[] = {{SHA, AES}};
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4,"
                      " tls",
                      s, 4, &ns),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 1, 0, 0, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 7.3.2.2");
    T_EQ_STR(rej.what, "no acceptable entry in Security-Server");
}

/* M.7.2 (UE): no mode in SM6 and a `received` in the top Via: abort;
 * UDP-enc-tun in SM6 is used when the UE supports it. */
T_TEST(secagree_ue_m_7_2_nat_mode)
{
    SN_NEED_UDPENCAP();
    imssec_secagree_mech s[4];
    size_t ns;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    static const imssec_secagree_pair sup[] = {{SHA, AES}};
    imssec_secagree_via via;
    static const char *top = "SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1;received=198.51.100.7";
    T_EQ_INT(imssec_secagree_via_parse(T_S(top, strlen(top)), &via, NULL), IMSSEC_OK);
    T_ASSERT(via.received.p != NULL);
    T_EQ_SLICE(via.received.p, via.received.n, "198.51.100.7");
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;"
                      "port-s=4",
                      s, 4, &ns),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 1, 1, via.received.p != NULL, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
    T_EQ_STR(rej.clause, "TS 33.203 M.7.2");
    /* same, not behind a NAT: transport */
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 1, 1, 0, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(ch.mode, IMSSEC_MODE_TRANS);
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;mod=UDP-enc-tun;spi-c=1;"
                      "spi-s=2;port-c=3;port-s=4",
                      s, 4, &ns),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 1, 1, 1, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(ch.mode, IMSSEC_MODE_UDP_ENC_TUN);
    T_EQ_INT(imssec_secagree_ue_select(s, ns, sup, 1, 0, 1, &ch, &rej),
             IMSSEC_E_SECAGREE_REJECT);
}

/* UE behind NAT (M.7.2): an entry without mod is not usable, an explicit
 * trans is, UDP-enc-tun needs udp_encap (and a build that has it). */
T_TEST(secagree_ue_m_7_2_nat_mod_absent_or_udp_enc_tun)
{
    const char *absent = "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4";
    const char *udp = "ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=1;spi-s=2;port-c=3;"
                      "port-s=4";
    static const imssec_secagree_pair sup[] = {{IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_NULL}};
    imssec_secagree_mech s[2];
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    size_t n;
    T_EQ_INT(sn_parse(absent, s, 2, &n), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 1, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 0, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(sn_parse(udp, s, 2, &n), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 0, 1, &ch, &rej), IMSSEC_E_SECAGREE_REJECT);
    if (!IMSSEC_ENABLE_UDPENCAP) { /* compiled out: unusable even when asked for */
        T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 1, &ch, &rej),
                 IMSSEC_E_SECAGREE_REJECT);
        return;
    }
    T_EQ_INT(imssec_secagree_ue_select(s, n, sup, 1, 1, 1, &ch, &rej), IMSSEC_OK);
    T_EQ_INT(ch.mode, IMSSEC_MODE_UDP_ENC_TUN);
}

/* The whole 7.2 exchange: SM1 Security-Client -> P-CSCF -> SM6
 * Security-Server (built) -> UE selection -> SM7 Security-Verify (echo) and
 * repeated Security-Client -> P-CSCF checks (7.3.2.3, Annex H items 1-3). */
T_TEST(secagree_7_2_full_exchange_and_7_3_2_3_checks)
{
    SN_NEED_MD5();
    imssec_secagree_mech c[8], s[8], us[8], ver[8], c2[8];
    size_t nc, ns, nus, nver, nc2, l1, l2, l3;
    imssec_secagree_policy pol;
    imssec_secagree_choice pch, uch;
    char sm6[1024], sm7v[1024], sm7c[1024];
    static const imssec_secagree_pair ue_sup[] = {{SHA, AES}, {SHA, NUL}};
    imssec_errinfo why_e;
    T_EQ_INT(sn_parse(sn_cmcc, c, 8, &nc), IMSSEC_OK);
    sn_policy(&pol, sn_pol4, 4, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 8, &ns, &pch, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_build(s, ns, sm6, sizeof sm6, &l1, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_parse(T_S(sm6, l1), us, 8, &nus, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_ue_select(us, nus, ue_sup, 2, 0, 0, &uch, NULL), IMSSEC_OK);
    T_EQ_INT(uch.alg, pch.alg);   /* both sides agree */
    T_EQ_INT(uch.ealg, pch.ealg);
    T_EQ_UINT(uch.spi_c, 3333);
    T_EQ_UINT(uch.port_s, 5064);
    T_EQ_INT(imssec_secagree_echo(us, nus, sm7v, sizeof sm7v, &l2, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_echo(c, nc, sm7c, sizeof sm7c, &l3, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_parse(T_S(sm7v, l2), ver, 8, &nver, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_parse(T_S(sm7c, l3), c2, 8, &nc2, NULL), IMSSEC_OK);
    T_EQ_INT(imssec_secagree_equal(s, ns, ver, nver, &why_e), 1);
    T_EQ_INT(imssec_secagree_equal(c, nc, c2, nc2, &why_e), 1);
    /* a man in the middle strips the encrypting entries from SM6: the
     * Verify no longer matches what was sent (bidding down detected) */
    T_EQ_INT(imssec_secagree_equal(s, ns, ver + 1, nver - 1, &why_e), 0);
    T_EQ_STR(why_e.what, "list length");
}

/* E18: a protected REGISTER without Security-Verify compares as a
 * mismatch against the list sent (empty vs non-empty). */
T_TEST(secagree_e18_verify_absent_is_mismatch)
{
    imssec_secagree_mech s[2];
    size_t ns;
    imssec_errinfo why_e;
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4", s, 2, &ns),
             IMSSEC_OK);
    T_EQ_INT(imssec_secagree_equal(s, ns, NULL, 0, &why_e), 0);
    T_EQ_STR(why_e.what, "list length");
    T_EQ_UINT(why_e.item_index, 0);
}

/* 7.2 and M.7.3.2.4 in every configuration (hmac-sha-1-96 is always
 * compiled in): the first policy pair offered is chosen; without UDP
 * encapsulation compiled in, a NAT always aborts. */
T_TEST(secagree_pcscf_7_2_sha1_policy_every_config)
{
    static const imssec_secagree_pair pol2[] = {{SHA, AES}, {SHA, NUL}};
    imssec_secagree_mech c[8], s[4];
    size_t nc, ns;
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    T_EQ_INT(sn_parse(sn_cmcc, c, 8, &nc), IMSSEC_OK);
    sn_policy(&pol, pol2, 2, IMSSEC_SECAGREE_CONF_SUPPORTED);
    T_EQ_INT(sn_negotiate(c, nc, &pol, 0, s, 4, &ns, &ch, &rej), IMSSEC_OK);
    T_EQ_UINT(ch.index, 4); /* sha1 + aes-cbc, entry 4 of the client list */
    T_EQ_UINT(ns, 2);
    T_EQ_INT(sn_parse("ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=1;spi-s=2;port-c=3;"
                      "port-s=4",
                      c, 8, &nc),
             IMSSEC_OK);
    pol.udp_encap = 1;
    T_EQ_INT(sn_negotiate(c, nc, &pol, 1, s, 4, &ns, &ch, &rej),
             IMSSEC_ENABLE_UDPENCAP ? IMSSEC_OK : IMSSEC_E_SECAGREE_REJECT);
    if (!IMSSEC_ENABLE_UDPENCAP)
        T_EQ_STR(rej.clause, "TS 33.203 M.7.3.2.4");
}
