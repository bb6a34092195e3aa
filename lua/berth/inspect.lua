-- berth.inspect: a readable, stable rendering of any Lua value, for the
-- shell's `=expr` and for debugging scripts.  Keys are sorted, cycles are
-- shown as <cycle>, depth is bounded.  Not for: serialisation (berth.json).
--
--   local inspect = require "berth.inspect"
--   print(inspect({1, 2, x = {y = true}}))   --> {1, 2, x = {y = true}}

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function sort_keys(a, b)
  local ta, tb = type(a), type(b)
  if ta == tb and (ta == "number" or ta == "string") then return a < b end
  if ta == "number" then return true end
  if tb == "number" then return false end
  return tostring(a) < tostring(b)
end

local function render(v, depth, seen, opts, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = string.format("%q", v)
  elseif t ~= "table" then
    out[#out + 1] = tostring(v)
  elseif seen[v] then
    out[#out + 1] = "<cycle>"
  elseif depth > opts.depth then
    out[#out + 1] = "{...}"
  else
    seen[v] = true
    local n = #v
    local parts = {}
    for i = 1, n do
      local sub = {}
      render(v[i], depth + 1, seen, opts, sub)
      parts[#parts + 1] = table.concat(sub)
    end
    local keys = {}
    for k in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, sort_keys)
    for _, k in ipairs(keys) do
      local sub = {}
      if is_identifier(k) then
        sub[1] = k .. " = "
      else
        local ks = {}
        render(k, depth + 1, seen, opts, ks)
        sub[1] = "[" .. table.concat(ks) .. "] = "
      end
      render(v[k], depth + 1, seen, opts, sub)
      parts[#parts + 1] = table.concat(sub)
    end
    seen[v] = nil
    local flat = "{" .. table.concat(parts, ", ") .. "}"
    if #flat <= opts.width or #parts == 0 then
      out[#out + 1] = flat
    else
      local pad = string.rep("  ", depth)
      out[#out + 1] = "{\n" .. pad .. "  " .. table.concat(parts, ",\n" .. pad .. "  ") .. "\n" .. pad .. "}"
    end
  end
end

--- inspect(value [, {depth = 8, width = 78}]) -> string
local function inspect(v, opts)
  opts = opts or {}
  opts.depth = opts.depth or 8
  opts.width = opts.width or 78
  local out = {}
  render(v, 0, {}, opts, out)
  return table.concat(out)
end

return inspect
