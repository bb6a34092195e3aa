/*
 * options.c - the options table and the current values of every setting.
 *
 * One static table (name, type, default, range, help) and one array of
 * current values parallel to it.  init.lua, the shell's `set`, the TUI and
 * berth.conf(5) all go through option_set()/option_*() here.
 * Not for: reading init.lua (src/script/config.c does that) or key bindings.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/options.h"
#include "core/util.h"

const char *const option_column_names[] = {
	"name", "kind", "backend", "host", "state", "vcpus", "memory", "cpu", "spark", "used",
	"disk", "net", "uptime", NULL
};

const struct option_def option_table[] = {
	{ "color", OPT_BOOL, "true", 0, 0,
	  "use colours in the dashboard and in command output on a terminal" },
	{ "columns", OPT_LIST, "", 0, 0,
	  "dashboard columns to show, the most important first, kept in that order when the "
	  "terminal is narrow (empty: every column that fits); name is always shown, plugin "
	  "columns after these",
	  option_column_names },
	{ "console_escape", OPT_STRING, "^]", 0, 0,
	  "key that detaches from an attached console (caret notation, e.g. ^] or ^A)" },
	{ "demo", OPT_BOOL, "false", 0, 0,
	  "show demo instances (a fabricated host) when nothing else is reachable" },
	{ "history_file", OPT_STRING, "", 0, 0,
	  "file for `berth shell` history (empty: shell_history in the data directory)" },
	{ "history_size", OPT_INT, "1000", 0, 1000000,
	  "lines of shell history kept" },
	{ "libvirt_uris", OPT_LIST, "", 0, 0,
	  "libvirt URIs opened by default (empty: qemu:///system as root, else qemu:///session)" },
	{ "mouse", OPT_BOOL, "true", 0, 0,
	  "let the dashboard use the mouse" },
	{ "overcommit_warn", OPT_INT, "150", 0, 10000,
	  "warn when a host's allocated vCPUs or memory exceed this percentage of its capacity" },
	{ "scrollback_lines", OPT_INT, "2000", 0, 1000000,
	  "lines of console scrollback kept in the dashboard's console view" },
	{ "shutdown_timeout", OPT_INT, "60", 0, 86400,
	  "seconds a graceful shutdown may take before berth forces the instance off" },
	{ "stats_interval", OPT_INT, "1", 1, 3600,
	  "seconds between statistics samples" },
	{ "webhook_url", OPT_STRING, "", 0, 0,
	  "URL the webhook plugin POSTs state-change events to (empty: disabled)" },
};
const unsigned option_table_len = sizeof option_table / sizeof option_table[0];

#define OPTION_MAX (sizeof option_table / sizeof option_table[0])

struct option_value {
	int set;		/* 0: still the default (not parsed yet) */
	long num;		/* OPT_BOOL, OPT_INT */
	char *str;		/* OPT_STRING */
	char **list;		/* OPT_LIST, NULL-terminated */
	size_t nlist;
};

static struct option_value option_values[OPTION_MAX];

static int
option_index(const char *name)
{
	unsigned i;

	if (name == NULL)
		return -1;
	for (i = 0; i < option_table_len; i++)
		if (strcmp(option_table[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct option_def *
option_find(const char *name)
{
	int i = option_index(name);

	return i < 0 ? NULL : &option_table[i];
}

static int
parse_bool(const char *v, long *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static void
value_clear(struct option_value *ov)
{
	size_t i;

	free(ov->str);
	ov->str = NULL;
	for (i = 0; i < ov->nlist; i++)
		free(ov->list[i]);
	free(ov->list);
	ov->list = NULL;
	ov->nlist = 0;
	ov->num = 0;
	ov->set = 0;
}

static void
list_push(struct option_value *ov, const char *v)
{
	ov->list = xrealloc(ov->list, (ov->nlist + 2) * sizeof *ov->list);
	ov->list[ov->nlist++] = xstrdup(v);
	ov->list[ov->nlist] = NULL;
}

static int
list_item_check(unsigned i, const char *item, struct berr *err)
{
	const struct option_def *d = &option_table[i];
	const char *const *c;
	const char *best = NULL;
	size_t best_d = (size_t)-1, n = 0;
	char all[512];

	if (d->choices == NULL)
		return 0;
	all[0] = '\0';
	for (c = d->choices; *c != NULL; c++) {
		size_t dist = edit_distance(item, *c);

		if (strcasecmp(item, *c) == 0)
			return 0;
		if (dist < best_d) {
			best_d = dist;
			best = *c;
		}
		n += (size_t)snprintf(all + n, n < sizeof all ? sizeof all - n : 0, "%s%s",
				      c == d->choices ? "" : ", ", *c);
	}
	if (best != NULL && best_d <= 2)
		return berr_set(err, BERR_INVALID, "option `%s': unknown item `%s' (did you mean `%s'?)",
				d->name, item, best);
	return berr_set(err, BERR_INVALID, "option `%s': unknown item `%s' (one of: %s)", d->name,
			item, all);
}

/* Parse `value` for option i into a fresh struct; the current value is
 * replaced only when the whole text is valid. */
static int
value_parse(unsigned i, const char *value, struct option_value *out, struct berr *err)
{
	const struct option_def *d = &option_table[i];
	char *end;
	long n;

	memset(out, 0, sizeof *out);
	out->set = 1;
	switch (d->type) {
	case OPT_BOOL:
		if (parse_bool(value, &out->num) < 0)
			return berr_set(err, BERR_INVALID,
					"option `%s': `%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
					d->name, value);
		return 0;
	case OPT_INT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno == ERANGE)
			return berr_set(err, BERR_INVALID, "option `%s': `%s' is not an integer",
					d->name, value);
		if (n < d->min || n > d->max)
			return berr_set(err, BERR_INVALID, "option `%s': %ld is out of range %ld..%ld",
					d->name, n, d->min, d->max);
		out->num = n;
		return 0;
	case OPT_STRING:
		if (strlen(value) > 4096)
			return berr_set(err, BERR_INVALID, "option `%s': value longer than 4096 bytes",
					d->name);
		out->str = xstrdup(value);
		return 0;
	case OPT_LIST: {
		/* Text form: items separated by commas or whitespace. */
		const char *p = value;

		out->list = xcalloc(1, sizeof *out->list);
		while (*p != '\0') {
			size_t len = strcspn(p, ", \t\n");

			if (len > 0) {
				char *item = xstrndup(p, len);

				if (list_item_check(i, item, err) < 0) {
					free(item);
					value_clear(out);
					return -1;
				}
				list_push(out, item);
				free(item);
			}
			p += len;
			p += strspn(p, ", \t\n");
		}
		return 0;
	}
	}
	return berr_set(err, BERR_INVALID, "option `%s': unknown type", d->name);
}

static struct option_value *
value_get(unsigned i)
{
	struct option_value *ov = &option_values[i];

	if (!ov->set) {
		struct option_value fresh;

		/* Defaults in the table are valid by construction. */
		if (value_parse(i, option_table[i].default_value, &fresh, NULL) < 0)
			util_oom();
		*ov = fresh;
	}
	return ov;
}

static int
unknown_option(const char *name, struct berr *err)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	unsigned i;

	for (i = 0; i < option_table_len; i++) {
		size_t d = edit_distance(name, option_table[i].name);

		if (d < best_d) {
			best_d = d;
			best = option_table[i].name;
		}
	}
	if (best != NULL && best_d <= 3)
		return berr_set(err, BERR_NOTFOUND, "unknown option `%s' (did you mean `%s'?)", name, best);
	return berr_set(err, BERR_NOTFOUND, "unknown option `%s'", name);
}

int
option_set(const char *name, const char *value, struct berr *err)
{
	struct option_value fresh;
	int i = option_index(name);

	if (i < 0)
		return unknown_option(name ? name : "(null)", err);
	if (value == NULL)
		return berr_set(err, BERR_INVALID, "option `%s': no value", name);
	if (value_parse((unsigned)i, value, &fresh, err) < 0)
		return -1;
	value_clear(&option_values[i]);
	option_values[i] = fresh;
	return 0;
}

int
option_list_add(const char *name, const char *value, struct berr *err)
{
	if (option_list_check(name, value, err) < 0)
		return -1;
	list_push(value_get((unsigned)option_index(name)), value);
	return 0;
}

int
option_list_check(const char *name, const char *value, struct berr *err)
{
	int i = option_index(name);

	if (i < 0)
		return unknown_option(name ? name : "(null)", err);
	if (option_table[i].type != OPT_LIST)
		return berr_set(err, BERR_INVALID, "option `%s' is not a list", name);
	if (value == NULL || *value == '\0')
		return berr_set(err, BERR_INVALID, "option `%s': empty list item", name);
	return list_item_check((unsigned)i, value, err);
}

void
option_list_clear(const char *name)
{
	int i = option_index(name);

	if (i < 0 || option_table[i].type != OPT_LIST)
		return;
	value_clear(&option_values[i]);
	option_values[i].set = 1;
	option_values[i].list = xcalloc(1, sizeof *option_values[i].list);
}

long
option_int(const char *name)
{
	int i = option_index(name);

	if (i < 0 || (option_table[i].type != OPT_INT && option_table[i].type != OPT_BOOL))
		return 0;
	return value_get((unsigned)i)->num;
}

int
option_bool(const char *name)
{
	return option_int(name) != 0;
}

const char *
option_string(const char *name)
{
	int i = option_index(name);

	if (i < 0 || option_table[i].type != OPT_STRING)
		return NULL;
	return value_get((unsigned)i)->str;
}

const char *const *
option_list(const char *name)
{
	static const char *const empty[] = { NULL };
	int i = option_index(name);

	if (i < 0 || option_table[i].type != OPT_LIST)
		return empty;
	return (const char *const *)value_get((unsigned)i)->list;
}

void
options_reset(void)
{
	unsigned i;

	for (i = 0; i < option_table_len; i++)
		value_clear(&option_values[i]);
}
