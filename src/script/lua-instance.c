/*
 * lua-instance.c - instances in Lua: full userdata with the metatable
 * "berth.instance" (__index fields and methods, __tostring, __close, __gc).
 *
 * A userdata owns one struct instance (a snapshot; lifecycle methods and
 * :refresh() update it) and, once used, the instance's console: an fd
 * watched by the session's loop that fills a bounded buffer, which
 * :console_expect() searches with a Lua pattern.  Objects of one instance
 * share one console connection (the one using it holds it); :start()
 * begins a fresh console.
 * Not for: module-level functions (lua-berth.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/metrics.h"
#include "core/session.h"
#include "core/util.h"
#include "script/script-int.h"

#define CONSOLE_BUF_MAX (1u << 20)	/* bytes of console output kept */
#define WAIT_POLL_MS 200		/* state polling period of :wait */
#define EXEC_OUTPUT_MAX (16u << 20)	/* bytes of exec output returned */

/* Registry key of the original string.find (scripts may replace theirs). */
static char strfind_key;

struct linst {
	struct instance *inst;
	struct script *sc;
	struct loop *loop;		/* where con_watch lives */
	int con_fd;
	int con_watch;
	int con_eof;
	char *cbuf;
	size_t clen;
	struct linst *con_next, *con_prev;	/* sc->consoles, while con_fd >= 0 */
};

static void linst_console_cb(struct loop *l, int id, int fd, int revents, void *arg);

static void
console_link(struct linst *li)
{
	li->con_prev = NULL;
	li->con_next = li->sc->consoles;
	if (li->con_next)
		li->con_next->con_prev = li;
	li->sc->consoles = li;
}

static void
console_unlink(struct linst *li)
{
	if (li->con_prev)
		li->con_prev->con_next = li->con_next;
	else if (li->sc->consoles == li)
		li->sc->consoles = li->con_next;
	if (li->con_next)
		li->con_next->con_prev = li->con_prev;
	li->con_next = li->con_prev = NULL;
}

/* Another object of this state with the same instance's console open. */
static struct linst *
console_holder(struct linst *li)
{
	struct linst *o;

	for (o = li->sc->consoles; o != NULL; o = o->con_next)
		if (o != li && o->inst != NULL && o->inst->conn == li->inst->conn &&
		    strcmp(o->inst->name, li->inst->name) == 0 && o->con_fd >= 0 && !o->con_eof)
			return o;
	return NULL;
}

static struct linst *
linst_check(lua_State *L, int idx)
{
	struct linst *li = luaL_checkudata(L, idx, SCRIPT_INSTANCE_MT);

	if (li->inst == NULL)
		luaL_error(L, "instance already closed");
	return li;
}

struct instance *
script_instance_check(lua_State *L, int idx)
{
	return linst_check(L, idx)->inst;
}

static void
linst_console_close(struct linst *li)
{
	if (li->con_watch > 0 && li->loop != NULL)
		loop_remove_fd(li->loop, li->con_watch);
	li->con_watch = 0;
	if (li->con_fd >= 0) {
		close(li->con_fd);
		console_unlink(li);
	}
	li->con_fd = -1;
	free(li->cbuf);
	li->cbuf = NULL;
	li->clen = 0;
	li->con_eof = 0;
}

/* [-0, +1, m] */
void
script_instance_push(lua_State *L, struct instance *inst)
{
	struct linst *li = lua_newuserdatauv(L, sizeof *li, 0);

	memset(li, 0, sizeof *li);
	li->inst = inst;
	li->sc = script_of(L);
	li->con_fd = -1;
	luaL_setmetatable(L, SCRIPT_INSTANCE_MT);
}

/* __gc and __close: free the instance and its console; idempotent.
 * [-0, +0, -] */
static int
linst_release(lua_State *L)
{
	struct linst *li = luaL_checkudata(L, 1, SCRIPT_INSTANCE_MT);

	linst_console_close(li);
	instance_free(li->inst);
	li->inst = NULL;
	return 0;
}

static const char *
backend_name(const struct instance *inst)
{
	return inst->backend ? inst->backend->name : "?";
}

static int
push_notsup(lua_State *L, const struct instance *inst, const char *op)
{
	lua_pushnil(L);
	lua_pushfstring(L, "%s: not supported by backend %s", op, backend_name(inst));
	return 2;
}

/* Replace the snapshot with the backend's current view. */
static int
linst_refresh_c(struct linst *li, struct berr *err)
{
	struct instance *inst = li->inst, *fresh = NULL;

	if (inst->backend == NULL || inst->backend->get == NULL || inst->conn == NULL)
		return berr_set(err, BERR_NOTSUP, "refresh: not supported by backend %s",
				backend_name(inst));
	if (inst->backend->get(inst->conn, inst->name, &fresh, err) < 0)
		return -1;
	if (fresh->conn == NULL)
		fresh->conn = inst->conn;
	if (fresh->backend == NULL)
		fresh->backend = inst->backend;
	instance_free(inst);
	li->inst = fresh;
	return 0;
}

/* inst:refresh() -> true | nil, message
 * [-1, +1|2, m] */
static int
linst_refresh(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct berr err = { 0 };

	if (linst_refresh_c(li, &err) < 0)
		return script_push_berr(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int
linst_do(lua_State *L, enum inst_op op, int timeout)
{
	struct linst *li = linst_check(L, 1);
	struct instance *inst = li->inst;
	const struct backend_ops *o = inst->backend;
	struct berr err = { 0 }, ignored = { 0 };
	void *slot = NULL;

	switch (op) {
	case OP_START: slot = (void *)o->start; break;
	case OP_SHUTDOWN: slot = (void *)o->shutdown; break;
	case OP_KILL: slot = (void *)o->kill; break;
	case OP_PAUSE: slot = (void *)o->pause; break;
	case OP_RESUME: slot = (void *)o->resume; break;
	case OP_DESTROY: slot = (void *)o->destroy; break;
	case OP_UNDEFINE: slot = (void *)o->undefine; break;
	}
	if (slot == NULL)
		return push_notsup(L, inst, inst_op_name(op));
	if (instance_do(inst, op, timeout, &err) < 0)
		return script_push_berr(L, &err);
	/* A started instance has a new console: drop the old connection and
	 * what it buffered, or console_expect would match the previous run's
	 * output (and console_send write to a console that is gone). */
	if (op == OP_START) {
		struct linst *other;

		linst_console_close(li);
		while ((other = console_holder(li)) != NULL)
			linst_console_close(other);
	}
	if (op != OP_UNDEFINE)
		linst_refresh_c(li, &ignored);
	lua_pushboolean(L, 1);
	return 1;
}

/* inst:start() -> true | nil, message   [-1, +1|2, m] */
static int linst_start(lua_State *L) { return linst_do(L, OP_START, 0); }
/* inst:pause(), :resume(), :destroy(), :undefine() likewise. */
static int linst_pause(lua_State *L) { return linst_do(L, OP_PAUSE, 0); }
static int linst_resume(lua_State *L) { return linst_do(L, OP_RESUME, 0); }
static int linst_destroy(lua_State *L) { return linst_do(L, OP_DESTROY, 0); }
static int linst_undefine(lua_State *L) { return linst_do(L, OP_UNDEFINE, 0); }

/* inst:shutdown([timeout_s]) -> true | nil, message
 * [-1|2, +1|2, m] */
static int
linst_shutdown(lua_State *L)
{
	lua_Integer t = luaL_optinteger(L, 2, 0);

	if (t < -1 || t > 86400)
		return luaL_argerror(L, 2, "timeout out of range -1..86400");
	return linst_do(L, OP_SHUTDOWN, (int)t);
}

/* inst:kill([signo]) -> true | nil, message
 * [-1|2, +1|2, m] */
static int
linst_kill(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	lua_Integer sig = luaL_optinteger(L, 2, SIGKILL);
	struct berr err = { 0 }, ignored = { 0 };

	if (sig < 1 || sig > 64)
		return luaL_argerror(L, 2, "signal number out of range 1..64");
	if (li->inst->backend->kill == NULL)
		return push_notsup(L, li->inst, "kill");
	if (sig == SIGKILL) {
		if (instance_do(li->inst, OP_KILL, 0, &err) < 0)
			return script_push_berr(L, &err);
	} else if (li->inst->backend->kill(li->inst, (int)sig, &err) < 0) {
		berr_wrap(&err, "killing `%s'", li->inst->name);
		return script_push_berr(L, &err);
	}
	linst_refresh_c(li, &ignored);
	lua_pushboolean(L, 1);
	return 1;
}

/* inst:info() -> table | nil, message
 * [-1, +1|2, m] */
static int
linst_info(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct berr err = { 0 };
	json_object *o = NULL;

	if (instance_info_json(li->inst, &o, &err) < 0)
		return script_push_berr(L, &err);
	script_push_json(L, o);
	json_object_put(o);
	return 1;
}

static void
set_num(lua_State *L, const char *k, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

static void
set_int(lua_State *L, const char *k, uint64_t v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

/* Push one stats table: rates and counters.  [-0, +1, m] */
static void
push_stats(lua_State *L, const struct inst_rates *rp, const struct inst_stats *sp)
{
	struct inst_rates r = *rp;
	struct inst_stats st = *sp;

	lua_createtable(L, 0, 24);
	set_num(L, "cpu_pct", r.cpu_pct_vcpus);
	set_num(L, "cpu_pct_host", r.cpu_pct_host);
	set_num(L, "blk_rd_bps", r.blk_rd_bps);
	set_num(L, "blk_wr_bps", r.blk_wr_bps);
	set_num(L, "blk_rd_iops", r.blk_rd_iops);
	set_num(L, "blk_wr_iops", r.blk_wr_iops);
	set_num(L, "net_rx_bps", r.net_rx_bps);
	set_num(L, "net_tx_bps", r.net_tx_bps);
	set_num(L, "net_rx_pps", r.net_rx_pps);
	set_num(L, "net_tx_pps", r.net_tx_pps);
	set_int(L, "cpu_time_ns", st.cpu_time_ns);
	set_int(L, "vcpus", (uint64_t)st.vcpus);
	set_int(L, "mem_total_kib", st.mem_total_kib);
	set_int(L, "mem_used_kib", st.mem_used_kib);
	set_int(L, "blk_rd_bytes", st.blk_rd_bytes);
	set_int(L, "blk_wr_bytes", st.blk_wr_bytes);
	set_int(L, "blk_rd_reqs", st.blk_rd_reqs);
	set_int(L, "blk_wr_reqs", st.blk_wr_reqs);
	set_int(L, "net_rx_bytes", st.net_rx_bytes);
	set_int(L, "net_tx_bytes", st.net_tx_bytes);
	set_int(L, "net_rx_pkts", st.net_rx_pkts);
	set_int(L, "net_tx_pkts", st.net_tx_pkts);
	set_int(L, "ts_ms", (uint64_t)st.ts_ms);
}

/* inst:stats() -> table of rates and counters | nil, message.  The first
 * sample of an instance in this process is taken twice, 250 ms apart, so
 * that rates mean something.
 * [-1, +1|2, e] */
static int
linst_stats(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct instance *inst = li->inst;
	struct session *s = script_need_session(L);
	struct inst_list one = { &li->inst, 1, 1 };
	struct inst_rates r;
	struct inst_stats st;
	char *key;
	int first;

	if (inst->backend->stats == NULL)
		return push_notsup(L, inst, "stats");
	key = instance_key(inst);
	first = smap_get(s->prev_stats, key) == NULL;
	free(key);
	memset(&st, 0, sizeof st);
	session_poll_stats(s, &one, &r, &st);
	if (first && st.valid) {
		int64_t until = now_ms() + 250;

		while (now_ms() < until)
			script_run_loop_until(L, until);
		memset(&st, 0, sizeof st);
		session_poll_stats(s, &one, &r, &st);
	}
	if (!st.valid) {
		lua_pushnil(L);
		lua_pushfstring(L, "no statistics for `%s' (state %s)", inst->name,
				inst_state_name(inst->state));
		return 2;
	}
	push_stats(L, &r, &st);
	return 1;
}

/* berth.stats(instances) -> array: a stats table per instance (false when
 * it has none: not running, or the backend has no stats).  One batched
 * sample per connection; instances seen for the first time are sampled
 * twice, 250 ms apart, once for the whole batch.
 * [-1, +1, e] */
int
script_stats_batch(lua_State *L)
{
	struct session *s = script_need_session(L);
	struct inst_list l = { 0 };
	struct inst_rates *r;
	struct inst_stats *st;
	size_t *slot, nu = 0;
	lua_Integer i, n;
	int first = 0, seen;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = luaL_len(L, 1);
	if (n < 0 || n > 1000000)
		return luaL_argerror(L, 1, "too many instances");
	/* Each instance is sampled once, however often it is listed: a
	 * backend answers a batch per instance, not per entry. */
	l.v = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *l.v, 0);
	slot = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *slot, 0);
	lua_newtable(L);
	seen = lua_gettop(L);
	for (i = 1; i <= n; i++) {
		struct instance *inst;
		char *key;

		lua_rawgeti(L, 1, i);
		inst = linst_check(L, -1)->inst;
		lua_pop(L, 1);
		key = instance_key(inst);
		lua_pushstring(L, key);
		if (lua_rawget(L, seen) == LUA_TNUMBER) {
			slot[i - 1] = (size_t)lua_tointeger(L, -1);
			lua_pop(L, 1);
			free(key);
			continue;
		}
		lua_pop(L, 1);
		lua_pushstring(L, key);
		lua_pushinteger(L, (lua_Integer)nu);
		lua_rawset(L, seen);
		slot[i - 1] = nu;
		l.v[nu++] = inst;
		if (smap_get(s->prev_stats, key) == NULL)
			first = 1;
		free(key);
	}
	l.n = l.cap = nu;
	r = lua_newuserdatauv(L, (nu + 1) * sizeof *r, 0);
	st = lua_newuserdatauv(L, (nu + 1) * sizeof *st, 0);
	memset(st, 0, (nu + 1) * sizeof *st);
	session_poll_stats(s, &l, r, st);
	if (first) {
		int64_t until = now_ms() + 250;

		while (now_ms() < until)
			script_run_loop_until(L, until);
		memset(st, 0, (nu + 1) * sizeof *st);
		session_poll_stats(s, &l, r, st);
	}
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		if (st[slot[i]].valid)
			push_stats(L, &r[slot[i]], &st[slot[i]]);
		else
			lua_pushboolean(L, 0);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* inst:history([metric [, span_seconds]]) -> values, step_seconds.
 * Oldest first; gaps are NaN (test with v ~= v).
 * [-1|2|3, +2, e] */
static int
linst_history(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	const char *mname = luaL_optstring(L, 2, "cpu");
	lua_Integer span = luaL_optinteger(L, 3, 60);
	struct session *s = script_need_session(L);
	struct series *ser;
	float buf[SERIES_COARSE_SLOTS];
	char *key;
	int m = metric_from_name(mname), step = 1;
	size_t n = 0, i;

	if (m < 0)
		return luaL_argerror(L, 2, lua_pushfstring(L, "unknown metric `%s'", mname));
	if (span < 1 || span > 86400)
		return luaL_argerror(L, 3, "span out of range 1..86400 seconds");
	key = instance_key(li->inst);
	ser = metrics_store_get(s->metrics, key, 0);
	free(key);
	if (ser != NULL)
		n = series_get(&ser[m], (int64_t)time(NULL), span, buf, SERIES_COARSE_SLOTS, &step);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushnumber(L, buf[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_pushinteger(L, step);
	return 2;
}

/* ---- console ---- */

static void
linst_console_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct linst *li = arg;
	char chunk[4096];

	(void)revents;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n > 0) {
			if (li->clen + (size_t)n > CONSOLE_BUF_MAX) {
				size_t drop = li->clen + (size_t)n - CONSOLE_BUF_MAX / 2;

				if (drop > li->clen)
					drop = li->clen;
				memmove(li->cbuf, li->cbuf + drop, li->clen - drop);
				li->clen -= drop;
			}
			li->cbuf = xrealloc(li->cbuf, li->clen + (size_t)n + 1);
			memcpy(li->cbuf + li->clen, chunk, (size_t)n);
			li->clen += (size_t)n;
			li->cbuf[li->clen] = '\0';
			li->sc->wakeup = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		li->con_eof = 1;	/* EOF or error: the console is gone */
		li->sc->wakeup = 1;
		loop_remove_fd(l, id);
		li->con_watch = 0;
		break;
	}
}

static int
linst_console_ensure(lua_State *L, struct linst *li, struct berr *err)
{
	struct linst *holder;
	struct session *s;
	int fd;

	if (li->con_fd >= 0 && !li->con_eof)
		return 0;
	if (li->con_fd >= 0) {
		/* The console ended (the instance stopped): open it again.  What
		 * was buffered stays readable until the new console opens. */
		if (li->con_watch > 0 && li->loop != NULL)
			loop_remove_fd(li->loop, li->con_watch);
		li->con_watch = 0;
		close(li->con_fd);
		console_unlink(li);
		li->con_fd = -1;
	}
	/* One connection per instance and state, passed to the object that
	 * uses it: a second connection would get the output but not the
	 * input (berth-vmm gives the input to one client). */
	holder = console_holder(li);
	if (holder != NULL) {
		if (holder->con_watch > 0 && holder->loop != NULL)
			loop_remove_fd(holder->loop, holder->con_watch);
		holder->con_watch = 0;
		console_unlink(holder);
		free(li->cbuf);
		li->cbuf = holder->cbuf;
		li->clen = holder->clen;
		li->con_fd = holder->con_fd;
		li->con_eof = 0;
		li->loop = holder->loop;
		holder->cbuf = NULL;
		holder->clen = 0;
		holder->con_fd = -1;
		console_link(li);
		li->con_watch = loop_add_fd(li->loop, li->con_fd, POLLIN, linst_console_cb, li, NULL);
		if (li->con_watch < 0) {
			li->con_watch = 0;
			linst_console_close(li);
			return berr_set(err, ENOMEM, "watching the console of `%s'", li->inst->name);
		}
		return 0;
	}
	if (li->inst->backend->console_open == NULL)
		return berr_set(err, BERR_NOTSUP, "console: not supported by backend %s",
				backend_name(li->inst));
	s = script_need_session(L);
	if (li->inst->backend->console_open(li->inst, &fd, err) < 0)
		return berr_wrap(err, "opening the console of `%s'", li->inst->name);
	/* A new console is a new run of the instance (the bundled backends
	 * replay its scrollback): output of the previous run must not match. */
	li->clen = 0;
	fd_set_nonblock(fd, 1);
	fd_set_cloexec(fd, 1);
	li->con_fd = fd;
	li->con_eof = 0;
	li->loop = s->loop;
	console_link(li);
	li->con_watch = loop_add_fd(s->loop, fd, POLLIN, linst_console_cb, li, NULL);
	if (li->con_watch < 0) {
		close(fd);
		console_unlink(li);
		li->con_fd = -1;
		li->con_watch = 0;
		return berr_set(err, ENOMEM, "watching the console of `%s'", li->inst->name);
	}
	return 0;
}

/* inst:console_send(str) -> true | nil, message
 * [-2, +1|2, m] */
static int
linst_console_send(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	size_t len, off = 0;
	const char *data = luaL_checklstring(L, 2, &len);
	struct berr err = { 0 };
	int64_t deadline = now_ms() + 5000;

	/* Typing into a console is running commands in the guest, often as
	 * root at a login prompt: as far out as inst:exec. */
	if (script_of(L)->sandbox)
		return script_sandbox_refuse(L, "inst:console_send");

	if (linst_console_ensure(L, li, &err) < 0)
		return script_push_berr(L, &err);
	while (off < len) {
		ssize_t n = write(li->con_fd, data + off, len - off);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now_ms() < deadline) {
			struct pollfd p = { .fd = li->con_fd, .events = POLLOUT };

			poll(&p, 1, 100);
			script_check_stop(L);
			continue;
		}
		lua_pushnil(L);
		lua_pushfstring(L, "writing to the console of `%s': %s", li->inst->name,
				n < 0 ? strerror(errno) : "console full");
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* inst:console_read() -> string (everything buffered since the last
 * expect/read; may be "") | nil, message
 * [-1, +1|2, m] */
static int
linst_console_read(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct berr err = { 0 };
	struct session *s;

	if (linst_console_ensure(L, li, &err) < 0)
		return script_push_berr(L, &err);
	s = script_need_session(L);
	loop_run_once(s->loop, 0);
	lua_pushlstring(L, li->cbuf ? li->cbuf : "", li->clen);
	li->clen = 0;
	return 1;
}

/* Poll step of console_expect.  Stack: self, pattern, timeout, deadline. */
static int
linst_expect_poll(lua_State *L, int64_t *wake)
{
	struct linst *li = linst_check(L, 1);
	int64_t deadline = lua_tointeger(L, 4), now = now_ms();
	int top = lua_gettop(L), nres;

	if (li->clen > 0) {
		lua_pushlightuserdata(L, &strfind_key);
		lua_rawget(L, LUA_REGISTRYINDEX);
		lua_pushlstring(L, li->cbuf, li->clen);
		lua_pushvalue(L, 2);
		lua_call(L, 2, LUA_MULTRET);
		nres = lua_gettop(L) - top;
		if (nres >= 2 && lua_isinteger(L, top + 1)) {
			lua_Integer from = lua_tointeger(L, top + 1), to = lua_tointeger(L, top + 2);
			size_t end = (size_t)to;

			if (end > li->clen)
				end = li->clen;
			/* Results: the whole match, then the captures. */
			lua_pushlstring(L, li->cbuf + from - 1, (size_t)(to - from + 1));
			lua_replace(L, top + 1);
			lua_remove(L, top + 2);
			memmove(li->cbuf, li->cbuf + end, li->clen - end);
			li->clen -= end;
			return nres - 1;
		}
		lua_settop(L, top);
	}
	if (li->con_eof) {
		lua_pushnil(L);
		lua_pushfstring(L, "the console of `%s' closed before `%s' appeared", li->inst->name,
				lua_tostring(L, 2));
		return 2;
	}
	if (now >= deadline) {
		size_t tail = li->clen > 200 ? 200 : li->clen;
		luaL_Buffer b;

		lua_pushnil(L);
		luaL_buffinit(L, &b);
		lua_pushfstring(L, "timeout after %f s waiting for `%s' on the console of `%s'",
				lua_tonumber(L, 3), lua_tostring(L, 2), li->inst->name);
		luaL_addvalue(&b);
		luaL_addstring(&b, " (last output: \"");
		if (tail > 0)
			luaL_addlstring(&b, li->cbuf + li->clen - tail, tail);
		luaL_addstring(&b, "\")");
		luaL_pushresult(&b);
		return 2;
	}
	*wake = deadline;
	return -1;
}

/* inst:console_expect(pattern [, timeout_s]) -> match, captures... |
 * nil, message.  pattern is a Lua pattern, matched against output that
 * arrived since the last match (read through the event loop).
 * [-2|3, +n, e] */
static int
linst_console_expect(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct berr err = { 0 };
	double timeout;

	luaL_checkstring(L, 2);
	timeout = luaL_optnumber(L, 3, 30);
	if (!(timeout >= 0 && timeout <= 86400))
		return luaL_argerror(L, 3, "timeout out of range 0..86400");
	lua_settop(L, 3);
	lua_pushnumber(L, timeout);
	lua_replace(L, 3);
	if (linst_console_ensure(L, li, &err) < 0)
		return script_push_berr(L, &err);
	lua_pushinteger(L, now_ms() + (int64_t)(timeout * 1000));
	return script_block(L, linst_expect_poll);
}

/* Poll step of wait.  Stack: self, state, timeout, deadline, last_refresh. */
static int
linst_wait_poll(lua_State *L, int64_t *wake)
{
	struct linst *li = linst_check(L, 1);
	const char *want = lua_tostring(L, 2);
	int64_t deadline = lua_tointeger(L, 4), last = lua_tointeger(L, 5), now = now_ms();

	if (now - last >= WAIT_POLL_MS) {
		struct berr err = { 0 };

		if (linst_refresh_c(li, &err) < 0) {
			if (strcmp(want, "undefined") == 0 && err.code == BERR_NOTFOUND) {
				lua_pushboolean(L, 1);
				return 1;
			}
			return script_push_berr(L, &err);
		}
		lua_pushinteger(L, now);
		lua_replace(L, 5);
		last = now;
	}
	if (strcmp(inst_state_name(li->inst->state), want) == 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (now >= deadline) {
		lua_pushnil(L);
		lua_pushfstring(L, "timeout after %f s: `%s' is %s, not %s", lua_tonumber(L, 3),
				li->inst->name, inst_state_name(li->inst->state), want);
		return 2;
	}
	*wake = last + WAIT_POLL_MS < deadline ? last + WAIT_POLL_MS : deadline;
	return -1;
}

/* inst:wait(state [, timeout_s]) -> true | nil, message.  state is a state
 * name ("running", "stopped", "paused", ...) or "undefined" (gone).
 * [-2|3, +1|2, e] */
static int
linst_wait(lua_State *L)
{
	const char *want;
	double timeout;

	linst_check(L, 1);
	want = luaL_checkstring(L, 2);
	timeout = luaL_optnumber(L, 3, 60);
	if (strcmp(want, "undefined") != 0 && inst_state_from_name(want) == INST_UNKNOWN &&
	    strcmp(want, "unknown") != 0)
		return luaL_argerror(L, 2, lua_pushfstring(L, "unknown state `%s'", want));
	if (!(timeout >= 0 && timeout <= 86400))
		return luaL_argerror(L, 3, "timeout out of range 0..86400");
	lua_settop(L, 3);
	lua_pushnumber(L, timeout);
	lua_replace(L, 3);
	lua_pushinteger(L, now_ms() + (int64_t)(timeout * 1000));
	lua_pushinteger(L, 0);
	return script_block(L, linst_wait_poll);
}

/* An unlinked temporary file for captured output, or -1. */
static int
exec_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

#ifdef O_TMPFILE
	fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	path = xasprintf("%s/berth-exec.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	free(path);
	return fd;
}

/* Push what fd holds (from its start, at most EXEC_OUTPUT_MAX bytes). */
static void
exec_push_file(lua_State *L, int fd)
{
	luaL_Buffer b;
	size_t total = 0;

	luaL_buffinit(L, &b);
	if (lseek(fd, 0, SEEK_SET) == 0) {
		while (total < EXEC_OUTPUT_MAX) {
			char *p = luaL_prepbuffer(&b);
			size_t want = EXEC_OUTPUT_MAX - total < LUAL_BUFFERSIZE ? EXEC_OUTPUT_MAX - total
										   : LUAL_BUFFERSIZE;
			ssize_t n = read(fd, p, want);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			luaL_addsize(&b, (size_t)n);
			total += (size_t)n;
		}
	}
	luaL_pushresult(&b);
}

/* __gc of the pair of capture files: closed even when reading them into
 * Lua strings raises (a memory limit). */
static int
exec_files_gc(lua_State *L)
{
	int *fds = lua_touserdata(L, 1);

	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	return 0;
}

/* Push a userdata that owns out[0] and out[1]. */
static void
exec_files_own(lua_State *L, const int out[2])
{
	int *fds = lua_newuserdatauv(L, 2 * sizeof *fds, 0);

	fds[0] = out[0];
	fds[1] = out[1];
	if (luaL_newmetatable(L, "berth.exec_files")) {
		lua_pushcfunction(L, exec_files_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
}

/* Redirect fds 0, 1 and 2 for a captured exec: stdin from /dev/null,
 * stdout and stderr to out[0] and out[1]; the originals go to saved[].
 * Returns -1 with errno when a descriptor cannot be made. */
static int
exec_redirect(int out[2], int saved[3])
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC), i;

	out[0] = exec_tmpfile();
	out[1] = exec_tmpfile();
	for (i = 0; i < 3; i++)
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
	if (null < 0 || out[0] < 0 || out[1] < 0 || saved[0] < 0 || saved[1] < 0 || saved[2] < 0) {
		int e = errno;

		if (null >= 0)
			close(null);
		for (i = 0; i < 3; i++)
			if (saved[i] >= 0)
				close(saved[i]);
		for (i = 0; i < 2; i++)
			if (out[i] >= 0)
				close(out[i]);
		errno = e;
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	dup2(null, 0);
	dup2(out[0], 1);
	dup2(out[1], 2);
	close(null);
	return 0;
}

static void
exec_restore(int saved[3])
{
	int i;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 3; i++) {
		dup2(saved[i], i);
		close(saved[i]);
	}
}

/* inst:exec(command [, {tty = bool, output = bool}]) -> exit status |
 * nil, message.  command: a string (run with /bin/sh -c) or an argv table.
 * With output = true, stdin is /dev/null and the command's standard output
 * and error are captured: -> status, stdout, stderr.
 * [-2|3, +1|2|3, e] */
static int
linst_exec(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct berr err = { 0 };
	char **argv;
	int tty = 0, capture = 0, status = 0, r, out[2] = { -1, -1 }, saved[3] = { -1, -1, -1 };
	size_t n, i;

	/* A container's commands run as root with whatever it shares of the
	 * host: as far out of the sandbox as berth.cmd("exec"). */
	if (script_of(L)->sandbox)
		return script_sandbox_refuse(L, "inst:exec");
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		lua_getfield(L, 3, "tty");
		tty = lua_toboolean(L, -1);
		lua_getfield(L, 3, "output");
		capture = lua_toboolean(L, -1);
		lua_pop(L, 2);
		if (tty && capture)
			return luaL_argerror(L, 3, "tty and output exclude each other");
	}
	if (li->inst->backend->exec == NULL)
		return push_notsup(L, li->inst, "exec");
	/* A stopped instance has nothing to run a command in: say so, rather
	 * than the status of the runtime's complaint on our stderr. */
	if (linst_refresh_c(li, &err) == 0 && li->inst->state != INST_RUNNING) {
		lua_pushnil(L);
		lua_pushfstring(L, "running a command in `%s': it is %s, not running", li->inst->name,
				inst_state_name(li->inst->state));
		return 2;
	}
	err = (struct berr){ 0 };
	if (lua_type(L, 2) == LUA_TSTRING) {
		argv = xcalloc(4, sizeof *argv);
		argv[0] = xstrdup("/bin/sh");
		argv[1] = xstrdup("-c");
		argv[2] = xstrdup(lua_tostring(L, 2));
		n = 3;
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		n = luaL_len(L, 2);
		if (n == 0 || n > 4096)
			return luaL_argerror(L, 2, "argv must have 1..4096 strings");
		argv = xcalloc(n + 1, sizeof *argv);
		for (i = 0; i < n; i++) {
			lua_rawgeti(L, 2, (lua_Integer)i + 1);
			if (lua_type(L, -1) != LUA_TSTRING) {
				size_t k;

				for (k = 0; k < i; k++)
					free(argv[k]);
				free(argv);
				return luaL_argerror(L, 2, "argv items must be strings");
			}
			argv[i] = xstrdup(lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	}
	fflush(stdout);
	if (capture && exec_redirect(out, saved) < 0) {
		berr_errno(&err, "capturing the output of a command in `%s'", li->inst->name);
		for (i = 0; i < n; i++)
			free(argv[i]);
		free(argv);
		return script_push_berr(L, &err);
	}
	r = li->inst->backend->exec(li->inst, argv, tty, &status, &err);
	if (capture)
		exec_restore(saved);
	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	if (r < 0) {
		if (capture) {
			close(out[0]);
			close(out[1]);
		}
		berr_wrap(&err, "running a command in `%s'", li->inst->name);
		return script_push_berr(L, &err);
	}
	if (!capture) {
		lua_pushinteger(L, status);
		return 1;
	}
	exec_files_own(L, out);
	lua_pushinteger(L, status);
	exec_push_file(L, out[0]);
	exec_push_file(L, out[1]);
	/* Close the files now (their __gc then has nothing left to do). */
	lua_pushcfunction(L, exec_files_gc);
	lua_pushvalue(L, -5);
	lua_call(L, 1, 0);
	return 3;
}

/* inst:snapshot(name) -> true | nil, message
 * [-2, +1|2, e] */
static int
linst_snapshot(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct berr err = { 0 };

	if (li->inst->backend->snapshot == NULL)
		return push_notsup(L, li->inst, "snapshot");
	if (li->inst->backend->snapshot(li->inst, name, &err) < 0) {
		berr_wrap(&err, "snapshot `%s' of `%s'", name, li->inst->name);
		return script_push_berr(L, &err);
	}
	lua_pushboolean(L, 1);
	return 1;
}

struct migrate_cb {
	lua_State *L;
	int fn;			/* stack index of on_progress, 0 none */
};

static void
linst_migrate_progress(double fraction, const char *phase, void *arg)
{
	struct migrate_cb *cb = arg;
	lua_State *L = cb->L;

	if (cb->fn == 0)
		return;
	lua_pushvalue(L, cb->fn);
	lua_pushnumber(L, fraction);
	lua_pushstring(L, phase ? phase : "");
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		script_report("migrate on_progress: %s", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
}

/* inst:migrate{to = host_or_uri, max_downtime = ms, on_progress =
 * function(fraction, phase)} -> true | nil, message
 * [-2, +1|2, e] */
static int
linst_migrate(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct migrate_opts mo = { 0 };
	struct migrate_cb cb = { L, 0 };
	struct berr err = { 0 }, ignored = { 0 };

	/* The destination is a URI, and libvirt's run programs (qemu+ssh://,
	 * qemu+ext://...?command=). */
	if (script_of(L)->sandbox)
		return script_sandbox_refuse(L, "inst:migrate");
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_getfield(L, 2, "to");			/* 3 */
	lua_getfield(L, 2, "max_downtime");		/* 4 */
	lua_getfield(L, 2, "on_progress");		/* 5 */
	if (lua_type(L, 3) != LUA_TSTRING)
		return luaL_argerror(L, 2, "field `to' (destination host or URI) must be a string");
	if (!lua_isnil(L, 5)) {
		luaL_checktype(L, 5, LUA_TFUNCTION);
		cb.fn = 5;
	}
	if (li->inst->backend->migrate == NULL)
		return push_notsup(L, li->inst, "migrate");
	mo.to = lua_tostring(L, 3);
	mo.max_downtime_ms = (int)luaL_optinteger(L, 4, 0);
	mo.on_progress = linst_migrate_progress;
	mo.arg = &cb;
	if (li->inst->backend->migrate(li->inst, &mo, &err) < 0) {
		berr_wrap(&err, "migrating `%s' to %s", li->inst->name, mo.to);
		return script_push_berr(L, &err);
	}
	linst_refresh_c(li, &ignored);
	lua_pushboolean(L, 1);
	return 1;
}

/* Fields: name kind state backend host vcpus memory (KiB) uuid reason
 * created started key.
 * [-2, +1, e] */
static int
linst_index(lua_State *L)
{
	struct linst *li = linst_check(L, 1);
	struct instance *inst = li->inst;
	const char *k = luaL_checkstring(L, 2);

	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	if (strcmp(k, "name") == 0)
		lua_pushstring(L, inst->name);
	else if (strcmp(k, "kind") == 0)
		lua_pushstring(L, inst_kind_name(inst->kind));
	else if (strcmp(k, "state") == 0)
		lua_pushstring(L, inst_state_name(inst->state));
	else if (strcmp(k, "backend") == 0)
		lua_pushstring(L, backend_name(inst));
	else if (strcmp(k, "host") == 0)
		lua_pushstring(L, inst->host ? inst->host : "localhost");
	else if (strcmp(k, "uri") == 0)
		lua_pushstring(L, inst->conn ? inst->conn->uri : NULL);
	else if (strcmp(k, "vcpus") == 0)
		lua_pushinteger(L, inst->vcpus);
	else if (strcmp(k, "memory") == 0 || strcmp(k, "memory_kib") == 0)
		lua_pushinteger(L, (lua_Integer)inst->memory_kib);
	else if (strcmp(k, "uuid") == 0)
		lua_pushstring(L, inst->uuid);
	else if (strcmp(k, "reason") == 0)
		lua_pushstring(L, inst->reason);
	else if (strcmp(k, "created") == 0)
		lua_pushinteger(L, inst->created);
	else if (strcmp(k, "started") == 0)
		lua_pushinteger(L, inst->started);
	else if (strcmp(k, "key") == 0) {
		char *key = instance_key(inst);

		lua_pushstring(L, key);
		free(key);
	} else
		lua_pushnil(L);
	return 1;
}

/* [-1, +1, m] */
static int
linst_tostring(lua_State *L)
{
	struct linst *li = luaL_checkudata(L, 1, SCRIPT_INSTANCE_MT);

	if (li->inst == NULL) {
		lua_pushliteral(L, "berth.instance (closed)");
		return 1;
	}
	lua_pushfstring(L, "berth.instance %s (%s, %s, %s on %s)", li->inst->name,
			inst_kind_name(li->inst->kind), inst_state_name(li->inst->state),
			backend_name(li->inst), li->inst->host ? li->inst->host : "localhost");
	return 1;
}

/* inst == other: same backend, host and name.  [-2, +1, -] */
static int
linst_eq(lua_State *L)
{
	struct linst *a = luaL_checkudata(L, 1, SCRIPT_INSTANCE_MT);
	struct linst *b = luaL_checkudata(L, 2, SCRIPT_INSTANCE_MT);

	lua_pushboolean(L, a->inst && b->inst && a->inst->backend == b->inst->backend &&
				   a->inst->conn == b->inst->conn &&
				   strcmp(a->inst->name, b->inst->name) == 0);
	return 1;
}

/* [-0, +0, m] */
void
script_instance_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "start", linst_start },
		{ "shutdown", linst_shutdown },
		{ "kill", linst_kill },
		{ "pause", linst_pause },
		{ "resume", linst_resume },
		{ "destroy", linst_destroy },
		{ "undefine", linst_undefine },
		{ "refresh", linst_refresh },
		{ "info", linst_info },
		{ "stats", linst_stats },
		{ "history", linst_history },
		{ "console_send", linst_console_send },
		{ "console_expect", linst_console_expect },
		{ "console_read", linst_console_read },
		{ "wait", linst_wait },
		{ "exec", linst_exec },
		{ "snapshot", linst_snapshot },
		{ "migrate", linst_migrate },
		{ "close", linst_release },
		{ NULL, NULL },
	};

	luaL_newmetatable(L, SCRIPT_INSTANCE_MT);
	luaL_newlib(L, methods);
	lua_pushcclosure(L, linst_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, linst_release);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, linst_release);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, linst_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushcfunction(L, linst_eq);
	lua_setfield(L, -2, "__eq");
	lua_pushliteral(L, SCRIPT_INSTANCE_MT);
	lua_setfield(L, -2, "__metatable");	/* scripts cannot reach __gc */
	lua_pop(L, 1);

	/* Keep the real string.find for console_expect. */
	lua_pushlightuserdata(L, &strfind_key);
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "find");
	lua_remove(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
}
