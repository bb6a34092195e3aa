# tui-lib.sh - helpers for the dashboard tests: source after sh-helpers.sh.
# Each test drives the real berth binary in a private tmux server (its own
# -L socket name), sends keys and compares what the screen shows.
#
#   tui_start COLS ROWS [berth args...]   start berth in a detached session
#                                         (env: TUI_ENV="VAR=x VAR2=y")
#   tui_keys KEY...                       tmux send-keys
#   tui_type TEXT                         send literal text
#   tui_screen                            print the screen
#   tui_screen_esc                        print the screen with attributes
#   tui_wait PATTERN [SEC]                wait until the screen matches (grep -E)
#   tui_wait_not PATTERN [SEC]            wait until it no longer does
#   tui_expect_not PATTERN                fail if the screen matches now
#   tui_resize COLS ROWS
#   tui_quit                              q, then wait for berth's exit status 0
#   make_node_xml FILE N [STOPPED_EVERY]  libvirt test-driver file with N domains
need_cmd tmux
# the private servers' sockets live in the test's directory, removed with it
if [ -n "${BERTH_TEST_TMP:-}" ]; then TMUX_TMPDIR="$BERTH_TEST_TMP"; export TMUX_TMPDIR; fi
unset TMUX
TUI_SOCK="berth-tui-$$-0"
_tui_n=0
_tui_cleanup() { tmux -L "$TUI_SOCK" kill-server >/dev/null 2>&1 || true; }
cleanup() { _tui_cleanup; ${tui_extra_cleanup:-true}; }
tm() { tmux -L "$TUI_SOCK" -f /dev/null "$@"; }

tui_start() {
	_cols=$1; _rows=$2; shift 2
	# a fresh server each time: a killed one may still hold its socket
	_tui_cleanup
	_tui_n=$((_tui_n + 1))
	TUI_SOCK="berth-tui-$$-$_tui_n"
	# Everything berth needs is passed explicitly: the tmux server does not
	# necessarily hand its environment to the pane.
	_cmd="env LANG=${TUI_LANG:-C.UTF-8} LC_ALL=${TUI_LANG:-C.UTF-8} TERM=${TUI_TERM:-screen} \
BERTH_RUN_DIR='$BERTH_RUN_DIR' BERTH_DATA_DIR='$BERTH_DATA_DIR' BERTH_CONFIG_DIR='$BERTH_CONFIG_DIR' \
BERTH_VMM='${BERTH_VMM:-}' BERTH_CTR='${BERTH_CTR:-}' \
BERTH_NO_DEFAULT_LIBVIRT=1 ${TUI_ENV:-} '$BERTH' $*; echo BERTH-EXITED rc=\$?; sleep 600"
	tm new-session -d -x "$_cols" -y "$_rows" "$_cmd" || fail "cannot start tmux"
	tm set-option -g status off >/dev/null 2>&1
	tm resize-window -x "$_cols" -y "$_rows" >/dev/null 2>&1
}
tui_keys() { tm send-keys -t 0 "$@"; }
tui_type() { tm send-keys -t 0 -l -- "$1"; }
tui_screen() { tm capture-pane -p -t 0; }
tui_screen_esc() { tm capture-pane -p -e -t 0; }
tui_size() { tm display-message -p -t 0 '#{pane_width}x#{pane_height}'; }

tui_wait() {
	_pat=$1; _t=$(( ${2:-10} * ${BERTH_TIME_SCALE:-1} ))
	_end=$(( $(date +%s) + _t ))
	while :; do
		tui_screen | grep -Eq -- "$_pat" && return 0
		if [ "$(date +%s)" -ge "$_end" ]; then
			echo "--- screen ($(tui_size)) ---"; tui_screen; echo "---"
			fail "screen never showed /$_pat/ within ${_t}s${3:+: $3}"
		fi
		sleep 0.1
	done
}
tui_wait_not() {
	_pat=$1; _t=$(( ${2:-10} * ${BERTH_TIME_SCALE:-1} ))
	_end=$(( $(date +%s) + _t ))
	while tui_screen | grep -Eq -- "$_pat"; do
		if [ "$(date +%s)" -ge "$_end" ]; then
			echo "--- screen ($(tui_size)) ---"; tui_screen; echo "---"
			fail "screen still shows /$_pat/ after ${_t}s${3:+: $3}"
		fi
		sleep 0.1
	done
}
tui_expect_not() {
	if tui_screen | grep -Eq -- "$1"; then
		echo "--- screen ---"; tui_screen; echo "---"
		fail "screen shows /$1/ but should not${2:+: $2}"
	fi
}
tui_resize() { tm resize-window -t 0 -x "$1" -y "$2" || fail "resize-window failed"; }
tui_quit() {
	tui_keys q
	tui_wait 'BERTH-EXITED rc=0' 10 "berth did not exit cleanly on q"
}

# A libvirt test-driver node with N domains: web-0001..., every
# STOPPED_EVERY-th one shut off.
make_node_xml() {
	_f=$1; _n=$2; _every=${3:-0}
	awk -v n="$_n" -v every="$_every" 'BEGIN {
		print "<node>"
		print "  <cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads><active>8</active><mhz>2000</mhz><model>x86_64</model></cpu>"
		print "  <memory>16777216</memory>"
		for (i = 1; i <= n; i++) {
			printf "  <domain type=\"test\" xmlns:test=\"http://libvirt.org/schemas/domain/test/1.0\"><name>web-%04d</name><memory>%d</memory><vcpu>%d</vcpu><os><type>hvm</type></os>", i, 262144 * (1 + i % 4), 1 + i % 3
			if (every > 0 && i % every == 0) printf "<test:runstate>5</test:runstate>"
			print "</domain>"
		}
		print "</node>"
	}' > "$_f" || fail "cannot write $_f"
}
