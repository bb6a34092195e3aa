/*
 * main.c - the berth program: global options, configuration and plugins,
 * then the dashboard (no command) or one command from the table.
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/util.h"

/* Other components' entry points: weak, so berth links without them. */
struct session;
int tui_main(struct session *s, int argc, char **argv) __attribute__((weak));
int script_config_load(struct session *s, struct berr *err) __attribute__((weak));
int script_plugins_load(struct session *s, struct berr *err) __attribute__((weak));
void script_shutdown(void) __attribute__((weak));

static void
usage(FILE *out)
{
	cmd_print_help(out, NULL);
}

/* The global option arg names ("--connect", "--connect=URI", "-c"), with
 * *val the part after '=' if any; NULL when it is none of them. */
static const struct cmd_opt *
find_global(const char *arg, const char **val)
{
	size_t i, n;

	*val = NULL;
	for (i = 0; cmd_global_opts[i].name != NULL; i++) {
		const struct cmd_opt *o = &cmd_global_opts[i];

		if (arg[1] != '-') {
			if (o->short_name && arg[1] == o->short_name && arg[2] == '\0')
				return o;
			continue;
		}
		n = strlen(o->name);
		if (strncmp(arg + 2, o->name, n) != 0)
			continue;
		if (arg[2 + n] == '\0')
			return o;
		if (arg[2 + n] == '=' && o->has_arg) {
			*val = arg + 3 + n;
			return o;
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct session *s = NULL;
	struct berr err = { 0 };
	int i, rc;

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	util_set_oom_hook(util_oom_report);
	backend_register_builtin();

	/* Global options before the command (cmd_global_opts). */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *val = NULL;
		const struct cmd_opt *o = find_global(a, &val);

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (o == NULL) {
			fprintf(stderr, "berth: unknown option `%s'\n", a);
			usage(stderr);
			return CMD_EXIT_USAGE;
		}
		if (o->has_arg && val == NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "berth: option `%s' wants %s\n", a, o->arg_name);
				return CMD_EXIT_USAGE;
			}
			val = argv[++i];
		}
		if (strcmp(o->name, "connect") == 0) {
			if (cmd_globals.nconnect < 16)
				cmd_globals.connect[cmd_globals.nconnect++] = val;
		} else if (strcmp(o->name, "no-default-libvirt") == 0) {
			cmd_globals.no_default_libvirt = 1;
		} else if (strcmp(o->name, "help") == 0) {
			usage(stdout);
			return CMD_EXIT_OK;
		} else if (strcmp(o->name, "version") == 0) {
			printf("berth %s\n", PACKAGE_VERSION);
			return CMD_EXIT_OK;
		}
	}
	if (session_new(&s, &err) < 0) {
		fprintf(stderr, "berth: %s\n", err.msg);
		return CMD_EXIT_FAIL;
	}
	if (script_config_load != NULL && script_config_load(s, &err) < 0) {
		fprintf(stderr, "berth: %s\n", err.msg);
		if (script_shutdown != NULL)
			script_shutdown();
		session_free(s);
		return CMD_EXIT_FAIL;
	}
	if (script_plugins_load != NULL && script_plugins_load(s, &err) < 0)
		fprintf(stderr, "berth: warning: %s\n", err.msg);

	if (i >= argc) {
		/* The dashboard needs a terminal; without one, list instead. */
		if (tui_main != NULL && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			const char *nodef = getenv("BERTH_NO_DEFAULT_LIBVIRT");

			session_connect_defaults(s, cmd_globals.connect, cmd_globals.nconnect,
						 !cmd_globals.no_default_libvirt &&
							 !(nodef && *nodef && strcmp(nodef, "0") != 0));
			rc = tui_main(s, 0, NULL);
		} else {
			char *list_argv[] = { "list", NULL };

			rc = cmd_run(&s, 1, list_argv, stdout, stderr, 0);
		}
	} else {
		rc = cmd_run(&s, argc - i, argv + i, stdout, stderr, 0);
	}
	if (script_shutdown != NULL)
		script_shutdown();
	session_free(s);
	fflush(stdout);
	return rc;
}
