/*
 * test-lua-pattern.c - berth's interruptible string.find/match/gmatch/gsub
 * (src/script/lua-pattern.c) against Lua's own, as a differential test:
 * every case of a hand-written list (each pattern item, anchors, captures,
 * back-references, %b, %f, sets, init positions, all replacement kinds,
 * every error message) and 20,000 random patterns and subjects must give
 * the same results or the same error.  Then: the tick function is called
 * during a backtracking match and an error it raises stops the match, and
 * the state works afterwards.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lua-harness.h"
#include "lua-tick-count.h"
#include "tap.h"

/* The harness gets (ref, mine) and returns the number of cases, the number
 * of mismatches and a description of the first few. */
static const char harness[] =
"local ref, mine = ...\n"
"local function norm(msg)\n"
"  if type(msg) ~= 'string' then return msg end\n"
"  return (ref.gsub(msg, \"to '[%w%.%?]+'\", 'to F'))\n"
"end\n"
"local function show(v)\n"
"  if type(v) == 'string' then return string.format('%q', v) end\n"
"  return tostring(v)\n"
"end\n"
"local function pack(ok, ...)\n"
"  local t = table.pack(...)\n"
"  local out = {ok and 'ok' or 'err'}\n"
"  for i = 1, t.n do out[#out + 1] = show(ok and t[i] or norm(t[i])) end\n"
"  return table.concat(out, ' ')\n"
"end\n"
"local function collect(lib, s, p, init)\n"
"  local out = {}\n"
"  for a, b, c in lib.gmatch(s, p, init) do\n"
"    out[#out + 1] = show(a) .. ',' .. show(b) .. ',' .. show(c)\n"
"    if #out > 200 then break end\n"
"  end\n"
"  return table.concat(out, ';')\n"
"end\n"
"local tbl = setmetatable({}, {__index = function(_, k)\n"
"  if k == 'a' then return 'A' elseif k == 'b' then return false elseif k == 'x' then return {} end\n"
"  return nil end})\n"
"local function fn(a, b) if a == 'b' then return nil end\n"
"  if b == 'x' then return {} end return '[' .. tostring(a) .. tostring(b) .. ']' end\n"
"local cases, bad, report = 0, 0, {}\n"
"local function same(what, f)\n"
"  cases = cases + 1\n"
"  local r1, r2 = pack(pcall(f, ref)), pack(pcall(f, mine))\n"
"  if r1 ~= r2 then\n"
"    bad = bad + 1\n"
"    if #report < 8 then report[#report + 1] = what .. ': lua ' .. r1 .. ' / berth ' .. r2 end\n"
"  end\n"
"end\n"
"local function check(s, p, init)\n"
"  local tag = show(s) .. ' ' .. show(p) .. ' ' .. tostring(init)\n"
"  same('find ' .. tag, function(l) return l.find(s, p, init) end)\n"
"  same('find plain ' .. tag, function(l) return l.find(s, p, init, true) end)\n"
"  same('match ' .. tag, function(l) return l.match(s, p, init) end)\n"
"  same('gmatch ' .. tag, function(l) return collect(l, s, p, init) end)\n"
"  same('gsub str ' .. tag, function(l) return l.gsub(s, p, '<%0|%1>') end)\n"
"  same('gsub n ' .. tag, function(l) return l.gsub(s, p, '%%', init) end)\n"
"  same('gsub tbl ' .. tag, function(l) return l.gsub(s, p, tbl) end)\n"
"  same('gsub fn ' .. tag, function(l) return l.gsub(s, p, fn) end)\n"
"end\n"
"local fixed = {\n"
"  {'hello world', 'o'}, {'hello world', 'o w'}, {'hello', 'l+'}, {'hello', 'l*'},\n"
"  {'hello', 'l-'}, {'hello', 'l?'}, {'hello', '^h'}, {'hello', '^e'}, {'hello', 'o$'},\n"
"  {'hello', 'l$'}, {'a$b', 'a$b'}, {'x^y', 'x^y'}, {'', ''}, {'', '^$'}, {'abc', ''},\n"
"  {'abc', '.-'}, {'abc', '.-$'}, {'key = value', '(%w+)%s*=%s*(%w+)'},\n"
"  {'key=val', '()=()'}, {'THE (quick) fox', '%((%a+)%)'}, {'f(a(b)c)d', '%b()'},\n"
"  {'f(a(b)c', '%b()'}, {'[[x]]', '%b[]'}, {'THE (quick) fox', '%f[%a]%a+'},\n"
"  {'THE (quick) fox', '%f[%A]'}, {'abcabc', '(abc)%1'}, {'abab', '(a)(b)%2'},\n"
"  {'hello', '(h)(e)(l)(l)(o)'}, {'x1y22z333', '%d+'}, {'a.b.c', '%.'}, {'a]b', '[]]'},\n"
"  {'a-b', '[a-]'}, {'a^b', '[%^]'}, {'abc', '[^b]+'}, {'ABCdef', '[A-Z]+'},\n"
"  {'  trim  ', '^%s*(.-)%s*$'}, {'tab\\tnl\\n', '%c'}, {'Mixed Case 42!', '%u%l+'},\n"
"  {'Mixed Case 42!', '%p'}, {'Mixed Case 42!', '%x+'}, {'Mixed Case 42!', '%g+'},\n"
"  {'Mixed Case 42!', '[%w_]+'}, {'Mixed Case 42!', '[%S]+'}, {'a\\0b', '\\0'},\n"
"  {'a\\0b', '[\\0]'}, {'a\\0b', '%z'}, {'aaa', 'a-b'}, {'aaab', 'a-b'}, {'aaa', '()a()'},\n"
"  {'abc', '((a)(b))'}, {'abc', '(a(b(c)))'}, {'abc', '%'}, {'abc', '[a'}, {'abc', '[a%'},\n"
"  {'abc', '(a'}, {'abc', 'a)'}, {'abc', '%b'}, {'abc', '%bx'}, {'abc', '%f'},\n"
"  {'abc', '%fa'}, {'abc', '%1'}, {'abc', '(a)%2'}, {'abc', '(a%1)'}, {'abc', '%0'},\n"
"  {'abc', '[%a-z]'}, {'a-z', '[a%-z]+'}, {'abc', '[]'}, {'abc', '[^]'}, {'abc', '[^]]'},\n"
"  {('x'):rep(300), ('(x)'):rep(33)}, {('x'):rep(300), ('x?'):rep(250)},\n"
"  {'one two  three', '%s*()'}, {'one two', '%w*'}, {'abc', '^(a)'}, {'aXbXc', 'X'},\n"
"}\n"
"for _, c in ipairs(fixed) do\n"
"  for _, init in ipairs({1, 2, 0, -1, -2, -100, 3, 100}) do check(c[1], c[2], init) end\n"
"  check(c[1], c[2], nil)\n"
"end\n"
"same('gsub bad repl', function(l) return l.gsub('abc', 'b', true) end)\n"
"same('gsub no repl', function(l) return l.gsub('abc', 'b') end)\n"
"same('gsub %9', function(l) return l.gsub('abc', '(b)', '%9') end)\n"
"same('gsub %x', function(l) return l.gsub('abc', 'b', '%x') end)\n"
"same('gsub trailing %', function(l) return l.gsub('abc', 'b', 'x%') end)\n"
"same('gsub number repl', function(l) return l.gsub('abc', 'b', 42) end)\n"
"same('gsub position %1', function(l) return l.gsub('abc', '()b', '%1') end)\n"
"same('gsub n=0', function(l) return l.gsub('abc', '%w', 'x', 0) end)\n"
"same('gsub anchored', function(l) return l.gsub('aaa', '^a', 'b') end)\n"
"same('find number subject', function(l) return l.find(12345, 3) end)\n"
"same('find bad subject', function(l) return l.find({}, 'a') end)\n"
"same('find bad pattern', function(l) return l.find('a', nil) end)\n"
"same('find bad init', function(l) return l.find('a', 'a', 'x') end)\n"
"same('gmatch anchor literal', function(l) return collect(l, '^a^a', '^a') end)\n"
"same('gmatch empty', function(l) return collect(l, 'abc', '') end)\n"
"same('gmatch position', function(l) return collect(l, 'abc', '()') end)\n"
"same('many captures', function(l) return l.find('x', ('()'):rep(33)) end)\n"
"math.randomseed(20261207)\n"
"local items = {'a', 'b', '.', '%a', '%d', '%s', '%S', '%w', '[ab]', '[^a]', '[a-c]', '[%d)]',\n"
"  '*', '+', '-', '?', '(', ')', '()', '^', '$', '%b()', '%f[%w]', '%f[%W]', '%1', '%2',\n"
"  '%', '[', ']', '%(', '%%', ' '}\n"
"local chars = {'a', 'b', 'c', '(', ')', '1', '2', ' ', '-', '%'}\n"
"for _ = 1, 2500 do\n"
"  local p = {}\n"
"  for i = 1, math.random(1, 7) do p[i] = items[math.random(#items)] end\n"
"  local s = {}\n"
"  for i = 1, math.random(0, 12) do s[i] = chars[math.random(#chars)] end\n"
"  check(table.concat(s), table.concat(p), math.random(-4, 14))\n"
"end\n"
"return cases, bad, table.concat(report, '\\n')\n";

/* The harness's arguments: Lua's string library, then berth's functions. */
static int
push_libs(lua_State *L)
{
	lua_getglobal(L, "string");
	lua_newtable(L);
	lua_pattern_install(L, -1, &hooks);
	return 2;
}

int
main(void)
{
	lua_State *L = harness_state();
	int rc;

	/* ---- same behaviour as Lua's own (more than 20,000 cases) ---- */
	if (run_harness(L, harness, push_libs, 20000,
			"berth's find/match/gmatch/gsub give what Lua's give, errors included") < 0)
		return tap_done();
	lua_getglobal(L, "string");
	lua_pattern_install(L, -1, &hooks);	/* as berth does: the string library itself */
	lua_pop(L, 1);
	tick_calls = 0;
	rc = luaL_dostring(L, "return (('x'):rep(1e6) .. 'y1'):find('y%d')");
	ok(rc == LUA_OK && lua_tointeger(L, -1) == 1000002, "a long linear search finds its match");
	ok(tick_calls > 100, "and ticks on the way");
	lua_settop(L, 0);

	/* ---- a backtracking match is stopped by the tick ---- */
	tick_calls = tick_steps = 0;
	tick_stop_after = 50;
	rc = luaL_dostring(L, "return ('a'):rep(40):find(('a*'):rep(40) .. 'b')");
	ok(rc != LUA_OK, "an exponential match is stopped");
	ok(rc != LUA_OK && strstr(lua_tostring(L, -1), "stopped by the tick") != NULL,
	   "with the tick's error");
	is_int(tick_calls, 50, "after the tick asked, not later");
	ok(tick_steps >= 50 * 1000, "ticks report the steps done");
	lua_settop(L, 0);
	tick_calls = 0;
	tick_stop_after = 50;
	rc = luaL_dostring(L, "return (('a'):rep(40):gsub(('a-'):rep(30) .. 'b', 'x'))");
	ok(rc != LUA_OK && strstr(lua_tostring(L, -1), "stopped by the tick") != NULL,
	   "gsub is stopped too");
	lua_settop(L, 0);
	tick_calls = 0;
	rc = luaL_dostring(L, "local n = 0 for _ in (('(x)'):rep(1e5)):gmatch('%b()') do n = n + 1 end return n");
	ok(rc != LUA_OK, "a long gmatch is stopped");
	lua_settop(L, 0);
	tick_stop_after = 0;
	rc = luaL_dostring(L, "return ('key = value'):match('(%w+)%s*=%s*(%w+)')");
	ok(rc == LUA_OK && lua_gettop(L) == 2 && strcmp(lua_tostring(L, 1), "key") == 0 &&
	   strcmp(lua_tostring(L, 2), "value") == 0, "the state matches normally afterwards");
	lua_settop(L, 0);
	rc = luaL_dostring(L, "return ('x'):rep(10) :find('y')");
	ok(rc == LUA_OK && lua_isnil(L, 1), "a method call on a string uses it (no match: nil)");
	lua_close(L);
	return tap_done();
}
