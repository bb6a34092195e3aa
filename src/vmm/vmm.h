/*
 * vmm.h - the berth-vmm process: one VM, its console socket and control
 * socket, the event loop that serves them, and the exit status it ends with.
 *
 * Exit statuses (documented in berth-vmm(1)):
 *   0  stopped: guest powered off, or stopped by shutdown/kill or SIGTERM/SIGINT
 *   2  usage error (bad option or configuration syntax)
 *   4  could not start: bad configuration value, kernel/initrd refused, KVM failed
 *   6  guest reset (reboot, triple fault, i8042 reset) when no shutdown was asked
 *   8  guest crashed (KVM internal error, emulation failure, failed entry)
 *   10 berth-vmm failed while running
 *   odd (V << 1 | 1) & 0xff: guest wrote V to the debug-exit port 0x501, as
 *      QEMU's isa-debug-exit does
 * Not for: KVM details (vm.h) or console fan-out (console.h).
 */
#ifndef BERTH_VMM_VMM_H
#define BERTH_VMM_VMM_H

#include <json-c/json.h>

#include "vmm/console.h"
#include "vmm/vm.h"

enum {
	VMM_EXIT_STOPPED = 0,
	VMM_EXIT_USAGE = 2,
	VMM_EXIT_START = 4,
	VMM_EXIT_RESET = 6,
	VMM_EXIT_CRASH = 8,
	VMM_EXIT_FAILED = 10,
};

struct proto_server;
struct loop;

struct vmm {
	struct vm_config cfg;
	struct vm vm;
	struct loop *loop;
	struct console console;
	struct proto_server *server;
	char *ctl_path, *pid_path;
	int run_dir_created;	/* setup made cfg.run_dir: remove it at exit if empty */
	int notify_watch;
	int signal_fd, signal_watch;
	int shutdown_timer;
	int shutdown_requested;
	int shutdown_force;	/* force off when the grace period ends */
	int ending;		/* the VM has ended; the loop drains and quits */
	size_t panic_match;	/* bytes of "Kernel panic - not syncing" seen (serial lock) */
	int panic_fd, panic_watch;	/* eventfd: the guest printed a kernel panic */
	uint64_t panics;		/* panic lines seen (main thread) */
	int exit_status;
};

/* Restrict the process's system calls (seccomp.c); call before vm_start. */
int vmm_seccomp_install(struct berr *err);

/* Control socket (control.c). */
int control_listen(struct vmm *v, const char *path, struct berr *err);
void control_close(struct vmm *v);
/* Publish a state change to subscribers ("state" event). */
void control_emit_state(struct vmm *v, const char *reason);
void control_emit(struct vmm *v, const char *event, json_object *data);
json_object *control_info(struct vmm *v);
json_object *control_stats(struct vmm *v);
/* Begin a graceful shutdown (Ctrl-Alt-Del); after timeout_s force the VM
 * off when `force`, else give up and report it running again. */
void vmm_shutdown(struct vmm *v, int timeout_s, int force);
/* The VM ended (from any reason): emit events, pick the status, quit soon. */
void vmm_vm_ended(struct vmm *v);

#endif
