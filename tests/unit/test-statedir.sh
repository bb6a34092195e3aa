#!/bin/sh
# test-statedir.sh - a full and a read-only data directory: defining a VM
# fails with an error that names the file and the cause, the definitions
# already there stay valid and listed, and nothing half-written is left.
# Runs in a private mount namespace with a tiny tmpfs as the data directory.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_root
need_cmd unshare
$BERTH version | grep -q kvm || skip "berth built without the kvm backend"

cat > "$BERTH_TEST_TMP/inner.sh" <<'EOF'
set -u
fail() { echo "FAIL: $*"; exit 1; }
data=$BERTH_DATA_DIR
mount -t tmpfs -o size=128k tmpfs "$data" || fail "mount tmpfs"
printf '{"name": "%s", "kernel": "%s", "memory_mib": 32, "vcpus": 1}\n' vm1 "$KERNEL" > "$BERTH_TEST_TMP/vm1.json"
printf '{"name": "%s", "kernel": "%s", "memory_mib": 32, "vcpus": 1}\n' vm2 "$KERNEL" > "$BERTH_TEST_TMP/vm2.json"
$BERTH define "$BERTH_TEST_TMP/vm1.json" > /dev/null 2>&1 || fail "define on an empty data dir"
cp "$data/vm/vm1.json" "$BERTH_TEST_TMP/vm1.saved"
# Fill the file system.
dd if=/dev/zero of="$data/filler" bs=1k count=1000 2>/dev/null
$BERTH define "$BERTH_TEST_TMP/vm2.json" > "$BERTH_TEST_TMP/out" 2>&1 && fail "define on a full disk succeeded"
grep -q "No space left on device" "$BERTH_TEST_TMP/out" || fail "ENOSPC is reported: $(cat "$BERTH_TEST_TMP/out")"
grep -q "vm2" "$BERTH_TEST_TMP/out" || fail "the error names the definition: $(cat "$BERTH_TEST_TMP/out")"
cmp -s "$data/vm/vm1.json" "$BERTH_TEST_TMP/vm1.saved" || fail "vm1's definition changed"
ls "$data/vm" | grep -v '^vm1.json$' && fail "a partial file was left: $(ls -la "$data/vm")"
$BERTH list --names > "$BERTH_TEST_TMP/out" 2>&1 || fail "list on a full disk: $(cat "$BERTH_TEST_TMP/out")"
grep -qx vm1 "$BERTH_TEST_TMP/out" || fail "vm1 still listed on a full disk"
rm -f "$data/filler"
mount -o remount,ro "$data" || fail "remount ro"
$BERTH define "$BERTH_TEST_TMP/vm2.json" > "$BERTH_TEST_TMP/out" 2>&1 && fail "define on a read-only dir succeeded"
grep -q "Read-only file system" "$BERTH_TEST_TMP/out" || fail "EROFS is reported: $(cat "$BERTH_TEST_TMP/out")"
$BERTH list --names > "$BERTH_TEST_TMP/out" 2>&1 || fail "list on a read-only dir: $(cat "$BERTH_TEST_TMP/out")"
grep -qx vm1 "$BERTH_TEST_TMP/out" || fail "vm1 still listed on a read-only dir"
$BERTH undefine vm1 > "$BERTH_TEST_TMP/out" 2>&1 && fail "undefine on a read-only dir succeeded"
grep -q "Read-only file system" "$BERTH_TEST_TMP/out" || fail "undefine's EROFS is reported: $(cat "$BERTH_TEST_TMP/out")"
cmp -s "$data/vm/vm1.json" "$BERTH_TEST_TMP/vm1.saved" || fail "vm1's definition changed"
exit 0
EOF
KERNEL="$top_builddir/tests/guests/hello.bzImage"; export KERNEL
[ -r "$KERNEL" ] || fail "hello guest not built"
unshare -m --propagation private sh "$BERTH_TEST_TMP/inner.sh" || fail "see above"
exit 0
