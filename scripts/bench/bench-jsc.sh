#!/bin/sh
# cd-sample naming JavaScriptCore frames from the stack: what it costs a
# CPU-bound target at 99 Hz, against plain frame-pointer sampling
# (--no-jsc-frames) and against no sampling.
#   scripts/bench/bench-jsc.sh BUILD_DIR
# (a) tests/targets/jsc-frames-target doing fixed work (ROUNDS calls of its
#     generated and interpreted "functions" from DEPTH nested frames: a
#     stack as deep as Claude Code's), its layout given through a private
#     cache: its own CPU time, alternating alone / plain / JSC frames, N runs
#     each, medians. The controlled figure.
# (b) the real Claude Code, when one runs from /work/cc/run-claude.sh
#     $CD_CLAUDE_PORT (default 18082): its pid in /work/cc/home-PORT/claude.pid,
#     its tmux session cc-PORT. Each round sends `MOCK_FLOOD $SECS` (a fixed
#     amount of streamed markdown: 400 deltas a second of SECS) in a
#     conversation cleared first (/clear) and reads Claude's own CPU time
#     (utime+stime of all its threads, /proc/PID/stat) from the prompt to the
#     end of the turn; ROUNDS_CC per condition, alternating, medians.
set -eu
B=${1:?usage: bench-jsc.sh BUILD_DIR}
OUT=$(dirname "$0")/results/jsc.md
N=${N:-6}
ROUNDS=${ROUNDS:-1000}
DEPTH=${DEPTH:-80}
T=$B/targets/jsc-frames-target
S=$B/bin/cd-sample
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export XDG_CACHE_HOME=$tmp/cache
mkdir -p "$XDG_CACHE_HOME/claude-diagnose"
id=$(readelf -n "$T" | awk '/Build ID/ { print $3 }')
echo "$id owner=40 unlinked=56 name=32 callee=32 types=20,21,22" \
	>"$XDG_CACHE_HOME/claude-diagnose/jsc-layouts"

# run COND: one fixed-work run of the target, its "wall cpu" line to $tmp/COND
run() {
	rm -f "$tmp/ready"
	ROUNDS=$ROUNDS DEPTH=$DEPTH "$T" "" "$tmp/ready" >>"$tmp/$1" &
	tp=$!
	while [ ! -s "$tmp/ready" ]; do sleep 0.05; done
	case $1 in
	plain) "$S" --no-progress --no-analysis -d 600 --no-jsc-frames --pid "$tp" >"$tmp/plain.jsonl" ;;
	jsc) "$S" --no-progress --no-analysis -d 600 --pid "$tp" >"$tmp/jsc.jsonl" ;;
	esac
	wait "$tp"
}
: >"$tmp/alone"; : >"$tmp/plain"; : >"$tmp/jsc"
i=0
while [ $i -lt "$N" ]; do
	run alone; run plain; run jsc
	i=$((i + 1))
done
python3 - "$tmp" "$N" "$ROUNDS" "$DEPTH" "$OUT" <<'PY'
import json, os, platform, statistics, sys, time
d, n, rounds, depth, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
col = lambda f, k: [float(x.split()[k]) for x in open(f"{d}/{f}") if x.strip()]
med = {c: statistics.median(col(c, 1)) for c in ("alone", "plain", "jsc")}
meta = [json.loads(l) for l in open(f"{d}/jsc.jsonl") if '"type":"meta"' in l][-1]
j = meta["jsc_frames"][0]
with open(out, "w") as f:
    w = lambda s="": print(s, file=f)
    w("# cd-sample: JavaScriptCore frames named from the stack")
    w()
    w(f"Run: `scripts/bench/bench-jsc.sh build` on {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d', time.gmtime())}.")
    w("The machine is shared (other jobs run): ratios within the run, not absolute times.")
    w()
    w("## (a) Overhead on a CPU-bound JSC stand-in at 99 Hz")
    w()
    w(f"tests/targets/jsc-frames-target does fixed work (ROUNDS={rounds} calls of its generated and")
    w(f"interpreted functions, from DEPTH={depth} nested C frames: samples copy ~16 KB of live stack) and")
    w(f"times itself; its layout is given through a private cache. Runs alternate, {n} each; the figure")
    w("is the target's own CPU time (the interrupt, the call chain and the 32 KB stack copy land there;")
    w("the heap reads are cd-sample's), medians.")
    w()
    w("| run | target CPU time | vs alone | vs plain sampling |")
    w("|---|---|---|---|")
    w(f"| alone | {med['alone']:.3f} s | 1.000 | |")
    w(f"| plain frame-pointer sampling (`--no-jsc-frames`) | {med['plain']:.3f} s | {med['plain']/med['alone']:.3f} | 1.000 |")
    w(f"| JSC frames from the stack (default) | {med['jsc']:.3f} s | {med['jsc']/med['alone']:.3f} | {med['jsc']/med['plain']:.3f} ({(med['jsc']/med['plain']-1)*100:+.1f}%) |")
    w()
    w("Every run (s): " + "; ".join(f"{c} " + ", ".join(f"{x:.3f}" for x in col(c, 1)) for c in ("alone", "plain", "jsc")) + ".")
    w()
    w(f"Last JSC run: {meta['samples']} samples, {j['frames_named']} frames named from the stack "
      f"({meta['naming_pct']['jsc_frame']}% of frames), lost {meta['lost']}.")
PY
echo "bench-jsc: wrote $OUT (a)"

PORT=${CD_CLAUDE_PORT:-18082}
SECS=${SECS:-10}
ROUNDS_CC=${ROUNDS_CC:-5}
PIDF=/work/cc/home-$PORT/claude.pid
if [ ! -s "$PIDF" ] || ! kill -0 "$(cat "$PIDF")" 2>/dev/null; then
	echo "bench-jsc: no Claude Code on port $PORT (/work/cc/run-claude.sh $PORT): (b) skipped" >&2
	printf '\n## (b) The real Claude Code\n\nSkipped: none was running.\n' >>"$OUT"
	exit 0
fi
python3 - "$B/bin/cd-sample" "$(cat "$PIDF")" "$PORT" "$SECS" "$ROUNDS_CC" "$OUT" <<'PY'
import os, resource, statistics, subprocess, sys, time, json, platform
cds, pid, port, secs, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
tck = os.sysconf("SC_CLK_TCK")

def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tck

def wait_idle():
    # the turn is over when Claude used under 10% of a CPU for 2 s (idle,
    # it still uses a few percent: timers, the terminal UI)
    last = cpu()
    while True:
        time.sleep(2)
        c = cpu()
        if c - last < 0.2:
            return c
        last = c

def rnd(cond):
    # a fresh conversation each round: a turn re-renders the transcript,
    # so without /clear every round costs more than the one before
    subprocess.run(["tmux", "send-keys", "-t", f"cc-{port}", "/clear", "Enter"], check=True)
    time.sleep(1)
    wait_idle()
    c0 = cpu()
    subprocess.run(["tmux", "send-keys", "-t", f"cc-{port}", f"MOCK_FLOOD {secs}", "Enter"], check=True)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    meta = {}
    if cond != "alone":
        args = [cds, "--pid", str(pid), "-d", str(secs + 4), "--no-progress", "--no-analysis"]
        if cond == "plain":
            args.append("--no-jsc-frames")
        p = subprocess.run(args, capture_output=True, text=True)
        lines = [l for l in p.stdout.splitlines() if '"type":"meta"' in l]
        meta = json.loads(lines[-1]) if lines else {}
    c1 = wait_idle()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return c1 - c0, own, meta

res = {"alone": [], "plain": [], "jsc": []}
own = {"plain": [], "jsc": []}
metas = {}
for i in range(rounds):
    for cond in ("alone", "plain", "jsc"):
        t, o, m = rnd(cond)
        res[cond].append(t)
        if cond != "alone":
            own[cond].append(o)
            metas[cond] = m
        print(f"bench-jsc: round {i+1} {cond}: Claude CPU {t:.2f} s, cd-sample CPU {o:.2f} s", file=sys.stderr)
med = {k: statistics.median(v) for k, v in res.items()}
with open(out, "a") as f:
    w = lambda s="": print(s, file=f)
    w()
    w("## (b) The real Claude Code")
    w()
    w(f"Target: the real Claude Code 2.1.197 (native Bun build), started normally (no jitdump),")
    w(f"rendering `MOCK_FLOOD {secs}` (fixed work: {secs*400} streamed markdown deltas) from the mock API.")
    w(f"Figure: Claude's own CPU time (user+sys, all threads) for the turn, each in a conversation")
    w(f"cleared first (`/clear`: a turn re-renders the transcript); {rounds} rounds per condition,")
    w("alternating, medians. cd-sample runs at its default 99 Hz for the whole turn.")
    w()
    w("| condition | Claude CPU time | vs alone | vs plain sampling | cd-sample's own CPU |")
    w("|---|---|---|---|---|")
    w(f"| alone | {med['alone']:.2f} s | 1.000 | | |")
    w(f"| plain frame-pointer sampling (`--no-jsc-frames`) | {med['plain']:.2f} s | {med['plain']/med['alone']:.3f} | 1.000 | {statistics.median(own['plain']):.2f} s |")
    w(f"| JSC frames from the stack (default) | {med['jsc']:.2f} s | {med['jsc']/med['alone']:.3f} | {med['jsc']/med['plain']:.3f} ({(med['jsc']/med['plain']-1)*100:+.1f}%) | {statistics.median(own['jsc']):.2f} s |")
    w()
    w("Every round: " + "; ".join(f"{k} " + ", ".join(f"{x:.2f}" for x in v) for k, v in res.items()) + " (s).")
    m = metas.get("jsc", {})
    j = (m.get("jsc_frames") or [{}])[0]
    if j:
        w()
        w(f"Last JSC round: {m.get('samples')} samples, {j.get('frames_named')} frames named from the stack "
          f"({m.get('naming_pct', {}).get('jsc_frame')}% of frames), {m.get('naming_pct', {}).get('region')}% left as "
          f"[JIT]/[JS interpreter], {m.get('frames_unknown_pct')}% [unknown]; lost samples {m.get('lost')}.")
PY
echo "bench-jsc: wrote $OUT (b)"
