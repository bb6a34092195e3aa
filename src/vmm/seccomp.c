/*
 * seccomp.c - berth-vmm's system-call filter: once the VM, its sockets and
 * files are set up, every thread of the process may only make the calls a
 * running VMM needs (KVM ioctls, socket and eventfd I/O, memory management,
 * futexes, clocks, signals, thread creation, removing its sockets and an
 * empty run directory at exit).  No open at all: what the VMM reads while
 * running (/proc/self/statm for stats) is opened before the filter.  Anything else fails with EPERM instead of
 * running, so a guest that subverts the VMM gains little.
 * A few calls are allowed only with safe arguments (add_arg_rules): clone
 * for threads, KVM and terminal-mode ioctls, prctl to name threads;
 * execve, fork, open, socket, TIOCSTI and the like fail.
 * Not for: path-level policy (seccomp cannot read strings).
 */
#include "config.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>

#include "vmm/vmm.h"

static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(fcntl), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(mincore),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(tgkill), SCMP_SYS(tkill), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(newfstatat),
	SCMP_SYS(fstat), SCMP_SYS(lseek), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rmdir), SCMP_SYS(getrandom),
	SCMP_SYS(restart_syscall), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(uname),
};

/* ioctl requests beyond KVM's own (type 0xAE): what tcsetattr/tcgetattr
 * need to give a terminal back at exit.  Not TIOCSTI: a subverted VMM on
 * the user's terminal could otherwise type commands into the shell. */
static const unsigned long tty_ioctls[] = { TCGETS, TCSETS, TCSETSW, TCSETSF };

/* Rules that look at arguments: threads but no new processes, terminal and
 * KVM ioctls, prctl only to name threads. */
static int
add_arg_rules(scmp_filter_ctx ctx)
{
	int r = 0;

	/* pthread_create: clone with CLONE_THREAD.  clone3 takes its flags in
	 * memory the filter cannot read: ENOSYS makes glibc fall back to clone. */
	r = r ? r : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	r = r ? r : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	r = r ? r : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, KVMIO << 8));
	for (size_t i = 0; i < sizeof tty_ioctls / sizeof tty_ioctls[0]; i++)
		r = r ? r : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					     SCMP_A1(SCMP_CMP_EQ, tty_ioctls[i]));
	r = r ? r : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	r = r ? r : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
	return r;
}

int
vmm_seccomp_install(struct berr *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r = 0;

	if (ctx == NULL)
		return berr_set(err, ENOMEM, "seccomp_init failed");
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0] && r == 0; i++)
		if (allowed[i] >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (r == 0)
		r = add_arg_rules(ctx);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		errno = -r;
		return berr_errno(err, "installing the seccomp filter");
	}
	return 0;
}
