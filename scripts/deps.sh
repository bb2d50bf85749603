#!/bin/sh
# Install the Debian packages that building, testing and benchmarking need,
# only those that are missing. Needs root (or sudo) when something is missing.
set -eu

# protobuf-c-compiler, libprotobuf-c-dev, zlib1g-dev: cd-fold --output pprof.
# golang-go: the tests read that output with `go tool pprof` (~35 s to install).
# prometheus: promtool checks claude-trace --prometheus (16 s to install).
build="gcc make pkg-config libproc2-dev libcjson-dev libdw-dev libelf-dev linux-libc-dev libstdc++-12-dev binutils libbpf-dev bpftool clang protobuf-c-compiler libprotobuf-c-dev zlib1g-dev"
test="bats bats-assert bats-support nodejs libclang-rt-14-dev python3 python3-jsonschema chromium parallel util-linux golang-go prometheus"
bench="${CD_BENCH_DEPS:-}"
[ "${1:-}" = "--bench" ] && bench="hyperfine lsof iproute2 strace linux-perf perl"

missing=""
for p in $build $test $bench; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*)
		# nodejs may come from another repository under the same name;
		# a working node binary is what the tests need.
		if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then
			continue
		fi
		missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
