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

	/* Global options before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if ((strcmp(a, "--connect") == 0 || strcmp(a, "-c") == 0) && i + 1 < argc) {
			if (cmd_globals.nconnect < 16)
				cmd_globals.connect[cmd_globals.nconnect++] = argv[++i];
		} else if (strncmp(a, "--connect=", 10) == 0) {
			if (cmd_globals.nconnect < 16)
				cmd_globals.connect[cmd_globals.nconnect++] = a + 10;
		} else if (strcmp(a, "--no-default-libvirt") == 0) {
			cmd_globals.no_default_libvirt = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return CMD_EXIT_OK;
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("berth %s\n", PACKAGE_VERSION);
			return CMD_EXIT_OK;
		} else {
			fprintf(stderr, "berth: unknown option `%s'\n", a);
			usage(stderr);
			return CMD_EXIT_USAGE;
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
