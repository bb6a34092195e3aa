/*
 * metrics.c - fixed-size metrics history (1 s for 10 min, 1 min for 24 h),
 * a store of series keyed by instance, and rate derivation from samples.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/util.h"

static void
fill_nan(float *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = NAN;
}

void
series_init(struct series *s)
{
	fill_nan(s->fine, SERIES_FINE_SLOTS);
	fill_nan(s->coarse, SERIES_COARSE_SLOTS);
	s->last_sec = -1;
	s->cur_min = -1;
	s->min_sum = 0;
	s->min_count = 0;
	s->last_min = -1;
}

/* Close the minute being accumulated into the coarse ring, clearing any
 * minutes skipped since the previous one. */
static void
series_close_minute(struct series *s)
{
	int64_t m;

	if (s->cur_min < 0 || s->min_count == 0)
		return;
	if (s->last_min >= 0) {
		int64_t gap = s->cur_min - s->last_min - 1;

		if (gap > SERIES_COARSE_SLOTS)
			gap = SERIES_COARSE_SLOTS;
		for (m = 1; m <= gap; m++)
			s->coarse[(s->last_min + m) % SERIES_COARSE_SLOTS] = NAN;
	}
	s->coarse[s->cur_min % SERIES_COARSE_SLOTS] = (float)(s->min_sum / s->min_count);
	s->last_min = s->cur_min;
	s->min_sum = 0;
	s->min_count = 0;
}

void
series_append(struct series *s, int64_t t, double value)
{
	int64_t minute = t / 60, k;

	if (t < 0 || (s->last_sec >= 0 && t < s->last_sec))
		return;
	if (s->last_sec >= 0 && t > s->last_sec) {
		int64_t gap = t - s->last_sec - 1;

		if (gap > SERIES_FINE_SLOTS)
			gap = SERIES_FINE_SLOTS;
		for (k = 1; k <= gap; k++)
			s->fine[(s->last_sec + k) % SERIES_FINE_SLOTS] = NAN;
	}
	if (s->cur_min != minute) {
		series_close_minute(s);
		s->cur_min = minute;
	}
	if (t == s->last_sec && !isnan(s->fine[t % SERIES_FINE_SLOTS]) && s->min_count > 0) {
		/* Replace the earlier sample of this second in the minute sum too. */
		s->min_sum -= s->fine[t % SERIES_FINE_SLOTS];
		s->min_count--;
	}
	s->fine[t % SERIES_FINE_SLOTS] = (float)value;
	s->last_sec = t;
	if (!isnan(value)) {
		s->min_sum += value;
		s->min_count++;
	}
}

size_t
series_get(const struct series *s, int64_t now, int64_t span, float *out, size_t n, int *step)
{
	size_t i, count;

	if (span <= SERIES_FINE_SLOTS) {
		count = (size_t)span < n ? (size_t)span : n;
		for (i = 0; i < count; i++) {
			int64_t t = now - (int64_t)count + 1 + (int64_t)i;

			if (t < 0 || s->last_sec < 0 || t > s->last_sec || t <= s->last_sec - SERIES_FINE_SLOTS)
				out[i] = NAN;
			else
				out[i] = s->fine[t % SERIES_FINE_SLOTS];
		}
		if (step)
			*step = 1;
		return count;
	}
	{
		int64_t mins = (span + 59) / 60, nowmin = now / 60;

		if (mins > SERIES_COARSE_SLOTS)
			mins = SERIES_COARSE_SLOTS;
		count = (size_t)mins < n ? (size_t)mins : n;
		for (i = 0; i < count; i++) {
			int64_t m = nowmin - (int64_t)count + 1 + (int64_t)i;

			if (m == s->cur_min && s->min_count > 0)
				out[i] = (float)(s->min_sum / s->min_count);
			else if (m < 0 || s->last_min < 0 || m > s->last_min ||
				 m <= s->last_min - SERIES_COARSE_SLOTS)
				out[i] = NAN;
			else
				out[i] = s->coarse[m % SERIES_COARSE_SLOTS];
		}
		if (step)
			*step = 60;
		return count;
	}
}

double
series_last(const struct series *s)
{
	if (s->last_sec < 0)
		return NAN;
	return s->fine[s->last_sec % SERIES_FINE_SLOTS];
}

static const char *const metric_names[METRIC_MAX] = {
	[METRIC_CPU] = "cpu",
	[METRIC_CPU_HOST] = "cpu_host",
	[METRIC_MEM] = "mem",
	[METRIC_BLK_RD] = "disk_read",
	[METRIC_BLK_WR] = "disk_write",
	[METRIC_NET_RX] = "net_rx",
	[METRIC_NET_TX] = "net_tx",
};

const char *
metric_name(enum metric_id m)
{
	return (unsigned)m < METRIC_MAX ? metric_names[m] : "?";
}

int
metric_from_name(const char *name)
{
	int i;

	for (i = 0; i < METRIC_MAX; i++)
		if (strcmp(metric_names[i], name) == 0)
			return i;
	return -1;
}

/* ---- the store: open-addressing hash of key -> METRIC_MAX series ---- */

struct ms_entry {
	char *key;		/* NULL empty, MS_TOMB deleted */
	struct series *series;
};

static char ms_tomb_mark;
#define MS_TOMB (&ms_tomb_mark)

struct metrics_store {
	struct ms_entry *slots;
	size_t cap, count, used;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

struct metrics_store *
metrics_store_new(void)
{
	struct metrics_store *ms = xcalloc(1, sizeof *ms);

	ms->cap = 64;
	ms->slots = xcalloc(ms->cap, sizeof *ms->slots);
	return ms;
}

void
metrics_store_free(struct metrics_store *ms)
{
	size_t i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->cap; i++) {
		if (ms->slots[i].key != NULL && ms->slots[i].key != MS_TOMB) {
			free(ms->slots[i].key);
			free(ms->slots[i].series);
		}
	}
	free(ms->slots);
	free(ms);
}

static struct ms_entry *
ms_lookup(struct metrics_store *ms, const char *key, int for_insert)
{
	size_t i = hash_str(key) & (ms->cap - 1);
	struct ms_entry *tomb = NULL;

	for (;;) {
		struct ms_entry *e = &ms->slots[i];

		if (e->key == NULL)
			return for_insert ? (tomb ? tomb : e) : NULL;
		if (e->key == MS_TOMB) {
			if (tomb == NULL)
				tomb = e;
		} else if (strcmp(e->key, key) == 0) {
			return e;
		}
		i = (i + 1) & (ms->cap - 1);
	}
}

static void
ms_grow(struct metrics_store *ms)
{
	struct ms_entry *old = ms->slots;
	size_t oldcap = ms->cap, i;

	/* Double only for live keys; otherwise just drop the tombstones. */
	if (ms->count * 2 >= ms->cap)
		ms->cap *= 2;
	ms->slots = xcalloc(ms->cap, sizeof *ms->slots);
	ms->used = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key != NULL && old[i].key != MS_TOMB) {
			*ms_lookup(ms, old[i].key, 1) = old[i];
			ms->used++;
		}
	}
	free(old);
}

struct series *
metrics_store_get(struct metrics_store *ms, const char *key, int create)
{
	struct ms_entry *e = ms_lookup(ms, key, 0);
	int i;

	if (e != NULL)
		return e->series;
	if (!create)
		return NULL;
	if ((ms->used + 1) * 4 >= ms->cap * 3)
		ms_grow(ms);
	e = ms_lookup(ms, key, 1);
	if (e->key == NULL)
		ms->used++;
	e->key = xstrdup(key);
	e->series = xmalloc(METRIC_MAX * sizeof *e->series);
	for (i = 0; i < METRIC_MAX; i++)
		series_init(&e->series[i]);
	ms->count++;
	return e->series;
}

void
metrics_store_remove(struct metrics_store *ms, const char *key)
{
	struct ms_entry *e = ms_lookup(ms, key, 0);

	if (e == NULL)
		return;
	free(e->key);
	free(e->series);
	e->key = MS_TOMB;
	e->series = NULL;
	ms->count--;
}

size_t
metrics_store_count(const struct metrics_store *ms)
{
	return ms->count;
}

static double
rate(uint64_t a, uint64_t b, double secs)
{
	if (b < a || secs <= 0)
		return 0;
	return (double)(b - a) / secs;
}

void
stats_rates(const struct inst_stats *prev, const struct inst_stats *cur, int host_cpus,
	    struct inst_rates *out)
{
	double secs;

	memset(out, 0, sizeof *out);
	if (cur == NULL || !cur->valid)
		return;
	out->mem_used_kib = (double)cur->mem_used_kib;
	if (prev == NULL || !prev->valid || cur->ts_ms <= prev->ts_ms)
		return;
	secs = (double)(cur->ts_ms - prev->ts_ms) / 1000.0;
	if (cur->cpu_time_ns >= prev->cpu_time_ns) {
		double busy = (double)(cur->cpu_time_ns - prev->cpu_time_ns) / 1e9 / secs;

		if (cur->vcpus > 0)
			out->cpu_pct_vcpus = 100.0 * busy / cur->vcpus;
		if (host_cpus > 0)
			out->cpu_pct_host = 100.0 * busy / host_cpus;
	}
	out->blk_rd_bps = rate(prev->blk_rd_bytes, cur->blk_rd_bytes, secs);
	out->blk_wr_bps = rate(prev->blk_wr_bytes, cur->blk_wr_bytes, secs);
	out->blk_rd_iops = rate(prev->blk_rd_reqs, cur->blk_rd_reqs, secs);
	out->blk_wr_iops = rate(prev->blk_wr_reqs, cur->blk_wr_reqs, secs);
	out->net_rx_bps = rate(prev->net_rx_bytes, cur->net_rx_bytes, secs);
	out->net_tx_bps = rate(prev->net_tx_bytes, cur->net_tx_bytes, secs);
	out->net_rx_pps = rate(prev->net_rx_pkts, cur->net_rx_pkts, secs);
	out->net_tx_pps = rate(prev->net_tx_pkts, cur->net_tx_pkts, secs);
}
