/*
 * call.h -- the demo's call after registration (issue 12) and the
 * reg-event NOTIFY of the network-initiated de-registration (issue 11),
 * shared by ue.c, pcscf.c and scscf.c.
 *
 *   UE ==INVITE (RTP/SAVP, a=crypto, a=3ge2ae:requested)==> P-CSCF (IMS-ALG)
 *      --INVITE (RTP/AVP, no keys)--> S-CSCF (plays the called party)
 *      <--200 OK (RTP/AVP)--  <==200 OK (RTP/SAVP, the gateway's a=crypto)==
 *   UE ==ACK==> ... ; UE <-SRTP-> IMS Access GW <-RTP-> S-CSCF ; BYE, 200
 *
 * The SDP steps are the library's TS 33.328 procedures (imssec_sdp_*); the
 * rest is what an application does around them: its media stack's SDP,
 * the IMS-ALG's own media addresses in c= / m= (the IMS Access GW is in
 * the media path, 7.2.1 step 2), the hop check of 6.2.1.2 (is the SA that
 * carries the SDP encrypted?) and the media (media.h).
 */
#ifndef EXAMPLES_CALL_H
#define EXAMPLES_CALL_H

#include "../imssec.h"
#include "ipsec.h"
#include "media.h"
#include "sip.h"
#include "sip_io.h"

/* ---- SDP text ------------------------------------------------------------- */

/* What the demo's media stack offers or answers: one audio stream, PCMU
 * over RTP/AVP on ip:port (c= and m=), CRLF line ends. */
size_t sdp_plain(char *out, size_t cap, const char *user, const imssec_addr *ip, unsigned port);
/* The media address: the first c= line's address and the first m= line's
 * port.  0, or -1 if either is missing. */
int sdp_media_addr(sip_str sdp, imssec_addr *ip, unsigned *port);
/* The same SDP with every c= line naming ip and the first m= line port
 * (the IMS-ALG puts its IMS Access GW into the media path).  0 or -1. */
int sdp_readdress(sip_str in, const imssec_addr *ip, unsigned port, char *out, size_t cap,
                  size_t *len);

/* TS 33.328 6.2.1.2: "SIP messages between the UE and the P-CSCF (IMS-ALG)
 * shall be confidentiality-protected": 1 when SA sa encrypts (its ealg is
 * not null); why receives "spi=... ealg ...". */
int call_hop_confidential(const imssec_sa_table *t, imssec_sa_ref sa, char *why, size_t cap);
/* The demo's SDES policy: AES_CM_128_HMAC_SHA1_80 (Annex E: mandatory),
 * then _32; the hop as found. */
void call_policy(imssec_sdes_policy *p, int hop_confidential);

/* ---- the UE (7.2.1 steps 1, 8, 9) ------------------------------------------- */

/* What the UE's call needs of ue.c: its SA table and SIP I/O, unchanged. */
typedef struct call_ue_env {
    imssec_sa_table *sat;
    uint32_t user;
    ex_dp *dp;
    sio *io;
    const imssec_io *lib_io;   /* random: the SDES keys */
    int transport;             /* SIP's */
    imssec_addr ip;            /* own address for SDP, Via, Contact (M.7.1: the public one) */
    imssec_addr sock_ip;       /* the address the media socket binds */
    imssec_addr pcscf_ip;
    unsigned port_us;
    const char *impu, *realm, *user_part, *service_route, *tag, *call_id;
    unsigned frames;           /* RTP frames to send (20 ms each) */
    /* ue.c's functions: send on the SA sa/ named, wait for the final
     * response to CSeq cseq (requests meanwhile handled), the MSG_IN check,
     * one SIP message handled as between the steps (0: none within
     * timeout_ms), a MESSAGE to the network */
    int (*send)(imssec_sa_ref sa, int is_request, const sip_buf *b);
    int (*wait)(unsigned cseq, sip_msg *m, sio_from *from);
    int (*msg_in)(const sip_msg *m, const sio_from *from, const char *reason);
    int (*poll)(int timeout_ms);
    int (*message)(const char *text);
} call_ue_env;

/* The whole call: INVITE with an e2ae offer, the answer checked, ACK,
 * SRTP both ways, BYE.  When the SAs do not encrypt, imssec_sdp_ue_offer()
 * refuses to put a key into the SDP (IMSSEC_E_INSECURE) and the UE sets
 * up no call at all (7.1.1: with e2ae agreed "the IMS UE shall secure all
 * RTP media streams"): it tells the network so in a MESSAGE ("no call:
 * ...").  0 when everything went as it must, -1 otherwise. */
int call_ue(const call_ue_env *e);

/* ---- the P-CSCF as IMS-ALG (7.2.1 steps 2, 3, 7, 8) ---------------------- */

typedef struct call_alg {
    media_gw gw;
    imssec_sdp_keys keys[2];
    size_t n_keys;
    int active;                /* an offer went through: keys[] in use */
    char call_id[96];
} call_alg;

/* The UE's offer (the INVITE's body) towards the core: the gateway's
 * sockets opened on gw_ip, imssec_sdp_alg_orig_offer(), c= / m= set to the
 * gateway's core side (a->active 1).  An offer that requests no e2ae goes
 * on as the library leaves it (a->active 0).  0, or -1 with *sip_status
 * for the UE (488). */
int call_alg_offer(call_alg *a, const char *call_id, sip_str offer, const imssec_addr *gw_ip,
                   int reg_e2ae, int hop_confidential, char *out, size_t cap, size_t *len,
                   int *sip_status);
/* The core's answer (the 200's body) towards the UE: c= / m= set to the
 * gateway's access side, imssec_sdp_alg_orig_answer(), the gateway's SRTP
 * sessions from the agreed keys and its sockets polled by io.  0 or -1. */
int call_alg_answer(call_alg *a, sio *io, sip_str answer, int hop_confidential, char *out,
                    size_t cap, size_t *len);
/* The call ended (BYE answered): the gateway's counts, VERIFIED call-gw;
 * sockets closed, keys wiped. */
void call_alg_end(call_alg *a, sio *io);

/* ---- the reg event (RFC 3680) ---------------------------------------------- */

/* A minimal reginfo document: version 1, state full, one registration of
 * aor in state terminated with one contact, event `rejected` (RFC 3680
 * 5.1: removed by the registrar, not to be refreshed). */
size_t regevent_body(char *out, size_t cap, const char *aor, const char *contact);
/* A NOTIFY of the reg event package that ends aor's registration: Event:
 * reg, Subscription-State: terminated, Content-Type application/reginfo+xml
 * and a <registration aor="aor" ... state="terminated">.  1 or 0 (why says
 * what is missing). */
int regevent_terminated(const sip_msg *m, const char *aor, char *why, size_t cap);

#endif
