/*
 * tls_link.c -- see tls_link.h.  mbedTLS 2.28 and 3.x (MBEDTLS_VERSION_NUMBER
 * guards where their APIs differ); POSIX sockets and poll.
 */
#include "tls_link.h"
#include "ladder.h"
#include "net.h"
#include "pcap.h"

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/version.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void tls_link_cfg_args(tls_link_cfg *c, int server, const char *peer, const char *step, int argc,
                       char **argv)
{
    c->server = server;
    c->peer = peer;
    c->step = step;
    c->ca = arg_str(argc, argv, "ca", NULL);
    c->cert = arg_str(argc, argv, "cert", NULL);
    c->key = arg_str(argc, argv, "key", NULL);
    c->partners = arg_str(argc, argv, "partners", NULL);
    c->keylog = arg_str(argc, argv, "tls-keylog", NULL);
}

/* How long a handshake or the rest of a record may take. */
#define TLS_TIMEOUT_MS 3000

static const char *tls_err(int rc)
{
    static char buf[160];
    mbedtls_strerror(rc, buf, sizeof buf);
    return buf;
}

static void tls_die(const char *what, const char *file, int rc)
{
    fprintf(stderr, "%s: %s %s: %s\n", ladder_name(), what, file ? file : "", tls_err(rc));
    exit(2);
}

/* ---- the NSS key log (Wireshark's tls.keylog_file) ---------------------------- */

static void tls_keylog(tls_link *l, const unsigned char *ms, size_t ms_len,
                       const unsigned char cr[32])
{
    char a[65], b[2 * 48 + 1];
    if (!l->keylog || ms_len != 48)
        return;
    fprintf(l->keylog, "CLIENT_RANDOM %s %s\n", hex_encode(cr, 32, a), hex_encode(ms, 48, b));
    fflush(l->keylog);
}

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
static void tls_export(void *p, mbedtls_ssl_key_export_type type, const unsigned char *secret,
                       size_t secret_len, const unsigned char client_random[32],
                       const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
    (void)server_random;
    (void)prf;
    if (type == MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET)
        tls_keylog(p, secret, secret_len, client_random);
}
#elif defined(MBEDTLS_SSL_EXPORT_KEYS)
static int tls_export(void *p, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                      size_t keylen, size_t ivlen, const unsigned char client_random[32],
                      const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
    (void)kb;
    (void)maclen;
    (void)keylen;
    (void)ivlen;
    (void)server_random;
    (void)prf;
    tls_keylog(p, ms, 48, client_random);
    return 0;
}
#endif

/* ---- set-up --------------------------------------------------------------------- */

void tls_link_init(tls_link *l, const tls_link_cfg *cfg)
{
    static const char pers[] = "imssec examples tls_link";
    int rc;
    char *p;

    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "%s: psa_crypto_init failed\n", ladder_name());
        exit(2);
    }
#endif
    mbedtls_entropy_init(&l->entropy);
    mbedtls_ctr_drbg_init(&l->drbg);
    mbedtls_x509_crt_init(&l->ca);
    mbedtls_x509_crt_init(&l->cert);
    mbedtls_pk_init(&l->key);
    mbedtls_ssl_config_init(&l->conf);
    if (!cfg->ca || !cfg->cert || !cfg->key || !cfg->partners) {
        fprintf(stderr, "%s: TLS to the %s needs --ca, --cert, --key and --partners\n",
                ladder_name(), cfg->peer);
        exit(2);
    }
    rc = mbedtls_ctr_drbg_seed(&l->drbg, mbedtls_entropy_func, &l->entropy,
                               (const unsigned char *)pers, sizeof pers - 1);
    if (rc != 0)
        tls_die("RNG", NULL, rc);
    if ((rc = mbedtls_x509_crt_parse_file(&l->ca, cfg->ca)) != 0)
        tls_die("--ca", cfg->ca, rc);
    if ((rc = mbedtls_x509_crt_parse_file(&l->cert, cfg->cert)) != 0)
        tls_die("--cert", cfg->cert, rc);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc = mbedtls_pk_parse_keyfile(&l->key, cfg->key, NULL, mbedtls_ctr_drbg_random, &l->drbg);
#else
    rc = mbedtls_pk_parse_keyfile(&l->key, cfg->key, NULL);
#endif
    if (rc != 0)
        tls_die("--key", cfg->key, rc);

    /* the partner list: "a,b,c" -> imssec_str[] */
    snprintf(l->partner_text, sizeof l->partner_text, "%s", cfg->partners);
    for (p = l->partner_text; *p && l->n_partners < TLS_MAX_PARTNERS;) {
        size_t n = strcspn(p, ",");
        if (n)
            l->partners[l->n_partners++] = (imssec_str){p, n};
        p += n;
        if (*p == ',')
            p++;
    }
    if (!l->n_partners) {
        fprintf(stderr, "%s: --partners: no name\n", ladder_name());
        exit(2);
    }

    rc = mbedtls_ssl_config_defaults(&l->conf, cfg->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                     MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0)
        tls_die("TLS configuration", NULL, rc);
    /* Both ends present a certificate and require one (mutual TLS between
     * the operators' CSCFs): the server asks for the client's. */
    mbedtls_ssl_conf_authmode(&l->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&l->conf, &l->ca, NULL);
    if ((rc = mbedtls_ssl_conf_own_cert(&l->conf, &l->cert, &l->key)) != 0)
        tls_die("--cert/--key", cfg->cert, rc);
    mbedtls_ssl_conf_rng(&l->conf, mbedtls_ctr_drbg_random, &l->drbg);
    mbedtls_ssl_conf_read_timeout(&l->conf, TLS_TIMEOUT_MS);
    /* TLS 1.2 (RFC 3261 asks for TLS; 1.2 is what both mbedTLS lines have,
     * and what the key log below covers) */
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(&l->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&l->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(&l->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&l->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    if (cfg->keylog) {
        l->keylog = fopen(cfg->keylog, "a");
        if (!l->keylog) {
            perror(cfg->keylog);
            exit(2);
        }
#if MBEDTLS_VERSION_NUMBER < 0x03000000 && defined(MBEDTLS_SSL_EXPORT_KEYS)
        mbedtls_ssl_conf_export_keys_ext_cb(&l->conf, tls_export, l);
#endif
    }
}

void tls_link_free(tls_link *l)
{
    if (l->keylog)
        fclose(l->keylog);
    mbedtls_ssl_config_free(&l->conf);
    mbedtls_pk_free(&l->key);
    mbedtls_x509_crt_free(&l->cert);
    mbedtls_x509_crt_free(&l->ca);
    mbedtls_ctr_drbg_free(&l->drbg);
    mbedtls_entropy_free(&l->entropy);
}

/* ---- the socket under TLS --------------------------------------------------------- */

static int tls_bio_send(void *ctx, const unsigned char *p, size_t n)
{
    tls_conn *c = ctx;
    size_t done = 0;
    /* the capture: the records as they go on the wire, recorded before
     * they are sent (the peer's answer must not be captured first) */
    pcap_tcp(&c->local, c->lport, &c->peer, c->pport, c->tx + 1, c->rx + 1, p, n);
    c->tx += (uint32_t)n;
    while (done < n) { /* MSG_NOSIGNAL: a closed peer is an error here, not SIGPIPE */
        ssize_t w = send(c->fd, p + done, n - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return MBEDTLS_ERR_NET_SEND_FAILED;
        done += (size_t)w;
    }
    return (int)n;
}

static int tls_bio_recv(void *ctx, unsigned char *p, size_t n, uint32_t timeout_ms)
{
    tls_conn *c = ctx;
    struct pollfd pf;
    ssize_t r;
    int k;
    pf.fd = c->fd;
    pf.events = POLLIN;
    pf.revents = 0;
    do
        k = poll(&pf, 1, timeout_ms ? (int)timeout_ms : -1);
    while (k < 0 && errno == EINTR);
    if (k == 0)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    do
        r = read(c->fd, p, n);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return MBEDTLS_ERR_NET_RECV_FAILED;
    c->rx += (uint32_t)r;
    return (int)r; /* 0: the peer closed the TCP connection */
}

/* ---- TS 33.203 6.5: the certificate's names against the partners -------------------- */

static int tls_verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    tls_conn *c = ctx;
    tls_link *l = c->link;
    imssec_cert_name names[8];
    size_t n = 0, which = 0, k, used = 0;
    const mbedtls_x509_sequence *san;
    const mbedtls_x509_name *dn;
    imssec_errinfo e;
    int rc;

    if (depth != 0)
        return 0; /* the chain itself is mbedTLS's to verify against --ca */
    /* RFC 5922 7.1: the subjectAltName URIs and dNSNames, the CN only when
     * there is none of those (imssec_tls_partner_check does that choice) */
    for (san = &crt->subject_alt_names; san && n < 7; san = san->next) {
        unsigned char tag = (unsigned char)san->buf.tag;
        if (!san->buf.p || !san->buf.len)
            continue;
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2))
            names[n].kind = IMSSEC_CERT_SAN_DNS;
        else if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6))
            names[n].kind = IMSSEC_CERT_SAN_URI;
        else
            continue;
        names[n++].name = (imssec_str){(const char *)san->buf.p, san->buf.len};
    }
    for (dn = &crt->subject; dn && n < 8; dn = dn->next)
        if (dn->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &dn->oid) == 0) {
            names[n].kind = IMSSEC_CERT_CN;
            names[n++].name = (imssec_str){(const char *)dn->val.p, dn->val.len};
        }
    c->names[0] = '\0';
    for (k = 0; k < n && used + 1 < sizeof c->names; k++) {
        static const char *const kind[] = {"URI", "dNSName", "CN"};
        int w = snprintf(c->names + used, sizeof c->names - used, "%s%.*s (%s)", k ? ", " : "",
                         (int)names[k].name.n, names[k].name.p, kind[names[k].kind]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used >= sizeof c->names)
        used = sizeof c->names - 1;
    memset(&e, 0, sizeof e);
    rc = imssec_tls_partner_check(l->partners, l->n_partners, names, n, &which, &e);
    if (rc == IMSSEC_OK) {
        snprintf(c->partner, sizeof c->partner, "%.*s", (int)l->partners[which].n,
                 l->partners[which].p);
        return 0;
    }
    snprintf(c->refused, sizeof c->refused,
             "certificate name(s) %s not in the list of interworking partners [%s] (TS 33.203 6.5: "
             "%s)",
             n ? c->names : "(none)", l->cfg.partners, err_text(&e, rc));
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH; /* the handshake fails: bad_certificate */
    return 0;
}

/* ---- connections -------------------------------------------------------------------- */

static void tls_conn_reset(tls_link *l, tls_conn *c)
{
    c->link = l;
    c->fd = -1;
    c->up = 0;
    c->tx = c->rx = 0;
    c->len = 0;
    c->partner[0] = c->names[0] = c->refused[0] = '\0';
}

static const char *tls_where(const tls_conn *c, char *buf, size_t cap)
{
    char t[IMSSEC_ADDR_TEXT_MAX + 1];
    snprintf(buf, cap, "%s:%u", addr_text(&c->peer, 1, t), c->pport);
    return buf;
}

static int tls_handshake(tls_link *l, tls_conn *c)
{
    char where[IMSSEC_ADDR_TEXT_MAX + 16];
    int rc;
    mbedtls_ssl_init(&c->ssl);
    rc = mbedtls_ssl_setup(&c->ssl, &l->conf);
    if (rc == 0 && !l->cfg.server)
        /* the name check is the partner list's (6.5), not a host name's */
        rc = mbedtls_ssl_set_hostname(&c->ssl, NULL);
    if (rc != 0) {
        verify(0, l->cfg.step, "TLS set-up: %s", tls_err(rc));
        mbedtls_ssl_free(&c->ssl);
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, tls_bio_send, NULL, tls_bio_recv);
    mbedtls_ssl_set_verify(&c->ssl, tls_verify, c);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (l->keylog)
        mbedtls_ssl_set_export_keys_cb(&c->ssl, tls_export, l);
#endif
    do
        rc = mbedtls_ssl_handshake(&c->ssl);
    while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    tls_where(c, where, sizeof where);
    if (rc != 0) {
        uint32_t vf = mbedtls_ssl_get_verify_result(&c->ssl);
        char vinfo[256] = "";
        if (vf && vf != (uint32_t)-1) {
            char *q;
            mbedtls_x509_crt_verify_info(vinfo, sizeof vinfo, "", vf & ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH);
            for (q = vinfo; *q; q++)
                if (*q == '\n')
                    *q = *(q + 1) ? ';' : '\0';
        }
        if (c->refused[0])
            verify(0, l->cfg.step, "TLS with the %s %s ended in the handshake: %s%s%s", l->cfg.peer,
                   where, c->refused, vinfo[0] ? "; also: " : "", vinfo);
        else if (vinfo[0])
            verify(0, l->cfg.step, "TLS with the %s %s ended in the handshake: certificate %s%s%s",
                   l->cfg.peer, where, c->names[0] ? c->names : "", c->names[0] ? ": " : "", vinfo);
        else if (rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || rc == MBEDTLS_ERR_SSL_CONN_EOF ||
                 rc == MBEDTLS_ERR_NET_SEND_FAILED || rc == MBEDTLS_ERR_NET_RECV_FAILED)
            ladder("    TLS with the %s %s: the %s ended the handshake (%s): it did not accept us "
                   "(its log says why)", l->cfg.peer, where, l->cfg.peer,
                   rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE ? "a fatal alert" : "closed the connection");
        else
            verify(0, l->cfg.step, "TLS with the %s %s: handshake failed: %s", l->cfg.peer, where,
                   tls_err(rc));
        mbedtls_ssl_free(&c->ssl);
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->up = 1;
    verify(1, l->cfg.step,
           "TLS with the %s %s up (%s, %s): its %s certificate chains to --ca and names %s: "
           "interworking partner \"%s\" (TS 33.203 6.5, imssec_tls_partner_check)",
           l->cfg.peer, where, mbedtls_ssl_get_version(&c->ssl), mbedtls_ssl_get_ciphersuite(&c->ssl),
           l->cfg.server ? "client" : "server", c->names, c->partner);
    return 0;
}

int tls_conn_connect(tls_link *l, tls_conn *c, const imssec_addr *local, const imssec_addr *peer,
                     unsigned port)
{
    struct sockaddr_storage a;
    socklen_t al;
    char where[IMSSEC_ADDR_TEXT_MAX + 16];
    tls_conn_reset(l, c);
    c->peer = *peer;
    c->pport = port;
    tls_where(c, where, sizeof where);
    c->fd = socket(peer->len == 16 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return verify(0, l->cfg.step, "socket: %s", strerror(errno)), -1;
    al = net_sockaddr(local, 0, &a);
    if (bind(c->fd, (struct sockaddr *)&a, al) < 0 ||
        (al = net_sockaddr(peer, port, &a), connect(c->fd, (struct sockaddr *)&a, al) < 0)) {
        verify(0, l->cfg.step, "no TCP connection to the %s %s: %s", l->cfg.peer, where,
               strerror(errno));
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    net_local(c->fd, &c->local, &c->lport);
    ladder("    TCP connection to the %s %s from :%u: TLS handshake (RFC 3261 26.3.1)", l->cfg.peer,
           where, c->lport);
    return tls_handshake(l, c);
}

int tls_conn_accept(tls_link *l, tls_conn *c, int lfd)
{
    char where[IMSSEC_ADDR_TEXT_MAX + 16];
    tls_conn_reset(l, c);
    c->fd = net_tcp_accept(lfd, &c->peer, &c->pport);
    net_local(c->fd, &c->local, &c->lport);
    ladder("    TCP connection from the %s %s: TLS handshake, client certificate required",
           l->cfg.peer, tls_where(c, where, sizeof where));
    return tls_handshake(l, c);
}

void tls_conn_close(tls_conn *c, const char *why)
{
    char where[IMSSEC_ADDR_TEXT_MAX + 16];
    if (c->fd < 0)
        return;
    if (c->up)
        (void)mbedtls_ssl_close_notify(&c->ssl);
    ladder("    TLS with the %s %s closed: %s", c->link->cfg.peer, tls_where(c, where, sizeof where),
           why);
    mbedtls_ssl_free(&c->ssl);
    close(c->fd);
    c->fd = -1;
    c->up = 0;
    c->len = 0;
}

long tls_conn_read(tls_conn *c, char *buf, size_t cap)
{
    size_t got = 0;
    if (c->fd < 0 || !c->up)
        return -1;
    do {
        int r = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf + got, cap - got);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ||
            r == MBEDTLS_ERR_SSL_TIMEOUT)
            break;
        if (got)
            break;
        tls_conn_close(c, r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY
                              ? "by the peer (close_notify)"
                              : tls_err(r));
        return -1;
    } while (got < cap && mbedtls_ssl_get_bytes_avail(&c->ssl) > 0);
    return (long)got;
}

int tls_conn_write(tls_conn *c, const char *p, size_t n)
{
    size_t done = 0;
    if (c->fd < 0 || !c->up)
        return -1;
    while (done < n) {
        int r = mbedtls_ssl_write(&c->ssl, (const unsigned char *)p + done, n - done);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (r <= 0) {
            tls_conn_close(c, tls_err(r));
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

int tls_conn_next(tls_conn *c, int readable, char *buf, size_t cap, size_t *len)
{
    size_t skip = 0, n = 0;
    int r;
    if ((readable || (c->up && mbedtls_ssl_get_bytes_avail(&c->ssl))) && c->len < sizeof c->buf) {
        long k = tls_conn_read(c, c->buf + c->len, sizeof c->buf - c->len);
        if (k < 0)
            return -1;
        c->len += (size_t)k;
    }
    if (!c->len)
        return 0;
    r = sip_frame(c->buf, c->len, &skip, &n);
    if (r < 0) {
        tls_conn_close(c, "sent something that is not SIP");
        return -1;
    }
    if (r == 0)
        return 0;
    if (n >= cap) {
        tls_conn_close(c, "a message too long for us");
        return -1;
    }
    memcpy(buf, c->buf + skip, n);
    buf[n] = '\0';
    *len = n;
    memmove(c->buf, c->buf + skip + n, c->len - skip - n);
    c->len -= skip + n;
    return 1;
}

/* ---- the P-CSCF's core channel (sip_io) ---------------------------------------------- */

static struct {
    tls_link *l;
    tls_conn *c;
    imssec_addr local;
} core;

static int core_open(void *user)
{
    tls_conn *c = user;
    imssec_addr peer = c->peer;
    unsigned port = c->pport;
    if (tls_conn_connect(core.l, c, &core.local, &peer, port) != 0) {
        c->peer = peer;
        c->pport = port;
        return -1;
    }
    return c->fd;
}

static long core_read(void *user, char *buf, size_t cap)
{
    return tls_conn_read(user, buf, cap);
}

static size_t core_pending(void *user)
{
    tls_conn *c = user;
    return c->up ? mbedtls_ssl_get_bytes_avail(&c->ssl) : 0;
}

static int core_write(void *user, const char *p, size_t n)
{
    return tls_conn_write(user, p, n);
}

static void core_close(void *user, const char *why)
{
    tls_conn_close(user, why);
}

static const sio_stream_ops core_ops = {core_open, core_read, core_pending, core_write, core_close,
                                        "TLS"};

int tls_sio_core(sio *s, tls_link *l, tls_conn *c, const imssec_addr *local,
                 const imssec_addr *peer, unsigned port)
{
    tls_conn_reset(l, c);
    c->peer = *peer;
    c->pport = port;
    core.l = l;
    core.c = c;
    core.local = *local;
    return sio_add_core_stream(s, &core_ops, c);
}
