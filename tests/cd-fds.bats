#!/usr/bin/env bats
# cd-fds against fdzoo, a target holding known numbers of each fd kind.

load helpers/common

# Start fdzoo [ARGS] in a fresh directory; sets ZOO (dir) and PID.
zoo_start() {
	ZOO=$(mktemp -d "$BATS_TEST_TMPDIR/zoo.XXXXXX")
	bg_start "$CD_TARGETS/fdzoo" "$@" "$ZOO"
	wait_file "$ZOO/ready" 10
	PID=$(sed -n 's/^pid=//p' "$ZOO/ready")
	[ "$PID" = "$BG_PID" ]
}

# The count fdzoo wrote for key $1.
want() {
	sed -n "s/^$1=//p" "$ZOO/ready"
}

# Run cd-fds; its output stays in $OUT for summary/json_exec after other runs.
run_fds() {
	run cd-fds "$@"
	OUT=$output
}

summary() {
	grep '"type":"fd_summary"' <<<"$OUT" | json_eval "$1"
}

# Python statements (not one expression) over the records of $OUT.
json_exec() {
	python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
exec(sys.argv[1])
' "$1" <<<"$OUT"
}

@test "help and version" {
	run_fds --help
	assert_success
	assert_output --partial "--watch SECS"
	run_fds --version
	assert_success
	assert_output --partial "cd-fds (claude-diagnose)"
}

@test "usage errors exit 2" {
	run_fds --pid 0
	assert_failure 2
	run_fds --watch soon --pid 1
	assert_failure 2
	assert_output --partial "not a number"
	run_fds --bogus
	assert_failure 2
	run_fds --pid 1 extra
	assert_failure 2
}

@test "exact counts by kind in the zoo" {
	zoo_start
	run_fds --pid "$PID"
	assert_success
	nfds=$(ls /proc/$PID/fd | wc -l)
	run json_exec "
s = [r for r in recs if r['type'] == 'fd_summary'][0]
fds = [r for r in recs if r['type'] == 'fd']
k = s['by_kind']
for n in 'dir pipe fifo tcp udp unix eventfd timerfd signalfd eventpoll inotify memfd pidfd'.split():
    print(n, k.get(n, 0))
print('file', k['file'], 'chr', k['chr'])
print('total', s['total'], len(fds), $nfds)"
	{
		for k in dir pipe fifo tcp udp unix eventfd timerfd signalfd eventpoll inotify memfd pidfd; do
			echo "$k $(want $k)"
		done
		# 5 files plus 2 deleted ones are regular files; fds 0-2 are /dev/null.
		echo "file $(( $(want file) + $(want deleted) )) chr 3"
		echo "total $nfds $nfds $nfds"
	} >"$BATS_TEST_TMPDIR/want"
	assert_output "$(cat "$BATS_TEST_TMPDIR/want")"
}

@test "tcp states, udp and unix sockets through sock_diag" {
	zoo_start
	run_fds --pid "$PID"
	assert_success
	run json_exec "
s = [r for r in recs if r['type'] == 'fd_summary'][0]
c = s['connections']
print(c.get('LISTEN'), c.get('ESTABLISHED'), c.get('CLOSE_WAIT'), len(s['connection_list']), s['sockets_unresolved'])
# Every established pair is seen from both ends.
tcp = [r for r in recs if r.get('kind') == 'tcp' and r.get('state') == 'ESTABLISHED']
ends = {(r['local'], r['remote']) for r in tcp}
print(all((b, a) in ends for a, b in ends), len(tcp))
# unix: the named listener and its accepted peer, socketpairs pointing at each other.
u = [r for r in recs if r.get('kind') == 'unix']
ino = {r['ino']: r for r in u}
lis = [r for r in u if r['state'] == 'LISTEN']
pairs = all(ino[r['peer_ino']]['peer_ino'] == r['ino'] for r in u if r.get('peer_ino') in ino)
print(len(u), len(lis), lis[0]['path'].endswith('/sock'), pairs)
print([r['backend'] for r in recs if r['type'] == 'meta'])"
	assert_output "$(want listen) $(want established) $(want close_wait) 7 0
True 4
7 1 True True
['sock_diag']"
}

@test "--procfs-sockets gives the same counts and says so in meta" {
	zoo_start
	run_fds --procfs-sockets --pid "$PID"
	assert_success
	run json_exec "
s = [r for r in recs if r['type'] == 'fd_summary'][0]
print(s['connections'].get('CLOSE_WAIT'), s['tcp'], s['unix'])
m = [r for r in recs if r['type'] == 'meta'][0]
print(m['backend'], '|', m['fallback_reason'])"
	assert_output "$(want close_wait) $(want tcp) $(want unix)
procfs | netlink disabled by --procfs-sockets"
}

@test "the BPF iterator and procfs agree on every fd, and meta names the method" {
	zoo_start
	run_fds --method bpf --pid "$PID"
	assert_success
	echo "$OUT" >"$BATS_TEST_TMPDIR/bpf"
	run_fds --method procfs --pid "$PID"
	assert_success
	echo "$OUT" >"$BATS_TEST_TMPDIR/procfs"
	run_fds --pid "$PID"
	assert_success
	echo "$OUT" >"$BATS_TEST_TMPDIR/auto"
	# Records compared field by field; a timer's time to expiry moves on.
	run python3 -c '
import json, sys
def load(p):
    recs = [json.loads(l) for l in open(p) if l.strip()]
    fds = [r for r in recs if r["type"] == "fd"]
    for r in fds:
        r.pop("next_expiry_ns", None)
    meta = [r for r in recs if r["type"] == "meta"][0]
    return fds, (meta["fd_method"], meta["fd_method_fallback"])
b, mb = load(sys.argv[1]); p, mp = load(sys.argv[2]); a, ma = load(sys.argv[3])
print(len(b), len(b) == len(p), b == p, a == b)
print(mb, mp, ma)
print(sorted({r["kind"] for r in b}))' "$BATS_TEST_TMPDIR/bpf" "$BATS_TEST_TMPDIR/procfs" "$BATS_TEST_TMPDIR/auto"
	nfds=$(ls /proc/$PID/fd | wc -l)
	assert_output "$nfds True True True
('bpf_iter', None) ('procfs', None) ('bpf_iter', None)
['chr', 'dir', 'eventfd', 'eventpoll', 'fifo', 'file', 'inotify', 'memfd', 'pidfd', 'pipe', 'signalfd', 'tcp', 'timerfd', 'udp', 'unix']"
}

@test "--method: bad values are usage errors" {
	run_fds --method magic --pid 1
	assert_failure 2
	assert_output --partial "not auto, bpf or procfs"
}

@test "fdinfo: positions, flags, epoll targets, timer, eventfd count" {
	zoo_start
	run_fds --pid "$PID"
	assert_success
	run json_exec "
fd = {r['fd']: r for r in recs if r['type'] == 'fd'}
files = [r for r in fd.values() if r['kind'] == 'file' and not r['deleted']]
print(sorted(r['pos'] for r in files), files[0]['flags'])
ep = [r for r in fd.values() if r['kind'] == 'eventpoll'][0]
print(ep['watch_count'], sorted(fd[t]['kind'] for t in ep['watched_fds']))
print(sorted(r['armed'] for r in fd.values() if r['kind'] == 'timerfd'))
print(sorted(r['count'] for r in fd.values() if r['kind'] == 'eventfd'))
print([r['target_pid'] == r['pid'] for r in fd.values() if r['kind'] == 'pidfd'])"
	assert_output "[0, 10, 20, 30, 40] O_RDWR
3 ['pipe', 'pipe', 'tcp']
[False, True]
[0, 1]
[True]"
}

@test "inotify watches resolve to the watched directories" {
	zoo_start
	run_fds --pid "$PID"
	assert_success
	run json_exec "
s = [r for r in recs if r['type'] == 'fd_summary'][0]
print(s['inotify_watches'], s['inotify_instances'])
print(sorted(s['watched_paths']))
# The user's total includes at least this process's watches.
print(s['user_inotify_watches'] >= 4 and s['max_user_watches'] > 0)"
	assert_output "$(want inotify_watches) $(want inotify)
['$ZOO', '$ZOO/w0', '$ZOO/w1', '$ZOO/w2']
True"
	# --paths limits the list and counts the rest.
	run_fds --paths 1 --pid "$PID"
	run summary "(len(recs[0]['watched_paths']), recs[0]['watched_paths_more'])"
	assert_output "(1, 3)"
}

@test "the user's inotify total: the kernel's ucounts agree with a walk over /proc" {
	zoo_start
	# Another process of ours could open or close a watch between the two
	# reads: compare a few times before calling it a mismatch.
	for try in 1 2 3; do
		run_fds --summary --pid "$PID"
		assert_success
		k=$(summary "[recs[0][f] for f in ('user_inotify_source', 'user_inotify_watches', 'user_inotify_instances', 'user_inotify_processes')]")
		run_fds --summary --method procfs --pid "$PID"
		assert_success
		p=$(summary "[recs[0][f] for f in ('user_inotify_source', 'user_inotify_watches', 'user_inotify_instances')]")
		[ "$(cut -d, -f2,3 <<<"$k")" = "$(cut -d, -f2,3 <<<"$p" | tr -d ']')" ] && break
	done
	echo "kernel $k procfs $p"
	[[ "$k" == "['ucounts', "*", None]" ]]
	[[ "$p" == "['procfs', "* ]]
	[ "$(cut -d, -f2,3 <<<"$k")" = "$(cut -d, -f2,3 <<<"$p" | tr -d ']')" ]
	# At least this process's own watches.
	[ "$(cut -d, -f2 <<<"$k" | tr -d ' ')" -ge "$(want inotify_watches)" ]
}

@test "deleted files are flagged and diagnosed" {
	zoo_start
	run_fds --pid "$PID"
	assert_success
	run json_exec "
s = [r for r in recs if r['type'] == 'fd_summary'][0]
print(s['deleted'], s['deleted_bytes'])
print([(d['code'], d['severity'], d['evidence']['deleted']) for d in recs if d['type'] == 'diagnosis'])
print(sorted(r['path'].rsplit('/', 1)[1] for r in recs if r['type'] == 'fd' and r.get('deleted')))"
	assert_output "$(want deleted) 2000
[('deleted_files', 'info', 2)]
['gone0', 'gone1']"
}

@test "thresholds are options: close_wait, many fds, watches" {
	zoo_start
	run_fds --max-close-wait 3 --max-fds 10 --max-watches 3 --pid "$PID"
	assert_success
	run json_eval "sorted((d['code'], d['severity']) for d in recs if d['type'] == 'diagnosis')" <<<"$output"
	assert_output "[('close_wait', 'warning'), ('deleted_files', 'info'), ('inotify_watches', 'warning'), ('many_fds', 'warning')]"
	run_fds --max-close-wait 4 --pid "$PID"
	refute_output --partial '"close_wait"'
	# The user's share of max_user_watches: critical, exit 1.
	run_fds --user-watches-pct 0.0001 --pid "$PID"
	assert_failure 1
	run json_eval "[d['issue'] for d in recs if d['type'] == 'diagnosis' and d['severity'] == 'critical']" <<<"$output"
	assert_output "['Excessive file watching']"
}

@test "near RLIMIT_NOFILE is critical, read with prlimit" {
	ZOO=$(mktemp -d "$BATS_TEST_TMPDIR/zoo.XXXXXX")
	( ulimit -n 52; exec "$CD_TARGETS/fdzoo" "$ZOO" </dev/null >/dev/null 2>&1 ) &
	echo $! >>"$BATS_TEST_TMPDIR/bg.pids"
	wait_file "$ZOO/ready" 10
	PID=$(sed -n 's/^pid=//p' "$ZOO/ready")
	run_fds --pid "$PID"
	assert_failure 1
	[ "$(summary "recs[0]['nofile_soft']")" = 52 ]
	run json_eval "[(d['code'], d['evidence']['nofile_soft']) for d in recs if d['type'] == 'diagnosis' and d['severity'] == 'critical']" <<<"$output"
	assert_output "[('fd_limit', 52)]"
}

@test "--watch measures the growth of a leaking process" {
	zoo_start --leak 20
	run_fds --summary --watch 3 --interval 0.25 --pid "$PID"
	assert_success
	# 20 eventfds a second; generous bounds for a loaded machine.
	run json_exec "
s = [r for r in recs if r['type'] == 'fd_summary'][0]
print(10 <= s['growth_per_s'] <= 30, 10 <= s['growth_by_kind_per_s']['eventfd'] <= 30, s['samples'] >= 5)
print([d['code'] for d in recs if d['type'] == 'diagnosis' and d['code'] == 'fd_growth'])"
	assert_output "True True True
['fd_growth']"
	# A steady zoo does not grow.
	zoo_start
	run_fds --summary --watch 1 --interval 0.2 --pid "$PID"
	run summary "recs[0]['growth_per_s'] == 0"
	assert_output "True"
}

@test "a target exiting mid-watch is reported from its last sample" {
	zoo_start --exit-after 1
	run_fds --summary --watch 4 --interval 0.2 --pid "$PID"
	assert_success
	assert_output --partial "exited during the watch"
	run json_exec "
s = [r for r in recs if r['type'] == 'fd_summary'][0]
print(s['samples'] >= 2, s['exited'], s['inotify_watches'])
print([r['exited'] for r in recs if r['type'] == 'meta'][0] == [$PID])"
	assert_output "True True 4
True"
}

@test "fds vanishing while scanned are skipped and counted" {
	# A leaking target that hits its limit keeps opening and failing; scan it
	# repeatedly while it changes: every output must be whole and valid.
	zoo_start --leak 500
	for i in 1 2 3 4 5; do
		run_fds --pid "$PID"
		assert_success
		json_valid_lines <<<"$output"
	done
}

@test "a pid that does not exist" {
	run_fds --pid 4000000
	assert_failure 3
	assert_output --partial "pid 4000000: no such process"
	run json_eval "[r['errors'] for r in recs if r['type'] == 'meta']" <<<"$(cd-fds --pid 4000000 2>/dev/null)"
	assert_output "[[{'pid': 4000000, 'error': 'no such process'}]]"
}

@test "a pid we may not read (nobody against root)" {
	zoo_start
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CD_BIN/cd-fds" --pid "$PID"
	assert_failure 3
	assert_output --partial "permission denied"
	# One readable target among unreadable ones still succeeds.
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CD_BIN/cd-fds" --pid "$PID" --pid $$
	[ "$status" -ne 2 ]
}

@test "as an unprivileged owner: watches fall back to device and inode" {
	ZOO=$(mktemp -d /tmp/cdfds-bats.XXXXXX)
	chmod 0777 "$ZOO"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$CD_TARGETS/fdzoo" "$ZOO" </dev/null >/dev/null 2>&1 &
	echo $! >>"$BATS_TEST_TMPDIR/bg.pids"
	wait_file "$ZOO/ready" 10
	PID=$(sed -n 's/^pid=//p' "$ZOO/ready")
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CD_BIN/cd-fds" --pid "$PID"
	OUT=$output
	kill "$PID"
	rm -rf "$ZOO"
	assert_success
	run summary "[p.startswith('dev ') for p in recs[0]['watched_paths']], recs[0]['inotify_watches'], recs[0]['connections']['CLOSE_WAIT']"
	assert_output "([True, True, True, True], 4, 3)"
	run json_exec "print([(r['watches_resolved'], r['watches_unresolved']) for r in recs if r['type'] == 'meta'])"
	assert_output "[(0, 4)]"
	# Without CAP_BPF the iterator cannot load: procfs, and meta says why.
	run json_exec "print([(r['fd_method'], r['fd_method_fallback']) for r in recs if r['type'] == 'meta'])"
	assert_output "[('procfs', 'loading the BPF task_file iterator: Operation not permitted (needs root, or CAP_BPF and CAP_PERFMON)')]"
}

@test "--method bpf without the privilege to load it: exit 3, and why" {
	zoo_start
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CD_BIN/cd-fds" --method bpf --pid "$PID"
	assert_failure 3
	assert_output --partial "--method bpf: loading the BPF task_file iterator: Operation not permitted"
	refute_output --partial '"type":"fd"'
}

@test "process records on stdin: targets, passed through in order" {
	zoo_start
	run bash -c "printf '{\"type\":\"process\",\"pid\":%d,\"comm\":\"fdzoo\"}\n{\"type\":\"other\",\"x\":1}\n' $PID | cd-fds --summary"
	assert_success
	run json_eval "[r['type'] for r in recs]" <<<"$output"
	assert_output "['process', 'other', 'fd_summary', 'diagnosis', 'meta']"
}

@test "malformed stdin lines: reported by line, skipped, exit 4; --strict stops" {
	zoo_start
	run bash -c "printf 'garbage\n{\"type\":\"process\",\"pid\":%d}\n{\"type\":\n' $PID | cd-fds --summary"
	assert_failure 4
	assert_output --partial "stdin:1: malformed JSON"
	assert_output --partial "stdin:3: malformed JSON"
	[ "$(grep -c '"type":"fd_summary"' <<<"$output")" = 1 ]
	run bash -c "printf 'garbage\n{\"type\":\"process\",\"pid\":%d}\n' $PID | cd-fds --strict --summary"
	assert_failure 4
	refute_output --partial fd_summary
}

@test "binary garbage and an empty pipe on stdin" {
	run bash -c "head -c 65536 /dev/urandom | cd-fds 2>/dev/null"
	[ "$status" -eq 4 ] || [ "$status" -eq 0 ]
	json_valid_lines <<<"$output"
	run bash -c "cd-fds </dev/null"
	assert_success
	run json_eval "[(r['type'], r['pids']) for r in recs]" <<<"$output"
	assert_output "[('meta', 0)]"
}

@test "--table for people" {
	zoo_start
	run_fds --table --max-close-wait 3 --pid "$PID"
	assert_success
	assert_output --partial "PID $PID (fdzoo): $(ls /proc/$PID/fd | wc -l) open file descriptors"
	assert_output --partial "CLOSE_WAIT 3"
	assert_output --partial "Sockets piling up in CLOSE_WAIT"
	refute_output --partial '{"type"'
}

@test "--table columns line up whatever the flags' width" {
	# An fd whose flags are wider than the old fixed column (24).
	bg_start "$CD_PYTHON" -c 'import os, sys, time
os.open("/dev/null", os.O_RDWR | os.O_NONBLOCK | os.O_APPEND | os.O_CLOEXEC)
open(sys.argv[1], "w").write("x")
time.sleep(300)' "$BATS_TEST_TMPDIR/wide.ready"
	wait_file "$BATS_TEST_TMPDIR/wide.ready" 10
	run_fds --table --pid "$BG_PID"
	assert_output --partial "O_RDWR|O_APPEND|O_NONBLOCK|O_CLOEXEC"
	assert_success
	# Every row's POS column ends where the header's does.
	run awk '/^ +FD KIND/ { end = index($0, "POS") + 2; next }
		end && /^ +[0-9]+ / { n++; if (substr($0, end, 1) !~ /[0-9-]/ || substr($0, end + 1, 1) != " ") bad++ }
		END { print n + 0, bad + 0 }' <<<"$output"
	[ "${output% *}" -ge 4 ]
	[ "${output#* }" -eq 0 ]
}
