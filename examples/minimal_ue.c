/* minimal_ue.c -- the smallest whole UE, on imssec.h and POSIX alone, against the example P-CSCF
 * and S-CSCF: IMS AKA registration (Security-Client, 401, AKA, Authorization, Security-Verify,
 * four SAs), a protected MESSAGE and its reply, re-registration with the SA switch (TS 33.203
 * 7.4.1a), de-registration.  SIP over UDP; its Via says 192.168.1.20, its packets come from
 * 127.0.0.1: a NAT, so UDP-encapsulated SAs (M.7.2).  No timers run: the time passed is 0. */
#include "../imssec.h"
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#define IMPI "alice@ims.example.net"
#define REALM "ims.example.net"
#define S(lit) {lit, sizeof lit - 1} /* an imssec_str of a literal */
static int rnd(void *u, uint8_t *o, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(o, 1, n, f) : 0;
    return (void)u, f ? fclose(f) : 0, got == n ? 0 : -1;
}
static const imssec_io io = {NULL, rnd, NULL, NULL};
static imssec_sa_table T; static uint64_t mem[2048]; /* sa/: SA table, UE state machine */
static imssec_esp_sa sas[12]; static imssec_sa_esp_pool pool; /* the data plane behind T */
static imssec_aka_provider usim; /* the ISIM: software Milenage */
static struct sockaddr_in pc;    /* the P-CSCF */
static imssec_addr pub, pcscf_ip = {4, {127, 0, 0, 1}}; /* pub: our public address (M.7.2) */
static char rx[8192], tx[8192], sc[2048], az[256], host[64] = "192.168.1.20";
static int fd, port_us, cseq;
static uint32_t user;
static void ok(int rc, const char *step) /* any step that fails ends the run */
{
    if (rc != IMSSEC_OK)
        printf("FAILED minimal-ue: %s (%s)\n", step, imssec_errname(rc)), exit(1);
}
/* A REGISTER (authz set) or a MESSAGE, unprotected to port 5060 or on SA sa (ESP in UDP to
 * 4500).  TS 24.229 5.1.1.2: Via and Contact carry port_us, where the UE receives (7.1). */
static void request(imssec_sa_ref sa, int exp, const char *authz, const char *sv, const char *body)
{
    static uint8_t out[sizeof tx + 256];
    imssec_sa_esp_packet p = {.to_port = 5060};
    char x[6144] = "To: <sip:service@" REALM ">\r\n";
    if (authz)
        snprintf(x, sizeof x, "To: <sip:" IMPI ">\r\nExpires: %d\r\nAuthorization: %s\r\n"
                 "Security-Client: %s\r\n%s%s%sRequire: sec-agree\r\nProxy-Require: sec-agree\r\n",
                 exp, authz, sc, sv ? "Security-Verify: " : "", sv ? sv : "", sv ? "\r\n" : "");
    p.len = (size_t)snprintf(tx, sizeof tx, "%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK"
        "%d;rport\r\nMax-Forwards: 70\r\nFrom: <sip:" IMPI ">;tag=m\r\nCall-ID: m\r\nCSeq: %d %.8s"
        "\r\nContact: <sip:alice@%s:%d>\r\n%sContent-Length: %u\r\n\r\n%s", authz ? "REGISTER sip:"
        REALM : "MESSAGE sip:service@" REALM, host, port_us, cseq + 1, cseq + 1, authz ? "REGISTER"
        : "MESSAGE", host, port_us, x, (unsigned)strlen(body), body);
    if (cseq++, sa)
        ok(imssec_sa_esp_protect(&pool, &T, sa, IMSSEC_TRANSPORT_UDP, (const uint8_t *)tx, p.len,
                                 out, sizeof out, &p, NULL), "protect");
    pc.sin_port = htons(p.to_port);
    sendto(fd, sa ? (void *)(out + p.send_off) : tx, p.len - p.send_off, 0, (void *)&pc, sizeof pc);
}
/* The next message into rx, a `want` response; *on: its SA, 0 when it is not ESP (then sa/
 * says whether it may come unprotected, 7.1 item 4).  ev >= 0: the sa/ event that checks it. */
static void answer(int want, imssec_sa_ref *on, int ev, imssec_sa_ev_args *a)
{
    static uint8_t in[sizeof tx + 256], out[sizeof in];
    struct pollfd f = {.fd = fd, .events = POLLIN};
    imssec_sa_esp_received r;
    long n = poll(&f, 1, 5000) == 1 ? recv(fd, in, sizeof tx - 1, 0) : -1;
    ok(n > 0 ? IMSSEC_OK : IMSSEC_E_NOT_FOUND, "an answer");
    if (*on = 0, imssec_sa_esp_unprotect(&pool, &T, IMSSEC_ESP_IN_ESP, in, (size_t)n, 0, out,
                                         sizeof out, &r, NULL) == IMSSEC_OK)
        memcpy(rx, out + r.payload_off, r.payload_len), rx[r.payload_len] = 0, *on = r.sa;
    else
        memcpy(rx, in, (size_t)n), rx[n] = 0;
    ok(strncmp(rx, "SIP/2.0 ", 8) || atoi(rx + 8) != want ? IMSSEC_E_STATE : IMSSEC_OK, rx);
    ok(ev < 0 ? IMSSEC_OK : imssec_sa_event(&T, user, ev, a, NULL, 0, NULL), "its SA");
}
static imssec_str hdr(const char *name) /* the first `name` header of rx */
{
    char key[64];
    const char *p = (snprintf(key, sizeof key, "\r\n%s: ", name), strstr(rx, key));
    const char *e = p ? strstr(p += strlen(key), "\r\n") : NULL;
    imssec_str s = {e ? p : NULL, e ? (size_t)(e - p) : 0};
    return s;
}
static void do_register(void) /* SM1 .. SM12 */
{
    static const imssec_secagree_pair pair = {IMSSEC_ALG_HMAC_SHA1_96, IMSSEC_EALG_AES_CBC};
    static const int mode = IMSSEC_MODE_UDP_ENC_TUN;
    imssec_secagree_offer offer = {.pairs = &pair, .n_pairs = 1, .modes = &mode, .n_modes = 1};
    imssec_sa_ue_sm1 s1 = {.ue_ip = pub, .offer = &offer, .impi = S(IMPI), .realm = S(REALM),
                           .uri = S("sip:" REALM)};
    imssec_sa_ue_sm1_out o1 = {.security_client = sc, .security_client_cap = sizeof sc - 1,
                               .authorization = az, .authorization_cap = sizeof az - 1};
    imssec_sa_ev_args a = {.expires_s = 600};
    imssec_secagree_via via;
    char authz[1024], sv[2048];
    if (!pub.len) /* before the 401 the UE knows only its own (private) address */
        ok(imssec_addr_parse(imssec_cstr(host), &s1.ue_ip), "own address");
    ok(imssec_sa_ue_register(&T, user, &s1, &o1, 0, NULL), "SM1");
    sc[o1.security_client_len] = az[o1.authorization_len] = 0, port_us = o1.port_us;
    request(o1.protect_with, 600, az, NULL, ""), answer(401, &a.arrived_on, -1, NULL);
    ok(imssec_secagree_via_parse(hdr("Via"), &via, NULL), "the 401's Via");
    if (via.received.p) /* M.7.2: our public address, from now on in the SAs, Via and Contact */
        ok(imssec_addr_parse(via.received, &pub), "received="),
            snprintf(host, sizeof host, "%.*s", (int)via.received.n, via.received.p);
    imssec_sa_ue_401 c = {.www_authenticate = hdr("WWW-Authenticate"), .via = hdr("Via"),
        .security_server = hdr("Security-Server"), .arrived_on = a.arrived_on, .aka = &usim,
        .username = s1.impi, .uri = s1.uri, .cnonce = S("0a4f113b"), .nc = 1, .supported = &pair,
        .n_supported = 1, .udp_encap = 1, .ue_ip = pub, .pcscf_ip = pcscf_ip};
    imssec_sa_ue_401_out o = {.authorization = authz, .authorization_cap = sizeof authz - 1,
                              .security_verify = sv, .security_verify_cap = sizeof sv - 1};
    ok(imssec_sa_ue_challenge(&T, user, &c, &o, 0, NULL), "SM6: AKA, Security-Server, SAs");
    authz[o.authorization_len] = sv[o.security_verify_len] = 0;
    request(o.protect_with, 600, authz, sv, "");
    answer(200, &a.arrived_on, IMSSEC_SA_EV_SUCCESS, &a);
}
static void message(const char *text) /* on the SA sa/ names; its answer on the right SA */
{
    imssec_sa_ref sa;
    imssec_sa_ev_args a = {.msg = IMSSEC_SA_MSG_RESPONSE};
    ok(imssec_sa_route(&T, user, IMSSEC_TRANSPORT_UDP, 1, 0, &sa), "route");
    request(sa, 0, NULL, NULL, text), answer(200, &a.arrived_on, IMSSEC_SA_EV_MSG_IN, &a);
}
int main(void)
{
    static const uint8_t k[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a,
        0x2e, 0xe2, 0x38, 0xa6, 0xbc}, op[16] = {0xcd, 0xc2, 0x02, 0xd5, 0x12, 0x3e, 0x20, 0xf6,
        0x2b, 0x6d, 0x67, 0x6a, 0xc7, 0x2c, 0xb3, 0x18}; /* TS 35.207 test set 1 */
    imssec_milenage m; imssec_aka_sqn sq;
    imssec_aka_soft sf = {&m, &sq, 0};
    imssec_sa_callbacks cb; imssec_sa_config cfg;
    imssec_sa_ev_args a = {0}; imssec_sa_ev_out o;
    size_t both;
    imssec_milenage_init_op(&m, k, op), imssec_aka_soft_provider(&usim, &sf);
    imssec_sa_esp_pool_init(&pool, sas, 12), imssec_sa_esp_callbacks(&cb, &pool);
    imssec_sa_config_init(&cfg, IMSSEC_SA_ROLE_UE), imssec_aka_sqn_init(&sq);
    ok(imssec_sa_table_setup(&T, &cfg, &cb, &io, 1, 4, mem, sizeof mem, NULL), "table");
    ok(imssec_sa_user_lookup(&T, imssec_cstr(IMPI), 1, &user), "user");
    pc.sin_family = AF_INET, pc.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok(bind(fd = socket(AF_INET, SOCK_DGRAM, 0), (void *)&pc, sizeof pc), "socket");
    do_register(), message("hello from the minimal UE");
    do_register(), both = imssec_sa_count(&T, user); /* SM1 on the old SAs, SM7/SM12 on the new */
    message("hello over the new SAs"); /* its answer on the new SAs retires the old (7.4.1a) */
    ok(both == 8 && imssec_sa_count(&T, user) == 4 ? IMSSEC_OK : IMSSEC_E_STATE, "the SA switch");
    ok(imssec_sa_event(&T, user, IMSSEC_SA_EV_DEREG_SEND, &a, &o, 0, NULL), "de-registration");
    request(o.protect_with, 0, az, NULL, ""); /* Expires 0, SM1's Authorization (TS 24.229) */
    answer(200, &a.arrived_on, IMSSEC_SA_EV_DEREG_DONE, &a);
    ok(imssec_sa_count(&T, UINT32_MAX) == 0 ? IMSSEC_OK : IMSSEC_E_STATE, "no SA left");
    printf("VERIFIED minimal-ue: IMS AKA registration, MESSAGE and reply over the SAs, "
           "re-registration with the SA switch, de-registration (0 SAs left)\n");
    return 0;
}
