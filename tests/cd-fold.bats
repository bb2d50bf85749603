#!/usr/bin/env bats
# cd-fold: records, perf script, macOS sample, DTrace and folded input.

bats_require_minimum_version 1.5.0
load helpers/common

FIX="$BATS_TEST_DIRNAME/fixtures"
# The real captures live in shared/ beside the checkout (CI copies it there).
DATA="${CD_SHARED_DATA:-$BATS_TEST_DIRNAME/../../shared/data}"

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

@test "cd-fold and cd-categorize | cd-fold draw the same categories (one table)" {
	# These calls were filed differently by the two tables cd-fold and
	# cd-categorize once kept (kill, rt_sig*, socketpair, timerfd_*).
	input=""
	for n in kill tgkill rt_sigaction rt_sigprocmask socketpair timerfd_create timerfd_settime openat connect futex mmap clone3 nanosleep; do
		input+="{\"type\":\"syscall\",\"pid\":1,\"tid\":1,\"comm\":\"x\",\"thread\":\"x\",\"name\":\"$n\",\"nr\":1,\"ret\":0,\"dur_ns\":1,\"ts_ns\":1}"$'\n'
	done
	run cd-fold <<<"$input"
	assert_success
	direct=$output
	run bash -c 'cd-categorize | cd-fold' <<<"$input"
	assert_success
	assert_equal "$output" "$direct"
	assert_line "x;network;socketpair 1"
}

@test "io_summary and net_summary fold by syscall and path with --leaf only" {
	input='{"type":"io_summary","pid":1,"comm":"x","path":"/a/b","calls":12,"errors":0,"syscalls":{"openat":2,"read":10}}
{"type":"net_summary","pid":1,"comm":"x","addr":"127.0.0.1:80","calls":3,"syscalls":{"sendto":3}}
{"type":"io_summary","pid":1,"comm":"x","path":"/a/c","calls":1}'
	run --separate-stderr cd-fold --leaf <<<"$input"
	[ "$status" -eq 4 ]	# the record without syscalls is malformed for this
	[[ "$stderr" == *"stdin:3: io_summary record without path or syscalls"* ]]
	assert_output "x;file;openat;/a/b 2
x;file;read;/a/b 10
x;network;sendto;127.0.0.1:80 3"
	run cd-fold <<<"$input"
	assert_success
	assert_output ""
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

@test "FlameGraph's own test suite: cd-fold matches stackcollapse-perf.pl's expected output in every case" {
	suite="$DATA/flamegraph-tests/flamegraph-test-suite.tar.gz"
	[ -f "$suite" ] || skip "no $suite"
	d="$BATS_TEST_TMPDIR/fg"
	mkdir -p "$d"
	tar xzf "$suite" -C "$d"
	n=0 bad=""
	for want in "$d"/results/*-collapsed-*.txt; do
		base=${want##*/}
		opt=${base##*-collapsed-}
		opt=${opt%.txt}
		in="$d/${base%-collapsed-*}.txt"
		cd-fold --from perf "--$opt" "$in" >"$d/got" 2>/dev/null || true
		cmp -s "$want" "$d/got" || bad+=" $base"
		n=$((n + 1))
	done
	[ "$n" -eq 78 ] || fail "expected 78 cases, found $n"
	[ -z "$bad" ] || fail "differ from FlameGraph's results:$bad"
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

# ---- Chrome .cpuprofile ----

# root -> a (x.js, lineNumber 0) -> anonymous (x.js, lineNumber 9); three
# samples: a, then the anonymous function twice.
small_profile() {
	cat <<'EOF2'
{"nodes":[{"id":1,"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":0,"children":[2]},
{"id":2,"callFrame":{"functionName":"a","scriptId":"1","url":"x.js","lineNumber":0,"columnNumber":0},"hitCount":1,"children":[3]},
{"id":3,"callFrame":{"functionName":"","scriptId":"1","url":"x.js","lineNumber":9,"columnNumber":4},"hitCount":2}],
"startTime":0,"endTime":100,"samples":[2,3,3],"timeDeltas":[5,10,20]}
EOF2
}

@test "cpuprofile: frames are 'function (url:line)', 1-based, anonymous named, weighted by samples" {
	small_profile >"$BATS_TEST_TMPDIR/p.cpuprofile"
	run cd-fold "$BATS_TEST_TMPDIR/p.cpuprofile"
	assert_success
	assert_output "a (x.js:1) 1
a (x.js:1);(anonymous) (x.js:10) 2"
	# detected on stdin too, and named
	run cd-fold --from cpuprofile <"$BATS_TEST_TMPDIR/p.cpuprofile"
	assert_output "a (x.js:1) 1
a (x.js:1);(anonymous) (x.js:10) 2"
	run cd-fold --jit <"$BATS_TEST_TMPDIR/p.cpuprofile"
	assert_output "a (x.js:1)_[j] 1
a (x.js:1)_[j];(anonymous) (x.js:10)_[j] 2"
}

@test "cpuprofile: --weight time charges each sample the gap to the next, the last until endTime" {
	# a: 10 us (to sample 2); the anonymous function: 20 + (100 - 35) us
	run cd-fold --weight time < <(small_profile)
	assert_success
	assert_output "a (x.js:1) 10
a (x.js:1);(anonymous) (x.js:10) 85"
	run cd-fold --weight duration < <(small_profile)
	assert_output "a (x.js:1) 10
a (x.js:1);(anonymous) (x.js:10) 85"
}

@test "cpuprofile: parent links, the Profiler.stop wrapper, pretty-printed, hitCount only, --drop-idle" {
	run cd-fold <<'EOF2'
{"profile":{"nodes":[{"id":10,"callFrame":{"functionName":"(root)","url":""}},
{"id":11,"parent":10,"callFrame":{"functionName":"main","url":"m.js","lineNumber":2}},
{"id":12,"parent":10,"callFrame":{"functionName":"(idle)","url":""}}],
"samples":[11,12,12,11,11],"timeDeltas":[1,1,1,1,1]}}
EOF2
	assert_success
	assert_output "(idle) 2
main (m.js:3) 3"
	run cd-fold --drop-idle <<'EOF2'
{
  "nodes": [
    {"id": 1, "callFrame": {"functionName": "(root)", "url": ""}, "children": [2, 3]},
    {"id": 2, "callFrame": {"functionName": "f", "url": "u.js", "lineNumber": 4}, "hitCount": 7},
    {"id": 3, "callFrame": {"functionName": "(idle)", "url": ""}, "hitCount": 9}
  ]
}
EOF2
	assert_success
	assert_output "f (u.js:5) 7"
}

@test "cpuprofile: a real Node --cpu-prof profile (gc-churn.js)" {
	p="$FIX/node-gc-churn.cpuprofile"
	run cd-fold "$p"
	assert_success
	# every sample counted once; expected figures computed from the JSON here
	total=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["samples"]))' "$p")
	[ "$(echo "$output" | awk '{ s += $NF } END { print s }')" = "$total" ]
	young=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ids = {n["id"] for n in d["nodes"] if n["callFrame"]["functionName"] == "churnYoung"}
print(sum(1 for s in d["samples"] if s in ids))' "$p")
	[ "$young" -gt 0 ]
	got=$(echo "$output" | grep -E ';churnYoung \(file://[^ ]*/gc-churn\.js:13\) [0-9]+$' | awk '{ s += $NF } END { print s }')
	[ "$got" = "$young" ]
	echo "$output" | grep -q '^(garbage collector) [0-9]*$'
	echo "$output" | grep -q '^processImmediate (node:internal/timers:[0-9]*);round (file://[^ ]*/gc-churn.js:28)'
	# time: the sum of the gaps after the first sample, and the last to endTime
	us=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = sum(d["timeDeltas"])
print(round(sum(max(x, 0) for x in d["timeDeltas"][1:]) + max(d["endTime"] - d["startTime"] - t, 0)))' "$p")
	run cd-fold --weight time "$p"
	assert_success
	got=$(echo "$output" | awk '{ s += $NF } END { print s }')
	# per-stack rounding: within one microsecond a stack
	python3 -c 'import sys; a, b, n = map(float, sys.argv[1:]); sys.exit(abs(a - b) > n)' "$got" "$us" "$(echo "$output" | wc -l)"
}

@test "cpuprofile: a real DevTools protocol Profiler.stop result ({\"profile\": ...})" {
	p="$FIX/devtools-protocol-gc-churn.json"
	run cd-fold "$p"
	assert_success
	total=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["profile"]["samples"]))' "$p")
	[ "$(echo "$output" | awk '{ s += $NF } END { print s }')" = "$total" ]
	echo "$output" | grep -Eq ';churnYoung \(file://[^ ]*/gc-churn\.js:13\) [0-9]+$'
	# --drop-idle leaves out exactly the (idle) node's samples
	idle=$(echo "$output" | awk '$0 ~ /^\(idle\) [0-9]+$/ { print $NF }')
	[ "$idle" -gt 0 ]
	run cd-fold --drop-idle "$p"
	[ "$(echo "$output" | awk '{ s += $NF } END { print s }')" = "$((total - idle))" ]
	refute_output --partial "(idle)"
}

@test "cpuprofile: a real Bun profile of Claude Code 2.1.197" {
	p="$FIX/bun-claude-2.1.197.cpuprofile"
	run cd-fold -v "$p"
	assert_success
	[ "$(echo "$output" | grep -v '^cd-fold:' | awk '{ s += $NF } END { print s }')" = 600 ]
	assert_output --partial "1457 profile nodes, 600 samples folded, weighted by samples"
	# minified names with the bundle's url and 1-based lines
	echo "$output" | grep -q ';inlineTokens (file:///$bunfs/root/src/entrypoints/cli.js:1488)'
	echo "$output" | grep -Eq ';wrapAnsi( |;)'
	# no frame carries a raw newline or ';' from a regular expression's source
	run cd-fold "$p"
	[ "$(echo "$output" | grep -cvE '^[^;]+(;[^;]+)* [0-9]+$')" = 0 ]
}

@test "cpuprofile: malformed, truncated and wrong-shaped profiles: a clear message, exit 4" {
	small_profile >"$BATS_TEST_TMPDIR/p"
	head -c 200 "$BATS_TEST_TMPDIR/p" >"$BATS_TEST_TMPDIR/trunc"
	run cd-fold --from cpuprofile "$BATS_TEST_TMPDIR/trunc"
	assert_failure 4
	assert_output --partial "cpuprofile: the JSON ends early (truncated?): 200 bytes"
	head -c 200 "$FIX/bun-claude-2.1.197.cpuprofile" >"$BATS_TEST_TMPDIR/trunc2"
	run cd-fold "$BATS_TEST_TMPDIR/trunc2"
	assert_failure 4
	assert_output --partial "truncated"
	bad() {
		run cd-fold --from cpuprofile <<<"$1"
		assert_failure 4
		assert_output --partial "$2"
		refute_output --partial "Sanitizer"
	}
	N='"callFrame":{"functionName":"f","url":"u"}'
	bad '{"nodes":[1,2]' "ends early"
	bad '{"nodes":[},"x":1}' "not valid JSON at byte 10"
	bad '[1,2,3]' 'no "nodes" array'
	bad '{"nodes":{}}' 'no "nodes" array'
	bad '{"nodes":[]}' '"nodes" is empty'
	bad '{"nodes":[{"id":1}]}' 'node 0 is not an object with a "callFrame"'
	bad "{\"nodes\":[{\"id\":1e300,$N}]}" 'node 0 has no integer "id"'
	bad "{\"nodes\":[{\"id\":1.5,$N}]}" 'node 0 has no integer "id"'
	bad "{\"nodes\":[{\"id\":18014398509481984,$N}]}" 'node 0 has no integer "id"'
	bad "{\"nodes\":[{\"id\":1,$N},{\"id\":1,$N}]}" "two nodes have id 1"
	bad "{\"nodes\":[{\"id\":1,$N,\"children\":[99]}]}" "node 1: a child is not the id of a node"
	bad "{\"nodes\":[{\"id\":1,$N,\"children\":7}]}" '"children" is not an array'
	bad "{\"nodes\":[{\"id\":1,$N,\"parent\":5}]}" '"parent" is not the id of a node'
	bad "{\"nodes\":[{\"id\":1,$N,\"children\":[2]},{\"id\":2,$N,\"children\":[1]}]}" "form a cycle"
	bad "{\"nodes\":[{\"id\":1,$N,\"parent\":1}]}" "form a cycle"
	bad "{\"nodes\":[{\"id\":1,$N,\"children\":[3]},{\"id\":2,$N,\"children\":[3]},{\"id\":3,$N}]}" "node 3 has two parents"
	bad "{\"nodes\":[{\"id\":1,$N}],\"samples\":[1,42]}" "sample 1 is not the id of a node"
	bad "{\"nodes\":[{\"id\":1,$N}],\"samples\":\"x\"}" '"samples" is not an array'
	bad "{\"nodes\":[{\"id\":1,$N}]} trailing" "data after the JSON document"
	run cd-fold --weight time --from cpuprofile <<<"{\"nodes\":[{\"id\":1,$N}],\"samples\":[1]}"
	assert_failure 4
	assert_output --partial 'weighting by time needs "timeDeltas"'
	run cd-fold --from cpuprofile </dev/null
	assert_failure 4
	assert_output --partial "empty input"
	# a bad profile among good files: the good ones still fold
	run cd-fold "$BATS_TEST_TMPDIR/trunc" "$BATS_TEST_TMPDIR/p"
	assert_failure 4
	assert_output --partial "a (x.js:1);(anonymous) (x.js:10) 2"
	run cd-fold --strict "$BATS_TEST_TMPDIR/trunc" "$BATS_TEST_TMPDIR/p"
	assert_failure 4
	refute_output --partial "a (x.js:1)"
}

@test "cpuprofile: a one-line profile over 16 MiB (the line limit of the other formats) folds" {
	T_BIG="$BATS_TEST_TMPDIR/big.cpuprofile"
	python3 -c '
import json, sys
n = 150000
nodes = [{"id": 1, "callFrame": {"functionName": "(root)", "url": ""}, "children": list(range(2, n + 2))}]
nodes += [{"id": i, "callFrame": {"functionName": "f%d" % i, "url": "file:///a/very/long/path/to/some/module/bundle.js", "lineNumber": i}} for i in range(2, n + 2)]
json.dump({"nodes": nodes, "samples": list(range(2, n + 2)), "timeDeltas": [1] * n}, open(sys.argv[1], "w"), separators=(",", ":"))' "$T_BIG"
	[ "$(stat -c %s "$T_BIG")" -gt $((16 << 20)) ]
	cd-fold "$T_BIG" >"$T_BIG.folded"
	[ "$(wc -l <"$T_BIG.folded")" = 150000 ]
	[ "$(head -1 "$T_BIG.folded")" = "f10 (file:///a/very/long/path/to/some/module/bundle.js:11) 1" ]
}
