/*
 * console.c - an instance's console inside the dashboard: the backend's
 * console fd rendered through libvterm in a pane (with scrollback and the
 * detach key on screen), and a full-screen raw attach (endwin, raw copy both
 * ways, the dashboard redrawn on return).
 *
 * The guest is hostile and may flood, stall or vanish: the fd is
 * non-blocking, each loop iteration reads and renders a bounded amount,
 * writes to the guest are queued in a bounded buffer, and detaching only
 * removes a watch and closes the fd, so leaving never waits on the guest.
 * Not for: opening consoles (the backend's console_open) or the CLI's
 * `berth console` (src/cmd).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <vterm.h>

#include "core/loop.h"
#include "core/options.h"
#include "core/util.h"
#include "tui/tui-internal.h"

#define CON_READ_CHUNK 16384
#define CON_READ_MAX_PER_ITER (4 * CON_READ_CHUNK)	/* bounded work per frame */
#define CON_OUT_MAX 65536
#define CP_VT_BASE 32		/* colour pairs for guest colours 0..7 */

struct tui_console {
	struct tui *ui;
	int fd;
	int watch;
	int want_out;		/* POLLOUT enabled */
	char *key;
	char *name;
	char *where;		/* "backend on host" */
	VTerm *vt;
	VTermScreen *vts;
	int vrows, vcols;
	char **sb;		/* scrollback ring of UTF-8 lines */
	size_t sb_cap, sb_head, sb_count;
	size_t scroll;		/* lines scrolled back, 0 = live */
	char out[CON_OUT_MAX];
	size_t outlen;
	size_t dropped;
	int escape;		/* detach byte */
	int fullscreen;
	struct termios saved_tio;
	int closed;
	char closed_msg[256];
	unsigned return_view;
};

static int
escape_byte(void)
{
	const char *s = option_find("console_escape") ? option_string("console_escape") : NULL;

	if (s == NULL || *s == '\0')
		return 0x1d;
	if (s[0] == '^' && s[1] && !s[2])
		return s[1] == '?' ? 0x7f : (s[1] & 0x1f);
	if (!s[1])
		return (unsigned char)s[0];
	return 0x1d;
}

static const char *
escape_name(int b, char *buf, size_t len)
{
	if (b < 0x20)
		snprintf(buf, len, "Ctrl-%c", b + '@');
	else
		snprintf(buf, len, "%c", b);
	return buf;
}

/* ---- scrollback ---- */

static int
sb_pushline(int cols, const VTermScreenCell *cells, void *user)
{
	struct tui_console *con = user;
	char *line = xmalloc((size_t)cols * 4 * VTERM_MAX_CHARS_PER_CELL + 1), *o = line;
	int i, last = 0;

	if (con->sb_cap == 0)
		return 0;
	for (i = 0; i < cols; i++) {
		mbstate_t st;
		int j;

		memset(&st, 0, sizeof st);
		if (cells[i].chars[0] == 0) {
			*o++ = ' ';
		} else {
			for (j = 0; j < VTERM_MAX_CHARS_PER_CELL && cells[i].chars[j]; j++) {
				size_t n = wcrtomb(o, (wchar_t)cells[i].chars[j], &st);

				if (n == (size_t)-1)
					*o++ = '?';
				else
					o += n;
			}
			last = (int)(o - line);
		}
		if (cells[i].width > 1)
			i += cells[i].width - 1;
	}
	line[last] = '\0';
	if (con->sb_count == con->sb_cap) {
		free(con->sb[con->sb_head]);
		con->sb[con->sb_head] = line;
		con->sb_head = (con->sb_head + 1) % con->sb_cap;
	} else {
		con->sb[(con->sb_head + con->sb_count) % con->sb_cap] = line;
		con->sb_count++;
	}
	if (con->scroll > 0 && con->scroll < con->sb_count)
		con->scroll++;	/* keep the view still while scrolled back */
	return 1;
}

static const char *
sb_line(struct tui_console *con, size_t back)	/* back = 1: newest */
{
	if (back == 0 || back > con->sb_count)
		return "";
	return con->sb[(con->sb_head + con->sb_count - back) % con->sb_cap];
}

static int
vt_damage(VTermRect rect, void *user)
{
	struct tui_console *con = user;

	(void)rect;
	con->ui->dirty = 1;
	return 1;
}

static int
vt_movecursor(VTermPos pos, VTermPos oldpos, int visible, void *user)
{
	struct tui_console *con = user;

	(void)pos;
	(void)oldpos;
	(void)visible;
	con->ui->dirty = 1;
	return 1;
}

static const VTermScreenCallbacks vt_callbacks = {
	.damage = vt_damage,
	.movecursor = vt_movecursor,
	.sb_pushline = sb_pushline,
};

/* ---- I/O ---- */

static void console_io_cb(struct loop *l, int id, int fd, int revents, void *arg);

static void
update_watch(struct tui_console *con)
{
	int want = con->outlen > 0;

	if (con->watch > 0 && want != con->want_out) {
		loop_update_fd(con->ui->s->loop, con->watch, POLLIN | (want ? POLLOUT : 0));
		con->want_out = want;
	}
}

static void
flush_out(struct tui_console *con)
{
	while (con->outlen > 0 && !con->closed) {
		ssize_t n = write(con->fd, con->out, con->outlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				snprintf(con->closed_msg, sizeof con->closed_msg, "writing to the console: %s",
					 strerror(errno));
				con->closed = 1;
				con->outlen = 0;
			}
			break;
		}
		memmove(con->out, con->out + n, con->outlen - (size_t)n);
		con->outlen -= (size_t)n;
	}
	update_watch(con);
}

/* Queue bytes for the guest; a guest that does not read loses what does
 * not fit rather than stalling the dashboard. */
static void
queue_out(struct tui_console *con, const char *buf, size_t len)
{
	if (con->closed)
		return;
	if (len > CON_OUT_MAX - con->outlen) {
		con->dropped += len - (CON_OUT_MAX - con->outlen);
		len = CON_OUT_MAX - con->outlen;
	}
	memcpy(con->out + con->outlen, buf, len);
	con->outlen += len;
	flush_out(con);
}

static void
vt_output(const char *s, size_t len, void *user)
{
	queue_out(user, s, len);
}

static void
write_all_stdout(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

				poll(&p, 1, 100);
				continue;
			}
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void
console_mark_closed(struct tui_console *con, const char *why)
{
	if (!con->closed)
		snprintf(con->closed_msg, sizeof con->closed_msg, "%s", why);
	con->closed = 1;
	if (con->watch > 0) {
		loop_remove_fd(con->ui->s->loop, con->watch);
		con->watch = 0;
	}
	con->ui->dirty = 1;
}

static void
console_io_cb(struct loop *l, int id, int fd, int revents, void *arg)
{
	struct tui_console *con = arg;
	char buf[CON_READ_CHUNK];
	size_t total = 0;

	(void)l;
	(void)id;
	if (revents & POLLOUT)
		flush_out(con);
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	while (total < CON_READ_MAX_PER_ITER) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			{
				char why[200];

				snprintf(why, sizeof why, "console read failed: %s", strerror(errno));
				console_mark_closed(con, why);
			}
			break;
		}
		if (n == 0) {
			console_mark_closed(con, "the console was closed by the other side");
			break;
		}
		total += (size_t)n;
		vterm_input_write(con->vt, buf, (size_t)n);
		if (con->fullscreen)
			write_all_stdout(buf, (size_t)n);
	}
	if (total)
		vterm_screen_flush_damage(con->vts);
	if (con->closed && con->fullscreen) {
		/* back to the dashboard, which shows why */
		static const char msg[] = "\r\n[berth: console closed]\r\n";

		write_all_stdout(msg, sizeof msg - 1);
		con->fullscreen = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &con->saved_tio);
		tui_resume_screen(con->ui);
	}
	con->ui->dirty = 1;
}

/* Hidden test hook: BERTH_TUI_TEST_CONSOLE=/path/to/unix.sock makes every
 * console a connection to that socket (tests/tui/console-peer). */
static int
test_console_fd(const char *path, int *fd_out, struct berr *err)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return berr_set(err, BERR_INVALID, "test console path too long");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_errno(err, "socket");
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		berr_errno(err, "connecting to %s", path);
		close(fd);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

static void
pane_size(struct tui *ui, int *rows, int *cols)
{
	*rows = ui->rows - 2 > 1 ? ui->rows - 2 : 1;
	*cols = ui->cols > 1 ? ui->cols : 1;
}

static void
enter_fullscreen(struct tui *ui)
{
	struct tui_console *con = ui->con;
	struct termios raw;
	char esc[16], msg[256];
	int r, c;
	VTermScreenCell cell;
	VTermPos pos;

	tui_suspend_screen(ui);
	tcgetattr(STDIN_FILENO, &con->saved_tio);
	raw = con->saved_tio;
	cfmakeraw(&raw);
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	con->fullscreen = 1;
	/* show what the pane had, then the guest takes over the terminal */
	write_all_stdout("\033[H\033[2J", 7);
	for (r = 0; r < con->vrows; r++) {
		char line[4096];
		size_t o = 0;
		mbstate_t st;

		memset(&st, 0, sizeof st);
		for (c = 0; c < con->vcols && o + 8 < sizeof line; c++) {
			pos.row = r;
			pos.col = c;
			vterm_screen_get_cell(con->vts, pos, &cell);
			if (cell.chars[0] == 0 || cell.chars[0] < 0x20) {
				line[o++] = ' ';
			} else {
				size_t n = wcrtomb(line + o, (wchar_t)cell.chars[0], &st);

				o += n == (size_t)-1 ? 0 : n;
			}
			if (cell.width > 1)
				c += cell.width - 1;
		}
		while (o > 0 && line[o - 1] == ' ')
			o--;
		line[o++] = '\r';
		line[o++] = '\n';
		if (r < con->vrows - 1)
			write_all_stdout(line, o);
	}
	snprintf(msg, sizeof msg, "\r\n[berth: attached to %s; %s detaches]\r\n", con->name,
		 escape_name(con->escape, esc, sizeof esc));
	write_all_stdout(msg, strlen(msg));
}

int
console_raw_active(struct tui *ui)
{
	return ui->con != NULL && ui->con->fullscreen;
}

/* In the raw attach, stdin is copied to the guest as it comes, except the
 * detach byte. */
void
console_raw_stdin(struct tui *ui)
{
	struct tui_console *con = ui->con;
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf), i;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ui->quit = 1;
		return;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] == con->escape)
			break;
	if (i > 0)
		queue_out(con, buf, (size_t)i);
	if (i < n) {
		tcsetattr(STDIN_FILENO, TCSANOW, &con->saved_tio);
		con->fullscreen = 0;
		console_close(ui);
		tui_resume_screen(ui);
		tui_status(ui, 0, "detached");
	}
}

int
console_open(struct tui *ui, struct instance *inst, int fullscreen, struct berr *err)
{
	struct tui_console *con;
	const char *hook = getenv("BERTH_TUI_TEST_CONSOLE");
	int fd = -1;

	if (hook && *hook) {
		if (test_console_fd(hook, &fd, err) < 0)
			return -1;
	} else if (inst->backend == NULL || inst->backend->console_open == NULL) {
		return berr_set(err, BERR_NOTSUP, "%s: the %s backend has no console", inst->name,
				inst->backend ? inst->backend->name : "?");
	} else if (inst->backend->console_open(inst, &fd, err) < 0) {
		return berr_wrap(err, "opening the console of `%s'", inst->name);
	}
	console_close(ui);
	fd_set_nonblock(fd, 1);
	fd_set_cloexec(fd, 1);
	con = xcalloc(1, sizeof *con);
	con->ui = ui;
	con->fd = fd;
	{
		char *k = instance_key(inst);

		con->key = k;
	}
	con->name = xstrdup(inst->name);
	con->where = xasprintf("%s on %s", inst->backend ? inst->backend->name : "?",
			       inst->host ? inst->host : "?");
	con->escape = escape_byte();
	con->sb_cap = (size_t)tui_opt_int("scrollback_lines", 2000);
	if (con->sb_cap > 100000)
		con->sb_cap = 100000;
	con->sb = xcalloc(con->sb_cap + 1, sizeof *con->sb);
	pane_size(ui, &con->vrows, &con->vcols);
	con->vt = vterm_new(con->vrows, con->vcols);
	if (con->vt == NULL)
		util_oom();
	vterm_set_utf8(con->vt, 1);
	vterm_output_set_callback(con->vt, vt_output, con);
	con->vts = vterm_obtain_screen(con->vt);
	vterm_screen_set_callbacks(con->vts, &vt_callbacks, con);
	vterm_screen_set_damage_merge(con->vts, VTERM_DAMAGE_SCROLL);
	vterm_screen_reset(con->vts, 1);
	con->watch = loop_add_fd(ui->s->loop, fd, POLLIN, console_io_cb, con, NULL);
	con->return_view = ui->view == VIEW_CONSOLE ? VIEW_DASH : ui->view;
	ui->con = con;
	tui_set_view(ui, VIEW_CONSOLE);
	if (fullscreen)
		enter_fullscreen(ui);
	return 0;
}

void
console_close(struct tui *ui)
{
	struct tui_console *con = ui->con;
	size_t i;

	if (con == NULL)
		return;
	if (con->fullscreen) {
		tcsetattr(STDIN_FILENO, TCSANOW, &con->saved_tio);
		con->fullscreen = 0;
	}
	if (con->watch > 0)
		loop_remove_fd(ui->s->loop, con->watch);
	close(con->fd);
	if (con->vt)
		vterm_free(con->vt);
	for (i = 0; i < con->sb_count; i++)
		free(con->sb[(con->sb_head + i) % con->sb_cap]);
	free(con->sb);
	free(con->key);
	free(con->name);
	free(con->where);
	if (ui->view == VIEW_CONSOLE)
		tui_set_view(ui, con->return_view ? con->return_view : VIEW_DASH);
	free(con);
	ui->con = NULL;
}

void
console_resize(struct tui *ui)
{
	struct tui_console *con = ui->con;
	int r, c;

	if (con == NULL)
		return;
	pane_size(ui, &r, &c);
	if (r != con->vrows || c != con->vcols) {
		con->vrows = r;
		con->vcols = c;
		vterm_set_size(con->vt, r, c);
		vterm_screen_flush_damage(con->vts);
	}
}

/* ---- drawing ---- */

static attr_t
cell_attr(struct tui *ui, const VTermScreenCell *cell)
{
	attr_t a = A_NORMAL;

	if (cell->attrs.bold)
		a |= A_BOLD;
	if (cell->attrs.underline)
		a |= A_UNDERLINE;
	if (cell->attrs.reverse)
		a |= A_REVERSE;
	if (ui->color && VTERM_COLOR_IS_INDEXED(&cell->fg) && !VTERM_COLOR_IS_DEFAULT_FG(&cell->fg)) {
		int idx = cell->fg.indexed.idx;

		if (idx >= 8 && idx < 16) {
			idx -= 8;
			a |= A_BOLD;
		}
		if (idx < 8 && COLOR_PAIRS >= CP_VT_BASE + 8)
			a |= COLOR_PAIR(CP_VT_BASE + idx);
	}
	return a;
}

void
console_draw(struct tui *ui)
{
	struct tui_console *con = ui->con;
	static int pairs_done;
	char esc[16], title[512];
	int c, y;
	VTermPos pos;
	VTermScreenCell cell;

	if (con == NULL)
		return;
	if (ui->color && !pairs_done && COLOR_PAIRS >= CP_VT_BASE + 8) {
		for (c = 0; c < 8; c++)
			init_pair(CP_VT_BASE + c, c, -1);
		pairs_done = 1;
	}
	attron(draw_attr(ui, CP_TITLE));
	mvhline(0, 0, ' ', ui->cols);
	snprintf(title, sizeof title, " console %s (%s)%s", con->name, con->where,
		 con->scroll ? "  [scrollback]" : "");
	draw_text(ui, 0, 0, title, ui->cols, 0);
	{
		/* the detach key always shows; the rest when there is room */
		int used = text_width(title) + 1;
		char hint[128];

		escape_name(con->escape, esc, sizeof esc);
		snprintf(hint, sizeof hint, "%s detach  S-PgUp/PgDn scroll  F2 full screen ", esc);
		if (used + text_width(hint) > ui->cols)
			snprintf(hint, sizeof hint, "%s detach ", esc);
		if (used + text_width(hint) > ui->cols)
			used = ui->cols - text_width(hint);
		draw_text(ui, 0, ui->cols - text_width(hint), hint, text_width(hint), 0);
	}
	attroff(draw_attr(ui, CP_TITLE));

	for (y = 0; y < con->vrows && y + 1 < ui->rows - 1; y++) {
		long row = (long)y - (long)con->scroll;

		move(1 + y, 0);
		if (row < 0) {
			/* from the scrollback: line (scroll - y) back from the newest */
			draw_text(ui, 1 + y, 0, sb_line(con, (size_t)(-row)), ui->cols, 0);
			continue;
		}
		for (c = 0; c < con->vcols && c < ui->cols; c++) {
			wchar_t wc[VTERM_MAX_CHARS_PER_CELL + 1];
			int i, n = 0;

			pos.row = (int)row;
			pos.col = c;
			if (!vterm_screen_get_cell(con->vts, pos, &cell))
				break;
			for (i = 0; i < VTERM_MAX_CHARS_PER_CELL && cell.chars[i]; i++) {
				uint32_t ch = cell.chars[i];

				/* vterm gives printable characters only, but check */
				if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0) || (!ui->utf8 && ch > 0x7e))
					ch = '?';
				wc[n++] = (wchar_t)ch;
			}
			if (n == 0)
				wc[n++] = L' ';
			wc[n] = 0;
			if (cell.width > 1 && c + cell.width > ui->cols)
				wc[0] = L' ', wc[1] = 0;
			attrset(cell_attr(ui, &cell));
			mvaddnwstr(1 + y, c, wc, n);
			if (cell.width > 1)
				c += cell.width - 1;
		}
		attrset(A_NORMAL);
	}
	if (con->closed) {
		attron(draw_attr(ui, CP_ERROR) | A_REVERSE);
		draw_textf(ui, ui->rows - 1, 0, ui->cols, "[%s] %s returns", con->closed_msg,
			   escape_name(con->escape, esc, sizeof esc));
		attroff(draw_attr(ui, CP_ERROR) | A_REVERSE);
	} else if (con->dropped) {
		attron(draw_attr(ui, CP_WARN));
		draw_textf(ui, ui->rows - 1, 0, ui->cols, "[%zu bytes of input dropped: the guest is not reading]",
			   con->dropped);
		attroff(draw_attr(ui, CP_WARN));
	}
}

void
console_draw_cursor(struct tui *ui)
{
	struct tui_console *con = ui->con;
	VTermPos pos;

	if (con == NULL || con->scroll || con->closed)
		return;
	vterm_state_get_cursorpos(vterm_obtain_state(con->vt), &pos);
	if (pos.row >= 0 && pos.row + 1 < ui->rows - 1 && pos.col >= 0 && pos.col < ui->cols) {
		move(1 + pos.row, pos.col);
		curs_set(1);
	}
}

/* ---- keys ---- */

static int
vterm_key_for(wint_t code, VTermKey *out)
{
	switch (code) {
	case KEY_UP: *out = VTERM_KEY_UP; return 1;
	case KEY_DOWN: *out = VTERM_KEY_DOWN; return 1;
	case KEY_LEFT: *out = VTERM_KEY_LEFT; return 1;
	case KEY_RIGHT: *out = VTERM_KEY_RIGHT; return 1;
	case KEY_HOME: *out = VTERM_KEY_HOME; return 1;
	case KEY_END: *out = VTERM_KEY_END; return 1;
	case KEY_PPAGE: *out = VTERM_KEY_PAGEUP; return 1;
	case KEY_NPAGE: *out = VTERM_KEY_PAGEDOWN; return 1;
	case KEY_IC: *out = VTERM_KEY_INS; return 1;
	case KEY_DC: *out = VTERM_KEY_DEL; return 1;
	case KEY_BACKSPACE: *out = VTERM_KEY_BACKSPACE; return 1;
	case KEY_ENTER: *out = VTERM_KEY_ENTER; return 1;
	default:
		if (code >= KEY_F(1) && code <= KEY_F(12)) {
			*out = VTERM_KEY_FUNCTION(code - KEY_F0);
			return 1;
		}
		return 0;
	}
}

int
console_key(struct tui *ui, const struct tui_keypress *k)
{
	struct tui_console *con = ui->con;
	VTermKey vk;

	if (con == NULL)
		return 0;
	if (!k->is_key && (int)k->code == con->escape) {
		console_close(ui);
		tui_status(ui, 0, "detached");
		ui->dirty = 1;
		return 1;
	}
	if (k->is_key && (k->code == KEY_SPREVIOUS || k->code == KEY_SNEXT)) {
		size_t page = con->vrows > 2 ? (size_t)con->vrows / 2 : 1;

		if (k->code == KEY_SPREVIOUS)
			con->scroll = con->scroll + page < con->sb_count ? con->scroll + page : con->sb_count;
		else
			con->scroll = con->scroll > page ? con->scroll - page : 0;
		ui->dirty = 1;
		return 1;
	}
	if (k->is_key && k->code == KEY_F(2) && !con->closed) {
		con->scroll = 0;
		enter_fullscreen(ui);
		return 1;
	}
	if (con->closed) {
		/* any key leaves a closed console */
		console_close(ui);
		ui->dirty = 1;
		return 1;
	}
	if (con->scroll) {
		con->scroll = 0;
		ui->dirty = 1;
	}
	if (k->is_key && k->code == KEY_MOUSE) {
		MEVENT me;

		getmouse(&me);
		return 1;
	}
	if (k->is_key) {
		if (vterm_key_for(k->code, &vk))
			vterm_keyboard_key(con->vt, vk, VTERM_MOD_NONE);
		return 1;
	}
	if (k->code == '\r' || k->code == '\n')
		vterm_keyboard_key(con->vt, VTERM_KEY_ENTER, VTERM_MOD_NONE);
	else if (k->code == 0x7f)
		vterm_keyboard_key(con->vt, VTERM_KEY_BACKSPACE, VTERM_MOD_NONE);
	else if (k->code == 27)
		vterm_keyboard_key(con->vt, VTERM_KEY_ESCAPE, VTERM_MOD_NONE);
	else if (k->code == '\t')
		vterm_keyboard_key(con->vt, VTERM_KEY_TAB, VTERM_MOD_NONE);
	else if (k->code < 0x20) {
		char b = (char)k->code;

		queue_out(con, &b, 1);
	} else
		vterm_keyboard_unichar(con->vt, (uint32_t)k->code, VTERM_MOD_NONE);
	return 1;
}
