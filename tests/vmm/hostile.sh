#!/bin/sh
# berth-vmm against a hostile guest and hostile inputs: a guest that prints
# Linux panic lines in a loop cannot flood vmm.log (which lives in the run
# directory, usually a tmpfs) or the subscribers with one line and one event
# per panic; a kernel, initrd or configuration "file" that is a FIFO (or
# /dev/zero) is refused at once instead of hanging berth-vmm before it serves
# anything.
. "$top_srcdir/tests/vmm/lib.sh"

# Panic flood: thousands of panic lines, a bounded number of reports.
start_vmm pflood --kernel "$(guest panicflood)" --memory 16
timeout 300 "$VMMCTL" events "$RUN/ctl.sock" 100000 300 >"$T/pf-events" &
epid=$!
wait_for 10 grep -q subscribed "$T/pf-events" || fail "could not subscribe"
# Every panic line is 34 bytes; a slow host (one level down, every port
# write an exit) takes longer to print thousands of them.
i=0
while :; do
	s=$(ctl stats) || fail "stats failed"
	tx=$(json_get "$s" serial_tx_bytes)
	lines=$((tx / 34))
	[ "$lines" -gt 3000 ] && break
	i=$((i + 1))
	[ $i -lt 240 ] || fail "the guest printed only $tx bytes in 240 s; the test needs thousands of panic lines"
	sleep 1
done
alive "$VMM_PID" || fail "VMM died under a panic flood"
# The subscriber ends (flushing what it got) when the VMM goes away.
ctl kill >/dev/null
wait_vmm
wait $epid
logged=$(grep -c "printed a kernel panic" "$T/pflood.err")
events=$(grep -c '"event":"panic"' "$T/pf-events")
# 10 + one per power of two: ~10 + log2(lines) reports.
[ "$logged" -ge 1 ] || fail "no panic logged at all"
[ "$logged" -le 40 ] || fail "$logged log lines for about $lines panics: the guest can flood vmm.log"
[ "$events" -le 40 ] || fail "$events panic events for about $lines panics: the guest can flood subscribers"
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
