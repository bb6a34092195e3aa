/*
 * session.h - one front-end's view of the world: the event loop, the open
 * backend connections (every host it can reach), the event bus and metrics.
 *
 * Every front-end (one-shot CLI, shell, TUI, Lua) works through a session, so
 * a feature added here appears everywhere.  A connection that fails to open
 * or to list is recorded in `failures` and the others carry on.
 * Not for: UI (never prints), command parsing (src/cmd).
 */
#ifndef BERTH_SESSION_H
#define BERTH_SESSION_H

#include <stddef.h>

#include "core/backend.h"
#include "core/dirs.h"
#include "core/error.h"
#include "core/events.h"
#include "core/instance.h"
#include "core/metrics.h"

struct loop;
struct smap;

struct session_failure {
	char *what;		/* "libvirt qemu:///system", "kvm", ... */
	struct berr err;
	int requested;		/* the user asked for this connection (--connect) */
	int from_list;		/* recorded by the last session_list */
};

struct session {
	struct loop *loop;
	struct berth_dirs dirs;
	struct evbus *bus;
	struct metrics_store *metrics;
	struct bconn **conns;
	size_t nconns;
	struct session_failure *failures;
	size_t nfailures;
	int host_cpus;			/* this machine's online CPUs */
	int events_on;			/* subscribed to backend events */
	int events_missing;		/* connections that deliver no events
					 * (no op, or subscribing failed) */
	struct smap *prev_stats;	/* instance key -> previous struct inst_stats */
	int defaults_connected;		/* session_connect_defaults ran */
};

int session_new(struct session **out, struct berr *err);
void session_free(struct session *s);

/* Open one connection of backend `name` (uri NULL: its default).  On failure
 * it is recorded in s->failures and -1 returned. */
int session_connect(struct session *s, const char *backend, const char *uri, struct berr *err);
/* The default set: the bundled kvm and container backends when they probe
 * fine, plus libvirt for each uri (or the configured default URIs when
 * nuris is 0 and use_default_libvirt is set).  Never fails as a whole:
 * whatever did not open is in s->failures. */
void session_connect_defaults(struct session *s, const char *const *uris, size_t nuris,
			      int use_default_libvirt);
void session_clear_failures(struct session *s);
/* Record a failure for the user (requested: shown loudly, as on the
 * dashboard's `!' lines; from_list: dropped by the next list). */
void session_add_failure(struct session *s, const char *what, const struct berr *e, int requested,
			 int from_list);
/* Which backend a --connect URI is for: "remote" for ssh:// and exec:
 * URIs (berth proxy on another host), else "libvirt". */
const char *session_backend_for_uri(const char *uri);

/* Number of failures the user should hear about (requested connections,
 * and lists that failed). */
size_t session_failure_count(const struct session *s);

/* List every instance of every connection.  A connection whose list fails
 * is recorded in failures (with context) and skipped. */
int session_list(struct session *s, struct inst_list *out);

/* Resolve a user-given name to one instance (caller frees).  Accepts the
 * exact name, "host:name", "backend:name" or a unique UUID prefix.  Unknown:
 * BERR_NOTFOUND with close matches in the message; several: BERR_AMBIGUOUS
 * listing where they are. */
int session_resolve(struct session *s, const char *name, struct instance **out, struct berr *err);
/* Find the connection for a backend name and optional host/uri. */
struct bconn *session_find_conn(struct session *s, const char *backend, const char *host);

/* Sample stats for every instance in list (batched per connection), store
 * them in metrics and fill rates[i] (may be NULL).  Keeps the previous
 * sample per instance internally. */
int session_poll_stats(struct session *s, struct inst_list *list, struct inst_rates *rates,
		       struct inst_stats *samples);

/* Subscribe to every connection's events and republish them on s->bus. */
void session_enable_events(struct session *s);
/* The metrics history kept in the data directory (metrics-history), so a
 * front-end that graphs it (the dashboard) shows the last 24 h across its
 * restarts.  Loading a missing file is not an error. */
int session_history_load(struct session *s, struct berr *err);
int session_history_save(struct session *s, struct berr *err);

/* Key used for metrics and selection: "backend/host/name". */
char *instance_key(const struct instance *inst);
const char *conn_host(struct bconn *c);

/* ---- operations with context added and NULL slots checked ---- */
enum inst_op {
	OP_START, OP_SHUTDOWN, OP_KILL, OP_PAUSE, OP_RESUME, OP_DESTROY, OP_UNDEFINE,
};
const char *inst_op_name(enum inst_op op);
/* timeout_s for OP_SHUTDOWN (0 default, then force off). */
int instance_do(struct instance *inst, enum inst_op op, int timeout_s, struct berr *err);
int instance_info_json(struct instance *inst, json_object **out, struct berr *err);
json_object *instance_to_json(const struct instance *inst);

#endif
