#!/usr/bin/env bash
# sa-kernel.sh -- IMS registration flows whose ESP is the Linux kernel's
# (XFRM), in a User-Mode-Linux guest (issue 14, "Proof").  Run from the repo
# root by test/run.sh (every test/peer/*.sh) with BUILD=build; needs root.
#
# The host kernel has no ESP, so, as in esp-kernel.sh, a UML guest kernel
# (Debian `user-mode-linux`) is booted ONCE with the host's / as its
# read-only root (hostfs); test/peer/kernel/guest-sa.sh is its init.  For
# every scenario it makes two fresh network namespaces joined by a veth pair:
#   A  the UE side,     192.0.2.20
#   B  the P-CSCF side, 192.0.2.10 (and the S-CSCF/HSS)
# Nothing reaches the host's network.
#
# The independent peers are test/peer/kernel/ims_peer.py (python3 +
# python3-cryptography, written from TS 33.203 / TS 35.206 / RFC 3310 / RFC
# 3329, not from imssec's code): each installs its four SAs and eight
# policies with `ip xfrm` (transport mode, Annex I keys, UDP and TCP port
# selectors, the SA's SPI in each policy template) and then speaks plain UDP
# on its protected ports, so the kernel does all the ESP.
#
# Scenarios:
#   kernel-ue-vs-kernel-pcscf   both roles of ims_peer.py, both kernels doing
#                               ESP: the self-check of the two peers
#   imssec-ue-vs-kernel-pcscf   build/ue (the library's UE, software ESP over
#                               a raw socket in A, which has no XFRM state)
#                               against the kernel P-CSCF
#   kernel-ue-vs-imssec-pcscf   the kernel UE against build/pcscf + build/scscf
#                               (software ESP over a raw socket in B)
# and each again as NAME-md5-3des, where the P-CSCF accepts only hmac-md5-96
# with des-ede3-cbc (the default list puts hmac-sha-1-96/aes-cbc first), so
# all four Annex I key expansions meet the kernel.  The imssec scenarios need
# the examples (build/ue, pcscf, scscf); when they do not build they print
# SKIP (never a PASS that was not checked).  The library's UE runs its whole
# scripted session; the kernel P-CSCF also answers its re-registration (7.4:
# new challenge over the current SAs, a second SA set with a new port_uc and
# port_pc) and de-registration, and the replayed ESP packet it sends must
# show up in the kernel's replay counter.
#
# Flow (TS 33.203 7.2, 6.1): REGISTER with Security-Client (unprotected) ->
# 401 with the AKA challenge and Security-Server -> both sides install the
# SAs -> protected REGISTER from port_uc to port_ps -> 200 OK from port_pc to
# port_us -> MO MESSAGE from port_uc, its 200 on port_us -> MT MESSAGE from
# port_pc to port_us, the UE's 200 from port_uc to port_ps (7.1 UDP case).
# Checks (besides each message's own): the kernel's per-SA packet counters
# (ip -s xfrm state): over UDP only UC_PS and PC_US carry packets, US_PC and
# PS_UC carry 0, each equals what the peer sent/received on that SA's port
# pair, and (our two peers' fixed flow) the exact counts 3 and 3 (4 and 4
# with the de-registration of kernel-ue-vs-imssec-pcscf).
#
# Env: KEEP=1 keeps the work directory.  The guest's files are also copied to
# $BUILD/peer/sa-kernel/ (replaced on every run).
set -u
export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BABS=$BUILD ;; *) BABS=$ROOT/$BUILD ;; esac
T=sa-kernel
S_SELF=kernel-ue-vs-kernel-pcscf
S_IUE=imssec-ue-vs-kernel-pcscf
S_IPC=kernel-ue-vs-imssec-pcscf

skip_all() {
    echo "SKIP $T: $*"
    exit 0
}

[ "$(id -u)" = 0 ] || skip_all "needs root (xfrm and network namespaces inside the UML guest, hostfs)"
command -v linux.uml >/dev/null || skip_all "no linux.uml (Debian package user-mode-linux)"
[ -d /usr/lib/uml/modules ] || skip_all "no UML kernel modules in /usr/lib/uml/modules"
command -v ip >/dev/null || skip_all "no ip (iproute2)"
[ -x /bin/busybox ] || skip_all "no /bin/busybox (busybox-static; the guest powers off with it)"
/usr/bin/python3 -c 'from cryptography.hazmat.primitives.ciphers import Cipher' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with the cryptography module (Debian python3-cryptography)"

. test/peer/kernel/uml.sh
uml_prepare sa-kernel || skip_all "mktemp failed"
t_start=$(date +%s)

# ---- the library's example programs ----------------------------------------
# The three programs of the Makefile's examples rule that the scenarios run
# (not minimal_ue); if they do not build (they are being rewritten), the two
# imssec scenarios are skipped.
EX_OK=0 EX_WHY=""
if make -s BUILD="$BUILD" "$BUILD/ue" "$BUILD/pcscf" "$BUILD/scscf" >"$WORK/make-examples.log" 2>&1; then
    for p in ue pcscf scscf; do
        [ -x "$BUILD/$p" ] || EX_WHY="$EX_WHY $BUILD/$p missing;"
    done
    [ -z "$EX_WHY" ] && EX_OK=1
else
    EX_WHY=$(grep -m1 -E 'error|Error' "$WORK/make-examples.log" | head -c 200)
    [ -n "$EX_WHY" ] || EX_WHY=$(head -n1 "$WORK/make-examples.log" | head -c 200)
fi

# The subscriber: TS 35.207 test set 1 K and OP (the examples' defaults too).
K=465b5ce8b199b49faa5f0a2ee238a6bc
OP=cdc202d5123e20f62b6d676ac72cb318
IMPI=alice@ims.example.net
REALM=ims.example.net
UE_IP=192.0.2.20
PC_IP=192.0.2.10

# The examples' command lines.  Option names from the usage strings of
# examples/ue.c, pcscf.c and scscf.c (they are being rewritten, so the mode
# option is taken from what `--help` prints: `--mode transport` in the
# current version, a bare `--transport` flag in the previous one):
#   ue:    --ip --private-ip --pcscf-ip --pcscf-port --k --op --impi --impu
#          --realm --timeout-ms (per answer) + transport-mode SAs with ESP over
#          a raw IP socket, no NAT (--private-ip equal to --ip), SIP over UDP
#   pcscf: --ip --port --scscf-ip --scscf-port --timeout-ms + transport mode
#   scscf: --listen-ip --port --k --op --impi --realm --timeout-ms
# If a rewrite renames them, the program prints its usage and the scenario
# FAILs showing it (adapt the arrays below).
mode_args() { # program -> its transport-mode options
    local u
    u=$("$1" --help 2>&1)
    case $u in
    *"--mode udp|transport"*) echo "--mode transport" ;;
    *"[--transport]"*) echo "--transport" ;;
    *) echo "--mode transport" ;;
    esac
    case $1:$u in *ue:*"--transport udp|tcp"*) echo "--transport udp" ;; esac
}
UE_MODE=() PC_MODE=()
if [ "$EX_OK" = 1 ]; then
    read -r -a UE_MODE <<<"$(mode_args "$BUILD/ue" | tr '\n' ' ')"
    read -r -a PC_MODE <<<"$(mode_args "$BUILD/pcscf" | tr '\n' ' ')"
fi
IMSSEC_UE=(--ip "$UE_IP" --private-ip "$UE_IP" --pcscf-ip "$PC_IP" --pcscf-port 5060 --k "$K" --op "$OP"
    --impi "$IMPI" --impu "sip:$IMPI" --realm "$REALM" --timeout-ms 3000 "${UE_MODE[@]}")
IMSSEC_PCSCF=(--ip "$PC_IP" --port 5060 --scscf-ip "$PC_IP" --scscf-port 5070 --timeout-ms 30000 "${PC_MODE[@]}")
IMSSEC_SCSCF=(--listen-ip "$PC_IP" --port 5070 --k "$K" --op "$OP" --impi "$IMPI" --realm "$REALM" --timeout-ms 30000)

# Each also as NAME-md5-3des: the P-CSCF accepts only hmac-md5-96 with
# des-ede3-cbc (the other Annex I key expansions).
ALL=("$S_SELF" "$S_IUE" "$S_IPC" "$S_SELF-md5-3des" "$S_IUE-md5-3des" "$S_IPC-md5-3des")
SCENS=("$S_SELF" "$S_SELF-md5-3des")
[ "$EX_OK" = 1 ] && SCENS+=("$S_IUE" "$S_IPC" "$S_IUE-md5-3des" "$S_IPC-md5-3des")
{
    printf 'SK_ROOT=%q\nSK_BUILD=%q\nSK_K=%q\nSK_OP=%q\nSK_IMPI=%q\n' "$ROOT" "$BABS" $K $OP $IMPI
    arr() { local n=$1; shift; printf '%s=(' "$n"; printf ' %q' "$@"; printf ' )\n'; }
    arr SCENS "${SCENS[@]}"
    arr IMSSEC_UE "${IMSSEC_UE[@]}"
    arr IMSSEC_PCSCF "${IMSSEC_PCSCF[@]}"
    arr IMSSEC_SCSCF "${IMSSEC_SCSCF[@]}"
} >"$WORK/env.sh"

# ---- run the guest -------------------------------------------------------------
uml_run test/peer/kernel/guest-sa.sh 100 384M SK_WORK="$WORK" ||
    skip_all "the UML guest did not start (exit $urc): $(uml_console_tail)"
grep -q '^guest kernel' "$OUT/guest.log" && echo "# $(head -n1 "$OUT/guest.log")"
[ -e "$OUT/done" ] || echo "FAIL $T guest: did not finish (exit $urc): $(tail -n 3 "$OUT/guest.log" | tr '\n' ' ')"
grep -q '^ERROR' "$OUT/guest.log" && echo "FAIL $T guest-setup: $(grep '^ERROR' "$OUT/guest.log" | head -n 3 | tr '\n' ' ')"
rm -rf "$BUILD/peer/sa-kernel"
{ mkdir -p "$BUILD/peer" && cp -r "$OUT" "$BUILD/peer/sa-kernel"; } 2>/dev/null

# ---- results ---------------------------------------------------------------------
# Our peers' own PASS/FAIL lines, their counter summaries, and a FAIL if one
# did not reach its end.
peer_lines() { # scenario role
    local f=$OUT/$1.$2.out
    if [ ! -s "$f" ]; then
        echo "FAIL $T $1 $2: ims_peer.py $2 printed nothing"
        return
    fi
    grep -E '^(PASS|FAIL|SKIP) |^# COUNTERS ' "$f"
    grep -q '^# END ' "$f" || echo "FAIL $T $1 $2: ims_peer.py $2 did not finish: $(grep -v '^PASS' "$f" | tail -n 2 | tr '\n' ' ' | head -c 300)"
}

# An example program's own verdicts: a PASS/FAIL line for each step of this
# flow that it must have verified, a FAIL for any other step it reports as
# FAILED, and a FAIL if it exited non-zero without saying why; the rest of
# its VERIFIED lines as comments.
example_steps() { # scenario name rc-file steps...
    local s=$1 name=$2 log=$OUT/$1.$2.log rcf=$3 st rc l
    shift 3
    if [ ! -s "$log" ]; then
        echo "FAIL $T $s $name: printed nothing"
        return
    fi
    if grep -q '^usage:' "$log"; then
        echo "FAIL $T $s $name: rejected its options (see the option arrays in sa-kernel.sh): $(grep -m1 -v '^usage' "$log" | head -c 200)"
        return
    fi
    for st in "$@"; do
        if grep -q "FAILED $st:" "$log"; then
            echo "FAIL $T $s $name $st: $(grep -m1 "FAILED $st:" "$log" | sed 's/.*FAILED //' | head -c 300)"
        elif grep -q "VERIFIED $st:" "$log"; then
            echo "PASS $T $s $name $st: $(grep -m1 "VERIFIED $st:" "$log" | sed 's/.*VERIFIED //' | head -c 300)"
        else
            echo "FAIL $T $s $name $st: no verdict for this step (see $BUILD/peer/sa-kernel/$s.$name.log)"
        fi
    done
    while IFS= read -r l; do
        st=${l#*FAILED }
        st=${st%%:*}
        case " $* " in *" $st "*) continue ;; esac
        echo "FAIL $T $s $name $st: ${l#*FAILED "$st": }"
    done < <(grep -E '(FAILED|NOTIMPL) [a-z0-9-]+:' "$log" | head -n 20)
    rc=$(sed -n 's/.* exit \([0-9]*\)$/\1/p' "$rcf" 2>/dev/null)
    if [ "${rc:-x}" != 0 ] && ! grep -qE '(FAILED|NOTIMPL) ' "$log"; then
        echo "FAIL $T $s $name exit: exit status ${rc:-unknown} ($(tail -n 1 "$log" | head -c 200))"
    fi
    grep -E 'VERIFIED ' "$log" | sed 's/^/#   /' | head -n 60
}

for s in "${ALL[@]}"; do
    base=${s%-md5-3des}
    if [ "$base" != "$S_SELF" ] && [ "$EX_OK" != 1 ]; then
        echo "SKIP $T $s: examples not built (make examples failed: ${EX_WHY:-?})"
        continue
    fi
    if [ ! -e "$OUT/$s.done" ]; then
        echo "FAIL $T $s: the scenario did not finish in the guest"
    fi
    case $base in
    "$S_SELF")
        peer_lines "$s" ue
        peer_lines "$s" pcscf
        ;;
    "$S_IUE")
        peer_lines "$s" pcscf
        echo "# $s: $(cat "$OUT/$s.imssec-ue.rc" 2>/dev/null)"
        example_steps "$s" imssec-ue "$OUT/$s.imssec-ue.rc" register ue-message network-message
        # The library's UE replays one ESP packet (anti-replay, RFC 4303
        # 3.4.3): the P-CSCF's kernel must have dropped it on UC_PS.
        if grep -qiE 'replay(ing|ed) ' "$OUT/$s.imssec-ue.log" 2>/dev/null; then
            c=$(grep '^# COUNTERS pcscf' "$OUT/$s.pcscf.out" | grep -o 'UC_PS:replay=[0-9]*' | awk -F= '{n += $2} END {print n + 0}')
            if [ "$c" = 1 ]; then
                echo "PASS $T $s kernel-replay-drop: the imssec UE replayed one ESP packet; the P-CSCF kernel dropped it (replay counter 1 on SA UC_PS, RFC 4303 3.4.3)"
            else
                echo "FAIL $T $s kernel-replay-drop: the imssec UE replayed one ESP packet; the P-CSCF kernel's UC_PS replay counters add up to $c (want 1)"
            fi
        fi
        ;;
    "$S_IPC")
        peer_lines "$s" ue
        echo "# $s: $(cat "$OUT/$s.imssec-pcscf.rc" "$OUT/$s.imssec-scscf.rc" 2>/dev/null | tr '\n' ' ')"
        example_steps "$s" imssec-pcscf "$OUT/$s.imssec-pcscf.rc" pcscf-negotiate pcscf-keys pcscf-security-verify \
            pcscf-security-client pcscf-protected-register pcscf-response-sa pcscf-dereg
        example_steps "$s" imssec-scscf "$OUT/$s.imssec-scscf.rc" scscf-auth network-message-answered
        ;;
    esac
done
echo "# $T took $(($(date +%s) - t_start)) s"
exit 0
