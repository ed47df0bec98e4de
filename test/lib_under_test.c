/*
 * lib_under_test.c -- the library under test, compiled into the test binary
 * as one translation unit together with the white-box tests
 * (test/<module>/wb_*.c), which can therefore call its static internals.
 * IMSSEC_UNDER_TEST names the source: "../imssec.c" by default,
 * "../dist/imssec.c" for the dist run.
 */
#ifndef IMSSEC_UNDER_TEST
#define IMSSEC_UNDER_TEST "../imssec.c"
#endif
#include IMSSEC_UNDER_TEST

#include "t.h"
#include "wb.inc" /* generated: #include of every white-box test file */
