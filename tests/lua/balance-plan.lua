-- balance-plan.lua: the balance plugin's planner (berth.balance.plan) is a
-- pure function; fabricated hosts and instances check that it spreads
-- load, never overcommits memory or vCPUs, respects pinned instances,
-- stops when balanced and is repeatable.
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
local plan = require("berth.balance").plan
local GiB = 1024 * 1024

local hosts = {
  { name = "busy", cpus = 4, memory_kib = 16 * GiB },
  { name = "idle", cpus = 4, memory_kib = 16 * GiB },
}
local insts = {
  { name = "a", host = "busy", vcpus = 2, memory_kib = 2 * GiB, load = 1.8 },
  { name = "b", host = "busy", vcpus = 2, memory_kib = 2 * GiB, load = 1.6 },
  { name = "c", host = "busy", vcpus = 1, memory_kib = 1 * GiB, load = 0.9 },
  { name = "d", host = "busy", vcpus = 1, memory_kib = 1 * GiB, load = 0.2 },
}
local moves, after = plan(hosts, insts, { vcpu_ratio = 1.5 })
T.ok(#moves >= 1, "a busy and an idle host: at least one move", #moves)
T.is(moves[1].from, "busy", "moves go from the busy host")
T.is(moves[1].to, "idle", "... to the idle one")
T.ok(after.idle.load > 0, "the idle host's utilisation rises", after.idle.load)
T.ok(math.max(after.busy.ratio, after.idle.ratio) < 4.5 / 4, "the busiest host is less loaded after", after.busy.ratio)
T.ok(math.abs(after.busy.load - after.idle.load) <= 1.0, "load ends up within one CPU", after.busy.load .. " vs " .. after.idle.load)
for h, s in pairs(after) do
  T.ok(s.memory_kib <= 16 * GiB, "memory within RAM on " .. h)
  T.ok(s.vcpus <= 4 * 1.5, "vCPUs within the overcommit ratio on " .. h)
end
local again = plan(hosts, insts, { vcpu_ratio = 1.5 })
T.is(#again, #moves, "the plan is repeatable")
for i = 1, #moves do T.is(again[i].name, moves[i].name, "repeatable move " .. i) end

-- Memory: the idle host has no room, so nothing moves.
local small = {
  { name = "busy", cpus = 4, memory_kib = 16 * GiB },
  { name = "tiny", cpus = 8, memory_kib = 1 * GiB },
}
local m2 = plan(small, {
  { name = "big1", host = "busy", vcpus = 2, memory_kib = 4 * GiB, load = 2 },
  { name = "big2", host = "busy", vcpus = 2, memory_kib = 4 * GiB, load = 2 },
})
T.is(#m2, 0, "no move that would overcommit the destination's memory")

-- vCPUs: the destination is full of vCPUs at ratio 1.0.
local m3 = plan({
  { name = "h1", cpus = 2, memory_kib = 64 * GiB },
  { name = "h2", cpus = 2, memory_kib = 64 * GiB },
}, {
  { name = "x", host = "h1", vcpus = 2, memory_kib = GiB, load = 2 },
  { name = "y", host = "h1", vcpus = 2, memory_kib = GiB, load = 2 },
  { name = "z", host = "h2", vcpus = 2, memory_kib = GiB, load = 0 },
}, { vcpu_ratio = 1.0 })
T.is(#m3, 0, "no move that would overcommit the destination's vCPUs")
local m3b = plan({
  { name = "h1", cpus = 2, memory_kib = 64 * GiB },
  { name = "h2", cpus = 2, memory_kib = 64 * GiB },
}, {
  { name = "x", host = "h1", vcpus = 2, memory_kib = GiB, load = 2 },
  { name = "y", host = "h1", vcpus = 2, memory_kib = GiB, load = 2 },
  { name = "z", host = "h2", vcpus = 2, memory_kib = GiB, load = 0 },
}, { vcpu_ratio = 2.0 })
T.is(#m3b, 1, "with a 2.0 ratio one VM may move")

-- Pinned instances stay.
local m4 = plan(hosts, {
  { name = "p", host = "busy", vcpus = 2, memory_kib = GiB, load = 3, movable = false },
  { name = "q", host = "busy", vcpus = 1, memory_kib = GiB, load = 1 },
})
T.is(#m4, 1, "one movable instance moves")
T.is(m4[1] and m4[1].name, "q", "the pinned one stays")

-- Already balanced: nothing to do.
local m5 = plan(hosts, {
  { name = "a", host = "busy", vcpus = 1, memory_kib = GiB, load = 1 },
  { name = "b", host = "idle", vcpus = 1, memory_kib = GiB, load = 1 },
})
T.is(#m5, 0, "balanced hosts: no moves")

-- A single host, or no instances: nothing to do.
T.is(#plan({ hosts[1] }, insts), 0, "one host: no moves")
T.is(#plan(hosts, {}), 0, "no instances: no moves")

-- Different host sizes: load per CPU is what is balanced.
local m6, a6 = plan({
  { name = "big", cpus = 16, memory_kib = 64 * GiB },
  { name = "small", cpus = 2, memory_kib = 64 * GiB },
}, {
  { name = "s1", host = "small", vcpus = 1, memory_kib = GiB, load = 1 },
  { name = "s2", host = "small", vcpus = 1, memory_kib = GiB, load = 1 },
  { name = "s3", host = "small", vcpus = 1, memory_kib = GiB, load = 0.5 },
})
T.ok(#m6 >= 1 and a6.small.ratio < 1.25, "load moves from a small saturated host to a big one", a6.small.ratio)

-- max_moves bounds the plan.
local many = {}
for i = 1, 20 do many[i] = { name = "v" .. i, host = "busy", vcpus = 1, memory_kib = GiB // 4, load = 0.2 } end
T.ok(#plan(hosts, many, { max_moves = 3 }) <= 3, "max_moves bounds the plan")
T.ok(not pcall(plan, { { name = "x", cpus = 0 } }, {}), "a host without CPUs is an error")

-- The plugin's command (plugins/ is on BERTH_PLUGIN_PATH in the tests):
-- one test-driver host, so nothing to move.
T.connect_test()
local out, err = berth.cmd("balance --dry-run")
T.like(out, "^balanced", "`balance --dry-run' on one host", err)
local bad, berr, rc = berth.cmd("balance --bogus")
T.is(bad, nil, "`balance --bogus' fails")
T.like(berr, "unknown argument", "... naming the argument")
T.is(rc, 1, "... with exit 1")
T.done()
