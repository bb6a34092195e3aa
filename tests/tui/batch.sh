#!/bin/sh
# Multi-select with space and * for batch actions: pause and resume two
# instances, one confirmation for a batch, errors of a partly failed batch
# shown in full, destroy after confirmation.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

xml="$BERTH_TEST_TMP/node.xml"
make_node_xml "$xml" 5 0
tui_start 80 24 --connect "test://$xml"
tui_wait 'berth +5 instances, 5 running' 10

tui_keys Space Space
tui_wait '2 selected' 5 "space selects and moves down"
tui_keys p
tui_wait 'pause 2 instances: web-000[12], web-000[12]\?' 5 "one confirmation for the batch"
tui_keys y
tui_wait 'pause: 2 done' 5 "batch pause reported"
tui_wait '^ +web-0001 +.*paused' 5 "web-0001 paused"
tui_wait '^ +web-0002 +.*paused' 5 "web-0002 paused"
tui_wait '^ +web-0003 +.*running' 5 "web-0003 untouched"
tui_wait 'berth +5 instances, 3 running' 5
tui_expect_not 'selected' "a successful batch clears the selection"

# resume everything: the three running ones fail, each error is shown
tui_keys '*'
tui_wait '5 selected' 5 "* selects every shown instance"
tui_keys R
tui_wait 'resume 5 instances' 5
tui_keys y
tui_wait 'resume: 2 done, 3 failed' 5 "partial failure summarised"
tui_wait 'web-0003' 5 "the failures name the instance"
tui_keys Escape
tui_wait 'berth +5 instances, 5 running' 5 "the paused ones resumed"

# destroy asks first; n keeps them, y does it
tui_keys D
tui_wait 'destroy 5 instances' 5
tui_keys n
tui_wait 'cancelled' 5
tui_wait 'berth +5 instances, 5 running' 5 "nothing destroyed after n"
tui_wait '5 selected' 5 "a cancelled or partly failed batch keeps the selection"
tui_keys '*'
tui_wait_not 'selected' 5 "* on a full selection clears it"
tui_keys D
tui_wait 'destroy 1 instance: web-0003\?' 5 "no selection: the cursor's instance (space moved it to row 3)"
tui_keys y
tui_wait '^ +web-0003 +.*stopped' 5 "web-0003 destroyed"
tui_wait 'berth +5 instances, 4 running' 5
tui_quit
