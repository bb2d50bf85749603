# BPF programs here (common/collect/linux/bpf/): compiled with clang for the bpf target and
# wrapped in libbpf light skeletons (bpftool gen skeleton -L), whose CO-RE
# relocations the kernel applies itself at load time.
BPF_CLANG  ?= clang
BPFTOOL    ?= $(firstword $(wildcard /usr/sbin/bpftool /usr/bin/bpftool) bpftool)
BPF_ARCH   := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_MULTI  := $(shell $(CC) -dumpmachine 2>/dev/null)
BPF_SKELS  := $(patsubst common/collect/linux/bpf/%.bpf.c,$(O)/gen/%.lskel.h,$(wildcard common/collect/linux/bpf/*.bpf.c))
GEN_HDRS   += $(BPF_SKELS)

$(O)/bpf/%.bpf.o: common/collect/linux/bpf/%.bpf.c $(wildcard common/collect/linux/bpf/*.h)
	@mkdir -p $(@D)
	$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
		-I/usr/include/$(BPF_MULTI) -Icommon/collect/linux/bpf -Wall -Werror -c -o $@ $<

$(O)/gen/%.lskel.h: $(O)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton -L $< name $* > $@.tmp && mv $@.tmp $@

.SECONDARY: $(BPF_SKELS) $(patsubst common/collect/linux/bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(wildcard common/collect/linux/bpf/*.bpf.c))
