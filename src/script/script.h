/*
 * script.h - the Lua 5.4 scripting layer as the rest of berth sees it.
 *
 * One process-wide "global" script state holds init.lua, Lua plugins and the
 * shell's Lua; `berth run` uses it too, except in sandbox mode or with limits
 * that need a fresh state.  Every state has the `berth` module (see
 * berth-lua(7)).  The front-ends call the functions below; nothing here
 * prints except where a function says it reports to a FILE.
 * Not for: the `berth` module's functions themselves (lua-berth.c,
 * lua-instance.c) or the commands `run` and `shell` (src/cmd).
 */
#ifndef BERTH_SCRIPT_H
#define BERTH_SCRIPT_H

#include <stddef.h>
#include <stdio.h>

#include "core/error.h"
#include "core/instance.h"

struct loop;
struct session;
struct script;

/* Start-up (main.c): load $BERTH_CONFIG_DIR/init.lua if it exists into the
 * global state.  Errors name the file, the line and the option. */
int script_config_load(struct session *s, struct berr *err);
/* Start-up: load Lua plugins (*.lua) and C backend plugins (*.so) from
 * $BERTH_PLUGIN_PATH, the install directories and $BERTH_CONFIG_DIR/plugins.
 * Every plugin is tried; err holds the failures (one per line). */
int script_plugins_load(struct session *s, struct berr *err);
/* Close the global state (before the session is freed). */
void script_shutdown(void);

/* Limits for one state. */
struct script_limits {
	int sandbox;			/* untrusted: no io/os/debug/dump/binary load */
	size_t max_memory;		/* bytes of Lua heap, 0: no cap */
	long long max_instructions;	/* VM instructions, 0: no budget */
	long timeout_ms;		/* wall-clock budget, 0: none */
};

/* The global state (created on demand; s may be NULL and set later). */
struct script *script_global(struct session *s, struct berr *err);
/* A fresh state with limits (free with script_free). */
struct script *script_new(struct session *s, const struct script_limits *lim, struct berr *err);
void script_free(struct script *sc);
/* Make s the session of sc (pending berth.connect calls are applied). */
void script_set_session(struct script *sc, struct session *s);
struct session *script_session(struct script *sc);
/* Completions of a Lua expression prefix such as "berth.li", "str" or
 * "vm:sta": the names in the state (globals, fields of the tables along the
 * dotted path, methods after ':'), read raw so no metamethod runs.  Calls
 * add(candidate, arg) for each full candidate text. */
void script_complete(struct script *sc, const char *text, void (*add)(const char *, void *),
		     void *arg);
/* Apply limits to the next runs in sc (memory cap counts from now). */
void script_set_limits(struct script *sc, const struct script_limits *lim);

/* Outcome of running a chunk. */
enum script_status {
	SCRIPT_OK = 0,		/* ran to the end (or os.exit) */
	SCRIPT_ERROR,		/* a Lua error: message with traceback */
	SCRIPT_INTERRUPTED,	/* SIGINT */
	SCRIPT_LIMIT,		/* instruction, time or memory limit hit */
	SCRIPT_SYNTAX,		/* did not compile */
	SCRIPT_INCOMPLETE,	/* chunk ends early (the shell reads more) */
};

/* Run a file ("-" = stdin) with arg table: argv[0] the script, argv[1..]
 * its arguments.  *exit_code gets os.exit's code, the chunk's returned
 * number (true/nil 0, false 1), or 1/130 for errors/interrupts.  On error
 * the message with traceback is written to errf. */
enum script_status script_run_file(struct script *sc, const char *path, int argc, char **argv,
				   int *exit_code, FILE *errf);
/* Set the global `arg` table: arg[0] = argv[0], arg[i] = argv[i]. */
void script_set_args(struct script *sc, int argc, char **argv);
/* Run a chunk of source.  print_results: print returned values (the shell).
 * A chunk that ends early returns SCRIPT_INCOMPLETE and prints nothing. */
enum script_status script_run_string(struct script *sc, const char *code, const char *chunkname,
				     int print_results, int *exit_code, FILE *out, FILE *errf);

/* For the dashboard's `:` line and other front-ends without a terminal:
 * run one Lua chunk in the global state (s becomes its session), printing
 * results as the shell does, with output and errors captured in *output
 * (malloc'd, caller frees).  Returns 0, or the exit code of the failure. */
int script_eval_capture(struct session *s, const char *code, char **output);

/* SIGINT: interrupt whatever Lua runs now (async-signal-safe). */
void script_interrupt(void);
/* Clear a pending interrupt (before running something new). */
void script_clear_interrupt(void);
int script_interrupt_pending(void);
/* Install (on != 0) or restore the SIGINT handler that calls
 * script_interrupt and wakes loop (may be NULL). */
void script_catch_sigint(int on, struct loop *loop);

/* Where errors of event handlers and other callbacks that have no caller
 * go (default: stderr, "berth: ..."); the dashboard shows them instead. */
void script_set_reporter(void (*fn)(const char *msg));

/* Called around event handlers that run while no script does (the shell's
 * prompt, the dashboard), so the front-end can get its screen out of the
 * way of what they print and redraw it after.  NULL: nothing. */
void script_set_output_guard(void (*before)(void), void (*after)(void));

/* For a front-end that owns the terminal (the dashboard): berth.confirm
 * asks its question through fn instead of printing it and reading a line
 * from stdin, and returns fn's answer: 1 yes, 0 no.  fn runs on the thread
 * that runs Lua, with question valid only during the call.  fn NULL
 * restores the plain prompt on the terminal. */
void script_set_confirm_hook(int (*fn)(const char *question, void *arg), void *arg);

/* ---- what Lua plugins and init.lua registered ---- */
/* Commands added with berth.command{}: the shell, berth.cmd and main.c
 * (for an unknown command name) look here. */
size_t script_command_count(void);
const char *script_command_name(size_t i);
const char *script_command_summary(size_t i);
int script_command_exists(const char *name);
/* Run a plugin command: argv[0] is its name.  Returns an exit code
 * (CMD_EXIT_*), output to out/errf.  *sp may be NULL: a session is
 * connected on demand. */
int script_command_run(struct session **sp, int argc, char **argv, FILE *out, FILE *errf);

/* Columns added with berth.column{} for the dashboard and `list`. */
size_t script_column_count(void);
const char *script_column_name(size_t i);
int script_column_width(size_t i);
/* Fill buf with column i's text for inst; -1 with err if the plugin failed. */
int script_column_value(size_t i, const struct instance *inst, char *buf, size_t len,
			struct berr *err);

#endif
