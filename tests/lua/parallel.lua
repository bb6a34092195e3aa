-- parallel.lua: berth.parallel interleaves coroutines on the event loop:
-- waits overlap, `max` bounds how many are in flight, results and errors
-- come back by item index, and berth.batch builds on it.
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
-- Ten items that each sleep 0.4 s: interleaved they take about 0.4 s.
local t0 = berth.clock()
local started = 0
local results, errors = berth.parallel({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, function(x)
  started = started + 1
  berth.sleep(0.4)
  return x * x
end)
local elapsed = berth.clock() - t0
T.is(#results, 10, "ten results")
T.is(results[7], 49, "results come back by index")
T.is(next(errors), nil, "no errors")
T.ok(elapsed >= 0.39 and elapsed < 1.5, "ten 0.4 s sleeps overlapped (took 0.4..1.5 s)", elapsed)

-- max bounds concurrency.
local inflight, peak = 0, 0
berth.parallel({ 1, 2, 3, 4, 5, 6 }, function()
  inflight = inflight + 1
  if inflight > peak then peak = inflight end
  berth.sleep(0.05)
  inflight = inflight - 1
end, { max = 2 })
T.is(peak, 2, "{max = 2}: at most two items in flight")

-- Slots are reused: every item gets its own arguments.
local r5, e5 = berth.parallel({ 10, 20, 30, 40, 50 }, function(x, i)
  berth.sleep(0.01 * i)
  return x + i
end, { max = 2 })
T.is(next(e5), nil, "no errors when slots are reused", e5[next(e5) or 1])
T.is(r5[5], 55, "item 5 got its own item and index")

-- Errors are reported per item, the others still finish.
local r2, e2 = berth.parallel({ "a", "boom", "c" }, function(x)
  berth.sleep(0.01)
  if x == "boom" then error("item failed") end
  return x:upper()
end)
T.is(r2[1], "A", "item 1 result")
T.is(r2[3], "C", "item 3 result despite item 2's error")
T.like(e2[2], "item failed", "item 2's error, by index")
T.like(e2[2], "traceback", "... with a traceback")

-- A plain coroutine.yield inside an item is fine too.
local r3 = berth.parallel({ 1, 2 }, function(x)
  coroutine.yield()
  return x + 1
end)
T.is(r3[2], 3, "coroutine.yield inside an item")

-- Empty input.
local r4, e4 = berth.parallel({}, function() end)
T.is(#r4 + #e4, 0, "empty input gives empty results")
T.ok(not pcall(berth.parallel, { 1 }, function() end, { max = 0 }), "max = 0 raises")

-- berth.batch over libvirt's test driver.
T.connect_test()
local batch = require "berth.batch"
local vms = berth.list { name = "test" }
local ok, failed = batch.each(vms, "pause")
T.is(#ok, 1, "batch.each(..., 'pause') ok list")
T.is(next(failed), nil, "batch.each failed list empty")
ok, failed = batch.wait(vms, "paused", 5)
T.is(#ok, 1, "batch.wait")
ok, failed = batch.each(vms, "pause")
T.ok(failed.test ~= nil, "pausing a paused VM fails and is reported by name", failed.test)
ok = batch.each(vms, "resume")
T.is(#ok, 1, "batch resume")
local order = {}
local items = { { name = "a" }, { name = "b" }, { name = "c" }, { name = "d" } }
ok, failed = batch.rolling(items, function(x)
  order[#order + 1] = x.name
  if x.name == "b" then return nil, "bad b" end
  return true
end, { batch = 1 })
T.is(table.concat(order), "ab", "rolling stops at the first failure")
T.is(failed.b, "bad b", "rolling reports the failure by name")
T.is(ok[1], "a", "rolling reports what succeeded")

-- One name on two connections: neither result hides the other.
local tmp = assert(os.getenv("BERTH_TEST_TMP"), "BERTH_TEST_TMP")
local uris = {}
for _, h in ipairs { "one", "two" } do
  local path = tmp .. "/node-" .. h .. ".xml"
  local f = assert(io.open(path, "w"))
  f:write("<node><domain type='test'><name>web</name><memory>65536</memory>",
          "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n")
  f:close()
  uris[h] = "test://" .. path
  assert(berth.connect(uris[h]))
end
local webs = berth.list { name = "web" }
T.is(#webs, 2, "the same name on two connections is two instances")
ok, failed = batch.each(webs, "pause")
table.sort(ok)
T.is(#ok, 2, "both paused, both reported", table.concat(ok, ", "))
T.is(ok[1], "web on " .. uris.one, "labelled by connection where host:name repeats")
T.is(ok[2], "web on " .. uris.two, "and the other one")
ok, failed = batch.each(webs, "pause")
T.ok(failed["web on " .. uris.one] and failed["web on " .. uris.two],
     "two failures under one name are both kept")
ok, failed = batch.each({ vms[1], webs[1] }, "resume")
T.is(ok[1], "web", "distinct names keep plain labels (web was paused)")
T.ok(failed.test ~= nil, "and so does a failure (test was running)", failed.test)
T.done()
