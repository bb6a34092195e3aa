#!/bin/sh
# nested-boot.sh - benchmark (never pass/fail): in one QEMU TCG machine with
# a real /dev/kvm (see tests/nested), the time from starting the VMM to the
# inner busybox init's marker, for berth-vmm and, when qemu is packed in too
# (NESTED_WITH_QEMU=1, the default here), `qemu-system-x86_64 -M microvm
# -accel kvm`, on the same Debian cloud kernel and initramfs.
# Run: top_srcdir=... top_builddir=... BERTH_VMM=... sh tests/bench/nested-boot.sh
# Prints a Markdown section for BENCHMARKS.md; the whole serial log is
# left in $top_builddir/tests/nested-boot.log.
top_srcdir="${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}"
top_builddir="${top_builddir:-$(pwd)}"
BERTH_VMM="${BERTH_VMM:-$top_builddir/berth-vmm}"
BERTH_TEST_CACHE="${BERTH_TEST_CACHE:-$top_builddir/tests/.cache}"
export top_srcdir top_builddir BERTH_VMM BERTH_TEST_CACHE
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "nested-boot: needs qemu-system-x86_64"; exit 77; }
BERTH_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nested-bench.XXXXXX") || exit 1
trap 'rm -rf "$BERTH_TEST_TMP"' EXIT
. "$top_srcdir/tests/nested/nested-lib.sh"

NESTED_WITH_QEMU="${NESTED_WITH_QEMU-1}"
# quiet: measure the boot, not the speed of a polled 8250 one level down.
NESTED_INNER_CMDLINE="${NESTED_INNER_CMDLINE:-console=ttyS0 reboot=k panic=1 i8042.noaux quiet berth_test=reboot}"
marker="BERTH-BENCH-INNER-UP"
nested_build_outer "$BERTH_TEST_TMP/outer.cpio.gz" bench "$marker" || exit 1
nested_run_outer "$BERTH_TEST_TMP/outer.log" 400 "$BERTH_TEST_TMP/outer.cpio.gz"
cp "$BERTH_TEST_TMP/outer.log" "$top_builddir/tests/nested-boot.log" 2>/dev/null
tr -d '\r' <"$BERTH_TEST_TMP/outer.log" | grep '^NESTED: ' >&2
tb=$(tr -d '\r' <"$BERTH_TEST_TMP/outer.log" | sed -n "s/^NESTED: berth-vmm marker after \([0-9.]*\) s/\1/p")
tq=$(tr -d '\r' <"$BERTH_TEST_TMP/outer.log" | sed -n "s/^NESTED: qemu-microvm marker after \([0-9.]*\) s/\1/p")
echo "## Real Linux boot, one level down (tests/bench/nested-boot.sh)"
echo
echo "Inside one QEMU TCG \`-cpu max\` machine with a real /dev/kvm (kvm-amd), Debian's cloud"
echo "kernel and a busybox initramfs, \`quiet\` on the command line: time from starting the VMM to"
echo "the inner init's marker, both VMMs in the same run. Command: \`make bench BENCH=nested-boot\`."
echo
echo "| VMM | to init marker | goal |"
echo "|---|---|---|"
echo "| berth-vmm | ${tb:-no marker} s | |"
echo "| qemu-system-x86_64 -M microvm -accel kvm | ${tq:-no marker} s | |"
if [ -n "$tb" ] && [ -n "$tq" ]; then
	echo "| ratio berth-vmm / QEMU microvm | $(awk -v a="$tb" -v b="$tq" 'BEGIN { printf "%.2f", a / b }') | < 1 (ahead of QEMU microvm) |"
fi
echo
echo "Both run under nested KVM on software-emulated SVM, so absolute times are far above a real host's."

