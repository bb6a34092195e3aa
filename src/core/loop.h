/*
 * loop.h - berth's event loop: fd watches and timers over poll(2).
 *
 * One loop per session (usually one per process).  libvirt's event
 * implementation is joined to it
 * (virEventRegisterImpl), so libvirt events, control sockets of berth-vmm and
 * berth-ctr monitors, the TUI's stdin and stats timers all run in one place.
 * Callbacks may add and remove watches and timers, including their own.
 * Not for: threads (it is single-threaded; use loop_wakeup from others).
 */
#ifndef BERTH_LOOP_H
#define BERTH_LOOP_H

#include <poll.h>

struct loop;

/* events/revents are POLLIN/POLLOUT/POLLERR/POLLHUP bits. */
typedef void (*loop_fd_cb)(struct loop *l, int id, int fd, int revents, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, int id, void *arg);
typedef void (*loop_free_cb)(void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Returns a watch id (>0), or -1. free_cb (may be NULL) runs on removal. */
int loop_add_fd(struct loop *l, int fd, int events, loop_fd_cb cb, void *arg, loop_free_cb free_cb);
void loop_update_fd(struct loop *l, int id, int events);
void loop_remove_fd(struct loop *l, int id);

/* interval_ms < 0: disabled; 0: fire on every iteration; >0 period. */
int loop_add_timer(struct loop *l, int interval_ms, loop_timer_cb cb, void *arg, loop_free_cb free_cb);
void loop_update_timer(struct loop *l, int id, int interval_ms);
void loop_remove_timer(struct loop *l, int id);

/* Run one iteration: wait up to timeout_ms (-1 forever) for events or the
 * next timer, dispatch.  Returns the number of callbacks run, -1 on error. */
int loop_run_once(struct loop *l, int timeout_ms);
/* Run until loop_quit(). */
void loop_run(struct loop *l);
void loop_quit(struct loop *l);
int loop_quitting(struct loop *l);
/* Thread-safe: make a blocked loop_run_once return. */
void loop_wakeup(struct loop *l);

/* Whether a watch/timer id is registered and not removed (e.g. for libvirt's
 * removeHandle, which must return -1 for an unknown id). */
int loop_fd_exists(struct loop *l, int id);
int loop_timer_exists(struct loop *l, int id);

#endif
