#!/usr/bin/env bats
# claude-diagnose: the call tree under Hot Functions, and --baseline's
# differential flame graph, on a real CPU-bound target.

bats_require_minimum_version 1.5.0
load helpers/common

# Share (x1000) of frame $1 in folded file $2.
share() {
	awk -v f="$1" '{ n = $NF; t += n; sub(/ [0-9]+$/, ""); k = split($0, a, ";");
	    for (i = 1; i <= k; i++) if (a[i] == f) { s += n; break } }
	    END { print t ? int(s * 1000 / t) : 0 }' "$2"
}

total_of() {
	awk -v f="$1" '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, a, ";");
	    for (i = 1; i <= k; i++) if (a[i] == f) { s += n; break } } END { print s + 0 }' "$2"
}

@test "--baseline: FILE-diff.svg beside the others, the grown function red with the real counts; the call tree under Hot Functions" {
	cd "$BATS_TEST_TMPDIR"
	bg_start "$CD_TARGETS/worksplit" 1 1
	run claude-diagnose --pid "$BG_PID" -s --sample-duration 2 --flamegraph -o now --no-progress
	[ "$status" -le 1 ]
	bg_kill_all
	cp now.folded base.folded
	bg_start "$CD_TARGETS/worksplit" 1 4
	# the baseline is the file this run replaces: read before it is
	run claude-diagnose --pid "$BG_PID" -s --sample-duration 2 --baseline now.folded -o now --no-progress
	[ "$status" -le 1 ]
	assert_output --partial "now-diff.svg"
	assert_output --partial "call tree (hottest path first"
	# the tree's first frame is the process, then its hottest path
	run awk '/call tree/ { on = 1; next } on && /TOTAL/ { getline; print $NF; exit }' <<<"$output"
	assert_output "worksplit"
	[ -s now-diff.svg ] && [ -s now-diff.folded ] && [ -s now.svg ]
	b=$(total_of grown_work base.folded)
	a=$(total_of grown_work now.folded)
	python3 - "$b" "$a" "$(share grown_work base.folded)" "$(share grown_work now.folded)" <<'PY'
import sys, xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
before, after, s0, s1 = map(int, sys.argv[1:])
root = ET.parse("now-diff.svg").getroot()
g = [g for g in root.find(NS + 'g[@id="frames"]') if g.find(NS + "title").text.startswith("grown_work (")][0]
title, fill = g.find(NS + "title").text, g.find(NS + "rect").get("fill")
import re
assert re.search(r"; before %d = [0-9.]+%%, after %d = [0-9.]+%%, " % (before, after), title), title
# red when its share grew (it did: 1/2 of the work became 4/5), blue if not
assert (fill[:3] == "#ff") == (s1 > s0) and fill != "#ffffff", (fill, s0, s1)
PY
}

@test "--baseline needs -s and a readable file" {
	printf 'a 1\n' >"$BATS_TEST_TMPDIR/old.folded"
	run -2 claude-diagnose --baseline "$BATS_TEST_TMPDIR/old.folded"
	assert_output --partial "add -s"
	run -2 claude-diagnose -s --baseline "$BATS_TEST_TMPDIR/missing.folded"
	assert_output --partial "missing.folded"
}
