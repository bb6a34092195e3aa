#!/bin/sh
# berth-vmm against a hostile guest and hostile inputs: a guest that prints
# Linux panic lines in a loop cannot flood vmm.log (which lives in the run
# directory, usually a tmpfs) or the subscribers with one line and one event
# per panic; a kernel, initrd or configuration "file" that is a FIFO (or
# /dev/zero) is refused at once instead of hanging berth-vmm before it serves
# anything.
. "$top_srcdir/tests/vmm/lib.sh"

# Panic flood: hundreds of panic lines, a bounded number of reports.
start_vmm pflood --kernel "$(guest panicflood)" --memory 16
timeout $((300 * ${BERTH_TIME_SCALE:-1})) "$VMMCTL" events "$RUN/ctl.sock" 100000 $((300 * ${BERTH_TIME_SCALE:-1})) >"$T/pf-events" &
epid=$!
wait_for 10 grep -q subscribed "$T/pf-events" || fail "could not subscribe"
# Every panic line is 34 bytes. One level down every port write is an exit
# of the emulated SVM and a loaded host has printed under 100 bytes a second,
# so the test asks for 400 lines: unlimited reporting would give 400 log
# lines, the limit gives at most 10 + 1 + log2(400) = 19.
printed() {
	s=$(ctl stats) || return 1
	tx=$(json_get "$s" serial_tx_bytes)
	[ "$((tx / 34))" -ge 400 ] && return 0
	sleep 1	# each stats is a process and a request: not ten a second
	return 1
}
wait_for 120 printed || fail "the guest printed only $tx bytes in $((120 * ${BERTH_TIME_SCALE:-1})) s; the test needs 400 panic lines"
s=$(ctl stats) || fail "stats failed"
lines=$(($(json_get "$s" serial_tx_bytes) / 34))
alive "$VMM_PID" || fail "VMM died under a panic flood"
# The subscriber ends (flushing what it got) when the VMM goes away.
ctl kill >/dev/null
wait_vmm
wait $epid
logged=$(grep -c "printed a kernel panic" "$T/pflood.err")
events=$(grep -c '"event":"panic"' "$T/pf-events")
# One report for each of the first 10 panics, then one per power of two:
# at most 10 + 1 + log2(panics), counted from the guest's bytes at the kill
# (it printed more since the last stats, hence the margin of 4).
log2=0 n=$lines
while [ "$n" -gt 1 ]; do n=$((n / 2)); log2=$((log2 + 1)); done
max=$((10 + 1 + log2 + 4))
[ "$logged" -ge 1 ] || fail "no panic logged at all"
[ "$logged" -le "$max" ] || fail "$logged log lines for about $lines panics (want <= $max): the guest can flood vmm.log"
[ "$events" -le "$max" ] || fail "$events panic events for about $lines panics (want <= $max): the guest can flood subscribers"
grep -q '"count":' "$T/pf-events" || fail "panic events do not carry the count: $(head -n 3 "$T/pf-events")"

# A FIFO as kernel: refused with status 4 and a reason, never a hang.
mkfifo "$T/kernel.fifo"
VMM_TIMEOUT=10 run_vmm fifo --kernel "$T/kernel.fifo"
[ "$status" -eq 4 ] || fail "kernel FIFO: exit status $status, want 4 (137 means it hung): $(cat "$T/fifo.err")"
grep -q "not a regular file" "$T/fifo.err" || fail "kernel FIFO: no reason given: $(cat "$T/fifo.err")"
mkfifo "$T/initrd.fifo"
VMM_TIMEOUT=10 run_vmm fifo2 --kernel "$(guest hello)" --initrd "$T/initrd.fifo"
[ "$status" -eq 4 ] || fail "initrd FIFO: exit status $status, want 4: $(cat "$T/fifo2.err")"
# A FIFO or /dev/zero as configuration: a usage error at once.
mkfifo "$T/config.fifo"
VMM_TIMEOUT=10 run_vmm cfifo --config "$T/config.fifo"
[ "$status" -eq 2 ] || fail "config FIFO: exit status $status, want 2 (137 means it hung): $(cat "$T/cfifo.err")"
VMM_TIMEOUT=10 run_vmm czero --config /dev/zero
[ "$status" -eq 2 ] || fail "config /dev/zero: exit status $status, want 2: $(cat "$T/czero.err")"
grep -q "not a regular file" "$T/czero.err" || fail "config /dev/zero: no reason given: $(cat "$T/czero.err")"
# A pipe that does carry a configuration still works (--config <(...)).
echo '{"memory_mib": 16}' | timeout -s KILL 20 "$BERTH_VMM" --name cpipe --run-dir "$T/run-cpipe" \
	--config /dev/stdin --kernel "$(guest hello)" >"$T/cpipe.out" 2>"$T/cpipe.err"
status=$?
[ "$status" -eq $(((0x2a << 1 | 1) & 0xff)) ] || fail "config through a pipe: exit status $status: $(cat "$T/cpipe.err")"
grep -q "16 MiB" "$T/cpipe.err" || fail "config through a pipe not applied: $(cat "$T/cpipe.err")"
echo "ok: $logged log lines and $events events for about $lines panics; FIFO images refused"
