/*
 * vm.h - one KVM virtual machine: guest memory, the in-kernel irqchip and
 * PIT, the buses with their devices, and one thread per vCPU.
 *
 * Lifecycle: vm_create() (everything up to the loaded kernel), vm_start()
 * (vCPU threads), vm_pause()/vm_resume() (vCPUs park at a barrier, so their
 * state can be read for snapshots), vm_request_end() (from any thread: the
 * first reason to end wins and notify_fd becomes readable), vm_join(),
 * vm_destroy().  Every device and vCPU counter lives in plain structs here.
 * Not for: sockets or protocol (console.c, control.c, main.c).
 */
#ifndef BERTH_VMM_VM_H
#define BERTH_VMM_VM_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"
#include "vmm/boot.h"
#include "vmm/bus.h"
#include "vmm/devices.h"
#include "vmm/memory.h"

#define VM_MAX_CPUS 64
#define VCPU_EXIT_SLOTS 40	/* KVM exit reasons we name; others count as "other" */

struct vm_config {
	char *name;
	char *kernel;
	char *initrd;
	char *cmdline;
	uint64_t memory_mib;
	int cpus;
	int hugepages;
	char *run_dir;
	int console_stdio;
	int shutdown_timeout_s;
	int no_seccomp;
	uint64_t scrollback_kib;	/* console ring */
};

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	int thread_started;
	clockid_t cpu_clock;
	/* Written by the vCPU thread only, read by the stats op: both sides use
	 * relaxed __atomic loads/stores (vcpu_stat()). */
	uint64_t run_ns;
	uint64_t exits_total;
	uint64_t exits[VCPU_EXIT_SLOTS + 1];	/* last slot: unknown reasons */
};

enum vm_run_state {
	VM_STATE_CREATED = 0,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_SHUTDOWN,	/* graceful shutdown requested */
	VM_STATE_STOPPED,
	VM_STATE_CRASHED,
};

enum vm_end {
	VM_END_NONE = 0,
	VM_END_EXIT,		/* debug-exit port: end_code is the guest's byte */
	VM_END_POWEROFF,	/* guest powered off */
	VM_END_STOP,		/* stopped from outside (op, signal) */
	VM_END_RESET,		/* guest reset: reboot, triple fault, i8042 */
	VM_END_CRASH,		/* guest crashed: internal error, failed entry */
	VM_END_ERROR,		/* the VMM itself failed */
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd, vm_fd;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct dev_host host;
	struct serial serial;
	struct i8042 i8042;
	struct rtc rtc;
	struct debug_exit debug_exit;
	struct boot_info boot;
	int ncpus;
	struct vcpu *vcpus;
	void *cpuid;		/* struct kvm_cpuid2 */

	pthread_mutex_t lock;	/* guards the fields below */
	pthread_cond_t cond;
	enum vm_run_state state;
	int pause_req;
	int nparked;
	int nthreads;		/* vCPU threads still in their loop */
	int stop;		/* read without the lock by vCPU threads (atomic) */
	enum vm_end end;
	int end_code;
	char end_detail[256];
	int notify_fd;		/* eventfd: readable once an end is requested */

	uint64_t pio_unclaimed, mmio_unclaimed, unknown_exits;	/* atomic */
	int64_t started_unix;
};

int vm_create(struct vm *vm, const struct vm_config *cfg, struct berr *err);
int vm_start(struct vm *vm, struct berr *err);
/* Park every vCPU at the barrier; waits up to timeout_ms. */
int vm_pause(struct vm *vm, int timeout_ms, struct berr *err);
int vm_resume(struct vm *vm, struct berr *err);
/* Record why the VM ends (first caller wins) and stop the vCPUs. */
void vm_request_end(struct vm *vm, enum vm_end end, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void vm_set_state(struct vm *vm, enum vm_run_state st);
enum vm_run_state vm_get_state(struct vm *vm);
void vm_join(struct vm *vm);
void vm_destroy(struct vm *vm);

const char *vm_state_name(enum vm_run_state st);
const char *vm_end_name(enum vm_end end);
const char *vm_exit_reason_name(unsigned reason);
/* A vCPU counter (run_ns, exits_total, exits[i]) read from another thread. */
static inline uint64_t vcpu_stat(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }
/* CPU time used by one vCPU thread, ns. */
uint64_t vcpu_cpu_ns(const struct vcpu *v);

/* Log a line to stderr with a timestamp (main.c). */
void vmm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
