#!/bin/sh
# examples-bundled.sh: the scripts in lua/examples run as printed against
# berth's own backends: start-stopped.lua starts the stopped miniguest VMs
# of the kvm backend (and leaves a container alone), rolling-restart.lua
# restarts VMs with a console health check ("miniguest> ") and containers
# ("ready"), a failing health check stops the rollout, and
# drain-host.lua --dry-run reports what it would do without touching
# anything.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
need_kvm
[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
guest=$top_builddir/tests/guests/miniguest.bzImage
[ -f "$guest" ] || fail "the miniguest was not built ($guest)"
cleanup() {
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	ctr_cleanup_all
}
BERTH_NO_DEFAULT_LIBVIRT=1; export BERTH_NO_DEFAULT_LIBVIRT
ex=$top_srcdir/lua/examples
out=$BERTH_TEST_TMP/out
b() { timeout 120 "$BERTH" "$@"; }
state_of() { b list | awk -v n="$1" '$1 == n { print $5 }'; }
pid_of() { cat "$BERTH_RUN_DIR/vm/$1/vmm.pid" 2>/dev/null; }

C_ARGS='["sh", "-c", "trap \"exit 0\" TERM; echo booting; sleep 0.5; echo ready; while read l; do echo got $l; done; sleep 1000"]' \
	make_bundle "$BERTH_TEST_TMP/bundle"
for n in vm1 vm2; do
	echo "{\"name\": \"$n\", \"kernel\": \"$guest\", \"memory_mib\": 16}" >"$BERTH_TEST_TMP/$n.json"
	b define "$BERTH_TEST_TMP/$n.json" >/dev/null || fail "define $n"
done
for n in ct1 ct2; do
	echo "{\"name\": \"$n\", \"bundle\": \"$BERTH_TEST_TMP/bundle\", \"network\": \"none\"}" >"$BERTH_TEST_TMP/$n.json"
	b define "$BERTH_TEST_TMP/$n.json" >/dev/null || fail "define $n"
done

# start-stopped.lua: both VMs start; the containers (kind ct) stay stopped.
b run "$ex/start-stopped.lua" localhost >"$out" 2>&1 || fail "start-stopped.lua failed: $(cat "$out")"
cat "$out"
for n in vm1 vm2; do
	grep -qx "started $n" "$out" || fail "start-stopped.lua did not start $n: $(cat "$out")"
	[ "$(state_of $n)" = running ] || fail "$n is not running after start-stopped.lua: $(b list)"
done
grep -q ct1 "$out" && fail "start-stopped.lua touched a container"
[ "$(state_of ct1)" = stopped ] || fail "ct1 changed state: $(b list)"
b run "$ex/start-stopped.lua" localhost >"$out" 2>&1 || fail "start-stopped.lua again: $(cat "$out")"
grep -qx "nothing to start on localhost" "$out" || fail "start-stopped.lua with nothing stopped: $(cat "$out")"

# rolling-restart.lua on the VMs: each miniguest takes Ctrl-Alt-Del (or is
# forced off after the 2 s grace), is started, and must show its prompt.
old1=$(pid_of vm1); old2=$(pid_of vm2)
b run -- "$ex/rolling-restart.lua" 'vm*' 'miniguest> ' 1 2 >"$out" 2>&1 || fail "rolling-restart.lua on VMs: $(cat "$out")"
cat "$out"
grep -qx "restarting 2 instance(s), 1 at a time" "$out" || fail "rolling-restart.lua did not select vm1, vm2"
grep -qx "vm1 is back" "$out" && grep -qx "vm2 is back" "$out" || fail "VMs did not come back: $(cat "$out")"
grep -qx "done: 2 restarted" "$out" || fail "rolling restart of VMs did not finish"
[ "$(pid_of vm1)" != "$old1" ] && [ "$(pid_of vm2)" != "$old2" ] || fail "the VMs were not restarted (same berth-vmm pids)"
[ "$(state_of vm1)" = running ] || fail "vm1 not running after the rollout"

# ... on containers, two at a time.
b start ct1 ct2 >/dev/null || fail "start ct1 ct2"
b run -- "$ex/rolling-restart.lua" 'ct*' ready 2 5 >"$out" 2>&1 || fail "rolling-restart.lua on containers: $(cat "$out")"
cat "$out"
grep -qx "restarting 2 instance(s), 2 at a time" "$out" || fail "rolling-restart.lua: containers not selected"
grep -qx "done: 2 restarted" "$out" || fail "rolling restart of containers did not finish: $(cat "$out")"

# A health check that never passes: the rollout stops at the first (exit 1).
b run -- "$ex/rolling-restart.lua" 'vm*' 'no such prompt' 1 1 3 >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 1 ] || fail "rolling-restart.lua with a failing health check: exit $rc, want 1"
grep -q "vm1: health check: timeout" "$out" || fail "no health-check failure for vm1: $(cat "$out")"
grep -q "vm2 is back" "$out" && fail "the rollout went on after a failure"

# drain-host.lua --dry-run: one host, so nowhere to migrate to; it says it
# would shut everything down and touches nothing.
b run -- "$ex/drain-host.lua" localhost --shutdown --dry-run >"$out" 2>&1 || fail "drain-host.lua --dry-run: $(cat "$out")"
cat "$out"
for n in vm1 vm2 ct1 ct2; do
	grep -q "^$n: no host with room for it; shutting down" "$out" || fail "drain-host.lua --dry-run: no line for $n: $(cat "$out")"
	[ "$(state_of $n)" = running ] || fail "drain-host.lua --dry-run changed $n: $(b list)"
done
b run -- "$ex/drain-host.lua" localhost --dry-run >"$out" 2>&1
[ $? -eq 1 ] || fail "drain-host.lua without --shutdown must fail (nowhere to go): $(cat "$out")"
grep -q "vm1: no host with room for it" "$out" || fail "drain-host.lua: $(cat "$out")"
echo "examples: ran against kvm and container backends"
