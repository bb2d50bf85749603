# Shared by the bench scripts.
# usage: hf_cpu FILE INDEX -> mean user+system milliseconds
hf_cpu() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
print("%.1f" % ((r["user"] + r["system"]) * 1000))
' "$1" "$2"
}
ratio() {
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"
}

# bench_setup NAME FILE: FILE is built and hyperfine installed, else exit
# 3; then $tmp is a private directory, removed on exit.
bench_setup() {
	[ -x "$2" ] || { echo "$1: build first ($2 missing)" >&2; exit 3; }
	command -v hyperfine >/dev/null || { echo "$1: hyperfine missing (scripts/deps.sh --bench)" >&2; exit 3; }
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
}
