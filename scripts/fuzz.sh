#!/usr/bin/env bash
# Build and run every libFuzzer harness tests/fuzz/fuzz_*.c for
# FUZZ_SECONDS (default 10) each, with ASan and UBSan. A harness names the
# tool sources it needs in a comment line "FUZZ_SOURCES: path...": a
# directory means its *.c but main.c, a file itself; common/ is always
# linked. Crashes are kept in tests/fuzz/corpus-NAME/ (ignored by git).
#
# FUZZ_JOBS (default: the number of CPUs) objects are compiled and
# harnesses run at once. Each harness is one process with its own corpus,
# so with FUZZ_RUNS its result does not depend on what runs beside it.
#
# usage: scripts/fuzz.sh [SECONDS] [HARNESS...]
# shellcheck disable=SC2317 # functions run through pool()
set -eu
cd "$(dirname "$0")/.."
secs="${1:-${FUZZ_SECONDS:-10}}"
[ $# -gt 0 ] && shift
CC="${FUZZ_CC:-clang}"
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 3; }
jobs_max="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
out="${FUZZ_OUT:-build-fuzz}"
mkdir -p "$out/gen"
# generated headers some tools need (cd-svg's embedded script)
make -s O="$out" gen
cflags="-std=c11 -D_GNU_SOURCE -DCD_VERSION=\"fuzz\" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Icommon/stream -Icommon/claude -Icommon/collect -Icommon/collect/linux -I$out/gen $(pkg-config --cflags libcjson libproc2 libdw 2>/dev/null)"
libs="$(pkg-config --libs libcjson libproc2 libdw libelf libprotobuf-c zlib 2>/dev/null) -lm -lpthread -lstdc++"

# Object files are instrumented but without libFuzzer's main.
objflags=$(printf '%s' "$cflags" | sed 's/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,/')

# Run "$@" in the background, at most jobs_max at once. Callers check
# results through files, not exit statuses, so none is lost to wait -n.
pool() {
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
	"$@" &
}

# compile SRC OBJ [FLAGS...]: a missing OBJ afterwards is the failure.
compile() {
	local src=$1 obj=$2
	shift 2
	rm -f "$obj"
	# shellcheck disable=SC2086
	$CC $objflags "$@" -c -o "$obj" "$src" || rm -f "$obj"
}

harnesses="$*"
[ -n "$harnesses" ] || harnesses=$(ls tests/fuzz/fuzz_*.c)

# common/, the generated C (cd-fold's profile.pb-c.c) and every tool source
# the harnesses name are compiled once, not once per harness (six
# harnesses share cd-fold).
declare -A objs_of=() seen=()
objs=()
mkdir -p "$out/common"
for f in $(find common -name "*.c" ! -name "*.bpf.c" | sort) "$out"/gen/*.c; do
	[ -f "$f" ] || continue
	o="$out/common/$(basename "$f" .c).o"
	objs+=("$o")
	pool compile "$f" "$o"
done
for h in $harnesses; do
	name=$(basename "$h" .c)
	hobjs=""
	for p in $(sed -n 's/.*FUZZ_SOURCES:[[:space:]]*//p' "$h"); do
		srcs=""
		if [ -d "$p" ]; then
			for f in "$p"/*.c; do
				[ "$(basename "$f")" = main.c ] || srcs="$srcs $f"
			done
			inc="-I$p"
		elif [ -f "$p" ]; then
			srcs="$p"
			inc="-I$(dirname "$p")"
		fi
		for f in $srcs; do
			o="$out/obj/${f%.c}.o"
			hobjs="$hobjs $o"
			[ -z "${seen[$o]:-}" ] || continue
			seen[$o]=1
			objs+=("$o")
			mkdir -p "$(dirname "$o")"
			# shellcheck disable=SC2086
			pool compile "$f" "$o" $inc
		done
	done
	objs_of[$name]="$hobjs"
done
wait
for o in "${objs[@]}"; do
	[ -f "$o" ] || { echo "fuzz: compiling $o failed" >&2; exit 1; }
done
rm -f "$out/libcommon-fuzz.a"
ar rcs "$out/libcommon-fuzz.a" "$out"/common/*.o

# build_run NAME HARNESS: link the harness, then fuzz it; NAME.rc holds
# the result.
build_run() {
	local name=$1 h=$2 limit what incs=""
	for o in ${objs_of[$name]}; do
		o=${o#"$out"/obj/}
		case " $incs " in *" -I${o%/*} "*) ;; *) incs="$incs -I${o%/*}" ;; esac
	done
	echo 1 >"$out/$name.rc"
	rm -f "$out/$name.log"
	echo "fuzz: building $name" >&2
	# shellcheck disable=SC2086
	$CC $cflags $incs -o "$out/$name" "$h" ${objs_of[$name]} "$out/libcommon-fuzz.a" $libs || return 0
	mkdir -p "tests/fuzz/corpus-$name"
	seeds=""
	[ -d "tests/fuzz/seeds" ] && seeds="tests/fuzz/seeds"
	what="${secs}s"
	[ -n "${FUZZ_RUNS:-}" ] && what="$FUZZ_RUNS runs, seed 1"
	echo "fuzz: running $name ($what)" >&2
	# FUZZ_RUNS: a fixed number of runs from a fixed seed, so that CI is
	# repeatable (what it finds, it finds every time); else FUZZ_SECONDS.
	limit="-max_total_time=$secs"
	[ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$FUZZ_RUNS -seed=1"
	# shellcheck disable=SC2086
	if "$out/$name" $limit -max_len=65536 -timeout=10 \
	    -artifact_prefix="tests/fuzz/corpus-$name/" "tests/fuzz/corpus-$name" $seeds \
	    >"$out/$name.log" 2>&1; then
		echo 0 >"$out/$name.rc"
		echo "fuzz: $name: $(grep -E '^(#[0-9]+[[:space:]]+DONE|Done)' "$out/$name.log" | tail -1)" >&2
	fi
}

for h in $harnesses; do
	pool build_run "$(basename "$h" .c)" "$h"
done
wait

fail=0
for h in $harnesses; do
	name=$(basename "$h" .c)
	[ "$(cat "$out/$name.rc")" = 0 ] && continue
	echo "fuzz: $name FAILED; see $out/$name.log and tests/fuzz/corpus-$name/" >&2
	[ -f "$out/$name.log" ] && tail -30 "$out/$name.log" >&2
	fail=1
done
exit $fail
