/*
 * esp_state.h -- for the esp/ tests: "a rejected packet changed nothing"
 * means every byte of the SA outside its counters is as it was.
 */
#ifndef IMSSEC_TEST_ESP_STATE_H
#define IMSSEC_TEST_ESP_STATE_H

#include <stddef.h>
#include <string.h>

#include "../../imssec.h"

/* 1 if a and b are byte-identical outside the statistics counters (whose
 * values the accessors report separately). */
static int esp_same_but_stats(const imssec_esp_sa *a, const imssec_esp_sa *b)
{
    size_t s = offsetof(imssec_esp_sa, stats_), e = s + sizeof(imssec_esp_stats);
    return memcmp(a, b, s) == 0 &&
           memcmp((const char *)a + e, (const char *)b + e, sizeof *a - e) == 0;
}

#endif
