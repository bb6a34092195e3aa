-- drain-host.lua: empty a host before maintenance.  Every running instance
-- on HOST is live-migrated to the other host of the same backend with the
-- most free memory; instances that cannot migrate (the backend has no
-- migration, or it fails) are shut down when --shutdown is given, else
-- reported.
--
--   berth run drain-host.lua HOST [--shutdown] [--dry-run]
local host = arg[1]
local want_shutdown, dry_run = false, false
for i = 2, #arg do
  if arg[i] == "--shutdown" then want_shutdown = true
  elseif arg[i] == "--dry-run" then dry_run = true end
end
if not host then
  io.stderr:write("usage: berth run drain-host.lua HOST [--shutdown] [--dry-run]\n")
  return 2
end

-- Free memory per destination host (KiB), from host_info, minus what we
-- place there as we go.
local free = {}
for _, h in ipairs(berth.hosts()) do
  if h.host ~= host then
    free[h.backend .. "/" .. h.host] = h.free_memory_kib or h.memory_kib or 0
  end
end

local function pick(inst)
  local best, best_free
  for key, f in pairs(free) do
    local backend, name = key:match("^([^/]+)/(.*)$")
    if backend == inst.backend and f >= inst.memory and (not best_free or f > best_free) then
      best, best_free = name, f
    end
  end
  if best then free[inst.backend .. "/" .. best] = best_free - inst.memory end
  return best
end

local bad = 0
for _, inst in ipairs(berth.list { host = host, state = "running" }) do
  local dest = pick(inst)
  local ok, err
  if dest then
    print(string.format("%s: migrate to %s", inst.name, dest))
    if not dry_run then
      ok, err = inst:migrate { to = dest, max_downtime = 300 }
    else
      ok = true
    end
  else
    err = "no host with room for it"
  end
  if not ok then
    if want_shutdown then
      print(string.format("%s: %s; shutting down", inst.name, err))
      if not dry_run then ok, err = inst:shutdown(120) else ok = true end
    end
    if not ok then
      io.stderr:write(string.format("%s: %s\n", inst.name, err))
      bad = bad + 1
    end
  end
end
return bad == 0 and 0 or 1
