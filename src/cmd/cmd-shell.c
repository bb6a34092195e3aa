/*
 * cmd-shell.c - `berth shell`: an interactive shell over the command table,
 * with Lua inline.
 *
 *   berth> list --json            a command, exactly as on the command line
 *   berth> =berth.get("web1").state     a Lua expression, printed
 *   berth> lua for _, i in ipairs(berth.list()) do print(i) end
 *   berth> .lua                   toggle Lua mode (every line is Lua)
 *   berth> set stats_interval 2   options; `set` alone lists them
 *
 * readline with completion of commands, options and instance names and a
 * persistent history (option history_file; default shell_history in the
 * data directory).  An incomplete Lua chunk continues on the next line (">>").
 * The event loop runs while the prompt waits, so berth.on handlers fire.
 * Ctrl-C interrupts the running command or script, or discards the line at
 * the prompt; it never ends the shell (Ctrl-D or `exit` does).
 * Not for: Lua itself (src/script) or command parsing (cmd.c).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cmd/cmd.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/util.h"
#include "script/script.h"

#define SHELL_NAMES_MAX_AGE_MS 5000

struct shell {
	struct session *s;
	struct script *sc;
	FILE *out, *errf;
	int tty;
	int lua_mode;
	char *pending;		/* incomplete Lua chunk */
	char *line;		/* a completed line from readline */
	int have_line;
	int eof;
	int quit;
	int exit_code;
	int last_rc;
	char *histfile;
	int stdin_watch;
	char **names;		/* completion cache of instance names */
	size_t nnames;
	int64_t names_ms;
};

static struct shell *shell_cur;	/* readline's callbacks take no argument */

static const char *const shell_builtins[] = { "set", "exit", "quit", "lua", ".lua", NULL };

static const char *
shell_prompt(const struct shell *sh)
{
	if (sh->pending != NULL)
		return ">> ";
	return sh->lua_mode ? "lua> " : "berth> ";
}

/* ---- completion ---- */

static char **cand;
static size_t ncand, cand_cap;

static void
cand_reset(void)
{
	size_t i;

	for (i = 0; i < ncand; i++)
		free(cand[i]);
	ncand = 0;
}

static void
cand_add(const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	if (ncand == cand_cap) {
		cand_cap = cand_cap ? cand_cap * 2 : 64;
		cand = xrealloc(cand, cand_cap * sizeof *cand);
	}
	cand[ncand++] = xstrdup(s);
}

static void
shell_cand_add(const char *s, void *arg)
{
	(void)arg;
	cand_add(s);
}

static char *
cand_generator(const char *text, int state)
{
	static size_t i;
	size_t len = strlen(text);

	if (state == 0)
		i = 0;
	while (i < ncand) {
		const char *c = cand[i++];

		if (strncmp(c, text, len) == 0)
			return xstrdup(c);
	}
	return NULL;
}

static void
shell_refresh_names(struct shell *sh)
{
	struct inst_list l = { 0 };
	size_t i;

	if (sh->names != NULL && now_ms() - sh->names_ms < SHELL_NAMES_MAX_AGE_MS)
		return;
	for (i = 0; i < sh->nnames; i++)
		free(sh->names[i]);
	free(sh->names);
	session_list(sh->s, &l);
	sh->names = xcalloc(l.n + 1, sizeof *sh->names);
	for (i = 0; i < l.n; i++)
		sh->names[i] = xstrdup(l.v[i]->name);
	sh->nnames = l.n;
	inst_list_clear(&l);
	sh->names_ms = now_ms();
}

static void
cand_commands(void)
{
	size_t i, n;
	int a;

	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e == NULL)
			continue;
		cand_add(e->name);
		for (a = 0; a < 4 && e->aliases[a] != NULL; a++)
			cand_add(e->aliases[a]);
	}
	n = script_command_count();
	for (i = 0; i < n; i++) {
		const char *name = script_command_name(i);

		if (name != NULL && name[0] != '_')
			cand_add(name);
	}
	for (i = 0; shell_builtins[i] != NULL; i++)
		cand_add(shell_builtins[i]);
}

/* The option of command `e' that `word' ("--kind", "--kind=", "-k") names,
 * if it takes a value; NULL otherwise. */
static const struct cmd_opt *
opt_with_value(const struct cmd_entry *e, const char *word)
{
	const struct cmd_opt *tables[2] = { e != NULL ? e->opts : NULL, cmd_global_opts };
	size_t len;
	int t, i;

	if (word == NULL || word[0] != '-')
		return NULL;
	len = strcspn(word, "=");
	if (word[len] == '=' && word[len + 1] != '\0')
		return NULL;	/* "--kind=vm x": the value is there */
	for (t = 0; t < 2; t++) {
		for (i = 0; tables[t] != NULL && i < CMD_MAX_OPTS && tables[t][i].name != NULL; i++) {
			const struct cmd_opt *o = &tables[t][i];

			if (!o->has_arg)
				continue;
			if ((word[1] == '-' && len - 2 == strlen(o->name) &&
			     strncmp(word + 2, o->name, len - 2) == 0) ||
			    (word[1] == o->short_name && word[1] != '\0' && word[2] == '\0'))
				return o;
		}
	}
	return NULL;
}

/* Candidates for the value of option `o': the choices of an arg_name like
 * "vm|ct", the states for --state, the registered backends for --backend,
 * the connected hosts and URIs for --host. */
static void
cand_opt_values(struct shell *sh, const struct cmd_opt *o)
{
	size_t i;

	if (o->arg_name != NULL && strchr(o->arg_name, '|') != NULL) {
		char *copy = xstrdup(o->arg_name), *save = NULL, *tok;

		for (tok = strtok_r(copy, "|", &save); tok != NULL; tok = strtok_r(NULL, "|", &save))
			cand_add(tok);
		free(copy);
	} else if (strcmp(o->name, "state") == 0) {
		for (i = INST_UNKNOWN + 1; i < INST_STATE_MAX; i++)
			cand_add(inst_state_name((enum inst_state)i));
	} else if (strcmp(o->name, "backend") == 0) {
		for (i = 0; i < backend_count(); i++)
			cand_add(backend_at(i)->name);
	} else if (strcmp(o->name, "host") == 0) {
		for (i = 0; i < sh->s->nconns; i++) {
			cand_add(conn_host(sh->s->conns[i]));
			cand_add(sh->s->conns[i]->uri);
		}
	}
}

static char **
shell_complete(const char *text, int start, int end)
{
	struct shell *sh = shell_cur;
	char *before = xstrndup(rl_line_buffer, (size_t)start);
	char *words[4] = { 0 }, *save = NULL, *tok;
	int nwords = 0;
	char **matches;

	(void)end;
	rl_attempted_completion_over = 1;
	cand_reset();
	for (tok = strtok_r(before, " \t", &save); tok != NULL && nwords < 4;
	     tok = strtok_r(NULL, " \t", &save))
		words[nwords++] = tok;
	if (sh->lua_mode || sh->pending != NULL || rl_line_buffer[0] == '=' ||
	    (nwords > 0 && strcmp(words[0], "lua") == 0)) {
		/* Lua: what the state holds (globals, module fields, methods). */
		script_complete(sh->sc, text, shell_cand_add, NULL);
	} else if (nwords == 0) {
		cand_commands();
	} else if (strcmp(words[0], "set") == 0 && nwords <= 2) {
		cmd_set_complete(nwords, nwords > 1 ? words[1] : NULL, shell_cand_add, NULL);
	} else if (strcmp(words[0], "help") == 0 && nwords == 1) {
		cand_commands();
	} else if (nwords >= 2 && opt_with_value(cmd_find(words[0]), words[nwords - 1]) != NULL) {
		cand_opt_values(sh, opt_with_value(cmd_find(words[0]), words[nwords - 1]));
	} else if (text[0] == '-') {
		const struct cmd_entry *e = cmd_find(words[0]);
		int i;

		for (i = 0; e != NULL && i < CMD_MAX_OPTS && e->opts[i].name != NULL; i++) {
			char *o = xasprintf("--%s", e->opts[i].name);

			cand_add(o);
			free(o);
		}
		cand_add("--connect");
		cand_add("--help");
	} else {
		const struct cmd_entry *e = cmd_find(words[0]);

		if (e != NULL && e->args_usage != NULL &&
		    (strncmp(e->args_usage, "FILE", 4) == 0 || strncmp(e->args_usage, "SCRIPT", 6) == 0)) {
			/* a file argument: readline's file name completion */
			free(before);
			rl_attempted_completion_over = 0;
			return NULL;
		}
		if (e == NULL || e->target != CMD_TARGET_NONE || strcmp(e->name, "list") == 0 ||
		    script_command_exists(words[0])) {
			size_t i;

			shell_refresh_names(sh);
			for (i = 0; i < sh->nnames; i++)
				cand_add(sh->names[i]);
		}
	}
	free(before);
	matches = ncand > 0 ? rl_completion_matches(text, cand_generator) : NULL;
	return matches;
}

/* ---- running lines ---- */

static void
shell_history_add(struct shell *sh, const char *line)
{
	HIST_ENTRY *last;

	if (!sh->tty || *line == '\0' || *line == ' ')
		return;
	last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
	if (last != NULL && strcmp(last->line, line) == 0)
		return;
	add_history(line);
	if (sh->histfile != NULL) {
		long max = option_int("history_size");

		if (append_history(1, sh->histfile) != 0)
			write_history(sh->histfile);
		history_truncate_file(sh->histfile, (int)max);
	}
}

static void
shell_run_lua(struct shell *sh, const char *code)
{
	enum script_status st;
	char *chunk;
	int rc = 0;

	if (sh->pending != NULL) {
		chunk = xasprintf("%s\n%s", sh->pending, code);
		free(sh->pending);
		sh->pending = NULL;
	} else {
		chunk = xstrdup(code);
	}
	st = script_run_string(sh->sc, chunk, "=stdin", 1, &rc, sh->out, sh->errf);
	if (st == SCRIPT_INCOMPLETE) {
		sh->pending = chunk;
		return;
	}
	free(chunk);
	sh->last_rc = st == SCRIPT_OK ? 0 : rc;
	if (st == SCRIPT_INTERRUPTED)
		fputs("(interrupted)\n", sh->errf);
}

static void
shell_help_plugins(struct shell *sh)
{
	size_t i, n = script_command_count(), shown = 0;

	for (i = 0; i < n; i++) {
		const char *name = script_command_name(i);
		const char *summary = script_command_summary(i);

		if (name == NULL || name[0] == '_')
			continue;
		if (shown++ == 0)
			fputs("\nplugin commands:\n", sh->out);
		fprintf(sh->out, "  %-10s %s\n", name, summary ? summary : "");
	}
}

static void
shell_run_line(struct shell *sh, char *line)
{
	struct berr err = { 0 };
	char *p = line, **argv = NULL;
	int argc = 0;

	script_clear_interrupt();
	if (sh->pending != NULL) {
		shell_run_lua(sh, line);
		return;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return;
	if (strcmp(p, ".lua") == 0) {
		sh->lua_mode = !sh->lua_mode;
		fprintf(sh->out, sh->lua_mode ? "Lua mode: lines are Lua; .lua leaves it\n"
					     : "command mode\n");
		return;
	}
	if (sh->lua_mode) {
		shell_run_lua(sh, p);
		return;
	}
	if (*p == '=') {
		shell_run_lua(sh, p + 1);
		return;
	}
	if (strncmp(p, "lua ", 4) == 0 || strncmp(p, "lua\t", 4) == 0) {
		shell_run_lua(sh, p + 4);
		return;
	}
	if (cmd_split(p, &argc, &argv, &err) < 0) {
		fprintf(sh->errf, "berth: %s\n", err.msg);
		sh->last_rc = CMD_EXIT_USAGE;
		return;
	}
	if (argc == 0) {
		cmd_free_argv(argc, argv);
		return;
	}
	if (strcmp(argv[0], "exit") == 0 || strcmp(argv[0], "quit") == 0) {
		sh->quit = 1;
		sh->exit_code = argc > 1 ? atoi(argv[1]) & 0xff : sh->last_rc;
	} else if (strcmp(argv[0], "set") == 0) {
		sh->last_rc = cmd_set(argc, argv, sh->out, sh->errf);
	} else if (cmd_find(argv[0]) == NULL && script_command_exists(argv[0])) {
		fflush(sh->out);
		sh->last_rc = script_command_run(&sh->s, argc, argv, sh->out, sh->errf);
	} else if (strcmp(argv[0], "shell") == 0) {
		fputs("berth: already in the shell\n", sh->errf);
		sh->last_rc = CMD_EXIT_USAGE;
	} else {
		if (strcmp(argv[0], "help") == 0 && argc == 1)
			fputs("In the shell: =EXPR and `lua CODE' run Lua, .lua toggles Lua mode,\n"
			      "`set [NAME [VALUE]]' shows or changes options, `exit' leaves.\n\n",
			      sh->out);
		fflush(sh->out);
		sh->last_rc = cmd_run(&sh->s, argc, argv, sh->out, sh->errf, 1);
		if (strcmp(argv[0], "help") == 0 && argc == 1)
			shell_help_plugins(sh);
		if (sh->s != NULL && sh->s->nfailures > 0)
			session_clear_failures(sh->s);
	}
	fflush(sh->out);
	cmd_free_argv(argc, argv);
	if (script_interrupt_pending())
		fputs("(interrupted)\n", sh->errf);
}

/* ---- readline in callback mode, driven by the event loop ---- */

static void
shell_on_line(char *line)
{
	struct shell *sh = shell_cur;

	if (line == NULL) {
		sh->eof = 1;
		return;
	}
	free(sh->line);
	sh->line = line;
	sh->have_line = 1;
	/* Stop reading until the line has run: a command may want stdin. */
	rl_callback_handler_remove();
}

static void
shell_on_stdin(struct loop *l, int id, int fd, int revents, void *arg)
{
	(void)l;
	(void)id;
	(void)fd;
	(void)revents;
	(void)arg;
	if (!shell_cur->have_line)
		rl_callback_read_char();
}

static void
shell_cancel_line(struct shell *sh)
{
	free(sh->pending);
	sh->pending = NULL;
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_replace_line("", 0);
	fputs("^C\n", stdout);
	rl_callback_handler_remove();
	rl_callback_handler_install(shell_prompt(sh), shell_on_line);
	script_clear_interrupt();
}

/* Event handlers may print while the prompt waits: take the line off the
 * screen first and put it back after. */
static char *guard_line;
static int guard_point;

static void
shell_guard_before(void)
{
	if (guard_line != NULL)
		return;
	guard_point = rl_point;
	guard_line = rl_copy_text(0, rl_end);
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
}

static void
shell_guard_after(void)
{
	if (guard_line == NULL)
		return;
	rl_restore_prompt();
	rl_replace_line(guard_line, 0);
	rl_point = guard_point;
	rl_forced_update_display();
	free(guard_line);
	guard_line = NULL;
}

static char *
shell_history_path(struct shell *sh)
{
	const char *opt = option_string("history_file");
	struct berr err = { 0 };

	if (opt != NULL && *opt != '\0')
		return xstrdup(opt);
	if (sh->s == NULL || sh->s->dirs.data == NULL)
		return NULL;
	if (mkdir_p(sh->s->dirs.data, 0700, &err) < 0)
		return NULL;
	return xasprintf("%s/shell_history", sh->s->dirs.data);
}

static int
shell_interactive(struct shell *sh)
{
	rl_readline_name = "berth";
	rl_attempted_completion_function = shell_complete;
	rl_basic_word_break_characters = " \t\n\"'=(,";
	rl_catch_signals = 0;
	using_history();
	stifle_history((int)option_int("history_size"));
	sh->histfile = shell_history_path(sh);
	if (sh->histfile != NULL)
		read_history(sh->histfile);
	sh->stdin_watch = loop_add_fd(sh->s->loop, 0, POLLIN, shell_on_stdin, sh, NULL);
	rl_callback_handler_install(shell_prompt(sh), shell_on_line);
	while (!sh->quit && !sh->eof) {
		script_set_output_guard(shell_guard_before, shell_guard_after);
		loop_run_once(sh->s->loop, -1);
		script_set_output_guard(NULL, NULL);
		if (script_interrupt_pending() && !sh->have_line) {
			shell_cancel_line(sh);
			continue;
		}
		if (!sh->have_line)
			continue;
		sh->have_line = 0;
		loop_update_fd(sh->s->loop, sh->stdin_watch, 0);
		if (sh->pending == NULL || *sh->line != '\0')
			shell_history_add(sh, sh->line);
		shell_run_line(sh, sh->line);
		free(sh->line);
		sh->line = NULL;
		script_clear_interrupt();
		if (sh->quit)
			break;
		loop_update_fd(sh->s->loop, sh->stdin_watch, POLLIN);
		rl_callback_handler_install(shell_prompt(sh), shell_on_line);
	}
	rl_callback_handler_remove();
	loop_remove_fd(sh->s->loop, sh->stdin_watch);
	if (sh->eof)
		fputc('\n', stdout);
	return sh->quit ? sh->exit_code : sh->last_rc;
}

/* Not a terminal: read lines as they come, no prompt, no history. */
static int
shell_batch(struct shell *sh)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while (!sh->quit && (n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		shell_run_line(sh, line);
		script_clear_interrupt();
	}
	free(line);
	if (sh->pending != NULL) {
		fputs("berth: unfinished Lua chunk at end of input\n", sh->errf);
		return 1;
	}
	return sh->quit ? sh->exit_code : sh->last_rc;
}

static int
cmd_shell_exec(struct cmd_ctx *ctx)
{
	struct shell sh;
	size_t i;
	int rc;

	memset(&sh, 0, sizeof sh);
	sh.s = ctx->s;
	sh.out = ctx->out;
	sh.errf = ctx->errf;
	sh.tty = isatty(0) && isatty(1);
	sh.sc = script_global(ctx->s, &ctx->err);
	if (sh.sc == NULL)
		return CMD_EXIT_FAIL;
	shell_cur = &sh;
	session_clear_failures(ctx->s);
	script_catch_sigint(1, ctx->s->loop);
	rc = sh.tty ? shell_interactive(&sh) : shell_batch(&sh);
	script_catch_sigint(0, NULL);
	shell_cur = NULL;
	free(sh.pending);
	free(sh.line);
	free(sh.histfile);
	for (i = 0; i < sh.nnames; i++)
		free(sh.names[i]);
	free(sh.names);
	cand_reset();
	if (ctx->s != NULL)
		session_clear_failures(ctx->s);
	return rc;
}

const struct cmd_entry cmd_shell_entry = {
	.name = "shell",
	.aliases = { "sh", NULL },
	.args_usage = "",
	.summary = "interactive shell: commands, Lua (=EXPR, lua CODE, .lua), completion, history",
	.target = CMD_TARGET_NONE,
	.min_args = 0,
	.max_args = 0,
	.opts = { { NULL } },
	.needs_session = 1,
	.exec = cmd_shell_exec,
};
