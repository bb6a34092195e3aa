/*
 * dashboard.c - the main view: a header per host (CPU and memory use,
 * allocated vCPUs and memory against physical, overcommit highlighted) and
 * one table of every instance of every backend and host, sortable by any
 * column, filtered incrementally, optionally grouped by host, with a
 * multi-selection for batch actions.
 *
 * Not for: what keys do (keys.c) or fetching data (tui.c refreshes the list,
 * rates and host info; this file only reads them).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/options.h"
#include "core/util.h"
#include "tui/tui-internal.h"

/* Columns from Lua plugins (berth.column{}); weak: the dashboard links
 * without the scripting component. */
size_t script_column_count(void) __attribute__((weak));
const char *script_column_name(size_t i) __attribute__((weak));
int script_column_width(size_t i) __attribute__((weak));
int script_column_value(size_t i, const struct instance *inst, char *buf, size_t len,
			struct berr *err) __attribute__((weak));

#define PCOL_MAX 8
#define PCOL_PRIO 5		/* kept like the sparkline when narrow */
static int pcol_x[PCOL_MAX], pcol_w[PCOL_MAX];
static size_t npcol;

/* Indexed like option_column_names (core/options.c), which gives each
 * column its name for `columns`, :sort and bindings. */
struct col_def {
	const char *title;
	int width;
	int prio;		/* lower = kept longer when narrow */
	int right;
};

static const struct col_def cols[COL_MAX] = {
	[COL_NAME] = { "NAME", 12, 0, 0 },
	[COL_KIND] = { "KIND", 4, 6, 0 },
	[COL_BACKEND] = { "BACKEND", 9, 7, 0 },
	[COL_HOST] = { "HOST", 10, 4, 0 },
	[COL_STATE] = { "STATE", 8, 1, 0 },
	[COL_VCPUS] = { "VCPU", 4, 3, 1 },
	[COL_MEM] = { "MEM", 6, 3, 1 },
	[COL_CPU] = { "CPU%", 5, 1, 1 },
	[COL_SPARK] = { "CPU 10s", 10, 5, 0 },
	[COL_MEMUSE] = { "USED", 6, 2, 1 },
	[COL_DISK] = { "DISK R/W", 11, 8, 1 },
	[COL_NET] = { "NET RX/TX", 11, 8, 1 },
	[COL_UPTIME] = { "UPTIME", 8, 5, 1 },
};

const char *
col_title(enum tui_col c)
{
	return c < COL_MAX ? cols[c].title : "?";
}

int
col_from_name(const char *name)
{
	int i;

	for (i = 0; i < COL_MAX; i++)
		if (strcasecmp(name, option_column_names[i]) == 0 || strcasecmp(name, cols[i].title) == 0)
			return i;
	return -1;
}

/* ---- hosts ---- */

static double
json_num(json_object *o, const char *const *names, double def)
{
	json_object *v;

	for (; *names; names++)
		if (json_object_object_get_ex(o, *names, &v) &&
		    (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
			return json_object_get_double(v);
	return def;
}

void
dash_hosts_free(struct tui *ui)
{
	size_t i;

	for (i = 0; i < ui->nhosts; i++) {
		free(ui->hosts[i].label);
		free(ui->hosts[i].error);
	}
	free(ui->hosts);
	ui->hosts = NULL;
	ui->nhosts = 0;
}

static struct tui_host *
host_get(struct tui *ui, const char *label)
{
	size_t i;
	struct tui_host *h;

	for (i = 0; i < ui->nhosts; i++)
		if (strcmp(ui->hosts[i].label, label) == 0)
			return &ui->hosts[i];
	ui->hosts = xrealloc(ui->hosts, (ui->nhosts + 1) * sizeof *ui->hosts);
	h = &ui->hosts[ui->nhosts++];
	memset(h, 0, sizeof *h);
	h->label = xstrdup(label);
	h->cpu_pct = -1;
	h->mem_used_kib = -1;
	return h;
}

/* This machine's CPU use since the previous call, from /proc/stat: the
 * fallback when no backend reports host CPU use for localhost. */
static double
local_cpu_pct(void)
{
	static unsigned long long prev_busy, prev_total;
	unsigned long long v[8] = { 0 }, busy, total;
	double pct = -1;
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &v[6], &v[7]) == 8) {
		total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
		busy = total - v[3] - v[4];
		if (prev_total && total > prev_total)
			pct = 100.0 * (double)(busy - prev_busy) / (double)(total - prev_total);
		prev_busy = busy;
		prev_total = total;
	}
	fclose(f);
	return pct;
}

static void
local_mem(double *total_kib, double *used_kib)
{
	char line[128];
	double tot = -1, avail = -1, v;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "MemTotal: %lf", &v) == 1)
			tot = v;
		else if (sscanf(line, "MemAvailable: %lf", &v) == 1)
			avail = v;
	}
	fclose(f);
	if (tot > 0 && avail >= 0) {
		*total_kib = tot;
		*used_kib = tot - avail;
	}
}

/* Host capacity from every connection's host_info, merged by host label
 * (kvm, container and libvirt on one machine are one host), plus what the
 * listed instances have been given. */
void
dash_hosts_update(struct tui *ui)
{
	static const char *const k_cpus[] = { "cpus", "ncpus", "cpu_count", NULL };
	static const char *const k_mem[] = { "memory_kib", "mem_total_kib", "memory_total_kib", "mem_kib", NULL };
	static const char *const k_free[] = { "free_memory_kib", "mem_free_kib", "memory_free_kib", "free_kib", "mem_available_kib", NULL };
	static const char *const k_used[] = { "mem_used_kib", "memory_used_kib", NULL };
	static const char *const k_cpu[] = { "cpu_pct", "cpu_used_pct", "cpu_usage_pct", "cpu_percent", NULL };
	size_t i;

	dash_hosts_free(ui);
	for (i = 0; i < ui->s->nconns; i++) {
		struct bconn *c = ui->s->conns[i];
		const char *label = conn_host(c);
		struct tui_host *h = host_get(ui, label ? label : "?");
		json_object *info = NULL;
		struct berr err = { 0 };
		double v;

		if (c->ops->host_info == NULL)
			continue;
		if (c->ops->host_info(c, &info, &err) < 0) {
			if (h->error == NULL)
				h->error = xasprintf("%s: %s", c->ops->name, err.msg);
			continue;
		}
		/* Several backends on one machine: the one that sees the most
		 * memory (the whole machine rather than a test node or a cgroup)
		 * speaks for total and used memory. */
		v = json_num(info, k_cpus, 0);
		if (v > h->cpus)
			h->cpus = (int)v;
		v = json_num(info, k_mem, 0);
		if (v > 0 && (uint64_t)v >= h->mem_kib) {
			double used = json_num(info, k_used, -1);

			if (used < 0) {
				double fr = json_num(info, k_free, -1);

				if (fr >= 0 && fr <= v)
					used = v - fr;
			}
			h->mem_kib = (uint64_t)v;
			h->mem_used_kib = used;
		}
		v = json_num(info, k_cpu, -1);
		if (v >= 0)
			h->cpu_pct = v;
		json_object_put(info);
	}
	for (i = 0; i < ui->list.n; i++) {
		struct instance *inst = ui->list.v[i];
		struct tui_host *h = host_get(ui, inst->host ? inst->host : "?");

		h->ninst++;
		if (inst->state == INST_RUNNING || inst->state == INST_PAUSED) {
			h->nrunning++;
			h->alloc_vcpus += inst->vcpus;
			h->alloc_mem_kib += inst->memory_kib;
		}
	}
	/* Hosts known only from the instance list carry this machine's CPUs
	 * when they are local. */
	for (i = 0; i < ui->nhosts; i++) {
		struct tui_host *h = &ui->hosts[i];
		double tot = -1, used = -1;

		if (strcmp(h->label, "localhost") != 0)
			continue;
		if (h->cpus == 0)
			h->cpus = ui->s->host_cpus;
		if (h->cpu_pct < 0)
			h->cpu_pct = local_cpu_pct();
		if (h->mem_used_kib < 0) {
			local_mem(&tot, &used);
			if (h->mem_kib == 0 && tot > 0)
				h->mem_kib = (uint64_t)tot;
			/* only when the backend's total is this machine's */
			if (tot > 0 && fabs((double)h->mem_kib - tot) < tot / 50)
				h->mem_used_kib = used;
		}
	}
}

/* ---- filter and sort ---- */

static int
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (hay == NULL)
		return 0;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

static int
filter_match(struct tui *ui, const struct instance *inst)
{
	const char *f = ui->filter.buf;

	if (*f == '\0')
		return 1;
	if (strpbrk(f, "*?[") != NULL)
		return glob_match(f, inst->name);
	return contains_ci(inst->name, f) || contains_ci(inst->host, f) ||
	       contains_ci(inst->backend ? inst->backend->name : NULL, f) ||
	       contains_ci(inst_state_name(inst->state), f) ||
	       strcasecmp(inst_kind_name(inst->kind), f) == 0;
}

static struct tui *sort_ui;	/* qsort has no context argument */

static int
cmp_num(double a, double b)
{
	int an = isnan(a), bn = isnan(b);

	if (an || bn)
		return an - bn;
	return a < b ? -1 : a > b;
}

static double
rate_of(struct tui *ui, size_t i, enum tui_col c)
{
	const struct inst_rates *r = &ui->rates[i];

	if (!ui->samples[i].valid)
		return NAN;
	switch (c) {
	case COL_CPU:
	case COL_SPARK:
		return r->cpu_pct_vcpus;
	case COL_MEMUSE:
		return r->mem_used_kib;
	case COL_DISK:
		return r->blk_rd_bps + r->blk_wr_bps;
	case COL_NET:
		return r->net_rx_bps + r->net_tx_bps;
	default:
		return NAN;
	}
}

static int
cmp_rows(const void *pa, const void *pb)
{
	struct tui *ui = sort_ui;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const struct instance *x = ui->list.v[a], *y = ui->list.v[b];
	int r = 0;

	if (ui->group_by_host) {
		r = strcmp(x->host ? x->host : "", y->host ? y->host : "");
		if (r)
			return r;
	}
	switch (ui->sort_col) {
	case COL_NAME:
		break;
	case COL_KIND:
		r = (int)x->kind - (int)y->kind;
		break;
	case COL_BACKEND:
		r = strcmp(x->backend ? x->backend->name : "", y->backend ? y->backend->name : "");
		break;
	case COL_HOST:
		r = strcmp(x->host ? x->host : "", y->host ? y->host : "");
		break;
	case COL_STATE:
		r = (int)x->state - (int)y->state;
		break;
	case COL_VCPUS:
		r = x->vcpus - y->vcpus;
		break;
	case COL_MEM:
		r = cmp_num((double)x->memory_kib, (double)y->memory_kib);
		break;
	case COL_UPTIME:
		/* longest running first when ascending makes little sense: use start time */
		r = cmp_num(x->started ? (double)-x->started : NAN, y->started ? (double)-y->started : NAN);
		break;
	default: {
		double ra = rate_of(ui, a, ui->sort_col), rb = rate_of(ui, b, ui->sort_col);

		/* no data sorts last whichever the direction */
		if (isnan(ra) != isnan(rb))
			return isnan(ra) ? 1 : -1;
		r = cmp_num(ra, rb);
		break;
	}
	}
	if (r == 0)
		r = strcmp(x->name, y->name);
	if (ui->sort_desc)
		r = -r;
	if (r == 0)
		r = a < b ? -1 : a > b;
	return r;
}

size_t
dash_index_of_key(struct tui *ui, const char *key)
{
	size_t i;

	if (key == NULL)
		return (size_t)-1;
	for (i = 0; i < ui->norder; i++)
		if (strcmp(ui->keys[ui->order[i]], key) == 0)
			return i;
	return (size_t)-1;
}

/* Recompute the visible rows after the list, filter, sort or grouping
 * changed, keeping the cursor on the same instance when it is still there. */
void
dash_rebuild(struct tui *ui)
{
	size_t i, n = 0, pos;

	free(ui->order);
	free(ui->disp);
	free(ui->order_disp);
	ui->order = xcalloc(ui->list.n + 1, sizeof *ui->order);
	for (i = 0; i < ui->list.n; i++)
		if (filter_match(ui, ui->list.v[i]))
			ui->order[n++] = i;
	ui->norder = n;
	sort_ui = ui;
	qsort(ui->order, n, sizeof *ui->order, cmp_rows);
	sort_ui = NULL;

	ui->disp = xcalloc(2 * n + 1, sizeof *ui->disp);
	ui->order_disp = xcalloc(n + 1, sizeof *ui->order_disp);
	ui->ndisp = 0;
	for (i = 0; i < n; i++) {
		const char *h = ui->list.v[ui->order[i]]->host;

		if (ui->group_by_host &&
		    (i == 0 || strcmp(h ? h : "", ui->list.v[ui->order[i - 1]]->host ?
				      ui->list.v[ui->order[i - 1]]->host : "") != 0))
			ui->disp[ui->ndisp++] = -1 - (long)i;
		ui->order_disp[i] = ui->ndisp;
		ui->disp[ui->ndisp++] = (long)i;
	}

	pos = dash_index_of_key(ui, ui->cursor_key);
	if (pos != (size_t)-1)
		ui->cursor = pos;
	if (ui->cursor >= n)
		ui->cursor = n ? n - 1 : 0;
	free(ui->cursor_key);
	ui->cursor_key = n ? xstrdup(ui->keys[ui->order[ui->cursor]]) : NULL;
	ui->dirty = 1;
}

struct instance *
dash_cursor_inst(struct tui *ui)
{
	if (ui->norder == 0 || ui->cursor >= ui->norder)
		return NULL;
	return ui->list.v[ui->order[ui->cursor]];
}

void
dash_move(struct tui *ui, long delta)
{
	long c = (long)ui->cursor + delta;

	if (ui->norder == 0)
		return;
	if (c < 0)
		c = 0;
	if (c >= (long)ui->norder)
		c = (long)ui->norder - 1;
	ui->cursor = (size_t)c;
	free(ui->cursor_key);
	ui->cursor_key = xstrdup(ui->keys[ui->order[ui->cursor]]);
	ui->dirty = 1;
}

/* ---- selection (by instance key, so it survives refreshes) ---- */

int
dash_is_selected(struct tui *ui, const char *key)
{
	size_t i;

	for (i = 0; i < ui->nsel; i++)
		if (strcmp(ui->sel[i], key) == 0)
			return 1;
	return 0;
}

void
dash_toggle_select(struct tui *ui, const char *key)
{
	size_t i;

	for (i = 0; i < ui->nsel; i++)
		if (strcmp(ui->sel[i], key) == 0) {
			free(ui->sel[i]);
			ui->sel[i] = ui->sel[--ui->nsel];
			return;
		}
	ui->sel = xrealloc(ui->sel, (ui->nsel + 1) * sizeof *ui->sel);
	ui->sel[ui->nsel++] = xstrdup(key);
}

void
dash_clear_selection(struct tui *ui)
{
	size_t i;

	for (i = 0; i < ui->nsel; i++)
		free(ui->sel[i]);
	free(ui->sel);
	ui->sel = NULL;
	ui->nsel = 0;
}

/* ---- drawing ---- */

static enum tui_color
state_color(enum inst_state s)
{
	switch (s) {
	case INST_RUNNING:
		return CP_RUNNING;
	case INST_PAUSED:
	case INST_SHUTDOWN:
		return CP_PAUSED;
	case INST_CRASHED:
		return CP_CRASHED;
	default:
		return CP_STOPPED;
	}
}

/* Mark the plugin columns that still fit as shown (placed later). */
static void
fit_plugin_columns(int *used, int avail)
{
	size_t i;

	for (i = 0; i < npcol; i++)
		if (*used + 1 + pcol_w[i] <= avail) {
			pcol_x[i] = 0;
			*used += 1 + pcol_w[i];
		}
}

/* Choose which columns fit: keep the most important ones (the `columns`
 * option's order, or the built-in priorities), give the name what is left
 * (up to a limit). */
static void
layout_columns(struct tui *ui)
{
	const char *const *chosen = option_list("columns");
	int avail = ui->cols - 2, used, i, p, x;
	int shown[COL_MAX] = { 0 };

	shown[COL_NAME] = 1;
	used = cols[COL_NAME].width;
	npcol = script_column_count ? script_column_count() : 0;
	if (npcol > PCOL_MAX)
		npcol = PCOL_MAX;
	for (i = 0; i < (int)npcol; i++) {
		pcol_w[i] = script_column_width ? script_column_width(i) : 0;
		if (pcol_w[i] < 1)
			pcol_w[i] = 8;
		pcol_x[i] = -1;
	}
	if (chosen != NULL && chosen[0] != NULL) {
		for (; *chosen != NULL; chosen++) {
			i = col_from_name(*chosen);
			if (i > 0 && !shown[i] && used + 1 + cols[i].width <= avail) {
				shown[i] = 1;
				used += 1 + cols[i].width;
			}
		}
		fit_plugin_columns(&used, avail);
	} else {
		for (p = 1; p <= 8; p++) {
			for (i = 1; i < COL_MAX; i++)
				if (cols[i].prio == p && used + 1 + cols[i].width <= avail) {
					shown[i] = 1;
					used += 1 + cols[i].width;
				}
			if (p == PCOL_PRIO)
				fit_plugin_columns(&used, avail);
		}
	}
	x = 2;
	for (i = 0; i < COL_MAX; i++) {
		ui->col_x[i] = -1;
		ui->col_w[i] = 0;
		if (!shown[i])
			continue;
		ui->col_w[i] = cols[i].width;
		if (i == COL_NAME) {
			int extra = avail - used;

			if (extra > 28)
				extra = 28;
			ui->col_w[i] += extra;
		}
		ui->col_x[i] = x;
		x += ui->col_w[i] + 1;
	}
	for (i = 0; i < (int)npcol; i++)
		if (pcol_x[i] == 0) {
			pcol_x[i] = x;
			x += pcol_w[i] + 1;
		}
	ui->col_x[COL_MAX] = x;
}

/* The plugin columns of one row: only visible rows are asked, so a slow
 * plugin costs per frame what the screen shows, not per instance. */
static void
draw_plugin_cells(struct tui *ui, int y, const struct instance *inst)
{
	char buf[256];
	size_t i;

	for (i = 0; i < npcol; i++) {
		struct berr err = { 0 };

		if (pcol_x[i] < 0)
			continue;
		buf[0] = '\0';
		if (script_column_value == NULL || script_column_value(i, inst, buf, sizeof buf, &err) < 0)
			snprintf(buf, sizeof buf, "?");
		draw_text(ui, y, pcol_x[i], buf, pcol_w[i], 1);
	}
}

static void
draw_cell(struct tui *ui, int y, enum tui_col c, const char *text)
{
	int w = ui->col_w[c], x = ui->col_x[c], tw;

	if (x < 0)
		return;
	if (cols[c].right) {
		tw = text_width(text);
		if (tw < w) {
			mvhline(y, x, ' ', w - tw);
			draw_text(ui, y, x + w - tw, text, tw, 0);
			return;
		}
	}
	draw_text(ui, y, x, text, w, 1);
}

static void
fmt_pair(char *buf, size_t len, double a, double b)
{
	char x[16], y[16];

	if (isnan(a) || isnan(b)) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_bytes(x, sizeof x, a);
	fmt_bytes(y, sizeof y, b);
	snprintf(buf, len, "%s/%s", x, y);
}

static void
draw_row(struct tui *ui, int y, size_t oi, int is_cursor)
{
	size_t li = ui->order[oi];
	const struct instance *inst = ui->list.v[li];
	const struct inst_rates *r = &ui->rates[li];
	int valid = ui->samples[li].valid;
	int sel = dash_is_selected(ui, ui->keys[li]);
	attr_t base = is_cursor ? draw_attr(ui, CP_CURSOR) : sel ? draw_attr(ui, CP_SELECTED) : A_NORMAL;
	char buf[64];

	attrset(base);
	mvhline(y, 0, ' ', ui->cols);
	mvaddstr(y, 0, sel ? (ui->utf8 ? "\u25cf" : "*") : " ");
	draw_cell(ui, y, COL_NAME, inst->name);
	draw_cell(ui, y, COL_KIND, inst_kind_name(inst->kind));
	draw_cell(ui, y, COL_BACKEND, inst->backend ? inst->backend->name : "?");
	draw_cell(ui, y, COL_HOST, inst->host ? inst->host : "?");
	if (ui->col_x[COL_STATE] >= 0) {
		if (!is_cursor)
			attron(draw_attr(ui, state_color(inst->state)));
		draw_cell(ui, y, COL_STATE, inst_state_name(inst->state));
		attrset(base);
	}
	snprintf(buf, sizeof buf, "%d", inst->vcpus);
	draw_cell(ui, y, COL_VCPUS, inst->vcpus > 0 ? buf : "-");
	fmt_bytes(buf, sizeof buf, (double)inst->memory_kib * 1024);
	draw_cell(ui, y, COL_MEM, inst->memory_kib ? buf : "-");
	if (valid && !isnan(r->cpu_pct_vcpus))
		snprintf(buf, sizeof buf, "%.1f", r->cpu_pct_vcpus);
	else
		snprintf(buf, sizeof buf, "-");
	draw_cell(ui, y, COL_CPU, buf);
	if (ui->col_x[COL_SPARK] >= 0) {
		struct series *ser = metrics_store_get(ui->s->metrics, ui->keys[li], 0);
		float v[32];
		size_t n = 0;
		int step;
		int w = ui->col_w[COL_SPARK];

		if (ser != NULL && w <= 32)
			n = series_get(&ser[METRIC_CPU], (int64_t)time(NULL), w, v, w, &step);
		if (!is_cursor)
			attron(draw_attr(ui, CP_GRAPH));
		if (n > 0)
			draw_sparkline(ui, y, ui->col_x[COL_SPARK], w, v, n, 100);
		attrset(base);
	}
	if (valid)
		fmt_bytes(buf, sizeof buf, r->mem_used_kib * 1024);
	draw_cell(ui, y, COL_MEMUSE, valid ? buf : "-");
	if (ui->col_x[COL_DISK] >= 0) {
		fmt_pair(buf, sizeof buf, valid ? r->blk_rd_bps : NAN, r->blk_wr_bps);
		draw_cell(ui, y, COL_DISK, buf);
	}
	if (ui->col_x[COL_NET] >= 0) {
		fmt_pair(buf, sizeof buf, valid ? r->net_rx_bps : NAN, r->net_tx_bps);
		draw_cell(ui, y, COL_NET, buf);
	}
	if (inst->started > 0 && (inst->state == INST_RUNNING || inst->state == INST_PAUSED))
		fmt_duration(buf, sizeof buf, (int64_t)time(NULL) - inst->started);
	else
		snprintf(buf, sizeof buf, "-");
	draw_cell(ui, y, COL_UPTIME, buf);
	draw_plugin_cells(ui, y, inst);
	attrset(A_NORMAL);
}

/* One line per host: "node1  cpu 12%/16  mem 3.1G/24G  alloc vcpu 20/16 1.2x
 * mem 8G/24G 0.3x  3/5 up", the ratios highlighted past overcommit_warn. */
static int
draw_host(struct tui *ui, int y, const struct tui_host *h)
{
	long thr = tui_opt_int("overcommit_warn", 150);
	char a[16], b[16];
	int x = 0, w = ui->cols, lw = text_width(h->label);
	double vr, mr;
	attr_t warn = draw_attr(ui, CP_WARN) | A_REVERSE;

	if (thr <= 0)
		thr = 150;
	if (lw > 16)
		lw = 16;
	attron(A_BOLD);
	x += draw_text(ui, y, x, h->label, lw, 1);
	attroff(A_BOLD);
	if (h->cpu_pct >= 0)
		x += draw_textf(ui, y, x, w - x, "  cpu %.0f%%", h->cpu_pct);
	else
		x += draw_text(ui, y, x, "  cpu ?", w - x, 0);
	if (h->cpus > 0)
		x += draw_textf(ui, y, x, w - x, "/%d", h->cpus);
	if (h->mem_kib > 0) {
		fmt_bytes(b, sizeof b, (double)h->mem_kib * 1024);
		if (h->mem_used_kib >= 0) {
			fmt_bytes(a, sizeof a, h->mem_used_kib * 1024);
			x += draw_textf(ui, y, x, w - x, "  mem %s/%s", a, b);
		} else {
			x += draw_textf(ui, y, x, w - x, "  mem %s", b);
		}
	}
	x += draw_text(ui, y, x, "  alloc", w - x, 0);
	vr = h->cpus > 0 ? (double)h->alloc_vcpus / h->cpus : 0;
	if (h->cpus > 0 && vr * 100 > thr)
		attron(warn);
	if (h->cpus > 0)
		x += draw_textf(ui, y, x, w - x, " vcpu %d/%d %.1fx", h->alloc_vcpus, h->cpus, vr);
	else
		x += draw_textf(ui, y, x, w - x, " vcpu %d", h->alloc_vcpus);
	attroff(warn);
	fmt_bytes(a, sizeof a, (double)h->alloc_mem_kib * 1024);
	mr = h->mem_kib > 0 ? (double)h->alloc_mem_kib / h->mem_kib : 0;
	x += draw_text(ui, y, x, " ", w - x, 0);
	if (h->mem_kib > 0 && mr * 100 > thr)
		attron(warn);
	if (h->mem_kib > 0)
		x += draw_textf(ui, y, x, w - x, "mem %s %.1fx", a, mr);
	else
		x += draw_textf(ui, y, x, w - x, "mem %s", a);
	attroff(warn);
	{
		/* the count only when it fits whole (the title has the totals) */
		char cnt[48];

		snprintf(cnt, sizeof cnt, "  %d/%d up", h->nrunning, h->ninst);
		if (x + text_width(cnt) <= w)
			x += draw_text(ui, y, x, cnt, w - x, 0);
	}
	if (h->error) {
		attron(draw_attr(ui, CP_ERROR));
		draw_textf(ui, y, x, w - x, "  ! %s", h->error);
		attroff(draw_attr(ui, CP_ERROR));
	}
	return 1;
}

void
dash_draw(struct tui *ui)
{
	int y = 0, maxhosts, maxfail, i, nrun = 0, body;
	size_t k, nfail = ui->nconn_shown + ui->ntick_failures;
	char clock[16], title[1024];
	time_t t = time(NULL);
	struct tm tm;

	for (k = 0; k < ui->list.n; k++)
		if (ui->list.v[k]->state == INST_RUNNING)
			nrun++;
	localtime_r(&t, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	snprintf(title, sizeof title, " berth  %zu instances, %d running  sort:%s%s%s%s%s%s",
		 ui->list.n, nrun, col_title(ui->sort_col), ui->sort_desc ? "-" : "+",
		 ui->filter.buf[0] ? "  filter:" : "", ui->filter.buf,
		 ui->group_by_host ? "  by host" : "", "");
	if (ui->nsel) {
		size_t len = strlen(title);

		snprintf(title + len, sizeof title - len, "  %zu selected", ui->nsel);
	}
	attron(draw_attr(ui, CP_TITLE));
	draw_text(ui, 0, 0, title, ui->cols, 1);
	if (ui->cols > 30)
		draw_text(ui, 0, ui->cols - 9, clock, 9, 0);
	attroff(draw_attr(ui, CP_TITLE));
	y = 1;

	body = ui->rows - 3;	/* title, table header, status */
	maxhosts = body / 5;
	if (maxhosts < 1)
		maxhosts = 1;
	for (k = 0; k < ui->nhosts && (int)k < maxhosts; k++)
		y += draw_host(ui, y, &ui->hosts[k]);
	if (ui->nhosts > (size_t)maxhosts)
		y += draw_textf(ui, y, 0, ui->cols, "  +%zu more hosts", ui->nhosts - maxhosts) ? 1 : 0;
	maxfail = body / 6;
	if (maxfail < 1)
		maxfail = 1;
	for (k = 0, i = 0; k < nfail && i < maxfail; k++, i++) {
		const char *f = k < ui->nconn_shown ? ui->conn_failures[k] :
				ui->tick_failures[k - ui->nconn_shown];

		attron(draw_attr(ui, CP_ERROR));
		if (i == maxfail - 1 && nfail > (size_t)maxfail) {
			draw_textf(ui, y++, 0, ui->cols, "! %s (+%zu more: press !)", f, nfail - maxfail);
		} else if (text_width(f) + 2 > ui->cols && ui->cols > 20) {
			/* cut: say where the whole message is */
			char *line = xasprintf("! %s", f);

			draw_text(ui, y, 0, line, ui->cols - 12, 1);
			draw_text(ui, y++, ui->cols - 12, " [! = full]", 12, 1);
			free(line);
		} else {
			draw_textf(ui, y++, 0, ui->cols, "! %s", f);
		}
		attroff(draw_attr(ui, CP_ERROR));
	}

	layout_columns(ui);
	ui->header_y = y;
	attron(draw_attr(ui, CP_HEADER));
	mvhline(y, 0, ' ', ui->cols);
	for (i = 0; i < COL_MAX; i++) {
		char ht[32];

		if (ui->col_x[i] < 0)
			continue;
		snprintf(ht, sizeof ht, "%s%s", cols[i].title,
			 (int)ui->sort_col == i ? (ui->sort_desc ? (ui->utf8 ? "\u25bc" : "v") :
						    (ui->utf8 ? "\u25b2" : "^")) : "");
		if ((int)ui->sort_col == i)
			attron(A_BOLD | A_UNDERLINE);
		if (cols[i].right && text_width(ht) < ui->col_w[i])
			draw_text(ui, y, ui->col_x[i] + ui->col_w[i] - text_width(ht), ht, ui->col_w[i], 0);
		else
			draw_text(ui, y, ui->col_x[i], ht, ui->col_w[i], 0);
		attroff(A_BOLD | A_UNDERLINE);
	}
	for (i = 0; i < (int)npcol; i++)
		if (pcol_x[i] >= 0 && script_column_name)
			draw_text(ui, y, pcol_x[i], script_column_name(i) ?: "?", pcol_w[i], 0);
	attroff(draw_attr(ui, CP_HEADER));
	y++;

	ui->table_y = y;
	ui->table_h = ui->rows - 1 - y;
	if (ui->table_h < 1)
		return;
	if (ui->norder == 0) {
		const char *why = ui->list.n ? "No instance matches the filter (Esc in / clears it)." :
			nfail ? "No instances: some backends failed (above; ! shows all)." :
				"No instances.  n creates one; : runs a command.";

		draw_text(ui, y + 1, 2, why, ui->cols - 2, 0);
		return;
	}
	{
		size_t cd = ui->order_disp[ui->cursor];
		size_t h = (size_t)ui->table_h, d;

		if (cd < ui->top)
			ui->top = cd;
		if (cd >= ui->top + h)
			ui->top = cd - h + 1;
		/* keep a group header visible above the first row when possible */
		if (ui->top > 0 && ui->top == cd && ui->disp[cd - 1] < 0)
			ui->top--;
		if (ui->top + h > ui->ndisp)
			ui->top = ui->ndisp > h ? ui->ndisp - h : 0;
		for (d = ui->top; d < ui->ndisp && d < ui->top + h; d++, y++) {
			long e = ui->disp[d];

			if (e < 0) {
				const struct instance *f = ui->list.v[ui->order[-1 - e]];
				size_t cnt = 0, j;

				for (j = (size_t)(-1 - e); j < ui->norder; j++) {
					const char *hh = ui->list.v[ui->order[j]]->host;

					if (strcmp(hh ? hh : "", f->host ? f->host : "") != 0)
						break;
					cnt++;
				}
				attron(A_BOLD);
				draw_hline(ui, y, 0, ui->cols);
				draw_textf(ui, y, 2, ui->cols - 4, " %s (%zu) ", f->host ? f->host : "?", cnt);
				attroff(A_BOLD);
				continue;
			}
			draw_row(ui, y, (size_t)e, (size_t)e == ui->cursor);
		}
	}
}

/* Mouse: click a header to sort by that column, click a row to move there,
 * double-click to open it, wheel to scroll. */
void
dash_mouse(struct tui *ui)
{
	MEVENT me;
	int i;

	if (getmouse(&me) != OK || ui->view != VIEW_DASH)
		return;
	if (me.bstate & BUTTON4_PRESSED) {
		dash_move(ui, -3);
		return;
	}
	if (me.bstate & BUTTON5_PRESSED) {
		dash_move(ui, 3);
		return;
	}
	if (me.y == ui->header_y) {
		for (i = 0; i < COL_MAX; i++)
			if (ui->col_x[i] >= 0 && me.x >= ui->col_x[i] && me.x < ui->col_x[i] + ui->col_w[i]) {
				if ((int)ui->sort_col == i)
					ui->sort_desc = !ui->sort_desc;
				ui->sort_col = i;
				dash_rebuild(ui);
			}
		return;
	}
	if (me.y >= ui->table_y && me.y < ui->table_y + ui->table_h) {
		size_t d = ui->top + (size_t)(me.y - ui->table_y);

		if (d < ui->ndisp && ui->disp[d] >= 0) {
			dash_move(ui, ui->disp[d] - (long)ui->cursor);
			if (me.bstate & BUTTON1_DOUBLE_CLICKED) {
				free(ui->detail_key);
				ui->detail_key = xstrdup(ui->cursor_key);
				tui_set_view(ui, VIEW_DETAIL);
			}
		}
	}
}
