#!/bin/sh
# cd-sample naming V8 (Node.js) frames from the stack: what it costs a
# CPU-bound node target at 99 Hz, against plain frame-pointer sampling
# (--no-js-frames), against no sampling, and beside the peers' way of
# naming them: starting node with --perf-basic-prof.
#   scripts/bench/bench-v8.sh BUILD_DIR
# tests/targets/v8-frames.js does fixed work (ROUNDS rounds of its named
# functions, recursion included) and prints its own CPU time
# (process.cpuUsage). Runs alternate, N of each; medians. The target's
# CPU time carries the sampling interrupts, the call chains and the
# 32 KB stack copies; the heap reads are cd-sample's own CPU, also shown.
set -eu
B=${1:?usage: bench-v8.sh BUILD_DIR}
OUT=$(dirname "$0")/results/v8.md
N=${N:-7}
ROUNDS=${ROUNDS:-40000}
JS=$(cd "$(dirname "$0")/../.." && pwd)/tests/targets/v8-frames.js
S=$B/bin/cd-sample
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
command -v node >/dev/null || { echo "bench-v8: node not installed" >&2; exit 3; }

# run COND: one fixed-work run, its "wall cpu" line to $tmp/COND, the
# sampler's own CPU seconds to $tmp/COND.own
run() {
	rm -f "$tmp/ready"
	flags=--max-inlined-bytecode-size=0
	[ "$1" = perfmap ] && flags="$flags --perf-basic-prof"
	(cd "$tmp" && node $flags "$JS" "$tmp/ready" rounds "$ROUNDS" >>"$tmp/$1") &
	tp=$!
	while [ ! -s "$tmp/ready" ]; do sleep 0.02; done
	np=$(cat "$tmp/ready")
	case $1 in
	plain|perfmap) set -- "$1" --no-js-frames ;;
	v8) set -- "$1" ;;
	alone) wait "$tp"; return ;;
	esac
	c=$1; shift
	/usr/bin/time -f "%U %S" -o "$tmp/t" "$S" --no-progress --no-analysis -d 600 "$@" \
		--pid "$np" >"$tmp/$c.jsonl"
	awk '{ print $1 + $2 }' "$tmp/t" >>"$tmp/$c.own"
	wait "$tp"
	rm -f "/tmp/perf-$np.map"
}
for c in alone plain v8 perfmap; do : >"$tmp/$c"; : >"$tmp/$c.own"; done
i=0
while [ $i -lt "$N" ]; do
	run alone; run plain; run v8; run perfmap
	i=$((i + 1))
done
python3 - "$tmp" "$N" "$ROUNDS" "$OUT" "$(node --version)" <<'PY'
import json, os, platform, statistics, sys, time
d, n, rounds, out, nodev = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
col = lambda f, k: [float(x.split()[k]) for x in open(f"{d}/{f}") if x.strip()]
own = lambda f: [float(x) for x in open(f"{d}/{f}.own") if x.strip()]
med = {c: statistics.median(col(c, 1)) for c in ("alone", "plain", "v8", "perfmap")}
meta = [json.loads(l) for l in open(f"{d}/v8.jsonl") if '"type":"meta"' in l][-1]
j = meta["jsc_frames"][0]
samples = meta["samples"]
with open(out, "w") as f:
    w = lambda s="": print(s, file=f)
    w("# cd-sample: V8 (Node.js) frames named from the stack")
    w()
    w(f"Run: `scripts/bench/bench-v8.sh build` on {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, node {nodev}, {time.strftime('%Y-%m-%d', time.gmtime())}.")
    w("The machine is shared (other jobs run): ratios within the run, not absolute times.")
    w()
    w(f"tests/targets/v8-frames.js does fixed work (ROUNDS={rounds}) and times its own CPU; cd-sample at")
    w(f"99 Hz follows it to its end. Runs alternate, {n} of each; medians.")
    w()
    w("| run | target CPU time | vs alone | vs plain sampling | cd-sample's own CPU |")
    w("|---|---|---|---|---|")
    w(f"| alone | {med['alone']:.3f} s | 1.000 | | |")
    for c, label in (("plain", "plain frame-pointer sampling (`--no-js-frames`)"),
                     ("v8", "V8 frames from the stack (default)"),
                     ("perfmap", "peer: node `--perf-basic-prof`, plain sampling")):
        w(f"| {label} | {med[c]:.3f} s | {med[c]/med['alone']:.3f} | {med[c]/med['plain']:.3f} ({(med[c]/med['plain']-1)*100:+.1f}%) | {statistics.median(own(c)):.2f} s |")
    w()
    w("Every run (target CPU s): " + "; ".join(f"{c} " + ", ".join(f"{x:.3f}" for x in col(c, 1)) for c in ("alone", "plain", "v8", "perfmap")) + ".")
    w()
    w(f"Last V8 run: {samples} samples, {j['frames_named']} frames named of {j['frames_looked_at']} looked at "
      f"({j['not_js']} native or typed, {j['leaf_skipped']} leaves mid-prologue, {j['bad_name']} unreadable names).")
print(open(out).read())
PY
