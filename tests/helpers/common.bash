# Shared setup for the bats suites. Every suite starts with:
#   load helpers/common
# CD_BIN and CD_TARGETS point at the built programs and test targets; they
# default to the normal build so `bats tests/x.bats` works after `make`.

bats_require_minimum_version 1.5.0
# Each library's load.bash sources its src/*.bash (function definitions
# only) through one $(dirname ...) subshell a file: fifteen processes and
# ~0.1 s for every test. The same files, sourced here directly.
cd_load_library() {
	local load f
	if find_in_bats_lib_path load "$1" 2>/dev/null && [[ $load == */load.bash ]] &&
	    [ -d "${load%/*}/src" ]; then
		for f in "${load%/*}"/src/*.bash; do
			# shellcheck disable=SC1090
			source "$f"
		done
	else
		bats_load_library "$1"
	fi
}
cd_load_library bats-support
cd_load_library bats-assert

# The suites start python3 hundreds of times. Debian's, which
# scripts/deps.sh installs with python3-jsonschema, starts in 35 ms; a
# version manager's python3 first on PATH may be a shim (pyenv's: 0.55 s a
# start) over an interpreter that imports more at start (100 ms). Without
# Debian's, the interpreter python3 resolves to is looked up once a run
# and then called directly.
if [ -z "${CD_PYTHON:-}" ] && [ -x /usr/bin/python3 ]; then
	CD_PYTHON=/usr/bin/python3
fi
if [ -z "${CD_PYTHON:-}" ] && [ -s "$BATS_RUN_TMPDIR/cd-python" ]; then
	read -r CD_PYTHON <"$BATS_RUN_TMPDIR/cd-python"
fi
if [ -z "${CD_PYTHON:-}" ]; then
	CD_PYTHON=$(command python3 -c 'import sys; print(sys.executable)') || CD_PYTHON=python3
	echo "$CD_PYTHON" >"$BATS_RUN_TMPDIR/cd-python.$$" &&
		mv -f "$BATS_RUN_TMPDIR/cd-python.$$" "$BATS_RUN_TMPDIR/cd-python"
fi
export CD_PYTHON
python3() { "$CD_PYTHON" "$@"; }

: "${CD_BIN:=$BATS_TEST_DIRNAME/../build/bin}"
: "${CD_TARGETS:=$BATS_TEST_DIRNAME/../build/targets}"
export CD_BIN CD_TARGETS
export PATH="$CD_BIN:$PATH"
export NO_COLOR=1

# Start a command in the background; its pid goes in $BG_PID and is
# remembered so teardown kills it even when the test fails. $1 must be a
# program, not a shell function (python3 is one here): $! would be the
# subshell running it, and killing that leaves the program running.
bg_start() {
	"$@" </dev/null >/dev/null 2>&1 3>&- &
	BG_PID=$!
	echo "$BG_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# Wait until file $1 exists (a target writes it when it is ready), up to $2 s.
wait_file() {
	local i=0 n=$(( ${2:-10} * 20 ))
	while [ ! -s "$1" ] && [ $i -lt $n ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$1" ]
}

# Wait up to $2 s for pid $1 (a child of this shell) to exit; its exit
# status goes in $WAIT_RC. Past the bound it is killed and this fails.
# (Not a "( sleep; kill ) &" watchdog, killed once the child ends: a
# subshell signalled before it has reset the traps it was forked with
# runs bats's own, a second copy of the test that reports a failure and
# kills the target in its teardown: "a tool gone before its SIGINT".)
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

bg_kill_all() {
	[ -f "$BATS_TEST_TMPDIR/bg.pids" ] || return 0
	while read -r p; do
		kill -KILL "$p" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/bg.pids"
	rm -f "$BATS_TEST_TMPDIR/bg.pids"
}

teardown() {
	bg_kill_all
}

# jq-free JSON checks: python3 is on every Debian machine we target.
json_valid_lines() {
	python3 -c '
import json, sys
for n, line in enumerate(sys.stdin, 1):
    o = json.loads(line)
    assert isinstance(o, dict) and "type" in o, "line %d has no type" % n
' 
}

# Print the value of a python expression over the records on stdin, as
# `recs` (a list of dicts). Example: json_eval 'len([r for r in recs if r["type"]=="fd"])'
json_eval() {
	python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin if l.strip()]
print(eval(sys.argv[1]))
' "$1"
}
