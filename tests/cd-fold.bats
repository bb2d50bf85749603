#!/usr/bin/env bats
# cd-fold: records, perf script, macOS sample, DTrace and folded input.

bats_require_minimum_version 1.5.0
load helpers/common

FIX="$BATS_TEST_DIRNAME/fixtures"
# The real captures live in shared/ beside the checkout (CI copies it there).
DATA="${CD_SHARED_DATA:-$BATS_TEST_DIRNAME/../../shared/data}"
[ -d "$DATA" ] || DATA=/work/shared/data

# The count of one exact stack in folded output on stdin.
count_of() {
	awk -v s="$1" '{ n = $NF; sub(/ [0-9]+$/, ""); if ($0 == s) print n }'
}

@test "sample records fold root first, with the process as root" {
	run cd-fold <<'EOF2'
{"type":"sample","pid":123,"tid":124,"comm":"node","thread":"HeapHelper","stack":["_start","main","foo","bar"],"count":17}
{"type":"sample","pid":123,"tid":125,"comm":"node","thread":"main","stack":["_start","main","foo","bar"],"count":3}
{"type":"sample","pid":123,"tid":124,"comm":"node","thread":"HeapHelper","stack":["_start","main","baz"],"count":2}
{"type":"process","pid":123,"comm":"node"}
{"type":"meta","tool":"cd-sample"}
EOF2
	assert_success
	assert_output "node;_start;main;baz 2
node;_start;main;foo;bar 20"
}

@test "--root thread, tid, pid and none" {
	rec='{"type":"sample","pid":7,"tid":8,"comm":"node","thread":"HeapHelper","stack":["a","b"],"count":1}'
	run cd-fold --root thread <<<"$rec"
	assert_output "node;HeapHelper;a;b 1"
	run cd-fold --root tid <<<"$rec"
	assert_output "node-7;HeapHelper-8;a;b 1"
	run cd-fold --root pid <<<"$rec"
	assert_output "node-7;a;b 1"
	run cd-fold --root none <<<"$rec"
	assert_output "a;b 1"
	run cd-fold --root bogus <<<"$rec"
	assert_failure 2
	# the main thread is set apart from others of the same name
	run cd-fold --root thread <<<'{"type":"sample","pid":7,"tid":7,"comm":"claude","thread":"claude","stack":["a"],"count":2}
{"type":"sample","pid":7,"tid":9,"comm":"claude","thread":"claude","stack":["a"],"count":1}'
	assert_output "claude;claude (main);a 2
claude;claude;a 1"
}

@test "kernel and JIT frames: plain by default, annotated, or dropped" {
	rec='{"type":"sample","pid":7,"tid":7,"comm":"x","thread":"x","stack":["main","js_fn_[j]","sys_read_[k]"],"count":4}'
	run cd-fold <<<"$rec"
	assert_output "x;main;js_fn;sys_read 4"
	run cd-fold --all <<<"$rec"
	assert_output "x;main;js_fn_[j];sys_read_[k] 4"
	run cd-fold --kernel <<<"$rec"
	assert_output "x;main;js_fn;sys_read_[k] 4"
	run cd-fold --drop-kernel --jit <<<"$rec"
	assert_output "x;main;js_fn_[j] 4"
}

@test "syscalls fold as process, category, syscall; fallback categories; path leaf" {
	input='{"type":"syscall","pid":1,"tid":1,"comm":"x","thread":"x","name":"openat","nr":257,"ret":-2,"errno":"ENOENT","dur_ns":1234,"ts_ns":5,"path":"/a/b","category":"file"}
{"type":"syscall","pid":1,"tid":1,"comm":"x","thread":"x","name":"openat","nr":257,"ret":3,"dur_ns":100,"ts_ns":6,"path":"/a/c"}
{"type":"syscall","pid":1,"tid":1,"comm":"x","thread":"x","name":"epoll_wait","nr":232,"ret":0,"dur_ns":5000,"ts_ns":7}
{"type":"syscall","pid":1,"tid":1,"comm":"x","thread":"x","name":"madeup_call","nr":999,"ret":0,"dur_ns":1,"ts_ns":8,"category":"network"}
{"type":"syscall_summary","pid":2,"comm":"y","name":"read","count":40,"errors":0,"total_ns":8000,"avg_ns":200,"max_ns":900,"category":"file"}'
	run cd-fold <<<"$input"
	assert_success
	assert_output "x;event;epoll_wait 1
x;file;openat 2
x;network;madeup_call 1
y;file;read 40"
	run cd-fold --weight duration --leaf <<<"$input"
	assert_output "x;event;epoll_wait 5000
x;file;openat;/a/b 1234
x;file;openat;/a/c 100
x;network;madeup_call 1
y;file;read 8000"
	run cd-fold --no-category <<<"$input"
	assert_line "x;openat 2"
}

@test "syscalls fold through the user stack when the record has one" {
	run cd-fold <<'EOF2'
{"type":"syscall","pid":1,"tid":1,"comm":"node","thread":"node","name":"read","nr":0,"ret":5,"dur_ns":10,"ts_ns":1,"category":"file","stack":["main","uv_run","uv__read"]}
EOF2
	assert_output "node;file;main;uv_run;uv__read;read 1"
}

@test "unknown record types are only mentioned under --verbose" {
	input='{"type":"fd","pid":1}
{"type":"fd","pid":1}
{"type":"meta","tool":"x"}
{"type":"sample","pid":1,"tid":1,"comm":"a","thread":"a","stack":["f"],"count":1}'
	run --separate-stderr cd-fold <<<"$input"
	assert_success
	assert_output "a;f 1"
	[ -z "$stderr" ]
	run --separate-stderr cd-fold --verbose <<<"$input"
	assert_output "a;f 1"
	[[ "$stderr" == *'ignored 2 "fd" records'* ]]
	[[ "$stderr" == *'ignored 1 "meta" record'* ]]
}

@test "malformed records name the line, are skipped, exit 4; --strict stops" {
	input='{"type":"sample","pid":1,"tid":1,"comm":"a","thread":"a","stack":["f"],"count":1}
{"type":"sample", broken
[1,2,3]
{"type":"sample","pid":1,"comm":"a","stack":"notalist","count":1}
{"type":"sample","pid":1,"comm":"a","stack":["g"],"count":-5}
{"type":"sample","pid":1,"tid":1,"comm":"a","thread":"a","stack":["f"],"count":2}'
	run --separate-stderr cd-fold --from records <<<"$input"
	assert_failure 4
	assert_output "a;f 3"
	[[ "$stderr" == *"stdin:2: malformed JSON"* ]]
	[[ "$stderr" == *"stdin:3: not a JSON object"* ]]
	[[ "$stderr" == *"stdin:4: sample record whose stack is not an array"* ]]
	[[ "$stderr" == *"stdin:5: sample record with a count"* ]]
	run --separate-stderr cd-fold --strict --from records <<<"$input"
	assert_failure 4
	assert_output ""
}

@test "counts past 32 bits are summed exactly in records and folded input" {
	run cd-fold <<'EOF2'
{"type":"sample","pid":1,"tid":1,"comm":"a","thread":"a","stack":["f"],"count":4294967296}
{"type":"sample","pid":1,"tid":1,"comm":"a","thread":"a","stack":["f"],"count":4294967297}
EOF2
	assert_output "a;f 8589934593"
	run cd-fold --from folded <<<$'a;b 9000000000000000000\na;b 9000000000000000000\nc 18446744073709551615'
	assert_line "c 18446744073709551615"
	assert_line "a;b 18000000000000000000"
}

@test "a count past 2^64 is capped with a warning; an over-long count is malformed" {
	run --separate-stderr cd-fold --from folded <<<$'a 18446744073709551615\na 5'
	assert_output "a 18446744073709551615"
	[[ "$stderr" == *"capped"* ]]
	run --separate-stderr cd-fold --from folded <<<'a 99999999999999999999999'
	assert_failure 4
	[[ "$stderr" == *"stdin:1: the count does not fit in 64 bits"* ]]
}

@test "empty input gives empty output and success, in every format" {
	for f in records perf sample dtrace folded; do
		run cd-fold --from $f </dev/null
		[ "$f" = sample ] || assert_success
		assert_output ""
	done
	run cd-fold </dev/null
	assert_success
	assert_output ""
}

@test "folded input is merged and re-sorted; malformed folded lines name the line" {
	run --separate-stderr cd-fold <<<$'b;c 2\na;b 1\nb;c 5\nno count here\na;b x\n\na;b 1'
	assert_failure 4
	assert_output $'a;b 2\nb;c 7'
	[[ "$stderr" == *"stdin:4: the count is not a whole number"* ]]
	[[ "$stderr" == *"stdin:5: the count is not a whole number"* ]]
}

@test "perf script: known stacks from the real capture, by hand" {
	run cd-fold "$FIX/perf-script-small.txt"
	assert_success
	# The first two samples are this same stack (cycles, no period: 1 each).
	n=$(count_of "perf;__libc_start_main;[perf];[perf];[perf];__GI___ioctl;system_call_fastpath;sys_ioctl;do_vfs_ioctl;perf_ioctl;perf_event_for_each_child;perf_event_enable;cpu_function_call;smp_call_function_single;remote_function;__perf_event_enable;group_sched_in;x86_pmu_commit_txn;perf_pmu_enable;x86_pmu_enable;intel_pmu_enable_all;native_write_msr_safe" <<<"$output")
	[ "$n" -ge 2 ]
	# Every stack is rooted at a process name; totals equal the 6 samples.
	total=$(awk '{ s += $NF } END { print s }' <<<"$output")
	[ "$total" -eq 6 ]
	run cd-fold --kernel --tid "$FIX/perf-script-small.txt"
	assert_line --partial "perf-977/977;__libc_start_main;[perf];[perf];[perf];__GI___ioctl;system_call_fastpath_[k];sys_ioctl_[k]"
}

@test "perf script from the real Claude capture: periods, JIT map frames, thread names" {
	run cd-fold --jit "$FIX/claude-perf-script-small.txt"
	assert_success
	n=$(count_of "claude.exe;__libc_start_call_main;[claude.exe];[claude.exe];[claude.exe];[claude.exe];[claude.exe];[claude.exe];[claude.exe];entry_SYSCALL_64_after_hwframe;do_syscall_64;__x64_sys_epoll_pwait2;do_epoll_pwait.part.0;do_epoll_wait;schedule_hrtimeout_range_clock;schedule;__schedule;finish_task_switch.isra.0;__raw_callee_save_pvm_irq_enable;pvm_irq_enable" <<<"$output")
	[ "$n" -eq 2004008 ]
	assert_output --partial "[perf-2768.map]_[j]"
	assert_output --partial "JITWorker;start_thread"
	run cd-fold --addrs "$FIX/claude-perf-script-small.txt"
	assert_output --partial "[claude.exe <32cff6d>]"
}

@test "perf script: unrecognised lines name the line; the rest is folded" {
	printf 'app 10 1.0: 1 cycles:\n\t1234 main (/bin/app)\n\tthis is not a frame\n\n' >"$BATS_TEST_TMPDIR/p.txt"
	run --separate-stderr cd-fold --from perf "$BATS_TEST_TMPDIR/p.txt"
	assert_failure 4
	assert_output "app;main 1"
	[[ "$stderr" == *"p.txt:3: unrecognized perf script line"* ]]
}

@test "perf script: the same output as stackcollapse-perf.pl (when FlameGraph is here)" {
	fg="${CD_FLAMEGRAPH:-}"
	[ -n "$fg" ] && [ -x "$(command -v perl)" ] && [ -f "$fg/stackcollapse-perf.pl" ] ||
		skip "set CD_FLAMEGRAPH to a FlameGraph checkout to compare"
	[ -f "$DATA/perf-script-example.txt.gz" ] || skip "no $DATA"
	zcat "$DATA/perf-script-example.txt.gz" >"$BATS_TEST_TMPDIR/in.txt"
	for opts in "" "--pid" "--tid" "--kernel" "--jit" "--all" "--addrs"; do
		perl "$fg/stackcollapse-perf.pl" $opts "$BATS_TEST_TMPDIR/in.txt" >"$BATS_TEST_TMPDIR/want" 2>/dev/null
		cd-fold --from perf $opts "$BATS_TEST_TMPDIR/in.txt" >"$BATS_TEST_TMPDIR/got"
		cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	done
}

@test "full captures in the shared data fold without complaint" {
	[ -d "$DATA" ] || skip "no $DATA"
	for f in perf-script-example.txt.gz claude-native-linux-perf-script.txt.gz; do
		run bash -c "zcat '$DATA/$f' | cd-fold"
		assert_success
		[ "${#lines[@]}" -gt 100 ]
	done
	run cd-fold "$DATA/dtrace-ustack-example.txt"
	assert_success
	run cd-fold "$DATA/macos-sample-example.txt"
	assert_success
}

@test "DTrace ustack aggregation: offsets dropped, leaf last, counts kept" {
	run cd-fold "$FIX/dtrace-small.txt"
	assert_success
	assert_line "unix\`sys_syscall;genunix\`syscall_mstate;genunix\`gethrtime_unscaled;unix\`tsc_gethrtimeunscaled 1"
	assert_line "unix\`sys_syscall;genunix\`open;genunix\`openat;genunix\`copen;unix\`mutex_exit 1"
}

@test "DTrace: C++ arguments removed, inlined frames marked, stack without count reported" {
	printf 'CPU ID FUNCTION:NAME\n 0 1 :tick\n\n  a.out`ns::f(int)+0x4\n  a.out`g->h+0x1\n  a.out`main+0x9\n  12\n\n  a.out`lost+0x1\n' >"$BATS_TEST_TMPDIR/d.txt"
	run --separate-stderr cd-fold --from dtrace "$BATS_TEST_TMPDIR/d.txt"
	assert_failure 4
	assert_output 'a.out`main;a.out`g;h_[i];a.out`ns::f 12'
	[[ "$stderr" == *"d.txt:9: stack (to line 9) ends without a count line"* ]]
}

@test "macOS sample: thread roots, module\`function frames, self time, demangled Rust" {
	run cd-fold "$FIX/macos-sample.txt"
	assert_success
	# Three threads of 825 samples each: every sample is accounted for.
	total=$(awk '{ s += $NF } END { print s }' <<<"$output")
	[ "$total" -eq 2475 ]
	n=$(count_of "Thread_15758523 DispatchQueue_1: com.apple.main-thread;libdyld\`start;rg\`main;rg\`std::rt::lang_start_internal;rg\`__rust_maybe_catch_panic;rg\`std::panicking::try::do_call;rg\`std::rt::lang_start::_{{closure}};rg\`rg::main;rg\`rg::try_main;rg\`ignore::walk::WalkParallel::run;rg\`<std::thread::JoinHandle<T>>::join;rg\`std::sys::unix::thread::Thread::join;libsystem_pthread\`_pthread_join;libsystem_kernel\`__ulock_wait" <<<"$output")
	[ "$n" -eq 825 ]
	# File::open_c: 617 in its child, 1 sample of its own (618 - 617).
	assert_output --partial "rg\`std::sys::unix::fs::File::open_c 1"
	run cd-fold --drop-idle "$FIX/macos-sample.txt"
	refute_output --partial "__ulock_wait"
}

@test "macOS sample: bad indentation names the line" {
	printf 'Call graph:\n    10 Thread_1\n    + 10 start  (in libdyld.dylib) + 1  [0x1]\n    +     3 deep  (in a) + 1  [0x2]\n    +  5 odd  (in a) + 1  [0x3]\nTotal number in stack\n' >"$BATS_TEST_TMPDIR/s.txt"
	run --separate-stderr cd-fold --from sample "$BATS_TEST_TMPDIR/s.txt"
	assert_failure 4
	assert_output 'Thread_1;libdyld`start 10'
	[[ "$stderr" == *"s.txt:4: call graph skips a level"* ]]
	[[ "$stderr" == *"s.txt:5: odd indentation"* ]]
}

@test "format detection, and an undetectable input asks for --from" {
	run cd-fold <"$FIX/dtrace-small.txt"
	assert_success
	assert_output --partial "unix\`sys_syscall"
	run cd-fold <"$FIX/macos-sample.txt"
	assert_output --partial "Thread_15758535;libsystem_pthread\`thread_start"
	run cd-fold <<<"a;b 3"
	assert_output "a;b 3"
	run --separate-stderr cd-fold <<<"just some words"
	assert_failure 2
	[[ "$stderr" == *"--from"* ]]
}

@test "binary garbage and huge lines: messages, no crash" {
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/junk"
	for f in records perf sample dtrace folded; do
		run cd-fold --from $f "$BATS_TEST_TMPDIR/junk"
		[ "$status" -eq 0 ] || [ "$status" -eq 4 ]
	done
	python3 -c 'import sys; sys.stdout.write("a;" * 9000000 + "b 1\n")' >"$BATS_TEST_TMPDIR/huge"
	run --separate-stderr cd-fold --from folded "$BATS_TEST_TMPDIR/huge"
	assert_failure 4
	[[ "$stderr" == *"huge:1: line longer than"* ]]
}

@test "--help, --version, bad options" {
	run cd-fold --help
	assert_success
	assert_output --partial "usage: cd-fold"
	run cd-fold --version
	assert_output --partial "(claude-diagnose)"
	run cd-fold --nope
	assert_failure 2
	run cd-fold /nonexistent/file
	assert_failure 3
}
