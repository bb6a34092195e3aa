/*
 * detail.c - one instance in detail: what it is and where, and graphs of
 * CPU, memory, disk read/write and network rx/tx over 1 minute, 10 minutes
 * or 24 hours from the metrics history, with axes and units.
 *
 * Not for: collecting the samples (the stats timer in tui.c does, through
 * session_poll_stats) or plotting itself (draw.c).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "tui/tui-internal.h"

struct instance *
detail_inst(struct tui *ui)
{
	size_t i;

	if (ui->detail_key == NULL)
		return NULL;
	for (i = 0; i < ui->list.n; i++)
		if (strcmp(ui->keys[i], ui->detail_key) == 0)
			return ui->list.v[i];
	return NULL;
}

static size_t
detail_index(struct tui *ui)
{
	size_t i;

	for (i = 0; i < ui->list.n; i++)
		if (strcmp(ui->keys[i], ui->detail_key) == 0)
			return i;
	return (size_t)-1;
}

static const char *
span_name(int span)
{
	return span <= 60 ? "1 min" : span <= 600 ? "10 min" : "24 h";
}

typedef const char *(*fmt_fn)(char *buf, size_t len, double v);

static const char *
fmt_pct(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.0f%%", v);
	return buf;
}

static const char *
fmt_kib(char *buf, size_t len, double v)
{
	return fmt_bytes(buf, len, v * 1024);
}

static const char *
fmt_bps(char *buf, size_t len, double v)
{
	char t[16];

	fmt_bytes(t, sizeof t, v);
	snprintf(buf, len, "%s/s", t);
	return buf;
}

/* One graph: a title line (name, last value, extra), then h rows with the
 * y axis labels (max at the top, 0 at the bottom) on the left and the time
 * axis in the title. */
static void
graph(struct tui *ui, int y, int x, int h, int w, struct series *ser, enum metric_id m,
      const char *title, fmt_fn fmt, double fixed_max, const char *extra, enum tui_color color)
{
	float *v;
	size_t n = 0;
	int step = 1, axis = 8, pw;
	double last = NAN, max;
	char a[32], b[32];

	if (h < 2 || w < axis + 4)
		return;
	pw = w - axis - 1;
	/* points: one per pixel column at most; series_get resamples by span */
	v = xcalloc(SERIES_COARSE_SLOTS + 1, sizeof *v);
	if (ser != NULL) {
		size_t want = ui->detail_span <= 600 ? (size_t)ui->detail_span : (size_t)ui->detail_span / 60;

		if (want > SERIES_COARSE_SLOTS)
			want = SERIES_COARSE_SLOTS;
		n = series_get(&ser[m], (int64_t)time(NULL), ui->detail_span, v, want, &step);
		last = series_last(&ser[m]);
	}
	attron(A_BOLD);
	draw_text(ui, y, x, title, w, 0);
	attroff(A_BOLD);
	{
		int tw = text_width(title) + 1;

		if (!isnan(last))
			tw += draw_textf(ui, y, x + tw, w - tw, " %s", fmt(a, sizeof a, last));
		else
			tw += draw_text(ui, y, x + tw, " -", w - tw, 0);
		if (extra && *extra)
			tw += draw_textf(ui, y, x + tw, w - tw, "  %s", extra);
		snprintf(b, sizeof b, "-%s..now", span_name(ui->detail_span));
		if (tw + text_width(b) + 2 < w) {
			attron(draw_attr(ui, CP_DIM));
			draw_text(ui, y, x + w - text_width(b), b, text_width(b), 0);
			attroff(draw_attr(ui, CP_DIM));
		}
	}
	max = draw_graph(ui, y + 1, x + axis + 1, h - 1, pw, v, n, fixed_max, color);
	attron(draw_attr(ui, CP_DIM));
	draw_text(ui, y + 1, x, fmt(a, sizeof a, max), axis, 0);
	if (h > 2)
		draw_text(ui, y + h - 1, x, fmt(a, sizeof a, 0), axis, 0);
	mvvline(y + 1, x + axis, ui->utf8 ? ACS_VLINE : '|', h - 1);
	attroff(draw_attr(ui, CP_DIM));
	if (n == 0)
		draw_text(ui, y + h / 2, x + axis + 2, "no samples yet", pw - 1, 0);
	free(v);
}

void
detail_draw(struct tui *ui)
{
	struct instance *inst = detail_inst(ui);
	size_t li;
	struct series *ser;
	const struct inst_rates *r = NULL;
	int y = 0, gh, half, avail;
	char buf[256], t1[32], t2[32], t3[32];

	attron(draw_attr(ui, CP_TITLE));
	mvhline(0, 0, ' ', ui->cols);
	snprintf(buf, sizeof buf, " %s", inst ? inst->name : ui->detail_key ? ui->detail_key : "?");
	draw_text(ui, 0, 0, buf, ui->cols, 0);
	snprintf(buf, sizeof buf, "[%s] 1/2/3 span  c console  h back ", span_name(ui->detail_span));
	if (text_width(buf) + 20 < ui->cols)
		draw_text(ui, 0, ui->cols - text_width(buf), buf, ui->cols, 0);
	attroff(draw_attr(ui, CP_TITLE));
	y = 1;
	if (inst == NULL) {
		draw_text(ui, 2, 2, "This instance is no longer listed (h goes back).", ui->cols - 2, 0);
		return;
	}
	li = detail_index(ui);
	if (li != (size_t)-1 && ui->samples[li].valid)
		r = &ui->rates[li];
	fmt_bytes(t1, sizeof t1, (double)inst->memory_kib * 1024);
	draw_textf(ui, y++, 1, ui->cols - 1, "%s on %s via %s   state %s%s%s%s   vcpus %d   memory %s",
		   inst->kind == INST_VM ? "VM" : "container", inst->host ? inst->host : "?",
		   inst->backend ? inst->backend->name : "?", inst_state_name(inst->state),
		   inst->reason ? " (" : "", inst->reason ? inst->reason : "",
		   inst->reason ? ")" : "", inst->vcpus, t1);
	t2[0] = t3[0] = '\0';
	if (inst->started > 0 && (inst->state == INST_RUNNING || inst->state == INST_PAUSED))
		fmt_duration(t2, sizeof t2, (int64_t)time(NULL) - inst->started);
	if (inst->created > 0) {
		time_t c = (time_t)inst->created;
		struct tm tm;

		localtime_r(&c, &tm);
		strftime(t3, sizeof t3, "%Y-%m-%d %H:%M", &tm);
	}
	{
		/* the uuid whole or not at all: on a line of its own when the
		 * line is too narrow for it (80 columns: every uptime) */
		char line[256];
		int n = snprintf(line, sizeof line, "uptime %s   created %s   uuid %s", t2[0] ? t2 : "-",
				 t3[0] ? t3 : "-", inst->uuid[0] ? inst->uuid : "-");

		if (n >= 0 && n <= ui->cols - 2) {
			draw_text(ui, y++, 1, line, ui->cols - 1, 0);
		} else {
			draw_textf(ui, y++, 1, ui->cols - 1, "uptime %s   created %s", t2[0] ? t2 : "-",
				   t3[0] ? t3 : "-");
			if (ui->rows > 24)
				draw_textf(ui, y++, 1, ui->cols - 1, "uuid %s", inst->uuid[0] ? inst->uuid : "-");
		}
	}
	if (inst->reason && ui->rows > 30)
		draw_textf(ui, y++, 1, ui->cols - 1, "reason: %s", inst->reason);

	ser = metrics_store_get(ui->s->metrics, ui->detail_key, 0);
	avail = ui->rows - 1 - y;	/* status line */
	if (avail < 8) {
		draw_text(ui, y + 1, 1, "(terminal too small for graphs)", ui->cols - 1, 0);
		return;
	}
	/* rows: cpu, memory, disk r|w, net rx|tx */
	gh = avail / 4;
	half = ui->cols / 2;
	{
		char extra[64] = "";

		if (r && inst->vcpus > 0)
			snprintf(extra, sizeof extra, "of %d vCPU%s; %.1f%% of the host", inst->vcpus,
				 inst->vcpus == 1 ? "" : "s", r->cpu_pct_host);
		else if (r)
			snprintf(extra, sizeof extra, "%.1f%% of the host", r->cpu_pct_host);
		graph(ui, y, 0, gh, ui->cols, ser, METRIC_CPU, "CPU", fmt_pct, 100, extra, CP_GRAPH);
	}
	y += gh;
	{
		char extra[64] = "";

		if (r && inst->memory_kib) {
			fmt_bytes(t1, sizeof t1, (double)inst->memory_kib * 1024);
			snprintf(extra, sizeof extra, "of %s", t1);
		}
		graph(ui, y, 0, gh, ui->cols, ser, METRIC_MEM, "Memory", fmt_kib,
		      inst->memory_kib ? (double)inst->memory_kib : 0, extra, CP_GRAPH2);
	}
	y += gh;
	graph(ui, y, 0, gh, half - 1, ser, METRIC_BLK_RD, "Disk read", fmt_bps, 0, NULL, CP_GRAPH);
	graph(ui, y, half, gh, ui->cols - half, ser, METRIC_BLK_WR, "Disk write", fmt_bps, 0, NULL, CP_GRAPH2);
	y += gh;
	graph(ui, y, 0, gh, half - 1, ser, METRIC_NET_RX, "Net rx", fmt_bps, 0, NULL, CP_GRAPH);
	graph(ui, y, half, gh, ui->cols - half, ser, METRIC_NET_TX, "Net tx", fmt_bps, 0, NULL, CP_GRAPH2);
}
