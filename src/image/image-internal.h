/*
 * image-internal.h - pieces shared by the files of src/image: the registry
 * client, layer extraction and flattening, store paths and locking.
 * Not for: users of the image store (they include image/image.h).
 */
#ifndef BERTH_IMAGE_INTERNAL_H
#define BERTH_IMAGE_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "core/error.h"
#include "image/image.h"

/* Media types the puller understands. */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

#define IMAGE_MANIFEST_MAX (4u << 20)	/* manifests and indexes */
#define IMAGE_CONFIG_MAX (8u << 20)	/* image configs */
#define IMAGE_LAYERS_MAX 256

/* ---- ref.c ---- */
/* "sha256:" followed by exactly 64 lowercase hex digits. */
int image_digest_valid(const char *digest);
/* The host[:port] to contact for a registry name ("docker.io" ->
 * "registry-1.docker.io"). */
const char *image_registry_endpoint(const char *registry);
/* Whether the registry host is a loopback name/address (plain HTTP allowed). */
int image_registry_is_loopback(const char *registry);

/* ---- registry.c ---- */
struct reg_client;
int reg_client_new(const struct image_ref *ref, const struct image_pull_opts *opts,
		   struct reg_client **out, struct berr *err);
void reg_client_free(struct reg_client *c);
/* GET /v2/<repo>/manifests/<reference>.  *media_type from Content-Type
 * (may be NULL), *digest_header from Docker-Content-Digest (may be NULL). */
int reg_get_manifest(struct reg_client *c, const char *reference, char **body, size_t *len,
		     char **media_type, char **digest_header, struct berr *err);
/* GET a blob into path (created exclusively), checking the size and the
 * digest; on any failure path does not exist afterwards. */
int reg_get_blob(struct reg_client *c, const char *digest, int64_t size, const char *path,
		 const char *label, struct berr *err);

/* ---- manifest.c ---- */
/* A validated descriptor; strings are borrowed from the JSON it came from. */
struct image_desc {
	const char *digest;	/* "sha256:<64 hex>" */
	const char *media_type;	/* may be NULL for a config */
	int64_t size;
	const char *diff_id;	/* layers: filled by image_config_parse */
};
struct image_manifest_info {
	struct image_desc config;
	struct image_desc *layers;
	size_t nlayers;
	int64_t total_size;	/* config + layers */
};
const char *image_host_arch(void);	/* "amd64", "arm64"... (GOARCH names) */
/* Strict JSON parse of a whole buffer (NULL if malformed or trailing junk). */
json_object *image_json_parse(const char *buf, size_t len);
/* A string member of a JSON object, or NULL. */
const char *image_obj_str(json_object *o, const char *key);
/* Parse a manifest or index body: a JSON object with schemaVersion 2 and a
 * known media type (from the body, else content_type, else guessed).
 * *kind = MT_OCI_INDEX for indexes and manifest lists, else MT_OCI_MANIFEST. */
int image_manifest_parse(const char *body, size_t len, const char *content_type, json_object **out,
			 const char **kind, struct berr *err);
/* The validated descriptor of the linux/<arch> entry of an index. */
int image_index_select(json_object *idx, const char *arch, struct image_desc *out, struct berr *err);
/* The validated config and layer descriptors of an image manifest. */
int image_manifest_info(json_object *m, struct image_manifest_info *info, struct berr *err);
void image_manifest_info_free(struct image_manifest_info *info);
/* Parse an image config and fill info->layers[].diff_id from its
 * rootfs.diff_ids (one per layer); *out keeps those strings alive. */
int image_config_parse(const char *buf, size_t len, struct image_manifest_info *info, json_object **out,
		       struct berr *err);

/* ---- layer.c ---- */
/* Extract the (gzip/zstd/plain) tar blob into dest/root, recording its
 * whiteouts in dest/whiteouts.json and, when overlay is set, also as overlay
 * whiteouts in the tree.  If diff_id is not NULL the uncompressed stream
 * must hash to it.  dest must not exist; on failure it is removed. */
int layer_extract(const char *blob_path, const char *diff_id, const char *dest, int overlay,
		  struct berr *err);
/* Whether an extracted layer carries overlay-format whiteouts. */
int layer_has_overlay_whiteouts(const char *layer_dir);
/* Apply one extracted layer on top of the tree open at rootfs_fd:
 * deletions (whiteouts, opaque directories) first, then the layer's files. */
int layer_flatten(const char *layer_dir, int rootfs_fd, struct berr *err);
/* rm -rf name relative to dirfd, never following symlinks. */
int image_remove_at(int dirfd, const char *name, struct berr *err);
/* Validate and normalise a path from a layer tar: strips "./" and trailing
 * slashes; refuses absolute paths and ".." components.  Returns a new
 * string, "" for the root itself, or NULL if refused. */
char *layer_clean_path(const char *path);

/* ---- store.c ---- */
struct image_store {
	char *dir;
	char *blobs;		/* dir/blobs/sha256 */
	char *layers;		/* dir/layers */
	char *tmp;		/* dir/tmp */
	char *inuse;		/* dir/inuse */
	int lock_fd;		/* dir/lock: the index (shared to read, exclusive to change) */
	int gc_fd;		/* dir/gc.lock: shared by pulls in flight, exclusive for GC */
};
int store_lock(struct image_store *st, int exclusive, struct berr *err);
void store_unlock(struct image_store *st);
int store_read_index(struct image_store *st, json_object **index, struct berr *err);
/* The index entry (borrowed from index) that ref_string names: any
 * spelling of a stored ref, its exact key, or a digest or unique prefix of
 * >= 12 hex digits; NULL if none (*matches > 1 when a prefix is ambiguous).
 * *canonical (if not NULL) = the entry's key (caller frees). */
json_object *store_index_lookup(json_object *index, const char *ref_string, char **canonical, int *matches);
char *store_blob_path(struct image_store *st, const char *digest);
/* Create a unique temporary directory under st->tmp (caller removes). */
char *store_mktemp_dir(struct image_store *st, const char *prefix, struct berr *err);
/* Remove blobs, layers, temporary files and in-use records nothing
 * references any more.  Caller holds the exclusive index lock and the
 * exclusive GC lock. */
int store_gc(struct image_store *st, struct berr *err);
/* Take both locks and GC, unless a pull is in flight (it would lose blobs
 * it found in the store); the last pull to finish collects then. */
int store_collect_garbage(struct image_store *st, struct berr *err);

#endif
