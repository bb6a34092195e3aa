/*
 * vmmctl.c - a test client for berth-vmm's sockets, so shell tests need
 * nothing beyond the build:
 *   vmmctl call CTL OP [ARGS-JSON]       print the result (exit 1 + message on error)
 *   vmmctl events CTL N SEC              subscribe, print N events (one per line)
 *   vmmctl garbage CTL                   send junk frames; exit 0 if the peer survived
 *   vmmctl console SOCK SEC [UNTIL] [SEND]  read (and optionally send) until UNTIL
 *                                        appears or SEC pass; print what was read
 *   vmmctl stall SOCK SEC                connect to the console and never read
 *   vmmctl hit CTL                       send requests and hang up before the replies
 * Each gives up (exit 124, with a message) 30 s after its own SEC.
 * Not for: anything outside tests.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/proto.h"
#include "core/util.h"

static int
unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
		return -1;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int n_events_left;

static void
on_event(struct proto_client *c, json_object *ev, void *arg)
{
	if (n_events_left <= 0)
		return;
	printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	n_events_left--;
}

static int
cmd_call(const char *ctl, const char *op, const char *args_json)
{
	struct proto_client *c;
	struct berr err;
	json_object *args = NULL, *res = NULL;

	if (args_json && !(args = json_tokener_parse(args_json))) {
		fprintf(stderr, "vmmctl: bad JSON args\n");
		return 2;
	}
	if (proto_client_connect(ctl, "vmmctl", 5000, &c, &err) < 0) {
		fprintf(stderr, "vmmctl: %s\n", err.msg);
		return 1;
	}
	if (proto_client_call(c, op, args, 10000, &res, &err) < 0) {
		fprintf(stderr, "vmmctl: %s: %s: %s\n", op, berr_code_name(err.code), err.msg);
		json_object_put(args);
		proto_client_free(c);
		return 1;
	}
	json_object_put(args);
	printf("%s\n", res ? json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN) : "null");
	json_object_put(res);
	proto_client_free(c);
	return 0;
}

static int
cmd_events(const char *ctl, int n, int sec)
{
	struct proto_client *c;
	struct berr err;
	json_object *args = json_object_new_object(), *ev = json_object_new_array();
	int64_t end = now_ms() + sec * 1000LL;

	if (proto_client_connect(ctl, "vmmctl", 5000, &c, &err) < 0) {
		fprintf(stderr, "vmmctl: %s\n", err.msg);
		return 1;
	}
	n_events_left = n;
	proto_client_set_event_cb(c, on_event, NULL);
	json_object_array_add(ev, json_object_new_string("*"));
	json_object_object_add(args, "events", ev);
	if (proto_client_call(c, "subscribe", args, 5000, NULL, &err) < 0) {
		fprintf(stderr, "vmmctl: subscribe: %s\n", err.msg);
		return 1;
	}
	json_object_put(args);
	printf("subscribed\n");
	fflush(stdout);
	/* Poll with a cheap op: events arriving meanwhile reach on_event. */
	while (n_events_left > 0 && now_ms() < end) {
		struct pollfd p = { .fd = proto_client_fd(c), .events = POLLIN };
		if (poll(&p, 1, 100) > 0 &&
		    proto_client_call(c, "info", NULL, 2000, NULL, &err) < 0)
			break;	/* the VMM went away */
	}
	proto_client_free(c);
	return n_events_left > 0;
}

static int
cmd_garbage(const char *ctl)
{
	static const char *const junk[] = {
		"hello\n", "{\"id\":1,\"op\":\"info\"}\n", "{]]]\n", "\x00\xff\xfe\n",
		"{\"id\":0,\"op\":\"hello\",\"args\":{\"version\":99}}\n",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
	};
	char big[4096];

	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		int fd = unix_connect(ctl);
		if (fd < 0) {
			fprintf(stderr, "vmmctl: connect: %s\n", strerror(errno));
			return 1;
		}
		if (send(fd, junk[i], strlen(junk[i]) + (i == 3 ? 3 : 0), MSG_NOSIGNAL) < 0)
			(void)0;
		usleep(20000);
		close(fd);
	}
	/* An endless line without newline: the server must cap it. */
	memset(big, 'A', sizeof big);
	int fd = unix_connect(ctl);
	if (fd >= 0) {
		for (int i = 0; i < 600; i++)
			if (send(fd, big, sizeof big, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				break;
		close(fd);
	}
	return cmd_call(ctl, "info", NULL);
}

static int
cmd_console(const char *sock, int sec, const char *until, const char *send_text)
{
	int fd = unix_connect(sock);
	int64_t start = now_ms(), end = start + sec * 1000LL;
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	int sent = 0;

	if (fd < 0 || buf == NULL) {
		fprintf(stderr, "vmmctl: console connect: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		free(buf);
		return 1;
	}
	buf[0] = 0;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 50);
		if (r > 0) {
			ssize_t n = read(fd, buf + len, cap - len);
			if (n <= 0)
				break;
			fwrite(buf + len, 1, (size_t)n, stdout);
			fflush(stdout);
			len += (size_t)n;
			buf[len] = 0;
			if (len == cap)
				len = 0;
		}
		/* Send once the replay arrived, or after a moment on a silent console. */
		if (send_text && !sent && (len > 0 || now_ms() - start > 300)) {
			if (write(fd, send_text, strlen(send_text)) < 0)
				break;
			sent = 1;
		}
		if (until && strstr(buf, until)) {
			close(fd);
			free(buf);
			return 0;
		}
	}
	close(fd);
	free(buf);
	return until ? 1 : 0;
}

/*
 * Every command gives up after its own seconds plus this margin: a VMM that
 * stopped serving its socket fills the listen backlog, and a connect to a
 * full backlog waits forever, which would hang the test instead of failing it.
 */
#define GIVE_UP_MARGIN_S	30

static void
on_alarm(int sig)
{
	static const char msg[] = "vmmctl: gave up: the VMM did not serve its socket in time\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		(void)0;
	_exit(124);
}

int
main(int argc, char **argv)
{
	int own_s = 0;

	if (argc >= 4 && (!strcmp(argv[1], "console") || !strcmp(argv[1], "stall")))
		own_s = atoi(argv[3]);
	else if (argc == 5 && !strcmp(argv[1], "events"))
		own_s = atoi(argv[4]);
	signal(SIGALRM, on_alarm);
	alarm((unsigned)(own_s > 0 ? own_s : 0) + GIVE_UP_MARGIN_S);
	if (argc >= 4 && !strcmp(argv[1], "call"))
		return cmd_call(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
	if (argc == 5 && !strcmp(argv[1], "events"))
		return cmd_events(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "garbage"))
		return cmd_garbage(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "console"))
		return cmd_console(argv[2], atoi(argv[3]), argc > 4 && argv[4][0] ? argv[4] : NULL,
				   argc > 5 ? argv[5] : NULL);
	if (argc == 3 && !strcmp(argv[1], "hit")) {
		static const char req[] = "{\"id\":0,\"op\":\"hello\",\"args\":{\"version\":1}}\n"
					  "{\"id\":1,\"op\":\"stats\"}\n{\"id\":2,\"op\":\"info\"}\n";
		int fd = unix_connect(argv[2]);
		if (fd < 0)
			return 1;
		if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) < 0)
			(void)0;
		shutdown(fd, SHUT_RD);
		close(fd);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "stall")) {
		int fd = unix_connect(argv[2]);
		if (fd < 0)
			return 1;
		sleep((unsigned)atoi(argv[3]));
		close(fd);
		return 0;
	}
	fprintf(stderr, "usage: vmmctl call|events|garbage|console|stall ...\n");
	return 2;
}
