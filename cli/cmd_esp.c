/*
 * cmd_esp.c -- commands over the esp/ module.
 */
#include "cli.h"

const cli_cmd cli_cmds_esp[] = {
    {NULL, NULL, NULL, NULL, NULL}};
