/*
 * seccomp-probe.c - built statically by tests/ctr/security.sh and run inside
 * a container: prints "name=result" for calls the default seccomp profile
 * must deny (EPERM shows as "Operation not permitted").
 * Not for: anything but that test.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
report(const char *name, long rc)
{
	printf("%s=%s\n", name, rc < 0 ? strerror(errno) : "allowed");
}

int
main(void)
{
	char params[512];	/* struct io_uring_params is 120 bytes */

	memset(params, 0, sizeof params);
	report("io_uring_setup", syscall(SYS_io_uring_setup, 1, params));
	report("fanotify_init", syscall(SYS_fanotify_init, 0, 0));
	report("set_mempolicy", syscall(SYS_set_mempolicy, 0, NULL, 0));
	report("vhangup", syscall(SYS_vhangup));
	return 0;
}
