#!/bin/sh
# cd-fold --diff vs FlameGraph's difffolded.pl on the same two folded files
# (synthetic, fixed seeds: 100,000 lines each, half of the stacks shared),
# with and without -n, same run, with hyperfine; checks that both write the
# same lines (difffolded.pl writes them in hash order: both are sorted).
# usage: scripts/bench/bench-diff.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin="${1:?usage: bench-diff.sh BUILD_DIR}/bin"
. "$here/flamegraph.sh"
. "$here/lib.sh"
for t in hyperfine perl; do
	command -v $t >/dev/null || { echo "bench-diff: $t not installed (scripts/deps.sh --bench); skipped"; exit 0; }
done
work=$(mktemp -d /tmp/cd-bench-diff.XXXXXX)
trap 'rm -rf "$work"' EXIT
fg_find "$work"
[ -n "$FG" ] || { echo "bench-diff: FlameGraph not available (set CD_FLAMEGRAPH); skipped"; exit 0; }

# gen SEED OFFSET: stacks i + OFFSET for i < 100000, from the stack's number
# alone, so two files with offsets 0 and 50000 share half their stacks.
gen() {
	awk -v seed="$1" -v off="$2" 'BEGIN {
		for (i = 0; i < 100000; i++) {
			k = i + off; srand(k); d = 3 + int(rand() * 38); s = "main"
			for (j = 1; j < d; j++) s = s ";fn_" int(rand() * rand() * 5000)
			srand(seed * 1000003 + k)
			printf "%s %d\n", s, 1 + int(rand() * 100)
		}
	}'
}
gen 1 0 >"$work/a.folded"
gen 2 50000 >"$work/b.folded"
lines=$(cat "$work/a.folded" "$work/b.folded" | wc -l)

perl "$FG/difffolded.pl" -n "$work/a.folded" "$work/b.folded" | LC_ALL=C sort >"$work/fg.txt"
"$bin/cd-fold" --diff -n "$work/a.folded" "$work/b.folded" | LC_ALL=C sort >"$work/cd.txt"
same=no
cmp -s "$work/fg.txt" "$work/cd.txt" && same=yes
outlines=$(wc -l <"$work/cd.txt")

hyperfine -N --warmup 1 --runs 5 --export-json "$work/h.json" \
	-n "difffolded.pl" "sh -c 'perl $FG/difffolded.pl $work/a.folded $work/b.folded > /dev/null'" \
	-n "cd-fold --diff" "sh -c '$bin/cd-fold --diff $work/a.folded $work/b.folded > /dev/null'" \
	-n "difffolded.pl -n" "sh -c 'perl $FG/difffolded.pl -n $work/a.folded $work/b.folded > /dev/null'" \
	-n "cd-fold --diff -n" "sh -c '$bin/cd-fold --diff -n $work/a.folded $work/b.folded > /dev/null'" >&2

out="$here/results/diff.md"
python3 - "$work/h.json" "$lines" "$outlines" "$same" >"$out" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
print("# cd-fold --diff vs difffolded.pl\n")
print("Input: two synthetic folded files, %s lines in all (fixed seeds, depth 3-40, 5,000 names, half the stacks in both); %s lines out." % (sys.argv[2], sys.argv[3]))
print("Command: `scripts/bench/bench-diff.sh build` (hyperfine, 1 warmup, 5 runs, same run).\n")
print("| command | mean | stddev | user+sys |")
print("|---|---|---|---|")
for r in h:
    print("| %s | %.1f ms | %.1f ms | %.1f ms |" % (r["command"], r["mean"] * 1e3, r["stddev"] * 1e3, (r["user"] + r["system"]) * 1e3))
print("\n**cd-fold --diff is %.1fx faster** than difffolded.pl (%.1fx with -n)." %
      (h[0]["mean"] / h[1]["mean"], h[2]["mean"] / h[3]["mean"]))
cpu = lambda r: r["user"] + r["system"]
print("By CPU time (user+sys, steadier on a shared machine): %.1fx (%.1fx with -n)." %
      (cpu(h[0]) / cpu(h[1]), cpu(h[2]) / cpu(h[3])))
print("\nSame lines as difffolded.pl -n (both sorted): %s." % sys.argv[4])
PY
cat "$out"
