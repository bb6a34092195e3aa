/*
 * dirs.c - runtime/data/config directories and safe file I/O.
 * Not for: deciding what goes into those directories (each backend does).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/util.h"

static char *
dir_from_env(const char *var, const char *root_default, const char *xdg_var,
	     const char *xdg_fallback_home_suffix)
{
	const char *v = getenv(var);
	const char *home;

	if (v != NULL && *v != '\0')
		return xstrdup(v);
	if (geteuid() == 0)
		return xstrdup(root_default);
	v = getenv(xdg_var);
	if (v != NULL && *v != '\0')
		return xasprintf("%s/berth", v);
	home = getenv("HOME");
	if (xdg_fallback_home_suffix != NULL && home != NULL && *home != '\0')
		return xasprintf("%s/%s/berth", home, xdg_fallback_home_suffix);
	return xasprintf("/tmp/berth-%u", (unsigned)geteuid());
}

int
dirs_init(struct berth_dirs *d, struct berr *err)
{
	memset(d, 0, sizeof *d);
	d->run = dir_from_env("BERTH_RUN_DIR", "/run/berth", "XDG_RUNTIME_DIR", NULL);
	d->data = dir_from_env("BERTH_DATA_DIR", "/var/lib/berth", "XDG_DATA_HOME", ".local/share");
	d->config = dir_from_env("BERTH_CONFIG_DIR", "/etc/berth", "XDG_CONFIG_HOME", ".config");
	return 0;
}

void
dirs_free(struct berth_dirs *d)
{
	if (d == NULL)
		return;
	free(d->run);
	free(d->data);
	free(d->config);
	memset(d, 0, sizeof *d);
}

int
mkdir_p(const char *path, mode_t mode, struct berr *err)
{
	char buf[4096];
	size_t len;
	char *p;
	struct stat st;

	if (strlcpy_b(buf, path, sizeof buf) >= sizeof buf)
		return berr_set(err, ENAMETOOLONG, "creating directory `%s': path too long", path);
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return berr_errno(err, "creating directory `%s'", buf);
			if (c == '\0')
				break;
			*p = c;
		}
	}
	if (stat(buf, &st) < 0)
		return berr_errno(err, "creating directory `%s'", buf);
	if (!S_ISDIR(st.st_mode))
		return berr_set(err, ENOTDIR, "creating directory `%s': exists and is not a directory", buf);
	return 0;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
atomic_write_file(const char *path, const void *buf, size_t len, mode_t mode, struct berr *err)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	char *dircopy;
	int fd, dfd;

	fd = mkstemp(tmp);
	if (fd < 0) {
		berr_errno(err, "writing `%s': creating temporary file", path);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		berr_errno(err, "writing `%s'", path);
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		berr_errno(err, "writing `%s'", path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		berr_errno(err, "writing `%s': renaming into place", path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	/* Make the rename itself durable. */
	dircopy = xstrdup(path);
	dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dircopy);
	return 0;
}

int
read_file(const char *path, char **bufp, size_t *lenp, size_t max, struct berr *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, len = 0;
	char *buf;

	if (fd < 0)
		return berr_errno(err, "reading `%s'", path);
	if (cap > max)
		cap = max;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char extra;

			if (cap >= max) {
				do
					n = read(fd, &extra, 1);
				while (n < 0 && errno == EINTR);
				if (n <= 0)
					break;
				free(buf);
				close(fd);
				return berr_set(err, EFBIG, "reading `%s': larger than %zu bytes", path, max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			berr_errno(err, "reading `%s'", path);
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

static int
remove_at(int dfd, const char *name, dev_t dev, struct berr *err, const char *top)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *de;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_errno(err, "removing `%s'", top);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return berr_errno(err, "removing `%s/%s'", top, name);
		return 0;
	}
	if (st.st_dev != dev)
		return berr_set(err, EXDEV, "removing `%s': `%s' is a mount point", top, name);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, "removing `%s/%s'", top, name);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return berr_errno(err, "removing `%s/%s'", top, name);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_at(dirfd(d), de->d_name, dev, err, top) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return berr_errno(err, "removing `%s/%s'", top, name);
	return 0;
}

int
remove_tree(const char *path, struct berr *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_errno(err, "removing `%s'", path);
	}
	return remove_at(AT_FDCWD, path, st.st_dev, err, path);
}

int
name_is_valid(const char *name, struct berr *err)
{
	size_t len;
	const unsigned char *p;

	if (name == NULL || *name == '\0')
		return berr_set(err, BERR_INVALID, "empty name");
	len = strlen(name);
	if (len > 64)
		return berr_set(err, BERR_INVALID, "name `%.64s...' is longer than 64 bytes", name);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return berr_set(err, BERR_INVALID, "`%s' is not a valid name", name);
	if (name[0] == '-')
		return berr_set(err, BERR_INVALID, "name `%s' must not start with `-'", name);
	for (p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return berr_set(err, BERR_INVALID,
					"name `%s' contains `/' or a control character", name);
	return 0;
}
