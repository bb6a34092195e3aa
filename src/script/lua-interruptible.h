/*
 * lua-interruptible.h - the parts of Lua's standard library that run long in
 * C, rewritten so that they can be interrupted: string.find, match, gmatch
 * and gsub (lua-pattern.c) and table.sort (lua-sort.c).
 */
#ifndef BERTH_LUA_INTERRUPTIBLE_H
#define BERTH_LUA_INTERRUPTIBLE_H

#include <lua.h>
#include <lauxlib.h>

struct lua_tick_hooks {
	/* Called about every thousand steps (matching steps, comparisons) with
	 * their count; it may raise a Lua error (lua_error) to stop the call. */
	void (*tick)(lua_State *L, unsigned steps);
};

/* Replace find, match, gmatch and gsub in the table at idx (the string
 * library), or sort in the table at idx (the table library).  hooks must
 * outlive the state; NULL: no ticks. */
void lua_pattern_install(lua_State *L, int idx, const struct lua_tick_hooks *hooks);
void lua_sort_install(lua_State *L, int idx, const struct lua_tick_hooks *hooks);

#endif
