/*
 * cmd-stats.c - `berth stats [NAME...]`: CPU, memory, disk and network rates
 * (bytes, and with --wide operations and packets per second),
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
	json_object_object_add(o, "net_rx_pps", json_object_new_double(r->net_rx_pps));
	json_object_object_add(o, "net_tx_pps", json_object_new_double(r->net_tx_pps));
	return o;
}

/* Rates as "1.5K" (bytes) or "12.3" (per second counts). */
static void
fmt_rate(char *buf, size_t len, double v, int bytes)
{
	if (bytes)
		fmt_bytes(buf, len, v);
	else
		snprintf(buf, len, v >= 100 ? "%.0f" : "%.1f", v);
}

/* The table: NAME HOST CPU% HOST% MEM, then the disk and network rates;
 * --wide adds disk operations and network packets per second. */
static void
print_table(struct cmd_ctx *ctx, struct inst_list *l, struct inst_rates *r, struct inst_stats *st, int wide)
{
	static const char *const hdr[] = { "NAME", "HOST", "CPU%", "HOST%", "MEM", "DISK-R/s", "DISK-W/s",
					   "NET-RX/s", "NET-TX/s", "RD-OPS/s", "WR-OPS/s", "RX-PKT/s",
					   "TX-PKT/s" };
	int ncol = wide ? 13 : 9;
	struct table *t = table_new(ncol, hdr);
	size_t i;
	int c;

	for (c = 2; c < ncol; c++)
		table_align_right(t, c);
	for (i = 0; i < l->n; i++) {
		char cell[13][16];
		const char *row[13];
		const double v[] = { r[i].blk_rd_bps, r[i].blk_wr_bps, r[i].net_rx_bps, r[i].net_tx_bps,
				     r[i].blk_rd_iops, r[i].blk_wr_iops, r[i].net_rx_pps, r[i].net_tx_pps };

		row[0] = l->v[i]->name;
		row[1] = l->v[i]->host;
		for (c = 2; c < ncol; c++)
			row[c] = "-";
		if (st[i].valid) {
			snprintf(cell[2], sizeof cell[2], "%.1f", r[i].cpu_pct_vcpus);
			snprintf(cell[3], sizeof cell[3], "%.1f", r[i].cpu_pct_host);
			fmt_bytes(cell[4], sizeof cell[4], (double)st[i].mem_used_kib * 1024);
			for (c = 5; c < ncol; c++)
				fmt_rate(cell[c], sizeof cell[c], v[c - 5], c < 9);
			for (c = 2; c < ncol; c++)
				row[c] = cell[c];
		}
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
			print_table(ctx, &l, rates, st, cmd_flag(ctx, "wide"));
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
		{ "wide", 'W', 0, 0, NULL, "add disk operations and network packets per second" },
		{ "interval", 'i', 1, 0, "SEC", "seconds between samples (default 1)" },
		{ "count", 'n', 1, 0, "N", "print N rounds, then stop (implies --watch)" },
	},
	.exec = cmd_stats_exec,
};
