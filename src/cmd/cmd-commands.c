/*
 * cmd-commands.c - `berth commands`: the command table in a plain,
 * machine-readable form: one line per command (name, aliases, options as
 * --long and -s, tab-separated), after a first line "(global)" with the
 * options that go before the command.  The man-page test reads it.
 */
#include "config.h"

#include "cmd/cmd.h"

static int
cmd_commands_exec(struct cmd_ctx *ctx)
{
	size_t i;
	int k;

	/* The global options first, as a pseudo-command. */
	fputs("(global)\t\t", ctx->out);
	for (k = 0; cmd_global_opts[k].name != NULL; k++) {
		fprintf(ctx->out, "%s--%s", k ? "," : "", cmd_global_opts[k].name);
		if (cmd_global_opts[k].short_name)
			fprintf(ctx->out, ",-%c", cmd_global_opts[k].short_name);
	}
	fputc('\n', ctx->out);
	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e == NULL)
			continue;
		fprintf(ctx->out, "%s", e->name);
		fputc('\t', ctx->out);
		for (k = 0; k < 4 && e->aliases[k] != NULL; k++)
			fprintf(ctx->out, "%s%s", k ? "," : "", e->aliases[k]);
		fputc('\t', ctx->out);
		for (k = 0; k < CMD_MAX_OPTS && e->opts[k].name != NULL; k++) {
			fprintf(ctx->out, "%s--%s", k ? "," : "", e->opts[k].name);
			if (e->opts[k].short_name)
				fprintf(ctx->out, ",-%c", e->opts[k].short_name);
		}
		if (e->needs_session)
			fprintf(ctx->out, "%s--connect,-c", k ? "," : "");
		fputc('\n', ctx->out);
	}
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_commands_entry = {
	.name = "commands",
	.summary = NULL,	/* internal: not listed by help */
	.max_args = 0,
	.exec = cmd_commands_exec,
};
