/*
 * test-seccomp.c - berth-vmm's system-call filter (src/vmm/seccomp.c), run
 * in this process: once installed, what a running VMM needs still works
 * (threads, KVM ioctls, terminal modes, reading descriptors opened before,
 * unlinking its sockets, eventfds), and what a subverted VMM would want
 * fails with EPERM: execve, fork, opening any file, TIOCSTI on a terminal,
 * new sockets, prctl beyond thread names.
 * Not for: the filter inside a live berth-vmm (the shell tests in tests/vmm run those).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/vmm.h"

/* Referenced by nothing here, but vmm.h declares it. */
void
vmm_log(const char *fmt, ...)
{
	(void)fmt;
}

static void *
thread_fn(void *arg)
{
	char name[16] = "";

	prctl(PR_SET_NAME, "vcpu-test");
	prctl(PR_GET_NAME, name);
	*(int *)arg = strcmp(name, "vcpu-test") == 0 ? 42 : 1;
	return NULL;
}

/* Did the call fail with EPERM (the filter), rather than run? */
static int
eperm(long r)
{
	return r < 0 && errno == EPERM;
}

int
main(void)
{
	const char *tmp = getenv("BERTH_TEST_TMP") ? getenv("BERTH_TEST_TMP") : "/tmp";
	char path[4096], sock[4096];
	struct berr err;
	struct termios tio;
	struct stat st;
	pthread_t t;
	int kvm, master, slave, efd, statm, res = 0, r;
	char buf[128];
	uint64_t one = 1;
	FILE *f;
	pid_t pid;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	printf("SKIP: the sanitizer runtime needs calls the filter refuses (berth-vmm skips it too)\n");
	return 77;
#endif
	snprintf(path, sizeof path, "%s/seccomp-test.%d", tmp, (int)getpid());
	snprintf(sock, sizeof sock, "%s/seccomp-sock.%d", tmp, (int)getpid());
	close(open(sock, O_WRONLY | O_CREAT, 0600));
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		printf("not ok - no pseudo-terminal: %s\n", strerror(errno));
		return 1;
	}
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	efd = eventfd(0, EFD_CLOEXEC);
	statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	berr_clear(&err);
	ok(vmm_seccomp_install(&err) == 0, "filter installed");
	if (err.code)
		printf("# %s\n", err.msg);

	/* What berth-vmm needs while running. */
	ok(pthread_create(&t, NULL, thread_fn, &res) == 0 && pthread_join(t, NULL) == 0 && res == 42,
	   "threads can be created and named");
	if (kvm >= 0)
		is_int(ioctl(kvm, KVM_GET_API_VERSION, 0), KVM_API_VERSION, "KVM ioctls pass");
	ok(tcgetattr(slave, &tio) == 0 && tcsetattr(slave, TCSANOW, &tio) == 0,
	   "terminal modes can be read and restored");
	ok(pread(statm, buf, sizeof buf, 0) > 0, "a descriptor opened before (/proc/self/statm) reads");
	ok(write(efd, &one, sizeof one) == sizeof one, "eventfd writes pass");
	ok(unlink(sock) == 0, "sockets can be removed at exit");
	ok(getpid() > 0 && clock() >= 0, "getpid, clocks");

	/* What a subverted VMM must not do. */
	errno = 0;
	r = ioctl(slave, TIOCSTI, "x");
	ok(eperm(r), "TIOCSTI (typing into the user's terminal) is refused");
	if (!eperm(r))
		printf("# TIOCSTI returned %d (%s)\n", r, strerror(errno));
	ok(eperm(open("/proc/self/statm", O_RDONLY)), "open, even for reading, is refused");
	f = fopen("/etc/hostname", "r");
	ok(f == NULL && errno == EPERM, "fopen is refused");
	if (f)
		fclose(f);
	ok(eperm(open(path, O_WRONLY | O_CREAT, 0600)), "open for writing is refused");
	ok(eperm(openat(AT_FDCWD, path, O_RDWR | O_CREAT, 0600)), "openat for writing is refused");
	ok(stat(path, &st) < 0 && errno == ENOENT, "no file was created");
	pid = fork();
	if (pid == 0)
		_exit(0);
	ok(eperm(pid), "fork is refused");
	ok(eperm(execl("/bin/true", "true", (char *)NULL)), "execve is refused");
	ok(eperm(socket(AF_INET, SOCK_STREAM, 0)), "new sockets are refused");
	ok(eperm(prctl(PR_SET_DUMPABLE, 1)), "prctl beyond thread names is refused");
	ok(eperm(ioctl(slave, TIOCSCTTY, 1)), "other terminal ioctls are refused");
	return tap_done();
}
