-- drain-host.lua: empty a host before maintenance.  Every running instance
-- on HOST is live-migrated to the other connection of the same backend with
-- the most free memory; instances that cannot migrate (the backend has no
-- migration, or it fails) are shut down when --shutdown is given, else
-- reported.  HOST is a host label ("node2", as in berth list) or a
-- connection's URI, which tells apart two connections to one machine.
--
--   berth run drain-host.lua HOST [--shutdown] [--dry-run]
local host = arg[1]
local want_shutdown, dry_run = false, false
for i = 2, #arg do
  if arg[i] == "--shutdown" then want_shutdown = true
  elseif arg[i] == "--dry-run" then dry_run = true
  else
    io.stderr:write("drain-host.lua: unknown option `" .. arg[i] .. "'\n")
    return 2
  end
end
if not host then
  io.stderr:write("usage: berth run drain-host.lua HOST [--shutdown] [--dry-run]\n")
  return 2
end

local function on_host(h)
  return h.host == host or (h.uri ~= nil and h.uri == host)
end

-- Destinations: every other connection, with its free memory (KiB) from
-- host_info, less what we place there as we go.
local dests = {}
for _, h in ipairs(berth.hosts()) do
  if not on_host(h) and not h.error then
    dests[#dests + 1] = {
      backend = h.backend,
      label = h.host,
      to = h.uri or h.host,
      free = h.free_memory_kib or h.memory_kib or 0,
    }
  end
end

local function pick(inst)
  local best
  for _, d in ipairs(dests) do
    if d.backend == inst.backend and d.free >= inst.memory and (not best or d.free > best.free) then
      best = d
    end
  end
  if best then best.free = best.free - inst.memory end
  return best
end

local victims = {}
for _, inst in ipairs(berth.list { state = "running" }) do
  if on_host(inst) then victims[#victims + 1] = inst end
end

local bad = 0
for _, inst in ipairs(victims) do
  local dest = pick(inst)
  local ok, err
  if dest then
    if dest.to ~= dest.label then
      print(string.format("%s: migrate to %s (%s)", inst.name, dest.label, dest.to))
    else
      print(string.format("%s: migrate to %s", inst.name, dest.label))
    end
    if not dry_run then
      ok, err = inst:migrate { to = dest.to, max_downtime = 300 }
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
if #victims == 0 then print("nothing running on " .. host) end
return bad == 0 and 0 or 1
