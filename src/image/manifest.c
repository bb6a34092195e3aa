/*
 * manifest.c - validating what a registry says about an image: manifests
 * and indexes (schema 2, known media types), descriptors (sha256 digest,
 * bounded size), the choice of linux/<host arch> from an index, and the
 * image config's rootfs.diff_ids.  Pure functions over bytes and JSON, so
 * that they can be fuzzed on their own.
 * Not for: fetching (registry.c) or storing (store.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "image/image-internal.h"

#define LAYER_SIZE_MAX ((int64_t)1 << 40)

static const char *const manifest_types[] = { MT_OCI_MANIFEST, MT_DOCKER_MANIFEST, MT_OCI_INDEX,
					      MT_DOCKER_LIST, NULL };
static const char *const config_types[] = { MT_OCI_CONFIG, MT_DOCKER_CONFIG, NULL };
static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.diff.tar",
	"application/vnd.docker.image.rootfs.diff.tar.zstd",
	NULL
};

const char *
image_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#else
	return "unknown";
#endif
}

json_object *
image_json_parse(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	json_object *o;
	size_t end;

	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		end = json_tokener_get_parse_end(tok);
		while (end < len && isspace((unsigned char)buf[end]))
			end++;
		if (end != len) {
			json_object_put(o);
			o = NULL;
		}
	} else if (o != NULL) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

const char *
image_obj_str(json_object *o, const char *key)
{
	json_object *v;

	if (o != NULL && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static int
type_in(const char *mt, const char *const *types)
{
	size_t i;

	for (i = 0; mt != NULL && types[i] != NULL; i++)
		if (strcmp(types[i], mt) == 0)
			return 1;
	return 0;
}

static int
is_index_type(const char *mt)
{
	return mt != NULL && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

/* Validate a descriptor: digest, size within [0, max], and mediaType in
 * the NULL-terminated list (if one is given). */
static int
desc_check(json_object *d, const char *what, int64_t max, const char *const *types,
	   struct image_desc *out, struct berr *err)
{
	json_object *v;

	if (!json_object_is_type(d, json_type_object))
		return berr_set(err, BERR_INVALID, "%s: descriptor is not an object", what);
	out->digest = image_obj_str(d, "digest");
	if (out->digest == NULL || !image_digest_valid(out->digest))
		return berr_set(err, BERR_INVALID, "%s: missing or unsupported digest `%.80s'", what,
				out->digest ? out->digest : "");
	if (!json_object_object_get_ex(d, "size", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || json_object_get_int64(v) > max)
		return berr_set(err, BERR_INVALID, "%s: missing or out-of-range size", what);
	out->size = json_object_get_int64(v);
	out->media_type = image_obj_str(d, "mediaType");
	if (types != NULL && out->media_type == NULL)
		return berr_set(err, BERR_INVALID, "%s: descriptor without mediaType", what);
	if (types != NULL && !type_in(out->media_type, types))
		return berr_set(err, BERR_NOTSUP, "%s: unsupported media type `%.100s'", what, out->media_type);
	return 0;
}

int
image_manifest_parse(const char *body, size_t len, const char *content_type, json_object **out,
		     const char **kind, struct berr *err)
{
	json_object *o, *sv;
	const char *mt;

	*out = NULL;
	o = image_json_parse(body, len);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return berr_set(err, BERR_INVALID, "not a JSON object");
	}
	if (!json_object_object_get_ex(o, "schemaVersion", &sv) || !json_object_is_type(sv, json_type_int) ||
	    json_object_get_int(sv) != 2) {
		json_object_put(o);
		return berr_set(err, BERR_NOTSUP, "schemaVersion is not 2 (schema 1 is not supported)");
	}
	mt = image_obj_str(o, "mediaType");
	if (mt == NULL) {
		if (type_in(content_type, manifest_types))
			mt = content_type;
		else if (json_object_object_get_ex(o, "manifests", NULL))
			mt = MT_OCI_INDEX;
		else
			mt = MT_OCI_MANIFEST;
	}
	if (!type_in(mt, manifest_types)) {
		berr_set(err, BERR_NOTSUP, "unsupported media type `%.100s'", mt);
		json_object_put(o);
		return -1;
	}
	*kind = is_index_type(mt) ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	*out = o;
	return 0;
}

int
image_index_select(json_object *idx, const char *arch, struct image_desc *out, struct berr *err)
{
	json_object *manifests, *best = NULL;
	size_t i, n;
	char seen[512] = "";

	if (!json_object_object_get_ex(idx, "manifests", &manifests) ||
	    !json_object_is_type(manifests, json_type_array))
		return berr_set(err, BERR_INVALID, "index without a manifests array");
	n = json_object_array_length(manifests);
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(manifests, i), *plat;
		const char *os, *march, *variant;

		if (!json_object_object_get_ex(m, "platform", &plat))
			continue;
		os = image_obj_str(plat, "os");
		march = image_obj_str(plat, "architecture");
		variant = image_obj_str(plat, "variant");
		if (os == NULL || march == NULL)
			continue;
		if (strlen(seen) < sizeof seen - 64)
			snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s%.20s/%.20s%s%.10s",
				 *seen ? ", " : "", os, march, variant ? "/" : "", variant ? variant : "");
		if (strcmp(os, "linux") != 0 || strcmp(march, arch) != 0)
			continue;
		/* first match, but prefer the v8 variant on arm64 */
		if (best == NULL || (variant != NULL && strcmp(variant, "v8") == 0))
			best = m;
	}
	if (best == NULL)
		return berr_set(err, BERR_NOTFOUND, "no linux/%s image in the index (it has: %s)", arch,
				*seen ? seen : "none");
	return desc_check(best, "index entry", IMAGE_MANIFEST_MAX, manifest_types, out, err);
}

void
image_manifest_info_free(struct image_manifest_info *info)
{
	if (info == NULL)
		return;
	free(info->layers);
	memset(info, 0, sizeof *info);
}

int
image_manifest_info(json_object *m, struct image_manifest_info *info, struct berr *err)
{
	json_object *cfgdesc, *larr;
	size_t i;

	memset(info, 0, sizeof *info);
	if (!json_object_object_get_ex(m, "config", &cfgdesc))
		return berr_set(err, BERR_INVALID, "no config descriptor");
	if (desc_check(cfgdesc, "config", IMAGE_CONFIG_MAX, NULL, &info->config, err) < 0)
		return -1;
	if (info->config.media_type != NULL && !type_in(info->config.media_type, config_types))
		return berr_set(err, BERR_NOTSUP, "config media type `%.100s' is not a container image",
				info->config.media_type);
	if (!json_object_object_get_ex(m, "layers", &larr) || !json_object_is_type(larr, json_type_array))
		return berr_set(err, BERR_INVALID, "no layers array");
	info->nlayers = json_object_array_length(larr);
	if (info->nlayers > IMAGE_LAYERS_MAX)
		return berr_set(err, BERR_INVALID, "%zu layers (at most %d)", info->nlayers, IMAGE_LAYERS_MAX);
	info->layers = xcalloc(info->nlayers ? info->nlayers : 1, sizeof *info->layers);
	info->total_size = info->config.size;
	for (i = 0; i < info->nlayers; i++) {
		char what[64];

		snprintf(what, sizeof what, "layer %zu", i + 1);
		if (desc_check(json_object_array_get_idx(larr, i), what, LAYER_SIZE_MAX, layer_types,
			       &info->layers[i], err) < 0) {
			image_manifest_info_free(info);
			return -1;
		}
		info->total_size += info->layers[i].size;
	}
	return 0;
}

int
image_config_parse(const char *buf, size_t len, struct image_manifest_info *info, json_object **out,
		   struct berr *err)
{
	json_object *config, *rootfs, *diff_ids;
	size_t i;

	*out = NULL;
	config = image_json_parse(buf, len);
	if (config == NULL || !json_object_is_type(config, json_type_object) ||
	    !json_object_object_get_ex(config, "rootfs", &rootfs) ||
	    image_obj_str(rootfs, "type") == NULL || strcmp(image_obj_str(rootfs, "type"), "layers") != 0 ||
	    !json_object_object_get_ex(rootfs, "diff_ids", &diff_ids) ||
	    !json_object_is_type(diff_ids, json_type_array)) {
		json_object_put(config);
		return berr_set(err, BERR_INVALID, "malformed (no rootfs.diff_ids)");
	}
	if (json_object_array_length(diff_ids) != info->nlayers) {
		berr_set(err, BERR_INVALID, "lists %zu diff_ids for %zu layers", json_object_array_length(diff_ids),
			 info->nlayers);
		json_object_put(config);
		return -1;
	}
	for (i = 0; i < info->nlayers; i++) {
		json_object *v = json_object_array_get_idx(diff_ids, i);

		info->layers[i].diff_id = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (!image_digest_valid(info->layers[i].diff_id)) {
			json_object_put(config);
			return berr_set(err, BERR_INVALID, "bad diff_id for layer %zu", i + 1);
		}
	}
	*out = config;
	return 0;
}
