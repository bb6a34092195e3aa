#!/bin/sh
# kvm.sh: the Lua API on berth's own KVM backend (berth-vmm) with the
# miniguest test guest: create, start, wait, console_expect/console_send
# with captures, stats and history after `burn 2`, pause/resume seen
# through berth.on, shutdown (forced after its timeout), a guest `halt`,
# a restart whose console starts afresh, kill, undefine and <close>
# (tests/lua/kvm-checks.lua).
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_kvm
[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
guest=$top_builddir/tests/guests/miniguest.bzImage
[ -f "$guest" ] || fail "the miniguest was not built ($guest)"
cleanup() {
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	return 0
}
BERTH_NO_DEFAULT_LIBVIRT=1; export BERTH_NO_DEFAULT_LIBVIRT
timeout 180 "$BERTH" run "$top_srcdir/tests/lua/kvm-checks.lua" "$guest" || fail "kvm-checks.lua failed (exit $?)"
# Nothing left running: every berth-vmm the script started is gone.
for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do
	[ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && fail "a berth-vmm outlived the script: $f"
done
exit 0
