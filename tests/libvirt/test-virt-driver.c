/*
 * test-virt-driver.c - the libvirt backend against libvirt's in-process test
 * driver (test:///default): connections, listing, every lifecycle
 * transition, stats, events through berth's loop, define from XML and JSON,
 * awkward names, unreachable and silent URIs (open and migrate), the event
 * implementation's ids, and libvirt moving to a new loop after the first
 * is freed while an open given up on is still running.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backends/backends.h"
#include "backends/libvirt/virt.h"
#include "core/loop.h"
#include "core/util.h"
#include "tap.h"

static const struct backend_ops *ops = &libvirt_backend_ops;
static struct loop *loop;

#define MAX_EVENTS 512
static struct {
	char *name, *type, *detail;
	enum inst_state state;
} events[MAX_EVENTS];
static int nevents;

static void
on_event(const struct backend_event *ev, void *arg)
{
	(void)arg;
	if (nevents >= MAX_EVENTS)
		return;
	events[nevents].name = xstrdup(ev->inst_name ? ev->inst_name : "");
	events[nevents].type = xstrdup(ev->type ? ev->type : "");
	events[nevents].detail = xstrdup(ev->detail ? ev->detail : "");
	events[nevents].state = ev->state;
	nevents++;
}

/* Run berth's loop until an event (name, type, state) arrives after index
 * `from`, for at most 3 s.  state INST_STATE_MAX: any. */
static int
wait_event(int from, const char *name, const char *type, enum inst_state state, const char **detail)
{
	int64_t end = now_ms() + 3000;
	int i;

	for (;;) {
		for (i = from; i < nevents; i++) {
			if (strcmp(events[i].name, name) == 0 && strcmp(events[i].type, type) == 0 &&
			    (state == INST_STATE_MAX || events[i].state == state)) {
				if (detail)
					*detail = events[i].detail;
				return 1;
			}
		}
		if (now_ms() >= end)
			break;
		loop_run_once(loop, 50);
	}
	printf("#   no `%s' event for `%s' (state %s); %d events seen:\n", type, name,
	       state == INST_STATE_MAX ? "any" : inst_state_name(state), nevents - from);
	for (i = from; i < nevents; i++)
		printf("#     %s %s %s %s\n", events[i].name, events[i].type, inst_state_name(events[i].state),
		       events[i].detail);
	return 0;
}

static struct instance *
find_in_list(struct bconn *c, const char *name)
{
	struct inst_list l = { 0 };
	struct instance *found = NULL;
	struct berr e = { 0 };
	size_t i;

	if (ops->list(c, &l, &e) < 0) {
		printf("#   list failed: %s\n", e.msg);
		return NULL;
	}
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.v[i]->name, name) == 0) {
			found = l.v[i];
			l.v[i] = NULL;
			break;
		}
	}
	for (i = 0; i < l.n; i++)
		instance_free(l.v[i]);
	free(l.v);
	return found;
}

/* Minimal XML escaping for building test documents. */
static char *
xml_escape(const char *s)
{
	size_t n = 0;
	char *out = xmalloc(strlen(s) * 6 + 1);

	for (; *s; s++) {
		switch (*s) {
		case '<': memcpy(out + n, "&lt;", 4); n += 4; break;
		case '>': memcpy(out + n, "&gt;", 4); n += 4; break;
		case '&': memcpy(out + n, "&amp;", 5); n += 5; break;
		case '\'': memcpy(out + n, "&apos;", 6); n += 6; break;
		case '"': memcpy(out + n, "&quot;", 6); n += 6; break;
		default: out[n++] = *s;
		}
	}
	out[n] = '\0';
	return out;
}

static char *
domain_xml(const char *name)
{
	char *esc = xml_escape(name);
	char *xml = xasprintf("<domain type='test'><name>%s</name><memory unit='MiB'>128</memory>"
			      "<vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os>"
			      "<devices><disk type='file' device='disk'><source file='/tmp/x.img'/>"
			      "<target dev='vda' bus='virtio'/></disk>"
			      "<interface type='network'><mac address='52:54:00:12:34:56'/>"
			      "<source network='default'/></interface></devices></domain>",
			      esc);

	free(esc);
	return xml;
}

static void
test_lifecycle(struct bconn *c)
{
	struct instance *inst;
	struct inst_stats st;
	struct berr e = { 0 };
	const char *detail = NULL;
	int mark, rc;

	inst = find_in_list(c, "test");
	ok(inst != NULL, "list shows the test driver's domain `test'");
	if (inst == NULL)
		return;
	is_str(inst_state_name(inst->state), inst_state_name(INST_RUNNING), "`test' is running");
	ok(inst->vcpus > 0 && inst->memory_kib > 0, "list fills vcpus and memory");
	ok(strlen(inst->uuid) == 36, "list fills the UUID");
	is_str(inst->host, "localhost", "instance host is localhost");
	ok(inst->conn == c && inst->backend == ops, "instance points at its connection and backend");

	rc = ops->stats(c, &inst, 1, &st, &e);
	is_int(rc, 0, "stats of a running domain succeed");
	ok(st.valid, "stats of a running domain are valid");
	ok(st.ts_ms > 0, "stats carry a timestamp");
	ok(st.vcpus > 0 && st.mem_total_kib > 0, "stats carry vcpus and memory");

	mark = nevents;
	rc = ops->pause(inst, &e);
	is_int(rc, 0, "pause succeeds");
	is_int(inst->state, INST_PAUSED, "pause leaves the instance paused");
	ok(wait_event(mark, "test", "state", INST_PAUSED, &detail), "a paused event arrives through the loop");
	is_str(detail, "user", "the paused event says why");

	rc = ops->pause(inst, &e);
	ok(rc < 0 && e.code == BERR_STATE, "pausing a paused domain fails with a state error");
	ok(strstr(e.msg, "pausing domain `test'") != NULL, "the error names the operation and the domain");
	printf("#   %s\n", e.msg);

	mark = nevents;
	is_int(ops->resume(inst, &e), 0, "resume succeeds");
	is_int(inst->state, INST_RUNNING, "resume leaves it running");
	ok(wait_event(mark, "test", "state", INST_RUNNING, NULL), "a resumed event arrives");

	mark = nevents;
	rc = ops->shutdown(inst, 5, 1, &e);
	is_int(rc, 0, "shutdown succeeds");
	if (rc < 0)
		printf("#   %s\n", e.msg);
	is_int(inst->state, INST_STOPPED, "shutdown leaves it stopped");
	ok(wait_event(mark, "test", "state", INST_STOPPED, &detail), "a stopped event arrives");
	is_str(detail, "shutdown", "the stopped event says shutdown");

	rc = ops->stats(c, &inst, 1, &st, &e);
	ok(rc == 0 && !st.valid, "stats of a stopped domain are not valid");

	mark = nevents;
	is_int(ops->start(inst, &e), 0, "start succeeds");
	is_int(inst->state, INST_RUNNING, "start leaves it running");
	ok(wait_event(mark, "test", "state", INST_RUNNING, &detail), "a started event arrives");
	is_str(detail, "booted", "the started event says booted");

	mark = nevents;
	is_int(ops->destroy(inst, &e), 0, "destroy succeeds");
	is_int(inst->state, INST_STOPPED, "destroy leaves it stopped");
	is_str(inst->reason, "destroyed", "the reason is `destroyed'");
	ok(wait_event(mark, "test", "state", INST_STOPPED, &detail), "a destroyed event arrives");
	is_str(detail, "destroyed", "the event says destroyed");

	rc = ops->destroy(inst, &e);
	ok(rc < 0 && e.code == BERR_STATE, "destroying a stopped domain is a state error");

	is_int(ops->start(inst, &e), 0, "start again");
	mark = nevents;
	is_int(ops->kill(inst, 9, &e), 0, "kill succeeds");
	is_int(inst->state, INST_STOPPED, "kill leaves it stopped");
	ok(wait_event(mark, "test", "state", INST_STOPPED, NULL), "a stopped event arrives after kill");
	is_int(ops->start(inst, &e), 0, "start once more");
	instance_free(inst);
}

static void
test_define_xml(struct bconn *c)
{
	struct define_spec spec = { 0 };
	struct instance *inst = NULL, *got = NULL;
	json_object *info = NULL, *v;
	struct berr e = { 0 };
	char *xml = domain_xml("berth-xml");
	int mark = nevents, rc;

	spec.xml = xml;
	rc = ops->define(c, &spec, &inst, &e);
	is_int(rc, 0, "define from XML succeeds");
	if (rc < 0) {
		printf("#   %s\n", e.msg);
		free(xml);
		return;
	}
	is_str(inst->name, "berth-xml", "the defined instance has the XML's name");
	is_int(inst->state, INST_STOPPED, "a defined domain is stopped");
	ok(wait_event(mark, "berth-xml", "defined", INST_STATE_MAX, NULL), "a defined event arrives");

	rc = ops->info(inst, &info, &e);
	is_int(rc, 0, "info succeeds");
	if (rc == 0) {
		ok(json_object_object_get_ex(info, "os_type", &v) && strcmp(json_object_get_string(v), "hvm") == 0,
		   "info has os_type hvm");
		ok(json_object_object_get_ex(info, "persistent", &v) && json_object_get_boolean(v),
		   "info says persistent");
		ok(json_object_object_get_ex(info, "autostart", &v), "info has autostart");
		ok(json_object_object_get_ex(info, "arch", &v) && strcmp(json_object_get_string(v), "x86_64") == 0,
		   "info has the arch from the XML");
		ok(json_object_object_get_ex(info, "disks", &v) && json_object_array_length(v) == 1 &&
		   strcmp(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 0), "source")),
			  "/tmp/x.img") == 0,
		   "info lists the disk with its source");
		ok(json_object_object_get_ex(info, "interfaces", &v) && json_object_array_length(v) == 1 &&
		   strcmp(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 0), "mac")),
			  "52:54:00:12:34:56") == 0,
		   "info lists the interface with its MAC");
		json_object_put(info);
	}

	spec.name = "other-name";
	rc = ops->define(c, &spec, NULL, &e);
	ok(rc < 0 && e.code == BERR_INVALID, "define refuses XML whose name differs from the given name");
	spec.name = NULL;

	mark = nevents;
	is_int(ops->start(inst, &e), 0, "the defined domain starts");
	ok(wait_event(mark, "berth-xml", "state", INST_RUNNING, NULL), "its started event arrives");
	is_int(ops->snapshot(inst, "snap one", &e), 0, "a snapshot can be taken");
	is_int(ops->destroy(inst, &e), 0, "the defined domain is destroyed");

	mark = nevents;
	rc = ops->undefine(inst, &e);
	is_int(rc, 0, "undefine succeeds (with its snapshot)");
	if (rc < 0)
		printf("#   %s\n", e.msg);
	ok(wait_event(mark, "berth-xml", "undefined", INST_STATE_MAX, NULL), "an undefined event arrives");
	rc = ops->get(c, "berth-xml", &got, &e);
	ok(rc < 0 && e.code == BERR_NOTFOUND, "get of an undefined domain is not-found");
	ok(strstr(e.msg, "berth-xml") != NULL, "the not-found error names the domain");
	instance_free(got);
	instance_free(inst);

	spec.xml = "<domain type='test'><name>broken";
	rc = ops->define(c, &spec, NULL, &e);
	ok(rc < 0 && e.code == BERR_INVALID, "malformed XML is refused as invalid");
	printf("#   %s\n", e.msg);
	free(xml);
}

static void
test_define_json(struct bconn *c)
{
	struct define_spec spec = { 0 };
	struct instance *inst = NULL;
	json_object *def, *info = NULL, *v;
	struct berr e = { 0 };
	char *xml = NULL;
	int rc;

	def = json_tokener_parse("{\"name\": \"json <vm> & 'co'\", \"memory_mib\": 96, \"vcpus\": 2,"
				 " \"kernel\": \"/boot/vmlinuz\", \"initrd\": \"/boot/initrd.img\","
				 " \"cmdline\": \"console=ttyS0 quiet\", \"disk\": \"/var/tmp/disk.qcow2\","
				 " \"accel\": \"tcg\"}");
	ok(def != NULL, "the JSON definition parses");
	rc = virt_xml_from_json(def, NULL, "kvm", &xml, &e);
	is_int(rc, 0, "domain XML is built from JSON");
	ok(xml && strstr(xml, "<name>json &lt;vm&gt; &amp; 'co'</name>") != NULL, "the name is escaped in XML");
	ok(xml && strstr(xml, "<domain type=\"qemu\"") != NULL, "accel tcg gives a qemu (TCG) domain");
	ok(xml && strstr(xml, "<kernel>/boot/vmlinuz</kernel>") && strstr(xml, "<initrd>/boot/initrd.img</initrd>") &&
	   strstr(xml, "<cmdline>console=ttyS0 quiet</cmdline>"),
	   "direct kernel boot: kernel, initrd and cmdline");
	ok(xml && strstr(xml, "type=\"qcow2\"") && strstr(xml, "dev=\"vda\""), "the disk is a virtio qcow2 vda");
	ok(xml && strstr(xml, "<console type=\"pty\">"), "a serial console on a pty");
	free(xml);

	spec.json = def;
	rc = ops->define(c, &spec, &inst, &e);
	is_int(rc, 0, "define from JSON succeeds");
	if (rc == 0) {
		is_str(inst->name, "json <vm> & 'co'", "the JSON-defined domain keeps its name");
		is_int(inst->vcpus, 2, "with 2 vcpus");
		is_int(inst->memory_kib, 96 * 1024, "and 96 MiB");
		rc = ops->info(inst, &info, &e);
		ok(rc == 0 && json_object_object_get_ex(info, "kernel", &v) &&
		   strcmp(json_object_get_string(v), "/boot/vmlinuz") == 0,
		   "info shows the kernel");
		json_object_put(info);
		is_int(ops->undefine(inst, &e), 0, "the JSON-defined domain is undefined");
		instance_free(inst);
	} else {
		printf("#   %s\n", e.msg);
	}
	json_object_put(def);

	def = json_tokener_parse("{\"name\": \"nothing\", \"memory_mib\": 64}");
	spec.json = def;
	rc = ops->define(c, &spec, NULL, &e);
	ok(rc < 0 && e.code == BERR_INVALID && strstr(e.msg, "nothing to boot"),
	   "a JSON definition with neither kernel nor disk is refused");
	json_object_put(def);
	def = json_tokener_parse("{\"name\": \"big\", \"kernel\": \"/k\", \"vcpus\": 100000}");
	spec.json = def;
	rc = ops->define(c, &spec, NULL, &e);
	ok(rc < 0 && e.code == BERR_INVALID && strstr(e.msg, "vcpus"), "an out-of-range vcpus count is refused");
	json_object_put(def);
}

static void
test_awkward_names(struct bconn *c)
{
	static const char *const names[] = {
		"with spaces in it",
		"ünïcødé-☃-名前",
		"semi;colon$(touch berth-pwned)`id`|&<>'\"*?",
		"-leading-dash",
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct define_spec spec = { 0 };
		struct instance *inst = NULL, *got = NULL, *listed;
		struct berr e = { 0 };
		char *xml = domain_xml(names[i]);
		char what[256];
		int rc;

		spec.xml = xml;
		rc = ops->define(c, &spec, &inst, &e);
		snprintf(what, sizeof what, "define `%s'", names[i]);
		is_int(rc, 0, what);
		free(xml);
		if (rc < 0) {
			printf("#   %s\n", e.msg);
			continue;
		}
		listed = find_in_list(c, names[i]);
		snprintf(what, sizeof what, "list shows `%s' exactly", names[i]);
		ok(listed != NULL, what);
		instance_free(listed);
		rc = ops->get(c, names[i], &got, &e);
		snprintf(what, sizeof what, "get finds `%s'", names[i]);
		ok(rc == 0 && got && strcmp(got->name, names[i]) == 0, what);
		instance_free(got);
		got = NULL;
		rc = ops->undefine(inst, &e);
		snprintf(what, sizeof what, "undefine `%s'", names[i]);
		is_int(rc, 0, what);
		rc = ops->get(c, names[i], &got, &e);
		snprintf(what, sizeof what, "`%s' is gone after undefine", names[i]);
		ok(rc < 0 && e.code == BERR_NOTFOUND, what);
		instance_free(got);
		instance_free(inst);
	}
	ok(access("berth-pwned", F_OK) != 0, "no shell ever ran a name");
}

static void
test_unreachable(void)
{
	static const char *const uris[] = {
		"test:///nonexistent/berth/file.xml",
		"qemu+unix:///system?socket=/nonexistent/berth/libvirt-sock",
	};
	size_t i;

	for (i = 0; i < sizeof uris / sizeof uris[0]; i++) {
		struct bconn *c = NULL;
		struct berr e = { 0 };
		int64_t t0 = now_ms();
		char what[256];
		int rc;

		rc = ops->open(&c, uris[i], loop, &e);
		snprintf(what, sizeof what, "opening %s fails", uris[i]);
		ok(rc < 0 && c == NULL, what);
		snprintf(what, sizeof what, "the error names %s", uris[i]);
		ok(strstr(e.msg, uris[i]) != NULL, what);
		printf("#   %s\n", e.msg);
		ok(now_ms() - t0 < 5000, "and fails quickly (under 5 s)");
		if (c)
			ops->close(c);
	}
}

/* A daemon that accepts connections but never answers must not hang open():
 * a listening socket nobody accepts on does exactly that. */
static void
test_silent_daemon(void)
{
	const char *tmp = getenv("BERTH_TEST_TMP");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct bconn *c = NULL;
	struct berr e = { 0 };
	char *uri;
	int64_t t0, took;
	int s, rc;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/silent-%d.sock", tmp ? tmp : "/tmp", (int)getpid());
	unlink(sa.sun_path);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 8) < 0) {
		ok(0, "set up a silent socket");
		return;
	}
	uri = xasprintf("qemu+unix:///system?socket=%s", sa.sun_path);
	setenv("BERTH_LIBVIRT_OPEN_TIMEOUT", "2", 1);
	t0 = now_ms();
	rc = ops->open(&c, uri, loop, &e);
	took = now_ms() - t0;
	unsetenv("BERTH_LIBVIRT_OPEN_TIMEOUT");
	ok(rc < 0 && c == NULL, "opening a URI whose daemon never answers fails");
	is_int(e.code, BERR_TIMEOUT, "with a timeout error");
	ok(strstr(e.msg, uri) != NULL, "naming the URI");
	printf("#   %s (after %lld ms)\n", e.msg, (long long)took);
	ok(took >= 1500 && took < 6000, "after the configured 2 s, not forever");
	if (c)
		ops->close(c);
	close(s);
	unlink(sa.sun_path);
	free(uri);
}

/* A listening unix socket nobody accepts on, and a libvirt URI for it. */
static int
silent_socket(const char *name, char **uri)
{
	const char *tmp = getenv("BERTH_TEST_TMP");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s-%d.sock", tmp ? tmp : "/tmp", name, (int)getpid());
	unlink(sa.sun_path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 8) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	*uri = xasprintf("qemu+unix:///system?socket=%s", sa.sun_path);
	return s;
}

static void
silent_close(int s, char *uri)
{
	const char *path = strstr(uri, "socket=") + strlen("socket=");

	close(s);
	unlink(path);
	free(uri);
}

/* Wait (at most timeout_ms) until opens given up on have finished. */
static int
wait_abandoned_done(int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	struct timespec ts = { 0, 20 * 1000000L };

	while (virt_open_abandoned() > 0 && now_ms() < end)
		nanosleep(&ts, NULL);
	return virt_open_abandoned() == 0;
}

/* libvirt's removeHandle/removeTimeout must say -1 for an id they do not
 * know, including one already removed. */
static void
dummy_handle_cb(int watch, int fd, int revents, void *opaque)
{
	(void)watch;
	(void)fd;
	(void)revents;
	(void)opaque;
}

static void
dummy_timeout_cb(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static void
test_event_impl_ids(void)
{
	int sv[2], h, t;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ok(0, "socketpair");
		return;
	}
	is_int(virEventRemoveHandle(987654), -1, "removing an unknown handle id fails");
	is_int(virEventRemoveTimeout(987654), -1, "removing an unknown timeout id fails");
	h = virEventAddHandle(sv[0], VIR_EVENT_HANDLE_READABLE, dummy_handle_cb, NULL, NULL);
	t = virEventAddTimeout(-1, dummy_timeout_cb, NULL, NULL);
	ok(h > 0 && t > 0, "handles and timeouts are added through berth's loop");
	is_int(virEventRemoveHandle(h), 0, "removing a handle succeeds once");
	is_int(virEventRemoveHandle(h), -1, "removing it again fails");
	is_int(virEventRemoveTimeout(t), 0, "removing a timeout succeeds once");
	is_int(virEventRemoveTimeout(t), -1, "removing it again fails");
	is_int(virEventRemoveTimeout(h), -1, "a handle id is not a timeout id");
	loop_run_once(loop, 0);
	close(sv[0]);
	close(sv[1]);
}

struct migrate_run {
	struct instance *inst;
	struct migrate_opts opts;
	struct berr err;
	int rc;
	int done;
};

static void *
migrate_thread(void *arg)
{
	struct migrate_run *m = arg;

	m->rc = ops->migrate(m->inst, &m->opts, &m->err);
	__atomic_store_n(&m->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Migrating to a host whose daemon never answers must fail within the
 * open timeout, not hang the caller. */
static void
test_migrate_silent(struct bconn *c)
{
	struct migrate_run m;
	struct timespec ts = { 0, 20 * 1000000L };
	pthread_t tid;
	int64_t t0, end;
	char *uri = NULL;
	int s, finished;

	memset(&m, 0, sizeof m);
	s = silent_socket("silent-migrate", &uri);
	if (s < 0 || ops->get(c, "test", &m.inst, &m.err) < 0) {
		ok(0, "set up the migration to a silent host");
		return;
	}
	m.opts.to = uri;
	setenv("BERTH_LIBVIRT_OPEN_TIMEOUT", "1", 1);
	t0 = now_ms();
	pthread_create(&tid, NULL, migrate_thread, &m);
	end = t0 + 5000;
	while (!__atomic_load_n(&m.done, __ATOMIC_SEQ_CST) && now_ms() < end)
		nanosleep(&ts, NULL);
	finished = __atomic_load_n(&m.done, __ATOMIC_SEQ_CST);
	ok(finished, "migrating to a host that never answers returns within 5 s");
	/* Unblock a hung open so the thread can be joined either way. */
	silent_close(s, uri);
	pthread_join(tid, NULL);
	unsetenv("BERTH_LIBVIRT_OPEN_TIMEOUT");
	ok(finished && m.rc < 0 && m.err.code == BERR_TIMEOUT, "with a timeout error");
	ok(strstr(m.err.msg, "migrating domain `test'") != NULL, "naming the domain");
	printf("#   %s (after %lld ms)\n", m.err.msg, (long long)(now_ms() - t0));
	instance_free(m.inst);
}

/* After the loop libvirt was joined to is freed, a connection open that was
 * given up on may still finish and touch the event loop; a new session's
 * loop then takes over libvirt's events. */
static void
test_loop_replaced(int silent, char *silent_uri)
{
	struct loop *l2 = loop_new();
	struct bconn *c = NULL;
	struct instance *inst = NULL;
	struct berr e = { 0 };
	int from, rc;

	/* The open given up on in main() now finishes: its daemon hangs up. */
	if (silent >= 0)
		silent_close(silent, silent_uri);
	ok(wait_abandoned_done(5000), "an open given up on finishes after its loop is gone");

	loop = l2;
	rc = ops->open(&c, "test:///default", l2, &e);
	is_int(rc, 0, "libvirt opens again with a new loop");
	if (rc < 0) {
		printf("#   %s\n", e.msg);
		loop_free(l2);
		return;
	}
	ok(virt_conn_of(c)->loop == l2, "the new connection runs in the new loop");
	rc = ops->subscribe_events(c, on_event, NULL, &e);
	is_int(rc, 0, "subscribe to events in the new loop");
	from = nevents;
	if (ops->get(c, "test", &inst, &e) == 0 && ops->pause(inst, &e) == 0) {
		ok(wait_event(from, "test", "state", INST_PAUSED, NULL), "events arrive through the new loop");
		ops->resume(inst, &e);
	} else {
		ok(0, "pause `test' in the new connection");
		printf("#   %s\n", e.msg);
	}
	instance_free(inst);
	ops->close(c);
	loop_free(l2);
	loop = NULL;
}

static void
test_uri_hosts(void)
{
	static const char *const cases[][2] = {
		{ "qemu:///system", "localhost" },
		{ "test:///default", "localhost" },
		{ "qemu+ssh://root@node2/system", "node2" },
		{ "qemu+ssh://node3:2222/system?keyfile=/k", "node3" },
		{ "qemu+tcp://[fe80::1]:16509/system", "fe80::1" },
		{ "qemu+unix:///system?socket=/x/y", "localhost" },
		{ "xen://h.example.org", "h.example.org" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *h = virt_uri_host(cases[i][0]);
		char what[200];

		snprintf(what, sizeof what, "host of %s", cases[i][0]);
		is_str(h, cases[i][1], what);
		free(h);
	}
}

static void
test_host(struct bconn *c)
{
	json_object *hi = NULL, *v;
	struct berr e = { 0 };
	int rc;

	is_str(ops->host(c), "localhost", "host of test:///default is localhost");
	rc = ops->host_info(c, &hi, &e);
	is_int(rc, 0, "host_info succeeds");
	ok(rc == 0 && json_object_object_get_ex(hi, "cpus", &v) && json_object_get_int(v) > 0, "host_info has CPUs");
	ok(rc == 0 && json_object_object_get_ex(hi, "memory_kib", &v) && json_object_get_int64(v) > 0,
	   "host_info has memory");
	ok(rc == 0 && json_object_object_get_ex(hi, "free_memory_kib", &v), "host_info has free memory");
	json_object_put(hi);
}

static void
test_console(struct bconn *c)
{
	struct instance *inst = NULL;
	struct berr e = { 0 };
	int fd = -1, rc;

	if (ops->get(c, "test", &inst, &e) < 0) {
		ok(0, "get `test' for the console");
		return;
	}
	rc = ops->console_open(inst, &fd, &e);
	/* The test driver has no consoles: the error must say so with context;
	 * the real console is proven by libvirtd-qemu.sh. */
	ok(rc == 0 || (e.code == BERR_NOTSUP && strstr(e.msg, "console of domain `test'")),
	   "console_open works or says the driver cannot, naming the domain");
	printf("#   %s\n", rc == 0 ? "console opened" : e.msg);
	if (fd >= 0)
		close(fd);
	instance_free(inst);
}

/* A record as a QEMU domain with two disks and two NICs sends it (the test
 * driver sends only its state): every device summed, balloon memory used,
 * fields of other types and look-alike names left alone. */
static void
test_fill_stats(void)
{
	virTypedParameterPtr p = NULL;
	int n = 0, max = 0;
	struct _virDomainStatsRecord rec;
	struct inst_stats st;
	struct instance *inst = instance_new("rec", INST_VM);

	inst->vcpus = 4;
	inst->memory_kib = 1 << 20;
	virTypedParamsAddInt(&p, &n, &max, "state.state", VIR_DOMAIN_RUNNING);
	virTypedParamsAddULLong(&p, &n, &max, "cpu.time", 123456789ULL);
	virTypedParamsAddUInt(&p, &n, &max, "vcpu.current", 2);
	virTypedParamsAddULLong(&p, &n, &max, "balloon.current", 524288);
	virTypedParamsAddULLong(&p, &n, &max, "balloon.available", 500000);
	virTypedParamsAddULLong(&p, &n, &max, "balloon.unused", 300000);
	virTypedParamsAddUInt(&p, &n, &max, "block.count", 2);
	virTypedParamsAddString(&p, &n, &max, "block.0.name", "vda");
	virTypedParamsAddULLong(&p, &n, &max, "block.0.rd.bytes", 1000);
	virTypedParamsAddULLong(&p, &n, &max, "block.0.wr.bytes", 10);
	virTypedParamsAddULLong(&p, &n, &max, "block.0.rd.reqs", 7);
	virTypedParamsAddULLong(&p, &n, &max, "block.1.rd.bytes", 24);
	virTypedParamsAddULLong(&p, &n, &max, "block.1.wr.reqs", 3);
	virTypedParamsAddULLong(&p, &n, &max, "block.1.rd.times", 999999);
	virTypedParamsAddULLong(&p, &n, &max, "block.x.rd.bytes", 555);
	virTypedParamsAddUInt(&p, &n, &max, "net.count", 2);
	virTypedParamsAddULLong(&p, &n, &max, "net.0.rx.bytes", 100);
	virTypedParamsAddULLong(&p, &n, &max, "net.1.rx.bytes", 50);
	virTypedParamsAddULLong(&p, &n, &max, "net.0.tx.bytes", 9);
	virTypedParamsAddULLong(&p, &n, &max, "net.1.rx.pkts", 4);
	virTypedParamsAddULLong(&p, &n, &max, "net.0.tx.pkts", 5);
	virTypedParamsAddULLong(&p, &n, &max, "net.0.rx.errs", 77);
	memset(&rec, 0, sizeof rec);
	rec.params = p;
	rec.nparams = n;
	memset(&st, 0xff, sizeof st);
	virt_fill_stats(inst, &rec, &st);
	ok(st.valid, "fill_stats: a running domain's record is valid");
	ok(st.cpu_time_ns == 123456789ULL && st.vcpus == 2, "fill_stats: cpu.time and vcpu.current");
	ok(st.mem_total_kib == 524288 && st.mem_used_kib == 200000,
	   "fill_stats: balloon current, used = available - unused");
	ok(st.blk_rd_bytes == 1024 && st.blk_wr_bytes == 10 && st.blk_rd_reqs == 7 && st.blk_wr_reqs == 3,
	   "fill_stats: block bytes and requests summed over both disks, nothing else counted");
	ok(st.net_rx_bytes == 150 && st.net_tx_bytes == 9 && st.net_rx_pkts == 4 && st.net_tx_pkts == 5,
	   "fill_stats: net bytes and packets summed over both NICs");
	virTypedParamsFree(p, n);

	/* A shut-off domain: not valid; no balloon: memory from the instance. */
	p = NULL;
	n = max = 0;
	virTypedParamsAddInt(&p, &n, &max, "state.state", VIR_DOMAIN_SHUTOFF);
	rec.params = p;
	rec.nparams = n;
	virt_fill_stats(inst, &rec, &st);
	ok(!st.valid, "fill_stats: a shut-off domain's record is not valid");
	virTypedParamsFree(p, n);
	p = NULL;
	n = max = 0;
	virTypedParamsAddInt(&p, &n, &max, "state.state", VIR_DOMAIN_PAUSED);
	virTypedParamsAddULLong(&p, &n, &max, "balloon.rss", 4096);
	rec.params = p;
	rec.nparams = n;
	virt_fill_stats(inst, &rec, &st);
	ok(st.valid && st.vcpus == 4 && st.mem_total_kib == (1 << 20) && st.mem_used_kib == 4096 &&
	   st.blk_rd_bytes == 0 && st.net_rx_bytes == 0,
	   "fill_stats: without vcpu/balloon fields, the instance's vCPUs and memory; rss as used");
	virTypedParamsFree(p, n);
	instance_free(inst);
}

int
main(void)
{
	struct bconn *c = NULL, *c2 = NULL, *c3 = NULL;
	struct berr e = { 0 };
	char *silent_uri = NULL;
	int rc, silent;

	loop = loop_new();
	ok(ops->probe(&e) == 0, "probe: libvirt is usable");
	rc = ops->open(&c, "test:///default", loop, &e);
	is_int(rc, 0, "open test:///default");
	if (rc < 0) {
		printf("#   %s\n", e.msg);
		return tap_done();
	}
	is_str(c->uri, "test:///default", "the connection keeps its URI");
	rc = ops->open(&c2, "test:///default", loop, &e);
	is_int(rc, 0, "a second connection opens alongside the first");
	rc = ops->subscribe_events(c, on_event, NULL, &e);
	is_int(rc, 0, "subscribe to events");

	test_fill_stats();
	test_uri_hosts();
	test_host(c);
	test_lifecycle(c);
	test_define_xml(c);
	test_define_json(c);
	test_awkward_names(c);
	test_unreachable();
	test_silent_daemon();
	test_console(c);
	test_event_impl_ids();
	test_migrate_silent(c);

	{
		struct instance *inst = find_in_list(c2, "test");

		ok(inst != NULL, "the second connection still lists `test' after all that");
		instance_free(inst);
	}
	/* Leave an open pending on a silent daemon past the end of this loop. */
	silent = silent_socket("silent-late", &silent_uri);
	setenv("BERTH_LIBVIRT_OPEN_TIMEOUT", "1", 1);
	rc = ops->open(&c3, silent_uri, loop, &e);
	unsetenv("BERTH_LIBVIRT_OPEN_TIMEOUT");
	ok(rc < 0 && e.code == BERR_TIMEOUT && virt_open_abandoned() > 0, "an open is given up on");
	if (c3 != NULL)
		ops->close(c3);
	ops->close(c2);
	ops->close(c);
	loop_free(loop);
	test_loop_replaced(silent, silent_uri);
	for (rc = 0; rc < nevents; rc++) {
		free(events[rc].name);
		free(events[rc].type);
		free(events[rc].detail);
	}
	return tap_done();
}
