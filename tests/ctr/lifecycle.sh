#!/bin/sh
# Detached lifecycle: create -> created, start -> running, state JSON per the
# OCI runtime spec, ps, stats, exec (exit code, env, cwd, user), kill, stop
# with a timeout then SIGKILL, delete; ctl.sock ops and events.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
cleanup() { ctr_cleanup_all; }
B=$BERTH_TEST_TMP/bundle
C_ARGS='["sh", "-c", "echo started; trap \"echo got-term; exit 0\" TERM; while true; do sleep 0.2; done"]' \
	make_bundle "$B"

status_of() { $CTR state "$1" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'; }

timeout 20 $CTR create -b "$B" lc1 || fail "create failed"
[ "$(status_of lc1)" = created ] || fail "after create: expected created, got $(status_of lc1)"
st=$($CTR state lc1)
for key in '"ociVersion":"1.0.2"' '"id":"lc1"' '"pid":' "\"bundle\":\"$B\""; do
	echo "$st" | tr -d ' \n' | grep -q "$key" || fail "state lacks $key: $st"
done
pid=$(echo "$st" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
kill -0 "$pid" || fail "state pid $pid is not alive"

timeout 10 $CTR start lc1 || fail "start failed"
[ "$(status_of lc1)" = running ] || fail "after start: expected running, got $(status_of lc1)"
timeout 10 $CTR start lc1 2>/dev/null && fail "a second start was accepted"
$CTR list | grep -q "^lc1 .*running" || fail "list does not show lc1 running: $($CTR list)"
$CTR list --format json | grep -q '"status":"running"' || fail "list --format json"

# ps lists the init and its children; stats reads the cgroup.
$CTR ps --format json lc1 | grep -q "$pid" || fail "ps lacks the init pid $pid"
stats=$($CTR stats lc1) || fail "stats failed"
echo "$stats" | grep -q '"cpu_usage_ns"' || fail "stats lacks cpu: $stats"
echo "$stats" | grep -q '"memory_current":[1-9]' || fail "stats lacks memory: $stats"
echo "$stats" | grep -q '"pids_current":[1-9]' || fail "stats lacks pids: $stats"

# exec: exit code, environment from the config plus --env, cwd, user.
timeout 10 $CTR exec lc1 -- sh -c 'exit 5'; rc=$?
[ "$rc" -eq 5 ] || fail "exec exit code: expected 5, got $rc"
out=$(timeout 10 $CTR exec -e X=1 --cwd /tmp -u 1000:1000 lc1 -- sh -c 'echo $X $PATH $(pwd) $(id -u):$(id -g)')
[ "$out" = "1 /bin:/usr/bin /tmp 1000:1000" ] || fail "exec env/cwd/user: got '$out'"
# exec joins the container's pid namespace.
out=$(timeout 10 $CTR exec lc1 -- sh -c 'cat /proc/1/cmdline | tr "\0" " "')
echo "$out" | grep -q "^sh -c echo started" || fail "exec is not in the container's pid namespace: $out"
timeout 10 $CTR exec lc1 -- /no/such 2>/dev/null && fail "exec of a missing program succeeded"

# ctl.sock: state, stats, exec and an unknown op.
out=$($CTR ctl lc1 state) || fail "ctl state failed"
echo "$out" | grep -q '"status":"running"' || fail "ctl state: $out"
out=$($CTR ctl lc1 exec '{"args": ["sh", "-c", "echo via-ctl; exit 4"]}') || fail "ctl exec failed"
echo "$out" | grep -q '"exit_code":4' || fail "ctl exec exit code: $out"
echo "$out" | grep -q 'via-ctl' || fail "ctl exec output: $out"
$CTR ctl lc1 no-such-op 2>/dev/null && fail "an unknown op was accepted"

# The log holds the output.
sleep 0.3
$CTR logs lc1 | grep -q started || fail "log lacks the output: $($CTR logs lc1)"

# kill with a signal the container handles: it exits 0 on TERM.
timeout 10 $CTR kill lc1 TERM || fail "kill failed"
wait_for 10 sh -c "$CTR state lc1 | grep -q '\"status\":\"stopped\"'" || fail "TERM did not stop lc1"
$CTR state lc1 | grep -q '"exitCode":0' || fail "exit code after TERM: $($CTR state lc1)"
$CTR logs lc1 | grep -q got-term || fail "the trap did not run"
timeout 10 $CTR kill lc1 KILL 2>/dev/null && fail "kill of a stopped container succeeded"
timeout 10 $CTR delete lc1 || fail "delete failed"
$CTR state lc1 2>/dev/null && fail "state of a deleted container succeeded"
[ -d "$CTR_ROOT/lc1" ] && fail "state dir left after delete"

# stop: a container that ignores TERM is killed after the timeout.
C_ARGS='["sh", "-c", "trap \"\" TERM; while true; do sleep 0.2; done"]' write_config "$B"
timeout 20 $CTR run -d -b "$B" lc2 || fail "run -d failed"
[ "$(status_of lc2)" = running ] || fail "run -d: not running"
# delete refuses a running container without --force.
timeout 10 $CTR delete lc2 2>/dev/null && fail "delete of a running container succeeded"
$CTR ctl lc2 state --events 10 > "$BERTH_TEST_TMP/events" &
evpid=$!
sleep 0.5
t0=$(date +%s)
timeout 20 $CTR stop -t 2 lc2 || fail "stop failed"
t1=$(date +%s)
[ $((t1 - t0)) -ge 2 ] || fail "stop returned before the 2 s timeout"
[ $((t1 - t0)) -le 8 ] || fail "stop took $((t1 - t0)) s"
$CTR state lc2 | grep -q '"exitSignal":9' || fail "not killed with SIGKILL: $($CTR state lc2)"
wait $evpid
grep -q '"event":"exit"' "$BERTH_TEST_TMP/events" || fail "no exit event: $(cat "$BERTH_TEST_TMP/events")"
grep -q '"event":"state"' "$BERTH_TEST_TMP/events" || fail "no state event: $(cat "$BERTH_TEST_TMP/events")"
timeout 10 $CTR delete lc2 || fail "delete lc2 failed"

# delete --force removes a running container; its cgroup goes too.
C_ARGS='["sleep", "1000"]' write_config "$B"
timeout 20 $CTR run -d -b "$B" lc3 || fail "run -d lc3 failed"
cg=$($CTR state lc3 | sed -n 's/.*"cgroupsPath":"\([^"]*\)".*/\1/p')
timeout 20 $CTR delete -f lc3 || fail "delete -f failed"
for d in /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ -d "$d$cg" ] && [ -n "$cg" ]; then fail "cgroup $d$cg left behind"; fi
done
# A name in use is refused.
timeout 20 $CTR run -d -b "$B" lc4 || fail "run -d lc4 failed"
timeout 20 $CTR create -b "$B" lc4 2>/dev/null && fail "a duplicate name was accepted"
timeout 20 $CTR delete -f lc4
# The ctl exec op answers binary output too: NULs grow sixfold when escaped,
# and the reply must still fit in one protocol message (truncated).
C_ARGS='["sleep", "1000"]' write_config "$B"
timeout 20 $CTR run -d -b "$B" lc5 || fail "run -d lc5 failed"
out=$(timeout 30 $CTR ctl lc5 exec '{"args": ["head", "-c", "3000000", "/dev/zero"]}' 2>&1) ||
	fail "exec op with 3 MB of NULs got no reply: $(echo "$out" | head -c 200)"
echo "$out" | grep -q '"truncated": *true' || fail "exec op: output not marked truncated: $(echo "$out" | head -c 200)"
echo "$out" | grep -q '"exit_code": *0' || fail "exec op: no exit code: $(echo "$out" | tail -c 200)"
timeout 20 $CTR delete -f lc5
exit 0
