/*
 * cmd_esp.c -- commands over the esp/ module: TS 33.203 Annex I keys, one
 * packet through an SA in either direction, and the Wireshark esp_sa line
 * that lets tshark decrypt and verify our traffic.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define ESPC_PKT_MAX 65535

/* ---- option values ------------------------------------------------------- */

/* --alg: allow_later admits the later-release values, aes-gmac and none
 * (also spelled null, as in Annex H: no integrity transform, for aes-gcm
 * and the RFC 3602 encryption-only samples). */
static int espc_auth(cli_ctx *c, int allow_later)
{
    const char *v = cli_need(c, "alg");
    if (strcmp(v, "hmac-md5-96") == 0)
        return IMSSEC_ALG_HMAC_MD5_96;
    if (strcmp(v, "hmac-sha-1-96") == 0)
        return IMSSEC_ALG_HMAC_SHA1_96;
    if (allow_later && strcmp(v, "aes-gmac") == 0)
        return IMSSEC_ALG_AES_GMAC;
    if (allow_later && (strcmp(v, "none") == 0 || strcmp(v, "null") == 0))
        return IMSSEC_ALG_NULL;
    cli_fail("--alg: want hmac-md5-96 or hmac-sha-1-96%s, got '%s'",
             allow_later ? " (or aes-gmac, none)" : "", v);
}

static int espc_enc(cli_ctx *c, int allow_later)
{
    const char *v = cli_need(c, "ealg");
    if (strcmp(v, "null") == 0)
        return IMSSEC_EALG_NULL;
    if (strcmp(v, "des-ede3-cbc") == 0)
        return IMSSEC_EALG_DES_EDE3_CBC;
    if (strcmp(v, "aes-cbc") == 0)
        return IMSSEC_EALG_AES_CBC;
    if (allow_later && strcmp(v, "aes-gcm") == 0)
        return IMSSEC_EALG_AES_GCM;
    cli_fail("--ealg: want null, des-ede3-cbc or aes-cbc%s, got '%s'",
             allow_later ? " (or aes-gcm)" : "", v);
}

/* Key lengths: IK_ESP / CK_ESP as esp/ takes them (the GCM suites: the
 * 16-byte key, then the 4-byte salt). */
static size_t espc_auth_klen(int alg)
{
    return alg == IMSSEC_ALG_HMAC_MD5_96 ? 16 : alg == IMSSEC_ALG_NULL ? 0 : 20;
}
static size_t espc_enc_klen(int ealg)
{
    return ealg == IMSSEC_EALG_AES_CBC    ? 16
           : ealg == IMSSEC_EALG_AES_GCM ? 20
           : ealg == IMSSEC_EALG_NULL    ? 0
                                         : 24;
}
/* Explicit IV: 16 AES-CBC, 8 DES-EDE3-CBC / AES-GCM / AES-GMAC, else none. */
static size_t espc_iv_len(int alg, int ealg)
{
    if (ealg == IMSSEC_EALG_AES_CBC)
        return 16;
    return ealg != IMSSEC_EALG_NULL || alg == IMSSEC_ALG_AES_GMAC ? 8 : 0;
}

static int espc_mode(cli_ctx *c)
{
    const char *v = cli_get(c, "mode");
    if (!v || strcmp(v, "transport") == 0)
        return IMSSEC_MODE_TRANS;
    if (strcmp(v, "tunnel") == 0)
        return IMSSEC_MODE_TUN;
    if (strcmp(v, "udp-tunnel") == 0)
        return IMSSEC_MODE_UDP_ENC_TUN;
    if (strcmp(v, "udp-transport") == 0)
        return IMSSEC_MODE_UDP_ENC_TRANS;
    cli_fail("--mode: want transport, tunnel, udp-tunnel or udp-transport, got '%s'", v);
}

static void espc_addr(cli_ctx *c, const char *name, imssec_addr *a)
{
    const char *v = cli_need(c, name);
    if (imssec_addr_parse(imssec_cstr(v), a) != IMSSEC_OK)
        cli_fail("--%s: not an IPv4 or IPv6 address: '%s'", name, v);
}

/* Keys, SPI, algorithms, mode, addresses, ports shared by the packet
 * commands.  Key buffers belong to the caller. */
static void espc_params(cli_ctx *c, imssec_esp_params *p, uint8_t *ak, uint8_t *ek,
                        int need_addr)
{
    imssec_esp_params_init(p);
    p->spi = (uint32_t)cli_uint(c, "spi", 1, UINT32_MAX);
    p->alg = espc_auth(c, 1);
    p->ealg = espc_enc(c, 1);
    p->mode = espc_mode(c);
    if (p->alg != IMSSEC_ALG_NULL) {
        size_t want = espc_auth_klen(p->alg);
        p->auth_key_len = cli_hex(c, "auth-key", ak, want, want);
        p->auth_key = ak;
    }
    if (p->ealg != IMSSEC_EALG_NULL) {
        size_t want = espc_enc_klen(p->ealg);
        p->enc_key_len = cli_hex(c, "enc-key", ek, want, want);
        p->enc_key = ek;
    }
    p->esn = cli_has(c, "esn");
    if (p->mode != IMSSEC_MODE_TRANS && p->mode != IMSSEC_MODE_UDP_ENC_TRANS) {
        if (need_addr || cli_has(c, "src") || cli_has(c, "dst")) {
            espc_addr(c, "src", &p->src);
            espc_addr(c, "dst", &p->dst);
        } else { /* inbound: the outer addresses are not checked */
            p->src.len = p->dst.len = 4;
        }
    }
    if (cli_has(c, "sport"))
        p->sport = (uint16_t)cli_uint(c, "sport", 1, 65535);
    if (cli_has(c, "dport"))
        p->dport = (uint16_t)cli_uint(c, "dport", 1, 65535);
    if (cli_has(c, "window"))
        p->replay_window = (uint32_t)cli_uint(c, "window", 32, IMSSEC_REPLAY_WINDOW_MAX);
}

static int espc_setup(imssec_esp_sa *sa, const imssec_esp_params *p)
{
    imssec_errinfo err;
    int rc = imssec_esp_sa_setup(sa, p, &err);
    if (rc != IMSSEC_OK)
        cli_fail("SA parameters rejected: %s (%s: %s)", imssec_strerror(rc),
                 err.param ? err.param : "", err.what);
    return rc;
}

static int espc_urandom(void *user, uint8_t *out, size_t len)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got;
    (void)user;
    if (!f)
        return -1;
    got = fread(out, 1, len, f);
    fclose(f);
    return got == len ? 0 : -1;
}

/* ---- keys ---------------------------------------------------------------- */

static const cli_opt keys_opts[] = {
    {"alg", 0, "hmac-md5-96 | hmac-sha-1-96 | aes-gmac (with ealg null) | null (with aes-gcm)"},
    {"ealg", 0, "null | des-ede3-cbc | aes-cbc | aes-gcm"},
    {"ik", 0, "IK_IM, 16 bytes hex"},
    {"ck", 0, "CK_IM, 16 bytes hex"},
    {NULL, 0, NULL}};

static int cmd_keys(cli_ctx *c)
{
    uint8_t ik[16], ck[16], ike[IMSSEC_ESP_AUTH_KEY_MAX], cke[IMSSEC_ESP_ENC_KEY_MAX];
    size_t ikl, ckl;
    int auth = espc_auth(c, 1), enc = espc_enc(c, 1), rc;
    cli_hex_exact(c, "ik", ik, 16);
    cli_hex_exact(c, "ck", ck, 16);
    rc = imssec_esp_keys(auth, enc, ik, ck, ike, &ikl, cke, &ckl);
    if (rc != IMSSEC_OK)
        cli_fail("keys: %s", imssec_strerror(rc));
    cli_out_hex(c, "ik_esp", ike, ikl);
    cli_out_hex(c, "ck_esp", cke, ckl);
    imssec_wipe(ik, sizeof ik);
    imssec_wipe(ck, sizeof ck);
    imssec_wipe(ike, sizeof ike);
    imssec_wipe(cke, sizeof cke);
    return 0;
}

/* ---- esp-protect / esp-unprotect ------------------------------------------ */

#define ESPC_SA_OPTS                                                           \
    {"spi", 0, "SPI, 1..2^32-1 (decimal or 0x hex)"},                          \
    {"alg", 0, "hmac-md5-96 | hmac-sha-1-96 | aes-gmac (RFC 4543, ealg null) | none (aes-gcm; RFC 3602 samples)"}, \
    {"ealg", 0, "null | des-ede3-cbc | aes-cbc | aes-gcm (RFC 4106, alg none)"}, \
    {"auth-key", 0, "IK_ESP hex (16 bytes MD5, 20 bytes SHA-1, 20 bytes aes-gmac: key || salt)"}, \
    {"enc-key", 0, "CK_ESP hex (16 bytes AES, 24 bytes 3DES, 20 bytes aes-gcm: key || salt)"}, \
    {"mode", 0, "transport (default) | tunnel | udp-tunnel | udp-transport"},  \
    {"src", 0, "tunnel: outer source address"},                                \
    {"dst", 0, "tunnel: outer destination address"},                          \
    {"sport", 0, "udp-*: UDP source port (default 4500)"},                     \
    {"dport", 0, "udp-*: UDP destination port (default 4500)"},               \
    {"esn", 1, "extended (64-bit) sequence numbers"},                          \
    {"packet", 0, "the IP packet, hex"}

static const cli_opt protect_opts[] = {
    ESPC_SA_OPTS,
    {"seq", 0, "this packet's sequence number (64-bit with --esn)"},
    {"iv", 0, "the IV, hex: 16 bytes aes-cbc, 8 des-ede3-cbc / aes-gcm / aes-gmac (known-answer tests and byte-exact comparisons; default: random)"},
    {NULL, 0, NULL}};

static int cmd_protect(cli_ctx *c)
{
    static uint8_t pkt[ESPC_PKT_MAX], out[ESPC_PKT_MAX + IMSSEC_ESP_OVERHEAD_MAX];
    uint8_t ak[IMSSEC_ESP_AUTH_KEY_MAX], ek[IMSSEC_ESP_ENC_KEY_MAX], iv[IMSSEC_ESP_IV_MAX];
    const uint8_t *ivp = NULL;
    imssec_esp_params p;
    imssec_esp_sa sa;
    imssec_io io;
    size_t n, olen;
    uint64_t seq;
    int rc;
    espc_params(c, &p, ak, ek, 1);
    seq = cli_uint(c, "seq", 1, p.esn ? UINT64_MAX : UINT32_MAX);
    p.dir = IMSSEC_ESP_OUTBOUND;
    p.seq = seq - 1;
    if (cli_has(c, "iv") && espc_iv_len(p.alg, p.ealg)) {
        size_t want = espc_iv_len(p.alg, p.ealg);
        cli_hex(c, "iv", iv, want, want);
        ivp = iv;
    }
    n = cli_hex(c, "packet", pkt, 1, ESPC_PKT_MAX);
    espc_setup(&sa, &p);
    memset(&io, 0, sizeof io);
    io.random = espc_urandom;
    rc = imssec_esp_protect(&sa, &io, ivp, pkt, n, out, sizeof out, &olen, NULL);
    imssec_esp_sa_wipe(&sa);
    if (rc != IMSSEC_OK)
        cli_fail("esp-protect: %s (%s)", imssec_strerror(rc), imssec_errname(rc));
    cli_out_hex(c, "packet", out, olen);
    return 0;
}

static const char *espc_result(int rc)
{
    switch (rc) {
    case IMSSEC_OK: return "ok";
    case IMSSEC_E_ICV: return "icv_failure";
    case IMSSEC_E_REPLAY: return "replay";
    case IMSSEC_E_BAD_PADDING: return "bad_padding";
    case IMSSEC_E_MALFORMED: return "malformed";
    case IMSSEC_E_NO_SA: return "no_sa";
    case IMSSEC_E_DUMMY: return "dummy";
    case IMSSEC_E_NOT_ESP: return "not_esp";
    case IMSSEC_E_SEQ_EXHAUSTED: return "seq_exhausted";
    default: return NULL;
    }
}

static const cli_opt unprotect_opts[] = {
    ESPC_SA_OPTS,
    {"seq-hi", 0, "with --esn: the high 32 bits of the packet's sequence number (default 0)"},
    {"window", 0, "replay window in bits (default 64)"},
    {NULL, 0, NULL}};

/* Offset of the ESP header's sequence number in an IP packet, or 0: the CLI
 * needs it only to place the fresh SA's window just below the packet. */
static size_t espc_seq_off(const uint8_t *p, size_t n, int udp)
{
    size_t off;
    uint8_t nh;
    if (n >= 20 && (p[0] >> 4) == 4) {
        off = (size_t)(p[0] & 15) * 4;
        nh = p[9];
    } else if (n >= 40 && (p[0] >> 4) == 6) {
        size_t nh_off = 6;
        off = 40;
        nh = p[6];
        while ((nh == 0 || nh == 43 || nh == 60) && off + 8 <= n) {
            nh_off = off;
            off += ((size_t)p[off + 1] + 1) * 8;
            nh = p[nh_off];
        }
    } else {
        return 0;
    }
    if (nh != (udp ? 17 : 50))
        return 0;
    off += udp ? 8u : 0u;
    return off + 8 <= n ? off + 4 : 0;
}

static int cmd_unprotect(cli_ctx *c)
{
    static uint8_t pkt[ESPC_PKT_MAX], out[ESPC_PKT_MAX];
    uint8_t ak[IMSSEC_ESP_AUTH_KEY_MAX], ek[IMSSEC_ESP_ENC_KEY_MAX];
    imssec_esp_params p;
    imssec_esp_sa sa;
    size_t n, olen = 0, so;
    uint64_t seq = 0;
    const char *res;
    int rc;
    espc_params(c, &p, ak, ek, 0);
    p.dir = IMSSEC_ESP_INBOUND;
    n = cli_hex(c, "packet", pkt, 1, ESPC_PKT_MAX);
    if (cli_has(c, "seq-hi") && !p.esn)
        cli_fail("--seq-hi needs --esn");
    if (p.esn) { /* --esn alone means --seq-hi 0 */
        uint64_t hi = cli_has(c, "seq-hi") ? cli_uint(c, "seq-hi", 0, UINT32_MAX) : 0;
        /* A fresh SA whose top is just below the packet: Appendix A2 then
         * infers exactly `hi`, and the ICV proves it. */
        so = espc_seq_off(pkt, n,
                          p.mode == IMSSEC_MODE_UDP_ENC_TUN || p.mode == IMSSEC_MODE_UDP_ENC_TRANS);
        if (so) {
            uint64_t full = hi << 32 | ((uint64_t)pkt[so] << 24 | (uint64_t)pkt[so + 1] << 16 |
                                        (uint64_t)pkt[so + 2] << 8 | pkt[so + 3]);
            p.seq = full ? full - 1 : 0;
        }
    }
    espc_setup(&sa, &p);
    rc = imssec_esp_unprotect(&sa, pkt, n, out, sizeof out, &olen, &seq, NULL);
    imssec_esp_sa_wipe(&sa);
    res = espc_result(rc);
    if (!res)
        cli_fail("esp-unprotect: %s (%s)", imssec_strerror(rc), imssec_errname(rc));
    cli_out_str(c, "result", res);
    if (rc == IMSSEC_OK) {
        cli_out_uint(c, "seq", seq);
        cli_out_hex(c, "packet", out, olen);
    }
    return 0;
}

/* ---- wireshark-esp-sa ----------------------------------------------------- */

static const cli_opt wireshark_opts[] = {
    {"src", 0, "source address of the SA"},
    {"dst", 0, "destination address of the SA"},
    {"spi", 0, "SPI"},
    {"alg", 0, "hmac-md5-96 | hmac-sha-1-96 | null (with --ealg aes-gcm)"},
    {"ealg", 0, "null | des-ede3-cbc | aes-cbc | aes-gcm"},
    {"auth-key", 0, "IK_ESP hex (not for --alg null)"},
    {"enc-key", 0, "CK_ESP hex (not for null; aes-gcm: 16-byte key then 4-byte salt)"},
    {NULL, 0, NULL}};

static void espc_hex(char *dst, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        dst[2 * i] = hx[p[i] >> 4];
        dst[2 * i + 1] = hx[p[i] & 15];
    }
    dst[2 * n] = 0;
}

static int cmd_wireshark(cli_ctx *c)
{
    uint8_t ak[IMSSEC_ESP_AUTH_KEY_MAX], ek[IMSSEC_ESP_ENC_KEY_MAX];
    char akh[2 * IMSSEC_ESP_AUTH_KEY_MAX + 1], ekh[2 * IMSSEC_ESP_ENC_KEY_MAX + 1], line[400];
    const char *src = cli_need(c, "src"), *dst = cli_need(c, "dst"), *ename, *aname;
    imssec_addr s, d;
    uint32_t spi = (uint32_t)cli_uint(c, "spi", 1, UINT32_MAX);
    int auth = espc_auth(c, 1), enc = espc_enc(c, 1);
    size_t akl = auth == IMSSEC_ALG_HMAC_MD5_96 ? 16 : auth == IMSSEC_ALG_NULL ? 0 : 20, ekl = 0;
    espc_addr(c, "src", &s);
    espc_addr(c, "dst", &d);
    if (s.len != d.len)
        cli_fail("--src and --dst: different address families");
    /* Wireshark has an AEAD entry for RFC 4106 but none for RFC 4543 */
    if (auth == IMSSEC_ALG_AES_GMAC)
        cli_fail("--alg aes-gmac: Wireshark's esp_sa table has no RFC 4543 (AES-GMAC) entry");
    if ((auth == IMSSEC_ALG_NULL) != (enc == IMSSEC_EALG_AES_GCM))
        cli_fail("--alg null goes with --ealg aes-gcm only (RFC 4106)");
    if (akl)
        cli_hex(c, "auth-key", ak, akl, akl);
    if (enc != IMSSEC_EALG_NULL) {
        /* AES-GCM: key || 4-byte salt, as Wireshark and the kernel take it */
        ekl = enc == IMSSEC_EALG_AES_CBC ? 16 : enc == IMSSEC_EALG_AES_GCM ? 20 : 24;
        cli_hex(c, "enc-key", ek, ekl, ekl);
    }
    /* Wireshark's esp_sa UAT names (epan/dissectors/packet-ipsec.c) */
    ename = enc == IMSSEC_EALG_AES_CBC        ? "AES-CBC [RFC3602]"
            : enc == IMSSEC_EALG_DES_EDE3_CBC ? "TripleDES-CBC [RFC2451]"
            : enc == IMSSEC_EALG_AES_GCM      ? "AES-GCM with 16 octet ICV [RFC4106]"
                                                 : "NULL";
    aname = auth == IMSSEC_ALG_HMAC_MD5_96   ? "HMAC-MD5-96 [RFC2403]"
            : auth == IMSSEC_ALG_NULL       ? "NULL"
                                               : "HMAC-SHA-1-96 [RFC2404]";
    espc_hex(akh, ak, akl);
    espc_hex(ekh, ek, ekl);
    snprintf(line, sizeof line, "\"%s\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"%s%s\",\"%s\",\"0x%s\"",
             s.len == 16 ? "IPv6" : "IPv4", src, dst, (unsigned)spi, ename, ekl ? "0x" : "",
             ekh, aname, akh);
    cli_out_str(c, "uat", line);
    imssec_wipe(ak, sizeof ak);
    imssec_wipe(ek, sizeof ek);
    imssec_wipe(akh, sizeof akh);
    imssec_wipe(ekh, sizeof ekh);
    imssec_wipe(line, sizeof line);
    return 0;
}

const cli_cmd cli_cmds_esp[] = {
    {"keys", "TS 33.203 Annex I: ESP keys from IK_IM and CK_IM",
     "Prints ik_esp= and ck_esp= (empty for ealg null).", keys_opts, cmd_keys},
    {"esp-protect", "protect one IP packet with an outbound ESP SA",
     "Prints packet= (the whole protected IP packet).  In transport mode the IP\n"
     "header's ID, TTL and flags are kept, so with the same --iv the output equals\n"
     "the Linux kernel's byte for byte.",
     protect_opts, cmd_protect},
    {"esp-unprotect", "unprotect one ESP packet with a fresh inbound SA",
     "Prints result=ok|icv_failure|replay|bad_padding|malformed|no_sa|dummy|not_esp,\n"
     "and on ok seq= (the full sequence number) and packet= (the plaintext IP packet).\n"
     "--mode udp-transport: --dport is the local UDP port the SA is bound to (default\n"
     "4500); the inner TCP/UDP checksum is fixed per RFC 3948 3.1.2 (UDP over IPv4: 0).",
     unprotect_opts, cmd_unprotect},
    {"wireshark-esp-sa", "a line for Wireshark's esp_sa table",
     "Prints uat= for tshark -o 'uat:esp_sa:<line>' (with\n"
     "-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE).\n"
     "AES-GCM SAs (RFC 4106) are written as --alg null --ealg aes-gcm; AES-GMAC\n"
     "(RFC 4543) has no entry in Wireshark's table and is refused.",
     wireshark_opts, cmd_wireshark},
    {NULL, NULL, NULL, NULL, NULL}};
