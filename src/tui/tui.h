/*
 * tui.h - the dashboard (`berth` with no arguments, `berth tui`).
 *
 * For: what the rest of berth calls to open the dashboard and to bind keys
 * from init.lua.  Not for: anything the dashboard does inside (see
 * tui-internal.h); all logic it shows lives in src/core.
 */
#ifndef BERTH_TUI_H
#define BERTH_TUI_H

#include "core/error.h"
#include "core/session.h"

/* Run the dashboard on the terminal until the user quits.  s is connected
 * already (possibly with every backend failed: the failures are shown).
 * argv (may be empty) holds positional arguments: an instance name opens
 * its detail view.  Returns an exit code (0 ok). */
int tui_main(struct session *s, int argc, char **argv);

/* Bind a key ("x", "C-x", "M-x", "F5", "Enter", "Tab", "Up"...) in the
 * dashboard to a command line of the command table (run as with `:`).
 * Callable before tui_main; a later binding of the same key replaces the
 * earlier.  command_line NULL or "" removes a user binding. */
int tui_bind_key(const char *key, const char *command_line, struct berr *err);

#endif
