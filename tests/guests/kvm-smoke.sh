#!/bin/sh
# kvm-smoke: the guests also run on this host's /dev/kvm under QEMU
# (hello, bootparams and timer through both formats).
. "$top_srcdir/tests/guests/guest-test.sh"

need_kvm
GUEST_ACCEL=kvm
out="$BERTH_TEST_TMP/out"
for fmt in bzImage elf; do
	guest_run "$out" 60 "$(guest_image hello $fmt)"
	guest_expect_exit 0 "$out"
	guest_expect_line '^Hello from berth guest$' "$out"
	guest_run "$out" 60 "$(guest_image bootparams $fmt)" -append "expect_mem_mib=128"
	guest_expect_exit 0 "$out"
	guest_expect_line '^BOOTPARAMS OK$' "$out"
	guest_run "$out" 60 "$(guest_image timer $fmt)"
	guest_expect_exit 0 "$out"
	guest_expect_line '^TIMER OK 50 ' "$out"
	echo "ok: $fmt guests on /dev/kvm"
done
