#!/usr/bin/env bats
# claude-trace --prometheus: the text exposition format, checked by
# Prometheus's own promtool, with values compared against /proc.

load helpers/common
load helpers/fake

need_promtool() {
	command -v promtool >/dev/null ||
		skip "promtool not installed (Debian package prometheus: scripts/deps.sh)"
}

# A fake claude started in directory $1 (its project is the basename).
fake_in_dir() {
	mkdir -p "$1"
	cp "$CD_TARGETS/fakeclaude" "$1/claude"
	(cd "$1" && READY_FILE="$1/ready" bg_start ./claude "${@:2}")
	wait_file "$1/ready" 5
	FAKE_PID=$(cat "$1/ready")
	echo "$FAKE_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# The value of metric $1 for pid $2 in the exposition on stdin.
metric() {
	python3 -c '
import re, sys
name, pid = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    if line.startswith(name + "{") and ("pid=\"%s\"" % pid) in line:
        print(line.rsplit(" ", 1)[1].strip())
' "$1" "$2"
}

@test "--prometheus: promtool check metrics reports nothing; values are the process's own" {
	need_promtool
	fake_in_dir "$BATS_TEST_TMPDIR/proj" sleepers 3
	run --separate-stderr claude-trace --prometheus -p "$FAKE_PID"
	assert_success
	out=$output
	run promtool check metrics <<<"$out"
	assert_success
	assert_output ""
	for m in claude_code_processes claude_code_cpu_seconds_total \
	    claude_code_resident_memory_bytes claude_code_open_fds \
	    claude_code_inotify_watches claude_code_threads; do
		grep -q "^# HELP $m " <<<"$out"
		grep -q "^# TYPE $m " <<<"$out"
	done
	grep -q '^# TYPE claude_code_cpu_seconds_total counter$' <<<"$out"
	grep -q "^claude_code_threads{pid=\"$FAKE_PID\",version=\"\",project=\"proj\",kind=\"native\"} 4$" <<<"$out"
	[ "$(metric claude_code_threads "$FAKE_PID" <<<"$out")" = \
	    "$(awk '/^Threads:/ {print $2}' /proc/"$FAKE_PID"/status)" ]
	[ "$(metric claude_code_open_fds "$FAKE_PID" <<<"$out")" = \
	    "$(ls /proc/"$FAKE_PID"/fd | wc -l)" ]
	[ "$(metric claude_code_inotify_watches "$FAKE_PID" <<<"$out")" = 0 ]
	rss=$(metric claude_code_resident_memory_bytes "$FAKE_PID" <<<"$out")
	kb=$(awk '/^VmRSS:/ {print $2}' /proc/"$FAKE_PID"/status)
	[ "$rss" -eq $((kb * 1024)) ]
	grep -q '^claude_code_processes 1$' <<<"$out"
}

@test "--prometheus: the CPU counter counts the process's CPU seconds" {
	need_promtool
	fake_native spin
	a=$(claude-trace --prometheus -p "$FAKE_PID" | metric claude_code_cpu_seconds_total "$FAKE_PID")
	sleep 1
	b=$(claude-trace --prometheus -p "$FAKE_PID" | metric claude_code_cpu_seconds_total "$FAKE_PID")
	ticks=$(awk '{print $14 + $15}' /proc/"$FAKE_PID"/stat)
	hz=$(getconf CLK_TCK)
	python3 -c '
import sys
a, b, now = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]) / float(sys.argv[4])
assert 0 <= a < b <= now, (a, b, now)' "$a" "$b" "$ticks" "$hz"
}

@test "--prometheus: label values are escaped (quote, backslash, newline)" {
	need_promtool
	fake_in_dir "$BATS_TEST_TMPDIR/"$'we"ird\\dir\nx' idle
	run --separate-stderr claude-trace --prometheus -p "$FAKE_PID"
	assert_success
	grep -qF 'project="we\"ird\\dir\nx"' <<<"$output"
	run promtool check metrics <<<"$output"
	assert_success
	assert_output ""
}

@test "--prometheus-file: replaced atomically, readable by a collector, never through a link" {
	need_promtool
	fake_native idle
	d="$BATS_TEST_TMPDIR/textfile"
	mkdir -p "$d"
	echo old >"$d/claude.prom"
	echo secret >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$d/link.prom"
	run claude-trace --prometheus-file "$d/claude.prom" -p "$FAKE_PID"
	assert_success
	assert_output ""
	run promtool check metrics <"$d/claude.prom"
	assert_success
	assert_output ""
	[ "$(stat -c %a "$d/claude.prom")" = 644 ]
	run claude-trace --prometheus-file "$d/link.prom" -p "$FAKE_PID"
	assert_success
	[ ! -L "$d/link.prom" ]
	[ "$(cat "$BATS_TEST_TMPDIR/target")" = secret ]
	# nothing left beside them
	[ "$(ls -A "$d" | sort | tr '\n' ' ')" = "claude.prom link.prom " ]
	run claude-trace --prometheus-file /proc/nonexistent/x.prom -p "$FAKE_PID"
	assert_failure 3
}

@test "--prometheus is one shot: not with -w or another action" {
	run claude-trace --prometheus -w 1
	assert_failure 2
	run claude-trace --prometheus -R
	assert_failure 2
	run claude-trace --prometheus-file ''
	assert_failure 2
}

@test "--listen: GET /metrics while watching, promtool-clean; other paths 404; a silent client does not stop the watch" {
	need_promtool
	fake_native idle
	claude-trace -w 0.5 --listen 127.0.0.1:0 -p "$FAKE_PID" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	ct=$!
	echo "$ct" >>"$BATS_TEST_TMPDIR/bg.pids"
	for _ in $(seq 200); do
		grep -q 'metrics on http' "$BATS_TEST_TMPDIR/err" && break
		sleep 0.05
	done
	url=$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$BATS_TEST_TMPDIR/err")
	[ -n "$url" ]
	run python3 - "$url" <<'PY'
import socket, sys, time, urllib.error, urllib.request
url = sys.argv[1]
r = urllib.request.urlopen(url, timeout=20)
assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
body = r.read().decode()
try:
    urllib.request.urlopen(url.replace("/metrics", "/other"), timeout=20)
    raise SystemExit("no 404")
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
# a client that connects and says nothing: the watch goes on
host, port = url.split("/")[2].split(":")
s = socket.create_connection((host, int(port)))
time.sleep(3)
s.close()
sys.stdout.write(body)
PY
	assert_success
	body=$output
	grep -q "^claude_code_threads{pid=\"$FAKE_PID\"," <<<"$body"
	run promtool check metrics <<<"$body"
	assert_success
	assert_output ""
	before=$(grep -c '^claude-trace: every' "$BATS_TEST_TMPDIR/out")
	for _ in $(seq 200); do
		[ "$(grep -c '^claude-trace: every' "$BATS_TEST_TMPDIR/out")" -gt "$before" ] && break
		sleep 0.05
	done
	[ "$(grep -c '^claude-trace: every' "$BATS_TEST_TMPDIR/out")" -gt "$before" ]
	kill -INT "$ct"
	wait "$ct" || true
	! kill -0 "$ct" 2>/dev/null
}

@test "--listen needs -w; a bad address is a usage error" {
	run claude-trace --listen 9100
	assert_failure 2
	run claude-trace -w 1 --listen 127.0.0.1:99999
	assert_failure 2
	run claude-trace -w 1 --listen no.such.host.invalid:9100
	assert_failure 2
}
