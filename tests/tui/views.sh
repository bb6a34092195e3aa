#!/bin/sh
# Every dashboard view renders at 80x24 and at 200x60: the instance table
# with its host header, the detail view with graphs, help, the command
# pager, the create dialog and the confirmation box; q exits with status 0.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

for size in 80x24 200x60; do
	cols=${size%x*}; rows=${size#*x}
	tui_start "$cols" "$rows" --connect test:///default
	tui_wait 'berth +1 instances, 1 running' 10 "title at $size"
	tui_wait '^localhost .*cpu .*alloc vcpu 2/16' 5 "host header at $size"
	tui_wait 'NAME.*STATE' 5 "table header at $size"
	tui_wait '^ +test +.*running +2 +2\.0G' 5 "the test domain's row at $size"
	[ "$(tui_screen | wc -l)" -eq "$rows" ] || fail "screen has $(tui_screen | wc -l) lines, want $rows"
	if [ "$cols" -ge 200 ]; then
		tui_wait 'DISK R/W +NET RX/TX +UPTIME' 5 "all columns at $size"
	else
		tui_expect_not 'NET RX/TX' "NET column should not fit at $size"
	fi
	# nothing drawn past the right edge: every line fits the width
	maxw=$(tui_screen | LC_ALL=C.UTF-8 wc -L)
	[ "$maxw" -le "$cols" ] || fail "a line is $maxw columns wide at $size"

	tui_keys Enter
	tui_wait 'VM on localhost via libvirt +state running' 5 "detail view at $size"
	tui_wait '^CPU .*of 2 vCPUs' 5 "CPU graph title at $size"
	tui_wait '^Memory ' 5 "memory graph at $size"
	tui_wait 'Disk read .*Disk write' 5 "disk graphs at $size"
	tui_wait 'Net rx .*Net tx' 5 "net graphs at $size"
	tui_wait '100% +│' 5 "CPU axis at $size"
	tui_keys 2
	tui_wait '\[10 min\]' 5 "10-minute span at $size"
	tui_keys 3
	tui_wait '\[24 h\]' 5 "24-hour span at $size"
	tui_keys h
	tui_wait 'NAME.*STATE' 5 "back to the table at $size"

	tui_keys '?'
	tui_wait 'berth dashboard keys' 5 "help at $size"
	tui_wait 'filter +filter as you type' 5 "help lists the filter key at $size"
	tui_keys q
	tui_wait 'NAME.*STATE' 5 "help closes at $size"

	tui_keys :
	tui_type 'list'
	tui_keys Enter
	tui_wait '^ list' 5 "pager title at $size"
	tui_wait 'test' 5 "list output at $size"
	tui_keys q
	tui_wait 'NAME.*STATE' 5 "pager closes at $size"

	tui_keys n
	tui_wait 'New VM' 5 "create dialog at $size"
	tui_wait 'Kernel' 5 "VM fields at $size"
	tui_keys Escape
	tui_wait_not 'New VM' 5 "dialog closes at $size"

	tui_keys D
	tui_wait 'destroy 1 instance: test\?' 5 "confirmation at $size"
	tui_keys n
	tui_wait 'cancelled' 5 "confirmation cancelled at $size"
	tui_wait 'test +.*running' 5 "still running after cancel at $size"
	tui_quit
done

# `berth tui NAME` (alias dashboard) opens straight into NAME's details
tui_start 80 24 --connect test:///default dashboard test
tui_wait '^ test .*\[1 min\]' 10 "berth dashboard NAME opens the detail view"
tui_keys h
tui_wait '^ +test +.*running' 5
tui_quit
exit 0
