# imssec -- GNU make.  Targets:
#   all (default)  build/libimssec.a, build/libimssec.so, build/imssec (the CLI)
#   test           everything: see test/run.sh (installs missing Debian packages as root)
#   demo           examples/: UE, P-CSCF and S-CSCF/HSS over loopback
#   dist           dist/imssec.c + dist/imssec.h, the two-file drop
#   fuzz           libFuzzer targets under build/fuzz/ (clang)
#   bench          benchmarks, printed as ratios against a baseline of the same run
#   install        PREFIX (default /usr/local) and DESTDIR honoured
#   unit           only the unit/vector tests of one build cell (see TB below)
#
# Knobs: CC, OPT (default -O2 -g), SAN (e.g. -fsanitize=address,undefined),
# MBEDTLS_CFLAGS / MBEDTLS_LIBS (default: the system mbedTLS), IMSSEC_SRC
# (default imssec.c; dist/imssec.c for the dist run), BUILD (default build).

CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
BUILD    ?= build
IMSSEC_SRC ?= imssec.c
MBEDTLS_CFLAGS ?=
MBEDTLS_LIBS   ?= -lmbedcrypto
PREFIX   ?= /usr/local
WARN     := -std=c99 -Wall -Wextra -Wpedantic -Werror
# The CLI, tests and examples are POSIX programs; the library itself is C99.
POSIX    := -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64
CFLAGS_ALL = $(WARN) $(OPT) $(SAN) $(MBEDTLS_CFLAGS) $(EXTRA_CFLAGS)
SOVERSION := 0

MODULE_DIRS := core aka secagree esp sa media
MODULE_SRCS := $(foreach d,$(MODULE_DIRS),$(wildcard $(d)/*.c $(d)/*.h))
LIB_DEPS := imssec.h $(IMSSEC_SRC) $(MODULE_SRCS)
CLI_SRCS := $(wildcard cli/*.c)
CLI_HDRS := $(wildcard cli/*.h)

.PHONY: all test demo dist fuzz bench install clean unit deps
all: $(BUILD)/libimssec.a $(BUILD)/libimssec.so $(BUILD)/imssec

$(BUILD)/.dir:
	@mkdir -p $(BUILD) && touch $@

# On a fresh machine the first `make` installs the Debian packages it needs
# (as root) or says in one line what to install.
$(BUILD)/.deps-ok: | $(BUILD)/.dir
	@bash test/deps.sh build && touch $@

$(BUILD)/imssec.o: $(LIB_DEPS) | $(BUILD)/.dir $(BUILD)/.deps-ok
	$(CC) $(CFLAGS_ALL) -fPIC -c $(IMSSEC_SRC) -o $@

$(BUILD)/libimssec.a: $(BUILD)/imssec.o
	rm -f $@ && ar rcs $@ $<

$(BUILD)/libimssec.so: $(BUILD)/imssec.o
	$(CC) $(OPT) $(SAN) -shared -Wl,-soname,libimssec.so.$(SOVERSION) -o $@ $< $(MBEDTLS_LIBS)

$(BUILD)/imssec: $(CLI_SRCS) $(CLI_HDRS) $(BUILD)/libimssec.a
	$(CC) $(CFLAGS_ALL) $(POSIX) -o $@ $(CLI_SRCS) $(BUILD)/libimssec.a $(MBEDTLS_LIBS)

# ---- tests ------------------------------------------------------------------
# One test cell = one build directory TB with its own compiler and flags.
TB ?= $(BUILD)/t/default
# The unit tests: test/<module>/*.c (wb_*.c there white-box: #included into
# the library's translation unit, see test/lib_under_test.c; the rest public
# API), and any test/test_*.c / test/wb_*.c still at the top.  The other
# directories of test/ are not unit tests.
TEST_NOT_UNIT := peer fuzz bench cli golden vectors configs
TEST_MOD_SRCS := $(sort $(filter-out $(TEST_NOT_UNIT:%=test/%/%),$(wildcard test/*/*.c)))
TEST_MOD_WB   := $(foreach f,$(TEST_MOD_SRCS),$(if $(filter wb_%,$(notdir $(f))),$(f)))
TEST_SRCS := $(sort $(wildcard test/test_*.c)) $(filter-out $(TEST_MOD_WB),$(TEST_MOD_SRCS)) test/t_main.c
WB_SRCS   := $(sort $(wildcard test/wb_*.c)) $(TEST_MOD_WB)
FUZZ_SRCS := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst test/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))

$(TB)/.dir:
	@mkdir -p $(TB) && touch $@

# The runner's table and the white-box includes are generated from the tree.
$(TB)/tests.inc: $(TEST_SRCS) $(WB_SRCS) | $(TB)/.dir
	@grep -h '^T_TEST(' $(TEST_SRCS) $(WB_SRCS) | sed 's/^T_TEST(\([A-Za-z0-9_]*\)).*/T_DECL(\1)/' > $@.tmp && mv $@.tmp $@
$(TB)/wb.inc: $(WB_SRCS) | $(TB)/.dir
	@for f in $(WB_SRCS); do echo "#include \"$(CURDIR)/$$f\""; done > $@.tmp && mv $@.tmp $@

$(TB)/test_unit: $(TEST_SRCS) $(WB_SRCS) test/lib_under_test.c test/t.h $(LIB_DEPS) $(TB)/tests.inc $(TB)/wb.inc
	$(CC) $(CFLAGS_ALL) $(POSIX) -I$(TB) -DIMSSEC_UNDER_TEST='"$(CURDIR)/$(IMSSEC_SRC)"' \
	    -o $@ $(TEST_SRCS) test/lib_under_test.c $(MBEDTLS_LIBS) $(EXTRA_LIBS)

$(TB)/imssec.o: $(LIB_DEPS) | $(TB)/.dir
	$(CC) $(CFLAGS_ALL) -c $(IMSSEC_SRC) -o $@

# Corpus replay: each fuzz target linked with a plain main() that feeds it
# every file of test/fuzz/corpus/<target>/.
$(TB)/replay_%: test/fuzz/fuzz_%.c test/fuzz/replay_main.c $(TB)/imssec.o
	$(CC) $(CFLAGS_ALL) $(POSIX) -o $@ $< test/fuzz/replay_main.c $(TB)/imssec.o $(MBEDTLS_LIBS)

unit: $(TB)/test_unit $(addprefix $(TB)/replay_,$(FUZZ_NAMES))

test:
	@bash test/run.sh

# ---- fuzzing ----------------------------------------------------------------
FUZZ_CC ?= clang
fuzz: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_NAMES))
$(BUILD)/fuzz/imssec.o: $(LIB_DEPS)
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) $(WARN) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -c $(IMSSEC_SRC) -o $@
$(BUILD)/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(BUILD)/fuzz/imssec.o
	$(FUZZ_CC) $(WARN) $(POSIX) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $^ $(MBEDTLS_LIBS)

# ---- dist ---------------------------------------------------------------------
dist: dist/imssec.c dist/imssec.h
dist/imssec.c: $(LIB_DEPS) test/amalgamate.sh
	@mkdir -p dist
	sh test/amalgamate.sh imssec.c > $@.tmp && mv $@.tmp $@
dist/imssec.h: imssec.h
	@mkdir -p dist
	cp imssec.h $@

# ---- benchmarks ---------------------------------------------------------------
BENCH_SRCS := $(wildcard test/bench/bench_*.c)
BENCH_NAMES := $(patsubst test/bench/bench_%.c,%,$(BENCH_SRCS))
# Per-benchmark extra libraries (for a reference implementation measured in
# the same run): BENCH_LIBS_<name>.
BENCH_LIBS_aka = -losmogsm -losmocore
BENCH_LIBS_srtp = -lsrtp2
bench: $(addprefix $(BUILD)/bench/bench_,$(BENCH_NAMES))
	@for b in $^; do echo "== $$b"; $$b || exit 1; done
$(BUILD)/bench/imssec.o: $(LIB_DEPS)
	@mkdir -p $(BUILD)/bench
	$(CC) $(WARN) -O2 $(MBEDTLS_CFLAGS) -c $(IMSSEC_SRC) -o $@
$(BUILD)/bench/bench_%: test/bench/bench_%.c $(BUILD)/bench/imssec.o
	$(CC) $(WARN) $(POSIX) -O2 $(MBEDTLS_CFLAGS) -o $@ $^ $(MBEDTLS_LIBS) $(BENCH_LIBS_$*)

# ---- examples ---------------------------------------------------------------
# The reference integrations: imssec.h + POSIX sockets, built like any user
# program against the static library.  ue, pcscf and scscf share the files
# of EX_COMMON (SIP text, sockets, capture, the data plane around the
# library's esp/ pool, the user-space TCP, SIP over the SAs, the call's
# RTP/SRTP and its SDP steps); minimal_ue is
# one file on imssec.h alone.
# tls_link: the P-CSCF <-> S-CSCF hop over mbedTLS's TLS (TS 33.203 6.5),
# so the examples also link mbedTLS's TLS and X.509 libraries
# (MBEDTLS_TLS_LIBS; for another mbedTLS, e.g. its libmbedtls.a and
# libmbedx509.a); mkcert makes the demo's test certificates.
MBEDTLS_TLS_LIBS ?= -lmbedtls -lmbedx509
EX_COMMON := examples/sip.c examples/ladder.c examples/net.c examples/pcap.c \
             examples/ipsec.c examples/tcp_lite.c examples/sip_io.c examples/media.c \
             examples/call.c examples/control.c examples/sqn_file.c examples/state_file.c \
             examples/tls_link.c examples/dp_xfrm.c
EX_HDRS   := $(EX_COMMON:.c=.h)
EX_PROGS  := $(BUILD)/ue $(BUILD)/pcscf $(BUILD)/scscf
.PHONY: examples minimal_ue
examples: $(EX_PROGS) $(BUILD)/minimal_ue $(BUILD)/mkcert
# (XFRM_LIB: see the xfrm/ section below; defined here because a rule's
# prerequisites are expanded when make reads it.)
UNAME_S  ?= $(shell uname -s)
XFRM_LIB := $(if $(filter Linux,$(UNAME_S)),$(BUILD)/libimssec_xfrm.a)
# On Linux they link the XFRM adapter too (--dataplane xfrm, examples/dp_xfrm.c);
# elsewhere dp_xfrm.c builds without it and says so.
$(EX_PROGS): $(BUILD)/%: examples/%.c $(EX_COMMON) $(EX_HDRS) imssec.h $(BUILD)/libimssec.a $(XFRM_LIB)
	$(CC) $(CFLAGS_ALL) $(POSIX) -I. $(if $(XFRM_LIB),-DEX_XFRM=1) -o $@ $< $(EX_COMMON) \
	    $(XFRM_LIB) $(BUILD)/libimssec.a $(MBEDTLS_TLS_LIBS) $(MBEDTLS_LIBS)
$(BUILD)/mkcert: examples/mkcert.c | $(BUILD)/.dir
	$(CC) $(CFLAGS_ALL) $(POSIX) -o $@ $< $(MBEDTLS_TLS_LIBS) $(MBEDTLS_LIBS)
minimal_ue: $(BUILD)/minimal_ue
$(BUILD)/minimal_ue: examples/minimal_ue.c imssec.h $(BUILD)/libimssec.a
	$(CC) $(CFLAGS_ALL) $(POSIX) -o $@ $< $(BUILD)/libimssec.a $(MBEDTLS_LIBS)
# ---- end examples -----------------------------------------------------------

# ---- demo ---------------------------------------------------------------------
# make demo [MODE=udp|transport|xfrm] [TRANSPORT=udp|tcp] [DEMO_ARGS="--sync-failure ..."]
# MODE=xfrm (root): the kernel's ESP through xfrm/ in a User-Mode-Linux guest,
# UE and P-CSCF each in a network namespace, and the mixed runs
# (examples/demo-xfrm.sh; DEMO_ARGS go to it, e.g. --runs xfrm).
demo:
ifeq ($(MODE),xfrm)
	@bash examples/demo-xfrm.sh $(if $(TRANSPORT),--transport $(TRANSPORT)) $(DEMO_ARGS)
else
	@bash examples/demo.sh $(if $(MODE),--mode $(MODE)) $(if $(TRANSPORT),--transport $(TRANSPORT)) $(DEMO_ARGS)
endif

# ---- the Linux kernel as the data plane (xfrm/) ------------------------------
# An optional adapter behind imssec_sa_callbacks that installs the SAs into
# the kernel's XFRM tables over NETLINK_XFRM.  It does OS I/O, so it stays out
# of the unity TU: its own object and library, built by `all` on Linux only
# (it needs <linux/xfrm.h>), installed with imssec_xfrm.h beside imssec.h.
.PHONY: xfrm install-xfrm
all: $(XFRM_LIB)
xfrm: $(BUILD)/libimssec_xfrm.a
$(BUILD)/imssec_xfrm.o: xfrm/imssec_xfrm.c xfrm/imssec_xfrm.h imssec.h | $(BUILD)/.dir
	$(CC) $(CFLAGS_ALL) $(POSIX) -I. -fPIC -c xfrm/imssec_xfrm.c -o $@
$(BUILD)/libimssec_xfrm.a: $(BUILD)/imssec_xfrm.o
	rm -f $@ && ar rcs $@ $<
install: install-xfrm
install-xfrm: $(XFRM_LIB)
ifneq ($(XFRM_LIB),)
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib
	install -m 644 xfrm/imssec_xfrm.h $(DESTDIR)$(PREFIX)/include/imssec_xfrm.h
	install -m 644 $(XFRM_LIB) $(DESTDIR)$(PREFIX)/lib/libimssec_xfrm.a
endif
# ---- end xfrm -----------------------------------------------------------------

# ---- install ------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 imssec.h $(DESTDIR)$(PREFIX)/include/imssec.h
	install -m 644 $(BUILD)/libimssec.a $(DESTDIR)$(PREFIX)/lib/libimssec.a
	install -m 755 $(BUILD)/libimssec.so $(DESTDIR)$(PREFIX)/lib/libimssec.so.$(SOVERSION)
	ln -sf libimssec.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libimssec.so
	install -m 755 $(BUILD)/imssec $(DESTDIR)$(PREFIX)/bin/imssec
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|'"$$(sed -n 's/^#define IMSSEC_VERSION_STRING "\(.*\)"/\1/p' imssec.h)"'|' \
	    imssec.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/imssec.pc

clean:
	rm -rf $(BUILD) dist
