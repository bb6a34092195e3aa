#!/bin/sh
# echo: the guest takes serial input through the UART receive interrupt
# (IRQ 4 via the PIC or the IOAPIC, or one forced with irq=) and echoes it;
# 'q' ends it with 0.
. "$top_srcdir/tests/guests/guest-test.sh"

cleanup() { guest_stop; }
out="$BERTH_TEST_TMP/out"
for run in bzImage: elf: bzImage:irq=ioapic elf:irq=pic; do
	fmt=${run%%:*} mode=${run#*:}
	guest_start "$out" "$(guest_image echo $fmt)" -append "$mode"
	guest_wait_for 60 '^ECHO READY'
	guest_send "hello berth $fmt
"
	guest_wait_for 30 "^hello berth $fmt\$"
	guest_send q
	guest_wait_exit 30
	guest_expect_exit 0 "$out"
	case $mode in
	irq=*) guest_expect_line "^ECHO BYE ${mode}\$" "$out" ;;
	*) guest_expect_line '^ECHO BYE irq=\(pic\|ioapic\)$' "$out" ;;
	esac
	echo "ok: echo.$fmt ${mode:-auto} ($(tr -d '\r' <"$out" | sed -n 's/^ECHO BYE //p'))"
done
