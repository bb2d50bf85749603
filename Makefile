# claude-diagnose: a pipeline of small Unix filter tools.
#
# Every directory under tools/ is one program built from its *.c files and
# linked against build/libcommon.a. Adding a tool needs no edit here.
#
#   make            build every program into build/bin/
#   make test       install missing deps, build, run unit + bats tests
#   make san-test   the same suite built with ASan + UBSan (build-san/)
#   make san-build  only build that (san-test does it first)
#   make demo       install deps, build, diagnose the built-in demo target
#   make bench      peer comparisons in scripts/bench/ (not part of CI)
#   make install    PREFIX=/usr/local DESTDIR=

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
O         ?= build

CC        ?= cc
PKGS      := libproc2 libcjson libdw libelf libprotobuf-c zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS    ?= -O2 -g
# common/ in its layers: the record stream (stream/), what the tools know of
# Claude Code (claude/), collection behind platform-neutral headers
# (collect/) with the Linux implementations under collect/linux/.
COMMON_INC := -Icommon/stream -Icommon/claude -Icommon/collect -Icommon/collect/linux
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
	$(COMMON_INC) -I$(O)/gen -DCD_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS) -Wl,--as-needed
LIBS      := $(PKG_LIBS) -lm -lpthread

TOOLS     := $(notdir $(patsubst %/,%,$(wildcard tools/*/)))
BINS      := $(addprefix $(O)/bin/,$(TOOLS))
COMMON_SRC := $(wildcard common/*/*.c common/*/*/*.c)
COMMON_OBJ := $(patsubst common/%.c,$(O)/common/%.o,$(COMMON_SRC))
TARGET_SRC := $(wildcard tests/targets/*.c)
TARGETS   := $(patsubst tests/targets/%.c,$(O)/targets/%,$(TARGET_SRC))
UNIT_SRC  := $(wildcard tests/unit/*.c)
UNITS     := $(patsubst tests/unit/%.c,$(O)/unit/%,$(UNIT_SRC))
# Most tests wait on captures, not on the CPU: run several at once when GNU
# parallel is there (bats needs it for --jobs).
BATS_JOBS ?= 1
BATS_FLAGS ?= $(if $(filter-out 1,$(BATS_JOBS)),--jobs $(BATS_JOBS))
MANS      := $(wildcard man/*.[1-8])
GEN_HDRS  :=

.SECONDARY:
# Any .SECONDARY with prerequisites (cd-trace's tool.mk has one) ends the
# bare one's "every target": tool objects were then deleted as
# intermediates and compiled again, one by one, by the next make that read
# their .d files (make test and make san-test: ~16 s each).
.PRECIOUS: $(O)/tools/%.o
.PHONY: all gen deps test unit unit-bins bats san-build san-test demo bench install clean fuzz check-deps

all: $(BINS) $(TARGETS)

# Per-tool fragments may add generated headers or extra objects.
-include tools/*/tool.mk
include common/collect/linux/bpf/bpf.mk

$(O)/common/%.o: common/%.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/tools/%.o: tools/%.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools/$(firstword $(subst /, ,$*)) -c -o $@ $<

.SECONDEXPANSION:
tool_objs = $(patsubst tools/%.c,$(O)/tools/%.o,$(wildcard tools/$(1)/*.c))
$(O)/bin/%: $$(call tool_objs,$$*) $(O)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(EXTRA_CFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

# Test targets are deliberately plain: -O1 with frame pointers so the
# sampler sees real call chains, no sanitizers (they are the observed, not
# the observers).
$(O)/targets/%: tests/targets/%.c $(wildcard tests/targets/*.h)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g -fno-omit-frame-pointer -fno-inline -Wall -Wextra -Werror -o $@ $< -lpthread -lm

$(O)/unit/%: tests/unit/%.c $(O)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests/unit -o $@ $< $(O)/libcommon.a $(LIBS)
	@rm -f $(O)/unit/$*.d

gen: $(GEN_HDRS)

deps:
	@scripts/deps.sh

unit-bins: $(UNITS)

unit: unit-bins
	@scripts/run-unit.sh $(UNITS)

bats: all
	CD_BIN=$(CURDIR)/$(O)/bin CD_TARGETS=$(CURDIR)/$(O)/targets \
		bats $(BATS_FLAGS) --print-output-on-failure tests/

NPROC     := $(shell nproc 2>/dev/null || echo 2)
SAN_FLAGS := O=build-san EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	EXTRA_LDFLAGS="-fsanitize=address,undefined"

test: deps
	$(MAKE) -j$(NPROC) all unit-bins
	$(MAKE) unit bats

san-build:
	$(MAKE) -j$(NPROC) $(SAN_FLAGS) all unit-bins

# The fault suite's busy-thread targets are scaled down under the
# sanitizers: the cases are the same, the 1,000-thread bound is the plain
# pass's.
san-test: deps san-build
	CD_FAULT_THREADS=200 CD_FAULT_SIG_THREADS=200 $(MAKE) $(SAN_FLAGS) unit bats

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

demo: deps
	$(MAKE) all
	@scripts/demo.sh $(CURDIR)/$(O)

bench: deps all
	@scripts/bench/run.sh $(CURDIR)/$(O)

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	for m in $(MANS); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf build build-san

-include $(shell find $(O) -name '*.d' 2>/dev/null)
