/*
 * virt-state.c - libvirt domain states, reasons and lifecycle events in
 * berth's terms.
 *
 * For: the tables that map virDomainState and its reasons, and
 * VIR_DOMAIN_EVENT_* with their details, onto enum inst_state and short
 * reason words.  Not for: querying libvirt (virt-domain.c does that).
 */
#include "config.h"

#include <stddef.h>

#include "backends/libvirt/virt.h"

enum inst_state
virt_state_map(int state)
{
	switch (state) {
	case VIR_DOMAIN_SHUTOFF:
		return INST_STOPPED;
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:	/* running, waiting on a resource */
		return INST_RUNNING;
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
		return INST_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
		return INST_SHUTDOWN;
	case VIR_DOMAIN_CRASHED:
		return INST_CRASHED;
	default:
		return INST_UNKNOWN;
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const running_reasons[] = {
	[VIR_DOMAIN_RUNNING_UNKNOWN] = NULL,
	[VIR_DOMAIN_RUNNING_BOOTED] = "booted",
	[VIR_DOMAIN_RUNNING_MIGRATED] = "migrated",
	[VIR_DOMAIN_RUNNING_RESTORED] = "restored",
	[VIR_DOMAIN_RUNNING_FROM_SNAPSHOT] = "from snapshot",
	[VIR_DOMAIN_RUNNING_UNPAUSED] = "unpaused",
	[VIR_DOMAIN_RUNNING_MIGRATION_CANCELED] = "migration canceled",
	[VIR_DOMAIN_RUNNING_SAVE_CANCELED] = "save canceled",
	[VIR_DOMAIN_RUNNING_WAKEUP] = "wakeup",
	[VIR_DOMAIN_RUNNING_CRASHED] = "crashed",
	[VIR_DOMAIN_RUNNING_POSTCOPY] = "post-copy",
};

static const char *const paused_reasons[] = {
	[VIR_DOMAIN_PAUSED_UNKNOWN] = NULL,
	[VIR_DOMAIN_PAUSED_USER] = "user",
	[VIR_DOMAIN_PAUSED_MIGRATION] = "migration",
	[VIR_DOMAIN_PAUSED_SAVE] = "saving",
	[VIR_DOMAIN_PAUSED_DUMP] = "dumping",
	[VIR_DOMAIN_PAUSED_IOERROR] = "I/O error",
	[VIR_DOMAIN_PAUSED_WATCHDOG] = "watchdog",
	[VIR_DOMAIN_PAUSED_FROM_SNAPSHOT] = "from snapshot",
	[VIR_DOMAIN_PAUSED_SHUTTING_DOWN] = "shutting down",
	[VIR_DOMAIN_PAUSED_SNAPSHOT] = "snapshot",
	[VIR_DOMAIN_PAUSED_CRASHED] = "crashed",
	[VIR_DOMAIN_PAUSED_STARTING_UP] = "starting up",
	[VIR_DOMAIN_PAUSED_POSTCOPY] = "post-copy",
	[VIR_DOMAIN_PAUSED_POSTCOPY_FAILED] = "post-copy failed",
};

static const char *const shutoff_reasons[] = {
	[VIR_DOMAIN_SHUTOFF_UNKNOWN] = NULL,
	[VIR_DOMAIN_SHUTOFF_SHUTDOWN] = "shutdown",
	[VIR_DOMAIN_SHUTOFF_DESTROYED] = "destroyed",
	[VIR_DOMAIN_SHUTOFF_CRASHED] = "crashed",
	[VIR_DOMAIN_SHUTOFF_MIGRATED] = "migrated",
	[VIR_DOMAIN_SHUTOFF_SAVED] = "saved",
	[VIR_DOMAIN_SHUTOFF_FAILED] = "failed",
	[VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT] = "from snapshot",
	[VIR_DOMAIN_SHUTOFF_DAEMON] = "daemon",
};

static const char *const shutdown_reasons[] = {
	[VIR_DOMAIN_SHUTDOWN_UNKNOWN] = NULL,
	[VIR_DOMAIN_SHUTDOWN_USER] = "user",
};

static const char *const crashed_reasons[] = {
	[VIR_DOMAIN_CRASHED_UNKNOWN] = NULL,
	[VIR_DOMAIN_CRASHED_PANICKED] = "panicked",
};

static const char *
virt_pick(const char *const *table, size_t n, int i)
{
	if (i < 0 || (size_t)i >= n)
		return NULL;
	return table[i];
}

const char *
virt_reason_text(int state, int reason)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
		return virt_pick(running_reasons, N(running_reasons), reason);
	case VIR_DOMAIN_BLOCKED:
		return "blocked";
	case VIR_DOMAIN_PAUSED:
		return virt_pick(paused_reasons, N(paused_reasons), reason);
	case VIR_DOMAIN_SHUTDOWN:
		return virt_pick(shutdown_reasons, N(shutdown_reasons), reason);
	case VIR_DOMAIN_SHUTOFF:
		return virt_pick(shutoff_reasons, N(shutoff_reasons), reason);
	case VIR_DOMAIN_CRASHED:
		return virt_pick(crashed_reasons, N(crashed_reasons), reason);
	case VIR_DOMAIN_PMSUSPENDED:
		/* pmsuspended maps onto PAUSED: the reason says which kind. */
		return "pmsuspended";
	default:
		return NULL;
	}
}

static const char *const ev_started[] = {
	[VIR_DOMAIN_EVENT_STARTED_BOOTED] = "booted",
	[VIR_DOMAIN_EVENT_STARTED_MIGRATED] = "migrated",
	[VIR_DOMAIN_EVENT_STARTED_RESTORED] = "restored",
	[VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT] = "from snapshot",
	[VIR_DOMAIN_EVENT_STARTED_WAKEUP] = "wakeup",
};

static const char *const ev_suspended[] = {
	[VIR_DOMAIN_EVENT_SUSPENDED_PAUSED] = "user",
	[VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED] = "migration",
	[VIR_DOMAIN_EVENT_SUSPENDED_IOERROR] = "I/O error",
	[VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG] = "watchdog",
	[VIR_DOMAIN_EVENT_SUSPENDED_RESTORED] = "restored",
	[VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT] = "from snapshot",
	[VIR_DOMAIN_EVENT_SUSPENDED_API_ERROR] = "API error",
	[VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY] = "post-copy",
	[VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED] = "post-copy failed",
};

static const char *const ev_resumed[] = {
	[VIR_DOMAIN_EVENT_RESUMED_UNPAUSED] = "unpaused",
	[VIR_DOMAIN_EVENT_RESUMED_MIGRATED] = "migrated",
	[VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT] = "from snapshot",
	[VIR_DOMAIN_EVENT_RESUMED_POSTCOPY] = "post-copy",
};

static const char *const ev_stopped[] = {
	[VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN] = "shutdown",
	[VIR_DOMAIN_EVENT_STOPPED_DESTROYED] = "destroyed",
	[VIR_DOMAIN_EVENT_STOPPED_CRASHED] = "crashed",
	[VIR_DOMAIN_EVENT_STOPPED_MIGRATED] = "migrated",
	[VIR_DOMAIN_EVENT_STOPPED_SAVED] = "saved",
	[VIR_DOMAIN_EVENT_STOPPED_FAILED] = "failed",
	[VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT] = "from snapshot",
};

static const char *const ev_shutdown[] = {
	[VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED] = "finished",
	[VIR_DOMAIN_EVENT_SHUTDOWN_GUEST] = "guest",
	[VIR_DOMAIN_EVENT_SHUTDOWN_HOST] = "host",
};

static const char *const ev_defined[] = {
	[VIR_DOMAIN_EVENT_DEFINED_ADDED] = "added",
	[VIR_DOMAIN_EVENT_DEFINED_UPDATED] = "updated",
	[VIR_DOMAIN_EVENT_DEFINED_RENAMED] = "renamed",
	[VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT] = "from snapshot",
};

static const char *const ev_undefined[] = {
	[VIR_DOMAIN_EVENT_UNDEFINED_REMOVED] = "removed",
	[VIR_DOMAIN_EVENT_UNDEFINED_RENAMED] = "renamed",
};

static const char *const ev_pmsuspended[] = {
	[VIR_DOMAIN_EVENT_PMSUSPENDED_MEMORY] = "pmsuspended (memory)",
	[VIR_DOMAIN_EVENT_PMSUSPENDED_DISK] = "pmsuspended (disk)",
};

static const char *const ev_crashed[] = {
	[VIR_DOMAIN_EVENT_CRASHED_PANICKED] = "panicked",
	[VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED] = "crashloaded",
};

/* type: "state", "defined" or "undefined" (as every backend says); the state is what the instance is
 * in after the event (INST_UNKNOWN when the event does not say). */
enum inst_state
virt_event_state(int event, int detail, const char **type, const char **text)
{
	*type = "state";
	switch (event) {
	case VIR_DOMAIN_EVENT_DEFINED:
		*type = "defined";
		*text = virt_pick(ev_defined, N(ev_defined), detail);
		return INST_UNKNOWN;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		*type = "undefined";
		*text = virt_pick(ev_undefined, N(ev_undefined), detail);
		return INST_UNKNOWN;
	case VIR_DOMAIN_EVENT_STARTED:
		*text = virt_pick(ev_started, N(ev_started), detail);
		return INST_RUNNING;
	case VIR_DOMAIN_EVENT_SUSPENDED:
		*text = virt_pick(ev_suspended, N(ev_suspended), detail);
		return INST_PAUSED;
	case VIR_DOMAIN_EVENT_RESUMED:
		*text = virt_pick(ev_resumed, N(ev_resumed), detail);
		return INST_RUNNING;
	case VIR_DOMAIN_EVENT_STOPPED:
		*text = virt_pick(ev_stopped, N(ev_stopped), detail);
		return INST_STOPPED;
	case VIR_DOMAIN_EVENT_SHUTDOWN:
		*text = virt_pick(ev_shutdown, N(ev_shutdown), detail);
		return INST_SHUTDOWN;
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
		*text = virt_pick(ev_pmsuspended, N(ev_pmsuspended), detail);
		return INST_PAUSED;
	case VIR_DOMAIN_EVENT_CRASHED:
		*text = virt_pick(ev_crashed, N(ev_crashed), detail);
		return INST_CRASHED;
	default:
		*text = NULL;
		return INST_UNKNOWN;
	}
}
