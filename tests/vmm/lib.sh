# lib.sh - shared helpers of the berth-vmm tests; source it first:
#   . "$top_srcdir/tests/vmm/lib.sh"
# guest KIND          build a tiny inline guest with mkguest, print its path
# run_vmm NAME ARG..  run berth-vmm in the foreground (killed after $VMM_TIMEOUT s,
#                     default 60); sets $status,
#                     output in $T/NAME.out (console on stdio), log in $T/NAME.err
# start_vmm NAME ARG.. start it in the background; sets $RUN (its run dir) and
#                     $VMM_PID, waits for ctl.sock
# ctl OP [ARGS]       call an op on $RUN/ctl.sock
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
	VMM_PIDS="$VMM_PIDS $VMM_PID"
	wait_for 10 test -S "$RUN/ctl.sock" || { cat "$T/$_n.err"; fail "berth-vmm $_n did not create ctl.sock"; }
}

ctl() {
	_op=$1; shift
	timeout 20 "$VMMCTL" call "$RUN/ctl.sock" "$_op" "$@"
}

# json_get JSON KEY: the value of a top-level number or string (tests only).
json_get() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" | head -n 1
}

alive() { kill -0 "$1" 2>/dev/null; }

cleanup() {
	for _p in $VMM_PIDS; do kill -9 "$_p" 2>/dev/null; done
	return 0
}
