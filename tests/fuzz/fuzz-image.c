/*
 * fuzz-image.c - libFuzzer target for the image store's parsers of registry
 * input: references, manifests and indexes, index platform selection and
 * image configs.  The first byte picks the parser; the rest is the input.
 * Built and run by tests/fuzz/run.sh (`make check-fuzz`).
 */
// fuzz-sources: src/image/manifest.c src/image/ref.c src/core/util.c src/core/error.c
// fuzz-libs: -ljson-c
// fuzz-seed: \x00busybox:1.36
// fuzz-seed: \x00127.0.0.1:5000/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
// fuzz-seed: \x01{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":20}]}
// fuzz-seed: \x01{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":10,"platform":{"os":"linux","architecture":"amd64"}}]}
// fuzz-seed: \x02{"config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"]}}
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "image/image-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berr err = { 0 };
	const char *body = (const char *)data + 1;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	switch (data[0] % 3) {
	case 0: {	/* a reference */
		char *s = xstrndup(body, len);
		struct image_ref ref;

		if (image_ref_parse(s, &ref, &err) == 0) {
			char *c = image_ref_canonical(&ref);
			struct image_ref again;

			/* the canonical name parses back to the same thing */
			if (image_ref_parse(c, &again, &err) != 0)
				abort();
			if (strcmp(again.registry, ref.registry) != 0 || strcmp(again.repo, ref.repo) != 0)
				abort();
			image_ref_free(&again);
			free(c);
			(void)image_registry_is_loopback(ref.registry);
			image_ref_free(&ref);
		}
		free(s);
		break;
	}
	case 1: {	/* a manifest or index */
		json_object *o;
		const char *kind;

		if (image_manifest_parse(body, len, NULL, &o, &kind, &err) == 0) {
			struct image_manifest_info info;
			struct image_desc d;

			if (strcmp(kind, MT_OCI_INDEX) == 0) {
				if (image_index_select(o, "amd64", &d, &err) == 0 && !image_digest_valid(d.digest))
					abort();
			} else if (image_manifest_info(o, &info, &err) == 0) {
				size_t i;

				for (i = 0; i < info.nlayers; i++)
					if (!image_digest_valid(info.layers[i].digest) || info.layers[i].size < 0)
						abort();
				image_manifest_info_free(&info);
			}
			json_object_put(o);
		}
		break;
	}
	default: {	/* an image config for a two-layer manifest */
		struct image_desc layers[2] = { { 0 } };
		struct image_manifest_info info = { .layers = layers, .nlayers = 2 };
		json_object *config;

		if (image_config_parse(body, len, &info, &config, &err) == 0) {
			if (!image_digest_valid(layers[0].diff_id) || !image_digest_valid(layers[1].diff_id))
				abort();
			json_object_put(config);
		}
		break;
	}
	}
	return 0;
}
