#!/bin/sh
# podman.sh: the Podman backend plugin (plugins/podman, a C plugin built
# against berth-plugin.h) manages the containers of a private Podman
# service over its Engine API: list, start, stats, exec, pause/resume,
# shutdown, create, undefine, the console (attach) with console_expect and
# the rolling-restart example; unsupported slots answer "not supported".
# Skips (77) only when podman cannot run here.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_root
need_cmd podman runc
plugin=$top_builddir/plugins/.libs/podman.so
[ -f "$plugin" ] || fail "the podman plugin was not built ($plugin)"
bb=$(command -v busybox) || skip "needs busybox for the container image"

d=$BERTH_TEST_TMP/podman
mkdir -p "$d/rootfs/bin"
# runc refuses ulimits above the hard limits; podman's defaults are higher.
hn=$(awk '/^Max open files/ {print $5}' /proc/self/limits)
hu=$(awk '/^Max processes/ {print $4}' /proc/self/limits)
lim() { case $1 in unlimited|'') echo 1024 ;; *) [ "$1" -lt 1024 ] && echo "$1" || echo 1024 ;; esac; }
cat >"$d/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(lim "$hn"):$(lim "$hn")", "nproc=$(lim "$hu"):$(lim "$hu")"]
CONF
CONTAINERS_CONF=$d/containers.conf; export CONTAINERS_CONF
# A private store, run directory and temp directory: nothing of the
# host's podman is touched.  ($d has no blanks: split on purpose.)
pargs="--root $d/storage --runroot $d/runroot --storage-driver vfs --runtime runc --cgroup-manager cgroupfs --events-backend file --tmpdir $d/tmp"
P() { podman $pargs "$@"; }
sock=$d/podman.sock
cleanup() {
	P stop -a -t 0 >/dev/null 2>&1
	P rm -af >/dev/null 2>&1
	[ -n "$svc" ] && kill "$svc" 2>/dev/null && wait "$svc" 2>/dev/null
	# conmon of finished exec sessions can outlive the service: ours are
	# the ones naming our private store.
	for pid in $(pgrep -f -- "-b $d/storage/" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	return 0
}

cp "$bb" "$d/rootfs/bin/busybox"
for c in sh sleep echo cat; do ln -s busybox "$d/rootfs/bin/$c"; done
tar -C "$d/rootfs" -cf "$d/rootfs.tar" . || fail "making the image tarball"
P import "$d/rootfs.tar" localhost/berth-bb:test >"$d/import.log" 2>&1 ||
	skip "podman cannot import an image here: $(tail -n 2 "$d/import.log")"
P create --name pre1 --network none localhost/berth-bb:test sleep 300 >/dev/null 2>"$d/create.log" ||
	skip "podman cannot create a container here: $(tail -n 2 "$d/create.log")"
podman $pargs system service --time=0 "unix://$sock" >"$d/service.log" 2>&1 &
svc=$!	# podman itself, not a subshell: cleanup kills it
wait_for 20 test -S "$sock" || fail "podman system service did not create $sock: $(tail -n 3 "$d/service.log")"

BERTH_PODMAN_SOCKET=$sock; export BERTH_PODMAN_SOCKET
BERTH_PLUGIN_PATH=$(dirname "$plugin"); export BERTH_PLUGIN_PATH
out=$BERTH_TEST_TMP/out

# The command line sees the plugin's backend.
timeout 60 "$BERTH" list --backend podman >"$out" 2>&1 || fail "berth list: $(cat "$out")"
cat "$out"
grep -q "^pre1 .*podman .*localhost" "$out" || fail "berth list does not show pre1 from podman"

timeout 120 "$BERTH" run -e '
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
local found
for _, b in ipairs(berth.backends()) do if b.name == "podman" then found = b end end
T.ok(found ~= nil, "the podman backend is registered by the plugin")
local c, err = berth.get("pre1")
T.ok(c ~= nil, "berth.get(\"pre1\")", err)
if not c then T.done() end
T.is(c.backend, "podman", "backend")
T.is(c.kind, "ct", "kind")
T.is(c.state, "created", "state of a created container")
T.is(c:start(), true, "start()")
T.is(c.state, "running", "state after start")
local st = c:stats()
T.ok(st and st.mem_used_kib > 0, "stats() reports memory in use", st and st.mem_used_kib)
T.ok(st and st.cpu_time_ns >= 0, "stats() reports CPU time")
T.is(c:exec({ "sh", "-c", "exit 3" }), 3, "exec returns the exit status")
T.is(c:pause(), true, "pause()")
T.is(c.state, "paused", "state after pause")
T.is(c:resume(), true, "resume()")
T.is(c.state, "running", "state after resume")
local info = c:info()
T.is(info.image, "localhost/berth-bb:test", "info().image")
T.ok(info.pid and info.pid > 0, "info().pid of a running container", info.pid)
local ok, merr = c:migrate { to = "elsewhere" }
T.is(ok, nil, "migrate is not supported")
T.is(merr, "migrate: not supported by backend podman", "... with the backend named")
T.is(c:shutdown(2), true, "shutdown(2)")
T.is(c.state, "stopped", "state after shutdown")

local n, nerr = berth.create { backend = "podman", name = "made1", image = "localhost/berth-bb:test",
  command = { "sleep", "300" }, netns = { nsmode = "none" } }
T.ok(n ~= nil, "berth.create on podman", nerr)
if n then
  T.is(n.state, "created", "created container state")
  T.is(n:start(), true, "start the created container")
  T.is(n:wait("running", 10), true, "wait(\"running\")")
  T.is(n:destroy(), true, "destroy()")
  T.is(n:wait("stopped", 10), true, "wait(\"stopped\")")
  T.is(n:undefine(), true, "undefine()")
  T.is(berth.get("podman:made1"), nil, "undefined container is gone")
end
local bad, berr = berth.create { backend = "podman", name = "noimg" }
T.is(bad, nil, "create without an image fails")
T.like(berr, "needs an `image\x27", "... saying why")
T.done()
' || fail "the Lua checks against podman failed"

# The console (attach) and the rolling-restart example against real
# containers: each prints "ready" a second after it starts.
timeout 120 "$BERTH" run -e '
local cmd = { "sh", "-c", "trap \"exit 0\" TERM; echo booting; sleep 1; echo ready; while read l; do echo got $l; done" }
for _, n in ipairs { "web-a", "web-b" } do
  assert(berth.create { backend = "podman", name = n, image = "localhost/berth-bb:test", command = cmd,
    terminal = true, stdin = true, netns = { nsmode = "none" } })
  assert(berth.get(n):start())
end
local a = berth.get("web-a")
assert(a:console_expect("ready", 10))
assert(a:console_send("ping\n"))
local _, word = a:console_expect("got (%w+)", 10)
assert(word == "ping", "console echo: " .. tostring(word))
print("console ok")
' >"$out" 2>&1 || fail "podman console: $(cat "$out")"
grep -qx "console ok" "$out" || fail "podman console: $(cat "$out")"
timeout 300 "$BERTH" run -- "$top_srcdir/lua/examples/rolling-restart.lua" 'web-*' ready >"$out" 2>&1 ||
	fail "rolling-restart.lua against podman: $(cat "$out")"
cat "$out"
grep -qx "web-a is back" "$out" || fail "rolling restart: web-a did not come back"
grep -qx "web-b is back" "$out" || fail "rolling restart: web-b did not come back"
grep -qx "done: 2 restarted" "$out" || fail "rolling restart did not finish"

# CLI lifecycle through the plugin.
timeout 60 "$BERTH" start pre1 >"$out" 2>&1 || fail "berth start pre1: $(cat "$out")"
timeout 60 "$BERTH" list --backend podman --state running --names >"$out" 2>&1
grep -qx pre1 "$out" || fail "pre1 is not running after berth start: $(cat "$out")"
echo "podman: plugin lists and starts containers"
