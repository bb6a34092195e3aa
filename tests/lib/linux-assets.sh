# linux-assets.sh - a real Linux kernel and a busybox initramfs for tests.
# Source it.  Each function prints its result (a path) on stdout, or says
# why not on stderr and returns non-zero; linux_assets_initrd prints nothing.
#
#   linux_assets_kernel [FLAVOUR]  vmlinuz of Debian's linux-image-cloud-amd64
#                                  (the versioned image package it depends on),
#                                  or with FLAVOUR generic, of linux-image-amd64
#   linux_assets_modules_dir [FLAVOUR]
#                                  its extracted /lib/modules/<version>, with a
#                                  modules.dep
#   linux_assets_version [FLAVOUR] its version string (e.g. 6.1.0-56-cloud-amd64)
#   linux_assets_initrd OUT MARKER
#                                  writes a gzip'd newc cpio to OUT: busybox-
#                                  static, an /init that mounts proc, sysfs and
#                                  devtmpfs, prints MARKER on the console
#                                  (ttyS0 with console=ttyS0) and keeps a shell
#                                  there; `poweroff -f` powers off.  On the
#                                  kernel command line, berth_test=reboot or
#                                  berth_test=poweroff makes /init do that
#                                  right after the marker instead;
#                                  berth_test=interactive prints the clock
#                                  source and the RTC's time, then echoes
#                                  each console line as "BERTH-ECHO: line"
#                                  and reboots on Ctrl-Alt-Del.
#   linux_assets_vmlinux [FLAVOUR] the kernel's ELF vmlinux (with its PVH
#                                  note), unpacked from the bzImage payload
#   linux_assets_cpio DIR OUT      pack DIR (+ /dev/console) as such an archive
#
# Packages come only from Debian's archive (`apt-get download`, `dpkg-deb -x`)
# into $BERTH_TEST_CACHE/debs; the extracted kernel and the initramfs are
# cached in $BERTH_TEST_CACHE (initramfs by content), so later runs need no
# network.  Concurrent callers serialise on a lock file.

_linux_assets_cache() {
	echo "${BERTH_TEST_CACHE:-${TMPDIR:-/tmp}/berth-test-cache}"
}

_linux_assets_err() {
	echo "linux-assets: $*" >&2
	return 1
}

# Run "$@" holding the cache lock (flock when available).
_linux_assets_locked() {
	_la_c=$(_linux_assets_cache)
	mkdir -p "$_la_c" || return 1
	if command -v flock >/dev/null 2>&1; then
		(
			flock -w 900 9 || { echo "linux-assets: timed out waiting for $_la_c/.lock" >&2; exit 1; }
			"$@"
		) 9>"$_la_c/.lock"
	else
		"$@"
	fi
}

# FLAVOUR is cloud (Debian's linux-image-cloud-amd64: small, no 9p) or
# generic (linux-image-amd64: with the 9p file system that
# tests/lib/nested-run.sh shares the host's root through).
_linux_assets_meta() {
	case $1 in
	cloud) echo linux-image-cloud-amd64 ;;
	generic) echo linux-image-amd64 ;;
	*) _linux_assets_err "unknown kernel flavour \`$1'"; return 1 ;;
	esac
}

_linux_assets_dir() {
	case $1 in
	cloud) echo "$(_linux_assets_cache)/linux" ;;
	*) echo "$(_linux_assets_cache)/linux-$1" ;;
	esac
}

# Download and extract the kernel of FLAVOUR once; leaves DIR/VERSION, and
# DIR/root/lib/modules/VERSION/modules.dep (Debian's package ships none).
_linux_assets_fetch_unlocked() {
	_la_c=$(_linux_assets_cache)
	_la_meta=$(_linux_assets_meta "$1") || return 1
	_la_d=$(_linux_assets_dir "$1")
	if [ -s "$_la_d/VERSION" ]; then
		_la_v=$(cat "$_la_d/VERSION")
		[ -f "$_la_d/root/boot/vmlinuz-$_la_v" ] && [ -s "$_la_d/root/lib/modules/$_la_v/modules.dep" ] && return 0
	fi
	command -v apt-get >/dev/null 2>&1 || { _linux_assets_err "apt-get not found: cannot fetch Debian's $_la_meta"; return 1; }
	command -v dpkg-deb >/dev/null 2>&1 || { _linux_assets_err "dpkg-deb not found"; return 1; }
	_la_depmod=$(command -v depmod || echo /sbin/depmod)
	[ -x "$_la_depmod" ] || { _linux_assets_err "depmod not found (apt-get install kmod)"; return 1; }
	_la_dep=$(apt-cache depends "$_la_meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$_la_dep" ]; then
		_linux_assets_err "apt does not know $_la_meta or its image package (run apt-get update as root)"
		return 1
	fi
	_la_v=${_la_dep#linux-image-}
	mkdir -p "$_la_c/debs" || return 1
	if ! ls "$_la_c/debs/${_la_dep}_"*.deb >/dev/null 2>&1 ||
	   ! ls "$_la_c/debs/${_la_meta}_"*.deb >/dev/null 2>&1; then
		if ! (cd "$_la_c/debs" && apt-get download "$_la_meta" "$_la_dep") >"$_la_c/debs/download.log" 2>&1; then
			_linux_assets_err "apt-get download $_la_meta $_la_dep failed: $(tail -n 3 "$_la_c/debs/download.log" | tr '\n' ' ')"
			return 1
		fi
	fi
	_la_deb=$(ls "$_la_c/debs/${_la_dep}_"*.deb 2>/dev/null | tail -n 1)
	[ -n "$_la_deb" ] || { _linux_assets_err "no ${_la_dep} package in $_la_c/debs after download"; return 1; }
	rm -rf "$_la_d.tmp"
	mkdir -p "$_la_d.tmp/root" || return 1
	if ! dpkg-deb -x "$_la_deb" "$_la_d.tmp/root"; then
		rm -rf "$_la_d.tmp"
		_linux_assets_err "dpkg-deb -x $_la_deb failed"
		return 1
	fi
	if [ ! -f "$_la_d.tmp/root/boot/vmlinuz-$_la_v" ] || [ ! -d "$_la_d.tmp/root/lib/modules/$_la_v" ]; then
		rm -rf "$_la_d.tmp"
		_linux_assets_err "$_la_deb holds no boot/vmlinuz-$_la_v or lib/modules/$_la_v"
		return 1
	fi
	if ! "$_la_depmod" -b "$_la_d.tmp/root" "$_la_v"; then
		rm -rf "$_la_d.tmp"
		_linux_assets_err "depmod of $_la_deb failed"
		return 1
	fi
	echo "$_la_v" >"$_la_d.tmp/VERSION"
	rm -rf "$_la_d"
	mv "$_la_d.tmp" "$_la_d"
}

_linux_assets_fetch() {
	_linux_assets_locked _linux_assets_fetch_unlocked "${1:-cloud}"
}

linux_assets_version() {
	_linux_assets_fetch "${1:-cloud}" || return 1
	cat "$(_linux_assets_dir "${1:-cloud}")/VERSION"
}

linux_assets_kernel() {
	_la_lv=$(linux_assets_version "${1:-cloud}") || return 1
	echo "$(_linux_assets_dir "${1:-cloud}")/root/boot/vmlinuz-$_la_lv"
}

# The payload of a bzImage (boot protocol 2.08+: payload_offset at 0x248
# and payload_length at 0x24c, from the protected-mode code at
# (setup_sects + 1) * 512) is the compressed vmlinux ELF; Debian's is LZ4.
_linux_assets_vmlinux_unlocked() {
	_la_k=$1 _la_out=$2
	[ -s "$_la_out" ] && return 0
	command -v lz4 >/dev/null 2>&1 || { _linux_assets_err "lz4 not found (apt-get install lz4)"; return 1; }
	_la_hdr=$(od -An -tu1 -j 497 -N 1 "$_la_k" | tr -d ' ')
	[ "$_la_hdr" -eq 0 ] && _la_hdr=4
	_la_po=$(od -An -tu4 -j 584 -N 4 "$_la_k" | tr -d ' ')
	_la_pl=$(od -An -tu4 -j 588 -N 4 "$_la_k" | tr -d ' ')
	_la_off=$(( (_la_hdr + 1) * 512 + _la_po ))
	_la_magic=$(od -An -tx1 -j "$_la_off" -N 4 "$_la_k" | tr -d ' ')
	[ "$_la_magic" = 02214c18 ] || { _linux_assets_err "$_la_k: payload is not LZ4 (magic $_la_magic)"; return 1; }
	# lz4 complains about the size word the kernel build appends: judge the
	# result by its ELF magic instead.
	tail -c +$((_la_off + 1)) "$_la_k" | head -c "$_la_pl" |
		lz4 -dc >"$_la_out.tmp" 2>/dev/null
	[ "$(od -An -tx1 -N 4 "$_la_out.tmp" | tr -d ' ')" = 7f454c46 ] ||
		{ rm -f "$_la_out.tmp"; _linux_assets_err "$_la_k: the unpacked payload is not an ELF file"; return 1; }
	mv "$_la_out.tmp" "$_la_out"
}

linux_assets_vmlinux() {
	_la_vk=$(linux_assets_kernel "${1:-cloud}") || return 1
	_linux_assets_locked _linux_assets_vmlinux_unlocked "$_la_vk" "$(_linux_assets_dir "${1:-cloud}")/vmlinux" || return 1
	echo "$(_linux_assets_dir "${1:-cloud}")/vmlinux"
}

linux_assets_modules_dir() {
	_la_lv=$(linux_assets_version "${1:-cloud}") || return 1
	echo "$(_linux_assets_dir "${1:-cloud}")/root/lib/modules/$_la_lv"
}

# One newc header + name (+ no data): for nodes cpio cannot take from disk
# without root (the /dev/console the kernel opens before /init runs).
_linux_assets_newc() {
	# name mode(octal) rdevmajor rdevminor
	_la_nl=$(( ${#1} + 1 ))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		0 "$((0$2))" 0 0 1 0 0 0 0 "$3" "$4" "$_la_nl" 0 "$1"
	_la_pad=$(( (4 - (110 + _nl) % 4) % 4 ))
	[ "$_la_pad" -gt 0 ] && head -c "$_la_pad" /dev/zero
	return 0
}

linux_assets_cpio() {
	_la_cdir=$1 _la_cout=$2
	command -v cpio >/dev/null 2>&1 || { _linux_assets_err "cpio not found (apt-get install cpio)"; return 1; }
	command -v gzip >/dev/null 2>&1 || { _linux_assets_err "gzip not found"; return 1; }
	{
		{
			_linux_assets_newc dev 040755 0 0
			_linux_assets_newc dev/console 020600 5 1
		}
		(cd "$_la_cdir" && find . ! -name . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
	} | gzip -9n >"$_la_cout.tmp" || { rm -f "$_la_cout.tmp"; _linux_assets_err "packing $_la_cdir failed"; return 1; }
	mv "$_la_cout.tmp" "$_la_cout"
}

# The busybox-static binary (a dynamic busybox is no use in an initramfs).
linux_assets_busybox() {
	for _la_bb in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null)"; do
		[ -n "$_la_bb" ] && [ -x "$_la_bb" ] || continue
		if LC_ALL=C ldd "$_la_bb" 2>&1 | grep -q 'not a dynamic executable\|statically linked'; then
			echo "$_la_bb"
			return 0
		fi
	done
	_linux_assets_err "no static busybox found (apt-get install busybox-static)"
}

_linux_assets_init_script() {
	cat <<'EOF'
#!/bin/sh
# /init of a berth test initramfs (tests/lib/linux-assets.sh)
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
cat /etc/berth-marker
for w in $(cat /proc/cmdline); do
	case $w in
	berth_test=reboot) sync; reboot -f ;;
	berth_test=poweroff) sync; poweroff -f ;;
	berth_test=interactive)
		# What the kernel chose and read, then an echo loop on the
		# console.  As under a real init, Ctrl-Alt-Del reaches init (us)
		# as SIGINT instead of restarting the kernel at once.
		echo 0 >/proc/sys/kernel/ctrl-alt-del
		echo "BERTH-CLOCKSOURCE: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
		echo "BERTH-RTC: $(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null || echo none)"
		trap 'echo BERTH-CTRL-ALT-DEL; sync; reboot -f' INT
		echo BERTH-READY
		while :; do
			read -r line && echo "BERTH-ECHO: $line"
		done ;;
	esac
done
exec setsid cttyhack sh
EOF
}

linux_assets_initrd() {
	_linux_assets_locked _linux_assets_initrd_unlocked "$@"
}

_linux_assets_initrd_unlocked() {
	_la_out=$1 _la_marker=$2
	[ -n "$_la_out" ] && [ -n "$_la_marker" ] || { _linux_assets_err "usage: linux_assets_initrd OUT MARKER"; return 1; }
	case $_la_marker in *'
'*) _linux_assets_err "MARKER must be one line"; return 1 ;; esac
	_la_bb=$(linux_assets_busybox) || return 1
	_la_c=$(_linux_assets_cache)
	mkdir -p "$_la_c/initrd" || return 1
	_la_key=$( { sha256sum "$_la_bb" | cut -d' ' -f1; _linux_assets_init_script; echo "$_la_marker"; echo v1; } |
		sha256sum | cut -c1-32)
	_la_cached="$_la_c/initrd/busybox-$_la_key.cpio.gz"
	if [ ! -s "$_la_cached" ]; then
		_la_tree=$(mktemp -d "${TMPDIR:-/tmp}/linux-assets.XXXXXX") || return 1
		mkdir -p "$_la_tree/bin" "$_la_tree/proc" "$_la_tree/sys" "$_la_tree/tmp" "$_la_tree/etc"
		cp "$_la_bb" "$_la_tree/bin/busybox" || { rm -rf "$_la_tree"; return 1; }
		ln -s busybox "$_la_tree/bin/sh"
		_linux_assets_init_script >"$_la_tree/init"
		chmod 755 "$_la_tree/init"
		printf '%s\n' "$_la_marker" >"$_la_tree/etc/berth-marker"
		linux_assets_cpio "$_la_tree" "$_la_cached.$$" || { rm -rf "$_la_tree"; return 1; }
		mv "$_la_cached.$$" "$_la_cached"
		rm -rf "$_la_tree"
		# Callers with changing markers must not fill the disk: keep 16.
		ls -t "$_la_c/initrd/"busybox-*.cpio.gz 2>/dev/null | tail -n +17 |
			while read -r _la_old; do rm -f "$_la_old"; done
	fi
	cp "$_la_cached" "$_la_out" || { _linux_assets_err "cannot write $_la_out"; return 1; }
}
