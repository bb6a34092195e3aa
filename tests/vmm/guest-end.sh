#!/bin/sh
# How a guest ends decides berth-vmm's exit status: garbage on every I/O port
# is survived (unclaimed ports read 0xff and are counted), an i8042 reset
# ends with status 6, a triple fault with 6 (reset) or 8 (crash, when the
# nested kvm_pvm reports an emulation failure instead).
. "$top_srcdir/tests/vmm/lib.sh"

run_vmm pio --kernel "$(guest piogarbage)" --memory 16
[ "$status" -eq 15 ] || fail "port garbage guest: exit status $status, want 15; $(tail -5 "$T/pio.err")"
grep -q "PIO OK" "$T/pio.out" || fail "port garbage guest did not finish"
grep -q "unclaimed pio [1-9]" "$T/pio.err" || fail "unclaimed port accesses not counted: $(tail -2 "$T/pio.err")"

run_vmm reset --kernel "$(guest reset)" --memory 16
[ "$status" -eq 6 ] || fail "i8042 reset: exit status $status, want 6; $(cat "$T/reset.err")"
grep -q "reset" "$T/reset.err" || fail "log does not say reset"

run_vmm triple --kernel "$(guest triplefault)" --memory 16
case $status in
6) grep -q "triple fault\|reset" "$T/triple.err" || fail "triple fault: status 6 but the log names no reset: $(tail -3 "$T/triple.err")" ;;
8) grep -qi "emulation\|internal error" "$T/triple.err" || fail "triple fault: status 8 without the emulation failure that explains it: $(tail -3 "$T/triple.err")" ;;
*) fail "triple fault: exit status $status, want 6 or 8; $(cat "$T/triple.err")" ;;
esac
echo "ok: port garbage survived, reset and triple fault end the VMM with their status"
