/* Impossible: the replay window must be a power of two (imssec.c #error). */
#define IMSSEC_REPLAY_WINDOW_MAX 100
