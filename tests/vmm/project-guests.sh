#!/bin/sh
# The project's test guests (tests/guests, built by `make`) under berth-vmm,
# through both boot paths: hello, bootparams (e820, cmdline, initrd CRC and
# the entry used), timer (PIT/LAPIC interrupts), echo (UART interrupts through
# console.sock), counter (stops while paused, continues after resume),
# portfuzz (garbage on every port) and miniguest (interactive prompt, and a
# graceful shutdown it honours: Ctrl-Alt-Del, reset, exit status 0).
. "$top_srcdir/tests/vmm/lib.sh"
G="$top_builddir/tests/guests"
for n in hello bootparams timer echo counter portfuzz miniguest; do
	for f in bzImage elf; do
		[ -f "$G/$n.$f" ] || fail "guest image $G/$n.$f was not built (run make)"
	done
done
# want_exit NAME V: the guest exited with value V ((V<<1)|1).
# lines_past N: the counter guest's console holds more than N counter lines.
lines_past() { [ "$("$VMMCTL" console "$sock" 1 | grep -c '^counter ')" -gt "$1" ]; }
want_exit() {
	[ "$status" -eq $(( ($2 << 1) | 1 )) ] || fail "$1: exit status $status, want $(( ($2 << 1) | 1 )); $(tail -5 "$T/$1.out"; tail -3 "$T/$1.err")"
}

# counter_pause_resume F: the counter guest counts, stops while paused and
# continues after resume; else sets $why (with the VMM's state) and fails.
counter_pause_resume() {
	start_vmm counter-$1 --kernel "$G/counter.$1" --memory 64 --cmdline "count=100000 period_ms=10"
	sock="$RUN/console.sock"
	why=""
	if ! wait_for 30 sh -c "'$VMMCTL' console '$sock' 1 | grep -q '^counter 5 '"; then
		why="counter.$1 does not count"
	elif ! ctl pause >/dev/null; then
		why="pause counter.$1 failed"
	else
		sleep 0.3
		a=$("$VMMCTL" console "$sock" 1 | grep -c '^counter ')
		sleep 1
		b=$("$VMMCTL" console "$sock" 1 | grep -c '^counter ')
		if [ "$a" != "$b" ]; then
			fail "counter.$1 advanced while paused ($a -> $b)"
		elif ! ctl resume >/dev/null; then
			why="resume counter.$1 failed"
		elif ! wait_for 20 lines_past "$b"; then
			why="counter.$1 did not continue after resume (still $b lines)"
		fi
	fi
	if [ -n "$why" ]; then
		why="$why; stats: $(ctl stats 2>&1); log: $(tail -n 5 "$T/counter-$1.err")"
		echo "$why"
	fi
	ctl kill >/dev/null 2>&1
	wait_vmm
	[ -z "$why" ]
}

initrd="$T/initrd.bin"
head -c 300001 /dev/urandom >"$initrd"
size=$(wc -c <"$initrd" | tr -d ' ')
crc=$(gzip -c <"$initrd" | tail -c 8 | od -An -tx4 -N4 | tr -d ' \n')
for f in bzImage elf; do
	run_vmm hello-$f --kernel "$G/hello.$f" --memory 64
	want_exit hello-$f 0
	case $f in bzImage) entry=bp64 ;; elf) entry=pvh ;; esac
	base="expect_mem_mib=128 expect_initrd_size=$size expect_initrd_crc32=$crc expect_entry=$entry"
	cmdline="$base expect_cmdline_len=$(( ${#base} + 23 ))"
	run_vmm bp-$f --kernel "$G/bootparams.$f" --memory 128 --initrd "$initrd" --cmdline "$cmdline"
	want_exit bp-$f 0
	grep -q "^BOOTPARAMS OK" "$T/bp-$f.out" || fail "bootparams.$f: $(cat "$T/bp-$f.out")"
	got=$(tr -d '\r' <"$T/bp-$f.out" | sed -n 's/^BOOTPARAMS cmdline: //p')
	[ "$got" = "$cmdline" ] || fail "bootparams.$f: cmdline did not round-trip: '$got'"
	# 4 GiB: RAM above the PCI hole must be usable RAM in the map too.
	run_vmm bp4g-$f --kernel "$G/bootparams.$f" --memory 4096 --cmdline "expect_mem_mib=4096 expect_entry=$entry"
	want_exit bp4g-$f 0

	for mode in "" "timer=lapic"; do
		run_vmm timer-$f --kernel "$G/timer.$f" --memory 64 --cmdline "ticks=50 hz=100 $mode"
		want_exit timer-$f 0
		grep -q "^TIMER OK 50" "$T/timer-$f.out" || fail "timer.$f $mode: $(cat "$T/timer-$f.out")"
	done

	run_vmm portfuzz-$f --kernel "$G/portfuzz.$f" --memory 64 --cmdline "seed=$$"
	want_exit portfuzz-$f 0
	grep -q "^SURVIVED" "$T/portfuzz-$f.out" || fail "portfuzz.$f did not survive"

	start_vmm echo-$f --kernel "$G/echo.$f" --memory 64
	timeout 40 "$VMMCTL" console "$RUN/console.sock" 30 "ECHO READY" >/dev/null || fail "echo.$f not ready"
	out=$(timeout 40 "$VMMCTL" console "$RUN/console.sock" 20 "hello berth $f" "hello berth $f
") || fail "echo.$f did not echo: $out"
	timeout 10 "$VMMCTL" console "$RUN/console.sock" 1 "" "q" >/dev/null
	wait_vmm
	status=$st
	want_exit echo-$f 0

	counter_pause_resume "$f" || {
		# One level down the emulated SVM has left this busy-looping guest
		# unscheduled after a resume (its vCPU thread spinning in KVM_RUN
		# with no exit; QEMU as the VMM there did not show it in as many
		# rounds, so it stays a suspect of ours too): such a run shows its
		# state and gets one fresh VMM; anywhere else, or twice, it fails.
		[ -n "$BERTH_NESTED_INNER" ] || fail "$why"
		echo "project-guests: $why (one level down); running the counter scenario once more"
		counter_pause_resume "$f" || fail "$why (twice)"
	}

	start_vmm mini-$f --kernel "$G/miniguest.$f" --memory 128
	sock="$RUN/console.sock"
	timeout 40 "$VMMCTL" console "$sock" 30 "miniguest> " >/dev/null || fail "miniguest.$f: no prompt"
	out=$(timeout 30 "$VMMCTL" console "$sock" 20 "dirty generation: " "info
") || fail "miniguest.$f info: $out"
	# No ACPI tables yet, so the guest cannot count vCPUs ("unknown").
	echo "$out" | grep -q "^memory: 128 MiB" || fail "miniguest.$f: info: $out"
	timeout 10 "$VMMCTL" console "$sock" 5 "halting" "halt
" >/dev/null || fail "miniguest.$f did not halt"
	wait_vmm
	status=$st
	want_exit mini-$f 0

	# Graceful shutdown: the guest takes Ctrl-Alt-Del from the i8042 and
	# resets; berth-vmm ends with 0 well before the timeout, not forcing it.
	start_vmm cad-$f --kernel "$G/miniguest.$f" --memory 64
	sock="$RUN/console.sock"
	timeout 40 "$VMMCTL" console "$sock" 30 "miniguest> " >/dev/null || fail "miniguest.$f: no prompt"
	timeout 40 "$VMMCTL" console "$sock" 30 "ctrl-alt-del: shutting down" >"$T/cad-$f.con" 2>&1 &
	cpid=$!
	sleep 0.5
	r=$(ctl shutdown '{"timeout_s":60}') || fail "shutdown of miniguest.$f failed"
	[ "$(json_get "$r" method)" = ctrl-alt-del ] || fail "shutdown reply: $r"
	wait_vmm
	status=$st
	[ "$status" -eq 0 ] || fail "cad-$f: exit status $status after a graceful shutdown, want 0; $(tail -3 "$T/cad-$f.err")"
	grep -q "guest rebooted after shutdown request" "$T/cad-$f.err" ||
		fail "miniguest.$f: the log does not say the guest shut down by itself: $(tail -n 3 "$T/cad-$f.err")"
	grep -q "forced off" "$T/cad-$f.err" && fail "miniguest.$f was forced off instead of shutting down"
	wait $cpid || fail "miniguest.$f did not say it saw ctrl-alt-del: $(cat "$T/cad-$f.con")"
	echo "ok: project guests via $f (graceful shutdown through ctrl-alt-del)"
done
