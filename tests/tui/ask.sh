#!/bin/sh
# berth.confirm from a script in the dashboard: the question is a dialog
# over the dashboard ("A script asks"); y answers yes, n and Esc answer no,
# and the dashboard is intact and responsive afterwards.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

tui_start 80 24 --connect test:///default
tui_wait 'berth +1 instances' 10

ask() {	# ask KEY EXPECTED
	tui_keys :
	tui_type 'lua if berth.confirm("Move test to node2?") then print("answered yes") else print("answered no") end'
	tui_keys Enter
	tui_wait 'A script asks' 5 "berth.confirm opens a dialog"
	tui_wait 'Move test to node2\?' 2 "the dialog holds the script's question"
	tui_wait 'y: yes +n/Esc: no' 2 "the dialog says which keys answer"
	tui_keys "$1"
	tui_wait "answered $2" 5 "key $1 answers $2"
	tui_wait_not 'A script asks' 2 "the dialog closes"
}
ask y yes
ask n no
ask Escape no

# the dashboard still works: a key acts on the instance
tui_keys p
tui_wait '^ +test +.*paused' 5 "the dashboard answers keys after the dialog"
tui_quit
