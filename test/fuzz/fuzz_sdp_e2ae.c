/*
 * fuzz_sdp_e2ae.c -- the SDP procedures of TS 33.328 7.2 - 7.5
 * (media/sdp.c) on hostile text.  Input: one flags byte, one byte that
 * picks which io->random call fails (0: none), then an SDP; a blank line
 * ("\n\n", never inside valid SDP) may split it into an offer and a
 * second SDP used as an answer.
 *
 * Checked for every call: only documented codes; on error nothing written
 * (text output and lengths as before, keys as before except after
 * IMSSEC_E_CALLBACK); on success an output that passes imssec_sdp_check()
 * with the same number of m= sections, of exactly the length a measuring
 * call reported.  And the chains must close: UE offer -> IMS-ALG offer ->
 * the core echoing its offer as plain answer -> IMS-ALG answer -> UE check
 * must succeed with the UE's and the IMS Access GW's keys paired (7.2.1);
 * IMS-ALG terminating offer -> UE answer -> IMS-ALG answer likewise
 * (7.3.1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

#define FZ_OUT (1u << 17)
#define FZ_K 8

typedef struct fz_rng {
    unsigned calls, fail_at;
} fz_rng;

static int fz_random(void *user, uint8_t *out, size_t len)
{
    fz_rng *r = (fz_rng *)user;
    size_t i;
    r->calls++;
    if (r->fail_at && r->calls == r->fail_at)
        return -1;
    for (i = 0; i < len; i++)
        out[i] = (uint8_t)(r->calls * 31 + i);
    return 0;
}

static char g_out[FZ_OUT], g_out2[FZ_OUT], g_out3[FZ_OUT];
static imssec_sdp_keys g_snap[FZ_K];

static size_t fz_media(const char *p, size_t n)
{
    size_t m = 0;
    if (imssec_sdp_check((imssec_str){p, n}, &m, NULL) != IMSSEC_OK)
        abort(); /* every output must be valid SDP */
    return m;
}

/* After a call: on error nothing changed, on success a consistent output. */
static void fz_after(int rc, const char *in, size_t in_n, const char *out, size_t out_n,
                     size_t out_len_before, const imssec_sdp_keys *keys, size_t nk)
{
    size_t i, m_in = 0;
    if (rc == IMSSEC_OK) {
        if (out_n > FZ_OUT)
            abort();
        if (imssec_sdp_check((imssec_str){in, in_n}, &m_in, NULL) != IMSSEC_OK ||
            fz_media(out, out_n) != m_in)
            abort();
        return;
    }
    for (i = 0; i < FZ_OUT; i += 4093)
        if ((unsigned char)out[i] != 0xa5)
            abort(); /* refused, yet written */
    if (rc != IMSSEC_E_SPACE && out_n != out_len_before)
        abort();
    if (keys && rc != IMSSEC_E_CALLBACK && memcmp(keys, g_snap, nk * sizeof *keys) != 0)
        abort();
}

static int fz_code_ok(int rc)
{
    return rc == IMSSEC_OK || rc == IMSSEC_E_SYNTAX || rc == IMSSEC_E_STATE ||
           rc == IMSSEC_E_SDES_REJECT || rc == IMSSEC_E_INSECURE || rc == IMSSEC_E_SPACE ||
           rc == IMSSEC_E_CALLBACK || rc == IMSSEC_E_RANGE || rc == IMSSEC_E_NOT_FOUND ||
           rc == IMSSEC_E_UNSUPPORTED || rc == IMSSEC_E_PARAM;
}

/* keys of one side against the other's: a's local[0] is b's remote */
static void fz_paired(const imssec_sdp_keys *a, const imssec_sdp_keys *b)
{
    const imssec_sdes_crypto *x = &a->local[0], *y = &b->remote;
    if (a->status != IMSSEC_SDP_AGREED || b->status != IMSSEC_SDP_AGREED ||
        x->tag != y->tag || x->suite != y->suite || x->flags != y->flags ||
        memcmp(x->keys[0].key, y->keys[0].key, sizeof x->keys[0].key) != 0 ||
        memcmp(x->keys[0].salt, y->keys[0].salt, sizeof x->keys[0].salt) != 0)
        abort();
    {
        imssec_srtp_params rx, tx;
        imssec_srtp_key rk[IMSSEC_SRTP_KEYS_MAX], tk[IMSSEC_SRTP_KEYS_MAX];
        if (imssec_sdp_keys_srtp(a, &rx, rk, &tx, tk) != IMSSEC_OK)
            abort();
    }
}

static imssec_sdp_keys g_ku[FZ_K], g_kg[FZ_K], g_kt[FZ_K], g_kr[FZ_K];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int suites[] = {IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_80,
                                 IMSSEC_SRTP_AES_CM_128_HMAC_SHA1_32,
                                 IMSSEC_SRTP_AEAD_AES_128_GCM};
    imssec_sdes_policy pol;
    imssec_sdp_opts o, ogw;
    imssec_io io;
    fz_rng r;
    const char *a, *b = NULL;
    size_t an, bn = 0, i, n, n2, n3, nu = 0, ng = 0, nt = 0, nr = 0, need, dummy;
    unsigned fl;
    int rc, rc2;
    if (size < 2)
        return 0;
    fl = data[0];
    memset(&r, 0, sizeof r);
    r.fail_at = data[1];
    a = (const char *)data + 2;
    an = size - 2;
    for (i = 0; i + 1 < an; i++)
        if (a[i] == '\n' && a[i + 1] == '\n') {
            b = a + i + 2;
            bn = an - i - 2;
            an = i + 1;
            break;
        }
    memset(&pol, 0, sizeof pol);
    pol.suites = suites;
    pol.n_suites = (fl & 0x40) ? 3 : 2;
    pol.flags_ok = IMSSEC_SRTP_UNENCRYPTED_SRTCP;
    pol.hop_confidential = !(fl & 0x10);
    memset(&io, 0, sizeof io);
    io.user = &r;
    io.random = fz_random;
    memset(&o, 0, sizeof o);
    o.policy = &pol;
    o.io = &io;
    o.flags = fl & 0x0f;
    ogw = o;
    ogw.flags = IMSSEC_SDP_REG_E2AE;
    (void)imssec_sdp_check((imssec_str){a, an}, NULL, NULL);

    /* ---- 7.2.1: UE offer -> IMS-ALG -> core echo -> IMS-ALG -> UE ---- */
    memset(g_out, 0xa5, sizeof g_out);
    memset(g_ku, 0x5a, sizeof g_ku);
    memcpy(g_snap, g_ku, sizeof g_ku);
    n = 12345;
    rc = imssec_sdp_ue_offer((imssec_str){a, an}, &o, g_out, FZ_OUT, &n, g_ku, FZ_K, &nu, NULL);
    if (!fz_code_ok(rc))
        abort();
    fz_after(rc, a, an, g_out, n, 12345, g_ku, FZ_K);
    if (rc != IMSSEC_OK)
        nu = 0; /* IMSSEC_E_SPACE: the count needed */
    if (rc == IMSSEC_OK) {
        /* a measuring call says the same */
        rc2 = imssec_sdp_ue_offer((imssec_str){a, an}, &o, NULL, 0, &need, NULL, 0, &dummy, NULL);
        if (rc2 != IMSSEC_E_SPACE || need != n || dummy != nu)
            abort();
        memset(g_out2, 0xa5, sizeof g_out2);
        memset(g_kg, 0x5a, sizeof g_kg);
        memcpy(g_snap, g_kg, sizeof g_kg);
        n2 = 777;
        r.fail_at = 0;
        rc = imssec_sdp_alg_orig_offer((imssec_str){g_out, n}, &ogw, g_out2, FZ_OUT, &n2, g_kg,
                                       FZ_K, &ng, NULL);
        if (!fz_code_ok(rc))
            abort();
        fz_after(rc, g_out, n, g_out2, n2, 777, g_kg, FZ_K);
        if (rc != IMSSEC_OK)
            ng = 0;
        if (rc == IMSSEC_OK) {
            size_t e2ae = 0;
            for (i = 0; i < nu; i++)
                e2ae += g_ku[i].mode == IMSSEC_SDP_MODE_E2AE;
            if (ng < e2ae)
                abort(); /* every stream the UE asked e2ae for is taken */
            memset(g_out3, 0xa5, sizeof g_out3);
            n3 = 0;
            rc = imssec_sdp_alg_orig_answer((imssec_str){g_out2, n2}, &ogw, g_kg, ng, g_out3,
                                            FZ_OUT, &n3, NULL);
            if (rc != IMSSEC_OK)
                abort(); /* the echo is a valid plain answer */
            fz_after(rc, g_out2, n2, g_out3, n3, 0, NULL, 0);
            rc = imssec_sdp_ue_check_answer((imssec_str){g_out3, n3}, g_ku, nu, NULL);
            if (rc == IMSSEC_OK) {
                size_t j = 0;
                for (i = 0; i < nu; i++) {
                    while (j < ng && g_kg[j].m_index < g_ku[i].m_index)
                        j++;
                    if (g_ku[i].mode != IMSSEC_SDP_MODE_E2AE || g_ku[i].status != IMSSEC_SDP_AGREED)
                        continue;
                    if (j == ng || g_kg[j].m_index != g_ku[i].m_index)
                        abort();
                    fz_paired(&g_ku[i], &g_kg[j]);
                    fz_paired(&g_kg[j], &g_ku[i]);
                }
            } else if (!fz_code_ok(rc) || e2ae == nu) {
                abort(); /* the UE offered only e2ae: the IMS-ALG's answer must fit */
            }
        }
    }

    /* ---- 7.3.1: IMS-ALG terminating offer -> UE answer -> IMS-ALG ---- */
    r.fail_at = data[1];
    r.calls = 0;
    memset(g_out, 0xa5, sizeof g_out);
    memset(g_kt, 0x5a, sizeof g_kt);
    memcpy(g_snap, g_kt, sizeof g_kt);
    n = 4242;
    rc = imssec_sdp_alg_term_offer((imssec_str){a, an}, &o, g_out, FZ_OUT, &n, g_kt, FZ_K, &nt,
                                   NULL);
    if (!fz_code_ok(rc))
        abort();
    fz_after(rc, a, an, g_out, n, 4242, g_kt, FZ_K);
    if (rc != IMSSEC_OK)
        nt = 0;
    if (rc == IMSSEC_OK) {
        memset(g_out2, 0xa5, sizeof g_out2);
        memset(g_kr, 0x5a, sizeof g_kr);
        memcpy(g_snap, g_kr, sizeof g_kr);
        n2 = 99;
        rc = imssec_sdp_ue_answer((imssec_str){g_out, n}, (imssec_str){a, an}, &o, g_out2, FZ_OUT,
                                  &n2, g_kr, FZ_K, &nr, NULL);
        if (!fz_code_ok(rc))
            abort();
        fz_after(rc, a, an, g_out2, n2, 99, g_kr, FZ_K);
        if (rc != IMSSEC_OK)
            nr = 0;
        if (rc == IMSSEC_OK) {
            memset(g_out3, 0xa5, sizeof g_out3);
            n3 = 0;
            rc = imssec_sdp_alg_term_answer((imssec_str){g_out2, n2}, g_kt, nt, g_out3, FZ_OUT,
                                            &n3, NULL);
            if (rc != IMSSEC_OK)
                abort(); /* the UE answered every offered e2ae stream */
            fz_after(rc, g_out2, n2, g_out3, n3, 0, NULL, 0);
            for (i = 0; i < nt; i++) {
                size_t j;
                for (j = 0; j < nr && g_kr[j].m_index != g_kt[i].m_index; j++)
                    ;
                if (g_kt[i].status == IMSSEC_SDP_REJECTED)
                    continue;
                if (j == nr)
                    abort();
                fz_paired(&g_kt[i], &g_kr[j]);
                fz_paired(&g_kr[j], &g_kt[i]);
            }
        }
    }

    /* ---- the second SDP as the answer to whatever was offered ---- */
    if (b) {
        r.fail_at = 0;
        memset(g_out3, 0xa5, sizeof g_out3);
        memcpy(g_snap, g_kg, sizeof g_kg);
        n3 = 31;
        rc = imssec_sdp_alg_orig_answer((imssec_str){b, bn}, &ogw, g_kg, ng, g_out3, FZ_OUT, &n3,
                                        NULL);
        if (!fz_code_ok(rc))
            abort();
        fz_after(rc, b, bn, g_out3, n3, 31, g_kg, ng);
        memset(g_out3, 0xa5, sizeof g_out3);
        memcpy(g_snap, g_kt, sizeof g_kt);
        n3 = 31;
        rc = imssec_sdp_alg_term_answer((imssec_str){b, bn}, g_kt, nt, g_out3, FZ_OUT, &n3, NULL);
        if (!fz_code_ok(rc))
            abort();
        fz_after(rc, b, bn, g_out3, n3, 31, g_kt, nt);
        memcpy(g_snap, g_ku, sizeof g_ku);
        rc = imssec_sdp_ue_check_answer((imssec_str){b, bn}, g_ku, nu, NULL);
        if (!fz_code_ok(rc) || (rc != IMSSEC_OK && memcmp(g_ku, g_snap, nu * sizeof *g_ku) != 0))
            abort();
        memset(g_out3, 0xa5, sizeof g_out3);
        memcpy(g_snap, g_kr, sizeof g_kr);
        n3 = 31;
        rc = imssec_sdp_ue_answer((imssec_str){a, an}, (imssec_str){b, bn}, &o, g_out3, FZ_OUT,
                                  &n3, g_kr, FZ_K, &nr, NULL);
        if (!fz_code_ok(rc))
            abort();
        fz_after(rc, b, bn, g_out3, n3, 31, g_kr, FZ_K);
    }
    imssec_sdp_keys_wipe(g_ku, FZ_K);
    imssec_sdp_keys_wipe(g_kg, FZ_K);
    imssec_sdp_keys_wipe(g_kt, FZ_K);
    imssec_sdp_keys_wipe(g_kr, FZ_K);
    return 0;
}
