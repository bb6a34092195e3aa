/*
 * cgroup.c - a container's control groups on cgroup v2, v1 or hybrid hosts.
 *
 * For: the host layout is read from /proc/self/mountinfo at run time (cgroup2
 * mounts, and each v1 hierarchy with the controllers in its super options),
 * so co-mounted controllers ("cpu,cpuacct") and split ones both work.
 * Limits go where the controller lives: v2 files on a pure v2 host, v1 files
 * on v1 and hybrid hosts.  Not for: device filtering on pure v2 (that needs
 * an eBPF program; berth-ctr relies on the device nodes it creates instead).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "ctr/cgroup.h"
#include "ctr/devfilter.h"

static const char *const ctrl_names[CGC_NCTRL] = {
	"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices", "freezer",
};

struct cg_layout {
	int loaded;
	char *v2_mount;
	char *v1_mount[CGC_NCTRL];
};

static struct cg_layout layout;

/* mountinfo escapes spaces etc. as \ooo; decode in place. */
static void
unescape_octal(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

static int
opt_has(const char *opts, const char *name)
{
	size_t n = strlen(name);
	const char *p = opts;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == opts || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

static void
layout_load(void)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int i;

	if (layout.loaded)
		return;
	layout.loaded = 1;
	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *fields[12], *p, *save = NULL, *sep, *fstype, *sopts;
		int nf = 0;

		sep = strstr(line, " - ");
		if (sep == NULL)
			continue;
		*sep = '\0';
		for (p = strtok_r(line, " ", &save); p && nf < 12; p = strtok_r(NULL, " ", &save))
			fields[nf++] = p;
		if (nf < 5)
			continue;
		save = NULL;
		fstype = strtok_r(sep + 3, " ", &save);
		(void)strtok_r(NULL, " ", &save);	/* source */
		sopts = strtok_r(NULL, " \n", &save);
		if (fstype == NULL || sopts == NULL)
			continue;
		unescape_octal(fields[4]);
		if (strcmp(fstype, "cgroup2") == 0) {
			if (layout.v2_mount == NULL)
				layout.v2_mount = xstrdup(fields[4]);
		} else if (strcmp(fstype, "cgroup") == 0) {
			for (i = 0; i < CGC_NCTRL; i++)
				if (layout.v1_mount[i] == NULL && opt_has(sopts, ctrl_names[i]))
					layout.v1_mount[i] = xstrdup(fields[4]);
		}
	}
	free(line);
	fclose(f);
}

enum cg_mode
cgroup_detect(void)
{
	int i, v1 = 0;

	layout_load();
	for (i = 0; i < CGC_NCTRL; i++)
		if (layout.v1_mount[i])
			v1 = 1;
	if (v1 && layout.v2_mount)
		return CG_HYBRID;
	if (v1)
		return CG_V1;
	if (layout.v2_mount)
		return CG_V2;
	return CG_NONE;
}

const char *
cgroup_mode_name(enum cg_mode m)
{
	switch (m) {
	case CG_V1: return "v1";
	case CG_HYBRID: return "hybrid";
	case CG_V2: return "v2";
	default: return "none";
	}
}

static int
write_str(const char *dir, const char *file, const char *val, struct berr *err)
{
	char path[PATH_MAX];
	int fd;
	ssize_t n;
	size_t len = strlen(val);

	snprintf(path, sizeof path, "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return berr_errno(err, "opening %s", path);
	n = write(fd, val, len);
	if (n < 0 || (size_t)n != len) {
		if (n >= 0)
			errno = EIO;
		berr_errno(err, "writing \"%s\" to %s", val, path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
read_str(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	int fd;
	ssize_t n;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int
read_u64(const char *dir, const char *file, uint64_t *out)
{
	char buf[64];

	if (dir == NULL || read_str(dir, file, buf, sizeof buf) < 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0) {
		*out = 0;
		return 0;
	}
	*out = strtoull(buf, NULL, 10);
	return 0;
}

/* "key value" lines: find key's value. */
static int
read_keyed(const char *dir, const char *file, const char *key, uint64_t *out)
{
	char buf[4096], *p;
	size_t klen = strlen(key);

	if (dir == NULL || read_str(dir, file, buf, sizeof buf) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			*out = strtoull(p + klen + 1, NULL, 10);
			return 0;
		}
	}
	return -1;
}

/* Controller i has a directory and is the first of those co-mounted with
 * it (cpu,cpuacct share one): the one to act on for their hierarchy. */
static int
v1_first(const struct cgroup *cg, int i)
{
	int j;

	if (cg->v1_dir[i] == NULL)
		return 0;
	for (j = 0; j < i; j++)
		if (cg->v1_dir[j] && strcmp(cg->v1_dir[j], cg->v1_dir[i]) == 0)
			return 0;
	return 1;
}

static char *
join_dir(const char *mount, const char *rel)
{
	return xasprintf("%s%s", mount, rel);
}

int
cgroup_open(struct cgroup *cg, const char *rel, struct berr *err)
{
	int i;

	memset(cg, 0, sizeof *cg);
	if (rel[0] != '/' || strstr(rel, "/..") || strstr(rel, "//"))
		return berr_set(err, BERR_INVALID, "cgroup path \"%s\": must be absolute and clean", rel);
	/* The root cgroup holds every process of the host: never the container's. */
	if (strspn(rel, "/") == strlen(rel))
		return berr_set(err, BERR_INVALID, "cgroup path \"%s\": the root cgroup (refused)", rel);
	cg->mode = cgroup_detect();
	if (cg->mode == CG_NONE)
		return berr_set(err, BERR_NOTSUP, "no cgroup file system is mounted");
	cg->rel = xstrdup(rel);
	/* Hybrid: the v1 controllers hold every limit and list the processes;
	 * moving them into the empty unified tree too only costs time. */
	if (layout.v2_mount && cg->mode == CG_V2)
		cg->v2_dir = join_dir(layout.v2_mount, rel);
	if (cg->mode != CG_V2)
		for (i = 0; i < CGC_NCTRL; i++)
			if (layout.v1_mount[i])
				cg->v1_dir[i] = join_dir(layout.v1_mount[i], rel);
	return 0;
}

/* mkdir -p under a hierarchy root, calling at_level for each new level. */
static int
mkdir_levels(const char *mount, const char *rel,
	     int (*at_level)(const char *parent, const char *dir, void *arg), void *arg,
	     struct berr *err)
{
	char parent[PATH_MAX], dir[PATH_MAX];
	const char *p = rel;

	snprintf(parent, sizeof parent, "%s", mount);
	while (*p) {
		const char *next;
		size_t len;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		next = strchr(p, '/');
		len = next ? (size_t)(next - p) : strlen(p);
		if (strlen(parent) + len + 2 > sizeof dir)
			return berr_set(err, ENAMETOOLONG, "cgroup path too long");
		memcpy(dir, parent, strlen(parent));
		dir[strlen(parent)] = '/';
		memcpy(dir + strlen(parent) + 1, p, len);
		dir[strlen(parent) + 1 + len] = '\0';
		if (at_level && at_level(parent, dir, arg) < 0)
			return berr_wrap(err, "preparing cgroup %s", dir);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return berr_errno(err, "creating cgroup %s", dir);
		snprintf(parent, sizeof parent, "%s", dir);
		p += len;
	}
	return 0;
}

/* v2: before creating a child, enable the controllers it will need. */
static int
v2_enable_controllers(const char *parent, const char *dir, void *arg)
{
	static const char *const want[] = { "memory", "pids", "cpu", "cpuset", "io" };
	char avail[1024];
	size_t i;

	(void)dir;
	(void)arg;
	if (read_str(parent, "cgroup.controllers", avail, sizeof avail) < 0)
		return 0;
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		char op[32];

		if (!opt_has(avail, want[i]) && strstr(avail, want[i]) == NULL)
			continue;
		snprintf(op, sizeof op, "+%s", want[i]);
		(void)write_str(parent, "cgroup.subtree_control", op, NULL);
	}
	return 0;
}

/* v1 cpuset: a new group starts with no CPUs or nodes; copy the parent's. */
static int
v1_cpuset_inherit(const char *parent, const char *dir, void *arg)
{
	char buf[1024];
	struct stat st;

	(void)arg;
	if (stat(dir, &st) == 0)
		return 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	if (read_str(dir, "cpuset.cpus", buf, sizeof buf) == 0 && (buf[0] == '\n' || buf[0] == '\0') &&
	    read_str(parent, "cpuset.cpus", buf, sizeof buf) == 0)
		(void)write_str(dir, "cpuset.cpus", buf, NULL);
	if (read_str(dir, "cpuset.mems", buf, sizeof buf) == 0 && (buf[0] == '\n' || buf[0] == '\0') &&
	    read_str(parent, "cpuset.mems", buf, sizeof buf) == 0)
		(void)write_str(dir, "cpuset.mems", buf, NULL);
	return 0;
}

/* An existing cgroup that holds processes or child groups belongs to someone
 * else (a service, a slice, another container): joining it would put the
 * container under their limits, and destroying it on delete or on a failed
 * create would kill all of them.  An empty leftover is fine. */
static int
cgroup_in_use(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int c, busy = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;	/* does not exist yet */
	c = fgetc(f);
	fclose(f);
	if (c != EOF)
		return 1;
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while (!busy && (de = readdir(d)) != NULL)
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			busy = 1;
	closedir(d);
	return busy;
}

int
cgroup_create(struct cgroup *cg, const char *rel, struct berr *err)
{
	int i;

	if (cgroup_open(cg, rel, err) < 0)
		return -1;
	for (i = -1; i < CGC_NCTRL; i++) {
		const char *d = i < 0 ? cg->v2_dir : cg->v1_dir[i];

		if (d && cgroup_in_use(d)) {
			berr_set(err, EBUSY, "cgroup %s already holds processes or groups (in use)", d);
			cgroup_free(cg);
			return -1;
		}
	}
	if (cg->v2_dir) {
		if (mkdir_levels(layout.v2_mount, rel, cg->mode == CG_V2 ? v2_enable_controllers : NULL,
				 NULL, err) < 0)
			goto fail;
	}
	for (i = 0; i < CGC_NCTRL; i++) {
		if (!v1_first(cg, i))
			continue;
		if (mkdir_levels(layout.v1_mount[i], rel, i == CGC_CPUSET ? v1_cpuset_inherit : NULL,
				 NULL, err) < 0)
			goto fail;
	}
	return 0;
fail:
	cgroup_destroy(cg, NULL);
	return -1;
}

static int
write_fmt(const char *dir, const char *file, struct berr *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
write_fmt(const char *dir, const char *file, struct berr *err, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return write_str(dir, file, buf, err);
}

static int
apply_v2(struct cgroup *cg, const struct oci_resources *r, struct berr *err)
{
	const char *d = cg->v2_dir;

	if (r->has_memory_limit) {
		if (r->memory_limit < 0 ? write_str(d, "memory.max", "max", err)
					: write_fmt(d, "memory.max", err, "%lld", (long long)r->memory_limit))
			return -1;
	}
	if (r->has_memory_reservation && r->memory_reservation >= 0 &&
	    write_fmt(d, "memory.low", err, "%lld", (long long)r->memory_reservation) < 0)
		return -1;
	if (r->has_memory_swap) {
		int rc;

		if (r->memory_swap < 0)
			rc = write_str(d, "memory.swap.max", "max", err);
		else
			rc = write_fmt(d, "memory.swap.max", err, "%lld",
				       (long long)(r->memory_swap - (r->has_memory_limit && r->memory_limit > 0 ? r->memory_limit : 0)));
		if (rc < 0 && errno != ENOENT)
			return -1;
	}
	if (r->has_cpu_shares && r->cpu_shares > 0) {
		/* The usual conversion from v1 shares [2, 262144] to weight [1, 10000]. */
		uint64_t s = r->cpu_shares < 2 ? 2 : r->cpu_shares;
		uint64_t w = 1 + ((s - 2) * 9999) / 262142;

		if (write_fmt(d, "cpu.weight", err, "%llu", (unsigned long long)w) < 0)
			return -1;
	}
	if (r->has_cpu_quota || r->has_cpu_period) {
		uint64_t period = r->has_cpu_period ? r->cpu_period : 100000;

		if (r->has_cpu_quota && r->cpu_quota > 0) {
			if (write_fmt(d, "cpu.max", err, "%lld %llu", (long long)r->cpu_quota,
				      (unsigned long long)period) < 0)
				return -1;
		} else if (write_fmt(d, "cpu.max", err, "max %llu", (unsigned long long)period) < 0) {
			return -1;
		}
	}
	if (r->cpus && r->cpus[0] && write_str(d, "cpuset.cpus", r->cpus, err) < 0)
		return -1;
	if (r->mems && r->mems[0] && write_str(d, "cpuset.mems", r->mems, err) < 0)
		return -1;
	if (r->has_pids_limit) {
		if (r->pids_limit < 0 ? write_str(d, "pids.max", "max", err)
				      : write_fmt(d, "pids.max", err, "%lld", (long long)r->pids_limit))
			return -1;
	}
	return 0;
}

static int
need_ctrl(struct cgroup *cg, enum cg_ctrl c, struct berr *err)
{
	if (cg->v1_dir[c] == NULL)
		return berr_set(err, BERR_NOTSUP, "the %s cgroup controller is not mounted", ctrl_names[c]);
	return 0;
}

static void
device_rule_text(char *buf, size_t size, char type, int64_t major, int64_t minor, const char *access)
{
	char ma[24], mi[24];

	if (major < 0)
		strcpy(ma, "*");
	else
		snprintf(ma, sizeof ma, "%lld", (long long)major);
	if (minor < 0)
		strcpy(mi, "*");
	else
		snprintf(mi, sizeof mi, "%lld", (long long)minor);
	if (type == 'a')
		snprintf(buf, size, "a");
	else
		snprintf(buf, size, "%c %s:%s %s", type, ma, mi, access);
}

static int
apply_v1(struct cgroup *cg, const struct oci_resources *r, struct berr *err)
{
	const char *d;

	if (r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap) {
		if (need_ctrl(cg, CGC_MEMORY, err) < 0)
			return -1;
		d = cg->v1_dir[CGC_MEMORY];
		if (r->has_memory_limit &&
		    write_fmt(d, "memory.limit_in_bytes", err, "%lld", (long long)r->memory_limit) < 0)
			return -1;
		if (r->has_memory_reservation &&
		    write_fmt(d, "memory.soft_limit_in_bytes", err, "%lld", (long long)r->memory_reservation) < 0)
			return -1;
		if (r->has_memory_swap) {
			char p[PATH_MAX];

			snprintf(p, sizeof p, "%s/memory.memsw.limit_in_bytes", d);
			if (access(p, F_OK) == 0 &&
			    write_fmt(d, "memory.memsw.limit_in_bytes", err, "%lld", (long long)r->memory_swap) < 0)
				return -1;
		}
	}
	if (r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period) {
		if (need_ctrl(cg, CGC_CPU, err) < 0)
			return -1;
		d = cg->v1_dir[CGC_CPU];
		if (r->has_cpu_shares && r->cpu_shares > 0 &&
		    write_fmt(d, "cpu.shares", err, "%llu", (unsigned long long)r->cpu_shares) < 0)
			return -1;
		if (r->has_cpu_period &&
		    write_fmt(d, "cpu.cfs_period_us", err, "%llu", (unsigned long long)r->cpu_period) < 0)
			return -1;
		if (r->has_cpu_quota &&
		    write_fmt(d, "cpu.cfs_quota_us", err, "%lld", (long long)(r->cpu_quota > 0 ? r->cpu_quota : -1)) < 0)
			return -1;
	}
	if ((r->cpus && r->cpus[0]) || (r->mems && r->mems[0])) {
		if (need_ctrl(cg, CGC_CPUSET, err) < 0)
			return -1;
		d = cg->v1_dir[CGC_CPUSET];
		if (r->cpus && r->cpus[0] && write_str(d, "cpuset.cpus", r->cpus, err) < 0)
			return -1;
		if (r->mems && r->mems[0] && write_str(d, "cpuset.mems", r->mems, err) < 0)
			return -1;
	}
	if (r->has_pids_limit) {
		if (need_ctrl(cg, CGC_PIDS, err) < 0)
			return -1;
		d = cg->v1_dir[CGC_PIDS];
		if (r->pids_limit < 0 ? write_str(d, "pids.max", "max", err)
				      : write_fmt(d, "pids.max", err, "%lld", (long long)r->pids_limit))
			return -1;
	}
	return 0;
}

int
cgroup_apply(struct cgroup *cg, const struct oci_resources *r, struct berr *err)
{
	int rc = cg->mode == CG_V2 ? apply_v2(cg, r, err) : apply_v1(cg, r, err);

	if (rc < 0)
		return berr_wrap(err, "applying cgroup limits (%s)", cgroup_mode_name(cg->mode));
	return 0;
}

int
cgroup_set_devices(struct cgroup *cg, const struct oci_resources *r, const struct oci_device *devs,
		   size_t ndevs, struct berr *err)
{
	/* The standard nodes berth-ctr creates in /dev are always usable. */
	static const struct { char type; int64_t major, minor; } std[] = {
		{ 'c', 1, 3 }, { 'c', 1, 5 }, { 'c', 1, 7 }, { 'c', 1, 8 }, { 'c', 1, 9 },
		{ 'c', 5, 0 }, { 'c', 5, 1 }, { 'c', 5, 2 }, { 'c', 136, -1 },
	};
	const size_t nstd = sizeof std / sizeof std[0];
	struct oci_device_rule *rules;
	size_t n = 0, i;
	int rc = 0;

	if (cg->mode != CG_V2 && cg->v1_dir[CGC_DEVICES] == NULL)
		return 0;
	rules = xcalloc(1 + r->ndevices + nstd + ndevs, sizeof *rules);
	rules[n].allow = 0;
	rules[n].type = 'a';
	rules[n].major = rules[n].minor = -1;
	strcpy(rules[n++].access, "rwm");
	for (i = 0; i < r->ndevices; i++)
		rules[n++] = r->devices[i];
	for (i = 0; i < nstd; i++) {
		rules[n].allow = 1;
		rules[n].type = std[i].type;
		rules[n].major = std[i].major;
		rules[n].minor = std[i].minor;
		strcpy(rules[n++].access, "rwm");
	}
	for (i = 0; i < ndevs; i++) {
		if (devs[i].type == 'p')
			continue;
		rules[n].allow = 1;
		rules[n].type = devs[i].type == 'u' ? 'c' : devs[i].type;
		rules[n].major = devs[i].major;
		rules[n].minor = devs[i].minor;
		strcpy(rules[n++].access, "rwm");
	}
	if (cg->mode == CG_V2) {
		rc = devfilter_attach(cg->v2_dir, rules, n, err);
	} else {
		char text[96];

		for (i = 0; i < n && rc == 0; i++) {
			device_rule_text(text, sizeof text, rules[i].type, rules[i].major, rules[i].minor,
					 rules[i].access);
			rc = write_str(cg->v1_dir[CGC_DEVICES], rules[i].allow ? "devices.allow" : "devices.deny",
				       text, err);
		}
	}
	free(rules);
	if (rc < 0)
		return berr_wrap(err, "device rules (%s)", cgroup_mode_name(cg->mode));
	return 0;
}

int
cgroup_add_pid_v2(struct cgroup *cg, pid_t pid, struct berr *err)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%d", (int)pid);
	return cg->v2_dir ? write_str(cg->v2_dir, "cgroup.procs", buf, err) : 0;
}

int
cgroup_open_tasks(struct cgroup *cg, int fds[CGC_NCTRL], struct berr *err)
{
	char path[PATH_MAX];
	int i, n = 0;

	for (i = 0; i < CGC_NCTRL; i++) {
		if (!v1_first(cg, i))
			continue;
		snprintf(path, sizeof path, "%s/tasks", cg->v1_dir[i]);
		fds[n] = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fds[n] < 0) {
			berr_errno(err, "opening %s", path);
			cgroup_close_tasks(fds, n);
			return -1;
		}
		n++;
	}
	return n;
}

int
cgroup_join_tasks(const int *fds, int n, struct berr *err)
{
	int i;

	for (i = 0; i < n; i++)
		if (write(fds[i], "0", 1) != 1)
			return berr_errno(err, "joining the container's v1 cgroups (tasks)");
	return 0;
}

void
cgroup_close_tasks(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

int
cgroup_join_self(struct cgroup *cg, struct berr *err)
{
	int fds[CGC_NCTRL], n, rc;

	n = cgroup_open_tasks(cg, fds, err);
	if (n < 0)
		return -1;
	rc = cgroup_join_tasks(fds, n, err);
	cgroup_close_tasks(fds, n);
	if (rc < 0)
		return -1;
	return cg->v2_dir ? write_str(cg->v2_dir, "cgroup.procs", "0", err) : 0;
}

int
cgroup_add_pid(struct cgroup *cg, pid_t pid, struct berr *err)
{
	char buf[32];
	int i;

	snprintf(buf, sizeof buf, "%d", (int)pid);
	if (cg->v2_dir && write_str(cg->v2_dir, "cgroup.procs", buf, err) < 0)
		return -1;
	for (i = 0; i < CGC_NCTRL; i++) {
		if (v1_first(cg, i) && write_str(cg->v1_dir[i], "cgroup.procs", buf, err) < 0)
			return -1;
	}
	return 0;
}

static void
io_stat_v2(const char *dir, struct cg_stats *st)
{
	char buf[8192], *line, *save = NULL;

	if (read_str(dir, "io.stat", buf, sizeof buf) < 0)
		return;
	st->has_io = 1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p;

		if ((p = strstr(line, "rbytes=")))
			st->io_read_bytes += strtoull(p + 7, NULL, 10);
		if ((p = strstr(line, "wbytes=")))
			st->io_write_bytes += strtoull(p + 7, NULL, 10);
	}
}

static void
io_stat_v1(const char *dir, struct cg_stats *st)
{
	char buf[8192], *line, *save = NULL;

	if (dir == NULL || read_str(dir, "blkio.throttle.io_service_bytes", buf, sizeof buf) < 0)
		return;
	st->has_io = 1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[32], op[16];
		unsigned long long v;

		if (sscanf(line, "%31s %15s %llu", dev, op, &v) != 3)
			continue;
		if (strcmp(op, "Read") == 0)
			st->io_read_bytes += v;
		else if (strcmp(op, "Write") == 0)
			st->io_write_bytes += v;
	}
}

int
cgroup_stats(struct cgroup *cg, struct cg_stats *st, struct berr *err)
{
	uint64_t v;

	memset(st, 0, sizeof *st);
	if (cg->mode == CG_V2) {
		const char *d = cg->v2_dir;

		if (read_keyed(d, "cpu.stat", "usage_usec", &v) == 0)
			st->cpu_usage_ns = v * 1000;
		(void)read_u64(d, "memory.current", &st->mem_current);
		if (read_u64(d, "memory.peak", &st->mem_peak) == 0)
			st->has_peak = 1;
		(void)read_u64(d, "memory.max", &st->mem_limit);
		(void)read_u64(d, "pids.current", &st->pids_current);
		(void)read_u64(d, "pids.max", &st->pids_limit);
		(void)read_keyed(d, "memory.events", "oom_kill", &st->oom_kills);
		io_stat_v2(d, st);
		return 0;
	}
	(void)read_u64(cg->v1_dir[CGC_CPUACCT], "cpuacct.usage", &st->cpu_usage_ns);
	(void)read_u64(cg->v1_dir[CGC_MEMORY], "memory.usage_in_bytes", &st->mem_current);
	if (read_u64(cg->v1_dir[CGC_MEMORY], "memory.max_usage_in_bytes", &st->mem_peak) == 0)
		st->has_peak = 1;
	if (read_u64(cg->v1_dir[CGC_MEMORY], "memory.limit_in_bytes", &v) == 0 && v < (1ULL << 62))
		st->mem_limit = v;
	(void)read_u64(cg->v1_dir[CGC_PIDS], "pids.current", &st->pids_current);
	(void)read_u64(cg->v1_dir[CGC_PIDS], "pids.max", &st->pids_limit);
	(void)read_keyed(cg->v1_dir[CGC_MEMORY], "memory.oom_control", "oom_kill", &st->oom_kills);
	io_stat_v1(cg->v1_dir[CGC_BLKIO], st);
	(void)err;
	return 0;
}

/* The directory whose cgroup.procs lists every process of the container. */
static const char *
procs_dir(struct cgroup *cg)
{
	static const enum cg_ctrl pref[] = { CGC_PIDS, CGC_MEMORY, CGC_FREEZER, CGC_CPU };
	size_t i;

	if (cg->v2_dir)
		return cg->v2_dir;
	for (i = 0; i < sizeof pref / sizeof pref[0]; i++)
		if (cg->v1_dir[pref[i]])
			return cg->v1_dir[pref[i]];
	return NULL;
}

int
cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct berr *err)
{
	char path[PATH_MAX], line[32];
	const char *d = procs_dir(cg);
	FILE *f;
	size_t cap = 0;

	*pids = NULL;
	*n = 0;
	if (d == NULL)
		return berr_set(err, BERR_NOTSUP, "no cgroup to list processes from");
	snprintf(path, sizeof path, "%s/cgroup.procs", d);
	f = fopen(path, "re");
	if (f == NULL)
		return berr_errno(err, "opening %s", path);
	while (fgets(line, sizeof line, f)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*pids = xrealloc(*pids, cap * sizeof **pids);
		}
		(*pids)[(*n)++] = (pid_t)atoi(line);
	}
	fclose(f);
	return 0;
}

int
cgroup_kill_all(struct cgroup *cg, int sig)
{
	pid_t *pids;
	size_t n, i;
	int count = 0;
	char path[PATH_MAX];

	if (sig == SIGKILL && cg->v2_dir) {
		snprintf(path, sizeof path, "%s/cgroup.kill", cg->v2_dir);
		if (access(path, F_OK) == 0 && write_str(cg->v2_dir, "cgroup.kill", "1", NULL) == 0)
			return 1;
	}
	if (cgroup_pids(cg, &pids, &n, NULL) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (pids[i] > 0 && kill(pids[i], sig) == 0)
			count++;
	free(pids);
	return count;
}

static int
rmdir_retry(const char *dir)
{
	int i;

	for (i = 0; i < 100; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int
cgroup_destroy(struct cgroup *cg, struct berr *err)
{
	int i, rc = 0;

	if (cg->rel == NULL)
		return 0;
	cgroup_kill_all(cg, SIGKILL);
	for (i = 0; i < CGC_NCTRL; i++)
		if (cg->v1_dir[i] && rmdir_retry(cg->v1_dir[i]) < 0 && rc == 0)
			rc = berr_errno(err, "removing cgroup %s", cg->v1_dir[i]);
	if (cg->v2_dir && rmdir_retry(cg->v2_dir) < 0 && rc == 0)
		rc = berr_errno(err, "removing cgroup %s", cg->v2_dir);
	return rc;
}

void
cgroup_free(struct cgroup *cg)
{
	int i;

	if (cg == NULL)
		return;
	free(cg->rel);
	free(cg->v2_dir);
	for (i = 0; i < CGC_NCTRL; i++)
		free(cg->v1_dir[i]);
	memset(cg, 0, sizeof *cg);
}

int
cgroup_read_file(struct cgroup *cg, enum cg_ctrl ctrl, const char *file, char **out, struct berr *err)
{
	const char *d = cg->mode == CG_V2 ? cg->v2_dir : cg->v1_dir[ctrl];
	char buf[4096];

	if (d == NULL)
		return berr_set(err, BERR_NOTSUP, "controller %s not available", ctrl_names[ctrl]);
	if (strchr(file, '/'))
		return berr_set(err, BERR_INVALID, "bad cgroup file name");
	if (read_str(d, file, buf, sizeof buf) < 0)
		return berr_errno(err, "reading %s/%s", d, file);
	buf[strcspn(buf, "\n")] = '\0';
	*out = xstrdup(buf);
	return 0;
}
