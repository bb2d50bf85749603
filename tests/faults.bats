#!/usr/bin/env bats
# The fault suite: targets and conditions picked to break the tools (many
# busy threads, threads that come and go, zombies, signals, unwritable
# output). Every case is bounded in time: a tool that hangs is killed and
# the case fails, it never holds the suite. Bounds are generous (a loaded
# CI box, ASan); they catch hangs, not slowness.
load helpers/common
bats_require_minimum_version 1.5.0

STORM="$CD_TARGETS/threadstorm"

# Wait up to $2 s for pid $1 (a child of this shell) to exit; its exit
# status goes in $WAIT_RC. Past the bound it is killed and this fails.
wait_bounded() {
	local i=0 n=$(( $2 * 20 ))
	while kill -0 "$1" 2>/dev/null && [ $i -lt $n ]; do sleep 0.05; i=$((i + 1)); done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null || true
		echo "pid $1 still running after $2 s" >&2
		return 1
	fi
	WAIT_RC=0; wait "$1" || WAIT_RC=$?
}

# Wait until cd-trace ($1) is tracing pid $2 (TracerPid or perf_event fds).
wait_attached() {
	local i=0
	while [ $i -lt 400 ]; do
		if grep -q "^TracerPid:[[:space:]]*$1\$" "/proc/$2/status" 2>/dev/null; then return 0; fi
		if ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'perf_event'; then return 0; fi
		sleep 0.05; i=$((i + 1))
	done
	return 1
}

# No thread of pid $1 is traced any more.
untraced() {
	local n
	n=$(grep -ls '^TracerPid:[[:space:]]*[1-9]' /proc/"$1"/task/*/status | wc -l)
	[ "$n" -eq 0 ] || { echo "$n threads of $1 still traced" >&2; return 1; }
}

last_meta() {
	python3 -c '
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])][-1]
assert m["type"] == "meta", "last record is not meta"
print(m.get(sys.argv[2]))' "$1" "$2"
}

@test "faults: cd-trace on a zombie: exit 3 naming it, no crash, both methods" {
	bg_start "$STORM" --ready "$BATS_TEST_TMPDIR/z" zombie
	wait_file "$BATS_TEST_TMPDIR/z"
	z=$(cat "$BATS_TEST_TMPDIR/z")
	grep -q '^State:[[:space:]]*Z' "/proc/$z/status"
	for m in auto tracepoint ptrace; do
		run -3 timeout -s KILL 30 cd-trace -m "$m" --pid "$z" -d 1
		assert_output --partial "pid $z has exited: a zombie"
		refute_output --partial "not our process"
	done
}

@test "faults: cd-trace on threads that come and go ends on time, every time" {
	bg_start "$STORM" --ready "$BATS_TEST_TMPDIR/r" churn 50
	tpid=$BG_PID
	wait_file "$BATS_TEST_TMPDIR/r"
	for m in tracepoint ptrace tracepoint ptrace tracepoint; do
		cd-trace -m "$m" -s --pid "$tpid" -d 1 >"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e" &
		wait_bounded $! 30
		[ "$WAIT_RC" -eq 0 ]
		[ "$(last_meta "$BATS_TEST_TMPDIR/o" stopped_by)" = duration ]
		[ "$(last_meta "$BATS_TEST_TMPDIR/o" method)" = "$m" ]
		kill -0 "$tpid"
		untraced "$tpid"
	done
}

@test "faults: cd-trace on a process whose leader has exited traces the rest" {
	bg_start "$STORM" --ready "$BATS_TEST_TMPDIR/r" leaderexit 4
	tpid=$BG_PID
	wait_file "$BATS_TEST_TMPDIR/r"
	for m in tracepoint ptrace; do
		timeout -s KILL 30 cd-trace -m "$m" -s --pid "$tpid" -d 1 >"$BATS_TEST_TMPDIR/o"
		[ "$(last_meta "$BATS_TEST_TMPDIR/o" method)" = "$m" ]
		[ "$(last_meta "$BATS_TEST_TMPDIR/o" threads)" -ge 4 ]
		untraced "$tpid"
	done
}

# With 1,000 busy threads the shell running the test is starved too, so
# the signals come from timeout(1) (asleep, so woken at once) rather than a
# polling loop, and the target is killed before the checks.
busy_start() {
	bg_start "$STORM" --ready "$BATS_TEST_TMPDIR/r" busy 1000
	tpid=$BG_PID
	wait_file "$BATS_TEST_TMPDIR/r" 60
}

busy_stop() {
	untraced "$tpid"
	kill -KILL "$tpid"
}

@test "faults: ptrace on 1,000 busy threads ends near -d and detaches every thread" {
	busy_start
	run timeout -k 60 60 cd-trace -m ptrace -s --pid "$tpid" -d 2
	busy_stop
	[ "$status" -eq 0 ]
	echo "$output" | grep '"type":"meta"' >"$BATS_TEST_TMPDIR/o"
	[ "$(last_meta "$BATS_TEST_TMPDIR/o" stopped_by)" = duration ]
	python3 -c '
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])][-1]
assert m["duration_s"] < 2 + 0.5 + 1, m["duration_s"]	# detach is bounded to 0.5 s
assert 0 <= m["detach_s"] < 1.5, m["detach_s"]' "$BATS_TEST_TMPDIR/o"
}

# Wait, with shell builtins only (a fork can take seconds here), until
# pid $1 blocks SIGINT: then a signal is the tool's to handle.
sig_ready() {
	local end=$((SECONDS + $2)) l
	while [ $SECONDS -lt $end ] && [ -e "/proc/$1" ]; do
		while read -r l; do
			case $l in
			SigBlk:*) if [ $(( 0x${l##*[[:space:]]} & 2 )) -ne 0 ]; then return 0; fi ;;
			esac
		done <"/proc/$1/status"
	done
	return 1
}

# Trace the busy target with method $1 until signal $2 comes, $3 s after
# the tool is ready; the tool must exit 0 by itself within 30 s.
signalled_run() {
	local cdpid wd rc=0
	cd-trace -m "$1" -s --pid "$tpid" -d 600 >"$BATS_TEST_TMPDIR/o.$2.$1" &
	cdpid=$!
	( sleep 30; kill -KILL "$cdpid" ) 2>/dev/null &
	wd=$!
	sig_ready "$cdpid" 30
	[ "$3" = 0 ] || sleep "$3"
	kill -"$2" "$cdpid"
	wait "$cdpid" || rc=$?
	kill "$wd" 2>/dev/null || true
	[ "$rc" -eq 0 ] || { echo "$1 $2: exit $rc" >&2; return 1; }
	untraced "$tpid"
}

@test "faults: SIGINT, SIGTERM and SIGHUP end tracing 1,000 busy threads" {
	busy_start
	for sig in INT TERM HUP; do
		for m in ptrace tracepoint; do
			signalled_run "$m" "$sig" 1
		done
	done
	busy_stop
	for sig in INT TERM HUP; do
		for m in ptrace tracepoint; do
			[ "$(last_meta "$BATS_TEST_TMPDIR/o.$sig.$m" stopped_by)" = "SIG$sig" ]
		done
	done
}

@test "faults: a signal during a slow setup ends it" {
	# sent as soon as the tool blocks signals, in setup or before it
	busy_start
	for m in tracepoint ptrace; do
		signalled_run "$m" INT 0
	done
	busy_stop
	[ "$(last_meta "$BATS_TEST_TMPDIR/o.INT.tracepoint" stopped_by)" = SIGINT ]
	[ "$(last_meta "$BATS_TEST_TMPDIR/o.INT.ptrace" stopped_by)" = SIGINT ]
}
