#!/bin/sh
# bootparams: the guest sees the memory size, command line and initrd bytes
# the loader was given, through both boot paths; and it fails, saying what
# differed, when they do not match.
. "$top_srcdir/tests/guests/guest-test.sh"

out="$BERTH_TEST_TMP/out"
initrd="$BERTH_TEST_TMP/initrd.bin"
head -c 300001 /dev/urandom >"$initrd" || fail "cannot make a test initrd"
size=$(wc -c <"$initrd" | tr -d ' ')
crc=$(gzip -c <"$initrd" | tail -c 8 | od -An -tx4 -N4 | tr -d ' \n')
[ ${#crc} -eq 8 ] || fail "cannot compute the initrd CRC-32 (got '$crc')"
pad=$(printf 'p%.0s' $(seq 1 500))

for fmt in bzImage elf; do
	img=$(guest_image bootparams $fmt)
	case $fmt in bzImage) entry=setup16 ;; elf) entry=pvh ;; esac
	base="expect_mem_mib=128 expect_initrd_size=$size expect_initrd_crc32=$crc"
	base="$base expect_entry=$entry pad=$pad"
	# " expect_cmdline_len=NNN" adds 23 bytes (a 3-digit length).
	cmdline="$base expect_cmdline_len=$(( ${#base} + 23 ))"

	guest_run "$out" 60 "$img" -initrd "$initrd" -append "$cmdline"
	guest_expect_exit 0 "$out"
	guest_expect_line '^BOOTPARAMS OK$' "$out"
	got=$(tr -d '\r' <"$out" | sed -n 's/^BOOTPARAMS cmdline: //p')
	[ "$got" = "$cmdline" ] ||
		fail "$fmt: command line did not round-trip: got '$got'"
	echo "ok: bootparams.$fmt passes with the right values"

	# The checks can fail: a wrong CRC, a wrong memory size, no initrd.
	guest_run "$out" 60 "$img" -initrd "$initrd" \
		-append "expect_initrd_size=$size expect_initrd_crc32=deadbeef"
	guest_expect_exit 1 "$out"
	guest_expect_line "^BOOTPARAMS FAIL: initrd crc32 is $crc, expected deadbeef" "$out"
	guest_run "$out" 60 "$img" -append "expect_mem_mib=256 expect_initrd_size=$size"
	guest_expect_exit 1 "$out"
	guest_expect_line '^BOOTPARAMS FAIL: e820 usable RAM is [0-9]* KiB, expected 256 MiB' "$out"
	guest_expect_line "^BOOTPARAMS FAIL: initrd size is 0, expected $size" "$out"
	echo "ok: bootparams.$fmt reports wrong values"
done
