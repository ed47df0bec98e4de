#!/usr/bin/env bash
# sa-xfrm.sh -- the Linux kernel as sa/'s data plane: xfrm/imssec_xfrm.c
# (build/libimssec_xfrm.a) behind imssec_sa_callbacks, in a User-Mode-Linux
# guest (issue 13, "Proof").  Run from the repo root by test/run.sh (every
# test/peer/*.sh) with BUILD=build; needs root.
#
#   1. host:  build build/libimssec.a and build/libimssec_xfrm.a (the
#             Makefile's targets), check the adapter is -Werror clean with
#             clang too, build the driver test/peer/kernel/xfrm_flow.c and
#             run its encoder checks (`xfrm_flow bytes`: the NEWSA / UPDSA /
#             NEWPOLICY requests against hand-derived bytes, no kernel).
#   2. guest: test/peer/kernel/xfrm_guest.sh (init) makes namespaces A (UE),
#             B (P-CSCF) and N (a NAT, iptables-legacy MASQUERADE, when the
#             host has iptables; installed with apt-get when missing), puts a
#             foreign SA and policy into A and B, and runs the driver ONCE
#             for every scenario: in one process, an sa/ table per side whose
#             data plane is the adapter (or, in the mixed runs, the built-in
#             esp/ engine over a raw / UDP socket), fed the registration
#             events, while the SIP messages go as real UDP datagrams and TCP
#             connections between the namespaces on the protected ports: the
#             kernels do the ESP.  Then the crash: the driver registers and is
#             SIGKILLed; a new one runs imssec_xfrm_flush_stale().
#   3. host:  prints the driver's and the guest's PASS / FAIL lines.
#
# Scenarios (xfrm_flow.c's catalogue): every suite of the library --
# hmac-sha-1-96/aes-cbc, hmac-md5-96/des-ede3-cbc, hmac-sha-1-96/null,
# null/aes-gcm, aes-gmac/null -- in transport mode over IPv4 and IPv6 and in
# UDP-encapsulated tunnel mode over IPv4 through the NAT (port_Uenc learned
# from the kernel's XFRM_MSG_MAPPING) and over IPv6 between the namespaces
# (no NAT66: UDP-enc-tun signalled, port_Uenc 4500 learned the same way);
# each: registration, MO and MT transactions over UDP (per-SA kernel
# counters: everything on UC_PS and PC_US, 7.1), two TCP connections (the
# responses on PS_UC / US_PC), a re-registration whose old set stays until
# its pending transaction ends, de-registration (nothing of ours left);
# after every step the kernels' SAs and policies read back equal the tables.
# Mixed runs (kernel on one end, esp/ on the other, both directions, both
# modes); a refused SA and a refused policy (EEXIST in err->sys_errno, the
# table unchanged); the crash and flush_stale; the foreign entries intact.
#
# Env: KEEP=1 keeps the work directory; the guest's files are also copied
# to $BUILD/peer/sa-xfrm/.
set -u
export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BABS=$BUILD ;; *) BABS=$ROOT/$BUILD ;; esac
CC=${CC:-cc}
T=sa-xfrm
t_start=$(date +%s)

skip_all() {
    echo "SKIP $T: $*"
    exit 0
}

[ "$(uname -s)" = Linux ] || skip_all "not Linux (the adapter needs <linux/xfrm.h>)"
[ "$(id -u)" = 0 ] || skip_all "needs root (xfrm and network namespaces inside the UML guest, hostfs)"
command -v linux.uml >/dev/null || skip_all "no linux.uml (Debian package user-mode-linux)"
[ -d /usr/lib/uml/modules ] || skip_all "no UML kernel modules in /usr/lib/uml/modules"
command -v ip >/dev/null || skip_all "no ip (iproute2)"
[ -x /bin/busybox ] || skip_all "no /bin/busybox (busybox-static; the guest powers off with it)"

# ---- build ---------------------------------------------------------------------
mkdir -p "$BUILD/peer"
if ! make -s BUILD="$BUILD" "$BUILD/libimssec.a" "$BUILD/libimssec_xfrm.a" >"$BUILD/peer/sa-xfrm-make.log" 2>&1; then
    echo "FAIL $T build: make $BUILD/libimssec_xfrm.a: $(grep -m1 -E 'error' "$BUILD/peer/sa-xfrm-make.log" | head -c 300)"
    exit 0
fi
if command -v clang >/dev/null; then
    if clang -std=c99 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -I. -fsyntax-only \
        xfrm/imssec_xfrm.c 2>"$BUILD/peer/sa-xfrm-clang.err"; then
        echo "PASS $T build: $BUILD/libimssec_xfrm.a built by make ($CC), xfrm/imssec_xfrm.c -std=c99 -Wall -Wextra -Wpedantic -Werror clean with clang too"
    else
        echo "FAIL $T build: clang: $(head -c 300 "$BUILD/peer/sa-xfrm-clang.err")"
    fi
fi
FLOW=$BABS/peer/xfrm_flow
# SAN=-fsanitize=address,undefined: the driver and the adapter's source
# compiled with it (the adapter then parses the real kernel's answers
# under the sanitizers)
ADAPTER="$BUILD/libimssec_xfrm.a"
if [ -n "${SAN:-}" ]; then
    ADAPTER=$BUILD/peer/imssec_xfrm-san.o
    # shellcheck disable=SC2086
    $CC -std=c99 -Wall -Wextra -Wpedantic -Werror -O1 -g $SAN -D_POSIX_C_SOURCE=200809L -I. \
        -c xfrm/imssec_xfrm.c -o "$ADAPTER" || { echo "FAIL $T build-san: the adapter with $SAN"; exit 0; }
fi
# shellcheck disable=SC2086
if ! $CC -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 ${SAN:-} ${MBEDTLS_CFLAGS:-} -I. -o "$FLOW" \
    test/peer/kernel/xfrm_flow.c $ADAPTER "$BUILD/libimssec.a" \
    ${MBEDTLS_LIBS:--lmbedcrypto} 2>"$BUILD/peer/xfrm_flow.err"; then
    echo "FAIL $T build-driver: $(head -c 400 "$BUILD/peer/xfrm_flow.err" | tr '\n' ' ')"
    exit 0
fi
"$FLOW" bytes

# ---- a NAT for Annex M: iptables-legacy in the guest (the host's /) -------------
NAT=0
if ! command -v iptables-legacy >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq \
        install --no-install-recommends iptables >/dev/null 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null 2>&1;
          DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq \
              install --no-install-recommends iptables >/dev/null 2>&1; }
fi
command -v iptables-legacy >/dev/null && NAT=1

# ---- the guest --------------------------------------------------------------------
. test/peer/kernel/uml.sh
uml_prepare sa-xfrm || skip_all "mktemp failed"

uml_run test/peer/kernel/xfrm_guest.sh 240 384M XG_WORK="$WORK" XG_FLOW="$FLOW" XG_NAT="$NAT" ||
    skip_all "the UML guest did not start (exit $urc): $(uml_console_tail)"
grep -q '^guest kernel' "$OUT/guest.log" && echo "# $(head -n1 "$OUT/guest.log"); $(cat "$OUT/nat" 2>/dev/null) (NAT namespace with MASQUERADE)"
[ -e "$OUT/done" ] || echo "FAIL $T guest: did not finish (exit $urc): $(tail -n 3 "$OUT/guest.log" | tr '\n' ' ')"
grep -q '^ERROR' "$OUT/guest.log" && echo "FAIL $T guest-setup: $(grep '^ERROR' "$OUT/guest.log" | head -n 3 | tr '\n' ' ')"
rm -rf "$BUILD/peer/sa-xfrm"
{ cp -r "$OUT" "$BUILD/peer/sa-xfrm"; } 2>/dev/null

# ---- results ------------------------------------------------------------------------
if [ -s "$OUT/run.out" ]; then
    grep -E '^(PASS|FAIL|SKIP|#) ' "$OUT/run.out"
    npass=$(grep -c '^PASS' "$OUT/run.out")
    [ "$npass" -gt 0 ] || echo "FAIL $T run: the driver reported no PASS"
    grep -q 'dereg-empty' "$OUT/run.out" || echo "FAIL $T run: no scenario reached de-registration"
else
    echo "FAIL $T run: the driver printed nothing: $(head -c 300 "$OUT/run.err" 2>/dev/null | tr '\n' ' ')"
fi
[ -s "$OUT/run.err" ] && echo "# driver stderr: $(head -c 300 "$OUT/run.err" | tr '\n' ' ')"
[ -s "$OUT/restart.out" ] && grep -E '^(PASS|FAIL|SKIP|#) ' "$OUT/restart.out"
[ -s "$OUT/restart.out" ] || grep -q 'FAIL .*crash' "$OUT/guest-results" 2>/dev/null ||
    echo "FAIL $T crash-restart: the restarted driver printed nothing"
[ -s "$OUT/guest-results" ] && cat "$OUT/guest-results"
echo "# $T took $(($(date +%s) - t_start)) s"
exit 0
