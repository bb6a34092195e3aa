#!/bin/sh
# balance-cmd.sh: the balance plugin's command end to end, on two libvirt
# test-driver hosts described in XML (one with four running VMs, one idle):
# it proposes moves to the idle host, respects overcommit_warn, and when
# told to perform them reports the driver's refusal per VM (exit 1).
. "$top_srcdir/tests/lib/sh-helpers.sh"
BERTH_PLUGIN_PATH=$top_srcdir/plugins; export BERTH_PLUGIN_PATH
a=$BERTH_TEST_TMP/nodeA.xml
b=$BERTH_TEST_TMP/nodeB.xml
cpu="<cpu><mhz>2000</mhz><model>i686</model><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads></cpu><memory>8388608</memory>"
dom() { echo "<domain type='test'><name>$1</name><memory>262144</memory><vcpu>$2</vcpu><os><type>hvm</type></os></domain>"; }
{ echo "<node>$cpu"; dom a1 2; dom a2 2; dom a3 1; dom a4 1; echo "</node>"; } >"$a"
{ echo "<node>$cpu"; echo "</node>"; } >"$b"
out=$BERTH_TEST_TMP/out
run() { timeout 60 "$BERTH" --connect "test://$a" --connect "test://$b" run -e "
local o, e, rc = berth.cmd('$1')
io.write(o or e, '\n')
return rc"; }

run "balance --dry-run --by-vcpus" >"$out" 2>&1 || fail "balance --dry-run: $(cat "$out")"
cat "$out"
grep -q "^NAME  *BACKEND  *FROM  *TO  *CPUS" "$out" || fail "no proposal table"
grep -q "nodeA.xml  *test://.*nodeB.xml" "$out" || fail "no move from host A to host B"
n=$(grep -c "nodeA.xml  *test://.*nodeB.xml" "$out")
[ "$n" -ge 1 ] && [ "$n" -le 3 ] || fail "$n moves proposed, want 1..3 (not emptying host A)"

# overcommit_warn 25%: host B (4 CPUs) takes at most 1 vCPU, so only a
# 1-vCPU VM may move.
echo 'berth.set("overcommit_warn", 25)' >"$BERTH_CONFIG_DIR/init.lua"
run "balance --dry-run --by-vcpus" >"$out" 2>&1 || fail "balance with overcommit_warn 25: $(cat "$out")"
cat "$out"
grep -q "^a[12] " "$out" && fail "a 2-vCPU VM was moved past overcommit_warn"
[ "$(grep -c "nodeB.xml" "$out")" -eq 1 ] || fail "want exactly one move with overcommit_warn 25"
rm -f "$BERTH_CONFIG_DIR/init.lua"

# Without --yes it asks (berth.confirm); with no terminal to ask on the
# answer is no: nothing is moved, no migration tried.
run "balance --by-vcpus" >"$out" 2>&1 </dev/null || fail "balance without --yes: $(cat "$out")"
cat "$out"
grep -q "^nothing moved" "$out" || fail "balance without a confirmation did not say nothing moved"
grep -q "not supported\|^moved " "$out" && fail "balance moved without a confirmation"
# On a terminal, "y" performs them (here: the driver refuses each).
if command -v script >/dev/null 2>&1; then
	printf 'y\n' | timeout 60 script -qec "'$BERTH' --connect 'test://$a' --connect 'test://$b' balance --by-vcpus" /dev/null \
		>"$out" 2>&1
	cat "$out"
	grep -q "perform [0-9]* move(s)? \[y/N\]" "$out" || fail "balance did not ask on the terminal"
	grep -q "not supported" "$out" || fail "after yes, no migration was tried"
fi

# Performing: the test driver cannot migrate; each failure is reported.
run "balance --yes --by-vcpus" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 1 ] || fail "balance --yes with failing migrations: exit $rc, want 1"
grep -q "not supported" "$out" || fail "the migration failure is not reported"
echo "balance: proposes, respects overcommit, reports failures"
