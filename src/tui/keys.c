/*
 * keys.c - the dashboard's key table and the actions it names.
 *
 * One table (key, views, action, help, handler) drives both dispatch and the
 * `?` help page; user bindings from init.lua (tui_bind_key) map a key to a
 * command line of the command table and are looked up first.
 * Not for: keys inside modal input (line editors, dialogs: dialog.c,
 * cmdline.c) or the console pane (console.c forwards keys to the guest).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "tui/tui-internal.h"
#include "tui/tui.h"

/* ---- key names ---- */

static const struct {
	const char *name;
	int is_key;
	wint_t code;
} named_keys[] = {
	{ "Up", 1, KEY_UP }, { "Down", 1, KEY_DOWN }, { "Left", 1, KEY_LEFT },
	{ "Right", 1, KEY_RIGHT }, { "Home", 1, KEY_HOME }, { "End", 1, KEY_END },
	{ "PgUp", 1, KEY_PPAGE }, { "PgDn", 1, KEY_NPAGE }, { "Ins", 1, KEY_IC },
	{ "Del", 1, KEY_DC }, { "BTab", 1, KEY_BTAB }, { "Backspace", 1, KEY_BACKSPACE },
	{ "Enter", 0, '\r' }, { "Enter", 1, KEY_ENTER }, { "Tab", 0, '\t' },
	{ "Esc", 0, 27 }, { "Space", 0, ' ' }, { "Backspace", 0, 127 },
};

int
tui_key_parse(const char *name, struct tui_keypress *out)
{
	size_t i;
	wchar_t wc;
	int n;

	memset(out, 0, sizeof *out);
	if (name == NULL || *name == '\0')
		return -1;
	if ((name[0] == 'M' || name[0] == 'm') && name[1] == '-' && name[2] &&
	    !((name[2] == 'M' || name[2] == 'm') && name[3] == '-')) {
		if (tui_key_parse(name + 2, out) < 0 || (!out->is_key && out->code == 27))
			return -1;
		out->meta = 1;
		return 0;
	}
	for (i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
		if (strcasecmp(name, named_keys[i].name) == 0) {
			out->is_key = named_keys[i].is_key;
			out->code = named_keys[i].code;
			return 0;
		}
	if ((name[0] == 'F' || name[0] == 'f') && name[1] >= '0' && name[1] <= '9') {
		int f = atoi(name + 1);

		if (f < 1 || f > 24)
			return -1;
		out->is_key = 1;
		out->code = KEY_F(f);
		return 0;
	}
	if ((name[0] == 'C' || name[0] == 'c') && name[1] == '-' && name[2] && !name[3]) {
		char c = name[2];

		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (c >= 'a' && c <= 'z') {
			out->code = (wint_t)(c - 'a' + 1);
			return 0;
		}
		if (c == ']') {
			out->code = 29;
			return 0;
		}
		return -1;
	}
	n = mbtowc(&wc, name, strlen(name));
	if (n <= 0 || name[n] != '\0' || wc < 0x20)
		return -1;
	out->code = (wint_t)wc;
	return 0;
}

const char *
tui_key_name(const struct tui_keypress *k, char *buf, size_t len)
{
	size_t i;

	if (k->meta && len > 2) {
		struct tui_keypress plain = *k;

		plain.meta = 0;
		buf[0] = 'M';
		buf[1] = '-';
		tui_key_name(&plain, buf + 2, len - 2);
		return buf;
	}

	for (i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
		if (named_keys[i].is_key == k->is_key && named_keys[i].code == k->code) {
			snprintf(buf, len, "%s", named_keys[i].name);
			return buf;
		}
	if (k->is_key) {
		if (k->code >= KEY_F(1) && k->code <= KEY_F(24))
			snprintf(buf, len, "F%d", (int)(k->code - KEY_F0));
		else
			snprintf(buf, len, "key-%o", (unsigned)k->code);
		return buf;
	}
	if (k->code < 0x20) {
		snprintf(buf, len, "C-%c", (int)k->code + 'a' - 1);
		return buf;
	}
	{
		char mb[MB_LEN_MAX + 1];
		int n = wctomb(mb, (wchar_t)k->code);

		if (n <= 0)
			snprintf(buf, len, "U+%04X", (unsigned)k->code);
		else {
			mb[n] = '\0';
			snprintf(buf, len, "%s", mb);
		}
	}
	return buf;
}

/* ---- user bindings ---- */

struct binding {
	struct tui_keypress k;
	char *name;
	char *command;
};
static struct binding *bindings;
static size_t nbindings;

int
tui_bind_key(const char *key, const char *command_line, struct berr *err)
{
	struct tui_keypress k;
	size_t i;

	if (tui_key_parse(key, &k) < 0)
		return berr_set(err, BERR_INVALID,
				"binding key `%s': unknown key name (use x, C-x, M-x, F1..F24, Enter, Tab, Up...)",
				key ? key : "");
	for (i = 0; i < nbindings; i++)
		if (bindings[i].k.is_key == k.is_key && bindings[i].k.code == k.code &&
		    bindings[i].k.meta == k.meta)
			break;
	if (command_line == NULL || *command_line == '\0') {
		if (i < nbindings) {
			free(bindings[i].name);
			free(bindings[i].command);
			bindings[i] = bindings[--nbindings];
		}
		return 0;
	}
	if (i == nbindings) {
		bindings = xrealloc(bindings, (nbindings + 1) * sizeof *bindings);
		bindings[nbindings].k = k;
		bindings[nbindings].name = xstrdup(key);
		bindings[nbindings].command = NULL;
		nbindings++;
	}
	free(bindings[i].command);
	bindings[i].command = xstrdup(command_line);
	return 0;
}

void
keys_free_bindings(void)
{
	size_t i;

	for (i = 0; i < nbindings; i++) {
		free(bindings[i].name);
		free(bindings[i].command);
	}
	free(bindings);
	bindings = NULL;
	nbindings = 0;
}

/* A binding's command line may name the current instance as `%`. */
static void
run_binding(struct tui *ui, const char *command)
{
	struct instance *inst = ui->view == VIEW_DETAIL ? detail_inst(ui) : dash_cursor_inst(ui);
	char *line = xstrdup(""), *tmp;
	const char *p;

	for (p = command; *p; p++) {
		if (*p == '%' && inst != NULL) {
			char *q = cmdline_quote(inst->name);

			tmp = xasprintf("%s%s", line, q);
			free(q);
		} else {
			tmp = xasprintf("%s%c", line, *p);
		}
		free(line);
		line = tmp;
	}
	/* a key bound to a Lua function (a hidden `_keyN' plugin command):
	 * the function gets the current instance's name as its argument */
	if (strncmp(command, "_key", 4) == 0 && strchr(command, ' ') == NULL && inst != NULL) {
		char *q = cmdline_quote(inst->name);

		tmp = xasprintf("%s %s", line, q);
		free(q);
		free(line);
		line = tmp;
	}
	tui_run_command(ui, line);
	free(line);
}

/* ---- actions ---- */

static struct instance *
current_inst(struct tui *ui)
{
	return ui->view == VIEW_DETAIL ? detail_inst(ui) : dash_cursor_inst(ui);
}

static void a_quit(struct tui *ui) { ui->quit = 1; }
static void a_down(struct tui *ui) { dash_move(ui, 1); }
static void a_up(struct tui *ui) { dash_move(ui, -1); }
static void a_top(struct tui *ui) { dash_move(ui, -(long)ui->norder); }
static void a_bottom(struct tui *ui) { dash_move(ui, (long)ui->norder); }
static void a_pgdn(struct tui *ui) { dash_move(ui, ui->table_h > 1 ? ui->table_h - 1 : 1); }
static void a_pgup(struct tui *ui) { dash_move(ui, -(ui->table_h > 1 ? ui->table_h - 1 : 1)); }

static void
a_detail(struct tui *ui)
{
	if (dash_cursor_inst(ui) == NULL) {
		tui_status(ui, 1, "no instance here");
		return;
	}
	free(ui->detail_key);
	ui->detail_key = xstrdup(ui->cursor_key);
	tui_set_view(ui, VIEW_DETAIL);
}

static void
a_back(struct tui *ui)
{
	if (ui->view == VIEW_DETAIL)
		tui_set_view(ui, VIEW_DASH);
	else if (ui->nsel) {
		dash_clear_selection(ui);
		tui_status(ui, 0, "selection cleared");
	}
}

static void
a_sort_next(struct tui *ui)
{
	ui->sort_col = (ui->sort_col + 1) % COL_MAX;
	ui->sort_desc = ui->sort_col >= COL_VCPUS;	/* numbers: biggest first */
	dash_rebuild(ui);
	tui_status(ui, 0, "sorted by %s", col_title(ui->sort_col));
}

static void
a_sort_prev(struct tui *ui)
{
	ui->sort_col = (ui->sort_col + COL_MAX - 1) % COL_MAX;
	ui->sort_desc = ui->sort_col >= COL_VCPUS;
	dash_rebuild(ui);
	tui_status(ui, 0, "sorted by %s", col_title(ui->sort_col));
}

static void
a_sort_reverse(struct tui *ui)
{
	ui->sort_desc = !ui->sort_desc;
	dash_rebuild(ui);
}

static void
a_filter(struct tui *ui)
{
	edit_set(&ui->line, ui->filter.buf);
	ui->modal = MODAL_FILTER;
	tui_set_view(ui, VIEW_DASH);
}

static void
a_cmdline(struct tui *ui)
{
	edit_set(&ui->line, "");
	free(ui->complete_hint);
	ui->complete_hint = NULL;
	ui->hist_pos = ui->nhist;
	ui->modal = MODAL_CMDLINE;
}

static void
a_group(struct tui *ui)
{
	ui->group_by_host = !ui->group_by_host;
	dash_rebuild(ui);
}

static void
a_select(struct tui *ui)
{
	if (dash_cursor_inst(ui) == NULL)
		return;
	dash_toggle_select(ui, ui->cursor_key);
	dash_move(ui, 1);
}

static void
a_select_all(struct tui *ui)
{
	size_t i, before = ui->nsel;

	for (i = 0; i < ui->norder; i++)
		if (!dash_is_selected(ui, ui->keys[ui->order[i]]))
			dash_toggle_select(ui, ui->keys[ui->order[i]]);
	if (before == ui->nsel)
		dash_clear_selection(ui);
}

static void
a_help(struct tui *ui)
{
	char *text = keys_help_text();

	tui_pager(ui, "Help", text);
	free(text);
}

static void
a_failures(struct tui *ui)
{
	char *text = xstrdup(""), *tmp;
	size_t i;

	for (i = 0; i < ui->nconn_failures; i++) {
		tmp = xasprintf("%sat start: %s\n", text, ui->conn_failures[i]);
		free(text);
		text = tmp;
	}
	for (i = 0; i < ui->ntick_failures; i++) {
		tmp = xasprintf("%s%s\n", text, ui->tick_failures[i]);
		free(text);
		text = tmp;
	}
	for (i = 0; i < ui->nhosts; i++)
		if (ui->hosts[i].error) {
			tmp = xasprintf("%shost %s: %s\n", text, ui->hosts[i].label, ui->hosts[i].error);
			free(text);
			text = tmp;
		}
	tui_pager(ui, "Failures", *text ? text : "No failures.\n");
	free(text);
}

static void
a_console(struct tui *ui)
{
	struct instance *inst = current_inst(ui);
	struct berr err = { 0 };

	if (inst == NULL) {
		tui_status(ui, 1, "no instance here");
		return;
	}
	tui_busy(ui, 1);
	if (console_open(ui, inst, 0, &err) < 0)
		tui_show_error(ui, "console", &err);
	tui_busy(ui, 0);
}

static void
a_console_full(struct tui *ui)
{
	struct instance *inst = current_inst(ui);
	struct berr err = { 0 };

	if (inst == NULL) {
		tui_status(ui, 1, "no instance here");
		return;
	}
	tui_busy(ui, 1);
	if (console_open(ui, inst, 1, &err) < 0)
		tui_show_error(ui, "console", &err);
	tui_busy(ui, 0);
}

static void
a_refresh(struct tui *ui)
{
	tui_refresh(ui);
	tui_status(ui, 0, "refreshed in %.0f ms", ui->refresh_cost_ms);
}

static void a_create(struct tui *ui) { form_open_create(ui); }
static void a_start(struct tui *ui) { action_lifecycle(ui, OP_START); }
static void a_shutdown(struct tui *ui) { action_lifecycle(ui, OP_SHUTDOWN); }
static void a_pause(struct tui *ui) { action_lifecycle(ui, OP_PAUSE); }
static void a_resume(struct tui *ui) { action_lifecycle(ui, OP_RESUME); }
static void a_destroy(struct tui *ui) { action_lifecycle(ui, OP_DESTROY); }
static void a_undefine(struct tui *ui) { action_lifecycle(ui, OP_UNDEFINE); }
static void a_span1(struct tui *ui) { ui->detail_span = 60; }
static void a_span10(struct tui *ui) { ui->detail_span = 600; }
static void a_span24(struct tui *ui) { ui->detail_span = 86400; }

static void
a_span_next(struct tui *ui)
{
	ui->detail_span = ui->detail_span == 60 ? 600 : ui->detail_span == 600 ? 86400 : 60;
}

static void
a_detail_next(struct tui *ui)
{
	dash_move(ui, 1);
	free(ui->detail_key);
	ui->detail_key = ui->cursor_key ? xstrdup(ui->cursor_key) : NULL;
}

static void
a_detail_prev(struct tui *ui)
{
	dash_move(ui, -1);
	free(ui->detail_key);
	ui->detail_key = ui->cursor_key ? xstrdup(ui->cursor_key) : NULL;
}

const struct tui_key tui_key_table[] = {
	{ "q", VIEW_LIST, "quit", "quit the dashboard (instances keep running; also C-c)", a_quit },
	{ "C-c", VIEW_LIST, "quit", "quit the dashboard", a_quit },
	{ "?", VIEW_LIST | VIEW_PAGER, "help", "this help, generated from the key table", a_help },
	{ "F1", VIEW_LIST, "help", "this help", a_help },
	{ "j", VIEW_DASH, "down", "next instance (also Down)", a_down },
	{ "Down", VIEW_DASH, "down", "next instance", a_down },
	{ "k", VIEW_DASH, "up", "previous instance (also Up)", a_up },
	{ "Up", VIEW_DASH, "up", "previous instance", a_up },
	{ "g", VIEW_DASH, "top", "first instance (also Home)", a_top },
	{ "Home", VIEW_DASH, "top", "first instance", a_top },
	{ "G", VIEW_DASH, "bottom", "last instance (also End)", a_bottom },
	{ "End", VIEW_DASH, "bottom", "last instance", a_bottom },
	{ "PgDn", VIEW_DASH, "page-down", "one screen down (also C-f)", a_pgdn },
	{ "C-f", VIEW_DASH, "page-down", "one screen down", a_pgdn },
	{ "PgUp", VIEW_DASH, "page-up", "one screen up (also C-b)", a_pgup },
	{ "C-b", VIEW_DASH, "page-up", "one screen up", a_pgup },
	{ "Enter", VIEW_DASH, "detail", "details and graphs of the instance (also l, Right)", a_detail },
	{ "l", VIEW_DASH, "detail", "details and graphs", a_detail },
	{ "Right", VIEW_DASH, "detail", "details and graphs", a_detail },
	{ "h", VIEW_LIST, "back", "back; in the table: clear the selection (Left, Esc)", a_back },
	{ "Left", VIEW_LIST, "back", "back", a_back },
	{ "Esc", VIEW_LIST, "back", "back", a_back },
	{ "j", VIEW_DETAIL, "next", "next instance's details (also Down)", a_detail_next },
	{ "Down", VIEW_DETAIL, "next", "next instance's details", a_detail_next },
	{ "k", VIEW_DETAIL, "previous", "previous instance's details (also Up)", a_detail_prev },
	{ "Up", VIEW_DETAIL, "previous", "previous instance's details", a_detail_prev },
	{ "1", VIEW_DETAIL, "span-1m", "graphs over the last minute", a_span1 },
	{ "2", VIEW_DETAIL, "span-10m", "graphs over the last 10 minutes", a_span10 },
	{ "3", VIEW_DETAIL, "span-24h", "graphs over the last 24 hours", a_span24 },
	{ "Tab", VIEW_DETAIL, "span-next", "next graph span (1 min, 10 min, 24 h)", a_span_next },
	{ "/", VIEW_LIST, "filter", "filter as you type: name, host, state; *?[ globs", a_filter },
	{ ":", VIEW_LIST | VIEW_PAGER, "command", "run a berth command (Tab completes)", a_cmdline },
	{ ">", VIEW_DASH, "sort-next", "sort by the next column (also s)", a_sort_next },
	{ "s", VIEW_DASH, "sort-next", "sort by the next column", a_sort_next },
	{ "<", VIEW_DASH, "sort-previous", "sort by the previous column", a_sort_prev },
	{ "r", VIEW_DASH, "sort-reverse", "reverse the sort order", a_sort_reverse },
	{ "H", VIEW_DASH, "group-by-host", "group the table by host (toggle)", a_group },
	{ "Space", VIEW_DASH, "select", "select/unselect the instance for a batch action", a_select },
	{ "*", VIEW_DASH, "select-all", "select every shown instance (again: none)", a_select_all },
	{ "u", VIEW_LIST, "start", "start the selected instances (or this one)", a_start },
	{ "d", VIEW_LIST, "shutdown", "shut down gracefully (asks first)", a_shutdown },
	{ "p", VIEW_LIST, "pause", "pause", a_pause },
	{ "R", VIEW_LIST, "resume", "resume", a_resume },
	{ "D", VIEW_LIST, "destroy", "force off (asks first)", a_destroy },
	{ "Del", VIEW_LIST, "undefine", "forget a stopped instance (asks first)", a_undefine },
	{ "c", VIEW_LIST, "console", "console in a pane (C-] leaves)", a_console },
	{ "C", VIEW_LIST, "attach", "console on the whole terminal, raw (C-] leaves)", a_console_full },
	{ "n", VIEW_LIST, "create", "create a VM or container", a_create },
	{ "!", VIEW_LIST, "failures", "every backend/host failure in full", a_failures },
	{ "C-r", VIEW_LIST, "refresh", "refresh now", a_refresh },
	{ "C-l", VIEW_LIST, "redraw", "redraw the screen", NULL },
};
const size_t tui_key_table_len = sizeof tui_key_table / sizeof tui_key_table[0];

/* Parsed once: the table is keyed by names, dispatch compares keypresses. */
static struct tui_keypress *parsed;

static void
parse_table(void)
{
	size_t i;

	if (parsed)
		return;
	parsed = xcalloc(tui_key_table_len, sizeof *parsed);
	for (i = 0; i < tui_key_table_len; i++)
		if (tui_key_parse(tui_key_table[i].key, &parsed[i]) < 0)
			parsed[i].code = (wint_t)-1;
}

static int
same_key(const struct tui_keypress *a, const struct tui_keypress *b)
{
	if (a->meta != b->meta)
		return 0;
	if (a->code == b->code && a->is_key == b->is_key)
		return 1;
	/* Enter arrives as \r, \n or KEY_ENTER depending on the terminal */
	if (!a->is_key && a->code == '\r')
		return (!b->is_key && b->code == '\n') || (b->is_key && b->code == KEY_ENTER);
	if (!a->is_key && a->code == 127)
		return b->is_key && b->code == KEY_BACKSPACE;
	return 0;
}

int
keys_dispatch(struct tui *ui, const struct tui_keypress *k)
{
	size_t i;

	for (i = 0; i < nbindings; i++)
		if (same_key(&bindings[i].k, k)) {
			run_binding(ui, bindings[i].command);
			return 1;
		}
	parse_table();
	for (i = 0; i < tui_key_table_len; i++)
		if ((tui_key_table[i].views & ui->view) && same_key(&parsed[i], k)) {
			if (tui_key_table[i].fn)
				tui_key_table[i].fn(ui);
			ui->dirty = 1;
			return 1;
		}
	return 0;
}

char *
keys_help_text(void)
{
	static const struct {
		unsigned view;
		const char *title;
	} sections[] = {
		{ VIEW_DASH, "Instance table" },
		{ VIEW_DETAIL, "Detail view" },
	};
	char *text = NULL;
	size_t len = 0, s, i;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		util_oom();
	fprintf(f, "berth dashboard keys (q or Esc returns)\n");
	for (s = 0; s < sizeof sections / sizeof sections[0]; s++) {
		fprintf(f, "\n%s\n", sections[s].title);
		for (i = 0; i < tui_key_table_len; i++) {
			const struct tui_key *t = &tui_key_table[i];
			size_t j;
			int dup = 0;

			if (!(t->views & sections[s].view))
				continue;
			/* one line per action: aliases are named in its help text */
			for (j = 0; j < i; j++)
				if ((tui_key_table[j].views & sections[s].view) &&
				    strcmp(tui_key_table[j].action, t->action) == 0)
					dup = 1;
			if (!dup)
				fprintf(f, "  %-8s%-14s %s\n", t->key, t->action, t->help);
		}
	}
	fprintf(f, "\nConsole pane\n");
	fprintf(f, "  %-8s%s\n", "C-]", "detach (the console_escape option changes it)");
	fprintf(f, "  %-8s%s\n", "S-PgUp", "scroll back (S-PgDn forward; other keys return to live)");
	fprintf(f, "  %-8s%s\n", "F2", "switch to a full-screen raw attach");
	fprintf(f, "\nLine editing (/, :, dialogs)\n");
	fprintf(f, "  %-8s%s\n", "Tab", "complete command, option or instance (:); next field (dialogs)");
	fprintf(f, "  %-8s%s\n", "Up/Down", "earlier commands (:); move (/, dialogs)");
	fprintf(f, "  %-8s%s\n", "Enter", "accept");
	fprintf(f, "  %-8s%s\n", "Esc", "cancel (in /: clear the filter)");
	fprintf(f, "  %-8s%s\n", "C-u", "clear before the cursor; C-w: the word before it");
	if (nbindings) {
		fprintf(f, "\nYour bindings (init.lua; %% is the current instance)\n");
		for (i = 0; i < nbindings; i++)
			fprintf(f, "  %-8s:%s\n", bindings[i].name, bindings[i].command);
	}
	fclose(f);
	return text;
}

/* ---- lifecycle on the selection (or the current instance) ---- */

static int
op_needs_confirm(enum inst_op op)
{
	return op == OP_SHUTDOWN || op == OP_DESTROY || op == OP_UNDEFINE || op == OP_KILL;
}

void
action_lifecycle(struct tui *ui, enum inst_op op)
{
	size_t i, n = 0;
	char *names = xstrdup(""), *tmp;

	for (i = 0; i < ui->nconfirm; i++)
		free(ui->confirm_keys[i]);
	free(ui->confirm_keys);
	ui->confirm_keys = NULL;
	ui->nconfirm = 0;

	if (ui->nsel > 0 && ui->view == VIEW_DASH) {
		ui->confirm_keys = xcalloc(ui->nsel, sizeof *ui->confirm_keys);
		for (i = 0; i < ui->nsel; i++)
			ui->confirm_keys[n++] = xstrdup(ui->sel[i]);
	} else {
		struct instance *inst = current_inst(ui);
		const char *key = ui->view == VIEW_DETAIL ? ui->detail_key : ui->cursor_key;

		if (inst == NULL || key == NULL) {
			free(names);
			tui_status(ui, 1, "no instance here");
			return;
		}
		ui->confirm_keys = xcalloc(1, sizeof *ui->confirm_keys);
		ui->confirm_keys[n++] = xstrdup(key);
	}
	ui->nconfirm = n;
	ui->confirm_op = op;
	for (i = 0; i < n; i++) {
		const char *k = ui->confirm_keys[i], *slash = strrchr(k, '/');

		tmp = xasprintf("%s%s%s", names, i ? ", " : "", slash ? slash + 1 : k);
		free(names);
		names = tmp;
	}
	if (op_needs_confirm(op) || n > 1) {
		free(ui->confirm_text);
		ui->confirm_text = xasprintf("%s %zu instance%s: %s?", inst_op_name(op), n,
					     n == 1 ? "" : "s", names);
		ui->modal = MODAL_CONFIRM;
		free(names);
		return;
	}
	free(names);
	action_confirmed(ui);
}

/* Run the confirmed operation on each target; one failure does not stop
 * the others, and every error is reported in full. */
void
action_confirmed(struct tui *ui)
{
	char *errors = NULL, *tmp;
	size_t i, ok = 0, nerr = 0;

	for (i = 0; i < ui->nconfirm; i++) {
		size_t li;
		struct berr err = { 0 };
		struct instance *inst = NULL;

		for (li = 0; li < ui->list.n; li++)
			if (strcmp(ui->keys[li], ui->confirm_keys[i]) == 0) {
				inst = ui->list.v[li];
				break;
			}
		if (inst == NULL) {
			berr_set(&err, BERR_NOTFOUND, "%s: no longer listed", ui->confirm_keys[i]);
		} else {
			int r;

			tui_busy(ui, 1);
			r = instance_do(inst, ui->confirm_op, ui->confirm_op == OP_SHUTDOWN ? -1 : 0, &err);
			tui_busy(ui, 0);
			if (r == 0) {
				ok++;
				continue;
			}
		}
		nerr++;
		tmp = xasprintf("%s%s\n", errors ? errors : "", err.msg);
		free(errors);
		errors = tmp;
	}
	if (errors != NULL && *errors)
		errors[strlen(errors) - 1] = '\0';	/* the last newline */
	if (nerr == 0)
		tui_status(ui, 0, "%s: %zu done", inst_op_name(ui->confirm_op), ok);
	else if (ui->nconfirm == 1 && text_width(errors) < ui->cols - 2 && !strchr(errors, '\n'))
		tui_status(ui, 1, "%s", errors);
	else {
		char *title = xasprintf("%s: %zu done, %zu failed", inst_op_name(ui->confirm_op), ok, nerr);

		tui_message(ui, title, errors);
		tui_status(ui, 1, "%s", title);
		free(title);
	}
	free(errors);
	if (ui->view == VIEW_DASH && ui->nsel && nerr == 0)
		dash_clear_selection(ui);
	tui_refresh(ui);
}
