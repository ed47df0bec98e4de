/* Impossible: options are 0 or 1 (imssec.c #error). */
#define IMSSEC_ENABLE_3DES 2
