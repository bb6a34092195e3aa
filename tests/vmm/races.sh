#!/bin/sh
# The control thread reads what vCPU threads write (exit counters, run time,
# UART byte counts) and drives the pause barrier while the guest floods the
# console and a reader attaches.  Under a ThreadSanitizer build (configure
# CFLAGS=-fsanitize=thread LDFLAGS=-fsanitize=thread) any data race in those
# paths is reported on berth-vmm's stderr, and this test fails on it; in
# other builds it checks that stats, pause/resume and console attach keep
# working under load.
. "$top_srcdir/tests/vmm/lib.sh"
scenario() {
	start_vmm "$1" --kernel "$(guest flood)" --memory 16 --cpus 2
	i=0
	while [ $i -lt 20 ]; do
		ctl stats >/dev/null || fail "stats $i failed"
		ctl pause >/dev/null || fail "pause $i failed"
		ctl stats >/dev/null || fail "stats while paused failed"
		ctl resume >/dev/null || fail "resume $i failed"
		i=$((i + 1))
	done
	n=$(timeout 10 "$VMMCTL" console "$RUN/console.sock" 1 | wc -c)
	[ "$n" -gt 0 ] || fail "no console output under load"
	ctl kill >/dev/null
	wait_vmm
	if grep -q "Sanitizer" "$T/$1.err"; then
		sed -n '/Sanitizer/,+12p' "$T/$1.err" | head -n 40
		fail "a sanitizer reported a problem (above)"
	fi
}
if ! (scenario races); then
	# a VMM the failed subshell started is not in this shell's $VMM_PIDS
	kill -9 "$(cat "$T/run-races/vmm.pid" 2>/dev/null)" 2>/dev/null
	nested_guest_fault races || exit 1
	echo "races: the guest triple-faulted one level down (above); running the scenario again"
	(scenario races2) || exit 1
fi
echo "ok: 20 rounds of stats and pause/resume under a console flood"
