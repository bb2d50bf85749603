#!/bin/sh
# cd-trace --summary under BPF on file churn: a target that opens, reads
# and closes one file N times. Every open and close starts a new fd-table
# generation, so each read and close is a new key of the kernel's
# fd-keyed counters; cd-trace names them all (the io_summary records).
# Its peers only count calls (perf record of raw_syscalls, a bpftrace
# count script, strace -c): they show what counting alone costs on this
# target. Whole commands (hyperfine), so cd-trace's naming after the
# target exits is in its time. Then the completeness of cd-trace's
# per-file counts: every read and close on its file, nothing lost.
#   bench-trace-files.sh BUILD_DIR [RUNS]
set -eu
B=${1:?usage: bench-trace-files.sh BUILD_DIR [RUNS]}
RUNS=${2:-5}
T="$B/targets/sysloop"
C="$B/bin/cd-trace"
OUT="$(dirname "$0")/results/trace-files.md"
N=200000
. "$(dirname "$0")/lib.sh"
bench_setup bench-trace-files "$T"
F="$tmp/file"
echo churn >"$F"
W="$T readfile $N $F"

printf '%s\n' 'tracepoint:raw_syscalls:sys_enter /pid == cpid/ { @n[args->id] = count(); }' >"$tmp/count.bt"
set -- -n bare "$W" -n "cd-trace --summary (bpf)" "$C -m bpf --summary -- $W"
if perf stat -e raw_syscalls:sys_enter -o /dev/null true 2>/dev/null; then
	set -- "$@" -n "perf record -e raw_syscalls:*" "perf record -q -e raw_syscalls:* -o $tmp/perf.data -- $W"
fi
if command -v bpftrace >/dev/null; then
	set -- "$@" -n "bpftrace count" "bpftrace $tmp/count.bt -c '$W'"
fi
hyperfine -N -i --runs "$RUNS" --export-markdown "$tmp/h.md" "$@" >"$tmp/hlog" 2>&1 || true
strace_s=
if command -v strace >/dev/null; then
	s0=$(date +%s%N)
	strace -c -f -o /dev/null $W >/dev/null 2>&1 || true
	strace_s=$(( ($(date +%s%N) - s0) / 1000000 ))
fi

# Completeness, from three runs: the per-file counts and lost.
i=0
: >"$tmp/runs"
while [ $i -lt 3 ]; do
	"$C" -m bpf --summary -- $W >"$tmp/rec" 2>/dev/null || true
	python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
m = recs[-1]
io = [r for r in recs if r["type"] == "io_summary" and r["path"] == sys.argv[2]]
s = io[0]["syscalls"] if io else {}
print("openat %d, read %d, close %d on the file; %d lost" % (
    s.get("openat", 0), s.get("read", 0), s.get("close", 0), m["lost"]))' "$tmp/rec" "$F" >>"$tmp/runs"
	i=$((i + 1))
done

{
	echo "# cd-trace --summary on file churn"
	echo
	echo "Target: \`sysloop readfile $N FILE\` ($N times: openat, read, close"
	echo "of one file; $((N * 2)) fd-keyed counter keys). Machine: $(nproc) CPUs,"
	echo "$(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	echo "Run with \`scripts/bench/bench-trace-files.sh build $RUNS\` on $(date -u +%Y-%m-%d)."
	echo
	echo "## Whole commands (hyperfine)"
	echo
	cat "$tmp/h.md"
	echo
	[ -z "$strace_s" ] || echo "strace -c -f, one run: $strace_s ms."
	echo
	echo "## cd-trace's per-file counts (the loop makes $N of each)"
	echo
	sed 's/^/- /' "$tmp/runs"
	echo
	echo "(A section \"Reading these figures\" is written by hand after a run.)"
} >"$OUT"
echo "bench-trace-files: wrote $OUT"
