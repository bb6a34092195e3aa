#!/bin/sh
# webhook.sh: the webhook plugin POSTs state-change events as JSON to
# webhook_url (berth.http_post_async with libcurl), here a python3
# http.server on 127.0.0.1; `webhook-test` posts a test event; an
# unreachable URL gives an error, not a crash.  An endpoint that never
# answers does not hold up the event handlers (the POSTs wait in the queue,
# which drops what does not fit and counts it) nor berth's exit for long.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd python3
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	[ -n "$stall" ] && kill "$stall" 2>/dev/null
}
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
got=$(timeout 30 "$BERTH" run -e 'print(berth.http_post_async("file:///etc/passwd", "{}"))')
echo "$got" | grep -q "only http:// and https://" || fail "http_post_async to file://: got '$got'"

# An asynchronous POST to a closed port fails in the worker: counted, with
# the reason.
got=$(timeout 30 "$BERTH" run -e '
assert(berth.http_post_async("http://127.0.0.1:1/", "{}"))
local t = berth.clock()
while berth.http_queue().queued > 0 and berth.clock() - t < 10 do berth.sleep(0.05) end
local q = berth.http_queue()
print(q.queued, q.sent, q.failed, q.dropped, q.last_error ~= nil)')
[ "$got" = "$(printf '0\t0\t1\t0\ttrue')" ] || fail "http_post_async to a closed port: queued, sent, failed, dropped, error: got '$got'"

# --- an endpoint that takes the connection and never answers ---
stallport=$BERTH_TEST_TMP/stallport
python3 "$top_srcdir/tests/lua/webhook-server.py" "$stallport" /dev/null stall &
stall=$!
wait_for 10 test -s "$stallport" || fail "the stalling test server did not start"
printf 'berth.set("webhook_url", "http://127.0.0.1:%s/hook")\n' "$(cat "$stallport")" >"$BERTH_CONFIG_DIR/init.lua"
start=$(date +%s)
timeout 60 "$BERTH" --connect test:///default run -e '
local vm = assert(berth.get("test"))
local events, slowest = 0, 0
berth.on("state", function() events = events + 1 end)
local t0 = berth.clock()
for i = 1, 5 do
  assert(vm:pause())
  assert(vm:wait("paused", 10))
  assert(vm:resume())
  assert(vm:wait("running", 10))
end
berth.sleep(0.2)
local elapsed = berth.clock() - t0
local q = berth.http_queue()
print(string.format("events %d elapsed %.2f queued %d sent %d failed %d dropped %d",
  events, elapsed, q.queued, q.sent, q.failed, q.dropped))
-- The queue is bounded: what does not fit is dropped at once.
local t1, refused, msg = berth.clock(), 0, nil
for i = 1, 100 do
  local ok, err = berth.http_post_async(berth.option("webhook_url"), "{}")
  if not ok then refused = refused + 1; msg = err end
end
local q2 = berth.http_queue()
print(string.format("flood %.2f refused %d dropped %d queued %d", berth.clock() - t1, refused,
  q2.dropped, q2.queued))
print("message", msg)
' >"$out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
cat "$out"
[ $rc -eq 0 ] || fail "the script against a stalling endpoint exited $rc"
set -- $(grep '^events ' "$out")
[ "$2" -ge 10 ] || fail "the script saw $2 state events, want at least 10"
awk -v e="$4" 'BEGIN { exit !(e < 2 * '"${BERTH_TIME_SCALE:-1}"') }' ||
	fail "10 events took $4 s with the endpoint stalling: the handlers waited for it (want < 2 s)"
[ "$6" -ge 1 ] || fail "the webhook queued no POSTs for the events (queued $6)"
[ "$8" -eq 0 ] || fail "POSTs to an endpoint that never answers counted as sent ($8)"
set -- $(grep '^flood ' "$out")
awk -v e="$2" 'BEGIN { exit !(e < 1 * '"${BERTH_TIME_SCALE:-1}"') }' ||
	fail "100 queued POSTs took $2 s: posting blocked"
[ "$4" -ge 30 ] || fail "a flood of 100 POSTs over a full queue: only $4 refused"
[ "$6" -ge "$4" ] || fail "dropped POSTs were not counted: dropped $6, refused $4"
[ "$8" -le 65 ] || fail "the queue held $8 POSTs, more than its bound"
grep -q "^message.*dropped" "$out" || fail "a dropped POST did not say so"
# Exit waits at most a couple of seconds for the queue, then gives up.
[ "$took" -lt $((8 * ${BERTH_TIME_SCALE:-1})) ] || fail "berth took $took s to exit with POSTs stuck"
echo "webhook: events posted"
