/*
 * tap.h - a tiny TAP producer for berth's C unit tests.
 *
 *   ok(cond, "what it proves")          prints "ok N - ..." or "not ok N - ..."
 *   is_int(got, want, "...")            shows both values when they differ
 *   is_str(got, want, "...")
 *   return tap_done();                  prints the plan; exit 1 if any failed
 */
#ifndef BERTH_TAP_H
#define BERTH_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
tap_ok(int cond, const char *file, int line, const char *what)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, what);
	if (!cond) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failed++;
	}
	fflush(stdout);
	return cond;
}
#define ok(cond, what) tap_ok(!!(cond), __FILE__, __LINE__, (what))
#define is_int(got, want, what) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!tap_ok(g_ == w_, __FILE__, __LINE__, (what))) \
		printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)
#define is_str(got, want, what) do { \
	const char *g_ = (got), *w_ = (want); \
	int eq_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0); \
	if (!tap_ok(eq_, __FILE__, __LINE__, (what))) \
		printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

#endif
