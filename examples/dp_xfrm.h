/*
 * dp_xfrm.h -- `--dataplane xfrm`: the Linux kernel as the UE's and the
 * P-CSCF's data plane, through the library's XFRM adapter
 * (xfrm/imssec_xfrm.h, build/libimssec_xfrm.a), instead of the built-in
 * esp/ engine of ipsec.h.
 *
 *   - sa/'s install / update / remove callbacks are the adapter's (wrapped
 *     by ex_dp for the ladder as before): every SA and its two policies
 *     (UDP and TCP) go into the kernel's XFRM tables;
 *   - protected SIP goes over ordinary UDP sockets (and TCP connections,
 *     below) bound to our protected ports (UE: port_uc / port_us, P-CSCF:
 *     port_ps / port_pc), one per port, opened with the first SA that uses
 *     the port and closed with the last; the kernel applies ESP by policy;
 *   - a datagram received on a protected port names its SA with
 *     imssec_sa_find_ports() (the adapter's inbound policies make the
 *     kernel drop one of the SA's flow that did not come over that SA,
 *     TS 33.203 7.1 rules 4 and 7) and goes into the same path as the
 *     built-in engine's protected receive (an imssec_sa_esp_received);
 *   - after every change the kernel's SAs and policies are read back
 *     (imssec_xfrm_list, _list_policies: `ip xfrm state` / `ip xfrm policy`)
 *     and compared with sa/'s table: "VERIFIED xfrm-match: ..."; at exit,
 *     "VERIFIED xfrm-none-left: ..." when no SA or policy of ours is left;
 *   - the kernel's replay counter (xfrm_stats.replay) of our inbound SAs
 *     is watched: a packet it dropped is reported like esp/'s verdict;
 *   - the UE's replay check (ex_dp.remember / ex_dp_replay_last): the
 *     kernel makes the ESP packet, so it is caught leaving (AF_PACKET,
 *     PACKET_OUTGOING) and resent byte for byte on the raw ESP socket.
 *
 * SIP over TCP uses kernel TCP connections on the protected ports (the
 * built-in engine runs its own user-space TCP, tcp_lite.h, inside the
 * SAs), so both ends' TCP state machines are real ones and the mixed runs
 * interoperate.  Transport mode only.  Linux only: elsewhere
 * --dataplane xfrm says it is not built.
 */
#ifndef EXAMPLES_DP_XFRM_H
#define EXAMPLES_DP_XFRM_H

#include "../imssec.h"
#include "ipsec.h"
#include "tcp_lite.h"

#define DP_XFRM_SOCKS 8 /* protected ports open at once (two sets of two, and room) */
#define DP_XFRM_CONNS 6 /* kernel TCP connections inside the SAs */
/* descriptors sio_recv() polls at most: a UDP socket and a TCP listener per
 * port, the connections */
#define DP_XFRM_FDS (2 * DP_XFRM_SOCKS + DP_XFRM_CONNS)

struct sio_from;

/* Read --dataplane esp|xfrm.  esp (default): nothing changes.  xfrm: open
 * the adapter (needs CAP_NET_ADMIN), remove leftovers of an earlier run
 * with our tag (imssec_xfrm_flush_stale) and put the kernel behind d's
 * callbacks.  Call after ex_dp_init() and before the table's first SA.
 * role: IMSSEC_SA_ROLE_UE / _PCSCF.  0, or -1 with a message on stderr. */
int dp_xfrm_arg(ex_dp *d, int argc, char **argv, int role);

/* What ex_dp does with --dataplane xfrm (ipsec.c, sip_io.c). */
int dp_xfrm_send(ex_dp *d, imssec_sa_ref sa, int transport, const uint8_t *payload, size_t n,
                 imssec_errinfo *err);
int dp_xfrm_recv(ex_dp *d, int fd, uint8_t *out, size_t cap, imssec_sa_esp_received *rx,
                 imssec_errinfo *err);
void dp_xfrm_replay(ex_dp *d);
/* Our SAs in the kernel (read back), -1 if the kernel cannot be read;
 * after a change, the read-back check first (the programs count after an
 * event: the table is consistent then). */
int dp_xfrm_count(const ex_dp *d);
/* The protected ports' sockets, for poll: up to cap into fds; returns n. */
int dp_xfrm_fds(const ex_dp *d, int *fds, int cap);
/* Between messages (sio_recv): after a change, the read-back check; and
 * IMSSEC_E_REPLAY when the kernel dropped replayed packets since the last
 * call, else IMSSEC_OK. */
int dp_xfrm_poll(ex_dp *d);
/* SIP over TCP (7.1 TCP case) on kernel connections inside the SAs: a
 * request on our client port connects to the peer's server port, a
 * connection to our server port is accepted (our server ports listen); a
 * response goes on the connection its request came on.  The tl_conn is the
 * connection's descriptor (state, ports, in_sa / out_sa), as with the
 * user-space TCP.  framed: the next whole message received on one (1), with
 * *from as sio_recv() gives it; send_tcp: IMSSEC_OK or an error (err->what);
 * tcp_close: FIN (shutdown); c->state becomes TL_TIME_WAIT once the peer's
 * FIN is in, or TL_FREE.  1 when c is one of ours. */
int dp_xfrm_framed(ex_dp *d, char *buf, size_t cap, size_t *len, struct sio_from *from);
int dp_xfrm_send_tcp(ex_dp *d, imssec_sa_ref sa, int is_request, const char *msg, size_t n,
                     tl_conn **conn, imssec_errinfo *err);
int dp_xfrm_tcp_close(ex_dp *d, tl_conn *c);
/* At exit, before imssec_sa_table_wipe(): the read-back check of the last
 * change, against the table (a program may end right after an event,
 * before sio_recv() would have run it).  A no-op without xfrm. */
void dp_xfrm_settle(ex_dp *d);
/* At exit, after imssec_sa_table_wipe(): the last check (none of ours
 * left in the kernel; the wiped table is not looked at), then close the
 * adapter and the sockets.  A no-op without xfrm. */
void dp_xfrm_close(ex_dp *d);

#endif
