#!/bin/sh
# Interrupts reach the guest through the in-kernel PIC: the PIT ticks at
# 100 Hz (50 ticks counted by the timer guest), and the UART's receive
# interrupt (KVM_IRQ_LINE on IRQ 4) drives an interrupt-only echo guest.
. "$top_srcdir/tests/vmm/lib.sh"

start=$(date +%s)
run_vmm timer --kernel "$(guest timer)" --memory 16
[ "$status" -eq 103 ] || fail "timer guest: exit status $status, want 103; $(cat "$T/timer.out" "$T/timer.err")"
grep -q "TIMER OK" "$T/timer.out" || fail "timer guest did not count 50 ticks: $(cat "$T/timer.out")"
grep -q "UNEXPECTED" "$T/timer.out" && fail "timer guest took an unexpected interrupt"
[ $(( $(date +%s) - start )) -le 20 ] || fail "50 ticks at 100 Hz took far too long"

start_vmm irqecho --kernel "$(guest irqecho)" --memory 16
out=$(timeout 20 "$VMMCTL" console "$RUN/console.sock" 10 "IRQECHO READY") || fail "irqecho guest not ready: $out"
out=$(timeout 20 "$VMMCTL" console "$RUN/console.sock" 10 "ping-by-irq" "ping-by-irq") || fail "no echo through UART interrupts: $out"
timeout 20 "$VMMCTL" console "$RUN/console.sock" 2 "" "q" >/dev/null
wait_vmm
[ "$st" -eq 37 ] || fail "irqecho guest: exit status $st, want 37"
echo "ok: PIT and UART interrupts"
