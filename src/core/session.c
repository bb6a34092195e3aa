/*
 * session.c - connections to every reachable backend/host, listing across
 * them, name resolution, batched stats into the metrics history, events
 * republished on the bus, and instance operations with context.
 * Not for: printing or UI decisions.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/options.h"
#include "core/session.h"
#include "core/util.h"

int
session_new(struct session **out, struct berr *err)
{
	struct session *s = xcalloc(1, sizeof *s);
	long n;

	s->loop = loop_new();
	if (s->loop == NULL) {
		free(s);
		return berr_errno(err, "creating the event loop");
	}
	dirs_init(&s->dirs, err);
	s->bus = evbus_new();
	s->metrics = metrics_store_new();
	s->prev_stats = smap_new(free);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	s->host_cpus = n > 0 ? (int)n : 1;
	*out = s;
	return 0;
}

static void
failure_free(struct session_failure *f)
{
	free(f->what);
}

void
session_clear_failures(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nfailures; i++)
		failure_free(&s->failures[i]);
	free(s->failures);
	s->failures = NULL;
	s->nfailures = 0;
}

void
session_free(struct session *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nconns; i++)
		s->conns[i]->ops->close(s->conns[i]);
	free(s->conns);
	session_clear_failures(s);
	smap_free(s->prev_stats);
	metrics_store_free(s->metrics);
	evbus_free(s->bus);
	loop_free(s->loop);
	dirs_free(&s->dirs);
	free(s);
}

void
session_add_failure(struct session *s, const char *what, const struct berr *e, int requested,
		    int from_list)
{
	struct session_failure *f;

	s->failures = xrealloc(s->failures, (s->nfailures + 1) * sizeof *s->failures);
	f = &s->failures[s->nfailures++];
	f->what = xstrdup(what);
	f->err = *e;
	f->requested = requested;
	f->from_list = from_list;
}

size_t
session_failure_count(const struct session *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nfailures; i++)
		if (s->failures[i].requested || s->failures[i].from_list)
			n++;
	return n;
}

static int
session_connect_ex(struct session *s, const char *backend, const char *uri, int requested,
		   struct berr *err)
{
	const struct backend_ops *ops = backend_find(backend);
	struct bconn *c = NULL;
	char *what;
	struct berr e = { 0 };

	what = uri ? xasprintf("%s %s", backend, uri) : xstrdup(backend);
	if (ops == NULL) {
		berr_set(&e, BERR_NOTFOUND, "no backend named `%s'", backend);
		goto fail;
	}
	if (ops->probe != NULL && ops->probe(&e) < 0)
		goto fail;
	if (ops->open(&c, uri, s->loop, &e) < 0)
		goto fail;
	c->ops = ops;
	if (c->uri == NULL && uri != NULL)
		c->uri = xstrdup(uri);
	s->conns = xrealloc(s->conns, (s->nconns + 1) * sizeof *s->conns);
	s->conns[s->nconns++] = c;
	if (s->events_on && ops->subscribe_events != NULL) {
		/* Late connections join the event stream too. */
		s->events_on = 0;
		session_enable_events(s);
	} else if (s->events_on) {
		s->events_missing++;
	}
	free(what);
	return 0;
fail:
	if (uri != NULL && strstr(e.msg, uri) == NULL)
		berr_wrap(&e, "connecting to %s `%s'", backend, uri);
	else if (uri != NULL)
		;	/* the backend's message names the URI already */
	else
		berr_wrap(&e, "%s backend", backend);
	session_add_failure(s, what, &e, requested, 0);
	if (err != NULL)
		*err = e;
	free(what);
	return -1;
}

int
session_connect(struct session *s, const char *backend, const char *uri, struct berr *err)
{
	return session_connect_ex(s, backend, uri, 1, err);
}

const char *
session_backend_for_uri(const char *uri)
{
	if (strncmp(uri, "ssh://", 6) == 0 || strncmp(uri, "exec:", 5) == 0)
		return "remote";
	return "libvirt";
}

void
session_connect_defaults(struct session *s, const char *const *uris, size_t nuris,
			 int use_default_libvirt)
{
	size_t i;

	s->defaults_connected = 1;
	if (backend_find("kvm") != NULL)
		session_connect_ex(s, "kvm", NULL, 0, NULL);
	if (backend_find("container") != NULL)
		session_connect_ex(s, "container", NULL, 0, NULL);
	for (i = 0; i < nuris; i++)
		session_connect_ex(s, session_backend_for_uri(uris[i]), uris[i], 1, NULL);
	{
		size_t nlibvirt = 0;

		for (i = 0; i < nuris; i++)
			if (strcmp(session_backend_for_uri(uris[i]), "libvirt") == 0)
				nlibvirt++;
		/* A remote host alone does not replace the local default. */
		if (nlibvirt > 0)
			use_default_libvirt = 0;
	}
	if (use_default_libvirt && backend_find("libvirt") != NULL) {
		const char *const *cfg = option_list("libvirt_uris");

		if (cfg != NULL && cfg[0] != NULL) {
			for (i = 0; cfg[i] != NULL; i++)
				session_connect_ex(s, "libvirt", cfg[i], 1, NULL);
		} else {
			session_connect_ex(s, "libvirt", NULL, 0, NULL);
		}
	}
	/* Plugin backends (not built in) connect with their default URI. */
	for (i = 0; i < backend_count(); i++) {
		const struct backend_ops *ops = backend_at(i);

		if (strcmp(ops->name, "kvm") != 0 && strcmp(ops->name, "container") != 0 &&
		    strcmp(ops->name, "libvirt") != 0 && strcmp(ops->name, "remote") != 0 &&
		    session_find_conn(s, ops->name, NULL) == NULL)
			session_connect_ex(s, ops->name, NULL, 0, NULL);
	}
}

const char *
conn_host(struct bconn *c)
{
	const char *h = NULL;

	if (c != NULL && c->ops->host != NULL)
		h = c->ops->host(c);
	return h ? h : "localhost";
}

static void
session_drop_list_failures(struct session *s)
{
	size_t i, j = 0;

	for (i = 0; i < s->nfailures; i++) {
		if (s->failures[i].from_list) {
			failure_free(&s->failures[i]);
			continue;
		}
		s->failures[j++] = s->failures[i];
	}
	s->nfailures = j;
}

int
session_list(struct session *s, struct inst_list *out)
{
	size_t i, j;

	session_drop_list_failures(s);
	for (i = 0; i < s->nconns; i++) {
		struct bconn *c = s->conns[i];
		struct inst_list l = { 0 };
		struct berr e = { 0 };

		if (c->ops->list(c, &l, &e) < 0) {
			char *what = c->uri ? xasprintf("%s %s", c->ops->name, c->uri)
					    : xstrdup(c->ops->name);

			berr_wrap(&e, "listing %s", what);
			session_add_failure(s, what, &e, 1, 1);
			free(what);
			inst_list_clear(&l);
			continue;
		}
		for (j = 0; j < l.n; j++) {
			struct instance *inst = l.v[j];

			inst->conn = c;
			inst->backend = c->ops;
			if (inst->host == NULL)
				inst->host = xstrdup(conn_host(c));
			inst_list_push(out, inst);
		}
		free(l.v);
	}
	return 0;
}

struct bconn *
session_find_conn(struct session *s, const char *backend, const char *host)
{
	size_t i;

	for (i = 0; i < s->nconns; i++) {
		struct bconn *c = s->conns[i];

		if (backend != NULL && strcmp(c->ops->name, backend) != 0)
			continue;
		if (host != NULL && strcmp(conn_host(c), host) != 0 &&
		    (c->uri == NULL || strcmp(c->uri, host) != 0))
			continue;
		return c;
	}
	return NULL;
}

char *
instance_key(const struct instance *inst)
{
	return xasprintf("%s/%s/%s", inst->backend ? inst->backend->name : "?",
			 inst->host ? inst->host : "localhost", inst->name);
}

/* Take instance i out of the list (the rest stay owned by the list). */
static struct instance *
list_take(struct inst_list *l, size_t i)
{
	struct instance *inst = l->v[i];

	l->v[i] = l->v[--l->n];
	return inst;
}

static int
matches_qualified(const struct instance *inst, const char *name)
{
	const char *colon = strchr(name, ':');
	size_t qlen;

	if (colon == NULL)
		return 0;
	if (strcmp(colon + 1, inst->name) != 0)
		return 0;
	qlen = (size_t)(colon - name);
	if (inst->host && strlen(inst->host) == qlen && strncmp(inst->host, name, qlen) == 0)
		return 1;
	if (inst->backend && strlen(inst->backend->name) == qlen &&
	    strncmp(inst->backend->name, name, qlen) == 0)
		return 1;
	return 0;
}

int
session_resolve(struct session *s, const char *name, struct instance **out, struct berr *err)
{
	struct inst_list l = { 0 };
	size_t i, nmatch = 0, first = 0;
	int pass;

	session_list(s, &l);
	/* Pass 0: exact name; 1: host:name / backend:name; 2: UUID prefix. */
	for (pass = 0; pass < 3 && nmatch == 0; pass++) {
		for (i = 0; i < l.n; i++) {
			struct instance *inst = l.v[i];
			int m = 0;

			if (pass == 0)
				m = strcmp(inst->name, name) == 0;
			else if (pass == 1)
				m = matches_qualified(inst, name);
			else
				m = strlen(name) >= 4 && inst->uuid[0] != '\0' &&
				    strncasecmp(inst->uuid, name, strlen(name)) == 0;
			if (m) {
				if (nmatch == 0)
					first = i;
				nmatch++;
			}
		}
		if (nmatch > 1) {
			char where[768] = "";
			size_t len = 0;

			for (i = 0; i < l.n; i++) {
				struct instance *inst = l.v[i];
				int m = pass == 0 ? strcmp(inst->name, name) == 0
						  : pass == 1 ? matches_qualified(inst, name)
						  : strncasecmp(inst->uuid, name, strlen(name)) == 0;

				if (m) {
					int w = snprintf(where + len, sizeof where - len, "%s%.64s:%.64s%s%s%s",
							 len ? ", " : "", inst->host, inst->name,
							 pass == 0 ? " (" : "",
							 pass == 0 ? inst->backend->name : "",
							 pass == 0 ? ")" : "");

					if (w < 0 || (size_t)w >= sizeof where - len)
						break;
					len += (size_t)w;
				}
			}
			inst_list_clear(&l);
			return berr_set(err, BERR_AMBIGUOUS,
					"`%s' is ambiguous: %s; qualify it as HOST:NAME or BACKEND:NAME",
					name, where);
		}
	}
	if (nmatch == 1) {
		*out = list_take(&l, first);
		inst_list_clear(&l);
		return 0;
	}
	{
		char near[512] = "";
		size_t len = 0, shown = 0, limit = strlen(name) / 3 + 1;

		if (limit < 2)
			limit = 2;
		for (i = 0; i < l.n && shown < 4; i++) {
			if (edit_distance(l.v[i]->name, name) <= limit ||
			    (strlen(name) >= 2 && strstr(l.v[i]->name, name) != NULL)) {
				int w = snprintf(near + len, sizeof near - len, "%s`%.64s'",
						 shown ? ", " : "", l.v[i]->name);

				if (w < 0 || (size_t)w >= sizeof near - len)
					break;
				len += (size_t)w;
				shown++;
			}
		}
		inst_list_clear(&l);
		if (shown > 0)
			return berr_set(err, BERR_NOTFOUND, "no instance named `%s'; did you mean %s?",
					name, near);
		return berr_set(err, BERR_NOTFOUND, "no instance named `%s'", name);
	}
}

int
session_poll_stats(struct session *s, struct inst_list *list, struct inst_rates *rates,
		   struct inst_stats *samples)
{
	size_t ci, i, n;
	struct instance **batch;
	struct inst_stats *out;
	size_t *idx;
	int64_t t = (int64_t)time(NULL);

	batch = xcalloc(list->n + 1, sizeof *batch);
	out = xcalloc(list->n + 1, sizeof *out);
	idx = xcalloc(list->n + 1, sizeof *idx);
	if (rates)
		memset(rates, 0, list->n * sizeof *rates);
	for (ci = 0; ci < s->nconns; ci++) {
		struct bconn *c = s->conns[ci];
		struct berr e = { 0 };

		n = 0;
		for (i = 0; i < list->n; i++) {
			if (list->v[i]->conn == c) {
				idx[n] = i;
				batch[n++] = list->v[i];
			}
		}
		if (n == 0 || c->ops->stats == NULL)
			continue;
		memset(out, 0, n * sizeof *out);
		if (c->ops->stats(c, batch, n, out, &e) < 0)
			continue;
		for (i = 0; i < n; i++) {
			struct instance *inst = batch[i];
			char *key = instance_key(inst);
			struct inst_stats *prev = smap_get(s->prev_stats, key);
			struct inst_rates r;
			struct series *ser;

			if (out[i].ts_ms == 0)
				out[i].ts_ms = now_ms();
			if (out[i].vcpus == 0)
				out[i].vcpus = inst->vcpus;
			stats_rates(prev, &out[i], s->host_cpus, &r);
			if (rates)
				rates[idx[i]] = r;
			if (samples)
				samples[idx[i]] = out[i];
			if (out[i].valid) {
				ser = metrics_store_get(s->metrics, key, 1);
				if (prev != NULL && prev->valid) {
					series_append(&ser[METRIC_CPU], t, r.cpu_pct_vcpus);
					series_append(&ser[METRIC_CPU_HOST], t, r.cpu_pct_host);
					series_append(&ser[METRIC_BLK_RD], t, r.blk_rd_bps);
					series_append(&ser[METRIC_BLK_WR], t, r.blk_wr_bps);
					series_append(&ser[METRIC_NET_RX], t, r.net_rx_bps);
					series_append(&ser[METRIC_NET_TX], t, r.net_tx_bps);
				}
				series_append(&ser[METRIC_MEM], t, (double)out[i].mem_used_kib);
				prev = xmalloc(sizeof *prev);
				*prev = out[i];
				smap_set(s->prev_stats, key, prev);
			} else {
				smap_remove(s->prev_stats, key);
			}
			free(key);
		}
	}
	free(batch);
	free(out);
	free(idx);
	return 0;
}

static void
session_on_backend_event(const struct backend_event *bev, void *arg)
{
	struct session *s = arg;
	struct berth_event ev = { 0 };

	ev.type = bev->type ? bev->type : "state";
	ev.instance = bev->inst_name;
	ev.host = conn_host(bev->conn);
	ev.backend = bev->conn ? bev->conn->ops->name : NULL;
	ev.state = strcmp(ev.type, "state") == 0 ? inst_state_name(bev->state) : NULL;
	ev.detail = bev->detail;
	ev.ts_ms = now_realtime_ms();
	evbus_publish(s->bus, &ev);
}

void
session_enable_events(struct session *s)
{
	size_t i;

	if (s->events_on)
		return;
	s->events_on = 1;
	s->events_missing = 0;
	for (i = 0; i < s->nconns; i++) {
		struct bconn *c = s->conns[i];
		struct berr e = { 0 };

		if (c->ops->subscribe_events == NULL ||
		    c->ops->subscribe_events(c, session_on_backend_event, s, &e) < 0)
			s->events_missing++;
	}
}

static const char *const op_names[] = {
	[OP_START] = "start",
	[OP_SHUTDOWN] = "shutdown",
	[OP_KILL] = "kill",
	[OP_PAUSE] = "pause",
	[OP_RESUME] = "resume",
	[OP_DESTROY] = "destroy",
	[OP_UNDEFINE] = "undefine",
};

static const char *const op_verbs[] = {
	[OP_START] = "starting",
	[OP_SHUTDOWN] = "shutting down",
	[OP_KILL] = "killing",
	[OP_PAUSE] = "pausing",
	[OP_RESUME] = "resuming",
	[OP_DESTROY] = "destroying",
	[OP_UNDEFINE] = "undefining",
};

const char *
inst_op_name(enum inst_op op)
{
	return op_names[op];
}

int
instance_do(struct instance *inst, enum inst_op op, int timeout_s, struct berr *err)
{
	const struct backend_ops *ops = inst->backend;
	int r;

	if (ops == NULL)
		return berr_set(err, BERR_INVALID, "instance `%s' has no backend", inst->name);
	switch (op) {
	case OP_START:
		r = ops->start ? ops->start(inst, err) : backend_notsup(ops, "start", err);
		break;
	case OP_SHUTDOWN:
		if (timeout_s == 0)
			timeout_s = (int)option_int("shutdown_timeout");
		r = ops->shutdown ? ops->shutdown(inst, timeout_s, 1, err)
				  : backend_notsup(ops, "shutdown", err);
		break;
	case OP_KILL:
		r = ops->kill ? ops->kill(inst, 9, err) : backend_notsup(ops, "kill", err);
		break;
	case OP_PAUSE:
		r = ops->pause ? ops->pause(inst, err) : backend_notsup(ops, "pause", err);
		break;
	case OP_RESUME:
		r = ops->resume ? ops->resume(inst, err) : backend_notsup(ops, "resume", err);
		break;
	case OP_DESTROY:
		r = ops->destroy ? ops->destroy(inst, err) : backend_notsup(ops, "destroy", err);
		break;
	case OP_UNDEFINE:
		r = ops->undefine ? ops->undefine(inst, err) : backend_notsup(ops, "undefine", err);
		break;
	default:
		return berr_set(err, BERR_INVALID, "unknown operation %d", (int)op);
	}
	if (r < 0)
		return berr_wrap(err, "%s %s `%s'", op_verbs[op], inst_kind_name(inst->kind), inst->name);
	return 0;
}

json_object *
instance_to_json(const struct instance *inst)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(inst->name));
	json_object_object_add(o, "uuid", json_object_new_string(inst->uuid));
	json_object_object_add(o, "kind", json_object_new_string(inst_kind_name(inst->kind)));
	json_object_object_add(o, "backend",
			       json_object_new_string(inst->backend ? inst->backend->name : ""));
	json_object_object_add(o, "host", json_object_new_string(inst->host ? inst->host : ""));
	json_object_object_add(o, "state", json_object_new_string(inst_state_name(inst->state)));
	json_object_object_add(o, "reason",
			       inst->reason ? json_object_new_string(inst->reason) : NULL);
	json_object_object_add(o, "vcpus", json_object_new_int(inst->vcpus));
	json_object_object_add(o, "memory_kib", json_object_new_int64((int64_t)inst->memory_kib));
	json_object_object_add(o, "created", json_object_new_int64(inst->created));
	json_object_object_add(o, "started", json_object_new_int64(inst->started));
	return o;
}

int
instance_info_json(struct instance *inst, json_object **out, struct berr *err)
{
	json_object *o = instance_to_json(inst);

	if (inst->backend && inst->backend->info != NULL) {
		json_object *extra = NULL;

		if (inst->backend->info(inst, &extra, err) < 0) {
			json_object_put(o);
			return berr_wrap(err, "getting information on `%s'", inst->name);
		}
		if (extra != NULL) {
			json_object_object_foreach(extra, k, v)
				json_object_object_add(o, k, json_object_get(v));
			json_object_put(extra);
		}
	}
	*out = o;
	return 0;
}

static char *
session_history_path(struct session *s, struct berr *err)
{
	if (s->dirs.data == NULL) {
		berr_set(err, BERR_INVALID, "no data directory for the metrics history");
		return NULL;
	}
	return xasprintf("%s/metrics-history", s->dirs.data);
}

int
session_history_load(struct session *s, struct berr *err)
{
	char *path = session_history_path(s, err);
	int r;

	if (path == NULL)
		return -1;
	r = metrics_store_load(s->metrics, path, time(NULL), err);
	if (r < 0 && err->code == ENOENT)
		r = 0;
	free(path);
	return r;
}

int
session_history_save(struct session *s, struct berr *err)
{
	char *path = session_history_path(s, err);
	int r;

	if (path == NULL)
		return -1;
	r = mkdir_p(s->dirs.data, 0700, err);
	if (r == 0)
		r = metrics_store_save(s->metrics, path, err);
	free(path);
	return r;
}
