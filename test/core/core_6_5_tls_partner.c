/*
 * core_6_5_tls_partner.c -- TS 33.203 6.5 (as changed): "the CSCF shall
 * verify the name on the certificate against the list of the interworking
 * partners", with RFC 5922 7.1 / 7.2 for the names of a SIP certificate.
 * The truth is those rules, case by case.
 */
#include "../../imssec.h"
#include "../t.h"

static const imssec_str partners[] = {{"ims.partner.example", 19}, {"scscf.home.example.", 19}};

static int check(int kind, const char *name, size_t *which)
{
    imssec_cert_name n;
    n.kind = kind;
    n.name = imssec_cstr(name);
    return imssec_tls_partner_check(partners, 2, &n, 1, which, NULL);
}

T_TEST(core_33203_6_5_tls_partner_names)
{
    size_t w = 99;
    imssec_cert_name two[2];
    imssec_errinfo e;
    /* dNSName, case and the final dot do not matter */
    T_EQ_INT(check(IMSSEC_CERT_SAN_DNS, "IMS.Partner.Example", &w), IMSSEC_OK);
    T_EQ_UINT(w, 0);
    T_EQ_INT(check(IMSSEC_CERT_SAN_DNS, "scscf.home.example", &w), IMSSEC_OK);
    T_EQ_UINT(w, 1);
    /* a sip:/sips: URI: its host (userinfo, port and parameters dropped) */
    T_EQ_INT(check(IMSSEC_CERT_SAN_URI, "sips:ims.partner.example", &w), IMSSEC_OK);
    T_EQ_INT(check(IMSSEC_CERT_SAN_URI, "sip:x@ims.partner.example:5061;transport=tls", &w),
             IMSSEC_OK);
    T_EQ_INT(check(IMSSEC_CERT_SAN_URI, "https://ims.partner.example/", &w), IMSSEC_E_NOT_FOUND);
    /* no wildcards (RFC 5922 7.2), no suffix matches */
    T_EQ_INT(check(IMSSEC_CERT_SAN_DNS, "*.partner.example", &w), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(check(IMSSEC_CERT_SAN_DNS, "evil.ims.partner.example", &w), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(check(IMSSEC_CERT_SAN_DNS, "ims.partner.example.evil", &w), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(check(IMSSEC_CERT_SAN_DNS, "", &w), IMSSEC_E_NOT_FOUND);
    /* the CN counts only when the certificate has no SAN names */
    T_EQ_INT(check(IMSSEC_CERT_CN, "ims.partner.example", &w), IMSSEC_OK);
    two[0].kind = IMSSEC_CERT_SAN_DNS;
    two[0].name = imssec_cstr("other.example");
    two[1].kind = IMSSEC_CERT_CN;
    two[1].name = imssec_cstr("ims.partner.example");
    memset(&e, 0, sizeof e);
    T_EQ_INT(imssec_tls_partner_check(partners, 2, two, 2, &w, &e), IMSSEC_E_NOT_FOUND);
    T_ASSERT(e.clause && strstr(e.clause, "6.5"));
    two[0].name = imssec_cstr("scscf.home.example");
    T_EQ_INT(imssec_tls_partner_check(partners, 2, two, 2, &w, NULL), IMSSEC_OK);
    T_EQ_UINT(w, 1);
    /* no names, no partners */
    T_EQ_INT(imssec_tls_partner_check(partners, 2, NULL, 0, &w, NULL), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_tls_partner_check(NULL, 0, two, 2, &w, NULL), IMSSEC_E_NOT_FOUND);
    T_EQ_INT(imssec_tls_partner_check(NULL, 1, two, 2, &w, NULL), IMSSEC_E_PARAM);
}
