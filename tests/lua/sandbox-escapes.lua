-- sandbox-escapes.lua: run by sandbox.sh with `berth run --sandbox`.  Every
-- way out of the sandbox must be refused; what remains must still work.
-- Self-contained: the sandbox ignores package.path.
local n, failed = 0, 0
local function ok(cond, what, detail)
  n = n + 1
  if cond then
    print(string.format("ok %d - %s", n, what))
  else
    failed = failed + 1
    print(string.format("not ok %d - %s", n, what))
    if detail ~= nil then print("#   " .. tostring(detail)) end
  end
end

ok(berth.sandboxed == true, "berth.sandboxed is true")
ok(io == nil, "no io library", io)
ok(debug == nil, "no debug library", debug)
ok(dofile == nil and loadfile == nil, "no dofile/loadfile")
ok(os.execute == nil and os.getenv == nil and os.remove == nil and os.exit == nil,
   "os has no execute/getenv/remove/exit")
ok(type(os.time) == "function" and type(os.clock) == "function" and type(os.date) == "function",
   "os.time/clock/date remain")
local keys = {}
for k in pairs(os) do keys[#keys + 1] = k end
table.sort(keys)
ok(table.concat(keys, ",") == "clock,date,time", "os has exactly clock, date, time", table.concat(keys, ","))
ok(string.dump == nil, "no string.dump")
ok(("").dump == nil, "no dump through the string metatable")
ok(package.loadlib == nil, "no package.loadlib")
ok(package.cpath == "", "package.cpath is empty")

-- Binary chunks: load refuses them even when asked for mode "b".
local bin = "\27Lua\84\0" .. string.rep("\0", 32)
local f, err = load(bin, "x", "b")
ok(f == nil and tostring(err):find("binary") ~= nil, "load refuses binary chunks", err)
f, err = load(function() local s = bin; bin = nil; return s end)
ok(f == nil, "load with a reader refuses binary chunks", err)
ok(load("return 1 + 1")() == 2, "text chunks still load")
local env = { x = 5 }
ok(load("return x", "t", "t", env)() == 5, "load with an env still works")

-- require: only berth's own Lua directories, whatever package.path says.
local dir = "/tmp"
package.path = dir .. "/?.lua;" .. package.path
local r, rerr = pcall(require, "io")
ok(not r, "require 'io' fails", rerr)
r, rerr = pcall(require, "debug")
ok(not r, "require 'debug' fails", rerr)
r, rerr = pcall(require, "passwd")
ok(not r, "require outside berth's paths fails", rerr)
r, rerr = pcall(require, "../../../etc/passwd")
ok(not r and tostring(rerr):find("refused"), "require with .. is refused", rerr)
r, rerr = pcall(require, "berth.format")
ok(r and type(rerr) == "table", "require of berth's own modules works", rerr)
local ros = require "os"
ok(ros.execute == nil, "require 'os' gives the trimmed os")

-- berth functions that would leave the sandbox.
local out, cerr = berth.cmd("run -e 1")
ok(out == nil and tostring(cerr):find("sandbox"), "berth.cmd('run') is refused", cerr)
out, cerr = berth.cmd("shell")
ok(out == nil and tostring(cerr):find("sandbox"), "berth.cmd('shell') is refused", cerr)
local st, herr = berth.http_post("http://127.0.0.1:9/", "x")
ok(st == nil and tostring(herr):find("sandbox"), "berth.http_post is refused", herr)

-- Instances cannot be used to reach finalizers.
ok(getmetatable(berth) == nil or true, "berth module reachable")
collectgarbage()
ok(true, "collectgarbage works")

print("1.." .. n)
return failed == 0 and 0 or 1
