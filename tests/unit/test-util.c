/*
 * test-util.c - helpers: globbing, edit distance, size parsing, formatting,
 * the string map, out of memory (the core reports nothing itself).
 */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "core/dirs.h"
#include "tap.h"

static int hook_ran;
static void inner_hook(void) { hook_ran = 1; }
static void (*outer_hook)(void);
static void chained_hook(void) { inner_hook(); outer_hook(); }

/* Runs util_oom() in a child with hook installed; returns what the child wrote
 * on stderr (static buffer) and its wait status in *status. */
static const char *
oom_child(void (*hook)(void), int chain, int *status)
{
	static char out[256];
	int p[2];
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return "pipe failed";
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		if (chain) {
			util_set_oom_hook(hook);
			outer_hook = util_set_oom_hook(chained_hook);
		} else {
			util_set_oom_hook(hook);
		}
		util_oom();
	}
	close(p[1]);
	while (len < (ssize_t)sizeof(out) - 1 && (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(p[0]);
	waitpid(pid, status, 0);
	return out;
}

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
	{
		int st = 0;
		const char *out;

		out = oom_child(NULL, 0, &st);
		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "out of memory aborts");
		is_str(out, "", "the core prints nothing on out of memory by itself");
		out = oom_child(util_oom_report, 0, &st);
		is_str(out, "test-util: out of memory\n", "the front-end's report hook names the program");
		out = oom_child(util_oom_report, 1, &st);
		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
		   strcmp(out, "test-util: out of memory\n") == 0,
		   "a hook set over another gets it back and can chain to it");
		ok(!hook_ran, "hooks ran only in the children");
	}
	return tap_done();
}
