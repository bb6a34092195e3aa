-- kvm-checks.lua: run by kvm.sh as `berth run kvm-checks.lua MINIGUEST`.
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
local kernel = assert(arg[1], "usage: kvm-checks.lua MINIGUEST")

local events = {}
berth.on("state", function(ev)
  if ev.instance == "lvm1" then events[#events + 1] = ev.state .. ":" .. tostring(ev.detail) end
end)
local function saw(state)
  for _, e in ipairs(events) do if e:match("^" .. state .. ":") then return true end end
  return false
end

local vm, err = berth.create { backend = "kvm", name = "lvm1", kernel = kernel, memory_mib = 48,
  vcpus = 2, cmdline = "console=ttyS0" }
T.ok(vm ~= nil, "berth.create{backend = \"kvm\"}", err)
if not vm then T.done() end
T.is(vm.kind, "vm", "kind")
T.is(vm.backend, "kvm", "backend")
T.is(vm.state, "stopped", "a defined VM is stopped")
T.is(vm.memory, 48 * 1024, "memory (KiB) from memory_mib")
T.is(berth.get("kvm:lvm1"), vm, "berth.get(\"kvm:lvm1\") is the same instance")
local bad, berr = berth.create { backend = "kvm", name = "nokernel", memory_mib = 16 }
T.is(bad, nil, "create without a kernel fails")
T.like(berr, "kernel", "... naming the kernel")

local kh
for _, h in ipairs(berth.hosts()) do if h.backend == "kvm" then kh = h end end
T.ok(kh and kh.free_memory_kib and kh.free_memory_kib > 0 and kh.free_memory_kib <= kh.memory_kib,
  "berth.hosts(): the kvm host's free_memory_kib, as documented", kh and kh.free_memory_kib)

T.is(vm:start(), true, "start()")
T.is(vm:wait("running", 10), true, "wait(\"running\")")
T.is(vm.state, "running", "state after start")
local m = vm:console_expect("miniguest> ", 15)
T.is(m, "miniguest> ", "console_expect the prompt")
T.is(vm:console_send("info\n"), true, "console_send(\"info\\n\")")
local line, mib = vm:console_expect("memory: (%d+) MiB", 10)
T.is(line, "memory: 48 MiB", "console_expect returns the match")
T.is(mib, "48", "... and the capture")
T.ok(vm:console_expect("miniguest> ", 10), "the prompt again after info")

-- CPU: the first stats() samples twice; then burn 2 s on one vCPU.
local st0 = vm:stats()
T.ok(st0 and st0.cpu_time_ns > 0, "stats() cpu_time_ns", st0 and st0.cpu_time_ns)
T.is(st0 and st0.mem_total_kib, 48 * 1024, "stats() mem_total_kib")
vm:console_send("burn 2\n")
local _, secs = vm:console_expect("burned (%d+) s", 15)
T.is(secs, "2", "burn 2 finished")
local st = vm:stats()
-- (Bounds leave room for a loaded host: an idle miniguest uses < 1 %.)
T.ok(st and st.cpu_time_ns - st0.cpu_time_ns >= 0.6e9, "stats(): cpu_time_ns grew by the burn",
  st and (st.cpu_time_ns - st0.cpu_time_ns))
-- 2 vCPUs, one busy: about 50 % of the instance's vCPUs.
T.ok(st and st.cpu_pct > 15 and st.cpu_pct <= 100, "stats(): cpu_pct over the burn", st and st.cpu_pct)
local h, step = vm:history("cpu", 30)
T.is(step, 1, "history step")
local peak = 0
for _, v in ipairs(h) do if v == v and v > peak then peak = v end end
T.ok(peak > 15, "history(\"cpu\") shows the burn", table.concat(h, " "))
local bst = berth.stats { vm, berth.get("lvm1"), vm }
T.ok(type(bst[1]) == "table" and bst[1].cpu_time_ns >= st.cpu_time_ns, "berth.stats{vm, ...}")
T.ok(type(bst[2]) == "table" and type(bst[3]) == "table" and bst[3].cpu_time_ns == bst[1].cpu_time_ns,
  "berth.stats: an instance listed three times gets one sample in every entry",
  tostring(bst[2]) .. " " .. tostring(bst[3]))

-- pause/resume, seen through berth.on.
T.is(vm:pause(), true, "pause()")
T.is(vm.state, "paused", "state after pause")
T.is(vm:wait("paused", 5), true, "wait(\"paused\")")
berth.sleep(0.5)
T.ok(saw("paused"), "a paused event through berth.on", table.concat(events, ", "))
T.is(vm:resume(), true, "resume()")
berth.sleep(0.5)
T.ok(saw("running"), "a running event after resume", table.concat(events, ", "))
T.ok(vm:console_send("info\n") and vm:console_expect("uptime: [%d.]+ s", 10), "the console works after resume")
-- Two objects of the same VM: each one's input reaches the guest
-- (berth-vmm gives the input to one connection; they share it).
do
  local other <close> = assert(berth.get("lvm1"))
  T.ok(vm:console_expect("miniguest> ", 5), "the prompt before a second object")
  T.is(other:console_send("info\n"), true, "console_send from a second object")
  T.ok(other:console_expect("uptime: [%d.]+ s", 5), "... reaches the guest",
    other:console_read())
  local p, perr = other:console_expect("miniguest> ", 5)
  T.ok(p, "... and its prompt comes back to it", perr)
  T.is(vm:console_send("info\n"), true, "console_send from the first object again")
  T.ok(vm:console_expect("uptime: [%d.]+ s", 5), "... reaches the guest too", vm:console_read())
end
collectgarbage()
T.ok(vm:console_send("info\n") and vm:console_expect("uptime: [%d.]+ s", 5),
  "the console works after the second object is closed")
local info = vm:info()
T.is(info and info.vcpus, 2, "info().vcpus")
T.like(info and info.boot, "bzImage", "info().boot")

-- shutdown: the miniguest takes Ctrl-Alt-Del and resets, well before the
-- timeout (it would be forced off at 30 s).
local t0 = berth.clock()
T.is(vm:shutdown(30), true, "shutdown(30)")
T.is(vm.state, "stopped", "state after shutdown")
T.ok(berth.clock() - t0 < 20, "the guest shut down by itself, before the timeout", berth.clock() - t0)

-- Start again right after the shutdown (the old console's end not yet
-- seen): the console starts afresh (the previous run's prompt must not
-- match, the input must reach the new run), and the guest's halt stops it.
T.is(vm:start(), true, "start() again")
local fresh, ferr = vm:console_expect("miniguest ready.-miniguest> ", 15)
T.ok(fresh, "the first prompt expected is the new run's, after its banner", ferr)
vm:console_send("halt\n")
T.ok(vm:console_expect("halting", 10), "halt acknowledged")
T.is(vm:wait("stopped", 10), true, "the guest's halt stops the VM")
local _, cerr = vm:console_expect("never", 2)
-- (Depending on whether the loop saw the console close before the VM was
-- seen stopped, the console is closed or cannot be opened again.)
T.ok(cerr and (cerr:find("closed before", 1, true) or cerr:find("not running", 1, true)),
  "console_expect on a halted guest: nil and why", cerr)

-- kill (SIGKILL: off at once), exec is not for VMs.
T.is(vm:start(), true, "start() a third time")
T.is(vm:kill(), true, "kill()")
T.is(vm:wait("stopped", 10), true, "stopped after kill")
T.is(vm:console_send("x"), nil, "console_send to a stopped VM fails")
local r, xerr = vm:exec("true")
T.is(r, nil, "exec on a VM")
T.is(xerr, "exec: not supported by backend kvm", "... is not supported")

-- undefine, then <close>.
T.is(vm:undefine(), true, "undefine()")
T.is(vm:wait("undefined", 5), true, "wait(\"undefined\")")
local gone, gerr = berth.get("lvm1")
T.is(gone, nil, "berth.get after undefine")
T.like(gerr, "no instance", "... says no instance")

-- Through the command table: berth.cmd define/start/list/destroy/undefine.
local path = os.getenv("BERTH_TEST_TMP") .. "/lvm3.json"
local f = assert(io.open(path, "w"))
f:write(berth.json.encode { name = "lvm3", kernel = kernel, memory_mib = 16 })
f:close()
local out, code = berth.cmd { "define", path }
T.is(code, 0, "berth.cmd{\"define\", FILE}: exit 0", out)
local v3 = berth.get("lvm3")
T.ok(v3 ~= nil and v3.backend == "kvm" and v3.state == "stopped", "the defined VM is found, stopped", tostring(v3))
out, code = berth.cmd("start lvm3")
T.is(code, 0, "berth.cmd(\"start lvm3\")", out)
T.ok(v3 and v3:console_expect("miniguest> ", 15), "console of a VM started through berth.cmd")
out = berth.cmd("list --json")
local listed
for _, i in ipairs(out and berth.json.decode(out) or {}) do if i.name == "lvm3" then listed = i end end
T.is(listed and listed.state, "running", "berth.cmd(\"list --json\") shows it running")
local nout, nerr, ncode = berth.cmd("start no-such-vm")
T.is(nout, nil, "berth.cmd of a failing command returns nil")
T.is(ncode, 3, "... and exit code 3 for no such instance", nerr)
T.is(select(2, berth.cmd("destroy lvm3")), 0, "berth.cmd(\"destroy lvm3\")")
T.is(select(2, berth.cmd("undefine lvm3")), 0, "berth.cmd(\"undefine lvm3\")")
T.is(berth.get("lvm3"), nil, "gone after berth.cmd undefine")
if v3 then v3:close() end

-- <close>: a scoped VM is freed (and its console closed) at the end of the block.
local held
do
  local v2 <close> = assert(berth.create { backend = "kvm", name = "lvm2", kernel = kernel, memory_mib = 16 })
  held = v2
  assert(v2:start())
  T.ok(v2:console_expect("miniguest> ", 15), "console of a <close> VM")
  assert(v2:destroy())
  assert(v2:undefine())
end
T.ok(not pcall(function() return held.name end), "a closed instance raises on use")
T.ok(select(2, pcall(function() return held:start() end)):find("closed") ~= nil,
  "... saying it is closed")
T.done()
