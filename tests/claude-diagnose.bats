#!/usr/bin/env bats
# claude-diagnose overview mode.

load helpers/common
load helpers/fake

@test "claude-diagnose --help and --version" {
	run claude-diagnose --help
	assert_success
	assert_output --partial "Exit status"
	run claude-diagnose -h
	assert_success
	assert_output --partial "Exit status"
	run claude-diagnose --version
	assert_output --regexp '^claude-diagnose \(claude-diagnose\)'
	run claude-diagnose -V
	assert_output --regexp '^claude-diagnose \(claude-diagnose\)'
}

@test "--help and --version onto a full disk: the errno and exit 3" {
	for args in --help --version; do
		run --separate-stderr bash -c 'claude-diagnose "$1" >/dev/full' _ "$args"
		assert_failure 3
		[[ "$stderr" == *"cannot write the output: No space left on device"* ]]
	done
}

@test "overview of a healthy idle process: nothing critical, exit 0" {
	fake_native idle
	run claude-diagnose --pid "$FAKE_PID"
	assert_success
	assert_output --partial "Claude Code diagnostics"
	assert_output --partial "PID $FAKE_PID"
	assert_output --partial "No issues found."
	assert_output --partial "claude-trace -w 5 -k 90 -m 4096"
}

@test "a spinning process is a critical issue, exit 1, with a pasteable next step" {
	fake_native spin
	# The overview alone has no default critical CPU (a turn uses a core
	# too); --cpu-critical sets one. A shared CI core may give the spinner
	# little, so the threshold is low, not the expectation.
	run claude-diagnose --pid "$FAKE_PID" --interval 1 --cpu-critical 5
	assert_failure 1
	assert_output --partial "Critical issues"
	assert_output --partial "High CPU usage"
	assert_output --partial "claude-diagnose --pid $FAKE_PID -s"
}

@test "a busy child of Claude Code (the Bash tool's command) is named as the CPU consumer" {
	fake_native busy-child
	# --child-cpu 10: a loaded CI core may give the loop little.
	run claude-diagnose -j --pid "$FAKE_PID" --child-cpu 10 --interval 1
	assert_success
	run python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
p = d["processes"][0]
f = [x for x in p["diagnoses"] if x["code"] == "busy_child"]
assert len(f) == 1, p["diagnoses"]
f = f[0]
kid = p["children"][0]
assert f["child_pid"] == kid["pid"] and f["pid"] == p["pid"], f
assert f["tool"] == "Bash" and f["tool_command"] == "while :; do :; done", f
assert "source /nonexistent/shell-snapshots" in f["child_command"], f
assert "PID %d" % kid["pid"] in f["description"] and "while :; do :; done" in f["description"]
assert "kill %d" % kid["pid"] in f["remedy"]
assert "PID %d: Busy child process" % p["pid"] in d["summary"]["warnings"]
' <<<"$output"
	assert_success
	run claude-diagnose --pid "$FAKE_PID" --child-cpu 10 --interval 1
	assert_output --partial "Busy child process: PID"
	assert_output --partial "the Bash tool running a command"
}

@test "an idle child is not named; RSS findings are per process, with a remedy for Bun" {
	fake_native children 2
	run claude-diagnose -j --pid "$FAKE_PID"
	assert_success
	run python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["summary"]["findings"] == [], d["summary"]["findings"]' <<<"$output"
	assert_success
	# A lowered RSS threshold fires, in the process's own diagnoses.
	run claude-diagnose -j --pid "$FAKE_PID" --rss-warning 1 --rss-critical 0
	assert_success
	run python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
f = d["processes"][0]["diagnoses"]
assert [x["code"] for x in f] == ["high_memory"] and f[0]["severity"] == "warning", f
assert "Bun has no heap-size flag" in f[0]["remedy"], f[0]["remedy"]
assert "max-old-space-size" not in f[0]["remedy"]' <<<"$output"
	assert_success
}

@test "an orphan is a warning" {
	fake_orphan
	run claude-diagnose --pid "$FAKE_PID"
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	grep -q "^PPid:\s*1$" "/proc/$FAKE_PID/status" || skip "adopted by a subreaper"
	assert_output --partial "Orphaned process"
}

@test "-j: one JSON document with the original's report shape" {
	fake_native idle --api-key sk-ant-api03-TOPSECRETTOPSECRET
	run claude-diagnose -j --pid "$FAKE_PID"
	assert_success
	refute_output --partial TOPSECRET
	run python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["schema_version"] == 2
for k in ("timestamp", "hostname", "os_version", "process_count", "processes", "system", "summary"):
    assert k in d, k
s = d["summary"]
for k in ("total_cpu", "total_mem", "total_rss_mb", "critical_issues", "warnings"):
    assert k in s, k
assert "memory" in d["system"] and d["system"]["memory"]["total_kb"] > 0
print(d["processes"][0]["pid"])' <<<"$output"
	assert_output "$FAKE_PID"
}

@test "--pid of a process that is gone: clear error, exit 3" {
	run claude-diagnose --pid 999999
	assert_failure 3
	assert_output --partial "no process with pid 999999"
}

@test "no colour into a pipe; NO_COLOR honoured" {
	fake_native spin
	run claude-diagnose --pid "$FAKE_PID"
	refute_output --partial $'\033['
}

@test "usage errors exit 2" {
	run claude-diagnose --pid abc
	assert_failure 2
	run claude-diagnose extra
	assert_failure 2
}

@test "--json-file: the -j document beside the text report, created anew, never through a link" {
	fake_native idle
	f="$BATS_TEST_TMPDIR/r.json"
	echo secret >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$f"
	run claude-diagnose --pid "$FAKE_PID" --json-file "$f"
	assert_success
	assert_line --regexp "$FAKE_PID"
	refute_line --regexp '^\{'
	[ ! -L "$f" ]
	[ "$(cat "$BATS_TEST_TMPDIR/target")" = secret ]
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["pid"] for p in d["processes"]] == [int(sys.argv[2])]
assert sys.argv[1] in d["files_written"]' "$f" "$FAKE_PID"
	run claude-diagnose --pid "$FAKE_PID" --json-file /proc/nonexistent/r.json
	assert_output --partial "/proc/nonexistent/r.json"
}
