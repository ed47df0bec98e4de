/*
 * cmd_sa.c -- commands over the sa/ module.
 */
#include "cli.h"

const cli_cmd cli_cmds_sa[] = {
    {NULL, NULL, NULL, NULL, NULL}};
