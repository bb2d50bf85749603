# Fake Claude Code processes for the tests. Each helper leaves the pid in
# $FAKE_PID and registers it for teardown.

# A copy of a test target under another name, started in the background
# with READY_FILE; waits up to SECS for it: fake_copy TARGET NAME SECS ARGS...
fake_copy() {
	local target=$1 name=$2 secs=$3 dir="$BATS_TEST_TMPDIR/fake.$RANDOM"
	shift 3
	mkdir -p "$dir"
	cp "$CD_TARGETS/$target" "$dir/$name"
	READY_FILE="$dir/ready" bg_start "$dir/$name" "$@"
	wait_file "$dir/ready" "$secs"
	FAKE_PID=$(cat "$dir/ready")
}

# A copy of the fake binary under the name claude.
fake_native() {
	fake_copy fakeclaude claude 5 "$@"
}

# A Node.js script at .../node_modules/@anthropic-ai/claude-code/cli.js,
# with the package.json that names its version.
fake_node() {
	local pkg="$BATS_TEST_TMPDIR/nm.$RANDOM/node_modules/@anthropic-ai/claude-code"
	mkdir -p "$pkg"
	printf '{"name":"@anthropic-ai/claude-code","version":"%s"}\n' "${1:-1.0.99}" >"$pkg/package.json"
	cat >"$pkg/cli.js" <<'JS'
require('fs').writeFileSync(process.env.READY_FILE, String(process.pid));
setInterval(() => {}, 1000);
JS
	READY_FILE="$pkg/ready" bg_start node "$pkg/cli.js"
	wait_file "$pkg/ready" 10
	FAKE_PID=$(cat "$pkg/ready")
}

# A fake claude whose parent exits at once, so init adopts it.
fake_orphan() {
	local dir="$BATS_TEST_TMPDIR/orphan.$RANDOM"
	mkdir -p "$dir"
	cp "$CD_TARGETS/fakeclaude" "$dir/claude"
	( READY_FILE="$dir/ready" "$dir/claude" idle </dev/null >/dev/null 2>&1 3>&- & )
	wait_file "$dir/ready" 5
	FAKE_PID=$(cat "$dir/ready")
	echo "$FAKE_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# The same binary under another name, with claude only in its arguments.
fake_mention() {
	fake_copy fakeclaude worker 5 idle claude --claude /tmp/claude
}

# The misbehave target under the name claude: fake_misbehave MODE ARGS...
fake_misbehave() {
	fake_copy misbehave claude 20 "$@"
}
