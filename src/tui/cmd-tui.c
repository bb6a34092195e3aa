/*
 * cmd-tui.c - `berth tui` (alias `dashboard`): open the dashboard on the
 * connected session, like `berth` with no arguments.
 *
 * Not for: the dashboard itself (tui.c and friends).
 */
#include "config.h"

#include "cmd/cmd.h"
#include "tui/tui.h"

static int
cmd_tui_exec(struct cmd_ctx *ctx)
{
	if (ctx->interactive) {
		berr_set(&ctx->err, BERR_INVALID, "already inside an interactive front-end; run `berth tui` from a shell");
		return CMD_EXIT_USAGE;
	}
	return tui_main(ctx->s, ctx->argc, ctx->argv) == 0 ? CMD_EXIT_OK : CMD_EXIT_FAIL;
}

const struct cmd_entry cmd_tui_entry = {
	.name = "tui",
	.aliases = { "dashboard", NULL },
	.args_usage = "[NAME]",
	.summary = "open the dashboard (NAME: straight to that instance's details)",
	.target = CMD_TARGET_NONE,
	.min_args = 0,
	.max_args = 1,
	.needs_session = 1,
	.exec = cmd_tui_exec,
};
