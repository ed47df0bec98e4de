/*
 * fuzz_aka_vstore.c -- the S-CSCF's vector store (TS 33.203 6.1.1, 6.1.3)
 * under hostile operation sequences, against a model: vectors come out
 * first in, first out, never twice, at most `cap` are held, a batch after
 * a resynchronisation replaces the old ones, and only the RAND in flight
 * is found.  Each vector is told apart by a serial number in its RAND.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

#define FZ_CAP 5

static void fz_vec(imssec_aka_vector *v, uint32_t serial)
{
    memset(v, 0, sizeof *v);
    v->rand[0] = (uint8_t)(serial >> 24);
    v->rand[1] = (uint8_t)(serial >> 16);
    v->rand[2] = (uint8_t)(serial >> 8);
    v->rand[3] = (uint8_t)serial;
    v->rand[15] = 0xa5;
    v->xres_len = 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imssec_aka_vector slots[FZ_CAP], batch[8], out;
    imssec_aka_vstore vs;
    uint32_t model[FZ_CAP], mn = 0, serial = 1, in_flight = 0;
    size_t i, k;
    if (imssec_aka_vstore_init(&vs, slots, FZ_CAP) != IMSSEC_OK)
        abort();
    for (i = 0; i < size; i++) {
        uint8_t op = data[i];
        switch (op & 3) {
        case 0: { /* a batch from the HSS */
            size_t n = (op >> 2) & 7;
            int resync = (op >> 5) & 1, rc;
            for (k = 0; k < n; k++)
                fz_vec(&batch[k], serial + (uint32_t)k);
            rc = imssec_aka_vstore_put(&vs, batch, n, resync);
            if ((resync ? n : mn + n) > FZ_CAP) {
                if (rc != IMSSEC_E_SPACE)
                    abort();
            } else {
                if (rc != IMSSEC_OK)
                    abort();
                if (resync)
                    mn = 0;
                for (k = 0; k < n; k++)
                    model[mn++] = serial++;
            }
            break;
        }
        case 1: /* the next challenge */
            if (imssec_aka_vstore_next(&vs, &out) == IMSSEC_OK) {
                uint32_t got = (uint32_t)out.rand[0] << 24 | (uint32_t)out.rand[1] << 16 |
                               (uint32_t)out.rand[2] << 8 | out.rand[3];
                if (mn == 0 || got != model[0])
                    abort(); /* not first in, first out */
                memmove(model, model + 1, (mn - 1) * sizeof model[0]);
                mn--;
                in_flight = got;
            } else if (mn != 0) {
                abort();
            }
            break;
        case 2: { /* an answer names a RAND: the one in flight or another */
            imssec_aka_vector probe;
            uint32_t s = (op & 4) ? in_flight : (uint32_t)(op >> 3);
            int rc;
            fz_vec(&probe, s);
            rc = imssec_aka_vstore_sent(&vs, probe.rand, &out);
            if ((rc == IMSSEC_OK) != (in_flight != 0 && s == in_flight))
                abort();
            break;
        }
        default:
            imssec_aka_vstore_done(&vs);
            in_flight = 0;
            break;
        }
        if (imssec_aka_vstore_count(&vs) != mn)
            abort();
    }
    imssec_aka_vstore_wipe(&vs);
    return 0;
}
