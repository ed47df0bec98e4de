/*
 * cmd_secagree.c -- commands over the secagree/ module.
 */
#include "cli.h"

const cli_cmd cli_cmds_secagree[] = {
    {NULL, NULL, NULL, NULL, NULL}};
