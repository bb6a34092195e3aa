/*
 * cmd-stats.c - `berth stats [NAME...]`: CPU, memory, disk and network rates,
 * once (two samples --interval apart) or continuously with --watch.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd-util.h"
#include "core/loop.h"
#include "core/util.h"

/* Set by the shell's SIGINT handler: stop --watch, not the shell. */
int script_interrupt_pending(void) __attribute__((weak));

static json_object *
rates_json(const struct instance *inst, const struct inst_rates *r, const struct inst_stats *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(inst->name));
	json_object_object_add(o, "backend", json_object_new_string(inst->backend->name));
	json_object_object_add(o, "host", json_object_new_string(inst->host));
	json_object_object_add(o, "valid", json_object_new_boolean(st->valid));
	json_object_object_add(o, "cpu_pct", json_object_new_double(r->cpu_pct_vcpus));
	json_object_object_add(o, "cpu_pct_host", json_object_new_double(r->cpu_pct_host));
	json_object_object_add(o, "cpu_time_ns", json_object_new_int64((int64_t)st->cpu_time_ns));
	json_object_object_add(o, "vcpus", json_object_new_int(st->vcpus));
	json_object_object_add(o, "mem_used_kib", json_object_new_int64((int64_t)st->mem_used_kib));
	json_object_object_add(o, "mem_total_kib", json_object_new_int64((int64_t)st->mem_total_kib));
	json_object_object_add(o, "disk_read_bps", json_object_new_double(r->blk_rd_bps));
	json_object_object_add(o, "disk_write_bps", json_object_new_double(r->blk_wr_bps));
	json_object_object_add(o, "disk_read_iops", json_object_new_double(r->blk_rd_iops));
	json_object_object_add(o, "disk_write_iops", json_object_new_double(r->blk_wr_iops));
	json_object_object_add(o, "net_rx_bps", json_object_new_double(r->net_rx_bps));
	json_object_object_add(o, "net_tx_bps", json_object_new_double(r->net_tx_bps));
	return o;
}

static void
print_table(struct cmd_ctx *ctx, struct inst_list *l, struct inst_rates *r, struct inst_stats *st)
{
	static const char *const hdr[] = { "NAME", "HOST", "CPU%", "HOST%", "MEM", "DISK-R/s",
					   "DISK-W/s", "NET-RX/s", "NET-TX/s" };
	struct table *t = table_new(9, hdr);
	size_t i;
	int c;

	for (c = 2; c < 9; c++)
		table_align_right(t, c);
	for (i = 0; i < l->n; i++) {
		char cpu[16], hcpu[16], mem[16], a[16], b[16], d[16], e[16];
		const char *row[9];

		if (!st[i].valid) {
			row[0] = l->v[i]->name;
			row[1] = l->v[i]->host;
			for (c = 2; c < 9; c++)
				row[c] = "-";
			table_add(t, row);
			continue;
		}
		snprintf(cpu, sizeof cpu, "%.1f", r[i].cpu_pct_vcpus);
		snprintf(hcpu, sizeof hcpu, "%.1f", r[i].cpu_pct_host);
		fmt_bytes(mem, sizeof mem, (double)st[i].mem_used_kib * 1024);
		fmt_bytes(a, sizeof a, r[i].blk_rd_bps);
		fmt_bytes(b, sizeof b, r[i].blk_wr_bps);
		fmt_bytes(d, sizeof d, r[i].net_rx_bps);
		fmt_bytes(e, sizeof e, r[i].net_tx_bps);
		row[0] = l->v[i]->name;
		row[1] = l->v[i]->host;
		row[2] = cpu;
		row[3] = hcpu;
		row[4] = mem;
		row[5] = a;
		row[6] = b;
		row[7] = d;
		row[8] = e;
		table_add(t, row);
	}
	table_print(t, ctx->out);
	table_free(t);
}

static int
cmd_stats_exec(struct cmd_ctx *ctx)
{
	struct inst_list l = { 0 };
	double interval = 1.0;
	const char *iv = cmd_opt(ctx, "interval");
	int watch = cmd_flag(ctx, "watch"), json = cmd_flag(ctx, "json");
	long count = -1, round;
	struct inst_rates *rates;
	struct inst_stats *st;
	size_t i;

	if (iv != NULL) {
		char *end;

		interval = strtod(iv, &end);
		if (*end != '\0' || interval < 0.1 || interval > 3600) {
			berr_set(&ctx->err, BERR_INVALID, "--interval wants 0.1 to 3600 seconds, not `%s'", iv);
			return CMD_EXIT_USAGE;
		}
	}
	if (cmd_opt(ctx, "count") != NULL) {
		count = strtol(cmd_opt(ctx, "count"), NULL, 10);
		if (count < 1) {
			berr_set(&ctx->err, BERR_INVALID, "--count wants a positive number");
			return CMD_EXIT_USAGE;
		}
		watch = 1;
	}
	if (ctx->ntargets > 0) {
		for (i = 0; i < ctx->ntargets; i++) {
			inst_list_push(&l, ctx->targets[i]);
			ctx->targets[i] = NULL;
		}
		ctx->ntargets = 0;
	} else {
		session_list(ctx->s, &l);
	}
	rates = xcalloc(l.n + 1, sizeof *rates);
	st = xcalloc(l.n + 1, sizeof *st);
	/* First sample only primes the counters. */
	session_poll_stats(ctx->s, &l, rates, st);
	for (round = 0; count < 0 || round < count; round++) {
		int64_t until = now_ms() + (int64_t)(interval * 1000);

		while (now_ms() < until && !(script_interrupt_pending && script_interrupt_pending()))
			loop_run_once(ctx->s->loop, (int)(until - now_ms()));
		if (script_interrupt_pending && script_interrupt_pending())
			break;
		session_poll_stats(ctx->s, &l, rates, st);
		if (json) {
			json_object *a = json_object_new_array();

			for (i = 0; i < l.n; i++)
				json_object_array_add(a, rates_json(l.v[i], &rates[i], &st[i]));
			json_print(ctx->out, a);
			json_object_put(a);
		} else {
			if (watch && isatty(fileno(ctx->out)) && !ctx->interactive)
				fputs("\033[H\033[2J", ctx->out);
			print_table(ctx, &l, rates, st);
		}
		fflush(ctx->out);
		if (!watch)
			break;
	}
	free(rates);
	free(st);
	inst_list_clear(&l);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_stats_entry = {
	.name = "stats",
	.aliases = { "top" },
	.args_usage = "[NAME...]",
	.summary = "show CPU, memory, disk and network rates",
	.target = CMD_TARGET_INSTANCES,
	.min_args = 0,
	.max_args = -1,
	.needs_session = 1,
	.opts = {
		{ "json", 'j', 0, 0, NULL, "print JSON" },
		{ "watch", 'w', 0, 0, NULL, "keep printing every interval" },
		{ "interval", 'i', 1, 0, "SEC", "seconds between samples (default 1)" },
		{ "count", 'n', 1, 0, "N", "print N rounds, then stop (implies --watch)" },
	},
	.exec = cmd_stats_exec,
};
