-- start-stopped.lua: start every stopped VM on a host and wait until each
-- one runs.
--
--   berth run start-stopped.lua [HOST]      (default: every host)
--
-- Exit status: 0 when all started, 1 when any failed.
local batch = require "berth.batch"

local host = arg[1]
local stopped = berth.list { kind = "vm", state = "stopped", host = host }
if #stopped == 0 then
  print("nothing to start" .. (host and (" on " .. host) or ""))
  return 0
end
local ok, failed = batch.start_and_wait(stopped, 120)
for _, name in ipairs(ok) do print("started " .. name) end
local bad = 0
for name, err in pairs(failed) do
  io.stderr:write(string.format("%s: %s\n", name, err))
  bad = bad + 1
end
return bad == 0 and 0 or 1
