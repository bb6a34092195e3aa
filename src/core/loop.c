/*
 * loop.c - berth's event loop: fd watches and timers over poll(2).
 *
 * For: one loop per process that libvirt's event implementation, control
 * sockets, the TUI's stdin and periodic timers share.  Watches and timers are
 * kept in arrays and never moved while a dispatch is in progress: removal
 * only marks an entry deleted, and entries are swept (and their free
 * callbacks run) once dispatch is over.  That gives libvirt's
 * virEventRegisterImpl semantics: ids are never reused, a removed watch is
 * never called again, and a free callback never runs from inside the remove
 * call.  Not for: running callbacks on several threads.  The structures are
 * guarded by a mutex (released around callbacks and poll) so that another
 * thread may add/update/remove watches or call loop_wakeup, but every
 * callback runs on the thread that calls loop_run_once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/util.h"

struct loop_watch {
	int id;
	int fd;
	int events;
	int deleted;
	uint64_t polled_gen;	/* last iteration whose poll() included it */
	loop_fd_cb cb;
	void *arg;
	loop_free_cb free_cb;
};

struct loop_timer {
	int id;
	int interval_ms;	/* < 0 disabled, 0 every iteration */
	int deleted;
	int64_t expires_ms;	/* CLOCK_MONOTONIC */
	loop_timer_cb cb;
	void *arg;
	loop_free_cb free_cb;
};

struct loop {
	pthread_mutex_t lock;
	int wake_fd;		/* eventfd written by loop_wakeup */
	int quit;		/* atomic: loop_quit may run in a signal handler */
	int dispatching;	/* > 0 while callbacks may run */
	int polling;		/* blocked in poll(): changes must wake it */
	int need_sweep;
	uint64_t gen;		/* iterations started so far */

	struct loop_watch *watches;
	size_t nwatches, watches_cap;
	int next_watch_id;

	struct loop_timer *timers;
	size_t ntimers, timers_cap;
	int next_timer_id;
};

static int64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ids are never reused (libvirt relies on that); wrap around only after
 * INT_MAX registrations, skipping ids still in use. */
static int
loop_next_id(int *counter)
{
	int id = *counter;

	*counter = id == INT_MAX ? 1 : id + 1;
	return id;
}

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);

	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0) {
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->next_watch_id = 1;
	l->next_timer_id = 1;
	return l;
}

/* Remove deleted entries and run their free callbacks (with the lock
 * released, since a free callback may call back into the loop). */
static void
loop_sweep(struct loop *l)
{
	size_t i, j;

	pthread_mutex_lock(&l->lock);
	while (l->need_sweep && !l->dispatching) {
		l->need_sweep = 0;
		for (i = 0; i < l->nwatches; i++) {
			struct loop_watch w = l->watches[i];

			if (!w.deleted)
				continue;
			for (j = i + 1; j < l->nwatches; j++)
				l->watches[j - 1] = l->watches[j];
			l->nwatches--;
			i--;
			if (w.free_cb) {
				pthread_mutex_unlock(&l->lock);
				w.free_cb(w.arg);
				pthread_mutex_lock(&l->lock);
			}
		}
		for (i = 0; i < l->ntimers; i++) {
			struct loop_timer t = l->timers[i];

			if (!t.deleted)
				continue;
			for (j = i + 1; j < l->ntimers; j++)
				l->timers[j - 1] = l->timers[j];
			l->ntimers--;
			i--;
			if (t.free_cb) {
				pthread_mutex_unlock(&l->lock);
				t.free_cb(t.arg);
				pthread_mutex_lock(&l->lock);
			}
		}
	}
	pthread_mutex_unlock(&l->lock);
}

void
loop_free(struct loop *l)
{
	size_t i;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nwatches; i++)
		l->watches[i].deleted = 1;
	for (i = 0; i < l->ntimers; i++)
		l->timers[i].deleted = 1;
	l->need_sweep = 1;
	l->dispatching = 0;
	pthread_mutex_unlock(&l->lock);
	loop_sweep(l);
	/* A free callback may have registered something new: drop it too. */
	pthread_mutex_lock(&l->lock);
	while (l->nwatches || l->ntimers) {
		for (i = 0; i < l->nwatches; i++)
			l->watches[i].deleted = 1;
		for (i = 0; i < l->ntimers; i++)
			l->timers[i].deleted = 1;
		l->need_sweep = 1;
		pthread_mutex_unlock(&l->lock);
		loop_sweep(l);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_destroy(&l->lock);
	close(l->wake_fd);
	free(l->watches);
	free(l->timers);
	free(l);
}

/* Called with the lock held after a change another thread's poll() must see. */
static void
loop_changed_locked(struct loop *l)
{
	if (l->polling)
		loop_wakeup(l);
}

static struct loop_watch *
loop_find_watch(struct loop *l, int id)
{
	size_t i;

	for (i = 0; i < l->nwatches; i++)
		if (l->watches[i].id == id && !l->watches[i].deleted)
			return &l->watches[i];
	return NULL;
}

static struct loop_timer *
loop_find_timer(struct loop *l, int id)
{
	size_t i;

	for (i = 0; i < l->ntimers; i++)
		if (l->timers[i].id == id && !l->timers[i].deleted)
			return &l->timers[i];
	return NULL;
}

int
loop_add_fd(struct loop *l, int fd, int events, loop_fd_cb cb, void *arg, loop_free_cb free_cb)
{
	struct loop_watch *w;
	int id;

	if (l == NULL || fd < 0 || cb == NULL)
		return -1;
	pthread_mutex_lock(&l->lock);
	if (l->nwatches == l->watches_cap) {
		l->watches_cap = l->watches_cap ? l->watches_cap * 2 : 16;
		l->watches = xrealloc(l->watches, l->watches_cap * sizeof *l->watches);
	}
	do
		id = loop_next_id(&l->next_watch_id);
	while (loop_find_watch(l, id) != NULL);
	w = &l->watches[l->nwatches++];
	w->id = id;
	w->fd = fd;
	w->events = events & (POLLIN | POLLOUT | POLLPRI);
	w->deleted = 0;
	w->polled_gen = 0;
	w->cb = cb;
	w->arg = arg;
	w->free_cb = free_cb;
	loop_changed_locked(l);
	pthread_mutex_unlock(&l->lock);
	return id;
}

void
loop_update_fd(struct loop *l, int id, int events)
{
	struct loop_watch *w;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	w = loop_find_watch(l, id);
	if (w != NULL) {
		w->events = events & (POLLIN | POLLOUT | POLLPRI);
		loop_changed_locked(l);
	}
	pthread_mutex_unlock(&l->lock);
}

void
loop_remove_fd(struct loop *l, int id)
{
	struct loop_watch *w;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	w = loop_find_watch(l, id);
	if (w != NULL) {
		w->deleted = 1;
		l->need_sweep = 1;
		loop_changed_locked(l);
	}
	pthread_mutex_unlock(&l->lock);
}

int
loop_add_timer(struct loop *l, int interval_ms, loop_timer_cb cb, void *arg, loop_free_cb free_cb)
{
	struct loop_timer *t;
	int id;

	if (l == NULL || cb == NULL)
		return -1;
	pthread_mutex_lock(&l->lock);
	if (l->ntimers == l->timers_cap) {
		l->timers_cap = l->timers_cap ? l->timers_cap * 2 : 16;
		l->timers = xrealloc(l->timers, l->timers_cap * sizeof *l->timers);
	}
	do
		id = loop_next_id(&l->next_timer_id);
	while (loop_find_timer(l, id) != NULL);
	t = &l->timers[l->ntimers++];
	t->id = id;
	t->interval_ms = interval_ms < 0 ? -1 : interval_ms;
	t->deleted = 0;
	t->expires_ms = loop_now_ms() + (interval_ms > 0 ? interval_ms : 0);
	t->cb = cb;
	t->arg = arg;
	t->free_cb = free_cb;
	loop_changed_locked(l);
	pthread_mutex_unlock(&l->lock);
	return id;
}

/* As libvirt's updateTimeout: the period restarts from now. */
void
loop_update_timer(struct loop *l, int id, int interval_ms)
{
	struct loop_timer *t;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	t = loop_find_timer(l, id);
	if (t != NULL) {
		t->interval_ms = interval_ms < 0 ? -1 : interval_ms;
		t->expires_ms = loop_now_ms() + (interval_ms > 0 ? interval_ms : 0);
		loop_changed_locked(l);
	}
	pthread_mutex_unlock(&l->lock);
}

void
loop_remove_timer(struct loop *l, int id)
{
	struct loop_timer *t;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	t = loop_find_timer(l, id);
	if (t != NULL) {
		t->deleted = 1;
		l->need_sweep = 1;
		loop_changed_locked(l);
	}
	pthread_mutex_unlock(&l->lock);
}

/* Milliseconds until the next timer is due (0: now), -1 if none; lock held. */
static int
loop_next_timeout_locked(struct loop *l, int64_t now)
{
	int64_t best = -1;
	size_t i;

	for (i = 0; i < l->ntimers; i++) {
		const struct loop_timer *t = &l->timers[i];
		int64_t left;

		if (t->deleted || t->interval_ms < 0)
			continue;
		left = t->interval_ms == 0 ? 0 : t->expires_ms - now;
		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	if (best > INT_MAX)
		best = INT_MAX;
	return (int)best;
}

/* One iteration's poll set.  It lives on the caller's stack frame (not in
 * struct loop) so that a callback may run a nested loop_run_once. */
struct loop_pollset {
	uint64_t gen;
	struct pollfd *pfds;
	size_t *watch_index;	/* pfds[i] belongs to watches[watch_index[i]] */
	size_t n;
};

/* Build the poll set: slot 0 is the wakeup eventfd; watches that ask for no
 * events are left out (poll would still report HUP/ERR for them). */
static void
loop_make_pollset_locked(struct loop *l, struct loop_pollset *ps)
{
	size_t i, n = 0;

	ps->gen = ++l->gen;
	ps->pfds = xmalloc((l->nwatches + 1) * sizeof *ps->pfds);
	ps->watch_index = xmalloc((l->nwatches + 1) * sizeof *ps->watch_index);
	ps->pfds[n].fd = l->wake_fd;
	ps->pfds[n].events = POLLIN;
	ps->pfds[n].revents = 0;
	ps->watch_index[n] = 0;
	n++;
	for (i = 0; i < l->nwatches; i++) {
		struct loop_watch *w = &l->watches[i];

		if (w->deleted || w->events == 0)
			continue;
		w->polled_gen = ps->gen;
		ps->pfds[n].fd = w->fd;
		ps->pfds[n].events = (short)w->events;
		ps->pfds[n].revents = 0;
		ps->watch_index[n] = i;
		n++;
	}
	ps->n = n;
}

static void
loop_drain_wakeup(struct loop *l)
{
	uint64_t v;

	while (read(l->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
		;
}

/* Run the timers that are due.  Timers added by a callback wait for the next
 * iteration (the count is taken before dispatch).  Lock held on entry/exit. */
static int
loop_dispatch_timers_locked(struct loop *l)
{
	size_t i, n = l->ntimers;
	int64_t now = loop_now_ms();
	int ran = 0;

	for (i = 0; i < n; i++) {
		struct loop_timer *t = &l->timers[i];
		loop_timer_cb cb;
		void *arg;
		int id;

		if (t->deleted || t->interval_ms < 0)
			continue;
		if (t->interval_ms > 0 && t->expires_ms > now)
			continue;
		t->expires_ms = now + t->interval_ms;
		cb = t->cb;
		arg = t->arg;
		id = t->id;
		pthread_mutex_unlock(&l->lock);
		cb(l, id, arg);
		pthread_mutex_lock(&l->lock);
		ran++;
	}
	return ran;
}

/* Run fd callbacks for what poll() reported.  Entries are only appended
 * during dispatch, so watch indices stay valid; a watch removed by an
 * earlier callback in this round is skipped.  Lock held on entry/exit. */
static int
loop_dispatch_fds_locked(struct loop *l, const struct loop_pollset *ps, uint64_t gen)
{
	size_t i;
	int ran = 0;

	for (i = 1; i < ps->n; i++) {
		struct loop_watch *w;
		loop_fd_cb cb;
		void *arg;
		int revents, id, fd;

		if (ps->pfds[i].revents == 0)
			continue;
		w = &l->watches[ps->watch_index[i]];
		/* Skip it if a nested loop_run_once (called from an earlier
		 * callback) polled it after us: it ran it or found it not ready,
		 * either way our revents are stale. */
		if (w->deleted || w->polled_gen > gen)
			continue;
		revents = ps->pfds[i].revents;
		if (revents & POLLNVAL)
			revents |= POLLERR;
		/* The callback may have narrowed its events since poll(). */
		revents &= w->events | POLLERR | POLLHUP | POLLNVAL;
		if (revents == 0)
			continue;
		cb = w->cb;
		arg = w->arg;
		id = w->id;
		fd = w->fd;
		pthread_mutex_unlock(&l->lock);
		cb(l, id, fd, revents, arg);
		pthread_mutex_lock(&l->lock);
		ran++;
	}
	return ran;
}

int
loop_run_once(struct loop *l, int timeout_ms)
{
	struct loop_pollset ps;
	int wait_ms, timer_ms, r, ran = 0;

	if (l == NULL)
		return -1;
	loop_sweep(l);
	pthread_mutex_lock(&l->lock);
	loop_make_pollset_locked(l, &ps);
	timer_ms = loop_next_timeout_locked(l, loop_now_ms());
	wait_ms = timeout_ms;
	if (timer_ms >= 0 && (wait_ms < 0 || timer_ms < wait_ms))
		wait_ms = timer_ms;
	l->polling = 1;
	pthread_mutex_unlock(&l->lock);

	r = poll(ps.pfds, ps.n, wait_ms);

	pthread_mutex_lock(&l->lock);
	l->polling = 0;
	if (r < 0) {
		int saved = errno;

		pthread_mutex_unlock(&l->lock);
		free(ps.pfds);
		free(ps.watch_index);
		if (saved == EINTR)
			return 0;
		errno = saved;
		return -1;
	}
	if (ps.pfds[0].revents)
		loop_drain_wakeup(l);
	l->dispatching++;
	ran += loop_dispatch_timers_locked(l);
	if (r > 0)
		ran += loop_dispatch_fds_locked(l, &ps, ps.gen);
	l->dispatching--;
	pthread_mutex_unlock(&l->lock);
	free(ps.pfds);
	free(ps.watch_index);
	loop_sweep(l);
	return ran;
}

void
loop_run(struct loop *l)
{
	if (l == NULL)
		return;
	while (!loop_quitting(l))
		if (loop_run_once(l, -1) < 0 && errno != EINTR)
			break;
}

/* Sticky: once set, loop_run returns (a blocked poll is woken up).
 * Thread-safe and async-signal-safe (no lock, one atomic store, a write). */
void
loop_quit(struct loop *l)
{
	if (l == NULL)
		return;
	__atomic_store_n(&l->quit, 1, __ATOMIC_SEQ_CST);
	loop_wakeup(l);
}

int
loop_quitting(struct loop *l)
{
	if (l == NULL)
		return 1;
	return __atomic_load_n(&l->quit, __ATOMIC_SEQ_CST);
}

int
loop_fd_exists(struct loop *l, int id)
{
	int found;

	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->lock);
	found = loop_find_watch(l, id) != NULL;
	pthread_mutex_unlock(&l->lock);
	return found;
}

int
loop_timer_exists(struct loop *l, int id)
{
	int found;

	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->lock);
	found = loop_find_timer(l, id) != NULL;
	pthread_mutex_unlock(&l->lock);
	return found;
}

/* Async-signal-safe and thread-safe: only a write(2) to the eventfd. */
void
loop_wakeup(struct loop *l)
{
	uint64_t one = 1;
	int saved = errno;

	if (l == NULL)
		return;
	if (write(l->wake_fd, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is already non-zero, the loop will wake. */
	}
	errno = saved;
}
