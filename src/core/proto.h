/*
 * proto.h - berth's control protocol: newline-delimited JSON over a unix
 * stream socket (or any fd pair, e.g. an SSH session's stdio for
 * `berth proxy`).  Spoken by berth-vmm, berth-ctr monitors and berth proxy.
 *
 * Wire format: one JSON object per line, at most PROTO_MAX_MSG bytes
 * including the newline, nested at most PROTO_MAX_DEPTH deep.
 *   request  {"id": N, "op": "name", "args": {...}}        args optional
 *   reply    {"id": N, "result": ...}
 *          | {"id": N, "error": {"code": "notfound", "message": "..."}}
 *   event    {"event": "state", "instance": "web1", "data": {...}, "ts": ms}
 * The first request on a connection must be
 *   {"id": 0, "op": "hello", "args": {"version": 1, "client": "berth"}}
 * answered with {"id":0,"result":{"version":1,"server":"berth-vmm",...}} or
 * an error with code "version".  Events reach a connection only after it
 * sent {"op":"subscribe","args":{"events":["*"]}} (or a list of names).
 * berth-protocol(7) describes the protocol; berth-vmm(1) and berth-ctr(1) list
 * the operations and events of their servers.
 *
 * All I/O is non-blocking; a client call has a deadline, and a server never
 * waits on one peer: a peer that does not read its replies or events is
 * disconnected once its output queue passes PROTO_MAX_QUEUE.
 */
#ifndef BERTH_PROTO_H
#define BERTH_PROTO_H

#include <stdint.h>
#include <stddef.h>
#include <json-c/json.h>

#include "core/error.h"

#define PROTO_VERSION 1
#define PROTO_MAX_MSG (1024 * 1024)
#define PROTO_MAX_DEPTH 32
#define PROTO_MAX_QUEUE (8 * 1024 * 1024)
/* Requests of one connection handed to the handler and not answered yet
 * (deferred ones: exec, waits); more are refused with EBUSY, so a peer
 * cannot make a server hold unbounded state or work for it. */
#define PROTO_MAX_INFLIGHT 1024
#define PROTO_DEFAULT_TIMEOUT_MS 5000
/* Simultaneous connections per server; more are answered EBUSY and closed. */
#define PROTO_MAX_CLIENTS 64

struct loop;

/* ---------------------------------------------------------------- framing */

struct proto_conn;

/* Wrap a connected fd (made non-blocking; owned: closed by _free).
 * out_fd may differ from fd (stdin/stdout pair); pass -1 to use fd. */
struct proto_conn *proto_conn_new(int fd, int out_fd);
void proto_conn_free(struct proto_conn *c);
int proto_conn_fd(const struct proto_conn *c);
int proto_conn_out_fd(const struct proto_conn *c);

/* Read what the fd has and return the next complete message.
 * 1: *msg set (caller owns it); 0: no complete message yet (would block);
 * -1: error in err: peer closed (ECONNRESET), oversized, malformed JSON,
 * nesting too deep, not an object (BERR_PROTO).  After -1 the connection is
 * unusable. */
int proto_conn_recv(struct proto_conn *c, json_object **msg, struct berr *err);
/* Serialise and queue msg (not consumed).  -1 if it is too large or the
 * output queue is over PROTO_MAX_QUEUE. */
int proto_conn_send(struct proto_conn *c, json_object *msg, struct berr *err);
/* Write queued bytes without blocking.  1: all written; 0: some left (wait
 * for POLLOUT); -1: error (peer gone: EPIPE, never SIGPIPE). */
int proto_conn_flush(struct proto_conn *c, struct berr *err);
size_t proto_conn_pending(const struct proto_conn *c);
/* Bytes received but not yet returned by proto_conn_recv (poll() cannot
 * see them: call recv again before waiting). */
size_t proto_conn_buffered(const struct proto_conn *c);
/* Parse one line (without its newline) into a message object: the framing
 * checks of proto_conn_recv minus the I/O.  0 and *msg (caller owns), or -1
 * with BERR_PROTO in err.  Also the fuzzing entry point. */
int proto_parse_line(const char *buf, size_t len, json_object **msg, struct berr *err);

/* --------------------------------------------------------------- messages */

enum proto_kind { PROTO_INVALID = 0, PROTO_REQUEST, PROTO_REPLY, PROTO_EVENT };

json_object *proto_request(int64_t id, const char *op, json_object *args);	/* takes args */
json_object *proto_reply_ok(int64_t id, json_object *result);			/* takes result */
json_object *proto_reply_err(int64_t id, const struct berr *e);
json_object *proto_event(const char *event, const char *instance, json_object *data); /* takes data */
/* Check the shape of a message; PROTO_INVALID with err filled if bad. */
enum proto_kind proto_classify(json_object *msg, struct berr *err);
/* 1 and *id if msg has an integer "id", else 0. */
int proto_msg_id(json_object *msg, int64_t *id);
/* For a reply: 0 if it carries a result; -1 with err filled from its
 * "error" (code by berr_code_from_name, message as sent) otherwise. */
int proto_reply_error(json_object *reply, struct berr *err);

/* Small typed getters for args: return def when absent; -1 + err when the
 * key is present with the wrong type. */
int proto_arg_str(json_object *args, const char *key, const char **out, const char *def, struct berr *err);
int proto_arg_int(json_object *args, const char *key, int64_t *out, int64_t def, struct berr *err);
int proto_arg_bool(json_object *args, const char *key, int *out, int def, struct berr *err);

/* ----------------------------------------------------------------- client */

struct proto_client;
typedef void (*proto_event_cb)(struct proto_client *c, json_object *event, void *arg);
typedef void (*proto_reply_cb)(struct proto_client *c, json_object *result,
			       const struct berr *err, void *arg);

/* Connect to a unix socket and do the hello handshake within timeout_ms. */
int proto_client_connect(const char *path, const char *client_name, int timeout_ms,
			 struct proto_client **out, struct berr *err);
/* Same over already-connected fds (SSH stdio); takes ownership of both. */
int proto_client_open_fds(int in_fd, int out_fd, const char *client_name, int timeout_ms,
			  struct proto_client **out, struct berr *err);
void proto_client_free(struct proto_client *c);
/* The server's hello result (borrowed). */
json_object *proto_client_hello(struct proto_client *c);

/* (Both calls borrow args: the caller still owns them.  timeout_ms <= 0
 * means PROTO_DEFAULT_TIMEOUT_MS.  *result is the caller's to put.) */
/* Synchronous call: send, wait up to timeout_ms for the reply.  Events that
 * arrive meanwhile go to the event callback.  result may be NULL. */
int proto_client_call(struct proto_client *c, const char *op, json_object *args,
		      int timeout_ms, json_object **result, struct berr *err);
/* Asynchronous call: needs proto_client_attach.  cb runs exactly once: with
 * the result, an error reply, a timeout or a disconnect. */
int proto_client_call_async(struct proto_client *c, const char *op, json_object *args,
			    int timeout_ms, proto_reply_cb cb, void *arg, struct berr *err);
void proto_client_set_event_cb(struct proto_client *c, proto_event_cb cb, void *arg);
/* Watch the client's fd in a loop: events and async replies are dispatched
 * from there.  on_close (may be NULL) runs once if the peer goes away. */
int proto_client_attach(struct proto_client *c, struct loop *l,
			void (*on_close)(struct proto_client *c, const struct berr *err, void *arg),
			void *arg);
int proto_client_fd(const struct proto_client *c);
int proto_client_alive(const struct proto_client *c);

/* ----------------------------------------------------------------- server */

struct proto_server;
struct proto_req;

/* (op and args are borrowed for the duration of the call: take a reference
 * to args to keep them for a deferred answer.  args is never NULL.) */
/* A handler answers with proto_req_reply/proto_req_error, now or later (the
 * request stays valid until answered; if its peer vanishes the answer is
 * dropped).  "hello" and "subscribe" never reach handlers. */
typedef void (*proto_handler)(struct proto_server *s, struct proto_req *req, const char *op,
			      json_object *args, void *arg);

/* Create a listening unix socket at path (a stale socket file is replaced;
 * mode 0600). */
int proto_listen_unix(const char *path, int *fd_out, struct berr *err);
/* Serve connections accepted on listen_fd (owned) in loop l.  hello_info is
 * merged into the hello result (taken; may be NULL). */
struct proto_server *proto_server_new(struct loop *l, int listen_fd, const char *server_name,
				      json_object *hello_info, proto_handler h, void *arg);
/* Serve a single already-connected peer (stdio for berth proxy). */
int proto_server_add_fds(struct proto_server *s, int in_fd, int out_fd, struct berr *err);
void proto_server_free(struct proto_server *s);
void proto_req_reply(struct proto_req *r, json_object *result);	/* takes result; frees r */
void proto_req_error(struct proto_req *r, const struct berr *e);	/* frees r */
/* Send an event to every subscribed connection (data taken). */
void proto_server_emit(struct proto_server *s, const char *event, const char *instance,
		       json_object *data);
size_t proto_server_nclients(const struct proto_server *s);
/* Whether a deferred request's peer is still connected (answering is safe
 * either way; this only lets a handler skip useless work). */
int proto_req_alive(const struct proto_req *r);

#endif
