-- bundled-parallel-checks.lua: run by bundled-parallel.sh as
-- `berth run bundled-parallel-checks.lua MINIGUEST BUNDLE BADKERNEL`.
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
local kernel, bundle, badkernel = arg[1], arg[2], arg[3]

local items = {}
for i = 1, 4 do items[#items + 1] = { kind = "vm", name = "pvm" .. i } end
for i = 1, 4 do items[#items + 1] = { kind = "ct", name = "pct" .. i } end
items[#items + 1] = { kind = "bad", name = "pbad" }

local active, peak = 0, 0
local t0 = berth.clock()
local results, errors = berth.parallel(items, function(it, idx)
  active = active + 1
  if active > peak then peak = active end
  local inst, err
  if it.kind == "ct" then
    inst = assert(berth.create { backend = "container", name = it.name, bundle = bundle, network = "none" })
  else
    inst = assert(berth.create { backend = "kvm", name = it.name, memory_mib = 16,
      kernel = it.kind == "vm" and kernel or badkernel })
  end
  local ok
  ok, err = inst:start()
  if not ok then
    inst:undefine()
    active = active - 1
    error(it.name .. ": " .. err)
  end
  assert(inst:wait("running", 15))
  local answer
  if it.kind == "vm" then
    assert(inst:console_expect("miniguest> ", 20))
    assert(inst:console_send("info\n"))
    answer = select(2, assert(inst:console_expect("memory: (%d+) MiB", 10)))
  else
    assert(inst:console_expect("ready", 10))
    assert(inst:console_send(it.name .. "\n"))
    answer = select(2, assert(inst:console_expect("got (%w+)", 10)))
  end
  berth.sleep(1)	-- every item waits a second: the waits must overlap
  assert(inst:kill())
  assert(inst:wait("stopped", 15))
  assert(inst:undefine())
  active = active - 1
  return answer .. "@" .. idx
end, { max = 3 })
local dt = berth.clock() - t0

for i = 1, 4 do T.is(results[i], "16@" .. i, "VM " .. i .. ": its console answered (result indexed like the items)") end
for i = 5, 8 do
  T.is(results[i], "pct" .. (i - 4) .. "@" .. i, "container " .. (i - 4) .. ": its console echoed")
end
local nerr = 0
for k in pairs(errors) do nerr = nerr + 1 end
T.is(nerr, 1, "exactly one item failed")
T.like(errors[9], "pbad", "the bad kernel's error is reported at its index")
T.ok(errors[9] and errors[9]:find("HdrS") ~= nil, "... with the VMM's reason", errors[9])
T.is(results[9], nil, "... and has no result")
T.ok(peak <= 3, "at most max = 3 items ran at once", peak)
T.ok(peak >= 2, "items did run at once", peak)
-- Eight one-second sleeps in groups of three overlap: well under 8 s of
-- sleeping plus the starts.
T.ok(dt < 30, "the batch finished in reasonable time", string.format("%.1f s", dt))
print(string.format("# 9 items, max 3: %.1f s, peak %d at once", dt, peak))
local left = berth.list { name = "p*" }
T.is(#left, 0, "nothing left defined")
T.done()
