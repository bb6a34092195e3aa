/*
 * lua-sort.c - table.sort for berth's Lua states, interruptible.
 *
 * Lua's own sort compares with lua_compare in C when no order function is
 * given, so sorting a few million numbers or strings never reaches the
 * debug hook: Ctrl-C, --timeout and the instruction budget would wait for
 * it.  This one takes the same arguments, reads and writes the list the same
 * way (lua_geti/lua_seti, so __index/__newindex apply), raises the same
 * errors ("array too big", "invalid order function for sorting") and calls
 * a tick function every SORT_TICK_STEPS comparisons, which may raise a Lua
 * error to stop the sort.  Like Lua's, it is a quicksort (median of three,
 * a pseudo-random pivot in long ranges), not stable.
 * Not for: the rest of the table library, which stays Lua's.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "script/lua-interruptible.h"

#define SORT_TICK_STEPS 1024
#define SORT_RANDOM_PIVOT 100	/* ranges longer than this pick a random pivot */

struct sorter {
	lua_State *L;
	int has_comp;			/* an order function is at stack index 2 */
	unsigned steps;			/* comparisons since the last tick */
	uint32_t rnd;
	const struct lua_tick_hooks *hooks;
};

/* a < b for the values at absolute stack indices a and b. */
static int
sort_less(struct sorter *s, int a, int b)
{
	lua_State *L = s->L;
	int r;

	if (++s->steps >= SORT_TICK_STEPS) {
		if (s->hooks != NULL && s->hooks->tick != NULL)
			s->hooks->tick(L, s->steps);
		s->steps = 0;
	}
	if (!s->has_comp)
		return lua_compare(L, a, b, LUA_OPLT);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, a);
	lua_pushvalue(L, b);
	lua_call(L, 2, 1);
	r = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return r;
}

static void
sort_swap(lua_State *L, lua_Integer i, lua_Integer j)
{
	lua_geti(L, 1, i);
	lua_geti(L, 1, j);
	lua_seti(L, 1, i);
	lua_seti(L, 1, j);
}

/* Orders list[i] and list[j] (i < j) so that not list[j] < list[i]. */
static void
sort_order2(struct sorter *s, lua_Integer i, lua_Integer j)
{
	lua_State *L = s->L;
	int less;

	lua_geti(L, 1, i);
	lua_geti(L, 1, j);
	less = sort_less(s, lua_absindex(L, -1), lua_absindex(L, -2));
	lua_pop(L, 2);
	if (less)
		sort_swap(L, i, j);
}

static lua_Integer
sort_pivot_index(struct sorter *s, lua_Integer lo, lua_Integer up)
{
	lua_Integer quarter = (up - lo) / 4;

	if (up - lo <= SORT_RANDOM_PIVOT)
		return lo + (up - lo) / 2;
	/* xorshift32: a pivot in the middle half that inputs cannot predict */
	s->rnd ^= s->rnd << 13;
	s->rnd ^= s->rnd >> 17;
	s->rnd ^= s->rnd << 5;
	return lo + quarter + (lua_Integer)(s->rnd % (uint32_t)(2 * quarter));
}

/*
 * With the pivot P on the stack top and at list[up - 1], and list[lo] <= P <=
 * list[up]: moves what is less than P below, what is greater above, and
 * returns where P belongs.  An order function that is not a strict order
 * can run a scan off its bounds: that is the error Lua's sort raises too.
 */
static lua_Integer
sort_partition(struct sorter *s, lua_Integer lo, lua_Integer up)
{
	lua_State *L = s->L;
	int p = lua_absindex(L, -1);
	lua_Integer i = lo, j = up - 1;

	for (;;) {
		for (;;) {
			lua_geti(L, 1, ++i);
			if (!sort_less(s, lua_absindex(L, -1), p))
				break;
			if (i == up - 1)
				luaL_error(L, "invalid order function for sorting");
			lua_pop(L, 1);
		}
		for (;;) {
			lua_geti(L, 1, --j);
			if (!sort_less(s, p, lua_absindex(L, -1)))
				break;
			if (j < i)
				luaL_error(L, "invalid order function for sorting");
			lua_pop(L, 1);
		}
		lua_pop(L, 2);		/* list[i], list[j] */
		if (j < i)
			return i;
		sort_swap(L, i, j);
	}
}

static void
sort_range(struct sorter *s, lua_Integer lo, lua_Integer up)
{
	lua_State *L = s->L;

	while (lo < up) {
		lua_Integer mid, p;

		sort_order2(s, lo, up);
		if (up - lo == 1)
			return;
		mid = sort_pivot_index(s, lo, up);
		sort_order2(s, lo, mid);
		sort_order2(s, mid, up);
		if (up - lo == 2)
			return;
		/* the median of three is the pivot: it waits at up - 1 */
		sort_swap(L, mid, up - 1);
		lua_geti(L, 1, up - 1);
		p = sort_partition(s, lo, up);
		lua_pop(L, 1);
		sort_swap(L, up - 1, p);
		/* recurse into the shorter side, loop on the longer: log n deep */
		if (p - lo < up - p) {
			sort_range(s, lo, p - 1);
			lo = p + 1;
		} else {
			sort_range(s, p + 1, up);
			up = p - 1;
		}
	}
}

static int
sort_lua(lua_State *L)
{
	const struct lua_tick_hooks *hooks = lua_touserdata(L, lua_upvalueindex(1));
	struct sorter s = { .L = L, .hooks = hooks };
	lua_Integer n;

	/* a table, or anything whose length, reads and writes are metamethods */
	if (lua_type(L, 1) != LUA_TTABLE) {
		int ok = lua_getmetatable(L, 1);

		if (ok) {
			ok = lua_getfield(L, -1, "__index") != LUA_TNIL;
			ok = (lua_getfield(L, -2, "__newindex") != LUA_TNIL) && ok;
			ok = (lua_getfield(L, -3, "__len") != LUA_TNIL) && ok;
			lua_pop(L, 4);
		}
		if (!ok)
			luaL_checktype(L, 1, LUA_TTABLE);
	}
	n = luaL_len(L, 1);
	if (n <= 1)
		return 0;
	luaL_argcheck(L, n < INT_MAX, 1, "array too big");
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TFUNCTION);
		s.has_comp = 1;
	}
	lua_settop(L, 2);
	luaL_checkstack(L, 8, "table.sort");
	s.rnd = (uint32_t)clock() ^ (uint32_t)time(NULL) ^ (uint32_t)n;
	if (s.rnd == 0)
		s.rnd = 0x9e3779b9u;
	sort_range(&s, 1, n);
	return 0;
}

void
lua_sort_install(lua_State *L, int idx, const struct lua_tick_hooks *hooks)
{
	idx = lua_absindex(L, idx);
	lua_pushlightuserdata(L, (void *)hooks);
	lua_pushcclosure(L, sort_lua, 1);
	lua_setfield(L, idx, "sort");
}
