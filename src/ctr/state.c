/*
 * state.c - a container's state directory and its OCI status.
 *
 * For: state.json and exit.json are written atomically (dirs.c); status is
 * derived, never stored: exit.json present means stopped, otherwise the
 * init's pid (checked against its start time) decides between created and
 * running.  Not for: the monitor protocol.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/util.h"
#include "ctr/state.h"

int
state_id_valid(const char *id, struct berr *err)
{
	if (name_is_valid(id, err) < 0)
		return -1;
	if (id[0] == '.')
		return berr_set(err, BERR_INVALID, "container name \"%s\": must not start with a dot", id);
	return 0;
}

char *
state_dir(const char *root, const char *id)
{
	return xasprintf("%s/%s", root, id);
}

uint64_t
state_pid_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	/* Field 22 (starttime); after ')' come fields 3.. */
	for (i = 3; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

int
state_pid_alive(pid_t pid, uint64_t start)
{
	char path[64], buf[512], *p;
	int fd;
	ssize_t n;

	if (pid <= 0)
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (start && state_pid_starttime(pid) != start)
		return 0;
	/* A zombie is not alive. */
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return 0;
	return 1;
}

char *
state_now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
	return xstrdup(buf);
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_boolean)))
		return def;
	return json_object_get_int64(v);
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static json_object *
read_json(const char *path, struct berr *err)
{
	char *buf;
	size_t len;
	json_object *o;

	if (read_file(path, &buf, &len, 1 << 20, err) < 0)
		return NULL;
	o = json_tokener_parse(buf);
	free(buf);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		berr_set(err, BERR_INVALID, "%s: not a JSON object", path);
		return NULL;
	}
	return o;
}

int
state_load(const char *root, const char *id, struct ctr_state **out, struct berr *err)
{
	struct ctr_state *s;
	json_object *o;
	char *path;
	struct stat st;

	*out = NULL;
	if (state_id_valid(id, err) < 0)
		return -1;
	s = xcalloc(1, sizeof *s);
	s->id = xstrdup(id);
	s->dir = state_dir(root, id);
	if (stat(s->dir, &st) < 0) {
		state_free(s);
		return berr_set(err, BERR_NOTFOUND, "container \"%s\" does not exist", id);
	}
	path = xasprintf("%s/state.json", s->dir);
	o = read_json(path, err);
	free(path);
	if (o == NULL) {
		/* Being created: the directory exists, the state not yet. */
		berr_clear(err);
		path = xasprintf("%s/monitor.pid", s->dir);
		{
			char *buf;
			size_t len;

			if (read_file(path, &buf, &len, 64, NULL) == 0) {
				s->monitor_pid = atoi(buf);
				free(buf);
			}
		}
		free(path);
		*out = s;
		return 0;
	}
	s->bundle = dup_or_null(jstr(o, "bundle"));
	s->rootfs = dup_or_null(jstr(o, "rootfs"));
	s->cgroup = dup_or_null(jstr(o, "cgroup"));
	s->created = dup_or_null(jstr(o, "created"));
	s->net_addr = dup_or_null(jstr(o, "net_addr"));
	s->veth = dup_or_null(jstr(o, "veth"));
	s->pid = (pid_t)jint(o, "pid", 0);
	s->pid_start = (uint64_t)jint(o, "pid_start", 0);
	s->monitor_pid = (pid_t)jint(o, "monitor_pid", 0);
	s->monitor_start = (uint64_t)jint(o, "monitor_start", 0);
	s->started = (int)jint(o, "started", 0);
	s->terminal = (int)jint(o, "terminal", 0);
	s->paused = (int)jint(o, "paused", 0);
	json_object_put(o);
	path = xasprintf("%s/exit.json", s->dir);
	if (access(path, F_OK) == 0 && (o = read_json(path, NULL)) != NULL) {
		s->exited = 1;
		s->exit_code = (int)jint(o, "exit_code", -1);
		s->exit_signal = (int)jint(o, "signal", 0);
		s->oom = (int)jint(o, "oom", 0);
		s->finished = dup_or_null(jstr(o, "finished"));
		json_object_put(o);
	}
	free(path);
	*out = s;
	return 0;
}

/* Runtime state lives in a tmpfs (/run) and dies with the boot: atomic
 * (temp file + rename) but without the fsyncs of persistent files. */
int
state_write_file(const char *path, const void *buf, size_t len, struct berr *err)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	const char *p = buf;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		berr_errno(err, "creating %s", tmp);
		free(tmp);
		return -1;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			berr_errno(err, "writing %s", tmp);
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		berr_errno(err, "writing %s", path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static void
add_str(json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
}

int
state_save(const struct ctr_state *s, struct berr *err)
{
	json_object *o = json_object_new_object();
	const char *text;
	char *path;
	int rc;

	add_str(o, "id", s->id);
	add_str(o, "bundle", s->bundle);
	add_str(o, "rootfs", s->rootfs);
	add_str(o, "cgroup", s->cgroup);
	add_str(o, "created", s->created);
	add_str(o, "net_addr", s->net_addr);
	add_str(o, "veth", s->veth);
	json_object_object_add(o, "pid", json_object_new_int64(s->pid));
	json_object_object_add(o, "pid_start", json_object_new_int64((int64_t)s->pid_start));
	json_object_object_add(o, "monitor_pid", json_object_new_int64(s->monitor_pid));
	json_object_object_add(o, "monitor_start", json_object_new_int64((int64_t)s->monitor_start));
	json_object_object_add(o, "started", json_object_new_boolean(s->started));
	json_object_object_add(o, "terminal", json_object_new_boolean(s->terminal));
	json_object_object_add(o, "paused", json_object_new_boolean(s->paused));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	path = xasprintf("%s/state.json", s->dir);
	rc = state_write_file(path, text, strlen(text), err);
	free(path);
	json_object_put(o);
	return rc;
}

int
state_save_exit(const struct ctr_state *s, struct berr *err)
{
	json_object *o = json_object_new_object();
	const char *text;
	char *path;
	int rc;

	json_object_object_add(o, "exit_code", json_object_new_int(s->exit_code));
	json_object_object_add(o, "signal", json_object_new_int(s->exit_signal));
	json_object_object_add(o, "oom", json_object_new_boolean(s->oom));
	add_str(o, "finished", s->finished);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	path = xasprintf("%s/exit.json", s->dir);
	rc = state_write_file(path, text, strlen(text), err);
	free(path);
	json_object_put(o);
	return rc;
}

void
state_free(struct ctr_state *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->dir);
	free(s->bundle);
	free(s->rootfs);
	free(s->cgroup);
	free(s->created);
	free(s->net_addr);
	free(s->veth);
	free(s->finished);
	free(s);
}

const char *
state_status(const struct ctr_state *s)
{
	if (s->exited)
		return "stopped";
	if (s->pid <= 0)
		return state_pid_alive(s->monitor_pid, 0) ? "creating" : "stopped";
	if (!state_pid_alive(s->pid, s->pid_start))
		return "stopped";
	if (s->paused)
		return "paused";
	return s->started ? "running" : "created";
}

json_object *
state_to_json(const struct ctr_state *s)
{
	json_object *o = json_object_new_object();
	const char *status = state_status(s);

	json_object_object_add(o, "ociVersion", json_object_new_string("1.0.2"));
	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "status", json_object_new_string(status));
	if (strcmp(status, "stopped") != 0 && s->pid > 0)
		json_object_object_add(o, "pid", json_object_new_int(s->pid));
	json_object_object_add(o, "bundle", json_object_new_string(s->bundle ? s->bundle : ""));
	if (s->rootfs)
		json_object_object_add(o, "rootfs", json_object_new_string(s->rootfs));
	if (s->created)
		json_object_object_add(o, "created", json_object_new_string(s->created));
	json_object_object_add(o, "annotations", json_object_new_object());
	/* berth's extras. */
	if (s->monitor_pid > 0 && state_pid_alive(s->monitor_pid, s->monitor_start))
		json_object_object_add(o, "monitorPid", json_object_new_int(s->monitor_pid));
	if (s->cgroup)
		json_object_object_add(o, "cgroupsPath", json_object_new_string(s->cgroup));
	if (s->net_addr)
		json_object_object_add(o, "address", json_object_new_string(s->net_addr));
	json_object_object_add(o, "terminal", json_object_new_boolean(s->terminal));
	if (s->exited) {
		json_object_object_add(o, "exitCode", json_object_new_int(s->exit_code));
		if (s->exit_signal)
			json_object_object_add(o, "exitSignal", json_object_new_int(s->exit_signal));
		json_object_object_add(o, "oomKilled", json_object_new_boolean(s->oom));
		if (s->finished)
			json_object_object_add(o, "finished", json_object_new_string(s->finished));
	}
	return o;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
state_list(const char *root, char ***ids, size_t *n, struct berr *err)
{
	DIR *d;
	struct dirent *e;
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	d = opendir(root);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return berr_errno(err, "opening %s", root);
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*ids = xrealloc(*ids, cap * sizeof **ids);
		}
		(*ids)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*ids, *n, sizeof **ids, cmp_str);
	return 0;
}
