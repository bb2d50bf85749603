# cd-trace: syscall name tables generated from the system's kernel headers.
SYSCALL_ARCHES := x86_64 aarch64
SYSCALL_HDRS := $(patsubst %,$(O)/gen/syscalls_%.h,$(SYSCALL_ARCHES))
GEN_HDRS += $(SYSCALL_HDRS)

$(O)/gen/syscalls_%.h: tools/cd-trace/gen-syscalls.sh
	@mkdir -p $(@D)
	$(SHELL) tools/cd-trace/gen-syscalls.sh $* "$(CC)" $@

# Keep them: make would otherwise delete them as intermediate files.
.SECONDARY: $(SYSCALL_HDRS)
