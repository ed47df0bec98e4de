/*
 * cmd_aka.c -- commands over the aka/ module: Milenage, AKA vectors and
 * checks, AUTS, SQN allocation and SIP digest (plain and AKA).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* ---- shared argument helpers ---------------------------------------------- */

static void aka_cli_key(cli_ctx *c, imssec_milenage *m)
{
    uint8_t k[16], o[16];
    int use_opc;
    cli_hex_exact(c, "k", k, 16);
    use_opc = cli_one_of(c, "op", "opc");
    cli_hex_exact(c, use_opc ? "opc" : "op", o, 16);
    if (use_opc)
        imssec_milenage_init_opc(m, k, o);
    else
        imssec_milenage_init_op(m, k, o);
    imssec_wipe(k, sizeof k);
    imssec_wipe(o, sizeof o);
}

static uint64_t aka_cli_sqn(cli_ctx *c, const char *name)
{
    uint8_t b[6];
    cli_hex_exact(c, name, b, 6);
    return (uint64_t)b[0] << 40 | (uint64_t)b[1] << 32 | (uint64_t)b[2] << 24 |
           (uint64_t)b[3] << 16 | (uint64_t)b[4] << 8 | b[5];
}

static void aka_cli_out_sqn(cli_ctx *c, const char *name, uint64_t v)
{
    uint8_t b[6];
    int i;
    for (i = 5; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    cli_out_hex(c, name, b, 6);
}

/* nc is 8LHEX in SIP (RFC 2617 3.2.2): "00000001"; 1..8 hex digits. */
static uint32_t aka_cli_nc(cli_ctx *c)
{
    const char *v = cli_get(c, "nc");
    uint32_t x = 0;
    size_t i, n;
    if (!v)
        return 1;
    n = strlen(v);
    if (n == 0 || n > 8)
        cli_fail("--nc: want 1..8 hex digits (e.g. 00000001), got '%s'", v);
    for (i = 0; i < n; i++) {
        int ch = (unsigned char)v[i], d;
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            cli_fail("--nc: not hex: '%s'", v);
        x = x << 4 | (uint32_t)d;
    }
    return x;
}


/* ---- milenage ----------------------------------------------------------------- */

static const cli_opt milenage_opts[] = {
    {"k", 0, "K, 16 bytes hex"},
    {"op", 0, "OP, 16 bytes hex (or --opc)"},
    {"opc", 0, "OPc, 16 bytes hex (or --op)"},
    {"rand", 0, "RAND, 16 bytes hex"},
    {"sqn", 0, "SQN, 6 bytes hex"},
    {"amf", 0, "AMF, 2 bytes hex"},
    {NULL, 0, NULL}};

static int cmd_milenage(cli_ctx *c)
{
    imssec_milenage m;
    uint8_t rand[16], sqn[6], amf[2], opc[16], mac_a[8], mac_s[8], res[8], ck[16], ik[16],
        ak[6], aks[6];
    aka_cli_key(c, &m);
    cli_hex_exact(c, "rand", rand, 16);
    cli_hex_exact(c, "sqn", sqn, 6);
    cli_hex_exact(c, "amf", amf, 2);
    imssec_milenage_get_opc(&m, opc);
    imssec_milenage_f1(&m, rand, sqn, amf, mac_a, mac_s);
    imssec_milenage_f2345(&m, rand, res, ck, ik, ak, aks);
    imssec_milenage_wipe(&m);
    cli_out_hex(c, "opc", opc, 16);
    cli_out_hex(c, "mac_a", mac_a, 8);
    cli_out_hex(c, "mac_s", mac_s, 8);
    cli_out_hex(c, "res", res, 8);
    cli_out_hex(c, "ck", ck, 16);
    cli_out_hex(c, "ik", ik, 16);
    cli_out_hex(c, "ak", ak, 6);
    cli_out_hex(c, "ak_star", aks, 6);
    return 0;
}

/* ---- aka-vector ------------------------------------------------------------- */

static int cmd_aka_vector(cli_ctx *c)
{
    imssec_milenage m;
    imssec_aka_vector v;
    uint8_t rand[16], amf[2];
    char nonce[64];
    size_t n;
    uint64_t sqn;
    aka_cli_key(c, &m);
    cli_hex_exact(c, "rand", rand, 16);
    sqn = aka_cli_sqn(c, "sqn");
    cli_hex_exact(c, "amf", amf, 2);
    if (imssec_aka_vector_gen(&m, NULL, rand, sqn, amf, &v) != IMSSEC_OK)
        cli_fail("aka-vector: generation failed");
    imssec_milenage_wipe(&m);
    if (imssec_aka_nonce_encode(v.rand, v.autn, NULL, 0, 1, nonce, sizeof nonce, &n) != IMSSEC_OK)
        cli_fail("aka-vector: nonce encoding failed");
    cli_out_hex(c, "rand", v.rand, 16);
    cli_out_hex(c, "autn", v.autn, 16);
    cli_out_hex(c, "xres", v.xres, v.xres_len);
    cli_out_hex(c, "ck", v.ck, 16);
    cli_out_hex(c, "ik", v.ik, 16);
    cli_out_hex(c, "ak", v.ak, 6);
    cli_out_strn(c, "nonce", nonce, n);
    return 0;
}

/* ---- aka-check ---------------------------------------------------------------- */

static const cli_opt aka_check_opts[] = {
    {"k", 0, "K, 16 bytes hex"},
    {"op", 0, "OP, 16 bytes hex (or --opc)"},
    {"opc", 0, "OPc, 16 bytes hex (or --op)"},
    {"rand", 0, "RAND, 16 bytes hex"},
    {"autn", 0, "AUTN, 16 bytes hex"},
    {"sqn-ms", 0, "the UE's highest accepted SQN, 6 bytes hex (absent: no freshness check)"},
    {"ind-bits", 0, "IND length in bits for --sqn-ms (default 5)"},
    {NULL, 0, NULL}};

/* With --sqn-ms the UE state is "one accepted SQN": SEQ_MS(IND(S)) = SEQ(S)
 * and the highest accepted SQN is S. */
static imssec_aka_sqn *aka_cli_state(cli_ctx *c, imssec_aka_sqn *st)
{
    unsigned bits = 5;
    if (!cli_has(c, "sqn-ms")) {
        if (cli_has(c, "ind-bits"))
            cli_fail("--ind-bits needs --sqn-ms");
        return NULL;
    }
    if (cli_has(c, "ind-bits"))
        bits = (unsigned)cli_uint(c, "ind-bits", 0, IMSSEC_AKA_IND_BITS_MAX);
    imssec_aka_sqn_init(st);
    if (imssec_aka_sqn_configure(st, bits, UINT64_C(1) << 28, 0) != IMSSEC_OK ||
        imssec_aka_sqn_record(st, aka_cli_sqn(c, "sqn-ms")) != IMSSEC_OK)
        cli_fail("--sqn-ms: not usable");
    return st;
}

static void aka_cli_result(cli_ctx *c, int rc, const imssec_aka_result *r)
{
    switch (rc) {
    case IMSSEC_OK:
        cli_out_str(c, "result", "ok");
        cli_out_hex(c, "res", r->res, r->res_len);
        cli_out_hex(c, "ck", r->ck, 16);
        cli_out_hex(c, "ik", r->ik, 16);
        aka_cli_out_sqn(c, "sqn", r->sqn);
        cli_out_hex(c, "amf", r->amf, 2);
        break;
    case IMSSEC_E_MAC_FAILURE:
        cli_out_str(c, "result", "mac_failure");
        break;
    case IMSSEC_E_SYNC_FAILURE:
        cli_out_str(c, "result", "sync_failure");
        cli_out_hex(c, "auts", r->auts, 14);
        break;
    default:
        cli_fail("AKA check failed: %s", imssec_strerror(rc));
    }
}

static int cmd_aka_check(cli_ctx *c)
{
    imssec_milenage m;
    imssec_aka_sqn st, *stp;
    imssec_aka_result r;
    uint8_t rand[16], autn[16];
    int rc;
    aka_cli_key(c, &m);
    cli_hex_exact(c, "rand", rand, 16);
    cli_hex_exact(c, "autn", autn, 16);
    stp = aka_cli_state(c, &st);
    rc = imssec_aka_ue_check(&m, stp, 0, rand, autn, &r);
    imssec_milenage_wipe(&m);
    aka_cli_result(c, rc, &r);
    return 0;
}

/* ---- auts-verify ---------------------------------------------------------------- */

static const cli_opt auts_verify_opts[] = {
    {"k", 0, "K, 16 bytes hex"},
    {"op", 0, "OP, 16 bytes hex (or --opc)"},
    {"opc", 0, "OPc, 16 bytes hex (or --op)"},
    {"rand", 0, "RAND of the challenge the UE answered, 16 bytes hex"},
    {"auts", 0, "AUTS, 14 bytes hex"},
    {NULL, 0, NULL}};

static int cmd_auts_verify(cli_ctx *c)
{
    imssec_milenage m;
    uint8_t rand[16], auts[14];
    uint64_t ms = 0;
    int rc;
    aka_cli_key(c, &m);
    cli_hex_exact(c, "rand", rand, 16);
    cli_hex_exact(c, "auts", auts, 14);
    rc = imssec_aka_auts_verify(&m, rand, auts, &ms);
    imssec_milenage_wipe(&m);
    if (rc == IMSSEC_OK) {
        cli_out_str(c, "result", "ok");
        aka_cli_out_sqn(c, "sqn_ms", ms);
    } else {
        cli_out_str(c, "result", "mac_failure");
    }
    return 0;
}

/* ---- sqn-next ------------------------------------------------------------------- */

static const cli_opt sqn_next_opts[] = {
    {"sqn-ms", 0, "the last SQN (or SQN_MS from AUTS), 6 bytes hex"},
    {"ind-bits", 0, "IND length in bits, 0..28"},
    {"ind", 0, "IND slot of the next vector"},
    {NULL, 0, NULL}};

static int cmd_sqn_next(cli_ctx *c)
{
    uint64_t ms = aka_cli_sqn(c, "sqn-ms"), next = 0;
    unsigned bits = (unsigned)cli_uint(c, "ind-bits", 0, 28);
    unsigned ind = (unsigned)cli_uint(c, "ind", 0, (UINT64_C(1) << bits) - 1);
    if (imssec_aka_sqn_next(ms, bits, ind, &next) != IMSSEC_OK)
        cli_fail("sqn-next: out of range");
    aka_cli_out_sqn(c, "sqn", next);
    return 0;
}

/* ---- digest ---------------------------------------------------------------------- */

static const cli_opt digest_opts[] = {
    {"algorithm", 0, "MD5, MD5-sess, SHA-256(-sess), SHA-512-256(-sess), AKAv1-MD5, AKAv2-MD5, AKAv1-SHA-256, AKAv2-SHA-256"},
    {"username", 0, "user name"},
    {"realm", 0, "realm"},
    {"nonce", 0, "nonce"},
    {"method", 0, "request method"},
    {"uri", 0, "digest-uri"},
    {"password", 0, "password text (or --password-hex)"},
    {"password-hex", 0, "password bytes in hex, e.g. an AKAv1 RES"},
    {"qop", 0, "auth or auth-int (absent: RFC 2069 form)"},
    {"nc", 0, "nonce count, hex (default 00000001)"},
    {"cnonce", 0, "client nonce (needed with --qop or a -sess algorithm)"},
    {"body-hex", 0, "message body in hex (auth-int)"},
    {"userhash", 1, "also print username=H(username:realm) (RFC 7616)"},
    {NULL, 0, NULL}};

static int cmd_digest(cli_ctx *c)
{
    imssec_digest_in in;
    imssec_digest_out o;
    static uint8_t pwbin[4096], body[65536];
    const char *alg = cli_need(c, "algorithm"), *qop = cli_get(c, "qop");
    memset(&in, 0, sizeof in);
    in.alg = imssec_digest_alg_from_name(imssec_cstr(alg));
    if (in.alg == IMSSEC_DIGEST_UNKNOWN)
        cli_fail("--algorithm: unknown '%s'", alg);
    in.username = imssec_cstr(cli_need(c, "username"));
    in.realm = imssec_cstr(cli_need(c, "realm"));
    in.nonce = imssec_cstr(cli_need(c, "nonce"));
    in.method = imssec_cstr(cli_need(c, "method"));
    in.uri = imssec_cstr(cli_need(c, "uri"));
    if (cli_one_of(c, "password", "password-hex")) {
        in.password_len = cli_hex(c, "password-hex", pwbin, 0, sizeof pwbin);
        in.password = pwbin;
    } else {
        in.password = (const uint8_t *)cli_need(c, "password");
        in.password_len = strlen((const char *)in.password);
    }
    if (!qop) {
        int sess = strstr(alg, "-sess") != NULL || strstr(alg, "-SESS") != NULL;
        in.qop = IMSSEC_DIGEST_QOP_NONE;
        if (cli_has(c, "nc") || (cli_has(c, "cnonce") && !sess))
            cli_fail("--nc needs --qop, --cnonce needs --qop or a -sess algorithm");
        if (sess)
            in.cnonce = imssec_cstr(cli_need(c, "cnonce"));
    } else {
        if (strcmp(qop, "auth") == 0)
            in.qop = IMSSEC_DIGEST_QOP_AUTH;
        else if (strcmp(qop, "auth-int") == 0)
            in.qop = IMSSEC_DIGEST_QOP_AUTH_INT;
        else
            cli_fail("--qop: want auth or auth-int, got '%s'", qop);
        in.cnonce = imssec_cstr(cli_need(c, "cnonce"));
        in.nc = aka_cli_nc(c);
    }
    if (cli_has(c, "body-hex")) {
        in.body_len = cli_hex(c, "body-hex", body, 0, sizeof body);
        in.body = body;
    }
    in.userhash = cli_has(c, "userhash");
    if (imssec_digest_compute(&in, &o) != IMSSEC_OK)
        cli_fail("digest: cannot compute");
    if (in.userhash)
        cli_out_str(c, "username", o.username);
    cli_out_str(c, "ha1", o.ha1);
    cli_out_str(c, "ha2", o.ha2);
    cli_out_str(c, "response", o.response);
    imssec_wipe(pwbin, sizeof pwbin);
    return 0;
}

/* ---- digest-aka ------------------------------------------------------------------ */

static const cli_opt digest_aka_opts[] = {
    {"k", 0, "K, 16 bytes hex"},
    {"op", 0, "OP, 16 bytes hex (or --opc)"},
    {"opc", 0, "OPc, 16 bytes hex (or --op)"},
    {"challenge", 0, "the WWW-Authenticate / Proxy-Authenticate value ('Digest ...')"},
    {"method", 0, "request method, e.g. REGISTER"},
    {"uri", 0, "digest-uri, e.g. sip:ims.example.com"},
    {"username", 0, "private user identity"},
    {"cnonce", 0, "client nonce (default: 8 random bytes, hex)"},
    {"nc", 0, "nonce count, hex (default 00000001)"},
    {"sqn-ms", 0, "the UE's highest accepted SQN, 6 bytes hex (absent: no freshness check)"},
    {"ind-bits", 0, "IND length in bits for --sqn-ms (default 5)"},
    {NULL, 0, NULL}};

static void aka_cli_cnonce(char out[17])
{
    uint8_t b[8];
    FILE *f = fopen("/dev/urandom", "rb");
    int i;
    if (!f || fread(b, 1, sizeof b, f) != sizeof b)
        cli_fail("cannot read /dev/urandom for a cnonce (give --cnonce)");
    fclose(f);
    for (i = 0; i < 8; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static int cmd_digest_aka(cli_ctx *c)
{
    imssec_milenage m;
    imssec_aka_sqn st;
    imssec_aka_soft soft;
    imssec_aka_provider p;
    imssec_aka_result r;
    imssec_digest_challenge ch[8];
    imssec_digest_request rq;
    imssec_digest_out o;
    static const int pref[] = {IMSSEC_DIGEST_AKAV2_SHA256, IMSSEC_DIGEST_AKAV1_SHA256,
                               IMSSEC_DIGEST_AKAV2_MD5, IMSSEC_DIGEST_AKAV1_MD5};
    const char *text;
    char cn[17], out[2048];
    size_t n = 0, len = 0;
    int idx, rc;
    imssec_errinfo err;
    aka_cli_key(c, &m);
    text = cli_need(c, "challenge");
    rc = imssec_digest_challenge_parse(imssec_cstr(text), ch, 8, &n, &err);
    if (rc != IMSSEC_OK)
        cli_fail("--challenge: %s (%s at offset %u)", imssec_strerror(rc), err.what,
                 (unsigned)err.offset);
    idx = imssec_digest_challenge_select(ch, n, pref, sizeof pref / sizeof pref[0]);
    if (idx < 0)
        cli_fail("--challenge: no usable AKA digest challenge (algorithm or qop unsupported)");
    soft.milenage = &m;
    soft.sqn = aka_cli_state(c, &st);
    soft.policy = 0;
    imssec_aka_soft_provider(&p, &soft);
    memset(&rq, 0, sizeof rq);
    rq.username = imssec_cstr(cli_need(c, "username"));
    rq.method = imssec_cstr(cli_need(c, "method"));
    rq.uri = imssec_cstr(cli_need(c, "uri"));
    if (cli_has(c, "cnonce")) {
        rq.cnonce = imssec_cstr(cli_need(c, "cnonce"));
    } else if (ch[idx].qop_mask) {
        aka_cli_cnonce(cn);
        rq.cnonce = imssec_cstr(cn);
    }
    rq.nc = aka_cli_nc(c);
    rc = imssec_digest_aka_respond(&p, &ch[idx], &rq, &r, &o, out, sizeof out, &len);
    imssec_milenage_wipe(&m);
    switch (rc) {
    case IMSSEC_OK:
        cli_out_str(c, "result", "ok");
        cli_out_strn(c, "authorization", out, len);
        cli_out_hex(c, "res", r.res, r.res_len);
        cli_out_hex(c, "ck", r.ck, 16);
        cli_out_hex(c, "ik", r.ik, 16);
        aka_cli_out_sqn(c, "sqn", r.sqn);
        cli_out_hex(c, "amf", r.amf, 2);
        break;
    case IMSSEC_E_SYNC_FAILURE:
        cli_out_str(c, "result", "sync_failure");
        cli_out_strn(c, "authorization", out, len);
        cli_out_hex(c, "auts", r.auts, 14);
        break;
    case IMSSEC_E_MAC_FAILURE:
        cli_out_str(c, "result", "mac_failure");
        break;
    default:
        cli_fail("digest-aka: %s", imssec_strerror(rc));
    }
    return 0;
}

const cli_cmd cli_cmds_aka[] = {
    {"milenage", "Milenage f1, f1*, f2..f5* (TS 35.206)",
     "milenage --k K (--op OP | --opc OPC) --rand R --sqn S --amf A\n"
     "Prints opc= mac_a= mac_s= res= ck= ik= ak= ak_star=.",
     milenage_opts, cmd_milenage},
    {"aka-vector", "network side: an authentication vector and the IMS nonce",
     "aka-vector --k K (--op OP | --opc OPC) --rand R --sqn S --amf A\n"
     "Prints rand= autn= xres= ck= ik= ak= nonce= (nonce = base64(RAND||AUTN)).",
     milenage_opts, cmd_aka_vector},
    {"aka-check", "UE side: verify AUTN (MAC, then SQN freshness, TS 33.102 6.3.3)",
     "aka-check --k K (--op|--opc) --rand R --autn AUTN [--sqn-ms S] [--ind-bits N]\n"
     "Prints result=ok|mac_failure|sync_failure; res= ck= ik= sqn= amf= on ok, auts= on\n"
     "sync failure.  With --sqn-ms the UE state is that single highest-accepted SQN\n"
     "(Annex C with IND --ind-bits, default 5); without it SQN freshness is not checked.",
     aka_check_opts, cmd_aka_check},
    {"auts-verify", "network side: verify AUTS and recover SQN_MS (TS 33.102 6.3.5)",
     "auts-verify --k K (--op|--opc) --rand R --auts AUTS\n"
     "Prints result=ok|mac_failure, and sqn_ms= on ok.",
     auts_verify_opts, cmd_auts_verify},
    {"sqn-next", "network side: the next SEQ||IND after a SQN (TS 33.102 C.3.2)",
     "sqn-next --sqn-ms S --ind-bits N --ind I\nPrints sqn=.", sqn_next_opts, cmd_sqn_next},
    {"digest", "SIP/HTTP digest HA1, HA2 and response (RFC 2617, 7616, 3310, 4169)",
     "digest --algorithm A --username U --realm R --nonce N --method M --uri URI\n"
     "       (--password P | --password-hex H) [--qop Q --nc NC --cnonce C] [--body-hex B]\n"
     "       [--userhash]\n"
     "Prints ha1= ha2= response= (and username= first with --userhash).  For AKA\n"
     "algorithms the password is the AKA password (AKAv1: RES via --password-hex).",
     digest_opts, cmd_digest},
    {"digest-aka", "UE side: answer an IMS AKA digest challenge with Milenage",
     "digest-aka --k K (--op|--opc) --challenge 'Digest ...' --method M --uri URI\n"
     "           --username U [--cnonce C --nc NC] [--sqn-ms S]\n"
     "Prints result=ok|sync_failure|mac_failure, authorization=Digest ... and res= ck=\n"
     "ik= sqn= amf= on ok, auts= on sync failure.",
     digest_aka_opts, cmd_digest_aka},
    {NULL, NULL, NULL, NULL, NULL}};
