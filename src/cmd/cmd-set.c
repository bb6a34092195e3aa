/*
 * cmd-set.c - `set`, the options of a running front-end, for the shell and
 * the dashboard's `:` line alike:
 *
 *   set                        every option and its value
 *   set NAME                   what NAME means, and its default
 *   set NAME VALUE             a new value (a list option takes every VALUE)
 *
 * and the completion of its words, which both front-ends ask for.
 * A value takes effect in this process only; berth.conf(5) makes it last.
 * Not for: the option table itself (core/options.c).
 */
#include "config.h"

#include <stdio.h>

#include "cmd/cmd.h"
#include "core/options.h"

static void
print_option(FILE *out, const struct option_def *d)
{
	const char *const *v;
	size_t k;

	switch (d->type) {
	case OPT_BOOL:
		fprintf(out, "%-18s %s\n", d->name, option_bool(d->name) ? "true" : "false");
		break;
	case OPT_INT:
		fprintf(out, "%-18s %ld\n", d->name, option_int(d->name));
		break;
	case OPT_STRING:
		fprintf(out, "%-18s \"%s\"\n", d->name, option_string(d->name));
		break;
	case OPT_LIST:
		v = option_list(d->name);
		fprintf(out, "%-18s", d->name);
		for (k = 0; v[k] != NULL; k++)
			fprintf(out, "%s%s", k ? ", " : " ", v[k]);
		fputc('\n', out);
		break;
	}
}

int
cmd_set(int argc, char **argv, FILE *out, FILE *errf)
{
	struct berr err = { 0 };
	const struct option_def *d = argc > 1 ? option_find(argv[1]) : NULL;
	int r = 0;

	if (argc == 1) {
		for (unsigned i = 0; i < option_table_len; i++)
			print_option(out, &option_table[i]);
		return CMD_EXIT_OK;
	}
	if (argc == 2 && d != NULL) {
		fprintf(out, "%s: %s (default %s)\n", d->name, d->help, d->default_value);
		return CMD_EXIT_OK;
	}
	if (argc == 2) {
		option_set(argv[1], "", &err);	/* its error names the unknown option */
		r = -1;
	} else if (d != NULL && d->type == OPT_LIST) {
		option_list_clear(argv[1]);
		for (int k = 2; k < argc && r == 0; k++)
			r = option_list_add(argv[1], argv[k], &err);
	} else if (argc == 3) {
		r = option_set(argv[1], argv[2], &err);
	} else {
		r = berr_set(&err, BERR_INVALID, "usage: set NAME VALUE");
	}
	if (r < 0) {
		fprintf(errf, "berth: %s\n", err.msg);
		return CMD_EXIT_USAGE;
	}
	return CMD_EXIT_OK;
}

void
cmd_set_complete(int nwords, const char *name, void (*add)(const char *cand, void *arg), void *arg)
{
	const struct option_def *d;

	if (nwords == 1) {
		for (unsigned i = 0; i < option_table_len; i++)
			add(option_table[i].name, arg);
	} else if (nwords == 2 && (d = option_find(name)) != NULL && d->type == OPT_BOOL) {
		add("true", arg);
		add("false", arg);
	}
}
