/*
 * dirs.c - runtime/data/config directories and safe file I/O.
 * Not for: deciding what goes into those directories (each backend does).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
	return NULL;	/* the caller makes a private directory in /tmp */
}

/* The last resort for the runtime directory: /tmp/berth-UID, made 0700 and
 * checked, since anyone can create a name in /tmp before us (as tmux does). */
static char *
private_tmp_dir(struct berr *err)
{
	char *p = xasprintf("/tmp/berth-%u", (unsigned)geteuid());
	struct stat st;

	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		berr_errno(err, "creating `%s'", p);
		free(p);
		return NULL;
	}
	if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		berr_set(err, EACCES, "`%s' is not a private directory of this user (check its "
			 "owner and mode, or set BERTH_RUN_DIR)", p);
		free(p);
		return NULL;
	}
	return p;
}

int
dirs_init(struct berth_dirs *d, struct berr *err)
{
	memset(d, 0, sizeof *d);
	d->run = dir_from_env("BERTH_RUN_DIR", "/run/berth", "XDG_RUNTIME_DIR", NULL);
	d->data = dir_from_env("BERTH_DATA_DIR", "/var/lib/berth", "XDG_DATA_HOME", ".local/share");
	d->config = dir_from_env("BERTH_CONFIG_DIR", "/etc/berth", "XDG_CONFIG_HOME", ".config");
	if (d->data == NULL)
		d->data = xasprintf("/tmp/berth-%u/data", (unsigned)geteuid());
	if (d->config == NULL)
		d->config = xasprintf("/tmp/berth-%u/config", (unsigned)geteuid());
	if (d->run == NULL) {
		d->run = private_tmp_dir(err);
		if (d->run == NULL) {
			dirs_free(d);
			return -1;
		}
	}
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

	if (path == NULL || *path == '\0')
		return berr_set(err, EINVAL, "creating a directory: empty path");
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

	fd = mkostemp(tmp, O_CLOEXEC);
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
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	size_t cap = 4096, len = 0;
	struct stat st;
	char *buf;

	if (fd < 0)
		return berr_errno(err, "reading `%s'", path);
	/* Only regular files: a FIFO or a device would block or never end. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return berr_set(err, EINVAL, "reading `%s': not a regular file", path);
	}
	fd_set_nonblock(fd, 0);
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

static struct berr *rm_err;
static const char *rm_top;

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	int r = flag == FTW_DP ? rmdir(path) : unlink(path);

	if (r < 0 && errno != ENOENT) {
		if (errno == ENOTEMPTY || errno == EBUSY)
			berr_set(rm_err, errno, "removing `%s': `%s' holds a mount point", rm_top, path);
		else
			berr_errno(rm_err, "removing `%s'", path);
		return 1;
	}
	return 0;
}

/* nftw with FTW_PHYS never follows links, FTW_MOUNT never crosses into
 * another file system (a mount point inside is left and reported), and the
 * descriptor budget keeps deep trees from exhausting fds.  Not thread-safe. */
int
remove_tree(const char *path, struct berr *err)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_errno(err, "removing `%s'", path);
	}
	rm_err = err;
	rm_top = path;
	r = nftw(path, remove_one, 16, FTW_PHYS | FTW_MOUNT | FTW_DEPTH);
	rm_err = NULL;
	if (r < 0)
		return berr_errno(err, "removing `%s'", path);
	return r == 0 ? 0 : -1;
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
