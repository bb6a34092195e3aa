/*
 * config.c - init.lua: berth's configuration file, run in the global Lua
 * state at start-up.
 *
 * It may call berth.set(name, value), berth.bind(key, command) and
 * berth.connect(uri), set a global table `options = {name = value}`, or
 * return a table {name = value, ..., keys = {[key] = command},
 * hosts = {uri, ...}}.  Every error names the file, the line and the option
 * (berth.conf(5)).  Not for: the options table itself (core/options.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/options.h"
#include "core/session.h"
#include "core/util.h"
#include "script/script-int.h"

#define CONFIG_MAX_SIZE (1u << 20)

static int
config_is_name_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* At p a Lua long bracket `[[`, `[=[`...: its level (number of '='),
 * -1 if it is none. */
static int
config_long_bracket(const char *p)
{
	int level = 0;

	if (*p++ != '[')
		return -1;
	while (*p == '=') {
		level++;
		p++;
	}
	return *p == '[' ? level : -1;
}

/* Past the long bracket of this level that closes at p; counts lines. */
static const char *
config_skip_long(const char *p, int level, int *line)
{
	for (; *p != '\0'; p++) {
		if (*p == '\n') {
			(*line)++;
		} else if (*p == ']') {
			const char *q = p + 1;
			int n = 0;

			while (*q == '=') {
				n++;
				q++;
			}
			if (n == level && *q == ']')
				return q + 1;
		}
	}
	return p;
}

static const char *
config_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The line (1-based) of the first `key =` or `["key"] =` in text outside
 * comments and strings, 0 if there is none: a table's entries carry no
 * line numbers of their own. */
static int
config_find_line(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text, *q;
	int line = 1, level;

	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			level = config_long_bracket(p + 2);
			if (level >= 0) {
				p = config_skip_long(p + 4 + level, level, &line);
			} else {
				while (*p != '\0' && *p != '\n')
					p++;
			}
		} else if ((level = config_long_bracket(p)) >= 0) {
			p = config_skip_long(p + 2 + level, level, &line);
		} else if (*p == '"' || *p == '\'') {
			char quote = *p;
			const char *body = ++p;

			while (*p != '\0' && *p != quote && *p != '\n') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
			/* ["key"] = value */
			if (*p == quote && (size_t)(p - body) == klen && strncmp(body, key, klen) == 0 &&
			    body - 2 >= text && body[-2] == '[') {
				q = config_skip_space(p + 1);
				if (*q == ']') {
					q = config_skip_space(q + 1);
					if (*q == '=' && q[1] != '=')
						return line;
				}
			}
			if (*p == quote)
				p++;
		} else if (config_is_name_char(*p)) {
			const char *word = p;

			while (config_is_name_char(*p))
				p++;
			if ((size_t)(p - word) == klen && strncmp(word, key, klen) == 0 &&
			    (word == text || word[-1] != '.')) {
				q = config_skip_space(p);
				if (*q == '=' && q[1] != '=')
					return line;
			}
		} else {
			p++;
		}
	}
	return 0;
}

/* Apply table at idx with berth.set (and bind/connect for `keys` and
 * `hosts`).  Errors: "<file>:<line>: option `x': ...". */
static int
config_apply_table(lua_State *L, int idx, const char *path, const char *text, const char *what,
		   struct berr *err)
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		const char *key;
		int line, r;

		if (lua_type(L, -2) != LUA_TSTRING) {
			const char *vtype = luaL_typename(L, -1);

			berr_set(err, BERR_INVALID, "%s: %s has an entry that is not `name = value' "
				 "(a %s value under a %s key)", path, what, vtype, luaL_typename(L, -2));
			lua_pop(L, 2);
			return -1;
		}
		key = lua_tostring(L, -2);
		line = config_find_line(text, key);
		if (strcmp(what, "the returned table") == 0 &&
		    (strcmp(key, "keys") == 0 || strcmp(key, "hosts") == 0)) {
			const char *fn = strcmp(key, "keys") == 0 ? "bind" : "connect";

			if (!lua_istable(L, -1)) {
				lua_pop(L, 2);
				return berr_set(err, BERR_INVALID, "%s:%d: `%s' must be a table", path,
						line, key);
			}
			lua_pushnil(L);
			while (lua_next(L, -2) != 0) {
				int sub = lua_type(L, -2) == LUA_TSTRING
						  ? config_find_line(text, lua_tostring(L, -2))
						  : line;

				lua_getglobal(L, "berth");
				lua_getfield(L, -1, fn);
				lua_remove(L, -2);
				if (*fn == 'b') {
					lua_pushvalue(L, -3);
					lua_pushvalue(L, -3);
				} else {
					lua_pushvalue(L, -2);
				}
				r = lua_pcall(L, *fn == 'b' ? 2 : 1, 2, 0);
				if (r != LUA_OK || (lua_isnil(L, -2) && lua_isstring(L, -1))) {
					berr_set(err, BERR_INVALID, "%s:%d: %s: %s", path, sub ? sub : line,
						 key, lua_tostring(L, -1));
					lua_pop(L, r != LUA_OK ? 5 : 6);
					return -1;
				}
				lua_pop(L, 3);
			}
			lua_pop(L, 1);
			continue;
		}
		lua_getglobal(L, "berth");
		lua_getfield(L, -1, "set");
		lua_remove(L, -2);
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -3);
		r = lua_pcall(L, 2, 0, 0);
		if (r != LUA_OK) {
			const char *msg = lua_tostring(L, -1);

			if (line > 0)
				berr_set(err, BERR_INVALID, "%s:%d: %s", path, line, msg ? msg : "error");
			else
				berr_set(err, BERR_INVALID, "%s: %s: %s", path, what, msg ? msg : "error");
			lua_pop(L, 3);
			return -1;
		}
		lua_pop(L, 1);
	}
	return 0;
}

int
script_config_load(struct session *s, struct berr *err)
{
	struct berth_dirs own = { 0 };
	const char *dir;
	struct script *sc;
	char *path, *text = NULL;
	size_t len;
	lua_State *L;
	int top, r, rc = -1;

	if (s != NULL) {
		dir = s->dirs.config;
	} else {
		if (dirs_init(&own, err) < 0)
			return -1;
		dir = own.config;
	}
	path = xasprintf("%s/init.lua", dir ? dir : ".");
	dirs_free(&own);
	if (read_file(path, &text, &len, CONFIG_MAX_SIZE, err) < 0) {
		if (err->code == ENOENT) {
			berr_clear(err);
			free(path);
			if (s != NULL && script_global_peek() != NULL)
				script_set_session(script_global_peek(), s);
			return 0;
		}
		berr_wrap(err, "reading the configuration");
		free(path);
		return -1;
	}
	sc = script_global(s, err);
	if (sc == NULL)
		goto out;
	L = sc->L;
	top = lua_gettop(L);
	lua_pushfstring(L, "@%s", path);
	r = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
	lua_remove(L, -2);
	if (r != LUA_OK) {
		berr_set(err, BERR_INVALID, "%s", lua_tostring(L, -1));
		lua_settop(L, top);
		goto out;
	}
	sc->running++;
	r = lua_pcall(L, 0, 1, 0);
	sc->running--;
	if (r != LUA_OK) {
		if (sc->exit_requested)
			berr_set(err, BERR_INVALID, "%s: os.exit is not allowed here", path);
		else
			berr_set(err, BERR_INVALID, "%s", lua_tostring(L, -1));
		lua_settop(L, top);
		goto out;
	}
	if (lua_istable(L, -1) &&
	    config_apply_table(L, -1, path, text, "the returned table", err) < 0) {
		lua_settop(L, top);
		goto out;
	}
	if (!lua_isnil(L, -1) && !lua_istable(L, -1)) {
		berr_set(err, BERR_INVALID, "%s: returned a %s (expected a table of options or nothing)",
			 path, luaL_typename(L, -1));
		lua_settop(L, top);
		goto out;
	}
	lua_pop(L, 1);
	lua_getglobal(L, "options");
	if (lua_istable(L, -1) &&
	    config_apply_table(L, -1, path, text, "the global table `options'", err) < 0) {
		lua_settop(L, top);
		goto out;
	}
	lua_settop(L, top);
	rc = 0;
out:
	free(text);
	free(path);
	return rc;
}
