/*
 * tui.c - the dashboard's main: terminal setup and teardown, the event loop
 * wiring (stdin, SIGWINCH through a self-pipe, the stats timer, backend
 * events), data refresh and redraw scheduling.
 *
 * Everything runs on the session's one loop.  Input, timers and events only
 * mark the screen dirty; it is drawn once per loop iteration, and ncurses
 * sends only the cells that changed.  Not for: drawing a view (dashboard.c,
 * detail.c, console.c...) or deciding what keys do (keys.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "cmd/cmd.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/util.h"
#include "tui/tui-internal.h"
#include "tui/tui.h"

static struct tui *active_ui;	/* for the OOM hook and signal handler */

/* The scripting component, when linked (weak: the dashboard works without). */
int script_eval_capture(struct session *s, const char *code, char **output) __attribute__((weak));
void script_set_output_guard(void (*before)(void), void (*after)(void)) __attribute__((weak));
void script_set_reporter(void (*fn)(const char *msg)) __attribute__((weak));
void script_set_confirm_hook(int (*fn)(const char *question, void *arg), void *arg) __attribute__((weak));

/* Hidden benchmark hook: BERTH_TUI_STATS=FILE gets the pid and the time
 * from process start to the first full frame, then frame and refresh counts
 * on exit (tests/bench/tui.sh reads it). */
static unsigned long bench_frames, bench_refreshes;
static double bench_refresh_ms;

static double
process_age_ms(void)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	struct timespec ts;
	FILE *f = fopen("/proc/self/stat", "r");
	int field;

	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* field 22 (starttime) counting from the state, field 3 */
	for (field = 3, p += 2; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p == NULL || sscanf(p, "%llu", &start) != 1)
		return -1;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec * 1000 + ts.tv_nsec / 1e6 - (double)start * 1000 / sysconf(_SC_CLK_TCK);
}

static void
bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
bench_note(const char *fmt, ...)
{
	const char *path = getenv("BERTH_TUI_STATS");
	va_list ap;
	FILE *f;

	if (path == NULL || *path == '\0' || (f = fopen(path, "a")) == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}
static int sig_write_fd = -1;
static SCREEN *active_screen;
/* The hook that was in place before the dashboard (it reports the failure). */
static void (*outer_oom_hook)(void);

static void
tui_oom_hook(void)
{
	if (active_screen != NULL)
		endwin();
	if (outer_oom_hook != NULL)
		outer_oom_hook();
}

static void
tui_signal(int signo)
{
	int saved = errno;
	unsigned char c = (unsigned char)signo;

	if (sig_write_fd >= 0 && write(sig_write_fd, &c, 1) < 0) {
		/* pipe full: a resize is pending already */
	}
	errno = saved;
}

long
tui_opt_int(const char *name, long def)
{
	if (option_find(name) == NULL)
		return def;
	return option_int(name);
}

int
tui_opt_bool(const char *name, int def)
{
	if (option_find(name) == NULL)
		return def;
	return option_bool(name);
}

void
tui_status(struct tui *ui, int is_err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->status, sizeof ui->status, fmt, ap);
	va_end(ap);
	ui->status_err = is_err;
	ui->status_ms = now_ms();
	ui->dirty = 1;
}

void
tui_message(struct tui *ui, const char *title, const char *text)
{
	free(ui->msg_title);
	free(ui->msg_text);
	ui->msg_title = xstrdup(title);
	ui->msg_text = xstrdup(text);
	ui->modal = MODAL_MESSAGE;
	ui->dirty = 1;
}

/* Errors are shown in full: short ones in the status line, long ones (or
 * any that would not fit) in a message box. */
void
tui_show_error(struct tui *ui, const char *what, const struct berr *err)
{
	char *text = xasprintf("%s: %s", what, err->msg[0] ? err->msg : "unknown error");

	if (text_width(text) + 2 > ui->cols)
		tui_message(ui, "Error", text);
	tui_status(ui, 1, "%s", text);
	free(text);
}

void
tui_set_view(struct tui *ui, unsigned view)
{
	if (ui->view != view)
		ui->prev_view = ui->view;
	ui->view = view;
	ui->dirty = 1;
}

/* Tabs to spaces (stops every 8 columns), so rows can be cut by width. */
static char *
expand_tabs(const char *text)
{
	size_t n = 0, o = 0, col = 0;
	const char *q;
	char *out;

	for (q = text; *q; q++)
		n += *q == '\t' ? 8 : 1;
	out = xmalloc(n + 1);
	for (q = text; *q; q++) {
		if (*q == '\t') {
			do
				out[o++] = ' ';
			while (++col % 8);
		} else {
			out[o++] = *q;
			col = *q == '\n' ? 0 : col + 1;
		}
	}
	out[o] = '\0';
	return out;
}

static void
pager_add_row(struct tui *ui, size_t *cap, const char *s, size_t len)
{
	if (ui->pager_nlines + 1 >= *cap) {
		*cap = *cap ? *cap * 2 : 64;
		ui->pager_lines = xrealloc(ui->pager_lines, *cap * sizeof *ui->pager_lines);
	}
	ui->pager_lines[ui->pager_nlines++] = xstrndup(s, len);
}

void
pager_layout(struct tui *ui)
{
	int width = ui->cols > 0 ? ui->cols : 80;
	const char *line = ui->pager_text;
	size_t cap = 0, i;

	if (ui->pager_lines != NULL && ui->pager_wrap_cols == width)
		return;
	for (i = 0; i < ui->pager_nlines; i++)
		free(ui->pager_lines[i]);
	free(ui->pager_lines);
	ui->pager_lines = NULL;
	ui->pager_nlines = 0;
	ui->pager_wrap_cols = width;
	while (line && *line) {
		const char *end = strchr(line, '\n'), *p = line, *row = line, *brk = NULL;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		mbstate_t st;
		int w = 0;

		memset(&st, 0, sizeof st);
		while (p < line + len) {
			wchar_t wc;
			size_t n = mbrtowc(&wc, p, (size_t)(line + len - p), &st);
			int cw;

			if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
				memset(&st, 0, sizeof st);
				n = 1;
				cw = 1;
			} else {
				cw = wcwidth(wc);
				if (cw < 0)
					cw = 1;
			}
			if (w + cw > width && p > row) {
				/* at the last space in the row's second half, else here */
				const char *cut = brk && brk > row + (p - row) / 2 ? brk + 1 : p;

				pager_add_row(ui, &cap, row, (size_t)(cut - row));
				row = cut;
				brk = NULL;
				/* what moved to the new row: at most its bytes wide */
				w = (int)(p - row);
				continue;
			}
			if (*p == ' ')
				brk = p;
			w += cw;
			p += n;
		}
		pager_add_row(ui, &cap, row, (size_t)(line + len - row));
		line = end ? end + 1 : NULL;
	}
	if (ui->pager_nlines == 0)
		pager_add_row(ui, &cap, "", 0);
	if (ui->pager_top >= ui->pager_nlines)
		ui->pager_top = ui->pager_nlines - 1;
}

void
tui_pager(struct tui *ui, const char *title, const char *text)
{
	free(ui->pager_title);
	free(ui->pager_text);
	ui->pager_title = xstrdup(title);
	ui->pager_text = expand_tabs(text);
	ui->pager_wrap_cols = -1;
	ui->pager_top = 0;
	pager_layout(ui);
	if (ui->view != VIEW_PAGER)
		ui->pager_return = ui->view;
	tui_set_view(ui, VIEW_PAGER);
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The session's failures as lines, the ones the user should hear about
 * (requested connections, failed lists) first: *nshown of them.  The rest
 * (an optional backend that is not set up here, like a plugin's) only show
 * on the `!' page. */
static void
take_failures(struct session *s, char ***out, size_t *nout, size_t *nshown)
{
	size_t i, n = 0;
	int pass;

	free_strv(*out, *nout);
	*out = NULL;
	*nout = 0;
	if (nshown)
		*nshown = 0;
	if (s->nfailures == 0)
		return;
	*out = xcalloc(s->nfailures, sizeof **out);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < s->nfailures; i++) {
			int loud = nshown == NULL || s->failures[i].requested || s->failures[i].from_list;

			if (loud != (pass == 0))
				continue;
			(*out)[n++] = xasprintf("%s: %s", s->failures[i].what ? s->failures[i].what : "?",
						s->failures[i].err.msg);
		}
		if (pass == 0 && nshown)
			*nshown = n;
	}
	*nout = n;
	session_clear_failures(s);
}

static void
free_data(struct tui *ui)
{
	size_t i;

	for (i = 0; i < ui->list.n; i++)
		free(ui->keys[i]);
	free(ui->keys);
	ui->keys = NULL;
	inst_list_clear(&ui->list);
	free(ui->list.v);
	memset(&ui->list, 0, sizeof ui->list);
	free(ui->rates);
	free(ui->samples);
	ui->rates = NULL;
	ui->samples = NULL;
	free(ui->order);
	free(ui->disp);
	free(ui->order_disp);
	ui->order = NULL;
	ui->disp = NULL;
	ui->order_disp = NULL;
	ui->norder = 0;
	ui->ndisp = 0;
}

/* Re-list every instance, sample stats (this fills the metrics history
 * the graphs read) and host capacity. */
static void refresh_data(struct tui *ui, int with_stats);

void
tui_refresh(struct tui *ui)
{
	refresh_data(ui, 1);
}

static void
refresh_data(struct tui *ui, int with_stats)
{
	struct inst_list fresh = { 0 };
	int64_t t0 = now_ms();
	size_t i;

	tui_busy(ui, 1);
	session_list(ui->s, &fresh);
	tui_busy(ui, 0);
	free_data(ui);
	ui->list = fresh;
	ui->keys = xcalloc(fresh.n + 1, sizeof *ui->keys);
	ui->rates = xcalloc(fresh.n + 1, sizeof *ui->rates);
	ui->samples = xcalloc(fresh.n + 1, sizeof *ui->samples);
	for (i = 0; i < fresh.n; i++) {
		ui->keys[i] = instance_key(fresh.v[i]);
		ui->rates[i].cpu_pct_vcpus = NAN;
	}
	tui_busy(ui, 1);
	if (fresh.n > 0 && with_stats)
		session_poll_stats(ui->s, &ui->list, ui->rates, ui->samples);
	dash_hosts_update(ui);
	tui_busy(ui, 0);
	for (i = 0; i < fresh.n; i++)
		if (!ui->samples[i].valid)
			ui->rates[i].cpu_pct_vcpus = NAN;
	take_failures(ui->s, &ui->tick_failures, &ui->ntick_failures, NULL);
	dash_rebuild(ui);
	ui->last_refresh_ms = now_ms();
	ui->refresh_cost_ms = (double)(ui->last_refresh_ms - t0);
	bench_refreshes++;
	bench_refresh_ms += ui->refresh_cost_ms;
	ui->need_refresh = 0;
	ui->ticks_since_list = 0;
	ui->dirty = 1;
}

void
tui_busy(struct tui *ui, int on)
{
	if (on) {
		if (ui->busy++ == 0 && ui->stdin_watch > 0)
			loop_update_fd(ui->s->loop, ui->stdin_watch, 0);
		return;
	}
	if (--ui->busy == 0 && ui->stdin_watch > 0) {
		loop_update_fd(ui->s->loop, ui->stdin_watch, POLLIN);
		/* keys ncurses may hold already */
		loop_update_timer(ui->s->loop, ui->input_timer, 0);
	}
}

static void
refresh_timer_cb(struct loop *l, int id, void *arg)
{
	struct tui *ui = arg;

	if (ui->busy) {
		loop_update_timer(l, id, 200);
		return;
	}
	loop_update_timer(l, id, -1);
	tui_refresh(ui);
}

/* Events come in bursts (a batch action, a host going away): refresh once,
 * shortly after the first. */
void
tui_schedule_refresh(struct tui *ui)
{
	if (ui->need_refresh)
		return;
	ui->need_refresh = 1;
	loop_update_timer(ui->s->loop, ui->refresh_timer, 150);
}

static void
stats_timer_cb(struct loop *l, int id, void *arg)
{
	struct tui *ui = arg;
	int64_t t0;
	size_t i;

	if (ui->busy) {
		tui_schedule_refresh(ui);
		return;
	}
	{
		/* `:set stats_interval N` takes effect at the next tick */
		long sec = tui_opt_int("stats_interval", 1);

		if (sec >= 1 && sec <= 3600 && sec * 1000 != ui->stats_interval_ms) {
			ui->stats_interval_ms = (int)(sec * 1000);
			loop_update_timer(l, id, ui->stats_interval_ms);
		}
	}
	/* The full list (and host capacity) every few ticks or when an event
	 * asked for it; in between only stats for the instances we have, which
	 * is what the graphs and the CPU column need every tick. */
	if (++ui->ticks_since_list >= (ui->s->events_on && ui->s->events_missing == 0 ?
				       TUI_LIST_EVERY_WITH_EVENTS : TUI_LIST_EVERY) ||
	    ui->list.n == 0) {
		tui_refresh(ui);
		return;
	}
	t0 = now_ms();
	memset(ui->rates, 0, ui->list.n * sizeof *ui->rates);
	tui_busy(ui, 1);
	session_poll_stats(ui->s, &ui->list, ui->rates, ui->samples);
	dash_hosts_update(ui);
	tui_busy(ui, 0);
	for (i = 0; i < ui->list.n; i++)
		if (!ui->samples[i].valid)
			ui->rates[i].cpu_pct_vcpus = NAN;
	if (ui->sort_col >= COL_CPU && ui->sort_col != COL_UPTIME)
		dash_rebuild(ui);
	bench_refreshes++;
	bench_refresh_ms += (double)(now_ms() - t0);
	ui->dirty = 1;
}

/* The metrics history is saved every few minutes and at exit, so the 24 h
 * graphs survive a restart of the dashboard (BERTH_HISTORY_SAVE_S sets the
 * period, for tests).  A failure is shown once per kind, not per tick. */
#define TUI_HISTORY_SAVE_S 300

static void
history_save(struct tui *ui, int at_exit)
{
	struct berr err = { 0 };

	if (session_history_save(ui->s, &err) == 0) {
		ui->history_failed = 0;
		return;
	}
	if (at_exit)
		fprintf(stderr, "berth: dashboard: %s\n", err.msg);
	else if (!ui->history_failed)
		tui_show_error(ui, "dashboard", &err);
	ui->history_failed = 1;
}

static void
history_timer_cb(struct loop *l, int id, void *arg)
{
	(void)l;
	(void)id;
	history_save(arg, 0);
}

static void
event_cb(const struct berth_event *ev, void *arg)
{
	struct tui *ui = arg;

	if (ev->type && strcmp(ev->type, "stats") == 0)
		return;
	tui_schedule_refresh(ui);
}

static void
handle_resize(struct tui *ui)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	getmaxyx(stdscr, ui->rows, ui->cols);
	console_resize(ui);
	ui->dirty = 1;
}

static void
signal_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct tui *ui = arg;
	unsigned char buf[64];
	ssize_t n, i;
	int resize = 0;

	(void)l;
	(void)id;
	(void)revents;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (i = 0; i < n; i++) {
			if (buf[i] == SIGWINCH)
				resize = 1;
			else
				ui->quit = 1;
		}
	if (resize && !console_raw_active(ui))
		handle_resize(ui);
}

static void
handle_key(struct tui *ui, const struct tui_keypress *k)
{
	char name[32];

	if (k->meta) {
		/* A binding of the dashboard takes it; anywhere else (dialogs,
		 * line editors, the console pane) it is what was typed: Esc,
		 * then the key. */
		struct tui_keypress esc = { 0, 27, 0 }, plain = *k;

		if (ui->modal == MODAL_NONE && ui->view != VIEW_CONSOLE && ui->view != VIEW_PAGER &&
		    keys_dispatch(ui, k))
			return;
		plain.meta = 0;
		handle_key(ui, &esc);
		if (!ui->quit)
			handle_key(ui, &plain);
		return;
	}

	if (!k->is_key && k->code == 12 /* C-l */ && ui->modal == MODAL_NONE &&
	    ui->view != VIEW_CONSOLE) {
		clearok(curscr, TRUE);
		ui->dirty = 1;
		return;
	}
	if (k->is_key && k->code == KEY_RESIZE) {
		/* queued by resizeterm itself: the size is applied already */
		getmaxyx(stdscr, ui->rows, ui->cols);
		ui->dirty = 1;
		return;
	}
	if (ui->modal != MODAL_NONE) {
		modal_key(ui, k);
		ui->dirty = 1;
		return;
	}
	if (ui->view == VIEW_CONSOLE && console_key(ui, k))
		return;
	if (ui->view == VIEW_PAGER && pager_key(ui, k)) {
		ui->dirty = 1;
		return;
	}
	if (k->is_key && k->code == KEY_MOUSE) {
		dash_mouse(ui);
		return;
	}
	if (!keys_dispatch(ui, k))
		tui_status(ui, 0, "%s: no action here (? for help)", tui_key_name(k, name, sizeof name));
	ui->dirty = 1;
}

/* A key read ahead (after an Esc) goes back for the next round. */
static void
unread_key(int r, wint_t wc)
{
	if (r == KEY_CODE_YES)
		(void)ungetch((int)wc);
	else
		(void)unget_wch((wchar_t)wc);
}

/* Drain the keys ncurses has, at most a bounded number per loop iteration
 * so a paste cannot starve the rest of the loop; what is left (already read
 * by ncurses, so poll will not report it) is picked up by the input timer. */
static void
drain_keys(struct tui *ui)
{
	struct tui_keypress k;
	int n = 0, r, next_r = ERR, have_next = 0;
	wint_t next_wc = 0;

	while (!ui->quit && !console_raw_active(ui)) {
		wint_t wc;

		if (n++ == 512) {
			if (have_next)
				unread_key(next_r, next_wc);
			loop_update_timer(ui->s->loop, ui->input_timer, 0);
			return;
		}
		if (have_next) {
			r = next_r;
			wc = next_wc;
			have_next = 0;
		} else {
			r = wget_wch(stdscr, &wc);
		}
		if (r == ERR)
			break;
		k.is_key = r == KEY_CODE_YES;
		k.code = wc;
		k.meta = 0;
		if (!k.is_key && wc == 27) {
			/* Esc with a key right behind it in the same read is Meta
			 * (Alt) and that key; another Esc starts over. */
			next_r = wget_wch(stdscr, &next_wc);
			if (next_r != ERR && !(next_r == OK && next_wc == 27) &&
			    !(next_r == KEY_CODE_YES && next_wc == KEY_RESIZE)) {
				k.is_key = next_r == KEY_CODE_YES;
				k.code = next_wc;
				k.meta = 1;
			} else if (next_r != ERR) {
				have_next = 1;
			}
		}
		handle_key(ui, &k);
	}
	if (have_next)
		unread_key(next_r, next_wc);
	loop_update_timer(ui->s->loop, ui->input_timer, -1);
}

static void
input_timer_cb(struct loop *l, int id, void *arg)
{
	struct tui *ui = arg;

	(void)id;
	if (ui->busy) {
		loop_update_timer(l, ui->input_timer, -1);
		return;
	}
	drain_keys(ui);
}

static void
stdin_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct tui *ui = arg;

	(void)l;
	(void)id;
	(void)fd;
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		ui->quit = 1;
		return;
	}
	if (console_raw_active(ui)) {
		console_raw_stdin(ui);
		return;
	}
	drain_keys(ui);
}

void
tui_suspend_screen(struct tui *ui)
{
	(void)ui;
	def_prog_mode();
	endwin();
}

void
tui_resume_screen(struct tui *ui)
{
	reset_prog_mode();
	clearok(curscr, TRUE);
	handle_resize(ui);
	ui->dirty = 1;
}

/* Run a command line through the CLI's command table; output goes to the
 * pager (several lines) or the status line (one line). */
/* Show a command's output: one short line in the status line, more in
 * the pager. */
static void
show_output(struct tui *ui, const char *title, const char *what, char *all, int failed)
{
	size_t len = strlen(all);
	char *nl;

	while (len > 0 && all[len - 1] == '\n')
		all[--len] = '\0';
	nl = strchr(all, '\n');
	if (len == 0)
		tui_status(ui, failed, "%s: %s", what, failed ? "failed" : "done");
	else if (nl == NULL && text_width(all) + 2 < ui->cols)
		tui_status(ui, failed, "%s", all);
	else
		tui_pager(ui, title, all);
}

/* `:=expr' and `:lua code': a chunk in the global Lua state, its printed
 * output and results captured (never written on the screen). */
static void
run_lua(struct tui *ui, const char *line)
{
	char *code, *out = NULL;
	int rc;

	if (script_eval_capture == NULL) {
		tui_status(ui, 1, "lua: berth was built without Lua");
		return;
	}
	code = line[0] == '=' ? xasprintf("return %s", line + 1) : xstrdup(line + 4);
	tui_busy(ui, 1);
	rc = script_eval_capture(ui->s, code, &out);
	tui_busy(ui, 0);
	show_output(ui, line, "lua", out ? out : xstrdup(""), rc != 0);
	free(out);
	free(code);
	tui_schedule_refresh(ui);
}

void
tui_run_command(struct tui *ui, const char *line)
{
	struct berr err = { 0 };
	char **argv = NULL, *outbuf = NULL, *errbuf = NULL;
	size_t outlen = 0, errlen = 0;
	FILE *out, *errf;
	int argc = 0, rc;

	while (*line == ' ' || *line == ':')
		line++;
	if (*line == '\0')
		return;
	if (line[0] == '=' || strncmp(line, "lua ", 4) == 0) {
		run_lua(ui, line);
		return;
	}
	if (cmd_split(line, &argc, &argv, &err) < 0) {
		tui_show_error(ui, "command line", &err);
		return;
	}
	if (argc == 0) {
		cmd_free_argv(argc, argv);
		return;
	}
	if (strcmp(argv[0], "q") == 0 || strcmp(argv[0], "quit") == 0) {
		ui->quit = 1;
		cmd_free_argv(argc, argv);
		return;
	}
	if ((strcmp(argv[0], "console") == 0 || strcmp(argv[0], "attach") == 0) && argc == 2) {
		/* The dashboard's own console pane instead of a blocking attach. */
		struct instance *inst = NULL;

		tui_busy(ui, 1);
		if (session_resolve(ui->s, argv[1], &inst, &err) < 0 ||
		    console_open(ui, inst, 0, &err) < 0)
			tui_show_error(ui, "console", &err);
		tui_busy(ui, 0);
		instance_free(inst);
		cmd_free_argv(argc, argv);
		return;
	}
	if (strcmp(argv[0], "stats") == 0 || strcmp(argv[0], "top") == 0) {
		int i;

		for (i = 1; i < argc; i++)
			if (strcmp(argv[i], "--watch") == 0 || strcmp(argv[i], "-w") == 0) {
				/* it would never return: the dashboard is the live view */
				tui_status(ui, 1, "%s --watch: the table and the detail view (Enter) show this live",
					   argv[0]);
				cmd_free_argv(argc, argv);
				return;
			}
	}
	if (strcmp(argv[0], "tui") == 0 || strcmp(argv[0], "dashboard") == 0 ||
	    strcmp(argv[0], "shell") == 0) {
		tui_status(ui, 1, "%s: already in the dashboard", argv[0]);
		cmd_free_argv(argc, argv);
		return;
	}
	if (strcmp(argv[0], "exec") == 0) {
		/* needs the terminal itself: run it there, like vi's :! */
		tui_suspend_screen(ui);
		fputs("\n", stdout);
		fflush(stdout);
		tui_busy(ui, 1);
		rc = cmd_run(&ui->s, argc, argv, stdout, stderr, 1);
		fputs("\n[berth: press Enter to return to the dashboard]", stdout);
		fflush(stdout);
		{
			char ch = 0;

			/* byte by byte on the fd: nothing buffered behind ncurses' back */
			while (read(STDIN_FILENO, &ch, 1) == 1 && ch != '\n' && ch != '\r')
				;
		}
		tui_busy(ui, 0);
		tui_resume_screen(ui);
		tui_status(ui, rc != 0, "%s: exit %d", argv[0], rc);
		cmd_free_argv(argc, argv);
		tui_schedule_refresh(ui);
		return;
	}
	out = open_memstream(&outbuf, &outlen);
	errf = open_memstream(&errbuf, &errlen);
	if (out == NULL || errf == NULL)
		util_oom();
	tui_busy(ui, 1);
	if (strcmp(argv[0], "set") == 0)	/* this dashboard's options: stats_interval, ... */
		rc = cmd_set(argc, argv, out, errf);
	else
		rc = cmd_run(&ui->s, argc, argv, out, errf, 1);
	tui_busy(ui, 0);
	fclose(out);
	fclose(errf);
	{
		char *all = xasprintf("%s%s", outbuf ? outbuf : "", errbuf ? errbuf : "");

		show_output(ui, line, argv[0], all, rc != 0);
		free(all);
	}
	free(outbuf);
	free(errbuf);
	cmd_free_argv(argc, argv);
	tui_schedule_refresh(ui);
}

static void
draw_status(struct tui *ui)
{
	int y = ui->rows - 1;

	move(y, 0);
	clrtoeol();
	if (ui->modal == MODAL_FILTER || ui->modal == MODAL_CMDLINE) {
		const char *prompt = ui->modal == MODAL_FILTER ? "/" : ":";

		if (ui->complete_hint && ui->rows > 2) {
			move(y - 1, 0);
			clrtoeol();
			attron(draw_attr(ui, CP_DIM));
			draw_text(ui, y - 1, 0, ui->complete_hint, ui->cols, 1);
			attroff(draw_attr(ui, CP_DIM));
		}
		draw_text(ui, y, 0, prompt, 1, 0);
		edit_draw(ui, &ui->line, y, 1, ui->cols - 1, 1);
		return;
	}
	/* notes fade after a while; errors stay until the next message */
	if (ui->status[0] && !ui->status_err && now_ms() - ui->status_ms > 10000)
		ui->status[0] = '\0';
	if (ui->status[0]) {
		attr_t a = draw_attr(ui, ui->status_err ? CP_ERROR : CP_DEFAULT);

		attron(a);
		draw_text(ui, y, 0, ui->status, ui->cols, 1);
		attroff(a);
	} else {
		attron(draw_attr(ui, CP_DIM));
		draw_text(ui, y, 0, ui->view == VIEW_CONSOLE ? "" :
			  "?:help /:filter ::command Enter:detail c:console space:select n:new q:quit",
			  ui->cols, 1);
		attroff(draw_attr(ui, CP_DIM));
	}
}

static void
draw_all(struct tui *ui)
{
	getmaxyx(stdscr, ui->rows, ui->cols);
	erase();
	curs_set(0);
	draw_status(ui);	/* first: a view may put its own notice there */
	switch (ui->view) {
	case VIEW_DETAIL:
		detail_draw(ui);
		break;
	case VIEW_CONSOLE:
		console_draw(ui);
		break;
	case VIEW_PAGER:
		pager_draw(ui);
		break;
	default:
		dash_draw(ui);
		break;
	}
	if (ui->modal != MODAL_NONE && ui->modal != MODAL_FILTER && ui->modal != MODAL_CMDLINE)
		modal_draw(ui);
	if (ui->modal == MODAL_FILTER || ui->modal == MODAL_CMDLINE || ui->modal == MODAL_FORM)
		curs_set(1);
	else if (ui->view == VIEW_CONSOLE)
		console_draw_cursor(ui);
	wnoutrefresh(stdscr);
	doupdate();
	ui->dirty = 0;
	bench_frames++;
}

static int
setup_terminal(struct tui *ui, struct berr *err)
{
	const char *term = getenv("TERM");
	SCREEN *scr;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return berr_set(err, BERR_INVALID, "the dashboard needs a terminal (stdin and stdout are not both terminals)");
	scr = newterm(term && *term ? term : "vt100", stdout, stdin);
	if (scr == NULL && term && *term)
		scr = newterm("vt100", stdout, stdin);	/* unknown TERM: still open */
	if (scr == NULL)
		return berr_set(err, BERR_INVALID, "cannot initialise the terminal (TERM=%s)", term ? term : "");
	active_screen = scr;
	set_term(scr);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	/* Shift-PgUp/PgDn for console scrollback on xterm-like terminals */
	define_key("\033[5;2~", KEY_SPREVIOUS);
	define_key("\033[6;2~", KEY_SNEXT);
	draw_init_colors(ui);
	ui->mouse = tui_opt_bool("mouse", 0);
	if (ui->mouse)
		mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED |
			  BUTTON5_PRESSED, NULL);
	getmaxyx(stdscr, ui->rows, ui->cols);
	return 0;
}

static void
restore_terminal(void)
{
	if (active_screen == NULL)
		return;
	endwin();
	delscreen(active_screen);
	active_screen = NULL;
}

static int
setup_signals(struct tui *ui, struct berr *err)
{
	struct sigaction sa;

	if (pipe(ui->sig_pipe) < 0)
		return berr_errno(err, "creating the signal pipe");
	fd_set_nonblock(ui->sig_pipe[0], 1);
	fd_set_nonblock(ui->sig_pipe[1], 1);
	fd_set_cloexec(ui->sig_pipe[0], 1);
	fd_set_cloexec(ui->sig_pipe[1], 1);
	sig_write_fd = ui->sig_pipe[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tui_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	ui->sig_watch = loop_add_fd(ui->s->loop, ui->sig_pipe[0], POLLIN, signal_cb, ui, NULL);
	return 0;
}

static void
teardown_signals(struct tui *ui)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (ui->sig_watch > 0)
		loop_remove_fd(ui->s->loop, ui->sig_watch);
	sig_write_fd = -1;
	if (ui->sig_pipe[0] >= 0)
		close(ui->sig_pipe[0]);
	if (ui->sig_pipe[1] >= 0)
		close(ui->sig_pipe[1]);
}

static void
tui_free(struct tui *ui)
{
	console_close(ui);
	free_data(ui);
	dash_hosts_free(ui);
	free_strv(ui->conn_failures, ui->nconn_failures);
	free_strv(ui->tick_failures, ui->ntick_failures);
	free_strv(ui->sel, ui->nsel);
	free_strv(ui->confirm_keys, ui->nconfirm);
	free(ui->confirm_text);
	free(ui->cursor_key);
	free(ui->detail_key);
	free(ui->pager_title);
	free(ui->pager_text);
	free_strv(ui->pager_lines, ui->pager_nlines);
	free(ui->msg_title);
	free(ui->msg_text);
	free(ui->complete_hint);
	free_strv(ui->hist, ui->nhist);
	form_free(ui->form);
}

/* Event handlers of scripts (berth.on) run from the loop while the
 * dashboard owns the terminal: whatever they print to stdout or stderr goes
 * to a temporary file instead, and its last line to the status line. */
static int guard_saved[2] = { -1, -1 };
static FILE *guard_file;

static void
guard_before(void)
{
	int fd;

	if (guard_file != NULL)
		return;		/* nested */
	guard_file = tmpfile();
	if (guard_file == NULL)
		return;
	fflush(stdout);
	fflush(stderr);
	fd = fileno(guard_file);
	guard_saved[0] = dup(STDOUT_FILENO);
	guard_saved[1] = dup(STDERR_FILENO);
	if (guard_saved[0] < 0 || guard_saved[1] < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0) {
		if (guard_saved[0] >= 0)
			dup2(guard_saved[0], STDOUT_FILENO);
		if (guard_saved[1] >= 0)
			dup2(guard_saved[1], STDERR_FILENO);
	}
}

static void
guard_after(void)
{
	char buf[4096], *last, *end;
	size_t n;

	if (guard_file == NULL)
		return;
	fflush(stdout);
	fflush(stderr);
	if (guard_saved[0] >= 0) {
		dup2(guard_saved[0], STDOUT_FILENO);
		close(guard_saved[0]);
	}
	if (guard_saved[1] >= 0) {
		dup2(guard_saved[1], STDERR_FILENO);
		close(guard_saved[1]);
	}
	guard_saved[0] = guard_saved[1] = -1;
	/* the last line printed (the tail of the file is enough) */
	if (fseek(guard_file, -(long)(sizeof buf - 1), SEEK_END) < 0)
		rewind(guard_file);
	n = fread(buf, 1, sizeof buf - 1, guard_file);
	buf[n] = '\0';
	fclose(guard_file);
	guard_file = NULL;
	end = buf + n;
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	last = strrchr(buf, '\n');
	last = last ? last + 1 : buf;
	if (*last != '\0' && active_ui != NULL)
		tui_status(active_ui, 0, "script: %s", last);
	if (active_ui != NULL)
		active_ui->dirty = 1;
}

static void
script_report(const char *msg)
{
	if (active_ui != NULL)
		tui_status(active_ui, 1, "%s", msg);
}

/* While a script's output goes to the guard's file, the screen is drawn
 * on the terminal again by pausing the guard. */
static void
guard_pause(void)
{
	if (guard_file == NULL || guard_saved[0] < 0 || guard_saved[1] < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	dup2(guard_saved[0], STDOUT_FILENO);
	dup2(guard_saved[1], STDERR_FILENO);
}

static void
guard_resume(void)
{
	if (guard_file == NULL || guard_saved[0] < 0 || guard_saved[1] < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(guard_file), STDOUT_FILENO);
	dup2(fileno(guard_file), STDERR_FILENO);
}

/* berth.confirm in the dashboard: the question in a dialog over the
 * dashboard, answered with y (1) or n, Esc, q, Enter, ^C (0).  The script
 * is waiting, so this waits too, for keys and signals only: a resize
 * redraws, a SIGTERM/SIGHUP answers no and the dashboard then quits, as
 * does the terminal going away. */
static int
tui_ask(const char *question, void *arg)
{
	struct tui *ui = arg;
	enum tui_modal saved = ui->modal;
	const char *saved_text = ui->ask_text;
	int answer = -1;

	guard_pause();
	ui->ask_text = question;
	ui->modal = MODAL_ASK;
	draw_all(ui);
	while (answer < 0 && !ui->quit) {
		struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { ui->sig_pipe[0], POLLIN, 0 } };
		wint_t wc;
		int r;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN)
			signal_cb(NULL, 0, ui->sig_pipe[0], p[1].revents, ui);
		if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			ui->quit = 1;
			break;
		}
		while (answer < 0 && (r = wget_wch(stdscr, &wc)) != ERR) {
			if (r == KEY_CODE_YES) {
				if (wc == KEY_RESIZE)
					handle_resize(ui);
				else if (wc == KEY_ENTER)
					answer = 0;
				continue;
			}
			if (wc == 'y' || wc == 'Y')
				answer = 1;
			else if (wc == 'n' || wc == 'N' || wc == 27 || wc == 'q' || wc == '\r' || wc == '\n' ||
				 wc == 3 /* ^C */)
				answer = 0;
		}
		if (ui->dirty || answer >= 0) {
			ui->modal = answer < 0 ? MODAL_ASK : saved;
			draw_all(ui);
		}
	}
	ui->modal = saved;
	ui->ask_text = saved_text;
	ui->dirty = 1;
	fflush(stdout);
	guard_resume();
	return answer == 1;
}

int
tui_main(struct session *s, int argc, char **argv)
{
	struct tui ui_storage, *ui = &ui_storage;
	struct berr err = { 0 };
	struct loop *loop;
	int rc = 0;
	long interval;
	int64_t t_start = now_ms();

	setlocale(LC_ALL, "");
	if (s == NULL || s->loop == NULL) {
		fprintf(stderr, "berth: dashboard: no session\n");
		return 1;
	}
	memset(ui, 0, sizeof *ui);
	ui->s = s;
	ui->sig_pipe[0] = ui->sig_pipe[1] = -1;
	ui->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	ui->view = VIEW_DASH;
	ui->sort_col = COL_NAME;
	ui->detail_span = 60;
	loop = s->loop;

	take_failures(s, &ui->conn_failures, &ui->nconn_failures, &ui->nconn_shown);
	outer_oom_hook = util_set_oom_hook(tui_oom_hook);
	if (setup_terminal(ui, &err) < 0) {
		fprintf(stderr, "berth: dashboard: %s\n", err.msg);
		util_set_oom_hook(outer_oom_hook);
		tui_free(ui);
		return 1;
	}
	active_ui = ui;
	if (setup_signals(ui, &err) < 0) {
		restore_terminal();
		fprintf(stderr, "berth: dashboard: %s\n", err.msg);
		util_set_oom_hook(outer_oom_hook);
		tui_free(ui);
		return 1;
	}
	interval = tui_opt_int("stats_interval", 1);
	if (interval < 1)
		interval = 1;
	ui->stats_interval_ms = (int)(interval * 1000);
	ui->stdin_watch = loop_add_fd(loop, STDIN_FILENO, POLLIN, stdin_cb, ui, NULL);
	ui->stats_timer = loop_add_timer(loop, ui->stats_interval_ms, stats_timer_cb, ui, NULL);
	ui->refresh_timer = loop_add_timer(loop, -1, refresh_timer_cb, ui, NULL);
	ui->input_timer = loop_add_timer(loop, -1, input_timer_cb, ui, NULL);
	{
		const char *e = getenv("BERTH_HISTORY_SAVE_S");
		long sec = e != NULL ? strtol(e, NULL, 10) : TUI_HISTORY_SAVE_S;

		if (sec < 1 || sec > 86400)
			sec = TUI_HISTORY_SAVE_S;
		ui->history_timer = loop_add_timer(loop, (int)(sec * 1000), history_timer_cb, ui, NULL);
	}
	if (session_history_load(s, &err) < 0) {
		tui_show_error(ui, "graphs start empty", &err);
		berr_clear(&err);
	}
	session_enable_events(s);
	if (s->bus != NULL)
		ui->evbus_sub = evbus_subscribe(s->bus, "*", event_cb, ui);
	if (script_set_output_guard != NULL)
		script_set_output_guard(guard_before, guard_after);
	if (script_set_reporter != NULL)
		script_set_reporter(script_report);
	if (script_set_confirm_hook != NULL)
		script_set_confirm_hook(tui_ask, ui);

	/* The first frame does not wait for stats (CPU% needs two samples
	 * anyway): list, draw, then sample right after. */
	refresh_data(ui, 0);
	tui_schedule_refresh(ui);
	if (argc > 0 && argv[0] && argv[0][0] != '-') {
		size_t i;

		for (i = 0; i < ui->norder; i++)
			if (strcmp(ui->list.v[ui->order[i]]->name, argv[0]) == 0) {
				ui->cursor = i;
				free(ui->detail_key);
				ui->detail_key = xstrdup(ui->keys[ui->order[i]]);
				tui_set_view(ui, VIEW_DETAIL);
				break;
			}
	}
	draw_all(ui);
	bench_note("pid=%ld instances=%zu first_frame_ms=%.0f tui_ms=%ld\n", (long)getpid(), ui->list.n,
		   process_age_ms(), (long)(now_ms() - t_start));
	while (!ui->quit) {
		if (loop_run_once(loop, -1) < 0 && errno != EINTR)
			break;
		if (ui->dirty && !ui->quit && !console_raw_active(ui))
			draw_all(ui);
	}

	bench_note("frames=%lu refreshes=%lu refresh_ms_avg=%.1f\n", bench_frames, bench_refreshes,
		   bench_refreshes ? bench_refresh_ms / bench_refreshes : 0);
	if (script_set_output_guard != NULL)
		script_set_output_guard(NULL, NULL);
	if (script_set_reporter != NULL)
		script_set_reporter(NULL);
	if (script_set_confirm_hook != NULL)
		script_set_confirm_hook(NULL, NULL);
	if (ui->evbus_sub > 0)
		evbus_unsubscribe(s->bus, ui->evbus_sub);
	loop_remove_fd(loop, ui->stdin_watch);
	loop_remove_timer(loop, ui->stats_timer);
	loop_remove_timer(loop, ui->refresh_timer);
	loop_remove_timer(loop, ui->input_timer);
	loop_remove_timer(loop, ui->history_timer);
	console_close(ui);
	restore_terminal();
	history_save(ui, 1);
	teardown_signals(ui);
	util_set_oom_hook(outer_oom_hook);
	active_ui = NULL;
	tui_free(ui);
	return rc;
}
