#!/bin/sh
# Run every scripts/bench/bench-*.sh against the build dir $1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$here"/bench-*.sh; do
	echo "== $(basename "$b")"
	"$b" "${1:?usage: run.sh BUILD_DIR}" || rc=1
done
exit $rc
