/*
 * test-loop.c - the event loop: timers, fd watches, changes made from inside
 * callbacks (libvirt's virEventRegisterImpl rules), wakeup and quit.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/util.h"
#include "tap.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ timers */

struct tick {
	int count;
	int64_t first_ms, last_ms;
	int remove_self_at;	/* remove own timer on this count */
	int other_id;		/* timer to remove from the callback */
	int quit_at;
};

static void
tick_cb(struct loop *l, int id, void *arg)
{
	struct tick *t = arg;

	t->count++;
	if (t->count == 1)
		t->first_ms = mono_ms();
	t->last_ms = mono_ms();
	if (t->remove_self_at && t->count == t->remove_self_at)
		loop_remove_timer(l, id);
	if (t->other_id > 0) {
		loop_remove_timer(l, t->other_id);
		t->other_id = 0;
	}
	if (t->quit_at && t->count == t->quit_at)
		loop_quit(l);
}

static int freed_count;
static void
count_free(void *arg)
{
	int *flag = arg;

	if (flag)
		(*flag)++;
	freed_count++;
}

static void
test_timers(void)
{
	struct loop *l = loop_new();
	struct tick a = { 0 }, zero = { 0 }, off = { 0 };
	int64_t start, deadline;
	int ida, idz, ido;

	ok(l != NULL, "loop_new works");
	start = mono_ms();
	ida = loop_add_timer(l, 30, tick_cb, &a, NULL);
	ok(ida > 0, "loop_add_timer returns an id > 0");
	deadline = start + 2000;
	while (a.count < 3 && mono_ms() < deadline)
		loop_run_once(l, 1000);
	is_int(a.count, 3, "a 30 ms timer fires repeatedly");
	ok(a.first_ms - start >= 30, "the first firing waits for the interval");
	ok(a.last_ms - start >= 90, "three firings of a 30 ms timer take at least 90 ms");
	ok(a.last_ms - start < 1000, "and not much longer (poll timeout follows the timer)");
	loop_remove_timer(l, ida);

	idz = loop_add_timer(l, 0, tick_cb, &zero, NULL);
	ido = loop_add_timer(l, -1, tick_cb, &off, NULL);
	loop_run_once(l, 1000);
	loop_run_once(l, 1000);
	loop_run_once(l, 1000);
	is_int(zero.count, 3, "an interval 0 timer fires on every iteration without waiting");
	is_int(off.count, 0, "a disabled timer (-1) never fires");
	loop_update_timer(l, idz, -1);
	loop_update_timer(l, ido, 0);
	loop_run_once(l, 0);
	is_int(zero.count, 3, "loop_update_timer(-1) disables a timer");
	is_int(off.count, 1, "loop_update_timer(0) enables a disabled timer");
	loop_remove_timer(l, idz);
	loop_remove_timer(l, ido);

	/* A timer removing itself and another due timer in the same round. */
	{
		struct tick self = { .remove_self_at = 1 }, victim = { 0 }, killer = { 0 };
		int idv, idk;

		loop_add_timer(l, 0, tick_cb, &self, NULL);
		idk = loop_add_timer(l, 0, tick_cb, &killer, NULL);
		idv = loop_add_timer(l, 0, tick_cb, &victim, NULL);
		killer.other_id = idv;
		loop_run_once(l, 0);
		loop_run_once(l, 0);
		is_int(self.count, 1, "a timer that removes itself does not fire again");
		is_int(victim.count, 0, "a timer removed by an earlier callback in the same round is not called");
		loop_remove_timer(l, idk);
	}

	/* A timer's period restarts on update (libvirt's updateTimeout). */
	{
		struct tick r = { 0 };
		int idr = loop_add_timer(l, 200, tick_cb, &r, NULL);
		int64_t t0 = mono_ms();

		loop_run_once(l, 50);
		loop_update_timer(l, idr, 40);
		while (r.count == 0 && mono_ms() - t0 < 2000)
			loop_run_once(l, 1000);
		ok(r.count == 1 && r.first_ms - t0 < 190, "loop_update_timer changes the period of a pending timer");
		loop_remove_timer(l, idr);
	}
	loop_free(l);
}

/* --------------------------------------------------------------- fd watches */

struct watch {
	int calls;
	int last_id, last_fd, last_revents;
	int remove_id;		/* remove this watch from the callback */
	int *free_flag_of_removed;
	int free_seen_in_cb;	/* free flag value right after removing */
	int remove_self;
	int add_fd;		/* add a watch on this fd from the callback */
	struct watch *added;
	int added_id;
	int nested;		/* run a nested loop_run_once */
	int drain;
	int freed;		/* times its free callback ran */
};

static void
watch_free(void *arg)
{
	struct watch *w = arg;

	w->freed++;
}

static void
watch_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct watch *w = arg;
	char buf[64];

	w->calls++;
	w->last_id = id;
	w->last_fd = fd;
	w->last_revents = revents;
	if (w->drain && (revents & POLLIN)) {
		if (read(fd, buf, sizeof buf) < 0) {
			/* nothing to drain */
		}
	}
	if (w->remove_id > 0) {
		loop_remove_fd(l, w->remove_id);
		if (w->free_flag_of_removed)
			w->free_seen_in_cb = *w->free_flag_of_removed;
		w->remove_id = 0;
	}
	if (w->remove_self)
		loop_remove_fd(l, id);
	if (w->add_fd >= 0 && w->added != NULL) {
		w->added_id = loop_add_fd(l, w->add_fd, POLLIN, watch_cb, w->added, NULL);
		w->add_fd = -1;
	}
	if (w->nested) {
		w->nested = 0;
		loop_run_once(l, 0);
	}
}

static void
count_free_int(void *arg)
{
	watch_free(arg);
}

static void
test_fds(void)
{
	struct loop *l = loop_new();
	int p[2], q[2];
	struct watch a = { .add_fd = -1, .drain = 1 }, b = { .add_fd = -1, .drain = 1 };
	int ida, idb, freed_b = 0;

	if (pipe2(p, O_NONBLOCK) < 0 || pipe2(q, O_NONBLOCK) < 0)
		abort();
	ida = loop_add_fd(l, p[0], POLLIN, watch_cb, &a, NULL);
	ok(ida > 0, "loop_add_fd returns an id > 0");
	is_int(loop_run_once(l, 0), 0, "nothing readable: no callback runs");
	if (write(p[1], "x", 1) != 1)
		abort();
	is_int(loop_run_once(l, 1000), 1, "loop_run_once returns the number of callbacks run");
	is_int(a.calls, 1, "a readable fd runs its callback");
	is_int(a.last_id, ida, "the callback gets its watch id");
	is_int(a.last_fd, p[0], "the callback gets its fd");
	ok(a.last_revents & POLLIN, "revents has POLLIN");

	loop_update_fd(l, ida, 0);
	if (write(p[1], "x", 1) != 1)
		abort();
	loop_run_once(l, 0);
	is_int(a.calls, 1, "a watch updated to no events is not called");
	loop_update_fd(l, ida, POLLIN);
	loop_run_once(l, 0);
	is_int(a.calls, 2, "and is called again once POLLIN is back");

	idb = loop_add_fd(l, q[1], POLLOUT, watch_cb, &b, NULL);
	loop_run_once(l, 0);
	ok(b.calls == 1 && (b.last_revents & POLLOUT), "a writable fd runs a POLLOUT watch");
	loop_remove_fd(l, idb);

	/* Removal of another ready watch from inside a callback. */
	{
		struct watch x = { .add_fd = -1, .drain = 1 }, y = { .add_fd = -1, .drain = 1 };
		int r[2], idx, idy, idy_old;

		if (pipe2(r, O_NONBLOCK) < 0)
			abort();
		idx = loop_add_fd(l, q[0], POLLIN, watch_cb, &x, NULL);
		idy_old = loop_add_fd(l, r[0], POLLIN, watch_cb, &y, NULL);
		loop_remove_fd(l, idy_old);
		loop_run_once(l, 0);
		idy = loop_add_fd(l, r[0], POLLIN, watch_cb, &y, watch_free);
		ok(idy > 0 && idy != idy_old, "ids of removed watches are not reused");
		x.remove_id = idy;
		x.free_flag_of_removed = &y.freed;
		if (write(q[1], "x", 1) != 1 || write(r[1], "x", 1) != 1)
			abort();
		loop_run_once(l, 1000);
		is_int(x.calls, 1, "the first ready watch runs");
		is_int(y.calls, 0, "a ready watch removed by an earlier callback in the round is not called");
		is_int(y.freed, 1, "the removed watch's free callback ran after dispatch");
		is_int(x.free_seen_in_cb, 0, "but not from inside loop_remove_fd during dispatch");
		loop_run_once(l, 0);
		is_int(y.calls, 0, "a removed watch is never called, even with data pending");
		loop_remove_fd(l, idx);
		close(r[0]);
		close(r[1]);
	}

	/* Removing one's own watch; free callback runs once, after dispatch. */
	{
		struct watch s = { .add_fd = -1, .remove_self = 1 };

		loop_add_fd(l, q[0], POLLIN, watch_cb, &s, watch_free);
		loop_add_fd(l, q[0], POLLIN, watch_cb, &s, watch_free);
		if (write(q[1], "x", 1) != 1)
			abort();
		loop_run_once(l, 1000);
		loop_run_once(l, 0);
		is_int(s.calls, 2, "two watches on one fd both run, then remove themselves for good");
		is_int(s.freed, 2, "each self-removed watch is freed once");
		{
			char buf[8];

			if (read(q[0], buf, sizeof buf) < 0)
				abort();
		}
	}

	/* Adding a watch from a callback: not dispatched in the same round. */
	{
		struct watch adder = { .drain = 1 }, added = { .add_fd = -1 };
		int idadd;

		adder.add_fd = p[0];
		adder.added = &added;
		loop_update_fd(l, ida, 0);
		idadd = loop_add_fd(l, q[0], POLLIN, watch_cb, &adder, NULL);
		if (write(q[1], "x", 1) != 1 || write(p[1], "x", 1) != 1)
			abort();
		loop_run_once(l, 1000);
		is_int(added.calls, 0, "a watch added during dispatch waits for the next iteration");
		loop_run_once(l, 1000);
		is_int(added.calls, 1, "and runs in the next one");
		loop_remove_fd(l, adder.added_id);
		loop_remove_fd(l, idadd);
		loop_update_fd(l, ida, POLLIN);
		{
			char buf[8];

			if (read(p[0], buf, sizeof buf) < 0)
				abort();
		}
	}

	/* A nested loop_run_once inside a callback does not upset the outer round. */
	{
		struct watch n1 = { .add_fd = -1, .nested = 1, .drain = 1 }, n2 = { .add_fd = -1, .drain = 1 };
		int r[2], id1, id2;

		if (pipe2(r, O_NONBLOCK) < 0)
			abort();
		id1 = loop_add_fd(l, q[0], POLLIN, watch_cb, &n1, NULL);
		id2 = loop_add_fd(l, r[0], POLLIN, watch_cb, &n2, NULL);
		if (write(q[1], "x", 1) != 1 || write(r[1], "x", 1) != 1)
			abort();
		loop_run_once(l, 1000);
		ok(n1.calls == 1 && n2.calls == 1, "a nested loop_run_once in a callback runs each ready watch once");
		loop_remove_fd(l, id1);
		loop_remove_fd(l, id2);
		close(r[0]);
		close(r[1]);
	}

	/* Removal outside dispatch: free runs later, not inside the call. */
	{
		int id = loop_add_fd(l, q[0], POLLIN, watch_cb, &a, NULL);
		int idf = loop_add_timer(l, -1, tick_cb, NULL, count_free);

		loop_remove_fd(l, id);
		freed_count = 0;
		loop_remove_timer(l, idf);
		ok(!loop_fd_exists(l, id) && !loop_timer_exists(l, idf), "removed ids no longer exist");
		ok(loop_fd_exists(l, ida) && !loop_fd_exists(l, 9999), "loop_fd_exists knows live and unknown ids");
		is_int(freed_count, 0, "a free callback never runs inside loop_remove_*");
		loop_run_once(l, 0);
		is_int(freed_count, 1, "it runs from the next loop iteration");
	}

	/* Hang-up is reported even when only POLLIN was asked. */
	{
		struct watch h = { .add_fd = -1, .drain = 1 };
		int r[2], idh;

		if (pipe2(r, O_NONBLOCK) < 0)
			abort();
		idh = loop_add_fd(l, r[0], POLLIN, watch_cb, &h, NULL);
		close(r[1]);
		loop_run_once(l, 1000);
		ok(h.calls == 1 && (h.last_revents & POLLHUP), "a closed writer gives POLLHUP");
		loop_remove_fd(l, idh);
		close(r[0]);
	}

	/* Unremoved watches and timers get their free callbacks from loop_free. */
	loop_remove_fd(l, ida);
	loop_add_fd(l, p[0], POLLIN, watch_cb, &a, NULL);
	loop_add_fd(l, p[0], POLLIN, watch_cb, &b, count_free_int);
	loop_add_timer(l, 1000, tick_cb, &freed_b, count_free);
	b.calls = 0;
	loop_free(l);
	is_int(freed_b + b.freed, 2, "loop_free runs the free callbacks of what is left");
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* --------------------------------------------------------- wakeup and quit */

static void *
wake_thread(void *arg)
{
	struct loop *l = arg;
	struct timespec ts = { 0, 100 * 1000000 };

	nanosleep(&ts, NULL);
	loop_wakeup(l);
	return NULL;
}

struct adder_arg {
	struct loop *l;
	struct tick *t;
};

static void *
add_thread(void *arg)
{
	struct adder_arg *a = arg;
	struct timespec ts = { 0, 100 * 1000000 };

	nanosleep(&ts, NULL);
	loop_add_timer(a->l, 0, tick_cb, a->t, NULL);
	return NULL;
}

static struct loop *sig_loop;

static void
quit_on_signal(int sig)
{
	loop_quit(sig_loop);
}

static void
test_wakeup(void)
{
	struct loop *l = loop_new();
	struct tick q = { .quit_at = 3 };
	pthread_t th;
	int64_t t0;
	int r;

	t0 = mono_ms();
	pthread_create(&th, NULL, wake_thread, l);
	r = loop_run_once(l, 5000);
	pthread_join(th, NULL);
	ok(mono_ms() - t0 < 2000, "loop_wakeup from another thread ends a blocked loop_run_once");
	is_int(r, 0, "a wakeup alone runs no callback");

	{
		struct tick added = { 0 };
		struct adder_arg aa = { l, &added };

		t0 = mono_ms();
		pthread_create(&th, NULL, add_thread, &aa);
		loop_run_once(l, 5000);
		pthread_join(th, NULL);
		ok(mono_ms() - t0 < 2000, "a timer added from another thread wakes the loop");
		loop_run_once(l, 0);
		ok(added.count >= 1, "and fires");
	}

	loop_free(l);
	l = loop_new();
	loop_add_timer(l, 5, tick_cb, &q, NULL);
	ok(!loop_quitting(l), "a new loop is not quitting");
	t0 = mono_ms();
	loop_run(l);
	is_int(q.count, 3, "loop_run runs until a callback calls loop_quit");
	ok(loop_quitting(l), "loop_quitting says so afterwards");
	loop_free(l);

	/* loop_quit from a signal handler (async-signal-safe). */
	l = loop_new();
	sig_loop = l;
	signal(SIGALRM, quit_on_signal);
	{
		struct itimerval it = { .it_value = { 0, 100 * 1000 } };

		setitimer(ITIMER_REAL, &it, NULL);
	}
	t0 = mono_ms();
	loop_run(l);
	ok(mono_ms() - t0 < 5000 && loop_quitting(l), "loop_quit from a signal handler stops loop_run");
	signal(SIGALRM, SIG_DFL);
	alarm(60);
	loop_free(l);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	test_timers();
	test_fds();
	test_wakeup();
	return tap_done();
}
