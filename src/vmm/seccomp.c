/*
 * seccomp.c - berth-vmm's system-call filter: once the VM, its sockets and
 * files are set up, every thread of the process may only make the calls a
 * running VMM needs (KVM ioctls, socket and eventfd I/O, memory management,
 * futexes, clocks, signals, thread creation, reading /proc for stats and
 * removing its sockets at exit).  Anything else fails with EPERM instead of
 * running, so a guest that subverts the VMM gains little.
 * Not for: argument-level policy beyond ioctl (kept simple on purpose).
 */
#include "config.h"

#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include "vmm/vmm.h"

static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(fcntl), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(mincore),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(tgkill), SCMP_SYS(tkill), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(clone), SCMP_SYS(clone3),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(newfstatat),
	SCMP_SYS(fstat), SCMP_SYS(lseek), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(getrandom),
	SCMP_SYS(prctl), SCMP_SYS(restart_syscall), SCMP_SYS(ioctl), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(uname),
};

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
