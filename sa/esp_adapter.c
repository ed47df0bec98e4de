/*
 * sa/esp_adapter.c -- the default data plane for sa/: every SA the state
 * machines install becomes an imssec_esp_sa in a caller-provided pool.
 */
#include "../imssec.h"

IMSSEC_API void imssec_sa_esp_pool_init(imssec_sa_esp_pool *p, imssec_esp_sa *sas, size_t cap)
{
    size_t i;
    memset(p, 0, sizeof *p);
    p->sas = sas;
    p->cap = cap;
    for (i = 0; i < cap; i++)
        imssec_esp_sa_wipe(&sas[i]);
}

static void sa_esp_addr(imssec_esp_addr *o, const imssec_sa_addr *a)
{
    memset(o, 0, sizeof *o);
    o->family = (uint8_t)(a->len == 16 ? 6 : 4);
    memcpy(o->a, a->b, a->len);
}

static int sa_esp_install(void *user, const imssec_sa_info *sa, uint64_t *handle)
{
    imssec_sa_esp_pool *p = (imssec_sa_esp_pool *)user;
    imssec_esp_params ep;
    size_t k;
    int rc;
    if (p->used >= p->cap)
        return -1;
    /* rotating cursor: amortised O(1) search for a free slot */
    for (k = 0; k < p->cap; k++) {
        size_t i = (p->cursor_ + k) % p->cap;
        if (p->sas[i].setup_ != 0)
            continue;
        imssec_esp_params_init(&ep);
        ep.spi = sa->spi;
        ep.dir = sa->inbound ? IMSSEC_ESP_INBOUND : IMSSEC_ESP_OUTBOUND;
        ep.mode = sa->mode == IMSSEC_SA_MODE_UDP_ENC_TUN ? IMSSEC_ESP_UDP_TUNNEL
                                                         : IMSSEC_ESP_TRANSPORT;
        ep.auth = sa->alg == IMSSEC_SA_ALG_HMAC_MD5_96 ? IMSSEC_ESP_AUTH_HMAC_MD5_96
                                                       : IMSSEC_ESP_AUTH_HMAC_SHA1_96;
        ep.enc = sa->ealg == IMSSEC_SA_EALG_AES_CBC        ? IMSSEC_ESP_ENC_AES_CBC
                 : sa->ealg == IMSSEC_SA_EALG_DES_EDE3_CBC ? IMSSEC_ESP_ENC_DES_EDE3_CBC
                                                           : IMSSEC_ESP_ENC_NULL;
        ep.auth_key = sa->ik;
        ep.auth_key_len = sa->ik_len;
        ep.enc_key = sa->ck;
        ep.enc_key_len = sa->ck_len;
        sa_esp_addr(&ep.src, &sa->src);
        sa_esp_addr(&ep.dst, &sa->dst);
        ep.sport = sa->encap_sport ? sa->encap_sport : 4500;
        ep.dport = sa->encap_dport ? sa->encap_dport : 4500;
        if (p->replay_window)
            ep.replay_window = p->replay_window;
        rc = imssec_esp_sa_setup(&p->sas[i], &ep);
        if (rc != IMSSEC_OK)
            return -1;
        p->used++;
        p->cursor_ = (i + 1) % p->cap;
        *handle = (uint64_t)i + 1u;
        return 0;
    }
    return -1;
}

static imssec_esp_sa *sa_esp_slot(imssec_sa_esp_pool *p, uint64_t handle)
{
    if (handle == 0 || handle > p->cap || p->sas[handle - 1].setup_ == 0)
        return NULL;
    return &p->sas[handle - 1];
}

static int sa_esp_update(void *user, const imssec_sa_info *sa)
{
    imssec_esp_sa *e = sa_esp_slot((imssec_sa_esp_pool *)user, sa->handle);
    if (!e)
        return -1;
    if (sa->encap_sport)
        e->sport = sa->encap_sport;
    if (sa->encap_dport)
        e->dport = sa->encap_dport;
    return 0;
}

static int sa_esp_remove(void *user, const imssec_sa_info *sa)
{
    imssec_sa_esp_pool *p = (imssec_sa_esp_pool *)user;
    imssec_esp_sa *e = sa_esp_slot(p, sa->handle);
    if (!e)
        return -1;
    imssec_esp_sa_wipe(e);
    p->used--;
    return 0;
}

IMSSEC_API void imssec_sa_esp_callbacks(imssec_sa_callbacks *cb, imssec_sa_esp_pool *p)
{
    memset(cb, 0, sizeof *cb);
    cb->user = p;
    cb->install = sa_esp_install;
    cb->update = sa_esp_update;
    cb->remove = sa_esp_remove;
}

IMSSEC_API imssec_esp_sa *imssec_sa_esp_of(imssec_sa_esp_pool *p, const imssec_sa_table *t,
                                           imssec_sa_ref ref)
{
    imssec_sa_info info;
    imssec_esp_sa *e;
    if (!p || !t || t->cb_ == NULL || t->cb_->user != (void *)p ||
        imssec_sa_get(t, ref, &info) != IMSSEC_OK)
        return NULL;
    e = sa_esp_slot(p, info.handle);
    if (e && e->spi != info.spi)
        e = NULL;
    isc_wipe(&info, sizeof info);
    return e;
}
