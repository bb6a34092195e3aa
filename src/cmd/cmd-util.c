/*
 * cmd-util.c - aligned tables, JSON output and instance filters for commands.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cmd/cmd-util.h"
#include "core/backend.h"
#include "core/util.h"

struct table {
	int ncols;
	char **cells;		/* rows * ncols, row 0 = headers */
	size_t nrows, cap;
	int right[16];
};

struct table *
table_new(int ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols > 16 ? 16 : ncols;
	table_add(t, headers);
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	int i;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof *t->cells);
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = term_safe(cells[i] ? cells[i] : "");
	t->nrows++;
}

void
table_align_right(struct table *t, int col)
{
	if (col >= 0 && col < t->ncols)
		t->right[col] = 1;
}

int
utf8_width(const char *s)
{
	mbstate_t st;
	int w = 0;
	size_t n;
	wchar_t wc;

	memset(&st, 0, sizeof st);
	while (*s) {
		n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Not valid in this locale: count bytes. */
			memset(&st, 0, sizeof st);
			s++;
			w++;
			continue;
		}
		if (n == 0)
			break;
		{
			int cw = wcwidth(wc);

			w += cw < 0 ? 1 : cw;
		}
		s += n;
	}
	return w;
}

void
table_print(struct table *t, FILE *out)
{
	int widths[16] = { 0 }, c;
	size_t r;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			int w = utf8_width(t->cells[r * (size_t)t->ncols + (size_t)c]);

			if (w > widths[c])
				widths[c] = w;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * (size_t)t->ncols + (size_t)c];
			int pad = widths[c] - utf8_width(cell);

			if (t->right[c])
				fprintf(out, "%*s%s", pad, "", cell);
			else if (c == t->ncols - 1)
				fputs(cell, out);
			else
				fprintf(out, "%s%*s", cell, pad, "");
			if (c != t->ncols - 1)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

char *
term_safe(const char *s)
{
	char *out = xstrdup(s), *p;

	for (p = out; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			*p = '?';
		else if (c == 0xc2 && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls (CSI is U+009B). */
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
	return out;
}

void
json_print(FILE *out, json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE),
	      out);
	fputc('\n', out);
}

int
inst_filter_match(const struct inst_filter *f, const struct instance *inst)
{
	if (f->pattern && !glob_match(f->pattern, inst->name))
		return 0;
	if (f->kind && inst_kind_from_name(f->kind) != (int)inst->kind)
		return 0;
	if (f->state && strcmp(f->state, inst_state_name(inst->state)) != 0)
		return 0;
	if (f->backend && (inst->backend == NULL || strcmp(f->backend, inst->backend->name) != 0))
		return 0;
	if (f->host && (inst->host == NULL || !glob_match(f->host, inst->host)))
		return 0;
	return 1;
}
