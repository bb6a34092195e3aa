#!/bin/sh
# The dashboard follows live resizes (SIGWINCH): columns appear and vanish
# with the width, the screen fills the new height, in the table, the detail
# view and the help.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

check_fill() {
	n=$(tui_screen | wc -l)
	[ "$n" -eq "$1" ] || fail "screen has $n lines, want $1"
	w=$(tui_screen | LC_ALL=C.UTF-8 wc -L)
	[ "$w" -le "$2" ] || fail "a line is $w columns wide, terminal is $2"
}

xml="$BERTH_TEST_TMP/node.xml"
make_node_xml "$xml" 80 0
tui_start 80 24 --connect "test://$xml"
tui_wait 'berth +80 instances' 10
tui_expect_not 'NET RX/TX' "no NET column at 80"
tui_resize 200 60
tui_wait 'DISK R/W +NET RX/TX +UPTIME' 5 "wide columns after growing to 200x60"
tui_wait 'web-0050' 5 "more rows after growing"
tui_wait '[0-9]{2}:[0-9]{2}:[0-9]{2}$' 5 "the clock moved to the new right edge"
check_fill 60 200
tui_resize 80 24
tui_wait_not 'NET RX/TX' 5 "wide columns gone after shrinking"
tui_wait_not 'web-0030' 5 "fewer rows after shrinking"
check_fill 24 80
tui_keys Enter
tui_wait 'Net rx' 5
tui_resize 120 40
tui_wait 'Net rx .* Net tx' 5
check_fill 40 120
tui_resize 80 24
tui_keys h '?'
tui_wait 'berth dashboard keys' 5
tui_resize 100 30
tui_wait 'berth dashboard keys' 5
check_fill 30 100
tui_keys q
tui_quit
