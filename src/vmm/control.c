/*
 * control.c - ctl.sock: the berth control protocol (src/core/proto.h), server
 * side.  Ops: info, pause, resume, shutdown, kill, stats; events (after
 * subscribe): state, exit, reset, panic.  berth-vmm(1) documents each.
 * Not for: framing, hello or subscriptions (proto.c does those).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/proto.h"
#include "core/util.h"
#include "vmm/vmm.h"

static void
add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void
add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* /proc/self/statm, opened before the seccomp filter (which refuses every
 * open) and read with pread at each stats request. */
static int statm_fd = -1;

static uint64_t
vmm_rss_bytes(void)
{
	char buf[128];
	unsigned long long size = 0, rss = 0;
	ssize_t n;

	if (statm_fd < 0 || (n = pread(statm_fd, buf, sizeof buf - 1, 0)) <= 0)
		return 0;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return 0;
	return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

json_object *
control_info(struct vmm *v)
{
	json_object *o = json_object_new_object();
	struct vm *vm = &v->vm;

	add_str(o, "name", v->cfg.name);
	add_str(o, "state", vm_state_name(vm_get_state(vm)));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "vcpus", json_object_new_int(vm->ncpus));
	add_u64(o, "memory_mib", v->cfg.memory_mib);
	json_object_object_add(o, "hugepages", json_object_new_boolean(vm->mem.hugepages));
	add_str(o, "kernel", v->cfg.kernel);
	add_str(o, "initrd", v->cfg.initrd);
	add_str(o, "cmdline", v->cfg.cmdline);
	add_str(o, "boot", vm->boot.desc);
	json_object_object_add(o, "started", json_object_new_int64(vm->started_unix));
	add_str(o, "run_dir", v->cfg.run_dir);
	add_str(o, "console", v->console.path);
	add_str(o, "host", "localhost");
	return o;
}

json_object *
control_stats(struct vmm *v)
{
	struct vm *vm = &v->vm;
	json_object *o = json_object_new_object(), *cpus = json_object_new_array();
	uint64_t run_total = 0, cpu_total = 0, exits_total = 0, tx, rx;

	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		json_object *jc = json_object_new_object(), *ex = json_object_new_object();
		uint64_t cpu = vcpu_cpu_ns(c);

		json_object_object_add(jc, "id", json_object_new_int(i));
		add_u64(jc, "run_ns", vcpu_stat(&c->run_ns));
		add_u64(jc, "cpu_ns", cpu);
		add_u64(jc, "exits", vcpu_stat(&c->exits_total));
		for (unsigned r = 0; r <= VCPU_EXIT_SLOTS; r++) {
			const char *name = r < VCPU_EXIT_SLOTS ? vm_exit_reason_name(r) : "other";
			char buf[24];
			uint64_t count = vcpu_stat(&c->exits[r]);
			if (count == 0)
				continue;
			if (name == NULL) {
				snprintf(buf, sizeof buf, "reason_%u", r);
				name = buf;
			}
			add_u64(ex, name, count);
		}
		json_object_object_add(jc, "exits_by_reason", ex);
		json_object_array_add(cpus, jc);
		run_total += vcpu_stat(&c->run_ns);
		cpu_total += cpu;
		exits_total += vcpu_stat(&c->exits_total);
	}
	add_str(o, "state", vm_state_name(vm_get_state(vm)));
	json_object_object_add(o, "vcpus", cpus);
	add_u64(o, "vcpu_run_ns", run_total);
	add_u64(o, "cpu_time_ns", cpu_total);
	add_u64(o, "exits", exits_total);
	add_u64(o, "memory_bytes", vm->mem.size);
	add_u64(o, "memory_resident_bytes", gmem_resident(&vm->mem));
	add_u64(o, "vmm_rss_bytes", vmm_rss_bytes());
	add_u64(o, "pio_unclaimed", __atomic_load_n(&vm->pio_unclaimed, __ATOMIC_RELAXED));
	add_u64(o, "mmio_unclaimed", __atomic_load_n(&vm->mmio_unclaimed, __ATOMIC_RELAXED));
	add_u64(o, "unknown_exits", __atomic_load_n(&vm->unknown_exits, __ATOMIC_RELAXED));
	pthread_mutex_lock(&vm->serial.lock);	/* vCPU threads update them */
	tx = vm->serial.st.tx_bytes;
	rx = vm->serial.st.rx_bytes;
	pthread_mutex_unlock(&vm->serial.lock);
	add_u64(o, "serial_tx_bytes", tx);
	add_u64(o, "serial_rx_bytes", rx);
	add_u64(o, "console_clients", console_nclients(&v->console));
	add_u64(o, "console_readers_dropped", v->console.readers_dropped);
	add_u64(o, "console_input_refused", v->console.input_refused);
	json_object_object_add(o, "uptime_s",
			       json_object_new_int64(vm->started_unix ? time(NULL) - vm->started_unix : 0));
	return o;
}

void
control_emit(struct vmm *v, const char *event, json_object *data)
{
	if (v->server)
		proto_server_emit(v->server, event, v->cfg.name, data);
	else
		json_object_put(data);
}

void
control_emit_state(struct vmm *v, const char *reason)
{
	json_object *d = json_object_new_object();

	add_str(d, "state", vm_state_name(vm_get_state(&v->vm)));
	add_str(d, "reason", reason);
	control_emit(v, "state", d);
}

static json_object *
state_result(struct vmm *v)
{
	json_object *o = json_object_new_object();

	add_str(o, "state", vm_state_name(vm_get_state(&v->vm)));
	return o;
}

static void
control_handler(struct proto_server *s, struct proto_req *req, const char *op,
		json_object *args, void *arg)
{
	struct vmm *v = arg;
	struct berr err;

	berr_clear(&err);
	if (strcmp(op, "info") == 0) {
		proto_req_reply(req, control_info(v));
	} else if (strcmp(op, "stats") == 0) {
		proto_req_reply(req, control_stats(v));
	} else if (strcmp(op, "pause") == 0) {
		if (v->ending || vm_pause(&v->vm, 2000, &err) < 0) {
			if (v->ending)
				berr_set(&err, BERR_STATE, "VM is stopping");
			proto_req_error(req, &err);
			return;
		}
		proto_req_reply(req, state_result(v));
		control_emit_state(v, "paused by request");
	} else if (strcmp(op, "resume") == 0) {
		if (v->ending || vm_resume(&v->vm, &err) < 0) {
			if (v->ending)
				berr_set(&err, BERR_STATE, "VM is stopping");
			proto_req_error(req, &err);
			return;
		}
		proto_req_reply(req, state_result(v));
		control_emit_state(v, "resumed by request");
	} else if (strcmp(op, "shutdown") == 0) {
		int64_t timeout;
		int force;
		json_object *o;

		if (proto_arg_int(args, "timeout_s", &timeout, v->cfg.shutdown_timeout_s, &err) < 0 ||
		    proto_arg_bool(args, "force", &force, 1, &err) < 0) {
			proto_req_error(req, &err);
			return;
		}
		if (timeout < 0 || timeout > 86400) {
			berr_set(&err, BERR_INVALID, "timeout_s must be 0..86400");
			proto_req_error(req, &err);
			return;
		}
		if (v->ending) {
			berr_set(&err, BERR_STATE, "VM is already stopping");
			proto_req_error(req, &err);
			return;
		}
		vmm_shutdown(v, (int)timeout, force);
		o = state_result(v);
		add_str(o, "method", "ctrl-alt-del");
		json_object_object_add(o, "timeout_s", json_object_new_int((int)timeout));
		json_object_object_add(o, "force", json_object_new_boolean(force));
		proto_req_reply(req, o);
	} else if (strcmp(op, "kill") == 0) {
		proto_req_reply(req, json_object_new_object());
		vm_request_end(&v->vm, VM_END_STOP, 0, "killed by request");
	} else {
		berr_set(&err, BERR_NOTSUP, "unknown op `%s' (berth-vmm serves info, pause, resume, "
			 "shutdown, kill, stats)", op);
		proto_req_error(req, &err);
	}
}

int
control_listen(struct vmm *v, const char *path, struct berr *err)
{
	int fd;
	json_object *hello = json_object_new_object();

	if (proto_listen_unix(path, &fd, err) < 0) {
		json_object_put(hello);
		return berr_wrap(err, "control socket `%s'", path);
	}
	add_str(hello, "instance", v->cfg.name);
	add_str(hello, "kind", "vm");
	json_object_object_add(hello, "pid", json_object_new_int(getpid()));
	v->server = proto_server_new(v->loop, fd, "berth-vmm", hello, control_handler, v);
	if (v->server == NULL) {
		close(fd);
		return berr_set(err, ENOMEM, "control server");
	}
	v->ctl_path = xstrdup(path);
	if (statm_fd < 0)
		statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	return 0;
}

void
control_close(struct vmm *v)
{
	if (v->server)
		proto_server_free(v->server);
	v->server = NULL;
	if (v->ctl_path) {
		unlink(v->ctl_path);
		free(v->ctl_path);
		v->ctl_path = NULL;
	}
	if (statm_fd >= 0)
		close(statm_fd);
	statm_fd = -1;
}
