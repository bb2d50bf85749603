#!/bin/sh
# make bench: run every scripts/bench/bench-*.sh with the build directory.
# Each compares a tool with its peers on the same input in the same run and
# writes scripts/bench/results/<name>.md. Never part of CI.
set -u
build=${1:?usage: run.sh BUILD_DIR}
here=$(dirname "$0")
"$here/../deps.sh" --bench
fail=0
for b in "$here"/bench-*.sh; do
	echo "== $b"
	"$b" "$build" || { echo "bench: $b failed" >&2; fail=1; }
done
exit $fail
