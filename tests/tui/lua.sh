#!/bin/sh
# The dashboard's scripting hooks: `:=expr' and `:lua code' run in the
# global Lua state with their output in the status line or the pager; a
# plugin column (berth.column) is drawn in the table; a key bound to a Lua
# function (berth.bind) runs it; what an event handler (berth.on) prints
# does not land on the screen but in the status line.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

cat >"$BERTH_CONFIG_DIR/init.lua" <<'LUA'
berth.column{name = "TAG", width = 8, value = function(inst) return "tag:" .. inst.name:sub(1, 3) end}
berth.bind("F5", function(args, ctx) ctx.print("bound function ran on " .. tostring(args[1])) end)
berth.on("state", function(ev) print("handler saw an event") io.stderr:write("to stderr too\n") end)
LUA

tui_start 100 24 --connect test:///default
tui_wait 'berth +1 instances' 10
tui_wait 'NAME.*TAG' 5 "the plugin column's title"
tui_wait '^ +test +.* tag:tes' 5 "the plugin column's value"

# : lines
tui_keys :
tui_type '=6*7'
tui_keys Enter
tui_wait '^42 *$' 5 "=expr shows its value in the status line"
tui_keys :
tui_type 'lua for i = 1, 30 do print("line " .. i) end'
tui_keys Enter
tui_wait '^line 1 *$' 5 "longer output opens the pager"
tui_wait '^line 2 *$' 5
tui_keys q
tui_wait 'NAME.*TAG' 5 "q leaves the pager"
tui_keys :
tui_type 'lua error("boom")'
tui_keys Enter
tui_wait 'boom' 5 "a Lua error is shown"
tui_keys q
tui_wait 'NAME.*TAG' 5

# a key bound to a Lua function: it gets the current instance's name
tui_keys F5
tui_wait 'bound function ran on test' 5 "F5 ran the bound Lua function with the current instance"

# an event handler that prints: nothing on the screen but the status line
tui_keys p
tui_wait '^ +test +.*paused' 5
tui_wait 'script: (handler saw an event|to stderr too)' 5 "the handler's output in the status line"
sleep 0.5
tui_screen | head -n 23 | grep -q 'handler saw\|to stderr' && { tui_screen; fail "handler output landed on the screen"; }
tui_wait '^ +test +.* tag:tes' 2 "the table is intact after the handler printed"
tui_keys C-l
tui_expect_not 'handler saw an event$' "no garbage after a full redraw"
tui_quit

# the columns option: only the chosen columns (in the table's order), the
# plugin column after them; the first chosen ones are kept when narrow
cat >"$BERTH_CONFIG_DIR/init.lua" <<'LUA'
berth.column{name = "TAG", width = 8, value = function(inst) return "tag:" .. inst.name:sub(1, 3) end}
return { columns = { "uptime", "state", "host" } }
LUA
tui_start 100 24 --connect test:///default
tui_wait 'NAME.* HOST +STATE +UPTIME +TAG' 10 "only the chosen columns, then the plugin's"
tui_expect_not 'CPU%' "a column not chosen is not shown"
tui_quit
printf 'berth.set("columns", { "uptime", "disk", "net", "state", "host", "backend", "kind", "memory" })\n' >"$BERTH_CONFIG_DIR/init.lua"
tui_start 80 24 --connect test:///default
tui_wait 'NAME.* STATE +DISK R/W +NET RX/TX +UPTIME' 10 "at 80 columns the first chosen ones stay"
tui_expect_not ' KIND | MEM ' "the last chosen ones give way at 80 columns"
tui_quit
