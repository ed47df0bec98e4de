#!/bin/bash
# guest.sh -- init (PID 1) of the User-Mode-Linux guest of test/peer/esp-kernel.sh.
#
# The guest's root is the host's / mounted read-only over hostfs, so host
# binaries (ip, kpeer) run here unchanged.  The host passes on the kernel
# command line (which Linux hands to init as environment):
#   KP_WORK   host work directory, mounted read-write over hostfs; holds
#             the files the host generated (below) and gets out/
#   KP_KPEER  path of the kpeer helper (test/peer/kernel/kpeer.c)
# Everything lives inside this guest kernel: two network namespaces A and B
# joined by a veth pair va/vb; no device reaches the host's network.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs run /run
mount -t hostfs none "$KP_WORK" -o "$KP_WORK"
OUT=$KP_WORK/out
mkdir -p "$OUT"
exec >"$OUT/guest.log" 2>&1
echo "guest kernel $(uname -r)"

# Kernel modules come from the UML package's tree, loaded with one modprobe
# (built-in ones are no-ops): the ESP transforms, the crypto templates (gcm
# brings rfc4106(gcm(aes)) and rfc4543(gcm(aes)), on ctr and ghash), and
# the RNG behind echainiv/seqiv (crypto-stdrng = drbg, which needs sha512;
# jitterentropy_rng fails its self-test in UML and is not needed).  Then
# module autoloading is switched off: otherwise every
# new algorithm combination makes the kernel exec modprobe twice (for names
# like crypto-authenc(hmac(md5),cbc(aes)) that no module has), which costs
# most of the guest's time; with it off the crypto manager builds the
# instances from the loaded templates at once.
MODVER=$(ls /usr/lib/uml/modules | sort -V | tail -1)
mkdir -p /run/mr/lib/modules
ln -s "/usr/lib/uml/modules/$MODVER" "/run/mr/lib/modules/$(uname -r)"
modprobe -a -d /run/mr xfrm_user esp4 ipv6 esp6 authenc authencesn echainiv seqiv des_generic \
    cbc ecb hmac md5 sha1_generic aes_generic crypto_null drbg sha512_generic \
    ctr gf128mul ghash_generic gcm \
    cryptomgr veth || echo "ERROR: modprobe -a: exit $?"
echo >/proc/sys/kernel/modprobe

# Few processes: each exec is slow in UML (and slower on a loaded host), so
# the host has generated batch files and one plan for everything:
#   netA/netB.batch    addresses, links up, static neighbours, routes
#   xfrmA/xfrmB.batch  every scenario's SAs and policies (distinct addresses
#                      per scenario, so all can coexist)
#   run.plan           for kpeer run (kernel sends, captures, injections)
MAC_A=02:00:00:00:00:0a
MAC_B=02:00:00:00:00:0b
step() { echo "-- $* ${EPOCHREALTIME:-}"; }
step setup
ip netns add A && ip netns add B &&
    ip link add va netns A address $MAC_A type veth peer name vb netns B address $MAC_B &&
    ip -n A -batch "$KP_WORK/netA.batch" && ip -n B -batch "$KP_WORK/netB.batch" &&
    ip -n A -batch "$KP_WORK/xfrmA.batch" && ip -n B -batch "$KP_WORK/xfrmB.batch" ||
    echo "ERROR: setup failed"
step run
timeout 200 "$KP_KPEER" run A B va vb $MAC_B "$KP_WORK/run.plan" >"$OUT/run.out" 2>"$OUT/run.err"
echo "kpeer exit $?"
step counters
ip -n B -s xfrm state >"$OUT/stateB" 2>&1
ip -n A -s xfrm state >"$OUT/stateA" 2>&1
ip netns exec B cat /proc/net/xfrm_stat >"$OUT/xfrm_statB" 2>&1
ip netns del A
ip netns del B
step end
echo GUEST-DONE >"$OUT/done"
sync
/bin/busybox poweroff -f
