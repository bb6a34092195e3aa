-- balance.lua: the `balance` command.  Measures every running instance's
-- CPU load, asks berth.balance.plan (a pure function) for moves that spread
-- load across the hosts of each backend without overcommitting any host
-- (memory within RAM, vCPUs within overcommit_warn % of CPUs), shows them,
-- and performs them as live migrations when confirmed.
--
--   balance [--yes] [--dry-run] [--max-moves N] [--by-vcpus]
local plan = require("berth.balance").plan
local fmt = require "berth.format"

local function run(args, ctx)
  local yes, dry, by_vcpus, max_moves = false, false, false, 10
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--yes" or a == "-y" then yes = true
    elseif a == "--dry-run" or a == "-n" then dry = true
    elseif a == "--by-vcpus" then by_vcpus = true
    elseif a == "--max-moves" then i = i + 1; max_moves = tonumber(args[i])
      if not max_moves then return nil, "--max-moves needs a number" end
    else return nil, "unknown argument `" .. a .. "' (usage: balance [--yes] [--dry-run] [--max-moves N] [--by-vcpus])" end
    i = i + 1
  end

  -- Hosts grouped by backend (migration stays within one backend), each
  -- known by its connection URI: two connections may share a host label.
  local groups, label = {}, {}
  for _, h in ipairs(berth.hosts()) do
    if h.cpus and h.cpus > 0 then
      local id = h.uri or (h.backend .. "/" .. h.host)
      groups[h.backend] = groups[h.backend] or { hosts = {}, instances = {} }
      table.insert(groups[h.backend].hosts, { name = id, cpus = h.cpus, memory_kib = h.memory_kib })
      label[id] = h.host
    end
  end
  local by_id = {}
  for _, inst in ipairs(berth.list { state = "running" }) do
    local g = groups[inst.backend]
    if g then
      local load
      if not by_vcpus then
        local st = inst:stats()
        if st then load = st.cpu_pct * inst.vcpus / 100 end
      end
      local info = inst:info() or {}
      local id = info.uri or (inst.backend .. "/" .. inst.host)
      table.insert(g.instances, { name = inst.name .. "@" .. id, host = id, vcpus = inst.vcpus,
                                  memory_kib = inst.memory, load = load or (by_vcpus and inst.vcpus or nil) })
      by_id[inst.name .. "@" .. id] = inst
    end
  end
  -- Show host labels, or URIs where labels are ambiguous.
  local seen, ambiguous = {}, false
  for _, l in pairs(label) do
    if seen[l] then ambiguous = true end
    seen[l] = true
  end
  local function show(id) return ambiguous and id or label[id] end

  local all = {}
  for backend, g in pairs(groups) do
    if #g.hosts >= 2 then
      local moves = plan(g.hosts, g.instances,
                         { vcpu_ratio = berth.option("overcommit_warn") / 100, max_moves = max_moves })
      for _, m in ipairs(moves) do
        local inst = by_id[m.name]
        all[#all + 1] = { inst = inst, name = inst.name, backend = backend, from = show(m.from),
                          to = show(m.to), to_id = m.to, cpus = string.format("%.2f", m.load) }
      end
    end
  end
  if #all == 0 then
    ctx.print("balanced: no move would spread load without overcommitting a host")
    return 0
  end
  ctx.print(fmt.table(all, { "name", "backend", "from", "to", "cpus" }))
  if dry then return 0 end
  if not yes and not berth.confirm(string.format("perform %d move(s)?", #all)) then
    ctx.print("nothing moved")
    return 0
  end
  local failed = 0
  for _, m in ipairs(all) do
    local ok, err = m.inst:migrate { to = m.to_id }
    if ok then
      ctx.print(string.format("moved %s to %s", m.name, m.to))
    else
      ctx.print(string.format("%s: %s", m.name, err))
      failed = failed + 1
    end
  end
  return failed == 0 and 0 or 1
end

berth.command {
  name = "balance",
  summary = "propose (and on confirmation perform) moves that spread load across hosts",
  usage = "[--yes] [--dry-run] [--max-moves N] [--by-vcpus]",
  run = run,
}
