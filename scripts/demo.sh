#!/bin/sh
# make demo: start the built-in misbehaving target (it looks like Claude
# Code to the matcher) in a private directory, run the whole workflow on
# it, clean up. Leaves demo.txt (the report), demo.svg and demo.folded
# (CPU) and demo-syscalls.svg/.folded in the current directory.
set -eu
build=${1:-build}
bin="$build/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/claude-demo.XXXXXXXX")
target=""

cleanup() {
	[ -n "$target" ] && kill "$target" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

cp "$build/targets/demo-claude" "$work/claude"
"$work/claude" "$work" 120 </dev/null >/dev/null 2>&1 &
target=$!
sleep 2	# let it open its fds and watches

echo "demo: target pid $target ($work/claude): spins its event loop, leaks fds,"
echo "demo: watches 200 directories, stats missing files, retries a closed port"
echo "demo: claude-diagnose --pid $target -d -s -D --flamegraph -o demo"
echo
rc=0
# Not through tee: the exit status is claude-diagnose's own.
"$bin/claude-diagnose" --pid "$target" -d -s -D --flamegraph -o demo \
	--progress >demo.txt || rc=$?
cat demo.txt
echo
echo "demo: claude-diagnose exited $rc (1 = critical issues found)"
echo "demo: the report is in demo.txt; open demo.svg (CPU) and"
echo "demo: demo-syscalls.svg (system calls) in a browser; demo.folded and"
echo "demo: demo-syscalls.folded are for FlameGraph, inferno or speedscope"
[ "$rc" -le 1 ]
