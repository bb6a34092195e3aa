/*
 * tui-internal.h - shared state of the dashboard's views.
 *
 * For: the one struct tui that every file of src/tui works on, and the
 * functions they call on each other.  Not for: anything outside src/tui
 * (the public entry points are in tui.h).
 */
#ifndef BERTH_TUI_INTERNAL_H
#define BERTH_TUI_INTERNAL_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <curses.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "core/session.h"

struct tui;

/* ---- views and modal input ---- */
enum tui_view {
	VIEW_DASH = 1 << 0,
	VIEW_DETAIL = 1 << 1,
	VIEW_CONSOLE = 1 << 2,
	VIEW_PAGER = 1 << 3,		/* help, command output */
};
#define VIEW_LIST (VIEW_DASH | VIEW_DETAIL)	/* views acting on instances */

enum tui_modal {
	MODAL_NONE = 0,
	MODAL_FILTER,		/* "/" line */
	MODAL_CMDLINE,		/* ":" line */
	MODAL_CONFIRM,
	MODAL_MESSAGE,		/* error or note, any key closes */
	MODAL_FORM,		/* create dialog */
	MODAL_ASK,		/* a script's berth.confirm (tui_ask) */
};

/* A key as returned by wget_wch: is_key set for KEY_* codes. */
struct tui_keypress {
	int is_key;
	wint_t code;
	int meta;			/* M-x: Esc and the key in one read */
};

/* One line editor (filter, command line, form fields), UTF-8 text. */
#define TUI_EDIT_MAX 512
struct tui_edit {
	char buf[TUI_EDIT_MAX];
	size_t len;
	size_t cur;		/* byte offset, on a character boundary */
};
/* Returns 1 if the key edited the text, 0 if it was not an editing key. */
int edit_key(struct tui_edit *e, const struct tui_keypress *k);
void edit_set(struct tui_edit *e, const char *text);
/* Draw at y,x in width columns with the cursor placed when focused. */
void edit_draw(struct tui *ui, struct tui_edit *e, int y, int x, int width, int focused);

/* ---- the key table (keys.c) ---- */
typedef void (*tui_key_fn)(struct tui *ui);
struct tui_key {
	const char *key;	/* key name as shown in help and used by bindings */
	unsigned views;		/* VIEW_* mask where it applies */
	const char *action;	/* action name */
	const char *help;
	tui_key_fn fn;
};
extern const struct tui_key tui_key_table[];
extern const size_t tui_key_table_len;
/* Parse a key name into a keypress; -1 if unknown. */
int tui_key_parse(const char *name, struct tui_keypress *out);
/* Name of a keypress ("C-a", "Enter", "x") into buf. */
const char *tui_key_name(const struct tui_keypress *k, char *buf, size_t len);
/* Dispatch a key in the current view: user bindings first, then the table.
 * Returns 1 if handled. */
int keys_dispatch(struct tui *ui, const struct tui_keypress *k);
/* Text of the help page, generated from the table and bindings. */
char *keys_help_text(void);
void keys_free_bindings(void);

/* ---- the instance table ---- */
enum tui_col {
	COL_NAME, COL_KIND, COL_BACKEND, COL_HOST, COL_STATE, COL_VCPUS, COL_MEM,
	COL_CPU, COL_SPARK, COL_MEMUSE, COL_DISK, COL_NET, COL_UPTIME, COL_MAX
};

struct tui_host {
	char *label;
	int cpus;
	uint64_t mem_kib;
	double cpu_pct;		/* < 0 unknown */
	double mem_used_kib;	/* < 0 unknown */
	int alloc_vcpus;
	uint64_t alloc_mem_kib;
	int ninst, nrunning;
	char *error;		/* host_info failure */
};

struct tui_console;

/* Stats ticks between full re-lists.  When every connection sends events,
 * changes arrive as events (each schedules a re-list) and the periodic one
 * is only a safety net; otherwise it is how changes are found. */
#define TUI_LIST_EVERY 5
#define TUI_LIST_EVERY_WITH_EVENTS 15

struct tui {
	struct session *s;
	int quit;
	int utf8;
	int color;
	int mouse;
	int rows, cols;
	int dirty;		/* something changed: draw after this iteration */
	int need_refresh;	/* re-list instances soon */

	/* data */
	struct inst_list list;
	struct inst_rates *rates;
	struct inst_stats *samples;
	char **keys;		/* instance_key per list entry */
	size_t *order;		/* visible rows: indexes into list, after filter+sort */
	size_t norder;
	long *disp;		/* display rows: >= 0 index into order, < 0 group header -1-h */
	size_t ndisp;
	size_t *order_disp;	/* display row of each order entry */
	struct tui_host *hosts;
	size_t nhosts;
	char **conn_failures;	/* connect failures from startup */
	size_t nconn_failures;
	size_t nconn_shown;	/* the first ones, shown in the header */
	char **tick_failures;	/* list/host failures of the last refresh */
	size_t ntick_failures;
	int64_t last_refresh_ms;
	int ticks_since_list;	/* stats ticks since the last full list */
	double refresh_cost_ms;

	/* selection: instance keys */
	char **sel;
	size_t nsel;

	/* dashboard state */
	enum tui_col sort_col;
	int sort_desc;
	struct tui_edit filter;
	int group_by_host;
	size_t cursor;		/* index into order */
	size_t top;		/* first visible row */
	char *cursor_key;	/* keeps the cursor on its instance across refreshes */
	int table_y, table_h;	/* where rows were drawn (mouse) */
	int header_y;
	int col_x[COL_MAX + 1], col_w[COL_MAX];	/* -1: not shown */

	/* detail */
	char *detail_key;
	int detail_span;	/* seconds: 60, 600, 86400 */

	/* pager */
	char *pager_title;
	char *pager_text;		/* tabs expanded */
	char **pager_lines;		/* screen rows: long lines wrapped */
	size_t pager_nlines;
	int pager_wrap_cols;		/* the width pager_lines were cut for */
	size_t pager_top;
	unsigned pager_return;	/* view to go back to */

	unsigned view;
	unsigned prev_view;
	enum tui_modal modal;
	struct tui_edit line;	/* filter or command line */
	char *complete_hint;	/* candidates after Tab */
	char **hist;		/* : line history, oldest first */
	size_t nhist, hist_pos;

	/* confirm */
	char *confirm_text;
	enum inst_op confirm_op;
	char **confirm_keys;
	size_t nconfirm;

	/* a script's question (MODAL_ASK) */
	const char *ask_text;

	/* message */
	char *msg_title;
	char *msg_text;

	/* status line */
	char status[512];
	int status_err;
	int64_t status_ms;

	/* create dialog */
	struct tui_form *form;

	/* console */
	struct tui_console *con;

	/* loop ids */
	int stdin_watch;
	int sig_watch;
	int sig_pipe[2];
	int stats_timer;
	int refresh_timer;	/* debounced refresh after events */
	int history_timer;	/* saves the metrics history */
	int history_failed;	/* the last save failed (shown once) */
	int input_timer;	/* keys left in ncurses' buffer after a bounded drain */
	int busy;		/* inside a command or backend op (see tui_busy) */
	int evbus_sub;
	int stats_interval_ms;
};

/* tui.c */
void tui_status(struct tui *ui, int is_err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tui_message(struct tui *ui, const char *title, const char *text);
void tui_show_error(struct tui *ui, const char *what, const struct berr *err);
void tui_refresh(struct tui *ui);		/* list + stats now */
void tui_schedule_refresh(struct tui *ui);	/* soon, debounced */
void tui_set_view(struct tui *ui, unsigned view);
void tui_pager(struct tui *ui, const char *title, const char *text);
long tui_opt_int(const char *name, long def);
int tui_opt_bool(const char *name, int def);
void tui_run_command(struct tui *ui, const char *line);
/* Commands and backend ops may run the loop themselves (waiting for a
 * reply, `stats` sampling): while busy, keys wait and refreshes are
 * deferred so nothing replaces the data under the caller's feet. */
void tui_busy(struct tui *ui, int on);
void tui_suspend_screen(struct tui *ui);	/* endwin for raw use */
void tui_resume_screen(struct tui *ui);

/* draw.c: text helpers (sanitized, width-aware, UTF-8) */
enum tui_color {
	CP_DEFAULT = 0, CP_TITLE, CP_HEADER, CP_CURSOR, CP_SELECTED, CP_RUNNING, CP_STOPPED,
	CP_PAUSED, CP_CRASHED, CP_WARN, CP_ERROR, CP_GRAPH, CP_GRAPH2, CP_DIM, CP_MAX
};
void draw_init_colors(struct tui *ui);
attr_t draw_attr(struct tui *ui, enum tui_color c);
/* Print s at y,x in at most width columns (padded with spaces when pad),
 * replacing control characters; returns columns used. */
int draw_text(struct tui *ui, int y, int x, const char *s, int width, int pad);
int draw_textf(struct tui *ui, int y, int x, int width, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int text_width(const char *s);
void draw_hline(struct tui *ui, int y, int x, int width);
void draw_box(struct tui *ui, int y, int x, int h, int w, const char *title);
/* Sparkline of values (NaN gaps) scaled to max (<=0: auto). */
void draw_sparkline(struct tui *ui, int y, int x, int width, const float *v, size_t n, double max);
/* Area graph in h rows x w columns; braille when UTF-8.  Returns the max used. */
double draw_graph(struct tui *ui, int y, int x, int h, int w, const float *v, size_t n,
		  double max, enum tui_color color);
const char *fmt_rate(char *buf, size_t len, double bps);

/* dashboard.c */
void dash_draw(struct tui *ui);
void dash_rebuild(struct tui *ui);	/* filter + sort + cursor */
struct instance *dash_cursor_inst(struct tui *ui);
size_t dash_index_of_key(struct tui *ui, const char *key);
int dash_is_selected(struct tui *ui, const char *key);
void dash_toggle_select(struct tui *ui, const char *key);
void dash_clear_selection(struct tui *ui);
void dash_move(struct tui *ui, long delta);
void dash_mouse(struct tui *ui);
const char *col_title(enum tui_col c);
int col_from_name(const char *name);
void dash_hosts_update(struct tui *ui);
void dash_hosts_free(struct tui *ui);

/* detail.c */
void detail_draw(struct tui *ui);
struct instance *detail_inst(struct tui *ui);

/* actions (keys.c) */
void action_lifecycle(struct tui *ui, enum inst_op op);
void action_confirmed(struct tui *ui);

/* dialog.c */
void form_open_create(struct tui *ui);
void form_free(struct tui_form *f);
int form_key(struct tui *ui, const struct tui_keypress *k);
void form_draw(struct tui *ui);
void modal_draw(struct tui *ui);
int modal_key(struct tui *ui, const struct tui_keypress *k);

/* cmdline.c */
void cmdline_complete(struct tui *ui);
char *cmdline_quote(const char *word);
void cmdline_history_add(struct tui *ui, const char *line);
void cmdline_history(struct tui *ui, int delta);	/* -1 older, +1 newer */
/* Cut the pager's text into rows of the current width (again after a
 * resize); pager_draw and pager_key call it. */
void pager_layout(struct tui *ui);
void pager_draw(struct tui *ui);
int pager_key(struct tui *ui, const struct tui_keypress *k);

/* console.c */
int console_open(struct tui *ui, struct instance *inst, int fullscreen, struct berr *err);
void console_close(struct tui *ui);
void console_draw(struct tui *ui);
void console_draw_cursor(struct tui *ui);
int console_key(struct tui *ui, const struct tui_keypress *k);
int console_raw_active(struct tui *ui);
void console_raw_stdin(struct tui *ui);	/* stdin readable while in raw attach */
void console_resize(struct tui *ui);

#endif
