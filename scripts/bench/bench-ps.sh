#!/bin/bash
# cd-ps vs ps on a machine running 2,000 extra processes: CPU time (user +
# system) of one scan. cd-ps runs with --interval 0 so its measuring sleep
# is not counted; ps reads every process's stat, status and cmdline, cd-ps
# only stat and cmdline for processes that do not match.
set -euo pipefail
build=${1:?usage: bench-ps.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
out="$here/results/ps.md"
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

for _ in $(seq 2000); do
	sleep 600 </dev/null >/dev/null 2>&1 &
	pids+=($!)
done
nproc_now=$(ls -d /proc/[0-9]* | wc -l)

hyperfine --warmup 3 --runs 30 -N --export-json "$tmp/ps.json" \
	"$build/bin/cd-ps --interval 0" \
	"$build/bin/cd-ps --interval 0 --all" \
	"ps -eo pid,ppid,pcpu,pmem,rss,vsz,stat,etime,args" >"$tmp/hf.txt"

cd_cpu=$(hf_cpu "$tmp/ps.json" 0)
cd_all=$(hf_cpu "$tmp/ps.json" 1)
ps_cpu=$(hf_cpu "$tmp/ps.json" 2)
{
	echo "# cd-ps vs ps: CPU time of one scan"
	echo
	echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $nproc_now processes running"
	echo "(2,000 of them started by this script), by \`make bench\` (scripts/bench/bench-ps.sh)."
	echo "User + system CPU milliseconds per run, mean of 30 runs (hyperfine)."
	echo
	echo "| command | CPU ms/run | vs ps |"
	echo "|---|---|---|"
	echo "| \`cd-ps --interval 0\` (Claude processes only) | $cd_cpu | $(ratio "$cd_cpu" "$ps_cpu")x |"
	echo "| \`cd-ps --interval 0 --all\` (every process, full records) | $cd_all | $(ratio "$cd_all" "$ps_cpu")x |"
	echo "| \`ps -eo pid,ppid,pcpu,pmem,rss,vsz,stat,etime,args\` | $ps_cpu | 1.00x |"
	echo
	echo '```'
	cat "$tmp/hf.txt"
	echo '```'
} >"$out"
cat "$out"
