/*
 * virt-domain.c - libvirt domains as berth instances: list, define,
 * lifecycle, stats, info, snapshots.
 *
 * For: every backend op that works on domains.  Each instance keeps its
 * virDomainPtr in priv; ops refresh the instance's state after acting so
 * the caller sees the result.  Not for: XML building/reading (virt-xml.c),
 * consoles (virt-console.c) or events (virt-event.c).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "backends/backends.h"
#include "backends/libvirt/virt.h"
#include "core/util.h"

/* How long a graceful shutdown may take when the caller says "default". */
#define VIRT_SHUTDOWN_DEFAULT_S 60
/* Poll period while waiting for a shutdown to finish. */
#define VIRT_SHUTDOWN_POLL_MS 100

static void set_state(struct instance *inst, int state, int reason);

static void
virt_refresh_state(struct instance *inst, virDomainPtr dom)
{
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) < 0) {
		virt_reset_error();
		return;
	}
	set_state(inst, state, reason);
}

/* The domain's UUID as text, without libvirt's printf per byte (the
 * dashboard keys 1,000 domains by it every second). */
static int
uuid_string(virDomainPtr dom, char out[VIR_UUID_STRING_BUFLEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[VIR_UUID_BUFLEN];
	int i, o = 0;

	if (virDomainGetUUID(dom, raw) < 0) {
		out[0] = '\0';
		return -1;
	}
	for (i = 0; i < VIR_UUID_BUFLEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[raw[i] >> 4];
		out[o++] = hex[raw[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

/* The instance of dom with what needs no call to the daemon (name, UUID,
 * where it lives) and a reference to dom. */
static struct instance *
instance_shell(struct virt_conn *vc, virDomainPtr dom)
{
	struct instance *inst;
	struct virt_inst *vi;
	char uuid[VIR_UUID_STRING_BUFLEN];
	const char *name = virDomainGetName(dom);

	inst = instance_new(name ? name : "", INST_VM);
	if (inst == NULL)
		return NULL;
	if (uuid_string(dom, uuid) == 0)
		strlcpy_b(inst->uuid, uuid, sizeof inst->uuid);
	else
		virt_reset_error();
	inst->backend = &libvirt_backend_ops;
	inst->conn = &vc->base;
	instance_set_str(&inst->host, vc->host);
	vi = xcalloc(1, sizeof *vi);
	virDomainRef(dom);
	vi->dom = dom;
	inst->priv = vi;
	return inst;
}

static void
fill_from_info(struct instance *inst, virDomainPtr dom)
{
	virDomainInfo info;

	if (virDomainGetInfo(dom, &info) == 0) {
		inst->vcpus = info.nrVirtCpu;
		inst->memory_kib = info.memory ? info.memory : info.maxMem;
	} else {
		virt_reset_error();
	}
}

static void
set_state(struct instance *inst, int state, int reason)
{
	inst->state = virt_state_map(state);
	instance_set_str(&inst->reason, virt_reason_text(state, reason));
	if (inst->state != INST_RUNNING && inst->state != INST_PAUSED && inst->state != INST_SHUTDOWN)
		inst->started = 0;
}

struct instance *
virt_instance_from(struct virt_conn *vc, virDomainPtr dom)
{
	struct instance *inst = instance_shell(vc, dom);

	if (inst == NULL)
		return NULL;
	fill_from_info(inst, dom);
	virt_refresh_state(inst, dom);
	return inst;
}

/* The same from one record of virConnectGetAllDomainStats (state, balloon,
 * vcpu): no call per domain, which over a daemon's socket is a round trip
 * each.  Fields a driver does not send are asked for as before. */
static struct instance *
virt_instance_from_record(struct virt_conn *vc, virDomainStatsRecordPtr rec)
{
	struct instance *inst;
	int i, state = -1, reason = 0, have_vcpu = 0, have_mem = 0;
	unsigned long long cur = 0, max = 0;
	unsigned int vcpus = 0;

	for (i = 0; i < rec->nparams; i++) {
		const virTypedParameter *p = &rec->params[i];

		if (p->type == VIR_TYPED_PARAM_INT && strcmp(p->field, "state.state") == 0)
			state = p->value.i;
		else if (p->type == VIR_TYPED_PARAM_INT && strcmp(p->field, "state.reason") == 0)
			reason = p->value.i;
		else if (p->type == VIR_TYPED_PARAM_ULLONG && strcmp(p->field, "balloon.current") == 0)
			cur = p->value.ul, have_mem = 1;
		else if (p->type == VIR_TYPED_PARAM_ULLONG && strcmp(p->field, "balloon.maximum") == 0)
			max = p->value.ul, have_mem = 1;
		else if (p->type == VIR_TYPED_PARAM_UINT && strcmp(p->field, "vcpu.current") == 0)
			vcpus = p->value.ui, have_vcpu = 1;
	}
	inst = instance_shell(vc, rec->dom);
	if (inst == NULL)
		return NULL;
	if (have_vcpu && have_mem && (cur || max)) {
		inst->vcpus = (int)vcpus;
		inst->memory_kib = cur ? cur : max;
	} else {
		fill_from_info(inst, rec->dom);
	}
	if (state >= 0)
		set_state(inst, state, reason);
	else
		virt_refresh_state(inst, rec->dom);
	return inst;
}

void
virt_free_priv(struct instance *inst)
{
	struct virt_inst *vi;

	if (inst == NULL || inst->priv == NULL)
		return;
	vi = inst->priv;
	if (vi->dom != NULL)
		virDomainFree(vi->dom);
	free(vi);
	inst->priv = NULL;
}

virDomainPtr
virt_inst_domain(struct instance *inst, struct berr *err)
{
	struct virt_inst *vi = inst->priv;
	struct virt_conn *vc;
	virDomainPtr dom = NULL;

	if (vi != NULL && vi->dom != NULL)
		return vi->dom;
	if (inst->conn == NULL || inst->conn->ops != &libvirt_backend_ops) {
		berr_set(err, BERR_INVALID, "`%s' is not a libvirt domain", inst->name);
		return NULL;
	}
	vc = virt_conn_of(inst->conn);
	if (inst->uuid[0] != '\0')
		dom = virDomainLookupByUUIDString(vc->conn, inst->uuid);
	if (dom == NULL)
		dom = virDomainLookupByName(vc->conn, inst->name);
	if (dom == NULL) {
		virt_err(err, "looking up domain `%s' at %s", inst->name, inst->conn->uri);
		return NULL;
	}
	if (vi == NULL) {
		vi = xcalloc(1, sizeof *vi);
		inst->priv = vi;
	}
	vi->dom = dom;
	return dom;
}

int
virt_list(struct bconn *c, struct inst_list *out, struct berr *err)
{
	struct virt_conn *vc = virt_conn_of(c);
	virDomainPtr *doms = NULL;
	virDomainStatsRecordPtr *recs = NULL;
	size_t first = out->n;
	int n, i;

	/* One call for every domain's state, vCPUs and memory where the driver
	 * has it; else the list and a few calls per domain. */
	n = virConnectGetAllDomainStats(vc->conn, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_BALLOON |
					VIR_DOMAIN_STATS_VCPU, &recs, 0);
	if (n >= 0) {
		for (i = 0; i < n; i++) {
			struct instance *inst = virt_instance_from_record(vc, recs[i]);

			if (inst != NULL)
				inst_list_push(out, inst);
		}
		virDomainStatsRecordListFree(recs);
		virt_times_fill(vc, out->v + first, out->n - first);
		return 0;
	}
	virt_reset_error();
	n = virConnectListAllDomains(vc->conn, &doms, 0);
	if (n < 0)
		return virt_err(err, "listing domains of %s", c->uri);
	for (i = 0; i < n; i++) {
		struct instance *inst = virt_instance_from(vc, doms[i]);

		if (inst != NULL)
			inst_list_push(out, inst);
		virDomainFree(doms[i]);
	}
	free(doms);
	virt_times_fill(vc, out->v + first, out->n - first);
	return 0;
}

int
virt_get(struct bconn *c, const char *name, struct instance **out, struct berr *err)
{
	struct virt_conn *vc = virt_conn_of(c);
	virDomainPtr dom;

	*out = NULL;
	dom = virDomainLookupByName(vc->conn, name);
	if (dom == NULL && virt_last_code() == VIR_ERR_NO_DOMAIN && strlen(name) == VIR_UUID_STRING_BUFLEN - 1) {
		virt_reset_error();
		dom = virDomainLookupByUUIDString(vc->conn, name);
	}
	if (dom == NULL) {
		if (virt_last_code() == VIR_ERR_NO_DOMAIN) {
			virt_reset_error();
			return berr_set(err, BERR_NOTFOUND, "no domain `%s' at %s", name, c->uri);
		}
		return virt_err(err, "looking up domain `%s' at %s", name, c->uri);
	}
	*out = virt_instance_from(vc, dom);
	if (*out != NULL) {
		virt_times_read_created(vc, *out, dom);
		virt_times_fill(vc, out, 1);
	}
	virDomainFree(dom);
	if (*out == NULL)
		return berr_set(err, ENOMEM, "domain `%s': out of memory", name);
	return 0;
}

/* "kvm" when the host offers KVM for this connection, else "qemu" (TCG). */
static const char *
virt_default_domain_type(struct virt_conn *vc)
{
	char *caps = virConnectGetCapabilities(vc->conn);
	const char *type = "qemu";

	if (caps == NULL) {
		virt_reset_error();
		return type;
	}
	if (strstr(caps, "<domain type='kvm'") != NULL || strstr(caps, "<domain type=\"kvm\"") != NULL)
		type = "kvm";
	free(caps);
	return type;
}

/* When the domain called name was created, if it exists (redefining it
 * keeps that time), else 0. */
static int64_t
created_before(struct virt_conn *vc, const char *name)
{
	virDomainPtr old = virDomainLookupByName(vc->conn, name);
	int64_t when = virt_times_created_of(old);

	if (old != NULL)
		virDomainFree(old);
	virt_reset_error();
	return when;
}

/* After a define: the domain's metadata says when it was created (the old
 * time when it was redefined, else now).  A driver without metadata loses
 * only the time, not the define. */
static void
keep_created(struct virt_conn *vc, virDomainPtr dom, int64_t before)
{
	struct berr ignored = { 0 };

	if (virt_times_created_of(dom) != 0)
		return;
	if (virt_times_mark_created(vc, dom, before ? before : time(NULL), &ignored) < 0)
		virt_reset_error();
}

int
virt_define(struct bconn *c, const struct define_spec *spec, struct instance **out, struct berr *err)
{
	struct virt_conn *vc = virt_conn_of(c);
	char *xml = NULL, *xml_name = NULL;
	const char *label = spec->name ? spec->name : "(unnamed)";
	virDomainPtr dom;
	int64_t created = 0;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	if (spec->xml != NULL) {
		/* Malformed XML is left to libvirt, which says what is wrong. */
		xml_name = virt_xml_name(spec->xml);
		if (xml_name != NULL && spec->name != NULL && strcmp(spec->name, xml_name) != 0) {
			berr_set(err, BERR_INVALID, "defining domain `%s': the XML names it `%s'", spec->name,
				 xml_name);
			goto out;
		}
		if (xml_name != NULL)
			label = xml_name;
		created = created_before(vc, label);
		dom = virDomainDefineXML(vc->conn, spec->xml);
	} else if (spec->json != NULL) {
		if (virt_xml_from_json(spec->json, spec->name, virt_default_domain_type(vc), &xml, err) < 0) {
			berr_wrap(err, "defining domain `%s'", label);
			goto out;
		}
		xml_name = virt_xml_name(xml);
		if (xml_name != NULL)
			label = xml_name;
		created = created_before(vc, label);
		dom = virDomainDefineXML(vc->conn, xml);
	} else {
		return berr_set(err, BERR_INVALID, "defining domain `%s': neither XML nor JSON given", label);
	}
	if (dom == NULL) {
		virt_err(err, "defining domain `%s' at %s", label, c->uri);
		goto out;
	}
	keep_created(vc, dom, created);
	if (out != NULL) {
		*out = virt_instance_from(vc, dom);
		if (*out == NULL) {
			berr_set(err, ENOMEM, "defining domain `%s': out of memory", label);
			virDomainFree(dom);
			goto out;
		}
		virt_times_fill(vc, out, 1);
	}
	virDomainFree(dom);
	rc = 0;
out:
	free(xml);
	free(xml_name);
	return rc;
}

/* Run one libvirt call on an instance's domain, with context on failure
 * ("pausing domain `x'") and the state refreshed on success. */
#define VIRT_DOM_OP(inst, err, verb, call) do { \
	virDomainPtr dom_ = virt_inst_domain((inst), (err)); \
	if (dom_ == NULL) \
		return berr_wrap((err), "%s domain `%s'", (verb), (inst)->name); \
	int rc_ = (call); \
	if (rc_ == -2) /* err already set */ \
		return -1; \
	if (rc_ < 0) \
		return virt_err((err), "%s domain `%s'", (verb), (inst)->name); \
	virt_refresh_state((inst), dom_); \
	return 0; \
} while (0)

static int
virt_create_noting(struct instance *inst, virDomainPtr dom)
{
	if (virDomainCreate(dom) < 0)
		return -1;
	virt_times_started_now(virt_conn_of(inst->conn), inst);
	return 0;
}

int
virt_start(struct instance *inst, struct berr *err)
{
	VIRT_DOM_OP(inst, err, "starting", virt_create_noting(inst, dom_));
}

/* Drivers disagree on the error for pausing a paused domain (the test
 * driver calls it internal): check first so every driver gives BERR_STATE. */
static int
virt_check_state(struct instance *inst, virDomainPtr dom, int want, const char *verb, const char *why,
		 struct berr *err)
{
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return virt_err(err, "%s domain `%s'", verb, inst->name);
	if ((state == VIR_DOMAIN_PAUSED) != want) {
		inst->state = virt_state_map(state);
		instance_set_str(&inst->reason, virt_reason_text(state, reason));
		return berr_set(err, BERR_STATE, "%s domain `%s': %s", verb, inst->name, why);
	}
	return 0;
}

int
virt_pause(struct instance *inst, struct berr *err)
{
	VIRT_DOM_OP(inst, err, "pausing",
		    virt_check_state(inst, dom_, 0, "pausing", "it is already paused", err) < 0 ? -2
		    : virDomainSuspend(dom_));
}

int
virt_resume(struct instance *inst, struct berr *err)
{
	VIRT_DOM_OP(inst, err, "resuming",
		    virt_check_state(inst, dom_, 1, "resuming", "it is not paused", err) < 0 ? -2
		    : virDomainResume(dom_));
}

int
virt_destroy(struct instance *inst, struct berr *err)
{
	VIRT_DOM_OP(inst, err, "destroying", virDomainDestroy(dom_));
}

/* libvirt has no "send signal": killing a domain is destroying it (QEMU gets
 * SIGTERM, then SIGKILL if it lingers). */
int
virt_kill(struct instance *inst, int signo, struct berr *err)
{
	(void)signo;
	VIRT_DOM_OP(inst, err, "killing", virDomainDestroy(dom_));
}

static int
virt_is_off(virDomainPtr dom, int *off)
{
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return -1;
	*off = state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED;
	return 0;
}

int
virt_shutdown(struct instance *inst, int timeout_s, int force_after, struct berr *err)
{
	virDomainPtr dom = virt_inst_domain(inst, err);
	int64_t deadline;
	int off = 0;

	if (dom == NULL)
		return berr_wrap(err, "shutting down domain `%s'", inst->name);
	if (virDomainShutdown(dom) < 0) {
		/* A guest that cannot be asked (no ACPI, agent) can still be
		 * forced off when the caller allows it. */
		if (!force_after || virt_last_code() == VIR_ERR_OPERATION_INVALID)
			return virt_err(err, "shutting down domain `%s'", inst->name);
		virt_reset_error();
		goto force;
	}
	if (timeout_s < 0) {
		virt_refresh_state(inst, dom);
		return 0;
	}
	if (timeout_s == 0)
		timeout_s = VIRT_SHUTDOWN_DEFAULT_S;
	deadline = now_ms() + (int64_t)timeout_s * 1000;
	for (;;) {
		struct timespec ts = { 0, VIRT_SHUTDOWN_POLL_MS * 1000000L };

		if (virt_is_off(dom, &off) < 0)
			return virt_err(err, "shutting down domain `%s': reading its state", inst->name);
		if (off || now_ms() >= deadline)
			break;
		if (cancel_requested()) {
			virt_refresh_state(inst, dom);
			return berr_set(err, ECANCELED, "shutting down domain `%s': interrupted while "
					"waiting; it was asked to shut down and may still do so", inst->name);
		}
		nanosleep(&ts, NULL);
	}
	if (off) {
		virt_refresh_state(inst, dom);
		return 0;
	}
	if (!force_after) {
		virt_refresh_state(inst, dom);
		return berr_set(err, BERR_TIMEOUT, "shutting down domain `%s': still running after %d s",
				inst->name, timeout_s);
	}
force:
	if (virDomainDestroy(dom) < 0) {
		/* It may have gone off by itself in between. */
		if (virt_is_off(dom, &off) == 0 && off) {
			virt_reset_error();
			virt_refresh_state(inst, dom);
			return 0;
		}
		return virt_err(err, "shutting down domain `%s': forcing it off", inst->name);
	}
	virt_refresh_state(inst, dom);
	return 0;
}

int
virt_undefine(struct instance *inst, struct berr *err)
{
	static const unsigned int attempts[] = {
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM,
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
	};
	virDomainPtr dom = virt_inst_domain(inst, err);
	size_t i;

	if (dom == NULL)
		return berr_wrap(err, "undefining domain `%s'", inst->name);
	/* Drivers reject flags they do not know (the test driver knows fewer
	 * than QEMU's): fall back to fewer, then to none. */
	for (i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
		int code;

		if (virDomainUndefineFlags(dom, attempts[i]) == 0)
			goto done;
		code = virt_last_code();
		if (code != VIR_ERR_INVALID_ARG && code != VIR_ERR_NO_SUPPORT &&
		    code != VIR_ERR_ARGUMENT_UNSUPPORTED)
			return virt_err(err, "undefining domain `%s'", inst->name);
		virt_reset_error();
	}
	if (virDomainUndefine(dom) < 0)
		return virt_err(err, "undefining domain `%s'", inst->name);
done:
	/* A running domain stays, as a transient one, until it stops. */
	if (virDomainIsActive(dom) != 1) {
		virt_reset_error();
		inst->state = INST_UNKNOWN;
		instance_set_str(&inst->reason, "undefined");
	}
	return 0;
}

int
virt_snapshot(struct instance *inst, const char *name, struct berr *err)
{
	virDomainPtr dom = virt_inst_domain(inst, err);
	virDomainSnapshotPtr snap;
	char *xml;

	if (dom == NULL)
		return berr_wrap(err, "snapshotting domain `%s'", inst->name);
	if (virt_xml_snapshot(name, &xml, err) < 0)
		return berr_wrap(err, "snapshotting domain `%s'", inst->name);
	snap = virDomainSnapshotCreateXML(dom, xml, 0);
	free(xml);
	if (snap == NULL)
		return virt_err(err, "snapshotting domain `%s' as `%s'", inst->name, name ? name : "");
	virDomainSnapshotFree(snap);
	virt_refresh_state(inst, dom);
	return 0;
}

/* ---- stats ---- */

/* A numeric field as libvirt sends it (unsigned long long or int). */
static int
param_ull(const virTypedParameter *p, unsigned long long *v)
{
	if (p->type == VIR_TYPED_PARAM_ULLONG) {
		*v = p->value.ul;
		return 1;
	}
	if (p->type == VIR_TYPED_PARAM_UINT) {
		*v = p->value.ui;
		return 1;
	}
	return 0;
}

/* "3.rd.bytes" -> "rd.bytes": the field after a device index, or NULL. */
static const char *
after_index(const char *f)
{
	const char *q = f;

	while (*q >= '0' && *q <= '9')
		q++;
	return q > f && *q == '.' ? q + 1 : NULL;
}

/* One pass over the record's fields (a record has dozens; looking each
 * wanted one up by name was the dashboard's main cost with 1,000 domains). */
void
virt_fill_stats(const struct instance *inst, virDomainStatsRecordPtr rec, struct inst_stats *st)
{
	unsigned long long v, avail = 0, unused = 0, rss = 0, cur = 0, vcpus = 0;
	int have_avail = 0, have_unused = 0, have_rss = 0, have_cur = 0, have_vcpus = 0;
	int i, state = 0;

	memset(&st->cpu_time_ns, 0, sizeof *st - offsetof(struct inst_stats, cpu_time_ns));
	for (i = 0; i < rec->nparams; i++) {
		const virTypedParameter *p = &rec->params[i];
		const char *f = p->field, *r;

		if (p->type == VIR_TYPED_PARAM_INT && strcmp(f, "state.state") == 0) {
			state = p->value.i;
			continue;
		}
		if (!param_ull(p, &v))
			continue;
		if (strncmp(f, "block.", 6) == 0 && (r = after_index(f + 6)) != NULL) {
			if (strcmp(r, "rd.bytes") == 0)
				st->blk_rd_bytes += v;
			else if (strcmp(r, "wr.bytes") == 0)
				st->blk_wr_bytes += v;
			else if (strcmp(r, "rd.reqs") == 0)
				st->blk_rd_reqs += v;
			else if (strcmp(r, "wr.reqs") == 0)
				st->blk_wr_reqs += v;
		} else if (strncmp(f, "net.", 4) == 0 && (r = after_index(f + 4)) != NULL) {
			if (strcmp(r, "rx.bytes") == 0)
				st->net_rx_bytes += v;
			else if (strcmp(r, "tx.bytes") == 0)
				st->net_tx_bytes += v;
			else if (strcmp(r, "rx.pkts") == 0)
				st->net_rx_pkts += v;
			else if (strcmp(r, "tx.pkts") == 0)
				st->net_tx_pkts += v;
		} else if (strcmp(f, "cpu.time") == 0) {
			st->cpu_time_ns = v;
		} else if (strcmp(f, "vcpu.current") == 0) {
			vcpus = v;
			have_vcpus = 1;
		} else if (strncmp(f, "balloon.", 8) == 0) {
			if (strcmp(f + 8, "current") == 0)
				cur = v, have_cur = 1;
			else if (strcmp(f + 8, "available") == 0)
				avail = v, have_avail = 1;
			else if (strcmp(f + 8, "unused") == 0)
				unused = v, have_unused = 1;
			else if (strcmp(f + 8, "rss") == 0)
				rss = v, have_rss = 1;
		}
	}
	st->valid = state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED && state != VIR_DOMAIN_NOSTATE;
	if (!st->valid)
		return;
	st->vcpus = have_vcpus ? (int)vcpus : inst->vcpus;
	st->mem_total_kib = have_cur ? cur : inst->memory_kib;
	if (have_avail && have_unused && avail >= unused)
		st->mem_used_kib = avail - unused;
	else
		st->mem_used_kib = have_rss ? rss : st->mem_total_kib;
}

/* One virConnectGetAllDomainStats per batch; records are matched to the
 * instances by UUID (then name).  Instances without a record (gone, or not
 * running) get valid = 0. */
int
virt_stats(struct bconn *c, struct instance **v, size_t n, struct inst_stats *out, struct berr *err)
{
	struct virt_conn *vc = virt_conn_of(c);
	const unsigned int types = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
				   VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
				   VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
	virDomainStatsRecordPtr *recs = NULL;
	int64_t ts = now_ms();
	int nrec, r;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].ts_ms = ts;
	}
	if (n == 0)
		return 0;
	/* NOWAIT: skip what would wait on a domain job (migration...).  Not
	 * every driver accepts it. */
	nrec = virConnectGetAllDomainStats(vc->conn, types, &recs,
					   VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
					   (vc->stats_no_nowait ? 0 : VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT));
	if (nrec < 0 && !vc->stats_no_nowait &&
	    (virt_last_code() == VIR_ERR_INVALID_ARG || virt_last_code() == VIR_ERR_NO_SUPPORT)) {
		virt_reset_error();
		vc->stats_no_nowait = 1;	/* remembered: one call per batch from now on */
		nrec = virConnectGetAllDomainStats(vc->conn, types, &recs,
						   VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
	}
	if (nrec < 0)
		return virt_err(err, "reading domain statistics of %s", c->uri);
	ts = now_ms();
	/* Match records to instances through a map (by name, else by UUID):
	 * a linear search per record was quadratic with 1,000 domains. */
	{
		struct smap *by_key = smap_new(NULL), *by_name = smap_new(NULL);

		for (i = 0; i < n; i++) {
			smap_set(by_name, v[i]->name, (void *)(uintptr_t)(i + 1));
			if (v[i]->uuid[0])
				smap_set(by_key, v[i]->uuid, (void *)(uintptr_t)(i + 1));
		}
		for (r = 0; r < nrec; r++) {
			char uuid[VIR_UUID_STRING_BUFLEN] = "";
			const char *name;
			uintptr_t idx = 0;

			/* By name first: libvirt formats the UUID into its debug
			 * log on every virDomainGetUUID, a printf per byte, 1,000
			 * times a second.  A domain renamed since the last list
			 * is found by its UUID. */
			if ((name = virDomainGetName(recs[r]->dom)) != NULL)
				idx = (uintptr_t)smap_get(by_name, name);
			if (idx == 0) {
				if (uuid_string(recs[r]->dom, uuid) < 0)
					virt_reset_error();
				if (uuid[0])
					idx = (uintptr_t)smap_get(by_key, uuid);
			}
			if (idx == 0)
				continue;
			out[idx - 1].ts_ms = ts;
			virt_fill_stats(v[idx - 1], recs[r], &out[idx - 1]);
		}
		smap_free(by_key);
		smap_free(by_name);
	}
	virDomainStatsRecordListFree(recs);
	return 0;
}

/* ---- info ---- */

int
virt_info(struct instance *inst, json_object **out, struct berr *err)
{
	virDomainPtr dom = virt_inst_domain(inst, err);
	json_object *obj;
	virDomainInfo di;
	char uuid[VIR_UUID_STRING_BUFLEN];
	char *s;
	int state, reason, b;
	unsigned int id;

	*out = NULL;
	if (dom == NULL)
		return berr_wrap(err, "reading details of domain `%s'", inst->name);
	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return virt_err(err, "reading details of domain `%s'", inst->name);
	inst->state = virt_state_map(state);
	instance_set_str(&inst->reason, virt_reason_text(state, reason));

	obj = json_object_new_object();
	json_object_object_add(obj, "name", json_object_new_string(virDomainGetName(dom)));
	if (uuid_string(dom, uuid) == 0)
		json_object_object_add(obj, "uuid", json_object_new_string(uuid));
	json_object_object_add(obj, "backend", json_object_new_string("libvirt"));
	json_object_object_add(obj, "uri", json_object_new_string(inst->conn ? inst->conn->uri : ""));
	json_object_object_add(obj, "host", json_object_new_string(inst->host ? inst->host : "localhost"));
	json_object_object_add(obj, "state", json_object_new_string(inst_state_name(inst->state)));
	json_object_object_add(obj, "reason", inst->reason ? json_object_new_string(inst->reason) : NULL);
	id = virDomainGetID(dom);
	if (id != (unsigned int)-1)
		json_object_object_add(obj, "id", json_object_new_int64(id));
	s = virDomainGetOSType(dom);
	if (s != NULL) {
		json_object_object_add(obj, "os_type", json_object_new_string(s));
		free(s);
	}
	if (virDomainGetAutostart(dom, &b) == 0)
		json_object_object_add(obj, "autostart", json_object_new_boolean(b));
	b = virDomainIsPersistent(dom);
	if (b >= 0)
		json_object_object_add(obj, "persistent", json_object_new_boolean(b));
	b = virDomainIsActive(dom);
	if (b >= 0)
		json_object_object_add(obj, "active", json_object_new_boolean(b));
	b = virDomainHasManagedSaveImage(dom, 0);
	if (b >= 0)
		json_object_object_add(obj, "managed_save", json_object_new_boolean(b));
	b = virDomainSnapshotNum(dom, 0);
	if (b >= 0)
		json_object_object_add(obj, "snapshots", json_object_new_int(b));
	if (virDomainGetInfo(dom, &di) == 0) {
		json_object_object_add(obj, "vcpus", json_object_new_int(di.nrVirtCpu));
		json_object_object_add(obj, "memory_kib", json_object_new_int64((int64_t)di.memory));
		json_object_object_add(obj, "max_memory_kib", json_object_new_int64((int64_t)di.maxMem));
		json_object_object_add(obj, "cpu_time_ns", json_object_new_int64((int64_t)di.cpuTime));
	}
	virt_reset_error();

	s = virDomainGetXMLDesc(dom, 0);
	if (s == NULL) {
		json_object_put(obj);
		return virt_err(err, "reading the XML of domain `%s'", inst->name);
	}
	if (virt_xml_describe(s, obj, err) < 0) {
		free(s);
		json_object_put(obj);
		return berr_wrap(err, "reading details of domain `%s'", inst->name);
	}
	free(s);
	*out = obj;
	return 0;
}

/* ---- migration ---- */

/* Where to: a libvirt URI as is, or a bare host name, reached the way
 * remote libvirt hosts usually are (qemu+ssh://HOST/system). */
static char *
virt_migrate_dest_uri(const char *to)
{
	if (strstr(to, "://") != NULL)
		return xstrdup(to);
	return xasprintf("qemu+ssh://%s/system", to);
}

struct virt_migration {
	virDomainPtr dom;
	virConnectPtr dconn;
	unsigned int flags;
	int ok;
	struct berr err;
	int done;		/* set last, with release order */
};

/* virDomainMigrate3 blocks until the end; it runs on its own thread so the
 * caller's thread can report progress.  libvirt connections are thread-safe
 * and errors are per thread. */
static void *
virt_migrate_thread(void *arg)
{
	struct virt_migration *m = arg;
	virDomainPtr ddom;

	ddom = virDomainMigrate3(m->dom, m->dconn, NULL, 0, m->flags);
	if (ddom == NULL) {
		virt_err(&m->err, "%s", "");
	} else {
		m->ok = 1;
		virDomainFree(ddom);
	}
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
virt_migrate_progress(virDomainPtr dom, const struct migrate_opts *opts)
{
	virTypedParameterPtr params = NULL;
	int nparams = 0, type = 0;
	unsigned long long total = 0, done = 0;

	if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0) {
		virt_reset_error();
		return;
	}
	if (type != VIR_DOMAIN_JOB_NONE &&
	    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL, &total) == 1 &&
	    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED, &done) == 1 && total > 0) {
		double f = (double)done / (double)total;

		opts->on_progress(f > 1.0 ? 1.0 : f, "transferring", opts->arg);
	}
	virTypedParamsFree(params, nparams);
	virt_reset_error();
}

int
virt_migrate(struct instance *inst, const struct migrate_opts *opts, struct berr *err)
{
	virDomainPtr dom = virt_inst_domain(inst, err);
	struct virt_migration m;
	pthread_t tid;
	char *duri;
	int active, aborted = 0;

	if (dom == NULL)
		return berr_wrap(err, "migrating domain `%s'", inst->name);
	if (opts == NULL || opts->to == NULL || *opts->to == '\0')
		return berr_set(err, BERR_INVALID, "migrating domain `%s': no destination", inst->name);
	memset(&m, 0, sizeof m);
	duri = virt_migrate_dest_uri(opts->to);
	m.dconn = virt_connect(duri, err);
	if (m.dconn == NULL) {
		berr_wrap(err, "migrating domain `%s'", inst->name);
		free(duri);
		return -1;
	}
	active = virDomainIsActive(dom);
	if (active < 0) {
		virt_err(err, "migrating domain `%s'", inst->name);
		goto out;
	}
	/* A running domain moves live; a stopped one moves its definition. */
	m.flags = VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
	m.flags |= active ? VIR_MIGRATE_LIVE : VIR_MIGRATE_OFFLINE;
	if (virDomainIsPersistent(dom) != 1)
		m.flags &= ~(unsigned int)VIR_MIGRATE_UNDEFINE_SOURCE;
	virt_reset_error();
	m.dom = dom;
	if (active && opts->max_downtime_ms > 0) {
		/* QEMU takes it before the job starts; other drivers may not. */
		if (virDomainMigrateSetMaxDowntime(dom, (unsigned long long)opts->max_downtime_ms, 0) < 0)
			virt_reset_error();
	}
	if (opts->on_progress != NULL)
		opts->on_progress(0.0, "starting", opts->arg);
	if (pthread_create(&tid, NULL, virt_migrate_thread, &m) != 0) {
		berr_set(err, EAGAIN, "migrating domain `%s': cannot start a thread", inst->name);
		goto out;
	}
	while (!__atomic_load_n(&m.done, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 200 * 1000000L };

		/* Ctrl-C: libvirt aborts the job, the thread then returns its
		 * "operation aborted" error and the guest stays where it was. */
		if (cancel_requested() && !aborted) {
			aborted = 1;
			if (virDomainAbortJob(dom) < 0)
				virt_reset_error();
		}
		nanosleep(&ts, NULL);
		if (opts->on_progress != NULL && !__atomic_load_n(&m.done, __ATOMIC_ACQUIRE))
			virt_migrate_progress(dom, opts);
	}
	pthread_join(tid, NULL);
	if (!m.ok) {
		*err = m.err;
		berr_wrap(err, "migrating domain `%s' to `%s'", inst->name, duri);
		goto out;
	}
	if (opts->on_progress != NULL)
		opts->on_progress(1.0, "done", opts->arg);
	/* The source copy is gone (or stopped, if it was transient). */
	if (virDomainIsActive(dom) != 1) {
		inst->state = INST_STOPPED;
		instance_set_str(&inst->reason, "migrated");
	}
	virt_reset_error();
	virConnectClose(m.dconn);
	free(duri);
	return 0;
out:
	virConnectClose(m.dconn);
	virt_reset_error();
	free(duri);
	return -1;
}
