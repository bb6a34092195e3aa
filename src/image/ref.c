/*
 * ref.c - image references: parsing "busybox", "quay.io/a/b:1.0",
 * "127.0.0.1:5000/x@sha256:..." into registry, repository, tag and digest,
 * following the grammar of the distribution project's reference package.
 * Not for: talking to registries (registry.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "image/image-internal.h"

#define DEFAULT_REGISTRY "docker.io"
#define DEFAULT_ENDPOINT "registry-1.docker.io"
#define NAME_MAX_LEN 255

int
image_digest_valid(const char *digest)
{
	size_t i;

	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
		return 0;
	for (i = 7; i < 7 + 64; i++)
		if (!isdigit((unsigned char)digest[i]) && !(digest[i] >= 'a' && digest[i] <= 'f'))
			return 0;
	return 1;
}

const char *
image_registry_endpoint(const char *registry)
{
	if (strcmp(registry, DEFAULT_REGISTRY) == 0)
		return DEFAULT_ENDPOINT;
	return registry;
}

int
image_registry_is_loopback(const char *registry)
{
	size_t hlen;

	if (registry[0] == '[')
		return strncmp(registry, "[::1]", 5) == 0 && (registry[5] == '\0' || registry[5] == ':');
	hlen = strcspn(registry, ":");
	if (hlen == 9 && strncmp(registry, "localhost", 9) == 0)
		return 1;
	/* 127.0.0.0/8, written as a dotted quad */
	if (strncmp(registry, "127.", 4) == 0) {
		const char *p = registry + 4;
		int parts = 2;	/* "127" and the one after the dot */

		while (p < registry + hlen) {
			if (*p == '.')
				parts++;
			else if (!isdigit((unsigned char)*p))
				return 0;
			p++;
		}
		return parts == 4;
	}
	return 0;
}

/* host component: [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
static int
domain_valid(const char *s, size_t len)
{
	size_t i = 0, port_at = len, start;

	if (len == 0)
		return 0;
	if (s[0] == '[') {	/* [ipv6]:port */
		const char *close = memchr(s, ']', len);

		if (close == NULL || close == s + 1)
			return 0;
		for (i = 1; s + i < close; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return 0;
		i++;
		if (i == len)
			return 1;
		if (s[i] != ':')
			return 0;
		port_at = i;
	} else {
		const char *colon = memchr(s, ':', len);

		if (colon != NULL)
			port_at = (size_t)(colon - s);
		start = 0;
		for (i = 0; i <= port_at; i++) {
			if (i == port_at || s[i] == '.') {
				if (i == start || s[start] == '-' || s[i - 1] == '-')
					return 0;
				start = i + 1;
			} else if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
				return 0;
			}
		}
	}
	if (port_at < len) {
		size_t plen = len - port_at - 1;

		if (plen == 0 || plen > 5)
			return 0;
		for (i = port_at + 1; i < len; i++)
			if (!isdigit((unsigned char)s[i]))
				return 0;
		if (atoi(s + port_at + 1) > 65535)
			return 0;
	}
	return 1;
}

/* path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int
path_component_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t run = 0;

		while (i < len && (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]))) {
			i++;
			run++;
		}
		if (run == 0)
			return 0;
		if (i == len)
			return 1;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < len && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i == len)
			return 0;	/* separator at the end */
	}
	return len > 0;
}

static int
repo_valid(const char *s)
{
	const char *p = s;

	for (;;) {
		size_t n = strcspn(p, "/");

		if (!path_component_valid(p, n))
			return 0;
		if (p[n] == '\0')
			return 1;
		p += n + 1;
	}
}

static int
tag_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > 128)
		return 0;
	if (!isalnum((unsigned char)s[0]) && s[0] != '_')
		return 0;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* The first path element names a registry when it has a '.' or ':', is
 * "localhost", or is an IPv6 literal; else it is part of a Docker Hub name. */
static int
looks_like_domain(const char *s, size_t len)
{
	return memchr(s, '.', len) != NULL || memchr(s, ':', len) != NULL || s[0] == '[' ||
	       (len == 9 && strncmp(s, "localhost", 9) == 0);
}

void
image_ref_free(struct image_ref *ref)
{
	if (ref == NULL)
		return;
	free(ref->registry);
	free(ref->repo);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof *ref);
}

int
image_ref_parse(const char *s, struct image_ref *ref, struct berr *err)
{
	char *work, *at, *name, *slash, *colon;
	size_t first_len;

	memset(ref, 0, sizeof *ref);
	if (s == NULL || *s == '\0')
		return berr_set(err, BERR_INVALID, "empty image reference");
	if (strlen(s) > 512)
		return berr_set(err, BERR_INVALID, "image reference too long");
	work = xstrdup(s);
	at = strrchr(work, '@');
	if (at != NULL) {
		*at = '\0';
		if (!image_digest_valid(at + 1)) {
			berr_set(err, BERR_INVALID, "image reference `%s': bad digest (want sha256:<64 hex digits>)", s);
			goto fail;
		}
		ref->digest = xstrdup(at + 1);
	}
	name = work;
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (colon != NULL && (slash == NULL || colon > slash)) {
		*colon = '\0';
		if (!tag_valid(colon + 1)) {
			berr_set(err, BERR_INVALID, "image reference `%s': bad tag `%s'", s, colon + 1);
			goto fail;
		}
		ref->tag = xstrdup(colon + 1);
	}
	first_len = strcspn(name, "/");
	if (name[first_len] == '/' && looks_like_domain(name, first_len)) {
		if (!domain_valid(name, first_len)) {
			berr_set(err, BERR_INVALID, "image reference `%s': bad registry `%.*s'", s,
				 (int)first_len, name);
			goto fail;
		}
		ref->registry = xstrndup(name, first_len);
		name += first_len + 1;
		if (strcmp(ref->registry, "index.docker.io") == 0) {
			free(ref->registry);
			ref->registry = xstrdup(DEFAULT_REGISTRY);
		}
	} else {
		ref->registry = xstrdup(DEFAULT_REGISTRY);
	}
	if (!repo_valid(name)) {
		berr_set(err, BERR_INVALID,
			 "image reference `%s': bad repository name `%s' (lowercase letters, digits, '.', '_', '-', '/')",
			 s, name);
		goto fail;
	}
	if (strcmp(ref->registry, DEFAULT_REGISTRY) == 0 && strchr(name, '/') == NULL)
		ref->repo = xasprintf("library/%s", name);
	else
		ref->repo = xstrdup(name);
	/* the limit is on the full name, as the canonical form spells it */
	if (strlen(ref->registry) + 1 + strlen(ref->repo) > NAME_MAX_LEN) {
		berr_set(err, BERR_INVALID, "image reference `%.100s...': name longer than %d characters", s,
			 NAME_MAX_LEN);
		goto fail;
	}
	if (ref->tag == NULL && ref->digest == NULL)
		ref->tag = xstrdup("latest");
	free(work);
	return 0;
fail:
	free(work);
	image_ref_free(ref);
	return -1;
}

char *
image_ref_canonical(const struct image_ref *ref)
{
	if (ref->tag != NULL && ref->digest != NULL)
		return xasprintf("%s/%s:%s@%s", ref->registry, ref->repo, ref->tag, ref->digest);
	if (ref->digest != NULL)
		return xasprintf("%s/%s@%s", ref->registry, ref->repo, ref->digest);
	return xasprintf("%s/%s:%s", ref->registry, ref->repo, ref->tag);
}
