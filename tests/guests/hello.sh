#!/bin/sh
# hello: the guest boots through both formats (bzImage via its real-mode
# setup, ELF via the PVH note), prints its line on COM1 and exits with 0
# through port 0x501.
. "$top_srcdir/tests/guests/guest-test.sh"

out="$BERTH_TEST_TMP/out"
for fmt in bzImage elf; do
	img=$(guest_image hello $fmt)
	guest_run "$out" 60 "$img" -append verbose
	guest_expect_exit 0 "$out"
	guest_expect_line '^Hello from berth guest$' "$out"
	case $fmt in
	bzImage) guest_expect_line 'entered via bzImage real-mode setup' "$out" ;;
	elf) guest_expect_line 'entered via PVH entry' "$out" ;;
	esac
	echo "ok: hello.$fmt"
done
