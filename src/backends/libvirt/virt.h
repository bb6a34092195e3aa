/*
 * virt.h - internals shared by the files of the libvirt backend.
 *
 * For: the connection and per-instance handles, libvirt error conversion,
 * the event-loop glue, the XML builder/reader and the console pump.
 * Not for: anything outside src/backends/libvirt (the public face is
 * libvirt_backend_ops in backends.h).
 */
#ifndef BERTH_VIRT_H
#define BERTH_VIRT_H

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "core/backend.h"
#include "core/error.h"
#include "core/instance.h"

struct loop;
struct virt_console;

/* One open libvirt connection.  `base` must stay first (struct bconn). */
struct virt_conn {
	struct bconn base;
	virConnectPtr conn;
	char *host;			/* URI's host name or "localhost" */
	struct loop *loop;		/* the loop libvirt's events run in, or NULL */
	int lifecycle_cb;		/* virConnectDomainEventRegisterAny ids, -1 none */
	int reboot_cb;
	backend_event_cb ev_cb;
	void *ev_arg;
	struct virt_console *consoles;	/* open console pumps */
	int closed;			/* the connection went away (close callback) */
	int stats_no_nowait;		/* the driver refuses ..._STATS_NOWAIT */
	int local_qemu;			/* 1 the daemon's QEMUs are in our /proc, -1 not, 0 unknown */
	struct smap *times;		/* UUID -> struct virt_time (virt-times.c) */
};

/* instance->priv */
struct virt_inst {
	virDomainPtr dom;
};

static inline struct virt_conn *
virt_conn_of(struct bconn *c)
{
	return (struct virt_conn *)c;
}

/* ---- virt-backend.c ---- */
/* The host part of a libvirt URI, or "localhost" (malloc'ed). */
char *virt_uri_host(const char *uri);
/* virConnectOpen bounded by $BERTH_LIBVIRT_OPEN_TIMEOUT (default 30 s);
 * NULL with err set (BERR_TIMEOUT when it took too long). */
virConnectPtr virt_connect(const char *uri, struct berr *err);
/* Opens given up on whose threads have not finished yet. */
int virt_open_abandoned(void);

/* ---- virt-error.c ---- */
/* Install the silent error handler and initialise libvirt (idempotent). */
int virt_global_init(struct berr *err);
/* Fill err from libvirt's last error, "<context>: <libvirt message>" (just
 * the message when the context is empty).
 * Returns -1. */
int virt_err(struct berr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last libvirt error number (VIR_ERR_*), 0 if none. */
int virt_last_code(void);
void virt_reset_error(void);

/* ---- virt-event.c ---- */
/* Join libvirt's event loop to `loop` (once per process; later calls with
 * another loop keep the first).  Returns 0, or -1 if loop is NULL and none
 * was registered before. */
int virt_event_init(struct loop *loop);
struct loop *virt_event_loop(void);
int virt_subscribe_events(struct bconn *c, backend_event_cb cb, void *arg, struct berr *err);
void virt_unsubscribe_events(struct virt_conn *vc);

/* ---- virt-state.c ---- */
enum inst_state virt_state_map(int state);
/* Reason text for (state, reason), e.g. "booted", "user", "destroyed". */
const char *virt_reason_text(int state, int reason);
/* Lifecycle event (VIR_DOMAIN_EVENT_*, detail) to state + text. */
enum inst_state virt_event_state(int event, int detail, const char **type, const char **text);

/* ---- virt-xml.c ---- */
/* Domain XML from a berth JSON definition (name taken from spec name or
 * json "name").  `domain_type` is "kvm" or "qemu" (when json has none). */
int virt_xml_from_json(json_object *def, const char *name, const char *default_type, char **xml_out,
		       struct berr *err);
/* Add XML-derived details (os, devices) of a domain to `obj`. */
int virt_xml_describe(const char *xml, json_object *obj, struct berr *err);
/* <domainsnapshot> XML for a snapshot named `name' (NULL: libvirt picks). */
int virt_xml_snapshot(const char *name, char **xml_out, struct berr *err);
/* The <name> of a domain XML document, or NULL (malloc'ed). */
char *virt_xml_name(const char *xml);

/* ---- virt-console.c ---- */
int virt_console_open(struct instance *inst, int *fd_out, struct berr *err);
/* Tear down every console pump of a connection (on close). */
void virt_console_close_all(struct virt_conn *vc);

/* ---- virt-times.c ---- */
/* created and started of v[0..n) (instances of vc with their handles), from
 * what this connection remembers, the QEMU processes of a local daemon (one
 * pass over /proc) and the domains' metadata where read before. */
void virt_times_fill(struct virt_conn *vc, struct instance **v, size_t n);
/* berth has just started inst's domain. */
void virt_times_started_now(struct virt_conn *vc, struct instance *inst);
/* inst->created from dom's berth metadata (read once per connection). */
void virt_times_read_created(struct virt_conn *vc, struct instance *inst, virDomainPtr dom);
/* The created time in dom's metadata, 0 when none (dom may be NULL). */
int64_t virt_times_created_of(virDomainPtr dom);
/* Write "created at `when'" into dom's persistent metadata. */
int virt_times_mark_created(struct virt_conn *vc, virDomainPtr dom, int64_t when, struct berr *err);
void virt_times_free(struct virt_conn *vc);

/* ---- virt-domain.c ---- */
int virt_list(struct bconn *c, struct inst_list *out, struct berr *err);
int virt_get(struct bconn *c, const char *name, struct instance **out, struct berr *err);
int virt_define(struct bconn *c, const struct define_spec *spec, struct instance **out, struct berr *err);
int virt_start(struct instance *inst, struct berr *err);
int virt_shutdown(struct instance *inst, int timeout_s, int force_after, struct berr *err);
int virt_kill(struct instance *inst, int signo, struct berr *err);
int virt_pause(struct instance *inst, struct berr *err);
int virt_resume(struct instance *inst, struct berr *err);
int virt_destroy(struct instance *inst, struct berr *err);
int virt_undefine(struct instance *inst, struct berr *err);
int virt_snapshot(struct instance *inst, const char *name, struct berr *err);
int virt_migrate(struct instance *inst, const struct migrate_opts *opts, struct berr *err);
int virt_stats(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out, struct berr *err);
/* One record of virConnectGetAllDomainStats into st (sums over every
 * block and net device); the instance gives vCPUs and memory it lacks. */
void virt_fill_stats(const struct instance *inst, virDomainStatsRecordPtr rec, struct inst_stats *st);
int virt_info(struct instance *inst, json_object **out, struct berr *err);
void virt_free_priv(struct instance *inst);
/* The domain handle of an instance (looked up again by UUID/name when the
 * instance has none), or NULL with err set. */
virDomainPtr virt_inst_domain(struct instance *inst, struct berr *err);
/* Build an instance from a domain (takes a new reference on dom). */
struct instance *virt_instance_from(struct virt_conn *vc, virDomainPtr dom);

#endif
