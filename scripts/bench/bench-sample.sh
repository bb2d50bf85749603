#!/bin/sh
# cd-sample: (a) what sampling at the default rate costs a CPU-bound
# target, against running alone and against perf record at the same rate;
# (b) naming the frames of the real Claude Code binary (245 MB): time, and
# the share of frames named, against perf report on the same workload.
#   scripts/bench/bench-sample.sh BUILD_DIR   (needs hyperfine, perf)
# The Claude Code binary is taken from $CD_CLAUDE_BIN, else
# /work/cc/node_modules/@anthropic-ai/claude-code/bin/claude.exe
# (npm install @anthropic-ai/claude-code in /work/cc); part (b) is skipped
# without it.
set -eu
B=${1:?usage: bench-sample.sh BUILD_DIR}
S=$B/bin/cd-sample
T=$B/targets/hot2to1
OUT=$(dirname "$0")/results/sample.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
ROUNDS=${ROUNDS:-300}
N=${N:-8}

for t in hyperfine perf python3; do
	command -v $t >/dev/null || { echo "bench-sample: needs $t" >&2; exit 3; }
done

{
echo "# cd-sample benchmarks"
echo
echo "Run: \`scripts/bench/bench-sample.sh build\` on $(uname -sr), $(nproc) CPUs, $(date -u +%Y-%m-%d)."
echo "The machine is shared (other jobs run): ratios, not absolute times."
echo
echo "## (a) Overhead on a CPU-bound target at the default rate (99 Hz)"
echo
echo "hot2to1 does fixed work (HOT2TO1_ROUNDS=$ROUNDS) and times itself."
echo "Runs alternate alone / under cd-sample / under perf record -F 99 -g, $N each;"
echo "the figures are the target's own CPU time (user+sys, CLOCK_PROCESS_CPUTIME_ID: the interrupt"
echo "and call-chain work sampling adds to the target lands there) and its wall time, medians."
echo "Wall time on a shared, loaded machine mostly measures the other jobs; CPU time is the figure to read."
echo
} >"$OUT"

: >"$tmp/alone"; : >"$tmp/cds"; : >"$tmp/perf"
i=0
while [ $i -lt "$N" ]; do
	HOT2TO1_ROUNDS=$ROUNDS "$T" >>"$tmp/alone"
	HOT2TO1_ROUNDS=$ROUNDS "$S" --no-progress -- sh -c "exec \"$T\" >>\"$tmp/cds\"" >"$tmp/cds.jsonl"
	HOT2TO1_ROUNDS=$ROUNDS perf record -q -F 99 -g -o "$tmp/perf.data" -- \
		sh -c "exec \"$T\" >>\"$tmp/perf\"" 2>/dev/null
	i=$((i + 1))
done
python3 - "$tmp" >>"$OUT" <<'PY'
import statistics, sys, json
d = sys.argv[1]
med = lambda f, k: statistics.median(float(x.split()[k]) for x in open(f"{d}/{f}") if x.strip())
a, c, p = med("alone", 1), med("cds", 1), med("perf", 1)
aw, cw, pw = med("alone", 0), med("cds", 0), med("perf", 0)
meta = [json.loads(l) for l in open(f"{d}/cds.jsonl") if '"meta"' in l][-1]
print("| run | target CPU time | vs alone | target wall time | vs alone |")
print("|---|---|---|---|---|")
print(f"| alone | {a:.3f} s | 1.000 | {aw:.3f} s | 1.000 |")
print(f"| cd-sample -F 99 | {c:.3f} s | {c/a:.3f} ({(c/a-1)*100:+.1f}%) | {cw:.3f} s | {cw/aw:.3f} |")
print(f"| perf record -F 99 -g | {p:.3f} s | {p/a:.3f} ({(p/a-1)*100:+.1f}%) | {pw:.3f} s | {pw/aw:.3f} |")
print()
print(f"Last cd-sample run: {meta['samples']} samples, {meta['lost']} lost, "
      f"{meta['frames_resolved_pct']}% frames named.")
PY

{
echo
echo "Whole-command wall time (tool start-up, capture, naming and output included), hyperfine:"
echo
} >>"$OUT"
HOT2TO1_ROUNDS=$ROUNDS hyperfine --warmup 1 --runs 5 --export-markdown "$tmp/hf.md" \
	"$T >/dev/null" \
	"$S --no-progress -- $T >/dev/null" \
	"perf record -q -F 99 -g -o $tmp/p2.data -- $T >/dev/null" >/dev/null
cat "$tmp/hf.md" >>"$OUT"

# (c) The same with a jitdump to read: jitdump-target loads its generated
# code in a jitdump (a JavaScriptCore stand-in); cd-sample finds it, reads
# it as it grows and binds every JIT address to a load.
J=$B/targets/jitdump-target
JR=${JROUNDS:-1000}
{
echo
echo "## (c) Overhead with jitdump reading on (99 Hz)"
echo
echo "jitdump-target does fixed work (ROUNDS=$JR: an FDE-less 'interpreter' loop, then generated code"
echo "loaded twice in its jitdump) and times itself; alone / under cd-sample, $N runs each, alternating,"
echo "medians of the target's own CPU time (as in (a)). cd-sample's own CPU time is its user+sys."
echo
} >>"$OUT"
mkdir -p "$tmp/jd"
: >"$tmp/jalone"; : >"$tmp/jcds"; : >"$tmp/jself"
i=0
while [ $i -lt "$N" ]; do
	ROUNDS=$JR "$J" "$tmp/jd" >>"$tmp/jalone"
	rm -f "$tmp"/jd/*
	ROUNDS=$JR /usr/bin/time -f "%U %S" -a -o "$tmp/jself" "$S" --no-progress -- \
		sh -c "exec \"$J\" \"$tmp/jd\" >>\"$tmp/jcds\"" >"$tmp/jcds.jsonl"
	rm -f "$tmp"/jd/*
	i=$((i + 1))
done
python3 - "$tmp" >>"$OUT" <<'PY'
import statistics, sys, json
d = sys.argv[1]
med = lambda f, k: statistics.median(float(x.split()[k]) for x in open(f"{d}/{f}") if x.strip())
a, c = med("jalone", 1), med("jcds", 1)
s = statistics.median(float(x.split()[0]) + float(x.split()[1]) for x in open(f"{d}/jself") if x.strip())
meta = [json.loads(l) for l in open(f"{d}/jcds.jsonl") if '"meta"' in l][-1]
jd = meta["jitdumps"][0] if meta["jitdumps"] else {}
print("| run | target CPU time | vs alone |")
print("|---|---|---|")
print(f"| alone | {a:.3f} s | 1.000 |")
print(f"| cd-sample -F 99, jitdump read | {c:.3f} s | {c/a:.3f} ({(c/a-1)*100:+.1f}%) |")
print()
print(f"cd-sample's own CPU time (capture and naming), median: {s:.3f} s; last run: "
      f"{meta['samples']} samples, {jd.get('addresses_bound', 0)} JIT addresses bound to "
      f"{jd.get('loads', 0)} loads, naming {meta['naming_pct']}.")
PY

CC=${CD_CLAUDE_BIN:-/work/cc/node_modules/@anthropic-ai/claude-code/bin/claude.exe}
{
echo
echo "## (b) Naming frames in the real Claude Code binary"
echo
} >>"$OUT"
if [ ! -x "$CC" ]; then
	echo "Skipped: no Claude Code binary at $CC." >>"$OUT"
	exit 0
fi
{
echo "Binary: $(basename "$CC"), $(stat -c %s "$CC") bytes, version $("$CC" --version 2>/dev/null | head -1)."
echo "Workload: \`claude --help\` (start-up: JavaScriptCore parsing and running the bundle), sampled at 999 Hz."
echo "Each row is one run of each tool on the same workload, one after the other."
echo "cd-sample's symbolize_s is its own measured time from the end of the capture to every frame named;"
echo "perf's figure is the wall time of \`perf report --stdio\` over its capture."
echo "A frame counts as named when it has a symbol (or JIT / kernel name), not \`[unknown]\` or module+offset."
echo
echo "| run | cd-sample samples | cd-sample symbolize_s | cd-sample named | perf samples | perf report s | perf named |"
echo "|---|---|---|---|---|---|---|"
} >>"$OUT"
for run in 1 2 3; do
	"$S" --no-progress -F 999 -- sh -c "exec \"$CC\" --help >/dev/null" >"$tmp/cc.jsonl"
	perf record -q -F 999 -g -o "$tmp/cc.data" -- "$CC" --help >/dev/null 2>&1
	t0=$(date +%s.%N)
	perf report --stdio -i "$tmp/cc.data" >/dev/null 2>&1
	t1=$(date +%s.%N)
	perf script -i "$tmp/cc.data" -F ip,sym,dso 2>/dev/null >"$tmp/cc.script"
	python3 - "$tmp" "$run" "$t0" "$t1" >>"$OUT" <<'PY'
import json, re, sys
d, run, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
meta = [json.loads(l) for l in open(f"{d}/cc.jsonl") if '"type":"meta"' in l][-1]
frames = named = samples = 0
prev_blank = True
for line in open(f"{d}/cc.script", errors="replace"):
    s = line.strip()
    if not s:
        prev_blank = True
        continue
    if prev_blank:
        samples += 1
    prev_blank = False
    parts = s.split(None, 1)
    if len(parts) < 2:
        continue
    frames += 1
    sym = parts[1].rsplit(" (", 1)[0]
    if not sym.startswith("[unknown]"):
        named += 1
print(f"| {run} | {meta['samples']} | {meta['symbolize_s']:.3f} | {meta['frames_resolved_pct']}% "
      f"| {samples} | {t1 - t0:.3f} | {100.0 * named / max(frames, 1):.1f}% |")
PY
done
echo >>"$OUT"
echo "The binary's .symtab holds only its ~1,100 exported symbols: most of its own frames can only be module+offset for any tool." >>"$OUT"
echo "bench-sample: wrote $OUT" >&2
