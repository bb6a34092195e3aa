#!/bin/sh
# `berth demo' as a new user sees it, at 80x24 with private directories:
# both demo instances (a miniguest VM on berth-vmm, a busybox container)
# come up running with a CPU sparkline within seconds; the detail view of
# demo-vm; `burn 3' in its console raises its CPU% in the table and the
# graph; the console of demo-ct takes shell commands.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_root
need_kvm
. "$top_srcdir/tests/tui/tui-lib.sh"

[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
[ -x "$BERTH_CTR" ] || fail "berth-ctr was not built ($BERTH_CTR)"
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
stop_all() {
	timeout 20 "$BERTH" destroy demo-vm >/dev/null 2>&1
	timeout 20 "$BERTH" destroy demo-ct >/dev/null 2>&1
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	return 0
}
tui_extra_cleanup=stop_all

TUI_ENV="BERTH_GUESTS_DIR='$top_builddir/tests/guests'" tui_start 80 24 demo
tui_wait '^ +demo-ct +localhost +running' 20 "demo-ct runs"
tui_wait '^ +demo-vm +localhost +running' 20 "demo-vm runs"
tui_wait '^ +demo-vm +.*running .*[▁▂▃▄▅▆▇█]' 5 "a CPU sparkline for demo-vm within seconds"
tui_wait '^ +demo-ct +.*running .*[▁▂▃▄▅▆▇█]' 5 "and for demo-ct"
tui_expect_not 'podman' "a plugin backend that is not set up is not an error in the demo"

# the detail view of demo-vm, then burn CPU in its console
tui_keys g j
tui_keys Enter
tui_wait '^ demo-vm +\[1 min\]' 5 "detail view of demo-vm"
tui_wait 'VM on localhost via kvm +state running' 5
tui_keys c
tui_wait '^ console demo-vm \(kvm on localhost\)' 5 "console pane from the detail view"
tui_keys Enter
tui_wait '^miniguest>' 15 "the miniguest prompt"
tui_type 'burn 3'
tui_keys Enter
tui_keys C-]
tui_wait '^CPU +([4-9][0-9]|100)% +of 1 vCPU' 5 "the detail view shows demo-vm busy"
tui_keys h
tui_wait '^ +demo-vm +.*running +1 +64M +([4-9][0-9]|100)\.[0-9]' 5 "the table shows demo-vm's CPU%"
tui_wait '^ +demo-vm +.*running +1 +64M +[0-9]\.[0-9] ' 10 "and it falls back after the burn"

# the container's console
tui_keys g
tui_keys c
tui_wait '^ console demo-ct \(container on localhost\)' 5 "demo-ct console pane"
sleep 0.5
tui_type 'echo hi$((40+2))'
tui_keys Enter
tui_wait '^hi42' 10 "the busybox shell of demo-ct ran the command"
tui_keys C-]
tui_wait 'NAME.*STATE' 5 "Ctrl-] leaves the pane"
tui_quit
