#!/bin/sh
# Every isolation defence tried as an attack, with openat2 and again with the
# fallback path walk (BERTH_CTR_NO_OPENAT2=1):
#   a mount target whose final component is a symlink to the host: refused;
#   a mount under a directory symlink that climbs out of the rootfs: lands
#     inside the rootfs; /proc replaced by a symlink: refused;
#   process.cwd outside the root (.., a magic link, relative): never escapes;
#   a leaked descriptor never reaches the container;
#   the runtime binary cannot be overwritten through /proc/<pid>/exe.
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
cleanup() { ctr_cleanup_all; umount "$HOSTDIR" 2>/dev/null; true; }
B=$BERTH_TEST_TMP/bundle
HOSTDIR=$BERTH_TEST_TMP/hostdir
mkdir -p "$HOSTDIR"
echo host-secret > "$HOSTDIR/secret"
run_ct() { timeout 30 $CTR run -b "$B" "$@"; }

attack_round() { # LABEL
	L=$1
	rm -rf "$B"
	make_bundle "$B"

	# 1. Final component is a symlink to a host directory.
	ln -s "$HOSTDIR" "$B/rootfs/evil"
	C_MOUNTS_EXTRA=',{"destination": "/evil", "type": "tmpfs", "source": "tmpfs"}' write_config "$B"
	out=$(run_ct "a1$L" 2>&1) && fail "$L: a symlinked mount target was accepted"
	echo "$out" | grep -q "symlink" || fail "$L: refusal does not say why: $out"
	[ "$(cat "$HOSTDIR/secret")" = host-secret ] || fail "$L: the host directory was mounted over"
	rm "$B/rootfs/evil"

	# 2. A directory symlink that climbs out with ../..: resolved in the root.
	ln -s "../../../../../../../../../..$HOSTDIR" "$B/rootfs/climb"
	mkdir -p "$BERTH_TEST_TMP/src"
	echo from-src > "$BERTH_TEST_TMP/src/file"
	C_MOUNTS_EXTRA=",{\"destination\": \"/climb/sub\", \"type\": \"bind\", \"source\": \"$BERTH_TEST_TMP/src\", \"options\": [\"bind\", \"ro\"]}" \
		C_ARGS="[\"sh\", \"-c\", \"cat /climb/sub/file; ls /climb/secret 2>&1; echo inside:\$(cat $HOSTDIR/sub/file)\"]" write_config "$B"
	out=$(run_ct "a2$L" 2>&1) || fail "$L: mount under a climbing symlink failed: $out"
	echo "$out" | grep -q from-src || fail "$L: bind mount not visible inside: $out"
	[ -e "$HOSTDIR/sub" ] && fail "$L: the mount escaped to the host ($HOSTDIR/sub exists)"
	echo "$out" | grep -q "inside:from-src" || fail "$L: the target is not at the in-root path: $out"
	echo "$out" | grep -q host-secret && fail "$L: host file visible inside"
	rm -rf "$B/rootfs/climb" "$B/rootfs$BERTH_TEST_TMP"

	# 3. /proc as a symlink.
	rmdir "$B/rootfs/proc"
	ln -s /tmp/fakeproc "$B/rootfs/proc"
	write_config "$B"
	out=$(run_ct "a3$L" 2>&1) && fail "$L: /proc as a symlink was accepted"
	echo "$out" | grep -q "proc.*symlink" || fail "$L: /proc refusal: $out"
	rm "$B/rootfs/proc"
	mkdir "$B/rootfs/proc"

	# 4. cwd outside the root.
	C_CWD=/../../../../../.. C_ARGS='["sh", "-c", "pwd; ls /"]' write_config "$B"
	out=$(run_ct "a4$L" 2>&1) || fail "$L: cwd with .. failed: $out"
	[ "$(echo "$out" | head -1)" = / ] || fail "$L: cwd .. left the root: $out"
	echo "$out" | grep -qx bin || fail "$L: not in the container's root: $out"
	C_CWD=/proc/self/fd/3 C_ARGS='["sh", "-c", "pwd; ls"]' write_config "$B"
	out=$(run_ct "a5$L" 2>&1) && fail "$L: cwd through a magic link was accepted: $out"
	C_CWD=tmp write_config "$B"
	out=$(run_ct "a6$L" 2>&1) && fail "$L: a relative cwd was accepted"
	echo "$out" | grep -q "process.cwd: must be an absolute path" || fail "$L: relative cwd message: $out"

	# 5. A leaked descriptor (fd 7 on a host directory, fd 8 on a file).
	C_ARGS='["sh", "-c", "ls /proc/self/fd | tr \"\\n\" \" \""]' write_config "$B"
	out=$(run_ct "a7$L" 7<"$HOSTDIR" 8<"$HOSTDIR/secret")
	[ "$out" = "0 1 2 3 " ] || fail "$L: descriptors inside: expected '0 1 2 3 ' (3 is ls' own), got '$out'"
}

# --preserve-fds N passes exactly fds 3..3+N-1 on (foreground and detached).
rm -rf "$B"
make_bundle "$B"
echo passed-on > "$BERTH_TEST_TMP/fd3file"
C_ARGS='["sh", "-c", "cat <&3; ls /proc/self/fd | tr \"\\n\" \" \""]' write_config "$B"
out=$(timeout 20 $CTR run --preserve-fds 1 -b "$B" pf1 3<"$BERTH_TEST_TMP/fd3file" 4<"$HOSTDIR" | tr '\n' ' ')
[ "$out" = "passed-on 0 1 2 3 4 " ] || fail "preserve-fds (foreground): expected 'passed-on 0 1 2 3 4 ' (4 is ls' own), got '$out'"
timeout 20 $CTR create --preserve-fds 1 -b "$B" pf2 3<"$BERTH_TEST_TMP/fd3file" 4<"$HOSTDIR" || fail "create with preserve-fds failed"
timeout 20 $CTR start pf2 || fail "start pf2 failed"
wait_for 10 sh -c "$CTR logs pf2 | grep -q passed-on" || fail "preserve-fds (detached): fd 3 not passed: $($CTR logs pf2)"
[ "$($CTR logs pf2 | tail -n 1)" = "0 1 2 3 4 " ] || fail "preserve-fds (detached): descriptors: $($CTR logs pf2)"
timeout 20 $CTR delete -f pf2

attack_round o
BERTH_CTR_NO_OPENAT2=1; export BERTH_CTR_NO_OPENAT2
attack_round f
unset BERTH_CTR_NO_OPENAT2

# 6. /proc/<pid>/exe: the monitor and exec'd helpers run from a sealed memfd.
rm -rf "$B"
make_bundle "$B"
sum0=$(sha256sum "$BERTH_CTR" | cut -d' ' -f1)
# Inside, keep trying to write every /proc/N/exe it can see.
C_ARGS='["sh", "-c", "while true; do for f in /proc/[0-9]*/exe; do echo pwned >> $f 2>/dev/null && echo WROTE $f; done; done"]' \
	write_config "$B"
timeout 20 $CTR run -d -b "$B" exe1 7<"$HOSTDIR" || fail "run -d exe1 failed"
mon=$($CTR state exe1 | sed -n 's/.*"monitorPid":\([0-9]*\).*/\1/p')
[ -n "$mon" ] || fail "no monitor pid"
readlink "/proc/$mon/exe" | grep -q memfd || fail "monitor does not run from a memfd: $(readlink /proc/$mon/exe)"
( echo pwned >> "/proc/$mon/exe" ) 2>/dev/null && fail "the monitor's executable is writable from the host"
# Where the kernel lets a process change its exe link (CAP_SYS_RESOURCE, or
# checkpoint/restore support with CAP_SYS_ADMIN) the copy is adopted in
# place, not executed: then no writable mapping of it exists (an executed
# copy maps its data segment from itself).
kcfg=$( (zcat /proc/config.gz || cat "/boot/config-$(uname -r)") 2>/dev/null | grep -c '^CONFIG_CHECKPOINT_RESTORE=y')
capres=$(( 0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 24 & 1 ))
if [ "${kcfg:-0}" -gt 0 ] || [ "$capres" -eq 1 ]; then
	grep -q "rw-p.*memfd:berth-ctr" "/proc/$mon/maps" &&
		fail "the monitor executed its sealed copy instead of adopting it: $(grep berth-ctr "/proc/$mon/maps")"
	grep -q "memfd:berth-ctr" "/proc/$mon/maps" || fail "the monitor's code is not mapped from the sealed copy"
else
	echo "attacks: this kernel cannot change an exe link here; the copy is executed (not checked)"
fi
[ -z "$(ls /proc/$mon/fd 2>/dev/null | grep -x 7)" ] || \
	[ "$(readlink /proc/$mon/fd/7)" != "$HOSTDIR" ] || fail "the caller's fd 7 leaked into the monitor"
i=0
while [ $i -lt 10 ]; do
	timeout 10 $CTR exec exe1 -- true || fail "exec $i failed"
	i=$((i + 1))
done
sleep 0.5
$CTR logs exe1 | grep -q WROTE && fail "the container wrote to an executable: $($CTR logs exe1 | head -3)"
[ "$(sha256sum "$BERTH_CTR" | cut -d' ' -f1)" = "$sum0" ] || fail "berth-ctr on disk changed"
timeout 20 $CTR delete -f exe1
# Nothing in the environment talks it out of the sealed copy (an older
# berth-ctr trusted a variable; now the seals of its own executable decide).
C_ARGS='["sleep", "100"]' write_config "$B"
_BERTH_CTR_SEALED=1 timeout 20 $CTR run -d -b "$B" exe2 || fail "run -d exe2 failed"
mon=$($CTR state exe2 | sed -n 's/.*"monitorPid":\([0-9]*\).*/\1/p')
readlink "/proc/$mon/exe" | grep -q memfd || fail "an environment variable turned the sealing off: $(readlink /proc/$mon/exe)"
timeout 20 $CTR delete -f exe2
exit 0
