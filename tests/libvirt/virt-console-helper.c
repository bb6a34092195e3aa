/*
 * virt-console-helper.c - drive a domain's console (and migration) through
 * the libvirt backend's ops, for libvirtd-qemu.sh.
 *
 *   virt-console-helper URI NAME TIMEOUT STEP...
 *     expect:TEXT   read until TEXT has been seen (fail at the timeout)
 *     send:TEXT     write TEXT (\n understood) to the console
 *     destroy-eof   destroy the domain; the console fd must then read EOF
 *     close         close our end; the backend must tear its side down
 *     migrate:URI   migrate the domain live to URI, showing progress
 *     subscribe     subscribe to the connection's events
 *     pause, resume pause or resume the domain
 *     event:TYPE:STATE  run the loop until such an event for the domain arrives
 * The console is opened (console_open) by the first step that needs it.
 * Everything read is copied to stdout.  Exit 0 when every step passed.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backends.h"
#include "backends/libvirt/virt.h"
#include "core/loop.h"
#include "core/util.h"

static struct loop *loop;
static const struct backend_ops *ops = &libvirt_backend_ops;

/* Open the console on first use. */
static int
console_fd(struct instance *inst, int *fd)
{
	struct berr e = { 0 };

	if (*fd >= 0)
		return 0;
	if (ops->console_open(inst, fd, &e) < 0) {
		fprintf(stderr, "helper: %s\n", e.msg);
		return -1;
	}
	return 0;
}

#define MAX_EVENTS 256
static struct {
	char type[32];
	enum inst_state state;
} events[MAX_EVENTS];
static int nevents;
static const char *dom_name;

static void
on_event(const struct backend_event *ev, void *arg)
{
	(void)arg;
	fprintf(stderr, "helper: event %s %s %s (%s)\n", ev->inst_name ? ev->inst_name : "-", ev->type,
		inst_state_name(ev->state), ev->detail ? ev->detail : "");
	if (nevents >= MAX_EVENTS || ev->inst_name == NULL || strcmp(ev->inst_name, dom_name) != 0)
		return;
	snprintf(events[nevents].type, sizeof events[nevents].type, "%s", ev->type);
	events[nevents].state = ev->state;
	nevents++;
}

/* Wait for an event "TYPE:STATE" not yet consumed. */
static int
wait_event(const char *spec, int64_t deadline)
{
	static int consumed;
	const char *colon = strchr(spec, ':');
	size_t tlen = colon ? (size_t)(colon - spec) : strlen(spec);
	int i;

	for (;;) {
		for (i = consumed; i < nevents; i++) {
			if (strlen(events[i].type) == tlen && strncmp(events[i].type, spec, tlen) == 0 &&
			    (colon == NULL || strcmp(inst_state_name(events[i].state), colon + 1) == 0)) {
				consumed = i + 1;
				return 0;
			}
		}
		if (now_ms() >= deadline)
			return -1;
		loop_run_once(loop, 50);
	}
}

static void
on_progress(double fraction, const char *phase, void *arg)
{
	(void)arg;
	fprintf(stderr, "helper: migration %s %.0f%%\n", phase, fraction * 100);
}
static char seen[1 << 20];
static size_t nseen;

/* Run the loop and read the console until `want` appears in what was read
 * since `from`, EOF, or the deadline.  Returns 1 found, 0 EOF, -1 timeout. */
static int
pump_until(int fd, const char *want, size_t from, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (want != NULL && nseen > from) {
			seen[nseen] = '\0';
			if (strstr(seen + from, want) != NULL)
				return 1;
		}
		if (now_ms() >= deadline)
			return -1;
		loop_run_once(loop, 20);
		if (poll(&p, 1, 0) <= 0)
			continue;
		n = read(fd, buf, sizeof buf);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return 0;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
		if (nseen + (size_t)n >= sizeof seen - 1) {
			/* Keep the newer half. */
			memmove(seen, seen + sizeof seen / 2, nseen - sizeof seen / 2);
			nseen -= sizeof seen / 2;
			from = 0;
		}
		memcpy(seen + nseen, buf, (size_t)n);
		nseen += (size_t)n;
	}
}

static void
unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*w++ = '\n';
			s++;
		} else if (s[0] == '\\' && s[1] == 'r') {
			*w++ = '\r';
			s++;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int
main(int argc, char **argv)
{
	struct bconn *c = NULL;
	struct instance *inst = NULL;
	struct berr e = { 0 };
	int fd = -1, i, timeout_s;
	int64_t deadline;

	if (argc < 5) {
		fprintf(stderr, "usage: %s URI NAME TIMEOUT STEP...\n", argv[0]);
		return 2;
	}
	timeout_s = atoi(argv[3]);
	dom_name = argv[2];
	loop = loop_new();
	if (ops->open(&c, argv[1], loop, &e) < 0 || ops->get(c, argv[2], &inst, &e) < 0) {
		fprintf(stderr, "helper: %s\n", e.msg);
		return 1;
	}
	for (i = 4; i < argc; i++) {
		char *step = argv[i];
		int r;

		deadline = now_ms() + (int64_t)timeout_s * 1000;
		if (strncmp(step, "migrate:", 8) == 0) {
			struct migrate_opts mo = { .to = step + 8, .on_progress = on_progress };

			if (ops->migrate(inst, &mo, &e) < 0) {
				fprintf(stderr, "helper: %s\n", e.msg);
				return 1;
			}
			fprintf(stderr, "helper: migrated to %s\n", step + 8);
			continue;
		}
		if (strcmp(step, "subscribe") == 0) {
			if (ops->subscribe_events(c, on_event, NULL, &e) < 0) {
				fprintf(stderr, "helper: %s\n", e.msg);
				return 1;
			}
			continue;
		}
		if (strcmp(step, "pause") == 0 || strcmp(step, "resume") == 0) {
			int (*op)(struct instance *, struct berr *) = step[0] == 'p' ? ops->pause : ops->resume;

			if (op(inst, &e) < 0) {
				fprintf(stderr, "helper: %s\n", e.msg);
				return 1;
			}
			continue;
		}
		if (strncmp(step, "event:", 6) == 0) {
			if (wait_event(step + 6, deadline) < 0) {
				fprintf(stderr, "helper: no event `%s' within %d s\n", step + 6, timeout_s);
				return 1;
			}
			fprintf(stderr, "helper: got event %s\n", step + 6);
			continue;
		}
		if (strcmp(step, "close") != 0 && console_fd(inst, &fd) < 0)
			return 1;
		if (strncmp(step, "expect:", 7) == 0) {
			r = pump_until(fd, step + 7, 0, deadline);
			if (r != 1) {
				fprintf(stderr, "helper: `%s' not seen (%s)\n", step + 7, r == 0 ? "EOF" : "timeout");
				return 1;
			}
			fprintf(stderr, "helper: saw `%s'\n", step + 7);
			nseen = 0;
		} else if (strncmp(step, "send:", 5) == 0) {
			size_t len;

			unescape(step + 5);
			len = strlen(step + 5);
			if (write(fd, step + 5, len) != (ssize_t)len) {
				fprintf(stderr, "helper: writing to the console: %s\n", strerror(errno));
				return 1;
			}
		} else if (strcmp(step, "destroy-eof") == 0) {
			int64_t t0 = now_ms();

			if (ops->destroy(inst, &e) < 0) {
				fprintf(stderr, "helper: %s\n", e.msg);
				return 1;
			}
			r = pump_until(fd, NULL, 0, deadline);
			if (r != 0) {
				fprintf(stderr, "helper: no EOF on the console after destroy\n");
				return 1;
			}
			fprintf(stderr, "helper: EOF %lld ms after destroy\n", (long long)(now_ms() - t0));
		} else if (strcmp(step, "close") == 0) {
			close(fd);
			fd = -1;
			/* Let the pump notice and tear down. */
			deadline = now_ms() + 500;
			while (now_ms() < deadline)
				loop_run_once(loop, 20);
		} else {
			fprintf(stderr, "helper: unknown step `%s'\n", step);
			return 2;
		}
	}
	if (fd >= 0)
		close(fd);
	instance_free(inst);
	ops->close(c);
	loop_free(loop);
	return 0;
}
