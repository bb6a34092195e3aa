#!/bin/sh
# interrupt-wait.sh: Ctrl-C (SIGINT) ends a script that waits for a backend,
# not only one that runs Lua: inst:shutdown(60) on a container that ignores
# SIGTERM waits for the monitor's reply, and SIGINT stops that wait within
# 1 s (exit 130) without forcing the container off; a new script afterwards
# talks to the backend normally.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
[ -x "$BERTH" ] || fail "berth was not built ($BERTH)"
cleanup() { "$BERTH" destroy lint1 >/dev/null 2>&1; "$BERTH" undefine lint1 >/dev/null 2>&1; ctr_cleanup_all; }
out=$BERTH_TEST_TMP/out
C_ARGS='["sh", "-c", "trap \"\" TERM; echo ready; sleep 1000"]' make_bundle "$BERTH_TEST_TMP/bundle"
BERTH_NO_DEFAULT_LIBVIRT=1; export BERTH_NO_DEFAULT_LIBVIRT

"$BERTH" run -e '
local c = assert(berth.create { backend = "container", name = "lint1", bundle = arg[1], network = "none" })
assert(c:start())
assert(c:console_expect("ready", 20))
io.stdout:write("waiting\n") io.stdout:flush()
local ok, msg = c:shutdown(60)
print("shutdown returned", ok, msg)
' "$BERTH_TEST_TMP/bundle" >"$out" 2>&1 &
pid=$!
i=0
while ! grep -q waiting "$out" && [ $i -lt 300 ]; do
	kill -0 $pid 2>/dev/null || fail "the script ended early: $(cat "$out")"
	sleep 0.1; i=$((i + 1))
done
grep -q waiting "$out" || { kill -9 $pid; fail "the container did not start: $(cat "$out")"; }
sleep 1
kill -0 $pid 2>/dev/null || fail "shutdown(60) did not wait for a container that ignores SIGTERM: $(cat "$out")"
sigint_and_wait $pid 100 "the waiting script"
[ $sigint_rc -eq 130 ] || fail "exit after SIGINT during shutdown: $sigint_rc, want 130 ($(cat "$out"))"
[ $sigint_ms -le 1000 ] || fail "SIGINT took $sigint_ms ms to end the wait (limit 1000)"
grep -q "interrupted" "$out" || fail "no 'interrupted' message: $(cat "$out")"
echo "SIGINT ended the wait in $sigint_ms ms: $(grep -m1 interrupted "$out")"

state=$("$BERTH" list --json 2>&1 | "$BERTH" run -e '
local t = berth.json.decode(io.read("a"))
for _, i in ipairs(t) do if i.name == "lint1" then print(i.state) end end')
[ "$state" = running ] || fail "after the interrupted shutdown lint1 is '$state', want running (not forced off)"
"$BERTH" run -e 'local c = assert(berth.get("lint1")) assert(c:kill()) print(c.state)' >"$out" 2>&1 ||
	fail "a new script cannot kill lint1: $(cat "$out")"
"$BERTH" undefine lint1 >"$out" 2>&1 || fail "undefine lint1: $(cat "$out")"
exit 0
