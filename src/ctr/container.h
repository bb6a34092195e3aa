/*
 * container.h - creating a container's init process and joining a running
 * container with another process.
 *
 * For: the clone into new namespaces, the parent/child handshake over a
 * seqpacket socket (maps, cgroup, network, then "go"; "created"; "start";
 * errors travel back as text), and exec into an existing container.
 * Not for: the monitor's event loop (monitor.c) or state files (state.c).
 */
#ifndef BERTH_CTR_CONTAINER_H
#define BERTH_CTR_CONTAINER_H

#include <sys/types.h>

#include "core/error.h"
#include "ctr/cgroup.h"
#include "ctr/oci-config.h"

enum ctr_net { CTR_NET_CONFIG = 0, CTR_NET_NONE, CTR_NET_HOST, CTR_NET_BRIDGE };

struct ctr_create_opts {
	const char *id;
	const char *bundle;		/* absolute */
	const struct oci_config *cfg;
	const char *cgroup_rel;		/* "/berth/<id>" */
	int stdio[3];			/* the container's 0, 1, 2 (ignored with a pty) */
	int pty_slave;			/* terminal, or -1 */
	int preserve_fds;		/* fds 3 .. 3+n-1 are passed on */
	enum ctr_net net;
	const char *net_addr;		/* bridge: "10.213.0.5/24" */
	const char *net_gateway;	/* bridge: "10.213.0.1" */
	/* Called while the init builds its root (the parent would only wait):
	 * the caller's own set-up goes here.  A failure fails the create. */
	int (*meanwhile)(void *arg, struct berr *err);
	void *meanwhile_arg;
};

struct ctr_proc {
	pid_t pid;			/* init, in the host's pid namespace */
	int sync_fd;			/* to the init until it execs; -1 after */
	struct cgroup cg;
	char veth[16];			/* host side of the veth pair, or "" */
	int pty_master;			/* the container's own terminal master, or -1 */
};

/* Refuse a sysctl that would land in a namespace shared with the host (no
 * network, IPC or UTS namespace of the container's own). */
int ctr_check_host_namespaces(const struct oci_config *c, struct berr *err);
/* Create: returns once the init is set up and waits for start. */
int ctr_create(const struct ctr_create_opts *o, struct ctr_proc *p, struct berr *err);
/* Let the init exec the user's program; returns once it did (or failed). */
int ctr_start(struct ctr_proc *p, struct berr *err);

struct ctr_exec_opts {
	pid_t init_pid;			/* the container's init (host pid) */
	const struct oci_config *cfg;	/* the container's config */
	const char *cgroup_rel;
	char *const *argv;
	char **env;			/* NULL: the config's */
	const char *cwd;		/* NULL: the config's */
	int has_user;
	uid_t uid;
	gid_t gid;
	int pty_slave;			/* or -1: use stdio[] */
	int stdio[3];
	/* With pty_slave: try a terminal of the container's devpts first; its
	 * master comes back in *master_out (-1 if the fallback was used). */
	int want_container_pty;
	int *master_out;
};

/* Fork a process that joins the container and runs argv; returns its pid
 * (a child of the caller).  Errors before exec come back through err. */
int ctr_exec_spawn(const struct ctr_exec_opts *o, pid_t *pid_out, struct berr *err);

/* Look argv0 up in PATH taken from env, exec it.  Returns only on failure. */
int ctr_execvpe(const char *file, char *const argv[], char *const envp[]);

#endif
