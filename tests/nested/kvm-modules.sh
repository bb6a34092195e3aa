#!/bin/sh
# kvm-modules: in a QEMU TCG machine with -cpu max, Debian's cloud kernel
# loads irqbypass, kvm and kvm-amd and /dev/kvm appears: the base of the
# nested real-Linux tests.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd qemu-system-x86_64 timeout
. "$top_srcdir/tests/nested/nested-lib.sh"

log="$BERTH_TEST_TMP/outer.log"
nested_build_outer "$BERTH_TEST_TMP/outer.cpio.gz" kvm unused ||
	fail "cannot build the outer initramfs (see above)"
nested_run_outer "$log" 240 "$BERTH_TEST_TMP/outer.cpio.gz"
tr -d '\r' <"$log" | grep -q '^NESTED: /dev/kvm ready' || {
	nested_show "$log"
	fail "the outer machine did not get /dev/kvm (QEMU status $nested_status)"
}
for m in irqbypass kvm kvm-amd; do
	tr -d '\r' <"$log" | grep -q "^NESTED: insmod $m ok" || { nested_show "$log"; fail "insmod $m failed"; }
done
[ "$nested_status" = 0 ] || { nested_show "$log"; fail "outer QEMU exited with $nested_status, expected 0 (poweroff)"; }
echo "ok: outer machine up, kvm modules loaded, /dev/kvm present, powered off"
