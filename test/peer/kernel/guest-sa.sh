#!/bin/bash
# guest-sa.sh -- init (PID 1) of the User-Mode-Linux guest of
# test/peer/sa-kernel.sh (the same approach as guest.sh for esp-kernel.sh).
#
# The guest's root is the host's / over hostfs (read-only), so python3, ip and
# the example programs run here unchanged.  The host passes SK_WORK (its work
# directory, mounted read-write; gets out/) on the kernel command line (Linux
# hands it to init as environment) and writes SK_WORK/env.sh, sourced here:
#   SK_ROOT   the repository (ims_peer.py)
#   SK_BUILD  absolute build directory (ue, pcscf, scscf when built)
#   SCENS     array: the scenarios to run
#   SK_K, SK_OP, SK_IMPI  the subscriber (both sides)
#   IMSSEC_UE, IMSSEC_PCSCF, IMSSEC_SCSCF  arrays: the example programs'
#             options (see sa-kernel.sh)
# Every scenario gets fresh network namespaces A (UE side, 192.0.2.20) and B
# (P-CSCF side, 192.0.2.10) joined by a veth pair va/vb; nothing reaches the
# host's network.  Every process is bounded by a timeout.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs run /run
mount -t hostfs none "$SK_WORK" -o "$SK_WORK"
OUT=$SK_WORK/out
mkdir -p "$OUT"
exec >"$OUT/guest.log" 2>&1
echo "guest kernel $(uname -r)"
# shellcheck disable=SC1091
. "$SK_WORK/env.sh"

# Modules from the UML package's tree in one modprobe (see guest.sh), then
# autoloading off so the crypto manager does not exec modprobe per algorithm.
# shellcheck disable=SC2012
MODVER=$(ls /usr/lib/uml/modules | sort -V | tail -1)
mkdir -p /run/mr/lib/modules
ln -s "/usr/lib/uml/modules/$MODVER" "/run/mr/lib/modules/$(uname -r)"
modprobe -a -d /run/mr xfrm_user esp4 ipv6 esp6 authenc echainiv seqiv des_generic \
    cbc ecb hmac md5 sha1_generic aes_generic crypto_null drbg sha512_generic \
    cryptomgr veth || echo "ERROR: modprobe -a: exit $?"
echo >/proc/sys/kernel/modprobe

PY=/usr/bin/python3
PEER=$SK_ROOT/test/peer/kernel/ims_peer.py
UE_IP=192.0.2.20
PC_IP=192.0.2.10
SUB=(--k "$SK_K" --op "$SK_OP" --impi "$SK_IMPI")
step() { echo "-- $* ${EPOCHREALTIME:-}"; }

netns_up() {
    ip netns del A 2>/dev/null
    ip netns del B 2>/dev/null
    ip netns add A && ip netns add B &&
        ip link add va netns A type veth peer name vb netns B &&
        ip -n A addr add $UE_IP/24 dev va && ip -n B addr add $PC_IP/24 dev vb &&
        ip -n A link set va mtu 9000 up && ip -n B link set vb mtu 9000 up &&
        ip -n A link set lo up && ip -n B link set lo up
}

wait_file() { # FILE TENTHS
    local i
    for ((i = 0; i < $2; i++)); do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# end PID within TENTHS tenths of a second, else SIGTERM, then SIGKILL
end_proc() {
    local pid=$1 i
    for ((i = 0; i < $2; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; return; }
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; return; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
}

for s in "${SCENS[@]}"; do
    step "scenario $s"
    if ! netns_up; then
        echo "ERROR: $s: network namespaces"
        continue
    fi
    T="sa-kernel $s"
    # NAME-md5-3des: the P-CSCF's only acceptable pair is hmac-md5-96 with
    # des-ede3-cbc (Annex I: IK as is, CK1 || CK2 || CK1); otherwise its
    # default list, hmac-sha-1-96/aes-cbc first (IK || 32 zero bits, CK)
    case $s in
    *-md5-3des) POL=(--policy hmac-md5-96/des-ede3-cbc) base=${s%-md5-3des} ;;
    *) POL=() base=$s ;;
    esac
    case $base in
    kernel-ue-vs-kernel-pcscf)
        # both peers ours, both kernels doing ESP: the self-check
        ip netns exec B timeout -s TERM 60 $PY "$PEER" pcscf --ip $PC_IP --strict --tag "$T" "${POL[@]}" \
            --ready "$OUT/$s.ready" --timeout 50 "${SUB[@]}" >"$OUT/$s.pcscf.out" 2>&1 &
        pc=$!
        wait_file "$OUT/$s.ready" 150 || echo "ERROR: $s: the P-CSCF did not get ready"
        ip netns exec A timeout -s TERM 60 $PY "$PEER" ue --ip $UE_IP --pcscf-ip $PC_IP --strict \
            --tag "$T" --timeout 20 "${SUB[@]}" >"$OUT/$s.ue.out" 2>&1
        end_proc "$pc" 100
        ;;
    imssec-ue-vs-kernel-pcscf)
        # the library's UE (software ESP over a raw socket in A, which has no
        # XFRM state) against our P-CSCF (kernel ESP in B)
        ip netns exec B timeout -s TERM 90 $PY "$PEER" pcscf --ip $PC_IP --serve --tag "$T" "${POL[@]}" \
            --ready "$OUT/$s.ready" --timeout 80 "${SUB[@]}" >"$OUT/$s.pcscf.out" 2>&1 &
        pc=$!
        wait_file "$OUT/$s.ready" 150 || echo "ERROR: $s: the P-CSCF did not get ready"
        ip netns exec A timeout -s TERM 60 "$SK_BUILD/ue" "${IMSSEC_UE[@]}" >"$OUT/$s.imssec-ue.log" 2>&1
        echo "imssec ue exit $?" >"$OUT/$s.imssec-ue.rc"
        kill -TERM "$pc" 2>/dev/null   # the P-CSCF then checks its counters
        end_proc "$pc" 100
        ;;
    kernel-ue-vs-imssec-pcscf)
        # our UE (kernel ESP in A) against the library's P-CSCF and S-CSCF
        # (software ESP over a raw socket in B, which has no XFRM state)
        ip netns exec B timeout -s TERM 60 "$SK_BUILD/scscf" "${IMSSEC_SCSCF[@]}" >"$OUT/$s.imssec-scscf.log" 2>&1 &
        sc=$!
        sleep 0.5
        ip netns exec B timeout -s TERM 60 "$SK_BUILD/pcscf" "${IMSSEC_PCSCF[@]}" "${POL[@]}" >"$OUT/$s.imssec-pcscf.log" 2>&1 &
        pc=$!
        sleep 1
        if ! kill -0 "$pc" 2>/dev/null || ! kill -0 "$sc" 2>/dev/null; then
            { echo "FAIL $T ue: the imssec P-CSCF or S-CSCF exited before the UE started"; echo "# END ue"; } \
                >"$OUT/$s.ue.out"
        else
            ip netns exec A timeout -s TERM 60 $PY "$PEER" ue --ip $UE_IP --pcscf-ip $PC_IP --strict --dereg \
                --tag "$T" --timeout 20 "${SUB[@]}" >"$OUT/$s.ue.out" 2>&1
        fi
        end_proc "$pc" 30
        echo "imssec pcscf exit $?" >"$OUT/$s.imssec-pcscf.rc"
        end_proc "$sc" 30
        echo "imssec scscf exit $?" >"$OUT/$s.imssec-scscf.rc"
        ;;
    *)
        echo "ERROR: unknown scenario $s"
        ;;
    esac
    ip -n A -s xfrm state >"$OUT/$s.stateA" 2>&1
    ip -n B -s xfrm state >"$OUT/$s.stateB" 2>&1
    ip netns exec A cat /proc/net/xfrm_stat >"$OUT/$s.xfrm_statA" 2>&1
    ip netns exec B cat /proc/net/xfrm_stat >"$OUT/$s.xfrm_statB" 2>&1
    ip netns del A
    ip netns del B
    echo finished >"$OUT/$s.done"
done
step end
echo GUEST-DONE >"$OUT/done"
sync
/bin/busybox poweroff -f
