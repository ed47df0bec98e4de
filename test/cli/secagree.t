# secagree CLI golden tests.  Inputs are lines of test/vectors/secagree-headers.txt
# and TS 33.203 7.2 / M.7.2 scenarios; expected values written from the
# header text and the spec rules (Annex H defaults: prot=esp, mod=trans, ealg=null).

# Vector line 3: 421/494 capability list, LWS before ';'
$ build/imssec secagree-parse --value 'ipsec-3gpp ; q=0.1'
count=1
mech.0.name=ipsec-3gpp
mech.0.alg=
mech.0.ealg=null
mech.0.prot=esp
mech.0.mod=trans
mech.0.spi_c=
mech.0.spi_s=
mech.0.port_c=
mech.0.port_s=
mech.0.q=100
canonical=ipsec-3gpp;q=0.1

# Vector line 5: spi-c = 2^32-1 printed unsigned; tls;q=0.2 kept
$ build/imssec secagree-parse --value 'ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;prot=esp;mod=trans;port-c=61676;port-s=61662;spi-c=4294967295;spi-s=67890,tls;q=0.2'
count=2
mech.0.name=ipsec-3gpp
mech.0.alg=hmac-md5-96
mech.0.ealg=aes-cbc
mech.0.prot=esp
mech.0.mod=trans
mech.0.spi_c=4294967295
mech.0.spi_s=67890
mech.0.port_c=61676
mech.0.port_s=61662
mech.0.q=
mech.1.name=tls
canonical=ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=4294967295;spi-s=67890;port-c=61676;port-s=61662, tls;q=0.2

# Vector line 4 (second offer): LWS after '=' is not part of the value
$ build/imssec secagree-parse --value 'ipsec-3gpp;alg= hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8765423;port-c=7524;spi-s=1234563;port-s=1358, tls'
count=2
mech.0.name=ipsec-3gpp
mech.0.alg=hmac-sha-1-96
mech.0.ealg=aes-cbc
mech.0.prot=esp
mech.0.mod=trans
mech.0.spi_c=8765423
mech.0.spi_s=1234563
mech.0.port_c=7524
mech.0.port_s=1358
mech.0.q=
mech.1.name=tls
canonical=ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8765423;spi-s=1234563;port-c=7524;port-s=1358, tls

# Vector line 7: valueless extension parameter 'toto' preserved
$ build/imssec secagree-parse --value 'ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=aes-cbc;spi-c=5000;spi-s=5001;port-c=9999;port-s=20000,ipsec-ike;q=0.1;test=458;toto'
count=2
mech.0.name=ipsec-3gpp
mech.0.alg=hmac-md5-96
mech.0.ealg=aes-cbc
mech.0.prot=esp
mech.0.mod=trans
mech.0.spi_c=5000
mech.0.spi_s=5001
mech.0.port_c=9999
mech.0.port_s=20000
mech.0.q=
mech.1.name=ipsec-ike
canonical=ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=5000;spi-s=5001;port-c=9999;port-s=20000, ipsec-ike;q=0.1;test=458;toto

# Vector line 8: prot=ah parses (rejected by negotiation, below)
$ build/imssec secagree-parse --value 'ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc; prot=ah; mod=trans; spi-c=1111; spi-s=2222; port-c=5062; port-s=5064'
count=1
mech.0.name=ipsec-3gpp
mech.0.alg=hmac-md5-96
mech.0.ealg=des-ede3-cbc
mech.0.prot=ah
mech.0.mod=trans
mech.0.spi_c=1111
mech.0.spi_s=2222
mech.0.port_c=5062
mech.0.port_s=5064
mech.0.q=
canonical=ipsec-3gpp;alg=hmac-md5-96;ealg=des-ede3-cbc;prot=ah;mod=trans;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064

# Unknown values kept as text, never mapped to a default (E13)
$ build/imssec secagree-parse --value 'IPSEC-3GPP;ALG=notsupported;mod=UDP-enc-tun;spi-s=3000000000'
count=1
mech.0.name=IPSEC-3GPP
mech.0.alg=notsupported
mech.0.ealg=null
mech.0.prot=esp
mech.0.mod=UDP-enc-tun
mech.0.spi_c=
mech.0.spi_s=3000000000
mech.0.port_c=
mech.0.port_s=
mech.0.q=
canonical=ipsec-3gpp;alg=notsupported;mod=UDP-enc-tun;spi-s=3000000000

# Vector line 6: ports above 65535 must be rejected
$ build/imssec secagree-parse --value 'ipsec-ike;q=0.1,ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=aes-cbc;spi-c=5000;spi-s=5001;port-c=78952;port-s=77854'
? 2

# SPI 0, hex SPI, duplicate parameter, bad qvalue
$ build/imssec secagree-parse --value 'ipsec-3gpp;spi-c=0'
? 2
$ build/imssec secagree-parse --value 'ipsec-3gpp;spi-c=0x10'
? 2
$ build/imssec secagree-parse --value 'ipsec-3gpp;alg=hmac-md5-96;alg=hmac-sha-1-96'
? 2
$ build/imssec secagree-parse --value 'tls;q=1.5'
? 2

# 7.2: the first policy combination the UE offered (pairs, not components)
$ build/imssec secagree-negotiate --client 'ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4' --policy 'hmac-sha-1-96/aes-cbc,hmac-md5-96/aes-cbc,hmac-sha-1-96/null' --spi-c 3333 --spi-s 4444 --port-c 5062 --port-s 5064
result=ok
selected=0:hmac-md5-96/aes-cbc/trans
security_server=ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=3333;spi-s=4444;port-c=5062;port-s=5064, ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=3333;spi-s=4444;port-c=5062;port-s=5064, ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=trans;spi-c=3333;spi-s=4444;port-c=5062;port-s=5064

# 7.2 anti-bidding-down: encryption listed although the UE offered none; null selected
$ build/imssec secagree-negotiate --client 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4' --policy 'hmac-sha-1-96/aes-cbc,hmac-sha-1-96/null'
result=ok
selected=0:hmac-sha-1-96/null/trans
security_server=ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans, ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=trans

# 7.2 never: no encryption algorithms in SM6
$ build/imssec secagree-negotiate --client 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4' --policy 'hmac-sha-1-96/aes-cbc,hmac-sha-1-96/null' --confidentiality never --spi-c 10 --spi-s 11 --port-c 12 --port-s 13
result=ok
selected=0:hmac-sha-1-96/null/trans
security_server=ipsec-3gpp;alg=hmac-sha-1-96;prot=esp;mod=trans;spi-c=10;spi-s=11;port-c=12;port-s=13

# 7.2 required and no encryption offered: abort
$ build/imssec secagree-negotiate --client 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4' --policy 'hmac-sha-1-96/aes-cbc' --confidentiality required
result=reject
reason=TS 33.203 7.2: confidentiality required but the UE offered none
sip_status=494

# 7.3.2.1: prot=ah only
$ build/imssec secagree-negotiate --client 'ipsec-3gpp; alg=hmac-md5-96; ealg=null; prot=ah; spi-c=1111; spi-s=2222; port-c=5062; port-s=5064' --policy 'hmac-md5-96/null'
result=reject
reason=TS 33.203 7.3.2.1: only prot=ah offered (clause 6: esp only)
sip_status=494

# M.7.2: NAT and UDP-enc-tun offered
$ build/imssec secagree-negotiate --client 'ipsec-3gpp;alg=hmac-sha-1-96;mod=trans;spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=1;spi-s=2;port-c=3;port-s=4' --policy 'hmac-sha-1-96/null' --nat --udp-encap
result=ok
selected=1:hmac-sha-1-96/null/UDP-enc-tun
security_server=ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=UDP-enc-tun

# M.7.3.2.4: NAT and no UDP-enc-tun offered: discard silently
$ build/imssec secagree-negotiate --client 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4' --policy 'hmac-sha-1-96/aes-cbc' --nat --udp-encap
result=reject
reason=TS 33.203 M.7.3.2.4: NAT detected but the UE did not offer UDP-enc-tun
sip_status=0

# UE 7.2: highest q first among supported pairs; Verify echoes the list as received
$ build/imssec secagree-select --server 'ipsec-3gpp;q=0.1;alg=hmac-md5-96;spi-c=11;spi-s=12;port-c=100;port-s=101, ipsec-3gpp ;q=0.5; alg=hmac-sha-1-96;spi-c=21;spi-s=22;port-c=200;port-s=201' --supported 'hmac-sha-1-96/null,hmac-md5-96/null'
result=ok
selected=1:hmac-sha-1-96/null/trans
security_verify=ipsec-3gpp;q=0.1;alg=hmac-md5-96;spi-c=11;spi-s=12;port-c=100;port-s=101, ipsec-3gpp ;q=0.5; alg=hmac-sha-1-96;spi-c=21;spi-s=22;port-c=200;port-s=201

# UE 7.3.2.2: a capability list is never an SA proposal
$ build/imssec secagree-select --server 'ipsec-3gpp ; q=0.1' --supported 'hmac-sha-1-96/null'
result=reject
reason=TS 33.203 7.3.2.2: no SA proposal (capability list only)
sip_status=0

# UE M.7.2: received= in the top Via and no mode in SM6: abort
$ build/imssec secagree-select --server 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4' --supported 'hmac-sha-1-96/null' --via 'SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;received=198.51.100.9'
result=reject
reason=TS 33.203 M.7.2: behind a NAT and the server gave no mode
sip_status=0

# Security-Verify: case, order and Annex H defaults ignored; values not
$ build/imssec secagree-verify --sent 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4' --received 'IPSEC-3GPP; port-s=4;port-c=3;spi-s=2;spi-c=1;ealg=null;prot=esp;mod=trans;alg=HMAC-SHA-1-96'
result=match
reason=
$ build/imssec secagree-verify --sent 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4' --received 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=5'
result=mismatch
reason=mechanism 0: port-s
$ build/imssec secagree-verify --sent 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4, tls' --received 'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4'
result=mismatch
reason=mechanism 1: list length
