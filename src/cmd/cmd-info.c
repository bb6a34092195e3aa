/*
 * cmd-info.c - `berth info NAME` (everything known about one instance) and
 * `berth hosts` (every connection, its capacity and what failed).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/cmd-util.h"
#include "core/util.h"

/* A time stamp for people: "2026-12-05 12:03:01 UTC (3 min ago)", or "-". */
static const char *
fmt_when(char *buf, size_t len, int64_t t)
{
	char ago[32];
	struct tm tm;
	time_t tt = (time_t)t;
	int64_t d = (int64_t)time(NULL) - t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (d >= 0) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, " (%s ago)", fmt_duration(ago, sizeof ago, d));
	}
	return buf;
}

static void
print_kv(FILE *out, const char *prefix, json_object *o)
{
	json_object_object_foreach(o, k, v) {
		if (v == NULL)
			continue;
		if (json_object_is_type(v, json_type_object)) {
			char *p = xasprintf("%s%s.", prefix, k);

			print_kv(out, p, v);
			free(p);
		} else if (json_object_is_type(v, json_type_array)) {
			size_t i, n = json_object_array_length(v);

			for (i = 0; i < n; i++) {
				json_object *e = json_object_array_get_idx(v, i);
				char *p = xasprintf("%s%s[%zu].", prefix, k, i);

				if (json_object_is_type(e, json_type_object))
					print_kv(out, p, e);
				else {
					char *sv = term_safe(json_object_get_string(e));

					fprintf(out, "%s%s[%zu]: %s\n", prefix, k, i, sv);
					free(sv);
				}
				free(p);
			}
		} else {
			char key[128], when[96], *sk, *sv;

			snprintf(key, sizeof key, "%s%s:", prefix, k);
			sk = term_safe(key);
			if (*prefix == '\0' && (!strcmp(k, "created") || !strcmp(k, "started")) &&
			    json_object_is_type(v, json_type_int))
				sv = xstrdup(fmt_when(when, sizeof when, json_object_get_int64(v)));
			else
				sv = term_safe(json_object_get_string(v));
			fprintf(out, "%-20s %s\n", sk, sv);
			free(sk);
			free(sv);
		}
	}
}

static int
cmd_info_exec(struct cmd_ctx *ctx)
{
	json_object *o = NULL;

	if (instance_info_json(ctx->targets[0], &o, &ctx->err) < 0)
		return cmd_exit_for(&ctx->err);
	if (cmd_flag(ctx, "json"))
		json_print(ctx->out, o);
	else
		print_kv(ctx->out, "", o);
	json_object_put(o);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_info_entry = {
	.name = "info",
	.aliases = { "show" },
	.args_usage = "NAME",
	.summary = "show everything known about an instance",
	.target = CMD_TARGET_INSTANCE,
	.min_args = 1,
	.max_args = 1,
	.needs_session = 1,
	.opts = { { "json", 'j', 0, 0, NULL, "print JSON" } },
	.exec = cmd_info_exec,
};

static int
cmd_hosts_exec(struct cmd_ctx *ctx)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < ctx->s->nconns; i++) {
		struct bconn *c = ctx->s->conns[i];
		json_object *h = json_object_new_object(), *hi = NULL;
		struct berr e = { 0 };

		json_object_object_add(h, "backend", json_object_new_string(c->ops->name));
		json_object_object_add(h, "host", json_object_new_string(conn_host(c)));
		json_object_object_add(h, "uri", c->uri ? json_object_new_string(c->uri) : NULL);
		json_object_object_add(h, "connected", json_object_new_boolean(1));
		if (c->ops->host_info != NULL && c->ops->host_info(c, &hi, &e) == 0 && hi != NULL)
			json_object_object_add(h, "info", hi);
		json_object_array_add(arr, h);
	}
	for (i = 0; i < ctx->s->nfailures; i++) {
		struct session_failure *f = &ctx->s->failures[i];
		json_object *h = json_object_new_object();

		json_object_object_add(h, "what", json_object_new_string(f->what));
		json_object_object_add(h, "connected", json_object_new_boolean(0));
		json_object_object_add(h, "error", json_object_new_string(f->err.msg));
		json_object_array_add(arr, h);
	}
	if (cmd_flag(ctx, "json")) {
		json_print(ctx->out, arr);
	} else {
		static const char *const hdr[] = { "BACKEND", "HOST", "URI", "STATUS" };
		struct table *t = table_new(4, hdr);

		for (i = 0; i < json_object_array_length(arr); i++) {
			json_object *h = json_object_array_get_idx(arr, i), *v;
			const char *row[4] = { "", "", "", "" };

			if (json_object_object_get_ex(h, "connected", &v) && json_object_get_boolean(v)) {
				json_object *bv, *hv, *uv;

				json_object_object_get_ex(h, "backend", &bv);
				json_object_object_get_ex(h, "host", &hv);
				row[0] = json_object_get_string(bv);
				row[1] = json_object_get_string(hv);
				row[2] = json_object_object_get_ex(h, "uri", &uv) && uv
						 ? json_object_get_string(uv) : "-";
				row[3] = "connected";
			} else {
				json_object *wv, *ev;

				json_object_object_get_ex(h, "what", &wv);
				json_object_object_get_ex(h, "error", &ev);
				row[0] = json_object_get_string(wv);
				row[1] = "-";
				row[2] = "-";
				row[3] = json_object_get_string(ev);
			}
			table_add(t, row);
		}
		table_print(t, ctx->out);
		table_free(t);
	}
	json_object_put(arr);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_hosts_entry = {
	.name = "hosts",
	.summary = "show connections to backends and hosts, and which failed",
	.max_args = 0,
	.needs_session = 1,
	.opts = { { "json", 'j', 0, 0, NULL, "print JSON" } },
	.exec = cmd_hosts_exec,
};
