/*
 * virt-event.c - libvirt's event loop joined to berth's, and domain
 * lifecycle events turned into struct backend_event.
 *
 * For: virEventRegisterImpl callbacks that map libvirt handles and timeouts
 * onto loop_add_fd/loop_add_timer of the struct loop given to the first
 * open(), so that libvirt events, keepalives and console streams run in the
 * same poll() as everything else; and subscribe_events.
 * Not for: running a loop (the front-end does) or threads: libvirt's handle
 * and timeout callbacks run on the thread that runs the loop.
 *
 * libvirt requires the implementation to be registered once per process,
 * before the first virConnectOpen; it cannot be replaced afterwards, so
 * the loop of the first open() with a loop wins.  The loop itself defers
 * free callbacks until no dispatch is running and never reuses ids, which is
 * what virEventRegisterImpl asks of an implementation.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "backends/libvirt/virt.h"
#include "core/loop.h"
#include "core/util.h"

static pthread_mutex_t virt_event_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loop *virt_loop;

/* A libvirt handle or timeout as registered with berth's loop. */
struct virt_watch {
	virEventHandleCallback hcb;
	virEventTimeoutCallback tcb;
	void *opaque;
	virFreeCallback ff;
};

static int
virt_poll_events(int vir)
{
	int ev = 0;

	if (vir & VIR_EVENT_HANDLE_READABLE)
		ev |= POLLIN;
	if (vir & VIR_EVENT_HANDLE_WRITABLE)
		ev |= POLLOUT;
	return ev;
}

static int
virt_vir_events(int revents)
{
	int ev = 0;

	if (revents & (POLLIN | POLLPRI))
		ev |= VIR_EVENT_HANDLE_READABLE;
	if (revents & POLLOUT)
		ev |= VIR_EVENT_HANDLE_WRITABLE;
	if (revents & (POLLERR | POLLNVAL))
		ev |= VIR_EVENT_HANDLE_ERROR;
	if (revents & POLLHUP)
		ev |= VIR_EVENT_HANDLE_HANGUP;
	return ev;
}

/* Runs from loop_sweep, never inside the remove call (libvirt's rule). */
static void
virt_watch_free(void *arg)
{
	struct virt_watch *w = arg;

	if (w->ff != NULL)
		w->ff(w->opaque);
	free(w);
}

static void
virt_handle_dispatch(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct virt_watch *w = arg;

	(void)l;
	w->hcb(id, fd, virt_vir_events(revents), w->opaque);
}

static int
virt_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
	struct virt_watch *w = xcalloc(1, sizeof *w);
	int id;

	w->hcb = cb;
	w->opaque = opaque;
	w->ff = ff;
	id = loop_add_fd(virt_loop, fd, virt_poll_events(events), virt_handle_dispatch, w, virt_watch_free);
	if (id < 0) {
		free(w);	/* libvirt keeps ownership of opaque on failure */
		return -1;
	}
	return id;
}

static void
virt_update_handle(int watch, int events)
{
	loop_update_fd(virt_loop, watch, virt_poll_events(events));
}

static int
virt_remove_handle(int watch)
{
	loop_remove_fd(virt_loop, watch);
	return 0;
}

static void
virt_timeout_dispatch(struct loop *l, int id, void *arg)
{
	struct virt_watch *w = arg;

	(void)l;
	w->tcb(id, w->opaque);
}

static int
virt_add_timeout(int timeout, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	struct virt_watch *w = xcalloc(1, sizeof *w);
	int id;

	w->tcb = cb;
	w->opaque = opaque;
	w->ff = ff;
	id = loop_add_timer(virt_loop, timeout, virt_timeout_dispatch, w, virt_watch_free);
	if (id < 0) {
		free(w);
		return -1;
	}
	return id;
}

static void
virt_update_timeout(int timer, int timeout)
{
	loop_update_timer(virt_loop, timer, timeout);
}

static int
virt_remove_timeout(int timer)
{
	loop_remove_timer(virt_loop, timer);
	return 0;
}

int
virt_event_init(struct loop *loop)
{
	int rc = 0;

	pthread_mutex_lock(&virt_event_lock);
	if (virt_loop == NULL) {
		if (loop == NULL) {
			rc = -1;
		} else {
			virt_loop = loop;
			virEventRegisterImpl(virt_add_handle, virt_update_handle, virt_remove_handle,
					     virt_add_timeout, virt_update_timeout, virt_remove_timeout);
		}
	}
	pthread_mutex_unlock(&virt_event_lock);
	return rc;
}

struct loop *
virt_event_loop(void)
{
	struct loop *l;

	pthread_mutex_lock(&virt_event_lock);
	l = virt_loop;
	pthread_mutex_unlock(&virt_event_lock);
	return l;
}

/* ---- domain events ---- */

static void
virt_emit(struct virt_conn *vc, const char *name, const char *type, enum inst_state state,
	  const char *detail)
{
	struct backend_event ev = {
		.conn = &vc->base,
		.inst_name = name,
		.type = type,
		.state = state,
		.detail = detail,
	};

	if (vc->ev_cb != NULL)
		vc->ev_cb(&ev, vc->ev_arg);
}

static int
virt_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct virt_conn *vc = opaque;
	const char *type, *text;
	enum inst_state st;

	(void)conn;
	st = virt_event_state(event, detail, &type, &text);
	if (event == VIR_DOMAIN_EVENT_DEFINED) {
		int s, r;

		/* Say what the defined domain is doing now (it may be running). */
		if (virDomainGetState(dom, &s, &r, 0) == 0)
			st = virt_state_map(s);
		else
			virt_reset_error();
	}
	virt_emit(vc, virDomainGetName(dom), type, st, text);
	return 0;
}

static void
virt_on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
	(void)conn;
	virt_emit(opaque, virDomainGetName(dom), "reboot", INST_RUNNING, "reboot");
}

int
virt_subscribe_events(struct bconn *c, backend_event_cb cb, void *arg, struct berr *err)
{
	struct virt_conn *vc = virt_conn_of(c);

	if (vc->loop == NULL)
		return berr_set(err, BERR_NOTSUP,
				"events of %s: no event loop was given when libvirt was first opened",
				c->uri);
	vc->ev_cb = cb;
	vc->ev_arg = arg;
	if (vc->lifecycle_cb < 0) {
		vc->lifecycle_cb = virConnectDomainEventRegisterAny(
			vc->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
			VIR_DOMAIN_EVENT_CALLBACK(virt_on_lifecycle), vc, NULL);
		if (vc->lifecycle_cb < 0)
			return virt_err(err, "subscribing to events of %s", c->uri);
	}
	if (vc->reboot_cb < 0) {
		vc->reboot_cb = virConnectDomainEventRegisterAny(
			vc->conn, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
			VIR_DOMAIN_EVENT_CALLBACK(virt_on_reboot), vc, NULL);
		/* Not every driver has reboot events; lifecycle is what matters. */
		if (vc->reboot_cb < 0)
			virt_reset_error();
	}
	return 0;
}

void
virt_unsubscribe_events(struct virt_conn *vc)
{
	if (vc->lifecycle_cb >= 0)
		virConnectDomainEventDeregisterAny(vc->conn, vc->lifecycle_cb);
	if (vc->reboot_cb >= 0)
		virConnectDomainEventDeregisterAny(vc->conn, vc->reboot_cb);
	vc->lifecycle_cb = vc->reboot_cb = -1;
	virt_reset_error();
}
