# sh-helpers.sh - source from shell tests: . "$top_srcdir/tests/lib/sh-helpers.sh"
# skip "reason"        exit 77 with the reason (the test harness shows it)
# fail "message"       exit 1 with the message
# need_root, need_kvm, need_cmd NAME...
# Registers a trap that removes $BERTH_TEST_TMP and runs `cleanup` if defined.
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
need_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "needs read/write /dev/kvm"; }
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "needs $c (not installed)"; done; }
_berth_test_exit() {
	rc=$?
	if command -v cleanup >/dev/null 2>&1; then cleanup || true; fi
	exit $rc
}
trap _berth_test_exit EXIT
trap 'exit 130' INT TERM
# wait_for TIMEOUT_SEC COMMAND... : poll until the command succeeds.
wait_for() {
	_t=$1; shift
	_end=$(( $(date +%s) + _t ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
	return 0
}
