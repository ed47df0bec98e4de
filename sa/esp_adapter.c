/*
 * sa/esp_adapter.c -- the built-in data plane of sa/: every SA the state
 * machines install becomes an imssec_esp_sa in a caller-provided pool; and
 * the payload-level calls a SIP stack uses on top of it (protect a SIP
 * message on the SA sa/ named, unprotect a received packet to the SIP
 * message, its ports and its SA).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

IMSSEC_API void imssec_sa_esp_pool_init(imssec_sa_esp_pool *p, imssec_esp_sa *sas, size_t cap)
{
    size_t i;
    memset(p, 0, sizeof *p);
    p->sas = sas;
    p->cap = cap;
    for (i = 0; i < cap; i++)
        imssec_esp_sa_wipe(&sas[i]);
}

static int sa_esp_install(void *user, const imssec_sa_info *sa, uint64_t *handle,
                          imssec_errinfo *err)
{
    imssec_sa_esp_pool *p = (imssec_sa_esp_pool *)user;
    imssec_esp_params ep;
    size_t k;
    if (p->used >= p->cap) {
        err->what = "the esp/ SA pool is full";
        return IMSSEC_E_SPACE;
    }
    /* rotating cursor: amortised O(1) search for a free slot */
    for (k = 0; k < p->cap; k++) {
        size_t i = (p->cursor_ + k) % p->cap;
        int rc;
        if (imssec_esp_sa_spi(&p->sas[i]) != 0)
            continue;
        imssec_esp_params_init(&ep);
        ep.spi = sa->spi;
        ep.dir = sa->inbound ? IMSSEC_ESP_INBOUND : IMSSEC_ESP_OUTBOUND;
        ep.mode = sa->mode; /* one vocabulary: TRANS or UDP_ENC_TUN as negotiated */
        ep.alg = sa->alg;
        ep.ealg = sa->ealg;
        ep.auth_key = sa->ik;
        ep.auth_key_len = sa->ik_len;
        ep.enc_key = sa->ck;
        ep.enc_key_len = sa->ck_len;
        ep.src = sa->src;
        ep.dst = sa->dst;
        /* M.7.1: behind a NAT the UE's outer source is its local address,
         * the inner one its public address */
        if (p->outer_local.len) {
            if (sa->inbound)
                ep.dst = p->outer_local;
            else
                ep.src = p->outer_local;
        }
        ep.sport = sa->encap_sport ? sa->encap_sport : SA_ENCAP_PORT;
        ep.dport = sa->encap_dport ? sa->encap_dport : SA_ENCAP_PORT;
        if (p->replay_window)
            ep.replay_window = p->replay_window;
        rc = imssec_esp_sa_setup(&p->sas[i], &ep, err);
        if (rc != IMSSEC_OK)
            return rc;
        p->used++;
        p->cursor_ = (i + 1) % p->cap;
        *handle = (uint64_t)i + 1u;
        return 0;
    }
    err->what = "the esp/ SA pool is full";
    return IMSSEC_E_SPACE;
}

static imssec_esp_sa *sa_esp_slot(imssec_sa_esp_pool *p, uint64_t handle)
{
    if (handle == 0 || handle > p->cap || imssec_esp_sa_spi(&p->sas[handle - 1]) == 0)
        return NULL;
    return &p->sas[handle - 1];
}

static int sa_esp_update(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    imssec_esp_sa *e = sa_esp_slot((imssec_sa_esp_pool *)user, sa->handle);
    imssec_esp_params ep;
    if (!e || imssec_esp_sa_describe(e, &ep) != IMSSEC_OK) {
        err->what = "no esp/ SA behind the handle";
        return -1;
    }
    return imssec_esp_sa_set_ports(e, sa->encap_sport ? sa->encap_sport : ep.sport,
                                   sa->encap_dport ? sa->encap_dport : ep.dport) == IMSSEC_OK
               ? 0
               : -1;
}

static int sa_esp_remove(void *user, const imssec_sa_info *sa, imssec_errinfo *err)
{
    imssec_sa_esp_pool *p = (imssec_sa_esp_pool *)user;
    imssec_esp_sa *e = sa_esp_slot(p, sa->handle);
    if (!e) {
        err->what = "no esp/ SA behind the handle";
        return -1;
    }
    imssec_esp_sa_wipe(e);
    p->used--;
    return 0;
}

/* ---- restart: the pool's sequence state ------------------------------------ */

#define SA_POOL_SNAP_REC 17 /* handle u32 | spi u32 | dir u8 | seq u64 */

IMSSEC_API int imssec_sa_esp_pool_snapshot(const imssec_sa_esp_pool *p, uint8_t *out,
                                           size_t out_cap, size_t *out_len)
{
    size_t i, n = 0, need, o = 12;
    if (!p || !out_len || (out_cap && !out))
        return IMSSEC_E_PARAM;
    for (i = 0; i < p->cap; i++)
        n += imssec_esp_sa_spi(&p->sas[i]) != 0;
    need = 12 + n * SA_POOL_SNAP_REC + 32;
    *out_len = need;
    if (need > out_cap)
        return IMSSEC_E_SPACE;
    memcpy(out, "ISEP", 4);
    isc_put_be32(out + 4, 1); /* version */
    isc_put_be32(out + 8, (uint32_t)n);
    for (i = 0; i < p->cap; i++) {
        imssec_esp_params ep;
        uint64_t seq;
        if (imssec_esp_sa_spi(&p->sas[i]) == 0 ||
            imssec_esp_sa_describe(&p->sas[i], &ep) != IMSSEC_OK)
            continue;
        seq = imssec_esp_sa_seq(&p->sas[i]);
        isc_put_be32(out + o, (uint32_t)(i + 1));
        isc_put_be32(out + o + 4, ep.spi);
        out[o + 8] = (uint8_t)ep.dir;
        isc_put_be32(out + o + 9, (uint32_t)(seq >> 32));
        isc_put_be32(out + o + 13, (uint32_t)seq);
        o += SA_POOL_SNAP_REC;
    }
    isc_hash_once(ISC_SHA256, out, o, out + o);
    return IMSSEC_OK;
}

/* The record of slot `handle` in a checked snapshot, or NULL. */
static const uint8_t *sa_pool_rec(const uint8_t *in, uint32_t n, uint64_t handle)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        const uint8_t *r = in + 12 + (size_t)k * SA_POOL_SNAP_REC;
        if (isc_be32(r) == handle)
            return r;
    }
    return NULL;
}

IMSSEC_API int imssec_sa_esp_pool_restore(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                          const uint8_t *in, size_t len, uint64_t seq_margin,
                                          imssec_errinfo *err)
{
    uint8_t h[32];
    uint32_t n, set;
    int w, rc = IMSSEC_OK;
    if (!p || !t || !t->users_ || (!in && len))
        return isc_fail_param(err, "p / t / in", "NULL argument");
    if (len < 44 || memcmp(in, "ISEP", 4) != 0 || isc_be32(in + 4) != 1)
        return isc_fail(err, IMSSEC_E_SYNTAX, "not a pool snapshot", NULL);
    n = isc_be32(in + 8);
    if (n > (len - 44) / SA_POOL_SNAP_REC || len != 44 + (size_t)n * SA_POOL_SNAP_REC)
        return isc_fail(err, IMSSEC_E_SYNTAX, "truncated pool snapshot", NULL);
    isc_hash_once(ISC_SHA256, in, len - 32, h);
    if (!isc_ct_eq(h, in + len - 32, 32))
        return isc_fail(err, IMSSEC_E_SYNTAX, "pool snapshot corrupted", NULL);
    if (n > p->cap)
        return isc_fail(err, IMSSEC_E_SPACE, "the pool is smaller than the snapshot's", NULL);
    for (set = 0; set < t->set_cap_ && rc == IMSSEC_OK; set++) {
        if (!t->sets_[set].used_)
            continue;
        for (w = 0; w < 4 && rc == IMSSEC_OK; w++) {
            imssec_sa_info info;
            imssec_esp_params ep;
            const uint8_t *r;
            uint64_t seq;
            imssec_esp_sa *e;
            sa_info_fill(t, set, w, &info);
            r = sa_pool_rec(in, n, info.handle);
            if (!r || info.handle > p->cap || isc_be32(r + 4) != info.spi ||
                r[8] != (info.inbound ? IMSSEC_ESP_INBOUND : IMSSEC_ESP_OUTBOUND)) {
                rc = isc_fail(err, IMSSEC_E_SYNTAX,
                              "an SA of the table has no matching record in the pool snapshot",
                              NULL);
                isc_wipe(&info, sizeof info);
                break;
            }
            e = &p->sas[info.handle - 1];
            seq = (uint64_t)isc_be32(r + 9) << 32 | isc_be32(r + 13);
            imssec_esp_params_init(&ep);
            ep.spi = info.spi;
            ep.dir = info.inbound ? IMSSEC_ESP_INBOUND : IMSSEC_ESP_OUTBOUND;
            ep.mode = info.mode;
            ep.alg = info.alg;
            ep.ealg = info.ealg;
            ep.auth_key = info.ik;
            ep.auth_key_len = info.ik_len;
            ep.enc_key = info.ck;
            ep.enc_key_len = info.ck_len;
            ep.src = info.src;
            ep.dst = info.dst;
            if (p->outer_local.len) {
                if (info.inbound)
                    ep.dst = p->outer_local;
                else
                    ep.src = p->outer_local;
            }
            ep.sport = info.encap_sport ? info.encap_sport : SA_ENCAP_PORT;
            ep.dport = info.encap_dport ? info.encap_dport : SA_ENCAP_PORT;
            if (p->replay_window)
                ep.replay_window = p->replay_window;
            /* 3.3.3: never send a number twice; inbound: nothing at or
             * below the saved top */
            ep.seq = info.inbound ? seq : (seq > UINT32_MAX - seq_margin ? UINT32_MAX : seq + seq_margin);
            if (imssec_esp_sa_spi(e) != 0) {
                rc = isc_fail(err, IMSSEC_E_SYNTAX, "two SAs name one pool slot", NULL);
            } else {
                rc = imssec_esp_sa_setup(e, &ep, err);
                if (rc == IMSSEC_OK)
                    p->used++;
            }
            isc_wipe(&ep, sizeof ep);
            isc_wipe(&info, sizeof info);
        }
    }
    if (rc != IMSSEC_OK) {
        size_t i;
        for (i = 0; i < p->cap; i++)
            imssec_esp_sa_wipe(&p->sas[i]);
        p->used = 0;
    }
    return rc;
}

IMSSEC_API void imssec_sa_esp_callbacks(imssec_sa_callbacks *cb, imssec_sa_esp_pool *p)
{
    memset(cb, 0, sizeof *cb);
    cb->user = p;
    cb->install = sa_esp_install;
    cb->update = sa_esp_update;
    cb->remove = sa_esp_remove;
}

/* The esp/ SA of an sa/ SA, with its description: the slot its handle
 * names, if that slot holds an SA of the same SPI and direction (the
 * table's callbacks may be the pool's own or a wrapper that calls them). */
static imssec_esp_sa *sa_esp_lookup(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                    imssec_sa_ref ref, imssec_sa_info *info)
{
    imssec_esp_params ep;
    imssec_esp_sa *e;
    if (!p || !t || imssec_sa_get(t, ref, info) != IMSSEC_OK)
        return NULL;
    e = sa_esp_slot(p, info->handle);
    if (e && (imssec_esp_sa_spi(e) != info->spi || imssec_esp_sa_describe(e, &ep) != IMSSEC_OK ||
              ep.dir != (info->inbound ? IMSSEC_ESP_INBOUND : IMSSEC_ESP_OUTBOUND)))
        e = NULL;
    isc_wipe(&ep, sizeof ep);
    return e;
}

IMSSEC_API imssec_esp_sa *imssec_sa_esp_of(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                           imssec_sa_ref ref)
{
    imssec_sa_info info;
    imssec_esp_sa *e = sa_esp_lookup(p, t, ref, &info);
    isc_wipe(&info, sizeof info);
    return e;
}

IMSSEC_API int imssec_sa_esp_protect(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                     imssec_sa_ref sa, int transport, const uint8_t *payload,
                                     size_t payload_len, uint8_t *out, size_t out_cap,
                                     imssec_sa_esp_packet *pkt, imssec_errinfo *err)
{
    imssec_sa_info info;
    imssec_esp_sa *e;
    imssec_flow f;
    size_t len = 0, esp_off = 0;
    int rc;
    if (!pkt)
        return isc_fail_param(err, "pkt", "NULL argument");
    e = sa_esp_lookup(p, t, sa, &info);
    if (!e || info.inbound) {
        isc_wipe(&info, sizeof info);
        return isc_fail(err, IMSSEC_E_NOT_FOUND,
                        "not an outbound SA of this table and pool (stale ref?)", NULL);
    }
    /* the selectors of TS 33.203 7.1: the SA's addresses and protected
     * ports are the inner header */
    memset(&f, 0, sizeof f);
    f.src = info.src;
    f.dst = info.dst;
    f.sport = info.sport;
    f.dport = info.dport;
    f.transport = transport;
    rc = imssec_esp_protect_flow(e, t->io_, &f, payload, payload_len, out, out_cap, &len,
                                 &esp_off, err);
    if (rc == IMSSEC_E_SPACE)
        pkt->len = len;
    if (rc == IMSSEC_OK) {
        imssec_esp_params ep;
        (void)imssec_esp_sa_describe(e, &ep);
        memset(pkt, 0, sizeof *pkt);
        pkt->len = len;
        if (info.mode == IMSSEC_MODE_UDP_ENC_TUN) {
            pkt->send_off = esp_off;
            pkt->to = ep.dst;
            pkt->to_port = ep.dport;
        } else {
            pkt->to = info.dst;
        }
    }
    isc_wipe(&info, sizeof info);
    return rc;
}

/* The SPI of a received packet, and for UDP the source port: enough to
 * find the SA before anything is decrypted. */
static int sa_esp_peek(int input, const uint8_t *in, size_t len, uint32_t *spi, uint16_t *uport)
{
    size_t off = 0;
    *uport = 0;
    if (input == IMSSEC_ESP_IN_IP) {
        uint8_t proto;
        if (len >= 20 && (in[0] >> 4) == 4) {
            off = (size_t)(in[0] & 15) * 4;
            proto = in[9];
        } else if (len >= 40 && (in[0] >> 4) == 6) {
            off = 40; /* extension headers: left to esp/, which parses them */
            proto = in[6];
        } else {
            return IMSSEC_E_MALFORMED;
        }
        if (proto == 17) {
            if (len < off + 8)
                return IMSSEC_E_MALFORMED;
            *uport = isc_be16(in + off);
            off += 8;
        } else if (proto != 50) {
            return IMSSEC_E_MALFORMED;
        }
    }
    /* RFC 3948 2.2, 2.3: a NAT keepalive or an IKE packet behind the
     * Non-ESP marker is not for an SA */
    if (len - off == 1 && in[off] == 0xff)
        return IMSSEC_E_NOT_ESP;
    if (len < off + 8)
        return IMSSEC_E_MALFORMED;
    *spi = isc_be32(in + off);
    return *spi == 0 ? IMSSEC_E_NOT_ESP : IMSSEC_OK;
}

IMSSEC_API int imssec_sa_esp_unprotect(imssec_sa_esp_pool *p, imssec_sa_table *t, int input,
                                       const uint8_t *in, size_t in_len, uint16_t src_port,
                                       uint8_t *out, size_t out_cap,
                                       imssec_sa_esp_received *rx, imssec_errinfo *err)
{
    imssec_sa_info info;
    imssec_sa_esp_received r;
    imssec_esp_sa *e;
    uint32_t spi = 0;
    uint16_t uport = 0;
    int rc;
    if (!p || !t || !in || !out || !rx)
        return isc_fail_param(err, "p / t / in / out / rx", "NULL argument");
    memset(&r, 0, sizeof r);
    rc = sa_esp_peek(input, in, in_len, &spi, &uport);
    if (rc != IMSSEC_OK)
        return isc_fail(err, rc, rc == IMSSEC_E_NOT_ESP ? "a NAT keepalive or an IKE packet"
                                                        : "too short for an ESP header",
                        "RFC 3948 2");
    if (imssec_sa_find_spi(t, spi, &r.sa) != IMSSEC_OK) {
        imssec_sa_ref swapped;
        uint32_t b = spi >> 24 | (spi >> 8 & 0xff00u) | (spi << 8 & 0xff0000u) | spi << 24;
        return isc_fail(err, IMSSEC_E_NO_SA,
                        imssec_sa_find_spi(t, b, &swapped) == IMSSEC_OK
                            ? "no inbound SA has this SPI; one has it byte-swapped (the sender "
                              "wrote it in host byte order)"
                            : "no inbound SA has this SPI",
                        NULL);
    }
    e = sa_esp_lookup(p, t, r.sa, &info);
    if (!e) {
        isc_wipe(&info, sizeof info);
        return isc_fail(err, IMSSEC_E_NO_SA, "the SA is not in this pool", NULL);
    }
    rc = imssec_esp_unprotect_flow(e, input, in, in_len, out, out_cap, &r.flow, &r.payload_off,
                                   &r.payload_len, &r.seq, err);
    if (rc == IMSSEC_OK &&
        !(imssec_addr_equal(&r.flow.src, &info.src) && imssec_addr_equal(&r.flow.dst, &info.dst) &&
          r.flow.sport == info.sport && r.flow.dport == info.dport)) {
        /* 7.1 rules 4 and 7: the SA is identified by its (UE IP, UE port,
         * P-CSCF port); an inner header naming other ports came on the
         * wrong SA */
        memset(out, 0, r.payload_off + r.payload_len);
        rc = isc_fail(err, IMSSEC_E_SA_WRONG,
                      "the inner addresses or ports are not the SA's selectors",
                      "TS 33.203 7.1 rules 4 and 7");
    }
    if (rc == IMSSEC_OK) {
        (void)imssec_sa_owner(t, r.sa, &r.user);
        /* M.7.2: the P-CSCF learns the UE's NAT port from the first
         * UDP-encapsulated packet of the set */
        if (t->cfg_.role == IMSSEC_SA_ROLE_PCSCF && info.mode == IMSSEC_MODE_UDP_ENC_TUN) {
            uint16_t port = input == IMSSEC_ESP_IN_ESP ? src_port : uport;
            if (port && imssec_sa_learn_uenc(t, r.sa, port) != IMSSEC_OK)
                rc = isc_fail(err, IMSSEC_E_CALLBACK, "learning port_Uenc failed", "TS 33.203 M.7.2");
        }
        *rx = r;
    }
    isc_wipe(&info, sizeof info);
    return rc;
}
