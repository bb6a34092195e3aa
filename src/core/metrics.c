/*
 * metrics.c - fixed-size metrics history (1 s for 10 min, 1 min for 24 h),
 * a store of series keyed by instance, and rate derivation from samples.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dirs.h"
#include "core/metrics.h"
#include "core/util.h"

#define BF16_NAN 0x7fc0

/* float <-> bfloat16, rounding to nearest even; NaN stays NaN. */
static uint16_t
to_bf16(double d)
{
	float f = (float)d;
	uint32_t u;

	if (isnan(f))
		return BF16_NAN;
	memcpy(&u, &f, sizeof u);
	u += 0x7fff + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}

static float
from_bf16(uint16_t b)
{
	uint32_t u = (uint32_t)b << 16;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

static void
fill_nan(uint16_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = BF16_NAN;
}

void
series_init(struct series *s)
{
	fill_nan(s->fine, SERIES_FINE_SLOTS);
	fill_nan(s->coarse, SERIES_COARSE_SLOTS);
	s->last_value = NAN;
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
			s->coarse[(s->last_min + m) % SERIES_COARSE_SLOTS] = BF16_NAN;
	}
	s->coarse[s->cur_min % SERIES_COARSE_SLOTS] = to_bf16(s->min_sum / s->min_count);
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
			s->fine[(s->last_sec + k) % SERIES_FINE_SLOTS] = BF16_NAN;
	}
	if (s->cur_min != minute) {
		series_close_minute(s);
		s->cur_min = minute;
	}
	if (t == s->last_sec && !isnan(s->last_value) && s->min_count > 0) {
		/* Replace the earlier sample of this second in the minute sum too. */
		s->min_sum -= s->last_value;
		s->min_count--;
	}
	s->fine[t % SERIES_FINE_SLOTS] = to_bf16(value);
	s->last_value = value;
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
				out[i] = t == s->last_sec ? (float)s->last_value :
					 from_bf16(s->fine[t % SERIES_FINE_SLOTS]);
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
				out[i] = from_bf16(s->coarse[m % SERIES_COARSE_SLOTS]);
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
	return s->last_value;
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

/* ---- saving and loading a store ---- */

/* The file: a header, then per entry a 16-bit key length, the key and
 * METRIC_MAX packed series.  Host byte order: it is a cache of this host.
 * Version 2 keeps the points as bfloat16, as in memory; version 1 files
 * (floats) are still read. */
#define MS_MAGIC "BERTHMH2"
#define MS_MAGIC_V1 "BERTHMH1"
#define MS_KEY_MAX 1024
#define MS_ENTRIES_MAX 20000

struct ms_header {
	char magic[8];
	uint32_t metrics, fine_slots, coarse_slots, count;
};

struct ms_packed_series {
	uint16_t fine[SERIES_FINE_SLOTS];
	uint16_t coarse[SERIES_COARSE_SLOTS];
	int64_t last_sec, cur_min, last_min;
	double min_sum, last_value;
	uint32_t min_count, pad;
};

struct ms_packed_series_v1 {
	float fine[SERIES_FINE_SLOTS];
	float coarse[SERIES_COARSE_SLOTS];
	int64_t last_sec, cur_min, last_min;
	double min_sum;
	uint32_t min_count, pad;
};

int
metrics_store_save(const struct metrics_store *ms, const char *path, struct berr *err)
{
	struct ms_header h = { .magic = MS_MAGIC, .metrics = METRIC_MAX,
			       .fine_slots = SERIES_FINE_SLOTS, .coarse_slots = SERIES_COARSE_SLOTS };
	size_t i, len = sizeof h, off;
	char *buf;
	int r;

	for (i = 0; i < ms->cap; i++) {
		const struct ms_entry *e = &ms->slots[i];

		if (e->key != NULL && e->key != MS_TOMB && strlen(e->key) <= MS_KEY_MAX) {
			len += 2 + strlen(e->key) + METRIC_MAX * sizeof(struct ms_packed_series);
			h.count++;
		}
	}
	buf = xcalloc(1, len);
	memcpy(buf, &h, sizeof h);
	off = sizeof h;
	for (i = 0; i < ms->cap; i++) {
		const struct ms_entry *e = &ms->slots[i];
		uint16_t kl;

		if (e->key == NULL || e->key == MS_TOMB || strlen(e->key) > MS_KEY_MAX)
			continue;
		kl = (uint16_t)strlen(e->key);
		memcpy(buf + off, &kl, 2);
		memcpy(buf + off + 2, e->key, kl);
		off += 2 + kl;
		for (int m = 0; m < METRIC_MAX; m++) {
			const struct series *s = &e->series[m];
			struct ms_packed_series p = { .last_sec = s->last_sec, .cur_min = s->cur_min,
						      .last_min = s->last_min, .min_sum = s->min_sum,
						      .last_value = s->last_value, .min_count = s->min_count };

			memcpy(p.fine, s->fine, sizeof p.fine);
			memcpy(p.coarse, s->coarse, sizeof p.coarse);
			memcpy(buf + off, &p, sizeof p);
			off += sizeof p;
		}
	}
	r = atomic_write_file(path, buf, len, 0600, err);
	free(buf);
	return r < 0 ? berr_wrap(err, "saving the metrics history") : 0;
}

/* A saved series (either version) back into s; 0 if it is sane, else -1
 * (s untouched). */
static int
series_unpack(struct series *s, const void *raw, int v1, int64_t now)
{
	struct ms_packed_series p;
	int64_t nowmin = now / 60;
	size_t i;

	if (v1) {
		struct ms_packed_series_v1 o;

		memcpy(&o, raw, sizeof o);
		memset(&p, 0, sizeof p);
		for (i = 0; i < SERIES_FINE_SLOTS; i++)
			p.fine[i] = to_bf16(isinf(o.fine[i]) ? NAN : o.fine[i]);
		for (i = 0; i < SERIES_COARSE_SLOTS; i++)
			p.coarse[i] = to_bf16(isinf(o.coarse[i]) ? NAN : o.coarse[i]);
		p.last_sec = o.last_sec;
		p.cur_min = o.cur_min;
		p.last_min = o.last_min;
		p.min_sum = o.min_sum;
		p.min_count = o.min_count;
		p.last_value = o.last_sec >= 0 ? o.fine[o.last_sec % SERIES_FINE_SLOTS] : NAN;
	} else {
		memcpy(&p, raw, sizeof p);
	}
	if (p.last_sec < -1 || p.last_sec > now + 60 || p.cur_min < -1 || p.cur_min > nowmin + 1 ||
	    p.last_min < -1 || p.last_min > p.cur_min || p.min_count > 120 ||
	    !isfinite(p.min_sum) || isinf(p.last_value) ||
	    (p.last_sec >= 0 && p.cur_min != p.last_sec / 60))
		return -1;
	memcpy(s->fine, p.fine, sizeof s->fine);
	memcpy(s->coarse, p.coarse, sizeof s->coarse);
	for (i = 0; i < SERIES_FINE_SLOTS; i++)
		if (isinf(from_bf16(s->fine[i])))
			s->fine[i] = BF16_NAN;
	for (i = 0; i < SERIES_COARSE_SLOTS; i++)
		if (isinf(from_bf16(s->coarse[i])))
			s->coarse[i] = BF16_NAN;
	s->last_sec = p.last_sec;
	s->cur_min = p.cur_min;
	s->last_min = p.last_min;
	s->min_sum = p.min_sum;
	s->min_count = p.min_count;
	s->last_value = p.last_sec >= 0 ? p.last_value : NAN;
	return 0;
}

int
metrics_store_load(struct metrics_store *ms, const char *path, int64_t now, struct berr *err)
{
	const size_t max_entry = METRIC_MAX * sizeof(struct ms_packed_series_v1);
	struct ms_header h;
	char *buf = NULL, key[MS_KEY_MAX + 1];
	size_t len = 0, off, n, per_series, per_entry;
	int r = -1, v1;

	if (read_file(path, &buf, &len, sizeof h + (size_t)MS_ENTRIES_MAX * (2 + MS_KEY_MAX + max_entry),
		      err) < 0)
		return berr_wrap(err, "loading the metrics history");
	if (len < sizeof h) {
		berr_set(err, BERR_INVALID, "metrics history `%s' is truncated", path);
		goto out;
	}
	memcpy(&h, buf, sizeof h);
	v1 = memcmp(h.magic, MS_MAGIC_V1, 8) == 0;
	if ((!v1 && memcmp(h.magic, MS_MAGIC, 8) != 0) || h.metrics != METRIC_MAX ||
	    h.fine_slots != SERIES_FINE_SLOTS || h.coarse_slots != SERIES_COARSE_SLOTS ||
	    h.count > MS_ENTRIES_MAX) {
		berr_set(err, BERR_INVALID, "`%s' is not a metrics history of this berth", path);
		goto out;
	}
	per_series = v1 ? sizeof(struct ms_packed_series_v1) : sizeof(struct ms_packed_series);
	per_entry = METRIC_MAX * per_series;
	/* Check the whole layout before taking anything. */
	for (off = sizeof h, n = 0; n < h.count; n++) {
		uint16_t kl;

		if (len - off < 2)
			break;
		memcpy(&kl, buf + off, 2);
		if (kl == 0 || kl > MS_KEY_MAX || len - off - 2 < kl + per_entry)
			break;
		off += 2 + kl + per_entry;
	}
	if (n < h.count || off != len) {
		berr_set(err, BERR_INVALID, "metrics history `%s' is truncated or corrupt (entry %zu of %u)",
			 path, n, h.count);
		goto out;
	}
	for (off = sizeof h, n = 0; n < h.count; n++) {
		uint16_t kl;
		struct series tmp[METRIC_MAX], *dst;
		int fresh = 0;

		memcpy(&kl, buf + off, 2);
		memcpy(key, buf + off + 2, kl);
		key[kl] = '\0';
		off += 2 + kl;
		for (int m = 0; m < METRIC_MAX; m++) {
			series_init(&tmp[m]);
			if (series_unpack(&tmp[m], buf + off + (size_t)m * per_series, v1, now) < 0)
				series_init(&tmp[m]);
			if (tmp[m].last_sec >= 0 && tmp[m].last_sec > now - 24 * 3600)
				fresh = 1;
		}
		off += per_entry;
		if (!fresh || strlen(key) != kl || metrics_store_get(ms, key, 0) != NULL)
			continue;
		dst = metrics_store_get(ms, key, 1);
		memcpy(dst, tmp, sizeof tmp);
	}
	r = 0;
out:
	free(buf);
	return r;
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
