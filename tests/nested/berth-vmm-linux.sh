#!/bin/sh
# berth-vmm-linux: berth-vmm boots a real Linux (Debian's cloud kernel, a
# busybox initramfs) one level down, on the real /dev/kvm of a QEMU TCG
# machine with AMD SVM, twice:
#  - the bzImage, driven through its sockets by vmmctl: the inner Linux uses
#    kvm-clock, reads the wall time from berth-vmm's CMOS RTC, echoes a line
#    typed into the console socket, does not while paused and does after
#    resume; stats has per-vCPU run time and exit counts; the shutdown op's
#    Ctrl-Alt-Del makes it reboot, which ends berth-vmm with status 0;
#  - the ELF vmlinux unpacked from that bzImage, through its PVH note: the
#    inner init's marker reaches the console and `reboot -f` ends berth-vmm
#    with its "guest reset" status (6).
# The outer machine then powers off.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd qemu-system-x86_64 timeout lz4
. "$top_srcdir/tests/nested/nested-lib.sh"
BERTH_VMMCTL="$top_builddir/tests/vmm/vmmctl"

log="$BERTH_TEST_TMP/outer.log"
marker="BERTH-INNER-LINUX-UP"
nested_build_outer "$BERTH_TEST_TMP/outer.cpio.gz" berth "$marker" ||
	fail "cannot build the outer initramfs (see above)"
t0=$(date +%s)
nested_run_outer "$log" 480 "$BERTH_TEST_TMP/outer.cpio.gz"
t1=$(date +%s)
out=$(tr -d '\r' <"$log")
has() { printf '%s\n' "$out" | grep -q -- "$1"; }
value() { printf '%s\n' "$out" | sed -n "s/^$1\(.*\)/\1/p" | head -n 1; }
# exit_status NAME: the status the outer /init reported for run NAME.
exit_status() { printf '%s\n' "$out" | sed -n "s/^NESTED: $1 exit status \([0-9]*\).*/\1/p" | head -n 1; }
bad() {
	echo "---- the outer machine's own lines and the inner init's ----" >&2
	printf '%s\n' "$out" | grep -E '^(NESTED|BERTH)' >&2
	nested_show "$log" 60
	fail "$*"
}
has '^NESTED: /dev/kvm ready' || bad "the outer machine did not get /dev/kvm"
has '^NESTED: starting berth-vmm' || bad "the outer /init did not start berth-vmm"

# The bzImage, through the sockets.
has "$marker" || bad "the inner Linux never printed its marker under berth-vmm (QEMU status $nested_status)"
has '^BERTH-READY' || bad "the inner init never reached its echo loop"
cs=$(value 'BERTH-CLOCKSOURCE: ')
[ "$cs" = kvm-clock ] || bad "the inner Linux uses clock source '$cs', not kvm-clock"
rtc=$(value 'BERTH-RTC: ')
case $rtc in '' | *[!0-9]*) bad "the inner Linux read no time from the RTC ('$rtc')" ;; esac
# The outer machine's clock is QEMU's, started from this host's; berth-vmm's
# RTC passes it on: the inner time lies within this run.
[ "$rtc" -ge $((t0 - 5)) ] && [ "$rtc" -le $((t1 + 5)) ] ||
	bad "the inner RTC said $rtc, outside this run ($t0..$t1)"
has '^NESTED: echo ping-1 ok' || bad "a line typed into the console socket was not echoed by the inner shell"
stats=$(value 'NESTED: stats ')
for k in '"run_ns"' '"exits_by_reason"' '"memory_bytes"' '"memory_resident_bytes"' '"vmm_rss_bytes"' '"serial_rx_bytes"'; do
	printf '%s' "$stats" | grep -q "$k" || bad "stats lacks $k: $stats"
done
has '^NESTED: pause ok, info .*"state":"paused"' || bad "pause did not give state paused"
has '^NESTED: no echo while paused' || bad "the paused guest echoed a line"
has '^NESTED: resume ok' || bad "resume failed"
has '^NESTED: echo ping-2 after resume ok' || bad "the line typed while paused was not echoed after resume"
has '^NESTED: shutdown requested' || bad "the shutdown op failed"
has '^NESTED: the inner init got Ctrl-Alt-Del' || bad "the inner init never got the Ctrl-Alt-Del of the shutdown op"
status=$(exit_status berth-vmm)
[ "$status" = 0 ] || bad "after the shutdown op berth-vmm exited with '${status:-nothing}', expected 0"

# The vmlinux, through PVH.
pvh=$(exit_status berth-vmm-pvh)
has '^NESTED: berth-vmm-pvh marker after' || bad "the PVH-booted Linux never printed its marker (status '${pvh:-none}')"
[ "$pvh" = 6 ] || bad "the PVH boot: berth-vmm exited with '${pvh:-nothing}', expected 6 (guest reset after reboot -f)"
[ "$nested_status" = 0 ] || bad "outer QEMU exited with $nested_status, expected 0 (poweroff)"
echo "ok: $(value 'NESTED: berth-vmm marker after '| sed 's/^/bzImage marker after /'); $(value 'NESTED: berth-vmm-pvh marker after ' | sed 's/^/PVH marker after /'); clock $cs, RTC $rtc"
