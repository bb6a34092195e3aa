/*
 * cmd-demo.c - `berth demo`: make sure the embedded demo instances exist and
 * run, then open the dashboard.  The demo is a miniguest microVM on
 * berth-vmm and a busybox container on berth-ctr; each is created only when
 * absent and only when its backend works here, and the dashboard opens
 * whatever happened, showing what failed.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/dirs.h"
#include "core/util.h"

int tui_main(struct session *s, int argc, char **argv) __attribute__((weak));

#define DEMO_VM "demo-vm"
#define DEMO_CT "demo-ct"

static int
file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The miniguest kernel: $BERTH_GUESTS_DIR, the build tree next to this
 * binary, or the installed copy. */
static char *
demo_find_guest(void)
{
	const char *env = getenv("BERTH_GUESTS_DIR");
	const char *const dirs[] = { BERTH_PKGDATADIR, NULL };

	if (env != NULL && *env != '\0') {
		char *p = xasprintf("%s/miniguest.bzImage", env);

		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return find_shipped_file(NULL, "tests/guests/miniguest.bzImage", NULL, R_OK) ?:
	       find_shipped_file(NULL, "guests/miniguest.bzImage", dirs, R_OK);
}

static int
demo_have(struct session *s, const char *name, const char *backend, struct instance **out)
{
	struct inst_list l = { 0 };
	size_t i;
	int found = 0;

	session_list(s, &l);
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.v[i]->name, name) == 0 && strcmp(l.v[i]->backend->name, backend) == 0) {
			found = 1;
			if (out != NULL) {
				*out = l.v[i];
				l.v[i] = l.v[--l.n];
			}
			break;
		}
	}
	inst_list_clear(&l);
	return found;
}

static int
demo_define(struct session *s, const char *backend, json_object *spec, struct berr *err)
{
	struct bconn *c = session_find_conn(s, backend, NULL);
	struct define_spec ds = { 0 };
	struct instance *inst = NULL;
	json_object *n;

	if (c == NULL)
		return berr_set(err, BERR_NOTFOUND, "the %s backend is not available here", backend);
	if (c->ops->define == NULL)
		return backend_notsup(c->ops, "define", err);
	ds.json = spec;
	if (json_object_object_get_ex(spec, "name", &n))
		ds.name = json_object_get_string(n);
	if (c->ops->define(c, &ds, &inst, err) < 0)
		return -1;
	if (inst != NULL) {
		inst->backend = c->ops;
		instance_free(inst);
	}
	return 0;
}

/* Said on stderr (for --no-tui) and kept for the dashboard, which shows
 * it on a `!' line above the table: the screen would hide stderr. */
static void
demo_failed(struct session *s, const char *what, const struct berr *err, FILE *errf)
{
	fprintf(errf, "berth demo: %s: %s\n", what, err->msg);
	session_add_failure(s, what, err, 1, 0);
}

static void
demo_start(struct session *s, const char *name, const char *backend, FILE *errf)
{
	struct instance *inst = NULL;
	struct berr err = { 0 };

	if (!demo_have(s, name, backend, &inst))
		return;
	if (inst->state != INST_RUNNING && inst->state != INST_PAUSED &&
	    instance_do(inst, OP_START, 0, &err) < 0)
		demo_failed(s, name, &err, errf);
	instance_free(inst);
}

static int
demo_vm(struct session *s, struct berr *err)
{
	json_object *spec;
	char *kernel;
	int r;

	if (demo_have(s, DEMO_VM, "kvm", NULL))
		return 0;
	kernel = demo_find_guest();
	if (kernel == NULL)
		return berr_set(err, ENOENT, "the miniguest kernel was not found (build tests/guests, "
				"or set BERTH_GUESTS_DIR)");
	spec = json_object_new_object();
	json_object_object_add(spec, "name", json_object_new_string(DEMO_VM));
	json_object_object_add(spec, "kernel", json_object_new_string(kernel));
	json_object_object_add(spec, "cmdline", json_object_new_string("console=ttyS0"));
	json_object_object_add(spec, "memory_mib", json_object_new_int(64));
	json_object_object_add(spec, "vcpus", json_object_new_int(1));
	r = demo_define(s, "kvm", spec, err);
	json_object_put(spec);
	free(kernel);
	return r;
}

/* A busybox bundle (rootfs from Debian's busybox-static + an OCI config). */
static int
demo_bundle(struct session *s, char **bundle_out, struct berr *err)
{
	char *bundle = xasprintf("%s/demo/busybox", s->dirs.data);
	char *rootfs = xasprintf("%s/rootfs", bundle);
	char *bin = xasprintf("%s/bin", rootfs);
	char *bb = xasprintf("%s/busybox", bin);
	char *cfgpath = xasprintf("%s/config.json", bundle);
	const char *dirs[] = { "proc", "sys", "dev", "tmp", "etc", "root" };
	char *text = NULL;
	size_t i;
	int r = -1;

	if (file_exists(cfgpath))
		goto ok;
	if (!file_exists("/bin/busybox")) {
		berr_set(err, ENOENT, "/bin/busybox is missing (apt-get install busybox-static)");
		goto out;
	}
	if (mkdir_p(bin, 0755, err) < 0)
		goto out;
	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char *d = xasprintf("%s/%s", rootfs, dirs[i]);

		mkdir(d, 0755);
		free(d);
	}
	{
		pid_t pid = fork();
		int status;

		if (pid < 0) {
			berr_errno(err, "fork");
			goto out;
		}
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c",
			      "cp /bin/busybox \"$1\" && for a in $(\"$1\" --list); do "
			      "[ \"$a\" = busybox ] || ln -sf busybox \"$2/$a\" || exit 1; done",
			      "sh", bb, bin,
			      (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			berr_set(err, EIO, "copying busybox into `%s' failed", rootfs);
			goto out;
		}
	}
	text = xasprintf(
		"{\n"
		"  \"ociVersion\": \"1.0.2\",\n"
		"  \"process\": {\n"
		"    \"terminal\": true,\n"
		"    \"user\": {\"uid\": 0, \"gid\": 0},\n"
		"    \"args\": [\"/bin/sh\", \"-c\", \"echo 'berth demo container: try ps, top, ls'; exec /bin/sh\"],\n"
		"    \"env\": [\"PATH=/bin:/sbin:/usr/bin\", \"TERM=xterm\", \"HOME=/root\"],\n"
		"    \"cwd\": \"/\",\n"
		"    \"noNewPrivileges\": true\n"
		"  },\n"
		"  \"root\": {\"path\": \"rootfs\", \"readonly\": false},\n"
		"  \"hostname\": \"demo-ct\",\n"
		"  \"mounts\": [\n"
		"    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
		"    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"mode=755\", \"size=65536k\"]},\n"
		"    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"]},\n"
		"    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
		"    {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"nodev\"]}\n"
		"  ],\n"
		"  \"linux\": {\n"
		"    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"ipc\"}, {\"type\": \"network\"}],\n"
		"    \"resources\": {\"memory\": {\"limit\": 67108864}, \"pids\": {\"limit\": 64}}\n"
		"  }\n"
		"}\n");
	if (atomic_write_file(cfgpath, text, strlen(text), 0644, err) < 0)
		goto out;
ok:
	*bundle_out = bundle;
	bundle = NULL;
	r = 0;
out:
	free(text);
	free(bundle);
	free(rootfs);
	free(bin);
	free(bb);
	free(cfgpath);
	return r;
}

static int
demo_ct(struct session *s, struct berr *err)
{
	json_object *spec;
	char *bundle = NULL;
	int r;

	if (demo_have(s, DEMO_CT, "container", NULL))
		return 0;
	if (session_find_conn(s, "container", NULL) == NULL)
		return berr_set(err, BERR_NOTFOUND, "the container backend is not available here");
	if (demo_bundle(s, &bundle, err) < 0)
		return -1;
	spec = json_object_new_object();
	json_object_object_add(spec, "name", json_object_new_string(DEMO_CT));
	json_object_object_add(spec, "bundle", json_object_new_string(bundle));
	r = demo_define(s, "container", spec, err);
	json_object_put(spec);
	free(bundle);
	return r;
}

static int
cmd_demo_exec(struct cmd_ctx *ctx)
{
	struct berr err = { 0 };

	if (demo_vm(ctx->s, &err) < 0)
		demo_failed(ctx->s, "no demo VM", &err, ctx->errf);
	else
		demo_start(ctx->s, DEMO_VM, "kvm", ctx->errf);
	berr_clear(&err);
	if (demo_ct(ctx->s, &err) < 0)
		demo_failed(ctx->s, "no demo container", &err, ctx->errf);
	else
		demo_start(ctx->s, DEMO_CT, "container", ctx->errf);
	if (cmd_flag(ctx, "no-tui") || tui_main == NULL || !isatty(STDOUT_FILENO) ||
	    !isatty(STDIN_FILENO)) {
		char *argv[] = { "list", NULL };

		return cmd_run(&ctx->s, 1, argv, ctx->out, ctx->errf, ctx->interactive);
	}
	return tui_main(ctx->s, 0, NULL);
}

const struct cmd_entry cmd_demo_entry = {
	.name = "demo",
	.summary = "create and start the demo VM and container, then open the dashboard",
	.max_args = 0,
	.needs_session = 1,
	.opts = {
		{ "no-tui", 0, 0, 0, NULL, "only create and start them, then list" },
	},
	.exec = cmd_demo_exec,
};
