/*
 * mkcert.c -- the demo's test PKI for TLS between the CSCFs (TS 33.203
 * 6.5): ECDSA P-256 keys and X.509 v3 certificates made with mbedTLS's
 * pk/x509write APIs, written as PEM files.  Not part of imssec.
 *
 *   mkcert DIR SPEC...
 *     ca=NAME              a self-signed CA: DIR/NAME.crt, DIR/NAME.key
 *                          (subject CN=NAME, O=imssec demo)
 *     FILE=DNS@CA          a certificate for DNS (subjectAltName dNSName
 *                          and subject CN), signed by the CA named CA
 *                          earlier on the command line: DIR/FILE.crt,
 *                          DIR/FILE.key
 *
 * e.g. mkcert build/demo/tls ca=demo-ca scscf=scscf.ims.example.net@demo-ca
 * Exit 0, or 1 with a message.
 */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MK_MAX_CA 4

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

static struct {
    char name[64];
    mbedtls_pk_context key;
} cas[MK_MAX_CA];
static int n_cas;
static unsigned serial = 1;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "mkcert: %s (mbedTLS -0x%04x)\n", what, (unsigned)-rc);
    exit(1);
}

static void write_file(const char *dir, const char *name, const char *ext, const unsigned char *pem)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    f = fopen(path, "w");
    if (!f || fputs((const char *)pem, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void gen_key(mbedtls_pk_context *pk)
{
    int rc;
    mbedtls_pk_init(pk);
    rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                 mbedtls_ctr_drbg_random, &drbg);
    if (rc != 0)
        fail("P-256 key generation", rc);
}

/* subjectAltName = SEQUENCE { [2] IMPLICIT IA5String dns } (RFC 5280 4.2.1.6) */
static size_t san_dns(const char *dns, unsigned char *out, size_t cap)
{
    size_t n = strlen(dns);
    if (n > 120 || n + 4 > cap)
        fail("name too long", 0);
    out[0] = 0x30;
    out[1] = (unsigned char)(n + 2);
    out[2] = 0x82;
    out[3] = (unsigned char)n;
    memcpy(out + 4, dns, n);
    return n + 4;
}

/* One certificate: subject key `key`, subject `dns` (NULL: a CA named
 * `cn`), signed by issuer_key as issuer_cn. */
static void make_cert(const char *dir, const char *file, mbedtls_pk_context *key, const char *cn,
                      const char *dns, mbedtls_pk_context *issuer_key, const char *issuer_cn)
{
    static unsigned char pem[4096];
    mbedtls_x509write_cert w;
    char subject[160], issuer[160];
    unsigned char san[128];
    int rc;

    snprintf(subject, sizeof subject, "CN=%s,O=imssec demo", cn);
    snprintf(issuer, sizeof issuer, "CN=%s,O=imssec demo", issuer_cn);
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, key);
    mbedtls_x509write_crt_set_issuer_key(&w, issuer_key);
    rc = mbedtls_x509write_crt_set_subject_name(&w, subject);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_issuer_name(&w, issuer);
    if (rc == 0) {
#if MBEDTLS_VERSION_NUMBER >= 0x03040000
        unsigned char sn[4] = {(unsigned char)(serial >> 24), (unsigned char)(serial >> 16),
                               (unsigned char)(serial >> 8), (unsigned char)serial};
        rc = mbedtls_x509write_crt_set_serial_raw(&w, sn, sizeof sn);
#else
        mbedtls_mpi sn;
        mbedtls_mpi_init(&sn);
        rc = mbedtls_mpi_lset(&sn, (mbedtls_mpi_sint)serial);
        if (rc == 0)
            rc = mbedtls_x509write_crt_set_serial(&w, &sn);
        mbedtls_mpi_free(&sn);
#endif
        serial++;
    }
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_validity(&w, "20240101000000", "20491231235959");
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_basic_constraints(&w, dns ? 0 : 1, dns ? -1 : 0);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_key_usage(
            &w, dns ? MBEDTLS_X509_KU_DIGITAL_SIGNATURE
                    : MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN);
    if (rc == 0 && dns) {
        size_t n = san_dns(dns, san, sizeof san);
        rc = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                 MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                 san, n);
    }
    if (rc == 0)
        rc = mbedtls_x509write_crt_pem(&w, pem, sizeof pem, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_x509write_crt_free(&w);
    if (rc != 0)
        fail("certificate", rc);
    write_file(dir, file, "crt", pem);
    rc = mbedtls_pk_write_key_pem(key, pem, sizeof pem);
    if (rc != 0)
        fail("key PEM", rc);
    write_file(dir, file, "key", pem);
    printf("mkcert: %s/%s.crt  %s%s, issuer %s\n", dir, file, dns ? "dNSName " : "CA ",
           dns ? dns : cn, issuer_cn);
}

int main(int argc, char **argv)
{
    static const char pers[] = "imssec mkcert";
    int i, rc;
    if (argc < 3) {
        fprintf(stderr, "usage: mkcert DIR ca=NAME FILE=DNS@CA ...\n"
                        "ECDSA P-256 test certificates for the CSCFs' TLS (see mkcert.c).\n");
        return 2;
    }
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                               (const unsigned char *)pers, sizeof pers - 1);
    if (rc != 0)
        fail("RNG", rc);
    for (i = 2; i < argc; i++) {
        char spec[256], *eq, *at;
        snprintf(spec, sizeof spec, "%s", argv[i]);
        eq = strchr(spec, '=');
        if (!eq) {
            fprintf(stderr, "mkcert: %s: want ca=NAME or FILE=DNS@CA\n", argv[i]);
            return 2;
        }
        *eq++ = '\0';
        if (strcmp(spec, "ca") == 0) {
            if (n_cas == MK_MAX_CA) {
                fprintf(stderr, "mkcert: at most %d CAs\n", MK_MAX_CA);
                return 2;
            }
            snprintf(cas[n_cas].name, sizeof cas[n_cas].name, "%s", eq);
            gen_key(&cas[n_cas].key);
            make_cert(argv[1], eq, &cas[n_cas].key, eq, NULL, &cas[n_cas].key, eq);
            n_cas++;
        } else {
            mbedtls_pk_context key;
            int k;
            at = strchr(eq, '@');
            if (!at) {
                fprintf(stderr, "mkcert: %s: want FILE=DNS@CA\n", argv[i]);
                return 2;
            }
            *at++ = '\0';
            for (k = 0; k < n_cas && strcmp(cas[k].name, at) != 0; k++)
                ;
            if (k == n_cas) {
                fprintf(stderr, "mkcert: %s: no CA %s before it\n", argv[i], at);
                return 2;
            }
            gen_key(&key);
            make_cert(argv[1], spec, &key, eq, eq, &cas[k].key, cas[k].name);
            mbedtls_pk_free(&key);
        }
    }
    for (i = 0; i < n_cas; i++)
        mbedtls_pk_free(&cas[i].key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return 0;
}
