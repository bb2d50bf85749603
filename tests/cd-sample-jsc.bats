#!/usr/bin/env bats
# cd-sample naming JavaScriptCore frames from the target's stack, end to
# end on tests/targets/jsc-frames-target (a JSC stand-in with its own
# layout): learning the layout from a jitdump, naming with it, the check
# against the jitdump, an unknown build, a target that exits.

bats_require_minimum_version 1.5.0
load helpers/common

meta() {
	json_eval "[r for r in recs if r['type']=='meta'][-1]$1"
}

# Samples with frame $1 anywhere in their stack.
with_frame() {
	json_eval "sum(r['count'] for r in recs if r['type']=='sample' and '$1' in r['stack'])"
}

# Start the stand-in (DIR for its jitdump, or "" for none) for $2 s.
jsc_start() {
	mkdir -p "$BATS_TEST_TMPDIR/jd"
	rm -f "$BATS_TEST_TMPDIR/ready"
	TOTAL_S=${2:-8} bg_start "$CD_TARGETS/jsc-frames-target" "$1" "$BATS_TEST_TMPDIR/ready"
	wait_file "$BATS_TEST_TMPDIR/ready" 10 || {
		wait "$BG_PID" 2>/dev/null
		[ $? -ne 77 ] || skip "x86_64 only"
		return 1
	}
	JSC_PID=$(cat "$BATS_TEST_TMPDIR/ready")
}

setup() {
	export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache"
}

@test "cd-sample --learn-jsc-layout: the stand-in's layout from its jitdump, into the per-user cache" {
	jsc_start "$BATS_TEST_TMPDIR/jd" 10
	run --separate-stderr cd-sample --no-progress --no-analysis -F 499 -d 4 \
		--learn-jsc-layout --pid "$JSC_PID"
	assert_success
	out=$output
	[ "$(echo "$out" | meta "['jsc_frames'][0]['learned_layout'].split(' ', 1)[1]")" = \
		"owner=40 unlinked=56 name=32 callee=32 types=20,21,22" ]
	[ "$(echo "$out" | meta "['jsc_frames'][0]['learn_differ']")" -eq 0 ]
	[ "$(echo "$out" | meta "['jsc_frames'][0]['learn_agree']")" -ge 50 ]
	f=$XDG_CACHE_HOME/claude-diagnose/jsc-layouts
	[ "$(stat -c %a "$f")" = 600 ]
	[ "$(stat -c %a "$(dirname "$f")")" = 700 ]
	grep -q "owner=40 unlinked=56 name=32 callee=32 types=20,21,22" "$f"
	[[ "$stderr" == *"layout learned"* ]]

	# the same build, started again: named from its stack with it
	run --separate-stderr cd-sample --no-progress --no-analysis -F 499 -d 1.5 \
		--jsc-check --pid "$JSC_PID"
	assert_success
	out=$output
	[ "$(echo "$out" | meta "['jsc_frames'][0]['layout']")" = "per-user cache" ]
	[ "$(with_frame 'interpFn_[js]' <<<"$out")" -ge 5 ]
	# the jitdump names the generated code: its name stays, and agrees
	[ "$(with_frame 'outerFn#AAAAAA_[j]' <<<"$out")" -ge 5 ]
	[ "$(echo "$out" | meta "['jsc_frames'][0]['check_compared']")" -ge 5 ]
	[ "$(echo "$out" | meta "['jsc_frames'][0]['check_differ']")" -eq 0 ]
	[ "$(echo "$out" | meta "['naming_pct']['jsc_frame'] > 0")" = True ]
	echo "$out" | cd-fold | grep -q ';interpFn_\[js\];'
}

@test "cd-sample: a JSC target without a jitdump named from its stack once its layout is known" {
	mkdir -p "$XDG_CACHE_HOME/claude-diagnose"
	id=$(readelf -n "$CD_TARGETS/jsc-frames-target" | awk '/Build ID/ { print $3 }')
	[ -n "$id" ] || skip "no build-id in the test target"
	echo "$id owner=40 unlinked=56 name=32 callee=32 types=20,21,22" \
		>"$XDG_CACHE_HOME/claude-diagnose/jsc-layouts"
	jsc_start "" 6
	run --separate-stderr cd-sample --no-progress --no-analysis -F 499 -d 2 --pid "$JSC_PID"
	assert_success
	out=$output
	[ "$(with_frame 'outerFn_[js]' <<<"$out")" -ge 5 ]
	[ "$(with_frame 'interpFn_[js]' <<<"$out")" -ge 2 ]
	refute_output --partial '"[JIT]","spin"'
	[ "$(echo "$out" | meta "['jsc_frames'][0]['frames_named'] > 0")" = True ]
	[ "$(echo "$out" | meta "['jsc_frames'][0]['bad_name']")" -eq 0 ]
	[ "$(echo "$out" | meta "['jsc_without_jitdump']")" = "[]" ]
	[ "$(echo "$out" | meta ".get('jsc_frames_hint')")" = None ]
	# read, never written: the target finds its cells and code as it left them
	st=0
	wait "$BG_PID" || st=$?
	[ "$st" -eq 0 ]
	jsc_start "" 3

	# --no-jsc-frames: the regions again
	run --separate-stderr cd-sample --no-progress --no-analysis -F 499 -d 1 \
		--no-jsc-frames --pid "$JSC_PID"
	assert_success
	refute_output --partial '_[js]'
	[ "$(with_frame '[JIT]' <<<"$output")" -ge 1 ]
}

@test "cd-sample: a JSC build not in the table: regions, and the report says how to learn it" {
	jsc_start "" 4
	run --separate-stderr cd-sample --no-progress --no-analysis -F 499 -d 1 --pid "$JSC_PID"
	assert_success
	out=$output
	refute_output --partial '_[js]'
	[ "$(echo "$out" | meta "['jsc_frames'][0]['layout']")" = None ]
	echo "$out" | meta "['jsc_frames_hint']" | grep -q -- '--learn-jsc-layout'

	# learning it needs the jitdump this run has not: exit 3, and why
	run --separate-stderr cd-sample --no-progress --no-analysis -F 499 -d 1 \
		--learn-jsc-layout --pid "$JSC_PID"
	assert_failure 3
	echo "$output" | meta "['jsc_frames'][0]['learn_error']" | grep -q cd-launch
	[ ! -e "$XDG_CACHE_HOME/claude-diagnose/jsc-layouts" ]
}

@test "cd-sample: a garbage layout cache names nothing wrongly; a target that exits mid-capture" {
	mkdir -p "$XDG_CACHE_HOME/claude-diagnose"
	id=$(readelf -n "$CD_TARGETS/jsc-frames-target" | awk '/Build ID/ { print $3 }')
	[ -n "$id" ] || skip "no build-id in the test target"
	# offsets that lead elsewhere, a malformed line, binary junk
	printf '%s owner=48 unlinked=56 name=32 callee=32 types=20,21,22\nnot a layout\n\001\002\n' \
		"$id" >"$XDG_CACHE_HOME/claude-diagnose/jsc-layouts"
	jsc_start "" 1
	run --separate-stderr cd-sample --no-progress --no-analysis -F 499 -d 3 --pid "$JSC_PID"
	assert_success
	refute_output --partial 'outerFn_[js]'
	refute_output --partial 'interpFn_[js]'
	[ "$(echo "$output" | meta "['targets_exited']")" = "[$JSC_PID]" ]
}

@test "cd-sample: --jsc-check and --learn-jsc-layout need a --pid and perf" {
	run cd-sample --jsc-check -- true
	assert_failure 2
	run cd-sample --learn-jsc-layout --no-jsc-frames --pid 1
	assert_failure 2
}
