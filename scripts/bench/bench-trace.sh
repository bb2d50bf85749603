#!/bin/sh
# cd-trace's overhead on a target making 600,000 system calls (a mix of
# getppid, read of /dev/zero, write to /dev/null, fstat), against strace -c -f
# and perf trace -s on the same target in the same run. Goal: <= 1.6x bare
# under the tracepoint method. cd-trace exits 1 here (the loop is a
# critical metadata storm by its rules), hence hyperfine -i.
#   bench-trace.sh BUILD_DIR
set -eu
B=${1:?usage: bench-trace.sh BUILD_DIR}
T="$B/targets/sysloop"
OUT="$(dirname "$0")/results/trace.md"
N=600000
[ -x "$T" ] || { echo "bench-trace: build first ($T missing)" >&2; exit 3; }
command -v hyperfine >/dev/null || { echo "bench-trace: hyperfine missing (scripts/deps.sh --bench)" >&2; exit 3; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

set -- -n bare "$T bench $N" \
	-n "cd-trace --summary (tracepoint)" "$B/bin/cd-trace -m tracepoint --summary -- $T bench $N" \
	-n "cd-trace --summary (ptrace)" "$B/bin/cd-trace -m ptrace --summary -- $T bench $N"
if command -v strace >/dev/null; then
	set -- "$@" -n "strace -c -f" "strace -c -f -o /dev/null $T bench $N"
else
	echo "bench-trace: strace not installed, skipped" >&2
fi
if perf trace -s true >/dev/null 2>&1; then
	set -- "$@" -n "perf trace -s" "perf trace -s -o /dev/null $T bench $N"
else
	echo "bench-trace: perf trace unavailable here, skipped" >&2
fi

hyperfine -N -i --runs 3 --export-markdown "$tmp/h.md" "$@" | tee "$tmp/log"

# Check the tracer saw every call (a fast tracer that drops events is no win).
"$B/bin/cd-trace" -m tracepoint --summary -- "$T" bench $N >"$tmp/rec" || true
calls=$(python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
m = recs[-1]
n = sum(r["count"] for r in recs if r["type"] == "syscall_summary" and r["name"] in ("getppid", "read", "write", "fstat", "newfstatat"))
print("%d calls of the loop counted, %d events lost" % (n, m["lost"]))' "$tmp/rec")

{
	echo "# cd-trace overhead"
	echo
	echo "Target: \`sysloop bench $N\` ($N system calls: getppid, read of"
	echo "/dev/zero, write to /dev/null, fstat, in turn). Machine: $(nproc) CPUs,"
	echo "$(uname -sr). Run with \`scripts/bench/bench-trace.sh build\` on $(date -u +%Y-%m-%d)."
	echo "Goal: at most 1.6x the bare run under the tracepoint method."
	echo
	cat "$tmp/h.md"
	echo
	echo "Relative (from hyperfine's summary):"
	echo
	echo '```'
	sed -n '/Summary/,$p' "$tmp/log"
	echo '```'
	echo
	echo "Completeness check of the tracepoint run: $calls."
} >"$OUT"
echo "bench-trace: wrote $OUT"
