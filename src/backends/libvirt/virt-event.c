/*
 * virt-event.c - libvirt's event loop joined to berth's, and domain
 * lifecycle events turned into struct backend_event.
 *
 * For: virEventRegisterImpl callbacks that map libvirt handles and timeouts
 * onto loop_add_fd/loop_add_timer of the struct loop given to open(), so
 * that libvirt events, keepalives and console streams run in the same
 * poll() as everything else; and subscribe_events.
 * Not for: running a loop (the front-end does) or threads: libvirt's handle
 * and timeout callbacks run on the thread that runs the loop.
 *
 * libvirt takes one implementation per process, registered before the first
 * virConnectOpen, and never lets go of it; berth's loops come and go with
 * sessions.  So the implementation registered here forwards to the current
 * loop: the first one given, until it is freed (a disabled sentinel timer's
 * free callback says so), then the next one given to open().  libvirt sees
 * ids of our own, never reused, so that an id from a freed loop never
 * names a watch of the next one; removing such an id, or one never
 * registered, returns -1 as libvirt's contract asks.  Watches and the
 * current loop are guarded by one mutex, which also keeps a loop from being
 * freed while another thread (the connection opener) is calling into it.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include "backends/libvirt/virt.h"
#include "core/loop.h"
#include "core/util.h"

/* A libvirt handle or timeout as registered with berth's loop. */
struct virt_watch {
	struct virt_watch *next;
	int id;			/* what libvirt knows it by */
	int loop_id;		/* its id in `loop' */
	int is_timer;
	int removed;		/* libvirt removed it; the loop frees it later */
	struct loop *loop;
	virEventHandleCallback hcb;
	virEventTimeoutCallback tcb;
	void *opaque;
	virFreeCallback ff;
};

static pthread_mutex_t virt_event_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loop *virt_loop;		/* NULL: none, or it was freed */
static int virt_impl_registered;
static struct virt_watch *virt_watches;
static int virt_next_id = 1;

/* The sentinel's free callback: the loop is being freed. */
static void
virt_loop_gone(void *arg)
{
	pthread_mutex_lock(&virt_event_lock);
	if (virt_loop == arg)
		virt_loop = NULL;
	pthread_mutex_unlock(&virt_event_lock);
}

static void
virt_sentinel_never(struct loop *l, int id, void *arg)
{
	(void)l;
	(void)id;
	(void)arg;
}

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

/* A live (not removed) watch by libvirt id; lock held. */
static struct virt_watch *
virt_watch_find_locked(int id, int is_timer)
{
	struct virt_watch *w;

	for (w = virt_watches; w != NULL; w = w->next)
		if (w->id == id && w->is_timer == is_timer && !w->removed)
			return w;
	return NULL;
}

/* Runs from loop_sweep (or loop_free), never inside the remove call
 * (libvirt's rule), and without our lock: ff may call back into libvirt,
 * which may remove other watches. */
static void
virt_watch_free(void *arg)
{
	struct virt_watch *w = arg, **pp;

	pthread_mutex_lock(&virt_event_lock);
	for (pp = &virt_watches; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&virt_event_lock);
	if (w->ff != NULL)
		w->ff(w->opaque);
	free(w);
}

static void
virt_handle_dispatch(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct virt_watch *w = arg;

	(void)l;
	(void)id;
	w->hcb(w->id, fd, virt_vir_events(revents), w->opaque);
}

static void
virt_timeout_dispatch(struct loop *l, int id, void *arg)
{
	struct virt_watch *w = arg;

	(void)l;
	(void)id;
	w->tcb(w->id, w->opaque);
}

/* Register w in the current loop and give it an id; -1 when there is no
 * loop (libvirt then keeps ownership of opaque and carries on without). */
static int
virt_watch_add(struct virt_watch *w, int fd, int events, int timeout)
{
	int id = -1;

	pthread_mutex_lock(&virt_event_lock);
	if (virt_loop != NULL) {
		w->loop = virt_loop;
		w->id = virt_next_id;
		virt_next_id = virt_next_id == INT_MAX ? 1 : virt_next_id + 1;
		/* Linked first: the free callback may run as soon as it is in. */
		w->next = virt_watches;
		virt_watches = w;
		if (w->is_timer)
			w->loop_id = loop_add_timer(virt_loop, timeout, virt_timeout_dispatch, w, virt_watch_free);
		else
			w->loop_id = loop_add_fd(virt_loop, fd, virt_poll_events(events), virt_handle_dispatch, w,
						 virt_watch_free);
		if (w->loop_id < 0)
			virt_watches = w->next;
		else
			id = w->id;
	}
	pthread_mutex_unlock(&virt_event_lock);
	if (id < 0)
		free(w);
	return id;
}

static int
virt_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
	struct virt_watch *w = xcalloc(1, sizeof *w);

	w->hcb = cb;
	w->opaque = opaque;
	w->ff = ff;
	return virt_watch_add(w, fd, events, 0);
}

static void
virt_update_handle(int watch, int events)
{
	struct virt_watch *w;

	pthread_mutex_lock(&virt_event_lock);
	w = virt_watch_find_locked(watch, 0);
	if (w != NULL)
		loop_update_fd(w->loop, w->loop_id, virt_poll_events(events));
	pthread_mutex_unlock(&virt_event_lock);
}

/* -1 for an id that is unknown or already removed. */
static int
virt_remove_watch(int id, int is_timer)
{
	struct virt_watch *w;

	pthread_mutex_lock(&virt_event_lock);
	w = virt_watch_find_locked(id, is_timer);
	if (w != NULL) {
		w->removed = 1;
		if (is_timer)
			loop_remove_timer(w->loop, w->loop_id);
		else
			loop_remove_fd(w->loop, w->loop_id);
	}
	pthread_mutex_unlock(&virt_event_lock);
	return w != NULL ? 0 : -1;
}

static int
virt_remove_handle(int watch)
{
	return virt_remove_watch(watch, 0);
}

static int
virt_add_timeout(int timeout, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	struct virt_watch *w = xcalloc(1, sizeof *w);

	w->is_timer = 1;
	w->tcb = cb;
	w->opaque = opaque;
	w->ff = ff;
	return virt_watch_add(w, -1, 0, timeout);
}

static void
virt_update_timeout(int timer, int timeout)
{
	struct virt_watch *w;

	pthread_mutex_lock(&virt_event_lock);
	w = virt_watch_find_locked(timer, 1);
	if (w != NULL)
		loop_update_timer(w->loop, w->loop_id, timeout);
	pthread_mutex_unlock(&virt_event_lock);
}

static int
virt_remove_timeout(int timer)
{
	return virt_remove_watch(timer, 1);
}

int
virt_event_init(struct loop *loop)
{
	int rc = 0;

	pthread_mutex_lock(&virt_event_lock);
	if (virt_loop == NULL) {
		if (loop == NULL) {
			rc = -1;
		} else if (loop_add_timer(loop, -1, virt_sentinel_never, loop, virt_loop_gone) < 0) {
			rc = -1;
		} else {
			virt_loop = loop;
			if (!virt_impl_registered) {
				virEventRegisterImpl(virt_add_handle, virt_update_handle, virt_remove_handle,
						     virt_add_timeout, virt_update_timeout, virt_remove_timeout);
				virt_impl_registered = 1;
			}
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
