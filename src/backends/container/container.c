/*
 * container.c - the container backend: berth's own containers, one berth-ctr
 * monitor each.
 *
 * Definitions live in $BERTH_DATA_DIR/ct/<name>/definition.json:
 *   {name, image | bundle, command: [..], env: [..], memory_mib, cpus,
 *    pids_max, terminal, network: "none"|"host"|"bridge", hostname}
 * start turns one into an OCI bundle (data/ct/<name>/config.json, with the
 * root file system of the bundle, or assembled from an image by the image
 * store) and runs `berth-ctr run -d`.  Running containers are found again
 * from $BERTH_RUN_DIR/ct/<name>/ (state.json, ctl.sock), so containers made
 * by an earlier berth, or by berth-ctr directly, appear too.  Every live op
 * is a request on the container's ctl.sock (see berth-ctr(1)); stats read
 * the cgroup directly, which needs no monitor round trip.
 * Not for: running containers (berth-ctr does that) or front-end policy.
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
#include "ctr/cgroup.h"
#include "ctr/state.h"
#include "image/image.h"

#define CT_CALL_TIMEOUT_MS 5000
#define CT_DEFAULT_STOP_S 10
#define CT_MAX_WATCHES 256

struct ct_watch {
	char *name;
	struct proto_client *client;
	struct ct_conn *conn;
};

struct ct_conn {
	struct bconn base;
	struct loop *loop;
	char *run_dir;			/* $BERTH_RUN_DIR/ct */
	char *data_dir;			/* $BERTH_DATA_DIR/ct */
	backend_event_cb event_cb;
	void *event_arg;
	int rescan_timer;
	struct presence *seen;		/* what the last rescan found */
	struct ct_watch *watches[CT_MAX_WATCHES];
};

static struct ct_conn *
cconn(struct bconn *c)
{
	return (struct ct_conn *)c;
}

static char *
def_path(struct ct_conn *cc, const char *name)
{
	return xasprintf("%s/%s/definition.json", cc->data_dir, name);
}

static int64_t
jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *
read_json_file(const char *path, struct berr *err)
{
	char *text;
	json_object *o;

	if (read_file(path, &text, NULL, 4 << 20, err) < 0)
		return NULL;
	o = json_tokener_parse(text);
	free(text);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		berr_set(err, BERR_INVALID, "%s: not a JSON object", path);
		return NULL;
	}
	return o;
}

static json_object *
read_definition(struct ct_conn *cc, const char *name, struct berr *err)
{
	char *p = def_path(cc, name);
	json_object *o = read_json_file(p, err);

	free(p);
	return o;
}

/* ------------------------------------------------------------ berth-ctr */

/* berth-ctr: $BERTH_CTR, else beside this program, else the install dirs. */
static char *
find_ctr(void)
{
	const char *const dirs[] = { BERTH_BINDIR, NULL };

	return find_shipped_file("BERTH_CTR", "berth-ctr", dirs, X_OK);
}

/* Run berth-ctr with args, stdin on /dev/null, and collect stderr (for the
 * error message).  Returns its exit status, or -1. */
static int
run_ctr(struct ct_conn *cc, char *const args[], struct berr *err)
{
	char *ctr = find_ctr();
	char *argv[32];
	int pfd[2], status, n = 0, i;
	char msg[BERR_MSG_MAX];
	size_t len = 0;
	pid_t pid;

	if (ctr == NULL)
		return berr_set(err, ENOENT, "berth-ctr not found (set BERTH_CTR)");
	argv[n++] = ctr;
	argv[n++] = "--root";
	argv[n++] = cc->run_dir;
	for (i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(ctr);
		return berr_errno(err, "pipe");
	}
	pid = fork();
	if (pid < 0) {
		free(ctr);
		close(pfd[0]);
		close(pfd[1]);
		return berr_errno(err, "fork");
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		sigset_t none;

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		dup2(pfd[1], 2);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(ctr, argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], msg + len, sizeof msg - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len >= sizeof msg - 1)
			break;
	}
	msg[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free(ctr);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *m = msg;

		if (strncmp(m, "berth-ctr: ", 11) == 0)
			m += 11;
		m[strcspn(m, "\n")] = '\0';
		return berr_set(err, EIO, "%s", m[0] ? m : "berth-ctr failed");
	}
	return 0;
}

static int
ctl_call(struct ct_conn *cc, const char *name, const char *op, json_object *args, int timeout_ms,
	 json_object **result, struct berr *err)
{
	struct proto_client *pc;
	char *path = xasprintf("%s/%s/ctl.sock", cc->run_dir, name);
	int rc;

	rc = proto_client_connect(path, "berth", CT_CALL_TIMEOUT_MS, &pc, err);
	free(path);
	if (rc < 0) {
		json_object_put(args);
		return berr_wrap(err, "container `%s' has no running monitor", name);
	}
	rc = proto_client_call(pc, op, args, timeout_ms, result, err);
	json_object_put(args);
	proto_client_free(pc);
	return rc;
}

/* ------------------------------------------------------------ instances */

static enum inst_state
state_from_status(const char *status)
{
	if (strcmp(status, "running") == 0)
		return INST_RUNNING;
	if (strcmp(status, "created") == 0 || strcmp(status, "creating") == 0)
		return INST_CREATED;
	if (strcmp(status, "paused") == 0)
		return INST_PAUSED;
	if (strcmp(status, "stopped") == 0)
		return INST_STOPPED;
	return INST_UNKNOWN;
}

static int64_t
parse_rfc3339(const char *s)
{
	struct tm tm;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* Does a monitor still answer on the container's ctl.sock?  (A stale
 * socket file of a dead monitor refuses the connection.) */
static int
monitor_alive(struct ct_conn *cc, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s/ctl.sock", cc->run_dir, name) >=
	    sizeof sa.sun_path)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	return r == 0 || errno == EAGAIN || errno == EINPROGRESS;
}

/* Fill state from the run dir (if any) and limits from the definition. */
static struct instance *
ct_instance(struct ct_conn *cc, const char *name, json_object *def)
{
	struct instance *inst = instance_new(name, INST_CONTAINER);
	struct ctr_state *s;

	inst->backend = &container_backend_ops;
	inst->conn = &cc->base;
	instance_set_str(&inst->host, "localhost");
	inst->state = INST_STOPPED;
	if (def) {
		if (uuid_is_valid(jstr(def, "uuid")))
			snprintf(inst->uuid, sizeof inst->uuid, "%s", jstr(def, "uuid"));
		inst->vcpus = (int)jint(def, "cpus", 0);
		inst->memory_kib = (uint64_t)jint(def, "memory_mib", 0) * 1024;
	}
	if (state_load(cc->run_dir, name, &s, NULL) == 0) {
		const char *status = state_status(s);

		inst->state = state_from_status(status);
		inst->created = parse_rfc3339(s->created);
		if (inst->state == INST_RUNNING || inst->state == INST_PAUSED)
			inst->started = inst->created;
		if (s->exited) {
			char why[64];

			if (s->oom)
				snprintf(why, sizeof why, "oom");
			else if (s->exit_signal)
				snprintf(why, sizeof why, "signal %d", s->exit_signal);
			else
				snprintf(why, sizeof why, "exit %d", s->exit_code);
			instance_set_str(&inst->reason, why);
			if (s->oom)
				inst->state = INST_CRASHED;
		} else if (inst->state == INST_STOPPED && monitor_alive(cc, name)) {
			/* The init is gone but its monitor has not recorded how it
			 * ended yet: not stopped until it has (callers waiting for
			 * "stopped" then see the exit status). */
			inst->state = INST_SHUTDOWN;
			instance_set_str(&inst->reason, "exiting");
		}
		state_free(s);
	}
	return inst;
}

static int
list_has(struct inst_list *l, size_t from, const char *name)
{
	size_t i;

	for (i = from; i < l->n; i++)
		if (strcmp(l->v[i]->name, name) == 0)
			return 1;
	return 0;
}

static int
ct_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	struct ct_conn *cc = cconn(c);
	size_t start = out->n;
	DIR *d;
	struct dirent *de;
	char **ids;
	size_t n, i;

	d = opendir(cc->data_dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct berr e = { 0 };
			json_object *def;

			if (de->d_name[0] == '.' || name_is_valid(de->d_name, &e) < 0)
				continue;
			def = read_definition(cc, de->d_name, &e);
			if (def == NULL)
				continue;
			inst_list_push(out, ct_instance(cc, de->d_name, def));
			json_object_put(def);
		}
		closedir(d);
	}
	if (state_list(cc->run_dir, &ids, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct berr e = { 0 };

		if (state_id_valid(ids[i], &e) == 0 && !list_has(out, start, ids[i]))
			inst_list_push(out, ct_instance(cc, ids[i], NULL));
		free(ids[i]);
	}
	free(ids);
	return 0;
}

static int
ct_exists(struct ct_conn *cc, const char *name)
{
	char *p = def_path(cc, name), *r = xasprintf("%s/%s", cc->run_dir, name);
	int ok = access(p, F_OK) == 0 || access(r, F_OK) == 0;

	free(p);
	free(r);
	return ok;
}

static int
ct_get(struct bconn *c, const char *name, struct instance **out, struct berr *err)
{
	struct ct_conn *cc = cconn(c);
	json_object *def;

	if (name_is_valid(name, err) < 0)
		return -1;
	if (!ct_exists(cc, name))
		return berr_set(err, BERR_NOTFOUND, "no container `%s'", name);
	def = read_definition(cc, name, NULL);
	*out = ct_instance(cc, name, def);
	json_object_put(def);
	return 0;
}

/* ------------------------------------------------------------ define */

static int
check_strv(json_object *def, const char *key, struct berr *err)
{
	json_object *v;
	size_t i;

	if (!json_object_object_get_ex(def, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return berr_set(err, BERR_INVALID, "%s: expected an array of strings", key);
	for (i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
			return berr_set(err, BERR_INVALID, "%s[%zu]: expected a string", key, i);
	return 0;
}

static int
validate_definition(json_object *def, const char *name, struct berr *err)
{
	static const char *const ints[] = { "memory_mib", "cpus", "pids_max" };
	const char *net = jstr(def, "network");
	json_object *v;
	size_t i;

	if (name_is_valid(name, err) < 0 || state_id_valid(name, err) < 0)
		return -1;
	if ((jstr(def, "image") == NULL) == (jstr(def, "bundle") == NULL))
		return berr_set(err, BERR_INVALID, "exactly one of `image' and `bundle' is needed");
	if (json_object_object_get_ex(def, "uuid", &v) && !uuid_is_valid(json_object_get_string(v)))
		return berr_set(err, BERR_INVALID, "uuid: not a UUID");
	if (jstr(def, "bundle") && jstr(def, "bundle")[0] != '/')
		return berr_set(err, BERR_INVALID, "bundle: must be an absolute path");
	if (check_strv(def, "command", err) < 0 || check_strv(def, "env", err) < 0)
		return -1;
	for (i = 0; i < sizeof ints / sizeof ints[0]; i++)
		if (json_object_object_get_ex(def, ints[i], &v) && v &&
		    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0))
			return berr_set(err, BERR_INVALID, "%s: expected a non-negative integer", ints[i]);
	if (json_object_object_get_ex(def, "terminal", &v) && v && !json_object_is_type(v, json_type_boolean))
		return berr_set(err, BERR_INVALID, "terminal: expected a boolean");
	if (net && strcmp(net, "none") && strcmp(net, "host") && strcmp(net, "bridge"))
		return berr_set(err, BERR_INVALID, "network: expected none, host or bridge");
	return 0;
}

static int
ct_define(struct bconn *c, const struct define_spec *spec, struct instance **out, struct berr *err)
{
	struct ct_conn *cc = cconn(c);
	json_object *def;
	const char *text;
	char *dir, *path, *name;
	int rc;

	if (spec->json == NULL)
		return berr_set(err, BERR_INVALID, "a container is defined from JSON, not XML");
	if (spec->name == NULL && jstr(spec->json, "name") == NULL)
		return berr_set(err, BERR_INVALID, "name: required");
	/* A copy: spec->name may point into the JSON we are about to edit. */
	name = xstrdup(spec->name ? spec->name : jstr(spec->json, "name"));
	if (validate_definition(spec->json, name, err) < 0) {
		free(name);
		return -1;
	}
	def = json_object_get(spec->json);
	json_object_object_add(def, "name", json_object_new_string(name));
	if (jstr(def, "uuid") == NULL) {
		/* A redefinition keeps the container's identity. */
		json_object *old = read_definition(cc, name, NULL);
		char fresh[37];

		if (old != NULL && uuid_is_valid(jstr(old, "uuid")))
			snprintf(fresh, sizeof fresh, "%s", jstr(old, "uuid"));
		else
			uuid_generate(fresh);
		json_object_put(old);
		json_object_object_add(def, "uuid", json_object_new_string(fresh));
	}
	dir = xasprintf("%s/%s", cc->data_dir, name);
	if (mkdir_p(dir, 0700, err) < 0) {
		free(dir);
		free(name);
		json_object_put(def);
		return -1;
	}
	path = def_path(cc, name);
	text = json_object_to_json_string_ext(def, JSON_C_TO_STRING_PRETTY);
	rc = atomic_write_file(path, text, strlen(text), 0600, err);
	free(path);
	free(dir);
	if (rc == 0) {
		*out = ct_instance(cc, name, def);
		if (cc->event_cb) {
			struct backend_event be = { .conn = c, .inst_name = name, .type = "defined" };

			presence_note(cc->seen, name, PRESENCE_DEFINED, 0);
			cc->event_cb(&be, cc->event_arg);
		}
	}
	json_object_put(def);
	free(name);
	return rc;
}

/* ------------------------------------------------------------ bundles */

static json_object *
jarr_of_strings(json_object *src)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; src && i < json_object_array_length(src); i++)
		json_object_array_add(a, json_object_get(json_object_array_get_idx(src, i)));
	return a;
}

static json_object *
jpath_obj(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object)) {
		v = json_object_new_object();
		json_object_object_add(o, key, v);
	}
	return v;
}

/* The config berth uses for images: the usual container default. */
static json_object *
default_config(void)
{
	static const char *text =
		"{\"ociVersion\": \"1.0.2\","
		" \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},"
		"  \"args\": [\"sh\"], \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
		"  \"cwd\": \"/\", \"noNewPrivileges\": true,"
		"  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]},"
		" \"root\": {\"path\": \"rootfs\", \"readonly\": false},"
		" \"mounts\": ["
		"  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
		"  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
		"  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},"
		"  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
		"  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
		"  {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}"
		" ],"
		" \"linux\": {"
		"  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"network\"}],"
		"  \"maskedPaths\": [\"/proc/acpi\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/proc/scsi\", \"/sys/firmware\"],"
		"  \"readonlyPaths\": [\"/proc/asound\", \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"]"
		" }}";

	return json_tokener_parse(text);
}

/* Image config (Env, Cmd, Entrypoint, WorkingDir, User) into the process. */
static void
apply_image_config(json_object *cfg, json_object *img)
{
	json_object *proc = jpath_obj(cfg, "process"), *v, *args;
	const char *s;

	if (img == NULL)
		return;
	if (json_object_object_get_ex(img, "Env", &v) && json_object_is_type(v, json_type_array))
		json_object_object_add(proc, "env", jarr_of_strings(v));
	args = json_object_new_array();
	if (json_object_object_get_ex(img, "Entrypoint", &v) && json_object_is_type(v, json_type_array)) {
		size_t i;

		for (i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(args, json_object_get(json_object_array_get_idx(v, i)));
	}
	if (json_object_object_get_ex(img, "Cmd", &v) && json_object_is_type(v, json_type_array)) {
		size_t i;

		for (i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(args, json_object_get(json_object_array_get_idx(v, i)));
	}
	if (json_object_array_length(args) > 0)
		json_object_object_add(proc, "args", args);
	else
		json_object_put(args);
	s = jstr(img, "WorkingDir");
	if (s && s[0] == '/')
		json_object_object_add(proc, "cwd", json_object_new_string(s));
	s = jstr(img, "User");
	if (s && *s) {
		unsigned u, g;
		int k = sscanf(s, "%u:%u", &u, &g);
		json_object *user = jpath_obj(proc, "user");

		/* Only numeric users: names would need the image's passwd. */
		if (k >= 1) {
			json_object_object_add(user, "uid", json_object_new_int64(u));
			json_object_object_add(user, "gid", json_object_new_int64(k == 2 ? g : u));
		}
	}
}

/* The definition's own settings over whatever config we have. */

/* Does linux.namespaces of an OCI config (the "linux" object) hold type? */
static int
config_has_namespace(json_object *lin, const char *type)
{
	json_object *nss;
	size_t i;

	if (lin == NULL || !json_object_object_get_ex(lin, "namespaces", &nss) ||
	    !json_object_is_type(nss, json_type_array))
		return 0;
	for (i = 0; i < json_object_array_length(nss); i++) {
		json_object *t;

		if (json_object_object_get_ex(json_object_array_get_idx(nss, i), "type", &t) &&
		    json_object_is_type(t, json_type_string) && strcmp(json_object_get_string(t), type) == 0)
			return 1;
	}
	return 0;
}

static void
apply_definition(json_object *cfg, json_object *def, const char *name)
{
	json_object *proc = jpath_obj(cfg, "process"), *lin = jpath_obj(cfg, "linux"), *res, *v;
	int64_t mem = jint(def, "memory_mib", 0), cpus = jint(def, "cpus", 0), pids = jint(def, "pids_max", 0);

	if (json_object_object_get_ex(def, "command", &v) && json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 0)
		json_object_object_add(proc, "args", jarr_of_strings(v));
	if (json_object_object_get_ex(def, "env", &v) && json_object_is_type(v, json_type_array)) {
		json_object *env, *merged = json_object_new_array();
		size_t i, k;

		if (json_object_object_get_ex(proc, "env", &env) && json_object_is_type(env, json_type_array)) {
			for (i = 0; i < json_object_array_length(env); i++) {
				const char *e = json_object_get_string(json_object_array_get_idx(env, i));
				size_t nl = strcspn(e, "=");
				int over = 0;

				for (k = 0; k < json_object_array_length(v); k++)
					if (strncmp(json_object_get_string(json_object_array_get_idx(v, k)), e, nl + 1) == 0)
						over = 1;
				if (!over)
					json_object_array_add(merged, json_object_new_string(e));
			}
		}
		for (k = 0; k < json_object_array_length(v); k++)
			json_object_array_add(merged, json_object_get(json_object_array_get_idx(v, k)));
		json_object_object_add(proc, "env", merged);
	}
	if (json_object_object_get_ex(def, "terminal", &v) && json_object_is_type(v, json_type_boolean))
		json_object_object_add(proc, "terminal", json_object_new_boolean(json_object_get_boolean(v)));
	/* The hostname defaults to the name, but only where the config has a
	 * UTS namespace of its own: a bundle without one keeps the host's. */
	if (jstr(def, "hostname") != NULL || config_has_namespace(lin, "uts"))
		json_object_object_add(cfg, "hostname",
				       json_object_new_string(jstr(def, "hostname") ? jstr(def, "hostname") : name));
	res = jpath_obj(lin, "resources");
	if (mem > 0) {
		json_object *m = jpath_obj(res, "memory");

		json_object_object_add(m, "limit", json_object_new_int64(mem * 1024 * 1024));
	}
	if (cpus > 0) {
		json_object *cpu = jpath_obj(res, "cpu");

		json_object_object_add(cpu, "quota", json_object_new_int64(cpus * 100000));
		json_object_object_add(cpu, "period", json_object_new_int64(100000));
	}
	if (pids > 0) {
		json_object *p = jpath_obj(res, "pids");

		json_object_object_add(p, "limit", json_object_new_int64(pids));
	}
}

/* Write data/ct/<name>/config.json (bundle dir = data/ct/<name>). */
static int
prepare_bundle(struct ct_conn *cc, const char *name, json_object *def, char **bundle_out,
	       struct berr *err)
{
	char *dir = xasprintf("%s/%s", cc->data_dir, name), *path = NULL;
	json_object *cfg = NULL, *root;
	const char *text;
	int rc = -1;

	if (jstr(def, "bundle")) {
		char *src = xasprintf("%s/config.json", jstr(def, "bundle"));
		const char *rp;

		cfg = read_json_file(src, err);
		free(src);
		if (cfg == NULL)
			goto out;
		root = jpath_obj(cfg, "root");
		rp = jstr(root, "path");
		if (rp == NULL) {
			berr_set(err, BERR_INVALID, "%s/config.json: root.path missing", jstr(def, "bundle"));
			goto out;
		}
		if (rp[0] != '/') {
			char *abs = xasprintf("%s/%s", jstr(def, "bundle"), rp);

			json_object_object_add(root, "path", json_object_new_string(abs));
			free(abs);
		}
	} else {
		struct image_store *st = NULL;
		char *rootfs = NULL, *imgdir = xasprintf("%s/image", dir);
		json_object *img = NULL;

		if (image_store_open_default(&st, err) < 0 ||
		    image_rootfs_prepare(st, jstr(def, "image"), imgdir, &rootfs, &img, err) < 0) {
			image_store_free(st);
			free(imgdir);
			berr_wrap(err, "image `%s'", jstr(def, "image"));
			goto out;
		}
		image_store_free(st);
		free(imgdir);
		cfg = default_config();
		apply_image_config(cfg, img);
		json_object_put(img);
		root = jpath_obj(cfg, "root");
		json_object_object_add(root, "path", json_object_new_string(rootfs));
		free(rootfs);
	}
	apply_definition(cfg, def, name);
	if (mkdir_p(dir, 0700, err) < 0)
		goto out;
	path = xasprintf("%s/config.json", dir);
	text = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY);
	if (atomic_write_file(path, text, strlen(text), 0600, err) < 0)
		goto out;
	*bundle_out = dir;
	dir = NULL;
	rc = 0;
out:
	json_object_put(cfg);
	free(path);
	free(dir);
	return rc;
}

/* ------------------------------------------------------------ lifecycle */

static void watch_ct(struct ct_conn *cc, const char *name);

/* Subscribers hear of a container from its start on, not only from the
 * next rescan (a short-lived one would end unseen). */
static void
watch_started(struct ct_conn *cc, const char *name)
{
	if (cc->event_cb != NULL && cc->loop != NULL)
		watch_ct(cc, name);
	presence_note(cc->seen, name, PRESENCE_RUNNING, 0);	/* its monitor tells */
}

static int
ct_start(struct instance *inst, struct berr *err)
{
	struct ct_conn *cc = cconn(inst->conn);
	struct ctr_state *s;
	json_object *def;
	char *bundle = NULL;
	const char *net;
	int rc;

	if (state_load(cc->run_dir, inst->name, &s, NULL) == 0) {
		const char *status = state_status(s);

		state_free(s);
		if (strcmp(status, "created") == 0) {
			if (ctl_call(cc, inst->name, "start", NULL, CT_CALL_TIMEOUT_MS, NULL, err) < 0)
				return -1;
			inst->state = INST_RUNNING;
			watch_started(cc, inst->name);
			return 0;
		}
		if (strcmp(status, "stopped") != 0)
			return berr_set(err, BERR_STATE, "container `%s' is already %s", inst->name, status);
		/* A stopped container is made anew from its definition. */
		{
			char *args[] = { "delete", inst->name, NULL };

			if (run_ctr(cc, args, err) < 0)
				return berr_wrap(err, "removing the stopped container");
		}
	}
	def = read_definition(cc, inst->name, err);
	if (def == NULL)
		return berr_wrap(err, "container `%s' has no definition to start from", inst->name);
	if (prepare_bundle(cc, inst->name, def, &bundle, err) < 0) {
		json_object_put(def);
		return -1;
	}
	net = jstr(def, "network") ? jstr(def, "network") : "none";
	{
		char *args[] = { "run", "-d", "--net", (char *)net, "-b", bundle, inst->name, NULL };

		rc = run_ctr(cc, args, err);
	}
	free(bundle);
	json_object_put(def);
	if (rc < 0)
		return -1;
	inst->state = INST_RUNNING;
	watch_started(cc, inst->name);
	return 0;
}

static int
wait_stopped(struct ct_conn *cc, const char *name, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (now_ms() < end && !cancel_requested()) {
		struct ctr_state *s;
		int stopped = 1;

		if (state_load(cc->run_dir, name, &s, NULL) == 0) {
			stopped = strcmp(state_status(s), "stopped") == 0;
			state_free(s);
		}
		if (stopped)
			return 0;
		{
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	return -1;
}

static int
ct_shutdown(struct instance *inst, int timeout_s, int force_after, struct berr *err)
{
	struct ct_conn *cc = cconn(inst->conn);
	json_object *args;

	if (timeout_s < 0 || !force_after) {
		/* Ask only: SIGTERM, and wait if asked to. */
		args = json_object_new_object();
		json_object_object_add(args, "signal", json_object_new_int(SIGTERM));
		if (ctl_call(cc, inst->name, "kill", args, CT_CALL_TIMEOUT_MS, NULL, err) < 0)
			return -1;
		if (timeout_s > 0 && wait_stopped(cc, inst->name, timeout_s * 1000) < 0) {
			if (cancel_requested())
				return berr_set(err, ECANCELED, "container `%s': interrupted while "
						"waiting for it to stop", inst->name);
			return berr_set(err, BERR_TIMEOUT, "container `%s' did not stop within %d s",
					inst->name, timeout_s);
		}
		inst->state = INST_SHUTDOWN;
		return 0;
	}
	if (timeout_s == 0)
		timeout_s = CT_DEFAULT_STOP_S;
	args = json_object_new_object();
	json_object_object_add(args, "timeout", json_object_new_int(timeout_s));
	if (ctl_call(cc, inst->name, "stop", args, timeout_s * 1000 + 10000, NULL, err) < 0)
		return -1;
	inst->state = INST_STOPPED;
	return 0;
}

static int
ct_kill(struct instance *inst, int signo, struct berr *err)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, "signal", json_object_new_int(signo));
	return ctl_call(cconn(inst->conn), inst->name, "kill", args, CT_CALL_TIMEOUT_MS, NULL, err);
}

static int
ct_destroy(struct instance *inst, struct berr *err)
{
	struct ct_conn *cc = cconn(inst->conn);
	json_object *args = json_object_new_object();

	json_object_object_add(args, "signal", json_object_new_int(SIGKILL));
	json_object_object_add(args, "all", json_object_new_boolean(1));
	if (ctl_call(cc, inst->name, "kill", args, CT_CALL_TIMEOUT_MS, NULL, err) < 0)
		return -1;
	if (wait_stopped(cc, inst->name, 10000) < 0)
		return berr_set(err, BERR_TIMEOUT, "container `%s' did not die", inst->name);
	inst->state = INST_STOPPED;
	return 0;
}

static int
ct_pause(struct instance *inst, struct berr *err)
{
	if (ctl_call(cconn(inst->conn), inst->name, "pause", NULL, CT_CALL_TIMEOUT_MS, NULL, err) < 0)
		return -1;
	inst->state = INST_PAUSED;
	return 0;
}

static int
ct_resume(struct instance *inst, struct berr *err)
{
	if (ctl_call(cconn(inst->conn), inst->name, "resume", NULL, CT_CALL_TIMEOUT_MS, NULL, err) < 0)
		return -1;
	inst->state = INST_RUNNING;
	return 0;
}

static int
ct_undefine(struct instance *inst, struct berr *err)
{
	struct ct_conn *cc = cconn(inst->conn);
	struct ctr_state *s;
	char *dir, *imgdir;

	if (state_load(cc->run_dir, inst->name, &s, NULL) == 0) {
		const char *status = state_status(s);
		char *args[] = { "delete", inst->name, NULL };

		state_free(s);
		if (strcmp(status, "stopped") != 0 && strcmp(status, "created") != 0)
			return berr_set(err, BERR_STATE, "container `%s' is %s: stop it first", inst->name, status);
		if (run_ctr(cc, args, err) < 0)
			return -1;
	}
	dir = xasprintf("%s/%s", cc->data_dir, inst->name);
	imgdir = xasprintf("%s/image", dir);
	if (image_rootfs_release(imgdir, err) < 0) {
		free(imgdir);
		free(dir);
		return -1;
	}
	free(imgdir);
	if (remove_tree(dir, err) < 0) {
		free(dir);
		return -1;
	}
	free(dir);
	if (cc->event_cb) {
		struct backend_event be = { .conn = inst->conn, .inst_name = inst->name, .type = "undefined" };

		presence_note(cc->seen, inst->name, 0, PRESENCE_DEFINED | PRESENCE_RUNNING);
		cc->event_cb(&be, cc->event_arg);
	}
	return 0;
}

/* ------------------------------------------------------------ stats */

static void
net_counters(pid_t pid, struct inst_stats *st)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long v[16];

		if (colon == NULL)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		if (strcmp(name, "lo") == 0)
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) != 10)
			continue;
		st->net_rx_bytes += v[0];
		st->net_rx_pkts += v[1];
		st->net_tx_bytes += v[8];
		st->net_tx_pkts += v[9];
	}
	fclose(f);
}

static int
ct_stats(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out, struct berr *err)
{
	struct ct_conn *cc = cconn(c);
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	size_t i;

	for (i = 0; i < n; i++) {
		struct inst_stats *st = &out[i];
		struct ctr_state *s;
		struct cgroup cg;
		struct cg_stats cs;

		memset(st, 0, sizeof *st);
		st->ts_ms = now_ms();
		if (state_load(cc->run_dir, v[i]->name, &s, NULL) < 0)
			continue;
		if (strcmp(state_status(s), "running") != 0 && strcmp(state_status(s), "paused") != 0) {
			state_free(s);
			continue;
		}
		if (s->cgroup && cgroup_open(&cg, s->cgroup, NULL) == 0) {
			if (cgroup_stats(&cg, &cs, NULL) == 0) {
				st->valid = 1;
				st->cpu_time_ns = cs.cpu_usage_ns;
				st->mem_used_kib = cs.mem_current / 1024;
				st->mem_total_kib = cs.mem_limit ? cs.mem_limit / 1024 : (uint64_t)pages * psz / 1024;
				st->blk_rd_bytes = cs.io_read_bytes;
				st->blk_wr_bytes = cs.io_write_bytes;
				st->vcpus = v[i]->vcpus > 0 ? v[i]->vcpus : (int)sysconf(_SC_NPROCESSORS_ONLN);
			}
			cgroup_free(&cg);
		}
		net_counters(s->pid, st);
		state_free(s);
	}
	(void)err;
	return 0;
}

/* ------------------------------------------------------------ console, exec */

static int
ct_console_open(struct instance *inst, int *fd_out, struct berr *err)
{
	struct ct_conn *cc = cconn(inst->conn);
	struct sockaddr_un sa;
	char *path = xasprintf("%s/%s/console.sock", cc->run_dir, inst->name);
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		free(path);
		return berr_set(err, ENAMETOOLONG, "console socket path too long");
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		berr_errno(err, "container `%s': console %s", inst->name, path);
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	free(path);
	*fd_out = fd;
	return 0;
}

/* Interactive exec: berth-ctr exec runs with our terminal and stdio. */
static int
ct_exec(struct instance *inst, char *const argv[], int tty, int *status, struct berr *err)
{
	struct ct_conn *cc = cconn(inst->conn);
	char *ctr = find_ctr();
	char **args;
	size_t n = 0, i, k = 0;
	pid_t pid;
	int st;

	if (ctr == NULL)
		return berr_set(err, ENOENT, "berth-ctr not found (set BERTH_CTR)");
	while (argv[n])
		n++;
	if (n == 0) {
		free(ctr);
		return berr_set(err, BERR_INVALID, "exec: no command");
	}
	args = xcalloc(n + 10, sizeof *args);
	args[k++] = ctr;
	args[k++] = "--root";
	args[k++] = cc->run_dir;
	args[k++] = "exec";
	if (tty)
		args[k++] = "--tty";
	args[k++] = inst->name;
	args[k++] = "--";
	for (i = 0; i < n; i++)
		args[k++] = argv[i];
	pid = fork();
	if (pid < 0) {
		free(args);
		free(ctr);
		return berr_errno(err, "fork");
	}
	if (pid == 0) {
		sigset_t none;

		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(ctr, args);
		_exit(127);
	}
	free(args);
	free(ctr);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return *status;
}

static int
ct_info(struct instance *inst, json_object **out, struct berr *err)
{
	struct ct_conn *cc = cconn(inst->conn);
	struct ctr_state *s;
	json_object *o = json_object_new_object(), *def;

	json_object_object_add(o, "name", json_object_new_string(inst->name));
	json_object_object_add(o, "backend", json_object_new_string("container"));
	def = read_definition(cc, inst->name, NULL);
	if (def)
		json_object_object_add(o, "definition", def);
	if (state_load(cc->run_dir, inst->name, &s, NULL) == 0) {
		json_object_object_add(o, "oci_state", state_to_json(s));
		json_object_object_add(o, "state_dir", json_object_new_string(s->dir));
		state_free(s);
	} else {
		json_object_object_add(o, "status", json_object_new_string("stopped"));
	}
	json_object_object_add(o, "cgroup_mode", json_object_new_string(cgroup_mode_name(cgroup_detect())));
	(void)err;
	*out = o;
	return 0;
}

/* ------------------------------------------------------------ events */

static void watch_free(struct ct_watch *w);

static void
watch_on_event(struct proto_client *pc, json_object *ev, void *arg)
{
	struct ct_watch *w = arg;
	struct ct_conn *cc = w->conn;
	json_object *jt, *data = NULL;
	struct backend_event be = { .conn = &cc->base, .inst_name = w->name };

	(void)pc;
	if (!json_object_object_get_ex(ev, "event", &jt) || cc->event_cb == NULL)
		return;
	json_object_object_get_ex(ev, "data", &data);
	be.type = json_object_get_string(jt);
	if (strcmp(be.type, "state") == 0) {
		const char *st = jstr(data, "state");

		be.state = st ? state_from_status(st) : INST_UNKNOWN;
		be.detail = jstr(data, "reason");
	} else {
		be.detail = data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : NULL;
	}
	cc->event_cb(&be, cc->event_arg);
}

static void
watch_on_close(struct proto_client *pc, const struct berr *e, void *arg)
{
	struct ct_watch *w = arg;
	struct ct_conn *cc = w->conn;
	struct backend_event be = {
		.conn = &cc->base, .inst_name = w->name, .type = "state", .state = INST_STOPPED,
		.detail = "monitor exited",
	};
	int i;

	(void)e;
	if (cc->event_cb)
		cc->event_cb(&be, cc->event_arg);
	for (i = 0; i < CT_MAX_WATCHES; i++)
		if (cc->watches[i] == w)
			cc->watches[i] = NULL;
	proto_client_free(pc);
	watch_free(w);
}

static void
watch_free(struct ct_watch *w)
{
	free(w->name);
	free(w);
}

static void
watch_ct(struct ct_conn *cc, const char *name)
{
	struct proto_client *pc;
	struct ct_watch *w;
	json_object *args, *evs;
	struct berr e;
	char *path;
	int slot = -1, i;

	for (i = 0; i < CT_MAX_WATCHES; i++) {
		if (cc->watches[i] && strcmp(cc->watches[i]->name, name) == 0)
			return;
		if (!cc->watches[i] && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return;
	path = xasprintf("%s/%s/ctl.sock", cc->run_dir, name);
	if (proto_client_connect(path, "berth", 1000, &pc, &e) < 0) {
		free(path);
		return;
	}
	free(path);
	w = xcalloc(1, sizeof *w);
	w->name = xstrdup(name);
	w->conn = cc;
	w->client = pc;
	proto_client_set_event_cb(pc, watch_on_event, w);
	args = json_object_new_object();
	evs = json_object_new_array();
	json_object_array_add(evs, json_object_new_string("*"));
	json_object_object_add(args, "events", evs);
	if (proto_client_call(pc, "subscribe", args, CT_CALL_TIMEOUT_MS, NULL, &e) < 0 ||
	    proto_client_attach(pc, cc->loop, watch_on_close, w) < 0) {
		json_object_put(args);
		proto_client_free(pc);
		watch_free(w);
		return;
	}
	json_object_put(args);
	cc->watches[slot] = w;
}

static void
rescan_cb(struct loop *l, int id, void *arg)
{
	struct ct_conn *cc = arg;
	char **ids;
	size_t n, i;

	DIR *d;
	struct dirent *de;

	(void)l;
	(void)id;
	if (cc->seen == NULL)
		cc->seen = presence_new();
	/* Definitions and running containers, so that the event stream also
	 * tells of those that other programs define, start or delete. */
	if ((d = opendir(cc->data_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct berr e = { 0 };
			char *def;

			if (de->d_name[0] == '.' || name_is_valid(de->d_name, &e) < 0)
				continue;
			def = def_path(cc, de->d_name);
			if (access(def, F_OK) == 0)
				presence_mark(cc->seen, de->d_name, PRESENCE_DEFINED);
			free(def);
		}
		closedir(d);
	}
	if (state_list(cc->run_dir, &ids, &n, NULL) < 0)
		return;
	for (i = 0; i < n; i++) {
		char *ctl = xasprintf("%s/%s/ctl.sock", cc->run_dir, ids[i]);

		if (access(ctl, F_OK) == 0) {
			watch_ct(cc, ids[i]);
			presence_mark(cc->seen, ids[i], PRESENCE_RUNNING);
		}
		free(ctl);
		free(ids[i]);
	}
	free(ids);
	presence_commit(cc->seen, &cc->base, cc->event_cb, cc->event_arg);
}

static int
ct_subscribe_events(struct bconn *c, backend_event_cb cb, void *arg, struct berr *err)
{
	struct ct_conn *cc = cconn(c);

	if (cc->loop == NULL)
		return berr_set(err, BERR_NOTSUP, "container events need an event loop");
	cc->event_cb = cb;
	cc->event_arg = arg;
	rescan_cb(cc->loop, 0, cc);
	if (cc->rescan_timer <= 0)
		cc->rescan_timer = loop_add_timer(cc->loop, 2000, rescan_cb, cc, NULL);
	return 0;
}

/* ------------------------------------------------------------ connection */

static int
ct_probe(struct berr *err)
{
	char *ctr;

	if (geteuid() != 0)
		return berr_set(err, EPERM, "containers need root here");
	if (cgroup_detect() == CG_NONE)
		return berr_set(err, BERR_NOTSUP, "no cgroup file system is mounted");
	ctr = find_ctr();
	if (ctr == NULL)
		return berr_set(err, ENOENT, "berth-ctr not found (set BERTH_CTR)");
	free(ctr);
	return 0;
}

static int
ct_open(struct bconn **out, const char *uri, struct loop *loop, struct berr *err)
{
	struct berth_dirs dirs;
	struct ct_conn *cc;

	if (uri && *uri && strcmp(uri, "container:///") != 0 && strcmp(uri, "localhost") != 0)
		return berr_set(err, BERR_INVALID, "the container backend only serves this host, not `%s'", uri);
	if (dirs_init(&dirs, err) < 0)
		return -1;
	cc = xcalloc(1, sizeof *cc);
	cc->base.ops = &container_backend_ops;
	cc->base.uri = xstrdup("container:///");
	cc->loop = loop;
	cc->run_dir = xasprintf("%s/ct", dirs.run);
	cc->data_dir = xasprintf("%s/ct", dirs.data);
	dirs_free(&dirs);
	*out = &cc->base;
	return 0;
}

static void
ct_close(struct bconn *c)
{
	struct ct_conn *cc = cconn(c);
	int i;

	if (cc == NULL)
		return;
	if (cc->rescan_timer > 0)
		loop_remove_timer(cc->loop, cc->rescan_timer);
	presence_free(cc->seen);
	for (i = 0; i < CT_MAX_WATCHES; i++) {
		if (cc->watches[i]) {
			proto_client_free(cc->watches[i]->client);
			watch_free(cc->watches[i]);
		}
	}
	free(cc->run_dir);
	free(cc->data_dir);
	free(cc->base.uri);
	free(cc);
}

static const char *
ct_host(struct bconn *c)
{
	(void)c;
	return "localhost";
}

static int
ct_host_info(struct bconn *c, json_object **out, struct berr *err)
{
	json_object *o = json_object_new_object();
	long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	(void)c;
	(void)err;
	json_object_object_add(o, "host", json_object_new_string("localhost"));
	json_object_object_add(o, "cpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "memory_kib", json_object_new_int64((int64_t)pages * psz / 1024));
	json_object_object_add(o, "memory_free_kib", json_object_new_int64((int64_t)avail * psz / 1024));
	json_object_object_add(o, "cgroup_mode", json_object_new_string(cgroup_mode_name(cgroup_detect())));
	*out = o;
	return 0;
}

const struct backend_ops container_backend_ops = {
	.name = "container",
	.description = "berth's own containers (berth-ctr: namespaces + cgroups)",
	.abi_version = BERTH_BACKEND_ABI,
	.open = ct_open,
	.close = ct_close,
	.probe = ct_probe,
	.host = ct_host,
	.host_info = ct_host_info,
	.list = ct_list,
	.get = ct_get,
	.define = ct_define,
	.start = ct_start,
	.shutdown = ct_shutdown,
	.kill = ct_kill,
	.pause = ct_pause,
	.resume = ct_resume,
	.destroy = ct_destroy,
	.undefine = ct_undefine,
	.stats = ct_stats,
	.console_open = ct_console_open,
	.subscribe_events = ct_subscribe_events,
	.exec = ct_exec,
	.info = ct_info,
};
