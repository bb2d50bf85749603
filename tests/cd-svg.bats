#!/usr/bin/env bats
# cd-svg: folded stacks to an interactive SVG flame graph.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/svg

FIX="$BATS_TEST_DIRNAME/fixtures"

@test "a folded graph: widths proportional to counts, titles with count and percent" {
	printf 'main;a 75\nmain;b 25\n' | cd-svg --title "T" --subtitle "S" --countname calls >"$BATS_TEST_TMPDIR/g.svg"
	f="$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$f" 'frame("main")[0]'
	assert_output "main (100 calls, 100.00%)"
	run svg_eval "$f" 'frame("a")[0]'
	assert_output "a (75 calls, 75.00%)"
	run svg_eval "$f" 'round(float(frame("a")[1]["width"]) / float(frame("b")[1]["width"]), 2)'
	assert_output "3.0"
	run svg_eval "$f" '[t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("id") in ("title", "subtitle")]'
	assert_output "['T', 'S']"
}

@test "every XML special character and script tags appear as text" {
	printf '%s\n' "<script>alert(1)</script>;a&b\"c'd>e 3" "x]]>y;z 1" >"$BATS_TEST_TMPDIR/in"
	cd-svg <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("<script>alert(1)</script>")[0]'
	assert_output "<script>alert(1)</script> (3 samples, 75.00%)"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("a&b\"c'"'"'d>e")[0]'
	assert_output "a&b\"c'd>e (3 samples, 75.00%)"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'len(root.findall("{http://www.w3.org/2000/svg}script"))'
	assert_output "1"
	run grep -c '<script>alert' "$BATS_TEST_TMPDIR/g.svg"
	assert_output "0"
}

@test "invalid UTF-8 and control characters still give a well-formed SVG" {
	printf 'ok;bad\xff\xfe name;ctl\x01\x1b;\xef\xbf\xbe 5\n\xc3\x28;lone 2\n' | cd-svg --title $'t\x01\xff' >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'len(frames)'
	assert_success
	assert_output "7"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("bad\ufffd\ufffd name")[0]'
	assert_output "bad�� name (5 samples, 71.43%)"
}

@test "counts past 32 bits keep every digit" {
	printf 'a;b 8589934592\na;c 4294967297\n' | cd-svg >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("a")[0]'
	assert_output "a (12884901889 samples, 100.00%)"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("b")[0]'
	assert_output "b (8589934592 samples, 66.67%)"
}

@test "empty input: a valid SVG saying so" {
	run --separate-stderr cd-svg </dev/null
	assert_success
	[[ "$output" == *"No stack counts found"* ]]
	cd-svg </dev/null >"$BATS_TEST_TMPDIR/g.svg" 2>/dev/null
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'len(frames)'
	assert_output "0"
}

@test "malformed lines name the line, are skipped, exit 4; --strict writes nothing" {
	run --separate-stderr cd-svg <<<$'a;b 1\nno count\na;c x\na;b 2'
	assert_failure 4
	[[ "$stderr" == *"stdin:2: the count is not a whole number"* ]]
	[[ "$stderr" == *"stdin:3: the count is not a whole number"* ]]
	[[ "$output" == *"<title>b (3 samples"* ]]
	run --separate-stderr cd-svg --strict <<<$'a;b 1\nno count'
	assert_failure 4
	assert_output ""
}

@test "--minwidth prunes narrow frames; --width scales" {
	printf 'a;big 100000\na;tiny 1\n' | cd-svg --minwidth 1 >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" '[f[0].split(" ")[0] for f in frames]'
	assert_output "['all', 'a', 'big']"
	printf 'a;big 100000\na;tiny 1\n' | cd-svg --minwidth 0 --width 600 >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" '(len(frames), root.get("width"), frame("all")[1]["width"])'
	assert_output "(4, '600', '580.0')"
}

@test "--inverted puts the root at the top; --reverse merges leaf first" {
	printf 'a;b 1\nc;b 1\n' | cd-svg >"$BATS_TEST_TMPDIR/n.svg"
	printf 'a;b 1\nc;b 1\n' | cd-svg --inverted >"$BATS_TEST_TMPDIR/i.svg"
	run svg_eval "$BATS_TEST_TMPDIR/n.svg" 'int(frame("all")[1]["y"]) > int(frame("a")[1]["y"])'
	assert_output "True"
	run svg_eval "$BATS_TEST_TMPDIR/i.svg" 'int(frame("all")[1]["y"]) < int(frame("a")[1]["y"])'
	assert_output "True"
	printf 'a;b 1\nc;b 1\n' | cd-svg --reverse >"$BATS_TEST_TMPDIR/r.svg"
	run svg_eval "$BATS_TEST_TMPDIR/r.svg" 'frame("b")[0]'
	assert_output "b (2 samples, 100.00%)"
}

@test "palettes: same name same colour across graphs; categories for syscall graphs" {
	printf 'p;f;read 3\np;g 1\n' | cd-svg --palette hot >"$BATS_TEST_TMPDIR/1.svg"
	printf 'q;z;read 9\nq;f 1\n' | cd-svg --palette hot >"$BATS_TEST_TMPDIR/2.svg"
	a=$(svg_eval "$BATS_TEST_TMPDIR/1.svg" 'frame("read")[1]["fill"]')
	b=$(svg_eval "$BATS_TEST_TMPDIR/2.svg" 'frame("read")[1]["fill"]')
	[ "$a" = "$b" ]
	printf 'x;file;openat 3\nx;file;read 2\nx;network;connect 1\n' | cd-svg >"$BATS_TEST_TMPDIR/s.svg"
	printf 'x;file;openat 3\nx;file;read 2\nx;network;connect 1\n' | cd-svg --palette hot >"$BATS_TEST_TMPDIR/h.svg"
	run svg_eval "$BATS_TEST_TMPDIR/s.svg" 'frame("file")[1]["fill"] != frame("network")[1]["fill"]'
	assert_output "True"
	s=$(svg_eval "$BATS_TEST_TMPDIR/s.svg" 'frame("openat")[1]["fill"]')
	h=$(svg_eval "$BATS_TEST_TMPDIR/h.svg" 'frame("openat")[1]["fill"]')
	[ "$s" != "$h" ]
	run cd-svg --palette nope </dev/null
	assert_failure 2
}

@test "a CPU graph from the real perf capture is well-formed and smaller than flamegraph.pl's" {
	cd-fold "$FIX/perf-script-small.txt" | cd-svg >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("all")[0]'
	assert_output "all (6 samples, 100.00%)"
	fg="${CD_FLAMEGRAPH:-}"
	[ -n "$fg" ] && [ -f "$fg/flamegraph.pl" ] || skip "set CD_FLAMEGRAPH to compare sizes"
	cd-fold "$FIX/perf-script-small.txt" | perl "$fg/flamegraph.pl" >"$BATS_TEST_TMPDIR/fg.svg"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/g.svg")" -le "$(stat -c %s "$BATS_TEST_TMPDIR/fg.svg")" ]
}

@test "zoom, reset and search work in headless Chromium with real clicks and typing" {
	chrome=$(command -v chromium || command -v chromium-browser || true)
	[ -n "$chrome" ] || skip "chromium is not installed (scripts/deps.sh installs it)"
	command -v node >/dev/null || skip "node is not installed"
	printf '%s\n' 'main;alpha;work 60' 'main;beta;work 30' 'main;beta;idle 10' '<script>alert(1)</script>;x 5' |
		cd-svg --title "zoom test" >"$BATS_TEST_TMPDIR/g.svg"
	run node "$BATS_TEST_DIRNAME/helpers/cdp-flame.js" "$chrome" "$BATS_TEST_TMPDIR/g.svg" beta 'w.r'
	assert_success
	r="$output"
	q() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$r" "$1"; }
	# hover names the frame with its count and share
	[ "$(q 'd["hover"]["details"]')" = "beta (40 samples, 38.10%)" ]
	# click: beta fills the width, only its ancestors and descendants stay
	[ "$(q 'd["zoomed"]["width"]')" = "1180" ]
	[ "$(q 'd["zoomed"]["shown"] < d["zoomed"]["total"]')" = "True" ]
	[ "$(q 'd["zoomed"]["reset"] != "none"')" = "True" ]
	# reset restores the original layout
	[ "$(q 'd["reset"]["width"] == d["before"]["width"] and d["reset"]["shown"] == d["reset"]["total"]')" = "True" ]
	# typed regex highlights both "work" frames and reports their share
	[ "$(q 'd["searched"]["highlighted"]')" = "2" ]
	[ "$(q 'd["searched"]["matched"]')" = "Matched: 85.71% (90 of 105 samples)" ]
	[ "$(q 'd["cleared"]["highlighted"]')" = "0" ]
	# the frame named <script> never ran
	[ "$(q 'd["searched"]["alerted"]')" = "False" ]
	[ "$(q 'd["before"]["title"]')" = "zoom test" ]
}

@test "--help, --version, bad options" {
	run cd-svg --help
	assert_success
	assert_output --partial "usage: cd-svg"
	run cd-svg --version
	assert_output --partial "(claude-diagnose)"
	run cd-svg --width 5
	assert_failure 2
	run cd-svg /nonexistent
	assert_failure 3
}

@test "two-column input: widths by the second column, red for growth, blue for loss, both counts in the tooltip" {
	printf 'main;grew 10 30\nmain;shrank 30 10\nmain;same 20 20\n' >"$BATS_TEST_TMPDIR/d"
	cd-svg <"$BATS_TEST_TMPDIR/d" >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("grew")[0]'
	assert_output "grew (30 samples, 50.00%; before 10 = 16.67%, after 30 = 50.00%, +20)"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" '[frame(n)[1]["fill"] for n in ("grew", "shrank", "same", "main")]'
	assert_output "['#ff0000', '#0000ff', '#ffffff', '#ffffff']"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'round(float(frame("grew")[1]["width"]) / float(frame("shrank")[1]["width"]), 2)'
	assert_output "3.0"
	# --negate: the columns are AFTER BEFORE; widths by the earlier capture
	cd-svg --negate <"$BATS_TEST_TMPDIR/d" >"$BATS_TEST_TMPDIR/n.svg"
	run svg_eval "$BATS_TEST_TMPDIR/n.svg" '(frame("grew")[0], frame("grew")[1]["fill"])'
	assert_output "('grew (30 samples, 50.00%; before 30 = 50.00%, after 10 = 16.67%, -20)', '#0000ff')"
}

@test "two-column input is normalised by totals: a longer second capture alone paints nothing" {
	printf 'a;b 10 20\na;c 30 60\n' | cd-svg >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'sorted(set(f[1]["fill"] for f in frames))'
	assert_output "['#ffffff']"
}

@test "two-column input: a one-count line is malformed, names are escaped" {
	{ for i in $(seq 100); do echo "<b>&x;y$i 1 2"; done; echo "y 3"; } >"$BATS_TEST_TMPDIR/d"
	run --separate-stderr cd-svg <"$BATS_TEST_TMPDIR/d"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *":101: one count in two-column"* ]]
	echo "$output" >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("<b>&x")[0]'
	assert_output "<b>&x (200 samples, 100.00%; before 100 = 100.00%, after 200 = 100.00%, +100)"
}

@test "two-column colours: total share by default, self share with --self-delta" {
	# f's total share grows (1/2 -> 3/4) while its own samples shrink (1/2 -> 1/4)
	printf 'm;f 10 5\nm;f;k 0 10\nm;g 10 5\n' >"$BATS_TEST_TMPDIR/d"
	cd-svg <"$BATS_TEST_TMPDIR/d" >"$BATS_TEST_TMPDIR/t.svg"
	cd-svg --self-delta <"$BATS_TEST_TMPDIR/d" >"$BATS_TEST_TMPDIR/s.svg"
	run svg_eval "$BATS_TEST_TMPDIR/t.svg" '[frame(n)[1]["fill"][:3] for n in ("f", "k", "g")]'
	assert_output "['#ff', '#ff', '#69']"
	run svg_eval "$BATS_TEST_TMPDIR/s.svg" '[frame(n)[1]["fill"][5:] for n in ("f", "k", "g")]'
	assert_output "['ff', '00', 'ff']"
}

@test "one-column input whose first frames end in a number stays one-column" {
	# a path with a space as the leaf: "Report 2" is a name, 7 its count
	printf 'claude;file;openat;/tmp/Report 2 7\nclaude;file;read 3\n' | cd-svg >"$BATS_TEST_TMPDIR/g.svg"
	run svg_eval "$BATS_TEST_TMPDIR/g.svg" 'frame("/tmp/Report 2")[0]'
	assert_output "/tmp/Report 2 (7 samples, 70.00%)"
	# while every line has two counts, it is a differential graph
	printf 'a;b 1 2\na;c 3 4\n' | cd-svg >"$BATS_TEST_TMPDIR/d.svg"
	run svg_eval "$BATS_TEST_TMPDIR/d.svg" 'frame("c")[0]'
	assert_output "c (4 samples, 66.67%; before 3 = 75.00%, after 4 = 66.67%, +1)"
}
