/* The smallest build: no 3DES, no HMAC-MD5 for ESP, no IPv6, no UDP
 * encapsulation, no logging, the smallest replay window.  The suite must
 * pass with features compiled out (their tests skip, saying why). */
#define IMSSEC_ENABLE_3DES 0
#define IMSSEC_ENABLE_HMAC_MD5 0
#define IMSSEC_ENABLE_IPV6 0
#define IMSSEC_ENABLE_UDPENCAP 0
#define IMSSEC_ENABLE_LOG 0
#define IMSSEC_REPLAY_WINDOW_MAX 32
