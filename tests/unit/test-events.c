/*
 * test-events.c - the event bus: type filters and "*", delivery order,
 * unsubscribing oneself or another from inside a callback, subscribing
 * during delivery (and growing the table under the loop), nested publish.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/events.h"
#include "tap.h"

static char log_buf[512];

static void
note(const struct berth_event *ev, void *arg)
{
	size_t n = strlen(log_buf);

	snprintf(log_buf + n, sizeof log_buf - n, "%s%s:%s", n ? " " : "", (const char *)arg,
		 ev->instance ? ev->instance : "-");
}

static struct evbus *bus;
static int victim_id, self_id, grow_count;

static void
unsub_self(const struct berth_event *ev, void *arg)
{
	note(ev, arg);
	evbus_unsubscribe(bus, self_id);
}

static void
unsub_victim(const struct berth_event *ev, void *arg)
{
	note(ev, arg);
	evbus_unsubscribe(bus, victim_id);
}

static void
subscribe_many(const struct berth_event *ev, void *arg)
{
	int i;

	note(ev, arg);
	if (grow_count++ == 0)
		for (i = 0; i < 100; i++)	/* forces the table to be reallocated */
			evbus_subscribe(bus, "never", note, "x");
	evbus_subscribe(bus, "state", note, "late");
}

static void
republish(const struct berth_event *ev, void *arg)
{
	struct berth_event inner = { .type = "inner", .instance = "in" };

	note(ev, arg);
	if (strcmp(ev->type, "outer") == 0) {
		evbus_unsubscribe(bus, self_id);	/* during a nested delivery too */
		evbus_publish(bus, &inner);
	}
}

int
main(void)
{
	struct berth_event st = { .type = "state", .instance = "a" };
	struct berth_event def = { .type = "defined", .instance = "b" };
	struct berth_event untyped = { .type = NULL, .instance = "c" };
	int id1, id2;

	bus = evbus_new();
	id1 = evbus_subscribe(bus, "state", note, "s1");
	id2 = evbus_subscribe(bus, NULL, note, "all");
	ok(id1 > 0 && id2 > id1, "subscription ids are positive and distinct");
	evbus_subscribe(bus, "state", note, "s2");
	evbus_publish(bus, &st);
	is_str(log_buf, "s1:a all:a s2:a", "a state event reaches its subscribers in subscription order");
	log_buf[0] = '\0';
	evbus_publish(bus, &def);
	is_str(log_buf, "all:b", "another type reaches only the wildcard (NULL is \"*\")");
	log_buf[0] = '\0';
	evbus_publish(bus, &untyped);
	is_str(log_buf, "all:c", "an event without a type reaches only the wildcard");
	evbus_unsubscribe(bus, id1);
	evbus_unsubscribe(bus, id1);
	evbus_unsubscribe(bus, 12345);
	log_buf[0] = '\0';
	evbus_publish(bus, &st);
	is_str(log_buf, "all:a s2:a", "unsubscribed (twice, and an unknown id) stops delivery and nothing else");
	evbus_free(bus);

	/* Unsubscribing from inside a callback. */
	bus = evbus_new();
	self_id = evbus_subscribe(bus, "state", unsub_self, "self");
	evbus_subscribe(bus, "state", unsub_victim, "killer");
	victim_id = evbus_subscribe(bus, "state", note, "victim");
	evbus_subscribe(bus, "state", note, "after");
	log_buf[0] = '\0';
	evbus_publish(bus, &st);
	is_str(log_buf, "self:a killer:a after:a",
	       "a callback may unsubscribe itself; one unsubscribed by an earlier callback gets nothing");
	log_buf[0] = '\0';
	evbus_publish(bus, &st);
	is_str(log_buf, "killer:a after:a", "both stay unsubscribed afterwards");
	evbus_free(bus);

	/* Subscribing during delivery, with the table growing under the loop. */
	bus = evbus_new();
	evbus_subscribe(bus, "state", subscribe_many, "grow");
	evbus_subscribe(bus, "state", note, "next");
	log_buf[0] = '\0';
	evbus_publish(bus, &st);
	is_str(log_buf, "grow:a next:a", "subscribers added during delivery wait for the next event");
	log_buf[0] = '\0';
	evbus_publish(bus, &st);
	is_str(log_buf, "grow:a next:a late:a", "... and get it");
	evbus_free(bus);

	/* Publishing from inside a callback. */
	bus = evbus_new();
	evbus_subscribe(bus, "*", note, "w");
	self_id = evbus_subscribe(bus, "*", republish, "re");
	evbus_subscribe(bus, "*", note, "z");
	log_buf[0] = '\0';
	{
		struct berth_event outer = { .type = "outer", .instance = "out" };

		evbus_publish(bus, &outer);
		is_str(log_buf, "w:out re:out w:in z:in z:out",
		       "a nested publish is delivered whole, then the outer one goes on");
		log_buf[0] = '\0';
		evbus_publish(bus, &outer);
		is_str(log_buf, "w:out z:out", "an unsubscribe inside a nested delivery holds");
	}
	evbus_free(bus);
	evbus_free(NULL);
	ok(1, "evbus_free(NULL) is harmless");
	return tap_done();
}
