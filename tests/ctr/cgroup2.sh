#!/bin/sh
# The pure cgroup v2 code path, on any host: in a private mount namespace
# the v1 hierarchies are unmounted and cgroup2 is mounted alone on
# /sys/fs/cgroup, so berth-ctr detects v2 and uses the unified tree (process
# tracking, cpu.stat, freeze, cgroup.kill); a limit whose controller v2 does
# not have here is refused with the file it needed.  On a hybrid host the v2
# tree has no controllers of its own, which this test expects.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
need_cmd unshare
cleanup() { ctr_cleanup_all; }
B=$BERTH_TEST_TMP/bundle
C_ARGS='["sh", "-c", "while true; do sleep 0.2; done"]' make_bundle "$B"
cat > "$BERTH_TEST_TMP/inner.sh" <<EOF2
set -e
umount -R /sys/fs/cgroup 2>/dev/null || true
mount -t cgroup2 none /sys/fs/cgroup
CTR="$CTR"
B="$B"
EOF2
cat >> "$BERTH_TEST_TMP/inner.sh" <<'EOF2'
fail() { echo "FAIL: $*" >&2; exit 1; }
$CTR check "$B" | grep -q "cgroups: v2" || fail "v2 not detected: $($CTR check "$B")"
timeout 20 $CTR run -d -b "$B" v2a || fail "run -d on v2 failed"
cg=/sys/fs/cgroup/berth/v2a
[ -f "$cg/cgroup.procs" ] || fail "no cgroup $cg"
pid=$($CTR state v2a | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
grep -qx "$pid" "$cg/cgroup.procs" || fail "init $pid not in $cg"
$CTR stats v2a | grep -q '"cgroup":"v2"' || fail "stats not from v2: $($CTR stats v2a)"
sleep 0.3
$CTR stats v2a | grep -q '"cpu_usage_ns":[1-9]' || fail "no cpu usage from cpu.stat"
$CTR pause v2a || fail "pause failed"
[ "$(cat "$cg/cgroup.freeze")" = 1 ] || fail "cgroup.freeze not set"
$CTR state v2a | grep -q '"status":"paused"' || fail "not paused"
$CTR resume v2a || fail "resume failed"
[ "$(cat "$cg/cgroup.freeze")" = 0 ] || fail "cgroup.freeze not cleared"
$CTR kill --all v2a KILL || fail "kill --all failed"
i=0; while [ $i -lt 50 ] && ! $CTR state v2a | grep -q stopped; do sleep 0.1; i=$((i+1)); done
$CTR state v2a | grep -q '"status":"stopped"' || fail "kill --all did not stop it"
timeout 20 $CTR delete v2a || fail "delete failed"
[ -d "$cg" ] && fail "cgroup $cg left behind"
# Devices on v2: an eBPF filter allows the standard nodes and linux.devices,
# denies the rest (mknod and open of an unlisted block device).
cp "$B/config.json" "$B/config.json.orig"
sed -i 's|"maskedPaths"|"devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}], "maskedPaths"|; s|"args": \[[^]]*\]|"args": ["sh", "-c", "head -c1 /dev/zero \| wc -c; echo x > /dev/null \&\& echo null-ok; head -c1 /dev/fuse 2>\&1; mknod /tmp/sda b 8 0 2>\&1 \|\| echo mknod-denied"]|' "$B/config.json"
out=$(timeout 20 $CTR run -b "$B" v2dev 2>&1) || fail "device test run failed: $out"
echo "$out" | grep -qx 1 || fail "v2 devices: /dev/zero not readable: $out"
echo "$out" | grep -q null-ok || fail "v2 devices: /dev/null not writable: $out"
echo "$out" | grep -q mknod-denied || fail "v2 devices: mknod of an unlisted device allowed: $out"
echo "$out" | grep -q "fuse.*Operation not permitted" && fail "v2 devices: the listed /dev/fuse was denied: $out"
cp "$B/config.json.orig" "$B/config.json"
sed -i 's/"resources": {}/"resources": {"memory": {"limit": 33554432}, "pids": {"limit": 30}}/' "$B/config.json"
if grep -qw memory /sys/fs/cgroup/cgroup.controllers && grep -qw pids /sys/fs/cgroup/cgroup.controllers; then
	# A real v2 host: the limits land in memory.max and pids.max.
	timeout 20 $CTR run -d -b "$B" v2b || fail "run -d with limits failed"
	[ "$(cat /sys/fs/cgroup/berth/v2b/memory.max)" = 33554432 ] || fail "memory.max not set"
	[ "$(cat /sys/fs/cgroup/berth/v2b/pids.max)" = 30 ] || fail "pids.max not set"
	timeout 20 $CTR delete -f v2b
else
	# Hybrid host: no memory controller in this tree: refused, clearly.
	out=$(timeout 20 $CTR run -b "$B" v2b 2>&1) && fail "a memory limit without a memory controller was accepted"
	echo "$out" | grep -q "memory.max" || fail "refusal does not name memory.max: $out"
	[ -d /sys/fs/cgroup/berth/v2b ] && fail "cgroup of the failed container left behind"
fi
exit 0
EOF2
unshare -m --propagation private sh "$BERTH_TEST_TMP/inner.sh" || fail "v2 checks failed"
exit 0
