/*
 * cmd_aka.c -- commands over the aka/ module.
 */
#include "cli.h"

const cli_cmd cli_cmds_aka[] = {
    {NULL, NULL, NULL, NULL, NULL}};
