#!/bin/sh
# The : line runs the CLI's command table (output in the pager or the status
# line, errors shown) and `set` (the options), Tab completes command names,
# options, option names and instance names.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

tui_start 80 24 --connect test:///default
tui_wait 'NAME.*STATE' 10
tui_keys :
tui_type 'inf'
tui_keys Tab
tui_wait '^:info$' 5 "command name completed"
tui_type 'te'
tui_wait '^:info te$' 5 "completion added a space after the command"
tui_keys Tab
tui_wait '^:info test$' 5 "instance name completed"
tui_keys Enter
tui_wait '^ info test' 5 "pager titled by the command"
tui_wait 'uuid: +6695eb01' 5 "info output in the pager"
tui_keys q
tui_wait 'NAME.*STATE' 5

tui_keys :
tui_type 'list --js'
tui_keys Tab
tui_wait '^:list --json$' 5 "option completed"
tui_keys C-u
tui_type 's'
tui_keys Tab
tui_wait 'shutdown +start +stats|start.*stats.*shutdown|shutdown.*start' 5 "several candidates listed"
tui_keys Escape

tui_keys :
tui_type 'pause test'
tui_keys Enter
tui_wait '^ +test +.*paused' 5 "a command changes state and the table follows"
tui_keys :
tui_type 'resume test'
tui_keys Enter
tui_wait '^ +test +.*running' 5

# history: Up brings back earlier lines
tui_keys : Up
tui_wait '^:resume test$' 5 "Up recalls the last command"
tui_keys Up
tui_wait '^:pause test$' 5 "Up again the one before"
tui_keys Down Down
tui_wait '^:$' 5 "Down past the newest gives an empty line"
tui_keys Escape

tui_keys :
tui_type 'nosuchcommand'
tui_keys Enter
tui_wait 'nosuchcommand' 5 "unknown command reported"
tui_keys :
tui_type 'info nosuch'
tui_keys Enter
tui_wait 'nosuch' 5 "unknown instance reported"
# set: the options of this dashboard, completed, explained, changed, listed
tui_keys Escape :
tui_type 'set stats_i'
tui_keys Tab
tui_wait '^:set stats_interval *$' 5 "option name completed after set"
tui_keys C-u
tui_type 'set stats_interval'
tui_keys Enter
tui_wait 'stats_interval: seconds between statistics samples \(default 1\)' 5 "set NAME explains the option"
tui_keys :
tui_type 'set stats_interval 0'
tui_keys Enter
tui_wait "option .stats_interval.: 0 is out of range 1..3600" 5 "an out-of-range value is refused, naming the option"
tui_keys :
tui_type 'set stats_interval 7'
tui_keys Enter
tui_wait 'set: done' 5 "set NAME VALUE succeeds"
tui_keys :
tui_type 'set'
tui_keys Enter
tui_wait '^stats_interval +7$' 5 "set alone lists the options with the new value"
tui_keys q
tui_wait 'NAME.*STATE' 5
tui_keys :
tui_type 'set nosuch 1'
tui_keys Enter
tui_wait "unknown option .nosuch" 5 "an unknown option is reported"

# a paste of more keys than one loop iteration takes: nothing is lost
tui_keys Escape
paste=$(awk 'BEGIN { for (i = 0; i < 400; i++) printf "j"; printf ":"; for (i = 0; i < 300; i++) printf "x"; printf "END" }')
tui_type "$paste"
tui_wait 'xxxEND$' 5 "all 704 pasted keys arrived"
tui_keys Escape
tui_quit
