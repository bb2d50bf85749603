#!/bin/sh
# cd-fold vs FlameGraph's stackcollapse-perf.pl on the same perf script text
# (FlameGraph's example-perf-stacks, repeated 10 times: 370k lines), same
# run, with hyperfine. Also checks both give the same output, and reports
# peak memory for 1x and 10x input (memory follows distinct stacks).
# usage: scripts/bench/bench-fold.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin="${1:?usage: bench-fold.sh BUILD_DIR}/bin"
. "$here/flamegraph.sh"
for t in hyperfine perl; do
	command -v $t >/dev/null || { echo "bench-fold: $t not installed (scripts/deps.sh --bench); skipped"; exit 0; }
done
work=$(mktemp -d /tmp/cd-bench-fold.XXXXXX)
trap 'rm -rf "$work"' EXIT
fg_find "$work"
[ -n "$FG" ] || { echo "bench-fold: FlameGraph not available (set CD_FLAMEGRAPH); skipped"; exit 0; }

zcat "$FG/example-perf-stacks.txt.gz" >"$work/one.txt"
for i in 1 2 3 4 5 6 7 8 9 10; do cat "$work/one.txt"; done >"$work/in.txt"
lines=$(wc -l <"$work/in.txt")
perl "$FG/stackcollapse-perf.pl" --all "$work/in.txt" >"$work/want" 2>/dev/null
"$bin/cd-fold" --from perf --all "$work/in.txt" >"$work/got"
if cmp -s "$work/want" "$work/got"; then same=yes; else same=NO; fi

hyperfine -N --warmup 1 --runs 10 --export-json "$work/h.json" \
	-n "stackcollapse-perf.pl --all" "perl $FG/stackcollapse-perf.pl --all $work/in.txt" \
	-n "cd-fold --from perf --all" "$bin/cd-fold --from perf --all $work/in.txt" >&2

mem() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
m1=$(mem "$bin/cd-fold" --from perf "$work/one.txt")
m10=$(mem "$bin/cd-fold" --from perf "$work/in.txt")

out="$here/results/fold.md"
python3 - "$work/h.json" "$lines" "$same" "$m1" "$m10" >"$out" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
pl, cd = h[0], h[1]
print("# cd-fold vs stackcollapse-perf.pl\n")
print("Input: FlameGraph's example-perf-stacks (perf record -F 99 -a -g), %s lines (10 copies)." % sys.argv[2])
print("Command: `scripts/bench/bench-fold.sh build` (hyperfine, 1 warmup, 10 runs, same run).\n")
print("| command | mean | stddev |")
print("|---|---|---|")
for r in h:
    print("| %s | %.1f ms | %.1f ms |" % (r["command"], r["mean"] * 1e3, r["stddev"] * 1e3))
print("\n**cd-fold is %.1fx faster** (goal: at least 30x)." % (pl["mean"] / cd["mean"]))
print("\nSame output as stackcollapse-perf.pl --all on this input: %s." % sys.argv[3])
print("\nPeak RSS of cd-fold: %s KiB on 1 copy, %s KiB on 10 copies (the same distinct stacks)." % (sys.argv[4], sys.argv[5]))
PY
cat "$out"
