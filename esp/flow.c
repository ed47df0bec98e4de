/*
 * flow.c -- the payload level of esp/: the IP and UDP (or TCP) header a SIP
 * message travels in inside an SA, written and read here so that no caller
 * writes an IP header or a checksum by hand.
 *
 * SPDX-License-Identifier: MIT
 */
#include "../imssec.h"

#define ESP_PROTO_TCP 6

/* The RFC 768 / RFC 9293 checksum of an upper-layer segment seg[0..n)
 * between two addresses (pseudo-header: RFC 768, RFC 8200 8.1), with the
 * checksum field counted as it is. */
static uint16_t esp_l4_sum(const imssec_addr *src, const imssec_addr *dst, uint8_t proto,
                           const uint8_t *seg, size_t n)
{
    uint32_t sum = esp_sum(0, src->b, src->len);
    sum = esp_sum(sum, dst->b, dst->len);
    sum += proto;
    sum += (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff);
    sum = esp_sum(sum, seg, n);
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

static int esp_flow_ok(const imssec_flow *f)
{
    return isc_addr_ok(&f->src) && f->src.len == f->dst.len && f->sport && f->dport &&
           (f->transport == IMSSEC_TRANSPORT_UDP || f->transport == IMSSEC_TRANSPORT_TCP);
}

IMSSEC_API int imssec_esp_ip_build(const imssec_flow *f, const uint8_t *payload,
                                   size_t payload_len, uint8_t *out, size_t out_cap,
                                   size_t *out_len)
{
    size_t ihl, l4, total;
    int udp;
    uint8_t *seg;
    uint16_t ck;
    if (!f || !out_len || (payload_len && !payload) || (out_cap && !out) || !esp_flow_ok(f))
        return IMSSEC_E_PARAM;
    udp = f->transport == IMSSEC_TRANSPORT_UDP;
    if (!udp && (payload_len < 20 || (size_t)(payload[12] >> 4) * 4 < 20 ||
                 (size_t)(payload[12] >> 4) * 4 > payload_len))
        return IMSSEC_E_PARAM; /* a TCP segment brings its header (data offset) */
    ihl = f->src.len == 16 ? 40u : 20u;
    l4 = udp ? 8 + payload_len : payload_len;
    total = ihl + l4;
    if (f->src.len == 4 ? total > 65535 : l4 > 65535)
        return IMSSEC_E_RANGE;
    *out_len = total;
    if (total > out_cap)
        return IMSSEC_E_SPACE;
    if (payload_len && payload != out + ihl + (udp ? 8 : 0))
        memmove(out + ihl + (udp ? 8 : 0), payload, payload_len);
    if (f->src.len == 4) {
        memset(out, 0, 20);
        out[0] = 0x45;
        isc_put_be16(out + 2, (uint16_t)total);
        isc_put_be16(out + 6, 0x4000); /* DF, ID 0: an atomic datagram (RFC 6864 4.1) */
        out[8] = 64;
        out[9] = udp ? ESP_PROTO_UDP : ESP_PROTO_TCP;
        memcpy(out + 12, f->src.b, 4);
        memcpy(out + 16, f->dst.b, 4);
        esp_ipv4_checksum(out, 20);
    } else {
        memset(out, 0, 8);
        out[0] = 0x60;
        isc_put_be16(out + 4, (uint16_t)l4);
        out[6] = udp ? ESP_PROTO_UDP : ESP_PROTO_TCP;
        out[7] = 64;
        memcpy(out + 8, f->src.b, 16);
        memcpy(out + 24, f->dst.b, 16);
    }
    seg = out + ihl;
    if (udp) {
        isc_put_be16(seg, f->sport);
        isc_put_be16(seg + 2, f->dport);
        isc_put_be16(seg + 4, (uint16_t)l4);
        seg[6] = seg[7] = 0;
        ck = (uint16_t)~esp_l4_sum(&f->src, &f->dst, ESP_PROTO_UDP, seg, l4);
        isc_put_be16(seg + 6, ck == 0 ? 0xffff : ck); /* RFC 768: 0 means "none" */
    } else {
        isc_put_be16(seg, f->sport);
        isc_put_be16(seg + 2, f->dport);
        seg[16] = seg[17] = 0;
        isc_put_be16(seg + 16, (uint16_t)~esp_l4_sum(&f->src, &f->dst, ESP_PROTO_TCP, seg, l4));
    }
    return IMSSEC_OK;
}

static int esp_ip_bad(imssec_errinfo *err, const char *what)
{
    return isc_fail(err, IMSSEC_E_MALFORMED, what, NULL);
}

IMSSEC_API int imssec_esp_ip_parse(const uint8_t *pkt, size_t len, imssec_flow *f,
                                   size_t *payload_off, size_t *payload_len, imssec_errinfo *err)
{
    esp_ip ip;
    imssec_flow fl;
    const uint8_t *seg;
    size_t l4;
    int rc;
    if (!pkt || !f || !payload_off || !payload_len)
        return isc_fail_param(err, "pkt", "NULL argument");
    if (len >= 1 && (pkt[0] >> 4) == 4)
        rc = esp_parse_v4(pkt, len, &ip, IMSSEC_E_MALFORMED);
    else if (len >= 1 && (pkt[0] >> 4) == 6)
        rc = esp_parse_v6(pkt, len, &ip, 1, ESP_PROTO_UDP, IMSSEC_E_MALFORMED);
    else
        rc = IMSSEC_E_MALFORMED;
    /* the IPv6 walk stops at UDP; TCP is the upper layer where it stops too */
    if (rc != IMSSEC_OK)
        return esp_ip_bad(err, "not a complete IPv4 / IPv6 packet (or a fragment)");
    if (ip.nh != ESP_PROTO_UDP && ip.nh != ESP_PROTO_TCP)
        return esp_ip_bad(err, "neither UDP nor TCP");
    memset(&fl, 0, sizeof fl);
    fl.src.len = fl.dst.len = (uint8_t)(ip.family == 6 ? 16 : 4);
    memcpy(fl.src.b, pkt + (ip.family == 6 ? 8 : 12), fl.src.len);
    memcpy(fl.dst.b, pkt + (ip.family == 6 ? 24 : 16), fl.dst.len);
    seg = pkt + ip.hlen;
    l4 = ip.len - ip.hlen;
    if (ip.nh == ESP_PROTO_UDP) {
        size_t ul;
        if (l4 < 8)
            return esp_ip_bad(err, "UDP header truncated");
        ul = isc_be16(seg + 4);
        if (ul != l4)
            return esp_ip_bad(err, "UDP length differs from the IP length");
        /* RFC 768: checksum 0 = none sent (IPv4 only; RFC 8200 8.1) */
        if ((isc_be16(seg + 6) != 0 || ip.family == 6) &&
            esp_l4_sum(&fl.src, &fl.dst, ESP_PROTO_UDP, seg, l4) != 0xffff)
            return esp_ip_bad(err, "UDP checksum wrong");
        fl.transport = IMSSEC_TRANSPORT_UDP;
        *payload_off = ip.hlen + 8;
        *payload_len = l4 - 8;
    } else {
        if (l4 < 20 || (size_t)(seg[12] >> 4) * 4 < 20 || (size_t)(seg[12] >> 4) * 4 > l4)
            return esp_ip_bad(err, "TCP header truncated");
        if (esp_l4_sum(&fl.src, &fl.dst, ESP_PROTO_TCP, seg, l4) != 0xffff)
            return esp_ip_bad(err, "TCP checksum wrong");
        fl.transport = IMSSEC_TRANSPORT_TCP;
        *payload_off = ip.hlen;
        *payload_len = l4;
    }
    fl.sport = isc_be16(seg);
    fl.dport = isc_be16(seg + 2);
    *f = fl;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_esp_protect_flow(imssec_esp_sa *sa, const imssec_io *io,
                                       const imssec_flow *f, const uint8_t *payload,
                                       size_t payload_len, uint8_t *out, size_t out_cap,
                                       size_t *out_len, size_t *esp_off, imssec_errinfo *err)
{
    size_t inner = 0, need, ihl;
    int rc;
    if (!sa || !f || !out || !out_len || (payload_len && !payload) ||
        sa->setup_ != ESP_MAGIC || sa->dir_ != IMSSEC_ESP_OUTBOUND)
        return isc_fail_param(err, "sa", "not an outbound SA, or NULL arguments");
    if (payload_len && esp_overlap(payload, payload_len, out, out_cap))
        return isc_fail_param(err, "out", "out overlaps payload");
    /* build the inner packet in out, then protect it in place; the size
     * check comes first so that a short buffer changes nothing */
    rc = imssec_esp_ip_build(f, payload, payload_len, NULL, 0, &inner);
    if (rc != IMSSEC_E_SPACE)
        return isc_fail(err, rc == IMSSEC_OK ? IMSSEC_E_PARAM : rc, "flow cannot be written", NULL);
    if (esp_is_transport(sa->mode_) && f->src.len == 16 && !IMSSEC_ENABLE_IPV6)
        return isc_fail(err, IMSSEC_E_UNSUPPORTED, "IPv6 compiled out", NULL);
    /* the protected size: what esp_plan_out() will compute for the header
     * built here (no options, no extension headers) */
    ihl = f->src.len == 16 ? 40u : 20u;
    {
        size_t prefix = esp_is_transport(sa->mode_) ? ihl : (sa->src_.len == 16 ? 40u : 20u);
        prefix += esp_is_udp(sa->mode_) ? 8u : 0u;
        need = esp_sealed_len(sa, prefix, esp_is_transport(sa->mode_) ? inner - ihl : inner);
        if (need > out_cap) {
            *out_len = need;
            return isc_fail(err, IMSSEC_E_SPACE, "out_cap too small", NULL);
        }
        if (esp_off)
            *esp_off = prefix;
    }
    (void)imssec_esp_ip_build(f, payload, payload_len, out, out_cap, &inner);
    rc = imssec_esp_protect(sa, io, NULL, out, inner, out, out_cap, out_len, err);
    if (rc != IMSSEC_OK)
        memset(out, 0, inner); /* no plaintext left behind in the caller's buffer */
    return rc;
}

IMSSEC_API int imssec_esp_unprotect_flow(imssec_esp_sa *sa, int input, const uint8_t *in,
                                         size_t in_len, uint8_t *out, size_t out_cap,
                                         imssec_flow *f, size_t *payload_off, size_t *payload_len,
                                         uint64_t *seq, imssec_errinfo *err)
{
    size_t n = 0;
    uint64_t s = 0;
    int rc;
    if (!f || !payload_off || !payload_len || (input != IMSSEC_ESP_IN_IP && input != IMSSEC_ESP_IN_ESP))
        return isc_fail_param(err, "input", "NULL output or not a imssec_esp_input");
    rc = input == IMSSEC_ESP_IN_IP ? imssec_esp_unprotect(sa, in, in_len, out, out_cap, &n, &s, err)
                                   : imssec_esp_unprotect_esp(sa, in, in_len, out, out_cap, &n, &s,
                                                              err);
    if (rc != IMSSEC_OK)
        return rc;
    rc = imssec_esp_ip_parse(out, n, f, payload_off, payload_len, err);
    if (rc != IMSSEC_OK) {
        /* authentic but unusable: counted, and the plaintext removed */
        sa->stats_.malformed++;
        memset(out, 0, n);
        return rc;
    }
    if (seq)
        *seq = s;
    return IMSSEC_OK;
}
