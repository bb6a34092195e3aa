#!/bin/sh
# The dashboard opens whatever fails: a connection that does not open is
# shown on the dashboard (and in full with !), the working ones carry on;
# with nothing working at all it still opens and says so.  Without a
# terminal it says so instead of garbling anything.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/tui/tui-lib.sh"

bad="test://$BERTH_TEST_TMP/no-such-node.xml"
tui_start 80 24 --connect "$bad" --connect test:///default
tui_wait 'NAME.*STATE' 10 "dashboard opens despite a failed connection"
tui_wait '^! .*no-such-node' 5 "the failure is on the dashboard"
tui_wait '^ +test +.*running' 5 "the working connection's instance is listed"
tui_keys '!'
tui_wait '^ Failures' 5 "! shows every failure"
tui_wait 'at start: .*no-such-node\.xml' 5 "in full"
tui_keys q
tui_wait 'NAME.*STATE' 5
tui_quit

# no terminal: a clear message and a failure status, the terminal untouched
out=$("$BERTH" --connect test:///default tui </dev/null 2>&1 >/dev/null) && fail "berth tui without a terminal succeeded"
echo "$out" | grep -q 'needs a terminal' || fail "no clear message without a terminal: $out"

# nothing that works: still opens (the bundled backends may or may not
# probe fine here; the failed URI is shown either way)
tui_start 80 24 --connect "$bad"
tui_wait 'NAME.*STATE' 10 "dashboard opens with only a failed connection"
tui_wait '^! .*no-such-node' 5
tui_quit
