/*
 * main.c - berth-ctr's command line: OCI-runtime-style commands over a
 * bundle (create, start, run, state, kill, delete, exec, list, ps, stats)
 * plus stop, pause, resume, attach and logs.
 *
 * For: parsing arguments and printing; the work is in container.c,
 * monitor.c, cgroup.c, rootfs.c and security.c.  Processes that touch a
 * container first re-execute themselves from a sealed memfd copy of the
 * binary, so nothing inside can overwrite berth-ctr through /proc/<pid>/exe.
 * Not for: the front-end's container backend (src/backends/container).
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/prctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/proto.h"
#include "core/util.h"
#include "ctr/cgroup.h"
#include "ctr/container.h"
#include "ctr/monitor.h"
#include "ctr/net.h"
#include "ctr/oci-config.h"
#include "ctr/rootfs.h"
#include "ctr/state.h"

extern char **environ;

static const char *opt_root;

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: berth-ctr [--root DIR] COMMAND [OPTIONS] ID [ARGS]\n"
		"\n"
		"Commands:\n"
		"  create ID [-b BUNDLE] [--net MODE] [--preserve-fds N]   create, do not start\n"
		"  start ID                                            start a created container\n"
		"  run ID [-b BUNDLE] [-d] [--net MODE]                create and start (foreground\n"
		"                                                      unless -d; exits with its status)\n"
		"  state ID                                            OCI state as JSON\n"
		"  kill ID [SIGNAL] [--all]                            send a signal (default TERM)\n"
		"  stop ID [-t SECONDS]                                TERM, then KILL after the timeout\n"
		"  delete ID [-f]                                      remove a stopped container\n"
		"  exec ID [-t] [-e K=V]... [--cwd DIR] [-u UID[:GID]] -- CMD [ARG...]\n"
		"  list [-q] [--format table|json]                     containers under the root\n"
		"  ps ID [--format table|json]                         processes of a container\n"
		"  stats ID                                            cgroup usage as JSON\n"
		"  pause ID | resume ID                                freeze / thaw\n"
		"  attach ID                                           console (detach: Ctrl-])\n"
		"  logs ID                                             the container's output log\n"
		"\n"
		"MODE is none (default per config.json), host or bridge (veth into berth0).\n"
		"--root defaults to $BERTH_RUN_DIR/ct.\n");
}

static void
die(const struct berr *e)
{
	fprintf(stderr, "berth-ctr: %s\n", e->msg);
	exit(1);
}

/* --------------------------------------------------------- sealed re-exec */

/* Run from a sealed memfd copy of ourselves: a container process that opens
 * /proc/<our pid>/exe then gets a memfd nobody can write (F_SEAL_WRITE),
 * never the binary on disk.  The copy holds only the part of the ELF file
 * the loader maps (the program headers' extent, not the debug sections), so
 * it costs a fraction of the whole file.  The process adopts the copy in
 * place where the kernel lets it (adopt_sealed) and executes it otherwise.
 * Fails closed: a process that would touch a container never runs from a
 * writable executable. */

static int
exe_is_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL);
}

/* How many bytes of the ELF file behind fd the loader needs: the end of the
 * furthest program-header extent (and of the header table itself); the
 * whole file when it does not parse as a 64-bit ELF. */
static off_t
elf_loaded_extent(int fd, off_t size)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	off_t end;
	unsigned i;

	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof ph || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return size;
	end = (off_t)(eh.e_phoff + (Elf64_Off)eh.e_phnum * sizeof ph);
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
			return size;
		if ((off_t)(ph.p_offset + ph.p_filesz) > end)
			end = (off_t)(ph.p_offset + ph.p_filesz);
	}
	return end > size ? size : end;
}

/* A plain copy of whole pages, the redzones a sanitizer puts around globals
 * included (volatile: no memcpy, which a sanitizer would check). */
__attribute__((no_sanitize_address)) static void
copy_pages(void *dst, const void *src, size_t len)
{
	volatile uint64_t *d = dst;
	const volatile uint64_t *from = src;
	size_t i;

	for (i = 0; i < len / sizeof *d; i++)
		d[i] = from[i];
}

/* Point /proc/self/exe at fd.  PR_SET_MM_EXE_FILE wants CAP_SYS_RESOURCE,
 * which a root without it (some sandboxes) lacks; PR_SET_MM_MAP, the
 * checkpoint/restore variant, wants CAP_SYS_ADMIN but every address of the
 * memory layout too: this process's own, from /proc/self/stat and brk. */
static int
set_exe_file(int fd)
{
	struct prctl_mm_map map;
	unsigned long long v[52];
	unsigned size = 0;
	char buf[2048], *p;
	ssize_t n;
	int sfd, i;

	if (prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, (unsigned long)fd, 0, 0) == 0)
		return 0;
	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0) < 0 || size != sizeof map)
		return -1;
	sfd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -1;
	n = read(sfd, buf, sizeof buf - 1);
	close(sfd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* fields from the third on follow the last ')' (the name may hold any) */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	p++;
	for (i = 3; i <= 51; i++) {
		char *end;

		while (*p == ' ')
			p++;
		if (i == 3) {	/* the state letter */
			p++;
			continue;
		}
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (end == p || errno)
			return -1;
		p = end;
	}
	memset(&map, 0, sizeof map);
	map.start_code = v[26];
	map.end_code = v[27];
	map.start_stack = v[28];
	map.start_data = v[45];
	map.end_data = v[46];
	map.start_brk = v[47];
	map.brk = (unsigned long long)syscall(SYS_brk, 0);
	map.arg_start = v[48];
	map.arg_end = v[49];
	map.env_start = v[50];
	map.env_end = v[51];
	map.auxv = NULL;
	map.auxv_size = 0;	/* keep the saved auxv */
	map.exe_fd = (unsigned)fd;
	return prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof map, 0) < 0 ? -1 : 0;
}

/* Make the sealed copy our executable without executing it, which costs
 * about as much as the rest of a `run`.  The kernel changes the exe link
 * (PR_SET_MM_EXE_FILE, root only) once no mapping of the old file is left,
 * so first every mapping of the binary is replaced by identical memory:
 * one of a segment that is never written (code, read-only data) by the
 * same bytes of the copy, one that has been written (data, the relocated
 * read-only part) by anonymous memory holding its current contents, moved
 * into place whole with mremap.  Contents never differ from before at any
 * moment, so a step that fails leaves a process that runs on as it was,
 * and the caller executes the copy instead.  Returns 0 when adopted. */
static int
adopt_sealed(int mfd, off_t mfd_size)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM), i;
	uintptr_t bias = 0, page = (uintptr_t)sysconf(_SC_PAGESIZE);
	int have_bias = 0;
	Elf64_Ehdr eh;
	struct { uintptr_t lo, hi; int written; } seg[16];
	struct { uintptr_t start, end; off_t off; int prot; } vma[32];
	unsigned nseg = 0, nvma = 0, k;
	char line[512];
	FILE *f;

	if (ph == NULL || phnum == 0 || pread(mfd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
		return -1;
	/* The load address: where the segment holding the file's start (and
	 * so the program headers) landed; static-pie has no PT_PHDR. */
	for (i = 0; i < phnum && !have_bias; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0 && eh.e_phoff < ph[i].p_filesz) {
			bias = (uintptr_t)ph - (uintptr_t)(ph[i].p_vaddr + eh.e_phoff);
			have_bias = 1;
		}
	if (!have_bias)
		return -1;
	for (i = 0; i < phnum && nseg < 16; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_filesz == 0)
			continue;
		seg[nseg].lo = (bias + ph[i].p_vaddr) & ~(page - 1);
		seg[nseg].hi = (bias + ph[i].p_vaddr + ph[i].p_filesz + page - 1) & ~(page - 1);
		seg[nseg].written = (ph[i].p_flags & PF_W) != 0;
		nseg++;
	}
	/* The mappings inside those ranges, with their protections (the
	 * loader's mprotect of the relocated part splits one). */
	f = fopen("/proc/self/maps", "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, off, ino;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu", &lo, &hi, perms, &off, &ino) != 5 || ino == 0)
			continue;
		for (k = 0; k < nseg; k++)
			if (lo >= seg[k].lo && hi <= seg[k].hi)
				break;
		if (k == nseg)
			continue;
		if (nvma == 32) {
			fclose(f);
			return -1;
		}
		vma[nvma].start = lo;
		vma[nvma].end = hi;
		vma[nvma].off = (off_t)off;
		vma[nvma].prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
				 (perms[2] == 'x' ? PROT_EXEC : 0);
		/* a mapping of a written segment, or one reaching past the
		 * copy's end, is copied rather than mapped from the copy */
		if (seg[k].written || perms[1] == 'w' ||
		    vma[nvma].off + (off_t)(hi - lo) > (mfd_size + (off_t)page - 1) / (off_t)page * (off_t)page)
			vma[nvma].off = -1;
		nvma++;
	}
	fclose(f);
	if (nvma == 0)
		return -1;
	for (k = 0; k < nvma; k++) {
		void *at = (void *)vma[k].start;
		size_t len = vma[k].end - vma[k].start;

		if (vma[k].off >= 0) {
			if (mmap(at, len, vma[k].prot, MAP_PRIVATE | MAP_FIXED, mfd, vma[k].off) != at)
				return -1;
		} else {
			void *tmp = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (tmp == MAP_FAILED)
				return -1;
			copy_pages(tmp, at, len);
			if (mprotect(tmp, len, vma[k].prot) < 0 ||
			    mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at) != at) {
				munmap(tmp, len);
				return -1;
			}
		}
	}
	return set_exe_file(mfd);
}

static void __attribute__((noreturn))
seal_fail(const char *what)
{
	fprintf(stderr, "berth-ctr: cannot run from a sealed copy of itself (%s: %s); "
		"refusing to touch a container from a writable executable\n", what, strerror(errno));
	exit(1);
}

static void
reexec_sealed(char **argv)
{
	int src, mfd;
	struct stat st;
	off_t off = 0, want;

	src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0)
		seal_fail("/proc/self/exe");
	if (exe_is_sealed(src)) {
		close(src);
		return;
	}
	want = elf_loaded_extent(src, st.st_size);
	mfd = memfd_create("berth-ctr", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		seal_fail("memfd_create");
	while (off < want) {
		ssize_t n = sendfile(mfd, src, &off, (size_t)(want - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			seal_fail("copying /proc/self/exe");
		}
	}
	close(src);
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		seal_fail("sealing the copy");
	if (adopt_sealed(mfd, want) == 0) {
		close(mfd);
		return;
	}
	fexecve(mfd, argv, environ);
	seal_fail("executing the sealed copy");
}

/* ------------------------------------------------------------------ helpers */

static char *
root_dir(void)
{
	struct berth_dirs d;
	struct berr err = { 0 };
	char *r;

	if (opt_root)
		return xstrdup(opt_root);
	if (dirs_init(&d, &err) < 0)
		die(&err);
	r = xasprintf("%s/ct", d.run);
	dirs_free(&d);
	return r;
}

static struct proto_client *
ctl_connect(const char *root, const char *id, struct berr *err)
{
	struct proto_client *cl = NULL;
	char *path = xasprintf("%s/%s/ctl.sock", root, id);

	if (proto_client_connect(path, "berth-ctr", 5000, &cl, err) < 0) {
		free(path);
		berr_wrap(err, "container \"%s\": its monitor does not answer", id);
		return NULL;
	}
	free(path);
	return cl;
}

static int
ctl_call(const char *root, const char *id, const char *op, json_object *args, int timeout_ms,
	 json_object **result, struct berr *err)
{
	struct proto_client *cl = ctl_connect(root, id, err);
	int rc;

	if (cl == NULL) {
		json_object_put(args);
		return -1;
	}
	rc = proto_client_call(cl, op, args, timeout_ms, result, err);
	json_object_put(args);
	proto_client_free(cl);
	return rc;
}

static void
print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int
parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "WINCH", SIGWINCH }, { "ALRM", SIGALRM },
	};
	size_t i;
	char *end;
	long v;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(names[i].name, s) == 0)
			return names[i].sig;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 64)
		return -1;
	return (int)v;
}

static enum ctr_net
parse_net(const char *s)
{
	if (s == NULL)
		return CTR_NET_CONFIG;
	if (strcmp(s, "none") == 0)
		return CTR_NET_NONE;
	if (strcmp(s, "host") == 0)
		return CTR_NET_HOST;
	if (strcmp(s, "bridge") == 0)
		return CTR_NET_BRIDGE;
	fprintf(stderr, "berth-ctr: --net: expected none, host or bridge\n");
	exit(2);
}

/* Adjust the network namespace request to the chosen mode. */
static void
apply_net_mode(struct oci_config *c, enum ctr_net net)
{
	size_t i;

	if (net == CTR_NET_HOST) {
		for (i = 0; i < c->nnamespaces; i++)
			if (c->namespaces[i].type == CLONE_NEWNET) {
				free(c->namespaces[i].path);
				c->namespaces[i] = c->namespaces[--c->nnamespaces];
				break;
			}
	} else if ((net == CTR_NET_NONE || net == CTR_NET_BRIDGE) &&
		   !oci_config_namespace(c, CLONE_NEWNET) && c->nnamespaces < 8) {
		c->namespaces[c->nnamespaces].type = CLONE_NEWNET;
		c->namespaces[c->nnamespaces].path = NULL;
		c->nnamespaces++;
	}
}

static char *
abs_bundle(const char *b)
{
	char real[PATH_MAX];

	if (realpath(b ? b : ".", real) == NULL) {
		fprintf(stderr, "berth-ctr: bundle %s: %s\n", b ? b : ".", strerror(errno));
		exit(1);
	}
	return xstrdup(real);
}

/* --------------------------------------------------------- create and run */

struct create_args {
	const char *id;
	char *bundle;
	enum ctr_net net;
	int preserve_fds;
	int detach;
	int start;
	const char *pid_file;
};

static void
write_pid_file(const char *path, const char *root, const char *id)
{
	struct ctr_state *s;
	struct berr err = { 0 };
	char buf[32];

	if (path == NULL || state_load(root, id, &s, &err) < 0)
		return;
	snprintf(buf, sizeof buf, "%d", (int)s->pid);
	if (atomic_write_file(path, buf, strlen(buf), 0644, &err) < 0)
		fprintf(stderr, "berth-ctr: %s\n", err.msg);
	state_free(s);
}

static int
do_create(const struct create_args *a)
{
	struct berr err = { 0 };
	struct oci_config *cfg;
	struct monitor_opts mo;
	char *root = root_dir();
	int ready[2], code;
	pid_t pid;

	if (state_id_valid(a->id, &err) < 0)
		die(&err);
	if (oci_config_load(a->bundle, &cfg, &err) < 0)
		die(&err);
	apply_net_mode(cfg, a->net);
	memset(&mo, 0, sizeof mo);
	mo.root = root;
	mo.id = a->id;
	mo.bundle = a->bundle;
	mo.cfg = cfg;
	mo.detach = a->detach;
	mo.start = a->start;
	mo.net = a->net;
	mo.preserve_fds = a->preserve_fds;
	mo.ready_fd = -1;
	mo.log_max = 1024 * 1024;
	if (!a->detach) {
		/* Foreground: this process is the monitor. */
		if (monitor_run(&mo, &code, &err) < 0) {
			fprintf(stderr, "berth-ctr: %s\n", err.msg);
			if (code == 255)
				code = 1;
		}
		oci_config_free(cfg);
		free(root);
		return code;
	}
	if (pipe2(ready, O_CLOEXEC) < 0) {
		perror("berth-ctr: pipe");
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("berth-ctr: fork");
		return 1;
	}
	if (pid == 0) {
		int null;

		close(ready[0]);
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		/* The monitor: detached from the caller's terminal and fds. */
		if (chdir("/") < 0)
			_exit(1);
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);	/* monitor.log once the state dir exists */
			close(null);
		}
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		/* Keep only stdio, the fds passed on explicitly and the report
		 * pipe: nothing else of the caller's reaches the monitor. */
		{
			int keep = 3 + a->preserve_fds;
			int rfd = fcntl(ready[1], F_DUPFD_CLOEXEC, keep);

			if (rfd < 0)
				_exit(1);
			if (rfd > keep)
				(void)syscall(SYS_close_range, (unsigned)keep, (unsigned)rfd - 1, 0);
			(void)syscall(SYS_close_range, (unsigned)rfd + 1, ~0U, 0);
			ready[1] = rfd;
		}
		mo.ready_fd = ready[1];
		code = monitor_run(&mo, &code, &err) < 0 ? 1 : 0;
		_exit(code);
	}
	close(ready[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	{
		char buf[BERR_MSG_MAX + 32];
		ssize_t n, len = 0;

		/* One message, written at once; the init still holds a copy of
		 * the write end until it execs, so do not wait for EOF. */
		do
			n = read(ready[0], buf, sizeof buf - 1);
		while (n < 0 && errno == EINTR);
		len = n > 0 ? n : 0;
		buf[len > 0 ? len : 0] = '\0';
		close(ready[0]);
		if (strncmp(buf, "OK", 2) != 0) {
			const char *msg = buf[0] == 'E' && strchr(buf, ' ') ? strchr(buf, ' ') + 1
									: "the monitor died while creating the container";

			fprintf(stderr, "berth-ctr: %s\n", msg);
			oci_config_free(cfg);
			free(root);
			return 1;
		}
	}
	write_pid_file(a->pid_file, root, a->id);
	oci_config_free(cfg);
	free(root);
	return 0;
}

static int
cmd_create_run(int argc, char **argv, int is_run)
{
	static const struct option lo[] = {
		{ "bundle", required_argument, NULL, 'b' }, { "net", required_argument, NULL, 'n' },
		{ "preserve-fds", required_argument, NULL, 'p' }, { "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' }, { NULL, 0, NULL, 0 },
	};
	struct create_args a;
	const char *bundle = NULL;
	int c, code;

	memset(&a, 0, sizeof a);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+b:dn:", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 'n': a.net = parse_net(optarg); break;
		case 'p': a.preserve_fds = atoi(optarg); break;
		case 'd': a.detach = 1; break;
		case 'P': a.pid_file = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (a.preserve_fds < 0 || a.preserve_fds > 1024) {
		fprintf(stderr, "berth-ctr: --preserve-fds: out of range\n");
		return 2;
	}
	a.id = argv[optind];
	a.bundle = abs_bundle(bundle);
	if (!is_run)
		a.detach = 1;
	a.start = is_run;
	code = do_create(&a);
	free(a.bundle);
	return code;
}

/* --------------------------------------------------------------- commands */

static const char *
one_id(int argc, char **argv)
{
	if (optind != argc - 1) {
		usage(stderr);
		exit(2);
	}
	return argv[optind];
}

static int
cmd_simple(int argc, char **argv, const char *op)
{
	struct berr err = { 0 };
	char *root = root_dir();
	json_object *res = NULL;
	const char *id;

	optind = 1;
	if (getopt(argc, argv, "+") != -1)
		return 2;
	id = one_id(argc, argv);
	if (state_id_valid(id, &err) < 0 ||
	    ctl_call(root, id, op, NULL, 10000, &res, &err) < 0)
		die(&err);
	if (res && strcmp(op, "stats") == 0)
		print_json(res);
	json_object_put(res);
	free(root);
	return 0;
}

static int
cmd_state(int argc, char **argv)
{
	struct berr err = { 0 };
	struct ctr_state *s;
	char *root = root_dir();
	json_object *o;

	optind = 1;
	if (getopt(argc, argv, "+") != -1)
		return 2;
	if (state_load(root, one_id(argc, argv), &s, &err) < 0)
		die(&err);
	o = state_to_json(s);
	print_json(o);
	json_object_put(o);
	state_free(s);
	free(root);
	return 0;
}

static int
cmd_kill(int argc, char **argv)
{
	static const struct option lo[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
	struct berr err = { 0 };
	struct ctr_state *s;
	char *root = root_dir();
	int c, all = 0, sig = SIGTERM;
	const char *id;
	json_object *args;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+a", lo, NULL)) != -1) {
		if (c != 'a')
			return 2;
		all = 1;
	}
	if (optind >= argc || optind + 2 < argc) {
		usage(stderr);
		return 2;
	}
	id = argv[optind];
	if (optind + 1 < argc && (sig = parse_signal(argv[optind + 1])) < 0) {
		fprintf(stderr, "berth-ctr: unknown signal %s\n", argv[optind + 1]);
		return 2;
	}
	if (state_load(root, id, &s, &err) < 0)
		die(&err);
	if (strcmp(state_status(s), "stopped") == 0) {
		berr_set(&err, BERR_STATE, "container \"%s\" is not running", id);
		die(&err);
	}
	args = json_object_new_object();
	json_object_object_add(args, "signal", json_object_new_int(sig));
	json_object_object_add(args, "all", json_object_new_boolean(all));
	if (ctl_call(root, id, "kill", args, 5000, NULL, &err) < 0) {
		/* No monitor: signal directly. */
		if (s->pid > 0 && state_pid_alive(s->pid, s->pid_start) && kill(s->pid, sig) == 0) {
			state_free(s);
			free(root);
			return 0;
		}
		die(&err);
	}
	state_free(s);
	free(root);
	return 0;
}

static int
cmd_stop(int argc, char **argv)
{
	static const struct option lo[] = { { "timeout", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 } };
	struct berr err = { 0 };
	char *root = root_dir();
	int c, timeout = 10;
	json_object *args, *res = NULL;
	const char *id;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:", lo, NULL)) != -1) {
		if (c != 't')
			return 2;
		timeout = atoi(optarg);
	}
	id = one_id(argc, argv);
	args = json_object_new_object();
	json_object_object_add(args, "timeout", json_object_new_int(timeout));
	if (ctl_call(root, id, "stop", args, timeout * 1000 + 10000, &res, &err) < 0)
		die(&err);
	json_object_put(res);
	free(root);
	return 0;
}

static int
cmd_delete(int argc, char **argv)
{
	static const struct option lo[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct berr err = { 0 };
	struct ctr_state *s;
	char *root = root_dir();
	int c, force = 0, i;
	const char *id, *status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f", lo, NULL)) != -1) {
		if (c != 'f')
			return 2;
		force = 1;
	}
	id = one_id(argc, argv);
	if (state_load(root, id, &s, &err) < 0)
		die(&err);
	status = state_status(s);
	if (strcmp(status, "stopped") != 0 && strcmp(status, "created") != 0 && !force) {
		berr_set(&err, BERR_STATE, "container \"%s\" is %s: stop it first or use --force", id, status);
		die(&err);
	}
	if (s->cgroup) {
		struct cgroup cg;

		if (cgroup_open(&cg, s->cgroup, NULL) == 0) {
			cgroup_kill_all(&cg, SIGKILL);
			cgroup_free(&cg);
		}
	}
	if (s->pid > 0 && state_pid_alive(s->pid, s->pid_start))
		kill(s->pid, SIGKILL);
	/* The monitor leaves once the init is gone; give it a moment. */
	for (i = 0; i < 300 && s->monitor_pid > 0 && state_pid_alive(s->monitor_pid, s->monitor_start); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (s->monitor_pid > 0 && state_pid_alive(s->monitor_pid, s->monitor_start))
		kill(s->monitor_pid, SIGKILL);
	if (s->cgroup) {
		struct cgroup cg;

		if (cgroup_open(&cg, s->cgroup, NULL) == 0) {
			if (cgroup_destroy(&cg, &err) < 0)
				fprintf(stderr, "berth-ctr: warning: %s\n", err.msg);
			cgroup_free(&cg);
		}
	}
	if (s->veth)
		(void)net_link_delete(s->veth, NULL);
	if (remove_tree(s->dir, &err) < 0)
		die(&err);
	state_free(s);
	free(root);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct berr err = { 0 };
	char *root = root_dir();
	char **ids;
	size_t n, i;
	int c, json = 0, quiet = 0;
	json_object *arr;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:q", lo, NULL)) != -1) {
		if (c == 'f')
			json = strcmp(optarg, "json") == 0;
		else if (c == 'q')
			quiet = 1;
		else
			return 2;
	}
	if (state_list(root, &ids, &n, &err) < 0)
		die(&err);
	arr = json_object_new_array();
	if (!json && !quiet)
		printf("%-20s %-8s %-10s %-30s %s\n", "ID", "PID", "STATUS", "CREATED", "BUNDLE");
	for (i = 0; i < n; i++) {
		struct ctr_state *s;

		if (state_load(root, ids[i], &s, NULL) == 0) {
			const char *st = state_status(s);

			if (json)
				json_object_array_add(arr, state_to_json(s));
			else if (quiet)
				printf("%s\n", s->id);
			else
				printf("%-20s %-8d %-10s %-30s %s\n", s->id,
				       strcmp(st, "stopped") ? (int)s->pid : 0, st,
				       s->created ? s->created : "-", s->bundle ? s->bundle : "-");
			state_free(s);
		}
		free(ids[i]);
	}
	free(ids);
	if (json)
		print_json(arr);
	json_object_put(arr);
	free(root);
	return 0;
}

static int
cmd_ps(int argc, char **argv)
{
	static const struct option lo[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct berr err = { 0 };
	struct ctr_state *s;
	struct cgroup cg;
	char *root = root_dir();
	pid_t *pids;
	size_t n, i;
	int c, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:", lo, NULL)) != -1) {
		if (c != 'f')
			return 2;
		json = strcmp(optarg, "json") == 0;
	}
	if (state_load(root, one_id(argc, argv), &s, &err) < 0)
		die(&err);
	if (s->cgroup == NULL || cgroup_open(&cg, s->cgroup, &err) < 0 ||
	    cgroup_pids(&cg, &pids, &n, &err) < 0)
		die(&err);
	if (json) {
		json_object *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_int(pids[i]));
		print_json(a);
		json_object_put(a);
	} else {
		printf("PID     CMD\n");
		for (i = 0; i < n; i++) {
			char path[64], cmd[256] = "";
			FILE *f;

			snprintf(path, sizeof path, "/proc/%d/comm", (int)pids[i]);
			if ((f = fopen(path, "re"))) {
				if (fgets(cmd, sizeof cmd, f) == NULL)
					cmd[0] = '\0';
				cmd[strcspn(cmd, "\n")] = '\0';
				fclose(f);
			}
			printf("%-7d %s\n", (int)pids[i], cmd);
		}
	}
	free(pids);
	cgroup_free(&cg);
	state_free(s);
	free(root);
	return 0;
}

static int
cmd_logs(int argc, char **argv)
{
	struct berr err = { 0 };
	char *root = root_dir(), *path;
	const char *id;
	char *buf;
	size_t len;

	optind = 1;
	if (getopt(argc, argv, "+") != -1)
		return 2;
	id = one_id(argc, argv);
	if (state_id_valid(id, &err) < 0)
		die(&err);
	path = xasprintf("%s/%s/container.log", root, id);
	if (read_file(path, &buf, &len, 64 << 20, &err) < 0)
		die(&err);
	fwrite(buf, 1, len, stdout);
	free(buf);
	free(path);
	free(root);
	return 0;
}

/* Copy between our terminal and fd until the peer closes or Ctrl-]. */
static int
proxy_terminal(int fd, pid_t child, int *status)
{
	struct termios saved, raw;
	int tty = isatty(STDIN_FILENO), have = 0, in_open = 1;
	sigset_t mask;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		have = 1;
		raw = saved;
		cfmakeraw(&raw);
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (;;) {
		struct pollfd p[3] = {
			{ fd, POLLIN, 0 }, { in_open ? STDIN_FILENO : -1, POLLIN, 0 }, { sfd, POLLIN, 0 },
		};
		char buf[8192];
		ssize_t n;

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			n = read(fd, buf, sizeof buf);
			if (n <= 0)
				break;
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof buf);
			if (n <= 0) {
				in_open = 0;
				if (child <= 0)
					break;
			} else {
				if (child <= 0 && memchr(buf, 0x1d, (size_t)n))
					break;
				if (write(fd, buf, (size_t)n) < 0)
					break;
			}
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				struct winsize ws;

				if (si.ssi_signo == SIGWINCH && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
					(void)ioctl(fd, TIOCSWINSZ, &ws);
			}
			if (child > 0 && waitpid(child, status, WNOHANG) == child) {
				/* Drain what is left. */
				while ((n = read(fd, buf, sizeof buf)) > 0)
					if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
						break;
				child = 0;
				break;
			}
		}
	}
	if (have)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(sfd);
	if (child > 0)
		while (waitpid(child, status, 0) < 0 && errno == EINTR)
			;
	return 0;
}

static int
cmd_attach(int argc, char **argv)
{
	struct sockaddr_un sa;
	char *root = root_dir(), *path;
	const char *id;
	int fd, st = 0;

	optind = 1;
	if (getopt(argc, argv, "+") != -1)
		return 2;
	id = one_id(argc, argv);
	path = xasprintf("%s/%s/console.sock", root, id);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "berth-ctr: %s: %s\n", path, strerror(errno));
		return 1;
	}
	proxy_terminal(fd, 0, &st);
	close(fd);
	free(path);
	free(root);
	return 0;
}

static int
cmd_exec(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tty", no_argument, NULL, 't' }, { "env", required_argument, NULL, 'e' },
		{ "cwd", required_argument, NULL, 'w' }, { "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct berr err = { 0 };
	struct ctr_state *s;
	struct oci_config *cfg;
	struct ctr_exec_opts eo;
	char *root = root_dir(), *cfgdir;
	char **env = NULL;
	size_t nenv = 0, i;
	int c, tty = 0, status = 0, master = -1, slave = -1, own_master = -1;
	pid_t pid;

	memset(&eo, 0, sizeof eo);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+te:w:u:", lo, NULL)) != -1) {
		switch (c) {
		case 't': tty = 1; break;
		case 'e':
			if (strchr(optarg, '=') == NULL) {
				fprintf(stderr, "berth-ctr: --env: expected NAME=VALUE\n");
				return 2;
			}
			env = xrealloc(env, (nenv + 2) * sizeof *env);
			env[nenv++] = optarg;
			env[nenv] = NULL;
			break;
		case 'w': eo.cwd = optarg; break;
		case 'u': {
			unsigned u, g;
			int k = sscanf(optarg, "%u:%u", &u, &g);

			if (k < 1) {
				fprintf(stderr, "berth-ctr: --user: expected UID[:GID]\n");
				return 2;
			}
			eo.has_user = 1;
			eo.uid = u;
			eo.gid = k == 2 ? g : u;
			break;
		}
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	if (state_load(root, argv[optind], &s, &err) < 0)
		die(&err);
	if (strcmp(argv[optind + 1], "--") == 0) {
		optind++;
		if (argc - optind < 2) {
			usage(stderr);
			return 2;
		}
	}
	if (strcmp(state_status(s), "running") != 0) {
		berr_set(&err, BERR_STATE, "container \"%s\" is %s, not running", s->id, state_status(s));
		die(&err);
	}
	cfgdir = xstrdup(s->dir);
	if (oci_config_load(cfgdir, &cfg, &err) < 0)
		die(&err);
	if (env) {
		/* Added to the container's own environment, overriding names. */
		size_t base = 0, k;
		char **all;

		while (cfg->env && cfg->env[base])
			base++;
		size_t out = 0;

		all = xcalloc(base + nenv + 1, sizeof *all);
		for (i = 0; i < base; i++) {
			size_t nl = strcspn(cfg->env[i], "=");
			int over = 0;

			for (k = 0; k < nenv; k++)
				if (strncmp(env[k], cfg->env[i], nl + 1) == 0)
					over = 1;
			if (!over)
				all[out++] = cfg->env[i];
		}
		for (k = 0; k < nenv; k++)
			all[out++] = env[k];
		eo.env = all;
	}
	eo.init_pid = s->pid;
	eo.cfg = cfg;
	eo.cgroup_rel = s->cgroup;
	eo.argv = argv + optind + 1;
	eo.pty_slave = -1;
	eo.stdio[0] = 0;
	eo.stdio[1] = 1;
	eo.stdio[2] = 2;
	if (tty) {
		struct winsize ws;

		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
		    (slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
			perror("berth-ctr: terminal");
			return 1;
		}
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			(void)ioctl(master, TIOCSWINSZ, &ws);
		eo.pty_slave = slave;
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (tty) {
		eo.want_container_pty = 1;
		eo.master_out = &own_master;
	}
	if (ctr_exec_spawn(&eo, &pid, &err) < 0)
		die(&err);
	if (own_master >= 0) {
		struct winsize ws;

		if (ioctl(master, TIOCGWINSZ, &ws) == 0)
			(void)ioctl(own_master, TIOCSWINSZ, &ws);
		close(master);
		master = own_master;
	}
	if (tty) {
		close(slave);
		proxy_terminal(master, pid, &status);
		close(master);
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	free(eo.env);
	free(env);
	free(cfgdir);
	oci_config_free(cfg);
	state_free(s);
	free(root);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int ctl_events_left;

static void
ctl_event_cb(struct proto_client *c, json_object *ev, void *arg)
{
	json_object *name;

	(void)c;
	(void)arg;
	printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	if (json_object_object_get_ex(ev, "event", &name) &&
	    strcmp(json_object_get_string(name), "exit") == 0)
		ctl_events_left = 0;
}

/* ctl ID OP [ARGS-JSON] [--events SECONDS]: one raw request on ctl.sock
 * (for scripts and tests); --events subscribes first and prints events
 * until the container exits or the time is up. */
static int
cmd_ctl(int argc, char **argv)
{
	struct berr err = { 0 };
	char *root = root_dir(), *path;
	struct proto_client *cl = NULL;
	json_object *args = NULL, *res = NULL;
	int events = 0, i, n = 0;
	char *pos[3];

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
			events = atoi(argv[++i]);
		else if (n < 3)
			pos[n++] = argv[i];
		else
			return 2;
	}
	if (n < 2) {
		usage(stderr);
		return 2;
	}
	if (state_id_valid(pos[0], &err) < 0)
		die(&err);
	if (n == 3) {
		args = json_tokener_parse(pos[2]);
		if (args == NULL) {
			fprintf(stderr, "berth-ctr: ctl: arguments are not valid JSON\n");
			return 2;
		}
	}
	path = xasprintf("%s/%s/ctl.sock", root, pos[0]);
	if (proto_client_connect(path, "berth-ctr", 5000, &cl, &err) < 0)
		die(&err);
	if (events > 0) {
		json_object *sub = json_object_new_object(), *ev = json_object_new_array();

		json_object_array_add(ev, json_object_new_string("*"));
		json_object_object_add(sub, "events", ev);
		proto_client_set_event_cb(cl, ctl_event_cb, NULL);
		if (proto_client_call(cl, "subscribe", sub, 5000, NULL, &err) < 0)
			die(&err);
		json_object_put(sub);
	}
	if (proto_client_call(cl, pos[1], args, 60000, &res, &err) < 0)
		die(&err);
	printf("%s\n", res ? json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN) : "null");
	fflush(stdout);
	json_object_put(res);
	if (events > 0) {
		int64_t end = now_ms() + events * 1000LL;

		ctl_events_left = 1;
		while (ctl_events_left && now_ms() < end && proto_client_alive(cl)) {
			/* A cheap call pumps incoming events through the callback. */
			struct pollfd p = { proto_client_fd(cl), POLLIN, 0 };

			if (poll(&p, 1, 200) > 0) {
				json_object *r = NULL;

				if (proto_client_call(cl, "state", NULL, 5000, &r, NULL) < 0)
					break;
				json_object_put(r);
			}
		}
	}
	json_object_put(args);
	proto_client_free(cl);
	free(path);
	free(root);
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct berr err = { 0 };
	struct oci_config *cfg;
	char *bundle;

	(void)argc;
	bundle = abs_bundle(argc > 1 ? argv[1] : ".");
	if (oci_config_load(bundle, &cfg, &err) < 0)
		die(&err);
	printf("config.json: ok; cgroups: %s; openat2: %s\n", cgroup_mode_name(cgroup_detect()),
	       rootfs_have_openat2() ? "yes" : "no (fallback walk)");
	oci_config_free(cfg);
	free(bundle);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd;
	int i;

	signal(SIGPIPE, SIG_IGN);
	util_set_oom_hook(util_oom_report);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			opt_root = argv[i + 1];
			i++;
		} else if (strncmp(argv[i], "--root=", 7) == 0) {
			opt_root = argv[i] + 7;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("berth-ctr %s\n", PACKAGE_VERSION);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "berth-ctr: unknown option %s\n", argv[i]);
			return 2;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	argc -= i;
	argv += i;
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0)
		reexec_sealed(argv - i);
	if (strcmp(cmd, "create") == 0)
		return cmd_create_run(argc, argv, 0);
	if (strcmp(cmd, "run") == 0)
		return cmd_create_run(argc, argv, 1);
	if (strcmp(cmd, "start") == 0)
		return cmd_simple(argc, argv, "start");
	if (strcmp(cmd, "state") == 0)
		return cmd_state(argc, argv);
	if (strcmp(cmd, "kill") == 0)
		return cmd_kill(argc, argv);
	if (strcmp(cmd, "stop") == 0)
		return cmd_stop(argc, argv);
	if (strcmp(cmd, "delete") == 0 || strcmp(cmd, "rm") == 0)
		return cmd_delete(argc, argv);
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(argc, argv);
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "ls") == 0)
		return cmd_list(argc, argv);
	if (strcmp(cmd, "ps") == 0)
		return cmd_ps(argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_simple(argc, argv, "stats");
	if (strcmp(cmd, "pause") == 0)
		return cmd_simple(argc, argv, "pause");
	if (strcmp(cmd, "resume") == 0)
		return cmd_simple(argc, argv, "resume");
	if (strcmp(cmd, "attach") == 0)
		return cmd_attach(argc, argv);
	if (strcmp(cmd, "logs") == 0)
		return cmd_logs(argc, argv);
	if (strcmp(cmd, "ctl") == 0)
		return cmd_ctl(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	fprintf(stderr, "berth-ctr: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
