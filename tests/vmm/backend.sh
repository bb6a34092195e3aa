#!/bin/sh
# The kvm backend through the berth CLI: define stores the JSON definition,
# start spawns a detached berth-vmm that outlives berth (even kill -9 of the
# berth that started it), list finds running VMs again from their sockets,
# pause/resume/stats/info/console work, a VMM killed with -9 shows as crashed
# and its stale sockets are removed, shutdown forces off after the timeout,
# a guest exit shows with its reason, undefine forgets the VM.
. "$top_srcdir/tests/vmm/lib.sh"
[ -x "$BERTH" ] || fail "berth was not built ($BERTH)"
cleanup() {
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	for _p in $VMM_PIDS; do kill -9 "$_p" 2>/dev/null; done
	return 0
}
counter=$(guest counter)
hello=$(guest hello)
b() { timeout 60 "$BERTH" "$@"; }
state_of() { b list | awk -v n="$1" '$1 == n { print $5 }'; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }

cat >"$T/v1.json" <<JSON
{"name": "v1", "kernel": "$counter", "memory_mib": 32, "vcpus": 2, "cmdline": "console=ttyS0"}
JSON
b define "$T/v1.json" >/dev/null || fail "define failed"
[ -f "$BERTH_DATA_DIR/vm/v1.json" ] || fail "definition not stored in \$BERTH_DATA_DIR/vm"
grep -q '"memory_mib": *32' "$BERTH_DATA_DIR/vm/v1.json" || fail "stored definition lacks memory_mib: $(cat "$BERTH_DATA_DIR/vm/v1.json")"
[ "$(state_of v1)" = stopped ] || fail "defined VM not listed as stopped: $(b list)"

b start v1 >/dev/null || fail "start failed"
[ "$(state_of v1)" = running ] || fail "started VM not running: $(b list)"
pid=$(cat "$BERTH_RUN_DIR/vm/v1/vmm.pid")
ppid=$(ps -o ppid= -p "$pid" | tr -d ' ')
sid=$(ps -o sid= -p "$pid" | tr -d ' ')
[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "berth-vmm shares the caller's session"
b info v1 | grep -q "boot: *bzImage" || fail "info lacks the VMM's view: $(b info v1)"
b info v1 | grep -q "vcpus: *2" || fail "info vcpus"
out=$(b stats v1) || fail "stats failed: $out"
echo "$out" | grep -Eq '^v1 +localhost +[0-9.]+ +[0-9.]+ +[0-9.]+[KMG]' || fail "stats table lacks v1's CPU and memory: $out"
# What the VMM reports comes through whole: both vCPUs, the 32 MiB, the
# guest's run time and resident memory.
out=$(b stats --json v1) || fail "stats --json failed: $out"
echo "$out" | grep -Eq '"valid": *true' || fail "stats of a running VM not valid: $out"
echo "$out" | grep -Eq '"vcpus": *2[,}]?$' || fail "stats vcpus: $out"
echo "$out" | grep -Eq '"mem_total_kib": *32768' || fail "stats memory total: $out"
for f in cpu_time_ns mem_used_kib; do
	v=$(echo "$out" | sed -n "s/.*\"$f\": *\([0-9]*\).*/\1/p")
	[ "${v:-0}" -gt 0 ] || fail "stats $f of a running guest is not positive: $out"
done
b pause v1 >/dev/null || fail "pause failed"
[ "$(state_of v1)" = paused ] || fail "paused VM not listed as paused"
b resume v1 >/dev/null || fail "resume failed"
[ "$(state_of v1)" = running ] || fail "resumed VM not listed as running"
out=$(timeout 10 "$VMMCTL" console "$BERTH_RUN_DIR/vm/v1/console.sock" 5 "tick") || fail "console of a backend-started VM: $out"
b start v1 >/dev/null 2>&1 && fail "starting a running VM succeeded"

# A berth that started a VM is killed with -9: the VM lives on, the next berth finds it.
cat >"$T/v2.json" <<JSON
{"name": "v2", "kernel": "$counter", "memory_mib": 16}
JSON
b define "$T/v2.json" >/dev/null || fail "define v2"
mkfifo "$T/shell.in"
"$BERTH" shell <"$T/shell.in" >"$T/shell.out" 2>&1 &
shpid=$!
exec 3>"$T/shell.in"
echo "start v2" >&3
wait_for 15 test -S "$BERTH_RUN_DIR/vm/v2/ctl.sock" || fail "berth shell did not start v2: $(cat "$T/shell.out")"
sleep 0.3
kill -9 $shpid
wait $shpid 2>/dev/null
exec 3>&-
sleep 0.3
[ "$(state_of v2)" = running ] || fail "v2 did not survive kill -9 of berth: $(b list)"

# The VMM itself is killed with -9: listed as crashed, stale sockets removed.
kill -9 "$(cat "$BERTH_RUN_DIR/vm/v2/vmm.pid")"
# (until its parent, init, reaps it the VMM is a zombie: wait for that)
wait_for 10 state_is v2 crashed ||
	fail "VM whose VMM was killed is not crashed: $(b list)"
[ ! -e "$BERTH_RUN_DIR/vm/v2/ctl.sock" ] || fail "stale ctl.sock not removed"
b start v2 >/dev/null || fail "restart after a crash failed"
b kill v2 >/dev/null || fail "kill failed"
[ "$(state_of v2)" = stopped ] || fail "killed VM not stopped: $(b list)"

# Graceful shutdown: the counter guest ignores Ctrl-Alt-Del, so it is forced off.
b shutdown --timeout 1 v1 >/dev/null || fail "shutdown failed"
[ "$(state_of v1)" = stopped ] || fail "VM not stopped after shutdown: $(b list)"
grep -q "forced off" "$BERTH_RUN_DIR/vm/v1/vmm.log" || fail "log does not say forced off"

# A guest that exits by itself: stopped, with the reason in info.
cat >"$T/v3.json" <<JSON
{"name": "v3", "kernel": "$hello", "memory_mib": 16}
JSON
b define "$T/v3.json" >/dev/null && b start v3 >/dev/null 2>&1
wait_for 10 sh -c "! test -e '$BERTH_RUN_DIR/vm/v3/ctl.sock'" || fail "hello guest did not end"
b info v3 | grep -q "guest exit code 42" || fail "info does not show how v3 ended: $(b info v3)"

# A kernel berth-vmm refuses: start fails with the VMM's reason.
cat >"$T/bad.json" <<JSON
{"name": "bad", "kernel": "$(guest bad-magic)", "memory_mib": 16}
JSON
b define "$T/bad.json" >/dev/null || fail "define bad"
out=$(b start bad 2>&1) && fail "start of a bad kernel succeeded"
echo "$out" | grep -q "HdrS" || fail "start error does not carry the VMM's reason: $out"

# Bad definitions are refused.
echo '{"name": "x", "memory_mib": 16}' >"$T/nok.json"
b define "$T/nok.json" >/dev/null 2>&1 && fail "definition without a kernel accepted"
echo "{\"name\": \"y\", \"kernel\": \"$hello\", \"vcpus\": 0}" >"$T/nov.json"
b define "$T/nov.json" >/dev/null 2>&1 && fail "definition with 0 vcpus accepted"

b undefine v3 >/dev/null || fail "undefine failed"
b list | grep -q "^v3 " && fail "undefined VM still listed"
echo "ok: define, start detached, list, ops, survive berth kill -9, crash detection, shutdown, undefine"
