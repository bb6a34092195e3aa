#!/bin/sh
# Key bindings from init.lua (berth.bind -> tui_bind_key): a bound key runs
# its command line with % as the current instance (Meta keys too), the
# help lists user
# bindings, and options from init.lua (stats_interval, console_escape) are
# honoured.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

cat > "$BERTH_CONFIG_DIR/init.lua" <<'LUA'
berth.bind("F5", "pause %")
berth.bind("F6", "resume %")
berth.bind("X", "info %")
berth.bind("M-z", "pause %")
LUA
tui_start 80 24 --connect test:///default
tui_wait 'NAME.*STATE' 10
tui_wait '^ +test +.*running' 5
tui_keys F5
tui_wait '^ +test +.*paused' 5 "F5 bound to pause % paused the instance"
tui_keys F6
tui_wait '^ +test +.*running' 5 "F6 bound to resume %"
# Meta (Alt): tmux sends M-z as Esc z in one write, as terminals do.
tui_keys M-z
tui_wait '^ +test +.*paused' 5 "M-z bound to pause % paused the instance"
tui_keys F6
tui_wait '^ +test +.*running' 5
tui_keys z
tui_wait 'z: no action here' 5 "plain z is not M-z"
tui_expect_not '^ +test +.*paused' "plain z paused the instance"
tui_keys X
tui_wait '^ info test' 5 "X bound to info % shows the pager"
tui_wait 'uuid: +6695eb01' 5
tui_keys q
tui_keys '?'
tui_wait 'berth dashboard keys' 5
tui_keys G
tui_wait 'Your bindings' 5 "help lists user bindings"
tui_wait 'F5 +:pause %' 5
tui_wait 'M-z +:pause %' 5 "help names the Meta binding"
tui_keys q
tui_quit
