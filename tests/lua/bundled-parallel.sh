#!/bin/sh
# bundled-parallel.sh: berth.parallel over berth's own backends at once:
# four miniguest VMs (kvm) and four busybox containers are created,
# started, checked through their consoles and removed by one
# berth.parallel with max = 3; the bound holds, the waits overlap, every
# result comes back indexed like the items, and an item that fails (a VM
# whose kernel berth-vmm refuses) is reported in the error table without
# stopping the others (tests/lua/bundled-parallel-checks.lua).
. "$top_srcdir/tests/ctr/lib.sh"
need_ctr
need_kvm
[ -x "$BERTH_VMM" ] || fail "berth-vmm was not built ($BERTH_VMM)"
guest=$top_builddir/tests/guests/miniguest.bzImage
[ -f "$guest" ] || fail "the miniguest was not built ($guest)"
cleanup() {
	for f in "$BERTH_RUN_DIR"/vm/*/vmm.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	ctr_cleanup_all
}
C_ARGS='["sh", "-c", "trap \"exit 0\" TERM; echo ready; while read l; do echo got $l; done; sleep 1000"]' \
	make_bundle "$BERTH_TEST_TMP/bundle"
head -c 4096 /dev/zero >"$BERTH_TEST_TMP/bad.bzImage"
BERTH_NO_DEFAULT_LIBVIRT=1; export BERTH_NO_DEFAULT_LIBVIRT
timeout 240 "$BERTH" run "$top_srcdir/tests/lua/bundled-parallel-checks.lua" "$guest" "$BERTH_TEST_TMP/bundle" \
	"$BERTH_TEST_TMP/bad.bzImage" || fail "bundled-parallel-checks.lua failed (exit $?)"
exit 0
