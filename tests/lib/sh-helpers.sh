# sh-helpers.sh - source from shell tests: . "$top_srcdir/tests/lib/sh-helpers.sh"
# skip "reason"        exit 77 with the reason (the test harness shows it)
# fail "message"       exit 1 with the message
# need_root, need_kvm, need_cmd NAME...
# need_kvm             with no usable /dev/kvm here, runs the whole test again
#                      one level down (tests/lib/nested-run.sh) and exits with
#                      its status; BERTH_NO_NESTED=1 makes it skip instead,
#                      BERTH_FORCE_NESTED=1 goes one level down even where
#                      /dev/kvm works (to try the way CI machines without it go)
# non_kvm_parts        in a test with parts that need /dev/kvm (after its
#                      need_kvm) and parts that do not (before it, inside
#                      `if non_kvm_parts; then ... fi'): false one level down,
#                      where need_kvm re-ran the test for its kvm parts only
# Registers a trap that removes $BERTH_TEST_TMP and runs `cleanup` if defined.
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
need_kvm() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -z "$BERTH_FORCE_NESTED" ] && return 0
	[ -n "$BERTH_NESTED_INNER" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && return 0
	[ -n "$BERTH_NESTED_INNER" ] && skip "no usable /dev/kvm, even one level down"
	[ -n "$BERTH_NO_NESTED" ] && skip "needs read/write /dev/kvm (BERTH_NO_NESTED is set)"
	[ "$(id -u)" -eq 0 ] || skip "needs read/write /dev/kvm (or root, to run one level down)"
	. "$top_srcdir/tests/lib/nested-run.sh"
	nested_rerun "$0" "$@"
	exit $?
}
non_kvm_parts() { [ -z "$BERTH_NESTED_INNER" ]; }
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "needs $c (not installed)"; done; }
_berth_test_exit() {
	rc=$?
	if command -v cleanup >/dev/null 2>&1; then cleanup || true; fi
	exit $rc
}
trap _berth_test_exit EXIT
trap 'exit 130' INT TERM
# sigint_and_wait PID POLLS WHAT: SIGINT to PID, then wait up to POLLS times
# 50 ms for it to end (else SIGKILL it and fail, naming WHAT); sets
# $sigint_ms (from the signal to its end) and $sigint_rc (its exit status).
sigint_and_wait() {
	_si_t0=$(date +%s%3N)
	kill -INT "$1"
	_si_i=0
	while kill -0 "$1" 2>/dev/null && [ $_si_i -lt "$2" ]; do sleep 0.05; _si_i=$((_si_i + 1)); done
	sigint_ms=$(( $(date +%s%3N) - _si_t0 ))
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1"
		fail "$3 still running $(( $2 * 50 )) ms after SIGINT"
	fi
	wait "$1"
	sigint_rc=$?
}
# wait_for TIMEOUT_SEC COMMAND... : poll until the command succeeds; the
# timeout is multiplied by $BERTH_TIME_SCALE (set one level down, where
# everything runs several times slower), as tui_wait's are.
wait_for() {
	_t=$(( $1 * ${BERTH_TIME_SCALE:-1} )); shift
	_end=$(( $(date +%s) + _t ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
	return 0
}
