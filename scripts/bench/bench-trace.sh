#!/bin/sh
# cd-trace's overhead on a target making 600,000 cheap system calls (a mix
# of getppid, read of /dev/zero, write to /dev/null, fstat), against its
# peers on the same target in the same run: perf record of the
# raw_syscalls tracepoints, a bpftrace count+latency script, perf stat
# (an in-kernel counter, the floor), strace -c and cd-trace's own
# tracepoint and ptrace methods.
#
# Two measures: the loop's own time, which the target prints (a tracer's
# start-up and teardown are not in it; this is what the traced program
# pays), as the median of RUNS runs, with the ratio to the bare loop and
# the cost per traced call in ns; and hyperfine's whole-command times.
# Goals (issue 13): cd-trace --summary under BPF at most 2.5x the bare
# loop and less than half of perf record and bpftrace; --io (a record per
# call, paths included) cheaper than perf record; counts exact.
# cd-trace exits 1 here (the loop is a metadata storm by its rules).
#   bench-trace.sh BUILD_DIR [RUNS]
set -eu
B=${1:?usage: bench-trace.sh BUILD_DIR [RUNS]}
RUNS=${2:-5}
T="$B/targets/sysloop"
C="$B/bin/cd-trace"
OUT="$(dirname "$0")/results/trace.md"
N=600000
. "$(dirname "$0")/lib.sh"
bench_setup bench-trace "$T"

BT='tracepoint:raw_syscalls:sys_enter /pid == cpid/ { @s[tid] = nsecs; }
tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @n[args->id] = count(); @lat[args->id] = hist(nsecs - @s[tid]); delete(@s[tid]); }'
printf '%s\n' "$BT" >"$tmp/count.bt"

# name|command|runs: the fast ones RUNS times, the slow ones once.
{
	echo "bare|$T bench $N|$RUNS"
	echo "cd-trace --summary (bpf)|$C -m bpf --summary -- $T bench $N|$RUNS"
	echo "cd-trace --io (bpf, a record per call)|$C -m bpf --io -- $T bench $N|$RUNS"
	echo "cd-trace --summary (tracepoint)|$C -m tracepoint --summary -- $T bench $N|$RUNS"
	if perf stat -e raw_syscalls:sys_enter -o /dev/null true 2>/dev/null; then
		echo "perf stat -e raw_syscalls:sys_enter|perf stat -e raw_syscalls:sys_enter -o /dev/null -- $T bench $N|$RUNS"
		echo "perf record -e raw_syscalls:*|perf record -q -e raw_syscalls:* -o $tmp/perf.data -- $T bench $N|$RUNS"
	else
		echo "bench-trace: perf unavailable here, skipped" >&2
	fi
	if command -v bpftrace >/dev/null; then
		echo "bpftrace count+latency|bpftrace $tmp/count.bt -c '$T bench $N'|$RUNS"
	else
		echo "bench-trace: bpftrace not installed, skipped" >&2
	fi
	echo "cd-trace --summary (ptrace)|$C -m ptrace --summary -- $T bench $N|1"
	if command -v strace >/dev/null; then
		echo "strace -c -f|strace -c -f -o /dev/null $T bench $N|1"
	fi
} >"$tmp/cmds"

# The loop's own time of one run of a command line, in ns.
loop_ns() {
	sh -c "$1" 2>&1 >/dev/null | sed -n 's/^sysloop bench: [0-9]* calls in \([0-9]*\) ns$/\1/p' | tail -1
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

: >"$tmp/loop"
while IFS='|' read -r name cmd runs; do
	i=0
	: >"$tmp/one"
	while [ "$i" -lt "$runs" ]; do
		loop_ns "$cmd" >>"$tmp/one"
		i=$((i + 1))
	done
	printf '%s|%s|%s\n' "$name" "$(median <"$tmp/one")" "$(tr '\n' ' ' <"$tmp/one")" >>"$tmp/loop"
	echo "bench-trace: $name: $(median <"$tmp/one") ns" >&2
done <"$tmp/cmds"

# Whole commands, start-up included (the fast ones only).
set --
while IFS='|' read -r name cmd runs; do
	[ "$runs" -gt 1 ] || continue
	set -- "$@" -n "$name" "$cmd"
done <"$tmp/cmds"
hyperfine -N -i --runs "$RUNS" --export-markdown "$tmp/h.md" "$@" >"$tmp/hlog" 2>&1 || true

# Completeness: every call of the loop counted, nothing lost.
"$C" -m bpf --summary -- "$T" bench $N >"$tmp/rec" 2>/dev/null || true
calls=$(python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
m = recs[-1]
n = {r["name"]: r["count"] for r in recs if r["type"] == "syscall_summary"}
loop = n.get("getppid", 0) + n.get("write", 0) + n.get("newfstatat", 0) + n.get("read", 0)
print("getppid %d, write %d, newfstatat %d, read %d (the loop makes 150,000 of each; the loader adds 2 newfstatat and 1 read): %d events lost, method %s" % (
    n.get("getppid", 0), n.get("write", 0), n.get("newfstatat", 0), n.get("read", 0), m["lost"], m["method"]))' "$tmp/rec")

# And what the per-call mode kept: a record per file call, or lost.
"$C" -m bpf --io -- "$T" bench $N >"$tmp/io" 2>/dev/null || true
io=$(python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
m = recs[-1]
print("%d syscall records written, %d lost (the ring buffer full while cd-trace was off the CPU)" % (
    sum(1 for r in recs if r["type"] == "syscall"), m["lost"]))' "$tmp/io")

bare=$(sed -n 's/^bare|\([0-9]*\)|.*/\1/p' "$tmp/loop")
{
	echo "# cd-trace overhead"
	echo
	echo "Target: \`sysloop bench $N\` ($N system calls: getppid, read of"
	echo "/dev/zero, write to /dev/null, fstat, in turn). Machine: $(nproc) CPUs,"
	echo "$(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	echo "Run with \`scripts/bench/bench-trace.sh build $RUNS\` on $(date -u +%Y-%m-%d)."
	echo "Goal (issue 13): \`cd-trace --summary\` under BPF at most 2.5x the bare"
	echo "loop and under half of perf record and bpftrace; \`--io\` under perf record."
	echo
	echo "## The loop's own time"
	echo
	echo "As the target measures it (CLOCK_MONOTONIC around the loop), median"
	echo "of the runs shown. Per call: the loop's time over $N calls; overhead:"
	echo "what tracing adds to each call."
	echo
	echo "| Tracer | Loop ms | x bare | ns per call | overhead ns per call | runs (ns) |"
	echo "|:---|---:|---:|---:|---:|:---|"
	while IFS='|' read -r name ns all; do
		[ -n "$ns" ] || { echo "| $name | failed | | | | |"; continue; }
		awk -v n="$name" -v ns="$ns" -v b="$bare" -v N=$N -v all="$all" 'BEGIN {
			printf "| %s | %.1f | %.2f | %.0f | %.0f | %s |\n", n, ns / 1e6, ns / b, ns / N, (ns - b) / N, all }'
	done <"$tmp/loop"
	echo
	echo "## Whole commands (hyperfine, start-up included)"
	echo
	cat "$tmp/h.md"
	echo
	echo "Completeness of the BPF --summary run: $calls."
	echo
	echo "The BPF --io run (450,004 file calls to record): $io."
	echo
	echo "(A section \"Reading these figures\" is written by hand after a run.)"
} >"$OUT"
echo "bench-trace: wrote $OUT"
