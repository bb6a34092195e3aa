-- testlib.lua: TAP-style assertions for berth's Lua tests (run as
-- `berth run TEST.lua` by tests/lib/run-test.sh).  Each check prints
-- "ok N - what" or "not ok N - what" with what differed; T.done() exits 1
-- if anything failed.  T.skip(reason) exits 77.
local T = { n = 0, failed = 0 }
local inspect = require "berth.inspect"

function T.ok(cond, what, detail)
  T.n = T.n + 1
  if cond then
    print(string.format("ok %d - %s", T.n, what))
  else
    T.failed = T.failed + 1
    print(string.format("not ok %d - %s", T.n, what))
    if detail then print("#   " .. tostring(detail):gsub("\n", "\n#   ")) end
  end
  return cond
end

function T.is(got, want, what)
  return T.ok(got == want, what, string.format("got %s, want %s", inspect(got), inspect(want)))
end

function T.like(got, pattern, what)
  return T.ok(type(got) == "string" and got:find(pattern) ~= nil, what,
              string.format("got %s, want a match for %q", inspect(got), pattern))
end

function T.skip(reason)
  print("SKIP: " .. reason)
  os.exit(77)
end

function T.done()
  print("1.." .. T.n)
  if T.failed > 0 then print(string.format("# %d of %d failed", T.failed, T.n)) end
  os.exit(T.failed > 0 and 1 or 0)
end

-- The libvirt test driver: in-process, always the same three domains-free
-- start state ("test" running).
function T.connect_test()
  local ok, err = berth.connect("test:///default")
  if not ok then T.skip("libvirt test driver: " .. tostring(err)) end
end

return T
