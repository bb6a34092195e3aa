/*
 * instance.h - the instance model shared by every backend and front-end.
 *
 * An instance is one VM or container as some backend on some host sees it.
 * Instances are plain data owned by whoever listed them; backends keep their
 * own handle in `priv` (freed through the backend's free_priv slot).
 * Not for: backend operations (backend.h) or live statistics (stats below are
 * only the sample type; history lives in metrics.h).
 */
#ifndef BERTH_INSTANCE_H
#define BERTH_INSTANCE_H

#include <stdint.h>
#include <stddef.h>

struct backend_ops;
struct bconn;

enum inst_kind {
	INST_VM = 0,
	INST_CONTAINER,
};

enum inst_state {
	INST_UNKNOWN = 0,
	INST_STOPPED,		/* defined, not running (libvirt "shut off") */
	INST_CREATED,		/* created, process not started (OCI "created") */
	INST_RUNNING,
	INST_PAUSED,
	INST_SHUTDOWN,		/* graceful shutdown in progress */
	INST_CRASHED,
	INST_STATE_MAX
};

struct instance {
	char *name;
	char uuid[40];		/* canonical 36-char form, or "" */
	enum inst_kind kind;
	const struct backend_ops *backend;
	struct bconn *conn;	/* the backend connection it came from */
	char *host;		/* host label: "localhost" or the URI's host */
	enum inst_state state;
	char *reason;		/* why it is in that state ("booted", "oom", "exit 3"), or NULL */
	int vcpus;
	uint64_t memory_kib;	/* allocated memory */
	int64_t created;	/* unix seconds, 0 unknown */
	int64_t started;	/* unix seconds, 0 not running/unknown */
	void *priv;		/* backend's own handle */
};

/* One stats sample.  Counters are cumulative; core derives rates. */
struct inst_stats {
	int64_t ts_ms;			/* monotonic sample time, ms */
	int valid;			/* 0: no data (not running) */
	uint64_t cpu_time_ns;		/* guest/container CPU time used so far */
	int vcpus;			/* vCPUs (or CPU limit, rounded up) */
	uint64_t mem_total_kib;		/* memory available to the instance */
	uint64_t mem_used_kib;		/* memory in use (RSS / balloon actual - unused) */
	uint64_t blk_rd_bytes, blk_wr_bytes, blk_rd_reqs, blk_wr_reqs;
	uint64_t net_rx_bytes, net_tx_bytes, net_rx_pkts, net_tx_pkts;
};

/* Rates derived from two samples (see stats_rates in metrics.h). */
struct inst_rates {
	double cpu_pct_vcpus;	/* 100% = all of the instance's vCPUs busy */
	double cpu_pct_host;	/* 100% = all of the host's CPUs busy */
	double mem_used_kib;
	double blk_rd_bps, blk_wr_bps, blk_rd_iops, blk_wr_iops;
	double net_rx_bps, net_tx_bps, net_rx_pps, net_tx_pps;
};

struct instance *instance_new(const char *name, enum inst_kind kind);
void instance_free(struct instance *inst);
/* Deep copy of the descriptive fields; priv is not copied (set to NULL). */
struct instance *instance_dup(const struct instance *inst);
int instance_set_str(char **field, const char *value);

const char *inst_state_name(enum inst_state s);
enum inst_state inst_state_from_name(const char *name);
const char *inst_kind_name(enum inst_kind k);	/* "vm" / "ct" */
int inst_kind_from_name(const char *name);	/* -1 if unknown */

/* A growable array of owned instances. */
struct inst_list {
	struct instance **v;
	size_t n, cap;
};
int inst_list_push(struct inst_list *l, struct instance *inst);	/* takes ownership */
void inst_list_clear(struct inst_list *l);	/* frees the instances */

#endif
