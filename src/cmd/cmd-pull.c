/*
 * cmd-pull.c - `berth pull REF`: fetch an OCI image into the local store,
 * with a progress bar on a terminal and one line per finished item otherwise.
 * Not for: the pulling itself (src/image/store.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/util.h"
#include "image/image.h"

#define BAR_WIDTH 24

struct pull_view {
	FILE *out;
	int tty;
	int line_open;		/* a bar is drawn without its newline yet */
};

static void
cmd_pull_progress(const char *what, uint64_t done, uint64_t total, void *arg)
{
	struct pull_view *v = arg;
	char a[16], b[16];
	int finished = total > 0 && done >= total;

	if (strcmp(what, "manifest") == 0 && !finished)
		return;
	fmt_bytes(a, sizeof a, (double)done);
	fmt_bytes(b, sizeof b, (double)total);
	if (!v->tty) {
		if (finished)
			fprintf(v->out, "%s: %s\n", what, b);
		fflush(v->out);
		return;
	}
	if (total > 0) {
		int fill = (int)((double)done / (double)total * BAR_WIDTH), i;

		if (fill > BAR_WIDTH)
			fill = BAR_WIDTH;
		fprintf(v->out, "\r%-28.28s [", what);
		for (i = 0; i < BAR_WIDTH; i++)
			fputc(i < fill ? '#' : (i == fill ? '>' : ' '), v->out);
		fprintf(v->out, "] %7s/%-7s\033[K", a, b);
	} else {
		fprintf(v->out, "\r%-28.28s %7s\033[K", what, a);
	}
	v->line_open = 1;
	if (finished) {
		fputc('\n', v->out);
		v->line_open = 0;
	}
	fflush(v->out);
}

static int
cmd_pull_exec(struct cmd_ctx *ctx)
{
	struct image_store *st;
	struct image_pull_opts opts = { 0 };
	struct pull_view view = { ctx->errf, 0, 0 };
	const char *timeout = cmd_opt(ctx, "timeout");
	char *digest = NULL, *end;
	int rc = CMD_EXIT_OK;

	if (timeout != NULL) {
		long t = strtol(timeout, &end, 10);

		if (*timeout == '\0' || *end != '\0' || t <= 0 || t > 86400) {
			berr_set(&ctx->err, BERR_INVALID, "--timeout wants a number of seconds (1..86400)");
			return CMD_EXIT_USAGE;
		}
		opts.timeout_s = (int)t;
	}
	opts.insecure_http = cmd_flag(ctx, "insecure");
	/* a bar on a terminal; otherwise one line per item on the error
	 * stream, so that stdout carries only the digest */
	if (!ctx->interactive && isatty(fileno(ctx->out))) {
		view.out = ctx->out;
		view.tty = 1;
	}
	if (!cmd_flag(ctx, "quiet")) {
		opts.progress = cmd_pull_progress;
		opts.arg = &view;
	}
	if (image_store_open_default(&st, &ctx->err) < 0)
		return CMD_EXIT_FAIL;
	if (image_pull(st, ctx->argv[0], &opts, &digest, &ctx->err) < 0) {
		rc = cmd_exit_for(&ctx->err);
	} else {
		fprintf(ctx->out, "%s\n", digest);
	}
	if (view.line_open && rc != CMD_EXIT_OK)
		fputc('\n', view.out);
	free(digest);
	image_store_free(st);
	return rc;
}

const struct cmd_entry cmd_pull_entry = {
	.name = "pull",
	.args_usage = "REF",
	.summary = "fetch an OCI image from a registry into the local store",
	.min_args = 1,
	.max_args = 1,
	.opts = {
		{ "insecure", 0, 0, 0, NULL, "allow plain HTTP to this registry" },
		{ "timeout", 0, 1, 0, "SEC", "give up on a transfer stalled this long (default 30)" },
		{ "quiet", 'q', 0, 0, NULL, "print only the digest" },
	},
	.needs_session = 0,
	.exec = cmd_pull_exec,
};
