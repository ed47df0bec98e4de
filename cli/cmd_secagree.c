/*
 * cmd_secagree.c -- commands over the secagree/ module: parse, negotiate
 * (P-CSCF), select (UE) and verify (Security-Verify / Security-Client
 * re-check).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define SEC_CLI_MAXM 64
#define SEC_CLI_OUT 65536

static size_t sec_cli_parse(const char *opt, const char *v, imssec_sec_mech *m)
{
    size_t n = 0;
    imssec_sec_errinfo e;
    int r = imssec_secagree_parse(v, strlen(v), m, SEC_CLI_MAXM, &n, &e);
    if (r == IMSSEC_E_SPACE)
        cli_fail("--%s: more than %d mechanisms (%u)", opt, SEC_CLI_MAXM, (unsigned)n);
    if (r)
        cli_fail("--%s: %s at mechanism %u, offset %u: %s", opt, imssec_strerror(r),
                 (unsigned)e.mech_index, (unsigned)e.offset, e.what ? e.what : "");
    return n;
}

/* "alg/ealg,alg/ealg,..." with the registered names. */
static size_t sec_cli_pairs(cli_ctx *c, const char *opt, imssec_sec_pair *out, size_t cap)
{
    const char *v = cli_need(c, opt), *p = v;
    size_t n = 0;
    while (*p) {
        const char *comma = strchr(p, ','), *slash;
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int a, e, fa = 0, fe = -1;
        slash = memchr(p, '/', len);
        if (!slash || n == cap)
            cli_fail("--%s: expected alg/ealg[,alg/ealg...]: '%s'", opt, v);
        for (a = 1; a < IMSSEC_ALG_UNKNOWN; a++)
            if (strlen(imssec_secagree_alg_name(a)) == (size_t)(slash - p) &&
                strncmp(imssec_secagree_alg_name(a), p, (size_t)(slash - p)) == 0)
                fa = a;
        for (e = 0; e < IMSSEC_EALG_UNKNOWN; e++)
            if (strlen(imssec_secagree_ealg_name(e)) == (size_t)(p + len - slash - 1) &&
                strncmp(imssec_secagree_ealg_name(e), slash + 1, (size_t)(p + len - slash - 1)) == 0)
                fe = e;
        if (!fa || fe < 0)
            cli_fail("--%s: unknown algorithm pair '%.*s'", opt, (int)len, p);
        out[n].alg = fa;
        out[n].ealg = fe;
        n++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n == 0)
        cli_fail("--%s: empty", opt);
    return n;
}

static void sec_cli_out_build(cli_ctx *c, const char *name, const imssec_sec_mech *m, size_t n,
                              int echo)
{
    static char buf[SEC_CLI_OUT];
    size_t len;
    int r = echo ? imssec_secagree_echo(m, n, buf, sizeof buf, &len)
                 : imssec_secagree_build(m, n, buf, sizeof buf, &len);
    if (r)
        cli_fail("cannot build %s: %s", name, imssec_strerror(r));
    cli_out_strn(c, name, buf, len);
}

static void sec_cli_out_choice(cli_ctx *c, const imssec_sec_choice *ch)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%u:%s/%s/%s", (unsigned)ch->index,
             imssec_secagree_alg_name(ch->alg), imssec_secagree_ealg_name(ch->ealg),
             imssec_secagree_mode_name(ch->mod));
    cli_out_str(c, "selected", buf);
}

static void sec_cli_out_reject(cli_ctx *c, const imssec_sec_reject *rej)
{
    char buf[256];
    cli_out_str(c, "result", "reject");
    snprintf(buf, sizeof buf, "%s: %s", rej->clause, rej->reason);
    cli_out_str(c, "reason", buf);
    cli_out_uint(c, "sip_status", (uint64_t)rej->sip_status);
}

/* ---- secagree-parse ---------------------------------------------------------- */

static const cli_opt parse_opts[] = {
    {"value", 0, "a Security-Client/-Server/-Verify header value"}, {NULL, 0, NULL}};

static void sec_cli_field(cli_ctx *c, size_t i, const char *f, const char *v, size_t n)
{
    char key[64];
    snprintf(key, sizeof key, "mech.%u.%s", (unsigned)i, f);
    cli_out_strn(c, key, v ? v : "", v ? n : 0);
}

static void sec_cli_num(cli_ctx *c, size_t i, const char *f, int present, unsigned long v)
{
    char num[24];
    int n = present ? snprintf(num, sizeof num, "%lu", v) : 0;
    sec_cli_field(c, i, f, num, (size_t)n);
}

/* A typed value with Annex H defaults: registered name, or the text. */
static void sec_cli_enum(cli_ctx *c, size_t i, const char *f, const char *name,
                         const char *text, size_t tn)
{
    if (name)
        sec_cli_field(c, i, f, name, strlen(name));
    else
        sec_cli_field(c, i, f, text, tn);
}

static int cmd_parse(cli_ctx *c)
{
    static imssec_sec_mech m[SEC_CLI_MAXM];
    size_t n = sec_cli_parse("value", cli_need(c, "value"), m), i;
    cli_out_uint(c, "count", n);
    for (i = 0; i < n; i++) {
        const imssec_sec_mech *x = &m[i];
        unsigned p = x->present;
        sec_cli_field(c, i, "name", x->name, x->name_len);
        if (x->kind != IMSSEC_SEC_IPSEC_3GPP)
            continue;
        sec_cli_enum(c, i, "alg", imssec_secagree_alg_name(x->alg), x->alg_text, x->alg_len);
        sec_cli_enum(c, i, "ealg",
                     imssec_secagree_ealg_name((p & IMSSEC_SECP_EALG) ? x->ealg : IMSSEC_EALG_NULL),
                     x->ealg_text, x->ealg_len);
        sec_cli_enum(c, i, "prot",
                     !(p & IMSSEC_SECP_PROT) || x->prot == IMSSEC_PROT_ESP ? "esp"
                     : x->prot == IMSSEC_PROT_AH                           ? "ah"
                                                                           : NULL,
                     x->prot_text, x->prot_len);
        sec_cli_enum(c, i, "mod",
                     imssec_secagree_mode_name((p & IMSSEC_SECP_MOD) ? x->mod : IMSSEC_MODE_TRANS),
                     x->mod_text, x->mod_len);
        sec_cli_num(c, i, "spi_c", (p & IMSSEC_SECP_SPI_C) != 0, x->spi_c);
        sec_cli_num(c, i, "spi_s", (p & IMSSEC_SECP_SPI_S) != 0, x->spi_s);
        sec_cli_num(c, i, "port_c", (p & IMSSEC_SECP_PORT_C) != 0, x->port_c);
        sec_cli_num(c, i, "port_s", (p & IMSSEC_SECP_PORT_S) != 0, x->port_s);
        sec_cli_num(c, i, "q", (p & IMSSEC_SECP_Q) != 0, x->q);
    }
    sec_cli_out_build(c, "canonical", m, n, 0);
    return 0;
}

/* ---- secagree-negotiate (P-CSCF) ------------------------------------------- */

static const cli_opt negotiate_opts[] = {
    {"client", 0, "the UE's Security-Client value"},
    {"policy", 0, "P-CSCF combinations by priority: alg/ealg,alg/ealg,..."},
    {"confidentiality", 0, "required|supported|never (default supported)"},
    {"nat", 1, "NAT detected (M.7.2)"},
    {"udp-encap", 1, "the P-CSCF supports UDP-enc-tun"},
    {"spi-c", 0, "P-CSCF spi_pc for Security-Server (default: capability list)"},
    {"spi-s", 0, "P-CSCF spi_ps"},
    {"port-c", 0, "P-CSCF port_pc"},
    {"port-s", 0, "P-CSCF port_ps"},
    {NULL, 0, NULL}};

static int cmd_negotiate(cli_ctx *c)
{
    static imssec_sec_mech cl[SEC_CLI_MAXM], sv[SEC_CLI_MAXM];
    imssec_sec_pair pairs[32];
    imssec_sec_pcscf_policy pol;
    imssec_sec_choice ch;
    imssec_sec_reject rej;
    size_t nc = sec_cli_parse("client", cli_need(c, "client"), cl), ns = 0;
    const char *conf = cli_get(c, "confidentiality");
    int r;
    memset(&pol, 0, sizeof pol);
    pol.pairs = pairs;
    pol.n_pairs = sec_cli_pairs(c, "policy", pairs, 32);
    if (!conf || strcmp(conf, "supported") == 0)
        pol.confidentiality = IMSSEC_CONF_SUPPORTED;
    else if (strcmp(conf, "required") == 0)
        pol.confidentiality = IMSSEC_CONF_REQUIRED;
    else if (strcmp(conf, "never") == 0)
        pol.confidentiality = IMSSEC_CONF_NEVER;
    else
        cli_fail("--confidentiality: expected required, supported or never");
    pol.udp_encap = cli_has(c, "udp-encap");
    if (cli_has(c, "spi-c") || cli_has(c, "spi-s") || cli_has(c, "port-c") ||
        cli_has(c, "port-s")) {
        pol.spi_pc = (uint32_t)cli_uint(c, "spi-c", 1, 0xffffffffu);
        pol.spi_ps = (uint32_t)cli_uint(c, "spi-s", 1, 0xffffffffu);
        pol.port_pc = (uint16_t)cli_uint(c, "port-c", 1, 65535);
        pol.port_ps = (uint16_t)cli_uint(c, "port-s", 1, 65535);
    }
    r = imssec_secagree_pcscf_negotiate(cl, nc, &pol, cli_has(c, "nat"), sv, SEC_CLI_MAXM, &ns,
                                        &ch, &rej);
    if (r == IMSSEC_E_SECAGREE_REJECT) {
        sec_cli_out_reject(c, &rej);
        return 0;
    }
    if (r)
        cli_fail("negotiation: %s", imssec_strerror(r));
    cli_out_str(c, "result", "ok");
    sec_cli_out_choice(c, &ch);
    sec_cli_out_build(c, "security_server", sv, ns, 0);
    return 0;
}

/* ---- secagree-select (UE) ---------------------------------------------------- */

static const cli_opt select_opts[] = {
    {"server", 0, "the P-CSCF's Security-Server value (from the 401)"},
    {"supported", 0, "UE combinations: alg/ealg,alg/ealg,..."},
    {"udp-encap", 1, "the UE supports UDP-enc-tun"},
    {"via", 0, "top Via of the 401 (a received= parameter means NAT, M.7.2)"},
    {NULL, 0, NULL}};

static int cmd_select(cli_ctx *c)
{
    static imssec_sec_mech sv[SEC_CLI_MAXM];
    imssec_sec_pair pairs[32];
    imssec_sec_choice ch;
    imssec_sec_reject rej;
    size_t ns = sec_cli_parse("server", cli_need(c, "server"), sv);
    size_t np = sec_cli_pairs(c, "supported", pairs, 32);
    const char *via = cli_get(c, "via");
    int nat = 0, r;
    if (via) {
        imssec_sec_via v;
        if (imssec_secagree_via_parse(via, strlen(via), &v) != IMSSEC_OK)
            cli_fail("--via: malformed Via value");
        nat = v.received != NULL;
    }
    r = imssec_secagree_ue_select(sv, ns, pairs, np, cli_has(c, "udp-encap"), nat, &ch, &rej);
    if (r == IMSSEC_E_SECAGREE_REJECT) {
        sec_cli_out_reject(c, &rej);
        return 0;
    }
    if (r)
        cli_fail("selection: %s", imssec_strerror(r));
    cli_out_str(c, "result", "ok");
    sec_cli_out_choice(c, &ch);
    sec_cli_out_build(c, "security_verify", sv, ns, 1);
    return 0;
}

/* ---- secagree-verify ----------------------------------------------------------- */

static const cli_opt verify_opts[] = {
    {"sent", 0, "the Security-Server sent (or the first Security-Client)"},
    {"received", 0, "the Security-Verify received (or the repeated Security-Client)"},
    {NULL, 0, NULL}};

static int cmd_verify(cli_ctx *c)
{
    static imssec_sec_mech a[SEC_CLI_MAXM], b[SEC_CLI_MAXM];
    size_t na = sec_cli_parse("sent", cli_need(c, "sent"), a);
    size_t nb = sec_cli_parse("received", cli_need(c, "received"), b), where = 0;
    const char *why = NULL;
    char buf[128];
    if (imssec_secagree_equal(a, na, b, nb, &why, &where)) {
        cli_out_str(c, "result", "match");
        cli_out_str(c, "reason", "");
        return 0;
    }
    cli_out_str(c, "result", "mismatch");
    snprintf(buf, sizeof buf, "mechanism %u: %s", (unsigned)where, why);
    cli_out_str(c, "reason", buf);
    return 0;
}

const cli_cmd cli_cmds_secagree[] = {
    {"secagree-parse", "parse a Security-Client/-Server/-Verify value (RFC 3329, Annex H)",
     "Prints count=, per mechanism i mech.i.name= and for ipsec-3gpp mech.i.alg= .ealg= .prot=\n"
     "  .mod= (Annex H defaults applied) .spi_c= .spi_s= .port_c= .port_s= .q= (0..1000; absent\n"
     "  numbers empty), then canonical= (the builder's output).",
     parse_opts, cmd_parse},
    {"secagree-negotiate", "P-CSCF: choose from a Security-Client, build the Security-Server",
     "TS 33.203 7.2 / M.7.2.  Prints result=ok, selected=<index>:<alg>/<ealg>/<mode> (index into\n"
     "  the client list), security_server=; or result=reject, reason=<clause>: <why>,\n"
     "  sip_status= (0: discard silently).",
     negotiate_opts, cmd_negotiate},
    {"secagree-select", "UE: choose from a Security-Server, build the Security-Verify",
     "TS 33.203 7.2 / M.7.2.  Prints result=ok, selected=<index>:<alg>/<ealg>/<mode>,\n"
     "  security_verify= (the server list echoed); or result=reject, reason=, sip_status=0.",
     select_opts, cmd_select},
    {"secagree-verify", "compare a Security-Verify with the Security-Server sent",
     "RFC 3329 2.3.1, TS 33.203 7.3.2.3 and Annex H.  Prints result=match|mismatch and\n"
     "  reason= (empty on a match).",
     verify_opts, cmd_verify},
    {NULL, NULL, NULL, NULL, NULL}};
