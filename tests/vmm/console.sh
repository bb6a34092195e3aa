#!/bin/sh
# console.sock: input reaches the guest's UART (echo guest), output is
# fanned out to every reader, a new reader gets the scrollback replayed, and
# only one client at a time owns the input.
. "$top_srcdir/tests/vmm/lib.sh"
start_vmm echo --kernel "$(guest echo)" --memory 16
sock="$RUN/console.sock"

out=$(timeout 20 "$VMMCTL" console "$sock" 10 "ECHO READY") || fail "no ECHO READY on the console: $out"
# A late reader sees the banner again: the scrollback is replayed on attach.
out=$(timeout 20 "$VMMCTL" console "$sock" 5 "ECHO READY") || fail "scrollback not replayed to a new reader: $out"

# A reader holds the console open while a writer types; the reader sees the echo too.
# (one level down a loaded host can leave the guest unscheduled for seconds)
w=$((10 * ${BERTH_TIME_SCALE:-1}))
timeout $((w + 10)) "$VMMCTL" console "$sock" $w "hello-berth" >"$T/reader.out" &
rpid=$!
sleep 0.5
# The first reader never wrote, so the writer takes the input.
out=$(timeout $((w + 10)) "$VMMCTL" console "$sock" $w "hello-berth" "hello-berth") || fail "echo did not come back: $out"
wait $rpid || fail "second reader did not see the echoed text: $(cat "$T/reader.out")"

# One writer at a time: A types first and keeps the console open; B's input
# is refused with a note and counted, and never reaches the guest.
timeout 20 "$VMMCTL" console "$sock" 6 "" "a" >"$T/a.out" &
apid=$!
sleep 1
out=$(timeout 20 "$VMMCTL" console "$sock" 4 "another client owns" "intruder") || fail "second writer got no refusal note: $out"
ctl stats | grep -q '"console_input_refused":[1-9]' || fail "refused input not counted: $(ctl stats)"
wait $apid
grep -q "intruder" "$T/a.out" && fail "refused input reached the guest"

# 'q' makes the echo guest exit with code 0x11 -> status 35.
timeout 20 "$VMMCTL" console "$sock" 3 "" "q" >/dev/null
wait_vmm
[ "$st" -eq 35 ] || fail "echo guest: exit status $st, want 35"
# --console stdio on a terminal: raw mode, keys reach the guest, Ctrl-A x stops.
if command -v script >/dev/null 2>&1; then
	(sleep 1; printf 'typed'; sleep 1; printf '\001x') | timeout 20 script -qfec \
		"'$BERTH_VMM' --name tty --run-dir '$T/run-tty' --kernel '$(guest echo)' --memory 16 --console stdio" \
		/dev/null >"$T/tty.out" 2>&1
	st=$?
	[ "$st" -eq 0 ] || fail "Ctrl-A x: exit status $st, want 0: $(cat "$T/tty.out")"
	grep -q "typed" "$T/tty.out" || fail "keys typed on the terminal did not reach the guest: $(cat "$T/tty.out")"
	grep -q "Ctrl-A x" "$T/tty.out" || fail "log does not say Ctrl-A x stopped the VM"
else
	echo "note: script(1) missing, terminal mode not tested"
fi
echo "ok: console input, fan-out, scrollback, single writer, terminal mode"
