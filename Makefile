# esper-xdp - build, test, benchmark. Everything built lands in build/.
#
#   make            the daemon build/esper-xdp (and the XDP object and skeleton it embeds)
#   make test       every test: include layers, cppcheck, unit (plain and ASan+UBSan), BPF,
#                   interop, security, fuzz smoke, integ
#   make check      cppcheck over user/ (warning, portability): no finding is allowed
#   make test-strongswan   strongSwan 5.9.8 keying esper-xdp and as its peer (not in make test yet)
#   make bench      benchmarks (never part of the tests)
#   make fuzz       libFuzzer targets, longer runs
#   make help       this list

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
SANITIZE ?=

BPF_DIR  := build/bpf
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	    -D_GNU_SOURCE -Iinclude -Iuser -I$(BPF_DIR) -MMD -MP -pthread
LDLIBS   := -lxdp -lbpf -lelf -lz -lIPSec_MB -lcrypto -lpcap -lpthread
ifeq ($(SANITIZE),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif

USER_SRC := $(wildcard user/*.c user/*/*.c)
LIB_SRC  := $(filter-out user/main.c,$(USER_SRC))
LIB_OBJ  := $(LIB_SRC:user/%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libesper.a
BIN      := $(BUILD)/esper-xdp

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BPFT_SRC := $(wildcard tests/bpf/test_*.c)
BPFT_BIN := $(BPFT_SRC:tests/bpf/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

BPF_SRC  := bpf/esper.bpf.c
BPF_OBJ  := $(BPF_DIR)/esper.bpf.o
BPF_SKEL := $(BPF_DIR)/esper.skel.h
VMLINUX  := $(BPF_DIR)/vmlinux.h

.PHONY: all test unit unit-asan test-bpf test-interop test-security test-fuzz test-integ bench \
	fuzz test-strongswan deps clean help format check check-layers

all: $(BIN)

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

# --- BPF: vmlinux.h -> object -> skeleton ---------------------------------------------------
$(VMLINUX): vmlinux-gen
	./vmlinux-gen $@

$(BPF_OBJ): $(BPF_SRC) $(wildcard bpf/*.h) include/esper_abi.h $(VMLINUX)
	@mkdir -p $(BPF_DIR)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
		-I$(BPF_DIR) -Iinclude -c $< -o $(BPF_DIR)/esper.tmp.o
	$(BPFTOOL) gen object $@ $(BPF_DIR)/esper.tmp.o

$(BPF_SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name esper > $@.tmp && mv $@.tmp $@

# --- the daemon -----------------------------------------------------------------------------
$(BUILD)/obj/%.o: user/%.c | $(BPF_SKEL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# --- tests ----------------------------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c tests/unit/test_util.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/tests/%: tests/bpf/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

unit: $(UNIT_BIN)
	scripts/run-tests.sh unit $(UNIT_BIN)

unit-asan:
	$(MAKE) BUILD=build/asan SANITIZE=1 unit

test-bpf: $(BPFT_BIN)
	scripts/run-tests.sh bpf $(BPFT_BIN)

test-interop: $(BIN)
	/usr/bin/python3 tests/interop/test_scapy.py $(BIN)
	tests/interop/test_gost_pcap.sh $(BIN)

test-security: $(BIN)
	/usr/bin/python3 tests/security/test_pcap.py $(BIN)
	tests/security/live.sh $(BIN)

check-layers:
	/usr/bin/python3 scripts/check-layers.py

test-fuzz:
	$(MAKE) -C tests/fuzz smoke

test-integ: $(BIN)
	tests/integ/run.sh $(BIN)

test-strongswan: $(BIN)
	ESPER=$(BIN) tests/strongswan/run.sh

test: all
	scripts/test-all.sh

bench: all $(BENCH_BIN) $(BUILD)/tests/test_scale
	scripts/bench.sh

fuzz:
	$(MAKE) -C tests/fuzz long

deps:
	scripts/setup-deps.sh

format:
	clang-format -i $(wildcard user/*.[ch] user/*/*.[ch] bpf/*.[ch] include/*.h tests/*/*.[ch])

check: all
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -Iinclude -Iuser user
	@echo "check: cppcheck: 0 findings"

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d $(BUILD)/bench/*.d)
