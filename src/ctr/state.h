/*
 * state.h - a container's state directory: <root>/<id>/ holds state.json,
 * the config.json the container was created from, exit.json once it ended,
 * monitor.pid, ctl.sock, console.sock and container.log.
 *
 * For: writing those files atomically and deriving the OCI status (creating,
 * created, running, paused, stopped) from them and from the live processes,
 * checking pids against their start time so a recycled pid never counts.
 * Not for: talking to the monitor (that is ctl.sock, see monitor.c).
 */
#ifndef BERTH_CTR_STATE_H
#define BERTH_CTR_STATE_H

#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "core/error.h"

struct ctr_state {
	char *id;
	char *dir;			/* <root>/<id> */
	char *bundle;
	char *rootfs;
	char *cgroup;			/* relative cgroup path */
	char *created;			/* RFC 3339 */
	char *net_addr;			/* bridge address or NULL */
	char *veth;			/* host veth or NULL */
	pid_t pid;			/* init, host pid namespace; 0 none */
	uint64_t pid_start;		/* starttime from /proc/<pid>/stat */
	pid_t monitor_pid;
	uint64_t monitor_start;
	int started;			/* start was called */
	int terminal;
	int paused;
	/* from exit.json */
	int exited;
	int exit_code;			/* -1 if killed by a signal */
	int exit_signal;
	int oom;
	char *finished;
};

/* Directory of a container; id must be a valid name. */
char *state_dir(const char *root, const char *id);
int state_id_valid(const char *id, struct berr *err);
int state_load(const char *root, const char *id, struct ctr_state **out, struct berr *err);
int state_save(const struct ctr_state *s, struct berr *err);
int state_save_exit(const struct ctr_state *s, struct berr *err);
void state_free(struct ctr_state *s);
/* "creating", "created", "running", "paused" or "stopped". */
const char *state_status(const struct ctr_state *s);
/* The OCI state object (plus berth's extra keys). */
json_object *state_to_json(const struct ctr_state *s);
/* Is pid alive and the same process (same start time)? */
int state_pid_alive(pid_t pid, uint64_t start);
uint64_t state_pid_starttime(pid_t pid);
/* Ids of every container under root (caller frees each and the array). */
int state_list(const char *root, char ***ids, size_t *n, struct berr *err);
char *state_now_rfc3339(void);
/* Atomic (temp + rename) write of a runtime file, without fsync. */
int state_write_file(const char *path, const void *buf, size_t len, struct berr *err);

#endif
