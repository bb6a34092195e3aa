/*
 * container.c - creating a container's init process, starting it, and
 * joining a running container with another process (exec).
 *
 * For: the clone into new namespaces and the parent/child handshake.
 *   parent                         child (the future pid 1)
 *   clone(CLONE_NEW*) ---------->  waits for GO
 *   cgroup, uid/gid maps, oom
 *   score, network ----- GO ---->  setns(paths), root in the userns, stdio,
 *                                  hostname, rootfs + pivot_root, finalize,
 *                                  rlimits, cwd
 *            <------ CREATED ----  waits for START
 *   compile the seccomp filter
 *   into shared memory
 *   (start) ---------- START --->  drop privileges, seccomp (the parent's
 *                                  filter), cloexec sweep, execve
 *            <- EOF (exec done) or ERROR text
 * The socket is close-on-exec, so a successful execve shows up as EOF.
 * Not for: the monitor loop or state files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/container.h"

#define CTR_CLONE_INTO_CGROUP 0x200000000ULL
#include "ctr/net.h"
#include "ctr/rootfs.h"
#include "ctr/security.h"

enum sync_type { SYNC_GO = 1, SYNC_CREATED, SYNC_START, SYNC_ERROR, SYNC_PTY };

struct sync_msg {
	int32_t type;
	int32_t code;
	char text[BERR_MSG_MAX];
};

static int
sync_send(int fd, int type, const struct berr *e)
{
	struct sync_msg m;
	ssize_t n;

	memset(&m, 0, sizeof m);
	m.type = type;
	if (e) {
		m.code = e->code;
		snprintf(m.text, sizeof m.text, "%s", e->msg);
	}
	do
		n = send(fd, &m, sizeof m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof m ? 0 : -1;
}

/* Send a terminal master (SCM_RIGHTS) with a SYNC_PTY message. */
static int
sync_send_fd(int sock, int fd)
{
	struct sync_msg m;
	struct iovec iov = { &m, sizeof m };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&m, 0, sizeof m);
	m.type = SYNC_PTY;
	memset(&mh, 0, sizeof mh);
	memset(cbuf, 0, sizeof cbuf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof cbuf;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof m ? 0 : -1;
}

/* 1: message; 0: EOF; -1: error.  A descriptor that came with it lands in
 * *fd_out (when fd_out is given; else it is closed). */
static int
sync_recv_fd(int fd, struct sync_msg *m, int *fd_out)
{
	struct iovec iov = { m, sizeof *m };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;

	if (fd_out)
		*fd_out = -1;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof cbuf;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (cm = CMSG_FIRSTHDR(&mh); n > 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
			int got;

			memcpy(&got, CMSG_DATA(cm), sizeof got);
			if (fd_out && *fd_out < 0)
				*fd_out = got;
			else
				close(got);
		}
	}
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof *m)
		return -1;
	m->text[sizeof m->text - 1] = '\0';
	return 1;
}

static int
sync_recv(int fd, struct sync_msg *m)
{
	return sync_recv_fd(fd, m, NULL);
}

/* A terminal from the container's own devpts (so ttyname works inside):
 * returns the slave, with the master sent to the parent; -1 if the
 * container has no usable /dev/pts/ptmx. */
static int
container_pty(int sync)
{
	char name[64];
	int master, slave;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return -1;
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0 ||
	    (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		close(master);
		return -1;
	}
	if (sync_send_fd(sync, master) < 0) {
		close(master);
		close(slave);
		return -1;
	}
	close(master);
	return slave;
}

/* Bind the terminal onto /dev/console (after pivot_root). */
static int
bind_console(int slave, struct berr *err)
{
	char name[64], tpath[64];
	int rootfd, fd;

	if (ptsname_r(slave, name, sizeof name) != 0 && ttyname_r(slave, name, sizeof name) != 0)
		return berr_errno(err, "naming the terminal");
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_errno(err, "opening /");
	fd = rootfs_resolve(rootfd, "/dev/console", RF_CREATE_FILE, err);
	close(rootfd);
	if (fd < 0)
		return berr_wrap(err, "/dev/console");
	snprintf(tpath, sizeof tpath, "/proc/self/fd/%d", fd);
	if (mount(name, tpath, NULL, MS_BIND, NULL) < 0) {
		berr_errno(err, "binding the terminal on /dev/console");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
config_has_devpts(const struct oci_config *c)
{
	size_t i;

	for (i = 0; i < c->nmounts; i++)
		if (c->mounts[i].type && strcmp(c->mounts[i].type, "devpts") == 0 &&
		    strcmp(c->mounts[i].destination, "/dev/pts") == 0)
			return 1;
	return 0;
}

static void
child_fail(int sync, struct berr *err)
{
	if (err->code == 0)
		err->code = EIO;
	(void)sync_send(sync, SYNC_ERROR, err);
	_exit(127);
}

int
ctr_execvpe(const char *file, char *const argv[], char *const envp[])
{
	const char *path = NULL, *p, *end;
	char buf[PATH_MAX];
	int saved = ENOENT, i;

	if (strchr(file, '/'))
		return execve(file, argv, envp);
	for (i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			path = envp[i] + 5;
	if (path == NULL)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; ; p = end + 1) {
		size_t len;

		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if ((size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? p : ".", file) < sizeof buf) {
			execve(buf, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		if (*end == '\0')
			break;
	}
	errno = saved;
	return -1;
}

static char **
default_env(void)
{
	static char *env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL,
	};

	return env;
}

/* Change into the configured directory without ever leaving the root:
 * resolved in the root (no magic links), then checked with getcwd. */
static int
enter_cwd(const char *cwd, struct berr *err)
{
	char buf[PATH_MAX];
	int rootfd, fd;

	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_errno(err, "opening /");
	if (strcmp(cwd, "/") == 0) {
		fd = dup(rootfd);
	} else {
		/* A symlinked final component is fine for a cwd: resolve its
		 * target in the root too. */
		fd = rootfs_resolve(rootfd, cwd, RF_NO_CREATE, err);
		if (fd < 0 && err->code == ELOOP && rootfs_have_openat2()) {
			struct berr e2 = { 0 };
			char target[PATH_MAX];
			ssize_t tl = readlink(cwd, target, sizeof target - 1);

			if (tl > 0) {
				target[tl] = '\0';
				if (target[0] != '/') {
					char full[PATH_MAX * 2];
					const char *slash = strrchr(cwd, '/');

					snprintf(full, sizeof full, "%.*s/%s", (int)(slash - cwd), cwd, target);
					fd = rootfs_resolve(rootfd, full, RF_NO_CREATE, &e2);
				} else {
					fd = rootfs_resolve(rootfd, target, RF_NO_CREATE, &e2);
				}
				if (fd >= 0)
					berr_clear(err);
			}
		}
	}
	close(rootfd);
	if (fd < 0)
		return berr_wrap(err, "process.cwd %s", cwd);
	if (fchdir(fd) < 0) {
		close(fd);
		return berr_errno(err, "process.cwd %s", cwd);
	}
	close(fd);
	if (getcwd(buf, sizeof buf) == NULL || buf[0] != '/')
		return berr_set(err, EPERM, "process.cwd %s: outside the container root (refused)", cwd);
	return 0;
}

/* Signals ignored now: the SigIgn mask of /proc/self/status, or every
 * signal when that cannot be read (no /proc in the container). */
static uint64_t
ignored_signals(void)
{
	char buf[2048], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return ~(uint64_t)0;
	buf[n] = '\0';
	p = strstr(buf, "\nSigIgn:");
	if (p == NULL)
		return ~(uint64_t)0;
	return strtoull(p + 8, NULL, 16);
}

/* The monitor ignores SIGPIPE and blocks SIGCHLD; dispositions set to
 * "ignore" and the mask survive execve (handlers do not), so give the
 * container clean ones: only the ignored signals need a call each. */
static void
reset_signals(void)
{
	sigset_t none;
	uint64_t ign = ignored_signals();
	int sig;

	for (sig = 1; sig < NSIG && sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || !(ign & ((uint64_t)1 << (sig - 1))))
			continue;
		if (signal(sig, SIG_DFL) == SIG_ERR) {
			/* libc keeps 32 and 33 for itself and refuses them, but a
			 * caller may have left them ignored: ask the kernel. */
			struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } ksa;

			memset(&ksa, 0, sizeof ksa);
			ksa.handler = SIG_DFL;
			(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
		}
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
setup_stdio(int pty_slave, const int stdio[3], struct berr *err)
{
	int i;

	if (setsid() < 0 && errno != EPERM)
		return berr_errno(err, "setsid");
	if (pty_slave >= 0) {
		if (ioctl(pty_slave, TIOCSCTTY, 0) < 0)
			return berr_errno(err, "making the terminal the controlling tty");
		for (i = 0; i < 3; i++)
			if (dup2(pty_slave, i) < 0)
				return berr_errno(err, "dup2");
		return 0;
	}
	for (i = 0; i < 3; i++) {
		int fd = stdio[i];

		if (fd < 0) {
			fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (fd < 0)
				return berr_errno(err, "/dev/null");
		}
		if (fd == i) {
			if (fcntl(fd, F_SETFD, 0) < 0)
				return berr_errno(err, "fcntl");
			continue;
		}
		if (dup2(fd, i) < 0)
			return berr_errno(err, "dup2");
	}
	return 0;
}

static int
join_path_namespaces(const struct oci_config *c, struct berr *err)
{
	size_t i;

	for (i = 0; i < c->nnamespaces; i++) {
		const struct oci_namespace *ns = &c->namespaces[i];
		int fd;

		if (ns->path == NULL || ns->type == CLONE_NEWPID)
			continue;
		fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return berr_errno(err, "namespace %s", ns->path);
		if (setns(fd, ns->type) < 0) {
			berr_errno(err, "joining namespace %s", ns->path);
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void __attribute__((noreturn))
child_main(const struct ctr_create_opts *o, int sync, int *tasks, int ntasks, const struct sec_bpf *bpf)
{
	const struct oci_config *c = o->cfg;
	struct berr err = { 0 };
	struct sync_msg m;
	char rootfs[PATH_MAX];
	const struct oci_namespace *userns = oci_config_namespace(c, CLONE_NEWUSER);
	struct rootfs_opts ro;
	struct sec_identity id;
	char **env;
	int own_pty;

	if (sync_recv(sync, &m) != 1 || m.type != SYNC_GO)
		_exit(126);
	/* Never let the container peek at us through /proc/<pid>/exe or mem
	 * while we are still berth-ctr; execve resets this. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Into the v1 cgroups first (v2 did at clone or by the parent). */
	if (cgroup_join_tasks(tasks, ntasks, &err) < 0)
		child_fail(sync, &err);
	cgroup_close_tasks(tasks, ntasks);
	if (join_path_namespaces(c, &err) < 0)
		child_fail(sync, &err);
	if (oci_config_namespace(c, CLONE_NEWCGROUP) && !oci_config_namespace(c, CLONE_NEWCGROUP)->path &&
	    unshare(CLONE_NEWCGROUP) < 0) {
		berr_errno(&err, "a new cgroup namespace");
		child_fail(sync, &err);
	}
	if (userns) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			berr_errno(&err, "becoming root in the user namespace (is uid/gid 0 mapped?)");
			child_fail(sync, &err);
		}
	}
	own_pty = o->pty_slave >= 0 && config_has_devpts(c);
	if (!own_pty && setup_stdio(o->pty_slave, o->stdio, &err) < 0)
		child_fail(sync, &err);
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
		berr_errno(&err, "sethostname");
		child_fail(sync, &err);
	}
	if (oci_config_namespace(c, CLONE_NEWNET) && !oci_config_namespace(c, CLONE_NEWNET)->path) {
		if (net_loopback_up(&err) < 0)
			child_fail(sync, &err);
		if (o->net == CTR_NET_BRIDGE &&
		    net_container_configure(o->net_addr, o->net_gateway, &err) < 0)
			child_fail(sync, &err);
	}
	if (c->root_path[0] == '/')
		snprintf(rootfs, sizeof rootfs, "%s", c->root_path);
	else
		snprintf(rootfs, sizeof rootfs, "%s/%s", o->bundle, c->root_path);
	{
		char real[PATH_MAX];

		if (realpath(rootfs, real) == NULL) {
			berr_errno(&err, "root.path %s", rootfs);
			child_fail(sync, &err);
		}
		snprintf(rootfs, sizeof rootfs, "%s", real);
	}
	memset(&ro, 0, sizeof ro);
	ro.cfg = c;
	ro.rootfs = rootfs;
	ro.userns = userns != NULL;
	ro.pty_slave = own_pty ? -1 : o->pty_slave;
	if (rootfs_setup(&ro, &err) < 0)
		child_fail(sync, &err);
	if (own_pty) {
		/* Prefer a terminal of the container's devpts; the monitor's
		 * host terminal stays the fallback. */
		int slave = container_pty(sync);

		if (slave < 0)
			slave = o->pty_slave;
		if (bind_console(slave, &err) < 0 || setup_stdio(slave, o->stdio, &err) < 0)
			child_fail(sync, &err);
		if (slave > 2)
			close(slave);
	}
	if (rootfs_finalize(&ro, &err) < 0)
		child_fail(sync, &err);
	if (sec_set_rlimits(c, &err) < 0)
		child_fail(sync, &err);
	if (enter_cwd(c->cwd, &err) < 0)
		child_fail(sync, &err);
	if (o->pty_slave > 2)
		close(o->pty_slave);
	if (sync_send(sync, SYNC_CREATED, NULL) < 0)
		_exit(126);
	if (sync_recv(sync, &m) != 1 || m.type != SYNC_START)
		_exit(126);
	id.uid = c->uid;
	id.gid = c->gid;
	id.gids = c->additional_gids;
	id.ngids = c->nadditional_gids;
	if (sec_finalize(c, &id, bpf, &err) < 0)
		child_fail(sync, &err);
	sec_cloexec_from(3 + o->preserve_fds);
	reset_signals();
	env = c->env ? c->env : default_env();
	ctr_execvpe(c->args[0], c->args, env);
	if (errno == ENOENT)
		berr_set(&err, ENOENT, "exec %s: executable file not found", c->args[0]);
	else
		berr_errno(&err, "exec %s", c->args[0]);
	child_fail(sync, &err);
	_exit(127);
}

/* clone(2) with the namespace flags; on a v2 host straight into the
 * container's cgroup (clone3 CLONE_INTO_CGROUP, kernel 5.7+), sparing the
 * migration afterwards.  *in_cg says whether that happened. */
static pid_t
ctr_clone(int flags, const char *v2_dir, int *in_cg)
{
	*in_cg = 0;
#ifdef SYS_clone3
	if (v2_dir) {
		struct {
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
			uint64_t set_tid, set_tid_size, cgroup;
		} a;
		int fd = open(v2_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		long pid;

		if (fd >= 0) {
			memset(&a, 0, sizeof a);
			a.flags = (uint64_t)(unsigned)flags | CTR_CLONE_INTO_CGROUP;
			a.exit_signal = SIGCHLD;
			a.cgroup = (uint64_t)fd;
			pid = syscall(SYS_clone3, &a, sizeof a);
			close(fd);
			if (pid >= 0) {
				*in_cg = pid > 0;
				return (pid_t)pid;
			}
		}
	}
#else
	(void)v2_dir;
#endif
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static int
write_file_str(const char *path, const char *s, struct berr *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return berr_errno(err, "opening %s", path);
	n = write(fd, s, strlen(s));
	if (n < 0 || (size_t)n != strlen(s)) {
		berr_errno(err, "writing %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
write_idmap(pid_t pid, const char *file, const struct oci_idmap *m, size_t n, struct berr *err)
{
	char path[64], buf[340 * 36 + 1];
	size_t i, len = 0;

	for (i = 0; i < n && len < sizeof buf - 40; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%u %u %u\n", m[i].container_id,
					m[i].host_id, m[i].size);
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	return write_file_str(path, buf, err);
}

/* Wait for CREATED; an ERROR or EOF means the child failed. */
static int
wait_created(struct ctr_proc *p, struct berr *err)
{
	struct sync_msg m;
	int rc, fd;

	for (;;) {
		rc = sync_recv_fd(p->sync_fd, &m, &fd);
		if (rc == 1 && m.type == SYNC_PTY && fd >= 0 && p->pty_master < 0) {
			p->pty_master = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		break;
	}

	if (rc == 1 && m.type == SYNC_CREATED)
		return 0;
	if (rc == 1 && m.type == SYNC_ERROR)
		return berr_set(err, m.code ? m.code : EIO, "%s", m.text);
	return berr_set(err, EIO, "the container's init died during setup");
}

/* A namespaced sysctl must only be written in a namespace of the
 * container's own: net.* without a network namespace (--net host too, which
 * drops it after parsing) would change the host's.  (The hostname's UTS
 * check is the config parser's.) */
int
ctr_check_host_namespaces(const struct oci_config *c, struct berr *err)
{
	size_t i;

	for (i = 0; i < c->nsysctl; i++) {
		const char *k = c->sysctl_keys[i];
		int need = 0;

		if (strncmp(k, "net.", 4) == 0)
			need = CLONE_NEWNET;
		else if (strncmp(k, "kernel.msg", 10) == 0 || strncmp(k, "kernel.sem", 10) == 0 ||
			 strncmp(k, "kernel.shm", 10) == 0 || strncmp(k, "fs.mqueue.", 10) == 0)
			need = CLONE_NEWIPC;
		else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
			need = CLONE_NEWUTS;
		if (need && !oci_config_namespace(c, need))
			return berr_set(err, BERR_INVALID,
					"linux.sysctl.%s: the container has no namespace of its own for it "
					"(it would change the host's)", k);
	}
	return 0;
}

int
ctr_create(const struct ctr_create_opts *o, struct ctr_proc *p, struct berr *err)
{
	const struct oci_config *c = o->cfg;
	int sv[2], flags = 0, pidns_fd = -1, saved_pidns = -1, new_cgroupns;
	int tasks[CGC_NCTRL], ntasks = 0, in_v2 = 0;
	struct sec_bpf *bpf;
	size_t i;
	pid_t pid;

	memset(p, 0, sizeof *p);
	p->pid = -1;
	p->sync_fd = -1;
	p->pty_master = -1;
	if (!oci_config_namespace(c, CLONE_NEWNS))
		return berr_set(err, BERR_INVALID, "linux.namespaces: a mount namespace is required");
	if (ctr_check_host_namespaces(c, err) < 0)
		return -1;
	/* A new cgroup namespace is unshared by the child once it is in its
	 * cgroup, so that cgroup becomes the namespace's root. */
	for (i = 0; i < c->nnamespaces; i++)
		if (c->namespaces[i].path == NULL && c->namespaces[i].type != CLONE_NEWCGROUP)
			flags |= c->namespaces[i].type;
	new_cgroupns = oci_config_namespace(c, CLONE_NEWCGROUP) &&
		       oci_config_namespace(c, CLONE_NEWCGROUP)->path == NULL;
	if (cgroup_create(&p->cg, o->cgroup_rel, err) < 0)
		return berr_wrap(err, "cgroup %s", o->cgroup_rel);
	if (cgroup_apply(&p->cg, &c->resources, err) < 0)
		goto fail_cg;
	if (cgroup_set_devices(&p->cg, &c->resources, c->devices, c->ndevices, err) < 0)
		goto fail_cg;
	ntasks = cgroup_open_tasks(&p->cg, tasks, err);
	if (ntasks < 0) {
		ntasks = 0;
		goto fail_cg;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		berr_errno(err, "socketpair");
		goto fail_cg;
	}
	/* Joining a pid namespace only affects children: do it around clone. */
	if (oci_config_namespace(c, CLONE_NEWPID) && oci_config_namespace(c, CLONE_NEWPID)->path) {
		saved_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		pidns_fd = open(oci_config_namespace(c, CLONE_NEWPID)->path, O_RDONLY | O_CLOEXEC);
		if (pidns_fd < 0 || setns(pidns_fd, CLONE_NEWPID) < 0) {
			berr_errno(err, "joining pid namespace %s", oci_config_namespace(c, CLONE_NEWPID)->path);
			goto fail_sock;
		}
	}
	/* The seccomp filter is compiled here while the child builds its root,
	 * into memory both share; without it the child compiles its own. */
	bpf = mmap(NULL, sizeof *bpf, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bpf == MAP_FAILED)
		bpf = NULL;
	pid = ctr_clone(flags, p->cg.v2_dir, &in_v2);
	if (pid < 0) {
		berr_errno(err, "clone");
		if (bpf)
			munmap(bpf, sizeof *bpf);
		goto fail_sock;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(o, sv[1], tasks, ntasks, bpf);
	}
	cgroup_close_tasks(tasks, ntasks);
	ntasks = 0;
	if (saved_pidns >= 0) {
		(void)setns(saved_pidns, CLONE_NEWPID);
		close(saved_pidns);
		saved_pidns = -1;
	}
	if (pidns_fd >= 0)
		close(pidns_fd);
	close(sv[1]);
	p->pid = pid;
	p->sync_fd = sv[0];
	/* The child joins its v1 cgroups itself (cgroup_join_tasks) and a v2
	 * one at clone where it can.  Otherwise the parent moves it, which
	 * waits for an RCU grace period (milliseconds): unless the child's
	 * cgroup namespace needs that first, while the child builds its root.
	 * The child runs nothing of the container's before SYNC_START. */
	if (new_cgroupns && !in_v2 && cgroup_add_pid_v2(&p->cg, pid, err) < 0)
		goto fail_child;
	if ((flags & CLONE_NEWUSER)) {
		if (write_idmap(pid, "gid_map", c->gid_mappings, c->ngid_mappings, err) < 0 ||
		    write_idmap(pid, "uid_map", c->uid_mappings, c->nuid_mappings, err) < 0)
			goto fail_child;
	}
	if (o->net == CTR_NET_BRIDGE && (flags & CLONE_NEWNET) &&
	    net_bridge_attach(pid, o->id, p->veth, err) < 0)
		goto fail_child;
	if (sync_send(p->sync_fd, SYNC_GO, NULL) < 0) {
		berr_errno(err, "starting the container's init");
		goto fail_child;
	}
	if (bpf) {
		/* read by the child only after SYNC_START */
		int rc = sec_seccomp_compile(c, bpf, err);

		munmap(bpf, sizeof *bpf);
		bpf = NULL;
		if (rc < 0)
			goto fail_child;
	}
	if (!new_cgroupns && !in_v2 && cgroup_add_pid_v2(&p->cg, pid, err) < 0)
		goto fail_child;
	if (c->has_oom_score_adj) {
		char path[64], val[16];

		snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
		snprintf(val, sizeof val, "%d", c->oom_score_adj);
		if (write_file_str(path, val, err) < 0)
			goto fail_child;
	}
	if (o->meanwhile && o->meanwhile(o->meanwhile_arg, err) < 0)
		goto fail_child;
	if (wait_created(p, err) < 0)
		goto fail_child;
	return 0;

fail_child:
	if (bpf)
		munmap(bpf, sizeof *bpf);
	if (p->pty_master >= 0) {
		close(p->pty_master);
		p->pty_master = -1;
	}
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(p->sync_fd);
	p->sync_fd = -1;
	p->pid = -1;
	if (p->veth[0])
		(void)net_link_delete(p->veth, NULL);
	cgroup_destroy(&p->cg, NULL);
	cgroup_free(&p->cg);
	return -1;
fail_sock:
	if (saved_pidns >= 0) {
		(void)setns(saved_pidns, CLONE_NEWPID);
		close(saved_pidns);
	}
	if (pidns_fd >= 0)
		close(pidns_fd);
	close(sv[0]);
	close(sv[1]);
fail_cg:
	cgroup_close_tasks(tasks, ntasks);
	cgroup_destroy(&p->cg, NULL);
	cgroup_free(&p->cg);
	return -1;
}

int
ctr_start(struct ctr_proc *p, struct berr *err)
{
	struct sync_msg m;
	int rc;

	if (p->sync_fd < 0)
		return berr_set(err, BERR_STATE, "the container was already started");
	if (sync_send(p->sync_fd, SYNC_START, NULL) < 0) {
		berr_errno(err, "signalling the container's init");
		close(p->sync_fd);
		p->sync_fd = -1;
		return -1;
	}
	rc = sync_recv(p->sync_fd, &m);
	close(p->sync_fd);
	p->sync_fd = -1;
	if (rc == 0)
		return 0;
	if (rc == 1 && m.type == SYNC_ERROR)
		return berr_set(err, m.code ? m.code : EIO, "%s", m.text);
	return berr_set(err, EIO, "unexpected message from the container's init");
}

/* ------------------------------------------------------------------- exec */

static const struct {
	const char *name;
	int type;
} ns_files[] = {
	/* user first: the others are owned by it and need its credentials. */
	{ "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP }, { "pid", CLONE_NEWPID },
	{ "mnt", CLONE_NEWNS },
};

static int
same_ns(pid_t pid, const char *name)
{
	char a[64], b[64];
	struct stat sa, sb;

	snprintf(a, sizeof a, "/proc/%d/ns/%s", (int)pid, name);
	snprintf(b, sizeof b, "/proc/self/ns/%s", name);
	/* Unknown counts as different: the open that follows then fails.  A
	 * "same" here would skip the join, and an init that just died would
	 * have its exec run in the host's namespaces. */
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return 0;
	return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int
ctr_exec_spawn(const struct ctr_exec_opts *o, pid_t *pid_out, struct berr *err)
{
	int sv[2], nsfd[8], i, rc;
	size_t k;
	pid_t mid;
	struct sync_msg m;

	for (k = 0; k < 8; k++)
		nsfd[k] = -1;
	/* Open every namespace first, while /proc is still ours. */
	for (k = 0; k < sizeof ns_files / sizeof ns_files[0]; k++) {
		char path[64];

		if (same_ns(o->init_pid, ns_files[k].name))
			continue;
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)o->init_pid, ns_files[k].name);
		nsfd[k] = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd[k] < 0) {
			berr_errno(err, "opening %s", path);
			goto fail;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		berr_errno(err, "socketpair");
		goto fail;
	}
	/* An intermediate process joins the namespaces, then forks the real
	 * process so that it lands inside the pid namespace. */
	mid = fork();
	if (mid < 0) {
		berr_errno(err, "fork");
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (mid == 0) {
		struct berr e = { 0 };
		struct cgroup cg;
		pid_t child;
		int own_slave = -1;

		close(sv[0]);
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		/* Outside the container's cgroup the process would escape its
		 * memory and pids limits: fail rather than run there. */
		if (cgroup_open(&cg, o->cgroup_rel, &e) < 0 || cgroup_join_self(&cg, &e) < 0) {
			cgroup_free(&cg);
			berr_wrap(&e, "joining the container's cgroup");
			child_fail(sv[1], &e);
		}
		cgroup_free(&cg);
		for (k = 0; k < sizeof ns_files / sizeof ns_files[0]; k++) {
			if (nsfd[k] < 0)
				continue;
			if (setns(nsfd[k], ns_files[k].type) < 0) {
				berr_errno(&e, "joining the container's %s namespace", ns_files[k].name);
				child_fail(sv[1], &e);
			}
			close(nsfd[k]);
		}
		if (o->pty_slave >= 0 && o->want_container_pty) {
			int slave = container_pty(sv[1]);

			if (slave >= 0)
				own_slave = slave;
		}
		child = fork();
		if (child < 0) {
			berr_errno(&e, "fork");
			child_fail(sv[1], &e);
		}
		if (child > 0) {
			/* Tell the caller the real pid (as the host sees it, via
			 * SCM_CREDENTIALS would be nicer; the code field is enough
			 * since our parent is in the host namespace). */
			struct sync_msg pm;

			memset(&pm, 0, sizeof pm);
			pm.type = SYNC_CREATED;
			pm.code = child;
			(void)send(sv[1], &pm, sizeof pm, MSG_NOSIGNAL);
			_exit(0);
		}
		{
			const struct oci_config *c = o->cfg;
			struct sec_identity id;
			char **env = o->env ? o->env : (c->env ? c->env : default_env());

			if (setup_stdio(own_slave >= 0 ? own_slave : o->pty_slave, o->stdio, &e) < 0)
				child_fail(sv[1], &e);
			if (own_slave > 2)
				close(own_slave);
			if (sec_set_rlimits(c, &e) < 0)
				child_fail(sv[1], &e);
			if (enter_cwd(o->cwd ? o->cwd : c->cwd, &e) < 0)
				child_fail(sv[1], &e);
			id.uid = o->has_user ? o->uid : c->uid;
			id.gid = o->has_user ? o->gid : c->gid;
			id.gids = o->has_user ? NULL : c->additional_gids;
			id.ngids = o->has_user ? 0 : c->nadditional_gids;
			if (sec_finalize(c, &id, NULL, &e) < 0)
				child_fail(sv[1], &e);
			sec_cloexec_from(3);
			reset_signals();
			ctr_execvpe(o->argv[0], o->argv, env);
			if (errno == ENOENT)
				berr_set(&e, ENOENT, "exec %s: executable file not found", o->argv[0]);
			else
				berr_errno(&e, "exec %s", o->argv[0]);
			child_fail(sv[1], &e);
		}
	}
	close(sv[1]);
	for (k = 0; k < 8; k++)
		if (nsfd[k] >= 0)
			close(nsfd[k]);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	/* The grandchild is reparented; we want it as our child: mark ourselves
	 * a subreaper beforehand would be needed.  Instead the caller sets
	 * PR_SET_CHILD_SUBREAPER (see main.c / monitor.c). */
	if (o->master_out)
		*o->master_out = -1;
	for (;;) {
		int fd;

		rc = sync_recv_fd(sv[0], &m, &fd);
		if (rc == 1 && m.type == SYNC_PTY && fd >= 0 && o->master_out && *o->master_out < 0) {
			*o->master_out = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		break;
	}
	if (rc != 1 || m.type != SYNC_CREATED) {
		if (o->master_out && *o->master_out >= 0) {
			close(*o->master_out);
			*o->master_out = -1;
		}
		if (rc == 1 && m.type == SYNC_ERROR)
			berr_set(err, m.code ? m.code : EIO, "%s", m.text);
		else
			berr_set(err, EIO, "exec: the helper process died");
		close(sv[0]);
		return -1;
	}
	*pid_out = m.code;
	/* Then wait for exec (EOF) or an error from the process itself. */
	rc = sync_recv(sv[0], &m);
	close(sv[0]);
	if (rc == 1 && m.type == SYNC_ERROR) {
		int st;

		while (waitpid(*pid_out, &st, 0) < 0 && errno == EINTR)
			;
		return berr_set(err, m.code ? m.code : EIO, "%s", m.text);
	}
	return 0;
fail:
	for (i = 0; i < 8; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	return -1;
}
