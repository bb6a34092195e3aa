/*
 * cmd-exec.c - `berth exec CT [--tty] -- CMD [ARG...]`: run a command inside
 * a running container, with this terminal (a new TTY inside with --tty).
 * The command's exit status becomes berth's.  Not for: VMs (their backends
 * have no exec slot and report "not supported").
 */
#include "config.h"

#include <unistd.h>

#include "cmd/cmd.h"

static int
cmd_exec_exec(struct cmd_ctx *ctx)
{
	struct instance *inst = ctx->targets[0];
	int status = 0, tty = cmd_flag(ctx, "tty");

	if (inst->backend->exec == NULL) {
		backend_notsup(inst->backend, "exec", &ctx->err);
		return CMD_EXIT_NOTSUP;
	}
	if (ctx->argc < 2) {
		berr_set(&ctx->err, BERR_INVALID, "exec: give the command after the container name");
		return CMD_EXIT_USAGE;
	}
	if (tty && !isatty(STDIN_FILENO)) {
		berr_set(&ctx->err, BERR_INVALID, "exec --tty: standard input is not a terminal");
		return CMD_EXIT_USAGE;
	}
	fflush(ctx->out);
	if (inst->backend->exec(inst, ctx->argv + 1, tty, &status, &ctx->err) < 0) {
		berr_wrap(&ctx->err, "exec in `%s'", inst->name);
		return cmd_exit_for(&ctx->err);
	}
	return status;
}

const struct cmd_entry cmd_exec_entry = {
	.name = "exec",
	.args_usage = "CONTAINER [--] COMMAND [ARG...]",
	.summary = "run a command inside a running container",
	.target = CMD_TARGET_INSTANCE,
	.min_args = 2,
	.max_args = -1,
	.opts = {
		{ "tty", 't', 0, 0, NULL, "allocate a terminal inside (needs one here)" },
		{ NULL, 0, 0, 0, NULL, NULL },
	},
	.needs_session = 1,
	.exec = cmd_exec_exec,
};
