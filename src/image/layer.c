/*
 * layer.c - OCI layers on disk: extracting a layer tar (plain, gzip or zstd)
 * with libarchive into its own directory, and flattening extracted layers
 * onto a root fs for hosts without overlayfs.
 *
 * A layer tar is hostile: entry paths must be relative without "..",
 * extraction never writes through a symlink, hard links must name a path
 * inside the layer reached without symlinks, and trusted.* xattrs are
 * dropped (they would steer overlayfs).  Whiteouts (".wh.NAME",
 * ".wh..wh..opq") are recorded in <layer>/whiteouts.json and, as root, also
 * written as overlay whiteouts (char 0/0, trusted.overlay.opaque=y) so the
 * tree can be an overlay lowerdir as is.
 * Not for: fetching (registry.c) or choosing overlay vs copy (rootfs.c).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <linux/fs.h>

#include "core/dirs.h"
#include "core/util.h"
#include "image/image-internal.h"
#include "image/sha256.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OVL_OPAQUE_XATTR "trusted.overlay.opaque"

char *
layer_clean_path(const char *path)
{
	char *out = xmalloc(strlen(path) + 1);
	size_t olen = 0;
	const char *p = path;

	if (path[0] == '/') {
		free(out);
		return NULL;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (olen > 0)
				out[olen++] = '/';
			memcpy(out + olen, p, n);
			olen += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[olen] = '\0';
	return out;
}

int
image_remove_at(int dirfd, const char *name, struct berr *err)
{
	struct stat st, sub;
	DIR *d;
	struct dirent *de;
	int fd, ret = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_errno(err, "removing `%s'", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return berr_errno(err, "removing `%s'", name);
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_errno(err, "opening `%s' for removal", name);
	if (fstat(fd, &sub) < 0 || sub.st_dev != st.st_dev || sub.st_ino != st.st_ino) {
		close(fd);
		return berr_set(err, EBUSY, "removing `%s': directory changed under us", name);
	}
	/* so that a read-only directory can be emptied without root */
	if ((st.st_mode & 0700) != 0700)
		(void)fchmod(fd, (st.st_mode & 07777) | 0700);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return berr_errno(err, "reading `%s'", name);
	}
	while ((de = readdir(d)) != NULL) {
		struct stat cst;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(cst.st_mode) &&
		    cst.st_dev != st.st_dev) {
			ret = berr_set(err, EBUSY, "removing `%s/%s': a file system is mounted there", name,
				       de->d_name);
			break;
		}
		if (image_remove_at(fd, de->d_name, err) < 0) {
			berr_wrap(err, "removing `%s'", name);
			ret = -1;
			break;
		}
	}
	closedir(d);
	if (ret == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = berr_errno(err, "removing directory `%s'", name);
	return ret;
}

/* Open the directory rel (cleaned, relative) below rootfd without following
 * any symlink; with create, missing components are made (mode 0755).
 * Returns an fd, or -1 with errno (ENOTDIR/ELOOP when a component is not a
 * real directory). */
static int
open_dir_beneath(int rootfd, const char *rel, int create)
{
	int fd = dup(rootfd), next;
	const char *p = rel;
	char comp[NAME_MAX + 1];

	if (fd < 0)
		return -1;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				int e = errno;

				close(fd);
				errno = e;
				return -1;
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		close(fd);
		fd = next;
		p += n;
		while (*p == '/')
			p++;
	}
	return fd;
}

/* Split a cleaned path into its parent ("" for the root) and last name. */
static void
split_parent(const char *path, char **parent, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*parent = xstrdup("");
		*base = path;
	} else {
		*parent = xstrndup(path, (size_t)(slash - path));
		*base = slash + 1;
	}
}

/* ---- extraction ---- */

struct layer_src {
	struct archive *outer;	/* decompressor, raw format */
	struct sha256_ctx sha;	/* of the uncompressed stream = diff_id */
	char buf[65536];
};

static la_ssize_t
layer_src_read(struct archive *a, void *arg, const void **out)
{
	struct layer_src *s = arg;
	la_ssize_t n = archive_read_data(s->outer, s->buf, sizeof s->buf);

	if (n < 0) {
		archive_set_error(a, archive_errno(s->outer) ? archive_errno(s->outer) : EIO, "%s",
				  archive_error_string(s->outer) ? archive_error_string(s->outer)
								 : "decompression failed");
		return -1;
	}
	sha256_update(&s->sha, s->buf, (size_t)n);
	*out = s->buf;
	return n;
}

/* Keep every xattr of the entry except the trusted.* namespace. */
static void
entry_strip_trusted_xattrs(struct archive_entry *e)
{
	struct kept {
		char *name;
		void *value;
		size_t size;
	} *kept = NULL;
	size_t n = 0, i;
	const char *name;
	const void *value;
	size_t size;
	int dropped = 0;

	if (archive_entry_xattr_reset(e) == 0)
		return;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (strncmp(name, "trusted.", 8) == 0) {
			dropped = 1;
			continue;
		}
		kept = xrealloc(kept, (n + 1) * sizeof *kept);
		kept[n].name = xstrdup(name);
		kept[n].value = xmalloc(size ? size : 1);
		memcpy(kept[n].value, value, size);
		kept[n].size = size;
		n++;
	}
	if (dropped) {
		archive_entry_xattr_clear(e);
		for (i = 0; i < n; i++)
			archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
	}
	for (i = 0; i < n; i++) {
		free(kept[i].name);
		free(kept[i].value);
	}
	free(kept);
}

/* A hard link target must exist inside the layer and be reached through
 * real directories only (no symlink in its parent chain). */
static int
hardlink_target_safe(int rootfd, const char *clean)
{
	char *parent;
	const char *base;
	struct stat st;
	int fd, ok;

	split_parent(clean, &parent, &base);
	fd = open_dir_beneath(rootfd, parent, 0);
	free(parent);
	if (fd < 0)
		return 0;
	ok = fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode);
	close(fd);
	return ok;
}

static int
add_whiteouts_overlay(int rootfd, json_object *whiteouts, json_object *opaque, struct berr *err)
{
	size_t i;

	for (i = 0; i < json_object_array_length(whiteouts); i++) {
		const char *path = json_object_get_string(json_object_array_get_idx(whiteouts, i));
		char *parent;
		const char *base;
		int fd;

		split_parent(path, &parent, &base);
		fd = open_dir_beneath(rootfd, parent, 1);
		if (fd < 0) {
			berr_errno(err, "creating whiteout `%s'", path);
			free(parent);
			return -1;
		}
		free(parent);
		if (image_remove_at(fd, base, err) < 0 ||
		    mknodat(fd, base, S_IFCHR | 0000, makedev(0, 0)) < 0) {
			if (err->code == 0)
				berr_errno(err, "creating overlay whiteout `%s'", path);
			close(fd);
			return -1;
		}
		close(fd);
	}
	for (i = 0; i < json_object_array_length(opaque); i++) {
		const char *path = json_object_get_string(json_object_array_get_idx(opaque, i));
		int fd = open_dir_beneath(rootfd, path, 1);

		if (fd < 0)
			return berr_errno(err, "opening opaque directory `%s'", path);
		if (fsetxattr(fd, OVL_OPAQUE_XATTR, "y", 1, 0) < 0) {
			berr_errno(err, "marking `%s' opaque", path);
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int
layer_extract_entries(struct archive *in, struct archive *out, const char *root, int rootfd,
		      json_object *whiteouts, json_object *opaque, struct berr *err)
{
	struct archive_entry *e;
	int r, is_root = geteuid() == 0;

	for (;;) {
		const char *name, *hl;
		char *clean, *full, *hclean = NULL, *parent;
		const char *base;
		mode_t type;

		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return berr_set(err, BERR_INVALID, "reading layer tar: %s", archive_error_string(in));
		name = archive_entry_pathname(e);
		if (name == NULL)
			return berr_set(err, BERR_INVALID, "layer tar entry without a name");
		clean = layer_clean_path(name);
		if (clean == NULL)
			return berr_set(err, BERR_INVALID, "layer has an unsafe path `%.200s' (absolute or with `..')",
					name);
		if (*clean == '\0') {	/* the root directory itself */
			free(clean);
			continue;
		}
		split_parent(clean, &parent, &base);
		if (strcmp(base, WH_OPAQUE) == 0) {
			json_object_array_add(opaque, json_object_new_string(parent));
			free(parent);
			free(clean);
			continue;
		}
		if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
			const char *target = base + strlen(WH_PREFIX);
			char *wpath;

			if (*target == '\0' || strcmp(target, ".") == 0 || strcmp(target, "..") == 0) {
				free(parent);
				free(clean);
				return berr_set(err, BERR_INVALID, "layer has a bad whiteout `%.200s'", name);
			}
			wpath = *parent ? xasprintf("%s/%s", parent, target) : xstrdup(target);
			json_object_array_add(whiteouts, json_object_new_string(wpath));
			free(wpath);
			free(parent);
			free(clean);
			continue;
		}
		free(parent);
		type = archive_entry_filetype(e);
		if (type == AE_IFSOCK || ((type == AE_IFCHR || type == AE_IFBLK) && !is_root)) {
			free(clean);	/* sockets never; device nodes need root */
			continue;
		}
		hl = archive_entry_hardlink(e);
		if (hl != NULL) {
			hclean = layer_clean_path(hl);
			if (hclean == NULL || *hclean == '\0' || !hardlink_target_safe(rootfd, hclean)) {
				berr_set(err, BERR_INVALID,
					 "layer entry `%.200s' is a hard link to `%.200s', outside the layer or missing",
					 name, hl);
				free(hclean);
				free(clean);
				return -1;
			}
			full = xasprintf("%s/%s", root, hclean);
			archive_entry_set_hardlink(e, full);
			free(full);
			free(hclean);
		}
		entry_strip_trusted_xattrs(e);
		full = xasprintf("%s/%s", root, clean);
		archive_entry_set_pathname(e, full);
		free(full);
		r = archive_write_header(out, e);
		if (r < ARCHIVE_WARN) {
			berr_set(err, BERR_INVALID, "extracting `%.200s': %s", clean, archive_error_string(out));
			free(clean);
			return -1;
		}
		if (archive_entry_size(e) > 0 && hl == NULL) {
			const void *buf;
			size_t size;
			la_int64_t off;

			while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
				if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN) {
					berr_set(err, EIO, "writing `%.200s': %s", clean, archive_error_string(out));
					free(clean);
					return -1;
				}
			}
			if (r != ARCHIVE_EOF) {
				berr_set(err, BERR_INVALID, "reading `%.200s' from layer: %s", clean,
					 archive_error_string(in));
				free(clean);
				return -1;
			}
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			berr_set(err, EIO, "finishing `%.200s': %s", clean, archive_error_string(out));
			free(clean);
			return -1;
		}
		free(clean);
	}
}

int
layer_extract(const char *blob_path, const char *diff_id, const char *dest, int overlay,
	      struct berr *err)
{
	struct layer_src *src = NULL;
	struct archive *in = NULL, *out = NULL;
	json_object *meta = NULL, *whiteouts, *opaque;
	char *rootdir = NULL, *root = NULL, *metapath = NULL, hex[SHA256_HEX_LEN + 1];
	const char *js;
	int rootfd = -1, ret = -1, flags;

	if (overlay && geteuid() != 0)
		overlay = 0;
	if (mkdir(dest, 0755) < 0)
		return berr_errno(err, "creating `%s'", dest);
	rootdir = xasprintf("%s/root", dest);
	if (mkdir(rootdir, 0755) < 0) {
		berr_errno(err, "creating `%s'", rootdir);
		goto out;
	}
	/* libarchive checks every component for symlinks: give it a real path */
	root = realpath(rootdir, NULL);
	if (root == NULL) {
		berr_errno(err, "resolving `%s'", rootdir);
		goto out;
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		berr_errno(err, "opening `%s'", root);
		goto out;
	}
	src = xcalloc(1, sizeof *src);
	sha256_init(&src->sha);
	src->outer = archive_read_new();
	archive_read_support_filter_gzip(src->outer);
	archive_read_support_filter_zstd(src->outer);
	archive_read_support_format_raw(src->outer);
	if (archive_read_open_filename(src->outer, blob_path, 65536) != ARCHIVE_OK) {
		berr_set(err, BERR_INVALID, "opening layer `%s': %s", blob_path,
			 archive_error_string(src->outer));
		goto out;
	}
	{
		struct archive_entry *raw;

		if (archive_read_next_header(src->outer, &raw) != ARCHIVE_OK) {
			berr_set(err, BERR_INVALID, "reading layer `%s': %s", blob_path,
				 archive_error_string(src->outer));
			goto out;
		}
	}
	in = archive_read_new();
	archive_read_support_format_tar(in);
	if (archive_read_open(in, src, NULL, layer_src_read, NULL) != ARCHIVE_OK) {
		berr_set(err, BERR_INVALID, "layer is not a tar archive: %s", archive_error_string(in));
		goto out;
	}
	out = archive_write_disk_new();
	flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR |
		ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER;
	archive_write_disk_set_options(out, flags);
	meta = json_object_new_object();
	whiteouts = json_object_new_array();
	opaque = json_object_new_array();
	json_object_object_add(meta, "whiteouts", whiteouts);
	json_object_object_add(meta, "opaque", opaque);
	if (layer_extract_entries(in, out, root, rootfd, whiteouts, opaque, err) < 0)
		goto out;
	if (archive_write_close(out) != ARCHIVE_OK) {
		berr_set(err, EIO, "finishing layer extraction: %s", archive_error_string(out));
		goto out;
	}
	/* hash whatever follows the tar's end marker too: diff_id covers it all */
	for (;;) {
		la_ssize_t n = archive_read_data(src->outer, src->buf, sizeof src->buf);

		if (n == 0)
			break;
		if (n < 0) {
			berr_set(err, BERR_INVALID, "decompressing layer: %s", archive_error_string(src->outer));
			goto out;
		}
		sha256_update(&src->sha, src->buf, (size_t)n);
	}
	sha256_final_hex(&src->sha, hex);
	if (diff_id != NULL && strcmp(hex, diff_id + 7) != 0) {
		berr_set(err, BERR_INVALID, "layer content has diff_id sha256:%s, image config says %s", hex,
			 diff_id);
		goto out;
	}
	if (overlay && add_whiteouts_overlay(rootfd, whiteouts, opaque, err) < 0)
		goto out;
	json_object_object_add(meta, "overlay", json_object_new_boolean(
		overlay || (json_object_array_length(whiteouts) == 0 && json_object_array_length(opaque) == 0)));
	json_object_object_add(meta, "diff_id", json_object_new_string(hex));
	js = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	metapath = xasprintf("%s/whiteouts.json", dest);
	if (atomic_write_file(metapath, js, strlen(js), 0644, err) < 0)
		goto out;
	ret = 0;
out:
	if (in != NULL)
		archive_read_free(in);
	if (out != NULL)
		archive_write_free(out);
	if (src != NULL) {
		archive_read_free(src->outer);
		free(src);
	}
	if (rootfd >= 0)
		close(rootfd);
	json_object_put(meta);
	if (ret < 0) {
		struct berr ignored = { 0 };

		image_remove_at(AT_FDCWD, dest, &ignored);
	}
	free(metapath);
	free(root);
	free(rootdir);
	return ret;
}

static json_object *
layer_read_meta(const char *layer_dir, struct berr *err)
{
	char *path = xasprintf("%s/whiteouts.json", layer_dir), *buf;
	size_t len;
	json_object *o;

	if (read_file(path, &buf, &len, 64u << 20, err) < 0) {
		free(path);
		return NULL;
	}
	o = image_json_parse(buf, len);
	free(buf);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		berr_set(err, BERR_INVALID, "`%s' is malformed", path);
	free(path);
	return o;
}

int
layer_has_overlay_whiteouts(const char *layer_dir)
{
	struct berr err = { 0 };
	json_object *o = layer_read_meta(layer_dir, &err), *v;
	int ok;

	if (o == NULL)
		return 0;
	ok = json_object_object_get_ex(o, "overlay", &v) && json_object_get_boolean(v);
	json_object_put(o);
	return ok;
}

/* ---- flattening (copy fallback) ---- */

struct hl_slot {
	dev_t dev;
	ino_t ino;
	char *path;		/* where the first copy went, relative to the root */
};

struct flatten {
	int rootfd;
	int is_root;
	struct hl_slot *hl;
	size_t hl_cap, hl_count;
	char path[PATH_MAX];	/* current directory, relative to the root */
};

static struct hl_slot *
hl_find(struct flatten *f, dev_t dev, ino_t ino, int insert)
{
	size_t i;

	if (insert && (f->hl_count + 1) * 2 > f->hl_cap) {
		struct hl_slot *old = f->hl;
		size_t oldcap = f->hl_cap, j;

		f->hl_cap = oldcap ? oldcap * 2 : 64;
		f->hl = xcalloc(f->hl_cap, sizeof *f->hl);
		for (j = 0; j < oldcap; j++) {
			if (old[j].path == NULL)
				continue;
			i = (size_t)(old[j].ino * 2654435761u) % f->hl_cap;
			while (f->hl[i].path != NULL)
				i = (i + 1) % f->hl_cap;
			f->hl[i] = old[j];
		}
		free(old);
	}
	if (f->hl_cap == 0)
		return NULL;
	i = (size_t)(ino * 2654435761u) % f->hl_cap;
	while (f->hl[i].path != NULL) {
		if (f->hl[i].dev == dev && f->hl[i].ino == ino)
			return &f->hl[i];
		i = (i + 1) % f->hl_cap;
	}
	if (!insert)
		return NULL;
	f->hl[i].dev = dev;
	f->hl[i].ino = ino;
	f->hl_count++;
	return &f->hl[i];
}

static void
copy_xattrs(int srcfd, int dstfd)
{
	char names[65536], value[65536];
	ssize_t len = flistxattr(srcfd, names, sizeof names), off = 0;

	if (len <= 0)
		return;
	while (off < len) {
		const char *n = names + off;
		ssize_t vlen;

		off += (ssize_t)strlen(n) + 1;
		if (strncmp(n, "trusted.", 8) == 0)
			continue;
		vlen = fgetxattr(srcfd, n, value, sizeof value);
		if (vlen >= 0)
			(void)fsetxattr(dstfd, n, value, (size_t)vlen, 0);
	}
}

static int
copy_file_data(int in, int out, const char *name, struct berr *err)
{
	char buf[65536];

	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);

		if (n == 0)
			return 0;
		if (n < 0)
			break;
	}
	if (lseek(in, 0, SEEK_SET) < 0 || lseek(out, 0, SEEK_SET) < 0 || ftruncate(out, 0) < 0)
		return berr_errno(err, "copying `%s'", name);
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf), off = 0;

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berr_errno(err, "reading `%s'", name);
		}
		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				return berr_errno(err, "writing `%s'", name);
			}
			off += w;
		}
	}
}

/* Owner, xattrs, mode, times: in this order, because chown clears
 * security.capability and the set-id bits. */
static void
apply_meta_fd(struct flatten *f, int srcfd, int fd, const struct stat *s)
{
	struct timespec ts[2] = { s->st_atim, s->st_mtim };

	if (f->is_root)
		(void)fchown(fd, s->st_uid, s->st_gid);
	copy_xattrs(srcfd, fd);
	(void)fchmod(fd, s->st_mode & 07777);
	(void)futimens(fd, ts);
}

static int flatten_dir(struct flatten *f, int srcfd, int dstfd, struct berr *err);

static int
flatten_entry(struct flatten *f, int srcfd, int dstfd, const char *name, struct berr *err)
{
	struct stat s, d;
	int exists, sfd, dfd, ret = 0;
	size_t plen = strlen(f->path);
	char *relpath;

	if (fstatat(srcfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_errno(err, "reading layer entry `%s/%s'", f->path, name);
	if (S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0))
		return 0;	/* overlay whiteout; deletions were applied already */
	if (S_ISSOCK(s.st_mode))
		return 0;
	exists = fstatat(dstfd, name, &d, AT_SYMLINK_NOFOLLOW) == 0;
	/* a non-directory replaces whatever was there; a directory merges
	 * into a directory and replaces anything else */
	if (exists && (!S_ISDIR(s.st_mode) || !S_ISDIR(d.st_mode))) {
		if (image_remove_at(dstfd, name, err) < 0)
			return -1;
		exists = 0;
	}
	relpath = plen ? xasprintf("%s/%s", f->path, name) : xstrdup(name);
	switch (s.st_mode & S_IFMT) {
	case S_IFDIR:
		if (!exists && mkdirat(dstfd, name, 0700) < 0) {
			ret = berr_errno(err, "creating `%s'", relpath);
			break;
		}
		sfd = openat(srcfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		dfd = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0 || dfd < 0) {
			ret = berr_errno(err, "opening `%s'", relpath);
		} else if (strlen(relpath) >= sizeof f->path) {
			ret = berr_set(err, ENAMETOOLONG, "path too long: `%.200s'", relpath);
		} else {
			strcpy(f->path, relpath);
			ret = flatten_dir(f, sfd, dfd, err);
			f->path[plen] = '\0';
			if (ret == 0)
				apply_meta_fd(f, sfd, dfd, &s);
		}
		if (sfd >= 0)
			close(sfd);
		if (dfd >= 0)
			close(dfd);
		break;
	case S_IFREG: {
		struct hl_slot *slot = NULL;

		if (s.st_nlink > 1) {
			slot = hl_find(f, s.st_dev, s.st_ino, 0);
			if (slot != NULL) {
				char *parent;
				const char *base;
				int pfd;

				split_parent(slot->path, &parent, &base);
				pfd = open_dir_beneath(f->rootfd, parent, 0);
				free(parent);
				if (pfd >= 0 && linkat(pfd, base, dstfd, name, 0) == 0) {
					close(pfd);
					break;
				}
				if (pfd >= 0)
					close(pfd);
				slot = NULL;	/* fall back to a copy */
			} else {
				slot = hl_find(f, s.st_dev, s.st_ino, 1);
				slot->path = xstrdup(relpath);
			}
		}
		sfd = openat(srcfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0) {
			ret = berr_errno(err, "opening layer file `%s'", relpath);
			break;
		}
		dfd = openat(dstfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dfd < 0) {
			ret = berr_errno(err, "creating `%s'", relpath);
			close(sfd);
			break;
		}
		ret = copy_file_data(sfd, dfd, relpath, err);
		if (ret == 0)
			apply_meta_fd(f, sfd, dfd, &s);
		close(sfd);
		if (close(dfd) < 0 && ret == 0)
			ret = berr_errno(err, "writing `%s'", relpath);
		break;
	}
	case S_IFLNK: {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(srcfd, name, target, PATH_MAX);
		struct timespec ts[2] = { s.st_atim, s.st_mtim };

		if (n < 0) {
			ret = berr_errno(err, "reading link `%s'", relpath);
			break;
		}
		target[n] = '\0';
		if (symlinkat(target, dstfd, name) < 0) {
			ret = berr_errno(err, "creating link `%s'", relpath);
			break;
		}
		if (f->is_root)
			(void)fchownat(dstfd, name, s.st_uid, s.st_gid, AT_SYMLINK_NOFOLLOW);
		(void)utimensat(dstfd, name, ts, AT_SYMLINK_NOFOLLOW);
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		if (mknodat(dstfd, name, s.st_mode, s.st_rdev) < 0) {
			if (errno == EPERM && !f->is_root)
				break;	/* device nodes need root; skip them */
			ret = berr_errno(err, "creating node `%s'", relpath);
			break;
		}
		if (f->is_root)
			(void)fchownat(dstfd, name, s.st_uid, s.st_gid, AT_SYMLINK_NOFOLLOW);
		(void)fchmodat(dstfd, name, s.st_mode & 07777, 0);
		break;
	default:
		break;
	}
	free(relpath);
	return ret;
}

static int
flatten_dir(struct flatten *f, int srcfd, int dstfd, struct berr *err)
{
	int fd = dup(srcfd), ret = 0;
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return berr_errno(err, "reading layer directory `%s'", f->path);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return berr_errno(err, "reading layer directory `%s'", f->path);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (flatten_entry(f, srcfd, dstfd, de->d_name, err) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	return ret;
}

/* Remove everything inside the directory path of the root (opaque dir). */
static int
flatten_empty_dir(int rootfd, const char *path, struct berr *err)
{
	int fd = open_dir_beneath(rootfd, path, 0), ret = 0;
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return 0;	/* nothing below to hide */
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return berr_errno(err, "reading `%s'", path);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (image_remove_at(fd, de->d_name, err) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	return ret;
}

static int
flatten_whiteout(int rootfd, const char *path, struct berr *err)
{
	char *parent;
	const char *base;
	int fd, ret;

	split_parent(path, &parent, &base);
	fd = open_dir_beneath(rootfd, parent, 0);
	free(parent);
	if (fd < 0)
		return 0;	/* parent gone or not a directory: nothing to delete */
	ret = image_remove_at(fd, base, err);
	close(fd);
	return ret;
}

int
layer_flatten(const char *layer_dir, int rootfs_fd, struct berr *err)
{
	json_object *meta = layer_read_meta(layer_dir, err), *wh, *op;
	struct flatten f;
	char *src;
	int srcfd, ret = 0;
	size_t i;

	if (meta == NULL)
		return -1;
	if (!json_object_object_get_ex(meta, "whiteouts", &wh) || !json_object_is_type(wh, json_type_array) ||
	    !json_object_object_get_ex(meta, "opaque", &op) || !json_object_is_type(op, json_type_array)) {
		json_object_put(meta);
		return berr_set(err, BERR_INVALID, "layer `%s': malformed whiteouts.json", layer_dir);
	}
	for (i = 0; ret == 0 && i < json_object_array_length(op); i++) {
		char *p = layer_clean_path(json_object_get_string(json_object_array_get_idx(op, i)));

		ret = p == NULL ? berr_set(err, BERR_INVALID, "layer `%s': bad opaque path", layer_dir)
				: flatten_empty_dir(rootfs_fd, p, err);
		free(p);
	}
	for (i = 0; ret == 0 && i < json_object_array_length(wh); i++) {
		char *p = layer_clean_path(json_object_get_string(json_object_array_get_idx(wh, i)));

		ret = p == NULL || *p == '\0'
			? berr_set(err, BERR_INVALID, "layer `%s': bad whiteout path", layer_dir)
			: flatten_whiteout(rootfs_fd, p, err);
		free(p);
	}
	json_object_put(meta);
	if (ret < 0)
		return -1;
	src = xasprintf("%s/root", layer_dir);
	srcfd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (srcfd < 0) {
		ret = berr_errno(err, "opening layer tree `%s'", src);
		free(src);
		return ret;
	}
	free(src);
	memset(&f, 0, sizeof f);
	f.rootfd = rootfs_fd;
	f.is_root = geteuid() == 0;
	ret = flatten_dir(&f, srcfd, rootfs_fd, err);
	close(srcfd);
	for (i = 0; i < f.hl_cap; i++)
		free(f.hl[i].path);
	free(f.hl);
	return ret;
}
