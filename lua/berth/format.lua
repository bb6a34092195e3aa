-- berth.format: text output for scripts - aligned tables (UTF-8 aware) and
-- human-readable sizes, rates and durations, as `berth list` prints them.
-- Not for: JSON (berth.json) or debugging dumps (berth.inspect).
--
--   local fmt = require "berth.format"
--   print(fmt.table({{name = "web1", mem = fmt.bytes(2^31)}}, {"name", "mem"}))

local M = {}

local function width(s)
  return utf8.len(s) or #s
end

--- format.table(rows, columns [, {headers = {...}, right = {col = true}}]) -> string
-- rows: array of tables (or instances) indexed by the column names.
function M.table(rows, columns, opts)
  opts = opts or {}
  local headers = opts.headers or {}
  local right = opts.right or {}
  local cells, widths = {}, {}
  for c, name in ipairs(columns) do
    local h = headers[c] or string.upper(name)
    widths[c] = width(h)
    headers[c] = h
  end
  for r, row in ipairs(rows) do
    cells[r] = {}
    for c, name in ipairs(columns) do
      local v = row[name]
      local s = v == nil and "-" or tostring(v)
      cells[r][c] = s
      if width(s) > widths[c] then widths[c] = width(s) end
    end
  end
  local function line(values)
    local parts = {}
    for c, s in ipairs(values) do
      local pad = string.rep(" ", widths[c] - width(s))
      if right[columns[c]] then
        parts[c] = pad .. s
      elseif c == #values then
        parts[c] = s
      else
        parts[c] = s .. pad
      end
    end
    return table.concat(parts, "  ")
  end
  local out = { line(headers) }
  for r = 1, #cells do out[#out + 1] = line(cells[r]) end
  return table.concat(out, "\n")
end

--- format.bytes(n) -> "1.5G": n in bytes, powers of 1024.
function M.bytes(n)
  if n == nil or n ~= n then return "-" end
  local units = { "", "K", "M", "G", "T", "P" }
  local i = 1
  while math.abs(n) >= 1024 and i < #units do
    n = n / 1024
    i = i + 1
  end
  if i == 1 then return string.format("%d", math.floor(n)) end
  if math.abs(n) >= 10 then return string.format("%.0f%s", n, units[i]) end
  return string.format("%.1f%s", n, units[i])
end

--- format.rate(bytes_per_second) -> "12K/s"
function M.rate(n)
  return M.bytes(n) .. "/s"
end

--- format.percent(x) -> "42.0%"
function M.percent(x)
  if x == nil or x ~= x then return "-" end
  return string.format("%.1f%%", x)
end

--- format.duration(seconds) -> "3d4h", "2h05m", "4m10s", "12s"
function M.duration(s)
  if s == nil or s < 0 then return "-" end
  s = math.floor(s)
  if s >= 86400 then return string.format("%dd%dh", s // 86400, (s % 86400) // 3600) end
  if s >= 3600 then return string.format("%dh%02dm", s // 3600, (s % 3600) // 60) end
  if s >= 60 then return string.format("%dm%02ds", s // 60, s % 60) end
  return string.format("%ds", s)
end

return M
