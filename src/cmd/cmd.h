/*
 * cmd.h - the command table shared by the one-shot CLI, `berth shell`, the
 * dashboard's `:` line and Lua's berth.cmd().
 *
 * Each command lives in src/cmd/cmd-<name>.c and defines one
 * `const struct cmd_entry cmd_<name>_entry`; cmd.c lists them all.  The
 * dispatcher parses options from the entry's option list, resolves targets
 * (a command that takes an instance receives a resolved one, or never runs)
 * and maps errors to exit codes.  Help, completion and the man-page check
 * read the same table.
 */
#ifndef BERTH_CMD_H
#define BERTH_CMD_H

#include <stdio.h>

#include "core/error.h"
#include "core/instance.h"
#include "core/session.h"

/* Exit codes of `berth <command>` (documented in berth(1)). */
enum {
	CMD_EXIT_OK = 0,
	CMD_EXIT_FAIL = 1,	/* the operation failed */
	CMD_EXIT_USAGE = 2,	/* bad command line */
	CMD_EXIT_NOTFOUND = 3,	/* no such instance (or ambiguous name) */
	CMD_EXIT_PARTIAL = 4,	/* done, but some backends/hosts were unreachable */
	CMD_EXIT_NOTSUP = 5,	/* the backend does not support the operation */
};

enum cmd_target {
	CMD_TARGET_NONE = 0,	/* positional args are the command's own */
	CMD_TARGET_INSTANCE,	/* exactly one instance name: argv[0] */
	CMD_TARGET_INSTANCES,	/* one or more instance names */
};

struct cmd_opt {
	const char *name;	/* long name, "json" for --json */
	char short_name;	/* 0 if none */
	int has_arg;		/* 0 flag, 1 required value */
	int repeat;		/* may be given several times (values joined by '\n') */
	const char *arg_name;	/* "URI", "SEC"... for usage */
	const char *help;
};

#define CMD_MAX_OPTS 16

struct cmd_ctx;
struct cmd_entry {
	const char *name;
	const char *aliases[4];		/* NULL-terminated */
	const char *args_usage;		/* "NAME...", "[PATTERN]" */
	const char *summary;		/* one line for help */
	enum cmd_target target;
	int min_args, max_args;		/* positional count; max -1 = unlimited */
	struct cmd_opt opts[CMD_MAX_OPTS];	/* terminated by name == NULL */
	int needs_session;		/* connect backends before running */
	int (*exec)(struct cmd_ctx *ctx);
	int options_first;		/* options only before the first positional
					 * (the rest, even "-x", goes to the command) */
};

struct cmd_ctx {
	const struct cmd_entry *entry;
	struct session *s;
	int argc;			/* positional arguments after options */
	char **argv;
	struct instance **targets;	/* resolved when entry->target != NONE */
	size_t ntargets;
	const char *opt_values[CMD_MAX_OPTS];	/* NULL if not given; "" for flags */
	FILE *out;			/* normal output */
	FILE *errf;			/* error output */
	int interactive;		/* running inside shell/TUI (no exit on console detach etc.) */
	struct berr err;		/* filled by exec on failure */
	void *frontend;			/* front-end private (TUI, shell) */
};

extern const struct cmd_entry *const cmd_table[];
extern const size_t cmd_table_len;

const struct cmd_entry *cmd_find(const char *name);	/* name or alias */
/* Option value by long name: NULL if absent, "" for a given flag. */
const char *cmd_opt(const struct cmd_ctx *ctx, const char *name);
int cmd_flag(const struct cmd_ctx *ctx, const char *name);

/* Parse argv (argv[0] = command name) and run it against session s
 * (connected on demand from global options when s is NULL in *sp).  Returns
 * a CMD_EXIT_* code; errors are printed to errf as "berth: <message>". */
int cmd_run(struct session **sp, int argc, char **argv, FILE *out, FILE *errf, int interactive);

/* `set [NAME [VALUE...]]` of the shell and the dashboard's `:` line
 * (cmd-set.c): lists, explains or sets options; returns a CMD_EXIT_* code. */
int cmd_set(int argc, char **argv, FILE *out, FILE *errf);
/* Completion candidates for word nwords of `set` (1: option names; 2: the
 * values of boolean option name), passed to add. */
void cmd_set_complete(int nwords, const char *name, void (*add)(const char *cand, void *arg), void *arg);

/* Split a command line into words (shell-like quoting: '', "", \). */
int cmd_split(const char *line, int *argc, char ***argv, struct berr *err);
void cmd_free_argv(int argc, char **argv);

/* Print the table as help: all commands, or one in detail. */
void cmd_print_help(FILE *out, const char *command);

/* Global connection options shared by every command (--connect URI). */
struct cmd_globals {
	const char *connect[16];
	size_t nconnect;
	int no_default_libvirt;
};
extern struct cmd_globals cmd_globals;
/* The options that go before the command (main parses them; help, the man
 * page test and the shell's completion read them), ended by a NULL name. */
extern const struct cmd_opt cmd_global_opts[];
/* One option's "-c, --connect URI" for help. */
void cmd_opt_left(const struct cmd_opt *o, char *buf, size_t len);

/* Map an error code to an exit code. */
int cmd_exit_for(const struct berr *e);

#endif
