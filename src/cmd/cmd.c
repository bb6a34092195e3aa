/*
 * cmd.c - the command table and its dispatcher: option parsing from each
 * entry's option list, global --connect handling, target resolution, exit
 * codes.  Shared by the one-shot CLI, the shell, the dashboard's `:` line and
 * Lua.  Not for: what any one command does (src/cmd/cmd-*.c).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/util.h"

extern const struct cmd_entry cmd_help_entry, cmd_version_entry, cmd_list_entry,
	cmd_info_entry, cmd_start_entry, cmd_shutdown_entry, cmd_kill_entry, cmd_pause_entry,
	cmd_resume_entry, cmd_destroy_entry, cmd_undefine_entry, cmd_console_entry,
	cmd_stats_entry, cmd_define_entry, cmd_commands_entry, cmd_hosts_entry;
/* Plugin commands (Lua): weak, so berth links without the scripting layer. */
int script_command_exists(const char *name) __attribute__((weak));
int script_command_run(struct session **sp, int argc, char **argv, FILE *out, FILE *errf)
	__attribute__((weak));
size_t script_command_count(void) __attribute__((weak));
const char *script_command_name(size_t i) __attribute__((weak));
const char *script_command_summary(size_t i) __attribute__((weak));

/* Commands of other components: weak, so berth links while one is absent. */
extern const struct cmd_entry cmd_pull_entry __attribute__((weak));
extern const struct cmd_entry cmd_images_entry __attribute__((weak));
extern const struct cmd_entry cmd_rmi_entry __attribute__((weak));
extern const struct cmd_entry cmd_exec_entry __attribute__((weak));
extern const struct cmd_entry cmd_run_entry __attribute__((weak));
extern const struct cmd_entry cmd_shell_entry __attribute__((weak));
extern const struct cmd_entry cmd_tui_entry __attribute__((weak));
extern const struct cmd_entry cmd_proxy_entry __attribute__((weak));
extern const struct cmd_entry cmd_demo_entry __attribute__((weak));

const struct cmd_entry *const cmd_table[] = {
	&cmd_help_entry,
	&cmd_version_entry,
	&cmd_list_entry,
	&cmd_info_entry,
	&cmd_hosts_entry,
	&cmd_start_entry,
	&cmd_shutdown_entry,
	&cmd_kill_entry,
	&cmd_pause_entry,
	&cmd_resume_entry,
	&cmd_destroy_entry,
	&cmd_undefine_entry,
	&cmd_define_entry,
	&cmd_console_entry,
	&cmd_stats_entry,
	&cmd_exec_entry,
	&cmd_pull_entry,
	&cmd_images_entry,
	&cmd_rmi_entry,
	&cmd_run_entry,
	&cmd_shell_entry,
	&cmd_tui_entry,
	&cmd_demo_entry,
	&cmd_proxy_entry,
	&cmd_commands_entry,
};
const size_t cmd_table_len = sizeof cmd_table / sizeof cmd_table[0];

struct cmd_globals cmd_globals;

const struct cmd_opt cmd_global_opts[] = {
	{ "connect", 'c', 1, 1, "URI", "also connect to URI: libvirt, or ssh://HOST for a remote berth (repeatable)" },
	{ "no-default-libvirt", 0, 0, 0, NULL, "do not connect to the default libvirt URI" },
	{ "help", 'h', 0, 0, NULL, "show the commands" },
	{ "version", 'V', 0, 0, NULL, "show the version" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

void
cmd_opt_left(const struct cmd_opt *o, char *buf, size_t len)
{
	if (o->short_name)
		snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->name, o->has_arg ? " " : "",
			 o->has_arg ? o->arg_name : "");
	else
		snprintf(buf, len, "    --%s%s%s", o->name, o->has_arg ? " " : "", o->has_arg ? o->arg_name : "");
}

const struct cmd_entry *
cmd_find(const char *name)
{
	size_t i;
	int a;

	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e == NULL)
			continue;
		if (strcmp(e->name, name) == 0)
			return e;
		for (a = 0; a < 4 && e->aliases[a] != NULL; a++)
			if (strcmp(e->aliases[a], name) == 0)
				return e;
	}
	return NULL;
}

static int
cmd_opt_index(const struct cmd_entry *e, const char *name)
{
	int i;

	for (i = 0; i < CMD_MAX_OPTS && e->opts[i].name != NULL; i++)
		if (strcmp(e->opts[i].name, name) == 0)
			return i;
	return -1;
}

const char *
cmd_opt(const struct cmd_ctx *ctx, const char *name)
{
	int i = cmd_opt_index(ctx->entry, name);

	return i < 0 ? NULL : ctx->opt_values[i];
}

int
cmd_flag(const struct cmd_ctx *ctx, const char *name)
{
	return cmd_opt(ctx, name) != NULL;
}

int
cmd_exit_for(const struct berr *e)
{
	switch (e->code) {
	case BERR_NOTFOUND:
	case BERR_AMBIGUOUS:
		return CMD_EXIT_NOTFOUND;
	case BERR_NOTSUP:
		return CMD_EXIT_NOTSUP;
	case BERR_INVALID:
		return CMD_EXIT_FAIL;
	default:
		return CMD_EXIT_FAIL;
	}
}

static void
cmd_suggest(FILE *errf, const char *name)
{
	size_t i, shown = 0;

	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e == NULL)
			continue;
		if (edit_distance(e->name, name) <= 2 ||
		    (strlen(name) >= 2 && strncmp(e->name, name, strlen(name)) == 0)) {
			fprintf(errf, "%s`%s'", shown ? ", " : "berth: did you mean ", e->name);
			shown++;
		}
	}
	if (shown)
		fputs("?\n", errf);
}

/* Global options accepted by every command. */
enum { GOPT_CONNECT = 1000, GOPT_HELP, GOPT_NO_DEFAULT };

static void
cmd_usage_line(FILE *out, const struct cmd_entry *e)
{
	int i;

	fprintf(out, "usage: berth %s", e->name);
	for (i = 0; i < CMD_MAX_OPTS && e->opts[i].name != NULL; i++) {
		const struct cmd_opt *o = &e->opts[i];

		if (o->has_arg)
			fprintf(out, " [--%s %s]", o->name, o->arg_name ? o->arg_name : "VALUE");
		else
			fprintf(out, " [--%s]", o->name);
	}
	if (e->args_usage && *e->args_usage)
		fprintf(out, " %s", e->args_usage);
	fputc('\n', out);
}

void
cmd_print_help(FILE *out, const char *command)
{
	size_t i;

	if (command != NULL) {
		const struct cmd_entry *e = cmd_find(command);
		int k;

		if (e == NULL) {
			fprintf(out, "berth: no command `%s'\n", command);
			return;
		}
		cmd_usage_line(out, e);
		fprintf(out, "%s\n", e->summary);
		if (e->aliases[0] != NULL) {
			fputs("aliases:", out);
			for (k = 0; k < 4 && e->aliases[k] != NULL; k++)
				fprintf(out, " %s", e->aliases[k]);
			fputc('\n', out);
		}
		if (e->opts[0].name != NULL)
			fputs("options:\n", out);
		for (k = 0; k < CMD_MAX_OPTS && e->opts[k].name != NULL; k++) {
			char left[64];

			cmd_opt_left(&e->opts[k], left, sizeof left);
			fprintf(out, "  %-26s %s\n", left, e->opts[k].help);
		}
		if (e->needs_session) {
			char left[64];

			cmd_opt_left(&cmd_global_opts[0], left, sizeof left);
			fprintf(out, "  %-26s %s\n", left, cmd_global_opts[0].help);
		}
		return;
	}
	fputs("usage: berth [GLOBAL OPTIONS] [COMMAND [ARGS]]\n"
	      "With no command, berth opens the dashboard.\n\nglobal options:\n", out);
	for (i = 0; cmd_global_opts[i].name != NULL; i++) {
		char left[64];

		cmd_opt_left(&cmd_global_opts[i], left, sizeof left);
		fprintf(out, "  %-26s %s\n", left, cmd_global_opts[i].help);
	}
	fputs("\ncommands:\n", out);
	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e == NULL || e->summary == NULL || e->summary[0] == '\0')
			continue;
		fprintf(out, "  %-10s %s\n", e->name, e->summary);
	}
	if (script_command_count != NULL && script_command_count() > 0) {
		fputs("\nplugin commands:\n", out);
		for (i = 0; i < script_command_count(); i++)
			fprintf(out, "  %-10s %s\n", script_command_name(i),
				script_command_summary(i) ? script_command_summary(i) : "");
	}
	fputs("\nRun `berth help COMMAND' for a command's options; see berth(1).\n", out);
}

static int
cmd_connect_session(struct session **sp, const char **extra, size_t nextra, FILE *errf)
{
	struct berr err = { 0 };
	size_t i;
	const char *uris[32];
	size_t n = 0;

	for (i = 0; i < cmd_globals.nconnect && n < 32; i++)
		uris[n++] = cmd_globals.connect[i];
	for (i = 0; i < nextra && n < 32; i++)
		uris[n++] = extra[i];
	if (*sp == NULL && session_new(sp, &err) < 0) {
		fprintf(errf, "berth: %s\n", err.msg);
		return -1;
	}
	if (!(*sp)->defaults_connected) {
		const char *nodef = getenv("BERTH_NO_DEFAULT_LIBVIRT");

		session_connect_defaults(*sp, uris, n,
					 !cmd_globals.no_default_libvirt &&
						 !(nodef != NULL && *nodef != '\0' && strcmp(nodef, "0") != 0));
	} else {
		for (i = 0; i < nextra; i++)
			if (session_find_conn(*sp, session_backend_for_uri(extra[i]), extra[i]) == NULL)
				session_connect(*sp, session_backend_for_uri(extra[i]), extra[i], NULL);
	}
	return 0;
}

static void
cmd_report_failures(struct session *s, FILE *errf)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nfailures; i++)
		if (s->failures[i].requested || s->failures[i].from_list)
			fprintf(errf, "berth: %s\n", s->failures[i].err.msg);
}

int
cmd_run(struct session **sp, int argc, char **argv, FILE *out, FILE *errf, int interactive)
{
	const struct cmd_entry *e;
	struct option longopts[CMD_MAX_OPTS + 4];
	char shortopts[CMD_MAX_OPTS * 2 + 8];
	struct cmd_ctx ctx;
	const char *extra_connect[16];
	size_t nextra = 0, nfail_before = 0, si = 0;
	int i, nopts = 0, c, rc;
	char *joined[CMD_MAX_OPTS] = { 0 };

	if (argc < 1 || argv[0] == NULL) {
		cmd_print_help(errf, NULL);
		return CMD_EXIT_USAGE;
	}
	e = cmd_find(argv[0]);
	if (e == NULL && script_command_exists != NULL && script_command_run != NULL &&
	    script_command_exists(argv[0]))
		return script_command_run(sp, argc, argv, out, errf);
	if (e == NULL) {
		fprintf(errf, "berth: unknown command `%s'\n", argv[0]);
		cmd_suggest(errf, argv[0]);
		return CMD_EXIT_USAGE;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.entry = e;
	ctx.out = out;
	ctx.errf = errf;
	ctx.interactive = interactive;

	shortopts[si++] = '+';	/* never permute past "--" users give */
	shortopts[si++] = ':';
	for (i = 0; i < CMD_MAX_OPTS && e->opts[i].name != NULL; i++) {
		longopts[nopts].name = e->opts[i].name;
		longopts[nopts].has_arg = e->opts[i].has_arg ? required_argument : no_argument;
		longopts[nopts].flag = NULL;
		longopts[nopts].val = i + 1;
		nopts++;
		if (e->opts[i].short_name) {
			shortopts[si++] = e->opts[i].short_name;
			if (e->opts[i].has_arg)
				shortopts[si++] = ':';
		}
	}
	longopts[nopts++] = (struct option){ "connect", required_argument, NULL, GOPT_CONNECT };
	longopts[nopts++] = (struct option){ "help", no_argument, NULL, GOPT_HELP };
	longopts[nopts] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[si++] = 'c';
	shortopts[si++] = ':';
	shortopts[si++] = 'h';
	shortopts[si] = '\0';

	/* getopt_long keeps global state: reinitialise for every command (the
	 * shell runs many).  Options may follow positional arguments: collect
	 * positionals ourselves until "--". */
	{
		char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
		int npos = 0, k;

		optind = 1;
		opterr = 0;
		while (optind < argc) {
			if (strcmp(argv[optind], "--") == 0) {
				optind++;
				while (optind < argc)
					pos[npos++] = argv[optind++];
				break;
			}
			if (argv[optind][0] != '-' || argv[optind][1] == '\0') {
				pos[npos++] = argv[optind++];
				if (e->options_first)
					while (optind < argc)
						pos[npos++] = argv[optind++];
				continue;
			}
			c = getopt_long(argc, argv, shortopts, longopts, NULL);
			if (c == -1)
				break;
			if (c == GOPT_HELP || c == 'h') {
				cmd_print_help(out, e->name);
				free(pos);
				return CMD_EXIT_OK;
			}
			if (c == GOPT_CONNECT || c == 'c') {
				if (nextra < 16)
					extra_connect[nextra++] = optarg;
				continue;
			}
			if (c == '?' || c == ':') {
				char shown[64];

				/* A long option is argv[optind-1]; a short one may sit in a
				 * group ("-Zq"): name just that letter. */
				if (optopt != 0)
					snprintf(shown, sizeof shown, "-%c", optopt);
				else
					snprintf(shown, sizeof shown, "%.60s", argv[optind - 1]);
				if (c == ':')
					fprintf(errf, "berth %s: option `%s' needs a value\n", e->name, shown);
				else
					fprintf(errf, "berth %s: unknown option `%s'\n", e->name, shown);
				cmd_usage_line(errf, e);
				free(pos);
				for (i = 0; i < CMD_MAX_OPTS; i++)
					free(joined[i]);
				return CMD_EXIT_USAGE;
			}
			if (c >= 1 && c <= CMD_MAX_OPTS) {
				const char *v;

				k = c - 1;
				v = e->opts[k].has_arg ? optarg : "";
				if (e->opts[k].repeat && ctx.opt_values[k] != NULL) {
					char *j = xasprintf("%s\n%s", ctx.opt_values[k], v);

					free(joined[k]);
					joined[k] = j;
					ctx.opt_values[k] = j;
				} else {
					ctx.opt_values[k] = v;
				}
				continue;
			}
			for (k = 0; k < CMD_MAX_OPTS && e->opts[k].name != NULL; k++)
				if (e->opts[k].short_name == c)
					break;
			if (k < CMD_MAX_OPTS && e->opts[k].name != NULL) {
				ctx.opt_values[k] = e->opts[k].has_arg ? optarg : "";
				continue;
			}
		}
		ctx.argc = npos;
		ctx.argv = pos;
	}
	if (ctx.argc < e->min_args || (e->max_args >= 0 && ctx.argc > e->max_args)) {
		fprintf(errf, "berth %s: expected %s\n", e->name,
			e->args_usage && *e->args_usage ? e->args_usage : "no arguments");
		cmd_usage_line(errf, e);
		rc = CMD_EXIT_USAGE;
		goto done;
	}
	if (e->needs_session) {
		if (cmd_connect_session(sp, extra_connect, nextra, errf) < 0) {
			rc = CMD_EXIT_FAIL;
			goto done;
		}
		ctx.s = *sp;
		nfail_before = session_failure_count(*sp);
		(void)nfail_before;
	} else {
		ctx.s = sp ? *sp : NULL;
	}
	if (e->target != CMD_TARGET_NONE) {
		int n = e->target == CMD_TARGET_INSTANCE ? 1 : ctx.argc;

		ctx.targets = xcalloc((size_t)n + 1, sizeof *ctx.targets);
		for (i = 0; i < n; i++) {
			struct berr err = { 0 };

			if (session_resolve(ctx.s, ctx.argv[i], &ctx.targets[ctx.ntargets], &err) < 0) {
				cmd_report_failures(ctx.s, errf);
				fprintf(errf, "berth: %s\n", err.msg);
				rc = cmd_exit_for(&err);
				goto done;
			}
			ctx.ntargets++;
		}
	}
	rc = e->exec(&ctx);
	if (rc != CMD_EXIT_OK && ctx.err.msg[0] != '\0')
		fprintf(errf, "berth: %s\n", ctx.err.msg);
	if (e->needs_session && ctx.s != NULL && session_failure_count(ctx.s) > 0) {
		cmd_report_failures(ctx.s, errf);
		if (rc == CMD_EXIT_OK)
			rc = CMD_EXIT_PARTIAL;
	}
done:
	for (i = 0; i < (int)ctx.ntargets; i++)
		instance_free(ctx.targets[i]);
	free(ctx.targets);
	free(ctx.argv);
	for (i = 0; i < CMD_MAX_OPTS; i++)
		free(joined[i]);
	return rc;
}

