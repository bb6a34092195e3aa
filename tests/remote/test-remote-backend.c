/*
 * test-remote-backend.c - the remote backend's ops against a real
 * `berth proxy' started through exec: URIs (libvirt's test driver and a
 * fake kvm VM inside it): list, info, pause/resume with events, stats,
 * host_info, define/undefine, consoles (echo and a 4 MiB flood), and the
 * failures: a proxy killed mid-session, junk after the banner, junk in the
 * middle of a session, a proxy that stops answering.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/remote/remote.h"
#include "core/backend.h"
#include "core/dirs.h"
#include "core/loop.h"
#include "core/session.h"
#include "core/util.h"
#include "tap.h"

extern const struct backend_ops remote_backend_ops;

#define FLOOD_BYTES (4 * 1024 * 1024)

static struct session *s;

/* ---- events seen on the session's bus ---- */
#define MAX_EVENTS 256
static struct {
	char *instance, *type, *state, *backend;
} events[MAX_EVENTS];
static int nevents;

static void
on_bus(const struct berth_event *ev, void *arg)
{
	(void)arg;
	if (nevents >= MAX_EVENTS)
		return;
	events[nevents].instance = xstrdup(ev->instance ? ev->instance : "");
	events[nevents].type = xstrdup(ev->type ? ev->type : "");
	events[nevents].state = xstrdup(ev->state ? ev->state : "");
	events[nevents].backend = xstrdup(ev->backend ? ev->backend : "");
	nevents++;
}

static int
wait_event(int from, const char *inst, const char *state)
{
	int64_t end = now_ms() + 5000;
	int i;

	for (;;) {
		for (i = from; i < nevents; i++)
			if (strcmp(events[i].instance, inst) == 0 && strcmp(events[i].type, "state") == 0 &&
			    strcmp(events[i].state, state) == 0 && strcmp(events[i].backend, "remote") == 0)
				return 1;
		if (now_ms() > end)
			return 0;
		loop_run_once(s->loop, 50);
	}
}

static struct instance *
find(struct inst_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->name, name) == 0)
			return l->v[i];
	return NULL;
}

/* ---- a fake berth-vmm console socket served by a child process ---- */

/* Serve one connection on path: "hello\n" then echo, or (flood) FLOOD_BYTES
 * of a pattern.  Returns the child's pid. */
static pid_t
console_server(const char *path, int flood)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	strcpy(sa.sun_path, path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
		perror("console server");
		exit(99);
	}
	pid = fork();
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);
		char buf[4096];
		ssize_t n;

		if (c < 0)
			_exit(1);
		if (flood) {
			size_t sent = 0, i;

			while (sent < FLOOD_BYTES) {
				for (i = 0; i < sizeof buf; i++)
					buf[i] = (char)('a' + (sent + i) % 26);
				n = write(c, buf, sizeof buf);
				if (n <= 0)
					_exit(2);
				sent += (size_t)n;
			}
			close(c);
			_exit(0);
		}
		if (write(c, "hello\n", 6) != 6)
			_exit(2);
		while ((n = read(c, buf, sizeof buf)) > 0)
			if (write(c, buf, (size_t)n) != n)
				_exit(3);
		_exit(n == 0 ? 0 : 4);
	}
	close(lfd);
	return pid;
}

/* Read from fd (running the session loop meanwhile) until `want' bytes
 * arrived or timeout_ms passed.  Returns the count. */
static size_t
read_n(int fd, char *buf, size_t want, int timeout_ms, int *eof)
{
	int64_t end = now_ms() + timeout_ms;
	size_t got = 0;

	*eof = 0;
	fd_set_nonblock(fd, 1);
	while (got < want && now_ms() < end) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			*eof = 1;
			break;
		}
		loop_run_once(s->loop, 20);
	}
	return got;
}

static void
write_fake_vm(const char *name)
{
	const char *data = getenv("BERTH_DATA_DIR"), *run = getenv("BERTH_RUN_DIR");
	char *dir = xasprintf("%s/vm", data), *def = xasprintf("%s/vm/%s.json", data, name);
	char *rdir = xasprintf("%s/vm/%s", run, name);
	char *text = xasprintf("{\"name\":\"%s\",\"kernel\":\"/nonexistent\",\"memory_mib\":64,\"vcpus\":1}",
			       name);
	struct berr e = { 0 };

	mkdir_p(dir, 0755, &e);
	mkdir_p(rdir, 0755, &e);
	atomic_write_file(def, text, strlen(text), 0644, &e);
	free(dir);
	free(def);
	free(rdir);
	free(text);
}

static void
test_console(void)
{
	char *path = xasprintf("%s/vm/fake/console.sock", getenv("BERTH_RUN_DIR"));
	char *fpath = xasprintf("%s/vm/flood/console.sock", getenv("BERTH_RUN_DIR"));
	pid_t echo_pid = console_server(path, 0), flood_pid = console_server(fpath, 1);
	struct instance *inst = NULL;
	struct berr e = { 0 };
	char buf[64], *big;
	int fd = -1, eof, st;
	size_t got, i, bad = 0;

	ok(session_resolve(s, "fake", &inst, &e) == 0, "the fake kvm VM is found through the proxy");
	if (inst == NULL) {
		printf("#   %s\n", e.msg);
		goto out;
	}
	ok(inst->backend->console_open(inst, &fd, &e) == 0, "console_open on a remote kvm VM");
	instance_free(inst);
	inst = NULL;
	if (fd < 0) {
		printf("#   %s\n", e.msg);
		goto out;
	}
	got = read_n(fd, buf, 6, 5000, &eof);
	ok(got == 6 && memcmp(buf, "hello\n", 6) == 0, "console output arrives through the channel");
	ok(write(fd, "ping\r\n", 6) == 6, "write to the console fd");
	got = read_n(fd, buf, 6, 5000, &eof);
	ok(got == 6 && memcmp(buf, "ping\r\n", 6) == 0, "console input reaches the instance and echoes back");
	close(fd);
	/* The proxy closes its side: the echo server sees EOF and exits 0. */
	{
		int64_t end = now_ms() + 5000;
		pid_t r = 0;

		while ((r = waitpid(echo_pid, &st, WNOHANG)) == 0 && now_ms() < end)
			loop_run_once(s->loop, 20);
		ok(r == echo_pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "closing the console closes it on the remote side");
		if (r == 0) {
			kill(echo_pid, SIGKILL);
			waitpid(echo_pid, &st, 0);
		}
		echo_pid = 0;
	}

	/* A flood of 4 MiB arrives whole and in order, then EOF. */
	ok(session_resolve(s, "flood", &inst, &e) == 0 && inst->backend->console_open(inst, &fd, &e) == 0,
	   "console_open on the flooding VM");
	instance_free(inst);
	inst = NULL;
	big = xmalloc(FLOOD_BYTES + 1);
	got = read_n(fd, big, FLOOD_BYTES + 1, 30000, &eof);
	for (i = 0; i < got; i++)
		if (big[i] != (char)('a' + i % 26))
			bad++;
	is_int(got, FLOOD_BYTES, "every flooded byte arrives");
	is_int(bad, 0, "flooded bytes arrive in order, unchanged");
	if (!eof)
		got = read_n(fd, big, 1, 5000, &eof);
	ok(eof, "the console's end reaches the front-end as EOF");
	free(big);
	close(fd);
	waitpid(flood_pid, &st, 0);
	flood_pid = 0;
out:
	if (echo_pid > 0) {
		kill(echo_pid, SIGKILL);
		waitpid(echo_pid, &st, 0);
	}
	if (flood_pid > 0) {
		kill(flood_pid, SIGKILL);
		waitpid(flood_pid, &st, 0);
	}
	free(path);
	free(fpath);
}

/* base64 and URIs: the parts that need no proxy. */
static void
test_pieces(void)
{
	static const char *const bad_b64[] = { "A", "AB=C", "A===", "!!!!", "AAA\n", "=AAA" };
	struct remote_target t;
	struct berr e = { 0 };
	unsigned char all[256], *dec = NULL;
	char *enc, *cmd, **argv;
	size_t i, len, n;
	int dashdash = -1, hostpos = -1;

	for (i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	for (n = 0; n <= 4; n++) {
		enc = remote_b64_encode(all + 250 - n, n + 3);
		ok(remote_b64_decode(enc, strlen(enc), &dec, &len) == 0 && len == n + 3 &&
			   memcmp(dec, all + 250 - n, len) == 0,
		   "base64 round trip (every padding)");
		free(enc);
		free(dec);
		dec = NULL;
	}
	enc = remote_b64_encode("hello", 5);
	is_str(enc, "aGVsbG8=", "base64 of hello");
	free(enc);
	for (i = 0; i < sizeof bad_b64 / sizeof bad_b64[0]; i++) {
		ok(remote_b64_decode(bad_b64[i], strlen(bad_b64[i]), &dec, &len) < 0,
		   "malformed base64 is refused");
		free(dec);
		dec = NULL;
	}

	ok(remote_target_parse("ssh://alice@node2:2222?berth=/opt/b%27q/berth&env=BERTH_RUN_DIR=/x%20y&connect=qemu:///system&name=n2&timeout=7",
			       &t, &e) == 0, "parse an ssh URI with every parameter");
	is_str(t.user, "alice", "user");
	is_str(t.host, "node2", "host");
	is_str(t.port, "2222", "port");
	is_str(t.label, "n2", "name=");
	is_int(t.timeout_ms, 7000, "timeout=");
	cmd = remote_target_command(&t);
	is_str(cmd, "env 'BERTH_RUN_DIR=/x y' '/opt/b'\\''q/berth' '--connect' 'qemu:///system' 'proxy'",
	       "the remote command is quoted for the remote shell");
	free(cmd);
	argv = remote_target_argv(&t);
	for (i = 0; argv[i] != NULL; i++) {
		if (strcmp(argv[i], "--") == 0 && dashdash < 0)
			dashdash = (int)i;
		if (strcmp(argv[i], "node2") == 0)
			hostpos = (int)i;
	}
	is_str(argv[0], "ssh", "ssh is run");
	ok(dashdash > 0 && hostpos == dashdash + 1, "the host follows `--' (never read as an option)");
	remote_argv_free(argv);
	remote_target_free(&t);
	ok(remote_target_parse("ssh://[::1]:22", &t, &e) == 0 && strcmp(t.host, "::1") == 0,
	   "an IPv6 host in brackets");
	remote_target_free(&t);
	ok(remote_target_parse("ssh://-oProxyCommand=x", &t, &e) < 0, "a host that looks like an option is refused");
	ok(remote_target_parse("ssh://a;b", &t, &e) < 0, "a host with shell characters is refused");
	ok(remote_target_parse("ssh://h:99999", &t, &e) < 0, "a bad port is refused");
	ok(remote_target_parse("ssh://h?env=1X=y", &t, &e) < 0, "a bad env= name is refused");
	ok(remote_target_parse("ssh://h?x=1", &t, &e) < 0 && strstr(e.msg, "unknown URI parameter") != NULL,
	   "an unknown parameter is refused");
	ok(remote_target_parse("ssh://h?berth=%zz", &t, &e) < 0, "bad percent-encoding is refused");
	ok(remote_target_parse("ssh://h/path", &t, &e) < 0, "a path is refused");
	ok(remote_target_parse("exec:", &t, &e) < 0, "exec: without a command is refused");
	ok(remote_target_parse("exec:true", &t, &e) == 0 && t.is_exec && strcmp(t.command, "true") == 0,
	   "exec:COMMAND");
	remote_target_free(&t);
	ok(remote_target_parse(NULL, &t, &e) < 0, "no URI: a clear error");
}

static int
fresh_session(void)
{
	struct berr e = { 0 };

	session_free(s);
	s = NULL;
	return session_new(&s, &e);
}

int
main(void)
{
	const char *berth = getenv("BERTH"), *tmp = getenv("BERTH_TEST_TMP");
	char host[256] = "", *uri, *pidfile;
	struct berr e = { 0 };
	struct inst_list l = { 0 };
	struct instance *inst, *t = NULL;
	json_object *o = NULL, *v;
	int from, pid = 0;
	int64_t t0;
	FILE *f;

	if (berth == NULL || access(berth, X_OK) < 0 || tmp == NULL || getenv("BERTH_RUN_DIR") == NULL) {
		printf("1..0 # SKIP needs $BERTH, $BERTH_TEST_TMP and private BERTH_* dirs (run through make check)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	gethostname(host, sizeof host - 1);
	test_pieces();
	ok(backend_register(&remote_backend_ops, &e) == 0, "register the remote backend");
	write_fake_vm("fake");
	write_fake_vm("flood");
	pidfile = xasprintf("%s/proxy.pid", tmp);
	uri = xasprintf("exec:echo $$ >'%s'; exec '%s' --connect test:///default proxy", pidfile, berth);
	ok(session_new(&s, &e) == 0, "session");

	/* ---- connect and list ---- */
	ok(session_connect(s, "remote", uri, &e) == 0, "connect through exec:berth proxy");
	if (s->nconns == 0) {
		printf("#   %s\n", e.msg);
		return tap_done();
	}
	is_str(conn_host(s->conns[0]), host, "the host label of an exec: connection is the proxy's host name");
	session_list(s, &l);
	is_int(session_failure_count(s), 0, "list through the proxy has no failures");
	inst = find(&l, "test");
	ok(inst != NULL, "libvirt's test domain is listed through the proxy");
	if (inst != NULL) {
		is_str(inst->backend->name, "remote", "its backend is remote");
		is_str(inst->host, host, "its host is the remote host's label");
		is_str(inst_state_name(inst->state), "running", "it is running");
		is_int(inst->vcpus, 2, "vCPUs come across");
		is_int(inst->memory_kib, 2097152, "memory comes across");
	}
	inst = find(&l, "fake");
	ok(inst != NULL && inst->state == INST_STOPPED, "the fake kvm VM is listed, stopped");
	inst_list_clear(&l);

	/* ---- info ---- */
	ok(session_resolve(s, "test", &t, &e) == 0, "resolve test");
	ok(t != NULL && instance_info_json(t, &o, &e) == 0, "info through the proxy");
	if (o != NULL) {
		ok(json_object_object_get_ex(o, "remote_backend", &v) &&
			   strcmp(json_object_get_string(v), "libvirt") == 0,
		   "info names the remote backend (libvirt)");
		ok(json_object_object_get_ex(o, "backend", &v) &&
			   strcmp(json_object_get_string(v), "remote") == 0,
		   "info keeps backend remote for the local view");
		ok(json_object_object_get_ex(o, "os_type", &v), "info carries the backend's own details");
		json_object_put(o);
		o = NULL;
	}

	/* ---- pause/resume and their events ---- */
	session_enable_events(s);
	evbus_subscribe(s->bus, "*", on_bus, NULL);
	from = nevents;
	ok(t != NULL && instance_do(t, OP_PAUSE, 0, &e) == 0, "pause through the proxy");
	ok(wait_event(from, "test", "paused"), "a `paused' state event comes back from the remote host");
	session_list(s, &l);
	inst = find(&l, "test");
	ok(inst && inst->state == INST_PAUSED, "list shows it paused");
	inst_list_clear(&l);
	ok(t != NULL && instance_do(t, OP_PAUSE, 0, &e) < 0, "pausing a paused domain fails");
	ok(strstr(e.msg, "test") != NULL, "the remote error names the instance");
	printf("#   %s\n", e.msg);
	from = nevents;
	ok(t != NULL && instance_do(t, OP_RESUME, 0, &e) == 0, "resume through the proxy");
	ok(wait_event(from, "test", "running"), "a `running' state event comes back");

	/* ---- stats ---- */
	session_list(s, &l);
	{
		struct inst_stats *samples = xcalloc(l.n + 1, sizeof *samples);
		size_t i;
		int seen = 0;

		session_poll_stats(s, &l, NULL, samples);
		for (i = 0; i < l.n; i++)
			if (strcmp(l.v[i]->name, "test") == 0) {
				seen = 1;
				ok(samples[i].valid, "stats sample of test is valid");
				is_int(samples[i].vcpus, 2, "stats carry vCPUs");
				ok(samples[i].mem_total_kib > 0, "stats carry memory");
				ok(samples[i].ts_ms > 0 && now_ms() - samples[i].ts_ms < 5000 &&
					   now_ms() - samples[i].ts_ms >= 0,
				   "the sample time is on our clock");
			}
		ok(seen, "stats were sampled for test");
		free(samples);
	}
	inst_list_clear(&l);

	/* ---- host_info ---- */
	ok(s->conns[0]->ops->host_info(s->conns[0], &o, &e) == 0, "host_info through the proxy");
	if (o != NULL) {
		ok(json_object_object_get_ex(o, "cpus", &v) && json_object_get_int(v) > 0,
		   "host_info has the remote CPUs");
		ok(json_object_object_get_ex(o, "connections", &v) && json_object_array_length(v) >= 2,
		   "host_info lists the remote connections");
		json_object_put(o);
		o = NULL;
	}

	/* ---- define / undefine ---- */
	{
		struct define_spec spec = {
			.xml = "<domain type='test'><name>made-remotely</name><memory unit='MiB'>64</memory>"
			       "<vcpu>1</vcpu><os><type>hvm</type></os></domain>",
		};
		struct instance *d = NULL;

		ok(s->conns[0]->ops->define(s->conns[0], &spec, &d, &e) == 0, "define from XML through the proxy");
		if (d == NULL)
			printf("#   %s\n", e.msg);
		instance_free(d);
		session_list(s, &l);
		inst = find(&l, "made-remotely");
		ok(inst != NULL && inst->state == INST_STOPPED, "the defined domain is listed, stopped");
		ok(inst != NULL && instance_do(inst, OP_UNDEFINE, 0, &e) == 0, "undefine through the proxy");
		inst_list_clear(&l);
		session_list(s, &l);
		ok(find(&l, "made-remotely") == NULL, "the undefined domain is gone");
		inst_list_clear(&l);
	}

	/* ---- consoles ---- */
	test_console();

	/* ---- the proxy dies mid-session ---- */
	f = fopen(pidfile, "r");
	ok(f != NULL && fscanf(f, "%d", &pid) == 1 && pid > 1, "the proxy's pid");
	if (f)
		fclose(f);
	if (pid > 1)
		kill(pid, SIGKILL);
	t0 = now_ms();
	session_list(s, &l);
	ok(now_ms() - t0 < 5000, "list after the proxy died returns quickly");
	ok(session_failure_count(s) == 1 && strstr(s->failures[0].err.msg, host) != NULL,
	   "the failed list is recorded, naming the host");
	if (s->nfailures > 0) {
		printf("#   %s\n", s->failures[0].err.msg);
		ok(strstr(s->failures[0].err.msg, "lost") != NULL &&
			   strstr(s->failures[0].err.msg, "signal 9") != NULL,
		   "the error says the connection was lost and how the proxy ended");
	}
	inst_list_clear(&l);
	t0 = now_ms();
	ok(t != NULL && instance_do(t, OP_PAUSE, 0, &e) < 0 && strstr(e.msg, "lost") != NULL,
	   "ops on a dead connection fail with the reason");
	ok(now_ms() - t0 < 1000, "...at once");

	/* ---- list brings a lost host back after the retry delay ---- */
	t0 = now_ms();
	while (now_ms() - t0 < 3500)
		loop_run_once(s->loop, 100);
	session_list(s, &l);
	is_int(session_failure_count(s), 0, "a later list reconnects to the host");
	ok(find(&l, "test") != NULL, "...and lists its instances again");
	inst_list_clear(&l);
	from = nevents;
	ok(t != NULL && instance_do(t, OP_PAUSE, 0, &e) == 0, "ops work again after the reconnection");
	ok(wait_event(from, "test", "paused"), "...and events flow again");
	instance_free(t);
	t = NULL;

	/* ---- junk right after the banner ---- */
	fresh_session();
	t0 = now_ms();
	ok(session_connect(s, "remote", "exec:printf '{\"event\":\"berth-proxy\"}\\n'; echo garbage here; sleep 20",
			   &e) < 0, "a peer that answers hello with junk is refused");
	printf("#   %s\n", e.msg);
	ok(strstr(e.msg, "malformed JSON") != NULL || strstr(e.msg, "bad message") != NULL,
	   "...with a protocol error");
	ok(now_ms() - t0 < 5000, "...quickly");

	/* ---- junk in the middle of a session ---- */
	fresh_session();
	ok(session_connect(s, "remote",
			   "exec:printf '{\"event\":\"berth-proxy\"}\\n'; read l; "
			   "printf '{\"id\":0,\"result\":{\"version\":1,\"server\":\"berth-proxy\",\"host\":\"fakehost\"}}\\n'; "
			   "read l; echo 'this is not JSON'; sleep 20",
			   &e) == 0, "a fake proxy completes the handshake");
	session_list(s, &l);
	ok(session_failure_count(s) == 1 && s->nfailures == 1 &&
		   strstr(s->failures[0].err.msg, "fakehost") != NULL &&
		   (strstr(s->failures[0].err.msg, "malformed JSON") != NULL),
	   "junk mid-session fails the list with the host named and a protocol error");
	if (s->nfailures > 0)
		printf("#   %s\n", s->failures[0].err.msg);
	inst_list_clear(&l);

	/* ---- a proxy that stops answering ---- */
	fresh_session();
	setenv("BERTH_REMOTE_TIMEOUT", "2", 1);
	ok(session_connect(s, "remote",
			   "exec:printf '{\"event\":\"berth-proxy\"}\\n'; read l; "
			   "printf '{\"id\":0,\"result\":{\"version\":1,\"server\":\"berth-proxy\",\"host\":\"mute\"}}\\n'; "
			   "sleep 30",
			   &e) == 0, "a mute fake proxy completes the handshake");
	t0 = now_ms();
	session_list(s, &l);
	ok(now_ms() - t0 < 5000, "list on a mute proxy gives up after the timeout");
	ok(s->nfailures == 1 && strstr(s->failures[0].err.msg, "mute") != NULL &&
		   strstr(s->failures[0].err.msg, "no answer") != NULL,
	   "...saying which host did not answer");
	if (s->nfailures > 0)
		printf("#   %s\n", s->failures[0].err.msg);
	inst_list_clear(&l);
	unsetenv("BERTH_REMOTE_TIMEOUT");

	session_free(s);
	free(uri);
	free(pidfile);
	return tap_done();
}
