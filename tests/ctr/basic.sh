#!/bin/sh
# berth-ctr run: exit codes, environment, cwd, user and groups, hostname,
# stdin/stdout/stderr passed through in the foreground.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
cleanup() { ctr_cleanup_all; }
B=$BERTH_TEST_TMP/bundle
make_bundle "$B"

run_ct() { timeout 30 $CTR run -b "$B" "$@"; }

# Exit status of the container's process is berth-ctr run's status.
C_ARGS='["sh", "-c", "exit 7"]' write_config "$B"
run_ct ex1; rc=$?
[ "$rc" -eq 7 ] || fail "exit code: expected 7, got $rc"
C_ARGS='["true"]' write_config "$B"
run_ct ex2 || fail "exit code: expected 0 from true, got $?"
# (pid 1 of a pid namespace cannot be killed from inside: use the host's.)
C_ARGS='["sh", "-c", "kill -9 $$"]' C_NS='[{"type": "mount"}, {"type": "uts"}]' write_config "$B"
run_ct ex3; rc=$?
[ "$rc" -eq 137 ] || fail "killed by SIGKILL: expected 137, got $rc"

# A missing program is an error that names it.
C_ARGS='["/no/such/prog"]' write_config "$B"
out=$(run_ct ex4 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "missing program: expected failure"
echo "$out" | grep -q "/no/such/prog" || fail "missing program: message does not name it: $out"

# Environment and cwd.
C_ARGS='["sh", "-c", "echo \"$FOO|$BAR|$(pwd)\""]' C_ENV='["PATH=/bin", "FOO=foo value", "BAR=b=r"]' \
	C_CWD=/home/user write_config "$B"
out=$(run_ct env1) || fail "env run failed"
[ "$out" = "foo value|b=r|/home/user" ] || fail "env/cwd: expected 'foo value|b=r|/home/user', got '$out'"

# cwd that does not exist: refused.
C_CWD=/nonexistent write_config "$B"
run_ct cwd1 >/dev/null 2>&1 && fail "a missing cwd was accepted"

# User, group and additional groups.
C_ARGS='["sh", "-c", "id -u; id -g; id -G"]' C_UID=1000 C_GID=1000 C_GIDS='[10, 20]' write_config "$B"
out=$(run_ct user1 | tr '\n' ' ') || fail "user run failed"
[ "$out" = "1000 1000 1000 10 20 " ] || fail "user: expected '1000 1000 1000 10 20 ', got '$out'"

# Hostname in its own uts namespace.
C_ARGS='["hostname"]' C_HOSTNAME=ct-name-1 write_config "$B"
out=$(run_ct host1) || fail "hostname run failed"
[ "$out" = "ct-name-1" ] || fail "hostname: expected ct-name-1, got '$out'"
[ "$(hostname)" != "ct-name-1" ] || fail "hostname leaked to the host"

# stdin, stdout and stderr pass through in the foreground.
C_ARGS='["sh", "-c", "read x; echo out:$x; echo err:$x >&2"]' write_config "$B"
echo hello | run_ct io1 >"$BERTH_TEST_TMP/out" 2>"$BERTH_TEST_TMP/err" || fail "io run failed"
[ "$(cat "$BERTH_TEST_TMP/out")" = "out:hello" ] || fail "stdout: got '$(cat "$BERTH_TEST_TMP/out")'"
[ "$(cat "$BERTH_TEST_TMP/err")" = "err:hello" ] || fail "stderr: got '$(cat "$BERTH_TEST_TMP/err")'"

# The process is pid 1 of its own pid namespace.
C_ARGS='["sh", "-c", "echo $$"]' write_config "$B"
out=$(run_ct pid1)
[ "$out" = "1" ] || fail "pid namespace: expected pid 1, got '$out'"

# Signals arrive clean: nothing ignored or blocked by the runtime leaks in.
C_ARGS='["sh", "-c", "grep -E \"^Sig(Ign|Blk)\" /proc/self/status | tr -s \"\\t\" \" \""]' write_config "$B"
out=$(run_ct sig1 | tr '\n' ' ')
[ "$out" = "SigBlk: 0000000000000000 SigIgn: 0000000000000000 " ] || fail "signal state leaked into the container: '$out'"
# Nor what the caller ignored (a shell ignoring HUP, INT and USR1 passes that on).
out=$( (trap '' HUP INT USR1; run_ct sig2) | tr '\n' ' ')
[ "$out" = "SigBlk: 0000000000000000 SigIgn: 0000000000000000 " ] || fail "the caller's ignored signals leaked into the container: '$out'"

# rlimits and oomScoreAdj.
C_ARGS='["sh", "-c", "ulimit -n; cat /proc/self/oom_score_adj"]' C_PROCESS_EXTRA=',"oomScoreAdj": 321' write_config "$B"
out=$(run_ct rl1 | tr '\n' ' ')
[ "$out" = "1024 321 " ] || fail "rlimit NOFILE / oomScoreAdj: expected '1024 321 ', got '$out'"

# A read-only bind mount of a host directory, and a tmpfs with options.
mkdir -p "$BERTH_TEST_TMP/share"
echo shared > "$BERTH_TEST_TMP/share/f"
C_MOUNTS_EXTRA=",{\"destination\": \"/mnt/share\", \"type\": \"bind\", \"source\": \"$BERTH_TEST_TMP/share\", \"options\": [\"rbind\", \"ro\", \"nosuid\"]},
  {\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\", \"mode=700\", \"noexec\"]}" \
	C_ARGS='["sh", "-c", "cat /mnt/share/f; echo x > /mnt/share/g 2>/dev/null && echo WROTE; stat -c %a /scratch; grep \" /scratch \" /proc/mounts | grep -c noexec"]' \
	write_config "$B"
out=$(run_ct mnt1 | tr '\n' ' ')
[ "$out" = "shared 700 1 " ] || fail "bind ro / tmpfs options: expected 'shared 700 1 ', got '$out'"
[ -e "$BERTH_TEST_TMP/share/g" ] && fail "wrote through a read-only bind mount"

# Foreground run leaves nothing behind.
[ -z "$($CTR list -q)" ] || fail "containers left after foreground runs: $($CTR list -q)"
exit 0
