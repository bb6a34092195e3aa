# tests/ctr/lib.sh - shared by the berth-ctr tests: source after setting
# nothing; gives need_ctr, make_bundle DIR and write_config DIR, and $CTR
# (berth-ctr with a private --root).
#
# write_config reads these variables (all optional):
#   C_ARGS      JSON array of the process args        default ["sh","-c","true"]
#   C_ENV       JSON array of env strings             default PATH + TERM
#   C_CWD       process.cwd                           default /
#   C_UID C_GID C_GIDS (JSON array)                   default 0 0 []
#   C_TERMINAL  true|false                            default false
#   C_READONLY  true|false                            default false
#   C_HOSTNAME  hostname                              default berth-test
#   C_CAPS      JSON capabilities object              default: none given (runtime default)
#   C_NNP       true|false (noNewPrivileges)          default true
#   C_NS        JSON array of namespaces              default pid,ipc,uts,mount,network
#   C_MOUNTS_EXTRA  ",{...}" appended to mounts
#   C_LINUX_EXTRA   ",\"key\": ..." appended inside linux
#   C_PROCESS_EXTRA ",\"key\": ..." appended inside process
#   C_RESOURCES JSON resources object                 default {}
#   C_ROOT      root.path                             default rootfs
. "$top_srcdir/tests/lib/sh-helpers.sh"

need_ctr() {
	need_root
	[ -x "$BERTH_CTR" ] || fail "berth-ctr not built at $BERTH_CTR"
	[ -x /bin/busybox ] || skip "needs busybox-static (/bin/busybox)"
	/bin/busybox --list >/dev/null 2>&1 || skip "/bin/busybox does not list applets"
	if ldd /bin/busybox >/dev/null 2>&1; then
		skip "/bin/busybox is not static (install busybox-static)"
	fi
}

CTR_ROOT="$BERTH_RUN_DIR/ct"
CTR="$BERTH_CTR --root $CTR_ROOT"

# make_bundle DIR: DIR/rootfs with a static busybox and its applet links.
make_bundle() {
	_b=$1
	mkdir -p "$_b/rootfs/bin" "$_b/rootfs/proc" "$_b/rootfs/sys" "$_b/rootfs/dev" \
		"$_b/rootfs/tmp" "$_b/rootfs/etc" "$_b/rootfs/root" "$_b/rootfs/home/user"
	cp /bin/busybox "$_b/rootfs/bin/busybox"
	for _a in $(/bin/busybox --list); do
		[ "$_a" = busybox ] || ln -sf busybox "$_b/rootfs/bin/$_a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > "$_b/rootfs/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\n' > "$_b/rootfs/etc/group"
	chown 1000:1000 "$_b/rootfs/home/user"
	chmod 1777 "$_b/rootfs/tmp"
	write_config "$_b"
}

write_config() {
	_caps=""
	[ -n "$C_CAPS" ] && _caps=",\"capabilities\": $C_CAPS"
	_args=${C_ARGS:-'["sh", "-c", "true"]'}
	_env=${C_ENV:-'["PATH=/bin:/usr/bin", "TERM=xterm"]'}
	_ns=${C_NS:-'[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}]'}
	_res=${C_RESOURCES:-'{}'}
	_gids=${C_GIDS:-'[]'}
	cat > "$1/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": ${C_TERMINAL:-false},
    "user": { "uid": ${C_UID:-0}, "gid": ${C_GID:-0}, "additionalGids": $_gids },
    "args": $_args,
    "env": $_env,
    "cwd": "${C_CWD:-/}",
    "noNewPrivileges": ${C_NNP:-true},
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ]
    $_caps
    ${C_PROCESS_EXTRA:-}
  },
  "root": { "path": "${C_ROOT:-rootfs}", "readonly": ${C_READONLY:-false} },
  "hostname": "${C_HOSTNAME:-berth-test}",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=65536k"] }
    ${C_MOUNTS_EXTRA:-}
  ],
  "linux": {
    "namespaces": $_ns,
    "resources": $_res,
    "maskedPaths": [ "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
      "/sys/firmware" ],
    "readonlyPaths": [ "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
      "/proc/sysrq-trigger" ]
    ${C_LINUX_EXTRA:-}
  }
}
EOF
}

# Remove every container left under the private root (bounded).
ctr_cleanup_all() {
	for _id in $($CTR list -q 2>/dev/null); do
		timeout 20 $CTR delete -f "$_id" >/dev/null 2>&1 || true
	done
}
