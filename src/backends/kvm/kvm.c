/*
 * kvm.c - the kvm backend: berth's own microVMs, one berth-vmm process each.
 *
 * Definitions are JSON files in $BERTH_DATA_DIR/vm/<name>.json (name, kernel,
 * initrd, cmdline, memory_mib, vcpus); running VMs are found from their
 * control sockets in $BERTH_RUN_DIR/vm/<name>/ctl.sock, so a VM started by
 * one berth is found again by the next.  `start` spawns berth-vmm detached
 * (double fork, own session, output to vmm.log in the run directory); every
 * other op is a request on the VM's ctl.sock (see berth-vmm(1)).
 * Not for: running VMs (berth-vmm does that) or front-end policy.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/backends.h"
#include "core/dirs.h"
#include "core/loop.h"
#include "core/proto.h"
#include "core/presence.h"
#include "core/util.h"

#define KVM_CALL_TIMEOUT_MS 5000
#define KVM_START_TIMEOUT_MS 10000
#define KVM_DEFAULT_SHUTDOWN_S 30
#define KVM_MAX_WATCHES 256

struct kvm_watch {
	char *name;
	struct proto_client *client;
	struct kvm_conn *conn;
	/* How the VM ended, from its own last state event: trusted over
	 * vmm.log, which a later start of the same VM rewrites. */
	enum inst_state end_state;
	char *end_reason;
};

struct kvm_conn {
	struct bconn base;
	struct loop *loop;
	char *run_dir;		/* $BERTH_RUN_DIR/vm */
	char *data_dir;		/* $BERTH_DATA_DIR/vm */
	backend_event_cb event_cb;
	void *event_arg;
	int rescan_timer;
	struct presence *seen;	/* what the last rescan found */
	struct kvm_watch *watches[KVM_MAX_WATCHES];
};

static struct kvm_conn *
kconn(struct bconn *c)
{
	return (struct kvm_conn *)c;
}

static char *
vm_path(struct kvm_conn *kc, const char *name, const char *file)
{
	return xasprintf("%s/%s/%s", kc->run_dir, name, file);
}

static char *
def_path(struct kvm_conn *kc, const char *name)
{
	return xasprintf("%s/%s.json", kc->data_dir, name);
}

/* ------------------------------------------------------------ talking to a VMM */

static pid_t vmm_pid(struct kvm_conn *kc, const char *name);

/* Is pid a live process (not gone, not a zombie)? */
static int
pid_alive(pid_t pid)
{
	char path[64], *buf = NULL, *p;
	struct berr e;
	int alive = 0;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_file(path, &buf, NULL, 4096, &e) < 0)
		return 1;
	p = strrchr(buf, ')');
	alive = !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
	free(buf);
	return alive;
}

/* Connect to a VM's ctl.sock.  1 connected, 0 not running (a stale socket
 * of a dead VMM is removed), -1 other error. */
static int
vmm_connect(struct kvm_conn *kc, const char *name, struct proto_client **out, struct berr *err)
{
	char *ctl = vm_path(kc, name, "ctl.sock");
	struct berr e;
	pid_t pid;
	int r;

	berr_clear(&e);
	if (access(ctl, F_OK) < 0) {
		free(ctl);
		return 0;
	}
	/* A VMM that is exiting may close an accepted connection before its
	 * listening socket (the kernel closes descriptors in number order):
	 * the connection is then reset.  Retry briefly until the socket either
	 * answers or refuses, so a dying VMM is not reported as "unknown". */
	for (int tries = 0;; tries++) {
		if (proto_client_connect(ctl, "berth", KVM_CALL_TIMEOUT_MS, out, &e) == 0) {
			free(ctl);
			return 1;
		}
		if ((e.code != ECONNRESET && e.code != EPIPE) || tries >= 50)
			break;
		berr_clear(&e);
		usleep(20000);
	}
	pid = vmm_pid(kc, name);
	if (e.code == ECONNREFUSED || e.code == ENOENT || (pid > 0 && !pid_alive(pid))) {
		/* Nobody listens: the VMM died without cleaning up. */
		char *con = vm_path(kc, name, "console.sock"), *pidf = vm_path(kc, name, "vmm.pid");
		unlink(ctl);
		unlink(con);
		unlink(pidf);
		free(con);
		free(pidf);
		r = 0;
	} else {
		*err = e;
		berr_wrap(err, "connecting to berth-vmm of `%s'", name);
		r = -1;
	}
	free(ctl);
	return r;
}

/* One request to a running VM (args taken).  BERR_STATE when it is not running. */
static int
vmm_call(struct kvm_conn *kc, const char *name, const char *op, json_object *args,
	 json_object **result, struct berr *err)
{
	struct proto_client *pc;
	int r = vmm_connect(kc, name, &pc, err);

	if (r <= 0) {
		json_object_put(args);
		if (r == 0)
			return berr_set(err, BERR_STATE, "vm `%s' is not running", name);
		return -1;
	}
	r = proto_client_call(pc, op, args, KVM_CALL_TIMEOUT_MS, result, err);
	json_object_put(args);
	proto_client_free(pc);
	return r;
}

/* The last line berth-vmm logged about how the VM ended, or NULL. */
static char *
last_end_reason(struct kvm_conn *kc, const char *name)
{
	char *log = vm_path(kc, name, "vmm.log"), *buf = NULL, *reason = NULL, *p, *line;
	size_t len;
	struct berr e;

	if (read_file(log, &buf, &len, 16 << 20, &e) == 0) {
		for (line = buf; line && *line; line = p ? p + 1 : NULL) {
			char *hit;
			p = strchr(line, '\n');
			if (p)
				*p = 0;
			if ((hit = strstr(line, ": VM ")) != NULL) {
				free(reason);
				reason = xstrdup(hit + 5);
			} else if ((hit = strstr(line, "berth-vmm: ")) != NULL) {
				free(reason);
				reason = xstrdup(hit + 11);
			} else if (strstr(line, ": starting: ")) {
				free(reason);
				reason = NULL;
			}
		}
	}
	free(buf);
	free(log);
	return reason;
}

static pid_t
vmm_pid(struct kvm_conn *kc, const char *name)
{
	char *path = vm_path(kc, name, "vmm.pid"), *buf = NULL;
	struct berr e;
	long pid = 0;

	if (read_file(path, &buf, NULL, 64, &e) == 0)
		pid = strtol(buf, NULL, 10);
	free(buf);
	free(path);
	return pid > 1 ? (pid_t)pid : 0;
}

/* ------------------------------------------------------------ instances */

static struct instance *
kvm_instance(struct kvm_conn *kc, const char *name)
{
	struct instance *inst = instance_new(name, INST_VM);

	inst->backend = &kvm_backend_ops;
	inst->conn = &kc->base;
	inst->host = xstrdup("localhost");
	inst->state = INST_STOPPED;
	return inst;
}

static json_object *
read_definition(struct kvm_conn *kc, const char *name, struct berr *err)
{
	char *path = def_path(kc, name), *text = NULL;
	json_object *o = NULL;

	if (read_file(path, &text, NULL, 1 << 20, err) == 0) {
		o = json_tokener_parse(text);
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
			berr_set(err, BERR_INVALID, "definition `%s' is not a JSON object", path);
		}
	}
	free(text);
	free(path);
	return o;
}

static int64_t
jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return def;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static void
apply_definition(struct instance *inst, json_object *def)
{
	inst->vcpus = (int)jint(def, "vcpus", 1);
	inst->memory_kib = (uint64_t)jint(def, "memory_mib", 128) * 1024;
	inst->created = jint(def, "created", 0);
	if (uuid_is_valid(jstr(def, "uuid")))
		snprintf(inst->uuid, sizeof inst->uuid, "%s", jstr(def, "uuid"));
}

/* Fill state and numbers from a running VMM; 0 if it is not running. */
static int
apply_live(struct kvm_conn *kc, struct instance *inst, struct berr *err)
{
	json_object *info = NULL;
	struct berr e;
	const char *st;
	int r;

	berr_clear(&e);
	r = vmm_call(kc, inst->name, "info", NULL, &info, &e);
	if (r < 0) {
		char *why;
		if (e.code != BERR_STATE) {
			instance_set_str(&inst->reason, e.msg);
			inst->state = INST_UNKNOWN;
			return 1;
		}
		why = last_end_reason(kc, inst->name);
		if (why) {
			free(inst->reason);
			inst->reason = why;
			if (strstr(why, "crash") || strstr(why, "error") || strstr(why, "failed"))
				inst->state = INST_CRASHED;
		}
		/* A run directory whose VMM vanished without a word: it was killed. */
		if (why == NULL && vmm_pid(kc, inst->name) == 0) {
			char *d = xasprintf("%s/%s/vmm.log", kc->run_dir, inst->name);
			if (access(d, F_OK) == 0) {
				inst->state = INST_CRASHED;
				instance_set_str(&inst->reason, "berth-vmm died (killed?)");
			}
			free(d);
		}
		return 0;
	}
	st = jstr(info, "state");
	inst->state = st ? inst_state_from_name(st) : INST_UNKNOWN;
	if (inst->state == INST_UNKNOWN && st && !strcmp(st, "created"))
		inst->state = INST_CREATED;
	inst->vcpus = (int)jint(info, "vcpus", inst->vcpus);
	inst->memory_kib = (uint64_t)jint(info, "memory_mib", (int64_t)(inst->memory_kib / 1024)) * 1024;
	inst->started = jint(info, "started", 0);
	free(inst->reason);
	inst->reason = NULL;
	json_object_put(info);
	return 1;
}

static int
list_has(struct inst_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->name, name) == 0)
			return 1;
	return 0;
}

/* The VM a file of the data directory defines ("NAME.json" with a valid
 * NAME), or NULL for any other file. */
static char *
def_file_name(const char *file)
{
	size_t n = strlen(file);
	struct berr e;
	char *name;

	if (n <= 5 || strcmp(file + n - 5, ".json") != 0 || file[0] == '.')
		return NULL;
	name = xstrndup(file, n - 5);
	if (name_is_valid(name, &e) < 0) {
		free(name);
		return NULL;
	}
	return name;
}

static int
kvm_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	struct kvm_conn *kc = kconn(c);
	struct inst_list found = { 0 };
	DIR *d;
	struct dirent *de;

	/* Definitions. */
	if ((d = opendir(kc->data_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *name = def_file_name(de->d_name);
			json_object *def;
			struct berr e;

			if (name == NULL)
				continue;
			if ((def = read_definition(kc, name, &e)) != NULL) {
				struct instance *inst = kvm_instance(kc, name);
				apply_definition(inst, def);
				json_object_put(def);
				inst_list_push(&found, inst);
			}
			free(name);
		}
		closedir(d);
	}
	/* VMs with a run directory (started from a definition or directly). */
	if ((d = opendir(kc->run_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct berr e;
			char *ctl;
			if (de->d_name[0] == '.' || name_is_valid(de->d_name, &e) < 0 ||
			    list_has(&found, de->d_name))
				continue;
			ctl = vm_path(kc, de->d_name, "ctl.sock");
			if (access(ctl, F_OK) == 0)
				inst_list_push(&found, kvm_instance(kc, de->d_name));
			free(ctl);
		}
		closedir(d);
	}
	for (size_t i = 0; i < found.n; i++) {
		struct instance *inst = found.v[i];
		if (apply_live(kc, inst, err) == 0 && !list_has(out, inst->name)) {
			/* Not running and not defined: a dead VMM we just cleaned up. */
			char *def = def_path(kc, inst->name);
			if (access(def, F_OK) < 0) {
				inst->state = INST_CRASHED;
				if (inst->reason == NULL)
					instance_set_str(&inst->reason, "berth-vmm died; stale socket removed");
			}
			free(def);
		}
		inst_list_push(out, inst);
		found.v[i] = NULL;
	}
	free(found.v);
	return 0;
}

static int
kvm_get(struct bconn *c, const char *name, struct instance **out, struct berr *err)
{
	struct kvm_conn *kc = kconn(c);
	json_object *def;
	struct instance *inst;
	struct berr e;
	int live;

	if (name_is_valid(name, err) < 0)
		return -1;
	def = read_definition(kc, name, &e);
	inst = kvm_instance(kc, name);
	if (def) {
		apply_definition(inst, def);
		json_object_put(def);
	}
	live = apply_live(kc, inst, err);
	if (def == NULL && !live) {
		instance_free(inst);
		return berr_set(err, BERR_NOTFOUND, "no kvm vm named `%s'", name);
	}
	*out = inst;
	return 0;
}

/* ------------------------------------------------------------ define / undefine */

static int
kvm_define(struct bconn *c, const struct define_spec *spec, struct instance **out, struct berr *err)
{
	struct kvm_conn *kc = kconn(c);
	json_object *in = spec->json, *def, *old;
	const char *name = spec->name, *kernel, *initrd, *cmdline;
	int64_t mem, vcpus;
	char *path, resolved[PATH_MAX];
	const char *text;
	struct berr e;
	int r;

	if (in == NULL)
		return berr_set(err, BERR_INVALID, "the kvm backend takes a JSON definition, not XML");
	if (name == NULL)
		name = jstr(in, "name");
	if (name == NULL)
		return berr_set(err, BERR_INVALID, "definition has no \"name\"");
	if (name_is_valid(name, err) < 0)
		return -1;
	json_object_object_foreach(in, key, val) {
		static const char *const known[] = { "name", "kernel", "initrd", "cmdline", "memory_mib",
						     "vcpus", "backend", "hugepages", "uuid", NULL };
		int ok = 0;
		for (int i = 0; known[i]; i++)
			ok |= !strcmp(key, known[i]);
		if (!ok)
			return berr_set(err, BERR_INVALID, "unknown key `%s' in a kvm definition", key);
		/* A value of the wrong type is an error, not silently the default. */
		if ((!strcmp(key, "memory_mib") || !strcmp(key, "vcpus")) &&
		    !json_object_is_type(val, json_type_int))
			return berr_set(err, BERR_INVALID, "\"%s\" in a kvm definition must be an integer", key);
		if ((!strcmp(key, "kernel") || !strcmp(key, "initrd") || !strcmp(key, "cmdline") ||
		     !strcmp(key, "name") || !strcmp(key, "backend") || !strcmp(key, "uuid")) &&
		    !json_object_is_type(val, json_type_string))
			return berr_set(err, BERR_INVALID, "\"%s\" in a kvm definition must be a string", key);
	}
	kernel = jstr(in, "kernel");
	if (kernel == NULL)
		return berr_set(err, BERR_INVALID, "definition of `%s' has no \"kernel\" (a string)", name);
	initrd = jstr(in, "initrd");
	cmdline = jstr(in, "cmdline");
	mem = jint(in, "memory_mib", 128);
	vcpus = jint(in, "vcpus", 1);
	if (mem < 2 || mem > 1024 * 1024)
		return berr_set(err, BERR_INVALID, "memory_mib %lld is out of range (2..1048576)", (long long)mem);
	if (vcpus < 1 || vcpus > 64)
		return berr_set(err, BERR_INVALID, "vcpus %lld is out of range (1..64)", (long long)vcpus);

	def = json_object_new_object();
	json_object_object_add(def, "name", json_object_new_string(name));
	if (realpath(kernel, resolved) == NULL) {
		json_object_put(def);
		return berr_errno(err, "kernel `%s'", kernel);
	}
	json_object_object_add(def, "kernel", json_object_new_string(resolved));
	if (initrd) {
		if (realpath(initrd, resolved) == NULL) {
			json_object_put(def);
			return berr_errno(err, "initrd `%s'", initrd);
		}
		json_object_object_add(def, "initrd", json_object_new_string(resolved));
	}
	if (cmdline)
		json_object_object_add(def, "cmdline", json_object_new_string(cmdline));
	json_object_object_add(def, "memory_mib", json_object_new_int64(mem));
	json_object_object_add(def, "vcpus", json_object_new_int64(vcpus));
	{
		json_object *h;
		if (json_object_object_get_ex(in, "hugepages", &h)) {
			if (!json_object_is_type(h, json_type_boolean)) {
				json_object_put(def);
				return berr_set(err, BERR_INVALID, "\"hugepages\" must be true or false");
			}
			json_object_object_add(def, "hugepages", json_object_new_boolean(json_object_get_boolean(h)));
		}
	}
	old = read_definition(kc, name, &e);
	json_object_object_add(def, "created", json_object_new_int64(old ? jint(old, "created", time(NULL)) : time(NULL)));
	{
		/* A redefinition keeps the VM's identity; a new VM gets one. */
		const char *u = jstr(in, "uuid");
		char fresh[37];

		if (u != NULL && !uuid_is_valid(u)) {
			json_object_put(old);
			json_object_put(def);
			return berr_set(err, BERR_INVALID, "\"uuid\" `%s' is not a UUID", u);
		}
		if (u == NULL && old != NULL && uuid_is_valid(jstr(old, "uuid")))
			u = jstr(old, "uuid");
		if (u == NULL) {
			uuid_generate(fresh);
			u = fresh;
		}
		json_object_object_add(def, "uuid", json_object_new_string(u));
	}
	json_object_put(old);

	if (mkdir_p(kc->data_dir, 0700, err) < 0) {
		json_object_put(def);
		return -1;
	}
	path = def_path(kc, name);
	text = json_object_to_json_string_ext(def, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	{
		char *withnl = xasprintf("%s\n", text);	/* end with a newline for humans */
		r = atomic_write_file(path, withnl, strlen(withnl), 0600, err);
		free(withnl);
	}
	free(path);
	json_object_put(def);
	if (r < 0)
		return berr_wrap(err, "storing the definition of `%s'", name);
	if (out)
		return kvm_get(c, name, out, err);
	return 0;
}

static int
kvm_undefine(struct instance *inst, struct berr *err)
{
	struct kvm_conn *kc = kconn(inst->conn);
	char *path = def_path(kc, inst->name);
	int r = 0;

	if (unlink(path) < 0) {
		if (errno == ENOENT)
			r = berr_set(err, BERR_NOTFOUND, "vm `%s' has no stored definition", inst->name);
		else
			r = berr_errno(err, "removing `%s'", path);
	}
	free(path);
	if (r == 0) {
		/* Forget the run directory too unless the VM is still running. */
		struct proto_client *pc;
		struct berr e;
		if (vmm_connect(kc, inst->name, &pc, &e) == 0) {
			char *dir = xasprintf("%s/%s", kc->run_dir, inst->name);
			remove_tree(dir, &e);
			free(dir);
		} else if (pc) {
			proto_client_free(pc);
		}
	}
	return r;
}

/* ------------------------------------------------------------ start */

/* berth-vmm: $BERTH_VMM, else beside this program, else the install dirs. */
static char *
find_vmm(void)
{
	const char *const dirs[] = { BERTH_LIBEXECDIR, BERTH_BINDIR, NULL };

	return find_shipped_file("BERTH_VMM", "berth-vmm", dirs, X_OK);
}

/* Close every descriptor >= from (async-signal-safe: runs between fork
 * and exec). */
static void
close_fds_from(int from)
{
	long max;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (int fd = from; fd < max; fd++)
		close(fd);
}

/* Double fork: berth-vmm runs in its own session, reparented away from us,
 * with stdio on vmm.log, so it outlives this berth.  Returns its pid. */
static pid_t
spawn_detached(const char *vmm, char *const argv[], const char *log, struct berr *err)
{
	int pfd[2];
	pid_t child, vm_pid = 0;
	int status;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return berr_errno(err, "pipe");
	child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return berr_errno(err, "fork");
	}
	if (child == 0) {
		pid_t gc;
		int fd;

		close(pfd[0]);
		setsid();
		gc = fork();
		if (gc != 0) {
			if (gc > 0 && write(pfd[1], &gc, sizeof gc) < 0)
				_exit(1);
			_exit(gc < 0);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		/* Leave no inherited descriptor open in the VMM, however high
		 * (a front-end may hold thousands). */
		close_fds_from(3);
		/* Nor the caller's signal dispositions: exec keeps ignored
		 * signals ignored. */
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(vmm, argv);
		{
			/* Only async-signal-safe calls between fork and exec. */
			static const char msg[] = "berth-vmm: exec failed\n";
			if (write(2, msg, sizeof msg - 1) < 0)
				_exit(127);
		}
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], &vm_pid, sizeof vm_pid) != sizeof vm_pid)
		vm_pid = 0;
	close(pfd[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (vm_pid <= 0)
		return berr_set(err, ECHILD, "could not start berth-vmm");
	return vm_pid;
}

static int
kvm_start(struct instance *inst, struct berr *err)
{
	struct kvm_conn *kc = kconn(inst->conn);
	char *vmm = NULL, *def = def_path(kc, inst->name), *dir = NULL, *log = NULL, *ctl = NULL;
	struct proto_client *pc = NULL;
	int64_t deadline;
	pid_t pid;
	int r = -1;

	if (access(def, F_OK) < 0) {
		berr_set(err, BERR_NOTFOUND, "vm `%s' has no stored definition (define it first)", inst->name);
		goto out;
	}
	r = vmm_connect(kc, inst->name, &pc, err);
	if (r != 0) {
		if (r > 0) {
			proto_client_free(pc);
			berr_set(err, BERR_STATE, "vm `%s' is already running", inst->name);
		}
		r = -1;
		goto out;
	}
	r = -1;
	/* Defined and running VMs are served without /dev/kvm (a VMM started
	 * before a module unload keeps running); only a new one needs it. */
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		berr_errno(err, "opening /dev/kvm");
		goto out;
	}
	vmm = find_vmm();
	if (vmm == NULL) {
		berr_set(err, ENOENT, "berth-vmm not found ($BERTH_VMM, beside berth, %s, %s)",
			 BERTH_LIBEXECDIR, BERTH_BINDIR);
		goto out;
	}
	dir = xasprintf("%s/%s", kc->run_dir, inst->name);
	if (mkdir_p(dir, 0700, err) < 0)
		goto out;
	log = xasprintf("%s/vmm.log", dir);
	ctl = xasprintf("%s/ctl.sock", dir);
	{
		char *argv[] = { "berth-vmm", "--config", def, "--name", inst->name, "--run-dir", dir, NULL };
		pid = spawn_detached(vmm, argv, log, err);
	}
	if (pid < 0)
		goto out;
	/* Wait until it serves ctl.sock, or until it died (then say why). */
	deadline = now_ms() + KVM_START_TIMEOUT_MS;
	for (;;) {
		struct berr e;
		if (access(ctl, F_OK) == 0 &&
		    proto_client_connect(ctl, "berth", 1000, &pc, &e) == 0) {
			proto_client_free(pc);
			r = 0;
			break;
		}
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			char *why = last_end_reason(kc, inst->name);
			berr_set(err, BERR_REMOTE, "berth-vmm exited: %s", why ? why : "see vmm.log");
			free(why);
			break;
		}
		if (now_ms() > deadline) {
			berr_set(err, BERR_TIMEOUT, "berth-vmm did not open %s in time", ctl);
			break;
		}
		usleep(20000);
	}
	if (r == 0) {
		inst->state = INST_RUNNING;
		inst->started = time(NULL);
	}
out:
	free(vmm);
	free(def);
	free(dir);
	free(log);
	free(ctl);
	return r;
}

/* ------------------------------------------------------------ lifecycle ops */

/* Wait until the VMM is gone (its ctl.sock no longer answers). */
static int
wait_gone(struct kvm_conn *kc, const char *name, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	char *ctl = vm_path(kc, name, "ctl.sock");
	int gone = 0;

	while (!gone && now_ms() < deadline && !cancel_requested()) {
		if (access(ctl, F_OK) < 0)
			gone = 1;
		else
			usleep(20000);
	}
	free(ctl);
	return gone;
}

static int
kvm_shutdown(struct instance *inst, int timeout_s, int force_after, struct berr *err)
{
	struct kvm_conn *kc = kconn(inst->conn);
	json_object *args = json_object_new_object();
	int wait = timeout_s >= 0;

	if (timeout_s <= 0)
		timeout_s = KVM_DEFAULT_SHUTDOWN_S;
	json_object_object_add(args, "timeout_s", json_object_new_int(timeout_s));
	json_object_object_add(args, "force", json_object_new_boolean(force_after));
	if (vmm_call(kc, inst->name, "shutdown", args, NULL, err) < 0)
		return -1;
	if (wait && !wait_gone(kc, inst->name, timeout_s * 1000 + 3000)) {
		if (cancel_requested())
			return berr_set(err, ECANCELED, "vm `%s': interrupted while waiting for it to "
					"shut down; berth-vmm goes on with the shutdown", inst->name);
		return berr_set(err, BERR_TIMEOUT, "vm `%s' did not shut down within %d s", inst->name,
				timeout_s);
	}
	return 0;
}

static int
kvm_kill(struct instance *inst, int signo, struct berr *err)
{
	struct kvm_conn *kc = kconn(inst->conn);
	struct berr e;
	pid_t pid;

	berr_clear(&e);
	if (signo == 0 || signo == SIGKILL || signo == SIGTERM) {
		if (vmm_call(kc, inst->name, "kill", NULL, NULL, &e) == 0) {
			wait_gone(kc, inst->name, 5000);
			return 0;
		}
		if (e.code == BERR_STATE) {
			*err = e;
			return -1;
		}
	}
	/* No answer (or another signal): signal the process itself. */
	pid = vmm_pid(kc, inst->name);
	if (pid == 0)
		return berr_set(err, BERR_STATE, "vm `%s' is not running", inst->name);
	if (kill(pid, signo ? signo : SIGKILL) < 0)
		return berr_errno(err, "signalling berth-vmm %d", (int)pid);
	return 0;
}

static int
kvm_destroy(struct instance *inst, struct berr *err)
{
	return kvm_kill(inst, SIGKILL, err);
}

static int
kvm_simple_op(struct instance *inst, const char *op, enum inst_state st, struct berr *err)
{
	if (vmm_call(kconn(inst->conn), inst->name, op, NULL, NULL, err) < 0)
		return -1;
	inst->state = st;
	return 0;
}

static int
kvm_pause(struct instance *inst, struct berr *err)
{
	return kvm_simple_op(inst, "pause", INST_PAUSED, err);
}

static int
kvm_resume(struct instance *inst, struct berr *err)
{
	return kvm_simple_op(inst, "resume", INST_RUNNING, err);
}

static int
kvm_stats(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out, struct berr *err)
{
	struct kvm_conn *kc = kconn(c);

	for (size_t i = 0; i < n; i++) {
		json_object *s = NULL;
		struct berr e;

		memset(&out[i], 0, sizeof out[i]);
		out[i].ts_ms = now_ms();
		out[i].vcpus = v[i]->vcpus;
		out[i].mem_total_kib = v[i]->memory_kib;
		if (vmm_call(kc, v[i]->name, "stats", NULL, &s, &e) < 0)
			continue;
		out[i].valid = 1;
		out[i].cpu_time_ns = (uint64_t)jint(s, "cpu_time_ns", 0);
		out[i].mem_total_kib = (uint64_t)jint(s, "memory_bytes", 0) / 1024;
		out[i].mem_used_kib = (uint64_t)jint(s, "memory_resident_bytes", 0) / 1024;
		{
			json_object *cpus;
			if (json_object_object_get_ex(s, "vcpus", &cpus) &&
			    json_object_is_type(cpus, json_type_array))
				out[i].vcpus = (int)json_object_array_length(cpus);
		}
		json_object_put(s);
	}
	return 0;
}

static int
kvm_console_open(struct instance *inst, int *fd_out, struct berr *err)
{
	struct kvm_conn *kc = kconn(inst->conn);
	char *path = vm_path(kc, inst->name, "console.sock");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		berr_set(err, ENAMETOOLONG, "console socket path `%s' is too long", path);
		free(path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		errno = saved;
		if (errno == ENOENT || errno == ECONNREFUSED)
			berr_set(err, BERR_STATE, "vm `%s' is not running", inst->name);
		else
			berr_errno(err, "connecting to `%s'", path);
		free(path);
		return -1;
	}
	free(path);
	*fd_out = fd;
	return 0;
}

static int
kvm_info(struct instance *inst, json_object **out, struct berr *err)
{
	struct kvm_conn *kc = kconn(inst->conn);
	json_object *o, *live = NULL, *def;
	struct berr e;

	def = read_definition(kc, inst->name, &e);
	o = def ? def : json_object_new_object();
	json_object_object_add(o, "backend", json_object_new_string("kvm"));
	json_object_object_add(o, "run_dir", json_object_new_string(""));
	{
		char *d = xasprintf("%s/%s", kc->run_dir, inst->name);
		json_object_object_add(o, "run_dir", json_object_new_string(d));
		free(d);
	}
	if (vmm_call(kc, inst->name, "info", NULL, &live, &e) == 0) {
		json_object_object_foreach(live, key, val)
			json_object_object_add(o, key, json_object_get(val));
		json_object_put(live);
		if (vmm_call(kc, inst->name, "stats", NULL, &live, &e) == 0)
			json_object_object_add(o, "stats", live);
	} else {
		char *why = last_end_reason(kc, inst->name);
		json_object_object_add(o, "state", json_object_new_string(inst_state_name(inst->state)));
		if (why)
			json_object_object_add(o, "last_exit", json_object_new_string(why));
		free(why);
	}
	*out = o;
	return 0;
}

/* ------------------------------------------------------------ events */

static void watch_free(struct kvm_watch *w);

static void
watch_on_event(struct proto_client *pc, json_object *ev, void *arg)
{
	struct kvm_watch *w = arg;
	struct kvm_conn *kc = w->conn;
	json_object *jt, *data = NULL;
	struct backend_event be = { .conn = &kc->base, .inst_name = w->name };

	if (!json_object_object_get_ex(ev, "event", &jt))
		return;
	json_object_object_get_ex(ev, "data", &data);
	be.type = json_object_get_string(jt);
	if (strcmp(be.type, "state") == 0) {
		enum inst_state st = inst_state_from_name(jstr(data, "state"));

		if (st == INST_STOPPED || st == INST_CRASHED) {
			const char *why = jstr(data, "reason");

			w->end_state = st;
			free(w->end_reason);
			w->end_reason = xstrdup(why ? why : inst_state_name(st));
		}
	}
	if (kc->event_cb == NULL)
		return;
	if (strcmp(be.type, "state") == 0) {
		const char *st = jstr(data, "state");
		be.state = st ? inst_state_from_name(st) : INST_UNKNOWN;
		be.detail = jstr(data, "reason");
	} else {
		be.detail = data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : NULL;
	}
	kc->event_cb(&be, kc->event_arg);
}

static void
watch_on_close(struct proto_client *pc, const struct berr *e, void *arg)
{
	struct kvm_watch *w = arg;
	struct kvm_conn *kc = w->conn;
	char *why = last_end_reason(kc, w->name), *log = vm_path(kc, w->name, "vmm.log");
	struct backend_event be = { .conn = &kc->base, .inst_name = w->name, .type = "state" };

	if (w->end_reason != NULL) {
		/* berth-vmm said how the VM ended before it closed the socket. */
		be.state = w->end_state;
		be.detail = w->end_reason;
	} else if (why) {
		/* berth-vmm logged how the VM ended before it closed the socket. */
		be.state = strstr(why, "crash") || strstr(why, "error") ? INST_CRASHED : INST_STOPPED;
		be.detail = why;
	} else if (access(log, F_OK) == 0) {
		be.state = INST_CRASHED;
		be.detail = "berth-vmm died (killed?)";
	} else {
		be.state = INST_STOPPED;
		be.detail = "berth-vmm exited";
	}
	if (kc->event_cb)
		kc->event_cb(&be, kc->event_arg);
	free(why);
	free(log);
	for (int i = 0; i < KVM_MAX_WATCHES; i++)
		if (kc->watches[i] == w)
			kc->watches[i] = NULL;
	/* Safe inside its own callback: proto clients are reference counted. */
	proto_client_free(pc);
	watch_free(w);
}

static void
watch_free(struct kvm_watch *w)
{
	free(w->end_reason);
	free(w->name);
	free(w);
}

static void
watch_vm(struct kvm_conn *kc, const char *name)
{
	struct proto_client *pc;
	struct kvm_watch *w;
	json_object *args, *evs;
	struct berr e;
	int slot = -1, r;

	for (int i = 0; i < KVM_MAX_WATCHES; i++) {
		if (kc->watches[i] && strcmp(kc->watches[i]->name, name) == 0)
			return;
		if (!kc->watches[i] && slot < 0)
			slot = i;
	}
	if (slot < 0 || vmm_connect(kc, name, &pc, &e) <= 0)
		return;
	w = xcalloc(1, sizeof *w);
	w->name = xstrdup(name);
	w->conn = kc;
	w->client = pc;
	proto_client_set_event_cb(pc, watch_on_event, w);
	args = json_object_new_object();
	evs = json_object_new_array();
	json_object_array_add(evs, json_object_new_string("*"));
	json_object_object_add(args, "events", evs);
	r = proto_client_call(pc, "subscribe", args, KVM_CALL_TIMEOUT_MS, NULL, &e);
	json_object_put(args);
	if (r < 0 || proto_client_attach(pc, kc->loop, watch_on_close, w) < 0) {
		proto_client_free(pc);
		watch_free(w);
		return;
	}
	kc->watches[slot] = w;
}

static void
rescan_cb(struct loop *l, int id, void *arg)
{
	struct kvm_conn *kc = arg;
	struct dirent *de;
	DIR *d;

	(void)l;
	(void)id;
	if (kc->seen == NULL)
		kc->seen = presence_new();
	/* Definitions and running VMs, so that the event stream also tells of
	 * those that other programs define, start or delete. */
	if ((d = opendir(kc->data_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *name = def_file_name(de->d_name);

			if (name != NULL)
				presence_mark(kc->seen, name, PRESENCE_DEFINED);
			free(name);
		}
		closedir(d);
	}
	if ((d = opendir(kc->run_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct berr e;
			char *ctl;

			if (de->d_name[0] == '.' || name_is_valid(de->d_name, &e) < 0)
				continue;
			ctl = vm_path(kc, de->d_name, "ctl.sock");
			if (access(ctl, F_OK) == 0) {
				watch_vm(kc, de->d_name);
				presence_mark(kc->seen, de->d_name, PRESENCE_RUNNING);
			}
			free(ctl);
		}
		closedir(d);
	}
	presence_commit(kc->seen, &kc->base, kc->event_cb, kc->event_arg);
}

static int
kvm_subscribe_events(struct bconn *c, backend_event_cb cb, void *arg, struct berr *err)
{
	struct kvm_conn *kc = kconn(c);

	if (kc->loop == NULL)
		return berr_set(err, BERR_NOTSUP, "kvm events need an event loop");
	kc->event_cb = cb;
	kc->event_arg = arg;
	rescan_cb(kc->loop, 0, kc);
	if (kc->rescan_timer <= 0)
		kc->rescan_timer = loop_add_timer(kc->loop, 2000, rescan_cb, kc, NULL);
	return 0;
}

/* ------------------------------------------------------------ connection */

static int
kvm_open(struct bconn **out, const char *uri, struct loop *loop, struct berr *err)
{
	struct berth_dirs dirs;
	struct kvm_conn *kc;

	if (uri && *uri && strcmp(uri, "kvm:///") != 0 && strcmp(uri, "localhost") != 0)
		return berr_set(err, BERR_INVALID, "the kvm backend only serves this host, not `%s'", uri);
	if (dirs_init(&dirs, err) < 0)
		return -1;
	kc = xcalloc(1, sizeof *kc);
	kc->base.ops = &kvm_backend_ops;
	kc->base.uri = xstrdup("kvm:///");
	kc->loop = loop;
	kc->run_dir = xasprintf("%s/vm", dirs.run);
	kc->data_dir = xasprintf("%s/vm", dirs.data);
	dirs_free(&dirs);
	*out = &kc->base;
	return 0;
}

static void
kvm_close(struct bconn *c)
{
	struct kvm_conn *kc = kconn(c);

	if (kc == NULL)
		return;
	if (kc->rescan_timer > 0)
		loop_remove_timer(kc->loop, kc->rescan_timer);
	presence_free(kc->seen);
	for (int i = 0; i < KVM_MAX_WATCHES; i++) {
		if (kc->watches[i]) {
			proto_client_free(kc->watches[i]->client);
			watch_free(kc->watches[i]);
		}
	}
	free(kc->run_dir);
	free(kc->data_dir);
	free(kc->base.uri);
	free(kc);
}

static const char *
kvm_host(struct bconn *c)
{
	return "localhost";
}

static int
kvm_host_info(struct bconn *c, json_object **out, struct berr *err)
{
	json_object *o = json_object_new_object();
	long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	json_object_object_add(o, "host", json_object_new_string("localhost"));
	json_object_object_add(o, "cpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "memory_kib", json_object_new_int64((int64_t)pages * psz / 1024));
	json_object_object_add(o, "memory_free_kib", json_object_new_int64((int64_t)avail * psz / 1024));
	*out = o;
	return 0;
}

const struct backend_ops kvm_backend_ops = {
	.name = "kvm",
	.description = "berth's own KVM microVMs (berth-vmm)",
	.abi_version = BERTH_BACKEND_ABI,
	.open = kvm_open,
	.close = kvm_close,
	.host = kvm_host,
	.host_info = kvm_host_info,
	.list = kvm_list,
	.get = kvm_get,
	.define = kvm_define,
	.start = kvm_start,
	.shutdown = kvm_shutdown,
	.kill = kvm_kill,
	.pause = kvm_pause,
	.resume = kvm_resume,
	.destroy = kvm_destroy,
	.undefine = kvm_undefine,
	.stats = kvm_stats,
	.console_open = kvm_console_open,
	.subscribe_events = kvm_subscribe_events,
	.info = kvm_info,
};
