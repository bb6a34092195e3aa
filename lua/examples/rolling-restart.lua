-- rolling-restart.lua: restart instances one at a time (or N at a time),
-- each time waiting until the console shows a health line before moving on.
-- Stops at the first instance that does not come back.
--
--   berth run rolling-restart.lua GLOB [PATTERN [BATCH [TIMEOUT [CHECK]]]]
--
-- GLOB selects running instances ("web*"); PATTERN is a Lua pattern the
-- console must show after boot (default "login:"); BATCH how many restart
-- together (default 1); TIMEOUT how many seconds a graceful shutdown may
-- take before the instance is forced off (default 60); CHECK how many
-- seconds the console may take to show PATTERN (default 300).
local batch = require "berth.batch"

local glob, pattern, size = arg[1], arg[2] or "login:", tonumber(arg[3] or "1")
local grace = math.tointeger(tonumber(arg[4] or "60"))
local check = tonumber(arg[5] or "300")
if not glob or not size or size < 1 or not grace or grace < 0 or not check or check < 0 then
  io.stderr:write("usage: berth run rolling-restart.lua GLOB [PATTERN [BATCH [TIMEOUT [CHECK]]]]\n")
  return 2
end
local targets = berth.list { name = glob, state = "running" }
table.sort(targets, function(a, b) return a.name < b.name end)
print(string.format("restarting %d instance(s), %d at a time", #targets, size))

local function restart(inst)
  local ok, err = inst:shutdown(grace)
  if not ok then return nil, err end
  ok, err = inst:wait("stopped", 90)
  if not ok then return nil, err end
  ok, err = inst:start()
  if not ok then return nil, err end
  -- The health check: the console must show `pattern` in time.
  local line
  line, err = inst:console_expect(pattern, check)
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
