/*
 * proto.c - berth's control protocol: newline-delimited JSON framing,
 * message builders and checks, a client (sync and async calls) and a server
 * (handshake, subscriptions, deferred replies) over the event loop.
 *
 * For: berth-vmm, berth-ctr monitors, berth proxy and the front-end's
 * backends.  Every byte from a peer is hostile: lines are bounded by
 * PROTO_MAX_MSG before they are complete, JSON nesting by PROTO_MAX_DEPTH,
 * output queues by PROTO_MAX_QUEUE, connections by PROTO_MAX_CLIENTS,
 * unanswered requests per connection by PROTO_MAX_INFLIGHT, and a
 * misbehaving peer costs only its own connection.  Not for: the meaning of
 * the operations (each server's handler owns those) or console byte streams.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/proto.h"
#include "core/util.h"

#define PROTO_READ_CHUNK (64 * 1024)
/* Messages handled per readable callback before yielding to other peers. */
#define PROTO_BATCH 64
#define PROTO_MAX_SUBS 64
#define PROTO_MAX_EVENT_NAME 64

/* ================================================================ framing */

struct proto_conn {
	int fd, out_fd;
	int out_kind;		/* 0 unknown, 1 socket (send+MSG_NOSIGNAL), 2 other */
	int failed;		/* recv failed: nothing more is read */
	int out_failed;		/* flush failed: nothing more is written */

	char *in;		/* received bytes; unparsed ones start at in_off */
	size_t in_off, in_len, in_cap;
	size_t in_scanned;	/* bytes after in_off known to hold no newline */
	int in_eof;

	char *out;		/* queued bytes; unsent ones start at out_off */
	size_t out_off, out_len, out_cap;
};

struct proto_conn *
proto_conn_new(int fd, int out_fd)
{
	struct proto_conn *c;

	if (fd < 0)
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->out_fd = out_fd < 0 ? fd : out_fd;
	fd_set_nonblock(c->fd, 1);
	fd_set_cloexec(c->fd, 1);
	if (c->out_fd != c->fd) {
		fd_set_nonblock(c->out_fd, 1);
		fd_set_cloexec(c->out_fd, 1);
	}
	return c;
}

void
proto_conn_free(struct proto_conn *c)
{
	if (c == NULL)
		return;
	if (c->out_fd != c->fd && c->out_fd >= 0)
		close(c->out_fd);
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

int
proto_conn_fd(const struct proto_conn *c)
{
	return c ? c->fd : -1;
}

int
proto_conn_out_fd(const struct proto_conn *c)
{
	return c ? c->out_fd : -1;
}

size_t
proto_conn_pending(const struct proto_conn *c)
{
	return c ? c->out_len - c->out_off : 0;
}

size_t
proto_conn_buffered(const struct proto_conn *c)
{
	return c ? c->in_len - c->in_off : 0;
}

int
proto_parse_line(const char *buf, size_t len, json_object **msg, struct berr *err)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	*msg = NULL;
	if (len + 1 > PROTO_MAX_MSG)
		return berr_set(err, BERR_PROTO, "message longer than %d bytes", PROTO_MAX_MSG);
	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len == 0)
		return berr_set(err, BERR_PROTO, "empty message");
	if (memchr(buf, '\0', len) != NULL)
		return berr_set(err, BERR_PROTO, "malformed JSON: NUL byte in message");
	tok = json_tokener_new_ex(PROTO_MAX_DEPTH);
	if (tok == NULL)
		return berr_set(err, ENOMEM, "cannot allocate a JSON parser");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj == NULL || jerr != json_tokener_success) {
		json_object_put(obj);
		if (jerr == json_tokener_error_depth)
			return berr_set(err, BERR_PROTO, "JSON nested deeper than %d levels",
					PROTO_MAX_DEPTH);
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			return berr_set(err, BERR_PROTO, "malformed JSON: incomplete value");
		return berr_set(err, BERR_PROTO, "malformed JSON: %s", json_tokener_error_desc(jerr));
	}
	if (end < len) {
		json_object_put(obj);
		return berr_set(err, BERR_PROTO, "malformed JSON: trailing bytes after the value");
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return berr_set(err, BERR_PROTO, "message is not a JSON object");
	}
	*msg = obj;
	return 0;
}

/* Make room for n more input bytes, moving unparsed bytes to the front. */
static void
proto_conn_in_reserve(struct proto_conn *c, size_t n)
{
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_cap - c->in_len < n) {
		c->in_cap = c->in_len + n;
		c->in = xrealloc(c->in, c->in_cap);
	}
}

int
proto_conn_recv(struct proto_conn *c, json_object **msg, struct berr *err)
{
	*msg = NULL;
	if (c == NULL)
		return berr_set(err, EINVAL, "no connection");
	if (c->failed)
		return berr_set(err, ECONNRESET, "connection is closed");
	for (;;) {
		char *start = c->in != NULL ? c->in + c->in_off : NULL;
		size_t avail = c->in_len - c->in_off;
		char *nl = NULL;
		ssize_t n;

		if (avail > c->in_scanned)
			nl = memchr(start + c->in_scanned, '\n', avail - c->in_scanned);
		if (nl != NULL) {
			size_t len = (size_t)(nl - start);

			c->in_off += len + 1;
			c->in_scanned = 0;
			/* Blank lines (keep-alives from humans with socat) are skipped. */
			if (len == 0 || (len == 1 && start[0] == '\r'))
				continue;
			if (proto_parse_line(start, len, msg, err) < 0) {
				c->failed = 1;
				return -1;
			}
			return 1;
		}
		c->in_scanned = avail;
		if (avail >= PROTO_MAX_MSG) {
			c->failed = 1;
			return berr_set(err, BERR_PROTO, "message longer than %d bytes", PROTO_MAX_MSG);
		}
		if (c->in_eof) {
			c->failed = 1;
			if (avail > 0)
				return berr_set(err, ECONNRESET, "peer closed the connection in the middle of a message");
			return berr_set(err, ECONNRESET, "peer closed the connection");
		}
		proto_conn_in_reserve(c, PROTO_READ_CHUNK);
		n = read(c->fd, c->in + c->in_len, PROTO_READ_CHUNK);
		if (n > 0) {
			c->in_len += (size_t)n;
		} else if (n == 0) {
			c->in_eof = 1;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		} else {
			c->failed = 1;
			if (errno == ECONNRESET)
				return berr_set(err, ECONNRESET, "peer reset the connection");
			return berr_errno(err, "reading from peer");
		}
	}
}

/* Append raw bytes (one serialised message and its newline) to the queue. */
static int
proto_conn_queue(struct proto_conn *c, const char *buf, size_t len, struct berr *err)
{
	size_t pending = c->out_len - c->out_off;

	if (pending + len > PROTO_MAX_QUEUE)
		return berr_set(err, ENOBUFS, "output queue over %d bytes: peer is not reading",
				PROTO_MAX_QUEUE);
	if (c->out_off > 0 && (c->out_off >= c->out_cap / 2 || c->out_cap - c->out_len < len)) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_len = pending;
		c->out_off = 0;
	}
	if (c->out_cap - c->out_len < len) {
		size_t cap = c->out_cap ? c->out_cap : 4096;

		while (cap - c->out_len < len)
			cap *= 2;
		c->out = xrealloc(c->out, cap);
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
proto_utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

/* Copy json-c's output into a line the strict parser on the other side
 * accepts, newline added.  json-c writes string bytes as they are, and NaN
 * and Infinity as bare words; one such value (a file name in Latin-1, a
 * metric with no data) would make the peer drop the whole connection.
 * Invalid bytes become U+FFFD; the words, outside strings, become null. */
static char *
proto_wire_line(const char *s, size_t len, size_t *len_out)
{
	/* Worst case: every byte becomes 3 (U+FFFD); "NaN" becomes 4. */
	char *line = xmalloc(len * 3 + 2), *o = line;
	int in_string = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char ch = (unsigned char)s[i];
		size_t n;

		if (in_string) {
			if (ch == '\\' && i + 1 < len) {
				*o++ = s[i++];
				*o++ = s[i++];
				continue;
			}
			if (ch == '"')
				in_string = 0;
			n = proto_utf8_seq((const unsigned char *)s + i, len - i);
			if (n == 0) {
				memcpy(o, "\xef\xbf\xbd", 3);
				o += 3;
				i++;
				continue;
			}
			memcpy(o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		if (ch == '"') {
			in_string = 1;
		} else if (ch == 'N' && len - i >= 3 && memcmp(s + i, "NaN", 3) == 0) {
			memcpy(o, "null", 4);
			o += 4;
			i += 3;
			continue;
		} else if (ch == '-' && len - i >= 9 && memcmp(s + i, "-Infinity", 9) == 0) {
			memcpy(o, "null", 4);
			o += 4;
			i += 9;
			continue;
		} else if (ch == 'I' && len - i >= 8 && memcmp(s + i, "Infinity", 8) == 0) {
			memcpy(o, "null", 4);
			o += 4;
			i += 8;
			continue;
		}
		*o++ = (char)ch;
		i++;
	}
	*o++ = '\n';
	*len_out = (size_t)(o - line);
	return line;
}

/* Serialise msg as one line (with its newline) into a new buffer. */
static char *
proto_serialise(json_object *msg, size_t *len_out, struct berr *err)
{
	const char *s;
	size_t len;
	char *line;

	s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	if (s == NULL) {
		berr_set(err, ENOMEM, "cannot serialise message");
		return NULL;
	}
	if (len + 1 > PROTO_MAX_MSG) {
		berr_set(err, BERR_PROTO, "message of %zu bytes is longer than %d", len + 1, PROTO_MAX_MSG);
		return NULL;
	}
	line = proto_wire_line(s, len, len_out);
	if (*len_out > PROTO_MAX_MSG) {
		free(line);
		berr_set(err, BERR_PROTO, "message of %zu bytes is longer than %d", *len_out, PROTO_MAX_MSG);
		return NULL;
	}
	return line;
}

int
proto_conn_send(struct proto_conn *c, json_object *msg, struct berr *err)
{
	char *line;
	size_t len;
	int r;

	if (c == NULL || msg == NULL)
		return berr_set(err, EINVAL, "nothing to send");
	if (c->out_failed)
		return berr_set(err, EPIPE, "connection is closed");
	line = proto_serialise(msg, &len, err);
	if (line == NULL)
		return -1;
	r = proto_conn_queue(c, line, len, err);
	free(line);
	return r;
}

/* write(2) to a pipe or tty without ever taking SIGPIPE: block it for the
 * call and swallow one raised by us (not one that was already pending). */
static ssize_t
proto_write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old_set, pending;
	int was_pending, saved;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	errno = saved;
	return n;
}

static ssize_t
proto_conn_write(struct proto_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->out_kind != 2) {
		n = send(c->out_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0 || errno != ENOTSOCK) {
			c->out_kind = 1;
			return n;
		}
		c->out_kind = 2;
	}
	return proto_write_nosigpipe(c->out_fd, buf, len);
}

int
proto_conn_flush(struct proto_conn *c, struct berr *err)
{
	if (c == NULL)
		return berr_set(err, EINVAL, "no connection");
	if (c->out_failed)
		return berr_set(err, EPIPE, "connection is closed");
	while (c->out_off < c->out_len) {
		ssize_t n = proto_conn_write(c, c->out + c->out_off, c->out_len - c->out_off);

		if (n > 0) {
			c->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			c->out_failed = 1;
			if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
				return berr_set(err, EPIPE, "peer closed the connection");
			return berr_errno(err, "writing to peer");
		}
	}
	c->out_off = c->out_len = 0;
	return 1;
}

/* =============================================================== messages */

json_object *
proto_request(int64_t id, const char *op, json_object *args)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "op", json_object_new_string(op ? op : ""));
	if (args != NULL)
		json_object_object_add(o, "args", args);
	return o;
}

json_object *
proto_reply_ok(int64_t id, json_object *result)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "result", result);
	return o;
}

static json_object *
proto_error_object(const struct berr *e)
{
	json_object *eo = json_object_new_object();
	int code = e ? e->code : 0;

	json_object_object_add(eo, "code", json_object_new_string(code ? berr_code_name(code) : "error"));
	json_object_object_add(eo, "message",
			       json_object_new_string(e && e->msg[0] ? e->msg : "unknown error"));
	return eo;
}

json_object *
proto_reply_err(int64_t id, const struct berr *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "error", proto_error_object(e));
	return o;
}

/* An error reply to a message whose id is unknown (malformed input). */
static json_object *
proto_reply_err_noid(const struct berr *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", NULL);
	json_object_object_add(o, "error", proto_error_object(e));
	return o;
}

json_object *
proto_event(const char *event, const char *instance, json_object *data)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(event ? event : ""));
	if (instance != NULL)
		json_object_object_add(o, "instance", json_object_new_string(instance));
	if (data != NULL)
		json_object_object_add(o, "data", data);
	json_object_object_add(o, "ts", json_object_new_int64(now_realtime_ms()));
	return o;
}

static int
proto_has(json_object *msg, const char *key, json_object **val)
{
	return json_object_object_get_ex(msg, key, val);
}

enum proto_kind
proto_classify(json_object *msg, struct berr *err)
{
	json_object *v, *id = NULL;
	int has_id, has_op, has_event, has_result, has_error;

	if (msg == NULL || !json_object_is_type(msg, json_type_object)) {
		berr_set(err, BERR_PROTO, "message is not a JSON object");
		return PROTO_INVALID;
	}
	has_id = proto_has(msg, "id", &id);
	has_op = proto_has(msg, "op", NULL);
	has_event = proto_has(msg, "event", NULL);
	has_result = proto_has(msg, "result", NULL);
	has_error = proto_has(msg, "error", NULL);
	if (has_op + has_event + (has_result || has_error) != 1) {
		berr_set(err, BERR_PROTO, "message is neither a request, a reply nor an event");
		return PROTO_INVALID;
	}
	if (has_op) {
		proto_has(msg, "op", &v);
		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
			berr_set(err, BERR_PROTO, "request: \"op\" must be a non-empty string");
			return PROTO_INVALID;
		}
		if (has_id && !json_object_is_type(id, json_type_int)) {
			berr_set(err, BERR_PROTO, "request: \"id\" must be an integer");
			return PROTO_INVALID;
		}
		if (proto_has(msg, "args", &v) && v != NULL && !json_object_is_type(v, json_type_object)) {
			berr_set(err, BERR_PROTO, "request: \"args\" must be an object");
			return PROTO_INVALID;
		}
		return PROTO_REQUEST;
	}
	if (has_event) {
		proto_has(msg, "event", &v);
		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
			berr_set(err, BERR_PROTO, "event: \"event\" must be a non-empty string");
			return PROTO_INVALID;
		}
		if (proto_has(msg, "instance", &v) && v != NULL && !json_object_is_type(v, json_type_string)) {
			berr_set(err, BERR_PROTO, "event: \"instance\" must be a string");
			return PROTO_INVALID;
		}
		if (proto_has(msg, "ts", &v) && v != NULL && !json_object_is_type(v, json_type_int)) {
			berr_set(err, BERR_PROTO, "event: \"ts\" must be an integer");
			return PROTO_INVALID;
		}
		return PROTO_EVENT;
	}
	if (has_result && has_error) {
		berr_set(err, BERR_PROTO, "reply has both \"result\" and \"error\"");
		return PROTO_INVALID;
	}
	/* An error reply may carry "id": null when the request was unreadable. */
	if (has_result && !(has_id && json_object_is_type(id, json_type_int))) {
		berr_set(err, BERR_PROTO, "reply: \"id\" must be an integer");
		return PROTO_INVALID;
	}
	if (has_error) {
		json_object *code, *message;

		if (has_id && id != NULL && !json_object_is_type(id, json_type_int)) {
			berr_set(err, BERR_PROTO, "reply: \"id\" must be an integer or null");
			return PROTO_INVALID;
		}
		proto_has(msg, "error", &v);
		if (!json_object_is_type(v, json_type_object) || !proto_has(v, "code", &code) ||
		    !json_object_is_type(code, json_type_string)) {
			berr_set(err, BERR_PROTO, "reply: \"error\" must be an object with a string \"code\"");
			return PROTO_INVALID;
		}
		if (proto_has(v, "message", &message) && !json_object_is_type(message, json_type_string)) {
			berr_set(err, BERR_PROTO, "reply: \"error\".\"message\" must be a string");
			return PROTO_INVALID;
		}
	}
	return PROTO_REPLY;
}

int
proto_msg_id(json_object *msg, int64_t *id)
{
	json_object *v;

	if (!json_object_object_get_ex(msg, "id", &v) || !json_object_is_type(v, json_type_int))
		return 0;
	*id = json_object_get_int64(v);
	return 1;
}

int
proto_reply_error(json_object *reply, struct berr *err)
{
	json_object *e, *code, *message;
	const char *text = "no message";

	if (!json_object_object_get_ex(reply, "error", &e) || e == NULL)
		return 0;
	json_object_object_get_ex(e, "code", &code);
	if (json_object_object_get_ex(e, "message", &message) && json_object_is_type(message, json_type_string))
		text = json_object_get_string(message);
	berr_set(err, berr_code_from_name(json_object_get_string(code)), "%s", text);
	return -1;
}

static json_object *
proto_arg_get(json_object *args, const char *key)
{
	json_object *v = NULL;

	if (args == NULL || !json_object_is_type(args, json_type_object))
		return NULL;
	json_object_object_get_ex(args, key, &v);
	return v;	/* NULL when absent or JSON null */
}

int
proto_arg_str(json_object *args, const char *key, const char **out, const char *def, struct berr *err)
{
	json_object *v = proto_arg_get(args, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return berr_set(err, BERR_INVALID, "argument `%s' must be a string", key);
	*out = json_object_get_string(v);
	return 0;
}

int
proto_arg_int(json_object *args, const char *key, int64_t *out, int64_t def, struct berr *err)
{
	json_object *v = proto_arg_get(args, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return berr_set(err, BERR_INVALID, "argument `%s' must be an integer", key);
	*out = json_object_get_int64(v);
	if ((*out == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX))
		return berr_set(err, BERR_INVALID, "argument `%s' is out of range", key);
	return 0;
}

int
proto_arg_bool(json_object *args, const char *key, int *out, int def, struct berr *err)
{
	json_object *v = proto_arg_get(args, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return berr_set(err, BERR_INVALID, "argument `%s' must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* ============================================ loop glue shared by both ends */

/* The loop side of one proto_conn: a read watch on fd and a write watch on
 * out_fd (one watch when they are the same fd). */
struct proto_watch {
	struct loop *loop;
	int in_id, out_id;	/* out_id == -1 when shared with in_id */
	int want_out;
};

static void
proto_watch_events(struct proto_watch *w, int reading, int writing)
{
	if (w->loop == NULL)
		return;
	w->want_out = writing;
	if (w->out_id < 0) {
		loop_update_fd(w->loop, w->in_id, (reading ? POLLIN : 0) | (writing ? POLLOUT : 0));
	} else {
		loop_update_fd(w->loop, w->in_id, reading ? POLLIN : 0);
		loop_update_fd(w->loop, w->out_id, writing ? POLLOUT : 0);
	}
}

static void
proto_watch_remove(struct proto_watch *w)
{
	if (w->loop == NULL)
		return;
	if (w->in_id > 0)
		loop_remove_fd(w->loop, w->in_id);
	if (w->out_id > 0)
		loop_remove_fd(w->loop, w->out_id);
	w->in_id = w->out_id = -1;
	w->loop = NULL;
}

static int
proto_watch_add(struct proto_watch *w, struct loop *l, struct proto_conn *pc, loop_fd_cb cb, void *arg)
{
	w->loop = l;
	w->out_id = -1;
	w->in_id = loop_add_fd(l, pc->fd, POLLIN, cb, arg, NULL);
	if (w->in_id < 0) {
		w->loop = NULL;
		return -1;
	}
	if (pc->out_fd != pc->fd) {
		w->out_id = loop_add_fd(l, pc->out_fd, 0, cb, arg, NULL);
		if (w->out_id < 0) {
			loop_remove_fd(l, w->in_id);
			w->loop = NULL;
			return -1;
		}
	}
	return 0;
}

/* ================================================================= client */

struct proto_call {
	struct proto_call *next;
	struct proto_client *client;
	int64_t id;
	int timer_id;
	proto_reply_cb cb;
	void *arg;
	char op[64];
};

struct proto_client {
	struct proto_conn *conn;
	int refs;
	int freed;
	int dead;
	struct berr dead_err;
	json_object *hello;
	int64_t next_id;

	proto_event_cb event_cb;
	void *event_arg;

	struct proto_watch watch;
	struct loop *loop;	/* set by attach, kept after death for timers */
	int resume_timer;
	void (*on_close)(struct proto_client *c, const struct berr *err, void *arg);
	void *close_arg;
	int close_reported;

	struct proto_call *calls;	/* async calls waiting for replies */

	/* A reply to the sync call in progress, if a nested loop read it. */
	int64_t sync_id;
	int sync_waiting;
	json_object *sync_reply;
};

static void proto_client_release(struct proto_client *c);

static void
proto_client_ref(struct proto_client *c)
{
	c->refs++;
}

static void
proto_client_unref(struct proto_client *c)
{
	if (--c->refs == 0)
		proto_client_release(c);
}

static struct proto_call *
proto_client_take_call(struct proto_client *c, int64_t id)
{
	struct proto_call **pp;

	for (pp = &c->calls; *pp != NULL; pp = &(*pp)->next) {
		struct proto_call *call = *pp;

		if (call->id == id) {
			*pp = call->next;
			if (call->timer_id > 0)
				loop_remove_timer(c->loop, call->timer_id);
			call->timer_id = -1;
			return call;
		}
	}
	return NULL;
}

/* Run an async call's callback exactly once and free the call. */
static void
proto_call_finish(struct proto_client *c, struct proto_call *call, json_object *reply,
		  const struct berr *e)
{
	struct berr rerr;

	berr_clear(&rerr);
	if (e == NULL && proto_reply_error(reply, &rerr) < 0) {
		berr_wrap(&rerr, "%s", call->op);
		e = &rerr;
	}
	if (e != NULL)
		call->cb(c, NULL, e, call->arg);
	else
		call->cb(c, json_object_object_get(reply, "result"), NULL, call->arg);
	free(call);
}

/* The connection is gone (or unusable): fail every async call, tell the owner. */
static void
proto_client_die(struct proto_client *c, const struct berr *e)
{
	struct proto_call *call;

	if (c->dead)
		return;
	c->dead = 1;
	c->dead_err = *e;
	proto_watch_remove(&c->watch);
	if (c->resume_timer > 0)
		loop_remove_timer(c->loop, c->resume_timer);
	c->resume_timer = 0;
	proto_client_ref(c);
	while (c->calls != NULL) {
		call = proto_client_take_call(c, c->calls->id);
		proto_call_finish(c, call, NULL, &c->dead_err);
	}
	if (c->on_close != NULL && !c->close_reported && !c->freed) {
		c->close_reported = 1;
		c->on_close(c, &c->dead_err, c->close_arg);
	}
	proto_client_unref(c);
}

/* Handle one message from the server outside a sync wait for it.
 * Returns -1 (connection dead) or 0. */
static int
proto_client_dispatch(struct proto_client *c, json_object *msg)
{
	struct berr err;
	struct proto_call *call;
	int64_t id;

	berr_clear(&err);
	switch (proto_classify(msg, &err)) {
	case PROTO_EVENT:
		if (c->event_cb != NULL && !c->freed)
			c->event_cb(c, msg, c->event_arg);
		return 0;
	case PROTO_REPLY:
		if (!proto_msg_id(msg, &id)) {
			/* The server could not read something of ours and is closing. */
			proto_reply_error(msg, &err);
			berr_wrap(&err, "server rejected the connection");
			proto_client_die(c, &err);
			return -1;
		}
		if (c->sync_waiting && id == c->sync_id && c->sync_reply == NULL) {
			c->sync_reply = json_object_get(msg);
			return 0;
		}
		call = proto_client_take_call(c, id);
		if (call != NULL)
			proto_call_finish(c, call, msg, NULL);
		/* Otherwise a stale reply to a call that timed out: ignored. */
		return 0;
	case PROTO_REQUEST:
		berr_set(&err, BERR_PROTO, "server sent a request");
		/* fall through */
	default:
		berr_wrap(&err, "bad message from server");
		proto_client_die(c, &err);
		return -1;
	}
}

static void
proto_client_update_watch(struct proto_client *c)
{
	int writing = proto_conn_pending(c->conn) > 0;

	if (c->watch.loop != NULL && !c->dead && writing != c->watch.want_out)
		proto_watch_events(&c->watch, 1, writing);
}

static void proto_client_io_cb(struct loop *l, int id, int fd, int revents, void *arg);

static void
proto_client_resume_cb(struct loop *l, int id, void *arg)
{
	struct proto_client *c = arg;

	loop_remove_timer(l, id);
	c->resume_timer = 0;
	proto_client_io_cb(l, 0, -1, POLLIN, c);
}

/* Complete lines already in our buffer are invisible to poll(): read them
 * on the next loop iteration. */
static void
proto_client_schedule_resume(struct proto_client *c)
{
	if (c->watch.loop != NULL && !c->dead && !c->freed && c->resume_timer <= 0 &&
	    proto_conn_buffered(c->conn) > 0)
		c->resume_timer = loop_add_timer(c->loop, 0, proto_client_resume_cb, c, NULL);
}

static void
proto_client_io_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct proto_client *c = arg;
	struct berr err;
	int n;

	if (c->dead || c->freed)
		return;
	berr_clear(&err);
	proto_client_ref(c);
	if (revents & (POLLOUT | POLLERR | POLLHUP)) {
		if (proto_conn_pending(c->conn) > 0 && proto_conn_flush(c->conn, &err) < 0) {
			proto_client_die(c, &err);
			goto out;
		}
	}
	for (n = 0; n < PROTO_BATCH && !c->dead && !c->freed; n++) {
		json_object *msg;
		int r = proto_conn_recv(c->conn, &msg, &err);

		if (r == 0)
			break;
		if (r < 0) {
			proto_client_die(c, &err);
			break;
		}
		proto_client_dispatch(c, msg);
		json_object_put(msg);
	}
	if (n == PROTO_BATCH)
		proto_client_schedule_resume(c);
	if (!c->dead && !c->freed)
		proto_client_update_watch(c);
out:
	proto_client_unref(c);
}

/* Our write failed because the server hung up: it may have said why first
 * (e.g. EBUSY when it has too many clients).  Prefer that reason. */
static void
proto_client_salvage_reason(struct proto_client *c, struct berr *err)
{
	json_object *msg;
	struct berr ignored;
	int i;

	for (i = 0; i < 4 && proto_conn_recv(c->conn, &msg, &ignored) == 1; i++) {
		int64_t id;

		if (proto_classify(msg, NULL) == PROTO_REPLY && !proto_msg_id(msg, &id) &&
		    proto_reply_error(msg, err) < 0) {
			berr_wrap(err, "server rejected the connection");
			json_object_put(msg);
			return;
		}
		json_object_put(msg);
	}
}

/* Wait for the reply to request id until deadline (now_ms clock), handling
 * everything else that arrives.  Returns 0 with *reply set, or -1. */
static int
proto_client_wait(struct proto_client *c, int64_t id, int64_t deadline, const char *op,
		  int timeout_ms, json_object **reply, struct berr *err)
{
	/* A callback run from here may make a call of its own: restore the
	 * outer call's state when this one is over. */
	int64_t outer_id = c->sync_id;
	int outer_waiting = c->sync_waiting;
	json_object *outer_reply = c->sync_reply;
	int ret = -1;

	*reply = NULL;
	c->sync_id = id;
	c->sync_waiting = 1;
	c->sync_reply = NULL;
	proto_client_ref(c);
	for (;;) {
		struct pollfd pfd[2];
		json_object *msg;
		int r, nfds = 1;
		int64_t left;

		if (c->sync_reply != NULL) {
			*reply = c->sync_reply;
			c->sync_reply = NULL;
			ret = 0;
			break;
		}
		if (c->freed) {
			berr_set(err, ECANCELED, "%s: client closed during the call", op);
			break;
		}
		if (c->dead) {
			*err = c->dead_err;
			berr_wrap(err, "%s", op);
			break;
		}
		/* Checked on every message, not only when the peer is quiet: a
		 * server streaming events must not hold the caller forever. */
		left = deadline - now_ms();
		if (left <= 0) {
			berr_set(err, BERR_TIMEOUT, "%s: no reply within %d ms", op, timeout_ms);
			break;
		}
		if (cancel_requested()) {
			berr_set(err, ECANCELED, "%s: interrupted while waiting for the reply", op);
			break;
		}
		if (proto_conn_pending(c->conn) > 0 && proto_conn_flush(c->conn, err) < 0) {
			proto_client_salvage_reason(c, err);
			proto_client_die(c, err);
			continue;
		}
		r = proto_conn_recv(c->conn, &msg, err);
		if (r < 0) {
			proto_client_die(c, err);
			continue;
		}
		if (r > 0) {
			int64_t mid;

			if (proto_classify(msg, NULL) == PROTO_REPLY && proto_msg_id(msg, &mid) && mid == id) {
				*reply = msg;
				ret = 0;
				break;
			}
			proto_client_dispatch(c, msg);
			json_object_put(msg);
			continue;
		}
		pfd[0].fd = c->conn->fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (proto_conn_pending(c->conn) > 0) {
			if (c->conn->out_fd == c->conn->fd) {
				pfd[0].events |= POLLOUT;
			} else {
				pfd[1].fd = c->conn->out_fd;
				pfd[1].events = POLLOUT;
				pfd[1].revents = 0;
				nfds = 2;
			}
		}
		if (poll(pfd, (nfds_t)nfds, left > 1000000 ? 1000000 : (int)left) < 0 && errno != EINTR) {
			berr_errno(err, "%s: waiting for the reply", op);
			break;
		}
	}
	if (c->sync_reply != NULL)
		json_object_put(c->sync_reply);
	c->sync_id = outer_id;
	c->sync_waiting = outer_waiting;
	c->sync_reply = outer_reply;
	proto_client_schedule_resume(c);
	proto_client_unref(c);
	return ret;
}

/* Send a request; args are borrowed (a reference is taken for the message). */
static int
proto_client_send_request(struct proto_client *c, int64_t id, const char *op, json_object *args,
			  struct berr *err)
{
	json_object *req;
	int r;

	req = proto_request(id, op, args ? json_object_get(args) : NULL);
	r = proto_conn_send(c->conn, req, err);
	json_object_put(req);
	if (r < 0)
		return berr_wrap(err, "%s", op);
	if (proto_conn_flush(c->conn, err) < 0) {
		proto_client_salvage_reason(c, err);
		proto_client_die(c, err);
		return berr_wrap(err, "%s", op);
	}
	proto_client_update_watch(c);
	return 0;
}

static int
proto_client_handshake(struct proto_client *c, const char *client_name, int timeout_ms,
		       struct berr *err)
{
	json_object *args = json_object_new_object(), *reply = NULL, *result, *v;
	int64_t deadline = now_ms() + timeout_ms;
	int r;

	json_object_object_add(args, "version", json_object_new_int(PROTO_VERSION));
	json_object_object_add(args, "client", json_object_new_string(client_name ? client_name : "berth"));
	r = proto_client_send_request(c, 0, "hello", args, err);
	json_object_put(args);
	if (r < 0)
		return -1;
	if (proto_client_wait(c, 0, deadline, "hello", timeout_ms, &reply, err) < 0)
		return -1;
	if (proto_reply_error(reply, err) < 0) {
		json_object_put(reply);
		return berr_wrap(err, "hello");
	}
	result = json_object_object_get(reply, "result");
	if (!json_object_is_type(result, json_type_object) ||
	    !json_object_object_get_ex(result, "version", &v) || !json_object_is_type(v, json_type_int)) {
		json_object_put(reply);
		return berr_set(err, BERR_PROTO, "hello: server's reply has no protocol version");
	}
	if (json_object_get_int64(v) != PROTO_VERSION) {
		int64_t theirs = json_object_get_int64(v);

		json_object_put(reply);
		return berr_set(err, BERR_VERSION, "hello: server speaks protocol version %lld, we speak %d",
				(long long)theirs, PROTO_VERSION);
	}
	c->hello = json_object_get(result);
	json_object_put(reply);
	return 0;
}

int
proto_client_open_fds(int in_fd, int out_fd, const char *client_name, int timeout_ms,
		      struct proto_client **out, struct berr *err)
{
	struct proto_client *c;

	*out = NULL;
	if (in_fd < 0) {
		if (out_fd >= 0)
			close(out_fd);
		return berr_set(err, EBADF, "no file descriptor to talk on");
	}
	if (timeout_ms <= 0)
		timeout_ms = PROTO_DEFAULT_TIMEOUT_MS;
	c = xcalloc(1, sizeof *c);
	c->conn = proto_conn_new(in_fd, out_fd);
	c->refs = 1;
	c->next_id = 1;
	c->watch.in_id = c->watch.out_id = -1;
	if (proto_client_handshake(c, client_name, timeout_ms, err) < 0) {
		proto_client_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static int
proto_unix_addr(const char *path, struct sockaddr_un *sa, struct berr *err)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0')
		return berr_set(err, EINVAL, "empty socket path");
	if (strlen(path) >= sizeof sa->sun_path)
		return berr_set(err, ENAMETOOLONG, "socket path `%s' is longer than %zu bytes", path,
				sizeof sa->sun_path - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Non-blocking connect bounded by deadline.  A unix socket answers EAGAIN
 * (not EINPROGRESS) when the server's backlog is full: retry until then. */
static int
proto_unix_connect(const char *path, int64_t deadline, struct berr *err)
{
	struct sockaddr_un sa;
	int fd;

	if (proto_unix_addr(path, &sa, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_errno(err, "socket");
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int64_t left;
		int soerr = 0;
		socklen_t len = sizeof soerr;

		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		left = deadline - now_ms();
		if (errno == EAGAIN) {
			if (left <= 0)
				break;
			poll(NULL, 0, left < 10 ? (int)left : 10);
			continue;
		}
		if (errno != EINPROGRESS) {
			berr_errno(err, "connecting to `%s'", path);
			close(fd);
			return -1;
		}
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
			errno = soerr ? soerr : errno;
			berr_errno(err, "connecting to `%s'", path);
			close(fd);
			return -1;
		}
		return fd;
	}
	close(fd);
	return berr_set(err, BERR_TIMEOUT, "connecting to `%s': timed out", path);
}

int
proto_client_connect(const char *path, const char *client_name, int timeout_ms,
		     struct proto_client **out, struct berr *err)
{
	int64_t deadline;
	int fd;

	*out = NULL;
	if (timeout_ms <= 0)
		timeout_ms = PROTO_DEFAULT_TIMEOUT_MS;
	deadline = now_ms() + timeout_ms;
	fd = proto_unix_connect(path, deadline, err);
	if (fd < 0)
		return -1;
	if (proto_client_open_fds(fd, -1, client_name, (int)(deadline - now_ms()) > 0 ?
				  (int)(deadline - now_ms()) : 1, out, err) < 0)
		return berr_wrap(err, "`%s'", path);
	return 0;
}

static void
proto_client_release(struct proto_client *c)
{
	proto_conn_free(c->conn);
	json_object_put(c->hello);
	json_object_put(c->sync_reply);
	free(c);
}

void
proto_client_free(struct proto_client *c)
{
	struct proto_call *call;
	struct berr e;

	if (c == NULL || c->freed)
		return;
	c->freed = 1;
	proto_watch_remove(&c->watch);
	if (c->resume_timer > 0)
		loop_remove_timer(c->loop, c->resume_timer);
	c->resume_timer = 0;
	berr_set(&e, ECANCELED, "connection closed by us before the reply");
	while (c->calls != NULL) {
		call = proto_client_take_call(c, c->calls->id);
		proto_call_finish(c, call, NULL, &e);
	}
	proto_client_unref(c);
}

json_object *
proto_client_hello(struct proto_client *c)
{
	return c ? c->hello : NULL;
}

int
proto_client_call(struct proto_client *c, const char *op, json_object *args, int timeout_ms,
		  json_object **result, struct berr *err)
{
	json_object *reply = NULL;
	int64_t id, deadline;

	if (result != NULL)
		*result = NULL;
	if (c == NULL || c->freed)
		return berr_set(err, EINVAL, "%s: no connection", op);
	if (c->dead) {
		*err = c->dead_err;
		return berr_wrap(err, "%s", op);
	}
	if (timeout_ms <= 0)
		timeout_ms = PROTO_DEFAULT_TIMEOUT_MS;
	deadline = now_ms() + timeout_ms;
	id = c->next_id++;
	if (proto_client_send_request(c, id, op, args, err) < 0)
		return -1;
	if (proto_client_wait(c, id, deadline, op, timeout_ms, &reply, err) < 0)
		return -1;
	if (proto_reply_error(reply, err) < 0) {
		json_object_put(reply);
		return berr_wrap(err, "%s", op);
	}
	if (result != NULL)
		*result = json_object_get(json_object_object_get(reply, "result"));
	json_object_put(reply);
	return 0;
}

static void
proto_call_timeout_cb(struct loop *l, int id, void *arg)
{
	struct proto_call *call = arg;
	struct proto_client *c = call->client;
	struct berr e;

	call = proto_client_take_call(c, call->id);	/* also removes this timer */
	if (call == NULL)
		return;
	berr_set(&e, BERR_TIMEOUT, "no reply within the deadline");
	proto_client_ref(c);
	proto_call_finish(c, call, NULL, &e);
	proto_client_unref(c);
}

int
proto_client_call_async(struct proto_client *c, const char *op, json_object *args, int timeout_ms,
			proto_reply_cb cb, void *arg, struct berr *err)
{
	struct proto_call *call;
	int64_t id;

	if (c == NULL || c->freed || cb == NULL)
		return berr_set(err, EINVAL, "%s: no connection or no callback", op);
	if (c->watch.loop == NULL && !c->dead)
		return berr_set(err, EINVAL, "%s: asynchronous call on a client not attached to a loop", op);
	if (c->dead) {
		*err = c->dead_err;
		return berr_wrap(err, "%s", op);
	}
	if (timeout_ms <= 0)
		timeout_ms = PROTO_DEFAULT_TIMEOUT_MS;
	id = c->next_id++;
	if (proto_client_send_request(c, id, op, args, err) < 0)
		return -1;
	call = xcalloc(1, sizeof *call);
	call->client = c;
	call->id = id;
	call->cb = cb;
	call->arg = arg;
	strlcpy_b(call->op, op, sizeof call->op);
	call->timer_id = loop_add_timer(c->loop, timeout_ms, proto_call_timeout_cb, call, NULL);
	call->next = c->calls;
	c->calls = call;
	return 0;
}

void
proto_client_set_event_cb(struct proto_client *c, proto_event_cb cb, void *arg)
{
	if (c == NULL)
		return;
	c->event_cb = cb;
	c->event_arg = arg;
}

int
proto_client_attach(struct proto_client *c, struct loop *l,
		    void (*on_close)(struct proto_client *c, const struct berr *err, void *arg), void *arg)
{
	if (c == NULL || l == NULL || c->dead || c->watch.loop != NULL)
		return -1;
	if (proto_watch_add(&c->watch, l, c->conn, proto_client_io_cb, c) < 0)
		return -1;
	c->loop = l;
	c->on_close = on_close;
	c->close_arg = arg;
	proto_client_update_watch(c);
	proto_client_schedule_resume(c);
	return 0;
}

int
proto_client_fd(const struct proto_client *c)
{
	return c ? proto_conn_fd(c->conn) : -1;
}

int
proto_client_alive(const struct proto_client *c)
{
	return c != NULL && !c->dead && !c->freed;
}

/* ================================================================= server */

struct proto_sconn {
	struct proto_sconn *next, *prev;
	struct proto_server *server;	/* NULL once the connection is closed */
	struct proto_conn *conn;
	struct proto_watch watch;
	int refs;		/* the server's link + one per open request */
	int dead;
	int hello_done;
	int subscribed_all;
	char *subs[PROTO_MAX_SUBS];
	size_t nsubs;
	int resume_timer;	/* > 0: lines are buffered, read them next iteration */
	int nreqs;		/* requests handed to the handler, not yet answered */
	int draining;		/* peer sent EOF: finish answering, then close */
};

struct proto_req {
	struct proto_sconn *conn;
	int64_t id;
	int has_id;
};

struct proto_server {
	struct loop *loop;
	int listen_fd, listen_id;
	int accept_timer;	/* > 0 while accepting is paused (EMFILE) */
	char *name;
	json_object *hello_info;
	proto_handler handler;
	void *arg;
	struct proto_sconn *conns;
	size_t nconns;
	int refs;
	int freed;
};

static void
proto_server_ref(struct proto_server *s)
{
	s->refs++;
}

static void
proto_server_unref(struct proto_server *s)
{
	if (--s->refs > 0)
		return;
	free(s->name);
	json_object_put(s->hello_info);
	free(s);
}

static void
proto_sconn_unref(struct proto_sconn *sc)
{
	size_t i;

	if (--sc->refs > 0)
		return;
	for (i = 0; i < sc->nsubs; i++)
		free(sc->subs[i]);
	proto_conn_free(sc->conn);
	free(sc);
}

/* Close a connection now.  Open requests keep the struct alive; their
 * answers are dropped. */
static void
proto_sconn_close(struct proto_sconn *sc)
{
	struct proto_server *s = sc->server;

	if (sc->dead)
		return;
	sc->dead = 1;
	proto_watch_remove(&sc->watch);
	if (sc->resume_timer > 0 && s != NULL)
		loop_remove_timer(s->loop, sc->resume_timer);
	sc->resume_timer = 0;
	if (s != NULL) {
		if (sc->prev)
			sc->prev->next = sc->next;
		else
			s->conns = sc->next;
		if (sc->next)
			sc->next->prev = sc->prev;
		s->nconns--;
	}
	sc->server = NULL;
	/* Close the fds now so the peer sees EOF; keep the struct for requests. */
	proto_conn_free(sc->conn);
	sc->conn = NULL;
	proto_sconn_unref(sc);
}

/* Try to write what is queued; watch POLLOUT while something is left. */
static void
proto_sconn_flush(struct proto_sconn *sc)
{
	struct berr err;
	int r;

	if (sc->dead)
		return;
	r = proto_conn_flush(sc->conn, &err);
	if (r < 0 || (r == 1 && sc->draining && sc->nreqs == 0)) {
		proto_sconn_close(sc);
		return;
	}
	if ((r == 0) != sc->watch.want_out)
		proto_watch_events(&sc->watch, !sc->draining, r == 0);
}

/* The peer shut down its sending side.  A client like `socat' may still
 * read: answer what it asked (queued and deferred replies), then close. */
static void
proto_sconn_drain(struct proto_sconn *sc)
{
	sc->draining = 1;
	if (sc->resume_timer > 0 && sc->server != NULL)
		loop_remove_timer(sc->server->loop, sc->resume_timer);
	sc->resume_timer = 0;
	proto_watch_events(&sc->watch, 0, proto_conn_pending(sc->conn) > 0);
	proto_sconn_flush(sc);
}

/* Queue one serialised line; a peer whose queue overflows is disconnected. */
static int
proto_sconn_queue(struct proto_sconn *sc, const char *line, size_t len)
{
	struct berr err;

	if (sc->dead)
		return -1;
	if (proto_conn_queue(sc->conn, line, len, &err) < 0) {
		proto_sconn_close(sc);
		return -1;
	}
	proto_sconn_flush(sc);
	return 0;
}

static void
proto_sconn_send(struct proto_sconn *sc, json_object *msg)
{
	struct berr err;
	size_t len;
	char *line;

	if (sc->dead)
		return;
	line = proto_serialise(msg, &len, &err);
	if (line == NULL) {
		/* Our own reply is unsendable (too large): say so instead. */
		int64_t id;
		json_object *e;

		if (!proto_msg_id(msg, &id))
			return;
		e = proto_reply_err(id, &err);
		line = proto_serialise(e, &len, &err);
		json_object_put(e);
		if (line == NULL)
			return;
	}
	proto_sconn_queue(sc, line, len);
	free(line);
}

/* A peer broke the protocol: tell it why (best effort) and hang up. */
static void
proto_sconn_reject(struct proto_sconn *sc, const struct berr *e, json_object *msg)
{
	json_object *reply;
	int64_t id;

	if (sc->dead)
		return;
	reply = msg != NULL && proto_msg_id(msg, &id) ? proto_reply_err(id, e) : proto_reply_err_noid(e);
	proto_sconn_send(sc, reply);
	json_object_put(reply);
	if (!sc->dead) {
		struct berr ignored;

		proto_conn_flush(sc->conn, &ignored);
		proto_sconn_close(sc);
	}
}

static void
proto_sconn_reply(struct proto_sconn *sc, json_object *msg, json_object *result, const struct berr *e)
{
	json_object *reply;
	int64_t id;

	if (!proto_msg_id(msg, &id)) {
		json_object_put(result);	/* a request without id gets no reply */
		return;
	}
	reply = e != NULL ? proto_reply_err(id, e) : proto_reply_ok(id, result);
	proto_sconn_send(sc, reply);
	json_object_put(reply);
}

static void
proto_sconn_hello(struct proto_sconn *sc, json_object *msg, json_object *args)
{
	struct proto_server *s = sc->server;
	json_object *result, *v;
	struct berr e;
	int64_t version = -1;

	berr_clear(&e);
	if (sc->hello_done) {
		berr_set(&e, BERR_STATE, "hello was already done on this connection");
		proto_sconn_reply(sc, msg, NULL, &e);
		return;
	}
	if (proto_arg_int(args, "version", &version, -1, &e) < 0 || version != PROTO_VERSION) {
		if (version < 0)
			berr_set(&e, BERR_VERSION, "hello without a protocol version; %s speaks version %d",
				 s->name, PROTO_VERSION);
		else
			berr_set(&e, BERR_VERSION, "protocol version %lld is not supported; %s speaks version %d",
				 (long long)version, s->name, PROTO_VERSION);
		proto_sconn_reject(sc, &e, msg);
		return;
	}
	result = json_object_new_object();
	if (s->hello_info != NULL) {
		json_object_object_foreach(s->hello_info, key, val)
			json_object_object_add(result, key, json_object_get(val));
	}
	json_object_object_add(result, "version", json_object_new_int(PROTO_VERSION));
	json_object_object_add(result, "server", json_object_new_string(s->name));
	v = json_object_new_array();
	json_object_array_add(v, json_object_new_string("hello"));
	json_object_array_add(v, json_object_new_string("subscribe"));
	json_object_array_add(v, json_object_new_string("unsubscribe"));
	if (!json_object_object_get_ex(result, "builtin_ops", NULL))
		json_object_object_add(result, "builtin_ops", v);
	else
		json_object_put(v);
	sc->hello_done = 1;
	proto_sconn_reply(sc, msg, result, NULL);
}

static json_object *
proto_sconn_subs_json(const struct proto_sconn *sc)
{
	json_object *a = json_object_new_array();
	size_t i;

	if (sc->subscribed_all)
		json_object_array_add(a, json_object_new_string("*"));
	for (i = 0; i < sc->nsubs; i++)
		json_object_array_add(a, json_object_new_string(sc->subs[i]));
	return a;
}

/* subscribe/unsubscribe: args.events is a list of names or "*" (absent: "*"). */
static void
proto_sconn_subscribe(struct proto_sconn *sc, json_object *msg, json_object *args, int on)
{
	json_object *events = NULL, *result;
	struct berr e;
	size_t i, j, n;

	berr_clear(&e);
	if (args != NULL)
		json_object_object_get_ex(args, "events", &events);
	if (events != NULL && !json_object_is_type(events, json_type_array)) {
		berr_set(&e, BERR_INVALID, "argument `events' must be a list of event names");
		proto_sconn_reply(sc, msg, NULL, &e);
		return;
	}
	n = events ? json_object_array_length(events) : 0;
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(events, i);

		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
		    json_object_get_string_len(v) > PROTO_MAX_EVENT_NAME) {
			berr_set(&e, BERR_INVALID, "argument `events': each must be a name of 1 to %d bytes",
				 PROTO_MAX_EVENT_NAME);
			proto_sconn_reply(sc, msg, NULL, &e);
			return;
		}
	}
	if (events == NULL) {
		sc->subscribed_all = on;
		if (!on) {
			for (j = 0; j < sc->nsubs; j++)
				free(sc->subs[j]);
			sc->nsubs = 0;
		}
	}
	for (i = 0; i < n; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(events, i));

		if (strcmp(name, "*") == 0) {
			sc->subscribed_all = on;
			if (!on) {
				for (j = 0; j < sc->nsubs; j++)
					free(sc->subs[j]);
				sc->nsubs = 0;
			}
			continue;
		}
		for (j = 0; j < sc->nsubs; j++)
			if (strcmp(sc->subs[j], name) == 0)
				break;
		if (on && j == sc->nsubs) {
			if (sc->nsubs == PROTO_MAX_SUBS) {
				berr_set(&e, BERR_INVALID, "too many subscriptions (at most %d names)",
					 PROTO_MAX_SUBS);
				proto_sconn_reply(sc, msg, NULL, &e);
				return;
			}
			sc->subs[sc->nsubs++] = xstrdup(name);
		} else if (!on && j < sc->nsubs) {
			free(sc->subs[j]);
			sc->subs[j] = sc->subs[--sc->nsubs];
		}
	}
	result = json_object_new_object();
	json_object_object_add(result, "events", proto_sconn_subs_json(sc));
	proto_sconn_reply(sc, msg, result, NULL);
}

static int
proto_sconn_wants(const struct proto_sconn *sc, const char *event)
{
	size_t i;

	if (sc->dead || !sc->hello_done)
		return 0;
	if (sc->subscribed_all)
		return 1;
	for (i = 0; i < sc->nsubs; i++)
		if (strcmp(sc->subs[i], event) == 0)
			return 1;
	return 0;
}

/* One message from a peer. */
static void
proto_sconn_handle(struct proto_sconn *sc, json_object *msg)
{
	struct proto_server *s = sc->server;
	json_object *args = NULL, *empty = NULL;
	const char *op;
	struct berr e;
	struct proto_req *req;

	berr_clear(&e);
	if (proto_classify(msg, &e) != PROTO_REQUEST) {
		if (e.code == 0)
			berr_set(&e, BERR_PROTO, "only requests may be sent to a server");
		proto_sconn_reject(sc, &e, msg);
		return;
	}
	op = json_object_get_string(json_object_object_get(msg, "op"));
	json_object_object_get_ex(msg, "args", &args);
	if (args == NULL)
		args = empty = json_object_new_object();
	if (strcmp(op, "hello") == 0) {
		proto_sconn_hello(sc, msg, args);
	} else if (!sc->hello_done) {
		berr_set(&e, BERR_PROTO, "the first request must be hello");
		proto_sconn_reject(sc, &e, msg);
	} else if (strcmp(op, "subscribe") == 0) {
		proto_sconn_subscribe(sc, msg, args, 1);
	} else if (strcmp(op, "unsubscribe") == 0) {
		proto_sconn_subscribe(sc, msg, args, 0);
	} else if (s->handler == NULL) {
		berr_set(&e, BERR_NOTSUP, "%s does not support `%s'", s->name, op);
		proto_sconn_reply(sc, msg, NULL, &e);
	} else if (sc->nreqs >= PROTO_MAX_INFLIGHT) {
		berr_set(&e, EBUSY, "%s: `%s' refused: %d requests of this connection in flight already",
			 s->name, op, PROTO_MAX_INFLIGHT);
		proto_sconn_reply(sc, msg, NULL, &e);
	} else {
		req = xcalloc(1, sizeof *req);
		req->conn = sc;
		req->has_id = proto_msg_id(msg, &req->id);
		sc->refs++;
		sc->nreqs++;
		s->handler(s, req, op, args, s->arg);
	}
	json_object_put(empty);
}

static void proto_sconn_io_cb(struct loop *l, int id, int fd, int revents, void *arg);

static void
proto_sconn_resume_cb(struct loop *l, int id, void *arg)
{
	struct proto_sconn *sc = arg;

	loop_remove_timer(l, id);
	sc->resume_timer = 0;
	if (!sc->dead)
		proto_sconn_io_cb(l, 0, -1, POLLIN, sc);
}

static void
proto_sconn_io_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct proto_sconn *sc = arg;
	struct proto_server *s = sc->server;
	int n;

	if (sc->dead || s == NULL)
		return;
	sc->refs++;
	proto_server_ref(s);
	if (revents & POLLOUT)
		proto_sconn_flush(sc);
	if (sc->draining && !sc->dead && (revents & (POLLERR | POLLHUP)))
		proto_sconn_close(sc);
	for (n = 0; n < PROTO_BATCH && !sc->dead && !sc->draining && !s->freed; n++) {
		json_object *msg;
		struct berr err;
		int r;

		berr_clear(&err);
		r = proto_conn_recv(sc->conn, &msg, &err);
		if (r == 0)
			break;
		if (r < 0) {
			if (err.code == BERR_PROTO)
				proto_sconn_reject(sc, &err, NULL);
			else if (sc->conn->in_eof && err.code == ECONNRESET && sc->hello_done &&
				 !(revents & (POLLHUP | POLLERR)))
				proto_sconn_drain(sc);	/* half-closed (shutdown): it still reads */
			else
				proto_sconn_close(sc);
			break;
		}
		proto_sconn_handle(sc, msg);
		json_object_put(msg);
	}
	/* Fairness: lines left in our buffer are invisible to poll(). */
	if (n == PROTO_BATCH && !sc->dead && !sc->draining && !s->freed && sc->resume_timer <= 0 &&
	    proto_conn_buffered(sc->conn) > 0)
		sc->resume_timer = loop_add_timer(s->loop, 0, proto_sconn_resume_cb, sc, NULL);
	proto_server_unref(s);
	proto_sconn_unref(sc);
}

static int
proto_server_adopt(struct proto_server *s, int in_fd, int out_fd, struct berr *err)
{
	struct proto_sconn *sc = xcalloc(1, sizeof *sc);

	sc->conn = proto_conn_new(in_fd, out_fd);
	sc->server = s;
	sc->refs = 1;
	if (proto_watch_add(&sc->watch, s->loop, sc->conn, proto_sconn_io_cb, sc) < 0) {
		proto_conn_free(sc->conn);
		free(sc);
		return berr_set(err, ENOMEM, "cannot watch the connection");
	}
	sc->next = s->conns;
	if (s->conns)
		s->conns->prev = sc;
	s->conns = sc;
	s->nconns++;
	return 0;
}

static void
proto_server_resume_accept_cb(struct loop *l, int id, void *arg)
{
	struct proto_server *s = arg;

	loop_remove_timer(l, id);
	s->accept_timer = 0;
	loop_update_fd(l, s->listen_id, POLLIN);
}

/* Best effort: tell a peer over the limit why it is turned away. */
static void
proto_server_turn_away(struct proto_server *s, int fd)
{
	struct berr e;
	json_object *reply;
	size_t len;
	char *line;

	berr_set(&e, EBUSY, "%s: too many connections (at most %d)", s->name, PROTO_MAX_CLIENTS);
	reply = proto_reply_err_noid(&e);
	line = proto_serialise(reply, &len, &e);
	if (line != NULL && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* nothing more to do for it */
	}
	free(line);
	json_object_put(reply);
	close(fd);
}

static void
proto_server_accept_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct proto_server *s = arg;
	int i;

	for (i = 0; i < PROTO_BATCH; i++) {
		struct berr err;
		int cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop polling the listener for a while
				 * instead of spinning on it. */
				loop_update_fd(l, s->listen_id, 0);
				if (s->accept_timer <= 0)
					s->accept_timer = loop_add_timer(l, 100, proto_server_resume_accept_cb,
									 s, NULL);
			}
			return;
		}
		if (s->nconns >= PROTO_MAX_CLIENTS) {
			proto_server_turn_away(s, cfd);
			continue;
		}
		if (proto_server_adopt(s, cfd, -1, &err) < 0)
			close(cfd);
	}
}

int
proto_listen_unix(const char *path, int *fd_out, struct berr *err)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int fd, r, saved;

	*fd_out = -1;
	if (proto_unix_addr(path, &sa, err) < 0)
		return -1;
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode))
			return berr_set(err, EEXIST, "`%s' exists and is not a socket", path);
		/* Somebody still listening there is not stale.  Non-blocking: a
		 * blocking connect(2) waits as long as the listener's backlog is
		 * full (EAGAIN here: busy, so alive).  Only a refused connection
		 * proves the socket stale. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return berr_errno(err, "socket");
		r = connect(probe, (struct sockaddr *)&sa, sizeof sa);
		saved = errno;
		close(probe);
		if (r == 0 || saved == EAGAIN || saved == EINPROGRESS)
			return berr_set(err, EADDRINUSE, "`%s' is in use by a running server", path);
		if (saved != ECONNREFUSED && saved != ENOENT) {
			errno = saved;
			return berr_errno(err, "checking whether `%s' is in use", path);
		}
		if (unlink(path) < 0 && errno != ENOENT)
			return berr_errno(err, "removing stale socket `%s'", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_errno(err, "socket");
	/* umask makes the socket 0600 from birth: no window where others
	 * could connect. */
	old_mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old_mask);
	if (r < 0) {
		berr_errno(err, "binding `%s'", path);
		close(fd);
		return -1;
	}
	if (chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		berr_errno(err, "listening on `%s'", path);
		close(fd);
		unlink(path);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

struct proto_server *
proto_server_new(struct loop *l, int listen_fd, const char *server_name, json_object *hello_info,
		 proto_handler h, void *arg)
{
	struct proto_server *s;

	if (l == NULL) {
		json_object_put(hello_info);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->loop = l;
	s->listen_fd = listen_fd;
	s->listen_id = -1;
	s->name = xstrdup(server_name ? server_name : "berth");
	if (hello_info != NULL && !json_object_is_type(hello_info, json_type_object)) {
		json_object_put(hello_info);
		hello_info = NULL;
	}
	s->hello_info = hello_info;
	s->handler = h;
	s->arg = arg;
	s->refs = 1;
	if (listen_fd >= 0) {
		fd_set_nonblock(listen_fd, 1);
		fd_set_cloexec(listen_fd, 1);
		s->listen_id = loop_add_fd(l, listen_fd, POLLIN, proto_server_accept_cb, s, NULL);
		if (s->listen_id < 0) {
			close(listen_fd);
			free(s->name);
			json_object_put(s->hello_info);
			free(s);
			return NULL;
		}
	}
	return s;
}

int
proto_server_add_fds(struct proto_server *s, int in_fd, int out_fd, struct berr *err)
{
	if (s == NULL || s->freed || in_fd < 0)
		return berr_set(err, EINVAL, "no server or no file descriptor");
	if (s->nconns >= PROTO_MAX_CLIENTS)
		return berr_set(err, EBUSY, "%s: too many connections (at most %d)", s->name,
				PROTO_MAX_CLIENTS);
	return proto_server_adopt(s, in_fd, out_fd, err);
}

void
proto_server_free(struct proto_server *s)
{
	if (s == NULL || s->freed)
		return;
	s->freed = 1;
	while (s->conns != NULL)
		proto_sconn_close(s->conns);
	if (s->listen_id > 0)
		loop_remove_fd(s->loop, s->listen_id);
	if (s->accept_timer > 0)
		loop_remove_timer(s->loop, s->accept_timer);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	proto_server_unref(s);
}

/* Answer and free a request; the answer is dropped if its peer left. */
static void
proto_req_finish(struct proto_req *r, json_object *result, const struct berr *e)
{
	struct proto_sconn *sc = r->conn;

	sc->nreqs--;
	if (!sc->dead && r->has_id) {
		json_object *reply = e != NULL ? proto_reply_err(r->id, e) : proto_reply_ok(r->id, result);

		proto_sconn_send(sc, reply);
		json_object_put(reply);
	} else {
		json_object_put(result);
	}
	if (!sc->dead && sc->draining)
		proto_sconn_flush(sc);	/* closes once nothing is left to say */
	proto_sconn_unref(sc);
	free(r);
}

void
proto_req_reply(struct proto_req *r, json_object *result)
{
	if (r == NULL) {
		json_object_put(result);
		return;
	}
	proto_req_finish(r, result, NULL);
}

void
proto_req_error(struct proto_req *r, const struct berr *e)
{
	struct berr fallback;

	if (r == NULL)
		return;
	if (e == NULL) {
		berr_set(&fallback, BERR_REMOTE, "unknown error");
		e = &fallback;
	}
	proto_req_finish(r, NULL, e);
}

int
proto_req_alive(const struct proto_req *r)
{
	return r != NULL && !r->conn->dead;
}

void
proto_server_emit(struct proto_server *s, const char *event, const char *instance, json_object *data)
{
	struct proto_sconn *sc, *next;
	json_object *msg;
	struct berr err;
	size_t len;
	char *line;

	if (s == NULL || s->freed || event == NULL) {
		json_object_put(data);
		return;
	}
	for (sc = s->conns; sc != NULL; sc = sc->next)
		if (proto_sconn_wants(sc, event))
			break;
	if (sc == NULL) {
		json_object_put(data);
		return;
	}
	msg = proto_event(event, instance, data);
	line = proto_serialise(msg, &len, &err);
	json_object_put(msg);
	if (line == NULL)
		return;
	for (sc = s->conns; sc != NULL; sc = next) {
		next = sc->next;	/* sc may be closed (and unlinked) below */
		if (proto_sconn_wants(sc, event))
			proto_sconn_queue(sc, line, len);
	}
	free(line);
}

size_t
proto_server_nclients(const struct proto_server *s)
{
	return s ? s->nconns : 0;
}
