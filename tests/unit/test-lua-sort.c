/*
 * test-lua-sort.c - berth's interruptible table.sort (src/script/lua-sort.c)
 * against Lua's own, as a differential test: 3,000 random lists (numbers,
 * strings, with duplicates; with and without an order function, ascending
 * and descending; lengths 0 to 300, and some of 10,000) must come out
 * element for element as Lua's do, and the argument errors must read the
 * same.  Then: an inconsistent order function raises an error, never reads
 * outside the list; a proxy with __index/__newindex/__len is sorted through
 * them; the tick function is called during a long sort without an order
 * function, and an error it raises stops the sort.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lua-harness.h"
#include "lua-tick-count.h"
#include "tap.h"

/* The harness gets (ref, mine), two sort functions, and returns the number
 * of cases, of mismatches and a description of the first few. */
static const char harness[] =
"local ref, mine = ...\n"
"local cases, bad, report = 0, 0, {}\n"
"local function note(what)\n"
"  bad = bad + 1\n"
"  if #report < 5 then report[#report + 1] = what end\n"
"end\n"
"-- argument errors name the function as it was found: not part of the test\n"
"local function plain(e) return (tostring(e):gsub(\"to '[^']*'\", \"to 'sort'\")) end\n"
"local function copy(t) local c = {} for i = 1, #t do c[i] = t[i] end return c end\n"
"local function check(name, list, comp)\n"
"  cases = cases + 1\n"
"  local a, b = copy(list), copy(list)\n"
"  local ok1, e1 = pcall(ref, a, comp)\n"
"  local ok2, e2 = pcall(mine, b, comp)\n"
"  if ok1 ~= ok2 then note(name .. ': Lua ' .. tostring(e1) .. ', berth ' .. tostring(e2)) return end\n"
"  if not ok1 then\n"
"    if plain(e1) ~= plain(e2) then note(name .. ': errors differ: ' .. tostring(e1) .. ' / ' .. tostring(e2)) end\n"
"    return\n"
"  end\n"
"  if #a ~= #b then note(name .. ': lengths differ') return end\n"
"  for i = 1, #a do\n"
"    if a[i] ~= b[i] then note(name .. ': element ' .. i .. ' differs (n=' .. #a .. ')') return end\n"
"  end\n"
"end\n"
"math.randomseed(20261207)\n"
"local desc = function(x, y) return x > y end\n"
"local bylen = function(x, y) return #x < #y or (#x == #y and x < y) end\n"
"for round = 1, 3000 do\n"
"  local n = round % 50 == 0 and 10000 or math.random(0, 300)\n"
"  local range = math.random(1, 3) == 1 and 5 or 1000000\n"
"  local nums, strs = {}, {}\n"
"  for i = 1, n do\n"
"    nums[i] = math.random(1, range)\n"
"    if math.random(1, 4) == 1 then nums[i] = nums[i] + 0.5 end\n"
"    strs[i] = tostring(math.random(1, range)) .. string.char(math.random(97, 99))\n"
"  end\n"
"  if round % 7 == 0 then table.sort(nums) end\n"
"  if round % 11 == 0 then table.sort(nums, desc) end\n"
"  check('numbers', nums)\n"
"  check('numbers desc', nums, desc)\n"
"  check('strings', strs)\n"
"  check('strings by length', strs, bylen)\n"
"end\n"
"local function errs(name, f)\n"
"  cases = cases + 1\n"
"  local ok1, e1 = pcall(f, ref)\n"
"  local ok2, e2 = pcall(f, mine)\n"
"  if ok1 ~= ok2 or plain(e1) ~= plain(e2) then note(name .. ': ' .. tostring(e1) .. ' / ' .. tostring(e2)) end\n"
"end\n"
"errs('no list', function(s) s() end)\n"
"errs('a number', function(s) s(5) end)\n"
"errs('a bad order function', function(s) s({3, 2, 1}, 42) end)\n"
"errs('mixed types', function(s) s({3, 'x', 1}) end)\n"
"errs('an order function that fails', function(s) s({3, 2, 1}, function() error('no', 0) end) end)\n"
"errs('nil order function', function(s) local t = {3, 1, 2} s(t, nil) return t[1] end)\n"
"errs('too big', function(s) s(setmetatable({}, {__len = function() return math.maxinteger end})) end)\n"
"return cases, bad, table.concat(report, '\\n')\n";

/* The harness's arguments: Lua's table.sort, then berth's. */
static int
push_sorts(lua_State *L)
{
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_remove(L, -2);
	lua_newtable(L);
	lua_sort_install(L, -1, &hooks);
	lua_getfield(L, -1, "sort");
	lua_remove(L, -2);
	return 2;
}

int
main(void)
{
	lua_State *L = harness_state();
	int rc;

	/* ---- same results as Lua's own (more than 12,000 cases) ---- */
	if (run_harness(L, harness, push_sorts, 12000,
			"berth's table.sort sorts as Lua's does, errors included") < 0)
		return tap_done();
	lua_settop(L, 0);
	lua_getglobal(L, "table");
	lua_sort_install(L, -1, &hooks);	/* as berth does: the table library itself */
	lua_pop(L, 1);

	/* ---- an order function that is not an order ---- */
	rc = luaL_dostring(L,
		"local reads, bad = 0, 0\n"
		"for n = 2, 200 do\n"
		"  local t = {}\n"
		"  for i = 1, n do t[i] = i % 7 end\n"
		"  local p = setmetatable({}, {__len = function() return n end,\n"
		"    __index = function(_, k) reads = reads + 1 if k < 1 or k > n then bad = bad + 1 end return t[k] end,\n"
		"    __newindex = function(_, k, v) if k < 1 or k > n then bad = bad + 1 end t[k] = v end})\n"
		"  local ok, e = pcall(table.sort, p, function() return true end)\n"
		"  if not ok and e ~= 'invalid order function for sorting' and not e:find('invalid order function') then\n"
		"    error('unexpected error: ' .. e) end\n"
		"end\n"
		"return bad, reads");
	ok(rc == LUA_OK, "an always-true order function only ever errors with the order message");
	if (rc != LUA_OK)
		printf("#   %s\n", lua_tostring(L, -1));
	else
		is_int(lua_tointeger(L, 1), 0, "and never reads or writes outside the list");
	lua_settop(L, 0);
	rc = luaL_dostring(L,
		"local t = {5, 3, 9, 1}\n"
		"local p = setmetatable({}, {__len = function() return #t end,\n"
		"  __index = function(_, k) return t[k] end, __newindex = function(_, k, v) t[k] = v end})\n"
		"table.sort(p)\n"
		"return table.concat(t, ',')");
	ok(rc == LUA_OK && strcmp(lua_tostring(L, -1), "1,3,5,9") == 0,
	   "a proxy is sorted through __len, __index and __newindex");
	lua_settop(L, 0);

	/* ---- a long sort ticks, and the tick can stop it ---- */
	tick_calls = tick_steps = 0;
	tick_stop_after = 0;
	rc = luaL_dostring(L,
		"local t = {} for i = 1, 100000 do t[i] = (i * 7919) % 100003 end\n"
		"table.sort(t)\n"
		"for i = 2, #t do if t[i - 1] > t[i] then return false end end return true");
	ok(rc == LUA_OK && lua_toboolean(L, -1), "100,000 numbers sort into order");
	ok(tick_calls > 100, "ticking on the way");
	ok(tick_steps >= tick_calls * 1000, "ticks report the comparisons done");
	lua_settop(L, 0);
	tick_calls = 0;
	tick_stop_after = 20;
	rc = luaL_dostring(L,
		"local t = {} for i = 1, 100000 do t[i] = tostring((i * 7919) % 100003) end\n"
		"table.sort(t) return 'finished'");
	ok(rc != LUA_OK && strstr(lua_tostring(L, -1), "stopped by the tick") != NULL,
	   "a sort without an order function is stopped by the tick");
	is_int(tick_calls, 20, "when the tick asked, not later");
	lua_settop(L, 0);
	tick_stop_after = 0;
	rc = luaL_dostring(L, "local t = {'b', 'c', 'a'} table.sort(t) return table.concat(t)");
	ok(rc == LUA_OK && strcmp(lua_tostring(L, -1), "abc") == 0, "the state sorts normally afterwards");
	lua_close(L);
	return tap_done();
}
