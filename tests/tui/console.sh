#!/bin/sh
# The console inside the dashboard: a pane rendered through libvterm with the
# detach key on screen, typing and reading the guest's reply, scrollback,
# the full-screen raw attach, and leaving never hangs: not with a guest that
# floods, nor one that never answers, nor one that goes away.
# The guest is tests/tui/console-peer behind the hidden BERTH_TUI_TEST_CONSOLE
# hook (no backend here offers a console on this machine's test driver).
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

PEER="$top_builddir/tests/tui/console-peer"
[ -x "$PEER" ] || fail "$PEER not built"
sock="$BERTH_TEST_TMP/console.sock"
peer_pid=
stop_peer() { [ -z "$peer_pid" ] || { kill "$peer_pid" 2>/dev/null; wait "$peer_pid" 2>/dev/null; peer_pid=; }; }
start_peer() {
	stop_peer
	rm -f "$sock"
	"$PEER" "$sock" "$@" & peer_pid=$!
	wait_for 5 test -S "$sock" || fail "console-peer did not listen"
}
tui_extra_cleanup=stop_peer

start_peer
TUI_ENV="BERTH_TUI_TEST_CONSOLE=$sock" tui_start 80 24 --connect test:///default
tui_wait 'NAME.*STATE' 10
tui_keys c
tui_wait '^ console test \(libvirt on localhost\)' 5 "pane title"
tui_wait 'Ctrl-\] detach' 5 "the detach key is on screen"
tui_wait '^console-peer ready' 5 "the guest's banner in the pane"
tui_type 'hello'
tui_wait '^\$ hello' 5 "typed text echoed by the guest"
tui_keys Enter
tui_wait '^reply: hello' 5 "the guest's reply"

# scrollback
tui_type 'many'
tui_keys Enter
tui_wait '^many 100' 5
tui_expect_not '^many 50$' "line 50 scrolled off"
tui_keys S-PPage S-PPage S-PPage
tui_wait '\[scrollback\]' 5 "Shift-PgUp enters the scrollback"
tui_wait '^many [5-7][0-9]$' 5 "older lines shown"
tui_keys S-NPage S-NPage S-NPage S-NPage
tui_wait_not '\[scrollback\]' 5 "Shift-PgDn back to live"

# at 200x60 the pane (and the terminal emulated in it) follows
tui_resize 200 60
tui_wait 'Ctrl-\] detach +S-PgUp/PgDn scroll +F2 full screen' 5 "full key hints at 200 columns"
long=$(awk 'BEGIN { for (i = 0; i < 15; i++) printf "abcdefghi-"; }')
tui_type "$long"
tui_keys Enter
tui_wait "^reply: $long\$" 5 "a 157-column reply on one line: the emulated terminal is 200 wide"
[ "$(tui_screen | wc -l)" -eq 60 ] || fail "pane not 60 lines high"
tui_resize 80 24
tui_wait '^ console test .* Ctrl-\] detach' 5

tui_keys C-]
tui_wait 'NAME.*STATE' 5 "Ctrl-] returns to the table"
tui_wait 'detached' 5

# full-screen raw attach, then back
tui_keys C
tui_wait '\[berth: attached to test; Ctrl-\] detaches\]' 5 "raw attach banner"
tui_type 'raw1'
tui_keys Enter
tui_wait '^reply: raw1' 5 "reply in the raw attach"
tui_keys C-]
tui_wait 'NAME.*STATE' 5 "the dashboard is redrawn after the raw attach"
tui_expect_not 'reply: raw1' "nothing of the raw session left on screen"

# a flooding guest: the pane keeps up and Ctrl-] leaves at once
start_peer --flood
tui_keys c
tui_wait '^flood line [0-9]+' 5 "flood shown"
sleep 1
tui_keys C-]
tui_wait 'NAME.*STATE' 3 "leaving a flooding console"
tui_keys C
tui_wait 'flood line' 5
sleep 1
tui_keys C-]
tui_wait 'NAME.*STATE' 5 "leaving a flooding raw attach"

# a guest that never reads nor writes
start_peer --silent
tui_keys c
tui_wait '^ console test' 5
tui_type 'nobody is listening'
tui_keys Enter
tui_keys C-]
tui_wait 'NAME.*STATE' 3 "leaving a silent console"

# the guest goes away while attached
start_peer
tui_keys c
tui_wait '^console-peer ready' 5
stop_peer
tui_wait 'closed by the other side' 5 "the pane says the console closed"
tui_keys x
tui_wait 'NAME.*STATE' 3 "any key leaves a closed console"

# no console available: the error is shown, the table stays
rm -f "$sock"
tui_keys c
tui_wait '┌ Error ' 5 "a long error gets a message box"
tui_wait 'console.sock: No such' 5 "the failure is shown in full"
tui_wait 'file or directory' 5 "the failure is shown in full (wrapped)"
tui_keys Escape
tui_wait_not '┌ Error ' 5 "any key closes the message"
tui_quit
