#!/bin/sh
# ctl.sock: info, stats, pause/resume (the guest's output stops and restarts),
# unknown ops, garbage from peers (the VMM keeps serving), events for
# subscribers, a client that vanishes mid-request (no SIGPIPE), then
# shutdown with a timeout that forces the guest off.
. "$top_srcdir/tests/vmm/lib.sh"
# The guest writes the UART without pause (the flood guest): its byte count
# stops while paused and grows again after resume.  (The busy-looping
# counter guest is not used here: one level down, under a loaded host, the
# emulated SVM under it has triple-faulted it and left it unscheduled.)
start_vmm ctr --kernel "$(guest flood)" --memory 32 --cpus 2

info=$(ctl info) || fail "info failed"
[ "$(json_get "$info" name)" = ctr ] || fail "info name: $info"
[ "$(json_get "$info" state)" = running ] || fail "info state: $info"
[ "$(json_get "$info" vcpus)" = 2 ] || fail "info vcpus: $info"
[ "$(json_get "$info" pid)" = "$VMM_PID" ] || fail "info pid: $info"
[ "$(cat "$RUN/vmm.pid")" = "$VMM_PID" ] || fail "vmm.pid does not hold the VMM's pid"

# The system-call filter is on (unless this is a sanitizer build).
if grep -q "seccomp filter installed" "$T/ctr.err"; then
	grep -q "^Seccomp:[[:space:]]*2" "/proc/$VMM_PID/status" || fail "seccomp filter not active"
else
	grep -q "seccomp filter off" "$T/ctr.err" || fail "log does not say whether seccomp is on"
fi

tx() { json_get "$(ctl stats)" serial_tx_bytes; }
tx_past() { [ "$(tx)" -gt "$1" ]; }
wait_for 10 tx_past 10000 || fail "the guest does not write: $(ctl stats)"

# Pause: the output stops.
r=$(ctl pause) || fail "pause failed"
[ "$(json_get "$r" state)" = paused ] || fail "pause reply: $r"
a=$(tx)
sleep 1.5
b=$(tx)
[ "$a" = "$b" ] || fail "the guest wrote while paused ($a -> $b bytes)"
[ "$(json_get "$(ctl info)" state)" = paused ] || fail "info does not say paused"
ctl pause >/dev/null || fail "pausing a paused VM must succeed"
# Resume: it writes again.  (One level down a loaded host may not run the
# guest for seconds: wait for the count to pass b, within a hang limit.)
r=$(ctl resume) || fail "resume failed"
[ "$(json_get "$r" state)" = running ] || fail "resume reply: $r"
wait_for 20 tx_past "$b" || fail "the guest did not write after resume (still $b bytes); $(ctl stats)"

# Stats: per-vCPU times and exits by reason, memory sizes.
s=$(ctl stats) || fail "stats failed"
for k in cpu_time_ns vcpu_run_ns memory_bytes memory_resident_bytes vmm_rss_bytes pio_unclaimed exits; do
	echo "$s" | grep -q "\"$k\":" || fail "stats lacks $k: $s"
done
[ "$(json_get "$s" memory_bytes)" = $((32 << 20)) ] || fail "memory_bytes: $s"
echo "$s" | grep -q '"exits_by_reason":{[^}]*"io":[1-9]' || fail "no io exits counted: $s"
echo "$s" | grep -q '"id":1' || fail "second vCPU missing from stats: $s"
[ "$(json_get "$s" vmm_rss_bytes)" -gt 0 ] || fail "vmm_rss_bytes is 0"

# Unknown op: an error, not a crash.
out=$(ctl frobnicate 2>&1) && fail "unknown op succeeded: $out"
echo "$out" | grep -q notsup || fail "unknown op error: $out"
out=$(ctl shutdown '{"timeout_s":"soon"}' 2>&1) && fail "shutdown with a bad argument succeeded"

# Garbage on the control socket: the VMM keeps serving.
timeout 30 "$VMMCTL" garbage "$RUN/ctl.sock" >/dev/null || fail "VMM stopped answering after garbage"
alive "$VMM_PID" || fail "VMM died from garbage"

# A client that sends a request and leaves before the reply: no SIGPIPE.
for i in 1 2 3 4 5 6 7 8; do
	timeout 2 "$VMMCTL" hit "$RUN/ctl.sock"
	timeout 2 "$VMMCTL" console "$RUN/console.sock" 0 >/dev/null
done
alive "$VMM_PID" || fail "VMM died when peers vanished (SIGPIPE?)"

# Events: a subscriber sees the shutdown and the final state.
timeout 30 "$VMMCTL" events "$RUN/ctl.sock" 2 20 >"$T/events" &
epid=$!
wait_for 10 grep -q subscribed "$T/events" || fail "could not subscribe"
r=$(ctl shutdown '{"timeout_s":1}') || fail "shutdown failed"
[ "$(json_get "$r" method)" = ctrl-alt-del ] || fail "shutdown reply: $r"
wait_vmm
[ "$st" -eq 0 ] || fail "forced-off shutdown: exit status $st, want 0"
wait $epid
grep -q '"state":"shutdown"' "$T/events" || fail "no shutdown state event: $(cat "$T/events")"
grep -q '"state":"stopped"' "$T/events" || fail "no stopped state event: $(cat "$T/events")"
grep -q 'forced off' "$T/ctr.err" || fail "log does not say the guest was forced off"

# kill: immediate stop, exit status 0.
start_vmm ctr2 --kernel "$(guest counter)" --memory 16
ctl kill >/dev/null || fail "kill failed"
wait_vmm
[ "$st" -eq 0 ] || fail "kill: exit status $st, want 0"
# SIGTERM: same.
start_vmm ctr3 --kernel "$(guest counter)" --memory 16
kill -TERM $VMM_PID
wait_vmm
[ "$st" -eq 0 ] || fail "SIGTERM: exit status $st, want 0"
# A Linux panic message on the console becomes a "panic" event (the guest
# panics when it reads a byte).
start_vmm pan --kernel "$(guest panic)" --memory 16
timeout 30 "$VMMCTL" events "$RUN/ctl.sock" 1 15 >"$T/pevents" &
epid=$!
wait_for 10 grep -q subscribed "$T/pevents" || fail "could not subscribe"
timeout 10 "$VMMCTL" console "$RUN/console.sock" 5 "Kernel" "!" >/dev/null || fail "panic guest did not print"
wait $epid
grep -q '"event":"panic".*kernel panic' "$T/pevents" || fail "no panic event: $(cat "$T/pevents")"
ctl kill >/dev/null
wait_vmm
echo "ok: info, pause/resume, stats, errors, garbage, events, shutdown, kill"
