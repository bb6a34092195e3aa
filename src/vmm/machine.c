/*
 * machine.c - the KVM side of berth-vmm: create the VM (TSS and identity
 * map addresses, irqchip, PIT, memory slots), its devices and vCPUs (CPUID
 * with the KVM paravirtual leaves and per-vCPU APIC ids, MSRs, LAPIC LINT
 * wiring, boot registers), and run one thread per vCPU that handles every
 * exit reason.  Pause is a barrier: a kicked vCPU leaves KVM_RUN and parks
 * until resume or stop.
 * Not for: loading kernels (boot*.c) or talking to clients (control.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/vm.h"

#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL
#define KICK_SIGNAL		SIGUSR1
#define KERNEL_MAX_BYTES	(512ULL << 20)

static __thread struct vcpu *current_vcpu;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The kick: make KVM_RUN return (or not enter) on this thread. */
static void
kick_handler(int sig)
{
	(void)sig;
	if (current_vcpu && current_vcpu->run)
		current_vcpu->run->immediate_exit = 1;
}

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "unknown", [KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io", [KVM_EXIT_HYPERCALL] = "hypercall", [KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt", [KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open", [KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry", [KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr", [KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_NMI] = "nmi", [KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_WATCHDOG] = "watchdog", [KVM_EXIT_EPR] = "epr",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event", [KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
	[KVM_EXIT_HYPERV] = "hyperv", [KVM_EXIT_X86_RDMSR] = "x86_rdmsr",
	[KVM_EXIT_X86_WRMSR] = "x86_wrmsr", [KVM_EXIT_DIRTY_RING_FULL] = "dirty_ring_full",
	[KVM_EXIT_AP_RESET_HOLD] = "ap_reset_hold", [KVM_EXIT_X86_BUS_LOCK] = "x86_bus_lock",
	[KVM_EXIT_XEN] = "xen", [KVM_EXIT_NOTIFY] = "notify",
};

const char *
vm_exit_reason_name(unsigned reason)
{
	if (reason < sizeof exit_names / sizeof exit_names[0] && exit_names[reason])
		return exit_names[reason];
	return NULL;
}

const char *
vm_state_name(enum vm_run_state st)
{
	static const char *const n[] = { "created", "running", "paused", "shutdown", "stopped", "crashed" };
	return (unsigned)st < sizeof n / sizeof n[0] ? n[st] : "unknown";
}

const char *
vm_end_name(enum vm_end end)
{
	static const char *const n[] = { "none", "exit", "poweroff", "stop", "reset", "crash", "error" };
	return (unsigned)end < sizeof n / sizeof n[0] ? n[end] : "unknown";
}

uint64_t
vcpu_cpu_ns(const struct vcpu *v)
{
	struct timespec ts;

	if (!v->thread_started || clock_gettime(v->cpu_clock, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
vm_set_state(struct vm *vm, enum vm_run_state st)
{
	pthread_mutex_lock(&vm->lock);
	vm->state = st;
	pthread_mutex_unlock(&vm->lock);
}

enum vm_run_state
vm_get_state(struct vm *vm)
{
	enum vm_run_state st;

	pthread_mutex_lock(&vm->lock);
	st = vm->state;
	pthread_mutex_unlock(&vm->lock);
	return st;
}

/* Called from vCPU threads too (vm_request_end) while vm_start may still be
 * creating threads: thread_started is published with release after
 * pthread_create has filled `thread`. */
static void
kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++)
		if (__atomic_load_n(&vm->vcpus[i].thread_started, __ATOMIC_ACQUIRE))
			pthread_kill(vm->vcpus[i].thread, KICK_SIGNAL);
}

/* Guest-triggered log lines: the first ten, then at powers of two. */
static int
log_worthy(uint64_t n)
{
	return n <= 10 || (n & (n - 1)) == 0;
}

void
vm_request_end(struct vm *vm, enum vm_end end, int code, const char *fmt, ...)
{
	va_list ap;
	uint64_t one = 1;
	int first = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->end == VM_END_NONE) {
		first = 1;
		vm->end = end;
		vm->end_code = code;
		va_start(ap, fmt);
		vsnprintf(vm->end_detail, sizeof vm->end_detail, fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&vm->stop, 1, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	if (first) {
		kick_all(vm);
		if (write(vm->notify_fd, &one, sizeof one) < 0)
			vmm_log("notify: %s", strerror(errno));
	}
}

/* ------------------------------------------------------------ dev host */

static void
host_irq_line(void *ctx, int irq, int level)
{
	struct vm *vm = ctx;
	struct kvm_irq_level il = { .irq = (unsigned)irq, .level = (unsigned)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &il) < 0)
		vmm_log("KVM_IRQ_LINE %d: %s", irq, strerror(errno));
}

static void
host_request(void *ctx, enum vm_request req, int code)
{
	struct vm *vm = ctx;

	if (req == VM_REQ_RESET)
		vm_request_end(vm, VM_END_RESET, 0, "guest reset through the i8042");
	else if (req == VM_REQ_EXIT)
		vm_request_end(vm, VM_END_EXIT, code, "guest exit code %d", code);
}

/* ---------------------------------------------------------------- vCPU */

/* Counters have one writer (the vCPU thread) and are read by the stats op:
 * relaxed atomic loads and stores, no locked instructions. */
static void
counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static void
vcpu_count_exit(struct vcpu *v, unsigned reason)
{
	counter_add(&v->exits_total, 1);
	counter_add(&v->exits[reason < VCPU_EXIT_SLOTS ? reason : VCPU_EXIT_SLOTS], 1);
}

static void
vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->lock);
	vm->nparked++;
	pthread_cond_broadcast(&vm->cond);
	while (vm->pause_req && !vm->stop)
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->nparked--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* Handle one exit.  Returns 0 to keep running. */
static int
vcpu_handle_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_run *run = v->run;
	unsigned reason = run->exit_reason;

	vcpu_count_exit(v, reason);
	switch (reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		for (uint32_t i = 0; i < run->io.count; i++) {
			if (bus_access(&vm->pio, run->io.port, data, run->io.size,
				       run->io.direction == KVM_EXIT_IO_OUT) < 0)
				__atomic_add_fetch(&vm->pio_unclaimed, 1, __ATOMIC_RELAXED);
			data += run->io.size;
		}
		return 0;
	}
	case KVM_EXIT_MMIO:
		if (run->mmio.len > 8) {	/* KVM never sends these: count, do not touch */
			__atomic_add_fetch(&vm->mmio_unclaimed, 1, __ATOMIC_RELAXED);
			return 0;
		}
		if (bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			       run->mmio.is_write) < 0)
			__atomic_add_fetch(&vm->mmio_unclaimed, 1, __ATOMIC_RELAXED);
		return 0;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_NMI:
	case KVM_EXIT_TPR_ACCESS:
	case KVM_EXIT_SET_TPR:
	case KVM_EXIT_IOAPIC_EOI:
	case KVM_EXIT_X86_BUS_LOCK:
	case KVM_EXIT_NOTIFY:
	case KVM_EXIT_DIRTY_RING_FULL:
	case KVM_EXIT_DEBUG:
		return 0;
	case KVM_EXIT_HYPERCALL:
		run->hypercall.ret = (uint64_t)-1000;	/* -KVM_ENOSYS */
		return 0;
	case KVM_EXIT_X86_RDMSR:
		run->msr.error = 1;
		return 0;
	case KVM_EXIT_X86_WRMSR:
		run->msr.error = 1;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		vm_request_end(vm, VM_END_RESET, 0, "vCPU %d: triple fault (shutdown)", v->id);
		return -1;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_end(vm, VM_END_POWEROFF, 0, "guest powered off");
			return -1;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_end(vm, VM_END_RESET, 0, "guest reset");
			return -1;
		case KVM_SYSTEM_EVENT_CRASH:
			vm_request_end(vm, VM_END_CRASH, 0, "guest crashed (system event)");
			return -1;
		default:
			if (log_worthy(__atomic_add_fetch(&vm->unknown_exits, 1, __ATOMIC_RELAXED)))
				vmm_log("vCPU %d: system event %u ignored", v->id, run->system_event.type);
			return 0;
		}
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_end(vm, VM_END_CRASH, 0,
			       "vCPU %d: entry failed, hardware reason 0x%llx", v->id,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return -1;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_end(vm, VM_END_CRASH, 0, "vCPU %d: KVM internal error, suberror %u%s",
			       v->id, run->internal.suberror,
			       run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			       " (emulation failure)" : "");
		return -1;
	case KVM_EXIT_EXCEPTION:
		if (log_worthy(__atomic_add_fetch(&vm->unknown_exits, 1, __ATOMIC_RELAXED)))
			vmm_log("vCPU %d: exception exit %u ignored", v->id, run->ex.exception);
		return 0;
	default: {
		uint64_t n = __atomic_add_fetch(&vm->unknown_exits, 1, __ATOMIC_RELAXED);
		if (log_worthy(n))
			vmm_log("vCPU %d: unhandled exit reason %u (%s), seen %llu times", v->id,
				reason, vm_exit_reason_name(reason) ? vm_exit_reason_name(reason) : "?",
				(unsigned long long)n);
		return 0;
	}
	}
}

static void *
vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t set;
	char name[16];

	current_vcpu = v;
	snprintf(name, sizeof name, "vcpu%d", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	for (;;) {
		uint64_t t0;
		int r;

		if (__atomic_load_n(&vm->stop, __ATOMIC_SEQ_CST))
			break;
		if (__atomic_load_n(&vm->pause_req, __ATOMIC_SEQ_CST)) {
			vcpu_park(v);
			continue;
		}
		t0 = mono_ns();
		r = ioctl(v->fd, KVM_RUN, 0);
		counter_add(&v->run_ns, mono_ns() - t0);
		v->run->immediate_exit = 0;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu_count_exit(v, KVM_EXIT_INTR);
				continue;
			}
			vm_request_end(vm, VM_END_ERROR, 0, "vCPU %d: KVM_RUN: %s", v->id, strerror(errno));
			break;
		}
		if (vcpu_handle_exit(v) < 0)
			break;
	}
	pthread_mutex_lock(&vm->lock);
	vm->nthreads--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

static int
vcpu_setup_cpuid(struct vm *vm, struct vcpu *v, struct berr *err)
{
	struct kvm_cpuid2 *src = vm->cpuid, *c;
	size_t sz = sizeof *src + src->nent * sizeof src->entries[0];
	int r;

	c = malloc(sz);
	if (c == NULL)
		return berr_errno(err, "cpuid");
	memcpy(c, src, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | ((uint32_t)v->id << 24) |
				 ((uint32_t)vm->ncpus << 16);
			e->ecx |= 1u << 31;	/* hypervisor present */
			if (vm->ncpus > 1)
				e->edx |= 1u << 28;	/* HTT: the count in EBX is valid */
			break;
		case 0xb:
		case 0x1f:
			e->edx = (uint32_t)v->id;
			break;
		default:
			break;
		}
	}
	r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return berr_errno(err, "vCPU %d: KVM_SET_CPUID2", v->id);
	return 0;
}

static void
vcpu_setup_msrs(struct vcpu *v)
{
	static const struct { uint32_t index; uint64_t data; } msrs[] = {
		{ 0x174, 0 }, { 0x175, 0 }, { 0x176, 0 },	/* SYSENTER_CS/ESP/EIP */
		{ 0xc0000081, 0 }, { 0xc0000082, 0 },		/* STAR, LSTAR */
		{ 0xc0000083, 0 }, { 0xc0000084, 0 },		/* CSTAR, SYSCALL_MASK */
		{ 0xc0000102, 0 },				/* KERNEL_GS_BASE */
		{ 0x10, 0 },					/* TSC */
		{ 0x1a0, 1 },					/* MISC_ENABLE: fast strings */
		{ 0x2ff, (1u << 11) | 6 },			/* MTRR default: enabled, WB */
	};
	size_t n = sizeof msrs / sizeof msrs[0];
	struct kvm_msrs *m = calloc(1, sizeof *m + n * sizeof m->entries[0]);
	int r;

	if (m == NULL)
		return;
	m->nmsrs = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		m->entries[i].index = msrs[i].index;
		m->entries[i].data = msrs[i].data;
	}
	r = ioctl(v->fd, KVM_SET_MSRS, m);
	if (r >= 0 && (size_t)r < n)
		vmm_log("vCPU %d: KVM refused MSR 0x%x (set %d of %zu)", v->id,
			m->entries[r].index, r, n);
	else if (r < 0)
		vmm_log("vCPU %d: KVM_SET_MSRS: %s", v->id, strerror(errno));
	free(m);
}

/* LINT0 = ExtINT (the PIC reaches the CPU through the LAPIC), LINT1 = NMI. */
static void
vcpu_setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	uint32_t lvt0, lvt1;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0) {
		vmm_log("vCPU %d: KVM_GET_LAPIC: %s", v->id, strerror(errno));
		return;
	}
	memcpy(&lvt0, &lapic.regs[0x350], 4);
	memcpy(&lvt1, &lapic.regs[0x360], 4);
	lvt0 = (lvt0 & ~0x1c700u) | (7u << 8);	/* unmasked, ExtINT */
	lvt1 = (lvt1 & ~0x1c700u) | (4u << 8);	/* unmasked, NMI */
	memcpy(&lapic.regs[0x350], &lvt0, 4);
	memcpy(&lapic.regs[0x360], &lvt1, 4);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		vmm_log("vCPU %d: KVM_SET_LAPIC: %s", v->id, strerror(errno));
}

static void
seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int l, int db)
{
	memset(s, 0, sizeof *s);
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = (uint8_t)l;
	s->db = (uint8_t)db;
}

static int
vcpu_setup_boot_regs(struct vm *vm, struct vcpu *v, struct berr *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	const struct boot_info *bi = &vm->boot;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return berr_errno(err, "KVM_GET_SREGS");
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (bi->kind == BOOT_BZIMAGE) {
		seg(&sregs.cs, BOOT_SEL_CODE64, 11, 1, 0);
		seg(&sregs.ds, BOOT_SEL_DATA, 3, 0, 1);
		sregs.cr3 = BOOT_PML4_ADDR;
		sregs.cr4 = 0x20;			/* PAE */
		sregs.cr0 = 0x80000011;			/* PG, ET, PE */
		sregs.efer = 0x500;			/* LME, LMA */
	} else {
		seg(&sregs.cs, BOOT_SEL_CODE32, 11, 0, 1);
		seg(&sregs.ds, BOOT_SEL_DATA, 3, 0, 1);
		sregs.cr0 = 0x11;			/* ET, PE */
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return berr_errno(err, "KVM_SET_SREGS");

	memset(&regs, 0, sizeof regs);
	regs.rflags = 2;
	regs.rip = bi->entry;
	regs.rsp = BOOT_STACK_TOP;
	if (bi->kind == BOOT_BZIMAGE)
		regs.rsi = bi->info_addr;
	else
		regs.rbx = bi->info_addr;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return berr_errno(err, "KVM_SET_REGS");

	memset(&fpu, 0, sizeof fpu);
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		vmm_log("KVM_SET_FPU: %s", strerror(errno));
	return 0;
}

static int
vcpu_create(struct vm *vm, int id, struct berr *err)
{
	struct vcpu *v = &vm->vcpus[id];
	long mmap_size;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return berr_errno(err, "KVM_CREATE_VCPU %d", id);
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (long)sizeof(struct kvm_run))
		return berr_errno(err, "KVM_GET_VCPU_MMAP_SIZE");
	v->run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return berr_errno(err, "mapping kvm_run of vCPU %d", id);
	}
	v->run_size = (size_t)mmap_size;
	if (vcpu_setup_cpuid(vm, v, err) < 0)
		return -1;
	vcpu_setup_msrs(v);
	vcpu_setup_lapic(v);
	if (id == 0 && vcpu_setup_boot_regs(vm, v, err) < 0)
		return berr_wrap(err, "vCPU 0");
	return 0;
}

/* ---------------------------------------------------------------- VM */

static int
read_image(const char *what, const char *path, uint64_t max, uint8_t **buf, size_t *len,
	   struct berr *err)
{
	struct stat st;
	uint8_t *b;
	size_t done = 0;
	/* O_NONBLOCK: opening a FIFO must not hang before fstat refuses it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return berr_errno(err, "opening %s `%s'", what, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return berr_set(err, BERR_INVALID, "%s `%s' is not a regular file", what, path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return berr_set(err, BERR_INVALID,
				"%s `%s' of %llu bytes is larger than guest memory (%llu bytes)", what,
				path, (unsigned long long)st.st_size, (unsigned long long)max);
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (b == NULL) {
		close(fd);
		return berr_errno(err, "reading %s", what);
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, b + done, (size_t)st.st_size - done);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			free(b);
			close(fd);
			return berr_errno(err, "reading %s `%s'", what, path);
		}
		done += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = done;
	return 0;
}

static int
vm_setup_memory(struct vm *vm, struct berr *err)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = vm->mem.low_size,
		.userspace_addr = (uintptr_t)vm->mem.host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return berr_errno(err, "KVM_SET_USER_MEMORY_REGION (low)");
	if (vm->mem.high_size) {
		r.slot = 1;
		r.guest_phys_addr = GMEM_HIGH_START;
		r.memory_size = vm->mem.high_size;
		r.userspace_addr = (uintptr_t)(vm->mem.host + vm->mem.low_size);
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return berr_errno(err, "KVM_SET_USER_MEMORY_REGION (high)");
	}
	return 0;
}

static int
vm_setup_cpuid(struct vm *vm, struct berr *err)
{
	int nent = 128;
	struct kvm_cpuid2 *c;

	for (;;) {
		c = calloc(1, sizeof *c + (size_t)nent * sizeof c->entries[0]);
		if (c == NULL)
			return berr_errno(err, "cpuid");
		c->nent = (uint32_t)nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		free(c);
		if (errno != E2BIG || nent > 4096)
			return berr_errno(err, "KVM_GET_SUPPORTED_CPUID");
		nent *= 2;
	}
	vm->cpuid = c;
	return 0;
}

int
vm_create(struct vm *vm, const struct vm_config *cfg, struct berr *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	int r;

	memset(vm, 0, sizeof *vm);
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->notify_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->host = (struct dev_host){ .irq_line = host_irq_line, .request = host_request, .ctx = vm };

	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS)
		return berr_set(err, BERR_INVALID, "%d vCPUs requested: berth-vmm runs 1 to %d",
				cfg->cpus, VM_MAX_CPUS);
	if (gmem_check_size(cfg->memory_mib, err) < 0)
		return -1;
	if (cfg->kernel == NULL)
		return berr_set(err, BERR_INVALID, "no kernel given");
	if (read_image("kernel", cfg->kernel, KERNEL_MAX_BYTES, &kernel, &klen, err) < 0)
		return -1;
	if (cfg->initrd && read_image("initrd", cfg->initrd, cfg->memory_mib << 20, &initrd,
				      &ilen, err) < 0)
		goto fail;

	vm->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->notify_fd < 0) {
		berr_errno(err, "eventfd");
		goto fail;
	}
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		berr_errno(err, "opening /dev/kvm");
		goto fail;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		berr_set(err, BERR_VERSION, "/dev/kvm speaks API %d, berth-vmm needs %d", r,
			 KVM_API_VERSION);
		goto fail;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		berr_errno(err, "KVM_CREATE_VM");
		goto fail;
	}
	fcntl(vm->vm_fd, F_SETFD, FD_CLOEXEC);
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		berr_errno(err, "KVM_SET_TSS_ADDR");
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
		berr_errno(err, "KVM_SET_IDENTITY_MAP_ADDR");
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		berr_errno(err, "KVM_CREATE_IRQCHIP");
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		berr_errno(err, "KVM_CREATE_PIT2");
		goto fail;
	}
	if (gmem_alloc(&vm->mem, cfg->memory_mib << 20, cfg->hugepages, err) < 0)
		goto fail;
	if (vm_setup_memory(vm, err) < 0)
		goto fail;
	if (boot_load(&vm->mem, kernel, klen, initrd, initrd ? ilen : 0, cfg->cmdline, &vm->boot,
		      err) < 0) {
		berr_wrap(err, "loading kernel `%s'", cfg->kernel);
		goto fail;
	}
	free(kernel);
	free(initrd);
	kernel = initrd = NULL;

	if (serial_init(&vm->serial, &vm->pio, SERIAL_COM1_BASE, SERIAL_COM1_IRQ, &vm->host, err) < 0 ||
	    i8042_init(&vm->i8042, &vm->pio, &vm->host, err) < 0 ||
	    rtc_init(&vm->rtc, &vm->pio, err) < 0 ||
	    debug_exit_init(&vm->debug_exit, &vm->pio, &vm->host, err) < 0 ||
	    post_port_init(&vm->pio, err) < 0)
		goto fail;

	if (vm_setup_cpuid(vm, err) < 0)
		goto fail;
	vm->ncpus = cfg->cpus;
	vm->vcpus = calloc((size_t)vm->ncpus, sizeof *vm->vcpus);
	if (vm->vcpus == NULL) {
		berr_errno(err, "vcpus");
		goto fail;
	}
	for (int i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (int i = 0; i < vm->ncpus; i++)
		if (vcpu_create(vm, i, err) < 0)
			goto fail;
	return 0;
fail:
	free(kernel);
	free(initrd);
	return -1;
}

int
vm_start(struct vm *vm, struct berr *err)
{
	struct sigaction sa;
	sigset_t set, old;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);	/* no SA_RESTART: KVM_RUN must return */

	/* Threads start with every signal blocked; each unblocks only the kick. */
	sigfillset(&set);
	pthread_sigmask(SIG_SETMASK, &set, &old);
	vm->started_unix = time(NULL);
	vm_set_state(vm, VM_STATE_RUNNING);
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int r;

		pthread_mutex_lock(&vm->lock);
		vm->nthreads++;
		pthread_mutex_unlock(&vm->lock);
		r = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (r != 0) {
			pthread_mutex_lock(&vm->lock);
			vm->nthreads--;
			pthread_mutex_unlock(&vm->lock);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			errno = r;
			berr_errno(err, "starting vCPU %d", i);
			vm_request_end(vm, VM_END_ERROR, 0, "could not start vCPU %d", i);
			return -1;
		}
		pthread_getcpuclockid(v->thread, &v->cpu_clock);
		__atomic_store_n(&v->thread_started, 1, __ATOMIC_RELEASE);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int
vm_pause(struct vm *vm, int timeout_ms, struct berr *err)
{
	struct timespec deadline;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->lock);
	if (vm->state == VM_STATE_PAUSED) {
		pthread_mutex_unlock(&vm->lock);
		return 0;
	}
	if (vm->stop || (vm->state != VM_STATE_RUNNING && vm->state != VM_STATE_SHUTDOWN)) {
		pthread_mutex_unlock(&vm->lock);
		return berr_set(err, BERR_STATE, "VM is %s, not running", vm_state_name(vm->state));
	}
	__atomic_store_n(&vm->pause_req, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vm->lock);
	kick_all(vm);
	pthread_mutex_lock(&vm->lock);
	while (vm->nparked < vm->nthreads && !vm->stop && r == 0)
		r = pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline);
	if (vm->nparked < vm->nthreads || vm->stop) {
		__atomic_store_n(&vm->pause_req, 0, __ATOMIC_SEQ_CST);
		pthread_cond_broadcast(&vm->cond);
		pthread_mutex_unlock(&vm->lock);
		return berr_set(err, BERR_TIMEOUT, "vCPUs did not stop within %d ms", timeout_ms);
	}
	vm->state = VM_STATE_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int
vm_resume(struct vm *vm, struct berr *err)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_PAUSED) {
		enum vm_run_state st = vm->state;
		pthread_mutex_unlock(&vm->lock);
		if (st == VM_STATE_RUNNING)
			return 0;
		return berr_set(err, BERR_STATE, "VM is %s, not paused", vm_state_name(st));
	}
	__atomic_store_n(&vm->pause_req, 0, __ATOMIC_SEQ_CST);
	vm->state = VM_STATE_RUNNING;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void
vm_join(struct vm *vm)
{
	__atomic_store_n(&vm->stop, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&vm->lock);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	kick_all(vm);
	for (int i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].thread_started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			__atomic_store_n(&vm->vcpus[i].thread_started, 0, __ATOMIC_RELEASE);
		}
	}
}

void
vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		vm_join(vm);
		for (int i = 0; i < vm->ncpus; i++) {
			if (vm->vcpus[i].run)
				munmap(vm->vcpus[i].run, vm->vcpus[i].run_size);
			if (vm->vcpus[i].fd >= 0)
				close(vm->vcpus[i].fd);
		}
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->notify_fd >= 0)
		close(vm->notify_fd);
	vm->vm_fd = vm->kvm_fd = vm->notify_fd = -1;
	gmem_free(&vm->mem);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
}
