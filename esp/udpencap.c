/*
 * udpencap.c -- RFC 3948: demultiplexing one UDP port-4500 socket (ESP,
 * IKE behind the Non-ESP marker, NAT keepalives) and the keepalive timer.
 */
#include "../imssec.h"

IMSSEC_API int imssec_esp_udp_demux(const uint8_t *udp, size_t len, int *kind, uint32_t *spi,
                                    size_t *off)
{
    size_t ul;
    if (!udp || !kind || !spi || !off)
        return IMSSEC_E_PARAM;
    if (len < 8)
        return IMSSEC_E_MALFORMED;
    /* The UDP length decides, not the buffer: link-layer padding makes a
     * 1-byte keepalive look longer (the VPP 2022 bug). */
    ul = isc_be16(udp + 4);
    if (ul < 8 || ul > len)
        return IMSSEC_E_MALFORMED;
    if (ul == 9 && udp[8] == 0xff) {
        *kind = IMSSEC_ESP_UDP_KEEPALIVE;
        *off = 8;
        return IMSSEC_OK;
    }
    if (ul < 12)
        return IMSSEC_E_MALFORMED;
    if (isc_be32(udp + 8) == 0) {
        *kind = IMSSEC_ESP_UDP_IKE;
        *off = 12;
        return IMSSEC_OK;
    }
    if (ul < 16)
        return IMSSEC_E_MALFORMED; /* SPI without a sequence number */
    *kind = IMSSEC_ESP_UDP_ESP;
    *spi = isc_be32(udp + 8);
    *off = 8;
    return IMSSEC_OK;
}

IMSSEC_API void imssec_esp_keepalive_init(imssec_esp_keepalive *k, uint32_t interval_ms,
                                          uint64_t now_ms)
{
    if (!k)
        return;
    k->interval_ms = interval_ms ? interval_ms : 20000u;
    k->last_ms = now_ms;
}

IMSSEC_API void imssec_esp_keepalive_sent(imssec_esp_keepalive *k, uint64_t now_ms)
{
    if (k && now_ms > k->last_ms)
        k->last_ms = now_ms;
}

IMSSEC_API int imssec_esp_keepalive_due(imssec_esp_keepalive *k, uint64_t now_ms)
{
    /* a clock that went backwards (now < last) is not "due" */
    if (!k || now_ms < k->last_ms || now_ms - k->last_ms < k->interval_ms)
        return 0;
    k->last_ms = now_ms;
    return 1;
}

IMSSEC_API int imssec_esp_keepalive_build(const imssec_esp_sa *sa, uint8_t *out,
                                          size_t out_cap, size_t *out_len)
{
    size_t ihl, n;
    uint8_t *u;
    if (!sa || !out || !out_len || sa->setup_ != ESP_MAGIC || sa->dir_ != IMSSEC_ESP_OUTBOUND ||
        sa->mode_ != IMSSEC_MODE_UDP_ENC_TUN)
        return IMSSEC_E_PARAM;
    ihl = sa->src_.len == 16 ? 40u : 20u;
    n = ihl + 9;
    *out_len = n;
    if (out_cap < n)
        return IMSSEC_E_SPACE;
    esp_put_outer_ip(sa, out, n, 0, 0, 1, ESP_PROTO_UDP);
    u = out + ihl;
    isc_put_be16(u, sa->sport_);
    isc_put_be16(u + 2, sa->dport_);
    isc_put_be16(u + 4, 9);
    u[6] = u[7] = 0; /* the checksum is computed over a zero checksum field */
    u[8] = 0xff;
    isc_put_be16(u + 6, esp_udp_checksum(sa->src_.len == 16 ? 6 : 4, sa->src_.b, sa->dst_.b, u, 9));
    return IMSSEC_OK;
}
