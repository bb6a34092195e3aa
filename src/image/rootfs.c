/*
 * rootfs.c - a container root file system from a stored image: an overlayfs
 * mount whose lowerdirs are the image's extracted layers (upper and work
 * under the container's directory) where the kernel lets us mount it, else a
 * flattened copy of the layers with their whiteouts applied.
 *
 * While an overlay is mounted, a record in <store>/inuse/ names its layers so
 * that `rmi` of the image does not pull them from under the container; the
 * record goes stale (and GC drops it) once the root fs directory is gone.
 * Set BERTH_IMAGE_NO_OVERLAY=1 to force the copy (tests, odd file systems).
 * Not for: namespaces, pivot_root or anything else of running a container.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dirs.h"
#include "core/util.h"
#include "image/image-internal.h"
#include "image/sha256.h"

#define COPY_DONE_MARKER ".rootfs-complete"

static int
is_mount_point(const char *path, const char *parent)
{
	struct stat a, b;

	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return 0;
	return a.st_dev != b.st_dev;
}

/* New mount API with "lowerdir+" (Linux 6.8+): no length or character
 * limits on the layer paths. */
static int
overlay_mount_fsconfig(char **lowers, size_t n, const char *upper, const char *work, const char *target)
{
	int fs, mnt, saved;
	size_t i;

	fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	/* the top layer comes first */
	for (i = n; i-- > 0;)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
			goto fail;
	/* each container has its own upper over shared lowers: no inode index
	 * (a kernel built without it refuses the key; that is fine) */
	(void)fsconfig(fs, FSCONFIG_SET_STRING, "index", "off", 0);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto fail;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		goto fail;
	close(fs);
	if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		saved = errno;
		close(mnt);
		errno = saved;
		return -1;
	}
	close(mnt);
	return 0;
fail:
	saved = errno;
	close(fs);
	errno = saved;
	return -1;
}

/* Classic mount(2): one option string of at most a page. */
static int
overlay_mount_legacy(char **lowers, size_t n, const char *upper, const char *work, const char *target)
{
	size_t i, len = 64 + strlen(upper) + strlen(work);
	char *data, *p;
	int r;

	for (i = 0; i < n; i++) {
		if (strpbrk(lowers[i], ",:\\") != NULL) {
			errno = EINVAL;
			return -1;
		}
		len += strlen(lowers[i]) + 1;
	}
	if (strpbrk(upper, ",:\\") != NULL || strpbrk(work, ",:\\") != NULL || len >= 4000) {
		errno = E2BIG;
		return -1;
	}
	data = xmalloc(len);
	p = data + sprintf(data, "lowerdir=");
	for (i = n; i-- > 0;)
		p += sprintf(p, "%s%s", lowers[i], i > 0 ? ":" : "");
	sprintf(p, ",upperdir=%s,workdir=%s", upper, work);
	r = mount("overlay", target, "overlay", 0, data);
	free(data);
	return r;
}

static int
write_inuse_record(struct image_store *st, const char *dest, const char *rootfs, json_object *diff_ids,
		   char **record_out, struct berr *err)
{
	char hex[SHA256_HEX_LEN + 1], *path;
	json_object *rec = json_object_new_object();
	const char *s;
	int r;

	sha256_hex(dest, strlen(dest), hex);
	path = xasprintf("%s/%s.json", st->inuse, hex);
	json_object_object_add(rec, "rootfs", json_object_new_string(rootfs));
	json_object_object_add(rec, "layers", json_object_get(diff_ids));
	s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	r = atomic_write_file(path, s, strlen(s), 0644, err);
	json_object_put(rec);
	if (r < 0) {
		free(path);
		return -1;
	}
	*record_out = path;
	return 0;
}

static int
read_config(struct image_store *st, const char *digest, json_object **config_out, struct berr *err)
{
	char *path, *buf;
	size_t len;
	json_object *o, *c;

	*config_out = NULL;
	if (!image_digest_valid(digest))
		return berr_set(err, BERR_INVALID, "image index names a bad config digest");
	path = store_blob_path(st, digest);
	if (read_file(path, &buf, &len, IMAGE_CONFIG_MAX, err) < 0) {
		free(path);
		return berr_wrap(err, "reading image config %s", digest);
	}
	free(path);
	o = image_json_parse(buf, len);
	free(buf);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return berr_set(err, BERR_INVALID, "image config %s is malformed", digest);
	}
	if (json_object_object_get_ex(o, "config", &c) && json_object_is_type(c, json_type_object))
		*config_out = json_object_get(c);
	else
		*config_out = json_object_new_object();
	json_object_put(o);
	return 0;
}

static int
rootfs_copy(struct image_store *st, char **layer_dirs, size_t n, const char *rootfs, const char *dest,
	    struct berr *err)
{
	char *marker = xasprintf("%s/%s", dest, COPY_DONE_MARKER);
	int fd, ret = 0;
	size_t i;

	if (image_remove_at(AT_FDCWD, rootfs, err) < 0)	/* a partial earlier copy */
		goto out_err;
	if (mkdir(rootfs, 0755) < 0) {
		berr_errno(err, "creating `%s'", rootfs);
		goto out_err;
	}
	fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		berr_errno(err, "opening `%s'", rootfs);
		goto out_err;
	}
	for (i = 0; i < n && ret == 0; i++) {
		ret = layer_flatten(layer_dirs[i], fd, err);
		if (ret < 0)
			berr_wrap(err, "copying layer %zu of %zu", i + 1, n);
	}
	close(fd);
	if (ret < 0 || atomic_write_file(marker, "", 0, 0644, err) < 0)
		goto out_err;
	free(marker);
	(void)st;
	return 0;
out_err:
	free(marker);
	return -1;
}

int
image_rootfs_prepare(struct image_store *st, const char *ref, const char *dest_dir, char **rootfs_path_out,
		     json_object **config_out, struct berr *err)
{
	json_object *index = NULL, *entry, *larr, *diff_ids = NULL, *config = NULL;
	char **layer_dirs = NULL, *dest = NULL, *rootfs = NULL, *upper = NULL, *work = NULL, *marker = NULL;
	char *record = NULL, *empty = NULL;
	const char *config_digest;
	size_t n = 0, i;
	int ret = -1, overlay_ok, matches;

	*rootfs_path_out = NULL;
	if (config_out != NULL)
		*config_out = NULL;
	if (store_lock(st, 0, err) < 0)
		return -1;
	if (store_read_index(st, &index, err) < 0)
		goto out;
	entry = store_index_lookup(index, ref, NULL, &matches);
	if (entry == NULL) {
		if (matches > 1)
			berr_set(err, BERR_AMBIGUOUS, "`%s' matches %d images: name one by its reference", ref,
				 matches);
		else
			berr_set(err, BERR_NOTFOUND, "image `%s' is not in the store (pull it first)", ref);
		goto out;
	}
	config_digest = json_object_get_string(json_object_object_get(entry, "config"));
	if (read_config(st, config_digest, &config, err) < 0)
		goto out;
	if (!json_object_object_get_ex(entry, "layers", &larr) || !json_object_is_type(larr, json_type_array)) {
		berr_set(err, BERR_INVALID, "image index entry for `%s' is malformed", ref);
		goto out;
	}
	n = json_object_array_length(larr);
	layer_dirs = xcalloc(n + 1, sizeof *layer_dirs);
	diff_ids = json_object_new_array();
	overlay_ok = geteuid() == 0 && getenv("BERTH_IMAGE_NO_OVERLAY") == NULL;
	for (i = 0; i < n; i++) {
		const char *d = json_object_get_string(
			json_object_object_get(json_object_array_get_idx(larr, i), "diff_id"));
		struct stat sb;

		if (!image_digest_valid(d)) {
			berr_set(err, BERR_INVALID, "image index entry for `%s' has a bad diff_id", ref);
			goto out;
		}
		layer_dirs[i] = xasprintf("%s/%s", st->layers, d + 7);
		if (stat(layer_dirs[i], &sb) < 0) {
			berr_errno(err, "image `%s': layer %s", ref, d);
			goto out;
		}
		if (overlay_ok && !layer_has_overlay_whiteouts(layer_dirs[i]))
			overlay_ok = 0;
		json_object_array_add(diff_ids, json_object_new_string(d));
	}
	if (mkdir_p(dest_dir, 0700, err) < 0)
		goto out;
	dest = realpath(dest_dir, NULL);
	if (dest == NULL) {
		berr_errno(err, "resolving `%s'", dest_dir);
		goto out;
	}
	rootfs = xasprintf("%s/rootfs", dest);
	marker = xasprintf("%s/%s", dest, COPY_DONE_MARKER);
	/* prepared before (a restarted container): reuse as is */
	if (is_mount_point(rootfs, dest) || access(marker, F_OK) == 0) {
		ret = 0;
		goto done;
	}
	if (overlay_ok) {
		char **lowers = layer_dirs, *one[1];
		size_t nl = n;

		upper = xasprintf("%s/upper", dest);
		work = xasprintf("%s/work", dest);
		for (i = 0; i < n; i++) {
			char *r = xasprintf("%s/root", layer_dirs[i]);

			free(layer_dirs[i]);
			layer_dirs[i] = r;
		}
		if (n == 0) {	/* overlay wants a lowerdir even for an empty image */
			empty = xasprintf("%s/empty", dest);
			(void)mkdir(empty, 0755);
			one[0] = empty;
			lowers = one;
			nl = 1;
		}
		if ((mkdir(upper, 0755) < 0 && errno != EEXIST) || (mkdir(work, 0700) < 0 && errno != EEXIST) ||
		    (mkdir(rootfs, 0755) < 0 && errno != EEXIST)) {
			berr_errno(err, "creating overlay directories in `%s'", dest);
			goto out;
		}
		if (write_inuse_record(st, dest, rootfs, diff_ids, &record, err) < 0)
			goto out;
		if (overlay_mount_fsconfig(lowers, nl, upper, work, rootfs) == 0 ||
		    overlay_mount_legacy(lowers, nl, upper, work, rootfs) == 0) {
			ret = 0;
			goto done;
		}
		/* the kernel refused (nested overlay, odd fs...): copy instead */
		(void)unlink(record);
		{
			struct berr ignored = { 0 };

			(void)image_remove_at(AT_FDCWD, upper, &ignored);
			(void)image_remove_at(AT_FDCWD, work, &ignored);
			if (empty != NULL)
				(void)image_remove_at(AT_FDCWD, empty, &ignored);
		}
		for (i = 0; i < n; i++) {
			char *p = layer_dirs[i];

			p[strlen(p) - strlen("/root")] = '\0';
		}
	}
	if (rootfs_copy(st, layer_dirs, n, rootfs, dest, err) < 0)
		goto out;
	ret = 0;
done:
	*rootfs_path_out = rootfs;
	rootfs = NULL;
	if (config_out != NULL) {
		*config_out = config;
		config = NULL;
	}
out:
	store_unlock(st);
	if (ret < 0)
		berr_wrap(err, "preparing a root fs for `%s' in `%s'", ref, dest_dir);
	for (i = 0; layer_dirs != NULL && i < n; i++)
		free(layer_dirs[i]);
	free(layer_dirs);
	json_object_put(diff_ids);
	json_object_put(config);
	json_object_put(index);
	free(dest);
	free(rootfs);
	free(upper);
	free(work);
	free(marker);
	free(record);
	free(empty);
	return ret;
}

int
image_rootfs_release(const char *dest_dir, struct berr *err)
{
	char *rootfs;
	struct stat sb;
	int tries;

	if (lstat(dest_dir, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_errno(err, "releasing root fs `%s'", dest_dir);
	}
	rootfs = xasprintf("%s/rootfs", dest_dir);
	for (tries = 0; tries < 8 && is_mount_point(rootfs, dest_dir); tries++) {
		if (umount2(rootfs, 0) < 0 && errno == EBUSY)
			(void)umount2(rootfs, MNT_DETACH);
	}
	if (is_mount_point(rootfs, dest_dir)) {
		berr_errno(err, "unmounting `%s'", rootfs);
		free(rootfs);
		return -1;
	}
	free(rootfs);
	if (image_remove_at(AT_FDCWD, dest_dir, err) < 0)
		return berr_wrap(err, "releasing root fs `%s'", dest_dir);
	return 0;
}
