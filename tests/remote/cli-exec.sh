#!/bin/sh
# cli-exec.sh - remote hosts through berth's CLI with exec: URIs that run
# `berth proxy' locally (libvirt's test driver inside the proxy): list,
# info, hosts, stats, pause/resume in one shell session, state events in
# a Lua script, a console (a fake kvm VM's socket), a remote error,
# and the failures: a command that is not berth proxy, one that prints junk
# and stays, ssh to an unknown host, a bad URI.
. "$top_srcdir/tests/lib/sh-helpers.sh"

[ -x "$BERTH" ] || skip "berth is not built ($BERTH)"
"$BERTH" help proxy >/dev/null 2>&1 || fail "berth has no proxy command"

U="exec:$BERTH --connect test:///default proxy"
OUT="$BERTH_TEST_TMP/out"
ERR="$BERTH_TEST_TMP/err"
HOST=$(hostname)

run() {
	want=$1
	shift
	timeout 60 "$BERTH" "$@" >"$OUT" 2>"$ERR"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "---- stdout"; cat "$OUT"; echo "---- stderr"; cat "$ERR"
		fail "berth $*: exit $got, want $want"
	fi
}

has() {
	grep -F -q -- "$2" "$1" || { echo "---- $1"; cat "$1"; fail "$3: no \`$2'"; }
}

# The proxy alone: a banner, then the protocol; nothing else on stdout.
printf '%s\n' '{"id":0,"op":"hello","args":{"version":1}}' '{"id":1,"op":"list"}' |
	timeout 20 "$BERTH" --connect test:///default proxy >"$OUT" 2>"$ERR" ||
	{ cat "$ERR"; fail "berth proxy did not exit 0 when its stdin closed"; }
[ "$(wc -l <"$OUT")" -eq 3 ] || { cat "$OUT"; fail "berth proxy wrote other than 3 lines (banner, 2 replies)"; }
head -n 1 "$OUT" | grep -q '"event":"berth-proxy"' || fail "the proxy's first line is not its banner"
has "$OUT" '"server":"berth-proxy"' "proxy hello"
has "$OUT" "\"host\":\"$HOST\"" "proxy hello names the host"
has "$OUT" '"name":"test"' "proxy list"

# list: the remote host's instances, with backend remote and the host label.
run 0 list --json --connect "$U"
has "$OUT" '"name": "test"' "list --json through the proxy"
has "$OUT" '"backend": "remote"' "list --json through the proxy"
has "$OUT" "\"host\": \"$HOST\"" "list --json through the proxy"
has "$OUT" '"state": "running"' "list --json through the proxy"
run 0 list --names --backend remote --connect "$U"
[ "$(cat "$OUT")" = test ] || fail "list --names --backend remote: got \`$(cat "$OUT")'"

# info: the remote backend's details, under the local view.
run 0 info --json test --connect "$U"
has "$OUT" '"remote_backend": "libvirt"' "info --json"
has "$OUT" '"remote_uri": "test:///default"' "info --json"
has "$OUT" '"os_type": "hvm"' "info --json"
run 0 info --json "$HOST:test" --connect "$U"
has "$OUT" '"remote_backend": "libvirt"' "info HOST:NAME"

# hosts: the connection and the remote capacity.
run 0 hosts --json --connect "$U"
has "$OUT" '"backend": "remote"' "hosts --json"
has "$OUT" '"cpus": 16' "hosts --json (test driver capacity)"

# stats: a valid sample.
run 0 stats --json test --connect "$U"
has "$OUT" '"valid": true' "stats --json"
has "$OUT" '"vcpus": 2' "stats --json"

# pause, list, resume, list in one session (one proxy, one test driver).
printf 'pause test\nlist --json\nresume test\nlist --names --state running\n' |
	timeout 60 "$BERTH" shell --connect "$U" >"$OUT" 2>"$ERR" ||
	{ cat "$OUT" "$ERR"; fail "shell session through the proxy failed"; }
has "$OUT" '"state": "paused"' "list after pause in one session"
[ "$(tail -n 1 "$OUT")" = test ] || { cat "$OUT"; fail "test is not running again after resume"; }

# Events: the remote session's state changes reach a local script.
cat >"$BERTH_TEST_TMP/events.lua" <<'LUA'
local got = {}
berth.on("state", function(ev)
	if ev.backend == "remote" then got[#got + 1] = ev.instance .. "=" .. ev.state end
end)
local t = assert(berth.get("test"))
assert(t:pause())
berth.sleep(1)
assert(t:resume())
berth.sleep(1)
print(table.concat(got, ","))
LUA
run 0 run --connect "$U" "$BERTH_TEST_TMP/events.lua"
has "$OUT" "test=paused" "a state event from the remote host (pause)"
has "$OUT" "test=running" "a state event from the remote host (resume)"

# console: a fake kvm VM whose console socket (served by python3 here)
# answers in upper case; `berth console' reaches it through the proxy.
if command -v python3 >/dev/null 2>&1; then
	mkdir -p "$BERTH_DATA_DIR/vm" "$BERTH_RUN_DIR/vm/fake"
	echo '{"name":"fake","kernel":"/nonexistent","memory_mib":64,"vcpus":1}' >"$BERTH_DATA_DIR/vm/fake.json"
	python3 - "$BERTH_RUN_DIR/vm/fake/console.sock" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
c.sendall(b"login: ")
while True:
    d = c.recv(100)
    if not d:
        break
    c.sendall(b"got:" + d.upper())
PY
	CONSOLE_PID=$!
	wait_for 5 test -S "$BERTH_RUN_DIR/vm/fake/console.sock" || fail "the fake console server did not start"
	echo hello | timeout 20 "$BERTH" console remote:fake --expect 'got:HELLO' --connect "$U" >"$OUT" 2>"$ERR" ||
		{ cat "$OUT" "$ERR"; fail "berth console through the proxy did not see the echo"; }
	has "$OUT" "login: " "console output through the proxy"
	wait "$CONSOLE_PID" || fail "the fake console did not see the console closed"
	rm -rf "$BERTH_DATA_DIR/vm/fake.json" "$BERTH_RUN_DIR/vm/fake"
fi

# A remote error comes back with its reason and the host.
run 1 resume test --connect "$U"
has "$ERR" "not paused" "resume of a running domain"
has "$ERR" "$HOST" "resume of a running domain names the host"
run 3 pause no-such-domain --connect "$U"

# Failures: clear, naming the URI, never hanging.
start=$(date +%s)
run 4 list --connect "exec:echo this is not berth; exit 3"
has "$ERR" "exited 3" "a command that is not berth proxy"
has "$ERR" "this is not berth" "a command that is not berth proxy"
has "$ERR" "connecting to remote" "a command that is not berth proxy"
BERTH_REMOTE_TIMEOUT=2 run 4 list --connect "exec:echo junk; sleep 60"
has "$ERR" "no answer from berth proxy within 2 s" "a command that prints junk and stays"
run 4 list --connect "ssh://no-such-host.invalid"
has "$ERR" "ssh exited 255" "ssh to an unknown host"
has "$ERR" "no-such-host.invalid" "ssh to an unknown host"
run 4 list --connect "ssh://-oProxyCommand=touch\ pwned"
has "$ERR" "bad or missing host name" "an ssh URI that looks like an option"
[ -e pwned ] && fail "an ssh URI ran a command"
run 4 list --connect "ssh://node2?bogus=1"
has "$ERR" "unknown URI parameter" "an unknown URI parameter"
[ $(( $(date +%s) - start )) -le 20 ] || fail "the failure cases took more than 20 s"

# The other connections still answer when a remote host fails (exit 4).
run 4 list --names --connect "$U" --connect "exec:exit 255"
[ "$(cat "$OUT")" = test ] || fail "list with one failed remote: got \`$(cat "$OUT")'"

echo "ok: the CLI reaches remote hosts through berth proxy"
exit 0
