/*
 * image.h - berth's OCI image store: pull from a registry (v2 API), list,
 * remove, and assemble a container root file system from an image's layers.
 *
 * Store layout under dir (= $BERTH_DATA_DIR/images):
 *   blobs/sha256/<hex>      content-addressed blobs (indexes, manifests,
 *                           configs, layers), each verified (size and
 *                           sha256) before it enters the store; stored once
 *   layers/<hex>/           a layer extracted once, keyed by its diff_id:
 *                           root/ (the tree; as root, whiteouts in overlay
 *                           form: char 0/0, trusted.overlay.opaque=y) and
 *                           whiteouts.json (the whiteouts, for the copy path)
 *   index.json              { "images": { "<canonical ref>": { "digest"
 *                           (what the ref names: manifest or index),
 *                           "manifest" (the linux/<arch> manifest), "config",
 *                           "layers": [{digest, diff_id, mediaType, size}],
 *                           "blobs", "size", "created", "pulled" } } },
 *                           written atomically
 *   inuse/                  which layers mounted overlays use (kept by GC)
 *   tmp/                    in-flight pulls (never read; stale ones removed)
 *   lock, gc.lock           flock()s: index readers/writers; pulls vs GC
 *
 * References: "busybox" = docker.io/library/busybox:latest (fetched from
 * registry-1.docker.io), "host:port/repo:tag", "repo@sha256:<hex>".
 * Plain HTTP only for localhost/127.0.0.1/[::1] registries or when
 * insecure_http is set; HTTPS otherwise.
 *
 * One struct image_store per thread (its lock is a flock on one fd); several
 * processes may share a store.
 * Not for: running containers (src/ctr), pushing images, registry mirrors.
 * Library code: never prints; errors through struct berr.
 */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/error.h"

struct image_store;

/* Open (creating if needed) the store in dir. */
int image_store_open(const char *dir, struct image_store **out, struct berr *err);
void image_store_free(struct image_store *st);	/* accepts NULL */
/* Open the user's store: $BERTH_DATA_DIR/images (see core/dirs.h). */
int image_store_open_default(struct image_store **out, struct berr *err);

struct image_pull_opts {
	int timeout_s;		/* abort a transfer stalled this long (0: 30 s) */
	int insecure_http;	/* allow plain HTTP for any registry */
	/* Called during the pull: what = a short label ("manifest",
	 * "config sha256:<12 hex>", "layer sha256:<12 hex>", "extract
	 * sha256:<12 hex>"), done/total in bytes (total 0 if unknown).  An item
	 * is finished when done == total > 0 (also reported at once for blobs
	 * already in the store). */
	void (*progress)(const char *what, uint64_t done, uint64_t total, void *arg);
	void *arg;
};

/* Pull ref into the store (linux/<host arch> from an index).  On success
 * *digest_out (if not NULL) is the digest of what ref names, the index or
 * the manifest, "sha256:<hex>" (caller frees).  Everything is fetched and
 * verified in tmp/ first: on any failure (bad digest, malformed manifest,
 * stalled transfer: BERR_TIMEOUT) the store is left exactly as it was. */
int image_pull(struct image_store *st, const char *ref, const struct image_pull_opts *opts,
	       char **digest_out, struct berr *err);

/* *out = JSON array of {"ref", "digest", "id" (config digest), "size"
 * (config + compressed layers, bytes), "created" (the image config's
 * created string, or null)}, sorted by ref. */
int image_list(struct image_store *st, json_object **out, struct berr *err);

/* Remove ref from the index, then garbage-collect blobs and extracted layers
 * no remaining ref (and no mounted overlay) uses; while another pull is in
 * flight, that pull collects instead.  ref: any spelling of a stored ref
 * ("busybox" for docker.io/library/busybox:latest), or its digest or a
 * unique prefix of >= 12 hex digits.  BERR_NOTFOUND if nothing matches,
 * BERR_AMBIGUOUS if a digest prefix matches several refs. */
int image_remove(struct image_store *st, const char *ref, struct berr *err);

/* Assemble a root fs for ref under dest_dir (created if missing):
 * overlayfs (lowerdirs = extracted layers, dest_dir/{upper,work}, mounted on
 * dest_dir/rootfs) where the kernel allows it, else a flattened copy in
 * dest_dir/rootfs.  *rootfs_path_out = dest_dir/rootfs (caller frees).
 * *config_out (if not NULL) = a new reference to the image config's "config"
 * object (Env, Cmd, Entrypoint, WorkingDir, User...; an empty object if the
 * image has none); caller puts it.  A ref not in the store is BERR_NOTFOUND
 * (the caller pulls first).  Preparing a dest_dir again reuses what is
 * there (a mounted overlay, a finished copy, or upper/ from before a
 * reboot).  BERTH_IMAGE_NO_OVERLAY=1 in the environment forces the copy. */
int image_rootfs_prepare(struct image_store *st, const char *ref, const char *dest_dir,
			 char **rootfs_path_out, json_object **config_out, struct berr *err);

/* Unmount dest_dir/rootfs if it is a mount and remove dest_dir entirely
 * (refusing, EBUSY, to descend into any other mount below it).  A missing
 * dest_dir is not an error. */
int image_rootfs_release(const char *dest_dir, struct berr *err);

/* ---- lower-level pieces, exposed for tests and tools ---- */

/* A parsed reference.  repo always includes a namespace for Docker Hub
 * ("library/busybox"); tag is NULL when digest is set and no tag was given. */
struct image_ref {
	char *registry;		/* "docker.io" (served by registry-1.docker.io),
				 * "127.0.0.1:5000", "quay.io" */
	char *repo;		/* "library/busybox" */
	char *tag;		/* "latest" or NULL */
	char *digest;		/* "sha256:<64 hex>" or NULL */
};
int image_ref_parse(const char *s, struct image_ref *ref, struct berr *err);
void image_ref_free(struct image_ref *ref);
/* Canonical name used as the index key: "registry/repo:tag",
 * "registry/repo@sha256:..." or "registry/repo:tag@sha256:..." (caller
 * frees); "busybox" becomes "docker.io/library/busybox:latest". */
char *image_ref_canonical(const struct image_ref *ref);

#endif
