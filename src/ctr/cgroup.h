/*
 * cgroup.h - a container's control groups on cgroup v2, v1 or hybrid hosts.
 *
 * For: detecting the host layout at run time, creating the container's
 * cgroup(s), applying the limits of linux.resources, reading usage back,
 * signalling every process, and removing the cgroups.  On a hybrid host
 * (v1 controllers plus a v2 mount at /sys/fs/cgroup/unified) limits go to
 * the v1 controllers and the v2 group only tracks processes.
 * Not for: parsing (oci-config.c) or deciding the path (the caller does).
 */
#ifndef BERTH_CTR_CGROUP_H
#define BERTH_CTR_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "ctr/oci-config.h"

enum cg_mode { CG_NONE = 0, CG_V1, CG_HYBRID, CG_V2 };

/* v1 controllers berth uses (each may be mounted on its own or co-mounted). */
enum cg_ctrl { CGC_MEMORY = 0, CGC_CPU, CGC_CPUACCT, CGC_CPUSET, CGC_PIDS, CGC_BLKIO,
	       CGC_DEVICES, CGC_FREEZER, CGC_NCTRL };

struct cgroup {
	enum cg_mode mode;
	char *rel;			/* "/berth/web1": path below each hierarchy root */
	char *v2_dir;			/* unified dir (v2 or hybrid) or NULL */
	char *v1_dir[CGC_NCTRL];	/* per-controller dir (v1/hybrid) or NULL */
};

struct cg_stats {
	uint64_t cpu_usage_ns;
	uint64_t mem_current, mem_peak, mem_limit;	/* bytes; limit 0 = none */
	uint64_t pids_current, pids_limit;		/* limit 0 = none */
	uint64_t io_read_bytes, io_write_bytes;
	uint64_t oom_kills;
	int has_io, has_peak;
};

/* What the host has; name gets "v2", "v1" or "hybrid". */
enum cg_mode cgroup_detect(void);
const char *cgroup_mode_name(enum cg_mode m);

/* Fill cg's directories for the relative path rel ("/berth/web1") without
 * touching the file system (for an existing container). */
int cgroup_open(struct cgroup *cg, const char *rel, struct berr *err);
/* Create the directories (enabling v2 controllers on the way). */
int cgroup_create(struct cgroup *cg, const char *rel, struct berr *err);
int cgroup_apply(struct cgroup *cg, const struct oci_resources *r, struct berr *err);
/* Device access: deny all, then linux.resources.devices in order, then the
 * standard nodes and linux.devices: the v1 devices controller, or an eBPF
 * filter on v2. */
int cgroup_set_devices(struct cgroup *cg, const struct oci_resources *r, const struct oci_device *devs,
		       size_t ndevs, struct berr *err);
int cgroup_add_pid(struct cgroup *cg, pid_t pid, struct berr *err);
/* Only the unified group (v2 hosts); 0 when there is none. */
int cgroup_add_pid_v2(struct cgroup *cg, pid_t pid, struct berr *err);
/* Joining from inside the new process, which must be single-threaded.  On
 * v1 it writes "0" to each hierarchy's tasks file: moving only the calling
 * thread skips the kernel's global threadgroup lock, and so the RCU grace
 * period (milliseconds) a pid written to cgroup.procs waits for.  The tasks
 * files are opened by the parent (cgroup_open_tasks: up to CGC_NCTRL fds,
 * returns the count) and written by the child (cgroup_join_tasks), which
 * may no longer see /sys/fs/cgroup.  cgroup_join_self does all of it for
 * the caller, v2 included (there only cgroup.procs exists). */
int cgroup_open_tasks(struct cgroup *cg, int fds[CGC_NCTRL], struct berr *err);
int cgroup_join_tasks(const int *fds, int n, struct berr *err);
void cgroup_close_tasks(int *fds, int n);
int cgroup_join_self(struct cgroup *cg, struct berr *err);
int cgroup_stats(struct cgroup *cg, struct cg_stats *st, struct berr *err);
/* Signal every process in the group; returns how many were signalled. */
int cgroup_kill_all(struct cgroup *cg, int sig);
/* Processes in the group (pids in the host's namespace), caller frees. */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct berr *err);
/* Remove the directories; waits briefly for exiting processes. */
int cgroup_destroy(struct cgroup *cg, struct berr *err);
void cgroup_free(struct cgroup *cg);

/* Read back one control file of the group (for tests and `berth-ctr
 * stats`): "cpu.max" on v2, "cpu.cfs_quota_us" on v1...  *out malloc'd. */
int cgroup_read_file(struct cgroup *cg, enum cg_ctrl ctrl, const char *file, char **out,
		     struct berr *err);

#endif
