/*
 * fuzz_udpencap.c -- RFC 3948 demultiplexing of hostile UDP datagrams
 * (imssec_esp_udp_demux), and for those classed as ESP the whole inbound
 * path of a UDP-tunnel SA on the datagram behind a fixed IPv4 header, and
 * imssec_esp_unprotect_esp() on the ESP part alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imssec.h"

static const uint8_t fz_ak[20] = {0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c,
                                  0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[20 + 65536], out[20 + 65536];
    imssec_esp_params p;
    imssec_esp_sa sa;
    int kind = -1, rc;
    uint32_t spi = 0;
    size_t off = 0, n, olen;
    if (size > 65535 - 20)
        return 0;
    rc = imssec_esp_udp_demux(data, size, &kind, &spi, &off);
    if (rc != IMSSEC_OK) {
        if (rc != IMSSEC_E_MALFORMED)
            abort();
        return 0;
    }
    if (off > size || (kind == IMSSEC_ESP_UDP_ESP && spi == 0))
        abort();
    if (kind != IMSSEC_ESP_UDP_ESP)
        return 0;
    /* the same datagram inside an IPv4 packet, to a UDP-tunnel SA whose SPI
     * is the one found (so parsing goes on to the ICV) */
    n = 20 + size;
    memset(pkt, 0, 20);
    pkt[0] = 0x45;
    pkt[2] = (uint8_t)(n >> 8);
    pkt[3] = (uint8_t)n;
    pkt[8] = 64;
    pkt[9] = 17;
    memcpy(pkt + 20, data, size);
    imssec_esp_params_init(&p);
    p.spi = spi;
    p.dir = IMSSEC_ESP_INBOUND;
    p.mode = IMSSEC_MODE_UDP_ENC_TUN;
    p.auth_key = fz_ak;
    p.auth_key_len = 20;
    p.src.len = p.dst.len = 4;
    rc = imssec_esp_sa_setup(&sa, &p, NULL);
    if (rc == IMSSEC_E_UNSUPPORTED)
        return 0; /* UDP encapsulation compiled out */
    if (rc != IMSSEC_OK)
        abort();
    rc = imssec_esp_unprotect(&sa, pkt, n, out, sizeof out, &olen, NULL, NULL);
    if (rc != IMSSEC_OK && !imssec_err_is_verdict(rc))
        abort();
    /* and the socket receiver's path: the ESP part alone, as the UDP
     * length delimits it */
    {
        size_t ul = (size_t)data[4] << 8 | data[5];
        imssec_esp_sa_wipe(&sa);
        if (imssec_esp_sa_setup(&sa, &p, NULL) != IMSSEC_OK)
            abort();
        rc = imssec_esp_unprotect_esp(&sa, data + off, ul - off, out, sizeof out, &olen, NULL, NULL);
        if (rc != IMSSEC_OK && !imssec_err_is_verdict(rc))
            abort();
    }
    imssec_esp_sa_wipe(&sa);
    return 0;
}
