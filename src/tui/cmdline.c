/*
 * cmdline.c - the `:` line's Tab completion (command names and aliases from
 * the command table, their --options, instance names) and the pager that
 * shows command output and help.
 *
 * Not for: running the command (tui_run_command in tui.c goes through
 * cmd_run, the same dispatcher as the CLI).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/util.h"
#include "tui/tui-internal.h"

struct cands {
	char **v;
	size_t n;
};

static void
cand_add(struct cands *c, const char *prefix, const char *s)
{
	size_t i;

	if (strncmp(s, prefix, strlen(prefix)) != 0)
		return;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i], s) == 0)
			return;
	c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
	c->v[c->n++] = xstrdup(s);
}

static void
cand_free(struct cands *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
}

/* cand_add for callbacks that take one candidate and an argument */
struct cand_prefix {
	struct cands *c;
	const char *prefix;
};

static void
cand_add_prefixed(const char *s, void *arg)
{
	struct cand_prefix *cp = arg;

	cand_add(cp->c, cp->prefix, s);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A word as cmd_split reads it back: quoted when it has blanks or quotes. */
char *
cmdline_quote(const char *w)
{
	const char *p;
	char *out, *o;

	for (p = w; *p; p++)
		if (strchr(" \t'\"\\", *p))
			break;
	if (*p == '\0')
		return xstrdup(w);
	out = xmalloc(strlen(w) * 4 + 3);
	o = out;
	*o++ = '\'';
	for (p = w; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

void
cmdline_complete(struct tui *ui)
{
	struct tui_edit *e = &ui->line;
	struct cands c = { 0 };
	char *word, *first = NULL, *second = NULL;
	size_t start, i, common;
	int nwords = 0;
	const char *p;

	/* complete the word before the cursor; text after it is kept */
	start = e->cur;
	while (start > 0 && e->buf[start - 1] != ' ')
		start--;
	word = xstrndup(e->buf + start, e->cur - start);
	for (p = e->buf; p < e->buf + start; ) {
		while (*p == ' ' && p < e->buf + start)
			p++;
		if (p >= e->buf + start)
			break;
		if (nwords < 2) {
			const char *q = p;

			while (*q && *q != ' ')
				q++;
			if (nwords == 0)
				first = xstrndup(p, q - p);
			else
				second = xstrndup(p, q - p);
		}
		nwords++;
		while (*p && *p != ' ' && p < e->buf + start)
			p++;
	}
	if (nwords == 0) {
		for (i = 0; i < cmd_table_len; i++) {
			const struct cmd_entry *ce = cmd_table[i];
			int a;

			if (ce == NULL)	/* a component not linked in */
				continue;
			cand_add(&c, word, ce->name);
			for (a = 0; a < 4 && ce->aliases[a]; a++)
				cand_add(&c, word, ce->aliases[a]);
		}
		cand_add(&c, word, "quit");
		cand_add(&c, word, "set");
	} else if (first && strcmp(first, "set") == 0) {
		struct cand_prefix cp = { &c, word };

		cmd_set_complete(nwords, second, cand_add_prefixed, &cp);
	} else if (word[0] == '-') {
		const struct cmd_entry *ce = first ? cmd_find(first) : NULL;

		if (ce)
			for (i = 0; i < CMD_MAX_OPTS && ce->opts[i].name; i++) {
				char *o = xasprintf("--%s", ce->opts[i].name);

				cand_add(&c, word, o);
				free(o);
			}
		cand_add(&c, word, "--help");
	} else {
		for (i = 0; i < ui->list.n; i++)
			cand_add(&c, word, ui->list.v[i]->name);
		if (first && (strcmp(first, "help") == 0))
			for (i = 0; i < cmd_table_len; i++)
				if (cmd_table[i] != NULL)
					cand_add(&c, word, cmd_table[i]->name);
	}
	free(ui->complete_hint);
	ui->complete_hint = NULL;
	if (c.n == 0) {
		tui_status(ui, 1, "no completion for `%s'", word);
		beep();
		goto out;
	}
	qsort(c.v, c.n, sizeof *c.v, cmp_str);
	common = strlen(c.v[0]);
	for (i = 1; i < c.n; i++) {
		size_t j = 0;

		while (j < common && c.v[i][j] == c.v[0][j])
			j++;
		common = j;
	}
	{
		char *stem = xstrndup(c.v[0], common), *q, *rest, *line;
		const char *sep = c.n == 1 ? " " : "";

		q = c.n == 1 ? cmdline_quote(stem) : xstrdup(stem);
		rest = xstrdup(e->buf + e->cur);
		line = xasprintf("%.*s%s%s%s", (int)start, e->buf, q, sep, rest);
		edit_set(e, line);
		e->cur = start + strlen(q) + strlen(sep);
		free(stem);
		free(q);
		free(rest);
		free(line);
	}
	if (c.n > 1) {
		char *hint = xstrdup(""), *tmp;

		for (i = 0; i < c.n && i < 200; i++) {
			tmp = xasprintf("%s%s%s", hint, i ? "  " : "", c.v[i]);
			free(hint);
			hint = tmp;
		}
		ui->complete_hint = hint;
	}
out:
	cand_free(&c);
	free(word);
	free(first);
	free(second);
}

/* ---- history of the : line (this session only) ---- */

#define CMDLINE_HISTORY_MAX 100

void
cmdline_history_add(struct tui *ui, const char *line)
{
	while (*line == ' ' || *line == ':')
		line++;
	if (*line == '\0')
		return;
	if (ui->nhist > 0 && strcmp(ui->hist[ui->nhist - 1], line) == 0) {
		ui->hist_pos = ui->nhist;
		return;
	}
	if (ui->nhist == CMDLINE_HISTORY_MAX) {
		free(ui->hist[0]);
		memmove(ui->hist, ui->hist + 1, (ui->nhist - 1) * sizeof *ui->hist);
		ui->nhist--;
	}
	ui->hist = xrealloc(ui->hist, (ui->nhist + 1) * sizeof *ui->hist);
	ui->hist[ui->nhist++] = xstrdup(line);
	ui->hist_pos = ui->nhist;
}

void
cmdline_history(struct tui *ui, int delta)
{
	long pos = (long)ui->hist_pos + delta;

	if (pos < 0 || pos > (long)ui->nhist)
		return;
	ui->hist_pos = (size_t)pos;
	edit_set(&ui->line, ui->hist_pos < ui->nhist ? ui->hist[ui->hist_pos] : "");
}

/* ---- pager ---- */

void
pager_draw(struct tui *ui)
{
	size_t i, h = ui->rows > 2 ? (size_t)ui->rows - 2 : 1;
	char pos[64];

	pager_layout(ui);

	attron(draw_attr(ui, CP_TITLE));
	mvhline(0, 0, ' ', ui->cols);
	draw_textf(ui, 0, 0, ui->cols, " %s", ui->pager_title ? ui->pager_title : "");
	snprintf(pos, sizeof pos, " %zu-%zu/%zu  q:back ", ui->pager_nlines ? ui->pager_top + 1 : 0,
		 ui->pager_top + h < ui->pager_nlines ? ui->pager_top + h : ui->pager_nlines,
		 ui->pager_nlines);
	if ((int)strlen(pos) + 10 < ui->cols)
		draw_text(ui, 0, ui->cols - (int)strlen(pos), pos, (int)strlen(pos), 0);
	attroff(draw_attr(ui, CP_TITLE));
	for (i = 0; i < h && ui->pager_top + i < ui->pager_nlines; i++)
		draw_text(ui, 1 + (int)i, 0, ui->pager_lines[ui->pager_top + i], ui->cols, 0);
}

int
pager_key(struct tui *ui, const struct tui_keypress *k)
{
	size_t h, max;

	pager_layout(ui);
	h = ui->rows > 2 ? (size_t)ui->rows - 2 : 1;
	max = ui->pager_nlines > h ? ui->pager_nlines - h : 0;

	if (!k->is_key) {
		switch (k->code) {
		case 'q':
		case 27:
		case 'h':
			tui_set_view(ui, ui->pager_return ? ui->pager_return : VIEW_DASH);
			return 1;
		case 'j':
		case '\r':
		case '\n':
			if (ui->pager_top < max)
				ui->pager_top++;
			return 1;
		case 'k':
			if (ui->pager_top > 0)
				ui->pager_top--;
			return 1;
		case ' ':
		case 6:
			ui->pager_top = ui->pager_top + h < max ? ui->pager_top + h : max;
			return 1;
		case 'b':
		case 2:
			ui->pager_top = ui->pager_top > h ? ui->pager_top - h : 0;
			return 1;
		case 'g':
			ui->pager_top = 0;
			return 1;
		case 'G':
			ui->pager_top = max;
			return 1;
		case ':':
		case '?':
			return 0;	/* the table's keys */
		default:
			return 1;
		}
	}
	switch (k->code) {
	case KEY_DOWN:
		if (ui->pager_top < max)
			ui->pager_top++;
		return 1;
	case KEY_UP:
		if (ui->pager_top > 0)
			ui->pager_top--;
		return 1;
	case KEY_NPAGE:
		ui->pager_top = ui->pager_top + h < max ? ui->pager_top + h : max;
		return 1;
	case KEY_PPAGE:
		ui->pager_top = ui->pager_top > h ? ui->pager_top - h : 0;
		return 1;
	case KEY_HOME:
		ui->pager_top = 0;
		return 1;
	case KEY_END:
		ui->pager_top = max;
		return 1;
	case KEY_LEFT:
		tui_set_view(ui, ui->pager_return ? ui->pager_return : VIEW_DASH);
		return 1;
	default:
		return 1;
	}
}
