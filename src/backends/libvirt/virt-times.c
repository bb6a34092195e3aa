/*
 * virt-times.c - when a libvirt domain was created and when it last started.
 *
 * For: instance->created and instance->started of libvirt domains, which
 * libvirt itself does not keep.  Started comes from, in order: berth having
 * started the domain on this connection; the start time of the domain's QEMU
 * process when the daemon runs on this machine (found in /proc by the
 * `-uuid' argument libvirt gives QEMU); berth having seen the domain go from
 * not running to running in an earlier list on this connection.  Created is
 * the time berth defined the domain, kept in the domain's own metadata
 * (<berth:created> in namespace VIRT_META_NS), so it is the same on every
 * client and survives daemon restarts; domains defined by other tools have
 * none (0, shown as unknown); reading it costs a call per domain, so a list
 * reads a bounded number per refresh (VIRT_META_PER_FILL).  Not for: states (virt-state.c).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/libvirt/virt.h"
#include "core/util.h"

#define VIRT_META_NS "urn:berth:domain:1"
#define VIRT_META_KEY "berth"
/* The metadata is one call to the daemon per domain: a list reads it for
 * at most this many domains it has not read before, so 1,000 domains cost
 * the first frame 64 calls and are all known after 16 refreshes. */
#define VIRT_META_PER_FILL 64

/* What a connection remembers of one domain (keyed by UUID). */
struct virt_time {
	int id;			/* libvirt's domain id when last seen; -1 when off */
	int64_t started;	/* unix seconds, 0 unknown */
	int64_t created;	/* unix seconds, 0 unknown */
	int created_read;	/* the metadata was read (or written) */
};

static struct virt_time *
time_entry(struct virt_conn *vc, const char *uuid)
{
	struct virt_time *t;

	if (vc->times == NULL)
		vc->times = smap_new(free);
	t = smap_get(vc->times, uuid);
	if (t == NULL) {
		t = xcalloc(1, sizeof *t);
		t->id = -2;	/* never seen */
		smap_set(vc->times, uuid, t);
	}
	return t;
}

/* libvirt's id of a running domain (kept in the handle: no call). */
static int64_t meta_created(virDomainPtr dom);

static int
dom_id(const struct instance *inst)
{
	const struct virt_inst *vi = inst->priv;
	unsigned int id = vi != NULL && vi->dom != NULL ? virDomainGetID(vi->dom) : (unsigned int)-1;

	return id == (unsigned int)-1 ? -3 : (int)id;
}

/* Does this connection's daemon run here, with QEMU processes in our /proc? */
static int
virt_is_local_qemu(struct virt_conn *vc)
{
	const char *uri = vc->base.uri;

	if (vc->local_qemu == 0) {
		vc->local_qemu = -1;
		if (uri != NULL && strncmp(uri, "qemu", 4) == 0 && (uri[4] == ':' || strncmp(uri + 4, "+unix:", 6) == 0) &&
		    strcmp(vc->host, "localhost") == 0)
			vc->local_qemu = 1;
	}
	return vc->local_qemu > 0;
}

static int64_t
boot_time(void)
{
	char line[256];
	long long bt = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

/* Reads a small /proc file of pid into buf; returns its length or -1. */
static ssize_t
read_proc(const char *pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n, got = 0;
	int fd;

	snprintf(path, sizeof path, "/proc/%s/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < (ssize_t)len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

/* The UUID after `-uuid' in a NUL-separated command line, or NULL. */
static const char *
cmdline_uuid(const char *cmd, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const char *arg = cmd + off;
		size_t alen = strlen(arg);

		if (strcmp(arg, "-uuid") == 0 && off + alen + 1 < len)
			return arg + alen + 1;
		off += alen + 1;
	}
	return NULL;
}

/* Process start time of every QEMU process with a -uuid, into vc->times
 * for the UUIDs in want (those running and not yet known).  One pass over
 * /proc for all of them. */
static void
scan_qemu_processes(struct virt_conn *vc, struct smap *want)
{
	static char cmd[65536];
	char stat[1024];
	int64_t btime = boot_time();
	long hz = sysconf(_SC_CLK_TCK);
	struct dirent *de;
	DIR *d;

	if (btime <= 0 || hz <= 0 || (d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL && smap_count(want) > 0) {
		const char *uuid, *p;
		unsigned long long st;
		struct virt_time *t;
		ssize_t n;
		int field;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		n = read_proc(de->d_name, "cmdline", cmd, sizeof cmd);
		if (n <= 0 || strstr(cmd, "qemu") == NULL)
			continue;
		uuid = cmdline_uuid(cmd, (size_t)n);
		if (uuid == NULL || (t = smap_get(want, uuid)) == NULL)
			continue;
		if (read_proc(de->d_name, "stat", stat, sizeof stat) <= 0 || (p = strrchr(stat, ')')) == NULL)
			continue;
		/* Field 22 (starttime); ") " ends field 2 (the name, which may
		 * hold spaces: hence the last ')'). */
		for (p += 2, field = 3; field < 22 && p != NULL; field++) {
			p = strchr(p, ' ');
			if (p != NULL)
				p++;
		}
		if (p == NULL || sscanf(p, "%llu", &st) != 1)
			continue;
		t->started = btime + (int64_t)(st / (unsigned long long)hz);
		smap_remove(want, uuid);
	}
	closedir(d);
}

void
virt_times_fill(struct virt_conn *vc, struct instance **v, size_t n)
{
	struct smap *want = NULL;
	int meta_budget = VIRT_META_PER_FILL;
	size_t i;

	for (i = 0; i < n; i++) {
		struct instance *inst = v[i];
		struct virt_time *t;
		int running = inst->state == INST_RUNNING || inst->state == INST_PAUSED || inst->state == INST_SHUTDOWN;

		if (inst->uuid[0] == '\0')
			continue;
		t = time_entry(vc, inst->uuid);
		if (!running) {
			t->id = -1;
			t->started = 0;
		} else if (t->id != dom_id(inst)) {
			/* Started since we last looked (or first seen running). */
			int seen_off = t->id == -1;

			t->id = dom_id(inst);
			t->started = seen_off ? time(NULL) : 0;
			if (virt_is_local_qemu(vc)) {
				if (want == NULL)
					want = smap_new(NULL);
				smap_set(want, inst->uuid, t);
			}
		}
		if (!t->created_read && meta_budget > 0) {
			const struct virt_inst *vi = inst->priv;

			if (vi != NULL && vi->dom != NULL) {
				t->created = meta_created(vi->dom);
				t->created_read = 1;
				meta_budget--;
			}
		}
		if (t->created_read)
			inst->created = t->created;
	}
	if (want != NULL) {
		scan_qemu_processes(vc, want);
		smap_free(want);
	}
	for (i = 0; i < n; i++) {
		struct virt_time *t;

		if (v[i]->uuid[0] == '\0' || (t = smap_get(vc->times, v[i]->uuid)) == NULL)
			continue;
		if (t->id >= 0)
			v[i]->started = t->started;
	}
}

void
virt_times_started_now(struct virt_conn *vc, struct instance *inst)
{
	struct virt_time *t;

	if (inst->uuid[0] == '\0')
		return;
	t = time_entry(vc, inst->uuid);
	t->id = dom_id(inst);
	t->started = time(NULL);
	inst->started = t->started;
}

/* <created> out of our metadata element, 0 when absent or unreadable. */
static int64_t
meta_created(virDomainPtr dom)
{
	char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VIRT_META_NS, VIR_DOMAIN_AFFECT_CONFIG);
	const char *p;
	long long v = 0;

	if (xml == NULL) {
		virt_reset_error();
		return 0;
	}
	p = strstr(xml, "<created>");
	if (p == NULL || sscanf(p + 9, "%lld", &v) != 1 || v < 0)
		v = 0;
	free(xml);
	return v;
}

void
virt_times_read_created(struct virt_conn *vc, struct instance *inst, virDomainPtr dom)
{
	struct virt_time *t;

	if (inst->uuid[0] == '\0')
		return;
	t = time_entry(vc, inst->uuid);
	if (!t->created_read) {
		t->created = meta_created(dom);
		t->created_read = 1;
	}
	inst->created = t->created;
}

int64_t
virt_times_created_of(virDomainPtr dom)
{
	return dom != NULL ? meta_created(dom) : 0;
}

int
virt_times_mark_created(struct virt_conn *vc, virDomainPtr dom, int64_t when, struct berr *err)
{
	char meta[96];
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct virt_time *t;

	snprintf(meta, sizeof meta, "<instance><created>%lld</created></instance>", (long long)when);
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, meta, VIRT_META_KEY, VIRT_META_NS,
				 VIR_DOMAIN_AFFECT_CONFIG) < 0)
		return virt_err(err, "recording when domain `%s' was created", virDomainGetName(dom));
	if (virDomainGetUUIDString(dom, uuid) == 0) {
		t = time_entry(vc, uuid);
		t->created = when;
		t->created_read = 1;
	} else {
		virt_reset_error();
	}
	return 0;
}

void
virt_times_free(struct virt_conn *vc)
{
	smap_free(vc->times);
	vc->times = NULL;
}
