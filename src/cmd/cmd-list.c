/*
 * cmd-list.c - `berth list`: every instance every backend and host sees.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd-util.h"
#include "core/util.h"

static int
cmp_inst(const void *a, const void *b)
{
	const struct instance *x = *(struct instance *const *)a, *y = *(struct instance *const *)b;
	int r = strcmp(x->host ? x->host : "", y->host ? y->host : "");

	if (r == 0)
		r = strcmp(x->name, y->name);
	if (r == 0)
		r = strcmp(x->backend ? x->backend->name : "", y->backend ? y->backend->name : "");
	return r;
}

static int
cmd_list_exec(struct cmd_ctx *ctx)
{
	struct inst_list l = { 0 };
	struct inst_filter f = {
		.pattern = ctx->argc > 0 ? ctx->argv[0] : NULL,
		.kind = cmd_opt(ctx, "kind"),
		.state = cmd_opt(ctx, "state"),
		.backend = cmd_opt(ctx, "backend"),
		.host = cmd_opt(ctx, "host"),
	};
	size_t i;
	time_t now = time(NULL);

	if (f.kind && inst_kind_from_name(f.kind) < 0) {
		berr_set(&ctx->err, BERR_INVALID, "--kind must be `vm' or `ct', not `%s'", f.kind);
		return CMD_EXIT_USAGE;
	}
	session_list(ctx->s, &l);
	if (l.n > 1)
		qsort(l.v, l.n, sizeof *l.v, cmp_inst);
	if (cmd_flag(ctx, "json")) {
		json_object *a = json_object_new_array();

		for (i = 0; i < l.n; i++)
			if (inst_filter_match(&f, l.v[i]))
				json_object_array_add(a, instance_to_json(l.v[i]));
		json_print(ctx->out, a);
		json_object_put(a);
	} else if (cmd_flag(ctx, "names")) {
		int tty = isatty(fileno(ctx->out));

		for (i = 0; i < l.n; i++) {
			char *n;

			if (!inst_filter_match(&f, l.v[i]))
				continue;
			n = tty ? term_safe(l.v[i]->name) : xstrdup(l.v[i]->name);
			fprintf(ctx->out, "%s\n", n);
			free(n);
		}
	} else {
		static const char *const hdr[] = { "NAME", "KIND", "BACKEND", "HOST", "STATE",
						   "VCPUS", "MEMORY", "UPTIME" };
		struct table *t = table_new(8, hdr);

		table_align_right(t, 5);
		table_align_right(t, 6);
		table_align_right(t, 7);
		for (i = 0; i < l.n; i++) {
			struct instance *inst = l.v[i];
			char vcpus[16], mem[16], up[24];
			const char *row[8];

			if (!inst_filter_match(&f, inst))
				continue;
			snprintf(vcpus, sizeof vcpus, "%d", inst->vcpus);
			fmt_bytes(mem, sizeof mem, (double)inst->memory_kib * 1024.0);
			if ((inst->state == INST_RUNNING || inst->state == INST_PAUSED) && inst->started > 0)
				fmt_duration(up, sizeof up, (int64_t)now - inst->started);
			else
				strcpy(up, "-");
			row[0] = inst->name;
			row[1] = inst_kind_name(inst->kind);
			row[2] = inst->backend ? inst->backend->name : "?";
			row[3] = inst->host;
			row[4] = inst_state_name(inst->state);
			row[5] = vcpus;
			row[6] = inst->memory_kib ? mem : "-";
			row[7] = up;
			table_add(t, row);
		}
		table_print(t, ctx->out);
		table_free(t);
	}
	inst_list_clear(&l);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.aliases = { "ls" },
	.args_usage = "[PATTERN]",
	.summary = "list instances of every backend and host",
	.min_args = 0,
	.max_args = 1,
	.needs_session = 1,
	.opts = {
		{ "json", 'j', 0, 0, NULL, "print a JSON array" },
		{ "names", 'n', 0, 0, NULL, "print only names, one per line" },
		{ "kind", 'k', 1, 0, "vm|ct", "only VMs or only containers" },
		{ "state", 's', 1, 0, "STATE", "only instances in this state" },
		{ "backend", 'b', 1, 0, "NAME", "only this backend (libvirt, kvm, container...)" },
		{ "host", 'H', 1, 0, "GLOB", "only hosts matching GLOB" },
	},
	.exec = cmd_list_exec,
};
