/*
 * test-metrics.c - the metrics history: wrap-around of the 1 s ring,
 * downsampling into 1 min averages, gaps, bounded size, the keyed store,
 * rate derivation, and saving and loading the history (damaged files
 * refused).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "core/dirs.h"
#include "core/metrics.h"
#include "core/util.h"
#include "tap.h"

int
main(void)
{
	struct series *s = malloc(sizeof *s);
	float out[1440];
	int step = 0;
	size_t n, i;
	int64_t t0 = 1700000000 - (1700000000 % 60);	/* on a minute boundary */
	int bad;

	series_init(s);
	ok(isnan(series_last(s)), "an empty series has no last value");
	n = series_get(s, t0, 60, out, 60, &step);
	is_int(n, 60, "a 60 s window has 60 points");
	is_int(step, 1, "short windows use 1 s resolution");
	ok(isnan(out[0]) && isnan(out[59]), "an empty series reads as gaps");

	/* 25 minutes of samples: value = minute index. */
	for (i = 0; i < 25 * 60; i++)
		series_append(s, t0 + (int64_t)i, (double)(i / 60));
	ok(series_last(s) == 24.0, "last value is the newest sample");
	n = series_get(s, t0 + 25 * 60 - 1, 600, out, 600, &step);
	is_int(n, 600, "10 minutes of 1 s points after wrap-around");
	bad = 0;
	for (i = 0; i < 600; i++) {
		double want = (double)((25 * 60 - 600 + i) / 60);

		if (out[i] != (float)want)
			bad++;
	}
	is_int(bad, 0, "the 1 s ring holds exactly the newest 600 seconds after wrapping");
	n = series_get(s, t0 + 25 * 60 - 1, 3600, out, 1440, &step);
	is_int(step, 60, "long windows use 1 min resolution");
	is_int(n, 60, "an hour is 60 minute points");
	ok(out[59] == 24.0f, "the current minute reads as its running average");
	ok(out[58] == 23.0f && out[35] == 0.0f, "completed minutes hold their averages");
	ok(isnan(out[0]), "minutes before the first sample are gaps");

	/* Average within a minute. */
	series_init(s);
	series_append(s, t0, 10);
	series_append(s, t0 + 1, 20);
	series_append(s, t0 + 1, 30);	/* replaces the sample of the same second */
	series_append(s, t0 + 60, 0);	/* closes the first minute */
	n = series_get(s, t0 + 60, 3600, out, 2, &step);
	ok(fabsf(out[0] - 20.0f) < 1e-4, "a minute averages its samples, a replaced sample counted once");
	series_append(s, t0 + 5, 99);
	ok(series_last(s) == 0.0, "samples older than the newest are ignored");

	/* Gaps: a silence longer than the ring clears it. */
	series_append(s, t0 + 60 + 2000, 7);
	n = series_get(s, t0 + 60 + 2000, 600, out, 600, &step);
	bad = 0;
	for (i = 0; i + 1 < n; i++)
		if (!isnan(out[i]))
			bad++;
	is_int(bad, 0, "after a long silence the old 1 s points are gone");
	ok(out[n - 1] == 7.0f, "the new sample is there");

	/* 24 h of minutes wrap too. */
	series_init(s);
	for (i = 0; i < 1500; i++)
		series_append(s, t0 + (int64_t)i * 60, (double)i);
	series_append(s, t0 + 1500 * 60, 1500);
	n = series_get(s, t0 + 1500 * 60, 86400, out, 1440, &step);
	is_int(n, 1440, "24 h is 1440 minute points");
	/* points are bfloat16: 8 significant bits, under 0.4% off */
	ok(fabs(out[1438] - 1499.0) <= 1499.0 * 0.004 && out[0] == 61.0f,
	   "the 1 min ring keeps the newest 24 hours");

	ok(sizeof(struct series) < 4200, "one series is bounded (about 4 KiB: 16-bit points)");

	/* Precision: small integers exact, anything within 0.4%, the newest
	 * sample exact (series_last, the 1 s point of the current second). */
	series_init(s);
	series_append(s, t0, 123456789.0);
	series_append(s, t0 + 1, 37.25);
	series_append(s, t0 + 2, 1e-3);
	series_append(s, t0 + 3, 100.0 / 3);
	n = series_get(s, t0 + 3, 4, out, 4, &step);
	ok(n == 4 && fabs(out[0] - 123456789.0) <= 123456789.0 * 0.004, "large rates kept within 0.4%");
	ok(out[1] == 37.25f && fabs(out[2] - 1e-3) <= 1e-3 * 0.004, "exact where representable, small ones close");
	ok(out[3] == (float)(100.0 / 3) && series_last(s) == 100.0 / 3, "the newest sample is exact");

	{
		struct metrics_store *ms = metrics_store_new();
		char key[64];
		struct series *a;

		for (i = 0; i < 1000; i++) {
			snprintf(key, sizeof key, "kvm/localhost/vm%zu", i);
			a = metrics_store_get(ms, key, 1);
			series_append(&a[METRIC_CPU], t0, (double)i);
		}
		is_int(metrics_store_count(ms), 1000, "the store holds 1000 instances");
		a = metrics_store_get(ms, "kvm/localhost/vm500", 0);
		ok(a != NULL && series_last(&a[METRIC_CPU]) == 500.0, "lookup finds the right series");
		metrics_store_remove(ms, "kvm/localhost/vm500");
		ok(metrics_store_get(ms, "kvm/localhost/vm500", 0) == NULL, "removed keys are gone");
		ok(metrics_store_get(ms, "kvm/localhost/vm501", 0) != NULL, "others survive a removal");
		is_int(metrics_store_count(ms), 999, "count follows removals");
		metrics_store_free(ms);
	}
	{
		struct inst_stats a = { 0 }, b = { 0 };
		struct inst_rates r;

		a.valid = b.valid = 1;
		a.ts_ms = 1000;
		b.ts_ms = 3000;
		a.vcpus = b.vcpus = 2;
		a.cpu_time_ns = 0;
		b.cpu_time_ns = 2000000000ull;	/* 2 s of CPU over 2 s */
		a.net_rx_bytes = 100;
		b.net_rx_bytes = 2100;
		stats_rates(&a, &b, 4, &r);
		ok(fabs(r.cpu_pct_vcpus - 50.0) < 1e-6, "CPU% is normalised to the instance's vCPUs");
		ok(fabs(r.cpu_pct_host - 25.0) < 1e-6, "CPU% of the host is normalised to host CPUs");
		ok(fabs(r.net_rx_bps - 1000.0) < 1e-6, "byte counters become rates");
		b.cpu_time_ns = 0;
		stats_rates(&a, &b, 4, &r);
		ok(r.cpu_pct_vcpus == 0.0, "a counter going backwards (restart) gives 0, not garbage");
	}
	{
		int m = metric_from_name("disk_write");

		is_int(m, METRIC_BLK_WR, "metric names parse");
		is_int(metric_from_name("bogus"), -1, "unknown metric names are refused");
	}
	{
		/* The history survives a save and a load; a damaged file is refused
		 * whole and leaves the store as it was. */
		struct metrics_store *ms = metrics_store_new(), *back = metrics_store_new();
		const char *tmp = getenv("BERTH_TEST_TMP") ? getenv("BERTH_TEST_TMP") : "/tmp";
		char *path = xasprintf("%s/history-%d", tmp, (int)getpid());
		int64_t now = 1800000000;
		struct berr err = { 0 };
		struct series *a, *b;
		float pts[1440];
		char *text;
		size_t len;
		FILE *f;

		a = metrics_store_get(ms, "kvm/localhost/web1", 1);
		for (i = 0; i < 7200; i++)
			series_append(&a[METRIC_CPU], now - 7200 + (int64_t)i, 42.0);
		a = metrics_store_get(ms, "kvm/localhost/old", 1);
		series_append(&a[METRIC_CPU], now - 2 * 86400, 1.0);
		ok(metrics_store_save(ms, path, &err) == 0, "the store saves");
		b = metrics_store_get(back, "libvirt/h/here", 1);
		series_append(&b[METRIC_MEM], now, 7.0);
		ok(metrics_store_load(back, path, now, &err) == 0, "and loads again");
		b = metrics_store_get(back, "kvm/localhost/web1", 0);
		ok(b != NULL && series_last(&b[METRIC_CPU]) == 42.0f, "a loaded series has its newest value");
		n = series_get(&b[METRIC_CPU], now, 3600, pts, 1440, &step);
		ok(n == 60 && pts[30] == 42.0f && step == 60, "and its minute history for the graph");
		ok(metrics_store_get(back, "kvm/localhost/old", 0) == NULL, "a series silent for 24 h is dropped");
		ok(metrics_store_get(back, "libvirt/h/here", 0) != NULL, "series already there are kept");
		series_append(&b[METRIC_CPU], now + 5, 10.0);
		ok(series_last(&b[METRIC_CPU]) == 10.0f, "a loaded series takes new samples");

		/* Damage: truncated, bad magic, an entry count that lies. */
		ok(read_file(path, &text, &len, 64 << 20, &err) == 0, "read the saved file back");
		f = fopen(path, "w");
		fwrite(text, 1, len - 100, f);
		fclose(f);
		i = metrics_store_count(back);
		ok(metrics_store_load(back, path, now, &err) < 0 && strstr(err.msg, "truncated"),
		   "a truncated history is refused");
		is_int(metrics_store_count(back), i, "and the store is unchanged");
		text[0] = 'X';
		f = fopen(path, "w");
		fwrite(text, 1, len, f);
		fclose(f);
		ok(metrics_store_load(back, path, now, &err) < 0 && strstr(err.msg, "not a metrics history"),
		   "a file with another magic is refused");
		text[0] = 'B';
		text[8 + 12] = (char)0xff;	/* count: far more entries than the file holds */
		f = fopen(path, "w");
		fwrite(text, 1, len, f);
		fclose(f);
		ok(metrics_store_load(back, path, now, &err) < 0, "a lying entry count is refused");
		unlink(path);
		ok(metrics_store_load(back, path, now, &err) < 0 && err.code == ENOENT,
		   "a missing history is ENOENT");
		free(text);

		/* A history written by the float version (BERTHMH1) still loads. */
		{
			struct v1_series {
				float fine[SERIES_FINE_SLOTS];
				float coarse[SERIES_COARSE_SLOTS];
				int64_t last_sec, cur_min, last_min;
				double min_sum;
				uint32_t min_count, pad;
			} v1s;
			struct { char magic[8]; uint32_t metrics, fine, coarse, count; } hdr = {
				"BERTHMH1", METRIC_MAX, SERIES_FINE_SLOTS, SERIES_COARSE_SLOTS, 1 };
			const char *key = "kvm/localhost/older";
			uint16_t kl = (uint16_t)strlen(key);
			struct metrics_store *v1 = metrics_store_new();
			int m;

			memset(&v1s, 0, sizeof v1s);
			for (i = 0; i < SERIES_FINE_SLOTS; i++)
				v1s.fine[i] = NAN;
			for (i = 0; i < SERIES_COARSE_SLOTS; i++)
				v1s.coarse[i] = (i == (size_t)((now / 60 - 1) % SERIES_COARSE_SLOTS)) ? 12.5f : NAN;
			v1s.fine[now % SERIES_FINE_SLOTS] = 12.5f;
			v1s.last_sec = now;
			v1s.cur_min = now / 60;
			v1s.last_min = now / 60 - 1;
			v1s.min_sum = 12.5;
			v1s.min_count = 1;
			f = fopen(path, "w");
			fwrite(&hdr, sizeof hdr, 1, f);
			fwrite(&kl, 2, 1, f);
			fwrite(key, 1, kl, f);
			for (m = 0; m < METRIC_MAX; m++)
				fwrite(&v1s, sizeof v1s, 1, f);
			fclose(f);
			ok(metrics_store_load(v1, path, now, &err) == 0, "a version 1 (float) history loads");
			b = metrics_store_get(v1, key, 0);
			ok(b != NULL && series_last(&b[METRIC_CPU]) == 12.5, "with its newest value");
			n = series_get(&b[METRIC_CPU], now, 3600, pts, 1440, &step);
			ok(n == 60 && pts[58] == 12.5f && step == 60, "and its minutes");
			unlink(path);
			metrics_store_free(v1);
		}
		free(path);
		metrics_store_free(ms);
		metrics_store_free(back);
	}
	free(s);
	return tap_done();
}
