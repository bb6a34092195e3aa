/*
 * cmd-help.c - `berth help [COMMAND]`.
 */
#include "config.h"

#include "cmd/cmd.h"

static int
cmd_help_exec(struct cmd_ctx *ctx)
{
	if (ctx->argc > 0 && cmd_find(ctx->argv[0]) == NULL) {
		berr_set(&ctx->err, BERR_NOTFOUND, "no command `%s'", ctx->argv[0]);
		return CMD_EXIT_USAGE;
	}
	cmd_print_help(ctx->out, ctx->argc > 0 ? ctx->argv[0] : NULL);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.aliases = { "?" },
	.args_usage = "[COMMAND]",
	.summary = "list commands, or show one command's options",
	.min_args = 0,
	.max_args = 1,
	.exec = cmd_help_exec,
};
