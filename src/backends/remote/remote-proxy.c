/*
 * remote-proxy.c - `berth proxy': this host's session served over one fd
 * pair (an ssh session's stdin and stdout) with berth's control protocol,
 * so a berth elsewhere sees every instance here through its remote backend.
 *
 * Operations map onto the session (see remote.h for the list); events on
 * the session's bus are republished to subscribed peers; consoles are
 * channels read by long polls (one console_read in flight per channel, so
 * a console that floods costs at most one chunk here, and a client that
 * stops reading simply stops asking).  Every request is hostile input.
 * Not for: the command line (src/cmd/cmd-proxy.c) or the client side.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/remote/remote.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/proto.h"
#include "core/session.h"
#include "core/util.h"

struct proxy_chan;

struct proxy {
	struct session *s;
	struct proto_server *srv;
	int bus_sub;
	struct proxy_chan *chans;
	size_t nchans;
	int64_t next_ch;
};

struct proxy_chan {
	struct proxy_chan *next;
	struct proxy *px;
	int64_t id;
	int fd;
	int watch;
	int idle_timer;
	int eof;
	struct proto_req *read_req;
	struct proto_req *write_req;
	unsigned char *wbuf;
	size_t wlen, woff;
};

/* ------------------------------------------------------------ helpers */

static json_object *
proxy_inst_json(const struct instance *inst)
{
	json_object *o = instance_to_json(inst);

	json_object_object_add(o, "uri", inst->conn && inst->conn->uri
						 ? json_object_new_string(inst->conn->uri) : NULL);
	return o;
}

static int
conn_matches(struct bconn *c, const char *backend, const char *uri)
{
	if (backend != NULL && strcmp(c->ops->name, backend) != 0)
		return 0;
	if (uri != NULL && (c->uri == NULL || strcmp(c->uri, uri) != 0))
		return 0;
	return 1;
}

/* The instance args {backend, uri, name} name; caller frees *out. */
static int
proxy_find(struct proxy *px, json_object *args, struct instance **out, struct berr *err)
{
	const char *name, *backend, *uri;
	struct session *s = px->s;
	size_t i, j;

	*out = NULL;
	if (proto_arg_str(args, "name", &name, NULL, err) < 0 ||
	    proto_arg_str(args, "backend", &backend, NULL, err) < 0 ||
	    proto_arg_str(args, "uri", &uri, NULL, err) < 0)
		return -1;
	if (name == NULL || name[0] == '\0')
		return berr_set(err, BERR_INVALID, "argument `name' is missing");
	if (backend == NULL)
		return session_resolve(s, name, out, err);
	for (i = 0; i < s->nconns; i++) {
		struct bconn *c = s->conns[i];
		struct inst_list l = { 0 };
		struct berr e = { 0 };

		if (!conn_matches(c, backend, uri))
			continue;
		if (c->ops->get != NULL) {
			if (c->ops->get(c, name, out, &e) == 0 && *out != NULL)
				goto found;
			continue;
		}
		if (c->ops->list(c, &l, &e) < 0)
			continue;
		for (j = 0; j < l.n; j++)
			if (strcmp(l.v[j]->name, name) == 0) {
				*out = l.v[j];
				l.v[j] = l.v[--l.n];
				break;
			}
		inst_list_clear(&l);
		if (*out != NULL)
			goto found;
	}
	return berr_set(err, BERR_NOTFOUND, "no %s instance named `%s'", backend, name);
found:
	(*out)->conn = s->conns[i];
	(*out)->backend = s->conns[i]->ops;
	if ((*out)->host == NULL)
		(*out)->host = xstrdup(conn_host(s->conns[i]));
	return 0;
}

/* ------------------------------------------------------------ operations */

static void
proxy_list(struct proxy *px, struct proto_req *req)
{
	struct inst_list l = { 0 };
	json_object *res = json_object_new_object(), *arr = json_object_new_array(), *fails;
	size_t i;

	session_list(px->s, &l);
	for (i = 0; i < l.n; i++)
		json_object_array_add(arr, proxy_inst_json(l.v[i]));
	inst_list_clear(&l);
	json_object_object_add(res, "instances", arr);
	fails = json_object_new_array();
	for (i = 0; i < px->s->nfailures; i++) {
		json_object *f;

		if (!px->s->failures[i].requested && !px->s->failures[i].from_list)
			continue;
		f = json_object_new_object();

		json_object_object_add(f, "what", json_object_new_string(px->s->failures[i].what));
		json_object_object_add(f, "error", json_object_new_string(px->s->failures[i].err.msg));
		json_object_array_add(fails, f);
	}
	json_object_object_add(res, "failures", fails);
	proto_req_reply(req, res);
}

static void
proxy_host_info(struct proxy *px, struct proto_req *req)
{
	json_object *res = json_object_new_object(), *arr = json_object_new_array(), *fails;
	char host[256] = "";
	size_t i;

	for (i = 0; i < px->s->nconns; i++) {
		struct bconn *c = px->s->conns[i];
		json_object *h = json_object_new_object(), *hi = NULL;
		struct berr e = { 0 };

		json_object_object_add(h, "backend", json_object_new_string(c->ops->name));
		json_object_object_add(h, "host", json_object_new_string(conn_host(c)));
		json_object_object_add(h, "uri", c->uri ? json_object_new_string(c->uri) : NULL);
		if (c->ops->host_info != NULL) {
			if (c->ops->host_info(c, &hi, &e) == 0 && hi != NULL)
				json_object_object_add(h, "info", hi);
			else
				json_object_object_add(h, "error", json_object_new_string(e.msg));
		}
		json_object_array_add(arr, h);
	}
	gethostname(host, sizeof host - 1);
	json_object_object_add(res, "host", json_object_new_string(host));
	json_object_object_add(res, "connections", arr);
	fails = json_object_new_array();
	for (i = 0; i < px->s->nfailures; i++) {
		json_object *f;

		if (!px->s->failures[i].requested && !px->s->failures[i].from_list)
			continue;
		f = json_object_new_object();

		json_object_object_add(f, "what", json_object_new_string(px->s->failures[i].what));
		json_object_object_add(f, "error", json_object_new_string(px->s->failures[i].err.msg));
		json_object_array_add(fails, f);
	}
	json_object_object_add(res, "failures", fails);
	proto_req_reply(req, res);
}

static void
proxy_lifecycle(struct proxy *px, struct proto_req *req, const char *op, json_object *args)
{
	struct instance *inst = NULL;
	const struct backend_ops *ops;
	struct berr e = { 0 };
	int r;

	if (proxy_find(px, args, &inst, &e) < 0) {
		proto_req_error(req, &e);
		return;
	}
	ops = inst->backend;
	if (strcmp(op, "start") == 0) {
		r = ops->start ? ops->start(inst, &e) : backend_notsup(ops, "start", &e);
	} else if (strcmp(op, "pause") == 0) {
		r = ops->pause ? ops->pause(inst, &e) : backend_notsup(ops, "pause", &e);
	} else if (strcmp(op, "resume") == 0) {
		r = ops->resume ? ops->resume(inst, &e) : backend_notsup(ops, "resume", &e);
	} else if (strcmp(op, "destroy") == 0) {
		r = ops->destroy ? ops->destroy(inst, &e) : backend_notsup(ops, "destroy", &e);
	} else if (strcmp(op, "undefine") == 0) {
		r = ops->undefine ? ops->undefine(inst, &e) : backend_notsup(ops, "undefine", &e);
	} else if (strcmp(op, "kill") == 0) {
		int64_t sig;

		r = proto_arg_int(args, "signal", &sig, 9, &e);
		if (r == 0 && (sig < 1 || sig > 64))
			r = berr_set(&e, BERR_INVALID, "argument `signal' must be 1 to 64");
		if (r == 0)
			r = ops->kill ? ops->kill(inst, (int)sig, &e) : backend_notsup(ops, "kill", &e);
	} else {	/* shutdown */
		int64_t timeout;
		int force;

		r = proto_arg_int(args, "timeout", &timeout, 0, &e);
		if (r == 0)
			r = proto_arg_bool(args, "force", &force, 1, &e);
		if (r == 0 && (timeout < -1 || timeout > 86400))
			r = berr_set(&e, BERR_INVALID, "argument `timeout' must be -1 to 86400 seconds");
		if (r == 0 && timeout == 0)
			timeout = option_int("shutdown_timeout");
		if (r == 0)
			r = ops->shutdown ? ops->shutdown(inst, (int)timeout, force, &e)
					  : backend_notsup(ops, "shutdown", &e);
	}
	if (r < 0)
		proto_req_error(req, &e);
	else
		proto_req_reply(req, json_object_new_object());
	instance_free(inst);
}

static void
proxy_get(struct proxy *px, struct proto_req *req, json_object *args, int full)
{
	struct instance *inst = NULL;
	struct berr e = { 0 };
	json_object *o = NULL;

	if (proxy_find(px, args, &inst, &e) < 0) {
		proto_req_error(req, &e);
		return;
	}
	if (full) {
		if (instance_info_json(inst, &o, &e) < 0) {
			proto_req_error(req, &e);
			instance_free(inst);
			return;
		}
		json_object_object_add(o, "uri", inst->conn && inst->conn->uri
							 ? json_object_new_string(inst->conn->uri) : NULL);
	} else {
		o = proxy_inst_json(inst);
	}
	instance_free(inst);
	proto_req_reply(req, o);
}

static void
proxy_define(struct proxy *px, struct proto_req *req, json_object *args)
{
	const char *backend, *uri, *name, *xml;
	json_object *json = NULL;
	struct define_spec spec = { 0 };
	struct instance *inst = NULL;
	struct bconn *c = NULL;
	struct berr e = { 0 };
	size_t i;

	if (proto_arg_str(args, "backend", &backend, NULL, &e) < 0 ||
	    proto_arg_str(args, "uri", &uri, NULL, &e) < 0 ||
	    proto_arg_str(args, "name", &name, NULL, &e) < 0 ||
	    proto_arg_str(args, "xml", &xml, NULL, &e) < 0)
		goto fail;
	json_object_object_get_ex(args, "json", &json);
	if (json != NULL && !json_object_is_type(json, json_type_object)) {
		berr_set(&e, BERR_INVALID, "argument `json' must be an object");
		goto fail;
	}
	if ((json == NULL) == (xml == NULL)) {
		berr_set(&e, BERR_INVALID, "define wants exactly one of `json' and `xml'");
		goto fail;
	}
	if (backend == NULL) {
		/* As `berth define' guesses from the file. */
		if (xml != NULL)
			backend = "libvirt";
		else if (json_object_object_get_ex(json, "image", NULL) ||
			 json_object_object_get_ex(json, "bundle", NULL))
			backend = "container";
		else
			backend = "kvm";
	}
	for (i = 0; i < px->s->nconns && c == NULL; i++)
		if (conn_matches(px->s->conns[i], backend, uri))
			c = px->s->conns[i];
	if (c == NULL) {
		berr_set(&e, BERR_NOTFOUND, "no %s connection%s%s here", backend, uri ? " to " : "",
			 uri ? uri : "");
		goto fail;
	}
	if (c->ops->define == NULL) {
		backend_notsup(c->ops, "define", &e);
		goto fail;
	}
	spec.name = name;
	spec.json = json;
	spec.xml = xml;
	if (c->ops->define(c, &spec, &inst, &e) < 0)
		goto fail;
	inst->conn = c;
	inst->backend = c->ops;
	if (inst->host == NULL)
		inst->host = xstrdup(conn_host(c));
	proto_req_reply(req, proxy_inst_json(inst));
	instance_free(inst);
	return;
fail:
	proto_req_error(req, &e);
}

static json_object *
stats_json(const struct inst_stats *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "valid", json_object_new_boolean(st->valid));
	json_object_object_add(o, "ts_ms", json_object_new_int64(st->ts_ms));
#define ADD(f) json_object_object_add(o, #f, json_object_new_int64((int64_t)st->f))
	ADD(cpu_time_ns);
	ADD(vcpus);
	ADD(mem_total_kib);
	ADD(mem_used_kib);
	ADD(blk_rd_bytes);
	ADD(blk_wr_bytes);
	ADD(blk_rd_reqs);
	ADD(blk_wr_reqs);
	ADD(net_rx_bytes);
	ADD(net_tx_bytes);
	ADD(net_rx_pkts);
	ADD(net_tx_pkts);
#undef ADD
	return o;
}

/* One list of this host, then one stats batch per connection. */
static void
proxy_stats(struct proxy *px, struct proto_req *req, json_object *args)
{
	json_object *want = NULL, *res, *arr;
	struct inst_list l = { 0 };
	struct instance **match;
	struct inst_stats *out;
	struct berr e = { 0 };
	size_t i, j, n, ci;

	if (!json_object_object_get_ex(args, "instances", &want) ||
	    !json_object_is_type(want, json_type_array)) {
		berr_set(&e, BERR_INVALID, "argument `instances' must be a list");
		proto_req_error(req, &e);
		return;
	}
	n = json_object_array_length(want);
	if (n > REMOTE_MAX_BATCH) {
		berr_set(&e, BERR_INVALID, "at most %d instances per stats request", REMOTE_MAX_BATCH);
		proto_req_error(req, &e);
		return;
	}
	session_list(px->s, &l);
	match = xcalloc(n + 1, sizeof *match);
	out = xcalloc(n + 1, sizeof *out);
	for (i = 0; i < n; i++) {
		json_object *w = json_object_array_get_idx(want, i);
		const char *name, *backend, *uri;
		struct berr ig;

		if (!json_object_is_type(w, json_type_object) ||
		    proto_arg_str(w, "name", &name, NULL, &ig) < 0 || name == NULL ||
		    proto_arg_str(w, "backend", &backend, NULL, &ig) < 0 ||
		    proto_arg_str(w, "uri", &uri, NULL, &ig) < 0)
			continue;
		for (j = 0; j < l.n; j++)
			if (strcmp(l.v[j]->name, name) == 0 && conn_matches(l.v[j]->conn, backend, uri)) {
				match[i] = l.v[j];
				break;
			}
	}
	for (ci = 0; ci < px->s->nconns; ci++) {
		struct bconn *c = px->s->conns[ci];
		struct instance **batch = xcalloc(n + 1, sizeof *batch);
		struct inst_stats *bout = xcalloc(n + 1, sizeof *bout);
		size_t *idx = xcalloc(n + 1, sizeof *idx), k = 0;

		for (i = 0; i < n; i++)
			if (match[i] != NULL && match[i]->conn == c) {
				idx[k] = i;
				batch[k++] = match[i];
			}
		if (k > 0 && c->ops->stats != NULL && c->ops->stats(c, batch, k, bout, &e) == 0)
			for (i = 0; i < k; i++) {
				out[idx[i]] = bout[i];
				if (out[idx[i]].ts_ms == 0)
					out[idx[i]].ts_ms = now_ms();
			}
		free(batch);
		free(bout);
		free(idx);
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, stats_json(&out[i]));
	res = json_object_new_object();
	json_object_object_add(res, "stats", arr);
	json_object_object_add(res, "now_ms", json_object_new_int64(now_ms()));
	free(match);
	free(out);
	inst_list_clear(&l);
	proto_req_reply(req, res);
}

/* ------------------------------------------------------------ consoles */

static struct proxy_chan *
chan_find(struct proxy *px, json_object *args, struct berr *err)
{
	struct proxy_chan *ch;
	int64_t id;

	if (proto_arg_int(args, "ch", &id, -1, err) < 0)
		return NULL;
	for (ch = px->chans; ch != NULL; ch = ch->next)
		if (ch->id == id)
			return ch;
	berr_set(err, BERR_NOTFOUND, "no console channel %lld", (long long)id);
	return NULL;
}

static void
chan_update(struct proxy_chan *ch)
{
	int ev = 0;

	if (ch->watch <= 0)
		return;

	if (ch->read_req != NULL && !ch->eof)
		ev |= POLLIN;
	if (ch->woff < ch->wlen)
		ev |= POLLOUT;
	loop_update_fd(ch->px->s->loop, ch->watch, ev);
}

static void
chan_reply_read(struct proxy_chan *ch, const void *data, size_t n, int eof)
{
	json_object *res = json_object_new_object();
	char *b64 = remote_b64_encode(data, n);

	json_object_object_add(res, "b64", json_object_new_string(b64));
	json_object_object_add(res, "eof", json_object_new_boolean(eof));
	free(b64);
	if (ch->idle_timer > 0)
		loop_remove_timer(ch->px->s->loop, ch->idle_timer);
	ch->idle_timer = 0;
	proto_req_reply(ch->read_req, res);
	ch->read_req = NULL;
}

static void
chan_free(struct proxy_chan *ch)
{
	struct proxy *px = ch->px;
	struct proxy_chan **pp;
	struct berr e;

	for (pp = &px->chans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ch) {
			*pp = ch->next;
			px->nchans--;
			break;
		}
	berr_set(&e, ECANCELED, "console channel closed");
	if (ch->read_req != NULL)
		chan_reply_read(ch, "", 0, 1);
	if (ch->write_req != NULL)
		proto_req_error(ch->write_req, &e);
	if (ch->idle_timer > 0)
		loop_remove_timer(px->s->loop, ch->idle_timer);
	if (ch->watch > 0)
		loop_remove_fd(px->s->loop, ch->watch);
	close(ch->fd);
	free(ch->wbuf);
	free(ch);
}

static void
chan_idle_cb(struct loop *l, int id, void *arg)
{
	struct proxy_chan *ch = arg;

	loop_remove_timer(l, id);
	ch->idle_timer = 0;
	if (ch->read_req != NULL)
		chan_reply_read(ch, "", 0, 0);
	chan_update(ch);
}

static void
chan_io_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct proxy_chan *ch = arg;

	if (ch->woff < ch->wlen && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		ssize_t n = write(ch->fd, ch->wbuf + ch->woff, ch->wlen - ch->woff);

		if (n > 0)
			ch->woff += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			ch->woff = ch->wlen;	/* the console is gone; reads say so */
		if (ch->woff >= ch->wlen && ch->write_req != NULL) {
			proto_req_reply(ch->write_req, json_object_new_object());
			ch->write_req = NULL;
		}
	}
	if (ch->read_req != NULL && (revents & (POLLIN | POLLERR | POLLHUP))) {
		unsigned char buf[REMOTE_CONSOLE_CHUNK];
		ssize_t n = read(ch->fd, buf, sizeof buf);

		if (n > 0) {
			chan_reply_read(ch, buf, (size_t)n, 0);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR) || ch->watch <= 0) {
			ch->eof = 1;
			chan_reply_read(ch, "", 0, 1);
			chan_free(ch);	/* the client forgets it on eof */
			return;
		}
	}
	/* poll() reports a hang-up whatever we ask for: stop watching until
	 * the next console_read, which then reads what is left directly. */
	if (ch->read_req == NULL && (revents & (POLLHUP | POLLERR)) && ch->woff >= ch->wlen) {
		loop_remove_fd(l, ch->watch);
		ch->watch = 0;
		return;
	}
	chan_update(ch);
}

static void
proxy_console_open(struct proxy *px, struct proto_req *req, json_object *args)
{
	struct instance *inst = NULL;
	struct proxy_chan *ch;
	struct berr e = { 0 };
	int fd = -1;
	json_object *res;

	if (px->nchans >= REMOTE_MAX_CHANNELS) {
		berr_set(&e, EBUSY, "too many consoles open (at most %d)", REMOTE_MAX_CHANNELS);
		proto_req_error(req, &e);
		return;
	}
	if (proxy_find(px, args, &inst, &e) < 0) {
		proto_req_error(req, &e);
		return;
	}
	if (inst->backend->console_open == NULL)
		backend_notsup(inst->backend, "consoles", &e);
	else
		inst->backend->console_open(inst, &fd, &e);
	instance_free(inst);
	if (fd < 0) {
		proto_req_error(req, &e);
		return;
	}
	fd_set_nonblock(fd, 1);
	fd_set_cloexec(fd, 1);
	ch = xcalloc(1, sizeof *ch);
	ch->px = px;
	ch->id = ++px->next_ch;
	ch->fd = fd;
	ch->watch = loop_add_fd(px->s->loop, fd, 0, chan_io_cb, ch, NULL);
	ch->next = px->chans;
	px->chans = ch;
	px->nchans++;
	res = json_object_new_object();
	json_object_object_add(res, "ch", json_object_new_int64(ch->id));
	proto_req_reply(req, res);
}

static void
proxy_console_op(struct proxy *px, struct proto_req *req, const char *op, json_object *args)
{
	struct berr e = { 0 };
	struct proxy_chan *ch = chan_find(px, args, &e);

	if (ch == NULL) {
		proto_req_error(req, &e);
		return;
	}
	if (strcmp(op, "console_close") == 0) {
		chan_free(ch);
		proto_req_reply(req, json_object_new_object());
	} else if (strcmp(op, "console_read") == 0) {
		if (ch->read_req != NULL) {
			berr_set(&e, BERR_STATE, "a console_read is already waiting on channel %lld",
				 (long long)ch->id);
			proto_req_error(req, &e);
			return;
		}
		ch->read_req = req;
		if (ch->watch <= 0) {	/* hung up: read what is left now */
			chan_io_cb(px->s->loop, 0, ch->fd, POLLIN | POLLHUP, ch);
			return;
		}
		ch->idle_timer = loop_add_timer(px->s->loop, REMOTE_CONSOLE_IDLE_MS, chan_idle_cb, ch, NULL);
		chan_update(ch);
	} else {	/* console_write */
		const char *b64;
		unsigned char *buf;
		size_t len;
		ssize_t n;

		if (ch->write_req != NULL) {
			berr_set(&e, BERR_STATE, "a console_write is already waiting on channel %lld",
				 (long long)ch->id);
			proto_req_error(req, &e);
			return;
		}
		if (proto_arg_str(args, "b64", &b64, "", &e) < 0 ||
		    strlen(b64) > (REMOTE_CONSOLE_CHUNK + 2) / 3 * 4 ||
		    remote_b64_decode(b64, strlen(b64), &buf, &len) < 0) {
			if (e.code == 0)
				berr_set(&e, BERR_INVALID, "argument `b64' must be base64 of at most %d bytes",
					 REMOTE_CONSOLE_CHUNK);
			proto_req_error(req, &e);
			return;
		}
		n = len ? write(ch->fd, buf, len) : 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			berr_errno(&e, "writing to the console");
			free(buf);
			proto_req_error(req, &e);
			return;
		}
		if (n < 0)
			n = 0;
		if ((size_t)n == len) {
			free(buf);
			proto_req_reply(req, json_object_new_object());
			return;
		}
		free(ch->wbuf);
		ch->wbuf = buf;
		ch->wlen = len;
		ch->woff = (size_t)n;
		ch->write_req = req;	/* answered once the rest is written */
		chan_update(ch);
	}
}

/* ------------------------------------------------------------ dispatch */

static void
proxy_handler(struct proto_server *srv, struct proto_req *req, const char *op, json_object *args,
	      void *arg)
{
	struct proxy *px = arg;
	struct berr e = { 0 };

	if (strcmp(op, "list") == 0)
		proxy_list(px, req);
	else if (strcmp(op, "get") == 0)
		proxy_get(px, req, args, 0);
	else if (strcmp(op, "info") == 0)
		proxy_get(px, req, args, 1);
	else if (strcmp(op, "start") == 0 || strcmp(op, "shutdown") == 0 || strcmp(op, "kill") == 0 ||
		 strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0 || strcmp(op, "destroy") == 0 ||
		 strcmp(op, "undefine") == 0)
		proxy_lifecycle(px, req, op, args);
	else if (strcmp(op, "define") == 0)
		proxy_define(px, req, args);
	else if (strcmp(op, "stats") == 0)
		proxy_stats(px, req, args);
	else if (strcmp(op, "host_info") == 0)
		proxy_host_info(px, req);
	else if (strcmp(op, "console_open") == 0)
		proxy_console_open(px, req, args);
	else if (strcmp(op, "console_read") == 0 || strcmp(op, "console_write") == 0 ||
		 strcmp(op, "console_close") == 0)
		proxy_console_op(px, req, op, args);
	else {
		berr_set(&e, BERR_NOTSUP, "berth proxy does not support `%s'", op);
		proto_req_error(req, &e);
	}
}

static void
proxy_on_bus(const struct berth_event *ev, void *arg)
{
	struct proxy *px = arg;
	json_object *data;

	if (ev->type == NULL || ev->type[0] == '\0' || strlen(ev->type) > 64)
		return;
	data = json_object_new_object();
	if (ev->backend)
		json_object_object_add(data, "backend", json_object_new_string(ev->backend));
	if (ev->host)
		json_object_object_add(data, "host", json_object_new_string(ev->host));
	if (ev->state)
		json_object_object_add(data, "state", json_object_new_string(ev->state));
	if (ev->detail)
		json_object_object_add(data, "detail", json_object_new_string(ev->detail));
	if (ev->data)
		json_object_object_add(data, "data", json_object_get(ev->data));
	proto_server_emit(px->srv, ev->type, ev->instance, data);
}

/* The banner goes out before the protocol starts (see remote.h). */
static int
proxy_write_banner(int fd, struct berr *err)
{
	json_object *data = json_object_new_object(), *ev;
	const char *s;
	size_t len, off = 0;
	char *line;

	json_object_object_add(data, "version", json_object_new_int(PROTO_VERSION));
	ev = proto_event(REMOTE_BANNER_EVENT, NULL, data);
	s = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN);
	line = xasprintf("%s\n", s);
	json_object_put(ev);
	len = strlen(line);
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0) {
			free(line);
			return berr_errno(err, "writing to standard output");
		}
		off += (size_t)n;
	}
	free(line);
	return 0;
}

int
remote_proxy_run(struct session *s, int in_fd, int out_fd, struct berr *err)
{
	struct proxy px = { .s = s };
	json_object *hello = json_object_new_object(), *backends = json_object_new_array();
	char host[256] = "";
	size_t i;

	gethostname(host, sizeof host - 1);
	for (i = 0; i < s->nconns; i++) {
		json_object *b = json_object_new_object();

		json_object_object_add(b, "backend", json_object_new_string(s->conns[i]->ops->name));
		json_object_object_add(b, "uri", s->conns[i]->uri ? json_object_new_string(s->conns[i]->uri)
								  : NULL);
		json_object_array_add(backends, b);
	}
	json_object_object_add(hello, "host", json_object_new_string(host));
	json_object_object_add(hello, "berth_version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(hello, "connections", backends);
	if (proxy_write_banner(out_fd, err) < 0) {
		json_object_put(hello);
		close(in_fd);
		close(out_fd);
		return -1;
	}
	px.srv = proto_server_new(s->loop, -1, "berth-proxy", hello, proxy_handler, &px);
	if (px.srv == NULL) {
		close(in_fd);
		close(out_fd);
		return berr_set(err, ENOMEM, "cannot create the protocol server");
	}
	if (proto_server_add_fds(px.srv, in_fd, out_fd, err) < 0) {
		proto_server_free(px.srv);
		close(in_fd);
		close(out_fd);
		return -1;
	}
	session_enable_events(s);
	px.bus_sub = evbus_subscribe(s->bus, "*", proxy_on_bus, &px);
	while (proto_server_nclients(px.srv) > 0 && !loop_quitting(s->loop))
		if (loop_run_once(s->loop, 1000) < 0 && errno != EINTR)
			break;
	evbus_unsubscribe(s->bus, px.bus_sub);
	while (px.chans != NULL)
		chan_free(px.chans);
	proto_server_free(px.srv);
	return 0;
}
