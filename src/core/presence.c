/*
 * presence.c - the difference between two scans of a backend's instances,
 * as events.  See presence.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/presence.h"
#include "core/util.h"

struct presence {
	struct smap *prev;	/* name -> flags of the last committed scan */
	struct smap *cur;	/* name -> flags of the scan in progress */
	int have_prev;		/* a scan was committed */
};

struct presence *
presence_new(void)
{
	struct presence *p = xcalloc(1, sizeof *p);

	p->prev = smap_new(NULL);
	p->cur = smap_new(NULL);
	return p;
}

void
presence_free(struct presence *p)
{
	if (p == NULL)
		return;
	smap_free(p->prev);
	smap_free(p->cur);
	free(p);
}

/* Flags live in the map's value pointer, offset by one so that a known
 * name is never NULL. */
static unsigned
flags_of(const struct smap *m, const char *name)
{
	void *v = smap_get(m, name);

	return v == NULL ? 0 : (unsigned)((uintptr_t)v - 1);
}

void
presence_mark(struct presence *p, const char *name, unsigned flags)
{
	flags |= flags_of(p->cur, name);
	smap_set(p->cur, name, (void *)(uintptr_t)(flags + 1));
}

void
presence_note(struct presence *p, const char *name, unsigned set, unsigned clear)
{
	if (p == NULL || !p->have_prev)
		return;
	smap_set(p->prev, name, (void *)(uintptr_t)(((flags_of(p->prev, name) | set) & ~clear) + 1));
}

struct pending {
	char *name;
	const char *type;
};

void
presence_commit(struct presence *p, struct bconn *c, backend_event_cb cb, void *arg)
{
	struct pending *ev = NULL;
	size_t nev = 0, cap = 0, i;
	const char *name;
	void *v;

	/* Collect first, deliver after the maps are settled: a handler may
	 * well scan again. */
#define PENDING(n, t) do { \
		if (nev == cap) { \
			cap = cap ? cap * 2 : 8; \
			ev = xrealloc(ev, cap * sizeof *ev); \
		} \
		ev[nev].name = xstrdup(n); \
		ev[nev++].type = (t); \
	} while (0)
	if (p->have_prev && cb != NULL) {
		for (i = 0; smap_next(p->cur, &i, &name, &v);) {
			unsigned now = flags_of(p->cur, name), then = flags_of(p->prev, name);

			if ((now & PRESENCE_DEFINED) && !(then & PRESENCE_DEFINED))
				PENDING(name, "defined");
			if ((now & PRESENCE_RUNNING) && !(then & PRESENCE_RUNNING))
				PENDING(name, "state");
		}
		for (i = 0; smap_next(p->prev, &i, &name, &v);)
			if ((flags_of(p->prev, name) & PRESENCE_DEFINED) &&
			    !(flags_of(p->cur, name) & PRESENCE_DEFINED))
				PENDING(name, "undefined");
	}
#undef PENDING
	smap_free(p->prev);
	p->prev = p->cur;
	p->cur = smap_new(NULL);
	p->have_prev = 1;
	for (i = 0; i < nev; i++) {
		struct backend_event be = { .conn = c, .inst_name = ev[i].name, .type = ev[i].type };

		if (strcmp(ev[i].type, "state") == 0) {
			be.state = INST_RUNNING;
			be.detail = "seen running";
		}
		cb(&be, arg);
		free(ev[i].name);
	}
	free(ev);
}
