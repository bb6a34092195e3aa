/*
 * lua-berth.c - the `berth` Lua module: hosts, listing and resolving
 * instances, create, events (berth.on), sleep, parallel, the command table
 * (berth.cmd), options, connections, key bindings, plugin commands and
 * columns, HTTP POST and JSON.  The same module is loaded in scripts, the
 * shell, init.lua, plugins and the dashboard.  Documented in berth-lua(7).
 * Not for: instance methods (lua-instance.c) or running chunks (script.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/session.h"
#include "core/util.h"
#include "script/script-int.h"

/* The dashboard's key binding: weak, the TUI may be absent. */
int tui_bind_key(const char *key, const char *command_line, struct berr *err)
	__attribute__((weak));

/* Registry keys. */
static char handlers_key;	/* array of {type, fn, id} */
static char commands_key;	/* name -> {name, summary, usage, run} */
static char command_list_key;	/* array of names, in registration order */
static char columns_key;	/* array of {name, width, value} */

static int next_handler_id = 1;
static int next_binding_id = 1;

static void
registry_table(lua_State *L, void *key)
{
	lua_pushlightuserdata(L, key);
	if (lua_rawget(L, LUA_REGISTRYINDEX) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_pushlightuserdata(L, key);
	lua_pushvalue(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
}

/* ---- instances ---- */

static int
str_eq_opt(const char *want, const char *have)
{
	return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

static const char *
opt_field(lua_State *L, int t, const char *k)
{
	const char *v;

	if (t == 0)
		return NULL;
	lua_getfield(L, t, k);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "field `%s' must be a string", k);
	v = lua_tostring(L, -1);
	lua_pop(L, 1);	/* still referenced by the table */
	return v;
}

/* berth.list([{name = glob, kind = "vm"|"ct", state =, backend =, host =,
 * uri =}])
 * -> array of instances, array of warnings (unreachable hosts)
 * [-0|1, +2, e] */
static int
berth_list(lua_State *L)
{
	struct session *s = script_need_session(L);
	struct inst_list l = { 0 };
	const char *name, *kind, *state, *backend, *host, *uri;
	int t = lua_istable(L, 1) ? 1 : 0;
	lua_Integer n = 0;
	size_t i;

	if (!t && !lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	name = opt_field(L, t, "name");
	kind = opt_field(L, t, "kind");
	state = opt_field(L, t, "state");
	backend = opt_field(L, t, "backend");
	host = opt_field(L, t, "host");
	uri = opt_field(L, t, "uri");
	if (kind != NULL && strcmp(kind, "container") == 0)
		kind = "ct";
	if (kind != NULL && inst_kind_from_name(kind) < 0)
		return luaL_error(L, "unknown kind `%s' (vm or ct)", kind);
	if (state != NULL) {
		enum inst_state st = inst_state_from_name(state);

		if (st == INST_UNKNOWN && strcmp(state, "unknown") != 0)
			return luaL_error(L, "unknown state `%s' (running, stopped, paused, created, "
					  "shutdown, crashed or unknown)", state);
		state = inst_state_name(st);	/* "shutoff" is "stopped" */
	}
	session_list(s, &l);
	lua_createtable(L, (int)l.n, 0);
	for (i = 0; i < l.n; i++) {
		struct instance *inst = l.v[i];

		if (name != NULL && !glob_match(name, inst->name))
			continue;
		if (!str_eq_opt(kind, inst_kind_name(inst->kind)) ||
		    !str_eq_opt(state, inst_state_name(inst->state)) ||
		    !str_eq_opt(backend, inst->backend ? inst->backend->name : NULL) ||
		    !str_eq_opt(host, inst->host ? inst->host : "localhost") ||
		    !str_eq_opt(uri, inst->conn ? inst->conn->uri : NULL))
			continue;
		script_instance_push(L, inst);
		l.v[i] = NULL;
		lua_rawseti(L, -2, ++n);
	}
	for (i = 0; i < l.n; i++)
		instance_free(l.v[i]);
	l.n = 0;
	inst_list_clear(&l);
	lua_newtable(L);
	for (i = 0, n = 0; i < s->nfailures; i++) {
		if (!s->failures[i].from_list && !s->failures[i].requested)
			continue;
		lua_pushstring(L, s->failures[i].err.msg);
		lua_rawseti(L, -2, ++n);
	}
	return 2;
}

/* berth.get(name) -> instance | nil, message.  name: exact, "host:name",
 * "backend:name" or a unique UUID prefix.
 * [-1, +1|2, e] */
static int
berth_get(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	struct session *s = script_need_session(L);
	struct instance *inst = NULL;
	struct berr err = { 0 };

	if (session_resolve(s, name, &inst, &err) < 0)
		return script_push_berr(L, &err);
	script_instance_push(L, inst);
	return 1;
}

/* berth.hosts() -> array of {backend, host, uri, cpus, memory_kib, ...}
 * (whatever the backend's host_info gives; `error` when it failed).
 * [-0, +1, e] */
static int
berth_hosts(lua_State *L)
{
	struct session *s = script_need_session(L);
	size_t i;

	lua_createtable(L, (int)s->nconns, 0);
	for (i = 0; i < s->nconns; i++) {
		struct bconn *c = s->conns[i];
		json_object *info = NULL;
		struct berr err = { 0 };

		lua_newtable(L);
		if (c->ops->host_info != NULL) {
			if (c->ops->host_info(c, &info, &err) == 0 && info != NULL) {
				lua_pop(L, 1);
				script_push_json(L, info);
				json_object_put(info);
			} else {
				lua_pushstring(L, err.msg);
				lua_setfield(L, -2, "error");
			}
		}
		/* The documented name of free memory is free_memory_kib; the
		 * kvm and container backends call it memory_free_kib. */
		if (lua_getfield(L, -1, "free_memory_kib") == LUA_TNIL) {
			lua_pop(L, 1);
			lua_getfield(L, -1, "memory_free_kib");
			lua_setfield(L, -2, "free_memory_kib");
		} else {
			lua_pop(L, 1);
		}
		lua_pushstring(L, c->ops->name);
		lua_setfield(L, -2, "backend");
		lua_pushstring(L, conn_host(c));
		lua_setfield(L, -2, "host");
		if (c->uri != NULL) {
			lua_pushstring(L, c->uri);
			lua_setfield(L, -2, "uri");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* berth.create{name = ..., backend = ..., host = ..., xml = ..., ...}
 * -> instance | nil, message.  Every other field goes into the backend's
 * JSON definition (see berth(1) define).
 * [-1, +1|2, e] */
static int
berth_create(lua_State *L)
{
	struct session *s;
	const char *backend, *host, *xml;
	struct define_spec spec = { 0 };
	struct instance *inst = NULL;
	struct berr err = { 0 };
	struct bconn *c = NULL;
	json_object *json = NULL;
	int r;

	luaL_checktype(L, 1, LUA_TTABLE);
	/* A definition names host files (bundles, kernels, disks) that the
	 * backend opens as root. */
	if (script_of(L)->sandbox)
		return script_sandbox_refuse(L, "berth.create");
	s = script_need_session(L);
	spec.name = opt_field(L, 1, "name");
	backend = opt_field(L, 1, "backend");
	host = opt_field(L, 1, "host");
	xml = opt_field(L, 1, "xml");
	if (spec.name == NULL && xml == NULL)
		return luaL_error(L, "berth.create: field `name' is required");
	if (backend == NULL) {
		size_t i;
		const char *only = NULL;

		for (i = 0; i < s->nconns; i++) {
			if (only != NULL && strcmp(only, s->conns[i]->ops->name) != 0) {
				lua_pushnil(L);
				lua_pushliteral(L, "berth.create: several backends are connected; "
						   "say which with backend = \"...\"");
				return 2;
			}
			only = s->conns[i]->ops->name;
		}
		backend = only;
	}
	if (backend != NULL)
		c = session_find_conn(s, backend, host);
	if (c == NULL) {
		lua_pushnil(L);
		lua_pushfstring(L, "berth.create: no connection to backend `%s'%s%s",
				backend ? backend : "(none connected)", host ? " on host " : "",
				host ? host : "");
		return 2;
	}
	if (c->ops->define == NULL) {
		lua_pushnil(L);
		lua_pushfstring(L, "define: not supported by backend %s", c->ops->name);
		return 2;
	}
	if (xml != NULL) {
		spec.xml = xml;
	} else {
		/* The table less our own keys is the definition. */
		lua_newtable(L);
		lua_pushnil(L);
		while (lua_next(L, 1) != 0) {
			if (lua_type(L, -2) == LUA_TSTRING &&
			    (strcmp(lua_tostring(L, -2), "backend") == 0 ||
			     strcmp(lua_tostring(L, -2), "host") == 0)) {
				lua_pop(L, 1);
				continue;
			}
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -4);
		}
		if (script_to_json(L, -1, &json, &err) < 0) {
			berr_wrap(&err, "berth.create");
			return script_push_berr(L, &err);
		}
		lua_pop(L, 1);
		spec.json = json;
	}
	r = c->ops->define(c, &spec, &inst, &err);
	json_object_put(json);
	if (r < 0) {
		berr_wrap(&err, "defining `%s' on %s", spec.name ? spec.name : "(xml)", conn_host(c));
		return script_push_berr(L, &err);
	}
	if (inst->conn == NULL)
		inst->conn = c;
	if (inst->backend == NULL)
		inst->backend = c->ops;
	script_instance_push(L, inst);
	return 1;
}

/* ---- events ---- */

static void
set_str(lua_State *L, const char *k, const char *v)
{
	if (v == NULL)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

/* Runs protected: build the event table and call every matching handler.
 * [-1, +0, e] */
static int
events_dispatch(lua_State *L)
{
	const struct berth_event *ev = lua_touserdata(L, 1);
	lua_Integer i, n;

	registry_table(L, &handlers_key);		/* 2 */
	n = (lua_Integer)lua_rawlen(L, 2);
	lua_createtable(L, (int)n, 0);			/* 3: snapshot of the list */
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 2, i);
		lua_rawseti(L, 3, i);
	}
	lua_createtable(L, 0, 8);			/* 4: the event */
	set_str(L, "type", ev->type);
	set_str(L, "instance", ev->instance);
	set_str(L, "host", ev->host);
	set_str(L, "backend", ev->backend);
	set_str(L, "state", ev->state);
	set_str(L, "detail", ev->detail);
	lua_pushinteger(L, ev->ts_ms);
	lua_setfield(L, -2, "ts_ms");
	if (ev->data != NULL) {
		script_push_json(L, ev->data);
		lua_setfield(L, -2, "data");
	}
	for (i = 1; i <= n; i++) {
		const char *type;

		lua_rawgeti(L, 3, i);
		lua_getfield(L, -1, "type");
		type = lua_tostring(L, -1);
		if (type == NULL || (strcmp(type, "*") != 0 && ev->type != NULL &&
				     strcmp(type, ev->type) != 0)) {
			lua_pop(L, 2);
			continue;
		}
		lua_pop(L, 1);
		lua_getfield(L, -1, "fn");
		lua_pushvalue(L, 4);
		if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
			lua_getfield(L, -2, "id");
			script_report("event handler %d (%s): %s", (int)lua_tointeger(L, -1),
				      type, lua_tostring(L, -2));
			lua_pop(L, 2);
		}
		lua_pop(L, 1);
		if (script_interrupt_pending())
			break;
	}
	return 0;
}

static void (*guard_before)(void), (*guard_after)(void);

void
script_set_output_guard(void (*before)(void), void (*after)(void))
{
	guard_before = before;
	guard_after = after;
}

static void
events_on_bus(const struct berth_event *ev, void *arg)
{
	struct script *sc = arg;
	lua_State *L = sc->cur_L ? sc->cur_L : sc->L;
	int top = lua_gettop(L), idle = sc->running == 0;

	sc->wakeup = 1;
	if (!lua_checkstack(L, 8))
		return;
	if (idle && guard_before != NULL)
		guard_before();
	lua_pushcfunction(L, events_dispatch);
	lua_pushlightuserdata(L, (void *)ev);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK)
		script_report("event handlers: %s", lua_tostring(L, -1));
	lua_settop(L, top);
	fflush(stdout);
	if (idle && guard_after != NULL)
		guard_after();
}

void
script_events_attach(struct script *sc)
{
	lua_Integer n;

	if (sc->s == NULL || sc->evsub > 0)
		return;
	registry_table(sc->L, &handlers_key);
	n = (lua_Integer)lua_rawlen(sc->L, -1);
	lua_pop(sc->L, 1);
	if (n == 0)
		return;
	sc->evsub = evbus_subscribe(sc->s->bus, "*", events_on_bus, sc);
	sc->hooked = sc->s;
	session_enable_events(sc->s);
}

void
script_events_detach(struct script *sc)
{
	if (sc->evsub > 0 && sc->hooked != NULL)
		evbus_unsubscribe(sc->hooked->bus, sc->evsub);
	sc->evsub = 0;
	sc->hooked = NULL;
}

/* berth.on(type, fn) -> id.  type: one of berth_event_types or "*".  Handlers run while a script waits (berth.sleep, inst:wait,
 * console_expect, berth.parallel) and while the shell or dashboard idles.
 * [-2, +1, m] */
static int
berth_on(lua_State *L)
{
	static const char *const types[] = { "state", "defined", "undefined", "disconnected", "*",
					     NULL };
	struct script *sc = script_of(L);
	const char *type;
	int id;

	luaL_checkoption(L, 1, NULL, types);
	type = lua_tostring(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	id = next_handler_id++;
	registry_table(L, &handlers_key);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, type);
	lua_setfield(L, -2, "type");
	lua_pushvalue(L, 2);
	lua_setfield(L, -2, "fn");
	lua_pushinteger(L, id);
	lua_setfield(L, -2, "id");
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
	script_events_attach(sc);
	lua_pushinteger(L, id);
	return 1;
}

/* berth.off(id) -> true if a handler was removed.  [-1, +1, m] */
static int
berth_off(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1), i, n;
	int found = 0;

	registry_table(L, &handlers_key);
	n = (lua_Integer)lua_rawlen(L, -1);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		lua_getfield(L, -1, "id");
		found = lua_tointeger(L, -1) == id;
		lua_pop(L, 2);
		if (found)
			break;
	}
	if (found) {
		for (; i < n; i++) {
			lua_rawgeti(L, -1, i + 1);
			lua_rawseti(L, -2, i);
		}
		lua_pushnil(L);
		lua_rawseti(L, -2, n);
	}
	lua_pushboolean(L, found);
	return 1;
}

/* ---- waiting ---- */

/* Stack: seconds, deadline. */
static int
sleep_poll(lua_State *L, int64_t *wake)
{
	int64_t deadline = lua_tointeger(L, 2);

	if (now_ms() >= deadline)
		return 0;
	*wake = deadline;
	return -1;
}

/* berth.sleep(seconds): run the event loop (events are delivered) for that
 * long; inside berth.parallel other items run meanwhile.
 * [-1, +0, e] */
static int
berth_sleep(lua_State *L)
{
	double sec = luaL_checknumber(L, 1);

	if (!(sec >= 0 && sec <= 86400 * 7))
		return luaL_argerror(L, 1, "seconds out of range 0..604800");
	lua_settop(L, 1);
	lua_pushinteger(L, now_ms() + (int64_t)(sec * 1000));
	return script_block(L, sleep_poll);
}

/* ---- the command table ---- */

/* ---- the sandbox ---- */

int
script_sandbox_refuse(lua_State *L, const char *what)
{
	lua_pushnil(L);
	lua_pushfstring(L, "%s is not allowed in the sandbox", what);
	return 2;
}

/* Commands the sandbox may run through berth.cmd: they act on instances
 * that are already defined, or only print, and touch no host file, spawn
 * nothing and open no connection of their own (as the instance methods
 * left in the sandbox).  Everything else is refused: define reads a file,
 * run, shell, tui, console, exec and proxy run code or take the terminal,
 * pull and rmi change the image store, plugin commands run outside the
 * sandbox. */
static const char *const sandbox_commands[] = {
	"help", "version", "list", "info", "hosts", "stats", "images", "commands",
	"start", "shutdown", "kill", "pause", "resume", "destroy", "undefine", NULL,
};

/* Can an option cluster ("-jc", "-kct") or a long option ("--conn=x")
 * among argv[1..] ask cmd_run for a connection (--connect, -c)?  Scans
 * every word before "--", values included: a value that looks like -c is
 * refused too, which costs nothing real.  A letter of e's that takes a
 * value ends its cluster, as getopt has it. */
static int
cmd_args_connect(const struct cmd_entry *e, int argc, char **argv)
{
	static const char connect[] = "connect";
	int i, k;

	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0)
			break;
		if (w[0] != '-' || w[1] == '\0')
			continue;
		if (w[1] == '-') {
			size_t len = strcspn(w + 2, "=");

			/* getopt_long takes any unambiguous prefix. */
			if (len > 0 && len <= sizeof connect - 1 && strncmp(w + 2, connect, len) == 0)
				return 1;
			continue;
		}
		for (w++; *w != '\0'; w++) {
			if (*w == 'c')
				return 1;
			for (k = 0; k < CMD_MAX_OPTS && e->opts[k].name != NULL; k++)
				if (e->opts[k].short_name == *w)
					break;
			if (k < CMD_MAX_OPTS && e->opts[k].name != NULL && e->opts[k].has_arg)
				break;
		}
	}
	return 0;
}

/* Push the refusal (nil, message) and return 2 if the sandbox may not run
 * argv; 0 if it may. */
static int
cmd_sandbox_check(lua_State *L, int argc, char **argv)
{
	const struct cmd_entry *e = cmd_find(argv[0]);
	size_t i;

	for (i = 0; e != NULL && sandbox_commands[i] != NULL; i++)
		if (strcmp(e->name, sandbox_commands[i]) == 0)
			break;
	if (e == NULL || sandbox_commands[i] == NULL) {
		lua_pushnil(L);
		lua_pushfstring(L, "berth.cmd: command `%s' is not allowed in the sandbox", argv[0]);
		return 2;
	}
	if (cmd_args_connect(e, argc, argv))
		return script_sandbox_refuse(L, "berth.cmd: --connect (-c)");
	return 0;
}

/* berth.cmd("list --json") or berth.cmd{"list", "--json"}
 * -> output, exit code | nil, error output (or the output when there is
 * none), exit code.
 * Runs the command table as the shell does (plugin commands included); in
 * the sandbox only sandbox_commands, without --connect.
 * [-1, +2|3, e] */
static int
berth_cmd(lua_State *L)
{
	struct script *sc = script_of(L);
	struct berr err = { 0 };
	char **argv = NULL, *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	FILE *out, *errf;
	int argc = 0, rc, i;

	if (lua_type(L, 1) == LUA_TSTRING) {
		if (cmd_split(lua_tostring(L, 1), &argc, &argv, &err) < 0)
			return script_push_berr(L, &err);
	} else {
		lua_Integer n;

		luaL_checktype(L, 1, LUA_TTABLE);
		n = luaL_len(L, 1);
		if (n > 1024)
			return luaL_argerror(L, 1, "too many words");
		argv = xcalloc((size_t)n + 1, sizeof *argv);
		for (i = 0; i < n; i++) {
			lua_rawgeti(L, 1, i + 1);
			argv[argc++] = xstrdup(luaL_tolstring(L, -1, NULL));
			lua_pop(L, 2);
		}
	}
	if (argc == 0) {
		cmd_free_argv(argc, argv);
		return luaL_argerror(L, 1, "empty command");
	}
	if (sc->sandbox && cmd_sandbox_check(L, argc, argv) != 0) {
		cmd_free_argv(argc, argv);
		return 2;
	}
	out = open_memstream(&obuf, &olen);
	errf = open_memstream(&ebuf, &elen);
	if (out == NULL || errf == NULL) {
		if (out)
			fclose(out);
		if (errf)
			fclose(errf);
		cmd_free_argv(argc, argv);
		return luaL_error(L, "out of memory");
	}
	if (sc->s == NULL && !sc->own_session)
		script_need_session(L);
	if (cmd_find(argv[0]) == NULL && script_command_exists(argv[0]) &&
	    script_global_peek() == sc)
		rc = script_command_run(&sc->s, argc, argv, out, errf);
	else
		rc = cmd_run(&sc->s, argc, argv, out, errf, 1);
	fclose(out);
	fclose(errf);
	cmd_free_argv(argc, argv);
	if (rc == CMD_EXIT_OK || rc == CMD_EXIT_PARTIAL) {
		lua_pushlstring(L, obuf, olen);
		lua_pushinteger(L, rc);
		free(obuf);
		free(ebuf);
		return 2;
	}
	lua_pushnil(L);
	while (elen > 0 && (ebuf[elen - 1] == '\n' || ebuf[elen - 1] == ' '))
		elen--;
	while (olen > 0 && (obuf[olen - 1] == '\n' || obuf[olen - 1] == ' '))
		olen--;
	/* The error output, or the output when a command reported there. */
	if (elen > 0)
		lua_pushlstring(L, ebuf, elen);
	else
		lua_pushlstring(L, obuf, olen);
	lua_pushinteger(L, rc);
	free(obuf);
	free(ebuf);
	return 3;
}

/* ---- options, connections, bindings ---- */

/* berth.set(name, value): value a boolean, number, string or (for list
 * options) an array of strings.  Raises an error naming the option when the
 * name or value is wrong (in init.lua the message carries file and line).
 * [-2, +0, e] */
static int
berth_set(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct option_def *d = option_find(name);
	struct berr err = { 0 };
	int r;

	/* Options are the process's, not the script's: an error, as for any
	 * berth.set that cannot be done. */
	if (script_of(L)->sandbox)
		return luaL_error(L, "berth.set is not allowed in the sandbox");
	luaL_checkany(L, 2);
	if (d == NULL) {
		option_set(name, "", &err);
		return luaL_error(L, "%s", err.msg);
	}
	switch (lua_type(L, 2)) {
	case LUA_TBOOLEAN:
		if (d->type != OPT_BOOL)
			return luaL_error(L, "option `%s' takes %s, not a boolean", name,
					  d->type == OPT_INT ? "an integer" : "a string");
		r = option_set(name, lua_toboolean(L, 2) ? "true" : "false", &err);
		break;
	case LUA_TNUMBER:
		if (d->type == OPT_INT && !lua_isinteger(L, 2)) {
			lua_Number v = lua_tonumber(L, 2);

			if (v != (lua_Number)(long)v)
				return luaL_error(L, "option `%s': %f is not an integer", name, v);
		}
		if (d->type == OPT_BOOL)
			return luaL_error(L, "option `%s' takes a boolean (true/false)", name);
		lua_pushfstring(L, "%d", (int)lua_tointeger(L, 2));
		if (!lua_isinteger(L, 2)) {
			lua_pop(L, 1);
			lua_pushfstring(L, "%d", (int)lua_tonumber(L, 2));
		}
		r = option_set(name, lua_tostring(L, -1), &err);
		break;
	case LUA_TSTRING:
		r = option_set(name, lua_tostring(L, 2), &err);
		break;
	case LUA_TTABLE: {
		lua_Integer i, n = luaL_len(L, 2);

		if (d->type != OPT_LIST)
			return luaL_error(L, "option `%s' is not a list", name);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, 2, i);
			if (lua_type(L, -1) != LUA_TSTRING)
				return luaL_error(L, "option `%s': item %d is not a string", name,
						  (int)i);
			if (option_list_check(name, lua_tostring(L, -1), &err) < 0)
				return luaL_error(L, "%s", err.msg);
			lua_pop(L, 1);
		}
		option_list_clear(name);
		r = 0;
		for (i = 1; i <= n && r == 0; i++) {
			lua_rawgeti(L, 2, i);
			r = option_list_add(name, lua_tostring(L, -1), &err);
			lua_pop(L, 1);
		}
		break;
	}
	default:
		return luaL_error(L, "option `%s': a %s is not a valid value", name,
				  luaL_typename(L, 2));
	}
	if (r < 0)
		return luaL_error(L, "%s", err.msg);
	return 0;
}

static void
push_option_value(lua_State *L, const struct option_def *d)
{
	switch (d->type) {
	case OPT_BOOL:
		lua_pushboolean(L, option_bool(d->name));
		break;
	case OPT_INT:
		lua_pushinteger(L, option_int(d->name));
		break;
	case OPT_STRING:
		lua_pushstring(L, option_string(d->name));
		break;
	case OPT_LIST: {
		const char *const *v = option_list(d->name);
		lua_Integer i;

		lua_newtable(L);
		for (i = 0; v != NULL && v[i] != NULL; i++) {
			lua_pushstring(L, v[i]);
			lua_rawseti(L, -2, i + 1);
		}
		break;
	}
	}
}

/* berth.option(name) -> value.  [-1, +1, e] */
static int
berth_option(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct option_def *d = option_find(name);

	if (d == NULL)
		return luaL_error(L, "unknown option `%s'", name);
	push_option_value(L, d);
	return 1;
}

/* berth.options() -> array of {name, type, default, help, value}.  [-0, +1, m] */
static int
berth_options(lua_State *L)
{
	static const char *const types[] = { "bool", "int", "string", "list" };
	unsigned i;

	lua_createtable(L, (int)option_table_len, 0);
	for (i = 0; i < option_table_len; i++) {
		const struct option_def *d = &option_table[i];

		lua_createtable(L, 0, 5);
		set_str(L, "name", d->name);
		set_str(L, "type", types[d->type]);
		set_str(L, "default", d->default_value);
		set_str(L, "help", d->help);
		push_option_value(L, d);
		lua_setfield(L, -2, "value");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* berth.connect(uri [, backend = "libvirt"]) -> true | nil, message.
 * Before a session exists (init.lua at start-up) the connection is made
 * when it does.  uri nil: the backend's default.
 * [-1|2, +1|2, e] */
static int
berth_connect(lua_State *L)
{
	struct script *sc = script_of(L);
	const char *uri = luaL_optstring(L, 1, NULL);
	const char *backend = luaL_optstring(L, 2, uri ? session_backend_for_uri(uri) : "libvirt");
	struct berr err = { 0 };

	/* URIs run programs: exec:CMD, libvirt's qemu+ssh://, ?command=... */
	if (sc->sandbox)
		return script_sandbox_refuse(L, "berth.connect");
	if (backend_find(backend) == NULL) {
		lua_pushnil(L);
		lua_pushfstring(L, "no backend named `%s'", backend);
		return 2;
	}
	if (sc->s == NULL) {
		sc->pending = xrealloc(sc->pending, (sc->npending + 1) * sizeof *sc->pending);
		sc->pending[sc->npending++] = xasprintf("%s\t%s", backend, uri ? uri : "");
		lua_pushboolean(L, 1);
		return 1;
	}
	if (session_find_conn(sc->s, backend, uri) != NULL) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (session_connect(sc->s, backend, uri, &err) < 0)
		return script_push_berr(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int
valid_command_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '-' && name[i] != '_')
			return 0;
	return 1;
}

static void
command_register(lua_State *L, const char *name, int summary_idx, int usage_idx, int fn_idx)
{
	registry_table(L, &commands_key);
	lua_getfield(L, -1, name);
	if (lua_isnil(L, -1)) {
		registry_table(L, &command_list_key);
		lua_pushstring(L, name);
		lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "name");
	if (summary_idx)
		lua_pushvalue(L, summary_idx);
	else
		lua_pushliteral(L, "");
	lua_setfield(L, -2, "summary");
	if (usage_idx)
		lua_pushvalue(L, usage_idx);
	else
		lua_pushliteral(L, "");
	lua_setfield(L, -2, "usage");
	lua_pushvalue(L, fn_idx);
	lua_setfield(L, -2, "run");
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
}

/* berth.bind(key, command_line | function) -> true | nil, message.
 * A dashboard key binding; a function becomes a hidden plugin command.
 * [-2, +1|2, e] */
static int
berth_bind(lua_State *L)
{
	const char *key = luaL_checkstring(L, 1);
	struct berr err = { 0 };
	const char *line;

	if (script_of(L)->sandbox)
		return script_sandbox_refuse(L, "berth.bind");
	if (tui_bind_key == NULL) {
		lua_pushnil(L);
		lua_pushliteral(L, "key bindings need the dashboard, which is not built in");
		return 2;
	}
	if (lua_isfunction(L, 2)) {
		char name[32];

		snprintf(name, sizeof name, "_key%d", next_binding_id++);
		command_register(L, name, 0, 0, 2);
		lua_pushstring(L, name);
		line = lua_tostring(L, -1);
	} else {
		line = luaL_optstring(L, 2, "");
	}
	if (tui_bind_key(key, line, &err) < 0)
		return luaL_error(L, "key `%s': %s", key, err.msg);
	lua_pushboolean(L, 1);
	return 1;
}

/* berth.command{name = "x", summary = "...", usage = "ARGS", run =
 * function(args, ctx) ... end}: a command for the shell, berth.cmd and
 * the command line.  run gets the arguments (strings) and ctx with
 * ctx.print(...) writing to the command's output; it returns an exit code
 * (nil/true 0, false 1) or nil, message.
 * [-1, +0, e] */
static int
berth_command(lua_State *L)
{
	const char *name;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_getfield(L, 1, "name");	/* 2 */
	lua_getfield(L, 1, "summary");	/* 3 */
	lua_getfield(L, 1, "usage");	/* 4 */
	lua_getfield(L, 1, "run");	/* 5 */
	name = lua_tostring(L, 2);
	if (name == NULL || !valid_command_name(name))
		return luaL_error(L, "berth.command: name must be 1..32 of a-z 0-9 - _");
	if (cmd_find(name) != NULL)
		return luaL_error(L, "berth.command: `%s' is a built-in command", name);
	if (!lua_isnil(L, 3) && lua_type(L, 3) != LUA_TSTRING)
		return luaL_error(L, "berth.command: summary must be a string");
	if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING)
		return luaL_error(L, "berth.command: usage must be a string");
	if (!lua_isfunction(L, 5))
		return luaL_error(L, "berth.command: run must be a function");
	command_register(L, name, lua_isnil(L, 3) ? 0 : 3, lua_isnil(L, 4) ? 0 : 4, 5);
	return 0;
}

/* berth.column{name = "X", width = n, value = function(inst) return s end}:
 * a column for the dashboard's instance list.
 * [-1, +0, e] */
static int
berth_column(lua_State *L)
{
	lua_Integer width;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_getfield(L, 1, "name");
	lua_getfield(L, 1, "width");
	lua_getfield(L, 1, "value");
	if (lua_type(L, 2) != LUA_TSTRING || lua_rawlen(L, 2) == 0 || lua_rawlen(L, 2) > 32)
		return luaL_error(L, "berth.column: name must be a string of 1..32 bytes");
	width = lua_isnil(L, 3) ? (lua_Integer)lua_rawlen(L, 2) : luaL_checkinteger(L, 3);
	if (width < 1 || width > 200)
		return luaL_error(L, "berth.column: width out of range 1..200");
	if (!lua_isfunction(L, 4))
		return luaL_error(L, "berth.column: value must be a function");
	registry_table(L, &columns_key);
	lua_createtable(L, 0, 3);
	lua_pushvalue(L, 2);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, width);
	lua_setfield(L, -2, "width");
	lua_pushvalue(L, 4);
	lua_setfield(L, -2, "value");
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	return 0;
}

/* ---- misc ---- */

/* berth.http_post(url, body [, content_type]) -> status, response |
 * nil, message.  Not in the sandbox.
 * [-2|3, +2, e] */
static int
berth_http_post(lua_State *L)
{
	const char *url = luaL_checkstring(L, 1);
	size_t len;
	const char *body = luaL_checklstring(L, 2, &len);
	const char *ctype = luaL_optstring(L, 3, "application/json");
	struct berr err = { 0 };
	char *resp = NULL;
	long status = 0;

	if (script_of(L)->sandbox)
		return script_sandbox_refuse(L, "berth.http_post");
	if (script_http_post(url, body, len, ctype, 10000, &status, &resp, &err) < 0)
		return script_push_berr(L, &err);
	lua_pushinteger(L, status);
	lua_pushstring(L, resp ? resp : "");
	free(resp);
	return 2;
}

/* berth.http_post_async(url, body [, content_type]) -> true | nil,
 * message.  Never waits: the POST is queued for a worker thread (10 s
 * timeout each, in order); a full queue drops it (nil, message).  What
 * became of the POSTs: berth.http_queue().  Not in the sandbox.
 * [-2|3, +1|2, e] */
static int
berth_http_post_async(lua_State *L)
{
	const char *url = luaL_checkstring(L, 1);
	size_t len;
	const char *body = luaL_checklstring(L, 2, &len);
	const char *ctype = luaL_optstring(L, 3, "application/json");
	struct berr err = { 0 };

	if (script_of(L)->sandbox)
		return script_sandbox_refuse(L, "berth.http_post_async");
	if (script_http_post_async(url, body, len, ctype, 10000, &err) < 0)
		return script_push_berr(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

/* berth.http_queue() -> {queued, sent, failed, dropped, last_status,
 * last_error}: the asynchronous POSTs of this process so far.
 * [-0, +1, m] */
static int
berth_http_queue(lua_State *L)
{
	struct script_http_stats st;

	script_http_stats(&st);
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, (lua_Integer)st.queued);
	lua_setfield(L, -2, "queued");
	lua_pushinteger(L, (lua_Integer)st.sent);
	lua_setfield(L, -2, "sent");
	lua_pushinteger(L, (lua_Integer)st.failed);
	lua_setfield(L, -2, "failed");
	lua_pushinteger(L, (lua_Integer)st.dropped);
	lua_setfield(L, -2, "dropped");
	lua_pushinteger(L, st.last_status);
	lua_setfield(L, -2, "last_status");
	if (st.last_error[0] != '\0') {
		lua_pushstring(L, st.last_error);
		lua_setfield(L, -2, "last_error");
	}
	return 1;
}

static int (*confirm_hook)(const char *question, void *arg);
static void *confirm_hook_arg;

void
script_set_confirm_hook(int (*fn)(const char *question, void *arg), void *arg)
{
	confirm_hook = fn;
	confirm_hook_arg = fn ? arg : NULL;
}

/* Read one answer from stdin: up to "\n", "\r" (a terminal in raw mode
 * sends that for Enter) or end of file; what does not fit in buf is
 * dropped.  Returns 0, or -1 at end of file or an error (SIGINT) before
 * anything was typed.  The terminal does not end the line after a "\r",
 * so that is done here. */
static int
confirm_read_answer(char *buf, size_t len)
{
	size_t n = 0;
	int c;

	for (;;) {
		c = getc(stdin);
		if (c == EOF) {
			clearerr(stdin);
			if (n == 0)
				return -1;
			break;
		}
		if (c == '\r')
			putchar('\n');
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 < len)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return 0;
}

/* "y" or "yes" in any case, with blanks around: answer is modified. */
static int
confirm_is_yes(char *answer)
{
	size_t n;

	while (isspace((unsigned char)*answer))
		answer++;
	n = strlen(answer);
	while (n > 0 && isspace((unsigned char)answer[n - 1]))
		answer[--n] = '\0';
	return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}

/* berth.confirm(question) -> boolean.  Asks through the front-end's hook
 * when one is set (the dashboard's dialog); otherwise prints the question
 * on the terminal and reads the answer: "y" or "yes" is true, anything
 * else, end of file or stdin not a terminal is false.
 * [-1, +1, e] */
static int
berth_confirm(lua_State *L)
{
	const char *q = luaL_checkstring(L, 1);
	char line[64];
	int yes;

	if (confirm_hook != NULL) {
		yes = confirm_hook(q, confirm_hook_arg) == 1;
		script_check_stop(L);
		lua_pushboolean(L, yes);
		return 1;
	}
	if (!isatty(0)) {
		lua_pushboolean(L, 0);
		return 1;
	}
	printf("%s [y/N] ", q);
	fflush(stdout);
	if (confirm_read_answer(line, sizeof line) < 0) {
		/* End of file (^D) or ^C: no, on a line of its own. */
		putchar('\n');
		fflush(stdout);
		script_check_stop(L);
		lua_pushboolean(L, 0);
		return 1;
	}
	lua_pushboolean(L, confirm_is_yes(line));
	return 1;
}

/* berth.clock() -> seconds (monotonic, fractional) for measuring time.
 * [-0, +1, -] */
static int
berth_clock(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)now_ms() / 1000.0);
	return 1;
}

/* berth.backends() -> array of {name, description}.  [-0, +1, m] */
static int
berth_backends(lua_State *L)
{
	size_t i, n = backend_count();

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const struct backend_ops *o = backend_at(i);

		lua_createtable(L, 0, 2);
		set_str(L, "name", o->name);
		set_str(L, "description", o->description);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* [-0, +1, m] */
int
luaopen_berth(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "hosts", berth_hosts },
		{ "list", berth_list },
		{ "get", berth_get },
		{ "create", berth_create },
		{ "on", berth_on },
		{ "off", berth_off },
		{ "sleep", berth_sleep },
		{ "parallel", script_parallel },
		{ "stats", script_stats_batch },
		{ "cmd", berth_cmd },
		{ "set", berth_set },
		{ "option", berth_option },
		{ "options", berth_options },
		{ "connect", berth_connect },
		{ "bind", berth_bind },
		{ "command", berth_command },
		{ "column", berth_column },
		{ "http_post", berth_http_post },
		{ "http_post_async", berth_http_post_async },
		{ "http_queue", berth_http_queue },
		{ "confirm", berth_confirm },
		{ "backends", berth_backends },
		{ "clock", berth_clock },
		{ "plugins", script_plugins_list },
		{ NULL, NULL },
	};

	luaL_newlib(L, funcs);
	script_json_open(L);
	lua_setfield(L, -2, "json");
	lua_pushliteral(L, PACKAGE_VERSION);
	lua_setfield(L, -2, "version");
	lua_pushboolean(L, script_of(L)->sandbox);
	lua_setfield(L, -2, "sandboxed");
	return 1;
}

/* ---- plugin commands and columns, for C callers ---- */

static lua_State *
global_L(void)
{
	struct script *sc = script_global_peek();

	return sc ? sc->L : NULL;
}

size_t
script_command_count(void)
{
	lua_State *L = global_L();
	size_t n;

	if (L == NULL)
		return 0;
	registry_table(L, &command_list_key);
	n = lua_rawlen(L, -1);
	lua_pop(L, 1);
	return n;
}

/* Borrowed strings stay valid while the command stays registered. */
static const char *
command_field(size_t i, const char *field)
{
	lua_State *L = global_L();
	const char *v = NULL;

	if (L == NULL)
		return NULL;
	registry_table(L, &command_list_key);
	if (lua_rawgeti(L, -1, (lua_Integer)i + 1) == LUA_TSTRING) {
		if (strcmp(field, "name") == 0) {
			v = lua_tostring(L, -1);
		} else {
			registry_table(L, &commands_key);
			lua_pushvalue(L, -2);
			lua_rawget(L, -2);
			if (lua_istable(L, -1)) {
				lua_getfield(L, -1, field);
				v = lua_tostring(L, -1);
				lua_pop(L, 1);
			}
			lua_pop(L, 2);
		}
	}
	lua_pop(L, 2);
	return v;
}

const char *
script_command_name(size_t i)
{
	return command_field(i, "name");
}

const char *
script_command_summary(size_t i)
{
	return command_field(i, "summary");
}

int
script_command_exists(const char *name)
{
	lua_State *L = global_L();
	int found;

	if (L == NULL || name == NULL)
		return 0;
	registry_table(L, &commands_key);
	found = lua_getfield(L, -1, name) == LUA_TTABLE;
	lua_pop(L, 2);
	return found;
}

struct cmd_out {
	FILE *f;
};

/* ctx.print(...): like print, to the command's output.  [-n, +0, e] */
static int
command_print(lua_State *L)
{
	struct cmd_out *co = lua_touserdata(L, lua_upvalueindex(1));
	int i, n = lua_gettop(L);

	if (co == NULL || co->f == NULL)
		return luaL_error(L, "the command has finished");
	for (i = 1; i <= n; i++) {
		size_t len;
		const char *s = luaL_tolstring(L, i, &len);

		if (i > 1)
			fputc('\t', co->f);
		fwrite(s, 1, len, co->f);
		lua_pop(L, 1);
	}
	fputc('\n', co->f);
	return 0;
}

int
script_command_run(struct session **sp, int argc, char **argv, FILE *out, FILE *errf)
{
	struct script *sc = script_global_peek();
	lua_State *L;
	struct cmd_out *co;
	int top, i, rc, code = 0;
	enum script_status st;

	if (sc == NULL || argc < 1 || !script_command_exists(argv[0])) {
		fprintf(errf, "berth: unknown command `%s'\n", argc > 0 ? argv[0] : "");
		return CMD_EXIT_USAGE;
	}
	L = sc->L;
	if (sp != NULL && *sp != NULL)
		script_set_session(sc, *sp);
	/* Like a built-in command that needs a session: connected first. */
	if (sc->s != NULL)
		script_connect_defaults(sc->s);
	top = lua_gettop(L);
	/* The output handle, anchored below the call so that it outlives it
	 * (the collector runs when the call ends). */
	co = lua_newuserdatauv(L, sizeof *co, 0);	/* top + 1 */
	co->f = out;
	/* run(args, ctx), protected, with limits and interrupts. */
	registry_table(L, &commands_key);
	lua_getfield(L, -1, argv[0]);
	lua_getfield(L, -1, "run");
	lua_replace(L, top + 2);
	lua_settop(L, top + 2);
	lua_createtable(L, argc - 1, 0);
	for (i = 1; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i);
	}
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, top + 1);
	lua_pushcclosure(L, command_print, 1);
	lua_setfield(L, -2, "print");
	lua_pushboolean(L, sc->s != NULL);
	lua_setfield(L, -2, "connected");
	st = script_call(sc, 2, 2, errf);
	if (st != SCRIPT_OK) {
		code = st == SCRIPT_INTERRUPTED ? 130 : CMD_EXIT_FAIL;
		if (sc->exit_requested)
			code = sc->exit_code;
		co->f = NULL;
		lua_settop(L, top);
		return code;
	}
	if (sc->exit_requested) {
		rc = sc->exit_code;
	} else if (lua_isnil(L, -2) && lua_type(L, -1) == LUA_TSTRING) {
		fprintf(errf, "berth %s: %s\n", argv[0], lua_tostring(L, -1));
		rc = CMD_EXIT_FAIL;
	} else if (lua_isinteger(L, -2)) {
		rc = (int)(lua_tointeger(L, -2) & 0xff);
	} else if (lua_isboolean(L, -2)) {
		rc = lua_toboolean(L, -2) ? 0 : 1;
	} else {
		rc = 0;
	}
	co->f = NULL;
	lua_settop(L, top);
	return rc;
}

size_t
script_column_count(void)
{
	lua_State *L = global_L();
	size_t n;

	if (L == NULL)
		return 0;
	registry_table(L, &columns_key);
	n = lua_rawlen(L, -1);
	lua_pop(L, 1);
	return n;
}

static int
column_get(lua_State *L, size_t i)
{
	registry_table(L, &columns_key);
	if (lua_rawgeti(L, -1, (lua_Integer)i + 1) != LUA_TTABLE) {
		lua_pop(L, 2);
		return -1;
	}
	lua_remove(L, -2);
	return 0;
}

const char *
script_column_name(size_t i)
{
	lua_State *L = global_L();
	const char *v;

	if (L == NULL || column_get(L, i) < 0)
		return NULL;
	lua_getfield(L, -1, "name");
	v = lua_tostring(L, -1);	/* anchored by the column table */
	lua_pop(L, 2);
	return v;
}

int
script_column_width(size_t i)
{
	lua_State *L = global_L();
	int w;

	if (L == NULL || column_get(L, i) < 0)
		return 0;
	lua_getfield(L, -1, "width");
	w = (int)lua_tointeger(L, -1);
	lua_pop(L, 2);
	return w;
}

int
script_column_value(size_t i, const struct instance *inst, char *buf, size_t len,
		    struct berr *err)
{
	struct script *sc = script_global_peek();
	lua_State *L;
	int top;

	if (len > 0)
		buf[0] = '\0';
	if (sc == NULL)
		return berr_set(err, BERR_NOTFOUND, "no Lua state");
	L = sc->L;
	top = lua_gettop(L);
	if (column_get(L, i) < 0)
		return berr_set(err, BERR_NOTFOUND, "no column %zu", i);
	lua_getfield(L, -1, "value");
	script_instance_push(L, instance_dup(inst));
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		berr_set(err, BERR_INVALID, "column %zu: %s", i, lua_tostring(L, -1));
		lua_settop(L, top);
		return -1;
	}
	if (!lua_isnil(L, -1))
		strlcpy_b(buf, luaL_tolstring(L, -1, NULL), len);
	lua_settop(L, top);
	return 0;
}
