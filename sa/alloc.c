/*
 * sa/alloc.c -- SPIs and protected ports: random, unique where TS 33.203 7.1
 * asks, never 0..255 (SPIs) or 5060 / 5061 (ports).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sa_int.h"

/* ===========================================================================
 * SPI and port allocation
 * ======================================================================== */
static int sa_spi_count(const imssec_sa_table *t, uint32_t spi)
{
    uint32_t mask = t->ix_spi_mask_, i = (uint32_t)sa_hash_spi(t, spi) & mask;
    int n = 0;
    while (t->ix_spi_[i] != 0) {
        uint32_t v = t->ix_spi_[i];
        if (t->sets_[(v - 1) >> 2].spi_[(v - 1) & 3] == spi)
            n++;
        i = (i + 1) & mask;
    }
    return n;
}

/* UE: SPIs reserved by Security-Client but not yet in a set. */
static int sa_spi_reserved(const imssec_sa_table *t, uint32_t spi)
{
    uint32_t i;
    if (t->cfg_.role != IMSSEC_SA_ROLE_UE)
        return 0;
    for (i = 0; i < t->user_cap_; i++) {
        const imssec_sa_user *u = &t->users_[i];
        if (u->used_ && (u->state_ == ST(REG_UNPROT) || u->state_ == ST(REG_PROT)) &&
            (u->spi_c_ == spi || u->spi_s_ == spi))
            return 1;
    }
    return 0;
}

/* 7.1: random, unique among all SPIs in the table, different from the
 * peer's, never 0..255 (IANA reserved), different from `other`. */
static int sa_spi_alloc(const imssec_sa_table *t, uint32_t peer1, uint32_t peer2, uint32_t other,
                        uint32_t *spi)
{
    int tries;
    for (tries = 0; tries < 64; tries++) {
        uint8_t b[4];
        uint32_t v;
        if (isc_random(t->io_, b, 4) != IMSSEC_OK)
            return IMSSEC_E_CALLBACK;
        v = isc_be32(b);
        if (v < 256 || v == peer1 || v == peer2 || v == other)
            continue;
        if (sa_spi_count(t, v) != 0 || sa_spi_reserved(t, v))
            continue;
        *spi = v;
        return IMSSEC_OK;
    }
    return IMSSEC_E_SPACE;
}

/* A peer-chosen SPI must not equal one of our inbound SPIs (ours are
 * unique among all SPIs in the table, 7.1) nor our pending ones. */
static int sa_peer_spi_clash(const imssec_sa_table *t, const imssec_sa_user *u, uint32_t spi)
{
    imssec_sa_ref r;
    if (imssec_sa_find_spi(t, spi, &r) == IMSSEC_OK)
        return 1;
    /* UE: SPIs offered in a Security-Client and not yet in a set are ours
     * too (any user of the table) */
    return t->cfg_.role == IMSSEC_SA_ROLE_UE &&
           (spi == u->spi_c_ || spi == u->spi_s_ || sa_spi_reserved(t, spi));
}

/* Is (ip, port) the UE end of any SA?  With skip_user != UINT32_MAX, SAs of
 * that user are ignored. */
static int sa_port_used(const imssec_sa_table *t, const imssec_addr *ip, uint16_t port,
                        uint32_t skip_user)
{
    uint32_t mask = t->ix_port_mask_, i = (uint32_t)sa_hash_port(t, ip, port) & mask;
    while (t->ix_port_[i] != 0) {
        uint32_t v = t->ix_port_[i];
        const imssec_sa_set *s = &t->sets_[(v - 1) >> 2];
        if (sa_ue_port(s, (int)((v - 1) & 3)) == port && imssec_addr_equal(&s->ue_ip_, ip) &&
            s->user_ != skip_user)
            return 1;
        i = (i + 1) & mask;
    }
    return 0;
}

static int sa_port_random(const imssec_sa_table *t, uint16_t *port)
{
    uint8_t b[2];
    uint32_t span = (uint32_t)t->cfg_.port_max - t->cfg_.port_min + 1u;
    if (isc_random(t->io_, b, 2) != IMSSEC_OK)
        return IMSSEC_E_CALLBACK;
    *port = (uint16_t)(t->cfg_.port_min + (uint32_t)isc_be16(b) % span);
    return IMSSEC_OK;
}

static int sa_port_taken_by_user(const imssec_sa_table *t, const imssec_sa_user *u, uint16_t p)
{
    int r;
    if (p == 5060 || p == 5061 || p == u->port_us_ || p == u->port_ps_)
        return 1;
    for (r = 0; r < 4; r++) {
        if (u->set_[r]) {
            const imssec_sa_set *s = &t->sets_[u->set_[r] - 1];
            if (t->cfg_.role == IMSSEC_SA_ROLE_UE ? (p == s->port_uc_ || p == s->port_us_)
                                                  : (p == s->port_pc_ || p == s->port_ps_))
                return 1;
        }
    }
    return 0;
}

/* A fresh protected client port (7.4: port_uc / port_pc change with every
 * new set); the UE also keeps it clear of every (own IP, port) in the table
 * (M.7.1 rule 6). */
static int sa_port_alloc(const imssec_sa_table *t, const imssec_sa_user *u,
                         const imssec_addr *ue_ip, uint16_t avoid, uint16_t *port)
{
    int tries, rc;
    for (tries = 0; tries < 64; tries++) {
        uint16_t p;
        if ((rc = sa_port_random(t, &p)) != IMSSEC_OK)
            return rc;
        if (p == avoid || sa_port_taken_by_user(t, u, p))
            continue;
        if (t->cfg_.role == IMSSEC_SA_ROLE_UE && sa_port_used(t, ue_ip, p, UINT32_MAX))
            continue;
        *port = p;
        return IMSSEC_OK;
    }
    return IMSSEC_E_SPACE;
}

