#!/usr/bin/env bats
# claude-trace, the quick monitor, against fake Claude Code processes.

load helpers/common
load helpers/fake

@test "claude-trace --help and --version" {
	run claude-trace --help
	assert_success
	assert_output --partial "-w, --watch"
	run claude-trace -h
	assert_success
	assert_output --partial "-K, --kill PID"
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
	run --separate-stderr claude-trace --pid "$FAKE_PID" -m 1
	assert_failure 1
	[[ "$stderr" == *"RSS is"* ]]
}

@test "-k 0 and -m 0 are off, as in the original" {
	fake_native spin
	run --separate-stderr claude-trace --pid "$FAKE_PID" -k 0 -m 0
	assert_success
	[[ "$stderr" != *warning* ]]
	run claude-trace --pid "$FAKE_PID" --kill-threshold 0 --mem-threshold 0
	assert_success
}

@test "-v adds threads and cwd, -t shows children" {
	fake_native children 2
	run claude-trace -v -t --pid "$FAKE_PID"
	assert_success
	assert_line --regexp 'THREADS +FILES +CWD'
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

# A HOME where the native installer has put versions 2.0.1 and 2.0.10, and
# a fake Claude Code running the older one from there.
fake_versions_home() {
	export HOME="$BATS_TEST_TMPDIR/home"
	local v="$HOME/.local/share/claude/versions"
	mkdir -p "$v"
	cp "$CD_TARGETS/fakeclaude" "$v/2.0.1"
	cp "$CD_TARGETS/fakeclaude" "$v/2.0.10"
	: >"$v/9.9.9.lock"	# an installer's leftover is not a version
	READY_FILE="$BATS_TEST_TMPDIR/old.ready" bg_start "$v/2.0.1" idle --session-id 7f0c-abc
	wait_file "$BATS_TEST_TMPDIR/old.ready" 5
	FAKE_PID=$(cat "$BATS_TEST_TMPDIR/old.ready")
}

# The fake npm registry and GitHub API; its port in $REG_PORT.
fake_registry() {
	rm -f "$BATS_TEST_TMPDIR/reg.port"
	bg_start "$CD_PYTHON" "$BATS_TEST_DIRNAME/helpers/fake-registry.py" "$BATS_TEST_TMPDIR/reg.port" "$1"
	wait_file "$BATS_TEST_TMPDIR/reg.port" 10
	REG_PORT=$(cat "$BATS_TEST_TMPDIR/reg.port")
}

@test "-j -v is a superset of the original's JSON, with OUTDATED, open files, session id" {
	fake_versions_home
	run claude-trace -j -v --pid "$FAKE_PID"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/t.json"
	run python3 "$BATS_TEST_DIRNAME/helpers/original_fields.py" \
		"$BATS_TEST_DIRNAME/fixtures/original-json-fields.json" claude-trace "$BATS_TEST_TMPDIR/t.json"
	assert_success
	run python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["processes"][0]
assert p["version"] == "2.0.1", p["version"]
assert p["is_outdated"] is True and d["outdated_count"] == 1, d
assert p["session_id"] == "7f0c-abc", p
assert p["open_files"] >= 3, p
assert d["totals"]["rss_human"][-1] in "KMG", d["totals"]
print(d["latest_local_version"])' "$BATS_TEST_TMPDIR/t.json"
	assert_success
	assert_output --regexp '^2\.0\.10$|^[3-9]'
	run claude-trace --pid "$FAKE_PID"
	assert_line --regexp "^$FAKE_PID .*OUTDATED"
	assert_output --partial "OUTDATED: 1 process running an older Claude Code"
}

@test "one-shot mode has the original's title and date line" {
	fake_native idle
	run claude-trace --pid "$FAKE_PID"
	assert_line --index 0 "Claude Code CLI Process Monitor"
	assert_line --index 1 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \| .+ \| Linux '
}

@test "STATE carries ps's flags: l multi-threaded, + in the terminal's foreground" {
	command -v script >/dev/null || skip "script(1) missing"
	dir="$BATS_TEST_TMPDIR/fg"
	mkdir -p "$dir"
	cp "$CD_TARGETS/fakeclaude" "$dir/claude"
	READY_FILE="$dir/ready" bg_start script -qec "exec $dir/claude idle" /dev/null
	wait_file "$dir/ready" 5
	# script's child outlives it: it has SIGHUP ignored, as bats started it
	echo "$(cat "$dir/ready")" >>"$BATS_TEST_TMPDIR/bg.pids"
	run claude-trace -j --pid "$(cat "$dir/ready")"
	run python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["processes"][0]["state"])' <<<"$output"
	assert_output --regexp '^S.*\+$'
	fake_node
	run claude-trace -j --pid "$FAKE_PID"
	run python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["processes"][0]["state"])' <<<"$output"
	assert_output --regexp '^[RS].*l'
}

@test "aggregate CPU warning when the processes together pass a core, never for one" {
	fake_native spin
	one=$FAKE_PID
	run claude-trace --pid "$one"
	refute_output --partial "aggregate"
	fake_native spin
	run claude-trace --pid "$one" --pid "$FAKE_PID"
	total=$(awk '/^TOTAL/ { print int($2) }' <<<"$output")
	if [ "$total" -ge 100 ]; then
		assert_output --partial "WARNING: High aggregate CPU usage"
	else
		refute_output --partial "aggregate CPU"
	fi
	refute_output --partial "aggregate memory"
}

@test "-K ends a Claude Code process with SIGTERM" {
	fake_native idle
	run claude-trace -K "$FAKE_PID"
	assert_success
	assert_output --partial "Sending SIGTERM to pid $FAKE_PID"
	assert_output --partial "ended"
	run kill -0 "$FAKE_PID"
	assert_failure
}

@test "-K and --help onto a full disk: the errno and exit 3 (the signal is still sent)" {
	fake_native idle
	run --separate-stderr bash -c 'claude-trace -K "$1" >/dev/full' _ "$FAKE_PID"
	assert_failure 3
	[[ "$stderr" == *"cannot write the output: No space left on device"* ]]
	run kill -0 "$FAKE_PID"
	assert_failure
	run --separate-stderr bash -c 'claude-trace --help >/dev/full'
	assert_failure 3
	[[ "$stderr" == *"No space left on device"* ]]
}

@test "-K refuses a process that is not Claude Code, and a pid that does not exist" {
	bg_start sleep 300
	run claude-trace -K "$BG_PID"
	assert_failure 3
	assert_output --partial "not a Claude Code process"
	kill -0 "$BG_PID"
	fake_mention
	run claude-trace --kill "$FAKE_PID"
	assert_failure 3
	kill -0 "$FAKE_PID"
	run claude-trace -K 999999
	assert_failure 3
	run claude-trace -9
	assert_failure 2
	run claude-trace -K abc
	assert_failure 2
}

@test "-K -9: SIGKILL for a process that ignores SIGTERM" {
	fake_native ignore-term
	run claude-trace -K "$FAKE_PID"
	assert_failure 3
	assert_output --partial "still running"
	assert_output --partial "-K $FAKE_PID -9"
	run claude-trace -K "$FAKE_PID" --force
	assert_success
	assert_output --partial "SIGKILL"
	run kill -0 "$FAKE_PID"
	assert_failure
}

@test "--check-version: running, installed and published versions, from npm's configured registry" {
	command -v npm >/dev/null || skip "npm missing"
	fake_versions_home
	fake_registry 9.9.9
	run env npm_config_registry="http://127.0.0.1:$REG_PORT/" claude-trace --check-version --pid "$FAKE_PID"
	assert_failure 1
	assert_output --regexp "running: +2\.0\.1 +pid $FAKE_PID"
	assert_output --partial "OUTDATED"
	assert_output --partial "published: 9.9.9"
	assert_output --partial "Update available"
	assert_output --partial "claude-trace --upgrade"
	fake_registry 2.0.10
	run env npm_config_registry="http://127.0.0.1:$REG_PORT/" claude-trace --check-version --pid "$FAKE_PID"
	assert_success
	assert_output --partial "Up to date"
}

@test "--check-version offline: a clear message and exit 3, not a hang" {
	command -v npm >/dev/null || skip "npm missing"
	fake_versions_home
	run timeout 120 env npm_config_registry="http://127.0.0.1:1/" claude-trace --check-version --pid "$FAKE_PID"
	assert_failure 3
	assert_output --partial "installed: 2.0.10"
	assert_output --partial "could not ask http://127.0.0.1:1/"
	assert_output --partial "offline?"
	run env PATH="$CD_BIN" "$CD_BIN/claude-trace" --check-version
	assert_failure 3
	assert_output --partial "npm was not found"
}

@test "--upgrade runs Claude Code's own updater" {
	mkdir -p "$BATS_TEST_TMPDIR/fakebin"
	printf '#!/bin/sh\necho "$@" >"%s/updater.args"\necho "Successfully updated from 2.0.1 to version 9.9.9"\n' \
		"$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/fakebin/claude"
	chmod +x "$BATS_TEST_TMPDIR/fakebin/claude"
	run env PATH="$BATS_TEST_TMPDIR/fakebin:$PATH" claude-trace --upgrade
	assert_success
	assert_output --partial "Running Claude Code's updater: $BATS_TEST_TMPDIR/fakebin/claude update"
	assert_output --partial "Successfully updated"
	[ "$(cat "$BATS_TEST_TMPDIR/updater.args")" = update ]
	printf '#!/bin/sh\necho "no network" >&2\nexit 1\n' >"$BATS_TEST_TMPDIR/fakebin/claude"
	run env PATH="$BATS_TEST_TMPDIR/fakebin:$PATH" claude-trace --upgrade
	assert_failure 3
	assert_output --partial "the updater failed (exit status 1)"
	run env PATH="$CD_BIN" "$CD_BIN/claude-trace" --upgrade
	assert_failure 3
	assert_output --partial "claude is not on PATH"
}

@test "-R shows the latest release notes; offline, a clear message" {
	command -v curl >/dev/null || skip "curl missing"
	fake_registry 9.9.9
	run env CLAUDE_TRACE_RELEASES_URL="http://127.0.0.1:$REG_PORT/releases/latest" claude-trace -R
	assert_success
	assert_output --partial "Claude Code v9.9.9  (2026-11-30)"
	assert_output --partial "Fixed the thing"
	run timeout 120 env CLAUDE_TRACE_RELEASES_URL="http://127.0.0.1:1/releases/latest" claude-trace --release-notes
	assert_failure 3
	assert_output --partial "could not fetch the release notes"
	run env CLAUDE_TRACE_RELEASES_URL="http://127.0.0.1:$REG_PORT/nothing" claude-trace -R
	assert_failure 3
}

@test "the original's macOS-only flags say why they have no Linux meaning" {
	run claude-trace --uninstall-app
	assert_failure 2
	assert_output --partial "menu bar app"
	run claude-trace --install
	assert_failure 2
	assert_output --partial "make install"
	run claude-trace -K 1 --check-version
	assert_failure 2
}

# claude-trace -w 0.5 on $FAKE_PID in the background: its pid in $pid, its
# output in $out; frames counts the frames it has shown.
watch_start() {
	out="$BATS_TEST_TMPDIR/out"
	claude-trace -w 0.5 --pid "$FAKE_PID" >"$out" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/bg.pids"
}
frames() { grep -c '^claude-trace: every' "$out" || true; }
# Wait up to $2 s for $1 frames (the test's checks say if they came).
watch_frames() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do [ "$(frames)" -ge "$1" ] && return; sleep 0.05; done
}
watch_stop() {
	kill -INT "$pid"
	wait "$pid" || true
}

@test "-w: CPU% is measured between frames: a stopped spinner drops to 0, and back" {
	fake_native spin
	watch_start
	cpu_last() { grep "^$FAKE_PID " "$out" | tail -1 | awk '{print $3}'; }
	watch_frames 3 10
	kill -STOP "$FAKE_PID"
	watch_frames $(( $(frames) + 3 )) 20
	stopped=$(cpu_last)
	kill -CONT "$FAKE_PID"
	watch_frames $(( $(frames) + 3 )) 20
	running=$(cpu_last)
	watch_stop
	echo "stopped=$stopped running=$running"
	[ "$stopped" = 0.0 ]
	python3 -c "import sys; sys.exit(0 if float('$running') > 0 else 1)"
}

@test "-w: every frame of a steady 20% process reads near 20%, the second too (it came 4 ms after the first: 0% calm, 245.9% under load)" {
	fake_native warm 30000
	watch_start
	watch_frames 5 15
	watch_stop
	cpus=$(grep "^$FAKE_PID " "$out" | awk '{print $3}' | tr '\n' ' ')
	echo "CPU% per frame: $cpus"
	[ "$(wc -w <<<"$cpus")" -ge 5 ]
	for c in $cpus; do
		python3 -c "import sys; sys.exit(0 if 5 <= float('$c') <= 60 else 1)"
	done
}

@test "-w: its cd-ps killed mid-watch is named in that frame, and the next frames come from a new one" {
	fake_native idle
	watch_start
	watch_frames 2 10
	ps1=$(pgrep -P "$pid" -x cd-ps)
	kill -KILL "$ps1"
	watch_frames $(( $(frames) + 3 )) 10
	ps2=$(pgrep -P "$pid" -x cd-ps)
	watch_stop
	grep -q "cd-ps failed: cd-ps was killed by signal 9" "$out"
	[ -n "$ps2" ] && [ "$ps2" != "$ps1" ]
	[ "$(grep -c "^$FAKE_PID " "$out")" -ge 3 ]
}
