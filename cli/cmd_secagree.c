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

static size_t sec_cli_parse(const char *opt, const char *v, imssec_secagree_mech *m)
{
    size_t n = 0;
    imssec_errinfo e;
    int r = imssec_secagree_parse(imssec_cstr(v), m, SEC_CLI_MAXM, &n, &e);
    if (r == IMSSEC_E_SPACE)
        cli_fail("--%s: more than %d mechanisms (%u)", opt, SEC_CLI_MAXM, (unsigned)n);
    if (r)
        cli_fail("--%s: %s at mechanism %u, offset %u: %s", opt, imssec_strerror(r),
                 (unsigned)e.item_index, (unsigned)e.offset, e.what ? e.what : "");
    return n;
}

/* "alg/ealg,alg/ealg,..." with the registered names. */
static size_t sec_cli_pairs(cli_ctx *c, const char *opt, imssec_secagree_pair *out, size_t cap)
{
    const char *v = cli_need(c, opt), *p = v;
    size_t n = 0;
    while (*p) {
        const char *comma = strchr(p, ','), *slash;
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int fa, fe;
        imssec_str as, es;
        slash = memchr(p, '/', len);
        if (!slash || n == cap)
            cli_fail("--%s: expected alg/ealg[,alg/ealg...]: '%s'", opt, v);
        as.p = p;
        as.n = (size_t)(slash - p);
        es.p = slash + 1;
        es.n = (size_t)(p + len - slash - 1);
        fa = imssec_alg_from_name(as);
        fe = imssec_ealg_from_name(es);
        if (fa == IMSSEC_ALG_UNKNOWN || fe == IMSSEC_EALG_UNKNOWN)
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

static void sec_cli_out_build(cli_ctx *c, const char *name, const imssec_secagree_mech *m, size_t n,
                              int echo)
{
    static char buf[SEC_CLI_OUT];
    size_t len;
    int r = echo ? imssec_secagree_echo(m, n, buf, sizeof buf, &len, NULL)
                 : imssec_secagree_build(m, n, buf, sizeof buf, &len, NULL);
    if (r)
        cli_fail("cannot build %s: %s", name, imssec_strerror(r));
    cli_out_strn(c, name, buf, len);
}

static void sec_cli_out_choice(cli_ctx *c, const imssec_secagree_choice *ch)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%u:%s/%s/%s", (unsigned)ch->index,
             imssec_alg_name(ch->alg), imssec_ealg_name(ch->ealg),
             imssec_mode_name(ch->mode));
    cli_out_str(c, "selected", buf);
}

static void sec_cli_out_reject(cli_ctx *c, const imssec_errinfo *rej)
{
    char buf[256];
    cli_out_str(c, "result", "reject");
    snprintf(buf, sizeof buf, "%s: %s", rej->clause, rej->what);
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
static void sec_cli_enum(cli_ctx *c, size_t i, const char *f, const char *name, imssec_str text)
{
    if (name)
        sec_cli_field(c, i, f, name, strlen(name));
    else
        sec_cli_field(c, i, f, text.p, text.n);
}

static int cmd_parse(cli_ctx *c)
{
    static imssec_secagree_mech m[SEC_CLI_MAXM];
    size_t n = sec_cli_parse("value", cli_need(c, "value"), m), i;
    cli_out_uint(c, "count", n);
    for (i = 0; i < n; i++) {
        const imssec_secagree_mech *x = &m[i];
        unsigned p = x->present;
        sec_cli_field(c, i, "name", x->name.p, x->name.n);
        if (x->kind != IMSSEC_SECAGREE_IPSEC_3GPP)
            continue;
        /* an absent alg prints empty (Annex H: mandatory, no default) */
        sec_cli_enum(c, i, "alg", (p & IMSSEC_SECAGREE_HAS_ALG) ? imssec_alg_name(x->alg) : "",
                     x->alg_text);
        /* Annex H defaults: absent ealg, prot, mod hold the zero values
         * null, esp, trans */
        sec_cli_enum(c, i, "ealg", imssec_ealg_name(x->ealg), x->ealg_text);
        sec_cli_enum(c, i, "prot",
                     x->prot == IMSSEC_SECAGREE_PROT_ESP  ? "esp"
                     : x->prot == IMSSEC_SECAGREE_PROT_AH ? "ah"
                                                          : NULL,
                     x->prot_text);
        sec_cli_enum(c, i, "mod", imssec_mode_name(x->mode), x->mode_text);
        sec_cli_num(c, i, "spi_c", (p & IMSSEC_SECAGREE_HAS_SPI_C) != 0, x->spi_c);
        sec_cli_num(c, i, "spi_s", (p & IMSSEC_SECAGREE_HAS_SPI_S) != 0, x->spi_s);
        sec_cli_num(c, i, "port_c", (p & IMSSEC_SECAGREE_HAS_PORT_C) != 0, x->port_c);
        sec_cli_num(c, i, "port_s", (p & IMSSEC_SECAGREE_HAS_PORT_S) != 0, x->port_s);
        sec_cli_num(c, i, "q", (p & IMSSEC_SECAGREE_HAS_Q) != 0, x->q);
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
    static imssec_secagree_mech cl[SEC_CLI_MAXM];
    static char sv[SEC_CLI_OUT];
    imssec_secagree_pair pairs[32];
    imssec_secagree_policy pol;
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    size_t nc = sec_cli_parse("client", cli_need(c, "client"), cl), sl = 0;
    uint32_t spi_pc = 0, spi_ps = 0;
    uint16_t port_pc = 0, port_ps = 0;
    const char *conf = cli_get(c, "confidentiality");
    int r;
    memset(&pol, 0, sizeof pol);
    pol.pairs = pairs;
    pol.n_pairs = sec_cli_pairs(c, "policy", pairs, 32);
    if (!conf || strcmp(conf, "supported") == 0)
        pol.confidentiality = IMSSEC_SECAGREE_CONF_SUPPORTED;
    else if (strcmp(conf, "required") == 0)
        pol.confidentiality = IMSSEC_SECAGREE_CONF_REQUIRED;
    else if (strcmp(conf, "never") == 0)
        pol.confidentiality = IMSSEC_SECAGREE_CONF_NEVER;
    else
        cli_fail("--confidentiality: expected required, supported or never");
    pol.udp_encap = cli_has(c, "udp-encap");
    if (cli_has(c, "spi-c") || cli_has(c, "spi-s") || cli_has(c, "port-c") ||
        cli_has(c, "port-s")) {
        spi_pc = (uint32_t)cli_uint(c, "spi-c", 1, 0xffffffffu);
        spi_ps = (uint32_t)cli_uint(c, "spi-s", 1, 0xffffffffu);
        port_pc = (uint16_t)cli_uint(c, "port-c", 1, 65535);
        port_ps = (uint16_t)cli_uint(c, "port-s", 1, 65535);
    }
    r = imssec_secagree_pcscf_choose(cl, nc, &pol, cli_has(c, "nat"), &ch, &rej);
    if (r == IMSSEC_E_SECAGREE_REJECT) {
        sec_cli_out_reject(c, &rej);
        return 0;
    }
    if (r)
        cli_fail("negotiation: %s", imssec_strerror(r));
    r = imssec_secagree_server_build(&pol, cli_has(c, "nat"), spi_pc, spi_ps, port_pc, port_ps,
                                     sv, sizeof sv, &sl);
    if (r)
        cli_fail("cannot build security_server: %s", imssec_strerror(r));
    cli_out_str(c, "result", "ok");
    sec_cli_out_choice(c, &ch);
    cli_out_strn(c, "security_server", sv, sl);
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
    static imssec_secagree_mech sv[SEC_CLI_MAXM];
    imssec_secagree_pair pairs[32];
    imssec_secagree_choice ch;
    imssec_errinfo rej;
    size_t ns = sec_cli_parse("server", cli_need(c, "server"), sv);
    size_t np = sec_cli_pairs(c, "supported", pairs, 32);
    const char *via = cli_get(c, "via");
    int nat = 0, r;
    if (via) {
        imssec_secagree_via v;
        if (imssec_secagree_via_parse(imssec_cstr(via), &v, NULL) != IMSSEC_OK)
            cli_fail("--via: malformed Via value");
        nat = v.received.p != NULL;
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
    static imssec_secagree_mech a[SEC_CLI_MAXM], b[SEC_CLI_MAXM];
    size_t na = sec_cli_parse("sent", cli_need(c, "sent"), a);
    size_t nb = sec_cli_parse("received", cli_need(c, "received"), b);
    imssec_errinfo why;
    char buf[128];
    if (imssec_secagree_equal(a, na, b, nb, &why)) {
        cli_out_str(c, "result", "match");
        cli_out_str(c, "reason", "");
        return 0;
    }
    cli_out_str(c, "result", "mismatch");
    snprintf(buf, sizeof buf, "mechanism %u: %s", (unsigned)why.item_index, why.what);
    cli_out_str(c, "reason", buf);
    return 0;
}

const cli_cmd cli_cmds_secagree[] = {
    {"secagree-parse", "parse a Security-Client/-Server/-Verify value (RFC 3329, Annex H)",
     "Prints count=, per mechanism i mech.i.name= and for ipsec-3gpp mech.i.alg= .ealg= .prot=\n"
     "  .mode= (Annex H defaults applied) .spi_c= .spi_s= .port_c= .port_s= .q= (0..1000; absent\n"
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
