#!/bin/sh
# Malformed kernels and impossible configurations are refused before the
# guest runs, with exit status 4 (2 for usage errors) and a message that
# says what is wrong.
. "$top_srcdir/tests/vmm/lib.sh"

# expect STATUS PATTERN NAME ARGS...
expect() {
	_want=$1 _pat=$2 _name=$3; shift 3
	run_vmm "$_name" "$@"
	[ "$status" -eq "$_want" ] || fail "$_name: exit status $status, want $_want; stderr: $(cat "$T/$_name.err")"
	grep -q -- "$_pat" "$T/$_name.err" || fail "$_name: message lacks '$_pat': $(cat "$T/$_name.err")"
	[ ! -e "$T/run-$_name/ctl.sock" ] || fail "$_name: left a ctl.sock behind"
}

hello=$(guest hello)
expect 4 'no "HdrS" magic' bad-magic --kernel "$(guest bad-magic)"
expect 4 'truncated' truncated --kernel "$(guest truncated)"
expect 4 'syssize says' lying --kernel "$(guest lying-syssize)"
expect 4 'too old' oldproto --kernel "$(guest old-proto)"
expect 4 'XLF_KERNEL_64' no64 --kernel "$(guest no64)"
expect 4 'no PVH entry note' nonote --kernel "$(guest elf-nonote)"
expect 4 'outside the loaded kernel' entry --kernel "$(guest elf-entry-outside)"
: >"$T/empty"
expect 4 'truncated' empty --kernel "$T/empty"
expect 4 'No such file' missing --kernel "$T/does-not-exist"

# initrd larger than guest memory (sparse file: no disk used)
truncate -s 40M "$T/big-initrd"
expect 4 'larger than guest memory' bigrd --kernel "$hello" --memory 32 --initrd "$T/big-initrd"
# an initrd that fits in memory but not above the kernel
truncate -s 31M "$T/mid-initrd"
expect 4 'overlap the kernel' overlap --kernel "$hello" --memory 32 --initrd "$T/mid-initrd"

# command line over the kernel's cmdline_size (2047 for the test bzImage)
long=$(head -c 3000 /dev/zero | tr '\0' 'x')
expect 4 'over the limit of 2047' longcmd --kernel "$hello" --cmdline "$long"
expect 4 'over the limit' longcmd-pvh --kernel "$(guest pvh-hello)" --cmdline "$long"

# memory 0, absurd, more than the host has, not a number
expect 4 'is 0 MiB' mem0 --kernel "$hello" --memory 0
expect 4 'absurd' memhuge --kernel "$hello" --memory 99999999999
expect 4 "more than this host's RAM" memhost --kernel "$hello" --memory 1000000
expect 2 'not a number' memnan --kernel "$hello" --memory lots
expect 2 'absurd' memoverflow --kernel "$hello" --memory 99999999999999999999
expect 4 'vCPUs requested' cpus0 --kernel "$hello" --cpus 0
expect 4 'vCPUs requested' cpus999 --kernel "$hello" --cpus 999

# usage errors
expect 2 'scrollback of 8 KiB is outside 16..65536' sb-small --kernel "$hello" --scrollback 8
expect 2 'scrollback of 70000 KiB is outside' sb-big --kernel "$hello" --scrollback 70000
echo '{"scrollback_kib": 1}' >"$T/sb.json"
expect 2 'scrollback of 1 KiB' sb-json --kernel "$hello" --config "$T/sb.json"
expect 2 'unknown option' badopt --kernel "$hello" --frobnicate
expect 2 'no kernel given' nokernel --memory 16
echo '{"kernel": 5}' >"$T/bad.json"
expect 2 'wrong type' badjson --config "$T/bad.json"
echo '{"kernal": "x"}' >"$T/typo.json"
expect 2 "unknown key" typojson --config "$T/typo.json"
echo '{"kernel": ' >"$T/broken.json"
expect 2 "configuration" brokenjson --config "$T/broken.json"

"$BERTH_VMM" --help | grep -q -- "--run-dir" || fail "--help does not list --run-dir"
echo "ok: every malformed input refused with a reason"
