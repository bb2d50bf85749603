#!/bin/sh
# cd-fds against lsof -p and ss -tanp on one process holding 10,000
# descriptors of which 1,001 are TCP sockets (500 established loopback
# pairs and a listener). Usage: bench-fds.sh BUILD_DIR
# Writes scripts/bench/results/fds.md.
set -eu

build=${1:?usage: bench-fds.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/results/fds.md"
nfiles=${CD_BENCH_FILES:-8998}
nsock=${CD_BENCH_SOCKETS:-1000}

for t in hyperfine lsof ss; do
	command -v "$t" >/dev/null || { echo "bench-fds: $t not installed (scripts/deps.sh --bench)" >&2; exit 3; }
done

dir=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$build/targets/fdzoo" --bench "$nfiles" "$nsock" "$dir" </dev/null >/dev/null 2>&1 &
pid=$!
i=0
while [ ! -s "$dir/ready" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$dir/ready" ] || { echo "bench-fds: target did not start" >&2; exit 3; }
nfds=$(ls "/proc/$pid/fd" | wc -l)
ntcp=$("$build/bin/cd-fds" --summary --pid "$pid" | sed -n 's/.*"tcp":\([0-9]*\),"udp".*/\1/p')
method=$("$build/bin/cd-fds" --summary --pid "$pid" | sed -n 's/.*"fd_method":"\([^"]*\)".*/\1/p')

json="$dir/hyperfine.json"
hyperfine -N --warmup 3 --runs 20 --export-json "$json" \
	-n "cd-fds --pid" "$build/bin/cd-fds --pid $pid" \
	-n "cd-fds --pid --summary" "$build/bin/cd-fds --summary --pid $pid" \
	-n "cd-fds --pid --method procfs" "$build/bin/cd-fds --method procfs --pid $pid" \
	-n "lsof -p" "lsof -p $pid" \
	-n "ss -tanp" "ss -tanp" >&2

python3 - "$json" "$nfds" "$ntcp" "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$method" >"$out" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
nfds, ntcp, ncpu, kernel, load = sys.argv[2:7]
fds = res["cd-fds --pid"]["mean"]
method = sys.argv[7]
print("# cd-fds benchmark\n")
print(f"Target: one process holding {nfds} open descriptors, {ntcp} of them TCP sockets")
print(f"(fdzoo --bench). Machine: {ncpu} CPUs, Linux {kernel}. Written by")
print("scripts/bench/bench-fds.sh with hyperfine (-N, 3 warm-up runs, 20 runs);")
print(f"load average when it finished: {load}. cd-fds read the table with: {method}.\n")
print("| command | mean ms | stddev ms | its time / cd-fds --pid time |")
print("|---|---:|---:|---:|")
for name in ["cd-fds --pid", "cd-fds --pid --summary", "cd-fds --pid --method procfs", "lsof -p", "ss -tanp"]:
    r = res[name]
    print(f"| `{name}` | {r['mean']*1000:.1f} | {(r['stddev'] or 0)*1000:.1f} | {r['mean']/fds:.2f}x |")
print()
print("Goal (issue 3): at least 10x faster than `lsof -p`, and faster than `ss -tanp`.")
lsof = res["lsof -p"]["mean"] / fds
ss = res["ss -tanp"]["mean"] / fds
print(f"Measured: {lsof:.2f}x against lsof -p ({'met' if lsof >= 10 else 'NOT met'}), "
      f"{ss:.2f}x against ss -tanp ({'met' if ss > 1 else 'NOT met'}).")
print("""
How: by default cd-fds reads the table with a BPF task_file iterator
linked to the one process (a libbpf light skeleton: no BTF parsing in user
space), one pass in the kernel instead of readlinkat + openat/read/close of
fdinfo + statx per descriptor (the --method procfs row, spread over one
thread per CPU). fdinfo is then read only for the few kinds whose details
live there. Sockets come from sock_diag dumps, as ss does. On this virtual
machine a first touch of a fresh page costs tens of microseconds, so the
table's memory is faulted in with one madvise(MADV_POPULATE_WRITE).""")
PY
cat "$out"
