/*
 * image-rootfs-tool.c - test helper: drive image_rootfs_prepare/_release
 * from shell tests (the berth CLI has no command for them; containers use
 * them through berth-ctr).
 *   image-rootfs-tool prepare STOREDIR REF DESTDIR   prints the root fs path,
 *                                                    then the config as JSON
 *   image-rootfs-tool release DESTDIR
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int
main(int argc, char **argv)
{
	struct berr err = { 0 };

	if (argc == 5 && strcmp(argv[1], "prepare") == 0) {
		struct image_store *st;
		char *rootfs;
		json_object *config;

		if (image_store_open(argv[2], &st, &err) < 0 ||
		    image_rootfs_prepare(st, argv[3], argv[4], &rootfs, &config, &err) < 0) {
			fprintf(stderr, "image-rootfs-tool: %s\n", err.msg);
			return 1;
		}
		printf("%s\n%s\n", rootfs, json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN));
		free(rootfs);
		json_object_put(config);
		image_store_free(st);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "release") == 0) {
		if (image_rootfs_release(argv[2], &err) < 0) {
			fprintf(stderr, "image-rootfs-tool: %s\n", err.msg);
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "usage: image-rootfs-tool prepare STOREDIR REF DESTDIR | release DESTDIR\n");
	return 2;
}
