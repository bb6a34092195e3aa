/*
 * lua-parallel.c - berth.parallel(items, fn, {max = n}): run fn(item, i)
 * for every item as coroutines interleaved on the event loop.
 *
 * What it is, honestly: one thread.  A coroutine gives way only where it
 * waits - berth.sleep, inst:wait, inst:console_expect (and coroutine.yield)
 * - and the others run then.  A backend call (start, shutdown with its
 * timeout, define...) blocks every coroutine until it returns.  So a batch
 * of "start, then wait until running, then expect a login prompt" overlaps
 * its waits; a batch of long blocking calls runs one after the other.
 * At most `max` items are in flight (default 16).
 * Not for: threads or processes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/session.h"
#include "core/util.h"
#include "script/script-int.h"

#define PARALLEL_DEFAULT_MAX 16
#define PARALLEL_MAX 4096

/* Registry key of the weak set of threads run by a parallel scheduler. */
static char parallel_key;

int
script_in_parallel(lua_State *L)
{
	int in;

	if (!lua_isyieldable(L))
		return 0;
	lua_pushlightuserdata(L, &parallel_key);
	if (lua_rawget(L, LUA_REGISTRYINDEX) != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	lua_pushthread(L);
	in = lua_rawget(L, -2) != LUA_TNIL;
	lua_pop(L, 2);
	return in;
}

/* Push the weak set, creating it.  [-0, +1, m] */
static void
parallel_set(lua_State *L)
{
	lua_pushlightuserdata(L, &parallel_key);
	if (lua_rawget(L, LUA_REGISTRYINDEX) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushlightuserdata(L, &parallel_key);
	lua_pushvalue(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
}

struct slot {
	lua_State *co;
	lua_Integer index;	/* item number */
	int64_t wake_ms;	/* resume at (monotonic); 0: now */
	int ref;		/* anchor in the threads table */
	int started;
};

/* berth.parallel(items, fn [, {max = n}]) -> results, errors
 * results[i] is fn's first result for item i; errors[i] the error message
 * (with traceback) when fn raised one.
 * [-2|3, +2, e] */
int
script_parallel(lua_State *L)
{
	struct script *sc = script_of(L);
	struct slot *slots;
	lua_Integer n, next = 1, max = PARALLEL_DEFAULT_MAX;
	int nactive = 0, i;
	const int T_ITEMS = 1, T_FN = 2, T_RES = 4, T_ERR = 5, T_THREADS = 6, T_SET = 7;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (lua_istable(L, 3)) {
		lua_getfield(L, 3, "max");
		max = luaL_optinteger(L, -1, PARALLEL_DEFAULT_MAX);
		lua_pop(L, 1);
	}
	if (max < 1 || max > PARALLEL_MAX)
		return luaL_argerror(L, 3, "max out of range 1..4096");
	lua_settop(L, 3);
	lua_newtable(L);	/* 4: results */
	lua_newtable(L);	/* 5: errors */
	lua_newtable(L);	/* 6: anchors for running threads */
	parallel_set(L);	/* 7 */
	n = luaL_len(L, T_ITEMS);
	if (max > n)
		max = n > 0 ? n : 1;
	/* 8: the slots, as a userdata so that an error anywhere frees them. */
	slots = lua_newuserdatauv(L, (size_t)max * sizeof *slots, 0);
	memset(slots, 0, (size_t)max * sizeof *slots);

	while (next <= n || nactive > 0) {
		int64_t now, soonest = -1;
		int woke;

		/* Fill free slots with new coroutines. */
		for (i = 0; i < max && next <= n; i++) {
			if (slots[i].co != NULL)
				continue;
			slots[i].co = lua_newthread(L);
			lua_pushvalue(L, -1);
			lua_pushboolean(L, 1);
			lua_rawset(L, T_SET);
			slots[i].ref = luaL_ref(L, T_THREADS);
			slots[i].index = next;
			slots[i].wake_ms = 0;
			slots[i].started = 0;
			lua_pushvalue(L, T_FN);
			lua_geti(L, T_ITEMS, next);
			lua_pushinteger(L, next);
			lua_xmove(L, slots[i].co, 3);
			next++;
			nactive++;
		}
		now = now_ms();
		woke = sc->wakeup;
		sc->wakeup = 0;
		for (i = 0; i < max; i++) {
			struct slot *sl = &slots[i];
			int st, nres = 0, first;

			if (sl->co == NULL)
				continue;
			if (sl->wake_ms > now && !woke) {
				if (soonest < 0 || sl->wake_ms < soonest)
					soonest = sl->wake_ms;
				continue;
			}
			first = !sl->started;
			sl->started = 1;
			st = lua_resume(sl->co, L, first ? 2 : 0, &nres);
			if (st == LUA_YIELD) {
				/* script_block yields its wake time; a plain
				 * coroutine.yield means "again soon". */
				sl->wake_ms = nres >= 1 && lua_isinteger(sl->co, -1)
						      ? lua_tointeger(sl->co, -1)
						      : now;
				if (sl->wake_ms <= 0)
					sl->wake_ms = 1;
				lua_pop(sl->co, nres);
				if (soonest < 0 || sl->wake_ms < soonest)
					soonest = sl->wake_ms;
				continue;
			}
			if (st == LUA_OK) {
				if (nres > 0) {
					lua_pushvalue(sl->co, -nres);
					lua_xmove(sl->co, L, 1);
					lua_rawseti(L, T_RES, sl->index);
				}
			} else {
				const char *msg = lua_tostring(sl->co, -1);

				luaL_traceback(L, sl->co, msg ? msg : "(error object is not a string)", 0);
				lua_rawseti(L, T_ERR, sl->index);
			}
			lua_resetthread(sl->co);
			luaL_unref(L, T_THREADS, sl->ref);
			sl->co = NULL;
			nactive--;
			/* An interrupt, a limit or os.exit ends the whole batch. */
			if (script_interrupt_pending() || sc->limit_hit || sc->exit_requested ||
			    (sc->instr_budget > 0 && sc->instr_left <= 0))
				break;
		}
		if (script_interrupt_pending() || sc->limit_hit || sc->exit_requested ||
		    (sc->instr_budget > 0 && sc->instr_left <= 0)) {
			for (i = 0; i < max; i++)
				if (slots[i].co != NULL)
					lua_resetthread(slots[i].co);
			script_check_stop(L);
			return luaL_error(L, "parallel batch stopped");
		}
		if (nactive == 0 && next > n)
			break;
		if (soonest > 0 && (next > n || nactive == max)) {
			int64_t until = soonest;

			now = now_ms();
			if (until > now)
				script_run_loop_until(L, until);
		}
	}
	lua_pushvalue(L, T_RES);
	lua_pushvalue(L, T_ERR);
	return 2;
}
