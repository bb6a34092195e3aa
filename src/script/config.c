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

/* The line where `key =` first appears in text (1-based), 0 if not found:
 * a table's entries carry no line numbers of their own. */
static int
config_find_line(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;
	int line = 1;

	for (; *p != '\0'; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (strncmp(p, key, klen) == 0 &&
		    (p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
				    (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9')))) {
			const char *q = p + klen;

			while (*q == ' ' || *q == '\t' || *q == ']' || *q == '"' || *q == '\'')
				q++;
			if (*q == '=' && q[1] != '=')
				return line;
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
			lua_pop(L, 2);
			return berr_set(err, BERR_INVALID, "%s: %s has a key that is not a name", path,
					what);
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
