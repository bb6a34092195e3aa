/*
 * lua-json.c - Lua values to and from json-c objects, and berth.json
 * (encode/decode) for scripts.
 *
 * A table whose keys are exactly 1..n (n > 0) becomes an array, any other
 * table an object (keys converted to strings); berth.json.null stands for
 * JSON null inside tables.  Nesting deeper than 64 levels (and so any cycle)
 * is refused.  Not for: JSON parsing itself (json-c does it).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "core/util.h"
#include "script/script-int.h"

#define JSON_MAX_DEPTH 64

/* The registry key of berth.json.null (a unique light userdata). */
static char json_null_key;

static void
push_json_depth(lua_State *L, json_object *o, int depth)
{
	luaL_checkstack(L, 4, "JSON too deep");
	switch (json_object_get_type(o)) {
	case json_type_null:
		lua_pushlightuserdata(L, &json_null_key);
		break;
	case json_type_boolean:
		lua_pushboolean(L, json_object_get_boolean(o));
		break;
	case json_type_int:
		lua_pushinteger(L, (lua_Integer)json_object_get_int64(o));
		break;
	case json_type_double:
		lua_pushnumber(L, json_object_get_double(o));
		break;
	case json_type_string:
		lua_pushlstring(L, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		break;
	case json_type_array: {
		size_t i, n = json_object_array_length(o);

		lua_createtable(L, (int)(n < 1024 ? n : 1024), 0);
		if (depth >= JSON_MAX_DEPTH)
			break;
		for (i = 0; i < n; i++) {
			push_json_depth(L, json_object_array_get_idx(o, i), depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case json_type_object:
		lua_newtable(L);
		if (depth >= JSON_MAX_DEPTH)
			break;
		{
			json_object_object_foreach(o, k, v) {
				if (v == NULL)
					continue;	/* null members: absent in Lua */
				push_json_depth(L, v, depth + 1);
				lua_setfield(L, -2, k);
			}
		}
		break;
	}
}

/* [-0, +1, m] */
void
script_push_json(lua_State *L, json_object *o)
{
	if (o == NULL) {
		lua_pushnil(L);
		return;
	}
	push_json_depth(L, o, 0);
}

static int
table_is_array(lua_State *L, int idx, size_t *len)
{
	lua_Integer n = 0;
	size_t count = 0;

	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		count++;
		if (!lua_isinteger(L, -1)) {
			lua_pop(L, 1);
			return 0;
		}
		if (lua_tointeger(L, -1) > n)
			n = lua_tointeger(L, -1);
	}
	*len = count;
	return count > 0 && (size_t)n == count;
}

static int
to_json_depth(lua_State *L, int idx, json_object **out, int depth, struct berr *err)
{
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		*out = NULL;
		return 0;
	case LUA_TBOOLEAN:
		*out = json_object_new_boolean(lua_toboolean(L, idx));
		return 0;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			*out = json_object_new_int64((int64_t)lua_tointeger(L, idx));
		} else {
			double d = lua_tonumber(L, idx);

			if (!isfinite(d))
				return berr_set(err, BERR_INVALID, "JSON has no %s",
						isnan(d) ? "NaN" : "infinity");
			*out = json_object_new_double(d);
		}
		return 0;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);

		*out = json_object_new_string_len(s, (int)len);
		return 0;
	}
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == &json_null_key) {
			*out = NULL;
			return 0;
		}
		break;
	case LUA_TTABLE: {
		size_t len, i;
		json_object *o;

		if (depth >= JSON_MAX_DEPTH)
			return berr_set(err, BERR_INVALID,
					"table nested deeper than %d levels (a cycle?)", JSON_MAX_DEPTH);
		luaL_checkstack(L, 4, "table too deep");
		if (table_is_array(L, idx, &len)) {
			o = json_object_new_array();
			for (i = 1; i <= len; i++) {
				json_object *v;

				lua_rawgeti(L, idx, (lua_Integer)i);
				if (to_json_depth(L, -1, &v, depth + 1, err) < 0) {
					lua_pop(L, 1);
					json_object_put(o);
					return berr_wrap(err, "[%zu]", i);
				}
				lua_pop(L, 1);
				json_object_array_add(o, v);
			}
			*out = o;
			return 0;
		}
		o = json_object_new_object();
		lua_pushnil(L);
		while (lua_next(L, idx) != 0) {
			json_object *v;
			char numkey[32];
			const char *key;

			if (lua_type(L, -2) == LUA_TSTRING) {
				key = lua_tostring(L, -2);
			} else if (lua_type(L, -2) == LUA_TNUMBER) {
				if (lua_isinteger(L, -2))
					snprintf(numkey, sizeof numkey, "%lld",
						 (long long)lua_tointeger(L, -2));
				else
					snprintf(numkey, sizeof numkey, "%.14g", lua_tonumber(L, -2));
				key = numkey;
			} else {
				lua_pop(L, 2);
				json_object_put(o);
				return berr_set(err, BERR_INVALID, "a %s cannot be a JSON key",
						luaL_typename(L, -1));
			}
			if (to_json_depth(L, -1, &v, depth + 1, err) < 0) {
				berr_wrap(err, "`%s'", key);
				lua_pop(L, 2);
				json_object_put(o);
				return -1;
			}
			json_object_object_add(o, key, v);
			lua_pop(L, 1);
		}
		*out = o;
		return 0;
	}
	default:
		break;
	}
	return berr_set(err, BERR_INVALID, "a %s cannot be turned into JSON", luaL_typename(L, idx));
}

int
script_to_json(lua_State *L, int idx, json_object **out, struct berr *err)
{
	return to_json_depth(L, idx, out, 0, err);
}

/* berth.json.encode(value [, pretty]) -> string | nil, message
 * [-1|2, +1|2, m] */
static int
json_encode(lua_State *L)
{
	struct berr err = { 0 };
	json_object *o;
	int flags = lua_toboolean(L, 2) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
					: JSON_C_TO_STRING_PLAIN;

	luaL_checkany(L, 1);
	if (script_to_json(L, 1, &o, &err) < 0)
		return script_push_berr(L, &err);
	lua_pushstring(L, o ? json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE)
			    : "null");
	json_object_put(o);
	return 1;
}

/* berth.json.decode(string) -> value | nil, message
 * [-1, +1|2, m] */
static int
json_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	json_object *o;
	enum json_tokener_error jerr;

	if (tok == NULL)
		return luaL_error(L, "out of memory");
	o = json_tokener_parse_ex(tok, s, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_success) {
		size_t end = json_tokener_get_parse_end(tok);

		while (end < len && strchr(" \t\r\n", s[end]) != NULL)
			end++;
		if (end < len) {
			json_object_put(o);
			json_tokener_free(tok);
			lua_pushnil(L);
			lua_pushfstring(L, "invalid JSON: trailing data at offset %d", (int)end);
			return 2;
		}
	} else if (jerr == json_tokener_continue) {
		json_tokener_free(tok);
		lua_pushnil(L);
		lua_pushliteral(L, "invalid JSON: unexpected end of input");
		return 2;
	}
	if (jerr != json_tokener_success) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid JSON: %s", json_tokener_error_desc(jerr));
		json_tokener_free(tok);
		return 2;
	}
	json_tokener_free(tok);
	script_push_json(L, o);
	json_object_put(o);
	return 1;
}

/* Push the berth.json table.  [-0, +1, m] */
int
script_json_open(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "encode", json_encode },
		{ "decode", json_decode },
		{ NULL, NULL },
	};

	luaL_newlib(L, funcs);
	lua_pushlightuserdata(L, &json_null_key);
	lua_setfield(L, -2, "null");
	return 1;
}
