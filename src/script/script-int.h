/*
 * script-int.h - shared between the files of src/script: the per-state
 * struct, the `berth` module's pieces, JSON conversion, HTTP and the
 * blocking/yielding helper.  Not for: other components (use script.h).
 */
#ifndef BERTH_SCRIPT_INT_H
#define BERTH_SCRIPT_INT_H

#include <stdint.h>
#include <json-c/json.h>
#include <lua.h>
#include <lauxlib.h>

#include "core/error.h"
#include "core/instance.h"
#include "script/script.h"

struct linst;

struct script {
	lua_State *L;
	struct session *s;
	int own_session;		/* s was connected by us, we free it */
	struct session *retired;	/* our own session, replaced by the front-end's */
	struct session *hooked;		/* session whose bus we subscribed to */
	int evsub;			/* subscription id on hooked->bus */
	int sandbox;
	size_t mem_used;		/* bytes held by this state's allocator */
	size_t mem_limit;		/* absolute cap on mem_used, 0: none */
	size_t mem_cap;			/* the cap asked for (for messages) */
	long long instr_left;		/* remaining budget, <0: none */
	long long instr_budget;
	int64_t deadline_ms;		/* monotonic, 0: none */
	long timeout_ms;
	int limit_hit;			/* SCRIPT_LIMIT reason: 1 instr, 2 time */
	int exit_requested;
	int exit_code;
	lua_State *cur_L;		/* thread blocked in the loop, for callbacks */
	int wakeup;			/* a callback has news: waiters poll again */
	int running;			/* nesting depth of script_run_* */
	char **pending;			/* berth.connect before a session: "backend\turi" */
	size_t npending;
	struct linst *consoles;		/* instance objects holding an open console */
};

/* The struct script of any thread of a state. */
static inline struct script *
script_of(lua_State *L)
{
	return *(struct script **)lua_getextraspace(L);
}

/* The global state if one exists (never creates it). */
struct script *script_global_peek(void);

/* Connect the default backends and --connect URIs once (no-op after). */
void script_connect_defaults(struct session *s);

/* The session, connected on demand from the global options; raises a Lua
 * error if none can be made. */
struct session *script_need_session(lua_State *L);

/* Push nil and the error message; returns 2 (for `return nil, msg`). */
int script_push_berr(lua_State *L, const struct berr *err);

/* Call the function below nargs arguments as a script run (limits,
 * interrupts, traceback); on failure the message goes to errf and the stack
 * is restored; on success nresults values are left. */
enum script_status script_call(struct script *sc, int nargs, int nresults, FILE *errf);

/* Raise the pending interrupt/limit/exit error if there is one. */
void script_check_stop(lua_State *L);

/* Block the calling thread until poll says done.  poll returns the number
 * of results it pushed (>= 0) when done, or -1 and sets *wake_ms (monotonic)
 * to when it wants to be asked again.  Inside berth.parallel the thread
 * yields to the scheduler; elsewhere the event loop runs in between.  The
 * stack at entry is preserved for poll (it may keep its state there). */
typedef int (*script_poll_fn)(lua_State *L, int64_t *wake_ms);
int script_block(lua_State *L, script_poll_fn poll);
/* Run the session's loop until deadline (monotonic ms) or an interrupt. */
void script_run_loop_until(lua_State *L, int64_t deadline_ms);

/* lua-parallel.c: is L a coroutine run by berth.parallel? */
int script_in_parallel(lua_State *L);
int script_parallel(lua_State *L);

/* lua-berth.c */
int luaopen_berth(lua_State *L);
/* Push nil and "WHAT is not allowed in the sandbox"; returns 2. */
int script_sandbox_refuse(lua_State *L, const char *what);
/* Called when a session becomes known: subscribe Lua event handlers. */
void script_events_attach(struct script *sc);
void script_events_detach(struct script *sc);

/* lua-instance.c */
#define SCRIPT_INSTANCE_MT "berth.instance"
void script_instance_open(lua_State *L);
/* Push a userdata owning inst. */
void script_instance_push(lua_State *L, struct instance *inst);
struct instance *script_instance_check(lua_State *L, int idx);
/* berth.stats(instances) */
int script_stats_batch(lua_State *L);

/* lua-json.c: JSON <-> Lua values (depth-limited; cycles refused). */
void script_push_json(lua_State *L, json_object *o);
int script_to_json(lua_State *L, int idx, json_object **out, struct berr *err);
int script_json_open(lua_State *L);

/* plugin.c: berth.plugins() */
int script_plugins_list(lua_State *L);

/* http.c: a POST that blocks its caller up to timeout_ms; the status and
 * the response (malloc'd, at most 1 MiB kept) on success. */
int script_http_post(const char *url, const char *body, size_t len, const char *content_type,
		     long timeout_ms, long *status, char **response, struct berr *err);
/* Queue a POST for the worker thread and return at once: -1 with err when
 * the request is invalid or the queue is full (the POST is dropped and
 * counted).  The queue holds SCRIPT_HTTP_QUEUE_MAX POSTs, 8 MiB of bodies. */
#define SCRIPT_HTTP_QUEUE_MAX 64
int script_http_post_async(const char *url, const char *body, size_t len, const char *content_type,
			   long timeout_ms, struct berr *err);
struct script_http_stats {
	size_t queued;			/* waiting or in flight */
	unsigned long sent;		/* answered below 300 */
	unsigned long failed;		/* no answer, or an answer of 300 or above */
	unsigned long dropped;		/* refused with the queue full, or left at exit */
	long last_status;		/* of the last answer, 0: none yet */
	char last_error[256];		/* of the last failure, "": none */
};
void script_http_stats(struct script_http_stats *st);
/* At exit: wait up to drain_ms for the queue to empty, then drop what is
 * left, abort the POST in flight and join the worker. */
void script_http_shutdown(long drain_ms);

/* Directories searched for Lua modules (NULL-terminated, static). */
const char *const *script_lua_dirs(void);

/* Report an error from a callback that has no caller to return it to. */
void script_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
