/*
 * store.c - the image store: opening and locking it, its index (ref ->
 * manifest digest and the blobs and layers an image uses), pulling an image
 * into it, listing, removing and garbage collection.
 *
 * A pull stages everything it fetches under tmp/pull-<pid>-*: blobs are
 * verified (size and digest) and layers extracted (diff_id verified) there,
 * and only when the whole image is good does it move them into blobs/ and
 * layers/ and rewrite index.json, under the store's exclusive lock.  A
 * failed pull leaves the store as it was.  GC (after rmi and re-pulls) runs
 * under the same lock, so it never sees half a commit.
 * Not for: HTTP (registry.c), tar handling (layer.c), root fs (rootfs.c).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/util.h"
#include "image/image-internal.h"
#include "image/sha256.h"

#define INDEX_MAX (64u << 20)
#define MAX_NESTED_INDEX 2

int
image_store_open(const char *dir, struct image_store **out, struct berr *err)
{
	struct image_store *st;
	char *lockpath;

	*out = NULL;
	st = xcalloc(1, sizeof *st);
	st->lock_fd = -1;
	st->gc_fd = -1;
	st->dir = xstrdup(dir);
	st->blobs = xasprintf("%s/blobs/sha256", dir);
	st->layers = xasprintf("%s/layers", dir);
	st->tmp = xasprintf("%s/tmp", dir);
	st->inuse = xasprintf("%s/inuse", dir);
	if (mkdir_p(st->blobs, 0755, err) < 0 || mkdir_p(st->layers, 0755, err) < 0 ||
	    mkdir_p(st->tmp, 0700, err) < 0 || mkdir_p(st->inuse, 0755, err) < 0) {
		berr_wrap(err, "opening image store `%s'", dir);
		image_store_free(st);
		return -1;
	}
	lockpath = xasprintf("%s/lock", dir);
	st->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0) {
		berr_errno(err, "opening image store lock `%s'", lockpath);
		free(lockpath);
		image_store_free(st);
		return -1;
	}
	free(lockpath);
	lockpath = xasprintf("%s/gc.lock", dir);
	st->gc_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->gc_fd < 0) {
		berr_errno(err, "opening image store lock `%s'", lockpath);
		free(lockpath);
		image_store_free(st);
		return -1;
	}
	free(lockpath);
	*out = st;
	return 0;
}

int
image_store_open_default(struct image_store **out, struct berr *err)
{
	struct berth_dirs d;
	char *dir;
	int r;

	*out = NULL;
	if (dirs_init(&d, err) < 0)
		return -1;
	dir = xasprintf("%s/images", d.data);
	dirs_free(&d);
	r = image_store_open(dir, out, err);
	free(dir);
	return r;
}

void
image_store_free(struct image_store *st)
{
	if (st == NULL)
		return;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	if (st->gc_fd >= 0)
		close(st->gc_fd);
	free(st->dir);
	free(st->blobs);
	free(st->layers);
	free(st->tmp);
	free(st->inuse);
	free(st);
}

int
store_lock(struct image_store *st, int exclusive, struct berr *err)
{
	while (flock(st->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR)
			return berr_errno(err, "locking image store `%s'", st->dir);
	}
	return 0;
}

void
store_unlock(struct image_store *st)
{
	(void)flock(st->lock_fd, LOCK_UN);
}

char *
store_blob_path(struct image_store *st, const char *digest)
{
	return xasprintf("%s/%s", st->blobs, digest + 7);
}

char *
store_mktemp_dir(struct image_store *st, const char *prefix, struct berr *err)
{
	char *path = xasprintf("%s/%s-%ld-XXXXXX", st->tmp, prefix, (long)getpid());

	if (mkdtemp(path) == NULL) {
		berr_errno(err, "creating a temporary directory in `%s'", st->tmp);
		free(path);
		return NULL;
	}
	return path;
}

static int
path_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static int
fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* ---- index ---- */

int
store_read_index(struct image_store *st, json_object **index, struct berr *err)
{
	char *path = xasprintf("%s/index.json", st->dir), *buf;
	size_t len;
	json_object *o, *images;

	*index = NULL;
	if (read_file(path, &buf, &len, INDEX_MAX, err) < 0) {
		if (err->code == ENOENT) {
			berr_clear(err);
			o = json_object_new_object();
			json_object_object_add(o, "version", json_object_new_int(1));
			json_object_object_add(o, "images", json_object_new_object());
			*index = o;
			free(path);
			return 0;
		}
		free(path);
		return berr_wrap(err, "reading the image index");
	}
	o = image_json_parse(buf, len);
	free(buf);
	if (o == NULL || !json_object_object_get_ex(o, "images", &images) ||
	    !json_object_is_type(images, json_type_object)) {
		json_object_put(o);
		berr_set(err, BERR_INVALID, "image index `%s' is malformed", path);
		free(path);
		return -1;
	}
	free(path);
	*index = o;
	return 0;
}

static int
store_write_index(struct image_store *st, json_object *index, struct berr *err)
{
	char *path = xasprintf("%s/index.json", st->dir);
	const char *s = json_object_to_json_string_ext(index, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	int r = atomic_write_file(path, s, strlen(s), 0644, err);

	free(path);
	return r < 0 ? berr_wrap(err, "writing the image index") : 0;
}

static json_object *
index_images(json_object *index)
{
	json_object *images = NULL;

	json_object_object_get_ex(index, "images", &images);
	return images;
}

json_object *
store_index_lookup(json_object *index, const char *ref_string, char **canonical, int *matches)
{
	json_object *images = index_images(index), *e = NULL;
	struct image_ref ref;
	struct berr ignored = { 0 };

	if (canonical != NULL)
		*canonical = NULL;
	if (matches != NULL)
		*matches = 0;
	if (image_ref_parse(ref_string, &ref, &ignored) == 0) {
		char *c = image_ref_canonical(&ref);

		image_ref_free(&ref);
		if (json_object_object_get_ex(images, c, &e)) {
			if (canonical != NULL)
				*canonical = c;
			else
				free(c);
			return e;
		}
		free(c);
	}
	if (json_object_object_get_ex(images, ref_string, &e)) {
		if (canonical != NULL)
			*canonical = xstrdup(ref_string);
		return e;
	}
	/* an image digest (or a unique prefix of at least 12 hex digits) */
	{
		const char *hex = strncmp(ref_string, "sha256:", 7) == 0 ? ref_string + 7 : ref_string;
		size_t n = strlen(hex), i;
		json_object *found = NULL;
		const char *found_key = NULL;
		int count = 0;

		if (n < 12 || n > 64)
			return NULL;
		for (i = 0; i < n; i++)
			if (!isxdigit((unsigned char)hex[i]))
				return NULL;
		json_object_object_foreach(images, key, val) {
			json_object *d;

			if (json_object_object_get_ex(val, "digest", &d) &&
			    strncmp(json_object_get_string(d) + 7, hex, n) == 0) {
				found = val;
				found_key = key;
				count++;
			}
		}
		if (matches != NULL)
			*matches = count;
		if (count == 1) {
			if (canonical != NULL)
				*canonical = xstrdup(found_key);
			return found;
		}
	}
	return NULL;
}

/* ---- pull ---- */

struct pull {
	struct image_store *st;
	struct reg_client *rc;
	const struct image_pull_opts *opts;
	char *staging;
	json_object *blobs;	/* every blob digest of the image (strings) */
};

static void
pull_progress(struct pull *p, const char *what, uint64_t done, uint64_t total)
{
	if (p->opts != NULL && p->opts->progress != NULL)
		p->opts->progress(what, done, total, p->opts->arg);
}

static char *
staged_blob_path(struct pull *p, const char *digest)
{
	return xasprintf("%s/blobs/%s", p->staging, digest + 7);
}

static void
pull_note_blob(struct pull *p, const char *digest)
{
	size_t i;

	for (i = 0; i < json_object_array_length(p->blobs); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(p->blobs, i)), digest) == 0)
			return;
	json_object_array_add(p->blobs, json_object_new_string(digest));
}

/* Path of a blob already in the store or staged by this pull, or NULL. */
static char *
pull_find_blob(struct pull *p, const char *digest)
{
	char *path = staged_blob_path(p, digest);

	if (path_exists(path))
		return path;
	free(path);
	path = store_blob_path(p->st, digest);
	if (path_exists(path))
		return path;
	free(path);
	return NULL;
}

static int
pull_stage_bytes(struct pull *p, const char *digest, const char *buf, size_t len, struct berr *err)
{
	char *path;
	int r = 0;

	pull_note_blob(p, digest);
	if ((path = pull_find_blob(p, digest)) != NULL) {
		free(path);
		return 0;
	}
	path = staged_blob_path(p, digest);
	r = atomic_write_file(path, buf, len, 0644, err);
	free(path);
	return r;
}

/* Fetch a blob into staging unless the store (or this pull) has it. */
static int
pull_fetch_blob(struct pull *p, const char *digest, int64_t size, const char *kind, struct berr *err)
{
	char *path, *label;
	int r;

	pull_note_blob(p, digest);
	label = xasprintf("%s %.19s", kind, digest);
	if ((path = pull_find_blob(p, digest)) != NULL) {
		free(path);
		pull_progress(p, label, (uint64_t)size, (uint64_t)size);
		free(label);
		return 0;
	}
	path = staged_blob_path(p, digest);
	r = reg_get_blob(p->rc, digest, size, path, label, err);
	free(path);
	free(label);
	return r;
}

static int
read_blob(struct pull *p, const char *digest, size_t max, char **buf, size_t *len, struct berr *err)
{
	char *path = pull_find_blob(p, digest);
	int r;

	if (path == NULL)
		return berr_set(err, BERR_NOTFOUND, "blob %s missing", digest);
	r = read_file(path, buf, len, max, err);
	free(path);
	return r;
}

/* Fetch a manifest/index by tag or digest, verify its digest (against
 * want_digest if given, and the registry's Docker-Content-Digest), parse
 * and stage it.  *kind_out: see image_manifest_parse. */
static int
pull_manifest(struct pull *p, const char *reference, const char *want_digest, int64_t want_size,
	      json_object **out, char **digest_out, const char **kind_out, struct berr *err)
{
	char *body, *mt_header, *dh, hex[SHA256_HEX_LEN + 1], digest[7 + SHA256_HEX_LEN + 1];
	size_t len;
	json_object *o = NULL;
	int ret = -1;

	*out = NULL;
	*digest_out = NULL;
	pull_progress(p, "manifest", 0, 0);
	if (reg_get_manifest(p->rc, reference, &body, &len, &mt_header, &dh, err) < 0)
		return -1;
	sha256_hex(body, len, hex);
	snprintf(digest, sizeof digest, "sha256:%s", hex);
	if (want_digest != NULL && strcmp(digest, want_digest) != 0) {
		berr_set(err, BERR_INVALID, "manifest %s: content has digest %s (corrupted or tampered)",
			 want_digest, digest);
		goto out;
	}
	if (want_size >= 0 && (int64_t)len != want_size) {
		berr_set(err, BERR_INVALID, "manifest %s: %zu bytes, descriptor says %lld", digest, len,
			 (long long)want_size);
		goto out;
	}
	if (dh != NULL && strncmp(dh, "sha256:", 7) == 0 && strcmp(dh, digest) != 0) {
		berr_set(err, BERR_INVALID, "manifest %s: registry says its digest is %.80s", digest, dh);
		goto out;
	}
	if (image_manifest_parse(body, len, mt_header, &o, kind_out, err) < 0) {
		berr_wrap(err, "manifest %s", digest);
		goto out;
	}
	if (pull_stage_bytes(p, digest, body, len, err) < 0)
		goto out;
	*digest_out = xstrdup(digest);
	*out = o;
	o = NULL;
	ret = 0;
	pull_progress(p, "manifest", len, len);
out:
	json_object_put(o);
	free(body);
	free(mt_header);
	free(dh);
	return ret;
}

static int
pull_commit(struct pull *p, const char *canonical, const char *top_digest, const char *manifest_digest,
	    const struct image_manifest_info *info, const char *created, struct berr *err)
{
	struct image_store *st = p->st;
	const struct image_desc *layers = info->layers;
	size_t nlayers = info->nlayers, i;
	json_object *index = NULL, *entry, *larr;
	int ret = -1;
	char tbuf[64];
	time_t now = time(NULL);
	struct tm tm;

	/* extracted files were written without fsync: make them durable before
	 * they become part of the store */
	{
		int sfd = open(p->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (sfd >= 0) {
			(void)syncfs(sfd);
			close(sfd);
		}
	}
	if (store_lock(st, 1, err) < 0)
		return -1;
	for (i = 0; i < json_object_array_length(p->blobs); i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(p->blobs, i));
		char *staged = staged_blob_path(p, d), *final = store_blob_path(st, d);

		if (path_exists(staged)) {
			if (rename(staged, final) < 0) {
				berr_errno(err, "moving blob %s into the store", d);
				free(staged);
				free(final);
				goto out;
			}
		} else if (!path_exists(final)) {
			berr_set(err, EAGAIN, "blob %s was removed from the store during the pull; pull again", d);
			free(staged);
			free(final);
			goto out;
		}
		free(staged);
		free(final);
	}
	for (i = 0; i < nlayers; i++) {
		char *staged = xasprintf("%s/layers/%s", p->staging, layers[i].diff_id + 7);
		char *final = xasprintf("%s/%s", st->layers, layers[i].diff_id + 7);

		if (path_exists(staged) && !path_exists(final) && rename(staged, final) < 0) {
			berr_errno(err, "moving layer %s into the store", layers[i].diff_id);
			free(staged);
			free(final);
			goto out;
		}
		if (!path_exists(final)) {
			berr_set(err, EAGAIN, "layer %s was removed from the store during the pull; pull again",
				 layers[i].diff_id);
			free(staged);
			free(final);
			goto out;
		}
		free(staged);
		free(final);
	}
	(void)fsync_dir(st->blobs);
	(void)fsync_dir(st->layers);
	if (store_read_index(st, &index, err) < 0)
		goto out;
	entry = json_object_new_object();
	json_object_object_add(entry, "digest", json_object_new_string(top_digest));
	json_object_object_add(entry, "manifest", json_object_new_string(manifest_digest));
	json_object_object_add(entry, "config", json_object_new_string(info->config.digest));
	larr = json_object_new_array();
	for (i = 0; i < nlayers; i++) {
		json_object *l = json_object_new_object();

		json_object_object_add(l, "digest", json_object_new_string(layers[i].digest));
		json_object_object_add(l, "diff_id", json_object_new_string(layers[i].diff_id));
		json_object_object_add(l, "mediaType", json_object_new_string(layers[i].media_type));
		json_object_object_add(l, "size", json_object_new_int64(layers[i].size));
		json_object_array_add(larr, l);
	}
	json_object_object_add(entry, "layers", larr);
	json_object_object_add(entry, "blobs", json_object_get(p->blobs));
	json_object_object_add(entry, "size", json_object_new_int64(info->total_size));
	json_object_object_add(entry, "created", created ? json_object_new_string(created) : NULL);
	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(entry, "pulled", json_object_new_string(tbuf));
	json_object_object_add(index_images(index), canonical, entry);
	if (store_write_index(st, index, err) < 0)
		goto out;
	ret = 0;
out:
	json_object_put(index);
	store_unlock(st);
	return ret;
}

static int
pull_run(struct pull *p, const struct image_ref *ref, const char *canonical, char **digest_out,
	 struct berr *err)
{
	json_object *m = NULL, *config = NULL;
	char *top_digest = NULL, *cur_digest = NULL, *cfgbuf = NULL, *sub;
	const char *kind, *created = NULL;
	struct image_manifest_info info = { 0 };
	struct image_desc *layers;
	size_t nlayers, i, cfglen;
	int depth, ret = -1;

	sub = xasprintf("%s/blobs", p->staging);
	if (mkdir(sub, 0755) < 0) {
		berr_errno(err, "creating `%s'", sub);
		free(sub);
		return -1;
	}
	free(sub);
	sub = xasprintf("%s/layers", p->staging);
	if (mkdir(sub, 0755) < 0) {
		berr_errno(err, "creating `%s'", sub);
		free(sub);
		return -1;
	}
	free(sub);

	if (pull_manifest(p, ref->digest ? ref->digest : ref->tag, ref->digest, -1, &m, &top_digest, &kind,
			  err) < 0)
		goto out;
	cur_digest = xstrdup(top_digest);
	for (depth = 0; strcmp(kind, MT_OCI_INDEX) == 0; depth++) {
		struct image_desc next;
		char *want;
		int r;

		if (depth >= MAX_NESTED_INDEX) {
			berr_set(err, BERR_INVALID, "image index %s: indexes nested too deeply", cur_digest);
			goto out;
		}
		if (image_index_select(m, image_host_arch(), &next, err) < 0) {
			berr_wrap(err, "image index %s", cur_digest);
			goto out;
		}
		want = xstrdup(next.digest);	/* next lives in m, which is replaced */
		json_object_put(m);
		m = NULL;
		free(cur_digest);
		cur_digest = NULL;
		r = pull_manifest(p, want, want, next.size, &m, &cur_digest, &kind, err);
		free(want);
		if (r < 0)
			goto out;
	}
	if (image_manifest_info(m, &info, err) < 0) {
		berr_wrap(err, "manifest %s", cur_digest);
		goto out;
	}
	layers = info.layers;
	nlayers = info.nlayers;
	if (pull_fetch_blob(p, info.config.digest, info.config.size, "config", err) < 0 ||
	    read_blob(p, info.config.digest, IMAGE_CONFIG_MAX, &cfgbuf, &cfglen, err) < 0)
		goto out;
	if (image_config_parse(cfgbuf, cfglen, &info, &config, err) < 0) {
		berr_wrap(err, "image config %s", info.config.digest);
		goto out;
	}
	created = image_obj_str(config, "created");

	for (i = 0; i < nlayers; i++)
		if (pull_fetch_blob(p, layers[i].digest, layers[i].size, "layer", err) < 0)
			goto out;
	for (i = 0; i < nlayers; i++) {
		char *final = xasprintf("%s/%s", p->st->layers, layers[i].diff_id + 7);
		char *staged = xasprintf("%s/layers/%s", p->staging, layers[i].diff_id + 7);
		char *blob, label[64];
		int r = 0;

		snprintf(label, sizeof label, "extract %.19s", layers[i].digest);
		if (!path_exists(final) && !path_exists(staged)) {
			blob = pull_find_blob(p, layers[i].digest);
			pull_progress(p, label, 0, (uint64_t)layers[i].size);
			r = blob == NULL ? berr_set(err, BERR_NOTFOUND, "layer blob %s vanished", layers[i].digest)
					 : layer_extract(blob, layers[i].diff_id, staged, 1, err);
			if (r < 0)
				berr_wrap(err, "layer %s", layers[i].digest);
			else
				pull_progress(p, label, (uint64_t)layers[i].size, (uint64_t)layers[i].size);
			free(blob);
		}
		free(final);
		free(staged);
		if (r < 0)
			goto out;
	}
	if (pull_commit(p, canonical, top_digest, cur_digest, &info, created, err) < 0)
		goto out;
	if (digest_out != NULL) {
		*digest_out = top_digest;
		top_digest = NULL;
	}
	ret = 0;
out:
	image_manifest_info_free(&info);
	json_object_put(config);
	free(cfgbuf);
	json_object_put(m);
	free(top_digest);
	free(cur_digest);
	return ret;
}

int
image_pull(struct image_store *st, const char *refstr, const struct image_pull_opts *opts, char **digest_out,
	   struct berr *err)
{
	struct image_ref ref;
	struct pull p;
	char *canonical;
	struct berr ignored = { 0 };
	int ret;

	if (digest_out != NULL)
		*digest_out = NULL;
	if (image_ref_parse(refstr, &ref, err) < 0)
		return -1;
	canonical = image_ref_canonical(&ref);
	memset(&p, 0, sizeof p);
	p.st = st;
	p.opts = opts;
	p.blobs = json_object_new_array();
	ret = reg_client_new(&ref, opts, &p.rc, err);
	/* from here until the commit, blobs found in the store must stay */
	while (ret == 0 && flock(st->gc_fd, LOCK_SH) < 0)
		if (errno != EINTR)
			ret = berr_errno(err, "locking image store `%s'", st->dir);
	if (ret == 0) {
		p.staging = store_mktemp_dir(st, "pull", err);
		ret = p.staging == NULL ? -1 : pull_run(&p, &ref, canonical, digest_out, err);
		if (p.staging != NULL)
			(void)image_remove_at(AT_FDCWD, p.staging, &ignored);
		(void)flock(st->gc_fd, LOCK_UN);
		/* a re-pulled tag leaves the old image's blobs behind; an rmi
		 * during our pull may have skipped its GC */
		(void)store_collect_garbage(st, &ignored);
	}
	if (ret < 0)
		berr_wrap(err, "pulling %s", canonical);
	free(p.staging);
	reg_client_free(p.rc);
	json_object_put(p.blobs);
	free(canonical);
	image_ref_free(&ref);
	return ret;
}

/* ---- list / remove / gc ---- */

static int
cmp_by_ref(const void *a, const void *b)
{
	json_object *const *x = a, *const *y = b;

	return strcmp(image_obj_str(*x, "ref"), image_obj_str(*y, "ref"));
}

int
image_list(struct image_store *st, json_object **out, struct berr *err)
{
	json_object *index, *arr;

	*out = NULL;
	if (store_lock(st, 0, err) < 0)
		return -1;
	if (store_read_index(st, &index, err) < 0) {
		store_unlock(st);
		return -1;
	}
	store_unlock(st);
	arr = json_object_new_array();
	json_object_object_foreach(index_images(index), key, val) {
		json_object *o = json_object_new_object(), *v;

		json_object_object_add(o, "ref", json_object_new_string(key));
		json_object_object_add(o, "digest",
				       json_object_new_string(image_obj_str(val, "digest") ? image_obj_str(val, "digest") : ""));
		json_object_object_add(o, "id",
				       json_object_new_string(image_obj_str(val, "config") ? image_obj_str(val, "config") : ""));
		json_object_object_add(o, "size", json_object_new_int64(
			json_object_object_get_ex(val, "size", &v) ? json_object_get_int64(v) : 0));
		json_object_object_add(o, "created",
				       image_obj_str(val, "created") ? json_object_new_string(image_obj_str(val, "created")) : NULL);
		json_object_array_add(arr, o);
	}
	json_object_array_sort(arr, cmp_by_ref);
	json_object_put(index);
	*out = arr;
	return 0;
}

int
image_remove(struct image_store *st, const char *ref, struct berr *err)
{
	json_object *index = NULL;
	char *key = NULL;
	int ret = -1, matches;

	if (store_lock(st, 1, err) < 0)
		return -1;
	if (store_read_index(st, &index, err) < 0)
		goto out;
	if (store_index_lookup(index, ref, &key, &matches) == NULL) {
		if (matches > 1)
			berr_set(err, BERR_AMBIGUOUS, "`%s' matches %d images: name one by its reference", ref,
				 matches);
		else
			berr_set(err, BERR_NOTFOUND, "no image `%s' in the store", ref);
		goto out;
	}
	json_object_object_del(index_images(index), key);
	if (store_write_index(st, index, err) < 0)
		goto out;
	ret = 0;
out:
	json_object_put(index);
	store_unlock(st);
	if (ret == 0 && store_collect_garbage(st, err) < 0)
		ret = berr_wrap(err, "removing image `%s' (it is gone from the index; cleaning up its files)", key);
	free(key);
	return ret;
}

int
store_collect_garbage(struct image_store *st, struct berr *err)
{
	int ret;

	if (flock(st->gc_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK || errno == EINTR)
			return 0;	/* a pull is in flight; it collects when done */
		return berr_errno(err, "locking image store `%s'", st->dir);
	}
	if (store_lock(st, 1, err) < 0) {
		(void)flock(st->gc_fd, LOCK_UN);
		return -1;
	}
	ret = store_gc(st, err);
	store_unlock(st);
	(void)flock(st->gc_fd, LOCK_UN);
	return ret;
}

static int
set_has(json_object *set, const char *key)
{
	return json_object_object_get_ex(set, key, NULL);
}

/* Whether a tmp/<prefix>-<pid>-XXXXXX entry belongs to a dead process. */
static int
tmp_entry_stale(const char *name)
{
	const char *dash = strchr(name, '-');
	long pid;
	char *end;

	if (dash == NULL)
		return 1;
	pid = strtol(dash + 1, &end, 10);
	if (end == dash + 1 || *end != '-' || pid <= 0)
		return 1;
	if (pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int
store_gc(struct image_store *st, struct berr *err)
{
	json_object *index, *keep_blobs, *keep_layers;
	DIR *d;
	struct dirent *de;
	int fd, ret = 0;

	if (store_read_index(st, &index, err) < 0)
		return -1;
	keep_blobs = json_object_new_object();
	keep_layers = json_object_new_object();
	json_object_object_foreach(index_images(index), key, val) {
		json_object *arr;
		size_t i;

		(void)key;
		if (json_object_object_get_ex(val, "blobs", &arr) && json_object_is_type(arr, json_type_array))
			for (i = 0; i < json_object_array_length(arr); i++) {
				const char *b = json_object_get_string(json_object_array_get_idx(arr, i));

				if (image_digest_valid(b))
					json_object_object_add(keep_blobs, b + 7, NULL);
			}
		if (json_object_object_get_ex(val, "layers", &arr) && json_object_is_type(arr, json_type_array))
			for (i = 0; i < json_object_array_length(arr); i++) {
				const char *l = image_obj_str(json_object_array_get_idx(arr, i), "diff_id");

				if (image_digest_valid(l))
					json_object_object_add(keep_layers, l + 7, NULL);
			}
	}
	json_object_put(index);

	/* layers still used by a prepared overlay root fs */
	if ((d = opendir(st->inuse)) != NULL) {
		fd = dirfd(d);
		while ((de = readdir(d)) != NULL) {
			char *buf, *path, *probe;
			size_t len;
			json_object *rec, *arr;
			const char *dest;
			struct berr e2 = { 0 };

			if (de->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", st->inuse, de->d_name);
			rec = NULL;
			if (read_file(path, &buf, &len, 1u << 20, &e2) == 0) {
				rec = image_json_parse(buf, len);
				free(buf);
			}
			dest = image_obj_str(rec, "rootfs");
			probe = dest ? xstrdup(dest) : NULL;
			if (probe != NULL && path_exists(probe) &&
			    json_object_object_get_ex(rec, "layers", &arr) && json_object_is_type(arr, json_type_array)) {
				size_t i;

				for (i = 0; i < json_object_array_length(arr); i++) {
					const char *l = json_object_get_string(json_object_array_get_idx(arr, i));

					if (image_digest_valid(l))
						json_object_object_add(keep_layers, l + 7, NULL);
				}
			} else {
				(void)unlinkat(fd, de->d_name, 0);	/* stale record */
			}
			free(probe);
			free(path);
			json_object_put(rec);
		}
		closedir(d);
	}

	if ((d = opendir(st->blobs)) != NULL) {
		fd = dirfd(d);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || set_has(keep_blobs, de->d_name))
				continue;
			if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
				ret = berr_errno(err, "removing blob %s", de->d_name);
		}
		closedir(d);
	}
	if ((d = opendir(st->layers)) != NULL) {
		fd = dirfd(d);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || set_has(keep_layers, de->d_name))
				continue;
			if (image_remove_at(fd, de->d_name, err) < 0 && ret == 0)
				ret = berr_wrap(err, "removing layer %s", de->d_name);
		}
		closedir(d);
	}
	if ((d = opendir(st->tmp)) != NULL) {
		struct berr ignored = { 0 };

		fd = dirfd(d);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || !tmp_entry_stale(de->d_name))
				continue;
			(void)image_remove_at(fd, de->d_name, &ignored);
		}
		closedir(d);
	}
	json_object_put(keep_blobs);
	json_object_put(keep_layers);
	return ret;
}
