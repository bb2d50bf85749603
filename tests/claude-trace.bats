#!/usr/bin/env bats
# claude-trace, the quick monitor, against fake Claude Code processes.

load helpers/common
load helpers/fake

@test "claude-trace --help and --version" {
	run claude-trace --help
	assert_success
	assert_output --partial "-w, --watch"
	run claude-trace --version
	assert_output --regexp '^claude-trace \(claude-diagnose\)'
}

@test "one-shot table with totals" {
	fake_native idle
	run claude-trace --pid "$FAKE_PID"
	assert_success
	assert_line --regexp '^PID +PPID +CPU% +MEM% +RSS +STATE +TIME +PROJECT'
	assert_line --regexp "^$FAKE_PID "
	assert_line --regexp '^TOTAL .* 1 process'
	refute_output --partial $'\033['
}

@test "no Claude process: a clear sentence, exit 0" {
	# a pid filter that matches a live non-Claude process still lists it,
	# so hide everything with a match on nothing and no processes
	run env PATH="$CD_BIN:/usr/bin:/bin" claude-trace --pid $$
	assert_success
	run claude-trace -j --pid $$
	assert_success
}

@test "-k warns on stderr and highlights, exit 1" {
	fake_native spin
	run --separate-stderr claude-trace --pid "$FAKE_PID" -k 10
	assert_failure 1
	[[ "$stderr" == *"warning: pid $FAKE_PID uses"* ]]
}

@test "-m warns on RSS" {
	fake_native idle
	run --separate-stderr claude-trace --pid "$FAKE_PID" -m 0
	assert_failure 1
	[[ "$stderr" == *"RSS is"* ]]
}

@test "-v adds threads and cwd, -t shows children" {
	fake_native children 2
	run claude-trace -v -t --pid "$FAKE_PID"
	assert_success
	assert_line --regexp 'THREADS +CWD'
	[ "$(printf '%s\n' "$output" | grep -c '^  [0-9]')" -eq 2 ]
}

@test "-j gives the documented JSON shape" {
	fake_native idle
	run claude-trace -j --pid "$FAKE_PID"
	assert_success
	run python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
for k in ("timestamp", "hostname", "os", "os_version", "process_count", "orphaned_count", "totals", "processes"):
    assert k in d, k
assert set(d["totals"]) >= {"cpu_percent", "mem_percent", "rss_kb"}
p = d["processes"][0]
for k in ("pid","ppid","cpu_percent","mem_percent","rss_kb","vsz_kb","state","elapsed_time","command","version","is_orphaned","threads","cwd","project"):
    assert k in p, k
print(d["process_count"])' <<<"$output"
	assert_output 1
}

@test "-w refreshes until Ctrl-C, then exits cleanly" {
	fake_native idle
	claude-trace -w 0.5 --pid "$FAKE_PID" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	# two frames, then Ctrl-C (up to 10 s for them on a loaded machine)
	for _ in $(seq 200); do
		[ "$(grep -c '^claude-trace: every' "$BATS_TEST_TMPDIR/out")" -ge 2 ] && break
		sleep 0.05
	done
	kill -INT "$pid"
	wait "$pid"
	frames=$(grep -c '^claude-trace: every' "$BATS_TEST_TMPDIR/out")
	echo "frames=$frames"
	[ "$frames" -ge 2 ]
}

@test "-w N takes its argument separately, as documented" {
	run claude-trace -w 5 -k 50 --bogus
	assert_failure 2
	run claude-trace -w -k
	assert_failure 2
}

@test "claude-trace says so when cd-ps is missing" {
	mkdir -p "$BATS_TEST_TMPDIR/lonely"
	cp "$CD_BIN/claude-trace" "$BATS_TEST_TMPDIR/lonely/"
	run env PATH=/usr/bin:/bin "$BATS_TEST_TMPDIR/lonely/claude-trace"
	assert_failure 3
	assert_output --partial "cd-ps not found"
}
