/*
 * security.c - dropping privileges before a container process runs.
 *
 * For: order matters.  The bounding set is cut while still fully privileged;
 * without no_new_privs a seccomp filter needs CAP_SYS_ADMIN, so it is loaded
 * before the capability sets are lowered, and with no_new_privs as late as
 * possible; uid/gid change with PR_SET_KEEPCAPS so that capset can then
 * install exactly the configured sets.  The default seccomp profile allows
 * everything except the calls the common container default denies, and
 * denies the namespace/mount family unless CAP_SYS_ADMIN is granted.
 * Not for: namespaces or mounts.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctr/security.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int
sec_set_rlimits(const struct oci_config *c, struct berr *err)
{
	size_t i;

	for (i = 0; i < c->nrlimits; i++) {
		struct rlimit rl = { c->rlimits[i].soft, c->rlimits[i].hard };

		if (setrlimit(c->rlimits[i].resource, &rl) < 0)
			return berr_errno(err, "setrlimit %d", c->rlimits[i].resource);
	}
	return 0;
}

uint64_t
sec_effective_caps(const struct oci_config *c)
{
	return c->has_caps ? c->caps[OCI_CAP_EFFECTIVE] : oci_default_caps();
}

void
sec_cloexec_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* Older kernels: walk the table. */
	{
		long max = sysconf(_SC_OPEN_MAX);
		int fd;

		if (max < 0 || max > 1 << 20)
			max = 1 << 20;
		for (fd = first; fd < max; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

static int
cap_last_kernel(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = oci_cap_last();

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = oci_cap_last();
		fclose(f);
	}
	return last;
}

static int
drop_bounding(uint64_t keep, struct berr *err)
{
	int cap, last = cap_last_kernel();

	for (cap = 0; cap <= last && cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return berr_errno(err, "dropping %s from the bounding set",
					  oci_cap_name(cap) ? oci_cap_name(cap) : "a capability");
	}
	return 0;
}

static int
set_caps(uint64_t eff, uint64_t perm, uint64_t inh, struct berr *err)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof data);
	data[0].effective = (uint32_t)eff;
	data[1].effective = (uint32_t)(eff >> 32);
	data[0].permitted = (uint32_t)perm;
	data[1].permitted = (uint32_t)(perm >> 32);
	data[0].inheritable = (uint32_t)inh;
	data[1].inheritable = (uint32_t)(inh >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return berr_errno(err, "capset");
	return 0;
}

/* ---------------------------------------------------------------- seccomp */

static uint32_t
map_action(enum oci_scmp_action a, int errno_ret)
{
	switch (a) {
	case OCI_SCMP_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
	case OCI_SCMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
	case OCI_SCMP_TRAP: return SCMP_ACT_TRAP;
	case OCI_SCMP_ERRNO: return SCMP_ACT_ERRNO(errno_ret >= 0 ? (uint16_t)errno_ret : EPERM);
	case OCI_SCMP_TRACE: return SCMP_ACT_TRACE(errno_ret >= 0 ? (uint16_t)errno_ret : EPERM);
	case OCI_SCMP_ALLOW: return SCMP_ACT_ALLOW;
	case OCI_SCMP_LOG: return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;
}

static const enum scmp_compare op_map[] = {
	SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT,
	SCMP_CMP_MASKED_EQ,
};

static void
add_native_compat_arches(scmp_filter_ctx ctx)
{
#if defined(__x86_64__)
	(void)seccomp_arch_add(ctx, SCMP_ARCH_X86);
	(void)seccomp_arch_add(ctx, SCMP_ARCH_X32);
#elif defined(__aarch64__)
	(void)seccomp_arch_add(ctx, SCMP_ARCH_ARM);
#endif
}

/* A filter context whose loading would leave no_new_privs alone: berth
 * sets it itself, only when the config asks (libseccomp's default sets it
 * on every load). */
static scmp_filter_ctx
new_filter(uint32_t def_action, struct berr *err)
{
	scmp_filter_ctx ctx = seccomp_init(def_action);

	if (ctx == NULL) {
		berr_set(err, EINVAL, "seccomp: cannot initialise the filter");
		return NULL;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		seccomp_release(ctx);
		berr_set(err, EINVAL, "seccomp: cannot leave no_new_privs to the config");
		return NULL;
	}
	return ctx;
}

static scmp_filter_ctx
build_config_filter(const struct oci_seccomp *s, struct berr *err)
{
	scmp_filter_ctx ctx;
	size_t i, j, k;
	int rc;

	ctx = new_filter(map_action(s->default_action, s->default_errno), err);
	if (ctx == NULL)
		return NULL;
	for (i = 0; i < s->narchs; i++) {
		const char *a = s->archs[i];
		uint32_t arch;

		if (strncmp(a, "SCMP_ARCH_", 10) == 0)
			a += 10;
		{
			char lower[32];

			for (k = 0; a[k] && k < sizeof lower - 1; k++)
				lower[k] = (char)(a[k] >= 'A' && a[k] <= 'Z' ? a[k] - 'A' + 'a' : a[k]);
			lower[k] = '\0';
			arch = seccomp_arch_resolve_name(lower);
		}
		if (arch != 0 && arch != seccomp_arch_native())
			(void)seccomp_arch_add(ctx, arch);
	}
	if (s->narchs == 0)
		add_native_compat_arches(ctx);
	for (i = 0; i < s->nrules; i++) {
		const struct oci_seccomp_rule *r = &s->rules[i];
		uint32_t act = map_action(r->action, r->errno_ret);
		struct scmp_arg_cmp cmps[6];

		if (act == map_action(s->default_action, s->default_errno))
			continue;
		for (k = 0; k < r->nargs; k++) {
			cmps[k].arg = r->args[k].index;
			cmps[k].op = op_map[r->args[k].op];
			cmps[k].datum_a = r->args[k].value;
			cmps[k].datum_b = r->args[k].value_two;
		}
		for (j = 0; j < r->nnames; j++) {
			int nr = seccomp_syscall_resolve_name(r->names[j]);

			if (nr == __NR_SCMP_ERROR)
				continue;	/* unknown here: ignored, as other runtimes do */
			rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)r->nargs, cmps);
			if (rc < 0) {
				seccomp_release(ctx);
				errno = -rc;
				berr_errno(err, "seccomp: rule for %s", r->names[j]);
				return NULL;
			}
		}
	}
	return ctx;
}

static int
deny(scmp_filter_ctx ctx, const char *name, uint32_t act)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add(ctx, act, nr, 0);
}

/* berth's default: allow by default, deny what the common container default
 * denies.  Calls that a granted capability makes legitimate stay allowed. */
static scmp_filter_ctx
build_default_filter(uint64_t caps, struct berr *err)
{
	static const char *const always[] = {
		"kexec_load", "kexec_file_load", "open_by_handle_at", "init_module", "finit_module",
		"delete_module", "create_module", "get_kernel_syms", "query_module", "keyctl",
		"add_key", "request_key", "acct", "swapon", "swapoff", "iopl", "ioperm",
		"lookup_dcookie", "uselib", "userfaultfd", "nfsservctl", "_sysctl", "vm86",
		"vm86old", "perf_event_open", "fsopen", "fsconfig", "fsmount", "fspick",
		"move_mount", "open_tree", "mount_setattr", "quotactl", "quotactl_fd",
		/* io_uring performs its work outside the syscall filter (and has
		 * been a steady source of kernel bugs): the common default denies it. */
		"io_uring_setup", "io_uring_enter", "io_uring_register",
	};
	static const char *const need_admin[] = {
		"mount", "umount", "umount2", "pivot_root", "unshare", "setns", "bpf",
		"name_to_handle_at", "syslog", "sethostname", "setdomainname", "lsm_set_self_attr",
		"fanotify_init",
	};
	static const char *const need_nice[] = {
		"mbind", "set_mempolicy", "set_mempolicy_home_node", "migrate_pages", "move_pages",
	};
	static const char *const need_ptrace[] = {
		"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	};
	static const char *const need_time[] = {
		"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
		"clock_adjtime64", "adjtimex",
	};
	static const unsigned long ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
		CLONE_NEWNET, CLONE_NEWCGROUP,
	};
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	ctx = new_filter(SCMP_ACT_ALLOW, err);
	if (ctx == NULL)
		return NULL;
	add_native_compat_arches(ctx);
	for (i = 0; i < sizeof always / sizeof always[0] && rc == 0; i++)
		rc = deny(ctx, always[i], eperm);
	if (!(caps & (1ULL << CAP_SYS_ADMIN))) {
		for (i = 0; i < sizeof need_admin / sizeof need_admin[0] && rc == 0; i++)
			rc = deny(ctx, need_admin[i], eperm);
		/* New namespaces through clone: refuse the flags.  clone3 hides
		 * its flags in memory, so it answers ENOSYS and libc falls back. */
		for (i = 0; i < sizeof ns_flags / sizeof ns_flags[0] && rc == 0; i++)
			rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (rc == 0 && seccomp_syscall_resolve_name("clone3") != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					      seccomp_syscall_resolve_name("clone3"), 0);
	}
	if (!(caps & (1ULL << CAP_SYS_PTRACE)))
		for (i = 0; i < sizeof need_ptrace / sizeof need_ptrace[0] && rc == 0; i++)
			rc = deny(ctx, need_ptrace[i], eperm);
	if (!(caps & (1ULL << CAP_SYS_TIME)))
		for (i = 0; i < sizeof need_time / sizeof need_time[0] && rc == 0; i++)
			rc = deny(ctx, need_time[i], eperm);
	if (!(caps & (1ULL << CAP_SYS_BOOT)) && rc == 0)
		rc = deny(ctx, "reboot", eperm);
	if (!(caps & (1ULL << CAP_SYS_NICE)))
		for (i = 0; i < sizeof need_nice / sizeof need_nice[0] && rc == 0; i++)
			rc = deny(ctx, need_nice[i], eperm);
	if (!(caps & (1ULL << CAP_SYS_TTY_CONFIG)) && rc == 0)
		rc = deny(ctx, "vhangup", eperm);
	if (rc < 0) {
		seccomp_release(ctx);
		errno = -rc;
		berr_errno(err, "seccomp: default profile");
		return NULL;
	}
	return ctx;
}

int
sec_seccomp_compile(const struct oci_config *c, struct sec_bpf *out, struct berr *err)
{
	scmp_filter_ctx ctx;
	struct stat st;
	int fd, rc;

	out->set = 0;
	out->ninsns = 0;
	if (c->seccomp_disabled) {
		out->set = 1;
		return 0;
	}
	ctx = c->seccomp ? build_config_filter(c->seccomp, err) :
			   build_default_filter(sec_effective_caps(c), err);
	if (ctx == NULL)
		return -1;
	/* libseccomp 2.5 exports only to a file descriptor */
	fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		seccomp_release(ctx);
		return berr_errno(err, "seccomp: a buffer for the filter");
	}
	rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (rc < 0) {
		close(fd);
		errno = -rc;
		return berr_errno(err, "seccomp: generating the filter");
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
	    (size_t)st.st_size > sizeof out->insns ||
	    pread(fd, out->insns, (size_t)st.st_size, 0) != (ssize_t)st.st_size) {
		close(fd);
		return berr_set(err, E2BIG, "seccomp: the filter is empty or longer than %u instructions",
				(unsigned)SEC_BPF_MAX);
	}
	close(fd);
	out->ninsns = (unsigned)(st.st_size / (off_t)sizeof(struct sock_filter));
	out->set = 1;
	return 0;
}

/* Install a compiled filter on this thread (flags 0, as seccomp_load would). */
static int
seccomp_install(const struct sec_bpf *f, struct berr *err)
{
	struct sock_fprog prog;

	if (f->ninsns == 0)
		return 0;
	prog.len = (unsigned short)f->ninsns;
	prog.filter = (struct sock_filter *)f->insns;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return berr_errno(err, "seccomp: loading the filter");
	return 0;
}

/* The compiled filter, or one compiled here when the caller has none. */
static int
seccomp_apply(const struct oci_config *c, const struct sec_bpf *pre, struct berr *err)
{
	struct sec_bpf *own;
	int rc;

	if (pre && pre->set)
		return seccomp_install(pre, err);
	own = mmap(NULL, sizeof *own, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (own == MAP_FAILED)
		return berr_errno(err, "seccomp: memory for the filter");
	rc = sec_seccomp_compile(c, own, err);
	if (rc == 0)
		rc = seccomp_install(own, err);
	munmap(own, sizeof *own);
	return rc;
}

int
sec_finalize(const struct oci_config *c, const struct sec_identity *id, const struct sec_bpf *bpf,
	     struct berr *err)
{
	uint64_t bounding, eff, perm, inh, amb;
	int cap;

	if (c->has_caps) {
		bounding = c->caps[OCI_CAP_BOUNDING];
		eff = c->caps[OCI_CAP_EFFECTIVE];
		perm = c->caps[OCI_CAP_PERMITTED];
		inh = c->caps[OCI_CAP_INHERITABLE];
		amb = c->caps[OCI_CAP_AMBIENT];
	} else {
		bounding = eff = perm = oci_default_caps();
		inh = amb = 0;
	}
	if (drop_bounding(bounding, err) < 0)
		return -1;
	if (!c->no_new_privileges && seccomp_apply(c, bpf, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return berr_errno(err, "PR_SET_KEEPCAPS");
	{
		gid_t gids[256];
		size_t i, n = id->ngids < 256 ? id->ngids : 256;

		for (i = 0; i < n; i++)
			gids[i] = id->gids[i];
		if (setgroups(n, gids) < 0 && errno != EPERM)
			return berr_errno(err, "setgroups");
	}
	if (setresgid(id->gid, id->gid, id->gid) < 0)
		return berr_errno(err, "setting gid %u", (unsigned)id->gid);
	if (setresuid(id->uid, id->uid, id->uid) < 0)
		return berr_errno(err, "setting uid %u", (unsigned)id->uid);
	if (set_caps(eff, perm | eff, inh, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return berr_errno(err, "PR_SET_KEEPCAPS");
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (cap = 0; cap < 64; cap++)
		if ((amb & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return berr_errno(err, "raising ambient %s", oci_cap_name(cap) ? oci_cap_name(cap) : "cap");
	if (c->no_new_privileges) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return berr_errno(err, "no_new_privs");
		if (seccomp_apply(c, bpf, err) < 0)
			return -1;
	}
	return 0;
}
