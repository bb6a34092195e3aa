/*
 * monitor.h - the per-container monitor (berth's conmon): parent and reaper
 * of the container's init, holder of its terminal or pipes, server of
 * ctl.sock and console.sock, writer of the log and of the exit record.
 *
 * For: one process per container that outlives every front-end.  In the
 * foreground (`berth-ctr run` without -d) the same code runs inside the
 * command and passes the caller's stdio through.
 * Not for: parsing command lines (main.c).
 */
#ifndef BERTH_CTR_MONITOR_H
#define BERTH_CTR_MONITOR_H

#include <stddef.h>

#include "core/error.h"
#include "ctr/container.h"
#include "ctr/oci-config.h"

struct monitor_opts {
	const char *root;		/* state root */
	const char *id;
	const char *bundle;		/* absolute */
	struct oci_config *cfg;
	int detach;			/* daemon: pipes/pty kept by the monitor */
	int start;			/* start right after create (run) */
	enum ctr_net net;
	int preserve_fds;
	int ready_fd;			/* report "ok"/error text here once created, or -1 */
	size_t log_max;			/* container.log cap in bytes */
};

/* Create the container and serve it until it exits.  *exit_code gets the
 * container's exit status (128+signal when killed). */
int monitor_run(const struct monitor_opts *o, int *exit_code, struct berr *err);

#endif
