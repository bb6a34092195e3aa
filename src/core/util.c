/*
 * util.c - allocation, time, fd flags, glob and edit distance, formatting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <limits.h>
#include <unistd.h>

#include "core/util.h"

static void (*oom_hook)(void);

void (*util_set_oom_hook(void (*hook)(void)))(void)
{
	void (*old)(void) = oom_hook;

	oom_hook = hook;
	return old;
}

void
util_oom_report(void)
{
	static const char msg[] = ": out of memory\n";
	const char *prog = program_invocation_short_name;

	if (write(STDERR_FILENO, prog, strlen(prog)) < 0 ||
	    write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		return;
}

/* The core never prints: the front-end's hook says what happened (and puts
 * the terminal back); the core only stops. */
void
util_oom(void)
{
	if (oom_hook != NULL)
		oom_hook();
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		util_oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		util_oom();
	return q;
}

char *
xstrdup(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		util_oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		util_oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		util_oom();
	return p;
}

static volatile sig_atomic_t cancel_flag;

void
cancel_request(void)
{
	cancel_flag = 1;
}

void
cancel_clear(void)
{
	cancel_flag = 0;
}

int
cancel_requested(void)
{
	return cancel_flag != 0;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t
now_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
fd_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

int
fd_set_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl);
}

int
glob_match(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

void
uuid_generate(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof b) {
		/* No entropy source at all: unique enough from time and pid. */
		uint64_t t = now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof b; i++, t = t * 6364136223846793005ULL + 1442695040888963407ULL)
			b[i] = (unsigned char)(t >> 56);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

int
uuid_is_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			     (s[i] >= 'A' && s[i] <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65], prev, tmp;

	/* Names longer than 64 bytes are compared by their first 64. */
	if (la > 64)
		la = 64;
	if (lb > 64)
		lb = 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *
fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char units[] = "BKMGTP";
	int u = 0;

	while (bytes >= 1024.0 && u < 5) {
		bytes /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f%c", bytes, units[u]);
	else if (bytes < 10.0)
		snprintf(buf, len, "%.1f%c", bytes, units[u]);
	else
		snprintf(buf, len, "%.0f%c", bytes, units[u]);
	return buf;
}

const char *
fmt_duration(char *buf, size_t len, int64_t s)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	return buf;
}

size_t
strlcpy_b(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' && end[-1] != '\0')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return -1;
	if (v > UINT64_MAX / mult)
		return -1;
	*bytes = v * mult;
	return 0;
}

/* ---- smap: open addressing with tombstones ---- */

struct smap_slot {
	char *key;	/* NULL empty */
	void *value;
	int dead;
};

struct smap {
	struct smap_slot *slots;
	size_t cap, count, used;
	void (*free_value)(void *);
};

static uint64_t
smap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

struct smap *
smap_new(void (*free_value)(void *))
{
	struct smap *m = xcalloc(1, sizeof *m);

	m->cap = 16;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	m->free_value = free_value;
	return m;
}

void
smap_free(struct smap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++) {
		if (m->slots[i].key != NULL) {
			if (!m->slots[i].dead && m->free_value)
				m->free_value(m->slots[i].value);
			free(m->slots[i].key);
		}
	}
	free(m->slots);
	free(m);
}

static struct smap_slot *
smap_find(const struct smap *m, const char *key, struct smap_slot **free_slot)
{
	size_t i = smap_hash(key) & (m->cap - 1);

	if (free_slot)
		*free_slot = NULL;
	for (;;) {
		struct smap_slot *sl = &m->slots[i];

		if (sl->key == NULL) {
			if (free_slot && *free_slot == NULL)
				*free_slot = sl;
			return NULL;
		}
		if (sl->dead) {
			if (free_slot && *free_slot == NULL)
				*free_slot = sl;
		} else if (strcmp(sl->key, key) == 0) {
			return sl;
		}
		i = (i + 1) & (m->cap - 1);
	}
}

void *
smap_get(const struct smap *m, const char *key)
{
	struct smap_slot *sl = smap_find(m, key, NULL);

	return sl ? sl->value : NULL;
}

/* Rehash; double only when live keys need it, so that tombstones of keys
 * that came and went do not make the table grow forever. */
static void
smap_grow(struct smap *m)
{
	struct smap_slot *old = m->slots;
	size_t oldcap = m->cap, i;

	if (m->count * 2 >= m->cap)
		m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	m->used = 0;
	for (i = 0; i < oldcap; i++) {
		struct smap_slot *fs;

		if (old[i].key == NULL)
			continue;
		if (old[i].dead) {
			free(old[i].key);
			continue;
		}
		smap_find(m, old[i].key, &fs);
		*fs = old[i];
		m->used++;
	}
	free(old);
}

void
smap_set(struct smap *m, const char *key, void *value)
{
	struct smap_slot *sl, *fs;

	sl = smap_find(m, key, &fs);
	if (sl != NULL) {
		if (m->free_value && sl->value != value)
			m->free_value(sl->value);
		sl->value = value;
		return;
	}
	if ((m->used + 1) * 4 >= m->cap * 3) {
		smap_grow(m);
		smap_find(m, key, &fs);
	}
	if (fs->key == NULL)
		m->used++;
	else
		free(fs->key);
	fs->key = xstrdup(key);
	fs->value = value;
	fs->dead = 0;
	m->count++;
}

void
smap_remove(struct smap *m, const char *key)
{
	struct smap_slot *sl = smap_find(m, key, NULL);

	if (sl == NULL)
		return;
	if (m->free_value)
		m->free_value(sl->value);
	sl->value = NULL;
	sl->dead = 1;
	m->count--;
}

size_t
smap_count(const struct smap *m)
{
	return m->count;
}

int
smap_next(const struct smap *m, size_t *i, const char **key, void **value)
{
	while (*i < m->cap) {
		struct smap_slot *sl = &m->slots[(*i)++];

		if (sl->key != NULL && !sl->dead) {
			if (key)
				*key = sl->key;
			if (value)
				*value = sl->value;
			return 1;
		}
	}
	return 0;
}

const char *
build_tree_srcdir(void)
{
	static int done;
	static const char *result;
	char self[PATH_MAX], *slash, *real;
	ssize_t n;

	if (done)
		return result;
	done = 1;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	real = realpath(BERTH_BUILDDIR, NULL);
	if (real != NULL && strcmp(real, self) == 0 && access(BERTH_SRCDIR "/lua", R_OK) == 0)
		result = BERTH_SRCDIR;
	free(real);
	return result;
}

char *
find_shipped_file(const char *env, const char *rel, const char *const *dirs, int mode)
{
	const char *v = env ? getenv(env) : NULL;
	char self[PATH_MAX], *slash, *p;
	ssize_t n;
	size_t i;

	if (v != NULL && *v != '\0')
		return access(v, mode) == 0 ? xstrdup(v) : NULL;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			p = xasprintf("%s/%s", self, rel);
			if (access(p, mode) == 0)
				return p;
			free(p);
		}
	}
	for (i = 0; dirs != NULL && dirs[i] != NULL; i++) {
		p = xasprintf("%s/%s", dirs[i], rel);
		if (access(p, mode) == 0)
			return p;
		free(p);
	}
	return NULL;
}
