# pktmem: one plain Makefile.
#
#   make                      build ./pktmem
#   make check                build and run the whole test suite with prove
#   make SANITIZE=address,undefined check
#                             the same under ASan+UBSan (objects in build/san)
#   make deps                 install every Debian package build, tests and bench need
#   make demo                 replay the bundled capture
#   make fuzz                 build the libFuzzer targets (clang)
#   make bench                build the benchmarks in bench/
#
# Sources are found by wildcard: a new module is a new .c/.h pair in its
# directory, a new test is tests/tNNNN-what.c (C, TAP) or tests/tNNNN-what.t
# (shell, TAP).  Nothing here needs editing to add either.

CC       ?= cc
CFLAGS   ?= -O2 -g
# -Wmissing-prototypes etc.: a function without a prototype in a header
# is either static or a mistake; string literals are const.
WARN      = -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
            -Wmissing-prototypes -Wstrict-prototypes -Wold-style-definition \
            -Wwrite-strings -Wformat=2 -Wpointer-arith
CPPFLAGS += -I. -D_GNU_SOURCE
# libpfm4 ships no pkg-config file on Debian: link -lpfm directly.
# libdw/libelf (elfutils): user-space symbols of sampled stacks (profile/usym.c).
# libbpf: the per-stage counter program (profile/bpfcount.c).
# libseccomp: the server child's syscall filter (core/sandbox.c).
# libpsx (before -lcap: libcap.so has its own weak psx_load_syscalls, and
# the first definition in link order wins) + --wrap=pthread_create:
# libcap then changes the capabilities of
# every thread of the process, not only the caller's (core/privs.c).
LIBS      = -lpcap -lz -lpfm -lmnl -ljansson -luring -lpsx -lcap -lseccomp -lbpf -lpthread -lm \
            -ldw -lelf -Wl,-wrap,pthread_create
# Frame pointers, also when CFLAGS is overridden: the kernel walks user
# stacks by them for sampled callchains (PERF_SAMPLE_CALLCHAIN), so without
# them a flame graph of the server stops at the sampled function.
FPFLAGS   = -fno-omit-frame-pointer

# The BPF side of profile/bpfcount.c: compiled by clang for the bpf target
# and embedded as a C initializer (build/gen/stagecount.bpf.inc), so every
# variant (std, san, fuzz) and compiler includes the same bytes.  The
# object does not depend on the variant: one copy under build/gen.
BPF_CLANG ?= clang
BPF_GEN    = build/gen
CPPFLAGS  += -I$(BPF_GEN)

ifdef SANITIZE
VARIANT   = san
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
else
VARIANT   = std
endif
O         = build/$(VARIANT)

VERSION  := 0.1.0
GIT_REV  := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)

LIB_SRC   = $(wildcard lib/*.c core/*.c replay/*.c profile/*.c report/*.c run/*.c)
CMD_SRC   = $(wildcard cmd/*.c)
TEST_SRC  = $(wildcard tests/t[0-9]*-*.c)
HELP_SRC  = $(wildcard tests/helpers/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(O)/%.o)
CMD_OBJ   = $(CMD_SRC:%.c=$(O)/%.o)
TEST_BIN  = $(TEST_SRC:tests/%.c=$(O)/tests/%.t)
HELP_BIN  = $(HELP_SRC:tests/helpers/%.c=$(O)/tests/helpers/%)
SH_TESTS  = $(wildcard tests/t[0-9]*-*.t)

PKTMEM_BIN = $(O)/pktmem

# Keep test objects: they are not temporary to us.  (Named, not a bare
# .SECONDARY: that makes every target secondary, and make then skips a
# missing build/san/pktmem behind an up-to-date ./pktmem.)
.SECONDARY: $(TEST_SRC:tests/%.c=$(O)/tests/%.o) $(HELP_SRC:tests/helpers/%.c=$(O)/tests/helpers/%.o)

.PHONY: all check test-build deps demo fuzz bench clean check-layers preload
all: pktmem

# The default variant is also linked at ./pktmem, the path the README uses.
pktmem: $(PKTMEM_BIN)
ifeq ($(VARIANT),std)
	ln -sf $(PKTMEM_BIN) pktmem
endif

$(PKTMEM_BIN): $(CMD_OBJ) $(O)/libpktmem.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(O)/libpktmem.a $(LIBS)

$(O)/libpktmem.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/cmd/version.o: CPPFLAGS += -DPKTMEM_VERSION='"$(VERSION)"' -DPKTMEM_GIT_REV='"$(GIT_REV)"'
# version.o must change when the revision does.
$(O)/cmd/version.o: .git-rev-stamp
.git-rev-stamp: FORCE
	@echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' > $@
FORCE:

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(FPFLAGS) $(WARN) -MMD -MP -c -o $@ $<

$(BPF_GEN)/stagecount.bpf.o: profile/bpf/stagecount.bpf.c profile/bpf/stagecount.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -O2 -g -target bpf -Wall -Werror -I. \
	  -idirafter /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu) \
	  -c -o $@ $<
$(BPF_GEN)/stagecount.bpf.inc: $(BPF_GEN)/stagecount.bpf.o
	od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g' > $@.tmp && mv $@.tmp $@
$(O)/profile/bpfcount.o build/fuzz/obj/profile/bpfcount.o: $(BPF_GEN)/stagecount.bpf.inc

$(O)/tests/%.t: $(O)/tests/%.o $(O)/libpktmem.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(O)/libpktmem.a $(LIBS)

# Test-side code that is not a test, linked into the tests that use it.
$(O)/tests/t3510-deser.t: $(O)/tests/deser-canonical.o

$(O)/tests/helpers/%: $(O)/tests/helpers/%.o $(O)/libpktmem.a
	$(CC) $(LDFLAGS) -o $@ $< $(O)/libpktmem.a $(LIBS)

test-build: $(PKTMEM_BIN) pktmem $(TEST_BIN) $(HELP_BIN) preload

# Tests find the binary under test and helpers through the environment, so
# the same scripts run against the plain and the sanitizer build.  Every
# test file runs under a watchdog: a hang fails that file by name (exit 124
# from timeout(1)) instead of stalling the whole suite.
TEST_TIMEOUT ?= 600
check: test-build check-layers
	PKTMEM=$(CURDIR)/$(PKTMEM_BIN) PKTMEM_BUILD=$(CURDIR)/$(O) PKTMEM_SRC=$(CURDIR) \
	  prove --timer --exec 'timeout -k 10 $(TEST_TIMEOUT)' $(PROVE_FLAGS) $(TEST_BIN) $(SH_TESTS)

# Layers point one way (docs/architecture.md):
#   lib/    includes nothing of pktmem's
#   core/   includes only lib/ and core/
#   report/ includes only lib/ and report/
#   replay/ and profile/ never see each other, nor run/ or cmd/;
#           replay/ not report/; only replay/target* see preload/'s ABI
#   run/    joins replay/, profile/ and report/; only cmd/ sits above it
LAYER = ! grep -nE '\#include *"($(2))/' $(1) 2>/dev/null || { echo "layering: $(3)"; exit 1; }
check-layers:
	@$(call LAYER,lib/*.[ch],core|replay|profile|report|run|cmd|preload,lib/ must not include other pktmem modules)
	@$(call LAYER,core/*.[ch],replay|profile|report|run|cmd|preload,core/ must include only lib/ and core/)
	@$(call LAYER,report/*.[ch],core|replay|profile|run|cmd|preload,report/ must include only lib/ and report/)
	@$(call LAYER,replay/*.[ch],profile|report|run|cmd,replay/ must not include profile/, report/, run/ or cmd/)
	@! grep -lE '\#include *"preload/' $(filter-out replay/target%,$(wildcard */*.[ch])) 2>/dev/null | grep -v '^preload/' || { echo "layering: only replay/target* include preload/"; exit 1; }
	@$(call LAYER,profile/*.[ch],replay|run|cmd|preload,profile/ must not include replay/, run/ or cmd/)
	@$(call LAYER,run/*.[ch],cmd,run/ must not include cmd/)

# Every Debian package the build, tests and benchmarks use.  Only missing
# ones are installed.
DEBS = build-essential pkg-config libpcap-dev zlib1g-dev libpfm4-dev libmnl-dev \
       libjansson-dev liburing-dev libcap-dev libseccomp-dev libdw-dev libbpf-dev clang libclang-rt-14-dev llvm \
       tshark tcpdump tcpflow tcpreplay netsniff-ng libh2o-dev libhttp-parser-dev \
       curl wrk nginx-light iproute2 hyperfine ncat python3 valgrind \
       chromium perl libcap2-bin
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(DEBS)) packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: missing:" $$missing; echo "deps: not root: run 'sudo make deps' (or apt-get install them)"; exit 1; fi; \
	echo "deps: installing:" $$missing; \
	export DEBIAN_FRONTEND=noninteractive; \
	echo 'tshark wireshark-common/install-setuid boolean false' | debconf-set-selections; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

demo: pktmem
	./pktmem replay fixtures/demo.pcap

FUZZ_SRC = $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=build/fuzz/obj/%.o)
# kept (not intermediate) with their .d files, so a rebuild after one
# change recompiles that module, not all of them
.SECONDARY: $(FUZZ_LIB_OBJ)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined $(WARN) -MMD -MP -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined $(WARN) -o $@ $< $(filter %.o,$^) $(LIBS)
build/fuzz/fuzz-json: build/fuzz/obj/tests/deser-canonical.o
fuzz: $(FUZZ_BIN)

-include bench/*.mk

clean:
	rm -rf build pktmem .git-rev-stamp

-include $(shell find build -name '*.d' 2>/dev/null)
