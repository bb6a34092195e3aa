/*
 * events.c - the in-process event bus: subscribe by type, publish in order.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/util.h"

struct evsub {
	int id;
	char *type;
	evbus_cb cb;
	void *arg;
	int dead;
};

struct evbus {
	struct evsub *subs;
	size_t n, cap;
	int next_id;
	int depth;		/* publish nesting: sweep only at the outermost */
};

struct evbus *
evbus_new(void)
{
	struct evbus *b = xcalloc(1, sizeof *b);

	b->next_id = 1;
	return b;
}

void
evbus_free(struct evbus *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		free(b->subs[i].type);
	free(b->subs);
	free(b);
}

int
evbus_subscribe(struct evbus *b, const char *type, evbus_cb cb, void *arg)
{
	struct evsub *s;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->subs = xrealloc(b->subs, b->cap * sizeof *b->subs);
	}
	s = &b->subs[b->n++];
	s->id = b->next_id++;
	s->type = xstrdup(type ? type : "*");
	s->cb = cb;
	s->arg = arg;
	s->dead = 0;
	return s->id;
}

static void
evbus_sweep(struct evbus *b)
{
	size_t i, j = 0;

	for (i = 0; i < b->n; i++) {
		if (b->subs[i].dead) {
			free(b->subs[i].type);
			continue;
		}
		b->subs[j++] = b->subs[i];
	}
	b->n = j;
}

void
evbus_unsubscribe(struct evbus *b, int id)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->subs[i].id == id)
			b->subs[i].dead = 1;
	if (b->depth == 0)
		evbus_sweep(b);
}

void
evbus_publish(struct evbus *b, const struct berth_event *ev)
{
	size_t i, n = b->n;	/* subscribers added during delivery wait for the next event */

	b->depth++;
	for (i = 0; i < n; i++) {
		struct evsub *s = &b->subs[i];

		if (s->dead)
			continue;
		if (strcmp(s->type, "*") != 0 && (ev->type == NULL || strcmp(s->type, ev->type) != 0))
			continue;
		s->cb(ev, s->arg);
	}
	if (--b->depth == 0)
		evbus_sweep(b);
}
