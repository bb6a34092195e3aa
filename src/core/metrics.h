/*
 * metrics.h - bounded metrics history per instance and metric.
 *
 * Each series keeps 1-second samples for 10 minutes (600 slots) and 1-minute
 * averages for 24 hours (1440 slots).  Appending is O(1); memory per series
 * is fixed (about 4 KiB); a store of N instances holds N * METRIC_MAX series.
 * Not for: collecting samples (the session's stats poller does that).
 */
#ifndef BERTH_METRICS_H
#define BERTH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/instance.h"

enum metric_id {
	METRIC_CPU = 0,		/* % of the instance's vCPUs */
	METRIC_CPU_HOST,	/* % of the host */
	METRIC_MEM,		/* KiB used */
	METRIC_BLK_RD,		/* bytes/s */
	METRIC_BLK_WR,
	METRIC_NET_RX,
	METRIC_NET_TX,
	METRIC_MAX
};

#define SERIES_FINE_SLOTS 600		/* 1 s each: 10 minutes */
#define SERIES_COARSE_SLOTS 1440	/* 1 min each: 24 hours */

/* Points are bfloat16 (the top half of a float: 3 significant digits,
 * a float's range), half the memory of floats, plenty for graphs. */
struct series {
	uint16_t fine[SERIES_FINE_SLOTS];
	uint16_t coarse[SERIES_COARSE_SLOTS];
	double last_value;	/* the newest sample exactly (the minute's sum) */
	int64_t last_sec;	/* time of the newest fine sample, -1 none */
	int64_t cur_min;	/* minute being accumulated */
	double min_sum;
	uint32_t min_count;
	int64_t last_min;	/* newest completed minute, -1 none */
};

void series_init(struct series *s);
/* Record value at unix second t.  Later samples in the same second replace
 * the earlier; gaps are left as NaN; samples older than the newest are
 * ignored. */
void series_append(struct series *s, int64_t t, double value);
/* Copy up to n points covering the last span_sec seconds ending at `now`,
 * oldest first, into out (NaN for gaps).  Uses 1 s points when span_sec <=
 * 600, else 1 min points.  Returns the number written; *step_sec gets the
 * resolution. */
size_t series_get(const struct series *s, int64_t now, int64_t span_sec, float *out, size_t n,
		  int *step_sec);
/* Newest value, NaN if none. */
double series_last(const struct series *s);

const char *metric_name(enum metric_id m);
int metric_from_name(const char *name);	/* -1 if unknown */

/* A store keyed by instance key ("backend/host/name"). */
struct metrics_store;
struct metrics_store *metrics_store_new(void);
void metrics_store_free(struct metrics_store *ms);
/* Returns the series array (METRIC_MAX entries) for key, created on demand. */
struct series *metrics_store_get(struct metrics_store *ms, const char *key, int create);
void metrics_store_remove(struct metrics_store *ms, const char *key);
size_t metrics_store_count(const struct metrics_store *ms);

/* Save every series to path (atomically), and load a saved store into ms,
 * so graphs survive the front-end: entries whose key ms holds already are
 * kept as they are, series with no data newer than 24 h before `now` are
 * dropped, and a file that is not such a store (wrong magic, sizes, counts,
 * or values out of range) is refused whole with an error naming it. */
int metrics_store_save(const struct metrics_store *ms, const char *path, struct berr *err);
int metrics_store_load(struct metrics_store *ms, const char *path, int64_t now, struct berr *err);

/* Derive rates from two samples; host_cpus for cpu_pct_host. */
void stats_rates(const struct inst_stats *prev, const struct inst_stats *cur, int host_cpus,
		 struct inst_rates *out);

#endif
