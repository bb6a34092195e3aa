#!/bin/sh
# sandbox.sh: `berth run --sandbox` refuses every escape (io, os but
# time/clock/date, debug, string.dump, binary chunks, foreign require,
# http; berth.connect, berth.create, berth.set, berth.bind, inst:exec,
# inst:migrate; berth.cmd of anything but the commands that only look at or
# act on defined instances, and any --connect/-c), and caps memory by
# default.  The escapes that would run a program would leave a marker file.
. "$top_srcdir/tests/lib/sh-helpers.sh"
out=$BERTH_TEST_TMP/out
marks=$BERTH_TEST_TMP/marks
mkdir -p "$marks"
# The marker mechanism works: outside the sandbox, exec: runs its command.
timeout 30 "$BERTH" run -e "berth.connect('exec:touch $marks/unsandboxed', 'remote')" >"$out" 2>&1
[ -e "$marks/unsandboxed" ] || fail "outside the sandbox, an exec: URI did not run its command: $(cat "$out")"
rm -f "$marks/unsandboxed"
mods="$BERTH_TEST_TMP/mods"
mkdir -p "$mods"
echo 'return { evil = true }' >"$mods/evil.lua"
timeout 30 "$BERTH" run -e "package.path = '$mods/?.lua;' .. package.path; assert(require('evil').evil)" >"$out" 2>&1 || \
	fail "outside the sandbox, $mods/evil.lua does not load, so refusing it proves nothing: $(cat "$out")"
timeout 60 "$BERTH" --connect test:///default run --sandbox "$top_srcdir/tests/lua/sandbox-escapes.lua" "$marks" "$mods" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 0 ] || fail "sandbox-escapes.lua exited $rc"
grep -q '^not ok' "$out" && fail "a sandbox check failed"
left=$(ls "$marks")
[ -z "$left" ] || fail "commands ran from the sandbox, they left: $left"

# A file path given to the sandbox is fine, but the script cannot read files.
echo 'return io.open("/etc/passwd")' >"$BERTH_TEST_TMP/readfile.lua"
timeout 10 "$BERTH" run --sandbox "$BERTH_TEST_TMP/readfile.lua" >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "reading a file in the sandbox: exit $rc, want 1: $(cat "$out")"
grep -q "attempt to index a nil value (global 'io')" "$out" || fail "unexpected message: $(cat "$out")"

# A binary chunk file is refused at load.
printf '\033Lua\124\000' >"$BERTH_TEST_TMP/bin.luac"
timeout 10 "$BERTH" run --sandbox "$BERTH_TEST_TMP/bin.luac" >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "binary chunk file: exit $rc, want 1"
grep -q "binary" "$out" || fail "binary chunk file: unexpected message: $(cat "$out")"

# The sandbox has a default memory cap (256 MiB).
timeout 30 "$BERTH" run --sandbox -e 'local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i end' >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "memory bomb in the sandbox: exit $rc, want 1"
grep -q "memory limit of 262144 KiB reached" "$out" || fail "memory bomb: unexpected message: $(cat "$out")"
echo "sandbox: all escapes refused"
