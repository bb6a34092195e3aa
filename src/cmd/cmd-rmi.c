/*
 * cmd-rmi.c - `berth rmi REF...`: remove images from the local store; blobs
 * and layers another image still uses are kept.
 * Not for: containers using the image (their root fs keeps its layers).
 */
#include "config.h"

#include "cmd/cmd.h"
#include "image/image.h"

static int
cmd_rmi_exec(struct cmd_ctx *ctx)
{
	struct image_store *st;
	int i, rc = CMD_EXIT_OK;

	if (image_store_open_default(&st, &ctx->err) < 0)
		return CMD_EXIT_FAIL;
	for (i = 0; i < ctx->argc; i++) {
		struct berr e = { 0 };

		if (image_remove(st, ctx->argv[i], &e) < 0) {
			if (rc == CMD_EXIT_OK)
				rc = cmd_exit_for(&e);
			if (i + 1 < ctx->argc)
				fprintf(ctx->errf, "berth: %s\n", e.msg);
			else
				ctx->err = e;
			continue;
		}
		fprintf(ctx->out, "removed %s\n", ctx->argv[i]);
	}
	if (rc != CMD_EXIT_OK && ctx->err.msg[0] == '\0')
		berr_set(&ctx->err, BERR_NOTFOUND, "some images were not removed");
	image_store_free(st);
	return rc;
}

const struct cmd_entry cmd_rmi_entry = {
	.name = "rmi",
	.args_usage = "REF...",
	.summary = "remove OCI images from the local store",
	.min_args = 1,
	.max_args = -1,
	.needs_session = 0,
	.exec = cmd_rmi_exec,
};
