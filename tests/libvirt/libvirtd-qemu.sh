#!/bin/sh
# libvirtd-qemu.sh - the libvirt backend against a real libvirtd and QEMU:
# a private libvirtd + virtlogd (root, own mount namespace, sockets in
# $BERTH_TEST_TMP), a TCG domain booting Debian's cloud kernel with a busybox
# initramfs, driven through berth's CLI: define (XML and JSON), start, list,
# console (boot marker, typed input), stats, info, shutdown (graceful, then
# forced), undefine; through the backend's console_open: EOF on the
# console fd when the domain is destroyed under it; and a live migration to
# a second private libvirtd and back (CLI, inst:migrate, drain-host.lua),
# with the guest's shell state intact; the balance plugin spreading two
# guests over both.
. "$top_srcdir/tests/lib/sh-helpers.sh"
. "$top_srcdir/tests/libvirt/libvirtd-env.sh"

need_root
need_cmd qemu-system-x86_64 libvirtd virtlogd virsh timeout
[ -x "$BERTH" ] || fail "berth is not built ($BERTH)"
HELPER="$top_builddir/tests/libvirt/virt-console-helper"
[ -x "$HELPER" ] || fail "the console helper is not built ($HELPER)"

. "$top_srcdir/tests/lib/linux-assets.sh"

cleanup() {
	virtd_stop
}

# A fixed marker keeps linux-assets' initramfs cache to one entry; output
# of an earlier run can never reach this run's console.
MARKER="berth-libvirt-boot-marker"
KERNEL=$(linux_assets_kernel 2>"$BERTH_TEST_TMP/assets.err") ||
	skip "no Linux kernel for the guest (Debian's archive unreachable?): $(cat "$BERTH_TEST_TMP/assets.err")"
[ -r "$KERNEL" ] || fail "linux_assets_kernel printed \`$KERNEL', which is not a readable file"
INITRD="$BERTH_TEST_TMP/initrd.img"
linux_assets_initrd "$INITRD" "$MARKER" || fail "could not build the initramfs with linux_assets_initrd"

virtd_start
U="$VIRT_URI"
OUT="$BERTH_TEST_TMP/out"
ERR="$BERTH_TEST_TMP/err"

b() {
	timeout 120 "$BERTH" "$@" --connect "$U" >"$OUT" 2>"$ERR"
}
show() {
	echo "---- stdout"; cat "$OUT"; echo "---- stderr"; cat "$ERR"
	virtd_log
}
# state NAME: the state berth reports for NAME.
state() {
	timeout 60 "$BERTH" list --json --connect "$U" 2>/dev/null | tr -d '\n ' |
		sed -n "s/.*\"name\":\"$1\"[^}]*\"state\":\"\([a-z]*\)\".*/\1/p"
}

# field NAME KEY: a number berth reports for NAME in list --json.
field() {
	timeout 60 "$BERTH" list --json --connect "$U" 2>/dev/null | tr -d '\n ' |
		sed -n "s/.*\"name\":\"$1\"[^}]*\"$2\":\([0-9]*\).*/\1/p"
}
# within V LO HI: LO <= V <= HI (V a number).
within() {
	[ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

NAME="berth lv1"
cat >"$BERTH_TEST_TMP/lv1.xml" <<EOF
<domain type='qemu'>
  <name>$NAME</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$KERNEL</kernel>
    <initrd>$INITRD</initrd>
    <cmdline>console=ttyS0 panic=-1</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
EOF

# ---- define from XML, start, list
t_def=$(date +%s)
b define --backend libvirt --host "$U" "$BERTH_TEST_TMP/lv1.xml" || { show; fail "define from XML"; }
[ "$(state berthlv1)" = stopped ] || { show; fail "a defined domain should be stopped, is \`$(state berthlv1)'"; }
[ "$(field berthlv1 started)" = 0 ] || fail "a stopped domain has a start time: $(field berthlv1 started)"
t_start=$(date +%s)
b start "$NAME" || { show; fail "start \`$NAME'"; }
# Each berth below is a new process: the times come from the domain's
# metadata (created) and its QEMU process (started), not from memory.
v=$(field berthlv1 created)
within "$v" "$t_def" "$(date +%s)" || fail "created should be the define time (from $t_def), is \`$v'"
v=$(field berthlv1 started)
within "$v" "$((t_start - 1))" "$(date +%s)" || fail "started should be the start time (from $t_start), is \`$v'"
b list --json || { show; fail "list --json"; }
tr -d '\n ' <"$OUT" | grep -q "\"name\":\"berthlv1\"" || { show; fail "list --json does not show \`$NAME'"; }
[ "$(state "berthlv1")" = running ] || { show; fail "\`$NAME' should be running, is \`$(state berthlv1)'"; }
virsh -q -c "$U" domstate "$NAME" | grep -q running || fail "virsh does not see \`$NAME' running"

# ---- the boot marker through the CLI console (no input)
timeout 150 "$BERTH" console "$NAME" --connect "$U" --no-stdin --expect "$MARKER" --timeout 120 \
	>"$OUT" 2>"$ERR" || { show; fail "the boot marker \`$MARKER' did not appear on the console"; }
grep -q "$MARKER" "$OUT" || { show; fail "console output lacks the marker"; }

# ---- typed input through the CLI console, reading from a pipe
# The shell computes 6*7, so only its output (not the echoed input) matches.
printf 'echo pipe-$((6*7))-ok\n' | timeout 60 "$BERTH" console "$NAME" --connect "$U" --linger 3 \
	>"$OUT" 2>"$ERR" || { show; fail "console reading from a pipe failed"; }
grep -q "pipe-42-ok" "$OUT" || { show; fail "the command typed through the console did not run"; }

# ---- stats of the running domain
b stats --json "$NAME" || { show; fail "stats"; }
grep -q '"valid": true' "$OUT" || { show; fail "stats of a running domain are not valid"; }
grep -q '"cpu_time_ns": [1-9]' "$OUT" || { show; fail "stats of a running domain have no CPU time"; }
grep -q '"mem_total_kib": 262144' "$OUT" || { show; fail "stats do not show the domain's 256 MiB"; }

# ---- info: details from the domain XML
b info "$NAME" --json || { show; fail "info"; }
grep -q "\"kernel\": \"$KERNEL\"" "$OUT" || { show; fail "info does not show the kernel"; }
grep -q '"domain_type": "qemu"' "$OUT" || { show; fail "info does not show the domain type"; }

# ---- events from libvirtd through berth's loop, and the backend's console:
# input, output, the caller closing and reopening it, and EOF when the domain
# dies under it
timeout 120 "$HELPER" "$U" "$NAME" 30 subscribe pause event:state:paused resume event:state:running \
	'send:echo helper-$((6*7))-ok\n' expect:helper-42-ok close \
	'send:echo again-$((6*7))-ok\n' expect:again-42-ok destroy-eof event:state:stopped \
	>"$OUT" 2>"$ERR" || { show; fail "events, or console_open: input/output, reopen or EOF on destroy"; }
[ "$(state berthlv1)" = stopped ] || { show; fail "after destroy, \`$NAME' is \`$(state berthlv1)'"; }

# ---- shutdown: graceful first (busybox ignores ACPI), forced after the timeout
b start "$NAME" || { show; fail "start again"; }
wait_for 60 sh -c "virsh -q -c '$U' domstate '$NAME' | grep -q running" || fail "not running again"
t0=$(date +%s)
b shutdown "$NAME" --timeout 5 || { show; fail "shutdown with a timeout"; }
t=$(( $(date +%s) - t0 ))
[ "$t" -le 60 ] || fail "shutdown --timeout 5 took $t s"
[ "$(state berthlv1)" = stopped ] || { show; fail "after shutdown, \`$NAME' is \`$(state berthlv1)'"; }
virsh -q -c "$U" domstate "$NAME" | grep -q "shut off" || fail "virsh does not see \`$NAME' shut off"

b undefine "$NAME" || { show; fail "undefine"; }
virsh -q -c "$U" dominfo "$NAME" >/dev/null 2>&1 && fail "\`$NAME' still defined after undefine"

# ---- a domain defined from berth's JSON boots too
cat >"$BERTH_TEST_TMP/lv2.json" <<EOF
{"backend": "libvirt", "name": "lv2", "memory_mib": 256, "vcpus": 1, "accel": "tcg",
 "kernel": "$KERNEL", "initrd": "$INITRD", "cmdline": "console=ttyS0 panic=-1"}
EOF
b define --backend libvirt --host "$U" "$BERTH_TEST_TMP/lv2.json" || { show; fail "define from JSON"; }
b start lv2 || { show; fail "start lv2"; }
timeout 150 "$BERTH" console lv2 --connect "$U" --no-stdin --expect "$MARKER" --timeout 120 \
	>"$OUT" 2>"$ERR" || { show; fail "the JSON-defined domain did not boot to the marker"; }

# ---- live migration to a second private libvirtd (another "host")
UA="$U"
virtd_start b
UB="$VIRT_URI"
# Leave some state in the guest's shell, move it, and find it there.
timeout 120 "$HELPER" "$UA" lv2 60 'send:X=live-$((40+2)); echo set-$X\n' expect:set-live-42 \
	"migrate:$UB" >"$OUT" 2>"$ERR" ||
	{ show; fail "live migration of lv2 to the second libvirtd"; }
grep -q "migration done 100%" "$ERR" || { show; fail "the migration did not report its end"; }
virsh -q -c "$UA" dominfo lv2 >/dev/null 2>&1 && fail "lv2 is still defined on the source after migration"
virsh -q -c "$UB" domstate lv2 | grep -q running || fail "lv2 is not running on the destination"
timeout 60 "$HELPER" "$UB" lv2 30 'send:echo $X\n' expect:live-42 >"$OUT" 2>"$ERR" ||
	{ show; fail "the guest's shell state did not survive the migration"; }
U="$UB"
[ "$(state lv2)" = running ] || { show; fail "berth does not see lv2 running on the destination"; }

# ---- and back again from a Lua script: inst:migrate{to, max_downtime,
# on_progress}, the instance's host and state afterwards
cat >"$BERTH_TEST_TMP/migrate.lua" <<'LUA'
local src, dst = ...
assert(berth.connect(src)); assert(berth.connect(dst))
local vm = assert(berth.get("lv2"))
assert(vm.state == "running", "lv2 is " .. vm.state)
local phases, last = {}, -1
local ok, err = vm:migrate { to = dst, max_downtime = 300, on_progress = function(f, phase)
  assert(f >= last, "progress went backwards: " .. last .. " then " .. f)
  last = f
  if phases[#phases] ~= phase then phases[#phases + 1] = phase end
end }
print("migrate:", ok, err)
print("phases:", table.concat(phases, ","), "last:", last)
print("source state:", vm.state)
local moved = {}
for _, i in ipairs(berth.list { name = "lv2" }) do moved[#moved + 1] = i.state end
print("lv2 now:", table.concat(moved, ","))
local bad, berr = vm:migrate { to = dst }
print("again:", bad, berr)
LUA
timeout 300 "$BERTH" run "$BERTH_TEST_TMP/migrate.lua" "$UB" "$UA" >"$OUT" 2>"$ERR" ||
	{ show; fail "the Lua migration script failed"; }
cat "$OUT"
grep -q "^migrate:	true" "$OUT" || { show; fail "inst:migrate back to the first libvirtd failed"; }
grep -q "^phases:	starting,.*done	last:	1.0" "$OUT" || { show; fail "on_progress did not run from starting to done"; }
grep -q "^source state:	stopped" "$OUT" || { show; fail "the migrated instance should be stopped at its source"; }
grep -q "^lv2 now:	running$" "$OUT" || { show; fail "lv2 should be running once, at the destination"; }
grep -q "^again:	nil	.*lv2" "$OUT" || { show; fail "migrating the gone source copy again should fail naming lv2"; }
virsh -q -c "$UA" domstate lv2 | grep -q running || fail "lv2 is not running on the first libvirtd again"
virsh -q -c "$UB" dominfo lv2 >/dev/null 2>&1 && fail "lv2 is still defined on the second libvirtd"
timeout 60 "$HELPER" "$UA" lv2 30 'send:echo $X\n' expect:live-42 >"$OUT" 2>"$ERR" ||
	{ show; fail "the guest's shell state did not survive the migration back"; }

# ---- drain-host.lua: both libvirtds are "localhost", so the host is named
# by its URI; lv2 goes to the other connection, its shell state intact.
timeout 60 "$BERTH" --connect "$UA" --connect "$UB" run -- "$top_srcdir/lua/examples/drain-host.lua" "$UA" --dry-run \
	>"$OUT" 2>"$ERR" || { show; fail "drain-host.lua --dry-run on the first libvirtd"; }
grep -qx "lv2: migrate to localhost ($UB)" "$OUT" || { show; fail "drain-host.lua --dry-run should plan lv2's move to $UB"; }
virsh -q -c "$UA" domstate lv2 | grep -q running || fail "drain-host.lua --dry-run moved lv2"
timeout 300 "$BERTH" --connect "$UA" --connect "$UB" run -- "$top_srcdir/lua/examples/drain-host.lua" "$UA" \
	>"$OUT" 2>"$ERR" || { show; fail "drain-host.lua on the first libvirtd"; }
cat "$OUT"
virsh -q -c "$UB" domstate lv2 | grep -q running || fail "drain-host.lua did not move lv2 to the second libvirtd"
virsh -q -c "$UA" dominfo lv2 >/dev/null 2>&1 && fail "lv2 is still defined on the drained libvirtd"
timeout 60 "$HELPER" "$UB" lv2 30 'send:echo $X\n' expect:live-42 >"$OUT" 2>"$ERR" ||
	{ show; fail "the guest's shell state did not survive drain-host.lua"; }
timeout 60 "$BERTH" --connect "$UA" --connect "$UB" run -- "$top_srcdir/lua/examples/drain-host.lua" "$UA" \
	>"$OUT" 2>"$ERR" || { show; fail "drain-host.lua on the drained libvirtd"; }
grep -qx "nothing running on $UA" "$OUT" || { show; fail "draining an empty host should say so"; }
U="$UB"

# ---- the balance plugin: two guests on the second libvirtd, none on the
# first; `balance --yes --by-vcpus' live-migrates one of them over.
sed 's/"lv2"/"lv3"/' "$BERTH_TEST_TMP/lv2.json" >"$BERTH_TEST_TMP/lv3.json"
b define --backend libvirt --host "$U" "$BERTH_TEST_TMP/lv3.json" || { show; fail "define lv3"; }
b start lv3 || { show; fail "start lv3"; }
timeout 150 "$BERTH" console lv3 --connect "$U" --no-stdin --expect "$MARKER" --timeout 120 \
	>"$OUT" 2>"$ERR" || { show; fail "lv3 did not boot to the marker"; }
bb() {	# berth with both libvirtds
	timeout 300 "$BERTH" --connect "$UA" --connect "$UB" "$@" >"$OUT" 2>"$ERR"
}
bb balance --dry-run --by-vcpus || { show; fail "balance --dry-run on two libvirtds"; }
cat "$OUT"
grep -Eq "^lv[23] +libvirt +qemu\+unix.*libvirt-b/.* +qemu\+unix" "$OUT" ||
	{ show; fail "balance --dry-run should propose one move from the second libvirtd to the first"; }
[ "$(grep -c '^lv[23] ' "$OUT")" -eq 1 ] || { show; fail "balance should move exactly one of two guests"; }
virsh -q -c "$UA" list --name | grep -q lv && fail "balance --dry-run moved a guest"
bb balance --yes --by-vcpus || { show; fail "balance --yes on two libvirtds"; }
cat "$OUT"
moved=$(sed -n 's/^moved \(lv[23]\) to .*/\1/p' "$OUT")
[ -n "$moved" ] || { show; fail "balance --yes reported no move"; }
virsh -q -c "$UA" domstate "$moved" | grep -q running || fail "balance did not move $moved to the first libvirtd"
virsh -q -c "$UB" dominfo "$moved" >/dev/null 2>&1 && fail "$moved is still defined on the second libvirtd"
[ "$(virsh -q -c "$UB" list --name | grep -c lv)" -eq 1 ] || fail "the other guest should stay on the second libvirtd"
bb balance --dry-run --by-vcpus || { show; fail "balance --dry-run after balancing"; }
grep -q "^balanced: no move" "$OUT" || { show; fail "balance should find nothing more to move: $(cat "$OUT")"; }

for n in lv2 lv3; do
	bb destroy "$n" || { show; fail "destroy $n"; }
	bb undefine "$n" || { show; fail "undefine $n"; }
done
virsh -q -c "$UA" list --all --name | grep -q lv && fail "guests left on the first libvirtd"
virsh -q -c "$UB" list --all --name | grep -q lv && fail "guests left on the second libvirtd"

echo "ok: private libvirtd, QEMU TCG guest booted, console, shutdown, migrations (CLI, Lua, drain-host.lua, balance)"
exit 0
