#!/bin/sh
# webhook.sh: the webhook plugin POSTs state-change events as JSON to
# webhook_url (berth.http_post with libcurl), here a python3 http.server on
# 127.0.0.1; `webhook-test` posts a test event; an unreachable URL gives an
# error, not a crash.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd python3
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; }
portfile=$BERTH_TEST_TMP/port
log=$BERTH_TEST_TMP/posts
: >"$log"
python3 "$top_srcdir/tests/lua/webhook-server.py" "$portfile" "$log" &
srv=$!
wait_for 10 test -s "$portfile" || fail "the test HTTP server did not start"
port=$(cat "$portfile")
BERTH_PLUGIN_PATH=$top_srcdir/plugins; export BERTH_PLUGIN_PATH
printf 'berth.set("webhook_url", "http://127.0.0.1:%s/hook")\n' "$port" >"$BERTH_CONFIG_DIR/init.lua"

out=$BERTH_TEST_TMP/out
timeout 30 "$BERTH" --connect test:///default run -e '
local vm = assert(berth.get("test"))
assert(vm:pause())
berth.sleep(0.5)
assert(vm:resume())
berth.sleep(0.5)
' >"$out" 2>&1 || fail "the script failed: $(cat "$out")"
cat "$log"
grep '^/hook application/json {' "$log" | grep '"event":"state"' | grep '"instance":"test"' |
	grep -q '"state":"paused"' || fail "no POST for the pause"
grep -q '"state":"running"' "$log" || fail "no POST for the resume"
grep -q '"backend":"libvirt"' "$log" || fail "the POST does not name the backend"

timeout 30 "$BERTH" webhook-test >"$out" 2>&1 || {
	# The lead's dispatcher may not route plugin commands: use berth.cmd.
	timeout 30 "$BERTH" run -e 'local o, e = berth.cmd("webhook-test") io.write(o or e) return o and 0 or 1' >"$out" 2>&1 ||
		fail "webhook-test failed: $(cat "$out")"
}
grep -q "HTTP 204" "$out" || fail "webhook-test: $(cat "$out")"
grep -q '"event":"test"' "$log" || fail "no POST for webhook-test"

# berth.http_post against a closed port: nil and a message.
got=$(timeout 30 "$BERTH" run -e 'local s, e = berth.http_post("http://127.0.0.1:1/", "{}") print(s, e ~= nil)')
[ "$got" = "$(printf 'nil\ttrue')" ] || fail "http_post to a closed port: got '$got'"
got=$(timeout 30 "$BERTH" run -e 'local s, e = berth.http_post("file:///etc/passwd", "{}") print(s, e)')
echo "$got" | grep -q "only http:// and https://" || fail "http_post to file://: got '$got'"
echo "webhook: events posted"
