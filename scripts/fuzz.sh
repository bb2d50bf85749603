#!/bin/sh
# Build and run every libFuzzer harness tests/fuzz/fuzz_*.c for
# FUZZ_SECONDS (default 10) each, with ASan and UBSan. A harness names the
# tool sources it needs in a comment line "FUZZ_SOURCES: path...": a
# directory means its *.c but main.c, a file itself; common/*.c is always
# linked. Crashes are kept in tests/fuzz/corpus-NAME/ (ignored by git).
#
# usage: scripts/fuzz.sh [SECONDS] [HARNESS...]
set -eu
cd "$(dirname "$0")/.."
secs="${1:-${FUZZ_SECONDS:-10}}"
[ $# -gt 0 ] && shift
CC="${FUZZ_CC:-clang}"
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 3; }
out="${FUZZ_OUT:-build-fuzz}"
mkdir -p "$out/gen"
# generated headers some tools need (cd-svg's embedded script)
make -s O="$out" gen
cflags="-std=c11 -D_GNU_SOURCE -DCD_VERSION=\"fuzz\" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Icommon -I$out/gen $(pkg-config --cflags libcjson libproc2 libdw 2>/dev/null)"
libs="$(pkg-config --libs libcjson libproc2 libdw libelf 2>/dev/null) -lm -lpthread -lstdc++"

# common/ is compiled once for every harness, instrumented but without
# libFuzzer's main.
objflags=$(printf '%s' "$cflags" | sed 's/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,/')
mkdir -p "$out/common"
for f in common/*.c; do
	o="$out/common/$(basename "$f" .c).o"
	$CC $objflags -c -o "$o" "$f" &
done
wait
rm -f "$out/libcommon-fuzz.a"
ar rcs "$out/libcommon-fuzz.a" "$out"/common/*.o

harnesses="$*"
[ -n "$harnesses" ] || harnesses=$(ls tests/fuzz/fuzz_*.c)
fail=0
for h in $harnesses; do
	name=$(basename "$h" .c)
	srcs=""
	incs=""
	for p in $(sed -n 's/.*FUZZ_SOURCES:[[:space:]]*//p' "$h"); do
		if [ -d "$p" ]; then
			for f in "$p"/*.c; do
				[ "$(basename "$f")" = main.c ] || srcs="$srcs $f"
			done
			incs="$incs -I$p"
		elif [ -f "$p" ]; then
			srcs="$srcs $p"
			incs="$incs -I$(dirname "$p")"
		fi
	done
	echo "fuzz: building $name" >&2
	# shellcheck disable=SC2086
	$CC $cflags $incs -o "$out/$name" "$h" $srcs "$out/libcommon-fuzz.a" $libs
	mkdir -p "tests/fuzz/corpus-$name"
	seeds=""
	[ -d "tests/fuzz/seeds" ] && seeds="tests/fuzz/seeds"
	what="${secs}s"
	[ -n "${FUZZ_RUNS:-}" ] && what="$FUZZ_RUNS runs, seed 1"
	echo "fuzz: running $name ($what)" >&2
	# shellcheck disable=SC2086
	# FUZZ_RUNS: a fixed number of runs from a fixed seed, so that CI is
	# repeatable (what it finds, it finds every time); else FUZZ_SECONDS.
	limit="-max_total_time=$secs"
	[ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$FUZZ_RUNS -seed=1"
	# shellcheck disable=SC2086
	if ! "$out/$name" $limit -max_len=65536 -timeout=10 \
	    -artifact_prefix="tests/fuzz/corpus-$name/" "tests/fuzz/corpus-$name" $seeds \
	    >"$out/$name.log" 2>&1; then
		echo "fuzz: $name FAILED; see $out/$name.log and tests/fuzz/corpus-$name/" >&2
		tail -30 "$out/$name.log" >&2
		fail=1
	else
		grep -E '^(#[0-9]+[[:space:]]+DONE|Done)' "$out/$name.log" | tail -1 >&2 || true
	fi
done
exit $fail
