#!/bin/sh
# shell-tmux.sh: `berth shell` driven through tmux like a person would:
# completion of commands, options, option values, instance names and file
# names; Lua inline (=expr, lua ..., multi-line chunks); Ctrl-C stops a
# running script or command (stats --watch) but not the shell, and discards
# a half-typed line; history persists across runs.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd tmux
sock=berth-shell-test-$$
T() { tmux -L "$sock" "$@"; }
# Literal text: send-keys would take a word like `end' for the End key.
cleanup() { T kill-server 2>/dev/null; }
screen() { T capture-pane -p -t sh; }
wait_screen() {	# PATTERN [timeout]
	_n=0
	while ! screen | grep -q -- "$1"; do
		_n=$((_n + 1))
		[ $_n -gt $((${2:-10} * 10)) ] && { screen; fail "screen never showed '$1'"; }
		sleep 0.1
	done
}
start_shell() {
	T new-session -d -s sh -x 120 -y 40 \
		"env BERTH_RUN_DIR='$BERTH_RUN_DIR' BERTH_DATA_DIR='$BERTH_DATA_DIR' BERTH_CONFIG_DIR='$BERTH_CONFIG_DIR' BERTH_NO_DEFAULT_LIBVIRT=1 BERTH_SRC_LUA='$BERTH_SRC_LUA' BERTH_PLUGIN_PATH= TERM=xterm '$BERTH' --connect test:///default shell; echo SHELL-EXITED \$?; sleep 30"
	wait_screen 'berth>'
}
start_shell

# Completion: a command, an instance name, an option name.
T send-keys -t sh 'paus' Tab
wait_screen 'berth> pause$'
T send-keys -t sh 'te' Tab
wait_screen 'berth> pause test$'
T send-keys -t sh Enter
wait_screen '^berth>$'
T send-keys -t sh '=berth.get("test").state' Enter
wait_screen '^paused$'
T send-keys -t sh 'resume test' Enter
T send-keys -t sh 'set stats_int' Tab
wait_screen 'berth> set stats_interval$'
T send-keys -t sh '4' Enter
T send-keys -t sh '=berth.option("stats_interval")' Enter
wait_screen '^4$'

# Completion of option names and values: choices of "vm|ct", states,
# backends, connected hosts; instance names after a value; file names for
# run.
T send-keys -t sh 'list --na' Tab
wait_screen 'berth> list --names *$'
T send-keys -t sh C-u 'list --kind ' Tab Tab
wait_screen '^ct  *vm$'
T send-keys -t sh C-u 'list --kind vm te' Tab
wait_screen 'berth> list --kind vm test *$'
T send-keys -t sh C-u 'list --kind=c' Tab
wait_screen 'berth> list --kind=ct *$'
T send-keys -t sh C-u 'list --state ru' Tab
wait_screen 'berth> list --state running *$'
T send-keys -t sh C-u 'list -b libv' Tab
wait_screen 'berth> list -b libvirt *$'
T send-keys -t sh C-u 'list --host test' Tab
wait_screen 'berth> list --host test:///default *$'
: >"$BERTH_TEST_TMP/complete-me.lua"
T send-keys -t sh C-u
T send-keys -t sh -l "run $BERTH_TEST_TMP/complete-m"
T send-keys -t sh Tab
wait_screen "berth> run $BERTH_TEST_TMP/complete-me.lua *\$"
T send-keys -t sh C-u

# Commands exactly as on the command line.
T send-keys -t sh 'list --names' Enter
wait_screen '^test$'

# Lua: an expression, a statement, a multi-line chunk.
T send-keys -t sh '=1 + 41' Enter
wait_screen '^42$'
T send-keys -t sh 'lua for i = 1, 3 do' Enter
wait_screen '^>>$'
T send-keys -t sh 'print("line" .. i)' Enter
T send-keys -t sh -l 'end'
T send-keys -t sh Enter
wait_screen '^line3$'
screen | grep -q '^line1$' || fail "multi-line chunk: line1 missing"
T send-keys -t sh '.lua' Enter
wait_screen 'lua>$'
T send-keys -t sh 'x = 6 * 7' Enter
T send-keys -t sh 'x' Enter
wait_screen '^42$'
# Lua completion comes from the state itself: every berth function (also
# ones the old fixed list lacked), globals, other modules, a variable's
# methods, and a plugin's or the user's own tables.
T send-keys -t sh 'berth.http_q' Tab
wait_screen 'lua> berth.http_queue$'
T send-keys -t sh C-u 'berth.cl' Tab
wait_screen 'lua> berth.clock$'
T send-keys -t sh C-u 'string.gs' Tab
wait_screen 'lua> string.gsub$'
T send-keys -t sh C-u 'vm = berth.get("test")' Enter
T send-keys -t sh 'vm:console_e' Tab
wait_screen 'lua> vm:console_expect$'
T send-keys -t sh C-u 'mytools = { deploy = 1, describe = 2 }' Enter
T send-keys -t sh 'mytools.dep' Tab
wait_screen 'lua> mytools.deploy$'
T send-keys -t sh C-u 'mytoo' Tab
wait_screen 'lua> mytools$'
T send-keys -t sh C-u '.lua' Enter
wait_screen 'command mode'
T send-keys -t sh '=berth.sta' Tab
wait_screen 'berth> =berth.stats$'
T send-keys -t sh C-u

# Ctrl-C stops a running script, not the shell.
T send-keys -t sh 'lua while true do end' Enter
sleep 0.7
T send-keys -t sh C-c
wait_screen 'interrupted' 3
T send-keys -t sh '=2 * 50' Enter
wait_screen '^100$'
# ... and a script sleeping in the event loop.
T send-keys -t sh '=berth.sleep(60)' Enter
sleep 0.5
T send-keys -t sh C-c
T send-keys -t sh '=3 * 100' Enter
wait_screen '^300$' 3
# ... and a command that would run forever (stats --watch), on a clean screen.
T send-keys -t sh C-l
T send-keys -t sh 'stats --watch test' Enter
wait_screen '^test  *localhost' 5
T send-keys -t sh C-c
wait_screen 'interrupted' 3
T send-keys -t sh '=4 * 100' Enter
wait_screen '^400$' 3
# ... and discards a half-typed line at the prompt.
T send-keys -t sh 'this is not a command'
T send-keys -t sh C-c
wait_screen '\^C'
T send-keys -t sh '=7 * 100' Enter
wait_screen '^700$'
screen | grep -q 'unknown command' && fail "the discarded line was run"

# `run' inside the shell, then Ctrl-C still stops Lua and spares the shell.
echo 'print("from " .. "run")' >"$BERTH_TEST_TMP/t.lua"
T send-keys -t sh -l "run $BERTH_TEST_TMP/t.lua"
T send-keys -t sh Enter
wait_screen '^from run$'
T send-keys -t sh 'lua while true do end' Enter
sleep 0.5
T send-keys -t sh C-c
T send-keys -t sh '=5 * 5' Enter
wait_screen '^25$' 3

# An error does not end the shell.
T send-keys -t sh 'nosuchcommand' Enter
wait_screen "unknown command \`nosuchcommand'"
T send-keys -t sh 'exit 3' Enter
wait_screen 'SHELL-EXITED 3'

# History persists: the file has the lines, and Up recalls them.
hist=$BERTH_DATA_DIR/shell_history
[ -f "$hist" ] || fail "no history file at $hist"
grep -qx '=1 + 41' "$hist" || fail "history file lacks '=1 + 41': $(cat "$hist")"
T kill-session -t sh
start_shell
T send-keys -t sh Up
wait_screen 'berth> exit 3$'
T send-keys -t sh C-u 'exit' Enter
wait_screen 'SHELL-EXITED 0'
echo "shell: completion, Lua, Ctrl-C and history work"
