/*
 * virt-backend.c - the libvirt backend's ops table and its connections.
 *
 * For: opening and closing libvirt connections (any URI, several at once),
 * the host label and host capacity.  Domain operations live in
 * virt-domain.c, events in virt-event.c, consoles in virt-console.c.
 * Not for: choosing which URIs to open (the session does).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/backends.h"
#include "backends/libvirt/virt.h"
#include "core/loop.h"
#include "core/util.h"

/* Seconds between keepalive probes, and how many may go unanswered before
 * libvirt closes a remote connection (so a dead host is noticed, not waited
 * on forever). */
#define VIRT_KEEPALIVE_INTERVAL 5
#define VIRT_KEEPALIVE_COUNT 3
/* How long virConnectOpen may take before berth gives up on it (a daemon
 * that accepts but never answers, a host that drops packets).  Overridden by
 * $BERTH_LIBVIRT_OPEN_TIMEOUT (seconds). */
#define VIRT_OPEN_TIMEOUT_S 30

/* The host part of a libvirt URI ("qemu+ssh://root@node2:22/system" gives
 * "node2"), or "localhost" when it has none. */
char *
virt_uri_host(const char *uri)
{
	const char *p = strstr(uri, "://"), *end;
	const char *at;

	if (p == NULL)
		return xstrdup("localhost");
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at != NULL)
		p = at + 1;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close != NULL && close > p + 1)
			return xstrndup(p + 1, (size_t)(close - p - 1));
	}
	{
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon != NULL)
			end = colon;
	}
	if (end == p)
		return xstrdup("localhost");
	return xstrndup(p, (size_t)(end - p));
}

static void
virt_on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct virt_conn *vc = opaque;
	static const char *const reasons[] = {
		[VIR_CONNECT_CLOSE_REASON_ERROR] = "connection lost: I/O error",
		[VIR_CONNECT_CLOSE_REASON_EOF] = "connection lost: end of file",
		[VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = "connection lost: keepalive timeout",
		[VIR_CONNECT_CLOSE_REASON_CLIENT] = "connection closed",
	};
	const char *why = "connection lost";
	struct backend_event ev;

	(void)conn;
	if (reason >= 0 && (size_t)reason < sizeof reasons / sizeof reasons[0] && reasons[reason])
		why = reasons[reason];
	vc->closed = 1;
	virt_console_close_all(vc);
	if (vc->ev_cb == NULL)
		return;
	memset(&ev, 0, sizeof ev);
	ev.conn = &vc->base;
	ev.type = "disconnected";
	ev.state = INST_UNKNOWN;
	ev.detail = why;
	vc->ev_cb(&ev, vc->ev_arg);
}

/* virConnectOpen has no timeout of its own, so it runs on a thread that the
 * caller waits for at most the timeout.  A thread given up on finishes in
 * its own time, closes what it opened and frees the shared state.  Such a
 * thread may still call into the event loop after its session is gone:
 * virt-event.c makes that safe. */
struct virt_opener {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *uri;
	virConnectPtr conn;
	struct berr err;
	int done;
	int abandoned;
};

static pthread_mutex_t virt_openers_lock = PTHREAD_MUTEX_INITIALIZER;
static int virt_openers_abandoned;

int
virt_open_abandoned(void)
{
	int n;

	pthread_mutex_lock(&virt_openers_lock);
	n = virt_openers_abandoned;
	pthread_mutex_unlock(&virt_openers_lock);
	return n;
}

static void
virt_opener_free(struct virt_opener *o)
{
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->cond);
	free(o->uri);
	free(o);
}

static void *
virt_opener_thread(void *arg)
{
	struct virt_opener *o = arg;
	virConnectPtr conn = virConnectOpen(o->uri);
	int abandoned;

	if (conn == NULL)
		virt_err(&o->err, "connecting to libvirt at `%s'", o->uri);
	pthread_mutex_lock(&o->lock);
	o->conn = conn;
	o->done = 1;
	abandoned = o->abandoned;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
	if (abandoned) {
		if (conn != NULL)
			virConnectClose(conn);
		virt_reset_error();
		virt_opener_free(o);
		pthread_mutex_lock(&virt_openers_lock);
		virt_openers_abandoned--;
		pthread_mutex_unlock(&virt_openers_lock);
	}
	return NULL;
}

static int
virt_open_timeout_s(void)
{
	const char *s = getenv("BERTH_LIBVIRT_OPEN_TIMEOUT");
	int v = s ? atoi(s) : 0;

	return v > 0 ? v : VIRT_OPEN_TIMEOUT_S;
}

virConnectPtr
virt_connect(const char *uri, struct berr *err)
{
	struct virt_opener *o = xcalloc(1, sizeof *o);
	int timeout_s = virt_open_timeout_s();
	struct timespec deadline;
	pthread_condattr_t cattr;
	virConnectPtr conn;
	pthread_attr_t attr;
	pthread_t tid;
	int rc = 0;

	pthread_mutex_init(&o->lock, NULL);
	/* Monotonic: a wall clock set back must not stretch the wait. */
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	o->uri = xstrdup(uri);
	/* Joinable: an opener that answers in time is joined, so its thread-local
	 * state (libxml2's among it) is freed before we go on; one that does not
	 * is detached and cleans up after itself. */
	pthread_attr_init(&attr);
	if (pthread_create(&tid, &attr, virt_opener_thread, o) != 0) {
		/* No thread: open here, without a timeout. */
		pthread_attr_destroy(&attr);
		virt_opener_free(o);
		conn = virConnectOpen(uri);
		if (conn == NULL)
			virt_err(err, "connecting to libvirt at `%s'", uri);
		return conn;
	}
	pthread_attr_destroy(&attr);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&o->lock);
	while (!o->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&o->cond, &o->lock, &deadline);
	if (!o->done) {
		o->abandoned = 1;
		pthread_mutex_lock(&virt_openers_lock);
		virt_openers_abandoned++;
		pthread_mutex_unlock(&virt_openers_lock);
		pthread_mutex_unlock(&o->lock);
		pthread_detach(tid);
		berr_set(err, BERR_TIMEOUT, "connecting to libvirt at `%s': no answer within %d s", uri,
			 timeout_s);
		return NULL;
	}
	pthread_mutex_unlock(&o->lock);
	pthread_join(tid, NULL);
	conn = o->conn;
	if (conn == NULL && err != NULL)
		*err = o->err;
	virt_opener_free(o);
	return conn;
}

static int
virt_open(struct bconn **out, const char *uri, struct loop *loop, struct berr *err)
{
	struct virt_conn *vc;
	virConnectPtr conn;

	*out = NULL;
	if (virt_global_init(err) < 0)
		return -1;
	/* Must happen before the first virConnectOpen of the process. */
	virt_event_init(loop);
	if (uri == NULL || *uri == '\0')
		uri = geteuid() == 0 ? "qemu:///system" : "qemu:///session";
	conn = virt_connect(uri, err);
	if (conn == NULL)
		return -1;

	vc = xcalloc(1, sizeof *vc);
	vc->base.ops = &libvirt_backend_ops;
	vc->base.uri = xstrdup(uri);
	vc->conn = conn;
	vc->host = virt_uri_host(uri);
	vc->loop = virt_event_loop();
	vc->lifecycle_cb = vc->reboot_cb = -1;
	if (vc->loop != NULL) {
		/* 1 means the driver has no keepalive (local drivers): fine. */
		if (virConnectSetKeepAlive(conn, VIRT_KEEPALIVE_INTERVAL, VIRT_KEEPALIVE_COUNT) < 0)
			virt_reset_error();
		if (virConnectRegisterCloseCallback(conn, virt_on_close, vc, NULL) < 0)
			virt_reset_error();
	}
	*out = &vc->base;
	return 0;
}

static void
virt_close(struct bconn *c)
{
	struct virt_conn *vc;

	if (c == NULL)
		return;
	vc = virt_conn_of(c);
	virt_console_close_all(vc);
	virt_unsubscribe_events(vc);
	if (vc->loop != NULL)
		virConnectUnregisterCloseCallback(vc->conn, virt_on_close);
	virConnectClose(vc->conn);
	virt_reset_error();
	virt_times_free(vc);
	free(vc->host);
	free(vc->base.uri);
	free(vc);
}

static int
virt_probe(struct berr *err)
{
	return virt_global_init(err);
}

static const char *
virt_host(struct bconn *c)
{
	return virt_conn_of(c)->host;
}

static void
virt_host_cpu_times(virConnectPtr conn, json_object *obj)
{
	virNodeCPUStatsPtr params;
	int n = 0, i;
	json_object *times;

	if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) < 0 || n <= 0 || n > 64) {
		virt_reset_error();
		return;
	}
	params = xcalloc((size_t)n, sizeof *params);
	if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, params, &n, 0) < 0) {
		virt_reset_error();
		free(params);
		return;
	}
	times = json_object_new_object();
	for (i = 0; i < n; i++) {
		params[i].field[VIR_NODE_CPU_STATS_FIELD_LENGTH - 1] = '\0';
		json_object_object_add(times, params[i].field,
				       json_object_new_int64((int64_t)params[i].value));
	}
	json_object_object_add(obj, "cpu_time_ns", times);
	free(params);
}

static int
virt_host_info(struct bconn *c, json_object **out, struct berr *err)
{
	struct virt_conn *vc = virt_conn_of(c);
	virNodeInfo ni;
	json_object *obj;
	unsigned long long freemem;
	unsigned long ver;
	const char *type;
	char *hostname;

	if (virNodeGetInfo(vc->conn, &ni) < 0)
		return virt_err(err, "reading host information of %s", c->uri);
	obj = json_object_new_object();
	json_object_object_add(obj, "uri", json_object_new_string(c->uri));
	json_object_object_add(obj, "host", json_object_new_string(vc->host));
	json_object_object_add(obj, "cpus", json_object_new_int((int)ni.cpus));
	json_object_object_add(obj, "memory_kib", json_object_new_int64((int64_t)ni.memory));
	json_object_object_add(obj, "cpu_model", json_object_new_string(ni.model));
	json_object_object_add(obj, "mhz", json_object_new_int((int)ni.mhz));
	json_object_object_add(obj, "numa_nodes", json_object_new_int((int)ni.nodes));
	json_object_object_add(obj, "sockets", json_object_new_int((int)ni.sockets));
	json_object_object_add(obj, "cores", json_object_new_int((int)ni.cores));
	json_object_object_add(obj, "threads", json_object_new_int((int)ni.threads));

	/* Drivers differ in what else they offer: take what there is. */
	freemem = virNodeGetFreeMemory(vc->conn);
	if (freemem > 0)
		json_object_object_add(obj, "free_memory_kib", json_object_new_int64((int64_t)(freemem / 1024)));
	else
		virt_reset_error();
	hostname = virConnectGetHostname(vc->conn);
	if (hostname != NULL) {
		json_object_object_add(obj, "hostname", json_object_new_string(hostname));
		free(hostname);
	} else {
		virt_reset_error();
	}
	type = virConnectGetType(vc->conn);
	if (type != NULL)
		json_object_object_add(obj, "driver", json_object_new_string(type));
	else
		virt_reset_error();
	if (virConnectGetVersion(vc->conn, &ver) == 0)
		json_object_object_add(obj, "hypervisor_version", json_object_new_int64((int64_t)ver));
	else
		virt_reset_error();
	if (virConnectGetLibVersion(vc->conn, &ver) == 0)
		json_object_object_add(obj, "libvirt_version", json_object_new_int64((int64_t)ver));
	else
		virt_reset_error();
	virt_host_cpu_times(vc->conn, obj);
	*out = obj;
	return 0;
}

const struct backend_ops libvirt_backend_ops = {
	.name = "libvirt",
	.description = "VMs of libvirtd (QEMU/KVM and others), local or remote",
	.abi_version = BERTH_BACKEND_ABI,
	.open = virt_open,
	.close = virt_close,
	.probe = virt_probe,
	.host = virt_host,
	.host_info = virt_host_info,
	.list = virt_list,
	.get = virt_get,
	.define = virt_define,
	.start = virt_start,
	.shutdown = virt_shutdown,
	.kill = virt_kill,
	.pause = virt_pause,
	.resume = virt_resume,
	.destroy = virt_destroy,
	.undefine = virt_undefine,
	.stats = virt_stats,
	.console_open = virt_console_open,
	.subscribe_events = virt_subscribe_events,
	.migrate = virt_migrate,
	.snapshot = virt_snapshot,
	.free_priv = virt_free_priv,
	.info = virt_info,
};
