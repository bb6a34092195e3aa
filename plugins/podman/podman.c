/*
 * podman.c - a berth backend plugin for the containers of a Podman service,
 * through its Engine API (libpod endpoints, v4) over a unix socket, with
 * libcurl and json-c.  Built as plugins/podman.la (podman.so), loaded by
 * berth's plugin loader through berth_plugin_init.
 *
 * URI: "unix:///path/to/podman.sock" or a plain socket path.  Default:
 * $BERTH_PODMAN_SOCKET, else /run/podman/podman.sock as root, else
 * $XDG_RUNTIME_DIR/podman/podman.sock.  Start the service with
 *   podman system service --time=0 unix:///run/podman/podman.sock
 * Supported: list, get, define (the JSON spec is libpod's create body:
 * name, image, command, env...), start, shutdown, kill, pause, resume,
 * destroy, undefine, stats, info, exec, console (attach).  Not supported
 * (NULL slots): events, migrate, snapshot.
 * Everything the service sends is hostile input: bounded and checked.
 * Not for: Docker's API (compat endpoints) or podman's CLI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "berth-plugin.h"

#define PODMAN_API "http://podman/v4.0.0/libpod"
#define PODMAN_RESPONSE_MAX (16u << 20)
#define PODMAN_TIMEOUT_MS 60000L

struct podman_conn {
	struct bconn base;	/* first: berth finds ops and uri here */
	char *sock;
	CURL *curl;
	int cpus;
	uint64_t mem_kib;
};

struct podman_buf {
	char *data;
	size_t len;
	int overflow;
	/* exec output: 1 demultiplex the stream to fds 1/2, 2 raw to fd 1 */
	int demux;
	unsigned char hdr[8];
	size_t hdr_len;
	size_t frame_left;
	int frame_fd;
};

static struct podman_conn *
pconn(struct bconn *c)
{
	return (struct podman_conn *)c;
}

static char *
podman_strdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		abort();
	return d;
}

/* ---- HTTP ---- */

static void
podman_demux(struct podman_buf *b, const char *p, size_t n)
{
	while (n > 0) {
		if (b->frame_left == 0) {
			size_t take = 8 - b->hdr_len;

			if (take > n)
				take = n;
			memcpy(b->hdr + b->hdr_len, p, take);
			b->hdr_len += take;
			p += take;
			n -= take;
			if (b->hdr_len < 8)
				return;
			b->frame_fd = b->hdr[0] == 2 ? 2 : 1;
			b->frame_left = ((size_t)b->hdr[4] << 24) | ((size_t)b->hdr[5] << 16) |
					((size_t)b->hdr[6] << 8) | b->hdr[7];
			b->hdr_len = 0;
			continue;
		}
		{
			size_t take = b->frame_left < n ? b->frame_left : n;
			ssize_t w = write(b->frame_fd, p, take);

			(void)w;
			b->frame_left -= take;
			p += take;
			n -= take;
		}
	}
}

static size_t
podman_collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct podman_buf *b = arg;
	size_t n = size * nmemb;
	char *nd;

	if (b->demux == 1) {
		podman_demux(b, ptr, n);
		return n;
	}
	if (b->demux == 2) {
		ssize_t w = write(1, ptr, n);

		(void)w;
		return n;
	}
	if (b->len + n > PODMAN_RESPONSE_MAX) {
		b->overflow = 1;
		return 0;
	}
	nd = realloc(b->data, b->len + n + 1);
	if (nd == NULL)
		return 0;
	b->data = nd;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* One request.  path is below /libpod.  body may be NULL.  On success
 * *status is the HTTP status and *out (may be NULL) the parsed JSON reply
 * (NULL for an empty body).  HTTP errors >= 400 become berr with the
 * service's message. */
static int
podman_request(struct podman_conn *pc, const char *method, const char *path, const char *body,
	       long *status, json_object **out, int demux, struct berr *err)
{
	struct podman_buf b = { 0 };
	struct curl_slist *hdrs = NULL;
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long st = 0;

	if (out)
		*out = NULL;
	if ((size_t)snprintf(url, sizeof url, "%s%s", PODMAN_API, path) >= sizeof url)
		return berr_set(err, BERR_INVALID, "request path too long");
	b.demux = demux;
	curl_easy_reset(pc->curl);
	curl_easy_setopt(pc->curl, CURLOPT_UNIX_SOCKET_PATH, pc->sock);
	curl_easy_setopt(pc->curl, CURLOPT_URL, url);
	curl_easy_setopt(pc->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(pc->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(pc->curl, CURLOPT_TIMEOUT_MS, PODMAN_TIMEOUT_MS);
	curl_easy_setopt(pc->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(pc->curl, CURLOPT_WRITEFUNCTION, podman_collect);
	curl_easy_setopt(pc->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(pc->curl, CURLOPT_ERRORBUFFER, errbuf);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(pc->curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(pc->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(pc->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(pc->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(pc->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	rc = curl_easy_perform(pc->curl);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		free(b.data);
		if (b.overflow)
			return berr_set(err, BERR_PROTO, "podman: reply to %s %s larger than %u bytes",
					method, path, PODMAN_RESPONSE_MAX);
		return berr_set(err, BERR_REMOTE, "podman at %s: %s", pc->sock,
				errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_getinfo(pc->curl, CURLINFO_RESPONSE_CODE, &st);
	if (status)
		*status = st;
	if (st >= 400) {
		json_object *e = b.data ? json_tokener_parse(b.data) : NULL;
		json_object *m = NULL;
		const char *msg = NULL;
		int code = st == 404 ? BERR_NOTFOUND : st == 409 || st == 304 ? BERR_STATE : BERR_REMOTE;

		if (e != NULL && json_object_is_type(e, json_type_object) &&
		    json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string))
			msg = json_object_get_string(m);
		berr_set(err, code, "podman: %s (HTTP %ld)", msg ? msg : "request failed", st);
		json_object_put(e);
		free(b.data);
		return -1;
	}
	if (out != NULL && b.data != NULL && b.len > 0) {
		*out = json_tokener_parse(b.data);
		if (*out == NULL) {
			free(b.data);
			return berr_set(err, BERR_PROTO, "podman: %s %s: reply is not JSON", method, path);
		}
	}
	free(b.data);
	return 0;
}

/* ---- JSON helpers (hostile input: check every type) ---- */

static json_object *
jget(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || v == NULL || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

static int64_t
jint(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_int64(v);
	return 0;
}

/* RFC 3339 ("2026-11-23T19:07:20.504Z") to unix seconds; 0 if not parsable
 * or before 1971 (podman's "zero time" is year 1). */
static int64_t
parse_time(const char *s)
{
	struct tm tm;
	char *end;
	time_t t;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return 0;
	t = timegm(&tm);
	return t > 31536000 ? (int64_t)t : 0;
}

static enum inst_state
podman_state(const char *s)
{
	if (s == NULL)
		return INST_UNKNOWN;
	if (strcmp(s, "running") == 0)
		return INST_RUNNING;
	if (strcmp(s, "paused") == 0)
		return INST_PAUSED;
	if (strcmp(s, "created") == 0 || strcmp(s, "configured") == 0 ||
	    strcmp(s, "initialized") == 0)
		return INST_CREATED;
	if (strcmp(s, "exited") == 0 || strcmp(s, "stopped") == 0)
		return INST_STOPPED;
	if (strcmp(s, "stopping") == 0)
		return INST_SHUTDOWN;
	return INST_UNKNOWN;
}

static struct instance *
podman_instance(struct podman_conn *pc, const char *name, const char *id)
{
	struct instance *inst = instance_new(name, INST_CONTAINER);

	inst->conn = &pc->base;
	inst->backend = pc->base.ops;
	instance_set_str(&inst->host, "localhost");
	inst->priv = podman_strdup(id);
	inst->vcpus = pc->cpus;
	return inst;
}

/* ---- ops ---- */

static int
podman_probe(struct berr *err)
{
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	if (v == NULL || v->version_num < 0x073200)
		return berr_set(err, BERR_NOTSUP, "podman: libcurl 7.50 or later is needed (unix sockets)");
	return 0;
}

static char *
podman_default_socket(void)
{
	const char *env = getenv("BERTH_PODMAN_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *p;

	if (env != NULL && *env != '\0')
		return podman_strdup(env);
	if (geteuid() == 0 || xdg == NULL)
		return podman_strdup("/run/podman/podman.sock");
	if (asprintf(&p, "%s/podman/podman.sock", xdg) < 0)
		abort();
	return p;
}

static void
podman_close(struct bconn *c)
{
	struct podman_conn *pc = pconn(c);

	if (pc == NULL)
		return;
	if (pc->curl)
		curl_easy_cleanup(pc->curl);
	free(pc->sock);
	free(pc->base.uri);
	free(pc);
}

static int
podman_open(struct bconn **out, const char *uri, struct loop *loop, struct berr *err)
{
	static int curl_ready;
	struct podman_conn *pc;
	json_object *info = NULL, *host;
	struct stat st;

	(void)loop;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return berr_set(err, BERR_INVALID, "podman: initialising libcurl failed");
		curl_ready = 1;
	}
	pc = calloc(1, sizeof *pc);
	if (pc == NULL)
		return berr_set(err, ENOMEM, "podman: out of memory");
	if (uri == NULL || *uri == '\0')
		pc->sock = podman_default_socket();
	else if (strncmp(uri, "unix://", 7) == 0)
		pc->sock = podman_strdup(uri + 7);
	else
		pc->sock = podman_strdup(uri);
	if (asprintf(&pc->base.uri, "unix://%s", pc->sock) < 0)
		abort();
	if (stat(pc->sock, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		berr_set(err, ENOENT, "podman: no API socket at %s (start `podman system service "
			 "--time=0 unix://%s')", pc->sock, pc->sock);
		podman_close(&pc->base);
		return -1;
	}
	pc->curl = curl_easy_init();
	if (pc->curl == NULL) {
		podman_close(&pc->base);
		return berr_set(err, ENOMEM, "podman: curl_easy_init failed");
	}
	if (podman_request(pc, "GET", "/info", NULL, NULL, &info, 0, err) < 0) {
		podman_close(&pc->base);
		return -1;
	}
	host = jget(info, "host", json_type_object);
	pc->cpus = (int)jint(host, "cpus");
	if (pc->cpus < 1 || pc->cpus > 65536)
		pc->cpus = 1;
	pc->mem_kib = (uint64_t)jint(host, "memTotal") / 1024;
	json_object_put(info);
	*out = &pc->base;
	return 0;
}

static const char *
podman_host(struct bconn *c)
{
	(void)c;
	return "localhost";
}

static int
podman_host_info(struct bconn *c, json_object **out, struct berr *err)
{
	struct podman_conn *pc = pconn(c);
	json_object *info = NULL, *host, *o, *ver;

	if (podman_request(pc, "GET", "/info", NULL, NULL, &info, 0, err) < 0)
		return -1;
	host = jget(info, "host", json_type_object);
	ver = jget(info, "version", json_type_object);
	o = json_object_new_object();
	json_object_object_add(o, "uri", json_object_new_string(c->uri));
	json_object_object_add(o, "host", json_object_new_string("localhost"));
	json_object_object_add(o, "cpus", json_object_new_int((int)jint(host, "cpus")));
	json_object_object_add(o, "memory_kib", json_object_new_int64(jint(host, "memTotal") / 1024));
	json_object_object_add(o, "free_memory_kib", json_object_new_int64(jint(host, "memFree") / 1024));
	if (jstr(host, "hostname"))
		json_object_object_add(o, "hostname", json_object_new_string(jstr(host, "hostname")));
	if (jstr(ver, "Version"))
		json_object_object_add(o, "podman_version", json_object_new_string(jstr(ver, "Version")));
	if (jstr(host, "cgroupVersion"))
		json_object_object_add(o, "cgroup_version", json_object_new_string(jstr(host, "cgroupVersion")));
	json_object_put(info);
	*out = o;
	return 0;
}

static int
podman_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	struct podman_conn *pc = pconn(c);
	json_object *arr = NULL;
	size_t i, n;

	if (podman_request(pc, "GET", "/containers/json?all=true", NULL, NULL, &arr, 0, err) < 0)
		return -1;
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		return berr_set(err, BERR_PROTO, "podman: container list is not an array");
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n && i < 100000; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		json_object *names = jget(e, "Names", json_type_array);
		json_object *n0 = names ? json_object_array_get_idx(names, 0) : NULL;
		const char *id = jstr(e, "Id");
		struct instance *inst;
		int64_t started;

		if (n0 == NULL || !json_object_is_type(n0, json_type_string) || id == NULL)
			continue;
		if (jint(e, "IsInfra"))
			continue;
		inst = podman_instance(pc, json_object_get_string(n0), id);
		inst->state = podman_state(jstr(e, "State"));
		if (inst->state == INST_STOPPED && jget(e, "ExitCode", json_type_int)) {
			char reason[32];

			snprintf(reason, sizeof reason, "exit %d", (int)jint(e, "ExitCode"));
			instance_set_str(&inst->reason, reason);
		}
		inst->created = parse_time(jstr(e, "Created"));
		if (inst->created == 0)
			inst->created = jint(e, "Created") > 31536000 ? jint(e, "Created") : 0;
		started = jint(e, "StartedAt");
		inst->started = inst->state == INST_RUNNING && started > 31536000 ? started : 0;
		inst_list_push(out, inst);
	}
	json_object_put(arr);
	return 0;
}

static char *
podman_escape(struct podman_conn *pc, const char *s)
{
	char *e = curl_easy_escape(pc->curl, s, 0);
	char *d = podman_strdup(e);

	curl_free(e);
	return d;
}

static int
podman_inspect(struct podman_conn *pc, const char *name_or_id, json_object **out, struct berr *err)
{
	char path[512];
	char *esc = podman_escape(pc, name_or_id);
	int r;

	snprintf(path, sizeof path, "/containers/%s/json", esc);
	free(esc);
	r = podman_request(pc, "GET", path, NULL, NULL, out, 0, err);
	if (r == 0 && (*out == NULL || !json_object_is_type(*out, json_type_object))) {
		json_object_put(*out);
		*out = NULL;
		return berr_set(err, BERR_PROTO, "podman: inspect reply is not an object");
	}
	return r;
}

static int
podman_get(struct bconn *c, const char *name, struct instance **out, struct berr *err)
{
	struct podman_conn *pc = pconn(c);
	json_object *o = NULL, *state, *hc;
	const char *n, *id;
	struct instance *inst;
	int64_t quota, period, nano;

	if (podman_inspect(pc, name, &o, err) < 0) {
		if (err->code == BERR_NOTFOUND)
			berr_set(err, BERR_NOTFOUND, "podman: no container named `%s'", name);
		return -1;
	}
	n = jstr(o, "Name");
	id = jstr(o, "Id");
	if (n == NULL || id == NULL) {
		json_object_put(o);
		return berr_set(err, BERR_PROTO, "podman: inspect of `%s' has no Name or Id", name);
	}
	inst = podman_instance(pc, n, id);
	state = jget(o, "State", json_type_object);
	inst->state = podman_state(jstr(state, "Status"));
	if (inst->state == INST_STOPPED) {
		char reason[32];

		snprintf(reason, sizeof reason, "exit %d", (int)jint(state, "ExitCode"));
		instance_set_str(&inst->reason, reason);
	}
	inst->created = parse_time(jstr(o, "Created"));
	if (inst->state == INST_RUNNING || inst->state == INST_PAUSED)
		inst->started = parse_time(jstr(state, "StartedAt"));
	hc = jget(o, "HostConfig", json_type_object);
	nano = jint(hc, "NanoCpus");
	quota = jint(hc, "CpuQuota");
	period = jint(hc, "CpuPeriod");
	if (nano > 0)
		inst->vcpus = (int)((nano + 999999999) / 1000000000);
	else if (quota > 0 && period > 0)
		inst->vcpus = (int)((quota + period - 1) / period);
	if (jint(hc, "Memory") > 0)
		inst->memory_kib = (uint64_t)jint(hc, "Memory") / 1024;
	json_object_put(o);
	*out = inst;
	return 0;
}

static int
podman_define(struct bconn *c, const struct define_spec *spec, struct instance **out,
	      struct berr *err)
{
	struct podman_conn *pc = pconn(c);
	json_object *body, *reply = NULL;
	const char *id;
	int r;

	if (spec->json == NULL || !json_object_is_type(spec->json, json_type_object))
		return berr_set(err, BERR_INVALID, "podman: define needs a JSON object (name, image, command...)");
	if (jstr(spec->json, "image") == NULL)
		return berr_set(err, BERR_INVALID, "podman: the definition needs an `image'");
	/* Copy the spec less berth's own keys. */
	body = json_object_new_object();
	{
		json_object_object_foreach(spec->json, k, v) {
			if (strcmp(k, "kind") == 0 || strcmp(k, "backend") == 0)
				continue;
			json_object_object_add(body, k, json_object_get(v));
		}
	}
	if (spec->name != NULL && jstr(body, "name") == NULL)
		json_object_object_add(body, "name", json_object_new_string(spec->name));
	r = podman_request(pc, "POST", "/containers/create",
			   json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), NULL, &reply, 0,
			   err);
	json_object_put(body);
	if (r < 0)
		return -1;
	id = jstr(reply, "Id");
	if (id == NULL) {
		json_object_put(reply);
		return berr_set(err, BERR_PROTO, "podman: create reply has no Id");
	}
	r = podman_get(c, id, out, err);
	json_object_put(reply);
	return r;
}

/* POST /containers/<id>/<action>[?query]; 304 (already so) is fine. */
static int
podman_action(struct instance *inst, const char *action, const char *query, struct berr *err)
{
	struct podman_conn *pc = pconn(inst->conn);
	const char *id = inst->priv ? inst->priv : inst->name;
	char path[512];
	char *esc = podman_escape(pc, id);
	long status = 0;

	snprintf(path, sizeof path, "/containers/%s/%s%s%s", esc, action, query ? "?" : "",
		 query ? query : "");
	free(esc);
	if (podman_request(pc, "POST", path, NULL, &status, NULL, 0, err) < 0)
		return -1;
	return 0;
}

static int
podman_start(struct instance *inst, struct berr *err)
{
	return podman_action(inst, "start", NULL, err);
}

static int
podman_shutdown(struct instance *inst, int timeout_s, int force_after, struct berr *err)
{
	char q[32];

	if (timeout_s < 0)
		return podman_action(inst, "kill", "signal=15", err);
	/* podman stops with SIGTERM, then SIGKILL after the timeout. */
	snprintf(q, sizeof q, "timeout=%d", timeout_s > 0 ? timeout_s : 10);
	(void)force_after;
	return podman_action(inst, "stop", q, err);
}

static int
podman_kill(struct instance *inst, int signo, struct berr *err)
{
	char q[32];

	if (signo < 1 || signo > 64)
		return berr_set(err, BERR_INVALID, "podman: bad signal %d", signo);
	snprintf(q, sizeof q, "signal=%d", signo);
	return podman_action(inst, "kill", q, err);
}

static int
podman_pause(struct instance *inst, struct berr *err)
{
	return podman_action(inst, "pause", NULL, err);
}

static int
podman_resume(struct instance *inst, struct berr *err)
{
	return podman_action(inst, "unpause", NULL, err);
}

static int
podman_destroy(struct instance *inst, struct berr *err)
{
	return podman_action(inst, "kill", "signal=9", err);
}

static int
podman_undefine(struct instance *inst, struct berr *err)
{
	struct podman_conn *pc = pconn(inst->conn);
	const char *id = inst->priv ? inst->priv : inst->name;
	char path[512];
	char *esc = podman_escape(pc, id);

	snprintf(path, sizeof path, "/containers/%s?force=true", esc);
	free(esc);
	return podman_request(pc, "DELETE", path, NULL, NULL, NULL, 0, err);
}

static int
podman_stats(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out,
	     struct berr *err)
{
	struct podman_conn *pc = pconn(c);
	json_object *reply = NULL, *arr;
	size_t i, k, qlen = 0, qcap = 256;
	char *q = malloc(qcap);
	int any = 0;

	if (q == NULL)
		return berr_set(err, ENOMEM, "podman: out of memory");
	qlen = (size_t)snprintf(q, qcap, "/containers/stats?stream=false");
	for (i = 0; i < n; i++) {
		char *esc;
		size_t need;

		if (v[i]->state != INST_RUNNING && v[i]->state != INST_PAUSED)
			continue;
		esc = podman_escape(pc, v[i]->priv ? v[i]->priv : v[i]->name);
		need = qlen + strlen(esc) + 16;
		if (need > qcap) {
			char *nq;

			qcap = need * 2;
			nq = realloc(q, qcap);
			if (nq == NULL) {
				free(esc);
				free(q);
				return berr_set(err, ENOMEM, "podman: out of memory");
			}
			q = nq;
		}
		qlen += (size_t)snprintf(q + qlen, qcap - qlen, "&containers=%s", esc);
		free(esc);
		any = 1;
	}
	if (!any) {
		free(q);
		return 0;
	}
	if (qlen >= 2000) {
		/* Too many for one URL: ask for all running containers. */
		snprintf(q, qcap, "/containers/stats?stream=false");
	}
	if (podman_request(pc, "GET", q, NULL, NULL, &reply, 0, err) < 0) {
		free(q);
		return -1;
	}
	free(q);
	arr = jget(reply, "Stats", json_type_array);
	for (k = 0; arr != NULL && k < json_object_array_length(arr); k++) {
		json_object *s = json_object_array_get_idx(arr, k);
		const char *id = jstr(s, "ContainerID");
		const char *name = jstr(s, "Name");

		for (i = 0; i < n; i++) {
			if (!((id && v[i]->priv && strcmp(id, v[i]->priv) == 0) ||
			      (name && strcmp(name, v[i]->name) == 0)))
				continue;
			out[i].valid = 1;
			out[i].cpu_time_ns = (uint64_t)jint(s, "CPUNano");
			out[i].vcpus = v[i]->vcpus;
			out[i].mem_used_kib = (uint64_t)jint(s, "MemUsage") / 1024;
			out[i].mem_total_kib = (uint64_t)jint(s, "MemLimit") / 1024;
			out[i].net_rx_bytes = (uint64_t)jint(s, "NetInput");
			out[i].net_tx_bytes = (uint64_t)jint(s, "NetOutput");
			out[i].blk_rd_bytes = (uint64_t)jint(s, "BlockInput");
			out[i].blk_wr_bytes = (uint64_t)jint(s, "BlockOutput");
		}
	}
	json_object_put(reply);
	return 0;
}

static int
podman_info(struct instance *inst, json_object **out, struct berr *err)
{
	struct podman_conn *pc = pconn(inst->conn);
	json_object *o = NULL, *r, *state, *config;

	if (podman_inspect(pc, inst->priv ? inst->priv : inst->name, &o, err) < 0)
		return -1;
	state = jget(o, "State", json_type_object);
	config = jget(o, "Config", json_type_object);
	r = json_object_new_object();
	if (jstr(o, "Id"))
		json_object_object_add(r, "id", json_object_new_string(jstr(o, "Id")));
	if (jstr(o, "ImageName"))
		json_object_object_add(r, "image", json_object_new_string(jstr(o, "ImageName")));
	if (jget(config, "Cmd", json_type_array))
		json_object_object_add(r, "command", json_object_get(jget(config, "Cmd", json_type_array)));
	json_object_object_add(r, "pid", json_object_new_int64(jint(state, "Pid")));
	json_object_object_add(r, "exit_code", json_object_new_int64(jint(state, "ExitCode")));
	if (jstr(state, "Status"))
		json_object_object_add(r, "podman_state", json_object_new_string(jstr(state, "Status")));
	json_object_object_add(r, "uri", json_object_new_string(inst->conn->uri));
	json_object_put(o);
	*out = r;
	return 0;
}

static int
podman_exec(struct instance *inst, char *const argv[], int tty, int *status, struct berr *err)
{
	struct podman_conn *pc = pconn(inst->conn);
	json_object *body, *cmd, *reply = NULL, *info = NULL;
	const char *exec_id;
	char path[512], *esc, *eid = NULL;
	size_t i;
	int r;

	body = json_object_new_object();
	cmd = json_object_new_array();
	for (i = 0; argv[i] != NULL; i++)
		json_object_array_add(cmd, json_object_new_string(argv[i]));
	json_object_object_add(body, "Cmd", cmd);
	json_object_object_add(body, "AttachStdout", json_object_new_boolean(1));
	json_object_object_add(body, "AttachStderr", json_object_new_boolean(1));
	json_object_object_add(body, "Tty", json_object_new_boolean(tty));
	esc = podman_escape(pc, inst->priv ? inst->priv : inst->name);
	snprintf(path, sizeof path, "/containers/%s/exec", esc);
	free(esc);
	r = podman_request(pc, "POST", path, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
			   NULL, &reply, 0, err);
	json_object_put(body);
	if (r < 0)
		return -1;
	exec_id = jstr(reply, "Id");
	if (exec_id == NULL) {
		json_object_put(reply);
		return berr_set(err, BERR_PROTO, "podman: exec create reply has no Id");
	}
	eid = podman_escape(pc, exec_id);
	json_object_put(reply);
	snprintf(path, sizeof path, "/exec/%s/start", eid);
	fflush(stdout);
	/* With a TTY the output is raw; without, it is multiplexed. */
	r = podman_request(pc, "POST", path, tty ? "{\"Detach\":false,\"Tty\":true}"
						 : "{\"Detach\":false,\"Tty\":false}",
			   NULL, NULL, tty ? 2 : 1, err);
	if (r < 0) {
		free(eid);
		return -1;
	}
	snprintf(path, sizeof path, "/exec/%s/json", eid);
	free(eid);
	if (podman_request(pc, "GET", path, NULL, NULL, &info, 0, err) < 0)
		return -1;
	*status = (int)jint(info, "ExitCode");
	json_object_put(info);
	return 0;
}

/* The console: the attach endpoint upgrades the HTTP connection to a raw
 * stream.  Containers
 * created with terminal = true give a raw byte stream; others interleave
 * 8-byte frame headers with the output.  (libcurl cannot hand over a
 * hijacked connection, so this one request is written by hand.) */
static int
podman_console_open(struct instance *inst, int *fd_out, struct berr *err)
{
	struct podman_conn *pc = pconn(inst->conn);
	const char *id = inst->priv ? inst->priv : inst->name;
	char req[1024], hdr[4096], *esc;
	struct sockaddr_un sun;
	size_t hlen = 0;
	int fd, n;

	if (strlen(pc->sock) >= sizeof sun.sun_path)
		return berr_set(err, BERR_INVALID, "podman: socket path too long");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_errno(err, "podman: socket");
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, pc->sock);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		berr_errno(err, "podman: connecting to %s", pc->sock);
		close(fd);
		return -1;
	}
	esc = podman_escape(pc, id);
	n = snprintf(req, sizeof req,
		     "POST /v4.0.0/libpod/containers/%s/attach?stream=true&stdin=true&stdout=true&stderr=true HTTP/1.1\r\n"
		     "Host: podman\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n",
		     esc);
	free(esc);
	if (n < 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
		close(fd);
		return berr_errno(err, "podman: sending the attach request");
	}
	/* Read the reply head byte by byte: what follows is console output. */
	while (hlen < sizeof hdr - 1) {
		ssize_t r = read(fd, hdr + hlen, 1);

		if (r <= 0) {
			close(fd);
			return berr_set(err, BERR_PROTO, "podman: attach: connection closed in the reply head");
		}
		hlen++;
		if (hlen >= 4 && memcmp(hdr + hlen - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	hdr[hlen] = '\0';
	if (strncmp(hdr, "HTTP/1.1 101", 12) != 0 && strncmp(hdr, "HTTP/1.1 200", 12) != 0) {
		char *eol = strstr(hdr, "\r\n");

		if (eol)
			*eol = '\0';
		close(fd);
		return berr_set(err, BERR_REMOTE, "podman: attach to `%s' refused: %s", inst->name, hdr);
	}
	*fd_out = fd;
	return 0;
}

static void
podman_free_priv(struct instance *inst)
{
	free(inst->priv);
	inst->priv = NULL;
}

static const struct backend_ops podman_backend_ops = {
	.name = "podman",
	.description = "containers of a Podman service (Engine API over a unix socket)",
	.abi_version = BERTH_BACKEND_ABI,
	.open = podman_open,
	.close = podman_close,
	.probe = podman_probe,
	.host = podman_host,
	.host_info = podman_host_info,
	.list = podman_list,
	.get = podman_get,
	.define = podman_define,
	.start = podman_start,
	.shutdown = podman_shutdown,
	.kill = podman_kill,
	.pause = podman_pause,
	.resume = podman_resume,
	.destroy = podman_destroy,
	.undefine = podman_undefine,
	.stats = podman_stats,
	.exec = podman_exec,
	.console_open = podman_console_open,
	.free_priv = podman_free_priv,
	.info = podman_info,
};

const struct backend_ops *
berth_plugin_init(void)
{
	return &podman_backend_ops;
}
