/*
 * test-proto.c - the control protocol: framing over socketpairs (split
 * reads, batched messages, partial writes, limits, hostile input), message
 * shapes, and a real server (run by a loop in a second thread) talked to by
 * sync, async and raw clients.
 *
 * SIGPIPE keeps its default action on purpose: a write that raised it would
 * kill the test.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/proto.h"
#include "core/util.h"
#include "tap.h"

/* proto.c's bound on a connection's unanswered requests. */

static char tmpdir[256];

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_object *
parse(const char *s)
{
	json_object *o;
	struct berr e;

	if (proto_parse_line(s, strlen(s), &o, &e) < 0) {
		printf("# parse(%s): %s\n", s, e.msg);
		return NULL;
	}
	return o;
}

/* ============================================================ framing tests */

static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort();
		buf += n;
		len -= (size_t)n;
	}
}

static void
test_framing_split(void)
{
	const char *line = "{\"id\":7,\"op\":\"echo\",\"args\":{\"s\":\"a\\nb\"}}\n";
	struct proto_conn *c;
	json_object *msg = NULL;
	struct berr e;
	int sv[2], r = 0, early = 0;
	size_t i;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c = proto_conn_new(sv[0], -1);
	for (i = 0; i < strlen(line); i++) {
		write_all(sv[1], line + i, 1);
		r = proto_conn_recv(c, &msg, &e);
		if (i + 1 < strlen(line) && r != 0)
			early++;
	}
	is_int(early, 0, "split reads: nothing is returned before the newline");
	is_int(r, 1, "split reads: one byte at a time gives the message at its newline");
	ok(msg && json_object_get_int(json_object_object_get(msg, "id")) == 7, "split reads: the message is intact");
	json_object_put(msg);
	is_int(proto_conn_recv(c, &msg, &e), 0, "then nothing more (would block)");

	/* Many messages in one read, with a blank line in between. */
	{
		char *buf = xmalloc(100 * 64);
		size_t len = 0;
		int n = 0, order_ok = 1;

		for (i = 0; i < 100; i++)
			len += (size_t)sprintf(buf + len, "{\"id\":%zu,\"op\":\"x\"}\n%s", i, i == 50 ? "\n" : "");
		write_all(sv[1], buf, len);
		free(buf);
		while ((r = proto_conn_recv(c, &msg, &e)) == 1) {
			if (json_object_get_int(json_object_object_get(msg, "id")) != n)
				order_ok = 0;
			n++;
			json_object_put(msg);
		}
		is_int(n, 100, "100 messages written at once come out as 100 messages");
		ok(order_ok, "in order");
		is_int(r, 0, "and then recv says it would block");
	}

	/* The peer leaves in the middle of a message. */
	write_all(sv[1], "{\"id\":1,\"op", 11);
	close(sv[1]);
	r = proto_conn_recv(c, &msg, &e);
	is_int(r, -1, "peer closing mid-message is an error");
	is_int(e.code, ECONNRESET, "with ECONNRESET");
	ok(strstr(e.msg, "middle") != NULL, "saying the message was cut");
	is_int(proto_conn_recv(c, &msg, &e), -1, "the connection stays unusable");
	proto_conn_free(c);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c = proto_conn_new(sv[0], -1);
	close(sv[1]);
	r = proto_conn_recv(c, &msg, &e);
	ok(r == -1 && e.code == ECONNRESET, "a clean close at a message boundary is ECONNRESET too");
	proto_conn_free(c);
}

/* Feed bytes to a fresh conn and return what recv says. */
static int
recv_from_bytes(const char *bytes, size_t len, struct berr *e)
{
	struct proto_conn *c;
	json_object *msg = NULL;
	int sv[2], r;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c = proto_conn_new(sv[0], -1);
	write_all(sv[1], bytes, len);
	berr_clear(e);
	r = proto_conn_recv(c, &msg, e);
	json_object_put(msg);
	proto_conn_free(c);
	close(sv[1]);
	return r;
}

static char *
nested(int depth)
{
	char *s = xmalloc((size_t)depth * 2 + 32);
	int i, n = 0;

	n += sprintf(s + n, "{\"a\":");
	for (i = 1; i < depth; i++)
		s[n++] = '[';
	for (i = 1; i < depth; i++)
		s[n++] = ']';
	n += sprintf(s + n, "}\n");
	return s;
}

static void
test_framing_hostile(void)
{
	struct berr e;
	char *s;
	int r;

	r = recv_from_bytes("{nope\n", 6, &e);
	ok(r == -1 && e.code == BERR_PROTO, "malformed JSON is a protocol error");
	r = recv_from_bytes("[1,2]\n", 6, &e);
	ok(r == -1 && e.code == BERR_PROTO && strstr(e.msg, "object"), "a non-object message is refused");
	r = recv_from_bytes("\"str\"\n", 6, &e);
	ok(r == -1 && e.code == BERR_PROTO, "a bare string is refused");
	r = recv_from_bytes("{} {}\n", 6, &e);
	ok(r == -1 && e.code == BERR_PROTO, "two values on one line are refused");
	r = recv_from_bytes("{\"a\":\"\xff\xfe\"}\n", 11, &e);
	ok(r == -1 && e.code == BERR_PROTO, "invalid UTF-8 is refused");
	r = recv_from_bytes("{\"a\":1}\0\n", 9, &e);
	ok(r == -1 && e.code == BERR_PROTO, "a NUL byte is refused");
	r = recv_from_bytes("{\"a\":1}\r\n", 9, &e);
	is_int(r, 1, "a CRLF line ending is accepted");

	s = nested(PROTO_MAX_DEPTH);
	r = recv_from_bytes(s, strlen(s), &e);
	is_int(r, 1, "nesting of exactly PROTO_MAX_DEPTH levels is accepted");
	free(s);
	s = nested(PROTO_MAX_DEPTH + 1);
	r = recv_from_bytes(s, strlen(s), &e);
	ok(r == -1 && e.code == BERR_PROTO && strstr(e.msg, "deeper"), "one level deeper is refused");
	free(s);
	s = nested(100000);
	r = recv_from_bytes(s, strlen(s), &e);
	ok(r == -1 && e.code == BERR_PROTO, "100000 levels of nesting are refused without a crash");
	free(s);
}

/* An oversized message is an error as soon as PROTO_MAX_MSG bytes are in,
 * before (and without) its newline. */
static void
test_framing_oversized(void)
{
	struct proto_conn *c;
	json_object *msg = NULL;
	struct berr e;
	char *chunk = xmalloc(65536);
	size_t sent = 0;
	int sv[2], r = 0;

	memset(chunk, ' ', 65536);
	chunk[0] = '{';
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fd_set_nonblock(sv[1], 1);
	c = proto_conn_new(sv[0], -1);
	while (sent < 4 * PROTO_MAX_MSG) {
		ssize_t n = write(sv[1], chunk, 65536);

		if (n > 0)
			sent += (size_t)n;
		chunk[0] = ' ';
		r = proto_conn_recv(c, &msg, &e);
		if (r != 0)
			break;
	}
	ok(r == -1 && e.code == BERR_PROTO, "a message without newline longer than PROTO_MAX_MSG is an error");
	ok(sent <= PROTO_MAX_MSG + 256 * 1024, "found out without reading much more than the limit");
	proto_conn_free(c);
	close(sv[1]);
	free(chunk);

	/* Exactly at the limit: PROTO_MAX_MSG bytes including the newline. */
	{
		size_t len = PROTO_MAX_MSG;
		char *big = xmalloc(len);

		memset(big, ' ', len);
		memcpy(big, "{\"a\":1}", 7);
		big[len - 1] = '\n';
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		c = proto_conn_new(sv[0], -1);
		fd_set_nonblock(sv[1], 1);
		sent = 0;
		r = 0;
		while (r == 0) {
			ssize_t n = sent < len ? write(sv[1], big + sent, len - sent) : 0;

			if (n > 0)
				sent += (size_t)n;
			r = proto_conn_recv(c, &msg, &e);
		}
		is_int(r, 1, "a message of exactly PROTO_MAX_MSG bytes is accepted");
		json_object_put(msg);
		proto_conn_free(c);
		close(sv[1]);
		big[len - 1] = ' ';
		big[len - 2] = ' ';
		{
			json_object *o = NULL;

			r = proto_parse_line(big, len, &o, &e);
			ok(r == -1 && e.code == BERR_PROTO, "proto_parse_line refuses a line of PROTO_MAX_MSG bytes plus newline");
		}
		free(big);
	}
}

static void
test_framing_writes(void)
{
	struct proto_conn *c;
	json_object *msg, *got = NULL;
	struct berr e;
	int sv[2], r, i, queued = 0, received = 0, order_ok = 1;
	char pad[4000];

	memset(pad, 'p', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c = proto_conn_new(sv[0], -1);
	{
		struct proto_conn *reader = proto_conn_new(sv[1], -1);

		/* Fill the socket buffer: flush must stop with bytes left. */
		for (i = 0; i < 400; i++) {
			msg = proto_event("fill", NULL, json_object_new_string(pad));
			json_object_object_add(msg, "n", json_object_new_int(i));
			if (proto_conn_send(c, msg, &e) == 0)
				queued++;
			json_object_put(msg);
		}
		is_int(queued, 400, "400 messages are queued");
		r = proto_conn_flush(c, &e);
		is_int(r, 0, "flush into a full socket buffer returns 0 (would block)");
		ok(proto_conn_pending(c) > 0, "with bytes still pending");
		while (received < 400) {
			r = proto_conn_recv(reader, &got, &e);
			if (r < 0)
				break;
			if (r == 1) {
				if (json_object_get_int(json_object_object_get(got, "n")) != received ||
				    strcmp(json_object_get_string(json_object_object_get(got, "data")), pad) != 0)
					order_ok = 0;
				received++;
				json_object_put(got);
				continue;
			}
			if (proto_conn_flush(c, &e) < 0)
				break;
		}
		is_int(received, 400, "partial writes: every message arrives");
		ok(order_ok, "partial writes: intact and in order");
		is_int(proto_conn_flush(c, &e), 1, "and flush then reports everything written");
		is_int(proto_conn_pending(c), 0, "nothing pending");
		proto_conn_free(reader);
	}
	/* Peer gone: EPIPE, not SIGPIPE (which would kill this test). */
	msg = proto_request(1, "x", NULL);
	proto_conn_send(c, msg, &e);
	r = proto_conn_flush(c, &e);
	ok(r == -1 && e.code == EPIPE, "flush to a closed socket peer is EPIPE without SIGPIPE");
	json_object_put(msg);
	proto_conn_free(c);

	/* Same over a pipe (the SSH stdio case). */
	{
		int in[2], out[2];

		if (pipe(in) < 0 || pipe(out) < 0)
			abort();
		c = proto_conn_new(in[0], out[1]);
		is_int(proto_conn_out_fd(c), out[1], "a conn may write to a different fd");
		close(out[0]);
		msg = proto_request(1, "x", NULL);
		proto_conn_send(c, msg, &e);
		r = proto_conn_flush(c, &e);
		ok(r == -1 && e.code == EPIPE, "flush to a pipe without reader is EPIPE without SIGPIPE");
		json_object_put(msg);
		proto_conn_free(c);
		close(in[1]);
	}

	/* Output queue bound. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c = proto_conn_new(sv[0], -1);
	{
		char *big = xmalloc(512 * 1024);
		int refused = 0;

		memset(big, 'b', 512 * 1024 - 1);
		big[512 * 1024 - 1] = '\0';
		msg = proto_event("big", NULL, json_object_new_string(big));
		for (i = 0; i < 40 && !refused; i++)
			if (proto_conn_send(c, msg, &e) < 0)
				refused = 1;
		ok(refused && e.code == ENOBUFS, "send refuses once the queue would pass PROTO_MAX_QUEUE");
		ok(proto_conn_pending(c) <= PROTO_MAX_QUEUE, "the queue never passes it");
		json_object_put(msg);
		free(big);
		big = xmalloc(PROTO_MAX_MSG + 10);
		memset(big, 'b', PROTO_MAX_MSG + 9);
		big[PROTO_MAX_MSG + 9] = '\0';
		msg = proto_event("huge", NULL, json_object_new_string(big));
		ok(proto_conn_send(c, msg, &e) < 0 && e.code == BERR_PROTO, "send refuses a message over PROTO_MAX_MSG");
		json_object_put(msg);
		free(big);
	}
	proto_conn_free(c);
	close(sv[1]);
}

/* =========================================================== message tests */

static void
test_messages(void)
{
	struct berr e;
	json_object *m, *args;
	const char *s;
	int64_t i64;
	int b;

	m = proto_request(5, "start", NULL);
	is_str(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN), "{\"id\":5,\"op\":\"start\"}",
	       "proto_request without args");
	is_int(proto_classify(m, &e), PROTO_REQUEST, "a request classifies as PROTO_REQUEST");
	json_object_put(m);
	berr_set(&e, BERR_NOTFOUND, "no vm `x'");
	m = proto_reply_err(3, &e);
	is_str(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
	       "{\"id\":3,\"error\":{\"code\":\"notfound\",\"message\":\"no vm `x'\"}}",
	       "proto_reply_err names the code with berr_code_name");
	is_int(proto_classify(m, &e), PROTO_REPLY, "an error reply classifies as PROTO_REPLY");
	{
		struct berr back;

		is_int(proto_reply_error(m, &back), -1, "proto_reply_error sees the error");
		is_int(back.code, BERR_NOTFOUND, "and maps the code back with berr_code_from_name");
		is_str(back.msg, "no vm `x'", "with the message");
	}
	json_object_put(m);
	m = proto_reply_ok(4, json_object_new_int(1));
	is_int(proto_classify(m, &e), PROTO_REPLY, "a result reply classifies as PROTO_REPLY");
	is_int(proto_reply_error(m, &e), 0, "proto_reply_error: a result is not an error");
	json_object_put(m);
	m = proto_event("state", "web1", json_object_new_object());
	is_int(proto_classify(m, &e), PROTO_EVENT, "an event classifies as PROTO_EVENT");
	ok(json_object_object_get_ex(m, "ts", NULL), "events carry a timestamp");
	json_object_put(m);

#define BAD(js, what) do { \
	json_object *b_ = parse(js); \
	berr_clear(&e); \
	ok(b_ && proto_classify(b_, &e) == PROTO_INVALID && e.code == BERR_PROTO, what); \
	json_object_put(b_); \
} while (0)
	BAD("{}", "an empty object is invalid");
	BAD("{\"id\":1,\"op\":5}", "a non-string op is invalid");
	BAD("{\"id\":1,\"op\":\"\"}", "an empty op is invalid");
	BAD("{\"id\":\"1\",\"op\":\"x\"}", "a string id is invalid");
	BAD("{\"id\":1,\"op\":\"x\",\"args\":[1]}", "non-object args are invalid");
	BAD("{\"id\":1,\"result\":1,\"error\":{\"code\":\"x\"}}", "result and error together are invalid");
	BAD("{\"result\":1}", "a result without id is invalid");
	BAD("{\"id\":1,\"error\":\"bad\"}", "a string error is invalid");
	BAD("{\"id\":1,\"error\":{\"message\":\"m\"}}", "an error without code is invalid");
	BAD("{\"event\":3}", "a non-string event name is invalid");
	BAD("{\"id\":1,\"op\":\"x\",\"event\":\"y\"}", "a request and an event at once is invalid");
#undef BAD
	m = parse("{\"id\":null,\"error\":{\"code\":\"protocol\",\"message\":\"bad\"}}");
	is_int(proto_classify(m, &e), PROTO_REPLY, "an error reply with a null id is valid (unreadable request)");
	json_object_put(m);
	m = parse("{\"op\":\"subscribe\",\"args\":{\"events\":[\"*\"]}}");
	is_int(proto_classify(m, &e), PROTO_REQUEST, "a request without id is valid (no reply expected)");
	json_object_put(m);

	args = parse("{\"s\":\"v\",\"i\":42,\"b\":true,\"n\":null,\"big\":18446744073709551615}");
	ok(proto_arg_str(args, "s", &s, "d", &e) == 0 && strcmp(s, "v") == 0, "proto_arg_str reads a string");
	ok(proto_arg_str(args, "zz", &s, "d", &e) == 0 && strcmp(s, "d") == 0, "proto_arg_str: default when absent");
	ok(proto_arg_str(args, "n", &s, "d", &e) == 0 && strcmp(s, "d") == 0, "proto_arg_str: default when null");
	ok(proto_arg_str(args, "i", &s, "d", &e) == -1 && e.code == BERR_INVALID, "proto_arg_str: wrong type");
	ok(proto_arg_int(args, "i", &i64, 0, &e) == 0 && i64 == 42, "proto_arg_int reads an integer");
	ok(proto_arg_int(args, "zz", &i64, 7, &e) == 0 && i64 == 7, "proto_arg_int: default when absent");
	ok(proto_arg_int(args, "s", &i64, 7, &e) == -1 && e.code == BERR_INVALID, "proto_arg_int: wrong type");
	ok(proto_arg_int(args, "big", &i64, 7, &e) == -1, "proto_arg_int: out of int64 range");
	ok(proto_arg_bool(args, "b", &b, 0, &e) == 0 && b == 1, "proto_arg_bool reads a boolean");
	ok(proto_arg_bool(args, "zz", &b, 1, &e) == 0 && b == 1, "proto_arg_bool: default when absent");
	ok(proto_arg_bool(args, "i", &b, 0, &e) == -1, "proto_arg_bool: wrong type");
	ok(proto_arg_int(NULL, "i", &i64, 3, &e) == 0 && i64 == 3, "getters accept NULL args");
	json_object_put(args);
}

/* ========================================================= server fixture */

#define MAX_HELD 1100

struct fixture {
	struct loop *loop;
	struct proto_server *server;
	pthread_t thread;
	char path[300];
	struct proto_req *held[MAX_HELD];
	int nheld;
};

static void
fixture_handler(struct proto_server *s, struct proto_req *req, const char *op, json_object *args,
		void *arg)
{
	struct fixture *f = arg;
	struct berr e;

	if (strcmp(op, "echo") == 0) {
		proto_req_reply(req, json_object_get(args));
	} else if (strcmp(op, "hold") == 0 && f->nheld < MAX_HELD) {
		f->held[f->nheld++] = req;
	} else if (strcmp(op, "release") == 0) {
		json_object *r = json_object_new_object();
		int i, alive = 0, dropped = 0;

		for (i = 0; i < f->nheld; i++) {
			if (proto_req_alive(f->held[i]))
				alive++;
			else
				dropped++;
			proto_req_reply(f->held[i], json_object_new_string("late"));
		}
		f->nheld = 0;
		json_object_object_add(r, "alive", json_object_new_int(alive));
		json_object_object_add(r, "dropped", json_object_new_int(dropped));
		proto_req_reply(req, r);
	} else if (strcmp(op, "emit") == 0) {
		const char *name;
		int64_t count, size;
		char *pad;
		int i;

		proto_arg_str(args, "event", &name, "state", &e);
		proto_arg_int(args, "count", &count, 1, &e);
		proto_arg_int(args, "size", &size, 0, &e);
		if (size > 200000)
			size = 200000;
		pad = xmalloc((size_t)size + 1);
		memset(pad, 'e', (size_t)size);
		pad[size] = '\0';
		for (i = 0; i < count; i++) {
			json_object *d = json_object_new_object();

			json_object_object_add(d, "n", json_object_new_int(i));
			json_object_object_add(d, "pad", json_object_new_string(pad));
			proto_server_emit(s, name, "vm1", d);
		}
		free(pad);
		proto_req_reply(req, json_object_new_int((int)count));
	} else if (strcmp(op, "count") == 0) {
		proto_req_reply(req, json_object_new_int((int)proto_server_nclients(s)));
	} else if (strcmp(op, "latin1") == 0) {
		/* Bytes that are not UTF-8, as a file name or a guest may give. */
		json_object *r = json_object_new_object();

		json_object_object_add(r, "s", json_object_new_string("caf\xe9 \xff\xfe ok"));
		json_object_object_add(r, "nan", json_object_new_double(0.0 / 0.0));
		json_object_object_add(r, "inf", json_object_new_double(-1.0 / 0.0));
		json_object_object_add(r, "text", json_object_new_string("NaN Infinity"));
		proto_server_emit(s, "latin1", "vm\xe9", json_object_new_string("\xc3"));
		proto_req_reply(req, r);
	} else if (strcmp(op, "latin1err") == 0) {
		berr_set(&e, ENOENT, "opening `/img/caf\xe9.raw': No such file or directory");
		proto_req_error(req, &e);
	} else {
		berr_set(&e, BERR_NOTFOUND, "no operation `%s'", op);
		proto_req_error(req, &e);
	}
}

static void *
fixture_thread(void *arg)
{
	struct fixture *f = arg;

	loop_run(f->loop);
	return NULL;
}

static void
fixture_start(struct fixture *f, const char *name)
{
	struct berr e;
	json_object *info = json_object_new_object();
	int fd;

	memset(f, 0, sizeof *f);
	snprintf(f->path, sizeof f->path, "%s/%s.sock", tmpdir, name);
	f->loop = loop_new();
	if (proto_listen_unix(f->path, &fd, &e) < 0) {
		printf("# listen: %s\n", e.msg);
		abort();
	}
	json_object_object_add(info, "pid", json_object_new_int(getpid()));
	f->server = proto_server_new(f->loop, fd, "test-server", info, fixture_handler, f);
	pthread_create(&f->thread, NULL, fixture_thread, f);
}

static void
fixture_stop(struct fixture *f)
{
	int i;

	loop_quit(f->loop);
	pthread_join(f->thread, NULL);
	proto_server_free(f->server);
	/* Requests outlive their server; answering them now is dropped. */
	for (i = 0; i < f->nheld; i++)
		proto_req_reply(f->held[i], json_object_new_string("after the server"));
	f->nheld = 0;
	loop_free(f->loop);
	unlink(f->path);
}

/* ------------------------------------------------------------ raw clients */

static int
raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
raw_send(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0) {
		/* the peer may have closed: the reading side will tell */
	}
}

/* Read one line (without newline) within timeout_ms: length, 0 on EOF or
 * reset before a line, -1 on timeout. */
static int
raw_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t len = 0;
	int64_t deadline = mono_ms() + timeout_ms;

	while (len + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		n = read(fd, buf + len, 1);
		if (n <= 0)
			return 0;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return (int)len;
		}
		len++;
	}
	buf[len] = '\0';
	return (int)len;
}

/* 1 if the peer closed within timeout_ms (EOF or reset). */
static int
raw_closed(int fd, int timeout_ms)
{
	char buf[4096];
	int64_t deadline = mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return 0;
		n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			return 1;
	}
}

static const char *
error_code_of(const char *line)
{
	static char code[64];
	json_object *m = parse(line), *err, *c;

	code[0] = '\0';
	if (m && json_object_object_get_ex(m, "error", &err) && json_object_object_get_ex(err, "code", &c))
		snprintf(code, sizeof code, "%s", json_object_get_string(c));
	json_object_put(m);
	return code;
}

#define HELLO "{\"id\":0,\"op\":\"hello\",\"args\":{\"version\":1,\"client\":\"raw\"}}\n"

static int
count_clients(struct proto_client *c)
{
	json_object *r = NULL;
	struct berr e;
	int n = -1;

	if (proto_client_call(c, "count", NULL, 2000, &r, &e) == 0)
		n = json_object_get_int(r);
	json_object_put(r);
	return n;
}

static void
test_server_raw(void)
{
	struct fixture f;
	struct proto_client *c = NULL;
	struct berr e;
	char line[8192];
	int fd, n;

	fixture_start(&f, "raw");
	if (proto_client_connect(f.path, "test", 2000, &c, &e) < 0) {
		printf("# connect: %s\n", e.msg);
		abort();
	}

	fd = raw_connect(f.path);
	raw_send(fd, "{\"id\":1,\"op\":\"echo\"}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	is_str(n > 0 ? error_code_of(line) : "(no reply)", "protocol", "a request before hello gets a protocol error");
	ok(strstr(line, "\"id\":1") != NULL, "which carries the request's id");
	ok(raw_closed(fd, 2000), "and the connection is closed");
	close(fd);

	fd = raw_connect(f.path);
	raw_send(fd, "{\"id\":0,\"op\":\"hello\",\"args\":{\"version\":2}}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	is_str(n > 0 ? error_code_of(line) : "(no reply)", "version", "hello with version 2 gets a version error");
	ok(raw_closed(fd, 2000), "and the connection is closed");
	close(fd);

	fd = raw_connect(f.path);
	raw_send(fd, HELLO);
	n = raw_read_line(fd, line, sizeof line, 2000);
	ok(n > 0 && strstr(line, "\"server\":\"test-server\"") && strstr(line, "\"pid\":"),
	   "hello's result names the server and merges hello_info");
	raw_send(fd, "{\"id\":1,\"op\":\"nosuchop\"}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	is_str(n > 0 ? error_code_of(line) : "(no reply)", "notfound", "an unknown op is the handler's business (notfound)");
	raw_send(fd, "{\"op\":\"echo\",\"args\":{\"x\":1}}\n{\"id\":2,\"op\":\"echo\",\"args\":{\"y\":2}}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	ok(n > 0 && strstr(line, "\"id\":2"), "a request without id gets no reply");
	raw_send(fd, "{\"id\":3,\"op\":\"echo\",\"args\":{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	is_str(n > 0 ? error_code_of(line) : "(no reply)", "protocol", "deep nesting gets a protocol error");
	ok(strstr(line, "\"id\":null") != NULL, "with a null id (the request was not read)");
	ok(raw_closed(fd, 2000), "and the connection is closed");
	close(fd);

	fd = raw_connect(f.path);
	raw_send(fd, HELLO);
	raw_read_line(fd, line, sizeof line, 2000);
	raw_send(fd, "{\"id\":1,\"op\" \"echo\"}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	is_str(n > 0 ? error_code_of(line) : "(no reply)", "protocol", "malformed JSON gets a protocol error");
	ok(raw_closed(fd, 2000), "and the connection is closed");
	close(fd);

	fd = raw_connect(f.path);
	raw_send(fd, HELLO);
	raw_read_line(fd, line, sizeof line, 2000);
	raw_send(fd, "[\"op\",\"echo\"]\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	is_str(n > 0 ? error_code_of(line) : "(no reply)", "protocol", "a non-object message gets a protocol error");
	close(fd);

	fd = raw_connect(f.path);
	raw_send(fd, HELLO);
	raw_read_line(fd, line, sizeof line, 2000);
	raw_send(fd, "{\"id\":5,\"result\":1}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	is_str(n > 0 ? error_code_of(line) : "(no reply)", "protocol", "a reply sent to a server gets a protocol error");
	close(fd);

	/* Oversized: the server answers and hangs up without waiting for a newline. */
	{
		char *chunk = xmalloc(65536);
		size_t sent = 0;
		int got_reply = 0;

		memset(chunk, ' ', 65536);
		fd = raw_connect(f.path);
		raw_send(fd, HELLO);
		raw_read_line(fd, line, sizeof line, 2000);
		fd_set_nonblock(fd, 1);
		raw_send(fd, "{\"id\":9,\"op\":\"echo\",\"args\":{\"s\":\"");
		while (sent < 3 * PROTO_MAX_MSG) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
			ssize_t w;

			if (poll(&pfd, 1, 2000) <= 0)
				break;
			if (pfd.revents & POLLIN)
				break;
			w = send(fd, chunk, 65536, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN)
				break;
			if (w > 0)
				sent += (size_t)w;
		}
		fd_set_nonblock(fd, 0);
		n = raw_read_line(fd, line, sizeof line, 2000);
		got_reply = n > 0 && strcmp(error_code_of(line), "protocol") == 0;
		ok(got_reply, "an oversized message gets a protocol error before its newline");
		ok(sent < 3 * PROTO_MAX_MSG, "the server did not wait for more than the limit");
		ok(raw_closed(fd, 2000), "and the connection is closed");
		close(fd);
		free(chunk);
	}

	/* A peer that leaves mid-message is just dropped. */
	fd = raw_connect(f.path);
	raw_send(fd, HELLO);
	raw_read_line(fd, line, sizeof line, 2000);
	is_int(count_clients(c), 2, "server counts two clients");
	raw_send(fd, "{\"id\":1,\"op\":\"ec");
	close(fd);
	{
		int64_t t0 = mono_ms();

		while (count_clients(c) != 1 && mono_ms() - t0 < 2000)
			usleep(10000);
	}
	is_int(count_clients(c), 1, "a peer that disconnects mid-message is dropped");

	/* Half-close (what `socat' does at the end of its input): the
	 * server still answers, deferred replies included, then hangs up. */
	fd = raw_connect(f.path);
	raw_send(fd, HELLO);
	raw_read_line(fd, line, sizeof line, 2000);
	raw_send(fd, "{\"id\":1,\"op\":\"hold\"}\n{\"id\":2,\"op\":\"echo\",\"args\":{\"e\":1}}\n");
	shutdown(fd, SHUT_WR);
	n = raw_read_line(fd, line, sizeof line, 2000);
	ok(n > 0 && strstr(line, "\"id\":2"), "after the peer's shutdown(SHUT_WR) the server still replies");
	ok(!raw_closed(fd, 200), "and keeps the connection while a request is open");
	{
		json_object *r = NULL;

		proto_client_call(c, "release", NULL, 2000, &r, &e);
		json_object_put(r);
	}
	n = raw_read_line(fd, line, sizeof line, 2000);
	ok(n > 0 && strstr(line, "\"id\":1") && strstr(line, "late"), "the deferred reply reaches the half-closed peer");
	ok(raw_closed(fd, 2000), "then the server closes the connection");
	close(fd);

	/* Connection cap. */
	{
		int fds[PROTO_MAX_CLIENTS], i, opened = 0;
		struct proto_client *extra = NULL;

		for (i = 0; i < PROTO_MAX_CLIENTS - 1; i++) {
			fds[i] = raw_connect(f.path);
			if (fds[i] >= 0)
				opened++;
		}
		{
			int64_t t0 = mono_ms();

			while (count_clients(c) != PROTO_MAX_CLIENTS && mono_ms() - t0 < 2000)
				usleep(10000);
		}
		is_int(count_clients(c), PROTO_MAX_CLIENTS, "the server takes PROTO_MAX_CLIENTS connections");
		berr_clear(&e);
		n = proto_client_connect(f.path, "extra", 2000, &extra, &e);
		ok(n == -1 && e.code == EBUSY, "one more is turned away with EBUSY");
		if (n == -1)
			printf("# %s\n", e.msg);
		proto_client_free(extra);
		for (i = 0; i < PROTO_MAX_CLIENTS - 1; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		(void)opened;
	}

	proto_client_free(c);
	fixture_stop(&f);
}

/* ------------------------------------------------------------ sync client */

struct evlog {
	int n;
	int by_name[4];		/* state, stats, other, flood */
	int flood_bytes;
};

static void
evlog_cb(struct proto_client *c, json_object *ev, void *arg)
{
	struct evlog *l = arg;
	const char *name = json_object_get_string(json_object_object_get(ev, "event"));

	l->n++;
	if (strcmp(name, "state") == 0)
		l->by_name[0]++;
	else if (strcmp(name, "stats") == 0)
		l->by_name[1]++;
	else if (strcmp(name, "flood") == 0)
		l->by_name[3]++;
	else
		l->by_name[2]++;
}

static void
test_client_sync(void)
{
	struct fixture f;
	struct proto_client *a = NULL, *b = NULL, *all = NULL;
	struct evlog la = { 0 }, lb = { 0 }, lall = { 0 };
	json_object *r = NULL, *args;
	struct berr e;
	int64_t t0;
	struct stat st;

	fixture_start(&f, "sync");
	ok(stat(f.path, &st) == 0 && (st.st_mode & 0777) == 0600, "the control socket is mode 0600");
	ok(proto_client_connect(f.path, "a", 2000, &a, &e) == 0, "proto_client_connect does the handshake");
	ok(proto_client_hello(a) && json_object_get_int(json_object_object_get(proto_client_hello(a), "version")) == 1,
	   "proto_client_hello gives the server's hello result");
	proto_client_connect(f.path, "b", 2000, &b, &e);
	proto_client_connect(f.path, "all", 2000, &all, &e);
	ok(a && b && all, "three clients connected");
	if (!a || !b || !all)
		abort();
	proto_client_set_event_cb(a, evlog_cb, &la);
	proto_client_set_event_cb(b, evlog_cb, &lb);
	proto_client_set_event_cb(all, evlog_cb, &lall);

	args = parse("{\"x\":[1,2,3],\"s\":\"hi\"}");
	ok(proto_client_call(a, "echo", args, 2000, &r, &e) == 0, "a sync call succeeds");
	is_str(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), "{\"x\":[1,2,3],\"s\":\"hi\"}",
	       "and returns the result");
	is_int(json_object_get_type(args), json_type_object, "the caller keeps its args");
	json_object_put(args);
	json_object_put(r);

	ok(proto_client_call(a, "nope", NULL, 2000, NULL, &e) == -1 && e.code == BERR_NOTFOUND,
	   "an error reply becomes the call's error code");
	ok(strstr(e.msg, "no operation") != NULL, "with the server's message");

	args = parse("{\"events\":[\"state\"]}");
	ok(proto_client_call(a, "subscribe", args, 2000, &r, &e) == 0, "subscribe to one event");
	json_object_put(args);
	json_object_put(r);
	args = parse("{\"events\":[\"*\"]}");
	proto_client_call(all, "subscribe", args, 2000, NULL, &e);
	json_object_put(args);
	args = parse("{\"events\":\"state\"}");
	ok(proto_client_call(b, "subscribe", args, 2000, NULL, &e) == -1 && e.code == BERR_INVALID,
	   "subscribe checks its arguments");
	json_object_put(args);

	args = parse("{\"event\":\"state\",\"count\":2}");
	proto_client_call(b, "emit", args, 2000, NULL, &e);
	json_object_put(args);
	args = parse("{\"event\":\"stats\",\"count\":3}");
	proto_client_call(b, "emit", args, 2000, NULL, &e);
	json_object_put(args);
	/* A call on each client: events sent before the reply are delivered
	 * to the event callback while the call waits. */
	proto_client_call(a, "echo", NULL, 2000, NULL, &e);
	proto_client_call(all, "echo", NULL, 2000, NULL, &e);
	ok(la.by_name[0] == 2 && la.by_name[1] == 0, "a client subscribed to `state' gets only those");
	ok(lall.by_name[0] == 2 && lall.by_name[1] == 3, "a client subscribed to `*' gets everything");
	is_int(lb.n, 0, "a client that did not subscribe gets no events");

	args = parse("{\"events\":[\"state\"]}");
	proto_client_call(a, "unsubscribe", args, 2000, NULL, &e);
	json_object_put(args);
	args = parse("{\"event\":\"state\",\"count\":1}");
	proto_client_call(b, "emit", args, 2000, NULL, &e);
	json_object_put(args);
	proto_client_call(a, "echo", NULL, 2000, NULL, &e);
	is_int(la.by_name[0], 2, "after unsubscribe no more events");

	/* A peer that never answers: timeout within the deadline, and the
	 * late reply is ignored by the next call. */
	t0 = mono_ms();
	ok(proto_client_call(a, "hold", NULL, 300, NULL, &e) == -1 && e.code == BERR_TIMEOUT,
	   "a call that gets no reply fails with a timeout");
	ok(mono_ms() - t0 >= 300 && mono_ms() - t0 < 1500, "at its deadline");
	ok(proto_client_call(a, "release", NULL, 2000, &r, &e) == 0, "the connection still works after a timeout");
	ok(r && json_object_get_type(r) == json_type_object, "the stale reply was skipped, not taken for this call's");
	json_object_put(r);
	ok(proto_client_alive(a), "and the client is alive");

	/* Deferred reply after the peer left. */
	{
		struct proto_client *gone = NULL;

		proto_client_connect(f.path, "gone", 2000, &gone, &e);
		proto_client_call(gone, "hold", NULL, 100, NULL, &e);
		proto_client_free(gone);
		t0 = mono_ms();
		while (count_clients(b) != 3 && mono_ms() - t0 < 2000)
			usleep(10000);
		ok(proto_client_call(b, "release", NULL, 2000, &r, &e) == 0, "answering a request whose peer left is safe");
		is_int(json_object_get_int(json_object_object_get(r, "dropped")), 1, "proto_req_alive says the peer left");
		json_object_put(r);
	}

	/* Slow reader: `all' stops reading while events flood; it is cut off,
	 * and b keeps being served. */
	{
		int i, served = 0;

		args = parse("{\"event\":\"flood\",\"count\":40,\"size\":100000}");
		for (i = 0; i < 5; i++)
			if (proto_client_call(b, "emit", args, 5000, NULL, &e) == 0)
				served++;
		json_object_put(args);
		is_int(served, 5, "a client is served while another does not read its events");
		t0 = mono_ms();
		while (count_clients(b) != 2 && mono_ms() - t0 < 2000)
			usleep(10000);
		is_int(count_clients(b), 2, "the slow reader was disconnected (queue over PROTO_MAX_QUEUE)");
		ok(proto_client_call(all, "echo", NULL, 5000, NULL, &e) == -1, "the slow reader's next call fails");
		ok(!proto_client_alive(all), "and it knows it is disconnected");
		ok(lall.by_name[3] < 200, "without the whole flood");
	}

	proto_client_free(a);
	proto_client_free(b);
	proto_client_free(all);
	fixture_stop(&f);
}

/* A server that accepts nothing: hello must time out within the deadline. */
static void
test_client_timeouts(void)
{
	char path[300];
	struct proto_client *c = NULL;
	struct berr e;
	int64_t t0;
	int fd, sv[2];

	snprintf(path, sizeof path, "%s/mute.sock", tmpdir);
	if (proto_listen_unix(path, &fd, &e) < 0)
		abort();
	t0 = mono_ms();
	ok(proto_client_connect(path, "t", 300, &c, &e) == -1 && e.code == BERR_TIMEOUT,
	   "connecting to a server that never answers hello times out");
	ok(mono_ms() - t0 >= 300 && mono_ms() - t0 < 1500, "within its deadline");
	close(fd);

	/* Stale socket: no listener, the file is replaced. */
	ok(proto_listen_unix(path, &fd, &e) == 0, "a stale socket file is replaced");
	{
		int fd2;

		ok(proto_listen_unix(path, &fd2, &e) == -1 && e.code == EADDRINUSE,
		   "a socket with a live listener is not taken over");
	}
	close(fd);
	unlink(path);
	ok(proto_client_connect(path, "t", 300, &c, &e) == -1 && e.code == ENOENT, "connecting to no socket: ENOENT");
	{
		int tfd = open(path, O_CREAT | O_WRONLY, 0600);

		close(tfd);
		ok(proto_listen_unix(path, &fd, &e) == -1 && e.code == EEXIST, "a regular file is never removed");
		unlink(path);
	}

	/* Version mismatch seen by the client. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	raw_send(sv[1], "{\"id\":0,\"result\":{\"version\":2,\"server\":\"future\"}}\n");
	ok(proto_client_open_fds(sv[0], -1, "t", 1000, &c, &e) == -1 && e.code == BERR_VERSION,
	   "a server speaking version 2 is refused with BERR_VERSION");
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	raw_send(sv[1], "{\"id\":0,\"error\":{\"code\":\"version\",\"message\":\"too old\"}}\n");
	ok(proto_client_open_fds(sv[0], -1, "t", 1000, &c, &e) == -1 && e.code == BERR_VERSION,
	   "a version error from the server is BERR_VERSION");
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	raw_send(sv[1], "{\"id\":0,\"result\":{\"version\":1}}\n{\"id\":1,\"op\":\"x\"}\n");
	ok(proto_client_open_fds(sv[0], -1, "t", 1000, &c, &e) == 0, "open_fds handshakes over given fds");
	ok(proto_client_call(c, "x", NULL, 1000, NULL, &e) == -1 && e.code == BERR_PROTO,
	   "a server sending requests is a protocol error");
	ok(!proto_client_alive(c), "that kills the client");
	proto_client_free(c);
	close(sv[1]);
}

/* Whatever a server or a client puts in its messages, what goes on the wire
 * is JSON the strict peer accepts: bytes that are not UTF-8 become U+FFFD
 * and non-finite numbers become null, instead of the peer dropping the
 * whole connection as malformed. */
static void
test_wire_always_valid(void)
{
	struct fixture f;
	struct proto_client *c = NULL;
	struct evlog ev = { 0 };
	json_object *r = NULL, *v, *args;
	struct berr e;
	int rc;

	fixture_start(&f, "utf8");
	if (proto_client_connect(f.path, "utf8", 2000, &c, &e) < 0)
		abort();
	proto_client_set_event_cb(c, evlog_cb, &ev);
	args = parse("{\"events\":[\"*\"]}");
	proto_client_call(c, "subscribe", args, 2000, NULL, &e);
	json_object_put(args);
	rc = proto_client_call(c, "latin1", NULL, 2000, &r, &e);
	ok(rc == 0, "a reply holding bytes that are not UTF-8 reaches the client");
	if (rc < 0)
		printf("#   %s\n", e.msg);
	is_str(json_object_get_string(json_object_object_get(r, "s")), "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd ok",
	       "each invalid byte arrives as U+FFFD");
	ok(json_object_object_get_ex(r, "nan", &v) && v == NULL, "NaN arrives as null");
	ok(json_object_object_get_ex(r, "inf", &v) && v == NULL, "-Infinity arrives as null");
	is_str(json_object_get_string(json_object_object_get(r, "text")), "NaN Infinity",
	       "the same words inside strings are left alone");
	json_object_put(r);
	is_int(ev.by_name[2], 1, "the event with such bytes arrived too");
	ok(proto_client_alive(c), "the connection survives");
	rc = proto_client_call(c, "latin1err", NULL, 2000, NULL, &e);
	ok(rc == -1 && e.code == ENOENT && strstr(e.msg, "caf\xef\xbf\xbd.raw"),
	   "an error message with such bytes arrives with its code");
	printf("#   %s\n", e.msg);

	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string("\xff\xc3("));
	json_object_object_add(args, "x", json_object_new_double(0.0 / 0.0));
	r = NULL;
	rc = proto_client_call(c, "echo", args, 2000, &r, &e);
	json_object_put(args);
	ok(rc == 0, "a request holding such bytes is not refused by the server");
	if (rc < 0)
		printf("#   %s\n", e.msg);
	is_str(json_object_get_string(json_object_object_get(r, "name")), "\xef\xbf\xbd\xef\xbf\xbd(",
	       "the server saw U+FFFD for them");
	json_object_put(r);
	ok(proto_client_alive(c), "and the client is still connected");
	proto_client_free(c);
	fixture_stop(&f);
}

/* An event callback with some work to do, so the flood always wins. */
static void
slow_evlog_cb(struct proto_client *c, json_object *ev, void *arg)
{
	struct timespec ts = { 0, 200 * 1000 };

	evlog_cb(c, ev, arg);
	nanosleep(&ts, NULL);
}

struct flooder {
	int fd;
	int stop;
	pthread_t thread;
};

/* Send events as fast as the socket takes them, for at most 6 s. */
static void *
flooder_thread(void *arg)
{
	struct flooder *fl = arg;
	char chunk[65536];
	size_t len = 0;
	int64_t end = mono_ms() + 6000;
	static const char ev[] = "{\"event\":\"flood\",\"data\":{\"pad\":\"xxxxxxxxxxxxxxxx\"}}\n";

	while (len + sizeof ev < sizeof chunk) {
		memcpy(chunk + len, ev, sizeof ev - 1);
		len += sizeof ev - 1;
	}
	while (!__atomic_load_n(&fl->stop, __ATOMIC_SEQ_CST) && mono_ms() < end) {
		struct pollfd pfd = { .fd = fl->fd, .events = POLLOUT };

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (send(fl->fd, chunk, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN)
			break;
	}
	return NULL;
}

/* A server that floods events and never replies must not keep a sync call
 * past its deadline. */
static void
test_client_flooded(void)
{
	struct flooder fl = { 0 };
	struct proto_client *c = NULL;
	struct evlog ev = { 0 };
	struct berr e;
	int sv[2], rc;
	int64_t t0, took;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	raw_send(sv[1], "{\"id\":0,\"result\":{\"version\":1}}\n");
	if (proto_client_open_fds(sv[0], -1, "flooded", 1000, &c, &e) < 0)
		abort();
	proto_client_set_event_cb(c, slow_evlog_cb, &ev);
	fl.fd = sv[1];
	pthread_create(&fl.thread, NULL, flooder_thread, &fl);
	t0 = mono_ms();
	rc = proto_client_call(c, "never", NULL, 300, NULL, &e);
	took = mono_ms() - t0;
	__atomic_store_n(&fl.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(fl.thread, NULL);
	ok(rc == -1 && e.code == BERR_TIMEOUT, "a call under an event flood times out");
	printf("#   after %lld ms, %d events: %s\n", (long long)took, ev.n, e.msg);
	ok(took >= 300 && took < 1500, "at its deadline, not when the flood stops");
	ok(ev.n > 0, "the events were delivered meanwhile");
	proto_client_free(c);
	close(sv[1]);
}

/* A peer cannot pile up deferred requests without bound: past
 * PROTO_MAX_INFLIGHT unanswered ones on its connection, more are refused
 * with EBUSY at once (the handler never sees them), and the connection
 * stays usable. */
static void
test_server_inflight_bound(void)
{
	struct fixture f;
	char line[8192], *batch;
	size_t len = 0;
	int fd, n, i, refused = 0, other = 0;

	fixture_start(&f, "inflight");
	fd = raw_connect(f.path);
	raw_send(fd, HELLO);
	raw_read_line(fd, line, sizeof line, 2000);
	batch = xmalloc((size_t)(PROTO_MAX_INFLIGHT + 8) * 48);
	for (i = 0; i < PROTO_MAX_INFLIGHT + 8; i++)
		len += (size_t)sprintf(batch + len, "{\"id\":%d,\"op\":\"hold\"}\n", 100 + i);
	write_all(fd, batch, len);
	free(batch);
	for (;;) {
		n = raw_read_line(fd, line, sizeof line, 1000);
		if (n <= 0)
			break;
		if (strcmp(error_code_of(line), "EBUSY") == 0 && strstr(line, "in flight"))
			refused++;
		else
			other++;
	}
	is_int(refused, 8, "requests past the in-flight bound are refused with EBUSY");
	is_int(other, 0, "and nothing else is answered while the rest are held");
	is_int(f.nheld, PROTO_MAX_INFLIGHT, "the handler holds exactly the bound");
	raw_send(fd, "{\"id\":7,\"op\":\"echo\",\"args\":{\"still\":1}}\n");
	n = raw_read_line(fd, line, sizeof line, 2000);
	ok(n > 0 && strcmp(error_code_of(line), "EBUSY") == 0, "at the bound, a new request is refused too");
	close(fd);
	fixture_stop(&f);
}

/* Probing a socket whose listener has a full backlog must not block: a
 * blocking connect(2) there waits until the listener accepts. */
static void
test_listen_busy_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, cfds[8], ncfds = 0, status = -1, i;
	int64_t deadline;
	pid_t pid;

	if (strlen(tmpdir) + sizeof "/busy.sock" > sizeof sa.sun_path)
		abort();
	memcpy(sa.sun_path, tmpdir, strlen(tmpdir));
	memcpy(sa.sun_path + strlen(tmpdir), "/busy.sock", sizeof "/busy.sock");
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 0) < 0)
		abort();
	while (ncfds < 8) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			close(fd);
			break;
		}
		cfds[ncfds++] = fd;
	}
	ok(ncfds > 0 && ncfds < 8, "the listener's backlog is full");
	pid = fork();
	if (pid == 0) {
		struct berr e;
		int fd;

		alarm(10);
		_exit(proto_listen_unix(sa.sun_path, &fd, &e) == -1 && e.code == EADDRINUSE ? 0 : 1);
	}
	deadline = mono_ms() + 3000;
	while (mono_ms() < deadline && waitpid(pid, &status, WNOHANG) == 0)
		poll(NULL, 0, 20);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ok(status != -1, "proto_listen_unix returns at once on a busy socket");
	ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "saying it is in use (EADDRINUSE)");
	for (i = 0; i < ncfds; i++)
		close(cfds[i]);
	close(lfd);
	unlink(sa.sun_path);
}

/* ----------------------------------------------------------- async client */

struct async_result {
	int calls;
	int code;
	char text[1100];
};

static void
async_cb(struct proto_client *c, json_object *result, const struct berr *err, void *arg)
{
	struct async_result *r = arg;

	r->calls++;
	r->code = err ? err->code : 0;
	snprintf(r->text, sizeof r->text, "%s", err ? err->msg : json_object_to_json_string(result));
}

struct closed {
	int calls;
	int code;
};

static void
on_close_cb(struct proto_client *c, const struct berr *err, void *arg)
{
	struct closed *cl = arg;

	cl->calls++;
	cl->code = err ? err->code : 0;
}

static void
run_until(struct loop *l, int *flag, int want, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;

	while (*flag < want && mono_ms() < deadline)
		loop_run_once(l, 50);
}

static void
test_client_async(void)
{
	struct fixture f;
	struct loop *l = loop_new();
	struct proto_client *c = NULL;
	struct async_result r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
	struct closed cl = { 0 };
	struct evlog ev = { 0 };
	json_object *args;
	struct berr e;
	int64_t t0;

	fixture_start(&f, "async");
	proto_client_connect(f.path, "async", 2000, &c, &e);
	if (c == NULL)
		abort();
	ok(proto_client_call_async(c, "echo", NULL, 1000, async_cb, &r1, &e) == -1,
	   "an async call needs proto_client_attach");
	ok(proto_client_attach(c, l, on_close_cb, &cl) == 0, "proto_client_attach");
	proto_client_set_event_cb(c, evlog_cb, &ev);
	args = parse("{\"v\":1}");
	ok(proto_client_call_async(c, "echo", args, 1000, async_cb, &r1, &e) == 0, "an async call is sent");
	json_object_put(args);
	t0 = mono_ms();
	ok(proto_client_call_async(c, "hold", NULL, 200, async_cb, &r2, &e) == 0, "an async call that gets no reply");
	args = parse("{\"events\":[\"*\"]}");
	proto_client_call_async(c, "subscribe", args, 1000, async_cb, &r3, &e);
	json_object_put(args);
	run_until(l, &r1.calls, 1, 2000);
	ok(r1.calls == 1 && r1.code == 0 && strstr(r1.text, "\"v\""), "its callback gets the result from the loop");
	run_until(l, &r2.calls, 1, 2000);
	ok(r2.calls == 1 && r2.code == BERR_TIMEOUT, "the unanswered call times out through a loop timer");
	ok(mono_ms() - t0 >= 200 && mono_ms() - t0 < 1500, "at its deadline");

	/* Events arrive through the loop; the sync call meanwhile works too. */
	args = parse("{\"event\":\"state\",\"count\":3}");
	ok(proto_client_call(c, "emit", args, 2000, NULL, &e) == 0, "a sync call on an attached client");
	json_object_put(args);
	run_until(l, &ev.n, 3, 2000);
	is_int(ev.n, 3, "events are dispatched to the callback");
	proto_client_call(c, "release", NULL, 2000, NULL, &e);
	loop_run_once(l, 100);
	is_int(r2.calls, 1, "a late reply to a timed-out async call does not run its callback again");

	/* The server goes away: pending calls fail, on_close runs once. */
	proto_client_call_async(c, "hold", NULL, 5000, async_cb, &r4, &e);
	run_until(l, &r3.calls, 1, 1000);
	fixture_stop(&f);
	run_until(l, &cl.calls, 1, 2000);
	is_int(cl.calls, 1, "on_close runs when the server goes away");
	ok(r4.calls == 1 && r4.code != 0 && r4.code != BERR_TIMEOUT, "a pending call fails with the disconnect, not a timeout");
	ok(!proto_client_alive(c), "proto_client_alive is false");
	ok(proto_client_call_async(c, "echo", NULL, 1000, async_cb, &r1, &e) == -1, "calls on a dead client fail at once");
	loop_run_once(l, 50);
	is_int(cl.calls, 1, "on_close ran only once");
	proto_client_free(c);
	loop_free(l);
}

/* Free with an async call pending: its callback runs once (cancelled). */
static void
test_client_free_pending(void)
{
	struct fixture f;
	struct loop *l = loop_new();
	struct proto_client *c = NULL;
	struct async_result r = { 0 };
	struct berr e;

	fixture_start(&f, "freepending");
	proto_client_connect(f.path, "x", 2000, &c, &e);
	proto_client_attach(c, l, NULL, NULL);
	proto_client_call_async(c, "hold", NULL, 5000, async_cb, &r, &e);
	proto_client_free(c);
	is_int(r.calls, 1, "freeing a client finishes its pending calls once");
	loop_run_once(l, 50);
	is_int(r.calls, 1, "and the timer never fires later");
	fixture_stop(&f);
	loop_free(l);
}

/* berth proxy: a server over a pair of pipes. */
static void
test_server_fds(void)
{
	struct loop *l = loop_new();
	struct proto_server *s = proto_server_new(l, -1, "proxy", NULL, fixture_handler, NULL);
	int to_srv[2], from_srv[2];
	struct berr e;
	char line[1024];
	int n;

	if (pipe(to_srv) < 0 || pipe(from_srv) < 0)
		abort();
	ok(proto_server_add_fds(s, to_srv[0], from_srv[1], &e) == 0, "proto_server_add_fds takes a pipe pair");
	is_int(proto_server_nclients(s), 1, "one client");
	write_all(to_srv[1], HELLO, strlen(HELLO));
	write_all(to_srv[1], "{\"id\":1,\"op\":\"echo\",\"args\":{\"p\":1}}\n", 36);
	loop_run_once(l, 500);
	loop_run_once(l, 0);
	n = raw_read_line(from_srv[0], line, sizeof line, 1000);
	ok(n > 0 && strstr(line, "\"server\":\"proxy\""), "hello over pipes");
	n = raw_read_line(from_srv[0], line, sizeof line, 1000);
	is_str(n > 0 ? line : "", "{\"id\":1,\"result\":{\"p\":1}}", "a call over pipes");
	close(to_srv[1]);
	loop_run_once(l, 500);
	is_int(proto_server_nclients(s), 0, "EOF on the input pipe drops the client");
	close(from_srv[0]);
	proto_server_free(s);
	loop_free(l);
}

int
main(void)
{
	const char *base = getenv("BERTH_TEST_TMP");

	alarm(120);
	snprintf(tmpdir, sizeof tmpdir, "%s/test-proto.XXXXXX", base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_framing_split();
	test_framing_hostile();
	test_framing_oversized();
	test_framing_writes();
	test_messages();
	test_server_raw();
	test_client_sync();
	test_client_timeouts();
	test_wire_always_valid();
	test_client_flooded();
	test_listen_busy_socket();
	test_server_inflight_bound();
	test_client_async();
	test_client_free_pending();
	test_server_fds();
	rmdir(tmpdir);
	return tap_done();
}
