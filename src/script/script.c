/*
 * script.c - Lua states for berth: creation with the `berth` module, the
 * counting allocator (memory cap), the instruction hook (SIGINT, instruction
 * and time budgets), the sandbox, running chunks with tracebacks, and the
 * helper that lets a C function wait on the event loop or yield to
 * berth.parallel.
 * Not for: the module's functions (lua-berth.c, lua-instance.c), config
 * files (config.c) or plugins (plugin.c).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "cmd/cmd.h"
#include "core/loop.h"
#include "core/session.h"
#include "core/util.h"
#include "script/lua-interruptible.h"
#include "script/script-int.h"

#define HOOK_COUNT 1000			/* instructions between hook calls */
#define SANDBOX_DEFAULT_MEMORY (256u << 20)

static struct script *global_script;
static volatile sig_atomic_t script_interrupted;
static struct loop *volatile sigint_loop;
static struct sigaction sigint_saved;
static int sigint_installed;
static void (*script_reporter)(const char *msg);
/* Error object of os.exit: unwinds the script without being a message. */
static char exit_marker;

static void script_hook(lua_State *L, lua_Debug *ar);
static void script_stop_sticky(lua_State *L);

/* ---- reporting ---- */

void
script_set_reporter(void (*fn)(const char *msg))
{
	script_reporter = fn;
}

void
script_report(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (script_reporter != NULL)
		script_reporter(buf);
	else
		fprintf(stderr, "berth: %s\n", buf);
}

int
script_push_berr(lua_State *L, const struct berr *err)
{
	/* A wait the user interrupted is not an expected failure for the
	 * script to handle: it stops the script, saying what was cut short. */
	if (err->code == ECANCELED && script_interrupted) {
		script_stop_sticky(L);
		luaL_error(L, "interrupted (%s)", err->msg);
	}
	lua_pushnil(L);
	lua_pushstring(L, err->msg[0] ? err->msg : "unknown error");
	return 2;
}

/* ---- interrupts ---- */

static void
script_on_sigint(int signo)
{
	struct loop *l = sigint_loop;

	(void)signo;
	script_interrupted = 1;
	cancel_request();	/* and a backend waiting for a guest gives up */
	if (l != NULL)
		loop_wakeup(l);
}

void
script_interrupt(void)
{
	script_interrupted = 1;
	cancel_request();
}

void
script_clear_interrupt(void)
{
	script_interrupted = 0;
	cancel_clear();
}

int
script_interrupt_pending(void)
{
	return script_interrupted != 0;
}

/* Nests: `run' inside the shell installs and removes it again, and the
 * shell's stays in place. */
void
script_catch_sigint(int on, struct loop *loop)
{
	struct sigaction sa;

	if (on) {
		if (loop != NULL)
			sigint_loop = loop;
		if (sigint_installed++ > 0)
			return;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = script_on_sigint;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;	/* no SA_RESTART: poll() must return */
		if (sigaction(SIGINT, &sa, &sigint_saved) < 0)
			sigint_installed = 0;
	} else if (sigint_installed > 0 && --sigint_installed == 0) {
		sigaction(SIGINT, &sigint_saved, NULL);
		sigint_loop = NULL;
	}
}

/* A stop (interrupt, limit, os.exit) must not be swallowed by pcall: once
 * it is pending, the hook runs at every instruction, so the error is raised
 * again in the frame right after any pcall that caught it. */
static void
script_stop_sticky(lua_State *L)
{
	lua_sethook(L, script_hook, LUA_MASKCOUNT, 1);
}

void
script_check_stop(lua_State *L)
{
	struct script *sc = script_of(L);

	if (sc->exit_requested && sc->running > 0) {
		script_stop_sticky(L);
		lua_pushlightuserdata(L, &exit_marker);
		lua_error(L);
	}
	if (script_interrupted) {
		script_stop_sticky(L);
		luaL_error(L, "interrupted");
	}
	if (sc->running == 0)
		return;
	if (sc->instr_budget > 0 && sc->instr_left <= 0) {
		sc->limit_hit = 1;
		script_stop_sticky(L);
		luaL_error(L, "instruction budget of %d exhausted", (int)sc->instr_budget);
	}
	if (sc->deadline_ms > 0 && now_ms() >= sc->deadline_ms) {
		sc->limit_hit = 2;
		script_stop_sticky(L);
		luaL_error(L, "time limit of %f s reached", sc->timeout_ms / 1000.0);
	}
}

static void
script_hook(lua_State *L, lua_Debug *ar)
{
	struct script *sc = script_of(L);

	(void)ar;
	if (sc->instr_budget > 0 && sc->running > 0)
		sc->instr_left -= lua_gethookcount(L);
	script_check_stop(L);
}

/* ---- allocator with a cap ---- */

static void *
script_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct script *sc = ud;
	void *p;

	if (ptr == NULL)
		osize = 0;	/* osize encodes the object type then */
	if (nsize == 0) {
		free(ptr);
		sc->mem_used -= osize;
		return NULL;
	}
	if (sc->mem_limit > 0 && nsize > osize && sc->mem_used + (nsize - osize) > sc->mem_limit)
		return NULL;
	p = realloc(ptr, nsize);
	if (p == NULL)
		return NULL;
	sc->mem_used = sc->mem_used - osize + nsize;
	return p;
}

/* ---- module search path ---- */

const char *const *
script_lua_dirs(void)
{
	static const char *dirs[16];
	static char *owned[16];
	static int done;
	size_t n = 0;
	const char *env;

	if (done)
		return dirs;
	done = 1;
	env = getenv("BERTH_LUA_PATH");
	if (env != NULL && *env != '\0') {
		char *copy = xstrdup(env), *save = NULL, *tok;

		for (tok = strtok_r(copy, ":", &save); tok != NULL && n < 12;
		     tok = strtok_r(NULL, ":", &save)) {
			owned[n] = xstrdup(tok);
			dirs[n] = owned[n];
			n++;
		}
		free(copy);
	}
	env = getenv("BERTH_SRC_LUA");
	if (env != NULL && *env != '\0' && n < 14)
		dirs[n++] = env;
	else if (build_tree_srcdir() != NULL && n < 14)
		dirs[n++] = BERTH_SRCDIR "/lua";
	dirs[n++] = BERTH_PKGDATADIR "/lua";
	dirs[n] = NULL;
	return dirs;
}

/* Searcher for sandboxed require: only berth's Lua directories, whatever
 * package.path says, text chunks only.
 * [-0, +1|2, e] */
static int
script_sandbox_searcher(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *const *dirs = script_lua_dirs();
	luaL_Buffer tried;
	char rel[256];
	size_t i, k;

	if (strlen(name) >= sizeof rel - 16 || strstr(name, "..") != NULL || strchr(name, '/') ||
	    strchr(name, '\\') || name[0] == '.') {
		lua_pushfstring(L, "\n\tmodule name '%s' refused in the sandbox", name);
		return 1;
	}
	for (k = 0; name[k] != '\0'; k++)
		rel[k] = name[k] == '.' ? '/' : name[k];
	rel[k] = '\0';
	luaL_buffinit(L, &tried);
	for (i = 0; dirs[i] != NULL; i++) {
		size_t f;

		for (f = 0; f < 2; f++) {
			char *path = f == 0 ? xasprintf("%s/%s.lua", dirs[i], rel)
					    : xasprintf("%s/%s/init.lua", dirs[i], rel);

			if (access(path, R_OK) == 0) {
				if (luaL_loadfilex(L, path, "t") != LUA_OK) {
					free(path);
					return lua_error(L);
				}
				lua_pushstring(L, path);
				free(path);
				return 2;
			}
			lua_pushfstring(L, "\n\tno file '%s'", path);
			luaL_addvalue(&tried);
			free(path);
		}
	}
	luaL_pushresult(&tried);
	return 1;
}

/* load() that never accepts binary chunks.
 * [-(0|1|2|3|4), +(1|2), -] */
static int
script_safe_load(lua_State *L)
{
	int n = lua_gettop(L);

	if (n < 3)
		lua_settop(L, 3);
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* os.exit: unwind the script with its exit code (never exits the process:
 * the shell and the dashboard survive a script's os.exit).
 * [-0|1|2, +0, e] */
static int
script_os_exit(lua_State *L)
{
	struct script *sc = script_of(L);
	int code;

	if (lua_isboolean(L, 1))
		code = lua_toboolean(L, 1) ? 0 : 1;
	else
		code = (int)luaL_optinteger(L, 1, 0);
	sc->exit_requested = 1;
	sc->exit_code = code & 0xff;
	lua_pushlightuserdata(L, &exit_marker);
	return lua_error(L);
}

static void
script_set_path(lua_State *L)
{
	const char *const *dirs = script_lua_dirs();
	luaL_Buffer b;
	size_t i;

	lua_getglobal(L, "package");
	luaL_buffinit(L, &b);
	for (i = 0; dirs[i] != NULL; i++) {
		lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dirs[i], dirs[i]);
		luaL_addvalue(&b);
	}
	lua_getfield(L, -2, "path");
	luaL_addvalue(&b);
	luaL_pushresult(&b);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
}

static void
script_apply_sandbox(lua_State *L)
{
	static const char *const os_keep[] = { "time", "clock", "date" };
	static const char *const base_drop[] = { "dofile", "loadfile" };
	size_t i;

	for (i = 0; i < sizeof base_drop / sizeof base_drop[0]; i++) {
		lua_pushnil(L);
		lua_setglobal(L, base_drop[i]);
	}
	lua_getglobal(L, "load");
	lua_pushcclosure(L, script_safe_load, 1);
	lua_setglobal(L, "load");

	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);

	lua_getglobal(L, "os");
	lua_newtable(L);
	for (i = 0; i < sizeof os_keep / sizeof os_keep[0]; i++) {
		lua_getfield(L, -2, os_keep[i]);
		lua_setfield(L, -2, os_keep[i]);
	}
	lua_pushvalue(L, -1);
	lua_setglobal(L, "os");
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_insert(L, -2);
	lua_setfield(L, -2, "os");	/* require "os" gives the trimmed table */
	lua_pop(L, 2);

	lua_getglobal(L, "package");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "cpath");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "path");
	lua_pushnil(L);
	lua_setfield(L, -2, "loadlib");
	lua_pushnil(L);			/* it would tell whether any file exists */
	lua_setfield(L, -2, "searchpath");
	lua_createtable(L, 2, 0);
	lua_getfield(L, -2, "searchers");
	lua_rawgeti(L, -1, 1);		/* the preload searcher */
	lua_rawseti(L, -3, 1);
	lua_pop(L, 1);
	lua_pushcfunction(L, script_sandbox_searcher);
	lua_rawseti(L, -2, 2);
	lua_setfield(L, -2, "searchers");
	lua_pop(L, 1);
}

/* Matching steps of lua-pattern.c and comparisons of lua-sort.c count like
 * instructions, and a stop raised here ends a call the debug hook never
 * sees. */
static void
script_tick(lua_State *L, unsigned steps)
{
	struct script *sc = script_of(L);

	if (sc->instr_budget > 0 && sc->running > 0)
		sc->instr_left -= steps;
	script_check_stop(L);
}

static const struct lua_tick_hooks script_tick_hooks = { .tick = script_tick };

static void
script_install_patterns(lua_State *L)
{
	lua_getglobal(L, "string");
	lua_pattern_install(L, -1, &script_tick_hooks);
	lua_pop(L, 1);
	lua_getglobal(L, "table");
	lua_sort_install(L, -1, &script_tick_hooks);
	lua_pop(L, 1);
}

static void
script_open_libs(lua_State *L, int sandbox)
{
	static const luaL_Reg safe_libs[] = {
		{ LUA_GNAME, luaopen_base },
		{ LUA_LOADLIBNAME, luaopen_package },
		{ LUA_COLIBNAME, luaopen_coroutine },
		{ LUA_TABLIBNAME, luaopen_table },
		{ LUA_OSLIBNAME, luaopen_os },
		{ LUA_STRLIBNAME, luaopen_string },
		{ LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 },
		{ NULL, NULL },
	};
	const luaL_Reg *lib;

	if (!sandbox) {
		luaL_openlibs(L);
		script_install_patterns(L);
		script_set_path(L);
		lua_getglobal(L, "os");
		lua_pushcfunction(L, script_os_exit);
		lua_setfield(L, -2, "exit");
		lua_pop(L, 1);
		return;
	}
	for (lib = safe_libs; lib->func != NULL; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	script_install_patterns(L);
	script_apply_sandbox(L);
}

/* ---- completion ---- */

static int
script_is_name(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* Adds prefix .. key for the string keys of the table on top that begin
 * with base (functions only when methods_only).  [-0, +0] */
static void
script_complete_keys(lua_State *L, const char *prefix, size_t plen, const char *base,
		     int methods_only, void (*add)(const char *, void *), void *arg)
{
	size_t blen = strlen(base);

	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		if (lua_type(L, -2) == LUA_TSTRING && (!methods_only || lua_isfunction(L, -1))) {
			const char *k = lua_tostring(L, -2);

			if (strncmp(k, base, blen) == 0 && script_is_name(k)) {
				char *full = xasprintf("%.*s%s", (int)plen, prefix, k);

				add(full, arg);
				free(full);
			}
		}
		lua_pop(L, 1);
	}
}

void
script_complete(struct script *sc, const char *text, void (*add)(const char *, void *), void *arg)
{
	lua_State *L = sc->L;
	int top = lua_gettop(L);
	const char *sep = strrchr(text, '.'), *colon = strrchr(text, ':'), *p, *dot;
	int method = 0;

	if (colon != NULL && (sep == NULL || colon > sep)) {
		sep = colon;
		method = 1;
	}
	lua_pushglobaltable(L);
	if (sep == NULL) {
		script_complete_keys(L, "", 0, text, 0, add, arg);
		lua_settop(L, top);
		return;
	}
	/* walk the dotted path before sep, one raw field at a time */
	for (p = text; p < sep; p = dot + 1) {
		dot = memchr(p, '.', (size_t)(sep - p));
		if (dot == NULL)
			dot = sep;
		if (!lua_istable(L, -1) || dot == p) {
			lua_settop(L, top);
			return;
		}
		lua_pushlstring(L, p, (size_t)(dot - p));
		lua_rawget(L, -2);
		lua_remove(L, -2);
		if (dot == sep)
			break;
	}
	if (method) {
		if (lua_istable(L, -1))
			script_complete_keys(L, text, (size_t)(sep + 1 - text), sep + 1, 1, add, arg);
		/* and the raw __index table of the value's metatable, or the
		 * table a C __index closure looks in first (berth.instance) */
		if (!lua_getmetatable(L, -1)) {
			lua_settop(L, top);
			return;
		}
		lua_pushliteral(L, "__index");
		lua_rawget(L, -2);
		if (lua_iscfunction(L, -1) && lua_getupvalue(L, -1, 1) == NULL)
			lua_pushnil(L);
		if (!lua_istable(L, -1)) {
			lua_settop(L, top);
			return;
		}
	} else if (!lua_istable(L, -1)) {
		lua_settop(L, top);
		return;
	}
	script_complete_keys(L, text, (size_t)(sep + 1 - text), sep + 1, method, add, arg);
	lua_settop(L, top);
}

/* ---- states ---- */

void
script_set_limits(struct script *sc, const struct script_limits *lim)
{
	sc->mem_cap = lim ? lim->max_memory : 0;
	sc->instr_budget = lim ? lim->max_instructions : 0;
	sc->timeout_ms = lim ? lim->timeout_ms : 0;
	if (sc->sandbox && sc->mem_cap == 0)
		sc->mem_cap = SANDBOX_DEFAULT_MEMORY;
}

struct script *
script_new(struct session *s, const struct script_limits *lim, struct berr *err)
{
	struct script *sc = xcalloc(1, sizeof *sc);
	lua_State *L;

	sc->sandbox = lim ? lim->sandbox : 0;
	sc->instr_left = -1;
	L = lua_newstate(script_alloc, sc);
	if (L == NULL) {
		free(sc);
		berr_set(err, ENOMEM, "creating a Lua state: out of memory");
		return NULL;
	}
	sc->L = L;
	*(struct script **)lua_getextraspace(L) = sc;
	lua_sethook(L, script_hook, LUA_MASKCOUNT, HOOK_COUNT);
	script_open_libs(L, sc->sandbox);
	script_instance_open(L);
	luaL_requiref(L, "berth", luaopen_berth, 1);
	lua_pop(L, 1);
	script_set_limits(sc, lim);
	if (s != NULL)
		script_set_session(sc, s);
	return sc;
}

void
script_free(struct script *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	script_events_detach(sc);
	lua_close(sc->L);
	if (sc->own_session)
		session_free(sc->s);
	session_free(sc->retired);
	for (i = 0; i < sc->npending; i++)
		free(sc->pending[i]);
	free(sc->pending);
	if (global_script == sc)
		global_script = NULL;
	free(sc);
}

struct script *
script_global(struct session *s, struct berr *err)
{
	if (global_script == NULL) {
		global_script = script_new(s, NULL, err);
		return global_script;
	}
	if (s != NULL)
		script_set_session(global_script, s);
	return global_script;
}

void
script_shutdown(void)
{
	script_free(global_script);
	global_script = NULL;
	/* Give queued POSTs (webhooks of the last events) a moment. */
	script_http_shutdown(2000);
}

struct script *
script_global_peek(void)
{
	return global_script;
}

static void
script_apply_pending(struct script *sc)
{
	size_t i;

	for (i = 0; i < sc->npending; i++) {
		char *tab = strchr(sc->pending[i], '\t');
		const char *uri = tab + 1;

		*tab = '\0';
		if (session_find_conn(sc->s, sc->pending[i], *uri ? uri : NULL) == NULL)
			session_connect(sc->s, sc->pending[i], *uri ? uri : NULL, NULL);
		free(sc->pending[i]);
	}
	free(sc->pending);
	sc->pending = NULL;
	sc->npending = 0;
}

void
script_set_session(struct script *sc, struct session *s)
{
	if (sc == NULL || s == NULL || sc->s == s)
		return;
	script_events_detach(sc);
	/* A session we made ourselves stays alive: instances may point into
	 * it.  It is freed with the state. */
	if (sc->own_session) {
		session_free(sc->retired);
		sc->retired = sc->s;
		sc->own_session = 0;
	}
	sc->s = s;
	script_apply_pending(sc);
	script_events_attach(sc);
}

struct session *
script_session(struct script *sc)
{
	return sc ? sc->s : NULL;
}

/* Connect the default set (and --connect URIs) once, as the dispatcher
 * does for commands that need a session. */
void
script_connect_defaults(struct session *s)
{
	const char *nodef = getenv("BERTH_NO_DEFAULT_LIBVIRT");

	if (s == NULL || s->defaults_connected)
		return;
	session_connect_defaults(s, cmd_globals.connect, cmd_globals.nconnect,
				 !cmd_globals.no_default_libvirt &&
					 !(nodef != NULL && *nodef != '\0' && strcmp(nodef, "0") != 0));
}

struct session *
script_need_session(lua_State *L)
{
	struct script *sc = script_of(L);
	struct berr err = { 0 };
	struct session *s;

	if (sc->s != NULL) {
		script_connect_defaults(sc->s);
		return sc->s;
	}
	if (session_new(&s, &err) < 0) {
		luaL_error(L, "%s", err.msg);
		return NULL;
	}
	script_connect_defaults(s);
	sc->s = s;
	sc->own_session = 1;
	script_apply_pending(sc);
	script_events_attach(sc);
	return s;
}

/* ---- waiting ---- */

void
script_run_loop_until(lua_State *L, int64_t deadline_ms)
{
	struct script *sc = script_of(L);
	lua_State *saved = sc->cur_L;

	sc->cur_L = L;
	for (;;) {
		int64_t now, wait;

		script_check_stop(L);
		if (sc->wakeup)
			break;	/* the waiter polls again and clears it */
		now = now_ms();
		if (now >= deadline_ms)
			break;
		wait = deadline_ms - now;
		if (sc->deadline_ms > 0 && sc->running > 0 && sc->deadline_ms - now < wait)
			wait = sc->deadline_ms - now + 1;
		if (wait > 1000)
			wait = 1000;
		if (sc->s != NULL && sc->s->loop != NULL)
			loop_run_once(sc->s->loop, (int)wait);
		else
			poll(NULL, 0, (int)wait);
	}
	sc->cur_L = saved;
}

static int
script_block_k(lua_State *L, int status, lua_KContext ctx)
{
	script_poll_fn pollfn = (script_poll_fn)ctx;

	(void)status;
	for (;;) {
		int64_t wake = 0;
		int n;

		script_check_stop(L);
		script_of(L)->wakeup = 0;
		n = pollfn(L, &wake);
		if (n >= 0)
			return n;
		if (script_in_parallel(L)) {
			lua_pushinteger(L, wake);
			return lua_yieldk(L, 1, ctx, script_block_k);
		}
		script_run_loop_until(L, wake);
	}
}

int
script_block(lua_State *L, script_poll_fn pollfn)
{
	return script_block_k(L, LUA_OK, (lua_KContext)pollfn);
}

/* ---- running chunks ---- */

/* Message handler: add a traceback (not to os.exit's marker).
 * [-1, +1, m] */
static int
script_msgh(lua_State *L)
{
	const char *msg;

	if (lua_touserdata(L, 1) == &exit_marker)
		return 1;
	msg = lua_tostring(L, 1);
	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void
script_begin(struct script *sc)
{
	if (sc->running++ > 0)
		return;
	lua_sethook(sc->L, script_hook, LUA_MASKCOUNT, HOOK_COUNT);
	sc->limit_hit = 0;
	sc->exit_requested = 0;
	sc->exit_code = 0;
	sc->instr_left = sc->instr_budget;
	sc->deadline_ms = sc->timeout_ms > 0 ? now_ms() + sc->timeout_ms : 0;
	sc->mem_limit = sc->mem_cap > 0 ? sc->mem_used + sc->mem_cap : 0;
}

static void
script_end(struct script *sc)
{
	if (--sc->running > 0)
		return;
	lua_sethook(sc->L, script_hook, LUA_MASKCOUNT, HOOK_COUNT);
	sc->mem_limit = 0;
	sc->deadline_ms = 0;
	lua_gc(sc->L, LUA_GCCOLLECT);
}

/* Call the function below nargs arguments with the traceback handler and
 * classify the outcome; the error message (if any) is left on the stack. */
static enum script_status
script_pcall(struct script *sc, int nargs, int nresults)
{
	lua_State *L = sc->L;
	int base = lua_gettop(L) - nargs, r;

	lua_pushcfunction(L, script_msgh);
	lua_insert(L, base);
	r = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (sc->exit_requested) {
		if (r != LUA_OK)
			lua_pop(L, 1);
		return SCRIPT_OK;
	}
	if (r == LUA_OK)
		return SCRIPT_OK;
	if (r == LUA_ERRMEM && sc->mem_limit > 0) {
		lua_pop(L, 1);
		lua_pushfstring(L, "memory limit of %d KiB reached", (int)(sc->mem_cap / 1024));
		return SCRIPT_LIMIT;
	}
	if (script_interrupted)
		return SCRIPT_INTERRUPTED;
	if (sc->limit_hit)
		return SCRIPT_LIMIT;
	return SCRIPT_ERROR;
}

enum script_status
script_call(struct script *sc, int nargs, int nresults, FILE *errf)
{
	lua_State *L = sc->L;
	int base = lua_gettop(L) - nargs - 1;
	enum script_status st;

	script_begin(sc);
	st = script_pcall(sc, nargs, nresults);
	if (st != SCRIPT_OK) {
		fprintf(errf, "berth: %s\n", lua_tostring(L, -1));
		lua_settop(L, base);
	} else if (sc->exit_requested) {
		lua_settop(L, base);
	}
	script_end(sc);
	return st;
}

static int
script_exit_code(enum script_status st)
{
	switch (st) {
	case SCRIPT_OK:
		return 0;
	case SCRIPT_INTERRUPTED:
		return 130;
	default:
		return 1;
	}
}

/* Exit code of a returned value: a number, true/nil 0, false 1. */
static int
script_result_code(lua_State *L, int idx)
{
	if (lua_isinteger(L, idx))
		return (int)(lua_tointeger(L, idx) & 0xff);
	if (lua_isboolean(L, idx))
		return lua_toboolean(L, idx) ? 0 : 1;
	if (lua_type(L, idx) == LUA_TNUMBER)
		return (int)lua_tonumber(L, idx) & 0xff;
	return 0;
}

void
script_set_args(struct script *sc, int argc, char **argv)
{
	lua_State *L = sc->L;
	int i;

	lua_createtable(L, argc, 1);
	for (i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i);
	}
	lua_setglobal(L, "arg");
}

enum script_status
script_run_file(struct script *sc, const char *path, int argc, char **argv, int *exit_code,
		FILE *errf)
{
	lua_State *L = sc->L;
	enum script_status st;
	int i, top = lua_gettop(L);

	if (luaL_loadfilex(L, strcmp(path, "-") == 0 ? NULL : path, sc->sandbox ? "t" : NULL) !=
	    LUA_OK) {
		fprintf(errf, "berth: %s\n", lua_tostring(L, -1));
		lua_settop(L, top);
		*exit_code = 1;
		return SCRIPT_SYNTAX;
	}
	script_set_args(sc, argc, argv);
	for (i = 1; i < argc; i++)
		lua_pushstring(L, argv[i]);
	script_begin(sc);
	st = script_pcall(sc, argc > 0 ? argc - 1 : 0, 1);
	if (sc->exit_requested) {
		*exit_code = sc->exit_code;
	} else if (st == SCRIPT_OK) {
		*exit_code = script_result_code(L, -1);
	} else {
		fprintf(errf, "berth: %s\n", lua_tostring(L, -1));
		*exit_code = script_exit_code(st);
	}
	lua_settop(L, top);
	script_end(sc);
	return st;
}

/* Print values top-n..top as the shell shows them: through
 * berth.inspect when it loads, else tostring. */
static void
script_print_values(lua_State *L, int n, FILE *out)
{
	int top = lua_gettop(L), i, have_inspect;

	lua_getglobal(L, "require");
	lua_pushliteral(L, "berth.inspect");
	have_inspect = lua_pcall(L, 1, 1, 0) == LUA_OK && lua_isfunction(L, -1);
	for (i = top - n + 1; i <= top; i++) {
		size_t len;
		const char *s = NULL;

		if (have_inspect && lua_type(L, i) == LUA_TTABLE) {
			lua_pushvalue(L, top + 1);
			lua_pushvalue(L, i);
			if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
				s = lua_tolstring(L, -1, &len);
		}
		if (s == NULL)
			s = luaL_tolstring(L, i, &len);
		fwrite(s, 1, len, out);
		fputc(i == top ? '\n' : '\t', out);
		lua_settop(L, top + 1);
	}
	lua_settop(L, top);
}

enum script_status
script_run_string(struct script *sc, const char *code, const char *chunkname, int print_results,
		  int *exit_code, FILE *out, FILE *errf)
{
	lua_State *L = sc->L;
	enum script_status st;
	int top = lua_gettop(L), loaded = 0, dummy;

	if (exit_code == NULL)
		exit_code = &dummy;
	if (print_results) {
		/* An expression first, as lua.c does. */
		char *ret = xasprintf("return %s;", code);

		loaded = luaL_loadbufferx(L, ret, strlen(ret), chunkname, "t") == LUA_OK;
		free(ret);
		if (!loaded)
			lua_pop(L, 1);
	}
	if (!loaded && luaL_loadbufferx(L, code, strlen(code), chunkname, "t") != LUA_OK) {
		size_t len;
		const char *msg = lua_tolstring(L, -1, &len);

		if (len >= 5 && strcmp(msg + len - 5, "<eof>") == 0) {
			lua_settop(L, top);
			return SCRIPT_INCOMPLETE;
		}
		fprintf(errf, "berth: %s\n", msg);
		lua_settop(L, top);
		*exit_code = 1;
		return SCRIPT_SYNTAX;
	}
	script_begin(sc);
	st = script_pcall(sc, 0, LUA_MULTRET);
	if (sc->exit_requested) {
		*exit_code = sc->exit_code;
	} else if (st == SCRIPT_OK) {
		*exit_code = lua_gettop(L) > top ? script_result_code(L, top + 1) : 0;
		if (print_results && lua_gettop(L) > top)
			script_print_values(L, lua_gettop(L) - top, out);
	} else {
		fprintf(errf, "berth: %s\n", lua_tostring(L, -1));
		*exit_code = script_exit_code(st);
	}
	lua_settop(L, top);
	script_end(sc);
	return st;
}

/* print() into a FILE (the upvalue), for script_eval_capture.
 * [-n, +0, e] */
static int
script_print_to(lua_State *L)
{
	FILE *f = lua_touserdata(L, lua_upvalueindex(1));
	int i, n = lua_gettop(L);

	for (i = 1; i <= n; i++) {
		size_t len;
		const char *str = luaL_tolstring(L, i, &len);

		if (i > 1)
			fputc('\t', f);
		fwrite(str, 1, len, f);
		lua_pop(L, 1);
	}
	fputc('\n', f);
	return 0;
}

int
script_eval_capture(struct session *s, const char *code, char **output)
{
	struct berr err = { 0 };
	struct script *sc = script_global(s, &err);
	enum script_status st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = 1;

	*output = NULL;
	if (sc == NULL) {
		*output = xstrdup(err.msg);
		return 1;
	}
	f = open_memstream(&buf, &len);
	if (f == NULL) {
		*output = xstrdup("out of memory");
		return 1;
	}
	/* print() must not write on the dashboard's screen. */
	lua_getglobal(sc->L, "print");
	lua_pushlightuserdata(sc->L, f);
	lua_pushcclosure(sc->L, script_print_to, 1);
	lua_setglobal(sc->L, "print");
	st = script_run_string(sc, code, "=dashboard", 1, &rc, f, f);
	lua_setglobal(sc->L, "print");
	if (st == SCRIPT_INCOMPLETE) {
		fputs("berth: incomplete Lua chunk\n", f);
		rc = 1;
	} else if (st == SCRIPT_OK) {
		rc = 0;
	}
	fclose(f);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	*output = buf;
	return rc;
}
