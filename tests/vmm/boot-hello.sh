#!/bin/sh
# berth-vmm boots a guest through the 64-bit bzImage protocol and through
# the PVH ELF note, shows its serial output, and exits with the guest's
# debug-exit code as QEMU's isa-debug-exit does ((V<<1)|1; hello writes 42).
. "$top_srcdir/tests/vmm/lib.sh"

run_vmm hello-bz --kernel "$(guest hello)" --memory 32
[ "$status" -eq 85 ] || fail "bzImage hello: exit status $status, want 85; log: $(cat "$T/hello-bz.err")"
grep -q "Hello from a berth test guest" "$T/hello-bz.out" || fail "bzImage hello: no greeting on the console: $(cat "$T/hello-bz.out")"
grep -q "bzImage protocol 2.15" "$T/hello-bz.err" || fail "log does not name the boot protocol: $(cat "$T/hello-bz.err")"

run_vmm hello-pvh --kernel "$(guest pvh-hello)" --memory 32 --cmdline "pvh says hi"
[ "$status" -eq 85 ] || fail "PVH hello: exit status $status, want 85; log: $(cat "$T/hello-pvh.err")"
grep -q "PVH OK cmdline=pvh says hi" "$T/hello-pvh.out" || fail "PVH hello: hvm_start_info magic/cmdline wrong: $(cat "$T/hello-pvh.out")"

# Several vCPUs: the APs wait for INIT/SIPI, the BSP runs the guest.
run_vmm hello-smp --kernel "$(guest hello)" --memory 32 --cpus 4
[ "$status" -eq 85 ] || fail "4 vCPUs: exit status $status, want 85; log: $(cat "$T/hello-smp.err")"

# A JSON configuration file does the same; options override it.
cat >"$T/cfg.json" <<JSON
{"name": "from-json", "kernel": "$T/pvh-hello.img", "memory_mib": 16, "vcpus": 1, "cmdline": "from json"}
JSON
run_vmm hello-json --config "$T/cfg.json"
[ "$status" -eq 85 ] || fail "--config: exit status $status, want 85; log: $(cat "$T/hello-json.err")"
grep -q "cmdline=from json" "$T/hello-json.out" || fail "--config: cmdline not taken from the file"
run_vmm hello-json2 --config "$T/cfg.json" --cmdline "from option"
[ "$status" -eq 85 ] || fail "--config with --cmdline: exit status $status, want 85; log: $(cat "$T/hello-json2.err")"
grep -q "cmdline=from option" "$T/hello-json2.out" || fail "--cmdline did not override the config file"

# CPUID: the KVM paravirtual leaves (signature, kvmclock feature bits), the
# hypervisor bit and the boot vCPU's APIC id.
run_vmm cpuid --kernel "$(guest cpuid)" --memory 16
[ "$status" -eq 67 ] || fail "cpuid guest: exit status $status, want 67"
grep -q "^HV=KVMKVMKVM" "$T/cpuid.out" || fail "leaf 0x40000000 signature: $(cat "$T/cpuid.out")"
feat=$(sed -n 's/^KVMFEAT=//p' "$T/cpuid.out")
[ $(( 0x$feat & 0x8 )) -ne 0 ] || fail "kvmclock (KVM_FEATURE_CLOCKSOURCE2) not offered: $feat"
grep -q "^HYPERVISOR=0000000000000001" "$T/cpuid.out" || fail "hypervisor bit not set"
grep -q "^APICID=0000000000000000" "$T/cpuid.out" || fail "boot vCPU APIC id is not 0"

# Huge pages when asked, falling back to normal pages when there are none.
run_vmm huge --kernel "$(guest hello)" --memory 32 --hugepages
[ "$status" -eq 85 ] || fail "--hugepages: exit status $status; $(cat "$T/huge.err")"

# Run dir is cleaned on exit.
[ ! -e "$T/run-hello-bz/ctl.sock" ] || fail "ctl.sock left behind after exit"
[ ! -e "$T/run-hello-bz/vmm.pid" ] || fail "vmm.pid left behind after exit"
echo "ok: bzImage and PVH hello, SMP, --config"
