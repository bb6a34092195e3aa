#!/bin/sh
# berth-vmm-linux: berth-vmm boots a real Linux (Debian's cloud kernel, a
# busybox initramfs) one level down, on the real /dev/kvm of a QEMU TCG
# machine with AMD SVM: the inner init's marker reaches berth-vmm's console,
# the inner `reboot -f` ends berth-vmm with its "guest reset" status (6),
# and the outer machine then powers off.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd qemu-system-x86_64 timeout
. "$top_srcdir/tests/nested/nested-lib.sh"

log="$BERTH_TEST_TMP/outer.log"
marker="BERTH-INNER-LINUX-UP"
nested_build_outer "$BERTH_TEST_TMP/outer.cpio.gz" berth "$marker" ||
	fail "cannot build the outer initramfs (see above)"
nested_run_outer "$log" 240 "$BERTH_TEST_TMP/outer.cpio.gz"
has() { tr -d '\r' <"$log" | grep -q -- "$1"; }
has '^NESTED: /dev/kvm ready' || { nested_show "$log"; fail "the outer machine did not get /dev/kvm"; }
has '^NESTED: starting berth-vmm' || { nested_show "$log"; fail "the outer /init did not start berth-vmm"; }
if ! has "$marker"; then
	nested_show "$log" 120
	fail "the inner Linux never printed its marker under berth-vmm (QEMU status $nested_status)"
fi
status=$(tr -d '\r' <"$log" | sed -n 's/^NESTED: berth-vmm exit status \([0-9]*\).*/\1/p')
[ "$status" = 6 ] || { nested_show "$log"; fail "berth-vmm exited with '${status:-nothing}', expected 6 (guest reset after reboot -f)"; }
[ "$nested_status" = 0 ] || { nested_show "$log"; fail "outer QEMU exited with $nested_status, expected 0 (poweroff)"; }
echo "ok: $(tr -d '\r' <"$log" | grep '^NESTED: berth-vmm marker after')"
