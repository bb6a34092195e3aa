/*
 * remote-transport.c - how the remote backend reaches a `berth proxy':
 * parsing ssh://[user@]host[:port][?berth=PATH&env=NAME=VALUE&connect=URI
 * &name=LABEL&timeout=SEC] and exec:COMMAND URIs, building the ssh command
 * line (BatchMode, no tty, extra options from $BERTH_SSH), spawning the
 * child with its stdin, stdout and stderr on pipes, keeping the tail of its
 * stderr for error messages, and reaping it.
 * Not for: the protocol spoken over the pipes (remote.c).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/remote/remote.h"
#include "core/util.h"

#define REMOTE_DEFAULT_TIMEOUT_MS 20000

void
remote_target_free(struct remote_target *t)
{
	size_t i;

	free(t->command);
	free(t->user);
	free(t->host);
	free(t->port);
	free(t->berth);
	for (i = 0; i < t->nenv; i++)
		free(t->env[i]);
	free(t->env);
	for (i = 0; i < t->nconnect; i++)
		free(t->connect[i]);
	free(t->connect);
	free(t->label);
	memset(t, 0, sizeof *t);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode [s, s+len).  NULL if malformed or it decodes to a NUL. */
static char *
pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* A host or user name that ssh cannot mistake for an option and that
 * carries no shell or control characters. */
static int
name_ok(const char *s)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0' || *s == '-')
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (!(isalnum(*p) || *p == '.' || *p == '-' || *p == '_' || *p == ':' || *p >= 0x80))
			return 0;
	return 1;
}

static void
push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

static int
parse_query(const char *q, struct remote_target *t, struct berr *err)
{
	while (*q != '\0') {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		char *key, *val;

		if (len == 0) {
			q++;
			continue;
		}
		if (eq == NULL)
			return berr_set(err, BERR_INVALID, "URI parameter `%.*s' has no value", (int)len, q);
		key = xstrndup(q, (size_t)(eq - q));
		val = pct_decode(eq + 1, len - (size_t)(eq - q) - 1);
		if (val == NULL) {
			berr_set(err, BERR_INVALID, "URI parameter `%s' is badly percent-encoded", key);
			free(key);
			return -1;
		}
		if (strcmp(key, "berth") == 0) {
			free(t->berth);
			t->berth = val;
		} else if (strcmp(key, "env") == 0) {
			const char *e = strchr(val, '=');
			const char *c;

			for (c = val; e != NULL && c < e; c++)
				if (!(isalnum((unsigned char)*c) || *c == '_'))
					break;
			if (e == NULL || e == val || c != e || isdigit((unsigned char)val[0])) {
				berr_set(err, BERR_INVALID, "URI parameter env=`%s' is not NAME=VALUE", val);
				free(val);
				free(key);
				return -1;
			}
			push(&t->env, &t->nenv, val);
		} else if (strcmp(key, "connect") == 0) {
			push(&t->connect, &t->nconnect, val);
		} else if (strcmp(key, "name") == 0) {
			free(t->label);
			t->label = val;
		} else if (strcmp(key, "timeout") == 0) {
			char *end;
			long sec = strtol(val, &end, 10);

			if (*end != '\0' || sec < 1 || sec > 3600) {
				berr_set(err, BERR_INVALID, "URI parameter timeout=`%s' wants 1 to 3600 seconds",
					 val);
				free(val);
				free(key);
				return -1;
			}
			t->timeout_ms = (int)sec * 1000;
			t->timeout_set = 1;
			free(val);
		} else {
			berr_set(err, BERR_INVALID,
				 "unknown URI parameter `%s' (known: berth, env, connect, name, timeout)", key);
			free(val);
			free(key);
			return -1;
		}
		free(key);
		q += len;
	}
	return 0;
}

int
remote_target_parse(const char *uri, struct remote_target *t, struct berr *err)
{
	const char *p, *hostpart, *end, *q;
	char *authority = NULL, *at;

	memset(t, 0, sizeof *t);
	t->timeout_ms = REMOTE_DEFAULT_TIMEOUT_MS;
	/* $BERTH_REMOTE_TIMEOUT (seconds) changes the default; ?timeout= wins. */
	if (getenv("BERTH_REMOTE_TIMEOUT") != NULL) {
		char *tend;
		long sec = strtol(getenv("BERTH_REMOTE_TIMEOUT"), &tend, 10);

		if (*tend == '\0' && sec >= 1 && sec <= 3600) {
			t->timeout_ms = (int)sec * 1000;
			t->timeout_set = 1;
		}
	}
	if (uri == NULL || *uri == '\0')
		return berr_set(err, BERR_INVALID,
				"the remote backend needs a URI: ssh://[USER@]HOST[:PORT] or exec:COMMAND");
	if (strncmp(uri, "exec:", 5) == 0) {
		for (p = uri + 5; *p == ' '; p++)
			;
		if (*p == '\0')
			return berr_set(err, BERR_INVALID, "exec: URI without a command");
		t->is_exec = 1;
		t->command = xstrdup(p);
		return 0;
	}
	if (strncmp(uri, "ssh://", 6) != 0)
		return berr_set(err, BERR_INVALID,
				"`%s' is not a remote URI (ssh://[USER@]HOST[:PORT] or exec:COMMAND)", uri);
	hostpart = uri + 6;
	end = hostpart + strcspn(hostpart, "/?");
	authority = xstrndup(hostpart, (size_t)(end - hostpart));
	q = strchr(end, '?');
	if (*end == '/' && (q == NULL ? end[1] != '\0' : q != end + 1)) {
		berr_set(err, BERR_INVALID, "ssh URI `%s': a path is not supported (use ?berth=PATH)", uri);
		goto fail;
	}
	at = strrchr(authority, '@');
	if (at != NULL) {
		*at = '\0';
		t->user = pct_decode(authority, strlen(authority));
		if (t->user == NULL || !name_ok(t->user)) {
			berr_set(err, BERR_INVALID, "ssh URI `%s': bad user name", uri);
			goto fail;
		}
		memmove(authority, at + 1, strlen(at + 1) + 1);
	}
	if (authority[0] == '[') {
		char *rb = strchr(authority, ']');

		if (rb == NULL) {
			berr_set(err, BERR_INVALID, "ssh URI `%s': unclosed `['", uri);
			goto fail;
		}
		t->host = xstrndup(authority + 1, (size_t)(rb - authority - 1));
		if (rb[1] == ':')
			t->port = xstrdup(rb + 2);
		else if (rb[1] != '\0') {
			berr_set(err, BERR_INVALID, "ssh URI `%s': junk after `]'", uri);
			goto fail;
		}
	} else {
		char *colon = strchr(authority, ':');

		if (colon != NULL) {
			t->port = xstrdup(colon + 1);
			*colon = '\0';
		}
		t->host = xstrdup(authority);
	}
	if (!name_ok(t->host)) {
		berr_set(err, BERR_INVALID, "ssh URI `%s': bad or missing host name", uri);
		goto fail;
	}
	if (t->port != NULL) {
		char *e;
		long port = strtol(t->port, &e, 10);

		if (*t->port == '\0' || *e != '\0' || port < 1 || port > 65535) {
			berr_set(err, BERR_INVALID, "ssh URI `%s': bad port `%s'", uri, t->port);
			goto fail;
		}
	}
	if (q != NULL && parse_query(q + 1, t, err) < 0) {
		berr_wrap(err, "ssh URI `%s'", uri);
		goto fail;
	}
	free(authority);
	return 0;
fail:
	free(authority);
	remote_target_free(t);
	return -1;
}

/* Append word to buf quoted for a POSIX shell. */
static char *
shell_append(char *buf, const char *word)
{
	size_t n = buf ? strlen(buf) : 0, len = strlen(word), i, j;
	char *out = xmalloc(n + 1 + len * 4 + 3);

	if (n)
		memcpy(out, buf, n);
	j = n;
	if (n)
		out[j++] = ' ';
	out[j++] = '\'';
	for (i = 0; i < len; i++) {
		if (word[i] == '\'') {
			memcpy(out + j, "'\\''", 4);
			j += 4;
		} else {
			out[j++] = word[i];
		}
	}
	out[j++] = '\'';
	out[j] = '\0';
	free(buf);
	return out;
}

char *
remote_target_command(const struct remote_target *t)
{
	char *cmd = NULL;
	size_t i;

	if (t->nenv > 0) {
		cmd = xstrdup("env");
		for (i = 0; i < t->nenv; i++)
			cmd = shell_append(cmd, t->env[i]);
	}
	cmd = shell_append(cmd, t->berth ? t->berth : "berth");
	for (i = 0; i < t->nconnect; i++) {
		cmd = shell_append(cmd, "--connect");
		cmd = shell_append(cmd, t->connect[i]);
	}
	return shell_append(cmd, "proxy");
}

void
remote_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

char **
remote_target_argv(const struct remote_target *t)
{
	char **v = NULL;
	size_t n = 0;
	const char *extra = getenv("BERTH_SSH");

	if (t->is_exec) {
		push(&v, &n, xstrdup("/bin/sh"));
		push(&v, &n, xstrdup("-c"));
		push(&v, &n, xstrdup(t->command));
		push(&v, &n, NULL);
		return v;
	}
	push(&v, &n, xstrdup("ssh"));
	push(&v, &n, xstrdup("-T"));
	push(&v, &n, xstrdup("-o"));
	push(&v, &n, xstrdup("BatchMode=yes"));
	push(&v, &n, xstrdup("-o"));
	push(&v, &n, xasprintf("ConnectTimeout=%d", t->timeout_ms / 1000 > 0 ? t->timeout_ms / 1000 : 1));
	push(&v, &n, xstrdup("-o"));
	push(&v, &n, xstrdup("ServerAliveInterval=15"));
	push(&v, &n, xstrdup("-o"));
	push(&v, &n, xstrdup("ServerAliveCountMax=3"));
	if (t->port != NULL) {
		push(&v, &n, xstrdup("-p"));
		push(&v, &n, xstrdup(t->port));
	}
	if (t->user != NULL) {
		push(&v, &n, xstrdup("-l"));
		push(&v, &n, xstrdup(t->user));
	}
	/* $BERTH_SSH: extra options, split at blanks (no quoting). */
	if (extra != NULL) {
		const char *p = extra;

		while (*p) {
			size_t len;

			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			len = strcspn(p, " \t\n");
			if (len > 0)
				push(&v, &n, xstrndup(p, len));
			p += len;
		}
	}
	push(&v, &n, xstrdup("--"));
	push(&v, &n, xstrdup(t->host));
	push(&v, &n, remote_target_command(t));
	push(&v, &n, NULL);
	return v;
}

int
remote_proc_spawn(struct remote_proc *p, char **argv, const char *what, struct berr *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	pid_t pid;

	free(p->what);
	memset(p, 0, sizeof *p);
	p->from_fd = p->to_fd = p->err_fd = -1;
	p->what = xstrdup(what);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		berr_errno(err, "creating pipes");
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		berr_errno(err, "fork");
		goto fail;
	}
	if (pid == 0) {
		sigset_t none;

		/* Own session: no controlling terminal to prompt on, and a
		 * Ctrl-C meant for berth's console does not reach ssh. */
		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(er[1], 2);
#ifdef SYS_close_range
		syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
		execvp(argv[0], argv);
		{
			char msg[512];
			int n = snprintf(msg, sizeof msg, "cannot run `%s': %s\n", argv[0], strerror(errno));

			if (n > 0 && write(2, msg, (size_t)n) < 0)
				_exit(127);
		}
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(er[1]);
	p->pid = pid;
	p->to_fd = in[1];
	p->from_fd = out[0];
	p->err_fd = er[0];
	fd_set_nonblock(p->err_fd, 1);
	return 0;
fail:
	if (in[0] >= 0) { close(in[0]); close(in[1]); }
	if (out[0] >= 0) { close(out[0]); close(out[1]); }
	if (er[0] >= 0) { close(er[0]); close(er[1]); }
	return -1;
}

void
remote_proc_drain_stderr(struct remote_proc *p)
{
	char buf[4096];
	ssize_t n;

	if (p->err_fd < 0)
		return;
	for (;;) {
		n = read(p->err_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0) {
				close(p->err_fd);
				p->err_fd = -1;
			}
			return;
		}
		if ((size_t)n >= sizeof p->errbuf) {
			memcpy(p->errbuf, buf + n - sizeof p->errbuf, sizeof p->errbuf);
			p->errlen = sizeof p->errbuf;
		} else {
			size_t keep = sizeof p->errbuf - (size_t)n;

			if (p->errlen > keep) {
				memmove(p->errbuf, p->errbuf + p->errlen - keep, keep);
				p->errlen = keep;
			}
			memcpy(p->errbuf + p->errlen, buf, (size_t)n);
			p->errlen += (size_t)n;
		}
	}
}

int
remote_proc_reap(struct remote_proc *p, int wait_ms)
{
	int64_t deadline = now_ms() + wait_ms;

	if (p->pid <= 0 || p->reaped)
		return 1;
	for (;;) {
		pid_t r = waitpid(p->pid, &p->status, WNOHANG);

		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			p->reaped = 1;
			if (r < 0)
				p->status = -1;
			return 1;
		}
		if (now_ms() >= deadline)
			return 0;
		/* Keep its stderr flowing while we wait. */
		if (p->err_fd >= 0) {
			struct pollfd pfd = { .fd = p->err_fd, .events = POLLIN };

			poll(&pfd, 1, 10);
			remote_proc_drain_stderr(p);
		} else {
			usleep(10000);
		}
	}
}

/* The last non-empty line of the child's stderr, printable characters only. */
static void
last_stderr_line(struct remote_proc *p, char *out, size_t cap)
{
	size_t end = p->errlen, start, i, o = 0;

	while (end > 0 && (p->errbuf[end - 1] == '\n' || p->errbuf[end - 1] == '\r' ||
			   p->errbuf[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && p->errbuf[start - 1] != '\n')
		start--;
	for (i = start; i < end && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)p->errbuf[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

void
remote_proc_explain(struct remote_proc *p, struct berr *err)
{
	char line[400], status[64] = "";
	char msg[2 * BERR_MSG_MAX];

	remote_proc_drain_stderr(p);
	last_stderr_line(p, line, sizeof line);
	if (p->reaped && p->status >= 0) {
		if (WIFEXITED(p->status))
			snprintf(status, sizeof status, "%s exited %d", p->what, WEXITSTATUS(p->status));
		else if (WIFSIGNALED(p->status))
			snprintf(status, sizeof status, "%s was killed by signal %d", p->what,
				 WTERMSIG(p->status));
	}
	if (status[0] == '\0' && line[0] == '\0')
		return;
	snprintf(msg, sizeof msg, "%s%s%s%s%s", err->msg, err->msg[0] ? "; " : "", status,
		 status[0] && line[0] ? ": " : "", line);
	strlcpy_b(err->msg, msg, sizeof err->msg);
}

void
remote_proc_stop(struct remote_proc *p)
{
	if (p->to_fd >= 0)
		close(p->to_fd);
	if (p->from_fd >= 0)
		close(p->from_fd);
	p->to_fd = p->from_fd = -1;
	if (p->pid > 0 && !p->reaped && !remote_proc_reap(p, 1000)) {
		kill(-p->pid, SIGTERM);
		kill(p->pid, SIGTERM);
		if (!remote_proc_reap(p, 1000)) {
			kill(-p->pid, SIGKILL);
			kill(p->pid, SIGKILL);
			remote_proc_reap(p, 1000);
		}
	}
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->err_fd = -1;
}
