/*
 * test-presence.c - scans turned into events: nothing for the baseline
 * scan, "defined" / "undefined" as definitions come and go, a "state"
 * (running) event when an instance begins to run, nothing for an unchanged
 * scan or a stop, nothing for what the backend noted as its own doing, and
 * a handler that scans again from inside delivery.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/presence.h"
#include "tap.h"

static char log_buf[512];
static struct presence *nested;

static void
note(const struct backend_event *ev, void *arg)
{
	size_t n = strlen(log_buf);

	(void)arg;
	snprintf(log_buf + n, sizeof log_buf - n, "%s%s:%s%s%s", n ? " " : "", ev->type, ev->inst_name,
		 strcmp(ev->type, "state") == 0 ? "=" : "",
		 strcmp(ev->type, "state") == 0 ? inst_state_name(ev->state) : "");
}

static void
rescan_inside(const struct backend_event *ev, void *arg)
{
	note(ev, arg);
	presence_mark(nested, "x", PRESENCE_DEFINED);
	presence_commit(nested, NULL, NULL, NULL);
}

/* Events can come in any order of the map; compare as sets of words. */
static int
has_word(const char *words, const char *w)
{
	size_t n = strlen(w);
	const char *p = words;

	while ((p = strstr(p, w)) != NULL) {
		if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static int
count_words(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s != ' ' && (s[1] == ' ' || s[1] == '\0'))
			n++;
	return n;
}

int
main(void)
{
	struct presence *p = presence_new();

	presence_mark(p, "a", PRESENCE_DEFINED);
	presence_mark(p, "b", PRESENCE_DEFINED);
	presence_mark(p, "b", PRESENCE_RUNNING);
	presence_commit(p, NULL, note, NULL);
	is_str(log_buf, "", "the first scan is the baseline: no events");

	presence_mark(p, "a", PRESENCE_DEFINED);
	presence_mark(p, "b", PRESENCE_DEFINED | PRESENCE_RUNNING);
	presence_commit(p, NULL, note, NULL);
	is_str(log_buf, "", "an unchanged scan gives no events");

	/* c defined elsewhere, a started elsewhere, b deleted while running
	 * (its stop is the watch's to report), d running without a definition */
	presence_mark(p, "a", PRESENCE_DEFINED | PRESENCE_RUNNING);
	presence_mark(p, "b", PRESENCE_RUNNING);
	presence_mark(p, "c", PRESENCE_DEFINED);
	presence_mark(p, "d", PRESENCE_RUNNING);
	presence_commit(p, NULL, note, NULL);
	ok(has_word(log_buf, "defined:c"), "a new definition is `defined'");
	ok(has_word(log_buf, "state:a=running"), "an instance that began to run is a running `state'");
	ok(has_word(log_buf, "undefined:b"), "a definition that went is `undefined'");
	ok(has_word(log_buf, "state:d=running"), "a running instance without a definition is seen too");
	is_int(count_words(log_buf), 4, "... and nothing else");

	log_buf[0] = '\0';
	presence_mark(p, "c", PRESENCE_DEFINED);
	presence_commit(p, NULL, note, NULL);
	ok(has_word(log_buf, "undefined:a"), "a stopped and deleted instance is `undefined'");
	is_int(count_words(log_buf), 1, "stops themselves give no event");

	log_buf[0] = '\0';
	presence_commit(p, NULL, NULL, NULL);
	presence_mark(p, "z", PRESENCE_DEFINED);
	presence_commit(p, NULL, NULL, NULL);
	is_str(log_buf, "", "without a callback nothing is delivered, and the scan still counts");
	presence_mark(p, "z", PRESENCE_DEFINED);
	presence_commit(p, NULL, note, NULL);
	is_str(log_buf, "", "... so the next identical scan is quiet");

	/* What the backend did and reported itself is not reported again. */
	log_buf[0] = '\0';
	presence_note(p, "own", PRESENCE_DEFINED | PRESENCE_RUNNING, 0);
	presence_note(p, "z", 0, PRESENCE_DEFINED);
	presence_mark(p, "own", PRESENCE_DEFINED | PRESENCE_RUNNING);
	presence_commit(p, NULL, note, NULL);
	is_str(log_buf, "", "presence_note: own define, start and delete are not reported again");
	presence_note(NULL, "x", PRESENCE_DEFINED, 0);
	ok(1, "presence_note(NULL, ...) is harmless (events never subscribed)");

	/* A handler that scans the same backend again (a Lua handler listing). */
	nested = p;
	log_buf[0] = '\0';
	presence_mark(p, "own", PRESENCE_DEFINED | PRESENCE_RUNNING);
	presence_mark(p, "y", PRESENCE_DEFINED);
	presence_commit(p, NULL, rescan_inside, NULL);
	is_str(log_buf, "defined:y", "a rescan inside delivery is safe and the event is delivered once");
	presence_free(p);
	presence_free(NULL);
	ok(1, "presence_free(NULL) is harmless");
	return tap_done();
}
