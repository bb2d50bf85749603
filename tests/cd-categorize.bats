#!/usr/bin/env bats
# cd-categorize: a field added by table, everything else passed through.
load helpers/common
bats_require_minimum_version 1.5.0

@test "cd-categorize: --help and --version" {
	run cd-categorize --help
	assert_success
	assert_output --partial "--only"
	run cd-categorize --version
	assert_success
}

@test "cd-categorize: Linux names get the right category" {
	printf '%s\n' \
	  '{"type":"syscall","name":"openat","pid":1}' \
	  '{"type":"syscall","name":"newfstatat","pid":1}' \
	  '{"type":"syscall","name":"statx","pid":1}' \
	  '{"type":"syscall","name":"getdents64","pid":1}' \
	  '{"type":"syscall","name":"renameat2","pid":1}' \
	  '{"type":"syscall","name":"epoll_pwait2","pid":1}' \
	  '{"type":"syscall","name":"ppoll","pid":1}' \
	  '{"type":"syscall","name":"io_uring_enter","pid":1}' \
	  '{"type":"syscall","name":"eventfd2","pid":1}' \
	  '{"type":"syscall","name":"clone3","pid":1}' \
	  '{"type":"syscall","name":"connect","pid":1}' \
	  '{"type":"syscall","name":"mmap","pid":1}' \
	  '{"type":"syscall","name":"clock_gettime","pid":1}' \
	  '{"type":"syscall","name":"futex","pid":1}' \
	  '{"type":"syscall","name":"no_such_call","pid":1}' \
	  '{"type":"syscall_summary","name":"read","count":3}' >"$BATS_TEST_TMPDIR/in"
	run json_eval '[r["category"] for r in recs]' < <(cd-categorize <"$BATS_TEST_TMPDIR/in")
	assert_output "['file', 'file', 'file', 'file', 'file', 'event', 'event', 'event', 'event', 'process', 'network', 'memory', 'time', 'ipc', 'other', 'file']"
}

@test "cd-categorize: other records pass through byte for byte and in order" {
	printf '%s\n' '{"type":"process", "pid": 5,"x":[1,2]}' '{"type":"syscall","name":"read"}' '{"type":"meta","tool":"cd-trace"}' >"$BATS_TEST_TMPDIR/in"
	run cd-categorize --only network <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output "$(printf '%s\n' '{"type":"process", "pid": 5,"x":[1,2]}' '{"type":"meta","tool":"cd-trace"}')"
}

@test "cd-categorize: --only keeps the listed categories; unknown ones are usage errors" {
	printf '%s\n' '{"type":"syscall","name":"read"}' '{"type":"syscall","name":"connect"}' '{"type":"syscall","name":"mmap"}' >"$BATS_TEST_TMPDIR/in"
	run json_eval '[r["name"] for r in recs]' < <(cd-categorize --only network,memory <"$BATS_TEST_TMPDIR/in")
	assert_output "['connect', 'mmap']"
	run cd-categorize --only files <"$BATS_TEST_TMPDIR/in"
	assert_failure 2
}

@test "cd-categorize: --map replaces the table; bad lines named with line numbers" {
	printf '# mine\nread disk\nconnect net   # comment\n\n' >"$BATS_TEST_TMPDIR/map"
	printf '%s\n' '{"type":"syscall","name":"read"}' '{"type":"syscall","name":"connect"}' '{"type":"syscall","name":"mmap"}' >"$BATS_TEST_TMPDIR/in"
	run json_eval '[r["category"] for r in recs]' < <(cd-categorize --map "$BATS_TEST_TMPDIR/map" <"$BATS_TEST_TMPDIR/in")
	assert_output "['disk', 'net', 'other']"
	run json_eval '[r["name"] for r in recs]' < <(cd-categorize --map "$BATS_TEST_TMPDIR/map" --only disk <"$BATS_TEST_TMPDIR/in")
	assert_output "['read']"
	printf 'read file\nonlyname\nBad-Name file\nwrite file extra\n' >"$BATS_TEST_TMPDIR/bad"
	run --separate-stderr cd-categorize --map "$BATS_TEST_TMPDIR/bad" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"bad:2:"* ]]
	[[ "$stderr" == *"bad:3:"* ]]
	[[ "$stderr" == *"bad:4:"* ]]
	run cd-categorize --map /nonexistent/map </dev/null
	assert_failure 3
}

@test "cd-categorize: malformed input lines are reported and skipped (exit 4)" {
	printf '%s\n' '{"type":"syscall","name":"read"}' 'garbage{' '{"no":"type"}' >"$BATS_TEST_TMPDIR/in"
	head -c 3000 /dev/urandom >>"$BATS_TEST_TMPDIR/in"
	printf '\n{"type":"syscall","name":"write"}\n' >>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr cd-categorize <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"stdin:2:"* ]]
	echo "$output" | json_valid_lines
	[ "$(echo "$output" | grep -c '"category":"file"')" -eq 2 ]
	run cd-categorize --strict <"$BATS_TEST_TMPDIR/in"
	assert_failure 4
}

@test "cd-categorize: cd-trace output end to end" {
	cd-trace -- "$CD_TARGETS/sysloop" getppid 10 | cd-categorize --only process >"$BATS_TEST_TMPDIR/o"
	run json_eval 'len([r for r in recs if r["type"] == "syscall" and r["name"] == "getppid" and r["category"] == "process"])' <"$BATS_TEST_TMPDIR/o"
	assert_output 10
	run json_eval 'sorted(set(r["category"] for r in recs if r["type"] == "syscall"))' <"$BATS_TEST_TMPDIR/o"
	assert_output "['process']"
	tail -1 "$BATS_TEST_TMPDIR/o" | grep -q '"type":"meta"'
}
