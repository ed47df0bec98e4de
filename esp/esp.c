/*
 * esp.c -- SA setup, outbound (protect) and inbound (unprotect) packet
 * processing for transport, tunnel and UDP-encapsulated tunnel mode.
 *
 * Layout of a protected packet (RFC 4303 section 2):
 *   [IP header (+ IPv6 extension headers)] [UDP (RFC 3948)] SPI seq IV
 *   E(payload | padding 1,2,3.. | pad length | next header) ICV
 * The ICV covers SPI..ciphertext, followed by the high 32 sequence bits
 * when ESN is on (RFC 4303 section 2.2.1); they are never sent.
 */
#include "../imssec.h"

#define ESP_MAGIC 0x45535031u /* "ESP1": set once the SA is usable */
#define ESP_PROTO 50
#define ESP_PROTO_UDP 17
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_NH_DUMMY 59

/* The opaque storage in imssec_esp_sa must hold the seam's types (their
 * sizes differ between mbedTLS 2.28 and 3.6 and between -m32 and -m64). */
ISC_STATIC_ASSERT(esp_hmac_fits, sizeof(isc_hmac) <= sizeof(((imssec_esp_sa *)0)->auth_state_));
ISC_STATIC_ASSERT(esp_cipher_fits,
                  sizeof(isc_cipher) <= sizeof(((imssec_esp_sa *)0)->cipher_state_));

static isc_hmac *esp_hmac(imssec_esp_sa *sa)
{
    return (isc_hmac *)(void *)sa->auth_state_;
}
static const isc_hmac *esp_hmac_c(const imssec_esp_sa *sa)
{
    return (const isc_hmac *)(const void *)sa->auth_state_;
}
static isc_cipher *esp_cipher(imssec_esp_sa *sa)
{
    return (isc_cipher *)(void *)sa->cipher_state_;
}

/* AES-GCM (RFC 4106) and AES-GMAC (RFC 4543) share one state: a GCM key
 * and the 4-byte salt of the nonce, kept in cipher_state_ (the keying
 * material is key || salt, 20 bytes, as Linux's rfc4106(gcm(aes)) and
 * rfc4543(gcm(aes)) take it).  Both have an 8-byte explicit IV and a
 * 16-byte ICV. */
typedef struct esp_gcm {
    isc_gcm gcm;
    uint8_t salt[4];
} esp_gcm;
ISC_STATIC_ASSERT(esp_gcm_fits, sizeof(esp_gcm) <= sizeof(((imssec_esp_sa *)0)->cipher_state_));
ISC_STATIC_ASSERT(esp_icv_max, IMSSEC_ESP_ICV_MAX >= 16 && IMSSEC_ESP_ICV_MAX >= IMSSEC_ESP_ICV_LEN);

static esp_gcm *esp_gcm_of(imssec_esp_sa *sa)
{
    return (esp_gcm *)(void *)sa->cipher_state_;
}

/* 1 for the GCM-based suites: ealg AES-GCM (with alg NULL) or alg AES-GMAC
 * (with ealg NULL). */
static int esp_is_gcm(int auth, int enc)
{
    return enc == IMSSEC_EALG_AES_GCM || auth == IMSSEC_ALG_AES_GMAC;
}
static size_t esp_icv_len(int auth, int enc)
{
    return esp_is_gcm(auth, enc) ? 16u : auth == IMSSEC_ALG_NULL ? 0u : (size_t)IMSSEC_ESP_ICV_LEN;
}
static size_t esp_iv_len(int auth, int enc)
{
    return esp_is_gcm(auth, enc)              ? 8u /* RFC 4106 3.1, RFC 4543 3.1 */
           : enc == IMSSEC_EALG_AES_CBC        ? 16u
           : enc == IMSSEC_EALG_DES_EDE3_CBC ? 8u
                                                : 0u;
}
/* Alignment of payload || trailer: the cipher block, at least 4 bytes
 * (RFC 4303 section 2.4; AES-GCM and GMAC have no block: 4). */
static size_t esp_align(int enc)
{
    return enc == IMSSEC_EALG_AES_CBC ? 16u : enc == IMSSEC_EALG_DES_EDE3_CBC ? 8u : 4u;
}
static int esp_isc_cipher(int enc)
{
    return enc == IMSSEC_EALG_AES_CBC        ? ISC_CIPHER_AES128_CBC
           : enc == IMSSEC_EALG_DES_EDE3_CBC ? ISC_CIPHER_DES3_CBC
                                                : ISC_CIPHER_NULL;
}
/* Transport and UDP-encapsulated transport share one path: the packet's
 * own IP header is kept; UDP transport only adds or removes the RFC 3948
 * UDP header between it and ESP. */
static int esp_is_transport(int mode)
{
    return mode == IMSSEC_MODE_TRANS || mode == IMSSEC_MODE_UDP_ENC_TRANS;
}
static int esp_is_udp(int mode)
{
    return mode == IMSSEC_MODE_UDP_ENC_TUN || mode == IMSSEC_MODE_UDP_ENC_TRANS;
}

/* ---- checksums ------------------------------------------------------------ */

static uint32_t esp_sum(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        sum += isc_be16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return sum;
}

/* RFC 791 header checksum over hdr[0..hlen) with the field zeroed first. */
static void esp_ipv4_checksum(uint8_t *hdr, size_t hlen)
{
    hdr[10] = hdr[11] = 0;
    isc_put_be16(hdr + 10, (uint16_t)~esp_sum(0, hdr, hlen));
}

/* UDP checksum (RFC 768 / RFC 8200 8.1) of udp[0..n) between the two
 * addresses of a family; 0 becomes 0xffff. */
static uint16_t esp_udp_checksum(int family, const uint8_t *src, const uint8_t *dst,
                                 const uint8_t *udp, size_t n)
{
    size_t alen = family == 6 ? 16u : 4u;
    uint32_t sum = 0;
    uint16_t r;
    sum = esp_sum(sum, src, alen);
    sum = esp_sum(sum, dst, alen);
    sum += ESP_PROTO_UDP;
    sum += (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff);
    sum = esp_sum(sum, udp, n);
    r = (uint16_t)~sum;
    return r == 0 ? 0xffff : r;
}

/* ---- IP header parsing -------------------------------------------------- */

/* A parsed outer (or transport) header. */
typedef struct esp_ip {
    int family;    /* 4 or 6 */
    size_t len;    /* the packet's own length (<= buffer length) */
    size_t hlen;   /* bytes before the upper-layer (or ESP) header */
    size_t nh_off; /* offset of the byte holding the protocol / next header */
    uint8_t nh;    /* its value */
} esp_ip;

/* Parse an IPv4 header.  Returns 0 or an error; fragments are refused. */
static int esp_parse_v4(const uint8_t *p, size_t n, esp_ip *ip, int frag_err)
{
    size_t ihl, tot;
    if (n < 20 || (p[0] >> 4) != 4)
        return IMSSEC_E_MALFORMED;
    ihl = (size_t)(p[0] & 15) * 4;
    tot = isc_be16(p + 2);
    if (ihl < 20 || tot < ihl || tot > n)
        return IMSSEC_E_MALFORMED;
    if ((isc_be16(p + 6) & 0x3fff) != 0) /* MF or a fragment offset */
        return frag_err;
    ip->family = 4;
    ip->len = tot;
    ip->hlen = ihl;
    ip->nh_off = 9;
    ip->nh = p[9];
    return IMSSEC_OK;
}

/* Parse an IPv6 header and walk the extension headers that precede ESP:
 *   want_esp 0 (outbound transport): stop where ESP goes, after the last
 *     hop-by-hop or routing header (a destination options header before a
 *     routing header is passed too; RFC 4303 3.1.1 / RFC 8200 4.1);
 *   want_esp 1 (inbound): pass hop-by-hop, routing and destination options
 *     until next header `target` (ESP or UDP).
 * The chain is bounded: every extension header is at least 8 bytes. */
static int esp_parse_v6(const uint8_t *p, size_t n, esp_ip *ip, int want_esp, uint8_t target,
                        int frag_err)
{
    size_t off = 40, nh_off = 6, plen;
    size_t ins_off = 40, ins_nh = 6;
    if (!IMSSEC_ENABLE_IPV6) /* inbound: a packet we cannot take is dropped */
        return want_esp ? IMSSEC_E_MALFORMED : IMSSEC_E_UNSUPPORTED;
    if (n < 40 || (p[0] >> 4) != 6)
        return IMSSEC_E_MALFORMED;
    plen = isc_be16(p + 4);
    if (plen == 0) /* jumbogram (RFC 2675) or an empty packet */
        return want_esp ? IMSSEC_E_MALFORMED : IMSSEC_E_UNSUPPORTED;
    if (40 + plen > n)
        return IMSSEC_E_MALFORMED;
    n = 40 + plen;
    for (;;) {
        uint8_t nh = p[nh_off];
        size_t elen;
        if (want_esp && nh == target)
            break;
        if (nh == 44)
            return frag_err;
        if (nh != 0 && nh != 43 && nh != 60)
            break;
        if (nh == 0 && nh_off != 6)
            return IMSSEC_E_MALFORMED; /* hop-by-hop only right after the header */
        if (off + 8 > n)
            return IMSSEC_E_MALFORMED;
        elen = ((size_t)p[off + 1] + 1) * 8;
        if (off + elen > n)
            return IMSSEC_E_MALFORMED;
        nh_off = off;
        off += elen;
        if (nh == 0 || nh == 43) {
            ins_off = off;
            ins_nh = nh_off;
        }
    }
    ip->family = 6;
    ip->len = n;
    if (want_esp) {
        ip->hlen = off;
        ip->nh_off = nh_off;
    } else {
        ip->hlen = ins_off;
        ip->nh_off = ins_nh;
    }
    ip->nh = p[ip->nh_off];
    return IMSSEC_OK;
}

/* Length of an inner IP packet at p[0..n) (tunnel mode), or 0 if it is not
 * a well-formed IPv4 / IPv6 header of the family named by nh.  Reads only
 * p[0..6), and only when n covers a whole header (esp_open passes the first
 * decrypted block with the full payload length). */
static size_t esp_inner_len(const uint8_t *p, size_t n, uint8_t nh)
{
    if (nh == ESP_NH_IPV4) {
        size_t tot;
        if (n < 20 || (p[0] >> 4) != 4 || (p[0] & 15) < 5)
            return 0;
        tot = isc_be16(p + 2);
        return (tot >= (size_t)(p[0] & 15) * 4 && tot <= n) ? tot : 0;
    }
    if (nh == ESP_NH_IPV6 && IMSSEC_ENABLE_IPV6) {
        size_t tot;
        if (n < 40 || (p[0] >> 4) != 6)
            return 0;
        tot = 40 + (size_t)isc_be16(p + 4);
        return tot <= n ? tot : 0;
    }
    return 0;
}

/* ---- SA life cycle -------------------------------------------------------- */

IMSSEC_API void imssec_esp_params_init(imssec_esp_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->dir = IMSSEC_ESP_OUTBOUND;
    p->mode = IMSSEC_MODE_TRANS;
    p->alg = IMSSEC_ALG_HMAC_SHA1_96;
    p->ealg = IMSSEC_EALG_NULL;
    p->sport = 4500;
    p->dport = 4500;
    p->replay_window = IMSSEC_ESP_REPLAY_DEFAULT;
}

static int esp_unsupported(imssec_errinfo *err, const char *param, const char *what)
{
    isc_fail(err, IMSSEC_E_UNSUPPORTED, what, NULL);
    if (err)
        err->param = param;
    return IMSSEC_E_UNSUPPORTED;
}

static int esp_check_params(const imssec_esp_params *p, imssec_errinfo *e)
{
    size_t klen;
    if (p->spi == 0)
        return isc_fail_param(e, "spi", "SPI 0 is reserved (RFC 4303 2.1)");
    if (p->dir != IMSSEC_ESP_OUTBOUND && p->dir != IMSSEC_ESP_INBOUND)
        return isc_fail_param(e, "dir", "not a imssec_esp_dir");
    if (p->esn != 0 && p->esn != 1)
        return isc_fail_param(e, "esn", "must be 0 or 1");
    if (p->mode != IMSSEC_MODE_TRANS && p->mode != IMSSEC_MODE_TUN &&
        p->mode != IMSSEC_MODE_UDP_ENC_TUN && p->mode != IMSSEC_MODE_UDP_ENC_TRANS)
        return isc_fail_param(e, "mode", "not a mode esp/ runs");
    if (esp_is_udp(p->mode) && !IMSSEC_ENABLE_UDPENCAP)
        return esp_unsupported(e, "mode", "UDP encapsulation compiled out");
    switch (p->alg) {
    case IMSSEC_ALG_NULL: klen = 0; break;
    case IMSSEC_ALG_HMAC_MD5_96:
        if (!IMSSEC_ENABLE_HMAC_MD5)
            return esp_unsupported(e, "alg", "HMAC-MD5-96 compiled out");
        klen = 16;
        break;
    case IMSSEC_ALG_HMAC_SHA1_96: klen = 20; break;
    case IMSSEC_ALG_AES_GMAC: klen = 20; break; /* key || salt (RFC 4543 3.2) */
    default: return isc_fail_param(e, "alg", "not a imssec_alg");
    }
    if (p->auth_key_len != klen || (klen && !p->auth_key))
        return isc_fail_param(e, "auth_key_len", "wrong integrity key length");
    switch (p->ealg) {
    case IMSSEC_EALG_NULL: klen = 0; break;
    case IMSSEC_EALG_AES_CBC: klen = 16; break;
    case IMSSEC_EALG_DES_EDE3_CBC:
        if (!IMSSEC_ENABLE_3DES)
            return esp_unsupported(e, "ealg", "DES-EDE3-CBC compiled out");
        klen = 24;
        break;
    case IMSSEC_EALG_AES_GCM: klen = 20; break; /* key || salt (RFC 4106 4, 8.1) */
    default: return isc_fail_param(e, "ealg", "not a imssec_ealg");
    }
    if (p->enc_key_len != klen || (klen && !p->enc_key))
        return isc_fail_param(e, "enc_key_len", "wrong encryption key length");
    if (p->alg == IMSSEC_ALG_NULL && p->ealg == IMSSEC_EALG_NULL)
        return isc_fail_param(e, "alg", "NULL integrity with NULL encryption (RFC 4303 3.2)");
    if (p->ealg == IMSSEC_EALG_AES_GCM && p->alg != IMSSEC_ALG_NULL)
        return isc_fail_param(e, "alg", "AES-GCM is a combined mode: alg must be NULL (RFC 4303 3.2)");
    if (p->alg == IMSSEC_ALG_AES_GMAC && p->ealg != IMSSEC_EALG_NULL)
        return isc_fail_param(e, "ealg", "AES-GMAC has no encryption: ealg must be NULL (RFC 4543 3)");
    if (p->replay_window < 32 || p->replay_window > IMSSEC_REPLAY_WINDOW_MAX ||
        (p->replay_window & (p->replay_window - 1)) != 0)
        return isc_fail_param(e, "replay_window",
                              "not a power of two in 32..IMSSEC_REPLAY_WINDOW_MAX");
    if (!p->esn && p->seq > UINT32_MAX)
        return isc_fail_param(e, "seq", "beyond 2^32-1 without ESN");
    if (!esp_is_transport(p->mode)) {
        if (!isc_addr_ok(&p->src) || !isc_addr_ok(&p->dst)) {
            if (p->src.len == 16 || p->dst.len == 16)
                return esp_unsupported(e, "src", "IPv6 compiled out");
            return isc_fail_param(e, "src", "tunnel modes need outer addresses");
        }
        if (p->src.len != p->dst.len)
            return isc_fail_param(e, "dst", "outer addresses of different families");
    }
    return IMSSEC_OK;
}

IMSSEC_API int imssec_esp_sa_setup(imssec_esp_sa *sa, const imssec_esp_params *p,
                                   imssec_errinfo *err)
{
    int rc;
    if (!sa)
        return isc_fail_param(err, "sa", "NULL argument");
    memset(sa, 0, sizeof *sa);
    if (!p)
        return isc_fail_param(err, "p", "NULL argument");
    rc = esp_check_params(p, err);
    if (rc != IMSSEC_OK)
        return rc;
    sa->spi_ = p->spi;
    sa->dir_ = p->dir;
    sa->mode_ = p->mode;
    sa->alg_ = p->alg;
    sa->ealg_ = p->ealg;
    sa->esn_ = p->esn;
    sa->src_ = p->src;
    sa->dst_ = p->dst;
    sa->sport_ = p->sport;
    sa->dport_ = p->dport;
    sa->window_ = p->replay_window;
    if (esp_is_gcm(p->alg, p->ealg)) {
        /* the last 4 bytes of the keying material are the salt */
        const uint8_t *k = p->alg == IMSSEC_ALG_AES_GMAC ? p->auth_key : p->enc_key;
        esp_gcm *g = esp_gcm_of(sa);
        rc = isc_gcm_setkey(&g->gcm, k, 16);
        memcpy(g->salt, k + 16, 4);
    } else {
        if (p->alg != IMSSEC_ALG_NULL)
            isc_hmac_setkey(esp_hmac(sa), p->alg == IMSSEC_ALG_HMAC_MD5_96 ? ISC_MD5 : ISC_SHA1,
                            p->auth_key, p->auth_key_len);
        rc = isc_cipher_setkey(esp_cipher(sa), esp_isc_cipher(p->ealg), p->enc_key,
                               p->enc_key_len);
    }
    if (rc != IMSSEC_OK) {
        imssec_esp_sa_wipe(sa);
        return isc_fail(err, rc, "cipher key schedule", NULL);
    }
    if (p->dir == IMSSEC_ESP_INBOUND)
        esp_replay_reset(sa, p->seq);
    else
        sa->seq_ = p->seq;
    sa->setup_ = ESP_MAGIC;
    return IMSSEC_OK;
}

IMSSEC_API int imssec_esp_sa_describe(const imssec_esp_sa *sa, imssec_esp_params *p)
{
    if (!sa || !p || sa->setup_ != ESP_MAGIC)
        return IMSSEC_E_PARAM;
    memset(p, 0, sizeof *p);
    p->spi = sa->spi_;
    p->dir = sa->dir_;
    p->mode = sa->mode_;
    p->alg = sa->alg_;
    p->ealg = sa->ealg_;
    p->src = sa->src_;
    p->dst = sa->dst_;
    p->sport = sa->sport_;
    p->dport = sa->dport_;
    p->esn = sa->esn_;
    p->replay_window = sa->window_;
    p->seq = sa->seq_;
    return IMSSEC_OK;
}

IMSSEC_API uint32_t imssec_esp_sa_spi(const imssec_esp_sa *sa)
{
    return sa && sa->setup_ == ESP_MAGIC ? sa->spi_ : 0;
}

IMSSEC_API uint64_t imssec_esp_sa_seq(const imssec_esp_sa *sa)
{
    return sa && sa->setup_ == ESP_MAGIC ? sa->seq_ : 0;
}

IMSSEC_API const imssec_esp_stats *imssec_esp_sa_stats(const imssec_esp_sa *sa)
{
    return sa ? &sa->stats_ : NULL;
}

IMSSEC_API int imssec_esp_sa_set_ports(imssec_esp_sa *sa, uint16_t sport, uint16_t dport)
{
    if (!sa || sa->setup_ != ESP_MAGIC || !esp_is_udp(sa->mode_) || !sport || !dport)
        return IMSSEC_E_PARAM;
    sa->sport_ = sport;
    sa->dport_ = dport;
    return IMSSEC_OK;
}

IMSSEC_API void imssec_esp_sa_wipe(imssec_esp_sa *sa)
{
    if (!sa)
        return;
    isc_hmac_wipe(esp_hmac(sa));
    isc_cipher_wipe(esp_cipher(sa));
    isc_wipe(sa, sizeof *sa);
}

/* ICV (RFC 4303 2.8 with RFC 2403/2404 -96 truncation) over p[0..n), then
 * the high sequence half when ESN is on. */
static void esp_icv(const imssec_esp_sa *sa, const uint8_t *p, size_t n, uint32_t seqh,
                    uint8_t out[IMSSEC_ESP_ICV_LEN])
{
    const isc_hmac *k = esp_hmac_c(sa);
    isc_hash h;
    uint8_t full[ISC_HASH_MAX_LEN];
    isc_hmac_start(k, &h);
    isc_hash_update(&h, p, n);
    if (sa->esn_) {
        uint8_t hi[4];
        isc_put_be32(hi, seqh);
        isc_hash_update(&h, hi, 4);
    }
    isc_hmac_finish(k, &h, full);
    memcpy(out, full, IMSSEC_ESP_ICV_LEN);
    isc_wipe(full, sizeof full);
}

/* RFC 4106 4 / RFC 4543 3.2: nonce = salt || the packet's explicit IV
 * (the 8 bytes after SPI and sequence number of e). */
static void esp_gcm_nonce(const esp_gcm *g, const uint8_t *e, uint8_t nonce[12])
{
    memcpy(nonce, g->salt, 4);
    memcpy(nonce + 4, e + 8, 8);
}

/* The 16-byte ICV of the GCM suites over the ESP packet e[0..n) (SPI up to
 * the ICV).  AAD = SPI || sequence number, with ESN SPI || Seqh || Seql
 * (RFC 4106 5, RFC 4543 3.3: the high half sits between SPI and the low
 * half, though only the low half is sent).  AES-GCM hashes the ciphertext
 * after the IV as its text (RFC 4106 5); AES-GMAC has no text: the IV,
 * payload, padding, pad length and next header all follow the sequence
 * number in the AAD (RFC 4543 3.3). */
static void esp_gcm_icv(imssec_esp_sa *sa, const uint8_t *e, size_t n, uint32_t seqh,
                        uint8_t tag[16])
{
    esp_gcm *g = esp_gcm_of(sa);
    isc_ghash s;
    uint8_t nonce[12], hi[4];
    esp_gcm_nonce(g, e, nonce);
    isc_gcm_start(&s);
    isc_gcm_aad(&g->gcm, &s, e, 4);
    if (sa->esn_) {
        isc_put_be32(hi, seqh);
        isc_gcm_aad(&g->gcm, &s, hi, 4);
    }
    isc_gcm_aad(&g->gcm, &s, e + 4, 4);
    if (sa->alg_ == IMSSEC_ALG_AES_GMAC)
        isc_gcm_aad(&g->gcm, &s, e + 8, n - 8);
    else
        isc_gcm_text(&g->gcm, &s, e + 16, n - 16);
    isc_gcm_finish(&g->gcm, &s, nonce, tag);
    isc_wipe(nonce, sizeof nonce);
}

/* The SA's ICV over the ESP packet e[0..n) (esp_icv_len() bytes). */
static void esp_auth(imssec_esp_sa *sa, const uint8_t *e, size_t n, uint32_t seqh,
                     uint8_t out[IMSSEC_ESP_ICV_MAX])
{
    if (esp_is_gcm(sa->alg_, sa->ealg_))
        esp_gcm_icv(sa, e, n, seqh, out);
    else
        esp_icv(sa, e, n, seqh, out);
}

/* 1 if [a, a+an) and [b, b+bn) overlap. */
static int esp_overlap(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + bn && y < x + an;
}

/* ---- outbound ------------------------------------------------------------- */

/* Everything protect needs to know before writing: computed from the input
 * alone, so that all checks happen before the first byte is written. */
typedef struct esp_plan {
    esp_ip ip;         /* transport: the packet's header */
    size_t prefix;     /* bytes before SPI in the output */
    size_t pay_off;    /* offset of the protected payload in the input */
    size_t pay_len;
    size_t elen;       /* payload + padding + 2 */
    size_t out_len;
    uint8_t nh;        /* next header carried in the trailer */
} esp_plan;

/* The length of a protected packet: `prefix` bytes before the SPI, then
 * SPI and sequence number, IV, the payload padded with its trailer to the
 * cipher block (RFC 4303 2.4), the ICV. */
static size_t esp_sealed_len(const imssec_esp_sa *sa, size_t prefix, size_t pay_len)
{
    size_t al = esp_align(sa->ealg_);
    return prefix + 8 + esp_iv_len(sa->alg_, sa->ealg_) + (pay_len + 2 + al - 1) / al * al +
           esp_icv_len(sa->alg_, sa->ealg_);
}

static int esp_plan_out(const imssec_esp_sa *sa, const uint8_t *in, size_t in_len, esp_plan *pl)
{
    size_t al = esp_align(sa->ealg_), outer = 0;
    int rc;
    memset(pl, 0, sizeof *pl);
    if (in_len < 1)
        return IMSSEC_E_MALFORMED;
    if (esp_is_transport(sa->mode_)) {
        if ((in[0] >> 4) == 4)
            rc = esp_parse_v4(in, in_len, &pl->ip, IMSSEC_E_UNSUPPORTED);
        else if ((in[0] >> 4) == 6)
            rc = esp_parse_v6(in, in_len, &pl->ip, 0, 0, IMSSEC_E_UNSUPPORTED);
        else
            rc = IMSSEC_E_MALFORMED;
        if (rc != IMSSEC_OK)
            return rc;
        if (pl->ip.len != in_len)
            return IMSSEC_E_MALFORMED; /* trailing bytes: refuse to guess */
        pl->prefix = pl->ip.hlen + (sa->mode_ == IMSSEC_MODE_UDP_ENC_TRANS ? 8u : 0u);
        pl->pay_off = pl->ip.hlen;
        pl->nh = pl->ip.nh;
    } else {
        uint8_t nh = (in[0] >> 4) == 4 ? ESP_NH_IPV4 : ESP_NH_IPV6;
        if ((in[0] >> 4) != 4 && (in[0] >> 4) != 6)
            return IMSSEC_E_MALFORMED;
        if (esp_inner_len(in, in_len, nh) != in_len)
            return (in[0] >> 4) == 6 && !IMSSEC_ENABLE_IPV6 ? IMSSEC_E_UNSUPPORTED
                                                            : IMSSEC_E_MALFORMED;
        outer = sa->src_.len == 16 ? 40u : 20u;
        if (sa->mode_ == IMSSEC_MODE_UDP_ENC_TUN)
            outer += 8;
        pl->prefix = outer;
        pl->pay_off = 0;
        pl->nh = nh;
    }
    pl->pay_len = in_len - pl->pay_off;
    pl->elen = (pl->pay_len + 2 + al - 1) / al * al;
    pl->out_len = esp_sealed_len(sa, pl->prefix, pl->pay_len);
    /* IPv4 total length / IPv6 payload length are 16 bits */
    if ((esp_is_transport(sa->mode_) ? pl->ip.family == 4 : sa->src_.len == 4)
            ? pl->out_len > 65535
            : pl->out_len - 40 > 65535)
        return IMSSEC_E_RANGE;
    return IMSSEC_OK;
}

IMSSEC_API size_t imssec_esp_protect_size(const imssec_esp_sa *sa, const uint8_t *in,
                                          size_t in_len)
{
    esp_plan pl;
    if (!sa || !in || sa->setup_ != ESP_MAGIC || sa->dir_ != IMSSEC_ESP_OUTBOUND ||
        esp_plan_out(sa, in, in_len, &pl) != IMSSEC_OK)
        return 0;
    return pl.out_len;
}

/* An outer IPv4 or IPv6 header (no options, no extension headers) from the
 * SA's addresses, for a packet of `total` bytes carrying `proto`.  Shared by
 * the tunnel modes and the RFC 3948 keepalive. */
static void esp_put_outer_ip(const imssec_esp_sa *sa, uint8_t *out, size_t total, uint16_t id,
                             uint8_t tos, int df, uint8_t proto)
{
    if (sa->src_.len == 4) {
        memset(out, 0, 20);
        out[0] = 0x45;
        out[1] = tos;
        isc_put_be16(out + 2, (uint16_t)total);
        isc_put_be16(out + 4, id);
        isc_put_be16(out + 6, df ? 0x4000 : 0);
        out[8] = 64;
        out[9] = proto;
        memcpy(out + 12, sa->src_.b, 4);
        memcpy(out + 16, sa->dst_.b, 4);
        esp_ipv4_checksum(out, 20);
    } else {
        out[0] = (uint8_t)(0x60 | tos >> 4);
        out[1] = (uint8_t)(tos << 4);
        out[2] = out[3] = 0;
        isc_put_be16(out + 4, (uint16_t)(total - 40));
        out[6] = proto;
        out[7] = 64;
        memcpy(out + 8, sa->src_.b, 16);
        memcpy(out + 24, sa->dst_.b, 16);
    }
}

/* Outer header for tunnel modes at out[0..prefix). */
static void esp_write_outer(const imssec_esp_sa *sa, uint8_t *out, const esp_plan *pl,
                            uint64_t seq, uint8_t tos, int df)
{
    size_t ihl = sa->src_.len == 16 ? 40u : 20u;
    uint8_t proto = sa->mode_ == IMSSEC_MODE_UDP_ENC_TUN ? ESP_PROTO_UDP : ESP_PROTO;
    /* the IPv4 ID is the low sequence bits: unique per SA until rekey */
    esp_put_outer_ip(sa, out, pl->out_len, (uint16_t)seq, tos, df, proto);
    if (sa->mode_ == IMSSEC_MODE_UDP_ENC_TUN) {
        uint8_t *u = out + ihl;
        isc_put_be16(u, sa->sport_);
        isc_put_be16(u + 2, sa->dport_);
        isc_put_be16(u + 4, (uint16_t)(pl->out_len - ihl));
        u[6] = u[7] = 0; /* RFC 3948 2.1: SHOULD be 0 on IPv4; IPv6 fixed later */
    }
}

static int esp_protect(imssec_esp_sa *sa, const imssec_io *io, const uint8_t *iv,
                       const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                       size_t *out_len);

IMSSEC_API int imssec_esp_protect(imssec_esp_sa *sa, const imssec_io *io, const uint8_t *iv,
                                  const uint8_t *in, size_t in_len, uint8_t *out,
                                  size_t out_cap, size_t *out_len, imssec_errinfo *err)
{
    int rc = esp_protect(sa, io, iv, in, in_len, out, out_cap, out_len);
    if (rc != IMSSEC_OK && err)
        isc_fail(err, rc, rc == IMSSEC_E_PARAM ? "not an outbound SA, NULL or overlapping buffers"
                          : rc == IMSSEC_E_SEQ_EXHAUSTED ? "sequence numbers exhausted: rekey (RFC 4303 3.3.3)"
                                                         : imssec_strerror(rc),
                 NULL);
    return rc;
}

static int esp_protect(imssec_esp_sa *sa, const imssec_io *io, const uint8_t *iv,
                       const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                       size_t *out_len)
{
    esp_plan pl;
    uint8_t ivb[IMSSEC_ESP_IV_MAX], tos = 0, *esp, *ct;
    size_t ivl, padlen, i;
    uint64_t seq;
    int rc, df = 0;
    if (!sa || !in || !out || !out_len || sa->setup_ != ESP_MAGIC ||
        sa->dir_ != IMSSEC_ESP_OUTBOUND)
        return IMSSEC_E_PARAM;
    if (out != in && esp_overlap(in, in_len, out, out_cap))
        return IMSSEC_E_PARAM;
    rc = esp_plan_out(sa, in, in_len, &pl);
    if (rc != IMSSEC_OK)
        return rc;
    *out_len = pl.out_len;
    if (out_cap < pl.out_len)
        return IMSSEC_E_SPACE;
    if (sa->esn_ ? sa->seq_ == UINT64_MAX : sa->seq_ >= UINT32_MAX) {
        sa->stats_.seq_exhausted++;
        return IMSSEC_E_SEQ_EXHAUSTED; /* RFC 4303 3.3.3: never cycle */
    }
    ivl = esp_iv_len(sa->alg_, sa->ealg_);
    if (ivl) {
        if (iv)
            memcpy(ivb, iv, ivl);
        else if ((rc = isc_random(io, ivb, ivl)) != IMSSEC_OK)
            return rc;
    }
    seq = sa->seq_ + 1;
    if (!esp_is_transport(sa->mode_)) {
        if ((in[0] >> 4) == 4) {
            tos = in[1];
            df = (in[6] & 0x40) != 0;
        } else {
            tos = (uint8_t)(in[0] << 4 | in[1] >> 4);
        }
    }
    /* From here on nothing can fail.  Move the payload first (rightwards,
     * so in place the header in front of it is untouched). */
    esp = out + pl.prefix;
    ct = esp + 8 + ivl;
    memmove(ct, in + pl.pay_off, pl.pay_len);
    if (esp_is_transport(sa->mode_)) {
        uint8_t proto = sa->mode_ == IMSSEC_MODE_UDP_ENC_TRANS ? ESP_PROTO_UDP : ESP_PROTO;
        memmove(out, in, pl.ip.hlen);
        if (pl.ip.family == 4) {
            out[9] = proto;
            isc_put_be16(out + 2, (uint16_t)pl.out_len);
            esp_ipv4_checksum(out, pl.ip.hlen);
        } else {
            out[pl.ip.nh_off] = proto;
            isc_put_be16(out + 4, (uint16_t)(pl.out_len - 40));
        }
        if (sa->mode_ == IMSSEC_MODE_UDP_ENC_TRANS) {
            /* RFC 3948 2.1; the payload was already moved past it */
            uint8_t *u = out + pl.ip.hlen;
            isc_put_be16(u, sa->sport_);
            isc_put_be16(u + 2, sa->dport_);
            isc_put_be16(u + 4, (uint16_t)(pl.out_len - pl.ip.hlen));
            u[6] = u[7] = 0; /* IPv4: SHOULD be 0; IPv6: computed below */
        }
    } else {
        esp_write_outer(sa, out, &pl, seq, tos, df);
    }
    isc_put_be32(esp, sa->spi_);
    isc_put_be32(esp + 4, (uint32_t)seq);
    memcpy(esp + 8, ivb, ivl);
    padlen = pl.elen - pl.pay_len - 2;
    for (i = 0; i < padlen; i++)
        ct[pl.pay_len + i] = (uint8_t)(i + 1); /* RFC 4303 2.4 default padding */
    ct[pl.elen - 2] = (uint8_t)padlen;
    ct[pl.elen - 1] = pl.nh;
    if (sa->ealg_ == IMSSEC_EALG_AES_GCM) {
        uint8_t nonce[12];
        esp_gcm_nonce(esp_gcm_of(sa), esp, nonce);
        isc_gcm_ctr(&esp_gcm_of(sa)->gcm, nonce, ct, pl.elen);
        isc_wipe(nonce, sizeof nonce);
    } else if (sa->alg_ != IMSSEC_ALG_AES_GMAC) {
        isc_cipher_cbc(esp_cipher(sa), 1, ivb, ct, ct, pl.elen);
    }
    if (esp_icv_len(sa->alg_, sa->ealg_))
        esp_auth(sa, esp, 8 + ivl + pl.elen, (uint32_t)(seq >> 32), ct + pl.elen);
    if (sa->mode_ == IMSSEC_MODE_UDP_ENC_TUN && sa->src_.len == 16) {
        uint8_t *u = out + 40;
        isc_put_be16(u + 6, esp_udp_checksum(6, sa->src_.b, sa->dst_.b, u, pl.out_len - 40));
    }
    if (sa->mode_ == IMSSEC_MODE_UDP_ENC_TRANS && pl.ip.family == 6) {
        /* RFC 6935 permits a zero UDP checksum on IPv6 only for tunnel
         * protocols that opt in (RFC 6936); we compute it, which every
         * receiver accepts.  Pseudo-header: the addresses in the header. */
        uint8_t *u = out + pl.ip.hlen;
        isc_put_be16(u + 6, esp_udp_checksum(6, out + 8, out + 24, u, pl.out_len - pl.ip.hlen));
    }
    isc_wipe(ivb, sizeof ivb);
    sa->seq_ = seq;
    sa->stats_.packets++;
    sa->stats_.bytes += in_len;
    return IMSSEC_OK;
}

/* ---- inbound -------------------------------------------------------------- */

static int esp_drop(imssec_esp_sa *sa, int verdict)
{
    switch (verdict) {
    case IMSSEC_E_REPLAY: sa->stats_.replay++; break;
    case IMSSEC_E_ICV: sa->stats_.icv++; break;
    case IMSSEC_E_BAD_PADDING: sa->stats_.bad_padding++; break;
    case IMSSEC_E_DUMMY: sa->stats_.dummy++; break;
    case IMSSEC_E_MALFORMED: sa->stats_.malformed++; break;
    case IMSSEC_E_NO_SA: sa->stats_.no_sa++; break;
    default: break;
    }
    return verdict;
}

/* Largest trailer decrypted on the stack: pad length 255 + pad length and
 * next header bytes, rounded up to whole cipher blocks (17 AES blocks =
 * 272 bytes; 33 DES blocks = 264; AES-GCM: the 257 bytes from the start of
 * their keystream block, at most 15 more = 272). */
#define ESP_TAIL_MAX 272
ISC_STATIC_ASSERT(esp_tail_fits, ESP_TAIL_MAX >= (255 + 2 + 15) / 16 * 16 &&
                                     ESP_TAIL_MAX >= (255 + 2 + 7) / 8 * 8 &&
                                     ESP_TAIL_MAX % 16 == 0);

/* The core of inbound processing on the ESP part e[0..n) of a packet whose
 * plaintext goes to out + dst_off (transport: after the copied header;
 * tunnel: the inner packet, checked here).  Nothing is written to out (nor
 * to the input when in place) unless the packet is accepted: after the ICV
 * the trailer (and in tunnel mode the first block, which holds the inner
 * IP header) is decrypted into stack buffers and validated first.  CBC
 * decrypts any block alone with the previous ciphertext block as IV; the
 * GCM counter mode any byte range by its keystream offset.  Only then is
 * the rest decrypted into place.  The GCM suites verify their tag, like
 * the HMACs, over the bytes as received before anything is decrypted
 * (AES-GMAC decrypts nothing: its payload is plaintext).  *pt_len: the
 * payload length (tunnel: the inner packet's own length); *nh: the next
 * header. */
static int esp_open(imssec_esp_sa *sa, const uint8_t *e, size_t n, uint8_t *out,
                    size_t dst_off, int in_place, size_t *pt_len, uint8_t *nh,
                    uint64_t *seq_out, const char **why)
{
    size_t ivl = esp_iv_len(sa->alg_, sa->ealg_), icvl = esp_icv_len(sa->alg_, sa->ealg_);
    size_t elen, padlen, i, bs = 0, tail_off, tail_len, tb_used = 0, head_len = 0, pay_len, len;
    uint8_t icv[IMSSEC_ESP_ICV_MAX], tb[ESP_TAIL_MAX], head[IMSSEC_ESP_IV_MAX], nonce[12];
    const uint8_t *ct, *tp, *hp;
    uint8_t *pt;
    uint64_t seq;
    uint32_t bad;
    int rc = IMSSEC_OK, gcm = sa->ealg_ == IMSSEC_EALG_AES_GCM;
    /* ealg NULL (and AES-GMAC): the payload is plaintext */
    int plain = sa->ealg_ == IMSSEC_EALG_NULL;
    if (n < 8 + ivl + icvl + 2)
        return esp_drop(sa, IMSSEC_E_MALFORMED);
    elen = n - 8 - ivl - icvl;
    if (!plain && elen % esp_align(sa->ealg_) != 0)
        return esp_drop(sa, IMSSEC_E_MALFORMED);
    if (isc_be32(e) != sa->spi_) {
        uint32_t v = isc_be32(e);
        if ((v >> 24 | (v >> 8 & 0xff00u) | (v << 8 & 0xff0000u) | v << 24) == sa->spi_)
            *why = "the SPI matches this SA only byte-swapped: the sender wrote it in host "
                   "byte order";
        return esp_drop(sa, IMSSEC_E_NO_SA);
    }
    seq = imssec_esp_replay_infer(sa, isc_be32(e + 4));
    if ((rc = imssec_esp_replay_check(sa, seq)) != IMSSEC_OK)
        return esp_drop(sa, rc);
    if (icvl) {
        int ok;
        esp_auth(sa, e, n - icvl, (uint32_t)(seq >> 32), icv);
        ok = isc_ct_eq(icv, e + n - icvl, icvl);
        isc_wipe(icv, sizeof icv);
        if (!ok)
            return esp_drop(sa, IMSSEC_E_ICV);
    }
    /* Authentic: the number is consumed even if what follows is bad. */
    imssec_esp_replay_commit(sa, seq);
    if (seq_out)
        *seq_out = seq;
    ct = e + 8 + ivl;
    if (gcm)
        esp_gcm_nonce(esp_gcm_of(sa), e, nonce);
    /* 1. The trailer, into tp[0..tail_len) = plaintext [tail_off, elen). */
    if (plain) {
        padlen = ct[elen - 2];
        if (padlen + 2 > elen)
            return esp_drop(sa, IMSSEC_E_BAD_PADDING);
        tail_len = padlen + 2;
        tp = ct + elen - tail_len;
    } else if (gcm) {
        /* Counter mode, whole keystream blocks: the block(s) holding pad
         * length and next header, then back to the block where the
         * padding starts.  tb then holds plaintext [elen - tb_used, elen),
         * which step 3 copies instead of decrypting it again. */
        size_t t0 = (elen - 2) / 16 * 16, t1;
        isc_gcm_ctr_at(&esp_gcm_of(sa)->gcm, nonce, t0, ct + t0, tb + ESP_TAIL_MAX - (elen - t0),
                       elen - t0);
        tb_used = elen - t0; /* <= 17 */
        padlen = tb[ESP_TAIL_MAX - 2];
        if (padlen + 2 > elen) {
            rc = IMSSEC_E_BAD_PADDING;
            goto done;
        }
        tail_len = padlen + 2;
        if (tail_len > tb_used) {
            t1 = (elen - tail_len) / 16 * 16; /* elen - t1 <= 257 + 15 = ESP_TAIL_MAX */
            isc_gcm_ctr_at(&esp_gcm_of(sa)->gcm, nonce, t1, ct + t1,
                           tb + ESP_TAIL_MAX - (elen - t1), t0 - t1);
            tb_used = elen - t1;
        }
        tp = tb + ESP_TAIL_MAX - tail_len;
    } else {
        bs = esp_align(sa->ealg_);
        isc_cipher_cbc(esp_cipher(sa), 0, elen > bs ? ct + elen - 2 * bs : e + 8,
                       ct + elen - bs, tb + ESP_TAIL_MAX - bs, bs);
        tb_used = bs;
        padlen = tb[ESP_TAIL_MAX - 2];
        if (padlen + 2 > elen) {
            rc = IMSSEC_E_BAD_PADDING;
            goto done;
        }
        tail_len = (padlen + 2 + bs - 1) / bs * bs; /* <= elen: a block multiple */
        if (tail_len > bs) {
            size_t off = elen - tail_len;
            isc_cipher_cbc(esp_cipher(sa), 0, off ? ct + off - bs : e + 8, ct + off,
                           tb + ESP_TAIL_MAX - tail_len, tail_len - bs);
            tb_used = tail_len;
        }
        tp = tb + ESP_TAIL_MAX - tail_len;
    }
    tail_off = elen - tail_len;
    *nh = tp[tail_len - 1];
    /* RFC 4303 2.4: the receiver SHOULD check the default padding 1,2,3.. */
    bad = 0;
    for (i = 0; i < padlen; i++)
        bad |= (uint32_t)(tp[tail_len - 2 - padlen + i] ^ (uint8_t)(i + 1));
    if (bad) {
        rc = IMSSEC_E_BAD_PADDING;
        goto done;
    }
    if (*nh == ESP_NH_DUMMY) {
        rc = IMSSEC_E_DUMMY;
        goto done;
    }
    pay_len = elen - 2 - padlen; /* >= tail_off */
    len = pay_len;
    /* 2. Tunnel: the inner header is in the first block. */
    if (!esp_is_transport(sa->mode_)) {
        if (plain) {
            hp = ct;
        } else if (gcm) {
            head_len = pay_len < sizeof head ? pay_len : sizeof head;
            if (head_len)
                isc_gcm_ctr_at(&esp_gcm_of(sa)->gcm, nonce, 0, ct, head, head_len);
            hp = head;
        } else if (tail_off == 0) {
            hp = tp;
        } else {
            isc_cipher_cbc(esp_cipher(sa), 0, e + 8, ct, head, bs);
            head_len = bs;
            hp = head;
        }
        /* esp_inner_len reads hp[0..6) only, and only when pay_len covers
         * a whole header (then head holds at least 16 bytes of it, a CBC
         * block at least 8). */
        len = esp_inner_len(hp, pay_len, *nh);
        if (len == 0) {
            rc = IMSSEC_E_MALFORMED;
            goto done;
        }
    }
    /* 3. Accepted: the plaintext into place.  In place, decrypt over the
     * ciphertext and move it down (pt is before ct: never overlaps ahead). */
    pt = out + dst_off;
    if (plain) {
        memmove(pt, ct, len);
    } else if (gcm) {
        /* counter mode: the len bytes wanted (tunnel: no TFC padding),
         * those before tb's part decrypted, the rest copied from tb */
        size_t tb_off = elen - tb_used, dec = len < tb_off ? len : tb_off;
        if (in_place) {
            uint8_t *w = (uint8_t *)(uintptr_t)ct;
            isc_gcm_ctr_at(&esp_gcm_of(sa)->gcm, nonce, 0, w, w, dec);
            memmove(pt, w, dec);
        } else {
            isc_gcm_ctr_at(&esp_gcm_of(sa)->gcm, nonce, 0, ct, pt, dec);
        }
        if (len > tb_off)
            memcpy(pt + tb_off, tb + ESP_TAIL_MAX - tb_used, len - tb_off);
    } else {
        size_t mid = tail_off - head_len;
        if (mid) {
            const uint8_t *iv = head_len ? ct + head_len - bs : e + 8;
            if (in_place) {
                uint8_t *w = (uint8_t *)(uintptr_t)(ct + head_len);
                isc_cipher_cbc(esp_cipher(sa), 0, iv, w, w, mid);
                memmove(pt + head_len, w, mid);
            } else {
                isc_cipher_cbc(esp_cipher(sa), 0, iv, ct + head_len, pt + head_len, mid);
            }
        }
        memcpy(pt, head, head_len);
        memcpy(pt + tail_off, tp, pay_len - tail_off);
    }
    *pt_len = len;
done:
    if (tb_used)
        isc_wipe(tb + ESP_TAIL_MAX - tb_used, tb_used);
    if (head_len)
        isc_wipe(head, head_len);
    if (gcm)
        isc_wipe(nonce, sizeof nonce);
    return rc == IMSSEC_OK ? IMSSEC_OK : esp_drop(sa, rc);
}

/* RFC 3948 3.1.2 (transport mode decapsulation): a NAT changed the outer
 * addresses the sender's TCP/UDP checksum covers.  Without NAT-OA we take
 * option 3 for TCP and for UDP over IPv6 (recompute the checksum over the
 * rebuilt packet's pseudo-header: the addresses in its header) and option
 * 4 for UDP over IPv4 (checksum 0 = none, RFC 768).  The packet is
 * authentic (ICV verified), so this only restores what the NAT broke.  An
 * inner segment too short to hold its checksum is left as it is (the
 * transport layer drops it). */
static void esp_fix_l4(uint8_t *pkt, const esp_ip *ip, uint8_t nh, size_t l4_len)
{
    uint8_t *l4 = pkt + ip->hlen;
    size_t alen = ip->family == 6 ? 16u : 4u, ck;
    const uint8_t *src = pkt + (ip->family == 6 ? 8 : 12), *dst = src + alen;
    uint32_t sum;
    uint16_t r;
    if (nh == ESP_PROTO_UDP && l4_len >= 8) {
        if (ip->family == 4) {
            l4[6] = l4[7] = 0;
            return;
        }
        ck = 6;
    } else if (nh == 6 && l4_len >= 20) { /* TCP */
        ck = 16;
    } else {
        return;
    }
    l4[ck] = l4[ck + 1] = 0;
    sum = esp_sum(0, src, alen);
    sum = esp_sum(sum, dst, alen);
    sum += nh;
    sum += (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
    sum = esp_sum(sum, l4, l4_len);
    r = (uint16_t)~sum;
    if (r == 0 && nh == ESP_PROTO_UDP)
        r = 0xffff; /* RFC 768: 0 would mean "no checksum" */
    isc_put_be16(l4 + ck, r);
}

/* Fill the optional errinfo of an inbound call. */
static int esp_in_result(imssec_errinfo *err, int rc, const char *why)
{
    if (rc != IMSSEC_OK && err)
        isc_fail(err, rc, why ? why : imssec_strerror(rc), rc == IMSSEC_E_REPLAY ? "RFC 4303 3.4.3" : NULL);
    return rc;
}

static int esp_unprotect_ip(imssec_esp_sa *sa, const uint8_t *in, size_t in_len, uint8_t *out,
                            size_t out_cap, size_t *out_len, uint64_t *seq, const char **why);

IMSSEC_API int imssec_esp_unprotect(imssec_esp_sa *sa, const uint8_t *in, size_t in_len,
                                    uint8_t *out, size_t out_cap, size_t *out_len,
                                    uint64_t *seq, imssec_errinfo *err)
{
    const char *why = NULL;
    int rc = esp_unprotect_ip(sa, in, in_len, out, out_cap, out_len, seq, &why);
    return esp_in_result(err, rc, why);
}

static int esp_unprotect_ip(imssec_esp_sa *sa, const uint8_t *in, size_t in_len, uint8_t *out,
                            size_t out_cap, size_t *out_len, uint64_t *seq, const char **why)
{
    esp_ip ip;
    size_t esp_off, dst_off, pt_len = 0, len;
    uint8_t nh = 0, target;
    uint64_t s = 0;
    int rc;
    if (!sa || !in || !out || !out_len || sa->setup_ != ESP_MAGIC ||
        sa->dir_ != IMSSEC_ESP_INBOUND)
        return IMSSEC_E_PARAM;
    if (out != in && esp_overlap(in, in_len, out, out_cap))
        return IMSSEC_E_PARAM;
    if (out_cap < in_len) {
        *out_len = in_len;
        return IMSSEC_E_SPACE;
    }
    target = esp_is_udp(sa->mode_) ? ESP_PROTO_UDP : ESP_PROTO;
    if (in_len >= 1 && (in[0] >> 4) == 4)
        rc = esp_parse_v4(in, in_len, &ip, IMSSEC_E_MALFORMED);
    else if (in_len >= 1 && (in[0] >> 4) == 6)
        rc = esp_parse_v6(in, in_len, &ip, 1, target, IMSSEC_E_MALFORMED);
    else
        rc = IMSSEC_E_MALFORMED;
    if (rc == IMSSEC_OK && ip.nh != target)
        rc = IMSSEC_E_MALFORMED;
    if (rc != IMSSEC_OK)
        return esp_drop(sa, rc);
    esp_off = ip.hlen;
    if (esp_is_udp(sa->mode_)) {
        size_t ul;
        if (ip.len - esp_off < 8)
            return esp_drop(sa, IMSSEC_E_MALFORMED);
        ul = isc_be16(in + esp_off + 4);
        if (ul < 8 || ul != ip.len - esp_off)
            return esp_drop(sa, IMSSEC_E_MALFORMED);
        /* UDP transport: the SA is bound to its local port (the tunnel
         * path leaves port demultiplexing to the caller's socket). */
        if (sa->mode_ == IMSSEC_MODE_UDP_ENC_TRANS && isc_be16(in + esp_off + 2) != sa->dport_)
            return esp_drop(sa, IMSSEC_E_MALFORMED);
        /* RFC 3948 2.2 / 2.3: IKE and keepalives are not for the SA */
        if (ul == 9 && in[esp_off + 8] == 0xff)
            return IMSSEC_E_NOT_ESP;
        if (ul >= 12 && isc_be32(in + esp_off + 8) == 0)
            return IMSSEC_E_NOT_ESP;
        esp_off += 8;
    }
    dst_off = esp_is_transport(sa->mode_) ? ip.hlen : 0; /* the UDP header goes */
    rc = esp_open(sa, in + esp_off, ip.len - esp_off, out, dst_off, out == in, &pt_len, &nh, &s,
                  why);
    if (rc != IMSSEC_OK)
        return rc;
    if (esp_is_transport(sa->mode_)) {
        if (out != in)
            memcpy(out, in, ip.hlen);
        len = ip.hlen + pt_len;
        if (ip.family == 4) {
            out[9] = nh;
            isc_put_be16(out + 2, (uint16_t)len);
            esp_ipv4_checksum(out, ip.hlen);
        } else {
            out[ip.nh_off] = nh;
            isc_put_be16(out + 4, (uint16_t)(len - 40));
        }
        if (sa->mode_ == IMSSEC_MODE_UDP_ENC_TRANS)
            esp_fix_l4(out, &ip, nh, pt_len);
    } else {
        len = pt_len; /* the inner packet, checked by esp_open */
    }
    *out_len = len;
    if (seq)
        *seq = s;
    sa->stats_.packets++;
    sa->stats_.bytes += len;
    return IMSSEC_OK;
}

static int esp_unprotect_part(imssec_esp_sa *sa, const uint8_t *esp, size_t len, uint8_t *out,
                              size_t out_cap, size_t *out_len, uint64_t *seq, const char **why);

IMSSEC_API int imssec_esp_unprotect_esp(imssec_esp_sa *sa, const uint8_t *esp, size_t len,
                                        uint8_t *out, size_t out_cap, size_t *out_len,
                                        uint64_t *seq, imssec_errinfo *err)
{
    const char *why = NULL;
    int rc = esp_unprotect_part(sa, esp, len, out, out_cap, out_len, seq, &why);
    return esp_in_result(err, rc, why);
}

static int esp_unprotect_part(imssec_esp_sa *sa, const uint8_t *esp, size_t len, uint8_t *out,
                              size_t out_cap, size_t *out_len, uint64_t *seq, const char **why)
{
    size_t ilen = 0;
    uint8_t nh = 0;
    uint64_t s = 0;
    int rc;
    if (!sa || !esp || !out || !out_len || sa->setup_ != ESP_MAGIC ||
        sa->dir_ != IMSSEC_ESP_INBOUND || esp_is_transport(sa->mode_))
        return IMSSEC_E_PARAM;
    if (out != esp && esp_overlap(esp, len, out, out_cap))
        return IMSSEC_E_PARAM;
    if (out_cap < len) {
        *out_len = len;
        return IMSSEC_E_SPACE;
    }
    rc = esp_open(sa, esp, len, out, 0, out == esp, &ilen, &nh, &s, why);
    if (rc != IMSSEC_OK)
        return rc;
    *out_len = ilen;
    if (seq)
        *seq = s;
    sa->stats_.packets++;
    sa->stats_.bytes += ilen;
    return IMSSEC_OK;
}
