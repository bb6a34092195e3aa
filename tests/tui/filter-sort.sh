#!/bin/sh
# The instance table: incremental filter with /, sorting by columns (s, <,
# r), vi keys and arrows, grouping by host (H).
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

xml="$BERTH_TEST_TMP/node.xml"
make_node_xml "$xml" 12 4
tui_start 80 24 --connect "test://$xml"
tui_wait 'berth +12 instances, 9 running' 10 "12 domains, every 4th shut off"
tui_wait '^ +web-0001 ' 5 "sorted by name: web-0001 first"

# incremental: the table narrows with each keystroke
tui_keys /
tui_type 'web-001'
tui_wait '^/web-001' 5 "filter prompt"
tui_wait '^ +web-0010 ' 5
tui_expect_not 'web-0009' "filtered out while typing"
tui_type '2'
tui_wait_not 'web-0010' 5 "one more character narrows the filter"
tui_wait '^ +web-0012 ' 5
tui_keys Enter
tui_wait 'filter:web-0012' 5 "the title shows the kept filter"
tui_keys /
tui_keys Escape
tui_wait '^ +web-0001 ' 5 "Esc clears the filter"
tui_expect_not 'filter:' "no filter after Esc"
# state words and globs
tui_keys /
tui_type 'stopped'
tui_keys Enter
tui_wait '^ +web-0004 .*stopped' 5 "filter by state"
tui_expect_not 'web-0001 ' "running ones are hidden by a state filter"
tui_keys /
tui_keys C-u
tui_type 'web-000[12]'
tui_keys Enter
tui_wait '^ +web-0002 ' 5 "glob filter"
tui_expect_not 'web-0003' "glob excludes web-0003"
tui_keys / Escape

# sort: s cycles columns; numbers sort biggest first, r reverses
for i in 1 2 3 4 5; do tui_keys s; done
tui_wait 'sort:VCPU-' 5 "fifth s sorts by VCPU"
first=$(tui_screen | grep -E '^ +web-' | head -1)
echo "$first" | grep -Eq ' 3 +[0-9.]+[MG] ' || fail "biggest vCPU count not first: $first"
tui_keys r
tui_wait 'sort:VCPU\+' 5 "r reverses"
first=$(tui_screen | grep -E '^ +web-' | head -1)
echo "$first" | grep -Eq ' 1 +[0-9.]+[MG] ' || fail "smallest vCPU count not first after r: $first"
tui_keys '<' '<' '<' '<' '<'
tui_wait 'sort:NAME' 5 "< goes back to NAME"

# cursor: G to the bottom, g to the top, j/k and arrows; Enter opens that one
tui_keys r
tui_keys G Enter
tui_wait '^ web-0001 ' 5 "G then Enter (reversed by name) opens web-0001"
tui_keys h g Enter
tui_wait '^ web-0012 ' 5 "g then Enter opens web-0012"
tui_keys h j j Down k Enter
tui_wait '^ web-0010 ' 5 "j j Down k lands on the third row"
tui_keys Left

# group by host
tui_keys H
tui_wait 'by host' 5 "title says grouped"
tui_wait ' localhost \(12\) ' 5 "a group header with the host and its count"
tui_keys H
tui_wait_not ' localhost \(12\) ' 5 "H again ungroups"
tui_quit
