#!/bin/sh
# The console pane and the raw attach on a real berth-vmm microVM (the kvm
# backend's console_open): the project's echo guest's banner is replayed on
# attach, typed text comes back from the guest, Ctrl-] leaves; the detail
# view graphs the VM's CPU use.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_kvm
. "$top_srcdir/tests/tui/tui-lib.sh"

[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
img="$top_builddir/tests/guests/echo.bzImage"
[ -f "$img" ] || fail "$img was not built (make builds the test guests)"
stop_vms() {
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	return 0
}
tui_extra_cleanup=stop_vms

printf '{"name": "echo1", "kernel": "%s", "memory_mib": 16, "vcpus": 1}\n' "$img" >"$BERTH_TEST_TMP/echo1.json"
timeout 60 "$BERTH" define --start "$BERTH_TEST_TMP/echo1.json" || fail "could not define and start the echo guest"

tui_start 80 24
tui_wait '^ +echo1 +.*running' 15 "the kvm VM is listed"
tui_keys c
tui_wait '^ console echo1 \(kvm on localhost\)' 5 "pane title"
tui_wait '^ECHO READY' 15 "the guest's banner (console scrollback replayed on attach)"
tui_type 'hello dashboard'
tui_keys Enter
tui_wait '^hello dashboard' 10 "the guest echoed what was typed"
tui_keys C-]
tui_wait 'NAME.*STATE' 5 "Ctrl-] leaves the pane"

tui_keys C
tui_wait 'attached to echo1' 5 "raw attach"
tui_type 'raw text'
tui_keys Enter
tui_wait '^raw text' 10 "the guest echoed in the raw attach"
tui_keys C-]
tui_wait 'NAME.*STATE' 5 "back from the raw attach"

# a change made by another berth arrives as an event, before the next
# full re-list (every 5 s)
sleep 1
timeout 20 "$BERTH" pause echo1 >/dev/null || fail "berth pause echo1 failed"
tui_wait '^ +echo1 +.*paused' 2 "the pause made outside shows through the event bus"
timeout 20 "$BERTH" resume echo1 >/dev/null || fail "berth resume echo1 failed"
tui_wait '^ +echo1 +.*running' 2 "and the resume"

tui_keys Enter
tui_wait 'VM on localhost via kvm +state running' 5
tui_wait '^CPU +[0-9]+% +of 1 vCPU; [0-9.]+% of the host' 10 "CPU use of the VM"
tui_keys h
tui_quit
