/*
 * test-util.c - helpers: globbing, edit distance, size parsing, formatting,
 * the string map.
 */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "core/dirs.h"
#include "tap.h"

static int freed;
static void count_free(void *p) { freed++; free(p); }

int
main(void)
{
	char buf[32];
	uint64_t v = 0;
	struct berr e = { 0 };

	ok(glob_match("web*", "web1"), "glob * matches");
	ok(!glob_match("web?", "web12"), "glob ? matches one character");
	ok(glob_match("[a-c]x", "bx"), "glob classes");
	is_int(edit_distance("list", "lsit"), 2, "edit distance of a transposition");
	is_int(edit_distance("", "abc"), 3, "edit distance to empty");
	is_int(edit_distance("web1", "web1"), 0, "edit distance of equal strings");

	ok(parse_size("512M", &v) == 0 && v == 512ull << 20, "parse 512M");
	ok(parse_size("2GiB", &v) == 0 && v == 2ull << 30, "parse 2GiB");
	ok(parse_size("1024", &v) == 0 && v == 1024, "parse plain bytes");
	ok(parse_size("-1", &v) < 0, "negative sizes are refused");
	ok(parse_size("12Q", &v) < 0, "unknown units are refused");
	ok(parse_size("99999999999999999999", &v) < 0, "overflow is refused");
	ok(parse_size("17179869184T", &v) < 0, "overflow through the unit is refused");

	is_str(fmt_bytes(buf, sizeof buf, 1536), "1.5K", "format 1.5K");
	is_str(fmt_bytes(buf, sizeof buf, 100), "100B", "format bytes");
	is_str(fmt_duration(buf, sizeof buf, 3725), "1h02m", "format durations");

	ok(name_is_valid("web 1 ünïcødé $(rm -rf)", &e) == 0, "spaces, unicode and shell characters are valid names");
	ok(name_is_valid("a/b", &e) < 0, "names with a slash are refused");
	ok(name_is_valid("..", &e) < 0, "`..' is refused");
	ok(name_is_valid("-x", &e) < 0, "a leading dash is refused");
	ok(name_is_valid("", &e) < 0, "the empty name is refused");

	{
		struct smap *m = smap_new(count_free);
		char key[32];
		int i, bad = 0;
		size_t it = 0, seen = 0;
		const char *k;
		void *val;

		for (i = 0; i < 5000; i++) {
			int *p = malloc(sizeof *p);

			*p = i;
			snprintf(key, sizeof key, "k%d", i);
			smap_set(m, key, p);
		}
		is_int(smap_count(m), 5000, "smap holds 5000 keys");
		for (i = 0; i < 5000; i += 2) {
			snprintf(key, sizeof key, "k%d", i);
			smap_remove(m, key);
		}
		is_int(freed, 2500, "removing frees values");
		for (i = 0; i < 5000; i++) {
			int *p;

			snprintf(key, sizeof key, "k%d", i);
			p = smap_get(m, key);
			if ((i % 2 == 0) != (p == NULL) || (p && *p != i))
				bad++;
		}
		is_int(bad, 0, "lookups after removals are right");
		while (smap_next(m, &it, &k, &val))
			seen++;
		is_int(seen, 2500, "iteration visits every live key once");
		smap_set(m, "k1", malloc(4));
		is_int(freed, 2501, "replacing frees the old value");
		smap_free(m);
		is_int(freed, 5001, "freeing the map frees every value (5001 values were made)");
	}
	return tap_done();
}
