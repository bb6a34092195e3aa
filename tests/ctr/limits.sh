#!/bin/sh
# cgroup limits: a memory hog is OOM-killed and the OOM is recorded; a fork
# bomb (bounded: 200 forks at most) stops at the pids limit; the CPU quota,
# shares and memory limit are in effect in the cgroup (v1, v2 or hybrid).
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
cleanup() { ctr_cleanup_all; }
B=$BERTH_TEST_TMP/bundle
make_bundle "$B"

# Find a control file of the container's cgroup, wherever the host keeps it.
cg_file() { # ID V1-CONTROLLER V1-FILE V2-FILE
	_cg=$($CTR state "$1" | sed -n 's/.*"cgroupsPath":"\([^"]*\)".*/\1/p')
	if [ -f "/sys/fs/cgroup/$2$_cg/$3" ]; then echo "/sys/fs/cgroup/$2$_cg/$3"
	elif [ -f "/sys/fs/cgroup$_cg/$4" ]; then echo "/sys/fs/cgroup$_cg/$4"
	else echo "/nonexistent"; fi
}

# Memory: 32 MiB with no swap; the hog wants far more.
C_ARGS='["sh", "-c", "x=$(head -c 400000000 /dev/zero | tr \"\\\\0\" a); echo survived"]' \
	C_RESOURCES='{"memory": {"limit": 33554432, "swap": 33554432}}' write_config "$B"
out=$(timeout 60 $CTR run -d -b "$B" mem1) || fail "run -d mem1 failed"
wait_for 60 sh -c "$CTR state mem1 | grep -q '\"status\":\"stopped\"'" || fail "the memory hog was not stopped"
st=$($CTR state mem1)
echo "$st" | grep -q '"oomKilled":true' || fail "OOM not recorded: $st"
$CTR logs mem1 | grep -q survived && fail "the hog survived the memory limit"
timeout 10 $CTR delete mem1

# A child is OOM-killed while the init lives on: an "oom" event, and the
# container keeps running.
C_ARGS='["sh", "-c", "sleep 1; (x=$(head -c 400000000 /dev/zero | tr \"\\\\0\" a)); echo child-gone; sleep 30"]' \
	C_RESOURCES='{"memory": {"limit": 33554432, "swap": 33554432}}' write_config "$B"
timeout 20 $CTR run -d -b "$B" mem2 || fail "run -d mem2 failed"
$CTR ctl mem2 state --events 15 > "$BERTH_TEST_TMP/ev2" &
evp=$!
wait_for 30 sh -c "$CTR logs mem2 | grep -q child-gone" || fail "the hog child was not killed"
sleep 1.5
kill $evp 2>/dev/null
grep -q '"event":"oom"' "$BERTH_TEST_TMP/ev2" || fail "no oom event: $(cat "$BERTH_TEST_TMP/ev2")"
$CTR state mem2 | grep -q '"status":"running"' || fail "the init should survive its child's OOM kill"
timeout 10 $CTR delete -f mem2

# Memory limit, CPU quota/period and shares read back from the cgroup.
C_ARGS='["sleep", "100"]' \
	C_RESOURCES='{"memory": {"limit": 67108864}, "cpu": {"quota": 50000, "period": 100000, "shares": 512}, "pids": {"limit": 64}}' \
	write_config "$B"
timeout 20 $CTR run -d -b "$B" cpu1 || fail "run -d cpu1 failed"
f=$(cg_file cpu1 cpu cpu.cfs_quota_us cpu.max)
v=$(cat "$f") || fail "no cpu quota file ($f)"
case "$v" in 50000|"50000 100000") ;; *) fail "cpu quota: expected 50000, got '$v' in $f" ;; esac
f=$(cg_file cpu1 memory memory.limit_in_bytes memory.max)
[ "$(cat "$f")" = 67108864 ] || fail "memory limit: expected 67108864, got '$(cat "$f")' in $f"
f=$(cg_file cpu1 pids pids.max pids.max)
[ "$(cat "$f")" = 64 ] || fail "pids limit: expected 64, got '$(cat "$f")' in $f"
f=$(cg_file cpu1 cpu cpu.shares cpu.weight)
case "$(cat "$f")" in 512|20) ;; *) fail "cpu shares/weight: got '$(cat "$f")' in $f" ;; esac
$CTR stats cpu1 | grep -q '"memory_limit":67108864' || fail "stats memory_limit: $($CTR stats cpu1)"
timeout 10 $CTR delete -f cpu1

# The init is in the container's group of every hierarchy from its first
# instruction on (it joins them itself, through each v1 tasks file); with a
# cgroup namespace that group is its root: /proc/self/cgroup shows "/".
C_ARGS='["sh", "-c", "cat /proc/self/cgroup; exec sleep 100"]' \
	C_NS='[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}, {"type": "cgroup"}]' \
	write_config "$B"
timeout 20 $CTR run -d -b "$B" cgns || fail "run -d cgns failed"
pid=$($CTR state cgns | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
rel=$($CTR state cgns | sed -n 's/.*"cgroupsPath":"\([^"]*\)".*/\1/p')
[ -n "$pid" ] && [ -n "$rel" ] || fail "state cgns: no pid or cgroupsPath: $($CTR state cgns)"
for c in memory pids cpu; do
	f=$(cg_file cgns $c cgroup.procs cgroup.procs)
	grep -qx "$pid" "$f" || fail "init $pid is not in $f"
	grep ":$c\(,[a-z]*\)*:\|:[a-z,]*,$c:" "/proc/$pid/cgroup" | grep -q ":$rel\$" || \
		[ ! -d "/sys/fs/cgroup/$c" ] || fail "host view of $c: $(cat "/proc/$pid/cgroup")"
done
wait_for 5 sh -c "$CTR logs cgns | grep -q memory"
mine=$($CTR logs cgns | tr -d '\r' | grep -E ':(memory|pids)(,[a-z]*)*:|^0::')
[ -n "$mine" ] || fail "the container printed no cgroup lines: $($CTR logs cgns)"
echo "$mine" | grep -qv ':/$' && fail "cgroup namespace root is not the container's group: $mine"
timeout 10 $CTR delete -f cgns
C_NS=
write_config "$B"

# The quota is in effect: a busy loop for 2 s of wall time gets about 1 s.
C_ARGS='["sh", "-c", "timeout 2 sh -c \"while :; do :; done\"; true"]' \
	C_RESOURCES='{"cpu": {"quota": 20000, "period": 100000}}' write_config "$B"
timeout 20 $CTR run -d -b "$B" cpu2 || fail "run -d cpu2 failed"
sleep 1.5
ns=$($CTR stats cpu2 | sed -n 's/.*"cpu_usage_ns":\([0-9]*\).*/\1/p')
[ -n "$ns" ] || fail "no cpu usage"
# 20% of one CPU over 1.5 s is 0.3 s; allow up to 0.6 s.
[ "$ns" -lt 600000000 ] || fail "cpu quota not in effect: $ns ns used in 1.5 s at 20%"
[ "$ns" -gt 50000000 ] || fail "cpu usage suspiciously low: $ns ns"
wait_for 10 sh -c "$CTR state cpu2 | grep -q stopped"
timeout 10 $CTR delete -f cpu2

# Fork bomb, bounded: 200 background sleeps against a limit of 20 pids.
# (ash gives up at the first failed fork; the init then just waits.)
C_ARGS='["sh", "-c", "sh -c \"i=0; while [ \\$i -lt 200 ]; do sleep 20 & i=\\$((i+1)); done\" 2>/dev/null; exec sleep 30"]' \
	C_RESOURCES='{"pids": {"limit": 20}}' write_config "$B"
timeout 40 $CTR run -d -b "$B" bomb || fail "run -d bomb failed"
sleep 2
cur=$($CTR stats bomb | sed -n 's/.*"pids_current":\([0-9]*\).*/\1/p')
[ -n "$cur" ] || fail "no pids_current in stats"
[ "$cur" -le 20 ] || fail "pids limit exceeded: $cur"
[ "$cur" -ge 15 ] || fail "the bomb did not reach the limit ($cur pids): the test proves nothing"
timeout 20 $CTR delete -f bomb
exit 0
