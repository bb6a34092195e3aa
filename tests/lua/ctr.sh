#!/bin/sh
# ctr.sh: the Lua API on berth's own container backend (berth-ctr) with a
# busybox bundle: create from the bundle, start, wait, console_expect,
# exec (exit status, captured output), stats, pause/resume, a stopped
# event through berth.on when the container exits, kill, undefine, <close>,
# and expected failures (tests/lua/ctr-checks.lua).
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
[ -x "$BERTH" ] || fail "berth was not built ($BERTH)"
cleanup() { ctr_cleanup_all; }
# The container prints "ready", echoes lines, exits 3 on "bye" and 0 on TERM.
C_ARGS='["sh", "-c", "trap \"exit 0\" TERM; echo ready; while read l; do [ \"$l\" = bye ] && exit 3; echo got $l; done; sleep 1000"]' \
	make_bundle "$BERTH_TEST_TMP/bundle"
BERTH_NO_DEFAULT_LIBVIRT=1; export BERTH_NO_DEFAULT_LIBVIRT
timeout 180 "$BERTH" run "$top_srcdir/tests/lua/ctr-checks.lua" "$BERTH_TEST_TMP/bundle" || fail "ctr-checks.lua failed (exit $?)"
[ -z "$($CTR list -q 2>/dev/null)" ] || fail "containers left behind: $($CTR list -q)"
exit 0
