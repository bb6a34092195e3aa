-- berth.batch: batch operations over many instances, built on
-- berth.parallel (coroutines interleaved on the event loop: waits overlap,
-- backend calls run one at a time).  Each helper returns two tables: the
-- labels of those that succeeded and {label = message} for those that
-- failed; a label is the instance's name, or "host:name" (then "name on
-- URI") where names repeat among the instances given.
-- Not for: anything berth.parallel cannot do (it is not multi-threaded).
--
--   local batch = require "berth.batch"
--   local ok, failed = batch.each(berth.list{state = "stopped"}, "start")

local M = {}

-- The label of each item: its name where that is unique among the items,
-- else "host:name" (as berth.get takes it) where that is, else
-- "name on URI" (two connections to one host), else that and "#i" (the
-- same instance given twice), so two items never share a label.
local function labels(items)
  local forms = {
    function(inst) return inst.name end,
    function(inst) return tostring(inst.host) .. ":" .. inst.name end,
    function(inst) return inst.name .. " on " .. tostring(inst.uri or inst.backend) end,
  }
  local out, todo = {}, {}
  for i in ipairs(items) do todo[#todo + 1] = i end
  for _, form in ipairs(forms) do
    local count, label = {}, {}
    for _, i in ipairs(todo) do
      label[i] = form(items[i])
      count[label[i]] = (count[label[i]] or 0) + 1
    end
    local left = {}
    for _, i in ipairs(todo) do
      if count[label[i]] == 1 then out[i] = label[i] else left[#left + 1] = i end
    end
    todo = left
  end
  for _, i in ipairs(todo) do out[i] = forms[3](items[i]) .. " #" .. i end
  return out
end

local function names_and_errors(items, results, errors)
  local ok, failed = {}, {}
  local label = labels(items)
  for i in ipairs(items) do
    local r = results[i]
    if errors[i] then
      failed[label[i]] = errors[i]
    elseif type(r) == "table" and r.err then
      failed[label[i]] = r.err
    else
      ok[#ok + 1] = label[i]
    end
  end
  return ok, failed
end

--- batch.each(instances, method, ... [, {max = n}]) -> ok, failed
-- Calls inst:method(...) for every instance.  A trailing table with a
-- `max` field limits how many are in flight.
function M.each(instances, method, ...)
  local args = table.pack(...)
  local opts = {}
  if args.n > 0 and type(args[args.n]) == "table" and args[args.n].max then
    opts = args[args.n]
    args.n = args.n - 1
  end
  local results, errors = berth.parallel(instances, function(inst)
    local r, err = inst[method](inst, table.unpack(args, 1, args.n))
    if r == nil then return { err = err or "failed" } end
    return r
  end, opts)
  return names_and_errors(instances, results, errors)
end

--- batch.wait(instances, state [, timeout_s]) -> ok, failed
-- Waits until every instance is in `state` (waits overlap).
function M.wait(instances, state, timeout)
  return M.each(instances, "wait", state, timeout or 60)
end

--- batch.start_and_wait(instances [, timeout_s]) -> ok, failed
function M.start_and_wait(instances, timeout)
  local results, errors = berth.parallel(instances, function(inst)
    local ok, err = inst:start()
    if not ok then return { err = err } end
    ok, err = inst:wait("running", timeout or 60)
    if not ok then return { err = err } end
    return true
  end)
  return names_and_errors(instances, results, errors)
end

--- batch.rolling(instances, fn [, {batch = 1, stop_on_failure = true}]) -> ok, failed
-- Runs fn(inst) on `batch` instances at a time, group after group; fn
-- returns true, or nil and a message.  With stop_on_failure (the default)
-- a failed group stops the rollout and the rest are left untouched.
function M.rolling(instances, fn, opts)
  opts = opts or {}
  local size = opts.batch or 1
  local stop = opts.stop_on_failure ~= false
  local ok, failed = {}, {}
  for first = 1, #instances, size do
    local group = {}
    for i = first, math.min(first + size - 1, #instances) do group[#group + 1] = instances[i] end
    local results, errors = berth.parallel(group, function(inst)
      local r, err = fn(inst)
      if not r then return { err = err or "failed" } end
      return true
    end, { max = size })
    local gok, gfailed = names_and_errors(group, results, errors)
    for _, n in ipairs(gok) do ok[#ok + 1] = n end
    local any = false
    for n, e in pairs(gfailed) do failed[n] = e; any = true end
    if any and stop then break end
  end
  return ok, failed
end

return M
