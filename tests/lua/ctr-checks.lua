-- ctr-checks.lua: run by ctr.sh as `berth run ctr-checks.lua BUNDLE`.
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
local bundle = assert(arg[1], "usage: ctr-checks.lua BUNDLE")

local events = {}
local others = {}
berth.on("*", function(ev)
  if ev.instance == "lct1" then events[#events + 1] = ev.type .. ":" .. tostring(ev.state)
  elseif ev.instance == "lext" then others[#others + 1] = ev.type .. ":" .. tostring(ev.state) end
end)
local function saw(what, list)
  for _, e in ipairs(list or events) do if e == what then return true end end
  return false
end
local function count(what, list)
  local n = 0
  for _, e in ipairs(list or events) do if e == what then n = n + 1 end end
  return n
end

-- Another program defines, starts and deletes a container: the events
-- tell of it (from the backend's rescan, within 2 s).
local berth_bin = assert(os.getenv("BERTH"), "BERTH is not set")
local spec = os.tmpname()
do
  local f = assert(io.open(spec, "w"))
  f:write(string.format('{"backend": "container", "name": "lext", "bundle": "%s", "network": "none"}\n', bundle))
  f:close()
end
local function sh(cmd) return os.execute(berth_bin .. " " .. cmd .. " >/dev/null 2>&1") end
T.ok(sh("define " .. spec), "another berth defines lext")
berth.sleep(2.5)
T.ok(saw("defined:nil", others), "a defined event for a container another program defined", table.concat(others, ", "))
T.ok(sh("start lext"), "another berth starts lext")
berth.sleep(2.5)
T.ok(saw("state:running", others), "a running state event for a container another program started", table.concat(others, ", "))
T.ok(sh("kill lext") and sh("undefine lext"), "another berth kills and deletes lext")
berth.sleep(2.5)
T.ok(saw("undefined:nil", others), "an undefined event for a container another program deleted", table.concat(others, ", "))
os.remove(spec)

local c, err = berth.create { backend = "container", name = "lct1", bundle = bundle,
  network = "none", memory_mib = 256, pids_max = 64, env = { "FOO=bar" } }
T.ok(c ~= nil, "berth.create{backend = \"container\", bundle = ...}", err)
if not c then T.done() end
T.is(c.kind, "ct", "kind")
T.is(c.backend, "container", "backend")
T.is(c.state, "stopped", "a defined container is stopped")
berth.sleep(0.2)
T.ok(saw("defined:nil"), "a defined event", table.concat(events, ", "))
berth.sleep(2.5)
T.ok(count("defined:nil") == 1, "one defined event, not another from the rescan", table.concat(events, ", "))
local bad, berr = berth.create { backend = "container", name = "lbad", bundle = "relative/path" }
T.is(bad, nil, "a relative bundle path is refused")
T.ok(berr ~= nil, "... with a message", berr)

local x, xerr = c:exec("true")
T.is(x, nil, "exec in a stopped container fails")
T.like(xerr, "not running", "... saying it is not running")
local hosts = {}
for _, h in ipairs(berth.hosts()) do hosts[h.backend] = h end
local h = hosts.container
T.ok(h and h.cpus and h.cpus > 0 and h.memory_kib > 0, "berth.hosts(): the container backend's host")
T.ok(h and h.free_memory_kib and h.free_memory_kib > 0 and h.free_memory_kib <= h.memory_kib,
  "berth.hosts(): free_memory_kib, as documented", h and h.free_memory_kib)

T.is(c:start(), true, "start()")
T.is(c:wait("running", 10), true, "wait(\"running\")")
T.is(c:console_expect("ready", 10), "ready", "console_expect(\"ready\")")
T.is(c:console_send("hello\n"), true, "console_send")
local _, word = c:console_expect("got (%w+)", 10)
T.is(word, "hello", "console_expect capture of the echo")

-- exec: the exit status, then captured output.
io.stdout:flush()
T.is(c:exec("exit 4"), 4, "exec returns the exit status")
T.is(c:exec({ "sh", "-c", "exit 0" }), 0, "exec with an argv table")
local st, out, errout = c:exec("echo $FOO; hostname; echo oops >&2; exit 5", { output = true })
T.is(st, 5, "exec{output = true}: the status")
T.is(out, "bar\nlct1\n", "... standard output captured")
T.is(errout, "oops\n", "... standard error captured")
local _, big = c:exec({ "sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done" }, { output = true })
local nl = big and select(2, big:gsub("\n", "\n"))
T.is(nl, 2000, "exec captures 2000 lines")
T.ok(big and big:find("line%-1999\n$") ~= nil, "... up to the last", big and big:sub(-40))
print("# stdout is back after a captured exec")
local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
-- (Counts deleted files held open: the capture files are unlinked.)
local function nfds()
  local p = io.popen("ls -l /proc/" .. pid .. "/fd | grep -c -e '(deleted)' -e berth-exec")
  local n = tonumber(p:read("l"))
  p:close()
  return n
end
local before = nfds()
for _ = 1, 5 do c:exec("echo x; echo y >&2", { output = true }) end
T.is(nfds(), before, "captured execs leave no descriptors open")
T.ok(not pcall(c.exec, c, "true", { tty = true, output = true }), "tty and output together raise")

local s1 = c:stats()
T.ok(s1 and s1.mem_used_kib > 0, "stats() mem_used_kib", s1 and s1.mem_used_kib)
T.is(s1 and s1.mem_total_kib, 256 * 1024, "stats() mem_total_kib from memory_mib")
T.ok(s1 and s1.cpu_time_ns > 0, "stats() cpu_time_ns")
T.is(c:info().definition.bundle, bundle, "info().definition.bundle")

T.is(c:pause(), true, "pause()")
T.is(c.state, "paused", "state after pause")
T.like(select(2, c:exec("true")), "paused, not running", "exec in a paused container fails at once")
T.is(c:resume(), true, "resume()")
T.is(c.state, "running", "state after resume")

-- The container's own exit: wait("stopped") and a state event.  (The
-- backend watches a container's events from its next rescan, within 2 s of
-- the start; give it that long.)
berth.sleep(2.5)
c:console_send("bye\n")
T.is(c:wait("stopped", 10), true, "wait(\"stopped\") after the container exits")
berth.sleep(0.5)
T.ok(saw("state:stopped"), "a stopped state event through berth.on", table.concat(events, ", "))
T.like(c.reason, "3", "reason names the exit status 3")
T.like(select(2, c:console_expect("never", 1)), "", "console_expect after the exit: nil and a message")

-- Start again from the definition; SIGTERM ends it (trap: exit 0); then
-- SIGKILL.
T.is(c:start(), true, "start() again")
T.is(c:console_expect("ready", 10), "ready", "the new run's console starts afresh")
T.is(c:console_read():find("got hello", 1, true), nil, "nothing of the previous run")
T.is(c:kill(15), true, "kill(15)")
T.is(c:wait("stopped", 10), true, "stopped after SIGTERM")
T.is(c.reason, "exit 0", "the TERM trap ended it (exit 0)")
T.is(c:start(), true, "start() again")
-- (Its "ready" comes after the TERM trap is set: before it, PID 1 ignores TERM.)
T.is(c:console_expect("ready", 10), "ready", "the container is ready")
T.is(c:shutdown(5), true, "shutdown(5): graceful")
T.is(c.state, "stopped", "stopped after shutdown")
T.is(c.reason, "exit 0", "... by its own exit, not forced")
T.is(c:start(), true, "start() a third time")
local u, uerr = c:undefine()
T.is(u, nil, "undefine of a running container fails")
T.like(uerr, "running", "... saying it runs")
T.is(c:kill(), true, "kill() (SIGKILL)")
T.is(c:wait("stopped", 10), true, "stopped after SIGKILL")
T.is(c:undefine(), true, "undefine()")
T.is(c:wait("undefined", 5), true, "wait(\"undefined\")")
T.is(berth.get("lct1"), nil, "gone after undefine")
berth.sleep(0.3)
T.ok(saw("undefined:nil"), "an undefined event",
  table.concat(events, ", "))

do
  local c2 <close> = assert(berth.create { backend = "container", name = "lct2", bundle = bundle, network = "none" })
  assert(c2:start())
  T.is(c2:console_expect("ready", 10), "ready", "console of a <close> container")
  assert(c2:kill()); assert(c2:wait("stopped", 10)); assert(c2:undefine())
end
T.done()
