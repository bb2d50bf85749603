#!/bin/bash
# The flight recorder's own cost: claude-trace -w 1 -k 90 --capture DIR
# watching N Claude-like processes (the fake claude target, idle, so no
# capture starts) for T seconds. The figure is the CPU time (user +
# system) of claude-trace and of every cd-ps it ran (its reaped children,
# cutime + cstime, and the children still running: the long-lived
# cd-ps --stream), over the wall time: percent of one core.
# usage: bench-watch.sh BUILD_DIR [N=200] [T=60] [EXTRA CLAUDE-TRACE ARGS...]
# (e.g. --capture-before 10: the rolling sample's cost). The table row
# goes to stdout and, with no extra arguments, into results/watch.md.
set -euo pipefail
build=${1:?usage: bench-watch.sh BUILD_DIR [N] [T]}
n=${2:-200}
t=${3:-60}
shift $(( $# < 3 ? $# : 3 ))
extra=("$@")
here=$(cd "$(dirname "$0")" && pwd)
out="$here/results/watch.md"
tmp=$(mktemp -d)
pids=()
ct=""
cleanup() {
	[ -n "$ct" ] && kill -INT "$ct" 2>/dev/null && wait "$ct" 2>/dev/null
	kill "${pids[@]}" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cp "$build/targets/fakeclaude" "$tmp/claude"
for _ in $(seq "$n"); do
	"$tmp/claude" idle </dev/null >/dev/null 2>&1 &
	pids+=($!)
done
sleep 1
all=(/proc/[0-9]*)
nproc_now=${#all[@]}
hz=$(getconf CLK_TCK)

# Fields 14-17 of /proc/PID/stat: utime stime cutime cstime, in ticks;
# and the same of the children running now.
ticks() {
	local kids
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
	for k in $kids; do
		awk '{print $14 + $15 + $16 + $17}' "/proc/$k/stat" 2>/dev/null || true
	done | awk -v own="$(awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat")" \
		'{ s += $1 } END { print s + own }'
}
self_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

"$build/bin/claude-trace" -w 1 -k 90 --capture "$tmp/caps" --no-color "${extra[@]}" \
	>"$tmp/out" 2>"$tmp/err" &
ct=$!
sleep 3	# the first frames: start-up is not the steady cost
t0=$(ticks "$ct")
s0=$(self_ticks "$ct")
w0=$(date +%s.%N)
sleep "$t"
t1=$(ticks "$ct")
s1=$(self_ticks "$ct")
w1=$(date +%s.%N)
load=$(cut -d' ' -f1 /proc/loadavg)
frames=$(grep -c '^claude-trace: every' "$tmp/out")
kill -INT "$ct"
wait "$ct" || true
ct=""
self_pct=$(python3 -c 'import sys; a,b,hz,w0,w1 = map(float, sys.argv[1:]); print("%.2f" % ((b - a) / hz / (w1 - w0) * 100))' \
	"$s0" "$s1" "$hz" "$w0" "$w1")
pct=$(python3 -c 'import sys; a,b,hz,w0,w1 = map(float, sys.argv[1:]); print("%.2f" % ((b - a) / hz / (w1 - w0) * 100))' \
	"$t0" "$t1" "$hz" "$w0" "$w1")
{
	echo "# claude-trace -w 1 --capture: the watcher's own CPU"
	echo
	echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores (shared), $nproc_now processes"
	echo "running, $n of them idle fake Claude Code processes, by scripts/bench/bench-watch.sh."
	echo "claude-trace -w 1 -k 90 --capture DIR for $t s after a 3 s start ($frames frames in all);"
	echo "CPU = user + system of claude-trace and of its children (the cd-ps runs it"
	echo "waited for, and the cd-ps --stream still running)."
	echo
	echo "Load average (1 min) at the end: $load."
	echo
	echo "| processes | CPU, % of one core | of which claude-trace itself |"
	echo "|---|---|---|"
	echo "| $n | $pct | $self_pct |"
} >"$tmp/result"
echo "extra arguments: ${extra[*]:-none}"
cat "$tmp/result"
[ ${#extra[@]} -gt 0 ] || cp "$tmp/result" "$out"
