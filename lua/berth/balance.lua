-- berth.balance: the planner of the balance plugin, a pure function (no
-- berth calls, no I/O) so that it can be tested with fabricated hosts.
--
-- Goal: spread load so that idle hosts take work from busy ones (raising
-- their utilisation) while no host is ever overcommitted: after every move
-- the destination's memory stays within its RAM and its vCPUs within
-- `vcpu_ratio` x its CPUs.  A move is proposed only when it lowers the
-- higher load of the two hosts involved, so the plan always terminates and
-- never ping-pongs.  Not for: carrying out moves (plugins/balance.lua).

local M = {}

--- balance.plan(hosts, instances [, opts]) -> moves, after
-- hosts:     array of {name = "node1", cpus = 8, memory_kib = 16777216}
-- instances: array of {name, host, vcpus, memory_kib, load, movable}
--            load: CPUs busy (e.g. 1.5); nil means vcpus (a pessimistic guess);
--            movable = false pins an instance.
-- opts:      {vcpu_ratio = 1.5 (overcommit_warn / 100), max_moves = 10,
--             min_gain = 0.05 (least improvement in load/CPU worth a move)}
-- Returns moves: array of {name, from, to, load}, in order, and after:
-- {[host] = {load, vcpus, memory_kib, ratio}} once the moves are done.
function M.plan(hosts, instances, opts)
  opts = opts or {}
  local vcpu_ratio = opts.vcpu_ratio or 1.5
  local max_moves = opts.max_moves or 10
  local min_gain = opts.min_gain or 0.05

  local state, names = {}, {}
  for _, h in ipairs(hosts) do
    assert(type(h.name) == "string", "host without a name")
    assert((h.cpus or 0) > 0, "host " .. h.name .. " has no CPUs")
    state[h.name] = { cpus = h.cpus, mem_cap = h.memory_kib or math.huge,
                      load = 0, vcpus = 0, memory_kib = 0, members = {} }
    names[#names + 1] = h.name
  end
  table.sort(names)
  local placed = {}
  for _, inst in ipairs(instances) do
    local h = state[inst.host]
    if h then
      local e = { name = inst.name, host = inst.host, vcpus = inst.vcpus or 1,
                  memory_kib = inst.memory_kib or 0,
                  load = inst.load or inst.vcpus or 1,
                  movable = inst.movable ~= false }
      h.load = h.load + e.load
      h.vcpus = h.vcpus + e.vcpus
      h.memory_kib = h.memory_kib + e.memory_kib
      h.members[#h.members + 1] = e
      placed[#placed + 1] = e
    end
  end

  local function ratio(h) return h.load / h.cpus end
  local function fits(e, h)
    return h.memory_kib + e.memory_kib <= h.mem_cap
       and h.vcpus + e.vcpus <= h.cpus * vcpu_ratio
  end

  local moves = {}
  while #moves < max_moves do
    -- Hosts from the busiest down, ties by name so plans are repeatable.
    local order = {}
    for _, n in ipairs(names) do order[#order + 1] = n end
    table.sort(order, function(a, b)
      local ra, rb = ratio(state[a]), ratio(state[b])
      if ra ~= rb then return ra > rb end
      return a < b
    end)
    local best
    for si = 1, #order - 1 do
      local src = state[order[si]]
      for di = #order, si + 1, -1 do
        local dst = state[order[di]]
        local before = math.max(ratio(src), ratio(dst))
        for _, e in ipairs(src.members) do
          if e.movable and fits(e, dst) then
            local after = math.max((src.load - e.load) / src.cpus,
                                   (dst.load + e.load) / dst.cpus)
            local gain = before - after
            if gain >= min_gain and (not best or gain > best.gain or
                (gain == best.gain and e.name < best.e.name)) then
              best = { e = e, from = order[si], to = order[di], gain = gain }
            end
          end
        end
      end
      if best then break end
    end
    if not best then break end
    local e, src, dst = best.e, state[best.from], state[best.to]
    for i, m in ipairs(src.members) do
      if m == e then table.remove(src.members, i) break end
    end
    src.load, src.vcpus, src.memory_kib = src.load - e.load, src.vcpus - e.vcpus, src.memory_kib - e.memory_kib
    dst.load, dst.vcpus, dst.memory_kib = dst.load + e.load, dst.vcpus + e.vcpus, dst.memory_kib + e.memory_kib
    dst.members[#dst.members + 1] = e
    e.host = best.to
    moves[#moves + 1] = { name = e.name, from = best.from, to = best.to, load = e.load }
  end

  local after = {}
  for _, n in ipairs(names) do
    local h = state[n]
    after[n] = { load = h.load, vcpus = h.vcpus, memory_kib = h.memory_kib, ratio = ratio(h) }
  end
  return moves, after
end

return M
