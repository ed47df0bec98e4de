# media/ command-line golden tests: SDES (RFC 4568, TS 33.328 Annex E) and
# SRTP (RFC 3711).  Sources of the expected values:
#   - RFC 4568 section 4's example line; its key||salt decoded independently
#     with Python's base64: 3d2d6e40255e7821426a75667239293f ||
#     2c2335685c603d265d7b71695051, lifetime 2^20, MKI 1 of length 4.
#   - The RFC 4568 9.1/9.2 grammar and 6.x rules, offsets counted by hand.
#   - RFC 3711 Appendix B.3 (key derivation: master key E1F97A0D..., cipher
#     key, cipher salt, the 94-octet auth key) and RFC 6188 7.2 (AES-256).
#   - libsrtp 2.5.0 test/srtp_driver.c srtp_validate() /
#     srtp_validate_aes_256(): the B.3 / RFC 6188 7.2 master keys on the
#     packet 800f1234 decafbad cafebabe ab*16 (its first SRTCP index is 1).
#   - Every other protected packet, and the SRTCP / GCM session keys, were
#     hand-checked with an independent SRTP written on Python's
#     cryptography 48.0 (AES-CTR, HMAC-SHA1, AESGCM: RFC 3711 4.1.1, 4.2.1,
#     4.3.1, 3.4; RFC 7714 8.1, 9.1, 12).  RFC 7714's own vectors (16, 17)
#     state session keys, which the public API does not take (they are
#     tested white-box in test/wb_media_srtp.c); here the same key, salt and
#     packet are used as master key and salt.

# ---- sdes-parse -------------------------------------------------------------------

# RFC 4568 section 4, field by field; the builder writes it back unchanged
$ build/imssec sdes-parse --value 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4'
result=ok
tag=1
suite=AES_CM_128_HMAC_SHA1_80
keys=1
key.0.key=3d2d6e40255e7821426a75667239293f
key.0.salt=2c2335685c603d265d7b71695051
key.0.lifetime=1048576
key.0.mki=00000001
key.0.mki_len=4
flags=
wsh=
fec_order=
n_ignored=0
canonical=1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4

# 9.1: tag 0 is a tag; no lifetime (empty), no MKI
$ build/imssec sdes-parse --value '0 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'
result=ok
tag=0
suite=AES_CM_128_HMAC_SHA1_32
keys=1
key.0.key=3d2d6e40255e7821426a75667239293f
key.0.salt=2c2335685c603d265d7b71695051
key.0.lifetime=
key.0.mki=
key.0.mki_len=0
flags=
wsh=
fec_order=
n_ignored=0
canonical=0 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR

# leading zeros read as a number (tag, MKI value), 1*WSP of spaces and a tab,
# a decimal power of two written back as 2^20
$ build/imssec sdes-parse --value "$(printf 'a=crypto:007  AES_CM_128_HMAC_SHA1_80\tinline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1048576|0001:4')"
result=ok
tag=7
suite=AES_CM_128_HMAC_SHA1_80
keys=1
key.0.key=3d2d6e40255e7821426a75667239293f
key.0.salt=2c2335685c603d265d7b71695051
key.0.lifetime=1048576
key.0.mki=00000001
key.0.mki_len=4
flags=
wsh=
fec_order=
n_ignored=0
canonical=7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4

# 9.1: the largest tag; one more digit is outside the grammar (offset 0)
$ build/imssec sdes-parse --value '999999999 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' | sed -n 2p
tag=999999999

$ build/imssec sdes-parse --value '1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'
result=syntax
reason=RFC 4568 9.1: tag is 1 to 9 digits
offset=0

# an MKI without a lifetime (9.2: both optional, told apart by the ':')
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4' | sed -n '7,9p;$p'
key.0.lifetime=
key.0.mki=00000001
key.0.mki_len=4
canonical=1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4

# two keys with 2-byte MKIs (6.1), lifetimes decimal (1000) and 2^48 (RFC
# 3711 9.2's maximum, 281474976710656), the session parameters of 6.3; the
# optional "-FOO=bar" is skipped (6.3.7) and not written back; the builder
# orders the parameters flags, FEC_ORDER, WSH
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1000|1:2;inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^48|65535:2 WSH=256 -FOO=bar UNENCRYPTED_SRTCP FEC_ORDER=SRTP_FEC'
result=ok
tag=1
suite=AES_CM_128_HMAC_SHA1_80
keys=2
key.0.key=3d2d6e40255e7821426a75667239293f
key.0.salt=2c2335685c603d265d7b71695051
key.0.lifetime=1000
key.0.mki=0001
key.0.mki_len=2
key.1.key=000102030405060708090a0b0c0d0e0f
key.1.salt=101112131415161718191a1b1c1d
key.1.lifetime=281474976710656
key.1.mki=ffff
key.1.mki_len=2
flags=UNENCRYPTED_SRTCP
wsh=256
fec_order=SRTP_FEC
n_ignored=1
canonical=1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1000|1:2;inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^48|65535:2 UNENCRYPTED_SRTCP FEC_ORDER=SRTP_FEC WSH=256

# RFC 6188: AES-256 key (32 bytes) and salt from one base64 value of 46 bytes
$ build/imssec sdes-parse --value '3 AES_256_CM_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ== UNAUTHENTICATED_SRTP UNENCRYPTED_SRTP' | sed -n '3,6p;10p;$p'
suite=AES_256_CM_HMAC_SHA1_32
keys=1
key.0.key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
key.0.salt=202122232425262728292a2b2c2d
flags=UNENCRYPTED_SRTP,UNAUTHENTICATED_SRTP
canonical=3 AES_256_CM_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ== UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP

# "-" marks an optional parameter: skipped, counted
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR -FOO=1' | sed -n '13,$p'
n_ignored=1
canonical=1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR

# refused lines are verdicts (exit 0).  KDR: only "no key derivation" runs
# (TS 33.328 Annex C); offset 74 is the parameter (2 + 23 + 1 + 7 + 40 + 1)
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=0'
result=unsupported
reason=RFC 4568 6.3: a key derivation rate other than 0
offset=74

$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=25'
result=syntax
reason=RFC 4568 6.3: KDR=0..24
offset=74

# 6.3.7: an unknown session parameter not marked optional makes the line unusable
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR FOO'
result=unsupported
reason=RFC 4568 6.3: a session parameter not understood
offset=74

# too many keys: the fifth (IMSSEC_SRTP_KEYS_MAX is 4 by default) starts at
# 26 + 4 * 57 = 254 (each key-param 56 bytes and a ';')
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:1;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|2:1;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|3:1;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|4:1;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|5:1'
result=range
reason=RFC 4568 6.1: more keys than IMSSEC_SRTP_KEYS_MAX
offset=254

# 6.1: several keys need MKIs, all of one length (offset: the key-params)
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2:2'
result=syntax
reason=RFC 4568 6.1: several keys need MKIs of one length
offset=26

# 6.2: a suite this library does not run (offset 22: its key-params)
$ build/imssec sdes-parse --value '2 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'
result=unsupported
reason=RFC 4568 6.2: an unknown crypto-suite
offset=22

# 9.2: key||salt must be the suite's 30 bytes
$ build/imssec sdes-parse --value '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx'
result=syntax
reason=RFC 4568 6.1, 9.2: key||salt is not the suite's length
offset=26

# RFC 7714 14.2: a GCM suite cannot drop encryption (checked at the end, 83)
$ build/imssec sdes-parse --value '1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw== UNENCRYPTED_SRTP' --json
{
  "result": "unsupported",
  "reason": "RFC 7714 14.2: an AEAD suite without encryption or authentication",
  "offset": "83"
}

$ build/imssec sdes-parse
? 2

$ build/imssec sdes-parse --help | sed -n 1p
imssec sdes-parse: parse an SDES a=crypto attribute (RFC 4568, TS 33.328 Annex E)

# ---- sdes-answer ---------------------------------------------------------------------

# RFC 4568 7.1.2: the first offered line the answerer can run, in offer
# order (0-based index 3): an unparsable line, an unknown suite and a flag
# not agreed are skipped; same tag, suite and flags, the --key/--salt key
# (base64 of 000102..1d: AAECAwQF...GxwD), no lifetime, no MKI (Annex E)
$ build/imssec sdes-answer --offer "$(printf '%s\n' '1 AES_CM_128_HMAC_SHA1_80 inline:bad!' '2 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' '4 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP' '5 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTCP' 'a=crypto:6 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR')" --suites AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_32 --flags UNENCRYPTED_SRTCP --key 000102030405060708090a0b0c0d0e0f --salt 101112131415161718191a1b1c1d
result=ok
index=3
tag=5
suite=AES_CM_128_HMAC_SHA1_32
flags=UNENCRYPTED_SRTCP
key=000102030405060708090a0b0c0d0e0f
salt=101112131415161718191a1b1c1d
answer=5 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd UNENCRYPTED_SRTCP

# the default policy: AES_CM_128_HMAC_SHA1_80 (Annex E), no flags: the last line
$ build/imssec sdes-answer --offer "$(printf '%s\r\n' '5 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' '4 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP' 'a=crypto:6 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR')" --key 000102030405060708090a0b0c0d0e0f --salt 101112131415161718191a1b1c1d
result=ok
index=2
tag=6
suite=AES_CM_128_HMAC_SHA1_80
flags=
key=000102030405060708090a0b0c0d0e0f
salt=101112131415161718191a1b1c1d
answer=6 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd

# the RFC 4568 4 line as the offer: the answer carries neither its lifetime
# nor an MKI (Annex E)
$ build/imssec sdes-answer --offer 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4' --key 000102030405060708090a0b0c0d0e0f --salt 101112131415161718191a1b1c1d | sed -n '2p;$p'
index=0
answer=1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd

# RFC 7714: GCM, a 16-byte key and a 12-byte salt (28 bytes: base64 with
# padding, written independently with Python's base64)
$ build/imssec sdes-answer --offer '9 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==' --suites AEAD_AES_128_GCM --key ffeeddccbbaa99887766554433221100 --salt 0f0e0d0c0b0a090807060504 | sed -n '$p'
answer=9 AEAD_AES_128_GCM inline:/+7dzLuqmYh3ZlVEMyIRAA8ODQwLCgkIBwYFBA==

# nothing acceptable: reject the media stream (a verdict, exit 0)
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --suites AES_256_CM_HMAC_SHA1_80
result=sdes_reject
reason=RFC 4568 7.1.2, TS 33.328 Annex E: no offered crypto attribute is acceptable

# TS 33.328 6.2.1.2: no SDES key over a hop without confidentiality ...
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --insecure-hop
result=insecure
reason=TS 33.328 6.2.1.2: SDES keys over a SIP hop without confidentiality protection

# ... unless a test network says so
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --insecure-hop --allow-insecure --key 000102030405060708090a0b0c0d0e0f --salt 101112131415161718191a1b1c1d | sed -n 1p
result=ok

# bad input: a key of the wrong length for the chosen suite, --key without
# --salt, an unknown suite or flag, no line, --allow-insecure alone
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --key 000102030405060708090a0b0c0d0e --salt 101112131415161718191a1b1c1d
? 2
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --key 000102030405060708090a0b0c0d0e0f
? 2
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --suites F8_128_HMAC_SHA1_80
? 2
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --flags UNENCRYPTED
? 2
$ build/imssec sdes-answer --offer "$(printf '\n\n')"
? 2
$ build/imssec sdes-answer --offer '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --allow-insecure
? 2

# ---- srtp-kdf --------------------------------------------------------------------------

# RFC 3711 B.3: cipher key, the first 160 bits of the auth key, cipher salt;
# the SRTCP labels 3..5 hand-checked with Python (see the top)
$ build/imssec srtp-kdf --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6
srtp_cipher_key=c61e7a93744f39ee10734afe3ff7a087
srtp_auth_key=cebe321f6ff7716b6fd4ab49af256a156d38baa4
srtp_salt=30cbbc08863d8c85d49db34a9ae1
srtcp_cipher_key=4c1aa45a81f73d61c800bbb00fbb1eaa
srtcp_auth_key=8d54534feb49ae8e7993a6bd0b844fc323a93dfd
srtcp_salt=9581c7ad87b3e530bf3e4454a8b3

# RFC 3711 B.3: the 94-octet auth key as the RFC prints it
$ build/imssec srtp-kdf --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --label 1 --length 94
out=cebe321f6ff7716b6fd4ab49af256a156d38baa48f0a0acf3c34e2359e6cdbcee049646c43d9327ad175578ef72270986371c10c9a369ac2f94a8c5fbcdddc256d6e919a48b610ef17c2041e474035766b68642c59bbfc2f34db60dbdfb2

# RFC 6188 7.2: AES_256_CM_PRF (labels 0, 1, 2 as the RFC prints them)
$ build/imssec srtp-kdf --suite AES_256_CM_HMAC_SHA1_80 --key f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6 --salt 3b04803de51ee7c96423ab5b78d2 | sed -n 1,3p
srtp_cipher_key=5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4
srtp_auth_key=fd9c32d39ed5fbb5a9dc96b30818454d1313dc05
srtp_salt=fa31791685ca444a9e07c6c64e93

# RFC 7714 12: GCM takes a 96-bit session salt and no auth key
$ build/imssec srtp-kdf --suite AEAD_AES_128_GCM --key 000102030405060708090a0b0c0d0e0f --salt 517569642070726f2071756f
srtp_cipher_key=b1bb5ee1803c7cb022c25343feb23261
srtp_auth_key=
srtp_salt=52fa33dcddd7c677e513ce75
srtcp_cipher_key=02657506d1e93c6639357fb793c2b082
srtcp_auth_key=
srtcp_salt=6f09033e2235e99cc6537c7a

$ build/imssec srtp-kdf --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --label 6 --length 16
? 2
$ build/imssec srtp-kdf --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6aa
? 2

# ---- srtp-protect / srtp-unprotect ---------------------------------------------------

# libsrtp srtp_validate(): RFC 3711 B.3 master key, SSRC cafebabe, SEQ
# 0x1234 (index 4660), 16 bytes 0xab
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f1234decafbadcafebabeabababababababababababababababab
index=4660
packet=800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb

$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb
result=ok
ssrc=3405691582
index=4660
packet=800f1234decafbadcafebabeabababababababababababababababab

# one tag bit flipped
$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbc
result=icv_failure

# libsrtp srtp_validate() SRTCP, index 1 (E || index = 80000001)
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --rtcp --index 1 --packet 81c8000bcafebabeabababababababababababababababab
index=1
packet=81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798

$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --rtcp --packet 81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798 --json
{
  "result": "ok",
  "ssrc": "3405691582",
  "index": "1",
  "encrypted": "1",
  "packet": "81c8000bcafebabeabababababababababababababababab"
}

# RFC 3711 3.4: the first SRTCP index is 0 (hand-checked)
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --rtcp --packet 81c8000bcafebabeabababababababababababababababab
index=0
packet=81c8000bcafebabeb19c219a086b6c7ae61d8e0bfeb4be3f800000005631d6cfc906cdb30f41

# RFC 4568 6.3.2 UNENCRYPTED_SRTCP: E = 0, the payload in clear, still a
# 10-byte tag (hand-checked)
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --flags UNENCRYPTED_SRTCP --rtcp --index 5 --packet 81c8000bcafebabeabababababababababababababababab
index=5
packet=81c8000bcafebabeabababababababababababababababab0000000587fa5cd21816de7c9c8c

# the receiver must agree on E (an E = 0 packet for an encrypting session)
$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --rtcp --packet 81c8000bcafebabeabababababababababababababababab0000000587fa5cd21816de7c9c8c
result=malformed

$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --flags UNENCRYPTED_SRTCP --rtcp --packet 81c8000bcafebabeabababababababababababababababab0000000587fa5cd21816de7c9c8c | sed -n 4p
encrypted=0

# RFC 4568 6.2.2 _32: the same keystream and HMAC, the tag cut to 4 bytes
$ build/imssec srtp-protect --suite AES_CM_128_HMAC_SHA1_32 --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f1234decafbadcafebabeabababababababababababababababab
index=4660
packet=800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc

# RFC 3711 3.3.1: ROC 1 makes the index 2^16 + 0x1234 = 70196 (hand-checked);
# a receiver that assumes ROC 0 rejects it
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --roc 1 --packet 800f1234decafbadcafebabeabababababababababababababababab
index=70196
packet=800f1234decafbadcafebabe179265c8bf303e4c24e7279f739bb5a6f8b3916fd670057bf1dc

$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --roc 1 --packet 800f1234decafbadcafebabe179265c8bf303e4c24e7279f739bb5a6f8b3916fd670057bf1dc | sed -n 3p
index=70196

$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f1234decafbadcafebabe179265c8bf303e4c24e7279f739bb5a6f8b3916fd670057bf1dc
result=icv_failure

# the RFC 4568 4 line: its MKI 00000001 sits between payload and tag (RFC
# 3711 3.1; hand-checked); a receiver with MKI 2 has no key for it
$ build/imssec srtp-protect --crypto 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4' --packet 800f1234decafbadcafebabeabababababababababababababababab
index=4660
packet=800f1234decafbadcafebabe60b74070044269acea728ee61fb67d4800000001701b332412fa1e939c10

$ build/imssec srtp-unprotect --suite AES_CM_128_HMAC_SHA1_80 --key 3d2d6e40255e7821426a75667239293f --salt 2c2335685c603d265d7b71695051 --mki 00000001 --packet 800f1234decafbadcafebabe60b74070044269acea728ee61fb67d4800000001701b332412fa1e939c10 | sed -n '1p;$p'
result=ok
packet=800f1234decafbadcafebabeabababababababababababababababab

$ build/imssec srtp-unprotect --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|2:4' --packet 800f1234decafbadcafebabe60b74070044269acea728ee61fb67d4800000001701b332412fa1e939c10
result=no_sa

# libsrtp srtp_validate_aes_256(): the RFC 6188 7.2 master key
$ build/imssec srtp-protect --suite AES_256_CM_HMAC_SHA1_80 --key f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6 --salt 3b04803de51ee7c96423ab5b78d2 --packet 800f1234decafbadcafebabeabababababababababababababababab
index=4660
packet=800f1234decafbadcafebabef1d9de17ff251ff1aa007774b0b4b40da08d9d9a5b3a55d8873b

# RFC 7714's key, salt and RTP packet as MASTER key and salt (so not its
# section 16 output: the session keys are derived first; hand-checked with
# AESGCM, IV = (00 00 || SSRC || ROC || SEQ) XOR salt, AAD = the header)
$ build/imssec srtp-protect --suite AEAD_AES_128_GCM --key 000102030405060708090a0b0c0d0e0f --salt 517569642070726f2071756f --packet 8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573
index=61819
packet=8040f17b8041f8d35501a0b292cb0ecff0a0db188f7bff6b523933aacef8ae9585ed378a627836cb2d6a731d6c3490d925387db18c0661762d59e50ad553d241535a

$ build/imssec srtp-unprotect --suite AEAD_AES_128_GCM --key 000102030405060708090a0b0c0d0e0f --salt 517569642070726f2071756f --packet 8040f17b8041f8d35501a0b292cb0ecff0a0db188f7bff6b523933aacef8ae9585ed378a627836cb2d6a731d6c3490d925387db18c0661762d59e50ad553d241535a | sed -n '1p;$p'
result=ok
packet=8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573

# RFC 7714 9.1 GCM SRTCP: AAD = header || E || index, E || index after the tag
$ build/imssec srtp-protect --suite AEAD_AES_128_GCM --key 000102030405060708090a0b0c0d0e0f --salt 517569642070726f2071756f --rtcp --index 1 --packet 81c8000bcafebabeabababababababababababababababab
index=1
packet=81c8000bcafebabeb2cbe03f23fbaabc32489d638b0d01265c184803ad2a5a6e44173a28477615a280000001

# a packet shorter than its header and tag is a verdict when received ...
$ build/imssec srtp-unprotect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f12
result=malformed

# ... and bad input when it is to be protected (not RTP version 2)
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 400f1234decafbadcafebabe
? 2

# more bad input: --index without --rtcp, --roc with it, both --key and
# --crypto, --crypto with --suite, a short key, an unknown suite, GCM
# without encryption (RFC 7714 14.2), a refused --crypto line
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --index 1 --packet 800f1234decafbadcafebabe
? 2
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --rtcp --roc 1 --packet 81c8000bcafebabe
? 2
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --packet 800f1234decafbadcafebabe
? 2
$ build/imssec srtp-protect --suite AES_CM_128_HMAC_SHA1_32 --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' --packet 800f1234decafbadcafebabe
? 2
$ build/imssec srtp-protect --key E1F97A0D3E018BE0D64FA32C06DE41 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f1234decafbadcafebabe
? 2
$ build/imssec srtp-protect --suite AES_CM_128_HMAC_SHA1_64 --key E1F97A0D3E018BE0D64FA32C06DE4139 --salt 0EC675AD498AFEEBB6960B3AABE6 --packet 800f1234decafbadcafebabe
? 2
$ build/imssec srtp-protect --suite AEAD_AES_128_GCM --flags UNENCRYPTED_SRTP --key 000102030405060708090a0b0c0d0e0f --salt 517569642070726f2071756f --packet 800f1234decafbadcafebabe
? 2
$ build/imssec srtp-protect --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=1' --packet 800f1234decafbadcafebabe
? 2

# ---- srtp-decrypt-pcap -----------------------------------------------------------------

# A classic pcap (little-endian, microseconds, raw IPv4, link type 101) of five
# IPv4/UDP datagrams from 192.0.2.1 to 192.0.2.2, written from its hex by a
# POSIX printf loop: (1) 40000 -> 50000 the libsrtp srtp_validate() SRTP
# packet above, (2) the same again, (3) 5060 -> 5060 "OPTIONS sip:x
# SIP/2.0", (4) 40001 -> 50001 its SRTCP packet (index 1), (5) packet 1 with
# SEQ 0x1235 and the old tag.  The key is B.3's (base64 of key || salt).
# Expected: (1) and (4) replaced by the plain RTP / RTCP with the IP total
# length and header checksum (45000038 ... b6b0, 45000034 ... b6b2) and the
# UDP length fixed and the UDP checksum 0 (RFC 768); (2) a replay (RFC 3711
# 3.3.2), (5) a bad tag, (3) not RTP: all three copied unchanged.  The
# expected file was written independently in Python (RFC 791 / RFC 768
# checksums).  This case writes build/cli-media/in.pcap, which the next
# cases read.
$ mkdir -p build/cli-media && f=build/cli-media/in.pcap && h=d4c3b2a1020004000000000000000000ffff00006500000000f1536500000000420000004200000045000042000140004011b6a6c0000201c00002029c40c350002e2579800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb01f1536500000000420000004200000045000042000140004011b6a6c0000201c00002029c40c350002e2579800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb02f1536500000000350000003500000045000035000240004011b6b2c0000201c000020213c413c4002198924f5054494f4e53207369703a78205349502f322e300d0a0d0a03f1536500000000420000004200000045000042000340004011b6a4c0000201c00002029c41c351002ed3a681c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c123079804f1536500000000420000004200000045000042000440004011b6a3c0000201c00002029c40c350002e2578800f1235decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb && : > $f && while [ -n "$h" ]; do printf "\\$(printf %o 0x${h%"${h#??}"})" >> $f; h=${h#??}; done && build/imssec srtp-decrypt-pcap --in $f --out build/cli-media/out.pcap --crypto 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' && od -An -tx1 -v build/cli-media/out.pcap | tr -d ' \n' && echo
packets=5
decrypted=2
decrypted.srtp=1
decrypted.srtcp=1
failed=2
failed.replay=1
failed.seq_exhausted=0
failed.icv_failure=1
failed.malformed=0
failed.no_sa=0
passed=1
streams=1
d4c3b2a1020004000000000000000000ffff00006500000000f1536500000000380000003800000045000038000140004011b6b0c0000201c00002029c40c35000240000800f1234decafbadcafebabeabababababababababababababababab01f1536500000000420000004200000045000042000140004011b6a6c0000201c00002029c40c350002e2579800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb02f1536500000000350000003500000045000035000240004011b6b2c0000201c000020213c413c4002198924f5054494f4e53207369703a78205349502f322e300d0a0d0a03f1536500000000340000003400000045000034000340004011b6b2c0000201c00002029c41c3510020000081c8000bcafebabeabababababababababababababababab04f1536500000000420000004200000045000042000440004011b6a3c0000201c00002029c40c350002e2578800f1235decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb

# keys of another line only: every SRTP / SRTCP packet fails its tag; a
# second line (the other direction) is tried too and changes nothing
$ build/imssec srtp-decrypt-pcap --in build/cli-media/in.pcap --out build/cli-media/out2.pcap --crypto "$(printf '%s\n' '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR' '2 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd')" && cmp build/cli-media/in.pcap build/cli-media/out2.pcap && echo unchanged
packets=5
decrypted=0
decrypted.srtp=0
decrypted.srtcp=0
failed=4
failed.replay=0
failed.seq_exhausted=0
failed.icv_failure=4
failed.malformed=0
failed.no_sa=0
passed=1
streams=0
unchanged

# --ssrc: only these SSRCs; cafebabe's packets are passed through
$ build/imssec srtp-decrypt-pcap --in build/cli-media/in.pcap --out build/cli-media/out3.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' --ssrc 0x12345678,7 | sed -n '2p;11p'
decrypted=0
passed=5

$ build/imssec srtp-decrypt-pcap --in build/cli-media/in.pcap --out build/cli-media/out3.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' --ssrc 3405691582 | sed -n 2p
decrypted=2

# a hostile or broken capture is bad input (exit 2, no output left behind):
# cut inside a record, a record length above 262144, not a pcap, a pcapng,
# an unknown link type; --out naming the --in file; a --crypto line refused
$ head -c 100 build/cli-media/in.pcap > build/cli-media/cut.pcap; build/imssec srtp-decrypt-pcap --in build/cli-media/cut.pcap --out build/cli-media/bad.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' 2>&1; echo "exit=$? left=$(ls build/cli-media/bad.pcap 2>/dev/null | wc -l)"
error: --in: record 1: the file ends inside the record
exit=2 left=0

$ { head -c 32 build/cli-media/in.pcap; printf '\001\000\004\000\001\000\004\000'; } > build/cli-media/big.pcap; build/imssec srtp-decrypt-pcap --in build/cli-media/big.pcap --out build/cli-media/bad.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' 2>&1; echo "exit=$? left=$(ls build/cli-media/bad.pcap 2>/dev/null | wc -l)"
error: --in: record 1: captured length 262145 above 262144
exit=2 left=0

$ printf 'not a capture at all' > build/cli-media/junk.pcap; build/imssec srtp-decrypt-pcap --in build/cli-media/junk.pcap --out build/cli-media/bad.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' 2>&1; echo "exit=$? left=$(ls build/cli-media/bad.pcap 2>/dev/null | wc -l)"
error: --in: not a pcap file (magic 6e6f7420)
exit=2 left=0

$ printf '\012\015\015\012\034\000\000\000' > build/cli-media/ng.pcap; build/imssec srtp-decrypt-pcap --in build/cli-media/ng.pcap --out build/cli-media/bad.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' 2>&1; echo "exit=$?"
error: --in: a pcapng file; convert it first: editcap -F pcap IN OUT
exit=2

$ { head -c 20 build/cli-media/in.pcap; printf '\151\000\000\000'; } > build/cli-media/lt.pcap; build/imssec srtp-decrypt-pcap --in build/cli-media/lt.pcap --out build/cli-media/bad.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' 2>&1; echo "exit=$?"
error: --in: link type 105 not supported (Ethernet 1, raw IP 101/228/229, Linux cooked 113/276)
exit=2

$ build/imssec srtp-decrypt-pcap --in build/cli-media/in.pcap --out build/cli-media/in.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm'
? 2

$ build/imssec srtp-decrypt-pcap --in build/cli-media/in.pcap --out build/cli-media/bad.pcap --crypto "$(printf '%s\n' '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm' '2 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm KDR=3')"
? 2

$ build/imssec srtp-decrypt-pcap --in build/cli-media/none.pcap --out build/cli-media/bad.pcap --crypto '1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm'
? 2

# ---- sdp-e2ae: the P-CSCF as IMS-ALG (TS 33.328 7.2.1, 7.3.1) --------------------------
# Expected SDP written by hand from the steps (what is removed, changed,
# appended at the end of the section); --random makes the created keys
# 000102..1d (base64 AAECAwQF...GxwD) and ffeedd..22 (/+7dzLuq...RDMi), both
# written independently with Python's base64.

# 7.2.1 steps 2, 3: the UE's offer towards the core.  Tag 1 asks for
# UNENCRYPTED_SRTP, which the policy does not take: tag 2 is selected (K11,
# its lifetime cleared, step 7); both a=crypto lines and a=3ge2ae go, SRTP
# becomes RTP; K12 is prepared with tag 2's suite
$ build/imssec sdp-e2ae --step orig-offer --sdp "$(printf 'v=0\no=alice 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 49170 RTP/SAVP 0 101\na=rtpmap:101 telephone-event/8000\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 UNENCRYPTED_SRTP\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\na=3ge2ae:requested\na=sendrecv\n')" --suites AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_32 --random 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d --out build/cli-media/core-offer.sdp && cat build/cli-media/core-offer.sdp
result=ok
sections=1
section.0.m_index=0
section.0.status=offered
section.0.avpf=0
section.0.remote=2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4
section.0.local.0=2 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd
random_used=30
v=0
o=alice 1 1 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
a=sendrecv

# 7.2.1 steps 7, 8: the core's plain answer towards the UE (the offer
# step run again on the UE's offer, from a file): RTP becomes SRTP, K12
# appended; the IMS Access GW's pair is agreed
$ printf 'v=0\no=alice 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 49170 RTP/SAVP 0 101\na=rtpmap:101 telephone-event/8000\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 UNENCRYPTED_SRTP\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\na=3ge2ae:requested\na=sendrecv\n' > build/cli-media/ue-offer.sdp && build/imssec sdp-e2ae --step orig-answer --offer-file build/cli-media/ue-offer.sdp --sdp "$(printf 'v=0\no=bob 2 2 IN IP4 198.51.100.20\ns=-\nc=IN IP4 198.51.100.20\nt=0 0\nm=audio 3456 RTP/AVP 0\na=sendrecv')" --suites AES_CM_128_HMAC_SHA1_80,AES_CM_128_HMAC_SHA1_32 --random 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d --out build/cli-media/ue-answer.sdp && cat build/cli-media/ue-answer.sdp
result=ok
sections=1
section.0.m_index=0
section.0.status=agreed
section.0.avpf=0
section.0.remote=2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4
section.0.local.0=2 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd
random_used=30
v=0
o=bob 2 2 IN IP4 198.51.100.20
s=-
c=IN IP4 198.51.100.20
t=0 0
m=audio 3456 RTP/SAVP 0
a=sendrecv
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd

# 7.3.1 steps 3, 4: the core's offer towards the UE: each plain section
# with a port gets K21 (the default policy: one AES_CM_128_HMAC_SHA1_80
# attribute, tag 1) and a=3ge2ae:applied at its end; the disabled (port 0)
# section is left alone
$ build/imssec sdp-e2ae --step term-offer --sdp "$(printf 'v=0\no=carol 3 3 IN IP4 198.51.100.30\ns=-\nc=IN IP4 198.51.100.30\nt=0 0\nm=audio 5004 RTP/AVP 0\na=sendrecv\nm=video 0 RTP/AVP 98\nm=video 5006 RTP/AVPF 98\na=rtpmap:98 H264/90000')" --random 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1dffeeddccbbaa99887766554433221100ffeeddccbbaa9988776655443322 --out build/cli-media/ue-offer2.sdp && cat build/cli-media/ue-offer2.sdp
result=ok
sections=2
section.0.m_index=0
section.0.status=offered
section.0.avpf=0
section.0.remote=
section.0.local.0=1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd
section.1.m_index=2
section.1.status=offered
section.1.avpf=1
section.1.remote=
section.1.local.0=1 AES_CM_128_HMAC_SHA1_80 inline:/+7dzLuqmYh3ZlVEMyIRAP/u3cy7qpmId2ZVRDMi
random_used=60
v=0
o=carol 3 3 IN IP4 198.51.100.30
s=-
c=IN IP4 198.51.100.30
t=0 0
m=audio 5004 RTP/SAVP 0
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd
a=3ge2ae:applied
m=video 0 RTP/AVP 98
m=video 5006 RTP/SAVPF 98
a=rtpmap:98 H264/90000
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/+7dzLuqmYh3ZlVEMyIRAP/u3cy7qpmId2ZVRDMi
a=3ge2ae:applied

# 7.3.1 steps 5 - 7: the UE's answer towards the core: its key (K22) taken
# out, SRTP back to RTP; the video stream it rejected (port 0) gets its
# RTP/AVPF back and no keys
$ build/imssec sdp-e2ae --step term-answer --offer "$(printf 'v=0\no=carol 3 3 IN IP4 198.51.100.30\ns=-\nc=IN IP4 198.51.100.30\nt=0 0\nm=audio 5004 RTP/AVP 0\na=sendrecv\nm=video 0 RTP/AVP 98\nm=video 5006 RTP/AVPF 98\na=rtpmap:98 H264/90000')" --sdp "$(printf 'v=0\no=dave 4 4 IN IP4 192.0.2.40\ns=-\nc=IN IP4 192.0.2.40\nt=0 0\nm=audio 6000 RTP/SAVP 0\na=sendrecv\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\nm=video 0 RTP/AVP 98\nm=video 0 RTP/SAVPF 98')" --random 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1dffeeddccbbaa99887766554433221100ffeeddccbbaa9988776655443322 --out build/cli-media/core-answer.sdp && cat build/cli-media/core-answer.sdp
result=ok
sections=2
section.0.m_index=0
section.0.status=agreed
section.0.avpf=0
section.0.remote=1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
section.0.local.0=1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd
section.1.m_index=2
section.1.status=rejected
section.1.avpf=1
section.1.remote=
section.1.local.0=1 AES_CM_128_HMAC_SHA1_80 inline:/+7dzLuqmYh3ZlVEMyIRAP/u3cy7qpmId2ZVRDMi
random_used=60
v=0
o=dave 4 4 IN IP4 192.0.2.40
s=-
c=IN IP4 192.0.2.40
t=0 0
m=audio 6000 RTP/AVP 0
a=sendrecv
m=video 0 RTP/AVP 98
m=video 0 RTP/AVPF 98

# verdicts (exit 0; 488 to the UE): nothing acceptable under the default
# policy (offset 64: the m= line); e2ae requested although registration did
# not show it (7.2.1 NOTE 2a); no key over a hop without confidentiality
$ build/imssec sdp-e2ae --step orig-offer --sdp "$(printf 'v=0\no=alice 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 49170 RTP/SAVP 0\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\na=3ge2ae:requested')" --out build/cli-media/x.sdp
result=sdes_reject
reason=TS 33.328 7.2.1 step 3: no acceptable a=crypto attribute in the section
sip_status=488
section=0
offset=64

$ build/imssec sdp-e2ae --step orig-offer --no-reg-e2ae --sdp "$(printf 'v=0\no=alice 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 49170 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\na=3ge2ae:requested')" --out build/cli-media/x.sdp | sed -n 1,3p
result=state
reason=TS 33.328 7.2.1 step 2 NOTE 2a, 7.1.1: e2ae requested but not indicated by both at registration
sip_status=488

$ build/imssec sdp-e2ae --step orig-offer --insecure-hop --sdp "$(printf 'v=0\no=alice 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 49170 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\na=3ge2ae:requested')" --out build/cli-media/x.sdp | sed -n 1,2p
result=insecure
reason=TS 33.328 6.2.1.2: SDES keys over a SIP hop without confidentiality protection

# an SDP outside RFC 8866 (a port that is no number) is a verdict too
$ build/imssec sdp-e2ae --step term-offer --sdp "$(printf 'v=0\nm=audio x RTP/AVP 0')" --out build/cli-media/x.sdp
result=syntax
reason=RFC 8866 5, 9: the port is 0..65535
sip_status=0
section=0
offset=12

# bad input: term-answer without the --random of its offer step, too few
# --random bytes, an unknown step, --offer for an offer step
$ build/imssec sdp-e2ae --step term-answer --offer "$(printf 'v=0\nm=audio 5004 RTP/AVP 0')" --sdp "$(printf 'v=0\nm=audio 6000 RTP/SAVP 0')" --out build/cli-media/x.sdp
? 2
$ build/imssec sdp-e2ae --step term-offer --sdp "$(printf 'v=0\nm=audio 5004 RTP/AVP 0')" --random 00 --out build/cli-media/x.sdp
? 2
$ build/imssec sdp-e2ae --step alg-offer --sdp "$(printf 'v=0\nm=audio 5004 RTP/AVP 0')" --out build/cli-media/x.sdp
? 2
$ build/imssec sdp-e2ae --step orig-offer --offer x --sdp "$(printf 'v=0\nm=audio 5004 RTP/AVP 0')" --out build/cli-media/x.sdp
? 2
