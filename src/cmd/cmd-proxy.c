/*
 * cmd-proxy.c - `berth proxy': serve this host's instances over standard
 * input and output, for a berth elsewhere that reaches this host with
 * `--connect ssh://HOST' (see remote-proxy.c for the work).
 *
 * Standard output carries protocol lines only: fd 1 is handed to the
 * protocol and replaced by stderr, so a stray printf (a plugin, a library)
 * cannot corrupt the stream; stdin is replaced by /dev/null likewise.
 */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "backends/remote/remote.h"
#include "cmd/cmd.h"

static int
cmd_proxy_exec(struct cmd_ctx *ctx)
{
	int in_fd, out_fd, null_fd;

	fflush(stdout);
	in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (in_fd < 0 || out_fd < 0) {
		berr_errno(&ctx->err, "duplicating standard input and output");
		return CMD_EXIT_FAIL;
	}
	dup2(STDERR_FILENO, STDOUT_FILENO);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		close(null_fd);
	}
	if (remote_proxy_run(ctx->s, in_fd, out_fd, &ctx->err) < 0)
		return CMD_EXIT_FAIL;
	/* Connections that failed here were the client's to hear about (in
	 * host_info); they do not make the proxy itself fail. */
	session_clear_failures(ctx->s);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_proxy_entry = {
	.name = "proxy",
	.summary = "serve this host's instances over stdin/stdout (used through ssh)",
	.max_args = 0,
	.needs_session = 1,
	.exec = cmd_proxy_exec,
};
