/*
 * cmd_core.c -- commands about the library itself.
 */
#include "cli.h"

#include <stdlib.h>

static const cli_opt version_opts[] = {{NULL, 0, NULL}};

static int cmd_version(cli_ctx *c)
{
    cli_out_str(c, "version", imssec_version());
    cli_out_str(c, "build", imssec_build_info());
    return 0;
}

static const cli_opt strerror_opts[] = {{"code", 0, "an imssec_err value, e.g. -21"},
                                        {NULL, 0, NULL}};

static int cmd_strerror(cli_ctx *c)
{
    const char *v = cli_need(c, "code");
    char *end;
    long code = strtol(v, &end, 10);
    if (!*v || *end)
        cli_fail("--code: not a number: '%s'", v);
    cli_out_str(c, "name", imssec_errname((int)code));
    cli_out_str(c, "text", imssec_strerror((int)code));
    return 0;
}

const cli_cmd cli_cmds_core[] = {
    {"version", "print the library version and compiled-in options",
     "Prints version= and build= (the options compiled in and the mbedTLS version).",
     version_opts, cmd_version},
    {"strerror", "name and describe an imssec error code",
     "Prints name= and text= for --code.", strerror_opts, cmd_strerror},
    {NULL, NULL, NULL, NULL, NULL}};
