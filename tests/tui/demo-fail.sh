#!/bin/sh
# `berth demo' where the demo VM cannot run (here: a kernel file that is
# not a kernel, as a broken or foreign install would give): the dashboard
# still opens, the container comes up, and why demo-vm is not running is
# on a `!' line above the table, cut with a pointer to `!' at 80 columns,
# where the whole message is, wrapped to the terminal, also after a resize.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_root
# The refusal of the kernel is what is shown; without /dev/kvm berth-vmm
# stops earlier, with a message short enough never to be cut.
need_kvm
. "$top_srcdir/tests/tui/tui-lib.sh"

[ -x "$BERTH_CTR" ] || fail "berth-ctr was not built ($BERTH_CTR)"
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
stop_all() {
	timeout 20 "$BERTH" destroy demo-vm >/dev/null 2>&1
	timeout 20 "$BERTH" destroy demo-ct >/dev/null 2>&1
	return 0
}
tui_extra_cleanup=stop_all

guests="$BERTH_TEST_TMP/guests"
mkdir -p "$guests"
head -c 8192 /dev/zero > "$guests/miniguest.bzImage"

TUI_ENV="BERTH_GUESTS_DIR='$guests'" tui_start 80 24 demo
tui_wait '^ +demo-ct +localhost +running' 20 "demo-ct runs"
tui_wait '^ +demo-vm +localhost +stopped' 10 "demo-vm is listed, stopped"
tui_wait '^! demo-vm: starting vm .demo-vm.' 5 "why demo-vm is not running is on the dashboard"
tui_wait '\[! = full\]$' 5 "a cut message says where the rest is"
tui_keys '!'
tui_wait '^ Failures' 5
tui_wait 'bzImage|boot|kernel' 5 "the failures page has the whole message"
tui_resize 40 20
tui_wait '^ Failures' 5
tui_expect_not '^.{41,}' "a failures line wider than the terminal"
tui_keys q
tui_quit
exit 0
