# guest-test.sh - sourced by tests/guests/*.sh: runs a test guest under
# QEMU with the debug-exit device and checks what it printed and how it
# exited.  QEMU's status for a guest that wrote V to port 0x501 is
# (V << 1) | 1, so a guest's "exit 0" is status 1 and "exit 1" is 3.
#
#   guest_image NAME FMT          path of NAME.FMT (bzImage|elf), or fail
#   guest_run OUT SECS IMAGE [QEMU ARGS...]
#                                 run to completion; sets $guest_status
#   guest_start OUT IMAGE [QEMU ARGS...]
#                                 run in the background with stdin from a
#                                 FIFO: guest_send TEXT, guest_wait_for
#                                 SECS PATTERN, guest_wait_exit SECS
#   guest_expect_exit V OUT       fail unless the guest exited with V
#   guest_expect_line PATTERN OUT fail unless OUT has a line matching PATTERN
. "$top_srcdir/tests/lib/sh-helpers.sh"

need_cmd qemu-system-x86_64 timeout
GUEST_DIR="$top_builddir/tests/guests"
GUEST_ACCEL="${GUEST_ACCEL:-tcg}"
GUEST_MEM="${GUEST_MEM:-128}"

guest_qemu_args() {
	printf '%s\n' -machine q35 -accel "$GUEST_ACCEL" -m "$GUEST_MEM" \
		-display none -serial stdio -monitor none -no-reboot \
		-device isa-debug-exit,iobase=0x501,iosize=1
}

guest_image() {
	_img="$GUEST_DIR/$1.$2"
	[ -f "$_img" ] || fail "guest image $_img was not built (run make)"
	echo "$_img"
}

guest_run() {
	_out=$1 _secs=$2 _img=$3
	shift 3
	# shellcheck disable=SC2046
	timeout -k 5 "$_secs" qemu-system-x86_64 $(guest_qemu_args) -kernel "$_img" "$@" \
		</dev/null >"$_out" 2>&1
	guest_status=$?
	return 0
}

guest_show() {
	echo "---- output of $1 ----" >&2
	tail -n 40 "$1" | tr -d '\r' >&2
	echo "----" >&2
}

guest_expect_exit() {
	_want=$(( ($1 << 1) | 1 ))
	if [ "$guest_status" = 124 ] || [ "$guest_status" = 137 ]; then
		guest_show "$2"
		fail "guest did not exit in time (expected exit value $1)"
	fi
	if [ "$guest_status" != "$_want" ]; then
		guest_show "$2"
		fail "QEMU exited with $guest_status, expected $_want (guest exit value $1)"
	fi
}

guest_expect_line() {
	if ! tr -d '\r' <"$2" | grep -q -- "$1"; then
		guest_show "$2"
		fail "no line matching '$1' in the guest output"
	fi
}

# Interactive runs: QEMU reads the serial input from a FIFO we keep open.
guest_start() {
	_gout=$1 _img=$2
	shift 2
	_gfifo="$BERTH_TEST_TMP/guest-in.$$"
	rm -f "$_gfifo"
	mkfifo "$_gfifo" || fail "mkfifo $_gfifo"
	# shellcheck disable=SC2046
	timeout -k 5 120 qemu-system-x86_64 $(guest_qemu_args) -kernel "$_img" "$@" \
		<"$_gfifo" >"$_gout" 2>&1 &
	guest_pid=$!
	exec 7>"$_gfifo"
}

guest_send() {
	printf '%s' "$1" >&7
}

guest_wait_for() {
	_t=$1 _pat=$2
	if ! wait_for "$_t" sh -c "tr -d '\\r' <'$_gout' | grep -q -- '$_pat'"; then
		guest_show "$_gout"
		fail "guest did not print '$_pat' within ${_t}s"
	fi
}

guest_wait_exit() {
	_t=$1
	_end=$(( $(date +%s) + _t ))
	while kill -0 "$guest_pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$_end" ]; then
			kill "$guest_pid" 2>/dev/null
			wait "$guest_pid" 2>/dev/null
			guest_show "$_gout"
			fail "guest did not exit within ${_t}s"
		fi
		sleep 0.1
	done
	wait "$guest_pid"
	guest_status=$?
	guest_pid=
	exec 7>&-
}

guest_stop() {
	if [ -n "$guest_pid" ]; then
		kill "$guest_pid" 2>/dev/null
		wait "$guest_pid" 2>/dev/null
		guest_pid=
	fi
	exec 7>&- 2>/dev/null
	return 0
}
