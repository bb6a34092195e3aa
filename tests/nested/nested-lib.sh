# nested-lib.sh - sourced by tests/nested/*.sh and tests/bench/nested-boot.sh:
# builds an "outer" initramfs for a QEMU TCG machine (-cpu max: AMD SVM)
# that loads Debian's kvm modules, gets a real /dev/kvm, and runs berth-vmm
# (and optionally QEMU) on an inner Linux guest; then boots it.
#
#   nested_build_outer OUT MODE INNER_MARKER
#       MODE kvm      : load the modules, report /dev/kvm, power off
#            berth    : ... then boot the inner Linux with berth-vmm: the
#                       bzImage, driven through the console and control
#                       sockets by vmmctl ($BERTH_VMMCTL), then the ELF
#                       vmlinux through its PVH note
#            bench    : ... berth-vmm, then qemu -M microvm -accel kvm (if
#                       qemu-system-x86_64 is packed: NESTED_WITH_QEMU=1)
#   nested_run_outer OUT_LOG SECS INITRD   boot it; sets $nested_status
#
# The outer /init prints lines starting with "NESTED: " (never the inner
# marker itself), e.g. "NESTED: /dev/kvm ready", "NESTED: berth-vmm exit
# status 6", "NESTED: berth-vmm marker after 3.41 s".
. "$top_srcdir/tests/lib/linux-assets.sh"

NESTED_OUTER_MEM="${NESTED_OUTER_MEM:-1536}"
NESTED_INNER_MEM="${NESTED_INNER_MEM:-256}"
NESTED_INNER_CMDLINE="${NESTED_INNER_CMDLINE:-console=ttyS0 reboot=k panic=1 i8042.noaux berth_test=reboot}"

# Copy an executable and every shared library ldd names (with the loader)
# into TREE at the same paths.
nested_copy_with_libs() {
	_tree=$1 _exe=$2 _dest=$3
	mkdir -p "$_tree$(dirname "$_dest")" || return 1
	cp -L "$_exe" "$_tree$_dest" || return 1
	for _lib in $(ldd "$_exe" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$_tree$(dirname "$_lib")" || return 1
		[ -e "$_tree$_lib" ] || cp -L "$_lib" "$_tree$_lib" || return 1
	done
}

_nested_init() {
	cat <<'EOF_INIT'
#!/bin/sh
# outer /init of tests/nested (nested-lib.sh)
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mode=$(cat /etc/nested-mode)
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "NESTED: outer up at $(uptime_s) s, kernel $(uname -r), mode $mode"
if grep -qw svm /proc/cpuinfo; then echo "NESTED: cpu has svm"; else echo "NESTED: cpu has no svm"; fi
for m in irqbypass kvm kvm-amd; do
	if insmod "/kvm/$m.ko"; then echo "NESTED: insmod $m ok"; else echo "NESTED: insmod $m failed"; fi
done
if [ -c /dev/kvm ]; then
	echo "NESTED: /dev/kvm ready"
else
	echo "NESTED: /dev/kvm missing"
	dmesg | tail -n 20
	poweroff -f
fi
[ "$mode" = kvm ] && poweroff -f

# run_inner NAME COMMAND...: the inner console goes to ours; report when the
# inner marker shows up and how the command ended.
run_inner() {
	name=$1
	shift
	echo "NESTED: starting $name at $(uptime_s) s"
	start=$(uptime_s)
	{ timeout 150 "$@" </dev/null 2>&1; echo $? >/tmp/rc; } |
		awk -v marker="$(cat /etc/inner-marker)" -v name="$name" -v start="$start" '
		{ print; fflush() }
		index($0, marker) && !seen {
			seen = 1
			getline up < "/proc/uptime"; close("/proc/uptime")
			split(up, f, " ")
			printf "NESTED: %s marker after %.2f s\n", name, f[1] - start
			fflush()
		}'
	echo "NESTED: $name exit status $(cat /tmp/rc) at $(uptime_s) s"
}

# berth mode: the bzImage through the console and control sockets (echo,
# stats, pause/resume, graceful shutdown), then the ELF vmlinux through PVH.
berth_full() {
	nl='
'
	ctl() { /usr/bin/vmmctl call /tmp/vm/ctl.sock "$@"; }
	con() { /usr/bin/vmmctl console /tmp/vm/console.sock "$@"; }
	echo "NESTED: starting berth-vmm at $(uptime_s) s"
	start=$(uptime_s)
	/usr/bin/berth-vmm -n inner -k /inner/vmlinuz -i /inner/initrd.gz -m "$(cat /etc/inner-mem)" \
		-a "$(sed 's/berth_test=[a-z]*/berth_test=interactive/' /etc/inner-cmdline)" -r /tmp/vm \
		</dev/null >/tmp/vmm.log 2>&1 &
	vpid=$!
	i=0
	while [ ! -S /tmp/vm/console.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	con 150 BERTH-READY >/tmp/boot.out
	tr -d '\r' </tmp/boot.out
	echo
	echo "NESTED: outer clock $(date +%s)"
	if grep -q BERTH-READY /tmp/boot.out; then
		awk -v s="$start" '{ split($0, f, " "); printf "NESTED: berth-vmm marker after %.2f s\n", f[1] - s }' /proc/uptime
		con 60 "BERTH-ECHO: ping-1" "ping-1$nl" >/dev/null && echo "NESTED: echo ping-1 ok"
		echo "NESTED: stats $(ctl stats)"
		ctl pause >/dev/null && echo "NESTED: pause ok, info $(ctl info)"
		if con 5 "BERTH-ECHO: ping-2" "ping-2$nl" >/dev/null; then
			echo "NESTED: echo while paused"
		else
			echo "NESTED: no echo while paused"
		fi
		ctl resume >/dev/null && echo "NESTED: resume ok"
		con 60 "BERTH-ECHO: ping-2" >/dev/null && echo "NESTED: echo ping-2 after resume ok"
		con 100 BERTH-CTRL-ALT-DEL >/tmp/cad.out &
		sleep 1
		ctl shutdown '{"timeout_s": 60}' >/dev/null && echo "NESTED: shutdown requested"
	fi
	i=0
	while kill -0 $vpid 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		[ $i -eq 100 ] && { echo "NESTED: berth-vmm still running after 100 s: killing it"; kill -9 $vpid; }
	done
	wait $vpid
	echo "NESTED: berth-vmm exit status $? at $(uptime_s) s"
	wait
	grep -q BERTH-CTRL-ALT-DEL /tmp/cad.out 2>/dev/null && echo "NESTED: the inner init got Ctrl-Alt-Del"
	sed 's/^/NESTED: vmm.log: /' /tmp/vmm.log | tail -n 30
	rm -rf /tmp/vm
	mkdir -p /tmp/vm
	run_inner berth-vmm-pvh /usr/bin/berth-vmm -n inner-pvh -k /inner/vmlinux -i /inner/initrd.gz \
		-m "$(cat /etc/inner-mem)" -a "$(cat /etc/inner-cmdline)" -r /tmp/vm --console stdio
}

mkdir -p /tmp/vm
if [ "$mode" = berth ]; then
	berth_full
else
	run_inner berth-vmm /usr/bin/berth-vmm -n inner -k /inner/vmlinuz -i /inner/initrd.gz \
		-m "$(cat /etc/inner-mem)" -a "$(cat /etc/inner-cmdline)" -r /tmp/vm --console stdio
fi
if [ "$mode" = bench ] && [ -x /usr/bin/qemu-system-x86_64 ]; then
	# microvm has no i8042: reboot by triple fault there (after the marker).
	run_inner qemu-microvm qemu-system-x86_64 -M microvm -accel kvm -cpu host -m "$(cat /etc/inner-mem)" \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-L /usr/share/qemu -kernel /inner/vmlinuz -initrd /inner/initrd.gz \
		-append "$(sed 's/reboot=k/reboot=t/' /etc/inner-cmdline)"
fi
echo "NESTED: done at $(uptime_s) s"
poweroff -f
EOF_INIT
}

nested_build_outer() {
	_nout=$1 _mode=$2 _marker=$3
	_moddir=$(linux_assets_modules_dir) || return 1
	_kernel=$(linux_assets_kernel) || return 1
	_bb=$(linux_assets_busybox) || return 1
	_tree="$BERTH_TEST_TMP/outer-tree"
	rm -rf "$_tree"
	mkdir -p "$_tree/bin" "$_tree/etc" "$_tree/kvm" "$_tree/inner" "$_tree/proc" \
		"$_tree/sys" "$_tree/tmp" || return 1
	cp "$_bb" "$_tree/bin/busybox" && ln -s busybox "$_tree/bin/sh" || return 1
	for _m in virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-amd; do
		cp "$_moddir/kernel/$_m.ko" "$_tree/kvm/" ||
			{ echo "nested: $_moddir has no kernel/$_m.ko" >&2; return 1; }
	done
	if [ "$_mode" != kvm ]; then
		[ -x "$BERTH_VMM" ] || { echo "nested: $BERTH_VMM was not built" >&2; return 1; }
		nested_copy_with_libs "$_tree" "$BERTH_VMM" /usr/bin/berth-vmm || return 1
		cp "$_kernel" "$_tree/inner/vmlinuz" || return 1
		if [ "$_mode" = berth ]; then
			cp "$(linux_assets_vmlinux)" "$_tree/inner/vmlinux" || return 1
			[ -x "$BERTH_VMMCTL" ] || { echo "nested: $BERTH_VMMCTL was not built" >&2; return 1; }
			nested_copy_with_libs "$_tree" "$BERTH_VMMCTL" /usr/bin/vmmctl || return 1
		fi
		linux_assets_initrd "$_tree/inner/initrd.gz" "$_marker" || return 1
		if [ "$_mode" = bench ] && [ -n "$NESTED_WITH_QEMU" ]; then
			nested_copy_with_libs "$_tree" "$(command -v qemu-system-x86_64)" \
				/usr/bin/qemu-system-x86_64 || return 1
			mkdir -p "$_tree/usr/share/qemu"
			for _f in bios-microvm.bin qboot.rom linuxboot_dma.bin pvh.bin kvmvapic.bin; do
				[ -e "/usr/share/qemu/$_f" ] && cp -L "/usr/share/qemu/$_f" "$_tree/usr/share/qemu/"
			done
		fi
	fi
	_nested_init >"$_tree/init" && chmod 755 "$_tree/init" || return 1
	printf '%s\n' "$_mode" >"$_tree/etc/nested-mode"
	printf '%s\n' "$_marker" >"$_tree/etc/inner-marker"
	printf '%s\n' "$NESTED_INNER_MEM" >"$_tree/etc/inner-mem"
	printf '%s\n' "$NESTED_INNER_CMDLINE" >"$_tree/etc/inner-cmdline"
	linux_assets_cpio "$_tree" "$_nout" || return 1
	rm -rf "$_tree"
}

nested_run_outer() {
	_log=$1 _secs=$2 _initrd=$3
	_kernel=$(linux_assets_kernel) || return 1
	timeout -k 5 "$_secs" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 1 \
		-m "$NESTED_OUTER_MEM" -display none -serial stdio -monitor none -no-reboot \
		-kernel "$_kernel" -initrd "$_initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4" </dev/null >"$_log" 2>&1
	nested_status=$?
	return 0
}

nested_show() {
	echo "---- outer serial output ($1) ----" >&2
	tr -d '\r' <"$1" | tail -n "${2:-60}" >&2
	echo "----" >&2
}
