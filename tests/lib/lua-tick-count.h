/*
 * lua-tick-count.h - for the unit tests of src/script's interruptible Lua
 * functions: a tick hook that counts its calls and steps and, once
 * tick_stop_after calls were made (0: never), raises "stopped by the tick".
 */
#ifndef BERTH_TEST_LUA_TICK_COUNT_H
#define BERTH_TEST_LUA_TICK_COUNT_H

#include "script/lua-interruptible.h"

static unsigned long tick_calls, tick_steps;
static unsigned long tick_stop_after;

static void
count_tick(lua_State *L, unsigned steps)
{
	tick_calls++;
	tick_steps += steps;
	if (tick_stop_after > 0 && tick_calls >= tick_stop_after)
		luaL_error(L, "stopped by the tick");
}

static const struct lua_tick_hooks hooks = { .tick = count_tick };

#endif
