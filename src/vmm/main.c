/*
 * main.c - berth-vmm: parse the configuration (JSON file and/or options),
 * create the VM, serve console.sock and ctl.sock in the run directory, run
 * until the guest or a client ends it, and exit with a status that says how
 * it ended (see vmm.h and berth-vmm(1)).
 * Not for: anything a library should do; this is the program's shell.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/loop.h"
#include "core/proto.h"
#include "core/util.h"
#include "vmm/vmm.h"

#define DEFAULT_MEMORY_MIB 128
#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1 i8042.noaux"
#define DEFAULT_SHUTDOWN_TIMEOUT_S 10
#define CONFIG_MAX_BYTES (1024 * 1024)

static const char *log_name = "berth-vmm";

void
vmm_log(const char *fmt, ...)
{
	struct timeval tv;
	struct tm tm;
	va_list ap;
	char line[1024];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(long)(tv.tv_usec / 1000), log_name, line);
}

static void
usage(FILE *f)
{
	fputs("Usage: berth-vmm [OPTION]...\n"
	      "Run one KVM microVM: boot a Linux kernel (bzImage or PVH ELF) directly, serve its\n"
	      "serial console on console.sock and the berth control protocol on ctl.sock.\n\n"
	      "  -c, --config FILE       JSON configuration (keys: name, kernel, initrd, cmdline,\n"
	      "                          memory_mib, vcpus, hugepages, run_dir, console,\n"
	      "                          shutdown_timeout_s, scrollback_kib); options\n"
	      "                          override it\n"
	      "  -n, --name NAME         VM name (default vm-PID)\n"
	      "  -k, --kernel FILE       kernel: bzImage (boot protocol 2.12+) or ELF with a PVH note\n"
	      "  -i, --initrd FILE       initial ramdisk\n"
	      "  -a, --cmdline TEXT      kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
	      "  -m, --memory MIB        guest memory in MiB (default 128)\n"
	      "  -p, --cpus N            vCPUs (default 1, at most 64)\n"
	      "      --hugepages         back guest memory with huge pages when available\n"
	      "  -r, --run-dir DIR       where ctl.sock, console.sock and vmm.pid go\n"
	      "                          (default $BERTH_RUN_DIR/vm/NAME)\n"
	      "      --console stdio     also put the serial console on stdin/stdout\n"
	      "      --shutdown-timeout SEC  default grace period of the shutdown op (10)\n"
	      "      --scrollback KIB    console scrollback replayed to new readers, and how\n"
	      "                          far a reader may fall behind (16..65536, default 1024)\n"
	      "      --no-seccomp        do not install the system-call filter\n"
	      "  -h, --help              show this help\n"
	      "  -V, --version           show the version\n\n"
	      "Exit status: 0 stopped (poweroff, shutdown, kill, SIGTERM); 2 usage error;\n"
	      "4 could not start; 6 guest reset; 8 guest crashed; 10 berth-vmm failed;\n"
	      "odd values (V<<1|1) after the guest wrote V to port 0x501 (isa-debug-exit).\n", f);
}

static int
parse_uint(const char *what, const char *s, uint64_t max, uint64_t *out, struct berr *err)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL || *s == '\0' || *s == '-')
		return berr_set(err, BERR_INVALID, "%s: `%s' is not a number", what, s ? s : "");
	v = strtoull(s, &end, 10);
	if (errno == ERANGE && *end == '\0')
		return berr_set(err, BERR_INVALID, "%s: %s is absurd (maximum %llu)", what, s,
				(unsigned long long)max);
	if (errno || *end != '\0')
		return berr_set(err, BERR_INVALID, "%s: `%s' is not a number", what, s);
	if (v > max)
		return berr_set(err, BERR_INVALID, "%s: %s is absurd (maximum %llu)", what, s,
				(unsigned long long)max);
	*out = v;
	return 0;
}

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

/* Read the JSON configuration; options given later override it. */
static int
load_config(struct vm_config *cfg, const char *path, struct berr *err)
{
	json_object *root;
	enum json_tokener_error jerr = json_tokener_success;
	struct stat st;
	char *text;
	size_t len = 0;
	/* O_NONBLOCK: opening a FIFO with no writer must not hang; reads then
	 * block again, so a pipe (`--config <(...)') still works. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return berr_errno(err, "configuration `%s'", path);
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return berr_set(err, BERR_INVALID, "configuration `%s' is not a regular file or a pipe",
				path);
	}
	fd_set_nonblock(fd, 0);
	text = xmalloc(CONFIG_MAX_BYTES + 1);
	for (;;) {
		ssize_t n = read(fd, text + len, CONFIG_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) > CONFIG_MAX_BYTES)
			break;
	}
	close(fd);
	if (len > CONFIG_MAX_BYTES) {
		free(text);
		return berr_set(err, BERR_INVALID, "configuration `%s' is over %d bytes", path,
				CONFIG_MAX_BYTES);
	}
	text[len] = 0;
	root = json_tokener_parse_verbose(text, &jerr);
	free(text);
	if (root == NULL)
		return berr_set(err, BERR_INVALID, "configuration `%s': %s", path,
				len ? json_tokener_error_desc(jerr) : "empty");
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return berr_set(err, BERR_INVALID, "configuration `%s' is not a JSON object", path);
	}
	json_object_object_foreach(root, key, val) {
		enum json_type t = json_object_get_type(val);
		char **str = NULL;

		if (!strcmp(key, "name")) str = &cfg->name;
		else if (!strcmp(key, "kernel")) str = &cfg->kernel;
		else if (!strcmp(key, "initrd")) str = &cfg->initrd;
		else if (!strcmp(key, "cmdline")) str = &cfg->cmdline;
		else if (!strcmp(key, "run_dir")) str = &cfg->run_dir;
		if (str) {
			if (t == json_type_null) {
				set_str(str, NULL);
				continue;
			}
			if (t != json_type_string)
				goto bad_type;
			set_str(str, json_object_get_string(val));
		} else if (!strcmp(key, "memory_mib") || !strcmp(key, "vcpus") || !strcmp(key, "cpus") ||
			   !strcmp(key, "shutdown_timeout_s") || !strcmp(key, "scrollback_kib")) {
			int64_t n;
			if (t != json_type_int)
				goto bad_type;
			n = json_object_get_int64(val);
			if (n < 0) {
				berr_set(err, BERR_INVALID, "configuration `%s': %s is negative", path, key);
				json_object_put(root);
				return -1;
			}
			if (!strcmp(key, "memory_mib"))
				cfg->memory_mib = (uint64_t)n;
			else if (!strcmp(key, "scrollback_kib"))
				cfg->scrollback_kib = (uint64_t)n;
			else if (!strcmp(key, "shutdown_timeout_s"))
				cfg->shutdown_timeout_s = n > 3600 ? 3600 : (int)n;
			else
				cfg->cpus = n > INT_MAX ? INT_MAX : (int)n;
		} else if (!strcmp(key, "hugepages")) {
			if (t != json_type_boolean)
				goto bad_type;
			cfg->hugepages = json_object_get_boolean(val);
		} else if (!strcmp(key, "console")) {
			if (t != json_type_string)
				goto bad_type;
			if (!strcmp(json_object_get_string(val), "stdio"))
				cfg->console_stdio = 1;
			else if (!strcmp(json_object_get_string(val), "socket"))
				cfg->console_stdio = 0;
			else {
				json_object_put(root);
				return berr_set(err, BERR_INVALID, "configuration `%s': console must be "
						"\"stdio\" or \"socket\"", path);
			}
		} else if (!strcmp(key, "memory_kib") || !strcmp(key, "created") || !strcmp(key, "uuid")) {
			;	/* fields of berth's stored definition we don't need */
		} else {
			berr_set(err, BERR_INVALID, "configuration `%s': unknown key `%s'", path, key);
			json_object_put(root);
			return -1;
		}
		continue;
bad_type:
		/* key belongs to root: format the message before releasing it */
		berr_set(err, BERR_INVALID, "configuration `%s': `%s' has the wrong type", path, key);
		json_object_put(root);
		return -1;
	}
	json_object_put(root);
	return 0;
}

enum { OPT_HUGEPAGES = 1000, OPT_CONSOLE, OPT_SHUTDOWN_TIMEOUT, OPT_NO_SECCOMP, OPT_SCROLLBACK };

static int
parse_args(struct vm_config *cfg, int argc, char **argv, struct berr *err)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'a' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'p' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
		{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
		{ "scrollback", required_argument, NULL, OPT_SCROLLBACK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int c, i;
	uint64_t n;

	/* First pass: the config file, so options override it. */
	opterr = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) && i + 1 < argc)
			config = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			config = argv[i] + 9;
	}
	if (config && load_config(cfg, config, err) < 0)
		return -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:n:k:i:a:m:p:r:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': break;
		case 'n': set_str(&cfg->name, optarg); break;
		case 'k': set_str(&cfg->kernel, optarg); break;
		case 'i': set_str(&cfg->initrd, optarg); break;
		case 'a': set_str(&cfg->cmdline, optarg); break;
		case 'r': set_str(&cfg->run_dir, optarg); break;
		case 'm':
			if (parse_uint("--memory", optarg, UINT64_MAX >> 20, &n, err) < 0)
				return -1;
			cfg->memory_mib = n;
			break;
		case 'p':
			if (parse_uint("--cpus", optarg, INT_MAX, &n, err) < 0)
				return -1;
			cfg->cpus = (int)n;
			break;
		case OPT_HUGEPAGES: cfg->hugepages = 1; break;
		case OPT_NO_SECCOMP: cfg->no_seccomp = 1; break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "stdio"))
				cfg->console_stdio = 1;
			else if (!strcmp(optarg, "socket"))
				cfg->console_stdio = 0;
			else
				return berr_set(err, BERR_INVALID, "--console takes `stdio' or `socket'");
			break;
		case OPT_SCROLLBACK:
			if (parse_uint("--scrollback", optarg, UINT64_MAX >> 10, &n, err) < 0)
				return -1;
			cfg->scrollback_kib = n;
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			if (parse_uint("--shutdown-timeout", optarg, 3600, &n, err) < 0)
				return -1;
			cfg->shutdown_timeout_s = (int)n;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("berth-vmm %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			return berr_set(err, BERR_INVALID, "option `%s' needs a value", argv[optind - 1]);
		default:
			return berr_set(err, BERR_INVALID, "unknown option `%s' (try --help)",
					argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berr_set(err, BERR_INVALID, "unexpected argument `%s' (try --help)", argv[optind]);
	if (cfg->kernel == NULL)
		return berr_set(err, BERR_INVALID, "no kernel given (--kernel FILE or \"kernel\" in --config)");
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

static void
quit_timer_cb(struct loop *l, int id, void *arg)
{
	loop_quit(l);
}

void
vmm_vm_ended(struct vmm *v)
{
	struct vm *vm = &v->vm;
	enum vm_run_state st = VM_STATE_STOPPED;
	const char *reason = vm->end_detail;
	json_object *d;

	if (v->ending)
		return;
	v->ending = 1;
	vm_join(vm);
	switch (vm->end) {
	case VM_END_EXIT:
		v->exit_status = ((vm->end_code << 1) | 1) & 0xff;
		d = json_object_new_object();
		json_object_object_add(d, "code", json_object_new_int(vm->end_code));
		json_object_object_add(d, "status", json_object_new_int(v->exit_status));
		control_emit(v, "exit", d);
		break;
	case VM_END_POWEROFF:
	case VM_END_STOP:
		v->exit_status = VMM_EXIT_STOPPED;
		break;
	case VM_END_RESET:
		if (v->shutdown_requested) {
			v->exit_status = VMM_EXIT_STOPPED;
			reason = "guest rebooted after shutdown request";
		} else {
			v->exit_status = VMM_EXIT_RESET;
			d = json_object_new_object();
			json_object_object_add(d, "reason", json_object_new_string(vm->end_detail));
			control_emit(v, "reset", d);
		}
		break;
	case VM_END_CRASH:
		st = VM_STATE_CRASHED;
		v->exit_status = VMM_EXIT_CRASH;
		d = json_object_new_object();
		json_object_object_add(d, "reason", json_object_new_string(vm->end_detail));
		control_emit(v, "panic", d);
		break;
	default:
		st = VM_STATE_CRASHED;
		v->exit_status = VMM_EXIT_FAILED;
		break;
	}
	vm_set_state(vm, st);
	control_emit_state(v, reason);
	vmm_log("VM %s: %s (exit status %d)", vm_end_name(vm->end), reason, v->exit_status);
	vmm_log("counters: unclaimed pio %llu, unclaimed mmio %llu, unknown exits %llu",
		(unsigned long long)vm->pio_unclaimed, (unsigned long long)vm->mmio_unclaimed,
		(unsigned long long)vm->unknown_exits);
	console_flush(&v->console);
	/* Let replies, events and console output reach their peers, then quit. */
	if ((v->server == NULL || proto_server_nclients(v->server) == 0) &&
	    !console_pending(&v->console))
		loop_quit(v->loop);
	else
		loop_add_timer(v->loop, 100, quit_timer_cb, v, NULL);
}

static void
notify_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct vmm *v = arg;
	uint64_t n;

	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		vmm_log("notify: %s", strerror(errno));
	loop_remove_fd(l, id);
	v->notify_watch = 0;
	vmm_vm_ended(v);
}

static void
shutdown_timer_cb(struct loop *l, int id, void *arg)
{
	struct vmm *v = arg;

	loop_remove_timer(l, id);
	v->shutdown_timer = 0;
	if (v->shutdown_force) {
		vm_request_end(&v->vm, VM_END_STOP, 0, "guest did not shut down in time: forced off");
		return;
	}
	v->shutdown_requested = 0;
	vm_set_state(&v->vm, VM_STATE_RUNNING);
	control_emit_state(v, "guest did not shut down in time; still running");
}

void
vmm_shutdown(struct vmm *v, int timeout_s, int force)
{
	struct berr err;

	v->shutdown_requested = 1;
	v->shutdown_force = force;
	if (vm_get_state(&v->vm) == VM_STATE_PAUSED)
		vm_resume(&v->vm, &err);
	vm_set_state(&v->vm, VM_STATE_SHUTDOWN);
	control_emit_state(v, "shutdown requested (ctrl-alt-del)");
	if (timeout_s == 0) {
		vm_request_end(&v->vm, VM_END_STOP, 0, "shut down (forced, timeout 0)");
		return;
	}
	i8042_ctrl_alt_del(&v->vm.i8042);
	if (v->shutdown_timer <= 0)
		v->shutdown_timer = loop_add_timer(v->loop, timeout_s * 1000, shutdown_timer_cb, v, NULL);
}

static void
signal_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct vmm *v = arg;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof si) != sizeof si)
		return;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		vm_request_end(&v->vm, VM_END_STOP, 0, "stopped by signal %u", si.ssi_signo);
}

static const char panic_text[] = "Kernel panic - not syncing";

/* Guest output (vCPU thread, serial lock held): to the console, and watch
 * for a Linux panic message, the one sign of a panic without pvpanic. */
static void
serial_tx(void *arg, const uint8_t *buf, size_t n)
{
	struct vmm *v = arg;
	uint64_t one = 1;

	console_output(&v->console, buf, n);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == (uint8_t)panic_text[v->panic_match])
			v->panic_match++;
		else
			v->panic_match = buf[i] == (uint8_t)panic_text[0];
		if (v->panic_match == sizeof panic_text - 1) {
			v->panic_match = 0;
			if (write(v->panic_fd, &one, sizeof one) < 0)
				vmm_log("panic notify: %s", strerror(errno));
		}
	}
}

/* The guest decides how often it prints a panic line: report the first
 * ten, then only when the count reaches a power of two, so a guest that
 * prints panics in a loop cannot fill vmm.log (on a tmpfs) or subscribers'
 * queues.  The event carries the running count. */
static void
panic_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct vmm *v = arg;
	json_object *d;
	uint64_t n, before;

	if (read(fd, &n, sizeof n) < 0)
		return;
	before = v->panics;
	v->panics += n;
	/* Report when (before, panics] holds one of 1..10 or a power of two. */
	if (n == 0 || (before >= 10 && __builtin_clzll(v->panics) == __builtin_clzll(before)))
		return;
	vmm_log("the guest printed a kernel panic (%llu so far)", (unsigned long long)v->panics);
	d = json_object_new_object();
	json_object_object_add(d, "reason", json_object_new_string("guest kernel panic (console)"));
	json_object_object_add(d, "count", json_object_new_int64((int64_t)v->panics));
	control_emit(v, "panic", d);
}

static void
console_escape(void *arg)
{
	struct vmm *v = arg;

	vm_request_end(&v->vm, VM_END_STOP, 0, "stopped from the console (Ctrl-A x)");
}

static int
setup_run_dir(struct vmm *v, struct berr *err)
{
	struct berth_dirs dirs;
	char *path, pid[32];
	int n;

	if (v->cfg.run_dir == NULL) {
		if (dirs_init(&dirs, err) < 0)
			return -1;
		v->cfg.run_dir = xasprintf("%s/vm/%s", dirs.run, v->cfg.name);
		dirs_free(&dirs);
	}
	v->run_dir_created = access(v->cfg.run_dir, F_OK) < 0;
	if (mkdir_p(v->cfg.run_dir, 0700, err) < 0)
		return berr_wrap(err, "run directory `%s'", v->cfg.run_dir);
	path = xasprintf("%s/console.sock", v->cfg.run_dir);
	n = console_listen(&v->console, path, err);
	free(path);
	if (n < 0)
		return -1;
	path = xasprintf("%s/ctl.sock", v->cfg.run_dir);
	n = control_listen(v, path, err);
	free(path);
	if (n < 0)
		return -1;
	v->pid_path = xasprintf("%s/vmm.pid", v->cfg.run_dir);
	n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (atomic_write_file(v->pid_path, pid, (size_t)n, 0600, err) < 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct vmm v;
	struct berr err;
	sigset_t set;

	berr_clear(&err);
	v.cfg.memory_mib = DEFAULT_MEMORY_MIB;
	v.cfg.cpus = 1;
	v.cfg.shutdown_timeout_s = DEFAULT_SHUTDOWN_TIMEOUT_S;
	v.cfg.scrollback_kib = CONSOLE_RING_DEFAULT >> 10;
	v.cfg.cmdline = xstrdup(DEFAULT_CMDLINE);
	if (parse_args(&v.cfg, argc, argv, &err) < 0) {
		fprintf(stderr, "berth-vmm: %s\n", err.msg);
		return VMM_EXIT_USAGE;
	}
	if (v.cfg.name == NULL)
		v.cfg.name = xasprintf("vm-%d", (int)getpid());
	if (name_is_valid(v.cfg.name, &err) < 0) {
		fprintf(stderr, "berth-vmm: VM name: %s\n", err.msg);
		return VMM_EXIT_USAGE;
	}
	log_name = v.cfg.name;
	if (v.cfg.scrollback_kib < CONSOLE_RING_MIN >> 10 || v.cfg.scrollback_kib > CONSOLE_RING_MAX >> 10) {
		fprintf(stderr, "berth-vmm: %s: scrollback of %llu KiB is outside %d..%d KiB\n", v.cfg.name,
			(unsigned long long)v.cfg.scrollback_kib, CONSOLE_RING_MIN >> 10, CONSOLE_RING_MAX >> 10);
		return VMM_EXIT_USAGE;
	}

	signal(SIGPIPE, SIG_IGN);
	util_set_oom_hook(util_oom_report);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	v.signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	if (vm_create(&v.vm, &v.cfg, &err) < 0) {
		fprintf(stderr, "berth-vmm: %s: %s\n", v.cfg.name, err.msg);
		vm_destroy(&v.vm);
		return VMM_EXIT_START;
	}
	v.loop = loop_new();
	if (v.loop == NULL ||
	    console_init(&v.console, v.loop, &v.vm.serial, v.cfg.scrollback_kib << 10, &err) < 0 ||
	    setup_run_dir(&v, &err) < 0 ||
	    (v.cfg.console_stdio && console_add_stdio(&v.console, &err) < 0)) {
		fprintf(stderr, "berth-vmm: %s: %s\n", v.cfg.name, err.msg);
		v.exit_status = VMM_EXIT_START;
		goto out;
	}
	v.console.on_escape = console_escape;
	v.console.escape_arg = &v;
	if (v.console.tty_raw)
		vmm_log("console on this terminal: Ctrl-A x stops the VM");
	v.panic_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v.panic_fd >= 0)
		v.panic_watch = loop_add_fd(v.loop, v.panic_fd, POLLIN, panic_cb, &v, NULL);
	v.vm.serial.tx = serial_tx;
	v.vm.serial.tx_arg = &v;
	if (v.signal_fd >= 0)
		v.signal_watch = loop_add_fd(v.loop, v.signal_fd, POLLIN, signal_cb, &v, NULL);
	v.notify_watch = loop_add_fd(v.loop, v.vm.notify_fd, POLLIN, notify_cb, &v, NULL);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	v.cfg.no_seccomp = 1;	/* the sanitizer runtime needs calls we do not allow */
#endif
	if (!v.cfg.no_seccomp && vmm_seccomp_install(&err) < 0) {
		fprintf(stderr, "berth-vmm: %s: %s\n", v.cfg.name, err.msg);
		v.exit_status = VMM_EXIT_START;
		goto out;
	}
	vmm_log("seccomp filter %s", v.cfg.no_seccomp ? "off" : "installed");
	vmm_log("starting: %s, %llu MiB, %d vCPU(s), kernel %s (%s), entry 0x%llx",
		v.cfg.run_dir, (unsigned long long)v.cfg.memory_mib, v.cfg.cpus, v.cfg.kernel,
		v.vm.boot.desc, (unsigned long long)v.vm.boot.entry);
	if (vm_start(&v.vm, &err) < 0) {
		fprintf(stderr, "berth-vmm: %s: %s\n", v.cfg.name, err.msg);
		v.exit_status = VMM_EXIT_START;
		goto out;
	}
	control_emit_state(&v, "booted");
	loop_run(v.loop);
out:
	vm_join(&v.vm);
	if (v.loop) {
		console_flush(&v.console);
		control_close(&v);
		console_destroy(&v.console);
		loop_free(v.loop);
	}
	if (v.pid_path) {
		unlink(v.pid_path);
		free(v.pid_path);
	}
	/* A run directory we made and left empty (no vmm.log: run by hand)
	 * goes too, so runs without --name do not pile up vm-PID folders. */
	if (v.run_dir_created)
		rmdir(v.cfg.run_dir);
	vm_destroy(&v.vm);
	return v.exit_status;
}
