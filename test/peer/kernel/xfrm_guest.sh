#!/bin/bash
# xfrm_guest.sh -- init (PID 1) of the User-Mode-Linux guest of
# test/peer/sa-xfrm.sh (the approach of guest.sh / guest-sa.sh: the host's /
# over hostfs, read-only, so the host-built driver runs here unchanged).
#
# The host passes on the kernel command line (Linux hands it to init as
# environment):
#   XG_WORK  host work directory, mounted read-write over hostfs; gets out/
#   XG_FLOW  the driver (test/peer/kernel/xfrm_flow.c, built on the host)
#   XG_NAT   1: try a NAT namespace (iptables-legacy MASQUERADE)
# Three network namespaces, nothing towards the host's network:
#   A  the UE      va  192.0.2.20/24 2001:db8:1::20/64   (to B directly)
#                  van 198.51.100.20/24 (to N), 203.0.113.1/32 on lo
#   B  the P-CSCF  vb  192.0.2.10/24 2001:db8:1::10/64
#                  vbn 203.0.113.10/24 (to N)
#   N  a NAT       vna 198.51.100.1/24, vnb 203.0.113.1/24, MASQUERADE of
#                  UDP leaving vnb to ports 40000-40099 (so port_Uenc is
#                  never 4500: M.7.2 has to learn it)
# Foreign XFRM entries (reqid 7, as another key manager would leave them)
# are installed in A and B before anything runs and must be intact, and
# alone, at the end.  Every process is bounded by a timeout.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs run /run
mount -t hostfs none "$XG_WORK" -o "$XG_WORK"
OUT=$XG_WORK/out
mkdir -p "$OUT"
exec >"$OUT/guest.log" 2>&1
echo "guest kernel $(uname -r)"
RES=$OUT/guest-results
: >"$RES"
res() { echo "$*" >>"$RES"; }
step() { echo "-- $* ${EPOCHREALTIME:-}"; }

# Modules from the UML package's tree (see guest.sh), then autoloading off.
# shellcheck disable=SC2012
MODVER=$(ls /usr/lib/uml/modules | sort -V | tail -1)
mkdir -p /run/mr/lib/modules
ln -s "/usr/lib/uml/modules/$MODVER" "/run/mr/lib/modules/$(uname -r)"
modprobe -a -d /run/mr xfrm_user esp4 ipv6 esp6 authenc echainiv seqiv des_generic \
    cbc ecb hmac md5 sha1_generic aes_generic crypto_null drbg sha512_generic \
    ctr gf128mul ghash_generic gcm cryptomgr veth || echo "ERROR: modprobe -a: exit $?"
NAT=0
if [ "${XG_NAT:-0}" = 1 ]; then
    if modprobe -a -d /run/mr nf_conntrack nf_nat ip_tables iptable_nat xt_MASQUERADE xt_tcpudp; then
        NAT=1
    else
        echo "no NAT modules"
    fi
fi
echo >/proc/sys/kernel/modprobe
IPT=$(command -v iptables-legacy || true)
[ -n "$IPT" ] || NAT=0

step network
ip netns add A && ip netns add B && ip netns add N &&
    ip link add va netns A type veth peer name vb netns B &&
    ip link add van netns A type veth peer name vna netns N &&
    ip link add vnb netns N type veth peer name vbn netns B &&
    ip -n A addr add 192.0.2.20/24 dev va && ip -n A addr add 2001:db8:1::20/64 dev va nodad &&
    ip -n B addr add 192.0.2.10/24 dev vb && ip -n B addr add 2001:db8:1::10/64 dev vb nodad &&
    ip -n A addr add 198.51.100.20/24 dev van && ip -n N addr add 198.51.100.1/24 dev vna &&
    ip -n N addr add 203.0.113.1/24 dev vnb && ip -n B addr add 203.0.113.10/24 dev vbn &&
    ip -n A addr add 203.0.113.1/32 dev lo &&
    for n in A B N; do ip -n $n link set lo up; done &&
    ip -n A link set va up && ip -n A link set van up && ip -n B link set vb up &&
    ip -n B link set vbn up && ip -n N link set vna up && ip -n N link set vnb up &&
    ip -n A route add 203.0.113.0/24 via 198.51.100.1 ||
    echo "ERROR: network set-up failed"
if [ "$NAT" = 1 ]; then
    ip netns exec N sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' &&
        ip netns exec N "$IPT" -t nat -A POSTROUTING -o vnb -p udp -j MASQUERADE --to-ports 40000-40099 ||
        { echo "iptables MASQUERADE failed"; NAT=0; }
fi
echo "nat=$NAT" >"$OUT/nat"

# The foreign entries: an SA and a policy in each of A and B.
K40=000102030405060708090a0b0c0d0e0f10111213
K32=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
foreign() { # ns local peer
    ip -n "$1" xfrm state add src "$3" dst "$2" proto esp spi 0x00000bad reqid 7 mode transport \
        auth-trunc 'hmac(sha1)' 0x$K40 96 enc 'cbc(aes)' 0x$K32 &&
        ip -n "$1" xfrm policy add src "$2/32" dst "$3/32" proto udp dport 9 dir out \
            tmpl src "$2" dst "$3" proto esp reqid 7 mode transport
}
foreign A 192.0.2.20 192.0.2.99 && foreign B 192.0.2.10 192.0.2.98 || echo "ERROR: foreign entries"
ip -n A xfrm state >"$OUT/foreignA.before"
ip -n B xfrm state >"$OUT/foreignB.before"

step run
timeout -s KILL 150 "$XG_FLOW" run nat=$NAT all >"$OUT/run.out" 2>"$OUT/run.err"
echo "run exit $?"
ip -n A -s xfrm state >"$OUT/stateA.after-run" 2>&1
ip -n B -s xfrm state >"$OUT/stateB.after-run" 2>&1

step crash
rm -f "$OUT/crash.ready"
timeout -s KILL 60 "$XG_FLOW" crash "$OUT/crash.ready" >"$OUT/crash.out" 2>&1 &
cp=$!
for ((i = 0; i < 300; i++)); do
    [ -e "$OUT/crash.ready" ] && break
    kill -0 "$cp" 2>/dev/null || break
    sleep 0.1
done
if [ -e "$OUT/crash.ready" ]; then
    # the crash: SIGKILL, nothing runs after it (no table wipe, no close)
    kill -KILL "$cp"
    wait "$cp" 2>/dev/null
    na=$(ip -n A xfrm state | grep -c '^src')
    nb=$(ip -n B xfrm state | grep -c '^src')
    res "# after SIGKILL of the driver: ip xfrm state lists $na entries in A and $nb in B (ours + 1 foreign each)"
    ip -n A xfrm policy >"$OUT/policyA.after-crash"
    timeout -s KILL 60 "$XG_FLOW" restart >"$OUT/restart.out" 2>&1
    echo "restart exit $?"
else
    res "FAIL sa-xfrm crash-restart crash: the driver did not reach its crash point: $(tail -n 3 "$OUT/crash.out" | tr '\n' ' ')"
    kill -KILL "$cp" 2>/dev/null
    wait "$cp" 2>/dev/null
fi

step foreign
# Exactly the foreign entries are left: one SA (spi 0xbad, reqid 7) and one
# policy per namespace, unchanged.
for n in A B; do
    ip -n $n xfrm state >"$OUT/foreign$n.after"
    ip -n $n xfrm policy >"$OUT/policy$n.after"
    ns=$(grep -c '^src' "$OUT/foreign$n.after")
    np=$(grep -c '^src' "$OUT/policy$n.after")
    if [ "$ns" = 1 ] && [ "$np" = 1 ] && grep -q 'spi 0x00000bad reqid 7' "$OUT/foreign$n.after" &&
        cmp -s "$OUT/foreign$n.before" "$OUT/foreign$n.after" && grep -q 'dport 9' "$OUT/policy$n.after"; then
        res "PASS sa-xfrm all foreign-$n: after every scenario, the crash and flush_stale, namespace $n holds exactly the foreign SA (spi 0xbad, reqid 7, unchanged) and the foreign policy: nothing of ours, nothing of theirs touched"
    else
        res "FAIL sa-xfrm all foreign-$n: namespace $n holds $ns SAs and $np policies at the end (want exactly the foreign 1 + 1): $(tr '\n' ' ' <"$OUT/foreign$n.after" | head -c 300)"
    fi
done
ip netns del A
ip netns del B
ip netns del N
step end
echo GUEST-DONE >"$OUT/done"
sync
/bin/busybox poweroff -f
