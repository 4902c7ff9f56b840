# esper-xdp - build, test, benchmark. Everything built lands in build/.
#
#   make            the daemon build/esper-xdp (and the XDP object and skeleton it embeds)
#   make install    the daemon, its man pages, systemd units and examples under
#                   DESTDIR/PREFIX (PREFIX=/usr/local); make uninstall removes them (docs/service.md)
#   make man        the man pages esper-xdp(8), esper-xdp.conf(5) from docs/ (pandoc)
#   make test       every test: include layers, cppcheck, unit (plain and ASan+UBSan), BPF,
#                   interop, security, fuzz smoke, integ, install (make install, man pages,
#                   the systemd units under systemd in a container)
#   make check      cppcheck over user/ (warning, portability): no finding is allowed
#   make test-strongswan   strongSwan 5.9.8 keying esper-xdp and as its peer
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
VERSION_H := $(BUILD)/gen/esper_version.h

# Where make install puts things (docs/service.md). The BPF object is inside the binary
# (the skeleton embeds it): there is no separate file to install.
PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/esper-xdp
UNITDIR  ?= $(PREFIX)/lib/systemd/system
PANDOC   ?= pandoc
MAN_PAGES := build/man/esper-xdp.8 build/man/esper-xdp.conf.5
UNITS    := build/systemd/esper-xdp.service build/systemd/esper-xdp.socket
EXAMPLES := dist/esper-xdp.default dist/esper-xdp.conf

.PHONY: all test unit unit-asan test-bpf test-interop test-security test-fuzz test-integ bench \
	fuzz test-strongswan deps clean help format check check-layers man units install \
	uninstall test-install FORCE

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

# The version (scripts/version.sh), rewritten only when it changes.
$(VERSION_H): FORCE
	@mkdir -p $(dir $@)
	@echo "#define ESPER_VERSION \"$$(scripts/version.sh)\"" > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/obj/main.o: $(VERSION_H)
$(BUILD)/obj/main.o: CFLAGS += -I$(BUILD)/gen

# --- man pages, units, install ----------------------------------------------------------------
# esper-xdp(8) is docs/man/esper-xdp.8.md; esper-xdp.conf(5) is docs/commands.md under the
# header docs/man/esper-xdp.conf.5.md. docs/man/man.lua turns links into their text.
PANDOC_MAN = $(PANDOC) -s -f markdown -t man --lua-filter docs/man/man.lua -M hyphenate=false \
	-M footer="esper-xdp $$(scripts/version.sh)" -M date="$$(git log -1 --format=%cs 2>/dev/null)"

man: $(MAN_PAGES)

build/man/esper-xdp.8: docs/man/esper-xdp.8.md docs/man/man.lua
	@mkdir -p $(dir $@)
	$(PANDOC_MAN) -o $@ $<

build/man/esper-xdp.conf.5: docs/man/esper-xdp.conf.5.md docs/commands.md docs/man/man.lua
	@mkdir -p $(dir $@)
	$(PANDOC_MAN) -o $@ docs/man/esper-xdp.conf.5.md docs/commands.md

units: $(UNITS)

build/systemd/%: dist/systemd/%.in FORCE
	@mkdir -p $(dir $@)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@

install: $(BIN) $(MAN_PAGES) $(UNITS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/esper-xdp
	install -m 0644 build/man/esper-xdp.8 $(DESTDIR)$(MANDIR)/man8/esper-xdp.8
	install -m 0644 build/man/esper-xdp.conf.5 $(DESTDIR)$(MANDIR)/man5/esper-xdp.conf.5
	install -m 0644 $(UNITS) $(DESTDIR)$(UNITDIR)/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 docs/service.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/esper-xdp $(DESTDIR)$(MANDIR)/man8/esper-xdp.8 \
		$(DESTDIR)$(MANDIR)/man5/esper-xdp.conf.5 \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES))) \
		$(DESTDIR)$(DOCDIR)/service.md
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)

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

test-install: $(BIN) $(MAN_PAGES) $(UNITS)
	tests/install/run.sh

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
