# Sourced by the bench scripts: find FlameGraph (never committed here) and
# set FG to a directory holding its perl scripts, or leave FG empty.
#   CD_FLAMEGRAPH=/path/to/FlameGraph   use that checkout
#   CD_FLAMEGRAPH_GIT=/path/to/FlameGraph.git   a bare repository (the
#   mirror a fetch leaves beside the checkout, ../.mirror, by default)
fg_find() {
	FG=""
	if [ -n "${CD_FLAMEGRAPH:-}" ] && [ -f "$CD_FLAMEGRAPH/flamegraph.pl" ]; then
		FG="$CD_FLAMEGRAPH"
		return 0
	fi
	mirror=${CD_FLAMEGRAPH_GIT:-$(dirname "$0")/../../../.mirror/brendangregg+FlameGraph/repo}
	if [ -d "$mirror" ] && command -v git >/dev/null; then
		FG="$1/FlameGraph"
		mkdir -p "$FG"
		git --git-dir="$mirror" archive HEAD | tar -x -C "$FG" || FG=""
	fi
	[ -n "$FG" ] && [ -f "$FG/flamegraph.pl" ] || FG=""
}
