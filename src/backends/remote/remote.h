/*
 * remote.h - internals shared by the remote backend (the client side of
 * `berth proxy` over ssh) and the proxy server itself.
 *
 * Wire protocol (proto.h framing; berth proxy's operations, documented for
 * users in berth-protocol(7), OPERATIONS OF berth proxy, which
 * tests/remote/proxy-doc.sh keeps in step with remote-proxy.c):
 *   hello result: {"server":"berth-proxy","host":HOSTNAME,"berth_version":V,...}
 *   list                                 -> {"instances":[INSTANCE...],"failures":[...]}
 *   get|info {backend,uri,name}          -> INSTANCE (info: the full detail)
 *   start|pause|resume|destroy|undefine {backend,uri,name}   -> {}
 *   shutdown {...,timeout,force}  kill {...,signal}          -> {}
 *   define {backend,uri,name,json|xml}   -> INSTANCE
 *   stats {instances:[{backend,uri,name}...]} -> {"stats":[SAMPLE...],"now_ms":T}
 *   host_info                            -> {"host":H,"connections":[...]}
 *   console_open {backend,uri,name}      -> {"ch":N}
 *   console_read {ch}                    -> {"b64":DATA,"eof":BOOL}  (long poll)
 *   console_write {ch,b64}               -> {}
 *   console_close {ch}                   -> {}
 * INSTANCE is instance_to_json() plus "uri" (the remote connection's URI).
 * Events are the remote session's bus, republished as protocol events named
 * by their type with data {backend,host,state,detail}.  Before anything
 * else the proxy writes one banner line, {"event":"berth-proxy",...}, so
 * the client can skip what a login shell printed first.
 * Not for: the front-end (src/cmd/cmd-proxy.c only calls remote_proxy_run).
 */
#ifndef BERTH_REMOTE_H
#define BERTH_REMOTE_H

#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"

struct session;

#define REMOTE_BANNER_EVENT "berth-proxy"
/* Console bytes per console_read reply / console_write request. */
#define REMOTE_CONSOLE_CHUNK (32 * 1024)
/* How long the proxy holds a console_read with nothing to say. */
#define REMOTE_CONSOLE_IDLE_MS 15000
/* Most instances in one stats request, console channels per connection. */
#define REMOTE_MAX_BATCH 4096
#define REMOTE_MAX_CHANNELS 64

/* ---- base64 (RFC 4648, with padding) ---- */
/* Encode n bytes; returns a NUL-terminated string (caller frees). */
char *remote_b64_encode(const void *data, size_t n);
/* Decode; -1 on a malformed string.  *out (caller frees) gets *outlen bytes. */
int remote_b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen);

/* ---- the transport: ssh or a local command ---- */
struct remote_target {
	int is_exec;		/* exec:COMMAND (tests) instead of ssh:// */
	char *command;		/* exec: the command line, run by /bin/sh -c */
	char *user, *host, *port;
	char *berth;		/* remote berth program ("berth") */
	char **env;		/* NAME=VALUE set for the remote berth */
	size_t nenv;
	char **connect;		/* --connect URIs for the remote berth */
	size_t nconnect;
	char *label;		/* host label shown for its instances, or NULL */
	int timeout_ms;		/* handshake timeout */
	int timeout_set;	/* given by ?timeout= or $BERTH_REMOTE_TIMEOUT:
				 * also bounds list, stats and info calls */
};

int remote_target_parse(const char *uri, struct remote_target *t, struct berr *err);
void remote_target_free(struct remote_target *t);
/* The remote command line ssh runs (quoted for a POSIX shell). */
char *remote_target_command(const struct remote_target *t);
/* NULL-terminated argv for the local process (caller frees each + array). */
char **remote_target_argv(const struct remote_target *t);
void remote_argv_free(char **argv);

struct remote_proc {
	pid_t pid;		/* 0: none */
	int from_fd;		/* read: the child's stdout */
	int to_fd;		/* write: the child's stdin */
	int err_fd;		/* read: the child's stderr (non-blocking) */
	char errbuf[2048];	/* the last bytes the child wrote to stderr */
	size_t errlen;
	int reaped, status;
	char *what;		/* "ssh" or the command's first word */
};

int remote_proc_spawn(struct remote_proc *p, char **argv, const char *what, struct berr *err);
/* Read what the child wrote to stderr (keeping the tail). */
void remote_proc_drain_stderr(struct remote_proc *p);
/* Wait up to wait_ms for the child to exit; 1 if it has. */
int remote_proc_reap(struct remote_proc *p, int wait_ms);
/* Append "; ssh exited 255: <its last stderr line>" style detail to err. */
void remote_proc_explain(struct remote_proc *p, struct berr *err);
/* Close the pipes, let the child go (TERM, then KILL), reap it. */
void remote_proc_stop(struct remote_proc *p);

/* ---- the proxy server (berth proxy) ---- */
/* Serve s's instances on in_fd/out_fd until in_fd closes.  0 on a clean
 * end, -1 with err when it could not start. */
int remote_proxy_run(struct session *s, int in_fd, int out_fd, struct berr *err);

#endif
