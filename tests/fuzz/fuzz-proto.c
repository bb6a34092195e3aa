/*
 * fuzz-proto.c - libFuzzer target for the control protocol's hostile-input
 * paths: line parsing and classification, the typed argument getters, the
 * streaming framer (proto_conn_recv over a socketpair, in chunks), and a
 * server connection (handshake, subscribe/unsubscribe, replies) fed the
 * same bytes; and the sending side: whatever bytes a message holds, what
 * goes on the wire parses on the other end.  Not for: clients (they trust
 * their server no more, but share these paths).
 *
 * Built and run by tests/fuzz/run.sh (`make check-fuzz`).
 */
// fuzz-sources: src/core/proto.c src/core/loop.c src/core/util.c src/core/error.c
// fuzz-libs: -ljson-c -lpthread
// fuzz-seed: {"id":0,"op":"hello","args":{"version":1,"client":"fuzz"}}
// fuzz-seed: {"id":0,"op":"hello","args":{"version":1}}\n{"id":1,"op":"subscribe","args":{"events":["*","state"]}}\n{"id":2,"op":"unsubscribe","args":{"events":["state"]}}
// fuzz-seed: {"id":0,"op":"hello","args":{"version":1}}\n{"id":3,"op":"echo","args":{"s":"x","i":5,"b":true}}\n{"op":"echo"}
// fuzz-seed: {"id":4,"error":{"code":"notfound","message":"no vm"}}\n{"event":"state","instance":"web1","data":{"state":"running"},"ts":1}
// fuzz-seed: {"id":null,"error":{"code":"protocol","message":"bad"}}\r\n\n{"id":5,"result":[1,2,{"a":null}]}
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_handler(struct proto_server *s, struct proto_req *req, const char *op, json_object *args, void *arg)
{
	const char *str;
	int64_t i;
	int b;
	struct berr e;

	if (proto_arg_str(args, "s", &str, NULL, &e) < 0 || proto_arg_int(args, "i", &i, 0, &e) < 0 ||
	    proto_arg_bool(args, "b", &b, 0, &e) < 0) {
		proto_req_error(req, &e);
		return;
	}
	if (strcmp(op, "emit") == 0)
		proto_server_emit(s, str ? str : "state", NULL, json_object_get(args));
	proto_req_reply(req, json_object_get(args));
}

/* Every line on its own: parse, classify, look at it as a reply. */
static void
fuzz_lines(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_object *msg = NULL, *args = NULL;
		struct berr e;
		int64_t id;

		if (proto_parse_line(p, len, &msg, &e) == 0) {
			const char *s;
			int64_t i;
			int b;

			proto_msg_id(msg, &id);
			switch (proto_classify(msg, &e)) {
			case PROTO_REPLY:
				proto_reply_error(msg, &e);
				break;
			case PROTO_REQUEST:
				json_object_object_get_ex(msg, "args", &args);
				proto_arg_str(args, "events", &s, NULL, &e);
				proto_arg_int(args, "version", &i, 0, &e);
				proto_arg_bool(args, "force", &b, 0, &e);
				break;
			default:
				break;
			}
			json_object_put(msg);
		}
		p += len + (nl != NULL);
	}
}

/* The same bytes through the framer, in chunks whose size the input picks. */
static void
fuzz_stream(const uint8_t *data, size_t size)
{
	struct proto_conn *c;
	size_t off = 0, chunk = size ? (size_t)data[0] % 64 + 1 : 1;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return;
	c = proto_conn_new(sv[0], -1);
	for (;;) {
		json_object *msg;
		struct berr e;
		int r;

		if (off < size) {
			size_t n = size - off < chunk ? size - off : chunk;
			ssize_t w = write(sv[1], data + off, n);

			if (w > 0)
				off += (size_t)w;
		} else if (sv[1] >= 0) {
			close(sv[1]);
			sv[1] = -1;
		}
		r = proto_conn_recv(c, &msg, &e);
		if (r < 0)
			break;
		if (r == 1) {
			proto_classify(msg, &e);
			json_object_put(msg);
		}
	}
	proto_conn_free(c);
	if (sv[1] >= 0)
		close(sv[1]);
}

/* The same bytes as a peer of a server connection. */
static void
fuzz_server(const uint8_t *data, size_t size)
{
	struct loop *l = loop_new();
	struct proto_server *s;
	struct berr e;
	char sink[65536];
	size_t off = 0;
	int sv[2], i;

	if (l == NULL)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
		loop_free(l);
		return;
	}
	s = proto_server_new(l, -1, "fuzz", NULL, fuzz_handler, NULL);
	if (proto_server_add_fds(s, sv[0], -1, &e) < 0)
		close(sv[0]);
	for (i = 0; i < 64 && proto_server_nclients(s) > 0; i++) {
		if (off < size) {
			ssize_t w = write(sv[1], data + off, size - off);

			if (w > 0)
				off += (size_t)w;
		}
		proto_server_emit(s, "state", "vm", NULL);
		loop_run_once(l, 0);
		while (read(sv[1], sink, sizeof sink) > 0)
			;
		if (off == size && i > 4)
			break;
	}
	proto_server_free(s);
	loop_free(l);
	close(sv[1]);
}

/* What we send, the strict parser on the other end must accept, whatever
 * bytes our strings and numbers hold: the raw input as a string, a key and
 * an event name, next to non-finite numbers, through proto_conn_send and
 * back through proto_conn_recv. */
static void
fuzz_send_roundtrip(const uint8_t *data, size_t size)
{
	struct proto_conn *tx, *rx;
	json_object *msg, *got = NULL;
	struct berr e;
	char *key;
	int sv[2], r = 0, i;

	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return;
	tx = proto_conn_new(sv[0], -1);
	rx = proto_conn_new(sv[1], -1);
	key = malloc(size + 3);
	memcpy(key, "n:", 2);
	memcpy(key + 2, data, size);
	key[size + 2] = '\0';
	msg = proto_event(key, key, json_object_new_string_len((const char *)data, (int)size));
	json_object_object_add(msg, key, json_object_new_double(size % 2 ? 0.0 / 0.0 : -1.0 / 0.0));
	if (proto_conn_send(tx, msg, &e) == 0) {
		for (i = 0; i < 64 && r == 0; i++) {
			proto_conn_flush(tx, &e);
			r = proto_conn_recv(rx, &got, &e);
		}
		if (r != 1 || proto_classify(got, &e) != PROTO_EVENT)
			abort();	/* we sent something our own parser refuses */
	}
	json_object_put(got);
	json_object_put(msg);
	free(key);
	proto_conn_free(tx);
	proto_conn_free(rx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_lines(data, size);
	fuzz_stream(data, size);
	fuzz_server(data, size);
	fuzz_send_roundtrip(data, size);
	return 0;
}
