#!/bin/sh
# Terminal and non-terminal I/O through the monitor: a PTY for terminal
# containers, pipes otherwise; console.sock replays the scrollback on attach,
# serves several readers and one writer; a reader that never reads does not
# stall the container; the log is size-capped; `run` in the foreground with a
# terminal passes input and the exit status through.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
cleanup() { ctr_cleanup_all; }
B=$BERTH_TEST_TMP/bundle
make_bundle "$B"

# Terminal container, detached: an interactive shell on a PTY.
C_TERMINAL=true C_ARGS='["sh", "-c", "echo early-output; [ -t 0 ] && [ -t 1 ] && echo is-a-tty; echo tty=$(tty); exec sh"]' \
	write_config "$B"
timeout 20 $CTR run -d -b "$B" tty1 || fail "run -d tty1 failed"
sleep 0.5
# A first reader that only listens, then a writer that types a command.
( sleep 3 ) | timeout 5 $CTR attach tty1 > "$BERTH_TEST_TMP/reader1" 2>&1 &
r1=$!
out=$( (sleep 0.5; echo 'echo hi-$((40+2))'; sleep 1) | timeout 5 $CTR attach tty1 2>&1)
echo "$out" | grep -q "early-output" || fail "scrollback not replayed on attach: $out"
echo "$out" | grep -q "is-a-tty" || fail "stdio is not a terminal in a terminal container: $out"
# The terminal comes from the container's own devpts, so ttyname works.
echo "$out" | grep -q "tty=/dev/pts/0" || fail "tty inside: expected /dev/pts/0 of the container's devpts: $out"
echo "$out" | grep -q "hi-42" || fail "typed command did not run: $out"
wait $r1
grep -q "hi-42" "$BERTH_TEST_TMP/reader1" || fail "a second reader did not see the output: $(cat "$BERTH_TEST_TMP/reader1")"
# Resize goes to the terminal.
$CTR ctl tty1 resize '{"rows": 33, "cols": 101}' >/dev/null || fail "resize failed"
out=$( (sleep 0.3; echo 'stty size'; sleep 1) | timeout 5 $CTR attach tty1 2>&1)
echo "$out" | grep -q "33 101" || fail "resize not seen by stty: $out"
# exec --tty: a terminal of the container's devpts too (script gives us one).
if command -v script >/dev/null 2>&1; then
	out=$(timeout 10 script -qc "$CTR exec -t tty1 -- sh -c 'tty; [ -t 0 ] && echo exec-tty'" /dev/null </dev/null)
	echo "$out" | grep -q "/dev/pts/[0-9]" || fail "exec -t: tty inside: $out"
	echo "$out" | grep -q "exec-tty" || fail "exec -t: stdin is not a terminal: $out"
fi
timeout 20 $CTR delete -f tty1

# Non-terminal container, detached: stdin/stdout are pipes held by the monitor.
C_TERMINAL=false C_ARGS='["sh", "-c", "echo ready; read line; echo got:$line; sleep 30"]' write_config "$B"
timeout 20 $CTR run -d -b "$B" pipe1 || fail "run -d pipe1 failed"
out=$( (sleep 0.3; echo piped-in; sleep 1) | timeout 5 $CTR attach pipe1 2>&1)
echo "$out" | grep -q "got:piped-in" || fail "input did not reach stdin: $out"
timeout 20 $CTR delete -f pipe1

# A reader that never reads does not stall the container; the log is capped.
C_ARGS='["sh", "-c", "sleep 1; yes 0123456789abcdef0123456789abcdef | head -c 4000000; echo; echo finished-output; sleep 30"]' \
	write_config "$B"
timeout 20 $CTR run -d -b "$B" flood || fail "run -d flood failed"
$CTR attach flood 2>/dev/null | sleep 25 &
stalled=$!
wait_for 15 sh -c "$CTR logs flood | grep -q finished-output" || fail "output stalled behind a reader that does not read"
size=$(stat -c %s "$CTR_ROOT/flood/container.log")
[ "$size" -le 1048576 ] || fail "log not capped: $size bytes"
[ -f "$CTR_ROOT/flood/container.log.1" ] || fail "log not rotated"
kill $stalled 2>/dev/null
timeout 20 $CTR delete -f flood

# Foreground run with a terminal: input from our stdin, status passed back.
C_TERMINAL=true C_ARGS='["sh"]' write_config "$B"
out=$( (sleep 0.5; echo 'echo fg-$((6*7)); exit 3') | timeout 20 $CTR run -b "$B" fg1 2>&1); rc=$?
[ "$rc" -eq 3 ] || fail "foreground terminal run: expected exit 3, got $rc ($out)"
echo "$out" | grep -q "fg-42" || fail "foreground terminal output: $out"
exit 0
