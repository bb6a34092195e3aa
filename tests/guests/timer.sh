#!/bin/sh
# timer: the guest counts timer interrupts at 100 Hz, sleeping in HLT: the
# PIT on IRQ 0 (first path that delivers, then the IOAPIC alone, then the
# PIC alone) and the local APIC timer.
. "$top_srcdir/tests/guests/guest-test.sh"

out="$BERTH_TEST_TMP/out"
for fmt in bzImage elf; do
	img=$(guest_image timer $fmt)
	for mode in "" "irq=ioapic" "irq=pic" "timer=lapic"; do
		guest_run "$out" 60 "$img" -append "ticks=50 hz=100 $mode"
		guest_expect_exit 0 "$out"
		case $mode in
		irq=ioapic) want='^TIMER OK 50 irq=ioapic ' ;;
		irq=pic) want='^TIMER OK 50 irq=pic ' ;;
		timer=lapic) want='^TIMER OK 50 irq=lapic ' ;;
		*) want='^TIMER OK 50 irq=' ;;
		esac
		guest_expect_line "$want" "$out"
		echo "ok: timer.$fmt ${mode:-auto}: $(tr -d '\r' <"$out" | grep '^TIMER OK')"
	done
done
