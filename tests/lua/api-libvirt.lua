-- api-libvirt.lua: the berth Lua API against libvirt's test driver: list
-- with filters, get, fields, __tostring/__close, lifecycle methods, wait,
-- info, stats, history, create from XML, undefine, events while sleeping,
-- berth.cmd, notsup answers, expected failures as nil + message.
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
T.connect_test()

local all = berth.list()
T.ok(#all >= 1, "berth.list() finds the test driver's domain", #all)
local vm = berth.get("test")
T.ok(vm ~= nil, "berth.get('test')")
T.is(vm.name, "test", "inst.name")
T.is(vm.kind, "vm", "inst.kind")
T.is(vm.backend, "libvirt", "inst.backend")
T.is(vm.host, "localhost", "inst.host")
T.is(vm.uri, "test:///default", "inst.uri is its connection's URI")
T.is(vm.state, "running", "inst.state")
T.is(vm.created, 0, "a domain berth did not define has no created time")
T.is(vm.started, 0, "a domain running before berth saw it, not from a local QEMU, has no start time")
T.is(math.type(vm.vcpus), "integer", "inst.vcpus is an integer")
T.ok(vm.memory > 0, "inst.memory in KiB", vm.memory)
T.like(vm.uuid, "^%x+%-%x+%-", "inst.uuid")
T.like(tostring(vm), "^berth.instance test %(vm, running, libvirt on localhost%)$", "__tostring")
T.is(getmetatable(vm), "berth.instance", "metatable is protected")

T.is(#berth.list { name = "te*" }, 1, "list{name = glob}")
T.is(#berth.list { name = "nomatch*" }, 0, "list{name = glob} without match")
T.is(#berth.list { state = "paused" }, 0, "list{state = 'paused'}")
T.is(#berth.list { kind = "vm", backend = "libvirt", host = "localhost" }, 1, "list{kind, backend, host}")
T.is(#berth.list { uri = "test:///default" }, 1, "list{uri}")
T.is(#berth.list { uri = "test:///elsewhere" }, 0, "list{uri} of another connection")
T.ok(not pcall(berth.list, { uri = 7 }), "list{uri = 7} raises")
T.ok(not pcall(berth.list, { kind = "bogus" }), "list{kind = 'bogus'} raises")
local lok, lerr = pcall(berth.list, { state = "bogus" })
T.ok(not lok, "list{state = 'bogus'} raises, as kind does")
T.like(lerr, "unknown state `bogus'", "... naming it")
T.is(#berth.list { state = "running" }, 1, "list{state = 'running'}")
T.is(#berth.list { state = "shutoff" }, #berth.list { state = "stopped" }, "list{state = 'shutoff'} is 'stopped'")

local none, err = berth.get("no-such-vm")
T.is(none, nil, "get of an unknown name returns nil")
T.like(err, "no%-such%-vm", "... and a message naming it")

-- Lifecycle and wait.
T.is(vm:pause(), true, "pause()")
T.is(vm.state, "paused", "state after pause")
T.is(vm:wait("paused", 5), true, "wait('paused')")
T.is(vm:resume(), true, "resume()")
T.is(vm:wait("running", 5), true, "wait('running')")
local ok, werr = vm:wait("paused", 0.3)
T.is(ok, nil, "wait times out")
T.like(werr, "timeout", "... with a timeout message")
T.ok(not pcall(vm.wait, vm, "sideways"), "wait with an unknown state raises")

-- Events are delivered while the script sleeps.
local seen = {}
local id = berth.on("state", function(ev) seen[#seen + 1] = ev.instance .. "=" .. ev.state end)
vm:pause()
vm:resume()
berth.sleep(0.3)
T.ok(#seen >= 2, "berth.on('state') handlers ran during berth.sleep", table.concat(seen, " "))
T.is(seen[1], "test=paused", "first event is the pause")
T.is(berth.off(id), true, "berth.off removes the handler")
local hok, herr = pcall(berth.on, "stat", function() end)
T.ok(not hok, "berth.on with an unknown event type raises")
T.like(herr, "invalid option 'stat'", "... naming it")
T.ok(not pcall(berth.on, "state", "not a function"), "berth.on without a function raises")

-- inst:refresh() reads the state another program changed.
do
  local other = berth.get("test")
  T.is(other:pause(), true, "another handle pauses the domain")
  T.is(vm:refresh(), true, "inst:refresh()")
  T.is(vm.state, "paused", "refresh() sees the state changed through the other handle")
  other:resume()
  vm:refresh()
  T.is(vm.state, "running", "... and again after resume")
end

-- info, stats, history.
local info = vm:info()
T.is(info.name, "test", "info().name")
T.is(info.backend, "libvirt", "info().backend")
local st = vm:stats()
T.ok(st ~= nil, "stats() of a running VM")
T.ok(st and math.type(st.cpu_time_ns) == "integer" and st.cpu_time_ns >= 0, "stats().cpu_time_ns counter", st and st.cpu_time_ns)
T.ok(st and type(st.cpu_pct) == "number", "stats().cpu_pct rate")
local batch = berth.stats({ vm, vm })
T.is(#batch, 2, "berth.stats(list) returns one entry per instance")
T.ok(type(batch[1]) == "table" and batch[1].mem_used_kib ~= nil, "berth.stats entries are stats tables")
local hist, step = vm:history("mem", 60)
T.is(type(hist), "table", "history() returns values")
T.is(step, 1, "history() step for a 60 s span")
T.ok(not pcall(vm.history, vm, "bogus"), "history of an unknown metric raises")

-- Not supported by this backend: nil + message.
local r, nerr = vm:exec("true")
T.is(r, nil, "exec on libvirt returns nil")
T.is(nerr, "exec: not supported by backend libvirt", "... saying it is not supported")

-- Create from XML, then lifecycle, then undefine (with its events).
local life = {}
local lid = berth.on("*", function(ev)
  if ev.instance == "luatest1" and ev.type ~= "state" then life[#life + 1] = ev.type end
end)
local xml = [[<domain type='test'><name>luatest1</name><memory>65536</memory>
<vcpu>1</vcpu><os><type>hvm</type></os></domain>]]
local t0 = os.time()
local nv, cerr = berth.create { backend = "libvirt", xml = xml }
T.ok(nv ~= nil, "berth.create{xml = ...}", cerr)
if nv then
  T.is(nv.state, "stopped", "created domain is stopped")
  T.ok(nv.created >= t0 and nv.created <= os.time(), "inst.created is when berth defined it", nv.created)
  T.is(nv.started, 0, "a stopped domain has no start time")
  T.is(nv:start(), true, "start() the new domain")
  T.is(nv.state, "running", "state after start")
  T.ok(nv.started >= t0 and nv.started <= os.time(), "inst.started is when berth started it", nv.started)
  local again = berth.get("luatest1")
  T.is(again and again.created, nv.created, "created is read back from the domain's metadata")
  T.is(again and again.started, nv.started, "started is kept by the connection")
  T.like(berth.cmd("info luatest1"), "created: +%d%d%d%d%-", "info shows the created time")
  -- Redefining keeps the time it was first created.
  local xml2 = xml:gsub("<vcpu>1", "<uuid>" .. nv.uuid .. "</uuid><vcpu>2")
  local nv2, rerr = berth.create { backend = "libvirt", xml = xml2 }
  T.ok(nv2 ~= nil, "redefine the domain with its UUID", rerr)
  T.is(nv2 and nv2.created, nv.created, "redefining a domain keeps its created time")
  T.is(nv:destroy(), true, "destroy()")
  T.is(nv.state, "stopped", "state after destroy")
  T.is(nv.started, 0, "a destroyed domain has no start time")
  T.is(nv:undefine(), true, "undefine()")
  T.is(berth.get("luatest1"), nil, "undefined domain is gone")
  berth.sleep(0.3)
  T.is(table.concat(life, ","):match("defined.*undefined$"), table.concat(life, ","),
    "libvirt's define and undefine arrive as the events every backend sends", table.concat(life, ","))
  nv:close()
  T.ok(not pcall(function() return nv.name end), "a closed instance raises")
end
do
  local scoped <close> = berth.get("test")
  T.is(scoped.name, "test", "instances work as to-be-closed variables")
end

local bad, berr = berth.create { backend = "nosuch", name = "x" }
T.is(bad, nil, "create on an unknown backend returns nil")
T.like(berr, "nosuch", "... naming the backend")

-- The command table.
local out, rc = berth.cmd("list --json")
T.is(rc, 0, "berth.cmd('list --json') exit code")
local decoded = berth.json.decode(out)
T.is(decoded and decoded[1] and decoded[1].name, "test", "berth.cmd output is the command's JSON")
local nout, nmsg, nrc = berth.cmd { "nosuch" }
T.is(nout, nil, "unknown command returns nil")
T.like(nmsg, "unknown command", "... with the dispatcher's message")
T.is(nrc, 2, "... and the usage exit code")

-- Hosts.
local lv
for _, h in ipairs(berth.hosts()) do
  if h.backend == "libvirt" then lv = h end
end
T.ok(lv ~= nil, "berth.hosts() lists the libvirt connection")
T.ok(lv and lv.cpus and lv.cpus > 0, "host has cpus", lv and lv.cpus)
T.is(lv and lv.uri, "test:///default", "host has its uri")

-- JSON round trip.
local j = berth.json.encode { a = 1, b = { 1, 2, 3 }, c = "x" }
local back = berth.json.decode(j)
T.is(back.b[3], 3, "json encode/decode round trip")
local jn, jerr = berth.json.decode("{bad")
T.is(jn, nil, "json.decode of garbage returns nil")
T.like(jerr, "invalid JSON", "... with a message")
T.ok(berth.json.encode(setmetatable({}, {})) == "{}", "empty table encodes as {}")
local cyc = {}; cyc.self = cyc
T.is(select(1, berth.json.encode(cyc)), nil, "a cycle is refused, not a crash")

-- Snapshots (the test driver keeps them): one is taken, a second of the
-- same name is refused, so the first really exists.
do
  local sv = berth.get("test")
  local r, serr = sv:snapshot("lua-snap-1")
  T.is(r, true, "inst:snapshot(name) takes a snapshot", serr)
  local r2, serr2 = sv:snapshot("lua-snap-1")
  T.is(r2, nil, "a second snapshot of the same name is refused")
  T.like(serr2, "lua%-snap%-1", "... with a message naming it")
  T.ok(not pcall(sv.snapshot, sv), "inst:snapshot() without a name raises")
end

-- Options.
T.is(berth.option("stats_interval"), 1, "option default")
berth.set("stats_interval", 5)
T.is(berth.option("stats_interval"), 5, "berth.set takes effect")
T.ok(not pcall(berth.set, "stats_interval", 0), "out-of-range value raises")
local _, serr = pcall(berth.set, "stats_intervall", 2)
T.like(serr, "did you mean `stats_interval'", "unknown option suggests the right one")
local opts = berth.options()
local by = {}
for _, o in ipairs(opts) do by[o.name] = o end
T.ok(#opts >= 10 and by.stats_interval and by.columns, "berth.options() lists every option", #opts)
T.is(by.stats_interval.value, 5, "berth.options() gives current values")
T.is(by.stats_interval.default, "1", "... and defaults as text")
T.is(by.stats_interval.type, "int", "... and types")
T.like(by.columns.help, "dashboard columns", "... and help")

T.done()
