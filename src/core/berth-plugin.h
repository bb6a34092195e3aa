/*
 * berth-plugin.h - the public interface for berth's C backend plugins.
 *
 * A plugin is a shared object in one of berth's plugin directories (see
 * berth-lua(7), PLUGINS) exporting one function:
 *
 *	const struct backend_ops *berth_plugin_init(void);
 *
 * It returns a static, const ops table whose abi_version is
 * BERTH_BACKEND_ABI (berth refuses any other version with a message naming
 * the file and both versions).  A NULL slot means "not supported".  Every
 * op fills struct berr on failure and returns a negative value; plugins
 * never print and never exit.  The plugin may call the berth functions
 * declared here (they are exported by the berth program).
 *
 * Build with:  cc -shared -fPIC $(pkg-config --cflags --libs berth-plugin) ...
 *
 * This header is self-contained: it repeats the parts of berth's internal
 * headers (error.h, instance.h, backend.h, loop.h) that plugins see, and
 * the test suite checks that the layouts stay identical.
 */
#ifndef BERTH_PLUGIN_H
#define BERTH_PLUGIN_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors (error.h) ---- */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H
#define BERR_MSG_MAX 1024
enum {
	BERR_PROTO = 10000,
	BERR_VERSION,
	BERR_TIMEOUT,
	BERR_NOTSUP,
	BERR_NOTFOUND,
	BERR_AMBIGUOUS,
	BERR_INVALID,
	BERR_STATE,
	BERR_REMOTE,
};
struct berr {
	int code;		/* errno value or BERR_* (0: no error) */
	char msg[BERR_MSG_MAX];
};
int berr_set(struct berr *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int berr_errno(struct berr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int berr_wrap(struct berr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void berr_clear(struct berr *e);
#endif

/* ---- instances (instance.h) ---- */
#ifndef BERTH_INSTANCE_H
#define BERTH_INSTANCE_H
struct backend_ops;
struct bconn;

enum inst_kind {
	INST_VM = 0,
	INST_CONTAINER,
};

enum inst_state {
	INST_UNKNOWN = 0,
	INST_STOPPED,
	INST_CREATED,
	INST_RUNNING,
	INST_PAUSED,
	INST_SHUTDOWN,
	INST_CRASHED,
	INST_STATE_MAX
};

struct instance {
	char *name;
	char uuid[40];
	enum inst_kind kind;
	const struct backend_ops *backend;
	struct bconn *conn;
	char *host;
	enum inst_state state;
	char *reason;
	int vcpus;
	uint64_t memory_kib;
	int64_t created;
	int64_t started;
	void *priv;		/* the plugin's own handle, freed by free_priv */
};

struct inst_stats {
	int64_t ts_ms;
	int valid;
	uint64_t cpu_time_ns;
	int vcpus;
	uint64_t mem_total_kib;
	uint64_t mem_used_kib;
	uint64_t blk_rd_bytes, blk_wr_bytes, blk_rd_reqs, blk_wr_reqs;
	uint64_t net_rx_bytes, net_tx_bytes, net_rx_pkts, net_tx_pkts;
};

struct inst_rates {
	double cpu_pct_vcpus;
	double cpu_pct_host;
	double mem_used_kib;
	double blk_rd_bps, blk_wr_bps, blk_rd_iops, blk_wr_iops;
	double net_rx_bps, net_tx_bps, net_rx_pps, net_tx_pps;
};

struct instance *instance_new(const char *name, enum inst_kind kind);
void instance_free(struct instance *inst);
struct instance *instance_dup(const struct instance *inst);
int instance_set_str(char **field, const char *value);
const char *inst_state_name(enum inst_state s);
enum inst_state inst_state_from_name(const char *name);
const char *inst_kind_name(enum inst_kind k);
int inst_kind_from_name(const char *name);

struct inst_list {
	struct instance **v;
	size_t n, cap;
};
int inst_list_push(struct inst_list *l, struct instance *inst);
void inst_list_clear(struct inst_list *l);
#endif

/* ---- the event loop (loop.h): for plugins that watch fds ---- */
#ifndef BERTH_LOOP_H
#define BERTH_LOOP_H
struct loop;
typedef void (*loop_fd_cb)(struct loop *l, int id, int fd, int revents, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, int id, void *arg);
typedef void (*loop_free_cb)(void *arg);
int loop_add_fd(struct loop *l, int fd, int events, loop_fd_cb cb, void *arg, loop_free_cb free_cb);
void loop_update_fd(struct loop *l, int id, int events);
void loop_remove_fd(struct loop *l, int id);
int loop_add_timer(struct loop *l, int interval_ms, loop_timer_cb cb, void *arg, loop_free_cb free_cb);
void loop_update_timer(struct loop *l, int id, int interval_ms);
void loop_remove_timer(struct loop *l, int id);
#endif

/* ---- backends (backend.h) ---- */
#ifndef BERTH_BACKEND_H
#define BERTH_BACKEND_H
struct backend_event {
	struct bconn *conn;
	const char *inst_name;
	const char *type;		/* "state", "defined", "undefined", "disconnected" */
	enum inst_state state;
	const char *detail;
};
typedef void (*backend_event_cb)(const struct backend_event *ev, void *arg);

struct define_spec {
	const char *name;
	json_object *json;		/* the definition (from berth.create / define) */
	const char *xml;
};

struct migrate_opts {
	const char *to;
	int max_downtime_ms;
	void (*on_progress)(double fraction, const char *phase, void *arg);
	void *arg;
};

struct backend_ops {
	const char *name;
	const char *description;
	int abi_version;		/* BERTH_BACKEND_ABI */

	int (*open)(struct bconn **out, const char *uri, struct loop *loop, struct berr *err);
	void (*close)(struct bconn *c);
	int (*probe)(struct berr *err);
	const char *(*host)(struct bconn *c);
	int (*host_info)(struct bconn *c, json_object **out, struct berr *err);

	int (*list)(struct bconn *c, struct inst_list *out, struct berr *err);
	int (*get)(struct bconn *c, const char *name, struct instance **out, struct berr *err);
	int (*define)(struct bconn *c, const struct define_spec *spec, struct instance **out, struct berr *err);
	int (*start)(struct instance *inst, struct berr *err);
	int (*shutdown)(struct instance *inst, int timeout_s, int force_after, struct berr *err);
	int (*kill)(struct instance *inst, int signo, struct berr *err);
	int (*pause)(struct instance *inst, struct berr *err);
	int (*resume)(struct instance *inst, struct berr *err);
	int (*destroy)(struct instance *inst, struct berr *err);
	int (*undefine)(struct instance *inst, struct berr *err);
	int (*stats)(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out, struct berr *err);
	int (*console_open)(struct instance *inst, int *fd_out, struct berr *err);
	/* Deliver events (from the loop) for every change of this connection's
	 * instances, including those other programs make: defined, undefined,
	 * state.  The dashboard then re-lists on events and polls rarely; a
	 * backend that cannot see every change leaves this NULL (polled). */
	int (*subscribe_events)(struct bconn *c, backend_event_cb cb, void *arg, struct berr *err);
	int (*migrate)(struct instance *inst, const struct migrate_opts *opts, struct berr *err);
	int (*exec)(struct instance *inst, char *const argv[], int tty, int *status, struct berr *err);
	int (*snapshot)(struct instance *inst, const char *name, struct berr *err);
	void (*free_priv)(struct instance *inst);
	int (*info)(struct instance *inst, json_object **out, struct berr *err);
};

#define BERTH_BACKEND_ABI 1

/* A connection starts with this header; embed it as the first member. */
struct bconn {
	const struct backend_ops *ops;
	char *uri;
};

int backend_notsup(const struct backend_ops *ops, const char *op, struct berr *err);
#endif

/* The one symbol a plugin exports. */
const struct backend_ops *berth_plugin_init(void);

#ifdef __cplusplus
}
#endif

#endif
