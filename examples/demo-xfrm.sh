#!/usr/bin/env bash
# demo-xfrm.sh -- `make demo MODE=xfrm` (as root): the demo with the Linux
# kernel's ESP as the data plane (issue 13), inside a User-Mode-Linux guest
# because the host kernel need not have ESP (the approach of
# test/peer/sa-xfrm.sh: the host's / over hostfs, read-only, so the
# host-built examples run in the guest unchanged).
#
#   bash examples/demo-xfrm.sh [--runs "xfrm ue-esp ue-xfrm xfrm-tcp"] [--transport tcp]
#                              [--demo-args "--net-dereg ..."] [--out DIR] [--no-build]
#
# --transport tcp: the runs xfrm-tcp ue-esp-tcp ue-xfrm-tcp (make demo MODE=xfrm
# TRANSPORT=tcp).  --demo-args: more examples/demo.sh options for every run
# (--net-dereg, --sync-failure, --wrong-key, --policy P, ...).
#
# In the guest, examples/demo.sh --mode transport runs each of:
#   xfrm     UE and P-CSCF both on the kernel's ESP (--dataplane xfrm)
#   ue-esp   mixed: the UE on the built-in esp/ engine, the P-CSCF on the
#            kernel (--ue-dataplane esp --pcscf-dataplane xfrm)
#   ue-xfrm  mixed the other way (--ue-dataplane xfrm --pcscf-dataplane esp)
#   RUN-tcp  any of these with SIP over TCP (kernel TCP on the kernel side,
#            the examples' own TCP inside the SAs on the esp/ side)
#   RUN6     any of these over IPv6 (--ipv6), e.g. xfrm6, xfrm-tcp6
#   foreign  the negative control (not in the default runs; ends FAILED by
#            design): as xfrm, but once the UE's first SAs are in the kernel
#            an SA with the adapter's tag that sa/ never made is added to the
#            UE's namespace with `ip xfrm state add`; the UE's next read-back
#            must say FAILED xfrm-match (and xfrm-none-left at exit)
# with the UE in one network namespace and the P-CSCF and the S-CSCF/HSS in
# another, joined by a veth pair.  Each side on the kernel prints after
# every change the SAs it reads back from the kernel (imssec_xfrm_list: what
# `ip xfrm state` shows) and whether they equal sa/'s table, and at the end
# that none of its SAs or policies is left.  Every run's ladder is printed
# and kept in DIR/<run>/ladder.txt (default build/demo-xfrm), with
# DIR/<run>/xfrm-after: `ip xfrm state` / `ip xfrm policy` of both
# namespaces once the programs ended (demo.sh checks nothing of ours is there).
# The last line is "VERIFIED: ..." (exit 0) or "FAILED: ..." (exit 1).
#
# Inside the guest this same script is init (DX_GUEST=1 on the kernel
# command line, which Linux passes to init as environment).
set -u
export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# ---- the guest (PID 1) -----------------------------------------------------------
if [ "${DX_GUEST:-0}" = 1 ]; then
    mount -t proc proc /proc
    mount -t sysfs sys /sys
    mount -t tmpfs run /run
    mount -t hostfs none "$DX_WORK" -o "$DX_WORK"
    OUT=$DX_WORK/out
    mkdir -p "$OUT"
    exec >"$OUT/guest.log" 2>&1
    echo "guest kernel $(uname -r)"
    # shellcheck disable=SC2012
    MODVER=$(ls /usr/lib/uml/modules | sort -V | tail -1)
    mkdir -p /run/mr/lib/modules
    ln -s "/usr/lib/uml/modules/$MODVER" "/run/mr/lib/modules/$(uname -r)"
    modprobe -a -d /run/mr xfrm_user esp4 ipv6 esp6 authenc echainiv seqiv des_generic \
        cbc ecb hmac md5 sha1_generic aes_generic crypto_null drbg sha512_generic \
        cryptomgr veth || echo "ERROR: modprobe -a: exit $?"
    echo >/proc/sys/kernel/modprobe
    cd "$DX_ROOT" || echo "ERROR: no $DX_ROOT"
    export TMPDIR=$DX_WORK BUILD=$DX_BUILD
    read -r -a more <"$DX_WORK/demo-args"
    for run in $(echo "$DX_RUNS" | tr ',' ' '); do
        # NAME[-tcp][6]: SIP over TCP, IPv6
        base=${run%6} extra=()
        [ "$base" != "$run" ] && extra+=(--ipv6)
        case $base in *-tcp) extra+=(--transport tcp) base=${base%-tcp} ;; *) extra+=(--transport udp) ;; esac
        inject=0
        [ "$base" = foreign ] && inject=1 base=xfrm
        case $base in
        xfrm) dp=(--dataplane xfrm) ;;
        ue-esp) dp=(--ue-dataplane esp --pcscf-dataplane xfrm) ;;
        ue-xfrm) dp=(--ue-dataplane xfrm --pcscf-dataplane esp) ;;
        *) echo "ERROR: unknown run $run"; continue ;;
        esac
        echo "-- run $run ${EPOCHREALTIME:-}"
        mkdir -p "$OUT/$run"
        ij=""
        if [ "$inject" = 1 ]; then
            # the negative control: once the UE's first SAs are in, an SA
            # with our tag that sa/ never made appears in the UE's namespace
            (
                for ((i = 0; i < 300; i++)); do
                    ns=$(ip netns list | awk '/^imssec-ue-/ {print $1; exit}')
                    [ -n "$ns" ] && ip -n "$ns" xfrm state 2>/dev/null | grep -q 'reqid 857747456 ' && break
                    sleep 0.1
                done
                ip -n "$ns" xfrm state add src 10.10.0.1 dst 10.10.0.2 proto esp spi 0x0badbad0 \
                    reqid 857747456 mode transport auth-trunc 'hmac(sha1)' \
                    0x000102030405060708090a0b0c0d0e0f10111213 96 enc 'cbc(aes)' \
                    0xa0a1a2a3a4a5a6a7a8a9aaabacadaeaf sel src 10.10.0.1 dst 10.10.0.2 &&
                    echo "injected spi 0x0badbad0 reqid 0x33203000 into $ns" >"$OUT/$run/injected"
            ) 2>"$OUT/$run/inject.err" &
            ij=$!
        fi
        timeout -s KILL 150 bash examples/demo.sh --no-build --mode transport \
            "${dp[@]}" "${extra[@]}" "${more[@]}" --timeout 60 --out "$OUT/$run" >"$OUT/$run/demo.out" 2>&1
        echo $? >"$OUT/$run/rc"
        [ -n "$ij" ] && { kill "$ij" 2>/dev/null; wait "$ij" 2>/dev/null; }
    done
    echo GUEST-DONE >"$OUT/done"
    sync
    /bin/busybox poweroff -f
fi

# ---- the host ----------------------------------------------------------------------
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BABS=$BUILD ;; *) BABS=$ROOT/$BUILD ;; esac
RUNS="xfrm ue-esp ue-xfrm xfrm-tcp" OUTDIR=$BUILD/demo-xfrm BUILD_IT=1 DEMO_EXTRA=""
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=${2:?}; shift ;;
    --demo-args) DEMO_EXTRA=${2:?}; shift ;;
    --transport)
        case ${2:?} in
        tcp) RUNS="xfrm-tcp ue-esp-tcp ue-xfrm-tcp" ;;
        udp) ;;
        *) echo "demo-xfrm.sh: --transport udp|tcp" >&2; exit 2 ;;
        esac
        shift ;;
    --out) OUTDIR=${2:?}; shift ;;
    --no-build) BUILD_IT=0 ;;
    -h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    *) echo "demo-xfrm.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
fail() { echo "FAILED: $*"; exit 1; }
[ "$(uname -s)" = Linux ] || fail "the kernel data plane needs Linux (XFRM)"
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces and XFRM inside the UML guest, hostfs); run as root"
command -v linux.uml >/dev/null || fail "no linux.uml (Debian package user-mode-linux)"
[ -d /usr/lib/uml/modules ] || fail "no UML kernel modules in /usr/lib/uml/modules"
command -v ip >/dev/null || fail "no ip (iproute2)"
[ -x /bin/busybox ] || fail "no /bin/busybox (busybox-static; the guest powers off with it)"

if [ "$BUILD_IT" = 1 ]; then
    make -s BUILD="$BUILD" examples "$BUILD/imssec" || fail "make examples"
fi
for p in ue pcscf scscf imssec; do
    [ -x "$BUILD/$p" ] || fail "$BUILD/$p was not built"
done

. test/peer/kernel/uml.sh
uml_prepare demo-xfrm || fail "mktemp"
# more demo.sh options for every run (a file: the kernel command line splits at spaces)
echo "$DEMO_EXTRA" >"$WORK/demo-args"
n_runs=$(echo $RUNS | wc -w)
echo "== imssec demo, kernel data plane (XFRM) in a User-Mode-Linux guest: runs $RUNS"
# one demo takes ~10-20 s in the guest; bounded
uml_run examples/demo-xfrm.sh $((60 + 150 * n_runs)) 384M DX_GUEST=1 DX_WORK="$WORK" DX_ROOT="$ROOT" \
    DX_BUILD="$BABS" DX_RUNS="$(echo $RUNS | tr ' ' ',')" ||
    fail "the UML guest did not start (exit $urc): $(uml_console_tail)"
grep '^ERROR' "$OUT/guest.log" && fail "guest set-up: $(grep '^ERROR' "$OUT/guest.log" | head -n 3 | tr '\n' ' ')"
[ -e "$OUT/done" ] || echo "# the guest did not finish: $(tail -n 3 "$OUT/guest.log" | tr '\n' ' ')"
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR" && cp -r "$OUT"/. "$OUTDIR"/

bad=""
summary=""
for run in $RUNS; do
    echo
    echo "======== run $run"
    if [ ! -s "$OUTDIR/$run/demo.out" ]; then
        bad="$bad $run(no output)"
        continue
    fi
    cat "$OUTDIR/$run/demo.out"
    rc=$(cat "$OUTDIR/$run/rc" 2>/dev/null || echo none)
    last=$(tail -n 1 "$OUTDIR/$run/demo.out")
    if [ "$rc" = 0 ] && [ "${last%%:*}" = VERIFIED ]; then
        summary="$summary $run"
    else
        bad="$bad $run(exit $rc: ${last:0:160})"
    fi
done
echo
if [ -z "$bad" ]; then
    echo "VERIFIED: kernel ESP demo runs$summary: each VERIFIED, the kernel's SAs equal sa/'s table after every step, none left after de-registration (ladders in $OUTDIR)"
    exit 0
fi
echo "FAILED:$bad (ladders in $OUTDIR)"
exit 1
