/*
 * cmd-version.c - `berth version`: version and the backends compiled in.
 */
#include "config.h"

#include "cmd/cmd.h"
#include "cmd/cmd-util.h"

static int
cmd_version_exec(struct cmd_ctx *ctx)
{
	size_t i;

	if (cmd_flag(ctx, "json")) {
		json_object *o = json_object_new_object(), *b = json_object_new_array();

		json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
		for (i = 0; i < backend_count(); i++)
			json_object_array_add(b, json_object_new_string(backend_at(i)->name));
		json_object_object_add(o, "backends", b);
		json_print(ctx->out, o);
		json_object_put(o);
		return CMD_EXIT_OK;
	}
	fprintf(ctx->out, "berth %s\nbackends:", PACKAGE_VERSION);
	for (i = 0; i < backend_count(); i++)
		fprintf(ctx->out, " %s", backend_at(i)->name);
	fputc('\n', ctx->out);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.summary = "show berth's version and backends",
	.max_args = 0,
	.opts = { { "json", 'j', 0, 0, NULL, "print JSON" } },
	.exec = cmd_version_exec,
};
