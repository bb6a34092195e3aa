/*
 * cmd-util.h - output helpers shared by commands: aligned tables (UTF-8
 * aware), JSON printing, instance filters.
 */
#ifndef BERTH_CMD_UTIL_H
#define BERTH_CMD_UTIL_H

#include <stdio.h>
#include <json-c/json.h>

#include "core/instance.h"

struct table;
struct table *table_new(int ncols, const char *const *headers);
/* Add a row of ncols strings (copied). */
void table_add(struct table *t, const char *const *cells);
/* Right-align column col (numbers). */
void table_align_right(struct table *t, int col);
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);

/* Display width of a UTF-8 string (wcwidth per code point). */
int utf8_width(const char *s);

void json_print(FILE *out, json_object *o);

/* A copy of s safe to print on a terminal: C0 and C1 control characters and
 * DEL (which names and values from remote peers may carry, e.g. ESC
 * sequences) become '?'. */
char *term_safe(const char *s);

struct inst_filter {
	const char *pattern, *kind, *state, *backend, *host;
};
int inst_filter_match(const struct inst_filter *f, const struct instance *inst);

#endif
