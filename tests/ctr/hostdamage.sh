#!/bin/sh
# Settings that would reach the host are refused or contained:
#   a net.* sysctl without a network namespace (also through --net host) and
#     a hostname without a UTS namespace are refused before anything runs
#     (they would change the host's; the test uses the host's current values,
#     so nothing changes even if the refusal regresses);
#   a non-recursive rootfsPropagation ("private") with the bundle on a shared
#     mount leaks no mount into the host's namespace;
#   a "cgroup" mount of the host's hierarchy is read-only all the way down,
#     so the container cannot move itself out of its cgroup;
#   a cgroupsPath naming someone else's cgroup (one holding a process) is
#     refused, and that process survives the attempt;
#   delete trusts no interface name from a tampered state.json: only the
#     veths berth names are removed;
#   exec never runs a process outside the container's cgroup (here: state.json
#     names a cgroup that does not exist; before, the join failed silently
#     and the process ran without the container's limits);
#   a masked file stays masked when the image's /dev/null (no /dev mount in
#     the config) is a symlink to the masked file itself;
#   in a user namespace without its own network namespace, the /sys fallback
#     (the host's, bound) is read-only all the way down too, and mqueue gets
#     no view of the host's queues.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
SHARED=$BERTH_TEST_TMP/shared
VICTIM=berth-victim-$$
DUMMY=bdmy$$
VICTIM_PID=""
cleanup() {
	ctr_cleanup_all
	[ -n "$VICTIM_PID" ] && kill "$VICTIM_PID" 2>/dev/null
	sleep 0.2
	for d in /sys/fs/cgroup/$VICTIM /sys/fs/cgroup/*/$VICTIM; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	# Anything that leaked below the shared mount, deepest first.
	grep " $SHARED" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	umount -l "$SHARED" 2>/dev/null
	ip link del "$DUMMY" 2>/dev/null
	true
}
B=$BERTH_TEST_TMP/bundle
make_bundle "$B"
run_ct() { timeout 30 $CTR run -b "$B" "$@"; }
NO_UTS='[{"type": "pid"}, {"type": "ipc"}, {"type": "mount"}, {"type": "network"}]'
NO_NET='[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]'

# --- hostname without a UTS namespace.
host_name=$(hostname)
C_NS="$NO_UTS" C_HOSTNAME="$host_name" write_config "$B"
out=$(run_ct hn1 2>&1) && fail "a hostname without a UTS namespace was accepted (it sets the host's)"
echo "$out" | grep -qi "uts namespace" || fail "hostname refusal does not say why: $out"
[ "$(hostname)" = "$host_name" ] || fail "the host's hostname changed to $(hostname)"

# --- net.* sysctl without a network namespace; with one it applies inside only.
ttl=$(cat /proc/sys/net/ipv4/ip_default_ttl)
C_NS="$NO_NET" C_LINUX_EXTRA=",\"sysctl\": {\"net.ipv4.ip_default_ttl\": \"$ttl\"}" write_config "$B"
out=$(run_ct sc1 2>&1) && fail "a net.* sysctl without a network namespace was accepted (it sets the host's)"
echo "$out" | grep -q "net.ipv4.ip_default_ttl" || fail "sysctl refusal does not name the key: $out"
C_LINUX_EXTRA=",\"sysctl\": {\"net.ipv4.ip_default_ttl\": \"$ttl\"}" write_config "$B"
out=$(timeout 30 $CTR run --net host -b "$B" sc1h 2>&1) && fail "a net.* sysctl with --net host was accepted (it sets the host's)"
echo "$out" | grep -q "net.ipv4.ip_default_ttl" || fail "sysctl refusal with --net host does not name the key: $out"
new=$(( ttl == 99 ? 98 : 99 ))
C_LINUX_EXTRA=",\"sysctl\": {\"net.ipv4.ip_default_ttl\": \"$new\"}" \
	C_ARGS='["cat", "/proc/sys/net/ipv4/ip_default_ttl"]' write_config "$B"
out=$(run_ct sc2 2>&1) || fail "a net.* sysctl with a network namespace failed: $out"
[ "$out" = "$new" ] || fail "sysctl inside: expected $new, got $out"
[ "$(cat /proc/sys/net/ipv4/ip_default_ttl)" = "$ttl" ] || fail "the host's ip_default_ttl changed"

# --- rootfsPropagation "private" with the bundle on a shared mount.
mkdir -p "$SHARED"
mount -t tmpfs -o size=16m tmpfs "$SHARED" || fail "cannot mount a tmpfs for the shared test"
mount --make-shared "$SHARED" || fail "cannot make $SHARED shared"
SB=$SHARED/bundle
make_bundle "$SB"
for prop in private slave; do
	C_LINUX_EXTRA=",\"rootfsPropagation\": \"$prop\"" C_ARGS='["sh", "-c", "echo ran"]' write_config "$SB"
	out=$(timeout 30 $CTR run -b "$SB" "pr$prop" 2>&1) || fail "rootfsPropagation $prop on a shared mount failed: $out"
	[ "$out" = ran ] || fail "rootfsPropagation $prop: unexpected output: $out"
	leaked=$(grep -c " $SB/" /proc/self/mountinfo)
	[ "$leaked" -eq 0 ] || fail "rootfsPropagation $prop: $leaked container mounts leaked into the host: $(grep " $SB/" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' ')"
done

# --- the cgroup mount is read-only below its top too.
C_MOUNTS_EXTRA=',{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}' \
	C_ARGS='["sh", "-c", "for d in /sys/fs/cgroup/*/; do [ -e $d/cgroup.procs ] && { echo 1 > $d/cgroup.procs && echo moved:$d; }; done 2>/dev/null; grep -c \" /sys/fs/cgroup/[^ ]* [^ ]* rw\" /proc/mounts; cat /proc/self/cgroup"]' \
	write_config "$B"
out=$(run_ct cgro 2>&1) || fail "run with a cgroup mount failed: $out"
echo "$out" | grep -q moved: && fail "the container moved itself out of its cgroup: $out"
[ "$(echo "$out" | sed -n 1p)" = 0 ] || fail "cgroup submounts left writable inside: $out"
echo "$out" | grep -Eq ':/berth/cgro$|::/berth/cgro$|/cgro$' || fail "not in its own cgroup: $out"

# --- a cgroupsPath that names a cgroup in use by someone else.
sleep 300 &
VICTIM_PID=$!
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	vdirs=/sys/fs/cgroup/$VICTIM
else
	vdirs=""
	for d in /sys/fs/cgroup/*/; do
		[ -e "$d/cgroup.procs" ] && vdirs="$vdirs $d$VICTIM"
	done
fi
for d in $vdirs; do
	mkdir -p "$d" || fail "cannot create the victim cgroup $d"
	for f in cpuset.cpus cpuset.mems; do
		[ -e "$d/$f" ] && cat "$d/../$f" > "$d/$f"
	done
done
for d in $vdirs; do
	echo "$VICTIM_PID" > "$d/cgroup.procs" || fail "cannot move the victim into $d"
done
C_LINUX_EXTRA=",\"cgroupsPath\": \"/$VICTIM\"" C_ARGS='["sh", "-c", "echo ran"]' write_config "$B"
out=$(run_ct vic1 2>&1)
rc=$?
kill -0 "$VICTIM_PID" 2>/dev/null || fail "the process in the named cgroup was killed ($out)"
[ $rc -ne 0 ] || fail "a cgroupsPath naming a cgroup in use was accepted: $out"
echo "$out" | grep -q "in use" || fail "cgroup in use: refusal does not say why: $out"
kill "$VICTIM_PID"
wait "$VICTIM_PID" 2>/dev/null
VICTIM_PID=""
write_config "$B"

# --- a tampered veth name in state.json.
need_cmd ip
ip link add "$DUMMY" type veth peer name "${DUMMY}p" || fail "cannot create the veth pair $DUMMY"
{
	C_ARGS='["sleep", "30"]' write_config "$B"
	timeout 30 $CTR create -b "$B" tamp >/dev/null 2>&1 || fail "create for the tampered state failed"
	st=$CTR_ROOT/tamp/state.json
	[ -f "$st" ] || fail "no state.json at $st"
	sed -i "s/}[[:space:]]*\$/, \"veth\": \"$DUMMY\" }/" "$st"
	grep -q "$DUMMY" "$st" || fail "could not tamper $st"
	timeout 30 $CTR delete -f tamp >/dev/null 2>&1
	ip link show "$DUMMY" >/dev/null 2>&1 || fail "delete removed host interface $DUMMY named by a tampered state.json"
	ip link del "$DUMMY"
	write_config "$B"
}

# --- exec fails rather than run outside the container's cgroup.
C_ARGS='["sleep", "30"]' write_config "$B"
timeout 30 $CTR run -d -b "$B" excg >/dev/null 2>&1 || fail "run -d for the exec cgroup test failed"
out=$(timeout 30 $CTR exec excg -- cat /proc/self/cgroup 2>&1) || fail "exec failed: $out"
echo "$out" | grep -q "/berth/excg" || fail "exec: not in the container's cgroup: $out"
st=$CTR_ROOT/excg/state.json
sed -i 's|\("cgroup": *"[^"]*\)excg"|\1excg-missing-'$$'"|' "$st"
grep -q "excg-missing-$$" "$st" || fail "could not tamper $st: $(cat "$st")"
out=$(timeout 30 $CTR exec excg -- cat /proc/self/cgroup 2>&1) &&
	fail "exec ran although it could not join the container's cgroup: $out"
echo "$out" | grep -q "cgroup" || fail "exec cgroup failure does not say why: $out"
timeout 30 $CTR kill excg KILL >/dev/null 2>&1
sed -i "s|excg-missing-$$|excg|" "$st"
timeout 30 $CTR delete -f excg >/dev/null 2>&1
write_config "$B"

# --- masking through the image's /dev/null.
C_ARGS='["sh", "-c", "wc -c < /proc/timer_list"]' write_config "$B"
sed -i '/"destination": "\/dev", "type": "tmpfs"/,+1d' "$B/config.json"
grep -q '"destination": "/dev",' "$B/config.json" && fail "could not drop the /dev mount from the config"
ln -s /proc/timer_list "$B/rootfs/dev/null"
out=$(run_ct mask1 2>&1)
rc=$?
rm -f "$B/rootfs/dev/null"
[ $rc -ne 0 ] || [ "$(echo "$out" | tr -d ' ')" = 0 ] ||
	fail "/proc/timer_list unmasked through a /dev/null symlink: $(echo "$out" | head -c 200)"
[ $rc -ne 0 ] && { echo "$out" | grep -Eq "not the null device|symlink" || fail "mask refusal does not say why: $out"; }
write_config "$B"

# --- user namespace without a network namespace: /sys fallback read-only, no host mqueue.
chmod 755 "$BERTH_TEST_TMP" "$B"
chown -R 100000:100000 "$B/rootfs"
mq=/dev/mqueue/berth-test-$$
if mount | grep -q ' /dev/mqueue ' || mount -t mqueue mqueue /dev/mqueue 2>/dev/null; then
	: > "$mq" 2>/dev/null || mq=""
else
	mq=""
fi
USERNS_NONET='[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}]'
MAPS=',"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]'
C_NS="$USERNS_NONET" C_LINUX_EXTRA="$MAPS" \
	C_ARGS='["sh", "-c", "grep -c \" /sys[^ ]* [^ ]* rw\" /proc/mounts; ls /dev/mqueue"]' write_config "$B"
out=$(run_ct unsys 2>&1)
rc=$?
[ -n "$mq" ] && rm -f "$mq"
chown -R 0:0 "$B/rootfs"
[ $rc -eq 0 ] || fail "user namespace without a network namespace failed: $out"
[ "$(echo "$out" | sed -n 1p)" = 0 ] || fail "userns: the host's /sys is writable below its top inside: $(echo "$out" | sed -n 1p) rw mounts"
[ -n "$mq" ] && echo "$out" | grep -q "berth-test-$$" && fail "userns: the host's message queues are visible inside: $out"
exit 0
