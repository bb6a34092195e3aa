/*
 * cmd-define.c - `berth define FILE`: define an instance from a JSON
 * definition (kvm, container, libvirt) or libvirt domain XML.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/dirs.h"
#include "core/util.h"

static int
cmd_define_exec(struct cmd_ctx *ctx)
{
	const char *path = ctx->argv[0];
	const char *backend = cmd_opt(ctx, "backend");
	const char *host = cmd_opt(ctx, "host");
	char *text = NULL;
	struct define_spec spec = { 0 };
	struct bconn *c;
	struct instance *inst = NULL;
	const char *p;
	int rc = CMD_EXIT_OK;

	if (read_file(path, &text, NULL, 4 << 20, &ctx->err) < 0)
		return CMD_EXIT_FAIL;
	for (p = text; *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'; p++)
		;
	if (*p == '<') {
		spec.xml = text;
		if (backend == NULL)
			backend = "libvirt";
	} else {
		enum json_tokener_error jerr;

		spec.json = json_tokener_parse_verbose(text, &jerr);
		if (spec.json == NULL || !json_object_is_type(spec.json, json_type_object)) {
			berr_set(&ctx->err, BERR_INVALID, "%s: not a JSON object or domain XML%s%s", path,
				 spec.json ? "" : ": ", spec.json ? "" : json_tokener_error_desc(jerr));
			json_object_put(spec.json);
			free(text);
			return CMD_EXIT_FAIL;
		}
		if (backend == NULL) {
			json_object *b;

			if (json_object_object_get_ex(spec.json, "backend", &b))
				backend = json_object_get_string(b);
			else
				backend = json_object_object_get_ex(spec.json, "image", &b) ||
						  json_object_object_get_ex(spec.json, "bundle", &b)
					  ? "container" : "kvm";
		}
		{
			json_object *n;

			if (json_object_object_get_ex(spec.json, "name", &n))
				spec.name = json_object_get_string(n);
		}
	}
	c = session_find_conn(ctx->s, backend, host);
	if (c == NULL) {
		berr_set(&ctx->err, BERR_NOTFOUND, "no connection to a %s backend%s%s", backend,
			 host ? " on " : "", host ? host : "");
		rc = CMD_EXIT_FAIL;
	} else if (c->ops->define == NULL) {
		backend_notsup(c->ops, "define", &ctx->err);
		rc = CMD_EXIT_NOTSUP;
	} else if (c->ops->define(c, &spec, &inst, &ctx->err) < 0) {
		berr_wrap(&ctx->err, "defining from `%s'", path);
		rc = CMD_EXIT_FAIL;
	} else {
		fprintf(ctx->out, "defined %s `%s' on %s (%s)\n", inst_kind_name(inst->kind), inst->name,
			conn_host(c), c->ops->name);
		if (cmd_flag(ctx, "start")) {
			inst->conn = c;
			inst->backend = c->ops;
			if (instance_do(inst, OP_START, 0, &ctx->err) < 0)
				rc = cmd_exit_for(&ctx->err);
			else
				fprintf(ctx->out, "started %s `%s'\n", inst_kind_name(inst->kind), inst->name);
		}
	}
	if (inst != NULL) {
		inst->backend = c->ops;
		instance_free(inst);
	}
	json_object_put(spec.json);
	free(text);
	return rc;
}

const struct cmd_entry cmd_define_entry = {
	.name = "define",
	.aliases = { "create" },
	.args_usage = "FILE",
	.summary = "define an instance from a JSON definition or libvirt domain XML",
	.min_args = 1,
	.max_args = 1,
	.needs_session = 1,
	.opts = {
		{ "backend", 'b', 1, 0, "NAME", "backend to define it on (default: from the file)" },
		{ "host", 'H', 1, 0, "HOST", "host (or URI) of that backend" },
		{ "start", 0, 0, 0, NULL, "start it once defined" },
	},
	.exec = cmd_define_exec,
};
