# Fake Claude Code processes for the tests. Each helper leaves the pid in
# $FAKE_PID and registers it for teardown.

# A copy of the fake binary under the name claude.
fake_native() {
	local dir="$BATS_TEST_TMPDIR/native.$RANDOM"
	mkdir -p "$dir"
	cp "$CD_TARGETS/fakeclaude" "$dir/claude"
	READY_FILE="$dir/ready" bg_start "$dir/claude" "$@"
	wait_file "$dir/ready" 5
	FAKE_PID=$(cat "$dir/ready")
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
	local dir="$BATS_TEST_TMPDIR/mention.$RANDOM"
	mkdir -p "$dir"
	cp "$CD_TARGETS/fakeclaude" "$dir/worker"
	READY_FILE="$dir/ready" bg_start "$dir/worker" idle claude --claude /tmp/claude
	wait_file "$dir/ready" 5
	FAKE_PID=$(cat "$dir/ready")
}

# The misbehave target under the name claude: fake_misbehave MODE ARGS...
fake_misbehave() {
	local dir="$BATS_TEST_TMPDIR/mis.$RANDOM"
	mkdir -p "$dir"
	cp "$CD_TARGETS/misbehave" "$dir/claude"
	READY_FILE="$dir/ready" bg_start "$dir/claude" "$@"
	wait_file "$dir/ready" 20
	FAKE_PID=$(cat "$dir/ready")
}
