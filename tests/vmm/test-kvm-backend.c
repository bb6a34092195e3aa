/*
 * test-kvm-backend.c - the kvm backend's ops table driven directly, as the
 * core's session does: define, start, list, get, stats, console_open,
 * pause/resume with the matching events delivered through the event loop,
 * and the event a subscriber gets when the VMM is killed with -9 (the
 * backend notices the control socket closing).  The spawned VMM inherits
 * none of the caller's descriptors (even high ones), SIGTERM stops it even
 * when its starter ignored SIGTERM; definitions with values of the wrong type are refused.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "backends/backends.h"
#include "core/dirs.h"
#include "core/loop.h"
#include "core/util.h"

struct rec {
	int n;
	char last_type[32];
	enum inst_state last_state;
	char last_detail[256];
};

static void
on_event(const struct backend_event *ev, void *arg)
{
	struct rec *r = arg;

	r->n++;
	snprintf(r->last_type, sizeof r->last_type, "%s", ev->type);
	r->last_state = ev->state;
	snprintf(r->last_detail, sizeof r->last_detail, "%s", ev->detail ? ev->detail : "");
	printf("# event %s %s %s\n", ev->type, inst_state_name(ev->state), r->last_detail);
}

static pid_t
read_pid(const char *path)
{
	char *p = NULL;
	struct berr e;
	pid_t pid = 0;

	if (read_file(path, &p, NULL, 64, &e) == 0)
		pid = (pid_t)atoi(p);
	free(p);
	return pid;
}

/* How many of pid's descriptors lead to a file whose name contains probe,
 * and is descriptor number high open? */
static int
leaked_fds(pid_t pid, const char *probe, int high)
{
	char dir[64], path[384], target[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		ssize_t k;
		if (de->d_name[0] == '.')
			continue;
		if (atoi(de->d_name) == high) {
			printf("# the VMM holds descriptor %d\n", high);
			n++;
			continue;
		}
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		k = readlink(path, target, sizeof target - 1);
		if (k > 0) {
			target[k] = 0;
			if (strstr(target, probe)) {
				printf("# the VMM holds descriptor %s -> %s\n", de->d_name, target);
				n++;
			}
		}
	}
	closedir(d);
	return n;
}

/* A VMM in the middle of exiting, as the kernel tears it down: its
 * accepted connections are reset while the listening socket still exists,
 * then that goes too.  Runs in a child; returns its pid. */
static pid_t
fake_dying_vmm(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ready[2], fd;
	pid_t pid;
	char c;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		int conn;
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		unlink(path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) < 0)
			_exit(1);
		conn = accept(fd, NULL, NULL);
		setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(conn);		/* the client sees a reset */
		usleep(200000);
		_exit(0);		/* now the listener goes: connections are refused */
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	return pid;
}

/* Run the loop until an event with this state arrives (or 10 s pass). */
static int
wait_state(struct loop *l, struct rec *r, enum inst_state st)
{
	int64_t end = now_ms() + 10000;

	while (now_ms() < end) {
		if (r->n && !strcmp(r->last_type, "state") && r->last_state == st)
			return 1;
		loop_run_once(l, 100);
	}
	return 0;
}

int
main(void)
{
	const struct backend_ops *ops = &kvm_backend_ops;
	const char *top = getenv("top_builddir");
	struct loop *l = loop_new();
	struct bconn *c = NULL;
	struct instance *inst = NULL, *got = NULL;
	struct inst_list list = { 0 };
	struct inst_stats st;
	struct berr err = { 0 };
	struct rec rec = { 0 };
	struct define_spec spec = { 0 };
	char *guest, *cmd, buf[4096], *pidfile;
	struct berth_dirs dirs;
	int fd, n = 0;

	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		printf("SKIP: needs read/write /dev/kvm\n");
		return 77;
	}
	if (top == NULL || getenv("BERTH_VMM") == NULL) {
		printf("not ok - run through make check (top_builddir, BERTH_VMM)\n");
		return 1;
	}
	guest = xasprintf("%s/counter.img", getenv("BERTH_TEST_TMP") ? getenv("BERTH_TEST_TMP") : "/tmp");
	cmd = xasprintf("%s/tests/vmm/mkguest counter %s", top, guest);
	ok(system(cmd) == 0, "mkguest counter");

	ok(ops->open(&c, NULL, l, &err) == 0, "open");
	is_str(ops->host(c), "localhost", "host is localhost");

	spec.json = json_object_new_object();
	json_object_object_add(spec.json, "name", json_object_new_string("ev1"));
	json_object_object_add(spec.json, "kernel", json_object_new_string(guest));
	json_object_object_add(spec.json, "memory_mib", json_object_new_int(16));
	ok(ops->define(c, &spec, &inst, &err) == 0, "define");
	if (inst == NULL) {
		printf("# %s\n", err.msg);
		return tap_done();
	}
	is_int(inst->state, INST_STOPPED, "defined VM is stopped");
	is_int(inst->memory_kib, 16384, "memory from the definition");
	ok(uuid_is_valid(inst->uuid), "define gives the VM a UUID");

	/* Descriptors the caller holds without close-on-exec, a low one and
	 * one above 1024, and an ignored SIGTERM (as under nohup). */
	{
		struct rlimit rl;
		char *probe = xasprintf("%s/leak-probe", getenv("BERTH_TEST_TMP") ? getenv("BERTH_TEST_TMP") : "/tmp");
		int pfd = open(probe, O_RDWR | O_CREAT, 0600);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048 && rl.rlim_max >= 2048) {
			rl.rlim_cur = 2048;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		ok(pfd >= 0 && dup2(pfd, 1500) == 1500, "a probe file open at a low descriptor and at 1500");
		free(probe);
	}
	signal(SIGTERM, SIG_IGN);
	ok(ops->start(inst, &err) == 0, "start");
	ok(ops->subscribe_events(c, on_event, &rec, &err) == 0, "subscribe_events");
	ok(ops->get(c, "ev1", &got, &err) == 0 && got->state == INST_RUNNING, "get: running");
	instance_free(got);
	ok(ops->list(c, &list, &err) == 0 && list.n == 1 && list.v[0]->state == INST_RUNNING,
	   "list: one running VM");
	inst_list_clear(&list);

	ok(ops->pause(inst, &err) == 0, "pause");
	ok(wait_state(l, &rec, INST_PAUSED), "a paused state event arrives");
	ok(ops->resume(inst, &err) == 0, "resume");
	ok(wait_state(l, &rec, INST_RUNNING), "a running state event arrives");

	usleep(300000);
	ok(ops->stats(c, &inst, 1, &st, &err) == 0 && st.valid, "stats valid");
	ok(st.cpu_time_ns > 0, "stats: cpu time counted");
	is_int(st.mem_total_kib, 16384, "stats: memory total");

	ok(ops->console_open(inst, &fd, &err) == 0, "console_open");
	for (int64_t end = now_ms() + 5000; now_ms() < end && n < (int)sizeof buf - 1;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;
		if (poll(&p, 1, 100) <= 0)
			continue;
		k = read(fd, buf + n, sizeof buf - 1 - (size_t)n);
		if (k <= 0)
			break;
		n += (int)k;
		buf[n] = 0;
		if (strstr(buf, "tick"))
			break;
	}
	close(fd);
	ok(n > 0 && strstr(buf, "tick") != NULL, "console carries the guest's output");

	dirs_init(&dirs, &err);
	pidfile = xasprintf("%s/vm/ev1/vmm.pid", dirs.run);
	is_int(leaked_fds(read_pid(pidfile), "leak-probe", 1500), 0,
	       "the VMM inherited none of the caller's descriptors");

	/* The VMM dies: the subscriber hears about it from the closed socket. */
	{
		char *p = NULL;
		ok(read_file(pidfile, &p, NULL, 64, &err) == 0, "vmm.pid exists");
		if (p)
			kill((pid_t)atoi(p), SIGKILL);
		free(p);
	}
	ok(wait_state(l, &rec, INST_CRASHED), "killing the VMM is reported to subscribers as a crash");
	got = NULL;
	ok(ops->get(c, "ev1", &got, &err) == 0 && got->state == INST_CRASHED,
	   "a VMM killed with -9 shows as crashed");
	if (got && got->state != INST_CRASHED)
		printf("# state %s, reason %s\n", inst_state_name(got->state), got->reason ? got->reason : "-");
	instance_free(got);
	ok(ops->kill(inst, SIGKILL, &err) < 0 && err.code == BERR_STATE, "kill of a dead VM: not running");
	ok(ops->undefine(inst, &err) == 0, "undefine");
	ok(ops->get(c, "ev1", &got, &err) < 0 && err.code == BERR_NOTFOUND, "gone after undefine");

	instance_free(inst);
	inst = NULL;

	/* SIGTERM stops a VMM even when the berth that started it ignored it. */
	json_object_object_add(spec.json, "name", json_object_new_string("ev2"));
	ok(ops->define(c, &spec, &inst, &err) == 0 && ops->start(inst, &err) == 0, "start ev2");
	{
		char *pf = xasprintf("%s/vm/ev2/vmm.pid", dirs.run);
		pid_t pid = read_pid(pf);
		int gone = 0;
		ok(pid > 0 && kill(pid, SIGTERM) == 0, "SIGTERM sent to ev2's VMM");
		for (int64_t end = now_ms() + 5000; pid > 0 && now_ms() < end && !gone;) {
			usleep(20000);
			gone = kill(pid, 0) < 0;
		}
		ok(gone, "SIGTERM stops the VMM although its starter ignored SIGTERM");
		if (!gone && pid > 0)
			kill(pid, SIGKILL);
		free(pf);
	}
	if (inst)
		ops->undefine(inst, &err);
	instance_free(inst);
	inst = NULL;

	/* A VMM caught while exiting reads as stopped, not as "unknown". */
	json_object_object_add(spec.json, "name", json_object_new_string("ev4"));
	ok(ops->define(c, &spec, &inst, &err) == 0, "define ev4");
	{
		char *dir = xasprintf("%s/vm/ev4", dirs.run), *ctl = xasprintf("%s/ctl.sock", dir);
		pid_t fake;
		mkdir_p(dir, 0700, &err);
		fake = fake_dying_vmm(ctl);
		got = NULL;
		ok(fake > 0 && ops->get(c, "ev4", &got, &err) == 0 && got->state == INST_STOPPED,
		   "a VMM that resets connections while it exits is reported stopped");
		if (got && got->state != INST_STOPPED)
			printf("# state %s, reason %s\n", inst_state_name(got->state), got->reason ? got->reason : "-");
		instance_free(got);
		if (fake > 0)
			waitpid(fake, NULL, 0);
		free(ctl);
		free(dir);
	}
	if (inst)
		ops->undefine(inst, &err);
	instance_free(inst);
	inst = NULL;

	/* Values of the wrong type are refused, not replaced by defaults. */
	json_object_object_add(spec.json, "name", json_object_new_string("ev3"));
	json_object_object_add(spec.json, "memory_mib", json_object_new_string("lots"));
	ok(ops->define(c, &spec, &inst, &err) < 0 && err.code == BERR_INVALID,
	   "a definition with memory_mib \"lots\" is refused");
	printf("# %s\n", err.msg);
	json_object_object_add(spec.json, "memory_mib", json_object_new_int(16));
	json_object_object_add(spec.json, "cmdline", json_object_new_int(5));
	ok(ops->define(c, &spec, &inst, &err) < 0 && err.code == BERR_INVALID,
	   "a definition with a numeric cmdline is refused");
	instance_free(inst);
	json_object_put(spec.json);
	ops->close(c);
	loop_free(l);
	dirs_free(&dirs);
	free(pidfile);
	free(guest);
	free(cmd);
	return tap_done();
}
