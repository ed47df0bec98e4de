#!/usr/bin/env bash
# run.sh -- everything `make test` runs, in this order:
#   1. dependencies (test/deps.sh test)
#   2. the default build (gcc -O2, system mbedTLS 2.28): library, .so, CLI
#   3. linkage checks on the library object: only imssec_ symbols exported;
#      no allocator, stdio, clock or RNG referenced
#   4. the matrix: {gcc, clang} x {ASan+UBSan, -O2} x {mbedTLS 2.28, 3.6},
#      each running the unit/vector tests and replaying every fuzz corpus;
#      the examples built with clang against both mbedTLS (gcc: in step 6);
#      valgrind over the default cell; -m32 (run under qemu-i386); the dist
#      two-file drop; the reduced configurations
#   5. CLI golden files (test/cli/*.t)
#   6. real-peer and long tests (test/peer/*.sh): run once, default build
#
# Every check prints PASS, FAIL or SKIP (with the reason).  A skipped check is
# never counted as passed.  The last line is "N passed, N failed, N skipped";
# the exit status is non-zero when anything failed.
#
# Environment: IMSSEC_QUICK=1 runs only the default cell, CLI and peer tests;
# IMSSEC_PEER=pattern selects peer scripts (default all).
set -u
cd "$(dirname "$0")/.."
export LC_ALL=C
T0=$(date +%s)
PASSED=0 FAILED=0 SKIPPED=0
LOG=build/test-logs
FAILS=()

pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); FAILS+=("$1"); echo "FAIL $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "SKIP $*"; }
section() { echo; echo "== $* ($(($(date +%s) - T0)) s)"; }

# Count PASS/FAIL/SKIP lines of a sub-runner's output.
absorb() { # name < output
    local l
    while IFS= read -r l; do
        case $l in
        PASS\ *) PASSED=$((PASSED + 1)); [ -n "${VERBOSE:-}" ] && echo "$l" ;;
        FAIL\ *) FAILED=$((FAILED + 1)); FAILS+=("$1: ${l#FAIL }"); echo "$l" ;;
        SKIP\ *) SKIPPED=$((SKIPPED + 1)); echo "$l" ;;
        *) [ -n "${VERBOSE:-}" ] && echo "$l" ;;
        esac
    done
    return 0
}

finish() {
    section "summary"
    [ ${#FAILS[@]} -gt 0 ] && printf 'failed: %s\n' "${FAILS[@]}"
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
    [ "$FAILED" = 0 ]
    exit $?
}

section "dependencies"
if ! bash test/deps.sh test; then
    fail "dependencies: see the error above"
    finish
fi
mkdir -p "$LOG"

MB3=build/deps/mbedtls-3.6/usr
MB3_CFLAGS="-I$MB3/include"
MB3_LIBS="$MB3/lib/x86_64-linux-gnu/libmbedcrypto.a"
MB386=build/deps/mbedtls-i386/usr
ASAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

section "default build"
if make -s -j2 all >"$LOG/build.log" 2>&1; then
    pass "build: gcc -O2, mbedTLS $(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' /usr/include/mbedtls/version.h)"
else
    fail "build: see $LOG/build.log"; cat "$LOG/build.log"; finish
fi

section "linkage"
# Everything outside imssec.h has internal linkage.
extra=$(nm -g --defined-only build/imssec.o | awk '{print $3}' | grep -v '^imssec_')
if [ -z "$extra" ]; then pass "symbols: only imssec_ names are global"
else fail "symbols: non-imssec_ globals: $(echo $extra)"; fi
# The library calls no allocator, no stdio, no clock and no RNG of its own.
bad=$(nm -u build/imssec.o | awk '{print $2}' | grep -E '^(malloc|calloc|realloc|free|printf|fprintf|sprintf|snprintf|vsnprintf|puts|fputs|putchar|fwrite|fopen|time|clock_gettime|gettimeofday|rand|random|getrandom|abort|exit)$')
if [ -z "$bad" ]; then pass "no-malloc/no-stdio: library references none of malloc/free/printf/time/rand"
else fail "no-malloc/no-stdio: references $(echo $bad)"; fi
if readelf -d build/libimssec.so | grep -q 'SONAME.*libimssec.so.0'; then pass "shared library has soname libimssec.so.0"
else fail "shared library soname missing"; fi

# cell NAME MAKEVARS... -- build the unit binary and replays, run them.
# The runner for the cell may be overridden with RUNNER (valgrind, qemu).
cell() {
    local name=$1; shift
    local tb="build/t/$name" out rc
    if ! make -s -j2 unit TB="$tb" "$@" >"$LOG/$name.build.log" 2>&1; then
        fail "cell $name: build failed (see $LOG/$name.build.log)"
        tail -n 15 "$LOG/$name.build.log"
        return
    fi
    out=$(${RUNNER:-} "$tb/test_unit" -q 2>&1); rc=$?
    echo "$out" >"$LOG/$name.unit.log"
    local summary
    summary=$(echo "$out" | tail -n 1)
    if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        PASSED=$((PASSED + BASH_REMATCH[1]))
        FAILED=$((FAILED + BASH_REMATCH[2]))
        SKIPPED=$((SKIPPED + BASH_REMATCH[3]))
        [ "${BASH_REMATCH[2]}" != 0 ] && FAILS+=("cell $name: ${BASH_REMATCH[2]} unit tests")
        echo "$out" | grep -E '^(FAIL|  )' | head -n 40
        # every skip with its reason, on screen (a skip is never a pass)
        echo "$out" | sed -n 's/^skip \(.*\)$/  skipped in '"$name"': \1/p'
        [ "$rc" != 0 ] && [ "${BASH_REMATCH[2]}" = 0 ] && fail "cell $name: exit $rc with no failed test (sanitizer or leak report; see $LOG/$name.unit.log)"
        echo "cell $name: $summary"
    else
        fail "cell $name: test binary died (exit $rc); see $LOG/$name.unit.log"
        echo "$out" | tail -n 30
    fi
    local f t
    for f in test/fuzz/fuzz_*.c; do
        [ -e "$f" ] || continue
        t=$(basename "$f" .c); t=${t#fuzz_}
        if [ ! -d "test/fuzz/corpus/$t" ]; then
            fail "cell $name: corpus $t: no seed corpus"
            continue
        fi
        if out=$(${RUNNER:-} "$tb/replay_$t" "test/fuzz/corpus/$t" 2>&1); then
            pass "cell $name: corpus $t: $(echo "$out" | tail -n 1)"
        else
            fail "cell $name: corpus $t replay failed"; echo "$out" | tail -n 20
        fi
    done
}

# examples_build NAME MAKEVARS...: `make examples` (-Werror) in build/t/examples-NAME.
examples_build() {
    local name=$1; shift
    if make -s -j2 examples BUILD="build/t/examples-$name" "$@" >"$LOG/examples-$name.log" 2>&1; then
        pass "examples: build ($name)"
    else
        fail "examples: build ($name) failed (see $LOG/examples-$name.log)"
        tail -n 15 "$LOG/examples-$name.log"
    fi
}

section "matrix"
MB2=(MBEDTLS_CFLAGS= MBEDTLS_LIBS=-lmbedcrypto)
MB3V=(MBEDTLS_CFLAGS="$MB3_CFLAGS" MBEDTLS_LIBS="$MB3_LIBS")
cell gcc-O2-mbedtls2 CC=gcc OPT="-O2 -g" "${MB2[@]}"
if [ -z "${IMSSEC_QUICK:-}" ]; then
    cell gcc-asan-mbedtls2 CC=gcc OPT="-O1 -g" SAN="$ASAN" "${MB2[@]}"
    cell clang-O2-mbedtls2 CC=clang OPT="-O2 -g" "${MB2[@]}"
    cell clang-asan-mbedtls2 CC=clang OPT="-O1 -g" SAN="$ASAN" "${MB2[@]}"
    examples_build clang-mbedtls2 CC=clang "${MB2[@]}"
    if [ -f "$MB3_LIBS" ]; then
        cell gcc-O2-mbedtls3 CC=gcc OPT="-O2 -g" "${MB3V[@]}"
        cell gcc-asan-mbedtls3 CC=gcc OPT="-O1 -g" SAN="$ASAN" "${MB3V[@]}"
        cell clang-O2-mbedtls3 CC=clang OPT="-O2 -g" "${MB3V[@]}"
        cell clang-asan-mbedtls3 CC=clang OPT="-O1 -g" SAN="$ASAN" "${MB3V[@]}"
        # the examples link mbedTLS's TLS and X.509 too (examples/tls_link.c)
        examples_build clang-mbedtls3 CC=clang "${MB3V[@]}" \
            MBEDTLS_TLS_LIBS="$MB3/lib/x86_64-linux-gnu/libmbedtls.a $MB3/lib/x86_64-linux-gnu/libmbedx509.a"
    else
        fail "matrix: mbedTLS 3.6 was not fetched (test/deps.sh), its four cells did not run"
    fi

    section "valgrind (default cell)"
    RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
        cell valgrind CC=gcc OPT="-O2 -g" "${MB2[@]}"

    section "-m32"
    if [ -f "$MB386/lib/i386-linux-gnu/libmbedcrypto.a" ] && command -v qemu-i386 >/dev/null; then
        RUNNER=qemu-i386 cell m32-gcc CC=gcc OPT="-O2 -g -m32" MBEDTLS_CFLAGS= \
            MBEDTLS_LIBS="$MB386/lib/i386-linux-gnu/libmbedcrypto.a"
    else
        fail "-m32: i386 mbedTLS or qemu-i386 missing (test/deps.sh)"
    fi

    section "dist"
    if make -s dist >"$LOG/dist.log" 2>&1 && [ -s dist/imssec.c ] && cmp -s dist/imssec.h imssec.h; then
        if grep -q '^#include "\(core\|aka\|secagree\|esp\|sa\|media\)/' dist/imssec.c; then
            fail "dist: dist/imssec.c still includes module files"
        else
            pass "dist: dist/imssec.c is self-contained ($(wc -l < dist/imssec.c) lines)"
        fi
        # The drop compiles on its own from a directory holding only the two files.
        rm -rf build/dist-alone && mkdir -p build/dist-alone && cp dist/imssec.c dist/imssec.h build/dist-alone/
        if (cd build/dist-alone && gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -c imssec.c) >"$LOG/dist-alone.log" 2>&1; then
            pass "dist: the two files compile alone"
        else
            fail "dist: the two files do not compile alone (see $LOG/dist-alone.log)"
        fi
        cell dist-gcc-O2 CC=gcc OPT="-O2 -g" IMSSEC_SRC=dist/imssec.c "${MB2[@]}"
        cell dist-clang-asan-mbedtls3 CC=clang OPT="-O1 -g" SAN="$ASAN" IMSSEC_SRC=dist/imssec.c "${MB3V[@]}"
    else
        fail "dist: make dist failed (see $LOG/dist.log)"
    fi

    section "configurations"
    for cfg in test/configs/cfg_*.h; do
        [ -e "$cfg" ] || continue
        n=$(basename "$cfg" .h)
        cell "$n" CC=gcc OPT="-O2 -g" EXTRA_CFLAGS="-DIMSSEC_CONFIG_FILE='\"$PWD/$cfg\"'" "${MB2[@]}"
    done
    for cfg in test/configs/bad_*.h; do
        [ -e "$cfg" ] || continue
        if gcc -std=c99 -c -o /dev/null -DIMSSEC_CONFIG_FILE="\"$PWD/$cfg\"" imssec.c >"$LOG/$(basename "$cfg").log" 2>&1; then
            fail "config $(basename "$cfg"): an impossible combination compiled"
        elif grep -q '#error' "$LOG/$(basename "$cfg").log"; then
            pass "config $(basename "$cfg"): rejected by #error"
        else
            fail "config $(basename "$cfg"): failed, but not by #error (see $LOG/$(basename "$cfg").log)"
        fi
    done
fi

section "install and fuzz builds"
rm -rf build/install-test
if make -s install DESTDIR="$PWD/build/install-test" PREFIX=/usr >"$LOG/install.log" 2>&1 &&
    [ -f build/install-test/usr/include/imssec.h ] && [ -x build/install-test/usr/bin/imssec ] &&
    [ -f build/install-test/usr/lib/libimssec.a ] && [ -L build/install-test/usr/lib/libimssec.so ]; then
    # a program built only from what was installed, found through pkg-config
    printf '#include <imssec.h>\n#include <stdio.h>\nint main(void){puts(imssec_version());return 0;}\n' >build/install-test/t.c
    pc="PKG_CONFIG_PATH=$PWD/build/install-test/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$PWD/build/install-test"
    if cflags=$(env $pc pkg-config --cflags imssec) && libs=$(env $pc pkg-config --static --libs imssec) &&
        gcc -o build/install-test/t build/install-test/t.c $cflags $libs >>"$LOG/install.log" 2>&1 &&
        [ "$(LD_LIBRARY_PATH=$PWD/build/install-test/usr/lib build/install-test/t)" = "$(sed -n 's/^#define IMSSEC_VERSION_STRING "\(.*\)"/\1/p' imssec.h)" ]; then
        pass "install: DESTDIR/PREFIX honoured; header, libraries, imssec.pc and tool usable"
    else
        fail "install: a program could not be built from the installed files (see $LOG/install.log)"
    fi
else
    fail "install: see $LOG/install.log"
fi
if [ -z "${IMSSEC_QUICK:-}" ]; then
    if ls test/fuzz/fuzz_*.c >/dev/null 2>&1; then
        if make -s -j2 fuzz BUILD=build/fuzzcheck >"$LOG/fuzz-build.log" 2>&1; then
            pass "fuzz: every libFuzzer target builds with clang"
        else
            fail "fuzz: libFuzzer build failed (see $LOG/fuzz-build.log)"
        fi
    fi
fi

section "CLI golden files"
if ls test/cli/*.t >/dev/null 2>&1; then
    absorb "cli" < <(bash test/cli_run.sh test/cli/*.t 2>&1)
else
    skip "cli: no golden files yet"
fi

section "real peers and long tests"
export BUILD=build CC=gcc MBEDTLS_CFLAGS= MBEDTLS_LIBS=-lmbedcrypto
for p in test/peer/*.sh; do
    [ -e "$p" ] || continue
    case $(basename "$p") in ${IMSSEC_PEER:-*}) ;; *) continue ;; esac
    s=$(date +%s)
    out=$(timeout 1200 bash "$p" 2>"$LOG/$(basename "$p").err"); rc=$?
    echo "$out" >"$LOG/$(basename "$p").log"
    echo "-- $(basename "$p") ($(($(date +%s) - s)) s)"
    absorb "$(basename "$p")" <<<"$out"
    if ! echo "$out" | grep -qE '^(PASS|FAIL|SKIP) '; then
        fail "$(basename "$p"): printed no result (exit $rc); see $LOG/$(basename "$p").err"
        tail -n 10 "$LOG/$(basename "$p").err"
    elif [ "$rc" != 0 ]; then
        fail "$(basename "$p"): exit status $rc"
        tail -n 10 "$LOG/$(basename "$p").err"
    fi
done

finish
