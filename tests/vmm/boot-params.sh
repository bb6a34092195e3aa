#!/bin/sh
# The zero page berth-vmm builds: command line, type_of_loader 0xff, initrd
# address/size/bytes (page aligned, as high as possible under RAM end), and an
# e820 map that respects the PCI hole (RAM above 3 GiB appears at 4 GiB).
. "$top_srcdir/tests/vmm/lib.sh"
g=$(guest bootparams)
printf 'INITRD-BYTES-0123456789abcdef' >"$T/initrd"
isize=$(wc -c <"$T/initrd")

run_vmm bp64 --kernel "$g" --memory 64 --initrd "$T/initrd" --cmdline "root=/dev/x quiet a=b"
[ "$status" -eq 1 ] || fail "bootparams guest: exit status $status, want 1 (guest code 0); $(cat "$T/bp64.err")"
out="$T/bp64.out"
grep -q "^CMDLINE=root=/dev/x quiet a=b" "$out" || fail "cmdline differs: $(grep CMDLINE "$out")"
grep -q "^LOADER=00000000000000ff" "$out" || fail "type_of_loader is not 0xff: $(grep LOADER "$out")"
line=$(grep "^INITRD=" "$out")
addr=$(echo "$line" | cut -d= -f2 | cut -d' ' -f1)
size=$(echo "$line" | cut -d' ' -f2)
bytes=$(echo "$line" | cut -d' ' -f3)
[ $((0x$size)) -eq "$isize" ] || fail "initrd size $((0x$size)), want $isize"
[ "$bytes" = "INITRD-BYTES-012" ] || fail "initrd bytes differ: '$bytes'"
[ $((0x$addr % 4096)) -eq 0 ] || fail "initrd at 0x$addr is not page aligned"
[ $((0x$addr + isize)) -le $((64 << 20)) ] || fail "initrd at 0x$addr runs past RAM end"
[ $((0x$addr)) -ge $(((64 << 20) - 8192)) ] || fail "initrd at 0x$addr is not as high as possible"
grep -q "^E820=0000000000000003" "$out" || fail "want 3 e820 entries for 64 MiB: $(cat "$out")"
grep -q "^0000000000100000 0000000003f00000 0000000000000001" "$out" || fail "RAM above 1 MiB wrong: $(cat "$out")"
grep -q "^000000000009fc00 0000000000060400 0000000000000002" "$out" || fail "EBDA/BIOS hole not reserved"

# 4 GiB: 3 GiB below the hole, 1 GiB at 4 GiB; the initrd stays under the
# kernel's initrd_addr_max (0x7fffffff in the test bzImage).
run_vmm bp4g --kernel "$g" --memory 4096 --initrd "$T/initrd" --cmdline "big"
[ "$status" -eq 1 ] || fail "4 GiB guest: exit status $status; $(cat "$T/bp4g.err")"
out="$T/bp4g.out"
grep -q "^E820=0000000000000004" "$out" || fail "want 4 e820 entries for 4 GiB: $(cat "$out")"
grep -q "^0000000000100000 00000000bff00000 0000000000000001" "$out" || fail "low RAM must stop at the PCI hole: $(cat "$out")"
grep -q "^0000000100000000 0000000040000000 0000000000000001" "$out" || fail "RAM above 3 GiB must appear at 4 GiB: $(cat "$out")"
addr=$(grep "^INITRD=" "$out" | cut -d= -f2 | cut -d' ' -f1)
[ $((0x$addr + isize)) -le $((0x80000000)) ] && [ $((0x$addr)) -ge $((0x80000000 - 8192)) ] || fail "initrd at 0x$addr, want just under initrd_addr_max (2 GiB)"

# No initrd: size 0.
run_vmm bpnone --kernel "$g" --memory 16
[ "$status" -eq 1 ] || fail "guest without initrd: exit status $status, want 1; $(tail -3 "$T/bpnone.err")"
grep -q "^INITRD=.* 0000000000000000 " "$T/bpnone.out" || fail "without initrd the size must be 0: $(grep INITRD "$T/bpnone.out")"
echo "ok: cmdline, loader, initrd, e820 with the PCI hole"
