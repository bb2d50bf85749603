#!/bin/sh
# cd-svg vs FlameGraph's flamegraph.pl on the same 100,000-line folded file
# (synthetic, fixed seed: 100k distinct stacks of depth 3-40 over 5,000
# names), same run, with hyperfine; compares the sizes of the two SVGs.
# usage: scripts/bench/bench-svg.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin="${1:?usage: bench-svg.sh BUILD_DIR}/bin"
. "$here/flamegraph.sh"
for t in hyperfine perl; do
	command -v $t >/dev/null || { echo "bench-svg: $t not installed (scripts/deps.sh --bench); skipped"; exit 0; }
done
work=$(mktemp -d /tmp/cd-bench-svg.XXXXXX)
trap 'rm -rf "$work"' EXIT
fg_find "$work"
[ -n "$FG" ] || { echo "bench-svg: FlameGraph not available (set CD_FLAMEGRAPH); skipped"; exit 0; }

awk 'BEGIN {
	srand(42)
	for (i = 0; i < 100000; i++) {
		d = 3 + int(rand() * 38); s = "main"
		for (j = 1; j < d; j++) s = s ";fn_" int(rand() * rand() * 5000)
		printf "%s %d\n", s, 1 + int(rand() * 100)
	}
}' >"$work/in.folded"
lines=$(wc -l <"$work/in.folded")

hyperfine -N --warmup 1 --runs 5 --export-json "$work/h.json" \
	-n "flamegraph.pl" "sh -c 'perl $FG/flamegraph.pl $work/in.folded > $work/fg.svg'" \
	-n "cd-svg" "sh -c '$bin/cd-svg $work/in.folded > $work/cd.svg'" >&2
fgsize=$(stat -c %s "$work/fg.svg")
cdsize=$(stat -c %s "$work/cd.svg")
fgframes=$(grep -c '<g' "$work/fg.svg" || true)
cdframes=$(grep -c '^<g><title>' "$work/cd.svg" || true)

out="$here/results/svg.md"
python3 - "$work/h.json" "$lines" "$fgsize" "$cdsize" "$fgframes" "$cdframes" >"$out" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
fg, cd = h[0], h[1]
print("# cd-svg vs flamegraph.pl\n")
print("Input: a synthetic folded file, %s lines (fixed seed, depth 3-40, 5,000 names)." % sys.argv[2])
print("Command: `scripts/bench/bench-svg.sh build` (hyperfine, 1 warmup, 5 runs, same run, both at their default 0.1 px minimum width).\n")
print("| command | mean | stddev |")
print("|---|---|---|")
for r in h:
    print("| %s | %.1f ms | %.1f ms |" % (r["command"], r["mean"] * 1e3, r["stddev"] * 1e3))
print("\n**cd-svg is %.1fx faster** (goal: at least 20x)." % (fg["mean"] / cd["mean"]))
print("\nSVG size: flamegraph.pl %s bytes (%s <g> elements), cd-svg %s bytes (%s frames): cd-svg's is %.0f%% of flamegraph.pl's." %
      (sys.argv[3], sys.argv[5], sys.argv[4], sys.argv[6], 100.0 * int(sys.argv[4]) / int(sys.argv[3])))
PY
cat "$out"
