/*
 * aka_milenage_ts35207.c -- Milenage (TS 35.206), the UE check, the network
 * side and the AKA nonce against published vectors:
 * test/vectors/milenage-ts35207.tsv (3GPP TS 35.207 test sets 1-6) and
 * test/vectors/aka-flows.tsv (libosmocore and free5gc test suites, sources
 * named per row); the algorithm constants of TS 35.206 4.1.
 */

#include "aka_fixture.h"

/* ---- a tiny TSV reader: one header row, then rows of tab-separated cells */
typedef struct tka_tsv {
    char buf[16384];
    char *hdr[40], *cell[40];
    size_t ncol;
    char *next;
} tka_tsv;

static size_t tka_split(char *line, char **out, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *t = strchr(p, '\t');
        out[n++] = p;
        if (!t)
            break;
        *t = 0;
        p = t + 1;
    }
    return n;
}

static int tka_open(tka_tsv *t, const char *name)
{
    FILE *f = fopen(t_vector_path(name), "rb");
    size_t n;
    char *nl;
    if (!f)
        return -1;
    n = fread(t->buf, 1, sizeof t->buf - 1, f);
    fclose(f);
    t->buf[n] = 0;
    nl = strchr(t->buf, '\n');
    if (!nl)
        return -1;
    *nl = 0;
    t->ncol = tka_split(t->buf, t->hdr, 40);
    t->next = nl + 1;
    return 0;
}

static int tka_row(tka_tsv *t)
{
    char *nl;
    size_t n, i;
    if (!t->next || !*t->next)
        return 0;
    nl = strchr(t->next, '\n');
    if (nl)
        *nl = 0;
    n = tka_split(t->next, t->cell, 40);
    for (i = n; i < 40; i++)
        t->cell[i] = (char *)"";
    t->next = nl ? nl + 1 : NULL;
    return 1;
}

static const char *tka_get(const tka_tsv *t, const char *col)
{
    size_t i;
    for (i = 0; i < t->ncol; i++)
        if (strcmp(t->hdr[i], col) == 0)
            return t->cell[i];
    return "";
}

static uint64_t tka_sqn(const char *hex)
{
    uint8_t b[6];
    t_unhex(hex, b, 6);
    return (uint64_t)b[0] << 40 | (uint64_t)b[1] << 32 | (uint64_t)b[2] << 24 |
           (uint64_t)b[3] << 16 | (uint64_t)b[4] << 8 | b[5];
}

/* TS 35.207 sets 1-6: OPc from OP, and f1, f1*, f2..f5* from both OP and OPc. */
T_TEST(aka_milenage_ts35207)
{
    tka_tsv t;
    int rows = 0, pass;
    if (tka_open(&t, "milenage-ts35207.tsv") != 0)
        T_SKIP("milenage-ts35207.tsv not found");
    while (tka_row(&t)) {
        uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16], got[16];
        uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], aks[6];
        imssec_milenage m;
        t_unhex(tka_get(&t, "K"), k, 16);
        t_unhex(tka_get(&t, "RAND"), rand, 16);
        t_unhex(tka_get(&t, "SQN"), sqn, 6);
        t_unhex(tka_get(&t, "AMF"), amf, 2);
        t_unhex(tka_get(&t, "OP"), op, 16);
        t_unhex(tka_get(&t, "OPc"), opc, 16);
        for (pass = 0; pass < 2; pass++) {
            if (pass == 0)
                imssec_milenage_init_op(&m, k, op);
            else
                imssec_milenage_init_opc(&m, k, opc);
            imssec_milenage_get_opc(&m, got);
            T_EQ_MEM(got, opc, 16);
            imssec_milenage_f1(&m, rand, sqn, amf, mac_a, mac_s);
            imssec_milenage_f2345(&m, rand, res, ck, ik, ak, aks);
            T_EQ_HEX(mac_a, 8, tka_get(&t, "f1"));
            T_EQ_HEX(mac_s, 8, tka_get(&t, "f1star"));
            T_EQ_HEX(res, 8, tka_get(&t, "f2"));
            T_EQ_HEX(ck, 16, tka_get(&t, "f3"));
            T_EQ_HEX(ik, 16, tka_get(&t, "f4"));
            T_EQ_HEX(ak, 6, tka_get(&t, "f5"));
            T_EQ_HEX(aks, 6, tka_get(&t, "f5star"));
            /* NULL outputs are allowed and do not disturb the others */
            memset(ck, 0, sizeof ck);
            imssec_milenage_f2345(&m, rand, NULL, ck, NULL, NULL, NULL);
            T_EQ_HEX(ck, 16, tka_get(&t, "f3"));
            imssec_milenage_f1(&m, rand, sqn, amf, NULL, mac_s);
            T_EQ_HEX(mac_s, 8, tka_get(&t, "f1star"));
            imssec_milenage_wipe(&m);
        }
        rows++;
    }
    T_EQ_INT(rows, 6);
}

/* TS 35.206 4.1: c1..c5 and r1..r5 are parameters of the algorithm set.
 * Setting the default constants explicitly changes nothing (set 1, from OP);
 * r >= 128 is refused with IMSSEC_E_RANGE; a different c changes the outputs
 * (the constants are really used).  Then, from the OPc form of set 1: a
 * refused r leaves the context byte for byte as it was, and wipe zeroes it. */
T_TEST(aka_milenage_ts35206_4_1_constants)
{
    uint8_t k[16], op[16], rand[16], res[8];
    uint8_t c[80]; /* c1..c5 */
    uint8_t r[5] = {64, 0, 32, 64, 96}, bad[5] = {64, 0, 128, 64, 96};
    imssec_milenage m;
    t_unhex("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
    t_unhex("cdc202d5123e20f62b6d676ac72cb318", op, 16);
    t_unhex("23553cbe9637a89d218ae64dae47bf35", rand, 16);
    memset(c, 0, sizeof c);
    c[16 + 15] = 1;
    c[32 + 15] = 2;
    c[48 + 15] = 4;
    c[64 + 15] = 8;
    imssec_milenage_init_op(&m, k, op);
    T_EQ_INT(imssec_milenage_set_constants(&m, c, r), IMSSEC_OK);
    imssec_milenage_f2345(&m, rand, res, NULL, NULL, NULL, NULL);
    T_EQ_HEX(res, 8, "a54211d5e3ba50bf"); /* TS 35.207 set 1 f2 */
    T_EQ_INT(imssec_milenage_set_constants(&m, c, bad), IMSSEC_E_RANGE);
    c[16] = 0x80;
    T_EQ_INT(imssec_milenage_set_constants(&m, c, r), IMSSEC_OK);
    imssec_milenage_f2345(&m, rand, res, NULL, NULL, NULL, NULL);
    T_ASSERT(memcmp(res, "\xa5\x42\x11\xd5\xe3\xba\x50\xbf", 8) != 0);

    {
        imssec_milenage m, c;
        uint8_t cc[80], rr[5] = {64, 0, 32, 64, 128};
        mk_m(&m);
        memset(cc, 0, sizeof cc);
        memcpy(&c, &m, sizeof m);
        T_EQ_INT(imssec_milenage_set_constants(&m, cc, rr), IMSSEC_E_RANGE);
        T_EQ_MEM(&m, &c, sizeof m);
        imssec_milenage_wipe(&m);
        {
            static const imssec_milenage z;
            T_EQ_MEM(&m, &z, sizeof m);
        }
    }
}

/* aka-flows.tsv: autn rows (network vector and UE acceptance), auts rows
 * (AUTS verification, including the wrong-K MAC-S failure), sqn_next rows. */
T_TEST(aka_flows_vectors)
{
    tka_tsv t;
    int nautn = 0, nauts = 0, nnext = 0;
    if (tka_open(&t, "aka-flows.tsv") != 0)
        T_SKIP("aka-flows.tsv not found");
    while (tka_row(&t)) {
        const char *kind = tka_get(&t, "kind"), *expect = tka_get(&t, "expect");
        uint8_t k[16], opc[16], rand[16], amf[2];
        imssec_milenage m;
        t_unhex(tka_get(&t, "K"), k, 16);
        t_unhex(tka_get(&t, "OPc"), opc, 16);
        t_unhex(tka_get(&t, "RAND"), rand, 16);
        imssec_milenage_init_opc(&m, k, opc);
        if (strcmp(kind, "autn") == 0) {
            imssec_aka_vector v;
            imssec_aka_result r;
            imssec_aka_sqn st;
            uint64_t sqn = tka_sqn(tka_get(&t, "SQN"));
            t_unhex(tka_get(&t, "AMF"), amf, 2);
            T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, sqn, amf, &v), IMSSEC_OK);
            T_EQ_HEX(v.autn, 16, tka_get(&t, "AUTN"));
            T_EQ_UINT(v.xres_len, 8);
            T_EQ_HEX(v.xres, 8, tka_get(&t, "RES"));
            T_EQ_HEX(v.ck, 16, tka_get(&t, "CK"));
            T_EQ_HEX(v.ik, 16, tka_get(&t, "IK"));
            if (*tka_get(&t, "AK"))
                T_EQ_HEX(v.ak, 6, tka_get(&t, "AK"));
            if (*tka_get(&t, "nonce_b64")) {
                char nonce[64];
                size_t n;
                uint8_t r2[16], a2[16];
                T_EQ_INT(imssec_aka_nonce_encode(v.rand, v.autn, NULL, 0, 1, nonce, sizeof nonce, &n),
                         IMSSEC_OK);
                T_EQ_SLICE(nonce, n, tka_get(&t, "nonce_b64"));
                T_EQ_INT(imssec_aka_nonce_decode(T_S(nonce, n), r2, a2, NULL, 0, NULL), IMSSEC_OK);
                T_EQ_MEM(r2, rand, 16);
                T_EQ_MEM(a2, v.autn, 16);
            }
            /* the UE side accepts it: no state, then a state that has seen
             * nothing: SEQ 0 is never fresh and a SEQ beyond delta = 2^28
             * from the highest accepted (0) is refused (Annex C.2.2) */
            T_EQ_INT(imssec_aka_ue_check(&m, NULL, 0, rand, v.autn, &r), IMSSEC_OK);
            T_EQ_HEX(r.res, 8, tka_get(&t, "RES"));
            T_EQ_HEX(r.ck, 16, tka_get(&t, "CK"));
            T_EQ_HEX(r.ik, 16, tka_get(&t, "IK"));
            T_EQ_UINT(r.sqn, sqn);
            T_EQ_MEM(r.amf, amf, 2);
            imssec_aka_sqn_init(&st);
            T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, rand, v.autn, &r),
                     ((sqn >> 5) && (sqn >> 5) <= (1u << 28)) ? IMSSEC_OK
                                                                 : IMSSEC_E_SYNC_FAILURE);
            nautn++;
        } else if (strcmp(kind, "auts") == 0) {
            uint8_t auts[14];
            uint64_t ms = 12345;
            t_unhex(tka_get(&t, "AUTS"), auts, 14);
            if (strcmp(expect, "ok") == 0) {
                T_EQ_INT(imssec_aka_auts_verify(&m, rand, auts, &ms), IMSSEC_OK);
                T_EQ_UINT(ms, tka_sqn(tka_get(&t, "SQN_MS")));
            } else {
                T_EQ_INT(imssec_aka_auts_verify(&m, rand, auts, &ms), IMSSEC_E_MAC_FAILURE);
                T_EQ_UINT(ms, 12345);
            }
            nauts++;
        } else if (strcmp(kind, "sqn_next") == 0) {
            uint64_t next = 0;
            T_EQ_INT(imssec_aka_sqn_next(tka_sqn(tka_get(&t, "SQN_MS")),
                                         (unsigned)atoi(tka_get(&t, "IND_BITLEN")),
                                         (unsigned)atoi(tka_get(&t, "IND")), &next),
                     IMSSEC_OK);
            T_EQ_UINT(next, tka_sqn(tka_get(&t, "SQN")));
            nnext++;
        }
        imssec_milenage_wipe(&m);
    }
    T_EQ_INT(nautn, 3);
    T_EQ_INT(nauts, 3);
    T_EQ_INT(nnext, 2);
}

/* libosmocore tests/auth/milenage_test.c: a USIM at SQN 31 answers RAND 0
 * with AUTS 8711a0ec9e1637df17f80b384ee4 (aka-flows.tsv row
 * osmo-milenage_test-auts).  Our UE produces that exact AUTS for any stale
 * challenge once its highest accepted SQN is 31. */
T_TEST(aka_ue_auts_matches_libosmocore)
{
    uint8_t k[16], rand[16] = {0}, amf[2] = {0, 0};
    imssec_milenage m;
    imssec_aka_vector v;
    imssec_aka_result r;
    imssec_aka_sqn st;
    t_unhex("000102030405060708090a0b0c0d0e0f", k, 16);
    imssec_milenage_init_opc(&m, k, k);
    imssec_aka_sqn_init(&st);
    T_EQ_INT(imssec_aka_sqn_record(&st, 31), IMSSEC_OK);
    T_EQ_INT(imssec_aka_vector_gen(&m, NULL, rand, 31, amf, &v), IMSSEC_OK);
    memset(&r, 0, sizeof r);
    T_EQ_INT(imssec_aka_ue_check(&m, &st, 0, rand, v.autn, &r), IMSSEC_E_SYNC_FAILURE);
    T_EQ_HEX(r.auts, 14, "8711a0ec9e1637df17f80b384ee4");
    T_EQ_UINT(imssec_aka_sqn_highest(&st), 31);
}
