/*
 * options.h - the options table: every configurable setting of berth, with
 * its type, default and help.  init.lua (`berth.set("stats_interval", 2)` or
 * `options = {...}`), `berth shell`'s `set`, the TUI and berth.conf(5) all
 * read this one table.  Not for: key bindings (src/tui/keys.c) or hosts
 * (session.h).
 */
#ifndef BERTH_OPTIONS_H
#define BERTH_OPTIONS_H

#include "core/error.h"

enum option_type { OPT_BOOL, OPT_INT, OPT_STRING, OPT_LIST /* strings */ };

struct option_def {
	const char *name;
	enum option_type type;
	const char *default_value;	/* as text: "1", "true", "qemu:///system" */
	long min, max;			/* for OPT_INT */
	const char *help;
	const char *const *choices;	/* OPT_LIST: the items allowed (NULL: any) */
};

extern const struct option_def option_table[];
extern const unsigned option_table_len;
/* The dashboard's built-in columns, in the order of its table (the names
 * `columns`, :sort and key bindings use). */
extern const char *const option_column_names[];

const struct option_def *option_find(const char *name);
/* Set from text; validates type and range.  err names the option. */
int option_set(const char *name, const char *value, struct berr *err);
/* For OPT_LIST: whether value may be an item (err names option and item). */
int option_list_check(const char *name, const char *value, struct berr *err);
/* For OPT_LIST: append one value. */
int option_list_add(const char *name, const char *value, struct berr *err);
void option_list_clear(const char *name);
long option_int(const char *name);
int option_bool(const char *name);
const char *option_string(const char *name);
/* NULL-terminated list (borrowed). */
const char *const *option_list(const char *name);
/* Back to defaults (tests). */
void options_reset(void);

#endif
