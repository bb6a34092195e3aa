/*
 * events.h - the in-process event bus.
 *
 * Backends' events (state changes, consoles, definitions) are published here
 * after being normalised; the TUI, Lua's berth.on and plugins subscribe.
 * Delivery is synchronous, in publish order; a subscriber may unsubscribe
 * itself (or others) from inside its callback.
 */
#ifndef BERTH_EVENTS_H
#define BERTH_EVENTS_H

#include <stdint.h>
#include <json-c/json.h>

struct berth_event {
	const char *type;	/* "state", "defined", "undefined", "disconnected" */
	const char *instance;	/* instance name or NULL */
	const char *host;
	const char *backend;
	const char *state;	/* new state name for "state" events */
	const char *detail;
	json_object *data;	/* borrowed; may be NULL */
	int64_t ts_ms;		/* wall clock */
};

typedef void (*evbus_cb)(const struct berth_event *ev, void *arg);

struct evbus;
struct evbus *evbus_new(void);
void evbus_free(struct evbus *b);
/* type "*" matches all.  Returns a subscription id > 0. */
int evbus_subscribe(struct evbus *b, const char *type, evbus_cb cb, void *arg);
void evbus_unsubscribe(struct evbus *b, int id);
void evbus_publish(struct evbus *b, const struct berth_event *ev);

#endif
