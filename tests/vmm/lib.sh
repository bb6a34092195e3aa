# lib.sh - shared helpers of the berth-vmm tests; source it first:
#   . "$top_srcdir/tests/vmm/lib.sh"
# guest KIND          build a tiny inline guest with mkguest, print its path
# run_vmm NAME ARG..  run berth-vmm in the foreground (killed after $VMM_TIMEOUT s,
#                     default 60); sets $status,
#                     output in $T/NAME.out (console on stdio), log in $T/NAME.err
# start_vmm NAME ARG.. start it in the background; sets $RUN (its run dir) and
#                     $VMM_PID, waits for ctl.sock
# ctl OP [ARGS]       call an op on $RUN/ctl.sock
# wait_vmm [SECS]     wait (default 30 s, times BERTH_TIME_SCALE) for $VMM_PID
#                     to end; sets $st to its exit status.  One that does not
#                     end fails the test showing its threads and log, never hangs
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_kvm
[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
MKGUEST="$top_builddir/tests/vmm/mkguest"
VMMCTL="$top_builddir/tests/vmm/vmmctl"
T="$BERTH_TEST_TMP"
VMM_PIDS=""

guest() {
	"$MKGUEST" "$1" "$T/$1.img" || fail "mkguest $1 failed"
	echo "$T/$1.img"
}

run_vmm() {
	_n=$1; shift
	timeout -s KILL ${VMM_TIMEOUT:-60} "$BERTH_VMM" --name "$_n" --run-dir "$T/run-$_n" --console stdio "$@" \
		>"$T/$_n.out" 2>"$T/$_n.err" </dev/null
	status=$?
}

start_vmm() {
	_n=$1; shift
	RUN="$T/run-$_n"
	"$BERTH_VMM" --name "$_n" --run-dir "$RUN" "$@" >"$T/$_n.out" 2>"$T/$_n.err" </dev/null &
	VMM_PID=$!
	VMM_NAME=$_n
	VMM_PIDS="$VMM_PIDS $VMM_PID"
	wait_for 10 test -S "$RUN/ctl.sock" || { cat "$T/$_n.err"; fail "berth-vmm $_n did not create ctl.sock"; }
}

# A call that fails says why when berth-vmm itself has gone: the end of
# its log, which the test's own message lacks.
ctl() {
	_op=$1; shift
	timeout 20 "$VMMCTL" call "$RUN/ctl.sock" "$_op" "$@" && return 0
	_ctl_rc=$?
	if [ -n "${VMM_PID:-}" ] && proc_gone "$VMM_PID"; then
		echo "ctl $_op: berth-vmm $VMM_NAME has ended; its log ends:"
		tail -n 20 "$T/$VMM_NAME.err"
	fi
	return $_ctl_rc
}

# nested_guest_fault NAME: true when, one level down, berth-vmm NAME ended
# because its guest triple-faulted.  The emulated SVM there has done that to
# the flood guest, whose code never faults (a vCPU's RIP was seen at an
# address of the outer machine's kernel): a scenario that ends so gets one
# more run; anywhere else, or twice, it fails.
nested_guest_fault() {
	[ -n "$BERTH_NESTED_INNER" ] && grep -q "triple fault" "$T/$1.err" 2>/dev/null
}

# json_get JSON KEY: the value of a top-level number or string (tests only).
json_get() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" | head -n 1
}

alive() { kill -0 "$1" 2>/dev/null; }

# The state letter of process or thread $1 (R, S, D, Z, ...), empty once gone.
proc_state() { sed -n 's/.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null; }

# True while any thread of process $1 is not a zombie (its main thread can
# be one while others still run).
proc_live() {
	for _pl_t in /proc/"$1"/task/*; do
		case $(proc_state "$1/task/${_pl_t##*/}") in
		''|Z|X) ;;
		*) return 0 ;;
		esac
	done
	return 1
}

proc_gone() { ! proc_live "$1"; }

wait_vmm() {
	if ! wait_for "${1:-30}" proc_gone "$VMM_PID"; then
		echo "berth-vmm $VMM_NAME (pid $VMM_PID) still running after $(( ${1:-30} * ${BERTH_TIME_SCALE:-1} )) s; its threads:"
		for _wv_t in /proc/"$VMM_PID"/task/*; do
			echo "  $(cat "$_wv_t/comm" 2>/dev/null) state $(proc_state "$VMM_PID/task/${_wv_t##*/}")" \
				"wchan $(cat "$_wv_t/wchan" 2>/dev/null)"
			sed 's/^/    /' "$_wv_t/stack" 2>/dev/null | head -n 8
		done
		echo "its log ends:"
		tail -n 20 "$T/$VMM_NAME.err"
		# not reaped: a thread stuck in the kernel would block wait too
		kill -9 "$VMM_PID" 2>/dev/null
		fail "berth-vmm $VMM_NAME did not end"
	fi
	wait "$VMM_PID"
	st=$?
}

cleanup() {
	for _p in $VMM_PIDS; do kill -9 "$_p" 2>/dev/null; done
	return 0
}
