/*
 * lua-pattern.c - string.find, string.match, string.gmatch and string.gsub
 * with Lua 5.4's pattern language, for berth's Lua states.
 *
 * Lua's own matcher runs in C without ever reaching the debug hook, so a
 * backtracking pattern such as ("a"):rep(40):find(("a*"):rep(40) .. "b")
 * would ignore Ctrl-C, --timeout and the instruction budget for hours.
 * This one behaves the same (results and error messages; the differential
 * test tests/unit/test-lua-pattern.c holds it to that) and calls a tick
 * function every PATTERN_TICK_STEPS steps, which may raise a Lua error to
 * stop the script.  Not for: anything besides these four functions; the
 * rest of the string library stays Lua's.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "script/lua-interruptible.h"

#define PATTERN_TICK_STEPS 1024
#define PATTERN_MAX_CAPTURES 32	/* LUA_MAXCAPTURES */
#define PATTERN_MAX_DEPTH 200		/* MAXCCALLS: recursion of pattern_match */
#define PATTERN_ESC '%'
#define PATTERN_SPECIALS "^$*+?.([%-"

#define CAPTURE_OPEN (-1)		/* started, not yet closed */
#define CAPTURE_POSITION (-2)		/* () */

struct pattern_state {
	const char *src;		/* subject */
	const char *src_end;
	const char *p_end;		/* end of pattern (a NUL follows it) */
	lua_State *L;
	const struct lua_tick_hooks *hooks;
	unsigned steps;			/* since the last tick */
	int depth_left;
	int level;			/* captures in use */
	struct {
		const char *init;
		ptrdiff_t len;
	} capture[PATTERN_MAX_CAPTURES];
};

static const char *pattern_match(struct pattern_state *ps, const char *s, const char *p);

static void
pattern_step(struct pattern_state *ps)
{
	if (++ps->steps < PATTERN_TICK_STEPS)
		return;
	if (ps->hooks != NULL && ps->hooks->tick != NULL)
		ps->hooks->tick(ps->L, ps->steps);
	ps->steps = 0;
}

static int
pattern_class_matches(int c, int cl)
{
	int res;

	switch (tolower(cl)) {
	case 'a': res = isalpha(c); break;
	case 'c': res = iscntrl(c); break;
	case 'd': res = isdigit(c); break;
	case 'g': res = isgraph(c); break;
	case 'l': res = islower(c); break;
	case 'p': res = ispunct(c); break;
	case 's': res = isspace(c); break;
	case 'u': res = isupper(c); break;
	case 'w': res = isalnum(c); break;
	case 'x': res = isxdigit(c); break;
	case 'z': res = c == 0; break;	/* deprecated in Lua 5.2, still there */
	default: return cl == c;	/* %. etc.: the character itself */
	}
	if (isupper(cl))
		res = !res;
	return res != 0;
}

/* p points at '[', last at the closing ']'. */
static int
pattern_set_matches(int c, const char *p, const char *last)
{
	int want = 1;

	if (p[1] == '^') {
		want = 0;
		p++;
	}
	while (++p < last) {
		if (*p == PATTERN_ESC) {
			p++;
			if (pattern_class_matches(c, (unsigned char)*p))
				return want;
		} else if (p[1] == '-' && p + 2 < last) {
			if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
				return want;
			p += 2;
		} else if ((unsigned char)*p == c) {
			return want;
		}
	}
	return !want;
}

/* The end of the single-character class starting at p. */
static const char *
pattern_class_end(struct pattern_state *ps, const char *p)
{
	char c = *p++;

	if (c == PATTERN_ESC) {
		if (p == ps->p_end)
			luaL_error(ps->L, "malformed pattern (ends with '%%')");
		return p + 1;
	}
	if (c != '[')
		return p;
	if (*p == '^')
		p++;
	/* the first character is taken literally, so "[]]" is a set of ']' */
	do {
		if (p == ps->p_end)
			luaL_error(ps->L, "malformed pattern (missing ']')");
		if (*p++ == PATTERN_ESC && p < ps->p_end)
			p++;
	} while (*p != ']');
	return p + 1;
}

static int
pattern_single(struct pattern_state *ps, const char *s, const char *p, const char *ep)
{
	int c;

	if (s >= ps->src_end)
		return 0;
	c = (unsigned char)*s;
	switch (*p) {
	case '.':
		return 1;
	case PATTERN_ESC:
		return pattern_class_matches(c, (unsigned char)p[1]);
	case '[':
		return pattern_set_matches(c, p, ep - 1);
	default:
		return (unsigned char)*p == c;
	}
}

static const char *
pattern_balance(struct pattern_state *ps, const char *s, const char *p)
{
	int open, close, depth = 1;

	if (p >= ps->p_end - 1)
		luaL_error(ps->L, "malformed pattern (missing arguments to '%%b')");
	if (s >= ps->src_end || *s != *p)
		return NULL;
	open = *p;
	close = p[1];
	while (++s < ps->src_end) {
		pattern_step(ps);
		if (*s == close) {
			if (--depth == 0)
				return s + 1;
		} else if (*s == open) {
			depth++;
		}
	}
	return NULL;
}

/* Greedy repetition: the longest run first, then shorter ones. */
static const char *
pattern_expand_max(struct pattern_state *ps, const char *s, const char *p, const char *ep)
{
	ptrdiff_t n = 0;
	const char *res;

	while (pattern_single(ps, s + n, p, ep)) {
		pattern_step(ps);
		n++;
	}
	for (; n >= 0; n--) {
		res = pattern_match(ps, s + n, ep + 1);
		if (res != NULL)
			return res;
	}
	return NULL;
}

static const char *
pattern_expand_min(struct pattern_state *ps, const char *s, const char *p, const char *ep)
{
	const char *res;

	for (;;) {
		res = pattern_match(ps, s, ep + 1);
		if (res != NULL)
			return res;
		if (!pattern_single(ps, s, p, ep))
			return NULL;
		s++;
	}
}

static const char *
pattern_capture_open(struct pattern_state *ps, const char *s, const char *p, ptrdiff_t what)
{
	const char *res;

	if (ps->level >= PATTERN_MAX_CAPTURES)
		luaL_error(ps->L, "too many captures");
	ps->capture[ps->level].init = s;
	ps->capture[ps->level].len = what;
	ps->level++;
	res = pattern_match(ps, s, p);
	if (res == NULL)
		ps->level--;
	return res;
}

static const char *
pattern_capture_close(struct pattern_state *ps, const char *s, const char *p)
{
	const char *res;
	int l;

	for (l = ps->level - 1; l >= 0; l--)
		if (ps->capture[l].len == CAPTURE_OPEN)
			break;
	if (l < 0)
		luaL_error(ps->L, "invalid pattern capture");
	ps->capture[l].len = s - ps->capture[l].init;
	res = pattern_match(ps, s, p);
	if (res == NULL)
		ps->capture[l].len = CAPTURE_OPEN;
	return res;
}

/* %1..%9 inside a pattern: the text of an earlier, closed capture. */
static const char *
pattern_backref(struct pattern_state *ps, const char *s, int digit)
{
	int l = digit - '1';
	size_t len;

	if (l < 0 || l >= ps->level || ps->capture[l].len == CAPTURE_OPEN)
		luaL_error(ps->L, "invalid capture index %%%d", l + 1);
	len = (size_t)ps->capture[l].len;
	if ((size_t)(ps->src_end - s) >= len && memcmp(ps->capture[l].init, s, len) == 0)
		return s + len;
	return NULL;
}

static const char *
pattern_match(struct pattern_state *ps, const char *s, const char *p)
{
	const char *ep, *res = NULL;
	int m;

	if (ps->depth_left-- == 0)
		luaL_error(ps->L, "pattern too complex");
	while (p != ps->p_end) {
		pattern_step(ps);
		switch (*p) {
		case '(':
			if (p[1] == ')')
				res = pattern_capture_open(ps, s, p + 2, CAPTURE_POSITION);
			else
				res = pattern_capture_open(ps, s, p + 1, CAPTURE_OPEN);
			goto out;
		case ')':
			res = pattern_capture_close(ps, s, p + 1);
			goto out;
		case '$':
			if (p + 1 != ps->p_end)
				break;
			res = s == ps->src_end ? s : NULL;
			goto out;
		case PATTERN_ESC:
			if (p[1] == 'b') {
				s = pattern_balance(ps, s, p + 2);
				if (s == NULL)
					goto fail;
				p += 4;
				continue;
			}
			if (p[1] == 'f') {
				int prev;

				p += 2;
				if (*p != '[')
					luaL_error(ps->L, "missing '[' after '%%f' in pattern");
				ep = pattern_class_end(ps, p);
				prev = s == ps->src ? '\0' : (unsigned char)s[-1];
				/* at the subject's end *s is its terminating NUL */
				if (pattern_set_matches(prev, p, ep - 1) ||
				    !pattern_set_matches((unsigned char)*s, p, ep - 1))
					goto fail;
				p = ep;
				continue;
			}
			if (isdigit((unsigned char)p[1])) {
				s = pattern_backref(ps, s, (unsigned char)p[1]);
				if (s == NULL)
					goto fail;
				p += 2;
				continue;
			}
			break;
		default:
			break;
		}
		/* a single-character class, maybe followed by a repetition */
		ep = pattern_class_end(ps, p);
		m = pattern_single(ps, s, p, ep);
		switch (*ep) {
		case '?':
			if (m && (res = pattern_match(ps, s + 1, ep + 1)) != NULL)
				goto out;
			p = ep + 1;
			continue;
		case '+':
			res = m ? pattern_expand_max(ps, s + 1, p, ep) : NULL;
			goto out;
		case '*':
			res = pattern_expand_max(ps, s, p, ep);
			goto out;
		case '-':
			res = pattern_expand_min(ps, s, p, ep);
			goto out;
		default:
			if (!m)
				goto fail;
			s++;
			p = ep;
			continue;
		}
	}
	res = s;
	goto out;
fail:
	res = NULL;
out:
	ps->depth_left++;
	return res;
}

static void
pattern_prepare(struct pattern_state *ps, lua_State *L, const char *s, size_t ls,
		const char *p, size_t lp)
{
	ps->L = L;
	ps->src = s;
	ps->src_end = s + ls;
	ps->p_end = p + lp;
	ps->hooks = lua_touserdata(L, lua_upvalueindex(1));
	ps->steps = 0;
}

static void
pattern_reset(struct pattern_state *ps)
{
	ps->level = 0;
	ps->depth_left = PATTERN_MAX_DEPTH;
}

/* Pushes capture i (the whole match s..e when there are none); returns its
 * length, or CAPTURE_POSITION when it pushed a position instead, and sets
 * *text to its start. */
static ptrdiff_t
pattern_capture_get(struct pattern_state *ps, int i, const char *s, const char *e,
		    const char **text)
{
	ptrdiff_t len;

	if (i >= ps->level) {
		if (i != 0)
			luaL_error(ps->L, "invalid capture index %%%d", i + 1);
		*text = s;
		return e - s;
	}
	len = ps->capture[i].len;
	*text = ps->capture[i].init;
	if (len == CAPTURE_OPEN)
		luaL_error(ps->L, "unfinished capture");
	else if (len == CAPTURE_POSITION)
		lua_pushinteger(ps->L, (ps->capture[i].init - ps->src) + 1);
	return len;
}

/* [-0, +1] */
static void
pattern_push_capture(struct pattern_state *ps, int i, const char *s, const char *e)
{
	const char *text;
	ptrdiff_t len = pattern_capture_get(ps, i, s, e, &text);

	if (len != CAPTURE_POSITION)
		lua_pushlstring(ps->L, text, (size_t)len);
}

/* [-0, +n]; with s == NULL and no captures, pushes nothing. */
static int
pattern_push_captures(struct pattern_state *ps, const char *s, const char *e)
{
	int i, n = ps->level == 0 && s != NULL ? 1 : ps->level;

	luaL_checkstack(ps->L, n, "too many captures");
	for (i = 0; i < n; i++)
		pattern_push_capture(ps, i, s, e);
	return n;
}

/* Lua's posrelatI: a 1-based start position, negative from the end. */
static size_t
pattern_start(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0)
		return 1;
	if (pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

static int
pattern_has_specials(const char *p, size_t lp)
{
	size_t i;

	for (i = 0; i < lp; i++)
		if (p[i] != '\0' && strchr(PATTERN_SPECIALS, p[i]) != NULL)
			return 1;
	return 0;
}

static const char *
pattern_find_plain(struct pattern_state *ps, const char *s, size_t ls, const char *p, size_t lp)
{
	const char *hit;

	if (lp == 0)
		return s;
	while (lp <= ls && (hit = memchr(s, *p, ls - lp + 1)) != NULL) {
		pattern_step(ps);
		if (memcmp(hit + 1, p + 1, lp - 1) == 0)
			return hit;
		ls -= (size_t)(hit + 1 - s);
		s = hit + 1;
	}
	return NULL;
}

static int
pattern_find_or_match(lua_State *L, int find)
{
	struct pattern_state ps;
	size_t ls, lp, init;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *s1, *e;
	int anchor;

	init = pattern_start(luaL_optinteger(L, 3, 1), ls) - 1;
	if (init > ls) {
		luaL_pushfail(L);
		return 1;
	}
	pattern_prepare(&ps, L, s, ls, p, lp);
	if (find && (lua_toboolean(L, 4) || !pattern_has_specials(p, lp))) {
		s1 = pattern_find_plain(&ps, s + init, ls - init, p, lp);
		if (s1 == NULL) {
			luaL_pushfail(L);
			return 1;
		}
		lua_pushinteger(L, (s1 - s) + 1);
		lua_pushinteger(L, (lua_Integer)((size_t)(s1 - s) + lp));
		return 2;
	}
	anchor = *p == '^';
	if (anchor) {
		p++;
		lp--;
		ps.p_end = p + lp;
	}
	s1 = s + init;
	do {
		pattern_reset(&ps);
		pattern_step(&ps);
		e = pattern_match(&ps, s1, p);
		if (e != NULL) {
			if (!find)
				return pattern_push_captures(&ps, s1, e);
			lua_pushinteger(L, (s1 - s) + 1);
			lua_pushinteger(L, e - s);
			return pattern_push_captures(&ps, NULL, NULL) + 2;
		}
	} while (s1++ < ps.src_end && !anchor);
	luaL_pushfail(L);
	return 1;
}

/* string.find(s, pattern [, init [, plain]]) */
static int
pattern_lua_find(lua_State *L)
{
	return pattern_find_or_match(L, 1);
}

/* string.match(s, pattern [, init]) */
static int
pattern_lua_match(lua_State *L)
{
	return pattern_find_or_match(L, 0);
}

struct pattern_iter {
	struct pattern_state ps;
	const char *next;		/* where the next search starts */
	const char *last_end;		/* end of the last match: no empty match there */
};

static int
pattern_gmatch_step(lua_State *L)
{
	struct pattern_iter *it = lua_touserdata(L, lua_upvalueindex(3));
	const char *p = lua_tostring(L, lua_upvalueindex(2));
	const char *src, *e;

	it->ps.L = L;
	it->ps.hooks = lua_touserdata(L, lua_upvalueindex(4));
	for (src = it->next; src <= it->ps.src_end; src++) {
		pattern_reset(&it->ps);
		pattern_step(&it->ps);
		e = pattern_match(&it->ps, src, p);
		if (e != NULL && e != it->last_end) {
			it->next = it->last_end = e;
			return pattern_push_captures(&it->ps, src, e);
		}
	}
	return 0;
}

/* string.gmatch(s, pattern [, init]); a leading '^' is an ordinary
 * character here, as in Lua. */
static int
pattern_lua_gmatch(lua_State *L)
{
	size_t ls, lp, init;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	struct pattern_iter *it;

	init = pattern_start(luaL_optinteger(L, 3, 1), ls) - 1;
	if (init > ls)
		init = ls + 1;
	lua_settop(L, 2);
	it = lua_newuserdatauv(L, sizeof *it, 0);
	pattern_prepare(&it->ps, L, s, ls, p, lp);
	it->next = s + init;
	it->last_end = NULL;
	lua_pushvalue(L, lua_upvalueindex(1));
	/* the strings stay alive as upvalues of the iterator */
	lua_pushcclosure(L, pattern_gmatch_step, 4);
	return 1;
}

/* A replacement string with %0..%9 and %%. */
static void
pattern_add_template(struct pattern_state *ps, luaL_Buffer *b, const char *s, const char *e)
{
	size_t l;
	const char *t = lua_tolstring(ps->L, 3, &l);
	const char *esc, *text;
	ptrdiff_t len;

	while ((esc = memchr(t, PATTERN_ESC, l)) != NULL) {
		luaL_addlstring(b, t, (size_t)(esc - t));
		esc++;
		if (*esc == PATTERN_ESC) {
			luaL_addchar(b, *esc);
		} else if (*esc == '0') {
			luaL_addlstring(b, s, (size_t)(e - s));
		} else if (isdigit((unsigned char)*esc)) {
			len = pattern_capture_get(ps, *esc - '1', s, e, &text);
			if (len == CAPTURE_POSITION)
				luaL_addvalue(b);
			else
				luaL_addlstring(b, text, (size_t)len);
		} else {
			luaL_error(ps->L, "invalid use of '%c' in replacement string", PATTERN_ESC);
		}
		l -= (size_t)(esc + 1 - t);
		t = esc + 1;
	}
	luaL_addlstring(b, t, l);
}

/* Adds the replacement of the match s..e; returns whether it differs from
 * the match (false when a function or table gave nil or false). */
static int
pattern_add_replacement(struct pattern_state *ps, luaL_Buffer *b, const char *s, const char *e,
			int repl_type)
{
	lua_State *L = ps->L;
	int n;

	switch (repl_type) {
	case LUA_TFUNCTION:
		lua_pushvalue(L, 3);
		n = pattern_push_captures(ps, s, e);
		lua_call(L, n, 1);
		break;
	case LUA_TTABLE:
		pattern_push_capture(ps, 0, s, e);
		lua_gettable(L, 3);
		break;
	default:
		pattern_add_template(ps, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s));
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return 1;
}

/* string.gsub(s, pattern, repl [, n]) */
static int
pattern_lua_gsub(lua_State *L)
{
	struct pattern_state ps;
	luaL_Buffer b;
	size_t ls, lp;
	const char *src = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *last_end = NULL, *e;
	int repl_type = lua_type(L, 3);
	lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
	lua_Integer n = 0;
	int anchor = *p == '^', changed = 0;

	luaL_argexpected(L, repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING ||
			 repl_type == LUA_TFUNCTION || repl_type == LUA_TTABLE,
			 3, "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--;
	}
	pattern_prepare(&ps, L, src, ls, p, lp);
	while (n < max_n) {
		pattern_reset(&ps);
		pattern_step(&ps);
		e = pattern_match(&ps, src, p);
		if (e != NULL && e != last_end) {
			n++;
			changed |= pattern_add_replacement(&ps, &b, src, e, repl_type);
			src = last_end = e;
		} else if (src < ps.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		luaL_addlstring(&b, src, (size_t)(ps.src_end - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

void
lua_pattern_install(lua_State *L, int idx, const struct lua_tick_hooks *hooks)
{
	static const luaL_Reg funcs[] = {
		{ "find", pattern_lua_find },
		{ "match", pattern_lua_match },
		{ "gmatch", pattern_lua_gmatch },
		{ "gsub", pattern_lua_gsub },
		{ NULL, NULL },
	};

	lua_pushvalue(L, idx);
	lua_pushlightuserdata(L, (void *)hooks);
	luaL_setfuncs(L, funcs, 1);
	lua_pop(L, 1);
}
