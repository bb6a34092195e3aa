/*
 * cmd-lifecycle.c - start, shutdown (stop), kill, pause, resume, destroy and
 * undefine: one handler for all, over one or more resolved instances.  A
 * failure on one instance does not stop the others; the exit code reports
 * the first failure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static const char *const done_verbs[] = {
	[OP_START] = "started",
	[OP_SHUTDOWN] = "shut down",
	[OP_KILL] = "killed",
	[OP_PAUSE] = "paused",
	[OP_RESUME] = "resumed",
	[OP_DESTROY] = "destroyed",
	[OP_UNDEFINE] = "undefined",
};

static int
cmd_lifecycle_run(struct cmd_ctx *ctx, enum inst_op op)
{
	size_t i;
	int rc = CMD_EXIT_OK, timeout = 0;
	const char *t = cmd_opt(ctx, "timeout");

	if (t != NULL) {
		char *end;
		long v = strtol(t, &end, 10);

		if (*end != '\0' || v < 0 || v > 86400) {
			berr_set(&ctx->err, BERR_INVALID, "--timeout wants seconds (0-86400), not `%s'", t);
			return CMD_EXIT_USAGE;
		}
		timeout = v == 0 ? -1 : (int)v;
	}
	for (i = 0; i < ctx->ntargets; i++) {
		struct instance *inst = ctx->targets[i];
		struct berr e = { 0 };

		if (instance_do(inst, op, timeout, &e) < 0) {
			fprintf(ctx->errf, "berth: %s\n", e.msg);
			if (rc == CMD_EXIT_OK)
				rc = cmd_exit_for(&e);
			continue;
		}
		if (!cmd_flag(ctx, "quiet"))
			fprintf(ctx->out, "%s %s `%s'\n", done_verbs[op], inst_kind_name(inst->kind),
				inst->name);
	}
	return rc;
}

#define LIFECYCLE_CMD(fn, op) \
	static int fn(struct cmd_ctx *ctx) { return cmd_lifecycle_run(ctx, op); }
LIFECYCLE_CMD(cmd_start_exec, OP_START)
LIFECYCLE_CMD(cmd_shutdown_exec, OP_SHUTDOWN)
LIFECYCLE_CMD(cmd_kill_exec, OP_KILL)
LIFECYCLE_CMD(cmd_pause_exec, OP_PAUSE)
LIFECYCLE_CMD(cmd_resume_exec, OP_RESUME)
LIFECYCLE_CMD(cmd_destroy_exec, OP_DESTROY)
LIFECYCLE_CMD(cmd_undefine_exec, OP_UNDEFINE)

#define QUIET_OPT { "quiet", 'q', 0, 0, NULL, "print nothing on success" }

const struct cmd_entry cmd_start_entry = {
	.name = "start", .args_usage = "NAME...", .summary = "start instances",
	.target = CMD_TARGET_INSTANCES, .min_args = 1, .max_args = -1, .needs_session = 1,
	.opts = { QUIET_OPT }, .exec = cmd_start_exec,
};
const struct cmd_entry cmd_shutdown_entry = {
	.name = "shutdown", .aliases = { "stop" }, .args_usage = "NAME...",
	.summary = "shut instances down gracefully, then force them off after a timeout",
	.target = CMD_TARGET_INSTANCES, .min_args = 1, .max_args = -1, .needs_session = 1,
	.opts = { QUIET_OPT,
		  { "timeout", 't', 1, 0, "SEC",
		    "wait this long before forcing off (default: option shutdown_timeout; 0: don't wait)" } },
	.exec = cmd_shutdown_exec,
};
const struct cmd_entry cmd_kill_entry = {
	.name = "kill", .args_usage = "NAME...", .summary = "kill instances at once (SIGKILL / power off)",
	.target = CMD_TARGET_INSTANCES, .min_args = 1, .max_args = -1, .needs_session = 1,
	.opts = { QUIET_OPT }, .exec = cmd_kill_exec,
};
const struct cmd_entry cmd_pause_entry = {
	.name = "pause", .aliases = { "suspend" }, .args_usage = "NAME...", .summary = "pause instances",
	.target = CMD_TARGET_INSTANCES, .min_args = 1, .max_args = -1, .needs_session = 1,
	.opts = { QUIET_OPT }, .exec = cmd_pause_exec,
};
const struct cmd_entry cmd_resume_entry = {
	.name = "resume", .args_usage = "NAME...", .summary = "resume paused instances",
	.target = CMD_TARGET_INSTANCES, .min_args = 1, .max_args = -1, .needs_session = 1,
	.opts = { QUIET_OPT }, .exec = cmd_resume_exec,
};
const struct cmd_entry cmd_destroy_entry = {
	.name = "destroy", .args_usage = "NAME...", .summary = "force instances off (the definition stays)",
	.target = CMD_TARGET_INSTANCES, .min_args = 1, .max_args = -1, .needs_session = 1,
	.opts = { QUIET_OPT }, .exec = cmd_destroy_exec,
};
const struct cmd_entry cmd_undefine_entry = {
	.name = "undefine", .aliases = { "rm", "delete" }, .args_usage = "NAME...",
	.summary = "remove stopped instances' definitions",
	.target = CMD_TARGET_INSTANCES, .min_args = 1, .max_args = -1, .needs_session = 1,
	.opts = { QUIET_OPT }, .exec = cmd_undefine_exec,
};
