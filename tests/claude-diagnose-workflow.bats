#!/usr/bin/env bats
# The whole workflow: claude-diagnose driving every stage against targets
# with known problems.

load helpers/common
load helpers/fake

# Codes of every finding in the -j document in $output.
codes() {
	python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
for p in d["processes"]:
    for x in p["diagnoses"]:
        print(x["severity"], x.get("code") or x["issue"])
' <<<"$output"
}

@test "combinations that mean nothing are refused with exit 2" {
	run claude-diagnose --flamegraph
	assert_failure 2
	assert_output --partial "add -s"
	run claude-diagnose -o out
	assert_failure 2
	run claude-diagnose --sample-duration 3
	assert_failure 2
	run claude-diagnose --duration 3
	assert_failure 2
	run claude-diagnose --duration 0
	assert_failure 2
}

@test "spinning event loop: diagnosed from the system calls" {
	fake_misbehave spin
	run claude-diagnose -j --pid "$FAKE_PID" -D --duration 1
	assert_failure 1
	run codes
	assert_output --partial "event_loop_spin"
}

@test "spinning event loop: diagnosed from the CPU samples" {
	fake_misbehave spin
	run claude-diagnose -j --pid "$FAKE_PID" -s --sample-duration 1.5
	run codes
	assert_output --partial "event_loop_spin"
}

@test "fd leak: many open fds" {
	fake_misbehave fd-leak 1500
	run claude-diagnose -j --pid "$FAKE_PID" -d
	run codes
	assert_output --partial "many_fds"
}

@test "inotify storm: excessive file watching, with the watched paths" {
	mkdir -p "$BATS_TEST_TMPDIR/tree"
	fake_misbehave watch "$BATS_TEST_TMPDIR/tree" 8500
	run claude-diagnose --pid "$FAKE_PID" -d
	assert_output --partial "Excessive file watching"
	assert_output --partial "inotify: 8500 watches"
	assert_output --partial "$BATS_TEST_TMPDIR/tree/w"
}

@test "ENOENT storm: high I/O error rate with the paths" {
	mkdir -p "$BATS_TEST_TMPDIR/e"
	fake_misbehave enoent "$BATS_TEST_TMPDIR/e"
	run claude-diagnose --pid "$FAKE_PID" -D --io --duration 1
	assert_output --partial "High I/O error rate"
	assert_output --partial "$BATS_TEST_TMPDIR/e/missing-"
	assert_output --partial "Top Syscalls"
}

@test "refused connections: network retry storm with the address" {
	fake_misbehave refused 9
	run claude-diagnose --pid "$FAKE_PID" -D --network --duration 1.5
	assert_output --partial "Network retry storm"
	assert_output --partial "127.0.0.1:9"
}

@test "non-root -D on one's own sleeping process: ptrace, its waits never a critical" {
	d=$(mktemp -d /tmp/cd-diag-test.XXXXXX)
	cp "$CD_TARGETS/misbehave" "$d/claude"
	chmod 777 "$d"
	chmod 755 "$d/claude"
	READY_FILE="$d/ready" bg_start setpriv --reuid=nobody --regid=nogroup --clear-groups "$d/claude" sleepers 6
	wait_file "$d/ready" 10
	pid=$(cat "$d/ready")
	# attaching interrupts every thread's sleep, resumed as restart_syscall
	# for the rest of its second: hundreds of ms, "slow" to a naive rule
	run setpriv --reuid=nobody --regid=nogroup --clear-groups claude-diagnose --pid "$pid" -D --duration 2
	rm -rf "$d"
	assert_success
	refute_output --partial "Critical issues"
	assert_output --partial "method: ptrace"
	assert_output --partial "fallback: bpf:"
	assert_output --partial "restart_syscall"
	refute_output --partial "Slow system calls: restart_syscall"
}

@test "a connection opened before tracing shows as its address in Network activity" {
	fake_misbehave talk
	run claude-diagnose --pid "$FAKE_PID" -D --network --duration 1
	assert_output --partial "Network activity"
	echo "$output" | sed -n '/Network activity/,/method:/p' | grep -Eq ' 127\.0\.0\.1:[0-9]+$'
	refute_output --partial "socket:["
}

@test "GC churn in Node.js: GC pressure" {
	[ -f "$BATS_TEST_DIRNAME/targets/gc-churn.js" ] || skip "no gc-churn target"
	# gc-churn.js writes its ready file as it starts churning
	bg_start node "$BATS_TEST_DIRNAME/targets/gc-churn.js" "$BATS_TEST_TMPDIR/gc.ready"
	wait_file "$BATS_TEST_TMPDIR/gc.ready" 10
	pid=$BG_PID
	run claude-diagnose -j --pid "$pid" -s --sample-duration 3
	run codes
	assert_output --partial "gc_pressure"
}

@test "a healthy idle process: nothing critical, exit 0, every section there" {
	fake_misbehave idle
	run claude-diagnose --pid "$FAKE_PID" -d -s -D --sample-duration 1 --duration 1
	assert_success
	refute_output --partial "Critical issues"
	assert_output --partial "Hot Functions"
	assert_output --partial "File Descriptors:"
	assert_output --partial "Top Syscalls"
}

@test "-j with every capture validates against the schema" {
	python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema missing"
	fake_misbehave spin
	run claude-diagnose -j --pid "$FAKE_PID" -d -s -D --sample-duration 1 --duration 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/r.json"
	python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema)
p = doc["processes"][0]
assert p["sample"]["method"] in ("perf", "ptrace"), p["sample"]
assert p["dtrace"]["method"] in ("bpf", "tracepoint", "ptrace"), p["dtrace"]
# How the fd table and its sockets were read, both named.
assert p["file_descriptors"]["method"].split(", ")[0] in ("bpf_iter", "procfs"), p["file_descriptors"]["method"]
assert p["file_descriptors"]["summary"]["total"] >= 3
assert any(s["name"] == "epoll_wait" for s in p["dtrace"]["syscalls"])
' "$BATS_TEST_DIRNAME/schema/report.schema.json" "$BATS_TEST_TMPDIR/r.json"
}

@test "-j is a superset of the original's JSON: every field, name and type, and its jq paths" {
	fake_misbehave spin
	spin=$FAKE_PID
	fake_misbehave refused 9
	cd "$BATS_TEST_TMPDIR"
	# --cpu-critical 0.01: a critical finding for .summary.critical_issues[0].
	run claude-diagnose -j --pid "$spin" --pid "$FAKE_PID" -d -s -D --sample-duration 1 \
		--duration 1 --flamegraph -o fg.svg --cpu-critical 0.01
	printf '%s\n' "$output" >r.json
	run python3 "$BATS_TEST_DIRNAME/helpers/original_fields.py" \
		"$BATS_TEST_DIRNAME/fixtures/original-json-fields.json" claude-diagnose r.json
	assert_success
	command -v jq >/dev/null || skip "jq missing"
	for q in '.processes[0].cpu' '.processes[0].mem' '.processes[0].rss_mb' \
	    '.summary.critical_issues[0]' '.summary.warnings' '.summary.total_rss_mb' \
	    '.processes[0].file_descriptors.total_fds' '.processes[0].file_descriptors.by_type' \
	    '.processes[0].dtrace.top_syscalls[0].name' '.processes[0].dtrace.syscall_summary[0].total_time_us' \
	    '.processes[0].sample.hot_functions[0].samples' '.processes[0].sample.success' \
	    '.processes[0].dtrace.flamegraph_path' '.system.memory.pressure_level' \
	    '.system.memory.free_memory_mb'; do
		run jq -e "$q" r.json
		assert_success
	done
	run jq -r '.summary.critical_issues[]' r.json
	assert_line --regexp '^PID [0-9]+: High CPU usage$'
	run jq -r '.processes[0].dtrace.flamegraph_path' r.json
	assert_output "fg-syscalls.svg"
	run jq -r '.processes[] | select(.pid == '"$FAKE_PID"') | .dtrace.network_operations[] | select(.port == 9) | .address' r.json
	assert_output --partial "127.0.0.1"
	run jq -r '.processes[] | select(.pid == '"$spin"') | .diagnoses[] | select(.code == "high_cpu") | .severity' r.json
	assert_output critical
}

@test "--flamegraph -o writes FILE.svg and FILE.folded, named in the report" {
	fake_misbehave spin
	cd "$BATS_TEST_TMPDIR"
	run claude-diagnose --pid "$FAKE_PID" -s -D --sample-duration 1 --duration 1 --flamegraph -o fg
	assert_output --partial "Files written"
	assert_output --partial "fg.svg"
	assert_output --partial "fg-syscalls.svg"
	for f in fg.svg fg-syscalls.svg; do
		python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$f"
	done
	grep -qE '^.+ [0-9]+$' fg.folded
	grep -q 'epoll_wait' fg-syscalls.folded
}

@test "-o x.svg, the original's form: x.svg, x.folded, x-syscalls.svg; never x.svg.svg" {
	fake_misbehave spin
	cd "$BATS_TEST_TMPDIR"
	run claude-diagnose --pid "$FAKE_PID" -D --duration 0.5 --flamegraph -o debug.svg
	[ -s debug.svg ] && [ -s debug.folded ]
	[ ! -e debug.svg.svg ] && [ ! -e debug.svg.folded ]
	python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' debug.svg
	run claude-diagnose --pid "$FAKE_PID" -s -D --sample-duration 0.5 --duration 0.5 --flamegraph -o both.svg
	[ -s both.svg ] && [ -s both.folded ] && [ -s both-syscalls.svg ] && [ -s both-syscalls.folded ]
	[ ! -e both.svg-syscalls.svg ]
	run claude-diagnose --pid "$FAKE_PID" -D --duration 0.5 --flamegraph -o plain
	[ -s plain.svg ] && [ -s plain.folded ]
}

@test "under sudo, files written belong to the invoking user" {
	fake_misbehave idle
	cd "$BATS_TEST_TMPDIR"
	run env SUDO_UID=65534 SUDO_GID=65534 claude-diagnose --pid "$FAKE_PID" -D --duration 0.5 --flamegraph -o mine
	assert_output --partial "mine.svg"
	[ "$(stat -c %u:%g mine.svg)" = 65534:65534 ]
	[ "$(stat -c %u:%g mine.folded)" = 65534:65534 ]
}

@test "an existing symlink at the output path is replaced, not followed" {
	fake_misbehave idle
	cd "$BATS_TEST_TMPDIR"
	echo keep >victim
	ln -s victim fg.svg
	run claude-diagnose --pid "$FAKE_PID" -D --duration 0.5 --flamegraph -o fg
	[ "$(cat victim)" = keep ]
	[ ! -L fg.svg ]
}

@test "an --io flame graph has the files as its leaves" {
	mkdir -p "$BATS_TEST_TMPDIR/e"
	fake_misbehave enoent "$BATS_TEST_TMPDIR/e"
	cd "$BATS_TEST_TMPDIR"
	run claude-diagnose --pid "$FAKE_PID" -D --io --duration 1 --flamegraph -o io
	[ -s io.folded ]
	grep -Eq "^claude;file;(newfstatat|stat);$BATS_TEST_TMPDIR/e/missing-[0-9]+ [0-9]+\$" io.folded
	grep -q "missing-" io.svg
}

@test "Ctrl-C or a closed terminal mid-capture: the report still comes, the target is untouched" {
	fake_misbehave spin
	for sig in INT HUP; do
		claude-diagnose --pid "$FAKE_PID" -s -D --sample-duration 30 --duration 30 \
			>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
		drv=$!
		sleep 3
		kill -"$sig" "$drv"
		wait_bounded "$drv" 10	# within 10 s, not after 30
		run cat "$BATS_TEST_TMPDIR/out"
		assert_output --partial "stopped early ($([ "$sig" = INT ] && echo Ctrl-C || echo SIGHUP))"
		assert_output --partial "Top Syscalls"
	done
	state=$(awk '/^State:/ { print $2 }' "/proc/$FAKE_PID/status")
	[ "$state" = R ] || [ "$state" = S ]
	! grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$FAKE_PID/status"
}

@test "Ctrl-C as the stages start: each ends at once, stopped, not failed; no hang" {
	fake_misbehave spin
	for i in 1 2 3; do
		claude-diagnose --pid "$FAKE_PID" -d -s -D --sample-duration 30 \
			--duration 30 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
		drv=$!
		# the moment its first stage is forked: before that stage can
		# catch SIGINT, often before it execs
		for _ in $(seq 2000); do
			[ -n "$(pgrep -P "$drv")" ] && break
		done
		kill -INT "$drv"
		wait_bounded "$drv" 8
		[ "$WAIT_RC" = 0 ] || [ "$WAIT_RC" = 1 ]	# not 3: nothing failed
		run cat "$BATS_TEST_TMPDIR/out"
		assert_output --partial "stopped early"
		refute_output --partial "Capture failed"
		refute_output --partial "killed by signal"
	done
	! grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$FAKE_PID/status"
}

@test "the driver killed mid-capture: its stages end with it, not at --duration" {
	fake_misbehave spin
	claude-diagnose --pid "$FAKE_PID" -s -D --sample-duration 30 --duration 30 \
		>/dev/null 2>&1 3>&- &
	drv=$!
	for _ in $(seq 100); do
		[ "$(pgrep -P "$drv" | wc -l)" -ge 2 ] && break
		sleep 0.05
	done
	stages=$(pgrep -P "$drv" | tr '\n' ' ')
	[ -n "$stages" ]
	sleep 1
	kill -KILL "$drv"
	wait "$drv" || true
	# the kernel tells them (PR_SET_PDEATHSIG): they detach and end
	for _ in $(seq 100); do
		alive=""
		for p in $stages; do
			[ "$(awk '/^State:/ { print $2 }' "/proc/$p/status" 2>/dev/null)" = Z ] ||
				[ ! -e "/proc/$p" ] || alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	[ -z "$alive" ]
	! grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$FAKE_PID/status"
}

@test "a stage program missing: its section says so, the rest of the report comes" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cp "$CD_BIN/claude-diagnose" "$CD_BIN/cd-ps" "$BATS_TEST_TMPDIR/bin/"
	fake_misbehave idle
	run env PATH=/usr/bin:/bin "$BATS_TEST_TMPDIR/bin/claude-diagnose" --pid "$FAKE_PID" -d
	# The one capture asked for gave nothing: the report could not do its job.
	assert_failure 3
	assert_output --partial "cd-fds was not found"
	assert_output --partial "PID $FAKE_PID"
	assert_output --partial "Capture failed"
	# One capture of two failing is a partial report, not a failure.
	cp "$CD_BIN/cd-trace" "$CD_BIN/cd-categorize" "$BATS_TEST_TMPDIR/bin/"
	run env PATH=/usr/bin:/bin "$BATS_TEST_TMPDIR/bin/claude-diagnose" --pid "$FAKE_PID" -d -D --duration 0.5
	assert_success
	assert_output --partial "cd-fds was not found"
	assert_output --partial "Top Syscalls"
}

@test "the report says what a sample can and cannot show: too few samples, kernel frames" {
	fake_native blip
	run claude-diagnose --pid "$FAKE_PID" -s --sample-duration 1
	assert_output --partial "Hot Functions"
	assert_output --regexp "too few samples to rank functions|no samples: the process did not run"
	refute_output --partial "SELF% TOTAL%"
	fake_native spin-threads 2
	run claude-diagnose -j --pid "$FAKE_PID" -s --sample-duration 1
	kf=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["processes"][0]["sample"]["meta"]["kernel_frames"])' <<<"$output")
	if [ "$kf" = False ]; then
		run claude-diagnose --pid "$FAKE_PID" -s --sample-duration 1
		assert_output --partial "the stacks stop at the system call"
	fi
}

@test "a target that exits mid-capture: the report comes, nothing crashes" {
	fake_native exit-after 1200
	run claude-diagnose --pid "$FAKE_PID" -d -s -D --sample-duration 3 --duration 3
	[ "$status" -le 1 ]
	assert_output --partial "PID $FAKE_PID"
	assert_output --partial "Top Syscalls"
	assert_output --regexp "the process exited [0-9.]+ s into the 3 s capture|the process exited during the capture"
}

@test "as a user who may not look inside the process, every capture failing exits 3" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to an unprivileged user"
	command -v setpriv >/dev/null || skip "setpriv missing"
	fake_misbehave idle
	cd /
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$CD_BIN/claude-diagnose" \
		--pid "$FAKE_PID" -d -s -D --sample-duration 0.5 --duration 0.5
	assert_failure 3
	assert_output --partial "PID $FAKE_PID"
	assert_output --partial "Capture failed"
}
