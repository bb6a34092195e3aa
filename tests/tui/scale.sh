#!/bin/sh
# 1,000 instances (a generated libvirt test-driver node): the dashboard
# opens with all of them, moves, filters, sorts and opens details promptly,
# and keeps up at 200x60.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

xml="$BERTH_TEST_TMP/node1000.xml"
make_node_xml "$xml" 1000 10
stats="$BERTH_TEST_TMP/tui-stats"
TUI_ENV="BERTH_TUI_STATS=$stats" tui_start 200 60 --connect "test://$xml"
tui_wait 'berth +1000 instances, 900 running' 20 "all 1000 listed"
tui_wait '^ +web-0001 ' 5
first=$(sed -n 's/.*first_frame_ms=\([0-9]*\).*/\1/p' "$stats")
echo "first full frame after ${first:-?} ms"
# How fast is for make bench (BENCHMARKS.md); here only that it was drawn.
[ -n "$first" ] || fail "no first frame recorded in $stats"

tui_keys G
tui_wait '^ +web-1000 ' 10 "G reaches the last of 1000"
tui_keys g
tui_wait '^ +web-0001 ' 10
tui_keys C-f C-f C-f
tui_wait '^ +web-01[5-9][0-9] ' 10 "three pages down"
tui_keys /
tui_type 'web-09'
tui_keys Enter
tui_wait 'filter:web-09' 10
n=$(tui_screen | grep -Ec '^ +web-09[0-9][0-9] ')
[ "$n" -ge 50 ] || fail "filter web-09 shows $n rows, want a full screen of them"
tui_expect_not 'web-08' "filter excludes web-08xx"
tui_keys / Escape
for i in 1 2 3 4 5 6 7; do tui_keys s; done
tui_wait 'sort:CPU%' 10 "sort by CPU% over 1000 rows"
tui_wait '^ +web-[0-9]+ .*running' 10 "instances with data sort before those without"
tui_keys H g
tui_wait ' localhost \(1000\) ' 10 "grouped by host"
tui_keys Enter
tui_wait 'VM on localhost via libvirt' 10 "detail of one of 1000"
tui_keys h
tui_resize 80 24
tui_wait_not 'NET RX/TX' 10
tui_keys G
tui_wait 'web-' 10
tui_quit
cat "$stats"
