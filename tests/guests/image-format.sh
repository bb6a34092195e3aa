#!/bin/sh
# image-format: every guest's bzImage carries a valid boot-protocol 2.15
# setup header (sizes consistent with the file, the 64-bit entry at +0x200
# of the payload) and every ELF a PVH entry note, as the loaders expect.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd od readelf

GUEST_DIR="$top_builddir/tests/guests"
u8() { od -An -tu1 -j "$(($2))" -N1 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$(($2))" -N2 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$(($2))" -N4 "$1" | tr -d ' '; }
u64() { od -An -tu8 -j "$(($2))" -N8 "$1" | tr -d ' '; }
str() { dd if="$1" bs=1 skip="$(($2))" count="$3" 2>/dev/null; }

for g in hello bootparams echo timer counter portfuzz miniguest; do
	img="$GUEST_DIR/$g.bzImage"
	[ -f "$img" ] || fail "$img was not built"
	size=$(wc -c <"$img" | tr -d ' ')
	[ "$(str "$img" 0x202 4)" = HdrS ] || fail "$g.bzImage: no HdrS at 0x202"
	[ "$(u16 "$img" 0x1fe)" = $((0xaa55)) ] || fail "$g.bzImage: boot_flag is not 0xaa55"
	[ "$(u16 "$img" 0x206)" = $((0x020f)) ] || fail "$g.bzImage: protocol $(u16 "$img" 0x206), want 0x20f"
	[ $(( $(u8 "$img" 0x211) & 1 )) = 1 ] || fail "$g.bzImage: loadflags lack LOADED_HIGH"
	[ $(( $(u16 "$img" 0x236) & 1 )) = 1 ] || fail "$g.bzImage: xloadflags lack XLF_KERNEL_64"
	[ "$(u32 "$img" 0x214)" = $((0x100000)) ] || fail "$g.bzImage: code32_start is not 1 MiB"
	[ "$(u64 "$img" 0x258)" = $((0x100000)) ] || fail "$g.bzImage: pref_address is not 1 MiB"
	[ "$(u8 "$img" 0x234)" = 0 ] || fail "$g.bzImage: claims to be relocatable"
	[ "$(u32 "$img" 0x238)" -ge 255 ] || fail "$g.bzImage: cmdline_size below 255"
	[ "$(u32 "$img" 0x22c)" = $((0x7fffffff)) ] || fail "$g.bzImage: initrd_addr_max is not 0x7fffffff"
	setup=$(( ($(u8 "$img" 0x1f1) + 1) * 512 ))
	payload=$(( size - setup ))
	sys=$(( $(u32 "$img" 0x1f4) * 16 ))
	[ "$sys" -le "$payload" ] && [ "$sys" -gt $((payload - 16)) ] ||
		fail "$g.bzImage: syssize*16 = $sys but the payload after $setup setup bytes is $payload"
	[ "$(u32 "$img" 0x260)" -ge "$payload" ] || fail "$g.bzImage: init_size below the payload size"
	hdr_end=$(( 0x202 + $(u8 "$img" 0x201) ))
	[ "$hdr_end" -ge $((0x26c)) ] || fail "$g.bzImage: header ends at $hdr_end, before kernel_info_offset"
	ki=$(( setup + $(u32 "$img" 0x268) ))
	[ "$(str "$img" "$ki" 4)" = LToP ] || fail "$g.bzImage: kernel_info_offset does not point at LToP"
	# The payload is the ELF's loadable bytes, and +0x200 is startup_64.
	elf="$GUEST_DIR/$g.elf"
	entry=$(readelf -h "$elf" | sed -n 's/.*Entry point address: *//p')
	[ "$entry" = 0x100200 ] || fail "$g.elf: entry $entry, want 0x100200"
	readelf -n "$elf" | grep -q 'Xen .*0x00000012' || fail "$g.elf: no XEN_ELFNOTE_PHYS32_ENTRY note"
	pvh=$(readelf -n "$elf" | sed -n 's/.*description data: \(..\) \(..\) \(..\) \(..\).*/0x\4\3\2\1/p')
	[ -n "$pvh" ] && [ $((pvh)) -gt $((0x100000)) ] || fail "$g.elf: PVH entry '$pvh' not in the image"
	readelf -lW "$elf" | grep -q 'NOTE .* 0x4$' || fail "$g.elf: PT_NOTE is not 4-byte aligned"
	echo "ok: $g.bzImage (setup $setup, payload $payload) and $g.elf (PVH entry $pvh)"
done
