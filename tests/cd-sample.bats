#!/usr/bin/env bats
# cd-sample end to end: real targets, real perf events and ptrace.

bats_require_minimum_version 1.5.0
load helpers/common

# Sample records only from a capture on stdin: "pid tid thread count frame;frame".
stacks() {
	python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["type"] == "sample":
        print(r["pid"], r["tid"], r["thread"], r["count"], ";".join(r["stack"]))
'
}

meta() {
	json_eval "[r for r in recs if r['type']=='meta'][-1]$1"
}

# Start hot2to1 (or a copy, $1) and wait until it is in main: it writes
# its ready file there.
hot_start() {
	bg_start "${1:-$CD_TARGETS/hot2to1}" "$BATS_TEST_TMPDIR/ready"
	wait_file "$BATS_TEST_TMPDIR/ready" 10
}

# Share of hot_two_thirds among samples in either hot function.
ratio() {
	json_eval '(lambda a, b: round(a / (a + b), 3) if a + b else -1)(
sum(r["count"] for r in recs if r["type"]=="sample" and any("hot_two_thirds" in f for f in r["stack"])),
sum(r["count"] for r in recs if r["type"]=="sample" and any("hot_one_third" in f for f in r["stack"])))'
}

@test "cd-sample: --help, --version and usage errors" {
	run cd-sample --help
	assert_success
	assert_output --partial "--wall"
	run cd-sample --version
	assert_success
	assert_output --partial "claude-diagnose"
	run cd-sample --freq 0 --pid 1
	assert_failure 2
	run cd-sample --method dtrace --pid 1
	assert_failure 2
	run cd-sample --wall --method perf --pid 1
	assert_failure 2
	run cd-sample -p 1 -- true
	assert_failure 2
	run cd-sample </dev/tty 2>/dev/null || run cd-sample --no-progress </dev/null
	assert_failure
}

@test "cd-sample: no such process, a command that cannot run" {
	run cd-sample -p abc -d 0.2
	assert_failure 2
	run cd-sample -p 4000000 -d 0.2
	assert_failure 3
	assert_output --partial "no such process"
	run cd-sample -d 0.5 -- /nonexistent/command
	assert_failure 3
	assert_output --partial "cannot run"
}

@test "cd-sample: two thirds and one third, by perf" {
	hot_start
	run --separate-stderr cd-sample -p "$BG_PID" -d 3 --no-progress
	assert_success
	echo "$output" | json_valid_lines
	[ "$(echo "$output" | meta "['method']")" = perf ]
	[ "$(echo "$output" | meta "['samples']")" -gt 100 ]
	r=$(echo "$output" | ratio)
	echo "ratio $r"
	python3 -c "import sys; r=float(sys.argv[1]); sys.exit(0 if 0.5 <= r <= 0.8 else 1)" "$r"
	# the record layout the report needs
	echo "$output" | stacks | grep -q "hot2to1 .*;main;hot_two_thirds"
	# the analysis names the two functions, the hotter first
	run json_eval '[r["function"] for r in recs if r["type"]=="hot_function" and r["self"] > 0][:2]' <<<"$output"
	assert_output "['hot_two_thirds', 'hot_one_third']"
}

@test "cd-sample: stripped binary gives module+0xSTART of the right function (its FDE)" {
	cp "$CD_TARGETS/hot2to1" "$BATS_TEST_TMPDIR/hot-stripped"
	strip "$BATS_TEST_TMPDIR/hot-stripped"
	hot_start "$BATS_TEST_TMPDIR/hot-stripped"
	run --separate-stderr cd-sample -p "$BG_PID" -d 2 --no-kernel
	assert_success
	# the hottest leaf is hot-stripped+0xOFF, and OFF is where hot_two_thirds starts
	leaf=$(echo "$output" | stacks | sort -k4 -n -r | head -1 | awk '{print $5}' | tr ';' '\n' | tail -1)
	echo "leaf $leaf"
	[[ "$leaf" == hot-stripped+0x* ]]
	off=$((${leaf#hot-stripped+}))
	read -r lo hi < <(nm -n "$CD_TARGETS/hot2to1" | python3 -c '
import sys
syms = [l.split() for l in sys.stdin if len(l.split()) == 3]
i = [s[2] for s in syms].index("hot_two_thirds")
print(int(syms[i][0], 16), int(syms[i + 1][0], 16))')
	echo "off $off in [$lo, $hi)"
	[ "$off" -eq "$lo" ]
	# one frame per function: no other leaf inside hot_two_thirds
	n=$(echo "$output" | stacks | awk '{print $5}' | awk -F';' '{print $NF}' | sort -u |
	    python3 -c 'import sys; lo, hi = int(sys.argv[1]), int(sys.argv[2])
print(sum(1 for l in sys.stdin if l.startswith("hot-stripped+0x") and lo <= int(l.strip().split("+")[1], 16) < hi))' "$lo" "$hi")
	[ "$n" -eq 1 ]
	[ "$(echo "$output" | meta "['frames_resolved_pct']" | cut -d. -f1)" -lt 100 ]
	[ "$(echo "$output" | meta "['naming_pct']['fde'] > 0")" = True ]
}

@test "cd-sample: threads started mid-capture are followed, with their names" {
	run --separate-stderr env HOT2TO1_THREADS=2 cd-sample -d 3 --no-progress -- "$CD_TARGETS/hot2to1"
	assert_success
	echo "$output" | stacks | grep -q "late-0 .*late_worker_loop"
	echo "$output" | stacks | grep -q "late-1 .*late_worker_loop"
	[ "$(echo "$output" | meta "['threads_seen']")" -eq 3 ]
	run json_eval 'sorted(r["thread"] for r in recs if r["type"]=="thread_cpu")' <<<"$output"
	assert_output "['hot2to1', 'late-0', 'late-1']"
}

@test "cd-sample: a target that exits mid-capture still gives its samples" {
	bg_start "$CD_TARGETS/hot2to1" "" 1
	run --separate-stderr cd-sample -p "$BG_PID" -d 20 --no-progress
	assert_success
	[ "$(echo "$output" | meta "['targets_exited']")" = "[$BG_PID]" ]
	[ "$(echo "$output" | meta "['frames_resolved_pct']" | cut -d. -f1)" -ge 90 ]
	echo "$output" | stacks | grep -q "hot_two_thirds"
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 15 else 1)" \
		"$(echo "$output" | meta "['duration_s']")"
}

@test "cd-sample: ptrace fallback forced, and nothing stays attached" {
	hot_start
	run --separate-stderr cd-sample -p "$BG_PID" -d 2 --method ptrace
	assert_success
	[ "$(echo "$output" | meta "['method']")" = ptrace ]
	[ "$(echo "$output" | meta "['snapshots']")" -gt 10 ]
	r=$(echo "$output" | ratio)
	python3 -c "import sys; r=float(sys.argv[1]); sys.exit(0 if 0.4 <= r <= 0.9 else 1)" "$r"
	grep -q "^TracerPid:[[:space:]]*0$" "/proc/$BG_PID/status"
	! grep -q "^State:[[:space:]]*t" "/proc/$BG_PID/status"
}

@test "cd-sample: --wall sees a blocked thread" {
	bg_start sleep 30
	run --separate-stderr cd-sample -p "$BG_PID" -d 1 --wall
	assert_success
	[ "$(echo "$output" | meta "['mode']")" = wall ]
	echo "$output" | stacks | grep -Eq "sleep.*(nanosleep|clock_nanosleep)"
	grep -q "^TracerPid:[[:space:]]*0$" "/proc/$BG_PID/status"
}

@test "cd-sample: Node.js GC churn is diagnosed, JIT frames named" {
	command -v node >/dev/null || skip "node not installed"
	bg_start node --perf-basic-prof --interpreted-frames-native-stack --logfile="$BATS_TEST_TMPDIR/v8.log" --no-logfile-per-isolate "$BATS_TEST_DIRNAME/targets/gc-churn.js" "$BATS_TEST_TMPDIR/ready" 20
	wait_file "$BATS_TEST_TMPDIR/ready" 10
	sleep 0.5
	run --separate-stderr cd-sample -p "$BG_PID" -d 3 --no-progress
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	out=$output
	echo "$out" | grep -Eq 'gc-churn.js[^"]*_\[j\]"'
	echo "$out" | grep -q 'v8::internal::Scavenger'
	[ "$(echo "$out" | meta "['jit_maps']")" -eq 1 ]
	run json_eval '[r["code"] for r in recs if r["type"]=="diagnosis"]' <<<"$out"
	assert_output --partial "gc_pressure"
	rm -f "/tmp/perf-$BG_PID.map"
}

@test "cd-sample: no permission against another user's process" {
	bg_start "$CD_TARGETS/hot2to1"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CD_BIN/cd-sample" -p "$BG_PID" -d 0.5
	assert_failure 3
	assert_output --partial "no permission"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CD_BIN/cd-sample" -p "$BG_PID" -d 0.5 --method ptrace
	assert_failure 3
}

@test "cd-sample: SIGINT ends the capture early and the output still comes" {
	hot_start
	"$CD_BIN/cd-sample" -p "$BG_PID" -d 60 >"$BATS_TEST_TMPDIR/out" 2>/dev/null &
	s=$!
	sleep 1.5
	kill -INT "$s"
	wait "$s"
	[ "$(meta "['ended_early']" <"$BATS_TEST_TMPDIR/out")" = True ]
	stacks <"$BATS_TEST_TMPDIR/out" | grep -q hot_two_thirds
	kill -0 "$BG_PID"
}

@test "cd-sample: ptrace capture interrupted by SIGTERM detaches" {
	hot_start
	"$CD_BIN/cd-sample" -p "$BG_PID" -d 60 --method ptrace >"$BATS_TEST_TMPDIR/out" 2>/dev/null &
	s=$!
	sleep 1
	kill -TERM "$s"
	wait "$s"
	[ "$(meta "['ended_early']" <"$BATS_TEST_TMPDIR/out")" = True ]
	grep -q "^TracerPid:[[:space:]]*0$" "/proc/$BG_PID/status"
	! grep -q "^State:[[:space:]]*t" "/proc/$BG_PID/status"
}

@test "cd-sample: pids from process records on stdin, passed through" {
	hot_start
	run --separate-stderr cd-sample -d 1 <<<"{\"type\":\"process\",\"pid\":$BG_PID,\"comm\":\"hot2to1\"}"
	assert_success
	[ "$(echo "$output" | head -1)" = "{\"type\":\"process\",\"pid\":$BG_PID,\"comm\":\"hot2to1\"}" ]
	echo "$output" | stacks | grep -q "^$BG_PID "
}

@test "cd-sample: --analyze recomputes the analysis from sample records" {
	in='{"type":"sample","pid":5,"tid":5,"comm":"node","thread":"node","stack":["main","v8::internal::Scavenger::Process()"],"count":40}
{"type":"sample","pid":5,"tid":6,"comm":"node","thread":"node","stack":["main","work"],"count":60}
{"type":"meta","tool":"cd-sample","mode":"cpu","effective_hz":100,"duration_s":1}'
	run --separate-stderr cd-sample --analyze <<<"$in"
	assert_failure 1	# a critical finding
	out=$output
	[ "$(echo "$out" | head -3)" = "$in" ]
	run json_eval '[(r["code"], r["severity"], r["cpu_pct"]) for r in recs if r["type"]=="diagnosis"]' <<<"$out"
	assert_output "[('gc_pressure', 'critical', 100)]"
	run json_eval '[(r["function"], r["self"], r["total"]) for r in recs if r["type"]=="hot_function"][:2]' <<<"$out"
	assert_output "[('work', 60, 60), ('v8::internal::Scavenger::Process()', 40, 40)]"
}

@test "cd-sample: --analyze with malformed input reports lines, never crashes" {
	printf '%s\n' '{"type":"sample","pid":1,"count":2,"stack":["a"]}' 'not json' \
		'{"type":"sample","pid":1,"count":"x","stack":["a"]}' \
		'{"type":"sample","pid":1,"count":1,"stack":[1,2]}' >"$BATS_TEST_TMPDIR/in"
	head -c 3000 /dev/urandom >>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr cd-sample --analyze <"$BATS_TEST_TMPDIR/in"
	assert_failure 4
	[[ "$stderr" == *"stdin:2:"* ]]
	[[ "$stderr" == *"stdin:3"* ]]
	echo "$output" | json_valid_lines
	run --separate-stderr cd-sample --analyze --strict <"$BATS_TEST_TMPDIR/in"
	assert_failure 4
	python3 -c 'print("{\"type\":\"sample\",\"pid\":1,\"count\":1,\"stack\":[" + ",".join(["\"f\""] * 5000) + "]}")' |
		cd-sample --analyze | json_valid_lines
}

# jitdump-target DIR under cd-sample; $1... are cd-sample's extra options.
jd_run() {
	mkdir -p "$BATS_TEST_TMPDIR/jd"
	run --separate-stderr cd-sample --no-progress --no-analysis "$@" -- \
		"$CD_TARGETS/jitdump-target" "$BATS_TEST_TMPDIR/jd"
	[ "$(echo "$output" | meta "['command_exit_status']")" != 77 ] || skip "x86_64 only"
	assert_success
}

# Samples whose leaf is frame $1.
leaf_count() {
	json_eval "sum(r['count'] for r in recs if r['type']=='sample' and r['stack'] and r['stack'][-1]=='$1')"
}

@test "cd-sample: JIT frames named from the jitdump by load time, the interpreter labelled" {
	jd_run
	out=$output
	# one address, two functions: each sample named by the load before it
	[ "$(leaf_count 'hotLoop#AAAAAA_[j]' <<<"$out")" -ge 10 ]
	[ "$(leaf_count 'otherLoop#BBBBBB_[j]' <<<"$out")" -ge 10 ]
	[ "$(leaf_count '[JS interpreter]' <<<"$out")" -ge 10 ]
	refute_output --partial 'JSC-DFG: '
	refute_output --partial '"[JIT]"'
	[ "$(echo "$out" | meta "['jitdumps'][0]['loads']")" -eq 2 ]
	[ "$(echo "$out" | meta "['jitdumps'][0]['path']")" = "$(ls "$BATS_TEST_TMPDIR"/jd/jit-*.dump)" ]
	[ "$(echo "$out" | meta "['naming_pct']['jitdump'] > 0")" = True ]
	[ "$(echo "$out" | meta "['naming_pct']['region'] > 0")" = True ]
	[ "$(echo "$out" | meta "['frames_unknown_pct'] < 5")" = True ]
	[ "$(echo "$out" | meta "['jsc_without_jitdump']")" = "[]" ]
	echo "$out" | cd-fold --jit | grep -q '^.*;hotLoop#AAAAAA_\[j\] [0-9]*$'
}

@test "cd-sample: a JSC process without a jitdump: [JIT], [JS interpreter] and how to get names" {
	JITDUMP=0 jd_run
	out=$output
	[ "$(leaf_count '[JIT]' <<<"$out")" -ge 10 ]
	[ "$(leaf_count '[JS interpreter]' <<<"$out")" -ge 10 ]
	[ "$(echo "$out" | json_eval "len([r for r in recs if r['type']=='meta'][-1]['jsc_without_jitdump'])")" -eq 1 ]
	echo "$out" | meta "['jit_names_hint']" | grep -q 'cd-launch claude'
}

@test "cd-sample: --jitdump-dir finds a dump the process does not map" {
	MARKER=0 jd_run
	[ "$(leaf_count '[JIT]' <<<"$output")" -ge 10 ]
	MARKER=0 jd_run --jitdump-dir "$BATS_TEST_TMPDIR/jd"
	[ "$(leaf_count 'hotLoop#AAAAAA_[j]' <<<"$output")" -ge 10 ]
}

@test "cd-sample: a malformed jitdump is reported in meta, frames fall back to [JIT]" {
	JITDUMP=corrupt jd_run
	out=$output
	[ "$(leaf_count '[JIT]' <<<"$out")" -ge 10 ]
	echo "$out" | meta "['jitdumps'][0]['error']" | grep -q 'size 8 is invalid'
}
