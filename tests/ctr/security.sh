#!/bin/sh
# Isolation settings: user-namespace mapping, read-only root, masked and
# read-only paths, seccomp (default profile and the config's own),
# capabilities dropped to the default set or to the configured one,
# no_new_privs.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
cleanup() { ctr_cleanup_all; }
B=$BERTH_TEST_TMP/bundle
make_bundle "$B"
run_ct() { timeout 30 $CTR run -b "$B" "$@"; }
ALL_NS='[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}]'

# --- user namespace: container root is host uid 100000 (which must be able
# to reach the rootfs, as with every runtime).
chmod 755 "$BERTH_TEST_TMP" "$B"
chown -R 100000:100000 "$B/rootfs"
USERNS='[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}, {"type": "user"}]'
MAPS=',"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]'
C_ARGS='["sh", "-c", "id -u; cat /proc/self/uid_map; touch /root/made-inside"]' C_NS="$USERNS" \
	C_LINUX_EXTRA="$MAPS" write_config "$B"
out=$(run_ct uns1) || fail "user namespace run failed: $out"
echo "$out" | head -1 | grep -qx 0 || fail "userns: id -u inside: expected 0, got '$out'"
echo "$out" | sed -n 2p | grep -Eq '^ *0 +100000 +65536$' || fail "userns: uid_map: '$out'"
owner=$(stat -c %u "$B/rootfs/root/made-inside")
[ "$owner" = 100000 ] || fail "userns: a file made by root inside is owned by host uid $owner, expected 100000"
chown -R 0:0 "$B/rootfs"
chown 1000:1000 "$B/rootfs/home/user"

# --- read-only root.
C_ARGS='["sh", "-c", "touch /rootfile 2>&1; touch /tmp/ok && echo tmp-ok"]' C_READONLY=true write_config "$B"
out=$(run_ct ro1)
echo "$out" | grep -q "Read-only file system" || fail "read-only root: writing / did not fail: $out"
echo "$out" | grep -q "tmp-ok" || fail "read-only root: the tmpfs on /tmp should stay writable: $out"
[ -e "$B/rootfs/rootfile" ] && fail "read-only root: file created"

# --- masked paths unreadable (empty /dev/null or empty tmpfs), read-only
# paths not writable.
C_ARGS='["sh", "-c", "echo kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c); echo keys=$(cat /proc/keys | wc -c); echo scsi=$(ls /proc/scsi 2>/dev/null | wc -l); echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo sys-writable"]' \
	write_config "$B"
out=$(run_ct mask1)
echo "$out" | grep -qx "kcore=0" || fail "masked /proc/kcore readable: $out"
echo "$out" | grep -qx "keys=0" || fail "masked /proc/keys readable: $out"
echo "$out" | grep -qx "scsi=0" || fail "masked /proc/scsi listable: $out"
echo "$out" | grep -q "sys-writable" && fail "read-only /proc/sys was writable"

# --- devices: the configured node is created; on a host with the v1 device
# cgroup, a node made inside with mknod but not allowed cannot be opened.
C_LINUX_EXTRA=',"devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]' \
	C_ARGS='["sh", "-c", "stat -c \"%t:%T %a\" /dev/fuse; stat -c %t:%T /dev/null; if mknod /tmp/sda b 8 0 2>/dev/null; then head -c1 /tmp/sda >/dev/null 2>&1 && echo READ-SDA || echo sda-denied; else echo sda-denied; fi"]' \
	write_config "$B"
out=$(run_ct dev1 2>&1)
echo "$out" | grep -q "^a:e5 666" || fail "device /dev/fuse not created as c 10:229 0666: $out"
echo "$out" | grep -q "^1:3" || fail "/dev/null is not c 1:3: $out"
if [ -d /sys/fs/cgroup/devices ]; then
	echo "$out" | grep -q "sda-denied" || fail "device cgroup let an unlisted block device through: $out"
fi

# --- capabilities: the default set (the usual container default).
C_ARGS='["sh", "-c", "grep -E \"^Cap(Eff|Bnd|Prm)\" /proc/self/status; grep NoNewPrivs /proc/self/status; grep ^Seccomp: /proc/self/status"]' \
	write_config "$B"
out=$(run_ct cap1)
echo "$out" | grep -q "CapEff:.*00000000a80425fb" || fail "default CapEff: $out"
echo "$out" | grep -q "CapBnd:.*00000000a80425fb" || fail "default CapBnd: $out"
echo "$out" | grep -Eq "NoNewPrivs:[[:space:]]+1" || fail "no_new_privs not set: $out"
echo "$out" | grep -Eq "Seccomp:[[:space:]]+2" || fail "no seccomp filter: $out"
# noNewPrivileges false: the filter is loaded without setting no_new_privs
# (libseccomp would set it on every load), for the init and for exec alike.
C_NNP=false C_ARGS='["sh", "-c", "grep NoNewPrivs /proc/self/status; grep ^Seccomp: /proc/self/status"]' \
	write_config "$B"
out=$(run_ct nnp1)
echo "$out" | grep -Eq "NoNewPrivs:[[:space:]]+0" || fail "noNewPrivileges false, yet no_new_privs set: $out"
echo "$out" | grep -Eq "Seccomp:[[:space:]]+2" || fail "noNewPrivileges false: no seccomp filter: $out"
C_NNP=false C_ARGS='["sleep", "100"]' write_config "$B"
timeout 30 $CTR run -d -b "$B" nnp2 || fail "run -d nnp2 failed"
out=$(timeout 20 $CTR exec nnp2 -- sh -c "grep NoNewPrivs /proc/self/status; grep ^Seccomp: /proc/self/status")
echo "$out" | grep -Eq "NoNewPrivs:[[:space:]]+0" || fail "exec, noNewPrivileges false, yet no_new_privs set: $out"
echo "$out" | grep -Eq "Seccomp:[[:space:]]+2" || fail "exec, noNewPrivileges false: no seccomp filter: $out"
timeout 20 $CTR delete -f nnp2 >/dev/null
# Asked for: only CAP_KILL and CAP_NET_BIND_SERVICE.
C_CAPS='{"bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"]}' \
	C_ARGS='["sh", "-c", "grep ^CapEff /proc/self/status; chown 1000 /tmp 2>&1"]' write_config "$B"
out=$(run_ct cap2)
echo "$out" | grep -q "CapEff:.*0000000000000420" || fail "CapEff with two caps: $out"
echo "$out" | grep -q "Operation not permitted" || fail "chown without CAP_CHOWN succeeded: $out"
# A non-root user gets no effective capabilities.
C_CAPS="" C_UID=1000 C_GID=1000 C_ARGS='["sh", "-c", "grep ^CapEff /proc/self/status"]' write_config "$B"
out=$(run_ct cap3)
echo "$out" | grep -q "CapEff:.*0000000000000000" || fail "CapEff for uid 1000: $out"

# --- seccomp, default profile: swapoff is denied even with every capability
# granted (EPERM), while without a filter it reaches the kernel (ENOENT).
FULL='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_SETUID","CAP_SETGID","CAP_SYS_ADMIN","CAP_KILL"]'
CAPS_FULL="{\"bounding\": $FULL, \"effective\": $FULL, \"permitted\": $FULL}"
C_CAPS="$CAPS_FULL" C_ARGS='["sh", "-c", "swapoff /no-such-swap 2>&1; true"]' write_config "$B"
out=$(run_ct sc1)
echo "$out" | grep -q "Operation not permitted" || fail "default seccomp: swapoff not denied: $out"
C_CAPS="$CAPS_FULL" C_ARGS='["sh", "-c", "swapoff /no-such-swap 2>&1; true"]' \
	C_LINUX_EXTRA=',"seccomp": null' write_config "$B"
out=$(run_ct sc2)
echo "$out" | grep -q "No such file" || fail "without seccomp swapoff should reach the kernel: $out"
# Default profile without CAP_SYS_ADMIN: unshare and mount denied.
C_ARGS='["sh", "-c", "unshare -n true 2>&1; mount -t tmpfs x /mnt 2>&1; true"]' write_config "$B"
out=$(run_ct sc3)
[ "$(echo "$out" | grep -ci 'not permitted\|denied')" -ge 2 ] || fail "unshare/mount not denied: $out"
# Default profile: io_uring (always), fanotify_init (CAP_SYS_ADMIN),
# set_mempolicy (CAP_SYS_NICE) and vhangup (CAP_SYS_TTY_CONFIG) denied with
# the default capabilities; a static probe makes the calls.
${CC:-cc} -static -O1 -o "$B/rootfs/bin/seccomp-probe" "$top_srcdir/tests/ctr/seccomp-probe.c" ||
	fail "cannot build the static seccomp probe (libc6-dev's libc.a is needed)"
C_ARGS='["seccomp-probe"]' write_config "$B"
out=$(run_ct sc5 2>&1) || fail "seccomp probe failed: $out"
for call in io_uring_setup fanotify_init set_mempolicy vhangup; do
	echo "$out" | grep -q "^$call=Operation not permitted" ||
		fail "default seccomp: $call not denied with EPERM: $(echo "$out" | grep "^$call=")"
done
# The config's own profile: mkdir answers errno 13 (EACCES), the rest is allowed.
SC=',"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
C_ARGS='["sh", "-c", "mkdir /tmp/d 2>&1; touch /tmp/f && echo touch-ok"]' C_LINUX_EXTRA="$SC" write_config "$B"
out=$(run_ct sc4)
echo "$out" | grep -q "Permission denied" || fail "config seccomp: mkdir not denied with EACCES: $out"
echo "$out" | grep -q "touch-ok" || fail "config seccomp: touch should be allowed: $out"
# A rule libseccomp refuses (two conditions on one argument) fails the
# create with the rule named, and leaves no container behind.
SC=',"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}'
C_ARGS='["true"]' C_LINUX_EXTRA="$SC" write_config "$B"
out=$(run_ct sc6 2>&1) && fail "a filter libseccomp refuses was accepted: $out"
echo "$out" | grep -q "seccomp: rule for mkdir" || fail "the refused filter's error does not name the rule: $out"
[ ! -e "$CTR_ROOT/sc6" ] || fail "a failed create left its state directory"
exit 0
