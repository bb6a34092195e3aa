/*
 * util.h - small helpers used everywhere: allocation that cannot fail
 * (out of memory runs the front-end's hook, then aborts), strings, time,
 * name matching and close-match suggestions, fd flags.
 */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Called on allocation failure before abort(): the front-end restores the
 * terminal and says so (the core itself prints nothing).  Returns the hook
 * it replaces, so a front-end layer can chain to the one below. */
void (*util_set_oom_hook(void (*hook)(void)))(void);
/* A hook the programs' main() install (the core never calls it by itself):
 * "<program>: out of memory" on stderr, with write(2) only. */
void util_oom_report(void);
void util_oom(void) __attribute__((noreturn));

/* Giving up a wait: a front-end's SIGINT handler calls cancel_request()
 * (async-signal-safe); from then on the core's polling waits and
 * synchronous control calls end with ECANCELED, until cancel_clear(). */
void cancel_request(void);
void cancel_clear(void);
int cancel_requested(void);

int64_t now_ms(void);		/* CLOCK_MONOTONIC in ms */
int64_t now_realtime_ms(void);	/* wall clock in ms */
uint64_t now_ns(void);		/* CLOCK_MONOTONIC in ns */

int fd_set_nonblock(int fd, int on);
int fd_set_cloexec(int fd, int on);

/* fnmatch-style glob (*, ?, [..]) on the whole string. */
int glob_match(const char *pattern, const char *s);
/* Edit distance, capped for speed. */
size_t edit_distance(const char *a, const char *b);

/* Human-readable sizes/rates: "1.5G", "12K"... into buf. */
const char *fmt_bytes(char *buf, size_t len, double bytes);
const char *fmt_duration(char *buf, size_t len, int64_t seconds);

/* Safe string copy that always terminates; returns strlen(src). */
size_t strlcpy_b(char *dst, const char *src, size_t size);

/* Parse "512M", "2G", "1024" (KiB when unit_kib), returns -1 on error. */
int parse_size(const char *s, uint64_t *bytes);

/* Find a file berth ships (berth-vmm, berth-ctr, a guest image): the path in
 * the environment variable env (if set: that one or nothing), else `rel`
 * beside the running program (the build tree or bindir), else `rel` in each
 * of the NULL-terminated dirs.  mode is an access(2) mode (X_OK, R_OK).
 * Returns a malloc'd path or NULL. */
char *find_shipped_file(const char *env, const char *rel, const char *const *dirs, int mode);

/* The source tree this program was built from, when it runs from its
 * build tree (not installed): berth then finds lua/ and plugins/ there.
 * NULL otherwise. */
const char *build_tree_srcdir(void);

/* A random (version 4) UUID in canonical form into out[37]; and whether s
 * is one in canonical form (any version, either case). */
void uuid_generate(char out[37]);
int uuid_is_valid(const char *s);

/* A string-keyed map of owned values (free_value runs on replace/remove). */
struct smap;
struct smap *smap_new(void (*free_value)(void *));
void smap_free(struct smap *m);
void *smap_get(const struct smap *m, const char *key);
void smap_set(struct smap *m, const char *key, void *value);
void smap_remove(struct smap *m, const char *key);
size_t smap_count(const struct smap *m);
/* Iterate: i from 0 while smap_next returns 1. */
int smap_next(const struct smap *m, size_t *i, const char **key, void **value);

#endif
