#!/usr/bin/env bats
# cd-ps --stream (what claude-trace -w keeps running): one batch of
# records per request line, against fake Claude Code processes.

load helpers/common
load helpers/fake

# How many meta records (finished batches) file $1 holds.
metas() {
	grep -c '"type":"meta"' "$1" || true
}

# Wait up to $3 s for $2 batches in file $1.
wait_batches() {
	local i=0 n=$(( $3 * 20 ))
	while [ "$(metas "$1")" -lt "$2" ] && [ $i -lt $n ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ "$(metas "$1")" -ge "$2" ]
}

# The pids of batch $2 (1-based) in file $1, sorted, space-separated.
batch_pids() {
	python3 -c '
import json, sys
b, cur = [], []
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "meta":
        b.append(cur); cur = []
    else:
        cur.append(r["pid"])
print(" ".join(map(str, sorted(b[int(sys.argv[2]) - 1]))))' "$1" "$2"
}

batch_meta() {
	grep '"type":"meta"' "$1" | sed -n "$2p" | json_eval "recs[0]$3"
}

@test "--stream: a batch per request, the same records as a one-shot run; new and ended processes show in the next batch" {
	fake_native idle
	first=$FAKE_PID
	out="$BATS_TEST_TMPDIR/out"
	mkfifo "$BATS_TEST_TMPDIR/req"
	cd-ps --stream --interval 0 <"$BATS_TEST_TMPDIR/req" >"$out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	ps_pid=$!
	echo "$ps_pid" >>"$BATS_TEST_TMPDIR/bg.pids"
	exec 4>"$BATS_TEST_TMPDIR/req"
	echo >&4
	wait_batches "$out" 1 20
	[[ " $(batch_pids "$out" 1) " == *" $first "* ]]
	[ "$(batch_meta "$out" 1 "['full_scan']")" = True ]
	[ "$(batch_meta "$out" 1 "['batch']")" = 1 ]

	# a new process: read and reported in the very next batch
	fake_native idle
	second=$FAKE_PID
	echo >&4
	wait_batches "$out" 2 20
	[[ " $(batch_pids "$out" 2) " == *" $first "* ]]
	[[ " $(batch_pids "$out" 2) " == *" $second "* ]]
	[ "$(batch_meta "$out" 2 "['full_scan']")" = False ]
	# not everything was read again: far fewer than /proc holds
	read_n=$(batch_meta "$out" 2 "['processes_read']")
	scanned=$(batch_meta "$out" 2 "['processes_scanned']")
	[ "$read_n" -lt "$scanned" ]

	# the same fields as a one-shot run reports for it
	one=$(cd-ps --interval 0 --pid "$second" | json_eval "sorted(recs[0].keys())")
	st=$(grep "\"pid\":$second," "$out" | tail -1 | json_eval "sorted(recs[0].keys())")
	[ "$one" = "$st" ]
	grep "\"pid\":$second," "$out" | tail -1 | json_eval "recs[0]['kind']" | grep -qx native

	# an ended process is gone from the next batch
	kill -KILL "$second"
	while kill -0 "$second" 2>/dev/null; do sleep 0.05; done
	echo 0 >&4
	wait_batches "$out" 3 20
	[[ " $(batch_pids "$out" 3) " == *" $first "* ]]
	[[ " $(batch_pids "$out" 3) " != *" $second "* ]]

	# end of input: cd-ps ends, status 0
	exec 4>&-
	rc=0
	wait "$ps_pid" || rc=$?
	[ "$rc" -eq 0 ]
	printf '%s\n' "$(cat "$out")" | json_valid_lines
}

@test "--stream: a request is an interval; a bad one is refused with a message, the next still answered" {
	fake_native spin
	run bash -c "printf '0.3\nabc\n-1\n\n' | cd-ps --stream --interval 0 --pid $FAKE_PID"
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c '"type":"meta"')" -eq 2 ]
	assert_output --partial "--stream: a request is an empty line or an interval"
	# the first batch measured over 0.3 s: a spinner near a full core
	printf '%s\n' "$output" | grep '"type":"meta"' | head -1 | json_eval "recs[0]['interval_s']" | grep -qx 0.3
}

@test "--stream: a --pid that is gone is that batch's warning, not the end" {
	fake_native idle
	gone=$FAKE_PID
	kill -KILL "$gone"
	while kill -0 "$gone" 2>/dev/null; do sleep 0.05; done
	run bash -c "printf '\n\n' | cd-ps --stream --interval 0 --pid $gone"
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c "no process with pid $gone")" -eq 2 ]
	[ "$(printf '%s\n' "$output" | grep -c '"type":"meta"')" -eq 2 ]
}

@test "--stream with --table is a usage error" {
	run cd-ps --stream --table
	assert_failure 2
	assert_output --partial "--stream"
}

@test "more processes than libproc2 selects at once (255): --all still reports them" {
	for _ in $(seq 260); do
		bg_start sleep 600
	done
	run cd-ps --all --interval 0 --sort pid
	assert_success
	n=$(printf '%s\n' "$output" | grep '^{' | json_eval "len([r for r in recs if r['type']=='process'])")
	[ "$n" -ge 260 ]
	run bash -c "printf '\n\n' | cd-ps --stream --all --interval 0"
	assert_success
	n=$(printf '%s\n' "$output" | grep '^{' | json_eval "len([r for r in recs if r['type']=='process'])")
	[ "$n" -ge 520 ]
}

@test "--no-fds: fds is null, the rest as without it" {
	fake_native idle
	run cd-ps --interval 0 --pid "$FAKE_PID"
	assert_success
	[ "$(printf '%s\n' "$output" | json_eval "recs[0]['fds'] is not None and recs[0]['fds'] > 0")" = True ]
	with=$(printf '%s\n' "$output" | json_eval "recs[0]['comm'], recs[0]['rss_kb'] > 0, recs[0]['cwd']")
	run cd-ps --interval 0 --no-fds --pid "$FAKE_PID"
	assert_success
	[ "$(printf '%s\n' "$output" | json_eval "recs[0]['fds']")" = None ]
	[ "$(printf '%s\n' "$output" | json_eval "recs[0]['comm'], recs[0]['rss_kb'] > 0, recs[0]['cwd']")" = "$with" ]
}
