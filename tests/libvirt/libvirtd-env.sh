# libvirtd-env.sh - a private libvirtd + virtlogd for one test, as root.
# Source it, then:
#   virtd_start [ID]     start a pair of daemons (ID: a letter, default a);
#                        sets VIRT_URI (exit 77 if impossible).  Several IDs
#                        give several independent "hosts" (own host UUID).
#   virtd_stop           destroy what runs, stop every pair (for `cleanup')
#   virtd_log            print the logs of the last started pair (on failure)
#
# A root libvirtd keeps its QEMU driver state in fixed places (/run/libvirt,
# /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt, /etc/libvirt);
# libvirt 9.0 relocates only the sockets (unix_sock_dir) and the pid files
# (--pid-file).  So the daemons run in a private mount namespace
# (unshare -m) where each of those directories is a fresh tmpfs (and
# /etc/libvirt our own configuration), and their sockets live in
# $BERTH_TEST_TMP where the test can reach them.  The system daemon's
# sockets and state are never touched.  QEMU runs as root without cgroups,
# security drivers or per-domain /dev namespaces, so no libvirt-qemu user is
# needed.

VIRT_DIR="$BERTH_TEST_TMP/libvirt-a"
VIRT_N=0

virtd_log() {
	for f in "$VIRT_DIR"/log/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 40 lines)"
		tail -n 40 "$f"
	done
}

# The socket is there, or the daemon died trying (then stop waiting).
virtd_up() {
	[ -S "$VIRT_DIR/sock/libvirt-sock" ] && return 0
	pid=$(cat "$VIRT_DIR/run/libvirtd.pid" 2>/dev/null)
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		echo "libvirtd (pid $pid) exited"
		return 0
	fi
	return 1
}

virtd_start() {
	VIRT_DIR="$BERTH_TEST_TMP/libvirt-${1:-a}"
	VIRT_N=$((VIRT_N + 1))
	need_root
	need_cmd libvirtd virtlogd unshare qemu-system-x86_64 mount
	mkdir -p "$VIRT_DIR/etc" "$VIRT_DIR/sock" "$VIRT_DIR/log" "$VIRT_DIR/run"
	cat >"$VIRT_DIR/etc/libvirtd.conf" <<-EOF
	unix_sock_dir = "$VIRT_DIR/sock"
	unix_sock_rw_perms = "0700"
	unix_sock_ro_perms = "0700"
	auth_unix_rw = "none"
	auth_unix_ro = "none"
	log_outputs = "3:file:$VIRT_DIR/log/libvirtd.log"
	host_uuid = "6c1f2a3e-5b7d-4e8f-9a0b-1c2d3e4f5a$(printf %02x "$VIRT_N")"
	EOF
	cat >"$VIRT_DIR/etc/virtlogd.conf" <<-EOF
	log_outputs = "3:file:$VIRT_DIR/log/virtlogd.log"
	EOF
	cat >"$VIRT_DIR/etc/qemu.conf" <<-EOF
	user = "root"
	group = "root"
	dynamic_ownership = 0
	remember_owner = 0
	security_driver = "none"
	cgroup_controllers = [ ]
	namespaces = [ ]
	stdio_handler = "logd"
	EOF
	# The QEMU driver resolves its compiled-in user before it reads
	# qemu.conf, so the user must exist even though QEMU runs as root.
	if ! getent passwd libvirt-qemu >/dev/null 2>&1; then
		need_cmd useradd
		useradd --system --user-group --no-create-home --home-dir /var/lib/libvirt \
			--shell /usr/sbin/nologin libvirt-qemu 2>/dev/null ||
			getent passwd libvirt-qemu >/dev/null 2>&1 ||	# another test made it meanwhile
			skip "cannot create the libvirt-qemu user"
	fi
	# The mount points must exist outside the namespace (empty directories
	# the libvirt packages would create anyway).
	mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /etc/libvirt || \
		skip "cannot create libvirt's mount points"
	unshare --mount --propagation private -- /bin/sh -c '
		set -e
		d=$1
		for m in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
			mount -t tmpfs -o mode=0755 berth-test "$m"
		done
		mount --bind "$d/etc" /etc/libvirt
		virtlogd -d -f /etc/libvirt/virtlogd.conf -p "$d/run/virtlogd.pid"
		libvirtd -d -f /etc/libvirt/libvirtd.conf -p "$d/run/libvirtd.pid"
	' virtd "$VIRT_DIR" >"$VIRT_DIR/log/start.out" 2>&1 || {
		cat "$VIRT_DIR/log/start.out"
		virtd_log
		skip "libvirtd could not be started in a private mount namespace"
	}
	VIRT_URI="qemu+unix:///system?socket=$VIRT_DIR/sock/libvirt-sock"
	export VIRT_URI
	if ! wait_for 30 virtd_up; then
		virtd_log
		skip "libvirtd did not create its socket within 30 s"
	fi
	if ! [ -S "$VIRT_DIR/sock/libvirt-sock" ]; then
		virtd_log
		fail "libvirtd exited during start-up (see its log above)"
	fi
	# The QEMU driver must be there (it probes QEMU's capabilities first).
	if ! wait_for 60 virsh -q -c "$VIRT_URI" list --all; then
		virsh -c "$VIRT_URI" list --all
		virtd_log
		fail "libvirtd runs but does not answer on $VIRT_URI"
	fi
}

virtd_stop() {
	for dir in "$BERTH_TEST_TMP"/libvirt-*; do
		[ -d "$dir" ] && virtd_stop_one "$dir"
	done
	return 0
}

virtd_stop_one() {
	uri="qemu+unix:///system?socket=$1/sock/libvirt-sock"
	if [ -S "$1/sock/libvirt-sock" ]; then
		timeout 20 virsh -q -c "$uri" list --name 2>/dev/null | while IFS= read -r d; do
			[ -n "$d" ] && timeout 20 virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1
		done
	fi
	for p in libvirtd virtlogd; do
		f="$1/run/$p.pid"
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
	done
	return 0
}
