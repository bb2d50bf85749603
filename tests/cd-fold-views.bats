#!/usr/bin/env bats
# cd-fold's other outputs: --diff (two-column folded), --tree, pprof and
# speedscope, checked against real captures of test targets.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/svg

# Samples through function $1 at the place most samples reach it from: a
# flame graph's frame is one path, and a real capture can have an odd
# sample or two of a function under another caller (CI once: 1476 in
# all, 1475 on the main path).
frame_main() {
	awk -v f="$1" '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, a, ";"); p = "";
	    for (i = 1; i <= k; i++) { p = p ";" a[i]; if (a[i] == f) { s[p] += n; break } } }
	    END { for (q in s) if (s[q] > m) m = s[q]; print m + 0 }'
}

# Sample worksplit STEADY GROWN for 3 s at 997 Hz, folded, into $3 (a few
# hundred samples even on a busy machine: the shares move by 17 points).
capture_split() {
	cd-sample -d 3 -F 997 --no-progress -- "$CD_TARGETS/worksplit" "$1" "$2" 2>/dev/null |
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
	b=$(frame_main grown_work <"$BATS_TEST_TMPDIR/before.folded")
	a=$(frame_main grown_work <"$BATS_TEST_TMPDIR/after.folded")
	[ "$b" -gt 20 ] && [ "$a" -gt 20 ]
	cd-fold --diff "$BATS_TEST_TMPDIR/before.folded" "$BATS_TEST_TMPDIR/after.folded" >"$BATS_TEST_TMPDIR/diff.folded"
	cd-svg --title diff <"$BATS_TEST_TMPDIR/diff.folded" >"$BATS_TEST_TMPDIR/diff.svg"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'widest("grown_work")[0]'
	assert_output --regexp "; before $b = [0-9.]+%, after $a = [0-9.]+%, "
	# red: full red channel, green and blue lowered alike; steady_work blue
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'widest("grown_work")[1]["fill"][:3]'
	assert_output "#ff"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'widest("grown_work")[1]["fill"][3:5] == widest("grown_work")[1]["fill"][5:7] != "ff"'
	assert_output "True"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'widest("steady_work")[1]["fill"][5:]'
	assert_output "ff"
	run svg_eval "$BATS_TEST_TMPDIR/diff.svg" 'widest("steady_work")[1]["fill"][1:3] != "ff"'
	assert_output "True"
}

# Sample hot2to1 for 2 s at 997 Hz into records $1.
capture_hot() {
	cd-sample -d 2 -F 997 --no-progress -- "$CD_TARGETS/hot2to1" "" 2 2>/dev/null >"$1"
}

@test "--tree: the hottest path first, counts and percentages, pruned at --tree-min" {
	printf 'p;main;a;x 50\np;main;a;y 10\np;main;b 30\np;other 6\np;tiny 4\n' >"$BATS_TEST_TMPDIR/f"
	run cd-fold --tree "$BATS_TEST_TMPDIR/f"
	assert_success
	assert_output "# call tree: 100 samples in 5 distinct stacks; frames under 1% left out
  TOTAL     COUNT      SELF  STACK
 100.0%       100         0  p
  90.0%        90         0    main
  60.0%        60         0      a
  50.0%        50        50        x
  10.0%        10        10        y
  30.0%        30        30      b
   6.0%         6         6    other
   4.0%         4         4    tiny"
	run cd-fold --tree --tree-min 20 "$BATS_TEST_TMPDIR/f"
	assert_output "# call tree: 100 samples in 5 distinct stacks; frames under 20% left out
  TOTAL     COUNT      SELF  STACK
 100.0%       100         0  p
  90.0%        90         0    main
  60.0%        60         0      a
  50.0%        50        50        x
  10.0%        10                  (1 more under 20%)
  30.0%        30        30      b
  10.0%        10              (2 more under 20%)"
	run -2 cd-fold --tree --tree-min 101 "$BATS_TEST_TMPDIR/f"
}

@test "--tree of a real capture follows hot2to1's hottest path; control characters never reach the terminal" {
	capture_hot "$BATS_TEST_TMPDIR/rec"
	run cd-fold --tree --tree-min 5 "$BATS_TEST_TMPDIR/rec"
	assert_success
	run awk 'NR > 2 { print $NF }' <<<"$output"
	[ "${lines[0]}" = hot2to1 ]
	[ "${lines[3]}" = hot_two_thirds ]
	[[ "$output" == *hot_one_third* ]]
	run cd-fold --tree <<<$'a;b\x1b[31m 3'
	assert_output --partial "b?[31m"
}

@test "pprof: go tool pprof -top lists the folded stacks' functions with the same flat and cumulative counts" {
	command -v go >/dev/null || skip "go (golang-go) not installed: scripts/deps.sh installs it"
	capture_hot "$BATS_TEST_TMPDIR/rec"
	cd-fold "$BATS_TEST_TMPDIR/rec" >"$BATS_TEST_TMPDIR/folded"
	cd-fold --output pprof "$BATS_TEST_TMPDIR/rec" >"$BATS_TEST_TMPDIR/cpu.pb.gz"
	gzip -t "$BATS_TEST_TMPDIR/cpu.pb.gz"
	HOME=$BATS_TEST_TMPDIR go tool pprof -top -nodefraction=0 -nodecount=100000 \
	    "$BATS_TEST_TMPDIR/cpu.pb.gz" >"$BATS_TEST_TMPDIR/top" 2>/dev/null
	run python3 - "$BATS_TEST_TMPDIR/folded" "$BATS_TEST_TMPDIR/top" <<'PY'
import re, sys
flat, cum = {}, {}
for line in open(sys.argv[1]):
    stack, n = line.rstrip("\n").rsplit(" ", 1)
    frames = stack.split(";")
    flat[frames[-1]] = flat.get(frames[-1], 0) + int(n)
    for f in set(frames):
        cum[f] = cum.get(f, 0) + int(n)
top = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*(\d+)\s+\S+%\s+\S+%\s+(\d+)\s+\S+%\s+(.*)$", line)
    if m:
        top[m.group(3)] = (int(m.group(1)), int(m.group(2)))
want = {f: (flat.get(f, 0), cum[f]) for f in cum}
assert top == want, (sorted(top.items()), sorted(want.items()))
first = max(top, key=lambda f: top[f][0])
print(first, len(top))
PY
	assert_success
	assert_output --regexp "^hot_two_thirds [0-9]+$"
	run grep -E '^Type: samples$' "$BATS_TEST_TMPDIR/top"
	assert_success
}

@test "pprof: sample types and units, cpu nanoseconds from the sampling period, labels from records" {
	command -v go >/dev/null || skip "go (golang-go) not installed: scripts/deps.sh installs it"
	cat >"$BATS_TEST_TMPDIR/rec" <<'EOF2'
{"type":"sample","pid":7,"tid":8,"comm":"node","thread":"libuv-worker","stack":["main","f"],"count":3}
{"type":"sample","pid":7,"tid":7,"comm":"node","thread":"node","stack":["main","g"],"count":2}
{"type":"meta","tool":"cd-sample","mode":"cpu","freq_hz":100,"duration_s":1.5}
EOF2
	cd-fold -O pprof "$BATS_TEST_TMPDIR/rec" >"$BATS_TEST_TMPDIR/p.pb.gz"
	export HOME=$BATS_TEST_TMPDIR
	run go tool pprof -raw "$BATS_TEST_TMPDIR/p.pb.gz"
	assert_output --partial "PeriodType: cpu nanoseconds"
	assert_output --partial "Period: 10000000"
	assert_output --partial "Duration: 1.5"
	assert_output --partial "samples/count[dflt] cpu/nanoseconds"
	assert_output --regexp " 3 +30000000: [0-9 ]+
 +process:\[node\] thread:\[libuv-worker\]
 +pid:\[7\] tid:\[8\]"
	run go tool pprof -tags "$BATS_TEST_TMPDIR/p.pb.gz"
	assert_output --partial "3.0 (60.00%): libuv-worker"
	assert_output --partial "3.0 (60.00%): 8"
	assert_output --partial "5.0 (  100%): node"
	# system calls: calls and their duration
	cat >"$BATS_TEST_TMPDIR/sys" <<'EOF2'
{"type":"syscall","pid":7,"tid":7,"comm":"node","name":"read","dur_ns":1000}
{"type":"syscall","pid":7,"tid":7,"comm":"node","name":"read","dur_ns":3000}
{"type":"syscall","pid":7,"tid":7,"comm":"node","name":"openat","dur_ns":500}
EOF2
	cd-fold -O pprof "$BATS_TEST_TMPDIR/sys" >"$BATS_TEST_TMPDIR/s.pb.gz"
	run go tool pprof -raw "$BATS_TEST_TMPDIR/s.pb.gz"
	assert_output --partial "calls/count[dflt] duration/nanoseconds"
	assert_output --regexp " 2 +4000: [0-9 ]+
 +process:\[node\]"
	run -2 cd-fold -O pprof -w duration "$BATS_TEST_TMPDIR/sys"
}

@test "speedscope: validates against speedscope's schema, one profile per thread, weights as counted" {
	capture_hot "$BATS_TEST_TMPDIR/rec"
	cd-fold "$BATS_TEST_TMPDIR/rec" >"$BATS_TEST_TMPDIR/folded"
	cd-fold --output speedscope "$BATS_TEST_TMPDIR/rec" >"$BATS_TEST_TMPDIR/s.json"
	run python3 - "$BATS_TEST_DIRNAME/schema/speedscope-file-format-schema.json" \
	    "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/folded" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema)
total = sum(int(l.rsplit(" ", 1)[1]) for l in open(sys.argv[3]))
names = [f["name"] for f in doc["shared"]["frames"]]
w = sum(sum(p["weights"]) for p in doc["profiles"])
leaf = {}
for p in doc["profiles"]:
    for s, n in zip(p["samples"], p["weights"]):
        leaf[names[s[-1]]] = leaf.get(names[s[-1]], 0) + n
print(w == total, doc["profiles"][0]["name"].startswith("hot2to1 pid "), max(leaf, key=leaf.get))
PY
	assert_success
	assert_output "True True hot_two_thirds"
	# folded input, invalid UTF-8 and quotes: still valid JSON and schema
	printf 'a"b;\xff\\c 2\n' | cd-fold -O speedscope >"$BATS_TEST_TMPDIR/q.json"
	run python3 -c '
import json, sys, jsonschema
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, json.load(open(sys.argv[1])))
print(ascii([f["name"] for f in doc["shared"]["frames"]]), doc["profiles"][0]["weights"])' \
	    "$BATS_TEST_DIRNAME/schema/speedscope-file-format-schema.json" "$BATS_TEST_TMPDIR/q.json"
	assert_output "['a\"b', '\ufffd\\\\c'] [2]"
}

@test "speedscope and pprof of a real syscall trace: durations in nanoseconds" {
	cd-trace -d 2 -- "$CD_TARGETS/sysloop" getppid 500 2>/dev/null >"$BATS_TEST_TMPDIR/sys"
	cd-fold -w duration -O speedscope "$BATS_TEST_TMPDIR/sys" >"$BATS_TEST_TMPDIR/s.json"
	cd-fold -w duration "$BATS_TEST_TMPDIR/sys" >"$BATS_TEST_TMPDIR/folded"
	run python3 - "$BATS_TEST_DIRNAME/schema/speedscope-file-format-schema.json" \
	    "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/folded" <<'PY'
import json, sys, jsonschema
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, json.load(open(sys.argv[1])))
total = sum(int(l.rsplit(" ", 1)[1]) for l in open(sys.argv[3]))
names = [f["name"] for f in doc["shared"]["frames"]]
calls = sum(1 for p in doc["profiles"] for s in p["samples"] if names[s[-1]] == "getppid")
print(doc["profiles"][0]["unit"], sum(sum(p["weights"]) for p in doc["profiles"]) == total, calls > 0)
PY
	assert_success
	assert_output "nanoseconds True True"
	command -v go >/dev/null || return 0
	cd-fold -O pprof "$BATS_TEST_TMPDIR/sys" >"$BATS_TEST_TMPDIR/s.pb.gz"
	HOME=$BATS_TEST_TMPDIR run go tool pprof -top -sample_index=calls "$BATS_TEST_TMPDIR/s.pb.gz"
	assert_output --regexp " 500 +[0-9.]+% +[0-9.]+% +500 +[0-9.]+%  getppid"
}
