#!/usr/bin/env bash
# examples-help.sh -- every option build/ue, build/pcscf and build/scscf
# accept (their known[] lists) is explained in their --help (issue 13: "--help
# documents each"), and an unknown option is refused with the usage and
# exit status 2.  Prints PASS/FAIL lines; always exits 0.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
if ! out=$(make -s BUILD="$BUILD" examples 2>&1); then
    echo "FAIL examples-help-build: $(echo "$out" | grep -m1 -E 'error|undefined' || echo "$out" | tail -n 1)"
    exit 0
fi
for p in ue pcscf scscf; do
    help=$("$BUILD/$p" --help 2>&1)
    rc=$?
    # the option names from the program's known[] list ('!' marks a flag)
    opts=$(sed -n '/known\[\] = {/,/};/p' "examples/$p.c" | grep -o '"[a-z0-9-]*!\{0,1\}"' | tr -d '"!')
    miss=""
    n=0
    for o in $opts; do
        n=$((n + 1))
        # an explanation line: "  --o ..." or "  --a, --o ..."
        echo "$help" | grep -qE -- "^ +(--[a-z0-9-]+, )*--$o( |,|$)" || miss="$miss --$o"
    done
    if [ "$rc" = 0 ] && [ "$n" -gt 5 ] && [ -z "$miss" ]; then
        echo "PASS examples-help-$p: --help explains all $n options"
    else
        echo "FAIL examples-help-$p: --help exit $rc, $n options, not explained:$miss"
    fi
    "$BUILD/$p" --no-such-option >/dev/null 2>&1
    rc=$?
    bad=$("$BUILD/$p" --no-such-option 2>&1 | head -n 1)
    if [ "$rc" = 2 ] && [ "${bad#usage: $p }" != "$bad" ]; then
        echo "PASS examples-help-$p-unknown: an unknown option prints the usage, exit 2"
    else
        echo "FAIL examples-help-$p-unknown: exit $rc, first line \"$bad\""
    fi
done
exit 0
