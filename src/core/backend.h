/*
 * backend.h - the backend ops table and the registry of backends.
 *
 * A backend (libvirt, kvm = berth-vmm, container = berth-ctr, or a C plugin)
 * is a const struct backend_ops; a NULL slot means "not supported" and
 * callers must check (backend_call macros below return BERR_NOTSUP).  A
 * connection (struct bconn) is one backend talking to one host: a libvirt URI,
 * or the local runtime directory of berth-vmm/berth-ctr instances.
 *
 * Every op fills struct berr on failure and returns a negative value.
 * Not for: name resolution or front-end policy (registry.h does those).
 */
#ifndef BERTH_BACKEND_H
#define BERTH_BACKEND_H

#include <json-c/json.h>

#include "core/error.h"
#include "core/instance.h"

struct loop;
struct bconn;

/* Event delivered by a backend: an instance changed state, or the backend
 * itself noticed something (a monitor died).  `inst_name` may be NULL. */
struct backend_event {
	struct bconn *conn;
	const char *inst_name;
	const char *type;		/* "state", "defined", "undefined", "disconnected" */
	enum inst_state state;		/* new state for "state" events */
	const char *detail;		/* reason text, or NULL */
};
typedef void (*backend_event_cb)(const struct backend_event *ev, void *arg);

/* Options for define: either `json` (a berth definition, see each backend's
 * man page) or `xml` (libvirt domain XML) is set. */
struct define_spec {
	const char *name;
	json_object *json;
	const char *xml;
};

struct migrate_opts {
	const char *to;			/* destination host/URI */
	int max_downtime_ms;
	void (*on_progress)(double fraction, const char *phase, void *arg);
	void *arg;
};

struct backend_ops {
	const char *name;		/* "libvirt", "kvm", "container", ... */
	const char *description;
	int abi_version;		/* BERTH_BACKEND_ABI for plugins */

	/* Open a connection.  `uri` is backend specific (NULL = default). */
	int (*open)(struct bconn **out, const char *uri, struct loop *loop, struct berr *err);
	void (*close)(struct bconn *c);
	/* Can this backend work here at all?  0 yes; -1 with the reason. */
	int (*probe)(struct berr *err);
	/* Host label of a connection ("localhost", "node2"...). */
	const char *(*host)(struct bconn *c);
	/* Host capacity: CPUs, memory (KiB), and current use where known. */
	int (*host_info)(struct bconn *c, json_object **out, struct berr *err);

	int (*list)(struct bconn *c, struct inst_list *out, struct berr *err);
	int (*get)(struct bconn *c, const char *name, struct instance **out, struct berr *err);
	int (*define)(struct bconn *c, const struct define_spec *spec, struct instance **out, struct berr *err);
	int (*start)(struct instance *inst, struct berr *err);
	/* Graceful shutdown; wait up to timeout_s (<0: don't wait, 0: default),
	 * then force off if `force_after` is set. */
	int (*shutdown)(struct instance *inst, int timeout_s, int force_after, struct berr *err);
	int (*kill)(struct instance *inst, int signo, struct berr *err);
	int (*pause)(struct instance *inst, struct berr *err);
	int (*resume)(struct instance *inst, struct berr *err);
	int (*destroy)(struct instance *inst, struct berr *err);	/* force off */
	int (*undefine)(struct instance *inst, struct berr *err);	/* forget it */
	/* Sample stats for n instances of this connection in one batch. */
	int (*stats)(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out, struct berr *err);
	/* Open the console: a connected fd carrying raw bytes both ways. */
	int (*console_open)(struct instance *inst, int *fd_out, struct berr *err);
	/* Deliver events (from the loop) for every change of this connection's
	 * instances, including those other programs make: defined, undefined,
	 * state.  The dashboard then re-lists on events and polls rarely; a
	 * backend that cannot see every change leaves this NULL (polled). */
	int (*subscribe_events)(struct bconn *c, backend_event_cb cb, void *arg, struct berr *err);
	int (*migrate)(struct instance *inst, const struct migrate_opts *opts, struct berr *err);
	/* Run a command inside (containers).  argv NULL-terminated; tty: allocate
	 * a terminal.  Returns the exit status, or -1. */
	int (*exec)(struct instance *inst, char *const argv[], int tty, int *status, struct berr *err);
	int (*snapshot)(struct instance *inst, const char *name, struct berr *err);
	void (*free_priv)(struct instance *inst);
	/* Full detail for `info` as a JSON object (backend-specific keys). */
	int (*info)(struct instance *inst, json_object **out, struct berr *err);
};

/* ABI version a C plugin's ops table must carry. */
#define BERTH_BACKEND_ABI 1

/* Every connection starts with this header so generic code can find the
 * backend and host; backends embed it as their first member. */
struct bconn {
	const struct backend_ops *ops;
	char *uri;
};

/* Call an optional op: expands to BERR_NOTSUP when the slot is NULL. */
#define BACKEND_OP(ops, op) ((ops)->op)
int backend_notsup(const struct backend_ops *ops, const char *op, struct berr *err);

/* ---- registry of known backend types (built-in and plugins) ---- */
int backend_register(const struct backend_ops *ops, struct berr *err);
const struct backend_ops *backend_find(const char *name);
size_t backend_count(void);
const struct backend_ops *backend_at(size_t i);
/* Register the backends compiled into this binary. */
void backend_register_builtin(void);

#endif
