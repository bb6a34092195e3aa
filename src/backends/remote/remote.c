/*
 * remote.c - the remote backend: every instance of another host, of every
 * backend there, through a `berth proxy' reached over ssh (or, for tests,
 * a local command).  One connection is one ssh process whose stdin and
 * stdout carry berth's control protocol; its stderr is kept to explain
 * failures ("ssh exited 255: Permission denied (publickey).").
 *
 * Instances keep the remote backend and connection URI in priv so that
 * operations reach the same instance on the far side.  Consoles are local
 * socketpairs pumped over the protocol inside the session loop, with one
 * read and one write in flight per console, so a flood in either direction
 * is bounded by a chunk.  A dead transport or a peer that breaks the
 * protocol marks the connection failed: every later op fails at once with
 * the host named.  Not for: the server side (remote-proxy.c) or spawning
 * and URI syntax (remote-transport.c).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/remote/remote.h"
#include "core/backend.h"
#include "core/loop.h"
#include "core/proto.h"
#include "core/util.h"

extern const struct backend_ops remote_backend_ops;

#define REMOTE_CALL_TIMEOUT_MS 30000
#define CALL_TIMEOUT(rc) ((rc)->target.timeout_set ? (rc)->target.timeout_ms : REMOTE_CALL_TIMEOUT_MS)
#define REMOTE_OP_TIMEOUT_MS 120000
#define REMOTE_MAX_NOISE (64 * 1024)
/* A lost connection is retried by list after this, doubling up to the max. */
#define REMOTE_RETRY_MIN_MS 3000
#define REMOTE_RETRY_MAX_MS 300000

struct remote_chan;

struct remote_conn {
	struct bconn base;
	struct loop *loop;
	struct remote_target target;
	struct remote_proc proc;
	struct proto_client *client;
	int err_watch;
	char *label;		/* host label of its instances */
	char *remote_host;	/* the proxy's host name */
	char *remote_version;
	int failed;
	struct berr fail_err;
	int64_t retry_at;	/* now_ms() after which list reconnects */
	int backoff_ms;		/* doubles with every failed reconnect */
	backend_event_cb event_cb;
	void *event_arg;
	struct remote_chan *chans;
};

struct remote_inst {
	char *backend;		/* backend on the remote host */
	char *uri;		/* its connection URI there */
};

/* One console: our end of a socketpair, the front-end holds the other. */
struct remote_chan {
	struct remote_chan *next;
	struct remote_conn *rc;
	int64_t ch;
	int fd;
	int watch;
	int refs;		/* 1 while open + 1 per call in flight */
	int down;		/* fd closed, unlinked */
	int reading, writing;
	int remote_eof;
	unsigned char *out;	/* remote bytes not yet written to fd */
	size_t out_len, out_off;
};

static struct remote_conn *
rconn(struct bconn *c)
{
	return (struct remote_conn *)c;
}

/* ------------------------------------------------------------ failures */

static void
remote_stop_transport(struct remote_conn *rc)
{
	struct proto_client *client = rc->client;

	if (rc->err_watch > 0)
		loop_remove_fd(rc->loop, rc->err_watch);
	rc->err_watch = 0;
	rc->client = NULL;	/* callbacks run by the free see it gone */
	proto_client_free(client);
	remote_proc_stop(&rc->proc);
}

static void chan_shutdown(struct remote_chan *ch);

/* The connection is unusable from now on; remember why (and, when the
 * transport ended by itself, how the child exited). */
static void
remote_fail(struct remote_conn *rc, const struct berr *why, int explain)
{
	struct remote_chan *ch;

	if (rc->failed)
		return;
	rc->failed = 1;
	rc->fail_err = *why;
	if (rc->backoff_ms < REMOTE_RETRY_MIN_MS)
		rc->backoff_ms = REMOTE_RETRY_MIN_MS;
	rc->retry_at = now_ms() + rc->backoff_ms;
	if (explain && rc->proc.pid > 0) {
		remote_proc_reap(&rc->proc, 1000);
		remote_proc_explain(&rc->proc, &rc->fail_err);
	}
	/* A transport still running after its protocol broke is of no use:
	 * end it now rather than at close or reconnection. */
	if (rc->proc.pid > 0 && !rc->proc.reaped) {
		kill(-rc->proc.pid, SIGTERM);
		kill(rc->proc.pid, SIGTERM);
		remote_proc_reap(&rc->proc, 500);
	}
	berr_wrap(&rc->fail_err, "connection to `%s' lost", rc->label);
	while ((ch = rc->chans) != NULL)
		chan_shutdown(ch);
}

static int
remote_check(struct remote_conn *rc, struct berr *err)
{
	if (rc->failed) {
		*err = rc->fail_err;
		return -1;
	}
	return 0;
}

/* Name the host in an error, unless the error says it already (a failed
 * connection's reason does). */
static int
remote_where(struct remote_conn *rc, struct berr *err)
{
	if (!rc->failed)
		berr_wrap(err, "on `%s'", rc->label);
	return -1;
}

static void
remote_on_close(struct proto_client *c, const struct berr *err, void *arg)
{
	remote_fail(arg, err, 1);
}

/* One synchronous call; args are taken.  Errors name the host and, when
 * the transport died, why. */
static int
remote_call(struct remote_conn *rc, const char *op, json_object *args, int timeout_ms,
	    json_object **result, struct berr *err)
{
	size_t oplen = strlen(op);
	int r;

	if (result)
		*result = NULL;
	if (remote_check(rc, err) < 0) {
		json_object_put(args);
		return -1;
	}
	r = proto_client_call(rc->client, op, args, timeout_ms, result, err);
	json_object_put(args);
	if (r == 0)
		return 0;
	if (!proto_client_alive(rc->client)) {
		struct berr e = *err;

		remote_fail(rc, &e, 1);
		*err = rc->fail_err;
		return -1;
	}
	if (err->code == BERR_TIMEOUT) {
		struct berr e;

		/* A peer that stops answering would make every later call wait
		 * as long: give up on the connection. */
		berr_set(&e, BERR_TIMEOUT, "`%s' got no answer within %d s", op, timeout_ms / 1000);
		remote_fail(rc, &e, 0);
		remote_stop_transport(rc);
		*err = rc->fail_err;
		return -1;
	}
	/* An error reply: drop proto's "op: " prefix, the caller adds context. */
	if (strncmp(err->msg, op, oplen) == 0 && strncmp(err->msg + oplen, ": ", 2) == 0)
		memmove(err->msg, err->msg + oplen + 2, strlen(err->msg + oplen + 2) + 1);
	return -1;
}

/* ------------------------------------------------------------ instances */

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

static void
remote_free_priv(struct instance *inst)
{
	struct remote_inst *ri = inst->priv;

	if (ri == NULL)
		return;
	free(ri->backend);
	free(ri->uri);
	free(ri);
	inst->priv = NULL;
}

/* An instance from the proxy's JSON (hostile: checked field by field). */
static struct instance *
remote_instance(struct remote_conn *rc, json_object *o, struct berr *err)
{
	const char *name = jstr(o, "name"), *s;
	struct instance *inst;
	struct remote_inst *ri;
	int kind;
	int64_t v;

	if (!json_object_is_type(o, json_type_object) || name == NULL || name[0] == '\0' ||
	    strlen(name) > 256) {
		berr_set(err, BERR_PROTO, "the proxy on `%s' sent an instance without a valid name",
			 rc->label);
		return NULL;
	}
	kind = inst_kind_from_name(jstr(o, "kind") ? jstr(o, "kind") : "vm");
	inst = instance_new(name, kind < 0 ? INST_VM : (enum inst_kind)kind);
	inst->backend = &remote_backend_ops;
	inst->conn = &rc->base;
	inst->host = xstrdup(rc->label);
	if ((s = jstr(o, "uuid")) != NULL)
		strlcpy_b(inst->uuid, s, sizeof inst->uuid);
	inst->state = jstr(o, "state") ? inst_state_from_name(jstr(o, "state")) : INST_UNKNOWN;
	if ((s = jstr(o, "reason")) != NULL)
		inst->reason = xstrndup(s, 512);
	v = jint(o, "vcpus", 0);
	inst->vcpus = v >= 0 && v < 1 << 20 ? (int)v : 0;
	v = jint(o, "memory_kib", 0);
	inst->memory_kib = v > 0 ? (uint64_t)v : 0;
	inst->created = jint(o, "created", 0);
	inst->started = jint(o, "started", 0);
	ri = xcalloc(1, sizeof *ri);
	if ((s = jstr(o, "backend")) != NULL)
		ri->backend = xstrndup(s, 64);
	if ((s = jstr(o, "uri")) != NULL)
		ri->uri = xstrndup(s, 1024);
	inst->priv = ri;
	return inst;
}

/* {backend, uri, name} naming inst on the far side. */
static json_object *
remote_inst_args(struct instance *inst)
{
	struct remote_inst *ri = inst->priv;
	json_object *a = json_object_new_object();

	json_object_object_add(a, "name", json_object_new_string(inst->name));
	if (ri != NULL && ri->backend != NULL)
		json_object_object_add(a, "backend", json_object_new_string(ri->backend));
	if (ri != NULL && ri->uri != NULL)
		json_object_object_add(a, "uri", json_object_new_string(ri->uri));
	return a;
}

static struct remote_conn *
inst_rconn(struct instance *inst, struct berr *err)
{
	if (inst->conn == NULL || inst->conn->ops != &remote_backend_ops) {
		berr_set(err, BERR_INVALID, "instance `%s' does not belong to a remote connection",
			 inst->name);
		return NULL;
	}
	return rconn(inst->conn);
}

static int remote_reconnect(struct remote_conn *rc);

static int
remote_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	struct remote_conn *rc = rconn(c);
	json_object *res = NULL, *arr;
	size_t i, n;

	/* Dashboards list periodically: that is when a lost host comes back. */
	if (rc->failed && now_ms() >= rc->retry_at)
		remote_reconnect(rc);
	if (remote_call(rc, "list", NULL, CALL_TIMEOUT(rc), &res, err) < 0)
		return remote_where(rc, err);
	if (!json_object_object_get_ex(res, "instances", &arr) || !json_object_is_type(arr, json_type_array)) {
		json_object_put(res);
		return berr_set(err, BERR_PROTO, "the proxy on `%s' answered list without instances",
				rc->label);
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct instance *inst = remote_instance(rc, json_object_array_get_idx(arr, i), err);

		if (inst == NULL) {
			json_object_put(res);
			return -1;
		}
		inst_list_push(out, inst);
	}
	json_object_put(res);
	return 0;
}

static int
remote_get(struct bconn *c, const char *name, struct instance **out, struct berr *err)
{
	struct remote_conn *rc = rconn(c);
	json_object *args = json_object_new_object(), *res = NULL;

	json_object_object_add(args, "name", json_object_new_string(name));
	if (remote_call(rc, "get", args, CALL_TIMEOUT(rc), &res, err) < 0)
		return remote_where(rc, err);
	*out = remote_instance(rc, res, err);
	json_object_put(res);
	return *out ? 0 : -1;
}

static int
remote_define(struct bconn *c, const struct define_spec *spec, struct instance **out, struct berr *err)
{
	struct remote_conn *rc = rconn(c);
	json_object *args = json_object_new_object(), *res = NULL;
	const char *backend = NULL;

	if (spec->xml != NULL) {
		backend = "libvirt";
		json_object_object_add(args, "xml", json_object_new_string(spec->xml));
	} else if (spec->json != NULL) {
		backend = jstr(spec->json, "backend");
		json_object_object_add(args, "json", json_object_get(spec->json));
	}
	if (backend != NULL)
		json_object_object_add(args, "backend", json_object_new_string(backend));
	if (spec->name != NULL)
		json_object_object_add(args, "name", json_object_new_string(spec->name));
	if (remote_call(rc, "define", args, REMOTE_OP_TIMEOUT_MS, &res, err) < 0)
		return remote_where(rc, err);
	*out = remote_instance(rc, res, err);
	json_object_put(res);
	return *out ? 0 : -1;
}

static int
remote_inst_op(struct instance *inst, const char *op, json_object *extra, int timeout_ms,
	       struct berr *err)
{
	struct remote_conn *rc = inst_rconn(inst, err);
	json_object *args;

	if (rc == NULL) {
		json_object_put(extra);
		return -1;
	}
	args = remote_inst_args(inst);
	if (extra != NULL) {
		json_object_object_foreach(extra, k, v)
			json_object_object_add(args, k, json_object_get(v));
		json_object_put(extra);
	}
	if (remote_call(rc, op, args, timeout_ms, NULL, err) < 0)
		return remote_where(rc, err);
	return 0;
}

static int
remote_start(struct instance *inst, struct berr *err)
{
	return remote_inst_op(inst, "start", NULL, REMOTE_OP_TIMEOUT_MS, err);
}

static int
remote_shutdown(struct instance *inst, int timeout_s, int force_after, struct berr *err)
{
	json_object *x = json_object_new_object();
	int wait_ms = REMOTE_OP_TIMEOUT_MS;

	json_object_object_add(x, "timeout", json_object_new_int(timeout_s));
	json_object_object_add(x, "force", json_object_new_boolean(force_after));
	if (timeout_s > 0)
		wait_ms += timeout_s * 1000;
	return remote_inst_op(inst, "shutdown", x, wait_ms, err);
}

static int
remote_kill(struct instance *inst, int signo, struct berr *err)
{
	json_object *x = json_object_new_object();

	json_object_object_add(x, "signal", json_object_new_int(signo));
	return remote_inst_op(inst, "kill", x, REMOTE_OP_TIMEOUT_MS, err);
}

static int
remote_pause(struct instance *inst, struct berr *err)
{
	return remote_inst_op(inst, "pause", NULL, REMOTE_OP_TIMEOUT_MS, err);
}

static int
remote_resume(struct instance *inst, struct berr *err)
{
	return remote_inst_op(inst, "resume", NULL, REMOTE_OP_TIMEOUT_MS, err);
}

static int
remote_destroy(struct instance *inst, struct berr *err)
{
	return remote_inst_op(inst, "destroy", NULL, REMOTE_OP_TIMEOUT_MS, err);
}

static int
remote_undefine(struct instance *inst, struct berr *err)
{
	return remote_inst_op(inst, "undefine", NULL, REMOTE_OP_TIMEOUT_MS, err);
}

static uint64_t
jcount(json_object *o, const char *key)
{
	int64_t v = jint(o, key, 0);

	return v > 0 ? (uint64_t)v : 0;
}

static int
remote_stats(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out, struct berr *err)
{
	struct remote_conn *rc = rconn(c);
	json_object *args, *list, *res = NULL, *arr;
	int64_t remote_now, local_now;
	size_t i, done;

	for (done = 0; done < n;) {
		size_t batch = n - done > REMOTE_MAX_BATCH ? REMOTE_MAX_BATCH : n - done;

		args = json_object_new_object();
		list = json_object_new_array();
		for (i = 0; i < batch; i++)
			json_object_array_add(list, remote_inst_args(v[done + i]));
		json_object_object_add(args, "instances", list);
		if (remote_call(rc, "stats", args, CALL_TIMEOUT(rc), &res, err) < 0)
			return remote_where(rc, err);
		if (!json_object_object_get_ex(res, "stats", &arr) ||
		    !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != batch) {
			json_object_put(res);
			return berr_set(err, BERR_PROTO, "the proxy on `%s' answered stats for %zu instances with another count",
					rc->label, batch);
		}
		/* Sample times come on the remote monotonic clock: move them to
		 * ours (rates only need differences, the dashboard wants ages). */
		remote_now = jint(res, "now_ms", 0);
		local_now = now_ms();
		for (i = 0; i < batch; i++) {
			json_object *s = json_object_array_get_idx(arr, i), *vv;
			struct inst_stats *o = &out[done + i];

			memset(o, 0, sizeof *o);
			if (!json_object_is_type(s, json_type_object))
				continue;
			o->valid = json_object_object_get_ex(s, "valid", &vv) && json_object_get_boolean(vv);
			o->ts_ms = jint(s, "ts_ms", 0);
			if (o->ts_ms > 0 && remote_now > 0 && o->ts_ms <= remote_now)
				o->ts_ms = local_now - (remote_now - o->ts_ms);
			o->cpu_time_ns = jcount(s, "cpu_time_ns");
			o->vcpus = (int)(jcount(s, "vcpus") & 0xfffff);
			o->mem_total_kib = jcount(s, "mem_total_kib");
			o->mem_used_kib = jcount(s, "mem_used_kib");
			o->blk_rd_bytes = jcount(s, "blk_rd_bytes");
			o->blk_wr_bytes = jcount(s, "blk_wr_bytes");
			o->blk_rd_reqs = jcount(s, "blk_rd_reqs");
			o->blk_wr_reqs = jcount(s, "blk_wr_reqs");
			o->net_rx_bytes = jcount(s, "net_rx_bytes");
			o->net_tx_bytes = jcount(s, "net_tx_bytes");
			o->net_rx_pkts = jcount(s, "net_rx_pkts");
			o->net_tx_pkts = jcount(s, "net_tx_pkts");
		}
		json_object_put(res);
		res = NULL;
		done += batch;
	}
	return 0;
}

static int
remote_info(struct instance *inst, json_object **out, struct berr *err)
{
	struct remote_conn *rc = inst_rconn(inst, err);
	json_object *res = NULL, *o;

	if (rc == NULL)
		return -1;
	if (remote_call(rc, "info", remote_inst_args(inst), CALL_TIMEOUT(rc), &res, err) < 0)
		return remote_where(rc, err);
	if (!json_object_is_type(res, json_type_object)) {
		json_object_put(res);
		return berr_set(err, BERR_PROTO, "the proxy on `%s' answered info with no object", rc->label);
	}
	o = json_object_new_object();
	json_object_object_foreach(res, k, v) {
		/* The local view keeps backend "remote" and the host label. */
		if (strcmp(k, "backend") == 0)
			json_object_object_add(o, "remote_backend", json_object_get(v));
		else if (strcmp(k, "host") == 0)
			json_object_object_add(o, "remote_host", json_object_get(v));
		else if (strcmp(k, "uri") == 0)
			json_object_object_add(o, "remote_uri", json_object_get(v));
		else if (strcmp(k, "name") != 0 && strcmp(k, "uuid") != 0)
			json_object_object_add(o, k, json_object_get(v));
	}
	json_object_object_add(o, "remote", json_object_new_string(rc->base.uri ? rc->base.uri : ""));
	json_object_put(res);
	*out = o;
	return 0;
}

static int
remote_host_info(struct bconn *c, json_object **out, struct berr *err)
{
	struct remote_conn *rc = rconn(c);
	json_object *res = NULL, *o, *conns;

	if (remote_call(rc, "host_info", NULL, CALL_TIMEOUT(rc), &res, err) < 0)
		return remote_where(rc, err);
	o = json_object_new_object();
	json_object_object_add(o, "host", json_object_new_string(rc->label));
	if (rc->remote_host)
		json_object_object_add(o, "remote_host", json_object_new_string(rc->remote_host));
	if (rc->remote_version)
		json_object_object_add(o, "berth_version", json_object_new_string(rc->remote_version));
	/* Capacity of the machine: the first remote connection that knows it. */
	if (json_object_object_get_ex(res, "connections", &conns) &&
	    json_object_is_type(conns, json_type_array)) {
		size_t i, n = json_object_array_length(conns);

		for (i = 0; i < n; i++) {
			json_object *info;

			if (json_object_object_get_ex(json_object_array_get_idx(conns, i), "info", &info) &&
			    jint(info, "cpus", 0) > 0) {
				json_object_object_add(o, "cpus", json_object_new_int64(jint(info, "cpus", 0)));
				json_object_object_add(o, "memory_kib",
						       json_object_new_int64(jint(info, "memory_kib", 0)));
				break;
			}
		}
		json_object_object_add(o, "connections", json_object_get(conns));
	}
	if (json_object_object_get_ex(res, "failures", &conns))
		json_object_object_add(o, "failures", json_object_get(conns));
	json_object_put(res);
	*out = o;
	return 0;
}

/* ------------------------------------------------------------ events */

static void
remote_on_event(struct proto_client *c, json_object *ev, void *arg)
{
	struct remote_conn *rc = arg;
	struct backend_event be = { 0 };
	json_object *data = NULL;
	const char *type = jstr(ev, "event"), *st;

	if (type == NULL || strcmp(type, REMOTE_BANNER_EVENT) == 0 || rc->event_cb == NULL)
		return;
	json_object_object_get_ex(ev, "data", &data);
	be.conn = &rc->base;
	be.inst_name = jstr(ev, "instance");
	be.type = type;
	st = jstr(data, "state");
	be.state = st ? inst_state_from_name(st) : INST_UNKNOWN;
	be.detail = jstr(data, "detail");
	rc->event_cb(&be, rc->event_arg);
}

static int
remote_subscribe_events(struct bconn *c, backend_event_cb cb, void *arg, struct berr *err)
{
	struct remote_conn *rc = rconn(c);
	json_object *args = json_object_new_object(), *ev = json_object_new_array();

	rc->event_cb = cb;
	rc->event_arg = arg;
	json_object_array_add(ev, json_object_new_string("*"));
	json_object_object_add(args, "events", ev);
	if (remote_call(rc, "subscribe", args, CALL_TIMEOUT(rc), NULL, err) < 0)
		return remote_where(rc, err);
	return 0;
}

/* ------------------------------------------------------------ consoles */

static void chan_pump(struct remote_chan *ch);

static void
chan_unref(struct remote_chan *ch)
{
	if (--ch->refs > 0)
		return;
	free(ch->out);
	free(ch);
}

static void
chan_close_cb(struct proto_client *c, json_object *result, const struct berr *err, void *arg)
{
	chan_unref(arg);
}

/* Close our end (the front-end then sees EOF) and forget the channel; calls
 * still in flight keep the memory until they finish. */
static void
chan_shutdown(struct remote_chan *ch)
{
	struct remote_conn *rc = ch->rc;
	struct remote_chan **pp;

	if (ch->down)
		return;
	ch->down = 1;
	for (pp = &rc->chans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	if (ch->watch > 0)
		loop_remove_fd(rc->loop, ch->watch);
	ch->watch = 0;
	close(ch->fd);
	ch->fd = -1;
	if (!ch->remote_eof && !rc->failed && rc->client != NULL) {
		json_object *args = json_object_new_object();
		struct berr e;

		json_object_object_add(args, "ch", json_object_new_int64(ch->ch));
		ch->refs++;
		if (proto_client_call_async(rc->client, "console_close", args, REMOTE_CALL_TIMEOUT_MS,
					    chan_close_cb, ch, &e) < 0)
			ch->refs--;
		json_object_put(args);
	}
	chan_unref(ch);
}

static void
chan_read_cb(struct proto_client *c, json_object *result, const struct berr *err, void *arg)
{
	struct remote_chan *ch = arg;
	const char *b64;
	json_object *v;

	ch->reading = 0;
	if (ch->down) {
		chan_unref(ch);
		return;
	}
	if (err != NULL) {
		if (err->code != BERR_TIMEOUT)
			ch->remote_eof = 1;
		if (ch->remote_eof)
			chan_shutdown(ch);
		else
			chan_pump(ch);
		chan_unref(ch);
		return;
	}
	b64 = jstr(result, "b64");
	if (b64 != NULL && *b64 != '\0') {
		unsigned char *buf;
		size_t len;

		if (remote_b64_decode(b64, strlen(b64), &buf, &len) < 0 || len > REMOTE_CONSOLE_CHUNK) {
			free(buf);
			ch->remote_eof = 1;
			chan_shutdown(ch);
			chan_unref(ch);
			return;
		}
		free(ch->out);
		ch->out = buf;
		ch->out_len = len;
		ch->out_off = 0;
	}
	if (json_object_object_get_ex(result, "eof", &v) && json_object_get_boolean(v))
		ch->remote_eof = 1;
	chan_pump(ch);
	chan_unref(ch);
}

static void
chan_write_cb(struct proto_client *c, json_object *result, const struct berr *err, void *arg)
{
	struct remote_chan *ch = arg;

	ch->writing = 0;
	if (!ch->down) {
		if (err != NULL)
			chan_shutdown(ch);
		else
			chan_pump(ch);
	}
	chan_unref(ch);
}

static void
chan_io_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct remote_chan *ch = arg;
	struct remote_conn *rc = ch->rc;

	ch->refs++;
	/* Remote bytes waiting for the front-end. */
	while (!ch->down && ch->out_off < ch->out_len) {
		ssize_t n = write(ch->fd, ch->out + ch->out_off, ch->out_len - ch->out_off);

		if (n > 0) {
			ch->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			chan_shutdown(ch);	/* the front-end went away */
			break;
		}
	}
	/* Front-end input: one console_write in flight at a time. */
	if (!ch->down && !ch->writing && (revents & (POLLIN | POLLHUP | POLLERR))) {
		unsigned char buf[REMOTE_CONSOLE_CHUNK];
		ssize_t n = read(ch->fd, buf, sizeof buf);

		if (n > 0) {
			json_object *args = json_object_new_object();
			char *b64 = remote_b64_encode(buf, (size_t)n);
			struct berr e;

			json_object_object_add(args, "ch", json_object_new_int64(ch->ch));
			json_object_object_add(args, "b64", json_object_new_string(b64));
			free(b64);
			ch->refs++;
			ch->writing = 1;
			if (rc->failed || rc->client == NULL ||
			    proto_client_call_async(rc->client, "console_write", args, REMOTE_CALL_TIMEOUT_MS,
						    chan_write_cb, ch, &e) < 0) {
				ch->writing = 0;
				ch->refs--;
				chan_shutdown(ch);
			}
			json_object_put(args);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			chan_shutdown(ch);	/* the front-end closed its end */
		}
	} else if (!ch->down && (revents & (POLLHUP | POLLERR))) {
		/* Hung up while a write is in flight: poll() would report it
		 * again and again, and nobody is left to read our output. */
		chan_shutdown(ch);
	}
	if (!ch->down)
		chan_pump(ch);
	chan_unref(ch);
}

/* Decide what to wait for: a remote read when our buffer is empty, the fd
 * for writing while it is not, for reading while no write is in flight. */
static void
chan_pump(struct remote_chan *ch)
{
	struct remote_conn *rc = ch->rc;
	int events = 0;

	if (ch->down)
		return;
	if (ch->out_off >= ch->out_len && ch->remote_eof) {
		chan_shutdown(ch);
		return;
	}
	if (ch->out_off < ch->out_len)
		events |= POLLOUT;
	else if (!ch->reading && !rc->failed && rc->client != NULL) {
		json_object *args = json_object_new_object();
		struct berr e;

		json_object_object_add(args, "ch", json_object_new_int64(ch->ch));
		ch->refs++;
		ch->reading = 1;
		if (proto_client_call_async(rc->client, "console_read", args,
					    REMOTE_CONSOLE_IDLE_MS + REMOTE_CALL_TIMEOUT_MS, chan_read_cb, ch,
					    &e) < 0) {
			ch->reading = 0;
			ch->refs--;
			json_object_put(args);
			chan_shutdown(ch);
			return;
		}
		json_object_put(args);
	}
	if (!ch->writing)
		events |= POLLIN;
	if (!ch->down)
		loop_update_fd(rc->loop, ch->watch, events);
}

static int
remote_console_open(struct instance *inst, int *fd_out, struct berr *err)
{
	struct remote_conn *rc = inst_rconn(inst, err);
	struct remote_chan *ch;
	json_object *res = NULL;
	int sv[2];
	int64_t id;

	if (rc == NULL)
		return -1;
	if (remote_call(rc, "console_open", remote_inst_args(inst), CALL_TIMEOUT(rc), &res, err) < 0)
		return remote_where(rc, err);
	id = jint(res, "ch", -1);
	json_object_put(res);
	if (id < 0)
		return berr_set(err, BERR_PROTO, "the proxy on `%s' answered console_open without a channel",
				rc->label);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_errno(err, "socketpair");
	fd_set_nonblock(sv[0], 1);
	ch = xcalloc(1, sizeof *ch);
	ch->rc = rc;
	ch->ch = id;
	ch->fd = sv[0];
	ch->refs = 1;
	ch->watch = loop_add_fd(rc->loop, ch->fd, POLLIN, chan_io_cb, ch, NULL);
	ch->next = rc->chans;
	rc->chans = ch;
	chan_pump(ch);
	*fd_out = sv[1];
	return 0;
}

/* ------------------------------------------------------------ connection */

static void
remote_err_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct remote_conn *rc = arg;

	remote_proc_drain_stderr(&rc->proc);
	if (rc->proc.err_fd < 0) {
		loop_remove_fd(l, id);
		rc->err_watch = 0;
	}
}

/* Printable, bounded copy of a line the remote side printed. */
static void
noise_note(char *dst, size_t cap, const char *line, size_t len)
{
	size_t i, o = 0;

	if (dst[0] != '\0')
		return;
	for (i = 0; i < len && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)line[i];

		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < len)
		dst[o++] = '.', dst[o++] = '.', dst[o++] = '.';
	dst[o] = '\0';
}

/* Read lines until the proxy's banner, skipping what a login shell may
 * print first.  0 on the banner; -1 with err (EOF, timeout, too much junk). */
static int
remote_wait_banner(struct remote_conn *rc, int64_t deadline, struct berr *err)
{
	char line[4096], noise[200] = "";
	size_t len = 0, total = 0;
	int ret = -1;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = rc->proc.from_fd, .events = POLLIN },
			{ .fd = rc->proc.err_fd, .events = POLLIN },
		};
		int64_t left = deadline - now_ms();
		char c;
		ssize_t n;

		if (left <= 0) {
			berr_set(err, BERR_TIMEOUT, "no answer from berth proxy within %d s",
				 rc->target.timeout_ms / 1000);
			break;
		}
		if (poll(pfd, rc->proc.err_fd >= 0 ? 2 : 1, (int)left) < 0 && errno != EINTR) {
			berr_errno(err, "waiting for berth proxy");
			break;
		}
		if (pfd[1].revents)
			remote_proc_drain_stderr(&rc->proc);
		if (!pfd[0].revents)
			continue;
		n = read(rc->proc.from_fd, &c, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			berr_set(err, ECONNRESET, "%s", "");
			remote_proc_reap(&rc->proc, 2000);
			remote_proc_explain(&rc->proc, err);
			if (err->msg[0] == '\0')
				berr_set(err, ECONNRESET, "the connection closed before berth proxy answered");
			break;
		}
		total++;
		if (c != '\n') {
			if (len < sizeof line)
				line[len] = c;
			len++;
			if (total > REMOTE_MAX_NOISE) {
				berr_set(err, BERR_PROTO, "more than %d bytes before berth proxy answered",
					 REMOTE_MAX_NOISE);
				break;
			}
			continue;
		}
		if (len <= sizeof line) {
			json_object *msg = NULL;
			struct berr ignored;

			if (proto_parse_line(line, len, &msg, &ignored) == 0) {
				const char *ev = jstr(msg, "event");

				if (ev != NULL && strcmp(ev, REMOTE_BANNER_EVENT) == 0) {
					json_object_put(msg);
					return 0;
				}
				json_object_put(msg);
			}
			noise_note(noise, sizeof noise, line, len);
		}
		len = 0;
	}
	if (noise[0] != '\0') {
		char msg[2 * BERR_MSG_MAX];

		snprintf(msg, sizeof msg, "%s; the remote side is not berth proxy: it printed `%s'", err->msg,
			 noise);
		strlcpy_b(err->msg, msg, sizeof err->msg);
	}
	return ret;
}

static int
remote_connect(struct remote_conn *rc, struct berr *err)
{
	char **argv = remote_target_argv(&rc->target);
	int64_t deadline = now_ms() + rc->target.timeout_ms;
	json_object *hello;
	const char *server, *s;
	int left;

	if (remote_proc_spawn(&rc->proc, argv, rc->target.is_exec ? "the proxy command" : "ssh", err) < 0) {
		remote_argv_free(argv);
		return -1;
	}
	remote_argv_free(argv);
	if (remote_wait_banner(rc, deadline, err) < 0)
		goto fail;
	left = (int)(deadline - now_ms());
	if (left < 1000)
		left = 1000;
	/* The client owns both pipes from here on. */
	if (proto_client_open_fds(rc->proc.from_fd, rc->proc.to_fd, "berth-remote", left, &rc->client,
				  err) < 0) {
		rc->proc.from_fd = rc->proc.to_fd = -1;
		if (err->code == BERR_PROTO)
			berr_wrap(err, "the remote side does not speak berth's protocol");
		remote_proc_reap(&rc->proc, 1000);
		remote_proc_explain(&rc->proc, err);
		goto fail;
	}
	rc->proc.from_fd = rc->proc.to_fd = -1;
	hello = proto_client_hello(rc->client);
	server = jstr(hello, "server");
	if (server == NULL || strcmp(server, "berth-proxy") != 0) {
		berr_set(err, BERR_PROTO, "the remote side is `%s', not berth-proxy",
			 server ? server : "an unnamed server");
		goto fail;
	}
	if ((s = jstr(hello, "host")) != NULL)
		rc->remote_host = xstrndup(s, 255);
	if ((s = jstr(hello, "berth_version")) != NULL)
		rc->remote_version = xstrndup(s, 64);
	if (rc->label != NULL)
		;	/* a reconnection keeps the label its instances carry */
	else if (rc->target.label != NULL)
		rc->label = xstrdup(rc->target.label);
	else if (!rc->target.is_exec)
		rc->label = xstrdup(rc->target.host);
	else
		rc->label = xstrdup(rc->remote_host ? rc->remote_host : "remote");
	proto_client_set_event_cb(rc->client, remote_on_event, rc);
	if (proto_client_attach(rc->client, rc->loop, remote_on_close, rc) < 0) {
		berr_set(err, EINVAL, "cannot watch the connection");
		goto fail;
	}
	if (rc->proc.err_fd >= 0)
		rc->err_watch = loop_add_fd(rc->loop, rc->proc.err_fd, POLLIN, remote_err_cb, rc, NULL);
	return 0;
fail:
	remote_stop_transport(rc);
	return -1;
}

/* Try a lost connection again: a new transport and handshake, events
 * re-subscribed.  On failure the new reason replaces the old one and the
 * next try waits twice as long. */
static int
remote_reconnect(struct remote_conn *rc)
{
	struct berr e = { 0 };

	remote_stop_transport(rc);
	free(rc->remote_host);
	free(rc->remote_version);
	rc->remote_host = rc->remote_version = NULL;
	if (remote_connect(rc, &e) < 0) {
		rc->fail_err = e;
		berr_wrap(&rc->fail_err, "reconnecting to `%s'", rc->label);
		rc->backoff_ms = rc->backoff_ms * 2 > REMOTE_RETRY_MAX_MS ? REMOTE_RETRY_MAX_MS
									 : rc->backoff_ms * 2;
		rc->retry_at = now_ms() + rc->backoff_ms;
		return -1;
	}
	rc->failed = 0;
	rc->backoff_ms = REMOTE_RETRY_MIN_MS;
	if (rc->event_cb != NULL) {
		json_object *args = json_object_new_object(), *ev = json_object_new_array();

		json_object_array_add(ev, json_object_new_string("*"));
		json_object_object_add(args, "events", ev);
		remote_call(rc, "subscribe", args, CALL_TIMEOUT(rc), NULL, &e);
	}
	return 0;
}

static void
remote_close(struct bconn *c)
{
	struct remote_conn *rc = rconn(c);
	struct remote_chan *ch;

	if (rc == NULL)
		return;
	rc->failed = 1;
	while ((ch = rc->chans) != NULL)
		chan_shutdown(ch);
	remote_stop_transport(rc);
	remote_target_free(&rc->target);
	free(rc->proc.what);
	free(rc->label);
	free(rc->remote_host);
	free(rc->remote_version);
	free(rc->base.uri);
	free(rc);
}

static int
remote_open(struct bconn **out, const char *uri, struct loop *loop, struct berr *err)
{
	struct remote_conn *rc;

	*out = NULL;
	if (loop == NULL)
		return berr_set(err, EINVAL, "the remote backend needs an event loop");
	rc = xcalloc(1, sizeof *rc);
	rc->base.ops = &remote_backend_ops;
	rc->loop = loop;
	rc->proc.from_fd = rc->proc.to_fd = rc->proc.err_fd = -1;
	if (remote_target_parse(uri, &rc->target, err) < 0) {
		free(rc);
		return -1;
	}
	rc->base.uri = xstrdup(uri);
	if (remote_connect(rc, err) < 0) {
		remote_target_free(&rc->target);
		free(rc->proc.what);
		free(rc->base.uri);
		free(rc->label);
		free(rc->remote_host);
		free(rc->remote_version);
		free(rc);
		return -1;
	}
	*out = &rc->base;
	return 0;
}

static const char *
remote_host(struct bconn *c)
{
	return rconn(c)->label;
}

const struct backend_ops remote_backend_ops = {
	.name = "remote",
	.description = "every instance of another host, through `berth proxy' over ssh",
	.abi_version = BERTH_BACKEND_ABI,
	.open = remote_open,
	.close = remote_close,
	.host = remote_host,
	.host_info = remote_host_info,
	.list = remote_list,
	.get = remote_get,
	.define = remote_define,
	.start = remote_start,
	.shutdown = remote_shutdown,
	.kill = remote_kill,
	.pause = remote_pause,
	.resume = remote_resume,
	.destroy = remote_destroy,
	.undefine = remote_undefine,
	.stats = remote_stats,
	.console_open = remote_console_open,
	.subscribe_events = remote_subscribe_events,
	.free_priv = remote_free_priv,
	.info = remote_info,
};
