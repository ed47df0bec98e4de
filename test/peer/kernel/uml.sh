# uml.sh -- sourced (not run) by the scripts that boot a User-Mode-Linux
# guest as a real Linux-kernel peer: test/peer/esp-kernel.sh,
# test/peer/sa-kernel.sh, test/peer/sa-xfrm.sh and examples/demo-xfrm.sh.
# The host kernel of these machines has no ESP; the UML guest's has, and it
# sees the host's file system read-only through hostfs (see
# ../shared/tools/kernel-esp-reference.sh).
#
#   uml_prepare NAME   WORK = a fresh directory with WORK/out, UMID, and an
#                      EXIT trap that ends the guest and removes both (KEEP=1
#                      keeps WORK); 1 if no directory could be made
#   uml_run INIT SECONDS MEM [VAR=VALUE...]
#                      boot the guest with the script INIT as its PID 1 (and
#                      the VAR=VALUE words in its environment), at most
#                      SECONDS, MEM of memory; sets urc (its exit status) and
#                      OUT=WORK/out; returns 0 if the guest started (INIT
#                      wrote OUT/guest.log), else 1 (uml_console_tail says why)
uml_prepare() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/imssec-$1.XXXXXX") || return 1
    chmod 755 "$WORK"
    mkdir -p "$WORK/out"
    UMID=imssec-$1-$$
    UML_PID=""
    trap uml_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}

uml_cleanup() {
    if [ -n "$UML_PID" ]; then
        kill -TERM -- "-$UML_PID" 2>/dev/null
        sleep 0.5
        kill -KILL -- "-$UML_PID" 2>/dev/null
    fi
    rm -rf "${HOME:-/root}/.uml/$UMID"
    if [ "${KEEP:-0}" = 1 ]; then echo "# work dir kept: $WORK"; else rm -rf "$WORK"; fi
}

uml_run() {
    local init=$1 seconds=$2 mem=$3 t0
    shift 3
    # the guest's init, executable whatever the checkout's file modes
    cp "$init" "$WORK/init.sh" && chmod 755 "$WORK/init.sh"
    t0=$(date +%s)
    # its own session / process group, so that uml_cleanup ends UML's
    # helper processes too
    TMPDIR=$WORK setsid timeout -k 5 "$seconds" linux.uml mem="$mem" umid="$UMID" \
        root=/dev/root rootfstype=hostfs rootflags=/ ro quiet init="$WORK/init.sh" "$@" \
        con0=null,fd:1 con=null </dev/null >"$WORK/console" 2>&1 &
    UML_PID=$!
    wait "$UML_PID"
    urc=$?
    UML_PID=""
    OUT=$WORK/out
    echo "# UML guest ran $(($(date +%s) - t0)) s (exit $urc)"
    [ -s "$OUT/guest.log" ]
}

uml_console_tail() {
    tr -d '\r' <"$WORK/console" | tail -n 3 | tr '\n' ' '
}
