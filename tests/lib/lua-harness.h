/*
 * lua-harness.h - for the unit tests of src/script's Lua functions that
 * must behave as Lua's own: a differential harness is a Lua chunk, called
 * with Lua's library and berth's, that compares them on many cases and
 * returns how many it compared, how many differed and a report of the
 * first that did.
 *
 *   lua_State *L = harness_state();        a state with the standard libraries
 *   run_harness(L, chunk, push, min, what) loads the chunk, calls it with
 *                                          what push() pushed (push returns
 *                                          the count), checks with TAP that
 *                                          more than min cases ran and none
 *                                          differed; -1 when it did not run
 */
#ifndef BERTH_TEST_LUA_HARNESS_H
#define BERTH_TEST_LUA_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "tap.h"

static lua_State *
harness_state(void)
{
	lua_State *L = luaL_newstate();

	if (L == NULL) {
		printf("# cannot create a Lua state\n");
		exit(1);
	}
	luaL_openlibs(L);
	return L;
}

static int
run_harness(lua_State *L, const char *chunk, int (*push)(lua_State *L), long long min_cases, const char *what)
{
	int top = lua_gettop(L), nargs, rc;
	long long cases, bad;

	if (luaL_loadstring(L, chunk) != LUA_OK) {
		ok(0, "the differential harness loads");
		printf("#   %s\n", lua_tostring(L, -1));
		lua_settop(L, top);
		return -1;
	}
	nargs = push(L);
	rc = lua_pcall(L, nargs, 3, 0);
	if (!ok(rc == LUA_OK, "the differential harness runs")) {
		printf("#   %s\n", lua_tostring(L, -1));
		lua_settop(L, top);
		return -1;
	}
	cases = lua_tointeger(L, -3);
	bad = lua_tointeger(L, -2);
	if (!ok(cases > min_cases, "the harness compared enough cases"))
		printf("#   %lld cases, wanted more than %lld\n", cases, min_cases);
	is_int(bad, 0, what);
	if (bad != 0)
		printf("# first mismatches:\n# %s\n", lua_tostring(L, -1));
	lua_settop(L, top);
	return 0;
}

#endif
