#!/bin/sh
# A console reader that never reads must never stall the guest: the guest
# floods the UART, the stalled reader is dropped once it falls a whole
# scrollback ring (1 MiB) behind, and readers that do read keep getting data.
# One level down every byte the guest writes is an exit to berth-vmm, a few
# thousand a second: there the ring is 16 KiB (--scrollback), so the test
# proves the same thing in a minute instead of ten.
. "$top_srcdir/tests/vmm/lib.sh"
ring_kib=1024
[ -n "$BERTH_NESTED_INNER" ] && ring_kib=16
# One level down the emulated SVM has triple-faulted this guest, which runs
# without an IDT, seconds into a run (and the counter guest in control.sh);
# berth-vmm reports it as a reset.  There, and only for that, the scenario
# runs once more on a fresh VMM, and the log says so.
scenario() {
	trap 'kill $spid 2>/dev/null; cleanup' EXIT
	start_vmm "$1" --kernel "$(guest flood)" --memory 16 --scrollback $ring_kib
	timeout 1200 "$VMMCTL" stall "$RUN/console.sock" 1000 &
	spid=$!
	sleep 1
	tx0=$(json_get "$(ctl stats)" serial_tx_bytes)
	# Wait until the reader is dropped (the ring and the socket's buffer, about
	# 1.3 MiB of output with the default ring).
	i=0
	while :; do
		s=$(ctl stats) || fail "stats failed"
		[ "$(json_get "$s" console_readers_dropped)" -ge 1 ] && break
		i=$((i + 1))
		[ $i -lt $((90 * ${BERTH_TIME_SCALE:-1})) ] || fail "stalled reader never dropped; stats: $s"
		sleep 1
	done
	tx1=$(json_get "$s" serial_tx_bytes)
	# The stalled reader was connected from the first byte; the guest wrote more
	# than the whole ring past it, so it never waited for that reader.
	[ "$tx1" -gt $((ring_kib << 10)) ] || fail "guest output stalled behind the reader ($tx0 -> $tx1 bytes)"
	tx_past() { [ "$(json_get "$(ctl stats)" serial_tx_bytes)" -gt "$1" ]; }
	wait_for 10 tx_past "$tx1" ||
		fail "guest stopped writing after the reader was dropped (still $tx1 bytes)"
	# A reader that reads still gets live output.
	n=$(timeout 10 "$VMMCTL" console "$RUN/console.sock" 2 | wc -c)
	[ "$n" -gt 1000 ] || fail "a reading client gets no output ($n bytes)"
	# A reader that disconnects mid-stream (EPIPE) does not hurt either.
	for i in 1 2 3 4 5; do timeout 5 "$VMMCTL" console "$RUN/console.sock" 0 >/dev/null; done
	alive "$VMM_PID" || { cat "$T/$1.err"; fail "VMM died"; }
	kill $spid 2>/dev/null
	ctl kill >/dev/null
	wait_vmm
	echo "ok: stalled reader dropped after $(( (tx1 - tx0) / 1024 )) KiB, guest never blocked"
}
if ! (scenario flood); then
	nested_guest_fault flood || exit 1
	echo "slow-reader: the guest triple-faulted one level down (above); running the scenario again"
	(scenario flood2) || exit 1
fi
