/*
 * cmd-images.c - `berth images`: the OCI images in the local store.
 * Not for: registry queries (images are listed from the store only).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd-util.h"
#include "core/util.h"
#include "image/image.h"

static int
cmd_images_exec(struct cmd_ctx *ctx)
{
	static const char *const headers[] = { "REF", "DIGEST", "SIZE", "CREATED" };
	struct image_store *st;
	json_object *list;
	struct table *t;
	size_t i;

	if (image_store_open_default(&st, &ctx->err) < 0)
		return CMD_EXIT_FAIL;
	if (image_list(st, &list, &ctx->err) < 0) {
		image_store_free(st);
		return CMD_EXIT_FAIL;
	}
	image_store_free(st);
	if (cmd_flag(ctx, "json")) {
		json_print(ctx->out, list);
		json_object_put(list);
		return CMD_EXIT_OK;
	}
	t = table_new(4, headers);
	table_align_right(t, 2);
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i), *v;
		const char *ref = json_object_get_string(json_object_object_get(o, "ref"));
		const char *digest = json_object_get_string(json_object_object_get(o, "digest"));
		const char *created = "";
		char size[16], shortd[20], when[20];
		const char *cells[4];

		fmt_bytes(size, sizeof size, (double)json_object_get_int64(json_object_object_get(o, "size")));
		snprintf(shortd, sizeof shortd, "%.12s", digest && strlen(digest) > 7 ? digest + 7 : "");
		if (json_object_object_get_ex(o, "created", &v) && json_object_is_type(v, json_type_string)) {
			/* "2024-01-02T03:04:05.123Z" -> "2024-01-02 03:04" */
			snprintf(when, sizeof when, "%.16s", json_object_get_string(v));
			if (strlen(when) > 10 && when[10] == 'T')
				when[10] = ' ';
			created = when;
		}
		cells[0] = ref;
		cells[1] = shortd;
		cells[2] = size;
		cells[3] = created;
		table_add(t, cells);
	}
	table_print(t, ctx->out);
	table_free(t);
	json_object_put(list);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_images_entry = {
	.name = "images",
	.summary = "list the OCI images in the local store",
	.max_args = 0,
	.opts = { { "json", 'j', 0, 0, NULL, "print JSON" } },
	.needs_session = 0,
	.exec = cmd_images_exec,
};
