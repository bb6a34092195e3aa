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
ok(package.searchpath == nil, "no package.searchpath (it probes for any file)")
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
-- arg[2]: a directory sandbox.sh filled with evil.lua, which loads fine
-- outside the sandbox (sandbox.sh checks that too)
package.path = arg[2] .. "/?.lua;" .. package.path
r, rerr = pcall(require, "evil")
ok(not r, "require of a module outside berth's paths fails", rerr)
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

-- Ways to run host programs or read host files through berth itself.  arg[1]
-- is a directory: an escape that worked would leave a marker file there,
-- which sandbox.sh looks for after the run.
local marks = arg[1] or "/nonexistent"
local function sh(name) return "exec:touch " .. marks .. "/" .. name end
local function refused(what, a, b)
  ok(a == nil and tostring(b):find("not allowed in the sandbox", 1, true), what, tostring(a) .. " " .. tostring(b))
end
refused("berth.connect of an exec: URI is refused", berth.connect(sh("connect"), "remote"))
refused("berth.connect with the backend guessed is refused", berth.connect(sh("connect-guess")))
refused("berth.connect of a libvirt URI that runs a command is refused",
  berth.connect("qemu+ext:///system?command=/bin/sh", "libvirt"))
refused("berth.connect of qemu+ssh is refused", berth.connect("qemu+ssh://nowhere.invalid/system"))
refused("berth.connect() of a default is refused", berth.connect())
refused("berth.cmd{list --connect exec:} is refused", berth.cmd { "list", "--connect", sh("cmd-long") })
refused("berth.cmd --connect=exec: is refused", berth.cmd { "list", "--connect=" .. sh("cmd-eq") })
refused("berth.cmd --conn (an abbreviation) is refused", berth.cmd { "list", "--conn", sh("cmd-abbrev") })
refused("berth.cmd -c exec: is refused", berth.cmd { "list", "-c", sh("cmd-short") })
refused("berth.cmd -cexec: (attached) is refused", berth.cmd { "list", "-c" .. sh("cmd-attached") })
refused("berth.cmd -jc exec: (in a cluster) is refused", berth.cmd { "list", "-jc", sh("cmd-cluster") })
refused("berth.cmd with -c after a name is refused", berth.cmd { "info", "test", "-c", sh("cmd-after") })
refused("berth.cmd of a string line with -c is refused",
  berth.cmd("hosts -c 'exec:touch " .. marks .. "/cmd-line'"))
refused("berth.cmd of a qemu+ext URI is refused",
  berth.cmd { "list", "--connect", "qemu+ext:///system?command=/bin/true" })
refused("berth.cmd('define FILE') is refused", berth.cmd("define /etc/passwd"))
refused("berth.cmd('exec') is refused", berth.cmd("exec test /bin/true"))
refused("berth.cmd('pull') is refused", berth.cmd("pull debian"))
refused("berth.cmd('rmi') is refused", berth.cmd("rmi debian"))
refused("berth.cmd('proxy') is refused", berth.cmd("proxy"))
refused("berth.cmd('console') is refused", berth.cmd("console test"))
refused("berth.cmd('tui') is refused", berth.cmd("tui"))
refused("berth.cmd of an unknown (or plugin) command is refused", berth.cmd("balance --yes"))
refused("berth.create of a container from a host bundle is refused",
  berth.create { backend = "container", name = "esc", bundle = "/" })
refused("berth.create of a kvm VM with a host kernel is refused",
  berth.create { backend = "kvm", name = "esc", kernel = "/etc/shadow", initrd = "/etc/passwd" })
refused("berth.create of libvirt XML is refused",
  berth.create { backend = "libvirt", xml = "<domain type='test'><name>x</name></domain>" })
refused("berth.bind is refused", berth.bind("x", "list"))
local sok, serr = pcall(berth.set, "shutdown_timeout", 1)
ok(not sok and tostring(serr):find("not allowed in the sandbox", 1, true), "berth.set raises an error", serr)
ok(berth.option("shutdown_timeout") ~= 1, "berth.set changed nothing")
local vm = berth.get("test")
ok(vm ~= nil, "the test driver's instance is there (sandbox.sh connects test:///default)")
if vm then
  refused("inst:exec is refused", vm:exec("touch " .. marks .. "/inst-exec"))
  refused("inst:console_send (typing commands into the guest) is refused", vm:console_send("reboot\n"))
  refused("inst:migrate to a URI that runs a command is refused",
    vm:migrate { to = "qemu+ext:///system?command=" .. marks .. "/nothing" })
  out, cerr = berth.cmd("info test")
  ok(out ~= nil and out:find("test", 1, true), "berth.cmd('info test') works", cerr)
end
-- What the sandbox keeps: commands that only look or act on what exists.
out, cerr = berth.cmd("version")
ok(out ~= nil and out:find("berth", 1, true), "berth.cmd('version') works", cerr)
out, cerr = berth.cmd { "list", "--json", "--", "-c" }
ok(out ~= nil, "berth.cmd with -c after -- (an instance pattern) runs", cerr)
out, cerr = berth.cmd("help list")
ok(out ~= nil and out:find("usage", 1, true), "berth.cmd('help list') works", cerr)
out, cerr = berth.cmd { "list", "-kct" }
ok(out ~= nil, "berth.cmd list -kct (a value with a c) runs", cerr)

-- Instances cannot be used to reach their finalizers.
local inst = berth.get("test")
local mt = inst and getmetatable(inst)
ok(inst ~= nil and (type(mt) ~= "table" or rawget(mt, "__gc") == nil),
   "an instance's metatable (and its __gc) is hidden", tostring(mt))
ok(not pcall(setmetatable, inst, {}), "an instance's metatable cannot be replaced")

print("1.." .. n)
return failed == 0 and 0 or 1
