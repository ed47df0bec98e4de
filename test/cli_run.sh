#!/usr/bin/env bash
# cli_run.sh FILE.t ... -- golden tests of build/imssec (cram-like).
#
# A case is a line "$ <command>" (run by sh from the repo root), optionally a
# line "? N" (expected exit status, default 0), then the exact expected
# stdout lines.  A blank line or a line starting with '#' ends the case.
# Prints one PASS/FAIL line per case.
set -u
status=0
for file in "$@"; do
    cmd="" want="" code=0 line=0 start=0
    run_case() {
        [ -n "$cmd" ] || return 0
        local got rc name
        got=$(sh -c "$cmd" 2>/tmp/cli_run_err.$$)
        rc=$?
        name="$(basename "$file"):$start ${cmd:0:70}"
        if [ "$rc" != "$code" ]; then
            echo "FAIL $name: exit $rc, want $code ($(head -c 200 /tmp/cli_run_err.$$))"
            status=1
        elif [ -n "$want" ] && [ "$got" != "$want" ]; then
            echo "FAIL $name: output differs"
            diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -n 20 | sed 's/^/    /'
            status=1
        elif [ -z "$want" ] && [ "$code" = 0 ] && [ -n "$got" ]; then
            echo "FAIL $name: case has no expected output"
            status=1
        else
            echo "PASS $name"
        fi
        rm -f /tmp/cli_run_err.$$
        cmd="" want="" code=0
    }
    while IFS= read -r l || [ -n "$l" ]; do
        line=$((line + 1))
        case $l in
        '$ '*) run_case; cmd=${l:2}; start=$line ;;
        '? '*) [ -n "$cmd" ] && [ -z "$want" ] && code=${l:2} ;;
        '' | '#'*) run_case ;;
        *) if [ -n "$cmd" ]; then want="${want:+$want
}$l"; fi ;;
        esac
    done < "$file"
    run_case
done
exit $status
