/*
 * monitor.c - the per-container monitor.
 *
 * For: one process per container, parent and reaper of its init (and a
 * subreaper for exec'd processes), that holds the terminal master or the
 * stdio pipes, writes a size-capped log, keeps a scrollback ring replayed to
 * every console.sock reader on attach, accepts input from one writer at a
 * time, serves ctl.sock (src/core/proto.h: state, start, kill, stop, stats,
 * ps, exec, resize, pause, resume + events state/exit/oom), records the exit
 * status and OOM kills in exit.json, and outlives every front-end.
 * Slow console readers are dropped once their queue passes a bound: the
 * container's output is always drained, so nobody can stall it.
 * Not for: command-line parsing (main.c) or the container setup (container.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/loop.h"
#include "core/proto.h"
#include "core/util.h"
#include "ctr/cgroup.h"
#include "ctr/container.h"
#include "ctr/monitor.h"
#include "ctr/net.h"
#include "ctr/state.h"

#define SCROLLBACK_SIZE (64 * 1024)
#define CONSOLE_QUEUE_MAX (1024 * 1024)
#define CONSOLE_MAX_CLIENTS 32
#define EXEC_OUTPUT_MAX (1024 * 1024)

struct mon;

struct console_client {
	struct mon *m;
	int fd;
	int watch;
	char *q;
	size_t qoff, qlen, qcap;
};

struct exec_job {
	struct mon *m;
	pid_t pid;
	int out_fd, watch;
	char *buf;
	size_t len;
	int truncated;
	int exited, status, eof;
	struct proto_req *req;
	struct exec_job *next;
};

struct stop_wait {
	struct proto_req *req;
	struct stop_wait *next;
};

struct mon {
	const struct monitor_opts *o;
	struct loop *loop;
	struct ctr_state *st;
	struct ctr_proc proc;
	struct proto_server *srv;
	int console_listen, console_watch;
	struct console_client *clients[CONSOLE_MAX_CLIENTS];
	struct console_client *writer;
	int out_fd, out_watch;		/* pty master or stdout pipe (read) */
	int in_fd;			/* pty master or stdin pipe (write) */
	int stdin_watch;		/* foreground terminal: our stdin */
	int sig_fd;
	char ring[SCROLLBACK_SIZE];
	size_t ring_start, ring_len;
	int log_fd;
	size_t log_size;
	int exited;
	int exit_code;
	uint64_t oom_seen;
	int stop_timer, kill_sent;
	struct stop_wait *stops;
	struct exec_job *jobs;
	int quit_timer;
	struct termios saved_tio;
	int tio_saved;
};

/* ------------------------------------------------------------------ output */

static void
log_write(struct mon *m, const char *buf, size_t len)
{
	if (m->log_fd < 0)
		return;
	if (m->log_size + len > m->o->log_max) {
		char *path = xasprintf("%s/container.log", m->st->dir);
		char *old = xasprintf("%s/container.log.1", m->st->dir);

		(void)rename(path, old);
		close(m->log_fd);
		m->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		m->log_size = 0;
		free(path);
		free(old);
		if (m->log_fd < 0)
			return;
	}
	if (write(m->log_fd, buf, len) > 0)
		m->log_size += len;
}

static void
ring_append(struct mon *m, const char *buf, size_t len)
{
	size_t i;

	if (len >= SCROLLBACK_SIZE) {
		buf += len - SCROLLBACK_SIZE;
		len = SCROLLBACK_SIZE;
	}
	for (i = 0; i < len; i++) {
		size_t pos = (m->ring_start + m->ring_len) % SCROLLBACK_SIZE;

		m->ring[pos] = buf[i];
		if (m->ring_len < SCROLLBACK_SIZE)
			m->ring_len++;
		else
			m->ring_start = (m->ring_start + 1) % SCROLLBACK_SIZE;
	}
}

static void console_client_drop(struct console_client *c);

/* Returns -1 when the client was dropped (and freed). */
static int
console_client_flush(struct console_client *c)
{
	while (c->qlen > 0) {
		ssize_t n = send(c->fd, c->q + c->qoff, c->qlen, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			console_client_drop(c);
			return -1;
		}
		c->qoff += (size_t)n;
		c->qlen -= (size_t)n;
	}
	if (c->qlen == 0)
		c->qoff = 0;
	loop_update_fd(c->m->loop, c->watch, POLLIN | (c->qlen ? POLLOUT : 0));
	return 0;
}

/* Returns -1 when the client was dropped (and freed). */
static int
console_client_queue(struct console_client *c, const char *buf, size_t len)
{
	if (c->qlen + len > CONSOLE_QUEUE_MAX) {
		/* A reader that does not read is dropped, never waited for. */
		console_client_drop(c);
		return -1;
	}
	if (c->qoff + c->qlen + len > c->qcap) {
		if (c->qoff) {
			memmove(c->q, c->q + c->qoff, c->qlen);
			c->qoff = 0;
		}
		if (c->qlen + len > c->qcap) {
			c->qcap = c->qlen + len + 4096;
			c->q = xrealloc(c->q, c->qcap);
		}
	}
	memcpy(c->q + c->qoff + c->qlen, buf, len);
	c->qlen += len;
	return console_client_flush(c);
}

static void
output_data(struct mon *m, const char *buf, size_t len)
{
	int i;

	log_write(m, buf, len);
	ring_append(m, buf, len);
	for (i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (m->clients[i])
			console_client_queue(m->clients[i], buf, len);
	if (!m->o->detach && m->o->cfg->terminal) {
		size_t off = 0;

		while (off < len) {
			ssize_t n = write(STDOUT_FILENO, buf + off, len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };

				(void)poll(&p, 1, 1000);
				continue;
			}
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
}

static void
out_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct mon *m = arg;
	char buf[16384];
	ssize_t n;

	n = read(fd, buf, sizeof buf);
	if (n > 0) {
		output_data(m, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF, or EIO from a pty master once every slave is closed. */
	loop_remove_fd(l, id);
	m->out_watch = 0;
}

static void
input_data(struct mon *m, const char *buf, size_t len)
{
	size_t off = 0;

	if (m->in_fd < 0)
		return;
	while (off < len) {
		ssize_t n = write(m->in_fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* The container does not read: drop the rest rather than block. */
			break;
		}
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

static void
console_client_drop(struct console_client *c)
{
	struct mon *m = c->m;
	int i;

	for (i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (m->clients[i] == c)
			m->clients[i] = NULL;
	if (m->writer == c)
		m->writer = NULL;
	loop_remove_fd(m->loop, c->watch);
	close(c->fd);
	free(c->q);
	free(c);
}

static void
console_client_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct console_client *c = arg;
	char buf[4096];
	ssize_t n;

	if ((revents & POLLOUT) && console_client_flush(c) < 0)
		return;		/* dropped */
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			console_client_drop(c);
			return;
		}
		if (n > 0) {
			if (c->m->writer == NULL)
				c->m->writer = c;
			if (c->m->writer == c)
				input_data(c->m, buf, (size_t)n);
		}
	}
	(void)l;
	(void)id;
}

static void
console_accept_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct mon *m = arg;
	struct console_client *c;
	int cfd, i, slot = -1;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (m->clients[i] == NULL) {
			slot = i;
			break;
		}
	if (slot < 0) {
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->m = m;
	c->fd = cfd;
	c->watch = loop_add_fd(l, cfd, POLLIN, console_client_cb, c, NULL);
	m->clients[slot] = c;
	/* Replay the scrollback. */
	if (m->ring_len) {
		size_t first = SCROLLBACK_SIZE - m->ring_start;

		if (first > m->ring_len)
			first = m->ring_len;
		if (console_client_queue(c, m->ring + m->ring_start, first) == 0 && m->ring_len > first)
			(void)console_client_queue(c, m->ring, m->ring_len - first);
	}
	(void)id;
	(void)revents;
}

static void
stdin_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct mon *m = arg;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n > 0) {
		input_data(m, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	loop_remove_fd(l, id);
	m->stdin_watch = 0;
}

/* -------------------------------------------------------------- lifecycle */

static void
emit_state(struct mon *m, const char *reason)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "state", json_object_new_string(state_status(m->st)));
	if (reason)
		json_object_object_add(d, "reason", json_object_new_string(reason));
	proto_server_emit(m->srv, "state", m->o->id, d);
}

static void
check_oom(struct mon *m)
{
	struct cg_stats cs;

	if (cgroup_stats(&m->proc.cg, &cs, NULL) < 0)
		return;
	if (cs.oom_kills > m->oom_seen) {
		json_object *d = json_object_new_object();

		m->oom_seen = cs.oom_kills;
		json_object_object_add(d, "oom_kills", json_object_new_int64((int64_t)cs.oom_kills));
		if (m->srv)
			proto_server_emit(m->srv, "oom", m->o->id, d);
		else
			json_object_put(d);
	}
}

static void
quit_cb(struct loop *l, int id, void *arg)
{
	(void)id;
	(void)arg;
	loop_quit(l);
}

static json_object *
exec_result(struct exec_job *j)
{
	json_object *r = json_object_new_object();
	int code = WIFEXITED(j->status) ? WEXITSTATUS(j->status) : 128 + WTERMSIG(j->status);

	const size_t budget = PROTO_MAX_MSG - 4096;	/* room for the reply around it */
	json_object *out;
	size_t enc;

	json_object_object_add(r, "exit_code", json_object_new_int(code));
	/* The cap is on raw bytes, but escaping can grow them sixfold (NUL is
	 * \u0000): shrink until the encoded reply fits in one message, or the
	 * client would get no reply at all. */
	for (;;) {
		out = json_object_new_string_len(j->buf ? j->buf : "", (int)j->len);
		enc = strlen(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
		if (enc <= budget)
			break;
		json_object_put(out);
		j->len = j->len * budget / enc;
		if (j->len > 64)
			j->len -= 64;
		j->truncated = 1;
	}
	json_object_object_add(r, "output", out);
	if (j->truncated)
		json_object_object_add(r, "truncated", json_object_new_boolean(1));
	return r;
}

static void
exec_job_maybe_done(struct exec_job *j)
{
	struct mon *m = j->m;
	struct exec_job **pp;

	if (!j->exited || !j->eof)
		return;
	if (j->req)
		proto_req_reply(j->req, exec_result(j));
	for (pp = &m->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	free(j->buf);
	free(j);
}

static void
container_exited(struct mon *m, int status)
{
	struct stop_wait *s, *next;
	struct cg_stats cs;
	char reason[64];
	json_object *d;

	m->exited = 1;
	if (WIFEXITED(status)) {
		m->st->exit_code = WEXITSTATUS(status);
		m->st->exit_signal = 0;
		snprintf(reason, sizeof reason, "exit %d", m->st->exit_code);
	} else {
		m->st->exit_signal = WTERMSIG(status);
		m->st->exit_code = 128 + m->st->exit_signal;
		snprintf(reason, sizeof reason, "signal %d", m->st->exit_signal);
	}
	m->exit_code = m->st->exit_code;
	if (cgroup_stats(&m->proc.cg, &cs, NULL) == 0 && cs.oom_kills > 0)
		m->st->oom = 1;
	if (m->st->oom)
		snprintf(reason, sizeof reason, "oom");
	m->st->exited = 1;
	m->st->finished = state_now_rfc3339();
	(void)state_save_exit(m->st, NULL);
	if (m->proc.sync_fd >= 0) {
		close(m->proc.sync_fd);
		m->proc.sync_fd = -1;
	}
	/* Whatever is left in the group (no pid namespace) goes too. */
	cgroup_kill_all(&m->proc.cg, SIGKILL);
	d = json_object_new_object();
	json_object_object_add(d, "exit_code", json_object_new_int(m->st->exit_code));
	if (m->st->exit_signal)
		json_object_object_add(d, "signal", json_object_new_int(m->st->exit_signal));
	json_object_object_add(d, "oom", json_object_new_boolean(m->st->oom));
	proto_server_emit(m->srv, "exit", m->o->id, d);
	emit_state(m, reason);
	for (s = m->stops; s; s = next) {
		json_object *r = json_object_new_object();

		next = s->next;
		json_object_object_add(r, "exit_code", json_object_new_int(m->st->exit_code));
		json_object_object_add(r, "killed", json_object_new_boolean(m->kill_sent));
		proto_req_reply(s->req, r);
		free(s);
	}
	m->stops = NULL;
	if (m->stop_timer) {
		loop_remove_timer(m->loop, m->stop_timer);
		m->stop_timer = 0;
	}
	/* Give subscribers and the last output a moment, then leave. */
	m->quit_timer = loop_add_timer(m->loop, m->o->detach ? 50 : 0, quit_cb, m, NULL);
}

static void
sig_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct mon *m = arg;
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo != SIGCHLD && m->proc.pid > 0 && !m->exited) {
			/* Foreground: pass the signal on, as `runc run` does. */
			kill(m->proc.pid, (int)si.ssi_signo);
		}
		if (si.ssi_signo == SIGWINCH && m->o->cfg->terminal && m->in_fd >= 0) {
			struct winsize ws;

			if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
				(void)ioctl(m->in_fd, TIOCSWINSZ, &ws);
		}
	}
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct exec_job *j;

		if (pid == m->proc.pid && !m->exited) {
			/* Drain what the container wrote before it died. */
			if (m->out_watch) {
				char buf[16384];
				ssize_t n;
				int rounds = 0;

				while (rounds++ < 64 && (n = read(m->out_fd, buf, sizeof buf)) > 0)
					output_data(m, buf, (size_t)n);
			}
			container_exited(m, status);
			continue;
		}
		for (j = m->jobs; j; j = j->next)
			if (j->pid == pid) {
				j->exited = 1;
				j->status = status;
				exec_job_maybe_done(j);
				break;
			}
	}
	(void)l;
	(void)id;
	(void)revents;
}

static void
oom_timer_cb(struct loop *l, int id, void *arg)
{
	struct mon *m = arg;

	(void)l;
	(void)id;
	if (!m->exited)
		check_oom(m);
}

/* -------------------------------------------------------------- ctl.sock */

static int
signal_from_json(json_object *args, int *sig, struct berr *err)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "WINCH", SIGWINCH },
	};
	json_object *v;
	size_t i;

	*sig = SIGTERM;
	if (args == NULL || !json_object_object_get_ex(args, "signal", &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);

		if (x < 1 || x > 64)
			return berr_set(err, BERR_INVALID, "signal: out of range");
		*sig = (int)x;
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (strncmp(s, "SIG", 3) == 0)
			s += 3;
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(names[i].name, s) == 0) {
				*sig = names[i].sig;
				return 0;
			}
	}
	return berr_set(err, BERR_INVALID, "signal: expected a number or a name like \"TERM\"");
}

static json_object *
stats_json(struct mon *m)
{
	struct cg_stats cs;
	json_object *r = json_object_new_object();

	if (cgroup_stats(&m->proc.cg, &cs, NULL) < 0)
		return r;
	json_object_object_add(r, "cgroup", json_object_new_string(cgroup_mode_name(m->proc.cg.mode)));
	json_object_object_add(r, "cpu_usage_ns", json_object_new_int64((int64_t)cs.cpu_usage_ns));
	json_object_object_add(r, "memory_current", json_object_new_int64((int64_t)cs.mem_current));
	if (cs.has_peak)
		json_object_object_add(r, "memory_peak", json_object_new_int64((int64_t)cs.mem_peak));
	json_object_object_add(r, "memory_limit", json_object_new_int64((int64_t)cs.mem_limit));
	json_object_object_add(r, "pids_current", json_object_new_int64((int64_t)cs.pids_current));
	json_object_object_add(r, "pids_limit", json_object_new_int64((int64_t)cs.pids_limit));
	if (cs.has_io) {
		json_object_object_add(r, "io_read_bytes", json_object_new_int64((int64_t)cs.io_read_bytes));
		json_object_object_add(r, "io_write_bytes", json_object_new_int64((int64_t)cs.io_write_bytes));
	}
	json_object_object_add(r, "oom_kills", json_object_new_int64((int64_t)cs.oom_kills));
	return r;
}

static void
stop_timeout_cb(struct loop *l, int id, void *arg)
{
	struct mon *m = arg;

	loop_remove_timer(l, id);
	m->stop_timer = 0;
	if (!m->exited) {
		m->kill_sent = 1;
		cgroup_kill_all(&m->proc.cg, SIGKILL);
		kill(m->proc.pid, SIGKILL);
	}
}

static void
exec_out_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct exec_job *j = arg;
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n > 0) {
		size_t take = (size_t)n;

		if (j->len + take > EXEC_OUTPUT_MAX) {
			take = EXEC_OUTPUT_MAX - j->len;
			j->truncated = 1;
		}
		if (take) {
			j->buf = xrealloc(j->buf, j->len + take + 1);
			memcpy(j->buf + j->len, buf, take);
			j->len += take;
		}
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	loop_remove_fd(l, id);
	close(fd);
	j->eof = 1;
	exec_job_maybe_done(j);
	(void)revents;
}

static void
op_exec(struct mon *m, struct proto_req *req, json_object *args)
{
	struct ctr_exec_opts eo;
	struct berr err = { 0 };
	json_object *v;
	char **argv = NULL, **env = NULL;
	const char *cwd = NULL;
	size_t i, n;
	int pipefd[2] = { -1, -1 };
	struct exec_job *j;
	pid_t pid;

	if (args == NULL || !json_object_object_get_ex(args, "args", &v) ||
	    !json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
	    json_object_array_length(v) > 4096) {
		berr_set(&err, BERR_INVALID, "args: expected a non-empty array of strings");
		proto_req_error(req, &err);
		return;
	}
	n = json_object_array_length(v);
	argv = xcalloc(n + 1, sizeof *argv);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string)) {
			berr_set(&err, BERR_INVALID, "args[%zu]: expected a string", i);
			goto fail;
		}
		argv[i] = (char *)json_object_get_string(e);
	}
	if (json_object_object_get_ex(args, "env", &v) && json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		env = xcalloc(n + 1, sizeof *env);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_string) || !strchr(json_object_get_string(e), '=')) {
				berr_set(&err, BERR_INVALID, "env[%zu]: expected NAME=VALUE", i);
				goto fail;
			}
			env[i] = (char *)json_object_get_string(e);
		}
	}
	if (proto_arg_str(args, "cwd", &cwd, NULL, &err) < 0)
		goto fail;
	if (m->exited || !m->st->started) {
		berr_set(&err, BERR_STATE, "container is not running");
		goto fail;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		berr_errno(&err, "pipe");
		goto fail;
	}
	memset(&eo, 0, sizeof eo);
	eo.init_pid = m->proc.pid;
	eo.cfg = m->o->cfg;
	eo.cgroup_rel = m->st->cgroup;
	eo.argv = argv;
	eo.env = env;
	eo.cwd = cwd;
	eo.pty_slave = -1;
	eo.stdio[0] = -1;
	eo.stdio[1] = pipefd[1];
	eo.stdio[2] = pipefd[1];
	if (ctr_exec_spawn(&eo, &pid, &err) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		goto fail;
	}
	close(pipefd[1]);
	j = xcalloc(1, sizeof *j);
	j->m = m;
	j->pid = pid;
	j->out_fd = pipefd[0];
	j->req = req;
	fd_set_nonblock(j->out_fd, 1);
	j->watch = loop_add_fd(m->loop, j->out_fd, POLLIN, exec_out_cb, j, NULL);
	j->next = m->jobs;
	m->jobs = j;
	free(argv);
	free(env);
	/* It may already have been reaped by sig_cb: check once. */
	{
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			j->exited = 1;
			j->status = status;
		}
	}
	return;
fail:
	free(argv);
	free(env);
	proto_req_error(req, &err);
}

static void
set_freeze(struct mon *m, int frozen, struct berr *err)
{
	struct cgroup *cg = &m->proc.cg;
	char path[PATH_MAX];
	int fd;
	const char *val;

	if (cg->mode == CG_V2) {
		snprintf(path, sizeof path, "%s/cgroup.freeze", cg->v2_dir);
		val = frozen ? "1" : "0";
	} else if (cg->v1_dir[CGC_FREEZER]) {
		snprintf(path, sizeof path, "%s/freezer.state", cg->v1_dir[CGC_FREEZER]);
		val = frozen ? "FROZEN" : "THAWED";
	} else {
		berr_set(err, BERR_NOTSUP, "no freezer cgroup");
		return;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0) {
		berr_errno(err, "%s", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	m->st->paused = frozen;
	(void)state_save(m->st, NULL);
	emit_state(m, frozen ? "paused" : "resumed");
}

static void
ctl_handler(struct proto_server *s, struct proto_req *req, const char *op, json_object *args,
	    void *arg)
{
	struct mon *m = arg;
	struct berr err = { 0 };

	(void)s;
	if (strcmp(op, "state") == 0) {
		json_object *r = state_to_json(m->st);

		json_object_object_add(r, "status", json_object_new_string(m->exited ? "stopped" : state_status(m->st)));
		proto_req_reply(req, r);
	} else if (strcmp(op, "start") == 0) {
		if (m->st->started) {
			berr_set(&err, BERR_STATE, "container already started");
		} else if (m->exited) {
			berr_set(&err, BERR_STATE, "container has stopped");
		} else if (ctr_start(&m->proc, &err) == 0) {
			m->st->started = 1;
			(void)state_save(m->st, NULL);
			emit_state(m, "started");
			proto_req_reply(req, NULL);
			return;
		} else {
			/* The init failed to exec: it is on its way out. */
			m->st->started = 1;
		}
		proto_req_error(req, &err);
	} else if (strcmp(op, "kill") == 0) {
		int sig, all = 0;

		if (signal_from_json(args, &sig, &err) < 0 ||
		    proto_arg_bool(args, "all", &all, 0, &err) < 0) {
			proto_req_error(req, &err);
			return;
		}
		if (m->exited) {
			berr_set(&err, BERR_STATE, "container is not running");
			proto_req_error(req, &err);
			return;
		}
		if (all)
			cgroup_kill_all(&m->proc.cg, sig);
		else if (kill(m->proc.pid, sig) < 0) {
			berr_errno(&err, "kill");
			proto_req_error(req, &err);
			return;
		}
		proto_req_reply(req, NULL);
	} else if (strcmp(op, "stop") == 0) {
		int64_t timeout;
		struct stop_wait *w;

		if (proto_arg_int(args, "timeout", &timeout, 10, &err) < 0) {
			proto_req_error(req, &err);
			return;
		}
		if (timeout < 0 || timeout > 3600)
			timeout = 10;
		if (m->exited) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "exit_code", json_object_new_int(m->st->exit_code));
			proto_req_reply(req, r);
			return;
		}
		w = xcalloc(1, sizeof *w);
		w->req = req;
		w->next = m->stops;
		m->stops = w;
		if (!m->st->started) {
			/* Never started: nothing to be graceful about. */
			kill(m->proc.pid, SIGKILL);
		} else {
			kill(m->proc.pid, SIGTERM);
			if (m->st->paused)
				set_freeze(m, 0, &err);
			if (!m->stop_timer)
				m->stop_timer = loop_add_timer(m->loop, timeout ? (int)timeout * 1000 : 1,
							       stop_timeout_cb, m, NULL);
		}
	} else if (strcmp(op, "stats") == 0) {
		proto_req_reply(req, stats_json(m));
	} else if (strcmp(op, "ps") == 0) {
		pid_t *pids;
		size_t n, i;
		json_object *r, *a;

		if (cgroup_pids(&m->proc.cg, &pids, &n, &err) < 0) {
			proto_req_error(req, &err);
			return;
		}
		r = json_object_new_object();
		a = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_int(pids[i]));
		free(pids);
		json_object_object_add(r, "pids", a);
		proto_req_reply(req, r);
	} else if (strcmp(op, "exec") == 0) {
		op_exec(m, req, args);
	} else if (strcmp(op, "resize") == 0) {
		int64_t rows, cols;
		struct winsize ws;

		if (proto_arg_int(args, "rows", &rows, 24, &err) < 0 ||
		    proto_arg_int(args, "cols", &cols, 80, &err) < 0) {
			proto_req_error(req, &err);
			return;
		}
		if (!m->o->cfg->terminal || m->in_fd < 0) {
			berr_set(&err, BERR_NOTSUP, "container has no terminal");
			proto_req_error(req, &err);
			return;
		}
		memset(&ws, 0, sizeof ws);
		ws.ws_row = (unsigned short)(rows > 0 && rows < 10000 ? rows : 24);
		ws.ws_col = (unsigned short)(cols > 0 && cols < 10000 ? cols : 80);
		(void)ioctl(m->in_fd, TIOCSWINSZ, &ws);
		proto_req_reply(req, NULL);
	} else if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0) {
		if (m->exited) {
			berr_set(&err, BERR_STATE, "container is not running");
		} else {
			set_freeze(m, strcmp(op, "pause") == 0, &err);
		}
		if (err.code)
			proto_req_error(req, &err);
		else
			proto_req_reply(req, NULL);
	} else {
		berr_set(&err, BERR_NOTSUP, "unknown op \"%.64s\"", op);
		proto_req_error(req, &err);
	}
}

/* ------------------------------------------------------------------ setup */

static int
listen_console(const char *path, struct berr *err)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		return berr_set(err, ENAMETOOLONG, "%s: socket path too long", path);
	strcpy(sa.sun_path, path);
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return berr_errno(err, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		berr_errno(err, "listening on %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Pick a free bridge address: the lowest .2-.254 no other container holds. */
static char *
alloc_address(const char *root, struct berr *err)
{
	char **ids;
	size_t n, i;
	unsigned char used[256];
	int k;

	memset(used, 0, sizeof used);
	if (state_list(root, &ids, &n, err) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		struct ctr_state *s;

		if (state_load(root, ids[i], &s, NULL) == 0) {
			if (s->net_addr && strncmp(s->net_addr, "10.213.0.", 9) == 0 && !s->exited)
				used[atoi(s->net_addr + 9) & 0xff] = 1;
			state_free(s);
		}
		free(ids[i]);
	}
	free(ids);
	for (k = 2; k < 255; k++)
		if (!used[k])
			return xasprintf("10.213.0.%d/%d", k, NET_BRIDGE_PREFIX);
	berr_set(err, ENOSPC, "no free address on " NET_BRIDGE_NAME);
	return NULL;
}

static void
report_ready(int fd, const struct berr *err)
{
	char buf[BERR_MSG_MAX + 32];
	int len;

	if (fd < 0)
		return;
	if (err)
		len = snprintf(buf, sizeof buf, "E%d %s", err->code, err->msg);
	else
		len = snprintf(buf, sizeof buf, "OK");
	if (len > (int)sizeof buf - 1)
		len = (int)sizeof buf - 1;
	(void)write(fd, buf, (size_t)len);
}

static int
copy_config(const char *bundle, const char *dir, struct berr *err)
{
	char *src = xasprintf("%s/config.json", bundle), *dst = xasprintf("%s/config.json", dir);
	char *buf;
	size_t len;
	int rc = read_file(src, &buf, &len, OCI_CONFIG_MAX_BYTES, err);

	if (rc == 0) {
		rc = state_write_file(dst, buf, len, err);
		free(buf);
	}
	free(src);
	free(dst);
	return rc;
}

/* The control and console sockets and the output log: set up while the
 * container's init builds its root.  Nothing is served before loop_run. */
static int
mon_listen(void *arg, struct berr *err)
{
	struct mon *m = arg;
	char *path;
	int ctl_fd = -1;

	m->loop = loop_new();
	path = xasprintf("%s/ctl.sock", m->st->dir);
	if (proto_listen_unix(path, &ctl_fd, err) < 0) {
		free(path);
		return -1;
	}
	free(path);
	{
		json_object *hello = json_object_new_object();

		json_object_object_add(hello, "id", json_object_new_string(m->o->id));
		json_object_object_add(hello, "kind", json_object_new_string("container"));
		m->srv = proto_server_new(m->loop, ctl_fd, "berth-ctr", hello, ctl_handler, m);
	}
	path = xasprintf("%s/console.sock", m->st->dir);
	m->console_listen = listen_console(path, err);
	free(path);
	if (m->console_listen < 0)
		return -1;
	m->console_watch = loop_add_fd(m->loop, m->console_listen, POLLIN, console_accept_cb, m, NULL);
	path = xasprintf("%s/container.log", m->st->dir);
	m->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(path);
	return 0;
}

int
monitor_run(const struct monitor_opts *o, int *exit_code, struct berr *err)
{
	struct mon mm, *m = &mm;
	struct ctr_create_opts co;
	const struct oci_config *c = o->cfg;
	char *path, *addr = NULL, *lockpath = NULL;
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, pty_slave = -1;
	int lock_fd = -1, ok = 0;
	sigset_t mask;

	memset(m, 0, sizeof *m);
	m->o = o;
	m->out_fd = m->in_fd = m->log_fd = m->sig_fd = m->console_listen = -1;
	*exit_code = 255;
	if (state_id_valid(o->id, err) < 0)
		goto fail_early;
	if (mkdir_p(o->root, 0711, err) < 0)
		goto fail_early;
	m->st = xcalloc(1, sizeof *m->st);
	m->st->id = xstrdup(o->id);
	m->st->dir = state_dir(o->root, o->id);
	if (mkdir(m->st->dir, 0700) < 0) {
		if (errno == EEXIST)
			berr_set(err, EEXIST, "container \"%s\" already exists", o->id);
		else
			berr_errno(err, "creating %s", m->st->dir);
		state_free(m->st);
		m->st = NULL;
		goto fail_early;
	}
	if (o->detach) {
		/* The detached monitor's own diagnostics (sanitizers, crashes). */
		int lfd;

		path = xasprintf("%s/monitor.log", m->st->dir);
		lfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (lfd >= 0) {
			dup2(lfd, STDERR_FILENO);
			close(lfd);
		}
		free(path);
	}
	path = xasprintf("%s/monitor.pid", m->st->dir);
	{
		char pidbuf[32];

		snprintf(pidbuf, sizeof pidbuf, "%d\n", (int)getpid());
		(void)state_write_file(path, pidbuf, strlen(pidbuf), NULL);
	}
	free(path);
	if (copy_config(o->bundle, m->st->dir, err) < 0)
		goto fail;
	m->st->bundle = xstrdup(o->bundle);
	if (c->root_path[0] == '/')
		m->st->rootfs = xstrdup(c->root_path);
	else
		m->st->rootfs = xasprintf("%s/%s", o->bundle, c->root_path);
	m->st->cgroup = c->cgroups_path && c->cgroups_path[0] == '/' ? xstrdup(c->cgroups_path)
				: c->cgroups_path ? xasprintf("/%s", c->cgroups_path)
						  : xasprintf("/berth/%s", o->id);
	m->st->terminal = c->terminal;
	m->st->monitor_pid = getpid();
	m->st->monitor_start = state_pid_starttime(getpid());
	m->st->created = state_now_rfc3339();

	memset(&co, 0, sizeof co);
	co.id = o->id;
	co.bundle = o->bundle;
	co.cfg = c;
	co.cgroup_rel = m->st->cgroup;
	co.pty_slave = -1;
	co.preserve_fds = o->preserve_fds;
	co.net = o->net;
	co.stdio[0] = 0;
	co.stdio[1] = 1;
	co.stdio[2] = 2;
	if (c->terminal) {
		int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
			berr_errno(err, "allocating a terminal");
			if (master >= 0)
				close(master);
			goto fail;
		}
		pty_slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (pty_slave < 0) {
			berr_errno(err, "opening the terminal");
			close(master);
			goto fail;
		}
		m->out_fd = master;
		m->in_fd = master;
		co.pty_slave = pty_slave;
		if (!o->detach && isatty(STDIN_FILENO)) {
			struct winsize ws;
			struct termios raw;

			if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
				(void)ioctl(master, TIOCSWINSZ, &ws);
			if (tcgetattr(STDIN_FILENO, &m->saved_tio) == 0) {
				m->tio_saved = 1;
				raw = m->saved_tio;
				cfmakeraw(&raw);
				(void)tcsetattr(STDIN_FILENO, TCSANOW, &raw);
			}
		}
	} else if (o->detach) {
		if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
			berr_errno(err, "pipe");
			goto fail;
		}
		co.stdio[0] = in_pipe[0];
		co.stdio[1] = out_pipe[1];
		co.stdio[2] = out_pipe[1];
		m->in_fd = in_pipe[1];
		m->out_fd = out_pipe[0];
	}
	if (o->net == CTR_NET_BRIDGE) {
		lockpath = xasprintf("%s/.net.lock", o->root);
		lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lock_fd >= 0)
			(void)flock(lock_fd, LOCK_EX);
		addr = alloc_address(o->root, err);
		if (addr == NULL)
			goto fail;
		co.net_addr = addr;
		co.net_gateway = NET_BRIDGE_ADDR;
		m->st->net_addr = xstrdup(addr);
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (!o->detach) {
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGHUP);
		sigaddset(&mask, SIGQUIT);
		sigaddset(&mask, SIGUSR1);
		sigaddset(&mask, SIGUSR2);
		if (c->terminal)
			sigaddset(&mask, SIGWINCH);
	}
	sigprocmask(SIG_BLOCK, &mask, NULL);
	m->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sig_fd < 0) {
		berr_errno(err, "signalfd");
		goto fail;
	}
	co.meanwhile = mon_listen;
	co.meanwhile_arg = m;
	if (ctr_create(&co, &m->proc, err) < 0)
		goto fail;
	if (pty_slave >= 0) {
		close(pty_slave);
		pty_slave = -1;
	}
	if (m->proc.pty_master >= 0) {
		/* The container made its own terminal: use that one. */
		struct winsize ws;

		if (m->out_fd >= 0 && ioctl(m->out_fd, TIOCGWINSZ, &ws) == 0)
			(void)ioctl(m->proc.pty_master, TIOCSWINSZ, &ws);
		if (m->out_fd >= 0)
			close(m->out_fd);
		m->out_fd = m->in_fd = m->proc.pty_master;
		m->proc.pty_master = -1;
	}
	if (in_pipe[0] >= 0) {
		close(in_pipe[0]);
		in_pipe[0] = -1;
	}
	if (out_pipe[1] >= 0) {
		close(out_pipe[1]);
		out_pipe[1] = -1;
	}
	if (m->proc.veth[0])
		m->st->veth = xstrdup(m->proc.veth);
	m->st->pid = m->proc.pid;
	m->st->pid_start = state_pid_starttime(m->proc.pid);
	if (state_save(m->st, err) < 0)
		goto fail_kill;
	if (lock_fd >= 0) {
		close(lock_fd);
		lock_fd = -1;
	}

	if (m->out_fd >= 0) {
		fd_set_nonblock(m->out_fd, 1);
		m->out_watch = loop_add_fd(m->loop, m->out_fd, POLLIN, out_cb, m, NULL);
	}
	if (m->in_fd >= 0 && m->in_fd != m->out_fd)
		fd_set_nonblock(m->in_fd, 1);
	if (!o->detach && c->terminal)
		m->stdin_watch = loop_add_fd(m->loop, STDIN_FILENO, POLLIN, stdin_cb, m, NULL);
	loop_add_fd(m->loop, m->sig_fd, POLLIN, sig_cb, m, NULL);
	loop_add_timer(m->loop, 1000, oom_timer_cb, m, NULL);

	if (o->start) {
		if (ctr_start(&m->proc, err) < 0) {
			m->st->started = 1;
			report_ready(o->ready_fd, err);
			ok = -1;
		} else {
			m->st->started = 1;
			(void)state_save(m->st, NULL);
		}
	}
	if (ok == 0)
		report_ready(o->ready_fd, NULL);
	if (o->ready_fd >= 0)
		close(o->ready_fd);
	loop_run(m->loop);

	*exit_code = m->exit_code;
	if (m->tio_saved)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &m->saved_tio);
	proto_server_free(m->srv);
	{
		int i;

		for (i = 0; i < CONSOLE_MAX_CLIENTS; i++)
			if (m->clients[i])
				console_client_drop(m->clients[i]);
	}
	loop_free(m->loop);
	if (m->console_listen >= 0)
		close(m->console_listen);
	path = xasprintf("%s/console.sock", m->st->dir);
	(void)unlink(path);
	free(path);
	path = xasprintf("%s/ctl.sock", m->st->dir);
	(void)unlink(path);
	free(path);
	if (!o->detach) {
		/* `run` in the foreground cleans up after itself. */
		if (m->proc.veth[0])
			(void)net_link_delete(m->proc.veth, NULL);
		(void)cgroup_destroy(&m->proc.cg, NULL);
		(void)remove_tree(m->st->dir, NULL);
	}
	cgroup_free(&m->proc.cg);
	if (m->out_fd >= 0)
		close(m->out_fd);
	if (m->in_fd >= 0 && m->in_fd != m->out_fd)
		close(m->in_fd);
	if (m->log_fd >= 0)
		close(m->log_fd);
	close(m->sig_fd);
	state_free(m->st);
	free(addr);
	free(lockpath);
	return ok;

fail_kill:
	kill(m->proc.pid, SIGKILL);
	while (waitpid(m->proc.pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (m->proc.veth[0])
		(void)net_link_delete(m->proc.veth, NULL);
	cgroup_destroy(&m->proc.cg, NULL);
	cgroup_free(&m->proc.cg);
fail:
	if (m->tio_saved)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &m->saved_tio);
	report_ready(o->ready_fd, err);
	if (m->loop) {
		proto_server_free(m->srv);
		loop_free(m->loop);
	}
	if (m->console_listen >= 0)
		close(m->console_listen);
	if (m->log_fd >= 0)
		close(m->log_fd);
	if (m->st) {
		(void)remove_tree(m->st->dir, NULL);
		state_free(m->st);
	}
	if (pty_slave >= 0)
		close(pty_slave);
	if (in_pipe[0] >= 0)
		close(in_pipe[0]);
	if (in_pipe[1] >= 0)
		close(in_pipe[1]);
	if (out_pipe[0] >= 0)
		close(out_pipe[0]);
	if (out_pipe[1] >= 0)
		close(out_pipe[1]);
	if (m->out_fd >= 0 && m->out_fd != out_pipe[0])
		close(m->out_fd);
	if (m->sig_fd >= 0)
		close(m->sig_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	free(addr);
	free(lockpath);
	return -1;
fail_early:
	report_ready(o->ready_fd, err);
	return -1;
}
