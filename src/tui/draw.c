/*
 * draw.c - drawing helpers of the dashboard: colours (or their monochrome
 * fallbacks), width-aware UTF-8 text that cannot inject control sequences,
 * boxes, sparklines and braille/ASCII area graphs.
 *
 * Not for: layout of any view (dashboard.c, detail.c...).  Every string an
 * instance, a backend or a guest hands us goes through draw_text, which
 * replaces control characters, so a hostile name cannot move the cursor.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "core/util.h"
#include "tui/tui-internal.h"

static attr_t color_attrs[CP_MAX];

/* Colours where the terminal has them and NO_COLOR is unset; otherwise
 * reverse/bold/underline carry the same meaning. */
void
draw_init_colors(struct tui *ui)
{
	static const struct {
		enum tui_color cp;
		short fg, bg;
		attr_t extra, mono;
	} def[] = {
		{ CP_TITLE, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
		{ CP_HEADER, COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE },
		{ CP_CURSOR, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
		{ CP_SELECTED, COLOR_YELLOW, -1, A_BOLD, A_BOLD },
		{ CP_RUNNING, COLOR_GREEN, -1, 0, 0 },
		{ CP_STOPPED, -1, -1, 0, 0 },
		{ CP_PAUSED, COLOR_YELLOW, -1, 0, A_UNDERLINE },
		{ CP_CRASHED, COLOR_RED, -1, A_BOLD, A_BOLD },
		{ CP_WARN, COLOR_YELLOW, -1, A_BOLD, A_BOLD },
		{ CP_ERROR, COLOR_RED, -1, A_BOLD, A_BOLD },
		{ CP_GRAPH, COLOR_GREEN, -1, 0, 0 },
		{ CP_GRAPH2, COLOR_CYAN, -1, 0, 0 },
		{ CP_DIM, COLOR_BLUE, -1, A_BOLD, 0 },
	};
	size_t i;

	ui->color = has_colors() && !(getenv("NO_COLOR") && *getenv("NO_COLOR")) &&
		    tui_opt_bool("color", 1);
	if (ui->color && start_color() == ERR)
		ui->color = 0;
	if (ui->color)
		use_default_colors();
	for (i = 0; i < sizeof def / sizeof def[0]; i++) {
		if (ui->color) {
			init_pair(def[i].cp, def[i].fg, def[i].bg);
			color_attrs[def[i].cp] = COLOR_PAIR(def[i].cp) | def[i].extra;
		} else {
			color_attrs[def[i].cp] = def[i].mono;
		}
	}
	color_attrs[CP_DEFAULT] = A_NORMAL;
}

attr_t
draw_attr(struct tui *ui, enum tui_color c)
{
	(void)ui;
	return c < CP_MAX ? color_attrs[c] : A_NORMAL;
}

/* Decode one character; invalid bytes come back as '?' of length 1. */
static size_t
next_char(const char *s, size_t len, wchar_t *wc, mbstate_t *st)
{
	size_t r = mbrtowc(wc, s, len, st);

	if (r == (size_t)-1 || r == (size_t)-2) {
		memset(st, 0, sizeof *st);
		*wc = L'?';
		return 1;
	}
	if (r == 0)
		return 1;
	return r;
}

static wchar_t
safe_char(wchar_t wc, int *w)
{
	int cw;

	if (wc < 0x20 || wc == 0x7f || (wc >= 0x80 && wc < 0xa0)) {
		*w = 1;
		return L'?';
	}
	cw = wcwidth(wc);
	if (cw < 0) {
		*w = 1;
		return L'?';
	}
	*w = cw;
	return wc;
}

int
text_width(const char *s)
{
	mbstate_t st;
	size_t len = strlen(s), off = 0;
	int total = 0, w;
	wchar_t wc;

	memset(&st, 0, sizeof st);
	while (off < len) {
		off += next_char(s + off, len - off, &wc, &st);
		safe_char(wc, &w);
		total += w;
	}
	return total;
}

int
draw_text(struct tui *ui, int y, int x, const char *s, int width, int pad)
{
	mbstate_t st;
	size_t len, off = 0;
	int used = 0, w;
	wchar_t wc, out[2];

	if (width <= 0 || y < 0 || y >= ui->rows || x >= ui->cols)
		return 0;
	if (x + width > ui->cols)
		width = ui->cols - x;
	if (s == NULL)
		s = "";
	len = strlen(s);
	memset(&st, 0, sizeof st);
	move(y, x);
	while (off < len) {
		off += next_char(s + off, len - off, &wc, &st);
		wc = safe_char(wc, &w);
		if (w == 0) {
			if (used == 0)
				continue;
			/* combining mark: attach to the previous cell */
		}
		if (used + w > width)
			break;
		if (!ui->utf8 && wc > 0x7e) {
			wc = L'?';
			w = 1;
		}
		out[0] = wc;
		out[1] = 0;
		addnwstr(out, 1);
		used += w;
	}
	if (pad)
		for (; used < width; used++)
			addch(' ');
	return used;
}

int
draw_textf(struct tui *ui, int y, int x, int width, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return draw_text(ui, y, x, buf, width, 0);
}

void
draw_hline(struct tui *ui, int y, int x, int width)
{
	if (y < 0 || y >= ui->rows || width <= 0)
		return;
	mvhline(y, x, ui->utf8 ? ACS_HLINE : '-', width);
}

void
draw_box(struct tui *ui, int y, int x, int h, int w, const char *title)
{
	int i;

	if (h < 2 || w < 2)
		return;
	for (i = 0; i < h; i++)
		mvhline(y + i, x, ' ', w);
	if (ui->utf8) {
		mvaddch(y, x, ACS_ULCORNER);
		mvaddch(y, x + w - 1, ACS_URCORNER);
		mvaddch(y + h - 1, x, ACS_LLCORNER);
		mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
		mvhline(y, x + 1, ACS_HLINE, w - 2);
		mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
		mvvline(y + 1, x, ACS_VLINE, h - 2);
		mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
	} else {
		mvaddch(y, x, '+');
		mvaddch(y, x + w - 1, '+');
		mvaddch(y + h - 1, x, '+');
		mvaddch(y + h - 1, x + w - 1, '+');
		mvhline(y, x + 1, '-', w - 2);
		mvhline(y + h - 1, x + 1, '-', w - 2);
		mvvline(y + 1, x, '|', h - 2);
		mvvline(y + 1, x + w - 1, '|', h - 2);
	}
	if (title && *title) {
		attron(A_BOLD);
		mvaddch(y, x + 1, ' ');
		draw_text(ui, y, x + 2, title, w - 4, 0);
		addch(' ');
		attroff(A_BOLD);
	}
}

const char *
fmt_rate(char *buf, size_t len, double bps)
{
	char tmp[32];

	if (isnan(bps) || bps < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	fmt_bytes(tmp, sizeof tmp, bps);
	snprintf(buf, len, "%s", tmp);
	return buf;
}

static double
series_max(const float *v, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] > m)
			m = v[i];
	return m;
}

void
draw_sparkline(struct tui *ui, int y, int x, int width, const float *v, size_t n, double max)
{
	static const wchar_t bars[] = L" \u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588";
	static const char ascii[] = " ._-=+*#@";
	int i;

	if (max <= 0)
		max = series_max(v, n);
	if (max <= 0)
		max = 1;
	move(y, x);
	for (i = 0; i < width; i++) {
		long idx = (long)n - width + i;
		int level;
		wchar_t wc[2] = { 0, 0 };

		if (idx < 0 || isnan(v[idx])) {
			addch(' ');
			continue;
		}
		level = (int)lround(v[idx] / max * 8);
		if (level < 0)
			level = 0;
		if (level > 8)
			level = 8;
		if (level == 0)
			level = 1;	/* a known value, even 0, is a bar: blank means no data */
		if (ui->utf8) {
			wc[0] = bars[level];
			addnwstr(wc, 1);
		} else {
			addch(ascii[level]);
		}
	}
}

/* Value of pixel column px of pw, taking the maximum of the points that
 * fall in it (so short spikes stay visible when compressed). */
static double
column_value(const float *v, size_t n, int px, int pw)
{
	size_t a = (size_t)px * n / pw, b = (size_t)(px + 1) * n / pw, i;
	double m = NAN;

	if (b <= a)
		b = a + 1;
	for (i = a; i < b && i < n; i++)
		if (!isnan(v[i]) && (isnan(m) || v[i] > m))
			m = v[i];
	return m;
}

double
draw_graph(struct tui *ui, int y, int x, int h, int w, const float *v, size_t n, double max,
	   enum tui_color color)
{
	int row, col, sub;

	if (h <= 0 || w <= 0)
		return max;
	if (max <= 0)
		max = series_max(v, n);
	if (max <= 0)
		max = 1;
	attron(draw_attr(ui, color));
	if (ui->utf8) {
		/* Braille: each cell is 2 columns x 4 rows of dots. */
		static const int dot[4][2] = { { 0x40, 0x80 }, { 0x04, 0x20 }, { 0x02, 0x10 }, { 0x01, 0x08 } };
		int ph = h * 4, pw = w * 2;
		int *height = xcalloc(pw, sizeof *height);

		for (col = 0; col < pw; col++) {
			double cv = n ? column_value(v, n, col, pw) : NAN;

			height[col] = isnan(cv) ? -1 : (int)lround(cv / max * ph);
			if (height[col] > ph)
				height[col] = ph;
			if (height[col] == 0 && cv > 0)
				height[col] = 1;
		}
		for (row = 0; row < h; row++) {
			move(y + row, x);
			for (col = 0; col < w; col++) {
				int bits = 0;
				wchar_t wc[2] = { 0, 0 };

				for (sub = 0; sub < 2; sub++) {
					int hgt = height[col * 2 + sub], r;

					for (r = 0; r < 4; r++) {
						/* dot row r of this cell, counted from the top */
						int level = ph - (row * 4 + r);

						if (hgt >= level)
							bits |= dot[r][sub];
					}
				}
				wc[0] = 0x2800 + bits;
				addnwstr(wc, 1);
			}
		}
		free(height);
	} else {
		for (col = 0; col < w; col++) {
			double cv = n ? column_value(v, n, col, w) : NAN;
			int hgt = isnan(cv) ? -1 : (int)lround(cv / max * h * 2);

			if (hgt == 0 && cv > 0)
				hgt = 1;
			for (row = 0; row < h; row++) {
				int level = (h - row) * 2;	/* half-rows from the bottom */

				mvaddch(y + row, x + col,
					hgt >= level ? '#' : hgt == level - 1 ? '.' : ' ');
			}
		}
	}
	attroff(draw_attr(ui, color));
	return max;
}
