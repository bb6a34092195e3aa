#!/bin/sh
# limits.sh: scripts are interruptible and bounded - `while true do end`
# stops within 1 s of SIGINT (exit 130) and at a --timeout; an instruction
# budget stops a loop, a backtracking pattern and a long
# table.sort (both run in C); a memory bomb stops at --max-memory.
. "$top_srcdir/tests/lib/sh-helpers.sh"
out=$BERTH_TEST_TMP/out
ms() { date +%s%3N; }

# SIGINT.
"$BERTH" run -e 'while true do end' >"$out" 2>&1 &
pid=$!
sleep 0.5
kill -0 $pid 2>/dev/null || fail "the loop ended by itself: $(cat "$out")"
sigint_and_wait $pid 50 "the loop"
[ $sigint_ms -le 1000 ] || fail "SIGINT took $sigint_ms ms to stop the loop (limit 1000)"
[ $sigint_rc -eq 130 ] || fail "exit after SIGINT: $sigint_rc, want 130"
grep -q "interrupted" "$out" || fail "no 'interrupted' message: $(cat "$out")"
echo "SIGINT stopped the loop in $sigint_ms ms"

# SIGINT while the script sleeps in the event loop.
"$BERTH" run -e 'berth.sleep(60)' >"$out" 2>&1 &
pid=$!
sleep 0.5
t0=$(ms)
kill -INT $pid
wait $pid
rc=$?
t1=$(ms)
[ $rc -eq 130 ] || fail "exit after SIGINT in berth.sleep: $rc, want 130"
[ $((t1 - t0)) -le 1000 ] || fail "SIGINT in berth.sleep took $((t1 - t0)) ms"

# Time budget.
t0=$(ms)
timeout 10 "$BERTH" run --timeout 0.5 -e 'while true do end' >"$out" 2>&1
rc=$?
t1=$(ms)
[ $rc -eq 1 ] || fail "--timeout: exit $rc, want 1"
grep -q "time limit of 0.5 s reached" "$out" || fail "--timeout: unexpected message: $(cat "$out")"
[ $((t1 - t0)) -le 1500 ] || fail "--timeout 0.5 took $((t1 - t0)) ms"

# pcall cannot swallow the limit.
timeout 10 "$BERTH" run --timeout 0.3 -e 'while true do pcall(function() while true do end end) end' >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "pcall around a limited loop: exit $rc, want 1 ($(cat "$out"))"

# Instruction budget.
timeout 10 "$BERTH" run --max-instructions 200000 -e 'local n = 0 while true do n = n + 1 end' >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--max-instructions: exit $rc, want 1"
grep -q "instruction budget of 200000 exhausted" "$out" || fail "--max-instructions: $(cat "$out")"
timeout 10 "$BERTH" run --max-instructions 200000 -e 'local n = 0 for i = 1, 1000 do n = n + i end return n == 500500 and 0 or 1' >"$out" 2>&1 ||
	fail "a small script within the budget failed: $(cat "$out")"

# table.sort without an order function compares in C too: berth's own sort
# counts its comparisons against the budget (the building loop alone fits).
build='local t = {} for i = 1, 100000 do t[i] = (i * 7919) % 100003 end'
timeout 20 "$BERTH" run --max-instructions 1500000 -e "$build return 0" >"$out" 2>&1 ||
	fail "building the list alone should fit the budget: $(cat "$out")"
timeout 20 "$BERTH" run --max-instructions 1500000 -e "$build table.sort(t) return 0" >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--max-instructions during table.sort: exit $rc, want 1 ($(cat "$out"))"
grep -q "instruction budget of 1500000 exhausted" "$out" && grep -q "table.sort" "$out" ||
	fail "--max-instructions during table.sort: $(cat "$out")"

# A backtracking pattern runs in C, where the debug hook never fires: berth's
# own string.find/match/gmatch/gsub check for stops while they match.
bomb='return ("a"):rep(40):find(("a*"):rep(40) .. "b")'
t0=$(ms)
timeout 20 "$BERTH" run --timeout 0.5 -e "$bomb" >"$out" 2>&1
rc=$?
t1=$(ms)
[ $rc -eq 1 ] || fail "--timeout during string.find: exit $rc, want 1 ($(cat "$out"))"
grep -q "time limit of 0.5 s reached" "$out" || fail "--timeout during string.find: $(cat "$out")"
[ $((t1 - t0)) -le 1500 ] || fail "--timeout 0.5 during string.find took $((t1 - t0)) ms"
timeout 20 "$BERTH" run --max-instructions 1000000 -e "return (('a'):rep(40):gsub(('a-'):rep(30) .. 'b', 'x'))" >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--max-instructions during string.gsub: exit $rc, want 1"
grep -q "instruction budget of 1000000 exhausted" "$out" || fail "--max-instructions during gsub: $(cat "$out")"
timeout 20 "$BERTH" run --sandbox --timeout 0.5 -e "$bomb" >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "time limit" "$out" || fail "--sandbox --timeout during string.find: exit $rc ($(cat "$out"))"
"$BERTH" run -e "$bomb" >"$out" 2>&1 &
pid=$!
sleep 0.5
kill -0 $pid 2>/dev/null || fail "the pattern ended by itself: $(cat "$out")"
sigint_and_wait $pid 50 "string.find"
[ $sigint_rc -eq 130 ] || fail "exit after SIGINT in string.find: $sigint_rc, want 130"
[ $sigint_ms -le 1000 ] || fail "SIGINT took $sigint_ms ms to stop string.find (limit 1000)"
got=$("$BERTH" run -e 'local k, v = ("name = web1"):match("(%w+)%s*=%s*(%w+)") print(k, v, ("a,b,,c"):gsub(",", ";"))')
[ "$got" = "$(printf 'name\tweb1\ta;b;;c\t3')" ] || fail "ordinary patterns: got '$got'"

# Memory cap.
timeout 20 "$BERTH" run --max-memory 32M -e 'local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end' >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--max-memory: exit $rc, want 1"
grep -q "memory limit of 32768 KiB reached" "$out" || fail "--max-memory: unexpected message: $(cat "$out")"
timeout 20 "$BERTH" run --max-memory 32M -e 'local t = {} for i = 1, 1000 do t[i] = string.rep("x", 1000) .. i end' >"$out" 2>&1 ||
	fail "a small allocation within the cap failed: $(cat "$out")"

# Exit status from the script.
"$BERTH" run -e 'os.exit(7)'; rc=$?
[ $rc -eq 7 ] || fail "os.exit(7): exit $rc"
"$BERTH" run -e 'pcall(os.exit, 5) return 0'; rc=$?
[ $rc -eq 5 ] || fail "os.exit inside pcall: exit $rc, want 5"
echo 'return 3' >"$BERTH_TEST_TMP/ret.lua"
"$BERTH" run "$BERTH_TEST_TMP/ret.lua"; rc=$?
[ $rc -eq 3 ] || fail "returned 3: exit $rc"
echo 'print(arg[0] ~= nil, arg[1], arg[2], select("#", ...))' >"$BERTH_TEST_TMP/args.lua"
got=$("$BERTH" run "$BERTH_TEST_TMP/args.lua" one two)
[ "$got" = "$(printf 'true\tone\ttwo\t2')" ] || fail "arg table: got '$got'"
echo 'local function f() error("deep problem") end f()' >"$BERTH_TEST_TMP/err.lua"
"$BERTH" run "$BERTH_TEST_TMP/err.lua" >"$out" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "a Lua error: exit $rc, want 1"
grep -q "err.lua:1: deep problem" "$out" || fail "error message: $(cat "$out")"
grep -q "stack traceback" "$out" || fail "no traceback: $(cat "$out")"
echo "limits: all held"
