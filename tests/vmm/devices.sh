#!/bin/sh
# The legacy devices as Linux probes them: the UART's scratch register, IER,
# loopback (MSR 0x90 with MCR 0x1a, data looped to RBR), FIFO (IIR 0xc1),
# divisor latch; the CMOS RTC's status registers and the host's UTC time in
# BCD and binary; the i8042 self test (0x55).
. "$top_srcdir/tests/vmm/lib.sh"
g=$(guest legacy)
for try in 1 2; do
	h0=$(date -u +%H)
	run_vmm legacy --kernel "$g" --memory 16
	h1=$(date -u +%H)
	[ "$h0" = "$h1" ] && break	# retry once across an hour boundary
done
[ "$status" -eq 69 ] || fail "legacy guest: exit status $status, want 69; $(cat "$T/legacy.err")"
out=$(tr '\n' ' ' <"$T/legacy.out")
expect() {
	grep -q "^$1=$2\$" "$T/legacy.out" || fail "$1: want $2; guest read: $out"
}
expect SCR 5a
expect IER 0f
expect MSRLOOP 90
expect LSRLOOP 61
expect LOOPDATA 5a
expect IIR c1
expect DLL 0c
expect LCR 03
expect RTCA 26
expect RTCB 02
expect RTCD 80
expect BCDHOUR "$h1"
expect BCDYEAR "$(date -u +%y)"
expect CENTURY "$(date -u +%C)"
expect BINHOUR "$(printf %02x "$(date -u +%-H)")"
expect KBDTEST 55
bm=$(sed -n 's/^BCDMIN=//p' "$T/legacy.out")
xm=$(sed -n 's/^BINMIN=//p' "$T/legacy.out")
[ $((0x$xm)) -eq $(( ${bm%?} * 10 + ${bm#?} )) ] || [ $((0x$xm)) -eq $(( (${bm%?} * 10 + ${bm#?} + 1) % 60 )) ] ||
	fail "binary minutes 0x$xm do not match BCD minutes $bm"
echo "ok: UART probe, RTC BCD/binary, i8042 self test"
