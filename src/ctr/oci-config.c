/*
 * oci-config.c - parse a bundle's config.json (OCI runtime spec) with json-c.
 *
 * For: turning hostile JSON into struct oci_config, checking every type and
 * range and naming the JSON path of the first problem.  Unknown fields are
 * ignored.  Not for: policy that depends on the host (whether a namespace
 * path exists, whether cgroups are v1 or v2): the runtime checks those.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr/oci-config.h"

#define PATH_MAXLEN 256

static void *
oci_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

static char *
oci_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static const char *
json_type_word(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "something else";
}

static int
bad_type(const char *path, const char *want, json_object *o, struct berr *err)
{
	return berr_set(err, BERR_INVALID, "%s: expected %s, got %s", path, want, json_type_word(o));
}

static void
path_key(char *buf, const char *parent, const char *key)
{
	int n;

	if (parent[0] == '\0')
		n = snprintf(buf, PATH_MAXLEN, "%s", key);
	else
		n = snprintf(buf, PATH_MAXLEN, "%s.%s", parent, key);
	if (n < 0 || n >= PATH_MAXLEN)
		memcpy(buf + PATH_MAXLEN - 4, "...", 4);
}

static void
path_index(char *buf, const char *parent, size_t i)
{
	int n = snprintf(buf, PATH_MAXLEN, "%s[%zu]", parent, i);

	if (n < 0 || n >= PATH_MAXLEN)
		memcpy(buf + PATH_MAXLEN - 4, "...", 4);
}

/* Look up key in obj; returns 1 found (and not null), 0 absent or null. */
static int
get_field(json_object *obj, const char *key, json_object **out)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	*out = v;
	return 1;
}

static int
want_object(json_object *o, const char *path, struct berr *err)
{
	if (!json_object_is_type(o, json_type_object))
		return bad_type(path, "an object", o, err);
	return 0;
}

static int
want_array(json_object *o, const char *path, struct berr *err)
{
	if (!json_object_is_type(o, json_type_array))
		return bad_type(path, "an array", o, err);
	return 0;
}

/* String field: *out is a new copy, or unchanged when absent.  required:
 * absence is an error. */
static int
get_string(json_object *obj, const char *parent, const char *key, int required, char **out,
	   struct berr *err)
{
	char path[PATH_MAXLEN];
	json_object *v;
	const char *s;

	path_key(path, parent, key);
	if (!get_field(obj, key, &v)) {
		if (required)
			return berr_set(err, BERR_INVALID, "%s: required", path);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad_type(path, "a string", v, err);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return berr_set(err, BERR_INVALID, "%s: contains a NUL byte", path);
	free(*out);
	*out = oci_strdup(s);
	return 0;
}

static int
get_bool(json_object *obj, const char *parent, const char *key, int *out, struct berr *err)
{
	char path[PATH_MAXLEN];
	json_object *v;

	path_key(path, parent, key);
	if (!get_field(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return bad_type(path, "a boolean", v, err);
	*out = json_object_get_boolean(v);
	return 0;
}

/* Integer in [min, max]; values above INT64_MAX are accepted when max is
 * UINT64_MAX (passed as is_u64). */
static int
check_int(json_object *v, const char *path, int64_t min, int64_t max, int64_t *out, struct berr *err)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return bad_type(path, "an integer", v, err);
	errno = 0;
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return berr_set(err, BERR_INVALID, "%s: %lld is out of range [%lld, %lld]", path,
				(long long)x, (long long)min, (long long)max);
	*out = x;
	return 0;
}

static int
check_u64(json_object *v, const char *path, uint64_t *out, struct berr *err)
{
	if (!json_object_is_type(v, json_type_int))
		return bad_type(path, "an integer", v, err);
	if (json_object_get_int64(v) < 0)
		return berr_set(err, BERR_INVALID, "%s: must not be negative", path);
	*out = json_object_get_uint64(v);
	return 0;
}

static int
get_int(json_object *obj, const char *parent, const char *key, int64_t min, int64_t max,
	int *found, int64_t *out, struct berr *err)
{
	char path[PATH_MAXLEN];
	json_object *v;

	path_key(path, parent, key);
	if (!get_field(obj, key, &v))
		return 0;
	if (check_int(v, path, min, max, out, err) < 0)
		return -1;
	if (found)
		*found = 1;
	return 0;
}

static int
get_u32(json_object *obj, const char *parent, const char *key, int required, uint32_t *out,
	struct berr *err)
{
	char path[PATH_MAXLEN];
	json_object *v;
	int64_t x;

	path_key(path, parent, key);
	if (!get_field(obj, key, &v)) {
		if (required)
			return berr_set(err, BERR_INVALID, "%s: required", path);
		return 0;
	}
	if (check_int(v, path, 0, UINT32_MAX, &x, err) < 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* Vectors are always NULL-terminated (also while half built). */
static void
free_strv(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* Array of strings -> NULL-terminated vector. */
static int
get_strv(json_object *obj, const char *parent, const char *key, char ***out, size_t *nout,
	 struct berr *err)
{
	char path[PATH_MAXLEN], ipath[PATH_MAXLEN];
	json_object *v, *e;
	size_t i, n;
	char **vec;

	path_key(path, parent, key);
	if (!get_field(obj, key, &v))
		return 0;
	if (want_array(v, path, err) < 0)
		return -1;
	n = json_object_array_length(v);
	vec = oci_calloc(n + 1, sizeof *vec);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		path_index(ipath, path, i);
		if (e == NULL || !json_object_is_type(e, json_type_string)) {
			free_strv(vec);
			return bad_type(ipath, "a string", e, err);
		}
		if (strlen(json_object_get_string(e)) != (size_t)json_object_get_string_len(e)) {
			free_strv(vec);
			return berr_set(err, BERR_INVALID, "%s: contains a NUL byte", ipath);
		}
		vec[i] = oci_strdup(json_object_get_string(e));
	}
	free_strv(*out);
	*out = vec;
	if (nout)
		*nout = n;
	return 0;
}

/* ------------------------------------------------------------ capabilities */

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
#define NCAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

int
oci_cap_from_name(const char *name)
{
	int i;

	for (i = 0; i < NCAPS; i++)
		if (strcmp(cap_names[i], name) == 0)
			return i;
	return -1;
}

const char *
oci_cap_name(int cap)
{
	return cap >= 0 && cap < NCAPS ? cap_names[cap] : NULL;
}

int
oci_cap_last(void)
{
	return NCAPS - 1;
}

/* The set container engines grant by default (Docker/containerd/Podman). */
uint64_t
oci_default_caps(void)
{
	static const char *const def[] = {
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	};
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < sizeof def / sizeof def[0]; i++)
		m |= 1ULL << oci_cap_from_name(def[i]);
	return m;
}

static int
parse_caps(json_object *obj, const char *parent, struct oci_config *c, struct berr *err)
{
	static const char *const sets[OCI_CAP_NSETS] = {
		"bounding", "effective", "inheritable", "permitted", "ambient",
	};
	char path[PATH_MAXLEN], spath[PATH_MAXLEN], ipath[PATH_MAXLEN];
	json_object *v, *e;
	size_t i, n;
	int s, cap;

	path_key(path, parent, "capabilities");
	if (want_object(obj, path, err) < 0)
		return -1;
	c->has_caps = 1;
	for (s = 0; s < OCI_CAP_NSETS; s++) {
		c->caps[s] = 0;
		path_key(spath, path, sets[s]);
		if (!get_field(obj, sets[s], &v))
			continue;
		if (want_array(v, spath, err) < 0)
			return -1;
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			e = json_object_array_get_idx(v, i);
			path_index(ipath, spath, i);
			if (e == NULL || !json_object_is_type(e, json_type_string))
				return bad_type(ipath, "a string", e, err);
			cap = oci_cap_from_name(json_object_get_string(e));
			if (cap < 0)
				return berr_set(err, BERR_INVALID, "%s: unknown capability \"%.64s\"", ipath,
						json_object_get_string(e));
			c->caps[s] |= 1ULL << cap;
		}
	}
	return 0;
}

/* ----------------------------------------------------------------- process */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

static int
parse_rlimits(json_object *arr, const char *path, struct oci_config *c, struct berr *err)
{
	char ipath[PATH_MAXLEN];
	char *type;
	size_t i, k, n;
	json_object *e, *v;

	if (want_array(arr, path, err) < 0)
		return -1;
	n = json_object_array_length(arr);
	c->rlimits = oci_calloc(n, sizeof *c->rlimits);
	for (i = 0; i < n; i++) {
		struct oci_rlimit *r = &c->rlimits[i];
		char fpath[PATH_MAXLEN];

		e = json_object_array_get_idx(arr, i);
		path_index(ipath, path, i);
		if (e == NULL || want_object(e, ipath, err) < 0)
			return e == NULL ? bad_type(ipath, "an object", e, err) : -1;
		type = NULL;
		if (get_string(e, ipath, "type", 1, &type, err) < 0)
			return -1;
		for (k = 0; k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
			if (strcmp(rlimit_names[k].name, type) == 0)
				break;
		if (k == sizeof rlimit_names / sizeof rlimit_names[0]) {
			path_key(fpath, ipath, "type");
			berr_set(err, BERR_INVALID, "%s: unknown resource limit \"%.64s\"", fpath, type);
			free(type);
			return -1;
		}
		free(type);
		r->resource = rlimit_names[k].resource;
		path_key(fpath, ipath, "soft");
		if (!get_field(e, "soft", &v))
			return berr_set(err, BERR_INVALID, "%s: required", fpath);
		if (check_u64(v, fpath, &r->soft, err) < 0)
			return -1;
		path_key(fpath, ipath, "hard");
		if (!get_field(e, "hard", &v))
			return berr_set(err, BERR_INVALID, "%s: required", fpath);
		if (check_u64(v, fpath, &r->hard, err) < 0)
			return -1;
		if (r->soft > r->hard)
			return berr_set(err, BERR_INVALID, "%s: soft limit above the hard limit", ipath);
		c->nrlimits++;
	}
	return 0;
}

static int
parse_process(json_object *p, struct oci_config *c, struct berr *err)
{
	json_object *user, *v, *e;
	char ipath[PATH_MAXLEN];
	size_t i, n;
	int64_t x;
	int found = 0;
	char **envv;

	if (want_object(p, "process", err) < 0)
		return -1;
	if (get_bool(p, "process", "terminal", &c->terminal, err) < 0)
		return -1;
	if (get_field(p, "user", &user)) {
		if (want_object(user, "process.user", err) < 0)
			return -1;
		if (get_u32(user, "process.user", "uid", 0, &c->uid, err) < 0 ||
		    get_u32(user, "process.user", "gid", 0, &c->gid, err) < 0)
			return -1;
		if (get_field(user, "additionalGids", &v)) {
			if (want_array(v, "process.user.additionalGids", err) < 0)
				return -1;
			n = json_object_array_length(v);
			if (n > 65536)
				return berr_set(err, BERR_INVALID, "process.user.additionalGids: too many");
			c->additional_gids = oci_calloc(n, sizeof *c->additional_gids);
			for (i = 0; i < n; i++) {
				e = json_object_array_get_idx(v, i);
				path_index(ipath, "process.user.additionalGids", i);
				if (check_int(e, ipath, 0, UINT32_MAX, &x, err) < 0)
					return -1;
				c->additional_gids[i] = (uint32_t)x;
			}
			c->nadditional_gids = n;
		}
		if (get_field(user, "username", &v) && !json_object_is_type(v, json_type_string))
			return bad_type("process.user.username", "a string", v, err);
	}
	if (get_strv(p, "process", "args", &c->args, NULL, err) < 0)
		return -1;
	if (c->args == NULL || c->args[0] == NULL)
		return berr_set(err, BERR_INVALID, "process.args: required, with at least one element");
	envv = NULL;
	if (get_strv(p, "process", "env", &envv, &n, err) < 0)
		return -1;
	if (envv) {
		for (i = 0; i < n; i++) {
			if (strchr(envv[i], '=') == NULL || envv[i][0] == '=') {
				path_index(ipath, "process.env", i);
				free_strv(envv);
				return berr_set(err, BERR_INVALID, "%s: expected NAME=VALUE", ipath);
			}
		}
		c->env = envv;
	}
	if (get_string(p, "process", "cwd", 0, &c->cwd, err) < 0)
		return -1;
	if (c->cwd == NULL)
		c->cwd = oci_strdup("/");
	if (c->cwd[0] != '/')
		return berr_set(err, BERR_INVALID, "process.cwd: must be an absolute path");
	if (get_field(p, "capabilities", &v) && parse_caps(v, "process", c, err) < 0)
		return -1;
	if (get_field(p, "rlimits", &v) && parse_rlimits(v, "process.rlimits", c, err) < 0)
		return -1;
	if (get_bool(p, "process", "noNewPrivileges", &c->no_new_privileges, err) < 0)
		return -1;
	if (get_int(p, "process", "oomScoreAdj", -1000, 1000, &found, &x, err) < 0)
		return -1;
	if (found) {
		c->has_oom_score_adj = 1;
		c->oom_score_adj = (int)x;
	}
	return 0;
}

/* ------------------------------------------------------------------ mounts */

static const struct {
	const char *name;
	unsigned long set, clear, propagation;
	int bind;
} mount_opts[] = {
	{ "ro", MS_RDONLY, 0, 0, 0 },		{ "rw", 0, MS_RDONLY, 0, 0 },
	{ "nosuid", MS_NOSUID, 0, 0, 0 },	{ "suid", 0, MS_NOSUID, 0, 0 },
	{ "nodev", MS_NODEV, 0, 0, 0 },		{ "dev", 0, MS_NODEV, 0, 0 },
	{ "noexec", MS_NOEXEC, 0, 0, 0 },	{ "exec", 0, MS_NOEXEC, 0, 0 },
	{ "sync", MS_SYNCHRONOUS, 0, 0, 0 },	{ "async", 0, MS_SYNCHRONOUS, 0, 0 },
	{ "dirsync", MS_DIRSYNC, 0, 0, 0 },	{ "remount", MS_REMOUNT, 0, 0, 0 },
	{ "mand", MS_MANDLOCK, 0, 0, 0 },	{ "nomand", 0, MS_MANDLOCK, 0, 0 },
	{ "atime", 0, MS_NOATIME, 0, 0 },	{ "noatime", MS_NOATIME, 0, 0, 0 },
	{ "diratime", 0, MS_NODIRATIME, 0, 0 },	{ "nodiratime", MS_NODIRATIME, 0, 0, 0 },
	{ "relatime", MS_RELATIME, 0, 0, 0 },	{ "norelatime", 0, MS_RELATIME, 0, 0 },
	{ "strictatime", MS_STRICTATIME, 0, 0, 0 },
	{ "bind", MS_BIND, 0, 0, 1 },		{ "rbind", MS_BIND | MS_REC, 0, 0, 1 },
	{ "private", 0, 0, MS_PRIVATE, 0 },	{ "rprivate", 0, 0, MS_PRIVATE | MS_REC, 0 },
	{ "shared", 0, 0, MS_SHARED, 0 },	{ "rshared", 0, 0, MS_SHARED | MS_REC, 0 },
	{ "slave", 0, 0, MS_SLAVE, 0 },		{ "rslave", 0, 0, MS_SLAVE | MS_REC, 0 },
	{ "unbindable", 0, 0, MS_UNBINDABLE, 0 },
	{ "runbindable", 0, 0, MS_UNBINDABLE | MS_REC, 0 },
};

static void
append_data(char **data, const char *opt)
{
	size_t old = *data ? strlen(*data) : 0;
	char *p = realloc(*data, old + strlen(opt) + 2);

	if (p == NULL)
		abort();
	if (old)
		p[old++] = ',';
	strcpy(p + old, opt);
	*data = p;
}

/* Check a path from the config: absolute, no NUL, bounded. */
static int
check_abs_path(const char *s, const char *path, struct berr *err)
{
	if (s[0] != '/')
		return berr_set(err, BERR_INVALID, "%s: must be an absolute path", path);
	if (strlen(s) >= PATH_MAX)
		return berr_set(err, BERR_INVALID, "%s: too long", path);
	return 0;
}

static int
parse_mounts(json_object *arr, struct oci_config *c, struct berr *err)
{
	char ipath[PATH_MAXLEN], fpath[PATH_MAXLEN], opath[PATH_MAXLEN];
	json_object *e, *opts, *o;
	size_t i, j, k, n, nopts;

	if (want_array(arr, "mounts", err) < 0)
		return -1;
	n = json_object_array_length(arr);
	c->mounts = oci_calloc(n, sizeof *c->mounts);
	for (i = 0; i < n; i++) {
		struct oci_mount *m = &c->mounts[i];

		c->nmounts++;
		e = json_object_array_get_idx(arr, i);
		path_index(ipath, "mounts", i);
		if (e == NULL)
			return bad_type(ipath, "an object", e, err);
		if (want_object(e, ipath, err) < 0)
			return -1;
		if (get_string(e, ipath, "destination", 1, &m->destination, err) < 0 ||
		    get_string(e, ipath, "type", 0, &m->type, err) < 0 ||
		    get_string(e, ipath, "source", 0, &m->source, err) < 0)
			return -1;
		path_key(fpath, ipath, "destination");
		if (check_abs_path(m->destination, fpath, err) < 0)
			return -1;
		if (!get_field(e, "options", &opts))
			opts = NULL;
		path_key(opath, ipath, "options");
		if (opts && want_array(opts, opath, err) < 0)
			return -1;
		nopts = opts ? json_object_array_length(opts) : 0;
		for (j = 0; j < nopts; j++) {
			const char *s;

			o = json_object_array_get_idx(opts, j);
			path_index(fpath, opath, j);
			if (o == NULL || !json_object_is_type(o, json_type_string))
				return bad_type(fpath, "a string", o, err);
			s = json_object_get_string(o);
			for (k = 0; k < sizeof mount_opts / sizeof mount_opts[0]; k++)
				if (strcmp(mount_opts[k].name, s) == 0)
					break;
			if (k == sizeof mount_opts / sizeof mount_opts[0]) {
				if (strchr(s, ',') != NULL)
					return berr_set(err, BERR_INVALID, "%s: option contains a comma", fpath);
				append_data(&m->data, s);
				continue;
			}
			m->flags = (m->flags | mount_opts[k].set) & ~mount_opts[k].clear;
			m->clear_flags = (m->clear_flags | mount_opts[k].clear) & ~mount_opts[k].set;
			if (mount_opts[k].propagation)
				m->propagation = mount_opts[k].propagation;
			if (mount_opts[k].bind)
				m->bind = 1;
		}
		if (m->type && strcmp(m->type, "bind") == 0)
			m->bind = 1;
		if (m->bind) {
			if (m->source == NULL)
				return berr_set(err, BERR_INVALID, "%s.source: required for a bind mount", ipath);
			m->flags |= MS_BIND;
		} else if (m->type == NULL) {
			return berr_set(err, BERR_INVALID, "%s.type: required unless the mount is a bind mount", ipath);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------- linux */

static const struct {
	const char *name;
	int type;
} ns_names[] = {
	{ "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
};

static int
parse_namespaces(json_object *arr, struct oci_config *c, struct berr *err)
{
	char ipath[PATH_MAXLEN], fpath[PATH_MAXLEN];
	json_object *e;
	size_t i, k, n;
	char *type;

	if (want_array(arr, "linux.namespaces", err) < 0)
		return -1;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		path_index(ipath, "linux.namespaces", i);
		if (e == NULL)
			return bad_type(ipath, "an object", e, err);
		if (want_object(e, ipath, err) < 0)
			return -1;
		type = NULL;
		if (get_string(e, ipath, "type", 1, &type, err) < 0)
			return -1;
		path_key(fpath, ipath, "type");
		for (k = 0; k < sizeof ns_names / sizeof ns_names[0]; k++)
			if (strcmp(ns_names[k].name, type) == 0)
				break;
		if (k == sizeof ns_names / sizeof ns_names[0]) {
			berr_set(err, BERR_INVALID, "%s: unknown namespace type \"%.32s\"", fpath, type);
			free(type);
			return -1;
		}
		free(type);
		if (oci_config_namespace(c, ns_names[k].type))
			return berr_set(err, BERR_INVALID, "%s: namespace \"%s\" given twice", fpath,
					ns_names[k].name);
		c->namespaces[c->nnamespaces].type = ns_names[k].type;
		if (get_string(e, ipath, "path", 0, &c->namespaces[c->nnamespaces].path, err) < 0) {
			c->nnamespaces++;
			return -1;
		}
		c->nnamespaces++;
		path_key(fpath, ipath, "path");
		if (c->namespaces[c->nnamespaces - 1].path &&
		    check_abs_path(c->namespaces[c->nnamespaces - 1].path, fpath, err) < 0)
			return -1;
	}
	return 0;
}

static int
parse_idmaps(json_object *arr, const char *path, struct oci_idmap **out, size_t *nout,
	     struct berr *err)
{
	char ipath[PATH_MAXLEN];
	json_object *e;
	size_t i, n;

	if (want_array(arr, path, err) < 0)
		return -1;
	n = json_object_array_length(arr);
	if (n > 340)
		return berr_set(err, BERR_INVALID, "%s: too many mappings (at most 340)", path);
	*out = oci_calloc(n, sizeof **out);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		path_index(ipath, path, i);
		if (e == NULL)
			return bad_type(ipath, "an object", e, err);
		if (want_object(e, ipath, err) < 0)
			return -1;
		if (get_u32(e, ipath, "containerID", 1, &(*out)[i].container_id, err) < 0 ||
		    get_u32(e, ipath, "hostID", 1, &(*out)[i].host_id, err) < 0 ||
		    get_u32(e, ipath, "size", 1, &(*out)[i].size, err) < 0)
			return -1;
		if ((*out)[i].size == 0)
			return berr_set(err, BERR_INVALID, "%s.size: must be positive", ipath);
		*nout = i + 1;
	}
	return 0;
}

static int
parse_device_rules(json_object *arr, struct oci_resources *r, struct berr *err)
{
	const char *path = "linux.resources.devices";
	char ipath[PATH_MAXLEN], fpath[PATH_MAXLEN];
	json_object *e, *allow;
	size_t i, n;
	int found;
	char *s;

	if (want_array(arr, path, err) < 0)
		return -1;
	n = json_object_array_length(arr);
	r->devices = oci_calloc(n, sizeof *r->devices);
	for (i = 0; i < n; i++) {
		struct oci_device_rule *d = &r->devices[i];

		e = json_object_array_get_idx(arr, i);
		path_index(ipath, path, i);
		if (e == NULL)
			return bad_type(ipath, "an object", e, err);
		if (want_object(e, ipath, err) < 0)
			return -1;
		r->ndevices++;
		d->major = d->minor = -1;
		d->type = 'a';
		strcpy(d->access, "rwm");
		path_key(fpath, ipath, "allow");
		if (!get_field(e, "allow", &allow))
			return berr_set(err, BERR_INVALID, "%s: required", fpath);
		if (get_bool(e, ipath, "allow", &d->allow, err) < 0)
			return -1;
		s = NULL;
		if (get_string(e, ipath, "type", 0, &s, err) < 0)
			return -1;
		if (s) {
			if (strcmp(s, "a") && strcmp(s, "c") && strcmp(s, "b")) {
				free(s);
				path_key(fpath, ipath, "type");
				return berr_set(err, BERR_INVALID, "%s: expected \"a\", \"c\" or \"b\"", fpath);
			}
			d->type = s[0];
			free(s);
		}
		found = 0;
		if (get_int(e, ipath, "major", -1, INT32_MAX, &found, &d->major, err) < 0 ||
		    get_int(e, ipath, "minor", -1, INT32_MAX, &found, &d->minor, err) < 0)
			return -1;
		s = NULL;
		if (get_string(e, ipath, "access", 0, &s, err) < 0)
			return -1;
		if (s) {
			path_key(fpath, ipath, "access");
			if (strlen(s) > 3 || strspn(s, "rwm") != strlen(s)) {
				free(s);
				return berr_set(err, BERR_INVALID, "%s: expected letters of \"rwm\"", fpath);
			}
			strcpy(d->access, s);
			free(s);
		}
	}
	return 0;
}

static int
parse_resources(json_object *res, struct oci_config *c, struct berr *err)
{
	struct oci_resources *r = &c->resources;
	json_object *v;
	int64_t x;

	if (want_object(res, "linux.resources", err) < 0)
		return -1;
	if (get_field(res, "memory", &v)) {
		const char *p = "linux.resources.memory";

		if (want_object(v, p, err) < 0)
			return -1;
		if (get_int(v, p, "limit", -1, INT64_MAX, &r->has_memory_limit, &r->memory_limit, err) < 0 ||
		    get_int(v, p, "reservation", -1, INT64_MAX, &r->has_memory_reservation,
			    &r->memory_reservation, err) < 0 ||
		    get_int(v, p, "swap", -1, INT64_MAX, &r->has_memory_swap, &r->memory_swap, err) < 0)
			return -1;
		if (r->has_memory_limit && r->memory_limit >= 0 && r->memory_limit < 4096 * 64)
			return berr_set(err, BERR_INVALID, "%s.limit: below the minimum of 262144 bytes", p);
		if (r->has_memory_swap && r->has_memory_limit && r->memory_swap >= 0 &&
		    r->memory_limit >= 0 && r->memory_swap < r->memory_limit)
			return berr_set(err, BERR_INVALID, "%s.swap: must be at least the memory limit (it counts memory plus swap)", p);
	}
	if (get_field(res, "cpu", &v)) {
		const char *p = "linux.resources.cpu";
		int found = 0;

		if (want_object(v, p, err) < 0)
			return -1;
		if (get_int(v, p, "shares", 0, 262144, &r->has_cpu_shares, &x, err) < 0)
			return -1;
		r->cpu_shares = (uint64_t)x;
		if (get_int(v, p, "quota", -1, INT64_MAX, &r->has_cpu_quota, &r->cpu_quota, err) < 0)
			return -1;
		if (get_int(v, p, "period", 1000, 1000000, &found, &x, err) < 0)
			return -1;
		if (found) {
			r->has_cpu_period = 1;
			r->cpu_period = (uint64_t)x;
		}
		if (r->has_cpu_quota && r->cpu_quota >= 0 && r->cpu_quota < 1000)
			return berr_set(err, BERR_INVALID, "%s.quota: below the minimum of 1000 microseconds", p);
		if (get_string(v, p, "cpus", 0, &r->cpus, err) < 0 ||
		    get_string(v, p, "mems", 0, &r->mems, err) < 0)
			return -1;
		if (r->cpus && strspn(r->cpus, "0123456789,-") != strlen(r->cpus))
			return berr_set(err, BERR_INVALID, "%s.cpus: expected a CPU list like \"0-2,4\"", p);
		if (r->mems && strspn(r->mems, "0123456789,-") != strlen(r->mems))
			return berr_set(err, BERR_INVALID, "%s.mems: expected a node list like \"0-1\"", p);
	}
	if (get_field(res, "pids", &v)) {
		if (want_object(v, "linux.resources.pids", err) < 0)
			return -1;
		if (get_int(v, "linux.resources.pids", "limit", -1, INT64_MAX, &r->has_pids_limit,
			    &r->pids_limit, err) < 0)
			return -1;
		if (r->has_pids_limit && r->pids_limit == 0)
			return berr_set(err, BERR_INVALID, "linux.resources.pids.limit: must be positive or -1");
	}
	if (get_field(res, "devices", &v) && parse_device_rules(v, r, err) < 0)
		return -1;
	return 0;
}

static int
parse_devices(json_object *arr, struct oci_config *c, struct berr *err)
{
	char ipath[PATH_MAXLEN], fpath[PATH_MAXLEN];
	json_object *e;
	size_t i, n;
	int found;
	int64_t x;
	char *type;

	if (want_array(arr, "linux.devices", err) < 0)
		return -1;
	n = json_object_array_length(arr);
	c->devices = oci_calloc(n, sizeof *c->devices);
	for (i = 0; i < n; i++) {
		struct oci_device *d = &c->devices[i];

		e = json_object_array_get_idx(arr, i);
		path_index(ipath, "linux.devices", i);
		if (e == NULL)
			return bad_type(ipath, "an object", e, err);
		if (want_object(e, ipath, err) < 0)
			return -1;
		c->ndevices++;
		if (get_string(e, ipath, "path", 1, &d->path, err) < 0)
			return -1;
		path_key(fpath, ipath, "path");
		if (check_abs_path(d->path, fpath, err) < 0)
			return -1;
		type = NULL;
		if (get_string(e, ipath, "type", 1, &type, err) < 0)
			return -1;
		if (strcmp(type, "c") && strcmp(type, "b") && strcmp(type, "u") && strcmp(type, "p")) {
			free(type);
			path_key(fpath, ipath, "type");
			return berr_set(err, BERR_INVALID, "%s: expected \"c\", \"b\", \"u\" or \"p\"", fpath);
		}
		d->type = type[0];
		free(type);
		found = 0;
		if (get_int(e, ipath, "major", 0, 4095, &found, &d->major, err) < 0 ||
		    get_int(e, ipath, "minor", 0, 1048575, &found, &d->minor, err) < 0)
			return -1;
		found = 0;
		if (get_int(e, ipath, "fileMode", 0, 07777, &found, &x, err) < 0)
			return -1;
		if (found) {
			d->has_mode = 1;
			d->file_mode = (uint32_t)x;
		}
		if (get_u32(e, ipath, "uid", 0, &d->uid, err) < 0 ||
		    get_u32(e, ipath, "gid", 0, &d->gid, err) < 0)
			return -1;
	}
	return 0;
}

static int
parse_path_list(json_object *lin, const char *key, char ***out, size_t *nout, struct berr *err)
{
	char path[PATH_MAXLEN], ipath[PATH_MAXLEN];
	size_t i;

	if (get_strv(lin, "linux", key, out, nout, err) < 0)
		return -1;
	path_key(path, "linux", key);
	for (i = 0; *out && i < *nout; i++) {
		path_index(ipath, path, i);
		if (check_abs_path((*out)[i], ipath, err) < 0)
			return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	enum oci_scmp_action action;
} scmp_actions[] = {
	{ "SCMP_ACT_KILL", OCI_SCMP_KILL_THREAD }, { "SCMP_ACT_KILL_THREAD", OCI_SCMP_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", OCI_SCMP_KILL_PROCESS }, { "SCMP_ACT_TRAP", OCI_SCMP_TRAP },
	{ "SCMP_ACT_ERRNO", OCI_SCMP_ERRNO }, { "SCMP_ACT_TRACE", OCI_SCMP_TRACE },
	{ "SCMP_ACT_ALLOW", OCI_SCMP_ALLOW }, { "SCMP_ACT_LOG", OCI_SCMP_LOG },
};

static const char *const scmp_ops[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
	"SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static int
get_scmp_action(json_object *obj, const char *parent, const char *key, enum oci_scmp_action *out,
		struct berr *err)
{
	char path[PATH_MAXLEN];
	char *s = NULL;
	size_t k;

	if (get_string(obj, parent, key, 1, &s, err) < 0)
		return -1;
	for (k = 0; k < sizeof scmp_actions / sizeof scmp_actions[0]; k++)
		if (strcmp(scmp_actions[k].name, s) == 0)
			break;
	if (k == sizeof scmp_actions / sizeof scmp_actions[0]) {
		path_key(path, parent, key);
		berr_set(err, BERR_INVALID, "%s: unknown seccomp action \"%.64s\"", path, s);
		free(s);
		return -1;
	}
	free(s);
	*out = scmp_actions[k].action;
	return 0;
}

static int
parse_seccomp_rule(json_object *e, const char *ipath, struct oci_seccomp_rule *r, struct berr *err)
{
	char apath[PATH_MAXLEN], jpath[PATH_MAXLEN], fpath[PATH_MAXLEN];
	json_object *args, *a, *v;
	int found = 0;
	int64_t x;
	size_t j, k, n;
	char *op;

	r->errno_ret = -1;
	if (get_strv(e, ipath, "names", &r->names, &r->nnames, err) < 0)
		return -1;
	if (r->names == NULL || r->nnames == 0)
		return berr_set(err, BERR_INVALID, "%s.names: required, with at least one name", ipath);
	if (get_scmp_action(e, ipath, "action", &r->action, err) < 0)
		return -1;
	if (get_int(e, ipath, "errnoRet", 0, 4095, &found, &x, err) < 0)
		return -1;
	if (found)
		r->errno_ret = (int)x;
	path_key(apath, ipath, "args");
	if (!get_field(e, "args", &args))
		return 0;
	if (want_array(args, apath, err) < 0)
		return -1;
	n = json_object_array_length(args);
	if (n > 6)
		return berr_set(err, BERR_INVALID, "%s: at most 6 argument conditions", apath);
	for (j = 0; j < n; j++) {
		struct oci_seccomp_arg *sa = &r->args[j];

		a = json_object_array_get_idx(args, j);
		path_index(jpath, apath, j);
		if (a == NULL)
			return bad_type(jpath, "an object", a, err);
		if (want_object(a, jpath, err) < 0)
			return -1;
		found = 0;
		if (get_int(a, jpath, "index", 0, 5, &found, &x, err) < 0)
			return -1;
		if (!found)
			return berr_set(err, BERR_INVALID, "%s.index: required", jpath);
		sa->index = (unsigned)x;
		path_key(fpath, jpath, "value");
		if (!get_field(a, "value", &v))
			return berr_set(err, BERR_INVALID, "%s: required", fpath);
		if (check_u64(v, fpath, &sa->value, err) < 0)
			return -1;
		path_key(fpath, jpath, "valueTwo");
		if (get_field(a, "valueTwo", &v) && check_u64(v, fpath, &sa->value_two, err) < 0)
			return -1;
		op = NULL;
		if (get_string(a, jpath, "op", 1, &op, err) < 0)
			return -1;
		for (k = 0; k < sizeof scmp_ops / sizeof scmp_ops[0]; k++)
			if (strcmp(scmp_ops[k], op) == 0)
				break;
		if (k == sizeof scmp_ops / sizeof scmp_ops[0]) {
			path_key(fpath, jpath, "op");
			berr_set(err, BERR_INVALID, "%s: unknown operator \"%.64s\"", fpath, op);
			free(op);
			return -1;
		}
		free(op);
		sa->op = (enum oci_scmp_op)k;
		r->nargs = j + 1;
	}
	return 0;
}

static int
parse_seccomp(json_object *o, struct oci_config *c, struct berr *err)
{
	const char *p = "linux.seccomp";
	char ipath[PATH_MAXLEN];
	struct oci_seccomp *s;
	json_object *arr, *e;
	int found = 0;
	int64_t x;
	size_t i, n;

	if (want_object(o, p, err) < 0)
		return -1;
	s = c->seccomp = oci_calloc(1, sizeof *s);
	s->default_errno = -1;
	if (get_scmp_action(o, p, "defaultAction", &s->default_action, err) < 0)
		return -1;
	if (get_int(o, p, "defaultErrnoRet", 0, 4095, &found, &x, err) < 0)
		return -1;
	if (found)
		s->default_errno = (int)x;
	if (get_strv(o, p, "architectures", &s->archs, &s->narchs, err) < 0)
		return -1;
	if (!get_field(o, "syscalls", &arr))
		return 0;
	if (want_array(arr, "linux.seccomp.syscalls", err) < 0)
		return -1;
	n = json_object_array_length(arr);
	s->rules = oci_calloc(n, sizeof *s->rules);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		path_index(ipath, "linux.seccomp.syscalls", i);
		if (e == NULL)
			return bad_type(ipath, "an object", e, err);
		if (want_object(e, ipath, err) < 0)
			return -1;
		s->nrules++;
		if (parse_seccomp_rule(e, ipath, &s->rules[i], err) < 0)
			return -1;
	}
	return 0;
}

static int
parse_sysctl(json_object *o, struct oci_config *c, struct berr *err)
{
	char path[PATH_MAXLEN];
	size_t n = 0;

	if (want_object(o, "linux.sysctl", err) < 0)
		return -1;
	n = (size_t)json_object_object_length(o);
	c->sysctl_keys = oci_calloc(n + 1, sizeof(char *));
	c->sysctl_values = oci_calloc(n + 1, sizeof(char *));
	json_object_object_foreach(o, key, val) {
		path_key(path, "linux.sysctl", key);
		if (val == NULL || !json_object_is_type(val, json_type_string))
			return bad_type(path, "a string", val, err);
		if (key[0] == '\0' || strstr(key, "..") || strchr(key, '/') ||
		    strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(key))
			return berr_set(err, BERR_INVALID, "%s: not a valid sysctl name", path);
		c->sysctl_keys[c->nsysctl] = oci_strdup(key);
		c->sysctl_values[c->nsysctl] = oci_strdup(json_object_get_string(val));
		c->nsysctl++;
	}
	return 0;
}

static int
parse_linux(json_object *lin, struct oci_config *c, struct berr *err)
{
	json_object *v;
	char *prop = NULL;

	if (want_object(lin, "linux", err) < 0)
		return -1;
	if (get_field(lin, "namespaces", &v) && parse_namespaces(v, c, err) < 0)
		return -1;
	if (get_field(lin, "uidMappings", &v) &&
	    parse_idmaps(v, "linux.uidMappings", &c->uid_mappings, &c->nuid_mappings, err) < 0)
		return -1;
	if (get_field(lin, "gidMappings", &v) &&
	    parse_idmaps(v, "linux.gidMappings", &c->gid_mappings, &c->ngid_mappings, err) < 0)
		return -1;
	if (get_string(lin, "linux", "cgroupsPath", 0, &c->cgroups_path, err) < 0)
		return -1;
	if (c->cgroups_path && (strstr(c->cgroups_path, "..") || strlen(c->cgroups_path) > 1024))
		return berr_set(err, BERR_INVALID, "linux.cgroupsPath: must not contain \"..\"");
	if (c->cgroups_path && strspn(c->cgroups_path, "/") == strlen(c->cgroups_path))
		return berr_set(err, BERR_INVALID, "linux.cgroupsPath: must name a cgroup below the root");
	if (get_field(lin, "resources", &v) && parse_resources(v, c, err) < 0)
		return -1;
	if (get_field(lin, "devices", &v) && parse_devices(v, c, err) < 0)
		return -1;
	if (parse_path_list(lin, "maskedPaths", &c->masked_paths, &c->nmasked_paths, err) < 0 ||
	    parse_path_list(lin, "readonlyPaths", &c->readonly_paths, &c->nreadonly_paths, err) < 0)
		return -1;
	if (get_field(lin, "sysctl", &v) && parse_sysctl(v, c, err) < 0)
		return -1;
	if (json_object_object_get_ex(lin, "seccomp", &v)) {
		if (v == NULL)
			c->seccomp_disabled = 1;
		else if (parse_seccomp(v, c, err) < 0)
			return -1;
	}
	if (get_string(lin, "linux", "rootfsPropagation", 0, &prop, err) < 0)
		return -1;
	if (prop) {
		if (strcmp(prop, "private") == 0) c->rootfs_propagation = MS_PRIVATE;
		else if (strcmp(prop, "rprivate") == 0) c->rootfs_propagation = MS_PRIVATE | MS_REC;
		else if (strcmp(prop, "slave") == 0) c->rootfs_propagation = MS_SLAVE;
		else if (strcmp(prop, "rslave") == 0) c->rootfs_propagation = MS_SLAVE | MS_REC;
		else if (strcmp(prop, "shared") == 0) c->rootfs_propagation = MS_SHARED;
		else if (strcmp(prop, "rshared") == 0) c->rootfs_propagation = MS_SHARED | MS_REC;
		else if (strcmp(prop, "unbindable") == 0) c->rootfs_propagation = MS_UNBINDABLE;
		else if (strcmp(prop, "runbindable") == 0) c->rootfs_propagation = MS_UNBINDABLE | MS_REC;
		else {
			berr_set(err, BERR_INVALID, "linux.rootfsPropagation: unknown propagation \"%.32s\"", prop);
			free(prop);
			return -1;
		}
		free(prop);
	}
	return 0;
}

/* ------------------------------------------------------------------ public */

const struct oci_namespace *
oci_config_namespace(const struct oci_config *c, int type)
{
	size_t i;

	for (i = 0; i < c->nnamespaces; i++)
		if (c->namespaces[i].type == type)
			return &c->namespaces[i];
	return NULL;
}

static int
parse_root_object(json_object *root, struct oci_config *c, struct berr *err)
{
	json_object *v;

	if (want_object(root, "(top level)", err) < 0)
		return -1;
	if (get_string(root, "", "ociVersion", 0, &c->oci_version, err) < 0)
		return -1;
	if (!get_field(root, "process", &v))
		return berr_set(err, BERR_INVALID, "process: required");
	if (parse_process(v, c, err) < 0)
		return -1;
	if (!get_field(root, "root", &v))
		return berr_set(err, BERR_INVALID, "root: required");
	if (want_object(v, "root", err) < 0)
		return -1;
	if (get_string(v, "root", "path", 1, &c->root_path, err) < 0 ||
	    get_bool(v, "root", "readonly", &c->root_readonly, err) < 0)
		return -1;
	if (c->root_path[0] == '\0' || strlen(c->root_path) >= PATH_MAX)
		return berr_set(err, BERR_INVALID, "root.path: must be a non-empty path");
	if (get_string(root, "", "hostname", 0, &c->hostname, err) < 0)
		return -1;
	if (c->hostname && strlen(c->hostname) > 64)
		return berr_set(err, BERR_INVALID, "hostname: longer than 64 bytes");
	if (get_field(root, "mounts", &v) && parse_mounts(v, c, err) < 0)
		return -1;
	if (get_field(root, "linux", &v) && parse_linux(v, c, err) < 0)
		return -1;
	if (c->hostname && !oci_config_namespace(c, CLONE_NEWUTS))
		return berr_set(err, BERR_INVALID, "hostname: needs a new uts namespace");
	if ((c->nuid_mappings || c->ngid_mappings) && !oci_config_namespace(c, CLONE_NEWUSER))
		return berr_set(err, BERR_INVALID, "linux.uidMappings: needs a user namespace");
	if (oci_config_namespace(c, CLONE_NEWUSER) && !oci_config_namespace(c, CLONE_NEWUSER)->path &&
	    (c->nuid_mappings == 0 || c->ngid_mappings == 0))
		return berr_set(err, BERR_INVALID, "linux.uidMappings: a new user namespace needs uid and gid mappings");
	return 0;
}

int
oci_config_parse(const char *text, size_t len, struct oci_config **out, struct berr *err)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *root;
	struct oci_config *c;

	*out = NULL;
	if (len > OCI_CONFIG_MAX_BYTES)
		return berr_set(err, EFBIG, "larger than %d bytes", OCI_CONFIG_MAX_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return berr_set(err, BERR_INVALID, "contains a NUL byte");
	tok = json_tokener_new_ex(64);
	if (tok == NULL)
		abort();
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (root == NULL || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			berr_set(err, BERR_INVALID, "not valid JSON: unexpected end of input");
		else
			berr_set(err, BERR_INVALID, "not valid JSON at byte %zu: %s",
				 json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		json_object_put(root);
		json_tokener_free(tok);
		return -1;
	}
	if (json_tokener_get_parse_end(tok) < len &&
	    strspn(text + json_tokener_get_parse_end(tok), " \t\r\n") != len - json_tokener_get_parse_end(tok)) {
		json_object_put(root);
		json_tokener_free(tok);
		return berr_set(err, BERR_INVALID, "not valid JSON: trailing data after the object");
	}
	json_tokener_free(tok);
	c = oci_calloc(1, sizeof *c);
	if (parse_root_object(root, c, err) < 0) {
		json_object_put(root);
		oci_config_free(c);
		return -1;
	}
	json_object_put(root);
	*out = c;
	return 0;
}

int
oci_config_load(const char *bundle, struct oci_config **out, struct berr *err)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof path, "%s/config.json", bundle) >= sizeof path)
		return berr_set(err, ENAMETOOLONG, "config.json: bundle path too long");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, "config.json: opening %s", path);
	for (;;) {
		if (len + 65536 + 1 > cap) {
			char *nb;

			cap = len + 65536 + 1;
			nb = realloc(buf, cap);
			if (nb == NULL)
				abort();
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			berr_errno(err, "config.json: reading %s", path);
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > OCI_CONFIG_MAX_BYTES) {
			free(buf);
			close(fd);
			return berr_set(err, EFBIG, "config.json: larger than %d bytes", OCI_CONFIG_MAX_BYTES);
		}
	}
	close(fd);
	buf[len] = '\0';
	rc = oci_config_parse(buf, len, out, err);
	free(buf);
	if (rc < 0)
		return berr_wrap(err, "config.json");
	return 0;
}

void
oci_config_free(struct oci_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->oci_version);
	free(c->additional_gids);
	free_strv(c->args);
	free_strv(c->env);
	free(c->cwd);
	free(c->rlimits);
	free(c->root_path);
	free(c->hostname);
	for (i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free(c->mounts[i].data);
	}
	free(c->mounts);
	for (i = 0; i < c->nnamespaces; i++)
		free(c->namespaces[i].path);
	free(c->uid_mappings);
	free(c->gid_mappings);
	free(c->cgroups_path);
	free(c->resources.cpus);
	free(c->resources.mems);
	free(c->resources.devices);
	for (i = 0; i < c->ndevices; i++)
		free(c->devices[i].path);
	free(c->devices);
	free_strv(c->masked_paths);
	free_strv(c->readonly_paths);
	free_strv(c->sysctl_keys);
	free_strv(c->sysctl_values);
	if (c->seccomp) {
		free_strv(c->seccomp->archs);
		for (i = 0; i < c->seccomp->nrules; i++)
			free_strv(c->seccomp->rules[i].names);
		free(c->seccomp->rules);
		free(c->seccomp);
	}
	free(c);
}
