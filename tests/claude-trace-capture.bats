#!/usr/bin/env bats
# claude-trace --capture, the flight recorder, against a spinning fake
# Claude Code. Every wait is bounded; teardown kills what the test started.

load helpers/common
load helpers/fake

# Start claude-trace in the background; its pid in $CT_PID.
ct_start() {
	# The background job truncates them only once it runs: a wait_err
	# right after could still read the last run's "started" line.
	rm -f "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	claude-trace "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	CT_PID=$!
	echo "$CT_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# Wait up to $2 s for a line matching regex $1 in claude-trace's stderr.
wait_err() {
	local i=0 n=$(( $2 * 20 ))
	while ! grep -Eqs "$1" "$BATS_TEST_TMPDIR/err" && [ $i -lt $n ]; do
		sleep 0.05
		i=$((i + 1))
	done
	grep -Eqs "$1" "$BATS_TEST_TMPDIR/err"
}

frames() {
	grep -sc '^claude-trace: every' "$BATS_TEST_TMPDIR/out" || true
}

# Wait up to $2 s for $1 more frames than now.
wait_frames() {
	local want=$(( $(frames) + $1 )) i=0 n=$(( $2 * 20 ))
	while [ "$(frames)" -lt "$want" ] && [ $i -lt $n ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ "$(frames)" -ge "$want" ]
}

# The capture drivers claude-trace started: children named claude-diagnose.
drivers_of() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" = claude-diagnose ] && echo "$c"
	done
	return 0
}

# Any process left in process group $1?
group_alive() {
	ps -eo pgid= | grep -Eq "^ *$1\$"
}

teardown() {
	[ -n "${FAKE_PID:-}" ] && kill -CONT "$FAKE_PID" 2>/dev/null
	bg_kill_all
}

@test "--capture: a crossing makes one folder with report, JSON, folded and SVG; a second crossing inside --capture-every makes none" {
	fake_native spin
	D="$BATS_TEST_TMPDIR/caps"
	ct_start -w 0.5 -k 2 --capture "$D" --capture-duration 1 --capture-every 600 -p "$FAKE_PID"
	wait_err "capture of pid $FAKE_PID .*started: $D/" 30
	wait_err "capture of pid $FAKE_PID done in" 90
	[ "$(ls "$D" | wc -l)" -eq 1 ]
	f=$(ls -d "$D"/*)
	[[ "${f##*/}" =~ ^[0-9]{8}T[0-9]{6}Z-pid$FAKE_PID$ ]]
	[ "$(stat -c %a "$f")" = 700 ]
	grep -q "$FAKE_PID" "$f/report.txt"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["pid"] for p in d["processes"]] == [int(sys.argv[2])], d["processes"]
assert any(x.endswith("flamegraph.svg") for x in d["files_written"])' "$f/report.json" "$FAKE_PID"
	[ -s "$f/flamegraph.folded" ]
	grep -q '<svg' "$f/flamegraph.svg"
	# the top lines of the frames say what was captured, and where
	grep -q "^captures in $D: 1 started" "$BATS_TEST_TMPDIR/out"
	grep -q "^  capture of pid $FAKE_PID done in .*: $f " "$BATS_TEST_TMPDIR/out"

	# below the threshold for a few frames, then over it again
	kill -STOP "$FAKE_PID"
	wait_frames 4 30
	kill -CONT "$FAKE_PID"
	wait_err "pid $FAKE_PID crossed again .*not captured: its last capture began" 30 || { cat "$BATS_TEST_TMPDIR/err"; grep -A3 "^PID" "$BATS_TEST_TMPDIR/out" | tail -20; false; }
	wait_frames 2 30
	[ "$(ls "$D" | wc -l)" -eq 1 ]
	[ "$(grep -c 'started:' "$BATS_TEST_TMPDIR/err")" -eq 1 ]
	kill -INT "$CT_PID"
	rc=0
	wait "$CT_PID" || rc=$?
	[ "$rc" -eq 1 ]	# a threshold was crossed
}

@test "--capture: Ctrl-C or a closed terminal stops a running capture, which still writes its report; nothing is left running" {
	fake_native spin
	for sig in INT HUP; do
	D="$BATS_TEST_TMPDIR/caps-$sig"
	ct_start -w 0.5 -k 2 --capture "$D" --capture-duration 120 -p "$FAKE_PID"
	wait_err "capture of pid $FAKE_PID .*started" 30
	drv=""
	for _ in $(seq 100); do
		drv=$(drivers_of "$CT_PID")
		[ -n "$drv" ] && break
		sleep 0.05
	done
	[ -n "$drv" ]
	# the capture's stages have started too
	sleep 1
	group_alive "$drv"
	kill -"$sig" "$CT_PID"
	# the driver ends its stages (they detach) and writes the report
	for _ in $(seq 600); do kill -0 "$CT_PID" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$CT_PID" 2>/dev/null
	! group_alive "$drv"
	grep -q "capture of pid $FAKE_PID stopped early, written in" "$BATS_TEST_TMPDIR/err"
	f=$(ls -d "$D"/*)
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["interrupted"] is True' "$f/report.json"
	done
	# the target was not harmed: still running, not stopped or traced
	kill -0 "$FAKE_PID"
	[ "$(awk '/^TracerPid:/ {print $2}' /proc/"$FAKE_PID"/status)" = 0 ]
}

@test "--capture: when claude-trace is killed outright, its capture ends too" {
	fake_native spin
	D="$BATS_TEST_TMPDIR/caps"
	ct_start -w 0.5 -k 2 --capture "$D" --capture-duration 120 -p "$FAKE_PID"
	wait_err "capture of pid $FAKE_PID .*started" 30
	drv=""
	for _ in $(seq 100); do
		drv=$(drivers_of "$CT_PID")
		[ -n "$drv" ] && break
		sleep 0.05
	done
	[ -n "$drv" ]
	sleep 1
	kill -KILL "$CT_PID"
	for _ in $(seq 600); do group_alive "$drv" || break; sleep 0.05; done
	! group_alive "$drv"
	[ "$(awk '/^TracerPid:/ {print $2}' /proc/"$FAKE_PID"/status)" = 0 ]
}

@test "--capture-keep K: only the newest K capture folders stay, and nothing else is touched" {
	fake_native spin
	D="$BATS_TEST_TMPDIR/caps"
	mkdir -p "$D/20200101T000000Z-pid1" "$D/20200102T000000Z-pid2" \
	    "$D/20200103T000000Z-pid3" "$D/notes"
	touch "$D/20200101T000000Z-pid1/report.txt" "$D/notes/keep-me" "$D/20200101T000000Z-pid1.txt"
	ct_start -w 0.5 -k 2 --capture "$D" --capture-keep 2 --capture-duration 60 -p "$FAKE_PID"
	wait_err "capture of pid $FAKE_PID .*started" 30
	kill -INT "$CT_PID"
	# the capture just started: a SIGINT its driver got before it could
	# catch it was lost, and claude-trace waited out its 10 s grace
	wait_bounded "$CT_PID" 8
	run ls "$D"
	assert_line 20200103T000000Z-pid3
	assert_line --regexp "^[0-9]{8}T[0-9]{6}Z-pid$FAKE_PID$"
	assert_line notes
	assert_line 20200101T000000Z-pid1.txt
	refute_line 20200101T000000Z-pid1
	refute_line 20200102T000000Z-pid2
	[ -f "$D/notes/keep-me" ]
}

@test "--capture needs -w and a threshold; its options need --capture" {
	run claude-trace --capture "$BATS_TEST_TMPDIR/c" -k 50
	assert_failure 2
	assert_output --partial "needs -w and a threshold"
	run claude-trace --capture "$BATS_TEST_TMPDIR/c" -w 1
	assert_failure 2
	run claude-trace -w 1 -k 50 --capture-every 10
	assert_failure 2
	assert_output --partial "go with --capture DIR"
	run claude-trace -w 1 -k 50 --capture "$BATS_TEST_TMPDIR/c" --capture-keep 0
	assert_failure 2
	run claude-trace -w 1 -k 50 --capture "$BATS_TEST_TMPDIR/c" --capture-duration 0
	assert_failure 2
	run claude-trace -w 1 -k 50 --capture /proc/nonexistent/x
	assert_failure 3
	[ ! -e "$BATS_TEST_TMPDIR/c" ]
}

@test "--capture-before: the capture's folder also holds the sample from before the crossing, named in its report" {
	fake_native warm 4000	# 20% CPU in warm_up for 4 s, then a spin
	run cd-sample --method perf -d 0.2 --no-analysis --no-progress --pid "$FAKE_PID"
	[ "$status" -eq 0 ] || skip "perf_event_open refused here: --capture-before samples with perf only"
	D="$BATS_TEST_TMPDIR/caps"
	ct_start -w 0.5 -k 45 --capture "$D" --capture-duration 1 --capture-before 10 -p "$FAKE_PID"
	wait_frames 3 30
	# the watcher's own cd-sample runs beside it while the target is busy
	sampler=""
	for _ in $(seq 100); do
		for c in $(cat /proc/"$CT_PID"/task/*/children); do
			[ "$(cat /proc/"$c"/comm 2>/dev/null)" = cd-sample ] && sampler=$c
		done
		[ -n "$sampler" ] && break
		sleep 0.05
	done
	[ -n "$sampler" ]
	wait_err "capture of pid $FAKE_PID .*started: $D/" 60
	wait_err "capture of pid $FAKE_PID done in .*before\.\*" 90
	f=$(ls -d "$D"/*)
	# the warm-up's own frames, counted before the crossing
	[ -s "$f/before.folded" ] || { cat "$f/before.txt" "$BATS_TEST_TMPDIR/err"; grep "^$FAKE_PID " "$BATS_TEST_TMPDIR/out"; false; }
	grep -Eq '^claude;.*warm_up.* [0-9]+$' "$f/before.folded"
	grep -q '<svg' "$f/before.svg"
	grep -q 'Before the crossing' "$f/before.svg"
	grep -q '^Before the crossing (--capture-before): [0-9]* samples at 19 Hz' "$f/report.txt"
	grep -q 'warm_up' "$f/before.tree"
	# files are the invoking user's, private
	[ "$(stat -c %a "$f/before.folded")" = 600 ]
	kill -INT "$CT_PID"
	rc=0
	wait "$CT_PID" || rc=$?
	[ "$rc" -eq 1 ]
	# nothing left behind: the watcher's cd-samples ended with it
	for c in $sampler; do
		for _ in $(seq 100); do kill -0 "$c" 2>/dev/null || break; sleep 0.05; done
		run kill -0 "$c"
		assert_failure
	done
	[ "$(awk '/^TracerPid:/ {print $2}' /proc/"$FAKE_PID"/status)" = 0 ]
}

@test "--capture-before: idle processes are not sampled; the report says what it had" {
	fake_native idle
	idle=$FAKE_PID
	fake_native spin
	kill -STOP "$FAKE_PID"
	D="$BATS_TEST_TMPDIR/caps"
	ct_start -w 0.5 -k 50 --capture "$D" --capture-duration 1 --capture-before 2 -p "$idle" -p "$FAKE_PID"
	wait_frames 4 30
	# nothing busy: no sampler runs
	for c in $(cat /proc/"$CT_PID"/task/*/children); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" != cd-sample ]
	done
	kill -CONT "$FAKE_PID"
	wait_err "capture of pid $FAKE_PID done in" 90
	f=$(ls -d "$D"/*)
	# a sample if the spinner was seen busy below the threshold first (a
	# loaded machine), else a statement that there was none
	grep -Eq '^Before the crossing \(--capture-before\): ([0-9]+ samples at 19 Hz|no sample: the process used under 0.5% CPU)' "$f/report.txt"
	kill -INT "$CT_PID"
	wait "$CT_PID" || true
}

@test "--capture-before off (the default): no watcher's cd-sample, no before files" {
	fake_native spin
	D="$BATS_TEST_TMPDIR/caps"
	ct_start -w 0.5 -k 50 --capture "$D" --capture-duration 1 -p "$FAKE_PID"
	wait_err "capture of pid $FAKE_PID done in" 90
	f=$(ls -d "$D"/*)
	[ ! -e "$f/before.folded" ]
	run grep -q 'Before the crossing' "$f/report.txt"
	assert_failure
	kill -INT "$CT_PID"
	wait "$CT_PID" || true
}

@test "--capture-before: its value is checked, and it goes with --capture" {
	run claude-trace -w 1 -k 50 --capture-before 5
	assert_failure 2
	assert_output --partial "go with --capture DIR"
	run claude-trace -w 1 -k 50 --capture "$BATS_TEST_TMPDIR/c" --capture-before 0
	assert_failure 2
	run claude-trace -w 1 -k 50 --capture "$BATS_TEST_TMPDIR/c" --capture-before abc
	assert_failure 2
	[ ! -e "$BATS_TEST_TMPDIR/c" ]
}
