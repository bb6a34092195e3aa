/*
 * lua-pattern.h - Lua 5.4's pattern functions (find, match, gmatch, gsub)
 * rewritten so that a long match can be interrupted: see lua-pattern.c.
 */
#ifndef BERTH_LUA_PATTERN_H
#define BERTH_LUA_PATTERN_H

#include <lua.h>
#include <lauxlib.h>

struct pattern_hooks {
	/* Called about every thousand matching steps with their count; it may
	 * raise a Lua error (lua_error) to stop the match. */
	void (*tick)(lua_State *L, unsigned steps);
};

/* Replaces find, match, gmatch and gsub in the table at idx (the string
 * library).  hooks must outlive the state; NULL: no ticks. */
void lua_pattern_install(lua_State *L, int idx, const struct pattern_hooks *hooks);

#endif
