/*
 * cmd-console.c - `berth console NAME`: raw attach to an instance's console.
 *
 * On a terminal, stdin goes raw and the detach key (Ctrl-] unless the
 * option console_escape says otherwise) returns; the terminal is restored on
 * every path out, signals included.  Without a terminal (scripts), input is
 * copied until EOF, then output keeps flowing for --linger seconds (default
 * 1) or until --timeout; --expect TEXT returns as soon as TEXT was seen.
 * Not for: the dashboard's console pane (src/tui), which renders through
 * libvterm.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/util.h"

/* Set by the shell's SIGINT handler: end the attach, not the shell. */
int script_interrupt_pending(void) __attribute__((weak));

static struct termios saved_tio;
static int tio_saved;

static void
console_restore_tty(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = 0;
	}
}

static void
console_on_signal(int sig)
{
	console_restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

struct console_state {
	struct loop *loop;
	int fd;			/* console connection */
	int in_fd;
	int tty;
	unsigned char escape;
	int done;
	int detached;		/* user pressed the detach key */
	int peer_closed;
	int stdin_eof;
	int in_watch, con_watch, timer;
	const char *expect;
	int expect_seen;
	char *tail;		/* last bytes of output, for --expect */
	size_t tail_len, tail_cap;
	char wbuf[65536];	/* stdin bytes waiting for the console */
	size_t wlen;
};

static void
console_write_out(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
console_check_expect(struct console_state *st, const char *p, size_t n)
{
	size_t keep, need;

	if (st->expect == NULL || st->expect_seen)
		return;
	need = strlen(st->expect);
	if (st->tail_len + n + 1 > st->tail_cap) {
		st->tail_cap = st->tail_len + n + 1;
		st->tail = xrealloc(st->tail, st->tail_cap);
	}
	memcpy(st->tail + st->tail_len, p, n);
	st->tail_len += n;
	st->tail[st->tail_len] = '\0';
	if (memmem(st->tail, st->tail_len, st->expect, need) != NULL) {
		st->expect_seen = 1;
		st->done = 1;
		return;
	}
	/* Keep only what could start a match. */
	keep = need > 1 ? need - 1 : 0;
	if (st->tail_len > keep) {
		memmove(st->tail, st->tail + st->tail_len - keep, keep);
		st->tail_len = keep;
	}
}

static void console_update_watches(struct console_state *st);

static void
console_on_conn(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct console_state *st = arg;
	char buf[16384];

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n > 0) {
			console_write_out(buf, (size_t)n);
			console_check_expect(st, buf, (size_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			st->peer_closed = 1;
			st->done = 1;
			return;
		}
	}
	if ((revents & POLLOUT) && st->wlen > 0) {
		ssize_t n = write(fd, st->wbuf, st->wlen);

		if (n > 0) {
			memmove(st->wbuf, st->wbuf + n, st->wlen - (size_t)n);
			st->wlen -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			st->peer_closed = 1;
			st->done = 1;
			return;
		}
	}
	console_update_watches(st);
}

static void
console_on_stdin(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct console_state *st = arg;
	char buf[4096];
	ssize_t n, i;

	if (st->wlen >= sizeof st->wbuf - sizeof buf) {
		/* The instance is not reading: stop watching stdin until it does. */
		console_update_watches(st);
		return;
	}
	n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		st->stdin_eof = 1;
		console_update_watches(st);
		return;
	}
	for (i = 0; i < n; i++) {
		if (st->tty && (unsigned char)buf[i] == st->escape) {
			st->detached = 1;
			st->done = 1;
			return;
		}
		st->wbuf[st->wlen++] = buf[i];
	}
	console_update_watches(st);
}

static void
console_update_watches(struct console_state *st)
{
	if (st->con_watch > 0)
		loop_update_fd(st->loop, st->con_watch, POLLIN | (st->wlen ? POLLOUT : 0));
	if (st->in_watch > 0 && !st->stdin_eof)
		loop_update_fd(st->loop, st->in_watch,
			       st->wlen >= sizeof st->wbuf - 4096 ? 0 : POLLIN);
	if (st->in_watch > 0 && st->stdin_eof) {
		loop_remove_fd(st->loop, st->in_watch);
		st->in_watch = 0;
	}
}

static void
console_on_timer(struct loop *l, int id, void *arg)
{
	struct console_state *st = arg;

	st->done = 1;
}

static unsigned char
console_escape_key(void)
{
	const char *e = option_string("console_escape");

	if (e != NULL && e[0] == '^' && e[1] != '\0')
		return (unsigned char)(e[1] & 0x1f);
	if (e != NULL && e[0] != '\0' && e[1] == '\0')
		return (unsigned char)e[0];
	return 0x1d;
}

/* Interpret \n, \r, \t, \\ and \xHH in --send text. */
static size_t
unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	while (*s && n < cap) {
		if (*s == '\\' && s[1]) {
			s++;
			switch (*s) {
			case 'n': out[n++] = '\n'; s++; break;
			case 'r': out[n++] = '\r'; s++; break;
			case 't': out[n++] = '\t'; s++; break;
			case 'x': {
				char hex[3] = { 0 };

				if (s[1] && s[2]) {
					hex[0] = s[1];
					hex[1] = s[2];
					out[n++] = (char)strtol(hex, NULL, 16);
					s += 3;
				} else {
					out[n++] = *s++;
				}
				break;
			}
			default: out[n++] = *s++; break;
			}
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

static int
parse_secs(const char *v, double *out)
{
	char *end;
	double d;

	if (v == NULL)
		return 0;
	d = strtod(v, &end);
	if (*end != '\0' || d < 0 || d > 1e6)
		return -1;
	*out = d;
	return 1;
}

static int
cmd_console_exec(struct cmd_ctx *ctx)
{
	struct instance *inst = ctx->targets[0];
	struct console_state st;
	double timeout = 0, linger = 1.0;
	int has_timeout, rc = CMD_EXIT_OK;
	struct sigaction sa, old_term, old_hup, old_pipe;

	memset(&st, 0, sizeof st);
	has_timeout = parse_secs(cmd_opt(ctx, "timeout"), &timeout);
	if (has_timeout < 0 || parse_secs(cmd_opt(ctx, "linger"), &linger) < 0) {
		berr_set(&ctx->err, BERR_INVALID, "--timeout and --linger want seconds");
		return CMD_EXIT_USAGE;
	}
	if (inst->backend->console_open == NULL) {
		backend_notsup(inst->backend, "consoles", &ctx->err);
		return CMD_EXIT_NOTSUP;
	}
	if (inst->backend->console_open(inst, &st.fd, &ctx->err) < 0) {
		berr_wrap(&ctx->err, "attaching to the console of `%s'", inst->name);
		return cmd_exit_for(&ctx->err);
	}
	st.loop = ctx->s->loop;
	st.in_fd = STDIN_FILENO;
	st.tty = isatty(STDIN_FILENO) && !cmd_flag(ctx, "no-tty");
	st.escape = console_escape_key();
	st.expect = cmd_opt(ctx, "expect");
	fd_set_nonblock(st.fd, 1);

	if (cmd_opt(ctx, "send") != NULL)
		st.wlen = unescape(cmd_opt(ctx, "send"), st.wbuf, sizeof st.wbuf);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);
	if (st.tty) {
		struct termios raw;

		static int atexit_done;

		if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
			tio_saved = 1;
			if (!atexit_done) {
				atexit(console_restore_tty);
				atexit_done = 1;
			}
			sa.sa_handler = console_on_signal;
			sigaction(SIGTERM, &sa, &old_term);
			sigaction(SIGHUP, &sa, &old_hup);
			raw = saved_tio;
			cfmakeraw(&raw);
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
		}
		if (st.escape < 0x20)
			fprintf(stderr, "berth: attached to `%s' (detach with Ctrl-%c)\r\n", inst->name,
				st.escape + '@');
		else
			fprintf(stderr, "berth: attached to `%s' (detach with `%c')\r\n", inst->name,
				st.escape);
	}
	if (!cmd_flag(ctx, "no-stdin"))
		st.in_watch = loop_add_fd(st.loop, st.in_fd, POLLIN, console_on_stdin, &st, NULL);
	else
		st.stdin_eof = 1;
	st.con_watch = loop_add_fd(st.loop, st.fd, POLLIN | (st.wlen ? POLLOUT : 0), console_on_conn,
				   &st, NULL);
	if (has_timeout > 0)
		st.timer = loop_add_timer(st.loop, (int)(timeout * 1000), console_on_timer, &st, NULL);
	{
		int64_t linger_until = -1;

		while (!st.done && !(script_interrupt_pending && script_interrupt_pending())) {
			if (st.stdin_eof && !st.tty && has_timeout <= 0 && st.expect == NULL) {
				if (linger_until < 0)
					linger_until = now_ms() + (int64_t)(linger * 1000);
				if (now_ms() >= linger_until && st.wlen == 0)
					break;
			}
			if (loop_run_once(st.loop, 100) < 0 && errno != EINTR)
				break;
		}
	}
	if (st.in_watch > 0)
		loop_remove_fd(st.loop, st.in_watch);
	loop_remove_fd(st.loop, st.con_watch);
	if (st.timer > 0)
		loop_remove_timer(st.loop, st.timer);
	close(st.fd);
	if (st.tty) {
		console_restore_tty();
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
		fprintf(stderr, "\nberth: detached from `%s'\n", inst->name);
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (st.expect != NULL && !st.expect_seen) {
		berr_set(&ctx->err, BERR_TIMEOUT, "console of `%s': `%s' not seen%s", inst->name,
			 st.expect, st.peer_closed ? " before the console closed" : " in time");
		rc = CMD_EXIT_FAIL;
	} else if (st.peer_closed && !st.tty && st.expect == NULL && !cmd_flag(ctx, "quiet")) {
		/* Normal for scripts: the instance went away. */
	}
	free(st.tail);
	return rc;
}

const struct cmd_entry cmd_console_entry = {
	.name = "console",
	.aliases = { "attach" },
	.args_usage = "NAME",
	.summary = "attach to an instance's console (detach with Ctrl-])",
	.target = CMD_TARGET_INSTANCE,
	.min_args = 1,
	.max_args = 1,
	.needs_session = 1,
	.opts = {
		{ "timeout", 't', 1, 0, "SEC", "detach after SEC seconds" },
		{ "expect", 'e', 1, 0, "TEXT", "detach with success once TEXT appears (fail at timeout)" },
		{ "send", 's', 1, 0, "TEXT", "send TEXT first (\\n, \\r, \\t, \\xHH understood)" },
		{ "linger", 'l', 1, 0, "SEC", "without a terminal: keep reading SEC seconds after input ends (default 1)" },
		{ "no-stdin", 'N', 0, 0, NULL, "do not read standard input" },
		{ "no-tty", 0, 0, 0, NULL, "do not put the terminal in raw mode" },
		{ "quiet", 'q', 0, 0, NULL, "no messages on attach and detach" },
	},
	.exec = cmd_console_exec,
};
