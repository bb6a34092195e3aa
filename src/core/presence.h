/*
 * presence.h - what a scanning backend saw at its last look: which
 * instances are defined and which run, and the events that describe the
 * difference to the next look.
 *
 * For: backends that learn of changes other programs make (a container
 * defined or started from another shell) by scanning their directories
 * (kvm, container), so that their event stream covers those changes as a
 * daemon's would.  Not for: libvirt, whose daemon sends its own events.
 */
#ifndef BERTH_PRESENCE_H
#define BERTH_PRESENCE_H

#include "core/backend.h"

#define PRESENCE_DEFINED 1u	/* has a definition */
#define PRESENCE_RUNNING 2u	/* has a live control socket */

struct presence;

struct presence *presence_new(void);
void presence_free(struct presence *p);
/* Note what this scan found of `name' (flags are or-ed). */
void presence_mark(struct presence *p, const char *name, unsigned flags);
/* What the backend did itself and has reported already: adjust the last
 * scan so the next one does not report it again. */
void presence_note(struct presence *p, const char *name, unsigned set, unsigned clear);
/* End the scan.  For each instance whose flags differ from the previous
 * scan, call cb: "defined" / "undefined" when its definition appeared or
 * went, a "state" event (running, "seen running") when it began to run.
 * Stops are not reported here: the backend's watch of a running instance
 * reports them as they happen.  The first scan only sets the baseline. */
void presence_commit(struct presence *p, struct bconn *c, backend_event_cb cb, void *arg);

#endif
