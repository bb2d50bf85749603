#!/usr/bin/env bats
# cd-launch: the runtime read from the executable, only the naming
# settings added to the environment, dumps removed when the command ends,
# exit status, signals and stops passed through.

bats_require_minimum_version 1.5.0
load helpers/common

GC="$BATS_TEST_DIRNAME/targets/gc-churn.js"

setup() {
	T="$BATS_TEST_TMPDIR"
	export XDG_RUNTIME_DIR="$T/xdg"
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	FAKEBUN=$(realpath "$CD_TARGETS/fakebun")	# as cd-launch names it
}

# Run "$@" in the background in a process group of its own, with SIGINT
# and SIGQUIT back to their defaults (bash starts background jobs with
# them ignored), as a shell with job control starts a job. $BG_PID.
bg_job() {
	bg_start "$CD_PYTHON" -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# The exit status of background job $1 as the shell reports it, in $BG_RC
# (wait only works in the shell that started the job, not in $(...)).
bg_wait() {
	BG_RC=0
	wait "$1" || BG_RC=$?
}

# Files a test made outside its directory, removed even when it fails;
# and maps of Node processes the teardown kills with their cd-launch.
teardown() {
	bg_kill_all
	[ -f "$T/rm.list" ] || return 0
	while read -r f; do rm -f "$f"; done <"$T/rm.list"
}

# --print-env created the directory it printed in $output: remove it.
rm_printed_dir() {
	local d
	d=$(echo "$output" | sed -n "s/^export BUN_JSC_jitDumpDirectory='\(.*\)'$/\1/p")
	[ -n "$d" ] && rmdir "$d"
}

# Where cd-launch should put a Bun dump directory: the first tmpfs of a
# private $XDG_RUNTIME_DIR, a sticky /dev/shm, a sticky /tmp; else the
# first of them usable.
expected_parent() {
	local d ok=()
	[ "$(stat -c %a "$XDG_RUNTIME_DIR")" = 700 ] && ok+=("$XDG_RUNTIME_DIR")
	for d in /dev/shm /tmp; do
		[ -k "$d" ] && [ -w "$d" ] && ok+=("$d")
	done
	for d in "${ok[@]}"; do
		[ "$(stat -f -c %T "$d")" = tmpfs ] && { echo "$d"; return; }
	done
	echo "${ok[0]}"
}

# Wait until process $1 is in state $2 (R, S, T, ...), up to 10 s.
wait_state() {
	for _ in $(seq 200); do
		[ "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "cd-launch: --help, --version, usage errors, missing and non-executable commands" {
	run cd-launch --help
	assert_success
	assert_output --partial "usage: cd-launch"
	run cd-launch --version
	assert_success
	assert_output --partial "cd-launch (claude-diagnose)"
	run cd-launch
	assert_failure 2
	assert_output --partial "no COMMAND given"
	run cd-launch --runtime perl true
	assert_failure 2
	assert_output --partial "'perl' is not auto, none, bun or node"
	run -127 cd-launch no-such-command-cd-launch
	assert_failure 127
	assert_output --partial "no-such-command-cd-launch"
	touch "$T/noexec"
	run cd-launch "$T/noexec"
	assert_failure 126
	# found, but exec fails (its #! interpreter is missing): 127, said why
	printf '#!/nonexistent/interpreter\n' >"$T/badbang"
	chmod +x "$T/badbang"
	run -127 cd-launch "$T/badbang"
	assert_output --partial "cd-launch: $T/badbang: No such file or directory"
	# the command's own options are its own
	run cd-launch "$FAKEBUN" --help -v --exit 0
	assert_success
}

@test "cd-launch: the runtime is read from the executable, not its name" {
	run cd-launch -v --print-env "$FAKEBUN"
	assert_success
	assert_output --partial "runtime bun: $FAKEBUN: ELF section .bun (Bun)"
	rm_printed_dir
	# a symlink named claude on PATH is what it points to
	ln -s "$FAKEBUN" "$T/claude"
	PATH="$T:$PATH" run cd-launch -v --print-env claude
	assert_output --partial "runtime bun: $FAKEBUN"
	rm_printed_dir
	# a program named bun is not Bun
	cp "$CD_TARGETS/hot2to1" "$T/bun"
	run cd-launch -v --print-env "$T/bun"
	assert_output --partial "runtime none: $T/bun: ELF without Bun's sections"
	# scripts: what the #! line runs
	printf '#!/bin/sh\n' >"$T/sh-script"
	printf '#!%s\n' "$FAKEBUN" >"$T/bun-script"
	chmod +x "$T/sh-script" "$T/bun-script"
	run cd-launch -v --print-env "$T/sh-script"
	assert_output --partial "runtime none"
	run cd-launch -v --print-env "$T/bun-script"
	assert_output --partial "runtime bun"
	rm_printed_dir
	command -v node >/dev/null || skip "node not installed"
	printf '#!/usr/bin/env node\n' >"$T/node-script"
	printf '#!/usr/bin/env -S NODE_NO_WARNINGS=1 node --no-deprecation\n' >"$T/node-script2"
	printf '#!%s\n' "$(command -v node)" >"$T/node-script3"
	chmod +x "$T"/node-script*
	for s in node-script node-script2 node-script3; do
		run cd-launch -v --print-env "$T/$s"
		assert_output --partial "runtime node"
	done
	run cd-launch -v --print-env node
	assert_output --partial "runtime node"
}

@test "cd-launch: nothing else in the environment changes" {
	# neither Bun nor Node: the very same environment
	run --separate-stderr cd-launch env
	assert_success
	[ "$(echo "$output" | grep -v '^_=' | sort)" = "$(env | grep -v '^_=' | sort)" ]
	[[ $stderr == *"not a Bun or Node program"* ]]
	# Bun: the two JSC names, no other
	run --separate-stderr cd-launch "$FAKEBUN" --env
	assert_success
	diff <(env | grep -v '^_=' | sort) <(echo "$output" | grep -v '^_=' | sort) | grep '^[<>]' >"$T/diff" || true
	[ "$(grep -c . "$T/diff")" = 2 ]
	grep -qx "> BUN_JSC_useJITDump=1" "$T/diff"
	grep -qx "> BUN_JSC_jitDumpDirectory=$(expected_parent)/cd-launch-.*" "$T/diff"
	command -v node >/dev/null || skip "node not installed"
	# Node: NODE_OPTIONS gets the flag, keeping what was there, nothing else
	unset NODE_OPTIONS
	run --separate-stderr cd-launch node -e 'for (const [k, v] of Object.entries(process.env)) console.log(k + "=" + v)'
	assert_success
	diff <(env | grep -v '^_=' | sort) <(echo "$output" | grep -v '^_=' | sort) | grep '^[<>]' >"$T/diff" || true
	[ "$(cat "$T/diff")" = "> NODE_OPTIONS=--perf-basic-prof-only-functions" ]
	NODE_OPTIONS="--max-old-space-size=128" run cd-launch node -e 'console.log(process.env.NODE_OPTIONS)'
	assert_output "--max-old-space-size=128 --perf-basic-prof-only-functions"
	# (the full --perf-basic-prof also writes isolate-*-v8.log into the cwd)
	cd "$T"
	NODE_OPTIONS="--perf-basic-prof" run cd-launch node -e 'console.log(process.env.NODE_OPTIONS)'
	assert_output "--perf-basic-prof"
}

@test "cd-launch: Bun gets a private jitdump directory, on a tmpfs when there is one, removed with the dump at exit; status passes" {
	run --separate-stderr cd-launch -v "$FAKEBUN" --ready "$T/ready" --bytes 100000 --exit 3
	[ "$status" -eq 3 ]
	read -r pid dump mode uid <"$T/ready"
	[[ $dump == "$(expected_parent)"/cd-launch-??????/jit-"$pid"-"$pid".dump ]]
	[ "$mode" = 700 ]
	[ "$uid" = "$(id -u)" ]
	[ ! -e "$(dirname "$dump")" ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR")" ]
	[[ $stderr == *"$(dirname "$dump"): 1 file, 100040 bytes (98K), removed"* ]]
	# without -v, nothing on stderr
	run --separate-stderr cd-launch "$FAKEBUN" --bytes 10
	assert_success
	[ -z "$stderr" ]
	# an XDG_RUNTIME_DIR others may enter is not used
	chmod 755 "$XDG_RUNTIME_DIR"
	run cd-launch "$FAKEBUN" --ready "$T/ready"
	assert_success
	read -r pid dump mode uid <"$T/ready"
	[[ $dump == "$(expected_parent)"/cd-launch-??????/jit-* ]]
	[[ $dump != "$XDG_RUNTIME_DIR"/* ]]
	[ "$mode" = 700 ]
	[ ! -e "$(dirname "$dump")" ]
}

@test "cd-launch: Bun dump present while the command runs, removed after SIGTERM, which is forwarded" {
	bg_start cd-launch "$FAKEBUN" --ready "$T/ready" --bytes 5000 --sleep 60
	wait_file "$T/ready" 10
	read -r pid dump mode uid <"$T/ready"
	echo "$pid" >>"$T/bg.pids"
	[ -f "$dump" ]
	[ "$(stat -c %a "$(dirname "$dump")")" = 700 ]
	# the mapping JSC leaves, by which cd-sample finds the dump
	grep -q "$dump" "/proc/$pid/maps"
	kill -TERM "$BG_PID"
	bg_wait "$BG_PID"
	[ "$BG_RC" = 143 ]
	[ ! -e "$(dirname "$dump")" ]
	run ! kill -0 "$pid"
}

@test "cd-launch: a Node target's perf map is named by cd-sample, then removed; others' maps stay" {
	command -v node >/dev/null || skip "node not installed"
	bg_start cd-launch node "$GC" "$T/ready" 60
	wait_file "$T/ready" 20
	npid=$(cat "$T/ready")
	echo "$npid" >>"$T/bg.pids"
	echo "/tmp/perf-$npid.map" >>"$T/rm.list"
	tr '\0' '\n' <"/proc/$npid/environ" | grep -qx "NODE_OPTIONS=.*--perf-basic-prof-only-functions"
	# maps that are not the launched tree's: a live process outside it,
	# and a pid that is gone
	sleep 0 & gone=$!
	wait "$gone"
	echo "/tmp/perf-$$.map" >>"$T/rm.list"
	echo "/tmp/perf-$gone.map" >>"$T/rm.list"
	echo "1000 10 other" >"/tmp/perf-$$.map"
	echo "1000 10 other" >"/tmp/perf-$gone.map"
	# V8 writes functions as it compiles them
	for _ in $(seq 100); do grep -q churnYoung "/tmp/perf-$npid.map" 2>/dev/null && break; sleep 0.1; done
	grep -q churnYoung "/tmp/perf-$npid.map"
	run --separate-stderr cd-sample -p "$npid" -d 3 --no-progress
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	echo "$output" | grep -Eq '(churnYoung|churnOld|round) [^"]*_\[j\]"'
	kill -TERM "$BG_PID"
	bg_wait "$BG_PID"
	[ "$BG_RC" = 143 ]
	[ ! -e "/tmp/perf-$npid.map" ]
	[ -f "/tmp/perf-$$.map" ]
	[ -f "/tmp/perf-$gone.map" ]
	rm -f "/tmp/perf-$$.map" "/tmp/perf-$gone.map"
}

@test "cd-launch: Node children inherit the flag, and their maps go too" {
	command -v node >/dev/null || skip "node not installed"
	run cd-launch -v node -e '
const { execFileSync } = require("child_process");
const kid = execFileSync(process.execPath, ["-e",
  "console.log(process.pid); setTimeout(() => {}, 800)"]).toString().trim();
console.log(process.pid + " " + kid);'
	assert_success
	read -r parent kid <<<"$(echo "$output" | grep -E '^[0-9]+ [0-9]+$')"
	[ -n "$kid" ]
	[ ! -e "/tmp/perf-$parent.map" ]
	[ ! -e "/tmp/perf-$kid.map" ]
	assert_output --partial "perf maps (/tmp/perf-PID.map): 2 files,"
}

@test "cd-launch: the map of a Node process the command left running is kept (V8 still writes it)" {
	command -v node >/dev/null || skip "node not installed"
	run --separate-stderr cd-launch -v node -e '
const { spawn } = require("child_process");
const kid = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { detached: true, stdio: "ignore" });
kid.unref();
console.log(process.pid + " " + kid.pid);
setTimeout(() => {}, 800);'
	assert_success
	read -r parent kid <<<"$output"
	echo "$kid" >>"$T/bg.pids"
	echo "/tmp/perf-$kid.map" >>"$T/rm.list"
	[ ! -e "/tmp/perf-$parent.map" ]
	[ -f "/tmp/perf-$kid.map" ]
	[[ $stderr == *"/tmp/perf-$kid.map: kept, process $kid still runs"* ]]
}

@test "cd-launch: exit status and death by signal pass through" {
	run --separate-stderr cd-launch "$FAKEBUN" --exit 42
	[ "$status" -eq 42 ]
	run --separate-stderr cd-launch sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	run --separate-stderr cd-launch sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	command -v node >/dev/null || skip "node not installed"
	run --separate-stderr cd-launch node -e 'console.log(process.pid); process.exit(3)'
	[ "$status" -eq 3 ]
	[ ! -e "/tmp/perf-$output.map" ]
	run --separate-stderr cd-launch node -e 'console.log(process.pid); process.kill(process.pid, "SIGKILL")'
	[ "$status" -eq 137 ]
	[ ! -e "/tmp/perf-$output.map" ]
}

# cd-launch running a node script (JS $1, then: write the pid to the ready
# file, stay up) in the background, its pid in npid, then SIGINT to the
# process group as Ctrl-C sends it; cd-launch's status in BG_RC.
launch_node_sigint() {
	rm -f "$T/ready"
	bg_job cd-launch node -e "$1"'
require("fs").writeFileSync(process.argv[1], String(process.pid));
setInterval(() => {}, 1000);' "$T/ready"
	wait_file "$T/ready" 20
	npid=$(cat "$T/ready")
	echo "$npid" >>"$T/bg.pids"
	echo "/tmp/perf-$npid.map" >>"$T/rm.list"
	kill -INT -- "-$BG_PID"
	bg_wait "$BG_PID"
}

@test "cd-launch: Ctrl-C (SIGINT to the process group) is the command's; cd-launch ends as it does" {
	command -v node >/dev/null || skip "node not installed"
	# the command catches SIGINT and exits 5 later: cd-launch must outlive the SIGINT
	launch_node_sigint 'process.on("SIGINT", () => setTimeout(() => process.exit(5), 300));'
	[ "$BG_RC" = 5 ]
	[ ! -e "/tmp/perf-$npid.map" ]
	# the default action: the command dies of SIGINT, and so does cd-launch
	launch_node_sigint ''
	[ "$BG_RC" = 130 ]
	[ ! -e "/tmp/perf-$npid.map" ]
}

@test "cd-launch: in a terminal, when the command stops cd-launch stops; continued, both go on" {
	[ -c /dev/ptmx ] || skip "no pseudo-terminals here"
	# a terminal of its own (a pty, cd-launch's group in front), as a shell gives a job
	bg_start "$CD_PYTHON" -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
open(sys.argv[-1] + ".launch", "w").write(str(pid))
while True:
    try:
        if not os.read(fd, 4096):
            break
    except OSError:
        break
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))' cd-launch sh -c 'echo $$ >"$1"; kill -STOP $$; exit 4' sh "$T/ready"
	wait_file "$T/ready" 10
	wait_file "$T/ready.launch" 10
	kid=$(cat "$T/ready")
	launch=$(cat "$T/ready.launch")
	printf "%s\n" "$kid" "$launch" >>"$T/bg.pids"
	wait_state "$kid" T
	# the shell's view: the job (cd-launch) is stopped too
	wait_state "$launch" T
	# SIGCONT to cd-launch alone: it continues the command
	kill -CONT "$launch"
	bg_wait "$BG_PID"
	[ "$BG_RC" = 4 ]
}

@test "cd-launch: without a terminal a stop is waited out: a command continued by someone else ends normally" {
	bg_start cd-launch sh -c 'echo $$ >"$1"; kill -STOP $$; exit 6' sh "$T/ready"
	wait_file "$T/ready" 10
	kid=$(cat "$T/ready")
	echo "$kid" >>"$T/bg.pids"
	wait_state "$kid" T
	sleep 0.3
	[ "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$BG_PID/stat")" != T ]
	kill -CONT "$kid"
	bg_wait "$BG_PID"
	[ "$BG_RC" = 6 ]
}

@test "cd-launch: --print-env settings for eval; the Bun directory is left to the user" {
	run cd-launch --print-env "$FAKEBUN"
	assert_success
	eval "$output"
	# shellcheck disable=SC2154 # both set by the eval
	: "${BUN_JSC_useJITDump:?}" "${BUN_JSC_jitDumpDirectory:?}"
	[ "$BUN_JSC_useJITDump" = 1 ]
	[ -d "$BUN_JSC_jitDumpDirectory" ]
	[ "$(stat -c %a "$BUN_JSC_jitDumpDirectory")" = 700 ]
	assert_output --partial "# remove it when done: rm -r '$BUN_JSC_jitDumpDirectory'"
	# the command run later with them writes its dump there
	"$FAKEBUN" --ready "$T/ready"
	read -r pid dump mode uid <"$T/ready"
	[ "$(dirname "$dump")" = "$BUN_JSC_jitDumpDirectory" ]
	rm -r "$BUN_JSC_jitDumpDirectory"
	# quoting survives eval; no command needed with --runtime
	NODE_OPTIONS="--title='a b'" run cd-launch --print-env --runtime node
	assert_success
	eval "$output"
	[ "$NODE_OPTIONS" = "--title='a b' --perf-basic-prof-only-functions" ]
	run cd-launch --print-env --runtime none
	assert_failure 2
}
