#!/bin/sh
# cd-launch: what it adds to the start of the real Claude Code, timed by
# `claude --version` (starts the runtime, loads the bundle, prints, exits):
# bare, through cd-launch (detection, the private directory, JSC writing
# its jitdump, the removal), JSC's jitdump alone (the same variables set by
# env, no cd-launch, into the kind of directory cd-launch picks), cd-launch
# with no settings (--runtime none: its own fork, exec and wait), and the
# jitdump into /tmp (on a disk here, where JSC's fsyncs cost). Goal:
# through cd-launch not more than 20% slower than bare.
#   scripts/bench/bench-launch.sh BUILD_DIR   (needs hyperfine, python3)
# Claude Code is $CD_CLAUDE, else /work/cc/node_modules/.bin/claude; the
# bench is skipped (exit 0, with a message) without it.
set -eu
B=${1:?usage: bench-launch.sh BUILD_DIR}
L=$B/bin/cd-launch
OUT=$(dirname "$0")/results/launch.md
ROUNDS=${ROUNDS:-10}
RUNS=$((ROUNDS * 3))
C=${CD_CLAUDE:-/work/cc/node_modules/.bin/claude}
if [ ! -x "$C" ]; then
	echo "bench-launch: no Claude Code at $C (set CD_CLAUDE); skipped" >&2
	exit 0
fi
for t in hyperfine python3; do
	command -v $t >/dev/null || { echo "bench-launch: needs $t" >&2; exit 3; }
done
tmp=$(mktemp -d)
# the directory cd-launch itself would choose, for JSC's jitdump alone
jd=$("$L" --print-env --runtime bun | sed -n "s/^export BUN_JSC_jitDumpDirectory='\(.*\)'$/\1/p")
[ -d "$jd" ] || { echo "bench-launch: cd-launch --print-env made no directory" >&2; exit 3; }
# Private directories beside it (so on the same filesystem) as
# XDG_RUNTIME_DIR: cd-launch then makes its own there, where what it leaves
# can be counted and is removed with them.
run=$(mktemp -d "$(dirname "$jd")/cd-bench.XXXXXX")
xdg=$(mktemp -d "$(dirname "$jd")/cd-bench.XXXXXX")
trap 'rm -rf "$tmp" "$jd" "$run" "$xdg"' EXIT INT TERM
mkdir -m 700 "$tmp/jd"
fs_jd=$(stat -f -c %T "$jd")
fs_tmp=$(stat -f -c %T "$tmp")
# never let a benchmark update the installation
export DISABLE_AUTOUPDATER=1

version=$("$C" --version 2>/dev/null | head -1)
# Rounds of 3 runs of each command, so that a burst of load from other jobs
# falls on all of them rather than on one command's block of runs.
i=0
while [ $i -lt "$ROUNDS" ]; do
	XDG_RUNTIME_DIR=$run hyperfine -N --warmup 1 --runs 3 --export-json "$tmp/hf-$i.json" \
		"$C --version" \
		"$L $C --version" \
		"env BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=$jd $C --version" \
		"$L --runtime none $C --version" \
		"env BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=$tmp/jd $C --version" >"$tmp/hf-$i.txt" 2>&1
	i=$((i + 1))
done
# cd-launch's own work before the exec: reading the executable's ELF
# sections and making the directory (--print-env stops there)
# (into $xdg: --print-env leaves its directories to the user)
XDG_RUNTIME_DIR=$xdg hyperfine -N --warmup 3 --runs 100 --export-json "$tmp/detect.json" \
	"$L --print-env $C" >"$tmp/detect.txt" 2>&1
left=$(find "$run" -mindepth 1 | wc -l)

{
echo "# cd-launch: start-up cost on the real Claude Code"
echo
echo "Run: \`scripts/bench/bench-launch.sh build\` on $(uname -sr), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ),"
echo "Claude Code $version ($C). hyperfine, $RUNS runs of each command: $ROUNDS rounds of 3 runs each"
echo "(after one warm-up), the rounds in turn, so that load from other jobs falls on every command."
echo "The machine is shared (other jobs run, see the spread below): compare the rows of one run, not runs;"
echo "CPU time is steadier than wall time here."
echo "Wall: median of the runs; CPU: mean user + system of the command and its children."
echo
python3 - "$fs_jd" "$fs_tmp" "$tmp/detect.json" "$tmp"/hf-*.json <<'PY'
import json, statistics, sys
fs_jd, fs_tmp = sys.argv[1:3]
det = json.load(open(sys.argv[3]))["results"][0]
rounds = [json.load(open(f))["results"] for f in sys.argv[4:]]
r = []
for k in range(len(rounds[0])):
    times = [t for rd in rounds for t in rd[k]["times"]]
    r.append({"median": statistics.median(times),
              "p25": statistics.quantiles(times, n=4)[0], "p75": statistics.quantiles(times, n=4)[2],
              "user": statistics.mean(rd[k]["user"] for rd in rounds),
              "system": statistics.mean(rd[k]["system"] for rd in rounds)})
names = ["`claude --version` (bare)",
         "`cd-launch claude --version` (dump directory on %s)" % fs_jd,
         "`env BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=D claude --version` (JSC's jitdump alone, D where cd-launch puts it: %s)" % fs_jd,
         "`cd-launch --runtime none claude --version` (cd-launch alone, nothing set)",
         "the same env, D in /tmp (%s)" % fs_tmp]
base_w = r[0]["median"]
base_c = r[0]["user"] + r[0]["system"]
print("| command | wall ms (median) | wall ms (quartiles) | vs bare | CPU ms | vs bare |")
print("|---|---|---|---|---|---|")
for n, x in zip(names, r):
    c = x["user"] + x["system"]
    print("| %s | %.1f | %.0f-%.0f | %.2fx | %.1f | %.2fx |" % (n, x["median"] * 1000,
          x["p25"] * 1000, x["p75"] * 1000, x["median"] / base_w, c * 1000, c / base_c))
w = r[1]["median"] / base_w
c = (r[1]["user"] + r[1]["system"]) / base_c
pct = lambda x: "%+.0f%%" % ((x - 1) * 100)
print()
print("Through cd-launch against bare: CPU time %s (%s), wall time %s (%s); the goal is at most +20%%." %
      (pct(c), "met" if c <= 1.2 else "not met", pct(w), "met" if w <= 1.2 else "not met"))
print()
print("cd-launch's detection and directory alone (`cd-launch --print-env claude`, 100 runs): "
      "%.1f ms wall (median), %.1f ms CPU." % (det["median"] * 1000, (det["user"] + det["system"]) * 1000))
PY
echo
echo "Files and directories cd-launch left behind after $((RUNS + ROUNDS)) launches: $left."
echo
echo "The last round, as hyperfine printed it:"
echo
echo '```'
cat "$tmp/hf-$((ROUNDS - 1)).txt"
echo '```'
} >"$OUT"
cat "$OUT"
