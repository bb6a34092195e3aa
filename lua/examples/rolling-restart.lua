-- rolling-restart.lua: restart instances one at a time (or N at a time),
-- each time waiting until the console shows a health line before moving on.
-- Stops at the first instance that does not come back.
--
--   berth run rolling-restart.lua GLOB [PATTERN [BATCH]]
--
-- GLOB selects running instances ("web*"); PATTERN is a Lua pattern the
-- console must show after boot (default "login:"); BATCH how many restart
-- together (default 1).
local batch = require "berth.batch"

local glob, pattern, size = arg[1], arg[2] or "login:", tonumber(arg[3] or "1")
if not glob then
  io.stderr:write("usage: berth run rolling-restart.lua GLOB [PATTERN [BATCH]]\n")
  return 2
end
local targets = berth.list { name = glob, state = "running" }
table.sort(targets, function(a, b) return a.name < b.name end)
print(string.format("restarting %d instance(s), %d at a time", #targets, size))

local function restart(inst)
  local ok, err = inst:shutdown(60)
  if not ok then return nil, err end
  ok, err = inst:wait("stopped", 90)
  if not ok then return nil, err end
  ok, err = inst:start()
  if not ok then return nil, err end
  -- The health check: the console must show `pattern` within 5 minutes.
  local line
  line, err = inst:console_expect(pattern, 300)
  if not line then return nil, "health check: " .. err end
  print(inst.name .. " is back")
  return true
end

local ok, failed = batch.rolling(targets, restart, { batch = size })
for name, err in pairs(failed) do
  io.stderr:write(string.format("%s: %s (rollout stopped)\n", name, err))
  return 1
end
print(string.format("done: %d restarted", #ok))
return 0
