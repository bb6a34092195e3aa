/*
 * rootfs.c - building the container's file-system view.
 *
 * For: every mount target is opened inside the rootfs first (openat2 with
 * RESOLVE_IN_ROOT, or a walk one descriptor at a time when openat2 is
 * missing) and the mount is made onto /proc/self/fd/N, so a symlink planted
 * in the image can never redirect a mount onto the host.  Final components
 * that are symlinks are refused outright (/proc as a symlink, a symlinked
 * bind target).  pivot_root is always used, never chroot.
 * Not for: anything outside the container's mount namespace.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include "ctr/rootfs.h"

#define MAX_LINKS 40
#define MAX_DEPTH 256

static int openat2_state = -1;	/* -1 unknown, 0 missing or disabled, 1 works */

int
rootfs_have_openat2(void)
{
	if (openat2_state < 0) {
		const char *e = getenv("BERTH_CTR_NO_OPENAT2");
		struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
		int fd;

		if (e && *e && strcmp(e, "0") != 0) {
			openat2_state = 0;
		} else {
			fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
			openat2_state = fd >= 0;
			if (fd >= 0)
				close(fd);
		}
	}
	return openat2_state;
}

void
rootfs_use_openat2(int on)
{
	openat2_state = on ? -1 : 0;
	if (on)
		(void)rootfs_have_openat2();
}

static int
sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = { .flags = (unsigned long long)flags | O_CLOEXEC, .resolve = resolve };

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Create the last component of path below parent fd. */
static int
create_at(int parentfd, const char *name, enum rootfs_create create)
{
	int fd;

	if (create == RF_CREATE_DIR)
		return mkdirat(parentfd, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
	fd = openat(parentfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 0;
}

static int
refuse_symlink(int fd, const char *path, struct berr *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		berr_errno(err, "%s", path);
		close(fd);
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return berr_set(err, ELOOP, "%s: is a symlink (refused)", path);
	}
	return fd;
}

static int resolve_walk(int rootfd, const char *path, enum rootfs_create create, struct berr *err);

/* openat2 flavour: each prefix is resolved from the root again, so a symlink
 * met anywhere is interpreted with the rootfs as "/". */
static int
resolve_openat2(int rootfd, const char *path, enum rootfs_create create, struct berr *err)
{
	const unsigned long long res = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	int fd;

	fd = sys_openat2(rootfd, path, O_PATH | O_NOFOLLOW, res);
	if (fd >= 0)
		return refuse_symlink(fd, path, err);
	if (errno != ENOENT || create == RF_NO_CREATE)
		return berr_errno(err, "%s", path);
	/* Create what is missing with the descriptor walk (which follows
	 * dangling symlinks inside the root too), then verify with openat2. */
	fd = resolve_walk(rootfd, path, create, err);
	if (fd < 0)
		return -1;
	close(fd);
	fd = sys_openat2(rootfd, path, O_PATH | O_NOFOLLOW, res);
	if (fd < 0)
		return berr_errno(err, "%s", path);
	return refuse_symlink(fd, path, err);
}

/* Fallback: walk one component at a time with O_NOFOLLOW descriptors,
 * resolving symlinks ourselves against a stack whose bottom is the root, so
 * ".." and absolute link targets stop at the rootfs. */
static int
resolve_walk(int rootfd, const char *path, enum rootfs_create create, struct berr *err)
{
	int stack[MAX_DEPTH];
	int depth = 0, links = 0, fd, i, result = -1;
	char *queue, *rest, name[NAME_MAX + 1];
	size_t qlen;

	stack[0] = dup(rootfd);
	if (stack[0] < 0)
		return berr_errno(err, "dup");
	qlen = strlen(path) + 1;
	queue = malloc(qlen);
	if (queue == NULL)
		abort();
	memcpy(queue, path, qlen);
	rest = queue;
	for (;;) {
		struct stat st;
		size_t nlen;
		int is_last;

		while (*rest == '/')
			rest++;
		if (*rest == '\0')
			break;
		nlen = strcspn(rest, "/");
		if (nlen > NAME_MAX) {
			berr_set(err, ENAMETOOLONG, "%s: component too long", path);
			goto out;
		}
		memcpy(name, rest, nlen);
		name[nlen] = '\0';
		rest += nlen;
		is_last = strspn(rest, "/") == strlen(rest);
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create != RF_NO_CREATE) {
			if (create_at(stack[depth], name, is_last ? create : RF_CREATE_DIR) < 0) {
				berr_errno(err, "%s: creating %s", path, name);
				goto out;
			}
			fd = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			berr_errno(err, "%s", path);
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			berr_errno(err, "%s", path);
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t tl;
			char *nq;

			if (is_last) {
				close(fd);
				berr_set(err, ELOOP, "%s: is a symlink (refused)", path);
				goto out;
			}
			if (++links > MAX_LINKS) {
				close(fd);
				berr_set(err, ELOOP, "%s: too many levels of symbolic links", path);
				goto out;
			}
			tl = readlinkat(fd, "", target, sizeof target - 1);
			close(fd);
			if (tl < 0) {
				berr_errno(err, "%s: reading a link", path);
				goto out;
			}
			target[tl] = '\0';
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			nq = malloc((size_t)tl + strlen(rest) + 2);
			if (nq == NULL)
				abort();
			sprintf(nq, "%s/%s", target, rest);
			free(queue);
			queue = rest = nq;
			continue;
		}
		if (!is_last && !S_ISDIR(st.st_mode)) {
			close(fd);
			berr_set(err, ENOTDIR, "%s: %s is not a directory", path, name);
			goto out;
		}
		if (depth + 1 >= MAX_DEPTH) {
			close(fd);
			berr_set(err, ENAMETOOLONG, "%s: too deep", path);
			goto out;
		}
		stack[++depth] = fd;
	}
	result = dup(stack[depth]);
	if (result < 0)
		berr_errno(err, "dup");
out:
	for (i = 0; i <= depth; i++)
		close(stack[i]);
	free(queue);
	return result;
}

int
rootfs_resolve(int rootfd, const char *path, enum rootfs_create create, struct berr *err)
{
	if (rootfs_have_openat2())
		return resolve_openat2(rootfd, path, create, err);
	return resolve_walk(rootfd, path, create, err);
}

/* ----------------------------------------------------------------- mounts */

static void
fd_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/* Mount flags a user namespace may not drop on a bind remount. */
static unsigned long
locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
	return f;
}

static int
bind_remount(const char *target, unsigned long flags, struct berr *err)
{
	unsigned long f = MS_REMOUNT | MS_BIND | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT));

	if (mount(NULL, target, NULL, f | locked_flags(target), NULL) < 0)
		return berr_errno(err, "remounting %s", target);
	return 0;
}

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
struct mount_attr {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* Decode the octal escapes (\040 and friends) of a mountinfo field in place. */
static void
mountinfo_unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* Make the mount at fd and every mount below it read-only (plus the given
 * nosuid/nodev/noexec).  A plain bind remount only changes the top mount:
 * a recursive bind of the host's /sys/fs/cgroup would leave every v1
 * controller writable, and the container could move itself out of its
 * cgroup or rewrite the host's limits. */
static int
remount_tree_readonly(int fd, unsigned long flags, struct berr *err)
{
	struct mount_attr attr;
	char tpath[64], top[PATH_MAX], *line = NULL;
	size_t cap = 0, toplen;
	ssize_t tl;
	FILE *f;
	int rc = 0;

	memset(&attr, 0, sizeof attr);
	attr.attr_set = MOUNT_ATTR_RDONLY | (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
			(flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
			(flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0)
		return 0;
	if (errno != ENOSYS)
		return berr_errno(err, "mount_setattr");
	/* Older kernels: every mount point at or below the target, by name. */
	fd_path(tpath, sizeof tpath, fd);
	tl = readlink(tpath, top, sizeof top - 1);
	if (tl <= 0)
		return berr_errno(err, "naming the mount");
	top[tl] = '\0';
	toplen = strcmp(top, "/") == 0 ? 0 : (size_t)tl;
	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return berr_errno(err, "/proc/self/mountinfo");
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		char *mp = line, *end;
		int i, mfd;

		for (i = 0; i < 4 && mp; i++) {
			mp = strchr(mp, ' ');
			if (mp)
				mp++;
		}
		if (mp == NULL || (end = strchr(mp, ' ')) == NULL)
			continue;
		*end = '\0';
		mountinfo_unescape(mp);
		if (strncmp(mp, top, toplen) != 0 || (mp[toplen] != '/' && mp[toplen] != '\0'))
			continue;
		mfd = open(mp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (mfd < 0) {
			rc = berr_errno(err, "%s", mp);
			break;
		}
		fd_path(tpath, sizeof tpath, mfd);
		rc = bind_remount(tpath, flags | MS_RDONLY, err);
		close(mfd);
	}
	free(line);
	fclose(f);
	return rc;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
mount_one(int rootfd, const struct oci_mount *m, int userns, struct berr *err)
{
	char tpath[64], spath[64];
	const char *type = m->type ? m->type : "none";
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	int tfd = -1, sfd = -1, rc = -1;

	if (m->bind) {
		sfd = open(m->source, O_PATH | O_CLOEXEC);
		if (sfd < 0)
			return berr_errno(err, "bind source %s", m->source);
		fd_path(spath, sizeof spath, sfd);
		tfd = rootfs_resolve(rootfd, m->destination,
				     is_dir(spath) ? RF_CREATE_DIR : RF_CREATE_FILE, err);
		if (tfd < 0)
			goto out;
		fd_path(tpath, sizeof tpath, tfd);
		if (mount(spath, tpath, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0) {
			berr_errno(err, "bind-mounting %s", m->source);
			goto out;
		}
		if (flags & ~(MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)) {
			int nfd;

			/* Re-open: the old fd still names the covered directory. */
			close(tfd);
			nfd = rootfs_resolve(rootfd, m->destination, RF_NO_CREATE, err);
			tfd = nfd;
			if (tfd < 0)
				goto out;
			fd_path(tpath, sizeof tpath, tfd);
			if (bind_remount(tpath, flags, err) < 0)
				goto out;
		}
	} else {
		tfd = rootfs_resolve(rootfd, m->destination, RF_CREATE_DIR, err);
		if (tfd < 0)
			goto out;
		fd_path(tpath, sizeof tpath, tfd);
		if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
			/* The host's hierarchy, read-only: enough for tools that look. */
			if (mount("/sys/fs/cgroup", tpath, NULL, MS_BIND | MS_REC, NULL) < 0) {
				berr_errno(err, "binding the cgroup tree");
				goto out;
			}
			close(tfd);
			tfd = rootfs_resolve(rootfd, m->destination, RF_NO_CREATE, err);
			if (tfd < 0)
				goto out;
			if (remount_tree_readonly(tfd, flags, err) < 0) {
				berr_wrap(err, "making the cgroup tree read-only");
				goto out;
			}
		} else if (mount(m->source ? m->source : type, tpath, type, flags, m->data) < 0) {
			int saved = errno;

			/* In a user namespace, sysfs needs a network namespace the
			 * container owns: fall back to the host's, read-only all the
			 * way down.  mqueue needs an IPC namespace it owns; the
			 * host's queues must not be shared, so it gets an empty
			 * tmpfs instead. */
			if (userns && (saved == EPERM || saved == EACCES) && strcmp(type, "sysfs") == 0) {
				if (mount("/sys", tpath, NULL, MS_BIND | MS_REC, NULL) < 0) {
					berr_errno(err, "binding /sys");
					goto out;
				}
				close(tfd);
				tfd = rootfs_resolve(rootfd, m->destination, RF_NO_CREATE, err);
				if (tfd < 0)
					goto out;
				if (remount_tree_readonly(tfd, flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0) {
					berr_wrap(err, "making /sys read-only");
					goto out;
				}
			} else if (userns && (saved == EPERM || saved == EACCES) &&
				   strcmp(type, "mqueue") == 0) {
				if (mount("tmpfs", tpath, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
					  "size=64k,mode=1777") < 0) {
					berr_errno(err, "mounting a tmpfs for mqueue");
					goto out;
				}
			} else if (strcmp(type, "devpts") == 0 && m->data && strstr(m->data, "gid=")) {
				/* gid=5 may not be mapped in a user namespace. */
				char data[512], *p, *w = data;
				const char *s = m->data;

				while (*s && (size_t)(w - data) < sizeof data - 1) {
					p = strchr(s, ',');
					if (strncmp(s, "gid=", 4) != 0) {
						size_t l = p ? (size_t)(p - s) : strlen(s);

						if (l > sizeof data - 2 - (size_t)(w - data))
							break;
						if (w != data)
							*w++ = ',';
						memcpy(w, s, l);
						w += l;
					}
					s = p ? p + 1 : s + strlen(s);
				}
				*w = '\0';
				if (mount(m->source ? m->source : type, tpath, type, flags, data) < 0) {
					berr_errno(err, "mounting %s on %s", type, m->destination);
					goto out;
				}
			} else {
				errno = saved;
				berr_errno(err, "mounting %s on %s", type, m->destination);
				goto out;
			}
		}
	}
	if (m->propagation) {
		close(tfd);
		tfd = rootfs_resolve(rootfd, m->destination, RF_NO_CREATE, err);
		if (tfd < 0)
			goto out;
		fd_path(tpath, sizeof tpath, tfd);
		if (mount(NULL, tpath, NULL, m->propagation, NULL) < 0) {
			berr_errno(err, "setting propagation of %s", m->destination);
			goto out;
		}
	}
	rc = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (rc < 0)
		berr_wrap(err, "mount %s", m->destination);
	return rc;
}

/* ---------------------------------------------------------------- devices */

struct std_dev {
	const char *path;
	char type;
	int major, minor;
	mode_t mode;
};

static const struct std_dev std_devs[] = {
	{ "/dev/null", 'c', 1, 3, 0666 },	{ "/dev/zero", 'c', 1, 5, 0666 },
	{ "/dev/full", 'c', 1, 7, 0666 },	{ "/dev/random", 'c', 1, 8, 0666 },
	{ "/dev/urandom", 'c', 1, 9, 0666 },	{ "/dev/tty", 'c', 5, 0, 0666 },
};

static int
make_device(int rootfd, const char *path, char type, int major, int minor, mode_t mode,
	    uid_t uid, gid_t gid, int userns, struct berr *err)
{
	char tpath[64], hpath[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int pfd, fd;

	if (slash == NULL || slash[1] == '\0')
		return berr_set(err, EINVAL, "device %s: bad path", path);
	if (!userns && type != 'p') {
		char parent[PATH_MAX];

		snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
		pfd = rootfs_resolve(rootfd, parent[0] ? parent : "/", RF_CREATE_DIR, err);
		if (pfd < 0)
			return -1;
		(void)unlinkat(pfd, slash + 1, 0);
		if (mknodat(pfd, slash + 1, mode | (type == 'b' ? S_IFBLK : S_IFCHR),
			    makedev((unsigned)major, (unsigned)minor)) < 0) {
			berr_errno(err, "mknod %s", path);
			close(pfd);
			return -1;
		}
		/* mknod honours the umask; the config's mode is meant exactly. */
		(void)fchmodat(pfd, slash + 1, mode, 0);
		(void)fchownat(pfd, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW);
		close(pfd);
		return 0;
	}
	if (type == 'p') {
		char parent[PATH_MAX];

		snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
		pfd = rootfs_resolve(rootfd, parent[0] ? parent : "/", RF_CREATE_DIR, err);
		if (pfd < 0)
			return -1;
		if (mkfifoat(pfd, slash + 1, mode) < 0 && errno != EEXIST) {
			berr_errno(err, "mkfifo %s", path);
			close(pfd);
			return -1;
		}
		close(pfd);
		return 0;
	}
	/* No mknod in a user namespace: bind the host's node. */
	snprintf(hpath, sizeof hpath, "%s", path);
	fd = rootfs_resolve(rootfd, path, RF_CREATE_FILE, err);
	if (fd < 0)
		return -1;
	fd_path(tpath, sizeof tpath, fd);
	if (mount(hpath, tpath, NULL, MS_BIND, NULL) < 0) {
		berr_errno(err, "binding %s", hpath);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
dev_is_mounted(const struct oci_config *c)
{
	size_t i;

	for (i = 0; i < c->nmounts; i++)
		if (strcmp(c->mounts[i].destination, "/dev") == 0)
			return 1;
	return 0;
}

static int
setup_dev(int rootfd, const struct rootfs_opts *o, struct berr *err)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	const struct oci_config *c = o->cfg;
	size_t i;
	int devfd;

	if (dev_is_mounted(c)) {
		for (i = 0; i < sizeof std_devs / sizeof std_devs[0]; i++)
			if (make_device(rootfd, std_devs[i].path, std_devs[i].type, std_devs[i].major,
					std_devs[i].minor, std_devs[i].mode, 0, 0, o->userns, err) < 0)
				return -1;
		devfd = rootfs_resolve(rootfd, "/dev", RF_NO_CREATE, err);
		if (devfd < 0)
			return -1;
		{
			int d = openat(devfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);

			close(devfd);
			if (d < 0)
				return berr_errno(err, "opening /dev");
			for (i = 0; i < sizeof links / sizeof links[0]; i++) {
				(void)unlinkat(d, links[i][1], 0);
				if (symlinkat(links[i][0], d, links[i][1]) < 0 && errno != EEXIST) {
					berr_errno(err, "symlink /dev/%s", links[i][1]);
					close(d);
					return -1;
				}
			}
			close(d);
		}
	}
	for (i = 0; i < c->ndevices; i++) {
		const struct oci_device *d = &c->devices[i];

		if (make_device(rootfd, d->path, d->type == 'u' ? 'c' : d->type, (int)d->major,
				(int)d->minor, d->has_mode ? d->file_mode : 0666, d->uid, d->gid,
				o->userns, err) < 0)
			return -1;
	}
	if (o->pty_slave >= 0) {
		char spath[64], tpath[64];
		int fd = rootfs_resolve(rootfd, "/dev/console", RF_CREATE_FILE, err);

		if (fd < 0)
			return berr_wrap(err, "/dev/console");
		/* By name: the slave's fd belongs to the parent's mount namespace,
		 * which a bind mount source may not. */
		if (ttyname_r(o->pty_slave, spath, sizeof spath) != 0) {
			close(fd);
			return berr_errno(err, "naming the terminal");
		}
		fd_path(tpath, sizeof tpath, fd);
		if (mount(spath, tpath, NULL, MS_BIND, NULL) < 0) {
			berr_errno(err, "binding the terminal on /dev/console");
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------ pivot_root */

static int
do_pivot_root(const char *rootfs, struct berr *err)
{
	int oldroot, newroot;

	oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return berr_errno(err, "opening /");
	newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (newroot < 0) {
		close(oldroot);
		return berr_errno(err, "opening %s", rootfs);
	}
	if (fchdir(newroot) < 0)
		goto fail;
	/* pivot_root(".", ".") stacks the old root under the new one; detach it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		goto fail;
	if (fchdir(oldroot) < 0)
		goto fail;
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		goto fail;
	if (umount2(".", MNT_DETACH) < 0)
		goto fail;
	if (fchdir(newroot) < 0 || chdir("/") < 0)
		goto fail;
	close(oldroot);
	close(newroot);
	return 0;
fail:
	berr_errno(err, "pivot_root into %s", rootfs);
	close(oldroot);
	close(newroot);
	return -1;
}

int
rootfs_setup(const struct rootfs_opts *o, struct berr *err)
{
	const struct oci_config *c = o->cfg;
	int rootfd;
	size_t i;

	/* Always recursive slave first, whatever rootfsPropagation says: a
	 * non-recursive or shared setting here would leave the host's shared
	 * mounts shared, and every mount below (the rootfs bind, proc, /dev...)
	 * would propagate back into the host's namespace and stay there.
	 * rootfsPropagation applies to the container's own root mount below. */
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return berr_errno(err, "setting / propagation");
	/* The rootfs must be a mount point for pivot_root. */
	if (mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return berr_errno(err, "bind-mounting the rootfs %s", o->rootfs);
	/* Shared is left out: pivot_root refuses a shared new root. */
	if (c->rootfs_propagation && (c->rootfs_propagation & MS_SHARED) == 0 &&
	    mount(NULL, o->rootfs, NULL, c->rootfs_propagation, NULL) < 0)
		return berr_errno(err, "setting rootfs propagation");
	rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_errno(err, "opening the rootfs %s", o->rootfs);
	for (i = 0; i < c->nmounts; i++) {
		if (mount_one(rootfd, &c->mounts[i], o->userns, err) < 0) {
			close(rootfd);
			return -1;
		}
	}
	if (setup_dev(rootfd, o, err) < 0) {
		close(rootfd);
		return -1;
	}
	close(rootfd);
	return do_pivot_root(o->rootfs, err);
}

static int
mask_path(int rootfd, const char *path, struct berr *err)
{
	char tpath[64];
	struct stat st;
	int fd = rootfs_resolve(rootfd, path, RF_NO_CREATE, err);

	if (fd < 0) {
		if (err && err->code == ENOENT) {
			berr_clear(err);
			return 0;
		}
		return berr_wrap(err, "masking");
	}
	fd_path(tpath, sizeof tpath, fd);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return berr_errno(err, "masking %s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", tpath, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0) {
			close(fd);
			return berr_errno(err, "masking %s", path);
		}
	} else {
		char npath[64];
		int nfd = rootfs_resolve(rootfd, "/dev/null", RF_NO_CREATE, err);

		/* The container's /dev/null is the image's when the config has no
		 * /dev mount: by name, a symlink there (to the very file being
		 * masked) would turn the mask into a no-op.  Use it only if it is
		 * the real device, through its descriptor. */
		if (nfd < 0) {
			close(fd);
			return berr_wrap(err, "masking %s", path);
		}
		if (fstat(nfd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
			close(nfd);
			close(fd);
			return berr_set(err, EPERM, "masking %s: /dev/null is not the null device (refused)", path);
		}
		fd_path(npath, sizeof npath, nfd);
		if (mount(npath, tpath, NULL, MS_BIND, NULL) < 0) {
			close(nfd);
			close(fd);
			return berr_errno(err, "masking %s", path);
		}
		close(nfd);
	}
	close(fd);
	return 0;
}

static int
readonly_path(int rootfd, const char *path, struct berr *err)
{
	char tpath[64];
	int fd = rootfs_resolve(rootfd, path, RF_NO_CREATE, err);

	if (fd < 0) {
		if (err && err->code == ENOENT) {
			berr_clear(err);
			return 0;
		}
		return berr_wrap(err, "read-only path");
	}
	fd_path(tpath, sizeof tpath, fd);
	if (mount(tpath, tpath, NULL, MS_BIND | MS_REC, NULL) < 0) {
		close(fd);
		return berr_errno(err, "read-only path %s", path);
	}
	close(fd);
	fd = rootfs_resolve(rootfd, path, RF_NO_CREATE, err);
	if (fd < 0)
		return -1;
	if (remount_tree_readonly(fd, 0, err) < 0) {
		close(fd);
		return berr_wrap(err, "read-only path %s", path);
	}
	close(fd);
	return 0;
}

static int
write_sysctl(const char *key, const char *value, struct berr *err)
{
	char path[PATH_MAX], *p;
	int fd;
	ssize_t n;

	if (strncmp(key, "net.", 4) != 0 && strncmp(key, "kernel.msg", 10) != 0 &&
	    strncmp(key, "kernel.sem", 10) != 0 && strncmp(key, "kernel.shm", 10) != 0 &&
	    strncmp(key, "fs.mqueue.", 10) != 0 && strcmp(key, "kernel.domainname") != 0 &&
	    strcmp(key, "kernel.hostname") != 0)
		return berr_set(err, EPERM, "sysctl %s: not namespaced, refused", key);
	snprintf(path, sizeof path, "/proc/sys/%s", key);
	for (p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, "sysctl %s", key);
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return berr_errno(err, "sysctl %s", key);
	return 0;
}

int
rootfs_finalize(const struct rootfs_opts *o, struct berr *err)
{
	const struct oci_config *c = o->cfg;
	size_t i;
	int rootfd;

	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_errno(err, "opening /");
	/* sysctl first: /proc/sys is usually one of the read-only paths. */
	for (i = 0; i < c->nsysctl; i++)
		if (write_sysctl(c->sysctl_keys[i], c->sysctl_values[i], err) < 0)
			goto fail;
	for (i = 0; i < c->nmasked_paths; i++)
		if (mask_path(rootfd, c->masked_paths[i], err) < 0)
			goto fail;
	for (i = 0; i < c->nreadonly_paths; i++)
		if (readonly_path(rootfd, c->readonly_paths[i], err) < 0)
			goto fail;
	close(rootfd);
	if (c->root_readonly && bind_remount("/", MS_RDONLY, err) < 0)
		return berr_wrap(err, "making the root read-only");
	return 0;
fail:
	close(rootfd);
	return -1;
}
