/*
 * cmd-run.c - `berth run SCRIPT [ARGS...]`: run a Lua script with the
 * `berth` module (berth-lua(7)).  The exit status is the script's (os.exit
 * or a returned number); a Lua error prints its message and traceback and
 * exits 1; SIGINT stops the script (exit 130).  --sandbox runs untrusted
 * code in a fresh state without io, os (but time/clock/date), debug,
 * string.dump, binary chunks or foreign modules.
 * Not for: the Lua state itself (src/script).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/util.h"
#include "script/script.h"

static int
cmd_run_parse_limits(struct cmd_ctx *ctx, struct script_limits *lim)
{
	const char *v;
	char *end;

	memset(lim, 0, sizeof *lim);
	lim->sandbox = cmd_flag(ctx, "sandbox");
	if ((v = cmd_opt(ctx, "max-memory")) != NULL) {
		uint64_t bytes;

		if (parse_size(v, &bytes) < 0 || bytes < 65536 || bytes > ((uint64_t)1 << 40))
			return berr_set(&ctx->err, BERR_INVALID,
					"--max-memory: `%s' is not a size from 64K to 1T (e.g. 64M)", v);
		lim->max_memory = (size_t)bytes;
	}
	if ((v = cmd_opt(ctx, "max-instructions")) != NULL) {
		errno = 0;
		lim->max_instructions = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0 || lim->max_instructions < 1000)
			return berr_set(&ctx->err, BERR_INVALID,
					"--max-instructions: `%s' is not a number >= 1000", v);
	}
	if ((v = cmd_opt(ctx, "timeout")) != NULL) {
		double sec;

		errno = 0;
		sec = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 || !(sec > 0 && sec <= 86400 * 365))
			return berr_set(&ctx->err, BERR_INVALID, "--timeout: `%s' is not a number of seconds",
					v);
		lim->timeout_ms = (long)(sec * 1000);
		if (lim->timeout_ms < 1)
			lim->timeout_ms = 1;
	}
	return 0;
}

static void
cmd_run_drop_list_failures(struct session *s)
{
	size_t i, keep = 0;

	for (i = 0; i < s->nfailures; i++) {
		if (s->failures[i].from_list && !s->failures[i].requested) {
			free(s->failures[i].what);
			continue;
		}
		s->failures[keep++] = s->failures[i];
	}
	s->nfailures = keep;
}

static int
cmd_run_exec(struct cmd_ctx *ctx)
{
	struct script_limits lim, none = { 0 };
	struct script *sc;
	const char *code = cmd_opt(ctx, "eval");
	int exit_code = 0, fresh;
	char **argv;
	int argc, i;

	if (code == NULL && ctx->argc < 1) {
		berr_set(&ctx->err, BERR_INVALID, "run: give a script file (or -e CODE)");
		return CMD_EXIT_USAGE;
	}
	if (cmd_run_parse_limits(ctx, &lim) < 0)
		return CMD_EXIT_USAGE;
	fresh = lim.sandbox;
	sc = fresh ? script_new(ctx->s, &lim, &ctx->err) : script_global(ctx->s, &ctx->err);
	if (sc == NULL)
		return CMD_EXIT_FAIL;
	if (!fresh)
		script_set_limits(sc, &lim);

	/* arg[0] is the script (or "-e"), then its arguments. */
	argc = code != NULL ? ctx->argc + 1 : ctx->argc;
	argv = xcalloc((size_t)argc + 1, sizeof *argv);
	argv[0] = code != NULL ? "-e" : ctx->argv[0];
	for (i = 1; i < argc; i++)
		argv[i] = ctx->argv[code != NULL ? i - 1 : i];

	script_clear_interrupt();
	script_catch_sigint(1, ctx->s ? ctx->s->loop : NULL);
	fflush(ctx->out);
	if (code != NULL) {
		script_set_args(sc, argc, argv);
		script_run_string(sc, code, "=(command line)", 0, &exit_code, ctx->out, ctx->errf);
	} else {
		script_run_file(sc, argv[0], argc, argv, &exit_code, ctx->errf);
	}
	fflush(stdout);
	script_catch_sigint(0, NULL);
	script_clear_interrupt();
	free(argv);
	if (fresh)
		script_free(sc);
	else
		script_set_limits(sc, &none);
	/* The script decides the exit status: failed listings it saw (as
	 * berth.list's warnings) must not turn 0 into "partial".  Connections
	 * the user asked for with --connect still count. */
	if (ctx->s != NULL)
		cmd_run_drop_list_failures(ctx->s);
	return exit_code;
}

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.args_usage = "SCRIPT [ARGS...]",
	.summary = "run a Lua script with the berth module (berth-lua(7))",
	.target = CMD_TARGET_NONE,
	.min_args = 0,
	.max_args = -1,
	.opts = {
		{ "eval", 'e', 1, 0, "CODE", "run CODE instead of a script file" },
		{ "sandbox", 0, 0, 0, NULL,
		  "untrusted mode: no io, os (but time/clock/date), debug, string.dump, binary chunks" },
		{ "max-memory", 0, 1, 0, "SIZE", "cap the script's Lua memory (e.g. 64M)" },
		{ "max-instructions", 0, 1, 0, "N", "stop the script after N Lua VM instructions" },
		{ "timeout", 0, 1, 0, "SEC", "stop the script after SEC seconds" },
		{ NULL },
	},
	.needs_session = 1,
	.exec = cmd_run_exec,
	.options_first = 1,
};
