-- modules.lua: the Lua library shipped under $(pkgdatadir)/lua:
-- berth.inspect, berth.format (tables, sizes, durations).
package.path = os.getenv("top_srcdir") .. "/tests/lua/?.lua;" .. package.path
local T = require "testlib"
local inspect = require "berth.inspect"
local fmt = require "berth.format"

T.is(inspect({ 1, 2, x = { y = true } }), "{1, 2, x = {y = true}}", "inspect of a nested table")
T.is(inspect("a\nb"), '"a\\\nb"', "inspect quotes strings")
local cyc = { name = "c" }
cyc.me = cyc
T.is(inspect(cyc), '{me = <cycle>, name = "c"}', "inspect shows cycles")
T.is(inspect({ [10] = 1, [2] = 2 }), "{[2] = 2, [10] = 1}", "inspect sorts numeric keys")
T.like(inspect({ string.rep("x", 100), "y" }), "^{\n", "inspect breaks long tables over lines")

T.is(fmt.bytes(512), "512", "bytes < 1K")
T.is(fmt.bytes(1536), "1.5K", "bytes 1.5K")
T.is(fmt.bytes(2 ^ 31), "2.0G", "bytes 2G")
T.is(fmt.bytes(25 * 2 ^ 20), "25M", "bytes 25M")
T.is(fmt.rate(2048), "2.0K/s", "rate")
T.is(fmt.percent(12.345), "12.3%", "percent")
T.is(fmt.percent(0 / 0), "-", "percent of NaN")
T.is(fmt.duration(59), "59s", "duration s")
T.is(fmt.duration(125), "2m05s", "duration m")
T.is(fmt.duration(3 * 3600 + 60), "3h01m", "duration h")
T.is(fmt.duration(2 * 86400 + 3600 * 5), "2d5h", "duration d")
local t = fmt.table({ { name = "web1", mem = "2.0G" }, { name = "db", mem = "16G" } },
                    { "name", "mem" }, { right = { mem = true } })
T.is(t, "NAME   MEM\nweb1  2.0G\ndb     16G", "table aligns columns, right-aligns on request")
local u = fmt.table({ { name = "ünï" }, { name = "ab" } }, { "name" })
T.is(u, "NAME\nünï\nab", "table measures UTF-8 by characters")
T.done()
