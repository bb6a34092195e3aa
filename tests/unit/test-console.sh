#!/bin/sh
# test-console.sh - `berth console` end to end on a berth-vmm VM running the
# echo guest: --send/--expect for scripts, an expectation that times out,
# a raw attach in a real terminal (tmux) where typed bytes reach the guest
# and Ctrl-] detaches with the terminal restored, SIGTERM while attached
# (terminal restored too), and a console whose peer vanishes (the VM is
# killed) ending the attach instead of hanging.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_kvm
need_cmd tmux pgrep
guest="$top_builddir/tests/guests/echo.bzImage"
[ -r "$guest" ] || fail "echo guest not built: $guest"
out=$BERTH_TEST_TMP/out
scale=${BERTH_TIME_SCALE:-1}
sock="berth-console-$$"
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null
	$BERTH kill echo-con >/dev/null 2>&1
	$BERTH undefine echo-con >/dev/null 2>&1
}

printf '{"name": "echo-con", "kernel": "%s", "memory_mib": 32, "vcpus": 1}\n' "$guest" \
	> "$BERTH_TEST_TMP/vm.json"
$BERTH define --start "$BERTH_TEST_TMP/vm.json" > "$out" 2>&1 || fail "define --start: $(cat "$out")"

# Scripted use: send, wait for the echo.
$BERTH console echo-con --expect "ECHO READY" --timeout $((20 * scale)) --no-stdin > "$out" 2>&1 \
	|| fail "the guest's banner was not seen: $(cat "$out")"
$BERTH console echo-con --send 'ping-4711\r' --expect ping-4711 --timeout $((10 * scale)) < /dev/null > "$out" 2>&1 \
	|| fail "--send/--expect round trip: $(cat "$out")"
$BERTH console echo-con --expect NEVER-SEEN --timeout 1 --no-stdin > "$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "an expectation that times out exits 1, got $rc"
grep -q "NEVER-SEEN' not seen in time" "$out" || fail "the timeout is explained: $(cat "$out")"

# Interactive use in a terminal.
env_line="BERTH_RUN_DIR='$BERTH_RUN_DIR' BERTH_DATA_DIR='$BERTH_DATA_DIR' BERTH_CONFIG_DIR='$BERTH_CONFIG_DIR' BERTH_NO_DEFAULT_LIBVIRT=1 BERTH_VMM='$BERTH_VMM'"
tmux -L "$sock" new-session -d -x 80 -y 24 "env $env_line sh" || fail "tmux"
screen() { tmux -L "$sock" capture-pane -p; }
tmux -L "$sock" send-keys "stty -a > $BERTH_TEST_TMP/stty.before; $BERTH console echo-con" Enter
wait_for 10 sh -c "tmux -L $sock capture-pane -p | grep -q 'detach with Ctrl-\]'" || fail "attach message: $(screen)"
tmux -L "$sock" send-keys "typed-9876"
wait_for 10 sh -c "tmux -L $sock capture-pane -p | grep -q 'typed-9876'" || fail "typed bytes echoed by the guest: $(screen)"
tmux -L "$sock" send-keys C-]
wait_for 10 sh -c "tmux -L $sock capture-pane -p | grep -q 'detached from'" || fail "Ctrl-] detaches: $(screen)"
tmux -L "$sock" send-keys "stty -a > $BERTH_TEST_TMP/stty.after; echo STTY-DONE" Enter
wait_for 10 test -s "$BERTH_TEST_TMP/stty.after" || fail "shell usable after detach: $(screen)"
sleep 0.3
cmp -s "$BERTH_TEST_TMP/stty.before" "$BERTH_TEST_TMP/stty.after" \
	|| fail "terminal settings restored after detach: $(diff "$BERTH_TEST_TMP/stty.before" "$BERTH_TEST_TMP/stty.after")"

# SIGTERM while attached restores the terminal too.
rm -f "$BERTH_TEST_TMP/stty.after"
tmux -L "$sock" send-keys "$BERTH console echo-con; stty -a > $BERTH_TEST_TMP/stty.after" Enter
wait_for 10 pgrep -f "berth console echo-con" || fail "console running"
sleep 0.5
pkill -TERM -f "berth console echo-con"
wait_for 10 test -s "$BERTH_TEST_TMP/stty.after" || fail "shell continues after SIGTERM: $(screen)"
sleep 0.3
cmp -s "$BERTH_TEST_TMP/stty.before" "$BERTH_TEST_TMP/stty.after" \
	|| fail "terminal restored after SIGTERM: $(diff "$BERTH_TEST_TMP/stty.before" "$BERTH_TEST_TMP/stty.after")"

# The peer vanishes: the attach ends by itself.
$BERTH console echo-con --no-stdin > "$out" 2>&1 &
con=$!
sleep 1
kill -0 $con 2>/dev/null || fail "console exited early: $(cat "$out")"
$BERTH kill echo-con > /dev/null 2>&1 || fail "kill the VM"
i=0
while kill -0 $con 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt $((100 * scale)) ] && { kill $con; fail "console still attached $((10 * scale)) s after its VM was killed"; }
	sleep 0.1
done
wait $con
exit 0
