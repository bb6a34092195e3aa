#!/bin/sh
# Leaving a console that floods never hangs: a container running `yes' and
# the counter guest printing every millisecond, each in the console pane and
# the raw attach; Ctrl-] brings the table back (a hang: nothing within 30 s),
# and q still exits.  The container part runs here; the VM part needs
# /dev/kvm and runs one level down where this host has none.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_root
. "$top_srcdir/tests/tui/tui-lib.sh"

[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
[ -x "$BERTH_CTR" ] || fail "berth-ctr was not built ($BERTH_CTR)"
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
img="$top_builddir/tests/guests/counter.bzImage"
[ -f "$img" ] || fail "$img was not built (make builds the test guests)"
stop_all() {
	timeout 20 "$BERTH" destroy flood >/dev/null 2>&1
	timeout 20 "$BERTH" destroy ctr >/dev/null 2>&1
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	return 0
}
tui_extra_cleanup=stop_all

leave() {
	# $1: what is flooding; Ctrl-] must bring the table back, not hang
	tui_keys C-]
	tui_wait 'NAME.*STATE' 30 "leaving the flooding $1 (hung?)"
}

still_responsive() {
	tui_keys '?'
	tui_wait 'Help' 10 "the dashboard still takes keys"
	tui_keys q
	tui_quit
}

if non_kvm_parts; then
	bundle="$BERTH_TEST_TMP/bb"
	mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" || fail "mkdir bundle"
	cp /bin/busybox "$bundle/rootfs/bin/busybox" && ln -s busybox "$bundle/rootfs/bin/yes" &&
		ln -s busybox "$bundle/rootfs/bin/sh" || fail "bundle rootfs"
	cat >"$bundle/config.json" <<'JSON'
{"ociVersion": "1.0.2",
 "process": {"terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["/bin/yes", "flooding the console"],
             "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs"},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "network"}]}}
JSON
	printf '{"name": "flood", "bundle": "%s"}\n' "$bundle" >"$BERTH_TEST_TMP/flood.json"
	timeout 60 "$BERTH" define --start "$BERTH_TEST_TMP/flood.json" || fail "could not define and start the yes container"

	tui_start 80 24
	tui_wait '^ +flood +.*running' 15
	for round in 1 2 3; do
		tui_keys g
		tui_keys c
		tui_wait '^ console flood ' 5 "console pane of flood (round $round)"
		tui_wait '^flooding the console' 10 "yes floods the pane"
		leave "container pane"
	done
	tui_keys g
	tui_keys C
	tui_wait 'flooding the console' 10 "raw attach to the yes container"
	leave "container raw attach"
	still_responsive
	timeout 20 "$BERTH" destroy flood >/dev/null 2>&1 || fail "could not destroy the yes container"
fi

need_kvm
printf '{"name": "ctr", "kernel": "%s", "cmdline": "console=ttyS0 period_ms=1", "memory_mib": 16}\n' "$img" \
	>"$BERTH_TEST_TMP/ctr.json"
timeout 60 "$BERTH" define "$BERTH_TEST_TMP/ctr.json" || fail "could not define the counter guest"
vm_part() {
	timeout 60 "$BERTH" start ctr || fail "could not start the counter guest"
	tui_start 80 24
	tui_wait '^ +ctr +.*running' 15
	for round in 1 2 3; do
		tui_keys g
		tui_keys c
		tui_wait '^ console ctr ' 5 "console pane of ctr (round $round)"
		tui_wait '^counter [0-9]+ t=' 10 "the counter floods the pane"
		leave "VM pane"
	done
	tui_keys g
	tui_keys C
	tui_wait 'counter [0-9]+ t=' 10 "raw attach to the counter guest"
	leave "VM raw attach"
	still_responsive
}
# One level down the emulated SVM has made guests that never fault
# triple-fault (tests/vmm/lib.sh, nested_guest_fault): a VM that ended so
# gets one more run; anywhere else, or twice, the test fails.  Either way
# berth-vmm's log says how the VM ended.
vmlog="$BERTH_RUN_DIR/vm/ctr/vmm.log"
if ! (vm_part); then
	echo "flood-detach: the counter guest's log ends:"
	tail -n 5 "$vmlog" 2>/dev/null
	[ -n "$BERTH_NESTED_INNER" ] && grep -q "triple fault" "$vmlog" 2>/dev/null || exit 1
	echo "flood-detach: the guest triple-faulted one level down; running the VM part again"
	# the failed run's tmux server is not this shell's
	_tui_n=$((_tui_n + 1)); TUI_SOCK="berth-tui-$$-$_tui_n"; _tui_cleanup
	timeout 20 "$BERTH" destroy ctr >/dev/null 2>&1
	(vm_part) || { tail -n 5 "$vmlog" 2>/dev/null; exit 1; }
fi
