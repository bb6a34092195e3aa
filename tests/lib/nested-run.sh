# nested-run.sh - run a test one level down, in a QEMU TCG `-cpu max`
# machine whose /dev/kvm is real (kvm-amd on emulated SVM), for hosts whose
# own /dev/kvm is missing or unusable.  Sourced by sh-helpers.sh's need_kvm.
#
#   nested_rerun SCRIPT [ARGS...]
#       boots Debian's generic kernel with this host's root file system shared
#       read-only over virtio-9p under a throw-away tmpfs overlay, loads the
#       kvm modules, and runs `$SHELL SCRIPT ARGS...` there with this test's
#       environment, cwd and (fresh) private directories; prints what the test
#       printed and returns its exit status.  Inside, BERTH_NESTED_INNER=1
#       and BERTH_TIME_SCALE=4 (the factor wait_for and tui_wait apply to
#       their timeouts; BERTH_NESTED_TIME_SCALE sets another).
#
# Everything the inner test writes, and every process it leaves behind, is
# gone when the machine powers off; nothing of the host is writable from it
# but one result folder ($BERTH_TEST_TMP/nested-out; with BERTH_KEEP_TMP set
# it keeps a copy of the inner $BERTH_TEST_TMP as nested-out/tmp).  The
# host's /tmp is not seen inside (a fresh tmpfs is mounted there).
#
# Knobs: BERTH_NESTED_TIMEOUT (seconds, default 600: seven times the
# slowest test, so a stalled machine costs no more), BERTH_NESTED_MEM (MiB,
# default 6144: tests boot 4 GiB guests; untouched memory costs nothing),
# BERTH_NESTED_SMP (default 2: with one vCPU, a vCPU running a guest of
# its own can miss its timer under TCG and the whole machine stalls; one
# vCPU is about twice as fast for the rest), BERTH_NESTED_CPU (default max),
# BERTH_NESTED_JOBS (nested machines at once, default 1; tests wait for one),
# BERTH_NESTED_QUIET (seconds, default 150: a machine whose heartbeat is
# older is taken for stalled, see below), BERTH_NESTED_TRIES (machines a
# test may get when they fail, default 3: two in a row have stalled here).
. "$top_srcdir/tests/lib/linux-assets.sh"

_nested_run_modules="virtio_pci 9pnet_virtio 9p overlay kvm-amd"

# The initramfs /init: mounts the host's root, builds the overlay, runs the
# inner script (written by nested_rerun into the result folder) in a chroot,
# then powers off.  Lines starting "nested-run:" are its own.
_nested_run_init() {
	cat <<'EOF_INIT'
#!/bin/sh
# /init of tests/lib/nested-run.sh
/bin/busybox mkdir -p /proc /sys /dev /bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
die() { echo "nested-run: $*"; poweroff -f; }
for m in $(cat /mod/order); do
	insmod "/mod/$m" || echo "nested-run: insmod $m failed"
done
[ -c /dev/kvm ] || die "no /dev/kvm after loading kvm-amd (does the CPU offer svm?)"
mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower ||
	die "cannot mount the host's root over 9p"
mount -t tmpfs -o size=75% tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
	die "cannot build the overlay"
mkdir -p /newroot/nested-out
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=512000 nestedout /newroot/nested-out ||
	die "cannot mount the result folder"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
ln -s /proc/self/fd /newroot/dev/fd
ln -s /proc/self/fd/0 /newroot/dev/stdin
ln -s /proc/self/fd/1 /newroot/dev/stdout
ln -s /proc/self/fd/2 /newroot/dev/stderr
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs tmpfs /newroot/run
mount -t tmpfs tmpfs /newroot/tmp
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup 2>/dev/null
echo "nested-run: running the test"
chroot /newroot /bin/sh /nested-out/inner.sh
sync
poweroff -f
EOF_INIT
}

# _nested_run_initrd MODULES_DIR: build (or reuse) the runner initramfs,
# holding the cache lock; prints its path.
_nested_run_initrd() {
	_linux_assets_locked _nested_run_initrd_unlocked "$1"
}

_nested_run_initrd_unlocked() {
	_nr_c=$(_linux_assets_cache)
	_nr_moddir=$1
	_nr_bb=$(linux_assets_busybox) || return 1
	_nr_key=$( { sha256sum "$_nr_bb" | cut -d' ' -f1; basename "$_nr_moddir"
		echo "$_nested_run_modules"; _nested_run_init; echo v1; } | sha256sum | cut -c1-32)
	_nr_out="$_nr_c/nested-run/initrd-$_nr_key.cpio.gz"
	if [ ! -s "$_nr_out" ]; then
		mkdir -p "$_nr_c/nested-run" || return 1
		_nr_tree=$(mktemp -d "${TMPDIR:-/tmp}/nested-run.XXXXXX") || return 1
		mkdir -p "$_nr_tree/bin" "$_nr_tree/mod"
		cp "$_nr_bb" "$_nr_tree/bin/busybox" && ln -s busybox "$_nr_tree/bin/sh" || return 1
		# modules.dep lists each module's dependencies, nearest first:
		# load them farthest first, each once.
		_nr_order=""
		for _nr_m in $_nested_run_modules; do
			_nr_line=$(grep -E "/$_nr_m\\.ko:" "$_nr_moddir/modules.dep") ||
				{ _linux_assets_err "$_nr_moddir has no module $_nr_m"; rm -rf "$_nr_tree"; return 1; }
			for _nr_f in $(echo "${_nr_line#*:}" | tr ' ' '\n' | sed '/^$/d' | tac) "${_nr_line%%:*}"; do
				case " $_nr_order " in
				*" $_nr_f "*) ;;
				*) _nr_order="$_nr_order $_nr_f"
				   cp "$_nr_moddir/$_nr_f" "$_nr_tree/mod/" || { rm -rf "$_nr_tree"; return 1; }
				   basename "$_nr_f" >>"$_nr_tree/mod/order" ;;
				esac
			done
		done
		_nested_run_init >"$_nr_tree/init" && chmod 755 "$_nr_tree/init"
		linux_assets_cpio "$_nr_tree" "$_nr_out.$$" || { rm -rf "$_nr_tree"; return 1; }
		mv "$_nr_out.$$" "$_nr_out"
		rm -rf "$_nr_tree"
	fi
	echo "$_nr_out"
}

nested_rerun() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 ||
		skip "needs a usable /dev/kvm, or qemu-system-x86 to run one level down"
	echo "nested-run: this host has no usable /dev/kvm; running $(basename "$1") one level down," \
		"in a QEMU TCG -cpu max machine with a real /dev/kvm"
	_nr_kernel=$(linux_assets_kernel generic) || fail "nested-run: no kernel for the nested machine (see above)"
	_nr_moddir=$(linux_assets_modules_dir generic) || fail "nested-run: no kernel modules (see above)"
	_nr_initrd=$(_nested_run_initrd "$_nr_moddir") || fail "nested-run: cannot build its initramfs (see above)"
	_nr_out="$BERTH_TEST_TMP/nested-out"
	rm -rf "$_nr_out"
	mkdir -p "$_nr_out" || fail "nested-run: cannot create $_nr_out"
	# The test's environment and command line, NUL-separated, for
	# `xargs -0 env -i` inside: every VAR=value first, then the command.
	{
		printf 'BERTH_NESTED_INNER=1\0BERTH_TIME_SCALE=%s\0' "${BERTH_NESTED_TIME_SCALE:-4}"
		env -0
		printf '%s\0' /bin/sh /nested-out/status.sh "${SHELL:-/bin/sh}" "$@"
	} >"$_nr_out/argv"
	# xargs folds every failing status into 123: the test's own goes to rc.
	printf '%s\n' '"$@"' 'echo $? >/nested-out/rc' >"$_nr_out/status.sh"
	cat >"$_nr_out/inner.sh" <<EOF_INNER
#!/bin/sh
# written by nested_rerun for $(basename "$1")
hostname berth-nested 2>/dev/null
ip link set lo up 2>/dev/null
mkdir -p '$BERTH_TEST_TMP' '$BERTH_RUN_DIR' '$BERTH_DATA_DIR' '$BERTH_CONFIG_DIR'
cd '$(pwd)' || { echo 125 >/nested-out/rc; exit 0; }
# the heartbeat nested_rerun watches: a machine that stops writing it has stalled
( while :; do date +%s >/nested-out/beat; sleep 5; done ) </dev/null >/dev/null 2>&1 &
xargs -0 -a /nested-out/argv env -i >/nested-out/log 2>&1 </dev/null
[ -s /nested-out/rc ] || echo 125 >/nested-out/rc
# A failed test whose berth-vmm logged a triple fault of a guest other than
# the deliberate one (mkguest's triplefault) names that log: see guest-fault
# in nested_rerun.
case \$(cat /nested-out/rc) in
0|77) ;;
*) grep -rlF 'triple fault' '$BERTH_TEST_TMP' '$BERTH_RUN_DIR' 2>/dev/null | while read -r f; do
	grep -q 'kernel .*/triplefault[.]img' "\$f" || echo "\$f"
   done >/nested-out/guest-fault ;;
esac
[ -n '$BERTH_KEEP_TMP' ] && cp -a '$BERTH_TEST_TMP' /nested-out/tmp 2>/dev/null
EOF_INNER
	_nr_t=${BERTH_NESTED_TIMEOUT:-600}
	# One nested machine at a time (BERTH_NESTED_JOBS=N allows N): two TCG
	# machines of two vCPUs each on a small host starve each other's
	# guests of timer ticks, and the tests' hang limits then fire.
	_nr_slot=""
	if command -v flock >/dev/null 2>&1; then
		_nr_lockdir="$(_linux_assets_cache)/nested-run"
		mkdir -p "$_nr_lockdir"
		_nr_i=1
		while [ -z "$_nr_slot" ]; do
			exec 8>"$_nr_lockdir/machine-$_nr_i.lock"
			if flock -n 8; then
				_nr_slot=$_nr_i
			elif [ "$_nr_i" -lt "${BERTH_NESTED_JOBS:-1}" ]; then
				exec 8>&-
				_nr_i=$((_nr_i + 1))
			else
				echo "nested-run: waiting for a nested machine of another test to end"
				flock 8 && _nr_slot=$_nr_i
			fi
		done
	fi
	# A machine that ends without the test's status has failed as a whole:
	# it stalled (a TCG machine on a loaded host can: see the SMP note
	# above; tests bound their own waits) or its kernel crashed (its
	# kvm_amd on the emulated SVM has, here).  A test that fails always
	# leaves its status.  A stalled machine stops writing its heartbeat
	# (inner.sh writes it every 5 s): one whose heartbeat is older than
	# $BERTH_NESTED_QUIET s, counted from the start while it boots, is
	# killed then rather than at the time limit.  Such a machine gets
	# another, up to $BERTH_NESTED_TRIES in all, and the log says so.
	_nr_quiet=${BERTH_NESTED_QUIET:-150}
	_nr_tries=${BERTH_NESTED_TRIES:-3}
	_nr_try=1
	while :; do
		: >"$_nr_out/beat"
		timeout -k 10 "$_nr_t" qemu-system-x86_64 -machine q35 -accel tcg -cpu "${BERTH_NESTED_CPU:-max}" \
			-smp "${BERTH_NESTED_SMP:-2}" -m "${BERTH_NESTED_MEM:-6144}" \
			-display none -monitor none -serial "file:$_nr_out/serial.log" -no-reboot \
			-kernel "$_nr_kernel" -initrd "$_nr_initrd" \
			-append "console=ttyS0 panic=-1 loglevel=3 quiet mitigations=off" \
			-virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap,id=hostroot" \
			-virtfs "local,path=$_nr_out,mount_tag=nestedout,security_model=passthrough,id=nestedout" \
			</dev/null >"$_nr_out/qemu.log" 2>&1 8>&- &
		_nr_qpid=$!
		_nr_stalled=""
		while kill -0 "$_nr_qpid" 2>/dev/null; do
			sleep 2
			_nr_age=$(( $(date +%s) - $(stat -c %Y "$_nr_out/beat" 2>/dev/null || date +%s) ))
			if [ "$_nr_age" -gt "$_nr_quiet" ] && [ ! -s "$_nr_out/rc" ]; then
				_nr_stalled=$_nr_age
				kill -TERM "$_nr_qpid" 2>/dev/null
				break
			fi
		done
		wait "$_nr_qpid"
		_nr_q=$?
		[ -f "$_nr_out/log" ] && cat "$_nr_out/log"
		# One level down the emulated SVM has made guests that never
		# fault (the flood and counter guests, busy loops writing to the
		# serial port) triple-fault, in several tests: a test that failed
		# with such a fault in a berth-vmm log gets one more machine, as a
		# machine that failed as a whole does.  A test that fails for
		# itself fails there again.
		if [ -s "$_nr_out/rc" ] && [ -s "$_nr_out/guest-fault" ] && [ "$_nr_try" -lt "$_nr_tries" ]; then
			echo "nested-run: the test failed and a guest triple-faulted one level down" \
				"($(sed 's|.*/||' "$_nr_out/guest-fault" | tr '\n' ' ')); running it again on a new machine"
			_nr_try=$((_nr_try + 1))
			rm -f "$_nr_out/log" "$_nr_out/serial.log" "$_nr_out/qemu.log" "$_nr_out/beat" \
				"$_nr_out/rc" "$_nr_out/guest-fault"
			rm -rf "$_nr_out/tmp"
			continue
		fi
		[ -s "$_nr_out/rc" ] && break
		if [ -n "$_nr_stalled" ]; then
			echo "nested-run: the nested machine stalled (no heartbeat for $_nr_stalled s); killed it" >&2
		else
			echo "nested-run: the nested machine ended without the test's exit status" \
				"(qemu status $_nr_q$( [ "$_nr_q" -eq 124 ] && echo ", killed after $_nr_t s"))" >&2
		fi
		echo "---- its console ----" >&2
		tail -n 40 "$_nr_out/serial.log" >&2
		tail -n 5 "$_nr_out/qemu.log" >&2
		if [ "$_nr_try" -ge "$_nr_tries" ]; then
			[ -n "$_nr_slot" ] && exec 8>&-
			return 1
		fi
		_nr_try=$((_nr_try + 1))
		echo "nested-run: the machine failed; running the test again on a new one (machine $_nr_try of $_nr_tries)"
		rm -f "$_nr_out/log" "$_nr_out/serial.log" "$_nr_out/qemu.log" "$_nr_out/beat"
		rm -rf "$_nr_out/tmp"
	done
	[ -n "$_nr_slot" ] && exec 8>&-
	return "$(cat "$_nr_out/rc")"
}
