#!/usr/bin/env bats
# cd-fold's other outputs: --diff (two-column folded), --tree, pprof and
# speedscope, checked against real captures of test targets.

bats_require_minimum_version 1.5.0
load helpers/common

# Parse an SVG and evaluate an expression: `frame(name)` is (title, rect attrs).
svg_eval() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
frames = []
for g in root.find(NS + "g[@id=\"frames\"]"):
    frames.append((g.find(NS + "title").text, g.find(NS + "rect").attrib))
def frame(prefix):
    return [f for f in frames if f[0].startswith(prefix + " (")][0]
print(eval(sys.argv[2]))
' "$1" "$2"
}

# The sum of the counts of the folded lines (stdin) with frame $1 in them.
frame_total() {
	awk -v f="$1" '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, a, ";");
	    for (i = 1; i <= k; i++) if (a[i] == f) { s += n; break } } END { print s + 0 }'
}

# Sample worksplit STEADY GROWN for 2 s at 997 Hz, folded, into $3.
capture_split() {
	cd-sample -d 2 -F 997 --no-progress -- "$CD_TARGETS/worksplit" "$1" "$2" 2>/dev/null |
	    cd-fold >"$3"
}

@test "--diff: difffolded.pl's two columns, every stack of either input, sorted" {
	printf 'a;b;c 10\na;b 5\na;d 3\n' >"$BATS_TEST_TMPDIR/A"
	printf 'a;b;c 20\na;d 3\na;e;f 7\n' >"$BATS_TEST_TMPDIR/B"
	run cd-fold --diff "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/B"
	assert_success
	assert_output "a;b 5 0
a;b;c 10 20
a;d 3 3
a;e;f 0 7"
	# -n: before scaled to after's total, int(a * 30 / 18), as difffolded.pl -n
	run cd-fold --diff -n "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/B"
	assert_output "a;b 8 0
a;b;c 16 20
a;d 5 3
a;e;f 0 7"
}

@test "--diff reads any input format, records included" {
	printf '{"type":"sample","pid":1,"comm":"p","stack":["m","f"],"count":4}\n' >"$BATS_TEST_TMPDIR/A"
	printf 'p;m;f 6\np;m;g 1\n' >"$BATS_TEST_TMPDIR/B"
	run cd-fold --diff "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/B"
	assert_success
	assert_output "p;m;f 4 6
p;m;g 0 1"
}

@test "--diff usage errors and bad input" {
	printf 'a 1\n' >"$BATS_TEST_TMPDIR/A"
	run -2 cd-fold --diff "$BATS_TEST_TMPDIR/A"
	assert_output --partial "BEFORE AFTER"
	run -2 cd-fold -n "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/A"
	run -2 cd-fold --diff --tree "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/A"
	run -3 cd-fold --diff "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/missing"
	printf 'a 1\nnot a count x\na;b 2\n' >"$BATS_TEST_TMPDIR/B"
	run --separate-stderr cd-fold --diff "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/B"
	[ "$status" -eq 4 ]
	assert_output "a 1 1
a;b 0 2"
	run -4 --separate-stderr cd-fold --strict --diff "$BATS_TEST_TMPDIR/A" "$BATS_TEST_TMPDIR/B"
	assert_output ""
}

@test "differential graph of a real target: the function that doubled is red, real counts in its tooltip" {
	capture_split 1 1 "$BATS_TEST_TMPDIR/before.folded"
	capture_split 1 2 "$BATS_TEST_TMPDIR/after.folded"
	b=$(frame_total grown_work <"$BATS_TEST_TMPDIR/before.folded")
	a=$(frame_total grown_work <"$BATS_TEST_TMPDIR/after.folded")
	[ "$b" -gt 20 ] && [ "$a" -gt 20 ]
	cd-fold --diff "$BATS_TEST_TMPDIR/before.folded" "$BATS_TEST_TMPDIR/after.folded" >"$BATS_TEST_TMPDIR/diff.folded"
	cd-svg --title diff <"$BATS_TEST_TMPDIR/diff.folded" >"$BATS_TEST_TMPDIR/diff.svg"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'frame("grown_work")[0]'
	assert_output --partial "; before $b, after $a, "
	# red: full red channel, green and blue lowered alike; steady_work blue
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'frame("grown_work")[1]["fill"][:3]'
	assert_output "#ff"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'frame("grown_work")[1]["fill"][3:5] == frame("grown_work")[1]["fill"][5:7] != "ff"'
	assert_output "True"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'frame("steady_work")[1]["fill"][5:]'
	assert_output "ff"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'frame("steady_work")[1]["fill"][1:3] != "ff"'
	assert_output "True"
}
