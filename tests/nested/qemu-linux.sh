#!/bin/sh
# qemu-linux: the kernel and busybox initramfs of tests/lib/linux-assets.sh
# boot under QEMU TCG: /init prints its marker on ttyS0, and `poweroff -f`
# (berth_test=poweroff) ends the machine.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd qemu-system-x86_64 timeout
. "$top_srcdir/tests/lib/linux-assets.sh"

kernel=$(linux_assets_kernel) || fail "no kernel (see above)"
initrd="$BERTH_TEST_TMP/initrd.gz"
marker="BERTH-QEMU-LINUX-UP"
linux_assets_initrd "$initrd" "$marker" || fail "cannot build the initramfs (see above)"
log="$BERTH_TEST_TMP/serial.log"
timeout -k 5 180 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 512 -display none \
	-serial stdio -monitor none -no-reboot -kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 berth_test=poweroff" </dev/null >"$log" 2>&1
rc=$?
show() { echo "---- serial ----" >&2; tr -d '\r' <"$log" | tail -n 40 >&2; }
tr -d '\r' <"$log" | grep -qx "$marker" || { show; fail "no marker line '$marker' on ttyS0 (QEMU status $rc)"; }
[ "$rc" = 0 ] || { show; fail "QEMU exited with $rc, expected 0 after poweroff -f"; }
echo "ok: $(basename "$kernel") booted to the busybox init and powered off"
